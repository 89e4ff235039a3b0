"""The joint-punishment engine: which restrictions hold at a date, each with its path and basis.

Pure Python over :class:`graph.store.Subgraph` values: the store only extracts typed
neighbourhoods, so every backend gives the same answers. Two entry points:

* **on read** (:func:`restrictions_for`, :func:`lookup`): the restrictions on one entity. The
  extraction runs *backwards* from the entity along the rule set's reaches, so it costs a few
  ``neighbourhood`` calls whatever the size of the graph:

  1. ``[entity]``, OFFICER_OF both ways, 1 hop (with the union of the rules' role filters): the
     entity's officers (a company) or positions (a person), with their sanction records. One hop
     from a company reaches a person without expanding that person's other positions, so a
     person with 100k positions does not slow a lookup of one of the companies.
  2. For a company, when some reach goes down ownership (R1: companies a subject controls): the
     OWNS closure *up* from it. For a person, or a company that could control a subject (R2):
     the OWNS closure *down* from it. When a reach has a control condition the closure also
     follows ``actual_controller`` positions (an actual controller controls, and that control
     propagates: :mod:`graph.ownership`), and it runs to :data:`CLOSURE_HOPS`, because control
     is decided over the whole closure whatever the reach's hop limit. Closures only ever grow
     one way, so a holder of 100k stakes is reached but never expanded.

  A reach can only end at some kinds of entity (OFFICER_OF IN at persons, OWNS OUT at
  companies, ...), so each closure starts only from the seeds of the kinds it can reach.

  All of it is one ``extract`` read (one transaction on a server), pruned to the walks that lead
  to records that may be live (:mod:`graph.extraction`): only a subject in force acts, so a
  nominee's thousands of clean positions stay in the store. A company's officers come whole.

  Each candidate subject found (a node of an extraction with a triggering sanction in force) is
  then evaluated exactly as the forward engine would, restricted to the one entity.

* **forward** (:func:`materialise`, graph/rules/forward.py): every restriction in the graph, from
  every sanction in force. Set-based: the live records with their subjects' labels in one read,
  then one walk per (link type, direction) over all subjects, links and labels only.

Paths are canonical so that both directions agree: along OFFICER_OF the link with the smallest
natural key; along OWNS the shortest path in force from the subject (hops are counted on it), and
among shortest paths the one whose node ids are lexicographically smallest. One source gives an
entity a measure once per rule: when several paths lead there, the shortest (then smallest) wins.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Final, TypeAlias

from graph.errors import NotFound
from graph.explain import Path, PathLink
from graph.extraction import Extraction
from graph.model import (
    Commitment,
    Company,
    Direction,
    EntityKind,
    LinkType,
    NodeLabel,
    Officer,
    OfficerRole,
    Ownership,
    Person,
    Sanction,
    SanctionStatus,
)
from graph.ownership import HoldingIndex, control_map, controlled_companies
from graph.rules.schema import PublicityPolicy, Reach, Rule, RuleSet
from graph.store import CLOSURE_HOPS, GraphReader, Step, Subgraph

__all__ = [
    "CLOSURE_HOPS",
    "EntityLookup",
    "Path",
    "PathLink",
    "Restriction",
    "add_months",
    "lookup",
    "lookup_many",
    "materialise",
    "restrictions_for",
    "sanction_ended_on",
    "sanction_in_force",
]

Entity: TypeAlias = Company | Person


# -- time --------------------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months; a day past the month's end becomes its last day.

    Examples
    --------
    >>> add_months(date(2024, 1, 31), 1)
    datetime.date(2024, 2, 29)
    >>> add_months(date(2024, 2, 29), 12)
    datetime.date(2025, 2, 28)

    Past the ends of the calendar it saturates (``date.min``, ``date.max``), so that a window
    reaching before year 1 or a period running past 9999 still compares correctly.

    >>> add_months(date(1, 6, 1), -24)
    datetime.date(1, 1, 1)
    """
    total = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(total, 12)
    if year < date.min.year:
        return date.min
    if year > date.max.year:
        return date.max
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(day.day, last))


def add_days(day: date, days: int) -> date:
    """``day`` plus ``days``, saturating at ``date.min``/``date.max`` like :func:`add_months`
    (registries write 9999-12-31 for "no end").

    >>> add_days(date(9999, 12, 30), 20)
    datetime.date(9999, 12, 31)
    """
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


def _period_end(sanction: Sanction, policy: PublicityPolicy) -> date | None:
    """The exclusive end of the publicity period, status aside: ``end``, capped by the maximum."""
    end = sanction.end
    maximum = policy.maximum_months(sanction)
    start = sanction.effective_start
    if maximum is not None and start is not None:
        cap = add_months(start, maximum)
        end = cap if end is None else min(end, cap)
    return end


def sanction_ended_on(sanction: Sanction, policy: PublicityPolicy) -> date | None:
    """The first day ``sanction`` no longer counts, or None when nothing ends it.

    The earliest of: its ``end``; ``start + maximum publicity period`` (when its list and
    severity have a maximum); for a repaired or revoked record, the day its status changed. A
    repaired or revoked record without a ``status_date`` is taken to have changed at its start:
    nothing says it ever counted.

    Examples
    --------
    >>> from graph.rules.schema import load_rules
    >>> from graph.model import SanctionList
    >>> policy = load_rules(None).publicity
    >>> s = Sanction("s1", "c1", SanctionList.SERIOUS_DISHONEST, start=date(2020, 3, 1))
    >>> sanction_ended_on(s, policy)  # serious: at most 3 years
    datetime.date(2023, 3, 1)
    """
    end = _period_end(sanction, policy)
    if sanction.status is SanctionStatus.ACTIVE:
        return end
    changed = sanction.status_date
    if changed is None:
        changed = sanction.effective_start
        if changed is None:
            return end
    return changed if end is None else min(end, changed)


def sanction_in_force(sanction: Sanction, as_of: date, policy: PublicityPolicy) -> bool:
    """Whether ``sanction`` produces measures at ``as_of`` (spec/DOMAIN.md "Time").

    In force when ``effective_start <= as_of < ended_on`` (missing bounds are open) and, for a
    repaired or revoked record, ``as_of`` is before the day its status changed.

    Examples
    --------
    >>> from graph.rules.schema import load_rules
    >>> from graph.model import SanctionList
    >>> policy = load_rules(None).publicity
    >>> s = Sanction("s1", "c1", SanctionList.SERIOUS_DISHONEST, start=date(2020, 3, 1))
    >>> [sanction_in_force(s, d, policy) for d in (date(2020, 2, 29), date(2023, 2, 28),
    ...                                            date(2023, 3, 1))]
    [False, True, False]
    """
    if sanction.status is not SanctionStatus.ACTIVE and (
        sanction.status_date is None or as_of >= sanction.status_date
    ):
        return False
    start = sanction.effective_start
    if start is not None and as_of < start:
        return False
    end = sanction_ended_on(sanction, policy)
    return end is None or as_of < end


# -- values ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Restriction:
    """A measure an entity is subject to at a date, with the sanction, rule and path behind it."""

    entity_id: str
    measure: str
    """A restriction measure of the catalogue in force."""
    rule: str
    """The id of the rule that produced it."""
    legal_basis: str
    source: Sanction = field(hash=False)
    path: Path

    @property
    def disputed(self) -> bool:
        """The source record is under objection (the restriction still holds until resolved)."""
        return self.source.disputed

    @property
    def subject_id(self) -> str:
        return self.source.subject_id

    @property
    def own(self) -> bool:
        """Whether it comes from the entity's own sanction (not from a linked entity's)."""
        return self.source.subject_id == self.entity_id

    def sort_key(self) -> tuple[object, ...]:
        return (self.entity_id, self.measure, self.rule, self.source.id, self.path.sort_key())


@dataclass(frozen=True, slots=True)
class EntityLookup:
    """What the on-read extraction found about one entity."""

    entity: Entity
    sanctions: tuple[Sanction, ...]
    """Every own record, any status or date, by id."""
    restrictions: tuple[Restriction, ...]
    nodes: Mapping[str, Entity]
    """Every entity the extraction saw: the nodes of every path among them."""
    commitments: tuple[Commitment, ...] = ()
    """Every commitment the entity made, any outcome, by id."""
    officers: tuple[Officer, ...] = ()
    """The entity's officer links in force that the extraction followed, by natural key: all of
    a company's officers (of the roles the rules or ``officer_roles`` name); of a person's
    positions, those in entities with a record that may be live."""
    related_sanctions: Mapping[str, Sanction] = field(default_factory=dict)
    """Every record of the entities of the first extraction (the entity, its officers, and its
    positions in entities with a record that may be live), by id."""


# -- link indexes and reach evaluation ---------------------------------------------------------

_ControlLink: TypeAlias = Ownership | Officer
"""A link that can carry control: a holding, or an ``actual_controller`` position."""
_Walk: TypeAlias = tuple[tuple[str, ...], tuple[_ControlLink, ...]]


class _Links:
    """The links of one extraction, indexed for walking from any node either way."""

    def __init__(self, subgraph: Subgraph, kinds: Mapping[str, EntityKind] | None = None) -> None:
        self.nodes = subgraph.nodes
        self._kinds = kinds
        """The kind of every node, when the subgraph holds links only (graph/rules/forward.py)."""
        self.sanctions = subgraph.sanctions
        self.officers_of_company: dict[str, list[Officer]] = defaultdict(list)
        self.positions_of_person: dict[str, list[Officer]] = defaultdict(list)
        self.down: dict[str, list[Ownership]] = defaultdict(list)
        """owner -> OWNS links from it."""
        self.up: dict[str, list[Ownership]] = defaultdict(list)
        """company -> OWNS links to it."""
        self.control_down: dict[str, list[_ControlLink]] = defaultdict(list)
        """controller -> OWNS links from it and its ``actual_controller`` positions."""
        self.control_up: dict[str, list[_ControlLink]] = defaultdict(list)
        """company -> OWNS links to it and the positions of its ``actual_controller`` officers."""
        ownerships: list[Ownership] = []
        self.actual_controllers: list[Officer] = []
        for link in subgraph.links.values():
            if isinstance(link, Officer):
                self.officers_of_company[link.company_id].append(link)
                self.positions_of_person[link.person_id].append(link)
                if link.role is OfficerRole.ACTUAL_CONTROLLER:
                    self.actual_controllers.append(link)
                    self.control_down[link.person_id].append(link)
                    self.control_up[link.company_id].append(link)
            elif isinstance(link, Ownership):
                self.down[link.owner_id].append(link)
                self.up[link.company_id].append(link)
                self.control_down[link.owner_id].append(link)
                self.control_up[link.company_id].append(link)
                ownerships.append(link)
        self._ownerships = ownerships
        self._index: HoldingIndex | None = None
        self._controlled: dict[str, frozenset[str]] = {}
        self._control: dict[str, set[str]] | None = None

    @property
    def index(self) -> HoldingIndex:
        if self._index is None:
            self._index = HoldingIndex(self._ownerships)
        return self._index

    def controlled_by(self, owner_id: str) -> frozenset[str]:
        """The companies ``owner_id`` controls (the extraction must hold its closure below)."""
        found = self._controlled.get(owner_id)
        if found is None:
            found = frozenset(controlled_companies(owner_id, self.index, self.actual_controllers))
            self._controlled[owner_id] = found
        return found

    def controllers_of(self, company_id: str) -> set[str]:
        """Who controls ``company_id`` (the extraction must hold its closure above)."""
        if self._control is None:
            # One fixpoint over the whole extraction serves every subject (forward runs ask
            # for thousands); per-company calls would redo it each time.
            self._control = control_map(self.index, self.actual_controllers)
        return set(self._control.get(company_id, ()))

    def kind_of(self, node_id: str) -> EntityKind | None:
        if self._kinds is not None:
            return self._kinds.get(node_id)
        node = self.nodes.get(node_id)
        return node.kind if isinstance(node, (Company, Person)) else None


def _shortest_walks(
    start: str,
    adjacency: Mapping[str, Sequence[_ControlLink]],
    downward: bool,
    max_hops: int | None,
    wanted: set[str] | None = None,
) -> dict[str, _Walk]:
    """Breadth-first from ``start``: for every node reached (or only those ``wanted``, stopping
    once all are found), the canonical shortest walk to it.

    Canonical: fewest links, then the smallest sequence of node ids, then the smallest link keys.
    A node's best walk extends a best walk of the level before, so comparing two candidates only
    needs the rank of their parents' walks within that level, then the link key: one pass per
    level with parent pointers, no walk copied. It does not depend on which way the extraction
    was made, so forward and on-read agree.
    """
    parent: dict[str, tuple[str, _ControlLink] | None] = {start: None}
    rank = {start: 0}
    frontier = [start]
    remaining = None if wanted is None else wanted - {start}
    depth = 0
    while frontier and (max_hops is None or depth < max_hops):
        if remaining is not None and not remaining:
            break
        choice: dict[str, tuple[int, str, str, _ControlLink]] = {}
        for node in frontier:
            node_rank = rank[node]
            for link in adjacency.get(node, ()):
                other = link.target if downward else link.source
                if other in parent:
                    continue
                current = choice.get(other)
                if current is None or (node_rank, link.key) < current[:2]:
                    choice[other] = (node_rank, link.key, node, link)
        frontier = sorted(choice, key=lambda other: (choice[other][0], other))
        for position, other in enumerate(frontier):
            rank[other] = position
            parent[other] = (choice[other][2], choice[other][3])
        if remaining is not None:
            remaining.difference_update(choice)
        depth += 1
    targets = parent if wanted is None else [t for t in (*wanted, start) if t in parent]
    walks: dict[str, _Walk] = {}
    for target in targets:
        nodes = [target]
        steps: list[_ControlLink] = []
        step = parent[target]
        while step is not None:
            nodes.append(step[0])
            steps.append(step[1])
            step = parent[step[0]]
        walks[target] = (tuple(reversed(nodes)), tuple(reversed(steps)))
    return walks


def _reach_paths(reach: Reach, subject_id: str, links: _Links, only: str | None) -> dict[str, Path]:
    """The entities ``reach`` leads to from ``subject_id`` in this extraction, with their paths.

    ``only``: evaluate for that one entity (the on-read engine); the extraction then holds what
    decides that entity's case but not necessarily anyone else's.
    """
    if reach.edge is LinkType.OFFICER_OF:
        found = _officer_paths(reach, subject_id, links, only)
    else:
        found = _ownership_paths(reach, subject_id, links, only)
    kinds = reach.target_kinds
    return {
        target: path
        for target, path in found.items()
        if target != subject_id and links.kind_of(target) in kinds
    }


def _officer_paths(
    reach: Reach, subject_id: str, links: _Links, only: str | None
) -> dict[str, Path]:
    inward = reach.direction is Direction.IN
    candidates = (
        links.officers_of_company.get(subject_id, ())
        if inward
        else links.positions_of_person.get(subject_id, ())
    )
    chosen: dict[str, Officer] = {}
    for link in candidates:
        if reach.roles is not None and link.role not in reach.roles:
            continue
        other = link.person_id if inward else link.company_id
        if only is not None and other != only:
            continue
        # Several roles in one company: one restriction, through the smallest link key.
        if other not in chosen or link.key < chosen[other].key:
            chosen[other] = link
    return {
        other: Path((subject_id, other), (PathLink.of(link),)) for other, link in chosen.items()
    }


def _ownership_paths(
    reach: Reach, subject_id: str, links: _Links, only: str | None
) -> dict[str, Path]:
    down = reach.direction is Direction.OUT
    # Control also passes through recorded actual controllers (graph/ownership.py), so a control
    # reach walks their positions too; a plain ownership reach walks holdings only.
    adjacency: Mapping[str, Sequence[_ControlLink]]
    if reach.control:
        adjacency = links.control_down if down else links.control_up
    else:
        adjacency = links.down if down else links.up
    wanted: set[str] | None = None if only is None else {only}
    if reach.control:
        if down:
            controlled = set(links.controlled_by(subject_id))
        elif only is not None:
            # The extraction is the closure below ``only``: enough to decide what it controls,
            # not who else controls the subject.
            controlled = {only} if subject_id in links.controlled_by(only) else set()
        else:
            controlled = links.controllers_of(subject_id)
        wanted = controlled if wanted is None else wanted & controlled
    walks = _shortest_walks(subject_id, adjacency, down, reach.max_hops, wanted)
    targets = set(walks) if wanted is None else wanted & set(walks)
    return {
        target: Path(walks[target][0], tuple(PathLink.of(link) for link in walks[target][1]))
        for target in targets
    }


def _reach_hops(reach: Reach) -> int:
    """How deep an extraction must go for ``reach``: control needs the whole closure."""
    if reach.edge is LinkType.OFFICER_OF:
        return 1
    if reach.control or reach.max_hops is None:
        return CLOSURE_HOPS
    return reach.max_hops


_GroupKey: TypeAlias = tuple[LinkType, Direction]
"""A reach's link type and direction seen from the subject: reaches sharing one share an
extraction."""

_CONTROLLER_ROLES: Final = frozenset({OfficerRole.ACTUAL_CONTROLLER})


@dataclass(slots=True)
class _Group:
    roles: set[OfficerRole] | None = field(default_factory=set)
    hops: int = 0
    control: bool = False
    seeds: set[str] = field(default_factory=set)

    def add(self, reach: Reach) -> None:
        if self.roles is not None:
            if reach.roles is None:
                self.roles = None
            else:
                self.roles.update(reach.roles)
        self.hops = max(self.hops, _reach_hops(reach))
        self.control = self.control or reach.control

    def steps(self, link: LinkType, direction: Direction) -> list[Step]:
        """The steps of this group's extraction, walking ``direction``."""
        if link is LinkType.OFFICER_OF:
            roles = None if self.roles is None else frozenset(self.roles)
            return [Step(link, direction, roles)]
        steps = [Step(LinkType.OWNS, direction)]
        if self.control:
            # Actual controllers hold control like a majority owner; persons have no incoming
            # links, so this adds one hop at the top of a closure and never expands a person.
            steps.append(Step(LinkType.OFFICER_OF, direction, _CONTROLLER_ROLES))
        return steps


def _reverse(direction: Direction) -> Direction:
    return Direction.IN if direction is Direction.OUT else Direction.OUT


def _measures(measures: Mapping[str, str], only: str | None) -> Iterator[tuple[str, str]]:
    for measure, basis in measures.items():
        if only is None or measure == only:
            yield measure, basis


def shortest_per_source(
    found: Iterable[Restriction],
) -> dict[tuple[str, str, str, str], Restriction]:
    """One restriction per (entity, measure, rule, source): the one with the least path."""
    best: dict[tuple[str, str, str, str], Restriction] = {}
    for item in found:
        key = (item.entity_id, item.measure, item.rule, item.source.id)
        current = best.get(key)
        if current is None or item.path.sort_key() < current.path.sort_key():
            best[key] = item
    return best


def _finalise(found: Iterable[Restriction]) -> list[Restriction]:
    """One restriction per (entity, measure, rule, source), through its shortest path; sorted."""
    return sorted(shortest_per_source(found).values(), key=Restriction.sort_key)


def _own_restrictions(sanction: Sanction, rule: Rule, measure: str | None) -> Iterator[Restriction]:
    path = Path((sanction.subject_id,))
    for item, basis in _measures(rule.subject.measures, measure):
        yield Restriction(sanction.subject_id, item, rule.id, basis, sanction, path)


def _reach_restrictions(
    sanction: Sanction,
    rule: Rule,
    reach: Reach,
    links: _Links,
    only: str | None,
    measure: str | None,
) -> Iterator[Restriction]:
    measures = list(_measures(reach.measures, measure))
    if not measures:
        return
    for target, path in _reach_paths(reach, sanction.subject_id, links, only).items():
        for item, basis in measures:
            yield Restriction(target, item, rule.id, basis, sanction, path)


# -- on read -----------------------------------------------------------------------------------


def lookup(
    store: GraphReader,
    entity_id: str,
    as_of: date,
    rules: RuleSet,
    *,
    officer_roles: frozenset[OfficerRole] = frozenset(),
) -> EntityLookup:
    """Extract what decides one entity's restrictions, and evaluate them (see the module doc).

    ``officer_roles``: officers of these roles come with the first call too (whatever the rules
    walk), with their own records, so that a question about them (the principal persons of
    incentive I1) needs no other read of the entity's neighbourhood.

    Raises
    ------
    NotFound
        When no company or person has this id.

    Examples
    --------
    >>> from graph.memory import MemoryStore
    >>> from graph.model import Company, SanctionList
    >>> from graph.rules.schema import load_rules
    >>> from graph.store import WriteBatch
    >>> store = MemoryStore()
    >>> _ = store.write(WriteBatch(nodes=[Company("c1", "Acme"),
    ...                                   Sanction("s1", "c1", SanctionList.ABNORMAL_OPERATION)]))
    >>> found = lookup(store, "c1", date(2024, 1, 1), load_rules(None))
    >>> [(str(r.measure), r.rule) for r in found.restrictions]
    [('ENHANCED_SUPERVISION', 'R6'), ('HONOR_BAN', 'R6')]
    """
    found = lookup_many(store, [entity_id], as_of, rules, officer_roles=officer_roles)
    if entity_id not in found:
        raise NotFound(f"no company or person has id {entity_id!r}")
    return found[entity_id]


def lookup_many(
    store: GraphReader,
    entity_ids: Iterable[str],
    as_of: date,
    rules: RuleSet,
    *,
    officer_roles: frozenset[OfficerRole] = frozenset(),
) -> dict[str, EntityLookup]:
    """:func:`lookup` for several entities with the same few ``neighbourhood`` calls (their
    union is extracted once); ids that name no company or person are left out.

    Each entity is evaluated exactly as :func:`lookup` would on its own: what the other seeds add
    to the extraction are links and records in force as well, and every restriction is still
    evaluated for the one entity it is about.
    """
    seeds = list(dict.fromkeys(entity_ids))
    groups: dict[_GroupKey, _Group] = defaultdict(_Group)
    for rule in rules.rules:
        for reach in rule.reaches:
            groups[(reach.edge, reach.direction)].add(reach)

    # One read (one transaction on a server) for every extraction. Pruned to what leads to a
    # record that may be live (graph/extraction.py): a reach only acts from a subject in force,
    # so a nominee's thousands of clean positions, or the clean part of a closure, never move.
    #
    # 1. The entities, their records, and their officer links both ways (only one way exists
    #    for a company or a person, so both are asked for before the kind is known). A
    #    company's officers come whole (they are few, and `officers` lists them); a person's
    #    positions, pruned.
    officer_steps = [
        step
        for link, direction in sorted(groups)
        if link is LinkType.OFFICER_OF
        for step in groups[(link, direction)].steps(link, _reverse(direction))
    ]
    if officer_roles:
        officer_steps = _with_roles(officer_steps, officer_roles)
    officers_in = tuple(s for s in officer_steps if s.direction is Direction.IN)
    requests = [
        Extraction(tuple(seeds), officers_in, 1 if officers_in else 0, as_of),
        Extraction(
            tuple(seeds),
            tuple(s for s in officer_steps if s.direction is not Direction.IN),
            1,
            as_of,
            live_at=as_of,
        ),
    ]
    # 2. The ownership closures, each from the seeds of the kinds it can reach.
    closures: list[_GroupKey] = []
    for link, direction in sorted(groups):
        if link is LinkType.OFFICER_OF:
            continue
        labels = frozenset(
            _KIND_LABELS[kind]
            for rule in rules.rules
            for reach in rule.reaches
            if (reach.edge, reach.direction) == (link, direction)
            for kind in reach.target_kinds
        )
        if not labels:
            continue
        closures.append((link, direction))
        requests.append(
            Extraction(
                tuple(seeds),
                tuple(groups[(link, direction)].steps(link, _reverse(direction))),
                groups[(link, direction)].hops,
                as_of,
                seed_labels=labels,
                live_at=as_of,
            )
        )
    first, positions, *closed = store.extract(requests)
    first.merge(positions)
    entities = [e for e in (first.nodes.get(i) for i in seeds) if isinstance(e, (Company, Person))]
    if not entities:
        return {}

    extractions: dict[_GroupKey, _Links] = {}
    officer_links = _Links(first)
    for key in groups:
        if key[0] is LinkType.OFFICER_OF:
            extractions[key] = officer_links
    for key, closure in zip(closures, closed, strict=True):
        extractions[key] = _Links(closure)

    nodes: dict[str, Entity] = {}
    for links in extractions.values():
        nodes.update((i, n) for i, n in links.nodes.items() if isinstance(n, (Company, Person)))
    nodes.update((i, n) for i, n in first.nodes.items() if isinstance(n, (Company, Person)))
    policy = rules.publicity
    # Records in force by subject, once per extraction: with many seeds an extraction holds
    # many records, and each entity only weighs those of the subjects near it.
    in_force = {
        key: _in_force_by_subject(links, as_of, rules) for key, links in extractions.items()
    }
    result: dict[str, EntityLookup] = {}
    for entity in entities:
        found: list[Restriction] = []
        own = first.sanctions_of(entity.id)
        for sanction in own:
            if sanction_in_force(sanction, as_of, policy):
                for rule in rules.rules_for(sanction, entity.kind):
                    found.extend(_own_restrictions(sanction, rule, None))
        for key, links in extractions.items():
            near = _near(key, links, entity.id, groups[key].hops)
            subjects = {s: in_force[key][s] for s in near if s in in_force[key]}
            found.extend(_reverse_candidates(key, links, entity, subjects, rules))
        officers = officer_links.officers_of_company.get(entity.id, [])
        if entity.kind is EntityKind.PERSON:
            officers = officer_links.positions_of_person.get(entity.id, [])
        result[entity.id] = EntityLookup(
            entity=entity,
            sanctions=tuple(own),
            restrictions=tuple(_finalise(found)),
            nodes=nodes,
            commitments=tuple(first.commitments_of(entity.id)),
            officers=tuple(sorted(officers, key=lambda o: o.key)),
            related_sanctions=first.sanctions,
        )
    return result


_KIND_LABELS: Final = {EntityKind.COMPANY: NodeLabel.COMPANY, EntityKind.PERSON: NodeLabel.PERSON}


def _with_roles(steps: list[Step], roles: frozenset[OfficerRole]) -> list[Step]:
    """``steps`` with OFFICER_OF IN widened to ``roles`` too (added when there is none)."""
    widened: list[Step] = []
    done = False
    for step in steps:
        if step.link is LinkType.OFFICER_OF and step.direction is Direction.IN and not done:
            merged = None if step.roles is None else step.roles | roles
            widened.append(Step(step.link, step.direction, merged))
            done = True
        else:
            widened.append(step)
    if not done:
        widened.append(Step(LinkType.OFFICER_OF, Direction.IN, roles))
    return widened


def _in_force_by_subject(links: _Links, as_of: date, rules: RuleSet) -> dict[str, list[Sanction]]:
    found: dict[str, list[Sanction]] = defaultdict(list)
    for sanction in links.sanctions.values():
        if sanction_in_force(sanction, as_of, rules.publicity):
            found[sanction.subject_id].append(sanction)
    return found


def _near(key: _GroupKey, links: _Links, entity_id: str, hops: int) -> set[str]:
    """The nodes of an extraction from which a reach of ``key`` could get to ``entity_id``.

    The extraction ran from the entity against the reach's direction, ``hops`` deep; this is
    that walk again over the links in hand, which for a batch (:func:`lookup_many`) hold the
    other seeds' extractions too. A subject a reach leads from to the entity lies on it, so the
    others need not be evaluated: a batch costs what its entities' own neighbourhoods cost.
    """
    if key[0] is LinkType.OFFICER_OF:
        near = {o.person_id for o in links.officers_of_company.get(entity_id, ())}
        near.update(o.company_id for o in links.positions_of_person.get(entity_id, ()))
        return near
    # The reach walks down (OUT) from its subject to the entity: walk up from the entity, and
    # the other way round. Control links are a superset of holdings, so they serve both kinds.
    upward = key[1] is Direction.OUT
    adjacency = links.control_up if upward else links.control_down
    seen = {entity_id}
    frontier = [entity_id]
    for _ in range(hops):
        step = []
        for node in frontier:
            for link in adjacency.get(node, ()):
                other = link.source if upward else link.target
                if other not in seen:
                    seen.add(other)
                    step.append(other)
        if not step:
            break
        frontier = step
    return seen


def _reverse_candidates(
    key: _GroupKey,
    links: _Links,
    entity: Entity,
    subjects: Mapping[str, list[Sanction]],
    rules: RuleSet,
) -> Iterator[Restriction]:
    """Restrictions on ``entity`` from the records in force of ``subjects`` (nodes of one
    extraction near it, by subject)."""
    for subject_id, sanctions in subjects.items():
        if subject_id == entity.id:
            continue
        kind = links.kind_of(subject_id)
        if kind is None:
            continue
        for sanction in sanctions:
            for rule in rules.rules_for(sanction, kind):
                for reach in rule.reaches:
                    if (reach.edge, reach.direction) != key:
                        continue
                    if entity.kind not in reach.target_kinds:
                        continue
                    yield from _reach_restrictions(sanction, rule, reach, links, entity.id, None)


def restrictions_for(
    store: GraphReader, entity_id: str, as_of: date, rules: RuleSet
) -> list[Restriction]:
    """Every restriction on one entity at ``as_of``, sorted (entity, measure, rule, source, path).

    Parameters
    ----------
    store
        Any :class:`graph.store.GraphReader`; read with a few ``neighbourhood`` calls.
    entity_id
        A company or person id.
    as_of
        The date the restrictions hold at: links and sanctions are taken as of then.
    rules
        The rule set (:func:`graph.rules.schema.load_rules`).

    Raises
    ------
    NotFound
        When no company or person has this id.

    Examples
    --------
    A company on the seriously dishonest list bars its legal representative from office:

    >>> from graph.memory import MemoryStore
    >>> from graph.model import Company, Person, SanctionList
    >>> from graph.rules.schema import load_rules
    >>> from graph.store import WriteBatch
    >>> store = MemoryStore()
    >>> _ = store.write(WriteBatch(
    ...     nodes=[Company("c1", "Acme"), Person("p1", "Li Lei"),
    ...            Sanction("s1", "c1", SanctionList.SERIOUS_DISHONEST, start=date(2023, 1, 1))],
    ...     links=[Officer("p1", "c1", OfficerRole.LEGAL_REPRESENTATIVE)]))
    >>> for r in restrictions_for(store, "p1", date(2024, 1, 1), load_rules(None)):
    ...     print(r.measure, r.rule, r.path.describe())
    HONOR_BAN R1 c1 <-[OFFICER_OF legal_representative]- p1
    OFFICER_APPOINTMENT_BAN R1 c1 <-[OFFICER_OF legal_representative]- p1
    """
    return list(lookup(store, entity_id, as_of, rules).restrictions)


# -- forward -----------------------------------------------------------------------------------


def materialise(
    store: GraphReader, as_of: date, rules: RuleSet, measure: str | None = None
) -> Iterator[Restriction]:
    """Every restriction in the graph at ``as_of`` (only ``measure``'s, when given), sorted.

    Set-based (graph/rules/forward.py): the records that may be live with their subjects' labels
    in one read, then one walk per (link type, direction) the rules take, seeded with every
    subject that needs it, bringing back links and labels only. The result is sorted, so it is
    held in memory before the first item is yielded.

    Examples
    --------
    >>> from graph.memory import MemoryStore
    >>> from graph.model import Company, Person, SanctionList
    >>> from graph.rules.schema import load_rules
    >>> from graph.store import WriteBatch
    >>> store = MemoryStore()
    >>> _ = store.write(WriteBatch(
    ...     nodes=[Company("c1", "Acme"), Person("p1", "Li Lei"),
    ...            Sanction("s1", "p1", SanctionList.DISHONEST_JUDGMENT_DEBTOR)],
    ...     links=[Officer("p1", "c1", OfficerRole.LEGAL_REPRESENTATIVE)]))
    >>> rules = load_rules(None)
    >>> [(r.entity_id, str(r.measure)) for r in materialise(store, date(2024, 1, 1), rules)]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('c1', 'ENHANCED_SUPERVISION'), ('p1', 'HIGH_CONSUMPTION_BAN'),
     ('p1', 'OFFICER_APPOINTMENT_BAN'), ('p1', 'PROCUREMENT_BAN')]
    """
    # Imported here: the forward module builds on this one's evaluation.
    from graph.rules.forward import materialise as forward

    return forward(store, as_of, rules, measure)
