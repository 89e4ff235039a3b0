"""``paths`` shows every link between two consecutive nodes, not only the one the path takes
(issue 11 item 17)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from api import views
from api.cli import app
from graph.memory import MemoryStore
from graph.model import Company, Officer, OfficerRole, Ownership, Person
from graph.store import GraphStore, WriteBatch
from queries.paths import find_paths

DAY = date(2024, 6, 1)


def _network(store: GraphStore) -> None:
    """P holds 30% of A and is its director and supervisor; A holds 100% of B."""
    batch = WriteBatch(
        links=[
            Ownership("P", "A", 30.0),
            Officer("P", "A", OfficerRole.DIRECTOR),
            Officer("P", "A", OfficerRole.SUPERVISOR),
            Ownership("A", "B", 100.0),
        ]
    )
    batch.nodes.extend([Person("P", "Li"), Company("A", "A Co"), Company("B", "B Co")])
    store.write(batch)


def test_every_link_between_consecutive_nodes_is_kept(store: GraphStore) -> None:
    _network(store)
    search = find_paths(store, "P", "B", DAY)
    [path] = search.paths
    assert path.nodes == ("P", "A", "B")
    shown = path.links[0]
    between = search.links_between[("P", "A")]
    assert between[0] == shown and len(between) == 3  # the holding first, then the offices
    doc = views.path_search_doc(search)["paths"][0]
    assert [[(x["type"], x["role"]) for x in hop] for hop in doc["otherLinks"]] == [
        [("OFFICER_OF", "director"), ("OFFICER_OF", "supervisor")],
        [],
    ]


def test_the_cli_prints_the_other_links(tmp_path: Path) -> None:
    with MemoryStore(tmp_path / "data") as memory:
        _network(memory)
    common = ["--as-of", DAY.isoformat(), "--data-dir", str(tmp_path / "data")]
    text = CliRunner().invoke(app, ["paths", "P", "B", *common])
    assert text.exit_code == 0, text.output
    assert "also: P -[OFFICER_OF director]-> A" in text.stdout
    assert "also: P -[OFFICER_OF supervisor]-> A" in text.stdout
    document = CliRunner().invoke(app, ["paths", "P", "B", "--json", *common])
    assert len(json.loads(document.stdout)[0]["otherLinks"][0]) == 2
