"""The rules file: the shipped default matches DOMAIN.md, and bad files are refused with messages
that name the file, the rule and the field."""

from __future__ import annotations

import copy
from collections.abc import Callable
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
from graph.rules.schema import Grade, RuleSet, SubjectKind, load_rules, parse_rules

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
    assert rules.version == 1
    assert rules.name
    assert [r.id for r in rules.rules] == ["R1", "R2", "R3", "R4", "R5", "R6", "R7"]

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
        return score.own_points(Sanction("s", "c", listed, severity=severity))

    assert points(SanctionList.SERIOUS_DISHONEST) == 400
    assert points(SanctionList.DISHONEST_JUDGMENT_DEBTOR) == 350
    assert points(SanctionList.MAJOR_TAX_VIOLATION) == 300
    assert points(SanctionList.MARKET_BAN) == 500
    assert points(SanctionList.ABNORMAL_OPERATION) == 100
    assert points(SanctionList.ADMIN_PENALTY, Severity.MINOR) == 20
    assert points(SanctionList.ADMIN_PENALTY, Severity.GENERAL) == 60
    assert points(SanctionList.ADMIN_PENALTY, Severity.SERIOUS) == 150
    assert points(SanctionList.ADMIN_PENALTY) == 60  # no severity recorded: general
    assert (score.ended_percent, score.ended_window_months) == (20, 36)
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
        _set(["version"], 2),
        ["version", "version 2"],
    ),
    (
        "missing score weight",
        lambda raw: raw["score"]["own_sanction"].pop("MARKET_BAN"),
        ["score.own_sanction.MARKET_BAN", "field required"],
    ),
    (
        "score weight for an unknown list",
        lambda raw: raw["score"]["own_sanction"].update(WATCHLIST=10),
        ["score.own_sanction.WATCHLIST (key)"],
    ),
    (
        "severity weights incomplete",
        _set(["score", "own_sanction", "ADMIN_PENALTY"], {"minor": 20}),
        ["score.own_sanction.ADMIN_PENALTY", "general, serious"],
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
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RulesError, match=fragment) as caught:
        load_rules(path)
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
    with pytest.raises(RulesError, match=r"^inline\.yaml: score: field required"):
        parse_rules("version: 1\nname: x\nrules: []\n", "inline.yaml")


def test_rule_matching_uses_list_severity_and_subject_kind() -> None:
    rules: RuleSet = load_rules(None)
    serious = Sanction("s1", "x", SanctionList.ADMIN_PENALTY, severity=Severity.SERIOUS)
    general = Sanction("s2", "x", SanctionList.ADMIN_PENALTY)
    debtor = Sanction("s3", "x", SanctionList.DISHONEST_JUDGMENT_DEBTOR)
    assert [r.id for r in rules.rules_for(serious, EntityKind.PERSON)] == ["R7"]
    assert rules.rules_for(general, EntityKind.COMPANY) == []
    assert [r.id for r in rules.rules_for(debtor, EntityKind.COMPANY)] == ["R2"]
    assert [r.id for r in rules.rules_for(debtor, EntityKind.PERSON)] == ["R3"]
