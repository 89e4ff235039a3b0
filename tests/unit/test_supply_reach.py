"""The supply reach of the rules file (``edge: SUPPLY_DOWNSTREAM``, rule R11): the shipped rule,
and files that misuse the edge refused with messages naming the rule, the reach and the field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import yaml

from graph.errors import RulesError
from graph.model import Measure, SanctionList, Severity
from graph.rules.schema import MeasureKind, SubjectKind, SupplyEdge, load_rules, parse_rules
from tests.unit.test_rules_schema import Raw, default_raw, rule_of

SUPPLY = {
    "name": "receivers",
    "edge": "SUPPLY_DOWNSTREAM",
    "measures": {"RECALL_NOTICE": "《中华人民共和国食品安全法》第六十三条"},
}


def _problems(edit: Callable[[Raw], Any]) -> str:
    raw = default_raw()
    edit(raw)
    with pytest.raises(RulesError) as caught:
        parse_rules(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), "agency.yaml")
    return str(caught.value)


def _parsed(edit: Callable[[Raw], Any]) -> Any:
    raw = default_raw()
    edit(raw)
    return parse_rules(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), "agency.yaml")


def test_r11_ships_with_its_catalogue_entries_and_legal_bases() -> None:
    rules = load_rules(None)
    catalogue = rules.catalogue
    entry = catalogue.list_entry(SanctionList.PRODUCT_SAFETY_VIOLATION)
    assert (entry.default_severity, entry.points(Severity.SERIOUS)) == (Severity.SERIOUS, 300)
    assert "第四十九条" in entry.meaning and "第五十条" in entry.meaning
    assert catalogue.measure_kind(Measure.RECALL_NOTICE) is MeasureKind.NOTICE

    r11 = rules.rule("R11")
    assert r11.trigger.lists == {SanctionList.PRODUCT_SAFETY_VIOLATION}
    assert r11.subject.kind is SubjectKind.COMPANY
    assert set(r11.subject.measures) == {Measure.ENHANCED_SUPERVISION, Measure.HONOR_BAN}
    # The supply reach is kept apart: officer and ownership walkers never see it.
    assert r11.reaches == ()
    [reach] = r11.supply_reaches
    assert reach.edge is SupplyEdge.DOWNSTREAM
    assert set(reach.measures) == {Measure.RECALL_NOTICE}
    basis = reach.measures[Measure.RECALL_NOTICE]
    assert "食品安全法》第六十三条" in basis and "药品管理法》第八十二条" in basis
    assert "第一百一十三条" in r11.subject.measures[Measure.ENHANCED_SUPERVISION]
    # No other rule walks supply links.
    assert [r.id for r in rules.rules if r.supply_reaches] == ["R11"]


def test_a_supply_reach_is_accepted_on_any_subject_and_beside_link_reaches() -> None:
    def edit(raw: Raw) -> None:
        r6 = rule_of(raw, "R6")  # ABNORMAL_OPERATION, subject kind ANY
        r6["reaches"] = [SUPPLY, *rule_of(raw, "R1")["reaches"]]

    r6 = _parsed(edit).rule("R6")
    assert [r.edge.value for r in r6.reaches] == ["OFFICER_OF", "OWNS"]
    assert [r.name for r in r6.supply_reaches] == ["receivers"]
    assert r6.reach_label(0) == "reaches[1]" and r6.reach_label(0, supply=True) == "reaches[0]"


def test_a_supply_reach_on_a_person_rule_is_refused() -> None:
    message = _problems(lambda raw: rule_of(raw, "R3")["reaches"].insert(0, SUPPLY))
    assert "agency.yaml: rule R3: reaches[0].edge: a SUPPLY_DOWNSTREAM reach starts from the " in (
        message
    )
    assert "use subject kind COMPANY (or ANY)" in message


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("roles", ["legal_representative"], "roles: roles filter OFFICER_OF reaches"),
        ("control", True, "control: control is an OWNS condition"),
        ("direction", "OUT", "direction: a SUPPLY_DOWNSTREAM reach always runs downstream"),
        ("max_hops", 3, "max_hops: a SUPPLY_DOWNSTREAM reach reaches every receiver"),
        ("target_kind", "COMPANY", "target_kind: a SUPPLY_DOWNSTREAM reach ends at companies"),
    ],
)
def test_link_reach_fields_on_a_supply_reach_are_refused_by_name(
    field: str, value: object, expected: str
) -> None:
    message = _problems(lambda raw: rule_of(raw, "R11")["reaches"][0].__setitem__(field, value))
    assert message.startswith("agency.yaml: rule R11: reaches[0]")
    assert expected in message


def test_measure_kinds_follow_the_edge() -> None:
    restriction = _problems(
        lambda raw: rule_of(raw, "R11")["reaches"][0]["measures"].__setitem__("HONOR_BAN", "x")
    )
    assert (
        "rule R11: reaches[0].measures.HONOR_BAN (key): HONOR_BAN is a measure of kind "
        "restriction in the catalogue; a supply reach gives only measures of kind notice"
    ) in restriction
    notice = _problems(
        lambda raw: rule_of(raw, "R1")["reaches"][0]["measures"].__setitem__("RECALL_NOTICE", "x")
    )
    assert "rule R1: reaches[0].measures.RECALL_NOTICE (key): RECALL_NOTICE is a measure of " in (
        notice
    )
    subject = _problems(
        lambda raw: rule_of(raw, "R11")["subject"]["measures"].__setitem__("RECALL_NOTICE", "x")
    )
    assert "a rule imposes only measures of kind restriction" in subject


def test_an_unknown_supply_edge_names_the_supply_edges() -> None:
    message = _problems(
        lambda raw: rule_of(raw, "R11")["reaches"][0].__setitem__("edge", "SUPPLY_UPSTREAM")
    )
    assert message == (
        "agency.yaml: rule R11: reaches[0].edge: Input should be 'SUPPLY_DOWNSTREAM'"
    )
    other = _problems(lambda raw: rule_of(raw, "R1")["reaches"][0].__setitem__("edge", "SHIPPED"))
    assert "a rule follows OFFICER_OF, OWNS or SUPPLY_DOWNSTREAM links, not 'SHIPPED'" in other


def test_messages_give_each_reach_its_place_in_the_file() -> None:
    def edit(raw: Raw) -> None:
        r11 = rule_of(raw, "R11")
        broken_owns = {"name": "x", "edge": "OWNS", "direction": "OUT", "measures": {}}
        broken_supply = {**SUPPLY, "measures": {"NOT_A_MEASURE": "x"}}
        r11["reaches"] = [SUPPLY, broken_owns, broken_supply]

    message = _problems(edit)
    assert "rule R11: reaches[1].measures: " in message
    assert "rule R11: reaches[2].measures.NOT_A_MEASURE (key): NOT_A_MEASURE is not in " in message
    checked = _problems(
        lambda raw: rule_of(raw, "R11")["reaches"].extend(
            [{**rule_of(raw, "R1")["reaches"][1], "control": False, "max_hops": None}]
        )
    )
    assert checked == (
        "agency.yaml: rule R11: reaches[1].max_hops: an OWNS reach without control needs a hop "
        "limit"
    )


def test_a_rule_whose_only_measures_are_notices_is_accepted() -> None:
    def edit(raw: Raw) -> None:
        rule_of(raw, "R11")["subject"]["measures"] = {}

    r11 = _parsed(edit).rule("R11")
    assert not r11.measures and len(r11.supply_reaches) == 1
