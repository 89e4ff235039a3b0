"""The reward half of the API: ``recordCommitment`` and ``verifyCommitment`` (mutations) and
``inspectionDraw`` (a query), mixed into the schema's Query and Mutation.

Each runs under the shared audited-decision policy (:func:`api.audit.run_audited`): the actor is
the caller's key, never an argument; the event is written with the change (for a draw, on its own:
it changes nothing but is on the record, with what it takes to reproduce it).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from enum import Enum
from typing import Any, TypeVar

import strawberry
from strawberry.types import Info

from api import views
from api.audit import run_audited
from api.auth import Role
from api.graphql.blocking import blocking
from api.graphql.context import Context
from api.graphql.types import Commitment, Sanction
from graph import model
from graph.errors import Forbidden
from graph.store import WriteBatch
from queries import commitments
from queries.supervision import InspectionDraw as Draw
from queries.supervision import inspection_draw

__all__ = ["IncentiveMutation", "IncentiveQuery"]

T = TypeVar("T")

CommitmentKind = strawberry.enum(model.CommitmentKind, name="CommitmentKind")


@strawberry.enum
class CommitmentVerdict(Enum):
    KEPT = "KEPT"
    BROKEN = "BROKEN"


@strawberry.enum
class Severity(Enum):
    MINOR = "minor"
    GENERAL = "general"
    SERIOUS = "serious"


@strawberry.type
class CommitmentVerification:
    commitment: Commitment
    breach_record: Sanction | None
    """The COMMITMENT_BREACH record a broken verification wrote (null when kept)."""


@strawberry.type
class DrawClass:
    name: str
    size: int
    rate: float
    selected: int


@strawberry.type
class DrawnCompany:
    id: strawberry.ID
    class_: str = strawberry.field(name="class")


@strawberry.type
class InspectionDraw:
    """A seeded, reproducible random-inspection draw (spec/DOMAIN.md "Graded supervision")."""

    id: strawberry.ID
    as_of: date
    seed: int
    region: str | None
    rules: str
    classes: list[DrawClass]
    selected: list[DrawnCompany]

    @classmethod
    def of(cls, draw: Draw) -> InspectionDraw:
        doc = views.draw_doc(draw)
        return cls(
            id=strawberry.ID(doc["id"]),
            as_of=draw.as_of,
            seed=doc["seed"],
            region=doc["region"],
            rules=doc["rules"],
            classes=[DrawClass(name=k, **v) for k, v in doc["classes"].items()],
            selected=[
                DrawnCompany(id=strawberry.ID(i["id"]), class_=i["class"]) for i in doc["selected"]
            ],
        )


async def _audited(
    ctx: Context,
    operation: str,
    needed: Role,
    what: str,
    subjects: list[str],
    action: Callable[[dict[str, Any]], T],
    result_of: Callable[[T], str],
) -> T:
    """Check the caller may ``what`` and run ``action(event)`` audited, in a worker thread."""
    key = ctx.key()

    def run() -> T:
        def attempt(event: dict[str, Any]) -> T:
            if not key.role.allows(needed):
                raise Forbidden(f"role {key.role.value!r} may not {what}; it needs {needed.value}")
            return action(event)

        return run_audited(
            ctx.audit,
            operation=operation,
            subject_ids=subjects,
            key_id=key.id,
            key_name=key.name,
            role=key.role.value,
            request_id=ctx.request_id,
            action=attempt,
            result_of=result_of,
        )

    return await blocking(run)


@strawberry.type
class IncentiveQuery:
    @strawberry.field
    async def inspection_draw(
        self,
        info: Info[Context, None],
        seed: int,
        as_of: date | None = None,
        region: str | None = None,
    ) -> InspectionDraw:
        """Draw the companies to inspect (reviewer+); every draw is audited with its seed,
        date, region, rules version and counts per class."""
        ctx = info.context
        day = as_of or ctx.today()

        def act(event: dict[str, Any]) -> Draw:
            found = inspection_draw(ctx.store, day, seed, ctx.rules, region=region)
            event["details"] = found.audit_details()
            ctx.store.write(WriteBatch(audit=[{**event, "result": found.id}]))
            return found

        draw = await _audited(
            ctx,
            "inspection_draw",
            Role.REVIEWER,
            "draw inspections",
            [region or "*"],
            act,
            lambda d: d.id,
        )
        return InspectionDraw.of(draw)


@strawberry.type
class IncentiveMutation:
    @strawberry.mutation
    async def record_commitment(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
        promisor: strawberry.ID,
        kind: CommitmentKind,  # type: ignore[valid-type]
        made: date | None = None,
        due: date | None = None,
        matter: str | None = None,
        agency: str | None = None,
    ) -> Commitment:
        """Record a pending credit commitment (agency+); ``agency`` defaults to the key's name."""
        ctx = info.context
        today = ctx.today()
        key = ctx.key()
        found = await _audited(
            ctx,
            "record_commitment",
            Role.AGENCY,
            "record commitments",
            [str(promisor)],
            lambda event: commitments.record_commitment(
                ctx.store,
                str(id),
                str(promisor),
                model.CommitmentKind(kind),
                made or today,
                today,
                agency=agency or key.name,
                matter=matter,
                due=due,
                audit=event,
            ),
            lambda c: c.id,
        )
        return Commitment.of(found, today)

    @strawberry.mutation
    async def verify_commitment(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
        verdict: CommitmentVerdict,
        severity: Severity | None = None,
        version: int | None = None,
    ) -> CommitmentVerification:
        """Verify a commitment as kept or broken, today (reviewer+); a broken one writes its
        COMMITMENT_BREACH record in the same step."""
        ctx = info.context
        today = ctx.today()
        level = model.Severity(severity.value) if severity is not None else None
        written, record = await _audited(
            ctx,
            "verify_commitment",
            Role.REVIEWER,
            "verify commitments",
            [str(id)],
            lambda event: commitments.verify_commitment(
                ctx.store,
                str(id),
                verdict is CommitmentVerdict.KEPT,
                today,
                severity=level,
                version=version,
                audit=event,
            ),
            lambda result: result[0].id,
        )
        return CommitmentVerification(
            commitment=Commitment.of(written, today),
            breach_record=Sanction.of(record, ctx.rules) if record is not None else None,
        )
