"""Forward materialisation: every restriction in force at a day, read set-based.

:func:`materialise` costs a few big reads whatever the number of records:

1. the records that may be live that day, with the labels of their subjects;
2. one walk per (link type, direction) the rules take, seeded with every subject that needs it,
   bringing back links and the labels of the nodes reached, and nothing else: rule evaluation
   needs neither the nodes' properties nor their records, so they never leave the store;
3. rule evaluation in Python over the result, each subject's reach walked once per reach shape
   however many of its records and rules share it.

A store that can do 1 and 2 cheaper than its generic calls (a server: one statement per hop over
the whole frontier, rows without node data) implements :class:`ForwardReader`; any other store is
read with ``sanctions``, ``labels_of`` and ``neighbourhood``. Both give the same links, so the
answers are those of :func:`graph.rules.engine.restrictions_for` entity by entity.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from typing import Protocol, TypeAlias, runtime_checkable

from graph.explain import Path
from graph.model import Company, EntityKind, Link, NodeLabel, Person, Sanction
from graph.rules.engine import (
    Restriction,
    _finalise,
    _Group,
    _GroupKey,
    _Links,
    _own_restrictions,
    _reach_paths,
    sanction_in_force,
)
from graph.rules.schema import Rule, RuleSet
from graph.store import GraphReader, Step, Subgraph

__all__ = ["ForwardReader", "LinkWalk", "WalkedLinks", "materialise"]

LinkWalk: TypeAlias = tuple[Sequence[str], Sequence[Step], int]
"""A walk of :meth:`ForwardReader.walk_links`: seeds, steps, hops (as ``neighbourhood``)."""
WalkedLinks: TypeAlias = tuple[dict[str, Link], dict[str, str]]
"""The links a walk followed, by key, and the label of every node it reached, by id."""

_KINDS: dict[str, EntityKind] = {
    NodeLabel.COMPANY.value: EntityKind.COMPANY,
    NodeLabel.PERSON.value: EntityKind.PERSON,
}


@runtime_checkable
class ForwardReader(Protocol):
    """The two coarse reads of a forward materialisation, for stores that do them in bulk."""

    def live_records(self, day: date) -> tuple[list[Sanction], dict[str, str]]:
        """Every record that may be live on ``day`` (:func:`graph.store.may_be_live`), in any
        order, and the label of each of their subjects, by id."""
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
    policy = rules.publicity
    records, labels = _live_records(store, as_of)
    jobs: list[tuple[Sanction, Rule]] = []
    for sanction in records:
        kind = _KINDS.get(labels.get(sanction.subject_id, ""))
        if kind is None or not sanction_in_force(sanction, as_of, policy):
            continue
        for rule in rules.rules_for(sanction, kind):
            if measure is None or measure in rule.measures:
                jobs.append((sanction, rule))

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
    found: list[Restriction] = []
    for sanction, rule in jobs:
        found.extend(_own_restrictions(sanction, rule, measure))
        for reach in rule.reaches:
            links = extractions.get((reach.edge, reach.direction))
            wanted = [
                (item, basis)
                for item, basis in reach.measures.items()
                if measure is None or item == measure
            ]
            if links is None or not wanted:
                continue
            shape = (sanction.subject_id, id(reach))  # reaches hold dicts: not hashable
            targets = paths.get(shape)
            if targets is None:
                targets = _reach_paths(reach, sanction.subject_id, links, None)
                paths[shape] = targets
            for target, path in targets.items():
                for item, basis in wanted:
                    found.append(Restriction(target, item, rule.id, basis, sanction, path))
    yield from _finalise(found)


def _live_records(store: GraphReader, day: date) -> tuple[list[Sanction], Mapping[str, str]]:
    if isinstance(store, ForwardReader):
        return store.live_records(day)
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
