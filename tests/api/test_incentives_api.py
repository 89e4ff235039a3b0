"""The reward half over GraphQL: report fields, commitments, the draw, and the roles of each."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from api.auth import Role
from graph.model import Company, Officer, OfficerRole, Person, Sanction, SanctionList
from graph.store import GraphStore, WriteBatch
from tests.api.conftest import Api, codes

DAY = date(2024, 6, 1)

REPORT = """
query($id: ID!) { creditReport(id: $id) { grade supervisionClass
  incentives { measure rule legalBasis }
  withheldIncentives { rule measures condition reason
    blocker { sanction { id list } commitment { id }
      path { nodes { id name } links { type from to role } } } } } }
"""
RECORD = """
mutation($id: ID!, $p: ID!) {
  recordCommitment(id: $id, promisor: $p, kind: TAX_DECLARATION, made: "2024-05-01") {
    id promisorId kind agency outcome state version } }
"""
VERIFY = """
mutation($id: ID!, $verdict: CommitmentVerdict!) {
  verifyCommitment(id: $id, verdict: $verdict) {
    commitment { id outcome verified severity state version } breachRecord { id list subjectId } } }
"""
COMMITMENTS = 'query { entity(id: "C") { ... on Company { commitments { id state } } } }'
PERSON_COMMITMENTS = 'query { entity(id: "P") { ... on Person { commitments { id } } } }'
DRAW = """
query($seed: Int!) { inspectionDraw(seed: $seed) { id asOf seed rules
  classes { name size rate selected } selected { id class } } }
"""


@pytest.fixture
def clock() -> list[date]:
    return [DAY]


def data(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body["errors"]
    result: dict[str, Any] = body["data"]
    return result


def seed(store: GraphStore) -> None:
    store.write(
        WriteBatch(
            nodes=[
                Company("C", "Trusted Co"),
                Person("P", "Li Lei"),
                Sanction("d", "P", SanctionList.DISHONEST_JUDGMENT_DEBTOR, start=date(2024, 1, 1)),
            ],
            links=[Officer("P", "C", OfficerRole.CHAIRMAN)],
        )
    )


def test_report_commitments_and_verification(store: GraphStore, api: Api) -> None:
    seed(store)
    report = data(api.query(REPORT, {"id": "C"}, role=Role.AGENCY))["creditReport"]
    assert (report["grade"], report["supervisionClass"], report["incentives"]) == ("A", "B", [])
    i1 = report["withheldIncentives"][0]
    assert (i1["rule"], i1["condition"], i1["measures"]) == (
        "I1",
        "no_principal_restriction",
        ["GREEN_CHANNEL", "REDUCED_INSPECTION", "FINANCING_PREFERENCE"],
    )
    assert i1["blocker"]["sanction"] == {"id": "d", "list": "DISHONEST_JUDGMENT_DEBTOR"}
    assert i1["blocker"]["path"] == {
        "nodes": [{"id": "C", "name": "Trusted Co"}, {"id": "P", "name": "Li Lei"}],
        "links": [{"type": "OFFICER_OF", "from": "P", "to": "C", "role": "chairman"}],
    }
    recorded = data(api.query(RECORD, {"id": "k1", "p": "C"}, role=Role.AGENCY))
    assert recorded["recordCommitment"] == {
        "id": "k1",
        "promisorId": "C",
        "kind": "TAX_DECLARATION",
        "agency": "test agency",
        "outcome": "pending",
        "state": "PENDING",
        "version": 1,
    }
    verified = data(api.query(VERIFY, {"id": "k1", "verdict": "BROKEN"}, role=Role.REVIEWER))
    assert verified["verifyCommitment"] == {
        "commitment": {
            "id": "k1",
            "outcome": "broken",
            "verified": "2024-06-01",
            "severity": "general",
            "state": "BROKEN",
            "version": 2,
        },
        "breachRecord": {"id": "CB-k1", "list": "COMMITMENT_BREACH", "subjectId": "C"},
    }
    listed = data(api.query(COMMITMENTS, role=Role.AGENCY))["entity"]["commitments"]
    assert listed == [{"id": "k1", "state": "BROKEN"}]
    events = [e for e in api.audit.events() if e["operation"].endswith("_commitment")]
    assert [(e["operation"], e["key_name"], e["result"]) for e in events] == [
        ("record_commitment", "test agency", "k1"),
        ("verify_commitment", "test reviewer", "k1"),
    ]


def test_draw_is_audited_and_reproducible(store: GraphStore, api: Api) -> None:
    store.write(WriteBatch(nodes=[Company(f"C{i}", f"Co {i}") for i in range(40)]))
    first = data(api.query(DRAW, {"seed": 5}, role=Role.REVIEWER))["inspectionDraw"]
    again = data(api.query(DRAW, {"seed": 5}, role=Role.REVIEWER))["inspectionDraw"]
    assert first == again
    assert first["classes"][0] == {"name": "A", "size": 40, "rate": 0.03, "selected": 1}
    draws = [e for e in api.audit.events() if e["operation"] == "inspection_draw"]
    assert len(draws) == 2
    assert draws[0]["details"]["seed"] == 5
    assert draws[0]["details"]["counts"]["A"] == {"size": 40, "rate": "0.03", "selected": 1}
    assert draws[0]["details"]["rules"] == first["rules"]


def test_roles_on_every_new_field_and_mutation(store: GraphStore, api: Api) -> None:
    seed(store)
    cases: list[tuple[str, dict[str, Any], Role]] = [
        (RECORD, {"id": "k9", "p": "C"}, Role.AGENCY),
        (VERIFY, {"id": "k9", "verdict": "KEPT"}, Role.REVIEWER),
        (DRAW, {"seed": 1}, Role.REVIEWER),
        (COMMITMENTS, {}, Role.AGENCY),
        (PERSON_COMMITMENTS, {}, Role.INVESTIGATOR),
    ]
    for query, variables, needed in cases:
        for role in Role:
            body = api.query(query, variables, role=role)
            if role.allows(needed):
                assert "FORBIDDEN" not in codes(body), (query, role)
            else:
                assert "FORBIDDEN" in codes(body), (query, role)
        assert "UNAUTHENTICATED" in codes(api.query(query, variables, role=None)), query
