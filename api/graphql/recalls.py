"""``recallNotices``: every recall notice in force at a date (spec/TRACEABILITY.md, rule R11).

The answer is :func:`queries.recalls.recall_list` shaped by :func:`api.views.recall_list_doc`; the
types below are built from that document, so ``creditnet recalls --json`` and this field agree.
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
from api.graphql.types import Company, Measure, Path, Sanction, to_entity
from queries.recalls import RecallList as RecallListAnswer
from queries.recalls import recall_list, receivers

__all__ = ["RecallList", "RecallNotice", "RecallQuery"]


@strawberry.type
class RecallNotice:
    """A company that received a batch found unsafe (or one made from it) and must take part in
    its recall: the notice, the record and rule behind it, and the path from the batch at fault.
    A notice has no score effect and withholds no incentive."""

    receiver: Company
    measure: Measure  # type: ignore[valid-type]
    rule: str
    legal_basis: str
    source: Sanction
    """The record on the batch at fault."""
    path: Path
    """From the batch at fault to the receiver: batch, batches made from it, the receiver."""
    disputed: bool
    batch_id: strawberry.ID
    """The batch at fault."""
    received_batch_id: strawberry.ID
    """The batch the receiver was shipped (the batch at fault or one made from it)."""
    received: date | None
    """The day of that shipment."""

    @classmethod
    def from_doc(cls, doc: dict[str, Any], receiver: Company) -> RecallNotice:
        """From :func:`api.views.recall_notice_doc`."""
        return cls(
            receiver=receiver,
            measure=doc["measure"],
            rule=doc["rule"],
            legal_basis=doc["legalBasis"],
            source=Sanction.from_doc(doc["source"]),
            path=Path.from_doc(doc["path"]),
            disputed=doc["disputed"],
            batch_id=strawberry.ID(doc["batchId"]),
            received_batch_id=strawberry.ID(doc["receivedBatchId"]),
            received=date.fromisoformat(doc["received"]) if doc["received"] else None,
        )


@strawberry.type
class RecallList:
    as_of: date
    notices: list[RecallNotice]

    @classmethod
    def of(cls, answer: RecallListAnswer, ctx: Context) -> RecallList:
        doc = views.recall_list_doc(answer, ctx.rules)
        notices = []
        for item in doc["notices"]:
            # The receiver resolves through loaders like any company: built from the typed node.
            receiver = to_entity(answer.nodes.get(item["entity"]["id"]), ctx)
            if not isinstance(receiver, Company):
                raise RuntimeError(f"the store returned no company {item['entity']['id']!r}")
            notices.append(RecallNotice.from_doc(item, receiver))
        return cls(as_of=date.fromisoformat(doc["asOf"]), notices=notices)


@strawberry.type
class RecallQuery:
    """Mixed into ``Query`` (api/graphql/schema.py)."""

    @strawberry.field
    async def recall_notices(
        self, info: Info[Context, None], as_of: date | None = None
    ) -> RecallList:
        """Every recall notice in force at ``asOf`` (default today): each receiver of a batch on
        a product-safety record, with the rule, legal basis, record and path (agency+). One audit
        record names every receiver listed."""
        ctx = info.context
        ctx.require(Role.AGENCY, "recall notices")
        # Audited before the read, so that a failed one is on the record too; the receivers are
        # known once it has run.
        listed: list[str] = []
        ctx.audit_records.append(("recall_notices", listed))
        found = await blocking(recall_list, ctx.store, as_of or ctx.today(), ctx.rules)
        listed.extend(receivers(found))
        return RecallList.of(found, ctx)
