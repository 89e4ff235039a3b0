"""The command line as a user runs it (a subprocess), on both stores: exit codes and --json."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from graph.store import GraphStore
from tests.conftest import neo4j_test_uri

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-c", "from api.cli import main; main()"]


@pytest.fixture
def env(store: GraphStore, tmp_path: Path) -> dict[str, str]:
    """The environment of a CLI run against the same backend as ``store`` (which is empty)."""
    values = {k: v for k, v in os.environ.items() if not k.startswith("CREDITNET_")}
    values["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), values.get("PYTHONPATH")]))
    values["CREDITNET_DATA_DIR"] = str(tmp_path / "data")
    if store.name == "neo4j":
        values["CREDITNET_STORE"] = "neo4j"
        values["CREDITNET_NEO4J_URI"] = neo4j_test_uri()
        user = os.environ.get("CREDITNET_TEST_NEO4J_USER")
        if user:
            values["CREDITNET_NEO4J_USER"] = user
            values["CREDITNET_NEO4J_PASSWORD"] = os.environ.get("CREDITNET_TEST_NEO4J_PASSWORD", "")
    return values


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_load_stats_and_report(env: dict[str, str], tmp_path: Path) -> None:
    loaded = run(["load", "--demo", "--json"], env, tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    summary = json.loads(loaded.stdout)
    assert summary["applied"] is True and summary["rejected"] == 0

    stats = run(["stats", "--json"], env, tmp_path)
    assert stats.returncode == 0, stats.stderr
    counts = json.loads(stats.stdout)
    assert set(counts) == {"nodes", "links"}
    assert counts["nodes"]["Company"] == summary["files"]["companies.csv"]["written"]

    again = run(["load", "--demo", "--json"], env, tmp_path)
    assert again.returncode == 0
    assert json.loads(run(["stats", "--json"], env, tmp_path).stdout) == counts

    report = run(["report", "P0010", "--as-of", "2026-11-27", "--json"], env, tmp_path)
    assert report.returncode == 0, report.stderr
    document = json.loads(report.stdout)
    assert document["entity"]["id"] == "P0010"
    assert 1000 - sum(d["points"] for d in document["deductions"]) == document["score"]
    assert {r["measure"] for r in document["restrictions"]} >= {"OFFICER_APPOINTMENT_BAN"}
    first = next(r for r in document["restrictions"] if r["measure"] == "OFFICER_APPOINTMENT_BAN")
    assert first["path"]["links"][0]["type"] == "OFFICER_OF"

    readable = run(["report", "P0010", "--as-of", "2026-11-27"], env, tmp_path)
    assert readable.returncode == 0 and "OFFICER_APPOINTMENT_BAN" in readable.stdout


def test_exit_codes(env: dict[str, str], tmp_path: Path) -> None:
    empty = run(["report", "NO-SUCH-ID"], env, tmp_path)  # nothing loaded: not "not found"
    assert empty.returncode == 2
    assert "no creditnet data" in empty.stderr or "is empty" in empty.stderr, empty.stderr
    assert run(["load", "--demo"], env, tmp_path).returncode == 0
    assert run(["report", "NO-SUCH-ID"], env, tmp_path).returncode == 3
    assert run(["report", "P0010", "--as-of", "yesterday"], env, tmp_path).returncode == 2
    assert run(["load"], env, tmp_path).returncode == 2
    assert run(["no-such-command"], env, tmp_path).returncode == 2


def test_a_bundle_with_bad_rows_exits_4_reports_every_row_and_loads_nothing(
    env: dict[str, str], tmp_path: Path
) -> None:
    bundle = tmp_path / "bad"
    bundle.mkdir()
    (bundle / "companies.csv").write_text(
        "id,name,founded\nC1,Good Co,2020-01-01\nC2,,2020-01-01\nC3,Bad Date,2020-13-01\n"
        "91350100M000100Y44,Bad Code,\n",
        encoding="utf-8",
    )
    (bundle / "ownership.csv").write_text(
        "owner_id,company_id,share\nC1,C3,50\nC1,GHOST,10\nC1,C2,0\n", encoding="utf-8"
    )
    report = tmp_path / "rejects.csv"
    result = run(["load", str(bundle), "--rejects", str(report)], env, tmp_path)
    assert result.returncode == 4, result.stderr
    assert "nothing was loaded" in result.stderr
    with report.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert {(r["file"], r["line"]) for r in rows} == {
        ("companies.csv", "3"),
        ("companies.csv", "4"),
        ("companies.csv", "5"),
        ("ownership.csv", "2"),
        ("ownership.csv", "3"),
        ("ownership.csv", "4"),
    }
    stats = json.loads(run(["stats", "--json"], env, tmp_path).stdout)
    assert sum(stats["nodes"].values()) == 0

    allowed = run(["load", str(bundle), "--allow-rejects", "--json"], env, tmp_path)
    assert allowed.returncode == 0, allowed.stderr
    assert json.loads(run(["stats", "--json"], env, tmp_path).stdout)["nodes"]["Company"] == 1
