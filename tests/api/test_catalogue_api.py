"""GraphQL under an agency's rules file: the ``Measure`` enum follows the catalogue in force, so a
restriction from the agency's own measure is returned, and the enum accepts the name as input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from graphql import GraphQLEnumType, GraphQLError

from api.app import create_app
from api.audit import AuditLog
from api.auth import KeyStore, Role
from api.graphql.schema import build_schema
from api.settings import Settings
from graph.model import Measure
from graph.rules.schema import load_rules
from graph.store import GraphStore
from loaders.bundle import load_bundle
from tests.conformance.test_catalogue import write_agency_bundle, write_agency_rules

REPORT = """query($id: ID!) { creditReport(id: $id, asOf: "2024-06-01") {
  score restrictions { measure rule source { list severity } } } }"""
MEASURES = '{ __type(name: "Measure") { enumValues { name description } } }'


def post(client: TestClient, key: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body["data"]  # type: ignore[no-any-return]


def client_for(store: GraphStore, tmp_path: Path, rules: Path | None) -> tuple[TestClient, str]:
    keys = KeyStore(tmp_path / "keys.json")
    _, key = keys.add(Role.AGENCY, "test agency")
    app = create_app(
        store,
        # The first report on a fresh database plans its statements (seconds on a loaded
        # machine); the request budget is not what this test is about.
        Settings(data_dir=tmp_path, rules=rules, request_timeout=120),
        keys=keys,
        audit=AuditLog(tmp_path / "audit.jsonl"),
    )
    return TestClient(app), key


def test_the_measure_enum_follows_the_rules_in_force(store: GraphStore, tmp_path: Path) -> None:
    rules_path = write_agency_rules(tmp_path)
    load_bundle(store, write_agency_bundle(tmp_path / "bundle"), rules=load_rules(rules_path))
    agency, key = client_for(store, tmp_path, rules_path)
    with agency:
        data = post(agency, key, REPORT, {"id": "C1"})
        report = data["creditReport"]
        assert report["score"] == 750
        assert [(r["measure"], r["rule"]) for r in report["restrictions"]] == [
            ("ENHANCED_SUPERVISION", "FJ1"),
            ("PROVINCIAL_BAN", "FJ1"),
        ]
        assert report["restrictions"][0]["source"] == {
            "list": "PROVINCIAL_X",
            "severity": "serious",
        }
        values = post(agency, key, MEASURES, {})["__type"]["enumValues"]
        names = [v["name"] for v in values]
        assert set(names) == {m.value for m in Measure} | {"PROVINCIAL_BAN"}
        assert {"name": "PROVINCIAL_BAN", "description": "may not bid in provincial tenders"} in (
            values
        )

    shipped, key = client_for(store, tmp_path / "shipped", None)
    with shipped:
        values = post(shipped, key, MEASURES, {})["__type"]["enumValues"]
        assert {v["name"] for v in values} == {m.value for m in Measure}


def test_the_measure_enum_accepts_the_catalogue_s_names_as_input(tmp_path: Path) -> None:
    # No field takes a Measure argument yet; the enum type itself must still coerce every name.
    catalogue = load_rules(write_agency_rules(tmp_path)).catalogue
    agency = build_schema(catalogue=catalogue)._schema.type_map["Measure"]
    shipped = build_schema()._schema.type_map["Measure"]
    assert isinstance(agency, GraphQLEnumType) and isinstance(shipped, GraphQLEnumType)
    assert agency.parse_value("PROVINCIAL_BAN") == "PROVINCIAL_BAN"
    assert agency.parse_value("HONOR_BAN") == "HONOR_BAN"
    assert agency.serialize("PROVINCIAL_BAN") == "PROVINCIAL_BAN"
    assert agency.serialize(Measure.HONOR_BAN) == "HONOR_BAN"
    with pytest.raises(GraphQLError):
        shipped.parse_value("PROVINCIAL_BAN")
