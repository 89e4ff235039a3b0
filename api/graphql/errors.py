"""Errors are mapped once, here, to ``extensions.code``; unexpected ones are masked."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import SchemaExtension

from graph.errors import CreditnetError

__all__ = ["ErrorCodes", "format_error"]

log = logging.getLogger(__name__)

INTERNAL_MESSAGE = "Internal server error; it has been logged."


def format_error(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    while isinstance(original, GraphQLError) and original.original_error is not None:
        original = original.original_error
    if isinstance(original, CreditnetError):
        code = original.code
        message = str(original) if code != "INTERNAL_SERVER_ERROR" else INTERNAL_MESSAGE
        if isinstance(error.original_error, GraphQLError) or error.path is None:
            # argument / variable coercion: keep graphql's context ("Variable '$d' got ...")
            message = error.message
    elif original is None or isinstance(original, GraphQLError):
        existing = (error.extensions or {}).get("code")
        if existing:
            code = str(existing)
        elif isinstance(error, GraphQLSyntaxError) or isinstance(original, GraphQLSyntaxError):
            code = "GRAPHQL_PARSE_FAILED"
        else:
            code = "GRAPHQL_VALIDATION_FAILED"
        message = error.message
    else:
        log.error("unexpected error in %s", error.path, exc_info=original)
        code, message = "INTERNAL_SERVER_ERROR", INTERNAL_MESSAGE
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions={"code": code},
    )


class ErrorCodes(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            result.errors = [format_error(e) for e in errors]
