"""Group commit of the audit log: concurrent appends share a write, and each caller gets its own
records, consecutive and in its order; a failed write fails every caller of its group. And a
writer stopped between a group's write and its checkpoint leaves a log that is still usable."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from api.audit import AuditLog, AuditUnavailable, Verification, record_hash

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


KILLED_BETWEEN_LOG_AND_CHECKPOINT = """
import os, signal, sys
from pathlib import Path
from api.audit import AuditLog
log = AuditLog(Path(sys.argv[1]), key=b"k")
event = dict(operation="credit_report", subject_ids=["C1"], key_id=None, key_name="n",
             role="agency", request_id=None, result="ok")
for _ in range(3):
    log.append(**event)
log._write_checkpoint = lambda head: os.kill(os.getpid(), signal.SIGKILL)
log.append(**event)  # written and fsynced, then the process dies before the checkpoint
"""


def test_a_stop_between_the_log_and_its_checkpoint_leaves_a_usable_log(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    root = Path(__file__).resolve().parents[2]
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_BETWEEN_LOG_AND_CHECKPOINT, str(path)],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        timeout=60,
    )
    assert killed.returncode == -signal.SIGKILL
    assert len(path.read_text().splitlines()) == 4  # one record past the checkpoint
    # the record past the checkpoint was written with the key: nothing was tampered with
    assert AuditLog(path, key=b"k").verify() == Verification(ok=True, records=4)
    log = AuditLog(path, key=b"k")
    log.append_events(_events("after", 1))
    assert AuditLog(path, key=b"k").verify() == Verification(ok=True, records=5)
    # and the checkpoint is current again: cutting the last record off is seen
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:-1]))
    assert not AuditLog(path, key=b"k").verify().ok
    with pytest.raises(AuditUnavailable):
        AuditLog(path, key=b"k").append_events(_events("refused", 1))


def test_a_record_past_the_checkpoint_without_the_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    AuditLog(path, key=b"k").append_events(_events("first", 2))
    forged = AuditLog(tmp_path / "other.jsonl", key=b"not the key")
    forged.append_events(_events("forged", 3))
    # the forger's third record chained onto this log's head, under another key
    records = [json.loads(line) for line in path.read_text().splitlines()]
    extra = json.loads(forged.path.read_text().splitlines()[2])
    extra.update(seq=3, prev_hash=records[-1]["hash"])
    extra["hash"] = record_hash(extra)
    with path.open("a") as out:
        out.write(json.dumps(extra, sort_keys=True) + "\n")
    assert not AuditLog(path, key=b"k").verify().ok
    with pytest.raises(AuditUnavailable):
        AuditLog(path, key=b"k").append_events(_events("refused", 1))


def test_loop_callers_answer_once_durable_while_the_checkpoint_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = AuditLog(tmp_path / "audit.jsonl", key=b"k")
    log.append_events(_events("first", 1))
    checkpointing, finish = threading.Event(), threading.Event()
    original = log._write_checkpoint

    def slow_checkpoint(head: Any) -> None:
        checkpointing.set()
        assert finish.wait(30)
        original(head)

    monkeypatch.setattr(log, "_write_checkpoint", slow_checkpoint)

    async def main() -> list[dict[str, Any]]:
        # Answered before the checkpoint is written (a writer that wrote it first would wait
        # for `finish`, which only comes after the answer): the record is on disk.
        records = await asyncio.wait_for(log.append_events_async(_events("read", 1)), 10)
        assert not finish.is_set()
        assert records[0]["event_id"] in {r["event_id"] for r in log.events()}
        # the writer goes on to the checkpoint, held back until now (it may not be there yet)
        assert checkpointing.wait(10)
        finish.set()
        return records

    records = asyncio.run(main())
    assert records[0]["seq"] == 2
    assert AuditLog(log.path, key=b"k").verify() == Verification(ok=True, records=2)
