"""Traceability: ``creditnet trace BATCH --down|--up`` (spec/TRACEABILITY.md, docs/cli.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

import typer
from rich.table import Table

from api import views
from api.cli.common import EXIT_USAGE, Common, command, emit_json, fail, out_console, parse_date
from graph.explain import Path
from graph.model import Node
from queries.trace import downstream, upstream

__all__ = ["register"]


def _name(node_id: str | None, nodes: Mapping[str, Node]) -> str:
    if node_id is None:
        return ""
    document = views.entity_doc(nodes[node_id]) if node_id in nodes else None
    name = document["name"] if document is not None else None
    return f"{name} ({node_id})" if name and name != node_id else node_id


def _route(path: Path) -> str:
    """The path as ``batch -[date]-> batch -[date, quantity]-> company``."""
    text = path.nodes[0]
    for link, node in zip(path.links, path.nodes[1:], strict=True):
        label = link.type.value
        if link.start is not None:
            label += f" {link.start.isoformat()}"
        if link.quantity is not None:
            label += f" x{link.quantity:g}"
        text += f" -[{label}]-> {node}"
    return text


def register(app: typer.Typer) -> None:
    """Add this topic's commands to ``app``."""

    @command(
        app,
        "trace",
        help="Trace a batch: who received it and what was made of it (--down), or what it "
        "was made of, who produced and shipped that (--up), as of a date.",
    )
    def trace(
        batch_id: Annotated[
            str, typer.Argument(metavar="BATCH", help="the batch id, <product id>:<lot>")
        ],
        *,
        common: Common,
        down: Annotated[bool, typer.Option("--down", help="receivers downstream")] = False,
        up: Annotated[bool, typer.Option("--up", help="batches upstream")] = False,
        as_of: Annotated[
            str | None,
            typer.Option("--as-of", help="the day to look at, YYYY-MM-DD (default today)"),
        ] = None,
    ) -> None:
        if down == up:
            fail("give one of --down (receivers) or --up (origins)", EXIT_USAGE)
        day = parse_date(as_of)
        batch_id = batch_id.strip()
        with common.store() as store:
            if down:
                found_down = downstream(store, batch_id, day)
            else:
                found_up = upstream(store, batch_id, day)
        if down:
            if common.json:
                emit_json(views.downstream_doc(found_down))
                return
            table = Table(title=f"Downstream of {batch_id} as of {day.isoformat()}")
            for column in ("company", "batch", "date", "quantity", "path"):
                table.add_column(column)
            for r in found_down.receivers:
                table.add_row(
                    _name(r.company_id, found_down.nodes),
                    r.batch_id,
                    r.date.isoformat(),
                    f"{r.quantity:g}" if r.quantity is not None else "",
                    _route(r.path),
                )
            out_console.print(table)
            if not found_down.receivers:
                out_console.print(f"no company had received {batch_id} by {day.isoformat()}")
            return
        if common.json:
            emit_json(views.upstream_doc(found_up))
            return
        table = Table(title=f"Upstream of {batch_id} as of {day.isoformat()}")
        for column in ("batch", "producer", "shippers", "path"):
            table.add_column(column)
        for b in found_up.batches:
            table.add_row(
                b.batch_id,
                _name(b.producer_id, found_up.nodes),
                ", ".join(_name(s, found_up.nodes) for s in b.shippers),
                _route(b.path),
            )
        out_console.print(table)
