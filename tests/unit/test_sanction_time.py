"""When a sanction record is in force (spec/DOMAIN.md "Time" and "Due process"): date edges,
maximum publicity periods, and repaired or revoked records."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from graph.model import Sanction, SanctionList, SanctionStatus, Severity
from graph.rules.engine import add_months, sanction_ended_on, sanction_in_force
from graph.rules.schema import PublicityPolicy, load_rules

DAY = timedelta(days=1)


@pytest.fixture
def policy() -> PublicityPolicy:
    return load_rules(None).publicity


def record(listed: SanctionList = SanctionList.SERIOUS_DISHONEST, **fields: object) -> Sanction:
    return Sanction("s1", "c1", listed, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2024, 1, 15), 1, date(2024, 2, 15)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap year: last day of February
        (date(2023, 1, 31), 1, date(2023, 2, 28)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 2, 29), 48, date(2028, 2, 29)),
        (date(2023, 11, 30), 3, date(2024, 2, 29)),
        (date(2023, 12, 31), 36, date(2026, 12, 31)),
        (date(2024, 3, 31), -1, date(2024, 2, 29)),
        (date(2024, 5, 5), 0, date(2024, 5, 5)),
    ],
)
def test_add_months_is_calendar_exact(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


def test_in_force_from_start_inclusive_to_end_exclusive(policy: PublicityPolicy) -> None:
    s = record(SanctionList.MARKET_BAN, start=date(2024, 3, 1), end=date(2024, 9, 1))
    assert not sanction_in_force(s, date(2024, 2, 29), policy)
    assert sanction_in_force(s, date(2024, 3, 1), policy)
    assert sanction_in_force(s, date(2024, 8, 31), policy)
    assert not sanction_in_force(s, date(2024, 9, 1), policy)
    assert sanction_ended_on(s, policy) == date(2024, 9, 1)


def test_without_start_the_decision_date_counts(policy: PublicityPolicy) -> None:
    s = record(SanctionList.MARKET_BAN, decided=date(2024, 3, 1))
    assert not sanction_in_force(s, date(2024, 2, 29), policy)
    assert sanction_in_force(s, date(2024, 3, 1), policy)


def test_without_any_date_a_record_counts_since_ever(policy: PublicityPolicy) -> None:
    s = record()
    assert sanction_in_force(s, date(1990, 1, 1), policy)
    assert sanction_in_force(s, date(2099, 1, 1), policy)
    assert sanction_ended_on(s, policy) is None  # no start: no maximum to count from


@pytest.mark.parametrize(
    ("listed", "severity", "start", "last_day"),
    [
        # serious: 3 years
        (SanctionList.SERIOUS_DISHONEST, None, date(2020, 3, 1), date(2023, 2, 28)),
        (SanctionList.MAJOR_TAX_VIOLATION, None, date(2020, 2, 29), date(2023, 2, 27)),
        (SanctionList.ADMIN_PENALTY, Severity.SERIOUS, date(2021, 6, 15), date(2024, 6, 14)),
        # general: 1 year
        (SanctionList.ABNORMAL_OPERATION, None, date(2023, 1, 31), date(2024, 1, 30)),
        (SanctionList.ADMIN_PENALTY, Severity.GENERAL, date(2023, 5, 10), date(2024, 5, 9)),
        (SanctionList.ADMIN_PENALTY, None, date(2023, 5, 10), date(2024, 5, 9)),  # as general
        # minor: 3 months
        (SanctionList.ADMIN_PENALTY, Severity.MINOR, date(2023, 11, 30), date(2024, 2, 28)),
    ],
)
def test_the_maximum_publicity_period_ends_a_record(
    policy: PublicityPolicy,
    listed: SanctionList,
    severity: Severity | None,
    start: date,
    last_day: date,
) -> None:
    s = record(listed, severity=severity, start=start)
    assert sanction_in_force(s, last_day, policy)
    assert not sanction_in_force(s, last_day + DAY, policy)
    assert sanction_ended_on(s, policy) == last_day + DAY


def test_the_maximum_applies_even_when_the_end_is_later(policy: PublicityPolicy) -> None:
    s = record(start=date(2020, 1, 1), end=date(2030, 1, 1))
    assert sanction_ended_on(s, policy) == date(2023, 1, 1)
    assert not sanction_in_force(s, date(2023, 1, 1), policy)


def test_an_end_before_the_maximum_wins(policy: PublicityPolicy) -> None:
    s = record(start=date(2020, 1, 1), end=date(2021, 7, 1))
    assert sanction_ended_on(s, policy) == date(2021, 7, 1)
    assert sanction_in_force(s, date(2021, 6, 30), policy)
    assert not sanction_in_force(s, date(2021, 7, 1), policy)


@pytest.mark.parametrize(
    "listed", [SanctionList.MARKET_BAN, SanctionList.DISHONEST_JUDGMENT_DEBTOR]
)
def test_market_bans_and_judgment_debtors_have_no_maximum(
    policy: PublicityPolicy, listed: SanctionList
) -> None:
    open_ended = record(listed, start=date(2010, 1, 1))
    assert sanction_in_force(open_ended, date(2030, 1, 1), policy)
    assert sanction_ended_on(open_ended, policy) is None
    dated = record(listed, start=date(2010, 1, 1), end=date(2025, 1, 1))
    assert sanction_in_force(dated, date(2024, 12, 31), policy)
    assert not sanction_in_force(dated, date(2025, 1, 1), policy)


@pytest.mark.parametrize("status", [SanctionStatus.REPAIRED, SanctionStatus.REVOKED])
def test_repaired_and_revoked_records_stop_on_their_status_date(
    policy: PublicityPolicy, status: SanctionStatus
) -> None:
    s = record(
        SanctionList.MARKET_BAN, start=date(2023, 1, 1), status=status, status_date=date(2024, 2, 1)
    )
    assert not sanction_in_force(s, date(2022, 12, 31), policy)
    assert sanction_in_force(s, date(2023, 1, 1), policy)
    assert sanction_in_force(s, date(2024, 1, 31), policy)  # history: in force until the change
    assert not sanction_in_force(s, date(2024, 2, 1), policy)
    assert sanction_ended_on(s, policy) == date(2024, 2, 1)


def test_a_status_change_after_the_natural_end_does_not_extend_it(policy: PublicityPolicy) -> None:
    s = record(
        start=date(2020, 1, 1),
        status=SanctionStatus.REPAIRED,
        status_date=date(2024, 6, 1),
    )
    assert sanction_ended_on(s, policy) == date(2023, 1, 1)  # the 3-year maximum came first
    assert not sanction_in_force(s, date(2023, 6, 1), policy)


def test_a_status_change_without_a_date_means_the_record_never_counted(
    policy: PublicityPolicy,
) -> None:
    s = record(start=date(2023, 1, 1), status=SanctionStatus.REPAIRED)
    assert not sanction_in_force(s, date(2023, 1, 1), policy)
    assert not sanction_in_force(s, date(2023, 6, 1), policy)
    assert sanction_ended_on(s, policy) == date(2023, 1, 1)


def test_an_active_record_ignores_a_stray_status_date(policy: PublicityPolicy) -> None:
    s = record(SanctionList.MARKET_BAN, start=date(2023, 1, 1), status_date=date(2023, 6, 1))
    assert sanction_in_force(s, date(2024, 1, 1), policy)


def test_disputed_records_are_still_in_force(policy: PublicityPolicy) -> None:
    s = record(start=date(2023, 1, 1), disputed=True)
    assert sanction_in_force(s, date(2023, 1, 1), policy)
