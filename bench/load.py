"""Bundle load throughput on each store, beside a server-side Neo4j reference.

    python -m bench.load [--companies 100000] [--neo4j-uri bolt://127.0.0.1:7687] [--skip-neo4j]
                         [--skip-memory] [--writers 2] [--json]

Generates (once, cached under bench/out/) a synthetic bundle, loads it into a fresh embedded store
(with its fsynced journal) and into Neo4j, and prints rows/s for node rows and for link rows. On
the same Neo4j it times ``UNWIND range(...) CREATE`` of the same number of nodes, in transactions
of the same batch size, as a ceiling, and prints the ratios and the deadlocks the driver retried.
With ``--json`` the last line is one JSON object of those figures. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import neo4j

from bench.common import bundle_for
from graph.memory import MemoryStore
from graph.neo4j.store import Neo4jStore
from graph.store import GraphStore, WriteBatch, WriteResult
from loaders.bundle import load_bundle, read_bundle

REFERENCE = """
UNWIND range($first, $last) AS i
CREATE (:BenchReference {id: 'R' + toString(i), name: 'Reference company ' + toString(i),
        founded: date('2020-01-01'), status: 'active'})
"""


@dataclass
class Timed:
    """Wraps a store and times its writes by wall clock, for node rows and for link rows.

    The loader writes all nodes before any link, possibly several batches at once, so the rate
    of each is its rows over the time from its first write's start to its last write's end.
    """

    inner: GraphStore
    node_rows: int = 0
    link_rows: int = 0
    spans: dict[str, list[float]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def write(self, batch: WriteBatch) -> WriteResult:
        started = time.perf_counter()
        result = self.inner.write(batch)
        ended = time.perf_counter()
        kind = "nodes" if batch.nodes else "links"
        with self.lock:
            span = self.spans.setdefault(kind, [started, ended])
            span[0], span[1] = min(span[0], started), max(span[1], ended)
            self.node_rows += len(batch.nodes)
            self.link_rows += len(batch.links)
        return result

    @property
    def node_seconds(self) -> float:
        return self.spans["nodes"][1] - self.spans["nodes"][0]

    @property
    def link_seconds(self) -> float:
        return self.spans["links"][1] - self.spans["links"][0]


def run_load(
    name: str, store: GraphStore, bundle: Path, batch_size: int, writers: int = 1
) -> Timed:
    timed = Timed(store)
    started = time.perf_counter()
    result = load_bundle(
        timed,  # type: ignore[arg-type]
        bundle,
        batch_size=batch_size,
        id_hash_salt="bench",
        writers=writers,
    )
    wall = time.perf_counter() - started
    assert result.applied, result.rejects[:5]
    node_rate = timed.node_rows / timed.node_seconds
    link_rate = timed.link_rows / timed.link_seconds
    rows = timed.node_rows + timed.link_rows
    print(
        f"{name:7} nodes {timed.node_rows:>9,} rows {node_rate:>10,.0f} rows/s"
        f" | links {timed.link_rows:>9,} rows {link_rate:>10,.0f} rows/s"
        f" | whole load incl. parsing and checks {wall:6.1f} s ({rows / wall:,.0f} rows/s)"
    )
    return timed


def _create_reference(tx: neo4j.ManagedTransaction, first: int, last: int) -> None:
    tx.run(REFERENCE, first=first, last=last).consume()


def reference_rate(driver: neo4j.Driver, rows: int, batch_size: int) -> float:
    with driver.session(database="neo4j") as session:
        started = time.perf_counter()
        for first in range(1, rows + 1, batch_size):
            last = min(first + batch_size - 1, rows)
            session.execute_write(_create_reference, first, last)
        elapsed = time.perf_counter() - started
        session.run(
            "MATCH (n:BenchReference) CALL (n) { DELETE n } IN TRANSACTIONS OF 10000 ROWS"
        ).consume()
    return rows / elapsed


class DeadlockCounter(logging.Handler):
    """Counts the driver's "will be retried" warnings that name a deadlock."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.deadlocks = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "DeadlockDetected" in record.getMessage():
            self.deadlocks += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--neo4j-uri", default="bolt://127.0.0.1:7687")
    parser.add_argument("--skip-neo4j", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--writers", type=int, default=2, help="concurrent batches on Neo4j")
    parser.add_argument("--json", action="store_true", help="end with one line of JSON")
    args = parser.parse_args()
    bundle = bundle_for(args.companies)
    parsed = read_bundle(bundle, id_hash_salt="bench")
    print(f"bundle: {bundle} rows per file: {parsed.total_rows}")

    if not args.skip_memory:
        with tempfile.TemporaryDirectory() as data_dir, MemoryStore(data_dir) as memory:
            run_load("memory", memory, bundle, args.batch_size)

    if args.skip_neo4j:
        return
    driver = neo4j.GraphDatabase.driver(args.neo4j_uri, auth=None)
    store = Neo4jStore(driver)
    store.clear()
    store.ensure_schema()
    node_rows = sum(
        parsed.total_rows.get(f, 0)
        for f in ("companies.csv", "persons.csv", "addresses.csv", "sanctions.csv")
    )
    counter = DeadlockCounter()
    logging.getLogger("neo4j").addHandler(counter)
    try:
        timed = run_load("neo4j", store, bundle, args.batch_size, args.writers)
        node_rate = timed.node_rows / timed.node_seconds
        link_rate = timed.link_rows / timed.link_seconds
        reference = reference_rate(driver, node_rows, args.batch_size)
        print(f"neo4j   reference UNWIND range(...) CREATE: {reference:,.0f} rows/s")
        print(f"neo4j   bundle node load / reference: {node_rate / reference:.0%}")
        print(f"neo4j   bundle link load / reference: {link_rate / reference:.0%}")
        print(f"neo4j   deadlocks retried: {counter.deadlocks} ({args.writers} writers)")
        if args.json:
            figures = {
                "companies": args.companies,
                "writers": args.writers,
                "batch_size": args.batch_size,
                "online_node_rows_per_s": round(node_rate),
                "online_link_rows_per_s": round(link_rate),
                "reference_create_rows_per_s": round(reference),
                "node_over_reference": round(node_rate / reference, 3),
                "link_over_reference": round(link_rate / reference, 3),
                "deadlocks_retried": counter.deadlocks,
            }
            print(json.dumps(figures))
    finally:
        store.clear()
        driver.close()


if __name__ == "__main__":
    main()
