"""``objection list``, ``repair list``, ``cases`` and a detailed ``review show`` on the demo data
(issue 11 item 17)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from api.cli import app

runner = CliRunner()
DAY = "2026-11-28"


def _cli(args: list[str], data: Path) -> str:
    result = runner.invoke(app, [*args, "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_cases_are_listed_by_kind_subject_and_status(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _cli(["load", "--demo", "--json"], data)
    _cli(["objection", "file", "S0008", "--reason", "paid", "--actor", "clerk", "--json"], data)
    objections = json.loads(_cli(["objection", "list", "--json"], data))
    assert objections["totalCount"] == 1
    [case] = objections["cases"]
    assert (case["kind"], case["subjectId"], case["status"]) == ("objection", "S0008", "open")
    assert json.loads(_cli(["repair", "list", "--json"], data))["totalCount"] == 0
    every = json.loads(_cli(["cases", "--json"], data))
    assert [c["id"] for c in every["cases"]] == [case["id"]]
    assert json.loads(_cli(["cases", "--status", "upheld", "--json"], data))["cases"] == []
    assert json.loads(_cli(["cases", "--subject", "S0001", "--json"], data))["cases"] == []
    assert case["id"] in _cli(["objection", "list", "--subject", "S0008"], data)


def test_review_show_names_authority_description_and_legal_basis(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _cli(["load", "--demo", "--json"], data)
    listed = json.loads(_cli(["review", "list", "--as-of", DAY, "--json"], data))
    candidate = next(c for c in listed["candidates"] if c["evidence"])
    shown = _cli(["review", "show", candidate["id"], "--as-of", DAY], data)
    record = candidate["evidence"][0]["sanction"]
    assert "authority:" in shown and "description:" in shown and "legal basis:" in shown
    flat = " ".join(shown.split())
    for field in ("authority", "legalBasis"):
        if record[field]:
            assert " ".join(record[field].split())[:10] in flat, field
