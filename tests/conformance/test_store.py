"""The GraphStore port's behaviour, identical on every backend."""

from __future__ import annotations

from datetime import date

import pytest

from graph.errors import Conflict, InvalidInput
from graph.model import (
    Address,
    Case,
    CaseKind,
    CaseStatus,
    Company,
    CompanyStatus,
    Direction,
    EntityKind,
    Link,
    LinkType,
    Node,
    NodeLabel,
    Officer,
    OfficerRole,
    Ownership,
    Person,
    Registration,
    Sanction,
    SanctionList,
    SanctionStatus,
)
from graph.store import (
    GraphStore,
    Step,
    WriteBatch,
    may_be_live,
    ownership_closure,
    scan_ids,
)

D = date


def small_graph() -> WriteBatch:
    return WriteBatch(
        nodes=[
            Company("C1", "恒盛贸易有限公司", founded=D(2015, 3, 1), status=CompanyStatus.ACTIVE),
            Company("C2", "Hengsheng Holdings Ltd", registered_capital=1e6),
            Company("C3", "Hengsheng Trading Co", extra={"source": "registry"}),
            Person("P1", "张伟", birth_year=1970),
            Person("P2", "Li Na", nationality="CN"),
            Address("A1", "上海市浦东新区世纪大道100号", region="310115"),
            Sanction(
                "S1",
                "C1",
                SanctionList.SERIOUS_DISHONEST,
                start=D(2024, 1, 1),
                fine=50000.0,
                disputed=True,
            ),
        ],
        links=[
            Ownership("P1", "C2", 80.0),
            Ownership("C2", "C1", 60.0, start=D(2020, 1, 1)),
            Ownership("C1", "C3", 30.0, end=D(2024, 6, 1)),
            Officer("P1", "C1", OfficerRole.LEGAL_REPRESENTATIVE, start=D(2018, 1, 1)),
            Officer("P2", "C1", OfficerRole.DIRECTOR, end=D(2025, 1, 1)),
            Registration("C1", "A1"),
        ],
    )


def test_upsert_is_idempotent(store: GraphStore) -> None:
    store.write(small_graph())
    first = store.stats()
    dump = store.neighbourhood(
        ["C1"],
        steps=[Step(t, Direction.BOTH) for t in (LinkType.OWNS, LinkType.OFFICER_OF)],
        hops=3,
        as_of=None,
    ).canonical()
    store.write(small_graph())
    assert store.stats() == first
    assert first.nodes == {
        "Company": 3,
        "Person": 2,
        "Address": 1,
        "Sanction": 1,
        "Case": 0,
        "Commitment": 0,
        "Product": 0,
        "Batch": 0,
    }
    assert first.links == {
        "OWNS": 3,
        "OFFICER_OF": 2,
        "REGISTERED_AT": 1,
        "SANCTIONED": 1,
        "COMMITTED": 0,
        "PRODUCED": 0,
        "SHIPPED": 0,
        "TRANSFORMED_INTO": 0,
    }
    again = store.neighbourhood(
        ["C1"],
        steps=[Step(t, Direction.BOTH) for t in (LinkType.OWNS, LinkType.OFFICER_OF)],
        hops=3,
        as_of=None,
    ).canonical()
    assert again == dump


def test_values_round_trip_exactly(store: GraphStore) -> None:
    batch = small_graph()
    store.write(batch)
    for node in batch.nodes:
        assert store.get(node.id) == node
    links = store.neighbourhood(
        ["C1", "C2", "C3"],
        steps=[
            Step(t, Direction.BOTH)
            for t in (LinkType.OWNS, LinkType.OFFICER_OF, LinkType.REGISTERED_AT)
        ],
        hops=1,
        as_of=None,
    ).links
    assert sorted(links) == sorted(link.key for link in batch.links)
    for link in batch.links:
        assert links[link.key] == link


def test_unknown_values_do_not_overwrite_known_ones(store: GraphStore) -> None:
    store.write(
        WriteBatch(nodes=[Company("C1", "Old name", industry="retail", founded=D(2001, 1, 2))])
    )
    store.write(WriteBatch(nodes=[Company("C1", "New name")]))
    assert store.get("C1") == Company("C1", "New name", industry="retail", founded=D(2001, 1, 2))


def test_link_properties_merge_by_natural_key(store: GraphStore) -> None:
    store.write(small_graph())
    store.write(WriteBatch(links=[Ownership("P1", "C2", 75.0)]))
    sub = ownership_closure(store, ["C2"], direction=Direction.IN, as_of=None, max_hops=1)
    assert sub.links["OWNS|P1|C2|"] == Ownership("P1", "C2", 75.0)
    # Another start date is another link (natural key owner, company, start).
    store.write(WriteBatch(links=[Ownership("P1", "C2", 5.0, start=D(2026, 1, 1))]))
    assert store.stats().links["OWNS"] == 4


def test_a_bad_batch_writes_nothing(store: GraphStore) -> None:
    store.write(small_graph())
    before = store.stats()
    bad = WriteBatch(
        nodes=[Company("C9", "Never written")], links=[Ownership("NOBODY", "C9", 10.0)]
    )
    with pytest.raises(InvalidInput, match="NOBODY"):
        store.write(bad)
    assert store.get("C9") is None
    assert store.stats() == before


def test_an_id_keeps_its_kind(store: GraphStore) -> None:
    store.write(small_graph())
    with pytest.raises(InvalidInput, match="already a Company"):
        store.write(WriteBatch(nodes=[Person("C1", "Not a company")]))
    with pytest.raises(InvalidInput, match="expected a Person"):
        store.write(WriteBatch(links=[Officer("C2", "C1", OfficerRole.DIRECTOR)]))
    with pytest.raises(InvalidInput, match="not in the graph"):
        store.write(WriteBatch(nodes=[Sanction("S2", "GHOST", SanctionList.ABNORMAL_OPERATION)]))


def test_as_of_filters_links_by_start_and_exclusive_end(store: GraphStore) -> None:
    store.write(small_graph())
    steps = [Step(LinkType.OFFICER_OF, Direction.IN), Step(LinkType.OWNS, Direction.BOTH)]

    def linked(as_of: date) -> set[str]:
        sub = store.neighbourhood(["C1"], steps=steps, hops=1, as_of=as_of)
        return set(sub.nodes) - {"C1"}

    assert linked(D(2017, 12, 31)) == {"P2", "C3"}  # before P1 and C2 joined
    assert linked(D(2018, 1, 1)) == {"P1", "P2", "C3"}  # start is inclusive
    assert linked(D(2020, 1, 1)) == {"P1", "P2", "C2", "C3"}
    assert linked(D(2024, 5, 31)) == {"P1", "P2", "C2", "C3"}
    assert linked(D(2024, 6, 1)) == {"P1", "P2", "C2"}  # end is exclusive
    assert linked(D(2025, 1, 1)) == {"P1", "C2"}


def test_neighbourhood_follows_only_the_given_steps_and_hops(store: GraphStore) -> None:
    store.write(small_graph())
    up = store.neighbourhood(["C1"], steps=[Step(LinkType.OWNS, Direction.IN)], hops=1, as_of=None)
    assert set(up.nodes) == {"C1", "C2"}
    up2 = store.neighbourhood(["C1"], steps=[Step(LinkType.OWNS, Direction.IN)], hops=2, as_of=None)
    assert set(up2.nodes) == {"C1", "C2", "P1"}
    assert set(up2.links) == {"OWNS|C2|C1|2020-01-01", "OWNS|P1|C2|"}
    down = store.neighbourhood(
        ["C1"], steps=[Step(LinkType.OWNS, Direction.OUT)], hops=5, as_of=None
    )
    assert set(down.nodes) == {"C1", "C3"}
    legal = store.neighbourhood(
        ["C1"],
        steps=[
            Step(LinkType.OFFICER_OF, Direction.IN, frozenset({OfficerRole.LEGAL_REPRESENTATIVE}))
        ],
        hops=1,
        as_of=None,
    )
    assert set(legal.nodes) == {"C1", "P1"}
    zero = store.neighbourhood(
        ["C1", "MISSING"], steps=[Step(LinkType.OWNS, Direction.IN)], hops=0, as_of=None
    )
    assert set(zero.nodes) == {"C1"} and not zero.links
    assert set(zero.sanctions) == {"S1"}  # records always come with their subject


def test_neighbourhood_expands_each_node_once_on_cycles(store: GraphStore) -> None:
    store.write(
        WriteBatch(
            nodes=[Company(f"R{i}", f"Ring {i}") for i in range(4)],
            links=[Ownership(f"R{i}", f"R{(i + 1) % 4}", 51.0) for i in range(4)],
        )
    )
    sub = ownership_closure(store, ["R0"], direction=Direction.OUT, as_of=None, max_hops=64)
    assert set(sub.nodes) == {"R0", "R1", "R2", "R3"}
    assert len(sub.links) == 4


def test_a_sanction_moves_with_its_subject(store: GraphStore) -> None:
    store.write(small_graph())
    store.write(WriteBatch(nodes=[Sanction("S1", "C2", SanctionList.SERIOUS_DISHONEST)]))
    assert [s.id for s in store.sanctions(["C2"])] == ["S1"]
    assert list(store.sanctions(["C1"])) == []
    assert store.stats().links["SANCTIONED"] == 1


def test_sanctions_listing(store: GraphStore) -> None:
    store.write(small_graph())
    store.write(
        WriteBatch(
            nodes=[
                Sanction(
                    "S0",
                    "P1",
                    SanctionList.DISHONEST_JUDGMENT_DEBTOR,
                    status=SanctionStatus.REVOKED,
                    status_date=D(2025, 2, 2),
                )
            ]
        )
    )
    assert [s.id for s in store.sanctions()] == ["S0", "S1"]
    assert [s.id for s in store.sanctions(["P1", "C3"])] == ["S0"]
    assert store.get("S0") == Sanction(
        "S0",
        "P1",
        SanctionList.DISHONEST_JUDGMENT_DEBTOR,
        status=SanctionStatus.REVOKED,
        status_date=D(2025, 2, 2),
    )


def test_search_ranks_exact_id_then_prefix_then_substring(store: GraphStore) -> None:
    store.write(small_graph())
    page = store.search("hengsheng")
    assert [e.id for e in page.items] == ["C2", "C3"]
    assert page.total == 2
    assert [e.id for e in store.search("HENGSHENG trading").items] == ["C3"]
    assert [e.id for e in store.search("恒盛").items] == ["C1"]
    assert [e.id for e in store.search("ｈｅｎｇｓｈｅｎｇ").items] == ["C2", "C3"]  # full-width
    assert [e.id for e in store.search("C1").items] == ["C1"]
    assert [e.id for e in store.search("ng", limit=1, offset=1).items] == ["C3"]
    assert store.search("ng", limit=1).total == 2
    assert [e.id for e in store.search("li", kind=EntityKind.PERSON).items] == ["P2"]
    assert store.search("   ").total == 0
    assert store.search("no such name").items == []


def test_get_many_and_labels(store: GraphStore) -> None:
    store.write(small_graph())
    assert set(store.get_many(["C1", "P1", "nope"])) == {"C1", "P1"}
    assert {k: v.value for k, v in store.labels_of(["A1", "S1", "x"]).items()} == {
        "A1": "Address",
        "S1": "Sanction",
    }


def test_large_batches_are_chunked(store: GraphStore) -> None:
    companies: list[Node] = [Company(f"B{i:05d}", f"Bulk {i}") for i in range(12_000)]
    links: list[Link] = [Ownership(f"B{i:05d}", f"B{i + 1:05d}", 100.0) for i in range(11_999)]
    store.write(WriteBatch(nodes=companies, links=links))
    assert store.stats().nodes["Company"] == 12_000
    assert store.stats().links["OWNS"] == 11_999


def test_clear_empties_the_store(store: GraphStore) -> None:
    store.write(small_graph())
    store.clear()
    assert sum(store.stats().nodes.values()) == 0
    assert sum(store.stats().links.values()) == 0


def test_cases_are_stored_listed_and_filtered(store: GraphStore) -> None:
    store.write(small_graph())
    objection = Case(
        "K1",
        CaseKind.OBJECTION,
        "S1",
        filed=D(2026, 1, 5),
        due=D(2026, 1, 25),
        reason="the fine was paid",
        evidence='{"receipt": "R-1"}',
    )
    review = Case("K2", CaseKind.MARKET_BAN_REVIEW, "C1", status=CaseStatus.REJECTED, version=2)
    store.write(WriteBatch(nodes=[objection, review]), expect={"K1": 0, "K2": 0})
    assert store.get("K1") == objection
    assert [c.id for c in store.cases()] == ["K1", "K2"]
    assert store.cases(subject_ids=["S1"]) == [objection]
    assert store.cases(kind=CaseKind.MARKET_BAN_REVIEW) == [review]
    assert store.cases(status=CaseStatus.OPEN) == [objection]
    assert store.stats().nodes["Case"] == 2
    # Cases are not part of the graph's neighbourhoods.
    assert not set(store.neighbourhood(["K1"], steps=[], hops=1, as_of=None).nodes)
    with pytest.raises(InvalidInput, match="not in the graph"):
        store.write(WriteBatch(nodes=[Case("K3", CaseKind.OBJECTION, "NO-SUCH-RECORD")]))


def test_a_decision_on_a_stale_version_is_a_conflict_and_writes_nothing(
    store: GraphStore,
) -> None:
    store.write(small_graph())
    store.write(WriteBatch(nodes=[Case("K1", CaseKind.OBJECTION, "S1")]), expect={"K1": 0})
    upheld = Case("K1", CaseKind.OBJECTION, "S1", status=CaseStatus.UPHELD, version=2)
    revoked = Sanction(
        "S1",
        "C1",
        SanctionList.SERIOUS_DISHONEST,
        status=SanctionStatus.REVOKED,
        status_date=D(2026, 2, 1),
    )
    store.write(WriteBatch(nodes=[upheld, revoked]), expect={"K1": 1})
    rejected = Case("K1", CaseKind.OBJECTION, "S1", status=CaseStatus.REJECTED, version=2)
    with pytest.raises(Conflict, match="version 1, it is now 2"):
        store.write(WriteBatch(nodes=[rejected]), expect={"K1": 1})
    assert store.get("K1") == upheld
    with pytest.raises(Conflict):
        store.write(WriteBatch(nodes=[Case("K1", CaseKind.OBJECTION, "S1")]), expect={"K1": 0})


def test_concurrent_deciders_one_wins(store: GraphStore) -> None:
    from concurrent.futures import ThreadPoolExecutor

    store.write(small_graph())
    store.write(WriteBatch(nodes=[Case("K1", CaseKind.OBJECTION, "S1")]), expect={"K1": 0})

    def decide(status: CaseStatus) -> str:
        try:
            store.write(
                WriteBatch(nodes=[Case("K1", CaseKind.OBJECTION, "S1", status=status, version=2)]),
                expect={"K1": 1},
            )
        except Conflict:
            return "conflict"
        return "ok"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(decide, [CaseStatus.UPHELD, CaseStatus.REJECTED] * 4))
    assert outcomes.count("ok") == 1
    assert outcomes.count("conflict") == 7
    case = store.get("K1")
    assert isinstance(case, Case) and case.version == 2


def test_sanctions_live_at_keeps_only_records_that_may_be_in_force(store: GraphStore) -> None:
    store.write(small_graph())
    day = D(2025, 6, 1)
    records = [
        Sanction("L1", "C1", SanctionList.ABNORMAL_OPERATION, start=D(2025, 6, 1)),
        Sanction("L2", "C1", SanctionList.ABNORMAL_OPERATION, start=D(2025, 6, 2)),
        Sanction("L3", "C1", SanctionList.ABNORMAL_OPERATION, decided=D(2025, 1, 1)),
        Sanction("L4", "C1", SanctionList.ABNORMAL_OPERATION, end=D(2025, 6, 1)),
        Sanction("L5", "C1", SanctionList.ABNORMAL_OPERATION, end=D(2025, 6, 2)),
        Sanction(
            "L6",
            "C1",
            SanctionList.ADMIN_PENALTY,
            status=SanctionStatus.REPAIRED,
            status_date=D(2025, 6, 2),
        ),
        Sanction(
            "L7",
            "C1",
            SanctionList.ADMIN_PENALTY,
            status=SanctionStatus.REVOKED,
            status_date=D(2025, 6, 1),
        ),
        Sanction("L8", "P1", SanctionList.ADMIN_PENALTY),
    ]
    store.write(WriteBatch(nodes=list(records)))
    live = [s.id for s in store.sanctions(live_at=day)]
    assert live == ["L1", "L3", "L5", "L6", "L8", "S1"]
    assert [s.id for s in store.sanctions(["P1"], live_at=day)] == ["L8"]
    assert all(may_be_live(s, day) == (s.id in live) for s in store.sanctions())


def test_node_ids_page_through_one_label_in_id_order(store: GraphStore) -> None:
    companies = [Company(f"C{i:03}", f"Company {i}") for i in range(25)]
    others: list[Node] = [
        Person("C010x", "a person between two companies"),
        Address("C005x", "an address"),
    ]
    store.write(WriteBatch(nodes=[*reversed(companies), *others]))
    assert store.node_ids(NodeLabel.COMPANY, limit=3) == ["C000", "C001", "C002"]
    assert store.node_ids(NodeLabel.COMPANY, after="C009", limit=2) == ["C010", "C011"]
    assert store.node_ids(NodeLabel.COMPANY, after="C024") == []
    pages = list(scan_ids(store, NodeLabel.COMPANY, page=10))
    assert [len(p) for p in pages] == [10, 10, 5]
    assert [i for p in pages for i in p] == [c.id for c in companies]
    assert store.node_ids(NodeLabel.PERSON) == ["C010x"]
    # a write between two pages is seen by the next page
    store.write(WriteBatch(nodes=[Company("C999", "late")]))
    assert store.node_ids(NodeLabel.COMPANY, after="C024") == ["C999"]
