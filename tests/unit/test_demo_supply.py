"""The demo's dairy chain (loaders/demo/README.md "Supply network and recall"): valid GTIN-14
ids, a bundle the loader takes whole, and the recall reaching exactly the receivers the README
names."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

import loaders
from graph.memory import MemoryStore
from graph.rules.schema import load_rules
from loaders.bundle import load_bundle
from loaders.interop.epcis import check_digit
from queries.recalls import recall_list
from queries.trace import downstream

DEMO = Path(loaders.__file__).parent / "demo"
FARM = "91150123MAE3PWQ39K"
PROCESSOR = "91150105MA0LCCBX4F"
DISTRIBUTOR = "91110115MAHUN17P2L"
RETAILER = "91110105MAB3LWF66X"
OTHER_RETAILER = "91120104MAF8BNKT9W"
UNSAFE = "06938127050018:RM20261109"


def _rows(name: str) -> list[dict[str, str]]:
    with (DEMO / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_products_are_gtin14_and_batches_are_their_lots() -> None:
    products = {row["id"]: row for row in _rows("products.csv")}
    for gtin in products:
        assert len(gtin) == 14 and gtin.isdigit() and check_digit(gtin[:13]) == gtin[13], gtin
    companies = {row["id"] for row in _rows("companies.csv")}
    assert {row["brand_owner_id"] for row in products.values()} <= companies
    for row in _rows("batches.csv"):
        assert row["id"] == f"{row['product_id']}:{row['lot']}" and row["product_id"] in products
    flagged = [row for row in _rows("sanctions.csv") if row["batch_id"]]
    assert [(r["id"], r["list"], r["subject_id"], r["batch_id"]) for r in flagged] == [
        ("S0020", "PRODUCT_SAFETY_VIOLATION", FARM, UNSAFE)
    ]


@pytest.fixture(scope="module")
def store() -> MemoryStore:
    loaded = MemoryStore()
    result = load_bundle(loaded, DEMO, id_hash_salt="test")
    assert result.applied and not result.rejects
    return loaded


def test_the_recall_reaches_the_processor_distributor_and_one_retailer(
    store: MemoryStore,
) -> None:
    found = recall_list(store, date(2026, 11, 28), load_rules(None))
    assert {(n.entity_id, n.source.id) for n in found.notices} == {
        (PROCESSOR, "S0020"),
        (DISTRIBUTOR, "S0020"),
        (RETAILER, "S0020"),
    }
    # the other retailer had only yoghurt made from the clean milk lot
    assert OTHER_RETAILER not in {n.entity_id for n in found.notices}
    # before the record starts there is no notice, though the goods had moved
    assert recall_list(store, date(2026, 11, 23), load_rules(None)).notices == ()
    traced = downstream(store, UNSAFE, date(2026, 11, 23))
    assert {r.company_id for r in traced.receivers} == {PROCESSOR, DISTRIBUTOR, RETAILER}
