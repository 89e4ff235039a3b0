"""The Neo4j adapter. Only this package talks Cypher."""

from graph.neo4j.store import Neo4jStore

__all__ = ["Neo4jStore"]
