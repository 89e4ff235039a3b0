"""The explorer's fields (api/graphql/explore.py) on both stores, over the demo data: paged
neighbourhoods marked by the rule engine, links as of a date, ownership cycles, roles, audit."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from api.auth import Role
from api.cli.loading import load_demo
from api.settings import Settings
from graph.store import GraphStore
from tests.api.conftest import Api, codes

RING_A = "91310151MAU789XW8J"
RING = {RING_A, "91310151MA67JXEX77", "91310151MAJ564YN45", "91310151MAD0D0LH4L"}
SISTER = "91440307MA7X9X3T5F"

NEIGHBOURHOOD = """
query N($id: ID!, $asOf: Date, $first: Int, $after: String) {
  neighbourhood(id: $id, asOf: $asOf, first: $first, after: $after) {
    center { id kind label sanctioned restricted measures }
    nodes { id kind label sanctioned restricted measures legalBasis }
    links { id type source target relation role share start end }
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


def _page(api: Api, variables: dict[str, Any], role: Role = Role.INVESTIGATOR) -> Any:
    body = api.query(NEIGHBOURHOOD, variables, role)
    assert "errors" not in body, body
    return body["data"]["neighbourhood"]


def test_a_supernode_comes_in_pages(demo: GraphStore, api: Api) -> None:
    # A0001 holds 8 companies: pages of 3, then "5 more", then "2 more"
    first = _page(api, {"id": "A0001", "first": 3})
    assert first["center"]["kind"] == "ADDRESS" and first["totalCount"] == 8
    assert first["hasNextPage"] and first["more"] == [{"relation": "registered here", "count": 5}]
    seen = [link["source"] for link in first["links"]]
    cursor = first["endCursor"]
    while cursor:
        page = _page(api, {"id": "A0001", "first": 3, "after": cursor})
        assert page["center"] is None  # the centre comes with the first page only
        seen += [link["source"] for link in page["links"]]
        cursor = page["endCursor"] if page["hasNextPage"] else None
    assert len(seen) == len(set(seen)) == 8
    assert set(seen) >= RING


def test_nodes_are_marked_by_the_rule_engine(demo: GraphStore, api: Api) -> None:
    page = _page(api, {"id": SISTER, "first": 50})
    assert page["center"]["sanctioned"] and page["center"]["restricted"]
    nodes = {n["id"]: n for n in page["nodes"]}
    # the legal representative is restricted through his office, not by a record of his own
    assert nodes["P0010"]["restricted"] and not nodes["P0010"]["sanctioned"]
    assert set(nodes["P0010"]["measures"]) == {"OFFICER_APPOINTMENT_BAN", "HONOR_BAN"}
    assert nodes["S0001"]["kind"] == "SANCTION" and nodes["S0001"]["legalBasis"]
    records = [link for link in page["links"] if link["type"] == "SANCTIONED"]
    assert [(r["source"], r["target"]) for r in records] == [("S0001", SISTER)]
    roles = {link["role"] for link in page["links"] if link["source"] == "P0010"}
    assert {"legal_representative"} <= roles


def test_links_as_of_a_date(demo: GraphStore, api: Api) -> None:
    before = _page(api, {"id": SISTER, "asOf": "2019-05-01", "first": 50})
    after = _page(api, {"id": SISTER, "asOf": "2019-06-01", "first": 50})
    assert "P0011" in {link["source"] for link in before["links"]}
    assert "P0011" not in {link["source"] for link in after["links"]}


def test_ownership_cycles(demo: GraphStore, api: Api) -> None:
    body = api.query(
        "query($id: ID!) { ownershipCycles(id: $id) { length share path { nodes { id } } } }",
        {"id": RING_A},
        Role.INVESTIGATOR,
    )
    (cycle,) = body["data"]["ownershipCycles"]
    ids = [n["id"] for n in cycle["path"]["nodes"]]
    assert cycle["length"] == 4 and set(ids) == RING and ids[0] == ids[-1]
    assert cycle["share"] == pytest.approx(70 * 60 * 80 * 55 / 1e6)


def test_roles_errors_and_audit(demo: GraphStore, api: Api) -> None:
    refused = api.query(NEIGHBOURHOOD, {"id": SISTER}, Role.AGENCY)
    assert codes(refused) == ["FORBIDDEN"] and "investigator" in refused["errors"][0]["message"]
    viewer = api.query("{ viewer { name role } }", None, Role.AGENCY)["data"]["viewer"]
    assert viewer["role"] == "agency"
    assert codes(api.query(NEIGHBOURHOOD, {"id": "nobody"}, Role.INVESTIGATOR)) == ["NOT_FOUND"]
    record = api.query(NEIGHBOURHOOD, {"id": "S0001"}, Role.INVESTIGATOR)
    assert codes(record) == ["BAD_USER_INPUT"] and SISTER in record["errors"][0]["message"]

    _page(api, {"id": SISTER, "first": 50})
    read = {s for e in api.audit.events(operation="person_read") for s in e["subject_ids"]}
    assert "P0010" in read
