"""GraphQL ``cycles`` and ``signals`` on the demo data, with typed evidence (issue 11 item 16)."""

from __future__ import annotations

from api.auth import Role
from api.cli.loading import demo_bundle_dir
from graph.store import GraphStore
from loaders.bundle import load_bundle
from tests.api.conftest import Api, codes

RING = "91310151MAU789XW8J"

SIGNALS = """
query ($id: ID!) {
  signals(id: $id, asOf: "2026-11-28") {
    kind summary
    evidence {
      __typename
      ... on SharedAddressEvidence { addressId companies threshold }
      ... on NomineeEvidence { personId companies roles threshold }
      ... on CircularOwnershipEvidence { cycles { nodes { id } } }
      ... on BannedOfficerEvidence {
        personId measure rule legalBasis sanctionId list bans
        path { nodes { id name } links { type role } }
        offices { type from to role }
      }
    }
  }
}
"""

CYCLES = """
query ($id: ID!) {
  cycles(id: $id, asOf: "2026-11-28") { length share path { nodes { id } links { from to share } } }
}
"""


def _demo(store: GraphStore) -> None:
    assert load_bundle(store, demo_bundle_dir(), id_hash_salt="demo").applied


def test_signals_carry_typed_evidence(store: GraphStore, api: Api) -> None:
    _demo(store)
    body = api.query(SIGNALS, {"id": RING}, role=Role.INVESTIGATOR)
    assert "errors" not in body, body
    by_kind = {s["kind"]: s["evidence"] for s in body["data"]["signals"]}
    assert by_kind["SHARED_ADDRESS"] == {
        "__typename": "SharedAddressEvidence",
        "addressId": "A0001",
        "companies": 8,
        "threshold": 8,
    }
    assert by_kind["NOMINEE_OFFICER"]["personId"] == "P0001"
    assert by_kind["CIRCULAR_OWNERSHIP"]["__typename"] == "CircularOwnershipEvidence"
    [cycle] = by_kind["CIRCULAR_OWNERSHIP"]["cycles"]
    assert len(cycle["nodes"]) == 5  # four companies, back to the first

    banned = api.query(SIGNALS, {"id": "P0070"}, role=Role.INVESTIGATOR)
    assert "errors" not in banned, banned
    [signal] = banned["data"]["signals"]
    evidence = signal["evidence"]
    assert signal["kind"] == "BANNED_OFFICER" and "barred from office" in signal["summary"]
    assert evidence["__typename"] == "BannedOfficerEvidence"
    assert (evidence["rule"], evidence["sanctionId"], evidence["list"]) == (
        "R5",
        "S0007",
        "MARKET_BAN",
    )
    assert evidence["measure"] == "OFFICER_APPOINTMENT_BAN" and evidence["legalBasis"]
    assert evidence["path"]["nodes"] == [{"id": "P0070", "name": "魏东升"}]
    assert evidence["offices"] == [
        {"type": "OFFICER_OF", "from": "P0070", "to": "91320507374925964Q", "role": "director"}
    ]


def test_cycles_have_their_path_and_share(store: GraphStore, api: Api) -> None:
    _demo(store)
    body = api.query(CYCLES, {"id": RING}, role=Role.INVESTIGATOR)
    assert "errors" not in body, body
    [cycle] = body["data"]["cycles"]
    assert cycle["length"] == 4 and len(cycle["path"]["links"]) == 4
    ids = [n["id"] for n in cycle["path"]["nodes"]]
    assert ids[0] == ids[-1] and RING in ids
    assert abs(cycle["share"] - 70 * 60 * 80 * 55 / 1e6) < 1e-6


def test_cycles_and_signals_are_for_investigators(store: GraphStore, api: Api) -> None:
    _demo(store)
    assert codes(api.query(SIGNALS, {"id": RING}, role=Role.AGENCY)) == ["FORBIDDEN"]
    assert codes(api.query(CYCLES, {"id": RING}, role=Role.AGENCY)) == ["FORBIDDEN"]
    assert codes(api.query(SIGNALS, {"id": "NOBODY"}, role=Role.INVESTIGATOR)) == ["NOT_FOUND"]
