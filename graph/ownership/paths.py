"""The ownership paths that explain an effective share, and the depth of every entity above (or
below) another."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping

from graph.model import Officer
from graph.ownership.holdings import MAX_HOPS, PERCENT, HoldingIndex, actual_controller_links
from graph.ownership.walk import SimplePaths, hop_distances

__all__ = ["depths", "ownership_paths"]


def ownership_paths(
    owner: str,
    target: str,
    index: HoldingIndex,
    *,
    max_hops: int = MAX_HOPS,
    limit: int | None = None,
) -> list[tuple[list[str], float]]:
    """The simple OWNS paths ``owner -> ... -> target`` that carry ownership, with their share.

    Each item is (node ids from ``owner`` to ``target``, product of the shares in percent), largest
    first (ties: shorter, then by ids); ``limit`` keeps only that many. Their shares sum to the
    effective share (when ``limit`` does not cut). Links without a share are left out: they carry
    nothing to explain.

    Examples
    --------
    >>> from graph.model import Ownership
    >>> links = [Ownership("P", "D", 50), Ownership("D", "T", 30),
    ...          Ownership("P", "E", 80), Ownership("E", "T", 25)]
    >>> [(p, round(s, 6)) for p, s in ownership_paths("P", "T", HoldingIndex(links))]
    [(['P', 'E', 'T'], 20.0), (['P', 'D', 'T'], 15.0)]
    """
    if owner == target or max_hops < 1:
        return []
    # Distance (in links) from ``owner`` down to each node it reaches: prunes hopeless branches.
    reach = hop_distances(owner, index.holdings, positive=True)
    if target not in reach:
        return []
    found: list[tuple[list[str], float]] = []
    walk = SimplePaths(target, index.owners, max_hops=max_hops)
    for other, _, hops in walk:
        if other == owner:
            chain = [owner, *reversed(walk.path)]
            found.append((chain, _path_share(chain, index)))
            walk.skip()
            continue
        distance = reach.get(other)
        if distance is None or distance + hops > max_hops:
            walk.skip()
    found.sort(key=lambda item: (-item[1], len(item[0]), item[0]))
    return found if limit is None else found[:limit]


def _path_share(chain: list[str], index: HoldingIndex) -> float:
    # Taken link by link from the target, in percent (x * s / 100), as explanations always were:
    # the walk's running product (x * s * 0.01) can differ in the last bit, which would reorder
    # paths of equal share.
    value = 1.0
    for holder, company in reversed(list(itertools.pairwise(chain))):
        value = value * index.owners[company][holder] / PERCENT
    return value * PERCENT


def depths(
    start: str,
    index: HoldingIndex,
    *,
    upward: bool = True,
    officers: Iterable[Officer] = (),
) -> dict[str, int]:
    """Length of the shortest OWNS path between ``start`` and every entity beyond it.

    Links without a share count (they are links). ``officers``: ``actual_controller`` positions to
    follow as one-link steps too (a recorded actual controller sits one link above its company).
    ``start`` itself is left out.

    Examples
    --------
    >>> from graph.model import Ownership
    >>> index = HoldingIndex([Ownership("P", "A", 60), Ownership("A", "B"), Ownership("P", "B", 5)])
    >>> depths("B", index)
    {'A': 1, 'P': 1}
    """
    adjacency: Mapping[str, Mapping[str, float]] = index.adjacency(upward)
    extra = actual_controller_links(officers, upward)
    if extra:
        merged: dict[str, dict[str, float]] = {k: dict(v) for k, v in adjacency.items()}
        for node, others in extra.items():
            row = merged.setdefault(node, {})
            for other in others:
                row.setdefault(other, 0.0)
        adjacency = merged
    found = hop_distances(start, adjacency)
    del found[start]
    return dict(sorted(found.items()))
