"""Investigation commands: ``owners``, ``paths``, ``cycles``, ``signals``, ``export``."""

from __future__ import annotations

import itertools
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from api import views
from api.cli.batch import run_parquet_export
from api.cli.common import (
    EXIT_USAGE,
    Common,
    command,
    emit_json,
    err_console,
    fail,
    lookup_id,
    out_console,
    parse_date,
)
from api.cli.interop import run_export
from graph.explain import Path as ExplainedPath
from graph.model import Address, EntityKind, Node
from queries.cycles import ownership_cycles
from queries.export import ExportFormat, export_neighbourhood
from queries.interop_export import OutputFormat
from queries.ownership import ClosureDirection, ownership_closure, ownership_report
from queries.paths import find_paths
from queries.shell import shell_signals

__all__ = ["register"]

AsOf = Annotated[
    str | None, typer.Option("--as-of", help="the day to look at, YYYY-MM-DD (default today)")
]


def _share(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".") + "%"


def _chain(ids: list[str]) -> str:
    return " -> ".join(ids)


def _names(path: ExplainedPath, nodes: Mapping[str, Node]) -> str:
    """``name (id)`` of every node on ``path``, in walking order."""
    named = []
    for node_id in path.nodes:
        node = nodes.get(node_id)
        name = node.text if isinstance(node, Address) else getattr(node, "name", None)
        named.append(f"{name} ({node_id})" if name else node_id)
    return ", ".join(named)


def register(app: typer.Typer) -> None:
    """Add this topic's commands to ``app``."""

    @command(app, "owners", help="Beneficial owners of a company (--all: every upstream owner).")
    def owners(
        entity_id: Annotated[
            str, typer.Argument(callback=lookup_id, metavar="ID", help="the company")
        ],
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
                    emit_json([views.effective_holding_doc(h) for h in holdings])
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
            emit_json([views.beneficial_owner_doc(o, report.nodes) for o in report.owners])
            return
        table = Table(
            title=f"Beneficial owners of {report.company.name} ({entity_id}) "
            f"as of {day.isoformat()}, threshold {threshold:g}%"
        )
        for column in ("person", "name", "effective share", "controls", "via"):
            table.add_column(column)
        for owner in report.owners:
            via = "\n".join(_chain(list(p.nodes)) for p in owner.paths[:3])
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

    @command(app, "search", help="Find companies and persons by name, alias, id or identifier.")
    def search(
        text: Annotated[str, typer.Argument(metavar="TEXT", help="any part of a name or an id")],
        *,
        common: Common,
        kind: Annotated[
            EntityKind | None, typer.Option("--kind", help="only COMPANY or only PERSON")
        ] = None,
        first: Annotated[int, typer.Option("--first", min=1, max=1000)] = 20,
    ) -> None:
        # Matching ignores case, spaces and traditional/simplified Chinese (normalize_search_text).
        if not text.strip():
            fail("search needs some text: a name, part of one, or an id", EXIT_USAGE)
        with common.store() as store:
            page = store.search(text, kind, limit=first)
        if common.json:
            emit_json(
                {
                    "query": text,
                    "totalCount": page.total,
                    "entities": [views.entity_doc(node) for node in page.items],
                }
            )
            return
        if not page.items:
            out_console.print(f"nothing matches {text!r}")
            return
        table = Table(title=f"{page.total} match(es) for {text!r}")
        for column in ("id", "name", "kind"):
            table.add_column(column)
        for node in page.items:
            document = views.entity_doc(node)
            table.add_row(document["id"], document["name"], document["kind"] or "")
        out_console.print(table)

    @command(app, "paths", help="Shortest link paths between two entities.")
    def paths(
        source: Annotated[str, typer.Argument(callback=lookup_id, metavar="FROM")],
        target: Annotated[str, typer.Argument(callback=lookup_id, metavar="TO")],
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
            listed = ", ".join(f"{node} ({n} links)" for node, n in sorted(search.capped.items()))
            err_console.print(
                f"[yellow]note:[/] not expanded beyond these supernodes: {listed}", highlight=False
            )
        if common.json:
            emit_json(views.path_search_doc(search)["paths"])
            return
        if not search.paths:
            out_console.print(f"no path of at most {max_hops} links as of {day.isoformat()}")
            return
        for number, path in enumerate(search.paths, start=1):
            out_console.print(
                f"{number}. ({path.hops} links) {path.describe()}\n   {_names(path, search.nodes)}",
                highlight=False,
            )
            # The path shows one link per hop; say what else joins the same two nodes.
            for shown, pair in zip(path.links, itertools.pairwise(path.nodes), strict=True):
                for link in search.links_between.get(pair, ()):
                    if link != shown:
                        also = ExplainedPath(pair, (link,)).describe()
                        out_console.print(f"   also: {also}", highlight=False)

    @command(app, "cycles", help="Circular ownership structures an entity takes part in.")
    def cycles(
        entity_id: Annotated[str, typer.Argument(callback=lookup_id, metavar="ID")],
        *,
        common: Common,
        as_of: AsOf = None,
        max_length: Annotated[int, typer.Option("--max-length", min=2, max=20)] = 10,
    ) -> None:
        day = parse_date(as_of)
        with common.store() as store:
            found = ownership_cycles(store, entity_id, day, max_length=max_length)
            nodes = views.nodes_for(store, (c.path for c in found))
        if common.json:
            emit_json([views.cycle_doc(c, nodes) for c in found])
            return
        if not found:
            out_console.print(f"{entity_id} takes part in no ownership cycle")
        for cycle in found:
            share = "unknown" if cycle.share is None else _share(cycle.share)
            ids = [*cycle.ids, cycle.ids[0]]
            out_console.print(f"{_chain(ids)}  (held around: {share})", highlight=False)

    @command(app, "signals", help="Shell-company signals for an entity, with evidence.")
    def signals(
        entity_id: Annotated[str, typer.Argument(callback=lookup_id, metavar="ID")],
        *,
        common: Common,
        as_of: AsOf = None,
    ) -> None:
        day = parse_date(as_of)
        with common.store() as store:
            found = shell_signals(store, entity_id, day, common.settings.review.shell, common.rules)
            nodes = views.nodes_for(
                store, (p for s in found for p in views.evidence_paths(s.evidence))
            )
        documents = [views.signal_doc(s, nodes) for s in found]
        if common.json:
            emit_json(documents)
            return
        if not found:
            out_console.print(f"no shell-company signal for {entity_id}")
        for signal, document in zip(found, documents, strict=True):
            out_console.print(f"[bold]{signal.kind.value}[/]: {signal.summary}", highlight=False)
            out_console.print(json.dumps(document["evidence"], ensure_ascii=False), highlight=False)

    @command(
        app,
        "export",
        help="Export an entity's neighbourhood, or the whole store (no ID), for other tools.",
    )
    def export(
        entity_id: Annotated[str | None, typer.Argument(callback=lookup_id, metavar="[ID]")] = None,
        *,
        common: Common,
        as_of: AsOf = None,
        hops: Annotated[int, typer.Option("--hops", min=0, max=6)] = 2,
        fmt: Annotated[
            OutputFormat,
            typer.Option(
                "--format",
                help="graphml, cytoscape, gexf, ftm, bods, neo4j-csv, epcis (docs/interop.md) or "
                "parquet (the whole store, docs/batch.md)",
            ),
        ] = OutputFormat.GRAPHML,
        out: Annotated[
            Path | None, typer.Option("--out", help="write here instead of stdout")
        ] = None,
    ) -> None:
        day = parse_date(as_of)
        if fmt is OutputFormat.PARQUET:
            if entity_id is not None:
                fail("--format parquet exports the whole store: leave out the ID", EXIT_USAGE)
            run_parquet_export(common, out)
            return
        if entity_id is None or fmt.value not in (ExportFormat.GRAPHML, ExportFormat.CYTOSCAPE):
            run_export(common, entity_id, fmt, out, day, hops)
            return
        with common.store() as store:
            document = export_neighbourhood(
                store, entity_id, day, hops=hops, fmt=ExportFormat(fmt.value)
            )
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
