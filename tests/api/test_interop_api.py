"""The GraphQL fields third-party data brings (spec/INTEROP.md): aliases, identifiers and
provenance on entities, share ranges on ownership links, and possible beneficial owners."""

from __future__ import annotations

from pathlib import Path

from api.auth import Role
from graph.store import GraphStore
from loaders.interop import load_interop
from tests.api.conftest import Api

PSC_8 = Path(__file__).resolve().parent.parent / "fixtures" / "psc" / "psc-data-8.json"
BODS_FI = Path(__file__).resolve().parent.parent / "fixtures" / "bods" / "bods-package-fi-soe.json"

QUERY = """
query Interop($id: ID!, $ministry: ID!) {
  entity(id: $id) {
    aliases identifiers provenance { format dataset recordId }
    ... on Company {
      owners { edges { node { share shareMin shareMax provenance { format recordId } } } }
    }
  }
  ministry: entity(id: $ministry) { name aliases identifiers }
  beneficialOwners(id: $id, asOf: "2024-06-01", threshold: 30) {
    person { name } effectiveShare effectiveShareMax possible controls
  }
}
"""


def test_interop_fields(store: GraphStore, api: Api) -> None:
    load_interop(store, PSC_8, dataset="psc-snapshot")
    load_interop(store, BODS_FI)
    body = api.query(QUERY, {"id": "03136191", "ministry": "7ff95ba3682c"}, role=Role.INVESTIGATOR)
    assert "errors" not in body, body
    data = body["data"]
    entity = data["entity"]
    assert entity["aliases"] == [] and entity["identifiers"] == []
    assert entity["provenance"] == {
        "format": "psc",
        "dataset": "psc-snapshot",
        "recordId": "03136191",
    }
    (edge,) = entity["owners"]["edges"]
    node = edge["node"]
    assert (node["share"], node["shareMin"], node["shareMax"]) == (None, 25.0, 50.0)
    assert node["provenance"]["format"] == "psc"
    assert node["provenance"]["recordId"].endswith("#ownership-of-shares-25-to-50-percent")
    assert data["ministry"] == {
        "name": "Valtiovarainministerio",
        "aliases": ["Finansministeriet"],
        "identifiers": [],
    }
    assert data["beneficialOwners"] == [
        {
            "person": {"name": "Mr. Michael Stanley Bunyan"},
            "effectiveShare": 25.0,
            "effectiveShareMax": 50.0,
            "possible": True,
            "controls": False,
        }
    ]


def test_person_aliases_need_the_investigator_role(store: GraphStore, api: Api) -> None:
    load_interop(store, PSC_8)
    query = (
        "query($id: ID!) { entity(id: $id) { ... on Company { owners { edges { node { owner "
        "{ aliases } } } } } } }"
    )
    body = api.query(query, {"id": "03136191"}, role=Role.AGENCY)
    assert body.get("errors"), body
