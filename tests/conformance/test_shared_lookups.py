"""Principal persons' lookups shared between credit reports (graph/rules/shared_lookups.py):
never staler than a fresh lookup, on every store, and on a versioned store reused while nothing
was written."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import partial
from pathlib import Path
from typing import cast

import pytest

from graph.extraction import Extraction
from graph.memory import MemoryStore
from graph.model import Company, Officer, OfficerRole, Person, Sanction, SanctionList
from graph.rules.schema import ConditionKind, load_rules
from graph.rules.shared_lookups import (
    RemembersReadVersion,
    SharedLookups,
    Versioned,
    VersionedReader,
    _by_store,
    shared_lookup_many,
)
from graph.store import GraphStore, Subgraph, WriteBatch
from queries.report import credit_report

AS_OF = date(2024, 6, 1)
LR = OfficerRole.LEGAL_REPRESENTATIVE


def nominee_graph(store: GraphStore, companies: int = 3) -> None:
    """A nominee N legally represents C0..C<n-1>; C<n-1> is seriously dishonest, so N is barred
    from office (R1) and every other company's incentive I1 is withheld because of N."""
    nodes: list[object] = [Person("N", "Nominee")]
    nodes += [Company(f"C{i}", f"C{i}") for i in range(companies)]
    links = [Officer("N", f"C{i}", LR) for i in range(companies)]
    store.write(WriteBatch(nodes=nodes, links=links))  # type: ignore[arg-type]


def i1_blocker(store: GraphStore, company: str) -> str | None:
    report = credit_report(store, company, AS_OF, load_rules(None))
    for item in report.withheld:
        if item.rule == "I1" and item.condition is ConditionKind.NO_PRINCIPAL_RESTRICTION:
            assert item.blocker is not None and item.blocker.sanction is not None
            return item.blocker.sanction.id
    return None


def test_a_report_sees_a_principal_restricted_after_an_earlier_report(store: GraphStore) -> None:
    nominee_graph(store)
    assert i1_blocker(store, "C0") is None
    assert i1_blocker(store, "C1") is None  # the nominee's lookup, asked again
    store.write(
        WriteBatch(
            nodes=[Sanction("s", "C2", SanctionList.SERIOUS_DISHONEST, start=date(2024, 1, 1))]
        )
    )
    assert i1_blocker(store, "C0") == "s"
    assert i1_blocker(store, "C1") == "s"


class Counting:
    """A memory store with a version that moves on every write, counting extractions."""

    def __init__(self) -> None:
        self.inner = MemoryStore()
        self.version = 0
        self.extractions = 0
        self.write_during_next_extract: WriteBatch | None = None

    def read_version(self) -> str | None:
        return str(self.version)

    def write(self, batch: WriteBatch) -> object:
        self.version += 1
        return self.inner.write(batch)

    def extract(self, requests: Sequence[Extraction]) -> list[Subgraph]:
        self.extractions += 1
        found = self.inner.extract(requests)
        if self.write_during_next_extract is not None:
            batch, self.write_during_next_extract = self.write_during_next_extract, None
            self.write(batch)
        return found

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


def test_a_kept_lookup_is_reused_only_while_the_version_holds() -> None:
    store = Counting()
    assert isinstance(store, Versioned)
    nominee_graph(store)  # type: ignore[arg-type]
    shared, rules = SharedLookups(heavy_seconds=0.0), load_rules(None)
    ask = partial(shared.lookup_many, store, as_of=AS_OF, rules=rules)  # type: ignore[arg-type]
    ask(["N"])  # looked up plainly, and seen to be slow (every lookup is, here)
    assert store.extractions == 1
    first = ask(["N", "nobody"])  # kept from now on
    assert store.extractions == 2 and first["N"].restrictions == ()
    again = ask(["N", "nobody"])
    assert store.extractions == 2
    assert again["N"] is first["N"] and "nobody" not in again
    store.write(
        WriteBatch(
            nodes=[Sanction("s", "C2", SanctionList.SERIOUS_DISHONEST, start=date(2024, 1, 1))]
        )
    )
    after = ask(["N"])
    assert store.extractions == 3
    assert {r.source.id for r in after["N"].restrictions} == {"s"}
    # Another rule set, or another day, is another question.
    shared.lookup_many(store, ["N"], AS_OF, rules.model_copy())  # type: ignore[arg-type]
    shared.lookup_many(store, ["N"], date(2024, 6, 2), rules)  # type: ignore[arg-type]
    assert store.extractions == 5


def test_a_lookup_that_was_quick_is_not_kept() -> None:
    store = Counting()
    nominee_graph(store)  # type: ignore[arg-type]
    shared, rules = SharedLookups(heavy_seconds=60.0), load_rules(None)
    for _ in range(3):
        shared.lookup_many(store, ["N"], AS_OF, rules)  # type: ignore[arg-type]
    assert store.extractions == 3


def test_a_lookup_during_which_a_write_committed_is_not_kept() -> None:
    store = Counting()
    nominee_graph(store)  # type: ignore[arg-type]
    shared, rules = SharedLookups(heavy_seconds=0.0), load_rules(None)
    shared.lookup_many(store, ["N"], AS_OF, rules)  # type: ignore[arg-type]
    store.write_during_next_extract = WriteBatch(
        nodes=[Sanction("s", "C2", SanctionList.SERIOUS_DISHONEST, start=date(2024, 1, 1))]
    )
    stale = shared.lookup_many(store, ["N"], AS_OF, rules)  # type: ignore[arg-type]
    assert stale["N"].restrictions == ()  # read before the write landed
    fresh = shared.lookup_many(store, ["N"], AS_OF, rules)  # type: ignore[arg-type]
    assert store.extractions == 3
    assert {r.source.id for r in fresh["N"].restrictions} == {"s"}


def test_the_capacity_drops_the_least_recently_used() -> None:
    store = Counting()
    nominee_graph(store, companies=4)  # type: ignore[arg-type]
    shared, rules = SharedLookups(capacity=2, heavy_seconds=0.0), load_rules(None)

    def ask(entity_id: str, extractions: int) -> None:
        shared.lookup_many(store, [entity_id], AS_OF, rules)  # type: ignore[arg-type]
        assert store.extractions == extractions, entity_id

    for entity_id, extractions in (("C0", 1), ("C1", 2)):  # plain lookups, both seen slow
        ask(entity_id, extractions)
    for entity_id, extractions in (("C0", 3), ("C1", 4)):  # kept
        ask(entity_id, extractions)
    ask("C0", 4)  # used: C1 is now the least recently used
    for extractions in (5, 6):  # seen slow, then kept: C1 is dropped
        ask("C2", extractions)
    ask("C0", 6)
    ask("C1", 7)


class Unversioned:
    """A store that cannot say whether it changed."""

    def __init__(self) -> None:
        self.inner = MemoryStore()

    def __getattr__(self, name: str) -> object:
        if name == "read_version":
            raise AttributeError(name)
        return getattr(self.inner, name)


def test_a_store_without_versions_is_asked_each_time() -> None:
    store = Unversioned()
    nominee_graph(store)  # type: ignore[arg-type]
    assert not isinstance(store, Versioned)
    rules = load_rules(None)
    first = shared_lookup_many(store, ["N"], AS_OF, rules)  # type: ignore[arg-type]
    again = shared_lookup_many(store, ["N"], AS_OF, rules)  # type: ignore[arg-type]
    assert again["N"] is not first["N"] and again["N"] == first["N"]


def test_the_embedded_store_version_moves_with_every_write_and_every_process(
    tmp_path: Path,
) -> None:
    store, other = MemoryStore(tmp_path), MemoryStore(tmp_path)
    try:
        nominee_graph(store)
        rules = load_rules(None)
        version = store.read_version()
        shared = SharedLookups(heavy_seconds=0.0)
        shared.lookup_many(store, ["N"], AS_OF, rules)  # seen slow (every lookup is, here)
        first = shared.lookup_many(store, ["N"], AS_OF, rules)
        assert shared.lookup_many(store, ["N"], AS_OF, rules)["N"] is first["N"]
        # Another process (here another store on the data dir) writes through the journal.
        other.write(
            WriteBatch(
                nodes=[Sanction("s", "C2", SanctionList.SERIOUS_DISHONEST, start=date(2024, 1, 1))]
            )
        )
        assert store.read_version() != version
        after = shared.lookup_many(store, ["N"], AS_OF, rules)
        assert {r.source.id for r in after["N"].restrictions} == {"s"}
    finally:
        store.close()
        other.close()


class Remembering(Counting):
    """:class:`Counting` that also knows the version as of its last read, as a server does."""

    def __init__(self) -> None:
        super().__init__()
        self.last_read: str | None = None

    def extract(self, requests: Sequence[Extraction]) -> list[Subgraph]:
        found = super().extract(requests)
        self.last_read = str(self.version)  # a read's version: as of its end
        return found

    def last_read_version(self) -> str | None:
        return self.last_read


def test_the_first_slow_lookup_is_kept_when_nothing_was_written_since_the_last_read() -> None:
    store = Remembering()
    nominee_graph(store)  # type: ignore[arg-type]
    assert isinstance(store, RemembersReadVersion)
    shared, rules = SharedLookups(heavy_seconds=0.0), load_rules(None)
    credit_report(store, "C0", AS_OF, rules)  # type: ignore[arg-type]
    before = store.extractions  # the report's own extraction and the nominee's lookup
    first = shared.lookup_many(store, ["N"], AS_OF, rules)  # type: ignore[arg-type]
    assert store.extractions == before + 1
    # seen slow, and the version of the read before it still held after it: kept at once
    assert shared.lookup_many(store, ["N"], AS_OF, rules)["N"] is first["N"]  # type: ignore[arg-type]
    assert store.extractions == before + 1


def test_the_first_slow_lookup_is_not_kept_after_a_write_since_the_last_read() -> None:
    store = Remembering()
    nominee_graph(store)  # type: ignore[arg-type]
    shared, rules = SharedLookups(heavy_seconds=0.0), load_rules(None)
    store.extract([])  # a read: its version is remembered
    store.write(WriteBatch(nodes=[Company("C9", "C9")]))  # a write after it
    shared.lookup_many(store, ["N"], AS_OF, rules)  # type: ignore[arg-type]
    shared.lookup_many(store, ["N"], AS_OF, rules)  # type: ignore[arg-type]
    assert store.extractions == 3  # the second lookup was made afresh (and kept only then)
    store.write_during_next_extract = None
    shared.lookup_many(store, ["N"], AS_OF, rules)  # type: ignore[arg-type]
    assert store.extractions == 3


def test_a_store_remembers_the_version_of_its_last_read(store: GraphStore) -> None:
    nominee_graph(store)
    assert isinstance(store, RemembersReadVersion) and isinstance(store, Versioned)
    version = store.read_version()  # a read itself
    assert version is not None and store.last_read_version() == version
    store.write(WriteBatch(nodes=[Company("C9", "C9")]))
    assert store.read_version() != version
    assert store.last_read_version() == store.read_version()


def test_a_first_slow_lookup_kept_on_a_store_gives_way_to_a_write(store: GraphStore) -> None:
    nominee_graph(store)
    assert isinstance(store, Versioned)
    versioned = cast(VersionedReader, store)
    shared, rules = SharedLookups(heavy_seconds=0.0), load_rules(None)
    versioned.read_version()
    first = shared.lookup_many(versioned, ["N"], AS_OF, rules)
    assert shared.lookup_many(versioned, ["N"], AS_OF, rules)["N"] is first["N"]
    store.write(
        WriteBatch(
            nodes=[Sanction("s", "C2", SanctionList.SERIOUS_DISHONEST, start=date(2024, 1, 1))]
        )
    )
    after = shared.lookup_many(versioned, ["N"], AS_OF, rules)
    assert {r.source.id for r in after["N"].restrictions} == {"s"}


def test_a_report_does_not_depend_on_what_was_looked_up_with_a_kept_principal(
    store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lookup of several principals at once sees all their neighbourhoods; kept, it must not
    carry the others' entities into a later report that asks for one of them alone."""
    nominee_graph(store)
    store.write(
        WriteBatch(
            nodes=[
                Person("M", "Other principal"),
                Company("D0", "D0"),
                Sanction("s", "C2", SanctionList.SERIOUS_DISHONEST, start=date(2024, 1, 1)),
            ],
            links=[Officer("M", "D0", LR)],
        )
    )
    rules = load_rules(None)
    fresh = credit_report(store, "C0", AS_OF, rules)
    assert fresh.withheld  # the nominee's restriction withholds an incentive
    shared = SharedLookups(heavy_seconds=0.0)
    monkeypatch.setitem(_by_store, store, shared)
    versioned = cast(VersionedReader, store)
    versioned.read_version()
    shared.lookup_many(versioned, ["N", "M"], AS_OF, rules)
    shared.lookup_many(versioned, ["N", "M"], AS_OF, rules)  # kept by now
    assert credit_report(store, "C0", AS_OF, rules) == fresh
