"""GraphQL ``screen`` (issue 11 item 15): many ids, one extraction, one audit record."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from api.auth import Role
from graph.model import Company, Officer, OfficerRole, Person, Sanction, SanctionList
from graph.store import GraphStore, WriteBatch
from tests.api.conftest import Api, codes, make_api
from tests.api.test_graphql import CountingStore

SCREEN = """
query Screen($ids: [ID!]!, $measures: [Measure!]) {
  screen(ids: $ids, measures: $measures, asOf: "2024-06-01") {
    asOf measures restrictedCount notFound
    rows {
      id found restricted entity { id name }
      measures {
        measure restricted
        reasons { rule legalBasis source { id list } path { nodes { id } links { type role } } }
      }
    }
  }
}
"""


def _network(store: GraphStore, companies: int = 3) -> None:
    batch = WriteBatch(links=[Officer("P1", "C1", OfficerRole.LEGAL_REPRESENTATIVE)])
    batch.nodes.append(Person("P1", "Li Lei"))
    batch.nodes.extend(Company(f"C{i}", f"Company {i}") for i in range(1, companies + 1))
    batch.nodes.append(Sanction("S1", "C1", SanctionList.SERIOUS_DISHONEST, start=date(2024, 1, 1)))
    store.write(batch)


def test_screen_answers_per_measure_with_reasons_and_unknown_ids_per_row(
    store: GraphStore, api: Api
) -> None:
    _network(store)
    body = api.query(
        SCREEN,
        {
            "ids": ["C1", "P1", "C2", "NOBODY"],
            "measures": ["BIDDING_BAN", "OFFICER_APPOINTMENT_BAN"],
        },
        role=Role.AGENCY,
    )
    assert "errors" not in body, body
    found = body["data"]["screen"]
    assert found["measures"] == ["BIDDING_BAN", "OFFICER_APPOINTMENT_BAN"]
    assert found["restrictedCount"] == 2 and found["notFound"] == ["NOBODY"]
    rows = {row["id"]: row for row in found["rows"]}
    assert [row["id"] for row in found["rows"]] == ["C1", "P1", "C2", "NOBODY"]
    c1 = {m["measure"]: m for m in rows["C1"]["measures"]}
    assert c1["BIDDING_BAN"]["restricted"] and not c1["OFFICER_APPOINTMENT_BAN"]["restricted"]
    [reason] = c1["BIDDING_BAN"]["reasons"]
    assert reason["rule"] == "R1" and reason["source"] == {"id": "S1", "list": "SERIOUS_DISHONEST"}
    assert reason["legalBasis"]
    p1 = {m["measure"]: m for m in rows["P1"]["measures"]}
    [ban] = p1["OFFICER_APPOINTMENT_BAN"]["reasons"]
    assert [n["id"] for n in ban["path"]["nodes"]] == ["C1", "P1"]
    assert ban["path"]["links"] == [{"type": "OFFICER_OF", "role": "legal_representative"}]
    assert not rows["C2"]["restricted"] and rows["C2"]["entity"]["name"] == "Company 2"
    assert rows["NOBODY"] == {
        "id": "NOBODY",
        "found": False,
        "restricted": False,
        "entity": None,
        "measures": [],
    }


def test_one_audit_record_lists_every_id(store: GraphStore, api: Api) -> None:
    _network(store)
    body = api.query(SCREEN, {"ids": ["C1", "C2", "NOBODY"]}, role=Role.AGENCY)
    assert "errors" not in body, body
    [event] = api.audit.events(operation="screen")
    assert event["subject_ids"] == ["C1", "C2", "NOBODY"]


@pytest.mark.parametrize(
    ("variables", "code"),
    [
        ({"ids": ["C1"], "measures": ["NOT_A_MEASURE"]}, "GRAPHQL_VALIDATION_FAILED"),
        ({"ids": ["C1"], "measures": ["GREEN_CHANNEL"]}, "BAD_USER_INPUT"),
        ({"ids": []}, "BAD_USER_INPUT"),
    ],
)
def test_screen_refuses_bad_arguments_with_a_code(
    store: GraphStore, api: Api, variables: dict[str, object], code: str
) -> None:
    _network(store)
    assert codes(api.query(SCREEN, variables, role=Role.AGENCY)) == [code]


def test_store_calls_do_not_grow_with_the_ids(store: GraphStore, tmp_path: Path) -> None:
    _network(store, companies=300)
    calls = []
    for size in (3, 300):
        counting = CountingStore(store)
        api = make_api(counting, tmp_path / str(size))  # type: ignore[arg-type]
        ids = ["P1"] + [f"C{i}" for i in range(1, size + 1)]
        body = api.query(SCREEN, {"ids": ids}, role=Role.AGENCY)
        assert "errors" not in body, body
        assert len(body["data"]["screen"]["rows"]) == size + 1
        calls.append(sorted(counting.calls))
    # the entities with their officers and the ownership closures both ways in one read, then
    # the path nodes named in one call: the same whatever the number of ids
    assert calls[0] == calls[1] == ["extract", "get_many"]
