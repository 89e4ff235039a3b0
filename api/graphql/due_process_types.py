"""GraphQL types of due process: market-ban candidates with their evidence, and the cases of
objections, credit repair and market-ban reviews."""

from __future__ import annotations

from datetime import date
from enum import Enum

import strawberry
from strawberry.types import Info

from api import views
from api.graphql.context import Context
from api.graphql.types import Entity, Path, Sanction, _day, to_entity
from graph import explain, model
from graph.rules.schema import RuleSet
from queries import due_process

__all__ = [
    "CandidateKind",
    "CandidateLink",
    "Case",
    "CaseKind",
    "CaseStatus",
    "EvidenceRecord",
    "MarketBanCandidate",
    "MarketBanDecision",
    "ObjectionOutcome",
]

CandidateKind = strawberry.enum(due_process.CandidateKind, name="CandidateKind")
CaseKind = strawberry.enum(model.CaseKind, name="CaseKind")
CaseStatus = strawberry.enum(model.CaseStatus, name="CaseStatus")


@strawberry.enum
class ObjectionOutcome(Enum):
    UPHOLD = "UPHOLD"
    REJECT = "REJECT"


@strawberry.type
class EvidenceRecord:
    """A sanction record a market-ban candidate rests on, and the part it plays."""

    role: str
    sanction: Sanction

    @classmethod
    def of(cls, record: due_process.EvidenceRecord, rules: RuleSet) -> EvidenceRecord:
        doc = views.evidence_record_doc(record, rules)
        return cls(role=doc["role"], sanction=Sanction.of(record.sanction, rules))


@strawberry.type
class CandidateLink:
    """How a likely phoenix is tied to its sanctioned predecessor."""

    via: str
    summary: str
    sanction_id: strawberry.ID
    predecessor_id: strawberry.ID
    shared_id: strawberry.ID
    roles_then: list[str]
    roles_now: list[str]
    path: Path

    @classmethod
    def of(cls, tie: explain.PhoenixEvidence) -> CandidateLink:
        doc = views.phoenix_doc(tie, {})
        return cls(
            via=doc["via"],
            summary=doc["summary"],
            sanction_id=strawberry.ID(doc["sanctionId"]),
            predecessor_id=strawberry.ID(doc["predecessorId"]),
            shared_id=strawberry.ID(doc["sharedId"]),
            roles_then=doc["rolesThen"],
            roles_now=doc["rolesNow"],
            path=Path.of(tie.path),
        )


@strawberry.type
class MarketBanCandidate:
    id: strawberry.ID
    entity: Entity
    kind: CandidateKind  # type: ignore[valid-type]
    summary: str
    evidence: list[EvidenceRecord]
    links: list[CandidateLink]

    @classmethod
    def of(cls, c: due_process.Candidate, ctx: Context) -> MarketBanCandidate:
        entity = to_entity(c.entity, ctx)
        assert entity is not None
        return cls(
            id=strawberry.ID(c.id),
            entity=entity,
            kind=c.kind,
            summary=c.summary,
            evidence=[EvidenceRecord.of(r, ctx.rules) for r in c.records],
            links=[CandidateLink.of(tie) for tie in c.links],
        )


@strawberry.type
class Case:
    """A due-process case: an objection or repair application about a record, or a market-ban
    review of an entity. ``version`` is what a decision names to be refused when stale."""

    id: strawberry.ID
    kind: CaseKind  # type: ignore[valid-type]
    subject_id: strawberry.ID
    status: CaseStatus  # type: ignore[valid-type]
    version: int
    filed: date | None
    due: date | None
    decided: date | None
    reason: str | None
    decision_reason: str | None
    filed_by: str | None
    decided_by: str | None
    evidence: str | None
    """A JSON document: what the case rests on."""
    commitment: str | None
    fine_paid: bool | None

    @classmethod
    def of(cls, c: model.Case) -> Case:
        doc = views.case_doc(c)
        details = doc["details"]
        commitment = details.get("commitment")
        fine_paid = details.get("fine_paid")
        return cls(
            id=strawberry.ID(doc["id"]),
            kind=c.kind,
            subject_id=strawberry.ID(doc["subjectId"]),
            status=c.status,
            version=doc["version"],
            filed=_day(doc["filed"]),
            due=_day(doc["due"]),
            decided=_day(doc["decided"]),
            reason=doc["reason"],
            decision_reason=doc["decisionReason"],
            filed_by=doc["filedBy"],
            decided_by=doc["decidedBy"],
            evidence=c.evidence,
            commitment=str(commitment) if commitment is not None else None,
            fine_paid=bool(fine_paid) if fine_paid is not None else None,
        )

    @strawberry.field
    async def sanction(self, info: Info[Context, None]) -> Sanction | None:
        """The record an objection or repair is about, or the ban a review approved."""
        extra_id: str | None = None
        if self.kind is model.CaseKind.MARKET_BAN_REVIEW:
            node = await info.context.loaders.entity.load(str(self.id))
            if isinstance(node, model.Case):
                found = node.extra.get("sanction_id")
                extra_id = str(found) if found is not None else None
            if extra_id is None:
                return None
        record = await info.context.loaders.entity.load(extra_id or str(self.subject_id))
        return (
            Sanction.of(record, info.context.rules) if isinstance(record, model.Sanction) else None
        )


@strawberry.type
class MarketBanDecision:
    case: Case
    sanction: Sanction | None
    """The MARKET_BAN record an approval created (null for a rejection)."""
