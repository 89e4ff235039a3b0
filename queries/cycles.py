"""Circular ownership: the simple OWNS cycles an entity takes part in.

One store call (the entity's downstream closure, as deep as the longest cycle asked for: every
cycle through the entity lies in it), then :func:`graph.ownership.cycles_through`. Each cycle is
listed once, rotated to start at its smallest id, shortest first.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from datetime import date
from typing import Any

from graph.errors import InvalidInput, NotFound
from graph.model import Company, Direction, LinkType, Person
from graph.ownership import MAX_HOPS, HoldingIndex, cycles_through
from graph.store import GraphReader, Step
from queries.paths import PathLink, entity_json, link_json

__all__ = ["Cycle", "cycle_json", "ownership_cycles"]


@dataclass(frozen=True, slots=True)
class Cycle:
    """A circular holding: ``nodes[i]`` holds shares of ``nodes[i + 1]``, the last of the first.

    ``links`` has one link per node (the last one closes the circle). ``share`` is the product
    of the shares around the circle in percent (what a company ends up holding of itself through
    it), None when a link records no share.
    """

    nodes: tuple[Company | Person, ...]
    links: tuple[PathLink, ...]
    share: float | None

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(node.id for node in self.nodes)


def ownership_cycles(
    store: GraphReader,
    entity_id: str,
    as_of: date | None = None,
    *,
    max_length: int = MAX_HOPS,
    limit: int = 100,
) -> list[Cycle]:
    """The ownership cycles through ``entity_id`` in force at ``as_of`` (default today).

    Parameters
    ----------
    store
        Any :class:`graph.store.GraphReader`.
    entity_id
        A company or a person (a person, who has no owners, is in no cycle).
    as_of
        Links in force on this day.
    max_length
        Longest cycle, in links.
    limit
        At most this many cycles (the shortest).

    Examples
    --------
    >>> from graph.memory import MemoryStore
    >>> from graph.model import Ownership
    >>> from graph.store import WriteBatch
    >>> store = MemoryStore()
    >>> _ = store.write(WriteBatch(
    ...     nodes=[Company(c, c) for c in "ABC"],
    ...     links=[Ownership("A", "B", 50), Ownership("B", "C", 40), Ownership("C", "A", 50)]))
    >>> [(c.ids, round(c.share or 0, 6)) for c in ownership_cycles(store, "B")]
    [(('A', 'B', 'C'), 10.0)]
    """
    if max_length < 2 or limit < 1:
        raise InvalidInput("max_length must be at least 2 and limit at least 1")
    as_of = as_of or date.today()
    sub = store.neighbourhood(
        [entity_id], steps=[Step(LinkType.OWNS, Direction.OUT)], hops=max_length, as_of=as_of
    )
    if entity_id not in sub.nodes:
        if store.get(entity_id) is None:
            raise NotFound(f"no entity with id {entity_id!r}")
        raise InvalidInput(f"{entity_id!r} is not a company or a person")
    index = HoldingIndex(sub.ownerships)
    cycles: list[Cycle] = []
    for ids in cycles_through(entity_id, index, max_length=max_length, limit=limit):
        links: list[PathLink] = []
        shares: list[float] = []
        for a, b in itertools.pairwise((*ids, ids[0])):
            held = index.holdings[a][b]
            if (a, b) in index.unshared and held == 0.0:
                links.append(PathLink(LinkType.OWNS, a, b))
            else:
                links.append(PathLink(LinkType.OWNS, a, b, share=held))
                shares.append(held)
        share = math.prod(s / 100.0 for s in shares) * 100.0 if len(shares) == len(ids) else None
        nodes = []
        for node_id in ids:
            node = sub.nodes[node_id]
            assert isinstance(node, (Company, Person))
            nodes.append(node)
        cycles.append(Cycle(nodes=tuple(nodes), links=tuple(links), share=share))
    return cycles


def cycle_json(cycle: Cycle) -> dict[str, Any]:
    """A :class:`Cycle` as ``{"nodes", "links", "length", "share"}`` (camelCase like GraphQL)."""
    return {
        "nodes": [entity_json(node) for node in cycle.nodes],
        "links": [link_json(link) for link in cycle.links],
        "length": len(cycle.links),
        "share": round(cycle.share, 9) if cycle.share is not None else None,
    }
