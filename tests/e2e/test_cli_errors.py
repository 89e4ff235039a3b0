"""Errors a script can read, and secrets kept out of output (issue 11 items 7 and 10)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from api.cli import app
from api.cli.common import Common, command, redact
from graph.errors import BackendUnavailable, Conflict, NotFound, RulesError
from graph.memory import MemoryStore
from graph.model import Company
from graph.rules.schema import MAX_RULES, MAX_RULES_BYTES, load_rules
from graph.store import WriteBatch
from tests.conftest import ROOT

runner = CliRunner()


def _seeded(folder: Path) -> Path:
    """A data dir with one company: read commands refuse a folder without creditnet data."""
    with MemoryStore(folder) as store:
        store.write(WriteBatch(nodes=[Company("C1", "Acme")]))
    return folder


def _error(stdout: str) -> dict[str, object]:
    document = json.loads(stdout)  # exactly one JSON document, nothing else on stdout
    assert set(document) == {"error"}
    error: dict[str, object] = document["error"]
    return error


def test_json_error_for_not_found(tmp_path: Path) -> None:
    data = str(_seeded(tmp_path))
    result = runner.invoke(app, ["report", "NOPE", "--data-dir", data, "--json"])
    assert result.exit_code == 3, result.output
    error = _error(result.stdout)
    assert error["code"] == "NOT_FOUND" and "NOPE" in str(error["message"])
    assert error["exitCode"] == 3


def test_json_error_for_usage(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["report", "X", "--as-of", "yesterday", "--data-dir", str(tmp_path), "--json"]
    )
    assert result.exit_code == 2
    assert _error(result.stdout)["code"] == "USAGE"


def test_text_error_without_json(tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", "NOPE", "--data-dir", str(_seeded(tmp_path))])
    assert result.exit_code == 3 and result.stdout == ""
    assert "error:" in result.stderr


@pytest.mark.parametrize(
    ("error", "exit_code", "code"),
    [
        (Conflict("the case changed"), 5, "CONFLICT"),
        (BackendUnavailable("Neo4j is busy"), 5, "BACKEND_UNAVAILABLE"),
        (NotFound("x"), 3, "NOT_FOUND"),
        (RuntimeError("boom at bolt://neo4j:s3cret@db:7687"), 1, "INTERNAL_ERROR"),
    ],
)
def test_exit_codes(error: Exception, exit_code: int, code: str, tmp_path: Path) -> None:
    test_app = typer.Typer()

    def explode(*, common: Common) -> None:
        raise error

    command(test_app, "explode")(explode)
    command(test_app, "other")(explode)
    result = runner.invoke(test_app, ["explode", "--json", "--data-dir", str(tmp_path)])
    assert result.exit_code == exit_code
    found = _error(result.stdout)
    assert found["code"] == code and "s3cret" not in result.output


def test_credentials_are_redacted() -> None:
    assert redact("cannot reach neo4j://neo4j:hunter2@db:7687/x") == (
        "cannot reach neo4j://***@db:7687/x"
    )


def test_password_on_the_command_line_warns_and_file_is_read(tmp_path: Path) -> None:
    _seeded(tmp_path)
    result = runner.invoke(
        app, ["stats", "--data-dir", str(tmp_path), "--neo4j-password", "pw", "--json"]
    )
    assert result.exit_code == 0 and "--neo4j-password-file" in result.stderr
    secret = tmp_path / "pw.txt"
    secret.write_text("from-a-file\n")
    result = runner.invoke(
        app, ["stats", "--data-dir", str(tmp_path), "--neo4j-password-file", str(secret)]
    )
    assert result.exit_code == 0 and "warning" not in result.stderr


def test_a_rules_error_never_quotes_a_file_that_is_no_rules_file(tmp_path: Path) -> None:
    other = tmp_path / "shadow"
    other.write_text("root:$6$secrethash$xyz:19000:0:99999:7:::\n  daemon: [*: 1\n")
    result = runner.invoke(app, ["report", "X", "--data-dir", str(tmp_path), "--rules", str(other)])
    assert result.exit_code == 2, result.output
    assert "secrethash" not in result.output and "daemon" not in result.output
    assert "not a creditnet rules file" in result.output


def test_rules_files_are_bounded(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="not a regular file"):
        load_rules(Path("/dev/zero"))
    big = tmp_path / "big.yaml"
    big.write_text("version: 2\n" + "#" * MAX_RULES_BYTES)
    with pytest.raises(RulesError, match="larger than"):
        load_rules(big)
    shipped = yaml.safe_load((ROOT / "graph/rules/default.yaml").read_text(encoding="utf-8"))
    first = shipped["rules"][0]
    shipped["rules"] = [{**first, "id": f"X{i}"} for i in range(MAX_RULES + 1)]
    many = tmp_path / "many.yaml"
    many.write_text(yaml.safe_dump(shipped, allow_unicode=True), encoding="utf-8")
    with pytest.raises(RulesError, match=f"more than {MAX_RULES} rules"):
        load_rules(many)
