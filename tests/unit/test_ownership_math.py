"""Ownership arithmetic without a store: the worked examples, the edge cases of DOMAIN.md, and
property tests against brute force (networkx.all_simple_paths) on random graphs with cycles."""

from __future__ import annotations

import itertools
import math
import random

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.model import Officer, OfficerRole, Ownership
from graph.ownership import (
    EffectiveOwnership,
    HoldingIndex,
    IssueKind,
    all_beneficial_owners,
    canonical_cycle,
    control_map,
    control_path,
    controlled_companies,
    controllers_of,
    cycles_through,
    data_issues,
    depths,
    effective_shares,
    ownership_paths,
)


def shares(links: list[Ownership], target: str, max_hops: int = 10) -> dict[str, float]:
    return {
        k: round(v, 9)
        for k, v in effective_shares(target, HoldingIndex(links), max_hops=max_hops).items()
    }


# -- worked examples ------------------------------------------------------------------------


def test_fifty_times_sixty_is_thirty() -> None:
    assert shares([Ownership("P", "D", 50), Ownership("D", "T", 60)], "T") == {"D": 60, "P": 30}


def test_spec_example_direct_and_layered() -> None:
    links = [
        Ownership("X", "T", 25),
        Ownership("B", "T", 25),
        Ownership("W", "B", 100),
        Ownership("C", "T", 50),
        Ownership("Y", "C", 90),
        Ownership("Z", "C", 10),
    ]
    assert shares(links, "T") == {"X": 25, "B": 25, "W": 25, "C": 50, "Y": 45, "Z": 5}
    table = all_beneficial_owners(links, {"X", "W", "Y", "Z"}).to_dict()
    assert {p: round(v, 9) for p, (v, _) in table["T"].items()} == {"X": 25, "W": 25, "Y": 45}


def test_two_paths_add_up() -> None:
    links = [
        Ownership("P", "D", 50),
        Ownership("D", "T", 30),
        Ownership("P", "E", 80),
        Ownership("E", "T", 25),
    ]
    assert shares(links, "T")["P"] == 35.0
    paths = ownership_paths("P", "T", HoldingIndex(links))
    assert [(p, round(s, 9)) for p, s in paths] == [(["P", "E", "T"], 20.0), (["P", "D", "T"], 15)]


# -- edge cases ------------------------------------------------------------------------------


def test_exactly_fifty_is_not_control_and_more_is() -> None:
    assert controllers_of("T", HoldingIndex([Ownership("P", "T", 50.0)])) == set()
    assert controllers_of("T", HoldingIndex([Ownership("P", "T", 50.01)])) == {"P"}
    # 30.1 + 19.9 is 50 in floating point terms too: still not control.
    tranches = [Ownership("P", "T", 30.1), Ownership("P", "T", 19.9, start=None)]
    tranches[1] = Ownership("P", "T", 19.9, extra={"tranche": 2})
    assert controllers_of("T", HoldingIndex([Ownership("P", "T", 30.1), tranches[1]])) == set()


def test_exactly_twenty_five_is_a_beneficial_owner() -> None:
    table = all_beneficial_owners([Ownership("P", "T", 25), Ownership("Q", "T", 24.99)], {"P", "Q"})
    assert table.to_dict()["T"] == {"P": (25.0, False)}


def test_control_has_no_hop_limit() -> None:
    chain = [Ownership("P", "C1", 100)] + [
        Ownership(f"C{i}", f"C{i + 1}", 60) for i in range(1, 12)
    ]
    index = HoldingIndex(chain)
    assert "C12" in controlled_companies("P", index)
    assert "P" in controllers_of("C12", index)
    assert "P" not in effective_shares("C12", index)  # 12 links: beyond the 10-hop limit
    assert effective_shares("C12", index, max_hops=12)["P"] == pytest.approx(100 * 0.6**11)
    assert control_path("P", "C12", index) == ["P"] + [f"C{i}" for i in range(1, 13)]
    table = all_beneficial_owners(chain, {"P"}).to_dict()
    assert table["C12"] == {"P": (0.0, True)}


def test_recursive_majority_through_controlled_companies() -> None:
    links = [Ownership("P", "A", 60), Ownership("P", "T", 20), Ownership("A", "T", 31)]
    assert controllers_of("T", HoldingIndex(links)) == {"P"}
    assert sorted(control_map(HoldingIndex(links))["T"]) == ["P"]


def test_actual_controller_controls_and_passes_control_on() -> None:
    links = [Ownership("A", "B", 100), Ownership("Q", "A", 90)]
    officers = [
        Officer("P", "A", OfficerRole.ACTUAL_CONTROLLER),
        Officer("R", "A", OfficerRole.DIRECTOR),
    ]
    index = HoldingIndex(links)
    assert controllers_of("A", index, officers) == {"P", "Q"}
    assert controllers_of("B", index, officers) == {"A", "P", "Q"}
    assert control_path("P", "B", index, officers) == ["P", "A", "B"]


def test_company_is_never_its_own_owner_and_self_holdings_do_not_rescale() -> None:
    links = [Ownership("T", "T", 20), Ownership("P", "T", 40), Ownership("Q", "T", 40)]
    index = HoldingIndex(links)
    assert shares(links, "T") == {"P": 40, "Q": 40}
    assert index.self_held == {"T": 20}
    assert [i.kind for i in data_issues(index)] == [IssueKind.SELF_HELD_SHARES]
    cross = [Ownership("A", "B", 60), Ownership("B", "A", 60)]
    assert "A" not in effective_shares("A", HoldingIndex(cross))
    assert "A" not in controllers_of("A", HoldingIndex(cross))


def test_holdings_over_one_hundred_are_used_as_given_and_flagged() -> None:
    links = [Ownership("P", "T", 70), Ownership("Q", "T", 60)]
    assert shares(links, "T") == {"P": 70, "Q": 60}
    assert controllers_of("T", HoldingIndex(links)) == {"P", "Q"}
    issues = data_issues(HoldingIndex(links))
    assert [(i.kind, i.value) for i in issues] == [(IssueKind.HOLDINGS_OVER_100, 130)]


def test_link_without_share_is_a_link_without_ownership() -> None:
    links = [Ownership("P", "D"), Ownership("D", "T", 100)]
    index = HoldingIndex(links)
    assert shares(links, "T") == {"D": 100}
    assert depths("T", index) == {"D": 1, "P": 2}
    assert [i.kind for i in data_issues(index)] == [IssueKind.MISSING_SHARE]
    assert cycles_through("A", HoldingIndex([Ownership("A", "B"), Ownership("B", "A")])) == [
        ("A", "B")
    ]


def test_cross_holdings() -> None:
    links = [
        Ownership("P", "A", 60),
        Ownership("Q", "B", 70),
        Ownership("A", "B", 40),
        Ownership("B", "A", 30),
    ]
    assert shares(links, "B") == {"A": 40, "P": 24, "Q": 70}
    assert shares(links, "A") == {"B": 30, "P": 60, "Q": 21}
    assert IssueKind.CIRCULAR_OWNERSHIP in {i.kind for i in data_issues(HoldingIndex(links))}


def test_downward_shares_and_depths() -> None:
    links = [Ownership("P", "A", 50), Ownership("A", "B", 50), Ownership("P", "B", 10)]
    index = HoldingIndex(links)
    assert {k: round(v, 9) for k, v in effective_shares("P", index, upward=False).items()} == {
        "A": 50,
        "B": 35,
    }
    assert depths("P", index, upward=False) == {"A": 1, "B": 1}


def test_cycles_are_listed_once_rotated_to_their_smallest_id() -> None:
    links = [
        Ownership("C", "A", 10),
        Ownership("A", "B", 10),
        Ownership("B", "C", 10),
        Ownership("B", "A", 10),
    ]
    index = HoldingIndex(links)
    assert cycles_through("B", index) == [("A", "B"), ("A", "B", "C")]
    assert cycles_through("C", index) == [("A", "B", "C")]
    assert cycles_through("C", index, max_length=2) == []
    assert canonical_cycle(["C", "A", "B"]) == ("A", "B", "C")


# -- property tests against brute force ------------------------------------------------------


def _brute_force(links: list[Ownership], target: str, max_hops: int) -> dict[str, float]:
    graph: nx.DiGraph[str] = nx.DiGraph()
    for owner, row in HoldingIndex(links).holdings.items():
        for company, share in row.items():
            graph.add_edge(owner, company, share=share)
    found: dict[str, float] = {}
    if target not in graph:
        return found
    for node in graph.nodes:
        if node == target:
            continue
        for path in nx.all_simple_paths(graph, node, target, cutoff=max_hops):
            value = math.prod(graph[a][b]["share"] / 100 for a, b in itertools.pairwise(path))
            if value > 0:
                found[node] = found.get(node, 0.0) + value * 100
    return found


def _naive_controlled(owner: str, index: HoldingIndex, officers: list[Officer]) -> set[str]:
    group = {owner} | {o.company_id for o in officers if o.person_id == owner}
    changed = True
    while changed:
        changed = False
        for company, row in index.owners.items():
            if company in group:
                continue
            if sum(s for h, s in row.items() if h in group) > 50 + 1e-9:
                group.add(company)
                changed = True
    group.discard(owner)
    return group


@st.composite
def ownership_graphs(draw: st.DrawFn) -> tuple[list[Ownership], list[Officer], set[str], int]:
    companies = [f"C{i}" for i in range(draw(st.integers(2, 7)))]
    persons = [f"P{i}" for i in range(draw(st.integers(1, 3)))]
    share = st.one_of(
        st.none(),
        st.sampled_from([10.0, 25.0, 50.0, 51.0, 60.0, 100.0]),
        st.floats(0.5, 100.0, allow_nan=False),
    )
    links = draw(
        st.lists(
            st.builds(
                Ownership, st.sampled_from(companies + persons), st.sampled_from(companies), share
            ),
            min_size=1,
            max_size=16,
        )
    )
    officers = draw(
        st.lists(
            st.builds(
                Officer,
                st.sampled_from(persons),
                st.sampled_from(companies),
                st.just(OfficerRole.ACTUAL_CONTROLLER),
            ),
            max_size=2,
        )
    )
    return links, officers, set(persons), draw(st.integers(1, 6))


@settings(max_examples=300, deadline=None)
@given(ownership_graphs())
def test_effective_shares_match_simple_path_enumeration(
    case: tuple[list[Ownership], list[Officer], set[str], int],
) -> None:
    links, _, _, max_hops = case
    index = HoldingIndex(links)
    up = EffectiveOwnership(index, max_hops=max_hops)
    for target in {link.company_id for link in links}:
        expected = _brute_force(links, target, max_hops)
        got = up.shares_of(target)
        assert set(got) == set(expected)
        for owner, value in expected.items():
            assert got[owner] == pytest.approx(value, abs=1e-9)
            explained = ownership_paths(owner, target, index, max_hops=max_hops)
            assert sum(s for _, s in explained) == pytest.approx(value, abs=1e-9)
    down = EffectiveOwnership(index, upward=False, max_hops=max_hops)
    for owner in index.holdings:
        for company, value in down.shares_of(owner).items():
            assert _brute_force(links, company, max_hops)[owner] == pytest.approx(value, abs=1e-9)


@settings(max_examples=300, deadline=None)
@given(ownership_graphs())
def test_control_matches_the_naive_fixpoint(
    case: tuple[list[Ownership], list[Officer], set[str], int],
) -> None:
    links, officers, persons, _ = case
    index = HoldingIndex(links)
    every = control_map(index, officers)
    for owner in {link.owner_id for link in links} | persons:
        expected = _naive_controlled(owner, index, officers)
        assert controlled_companies(owner, index, officers) == expected
        for company in expected:
            assert owner in every[company]
            assert owner in controllers_of(company, index, officers)
            chain = control_path(owner, company, index, officers)
            assert chain is not None and chain[0] == owner and chain[-1] == company


@settings(max_examples=300, deadline=None)
@given(ownership_graphs(), st.sampled_from([0.0, 25.0, 50.0]))
def test_bulk_beneficial_owners_agree_with_the_reference(
    case: tuple[list[Ownership], list[Officer], set[str], int], threshold: float
) -> None:
    links, officers, persons, max_hops = case
    table = all_beneficial_owners(
        links, persons, threshold=threshold, max_hops=max_hops, officers=officers
    ).to_dict()
    index = HoldingIndex(links)
    engine = EffectiveOwnership(index, max_hops=max_hops, keep=persons)
    companies = {link.company_id for link in links} | {o.company_id for o in officers}
    assert set(table) == companies
    for company in companies:
        got = engine.shares_of(company)
        controllers = controllers_of(company, index, officers)
        expected = {
            p: (got.get(p, 0.0), p in controllers)
            for p in persons
            if (p in got and got[p] >= threshold - 1e-9) or p in controllers
        }
        assert set(table[company]) == set(expected)
        for person, (value, controls) in expected.items():
            assert table[company][person][0] == pytest.approx(value, abs=1e-7)
            assert table[company][person][1] == controls


@settings(max_examples=200, deadline=None)
@given(ownership_graphs())
def test_cycles_match_networkx(case: tuple[list[Ownership], list[Officer], set[str], int]) -> None:
    links, _, _, _ = case
    index = HoldingIndex(links)
    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_edges_from((o, c) for o, row in index.holdings.items() for c in row)
    every = {canonical_cycle(list(c)) for c in nx.simple_cycles(graph) if len(c) > 1}
    for node in graph.nodes:
        expected = sorted((c for c in every if node in c), key=lambda c: (len(c), c))
        assert cycles_through(node, index, max_length=10, limit=1000) == expected
        assert depths(node, index) == {
            k: v
            for k, v in nx.single_source_shortest_path_length(graph.reverse(), node).items()
            if k != node
        }


def test_bulk_settles_deep_and_cyclic_parts_like_the_reference() -> None:
    rng = random.Random(7)
    links: list[Ownership] = []
    persons = {f"P{i}" for i in range(30)}
    companies = [f"C{i}" for i in range(300)]
    for i, company in enumerate(companies):
        for _ in range(rng.randint(1, 3)):
            pool = list(persons) + companies[max(0, i - 20) : i]
            links.append(Ownership(rng.choice(pool), company, rng.choice([20, 30, 51, 60, 100])))
    for _ in range(10):  # cross-holdings
        a, b = rng.sample(companies, 2)
        links.append(Ownership(a, b, 15))
    table = all_beneficial_owners(links, persons, max_hops=4).to_dict()
    index = HoldingIndex(links)
    engine = EffectiveOwnership(index, max_hops=4, keep=persons)
    for company in companies:
        got = engine.shares_of(company)
        controllers = controllers_of(company, index)
        for person, (value, controls) in table[company].items():
            assert value == pytest.approx(got.get(person, 0.0), abs=1e-7)
            assert controls == (person in controllers)
        assert {p for p, v in got.items() if v >= 25 - 1e-9} <= set(table[company])
