"""The shared simple-path walker (graph.ownership.walk): the hop limit, no node twice on a path,
links without a share, closing cycles, pruning, and every simple path exactly once (against
networkx.all_simple_paths on random graphs with cycles)."""

from __future__ import annotations

import itertools
import math

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.ownership import SimplePaths, hop_distances

Links = dict[str, dict[str, float]]


def chains(walk: SimplePaths[str]) -> list[tuple[list[str], float, int]]:
    return [([*walk.path, node], product, hops) for node, product, hops in walk]


def test_the_hop_limit_bounds_every_path_and_the_last_link_is_still_yielded() -> None:
    links: Links = {"A": {"B": 100.0}, "B": {"C": 100.0}, "C": {"D": 100.0}, "D": {"E": 100.0}}
    assert [c for c, _, _ in chains(SimplePaths("A", links, max_hops=2))] == [
        ["A", "B"],
        ["A", "B", "C"],
    ]
    assert [h for _, _, h in chains(SimplePaths("A", links, max_hops=4))] == [1, 2, 3, 4]
    with pytest.raises(ValueError, match="max_hops must be at least 1"):
        SimplePaths("A", links, max_hops=0)


def test_a_cycle_never_repeats_a_node_on_a_path() -> None:
    links: Links = {"A": {"B": 50.0}, "B": {"C": 50.0}, "C": {"A": 50.0, "B": 50.0}}
    found = chains(SimplePaths("A", links, max_hops=50))
    assert [c for c, _, _ in found] == [["A", "B"], ["A", "B", "C"]]
    for chain, _, _ in found:
        assert len(set(chain)) == len(chain)


def test_closing_yields_the_start_once_per_cycle_and_goes_no_further() -> None:
    links: Links = {"A": {"B": 50.0}, "B": {"C": 50.0, "A": 20.0}, "C": {"A": 10.0}}
    walk = SimplePaths("A", links, max_hops=10, closing=True)
    cycles = [(c, round(p, 9), h) for c, p, h in chains(walk) if c[-1] == "A"]
    assert cycles == [(["A", "B", "C", "A"], 0.025, 3), (["A", "B", "A"], 0.1, 2)]
    # Without ``closing`` the start is never yielded.
    assert all(c[-1] != "A" for c, _, _ in chains(SimplePaths("A", links, max_hops=10)))


def test_links_without_a_share_are_left_out_unless_asked_for() -> None:
    links: Links = {"T": {"A": 0.0, "B": 40.0}, "A": {"P": 100.0}, "B": {"A": 50.0}}
    shared = chains(SimplePaths("T", links, max_hops=5))
    assert [c for c, _, _ in shared] == [["T", "B"], ["T", "B", "A"], ["T", "B", "A", "P"]]
    every = chains(SimplePaths("T", links, max_hops=5, unshared=True))
    assert [(c, p) for c, p, _ in every][:2] == [(["T", "A"], 0.0), (["T", "A", "P"], 0.0)]
    assert len(every) == 5


def test_skip_prunes_beyond_the_node_only() -> None:
    links: Links = {"T": {"A": 50.0, "B": 50.0}, "A": {"P": 100.0}, "B": {"Q": 100.0}}
    walk = SimplePaths("T", links, max_hops=5)
    seen = []
    for node, _, _ in walk:
        seen.append(node)
        if node == "A":
            walk.skip()
    assert seen == ["A", "B", "Q"]


def test_ordered_visits_neighbours_by_id() -> None:
    links: Links = {"T": {"C": 1.0, "A": 1.0, "B": 1.0}}
    assert [n for n, _, _ in SimplePaths("T", links, max_hops=1)] == ["C", "A", "B"]
    assert [n for n, _, _ in SimplePaths("T", links, max_hops=1, ordered=True)] == ["A", "B", "C"]


def test_integer_nodes_work_as_in_the_bulk_engine() -> None:
    links: dict[int, dict[int, float]] = {0: {1: 60.0}, 1: {2: 50.0}}
    assert [(n, round(p, 9), h) for n, p, h in SimplePaths(0, links, max_hops=3)] == [
        (1, 0.6, 1),
        (2, 0.3, 2),
    ]


def test_hop_distances_is_breadth_first() -> None:
    links: Links = {"A": {"B": 10.0, "C": 0.0}, "B": {"C": 10.0, "D": 10.0}, "C": {"D": 10.0}}
    assert hop_distances("A", links) == {"A": 0, "B": 1, "C": 1, "D": 2}
    assert hop_distances("A", links, positive=True) == {"A": 0, "B": 1, "C": 2, "D": 2}


@st.composite
def graphs(draw: st.DrawFn) -> tuple[Links, int]:
    nodes = [f"N{i}" for i in range(draw(st.integers(2, 7)))]
    share = st.sampled_from([0.0, 10.0, 50.0, 100.0])
    edges = draw(
        st.lists(st.tuples(st.sampled_from(nodes), st.sampled_from(nodes), share), max_size=20)
    )
    links: Links = {}
    for a, b, s in edges:
        if a != b:
            links.setdefault(a, {})[b] = s
    return links, draw(st.integers(1, 6))


@settings(max_examples=300, deadline=None)
@given(graphs(), st.booleans())
def test_every_simple_path_exactly_once_with_its_product(
    case: tuple[Links, int], unshared: bool
) -> None:
    links, max_hops = case
    graph: nx.DiGraph[str] = nx.DiGraph()
    for a, row in links.items():
        for b, s in row.items():
            if unshared or s > 0.0:
                graph.add_edge(a, b, share=s)
    for start in links:
        walk = SimplePaths(start, links, max_hops=max_hops, unshared=unshared, closing=True)
        got = chains(walk)
        expected: list[tuple[list[str], float]] = []
        if start in graph:
            for end in graph.nodes:
                if end != start:
                    for p in nx.all_simple_paths(graph, start, end, cutoff=max_hops):
                        expected.append((p, _product(graph, p)))
            for p in nx.simple_cycles(graph, length_bound=max_hops):
                if start in p:
                    at = p.index(start)
                    cycle = [*p[at:], *p[:at], start]
                    expected.append((cycle, _product(graph, cycle)))
        assert sorted(c for c, _, _ in got) == sorted(c for c, _ in expected)
        by_chain = {tuple(c): v for c, v in expected}
        for chain, product, hops in got:
            assert hops == len(chain) - 1 <= max_hops
            assert len(set(chain[1:])) == len(chain) - 1  # only a closed cycle repeats the start
            assert product == pytest.approx(by_chain[tuple(chain)], abs=1e-12)


def _product(graph: nx.DiGraph[str], chain: list[str]) -> float:
    return float(math.prod(graph[a][b]["share"] / 100 for a, b in itertools.pairwise(chain)))
