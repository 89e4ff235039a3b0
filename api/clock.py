"""The one clock: the only place creditnet reads today's date.

Everything below ``api/`` takes the day as a parameter (``as_of``, ``today``); the API context and
the command line get "today" from a :data:`Clock`, so a test or a replay can fix the date by
handing one in instead of patching a module.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TypeAlias

__all__ = ["Clock", "fixed_clock", "system_clock"]

Clock: TypeAlias = Callable[[], date]
"""Returns the current day."""


def system_clock() -> date:
    """Today, on this machine's calendar."""
    return date.today()


def fixed_clock(day: date) -> Clock:
    """A clock that always says ``day``.

    >>> fixed_clock(date(2024, 5, 1))()
    datetime.date(2024, 5, 1)
    """
    return lambda: day
