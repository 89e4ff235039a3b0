"""Both stores at one size: load, memory, report latency, materialisation and API throughput.

    python -m bench.scale --companies N [--start-neo4j | --neo4j-uri URI] [--json]
                          [--lookups 1000] [--seconds 20] [--port 7706]

Generates the bundle of N companies (cached in bench/out/), then:

- embedded store: the load rate and peak RSS of a fresh store loading the bundle (``bench/
  embedded.py``, in a child process: the peak is that process's ``ru_maxrss``), and credit report
  p50/p99 on random companies and persons (in another child, which holds the store);
- Neo4j: the bulk initial load (``creditnet db import``'s functions: the importer's CSVs written
  and Neo4j's importer run, server restart and schema included; rows are the importer's), then
  on that database credit report p50/p99 on random entities and p99 on entities that hold
  restrictions (picked from the materialised restrictions), and forward materialisation per
  second (the second of two runs); then the online load into the cleared database (node and
  link rows/s, ``bench/load.py``) beside the server-side ``UNWIND ... CREATE`` reference;
- the API: ``bench/api.py``'s :func:`~bench.api.measure_api` (credit reports over HTTP with 8
  clients against each store, and on Neo4j the HTTP p50 with one client over the direct call's).

``--start-neo4j`` runs a private Neo4j (``scripts/neo4j-local``, run dir, data and logs under
bench/out/neo4j-scale-PORT/, heap and page cache sized for N) and stops it at the end whatever
happens. Without it, ``--neo4j-uri`` must be the server that ``scripts/neo4j-local`` manages
with this process's NEO4J_LOCAL_* settings (the bulk import stops and restarts it); its
database is replaced. With ``--json`` the last line is one JSON object of the figures; a part
that fails ends the run with an error, never a missing figure.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from bench.common import OUT, bundle_for, in_child, sample_ids, warm_ids

__all__ = ["Neo4jServer", "main", "scale_figures"]

ROOT = Path(__file__).resolve().parent.parent
LOCAL_SCRIPT = ROOT / "scripts" / "neo4j-local"
AS_OF = date(2026, 11, 27)
SALT = "bench"
BATCH_SIZE = 5000
WRITERS = 2


# -- child processes ---------------------------------------------------------------------------


def embedded_reads(bundle: Path, ids: list[str]) -> dict[str, Any]:
    """Credit report latency on the embedded store holding ``bundle`` (run in a child)."""
    from bench.common import memory_store, warm_ids
    from bench.report import latency

    store = memory_store(bundle)
    if not (bundle / ".stats").exists():
        # bench.common.neo4j_store compares a Neo4j database with these counts: record them now
        # that a store holds the bundle, rather than load a second one later for them.
        stats = store.stats()
        (bundle / ".stats").write_text(repr((dict(stats.nodes), dict(stats.links))))
    p50, p99 = latency("memory", "random entities", store, ids, warm=warm_ids(bundle, ids))
    return {"report_p50_ms": p50, "report_p99_ms": p99}


def bulk_import(bundle: Path, uri: str, env: Mapping[str, str]) -> dict[str, Any]:
    """``creditnet db import`` of ``bundle`` into the server of ``env`` (run in a child): the
    importer's CSVs, Neo4j's importer (it stops and restarts the server), then the schema."""
    import neo4j

    from api.cli.db import Importer, run_importer, write_import_csvs
    from graph.neo4j.store import Neo4jStore

    with tempfile.TemporaryDirectory(prefix="creditnet-scale-import-", dir=OUT) as folder:
        started = time.perf_counter()
        plan, result = write_import_csvs(bundle, Path(folder) / "csv", id_hash_salt=SALT)
        if plan is None:
            rejects = result.rejects[:3] if result is not None else []
            raise RuntimeError(f"{bundle}: rows were rejected, nothing imported: {rejects}")
        written = time.perf_counter()
        run_importer(plan, Importer.LOCAL, env=env)
        imported = time.perf_counter()
    driver = neo4j.GraphDatabase.driver(uri, auth=None)
    with Neo4jStore(driver, owns_driver=True) as store:
        store.ensure_schema()
    ended = time.perf_counter()
    rows = sum(plan.counts.values())
    print(
        f"neo4j   bulk import: {rows:,} rows in {ended - started:.1f} s (CSVs "
        f"{written - started:.1f} s, importer and restart {imported - written:.1f} s, schema "
        f"{ended - imported:.1f} s) = {rows / (ended - started):,.0f} rows/s"
    )
    return {"bulk_import_rows_per_s": rows / (ended - started)}


def online_load(bundle: Path, uri: str) -> dict[str, Any]:
    """The bundle loader into the cleared database, and the reference CREATE (run in a child)."""
    import neo4j

    from bench.load import reference_rate, run_load
    from graph.neo4j.store import Neo4jStore

    driver = neo4j.GraphDatabase.driver(uri, auth=None)
    with Neo4jStore(driver, owns_driver=True) as store:
        store.clear()
        store.ensure_schema()
        timed = run_load("neo4j", store, bundle, BATCH_SIZE, WRITERS)
        reference = reference_rate(driver, timed.node_rows, BATCH_SIZE)
    node_rate = timed.node_rows / timed.node_seconds
    print(f"neo4j   reference UNWIND range(...) CREATE: {reference:,.0f} rows/s")
    print(f"neo4j   bundle node load / reference: {node_rate / reference:.0%}")
    return {
        "online_node_rows_per_s": node_rate,
        "online_link_rows_per_s": timed.link_rows / timed.link_seconds,
        "reference_create_rows_per_s": reference,
    }


def neo4j_reads(uri: str, ids: list[str], warm: list[str]) -> dict[str, Any]:
    """``bench/report.py``'s read figures on Neo4j: report latency on random entities and on
    entities that hold restrictions, and the materialisation rate."""
    import neo4j

    from bench.report import read_figures
    from graph.neo4j.store import Neo4jStore

    driver = neo4j.GraphDatabase.driver(uri, auth=None)
    with Neo4jStore(driver, owns_driver=True) as store:
        return dict(read_figures("neo4j", store, ids, warm=warm))


def api_figures(
    companies: int, uri: str, lookups: int, seconds: float, requests: int
) -> dict[str, Any]:
    """``bench/api.py``'s figures on both stores (run in a child: it holds an embedded store)."""
    from bench.api import measure_api

    figures = measure_api(
        companies,
        uri,
        lookups=lookups,
        requests=requests,
        seconds=seconds,
        embedded_direct=False,  # embedded_reads measured it
    )
    missing = [key for key, value in figures.items() if value is None]
    if missing:
        raise RuntimeError(f"bench/api.py gave no {', '.join(missing)}")
    return dict(figures)


# -- a private Neo4j ---------------------------------------------------------------------------


def sizing(companies: int) -> tuple[str, str]:
    """Heap and page cache for a private Neo4j holding ``companies`` companies.

    The store takes about 2.5 kB per company (11.5 rows each, with indexes); the page cache
    holds it whole up to the shared machine's 2 GB budget per server, and the heap carries the
    largest transactions (a load batch, a materialisation).
    """
    if companies <= 20_000:
        return "768m", "256m"
    if companies <= 200_000:
        return "1g", "1g"
    return "2g", "2g"


class Neo4jServer:
    """A Neo4j that ``scripts/neo4j-local`` runs with the NEO4J_LOCAL_* settings of ``env``."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = dict(env)

    @classmethod
    def private(cls, companies: int, port: int) -> Neo4jServer:
        """Settings for a server of its own under bench/out/neo4j-scale-PORT/."""
        run_dir = OUT / f"neo4j-scale-{port}"
        heap, pagecache = sizing(companies)
        return cls(
            {
                **os.environ,
                "NEO4J_LOCAL_RUN_DIR": str(run_dir),
                "NEO4J_LOCAL_PORT": str(port),
                "NEO4J_LOCAL_DATA": str(run_dir / "data"),
                "NEO4J_LOCAL_HEAP": heap,
                "NEO4J_LOCAL_PAGECACHE": pagecache,
            }
        )

    def script(self, *args: str) -> str:
        completed = subprocess.run(
            [str(LOCAL_SCRIPT), *args],
            env=self.env,
            check=False,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        if completed.returncode != 0:
            raise RuntimeError(
                f"scripts/neo4j-local {' '.join(args)} failed ({completed.returncode}):\n"
                f"{completed.stdout}"
            )
        return completed.stdout

    @property
    def uri(self) -> str:
        return self.script("uri").strip().splitlines()[-1]

    @contextmanager
    def running(self) -> Iterator[str]:
        """Start a private server, yield its URI, stop it and delete its data however the
        block ends."""
        print(self.script("start").strip())
        try:
            yield self.uri
        finally:
            print(self.script("stop").strip())
            # A private store is a copy of the bundle (gigabytes at 1M): nothing to keep.
            shutil.rmtree(Path(self.env["NEO4J_LOCAL_DATA"]), ignore_errors=True)


def managed_server(uri: str) -> Neo4jServer:
    """The server at ``uri``, which must be the one scripts/neo4j-local runs with this
    process's settings: the bulk import stops and restarts it through that script."""
    server = Neo4jServer(os.environ)
    managed = server.uri
    if managed.rstrip("/") != uri.rstrip("/"):
        raise SystemExit(
            f"the bulk import restarts the server through scripts/neo4j-local, which with this "
            f"environment's NEO4J_LOCAL_* settings runs {managed}, not {uri}: set those "
            "settings to the server's (run dir, port, data dir), or use --start-neo4j"
        )
    return server


# -- the whole run -----------------------------------------------------------------------------


def scale_figures(
    companies: int,
    server: Neo4jServer,
    uri: str,
    *,
    lookups: int = 1000,
    seconds: float = 20.0,
    requests: int = 2000,
) -> dict[str, Any]:
    """Every figure of the run at ``companies`` against the running ``server`` at ``uri``."""
    from bench.embedded import embedded_figures

    bundle = bundle_for(companies)
    ids = sample_ids(bundle, min(lookups, companies))
    loaded = embedded_figures(bundle, replay=False, keep=True)
    embedded = {
        "load_rows_per_s": loaded["load_rows_per_s"],
        "peak_rss_bytes": loaded["peak_rss_bytes"],
        **in_child(embedded_reads, bundle, ids),
    }
    neo4j = in_child(bulk_import, bundle, uri, server.env)
    neo4j.update(neo4j_reads(uri, ids, warm_ids(bundle, ids)))
    api = in_child(api_figures, companies, uri, min(lookups, companies), seconds, requests)
    neo4j.update(in_child(online_load, bundle, uri))
    return {
        "companies": companies,
        "embedded": {key: _rounded(value) for key, value in embedded.items()},
        "neo4j": {
            key: _rounded(neo4j[key])
            for key in (
                "bulk_import_rows_per_s",
                "online_node_rows_per_s",
                "online_link_rows_per_s",
                "reference_create_rows_per_s",
                "report_p50_ms",
                "report_p99_ms",
                "report_restricted_p99_ms",
                "materialise_per_s",
            )
        },
        "api": {
            key: _rounded(api[key])
            for key in (
                "embedded_req_per_s_8_clients",
                "neo4j_req_per_s_8_clients",
                "neo4j_http_over_direct_p50",
            )
        },
    }


def _rounded(value: float) -> float | int:
    return value if isinstance(value, int) else round(value, 3 if value < 100 else 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--companies", type=int, required=True)
    parser.add_argument("--start-neo4j", action="store_true", help="run a private Neo4j")
    parser.add_argument("--port", type=int, default=7706, help="the private Neo4j's Bolt port")
    parser.add_argument("--neo4j-uri", default="bolt://127.0.0.1:7687")
    parser.add_argument("--lookups", type=int, default=1000, help="random ids timed")
    parser.add_argument("--seconds", type=float, default=20.0, help="at most, per HTTP level")
    parser.add_argument("--requests", type=int, default=2000, help="at most, per HTTP level")
    parser.add_argument("--json", action="store_true", help="print one JSON object last")
    args = parser.parse_args()
    if args.companies < 1:
        parser.error("--companies must be at least 1")
    started = time.perf_counter()
    options = {"lookups": args.lookups, "seconds": args.seconds, "requests": args.requests}
    if args.start_neo4j:
        server = Neo4jServer.private(args.companies, args.port)
        with server.running() as uri:
            figures = scale_figures(args.companies, server, uri, **options)
    else:
        server = managed_server(args.neo4j_uri)
        figures = scale_figures(args.companies, server, args.neo4j_uri, **options)
    print(f"bench.scale: {args.companies:,} companies in {time.perf_counter() - started:.0f} s")
    if args.json:
        sys.stdout.write(json.dumps(figures) + "\n")
    else:
        print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
