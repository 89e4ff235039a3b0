"""Credit reports (spec/DOMAIN.md "Credit score"): score, grade, every deduction with its source.

The score starts at 1000 and loses, per the weights of the rules file:

* the points of every own sanction record in force;
* a percentage (20%, rounded down) of the points of every own record that ended, by expiry or
  repair but not by revocation, within the window (3 years) before ``as_of``;
* the relationship points (50) of every distinct sanction on *another* entity that restricts
  this one at ``as_of``, up to the cap (200) in all.

Every deduction is listed, so the deductions sum exactly to ``1000 - score`` before the floor at 0.
Relationship sources past the cap are listed too, with 0 points and the reason.

A company's report also holds its joint incentives, granted or withheld with the first failing
condition, and its supervision class (:mod:`graph.rules.incentives`), decided over the same
extraction; only when a company gets as far as the principal-person check are those persons'
restrictions read (one :func:`graph.rules.engine.lookup_many` for all of them, shared between
reports while the store is unchanged: :mod:`graph.rules.shared_lookups`).

A company's report lists its notices (recall notices, :mod:`graph.rules.supply`) beside its
restrictions. They count in neither the score nor the incentives.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Final, TypeAlias

from graph.model import Company, OfficerRole, Person, Sanction, SanctionStatus
from graph.rules.engine import (
    Restriction,
    add_months,
    lookup,
    sanction_ended_on,
    sanction_in_force,
)
from graph.rules.incentives import (
    GrantedIncentive,
    IncentiveFacts,
    Standing,
    WithheldIncentive,
    evaluate,
)
from graph.rules.schema import ConditionKind, Grade, RuleSet
from graph.rules.shared_lookups import shared_lookup_many
from graph.rules.supply import Notice, notices_for
from graph.store import GraphReader

__all__ = [
    "MAX_SCORE",
    "CreditReport",
    "Deduction",
    "SanctionState",
    "Score",
    "checked_roles",
    "credit_report",
    "score_of",
]

MAX_SCORE: Final = 1000

Entity: TypeAlias = Company | Person


@dataclass(frozen=True, slots=True)
class Deduction:
    """Points taken off the score, why, and the sanction record behind them (if any)."""

    points: int
    reason: str
    source: Sanction | None = field(default=None, hash=False)


@dataclass(frozen=True, slots=True)
class SanctionState:
    """One of the entity's own records as it stood at the report's date."""

    sanction: Sanction
    in_force: bool
    ended_on: date | None
    """The first day it no longer counted, when that is on or before the report's date."""


@dataclass(frozen=True, slots=True)
class CreditReport:
    entity: Entity
    as_of: date
    score: int
    grade: Grade
    deductions: tuple[Deduction, ...]
    sanctions: tuple[SanctionState, ...]
    """Own records that had started by ``as_of``, in force or not (any status), by id."""
    restrictions: tuple[Restriction, ...]
    nodes: Mapping[str, Entity]
    """The entities on the restrictions' and blockers' paths, by id (for their names)."""
    incentives: tuple[GrantedIncentive, ...] = ()
    """The incentive measures granted (companies only), in rule and file order."""
    withheld: tuple[WithheldIncentive, ...] = ()
    """The incentive rules withheld, each with its first failing condition and blocker."""
    supervision_class: Grade | None = None
    """A company's supervision class (None for a person, or rules without supervision)."""
    notices: tuple[Notice, ...] = ()
    """A company's notices at the date (recall notices), sorted; no score or incentive effect."""

    @property
    def total_deducted(self) -> int:
        return sum(d.points for d in self.deductions)


def credit_report(store: GraphReader, entity_id: str, as_of: date, rules: RuleSet) -> CreditReport:
    """The credit report of a company or person at ``as_of``.

    Parameters
    ----------
    store
        Any :class:`graph.store.GraphReader` (read with a few ``neighbourhood`` calls).
    entity_id
        A company or person id.
    as_of
        The date of the report: sanctions and links are taken as of then.
    rules
        The rule set, with the score weights and publicity periods.

    Raises
    ------
    graph.errors.NotFound
        When no company or person has this id.

    Examples
    --------
    A company on the abnormal operations list whose legal representative is a dishonest
    judgment debtor: 100 points for its own record, 50 for the representative's.

    >>> from graph.memory import MemoryStore
    >>> from graph.model import Officer, OfficerRole, SanctionList
    >>> from graph.rules.schema import load_rules
    >>> from graph.store import WriteBatch
    >>> store = MemoryStore()
    >>> _ = store.write(WriteBatch(
    ...     nodes=[Company("c1", "Acme"), Person("p1", "Li Lei"),
    ...            Sanction("s1", "c1", SanctionList.ABNORMAL_OPERATION, start=date(2024, 1, 1)),
    ...            Sanction("s2", "p1", SanctionList.DISHONEST_JUDGMENT_DEBTOR)],
    ...     links=[Officer("p1", "c1", OfficerRole.LEGAL_REPRESENTATIVE)]))
    >>> report = credit_report(store, "c1", date(2024, 6, 1), load_rules(None))
    >>> report.score, report.grade.value, [d.points for d in report.deductions]
    (850, 'B', [100, 50])
    """
    roles = checked_roles(rules)
    found = lookup(store, entity_id, as_of, rules, officer_roles=roles)
    score = score_of(found.sanctions, found.restrictions, found.nodes, as_of, rules)
    nodes: dict[str, Entity] = dict(found.nodes)
    standing: Standing | None = None
    notices: tuple[Notice, ...] = ()
    if isinstance(found.entity, Company):
        # Read apart from the restrictions: a notice weighs in neither the score nor the facts.
        notices = notices_for(store, [found.entity.id], as_of, rules).get(found.entity.id, ())

        def principals(ids: Sequence[str]) -> dict[str, tuple[Restriction, ...]]:
            # The one extra read: the principal persons' own restrictions, all at once.
            # Shared: a nominee's lookup is the same for each of the thousands of companies
            # whose principal it is (kept only while the store is unchanged).
            # Only the entities the principals' restrictions name: a lookup's `nodes` are all
            # its batch saw, and a kept one's batch may have held other principals.
            looked = shared_lookup_many(store, ids, as_of, rules)
            for item in looked.values():
                nodes.setdefault(item.entity.id, item.entity)
                for restriction in item.restrictions:
                    for node_id in restriction.path.nodes:
                        if node_id not in nodes and node_id in item.nodes:
                            nodes[node_id] = item.nodes[node_id]
            return {i: item.restrictions for i, item in looked.items()}

        facts = IncentiveFacts(
            company=found.entity,
            grade=score.grade,
            score=score.score,
            restrictions=found.restrictions,
            sanctions=found.sanctions,
            commitments=found.commitments,
            officers=found.officers,
        )
        standing = evaluate(facts, as_of, rules, principals)
    return CreditReport(
        entity=found.entity,
        as_of=as_of,
        score=score.score,
        grade=score.grade,
        deductions=score.deductions,
        sanctions=score.states,
        restrictions=found.restrictions,
        nodes=nodes,
        incentives=standing.incentives if standing is not None else (),
        withheld=standing.withheld if standing is not None else (),
        supervision_class=standing.supervision_class if standing is not None else None,
        notices=notices,
    )


def checked_roles(rules: RuleSet) -> frozenset[OfficerRole]:
    """The officer roles the incentive rules check (principal responsible persons)."""
    return frozenset(
        role
        for rule in rules.incentives
        for condition in rule.conditions
        if condition.test is ConditionKind.NO_PRINCIPAL_RESTRICTION and condition.roles
        for role in condition.roles
    )


@dataclass(frozen=True, slots=True)
class Score:
    """A score, its grade, the deductions that sum to ``1000 - score`` and the own records."""

    score: int
    grade: Grade
    deductions: tuple[Deduction, ...]
    states: tuple[SanctionState, ...]


def score_of(
    sanctions: Sequence[Sanction],
    restrictions: Sequence[Restriction],
    nodes: Mapping[str, Entity],
    as_of: date,
    rules: RuleSet,
) -> Score:
    """The score from an entity's own records (any status) and the restrictions on it.

    One computation for the credit report and for the bulk standings
    (:mod:`queries.incentives`), so that both grade a company the same way.
    """
    weights = rules.score
    catalogue = rules.catalogue
    policy = rules.publicity
    states: list[SanctionState] = []
    in_force: list[Deduction] = []
    ended: list[Deduction] = []
    for sanction in sanctions:
        start = sanction.effective_start
        if start is not None and as_of < start:
            continue  # not on the record yet at as_of
        active = sanction_in_force(sanction, as_of, policy)
        ended_on = sanction_ended_on(sanction, policy)
        if active or ended_on is None or as_of < ended_on:
            ended_on = None
        states.append(SanctionState(sanction, active, ended_on))
        if active:
            points = catalogue.own_points(sanction)
            described = _describe(sanction, rules)
            in_force.append(Deduction(points, f"own {described} in force", sanction))
        elif ended_on is not None and _counts_as_ended(sanction, ended_on, as_of, rules):
            how = (
                "repaired"
                if sanction.status is SanctionStatus.REPAIRED and ended_on == sanction.status_date
                else "expired"
            )
            full = catalogue.own_points(sanction)
            percent = catalogue.list_entry(sanction.list).ended_percent
            reason = (
                f"own {_describe(sanction, rules)} ended {ended_on.isoformat()} ({how}) within "
                f"{weights.ended_window_months} months: {percent}% of {full}, rounded down"
            )
            ended.append(Deduction(catalogue.ended_points(sanction), reason, sanction))

    deductions = in_force + ended + _relationship(tuple(restrictions), nodes, rules)
    score = max(0, MAX_SCORE - sum(d.points for d in deductions))
    return Score(score, weights.grade(score), tuple(deductions), tuple(states))


def _describe(sanction: Sanction, rules: RuleSet) -> str:
    severity = rules.catalogue.severity_of(sanction)
    return f"{sanction.list} ({severity.value}) record {sanction.id}"


def _counts_as_ended(sanction: Sanction, ended_on: date, as_of: date, rules: RuleSet) -> bool:
    # A revoked record was withdrawn (for instance after an upheld objection): it leaves no
    # trace in the score. A record that ended before it started never counted at all.
    if sanction.status is SanctionStatus.REVOKED:
        return False
    start = sanction.effective_start
    if start is not None and ended_on <= start:
        return False
    return as_of < add_months(ended_on, rules.score.ended_window_months)


def _relationship(
    restrictions: tuple[Restriction, ...], nodes: Mapping[str, Entity], rules: RuleSet
) -> list[Deduction]:
    weights = rules.score
    by_source: dict[str, list[Restriction]] = defaultdict(list)
    for item in restrictions:
        if not item.own:
            by_source[item.source.id].append(item)
    deductions: list[Deduction] = []
    remaining = weights.relationship_cap
    # Sources are taken in id order, so which ones fall past the cap is stable.
    for source_id in sorted(by_source):
        items = by_source[source_id]
        source = items[0].source
        points = min(weights.relationship_points, remaining)
        remaining -= points
        measures = ", ".join(sorted({i.measure for i in items}))
        rule_ids = ", ".join(sorted({i.rule for i in items}))
        subject = nodes.get(source.subject_id)
        on = f"{subject.name} ({subject.id})" if subject is not None else source.subject_id
        reason = f"restricted ({measures}; rule {rule_ids}) by {_describe(source, rules)} on {on}"
        if points < weights.relationship_points:
            reason += f"; relationship deductions are capped at {weights.relationship_cap}"
        deductions.append(Deduction(points, reason, source))
    return deductions
