"""The schema: Query, limits (depth, aliases, tokens), error codes, audit and metrics hooks."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import date
from typing import Annotated

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.types import ExecutionContext, Info

from api.auth import Role
from api.graphql.blocking import blocking
from api.graphql.context import Context
from api.graphql.errors import ErrorCodes
from api.graphql.types import (
    AuditEvent,
    BeneficialOwner,
    Case,
    CaseKind,
    CaseStatus,
    Company,
    Connection,
    CreditReport,
    DateScalar,
    Direction,
    EffectiveHolding,
    Entity,
    EntityKind,
    MarketBanCandidate,
    MarketBanDecision,
    ObjectionOutcome,
    Path,
    Person,
    Sanction,
    decode_cursor,
    make_connection,
    paginate,
    to_entity,
)
from graph import model
from graph.errors import CreditnetError, Forbidden, InvalidInput
from queries import due_process, ownership, paths, report

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
        page = await blocking(ctx.store.search, query, kind, limit=size, offset=offset)
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
        found = await blocking(
            report.credit_report, ctx.store, str(id), as_of or date.today(), ctx.rules
        )
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
        found = await blocking(
            ownership.beneficial_owners, ctx.store, str(id), as_of or date.today(), threshold
        )
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
        found = await blocking(
            ownership.ownership_closure,
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
        found = await blocking(
            paths.paths_between,
            ctx.store,
            str(from_),
            str(to),
            as_of or date.today(),
            max_hops=max_hops,
            first=size,
        )
        return [Path.of_nodes(p, ctx) for p in found]

    @strawberry.field
    async def market_ban_candidates(
        self,
        info: Info[Context, None],
        first: int | None = 20,
        after: str | None = None,
        as_of: date | None = None,
    ) -> Connection[MarketBanCandidate]:
        """Entities proposed for a market ban, with their evidence (reviewer+)."""
        ctx = info.context
        ctx.require(Role.REVIEWER, "market-ban candidates")
        size = ctx.page_size(first)
        found = due_process.market_ban_candidates(
            ctx.store, as_of or _today(), _review_settings(), rules=ctx.rules
        )
        start = decode_cursor(after)
        page = [MarketBanCandidate.of(c, ctx) for c in found[start : start + size]]
        return make_connection(page, start, len(found))

    @strawberry.field
    async def case(self, info: Info[Context, None], id: strawberry.ID) -> Case | None:
        """A due-process case by id; null when there is none (reviewer+)."""
        ctx = info.context
        ctx.require(Role.REVIEWER, "due-process cases")
        node = ctx.store.get(str(id))
        return Case.of(node) if isinstance(node, model.Case) else None

    @strawberry.field
    async def cases(
        self,
        info: Info[Context, None],
        subject_id: strawberry.ID | None = None,
        kind: CaseKind | None = None,  # type: ignore[valid-type]
        status: CaseStatus | None = None,  # type: ignore[valid-type]
        first: int | None = 20,
        after: str | None = None,
    ) -> Connection[Case]:
        """Due-process cases matching every filter given, by id (reviewer+)."""
        ctx = info.context
        ctx.require(Role.REVIEWER, "due-process cases")
        size = ctx.page_size(first)
        found = ctx.store.cases(
            subject_ids=[str(subject_id)] if subject_id is not None else None,
            kind=kind,
            status=status,
        )
        return paginate([Case.of(c) for c in found], size, after)

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


def _review_settings() -> due_process.ReviewSettings:
    return due_process.ReviewSettings()


def _today() -> date:
    """The day a decision is made on (one place, so tests can move the clock)."""
    return date.today()


async def _decide(
    ctx: Context,
    operation: str,
    needed: Role,
    what: str,
    subjects: list[str],
    action: Callable[[str], model.Case],
) -> model.Case:
    """Check the caller may ``what``, run ``action(actor)`` (in a worker thread: it writes to the
    store) and audit the attempt either way; return the case it wrote.

    The audit record names the key, the operation, the subject ids and the result: the id of
    the case written, or ``error:<CODE>``.
    """
    key = ctx.key()

    def audit(result: str) -> None:
        ctx.audit.append(
            operation=operation,
            subject_ids=subjects,
            key_id=key.id,
            key_name=key.name,
            role=key.role.value,
            request_id=ctx.request_id,
            result=result,
        )

    if not key.role.allows(needed):
        audit("error:FORBIDDEN")
        raise Forbidden(f"role {key.role.value!r} may not {what}; it needs {needed.value}")
    try:
        case = await blocking(action, f"{key.name} ({key.id})")
    except CreditnetError as exc:
        audit(f"error:{exc.code}")
        raise
    audit(case.id)
    return case


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def decide_market_ban(
        self,
        info: Info[Context, None],
        candidate: strawberry.ID,
        approve: bool,
        reason: str,
        years: int = 3,
    ) -> MarketBanDecision:
        """Approve (creating a MARKET_BAN record of ``years`` years) or reject a candidate."""
        ctx = info.context
        bans: list[model.Sanction] = []

        def act(actor: str) -> model.Case:
            case, ban = due_process.decide_market_ban(
                ctx.store,
                str(candidate),
                approve,
                reason,
                years,
                actor,
                _today(),
                ctx.rules,
                _review_settings(),
            )
            bans.extend([ban] if ban is not None else [])
            return case

        case = await _decide(
            ctx, "decide_market_ban", Role.REVIEWER, "decide market bans", [str(candidate)], act
        )
        return MarketBanDecision(
            case=Case.of(case), sanction=Sanction.of(bans[0]) if bans else None
        )

    @strawberry.mutation
    async def file_objection(
        self, info: Info[Context, None], sanction: strawberry.ID, reason: str
    ) -> Case:
        """Object to a sanction record: it is marked disputed until a reviewer decides."""
        ctx = info.context
        case = await _decide(
            ctx,
            "file_objection",
            Role.AGENCY,
            "file objections",
            [str(sanction)],
            lambda actor: due_process.file_objection(
                ctx.store, str(sanction), reason, actor, _today(), _review_settings()
            ),
        )
        return Case.of(case)

    @strawberry.mutation
    async def resolve_objection(
        self,
        info: Info[Context, None],
        objection: strawberry.ID,
        outcome: ObjectionOutcome,
        reason: str,
        version: int | None = None,
    ) -> Case:
        """Uphold (revoke the record from today) or reject an objection."""
        ctx = info.context
        uphold = outcome is ObjectionOutcome.UPHOLD
        case = await _decide(
            ctx,
            "resolve_objection",
            Role.REVIEWER,
            "resolve objections",
            [str(objection)],
            lambda actor: due_process.resolve_objection(
                ctx.store, str(objection), uphold, reason, actor, _today(), version
            )[0],
        )
        return Case.of(case)

    @strawberry.mutation
    async def apply_credit_repair(
        self,
        info: Info[Context, None],
        sanction: strawberry.ID,
        commitment: str,
        fine_paid: bool,
    ) -> Case:
        """Apply for credit repair of a record (after its minimum publicity period)."""
        ctx = info.context
        case = await _decide(
            ctx,
            "apply_credit_repair",
            Role.AGENCY,
            "apply for credit repair",
            [str(sanction)],
            lambda actor: due_process.apply_credit_repair(
                ctx.store, str(sanction), commitment, fine_paid, actor, _today(), ctx.rules
            ),
        )
        return Case.of(case)

    @strawberry.mutation
    async def decide_credit_repair(
        self,
        info: Info[Context, None],
        application: strawberry.ID,
        approve: bool,
        reason: str,
        version: int | None = None,
    ) -> Case:
        """Approve (the record is repaired from today) or reject a repair application."""
        ctx = info.context
        case = await _decide(
            ctx,
            "decide_credit_repair",
            Role.REVIEWER,
            "decide credit repair",
            [str(application)],
            lambda actor: due_process.decide_credit_repair(
                ctx.store, str(application), approve, reason, actor, _today(), version
            )[0],
        )
        return Case.of(case)


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


_CACHE_SIZE = 1024


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
    # Clients send the same few query texts with other variables: parsing and validating them
    # once cuts a credit report's server time several-fold (bench/api.py). The limits still
    # apply: the token limit is a parse option and the depth and alias limits are validation
    # rules, both part of the cache keys. So the rule classes are built once (a limiter made per
    # request makes new classes, and no key would ever repeat); the caches are strawberry's,
    # shared by every instance of one size, so each request still gets its own extension objects.
    limit_rules = [
        *QueryDepthLimiter(max_depth=max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules,
    ]
    return Schema(
        query=Query,
        mutation=Mutation,
        types=[Company, Person],
        scalar_overrides={date: DateScalar},
        extensions=[
            lambda: AddValidationRules(limit_rules),
            lambda: MaxTokensLimiter(max_token_count=max_tokens),
            lambda: ParserCache(maxsize=_CACHE_SIZE),
            lambda: ValidationCache(maxsize=_CACHE_SIZE),
            Observed,
            ErrorCodes,
        ],
    )
