"""``creditnet load --format ftm|bods|psc|icij`` and ``creditnet export`` of a whole store
(spec/INTEROP.md): the command-line side of :mod:`loaders.interop` and
:mod:`queries.interop_export`."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from api.cli.common import EXIT_REJECTED, Common, emit_json, err_console, fail, out_console
from graph.rules.schema import load_rules
from loaders.bundle import write_rejects
from loaders.interop import InteropResult, load_interop, read_list_map
from loaders.interop.epcis import read_party_map
from queries.interop_export import OutputFormat, export

__all__ = ["run_export", "run_interop_load"]


def run_interop_load(
    common: Common,
    path: Path,
    fmt: str | None,
    *,
    dataset: str | None,
    list_map: Path | None,
    allow_rejects: bool,
    rejects: Path | None,
    party_map: Path | None = None,
) -> None:
    """Load a third-party file; report like a bundle load (exit 4 with the report on rejects)."""
    mapping = read_list_map(list_map) if list_map is not None else None
    parties = read_party_map(party_map) if party_map is not None else None
    with (
        common.store(writes=True) as store,
        Progress(
            TextColumn("loading {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err_console,
            transient=True,
            disable=common.json,
        ) as progress,
    ):
        task = progress.add_task(path.name, total=None)
        result = load_interop(
            store,
            path,
            fmt,
            dataset=dataset,
            allow_rejects=allow_rejects,
            batch_size=common.settings.batch_size,
            list_map=mapping,
            party_map=parties,
            rules=load_rules(common.settings.rules),
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    report = rejects or Path("rejects.csv")
    if result.rejects:
        write_rejects(result.rejects, report)
    if common.json:
        emit_json(_document(result, report if result.rejects else None))
    else:
        _print(result, report)
    if result.rejects and not allow_rejects:
        fail(
            f"{result.rejected} record(s) rejected; nothing was loaded. The report is {report}. "
            "Fix those records and load again, or use --allow-rejects to load the others.",
            EXIT_REJECTED,
        )


def _reject(r: object) -> dict[str, object]:
    return {k: getattr(r, k) for k in ("file", "line", "column", "reason", "value")}


def _document(result: InteropResult, report: Path | None) -> dict[str, object]:
    return {
        "path": str(result.path),
        "format": result.format,
        "dataset": result.dataset,
        "applied": result.applied,
        "records": result.records,
        "written": result.written,
        "skipped": result.skipped,
        "rejected": result.rejected,
        "rejectsFile": None if report is None else str(report),
        "rejects": [_reject(r) for r in result.rejects],
        "dangling": [_reject(r) for r in result.dangling],
    }


def _print(result: InteropResult, report: Path) -> None:
    table = Table(
        title=f"{result.format} {result.path} (dataset {result.dataset}): {result.records} records",
        title_justify="left",
    )
    table.add_column("kind")
    table.add_column("written", justify="right")
    for kind, count in sorted(result.written.items()):
        table.add_row(kind, str(count))
    out_console.print(table)
    for kind, count in sorted(result.skipped.items()):
        out_console.print(f"skipped (not modelled): {kind} x{count}", highlight=False, markup=False)
    if result.dangling:
        err_console.print(
            f"{len(result.dangling)} link(s) name ids in neither the file nor the graph and "
            "were not loaded:",
            highlight=False,
        )
        for r in result.dangling[:10]:
            err_console.print(
                f"  {r.file}:{r.line} [{r.column}] {r.value}", highlight=False, markup=False
            )
    for r in result.rejects[:10]:
        err_console.print(
            f"  {r.file}:{r.line} [{r.column}] {r.reason}" + (f" ({r.value})" if r.value else ""),
            highlight=False,
            markup=False,
        )
    if result.rejects:
        err_console.print(f"  reject report: {report}", highlight=False)


def run_export(
    common: Common,
    entity_id: str | None,
    fmt: OutputFormat,
    out: Path | None,
    day: date | None,
    hops: int,
) -> None:
    """Export to ``out`` (required for the whole store and for neo4j-csv)."""
    if out is None:
        fail("give --out PATH (a file; a folder for neo4j-csv)", 2)
    assert out is not None
    with common.store() as store:
        counts = export(store, fmt, out, entity_id, as_of=day, hops=hops)
    if common.json:
        emit_json({"out": str(out), "format": fmt.value, "counts": counts})
    else:
        err_console.print(
            f"wrote {out} ({json.dumps(counts, ensure_ascii=False)})", highlight=False
        )
    sys.stdout.flush()
