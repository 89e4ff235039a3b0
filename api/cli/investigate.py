"""Investigation commands: ``owners``, ``paths``, ``cycles``, ``signals``, ``export``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from api.cli.common import (
    EXIT_USAGE,
    Common,
    command,
    emit_json,
    err_console,
    fail,
    out_console,
    parse_date,
)
from queries.cycles import cycle_json, ownership_cycles
from queries.export import ExportFormat, export_neighbourhood
from queries.ownership import (
    ClosureDirection,
    beneficial_owner_json,
    effective_holding_json,
    ownership_closure,
    ownership_report,
)
from queries.paths import capped_json, find_paths, path_json
from queries.shell import shell_signals, signal_json

__all__ = ["register"]

AsOf = Annotated[
    str | None, typer.Option("--as-of", help="the day to look at, YYYY-MM-DD (default today)")
]


def _share(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".") + "%"


def _chain(ids: list[str]) -> str:
    return " -> ".join(ids)


def register(app: typer.Typer) -> None:
    """Add this topic's commands to ``app``."""

    @command(app, "owners", help="Beneficial owners of a company (--all: every upstream owner).")
    def owners(
        entity_id: Annotated[str, typer.Argument(metavar="ID", help="the company")],
        *,
        common: Common,
        as_of: AsOf = None,
        threshold: Annotated[
            float, typer.Option("--threshold", help="percent; exactly this qualifies")
        ] = 25.0,
        all_owners: Annotated[
            bool,
            typer.Option("--all", help="every upstream owner with share, control flag, depth"),
        ] = False,
    ) -> None:
        day = parse_date(as_of)
        if not 0.0 <= threshold <= 100.0:
            fail("--threshold must lie between 0 and 100", EXIT_USAGE)
        with common.store() as store:
            if all_owners:
                holdings = ownership_closure(store, entity_id, day, ClosureDirection.UP)
                if common.json:
                    emit_json([effective_holding_json(h) for h in holdings])
                    return
                table = Table(title=f"Owners of {entity_id} as of {day.isoformat()}")
                for column in ("id", "name", "kind", "effective share", "controls", "depth"):
                    table.add_column(column)
                for h in holdings:
                    table.add_row(
                        h.entity.id,
                        h.entity.name,
                        h.entity.kind.value,
                        _share(h.effective_share),
                        "yes" if h.controls else "",
                        str(h.depth),
                    )
                out_console.print(table)
                return
            report = ownership_report(store, entity_id, day, threshold=threshold)
        for issue in report.issues:
            err_console.print(f"[yellow]data issue:[/] {issue.detail}", highlight=False)
        if common.json:
            emit_json([beneficial_owner_json(o) for o in report.owners])
            return
        table = Table(
            title=f"Beneficial owners of {report.company.name} ({entity_id}) "
            f"as of {day.isoformat()}, threshold {threshold:g}%"
        )
        for column in ("person", "name", "effective share", "controls", "via"):
            table.add_column(column)
        for owner in report.owners:
            via = "\n".join(_chain([n.id for n in p.nodes]) for p in owner.paths[:3])
            if len(owner.paths) > 3:
                via += f"\n(+{len(owner.paths) - 3} more paths)"
            table.add_row(
                owner.person.id,
                owner.person.name,
                _share(owner.effective_share),
                "yes" if owner.controls else "",
                via,
            )
        out_console.print(table)
        if not report.owners:
            out_console.print("no natural person reaches the threshold or controls it")

    @command(app, "paths", help="Shortest link paths between two entities.")
    def paths(
        source: Annotated[str, typer.Argument(metavar="FROM")],
        target: Annotated[str, typer.Argument(metavar="TO")],
        *,
        common: Common,
        as_of: AsOf = None,
        max_hops: Annotated[int, typer.Option("--max-hops", min=1, max=12)] = 6,
        first: Annotated[int, typer.Option("--first", min=1, max=100)] = 5,
    ) -> None:
        day = parse_date(as_of)
        with common.store() as store:
            search = find_paths(store, source, target, day, max_hops=max_hops, first=first)
        if search.capped:
            listed = ", ".join(
                f"{c['id']} ({c['links']} links)" for c in capped_json(search.capped)
            )
            err_console.print(
                f"[yellow]note:[/] not expanded beyond these supernodes: {listed}", highlight=False
            )
        if common.json:
            emit_json([path_json(p) for p in search.paths])
            return
        if not search.paths:
            out_console.print(f"no path of at most {max_hops} links as of {day.isoformat()}")
            return
        for number, path in enumerate(search.paths, start=1):
            parts = [path.nodes[0].id]
            for link, node in zip(path.links, path.nodes[1:], strict=True):
                label = link.type.value
                if link.role is not None:
                    label += f":{link.role.value}"
                if link.share is not None:
                    label += f" {link.share:g}%"
                arrow = f" -[{label}]-> " if link.target == node.id else f" <-[{label}]- "
                parts.append(arrow + node.id)
            out_console.print(f"{number}. ({len(path)} links) " + "".join(parts), highlight=False)

    @command(app, "cycles", help="Circular ownership structures an entity takes part in.")
    def cycles(
        entity_id: Annotated[str, typer.Argument(metavar="ID")],
        *,
        common: Common,
        as_of: AsOf = None,
        max_length: Annotated[int, typer.Option("--max-length", min=2, max=20)] = 10,
    ) -> None:
        day = parse_date(as_of)
        with common.store() as store:
            found = ownership_cycles(store, entity_id, day, max_length=max_length)
        if common.json:
            emit_json([cycle_json(c) for c in found])
            return
        if not found:
            out_console.print(f"{entity_id} takes part in no ownership cycle")
        for cycle in found:
            share = "unknown" if cycle.share is None else _share(cycle.share)
            ids = [*cycle.ids, cycle.ids[0]]
            out_console.print(f"{_chain(ids)}  (held around: {share})", highlight=False)

    @command(app, "signals", help="Shell-company signals for an entity, with evidence.")
    def signals(
        entity_id: Annotated[str, typer.Argument(metavar="ID")],
        *,
        common: Common,
        as_of: AsOf = None,
    ) -> None:
        day = parse_date(as_of)
        with common.store() as store:
            found = shell_signals(store, entity_id, day)
        if common.json:
            emit_json([signal_json(s) for s in found])
            return
        if not found:
            out_console.print(f"no shell-company signal for {entity_id}")
        for signal in found:
            out_console.print(f"[bold]{signal.kind.value}[/]: {signal.summary}", highlight=False)
            out_console.print(json.dumps(signal.evidence, ensure_ascii=False), highlight=False)

    @command(app, "export", help="Export an entity's neighbourhood for Gephi or Cytoscape.")
    def export(
        entity_id: Annotated[str, typer.Argument(metavar="ID")],
        *,
        common: Common,
        as_of: AsOf = None,
        hops: Annotated[int, typer.Option("--hops", min=0, max=6)] = 2,
        fmt: Annotated[
            ExportFormat, typer.Option("--format", help="graphml (Gephi) or cytoscape (JSON)")
        ] = ExportFormat.GRAPHML,
        out: Annotated[
            Path | None, typer.Option("--out", help="write here instead of stdout")
        ] = None,
    ) -> None:
        day = parse_date(as_of)
        with common.store() as store:
            document = export_neighbourhood(store, entity_id, day, hops=hops, fmt=fmt)
        if isinstance(document, bytes):
            data = document
        else:
            data = (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode()
        if out is None:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
            return
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
        err_console.print(f"wrote {out} ({len(data)} bytes)", highlight=False)
