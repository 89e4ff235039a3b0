"""What every CLI command shares: the common options, opening the store, output, and exit codes.

A command is a plain function with a keyword-only ``common: Common`` parameter, registered with
:func:`command`; the decorator adds the common options (``--store``, ``--data-dir``,
``--neo4j-*``, ``--json``, ``--rules``) to its signature, so they work after the command name as
spec/CLI.md shows, and maps :class:`graph.errors.CreditnetError` to the exit codes of the spec.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import sys
import typing
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

from api.factory import open_store
from api.settings import Settings, StoreKind
from graph.errors import CreditnetError
from graph.store import GraphStore

__all__ = [
    "EXIT_FAILURE",
    "EXIT_NOT_FOUND",
    "EXIT_OK",
    "EXIT_REJECTED",
    "EXIT_USAGE",
    "Common",
    "command",
    "emit_json",
    "fail",
    "parse_date",
]

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_REJECTED = 0, 1, 2, 3, 4

err_console = Console(stderr=True)
out_console = Console()


@dataclass(frozen=True, slots=True)
class Common:
    """The common options of one invocation, resolved against the environment."""

    settings: Settings
    json: bool

    @contextmanager
    def store(self) -> Iterator[GraphStore]:
        """The configured store, closed when the block ends."""
        store = open_store(self.settings)
        try:
            yield store
        finally:
            store.close()


def _option(name: str, annotation: Any, flag: str, help_text: str, default: Any = None) -> Any:
    return inspect.Parameter(
        name,
        inspect.Parameter.KEYWORD_ONLY,
        default=default,
        annotation=Annotated[annotation, typer.Option(flag, help=help_text)],
    )


_COMMON_PARAMS: list[inspect.Parameter] = [
    _option(
        "store_kind",
        StoreKind | None,
        "--store",
        "memory (embedded, default) or neo4j [CREDITNET_STORE]",
    ),
    _option(
        "data_dir", Path | None, "--data-dir", "the embedded store's folder [CREDITNET_DATA_DIR]"
    ),
    _option("neo4j_uri", str | None, "--neo4j-uri", "[CREDITNET_NEO4J_URI]"),
    _option("neo4j_user", str | None, "--neo4j-user", "[CREDITNET_NEO4J_USER]"),
    _option("neo4j_password", str | None, "--neo4j-password", "[CREDITNET_NEO4J_PASSWORD]"),
    _option("neo4j_database", str | None, "--neo4j-database", "[CREDITNET_NEO4J_DATABASE]"),
    _option(
        "rules",
        Path | None,
        "--rules",
        "a rules YAML file instead of the default [CREDITNET_RULES]",
    ),
    _option("json_output", bool, "--json", "print exactly one JSON document on stdout", False),
]
_COMMON_NAMES = [p.name for p in _COMMON_PARAMS]
_SETTINGS_FIELDS = {
    "store_kind": "store",
    "data_dir": "data_dir",
    "neo4j_uri": "neo4j_uri",
    "neo4j_user": "neo4j_user",
    "neo4j_password": "neo4j_password",
    "neo4j_database": "neo4j_database",
    "rules": "rules",
}


def command(app: typer.Typer, name: str, **options: Any) -> Callable[[Callable[..., None]], None]:
    """Register ``fn`` as command ``name`` of ``app`` with the common options added.

    ``fn`` takes ``common: Common`` as a keyword-only parameter besides its own options.
    """

    def register(fn: Callable[..., None]) -> None:
        hints = typing.get_type_hints(fn, include_extras=True)
        own = [
            p.replace(annotation=hints.get(p.name, p.annotation))
            for p in inspect.signature(fn).parameters.values()
            if p.name != "common"
        ]

        @functools.wraps(fn)
        def wrapper(**kwargs: Any) -> None:
            common_values = {name: kwargs.pop(name) for name in _COMMON_NAMES}
            overrides = {
                field: common_values[param]
                for param, field in _SETTINGS_FIELDS.items()
                if common_values[param] is not None
            }
            run_guarded(
                lambda: fn(common=_common(overrides, common_values["json_output"]), **kwargs)
            )

        positional = [p for p in own if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
        keyword = [p for p in own if p.kind is not inspect.Parameter.POSITIONAL_OR_KEYWORD]
        parameters = (
            positional
            + [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in keyword]
            + _COMMON_PARAMS
        )
        wrapper.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
        del wrapper.__wrapped__
        app.command(name, **options)(wrapper)

    return register


def _common(overrides: dict[str, Any], json_output: bool) -> Common:
    try:
        settings = Settings(**overrides)
    except ValueError as exc:
        fail(f"bad configuration: {exc}", EXIT_USAGE)
    return Common(settings=settings, json=json_output)


def run_guarded(action: Callable[[], None]) -> None:
    """Run a command body; turn creditnet errors into a message on stderr and the exit code."""
    try:
        action()
    except CreditnetError as exc:
        fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        fail("interrupted; anything acknowledged so far is kept, and re-running is safe", 130)


def fail(message: str, code: int = EXIT_FAILURE) -> NoReturn:
    """Print ``error: message`` to stderr and exit with ``code``."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _json_default(value: object) -> object:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def emit_json(document: object) -> None:
    """Print exactly one JSON document on stdout."""
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2, default=_json_default))
    sys.stdout.write("\n")
    sys.stdout.flush()


def parse_date(value: str | None) -> date:
    """An ``--as-of`` value: ISO ``YYYY-MM-DD``, default today; a bad one is a usage error."""
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{value!r} is not a date; write it as YYYY-MM-DD", EXIT_USAGE)


def configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not verbose:
        # Concurrent load batches sometimes deadlock on a shared node; the driver retries them,
        # as it should, and would otherwise print a warning for each retry.
        logging.getLogger("neo4j").setLevel(logging.ERROR)
