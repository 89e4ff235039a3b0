"""Forward materialisation: every restriction in force at a day, read set-based.

:func:`materialise` costs a few big reads whatever the number of records:

1. the records that may be live that day, with the labels of their subjects; a
   :class:`ForwardReader` leaves out those past their maximum publicity period
   (:func:`period_cut`), most of them, so that they are neither shipped nor decoded;
2. one walk per (link type, direction) the rules take, seeded with every subject that needs it,
   bringing back links and the labels of the nodes reached, and nothing else: rule evaluation
   needs neither the nodes' properties nor their records, so they never leave the store;
3. rule evaluation in Python over the result, each subject's reach walked once per reach shape
   however many of its records and rules share it.

A store that can do 1 and 2 cheaper than its generic calls (a server: one statement per hop over
every walk's whole frontier, rows without node data) implements :class:`ForwardReader`; any other
store is read with ``sanctions``, ``labels_of`` and ``neighbourhood``. Both give the same links,
so the answers are those of :func:`graph.rules.engine.restrictions_for` entity by entity.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Protocol, TypeAlias, runtime_checkable

from graph.explain import Path
from graph.model import Company, EntityKind, Link, NodeLabel, Person, Sanction
from graph.rules.engine import (
    Restriction,
    _Group,
    _GroupKey,
    _Links,
    _measures,
    _reach_paths,
    add_days,
    add_months,
    sanction_in_force,
    shortest_per_source,
)
from graph.rules.schema import Reach, Rule, RuleSet
from graph.store import GraphReader, Step, Subgraph

__all__ = ["ForwardReader", "LinkWalk", "PeriodCut", "WalkedLinks", "materialise", "period_cut"]

LinkWalk: TypeAlias = tuple[Sequence[str], Sequence[Step], int]
"""A walk of :meth:`ForwardReader.walk_links`: seeds, steps, hops (as ``neighbourhood``)."""
WalkedLinks: TypeAlias = tuple[dict[str, Link], dict[str, str]]
"""The links a walk followed, by key, and the label of every node it reached, by id."""

_Measures: TypeAlias = list[tuple[str, str]]
_Plan: TypeAlias = tuple[_Measures, list[tuple[Reach, _Links, _Measures]]]
"""What one rule gives: its own measures (and bases), and per reach walked, the links and the
measures."""

_KINDS: dict[str, EntityKind] = {
    NodeLabel.COMPANY.value: EntityKind.COMPANY,
    NodeLabel.PERSON.value: EntityKind.PERSON,
}


@dataclass(frozen=True, slots=True)
class PeriodCut:
    """Which records have outlived their maximum publicity period on a day, as data a store can
    test where the records are (:func:`period_cut`).

    A record is over when its effective start (start, else decided) is before
    ``since[severity]``, its severity being its own, else ``defaults[list]``, else ``general``,
    unless its list is in ``open_lists``. Severities without a maximum are not in ``since``.
    """

    since: Mapping[str, date]
    defaults: Mapping[str, str]
    open_lists: frozenset[str]


def period_cut(rules: RuleSet, day: date) -> PeriodCut:
    """The :class:`PeriodCut` of ``rules``' publicity policy on ``day``: exactly the records
    :func:`graph.rules.engine.sanction_in_force` finds past their maximum period."""
    policy = rules.publicity
    since: dict[str, date] = {}
    for severity, period in policy.periods.items():
        if period.maximum_months is not None:
            since[severity.value] = _earliest_start(day, period.maximum_months)
    defaults = {
        name: entry.default_severity.value
        for name, entry in rules.lists.items()
        if entry.default_severity is not None
    }
    return PeriodCut(since, defaults, frozenset(str(name) for name in policy.no_maximum))


def _earliest_start(day: date, months: int) -> date:
    """The first start whose period of ``months`` still holds ``day`` (``day`` before
    ``add_months(start, months)``): the end of a period only grows with its start, and month
    ends are clamped, so the boundary is found by stepping from the month-wise guess."""
    start = add_months(day, -months)
    while start > date.min and add_months(add_days(start, -1), months) > day:
        start = add_days(start, -1)
    while start < date.max and add_months(start, months) <= day:
        start = add_days(start, 1)
    return start


@runtime_checkable
class ForwardReader(Protocol):
    """The two coarse reads of a forward materialisation, for stores that do them in bulk."""

    def live_records(
        self, day: date, cut: PeriodCut | None = None
    ) -> tuple[list[Sanction], dict[str, str]]:
        """Every record that may be live on ``day`` (:func:`graph.store.may_be_live`) and, with
        ``cut``, has not outlived its maximum publicity period, in any order, and the label of
        each of their subjects, by id."""
        ...

    def walk_links(self, walks: Sequence[LinkWalk], as_of: date) -> list[WalkedLinks]:
        """For each walk, what ``neighbourhood(seeds, steps=..., hops=..., as_of=as_of)`` would
        return, reduced to its links and the labels of the nodes reached."""
        ...


def materialise(
    store: GraphReader, as_of: date, rules: RuleSet, measure: str | None = None
) -> Iterator[Restriction]:
    """Every restriction in the graph at ``as_of`` (only ``measure``'s, when given), sorted.

    See the module doc for the reads. The result is sorted, so it is held in memory before the
    first item is yielded.
    """
    with _collector_paused():
        found = _materialise(store, as_of, rules, measure)
    yield from found


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for the duration (unless it was off already).

    A materialisation builds tens of thousands of objects (records, links, restrictions and
    their paths) that all live until it ends and hold no cycles: every collection they trigger
    scans them and the rest of the heap and frees nothing (up to a third of the client's time
    at 100k companies).
    Reference counting still frees what is dropped meanwhile.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _materialise(
    store: GraphReader, as_of: date, rules: RuleSet, measure: str | None
) -> list[Restriction]:
    policy = rules.publicity
    records, labels = _live_records(store, as_of, period_cut(rules, as_of))
    jobs: list[tuple[Sanction, Rule]] = []
    # The rules a record fires depend on its list, severity and subject kind only: thousands
    # of records share a few dozen of those.
    fired: dict[tuple[str, str | None, EntityKind], list[Rule]] = {}
    for sanction in records:
        kind = _KINDS.get(labels.get(sanction.subject_id, ""))
        if kind is None or not sanction_in_force(sanction, as_of, policy):
            continue
        trigger = (sanction.list, sanction.severity, kind)
        chosen = fired.get(trigger)
        if chosen is None:
            chosen = [
                rule
                for rule in rules.rules_for(sanction, kind)
                if measure is None or measure in rule.measures
            ]
            fired[trigger] = chosen
        jobs.extend((sanction, rule) for rule in chosen)

    groups: dict[_GroupKey, _Group] = defaultdict(_Group)
    for sanction, rule in jobs:
        for reach in rule.reaches:
            if measure is None or measure in reach.measures:
                group = groups[(reach.edge, reach.direction)]
                group.add(reach)
                group.seeds.add(sanction.subject_id)
    # Every subject of a group is a seed, so nothing is pruned: any entity may be a target.
    keys = sorted(groups)
    walks: list[LinkWalk] = [
        (sorted(groups[key].seeds), groups[key].steps(*key), groups[key].hops) for key in keys
    ]
    extractions: dict[_GroupKey, _Links] = {}
    for walk_key, (walked, reached) in zip(keys, _walk_links(store, walks, as_of), strict=True):
        subgraph = Subgraph()
        subgraph.links = walked
        kinds = {i: _KINDS[label] for i, label in reached.items() if label in _KINDS}
        extractions[walk_key] = _Links(subgraph, kinds)

    # A subject with several records, or a record several rules fire on, walks each reach
    # shape once: the paths depend on the subject and the reach, not on the record.
    paths: dict[tuple[str, int], dict[str, Path]] = {}
    # What a rule gives (its own measures, and per reach the links walked and the measures) is
    # worked out once per rule, not once per record; the one-node path of an own restriction
    # once per subject.
    plans: dict[int, _Plan] = {}
    own_paths: dict[str, Path] = {}
    found: list[Restriction] = []
    for sanction, rule in jobs:
        plan = plans.get(id(rule))  # rules hold dicts: not hashable
        if plan is None:
            plan = (list(_measures(rule.subject.measures, measure)), [])
            for reach in rule.reaches:
                links = extractions.get((reach.edge, reach.direction))
                wanted = list(_measures(reach.measures, measure))
                if links is not None and wanted:
                    plan[1].append((reach, links, wanted))
            plans[id(rule)] = plan
        own, reaches = plan
        subject = sanction.subject_id
        if own:
            path = own_paths.get(subject)
            if path is None:
                path = own_paths[subject] = Path((subject,))
            for item, basis in own:
                found.append(Restriction(subject, item, rule.id, basis, sanction, path))
        for reach, links, wanted in reaches:
            shape = (subject, id(reach))  # reaches hold dicts: not hashable
            targets = paths.get(shape)
            if targets is None:
                targets = _reach_paths(reach, subject, links, None)
                paths[shape] = targets
            for target, path in targets.items():
                for item, basis in wanted:
                    found.append(Restriction(target, item, rule.id, basis, sanction, path))
    return _finalise(found)


def _finalise(found: Iterable[Restriction]) -> list[Restriction]:
    """:func:`graph.rules.engine._finalise`'s answer, sorted on less: once one restriction per
    (entity, measure, rule, source) is left, those four fields order them, and the path that
    ends :meth:`Restriction.sort_key` (a tuple per link to build) never decides."""
    best = shortest_per_source(found)
    return [best[key] for key in sorted(best)]


def _live_records(
    store: GraphReader, day: date, cut: PeriodCut
) -> tuple[list[Sanction], Mapping[str, str]]:
    if isinstance(store, ForwardReader):
        # The records past their maximum period (most of the live ones) stay in the store.
        return store.live_records(day, cut)
    records = list(store.sanctions(live_at=day))
    labels = store.labels_of({s.subject_id for s in records})
    return records, {i: label.value for i, label in labels.items()}


def _walk_links(store: GraphReader, walks: Sequence[LinkWalk], as_of: date) -> list[WalkedLinks]:
    if isinstance(store, ForwardReader):
        return store.walk_links(walks, as_of)
    found: list[WalkedLinks] = []
    for seeds, steps, hops in walks:
        subgraph = store.neighbourhood(seeds, steps=steps, hops=hops, as_of=as_of)
        labels = {
            i: (NodeLabel.COMPANY if isinstance(n, Company) else NodeLabel.PERSON).value
            for i, n in subgraph.nodes.items()
            if isinstance(n, (Company, Person))
        }
        found.append((subgraph.links, labels))
    return found
