"""The HTTP app: GraphQL at /graphql, GraphiQL, /healthz, /metrics, request hygiene and logs.

A GraphQL request passes, in order: the body size limit, authentication, a JSON body check (an
object with a string ``query``, valid Unicode) and a bracket-nesting check, before strawberry
parses it. So a caller without a key never gets the server to parse or validate anything, and
every refusal before parsing is a coded error, never a 500.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from pydantic import BaseModel, Field
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.exceptions import MissingQueryError
from strawberry.fastapi import GraphQLRouter
from strawberry.http import process_result
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from api.audit import AuditLog
from api.auth import ApiKey, KeyStore, Role
from api.clock import Clock, system_clock
from api.graphql.context import Context, Limits
from api.graphql.limits import QueryLimits, check_nesting
from api.graphql.schema import build_schema
from api.settings import MetricsAccess, Settings
from graph.errors import CreditnetError, Unauthenticated
from graph.rules.schema import load_rules
from graph.store import GraphStore

__all__ = ["ApiSettings", "JsonLogFormatter", "create_app"]

REQUEST_ID_HEADER = "X-Request-ID"
HEALTH_TTL_SECONDS = 5.0
"""How long a /healthz answer (the store's node count) serves later probes."""
REQUEST_LOG = "creditnet.requests"

log = logging.getLogger(REQUEST_LOG)

_POST_OPERATIONS = OperationType.from_http("POST")


class ApiSettings(BaseModel):
    """Limits and switches of the HTTP API (defaults suit an agency deployment)."""

    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    max_depth: int = Field(default=10, ge=2)
    max_aliases: int = Field(default=30, ge=1)
    max_tokens: int = Field(default=2000, ge=50)
    max_nesting: int = Field(default=40, ge=4)
    max_page_size: int = Field(default=100, ge=1)
    max_cost: int = Field(default=50_000, ge=100)
    request_timeout: float = Field(default=10.0, gt=0)
    graphiql: bool = True
    introspection: bool = True
    openapi: bool = True
    metrics: MetricsAccess = MetricsAccess.PUBLIC

    @classmethod
    def from_settings(cls, settings: Settings) -> ApiSettings:
        """The API switches of ``settings`` (production defaults applied), other limits default."""
        return cls(
            max_cost=settings.max_query_cost,
            request_timeout=settings.request_timeout,
            graphiql=settings.graphiql_enabled,
            introspection=settings.introspection_enabled,
            openapi=settings.openapi_enabled,
            metrics=settings.metrics_access,
        )


class JsonLogFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message and the record's ``fields``."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            document.update(fields)
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return json.dumps(document, ensure_ascii=False, default=str)


def _configure_request_log() -> None:
    """Request logs go to stderr as JSON lines, once, whoever else configures logging."""
    if any(getattr(h, "creditnet_json", False) for h in log.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLogFormatter())
    handler.creditnet_json = True  # type: ignore[attr-defined]
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False


def _error(message: str, code: str, status: int = 200) -> JSONResponse:
    """A GraphQL-shaped error response (``status`` 200 once the request is a GraphQL request)."""
    body: dict[str, Any] = {"errors": [{"message": message, "extensions": {"code": code}}]}
    if status == 200:
        body = {"data": None, **body}
    return JSONResponse(body, status_code=status)


def _has_lone_surrogate(document: object) -> bool:
    try:
        json.dumps(document, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _check_body(raw: bytes) -> str | dict[str, Any]:
    """The GraphQL request in ``raw``, or why it is not one (a message for a 400)."""
    try:
        document = json.loads(raw)
    except RecursionError:
        return "the JSON body nests too deeply"
    except (ValueError, UnicodeDecodeError) as exc:
        return f"the body is not valid JSON ({exc})"
    if not isinstance(document, dict):
        return (
            "the body must be a JSON object like "
            '{"query": "...", "variables": {...}}; got ' + type(document).__name__
        )
    if not isinstance(document.get("query"), str):
        return "the body needs a string 'query' (a GraphQL document)"
    if not isinstance(document.get("variables") or {}, dict):
        return "'variables' must be a JSON object"
    if not isinstance(document.get("operationName") or "", str):
        return "'operationName' must be a string"
    if _has_lone_surrogate(document):
        return "the body has a lone UTF-16 surrogate (like \\ud800); send valid Unicode text"
    return document


class _Router(GraphQLRouter[Any, None]):
    """Strawberry's router, encoding answers with orjson (several times faster than ``json`` on
    a credit report with its paths)."""

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)


class _Hook:
    """An ASGI middleware that hands every HTTP request to ``hook(scope, receive, send, app)``."""

    def __init__(
        self, app: ASGIApp, hook: Callable[[Scope, Receive, Send, ASGIApp], Awaitable[None]]
    ) -> None:
        self.app = app
        self.hook = hook

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.hook(scope, receive, send, self.app)


def _replay(body: bytes, receive: Receive) -> Receive:
    """``receive`` for the app after the middleware has read the whole ``body``."""
    pending = True

    async def replayed() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def _closing(
    on_close: Callable[[], None] | None,
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if on_close is not None:
                on_close()

    return lifespan


def _graphiql_page() -> str | None:
    folder = resources.files("api") / "static" / "graphiql"
    page = folder / "index.html"
    return page.read_text(encoding="utf-8") if page.is_file() else None


def create_app(
    store: GraphStore,
    settings: Settings,
    *,
    keys: KeyStore,
    audit: AuditLog,
    api: ApiSettings | None = None,
    clock: Clock = system_clock,
    on_close: Callable[[], None] | None = None,
) -> FastAPI:
    """The app over ``store``; ``on_close`` runs when the server shuts the app down (a
    ``serve --workers`` process closes its own store with it)."""
    api = api or ApiSettings.from_settings(settings)
    _configure_request_log()
    registry = CollectorRegistry()
    operations = Counter(
        "creditnet_graphql_operations_total",
        "GraphQL operations by root field and outcome (any GraphQL error is an error)",
        ["operation", "outcome"],
        registry=registry,
    )
    latency = Histogram(
        "creditnet_graphql_operation_seconds",
        "GraphQL operation latency by root field",
        ["operation"],
        registry=registry,
    )
    http_requests = Counter(
        "creditnet_http_requests_total",
        "HTTP requests by route template and status",
        ["route", "status"],
        registry=registry,
    )

    def observe(operation: str, ok: bool, seconds: float) -> None:
        operations.labels(operation, "ok" if ok else "error").inc()
        latency.labels(operation).observe(seconds)

    rules = load_rules(settings.rules)
    schema = build_schema(
        limits=QueryLimits(
            max_depth=api.max_depth,
            max_aliases=api.max_aliases,
            max_cost=api.max_cost,
            max_nesting=api.max_nesting,
            max_page_size=api.max_page_size,
        ),
        max_tokens=api.max_tokens,
        introspection=api.introspection,
        timeout=api.request_timeout,
        observer=observe,
        catalogue=rules.catalogue,
    )
    limits = Limits(max_page_size=api.max_page_size)

    async def get_context(request: Request) -> Context:
        context = Context(
            store=store,
            keys=keys,
            audit=audit,
            limits=limits,
            authorization=request.headers.get("authorization"),
            request_id=request.state.request_id,
            rules=rules,
            key=getattr(request.state, "key", None),
            clock=clock,
            review=settings.review,
        )
        request.state.graphql = context
        return context

    app = FastAPI(
        title="creditnet",
        version="0.1.0",
        # Swagger UI and ReDoc load their code from a CDN: useless offline, so not served
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if api.openapi else None,
        lifespan=_closing(on_close),
    )
    app.state.settings = settings

    page = _graphiql_page() if api.graphiql else None
    if page is not None:
        static = Path(str(resources.files("api") / "static" / "graphiql"))
        app.mount("/graphiql", StaticFiles(directory=static), name="graphiql")

    # the network explorer (api/static/explorer, built by scripts/explorer-src/build): a client
    # of /graphql like any other, so it is served whatever the GraphiQL switch says
    explorer = Path(str(resources.files("api") / "static" / "explorer"))
    if (explorer / "index.html").is_file():
        app.mount("/explore/assets", StaticFiles(directory=explorer), name="explorer")
        explorer_page = (explorer / "index.html").read_text(encoding="utf-8")

        @app.get("/explore", include_in_schema=False)
        def explore() -> HTMLResponse:
            return HTMLResponse(explorer_page)

    @app.get("/graphql", include_in_schema=False)
    def graphiql() -> Response:
        if page is None:
            return _error(
                "GraphiQL is turned off on this server (CREDITNET_GRAPHIQL); send GraphQL "
                "requests with POST /graphql",
                "NOT_FOUND",
                404,
            )
        return HTMLResponse(page)

    router = _Router(
        schema,
        context_getter=get_context,
        graphql_ide=None,
        allow_queries_via_get=False,
    )
    app.include_router(router, prefix="/graphql")

    async def execute_graphql(request: Request, document: dict[str, Any]) -> Response | None:
        """The answer to a plain JSON GraphQL POST, as the router gives it; None for any other
        (a stream requested by ``Accept``, ``extensions``, odd variables): the router answers.

        The router's own path (FastAPI routing and dependency injection, strawberry's request
        adapter, the body parsed again) cost about 0.7 ms of CPU a request here, as much as the
        credit report itself at 20k companies (bench/api.py); the checks above have already
        parsed and vetted the body.
        """
        variables = document.get("variables")
        if (
            document.get("extensions") is not None
            or not isinstance(variables, (dict, type(None)))
            or router._get_stream_transport_from_headers(request.headers) is not None
        ):
            return None
        context = await get_context(request)
        context.request = request
        try:
            result = await schema.execute(
                document["query"],
                variables,
                context,
                operation_name=document.get("operationName"),
                allowed_operation_types=_POST_OPERATIONS,
            )
        except (CannotGetOperationTypeError, InvalidOperationTypeError, MissingQueryError):
            return None  # raised before execution: the router answers its 400
        assert isinstance(result, ExecutionResult)  # no incremental delivery in this schema
        return Response(router.encode_json(process_result(result)), media_type="application/json")

    async def check_graphql(request: Request, body: bytes) -> Response | dict[str, Any]:
        """Refuse a GraphQL POST before parsing (no key, a body that is no request, deep
        nesting) with the answer, else return the request's JSON document."""
        try:
            request.state.key = keys.authenticate(request.headers.get("authorization"))
        except Unauthenticated as exc:
            return _error(str(exc), exc.code)
        content_type = request.headers.get("content-type", "")
        if content_type.split(";")[0].strip().lower() != "application/json":
            return _error(
                f"send the GraphQL request as application/json, not {content_type or 'nothing'}",
                "UNSUPPORTED_MEDIA_TYPE",
                415,
            )
        checked = _check_body(body)
        if isinstance(checked, str):
            return _error(checked, "BAD_REQUEST", 400)
        problem = check_nesting(checked["query"], api.max_nesting)
        if problem is not None:
            return _error(problem, "QUERY_TOO_COMPLEX")
        return checked

    async def limit_tag_and_log(scope: Scope, receive: Receive, send: Send, inner: ASGIApp) -> None:
        """Size limits and the GraphQL checks, the request id header, metrics and the log line.

        A plain ASGI middleware rather than ``@app.middleware("http")``: Starlette's
        ``BaseHTTPMiddleware`` runs the app in a task group and streams its response through
        memory channels, a fixed cost on every request (bench/api.py).
        """
        started = time.perf_counter()
        request = Request(scope, receive)
        request_id = request.headers.get(REQUEST_ID_HEADER) or uuid.uuid4().hex
        request_id = request_id[:100]
        request.state.request_id = request_id
        length = request.headers.get("content-length")
        response: Response | None = None
        if length is not None and (not length.isdigit() or int(length) > api.max_body_bytes):
            response = _error(
                f"request body too large: {length} bytes; the limit is {api.max_body_bytes} bytes",
                "PAYLOAD_TOO_LARGE",
                413,
            )
        elif length is None and request.method == "POST":
            response = _error(
                "send a Content-Length header with the request body", "LENGTH_REQUIRED", 411
            )
        elif request.method == "POST" and request.url.path == "/graphql":
            body = await request.body()
            checked = await check_graphql(request, body)
            if isinstance(checked, Response):
                response = checked
            else:
                response = await execute_graphql(request, checked)
            receive = _replay(body, receive)
        status = 500

        async def tagged(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        if response is not None:
            await response(scope, receive, tagged)
        else:
            await inner(scope, receive, tagged)
        template = _route_template(request)
        http_requests.labels(template, str(status)).inc()
        _log_request(request, template, status, time.perf_counter() - started)

    app.add_middleware(_Hook, hook=limit_tag_and_log)

    # The embedded store counts by walking the whole graph under its lock (a second at 100k
    # companies), so one probe at a time counts and an answer serves probes for a few seconds:
    # frequent health checks must not pile up in the thread pool or hold up the reads.
    health_lock = threading.Lock()
    health: list[tuple[float, int]] = []

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        started = time.perf_counter()
        with health_lock:
            fresh = health and started - health[0][0] < HEALTH_TTL_SECONDS
            try:
                if not fresh:
                    health[:] = [(time.perf_counter(), sum(store.stats().nodes.values()))]
            except Exception as exc:  # the store is down: say so, without details
                health.clear()
                return JSONResponse(
                    {"status": "unavailable", "store": store.name, "error": type(exc).__name__},
                    status_code=503,
                )
            nodes = health[0][1]
        return JSONResponse(
            {
                "status": "ok",
                "store": store.name,
                "nodes": nodes,
                "ms": round((time.perf_counter() - started) * 1000, 1),
            }
        )

    @app.get("/metrics")
    def metrics(request: Request) -> Response:
        if api.metrics is MetricsAccess.OFF:
            return _error("metrics are turned off (CREDITNET_METRICS=off)", "NOT_FOUND", 404)
        if api.metrics is MetricsAccess.ADMIN:
            try:
                key = keys.authenticate(request.headers.get("authorization"))
                key.require(Role.ADMIN, "metrics")
            except CreditnetError as exc:
                status = 401 if isinstance(exc, Unauthenticated) else 403
                return _error(f"{exc} (CREDITNET_METRICS=admin)", exc.code, status)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app


_FIXED_ROUTES = frozenset({"/graphql", "/healthz", "/metrics", "/openapi.json"})


def _route_template(request: Request) -> str:
    """The route a request matched, as a template: never the raw path, which the client picks
    (every 404 path would otherwise be a new time series)."""
    route = getattr(request.scope.get("route"), "path", None)
    if isinstance(route, str) and route.startswith("/"):
        return route
    path = request.url.path
    if path in _FIXED_ROUTES:
        return path
    if path.startswith("/graphiql/"):
        return "/graphiql/{file}"
    return "unmatched"


def _log_request(request: Request, route: str, status: int, seconds: float) -> None:
    """One JSON line a request: id, client address, route, status, key name (never the key),
    operation, time."""
    key: ApiKey | None = getattr(request.state, "key", None)
    context: Context | None = getattr(request.state, "graphql", None)
    client = request.client
    fields: dict[str, Any] = {
        "request_id": request.state.request_id,
        "client": f"{client.host}:{client.port}" if client is not None else None,
        "method": request.method,
        "route": route,
        "status": status,
        "duration_ms": round(seconds * 1000, 1),
        "key_name": key.name if key else None,
        "key_id": key.id if key else None,
    }
    if context is not None:
        fields["operation"] = context.operation
    log.info("request", extra={"fields": fields})
