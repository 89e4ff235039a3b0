"""``screen``: many bidders checked in one call, restricted or not per measure, with the reasons.

The answer is :func:`queries.screen.screen` shaped by :func:`api.views.screen_doc`; the types
below are built from that document, so ``creditnet screen --json`` and this field agree.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import strawberry
from strawberry.types import Info

from api import views
from api.auth import Role
from api.graphql.blocking import blocking
from api.graphql.context import Context
from api.graphql.types import Entity, Measure, Restriction, to_entity
from queries.screen import Screening as ScreeningAnswer
from queries.screen import screen

__all__ = ["MeasureScreen", "ScreenQuery", "ScreenRow", "Screening"]


@strawberry.type
class MeasureScreen:
    """One measure for one entity: whether it applies and every restriction that applies it."""

    measure: Measure  # type: ignore[valid-type]
    restricted: bool
    reasons: list[Restriction]

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> MeasureScreen:
        return cls(
            measure=doc["measure"],
            restricted=doc["restricted"],
            reasons=[Restriction.from_doc(r) for r in doc["reasons"]],
        )


@strawberry.type
class ScreenRow:
    """One screened id: ``found`` false (and no measures) when no company or person has it."""

    id: strawberry.ID
    found: bool
    entity: Entity | None
    restricted: bool
    measures: list[MeasureScreen]


@strawberry.type
class Screening:
    as_of: date
    measures: list[Measure]  # type: ignore[valid-type]
    restricted_count: int
    not_found: list[strawberry.ID]
    rows: list[ScreenRow]

    @classmethod
    def of(cls, answer: ScreeningAnswer, ctx: Context) -> Screening:
        doc = views.screen_doc(answer, ctx.rules)
        # The entity fields resolve through loaders (a person's officers, ...): built from the
        # typed entity; everything else from the document.
        entities = {row.id: row.entity for row in answer.rows}
        return cls(
            as_of=date.fromisoformat(doc["asOf"]),
            measures=doc["measures"],
            restricted_count=doc["restrictedCount"],
            not_found=[strawberry.ID(i) for i in doc["notFound"]],
            rows=[
                ScreenRow(
                    id=strawberry.ID(row["id"]),
                    found=row["found"],
                    entity=to_entity(entities[row["id"]], ctx),
                    restricted=row["restricted"],
                    measures=[MeasureScreen.from_doc(m) for m in row["measures"]],
                )
                for row in doc["rows"]
            ],
        )


@strawberry.type
class ScreenQuery:
    """Mixed into ``Query`` (api/graphql/schema.py)."""

    @strawberry.field
    async def screen(
        self,
        info: Info[Context, None],
        ids: list[strawberry.ID],
        measures: list[Measure] | None = None,  # type: ignore[valid-type]
        as_of: date | None = None,
    ) -> Screening:
        """Whether each of ``ids`` is restricted at ``asOf`` (default today), per measure
        (default: every restriction measure), with the reasons: rule, legal basis, source
        record and path. Unknown ids are answered on their row (``found`` false). One audit
        record lists every id asked for (agency+)."""
        ctx = info.context
        ctx.require(Role.AGENCY, "screening")
        asked = [str(i) for i in ids]
        ctx.audit_records.append(("screen", asked))
        wanted = [str(m) for m in measures] if measures is not None else None
        found = await blocking(screen, ctx.store, asked, as_of or ctx.today(), ctx.rules, wanted)
        return Screening.of(found, ctx)
