"""Neo4jStore.clear on a graph too large to delete within one transaction's time limit."""

from __future__ import annotations

from typing import Any

import neo4j
import pytest

from graph.neo4j.store import Neo4jStore

pytestmark = pytest.mark.neo4j

LIMIT_S = 1.0
NODES = 100_000


class TimeLimited:
    """The test server's driver, with every auto-commit statement limited to ``LIMIT_S``
    seconds, as a server with ``db.transaction.timeout`` would (Community cannot set that
    setting at run time)."""

    def __init__(self, driver: neo4j.Driver) -> None:
        self.driver = driver

    def session(self, **config: Any) -> Any:
        return _Session(self.driver.session(**config))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.driver, name)


class _Session:
    def __init__(self, inner: neo4j.Session) -> None:
        self.inner = inner

    def run(self, query: str, parameters: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        return self.inner.run(neo4j.Query(query, timeout=LIMIT_S), parameters, **kwargs)

    def __enter__(self) -> _Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.inner.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_clear_deletes_a_graph_larger_than_one_transaction_can(
    neo4j_store: Neo4jStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small pieces, so that each stays well inside the limit on a busy machine.
    monkeypatch.setattr("graph.neo4j.store._CLEAR_BATCH", 2_000)
    neo4j_store.clear()
    driver = neo4j_store._driver
    with driver.session() as session:
        session.run(
            "UNWIND range(1, $n) AS i CALL (i) { CREATE (:Node:Company {id: 'clear' + i})"
            "-[:OWNS {share: 50.0}]->(:Node:Company {id: 'cleared' + i}) } "
            "IN TRANSACTIONS OF 10000 ROWS",
            n=NODES,
        ).consume()
    Neo4jStore(TimeLimited(driver)).clear()  # type: ignore[arg-type]
    with driver.session() as session:
        assert session.run("MATCH (n:Node) RETURN count(n) AS n").single(strict=True)["n"] == 0
