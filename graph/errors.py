"""One exception tree for the whole product; the API and the CLI map it once to codes."""

from __future__ import annotations

__all__ = [
    "BackendUnavailable",
    "Conflict",
    "CorruptJournal",
    "CreditnetError",
    "Forbidden",
    "InvalidInput",
    "NotFound",
    "RulesError",
    "Unauthenticated",
]


class CreditnetError(Exception):
    """Base of every error creditnet raises on purpose. ``code`` is the GraphQL error code."""

    code = "INTERNAL_SERVER_ERROR"
    exit_code = 1


class NotFound(CreditnetError):
    code = "NOT_FOUND"
    exit_code = 3


class InvalidInput(CreditnetError):
    code = "BAD_USER_INPUT"
    exit_code = 4


class RulesError(InvalidInput):
    """A rules file that does not pass the schema check; the message names file, rule and field."""

    exit_code = 2


class Conflict(CreditnetError):
    """A concurrent change won: re-read and decide again."""

    code = "CONFLICT"
    exit_code = 5


class Unauthenticated(CreditnetError):
    code = "UNAUTHENTICATED"


class Forbidden(CreditnetError):
    code = "FORBIDDEN"


class BackendUnavailable(CreditnetError):
    """The store cannot be reached or refused the operation; retrying later may succeed."""

    code = "BACKEND_UNAVAILABLE"
    exit_code = 5


class CorruptJournal(CreditnetError):
    """The embedded store's journal is damaged before its last record: not safe to start."""
