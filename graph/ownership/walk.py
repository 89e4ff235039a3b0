"""The one simple-path walker every ownership question uses, and breadth-first hop distances.

Effective shares, the paths that explain them, the cycles through a company and the bulk engine's
search all enumerate the simple directed paths out of one node with a hop limit. They differ only
in what they do with each path and where they stop extending it, so they share
:class:`SimplePaths` and say where to stop with :meth:`SimplePaths.skip`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping
from typing import Generic, TypeVar

__all__ = ["SimplePaths", "hop_distances"]

N = TypeVar("N", str, int)
"""Node ids: strings in the query layer, integer codes in the bulk engine."""


class SimplePaths(Generic[N]):
    """Depth-first walk over the simple directed paths out of ``start`` of at most ``max_hops``
    links, with the running product of the shares.

    Iterating yields ``(node, product, hops)`` once for every simple path ``start -> ... -> node``:
    ``product`` is the product of the shares along the path as a fraction (percent / 100) and
    ``hops`` the number of links. Paths come depth first, neighbours in the order of ``links`` (or
    of their ids with ``ordered``). A node never appears twice on a path. After each item the walk
    extends the path beyond ``node`` unless :meth:`skip` was called, the path already has
    ``max_hops`` links, or ``node`` has no links. ``path`` holds the nodes from ``start`` to the
    one before ``node`` while the item is being handled. Iterate once.

    Parameters
    ----------
    start
        The node every path starts from.
    links
        Node -> neighbour -> share in percent (for instance :attr:`HoldingIndex.owners` to walk
        upward, :attr:`HoldingIndex.holdings` to walk downward). A share of 0 marks a link recorded
        without a share.
    max_hops
        The longest path, in links (at least 1).
    unshared
        Follow links with a share of 0 too (their product is 0). By default they are left out:
        they carry no ownership, but a circular structure is a structure even without shares.
    closing
        Also yield ``start`` itself when a link leads back to it (the path then closes a cycle);
        the walk never extends a path beyond ``start``.
    ordered
        Visit each node's neighbours in id order rather than in the order of ``links``.

    Examples
    --------
    Who owns T, along which simple paths (upward links: company -> owner -> share):

    >>> owners = {"T": {"A": 60.0, "B": 40.0}, "A": {"P": 50.0, "B": 10.0}, "B": {"A": 20.0}}
    >>> walk = SimplePaths("T", owners, max_hops=3)
    >>> [([*walk.path, node], round(product, 6), hops) for node, product, hops in walk]
    ... # doctest: +NORMALIZE_WHITESPACE
    [(['T', 'A'], 0.6, 1), (['T', 'A', 'P'], 0.3, 2), (['T', 'A', 'B'], 0.06, 2),
     (['T', 'B'], 0.4, 1), (['T', 'B', 'A'], 0.08, 2), (['T', 'B', 'A', 'P'], 0.04, 3)]

    :meth:`skip` prunes: here no path goes on beyond A (so P is never reached).

    >>> walk = SimplePaths("T", owners, max_hops=3)
    >>> seen = []
    >>> for node, _, _ in walk:
    ...     seen.append(node)
    ...     if node == "A":
    ...         walk.skip()
    >>> seen
    ['A', 'B', 'A']
    """

    __slots__ = (
        "_closing",
        "_links",
        "_ordered",
        "_skip",
        "_unshared",
        "_walk",
        "max_hops",
        "path",
        "start",
    )

    def __init__(
        self,
        start: N,
        links: Mapping[N, Mapping[N, float]],
        *,
        max_hops: int,
        unshared: bool = False,
        closing: bool = False,
        ordered: bool = False,
    ) -> None:
        if max_hops < 1:
            raise ValueError(f"max_hops must be at least 1, got {max_hops}")
        self.start: N = start
        self.max_hops: int = max_hops
        self.path: list[N] = [start]
        """The nodes from ``start`` to the one before the node just yielded."""
        self._links: Mapping[N, Mapping[N, float]] = links
        self._unshared = unshared
        self._closing = closing
        self._ordered = ordered
        self._skip = False
        self._walk: Iterator[tuple[N, float, int]] = self._run()

    def __iter__(self) -> Iterator[tuple[N, float, int]]:
        return self._walk

    def skip(self) -> None:
        """Do not extend the path beyond the node just yielded (its siblings are still visited)."""
        self._skip = True

    def _neighbours(self, node: N) -> Iterator[tuple[N, float]]:
        row = self._links.get(node)
        if not row:
            return iter(())
        return iter(sorted(row.items())) if self._ordered else iter(row.items())

    def _run(self) -> Iterator[tuple[N, float, int]]:
        links, max_hops, start, path = self._links, self.max_hops, self.start, self.path
        unshared, closing = self._unshared, self._closing
        on_path = {start}
        # Frames: (product of the shares down to the frame's node, its remaining neighbours).
        stack: list[tuple[float, Iterator[tuple[N, float]]]] = [(1.0, self._neighbours(start))]
        while stack:
            product, children = stack[-1]
            hops = len(stack)
            for other, share in children:
                if other in on_path:
                    if closing and other == start and (unshared or share > 0.0):
                        yield other, product * share * 0.01, hops
                        self._skip = False
                    continue
                if share <= 0.0 and not unshared:
                    continue
                value = product * share * 0.01
                yield other, value, hops
                if self._skip:
                    self._skip = False
                    continue
                if hops >= max_hops or other not in links:
                    continue
                path.append(other)
                on_path.add(other)
                stack.append((value, self._neighbours(other)))
                break
            else:
                stack.pop()
                if len(path) > 1:
                    on_path.discard(path.pop())


def hop_distances(
    start: N, links: Mapping[N, Mapping[N, float]], *, positive: bool = False
) -> dict[N, int]:
    """The length in links of the shortest path from ``start`` to every node it reaches.

    ``start`` itself is at 0. ``positive`` follows only links with a share (more than 0).

    Examples
    --------
    >>> holdings = {"P": {"A": 60.0, "B": 0.0}, "A": {"B": 50.0}}
    >>> hop_distances("P", holdings)
    {'P': 0, 'A': 1, 'B': 1}
    >>> hop_distances("P", holdings, positive=True)
    {'P': 0, 'A': 1, 'B': 2}
    """
    distance = {start: 0}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        step = distance[node] + 1
        for other, share in links.get(node, {}).items():
            if other in distance or (positive and share <= 0.0):
                continue
            distance[other] = step
            queue.append(other)
    return distance
