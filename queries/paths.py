"""Paths between two entities over OWNS, OFFICER_OF and REGISTERED_AT links in force at a date.

Links are followed in either direction (an investigator connects a person to a company through a
shared address as readily as through a shareholding); each :class:`PathLink` keeps the link's own
direction. The search extracts a subgraph by expanding from both ends at once, one store call per
level, always growing the smaller frontier, until the two radii add up to ``max_hops``; every path
of at most ``max_hops`` links lies in that union. networkx then lists the k shortest simple paths.

Supernodes (a registration-agent address with thousands of companies, a nominee officer with
hundreds of positions) would make the extraction explode: a node with more links than
``supernode_degree`` is kept, with its links, but its neighbours are not expanded further. The
result says which nodes were capped, so a missing path can be told from a truncated search.

Paths are :class:`graph.explain.Path` values (ids and typed links); :class:`PathSearch` also holds
the nodes on them, so that whoever shows a path can name them without another read.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TypeAlias

import networkx as nx

from graph.errors import InvalidInput, NotFound
from graph.explain import Path, PathLink, path_node_ids
from graph.model import (
    PRINCIPAL_ROLES,
    Address,
    Company,
    Direction,
    Link,
    LinkType,
    Officer,
    OfficerRole,
    Ownership,
    Person,
)
from graph.store import GraphReader, Step, Subgraph

__all__ = ["PATH_STEPS", "PathNode", "PathSearch", "find_paths", "paths_between"]

PATH_STEPS: tuple[Step, ...] = (
    Step(LinkType.OWNS, Direction.BOTH),
    Step(LinkType.OFFICER_OF, Direction.BOTH),
    Step(LinkType.REGISTERED_AT, Direction.BOTH),
)
"""The links a path may use, either way."""

PathNode: TypeAlias = Company | Person | Address
"""What a path between entities can pass through."""


@dataclass(slots=True)
class PathSearch:
    """The answer of :func:`find_paths`: the paths, and how the search was bounded."""

    paths: list[Path]
    nodes: dict[str, PathNode] = field(default_factory=dict)
    """The nodes on the paths, by id."""
    capped: dict[str, int] = field(default_factory=dict)
    """Supernodes whose neighbours were not expanded: id -> number of links in force."""
    links_between: dict[tuple[str, str], tuple[PathLink, ...]] = field(default_factory=dict)
    """Every link in force between two consecutive nodes of a path (the pair as the path walks
    it), the one the path shows first: a person may be director *and* shareholder of a company,
    and the path shows only the most telling of the two."""
    store_calls: int = 0

    @property
    def complete(self) -> bool:
        """True when no supernode was capped: then no path within ``max_hops`` was missed."""
        return not self.capped


def _preference(link: Link) -> tuple[int, float, str]:
    # Between two nodes joined by several links, show the most telling one.
    if isinstance(link, Ownership):
        return (0, -(link.share or 0.0), link.key)
    if isinstance(link, Officer):
        rank = (
            1 if link.role in PRINCIPAL_ROLES or link.role is OfficerRole.ACTUAL_CONTROLLER else 2
        )
        return (rank, 0.0, link.key)
    return (3, 0.0, link.key)


def find_paths(
    store: GraphReader,
    source_id: str,
    target_id: str,
    as_of: date | None = None,
    *,
    max_hops: int = 6,
    first: int = 5,
    supernode_degree: int = 500,
) -> PathSearch:
    """Up to ``first`` shortest simple paths between two entities, shortest first.

    Parameters
    ----------
    store
        Any :class:`graph.store.GraphReader`.
    source_id, target_id
        Companies, persons or addresses.
    as_of
        Only links in force on this day count (default: today).
    max_hops
        Longest path, in links.
    first
        How many paths at most. Paths of equal length are ordered by their node ids.
    supernode_degree
        A node with more links than this is not expanded further (the ends always are).

    Returns
    -------
    PathSearch
        The paths and the supernodes that were capped.

    Raises
    ------
    NotFound
        When either id is unknown.
    InvalidInput
        For a sanction id, equal ends, or bounds out of range.

    Examples
    --------
    >>> from graph.memory import MemoryStore
    >>> from graph.model import Registration
    >>> from graph.store import WriteBatch
    >>> store = MemoryStore()
    >>> _ = store.write(WriteBatch(
    ...     nodes=[Person("P", "Wang"), Company("A", "A Co"), Company("B", "B Co"),
    ...            Address("X", "1 Road")],
    ...     links=[Ownership("P", "A", 60.0), Registration("A", "X"), Registration("B", "X")]))
    >>> [p.nodes for p in find_paths(store, "P", "B", date(2024, 1, 1)).paths]
    [('P', 'A', 'X', 'B')]
    """
    if max_hops < 1 or first < 1 or supernode_degree < 1:
        raise InvalidInput("max_hops, first and supernode_degree must be at least 1")
    if source_id == target_id:
        raise InvalidInput("from and to are the same entity")
    as_of = as_of or date.today()
    ends = store.get_many([source_id, target_id])
    for end in (source_id, target_id):
        node = ends.get(end)
        if node is None:
            raise NotFound(f"no entity with id {end!r}")
        if not isinstance(node, (Company, Person, Address)):
            raise InvalidInput(f"{end!r} is a sanction record; paths join entities and addresses")
    sub = Subgraph()
    distance: dict[str, dict[str, int]] = {source_id: {source_id: 0}, target_id: {target_id: 0}}
    frontier: dict[str, list[str]] = {source_id: [source_id], target_id: [target_id]}
    radius = {source_id: 0, target_id: 0}
    expanded: set[str] = set()
    search = PathSearch(paths=[])
    while radius[source_id] + radius[target_id] < max_hops:
        sides = [s for s in (source_id, target_id) if frontier[s]]
        if not sides:
            break
        side = min(sides, key=lambda s: (len(frontier[s]), s != source_id))
        todo = [n for n in frontier[side] if n not in expanded]
        radius[side] += 1
        if not todo:
            frontier[side] = []
            continue
        part = store.neighbourhood(todo, steps=PATH_STEPS, hops=1, as_of=as_of)
        search.store_calls += 1
        sub.merge(part)
        neighbours = _neighbours(part.links.values(), set(todo))
        reached = distance[side]
        grown: list[str] = []
        for current in todo:
            expanded.add(current)
            around = neighbours.get(current, set())
            if len(around) > supernode_degree and current not in (source_id, target_id):
                search.capped[current] = len(around)
                continue
            for other in sorted(around):
                if other not in reached:
                    reached[other] = radius[side]
                    grown.append(other)
        frontier[side] = grown
    search.paths = _k_shortest(sub, source_id, target_id, max_hops, first)
    search.links_between = _links_between(sub, search.paths)
    search.nodes = {node_id: _path_node(sub, node_id) for node_id in path_node_ids(search.paths)}
    return search


def paths_between(
    store: GraphReader,
    source_id: str,
    target_id: str,
    as_of: date | None = None,
    *,
    max_hops: int = 6,
    first: int = 5,
) -> list[Path]:
    """The paths of :func:`find_paths` alone (the GraphQL ``paths`` field).

    >>> from graph.memory import MemoryStore
    >>> from graph.store import WriteBatch
    >>> store = MemoryStore()
    >>> _ = store.write(WriteBatch(nodes=[Person("P", "Li"), Company("A", "A Co")],
    ...                            links=[Officer("P", "A", OfficerRole.CHAIRMAN)]))
    >>> [link.role.value for link in paths_between(store, "A", "P")[0].links]
    ['chairman']
    """
    return find_paths(store, source_id, target_id, as_of, max_hops=max_hops, first=first).paths


def _neighbours(links: Iterable[Link], nodes: set[str]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for link in links:
        a, b = link.source, link.target
        if a in nodes:
            found.setdefault(a, set()).add(b)
        if b in nodes:
            found.setdefault(b, set()).add(a)
    return found


def _k_shortest(
    sub: Subgraph, source_id: str, target_id: str, max_hops: int, first: int
) -> list[Path]:
    graph: nx.Graph[str] = nx.Graph()
    best: dict[tuple[str, str], Link] = {}
    for key in sorted(sub.links):
        link = sub.links[key]
        a, b = link.source, link.target
        if a == b or a not in sub.nodes or b not in sub.nodes:
            continue
        pair = (a, b) if a < b else (b, a)
        held = best.get(pair)
        if held is None or _preference(link) < _preference(held):
            best[pair] = link
    graph.add_nodes_from(sorted(sub.nodes))
    graph.add_edges_from(sorted(best))
    if source_id not in graph or target_id not in graph:
        return []
    found: list[list[str]] = []
    try:
        for nodes in nx.shortest_simple_paths(graph, source_id, target_id):
            hops = len(nodes) - 1
            if hops > max_hops:
                break
            if len(found) >= first and hops > len(found[-1]) - 1:
                break
            found.append(nodes)
            if len(found) >= first * 20:  # many ties: enough to order them
                break
    except nx.NetworkXNoPath:
        return []
    found.sort(key=lambda nodes: (len(nodes), nodes))
    paths: list[Path] = []
    for nodes in found[:first]:
        links = []
        for a, b in itertools.pairwise(nodes):
            links.append(PathLink.of(best[(a, b) if a < b else (b, a)]))
        paths.append(Path(nodes=tuple(nodes), links=tuple(links)))
    return paths


def _links_between(sub: Subgraph, paths: list[Path]) -> dict[tuple[str, str], tuple[PathLink, ...]]:
    wanted = {pair for path in paths for pair in itertools.pairwise(path.nodes)}
    every: dict[tuple[str, str], list[Link]] = {}
    for link in sub.links.values():
        for pair in ((link.source, link.target), (link.target, link.source)):
            if pair in wanted:
                every.setdefault(pair, []).append(link)
    return {
        pair: tuple(PathLink.of(link) for link in sorted(links, key=_preference))
        for pair, links in every.items()
    }


def _path_node(sub: Subgraph, node_id: str) -> PathNode:
    node = sub.nodes[node_id]
    assert isinstance(node, (Company, Person, Address)), "paths only join entities and addresses"
    return node
