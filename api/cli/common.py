"""What every CLI command shares: the common options, opening the store, output, and exit codes.

A command is a plain function with a keyword-only ``common: Common`` parameter, registered with
:func:`command`; the decorator adds the common options (``--store``, ``--data-dir``,
``--neo4j-*``, ``--json``, ``--rules``) to its signature, so they work after the command name
as docs/cli.md shows (and, through :func:`with_common_options` on the root, before it), and
maps :class:`graph.errors.CreditnetError` to the exit codes documented
there (with ``--json``, an error is one JSON document on stdout).
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import re
import sys
import traceback
import typing
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console

from api.audit import AuditLog, audit_path, run_audited
from api.factory import open_store
from api.settings import Settings, StoreKind
from graph.errors import CreditnetError
from graph.rules.schema import RuleSet, load_rules
from graph.store import GraphStore
from loaders.uscc import normalize_id

__all__ = [
    "EXIT_CONFLICT",
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
    "redact",
    "with_common_options",
]

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_REJECTED = 0, 1, 2, 3, 4
EXIT_CONFLICT = 5
"""A concurrent change won or the store is busy: re-read and try again (docs/cli.md)."""

_CODES_BY_EXIT = {
    EXIT_FAILURE: "FAILURE",
    EXIT_USAGE: "USAGE",
    EXIT_NOT_FOUND: "NOT_FOUND",
    EXIT_REJECTED: "BAD_USER_INPUT",
    EXIT_CONFLICT: "CONFLICT",
    130: "INTERRUPTED",
}


@dataclass
class _Output:
    """How this invocation reports errors: as JSON (``--json``), and whether it printed one yet."""

    json: bool = False
    emitted: bool = False
    secrets: tuple[str, ...] = ()


_output = _Output()
_URI_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")


def redact(text: str) -> str:
    """``text`` without credentials: ``user:password@`` in URIs and every known secret."""
    text = _URI_CREDENTIALS.sub(r"\g<scheme>***@", text)
    for secret in _output.secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


err_console = Console(stderr=True)
out_console = Console()


T = TypeVar("T")


@dataclass(frozen=True)
class Common:
    """The common options of one invocation, resolved against the environment."""

    settings: Settings
    json: bool

    @cached_property
    def rules(self) -> RuleSet:
        """The rules in force (``--rules`` / CREDITNET_RULES, else the shipped default)."""
        return load_rules(self.settings.rules)

    @contextmanager
    def store(self, *, writes: bool = False, empty_ok: bool = False) -> Iterator[GraphStore]:
        """The configured store, closed when the block ends.

        A command that only reads (``writes`` false) is refused, naming the place, when the data
        dir holds no creditnet data (a mistyped ``--data-dir`` would otherwise be created and
        answered from as an empty store) or, unless ``empty_ok``, when the store is empty: an
        empty answer would read as "nothing found".
        """
        if not writes and self.settings.store is StoreKind.MEMORY:
            from graph.memory import JOURNAL_NAME

            folder = self.settings.data_dir
            # journal.log once written to, journal.lock once opened by creditnet at all
            if not folder.is_dir() or not any(folder.glob(f"{JOURNAL_NAME.split('.')[0]}.*")):
                fail(
                    f"{folder} holds no creditnet data (no {JOURNAL_NAME}): check --data-dir "
                    "(CREDITNET_DATA_DIR), or load data first with creditnet load FOLDER",
                    EXIT_USAGE,
                )
        store = open_store(self.settings)
        try:
            if not writes and not empty_ok and not any(store.stats().nodes.values()):
                fail(
                    f"the store ({self._where()}) is empty: load data first with creditnet load "
                    "FOLDER, or check --data-dir / --store / --neo4j-uri",
                    EXIT_USAGE,
                )
            yield store
        finally:
            store.close()

    def _where(self) -> str:
        settings = self.settings
        if settings.store is StoreKind.MEMORY:
            return f"data dir {settings.data_dir}"
        return redact(f"Neo4j {settings.neo4j_uri}, database {settings.neo4j_database}")


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
    _option(
        "neo4j_password",
        str | None,
        "--neo4j-password",
        "visible in ps: prefer --neo4j-password-file [CREDITNET_NEO4J_PASSWORD]",
    ),
    _option(
        "neo4j_password_file",
        Path | None,
        "--neo4j-password-file",
        "a file holding the Neo4j password (first line)",
    ),
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
    "neo4j_password_file": "neo4j_password_file",
    "neo4j_database": "neo4j_database",
    "rules": "rules",
}


_root_values: dict[str, Any] = {}
"""The common options given before the command name (:func:`with_common_options`)."""


def with_common_options(callback: Callable[..., None]) -> Callable[..., None]:
    """``callback``, the root of the command tree, taking the common options too.

    So they may come before the command name as well as after it: ``creditnet --data-dir X
    report ID`` is ``creditnet report ID --data-dir X``. A value given after the command name
    wins over one given before it.
    """
    hints = typing.get_type_hints(callback, include_extras=True)
    own = [
        p.replace(annotation=hints.get(p.name, p.annotation))
        for p in inspect.signature(callback).parameters.values()
    ]

    @functools.wraps(callback)
    def wrapper(**kwargs: Any) -> None:
        _root_values.clear()
        _root_values.update({name: kwargs.pop(name) for name in _COMMON_NAMES})
        callback(**kwargs)

    parameters = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own] + _COMMON_PARAMS
    wrapper.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
    del wrapper.__wrapped__
    return wrapper


def _given(name: str, value: Any) -> Any:
    """A common option's value: after the command name, else before it (None/False: not given)."""
    if value is None or value is False:
        return _root_values.get(name, value)
    return value


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
            common_values = {name: _given(name, kwargs.pop(name)) for name in _COMMON_NAMES}
            _root_values.clear()  # used once: a later invocation in this process starts afresh
            overrides = {
                field: common_values[param]
                for param, field in _SETTINGS_FIELDS.items()
                if common_values[param] is not None
            }
            _output.json = bool(common_values["json_output"])
            _output.emitted = False
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
    password_file = overrides.pop("neo4j_password_file", None)
    if password_file is not None:
        try:
            overrides["neo4j_password"] = Path(password_file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"cannot read --neo4j-password-file {password_file}: {exc}", EXIT_USAGE)
    elif overrides.get("neo4j_password") is not None:
        err_console.print(
            "warning: --neo4j-password is visible to every user of this machine (ps); use "
            "--neo4j-password-file or CREDITNET_NEO4J_PASSWORD instead",
            highlight=False,
            soft_wrap=True,
        )
    try:
        settings = Settings(**overrides)
    except ValueError as exc:
        fail(f"bad configuration: {exc}", EXIT_USAGE)
    secret = settings.neo4j_password
    _output.secrets = (secret.get_secret_value(),) if secret is not None else ()
    return Common(settings=settings, json=json_output)


def run_guarded(action: Callable[[], None]) -> None:
    """Run a command body; turn errors into a message (JSON with ``--json``) and the exit code.

    An unexpected exception is reported by type and message without credentials (a driver error
    can quote the URI it was given); ``--verbose`` adds the traceback, redacted too.
    """
    try:
        action()
    except CreditnetError as exc:
        fail(str(exc), exc.exit_code, exc.code)
    except KeyboardInterrupt:
        fail("interrupted; anything acknowledged so far is kept, and re-running is safe", 130)
    except (typer.Exit, typer.Abort, SystemExit):
        raise
    except Exception as exc:
        if logging.getLogger().isEnabledFor(logging.DEBUG):
            trace = "".join(traceback.format_exception(exc))
            err_console.print(redact(trace), highlight=False, markup=False, soft_wrap=True)
        fail(
            f"unexpected {type(exc).__name__}: {exc}; run again with --verbose for the details",
            EXIT_FAILURE,
            "INTERNAL_ERROR",
        )


def fail(message: str, code: int = EXIT_FAILURE, error_code: str | None = None) -> NoReturn:
    """Report ``message`` and exit with ``code``.

    On stderr as ``error: message``; with ``--json``, as the one JSON document on stdout,
    ``{"error": {"code", "message", "exitCode"}}`` (unless the command already printed its
    document). Credentials are removed from the message either way.
    """
    message = redact(message)
    if _output.json and not _output.emitted:
        emit_json(
            {
                "error": {
                    "code": error_code or _CODES_BY_EXIT.get(code, "FAILURE"),
                    "message": message,
                    "exitCode": code,
                }
            }
        )
    else:
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
    _output.emitted = True
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2, default=_json_default))
    sys.stdout.write("\n")
    sys.stdout.flush()


def audited(
    common: Common,
    operation: str,
    subject: str,
    actor: str,
    action: Callable[[dict[str, Any]], T],
    result_of: Callable[[T], str],
) -> T:
    """Run a CLI decision under the shared audited-decision policy (:func:`api.audit.run_audited`)
    with ``--actor`` as who; ``action`` gets the audit event to write with the decision."""
    if not actor.strip():
        fail("say who decides or files: --actor NAME (or CREDITNET_ACTOR)", EXIT_USAGE)
    return run_audited(
        AuditLog(audit_path(common.settings)),
        operation=operation,
        subject_ids=[subject],
        key_id=None,
        key_name=actor.strip(),
        role="cli",
        request_id=None,
        action=action,
        result_of=result_of,
    )


def lookup_id(value: str | None) -> str | None:
    """An entity id as typed: surrounding spaces dropped, a unified social credit code
    upper-cased (the form ids are stored in), so ``91440300ma5fuk7x4k`` finds the company."""
    return normalize_id(value) if value is not None else None


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
