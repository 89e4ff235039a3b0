"""Recall notices: what the rules' supply reaches give (spec/TRACEABILITY.md, rule R11).

A record that names a batch (``Sanction.batch_id``) and fires a rule with a ``SUPPLY_DOWNSTREAM``
reach (:mod:`graph.rules.supply_reach`) gives that reach's measures, notices such as
RECALL_NOTICE, to every company downstream of the batch at the date: every company a batch of the
batch's downstream closure (itself and whatever was made from it) was shipped to on or before
that date. The subject of the record is not its own receiver: it is the one at fault.

A notice is not a restriction. It has the record's time rules (in force from its start, not after
its end, its publicity period or the day it was revoked or repaired), but no score effect and no
effect on incentives: the engine's restrictions (:mod:`graph.rules.engine`) never include one.

Two entry points, which agree (as the engine's on-read and forward paths do):

* **on read** (:func:`notices_for`): the notices on some companies, with one
  :meth:`graph.store.GraphReader.supply` call upstream from all of them (what they received, and
  where it came from), whose records ride along; a ``get_many`` of the records' subjects follows
  only when a record in force can fire a supply reach.
* **forward** (:func:`materialise_notices`): every notice in the graph, from every record in force
  that names a batch, with one ``supply`` call downstream from all their batches.

Each notice carries the canonical path from the batch at fault to the receiver (batch ->
TRANSFORMED_INTO -> ... -> batch -SHIPPED-> company): the fewest links, then the smallest sequence
of node ids, then the smallest link keys. Every such path lies in both extractions and the choice
depends on nothing else, so both entry points give the same path.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TypeAlias

from graph.explain import Path, PathLink
from graph.model import (
    Company,
    Direction,
    Person,
    Sanction,
    Shipped,
    SupplyLink,
    TransformedInto,
)
from graph.rules.engine import sanction_in_force
from graph.rules.schema import Rule, RuleSet
from graph.rules.supply_reach import SupplyReach
from graph.store import GraphReader, SupplyGraph

__all__ = [
    "Notice",
    "gives_notices",
    "materialise_notices",
    "notices_for",
]


@dataclass(frozen=True, slots=True)
class Notice:
    """A notice a company holds at a date (a recall notice), with the record, rule and path
    behind it: the same shape as :class:`graph.rules.engine.Restriction`, a different kind."""

    entity_id: str
    """The receiver."""
    measure: str
    """A notice measure of the catalogue in force."""
    rule: str
    legal_basis: str
    source: Sanction = field(hash=False)
    """The record on the batch at fault."""
    path: Path
    """From the batch at fault to the receiver: batch -> ... -> batch -SHIPPED-> receiver."""

    @property
    def disputed(self) -> bool:
        """The source record is under objection (the notice still holds until resolved)."""
        return self.source.disputed

    @property
    def subject_id(self) -> str:
        return self.source.subject_id

    @property
    def batch_id(self) -> str:
        """The batch at fault (the record's)."""
        return self.path.nodes[0]

    @property
    def received_batch_id(self) -> str:
        """The batch the receiver was shipped: the batch at fault or one made from it."""
        return self.path.nodes[-2]

    @property
    def received(self) -> date | None:
        """The day of the shipment to the receiver on the path."""
        return self.path.links[-1].start

    def sort_key(self) -> tuple[object, ...]:
        return (self.entity_id, self.measure, self.rule, self.source.id, self.path.sort_key())


def gives_notices(rules: RuleSet) -> bool:
    """Whether any rule has a supply reach (else no notice exists and nothing need be read)."""
    return any(rule.supply_reaches for rule in rules.rules)


# -- on read -------------------------------------------------------------------------------------


def notices_for(
    store: GraphReader, company_ids: Iterable[str], as_of: date, rules: RuleSet
) -> dict[str, tuple[Notice, ...]]:
    """The notices on each of ``company_ids`` at ``as_of``, sorted; ids with none are left out.

    One ``supply`` call upstream from all the ids (a company seed stands for the batches shipped
    to it), whatever their number; ids that name no company are ignored.

    Examples
    --------
    >>> from graph.memory import MemoryStore
    >>> from graph.model import Batch, Product, Produced, SanctionList
    >>> from graph.rules.schema import load_rules
    >>> from graph.store import WriteBatch
    >>> store = MemoryStore()
    >>> _ = store.write(WriteBatch(
    ...     nodes=[Company("maker", "Maker"), Company("shop", "Shop"), Product("p", "Milk"),
    ...            Batch("b1", "p", "L1"),
    ...            Sanction("s1", "maker", SanctionList.PRODUCT_SAFETY_VIOLATION,
    ...                     start=date(2024, 3, 1), batch_id="b1")],
    ...     links=[Produced("maker", "b1", "e1", date(2024, 1, 1)),
    ...            Shipped("b1", "shop", "maker", "e2", date(2024, 2, 1), 10.0)]))
    >>> found = notices_for(store, ["shop"], date(2024, 6, 1), load_rules(None))
    >>> [(str(n.measure), n.rule, n.path.describe()) for n in found["shop"]]
    [('RECALL_NOTICE', 'R11', 'b1 -[SHIPPED]-> shop')]
    """
    wanted = list(dict.fromkeys(company_ids))
    if not wanted or not gives_notices(rules):
        return {}
    graph = store.supply(wanted, direction=Direction.IN, as_of=as_of)
    jobs = _jobs(store, graph.sanctions.values(), as_of, rules)
    if not jobs:
        return {}
    adjacency = _adjacency(graph)
    asked = set(wanted)
    found: dict[str, list[Notice]] = defaultdict(list)
    for sanction, rule, reach in jobs:
        for notice in _notices(sanction, rule, reach, adjacency, asked):
            found[notice.entity_id].append(notice)
    return {entity_id: tuple(_finalise(items)) for entity_id, items in found.items()}


# -- forward -------------------------------------------------------------------------------------


def materialise_notices(store: GraphReader, as_of: date, rules: RuleSet) -> Iterator[Notice]:
    """Every notice in the graph at ``as_of``, sorted (entity, measure, rule, source, path).

    Reads every record that may be live once, the subjects of those in force that name a batch
    in one ``get_many``, then their batches' downstream closures in one ``supply`` call. The
    result is sorted, so it is held in memory before the first item is yielded.
    """
    if not gives_notices(rules):
        return
    named = (s for s in store.sanctions(live_at=as_of) if s.batch_id is not None)
    jobs = _jobs(store, named, as_of, rules)
    if not jobs:
        return
    batches = sorted({s.batch_id for s, _, _ in jobs if s.batch_id is not None})
    adjacency = _adjacency(store.supply(batches, direction=Direction.OUT, as_of=as_of))
    found: list[Notice] = []
    for sanction, rule, reach in jobs:
        found.extend(_notices(sanction, rule, reach, adjacency, None))
    yield from _finalise(found)


# -- shared --------------------------------------------------------------------------------------

_Job: TypeAlias = tuple[Sanction, Rule, SupplyReach]
_Adjacency: TypeAlias = Mapping[str, Sequence[SupplyLink]]


def _jobs(
    store: GraphReader, records: Iterable[Sanction], as_of: date, rules: RuleSet
) -> list[_Job]:
    """Each (record, rule, supply reach) that gives notices at ``as_of``: the record names a
    batch, is in force, and fires the rule on its subject's kind."""
    lists = {name for rule in rules.rules if rule.supply_reaches for name in rule.trigger.lists}
    candidates = [
        s
        for s in records
        if s.batch_id is not None
        and s.list in lists
        and sanction_in_force(s, as_of, rules.publicity)
    ]
    if not candidates:
        return []
    subjects = store.get_many({s.subject_id for s in candidates})
    jobs: list[_Job] = []
    for sanction in sorted(candidates, key=lambda s: s.id):
        subject = subjects.get(sanction.subject_id)
        if not isinstance(subject, (Company, Person)):
            continue
        for rule in rules.rules_for(sanction, subject.kind):
            jobs.extend((sanction, rule, reach) for reach in rule.supply_reaches)
    return jobs


def _adjacency(graph: SupplyGraph) -> dict[str, list[SupplyLink]]:
    """batch -> the links a recall follows out of it: into batches made from it, and shipments."""
    adjacency: dict[str, list[SupplyLink]] = defaultdict(list)
    for link in graph.links.values():
        if isinstance(link, (Shipped, TransformedInto)):
            adjacency[link.source].append(link)
    return adjacency


def _notices(
    sanction: Sanction,
    rule: Rule,
    reach: SupplyReach,
    adjacency: _Adjacency,
    only: Collection[str] | None,
) -> Iterator[Notice]:
    assert sanction.batch_id is not None
    for receiver, path in _receivers(sanction.batch_id, adjacency).items():
        if receiver == sanction.subject_id or (only is not None and receiver not in only):
            continue
        for measure, basis in reach.measures.items():
            yield Notice(receiver, measure, rule.id, basis, sanction, path)


def _receivers(batch_id: str, adjacency: _Adjacency) -> dict[str, Path]:
    """Every company a batch of ``batch_id``'s closure was shipped to, with the canonical path.

    Breadth-first with parent pointers, one level at a time: a node's canonical path extends the
    canonical path of a node of the level before, so candidates compare by the rank of their
    parent within its level, then by link key, and the level is ranked by (parent rank, id). Linear
    in the closure, no path copied.
    """
    parent: dict[str, tuple[str, SupplyLink] | None] = {batch_id: None}
    rank = {batch_id: 0}
    frontier = [batch_id]
    while frontier:
        choice: dict[str, tuple[int, str, str, SupplyLink]] = {}
        for node in frontier:
            node_rank = rank[node]
            for link in adjacency.get(node, ()):
                other = link.target
                if other in parent:
                    continue
                current = choice.get(other)
                if current is None or (node_rank, link.key) < current[:2]:
                    choice[other] = (node_rank, link.key, node, link)
        frontier = sorted(choice, key=lambda other: (choice[other][0], other))
        for position, other in enumerate(frontier):
            rank[other] = position
            parent[other] = (choice[other][2], choice[other][3])
    paths: dict[str, Path] = {}
    for target, step in parent.items():
        if step is None or not isinstance(step[1], Shipped):
            continue  # only a shipment makes a receiver
        nodes = [target]
        links: list[PathLink] = []
        while step is not None:
            nodes.append(step[0])
            links.append(PathLink.of(step[1]))
            step = parent[step[0]]
        paths[target] = Path(tuple(reversed(nodes)), tuple(reversed(links)))
    return paths


def _finalise(found: Iterable[Notice]) -> list[Notice]:
    """One notice per (entity, measure, rule, source), through its smallest path; sorted."""
    best: dict[tuple[str, str, str, str], Notice] = {}
    for item in found:
        key = (item.entity_id, item.measure, item.rule, item.source.id)
        current = best.get(key)
        if current is None or item.path.sort_key() < current.path.sort_key():
            best[key] = item
    return sorted(best.values(), key=Notice.sort_key)
