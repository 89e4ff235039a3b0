"""Beneficial owners of many companies at once: the vectorised engine (numpy).

The bulk form of :class:`graph.ownership.effective.EffectiveOwnership` and
:func:`graph.ownership.control.control_map`, which stay the reference and agree with it: the
acyclic part of the graph is settled level by level (:mod:`graph.ownership.levels`), and only the
companies in or below a cycle, or with a longer upstream than ``max_hops``, go through the shared
simple-path walk (:class:`graph.ownership.walk.SimplePaths`) and the control fixpoint
(:func:`graph.ownership.sweep.settle`), on their upstream alone.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from graph.model import Officer, OfficerRole, Ownership
from graph.ownership.holdings import BO_THRESHOLD, EPSILON, MAX_HOPS, PERCENT
from graph.ownership.levels import LevelGraph, codes_present, runs, sorted_unique
from graph.ownership.sweep import settle
from graph.ownership.walk import SimplePaths

__all__ = ["OwnerTable", "all_beneficial_owners"]


@dataclass(frozen=True, slots=True)
class OwnerTable:
    """Beneficial owners of many companies, one row per (company, person), as numpy columns.

    Rows are sorted by company, then by share (largest first). ``names`` maps the integer codes
    in ``company`` and ``person`` back to ids; ``companies`` holds the code of every company the
    table answers for (a company without beneficial owners has no row).

    Examples
    --------
    >>> table = all_beneficial_owners([Ownership("P", "A", 60), Ownership("Q", "A", 40)],
    ...                               {"P", "Q"})
    >>> len(table), table.names.tolist(), table.company.tolist(), table.share.tolist()
    (2, ['P', 'Q', 'A'], [2, 2], [60.0, 40.0])
    """

    names: npt.NDArray[np.object_]
    companies: npt.NDArray[np.int64]
    company: npt.NDArray[np.int64]
    person: npt.NDArray[np.int64]
    share: npt.NDArray[np.float64]
    """Effective share in percent (0 for a controller whose paths are all too long)."""
    controls: npt.NDArray[np.bool_]
    searched: npt.NDArray[np.int64]
    """Codes of the companies answered by the simple-path search (in or below a cycle, or with a
    longer upstream than ``max_hops``) rather than by the level pass."""

    def __len__(self) -> int:
        return int(self.company.size)

    def of(self, company_id: str) -> dict[str, tuple[float, bool]]:
        """The beneficial owners of one company: person id -> (percent, controls).

        Examples
        --------
        >>> all_beneficial_owners([Ownership("P", "A", 60)], {"P"}).of("A")
        {'P': (60.0, True)}
        """
        hits = np.flatnonzero(self.names == company_id)
        if hits.size == 0:
            return {}
        code = int(hits[0])
        lo, hi = np.searchsorted(self.company, [code, code + 1])
        return {
            str(self.names[p]): (float(s), bool(c))
            for p, s, c in zip(
                self.person[lo:hi], self.share[lo:hi], self.controls[lo:hi], strict=True
            )
        }

    def rows(self) -> Iterator[tuple[str, str, float, bool]]:
        """Every row as (company id, person id, percent, controls), in table order.

        Examples
        --------
        >>> list(all_beneficial_owners([Ownership("P", "A", 60)], {"P"}).rows())
        [('A', 'P', 60.0, True)]
        """
        names = self.names.tolist()
        for c, p, s, k in zip(
            self.company.tolist(),
            self.person.tolist(),
            self.share.tolist(),
            self.controls.tolist(),
            strict=True,
        ):
            yield names[c], names[p], s, k

    def to_dict(self) -> dict[str, dict[str, tuple[float, bool]]]:
        """Every company the table answers for -> its beneficial owners (as :meth:`of`).

        Examples
        --------
        >>> all_beneficial_owners([Ownership("P", "A", 10)], {"P"}).to_dict()
        {'A': {}}
        """
        names = self.names.tolist()
        result: dict[str, dict[str, tuple[float, bool]]] = {
            names[c]: {} for c in self.companies.tolist()
        }
        for company, person, share, controls in self.rows():
            result[company][person] = (share, controls)
        return result


def all_beneficial_owners(
    ownerships: Iterable[Ownership],
    persons: Container[str],
    *,
    threshold: float = BO_THRESHOLD,
    max_hops: int = MAX_HOPS,
    officers: Iterable[Officer] = (),
    companies: Iterable[str] | None = None,
) -> OwnerTable:
    """Beneficial owners of many companies at once (see :class:`OwnerTable`).

    A person is listed when their effective share is at least ``threshold`` or they control the
    company. ``companies`` defaults to every company with a recorded owner or actual controller.

    Parameters
    ----------
    ownerships
        Every OWNS link above the companies asked about (their whole upstream).
    persons
        The ids of natural persons (only they are beneficial owners).
    threshold
        Percent; exactly the threshold qualifies.
    max_hops
        Ownership paths longer than this are ignored for the share (not for control).
    officers
        Recorded positions; the ``actual_controller`` ones count for control.
    companies
        The companies to answer for (None: every company with an owner or actual controller).

    Returns
    -------
    OwnerTable
        One row per (company, beneficial owner).

    Examples
    --------
    >>> links = [Ownership("P", "D", 50), Ownership("D", "T", 30),
    ...          Ownership("P", "E", 80), Ownership("E", "T", 25), Ownership("Q", "T", 45)]
    >>> table = all_beneficial_owners(links, {"P", "Q"})
    >>> {k: round(v[0], 6) for k, v in sorted(table.of("T").items())}
    {'P': 35.0, 'Q': 45.0}
    >>> table.to_dict()["E"]
    {'P': (80.0, True)}
    """
    import pandas as pd  # a dependency of the package; imported here to keep graph/ light

    if max_hops < 1:
        raise ValueError(f"max_hops must be at least 1, got {max_hops}")
    links = list(ownerships)
    actual_pairs = [
        (o.person_id, o.company_id)
        for o in officers
        if o.role is OfficerRole.ACTUAL_CONTROLLER and o.person_id != o.company_id
    ]
    m, k = len(links), len(actual_pairs)
    every = np.empty(2 * m + 2 * k, dtype=object)
    every[:m] = [link.owner_id for link in links]
    every[m : 2 * m] = [link.company_id for link in links]
    every[2 * m : 2 * m + k] = [p for p, _ in actual_pairs]
    every[2 * m + k :] = [c for _, c in actual_pairs]
    codes, names = pd.factorize(every)
    codes = codes.astype(np.int64)
    names = np.asarray(names, dtype=object)
    n = names.size
    owner_code, company_code = codes[:m], codes[m : 2 * m]
    actual_x, actual_c = codes[2 * m : 2 * m + k], codes[2 * m + k :]
    # A range counts with its minimum, as in HoldingIndex (the table lists the sure owners).
    share = np.array([link.share_low for link in links], dtype=np.float64)
    positive = (share > 0.0) & (owner_code != company_code)  # NaN (no share) compares False
    graph = LevelGraph(owner_code[positive], company_code[positive], share[positive], n)
    is_person = np.asarray(pd.Index(names).isin(list(_members(persons, names))), dtype=bool)

    if companies is None:
        covered = codes_present(np.concatenate([company_code, actual_c]), n)
    else:
        lookup = pd.Index(names)
        wanted = list(dict.fromkeys(companies))
        found = lookup.get_indexer(wanted)
        covered = codes_present(found[found >= 0].astype(np.int64), n)
    in_scope = np.zeros(n, dtype=bool)
    in_scope[covered] = True
    hard = graph.unsettled(max_hops)
    easy = in_scope.copy()
    easy[hard] = False

    share_c, share_p, share_v = graph.person_vectors(is_person, max_hops)
    ctrl_c, ctrl_x = graph.controllers(actual_x, actual_c)
    cut = (threshold - EPSILON) / PERCENT
    big = (share_v >= cut) & easy[share_c]
    mine = is_person[ctrl_x] & easy[ctrl_c]
    # Rows: shares above the threshold, and person controllers (with whatever share they have).
    rows_c = np.concatenate([share_c[big], ctrl_c[mine]])
    rows_p = np.concatenate([share_p[big], ctrl_x[mine]])
    key = rows_c * n + rows_p
    key = sorted_unique(key)
    rows_c, rows_p = key // n, key % n
    value_of = np.zeros(key.size, dtype=np.float64)
    all_key = share_c * n + share_p
    by_key = np.argsort(all_key)
    sorted_key = all_key[by_key]
    where = np.searchsorted(sorted_key, key)
    inside = where < sorted_key.size
    match = np.zeros(key.size, dtype=bool)
    match[inside] = sorted_key[where[inside]] == key[inside]
    value_of[match] = share_v[by_key[where[match]]]
    controls = _member(key, sorted_unique(ctrl_c[mine] * n + ctrl_x[mine]))
    parts_c, parts_p = [rows_c], [rows_p]
    parts_v, parts_k = [value_of * PERCENT], [controls]

    # What the level pass could not settle: the simple-path search, on its upstream only.
    hard = hard[in_scope[hard]]
    if hard.size:
        extra = _search(graph, hard, is_person, cut, max_hops, ctrl_c, ctrl_x, actual_x, actual_c)
        if extra:
            c_e, p_e, v_e, k_e = zip(*extra, strict=True)
            parts_c.append(np.array(c_e, dtype=np.int64))
            parts_p.append(np.array(p_e, dtype=np.int64))
            parts_v.append(np.array(v_e, dtype=np.float64))
            parts_k.append(np.array(k_e, dtype=bool))
    all_c = np.concatenate(parts_c)
    all_v = np.concatenate(parts_v)
    order = np.lexsort((-all_v, all_c))
    return OwnerTable(
        names=names,
        companies=covered,
        company=all_c[order],
        person=np.concatenate(parts_p)[order],
        share=all_v[order],
        controls=np.concatenate(parts_k)[order],
        searched=hard,
    )


def _members(persons: Container[str], names: npt.NDArray[np.object_]) -> Iterable[str]:
    if isinstance(persons, (set, frozenset, list, tuple, dict)):
        return persons
    return (name for name in names.tolist() if name in persons)


def _member(values: npt.NDArray[np.int64], ordered: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """``values`` in the sorted array ``ordered``, elementwise."""
    if ordered.size == 0:
        return np.zeros(values.size, dtype=bool)
    where = np.minimum(np.searchsorted(ordered, values), ordered.size - 1)
    return np.asarray(ordered[where] == values, dtype=bool)


def _search(
    graph: LevelGraph,
    hard: npt.NDArray[np.int64],
    is_person: npt.NDArray[np.bool_],
    cut: float,
    max_hops: int,
    ctrl_c: npt.NDArray[np.int64],
    ctrl_x: npt.NDArray[np.int64],
    actual_x: npt.NDArray[np.int64],
    actual_c: npt.NDArray[np.int64],
) -> list[tuple[int, int, float, bool]]:
    """Rows (company, person, percent, controls) for the companies the level pass left: the
    simple-path walk over their upstream, stopping at settled companies (whose person vectors
    the level pass computed), and the control fixpoint over the unsettled ones."""
    level = graph.level
    upstream = graph.upstream_of(hard)
    edge = upstream[graph.dst]
    targets, starts, sizes = runs(graph.dst[edge])  # edges are sorted by (company, owner)
    sources = graph.src[edge].tolist()
    percents = graph.val[edge].tolist()
    owners_of: dict[int, dict[int, float]] = {
        c: dict(zip(sources[a : a + k], percents[a : a + k], strict=True))
        for c, a, k in zip(targets.tolist(), starts.tolist(), sizes.tolist(), strict=True)
    }
    codes = np.flatnonzero(upstream)
    level_of = dict(zip(codes.tolist(), level[codes].tolist(), strict=True))
    person = is_person.tolist()
    start, count = graph.vector_start, graph.vector_count
    flat_p, flat_v = graph.vector_person, graph.vector_value
    memo: dict[int, list[tuple[int, float]]] = {}

    def vector(node: int) -> list[tuple[int, float]]:
        found = memo.get(node)
        if found is None:
            a, k = int(start[node]), int(count[node])
            found = list(zip(flat_p[a : a + k].tolist(), flat_v[a : a + k].tolist(), strict=True))
            memo[node] = found
        return found

    def fractions(target: int) -> dict[int, float]:
        acc: dict[int, float] = {}
        walk = SimplePaths(target, owners_of, max_hops=max_hops)
        for other, value, hops in walk:
            if person[other]:
                acc[other] = acc.get(other, 0.0) + value
            depth = level_of[other]
            if 0 < depth <= max_hops - hops:
                # Settled within reach: its person vector sums every path beyond it.
                for far, far_value in vector(other):
                    acc[far] = acc.get(far, 0.0) + value * far_value
                walk.skip()
        return acc

    # Control: settled companies' controllers are final; the rest is the fixpoint.
    ctrl: dict[int, set[int]] = {}
    known = upstream[ctrl_c] & (level[ctrl_c] >= 0)
    for c, x in zip(ctrl_c[known].tolist(), ctrl_x[known].tolist(), strict=True):
        ctrl.setdefault(c, set()).add(x)
    unsettled = [c for c in targets.tolist() if level_of[c] < 0]
    loose = set(unsettled)
    beyond = {c: owners_of[c] for c in unsettled}
    before: dict[int, dict[int, float]] = {}
    for c in unsettled:
        for o, share in owners_of[c].items():
            if o in loose:
                before.setdefault(o, {})[c] = share
    actual: dict[int, set[int]] = {}
    for x, c in zip(actual_x.tolist(), actual_c.tolist(), strict=True):
        if c in loose:
            actual.setdefault(c, set()).add(x)
    settle(unsettled, beyond, before, actual, ctrl)

    rows: list[tuple[int, int, float, bool]] = []
    for company in hard.tolist():
        shares = fractions(company)
        controllers = ctrl.get(company, set())
        for p, v in shares.items():
            if v >= cut or p in controllers:
                rows.append((company, p, v * PERCENT, p in controllers))
        for x in controllers:
            if x not in shares and person[x]:
                rows.append((company, x, 0.0, True))
    return rows
