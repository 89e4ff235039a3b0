"""Benchmark: the national batch, local engine against Spark, on generated registries.

For each size: the generated bundle (cached in bench/out/), loaded into an embedded store once and
exported as a Parquet snapshot (cached too), then ``creditnet batch --engine local`` and
``creditnet batch --engine spark --master local[2]`` on that snapshot, each in its own process:
wall time (JVM start included for Spark), input rows per second (nodes, records and links of the
snapshot) and the peak resident memory of the whole process tree (Python and, for Spark, its JVM),
sampled from /proc every half second. Both runs' tables are compared (row counts, and every row
at up to 100k companies).

Prints figures and, last, one JSON line; asserts nothing about time. Usage::

    python -m bench.batch --companies 100000 --companies 1000000 --json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pyarrow.parquet as pq

from bench.common import OUT, bundle_for, memory_store
from loaders.parquet import MANIFEST, export_parquet
from queries.batch.tables import OWNERS, RESTRICTIONS, SCORES, read_table

AS_OF = date(2026, 11, 27)
"""The day before the generator's reference day: every generated record has started by then."""

COMPARE_UP_TO = 100_000
"""Companies up to which every row of the two engines' tables is compared (beyond, counts)."""


GENERATED_UP_TO = 100_000
"""The generator runs out of distinct company names before 1M companies: larger snapshots are
copies of the 100k one side by side (ids prefixed), the same shape at ten times the size."""


def tiled(base: Path, copies: int, folder: Path) -> None:
    """``copies`` copies of the snapshot ``base`` in one snapshot, every id prefixed ``tN:``."""
    ids = ("id", "subject_id", "promisor_id", "source", "target", "key")
    rows: dict[str, int] = {}
    for table in sorted(base.glob("*/*.parquet")):
        target = folder / table.relative_to(base)
        target.parent.mkdir(parents=True, exist_ok=True)
        original = pq.read_table(table)
        with pq.ParquetWriter(target, original.schema) as writer:
            for copy in range(copies):
                part = original
                for name in ids:
                    if name in part.column_names:
                        prefixed = pc.binary_join_element_wise(f"t{copy}", part[name], ":")
                        part = part.set_column(part.column_names.index(name), name, prefixed)
                writer.write_table(part)
        rows[table.stem] = original.num_rows * copies
    manifest = json.loads((base / MANIFEST).read_text())
    manifest["rows"] = rows
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")


def snapshot_for(companies: int) -> Path:
    """The Parquet snapshot of the generated bundle, made once and cached in bench/out/."""
    folder = OUT / f"snapshot-{companies}-seed1"
    if companies > GENERATED_UP_TO and not (folder / MANIFEST).exists():
        copies, rest = divmod(companies, GENERATED_UP_TO)
        if rest:
            raise SystemExit(f"above {GENERATED_UP_TO:,} companies, give a multiple of it")
        tiled(snapshot_for(GENERATED_UP_TO), copies, folder)
        print(f"tiled {copies} copies of the {GENERATED_UP_TO:,} snapshot", flush=True)
    if not (folder / MANIFEST).exists():
        store = memory_store(bundle_for(companies))
        started = time.perf_counter()
        export_parquet(store, folder)
        print(f"exported {folder.name} in {time.perf_counter() - started:.1f} s", flush=True)
    return folder


def _input_rows(snapshot: Path) -> int:
    rows: dict[str, int] = json.loads((snapshot / MANIFEST).read_text())["rows"]
    return sum(rows.values())


def _tree_rss_kb(root: int) -> int:
    """The resident memory of ``root`` and all its descendants, in kB (Linux /proc)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/statm") as statm:
                pages = int(statm.read().split()[1])
        except (OSError, IndexError, ValueError):
            continue  # the process ended meanwhile
        parents[int(entry)] = int(fields[1])
        rss[int(entry)] = pages * os.sysconf("SC_PAGE_SIZE") // 1024
    tree = {root}
    grew = True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return sum(rss.get(pid, 0) for pid in tree)


def run_engine(engine: str, snapshot: Path, out: Path, driver_memory: str) -> dict[str, Any]:
    """One ``creditnet batch`` in a child process: its figures and the peak memory of its
    process tree."""
    command = [
        sys.executable,
        "-c",
        "from api.cli import main; main()",
        "batch",
        "--engine",
        engine,
        "--input",
        str(snapshot),
        "--out",
        str(out),
        "--as-of",
        AS_OF.isoformat(),
        "--master",
        "local[2]",
        "--driver-memory",
        driver_memory,
        "--json",
    ]
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0

    def sample() -> None:
        nonlocal peak
        while child.poll() is None:
            peak = max(peak, _tree_rss_kb(child.pid))
            time.sleep(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = child.communicate()
    wall = time.perf_counter() - started
    sampler.join()
    if child.returncode != 0:
        raise SystemExit(f"{engine} failed ({child.returncode}):\n{stdout}\n{stderr}")
    document: dict[str, Any] = json.loads(stdout)
    rows = _input_rows(snapshot)
    return {
        "engine": engine,
        "wall_s": round(wall, 1),
        "input_rows": rows,
        "rows_per_s": round(rows / wall),
        "peak_rss_mb": round(peak / 1024),
        "tables": document["rows"],
    }


def _same(local: Path, spark: Path, full: bool) -> bool:
    for name in (RESTRICTIONS, SCORES, OWNERS):
        mine, theirs = read_table(local / name), read_table(spark / name)
        if len(mine) != len(theirs):
            return False
        if not full:
            continue
        for a, b in zip(mine, theirs, strict=True):
            if name == OWNERS and not math.isclose(
                a.pop("effective_share"), b.pop("effective_share"), abs_tol=1e-9
            ):
                return False
            if a != b:
                return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--companies", type=int, action="append", help="sizes (repeat)")
    parser.add_argument("--driver-memory", default="8g", help="Spark driver (local mode) heap")
    parser.add_argument("--json", action="store_true", help="one JSON line last")
    args = parser.parse_args()
    sizes = args.companies or [100_000]
    figures: list[dict[str, Any]] = []
    for companies in sizes:
        snapshot = snapshot_for(companies)
        outs = {e: OUT / f"batch-{companies}-{e}" for e in ("local", "spark")}
        runs = [run_engine(e, snapshot, outs[e], args.driver_memory) for e in ("local", "spark")]
        same = _same(outs["local"], outs["spark"], companies <= COMPARE_UP_TO)
        for run in runs:
            run["companies"] = companies
            print(
                f"{companies:>9,} companies  {run['engine']:5}  {run['wall_s']:>8.1f} s  "
                f"{run['rows_per_s']:>9,} input rows/s  peak {run['peak_rss_mb']} MB  "
                f"{run['tables']}",
                flush=True,
            )
        ratio = runs[1]["wall_s"] / runs[0]["wall_s"]
        print(f"{companies:>9,} companies  spark/local wall time {ratio:.2f}  same tables: {same}")
        figures.append(
            {
                "companies": companies,
                "runs": runs,
                "spark_over_local": round(ratio, 2),
                "same_tables": same,
            }
        )
    if args.json:
        print(json.dumps({"benchmark": "batch", "as_of": AS_OF.isoformat(), "sizes": figures}))


if __name__ == "__main__":
    main()
