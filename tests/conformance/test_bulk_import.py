"""``creditnet db import`` (Neo4j's own importer) gives the graph an online load gives.

The bundle is loaded online into the test server and bulk-imported into a second, private
server that ``scripts/neo4j-local import`` starts on the imported database; both must answer
alike: the canonical scan, the counts and the credit reports of a sample of entities.
"""

from __future__ import annotations

import csv
import os
import random
import socket
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import neo4j
import pytest

from api.cli.db import Importer, run_importer, write_import_csvs
from graph.neo4j.store import Neo4jStore
from graph.rules.schema import load_rules
from graph.store import GraphStore
from loaders.bundle import load_bundle
from loaders.generate import generate_bundle
from queries.report import credit_report

pytestmark = pytest.mark.neo4j

ROOT = Path(__file__).resolve().parents[2]
SALT = "bulk-import-test"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _awkward_rows(bundle: Path) -> None:
    """Values a CSV writer gets wrong: quotes, commas, line breaks, empty text, an extra column
    of numbers, and a company that has only its required columns."""
    path = bundle / "companies.csv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    header = [*rows[0], "employees"]
    body = [[*row, str(index * 7)] for index, row in enumerate(rows[1:])]
    blank = dict.fromkeys(rows[0], "")
    odd = [
        {**blank, "id": "X-QUOTE", "name": 'Acme "Big", Ltd', "industry": ""},
        {**blank, "id": "X-BREAK", "name": "Two\nlines", "jurisdiction": "CN"},
        {**blank, "id": "X-BARE", "name": "Bare"},
    ]
    body += [[row[c] for c in rows[0]] + [""] for row in odd]
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, *body])


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bundle")
    generate_bundle(folder, 300, seed=5)
    _awkward_rows(folder)
    return folder


@pytest.fixture(scope="module")
def imported(bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Neo4jStore]:
    """A private server holding ``bundle`` bulk-imported (and its schema ensured)."""
    work = tmp_path_factory.mktemp("bulk")
    plan, result = write_import_csvs(bundle, work / "csv", id_hash_salt=SALT)
    assert plan is not None and result is not None and not result.rejects, result
    port = _free_port()
    env = {
        **os.environ,
        "NEO4J_LOCAL_RUN_DIR": str(work / "run"),
        "NEO4J_LOCAL_PORT": str(port),
        "NEO4J_LOCAL_DATA": str(work / "data"),
        "NEO4J_LOCAL_HEAP": "384m",
        "NEO4J_LOCAL_PAGECACHE": "64m",
        "NEO4J_LOCAL_IMPORT_HEAP": "256m",
        "NEO4J_LOCAL_IMPORT_MEMORY": "256m",
        "NEO4J_LOCAL_START_TIMEOUT": "300",
    }
    script = str(ROOT / "scripts" / "neo4j-local")
    run_importer(plan, Importer.LOCAL, env=env)
    driver = neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{port}", auth=None)
    store = Neo4jStore(driver, owns_driver=True)
    try:
        store.ensure_schema()
        yield store
    finally:
        store.close()
        subprocess.run([script, "stop"], env=env, check=False, capture_output=True)


@pytest.fixture(scope="module")
def online(bundle: Path, neo4j_store: Neo4jStore) -> Iterator[Neo4jStore]:
    neo4j_store.clear()
    result = load_bundle(neo4j_store, bundle, id_hash_salt=SALT, writers=2)
    assert result.applied and not result.rejects, result.rejects[:3]
    yield neo4j_store
    neo4j_store.clear()


def _scan(store: GraphStore) -> list[object]:
    return [item for batch in store.scan() for item in batch]


def test_bulk_import_answers_like_an_online_load(
    imported: Neo4jStore, online: Neo4jStore, bundle: Path
) -> None:
    assert imported.stats() == online.stats()
    assert _scan(imported) == _scan(online)
    rules = load_rules(None)
    with (bundle / "companies.csv").open(encoding="utf-8") as f:
        ids = [row["id"] for row in csv.DictReader(f)]
    sanctioned = [s.subject_id for s in online.sanctions()][:5]
    sample = random.Random(3).sample(ids, 20) + sanctioned + ["X-QUOTE", "X-BREAK", "X-BARE"]
    day = date(2025, 6, 1)
    for entity_id in sample:
        assert credit_report(imported, entity_id, day, rules) == credit_report(
            online, entity_id, day, rules
        ), entity_id
    # The awkward values came through as values, not as CSV syntax.
    quoted = imported.get("X-QUOTE")
    assert quoted is not None and quoted.name == 'Acme "Big", Ltd'  # type: ignore[union-attr]
    broken = imported.get("X-BREAK")
    assert broken is not None and broken.name == "Two\nlines"  # type: ignore[union-attr]
    found = imported.search("Acme")
    assert [n.id for n in found.items] == [n.id for n in online.search("Acme").items]
    assert "X-QUOTE" in {n.id for n in found.items}
