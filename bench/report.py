"""Credit report latency and forward materialisation throughput on each store.

    python -m bench.report [--companies 100000] [--lookups 1000] [--neo4j-uri URI] [--skip-neo4j]

Latency is measured from the Python side: ``credit_report`` for random companies and persons of a
generated graph, extraction and rule evaluation included, with the rules as shipped (joint
incentives and supervision class included) and, beside it, with the same rules without incentive
rules and supervision (the report of the punishment half alone; issue 13's goal: incentives add
at most 20% to p99). Materialisation is every restriction in force at the reference day, then
every company's standing (incentives and class). Figures only: nothing is asserted.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import date

from bench.common import bundle_for, memory_store, neo4j_store, percentiles, sample_ids
from graph.rules.engine import materialise
from graph.rules.schema import RuleSet, load_rules
from graph.store import GraphStore
from queries.incentives import standings
from queries.report import credit_report

AS_OF = date(2026, 11, 27)


def latency(
    name: str, label: str, store: GraphStore, ids: list[str], rules: RuleSet | None = None
) -> None:
    rules = rules or load_rules(None)
    for entity_id in ids[:20]:  # warm caches and query plans
        credit_report(store, entity_id, AS_OF, rules)
    timings = []
    restricted = 0
    for entity_id in ids:
        started = time.perf_counter()
        report = credit_report(store, entity_id, AS_OF, rules)
        timings.append(time.perf_counter() - started)
        restricted += bool(report.restrictions)
    p50, p99 = percentiles(timings)
    print(
        f"{name:7} credit report, {label}: p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  "
        f"({len(ids)} lookups, {restricted} with restrictions)"
    )


def measure(name: str, store: GraphStore, ids: list[str]) -> None:
    rules = load_rules(None)
    for run in ("first run", "second run"):
        started = time.perf_counter()
        restrictions = list(materialise(store, AS_OF, rules))
        elapsed = time.perf_counter() - started
        print(
            f"{name:7} materialisation, {run}: {len(restrictions):,} restrictions in "
            f"{elapsed:.2f} s = {len(restrictions) / elapsed:,.0f} restrictions/s"
        )
    started = time.perf_counter()
    companies = sum(1 for _ in standings(store, AS_OF, rules))
    elapsed = time.perf_counter() - started
    print(f"{name:7} standings (incentives, classes): {companies:,} companies in {elapsed:.2f} s")
    punishment_only = rules.model_copy(update={"incentives": (), "supervision": None})
    latency(name, "random entities", store, ids)
    latency(name, "random entities, no incentives", store, ids, punishment_only)
    restricted = sorted({r.entity_id for r in restrictions})
    sample = random.Random(3).sample(restricted, min(len(ids), len(restricted)))
    latency(name, "restricted entities", store, sample)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=1000)
    parser.add_argument("--neo4j-uri", default="bolt://127.0.0.1:7687")
    parser.add_argument("--skip-neo4j", action="store_true")
    args = parser.parse_args()
    bundle = bundle_for(args.companies)
    memory = memory_store(bundle)
    ids = sample_ids(bundle, args.lookups)
    measure("memory", memory, ids)
    if not args.skip_neo4j:
        with neo4j_store(bundle, args.neo4j_uri) as graph:
            measure("neo4j", graph, ids)


if __name__ == "__main__":
    main()
