"""Due process (spec/DOMAIN.md "Due process"): market-ban review, objections, credit repair.

Pure logic over the :class:`graph.store.GraphStore` port: every function takes the day it runs
on (``as_of`` / ``today``) as a parameter and never reads the clock. Every decision is one
atomic :meth:`~graph.store.GraphWriter.write` of the :class:`~graph.model.Case` and the sanction
record it changes, conditional on the case's version (``expect``): when two reviewers decide the
same case, one wins and the other gets :class:`graph.errors.Conflict` with nothing written.

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
* **Phoenix.** A company for which :func:`queries.shell.shell_signals` reports a ``PHOENIX``
  signal (founded after a MARKET_BAN, SERIOUS_DISHONEST or DISHONEST_JUDGMENT_DEBTOR record on a
  company sharing a principal responsible person or a controlling owner). Companies to check are
  found from each such record: the companies of its subject's principal persons (at any date) and
  everything held below its subject's owners (at any date).
* **Candidate ids** are ``mbr-<entity id>-<10 hex>``, a hash of the reason kind and the evidence
  record ids: new evidence gives a new id. A candidate is not listed when its entity is under a
  MARKET_BAN in force, or when a decided review of the entity already covered every one of its
  evidence records (a rejection stands until a record not in its evidence appears).
* The review's Case id is the candidate id; the approved ban's Sanction id is ``<case id>-ban``.
* **Objections and repairs** get case ids ``obj-<sanction id>-<n>`` / ``rep-<sanction id>-<n>``
  (n = one more than the cases of that kind about the record), so two simultaneous filings
  collide on the id and one gets Conflict. At most one open objection and one open repair
  application per record. A revoked record can't be objected to; only an active record still in
  force can be repaired. "The fine is paid" is required only of a record with a fine above 0.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from graph.errors import Conflict, InvalidInput, NotFound
from graph.model import (
    PRINCIPAL_ROLES,
    Case,
    CaseKind,
    CaseStatus,
    Company,
    Direction,
    LinkType,
    Measure,
    Node,
    OfficerRole,
    Person,
    Sanction,
    SanctionList,
    SanctionStatus,
    Severity,
)
from graph.rules.engine import add_days, add_months, sanction_ended_on, sanction_in_force
from graph.rules.schema import RuleSet, load_rules
from graph.store import GraphReader, GraphStore, Step, WriteBatch
from queries.ownership import extract_closure
from queries.shell import ShellThresholds, SignalKind, shell_signals

__all__ = [
    "Candidate",
    "CandidateKind",
    "EvidenceRecord",
    "ReviewSettings",
    "apply_credit_repair",
    "candidate_json",
    "case_json",
    "decide_credit_repair",
    "decide_market_ban",
    "file_objection",
    "market_ban_candidates",
    "resolve_objection",
]


class ReviewSettings(BaseSettings):
    """Thresholds of the market-ban review and the due-process deadlines.

    Each can be set from the environment: ``CREDITNET_REVIEW_WINDOW_MONTHS``,
    ``CREDITNET_REVIEW_AUTHORITY``, ... (read when an instance is made, never at import).
    """

    model_config = SettingsConfigDict(env_prefix="CREDITNET_REVIEW_", frozen=True, extra="ignore")

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
    links: tuple[dict[str, Any], ...] = ()
    """For a phoenix: each link to a predecessor (``path`` with nodes and links, JSON-ready)."""
    as_of: date | None = field(default=None, compare=False)

    @property
    def entity_id(self) -> str:
        return self.entity.id

    @property
    def evidence_ids(self) -> frozenset[str]:
        return frozenset(r.sanction.id for r in self.records)


# -- JSON ------------------------------------------------------------------------------------


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _record_json(record: EvidenceRecord) -> dict[str, Any]:
    s = record.sanction
    return {
        "role": record.role,
        "id": s.id,
        "subjectId": s.subject_id,
        "list": s.list.value,
        "severity": s.effective_severity.value,
        "fine": s.fine,
        "decided": _iso(s.decided),
        "start": _iso(s.effective_start),
        "end": _iso(s.end),
        "status": s.status.value,
        "authority": s.authority,
        "description": s.description,
    }


def candidate_json(candidate: Candidate) -> dict[str, Any]:
    """The candidate as the GraphQL ``MarketBanCandidate`` type (and the review's evidence)."""
    entity = candidate.entity
    return {
        "id": candidate.id,
        "entity": {"id": entity.id, "name": entity.name, "kind": entity.kind.value},
        "kind": candidate.kind.value,
        "summary": candidate.summary,
        "asOf": _iso(candidate.as_of),
        "evidence": [_record_json(r) for r in candidate.records],
        "links": list(candidate.links),
    }


def case_json(case: Case) -> dict[str, Any]:
    """A case as the GraphQL ``Case`` type."""
    evidence: Any = None
    if case.evidence:
        try:
            evidence = json.loads(case.evidence)
        except ValueError:
            evidence = case.evidence
    return {
        "id": case.id,
        "kind": case.kind.value,
        "subjectId": case.subject_id,
        "status": case.status.value,
        "version": case.version,
        "filed": _iso(case.filed),
        "due": _iso(case.due),
        "decided": _iso(case.decided),
        "reason": case.reason,
        "decisionReason": case.decision_reason,
        "filedBy": case.filed_by,
        "decidedBy": case.decided_by,
        "evidence": evidence,
        "details": dict(case.extra),
    }


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
    serious = [s for s in penalties if s.effective_severity is Severity.SERIOUS]
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
            + ", ".join(f"{s.list.value} {s.id} on {_iso(s.effective_start)}" for s in later)
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


def _phoenix(
    store: GraphReader, company: Company, as_of: date, settings: ReviewSettings
) -> Candidate | None:
    signals = [
        s
        for s in shell_signals(store, company.id, as_of, settings.shell)
        if s.kind is SignalKind.PHOENIX
    ]
    if not signals:
        return None
    sanction_ids = sorted({str(s.evidence["sanctionId"]) for s in signals})
    found = store.get_many(sanction_ids)
    records = tuple(
        EvidenceRecord(node, "predecessor")
        for node in (found.get(i) for i in sanction_ids)
        if isinstance(node, Sanction)
    )
    links: list[dict[str, Any]] = []
    for signal in signals:
        ev = signal.evidence
        old, new = str(ev["sanctionedCompanyId"]), company.id
        if ev.get("via") == "principal":
            person = str(ev["personId"])
            path = {
                "nodes": [old, person, new],
                "links": [
                    {"type": "OFFICER_OF", "from": person, "to": old, "roles": ev["rolesThen"]},
                    {"type": "OFFICER_OF", "from": person, "to": new, "roles": ev["rolesNow"]},
                ],
            }
        else:
            controller = str(ev["controllerId"])
            path = {
                "nodes": [old, controller, new],
                "links": [
                    {"type": "CONTROLS", "from": controller, "to": old, "roles": []},
                    {"type": "CONTROLS", "from": controller, "to": new, "roles": []},
                ],
            }
        links.append({**ev, "summary": signal.summary, "path": path})
    return Candidate(
        id=_candidate_id(company.id, CandidateKind.PHOENIX, [r.sanction.id for r in records]),
        entity=company,
        kind=CandidateKind.PHOENIX,
        summary="likely phoenix company: " + "; ".join(s.summary for s in signals),
        records=records,
        links=tuple(links),
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
    subjects = store.get_many({s.subject_id for s in qualifying})
    suspects: set[str] = set()
    principal = Step(LinkType.OFFICER_OF, Direction.BOTH, frozenset(PRINCIPAL_ROLES))
    actual = frozenset({OfficerRole.ACTUAL_CONTROLLER})
    for sanction in qualifying:
        subject = subjects.get(sanction.subject_id)
        start = sanction.effective_start
        if not isinstance(subject, Company) or start is None:
            continue
        latest = add_days(start, limits.phoenix_window_days)
        near = store.neighbourhood([subject.id], steps=[principal], hops=2, as_of=None)
        above = extract_closure(store, subject.id, None, upward=True)
        owners = [n for n in above.nodes if n != subject.id]
        below = (
            store.neighbourhood(
                owners,
                steps=[
                    Step(LinkType.OWNS, Direction.OUT),
                    Step(LinkType.OFFICER_OF, Direction.OUT, actual),
                ],
                hops=64,
                as_of=None,
            )
            if owners
            else None
        )
        nodes = dict(near.nodes)
        if below is not None:
            nodes.update(below.nodes)
        for node in nodes.values():
            if (
                isinstance(node, Company)
                and node.id != subject.id
                and node.founded is not None
                and start <= node.founded <= latest
            ):
                suspects.add(node.id)
    return suspects


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
    found: list[Candidate] = []
    for entity_id in sorted(entities):
        entity = entities[entity_id]
        records = by_subject.get(entity_id, [])
        if _under_ban(records, as_of, rules):
            continue
        proposals: list[Candidate] = []
        offender = _repeat_offender(entity, records, as_of, settings)
        if offender is not None:
            proposals.append(offender)
        if entity_id in suspects and isinstance(entity, Company):
            phoenix = _phoenix(store, entity, as_of, settings)
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


# -- decisions ---------------------------------------------------------------------------------


def _reason(reason: str, what: str = "a decision") -> str:
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        raise InvalidInput(f"{what} needs a reason")
    return text


def _actor(actor: str) -> str:
    text = actor.strip()
    if not text:
        raise InvalidInput("say who decides: the actor is empty")
    return text


def _decided_conflict(case: Case) -> Conflict:
    return Conflict(
        f"case {case.id!r} was already decided ({case.status.value}) by {case.decided_by} on "
        f"{_iso(case.decided)}; nothing was changed"
    )


def decide_market_ban(
    store: GraphStore,
    candidate_id: str,
    approve: bool,
    reason: str,
    years: int,
    actor: str,
    today: date,
    rules: RuleSet,
    settings: ReviewSettings | None = None,
) -> tuple[Case, Sanction | None]:
    """A reviewer's decision on a candidate: the MARKET_BAN_REVIEW case, and the ban if approved.

    The case (id = candidate id) is written with ``expect={id: 0}``: a second decision on the same
    candidate, simultaneous or later, raises :class:`Conflict` and writes nothing. An approval
    writes the MARKET_BAN record (start ``today``, end ``today + years``, severity serious, legal
    basis from the rules that MARKET_BAN triggers) in the same batch.
    """
    settings = settings or ReviewSettings()
    text = _reason(reason)
    who = _actor(actor)
    if approve and not 1 <= years <= settings.max_ban_years:
        raise InvalidInput(f"years must be between 1 and {settings.max_ban_years}, not {years}")
    existing = store.get(candidate_id)
    if isinstance(existing, Case):
        raise _decided_conflict(existing)
    candidate = find_candidate(store, candidate_id, today, settings, rules=rules)
    evidence = json.dumps(candidate_json(candidate), ensure_ascii=False, sort_keys=True)
    ban: Sanction | None = None
    extra: dict[str, str | int | bool] = {"candidate_kind": candidate.kind.value}
    if approve:
        probe = Sanction(candidate.id, candidate.entity_id, SanctionList.MARKET_BAN)
        kind = candidate.entity.kind
        bases = [
            f"{rule.id} {rule.name}: {rule.subject.measures[m]}"
            for rule in rules.rules_for(probe, kind)
            for m in rule.subject.measures
            if m is Measure.MARKET_ENTRY_BAN
        ]
        ban = Sanction(
            id=f"{candidate.id}-ban",
            subject_id=candidate.entity_id,
            list=SanctionList.MARKET_BAN,
            authority=settings.authority,
            severity=Severity.SERIOUS,
            decided=today,
            start=today,
            end=add_months(today, 12 * years),
            legal_basis="；".join(bases) or None,
            description=f"market-ban review {candidate.id}: {text}",
        )
        extra |= {"years": years, "sanction_id": ban.id}
    case = Case(
        id=candidate.id,
        kind=CaseKind.MARKET_BAN_REVIEW,
        subject_id=candidate.entity_id,
        status=CaseStatus.APPROVED if approve else CaseStatus.REJECTED,
        version=1,
        filed=today,
        decided=today,
        reason=candidate.summary,
        decision_reason=text,
        filed_by="market-ban review queue",
        decided_by=who,
        evidence=evidence,
        extra=extra,
    )
    written: list[Node] = [case]
    if ban is not None:
        written.append(ban)
    batch = WriteBatch(nodes=written)
    store.write(batch, expect={case.id: 0})
    return case, ban


def _sanction(store: GraphReader, sanction_id: str) -> Sanction:
    node = store.get(sanction_id)
    if not isinstance(node, Sanction):
        raise NotFound(f"no sanction record with id {sanction_id!r}")
    return node


def _case(store: GraphReader, case_id: str, kind: CaseKind) -> Case:
    node = store.get(case_id)
    if not isinstance(node, Case) or node.kind is not kind:
        raise NotFound(f"no {kind.value.replace('_', ' ')} case with id {case_id!r}")
    return node


def _next_case_id(store: GraphReader, prefix: str, sanction_id: str, kind: CaseKind) -> str:
    count = len(store.cases(subject_ids=[sanction_id], kind=kind))
    return f"{prefix}-{sanction_id}-{count + 1}"


def _open_version(case: Case, version: int | None) -> int:
    """The version to expect: the caller's (stale → Conflict) or the one just read."""
    if case.status is not CaseStatus.OPEN:
        raise _decided_conflict(case)
    if version is not None and version != case.version:
        raise Conflict(
            f"case {case.id!r} changed since you read it (you read version {version}, it is now "
            f"{case.version}); reload it and decide again"
        )
    return case.version


def file_objection(
    store: GraphStore,
    sanction_id: str,
    reason: str,
    actor: str,
    today: date,
    settings: ReviewSettings | None = None,
) -> Case:
    """File an objection: an OBJECTION case due in 20 days, and the record marked disputed."""
    settings = settings or ReviewSettings()
    text = _reason(reason, "an objection")
    who = _actor(actor)
    sanction = _sanction(store, sanction_id)
    if sanction.status is SanctionStatus.REVOKED:
        raise InvalidInput(
            f"sanction {sanction_id!r} was revoked on {_iso(sanction.status_date)}; "
            "there is nothing left to object to"
        )
    for case in store.cases(subject_ids=[sanction_id], kind=CaseKind.OBJECTION):
        if case.status is CaseStatus.OPEN:
            raise InvalidInput(
                f"sanction {sanction_id!r} already has an open objection, {case.id!r}, filed "
                f"{_iso(case.filed)} and due {_iso(case.due)}; wait for its decision"
            )
    case = Case(
        id=_next_case_id(store, "obj", sanction_id, CaseKind.OBJECTION),
        kind=CaseKind.OBJECTION,
        subject_id=sanction_id,
        status=CaseStatus.OPEN,
        version=1,
        filed=today,
        due=add_days(today, settings.objection_due_days),
        reason=text,
        filed_by=who,
    )
    store.write(WriteBatch(nodes=[case, replace(sanction, disputed=True)]), expect={case.id: 0})
    return case


def resolve_objection(
    store: GraphStore,
    case_id: str,
    uphold: bool,
    reason: str,
    actor: str,
    today: date,
    version: int | None = None,
) -> tuple[Case, Sanction]:
    """Uphold (revoke the record as of ``today``) or reject an objection; the dispute ends.

    An upheld objection sets the record's status to ``revoked`` with ``status_date = today``: it
    produces no measures from that day on, and its history (and what held before) is kept.
    """
    text = _reason(reason)
    who = _actor(actor)
    case = _case(store, case_id, CaseKind.OBJECTION)
    expected = _open_version(case, version)
    sanction = _sanction(store, case.subject_id)
    if uphold:
        changed = replace(
            sanction, status=SanctionStatus.REVOKED, status_date=today, disputed=False
        )
    else:
        changed = replace(sanction, disputed=False)
    decided = replace(
        case,
        status=CaseStatus.UPHELD if uphold else CaseStatus.REJECTED,
        version=case.version + 1,
        decided=today,
        decision_reason=text,
        decided_by=who,
    )
    store.write(WriteBatch(nodes=[decided, changed]), expect={case.id: expected})
    return decided, changed


def repair_opens_on(sanction: Sanction, rules: RuleSet) -> date | None:
    """The first day a repair application is accepted (None: no start, so no waiting)."""
    start = sanction.effective_start
    if start is None:
        return None
    return add_months(start, rules.publicity.minimum_months(sanction))


def apply_credit_repair(
    store: GraphStore,
    sanction_id: str,
    commitment: str,
    fine_paid: bool,
    actor: str,
    today: date,
    rules: RuleSet,
) -> Case:
    """File a credit-repair application (a CREDIT_REPAIR case) once the minimum period has passed.

    Refused (InvalidInput, with the reason and the earliest date when there is one) for a record
    on a list without a maximum (MARKET_BAN, DISHONEST_JUDGMENT_DEBTOR: they end only by their end
    date or a decision), before ``start + minimum publicity period``, for a record not in force at
    ``today`` (revoked, repaired, expired, not started), and when an application is already open.
    """
    who = _actor(actor)
    sanction = _sanction(store, sanction_id)
    policy = rules.publicity
    if sanction.list in policy.no_maximum:
        until = f" on {sanction.end.isoformat()}" if sanction.end is not None else ""
        raise InvalidInput(
            f"a {sanction.list.value} record can't be repaired: it ends by its own end date"
            f"{until} or by a decision (an objection)"
        )
    if sanction.status is not SanctionStatus.ACTIVE:
        raise InvalidInput(
            f"sanction {sanction_id!r} is {sanction.status.value} since "
            f"{_iso(sanction.status_date)}; there is nothing to repair"
        )
    opens = repair_opens_on(sanction, rules)
    if opens is not None and today < opens:
        months = policy.minimum_months(sanction)
        raise InvalidInput(
            f"credit repair of a {sanction.effective_severity.value} record opens after its "
            f"minimum publicity period of {months} months: apply on or after {opens.isoformat()}"
        )
    if not sanction_in_force(sanction, today, policy):
        ended = sanction_ended_on(sanction, policy)
        raise InvalidInput(
            f"sanction {sanction_id!r} is not in force on {today.isoformat()}"
            + (f" (it ended {ended.isoformat()} on its own)" if ended is not None else "")
            + "; there is nothing to repair"
        )
    for case in store.cases(subject_ids=[sanction_id], kind=CaseKind.CREDIT_REPAIR):
        if case.status is CaseStatus.OPEN:
            raise InvalidInput(
                f"sanction {sanction_id!r} already has an open repair application, {case.id!r}, "
                f"filed {_iso(case.filed)}; wait for its decision"
            )
    text = commitment.strip()
    case = Case(
        id=_next_case_id(store, "rep", sanction_id, CaseKind.CREDIT_REPAIR),
        kind=CaseKind.CREDIT_REPAIR,
        subject_id=sanction_id,
        status=CaseStatus.OPEN,
        version=1,
        filed=today,
        reason=text or None,
        filed_by=who,
        extra={"commitment": text, "fine_paid": bool(fine_paid)},
    )
    store.write(WriteBatch(nodes=[case]), expect={case.id: 0})
    return case


def decide_credit_repair(
    store: GraphStore,
    case_id: str,
    approve: bool,
    reason: str,
    actor: str,
    today: date,
    version: int | None = None,
) -> tuple[Case, Sanction]:
    """Approve (the record becomes ``repaired`` as of ``today``) or reject a repair application.

    Approval needs a recorded credit commitment and, when the record has a fine, the fine paid.
    """
    text = _reason(reason)
    who = _actor(actor)
    case = _case(store, case_id, CaseKind.CREDIT_REPAIR)
    expected = _open_version(case, version)
    sanction = _sanction(store, case.subject_id)
    changed = sanction
    if approve:
        missing = []
        if not str(case.extra.get("commitment") or "").strip():
            missing.append("no credit commitment is recorded")
        if sanction.fine is not None and sanction.fine > 0 and not case.extra.get("fine_paid"):
            missing.append(f"the fine of {sanction.fine:g} CNY is not paid")
        if missing:
            raise InvalidInput(f"repair can't be approved: {' and '.join(missing)}")
        if sanction.status is not SanctionStatus.ACTIVE:
            raise InvalidInput(
                f"sanction {sanction.id!r} is {sanction.status.value} since "
                f"{_iso(sanction.status_date)}; reject the application instead"
            )
        changed = replace(sanction, status=SanctionStatus.REPAIRED, status_date=today)
    decided = replace(
        case,
        status=CaseStatus.APPROVED if approve else CaseStatus.REJECTED,
        version=case.version + 1,
        decided=today,
        decision_reason=text,
        decided_by=who,
    )
    nodes: list[Node] = [decided]
    if approve:
        nodes.append(changed)
    store.write(WriteBatch(nodes=nodes), expect={case.id: expected})
    return decided, changed
