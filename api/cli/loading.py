"""Commands that put data in and say what is there: load, stats, generate, demo."""

from __future__ import annotations

import os
import secrets
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from api.cli.batch import run_parquet_load
from api.cli.common import (
    EXIT_REJECTED,
    EXIT_USAGE,
    Common,
    command,
    emit_json,
    err_console,
    fail,
    out_console,
)
from api.cli.interop import run_interop_load
from api.settings import Settings
from graph.memory import MemoryStore
from graph.rules.schema import load_rules
from graph.store import GraphStore
from loaders.bundle import LoadResult, load_bundle, write_rejects
from loaders.generate import generate_bundle
from loaders.interop import detect_format

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    command(
        app,
        "load",
        help="Load a CSV bundle (docs/bundle.md) or FtM, BODS, PSC, ICIJ data (docs/interop.md).",
    )(load)
    command(app, "stats", help="Count nodes by label and links by type.")(stats)
    command(app, "generate", help="Write a synthetic bundle with a realistic shape.")(generate)


def id_hash_salt(settings: Settings) -> str:
    """The salt for national ID hashes: the configured one, else one kept in the data dir.

    A salt kept in the data dir is created once (mode 0600) so that re-loads hash alike; set
    CREDITNET_ID_HASH_SALT in production so that every loader and store shares one.
    """
    if settings.id_hash_salt is not None:
        return settings.id_hash_salt.get_secret_value()
    path = settings.data_dir / "id-hash-salt"
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_hex(32))
    return path.read_text().strip()


def _run_load(
    store: GraphStore, bundle: Path, settings: Settings, allow_rejects: bool, show_progress: bool
) -> LoadResult:
    with Progress(
        TextColumn("loading {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        disable=not show_progress,
    ) as progress:
        task = progress.add_task(bundle.name, total=None)
        return load_bundle(
            store,
            bundle,
            allow_rejects=allow_rejects,
            batch_size=settings.batch_size,
            id_hash_salt=id_hash_salt(settings),
            progress=lambda done, total: progress.update(task, completed=done, total=total),
            writers=settings.load_writers or (2 if store.name == "neo4j" else 1),
            rules=load_rules(settings.rules),  # the lists an agency's rules file adds load too
        )


def load(
    bundle: Annotated[
        Path | None, typer.Argument(help="the bundle folder (omit with --demo)")
    ] = None,
    demo_bundle: Annotated[
        bool, typer.Option("--demo", help="load the demo bundle shipped with creditnet")
    ] = False,
    allow_rejects: Annotated[
        bool, typer.Option("--allow-rejects", help="load the good rows even if some are rejected")
    ] = False,
    rejects: Annotated[
        Path | None, typer.Option("--rejects", help="where to write the reject report")
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="bundle, ftm, bods, psc, icij or epcis (docs/interop.md), or parquet (a snapshot, "
            "docs/batch.md); detected if omitted",
        ),
    ] = None,
    dataset: Annotated[
        str | None, typer.Option("--dataset", help="dataset name kept as provenance")
    ] = None,
    list_map: Annotated[
        Path | None,
        typer.Option("--list-map", help="FtM sanction programme to list: 'programme,LIST' lines"),
    ] = None,
    party_map: Annotated[
        Path | None,
        typer.Option("--party-map", help="EPCIS party GLN to company: 'gln,company_id' CSV lines"),
    ] = None,
    *,
    common: Common,
) -> None:
    if demo_bundle == (bundle is not None):
        fail("give either a bundle folder or --demo", EXIT_USAGE)
    if bundle is not None and fmt == "parquet":
        run_parquet_load(common, bundle)  # a snapshot (docs/batch.md)
        return
    if bundle is not None and (fmt or detect_format(bundle).value) != "bundle":
        # Third-party formats go through the same checked write path (api.cli.interop).
        run_interop_load(
            common,
            bundle,
            fmt,
            dataset=dataset,
            list_map=list_map,
            allow_rejects=allow_rejects,
            rejects=rejects,
            party_map=party_map,
        )
        return
    bundle = demo_bundle_dir() if bundle is None else bundle
    with common.store(writes=True) as store:
        result = _run_load(
            store, bundle, common.settings, allow_rejects, show_progress=not common.json
        )
    report_path = rejects or Path("rejects.csv")
    if result.rejects:
        write_rejects(result.rejects, report_path)
    if common.json:
        emit_json(_load_json(result, report_path if result.rejects else None))
    else:
        print_load(result, report_path)
    if result.rejects and not allow_rejects:
        fail(
            f"{result.rejected} row(s) rejected; nothing was loaded. The report is {report_path}. "
            "Fix those rows and load again, or use --allow-rejects to load the others.",
            EXIT_REJECTED,
        )


def _load_json(result: LoadResult, report: Path | None) -> dict[str, object]:
    rejected_by_file: dict[str, int] = {}
    for file, _line in {(r.file, r.line) for r in result.rejects}:
        rejected_by_file[file] = rejected_by_file.get(file, 0) + 1
    return {
        "bundle": str(result.bundle),
        "applied": result.applied,
        "files": {
            name: {
                "rows": rows,
                "written": result.written.get(name, 0),
                "rejected": rejected_by_file.get(name, 0),
            }
            for name, rows in result.rows.items()
        },
        "rejected": result.rejected,
        "rejectsFile": None if report is None else str(report),
        "rejects": [
            {
                "file": r.file,
                "line": r.line,
                "column": r.column,
                "reason": r.reason,
                "value": r.value,
            }
            for r in result.rejects
        ],
        "extraColumns": result.extra_columns,
    }


def print_load(result: LoadResult, report: Path) -> None:
    table = Table(title=f"bundle {result.bundle}", title_justify="left")
    table.add_column("file")
    table.add_column("rows", justify="right")
    table.add_column("written", justify="right")
    table.add_column("rejected", justify="right")
    rejected_lines: dict[str, set[int]] = {}
    for r in result.rejects:
        rejected_lines.setdefault(r.file, set()).add(r.line)
    for name, rows in result.rows.items():
        table.add_row(
            name,
            str(rows),
            str(result.written.get(name, 0)),
            str(len(rejected_lines.get(name, ()))),
        )
    out_console.print(table)
    for name, columns in result.extra_columns.items():
        out_console.print(f"{name}: extra columns kept as properties: {', '.join(columns)}")
    if result.rejects:
        shown = result.rejects[:10]
        for r in shown:
            err_console.print(
                f"  {r.file}:{r.line} [{r.column}] {r.reason}"
                + (f" ({r.value})" if r.value else ""),
                highlight=False,
            )
        if len(result.rejects) > len(shown):
            err_console.print(f"  ... and {len(result.rejects) - len(shown)} more in {report}")
        else:
            err_console.print(f"  reject report: {report}")


def stats(*, common: Common) -> None:
    with common.store(empty_ok=True) as store:
        counts = store.stats()
        footprint = store.footprint() if isinstance(store, MemoryStore) else None
    if common.json:
        emit_json({"nodes": dict(counts.nodes), "links": dict(counts.links)})
        return
    table = Table(title=f"{common.settings.store.value} store", title_justify="left")
    table.add_column("kind")
    table.add_column("name")
    table.add_column("count", justify="right")
    for label, n in counts.nodes.items():
        table.add_row("node", label, str(n))
    for link_type, n in counts.links.items():
        table.add_row("link", link_type, str(n))
    out_console.print(table)
    if footprint is not None:
        out_console.print(footprint.describe())


def generate(
    companies: Annotated[int, typer.Option("--companies", min=1, help="how many companies")],
    out: Annotated[Path, typer.Option("--out", help="the folder to write the bundle to")],
    seed: Annotated[int, typer.Option("--seed", help="the same seed gives the same bundle")] = 0,
    *,
    common: Common,
) -> None:
    counts = generate_bundle(out, companies, seed)
    if common.json:
        emit_json({"out": str(out), "seed": seed, "rows": counts})
        return
    for name, n in counts.items():
        out_console.print(f"{name:16} {n:>10,}")
    out_console.print(f"bundle written to {out} (seed {seed})")


def demo_bundle_dir() -> Path:
    """The demo bundle shipped inside the package."""
    folder = resources.files("loaders") / "demo"
    return Path(str(folder))


def load_demo(store: GraphStore, settings: Settings) -> LoadResult:
    """Load the shipped demo bundle into ``store`` (which should be empty)."""
    return load_bundle(
        store, demo_bundle_dir(), batch_size=settings.batch_size, id_hash_salt="creditnet-demo"
    )
