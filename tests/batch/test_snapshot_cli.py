"""The Parquet snapshot and the local batch as a user runs them (subprocesses, embedded store):
export, load back, and the batch restrictions list equal to ``creditnet restrictions``."""

from __future__ import annotations

import json
import os
import re
import subprocess
from datetime import date
from pathlib import Path

from graph.memory import MemoryStore
from graph.model import (
    Case,
    CaseKind,
    Company,
    Officer,
    OfficerRole,
    Ownership,
    Person,
    Sanction,
)
from graph.store import WriteBatch
from loaders.parquet import export_parquet, load_parquet
from queries.batch.tables import OWNERS, RESTRICTIONS, SCORES, read_table
from tests.e2e.test_cli import CLI, ROOT

AS_OF = "2026-11-27"
_ARROW = re.compile(r" <-\[[^\]]*\]- | -\[[^\]]*\]-> ")


def _env(data: Path) -> dict[str, str]:
    values = {k: v for k, v in os.environ.items() if not k.startswith("CREDITNET_")}
    values["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), values.get("PYTHONPATH")]))
    values["CREDITNET_DATA_DIR"] = str(data)
    return values


def _run(args: list[str], data: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], env=_env(data), cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_export_load_and_batch_list_equal_the_restrictions_command(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert _run(["load", "--demo", "--json"], data, tmp_path).returncode == 0
    listed = _run(["restrictions", "--format", "jsonl", "--as-of", AS_OF], data, tmp_path)
    assert listed.returncode == 0, listed.stderr
    expected = [json.loads(line) for line in listed.stdout.splitlines()]
    assert expected

    snapshot = tmp_path / "snapshot"
    exported = _run(
        ["export", "--format", "parquet", "--out", str(snapshot), "--json"], data, tmp_path
    )
    assert exported.returncode == 0, exported.stderr
    counts = json.loads(exported.stdout)["counts"]
    assert counts["Company"] > 0 and counts["Sanction"] > 0 and counts["OWNS"] > 0

    copy = tmp_path / "copy"
    loaded = _run(["load", str(snapshot), "--format", "parquet", "--json"], copy, tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    stats = [json.loads(_run(["stats", "--json"], d, tmp_path).stdout) for d in (data, copy)]
    assert stats[0] == stats[1]

    out = tmp_path / "batch"
    command = ["batch", "--engine", "local", "--input", str(snapshot), "--out", str(out)]
    ran = _run([*command, "--as-of", AS_OF, "--json"], data, tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["rows"][RESTRICTIONS] == len(expected)
    rows = read_table(out / RESTRICTIONS)
    assert [
        (r["entity_id"], r["measure"], r["rule"], r["source_id"], r["disputed"], r["path"])
        for r in rows
    ] == [
        (
            e["entity_id"],
            e["measure"],
            e["rule"],
            e["source_sanction_id"],
            e["disputed"],
            _ARROW.split(e["path"]),
        )
        for e in expected
    ]
    scores = read_table(out / SCORES)
    assert len(scores) == stats[0]["nodes"]["Company"] + stats[0]["nodes"]["Person"]
    assert all(r["score"] == 1000 - sum(d["points"] for d in r["deductions"]) for r in scores)
    assert read_table(out / OWNERS)


def test_a_folder_that_is_not_a_snapshot_is_refused(tmp_path: Path) -> None:
    loaded = _run(["load", str(tmp_path), "--format", "parquet"], tmp_path / "data", tmp_path)
    assert loaded.returncode == 4
    assert "not a Parquet snapshot" in loaded.stderr and "export --format parquet" in loaded.stderr


def test_every_field_survives_the_round_trip(tmp_path: Path) -> None:
    store = MemoryStore()
    store.write(
        WriteBatch(
            nodes=[
                Company("c1", "Acme", aliases=("ACME Ltd",), extra={"tier": 2, "note": "a,b"}),
                Person("p1", "Li", birth_year=1970, identifiers=("CN-ID:1",)),
                Sanction("s1", "c1", "PROVINCIAL_X", start=date(2024, 1, 1), disputed=True),
                Case("k1", CaseKind.OBJECTION, "s1", filed=date(2024, 2, 1)),
            ],
            links=[
                Ownership("p1", "c1", share_min=25.0, share_max=50.0, record_id="r1"),
                Ownership("p1", "c1", 10.0, start=date(2020, 1, 1), indirect=True),
                Officer("p1", "c1", OfficerRole.ACTUAL_CONTROLLER, end=date(2030, 1, 1)),
            ],
        )
    )
    export_parquet(store, tmp_path / "snap")
    copy = MemoryStore()
    load_parquet(copy, tmp_path / "snap")
    assert [i for b in copy.scan() for i in b] == [i for b in store.scan() for i in b]
