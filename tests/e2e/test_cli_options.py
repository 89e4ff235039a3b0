"""Common options before the command name; a data dir without data is said to be one (issue 11
item 17)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from api.cli import app
from graph.memory import MemoryStore
from graph.model import Company, Sanction, SanctionList
from graph.store import WriteBatch

runner = CliRunner()


def _seeded(folder: Path) -> Path:
    with MemoryStore(folder) as store:
        store.write(
            WriteBatch(nodes=[Company("C1", "Acme"), Sanction("S1", "C1", SanctionList.MARKET_BAN)])
        )
    return folder


def test_common_options_work_before_the_command_name(tmp_path: Path) -> None:
    data = str(_seeded(tmp_path / "data"))
    before = runner.invoke(app, ["--data-dir", data, "--json", "report", "C1"])
    after = runner.invoke(app, ["report", "C1", "--data-dir", data, "--json"])
    assert before.exit_code == 0, before.output
    assert json.loads(before.stdout) == json.loads(after.stdout)
    assert json.loads(before.stdout)["entity"]["name"] == "Acme"
    stats = runner.invoke(app, ["--data-dir", data, "stats", "--json"])
    assert stats.exit_code == 0 and json.loads(stats.stdout)["nodes"]["Company"] == 1


def test_an_option_after_the_command_name_wins(tmp_path: Path) -> None:
    data = str(_seeded(tmp_path / "data"))
    typo = str(tmp_path / "typo")
    result = runner.invoke(app, ["--data-dir", typo, "report", "C1", "--data-dir", data])
    assert result.exit_code == 0, result.output


def test_a_mistyped_data_dir_is_named_not_answered_from(tmp_path: Path) -> None:
    typo = tmp_path / "creditnet-dta"
    for args in (["report", "C1"], ["restrictions"], ["stats"], ["signals", "C1"]):
        result = runner.invoke(app, [*args, "--data-dir", str(typo)])
        assert result.exit_code == 2, (args, result.output)
        assert f"{typo} holds no creditnet data" in result.stderr.replace("\n", ""), args
    assert not typo.exists()  # a read does not create the folder it was pointed at


def test_an_empty_store_says_it_is_empty(tmp_path: Path) -> None:
    data = tmp_path / "data"
    MemoryStore(data).close()  # opened by creditnet, nothing loaded
    report = runner.invoke(app, ["report", "C1", "--data-dir", str(data), "--json"])
    assert report.exit_code == 2
    assert "is empty" in json.loads(report.stdout)["error"]["message"]
    # stats answers: zero is what it is asked for
    stats = runner.invoke(app, ["stats", "--data-dir", str(data), "--json"])
    assert stats.exit_code == 0 and sum(json.loads(stats.stdout)["nodes"].values()) == 0
