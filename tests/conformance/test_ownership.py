"""Beneficial owners and ownership closures on every store, with the published worked examples
as oracles (DOMAIN.md "Ownership and control"; BODS 0.4 ``bods-package-fi-soe.json``)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from api import views
from graph.errors import InvalidInput, NotFound
from graph.model import (
    Company,
    Link,
    Node,
    Officer,
    OfficerRole,
    Ownership,
    Person,
)
from graph.ownership import IssueKind
from graph.store import GraphStore, WriteBatch
from queries.ownership import (
    BeneficialOwner,
    ClosureDirection,
    beneficial_owners,
    ownership_closure,
    ownership_report,
)

DAY = date(2024, 6, 1)
BODS = Path(__file__).resolve().parent.parent / "fixtures" / "bods" / "bods-package-fi-soe.json"


def write(store: GraphStore, nodes: Sequence[Node], links: Sequence[Link]) -> None:
    store.write(WriteBatch(nodes=list(nodes), links=list(links)))


def companies(*ids: str) -> list[Node]:
    return [Company(i, f"{i} Co") for i in ids]


def persons(*ids: str) -> list[Node]:
    return [Person(i, f"Person {i}") for i in ids]


def summary(owners: list[BeneficialOwner]) -> dict[str, tuple[float, bool]]:
    return {o.person.id: (round(o.effective_share, 9), o.controls) for o in owners}


# -- the worked examples --------------------------------------------------------------------


def test_fifty_percent_of_sixty_percent_is_thirty(store: GraphStore) -> None:
    write(
        store,
        companies("D", "T") + persons("P"),
        [Ownership("P", "D", 50), Ownership("D", "T", 60)],
    )
    owners = beneficial_owners(store, "T", DAY)
    assert summary(owners) == {"P": (30.0, False)}  # 50% of D is not control of D
    assert [list(p.nodes) for p in owners[0].paths] == [["P", "D", "T"]]
    assert [(link.source, link.target, link.share) for link in owners[0].paths[0].links] == [
        ("P", "D", 50.0),
        ("D", "T", 60.0),
    ]


def test_direct_and_layered_owners_with_the_threshold(store: GraphStore) -> None:
    write(
        store,
        companies("T", "B", "C") + persons("X", "W", "Y", "Z"),
        [
            Ownership("X", "T", 25),
            Ownership("B", "T", 25),
            Ownership("W", "B", 100),
            Ownership("C", "T", 50),
            Ownership("Y", "C", 90),
            Ownership("Z", "C", 10),
        ],
    )
    # Z (5%) is below the threshold; C's 50% is not control, so Y does not control T either.
    assert summary(beneficial_owners(store, "T", DAY)) == {
        "Y": (45.0, False),
        "W": (25.0, False),
        "X": (25.0, False),
    }
    assert [o.person.id for o in beneficial_owners(store, "T", DAY)] == ["Y", "W", "X"]
    assert "Z" in summary(beneficial_owners(store, "T", DAY, threshold=5.0))
    closure = {h.entity.id: h for h in ownership_closure(store, "T", DAY)}
    assert {k: (round(h.effective_share, 9), h.depth) for k, h in closure.items()} == {
        "C": (50.0, 1),
        "Y": (45.0, 2),
        "B": (25.0, 1),
        "W": (25.0, 2),
        "X": (25.0, 1),
        "Z": (5.0, 2),
    }
    assert not any(h.controls for h in closure.values())


def test_two_paths_add_up_to_thirty_five(store: GraphStore) -> None:
    write(
        store,
        companies("D", "E", "T") + persons("P"),
        [
            Ownership("P", "D", 50),
            Ownership("D", "T", 30),
            Ownership("P", "E", 80),
            Ownership("E", "T", 25),
        ],
    )
    (owner,) = beneficial_owners(store, "T", DAY)
    # P controls E (80%), but E's 25% of T is no majority: 35% without control.
    assert (owner.person.id, round(owner.effective_share, 9), owner.controls) == ("P", 35.0, False)
    # Paths, largest contribution first: 80% x 25% = 20, then 50% x 30% = 15.
    assert [list(p.nodes) for p in owner.paths] == [["P", "E", "T"], ["P", "D", "T"]]


def _read_bods(path: Path) -> tuple[list[Node], list[Link], dict[str, float]]:
    """BODS 0.4 statements -> nodes, direct shareholding links, and the declared indirect shares
    (the publisher's own totals, kept as the oracle)."""
    statements: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    nodes: list[Node] = []
    links: list[Link] = []
    declared: dict[str, float] = {}
    for statement in statements:
        record = statement["recordDetails"]
        ident = statement["recordId"]
        if statement["recordType"] == "entity":
            founded = record.get("foundingDate")
            nodes.append(
                Company(
                    ident,
                    record["name"],
                    jurisdiction=record.get("jurisdiction", {}).get("code"),
                    founded=date.fromisoformat(founded) if founded else None,
                )
            )
        elif statement["recordType"] == "person":
            names = record.get("names") or [{"fullName": ident}]
            nodes.append(Person(ident, names[0]["fullName"]))
        else:
            for interest in record.get("interests", []):
                exact = interest.get("share", {}).get("exact")
                if interest["type"] != "shareholding" or exact is None:
                    continue
                start = interest.get("startDate")
                if interest.get("directOrIndirect") == "indirect":
                    declared[f"{record['interestedParty']}->{record['subject']}"] = float(exact)
                    continue
                links.append(
                    Ownership(
                        record["interestedParty"],
                        record["subject"],
                        float(exact),
                        start=date.fromisoformat(start) if start else None,
                    )
                )
    return nodes, links, declared


def test_bods_finnish_state_owned_chain(store: GraphStore) -> None:
    nodes, links, declared = _read_bods(BODS)
    write(store, nodes, links)
    gasgrid, kaasuverkko, ministry, state = (
        "19f1c5afe9d7",
        "0199c515a699",
        "7ff95ba3682c",
        "05ce06ec97b1",
    )
    assert declared == {f"{state}->{gasgrid}": 100.0}
    closure = {h.entity.id: h for h in ownership_closure(store, gasgrid, DAY)}
    # 100% x 76.5% + 23.5% = the declared 100%.
    assert closure[ministry].effective_share == pytest.approx(declared[f"{state}->{gasgrid}"])
    assert closure[ministry].controls and closure[ministry].depth == 1
    assert closure[kaasuverkko].effective_share == pytest.approx(76.5)
    assert state not in closure  # its interest is otherInfluenceOrControl: not a shareholding
    assert beneficial_owners(store, gasgrid, DAY) == []  # no natural person in the chain
    down = {h.entity.id: h for h in ownership_closure(store, ministry, DAY, ClosureDirection.DOWN)}
    assert down[gasgrid].effective_share == pytest.approx(100.0) and down[gasgrid].controls
    # Before the links started, nobody owned anything.
    assert ownership_closure(store, gasgrid, date(2019, 12, 31)) == []


# -- edge cases ------------------------------------------------------------------------------


def test_cross_holdings_and_cycles(store: GraphStore) -> None:
    write(
        store,
        companies("A", "B") + persons("P", "Q"),
        [
            Ownership("P", "A", 60),
            Ownership("Q", "B", 70),
            Ownership("A", "B", 40),
            Ownership("B", "A", 30),
        ],
    )
    assert summary(beneficial_owners(store, "B", DAY, threshold=20)) == {
        "Q": (70.0, True),
        "P": (24.0, False),
    }
    closure = {h.entity.id: round(h.effective_share, 9) for h in ownership_closure(store, "A", DAY)}
    assert closure == {"P": 60.0, "B": 30.0, "Q": 21.0}  # A is never its own owner
    kinds = {i.kind for i in ownership_report(store, "A", DAY).issues}
    assert IssueKind.CIRCULAR_OWNERSHIP in kinds


def test_company_holding_its_own_shares(store: GraphStore) -> None:
    write(
        store,
        companies("T") + persons("P", "Q"),
        [Ownership("T", "T", 20), Ownership("P", "T", 40), Ownership("Q", "T", 40)],
    )
    report = ownership_report(store, "T", DAY)
    assert summary(report.owners) == {"P": (40.0, False), "Q": (40.0, False)}  # not rescaled
    assert [i.kind for i in report.issues] == [IssueKind.SELF_HELD_SHARES]
    assert "T" not in {h.entity.id for h in ownership_closure(store, "T", DAY)}


def test_owners_summing_over_one_hundred_are_flagged(store: GraphStore) -> None:
    write(
        store,
        companies("T") + persons("P", "Q"),
        [Ownership("P", "T", 70), Ownership("Q", "T", 60)],
    )
    report = ownership_report(store, "T", DAY)
    assert summary(report.owners) == {"P": (70.0, True), "Q": (60.0, True)}
    assert [(i.kind, i.value) for i in report.issues] == [(IssueKind.HOLDINGS_OVER_100, 130.0)]
    assert views.data_issue_doc(report.issues[0])["kind"] == "HOLDINGS_OVER_100"


def test_links_without_a_share(store: GraphStore) -> None:
    write(
        store, companies("D", "T") + persons("P"), [Ownership("P", "D"), Ownership("D", "T", 100)]
    )
    report = ownership_report(store, "T", DAY)
    assert report.owners == []
    assert [i.kind for i in report.issues] == [IssueKind.MISSING_SHARE]
    closure = {
        h.entity.id: (h.effective_share, h.depth) for h in ownership_closure(store, "T", DAY)
    }
    assert closure == {"D": (100.0, 1), "P": (0.0, 2)}
    assert [h.entity.id for h in ownership_closure(store, "T", DAY, min_share=1.0)] == ["D"]


def test_exactly_fifty_is_not_control_exactly_twenty_five_is_an_owner(store: GraphStore) -> None:
    write(
        store,
        companies("T", "U") + persons("P", "Q", "R"),
        [
            Ownership("P", "T", 50),
            Ownership("Q", "T", 25),
            Ownership("R", "T", 24.99),
            Ownership("P", "U", 50.01),
        ],
    )
    assert summary(beneficial_owners(store, "T", DAY)) == {"P": (50.0, False), "Q": (25.0, False)}
    assert summary(beneficial_owners(store, "U", DAY)) == {"P": (50.01, True)}


def test_control_without_hop_limit(store: GraphStore) -> None:
    chain = [f"C{i}" for i in range(1, 13)]
    links: list[Link] = [Ownership("P", "C1", 100)]
    links += [Ownership(a, b, 60) for a, b in itertools.pairwise(chain)]
    write(store, companies(*chain) + persons("P"), links)
    (owner,) = beneficial_owners(store, "C12", DAY)
    # 12 links: beyond the 10-hop limit for the share, not for control.
    assert (owner.person.id, owner.effective_share, owner.controls) == ("P", 0.0, True)
    assert [list(p.nodes) for p in owner.paths] == [["P", *chain]]
    (deep,) = beneficial_owners(store, "C12", DAY, threshold=0.01, max_hops=12)
    assert deep.effective_share == pytest.approx(100 * 0.6**11)
    closure = {h.entity.id: h for h in ownership_closure(store, "C12", DAY)}
    assert closure["P"].depth == 12 and closure["P"].controls


def test_actual_controller_is_a_beneficial_owner(store: GraphStore) -> None:
    write(
        store,
        companies("A", "B") + persons("P", "Q"),
        [
            Ownership("Q", "A", 20),
            Ownership("A", "B", 100),
            Officer("P", "A", OfficerRole.ACTUAL_CONTROLLER),
            Officer("Q", "A", OfficerRole.DIRECTOR),
        ],
    )
    owners = beneficial_owners(store, "B", DAY)
    assert summary(owners) == {"P": (0.0, True)}
    links = owners[0].paths[0].links
    assert [(link.type.value, link.role) for link in links] == [
        ("OFFICER_OF", OfficerRole.ACTUAL_CONTROLLER),
        ("OWNS", None),
    ]
    down = {h.entity.id: h for h in ownership_closure(store, "P", DAY, ClosureDirection.DOWN)}
    assert {k: (h.effective_share, h.controls, h.depth) for k, h in down.items()} == {
        "A": (0.0, True, 1),
        "B": (0.0, True, 2),
    }


def test_links_count_only_while_in_force(store: GraphStore) -> None:
    write(
        store,
        companies("T") + persons("P", "Q"),
        [
            Ownership("P", "T", 60, start=date(2020, 1, 1), end=date(2023, 1, 1)),
            Ownership("Q", "T", 60, start=date(2023, 1, 1)),
        ],
    )
    assert summary(beneficial_owners(store, "T", date(2022, 12, 31))) == {"P": (60.0, True)}
    assert summary(beneficial_owners(store, "T", date(2023, 1, 1))) == {"Q": (60.0, True)}


def test_unknown_ids_and_wrong_kinds(store: GraphStore) -> None:
    write(store, companies("T") + persons("P"), [Ownership("P", "T", 100)])
    with pytest.raises(NotFound):
        beneficial_owners(store, "nope", DAY)
    with pytest.raises(NotFound):
        ownership_closure(store, "nope", DAY)
    with pytest.raises(InvalidInput):
        beneficial_owners(store, "P", DAY)
    with pytest.raises(InvalidInput):
        beneficial_owners(store, "T", DAY, threshold=101)
    assert ownership_closure(store, "P", DAY) == []


def test_json_shapes_are_camel_case(store: GraphStore) -> None:
    write(
        store,
        companies("D", "T") + persons("P"),
        [Ownership("P", "D", 80), Ownership("D", "T", 60)],
    )
    report = ownership_report(store, "T", DAY)
    (owner,) = report.owners
    document = views.beneficial_owner_doc(owner, report.nodes)
    assert set(document) == {
        "person",
        "effectiveShare",
        "effectiveShareMax",
        "possible",
        "controls",
        "paths",
    }
    assert document["person"] == {"id": "P", "name": "Person P", "kind": "PERSON"}
    assert document["effectiveShare"] == 48.0 and document["controls"] is True
    assert document["paths"][0]["links"][0] == {
        "type": "OWNS",
        "from": "P",
        "to": "D",
        "role": None,
        "share": 80.0,
        "start": None,
        "end": None,
        "quantity": None,
    }
    holding = views.effective_holding_doc(ownership_closure(store, "T", DAY)[0])
    assert set(holding) == {"entity", "effectiveShare", "controls", "depth"}
    assert holding["entity"]["kind"] == "COMPANY"
    json.dumps([document, holding])
