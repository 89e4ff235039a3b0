"""The embedded store's memory, load rate and journal replay time, each in its own process.

    python -m bench.embedded [--companies 100000 | --bundle PATH] [--no-replay] [--json]

One child process loads the bundle into a fresh embedded store with a journal (as ``creditnet
load`` does) and reports its load rate and its peak RSS (``ru_maxrss``: the loader's parsed
bundle included); a second child opens the data dir the first one wrote, which replays the
journal, and reports the replay time and its peak RSS (the store alone, as a server holds it).
Figures per company are bytes divided by the bundle's companies. :func:`embedded_figures` is
what ``bench/scale.py`` calls. Figures only: nothing is asserted.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["embedded_figures", "load_figures", "replay_figures"]

SALT = "bench"


def _peak_rss_bytes() -> int:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _cpu_seconds() -> float:
    # CPU time beside wall time: the machine is shared, and CPU time is what a busy one spares.
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _rss_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def load_figures(bundle: Path, data_dir: Path | None) -> dict[str, Any]:
    """Load ``bundle`` into a fresh embedded store (journalled in ``data_dir`` if given) in
    this process: rows, seconds, rows/s, peak RSS and RSS once the load is over."""
    from graph.memory import MemoryStore
    from loaders.bundle import load_bundle

    baseline = _rss_bytes()
    with MemoryStore(data_dir) as store:
        started = time.perf_counter()
        result = load_bundle(store, bundle, id_hash_salt=SALT)
        seconds = time.perf_counter() - started
        if not result.applied:
            raise RuntimeError(f"{bundle}: the load was refused: {result.rejects[:3]}")
        rows = sum(result.written.values())
        del result
        gc.collect()
        companies = store.stats().nodes.get("Company", 0)
        return {
            "companies": companies,
            "rows": rows,
            "load_seconds": round(seconds, 2),
            "load_cpu_seconds": round(_cpu_seconds(), 2),
            "load_rows_per_s": round(rows / seconds),
            "peak_rss_bytes": _peak_rss_bytes(),
            "rss_after_load_bytes": _rss_bytes(),
            "baseline_rss_bytes": baseline,
        }


def replay_figures(data_dir: Path) -> dict[str, Any]:
    """Open ``data_dir`` (its journal is replayed) in this process: seconds, peak RSS."""
    from graph.memory import MemoryStore

    baseline = _rss_bytes()
    started = time.perf_counter()
    with MemoryStore(data_dir) as store:
        seconds = time.perf_counter() - started
        records = store.recovery.records
        companies = store.stats().nodes.get("Company", 0)
        gc.collect()
        return {
            "companies": companies,
            "journal_bytes": (data_dir / "journal.log").stat().st_size,
            "journal_records": records,
            "replay_seconds": round(seconds, 2),
            "replay_cpu_seconds": round(_cpu_seconds(), 2),
            "replay_peak_rss_bytes": _peak_rss_bytes(),
            "replay_rss_bytes": _rss_bytes(),
            "baseline_rss_bytes": baseline,
        }


def embedded_figures(bundle: Path, *, replay: bool = True, keep: bool = False) -> dict[str, Any]:
    """Load rate and peak RSS of the embedded store holding ``bundle``, and (with ``replay``)
    the time and peak RSS of opening the data dir that load wrote; each in its own process.

    The keys ``load_rows_per_s`` and ``peak_rss_bytes`` are the load's (bench/scale.py's
    ``embedded`` figures); ``*_per_company`` are bytes per company. With ``keep`` the data dir
    is the cached :func:`bench.common.journalled` one (rewritten), for the API servers after.
    """
    # imported here, not at the top: the children import this module, and their peak RSS is
    # the figure (bench.common brings the Neo4j driver)
    from bench.common import in_child, journal_dir, journal_ready

    with tempfile.TemporaryDirectory(prefix="creditnet-embedded-") as folder:
        data_dir = journal_dir(bundle) if keep else Path(folder) / "data"
        if keep:
            journal_ready(data_dir).unlink(missing_ok=True)
            shutil.rmtree(data_dir, ignore_errors=True)
        figures = in_child(load_figures, bundle, data_dir)
        if keep:
            journal_ready(data_dir).touch()
        companies = max(1, figures["companies"])
        figures["peak_rss_per_company"] = round(figures["peak_rss_bytes"] / companies)
        if replay:
            replayed = in_child(replay_figures, data_dir)
            figures.update(
                {key: value for key, value in replayed.items() if key != "baseline_rss_bytes"}
            )
            figures["replay_peak_rss_per_company"] = round(
                replayed["replay_peak_rss_bytes"] / companies
            )
            figures["replay_rss_per_company"] = round(replayed["replay_rss_bytes"] / companies)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument("--bundle", type=Path, help="a bundle folder (default: the generated one)")
    parser.add_argument("--no-replay", action="store_true", help="measure the load only")
    parser.add_argument("--json", action="store_true", help="print one JSON object last")
    args = parser.parse_args()
    if args.bundle is None:
        from bench.common import bundle_for

        args.bundle = bundle_for(args.companies)
    figures = embedded_figures(args.bundle, replay=not args.no_replay)
    for key, value in figures.items():
        print(f"{key:32} {value:>16,}" if isinstance(value, int) else f"{key:32} {value}")
    if args.json:
        sys.stdout.write(json.dumps(figures) + "\n")


if __name__ == "__main__":
    main()
