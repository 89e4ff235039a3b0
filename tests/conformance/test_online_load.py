"""The online write path's shortcuts (graph/neo4j/store.py ``write``): new ids are created without
being looked up first, and link-only batches are checked by the write itself. Both stores must
answer as if every batch had been checked first."""

from __future__ import annotations

from datetime import date

import neo4j
import pytest

from graph.codec import node_props
from graph.errors import InvalidInput
from graph.model import (
    Address,
    Company,
    CompanyStatus,
    Officer,
    OfficerRole,
    Ownership,
    Person,
    Registration,
    search_text,
)
from graph.neo4j.store import Neo4jStore
from graph.store import GraphStore, WriteBatch


def _entities() -> WriteBatch:
    return WriteBatch(
        nodes=[
            Company(
                "C1", "恒盛贸易有限公司", founded=date(2015, 3, 1), status=CompanyStatus.ACTIVE
            ),
            Company("C2", "Hengsheng Holdings", aliases=("HH",), extra={"source": "registry"}),
            Person("P1", "张伟", birth_year=1970),
            Address("A1", "上海市浦东新区世纪大道100号"),
        ]
    )


def test_a_link_batch_with_one_bad_row_writes_none_and_names_it(store: GraphStore) -> None:
    store.write(_entities())
    before = store.stats()
    good = Ownership("P1", "C2", 40.0)
    with pytest.raises(InvalidInput, match="'GHOST', which is not in the graph"):
        store.write(WriteBatch(links=[good, Officer("P1", "GHOST", OfficerRole.DIRECTOR)]))
    with pytest.raises(InvalidInput, match="'C2', a Company; expected a Person"):
        store.write(WriteBatch(links=[good, Officer("C2", "C1", OfficerRole.DIRECTOR)]))
    with pytest.raises(InvalidInput, match="'P1', a Person; expected a Address"):
        store.write(WriteBatch(links=[good, Registration("C1", "P1")]))
    assert store.stats() == before
    store.write(WriteBatch(links=[good, Registration("C1", "A1")]))
    assert store.stats().links == {**before.links, "OWNS": 1, "REGISTERED_AT": 1}


def test_reloads_merge_and_new_ids_after_a_reload_are_created(store: GraphStore) -> None:
    store.write(_entities())
    renamed = Company("C1", "恒盛贸易有限公司", founded=date(2015, 3, 1))
    # A reload: its ids are stored, so the batch is merged (status kept, name replaced).
    store.write(WriteBatch(nodes=[renamed, Person("P1", "张伟", birth_year=1970)]))
    assert store.get("C1") == Company(
        "C1", "恒盛贸易有限公司", founded=date(2015, 3, 1), status=CompanyStatus.ACTIVE
    )
    store.write(WriteBatch(nodes=[Company("C3", "New Co"), Person("P2", "Li Na")]))
    assert store.get("C3") == Company("C3", "New Co")
    assert store.get("P2") == Person("P2", "Li Na")
    with pytest.raises(InvalidInput, match="already a Company"):
        store.write(WriteBatch(nodes=[Person("P3", "Wang"), Person("C3", "Not a company")]))
    assert store.get("P3") is None
    assert store.stats().nodes["Company"] == 3


@pytest.mark.neo4j
def test_new_nodes_store_exactly_their_properties(
    neo4j_store: Neo4jStore, neo4j_driver: neo4j.Driver
) -> None:
    neo4j_store.clear()
    batch = _entities()
    neo4j_store.write(batch)
    with neo4j_driver.session(database="neo4j") as session:
        stored = {
            r["id"]: r["props"]
            for r in session.run("MATCH (n:Node) RETURN n.id AS id, properties(n) AS props")
        }
    neo4j_store.clear()
    expected = {}
    for node in batch.nodes:
        props = node_props(node)
        if isinstance(node, (Company, Person)):
            props["search_name"] = search_text(node)
        expected[node.id] = props
    # Absent values absent (not null, not ""), dates as Neo4j dates, lists as lists.
    assert {
        node_id: {k: v.to_native() if isinstance(v, neo4j.time.Date) else v for k, v in p.items()}
        for node_id, p in stored.items()
    } == expected
    assert isinstance(stored["C1"]["founded"], neo4j.time.Date)
