"""``creditnet trace BATCH --down|--up --json`` as a user runs it (spec/TRACEABILITY.md)."""

from __future__ import annotations

import json
from pathlib import Path

from graph.store import GraphStore
from tests.conformance.test_supply import _bundle
from tests.e2e.test_cli import env as env  # a fixture: the CLI environment of the store
from tests.e2e.test_cli import run


def test_trace_json_down_and_up(env: dict[str, str], tmp_path: Path, store: GraphStore) -> None:
    bundle = _bundle(tmp_path / "bundle")
    loaded = run(["load", str(bundle)], env, tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    down = run(["trace", "g:1", "--down", "--as-of", "2024-03-01", "--json"], env, tmp_path)
    assert down.returncode == 0, down.stderr
    document = json.loads(down.stdout)
    assert document["batch"] == "g:1" and document["asOf"] == "2024-03-01"
    assert [(r["company"]["id"], r["batch"], r["date"]) for r in document["receivers"]] == [
        ("P", "g:1", "2024-01-05"),
        ("R", "h:1", "2024-02-01"),
    ]
    hops = document["receivers"][1]["path"]["links"]
    assert [(h["type"], h["from"], h["to"], h["start"], h["quantity"]) for h in hops] == [
        ("TRANSFORMED_INTO", "g:1", "h:1", "2024-01-06", None),
        ("SHIPPED", "h:1", "R", "2024-02-01", 5.0),
    ]
    before = run(["trace", "g:1", "--down", "--as-of", "2024-01-04", "--json"], env, tmp_path)
    assert json.loads(before.stdout)["receivers"] == []
    up = run(["trace", "h:1", "--up", "--as-of", "2024-03-01", "--json"], env, tmp_path)
    assert up.returncode == 0, up.stderr
    batches = json.loads(up.stdout)["batches"]
    assert [(b["id"], b["producer"]["id"], [s["id"] for s in b["shippers"]]) for b in batches] == [
        ("h:1", "P", ["P"]),
        ("g:1", "F", ["F"]),
    ]
    missing = run(["trace", "nope:1", "--down", "--json"], env, tmp_path)
    assert missing.returncode == 3 and json.loads(missing.stdout)["error"]["exitCode"] == 3
    neither = run(["trace", "g:1"], env, tmp_path)
    assert neither.returncode == 2
