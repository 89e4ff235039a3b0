"""Market-ban candidates (spec/DOMAIN.md "Due process", market-ban review): repeat offenders
and likely phoenix companies, each with the evidence a reviewer checks.

Pure logic over the :class:`graph.store.GraphReader` port; ``as_of`` is always a parameter. The
decision on a candidate is :func:`queries.due_process.decide_market_ban`.

Interpretations of DOMAIN.md (where it is silent):

* **Repeat offender.** Counted: the entity's own ADMIN_PENALTY records whose effective start is
  within the window (``as_of - window_months <= start <= as_of``), that were not revoked and not
  repaired by ``as_of`` (a repaired record was forgiven; a record that merely expired still
  counts: the violation happened). A *fined* penalty has a fine above 0; a *serious* one has the
  effective severity ``serious``. The entity qualifies when the ``min_fined_penalties``-th fined
  penalty (or the ``min_serious_penalties``-th serious one), taken in date order, is followed by a
  *later violation*: any further non-revoked record of any list whose effective start is strictly
  after that penalty's start (the same day does not count) and not after ``as_of``. The evidence
  is the counted penalties and every later violation.
* **Phoenix.** A company for which :func:`queries.shell.phoenix_signals` reports a ``PHOENIX``
  signal (founded after a MARKET_BAN, SERIOUS_DISHONEST or DISHONEST_JUDGMENT_DEBTOR record on a
  company sharing a principal responsible person or a controlling owner). Companies to check are
  found from each such record: the companies of its subject's principal persons (at any date) and
  everything held below its subject's owners (at any date). Both steps are a fixed number of
  extractions for all records at once, not a loop of store calls per record or per suspect.
* **Candidate ids** are ``mbr-<entity id>-<10 hex>``, a hash of the reason kind and the evidence
  record ids: new evidence gives a new id. A candidate is not listed when its entity is under a
  MARKET_BAN in force, or when a decided review of the entity already covered every one of its
  evidence records (a rejection stands until a record not in its evidence appears).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from graph.errors import InvalidInput, NotFound
from graph.explain import PhoenixEvidence
from graph.model import (
    PRINCIPAL_ROLES,
    Case,
    CaseKind,
    CaseStatus,
    Company,
    Direction,
    LinkType,
    Officer,
    OfficerRole,
    Person,
    Sanction,
    SanctionList,
    SanctionStatus,
    Severity,
)
from graph.rules.engine import add_days, add_months, sanction_in_force
from graph.rules.schema import RuleSet, load_rules
from graph.store import GraphReader, Step, Subgraph
from queries.ownership import extract_closure
from queries.shell import ShellThresholds, Signal, phoenix_signals

__all__ = [
    "Candidate",
    "CandidateKind",
    "EvidenceRecord",
    "ReviewSettings",
    "case_evidence",
    "find_candidate",
    "market_ban_candidates",
]


class ReviewSettings(BaseModel):
    """Thresholds of the market-ban review, the shell signals it uses, and the due-process
    deadlines. Values, not configuration: :class:`api.settings.Settings` holds the configured
    ones (``CREDITNET_REVIEW__WINDOW_MONTHS``, ``CREDITNET_REVIEW__SHELL__NOMINEE_MIN_POSITIONS``,
    ...) and hands them in.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    window_months: int = Field(default=24, ge=1)
    """Penalties count when they started within this many months before the review date."""
    min_fined_penalties: int = Field(default=3, ge=1)
    min_serious_penalties: int = Field(default=2, ge=1)
    authority: str = Field(default="State Administration for Market Regulation", min_length=1)
    """The authority named on the MARKET_BAN records a review approves."""
    objection_due_days: int = Field(default=20, ge=1)
    max_ban_years: int = Field(default=10, ge=1)
    shell: ShellThresholds = ShellThresholds()
    """The phoenix signal's thresholds (lists, window)."""


class CandidateKind(StrEnum):
    REPEAT_OFFENDER = "REPEAT_OFFENDER"
    PHOENIX = "PHOENIX"


@dataclass(frozen=True, slots=True)
class EvidenceRecord:
    """A sanction record a candidate rests on, and the part it plays."""

    sanction: Sanction
    role: str
    """``penalty`` (counted towards the threshold), ``later_violation`` or ``predecessor``."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """An entity proposed for a market ban, with the evidence a reviewer checks."""

    id: str
    entity: Company | Person
    kind: CandidateKind
    summary: str
    records: tuple[EvidenceRecord, ...]
    links: tuple[PhoenixEvidence, ...] = ()
    """For a phoenix: each tie to a sanctioned predecessor, with its path."""
    as_of: date | None = field(default=None, compare=False)

    @property
    def entity_id(self) -> str:
        return self.entity.id

    @property
    def evidence_ids(self) -> frozenset[str]:
        return frozenset(r.sanction.id for r in self.records)


# -- the evidence a review case keeps ------------------------------------------------------------


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def case_evidence(candidate: Candidate) -> str:
    """What a review case keeps of its candidate (``Case.evidence``), frozen at the decision:
    the records by id with their part, and for a phoenix each tie with its path written out."""
    document = {
        "candidate": candidate.id,
        "kind": candidate.kind.value,
        "summary": candidate.summary,
        "asOf": _iso(candidate.as_of),
        "evidence": [{"id": r.sanction.id, "role": r.role} for r in candidate.records],
        "links": [
            {
                "via": link.via.value,
                "sharedId": link.shared_id,
                "predecessorId": link.predecessor_id,
                "sanctionId": link.sanction.id,
                "path": link.path.describe(),
            }
            for link in candidate.links
        ],
    }
    return json.dumps(document, ensure_ascii=False, sort_keys=True)


# -- market-ban candidates -----------------------------------------------------------------------


def _candidate_id(entity_id: str, kind: CandidateKind, ids: Iterable[str]) -> str:
    digest = hashlib.sha256("\n".join([kind.value, *sorted(ids)]).encode()).hexdigest()
    return f"mbr-{entity_id}-{digest[:10]}"


def _entity_of_candidate(candidate_id: str) -> str:
    body = candidate_id.removeprefix("mbr-")
    entity_id, sep, digest = body.rpartition("-")
    if not candidate_id.startswith("mbr-") or not sep or not entity_id or len(digest) != 10:
        raise InvalidInput(
            f"{candidate_id!r} is not a market-ban candidate id (mbr-<entity>-<hash>)"
        )
    return entity_id


def _counts_at(sanction: Sanction, as_of: date) -> bool:
    """Not revoked, and not repaired by ``as_of``: the record still speaks of a violation."""
    if sanction.status is SanctionStatus.REVOKED:
        return False
    if sanction.status is SanctionStatus.REPAIRED:
        return sanction.status_date is not None and as_of < sanction.status_date
    return True


def _repeat_offender(
    entity: Company | Person,
    records: Sequence[Sanction],
    as_of: date,
    settings: ReviewSettings,
    rules: RuleSet,
) -> Candidate | None:
    window_start = add_months(as_of, -settings.window_months)

    def started(s: Sanction) -> date | None:
        return s.effective_start

    dated = [
        s for s in records if _counts_at(s, as_of) and (d := started(s)) is not None and d <= as_of
    ]
    dated.sort(key=lambda s: (s.effective_start or as_of, s.id))
    penalties = [
        s
        for s in dated
        if s.list is SanctionList.ADMIN_PENALTY and window_start <= (s.effective_start or as_of)
    ]
    fined = [s for s in penalties if s.fine is not None and s.fine > 0]
    serious = [s for s in penalties if rules.catalogue.severity_of(s) is Severity.SERIOUS]
    options: list[tuple[str, list[Sanction]]] = []
    if len(fined) >= settings.min_fined_penalties:
        options.append(("fined", fined[: settings.min_fined_penalties]))
    if len(serious) >= settings.min_serious_penalties:
        options.append(("serious", serious[: settings.min_serious_penalties]))
    for what, counted in options:
        last = counted[-1].effective_start
        assert last is not None
        later = [s for s in dated if (s.effective_start or as_of) > last and s not in counted]
        if not later:
            continue
        evidence = [EvidenceRecord(s, "penalty") for s in counted]
        evidence += [EvidenceRecord(s, "later_violation") for s in later]
        ids = [r.sanction.id for r in evidence]
        summary = (
            f"{len(counted)} {what} administrative penalties within {settings.window_months} "
            f"months (the last on {last.isoformat()}), then {len(later)} further record(s): "
            + ", ".join(f"{s.list} {s.id} on {_iso(s.effective_start)}" for s in later)
        )
        return Candidate(
            id=_candidate_id(entity.id, CandidateKind.REPEAT_OFFENDER, ids),
            entity=entity,
            kind=CandidateKind.REPEAT_OFFENDER,
            summary=summary,
            records=tuple(evidence),
            as_of=as_of,
        )
    return None


def _phoenix(company: Company, signals: Sequence[Signal], as_of: date) -> Candidate | None:
    if not signals:
        return None
    ties = [s.evidence for s in signals if isinstance(s.evidence, PhoenixEvidence)]
    by_id = {tie.sanction.id: tie.sanction for tie in ties}
    records = tuple(EvidenceRecord(by_id[i], "predecessor") for i in sorted(by_id))
    return Candidate(
        id=_candidate_id(company.id, CandidateKind.PHOENIX, [r.sanction.id for r in records]),
        entity=company,
        kind=CandidateKind.PHOENIX,
        summary="likely phoenix company: " + "; ".join(s.summary for s in signals),
        records=records,
        links=tuple(ties),
        as_of=as_of,
    )


def _phoenix_suspects(
    store: GraphReader, sanctions: Sequence[Sanction], settings: ReviewSettings
) -> set[str]:
    """Companies that could be phoenixes of the companies ``sanctions`` are about."""
    limits = settings.shell
    qualifying = [
        s
        for s in sanctions
        if s.list in limits.phoenix_lists
        and s.status is not SanctionStatus.REVOKED
        and s.effective_start is not None
    ]
    subjects = {
        i: n
        for i, n in store.get_many({s.subject_id for s in qualifying}).items()
        if isinstance(n, Company)
    }
    if not subjects:
        return set()
    # Three extractions for every subject at once (any date): the principals' companies, the
    # owners above each subject, and everything those owners hold.
    principal = Step(LinkType.OFFICER_OF, Direction.BOTH, frozenset(PRINCIPAL_ROLES))
    near = store.neighbourhood(sorted(subjects), steps=[principal], hops=2, as_of=None)
    above = extract_closure(store, subjects, None, upward=True)
    owners = {link.source for link in above.links.values()}
    below = extract_closure(store, owners, None, upward=False)
    up = _adjacency(above, upward=True)
    down = _adjacency(below, upward=False)
    officers_of: dict[str, set[str]] = {}
    for link in near.officers:
        officers_of.setdefault(link.company_id, set()).add(link.person_id)
        officers_of.setdefault(link.person_id, set()).add(link.company_id)
    nodes = {**near.nodes, **below.nodes}
    suspects: set[str] = set()
    for sanction in qualifying:
        subject = subjects.get(sanction.subject_id)
        start = sanction.effective_start
        if subject is None or start is None:
            continue
        latest = add_days(start, limits.phoenix_window_days)
        related = {c for p in officers_of.get(subject.id, ()) for c in officers_of.get(p, ())}
        for owner in _reached(subject.id, up) - {subject.id}:
            related |= _reached(owner, down)
        for node_id in related:
            node = nodes.get(node_id)
            if (
                isinstance(node, Company)
                and node.id != subject.id
                and node.founded is not None
                and start <= node.founded <= latest
            ):
                suspects.add(node.id)
    return suspects


def _adjacency(sub: Subgraph, *, upward: bool) -> dict[str, set[str]]:
    """OWNS and actual-controller links of ``sub``, walked up (company -> holders) or down."""
    found: dict[str, set[str]] = {}
    for link in sub.links.values():
        if isinstance(link, Officer) and link.role is not OfficerRole.ACTUAL_CONTROLLER:
            continue
        a, b = (link.target, link.source) if upward else (link.source, link.target)
        found.setdefault(a, set()).add(b)
    return found


def _reached(start: str, adjacency: Mapping[str, set[str]]) -> set[str]:
    seen = {start}
    todo = [start]
    while todo:
        for other in adjacency.get(todo.pop(), ()):
            if other not in seen:
                seen.add(other)
                todo.append(other)
    return seen


def _decided_reviews(store: GraphReader, entity_ids: Iterable[str]) -> dict[str, list[Case]]:
    found: dict[str, list[Case]] = {}
    for case in store.cases(subject_ids=list(entity_ids), kind=CaseKind.MARKET_BAN_REVIEW):
        if case.status is not CaseStatus.OPEN:
            found.setdefault(case.subject_id, []).append(case)
    return found


def _case_evidence_ids(case: Case) -> set[str]:
    if not case.evidence:
        return set()
    try:
        document = json.loads(case.evidence)
    except ValueError:
        return set()
    return {str(r["id"]) for r in document.get("evidence", []) if isinstance(r, dict)}


def _under_ban(records: Iterable[Sanction], as_of: date, rules: RuleSet) -> bool:
    return any(
        s.list is SanctionList.MARKET_BAN and sanction_in_force(s, as_of, rules.publicity)
        for s in records
    )


def _candidates(
    store: GraphReader,
    as_of: date,
    settings: ReviewSettings,
    rules: RuleSet,
    only: str | None = None,
) -> list[Candidate]:
    all_records = list(store.sanctions([only] if only is not None else None))
    by_subject: dict[str, list[Sanction]] = {}
    for record in all_records:
        by_subject.setdefault(record.subject_id, []).append(record)
    entity_ids = set(by_subject)
    if only is None:
        suspects = _phoenix_suspects(store, all_records, settings)
    else:
        suspects = {only}
        entity_ids.add(only)
    entities = {
        i: n
        for i, n in store.get_many(entity_ids | suspects).items()
        if isinstance(n, (Company, Person))
    }
    reviews = _decided_reviews(store, entities)
    phoenix_found = phoenix_signals(
        store,
        [e for i, e in entities.items() if i in suspects and isinstance(e, Company)],
        as_of,
        settings.shell,
    )
    found: list[Candidate] = []
    for entity_id in sorted(entities):
        entity = entities[entity_id]
        records = by_subject.get(entity_id, [])
        if _under_ban(records, as_of, rules):
            continue
        proposals: list[Candidate] = []
        offender = _repeat_offender(entity, records, as_of, settings, rules)
        if offender is not None:
            proposals.append(offender)
        if entity_id in phoenix_found and isinstance(entity, Company):
            phoenix = _phoenix(entity, phoenix_found[entity_id], as_of)
            if phoenix is not None:
                proposals.append(phoenix)
        for proposal in proposals:
            covered = any(
                proposal.evidence_ids <= _case_evidence_ids(c) for c in reviews.get(entity_id, [])
            )
            if not covered:
                found.append(proposal)
    return found


def market_ban_candidates(
    store: GraphReader,
    as_of: date,
    settings: ReviewSettings | None = None,
    *,
    rules: RuleSet | None = None,
) -> list[Candidate]:
    """The entities a reviewer should consider for a market ban at ``as_of``, by entity id.

    Parameters
    ----------
    store
        Any reader: one full scan of the sanction records, then a few calls per entity.
    as_of
        The review date: the window ends there and later records are not seen.
    settings
        Thresholds (default :class:`ReviewSettings`).
    rules
        For the publicity policy deciding whether a MARKET_BAN is in force (default rules).
    """
    return _candidates(store, as_of, settings or ReviewSettings(), rules or load_rules(None))


def find_candidate(
    store: GraphReader,
    candidate_id: str,
    as_of: date,
    settings: ReviewSettings | None = None,
    *,
    rules: RuleSet | None = None,
) -> Candidate:
    """One candidate by id, recomputed at ``as_of`` (NotFound when it is not one then)."""
    entity_id = _entity_of_candidate(candidate_id)
    found = _candidates(
        store, as_of, settings or ReviewSettings(), rules or load_rules(None), only=entity_id
    )
    for candidate in found:
        if candidate.id == candidate_id:
            return candidate
    raise NotFound(
        f"{candidate_id!r} is not a market-ban candidate on {as_of.isoformat()} (its evidence "
        "changed, it was decided, or the entity is already banned); list the candidates again"
    )
