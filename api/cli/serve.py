"""Commands that serve the API and manage its keys and audit log: serve, keys add, audit verify."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import SecretStr

from api.audit import AuditLog, AuditUnavailable, Verification, audit_path
from api.auth import KeyStore, Role, keys_path
from api.cli.common import (
    EXIT_USAGE,
    Common,
    command,
    emit_json,
    err_console,
    fail,
    out_console,
)
from api.factory import open_store
from api.settings import Settings, StoreKind
from graph.store import GraphStore

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["register", "run_server", "run_workers", "settings_json", "worker_app"]


def register(app: typer.Typer) -> None:
    command(app, "serve", help="Serve the GraphQL API (POST /graphql; GraphiQL in a browser).")(
        serve
    )
    keys = typer.Typer(help="Manage API keys.", no_args_is_help=True)
    command(keys, "add", help="Create an API key; it is printed once, only its hash is kept.")(
        keys_add
    )
    command(keys, "list", help="List API keys (ids, names, roles, expiry; never the keys).")(
        keys_list
    )
    command(keys, "revoke", help="Revoke a key; a running server refuses it within a second.")(
        keys_revoke
    )
    app.add_typer(keys, name="keys")
    audit = typer.Typer(help="Inspect the audit log.", no_args_is_help=True)
    command(audit, "verify", help="Check the audit log's hash chain; exit 1 if it is broken.")(
        audit_verify
    )
    app.add_typer(audit, name="audit")


def _checked_audit(store: GraphStore, settings: Settings) -> AuditLog:
    """The audit log, with decisions the store holds but the file lacks appended, and verified:
    a log found tampered with is kept refusing audited operations, and the reason is printed."""
    audit = AuditLog(audit_path(settings))
    try:
        audit.reconcile(store.audit_events())
        result = audit.verify()
        reason = None if result.ok else _broken(audit.path, result)
    except AuditUnavailable as exc:
        reason = str(exc)
    if reason is not None:
        audit.refusal = reason
        err_console.print(
            f"[bold red]audit log tampered with or unreadable:[/] {reason}. The server refuses "
            "audited operations (code AUDIT_UNAVAILABLE) until it is restored.",
            highlight=False,
            soft_wrap=True,
        )
    return audit


def _broken(path: Path, result: Verification) -> str:
    where = f" at line {result.broken_line} (seq {result.broken_seq})" if result.broken_line else ""
    return (
        f"audit log {path} is broken{where}: {result.reason}; {result.records} record(s) before "
        "it are intact"
    )


def run_server(store: GraphStore, settings: Settings, host: str, port: int, keys: KeyStore) -> None:
    """Serve the API over ``store`` until stopped (the audit log checked first)."""
    import uvicorn

    from api.app import create_app

    app = create_app(store, settings, keys=keys, audit=_checked_audit(store, settings))
    # the app logs every request itself (one JSON line with the client, key and operation):
    # uvicorn's access log would only repeat it, at a tenth of a request's CPU
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)


WORKER_SETTINGS = "CREDITNET_SERVE_WORKER_SETTINGS"
"""The environment variable that hands the parent's settings to ``serve --workers`` processes."""

WORKER_HEALTHCHECK_SECONDS = 30
"""How long a worker may take to answer the supervisor's ping before it is replaced (a worker
opening a large embedded store is busy for minutes, but its ping thread still answers)."""


def settings_json(settings: Settings) -> str:
    """``settings`` as JSON that :class:`Settings` reads back unchanged, secrets included.

    The settings of ``serve`` come from the environment *and* the command line; worker processes
    get them whole, so a ``--neo4j-uri`` given on the command line reaches every worker.
    """
    document = settings.model_dump(mode="json")
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            document[name] = value.get_secret_value()
    return json.dumps(document)


def worker_app() -> FastAPI:
    """The app of one ``serve --workers N`` process (uvicorn calls it in each worker).

    Each worker opens its own store (its own Neo4j driver; its own copy of the embedded store,
    which follows the shared journal) and checks the audit log as a single server does; the
    store is closed when the worker stops.
    """
    from api.app import create_app

    blob = os.environ.get(WORKER_SETTINGS)
    if blob is None:
        raise RuntimeError(
            f"{WORKER_SETTINGS} is not set: worker_app runs inside `creditnet serve --workers N`"
        )
    settings = Settings(**json.loads(blob))
    store = open_store(settings)
    try:
        audit = _checked_audit(store, settings)
        return create_app(
            store, settings, keys=KeyStore(keys_path(settings)), audit=audit, on_close=store.close
        )
    except BaseException:
        store.close()
        raise


def run_workers(settings: Settings, host: str, port: int, workers: int) -> None:
    """Serve the API from ``workers`` processes sharing one listening socket until stopped.

    uvicorn's supervisor binds the socket, starts the workers (each runs :func:`worker_app`),
    replaces a worker that dies and stops them all on SIGINT or SIGTERM.
    """
    import uvicorn

    os.environ[WORKER_SETTINGS] = settings_json(settings)
    uvicorn.run(
        f"{__name__}:worker_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=False,  # the app's own request log (run_server)
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
    )


def serve(
    host: Annotated[str, typer.Option("--host", help="the address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help="server processes sharing the port (Neo4j: about one per core of the API host; "
            "embedded store: each process holds its own copy in memory)",
        ),
    ] = 1,
    *,
    common: Common,
) -> None:
    keys = KeyStore(keys_path(common.settings))
    if not keys.keys():
        out_console.print(
            f"note: no API keys in {keys.path} yet; create one with "
            "`creditnet keys add --role agency --name NAME`"
        )
    if workers > 1:
        if common.settings.store is StoreKind.MEMORY:
            out_console.print(
                f"note: each of the {workers} workers loads its own copy of the embedded store "
                f"from {common.settings.data_dir} (memory is per process)"
            )
        run_workers(common.settings, host, port, workers)
        return
    # a new deployment may be served (and keys made) before its data is loaded
    with common.store(writes=True) as store:
        run_server(store, common.settings, host, port, keys)


def keys_add(
    role: Annotated[Role, typer.Option("--role", help="agency, investigator, reviewer or admin")],
    name: Annotated[str, typer.Option("--name", help="who holds the key (agency or person)")],
    expires: Annotated[
        str | None,
        typer.Option("--expires", help="ISO date or date-time (UTC) after which it stops working"),
    ] = None,
    *,
    common: Common,
) -> None:
    until: datetime | None = None
    if expires is not None:
        try:
            until = datetime.fromisoformat(expires)
        except ValueError:
            fail(f"--expires {expires!r} is not an ISO date or date-time (2026-12-31)", EXIT_USAGE)
    store = KeyStore(keys_path(common.settings))
    record, raw = store.add(role, name, until)
    if common.json:
        emit_json({"id": record.id, "name": record.name, "role": record.role, "key": raw})
        return
    out_console.print(f"created {record.id} ({record.role.value}) for {record.name}")
    out_console.print("the key (shown only this once; only its hash is stored):")
    out_console.print(raw, highlight=False, soft_wrap=True)


def keys_list(*, common: Common) -> None:
    keys = KeyStore(keys_path(common.settings)).keys()
    if common.json:
        emit_json(
            {
                "keys": [
                    {
                        "id": k.id,
                        "name": k.name,
                        "role": k.role.value,
                        "created": k.created,
                        "expires": k.expires,
                        "revoked": k.revoked,
                    }
                    for k in keys
                ]
            }
        )
        return
    if not keys:
        out_console.print("no API keys yet; create one with `creditnet keys add`")
    for k in keys:
        state = (
            f"revoked {k.revoked}" if k.revoked else (f"expires {k.expires}" if k.expires else "")
        )
        out_console.print(
            f"{k.id}  {k.role.value:<12} {k.name}  created {k.created}  {state}".rstrip(),
            highlight=False,
        )


def keys_revoke(
    key_id: Annotated[str, typer.Argument(metavar="KEY_ID", help="the key's id (keys list)")],
    *,
    common: Common,
) -> None:
    record = KeyStore(keys_path(common.settings)).revoke(key_id)
    if common.json:
        emit_json({"id": record.id, "name": record.name, "revoked": record.revoked})
        return
    out_console.print(f"revoked {record.id} ({record.name}) at {record.revoked}")


def audit_verify(*, common: Common) -> None:
    path = audit_path(common.settings)
    log = AuditLog(path)
    try:
        with common.store(writes=True) as store:
            log.reconcile(store.audit_events())
    except AuditUnavailable:
        pass  # verify below says what is wrong
    result = log.verify()
    if common.json:
        emit_json(
            {
                "file": str(path),
                "ok": result.ok,
                "records": result.records,
                "brokenLine": result.broken_line,
                "brokenSeq": result.broken_seq,
                "reason": result.reason,
            }
        )
    if not result.ok:
        fail(_broken(path, result))
    if not common.json:
        out_console.print(f"audit log {path}: {result.records} record(s), chain intact")
