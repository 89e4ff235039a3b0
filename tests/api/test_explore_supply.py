"""The explorer's neighbourhoods with goods (api/graphql/explore_supply.py) on both stores, over
the demo's dairy chain (loaders/demo/README.md "Supply network and recall")."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from api.auth import Role
from api.cli.loading import load_demo
from api.settings import Settings
from graph.store import GraphStore
from tests.api.conftest import Api

FARM = "91150123MAE3PWQ39K"
PROCESSOR = "91150105MA0LCCBX4F"
DISTRIBUTOR = "91110115MAHUN17P2L"
RETAILER = "91110105MAB3LWF66X"
MILK = "06938127050018"
UNSAFE = f"{MILK}:RM20261109"
CLEAN = f"{MILK}:RM20261110"
YOGHURT_A = "06938127051022:YG20261111A"
YOGHURT_B = "06938127051022:YG20261111B"

NEIGHBOURHOOD = """
query N($id: ID!, $asOf: Date, $first: Int, $after: String) {
  neighbourhood(id: $id, asOf: $asOf, first: $first, after: $after) {
    center { id kind label sanctioned detail start end }
    nodes { id kind label sanctioned detail start end }
    links { id type source target relation start quantity fromId byId eventId }
    totalCount hasNextPage endCursor more { relation count }
  }
}
"""


@pytest.fixture
def clock() -> list[date]:
    return [date(2026, 11, 28)]


@pytest.fixture
def demo(store: GraphStore, tmp_path: Path) -> GraphStore:
    result = load_demo(store, Settings(data_dir=tmp_path))
    assert not result.rejects
    return store


def _page(api: Api, variables: dict[str, Any]) -> Any:
    body = api.query(NEIGHBOURHOOD, variables, Role.INVESTIGATOR)
    assert "errors" not in body, body
    return body["data"]["neighbourhood"]


def _movements(page: Any) -> set[tuple[str, str, str, str, str | None]]:
    return {
        (link["type"], link["source"], link["target"], link["relation"], link["start"])
        for link in page["links"]
        if link["type"] in {"PRODUCED", "SHIPPED", "TRANSFORMED_INTO", "PRODUCT_OF"}
    }


def test_the_processor_shows_what_it_received_made_and_sent(demo: GraphStore, api: Api) -> None:
    page = _page(api, {"id": PROCESSOR, "asOf": "2026-11-28", "first": 100})
    assert _movements(page) == {
        ("SHIPPED", UNSAFE, PROCESSOR, "batches received", "2026-11-09"),
        ("SHIPPED", CLEAN, PROCESSOR, "batches received", "2026-11-10"),
        ("TRANSFORMED_INTO", UNSAFE, YOGHURT_A, "transformations", "2026-11-11"),
        ("TRANSFORMED_INTO", CLEAN, YOGHURT_A, "transformations", "2026-11-11"),
        ("TRANSFORMED_INTO", CLEAN, YOGHURT_B, "transformations", "2026-11-11"),
        ("SHIPPED", YOGHURT_A, DISTRIBUTOR, "shipments sent", "2026-11-13"),
        ("SHIPPED", YOGHURT_B, DISTRIBUTOR, "shipments sent", "2026-11-13"),
    }
    nodes = {n["id"]: n for n in page["nodes"]}
    assert {nodes[b]["kind"] for b in (UNSAFE, CLEAN, YOGHURT_A, YOGHURT_B)} == {"BATCH"}
    assert nodes[DISTRIBUTOR]["kind"] == "COMPANY"
    # the batch a product-safety record in force names is marked; the clean one is not
    assert nodes[UNSAFE]["sanctioned"] and not nodes[CLEAN]["sanctioned"]
    assert nodes[YOGHURT_A]["label"] == "YG20261111A"
    assert (nodes[YOGHURT_A]["start"], nodes[YOGHURT_A]["end"]) == ("2026-11-11", "2026-12-02")
    sent = next(link for link in page["links"] if link["target"] == DISTRIBUTOR)
    assert sent["fromId"] == PROCESSOR and sent["quantity"] in (12000.0, 6000.0)
    made = next(link for link in page["links"] if link["type"] == "TRANSFORMED_INTO")
    assert made["byId"] == PROCESSOR and made["eventId"] in ("TF-0001", "TF-0002")
    # entity links stay first: its legal representative and address, then the goods
    assert page["links"][0]["type"] in ("OFFICER_OF", "REGISTERED_AT")


def test_a_batch_shows_its_producer_inputs_receivers_and_product(
    demo: GraphStore, api: Api
) -> None:
    page = _page(api, {"id": YOGHURT_A, "asOf": "2026-11-28"})
    assert page["center"]["kind"] == "BATCH" and not page["center"]["sanctioned"]
    assert _movements(page) == {
        ("PRODUCT_OF", YOGHURT_A, "06938127051022", "product", None),
        ("TRANSFORMED_INTO", UNSAFE, YOGHURT_A, "inputs", "2026-11-11"),
        ("TRANSFORMED_INTO", CLEAN, YOGHURT_A, "inputs", "2026-11-11"),
        ("SHIPPED", YOGHURT_A, DISTRIBUTOR, "receivers", "2026-11-13"),
        ("SHIPPED", YOGHURT_A, RETAILER, "receivers", "2026-11-15"),
    }
    nodes = {n["id"]: n for n in page["nodes"]}
    assert nodes["06938127051022"]["kind"] == "PRODUCT"
    assert nodes["06938127051022"]["detail"] == "food"
    unsafe = _page(api, {"id": UNSAFE, "asOf": "2026-11-28"})
    assert unsafe["center"]["sanctioned"]
    assert ("PRODUCED", FARM, UNSAFE, "producer", "2026-11-09") in _movements(unsafe)


def test_movements_count_from_their_date(demo: GraphStore, api: Api) -> None:
    # on 2026-11-10 the yoghurt is not made yet and the record on the milk not yet in force
    page = _page(api, {"id": PROCESSOR, "asOf": "2026-11-10"})
    assert {(m[0], m[1], m[2]) for m in _movements(page)} == {
        ("SHIPPED", UNSAFE, PROCESSOR),
        ("SHIPPED", CLEAN, PROCESSOR),
    }
    assert not {n["id"]: n for n in page["nodes"]}[UNSAFE]["sanctioned"]
    before = _page(api, {"id": YOGHURT_A, "asOf": "2026-11-10"})
    assert _movements(before) == {("PRODUCT_OF", YOGHURT_A, "06938127051022", "product", None)}


def test_goods_are_paged_after_the_entity_links(demo: GraphStore, api: Api) -> None:
    first = _page(api, {"id": PROCESSOR, "asOf": "2026-11-28", "first": 3})
    assert first["totalCount"] == 9  # address, legal representative and seven movements
    assert first["hasNextPage"]
    more = {m["relation"]: m["count"] for m in first["more"]}
    assert more == {"transformations": 3, "batches received": 1, "shipments sent": 2}
    rest = _page(api, {"id": PROCESSOR, "asOf": "2026-11-28", "after": first["endCursor"]})
    ids = [link["id"] for link in first["links"] + rest["links"]]
    assert len(ids) == len(set(ids)) == 9
