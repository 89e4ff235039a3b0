"""Due process (spec/DOMAIN.md "Due process"): decisions on market-ban candidates, objections,
credit repair.

Pure logic over the :class:`graph.store.GraphStore` port: every function takes the day it runs
on (``as_of`` / ``today``) as a parameter and never reads the clock. Every decision is one
atomic :meth:`~graph.store.GraphWriter.write` of the :class:`~graph.model.Case` and the sanction
record it changes, conditional on the case's version (``expect``): when two reviewers decide the
same case, one wins and the other gets :class:`graph.errors.Conflict` with nothing written.

Interpretations of DOMAIN.md (where it is silent):

* Market-ban candidates and their evidence: :mod:`queries.market_ban`.
* The review's Case id is the candidate id; the approved ban's Sanction id is ``<case id>-ban``.
* **Objections and repairs** get case ids ``obj-<sanction id>-<n>`` / ``rep-<sanction id>-<n>``
  (n = one more than the cases of that kind about the record), so two simultaneous filings
  collide on the id and one gets Conflict. At most one open objection and one open repair
  application per record. A revoked record can't be objected to; only an active record still in
  force can be repaired. "The fine is paid" is required only of a record with a fine above 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from typing import Any

from graph.commitments import CommitmentState, state_at
from graph.errors import Conflict, Forbidden, InvalidInput, NotFound
from graph.model import (
    Case,
    CaseKind,
    CaseStatus,
    Commitment,
    CommitmentKind,
    Measure,
    Node,
    Sanction,
    SanctionList,
    SanctionStatus,
    Severity,
)
from graph.rules.engine import add_days, add_months, sanction_ended_on, sanction_in_force
from graph.rules.schema import RuleSet
from graph.store import GraphReader, GraphStore, WriteBatch, versioned_as
from queries.market_ban import (
    Candidate,
    CandidateKind,
    EvidenceRecord,
    ReviewSettings,
    case_evidence,
    find_candidate,
    market_ban_candidates,
)

__all__ = [
    "Candidate",
    "CandidateKind",
    "EvidenceRecord",
    "ReviewSettings",
    "apply_credit_repair",
    "decide_credit_repair",
    "decide_market_ban",
    "file_objection",
    "find_candidate",
    "market_ban_candidates",
    "resolve_objection",
]


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


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


def _not_own_filing(case: Case, who: str) -> None:
    """Separation of duties: whoever filed or applied may not decide it."""
    if case.filed_by is not None and case.filed_by == who:
        raise Forbidden(
            f"{who} filed {case.id!r} and so may not decide it; another reviewer must decide"
        )


def _with_audit(batch: WriteBatch, audit: Mapping[str, Any] | None, case: Case) -> WriteBatch:
    """Add the decision's audit event (its ``result`` the case id) to the batch that writes it."""
    if audit is not None:
        batch.audit.append({**audit, "result": case.id})
    return batch


def _touched(sanction: Sanction, **changes: Any) -> tuple[Sanction, int]:
    """The record as a decision leaves it (its version one more), and the version it read."""
    read = versioned_as(sanction)
    return replace(sanction, version=read + 1, **changes), read


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
    *,
    audit: Mapping[str, Any] | None = None,
) -> tuple[Case, Sanction | None]:
    """A reviewer's decision on a candidate: the MARKET_BAN_REVIEW case, and the ban if approved.

    The case (id = candidate id) is written with ``expect={id: 0}``: a second decision on the same
    candidate, simultaneous or later, raises :class:`Conflict` and writes nothing. An approval
    writes the MARKET_BAN record (start ``today``, end ``today + years``, severity serious, legal
    basis from the rules that MARKET_BAN triggers) in the same batch. ``audit``, when given, is
    an audit event written in that batch too (every decision function takes one).
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
    evidence = case_evidence(candidate)
    ban: Sanction | None = None
    extra: dict[str, str | int | bool] = {"candidate_kind": candidate.kind.value}
    if approve:
        probe = Sanction(candidate.id, candidate.entity_id, SanctionList.MARKET_BAN)
        kind = candidate.entity.kind
        bases = [
            f"{rule.id} {rule.name}: {rule.subject.measures[m]}"
            for rule in rules.rules_for(probe, kind)
            for m in rule.subject.measures
            if m == Measure.MARKET_ENTRY_BAN
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
    expect = {case.id: 0}
    if ban is not None:
        ban = replace(ban, version=1)
        written[-1] = ban
        expect[ban.id] = 0
    store.write(_with_audit(WriteBatch(nodes=written), audit, case), expect=expect)
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
    *,
    audit: Mapping[str, Any] | None = None,
) -> Case:
    """File an objection: an OBJECTION case due in 20 days, and the record marked disputed.

    Conditional on the record's version as read: a decision on the record made meanwhile wins
    and this raises :class:`Conflict` with nothing written.
    """
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
    disputed, read = _touched(sanction, disputed=True)
    store.write(
        _with_audit(WriteBatch(nodes=[case, disputed]), audit, case),
        expect={case.id: 0, sanction.id: read},
    )
    return case


def resolve_objection(
    store: GraphStore,
    case_id: str,
    uphold: bool,
    reason: str,
    actor: str,
    today: date,
    version: int | None = None,
    *,
    audit: Mapping[str, Any] | None = None,
) -> tuple[Case, Sanction]:
    """Uphold (revoke the record as of ``today``) or reject an objection; the dispute ends.

    Whoever filed the objection may not resolve it (:class:`Forbidden`). The case and the record
    are written together, conditional on both versions as read.

    An upheld objection sets the record's status to ``revoked`` with ``status_date = today``: it
    produces no measures from that day on, and its history (and what held before) is kept.
    """
    text = _reason(reason)
    who = _actor(actor)
    case = _case(store, case_id, CaseKind.OBJECTION)
    expected = _open_version(case, version)
    _not_own_filing(case, who)
    sanction = _sanction(store, case.subject_id)
    if uphold:
        changed, read = _touched(
            sanction, status=SanctionStatus.REVOKED, status_date=today, disputed=False
        )
    else:
        changed, read = _touched(sanction, disputed=False)
    decided = replace(
        case,
        status=CaseStatus.UPHELD if uphold else CaseStatus.REJECTED,
        version=case.version + 1,
        decided=today,
        decision_reason=text,
        decided_by=who,
    )
    store.write(
        _with_audit(WriteBatch(nodes=[decided, changed]), audit, decided),
        expect={case.id: expected, sanction.id: read},
    )
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
    commitment: str | None,
    actor: str,
    today: date,
    rules: RuleSet,
    *,
    audit: Mapping[str, Any] | None = None,
) -> Case:
    """File a credit-repair application (a CREDIT_REPAIR case) once the minimum period has passed.

    Refused (InvalidInput, with the reason and the earliest date when there is one) for a record
    on a list without a maximum (MARKET_BAN, DISHONEST_JUDGMENT_DEBTOR: they end only by their end
    date or a decision), before ``start + minimum publicity period``, for a record not in force at
    ``today`` (revoked, repaired, expired, not started), and when an application is already open.
    Whether the fine is paid is not the applicant's word: the reviewer finds it on decision.
    Conditional on the record's version as read, like every decision about it.

    ``commitment`` is the id of the subject's CREDIT_REPAIR commitment (a recorded
    :class:`~graph.model.Commitment`), when it has made one already; it may also be recorded
    later, before the decision (:func:`decide_credit_repair` looks for it then).
    """
    who = _actor(actor)
    sanction = _sanction(store, sanction_id)
    policy = rules.publicity
    if sanction.list in policy.no_maximum:
        until = f" on {sanction.end.isoformat()}" if sanction.end is not None else ""
        raise InvalidInput(
            f"a {sanction.list} record can't be repaired: it ends by its own end date"
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
        severity = rules.catalogue.severity_of(sanction).value
        raise InvalidInput(
            f"credit repair of a {severity} record opens after its "
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
    text = (commitment or "").strip()
    if text:
        _repair_commitment(store, sanction, text, today)
    case = Case(
        id=_next_case_id(store, "rep", sanction_id, CaseKind.CREDIT_REPAIR),
        kind=CaseKind.CREDIT_REPAIR,
        subject_id=sanction_id,
        status=CaseStatus.OPEN,
        version=1,
        filed=today,
        filed_by=who,
        extra={"commitment": text} if text else {},
    )
    touched, read = _touched(sanction)
    store.write(
        _with_audit(WriteBatch(nodes=[case, touched]), audit, case),
        expect={case.id: 0, sanction.id: read},
    )
    return case


def _repair_commitment(
    store: GraphReader, sanction: Sanction, commitment_id: str, today: date
) -> Commitment:
    """The named commitment, if it is a credit-repair commitment of the record's subject that
    counts on ``today``; else InvalidInput saying what is wrong with it."""
    node = store.get(commitment_id)
    if not isinstance(node, Commitment):
        raise InvalidInput(
            f"no commitment with id {commitment_id!r}: record the credit commitment first "
            "(creditnet commitment add --kind CREDIT_REPAIR, or recordCommitment)"
        )
    problem = _repair_problem(node, sanction, today)
    if problem is not None:
        raise InvalidInput(f"commitment {commitment_id!r} {problem}")
    return node


def _repair_problem(commitment: Commitment, sanction: Sanction, today: date) -> str | None:
    if commitment.kind is not CommitmentKind.CREDIT_REPAIR:
        return f"is a {commitment.kind} commitment, not a CREDIT_REPAIR one"
    if commitment.promisor_id != sanction.subject_id:
        return (
            f"was made by {commitment.promisor_id}, not by {sanction.subject_id}, the subject "
            f"of {sanction.id}"
        )
    start = sanction.effective_start
    if start is not None and commitment.made < start:
        return f"was made {commitment.made.isoformat()}, before the record started"
    if commitment.made > today:
        return f"is made only on {commitment.made.isoformat()}"
    if state_at(commitment, today) is CommitmentState.BROKEN:
        return "was found broken; a broken commitment can't support a repair"
    return None


def _any_repair_commitment(store: GraphReader, sanction: Sanction, today: date) -> str | None:
    found = store.neighbourhood([sanction.subject_id], steps=[], hops=0, as_of=None)
    for commitment in found.commitments_of(sanction.subject_id):
        if _repair_problem(commitment, sanction, today) is None:
            return commitment.id
    return None


def decide_credit_repair(
    store: GraphStore,
    case_id: str,
    approve: bool,
    reason: str,
    actor: str,
    today: date,
    version: int | None = None,
    *,
    fine_paid: bool | None = None,
    audit: Mapping[str, Any] | None = None,
) -> tuple[Case, Sanction]:
    """Approve (the record becomes ``repaired`` as of ``today``) or reject a repair application.

    Approval needs a recorded credit commitment and, when the record has a fine, ``fine_paid``:
    the reviewer's finding that it is paid (recorded on the case). Whoever applied may not
    decide (:class:`Forbidden`). The case and the record are written together, conditional on
    both versions as read.

    The commitment is a real one: a CREDIT_REPAIR :class:`~graph.model.Commitment` of the
    record's subject, made on or after the record started and on or before ``today``, not found
    broken by ``today``; the one the application names, else the first such one by id (its id is
    then kept on the case).
    """
    text = _reason(reason)
    who = _actor(actor)
    case = _case(store, case_id, CaseKind.CREDIT_REPAIR)
    expected = _open_version(case, version)
    _not_own_filing(case, who)
    sanction = _sanction(store, case.subject_id)
    changes: dict[str, Any] = {}
    found_commitment: str | None = None
    if approve:
        missing = []
        named = str(case.extra.get("commitment") or "").strip()
        try:
            found_commitment = (
                _repair_commitment(store, sanction, named, today).id
                if named
                else _any_repair_commitment(store, sanction, today)
            )
        except InvalidInput as exc:
            missing.append(str(exc))
        if found_commitment is None and not missing:
            missing.append(
                f"no credit commitment is recorded: {sanction.subject_id} has no CREDIT_REPAIR "
                f"commitment made since the record started ({_iso(sanction.effective_start)}); "
                "record one (creditnet commitment add --kind CREDIT_REPAIR) and decide again"
            )
        if sanction.fine is not None and sanction.fine > 0 and not fine_paid:
            missing.append(
                f"the fine of {sanction.fine:g} CNY is not found paid (give finePaid / "
                "--fine-paid once you have checked the payment)"
            )
        if missing:
            raise InvalidInput(f"repair can't be approved: {' and '.join(missing)}")
        if sanction.status is not SanctionStatus.ACTIVE:
            raise InvalidInput(
                f"sanction {sanction.id!r} is {sanction.status.value} since "
                f"{_iso(sanction.status_date)}; reject the application instead"
            )
        changes = {"status": SanctionStatus.REPAIRED, "status_date": today}
    changed, read = _touched(sanction, **changes)
    extra = dict(case.extra)
    if fine_paid is not None:
        extra["fine_paid"] = bool(fine_paid)
    if found_commitment is not None:
        extra["commitment"] = found_commitment
    decided = replace(
        case,
        status=CaseStatus.APPROVED if approve else CaseStatus.REJECTED,
        version=case.version + 1,
        decided=today,
        decision_reason=text,
        decided_by=who,
        extra=extra,
    )
    store.write(
        _with_audit(WriteBatch(nodes=[decided, changed]), audit, decided),
        expect={case.id: expected, sanction.id: read},
    )
    return decided, changed
