"""GraphReader.extract: batched neighbourhoods, seed labels and pruning to live records, identical
on every backend."""

from __future__ import annotations

from datetime import date

import pytest

from graph.extraction import Extraction
from graph.model import (
    Company,
    Direction,
    Link,
    LinkType,
    Node,
    NodeLabel,
    Officer,
    OfficerRole,
    Ownership,
    Person,
    Sanction,
    SanctionList,
)
from graph.neo4j.store import Neo4jStore
from graph.store import CLOSURE_HOPS, GraphStore, Step, Subgraph, WriteBatch

AS_OF = date(2024, 6, 1)
POSITIONS = (Step(LinkType.OFFICER_OF, Direction.OUT),)
DOWN = (Step(LinkType.OWNS, Direction.OUT),)


@pytest.fixture
def graph(store: GraphStore) -> GraphStore:
    return write_graph(store)


def write_graph(store: GraphStore) -> GraphStore:
    """A nominee X with ten positions, one company of which has a live record and one an
    expired one; a holding chain P -> A -> B -> D where only D has a live record, beside a clean
    branch P -> E -> F; and two seeds S1 -> S2 where only S2 leads on to a live record."""
    nodes: list[Node] = [Person("X", "X"), Person("P", "P")]
    nodes += [Company(f"C{i}", f"C{i}") for i in range(10)]
    nodes += [Company(i, i) for i in ("A", "B", "D", "E", "F", "S1", "S2", "L")]
    nodes += [
        Sanction("s_c3", "C3", SanctionList.ABNORMAL_OPERATION, start=date(2024, 1, 1)),
        Sanction(
            "s_c5",
            "C5",
            SanctionList.ABNORMAL_OPERATION,
            start=date(2020, 1, 1),
            end=date(2021, 1, 1),
        ),
        Sanction("s_d", "D", SanctionList.SERIOUS_DISHONEST, start=date(2023, 1, 1)),
        Sanction("s_l", "L", SanctionList.MARKET_BAN, start=date(2023, 1, 1)),
    ]
    links: list[Link] = [Officer("X", f"C{i}", OfficerRole.DIRECTOR) for i in range(10)]
    links += [
        Ownership(owner, company, 60.0)
        for owner, company in (
            ("P", "A"),
            ("A", "B"),
            ("B", "D"),
            ("P", "E"),
            ("E", "F"),
            ("S1", "S2"),
            ("S2", "L"),
        )
    ]
    store.write(WriteBatch(nodes=nodes, links=links))
    return store


def shape(found: Subgraph) -> tuple[list[str], list[str], list[str]]:
    """Node ids, link endpoints and record ids, sorted."""
    return (
        sorted(found.nodes),
        sorted(f"{link.source}>{link.target}" for link in found.links.values()),
        sorted(found.sanctions),
    )


def test_pruning_keeps_only_the_walks_to_live_records(graph: GraphStore) -> None:
    positions, closure, full = graph.extract(
        [
            Extraction(("X",), POSITIONS, 1, AS_OF, live_at=AS_OF),
            Extraction(("P",), DOWN, CLOSURE_HOPS, AS_OF, live_at=AS_OF),
            Extraction(("P",), DOWN, CLOSURE_HOPS, AS_OF),
        ]
    )
    # Nine clean (or no longer live) positions stay where they are.
    assert shape(positions) == (["C3", "X"], ["X>C3"], ["s_c3"])
    assert shape(closure) == (["A", "B", "D", "P"], ["A>B", "B>D", "P>A"], ["s_d"])
    assert shape(full) == (
        ["A", "B", "D", "E", "F", "P"],
        ["A>B", "B>D", "E>F", "P>A", "P>E"],
        ["s_d"],
    )
    # The kept part is the unpruned extraction's, object for object.
    assert all(full.links[key] == link for key, link in closure.links.items())
    assert all(full.nodes[key] == node for key, node in closure.nodes.items())


def test_pruning_respects_the_hop_limit_and_links_between_seeds(graph: GraphStore) -> None:
    short, seeds = graph.extract(
        [
            # D is three links down: within two hops nothing leads to a live record.
            Extraction(("P",), DOWN, 2, AS_OF, live_at=AS_OF),
            # S2 is a seed and leads on to L: the link into it is kept, on the last hop too.
            Extraction(("S1", "S2"), DOWN, 1, AS_OF, live_at=AS_OF),
        ]
    )
    assert shape(short) == (["P"], [], [])
    assert shape(seeds) == (["L", "S1", "S2"], ["S1>S2", "S2>L"], ["s_l"])


def test_seed_labels_take_only_the_seeds_of_those_labels(graph: GraphStore) -> None:
    people, companies, nothing = graph.extract(
        [
            Extraction(
                ("P", "A", "nobody"), DOWN, 1, AS_OF, seed_labels=frozenset({NodeLabel.PERSON})
            ),
            Extraction(("P", "A"), DOWN, 1, AS_OF, seed_labels=frozenset({NodeLabel.COMPANY})),
            Extraction(("P",), DOWN, 0, AS_OF, seed_labels=frozenset({NodeLabel.COMPANY})),
        ]
    )
    assert shape(people) == (["A", "E", "P"], ["P>A", "P>E"], [])
    assert shape(companies) == (["A", "B"], ["A>B"], [])
    assert shape(nothing) == ([], [], [])


def test_an_extraction_without_steps_returns_the_seeds_with_their_records(
    graph: GraphStore,
) -> None:
    (found,) = graph.extract([Extraction(("C5", "D", "nobody"), (), 1, AS_OF, live_at=AS_OF)])
    assert shape(found) == (["C5", "D"], [], ["s_c5", "s_d"])


def test_a_record_written_later_is_found_by_a_pruned_walk(graph: GraphStore) -> None:
    # C7 was clean when the graph was written; its record comes in a batch of its own.
    graph.write(
        WriteBatch(
            nodes=[Sanction("s_c7", "C7", SanctionList.ABNORMAL_OPERATION, start=date(2024, 2, 1))]
        )
    )
    (positions,) = graph.extract([Extraction(("X",), POSITIONS, 1, AS_OF, live_at=AS_OF)])
    assert shape(positions) == (["C3", "C7", "X"], ["X>C3", "X>C7"], ["s_c3", "s_c7"])


@pytest.mark.neo4j
def test_a_database_written_without_record_holder_marks_is_marked_when_opened(
    neo4j_store: Neo4jStore,
) -> None:
    """A pruned walk on Neo4j passes nodes without the RecordHolder label (graph/neo4j/cypher.py):
    a database written before the label (or by the bulk importer) must be marked before it is
    read, or live records behind clean-looking nodes would be missed."""
    neo4j_store.clear()
    try:
        write_graph(neo4j_store)
        driver = neo4j_store._driver
        with driver.session() as session:
            session.run("MATCH (n:RecordHolder) REMOVE n:RecordHolder").consume()
            session.run("MATCH (m:CreditnetMeta {name: 'record_holders'}) DELETE m").consume()
        reopened = Neo4jStore(driver)
        positions, closure = reopened.extract(
            [
                Extraction(("X",), POSITIONS, 1, AS_OF, live_at=AS_OF),
                Extraction(("P",), DOWN, CLOSURE_HOPS, AS_OF, live_at=AS_OF),
            ]
        )
        assert shape(positions) == (["C3", "X"], ["X>C3"], ["s_c3"])
        assert shape(closure) == (["A", "B", "D", "P"], ["A>B", "B>D", "P>A"], ["s_d"])
    finally:
        neo4j_store.clear()
