"""Traceability types: ``batch(id)``, ``Batch.downstream/upstream(asOf)``, ``Product`` and the
``Company.batches`` field (spec/TRACEABILITY.md "CLI and API").

Tracing answers are :func:`queries.trace.downstream` and :func:`queries.trace.upstream` shaped
by :func:`api.views.downstream_doc` and :func:`api.views.upstream_doc`, so ``creditnet trace
--json`` and these fields agree.
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
from api.graphql.types import Company, Path, to_entity
from graph import model
from queries.trace import downstream, upstream

__all__ = ["Batch", "Downstream", "Product", "Receiver", "SupplyQuery", "Upstream", "batches_of"]


@strawberry.type
class Product:
    id: strawberry.ID
    name: str
    category: str | None
    brand_owner_id: strawberry.ID | None

    @classmethod
    def of(cls, product: model.Product) -> Product:
        doc = views.product_doc(product)
        owner = doc["brandOwnerId"]
        return cls(
            id=strawberry.ID(doc["id"]),
            name=doc["name"],
            category=doc["category"],
            brand_owner_id=strawberry.ID(owner) if owner is not None else None,
        )


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value is not None else None


def _entity(doc: dict[str, Any] | None, nodes: dict[str, model.Node], ctx: Context) -> Any:
    return to_entity(nodes.get(doc["id"]), ctx) if doc is not None else None


@strawberry.type
class Receiver:
    """A company that received the batch, or a batch made from it, with the path of goods."""

    company: Company | None
    batch: strawberry.ID
    """The batch it received."""
    date: date
    quantity: float | None
    event_id: str
    path: Path


@strawberry.type
class Downstream:
    batch: strawberry.ID
    as_of: date
    receivers: list[Receiver]


@strawberry.type
class UpstreamBatch:
    """A batch the traced one was made from (or the traced one), its producer and shippers."""

    id: strawberry.ID
    producer: Company | None
    shippers: list[Company]
    path: Path


@strawberry.type
class Upstream:
    batch: strawberry.ID
    as_of: date
    batches: list[UpstreamBatch]


@strawberry.type
class Batch:
    id: strawberry.ID
    product_id: strawberry.Private[str]
    lot: str
    produced: date | None
    expires: date | None
    quantity: float | None

    @classmethod
    def of(cls, batch: model.Batch) -> Batch:
        doc = views.batch_doc(batch)
        return cls(
            id=strawberry.ID(doc["id"]),
            product_id=doc["productId"],
            lot=doc["lot"],
            produced=_day(doc["produced"]),
            expires=_day(doc["expires"]),
            quantity=doc["quantity"],
        )

    @strawberry.field
    async def product(self, info: Info[Context, None]) -> Product | None:
        node = await blocking(info.context.store.get, self.product_id)
        return Product.of(node) if isinstance(node, model.Product) else None

    @strawberry.field
    async def downstream(self, info: Info[Context, None], as_of: date | None = None) -> Downstream:
        ctx = info.context
        found = await blocking(downstream, ctx.store, str(self.id), as_of or ctx.today())
        doc = views.downstream_doc(found)
        receivers = []
        for r in doc["receivers"]:
            company = _entity(r["company"], found.nodes, ctx)
            receivers.append(
                Receiver(
                    company=company if isinstance(company, Company) else None,
                    batch=strawberry.ID(r["batch"]),
                    date=date.fromisoformat(r["date"]),
                    quantity=r["quantity"],
                    event_id=r["eventId"],
                    path=Path.from_doc(r["path"]),
                )
            )
        return Downstream(batch=strawberry.ID(doc["batch"]), as_of=found.as_of, receivers=receivers)

    @strawberry.field
    async def upstream(self, info: Info[Context, None], as_of: date | None = None) -> Upstream:
        ctx = info.context
        found = await blocking(upstream, ctx.store, str(self.id), as_of or ctx.today())
        doc = views.upstream_doc(found)
        batches = []
        for b in doc["batches"]:
            producer = _entity(b["producer"], found.nodes, ctx)
            shippers = [_entity(s, found.nodes, ctx) for s in b["shippers"]]
            batches.append(
                UpstreamBatch(
                    id=strawberry.ID(b["id"]),
                    producer=producer if isinstance(producer, Company) else None,
                    shippers=[s for s in shippers if isinstance(s, Company)],
                    path=Path.from_doc(b["path"]),
                )
            )
        return Upstream(batch=strawberry.ID(doc["batch"]), as_of=found.as_of, batches=batches)


async def batches_of(info: Info[Context, None], company_id: str, as_of: date | None) -> list[Batch]:
    """``Company.batches``: the batches the company produced, received or made by a
    transformation (:meth:`graph.store.GraphReader.batches_of`)."""
    ctx = info.context
    held = await blocking(ctx.store.batches_of, [company_id], as_of=as_of)
    return [Batch.of(batch) for batch in held.get(company_id, [])]


@strawberry.type
class SupplyQuery:
    @strawberry.field
    async def batch(self, info: Info[Context, None], id: strawberry.ID) -> Batch | None:
        info.context.require(Role.AGENCY, "batch")
        node = await blocking(info.context.store.get, str(id))
        return Batch.of(node) if isinstance(node, model.Batch) else None
