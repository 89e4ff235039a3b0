"""Group commit of the audit log: concurrent appends share a write, and each caller gets its own
records, consecutive and in its order; a failed write fails every caller of its group."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

from api.audit import AuditLog, AuditUnavailable, Verification

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


def counted_writes(log: AuditLog, monkeypatch: pytest.MonkeyPatch) -> list[None]:
    """One item per write of ``log`` (a group's chain, write, fsync and checkpoint)."""
    writes: list[None] = []
    original = log._append_locked

    def counting(*args: Any) -> list[dict[str, Any]]:
        writes.append(None)
        return original(*args)

    monkeypatch.setattr(log, "_append_locked", counting)
    return writes


def test_concurrent_appends_form_one_chain_and_each_caller_gets_its_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = AuditLog(tmp_path / "audit.jsonl", key=b"k")
    writes = counted_writes(log, monkeypatch)
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
    assert len(writes) < THREADS * APPENDS


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


TASKS = 40


def test_requests_on_an_event_loop_share_writes_and_return_once_durable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = AuditLog(tmp_path / "audit.jsonl", key=b"k")
    writes = counted_writes(log, monkeypatch)
    durable: dict[str, bool] = {}

    async def request(tag: str) -> list[dict[str, Any]]:
        records = await log.append_events_async(_events(tag, 2))
        # released only once its records are on disk and the checkpoint covers them
        check = AuditLog(log.path, key=b"k").verify()
        on_disk = {r["event_id"] for r in log.events()}
        durable[tag] = check.ok and check.records >= records[1]["seq"]
        durable[tag] &= all(r["event_id"] in on_disk for r in records)
        return records

    async def main() -> list[list[dict[str, Any]]]:
        return list(await asyncio.gather(*(request(f"r{n}") for n in range(TASKS))))

    returned = asyncio.run(main())
    assert AuditLog(log.path, key=b"k").verify() == Verification(ok=True, records=TASKS * 2)
    for n, records in enumerate(returned):
        assert [r["subject_ids"] for r in records] == [[f"r{n}-0"], [f"r{n}-1"]]
        assert records[1]["seq"] == records[0]["seq"] + 1
    assert all(durable.values()) and len(durable) == TASKS
    # requests that arrive while a group is written wait for the next group, not a write each
    assert len(writes) < TASKS


def test_a_failed_group_write_fails_every_request_of_the_loop(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl", key=b"k")
    log.append_events(_events("first", 2))
    cut = log.path.read_text().splitlines(keepends=True)[:1]
    log.path.write_text("".join(cut))

    async def main() -> list[list[dict[str, Any]] | BaseException]:
        calls = (log.append_events_async(_events(f"lost{n}", 1)) for n in range(5))
        return list(await asyncio.gather(*calls, return_exceptions=True))

    outcomes = asyncio.run(main())
    assert all(isinstance(o, AuditUnavailable) for o in outcomes), outcomes
    assert log.path.read_text() == "".join(cut)


def test_loop_and_thread_appends_form_one_chain(tmp_path: Path) -> None:
    """Decisions append from worker threads while reads append from the loop (one server)."""
    log = AuditLog(tmp_path / "audit.jsonl", key=b"k")

    def decisions() -> None:
        for n in range(APPENDS):
            log.append_events(_events(f"d{n}", 1))

    async def reads() -> None:
        await asyncio.gather(*(log.append_events_async(_events(f"r{n}", 1)) for n in range(TASKS)))

    thread = threading.Thread(target=decisions)
    thread.start()
    asyncio.run(reads())
    thread.join(timeout=60)
    assert AuditLog(log.path, key=b"k").verify() == Verification(ok=True, records=APPENDS + TASKS)
