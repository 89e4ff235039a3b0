"""Cells written to CSV files that people open in spreadsheets (OWASP "CSV injection").

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and some also after a
leading tab or carriage return) as a formula: a company name such as ``=HYPERLINK(...)`` in a
restriction list would run on the reviewer's machine. Such cells get a leading single quote,
which spreadsheets show as text and which a reader can strip.
"""

from __future__ import annotations

__all__ = ["FORMULA_STARTS", "spreadsheet_safe"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str) -> str:
    """``value`` with a leading ``'`` when a spreadsheet would read it as a formula.

    Examples
    --------
    >>> spreadsheet_safe("=cmd|' /C calc'!A0")
    "'=cmd|' /C calc'!A0"
    >>> spreadsheet_safe("Acme Trading")
    'Acme Trading'
    """
    return "'" + value if value.startswith(FORMULA_STARTS) else value
