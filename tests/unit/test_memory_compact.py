"""The embedded store's compact layout: shared values, parallel links, chunked replay, budget."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pytest

import graph.memory
from graph.errors import CorruptJournal
from graph.memory import JOURNAL_NAME, MemoryStore
from graph.memory_budget import (
    MIN_MEASURED,
    REFERENCE_BYTES_PER_COMPANY,
    RESERVE_BYTES,
    footprint,
    machine_memory_bytes,
)
from graph.model import Company, Direction, LinkType, Officer, OfficerRole, Ownership, Person
from graph.store import Step, WriteBatch

DAY = date(2024, 1, 1)


def _fresh(text: str) -> str:
    """An equal string that is not the same object (as a CSV row or a journal line gives)."""
    return "".join(list(text))


def _graph() -> WriteBatch:
    return WriteBatch(
        nodes=[
            Company("C1", "Acme", industry=_fresh("批发和零售业"), founded=date(2001, 2, 3)),
            Company("C2", "Beta", industry=_fresh("批发和零售业"), founded=date(2001, 2, 3)),
            Person("P1", "Ann", birth_year=1973),
            Person("P2", "Bob", birth_year=1973),
        ],
        links=[
            Ownership(_fresh("P1"), _fresh("C1"), 34.0, start=date(2001, 2, 3)),
            Officer(_fresh("P1"), _fresh("C1"), OfficerRole.DIRECTOR, start=date(2001, 2, 3)),
            Ownership(_fresh("P2"), _fresh("C1"), 34.0, start=date(2001, 2, 3)),
        ],
    )


def test_equal_values_become_one_object() -> None:
    store = MemoryStore()
    store.write(_graph())
    c1, c2 = store.get("C1"), store.get("C2")
    p1, p2 = store.get("P1"), store.get("P2")
    assert isinstance(c1, Company) and isinstance(c2, Company)
    assert isinstance(p1, Person) and isinstance(p2, Person)
    assert c1.industry is c2.industry and c1.founded is c2.founded
    assert p1.birth_year is p2.birth_year
    links = {link.key: link for link in store.all_links()}
    owns = [link for link in links.values() if isinstance(link, Ownership)]
    assert len(owns) == 2
    # A link's endpoints are the very id strings the nodes hold, its dates and shares shared.
    assert all(link.company_id is c1.id for link in owns)
    assert {id(link.owner_id) for link in owns} == {id(p1.id), id(p2.id)}
    assert owns[0].share is owns[1].share and owns[0].start is c1.founded


def test_values_sharing_would_change_are_left_alone() -> None:
    store = MemoryStore()
    store.write(WriteBatch(nodes=[Company("C1", "A", registered_capital=-0.0)]))
    store.write(WriteBatch(nodes=[Company("C2", "B", registered_capital=0.0)]))
    store.write(WriteBatch(nodes=[Company("C3", "C", registered_capital=math.nan)]))
    c1, c2, c3 = (store.get(i) for i in ("C1", "C2", "C3"))
    assert isinstance(c1, Company) and isinstance(c2, Company) and isinstance(c3, Company)
    assert c1.registered_capital is not None and c2.registered_capital is not None
    assert math.copysign(1.0, c1.registered_capital) == -1.0
    assert math.copysign(1.0, c2.registered_capital) == 1.0
    assert c3.registered_capital is not None and math.isnan(c3.registered_capital)


def test_parallel_links_of_one_pair_are_all_kept_and_upserted_by_key() -> None:
    store = MemoryStore()
    store.write(_graph())
    steps = [
        Step(LinkType.OWNS, Direction.IN),
        Step(LinkType.OFFICER_OF, Direction.IN),
    ]
    found = store.neighbourhood(["C1"], steps=steps, hops=1, as_of=DAY)
    assert sorted(type(link).__name__ for link in found.links.values()) == [
        "Officer",
        "Ownership",
        "Ownership",
    ]
    # An upsert of one of the pair's links changes that one and keeps the other.
    store.write(WriteBatch(links=[Ownership("P1", "C1", 51.0, start=date(2001, 2, 3))]))
    found = store.neighbourhood(["C1"], steps=steps, hops=1, as_of=DAY)
    shares = sorted(
        (link.owner_id, link.share) for link in found.links.values() if isinstance(link, Ownership)
    )
    assert shares == [("P1", 51.0), ("P2", 34.0)]
    assert any(isinstance(link, Officer) for link in found.links.values())
    # A second link of a new key between the same pair joins them.
    store.write(WriteBatch(links=[Ownership("P1", "C1", 5.0, start=date(2020, 1, 1))]))
    stats = store.stats()
    assert stats.links["OWNS"] == 3 and stats.links["OFFICER_OF"] == 1
    scanned = [item for batch in store.scan([LinkType.OWNS]) for item in batch]
    assert len(scanned) == 3


def test_replay_reads_the_journal_in_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with MemoryStore(tmp_path) as store:
        for i in range(20):
            store.write(WriteBatch(nodes=[Company(f"C{i}", f"Company {i}")]))
        store.write(_graph())
        expected = store.stats()
    monkeypatch.setattr(graph.memory, "_READ_CHUNK", 7)  # records straddle every chunk
    with MemoryStore(tmp_path) as again:
        assert again.recovery.records == 21 and again.recovery.torn_bytes == 0
        assert again.stats() == expected
        assert again.get("C19") == Company("C19", "Company 19")


def test_chunked_replay_still_sets_a_torn_tail_aside_and_refuses_inner_damage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with MemoryStore(tmp_path) as store:
        for i in range(3):
            store.write(WriteBatch(nodes=[Company(f"C{i}", f"Company {i}")]))
    journal = tmp_path / JOURNAL_NAME
    good = journal.read_bytes()
    monkeypatch.setattr(graph.memory, "_READ_CHUNK", 5)
    journal.write_bytes(good + b'0000abcd {"n": [')
    with MemoryStore(tmp_path) as store:
        assert store.recovery.records == 3 and store.recovery.torn_bytes == 16
        assert journal.read_bytes() == good
    lines = good.splitlines(keepends=True)
    journal.write_bytes(lines[0] + b"deadbeef {}\n" + lines[2])
    with pytest.raises(CorruptJournal, match="record 2"):
        MemoryStore(tmp_path)


def test_the_ceiling_is_the_machine_memory_over_measured_bytes_per_company(
    tmp_path: Path,
) -> None:
    machine = 24 * 1024**3
    measured = footprint(200_000, 200_000 * 5_000, machine)
    assert measured.measured and measured.bytes_per_company == 5_000
    assert measured.ceiling_companies == (machine - RESERVE_BYTES) // 5_000
    assert "200,000 companies, ~5.0 kB per company (measured)" in measured.describe()
    small = footprint(MIN_MEASURED - 1, 10**9, machine)
    assert not small.measured and small.bytes_per_company == REFERENCE_BYTES_PER_COMPANY
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemFree:  1 kB\nMemTotal:       24560000 kB\n")
    assert machine_memory_bytes(meminfo) == 24560000 * 1024
    assert machine_memory_bytes(tmp_path / "missing") == 0


def test_a_store_reports_its_own_footprint() -> None:
    store = MemoryStore()
    store.write(_graph())
    found = store.footprint()
    assert found.companies == 2 and not found.measured
    assert found.ceiling_companies > 0
