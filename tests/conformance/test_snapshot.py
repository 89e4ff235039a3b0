"""Parquet snapshots carry every kind a store holds, products, batches, supply links and a
record's ``batch_id`` included, on both stores (docs/batch.md "The snapshot")."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from graph.errors import InvalidInput
from graph.memory import MemoryStore
from graph.model import (
    Address,
    Company,
    LinkType,
    NodeLabel,
    Ownership,
    Person,
    Registration,
    Sanction,
    Shipped,
)
from graph.neo4j.bulk_import import CsvImportWriter
from graph.neo4j.store import Neo4jStore
from graph.store import GraphStore, WriteBatch
from loaders.bundle import load_bundle
from loaders.parquet import MANIFEST, export_parquet, link_table, load_parquet, node_table
from tests.conformance.test_supply import network

DEMO = Path(__file__).resolve().parents[2] / "loaders" / "demo"


def _scan(store: GraphStore) -> list[object]:
    return [item for batch in store.scan() for item in batch]


def _fill(store: GraphStore) -> None:
    store.write(network())
    store.write(
        WriteBatch(
            nodes=[Person("p1", "Li"), Address("a1", "1 Road")],
            links=[Ownership("p1", "F", 60.0), Registration("F", "a1")],
        )
    )


def test_a_snapshot_with_supply_loads_back_into_the_same_store(
    store: GraphStore, tmp_path: Path
) -> None:
    _fill(store)
    before = _scan(store)
    assert any(isinstance(i, Sanction) and i.batch_id == "g:1" for i in before)
    counts = export_parquet(store, tmp_path / "snap")
    assert (counts["Product"], counts["Batch"]) == (2, 2)
    assert (counts["PRODUCED"], counts["SHIPPED"], counts["TRANSFORMED_INTO"]) == (1, 3, 1)
    fresh: GraphStore = store
    if isinstance(store, Neo4jStore):
        store.clear()  # Community has one database: load back into it, emptied
    else:
        fresh = MemoryStore()
    loaded = load_parquet(fresh, tmp_path / "snap", batch_size=2)
    assert loaded == counts
    assert _scan(fresh) == before
    # Loading again changes nothing (idempotent, like every load).
    load_parquet(fresh, tmp_path / "snap")
    assert _scan(fresh) == before


def test_a_snapshot_from_before_the_supply_tables_still_loads(
    store: GraphStore, tmp_path: Path
) -> None:
    source = MemoryStore()
    source.write(
        WriteBatch(
            nodes=[Company("c1", "Acme"), Sanction("s1", "c1", "PROVINCIAL_X")],
            links=[],
        )
    )
    snap = tmp_path / "snap"
    export_parquet(source, snap)
    # Make it what an older creditnet wrote: no supply tables, no batch_id column.
    for kind in (NodeLabel.PRODUCT, NodeLabel.BATCH):
        (snap / node_table(kind)).unlink()
    for link_type in (LinkType.PRODUCED, LinkType.SHIPPED, LinkType.TRANSFORMED_INTO):
        (snap / link_table(link_type)).unlink()
    sanctions = snap / node_table(NodeLabel.SANCTION)
    pq.write_table(pq.read_table(sanctions).drop_columns(["batch_id"]), sanctions)
    manifest = json.loads((snap / MANIFEST).read_text(encoding="utf-8"))
    for name in ("Product", "Batch", "PRODUCED", "SHIPPED", "TRANSFORMED_INTO"):
        del manifest["rows"][name]
    (snap / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")

    counts = load_parquet(store, snap)
    assert counts["Sanction"] == 1 and counts["SHIPPED"] == 0
    assert _scan(store) == _scan(source)


def test_a_listed_supply_table_that_is_missing_is_refused(tmp_path: Path) -> None:
    source = MemoryStore()
    _fill(source)
    export_parquet(source, tmp_path / "snap")
    (tmp_path / "snap" / link_table(LinkType.SHIPPED)).unlink()
    with pytest.raises(InvalidInput, match=r"SHIPPED\.parquet: missing from the snapshot"):
        load_parquet(MemoryStore(), tmp_path / "snap")


def test_a_shipment_the_sender_did_not_hold_is_refused_like_in_a_bundle(
    store: GraphStore, tmp_path: Path
) -> None:
    source = MemoryStore()
    _fill(source)
    # R never held g:1: the bundle loader rejects this row; the store's write path alone would
    # not, so the snapshot load must check it too.
    source.write(WriteBatch(links=[Shipped("g:1", "S", "R", "bad", date(2024, 3, 1))]))
    export_parquet(source, tmp_path / "snap")
    with pytest.raises(InvalidInput, match=r"1 supply link.*SHIPPED\|g:1\|S\|bad: from_id R"):
        load_parquet(store, tmp_path / "snap")
    assert not [i for i in _scan(store) if isinstance(i, Shipped)]


def test_the_demo_snapshot_gives_the_import_rows_its_bundle_gives(tmp_path: Path) -> None:
    online = MemoryStore()
    assert load_bundle(online, DEMO, id_hash_salt="s").applied
    export_parquet(online, tmp_path / "snap")
    from_bundle = CsvImportWriter(tmp_path / "a")
    load_bundle(from_bundle, DEMO, id_hash_salt="s")  # type: ignore[arg-type]
    from_snapshot = CsvImportWriter(tmp_path / "b")
    load_parquet(from_snapshot, tmp_path / "snap")
    bundle_counts, snapshot_counts = from_bundle.close().counts, from_snapshot.close().counts
    assert snapshot_counts == bundle_counts
    assert all(snapshot_counts.get(k, 0) > 0 for k in ("Batch", "SHIPPED", "TRANSFORMED_INTO"))
