"""Review and shell thresholds have one home: Settings, from CREDITNET_REVIEW__* variables."""

from __future__ import annotations

import pytest

from api.settings import Settings
from queries.due_process import ReviewSettings


def test_review_thresholds_come_from_nested_environment_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CREDITNET_REVIEW__WINDOW_MONTHS", "12")
    monkeypatch.setenv("CREDITNET_REVIEW__SHELL__NOMINEE_MIN_POSITIONS", "5")
    review = Settings().review
    assert review.window_months == 12
    assert review.shell.nominee_min_positions == 5
    assert review.min_fined_penalties == ReviewSettings().min_fined_penalties


def test_review_settings_are_values_that_read_no_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CREDITNET_REVIEW__WINDOW_MONTHS", "12")
    monkeypatch.setenv("CREDITNET_REVIEW_WINDOW_MONTHS", "12")
    assert ReviewSettings().window_months == 24
    with pytest.raises(ValueError, match="window_months"):
        ReviewSettings(window_months=0)
