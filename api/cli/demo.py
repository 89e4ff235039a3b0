"""``creditnet demo``: the shipped demo bundle in a fresh in-memory store, served with keys and
example requests. Nothing is kept: the store lives in memory and the keys and audit log in a
temporary folder that is removed when the server stops."""

from __future__ import annotations

import errno
import json
import shlex
import shutil
import signal
import socket
import tempfile
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from api.auth import KeyStore, Role, keys_path
from api.cli.common import EXIT_USAGE, Common, command, emit_json, fail, out_console
from api.cli.loading import demo_bundle_dir, load_demo, print_load
from api.cli.serve import run_server
from api.factory import open_scratch_store
from api.settings import Settings, StoreKind
from graph.model import Company
from graph.store import GraphStore

__all__ = ["EXAMPLES", "UNSAFE_BATCH", "register", "serve_demo"]

UNSAFE_BATCH = "06938127050018:RM20261109"
"""The demo's unsafe raw-milk batch (loaders/demo/README.md, "Supply network and recall")."""

EXAMPLES: list[tuple[str, str, Role]] = [
    (
        "credit report: score, deductions, restrictions with their paths",
        '{ creditReport(id: "%s") { score grade deductions { points reason } '
        "restrictions { measure rule legalBasis path { links { type from to role share } } } } }",
        Role.AGENCY,
    ),
    (
        "search",
        '{ search(query: "上海", first: 3) { totalCount edges { node { id name kind } } } }',
        Role.AGENCY,
    ),
    (
        "company with sanctions",
        '{ entity(id: "%s") { id name ... on Company { status sanctions(includeEnded: true) '
        "{ list authority start end } } } }",
        Role.AGENCY,
    ),
    (
        "owners and officers (admin key)",
        '{ entity(id: "%s") { ... on Company { owners { edges { node { share owner { id name } } }'
        " } officers { edges { node { role person { name } } } } } } }",
        Role.ADMIN,
    ),
    (
        "recall trace: who received the unsafe milk batch, or the yoghurt made from it",
        '{ batch(id: "06938127050018:RM20261109") { product { name } '
        'downstream(asOf: "2026-11-28") { receivers { company { id name } batch date quantity '
        "} } } }",
        Role.ADMIN,
    ),
]
"""Example requests the demo prints: (title, query with %s for a company id, role); the
recall trace names :data:`UNSAFE_BATCH`."""


def register(app: typer.Typer) -> None:
    command(
        app, "demo", help="Load the bundled demo data into a fresh in-memory store and serve it."
    )(demo)


def demo(
    port: Annotated[int, typer.Option("--port", help="the port to serve the API on")] = 8000,
    host: Annotated[str, typer.Option("--host", help="the address to serve on")] = "127.0.0.1",
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="serve the API after loading")
    ] = True,
    *,
    common: Common,
) -> None:
    chosen = common.settings.model_fields_set
    if common.settings.store is not StoreKind.MEMORY or "data_dir" in chosen:
        fail(
            "demo always runs on a fresh in-memory store and keeps nothing; to serve the demo data "
            "from a data dir or Neo4j, run `creditnet load --demo` then `creditnet serve` with the "
            "same --store/--data-dir",
            EXIT_USAGE,
        )
    if serve:
        _check_port(host, port)
    store = open_scratch_store()
    result = load_demo(store, common.settings)
    if result.rejects:
        fail(f"the shipped demo bundle has {result.rejected} bad rows: {result.rejects[:3]}")
    counts = store.stats()
    if common.json:
        emit_json(
            {
                "bundle": str(demo_bundle_dir()),
                "nodes": dict(counts.nodes),
                "links": dict(counts.links),
            }
        )
    else:
        print_load(result, Path("rejects.csv"))
        out_console.print(
            "Loaded into a fresh in-memory store: "
            + ", ".join(f"{n} {label}" for label, n in counts.nodes.items())
            + "; "
            + ", ".join(f"{n} {kind}" for kind, n in counts.links.items())
        )
    if serve:
        serve_demo(port, host, store=store)
    else:
        store.close()


def _check_port(host: str, port: int) -> None:
    """Fail before anything is printed when the port is taken (keys printed for a server that
    never starts would only confuse)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            reason = "is in use" if exc.errno == errno.EADDRINUSE else f"cannot be used ({exc})"
            fail(f"port {port} on {host} {reason}; choose another with --port")


def _stop(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def _example_company(store: GraphStore) -> str:
    """A sanctioned company of the demo data (the first one by sanction id)."""
    for record in store.sanctions():
        if isinstance(store.get(record.subject_id), Company):
            return record.subject_id
    return "ID"


def serve_demo(
    port: int = 8000, host: str = "127.0.0.1", *, store: GraphStore | None = None
) -> None:
    """Serve the demo data: ``store`` if given (already loaded), else a fresh in-memory store with
    the demo bundle; create two temporary keys, print example requests, serve until stopped, then
    remove the temporary folder."""
    scratch = Path(tempfile.mkdtemp(prefix="creditnet-demo-"))
    try:
        settings = Settings(
            data_dir=scratch, keys_file=scratch / "keys.json", audit_file=scratch / "audit.jsonl"
        )
        if store is None:
            store = open_scratch_store()
            result = load_demo(store, settings)
            if result.rejects:
                fail(
                    f"the shipped demo bundle has {result.rejected} bad rows: {result.rejects[:3]}"
                )
        keys = KeyStore(keys_path(settings))
        raw = {role: keys.add(role, f"demo {role.value}")[1] for role in (Role.AGENCY, Role.ADMIN)}
        company = _example_company(store)
        url = f"http://{host}:{port}/graphql"
        out_console.print(
            f"demo keys (temporary, removed when the server stops):\n"
            f"  admin:  {raw[Role.ADMIN]}\n  agency: {raw[Role.AGENCY]}"
        )
        for title, query, role in EXAMPLES:
            text = query % company if "%s" in query else query
            body = json.dumps({"query": text}, ensure_ascii=False)
            out_console.print(f"\n# {title}", highlight=False)
            out_console.print(
                f"curl -s {url} -H 'Authorization: Bearer {raw[role]}' "
                f"-H 'Content-Type: application/json' -d {shlex.quote(body)}",
                highlight=False,
                soft_wrap=True,
            )
        out_console.print(
            f"\nGraphiQL: {url} (paste a key above into the API key box at the top of the page; "
            "it is kept for that browser tab only)"
        )
        out_console.print(
            f"Explorer: http://{host}:{port}/explore?id={company} (paste the admin key; an agency "
            "key sees no links)",
            highlight=False,
            soft_wrap=True,
        )
        out_console.print(
            f"Supply network: http://{host}:{port}/explore?id={UNSAFE_BATCH}&asOf=2026-11-28 "
            "(the unsafe milk batch, its yoghurt and their shipments)",
            highlight=False,
            soft_wrap=True,
        )
        # uvicorn re-raises the signal that stopped it once it has shut down; by default SIGTERM
        # would then kill the process before the temporary keys are removed.
        signal.signal(signal.SIGTERM, _stop)
        run_server(store, settings, host, port, keys)
    finally:
        if store is not None:
            store.close()
        shutil.rmtree(scratch, ignore_errors=True)
