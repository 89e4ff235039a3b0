"""What the benchmarks share: a cached generated bundle and stores loaded with it."""

from __future__ import annotations

import multiprocessing
import os
import random
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import neo4j

from graph.memory import MemoryStore
from graph.neo4j.store import Neo4jStore
from loaders.bundle import load_bundle
from loaders.generate import generate_bundle

OUT = Path(__file__).resolve().parent / "out"
SALT = "bench"


def bundle_for(companies: int, seed: int = 1) -> Path:
    """The generated bundle for ``companies`` companies, made once and cached in bench/out/."""
    folder = OUT / f"bundle-{companies}-seed{seed}"
    if not folder.is_dir():
        # Written aside and renamed when complete: the files fill up row by row, and another
        # benchmark asking for the same bundle meanwhile must not take a half-written one.
        partial = OUT / f".partial-{folder.name}-{os.getpid()}"
        started = time.perf_counter()
        generate_bundle(partial, companies, seed=seed)
        try:
            partial.rename(folder)
        except OSError:
            if not folder.is_dir():
                raise
            shutil.rmtree(partial)  # another process finished the same bundle first
        print(f"generated {folder} in {time.perf_counter() - started:.1f} s")
    return folder


def in_child(target: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """``target(*args)`` in a fresh interpreter (spawn): its memory is its own and is returned
    to the system when it ends, so a million-company store never stays in the caller."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1, maxtasksperchild=1) as pool:
        result: dict[str, Any] = pool.apply(target, args)
    return result


def journal_dir(bundle: Path) -> Path:
    """Where the embedded store's data dir holding ``bundle`` is cached (see :func:`journalled`)."""
    return OUT / f"data-{bundle.name}"


def journal_ready(data_dir: Path) -> Path:
    """The marker of a complete :func:`journal_dir`: a load that stopped half-way has none."""
    return data_dir.with_name(data_dir.name + ".loaded")


def journalled(bundle: Path) -> Path:
    """An embedded store's data dir whose journal holds ``bundle``, as ``creditnet load`` leaves
    it: what ``creditnet serve --workers N`` processes each open. Loaded once (in a child
    process) and cached in bench/out/; bench/embedded.py's load may have written it already."""
    data_dir = journal_dir(bundle)
    if not journal_ready(data_dir).exists():
        shutil.rmtree(data_dir, ignore_errors=True)
        started = time.perf_counter()
        from bench.embedded import load_figures  # it imports this module

        in_child(load_figures, bundle, data_dir)
        journal_ready(data_dir).touch()
        print(f"memory: journalled {bundle.name} in {time.perf_counter() - started:.1f} s")
    return data_dir


def memory_store(bundle: Path) -> MemoryStore:
    store = MemoryStore()
    started = time.perf_counter()
    load_bundle(store, bundle, id_hash_salt=SALT)
    print(f"memory: loaded {bundle.name} in {time.perf_counter() - started:.1f} s")
    return store


def neo4j_store(bundle: Path, uri: str) -> Neo4jStore:
    """A Neo4j store holding exactly ``bundle``; reloaded only when its counts differ."""
    driver = neo4j.GraphDatabase.driver(uri, auth=None)
    store = Neo4jStore(driver, owns_driver=True)
    store.ensure_schema()
    reference = memory_counts(bundle)
    # labels and link types the bundle lacks count 0 in a newer store: not a difference
    if _nonzero(store.stats()) != _nonzero(reference):
        store.clear()
        started = time.perf_counter()
        load_bundle(store, bundle, id_hash_salt=SALT, writers=2)
        print(f"neo4j: loaded {bundle.name} in {time.perf_counter() - started:.1f} s")
    else:
        print(f"neo4j: already holds {bundle.name}")
    return store


def _nonzero(stats: object) -> object:
    from graph.store import Stats

    assert isinstance(stats, Stats)
    return (
        {k: v for k, v in stats.nodes.items() if v},
        {k: v for k, v in stats.links.items() if v},
    )


def memory_counts(bundle: Path) -> object:
    marker = bundle / ".stats"
    if marker.exists():
        import ast

        nodes, links = ast.literal_eval(marker.read_text())
        from graph.store import Stats

        return Stats(nodes=nodes, links=links)
    store = MemoryStore()
    load_bundle(store, bundle, id_hash_salt=SALT)
    stats = store.stats()
    marker.write_text(repr((dict(stats.nodes), dict(stats.links))))
    return stats


def sample_ids(bundle: Path, n: int, seed: int = 7) -> list[str]:
    """``n`` company and person ids drawn at random from the bundle (same draw for each store)."""
    import csv

    ids: list[str] = []
    for name in ("companies.csv", "persons.csv"):
        with (bundle / name).open(encoding="utf-8") as f:
            ids += [row["id"] for row in csv.DictReader(f)]
    return random.Random(seed).sample(ids, n)


WARMUP_REPORTS = 300
"""Reports before the timed ones: a server just started (as after a bulk import) plans and
compiles its statements and fills its page cache over the first hundreds."""


def warm_ids(bundle: Path, timed: Sequence[str], n: int = WARMUP_REPORTS) -> list[str]:
    """``n`` ids of the bundle not among ``timed``, to warm a store on: the timed entities stay
    as cold as any other entity."""
    skip = set(timed)
    drawn = sample_ids(bundle, min(n + len(skip), _id_count(bundle)), seed=11)
    return [i for i in drawn if i not in skip][:n]


def _id_count(bundle: Path) -> int:
    count = 0
    for name in ("companies.csv", "persons.csv"):
        with (bundle / name).open(encoding="utf-8") as f:
            count += sum(1 for _ in f) - 1
    return count


def percentiles(samples: Sequence[float]) -> tuple[float, float]:
    """p50 and p99 of ``samples`` (seconds), in milliseconds."""
    ordered = sorted(samples)
    p50 = ordered[len(ordered) // 2]
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return p50 * 1000, p99 * 1000
