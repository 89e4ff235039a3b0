"""The Spark batch equals the Python engine: the same restrictions (with their canonical paths),
scores and beneficial owners, on generated graphs, under the default rules and under rules that
use every kind of reach.

Spark starts once (a session-scoped fixture, local[2]); each test is one run of each engine over
many graphs at once: the graphs are written side by side into one store, their ids prefixed, so
that a run costs what one graph costs. A missing pyspark or Java fails these tests; deselect them
with ``-m "not spark"`` on a machine without them.
"""

from __future__ import annotations

import dataclasses
import math
import os
import random
import shutil
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from graph.memory import MemoryStore
from graph.model import (
    Company,
    Link,
    Node,
    Officer,
    OfficerRole,
    Ownership,
    Person,
    Produced,
    Registration,
    Sanction,
    SanctionStatus,
    Severity,
    Shipped,
    TransformedInto,
)
from graph.rules.schema import RuleSet, load_rules, parse_rules
from graph.store import WriteBatch
from loaders.bundle import load_bundle
from loaders.generate import generate_bundle
from loaders.parquet import export_parquet
from queries.batch.local import run_local
from queries.batch.tables import OWNERS, RESTRICTIONS, SCORES, read_table
from queries.restrictions import restriction_rows
from tests.conformance.test_materialise_property import DAYS, OTHER_RULES, SHARES

try:
    from pyspark.sql import SparkSession

    from queries.batch.spark_job import SparkBatchConfig, run_spark, session
except ImportError as exc:  # never a skip: CI must run these
    pytest.fail(
        f"pyspark is missing ({exc}): pip install -e '.[spark]' (scripts/test does), or deselect "
        'these tests with -m "not spark"',
        pytrace=False,
    )

pytestmark = pytest.mark.spark

AS_OF = date(2024, 6, 1)
# Small supernode threshold: the salted joins run on these small graphs too.
CONFIG = SparkBatchConfig(heavy_degree=2, salts=3)


def drawn_graph(rng: random.Random, lists: Sequence[str]) -> list[Node | Link]:
    """A small graph as tests/conformance/test_materialise_property.py draws them (1-5
    companies, 1-3 persons; links and records biased towards being in force, dates around
    ``AS_OF``; cycles, parallel and self holdings, missing shares, disputed, repaired and
    revoked records), from a seeded generator: one Spark run checks many of them."""
    companies = [f"c{i}" for i in range(rng.randint(1, 5))]
    persons = [f"p{i}" for i in range(rng.randint(1, 3))]
    entities = companies + persons
    ends = [None, None, None, *DAYS]
    statuses = [SanctionStatus.ACTIVE] * 4 + list(SanctionStatus)
    items: list[Node | Link] = [Company(c, f"Company {c}") for c in companies]
    items += [Person(p, f"Person {p}") for p in persons]
    for _ in range(rng.randint(0, 8)):
        items.append(
            Officer(
                rng.choice(persons),
                rng.choice(companies),
                rng.choice(list(OfficerRole)),
                start=rng.choice(DAYS),
                end=rng.choice(ends),
            )
        )
    for _ in range(rng.randint(0, 10)):
        items.append(
            Ownership(
                rng.choice(entities),
                rng.choice(companies),
                rng.choice(SHARES),
                start=rng.choice(DAYS),
                end=rng.choice(ends),
            )
        )
    for index in range(rng.randint(0, 6)):
        items.append(
            Sanction(
                f"s{index}",
                rng.choice(entities),
                rng.choice(lists),
                severity=rng.choice([None, *Severity]),
                status=rng.choice(statuses),
                start=rng.choice(DAYS),
                end=rng.choice(ends),
                status_date=rng.choice(DAYS),
                disputed=rng.random() < 0.5,
            )
        )
    return items


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.fail("Spark needs Java 17: apt-get install openjdk-17-jre-headless", pytrace=False)
    spark = session(
        "local[2]",
        config={"spark.driver.memory": "2g", "spark.ui.enabled": "false"},
    )
    spark.sparkContext.setLogLevel("ERROR")
    yield spark
    spark.stop()


def _prefixed(item: Node | Link, prefix: str) -> Node | Link:
    """``item`` with every id it holds (its own, its subject's, its ends') prefixed."""
    changes: dict[str, Any] = {}
    for name in ("id", "subject_id", "promisor_id", "owner_id", "company_id", "person_id"):
        if hasattr(item, name):
            changes[name] = prefix + getattr(item, name)
    for name in ("entity_id", "address_id"):
        if isinstance(item, Registration):
            changes[name] = prefix + getattr(item, name)
    return dataclasses.replace(item, **changes)


def _add(store: MemoryStore, items: Sequence[Node | Link], prefix: str) -> None:
    moved = [_prefixed(item, prefix) for item in items]
    kinds = (Ownership, Officer, Registration, Produced, Shipped, TransformedInto)
    nodes = [i for i in moved if not isinstance(i, kinds)]
    links = [i for i in moved if isinstance(i, kinds)]
    store.write(WriteBatch(nodes=nodes))
    store.write(WriteBatch(links=links))


def _both(
    spark: SparkSession, store: MemoryStore, rules: RuleSet, day: date, folder: Path
) -> dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    snapshot = folder / "snapshot"
    export_parquet(store, snapshot)
    run_local(snapshot, folder / "local", day, rules)
    run_spark(spark, snapshot, folder / "spark", day, rules, CONFIG)
    return {
        name: (read_table(folder / "local" / name), read_table(folder / "spark" / name))
        for name in (RESTRICTIONS, SCORES, OWNERS)
    }


def _assert_identical(tables: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]]) -> None:
    for name, (local, spark) in tables.items():
        assert len(spark) == len(local), name
        for mine, theirs in zip(local, spark, strict=True):
            if name == OWNERS:
                # Sums of path products: the engines add them in different orders, so the last
                # bit may differ; everything else is exact.
                assert math.isclose(
                    mine.pop("effective_share"), theirs.pop("effective_share"), abs_tol=1e-9
                ), (mine, theirs)
            assert mine == theirs, name


def test_default_rules_demo_generated_and_drawn_graphs(
    spark: SparkSession, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("default")
    rules = load_rules(None)
    # The generated bundle: holding chains, cross-holding cycles, nominee supernodes, ended
    # positions, disputed and repaired records on every list.
    generated = MemoryStore()
    generate_bundle(folder / "bundle", 300, seed=7)
    load_bundle(generated, folder / "bundle", id_hash_salt="test", allow_rejects=True)
    store = MemoryStore()
    _add(store, [item for batch in generated.scan() for item in batch], "g-")
    rng = random.Random(15)
    lists = [str(name) for name in rules.catalogue.list_names]
    # The generated records now lie mostly after AS_OF (a handful are in force on it): the drawn
    # graphs carry the bulk of the restrictions, enough of them for the size check below.
    for index in range(60):
        _add(store, drawn_graph(rng, lists), f"h{index:02}-")
    demo = MemoryStore()
    from api.cli.loading import demo_bundle_dir

    load_bundle(demo, demo_bundle_dir(), id_hash_salt="creditnet-demo")
    _add(store, [item for batch in demo.scan() for item in batch], "")

    tables = _both(spark, store, rules, AS_OF, folder)
    # The demo graph is a component of its own: its rows of the batch list are the list
    # `creditnet restrictions` prints for the demo data (queries.restrictions).
    demo_ids = {i.id for batch in demo.scan() for i in batch if isinstance(i, (Company, Person))}
    expected = [
        (r["entity_id"], r["measure"], r["rule"], r["source_sanction_id"], r["disputed"])
        for r in restriction_rows(demo, AS_OF, rules)
    ]
    batch_rows = [
        (r["entity_id"], r["measure"], r["rule"], r["source_id"], r["disputed"])
        for r in tables[RESTRICTIONS][1]
        if r["entity_id"] in demo_ids
    ]
    assert batch_rows == expected and expected
    assert len(tables[RESTRICTIONS][0]) > 100 and len(tables[OWNERS][0]) > 100
    _assert_identical(tables)


def test_every_kind_of_reach_on_drawn_graphs(
    spark: SparkSession, tmp_path_factory: pytest.TempPathFactory
) -> None:
    rules = parse_rules(OTHER_RULES, "property-test.yaml")
    lists = [str(name) for name in rules.catalogue.list_names]
    rng = random.Random(16)
    store = MemoryStore()
    for index in range(60):
        _add(store, drawn_graph(rng, lists), f"h{index:02}-")
    tables = _both(spark, store, rules, AS_OF, tmp_path_factory.mktemp("other"))
    assert tables[RESTRICTIONS][0], "the drawn graphs should restrict someone"
    _assert_identical(tables)
