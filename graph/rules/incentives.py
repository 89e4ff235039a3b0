"""Joint incentives and graded supervision (spec/DOMAIN.md "Joint incentives", "Graded
supervision"): pure functions over what the restriction engine extracted.

An incentive rule of the rules file (:class:`graph.rules.schema.IncentiveRule`) grants its measures
to a company when every condition holds at the date. When one fails the incentive is *withheld*:
the answer names the first failing condition in file order, why, and what blocks it (the record,
and the path from the company to it). The facts come from the same extraction as the company's
restrictions (:func:`graph.rules.engine.lookup`: its records, commitments and officers ride along);
only the principal-person condition needs more, the restrictions of those persons, and it asks
for them through a callback only when the conditions before it hold, so a company that fails
earlier costs no read at all.

Interpretations (where DOMAIN.md is silent):

* A condition's window (``window_months``) holds a verification day ``v`` when
  ``v <= as_of < v + window`` (the same rule as the score's ended-record window).
* A principal person's blocking path runs from the company to the person (the OFFICER_OF link
  with the smallest natural key among the roles checked) and on, along the restriction's own
  path read backwards, to the subject of the record behind it.
* A restriction on the company blocks with the path from the company back to the record's subject
  (the restriction's path read backwards); an own record blocks with the one-node path.
* Persons' incentives: none (incentives apply to companies only); their class is None.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TypeAlias

from graph.commitments import breach_id
from graph.explain import Path, PathLink
from graph.model import (
    Commitment,
    CommitmentOutcome,
    Company,
    Officer,
    Sanction,
    SanctionStatus,
)
from graph.rules.engine import Restriction, add_months, sanction_in_force
from graph.rules.schema import (
    Condition,
    ConditionKind,
    Grade,
    IncentiveRule,
    RuleSet,
    SupervisionPolicy,
)

__all__ = [
    "Blocker",
    "GrantedIncentive",
    "IncentiveFacts",
    "PersonRestrictions",
    "Standing",
    "WithheldIncentive",
    "evaluate",
    "supervision_class",
]

PersonRestrictions: TypeAlias = Callable[[Sequence[str]], Mapping[str, Sequence[Restriction]]]
"""Given person ids, the restrictions in force on each (asked only when needed)."""


@dataclass(frozen=True, slots=True)
class GrantedIncentive:
    """An incentive measure a company receives, from which rule, on which legal basis."""

    entity_id: str
    measure: str
    rule: str
    legal_basis: str


@dataclass(frozen=True, slots=True)
class Blocker:
    """What makes a condition fail: a sanction record or a commitment (or both, for a broken
    commitment and its COMMITMENT_BREACH record), and the path from the company to its subject.
    All empty when nothing in particular blocks (a grade, no kept commitment)."""

    sanction: Sanction | None = field(default=None, hash=False)
    commitment: Commitment | None = field(default=None, hash=False)
    restriction: Restriction | None = field(default=None, hash=False)
    """The restriction that blocks (no_restriction, no_principal_restriction)."""
    path: Path | None = None


@dataclass(frozen=True, slots=True)
class WithheldIncentive:
    """An incentive rule whose conditions do not all hold, and the first one that fails."""

    entity_id: str
    rule: str
    measures: tuple[str, ...]
    condition: ConditionKind
    reason: str
    blocker: Blocker | None


@dataclass(frozen=True, slots=True)
class IncentiveFacts:
    """What decides a company's incentives at a date, from the restriction engine's extraction."""

    company: Company
    grade: Grade
    score: int
    restrictions: Sequence[Restriction]
    """The restrictions in force on the company."""
    sanctions: Sequence[Sanction]
    """The company's own records, any status or date."""
    commitments: Sequence[Commitment]
    """The company's commitments, any outcome."""
    officers: Sequence[Officer]
    """The company's officer links in force (at least those of the roles the rules check)."""


@dataclass(frozen=True, slots=True)
class Standing:
    """A company's incentives, withheld incentives and supervision class at a date."""

    entity_id: str
    grade: Grade
    score: int
    incentives: tuple[GrantedIncentive, ...]
    withheld: tuple[WithheldIncentive, ...]
    supervision_class: Grade | None
    """None when the rules file defines no graded supervision."""
    principal_restrictions: Mapping[str, Sequence[Restriction]] = field(default_factory=dict)
    """The restrictions of the principal persons that were looked at, by person id."""

    def paths(self) -> list[Path]:
        """Every path in the answer (what a view must name)."""
        return [w.blocker.path for w in self.withheld if w.blocker is not None and w.blocker.path]


def evaluate(
    facts: IncentiveFacts,
    as_of: date,
    rules: RuleSet,
    person_restrictions: PersonRestrictions,
) -> Standing:
    """The company's standing at ``as_of``: every incentive rule granted or withheld, and the
    supervision class.

    ``person_restrictions`` is asked (once, for every person the principal-person conditions
    check) only when a rule gets that far.

    Examples
    --------
    >>> from graph.rules.schema import load_rules
    >>> from graph.model import CommitmentKind
    >>> rules = load_rules(None)
    >>> kept = Commitment("k1", "c1", CommitmentKind.TAX_DECLARATION, date(2023, 1, 1),
    ...                   verified=date(2023, 6, 1), outcome=CommitmentOutcome.KEPT)
    >>> facts = IncentiveFacts(Company("c1", "Acme"), Grade.A, 1000, (), (), (kept,), ())
    >>> standing = evaluate(facts, date(2024, 1, 1), rules, lambda ids: {})
    >>> [(g.rule, str(g.measure)) for g in standing.incentives]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('I1', 'GREEN_CHANNEL'), ('I1', 'REDUCED_INSPECTION'), ('I1', 'FINANCING_PREFERENCE'),
     ('I2', 'NOTIFICATION_COMMITMENT')]
    >>> standing.supervision_class.value
    'A'
    """
    asked: dict[str, Sequence[Restriction]] = {}

    def persons(ids: Sequence[str]) -> Mapping[str, Sequence[Restriction]]:
        missing = [i for i in ids if i not in asked]
        if missing:
            found = person_restrictions(missing)
            for person_id in missing:
                asked[person_id] = tuple(found.get(person_id, ()))
        return asked

    granted: list[GrantedIncentive] = []
    withheld: list[WithheldIncentive] = []
    granted_rules: set[str] = set()
    for rule in rules.incentives:
        failure = _first_failure(rule, facts, as_of, rules, persons)
        if failure is None:
            granted_rules.add(rule.id)
            granted.extend(
                GrantedIncentive(facts.company.id, measure, rule.id, basis)
                for measure, basis in rule.grants.items()
            )
        else:
            condition, reason, blocker = failure
            withheld.append(
                WithheldIncentive(
                    facts.company.id, rule.id, tuple(rule.grants), condition.test, reason, blocker
                )
            )
    policy = rules.supervision
    supervision = (
        None
        if policy is None
        else supervision_class(policy, facts.grade, facts.restrictions, granted_rules)
    )
    return Standing(
        entity_id=facts.company.id,
        grade=facts.grade,
        score=facts.score,
        incentives=tuple(granted),
        withheld=tuple(withheld),
        supervision_class=supervision,
        principal_restrictions=dict(asked),
    )


def supervision_class(
    policy: SupervisionPolicy,
    grade: Grade,
    restrictions: Iterable[Restriction],
    granted_rules: Iterable[str],
) -> Grade:
    """The first class of ``policy`` whose test holds (the last class says ``otherwise``).

    >>> from graph.rules.schema import load_rules
    >>> policy = load_rules(None).supervision
    >>> supervision_class(policy, Grade.B, [], ["I2"]).value
    'B'
    >>> supervision_class(policy, Grade.A, [], ["I1", "I2"]).value
    'A'
    """
    held = {r.measure for r in restrictions}
    granted = set(granted_rules)
    for entry in policy.classes:
        if (
            grade in entry.grades
            or held & entry.measures
            or (entry.any_restriction and held)
            or (entry.incentive is not None and entry.incentive in granted)
            or entry.otherwise
        ):
            return entry.name
    raise ValueError("the supervision policy has no 'otherwise' class")  # _check refuses this


_Failure: TypeAlias = tuple[Condition, str, Blocker | None]


def _first_failure(
    rule: IncentiveRule,
    facts: IncentiveFacts,
    as_of: date,
    rules: RuleSet,
    persons: PersonRestrictions,
) -> _Failure | None:
    for condition in rule.conditions:
        found = _check(condition, facts, as_of, rules, persons)
        if found is not None:
            return condition, found[0], found[1]
    return None


def _check(
    condition: Condition,
    facts: IncentiveFacts,
    as_of: date,
    rules: RuleSet,
    persons: PersonRestrictions,
) -> tuple[str, Blocker | None] | None:
    """None when ``condition`` holds, else the reason and the blocker."""
    company_id = facts.company.id
    match condition.test:
        case ConditionKind.GRADE:
            assert condition.grades is not None
            if facts.grade in condition.grades:
                return None
            wanted = ", ".join(sorted(g.value for g in condition.grades))
            return f"grade {facts.grade.value} (score {facts.score}); needs grade {wanted}", None
        case ConditionKind.NO_RESTRICTION:
            if not facts.restrictions:
                return None
            first = facts.restrictions[0]
            return (
                f"{_restriction_text(first)} is in force on {company_id}",
                Blocker(sanction=first.source, restriction=first, path=_backwards(first.path)),
            )
        case ConditionKind.NO_PRINCIPAL_RESTRICTION:
            return _principal_failure(condition, facts, persons)
        case ConditionKind.NO_OWN_RECORD:
            for sanction in facts.sanctions:
                if sanction_in_force(sanction, as_of, rules.publicity):
                    severity = rules.catalogue.severity_of(sanction).value
                    return (
                        f"own {sanction.list} ({severity}) record {sanction.id} is in force",
                        Blocker(sanction=sanction, path=Path((company_id,))),
                    )
            return None
        case ConditionKind.KEPT_COMMITMENT:
            assert condition.window_months is not None
            for commitment in facts.commitments:
                if commitment.outcome is CommitmentOutcome.KEPT and _within(
                    commitment.verified, as_of, condition.window_months
                ):
                    return None
            return (
                f"no commitment verified as kept within the {condition.window_months} months "
                f"before {as_of.isoformat()}",
                None,
            )
        case ConditionKind.NO_BROKEN_COMMITMENT:
            assert condition.window_months is not None
            records = {s.id: s for s in facts.sanctions}
            for commitment in facts.commitments:
                if commitment.outcome is not CommitmentOutcome.BROKEN or not _within(
                    commitment.verified, as_of, condition.window_months
                ):
                    continue
                record = records.get(breach_id(commitment.id))
                if _revoked_by(record, as_of):
                    continue
                assert commitment.verified is not None
                return (
                    f"commitment {commitment.id} ({commitment.kind}) was found broken on "
                    f"{commitment.verified.isoformat()}, within the {condition.window_months} "
                    "months before the date",
                    Blocker(sanction=record, commitment=commitment, path=Path((company_id,))),
                )
            return None
    raise AssertionError(condition.test)  # every ConditionKind is matched above


def _principal_failure(
    condition: Condition, facts: IncentiveFacts, persons: PersonRestrictions
) -> tuple[str, Blocker] | None:
    assert condition.roles is not None
    links: dict[str, Officer] = {}
    for link in facts.officers:
        if link.company_id != facts.company.id or link.role not in condition.roles:
            continue
        if link.person_id not in links or link.key < links[link.person_id].key:
            links[link.person_id] = link
    if not links:
        return None
    found = persons(sorted(links))
    for person_id in sorted(links):
        restrictions = found.get(person_id, ())
        if not restrictions:
            continue
        first = restrictions[0]
        officer = links[person_id]
        to_person = Path((facts.company.id, person_id), (PathLink.of(officer),))
        path = _join(to_person, _backwards(first.path))
        return (
            f"its {officer.role.value} {person_id} has {_restriction_text(first)} in force",
            Blocker(sanction=first.source, restriction=first, path=path),
        )
    return None


def _restriction_text(item: Restriction) -> str:
    disputed = ", disputed" if item.disputed else ""
    return (
        f"{item.measure} (rule {item.rule}) from {item.source.list} record {item.source.id} "
        f"on {item.source.subject_id}{disputed}"
    )


def _backwards(path: Path) -> Path:
    """The same links walked the other way (links keep their stored direction)."""
    return Path(tuple(reversed(path.nodes)), tuple(reversed(path.links)))


def _join(first: Path, then: Path) -> Path:
    """``first`` followed by ``then``, which starts where ``first`` ends."""
    assert first.nodes[-1] == then.nodes[0]
    return Path(first.nodes + then.nodes[1:], first.links + then.links)


def _within(verified: date | None, as_of: date, months: int) -> bool:
    return verified is not None and verified <= as_of < add_months(verified, months)


def _revoked_by(record: Sanction | None, as_of: date) -> bool:
    """Whether the breach record was withdrawn (an upheld objection) by ``as_of``."""
    return (
        record is not None
        and record.status is SanctionStatus.REVOKED
        and (record.status_date is None or record.status_date <= as_of)
    )
