"""Due process through HTTP on both stores: the market-ban story end to end (penalties ->
candidate -> approval -> the ban reaches the legal representative -> objection -> upheld -> gone
from that date, present before), its audit trail, every forbidden role, and CONFLICT."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import pytest

from api.auth import Role
from graph.model import (
    Commitment,
    CommitmentKind,
    Company,
    Link,
    Node,
    Officer,
    OfficerRole,
    Person,
    Sanction,
    SanctionList,
)
from graph.store import GraphStore, WriteBatch
from tests.api.conftest import Api, codes

DAY0 = date(2024, 6, 1)

CANDIDATES = """
query($after: String) { marketBanCandidates(first: 1, after: $after) {
  totalCount pageInfo { hasNextPage endCursor }
  edges { node { id kind summary entity { id name }
    evidence { role sanction { id list fine start } }
    links { via sanctionId path { nodes { id } links { type from to role } } } } } } }
"""
DECIDE = """
mutation($c: ID!, $approve: Boolean!, $reason: String!, $years: Int = 3) {
  decideMarketBan(candidate: $c, approve: $approve, reason: $reason, years: $years) {
    case { id status version decidedBy decisionReason evidence }
    sanction { id list start end severity legalBasis authority } } }
"""
REPORT = """
query($id: ID!, $asOf: Date) { creditReport(id: $id, asOf: $asOf) {
  score restrictions { measure rule disputed source { id list }
    path { nodes { id } links { type from to role } } } } }
"""
FILE = """
mutation($s: ID!, $reason: String!) { fileObjection(sanction: $s, reason: $reason) {
  id kind status version due filedBy sanction { id disputed } } }
"""
RESOLVE = """
mutation($o: ID!, $outcome: ObjectionOutcome!, $reason: String!, $v: Int) {
  resolveObjection(objection: $o, outcome: $outcome, reason: $reason, version: $v) {
    id status version decided decidedBy sanction { id status disputed } } }
"""
APPLY = """
mutation($s: ID!, $c: String!) {
  applyCreditRepair(sanction: $s, commitment: $c) {
    id kind status version commitment finePaid } }
"""
DECIDE_REPAIR = """
mutation($a: ID!, $approve: Boolean!, $reason: String!, $v: Int, $paid: Boolean) {
  decideCreditRepair(
    application: $a, approve: $approve, reason: $reason, version: $v, finePaid: $paid
  ) { id status finePaid sanction { id status } } }
"""
EVENTS = """
query { auditEvents(first: 100) { edges { node {
  operation keyName role subjectIds result } } } }
"""


@pytest.fixture
def clock() -> list[date]:
    """The API's decision day (injected into the app by the ``api`` fixture): ``clock[0] = day``."""
    return [DAY0]


def write(store: GraphStore, nodes: Sequence[Node], links: Sequence[Link] = ()) -> None:
    store.write(WriteBatch(nodes=list(nodes), links=list(links)))


def seed(store: GraphStore) -> None:
    """Two fined penalties (not yet enough); P1 is the legal representative of C1."""
    write(
        store,
        [
            Company("C1", "Repeat Trading Co"),
            Person("P1", "Wang Fang"),
            Sanction("pen1", "C1", SanctionList.ADMIN_PENALTY, start=date(2023, 1, 10), fine=1e4),
            Sanction("pen2", "C1", SanctionList.ADMIN_PENALTY, start=date(2023, 5, 10), fine=2e4),
        ],
        [Officer("P1", "C1", OfficerRole.LEGAL_REPRESENTATIVE)],
    )


def data(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body["errors"]
    result: dict[str, Any] = body["data"]
    return result


def entry_bans(api: Api, person: str, as_of: date) -> list[dict[str, Any]]:
    body = api.query(REPORT, {"id": person, "asOf": as_of.isoformat()}, role=Role.AGENCY)
    return [
        r for r in data(body)["creditReport"]["restrictions"] if r["measure"] == "MARKET_ENTRY_BAN"
    ]


def test_market_ban_story(store: GraphStore, api: Api, clock: list[date]) -> None:
    seed(store)
    # Two penalties: no candidate yet. A third, then a further violation: a candidate.
    assert data(api.query(CANDIDATES, role=Role.REVIEWER))["marketBanCandidates"]["edges"] == []
    write(
        store,
        [
            Sanction("pen3", "C1", SanctionList.ADMIN_PENALTY, start=date(2023, 9, 10), fine=5e3),
            Sanction("ab1", "C1", SanctionList.ABNORMAL_OPERATION, start=date(2024, 1, 15)),
        ],
    )
    listing = data(api.query(CANDIDATES, role=Role.REVIEWER))["marketBanCandidates"]
    assert listing["totalCount"] == 1 and not listing["pageInfo"]["hasNextPage"]
    node = listing["edges"][0]["node"]
    assert (node["kind"], node["entity"]["id"]) == ("REPEAT_OFFENDER", "C1")
    evidence = {e["sanction"]["id"]: (e["role"], e["sanction"]["fine"]) for e in node["evidence"]}
    assert evidence == {
        "pen1": ("penalty", 1e4),
        "pen2": ("penalty", 2e4),
        "pen3": ("penalty", 5e3),
        "ab1": ("later_violation", None),
    }
    candidate = node["id"]

    # Approve: the ban and its R4 restriction on the legal representative, the same day.
    decided = data(
        api.query(
            DECIDE,
            {"c": candidate, "approve": True, "reason": "three fines, still violating"},
            role=Role.REVIEWER,
        )
    )["decideMarketBan"]
    assert decided["case"]["status"] == "APPROVED"
    assert decided["case"]["decidedBy"].startswith("test reviewer")
    ban = decided["sanction"]
    assert (ban["list"], ban["start"], ban["end"], ban["severity"]) == (
        "MARKET_BAN",
        "2024-06-01",
        "2027-06-01",
        "serious",
    )
    assert "R4" in ban["legalBasis"]
    [restriction] = entry_bans(api, "P1", DAY0)
    assert (restriction["rule"], restriction["source"]["id"]) == ("R4", ban["id"])
    assert [n["id"] for n in restriction["path"]["nodes"]] == ["C1", "P1"]
    assert restriction["path"]["links"] == [
        {"type": "OFFICER_OF", "from": "P1", "to": "C1", "role": "legal_representative"}
    ]
    assert entry_bans(api, "P1", DAY0 - timedelta(days=1)) == []
    assert data(api.query(CANDIDATES, role=Role.REVIEWER))["marketBanCandidates"]["edges"] == []

    # An agency objects on day 5; the restriction still holds, marked disputed.
    clock[0] = DAY0 + timedelta(days=5)
    objection = data(api.query(FILE, {"s": ban["id"], "reason": "wrong entity"}, role=Role.AGENCY))[
        "fileObjection"
    ]
    assert (objection["kind"], objection["status"], objection["due"]) == (
        "OBJECTION",
        "OPEN",
        "2024-06-26",
    )
    assert objection["sanction"] == {"id": ban["id"], "disputed": True}
    [disputed] = entry_bans(api, "P1", clock[0])
    assert disputed["disputed"] is True

    # Upheld on day 10: gone from that day on, present the day before.
    upheld_on = DAY0 + timedelta(days=10)
    clock[0] = upheld_on
    resolved = data(
        api.query(
            RESOLVE,
            {"o": objection["id"], "outcome": "UPHOLD", "reason": "verified", "v": 1},
            role=Role.REVIEWER,
        )
    )["resolveObjection"]
    assert (resolved["status"], resolved["version"], resolved["decided"]) == (
        "UPHELD",
        2,
        upheld_on.isoformat(),
    )
    assert resolved["sanction"] == {"id": ban["id"], "status": "revoked", "disputed": False}
    assert entry_bans(api, "P1", upheld_on) == []
    assert len(entry_bans(api, "P1", upheld_on - timedelta(days=1))) == 1

    # A stale second decision is a CONFLICT, and changes nothing.
    stale = api.query(
        RESOLVE,
        {"o": objection["id"], "outcome": "REJECT", "reason": "no", "v": 1},
        role=Role.ADMIN,
    )
    assert codes(stale) == ["CONFLICT"] and stale["data"] is None
    again = api.query(
        DECIDE, {"c": candidate, "approve": False, "reason": "no"}, role=Role.REVIEWER
    )
    assert codes(again) == ["CONFLICT"]
    assert entry_bans(api, "P1", upheld_on - timedelta(days=1))[0]["source"]["id"] == ban["id"]

    # The audit log shows each step with its actor and result; attempts that lost to a conflict
    # changed nothing and are not audited (issue 10).
    events = [
        e["node"]
        for e in data(api.query(EVENTS, role=Role.ADMIN))["auditEvents"]["edges"]
        if e["node"]["operation"] in {"decide_market_ban", "file_objection", "resolve_objection"}
    ]
    assert [(e["operation"], e["keyName"], e["result"]) for e in events] == [
        ("decide_market_ban", "test reviewer", candidate),
        ("file_objection", "test agency", objection["id"]),
        ("resolve_objection", "test reviewer", objection["id"]),
    ]
    assert events[0]["subjectIds"] == [candidate]
    assert events[1]["subjectIds"] == [ban["id"]]


def test_credit_repair_through_the_api(store: GraphStore, api: Api, clock: list[date]) -> None:
    write(
        store,
        [
            Company("R1", "Repair Co"),
            Sanction("rp", "R1", SanctionList.ADMIN_PENALTY, start=date(2024, 1, 1), fine=500.0),
            Commitment("crc", "R1", CommitmentKind.CREDIT_REPAIR, date(2024, 3, 1)),
        ],
    )
    clock[0] = date(2024, 3, 31)  # a general record: three months after its start
    early = api.query(APPLY, {"s": "rp", "c": "crc"}, role=Role.AGENCY)
    assert codes(early) == ["BAD_USER_INPUT"] and "2024-04-01" in early["errors"][0]["message"]
    clock[0] = date(2024, 4, 1)
    application = data(api.query(APPLY, {"s": "rp", "c": "crc"}, role=Role.AGENCY))[
        "applyCreditRepair"
    ]
    assert (application["status"], application["commitment"], application["finePaid"]) == (
        "OPEN",
        "crc",  # the id of the subject's recorded CREDIT_REPAIR commitment
        None,  # not the applicant's word: the reviewer finds it on decision
    )
    decided = data(
        api.query(
            DECIDE_REPAIR,
            {"a": application["id"], "approve": True, "reason": "paid", "v": 1, "paid": True},
            role=Role.REVIEWER,
        )
    )["decideCreditRepair"]
    assert decided == {
        "id": application["id"],
        "status": "APPROVED",
        "finePaid": True,
        "sanction": {"id": "rp", "status": "repaired"},
    }
    cases = data(
        api.query(
            'query { cases(subjectId: "rp", kind: CREDIT_REPAIR) { totalCount '
            "edges { node { id status } } } }",
            role=Role.REVIEWER,
        )
    )["cases"]
    assert cases["totalCount"] == 1
    one = data(
        api.query(
            "query($id: ID!) { case(id: $id) { id kind version } }",
            {"id": application["id"]},
            role=Role.REVIEWER,
        )
    )["case"]
    assert one == {"id": application["id"], "kind": "CREDIT_REPAIR", "version": 2}


MUTATIONS: list[tuple[str, str, dict[str, Any], Role]] = [
    (
        "decideMarketBan",
        DECIDE,
        {"c": "mbr-C1-0000000000", "approve": True, "reason": "r"},
        Role.REVIEWER,
    ),
    ("fileObjection", FILE, {"s": "pen1", "reason": "r"}, Role.AGENCY),
    (
        "resolveObjection",
        RESOLVE,
        {"o": "obj-pen1-1", "outcome": "UPHOLD", "reason": "r"},
        Role.REVIEWER,
    ),
    ("applyCreditRepair", APPLY, {"s": "pen1", "c": "c"}, Role.AGENCY),
    (
        "decideCreditRepair",
        DECIDE_REPAIR,
        {"a": "rep-pen1-1", "approve": True, "reason": "r"},
        Role.REVIEWER,
    ),
]


def test_every_forbidden_role_on_each_mutation(store: GraphStore, api: Api) -> None:
    seed(store)
    for name, query, variables, needed in MUTATIONS:
        for role in Role:
            if role.allows(needed):
                continue
            body = api.query(query, variables, role=role)
            assert codes(body) == ["FORBIDDEN"], (name, role)
            assert body["data"] is None, (name, role)
        anonymous = api.query(query, variables, role=None)
        assert codes(anonymous) == ["UNAUTHENTICATED"], name
    for query in (
        CANDIDATES,
        'query { case(id: "x") { id } }',
        "query { cases { totalCount } }",
    ):
        for role in (Role.AGENCY, Role.INVESTIGATOR):
            body = api.query(query, role=role)
            assert codes(body) == ["FORBIDDEN"], (query, role)
            # no data: null, or a nullable field left null
            assert body["data"] in (None, {"case": None}), (query, role)
    # Nothing was written, and every refused decision is in the audit log.
    assert store.cases() == []
    assert [s.disputed for s in store.sanctions(["C1"])] == [False, False]
    refused = [e for e in api.audit.events() if e["result"] == "error:FORBIDDEN"]
    assert len(refused) == 6


def test_bad_input_codes(store: GraphStore, api: Api) -> None:
    seed(store)
    body = api.query(
        DECIDE, {"c": "not-a-candidate", "approve": True, "reason": "r"}, role=Role.REVIEWER
    )
    assert codes(body) == ["BAD_USER_INPUT"]
    body = api.query(FILE, {"s": "missing", "reason": "r"}, role=Role.AGENCY)
    assert codes(body) == ["NOT_FOUND"]
    body = api.query(FILE, {"s": "pen1", "reason": " "}, role=Role.AGENCY)
    assert codes(body) == ["BAD_USER_INPUT"]
