"""Durability of the embedded store: replay, SIGKILL mid-write, torn and corrupt records."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from graph.errors import CorruptJournal
from graph.memory import JOURNAL_NAME, MemoryStore
from graph.model import Company, Ownership
from graph.store import WriteBatch

WRITER = textwrap.dedent(
    """
    import sys
    from graph.memory import MemoryStore
    from graph.model import Company, Ownership
    from graph.store import WriteBatch

    store = MemoryStore(sys.argv[1])
    for i in range(1_000_000):
        nodes = [Company(f"K{i}-{j}", f"Company {i}-{j}") for j in range(50)]
        links = [Ownership(f"K{i}-{j}", f"K{i}-{j + 1}", 51.0) for j in range(49)]
        store.write(WriteBatch(nodes=nodes, links=links))
        print(i, flush=True)  # acknowledged: write() returned after fsync
    """
)


def test_sigkill_loses_no_acknowledged_write(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(data_dir)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert proc.stdout is not None
    acknowledged = -1
    deadline = time.monotonic() + 60
    while acknowledged < 40 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        acknowledged = int(line)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert acknowledged >= 40, "the writer did not get going"

    store = MemoryStore(data_dir)
    for i in range(acknowledged + 1):
        assert store.get(f"K{i}-0") is not None, f"acknowledged batch {i} was lost"
        assert store.get(f"K{i}-49") is not None
    companies = store.stats().nodes["Company"]
    # Every batch is all or nothing: never half a batch.
    assert companies % 50 == 0
    assert companies // 50 >= acknowledged + 1
    store.close()


def _write_some(data_dir: Path, batches: int) -> None:
    with MemoryStore(data_dir) as store:
        for i in range(batches):
            store.write(WriteBatch(nodes=[Company(f"C{i}", f"Company {i}")]))


def test_replay_restores_everything(tmp_path: Path) -> None:
    _write_some(tmp_path, 5)
    with MemoryStore(tmp_path) as store:
        assert store.recovery.records == 5
        assert store.recovery.torn_bytes == 0
        assert [store.get(f"C{i}") for i in range(5)] == [
            Company(f"C{i}", f"Company {i}") for i in range(5)
        ]


def test_a_torn_last_record_is_reported_set_aside_and_not_applied(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _write_some(tmp_path, 3)
    journal = tmp_path / JOURNAL_NAME
    whole = journal.read_bytes()
    with MemoryStore() as scratch:
        scratch.write(WriteBatch(nodes=[Company("TORN", "Half written")]))
    # The bytes of a fourth record, cut off mid-way, as a crash during write() leaves them.
    with journal.open("ab") as f:
        f.write(b'0badc0de {"n":[["Company",{"id":"TORN","na')
    with MemoryStore(tmp_path) as store:
        assert store.recovery.records == 3
        assert store.recovery.torn_bytes > 0
        assert store.recovery.torn_file is not None and store.recovery.torn_file.exists()
        assert store.get("TORN") is None
        assert store.get("C2") is not None
        assert "torn" in caplog.text
        store.write(WriteBatch(nodes=[Company("AFTER", "Written after recovery")]))
    assert journal.read_bytes().startswith(whole)
    with MemoryStore(tmp_path) as store:
        assert store.get("AFTER") is not None
        assert store.recovery.torn_bytes == 0


def test_a_last_record_with_a_bad_checksum_is_torn_too(tmp_path: Path) -> None:
    _write_some(tmp_path, 2)
    journal = tmp_path / JOURNAL_NAME
    data = bytearray(journal.read_bytes())
    data[-5] ^= 0x01  # flip a bit inside the last record
    journal.write_bytes(bytes(data))
    with MemoryStore(tmp_path) as store:
        assert store.recovery.records == 1
        assert store.recovery.torn_bytes > 0
        assert store.get("C1") is None


def test_damage_before_the_last_record_refuses_to_start(tmp_path: Path) -> None:
    _write_some(tmp_path, 3)
    journal = tmp_path / JOURNAL_NAME
    lines = journal.read_bytes().split(b"\n")
    lines[0] = lines[0][:-3] + b"xyz"
    journal.write_bytes(b"\n".join(lines))
    with pytest.raises(CorruptJournal, match="not the last one"):
        MemoryStore(tmp_path)


def test_two_stores_on_one_data_dir_both_write_and_see_each_other(tmp_path: Path) -> None:
    # Issue 10: the journal is the one truth; a second writer follows it, it is not locked out.
    with MemoryStore(tmp_path) as first, MemoryStore(tmp_path) as second:
        first.write(WriteBatch(nodes=[Company("A", "a")]))
        second.write(WriteBatch(nodes=[Company("B", "b")]))
        assert first.get("B") is not None and second.get("A") is not None
    with MemoryStore(tmp_path) as reopened:
        assert reopened.recovery.records == 2


def test_links_survive_replay(tmp_path: Path) -> None:
    with MemoryStore(tmp_path) as store:
        store.write(
            WriteBatch(
                nodes=[Company("A", "a"), Company("B", "b")],
                links=[Ownership("A", "B", 12.5)],
            )
        )
    with MemoryStore(tmp_path) as store:
        assert store.stats().links["OWNS"] == 1
        assert list(store.all_links()) == [Ownership("A", "B", 12.5)]
