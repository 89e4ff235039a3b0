"""The schema: Query, limits (depth, aliases, tokens), error codes, audit and metrics hooks."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import date
from typing import Annotated

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.types import ExecutionContext, Info

from api.auth import Role
from api.graphql.context import Context
from api.graphql.errors import ErrorCodes
from api.graphql.types import (
    AuditEvent,
    BeneficialOwner,
    Company,
    Connection,
    CreditReport,
    DateScalar,
    Direction,
    EffectiveHolding,
    Entity,
    EntityKind,
    Path,
    Person,
    decode_cursor,
    make_connection,
    paginate,
    to_entity,
)
from graph.errors import CreditnetError, InvalidInput
from queries import ownership, paths, report

__all__ = ["build_schema"]

MAX_PATH_HOPS = 10

OperationObserver = Callable[[str, bool, float], None]


@strawberry.type
class Query:
    @strawberry.field
    async def entity(self, info: Info[Context, None], id: strawberry.ID) -> Entity | None:
        """A company or person by id; null when there is none."""
        info.context.require(Role.AGENCY, "entities")
        node = await info.context.loaders.entity.load(str(id))
        return to_entity(node, info.context)

    @strawberry.field
    async def search(
        self,
        info: Info[Context, None],
        query: str,
        kind: EntityKind | None = None,  # type: ignore[valid-type]
        first: int | None = 20,
        after: str | None = None,
    ) -> Connection[Entity]:
        """Companies and persons by id or name."""
        ctx = info.context
        ctx.require(Role.AGENCY, "search")
        if not query.strip():
            raise InvalidInput("search needs a non-empty query")
        size = ctx.page_size(first)
        offset = decode_cursor(after)
        page = ctx.store.search(query, kind, limit=size, offset=offset)
        items: list[Entity] = [e for e in (to_entity(n, ctx) for n in page.items) if e]
        return make_connection(items, offset, page.total)

    @strawberry.field
    async def credit_report(
        self, info: Info[Context, None], id: strawberry.ID, as_of: date | None = None
    ) -> CreditReport:
        """The credit report of a company or person (every read is audited)."""
        ctx = info.context
        ctx.require(Role.AGENCY, "credit reports")
        ctx.audit_records.append(("credit_report", [str(id)]))
        found = report.credit_report(ctx.store, str(id), as_of or date.today(), ctx.rules)
        return CreditReport.of(found, ctx)

    @strawberry.field
    async def beneficial_owners(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
        as_of: date | None = None,
        threshold: float = 25,
    ) -> list[BeneficialOwner]:
        """Natural persons holding at least ``threshold`` percent, or controlling the company."""
        ctx = info.context
        ctx.require(Role.INVESTIGATOR, "beneficial owners")
        found = ownership.beneficial_owners(ctx.store, str(id), as_of or date.today(), threshold)
        return [BeneficialOwner.of(b, ctx) for b in found]

    @strawberry.field
    async def ownership_closure(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
        as_of: date | None = None,
        direction: Direction = Direction.UP,
        min_share: float = 0,
    ) -> list[EffectiveHolding]:
        """Every entity above (UP) or below (DOWN) this one, with its effective share."""
        ctx = info.context
        ctx.require(Role.INVESTIGATOR, "ownership")
        found = ownership.ownership_closure(
            ctx.store,
            str(id),
            as_of or date.today(),
            ownership.ClosureDirection(direction.value),
            min_share,
        )
        return [EffectiveHolding.of(h, ctx) for h in found]

    @strawberry.field
    async def paths(
        self,
        info: Info[Context, None],
        from_: Annotated[strawberry.ID, strawberry.argument(name="from")],
        to: strawberry.ID,
        as_of: date | None = None,
        max_hops: int = 6,
        first: int = 5,
    ) -> list[Path]:
        """The shortest link paths between two entities."""
        ctx = info.context
        ctx.require(Role.INVESTIGATOR, "paths")
        if not 1 <= max_hops <= MAX_PATH_HOPS:
            raise InvalidInput(f"maxHops must be between 1 and {MAX_PATH_HOPS}")
        size = ctx.page_size(first)
        found = paths.paths_between(
            ctx.store, str(from_), str(to), as_of or date.today(), max_hops=max_hops, first=size
        )
        return [Path.of_nodes(p, ctx) for p in found]

    @strawberry.field
    async def audit_events(
        self,
        info: Info[Context, None],
        first: int | None = 20,
        after: str | None = None,
        operation: str | None = None,
        subject_id: strawberry.ID | None = None,
    ) -> Connection[AuditEvent]:
        """Audit records, oldest first (admin only)."""
        ctx = info.context
        ctx.require(Role.ADMIN, "the audit log")
        size = ctx.page_size(first)
        events = ctx.audit.events(
            operation=operation, subject_id=str(subject_id) if subject_id else None
        )
        return paginate([AuditEvent.of(r) for r in events], size, after)


class Observe(SchemaExtension):
    """Audit what the operation read, then report name, success and duration to metrics."""

    observer: OperationObserver | None = None

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        execution = self.execution_context
        result = execution.result
        ok = not getattr(result, "errors", None)
        context = execution.context
        if isinstance(context, Context):
            context.flush_audit(ok)
        if self.observer is not None:
            name = (execution.operation_name or "anonymous")[:64]
            self.observer(name, ok, time.perf_counter() - started)


class Schema(strawberry.Schema):
    """Logs only unexpected errors (with their trace, server side); expected ones are answers."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        unexpected = [
            e
            for e in errors
            if e.original_error is not None
            and not isinstance(e.original_error, (CreditnetError, GraphQLError))
        ]
        if unexpected:
            super().process_errors(unexpected, execution_context)


def build_schema(
    *,
    max_depth: int = 10,
    max_aliases: int = 30,
    max_tokens: int = 2000,
    observer: OperationObserver | None = None,
) -> strawberry.Schema:
    class Observed(Observe):
        pass

    Observed.observer = staticmethod(observer) if observer else None
    return Schema(
        query=Query,
        types=[Company, Person],
        scalar_overrides={date: DateScalar},
        extensions=[
            lambda: QueryDepthLimiter(max_depth=max_depth),
            lambda: MaxAliasesLimiter(max_alias_count=max_aliases),
            lambda: MaxTokensLimiter(max_token_count=max_tokens),
            Observed,
            ErrorCodes,
        ],
    )
