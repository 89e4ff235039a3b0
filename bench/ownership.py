"""Benchmark: beneficial owners of every company, against a scipy.sparse reference.

Builds a synthetic registry in a MemoryStore (``loaders.generate.generate_bundle`` loaded with
``loaders.bundle.load_bundle``; ``--source code`` builds a comparable graph directly), extracts
every OWNS link and ``actual_controller`` position in force at the bundle's reference day with one
store call, then times:

- ours: :func:`graph.ownership.all_beneficial_owners` over every company (effective shares over
  simple paths of at most 10 links, control, the 25% threshold);
- the reference: effective ownership as the sum of the first 10 powers of the sparse share matrix
  (scipy.sparse), person rows at or above the threshold; valid on the acyclic part only (on a
  cycle the powers count walks, not simple paths), and computing no control;
- one company's owners through the query layer (``queries.ownership.beneficial_owners``, with
  extraction and explanations), p50 / p99 over random companies.

Prints figures; asserts nothing about time. Usage::

    python -m bench.ownership --companies 100000
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import scipy.sparse as sp

from graph.memory import MemoryStore
from graph.model import (
    Company,
    Direction,
    LinkType,
    Node,
    Officer,
    OfficerRole,
    Ownership,
    Person,
)
from graph.ownership import (
    BO_THRESHOLD,
    EPSILON,
    MAX_HOPS,
    EffectiveOwnership,
    HoldingIndex,
    OwnerTable,
    all_beneficial_owners,
    control_map,
)
from graph.store import GraphReader, Step, Subgraph, WriteBatch
from queries.ownership import beneficial_owners

T = TypeVar("T")


def timed(action: Callable[[], T], repeat: int) -> tuple[T, list[float]]:
    """Run ``action`` ``repeat`` times; the last result and every wall-clock duration."""
    times: list[float] = []
    result: T | None = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - start)
    assert result is not None
    return result, times


def build_from_bundle(store: MemoryStore, companies: int, seed: int) -> tuple[list[str], date]:
    from bench.common import SALT, bundle_for
    from loaders.bundle import load_bundle
    from loaders.generate import REFERENCE_DAY

    bundle = bundle_for(companies, seed)
    loaded = load_bundle(store, bundle, id_hash_salt=SALT)
    with (bundle / "companies.csv").open(encoding="utf-8") as handle:
        ids = [row["id"] for row in csv.DictReader(handle)]
    print(f"  loaded rows: {loaded.written} ({len(loaded.rejects)} rejected rows)")
    return ids, REFERENCE_DAY - timedelta(days=1)


def build_in_code(store: MemoryStore, companies: int, seed: int) -> tuple[list[str], date]:
    """Holding groups several levels deep, mostly natural-person owners, a few cross-holdings."""
    rng = random.Random(seed)
    company_ids = [f"C{i:07d}" for i in range(companies)]
    person_ids = [f"P{i:07d}" for i in range(int(companies * 0.8))]
    nodes: list[Node] = [Company(c, f"Company {c}") for c in company_ids]
    nodes += [Person(p, f"Person {p}") for p in person_ids]
    links: list[Ownership | Officer] = []
    for i, company in enumerate(company_ids):
        parts = rng.choice([1, 1, 2, 2, 3, 4])
        left = 100.0
        for part in range(parts):
            share = (
                left if part == parts - 1 else round(rng.uniform(5, left - 5 * (parts - part)), 2)
            )
            left -= share
            if i > 50 and rng.random() < 0.3:
                owner = company_ids[rng.randrange(max(0, i - 2000), i)]
            else:
                owner = rng.choice(person_ids)
            links.append(Ownership(owner, company, share))
        if rng.random() < 0.01:
            links.append(Officer(rng.choice(person_ids), company, OfficerRole.ACTUAL_CONTROLLER))
    held_by_company = [
        (link.owner_id, link.company_id)
        for link in links
        if isinstance(link, Ownership) and link.owner_id.startswith("C")
    ]
    for owner, company in rng.sample(held_by_company, min(len(held_by_company), companies // 500)):
        links.append(Ownership(company, owner, 10.0))  # a cross-holding closes a cycle
    for start in range(0, len(nodes), 20_000):
        store.write(WriteBatch(nodes=nodes[start : start + 20_000]))
    for start in range(0, len(links), 20_000):
        store.write(WriteBatch(links=list(links[start : start + 20_000])))
    return company_ids, date(2026, 1, 1)


def _powers(links: list[Ownership], max_hops: int) -> tuple[Any, Any]:
    """The share matrix's first ``max_hops`` powers summed, and the ids of its rows/columns."""
    owner = np.array([link.owner_id for link in links], dtype=object)
    company = np.array([link.company_id for link in links], dtype=object)
    share = np.array([link.share for link in links], dtype=np.float64)
    keep = (share > 0) & (owner != company)
    m = int(keep.sum())
    codes, names = pd.factorize(np.concatenate([owner[keep], company[keep]]))
    n = len(names)
    matrix = sp.csr_matrix((share[keep] / 100.0, (codes[:m], codes[m:])), shape=(n, n))
    total = matrix.copy()
    power = matrix
    for _ in range(max_hops - 1):
        power = power @ matrix
        if power.nnz == 0:
            break
        total = total + power
    return total, names


def reference_core(links: list[Ownership], persons: set[str], max_hops: int) -> tuple[Any, Any]:
    """The timed reference: powers, then the person rows at or above the threshold (arrays)."""
    total, names = _powers(links, max_hops)
    is_person = np.asarray(pd.Index(names).isin(list(persons)), dtype=bool)
    coo = total.tocoo()
    big = is_person[coo.row] & (coo.data >= (BO_THRESHOLD - EPSILON) / 100.0)
    return (coo.row[big], coo.col[big], coo.data[big]), names


def reference(
    links: list[Ownership], persons: set[str], max_hops: int
) -> tuple[dict[tuple[str, str], float], Any, dict[str, int]]:
    """The reference's answer as {(company, person): percent}, with the full sum for look-ups."""
    (rows, cols, data), names = reference_core(links, persons, max_hops)
    total, _ = _powers(links, max_hops)
    found = {
        (str(names[c]), str(names[p])): float(v) * 100.0
        for p, c, v in zip(rows.tolist(), cols.tolist(), data.tolist(), strict=True)
    }
    return found, total, {str(name): i for i, name in enumerate(names)}


def compare(
    table: OwnerTable,
    ref: dict[tuple[str, str], float],
    total: Any,
    code: dict[str, int],
) -> tuple[float, int, int]:
    """Max |ours - reference| over the acyclic companies; pairs compared; pairs on one side only."""
    searched = {str(table.names[c]) for c in table.searched.tolist()}
    names = table.names.tolist()
    ours = {
        (names[c], names[p]): s
        for c, p, s in zip(
            table.company.tolist(), table.person.tolist(), table.share.tolist(), strict=True
        )
        if names[c] not in searched and s >= BO_THRESHOLD - EPSILON
    }
    theirs = {k: v for k, v in ref.items() if k[0] not in searched}
    worst = 0.0
    only = 0
    for key in ours.keys() | theirs.keys():
        if key in ours and key in theirs:
            worst = max(worst, abs(ours[key] - theirs[key]))
            continue
        only += 1
        company, person = key
        value = float(total[code[person], code[company]]) * 100.0 if key in ours else 0.0
        mine = ours.get(key, 0.0)
        worst = max(worst, abs(mine - (theirs.get(key) or value)))
    return worst, len(ours.keys() & theirs.keys()), only


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--source", choices=["bundle", "code"], default="bundle")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each bulk pass")
    parser.add_argument("--samples", type=int, default=1000, help="companies for the latency")
    parser.add_argument("--neo4j-uri", default="bolt://127.0.0.1:7797")
    parser.add_argument("--skip-neo4j", action="store_true")
    args = parser.parse_args()

    store = MemoryStore()
    start = time.perf_counter()
    if args.source == "bundle":
        try:
            company_ids, as_of = build_from_bundle(store, args.companies, args.seed)
        except ImportError as exc:
            print(f"  no bundle generator ({exc}); building in code")
            company_ids, as_of = build_in_code(store, args.companies, args.seed)
    else:
        company_ids, as_of = build_in_code(store, args.companies, args.seed)
    print(
        f"graph built in {time.perf_counter() - start:.1f}s: {store.stats().nodes}; as of {as_of}"
    )

    steps = [
        Step(LinkType.OWNS, Direction.IN),
        Step(LinkType.OFFICER_OF, Direction.IN, frozenset({OfficerRole.ACTUAL_CONTROLLER})),
    ]
    sub: Subgraph
    sub, extract_times = timed(
        lambda: store.neighbourhood(company_ids, steps=steps, hops=1, as_of=as_of), 1
    )
    links = sub.ownerships
    officers = [o for o in sub.officers if o.role is OfficerRole.ACTUAL_CONTROLLER]
    persons = {i for i, node in sub.nodes.items() if isinstance(node, Person)}
    print(
        f"extraction (one neighbourhood call): {extract_times[0]:.3f}s, {len(links)} OWNS links "
        f"in force, {len(officers)} actual controllers, {len(persons)} persons"
    )

    table, ours_times = timed(
        lambda: all_beneficial_owners(links, persons, officers=officers), args.repeat
    )
    _, ref_times = timed(lambda: reference_core(links, persons, MAX_HOPS), args.repeat)
    ours_best, ref_best = min(ours_times), min(ref_times)
    covered = table.companies.size
    print(
        f"ours, beneficial owners of all {covered} companies with an owner (shares + control; "
        f"simple-path search for {table.searched.size} in or below cycles): "
        f"best {ours_best:.3f}s, median "
        f"{statistics.median(ours_times):.3f}s; {len(table)} owner rows"
    )
    print(
        f"scipy.sparse reference (sum of {MAX_HOPS} powers, shares only): best {ref_best:.3f}s, "
        f"median {statistics.median(ref_times):.3f}s"
    )
    print(
        f"ratio ours / reference: {ours_best / ref_best:.2f} (best), "
        f"{statistics.median(ours_times) / statistics.median(ref_times):.2f} (median)"
    )
    ref, total, code = reference(links, persons, MAX_HOPS)
    worst, compared, only = compare(table, ref, total, code)
    print(
        f"acyclic part: {compared} (company, person) pairs compared, max |difference| "
        f"{worst:.3g} percentage points, {only} pairs on one side only"
    )

    start = time.perf_counter()
    index = HoldingIndex(links)
    engine = EffectiveOwnership(index, keep=persons)
    for company in index.owners:
        engine.fractions_of(company)
    control_map(index, officers)
    print(
        f"pure-Python engine, every company (shares + control): {time.perf_counter() - start:.3f}s"
    )

    rng = random.Random(args.seed)
    sample = [rng.choice(company_ids) for _ in range(args.samples)]
    owner_latency("memory", store, sample, as_of)
    if args.source == "bundle" and not args.skip_neo4j:
        from bench.common import bundle_for, neo4j_store

        with neo4j_store(bundle_for(args.companies, args.seed), args.neo4j_uri) as graph:
            owner_latency("neo4j", graph, sample, as_of)


def owner_latency(name: str, store: GraphReader, sample: list[str], as_of: date) -> None:
    for company_id in sample[:20]:  # warm caches and query plans
        beneficial_owners(store, company_id, as_of)
    latencies: list[float] = []
    for company_id in sample:
        begin = time.perf_counter()
        beneficial_owners(store, company_id, as_of)
        latencies.append((time.perf_counter() - begin) * 1000.0)
    latencies.sort()
    p50 = latencies[len(latencies) // 2]
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(
        f"{name}: one company's owners via queries.ownership.beneficial_owners ({len(sample)} "
        f"random companies, with extraction and paths): p50 {p50:.2f} ms, p99 {p99:.2f} ms, "
        f"max {latencies[-1]:.2f} ms"
    )


if __name__ == "__main__":
    main()
