"""The owner table (queries.owner_table, the bulk engine behind ``creditnet owner-table``) equals
queries.ownership.beneficial_owners asked company by company, on every store."""

from __future__ import annotations

import random
from datetime import date

import pytest

from graph.errors import InvalidInput, NotFound
from graph.model import Company, Link, Node, Officer, OfficerRole, Ownership, Person
from graph.store import GraphStore, WriteBatch
from queries.owner_table import OwnerRow, beneficial_owner_rows
from queries.ownership import beneficial_owners

DAY = date(2024, 6, 1)


def generated_graph(seed: int) -> tuple[list[Node], list[Link]]:
    """Holding chains longer than the hop limit, a cross-holding cycle, links without a share,
    an actual controller, a link not yet in force, and a random layer of holdings on top."""
    rng = random.Random(seed)
    companies = [f"C{i:02d}" for i in range(40)]
    persons = [f"P{i:02d}" for i in range(12)]
    nodes: list[Node] = [Company(c, f"Company {c}") for c in companies]
    nodes += [Person(p, f"Person {p}") for p in persons]
    links: list[Link] = []
    # A chain of 14 companies at 60% each: control reaches the end, shares fade past 10 hops.
    links.append(Ownership("P00", "C00", 100.0))
    links += [Ownership(f"C{i:02d}", f"C{i + 1:02d}", 60.0) for i in range(13)]
    # A cycle: C20 and C21 hold 30% of each other; persons hold the rest.
    links += [
        Ownership("C20", "C21", 30.0),
        Ownership("C21", "C20", 30.0),
        Ownership("P01", "C20", 70.0),
        Ownership("P02", "C21", 45.0),
        Ownership("P03", "C21", 25.0),
    ]
    # Missing shares: a link, but no ownership.
    links += [Ownership("P04", "C22"), Ownership("P05", "C22", 25.0), Ownership("C22", "C23")]
    # An actual controller with no holding at all, and one whose control passes down.
    links += [
        Officer("P06", "C24", OfficerRole.ACTUAL_CONTROLLER),
        Officer("P07", "C25", OfficerRole.ACTUAL_CONTROLLER),
        Ownership("C25", "C26", 51.0),
        Ownership("P08", "C26", 49.0),
    ]
    # Not in force on DAY.
    links.append(Ownership("P09", "C27", 90.0, start=date(2030, 1, 1)))
    # A random layer on the rest (cycles likely), shares from a small set so thresholds bite.
    for company in companies[28:]:
        for _ in range(rng.randint(1, 3)):
            owner = rng.choice(companies[20:] + persons)
            if owner != company:
                share = rng.choice([None, 10.0, 25.0, 26.0, 50.0, 51.0, 75.0])
                links.append(Ownership(owner, company, share))
    return nodes, links


def expected_rows(
    store: GraphStore, companies: list[str], threshold: float, max_hops: int
) -> list[OwnerRow]:
    rows = [
        OwnerRow(company, owner.person.id, owner.effective_share, owner.controls)
        for company in companies
        for owner in beneficial_owners(store, company, DAY, threshold, max_hops)
    ]
    return sorted(rows, key=lambda row: (row.company_id, row.owner_id))


def assert_same(got: list[OwnerRow], expected: list[OwnerRow]) -> None:
    assert [(r.company_id, r.owner_id, r.controls) for r in got] == [
        (r.company_id, r.owner_id, r.controls) for r in expected
    ]
    for mine, theirs in zip(got, expected, strict=True):
        assert mine.effective_share == pytest.approx(theirs.effective_share, abs=1e-7)


@pytest.mark.parametrize(("threshold", "max_hops"), [(25.0, 10), (0.0, 3), (50.0, 10)])
def test_rows_equal_beneficial_owners_company_by_company(
    store: GraphStore, threshold: float, max_hops: int
) -> None:
    nodes, links = generated_graph(seed=int(threshold) + max_hops)
    store.write(WriteBatch(nodes=nodes, links=links))
    companies = sorted(n.id for n in nodes if isinstance(n, Company))
    got = list(beneficial_owner_rows(store, DAY, threshold, max_hops, companies=companies))
    expected = expected_rows(store, companies, threshold, max_hops)
    assert_same(got, expected)
    by_pair = {(r.company_id, r.owner_id): r for r in got}
    # The cases the graph was built for are really there.
    assert by_pair["C13", "P00"].controls  # 14 links down: control has no hop limit
    assert ("C24", "P06") in by_pair and by_pair["C24", "P06"].effective_share == 0.0
    assert by_pair["C26", "P07"].controls  # through C25's 51%
    assert "C27" not in {r.company_id for r in got}  # the link starts in 2030
    # Simple paths only: P01 -> C20 -> C21 -> C20 would pass C20 twice.
    assert by_pair["C20", "P01"].effective_share == pytest.approx(70.0)


def test_a_subset_of_companies_is_answered_from_its_own_upstream(store: GraphStore) -> None:
    nodes, links = generated_graph(seed=7)
    store.write(WriteBatch(nodes=nodes, links=links))
    subset = ["C13", "C21", "C23", "C26", "C35", "C21"]  # repeats are answered once
    got = list(beneficial_owner_rows(store, DAY, companies=subset))
    assert_same(got, expected_rows(store, sorted(set(subset)), 25.0, 10))


def test_unknown_ids_and_persons_are_refused_with_the_ids_named(store: GraphStore) -> None:
    store.write(WriteBatch(nodes=[Company("A", "A Co"), Person("P", "Li")]))
    with pytest.raises(NotFound, match="'GHOST'"):
        beneficial_owner_rows(store, DAY, companies=["A", "GHOST"])
    with pytest.raises(InvalidInput, match="'P'"):
        beneficial_owner_rows(store, DAY, companies=["A", "P"])
    with pytest.raises(InvalidInput, match="threshold"):
        beneficial_owner_rows(store, DAY, 101.0, companies=["A"])
    assert list(beneficial_owner_rows(store, DAY, companies=["A"])) == []
