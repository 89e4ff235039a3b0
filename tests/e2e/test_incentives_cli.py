"""The reward half from the command line, on both stores: the demo's incentives, commitments
recorded and verified, the incentive list and the inspection draw."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from tests.e2e.test_cli import env, run

__all__ = ["env"]

AS_OF = "2026-11-28"
TRUSTED = "91310115MAADQH0L7A"  # A grade; its legal representative is a judgment debtor
CLEAN = "91110108MAX72FW5XR"  # holds I1 and I2


def test_demo_incentives_commitments_and_draw(env: dict[str, str], tmp_path: Path) -> None:
    assert run(["load", "--demo"], env, tmp_path).returncode == 0
    report = run(["report", TRUSTED, "--as-of", AS_OF, "--json"], env, tmp_path)
    assert report.returncode == 0, report.stderr
    document = json.loads(report.stdout)
    assert (document["grade"], document["supervisionClass"], document["incentives"]) == (
        "A",
        "C",
        [],
    )
    first = document["withheldIncentives"][0]
    assert (first["rule"], first["condition"]) == ("I1", "no_restriction")
    assert first["blocker"]["sanction"]["id"] == "S0004"
    assert [n["id"] for n in first["blocker"]["path"]["nodes"]] == [TRUSTED, "P0075"]

    listed = run(
        ["incentives", "--measure", "notification_commitment", "--as-of", AS_OF], env, tmp_path
    )
    assert listed.returncode == 0, listed.stderr
    rows = list(csv.DictReader(io.StringIO(listed.stdout)))
    assert [(r["entity_id"], r["rule"], r["supervision_class"]) for r in rows] == [
        (CLEAN, "I2", "A")
    ]
    bad = run(["incentives", "--measure", "BIDDING_BAN"], env, tmp_path)
    assert bad.returncode == 2 and "not an incentive measure" in bad.stderr

    actor = ["--actor", "tax bureau"]
    added = run(
        [
            "commitment",
            "add",
            "K9",
            "--promisor",
            CLEAN,
            "--kind",
            "tax_declaration",
            "--json",
            *actor,
        ],
        env,
        tmp_path,
    )
    assert added.returncode == 0, added.stderr
    assert "K9" in added.stdout and "pending" in added.stdout
    broken = run(["commitment", "verify", "K9", "--broken", "--json", *actor], env, tmp_path)
    assert broken.returncode == 0, broken.stderr
    assert json.loads(broken.stdout)["breachRecord"]["id"] == "CB-K9"
    again = run(["commitment", "verify", "K9", "--kept", *actor], env, tmp_path)
    assert again.returncode == 4, again.stderr  # input rejected: already verified
    commitments = run(["commitment", "list", CLEAN, "--json"], env, tmp_path)
    assert [c["id"] for c in json.loads(commitments.stdout)["commitments"]] == ["K0002", "K9"]

    draws = [
        run(
            ["inspections", "draw", "--as-of", AS_OF, "--seed", "3", "--json", *actor],
            env,
            tmp_path,
        )
        for _ in range(2)
    ]
    assert all(d.returncode == 0 for d in draws), draws[0].stderr
    first_draw, second_draw = (json.loads(d.stdout) for d in draws)
    assert first_draw == second_draw
    # every demo company is in one class: 50, and the 5 of the supply chain (issue 17)
    assert sum(c["size"] for c in first_draw["classes"].values()) == 55
    assert first_draw["classes"]["D"]["selected"] == first_draw["classes"]["D"]["size"]
    unseeded = run(["inspections", "draw", *actor], env, tmp_path)
    assert unseeded.returncode == 2
