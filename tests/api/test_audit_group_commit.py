"""Group commit of the audit log: concurrent appends share a write, and each caller gets its own
records, consecutive and in its order; a failed write fails every caller of its group."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from api.audit import AuditLog, AuditUnavailable

THREADS = 8
APPENDS = 25


def _events(tag: str, count: int) -> list[dict[str, Any]]:
    return [
        AuditLog.new_event(
            operation="credit_report",
            subject_ids=[f"{tag}-{n}"],
            key_id=None,
            key_name=tag,
            role="agency",
            request_id=None,
            result="ok",
        )
        for n in range(count)
    ]


def test_concurrent_appends_form_one_chain_and_each_caller_gets_its_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = AuditLog(tmp_path / "audit.jsonl", key=b"k")
    writes = 0
    original = log._append_locked

    def counting(*args: Any) -> list[dict[str, Any]]:
        nonlocal writes
        writes += 1
        return original(*args)

    monkeypatch.setattr(log, "_append_locked", counting)
    returned: dict[str, list[list[dict[str, Any]]]] = {}
    start = threading.Barrier(THREADS)

    def client(tag: str) -> None:
        start.wait()
        mine = returned.setdefault(tag, [])
        for n in range(APPENDS):
            # two events in one call: they must stay adjacent in the chain
            mine.append(log.append_events(_events(f"{tag}.{n}", 2)))

    threads = [threading.Thread(target=client, args=(f"t{i}",)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    result = AuditLog(log.path, key=b"k").verify()
    assert result.ok and result.records == THREADS * APPENDS * 2, result
    on_disk = {r["event_id"]: r for r in log.events()}
    for tag, calls in returned.items():
        for n, records in enumerate(calls):
            assert [r["subject_ids"] for r in records] == [[f"{tag}.{n}-0"], [f"{tag}.{n}-1"]]
            assert records[1]["seq"] == records[0]["seq"] + 1
            assert all(on_disk[r["event_id"]] == r for r in records)
    # the point of it: callers that overlap share a write (and its fsync); eight threads started
    # together overlap at once, since the first write holds the others for an fsync
    assert writes < THREADS * APPENDS


def test_a_failed_group_write_fails_every_caller_and_writes_nothing(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl", key=b"k")
    log.append_events(_events("first", 2))
    # cut the last record off: the checkpoint no longer matches, every append must be refused
    cut = log.path.read_text().splitlines(keepends=True)[:1]
    log.path.write_text("".join(cut))
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def client() -> None:
        start.wait()
        try:
            log.append_events(_events("lost", 1))
        except AuditUnavailable as exc:
            errors.append(exc)

    threads = [threading.Thread(target=client) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(errors) == 4, errors
    assert log.path.read_text() == "".join(cut)
