"""The HTTP app: GraphQL at /graphql, /healthz, /metrics, a body size limit and request ids."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from pydantic import BaseModel, Field
from strawberry.fastapi import GraphQLRouter

from api.audit import AuditLog
from api.auth import KeyStore
from api.graphql.context import Context, Limits
from api.graphql.schema import build_schema
from api.settings import Settings
from graph.rules.schema import load_rules
from graph.store import GraphStore

__all__ = ["ApiSettings", "create_app"]

REQUEST_ID_HEADER = "X-Request-ID"


class ApiSettings(BaseModel):
    """Limits of the HTTP API (defaults suit an agency deployment)."""

    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    max_depth: int = Field(default=10, ge=2)
    max_aliases: int = Field(default=30, ge=1)
    max_tokens: int = Field(default=2000, ge=50)
    max_page_size: int = Field(default=100, ge=1)
    graphiql: bool = True


def create_app(
    store: GraphStore,
    settings: Settings,
    *,
    keys: KeyStore,
    audit: AuditLog,
    api: ApiSettings | None = None,
) -> FastAPI:
    api = api or ApiSettings()
    registry = CollectorRegistry()
    operations = Counter(
        "creditnet_graphql_operations_total",
        "GraphQL operations by name and outcome",
        ["operation", "outcome"],
        registry=registry,
    )
    latency = Histogram(
        "creditnet_graphql_operation_seconds",
        "GraphQL operation latency",
        ["operation"],
        registry=registry,
    )
    http_requests = Counter(
        "creditnet_http_requests_total", "HTTP requests", ["path", "status"], registry=registry
    )

    def observe(operation: str, ok: bool, seconds: float) -> None:
        operations.labels(operation, "ok" if ok else "error").inc()
        latency.labels(operation).observe(seconds)

    schema = build_schema(
        max_depth=api.max_depth,
        max_aliases=api.max_aliases,
        max_tokens=api.max_tokens,
        observer=observe,
    )
    rules = load_rules(settings.rules)
    limits = Limits(max_page_size=api.max_page_size)

    async def get_context(request: Request) -> Context:
        return Context(
            store=store,
            keys=keys,
            audit=audit,
            limits=limits,
            authorization=request.headers.get("authorization"),
            request_id=request.state.request_id,
            rules=rules,
        )

    app = FastAPI(title="creditnet", version="0.1.0")
    app.state.settings = settings
    app.include_router(
        GraphQLRouter(
            schema, context_getter=get_context, graphql_ide="graphiql" if api.graphiql else None
        ),
        prefix="/graphql",
    )

    @app.middleware("http")
    async def limit_and_tag(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        request_id = request.headers.get(REQUEST_ID_HEADER) or uuid.uuid4().hex
        request_id = request_id[:100]
        request.state.request_id = request_id
        length = request.headers.get("content-length")
        response: Response
        if length is not None and (not length.isdigit() or int(length) > api.max_body_bytes):
            response = JSONResponse(
                {
                    "errors": [
                        {
                            "message": f"request body too large: {length} bytes; "
                            f"the limit is {api.max_body_bytes} bytes",
                            "extensions": {"code": "PAYLOAD_TOO_LARGE"},
                        }
                    ]
                },
                status_code=413,
            )
        elif length is None and request.method == "POST":
            response = JSONResponse(
                {"errors": [{"message": "send a Content-Length header with the request body"}]},
                status_code=411,
            )
        else:
            response = await call_next(request)
        response.headers[REQUEST_ID_HEADER] = request_id
        http_requests.labels(request.url.path[:32], str(response.status_code)).inc()
        return response

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        started = time.perf_counter()
        try:
            stats = store.stats()
        except Exception as exc:  # the store is down: say so, without details
            return JSONResponse(
                {"status": "unavailable", "store": store.name, "error": type(exc).__name__},
                status_code=503,
            )
        return JSONResponse(
            {
                "status": "ok",
                "store": store.name,
                "nodes": sum(stats.nodes.values()),
                "ms": round((time.perf_counter() - started) * 1000, 1),
            }
        )

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app
