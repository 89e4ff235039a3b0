"""``creditnet search`` and id lookups as a user types them (issue 11, item 14)."""

from __future__ import annotations

import json
from pathlib import Path

from graph.store import GraphStore
from tests.e2e.test_cli import env as env  # a fixture: the CLI environment of the store
from tests.e2e.test_cli import run


def test_search_crosses_scripts_and_spaces_and_ids_are_normalised(
    env: dict[str, str], tmp_path: Path, store: GraphStore
) -> None:
    assert run(["load", "--demo"], env, tmp_path).returncode == 0
    found = run(["search", "上海 衛東", "--json"], env, tmp_path)
    assert found.returncode == 0, found.stderr
    document = json.loads(found.stdout)
    assert [e["id"] for e in document["entities"]] == ["91310115MAADQH0L7A"]
    report = run(
        ["report", " 91310115maadqh0l7a ", "--json", "--as-of", "2026-11-27"], env, tmp_path
    )
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout)["entity"]["id"] == "91310115MAADQH0L7A"
    empty = run(["search", "   "], env, tmp_path)
    assert empty.returncode == 2 and "search needs some text" in empty.stderr
