"""EPCIS 2.0 load and export on both stores (spec/TRACEABILITY.md, EPCIS 2.0)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from graph.errors import InvalidInput
from graph.model import Company, LinkType, NodeLabel
from graph.store import GraphStore, WriteBatch
from loaders.bundle import load_bundle
from loaders.interop import load_interop
from loaders.interop.epcis import read_party_map
from loaders.interop.epcis_export import epcis_document, export_epcis

HERE = Path(__file__).resolve().parent.parent / "fixtures" / "epcis"
DOCUMENT = HERE / "milk-to-cheese.jsonld"
SUPPLY: list[NodeLabel | LinkType] = [
    NodeLabel.PRODUCT,
    NodeLabel.BATCH,
    LinkType.PRODUCED,
    LinkType.SHIPPED,
    LinkType.TRANSFORMED_INTO,
]


def _companies(store: GraphStore, **identifiers: str) -> None:
    names = {"FARM": "Green Pasture Farm", "DAIRY": "Hilltop Dairy Co", "SHOP": "Corner Grocery"}
    store.write(
        WriteBatch(
            nodes=[
                Company(
                    ident,
                    name,
                    identifiers=(f"GLN:{identifiers[ident]}",) if ident in identifiers else (),
                )
                for ident, name in names.items()
            ]
        )
    )


def _supply(store: GraphStore) -> list[Any]:
    return [item for chunk in store.scan(SUPPLY) for item in chunk]


def _load(store: GraphStore, path: Path = DOCUMENT, **kwargs: Any) -> Any:
    party_map = read_party_map(HERE / "party-map.csv")
    return load_interop(store, path, party_map=party_map, **kwargs)


def test_epcis_gives_the_same_graph_as_the_bundle(store: GraphStore, tmp_path: Path) -> None:
    bundle = load_bundle(store, HERE / "bundle")
    assert bundle.rejects == [] and bundle.applied
    expected = _supply(store)
    assert len(expected) == 2 + 2 + 1 + 2 + 1
    store.clear()
    _companies(store)
    result = _load(store)
    assert result.format == "epcis" and result.rejects == [] and result.applied
    assert result.skipped == {"epcis:ObjectEvent receiving": 1}
    assert _supply(store) == expected
    again = _load(store)  # idempotent: a second load changes nothing
    assert again.applied and _supply(store) == expected


def test_schema_failure_loads_nothing(store: GraphStore, tmp_path: Path) -> None:
    _companies(store)
    document = json.loads(DOCUMENT.read_text())
    del document["epcisBody"]["eventList"][3]["eventTime"]
    bad = tmp_path / "bad.jsonld"
    bad.write_text(json.dumps(document))
    result = _load(store, bad, allow_rejects=True)
    assert not result.applied
    (reject,) = result.rejects
    assert reject.line == 4 and "eventTime" in reject.reason and "schema" in reject.reason
    assert _supply(store) == []


def test_unmapped_party_is_rejected_with_its_gln(store: GraphStore) -> None:
    _companies(store)
    result = load_interop(store, DOCUMENT, party_map={"0614141000005": "FARM"})
    assert not result.applied and _supply(store) == []
    reasons = {r.line: r.reason for r in result.rejects}
    assert set(reasons) == {2, 3, 4}
    assert "GLN 4012345000009" in reasons[3]


def test_parties_by_stored_gln_identifier(store: GraphStore) -> None:
    _companies(store, FARM="0614141000005", DAIRY="4012345000009", SHOP="0614141000012")
    result = load_interop(store, DOCUMENT)
    assert result.rejects == [] and result.applied
    assert result.written["shipments.csv"] == 2


def test_shipping_what_was_not_held_is_the_bundles_reject(
    store: GraphStore, tmp_path: Path
) -> None:
    _companies(store)
    document = json.loads(DOCUMENT.read_text())
    events = document["epcisBody"]["eventList"]
    # The dairy ships the cheese before it made it.
    events[3]["eventTime"] = "2024-03-04T10:00:00.000+08:00"
    moved = tmp_path / "early.jsonld"
    moved.write_text(json.dumps(document))
    result = _load(store, moved)
    assert not result.applied and _supply(store) == []
    (reject,) = result.rejects
    assert reject.line == 4 and reject.column.startswith("shipments.")


def test_export_then_load_gives_the_same_movements(store: GraphStore, tmp_path: Path) -> None:
    load_bundle(store, HERE / "bundle")
    expected = _supply(store)
    out = tmp_path / "out.jsonld"
    counts = export_epcis(store, out)
    assert counts == {"PRODUCED": 1, "SHIPPED": 2, "TRANSFORMED_INTO": 1}
    store.clear()
    _companies(store)
    result = load_interop(store, out)  # no GLNs: creditnet party URIs, read back as ids
    assert result.rejects == [] and result.applied
    assert _supply(store) == expected


def test_export_writes_glns_as_digital_link_parties(store: GraphStore) -> None:
    _companies(store, FARM="0614141000005", DAIRY="4012345000009")
    _load(store)
    document, _ = epcis_document(store)
    shipping = [e for e in document["epcisBody"]["eventList"] if e.get("bizStep") == "shipping"]
    sources = {e["sourceList"][0]["source"] for e in shipping}
    assert sources == {
        "https://id.gs1.org/417/0614141000005",
        "https://id.gs1.org/417/4012345000009",
    }
    to_shop = next(e for e in shipping if "SHOP" in e["destinationList"][0]["destination"])
    assert to_shop["destinationList"][0]["type"] != "owning_party"


def test_a_non_gtin_product_is_left_out_of_the_export(store: GraphStore, tmp_path: Path) -> None:
    folder = tmp_path / "b"
    folder.mkdir()
    (folder / "companies.csv").write_text("id,name\nF,Farm\n")
    (folder / "products.csv").write_text("id,name\nP-1,Apples\n")
    (folder / "batches.csv").write_text("id,product_id,lot\nP-1:7,P-1,7\n")
    (folder / "produced.csv").write_text(
        "event_id,company_id,batch_id,date\nE1,F,P-1:7,2024-01-02\n"
    )
    assert load_bundle(store, folder).applied
    counts = export_epcis(store, tmp_path / "out.json")
    assert counts == {"left out (product not a GTIN-14)": 1}


def test_not_a_json_document(store: GraphStore, tmp_path: Path) -> None:
    bad = tmp_path / "x.json"
    bad.write_text('{"type": "EPCISDocument", ')
    with pytest.raises(InvalidInput, match="not a JSON document"):
        load_interop(store, bad, "epcis")
