"""The owners-first pass that settles the acyclic part of an ownership graph, and the control
fixpoint that settles the rest.

A node is *settled* once everything beyond it is: then every path beyond it is simple, its share
vector is the share-weighted sum of its neighbours' vectors, and its controllers follow from its
owners' controllers. What is never settled lies in a cycle or beyond one; shares there are found by
the simple-path walk (:mod:`graph.ownership.walk`), control by :func:`settle`.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Container, Hashable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from graph.ownership.holdings import CONTROL_THRESHOLD, EPSILON

__all__ = ["Sweep", "settle", "sweep"]

_K = TypeVar("_K", bound=Hashable)


@dataclass(slots=True)
class Sweep:
    """What one owners-first pass (Kahn's algorithm) over an ownership graph found."""

    height: dict[str, int]
    """Nodes with nothing cyclic beyond them -> length of the longest path beyond them."""
    memo: dict[str, dict[str, float]]
    """Settled nodes with something beyond them -> fraction held by each entity beyond them
    (unbounded; kept entities only; empty when shares were not asked for)."""
    ctrl: dict[str, set[str]]
    """Company -> its controllers (when control was asked for; every company, cycles included)."""
    left: list[str]
    """Nodes in a cycle or beyond one: the sweep could not settle them."""


def sweep(
    beyond: Mapping[str, Mapping[str, float]],
    before: Mapping[str, Mapping[str, float]],
    *,
    keep: Container[str] | None,
    shares: bool = True,
    actual: Mapping[str, set[str]] | None = None,
    within: set[str] | None = None,
) -> Sweep:
    """Settle every node whose side ``beyond`` it is acyclic, in one pass.

    Parameters
    ----------
    beyond
        Node -> the nodes beyond it with the share of each link, in percent (upward: the owners).
    before
        The same links the other way round.
    keep
        Only these entities appear in the share vectors (None: every entity).
    shares
        Compute share vectors (else ``memo`` holds empty vectors).
    actual
        Company -> its recorded actual controllers: compute control too (None: no control).
    within
        Only these nodes take part (None: all).

    Returns
    -------
    Sweep
        Heights, vectors and controllers of the settled nodes, and the nodes left unsettled
        (sorted); with ``actual``, the controllers of those are settled by :func:`settle`.

    Examples
    --------
    >>> owners = {"T": {"A": 60.0, "P": 40.0}, "A": {"P": 50.0, "Q": 50.0}}
    >>> held = {"A": {"T": 60.0}, "P": {"T": 40.0, "A": 50.0}, "Q": {"A": 50.0}}
    >>> found = sweep(owners, held, keep={"P", "Q"}, actual={})
    >>> found.height, {k: round(v, 6) for k, v in sorted(found.memo["T"].items())}
    ({'A': 1, 'T': 2}, {'P': 0.7, 'Q': 0.3})
    >>> found.ctrl, found.left
    ({'T': {'A'}}, [])
    """
    # Only nodes with something beyond them ("inner" nodes) take part in the ordering: the others
    # (natural persons, top holding companies) have height 0, no vector and no controllers.
    control = actual is not None
    actual = actual or {}
    height: dict[str, int] = {}
    memo: dict[str, dict[str, float]] = {}
    ctrl: dict[str, set[str]] = {}
    inner = beyond if within is None else {k: v for k, v in beyond.items() if k in within}
    remaining = dict.fromkeys(inner, 0)
    for node, row in before.items():
        if node in inner:
            for held in row:
                if held in remaining:
                    remaining[held] += 1
    ready = [node for node, count in remaining.items() if not count]
    for node in ready:
        del remaining[node]
    threshold = CONTROL_THRESHOLD + EPSILON
    memo_get, ctrl_get = memo.get, ctrl.get
    for company, persons in actual.items():
        if company not in inner and (within is None or company in within):
            found_here = {p for p in persons if p != company}
            if found_here:
                ctrl[company] = found_here
    # Settled nodes beyond which control was recorded without owners (roots with an actual
    # controller) must be looked up for every owner; otherwise only inner owners can pass any on.
    root_ctrl = bool(ctrl)
    nothing: dict[str, float] = {}
    while ready:
        node = ready.pop()
        row = inner[node]
        if not shares:
            acc = nothing
        elif keep is None:
            acc = {o: s * 0.01 for o, s in row.items() if s > 0.0}
        else:
            acc = {o: s * 0.01 for o, s in row.items() if s > 0.0 and o in keep}
        inherited: list[tuple[set[str], float]] = []
        tall = 0
        for other, share in row.items():
            vector = memo_get(other)
            if vector is None:  # nothing beyond ``other``
                if root_ctrl and share > 0.0:
                    controllers = ctrl_get(other)
                    if controllers:
                        inherited.append((controllers, share))
                continue
            other_height = height[other]
            if other_height >= tall:
                tall = other_height
            if share <= 0.0:
                continue
            if vector:
                fraction = share * 0.01
                for far, value in vector.items():
                    acc[far] = acc.get(far, 0.0) + fraction * value
            if control:
                controllers = ctrl_get(other)
                if controllers:
                    inherited.append((controllers, share))
        height[node] = tall + 1
        memo[node] = acc
        if control:
            if inherited:
                tally = {o: s for o, s in row.items() if s > 0.0}
                for controllers, share in inherited:
                    for controller in controllers:
                        tally[controller] = tally.get(controller, 0.0) + share
                majority = [x for x, t in tally.items() if t > threshold]
            else:
                majority = [o for o, s in row.items() if s > threshold]
            if node in actual:
                majority.extend(actual[node])
            if majority:
                found = set(majority)
                found.discard(node)
                if found:
                    ctrl[node] = found
        for held in before.get(node, ()):
            count = remaining.get(held)
            if count is None:
                continue
            if count == 1:
                ready.append(held)
                del remaining[held]
            else:
                remaining[held] = count - 1
    left = sorted(remaining)
    if control and left:
        settle(left, beyond, before, actual, ctrl)
    return Sweep(height=height, memo=memo, ctrl=ctrl, left=left)


def settle(
    left: list[_K],
    beyond: Mapping[_K, Mapping[_K, float]],
    before: Mapping[_K, Mapping[_K, float]],
    actual: Mapping[_K, set[_K]],
    ctrl: dict[_K, set[_K]],
) -> None:
    """Complete ``ctrl`` (company -> controllers) for the companies ``left`` unsettled.

    The least fixpoint of the recursive majority rule over them: controller sets only grow, so a
    work list that revisits the companies held by a company whose set grew reaches it. ``ctrl``
    must already hold the final controllers of every settled company; ``beyond``, ``before`` and
    ``actual`` are as in :func:`sweep`.

    Examples
    --------
    A and B hold 60% of each other, so each controls the other. Once P is recorded as A's
    actual controller, P controls B too (through A's 60%).

    >>> owners = {"A": {"B": 60.0, "P": 40.0}, "B": {"A": 60.0, "P": 40.0}}
    >>> held = {"A": {"B": 60.0}, "B": {"A": 60.0}, "P": {"A": 40.0, "B": 40.0}}
    >>> ctrl: dict[str, set[str]] = {}
    >>> settle(["A", "B"], owners, held, {}, ctrl)
    >>> {k: sorted(v) for k, v in sorted(ctrl.items())}
    {'A': ['B'], 'B': ['A']}
    >>> settle(["A", "B"], owners, held, {"A": {"P"}}, ctrl)
    >>> {k: sorted(v) for k, v in sorted(ctrl.items())}
    {'A': ['B', 'P'], 'B': ['A', 'P']}
    """
    threshold = CONTROL_THRESHOLD + EPSILON
    unsettled = set(left)
    pending = deque(left)
    queued = set(left)
    while pending:
        company = pending.popleft()
        queued.discard(company)
        tally: dict[_K, float] = defaultdict(float)
        for owner, share in beyond.get(company, {}).items():
            if share <= 0.0:
                continue
            tally[owner] += share
            for controller in ctrl.get(owner, ()):
                tally[controller] += share
        found = {x for x, t in tally.items() if t > threshold and x != company}
        found.update(p for p in actual.get(company, ()) if p != company)
        if found != ctrl.get(company, set()):
            ctrl[company] = found
            for held in before.get(company, {}):
                if held in unsettled and held not in queued:
                    pending.append(held)
                    queued.add(held)
