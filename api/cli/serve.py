"""Commands that serve the API and manage its keys and audit log: serve, keys add, audit verify."""

from __future__ import annotations

import json
import shlex
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from api.audit import AuditLog, audit_path
from api.auth import KeyStore, Role, keys_path
from api.cli.common import Common, command, emit_json, fail, out_console
from api.cli.loading import load_demo
from api.settings import Settings
from graph.memory import MemoryStore
from graph.model import Company
from graph.store import GraphStore

__all__ = ["register", "serve_demo"]


def register(app: typer.Typer) -> None:
    command(app, "serve", help="Serve the GraphQL API (POST /graphql; GraphiQL in a browser).")(
        serve
    )
    keys = typer.Typer(help="Manage API keys.", no_args_is_help=True)
    command(keys, "add", help="Create an API key; it is printed once, only its hash is kept.")(
        keys_add
    )
    app.add_typer(keys, name="keys")
    audit = typer.Typer(help="Inspect the audit log.", no_args_is_help=True)
    command(audit, "verify", help="Check the audit log's hash chain; exit 1 if it is broken.")(
        audit_verify
    )
    app.add_typer(audit, name="audit")


def _run(store: GraphStore, settings: Settings, host: str, port: int, keys: KeyStore) -> None:
    import uvicorn

    from api.app import create_app

    app = create_app(store, settings, keys=keys, audit=AuditLog(audit_path(settings)))
    uvicorn.run(app, host=host, port=port, log_level="info")


def serve(
    host: Annotated[str, typer.Option("--host", help="the address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
    *,
    common: Common,
) -> None:
    keys = KeyStore(keys_path(common.settings))
    if not keys.keys():
        out_console.print(
            f"note: no API keys in {keys.path} yet; create one with "
            "`creditnet keys add --role agency --name NAME`"
        )
    with common.store() as store:
        _run(store, common.settings, host, port, keys)


def keys_add(
    role: Annotated[Role, typer.Option("--role", help="agency, investigator, reviewer or admin")],
    name: Annotated[str, typer.Option("--name", help="who holds the key (agency or person)")],
    *,
    common: Common,
) -> None:
    store = KeyStore(keys_path(common.settings))
    record, raw = store.add(role, name)
    if common.json:
        emit_json({"id": record.id, "name": record.name, "role": record.role, "key": raw})
        return
    out_console.print(f"created {record.id} ({record.role.value}) for {record.name}")
    out_console.print("the key (shown only this once; only its hash is stored):")
    out_console.print(raw, highlight=False, soft_wrap=True)


def audit_verify(*, common: Common) -> None:
    path = audit_path(common.settings)
    result = AuditLog(path).verify()
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
        fail(
            f"audit log {path} is broken at line {result.broken_line} "
            f"(seq {result.broken_seq}): {result.reason}; {result.records} record(s) before it "
            "are intact"
        )
    if not common.json:
        out_console.print(f"audit log {path}: {result.records} record(s), chain intact")


EXAMPLES = [
    (
        "search",
        '{ search(query: "上海", first: 3) { totalCount edges { node { id name kind } } } }',
    ),
    (
        "company with sanctions",
        '{ entity(id: "%s") { id name ... on Company { status sanctions(includeEnded: true) '
        "{ list authority start end } } } }",
    ),
    (
        "owners and officers (admin key)",
        '{ entity(id: "%s") { ... on Company { owners { edges { node { share owner { id name } } }'
        " } officers { edges { node { role person { name } } } } } } }",
    ),
]


def _example_company(store: MemoryStore) -> str:
    """A sanctioned company of the demo data (the first one by sanction id)."""
    for record in store.sanctions():
        if isinstance(store.get(record.subject_id), Company):
            return record.subject_id
    return "ID"


def serve_demo(
    port: int = 8000, host: str = "127.0.0.1", *, store: MemoryStore | None = None
) -> None:
    """Serve the demo data: ``store`` if given (already loaded), else a fresh in-memory store with
    the demo bundle; create two temporary keys, print example queries, serve until stopped."""
    settings = Settings()
    scratch = Path(tempfile.mkdtemp(prefix="creditnet-demo-"))
    settings = settings.model_copy(
        update={"keys_file": scratch / "keys.json", "audit_file": scratch / "audit.jsonl"}
    )
    if store is None:
        store = MemoryStore()
        result = load_demo(store, settings)
        if result.rejects:
            fail(f"the shipped demo bundle has {result.rejected} bad rows: {result.rejects[:3]}")
    keys = KeyStore(keys_path(settings))
    _, admin = keys.add(Role.ADMIN, "demo admin")
    _, agency = keys.add(Role.AGENCY, "demo agency")
    company = _example_company(store)
    url = f"http://{host}:{port}/graphql"
    out_console.print(
        f"demo keys (temporary, in {scratch}):\n  admin:  {admin}\n  agency: {agency}"
    )
    for (title, query), key in zip(EXAMPLES, [agency, agency, admin], strict=True):
        text = query % company if "%s" in query else query
        body = json.dumps({"query": text})
        out_console.print(f"\n# {title}", highlight=False)
        out_console.print(
            f"curl -s {url} -H 'Authorization: Bearer {key}' "
            f"-H 'Content-Type: application/json' -d {shlex.quote(body)}",
            highlight=False,
            soft_wrap=True,
        )
    out_console.print(f"\nGraphiQL: {url} (add the Authorization header in its headers tab)")
    try:
        _run(store, settings, host, port, keys)
    finally:
        store.close()
