"""The incentive and supervision sections of a rules file: checked, with file, rule and field in
every message."""

from __future__ import annotations

from importlib import resources

import pytest
import yaml

from graph.errors import RulesError
from graph.rules.schema import ConditionKind, Grade, parse_rules


def _default() -> dict[str, object]:
    text = resources.files("graph.rules").joinpath("default.yaml").read_text(encoding="utf-8")
    loaded: dict[str, object] = yaml.safe_load(text)
    return loaded


def _parse(data: dict[str, object]) -> None:
    parse_rules(yaml.safe_dump(data, allow_unicode=True), "mine.yaml")


def test_shipped_incentives_and_classes() -> None:
    rules = parse_rules(
        resources.files("graph.rules").joinpath("default.yaml").read_text(encoding="utf-8")
    )
    assert [(r.id, r.name) for r in rules.incentives] == [
        ("I1", "trustworthy"),
        ("I2", "commitment-keeper"),
    ]
    assert [c.test for c in rules.incentives[0].conditions] == [
        ConditionKind.GRADE,
        ConditionKind.NO_RESTRICTION,
        ConditionKind.NO_PRINCIPAL_RESTRICTION,
        ConditionKind.NO_OWN_RECORD,
    ]
    assert "国办发〔2020〕42号" in rules.incentives[1].grants["NOTIFICATION_COMMITMENT"]
    assert rules.supervision is not None
    assert [str(rules.supervision.rate(g)) for g in Grade] == ["0.03", "0.1", "0.3", "1.0"]


def test_a_restriction_granted_as_an_incentive_is_refused() -> None:
    data = _default()
    data["incentives"][0]["grants"]["BIDDING_BAN"] = "x"  # type: ignore[index]
    with pytest.raises(RulesError) as error:
        _parse(data)
    assert "mine.yaml: incentive I1: grants.BIDDING_BAN" in str(error.value)
    assert "kind restriction" in str(error.value)


def test_a_condition_with_a_field_of_another_test_is_refused() -> None:
    data = _default()
    data["incentives"][1]["conditions"][2]["window_months"] = 12  # type: ignore[index]
    with pytest.raises(RulesError, match=r"incentive I2: conditions\[2\].*no_restriction .*"):
        _parse(data)
    data = _default()
    del data["incentives"][0]["conditions"][0]["grades"]  # type: ignore[index]
    with pytest.raises(RulesError, match=r"incentive I1: conditions\[0\].*needs grades"):
        _parse(data)


def test_supervision_classes_are_checked() -> None:
    data = _default()
    classes = data["supervision"]["classes"]  # type: ignore[index]
    classes[2]["incentive"] = "I9"
    classes.pop(0)
    with pytest.raises(RulesError) as error:
        _parse(data)
    message = str(error.value)
    assert "mine.yaml: supervision.classes: class D must appear exactly once" in message
    assert "incentive: I9 is not an incentive rule of this file (I1, I2)" in message
