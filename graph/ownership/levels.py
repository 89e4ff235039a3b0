"""Ownership links as integer arrays, layered owners-first, for the bulk engine (numpy).

The level pass is the array form of :func:`graph.ownership.sweep.sweep`: nodes are settled level by
level (level = the longest path above a node), a company's person vector is the share-weighted
sum of its owners' vectors, and its controllers follow from its owners' controllers. Nodes in or
below a cycle get no level; :mod:`graph.ownership.bulk` answers them with the simple-path walk.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from graph.ownership.holdings import CONTROL_THRESHOLD, EPSILON, PERCENT

__all__ = [
    "LevelGraph",
    "codes_present",
    "ragged_join",
    "runs",
    "sorted_unique",
    "sum_pairs",
]

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


class LevelGraph:
    """Positive OWNS links as integer arrays (owner code -> company code, percent), layered.

    Parameters
    ----------
    src, dst, val
        Owner codes, company codes and shares in percent, one entry per link (more than 0; no
        self-holdings). Tranches of one (owner, company) pair add up.
    n
        The number of codes (every code lies in ``range(n)``).

    Examples
    --------
    P (code 0) holds 50% of D (1), which holds 60% of T (2); T and U (3) hold 10% of each other.

    >>> graph = LevelGraph(np.array([0, 1, 2, 3]), np.array([1, 2, 3, 2]),
    ...                    np.array([50.0, 60.0, 10.0, 10.0]), 4)
    >>> graph.level.tolist(), graph.unsettled(max_hops=10).tolist()
    ([0, 1, -1, -1], [2, 3])
    """

    def __init__(self, src: Ints, dst: Ints, val: Floats, n: int) -> None:
        dst, src, val = sum_pairs(dst, src, val, n)
        self.src, self.dst, self.val, self.n = src, dst, val, n
        # Level: the longest path above a node (0 for nodes nobody owns); -1 in or below a cycle.
        level = np.full(n, -1, dtype=np.int64)
        remaining = np.bincount(dst, minlength=n)
        ready = np.flatnonzero(remaining == 0)
        step = 0
        while ready.size:
            level[ready] = step
            out = level[src] == step
            lowered = np.bincount(dst[out], minlength=n)
            remaining -= lowered
            ready = np.flatnonzero((remaining == 0) & (lowered > 0))
            step += 1
        self.level = level
        self.levels = step
        # Filled by person_vectors: per company, where its person vector lies in the flat arrays.
        self.vector_start = np.zeros(n, dtype=np.int64)
        self.vector_count = np.zeros(n, dtype=np.int64)
        self.vector_person = np.zeros(0, dtype=np.int64)
        self.vector_value = np.zeros(0, dtype=np.float64)

    def unsettled(self, max_hops: int) -> Ints:
        """Companies the level pass does not answer: in or below a cycle, or too deep."""
        has_owner = np.zeros(self.n, dtype=bool)
        has_owner[self.dst] = True
        return np.flatnonzero(has_owner & ((self.level < 0) | (self.level > max_hops)))

    def upstream_of(self, nodes: Ints) -> npt.NDArray[np.bool_]:
        """A mask of ``nodes`` and everything above them."""
        mask = np.zeros(self.n, dtype=bool)
        mask[nodes] = True
        while True:
            grown = mask.copy()
            grown[self.src[mask[self.dst]]] = True
            if np.array_equal(grown, mask):
                return mask
            mask = grown

    def _by_level(self) -> list[Ints]:
        """Edge indices grouped by the level of the company they point at (1, 2, ...)."""
        target_level = self.level[self.dst]
        order = np.argsort(target_level, kind="stable")
        bounds = np.searchsorted(target_level[order], np.arange(1, self.levels + 1))
        return [order[bounds[i] : bounds[i + 1]] for i in range(len(bounds) - 1)]

    def person_vectors(
        self, is_person: npt.NDArray[np.bool_], max_hops: int
    ) -> tuple[Ints, Ints, Floats]:
        """(company, person, fraction) for every settled company up to level ``max_hops``.

        Examples
        --------
        >>> graph = LevelGraph(np.array([0, 1]), np.array([1, 2]), np.array([50.0, 60.0]), 3)
        >>> [a.tolist() for a in graph.person_vectors(np.array([True, False, False]), 10)]
        [[1, 2], [0, 0], [0.5, 0.3]]
        """
        n = self.n
        start = np.zeros(n, dtype=np.int64)
        count = np.zeros(n, dtype=np.int64)
        all_c: list[Ints] = []
        all_p: list[Ints] = []
        all_v: list[Floats] = []
        flat_p = np.zeros(0, dtype=np.int64)
        flat_v = np.zeros(0, dtype=np.float64)
        for depth, edges in enumerate(self._by_level(), start=1):
            if depth > max_hops:
                break
            s, d, f = self.src[edges], self.dst[edges], self.val[edges] / PERCENT
            direct = is_person[s]
            repeat = count[s]
            p_in, v_in, c_in = ragged_join(start[s], repeat, flat_p, flat_v, f, d)
            c = np.concatenate([d[direct], c_in])
            p = np.concatenate([s[direct], p_in])
            v = np.concatenate([f[direct], v_in])
            c, p, v = sum_pairs(c, p, v, n)
            # Append this level's vectors; they are sorted by company already.
            companies, first, sizes = runs(c)
            start[companies] = flat_p.size + first
            count[companies] = sizes
            flat_p = np.concatenate([flat_p, p])
            flat_v = np.concatenate([flat_v, v])
            all_c.append(c)
            all_p.append(p)
            all_v.append(v)
        self.vector_start, self.vector_count = start, count
        self.vector_person, self.vector_value = flat_p, flat_v
        if not all_c:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty.copy(), np.zeros(0, dtype=np.float64)
        return np.concatenate(all_c), np.concatenate(all_p), np.concatenate(all_v)

    def controllers(self, actual_x: Ints, actual_c: Ints) -> tuple[Ints, Ints]:
        """(company, controller) for every settled company (any level: control has no limit).

        ``actual_x`` and ``actual_c`` are the recorded actual controllers and their companies.

        Examples
        --------
        >>> graph = LevelGraph(np.array([0, 1]), np.array([1, 2]), np.array([60.0, 60.0]), 4)
        >>> [a.tolist() for a in graph.controllers(np.array([3]), np.array([2]))]
        [[1, 2, 2, 2], [0, 0, 1, 3]]
        """
        n = self.n
        level = self.level
        start = np.zeros(n, dtype=np.int64)
        count = np.zeros(n, dtype=np.int64)
        flat_x = np.zeros(0, dtype=np.int64)
        ones = np.zeros(0, dtype=np.float64)
        all_c: list[Ints] = []
        all_x: list[Ints] = []
        actual_level = level[actual_c] if actual_c.size else np.zeros(0, dtype=np.int64)

        def record(c: Ints, x: Ints) -> None:
            nonlocal flat_x, ones
            key = sorted_unique(c * n + x)
            c, x = key // n, key % n
            companies, first, sizes = runs(c)
            start[companies] = flat_x.size + first
            count[companies] = sizes
            flat_x = np.concatenate([flat_x, x])
            ones = np.concatenate([ones, np.ones(x.size)])
            all_c.append(c)
            all_x.append(x)

        at_root = actual_level == 0
        record(actual_c[at_root], actual_x[at_root])
        for depth, edges in enumerate(self._by_level(), start=1):
            s, d, share = self.src[edges], self.dst[edges], self.val[edges]
            x_in, w_in, c_in = ragged_join(start[s], count[s], flat_x, ones, share, d)
            c, x, t = sum_pairs(
                np.concatenate([d, c_in]),
                np.concatenate([s, x_in]),
                np.concatenate([share, w_in]),
                n,
            )
            won = t > CONTROL_THRESHOLD + EPSILON
            here = actual_level == depth
            record(
                np.concatenate([c[won], actual_c[here]]), np.concatenate([x[won], actual_x[here]])
            )
        if not all_c:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty.copy()
        return np.concatenate(all_c), np.concatenate(all_x)


def ragged_join(
    first: Ints,
    repeat: Ints,
    flat_key: Ints,
    flat_value: Floats,
    factor: Floats,
    label: Ints,
) -> tuple[Ints, Floats, Ints]:
    """For each edge i, the ``repeat[i]`` stored entries from ``first[i]`` on: their keys, their
    values times ``factor[i]``, and ``label[i]`` alongside.

    Examples
    --------
    >>> keys, values, labels = ragged_join(
    ...     np.array([0, 2]), np.array([2, 1]), np.array([7, 8, 9]), np.array([0.5, 0.25, 1.0]),
    ...     np.array([2.0, 3.0]), np.array([4, 5]))
    >>> keys.tolist(), values.tolist(), labels.tolist()
    ([7, 8, 9], [1.0, 0.5, 3.0], [4, 4, 5])
    """
    total = int(repeat.sum())
    if total == 0:
        return (
            np.zeros(0, dtype=np.int64),
            np.zeros(0, dtype=np.float64),
            np.zeros(0, dtype=np.int64),
        )
    offsets = np.cumsum(repeat) - repeat
    index = np.repeat(first - offsets, repeat) + np.arange(total, dtype=np.int64)
    return (
        flat_key[index],
        flat_value[index] * np.repeat(factor, repeat),
        np.repeat(label, repeat),
    )


def codes_present(codes: Ints, n: int) -> Ints:
    """The distinct values of ``codes`` (all in ``range(n)``), sorted.

    Examples
    --------
    >>> codes_present(np.array([3, 1, 3]), 5).tolist()
    [1, 3]
    """
    mask = np.zeros(n, dtype=bool)
    mask[codes] = True
    return np.flatnonzero(mask).astype(np.int64)


def sorted_unique(values: Ints) -> Ints:
    """The distinct values, sorted (``np.unique`` without its extra work).

    Examples
    --------
    >>> sorted_unique(np.array([5, 2, 5, 1])).tolist()
    [1, 2, 5]
    """
    ordered = np.sort(values)
    if ordered.size == 0:
        return ordered
    keep = np.empty(ordered.size, dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def runs(ordered: Ints) -> tuple[Ints, Ints, Ints]:
    """For a sorted array: its distinct values, where each run starts, and how long it is.

    Examples
    --------
    >>> [a.tolist() for a in runs(np.array([1, 1, 4, 6, 6, 6]))]
    [[1, 4, 6], [0, 2, 3], [2, 1, 3]]
    """
    if ordered.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy(), empty.copy()
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    sizes = np.diff(np.append(starts, ordered.size))
    return ordered[starts], starts.astype(np.int64), sizes.astype(np.int64)


def sum_pairs(c: Ints, p: Ints, v: Floats, n: int) -> tuple[Ints, Ints, Floats]:
    """Sum ``v`` over equal (c, p) pairs (codes below ``n``); the result is sorted by c, then p.

    Examples
    --------
    >>> [a.tolist() for a in sum_pairs(np.array([2, 0, 2]), np.array([1, 1, 1]),
    ...                                np.array([0.5, 1.0, 0.25]), 3)]
    [[0, 2], [1, 1], [1.0, 0.75]]
    """
    key = c * n + p
    order = np.argsort(key)
    key, v = key[order], v[order]
    unique, starts, _ = runs(key)
    total = np.add.reduceat(v, starts) if starts.size else np.zeros(0, dtype=np.float64)
    return unique // n, unique % n, total
