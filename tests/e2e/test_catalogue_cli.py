"""The command line under an agency's rules file (``--rules``), on both stores: ``load`` checks
lists against the catalogue in force, and ``restrictions`` and ``report`` use its measures."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from tests.conformance.test_catalogue import write_agency_bundle, write_agency_rules
from tests.e2e.test_cli import env, run  # noqa: F401  (env is a fixture)


def test_load_and_query_under_an_agency_rules_file(
    env: dict[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    rules = str(write_agency_rules(tmp_path))
    bundle = str(write_agency_bundle(tmp_path / "bundle"))

    refused = run(["load", bundle, "--json"], env, tmp_path)
    assert refused.returncode == 4, refused.stderr
    (reject,) = json.loads(refused.stdout)["rejects"]
    assert (reject["column"], reject["value"]) == ("list", "PROVINCIAL_X")
    assert "add PROVINCIAL_X under lists:" in reject["reason"]

    loaded = run(["load", bundle, "--rules", rules, "--json"], env, tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    assert json.loads(loaded.stdout)["files"]["sanctions.csv"]["written"] == 2

    listed = run(
        ["restrictions", "--rules", rules, "--measure", "provincial_ban", "--as-of", "2024-06-01"],
        env,
        tmp_path,
    )
    assert listed.returncode == 0, listed.stderr
    found = [
        (r["entity_id"], r["measure"], r["source_list"])
        for r in csv.DictReader(listed.stdout.splitlines())
    ]
    assert found == [
        ("C1", "PROVINCIAL_BAN", "PROVINCIAL_X"),
        ("P1", "PROVINCIAL_BAN", "PROVINCIAL_X"),
    ]
    unknown = run(["restrictions", "--measure", "PROVINCIAL_BAN"], env, tmp_path)
    assert unknown.returncode == 2
    assert "not a restriction measure of the rules in force" in unknown.stderr

    report = run(
        ["report", "C1", "--rules", rules, "--as-of", "2024-06-01", "--json"], env, tmp_path
    )
    assert report.returncode == 0, report.stderr
    document = json.loads(report.stdout)
    assert document["score"] == 750
    assert {r["measure"] for r in document["restrictions"]} == {
        "ENHANCED_SUPERVISION",
        "PROVINCIAL_BAN",
    }
    readable = run(["report", "C1", "--rules", rules, "--as-of", "2024-06-01"], env, tmp_path)
    assert readable.returncode == 0, readable.stderr
    assert "PROVINCIAL_X" in readable.stdout and "PROVINCIAL_BAN" in readable.stdout
