"""FtM and BODS load rate beside the bundle load of the same graph (issue 12).

    python -m bench.interop [--companies 100000] [--data-dir]

Generates (once, cached under bench/out/) a synthetic bundle, loads it into a fresh embedded
store, exports that store as FtM JSON lines and as BODS 0.4 statements, and loads each export
into another fresh store through ``loaders.interop``. Prints records/s for each route and the
ratio to the bundle route (the goal: within 2x). ``--data-dir`` puts each store on disk with its
fsynced journal instead of in memory only. Figures only: nothing is asserted.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.common import SALT, bundle_for
from graph.memory import MemoryStore
from loaders.bundle import load_bundle
from loaders.interop import load_interop
from queries.interop_export import export


def _store(root: Path | None, name: str) -> MemoryStore:
    return MemoryStore(None if root is None else root / name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument("--data-dir", action="store_true", help="journalled stores on disk")
    args = parser.parse_args()
    bundle = bundle_for(args.companies)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) if args.data_dir else None
        store = _store(root, "bundle")
        started = time.perf_counter()
        loaded = load_bundle(store, bundle, id_hash_salt=SALT)
        seconds = time.perf_counter() - started
        rows = sum(loaded.written.values())
        print(f"bundle: {rows} rows in {seconds:.1f} s = {rows / seconds:,.0f} rows/s")
        base = rows / seconds
        for fmt in ("ftm", "bods"):
            out = Path(scratch) / f"export.{fmt}.json"
            started = time.perf_counter()
            export(store, fmt, out)
            size = out.stat().st_size
            print(f"{fmt}: exported in {time.perf_counter() - started:.1f} s ({size:,} bytes)")
            for validate in (True, False) if fmt == "bods" else (True,):
                target = _store(root, f"{fmt}-{validate}")
                started = time.perf_counter()
                result = load_interop(target, out, validate=validate)
                seconds = time.perf_counter() - started
                rate = result.records / seconds
                how = "" if fmt != "bods" else (" (schema-checked)" if validate else " (unchecked)")
                print(
                    f"{fmt}{how}: {result.records} records in {seconds:.1f} s = {rate:,.0f} "
                    f"records/s ({base / rate:.2f}x the bundle route's time per row)"
                )
                target.close()
        store.close()


if __name__ == "__main__":
    main()
