"""Credit report latency and forward materialisation throughput on each store.

    python -m bench.report [--companies 100000] [--lookups 1000] [--neo4j-uri URI] [--skip-neo4j]
                           [--skip-memory] [--json]

Latency is measured from the Python side: ``credit_report`` for random companies and persons of a
generated graph, extraction and rule evaluation included, with the rules as shipped (joint
incentives and supervision class included) and, beside it, with the same rules without incentive
rules and supervision (the report of the punishment half alone; issue 13's goal: incentives add
at most 20% to p99). Materialisation is every restriction in force at the reference day, then
every company's standing (incentives and class). Restricted entities are drawn from
materialise's output. :func:`read_figures` gives bench/scale.py the four figures of issue 14 for
a store; ``--json`` prints them as one JSON object, last. Figures only: nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Sequence
from datetime import date

from bench.common import (
    bundle_for,
    memory_store,
    neo4j_store,
    percentiles,
    sample_ids,
    warm_ids,
)
from graph.rules.engine import Restriction, materialise
from graph.rules.schema import RuleSet, load_rules
from graph.store import GraphStore
from queries.incentives import standings
from queries.report import credit_report

AS_OF = date(2026, 11, 27)


def latency(
    name: str,
    label: str,
    store: GraphStore,
    ids: list[str],
    rules: RuleSet | None = None,
    warm: Sequence[str] = (),
) -> tuple[float, float]:
    """Prints and returns the p50 and p99 (ms) of ``credit_report`` on ``ids``, after reports on
    ``warm`` (other entities: :func:`bench.common.warm_ids`) or, without them, on ``ids[:20]``."""
    rules = rules or load_rules(None)
    for entity_id in warm or ids[:20]:  # caches and query plans
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
    return p50, p99


def materialise_rate(
    name: str, store: GraphStore, rules: RuleSet, runs: int = 3
) -> tuple[list[Restriction], float]:
    """A forward materialisation to warm caches and plans, then ``runs`` more; the restrictions
    and the median restrictions/s of those (one run on a shared machine is mostly noise)."""
    restrictions: list[Restriction] = []
    rates: list[float] = []
    for run in range(runs + 1):
        started = time.perf_counter()
        restrictions = list(materialise(store, AS_OF, rules))
        elapsed = time.perf_counter() - started
        rate = len(restrictions) / elapsed
        if run:
            rates.append(rate)
        print(
            f"{name:7} materialisation, {'warm-up' if not run else f'run {run}'}: "
            f"{len(restrictions):,} restrictions in {elapsed:.2f} s = {rate:,.0f} restrictions/s"
        )
    return restrictions, statistics.median(rates)


def read_figures(
    name: str,
    store: GraphStore,
    ids: list[str],
    rules: RuleSet | None = None,
    warm: Sequence[str] = (),
) -> dict[str, float]:
    """The read figures of issue 14 on one store, printed and returned (bench/scale.py's keys).

    ``report_p50_ms`` and ``report_p99_ms`` on ``ids``; ``report_restricted_p99_ms`` on as many
    entities drawn from those that hold restrictions at :data:`AS_OF` (materialise's output);
    ``materialise_per_s`` the median of three materialisations after a warm-up. The reports
    are timed after reports on ``warm``.
    """
    rules = rules or load_rules(None)
    restrictions, rate = materialise_rate(name, store, rules)
    p50, p99 = latency(name, "random entities", store, ids, rules, warm)
    restricted = sorted({r.entity_id for r in restrictions})
    if not restricted:
        raise RuntimeError("no restriction was materialised: no restricted entity to time")
    sample = random.Random(3).sample(restricted, min(len(ids), len(restricted)))
    _, restricted_p99 = latency(name, "restricted entities", store, sample, rules)
    return {
        "report_p50_ms": p50,
        "report_p99_ms": p99,
        "report_restricted_p99_ms": restricted_p99,
        "materialise_per_s": rate,
    }


def measure(name: str, store: GraphStore, ids: list[str], warm: Sequence[str]) -> dict[str, float]:
    rules = load_rules(None)
    figures = read_figures(name, store, ids, rules, warm)
    started = time.perf_counter()
    companies = sum(1 for _ in standings(store, AS_OF, rules))
    elapsed = time.perf_counter() - started
    print(f"{name:7} standings (incentives, classes): {companies:,} companies in {elapsed:.2f} s")
    punishment_only = rules.model_copy(update={"incentives": (), "supervision": None})
    latency(name, "random entities, no incentives", store, ids, punishment_only)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=1000)
    parser.add_argument("--neo4j-uri", default="bolt://127.0.0.1:7687")
    parser.add_argument("--skip-neo4j", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object with the figures, last"
    )
    args = parser.parse_args()
    bundle = bundle_for(args.companies)
    ids = sample_ids(bundle, args.lookups)
    warm = warm_ids(bundle, ids)
    figures: dict[str, object] = {"companies": args.companies}
    if not args.skip_memory:
        figures["embedded"] = measure("memory", memory_store(bundle), ids, warm)
    if not args.skip_neo4j:
        with neo4j_store(bundle, args.neo4j_uri) as graph:
            figures["neo4j"] = measure("neo4j", graph, ids, warm)
    if args.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
