"""The rules file: the shipped default matches DOMAIN.md, and bad files are refused with messages
that name the file, the rule and the field."""

from __future__ import annotations

import copy
from collections.abc import Callable
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from graph.errors import RulesError
from graph.model import (
    PRINCIPAL_ROLES,
    Direction,
    EntityKind,
    LinkType,
    Measure,
    OfficerRole,
    Sanction,
    SanctionList,
    Severity,
)
from graph.rules.schema import (
    Grade,
    MeasureKind,
    RuleSet,
    SubjectKind,
    load_rules,
    parse_rules,
)

Raw = dict[str, Any]

R1_SUBJECT = {
    Measure.PROCUREMENT_BAN,
    Measure.BIDDING_BAN,
    Measure.SUBSIDY_BAN,
    Measure.FINANCING_RESTRICTION,
    Measure.HONOR_BAN,
    Measure.ENHANCED_SUPERVISION,
}


def default_raw() -> Raw:
    text = resources.files("graph.rules").joinpath("default.yaml").read_text(encoding="utf-8")
    raw: Raw = yaml.safe_load(text)
    return raw


def write(tmp_path: Path, raw: Raw, name: str = "agency.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def rule_of(raw: Raw, rule_id: str) -> Raw:
    found: Raw = next(r for r in raw["rules"] if r["id"] == rule_id)
    return found


# -- the shipped default -----------------------------------------------------------------------


def test_default_rules_match_the_domain_table() -> None:
    rules = load_rules(None)
    assert rules.version == 2
    assert rules.name
    assert [r.id for r in rules.rules] == [f"R{i}" for i in range(1, 12)]

    r1 = rules.rule("R1")
    assert r1.trigger.lists == {SanctionList.SERIOUS_DISHONEST, SanctionList.MAJOR_TAX_VIOLATION}
    assert r1.subject.kind is SubjectKind.COMPANY
    assert set(r1.subject.measures) == R1_SUBJECT
    officers, controlled = r1.reaches
    assert (officers.edge, officers.direction, officers.roles, officers.max_hops) == (
        LinkType.OFFICER_OF,
        Direction.IN,
        PRINCIPAL_ROLES,
        1,
    )
    assert set(officers.measures) == {Measure.OFFICER_APPOINTMENT_BAN, Measure.HONOR_BAN}
    assert (controlled.edge, controlled.direction, controlled.control, controlled.max_hops) == (
        LinkType.OWNS,
        Direction.OUT,
        True,
        3,
    )
    assert set(controlled.measures) == {Measure.ENHANCED_SUPERVISION}

    r2 = rules.rule("R2")
    assert r2.trigger.lists == {SanctionList.DISHONEST_JUDGMENT_DEBTOR}
    assert r2.subject.kind is SubjectKind.COMPANY
    assert set(r2.subject.measures) == {
        Measure.PROCUREMENT_BAN,
        Measure.BIDDING_BAN,
        Measure.FINANCING_RESTRICTION,
        Measure.HIGH_CONSUMPTION_BAN,
    }
    officers, controllers = r2.reaches
    assert officers.roles == PRINCIPAL_ROLES | {OfficerRole.ACTUAL_CONTROLLER}
    assert (controllers.edge, controllers.direction, controllers.control) == (
        LinkType.OWNS,
        Direction.IN,
        True,
    )
    assert controllers.max_hops is None  # control has no hop limit
    assert controllers.target_kinds == {EntityKind.PERSON}
    assert all(set(r.measures) == {Measure.HIGH_CONSUMPTION_BAN} for r in r2.reaches)

    r3 = rules.rule("R3")
    assert r3.subject.kind is SubjectKind.PERSON
    assert set(r3.subject.measures) == {
        Measure.HIGH_CONSUMPTION_BAN,
        Measure.OFFICER_APPOINTMENT_BAN,
        Measure.PROCUREMENT_BAN,
    }
    (companies,) = r3.reaches
    assert (companies.edge, companies.direction, companies.roles) == (
        LinkType.OFFICER_OF,
        Direction.OUT,
        frozenset({OfficerRole.LEGAL_REPRESENTATIVE}),
    )
    assert set(companies.measures) == {Measure.ENHANCED_SUPERVISION}

    r4 = rules.rule("R4")
    assert r4.trigger.lists == {SanctionList.MARKET_BAN}
    assert set(r4.subject.measures) == R1_SUBJECT | {Measure.MARKET_ENTRY_BAN}
    (officers,) = r4.reaches
    assert officers.roles == PRINCIPAL_ROLES | {OfficerRole.DIRECTOR}
    assert set(officers.measures) == {Measure.MARKET_ENTRY_BAN, Measure.OFFICER_APPOINTMENT_BAN}

    r5 = rules.rule("R5")
    assert r5.subject.kind is SubjectKind.PERSON
    assert set(r5.subject.measures) == {Measure.MARKET_ENTRY_BAN, Measure.OFFICER_APPOINTMENT_BAN}
    assert r5.reaches == ()

    for rule_id in ("R6", "R7"):
        rule = rules.rule(rule_id)
        assert rule.subject.kind is SubjectKind.ANY
        assert set(rule.subject.measures) == {Measure.ENHANCED_SUPERVISION, Measure.HONOR_BAN}
        assert rule.reaches == ()
    assert rules.rule("R7").trigger.severities == frozenset({Severity.SERIOUS})


def test_every_default_measure_has_a_legal_basis_citing_a_source() -> None:
    for rule in load_rules(None).rules:
        bases = list(rule.subject.measures.values())
        bases += [b for reach in rule.reaches for b in reach.measures.values()]
        for basis in bases:
            assert "《" in basis or "国发" in basis, (rule.id, basis)
            assert "\n" not in basis


def test_default_score_and_publicity_match_the_domain() -> None:
    rules = load_rules(None)
    score = rules.score

    def points(listed: SanctionList, severity: Severity | None = None) -> int:
        return rules.catalogue.own_points(Sanction("s", "c", listed, severity=severity))

    assert points(SanctionList.SERIOUS_DISHONEST) == 400
    assert points(SanctionList.DISHONEST_JUDGMENT_DEBTOR) == 350
    assert points(SanctionList.MAJOR_TAX_VIOLATION) == 300
    assert points(SanctionList.MARKET_BAN) == 500
    assert points(SanctionList.ABNORMAL_OPERATION) == 100
    assert points(SanctionList.ADMIN_PENALTY, Severity.MINOR) == 20
    assert points(SanctionList.ADMIN_PENALTY, Severity.GENERAL) == 60
    assert points(SanctionList.ADMIN_PENALTY, Severity.SERIOUS) == 150
    assert points(SanctionList.ADMIN_PENALTY) == 60  # no severity recorded: general
    assert points(SanctionList.EXTERNAL_SANCTION) == 0
    assert points(SanctionList.WAGE_ARREARS) == 300
    assert points(SanctionList.SOCIAL_INSURANCE_FRAUD) == 300
    assert points(SanctionList.COMMITMENT_BREACH, Severity.MINOR) == 30
    assert points(SanctionList.COMMITMENT_BREACH, Severity.GENERAL) == 80
    assert points(SanctionList.COMMITMENT_BREACH, Severity.SERIOUS) == 200
    assert points(SanctionList.COMMITMENT_BREACH) == 80  # as recorded, default general
    # The ended-record factor is 20% for every shipped list.
    entries = rules.catalogue.lists
    assert {name: entry.ended_factor for name, entry in entries.items()} == {
        name: Decimal("0.2") for name in SanctionList
    }
    assert score.ended_window_months == 36
    assert (score.relationship_points, score.relationship_cap) == (50, 200)
    assert [score.grade(s) for s in (1000, 900, 899, 700, 699, 500, 499, 0)] == [
        Grade.A,
        Grade.A,
        Grade.B,
        Grade.B,
        Grade.C,
        Grade.C,
        Grade.D,
        Grade.D,
    ]

    periods = rules.publicity.periods
    assert (periods[Severity.MINOR].minimum_months, periods[Severity.MINOR].maximum_months) == (
        0,
        3,
    )
    assert (
        periods[Severity.GENERAL].minimum_months,
        periods[Severity.GENERAL].maximum_months,
    ) == (3, 12)
    assert (
        periods[Severity.SERIOUS].minimum_months,
        periods[Severity.SERIOUS].maximum_months,
    ) == (12, 36)
    assert rules.publicity.no_maximum == {
        SanctionList.MARKET_BAN,
        SanctionList.DISHONEST_JUDGMENT_DEBTOR,
    }


def test_default_catalogue_matches_the_domain() -> None:
    catalogue = load_rules(None).catalogue
    # The enums name exactly the shipped catalogue (they are its constants, not the catalogue).
    assert set(catalogue.list_names) == set(SanctionList)
    assert set(catalogue.measure_names()) == set(Measure)
    defaults = {name: entry.default_severity for name, entry in catalogue.lists.items()}
    assert defaults == {
        SanctionList.SERIOUS_DISHONEST: Severity.SERIOUS,
        SanctionList.DISHONEST_JUDGMENT_DEBTOR: Severity.SERIOUS,
        SanctionList.MAJOR_TAX_VIOLATION: Severity.SERIOUS,
        SanctionList.MARKET_BAN: Severity.SERIOUS,
        SanctionList.ABNORMAL_OPERATION: Severity.GENERAL,
        SanctionList.ADMIN_PENALTY: None,  # as recorded
        SanctionList.EXTERNAL_SANCTION: Severity.GENERAL,
        SanctionList.WAGE_ARREARS: Severity.SERIOUS,
        SanctionList.SOCIAL_INSURANCE_FRAUD: Severity.SERIOUS,
        SanctionList.COMMITMENT_BREACH: Severity.GENERAL,
        SanctionList.PRODUCT_SAFETY_VIOLATION: Severity.SERIOUS,
    }
    assert catalogue.measure_names(MeasureKind.INCENTIVE) == (
        Measure.GREEN_CHANNEL,
        Measure.REDUCED_INSPECTION,
        Measure.FINANCING_PREFERENCE,
        Measure.NOTIFICATION_COMMITMENT,
    )
    assert catalogue.measure_names(MeasureKind.NOTICE) == (Measure.RECALL_NOTICE,)
    assert catalogue.measure_kind("NOTIFICATION_COMMITMENT_BAN") is MeasureKind.RESTRICTION
    assert catalogue.measure_kind("PROVINCIAL_NOTICE") is None
    assert all(entry.meaning for entry in catalogue.lists.values())
    assert all(entry.meaning for entry in catalogue.measures.values())
    # EXTERNAL_SANCTION: no rule, so no measure, unless an agency's rules say so.
    rules = load_rules(None)
    assert not [r for r in rules.rules if SanctionList.EXTERNAL_SANCTION in r.trigger.lists]


def test_default_rules_r8_to_r10_match_the_domain_table() -> None:
    rules = load_rules(None)
    r8 = rules.rule("R8")
    assert r8.name == "wage-arrears"
    assert r8.trigger.lists == {SanctionList.WAGE_ARREARS}
    assert r8.trigger.severities is None
    assert r8.subject.kind is SubjectKind.COMPANY
    assert set(r8.subject.measures) == R1_SUBJECT
    (officers,) = r8.reaches
    assert (officers.edge, officers.direction, officers.roles, officers.max_hops) == (
        LinkType.OFFICER_OF,
        Direction.IN,
        PRINCIPAL_ROLES,
        1,
    )
    assert set(officers.measures) == {Measure.HIGH_CONSUMPTION_BAN, Measure.HONOR_BAN}

    r9 = rules.rule("R9")
    assert r9.name == "social-insurance-fraud"
    assert r9.trigger.lists == {SanctionList.SOCIAL_INSURANCE_FRAUD}
    assert r9.subject.kind is SubjectKind.ANY  # a company or a person
    assert set(r9.subject.measures) == {
        Measure.SUBSIDY_BAN,
        Measure.HONOR_BAN,
        Measure.ENHANCED_SUPERVISION,
    }
    assert r9.reaches == ()

    r10 = rules.rule("R10")
    assert r10.name == "commitment-breach"
    assert r10.trigger.lists == {SanctionList.COMMITMENT_BREACH}
    assert r10.trigger.severities is None  # any severity
    assert r10.subject.kind is SubjectKind.ANY
    assert set(r10.subject.measures) == {
        Measure.NOTIFICATION_COMMITMENT_BAN,
        Measure.ENHANCED_SUPERVISION,
    }
    assert r10.reaches == ()


def test_the_new_rules_cite_their_instruments() -> None:
    rules = load_rules(None)
    r8 = rules.rule("R8")
    for basis in [*r8.subject.measures.values(), *r8.reaches[0].measures.values()]:
        if "《保障农民工工资支付条例》" in basis:
            assert "第四十八条" in basis
    assert "《保障农民工工资支付条例》第四十八条" in r8.subject.measures[Measure.PROCUREMENT_BAN]
    assert "第四十八条" in r8.reaches[0].measures[Measure.HIGH_CONSUMPTION_BAN]
    r9 = rules.rule("R9").subject.measures
    assert "《中华人民共和国社会保险法》第八十八条" in r9[Measure.SUBSIDY_BAN]
    assert "发改财金〔2018〕1704号" in r9[Measure.HONOR_BAN]
    r10 = rules.rule("R10").subject.measures
    assert "国办发〔2020〕42号" in r10[Measure.NOTIFICATION_COMMITMENT_BAN]
    assert "国办发〔2020〕42号" in r10[Measure.ENHANCED_SUPERVISION]


def test_catalogue_helpers() -> None:
    catalogue = load_rules(None).catalogue
    assert catalogue.has_list("WAGE_ARREARS") and not catalogue.has_list("PROVINCIAL_X")
    # Severity: as recorded, else the list's default, else general.
    recorded = Sanction("s", "c", SanctionList.SERIOUS_DISHONEST, severity=Severity.MINOR)
    assert catalogue.severity_of(recorded) is Severity.MINOR
    assert catalogue.severity_of(Sanction("s", "c", "WAGE_ARREARS")) is Severity.SERIOUS
    assert catalogue.severity_of(Sanction("s", "c", "ADMIN_PENALTY")) is Severity.GENERAL
    assert catalogue.severity_of(Sanction("s", "c", "PROVINCIAL_X")) is Severity.GENERAL
    # Ended points: the factor, rounded down (20% of 30 is 6, of 80 is 16).
    breach = Sanction("s", "c", "COMMITMENT_BREACH", severity=Severity.MINOR)
    assert (catalogue.own_points(breach), catalogue.ended_points(breach)) == (30, 6)
    assert catalogue.ended_points(Sanction("s", "c", "COMMITMENT_BREACH")) == 16
    # A record on a list these rules do not define cannot be weighed: the error says what to do.
    with pytest.raises(RulesError, match=r"the list PROVINCIAL_X is not in the lists catalogue"):
        catalogue.own_points(Sanction("s", "c", "PROVINCIAL_X"))


def test_shipped_names_are_kept_as_their_constants() -> None:
    rules = load_rules(None)
    assert Sanction("s", "c", "MARKET_BAN").list is SanctionList.MARKET_BAN
    assert all(type(name) is SanctionList for name in rules.catalogue.list_names)
    assert all(type(m) is Measure for rule in rules.rules for m in rule.measures)
    agency = Sanction("s", "c", "PROVINCIAL_X")
    assert type(agency.list) is str and agency.list == "PROVINCIAL_X"


AGENCY_LIST = {
    "meaning": "provincial list of dishonest food producers",
    "default_severity": "serious",
    "weight": 250,
    "ended_factor": 0.25,
}


def test_an_agency_adds_a_list_a_measure_and_a_rule(tmp_path: Path) -> None:
    raw = default_raw()
    raw["lists"]["PROVINCIAL_X"] = AGENCY_LIST
    raw["measures"]["PROVINCIAL_BAN"] = {"meaning": "no provincial tenders", "kind": "restriction"}
    raw["rules"].append(
        {
            "id": "P1",
            "name": "provincial",
            "trigger": {"lists": ["PROVINCIAL_X"]},
            "subject": {"kind": "ANY", "measures": {"PROVINCIAL_BAN": "《某省条例》第十条"}},
        }
    )
    rules = load_rules(write(tmp_path, raw))
    record = Sanction("s", "c", "PROVINCIAL_X")
    assert [r.id for r in rules.rules_for(record, EntityKind.COMPANY)] == ["P1"]
    assert rules.catalogue.own_points(record) == 250
    assert rules.catalogue.ended_points(record) == 62  # 25% of 250, rounded down
    assert rules.catalogue.list_entry("PROVINCIAL_X").ended_percent == "25"
    assert rules.rule("P1").measures == {"PROVINCIAL_BAN"}


def test_a_copy_of_the_default_loads_from_a_file(tmp_path: Path) -> None:
    path = write(tmp_path, default_raw())
    rules = load_rules(path)
    assert rules.source == str(path)
    assert rules.rules == load_rules(None).rules
    assert rules.score == load_rules(None).score


def test_a_legal_basis_list_is_joined_and_a_text_is_kept(tmp_path: Path) -> None:
    raw = default_raw()
    measures = rule_of(raw, "R6")["subject"]["measures"]
    measures["ENHANCED_SUPERVISION"] = ["《甲》第一条", " 《乙》第二条 "]
    measures["HONOR_BAN"] = "《丙》第三条"
    rule = load_rules(write(tmp_path, raw)).rule("R6")
    assert rule.subject.measures[Measure.ENHANCED_SUPERVISION] == "《甲》第一条；《乙》第二条"
    assert rule.subject.measures[Measure.HONOR_BAN] == "《丙》第三条"


def test_a_rules_file_may_omit_optional_fields(tmp_path: Path) -> None:
    raw = default_raw()
    raw["rules"] = [
        {
            "id": "X1",
            "name": "watch-subsidiaries",
            "trigger": {"lists": ["ABNORMAL_OPERATION"]},
            "subject": {"kind": "COMPANY"},
            "reaches": [
                {
                    "name": "subsidiaries",
                    "edge": "OWNS",
                    "direction": "OUT",
                    "max_hops": 2,
                    "measures": {"ENHANCED_SUPERVISION": "《某办法》"},
                }
            ],
        }
    ]
    rules = load_rules(write(tmp_path, raw))
    (rule,) = rules.rules
    assert rule.subject.measures == {}
    assert rule.reaches[0].roles is None
    assert rule.reaches[0].control is False


# -- bad files ---------------------------------------------------------------------------------


Mutation = Callable[[Raw], None]


def _set(path: list[str | int], value: object) -> Mutation:
    def mutate(raw: Raw) -> None:
        target: Any = raw
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def _rule(rule_id: str, change: Callable[[Raw], None]) -> Mutation:
    def mutate(raw: Raw) -> None:
        change(rule_of(raw, rule_id))

    return mutate


def _reach(rule_id: str, index: int, **values: object) -> Mutation:
    def change(rule: Raw) -> None:
        rule["reaches"][index].update(values)

    return _rule(rule_id, change)


def _drop_reach_field(rule_id: str, index: int, field: str) -> Mutation:
    def change(rule: Raw) -> None:
        del rule["reaches"][index][field]

    return _rule(rule_id, change)


def _add_notice_to_a_reach(raw: Raw) -> None:
    raw["measures"]["RECALL_NOTICE"] = {"meaning": "recall the batch", "kind": "notice"}
    rule_of(raw, "R1")["reaches"][0]["measures"]["RECALL_NOTICE"] = "《某办法》"


BAD_FILES: list[tuple[str, Mutation, list[str]]] = [
    (
        "unknown list",
        _rule("R1", lambda r: r["trigger"].update(lists=["SERIOUS_DISHONEST", "BLACKLIST"])),
        ["rule R1", "trigger.lists[1]", "SERIOUS_DISHONEST"],
    ),
    (
        "unknown severity",
        _rule("R7", lambda r: r["trigger"].update(severities=["grave"])),
        ["rule R7", "trigger.severities[0]"],
    ),
    (
        "unknown measure on the subject",
        _rule("R2", lambda r: r["subject"]["measures"].update(TRAVEL_BAN="《某规定》")),
        ["rule R2", "subject.measures.TRAVEL_BAN (key)"],
    ),
    (
        "unknown measure in a reach",
        _reach("R3", 0, measures={"NAME_AND_SHAME": "《某规定》"}),
        ["rule R3", "reaches[0].measures.NAME_AND_SHAME (key)"],
    ),
    (
        "unknown role",
        _reach("R4", 0, roles=["director", "boss"]),
        ["rule R4", "reaches[0].roles[1]", "legal_representative"],
    ),
    (
        "unknown edge type",
        _reach("R1", 0, edge="MARRIED_TO"),
        ["rule R1", "reaches[0].edge", "OFFICER_OF"],
    ),
    (
        "edge type a rule cannot follow",
        _reach("R1", 0, edge="REGISTERED_AT", roles=None),
        ["rule R1", "reaches[0].edge", "REGISTERED_AT"],
    ),
    (
        "unknown subject kind",
        _rule("R6", lambda r: r["subject"].update(kind="ADDRESS")),
        ["rule R6", "subject.kind"],
    ),
    (
        "misspelt field",
        _reach("R1", 1, max_hop=2),
        ["rule R1", "reaches[1].max_hop", "Extra inputs are not permitted"],
    ),
    (
        "missing legal basis",
        _rule("R5", lambda r: r["subject"]["measures"].update(MARKET_ENTRY_BAN="  ")),
        ["rule R5", "subject.measures.MARKET_ENTRY_BAN"],
    ),
    (
        "reach without measures",
        _reach("R3", 0, measures={}),
        ["rule R3", "reaches[0].measures"],
    ),
    (
        "roles on an ownership reach",
        _reach("R1", 1, roles=["director"]),
        ["rule R1", "reaches[1].roles", "only OFFICER_OF"],
    ),
    (
        "control on an officer reach",
        _reach("R1", 0, control=True),
        ["rule R1", "reaches[0].control"],
    ),
    (
        "officer reach of two hops",
        _reach("R4", 0, max_hops=2),
        ["rule R4", "reaches[0].max_hops"],
    ),
    (
        "ownership reach without a hop limit or control",
        _reach("R1", 1, control=False, max_hops=None),
        ["rule R1", "reaches[1].max_hops", "hop limit"],
    ),
    (
        "zero hops",
        _reach("R1", 1, max_hops=0),
        ["rule R1", "reaches[1].max_hops"],
    ),
    (
        "direction BOTH",
        _reach("R1", 0, direction="BOTH"),
        ["rule R1", "reaches[0].direction", "OUT or IN"],
    ),
    (
        "incoming links on a person subject",
        _rule("R5", lambda r: r.update(reaches=[dict(rule_of(default_raw(), "R4")["reaches"][0])])),
        ["rule R5", "reaches[0].direction", "PERSON"],
    ),
    (
        "target kind the edge cannot reach",
        _reach("R3", 0, target_kind="PERSON"),
        ["rule R3", "reaches[0].target_kind"],
    ),
    (
        "missing reach field",
        _drop_reach_field("R2", 1, "edge"),
        ["rule R2", "reaches[1].edge", "field required"],
    ),
    (
        "duplicate rule id",
        _rule("R2", lambda r: r.update(id="R1")),
        ["rule R1", "id", "another rule"],
    ),
    (
        "rule without id",
        _rule("R3", lambda r: r.pop("id")),
        ["rule #3", "id", "field required"],
    ),
    (
        "rule without measures",
        _rule("R6", lambda r: r["subject"].update(measures={})),
        ["rule R6", "no measure"],
    ),
    (
        "unsupported version",
        _set(["version"], 3),
        ["version", "version 3"],
    ),
    (
        "version 1 file",
        _set(["version"], 1),
        ["version", "format version 1", "lists:", "measures:", "version: 2"],
    ),
    (
        "score weights left in a version 2 file",
        _set(["score", "own_sanction"], {"MARKET_BAN": 500}),
        ["score", "own_sanction", "lists catalogue"],
    ),
    (
        "no lists",
        lambda raw: raw.pop("lists"),
        ["lists", "field required"],
    ),
    (
        "no measures",
        _set(["measures"], {}),
        ["measures", "at least 1"],
    ),
    (
        "list without a weight",
        lambda raw: raw["lists"]["MARKET_BAN"].pop("weight"),
        ["list MARKET_BAN: weight", "field required"],
    ),
    (
        "list without a meaning",
        lambda raw: raw["lists"]["MARKET_BAN"].pop("meaning"),
        ["list MARKET_BAN: meaning", "field required"],
    ),
    (
        "list without an ended factor",
        lambda raw: raw["lists"]["WAGE_ARREARS"].pop("ended_factor"),
        ["list WAGE_ARREARS: ended_factor", "field required"],
    ),
    (
        "ended factor over 1",
        _set(["lists", "WAGE_ARREARS", "ended_factor"], 20),
        ["list WAGE_ARREARS: ended_factor", "less than or equal to 1"],
    ),
    (
        "negative ended factor",
        _set(["lists", "WAGE_ARREARS", "ended_factor"], -0.2),
        ["list WAGE_ARREARS: ended_factor", "greater than or equal to 0"],
    ),
    (
        "negative weight",
        _set(["lists", "SOCIAL_INSURANCE_FRAUD", "weight"], -300),
        ["list SOCIAL_INSURANCE_FRAUD: weight", "must not be negative"],
    ),
    (
        "negative weight for a severity",
        _set(["lists", "ADMIN_PENALTY", "weight"], {"minor": -1, "general": 60, "serious": 150}),
        ["list ADMIN_PENALTY: weight", "points for minor", "-1"],
    ),
    (
        "severity weights incomplete",
        _set(["lists", "ADMIN_PENALTY", "weight"], {"minor": 20}),
        ["list ADMIN_PENALTY: weight", "no points for general, serious"],
    ),
    (
        "weight for an unknown severity",
        _set(["lists", "COMMITMENT_BREACH", "weight"], {"minor": 1, "general": 2, "grave": 3}),
        ["list COMMITMENT_BREACH: weight", "'grave' is not a severity"],
    ),
    (
        "weight that is not a number",
        _set(["lists", "MARKET_BAN", "weight"], "a lot"),
        ["list MARKET_BAN: weight", "whole points"],
    ),
    (
        "unknown default severity",
        _set(["lists", "MARKET_BAN", "default_severity"], "grave"),
        ["list MARKET_BAN: default_severity"],
    ),
    (
        "misspelt list field",
        _set(["lists", "MARKET_BAN", "weigth"], 5),
        ["list MARKET_BAN: weigth", "Extra inputs are not permitted"],
    ),
    (
        "list name not in upper case",
        _set(
            ["lists", "provincial-x"],
            {"meaning": "x", "default_severity": None, "weight": 1, "ended_factor": 0.2},
        ),
        ["list provincial-x: name", "upper-case letters, digits and _"],
    ),
    (
        "measure name not in upper case",
        _set(["measures", "Recall notice"], {"meaning": "x", "kind": "notice"}),
        ["measure Recall notice: name", "upper-case letters, digits and _"],
    ),
    (
        "unknown measure kind",
        _set(["measures", "HONOR_BAN", "kind"], "penalty"),
        ["measure HONOR_BAN: kind", "restriction", "incentive", "notice"],
    ),
    (
        "misspelt measure field",
        _set(["measures", "HONOR_BAN", "meanings"], "x"),
        ["measure HONOR_BAN: meanings", "Extra inputs are not permitted"],
    ),
    (
        "trigger on a list not in the catalogue",
        lambda raw: raw["lists"].pop("WAGE_ARREARS"),
        ["rule R8", "trigger.lists[0]", "WAGE_ARREARS is not in the lists catalogue", "lists:"],
    ),
    (
        "measure not in the catalogue",
        lambda raw: raw["measures"].pop("NOTIFICATION_COMMITMENT_BAN"),
        [
            "rule R10",
            "subject.measures.NOTIFICATION_COMMITMENT_BAN (key)",
            "not in the measures catalogue",
        ],
    ),
    (
        "incentive measure imposed on a subject",
        _rule("R6", lambda r: r["subject"]["measures"].update(GREEN_CHANNEL="《某办法》")),
        ["rule R6", "subject.measures.GREEN_CHANNEL (key)", "kind incentive", "restriction"],
    ),
    (
        "notice measure imposed through a reach",
        _add_notice_to_a_reach,
        ["rule R1", "reaches[0].measures.RECALL_NOTICE (key)", "kind notice", "restriction"],
    ),
    (
        "negative points",
        _set(["score", "relationship_points"], -5),
        ["score.relationship_points"],
    ),
    (
        "grades out of order",
        _set(["score", "grades"], {"A": 700, "B": 900, "C": 500}),
        ["score.grades", "decrease"],
    ),
    (
        "publicity period missing",
        lambda raw: raw["publicity"]["periods"].pop("minor"),
        ["publicity.periods.minor", "field required"],
    ),
    (
        "publicity minimum over maximum",
        _set(["publicity", "periods", "general"], {"minimum_months": 24, "maximum_months": 12}),
        ["publicity.periods.general", "minimum_months exceeds"],
    ),
    (
        "no-maximum list unknown",
        _set(["publicity", "no_maximum"], ["MARKET_BAN", "FOREVER"]),
        ["publicity.no_maximum[1]"],
    ),
]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [pytest.param(m, e, id=name) for name, m, e in BAD_FILES],
)
def test_a_bad_rules_file_is_refused_naming_file_rule_and_field(
    tmp_path: Path, mutate: Mutation, expected: list[str]
) -> None:
    raw = copy.deepcopy(default_raw())
    mutate(raw)
    path = write(tmp_path, raw)
    with pytest.raises(RulesError) as caught:
        load_rules(path)
    message = str(caught.value)
    assert str(path) in message
    for fragment in expected:
        assert fragment in message, (fragment, message)
    # Every line of the message names the file.
    assert all(line.startswith(f"{path}: ") for line in message.splitlines())


def test_several_problems_are_reported_together(tmp_path: Path) -> None:
    raw = default_raw()
    rule_of(raw, "R1")["trigger"]["lists"] = ["NOPE"]
    rule_of(raw, "R4")["reaches"][0]["roles"] = ["nobody"]
    with pytest.raises(RulesError) as caught:
        load_rules(write(tmp_path, raw))
    message = str(caught.value)
    assert "rule R1: trigger.lists[0]" in message
    assert "rule R4: reaches[0].roles[0]" in message


def test_duplicate_yaml_keys_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    text = resources.files("graph.rules").joinpath("default.yaml").read_text(encoding="utf-8")
    text = text.replace("    name: serious-dishonest\n", "    name: a\n    name: b\n", 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RulesError, match=r"dup\.yaml: not valid YAML: .*duplicate key 'name'"):
        load_rules(path)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("rules: [unclosed\n", "not valid YAML"),
        ("- just\n- a list\n", "a rules file is a mapping"),
        ("", "a rules file is a mapping"),
    ],
)
def test_unreadable_rules_files_are_refused(tmp_path: Path, text: str, fragment: str) -> None:
    # parse_rules: load_rules refuses a file without a top-level version line before parsing it.
    path = tmp_path / "broken.yaml"
    with pytest.raises(RulesError, match=fragment) as caught:
        parse_rules(text, str(path))
    assert str(caught.value).startswith(f"{path}: ")


def test_a_missing_rules_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    with pytest.raises(RulesError, match="cannot read the rules file") as caught:
        load_rules(path)
    assert str(path) in str(caught.value)


def test_rules_errors_are_usage_errors_for_the_cli() -> None:
    assert RulesError.exit_code == 2
    assert RulesError.code == "BAD_USER_INPUT"


def test_parse_rules_names_the_given_source() -> None:
    with pytest.raises(RulesError, match=r"^inline\.yaml: lists: field required"):
        parse_rules("version: 2\nname: x\nrules: []\n", "inline.yaml")


def test_a_broken_catalogue_entry_does_not_blame_the_rules_that_use_it(tmp_path: Path) -> None:
    raw = default_raw()
    raw["measures"]["HONOR_BAN"]["kind"] = "penalty"
    raw["lists"]["MARKET_BAN"]["weight"] = -1
    with pytest.raises(RulesError) as caught:
        load_rules(write(tmp_path, raw))
    lines = str(caught.value).splitlines()
    assert len(lines) == 2, lines
    assert "measure HONOR_BAN: kind" in lines[1] or "measure HONOR_BAN: kind" in lines[0]
    assert not any("rule " in line for line in lines)


def test_rule_matching_uses_list_severity_and_subject_kind() -> None:
    rules: RuleSet = load_rules(None)
    serious = Sanction("s1", "x", SanctionList.ADMIN_PENALTY, severity=Severity.SERIOUS)
    general = Sanction("s2", "x", SanctionList.ADMIN_PENALTY)
    debtor = Sanction("s3", "x", SanctionList.DISHONEST_JUDGMENT_DEBTOR)
    assert [r.id for r in rules.rules_for(serious, EntityKind.PERSON)] == ["R7"]
    assert rules.rules_for(general, EntityKind.COMPANY) == []
    assert [r.id for r in rules.rules_for(debtor, EntityKind.COMPANY)] == ["R2"]
    assert [r.id for r in rules.rules_for(debtor, EntityKind.PERSON)] == ["R3"]
