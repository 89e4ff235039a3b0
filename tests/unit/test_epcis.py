"""EPCIS 2.0 identifiers, schema check and mapping without a store (loaders/interop/epcis.py)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from loaders.interop.epcis import (
    _biz_step,
    batch_id_of,
    check_digit,
    document_errors,
    gln_of,
    map_document,
    read_party_map,
)

HERE = Path(__file__).resolve().parent.parent / "fixtures" / "epcis"


def _document() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((HERE / "milk-to-cheese.jsonld").read_text())
    return loaded


def test_gtin_check_digit_of_gs1_examples() -> None:
    # GS1 General Specifications' worked example (GTIN-13 4006381333931) and a GTIN-14.
    assert check_digit("400638133393") == "1"
    assert check_digit("1061414112345") == "9"
    assert check_digit("0061414112345") == "2"


def test_lgtin_gives_gtin14_with_indicator_first() -> None:
    # urn:epc:class:lgtin:0614141.112345.LOT: indicator 1, then prefix and item reference.
    assert batch_id_of("urn:epc:class:lgtin:0614141.112345.A%2FB") == ("10614141123459", "A/B")


@pytest.mark.parametrize(
    ("urn", "link"),
    [
        (
            "urn:epc:class:lgtin:4012345.011111.4444",
            "https://id.gs1.org/01/04012345111118/10/4444",
        ),
        (
            "urn:epc:class:lgtin:0614141.112345.L1",
            "https://example.com/shop/01/10614141123459/10/L1/21/778?linkType=all",
        ),
    ],
)
def test_urn_and_digital_link_give_the_same_batch(urn: str, link: str) -> None:
    assert batch_id_of(urn) == batch_id_of(link)


def test_digital_link_pads_a_gtin13() -> None:
    assert batch_id_of("https://id.gs1.org/01/4006381333931/10/X") == ("04006381333931", "X")


def test_wrong_check_digit_is_an_error() -> None:
    with pytest.raises(Exception, match="check digit"):
        batch_id_of("https://id.gs1.org/01/04012345111119/10/4444")


def test_gln_forms_agree() -> None:
    forms = [
        "urn:epc:id:pgln:0614141.00001",
        "urn:epc:id:sgln:0614141.00001.0",
        "https://id.gs1.org/417/0614141000012",
        "https://id.gs1.org/414/0614141000012/254/7",
    ]
    assert {gln_of(f) for f in forms} == {"0614141000012"}
    assert gln_of("https://example.org/party/1") is None


def test_biz_step_forms() -> None:
    for step in (
        "shipping",
        "urn:epcglobal:cbv:bizstep:shipping",
        "https://ref.gs1.org/cbv/BizStep-shipping",
    ):
        assert _biz_step({"bizStep": step}) == "shipping"


def test_fixture_validates() -> None:
    assert document_errors(_document()) == []


def test_schema_errors_name_the_event_and_the_rule() -> None:
    document = _document()
    document["epcisBody"]["eventList"][2]["inputQuantityList"][0]["quantity"] = "many"
    document["epcisBody"]["eventList"][1]["bizStep"] = "urn:epcglobal:cbv:bizstep:shipping"
    errors = document_errors(document)
    assert any(e.startswith("event 3 inputQuantityList/0/quantity:") for e in errors)
    assert any("schema: " in e and "quantity/type" in e for e in errors)
    assert any(e.startswith("event 2 bizStep") and "bare name" in e for e in errors)


def test_mapping_of_the_fixture() -> None:
    mapping = map_document(_document(), lambda glns: {}, read_party_map(HERE / "party-map.csv"))
    assert mapping.rejects == []
    assert mapping.skipped == {"epcis:ObjectEvent receiving": 1}
    products = {r["id"]: r["name"] for r in mapping.rows["products.csv"]}
    assert products == {"04012345111118": "Raw cow milk", "04012345222227": "Aged cheddar"}
    (produced,) = mapping.rows["produced.csv"]
    # 23:30 UTC on 29 February is 1 March at the event's +08:00.
    assert (produced["company_id"], produced["date"]) == ("FARM", "2024-03-01")
    (made,) = mapping.rows["transformations.csv"]
    assert made["by_id"] == "DAIRY"
    assert [s["to_id"] for s in mapping.rows["shipments.csv"]] == ["DAIRY", "SHOP"]


def test_store_identifiers_map_a_party_and_the_party_map_wins() -> None:
    asked: list[str] = []

    def resolve(glns: Any) -> dict[str, list[str]]:
        asked.extend(glns)
        return {g: [f"C-{g}"] for g in glns}

    mapping = map_document(_document(), resolve, {"0614141000005": "FARM"})
    assert "0614141000005" not in asked
    assert mapping.rows["produced.csv"][0]["company_id"] == "FARM"
    assert mapping.rows["shipments.csv"][0]["to_id"] == "C-4012345000009"


def test_unmapped_party_and_missing_event_id_are_rejects() -> None:
    document = _document()
    events = document["epcisBody"]["eventList"]
    del events[2]["eventID"]
    mapping = map_document(document, lambda glns: {}, {"0614141000005": "FARM"})
    by_event = {index: (column, reason) for index, column, reason, _ in mapping.rejects}
    assert by_event[3][0] == "eventID"
    assert "GLN 4012345000009" in by_event[2][1]
    assert 1 not in by_event
    assert mapping.rows["transformations.csv"] == []


def test_a_party_shared_by_two_companies_is_a_reject() -> None:
    mapping = map_document(_document(), lambda glns: {g: ["A", "B"] for g in glns}, {})
    assert all("several companies" in reason for _, _, reason, _ in mapping.rejects)


def test_party_map_checks_glns(tmp_path: Path) -> None:
    bad = tmp_path / "map.csv"
    bad.write_text("gln,company_id\n0614141000006,FARM\n")
    with pytest.raises(Exception, match="line 2: GLN check digit"):
        read_party_map(bad)


def test_document_is_not_changed_by_mapping() -> None:
    document = _document()
    before = copy.deepcopy(document)
    map_document(document, lambda glns: {}, {})
    assert document == before
