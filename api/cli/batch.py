"""``creditnet batch`` (the national batch, docs/batch.md), and the Parquet snapshot behind
``creditnet export --format parquet`` and ``creditnet load --format parquet``."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import EXIT_USAGE, Common, command, emit_json, err_console, fail, parse_date
from loaders.parquet import export_parquet, load_parquet

__all__ = ["Engine", "register", "run_parquet_export", "run_parquet_load"]


class Engine(StrEnum):
    SPARK = "spark"
    LOCAL = "local"


def register(app: typer.Typer) -> None:
    """Add ``batch`` to ``app``."""
    command(
        app,
        "batch",
        help="Every restriction, score and beneficial owner at a date, as Parquet tables "
        "(docs/batch.md).",
    )(batch)


def run_parquet_export(common: Common, out: Path | None) -> None:
    """``export --format parquet --out DIR``: the whole store as a snapshot folder."""
    if out is None:
        fail("give --out FOLDER: a Parquet snapshot is a folder of tables", EXIT_USAGE)
    with common.store() as store:
        counts = export_parquet(store, out)
    if common.json:
        emit_json({"out": str(out), "format": "parquet", "counts": counts})
    else:
        err_console.print(f"wrote {out} ({counts})", highlight=False)


def run_parquet_load(common: Common, folder: Path) -> None:
    """``load DIR --format parquet``: a snapshot into the configured store."""
    with common.store(writes=True) as store:
        counts = load_parquet(store, folder, batch_size=common.settings.batch_size)
    if common.json:
        emit_json({"snapshot": str(folder), "format": "parquet", "counts": counts})
    else:
        err_console.print(f"loaded {folder} ({counts})", highlight=False)


def batch(
    out: Annotated[Path, typer.Option("--out", help="the folder the three tables go to")],
    engine: Annotated[
        Engine, typer.Option("--engine", help="spark (pip install creditnet[spark]) or local")
    ] = Engine.SPARK,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="the date the tables hold at (default: today)")
    ] = None,
    snapshot: Annotated[
        Path | None,
        typer.Option(
            "--input",
            metavar="PARQUET_DIR",
            help="a snapshot (export --format parquet); default: export the store to OUT/snapshot",
        ),
    ] = None,
    master: Annotated[
        str, typer.Option("--master", help="the Spark master (spark engine)")
    ] = "local[*]",
    driver_memory: Annotated[
        str, typer.Option("--driver-memory", help="the Spark driver's heap (local mode: all of it)")
    ] = "4g",
    *,
    common: Common,
) -> None:
    day = parse_date(as_of)
    rules = common.rules
    if snapshot is None:
        snapshot = out / "snapshot"
        with common.store() as store:
            export_parquet(store, snapshot)
    if engine is Engine.LOCAL:
        from queries.batch.local import run_local

        result = run_local(snapshot, out, day, rules)
        rows, seconds = dict(result.rows), dict(result.seconds)
    else:
        try:
            from queries.batch.spark_job import run_spark, session
        except ImportError as exc:
            fail(
                f"the spark engine needs pyspark ({exc}): pip install 'creditnet[spark]' "
                "(and Java 17), or use --engine local",
                EXIT_USAGE,
            )
        import time

        started = time.perf_counter()
        spark = session(master, config={"spark.driver.memory": driver_memory})
        try:
            rows = run_spark(spark, snapshot, out, day, rules)
        finally:
            spark.stop()
        seconds = {"total": time.perf_counter() - started}
    document = {
        "engine": engine.value,
        "asOf": day.isoformat(),
        "input": str(snapshot),
        "out": str(out),
        "rows": rows,
        "seconds": {k: round(v, 3) for k, v in seconds.items()},
    }
    if common.json:
        emit_json(document)
    else:
        for name, count in rows.items():
            err_console.print(f"{out / name}: {count} rows", highlight=False)
