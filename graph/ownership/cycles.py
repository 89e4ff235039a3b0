"""Circular ownership: the simple directed OWNS cycles a company takes part in."""

from __future__ import annotations

from graph.ownership.holdings import MAX_HOPS, HoldingIndex
from graph.ownership.walk import SimplePaths, hop_distances

__all__ = ["canonical_cycle", "cycles_through"]


def canonical_cycle(nodes: list[str]) -> tuple[str, ...]:
    """The cycle rotated to start at its smallest id (direction kept).

    Examples
    --------
    >>> canonical_cycle(["B", "C", "A"])
    ('A', 'B', 'C')
    """
    start = nodes.index(min(nodes))
    return tuple(nodes[start:] + nodes[:start])


def cycles_through(
    entity_id: str,
    index: HoldingIndex,
    *,
    max_length: int = MAX_HOPS,
    limit: int = 100,
) -> list[tuple[str, ...]]:
    """The simple directed ownership cycles ``entity_id`` takes part in, each once.

    Each cycle lists its nodes in holding order (each holds shares of the next, the last of the
    first), rotated to start at its smallest id; at most ``limit`` cycles of at most
    ``max_length`` links, shortest first among the first ``4 * limit`` found (depth first, in id
    order). Links without a share count (a circular structure is a structure even when the
    shares are unknown). Self-holdings are not cycles here (see :func:`data_issues`).

    Examples
    --------
    >>> from graph.model import Ownership
    >>> index = HoldingIndex([Ownership("A", "B", 10), Ownership("B", "A", 10),
    ...                       Ownership("B", "C", 10), Ownership("C", "A", 10)])
    >>> cycles_through("C", index)
    [('A', 'B', 'C')]
    >>> cycles_through("A", index)
    [('A', 'B'), ('A', 'B', 'C')]
    """
    if limit < 1 or max_length < 1:
        return []
    # Only nodes that can reach ``entity_id`` again within the bound can close a cycle.
    back = hop_distances(entity_id, index.owners)
    found: set[tuple[str, ...]] = set()
    enough = limit * 4
    walk = SimplePaths(
        entity_id, index.holdings, max_hops=max_length, unshared=True, closing=True, ordered=True
    )
    for other, _, hops in walk:
        if other == entity_id:
            found.add(canonical_cycle(list(walk.path)))
            if len(found) >= enough:
                break
            continue
        distance = back.get(other)
        if distance is None or hops + distance > max_length:
            walk.skip()
    return sorted(found, key=lambda c: (len(c), c))[:limit]
