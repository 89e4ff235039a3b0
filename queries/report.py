"""Credit reports (spec/DOMAIN.md "Credit score"): score, grade, every deduction with its source.

The score starts at 1000 and loses, per the weights of the rules file:

* the points of every own sanction record in force;
* a percentage (20%, rounded down) of the points of every own record that ended, by expiry or
  repair but not by revocation, within the window (3 years) before ``as_of``;
* the relationship points (50) of every distinct sanction on *another* entity that restricts
  this one at ``as_of``, up to the cap (200) in all.

Every deduction is listed, so the deductions sum exactly to ``1000 - score`` before the floor at 0.
Relationship sources past the cap are listed too, with 0 points and the reason.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final, TypeAlias

from graph.model import Company, Person, Sanction, SanctionStatus
from graph.rules.engine import (
    Path,
    Restriction,
    add_months,
    lookup,
    sanction_ended_on,
    sanction_in_force,
)
from graph.rules.schema import Grade, RuleSet
from graph.store import GraphReader

__all__ = [
    "MAX_SCORE",
    "CreditReport",
    "Deduction",
    "SanctionState",
    "credit_report",
    "entity_to_json",
    "path_to_json",
    "report_to_json",
    "restriction_to_json",
    "sanction_to_json",
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
    """The entities on the restrictions' paths, by id (for their names)."""

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
    found = lookup(store, entity_id, as_of, rules)
    weights = rules.score
    policy = rules.publicity
    states: list[SanctionState] = []
    in_force: list[Deduction] = []
    ended: list[Deduction] = []
    for sanction in found.sanctions:
        start = sanction.effective_start
        if start is not None and as_of < start:
            continue  # not on the record yet at as_of
        active = sanction_in_force(sanction, as_of, policy)
        ended_on = sanction_ended_on(sanction, policy)
        if active or ended_on is None or as_of < ended_on:
            ended_on = None
        states.append(SanctionState(sanction, active, ended_on))
        if active:
            points = weights.own_points(sanction)
            in_force.append(Deduction(points, f"own {_describe(sanction)} in force", sanction))
        elif ended_on is not None and _counts_as_ended(sanction, ended_on, as_of, rules):
            how = (
                "repaired"
                if sanction.status is SanctionStatus.REPAIRED and ended_on == sanction.status_date
                else "expired"
            )
            full = weights.own_points(sanction)
            reason = (
                f"own {_describe(sanction)} ended {ended_on.isoformat()} ({how}) within "
                f"{weights.ended_window_months} months: {weights.ended_percent}% of {full}, "
                "rounded down"
            )
            ended.append(Deduction(weights.ended_points(sanction), reason, sanction))

    deductions = in_force + ended + _relationship(found.restrictions, found.nodes, rules)
    score = max(0, MAX_SCORE - sum(d.points for d in deductions))
    return CreditReport(
        entity=found.entity,
        as_of=as_of,
        score=score,
        grade=weights.grade(score),
        deductions=tuple(deductions),
        sanctions=tuple(states),
        restrictions=found.restrictions,
        nodes=found.nodes,
    )


def _describe(sanction: Sanction) -> str:
    return f"{sanction.list.value} ({sanction.effective_severity.value}) record {sanction.id}"


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
        measures = ", ".join(sorted({i.measure.value for i in items}))
        rule_ids = ", ".join(sorted({i.rule for i in items}))
        subject = nodes.get(source.subject_id)
        on = f"{subject.name} ({subject.id})" if subject is not None else source.subject_id
        reason = f"restricted ({measures}; rule {rule_ids}) by {_describe(source)} on {on}"
        if points < weights.relationship_points:
            reason += f"; relationship deductions are capped at {weights.relationship_cap}"
        deductions.append(Deduction(points, reason, source))
    return deductions


# -- JSON (field names of the GraphQL types) -----------------------------------------------------


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def entity_to_json(entity: Entity) -> dict[str, Any]:
    return {"id": entity.id, "name": entity.name, "kind": entity.kind.value}


def sanction_to_json(sanction: Sanction) -> dict[str, Any]:
    """A sanction record as the GraphQL ``Sanction`` type."""
    return {
        "id": sanction.id,
        "subjectId": sanction.subject_id,
        "list": sanction.list.value,
        "authority": sanction.authority,
        "severity": sanction.effective_severity.value,
        "fine": sanction.fine,
        "decided": _iso(sanction.decided),
        "start": _iso(sanction.start),
        "end": _iso(sanction.end),
        "legalBasis": sanction.legal_basis,
        "description": sanction.description,
        "status": sanction.status.value,
        "statusDate": _iso(sanction.status_date),
        "disputed": sanction.disputed,
    }


def path_to_json(path: Path, nodes: Mapping[str, Entity]) -> dict[str, Any]:
    """A path as the GraphQL ``Path`` type; ``nodes`` names its entities."""
    return {
        "nodes": [
            entity_to_json(nodes[i]) if i in nodes else {"id": i, "name": i, "kind": None}
            for i in path.nodes
        ],
        "links": [
            {
                "type": link.type.value,
                "from": link.from_id,
                "to": link.to_id,
                "role": link.role.value if link.role is not None else None,
                "share": link.share,
            }
            for link in path.links
        ],
    }


def restriction_to_json(item: Restriction, nodes: Mapping[str, Entity]) -> dict[str, Any]:
    return {
        "measure": item.measure.value,
        "rule": item.rule,
        "legalBasis": item.legal_basis,
        "source": sanction_to_json(item.source),
        "path": path_to_json(item.path, nodes),
        "disputed": item.disputed,
    }


def report_to_json(report: CreditReport) -> dict[str, Any]:
    """The report as the GraphQL ``CreditReport`` type: camelCase keys, ISO dates.

    Examples
    --------
    >>> from graph.memory import MemoryStore
    >>> from graph.rules.schema import load_rules
    >>> from graph.store import WriteBatch
    >>> store = MemoryStore()
    >>> _ = store.write(WriteBatch(nodes=[Company("c1", "Acme")]))
    >>> report_to_json(credit_report(store, "c1", date(2024, 6, 1), load_rules(None)))
    ... # doctest: +NORMALIZE_WHITESPACE
    {'entity': {'id': 'c1', 'name': 'Acme', 'kind': 'COMPANY'}, 'asOf': '2024-06-01',
     'score': 1000, 'grade': 'A', 'deductions': [], 'sanctions': [], 'restrictions': []}
    """
    return {
        "entity": entity_to_json(report.entity),
        "asOf": report.as_of.isoformat(),
        "score": report.score,
        "grade": report.grade.value,
        "deductions": [
            {
                "points": d.points,
                "reason": d.reason,
                "source": sanction_to_json(d.source) if d.source is not None else None,
            }
            for d in report.deductions
        ],
        "sanctions": [
            sanction_to_json(s.sanction) | {"inForce": s.in_force, "endedOn": _iso(s.ended_on)}
            for s in report.sanctions
        ],
        "restrictions": [restriction_to_json(r, report.nodes) for r in report.restrictions],
    }
