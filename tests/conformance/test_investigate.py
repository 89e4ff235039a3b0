"""Investigation queries on every store: paths, cycles, shell signals, neighbourhood export; and
the CLI commands that print them (on the embedded store)."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import networkx as nx
import pytest
import typer
from typer.testing import CliRunner

from api import views
from api.cli import investigate
from graph.errors import InvalidInput, NotFound
from graph.explain import (
    CircularOwnershipEvidence,
    NomineeEvidence,
    OpaqueOwnershipEvidence,
    PhoenixEvidence,
    PhoenixVia,
    SharedAddressEvidence,
)
from graph.memory import MemoryStore
from graph.model import (
    Address,
    Company,
    Link,
    Node,
    Officer,
    OfficerRole,
    Ownership,
    Person,
    Registration,
    Sanction,
    SanctionList,
    SanctionStatus,
)
from graph.store import GraphStore, WriteBatch
from queries.cycles import ownership_cycles
from queries.export import ExportFormat, export_neighbourhood, neighbourhood_graph, to_graphml
from queries.paths import find_paths, paths_between
from queries.shell import ShellThresholds, SignalKind, shell_signals

DAY = date(2024, 6, 1)


def write(store: GraphStore, nodes: Sequence[Node], links: Sequence[Link] = ()) -> None:
    store.write(WriteBatch(nodes=list(nodes), links=list(links)))


def companies(*ids: str, founded: date | None = None) -> list[Node]:
    return [Company(i, f"{i} Co", founded=founded) for i in ids]


def persons(*ids: str) -> list[Node]:
    return [Person(i, f"Person {i}") for i in ids]


# -- paths -----------------------------------------------------------------------------------


def network(store: GraphStore) -> None:
    """P owns A; A owns B; Q chairs B; A and C share address X; P is a director of C;
    an ended link P -> B and a registration at Y that starts later."""
    write(
        store,
        companies("A", "B", "C") + persons("P", "Q") + [Address("X", "1 Road"), Address("Y", "2")],
        [
            Ownership("P", "A", 60),
            Ownership("A", "B", 100),
            Officer("Q", "B", OfficerRole.CHAIRMAN),
            Registration("A", "X"),
            Registration("C", "X"),
            Officer("P", "C", OfficerRole.DIRECTOR),
            Ownership("P", "B", 10, start=date(2010, 1, 1), end=date(2020, 1, 1)),
            Registration("B", "Y", start=date(2030, 1, 1)),
        ],
    )


def test_paths_shortest_first_with_alternatives(store: GraphStore) -> None:
    network(store)
    found = paths_between(store, "P", "B", DAY)
    assert [p.nodes for p in found] == [("P", "A", "B"), ("P", "C", "X", "A", "B")]
    first = found[0]
    assert [(link.type.value, link.source, link.target, link.share) for link in first.links] == [
        ("OWNS", "P", "A", 60.0),
        ("OWNS", "A", "B", 100.0),
    ]
    search = find_paths(store, "P", "B", DAY)
    second = views.path_doc(search.paths[1], search.nodes)
    assert [link["type"] for link in second["links"]] == [
        "OFFICER_OF",
        "REGISTERED_AT",
        "REGISTERED_AT",
        "OWNS",
    ]
    assert second["links"][1] == {
        "type": "REGISTERED_AT",
        "from": "C",
        "to": "X",
        "role": None,
        "share": None,
        "start": None,
        "end": None,
        "quantity": None,
    }
    assert second["nodes"][2] == {"id": "X", "name": "1 Road", "kind": "ADDRESS"}


def test_paths_respect_dates_bounds_and_first(store: GraphStore) -> None:
    network(store)
    # In 2015 the direct P -> B link was in force.
    assert paths_between(store, "P", "B", date(2015, 1, 1))[0].nodes == ("P", "B")
    assert [p.nodes for p in paths_between(store, "P", "B", DAY, first=1)] == [("P", "A", "B")]
    assert paths_between(store, "P", "B", DAY, max_hops=1) == []
    assert [p.nodes for p in paths_between(store, "Q", "C", DAY)] == [
        ("Q", "B", "A", "P", "C"),
        ("Q", "B", "A", "X", "C"),
    ]
    with pytest.raises(NotFound):
        paths_between(store, "P", "nobody", DAY)
    with pytest.raises(InvalidInput):
        paths_between(store, "P", "P", DAY)


def test_paths_do_not_expand_supernodes_and_say_so(store: GraphStore) -> None:
    # Two registration-agent addresses; the only path runs A - X - H3 - K - Y - B.
    left = [f"H{i}" for i in range(12)]
    right = [f"K{i}" for i in range(12)]
    write(
        store,
        [*companies("A", "B", *left, *right), Address("X", "Agent 1"), Address("Y", "Agent 2")],
        [Registration(c, "X") for c in ["A", *left]]
        + [Registration(c, "Y") for c in ["B", *right]]
        + [Ownership("H3", "K7", 100)],
    )
    search = find_paths(store, "A", "B", DAY, supernode_degree=5)
    assert search.capped == {"X": 13, "Y": 13}
    assert not search.complete
    assert search.paths == []  # the H3 - K7 link lies beyond both supernodes
    full = find_paths(store, "A", "B", DAY)
    assert full.complete
    assert [p.nodes for p in full.paths] == [("A", "X", "H3", "K7", "Y", "B")]


# -- cycles ----------------------------------------------------------------------------------


def test_cycles_are_deduplicated_and_rotated(store: GraphStore) -> None:
    write(
        store,
        companies("A", "B", "C", "D") + persons("P"),
        [
            Ownership("C", "A", 50),
            Ownership("A", "B", 40),
            Ownership("B", "C", 50),
            Ownership("B", "A", 20),
            Ownership("C", "D", 100),
            Ownership("P", "A", 30),
            Ownership("D", "B"),  # no share: still closes a circle
        ],
    )
    found = ownership_cycles(store, "B", DAY)
    assert [c.ids for c in found] == [("A", "B"), ("A", "B", "C"), ("B", "C", "D")]
    assert [c.share for c in found[:2]] == [pytest.approx(8.0), pytest.approx(10.0)]
    assert found[2].share is None
    assert [c.ids for c in ownership_cycles(store, "D", DAY)] == [("B", "C", "D")]
    assert ownership_cycles(store, "P", DAY) == []
    assert ownership_cycles(store, "B", DAY, max_length=2)[0].ids == ("A", "B")
    document = views.cycle_doc(found[1], {})
    assert document["length"] == 3 and document["links"][-1]["from"] == "C"
    with pytest.raises(NotFound):
        ownership_cycles(store, "nope", DAY)


# -- shell signals ---------------------------------------------------------------------------


def kinds(store: GraphStore, entity: str, limits: ShellThresholds) -> list[SignalKind]:
    return [s.kind for s in shell_signals(store, entity, DAY, limits)]


def test_shared_address_signal(store: GraphStore) -> None:
    write(
        store,
        [*companies("A", "B", "C"), Address("X", "Agent's office")],
        [Registration(c, "X") for c in "ABC"],
    )
    (signal,) = shell_signals(store, "A", DAY, ShellThresholds(shared_address_min_companies=3))
    assert signal.kind is SignalKind.SHARED_ADDRESS
    assert isinstance(signal.evidence, SharedAddressEvidence)
    assert signal.evidence.companies == 3 and signal.evidence.address_id == "X"
    assert kinds(store, "A", ShellThresholds(shared_address_min_companies=4)) == []


def test_nominee_officer_signal(store: GraphStore) -> None:
    write(
        store,
        companies("A", "B", "C") + persons("N", "M"),
        [Officer("N", c, OfficerRole.LEGAL_REPRESENTATIVE) for c in "ABC"]
        + [Officer("M", "A", OfficerRole.SUPERVISOR)],
    )
    (signal,) = shell_signals(store, "A", DAY, ShellThresholds(nominee_min_positions=3))
    assert signal.kind is SignalKind.NOMINEE_OFFICER
    assert isinstance(signal.evidence, NomineeEvidence)
    assert signal.evidence.person_id == "N" and signal.evidence.companies == 3
    assert signal.evidence.roles == (OfficerRole.LEGAL_REPRESENTATIVE,)
    assert kinds(store, "N", ShellThresholds(nominee_min_positions=3)) == [
        SignalKind.NOMINEE_OFFICER
    ]
    assert kinds(store, "A", ShellThresholds(nominee_min_positions=4)) == []


def test_opaque_ownership_signal(store: GraphStore) -> None:
    write(
        store,
        companies("T", "L1", "L2", "L3", "U1", "U2", "U3") + persons("P", "S"),
        [
            Ownership("L1", "T", 100),
            Ownership("L2", "L1", 100),
            Ownership("L3", "L2", 100),
            Ownership("S", "L3", 10),  # a small holder: no one at 25% or in control
            Ownership("U1", "U2", 100),
            Ownership("U2", "U3", 100),
            Ownership("P", "U1", 100),
        ],
    )
    limits = ShellThresholds()
    (signal,) = shell_signals(store, "T", DAY, limits)
    assert signal.kind is SignalKind.OPAQUE_OWNERSHIP
    assert isinstance(signal.evidence, OpaqueOwnershipEvidence)
    assert signal.evidence.layers == 4 and signal.evidence.upstream_companies == 3
    assert kinds(store, "U3", limits) == []  # P owns it through three layers: identifiable
    assert kinds(store, "L2", limits) == []  # only two layers


def test_circular_ownership_signal(store: GraphStore) -> None:
    write(
        store,
        companies("A", "B", "C") + persons("P"),
        [Ownership("A", "B", 30), Ownership("B", "A", 30), Ownership("P", "C", 100)],
    )
    limits = ShellThresholds()
    (signal,) = shell_signals(store, "A", DAY, limits)
    assert signal.kind is SignalKind.CIRCULAR_OWNERSHIP
    assert isinstance(signal.evidence, CircularOwnershipEvidence)
    assert [cycle.nodes for cycle in signal.evidence.cycles] == [("A", "B", "A")]
    assert kinds(store, "C", limits) == []


def banned(store: GraphStore, subject: str, start: date, status: SanctionStatus) -> None:
    write(
        store,
        [
            Sanction(
                f"S-{subject}",
                subject,
                SanctionList.MARKET_BAN,
                start=start,
                status=status,
            )
        ],
    )


def test_phoenix_signal_through_a_principal(store: GraphStore) -> None:
    write(
        store,
        companies("OLD", founded=date(2015, 1, 1))
        + companies("NEW", founded=date(2022, 6, 1))
        + companies("EARLY", founded=date(2021, 6, 1))
        + persons("P"),
        [
            Officer(
                "P",
                "OLD",
                OfficerRole.LEGAL_REPRESENTATIVE,
                start=date(2016, 1, 1),
                end=date(2022, 3, 1),
            ),
            Officer("P", "NEW", OfficerRole.LEGAL_REPRESENTATIVE, start=date(2022, 6, 1)),
            Officer("P", "EARLY", OfficerRole.CHAIRMAN, start=date(2021, 6, 1)),
        ],
    )
    banned(store, "OLD", date(2022, 1, 1), SanctionStatus.ACTIVE)
    limits = ShellThresholds()
    (signal,) = shell_signals(store, "NEW", DAY, limits)
    assert signal.kind is SignalKind.PHOENIX
    tie = signal.evidence
    assert isinstance(tie, PhoenixEvidence)
    assert tie.predecessor_id == "OLD"
    assert tie.shared_id == "P" and tie.via is PhoenixVia.PRINCIPAL
    assert tie.roles_then == (OfficerRole.LEGAL_REPRESENTATIVE,)
    assert tie.path.describe() == (
        "OLD <-[OFFICER_OF legal_representative]- P -[OFFICER_OF legal_representative]-> NEW"
    )
    assert kinds(store, "EARLY", limits) == []  # founded before the ban
    assert kinds(store, "NEW", ShellThresholds(phoenix_window_days=30)) == []
    json.dumps(views.signal_doc(signal, {}))


def test_phoenix_signal_through_a_controlling_owner(store: GraphStore) -> None:
    write(
        store,
        companies("OLD", founded=date(2015, 1, 1))
        + companies("NEW", founded=date(2023, 1, 1))
        + companies("OTHER", founded=date(2023, 1, 1))
        + persons("X", "Y"),
        [
            Ownership("X", "OLD", 60, start=date(2015, 1, 1), end=date(2022, 6, 1)),
            Ownership("X", "NEW", 70, start=date(2023, 1, 1)),
            Ownership("X", "OTHER", 30, start=date(2023, 1, 1)),
            Ownership("Y", "OTHER", 70, start=date(2023, 1, 1)),
        ],
    )
    banned(store, "OLD", date(2022, 1, 1), SanctionStatus.ACTIVE)
    limits = ShellThresholds()
    (signal,) = shell_signals(store, "NEW", DAY, limits)
    assert signal.kind is SignalKind.PHOENIX
    assert isinstance(signal.evidence, PhoenixEvidence)
    assert signal.evidence.via is PhoenixVia.CONTROLLER and signal.evidence.shared_id == "X"
    assert signal.evidence.path.describe() == "OLD <-[CONTROLS]- X -[CONTROLS]-> NEW"
    assert kinds(store, "OTHER", limits) == []  # X does not control it


def test_revoked_sanctions_make_no_phoenix(store: GraphStore) -> None:
    write(
        store,
        companies("OLD", founded=date(2015, 1, 1))
        + companies("NEW", founded=date(2022, 6, 1))
        + persons("P"),
        [
            Officer("P", "OLD", OfficerRole.GENERAL_MANAGER),
            Officer("P", "NEW", OfficerRole.GENERAL_MANAGER),
        ],
    )
    banned(store, "OLD", date(2022, 1, 1), SanctionStatus.REVOKED)
    assert kinds(store, "NEW", ShellThresholds()) == []


# -- export ----------------------------------------------------------------------------------


def test_export_reads_back(store: GraphStore, tmp_path: Path) -> None:
    network(store)
    banned(store, "B", date(2022, 1, 1), SanctionStatus.ACTIVE)
    graph = neighbourhood_graph(store, "A", DAY, hops=1)
    assert sorted(graph.nodes) == ["A", "B", "P", "S-B", "X"]
    data = export_neighbourhood(store, "A", DAY, hops=1, fmt=ExportFormat.GRAPHML)
    assert isinstance(data, bytes)
    back = nx.read_graphml(io.BytesIO(data))
    assert sorted(back.nodes) == sorted(graph.nodes)
    assert back.number_of_edges() == graph.number_of_edges() == 4
    assert back.nodes["X"]["name"] == back.nodes["X"]["label"] == "1 Road"
    # graph tools show ``label``: the name; the kind is ``type`` (issue 11 item 17)
    assert back.nodes["A"]["label"] == "A Co" and back.nodes["A"]["type"] == "Company"
    assert back.nodes["S-B"]["type"] == "Sanction" and "S-B" in back.nodes["S-B"]["label"]
    owns = [d for _, _, d in back.edges(data=True) if d["type"] == "OWNS"]
    assert sorted(d["share"] for d in owns) == [60.0, 100.0]
    assert back.nodes["S-B"]["start"] == "2022-01-01"
    document = export_neighbourhood(store, "A", DAY, hops=1, fmt=ExportFormat.CYTOSCAPE)
    assert not isinstance(document, bytes)
    assert document["data"] == {"entity": "A", "as_of": DAY.isoformat(), "hops": 1}
    text = json.dumps(document)
    again = nx.cytoscape_graph(json.loads(text))
    assert sorted(again.nodes) == sorted(graph.nodes)
    (tmp_path / "a.graphml").write_bytes(to_graphml(graph))
    assert nx.read_graphml(tmp_path / "a.graphml").number_of_nodes() == 5
    with pytest.raises(NotFound):
        neighbourhood_graph(store, "nope", DAY)


# -- the CLI (embedded store) ----------------------------------------------------------------


@pytest.fixture
def cli(tmp_path: Path) -> tuple[CliRunner, typer.Typer, list[str]]:
    with MemoryStore(tmp_path / "data") as memory:
        network(memory)
        memory.write(
            WriteBatch(
                nodes=companies("T") + persons("W"),
                links=[Ownership("W", "T", 25), Ownership("A", "T", 75), Ownership("T", "A", 5)],
            )
        )
    app = typer.Typer()
    investigate.register(app)
    return CliRunner(), app, ["--data-dir", str(tmp_path / "data")]


def test_cli_owners(cli: tuple[CliRunner, typer.Typer, list[str]]) -> None:
    runner, app, common = cli
    result = runner.invoke(app, ["owners", "T", "--as-of", "2024-06-01", "--json", *common])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert [(o["person"]["id"], o["effectiveShare"], o["controls"]) for o in document] == [
        ("P", 45.0, True),
        ("W", 25.0, False),
    ]
    result = runner.invoke(
        app, ["owners", "T", "--all", "--json", "--as-of", "2024-06-01", *common]
    )
    assert [h["entity"]["id"] for h in json.loads(result.stdout)] == ["A", "P", "W"]
    result = runner.invoke(app, ["owners", "T", "--as-of", "2024-06-01", *common])
    assert result.exit_code == 0 and "Person P" in result.stdout
    assert runner.invoke(app, ["owners", "nope", *common]).exit_code == 3
    assert runner.invoke(app, ["owners", "T", "--as-of", "June", *common]).exit_code == 2


def test_cli_paths_cycles_signals_export(
    cli: tuple[CliRunner, typer.Typer, list[str]], tmp_path: Path
) -> None:
    runner, app, common = cli
    result = runner.invoke(app, ["paths", "P", "B", "--as-of", "2024-06-01", "--json", *common])
    assert result.exit_code == 0, result.output
    first = json.loads(result.stdout)[0]
    assert [n["id"] for n in first["nodes"]] == ["P", "A", "B"]
    result = runner.invoke(
        app, ["paths", "P", "B", "--first", "1", "--as-of", "2024-06-01", *common]
    )
    assert result.exit_code == 0 and "P -[OWNS 60%]-> A" in result.stdout
    result = runner.invoke(app, ["cycles", "A", "--json", "--as-of", "2024-06-01", *common])
    assert [[n["id"] for n in c["nodes"]] for c in json.loads(result.stdout)] == [["A", "T"]]
    result = runner.invoke(app, ["signals", "A", "--json", "--as-of", "2024-06-01", *common])
    assert [s["kind"] for s in json.loads(result.stdout)] == ["CIRCULAR_OWNERSHIP"]
    out = tmp_path / "out" / "a.graphml"
    result = runner.invoke(app, ["export", "A", "--hops", "1", "--out", str(out), *common])
    assert result.exit_code == 0, result.output
    assert "A" in nx.read_graphml(out).nodes
    result = runner.invoke(app, ["export", "A", "--format", "cytoscape", *common])
    assert json.loads(result.stdout)["elements"]["nodes"]
