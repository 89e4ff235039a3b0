"""Circular ownership: the simple OWNS cycles an entity takes part in.

One store call (the entity's downstream closure, as deep as the longest cycle asked for: every
cycle through the entity lies in it), then :func:`graph.ownership.cycles_through`. Each cycle is
listed once, rotated to start at its smallest id, shortest first.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from graph.errors import InvalidInput, NotFound
from graph.explain import Path, PathLink
from graph.model import Direction, LinkType
from graph.ownership import MAX_HOPS, HoldingIndex, cycles_through
from graph.store import GraphReader, Step

__all__ = ["Cycle", "cycle_of", "ownership_cycles"]


@dataclass(frozen=True, slots=True)
class Cycle:
    """A circular holding: ``path`` starts and ends at the cycle's smallest id, each node holding
    shares of the next.

    ``share`` is the product of the shares around the circle in percent (what a company ends up
    holding of itself through it), None when a link records no share.
    """

    path: Path
    share: float | None

    @property
    def ids(self) -> tuple[str, ...]:
        """The members of the cycle, each once, in holding order."""
        return self.path.nodes[:-1]

    @property
    def length(self) -> int:
        return self.path.hops


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
    >>> from graph.model import Company, Ownership
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
    return [
        cycle_of(ids, index)
        for ids in cycles_through(entity_id, index, max_length=max_length, limit=limit)
    ]


def cycle_of(ids: Sequence[str], index: HoldingIndex) -> Cycle:
    """The :class:`Cycle` through ``ids`` (each holding the next, the last the first)."""
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
    return Cycle(Path((*ids, ids[0]), tuple(links)), share)
