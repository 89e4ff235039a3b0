"""Builds the configured store. The only place that chooses a backend or makes a Neo4j driver."""

from __future__ import annotations

from api.settings import Settings, StoreKind
from graph.errors import BackendUnavailable
from graph.store import GraphStore

__all__ = ["open_scratch_store", "open_store"]


def open_store(settings: Settings) -> GraphStore:
    """Open the store ``settings`` names; the caller closes it.

    A Neo4j store gets its own driver, closed with the store; the schema is created on first use.
    """
    if settings.store is StoreKind.MEMORY:
        from graph.memory import MemoryStore

        return MemoryStore(settings.data_dir)
    import neo4j

    from graph.neo4j.store import Neo4jStore

    auth = None
    if settings.neo4j_user:
        password = settings.neo4j_password.get_secret_value() if settings.neo4j_password else ""
        auth = (settings.neo4j_user, password)
    try:
        driver = neo4j.GraphDatabase.driver(settings.neo4j_uri, auth=auth)
    except ValueError as exc:
        raise BackendUnavailable(f"bad Neo4j URI {settings.neo4j_uri!r}: {exc}") from exc
    return Neo4jStore(driver, database=settings.neo4j_database, owns_driver=True)


def open_scratch_store() -> GraphStore:
    """A fresh embedded store in memory only (no data dir, nothing kept): the demo's."""
    from graph.memory import MemoryStore

    return MemoryStore()
