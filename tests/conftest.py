"""Shared fixtures.

``store`` is a fresh, empty GraphStore, parametrised over both backends: the embedded networkx
store and Neo4j (the server ``scripts/neo4j-local start`` runs, or CREDITNET_TEST_NEO4J_URI).
A Neo4j that cannot be reached is a test failure, never a skip; to run only the embedded half on
a machine without Java, deselect it explicitly: ``pytest -m "not neo4j"``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import neo4j
import pytest

from graph.memory import MemoryStore
from graph.neo4j.store import Neo4jStore
from graph.store import GraphStore

ROOT = Path(__file__).resolve().parent.parent


def neo4j_test_uri() -> str:
    explicit = os.environ.get("CREDITNET_TEST_NEO4J_URI")
    if explicit:
        return explicit
    port_file = ROOT / ".cache" / "neo4j-local.port"
    port = port_file.read_text().strip() if port_file.exists() else "7687"
    return f"bolt://127.0.0.1:{port}"


def _neo4j_auth() -> tuple[str, str] | None:
    user = os.environ.get("CREDITNET_TEST_NEO4J_USER")
    return (user, os.environ.get("CREDITNET_TEST_NEO4J_PASSWORD", "")) if user else None


@pytest.fixture(scope="session")
def neo4j_driver() -> Iterator[neo4j.Driver]:
    uri = neo4j_test_uri()
    driver = neo4j.GraphDatabase.driver(uri, auth=_neo4j_auth())
    try:
        driver.verify_connectivity()
    except Exception as exc:
        driver.close()
        pytest.fail(
            f"Neo4j is not reachable at {uri} ({exc}). Start it with `scripts/neo4j-local start` "
            '(the README test command does), or deselect these tests with -m "not neo4j".',
            pytrace=False,
        )
    yield driver
    driver.close()


@pytest.fixture(scope="session")
def neo4j_store(neo4j_driver: neo4j.Driver) -> Neo4jStore:
    store = Neo4jStore(neo4j_driver)
    store.ensure_schema()
    return store


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("store") == "neo4j":
            item.add_marker(pytest.mark.neo4j)


@pytest.fixture(params=["memory", "neo4j"])
def store(request: pytest.FixtureRequest) -> Iterator[GraphStore]:
    if request.param == "memory":
        memory = MemoryStore()
        yield memory
        memory.close()
        return
    graph: Neo4jStore = request.getfixturevalue("neo4j_store")
    # Community has one database: every test starts from an empty one and leaves it empty.
    graph.clear()
    yield graph
    graph.clear()
