"""Downstream closure of a batch (who must recall it) on each store, beside a plain BFS.

    python -m bench.trace [--batches 100000] [--shipments 1000000] [--samples 1000]
                          [--skip-neo4j] [--neo4j-uri URI | --start-neo4j] [--json]

Generates (once, cached in bench/out/trace-B-S-seed1/, deterministic) a supply network in the
bundle's format: raw batches made by producers, intermediate and final batches made by
processors from two to four earlier batches (TRANSFORMED_INTO), a few hub batches (a common
ingredient) that go into a share of all transformations, and shipments that pass each batch on
from a company holding it (its maker, or an earlier receiver) to the next, a few distributors
(hub companies) receiving a fifth of them. Then, on the embedded store and on Neo4j, it times
:func:`queries.trace.downstream` of random batches (p50 / p99, the hub batches apart) beside
the floor: a breadth-first walk over the same edges held in Python dicts, with the receipts
as of the same day, and prints the closure sizes. Figures only: nothing is asserted.

The embedded store is written the network's nodes and links directly; Neo4j gets it by a bulk
import of the bundle (``creditnet db import``'s functions, as ``bench.scale`` does) unless its
database holds it already. ``--start-neo4j`` runs a private Neo4j (``scripts/neo4j-local``, as
``bench.scale`` runs one, under bench/out/neo4j-scale-PORT/) and stops it at the end; otherwise
``--neo4j-uri`` must be the server that ``scripts/neo4j-local`` manages with this process's
NEO4J_LOCAL_* settings (the import stops and restarts it), and its database is replaced. With
``--json`` the last line is one JSON object of the figures.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.common import OUT, percentiles
from graph.model import (
    Batch,
    Company,
    Link,
    LinkType,
    Node,
    NodeLabel,
    Produced,
    Product,
    ProductCategory,
    Shipped,
    TransformedInto,
)
from graph.store import GraphStore, Stats, WriteBatch
from loaders.interop.epcis import check_digit
from loaders.uscc import make_uscc

if TYPE_CHECKING:
    from bench.scale import Neo4jServer

__all__ = ["Network", "floor_downstream", "generate", "load_network", "main", "network_for"]

START = date(2024, 1, 1)
AS_OF = date(2026, 12, 31)
"""After every generated movement: the whole closure counts."""
HUBS = 10
"""Hub batches, each an input of about :data:`HUB_SHARE` of all transformations."""
HUB_SHARE = 0.02
HUB_COMPANIES = 5
"""Distributors that receive :data:`HUB_RECEIPTS` of all shipments between them."""
HUB_RECEIPTS = 0.2
WRITE_CHUNK = 10_000
FILES = ("companies", "products", "batches", "produced", "transformations", "shipments")


# -- the generated network ---------------------------------------------------------------------


def _gtin(rng: random.Random) -> str:
    """A GTIN-14 with a valid check digit (indicator 0, a Chinese GS1 prefix 690-699)."""
    body = f"0{rng.randrange(690, 700)}{rng.randrange(10**9):09d}"
    return body + check_digit(body)


def _write(
    folder: Path, name: str, header: Sequence[str], rows: Iterable[Sequence[object]]
) -> None:
    with (folder / f"{name}.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def generate(folder: Path, batches: int, shipments: int, seed: int = 1) -> None:
    """Write the network of ``batches`` batches and about ``shipments`` shipments to ``folder``
    as bundle CSVs (companies, products, batches, produced, transformations, shipments)."""
    rng = random.Random(seed)
    folder.mkdir(parents=True)
    n_companies = max(20, batches // 20)
    companies = sorted({make_uscc(rng, modern=True) for _ in range(n_companies)})
    rng.shuffle(companies)
    producers = companies[: n_companies // 4]
    processors = companies[n_companies // 4 : n_companies // 2]
    hubs = companies[n_companies // 2 : n_companies // 2 + HUB_COMPANIES]
    receivers = companies[n_companies // 4 :]
    _write(folder, "companies", ("id", "name"), ((c, f"供应链企业{c[-6:]}") for c in companies))
    products = sorted({_gtin(rng) for _ in range(max(5, batches // 50))})
    _write(
        folder,
        "products",
        ("id", "name", "category"),
        ((p, f"产品{p[-5:]}", ProductCategory.FOOD.value) for p in products),
    )

    # Tiers: 60% raw batches, 30% made from raw ones, 10% made from either. A batch is made
    # after its inputs, so the transformations form no cycle.
    raw = int(batches * 0.6)
    middle = int(batches * 0.3)
    made: list[tuple[str, str, date]] = []  # (batch id, maker, day made)
    batch_rows: list[tuple[str, str, str, str, int]] = []
    produced_rows: list[tuple[str, str, str, str]] = []
    transform_rows: list[tuple[str, str, str, str, str]] = []
    for index in range(batches):
        product = products[rng.randrange(len(products))]
        lot = f"L{index:07d}"
        batch_id = f"{product}:{lot}"
        if index < raw:
            maker = producers[rng.randrange(len(producers))]
            day = START + timedelta(days=rng.randrange(400))
            produced_rows.append((f"P{index:07d}", maker, batch_id, day.isoformat()))
        else:
            maker = processors[rng.randrange(len(processors))]
            pool = raw if index < raw + middle else index
            inputs = {rng.randrange(pool) for _ in range(rng.randint(2, 4))}
            if rng.random() < HUB_SHARE * HUBS:
                inputs.add(rng.randrange(HUBS))  # the first raw batches are the hubs
            day = max(made[i][2] for i in inputs) + timedelta(days=rng.randint(1, 20))
            for n, i in enumerate(sorted(inputs)):
                transform_rows.append(
                    (f"T{index:07d}-{n}", made[i][0], batch_id, day.isoformat(), maker)
                )
        made.append((batch_id, maker, day))
        batch_rows.append((batch_id, product, lot, day.isoformat(), 1000))
    _write(folder, "batches", ("id", "product_id", "lot", "produced", "quantity"), batch_rows)
    _write(folder, "produced", ("event_id", "company_id", "batch_id", "date"), produced_rows)
    _write(
        folder,
        "transformations",
        ("event_id", "input_batch_id", "output_batch_id", "date", "by_id"),
        transform_rows,
    )

    # Shipments: each passes the batch on from a company that holds it by then (its maker or
    # an earlier receiver), so that the bundle loader's "held before shipped" check holds.
    per_batch = [0] * batches
    for _ in range(shipments):
        per_batch[rng.randrange(batches)] += 1
    ship_rows: list[tuple[str, str, str, str, str, int]] = []
    for index, (batch_id, maker, day) in enumerate(made):
        holders = [(maker, day)]
        for _ in range(per_batch[index]):
            sender, held = holders[rng.randrange(len(holders))]
            to = sender
            while to == sender:  # a company does not ship to itself
                if rng.random() < HUB_RECEIPTS:
                    to = hubs[rng.randrange(len(hubs))]
                else:
                    to = receivers[rng.randrange(len(receivers))]
            when = held + timedelta(days=rng.randint(1, 10))
            ship_rows.append((f"S{len(ship_rows):08d}", batch_id, sender, to, when.isoformat(), 10))
            holders.append((to, when))
    _write(
        folder,
        "shipments",
        ("event_id", "batch_id", "from_id", "to_id", "date", "quantity"),
        ship_rows,
    )


def network_for(batches: int, shipments: int, seed: int = 1) -> Path:
    """The generated network, made once and cached in bench/out/."""
    folder = OUT / f"trace-{batches}-{shipments}-seed{seed}"
    if not folder.is_dir():
        # Written aside and renamed when complete, as bench.common.bundle_for does.
        partial = OUT / f".partial-{folder.name}-{os.getpid()}"
        started = time.perf_counter()
        generate(partial, batches, shipments, seed)
        try:
            partial.rename(folder)
        except OSError:
            if not folder.is_dir():
                raise
            shutil.rmtree(partial)
        print(f"generated {folder} in {time.perf_counter() - started:.1f} s")
    return folder


def _rows(folder: Path, name: str) -> Iterator[dict[str, str]]:
    with (folder / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


@dataclass
class Network:
    """The generated network as model objects."""

    nodes: list[Node]
    links: list[Link]
    hub_batches: list[str]

    @property
    def batch_ids(self) -> list[str]:
        return [node.id for node in self.nodes if isinstance(node, Batch)]


def read_network(folder: Path) -> Network:
    nodes: list[Node] = [Company(r["id"], r["name"]) for r in _rows(folder, "companies")]
    nodes += [
        Product(r["id"], r["name"], ProductCategory(r["category"]))
        for r in _rows(folder, "products")
    ]
    batches = [
        Batch(
            r["id"],
            r["product_id"],
            r["lot"],
            date.fromisoformat(r["produced"]),
            quantity=float(r["quantity"]),
        )
        for r in _rows(folder, "batches")
    ]
    nodes += batches
    links: list[Link] = [
        Produced(r["company_id"], r["batch_id"], r["event_id"], date.fromisoformat(r["date"]))
        for r in _rows(folder, "produced")
    ]
    links += [
        TransformedInto(
            r["input_batch_id"],
            r["output_batch_id"],
            r["event_id"],
            date.fromisoformat(r["date"]),
            r["by_id"],
        )
        for r in _rows(folder, "transformations")
    ]
    links += [
        Shipped(
            r["batch_id"],
            r["to_id"],
            r["from_id"],
            r["event_id"],
            date.fromisoformat(r["date"]),
            float(r["quantity"]),
        )
        for r in _rows(folder, "shipments")
    ]
    return Network(nodes, links, [b.id for b in batches[:HUBS]])


def load_network(store: GraphStore, network: Network) -> float:
    """Write ``network`` into ``store`` in chunks (nodes first); the seconds it took."""
    started = time.perf_counter()
    for start in range(0, len(network.nodes), WRITE_CHUNK):
        store.write(WriteBatch(nodes=network.nodes[start : start + WRITE_CHUNK]))
    for start in range(0, len(network.links), WRITE_CHUNK):
        store.write(WriteBatch(links=network.links[start : start + WRITE_CHUNK]))
    return time.perf_counter() - started


# -- the floor ---------------------------------------------------------------------------------


@dataclass
class Edges:
    """The network's supply edges in plain dicts: what the floor walks."""

    into: dict[str, list[str]]
    """Batch -> the batches it went into (TRANSFORMED_INTO, with dates <= as of)."""
    receipts: dict[str, list[tuple[str, date]]]
    """Batch -> (receiver, date) of its shipments."""

    @classmethod
    def of(cls, links: Iterable[Link], as_of: date) -> Edges:
        into: dict[str, list[str]] = {}
        receipts: dict[str, list[tuple[str, date]]] = {}
        for link in links:
            if isinstance(link, TransformedInto) and link.date <= as_of:
                into.setdefault(link.input_batch_id, []).append(link.output_batch_id)
            elif isinstance(link, Shipped) and link.date <= as_of:
                receipts.setdefault(link.batch_id, []).append((link.to_id, link.date))
        return cls(into, receipts)


def floor_downstream(edges: Edges, batch_id: str) -> tuple[int, int]:
    """A plain BFS from ``batch_id``: (batches reached, receipts found)."""
    seen = {batch_id}
    queue = deque([batch_id])
    receipts = 0
    while queue:
        current = queue.popleft()
        receipts += len(edges.receipts.get(current, ()))
        for other in edges.into.get(current, ()):
            if other not in seen:
                seen.add(other)
                queue.append(other)
    return len(seen), receipts


# -- timing ------------------------------------------------------------------------------------


def _timed(action: Callable[[str], tuple[int, int]], seeds: Sequence[str]) -> dict[str, Any]:
    """p50/p99 (ms) of ``action`` over ``seeds`` after a warm-up, and the closure sizes."""
    for seed in seeds[:20]:  # warm caches and query plans
        action(seed)
    timings: list[float] = []
    batches: list[int] = []
    receipts: list[int] = []
    for seed in seeds:
        started = time.perf_counter()
        found_batches, found_receipts = action(seed)
        timings.append(time.perf_counter() - started)
        batches.append(found_batches)
        receipts.append(found_receipts)
    p50, p99 = percentiles(timings)
    return {
        "p50_ms": round(p50, 3),
        "p99_ms": round(p99, 3),
        "max_ms": round(max(timings) * 1000, 3),
        "closure_batches": _sizes(batches),
        "closure_receipts": _sizes(receipts),
    }


def _sizes(values: list[int]) -> dict[str, int]:
    ordered = sorted(values)
    return {
        "median": ordered[len(ordered) // 2],
        "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        "max": ordered[-1],
    }


def _print(name: str, label: str, figures: dict[str, Any]) -> None:
    b, r = figures["closure_batches"], figures["closure_receipts"]
    print(
        f"{name:8} {label:13} p50 {figures['p50_ms']:9.3f} ms  p99 {figures['p99_ms']:9.3f} ms  "
        f"max {figures['max_ms']:9.3f} ms   closure batches median/p99/max "
        f"{b['median']}/{b['p99']}/{b['max']}, receipts {r['median']}/{r['p99']}/{r['max']}"
    )


def measure_store(
    name: str, store: GraphStore, random_seeds: Sequence[str], hubs: Sequence[str]
) -> dict[str, Any]:
    from queries.trace import downstream

    def trace(batch_id: str) -> tuple[int, int]:
        found = downstream(store, batch_id, AS_OF)
        return len(found.supply.batches), len(found.receivers)

    figures = {"random": _timed(trace, random_seeds), "hubs": _timed(trace, hubs)}
    _print(name, "random", figures["random"])
    _print(name, "hub batches", figures["hubs"])
    return figures


def measure_floor(
    network: Network, random_seeds: Sequence[str], hubs: Sequence[str]
) -> dict[str, Any]:
    edges = Edges.of(network.links, AS_OF)
    figures = {
        "random": _timed(lambda seed: floor_downstream(edges, seed), random_seeds),
        "hubs": _timed(lambda seed: floor_downstream(edges, seed), hubs),
    }
    _print("floor", "random", figures["random"])
    _print("floor", "hub batches", figures["hubs"])
    return figures


def expected_stats(network: Network) -> Stats:
    """The counts a store holding exactly ``network`` reports."""
    nodes = dict.fromkeys((label.value for label in NodeLabel), 0)
    links = dict.fromkeys((kind.value for kind in LinkType), 0)
    for node in network.nodes:
        nodes[node.label.value] += 1
    for link in network.links:
        links[link.type.value] += 1
    return Stats(nodes=nodes, links=links)


def _neo4j(server: Neo4jServer, uri: str, folder: Path, network: Network) -> Any:
    """A Neo4j store holding exactly ``network``: when the database's counts differ, it is
    replaced by a bulk import of the network's bundle (``creditnet db import``'s functions, as
    ``bench.scale`` does; an online load of a million links would take the better part of an
    hour on a shared machine, and the latency of the reads does not depend on how it came)."""
    import neo4j

    from bench.scale import bulk_import
    from graph.neo4j.store import Neo4jStore

    with Neo4jStore(neo4j.GraphDatabase.driver(uri, auth=None), owns_driver=True) as probe:
        held = probe.stats()
    if held != expected_stats(network):
        bulk_import(folder, uri, server.env)
    else:
        print("neo4j    already holds the network")
    return Neo4jStore(neo4j.GraphDatabase.driver(uri, auth=None), owns_driver=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batches", type=int, default=100_000)
    parser.add_argument("--shipments", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=1000, help="random batches timed")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-neo4j", action="store_true")
    parser.add_argument("--neo4j-uri", default="bolt://127.0.0.1:7687")
    parser.add_argument("--start-neo4j", action="store_true", help="run a private Neo4j")
    parser.add_argument("--port", type=int, default=7709, help="the private Neo4j's Bolt port")
    parser.add_argument("--json", action="store_true", help="print one JSON object last")
    args = parser.parse_args()
    if args.batches < 2 * HUBS or args.shipments < 0:
        parser.error(f"--batches must be at least {2 * HUBS} and --shipments not negative")
    from graph.memory import MemoryStore

    folder = network_for(args.batches, args.shipments, args.seed)
    network = read_network(folder)
    ids = network.batch_ids
    seeds = random.Random(7).sample(ids, min(args.samples, len(ids)))
    print(
        f"network: {len(ids):,} batches, {len(network.links):,} links "
        f"({sum(isinstance(link, Shipped) for link in network.links):,} shipments), as of {AS_OF}"
    )
    figures: dict[str, Any] = {
        "benchmark": "trace",
        "batches": len(ids),
        "links": len(network.links),
        "samples": len(seeds),
        "floor": measure_floor(network, seeds, network.hub_batches),
    }
    memory = MemoryStore()
    seconds = load_network(memory, network)
    print(f"memory   loaded in {seconds:.1f} s")
    figures["embedded"] = measure_store("memory", memory, seeds, network.hub_batches)
    memory.close()
    del memory
    if not args.skip_neo4j:
        from bench.scale import Neo4jServer, managed_server

        if args.start_neo4j:
            server = Neo4jServer.private(1_000_000, args.port)
            with server.running() as uri, _neo4j(server, uri, folder, network) as store:
                figures["neo4j"] = measure_store("neo4j", store, seeds, network.hub_batches)
            shutil.rmtree(Path(server.env["NEO4J_LOCAL_DATA"]), ignore_errors=True)
        else:
            server = managed_server(args.neo4j_uri)
            with _neo4j(server, args.neo4j_uri, folder, network) as store:
                figures["neo4j"] = measure_store("neo4j", store, seeds, network.hub_batches)
    if args.json:
        sys.stdout.write(json.dumps(figures) + "\n")


if __name__ == "__main__":
    main()
