"""Traceability on both stores: the supply closure, tracing, the supply bundle files and their
rejects (spec/TRACEABILITY.md)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.errors import InvalidInput, NotFound
from graph.memory import MemoryStore
from graph.model import (
    Batch,
    Company,
    Direction,
    Node,
    Produced,
    Product,
    Sanction,
    Shipped,
    TransformedInto,
)
from graph.store import GraphStore, WriteBatch
from loaders.bundle import load_bundle, load_supply_rows
from queries.trace import downstream, upstream

D = date


def network() -> WriteBatch:
    """Farm F makes g:1, ships it to dairy P, which makes h:1 of it and ships that to shop R
    (on 2024-02-01) and to shop S (on 2024-04-01)."""
    return WriteBatch(
        nodes=[
            Company("F", "Farm"),
            Company("P", "Dairy"),
            Company("R", "Shop"),
            Company("S", "Late shop"),
            Product("g", "Milk"),
            Product("h", "Cheese"),
            Batch("g:1", "g", "1", D(2024, 1, 1)),
            Batch("h:1", "h", "1"),
            Sanction("s1", "F", "PRODUCT_SAFETY_VIOLATION", batch_id="g:1"),
        ],
        links=[
            Produced("F", "g:1", "e1", D(2024, 1, 1)),
            Shipped("g:1", "P", "F", "e2", D(2024, 1, 5), 100.0),
            TransformedInto("g:1", "h:1", "e3", D(2024, 1, 6), by_id="P"),
            Shipped("h:1", "R", "P", "e4", D(2024, 2, 1), 5.0),
            Shipped("h:1", "S", "P", "e5", D(2024, 4, 1), 2.0),
        ],
    )


def test_downstream_goes_through_transformations_and_respects_the_date(
    store: GraphStore,
) -> None:
    store.write(network())
    found = downstream(store, "g:1", D(2024, 3, 1))
    assert [(r.company_id, r.batch_id, r.date, r.quantity) for r in found.receivers] == [
        ("P", "g:1", D(2024, 1, 5), 100.0),
        ("R", "h:1", D(2024, 2, 1), 5.0),
    ]
    # S receives only on 2024-04-01: not yet a receiver on 2024-03-01.
    shop = found.receivers[1]
    assert shop.path.nodes == ("g:1", "h:1", "R")
    assert [(link.type.value, link.start, link.quantity) for link in shop.path.links] == [
        ("TRANSFORMED_INTO", D(2024, 1, 6), None),
        ("SHIPPED", D(2024, 2, 1), 5.0),
    ]
    later = downstream(store, "g:1", D(2024, 5, 1))
    assert [r.company_id for r in later.receivers] == ["P", "R", "S"]
    assert downstream(store, "g:1", D(2024, 1, 4)).receivers == ()


def test_upstream_gives_producers_shippers_and_paths(store: GraphStore) -> None:
    store.write(network())
    found = upstream(store, "h:1", D(2024, 3, 1))
    assert [(b.batch_id, b.producer_id, b.shippers) for b in found.batches] == [
        ("h:1", "P", ("P",)),
        ("g:1", "F", ("F",)),
    ]
    assert found.batches[1].path.nodes == ("g:1", "h:1")
    # Before its PRODUCED date a batch has no producer.
    early = upstream(store, "g:1", D(2023, 12, 31))
    assert [(b.batch_id, b.producer_id, b.shippers) for b in early.batches] == [("g:1", None, ())]
    with pytest.raises(NotFound):
        upstream(store, "F", D(2024, 3, 1))


def test_supply_closures_agree_and_carry_records_and_products(store: GraphStore) -> None:
    store.write(network())
    down = store.supply(["g:1"], direction=Direction.OUT, as_of=D(2024, 3, 1))
    assert sorted(down.batches) == ["g:1", "h:1"]
    assert sorted(down.links) == [
        "SHIPPED|g:1|P|e2",
        "SHIPPED|h:1|R|e4",
        "TRANSFORMED_INTO|g:1|h:1|e3",
    ]
    assert sorted(down.sanctions) == ["s1"] and sorted(down.products) == ["g", "h"]
    # A company seed upstream stands for what it received.
    up = store.supply(["R"], direction=Direction.IN, as_of=D(2024, 3, 1))
    assert sorted(up.batches) == ["g:1", "h:1"]
    assert "PRODUCED|F|g:1|e1" in up.links and "SHIPPED|h:1|R|e4" in up.links
    assert store.supply(["S"], direction=Direction.IN, as_of=D(2024, 3, 1)).batches == {}
    held = store.batches_of(["F", "P", "R", "nobody"], as_of=D(2024, 3, 1))
    assert {k: [b.id for b in v] for k, v in held.items()} == {
        "F": ["g:1"],
        "P": ["g:1", "h:1"],
        "R": ["h:1"],
        "nobody": [],
    }
    stats = store.stats()
    assert stats.nodes["Batch"] == 2 and stats.nodes["Product"] == 2
    assert stats.links["SHIPPED"] == 3 and stats.links["TRANSFORMED_INTO"] == 1
    scanned = [item for chunk in store.scan() for item in chunk]
    assert sum(isinstance(item, Shipped) for item in scanned) == 3
    assert store.get("s1") == network().nodes[-1]


def test_links_must_name_nodes_of_the_right_labels(store: GraphStore) -> None:
    store.write(WriteBatch(nodes=[Company("F", "Farm"), Product("g", "Milk")]))
    with pytest.raises(InvalidInput):
        store.write(WriteBatch(nodes=[Batch("x:1", "F", "1")]))
    with pytest.raises(InvalidInput):
        store.write(WriteBatch(links=[Produced("F", "g", "e1", D(2024, 1, 1))]))
    with pytest.raises(InvalidInput):
        store.write(WriteBatch(nodes=[Sanction("s", "F", "ADMIN_PENALTY", batch_id="nope")]))


def _bundle(folder: Path, **files: str) -> Path:
    base = {
        "companies.csv": "id,name\nF,Farm\nP,Dairy\nR,Shop\n",
        "products.csv": "id,name,category,brand_owner_id\ng,Milk,food,F\nh,Cheese,food,P\n",
        "batches.csv": "id,product_id,lot,produced\ng:1,g,1,2024-01-01\nh:1,h,1,2024-01-06\n",
        "produced.csv": "event_id,company_id,batch_id,date\ne1,F,g:1,2024-01-01\n",
        "shipments.csv": "event_id,batch_id,from_id,to_id,date,quantity\n"
        "e2,g:1,F,P,2024-01-05,100\ne4,h:1,P,R,2024-02-01,5\n",
        "transformations.csv": "event_id,input_batch_id,output_batch_id,date,by_id\n"
        "e3,g:1,h:1,2024-01-06,P\n",
        "sanctions.csv": "id,subject_id,list,decided,batch_id\ns1,F,ADMIN_PENALTY,2024-03-01,g:1\n",
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in {**base, **files}.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_the_supply_bundle_loads_idempotently(store: GraphStore, tmp_path: Path) -> None:
    bundle = _bundle(tmp_path / "b")
    result = load_bundle(store, bundle)
    assert result.applied and not result.rejects, result.rejects
    first = store.supply(["g:1"], direction=Direction.OUT, as_of=None).canonical()
    again = load_bundle(store, bundle)
    assert again.applied and not again.rejects, again.rejects
    assert store.supply(["g:1"], direction=Direction.OUT, as_of=None).canonical() == first
    assert [r.company_id for r in downstream(store, "g:1", D(2024, 3, 1)).receivers] == ["P", "R"]
    sanction = store.get("s1")
    assert isinstance(sanction, Sanction) and sanction.batch_id == "g:1"


@pytest.mark.parametrize(
    ("files", "file", "column"),
    [
        # The dairy ships cheese before it made it.
        (
            {
                "shipments.csv": "event_id,batch_id,from_id,to_id,date\n"
                "e2,g:1,F,P,2024-01-05\ne4,h:1,P,R,2024-01-02\n"
            },
            "shipments.csv",
            "from_id",
        ),
        # The shop ships what it never held.
        (
            {
                "shipments.csv": "event_id,batch_id,from_id,to_id,date\n"
                "e2,g:1,F,P,2024-01-05\ne9,g:1,R,F,2024-01-07\n"
            },
            "shipments.csv",
            "from_id",
        ),
        (
            {
                "transformations.csv": "event_id,input_batch_id,output_batch_id,date,by_id\n"
                "e3,g:1,h:1,2024-01-06,P\ne8,h:1,g:1,2024-01-07,P\n"
            },
            "transformations.csv",
            "output_batch_id",
        ),
        ({"batches.csv": "id,product_id,lot\ng:1,g,1\nh:1,nope,1\n"}, "batches.csv", "product_id"),
        (
            {"produced.csv": "event_id,company_id,batch_id,date\ne1,F,g:9,2024-01-01\n"},
            "produced.csv",
            "batch_id",
        ),
        (
            {"produced.csv": "event_id,company_id,batch_id,date\ne1,Z,g:1,2024-01-01\n"},
            "produced.csv",
            "company_id",
        ),
        (
            {"produced.csv": "event_id,company_id,batch_id,date\ne1,F,g:1,01/01/2024\n"},
            "produced.csv",
            "date",
        ),
        (
            {
                "shipments.csv": "event_id,batch_id,from_id,to_id,date,quantity\n"
                "e2,g:1,F,P,2024-01-05,-3\n"
            },
            "shipments.csv",
            "quantity",
        ),
        # One event id, two dates.
        (
            {
                "shipments.csv": "event_id,batch_id,from_id,to_id,date\n"
                "e2,g:1,F,P,2024-01-05\ne2,h:1,P,R,2024-02-01\n"
            },
            "shipments.csv",
            "event_id",
        ),
        (
            {"sanctions.csv": "id,subject_id,list,batch_id\ns1,F,ADMIN_PENALTY,g:404\n"},
            "sanctions.csv",
            "batch_id",
        ),
    ],
)
def test_bad_movements_are_rejected_and_nothing_is_written(
    store: GraphStore, tmp_path: Path, files: dict[str, str], file: str, column: str
) -> None:
    result = load_bundle(store, _bundle(tmp_path / "b", **files))
    assert not result.applied
    assert (file, column) in {(r.file, r.column) for r in result.rejects}, result.rejects
    assert store.stats().nodes["Batch"] == 0


def test_a_cycle_and_a_changed_event_are_rejected_against_the_store(
    store: GraphStore, tmp_path: Path
) -> None:
    assert load_bundle(store, _bundle(tmp_path / "b")).applied
    rows = {
        "transformations": [
            {
                "event_id": "e8",
                "input_batch_id": "h:1",
                "output_batch_id": "g:1",
                "date": "2024-01-09",
            }
        ],
        "shipments": [
            {
                "event_id": "e2",
                "batch_id": "g:1",
                "from_id": "F",
                "to_id": "P",
                "date": "2024-01-06",
            }
        ],
    }
    result = load_supply_rows(store, rows, source=tmp_path / "doc.json")
    assert not result.applied
    assert {(r.file, r.column, r.line) for r in result.rejects} == {
        ("transformations.csv", "output_batch_id", 2),
        ("shipments.csv", "event_id", 2),
    }
    # A shipment the stored movements make valid loads through the same route.
    ok = {
        "shipments": [
            {
                "event_id": "e7",
                "batch_id": "h:1",
                "from_id": "R",
                "to_id": "F",
                "date": "2024-03-01",
            }
        ]
    }
    assert load_supply_rows(store, ok, source=tmp_path / "doc.json").applied


# -- properties over random supply DAGs ------------------------------------------------------------

_COMPANIES = ("c0", "c1", "c2", "c3")


@st.composite
def dags(draw: st.DrawFn) -> WriteBatch:
    """A random network: batches b0..bn, transformations only from lower to higher numbers
    (so no cycle), shipments between random companies on random days."""
    size = draw(st.integers(2, 8))
    batches = [f"b{i}" for i in range(size)]
    links: list[Produced | Shipped | TransformedInto] = []
    for index, batch in enumerate(batches):
        links.append(Produced(_COMPANIES[index % 4], batch, f"p{index}", D(2024, 1, 1)))
    pairs = draw(
        st.lists(st.tuples(st.integers(0, size - 1), st.integers(0, size - 1)), max_size=12)
    )
    for number, (a, b) in enumerate(pairs):
        if a < b:
            day = D(2024, 1, draw(st.integers(1, 28)))
            links.append(TransformedInto(batches[a], batches[b], f"t{number}", day))
    ships = draw(
        st.lists(
            st.tuples(st.integers(0, size - 1), st.sampled_from(_COMPANIES), st.integers(1, 28)),
            max_size=12,
        )
    )
    for number, (a, company, when) in enumerate(ships):
        links.append(Shipped(batches[a], company, "c0", f"s{number}", D(2024, 2, when)))
    nodes: list[Node] = [Company(c, c) for c in _COMPANIES]
    nodes += [Product("g", "G"), *(Batch(b, "g", b) for b in batches)]
    return WriteBatch(nodes=nodes, links=list(links))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(network=dags(), early=st.integers(1, 28), late=st.integers(0, 40))
def test_downstream_grows_with_time_and_mirrors_upstream(
    network: WriteBatch, early: int, late: int
) -> None:
    store = MemoryStore()
    store.write(network)
    first = D(2024, 2, early)
    second = first + timedelta(days=late)
    batch_ids = [n.id for n in network.nodes if isinstance(n, Batch)]
    for x in batch_ids:
        before = {(r.company_id, r.batch_id, r.date) for r in downstream(store, x, first).receivers}
        after = {(r.company_id, r.batch_id, r.date) for r in downstream(store, x, second).receivers}
        assert before <= after
        below = set(downstream(store, x, second).supply.batches)
        for y in batch_ids:
            above = {b.batch_id for b in upstream(store, y, second).batches}
            assert (y in below) == (x in above)
