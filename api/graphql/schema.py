"""The schema: Query, limits (depth, aliases, cost, tokens, a deadline), error codes, audit and
metrics hooks."""

from __future__ import annotations

import asyncio
import functools
import inspect
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Iterator
from datetime import date
from typing import Annotated, Any

import strawberry
from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLID,
    GraphQLObjectType,
    GraphQLResolveInfo,
    NoSchemaIntrospectionCustomRule,
    OperationDefinitionNode,
    default_field_resolver,
    get_named_type,
)
from graphql import (
    ExecutionResult as GraphQLExecutionResult,
)
from graphql.language.parser import parse
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document
from strawberry.types import ExecutionContext, ExecutionResult, Info
from strawberry.types.graphql import OperationType

from api.audit import run_audited
from api.auth import Role
from api.graphql.blocking import blocking, short_read
from api.graphql.context import Context
from api.graphql.due_process_types import (
    Case,
    CaseKind,
    CaseStatus,
    MarketBanCandidate,
    MarketBanDecision,
    ObjectionOutcome,
)
from api.graphql.errors import ErrorCodes, format_error
from api.graphql.explore import ExploreQuery
from api.graphql.incentives import IncentiveMutation, IncentiveQuery
from api.graphql.limits import MAX_PATH_HOPS, QueryLimits, limit_rule
from api.graphql.measures import add_catalogue_measures
from api.graphql.recalls import RecallQuery
from api.graphql.screening import ScreenQuery
from api.graphql.signals import SignalsQuery
from api.graphql.supply import SupplyQuery
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
    Sanction,
    decode_cursor,
    make_connection,
    paginate,
    to_entity,
)
from graph import model
from graph.errors import CreditnetError, Forbidden, InvalidInput
from graph.rules.schema import Catalogue
from loaders.uscc import normalize_id
from queries import due_process, ownership, paths, report

__all__ = ["DEADLINE_CODE", "build_schema", "normalize_id_arguments", "root_fields"]

DEADLINE_CODE = "DEADLINE_EXCEEDED"

OperationObserver = Callable[[str, bool, float], None]


@strawberry.type
class Query(ExploreQuery, IncentiveQuery, RecallQuery, ScreenQuery, SignalsQuery, SupplyQuery):
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
        # a report reads a bounded neighbourhood of the entity (inline on the embedded store)
        found = await short_read(
            ctx.store, report.credit_report, ctx.store, str(id), as_of or ctx.today(), ctx.rules
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
            ownership.beneficial_owners, ctx.store, str(id), as_of or ctx.today(), threshold
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
            as_of or ctx.today(),
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
            as_of or ctx.today(),
            max_hops=max_hops,
            first=size,
        )
        return [Path.of(p) for p in found]

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
        # a whole-graph scan: off the event loop, so other requests and /healthz go on
        found = await blocking(
            due_process.market_ban_candidates,
            ctx.store,
            as_of or ctx.today(),
            ctx.review,
            rules=ctx.rules,
        )
        start = decode_cursor(after)
        page = [MarketBanCandidate.of(c, ctx) for c in found[start : start + size]]
        return make_connection(page, start, len(found))

    @strawberry.field
    async def case(self, info: Info[Context, None], id: strawberry.ID) -> Case | None:
        """A due-process case by id; null when there is none (reviewer+)."""
        ctx = info.context
        ctx.require(Role.REVIEWER, "due-process cases")
        node = await ctx.loaders.entity.load(str(id))
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
        found = await blocking(
            ctx.store.cases,
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


async def _decide(
    ctx: Context,
    operation: str,
    needed: Role,
    what: str,
    subjects: list[str],
    action: Callable[[str, dict[str, Any]], model.Case],
) -> model.Case:
    """Check the caller may ``what``, then run ``action(actor, event)`` in a worker thread under
    the shared audited-decision policy (:func:`api.audit.run_audited`); return the case written.

    The actor is the caller's key (name and id), never an argument: separation of duties
    (whoever filed may not decide) rests on it.
    """
    key = ctx.key()
    actor = f"{key.name} ({key.id})"

    def decide() -> model.Case:
        def attempt(event: dict[str, Any]) -> model.Case:
            if not key.role.allows(needed):
                raise Forbidden(f"role {key.role.value!r} may not {what}; it needs {needed.value}")
            return action(actor, event)

        return run_audited(
            ctx.audit,
            operation=operation,
            subject_ids=subjects,
            key_id=key.id,
            key_name=key.name,
            role=key.role.value,
            request_id=ctx.request_id,
            action=attempt,
            result_of=lambda case: case.id,
        )

    return await blocking(decide)


@strawberry.type
class Mutation(IncentiveMutation):
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

        def act(actor: str, event: dict[str, Any]) -> model.Case:
            case, ban = due_process.decide_market_ban(
                ctx.store,
                str(candidate),
                approve,
                reason,
                years,
                actor,
                ctx.today(),
                ctx.rules,
                ctx.review,
                audit=event,
            )
            bans.extend([ban] if ban is not None else [])
            return case

        case = await _decide(
            ctx, "decide_market_ban", Role.REVIEWER, "decide market bans", [str(candidate)], act
        )
        return MarketBanDecision(
            case=Case.of(case), sanction=Sanction.of(bans[0], ctx.rules) if bans else None
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
            lambda actor, event: due_process.file_objection(
                ctx.store,
                str(sanction),
                reason,
                actor,
                ctx.today(),
                ctx.review,
                audit=event,
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
        """Uphold (revoke the record from today) or reject an objection; not by its filer."""
        ctx = info.context
        uphold = outcome is ObjectionOutcome.UPHOLD
        case = await _decide(
            ctx,
            "resolve_objection",
            Role.REVIEWER,
            "resolve objections",
            [str(objection)],
            lambda actor, event: due_process.resolve_objection(
                ctx.store, str(objection), uphold, reason, actor, ctx.today(), version, audit=event
            )[0],
        )
        return Case.of(case)

    @strawberry.mutation
    async def apply_credit_repair(
        self,
        info: Info[Context, None],
        sanction: strawberry.ID,
        commitment: str | None = None,
    ) -> Case:
        """Apply for credit repair of a record (after its minimum publicity period).
        ``commitment`` is the id of the subject's recorded CREDIT_REPAIR commitment (it may also
        be recorded before the decision). Whether a fine is paid is the reviewer's finding
        (``decideCreditRepair(finePaid:)``)."""
        ctx = info.context
        case = await _decide(
            ctx,
            "apply_credit_repair",
            Role.AGENCY,
            "apply for credit repair",
            [str(sanction)],
            lambda actor, event: due_process.apply_credit_repair(
                ctx.store, str(sanction), commitment, actor, ctx.today(), ctx.rules, audit=event
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
        fine_paid: bool | None = None,
    ) -> Case:
        """Approve (the record is repaired from today) or reject a repair application; not by
        its applicant. ``finePaid`` is the reviewer's finding, required to approve a record with
        a fine."""
        ctx = info.context
        case = await _decide(
            ctx,
            "decide_credit_repair",
            Role.REVIEWER,
            "decide credit repair",
            [str(application)],
            lambda actor, event: due_process.decide_credit_repair(
                ctx.store,
                str(application),
                approve,
                reason,
                actor,
                ctx.today(),
                version,
                fine_paid=fine_paid,
                audit=event,
            )[0],
        )
        return Case.of(case)


def root_fields(execution: ExecutionContext) -> str:
    """The metrics label of an operation: its one root field, ``multiple`` or ``invalid``.

    Never the client-chosen operation name: every new name would be a new time series.
    """
    document = execution.graphql_document
    if document is None:
        return "invalid"
    names: set[str] = set()
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        wanted = execution.operation_name
        if wanted is not None and (definition.name is None or definition.name.value != wanted):
            continue
        names.update(
            s.name.value for s in definition.selection_set.selections if isinstance(s, FieldNode)
        )
    graphql_schema = execution.schema._schema
    roots = [graphql_schema.query_type, graphql_schema.mutation_type]
    fields = {name for root in roots if root is not None for name in root.fields}
    known = {n for n in names if n in fields or n.startswith("__")}
    if len(known) != len(names) or not known:
        return "invalid"
    if len(known) > 1:
        return "multiple"
    (name,) = known
    return "introspection" if name.startswith("__") else name


class Observe(SchemaExtension):
    """Note the operation's root field on the context, for metrics and the request log."""

    def on_operation(self) -> Iterator[None]:
        yield
        execution = self.execution_context
        if isinstance(execution.context, Context):
            execution.context.operation = root_fields(execution)


def normalize_id_arguments(schema: strawberry.Schema) -> int:
    """Make every field with an ``ID`` argument see it as a lookup expects it: surrounding spaces
    dropped, a unified social credit code upper-cased (a code typed in lower case finds the
    company). One place for every field, so no resolver can forget it; returns how many fields.

    Done once on the built schema by wrapping just those fields' resolvers, not with a schema
    extension's ``resolve`` hook: that is middleware around every field of every answer, and a
    credit report has hundreds of fields.
    """
    wrapped = 0
    for type_ in schema._schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        for field in type_.fields.values():
            names = tuple(
                argument.out_name or name
                for name, argument in field.args.items()
                if get_named_type(argument.type) is GraphQLID
            )
            if names:
                field.resolve = _normalizing(field.resolve or default_field_resolver, names)
                wrapped += 1
    return wrapped


def _normalizing(resolve: Callable[..., Any], names: tuple[str, ...]) -> Callable[..., Any]:
    def resolve_normalized(root: Any, info: GraphQLResolveInfo[Any], **kwargs: Any) -> Any:
        for name in names:
            if name in kwargs:
                kwargs[name] = _normalized(kwargs[name])
        return resolve(root, info, **kwargs)

    return resolve_normalized


def _normalized(value: Any) -> Any:
    if isinstance(value, str):
        return strawberry.ID(normalize_id(value))
    if isinstance(value, list):
        return [_normalized(item) for item in value]
    return value


async def _within(work: Awaitable[Any], seconds: float) -> Any:
    try:
        return await asyncio.wait_for(work, seconds)
    except TimeoutError:
        return GraphQLExecutionResult(
            data=None,
            errors=[
                GraphQLError(
                    f"the request took longer than its time budget of {seconds:g} s and was "
                    "stopped; ask for less (smaller pages, fewer hops) or try again later",
                    extensions={"code": DEADLINE_CODE},
                )
            ],
        )


class Schema(strawberry.Schema):
    """Logs only unexpected errors (with their trace, server side); expected ones are answers.

    ``timeout`` bounds the execution of each operation: past it the client gets a
    ``DEADLINE_EXCEEDED`` error, and resolvers waiting on worker threads are abandoned.
    """

    timeout: float | None = None
    observer: OperationObserver | None = None

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        """Execute, then give every error its code, audit what was read and report metrics.

        Done here rather than in an extension's ``on_operation``, which strawberry does not
        resume after a syntax error: so every answer, a parse failure included, is coded,
        audited and counted.
        """
        started = time.perf_counter()
        result = await super().execute(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            allowed_operation_types,
            operation_extensions,
        )
        if result.errors:
            result.errors = [format_error(e) for e in result.errors]
        ok = not result.errors
        operation = "invalid"
        if isinstance(context_value, Context):
            await context_value.flush_audit(ok)
            operation = context_value.operation
        if self.observer is not None:
            self.observer(operation, ok, time.perf_counter() - started)
        return result

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

    def _get_execute_function(self) -> Callable[..., Any]:
        execute = super()._get_execute_function()
        timeout = self.timeout
        if timeout is None:
            return execute

        def execute_within_deadline(*args: Any, **kwargs: Any) -> Any:
            result = execute(*args, **kwargs)
            return _within(result, timeout) if inspect.isawaitable(result) else result

        return execute_within_deadline


_CACHE_SIZE = 1024

_parse_cached = functools.lru_cache(maxsize=_CACHE_SIZE)(parse)
"""graphql-core's parser with the last documents it made, by text and parse options (the token
limit among them): clients send the same few query texts with other variables."""


class _Document(SchemaExtension):
    """A request's document parsed and validated through caches, within the token limit and
    with this schema's validation rules: one extension where four (strawberry's
    ``AddValidationRules``, ``MaxTokensLimiter`` and ``ParserCache``, and a validation cache)
    each cost their hooks on every request.

    The parser cache (:data:`_parse_cached`, keyed by the text and the parse options, shared by
    every schema) gives the same document object for the same text. Validation results
    are keyed by that object's identity, not by the document: graphql-core hashes a document by
    walking its whole tree, which for a credit report cost a third of the server's own time per
    request. The entry keeps the object, so that an identity reused after garbage collection
    can never match. The schema and its rules are fixed per schema, so they are not part of
    the key.
    """

    def __init__(
        self,
        rules: tuple[type[ASTValidationRule], ...],
        max_tokens: int,
        validated: OrderedDict[int, tuple[DocumentNode, list[GraphQLError]]],
    ) -> None:
        super().__init__()
        self.rules = rules
        self.max_tokens = max_tokens
        self.validated = validated

    def on_operation(self) -> Iterator[None]:
        execution = self.execution_context
        execution.parse_options["max_tokens"] = self.max_tokens
        execution.validation_rules = execution.validation_rules + self.rules
        yield

    def on_parse(self) -> Iterator[None]:
        execution = self.execution_context
        execution.graphql_document = _parse_cached(execution.query, **execution.parse_options)
        yield

    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        document = execution.graphql_document
        if document is None:  # not parsed: nothing to validate
            yield
            return
        found = self.validated.get(id(document))
        if found is not None and found[0] is document:
            self.validated.move_to_end(id(document))
            errors = found[1]
        else:
            errors = validate_document(
                execution.schema._schema, document, execution.validation_rules
            )
            self.validated[id(document)] = (document, errors)
            if len(self.validated) > _CACHE_SIZE:
                self.validated.popitem(last=False)
        execution.pre_execution_errors = errors
        yield


def build_schema(
    *,
    limits: QueryLimits | None = None,
    max_tokens: int = 2000,
    introspection: bool = True,
    timeout: float | None = None,
    observer: OperationObserver | None = None,
    catalogue: Catalogue | None = None,
) -> strawberry.Schema:
    # Clients send the same few query texts with other variables: parsing and validating them
    # once cuts a credit report's server time several-fold (bench/api.py). The limits still
    # apply: the token limit is a parse option and the depth, alias and cost limits are one
    # validation rule. The parser cache is keyed by the text and the parse options and shared by
    # every schema; the validation cache is this schema's own (its rules are built once, here),
    # keyed by the parsed document (_Document). Each request still gets its own extension
    # objects. The limit rule is linear in the document (api/graphql/limits.py), so a
    # literal changed to miss the cache costs no more than any other request.
    rules: list[type[ASTValidationRule]] = [limit_rule(limits or QueryLimits())]
    validated: OrderedDict[int, tuple[DocumentNode, list[GraphQLError]]] = OrderedDict()
    if not introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    schema = Schema(
        query=Query,
        mutation=Mutation,
        types=[Company, Person],
        scalar_overrides={date: DateScalar},
        extensions=[
            lambda: _Document(tuple(rules), max_tokens, validated),
            Observe,
            ErrorCodes,
        ],
    )
    schema.timeout = timeout
    schema.observer = observer
    normalize_id_arguments(schema)
    if catalogue is not None:
        # Measure enumerates the shipped measures; the rules in force may add their own.
        add_catalogue_measures(schema, catalogue)
    return schema
