"""``creditnet db init``: prepare the configured store (Neo4j constraints and indexes)."""

from __future__ import annotations

import typer

from api.cli.common import Common, command, emit_json, out_console

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    db_app = typer.Typer(help="Database administration.", no_args_is_help=True)
    command(db_app, "init", help="Create constraints and indexes (idempotent).")(init)
    app.add_typer(db_app, name="db")


def init(*, common: Common) -> None:
    with common.store(writes=True) as store:
        ensure_schema = getattr(store, "ensure_schema", None)
        if ensure_schema is not None:
            ensure_schema()
            what = "constraints and indexes are in place"
        else:
            what = "the embedded store needs no schema; its data dir is ready"
    if common.json:
        emit_json({"store": common.settings.store.value, "ready": True})
    else:
        out_console.print(f"{common.settings.store.value}: {what}")
