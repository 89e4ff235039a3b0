"""The signal "banned officer still in office", and shell signals on the demo (issue 11 item 16)."""

from __future__ import annotations

from datetime import date

from api.cli.loading import demo_bundle_dir
from graph.explain import BannedOfficerEvidence
from graph.model import (
    Company,
    LinkType,
    Officer,
    OfficerRole,
    Person,
    Sanction,
    SanctionList,
)
from graph.store import GraphStore, WriteBatch
from loaders.bundle import load_bundle
from queries.due_process import ReviewSettings
from queries.shell import ShellThresholds, SignalKind, shell_signals

DAY = date(2024, 6, 1)
DEMO_DAY = date(2026, 11, 28)


def _network(store: GraphStore) -> None:
    """C1 is seriously dishonest, so its legal representative L is barred from office (R1); L
    also sits on C2's board. P5 is banned by his own market ban (R5) and left his one board;
    M is banned and holds no office at all (only one ended)."""
    batch = WriteBatch(
        links=[
            Officer("L", "C1", OfficerRole.LEGAL_REPRESENTATIVE),
            Officer("L", "C2", OfficerRole.DIRECTOR, start=date(2023, 1, 1)),
            Officer("D", "C2", OfficerRole.DIRECTOR),
            Officer("P5", "C3", OfficerRole.DIRECTOR, end=date(2024, 1, 1)),
        ]
    )
    batch.nodes.extend(Company(i, f"{i} Co") for i in ("C1", "C2", "C3"))
    batch.nodes.extend(Person(i, f"Person {i}") for i in ("L", "D", "P5"))
    batch.nodes.append(Sanction("S1", "C1", SanctionList.SERIOUS_DISHONEST, start=date(2024, 1, 1)))
    batch.nodes.append(Sanction("S2", "P5", SanctionList.MARKET_BAN, start=date(2023, 6, 1)))
    store.write(batch)


def _banned(store: GraphStore, entity: str, day: date = DAY) -> list[BannedOfficerEvidence]:
    found = shell_signals(store, entity, day)
    return [s.evidence for s in found if isinstance(s.evidence, BannedOfficerEvidence)]


def test_a_banned_person_in_office_is_signalled_with_the_ban_path_and_the_offices(
    store: GraphStore,
) -> None:
    _network(store)
    [evidence] = _banned(store, "L")
    assert (evidence.person_id, evidence.rule, evidence.sanction.id) == ("L", "R1", "S1")
    assert evidence.path.nodes == ("C1", "L")  # the ban reaches L through C1
    assert [link.type for link in evidence.path.links] == [LinkType.OFFICER_OF]
    offices = [(link.source, link.target, link.role) for link in evidence.offices]
    assert offices == [
        ("L", "C1", OfficerRole.LEGAL_REPRESENTATIVE),
        ("L", "C2", OfficerRole.DIRECTOR),
    ]
    assert evidence.legal_basis and "2 offices in force" in evidence.summary


def test_a_company_is_signalled_for_its_banned_officers_only(store: GraphStore) -> None:
    _network(store)
    assert [e.person_id for e in _banned(store, "C2")] == ["L"]  # not D


def test_no_signal_without_a_ban_in_force_or_without_an_office_in_force(
    store: GraphStore,
) -> None:
    _network(store)
    assert _banned(store, "D") == []  # in office, not banned
    assert _banned(store, "P5") == []  # banned, his one office ended
    assert _banned(store, "L", date(2023, 6, 1)) == []  # in office before the record started


def test_default_thresholds_fire_on_the_demo_as_its_readme_says(store: GraphStore) -> None:
    assert load_bundle(store, demo_bundle_dir(), id_hash_salt="demo").applied
    ring_company = "91310151MAU789XW8J"
    kinds = {s.kind for s in shell_signals(store, ring_company, DEMO_DAY)}
    assert {SignalKind.SHARED_ADDRESS, SignalKind.NOMINEE_OFFICER} <= kinds
    assert SignalKind.CIRCULAR_OWNERSHIP in kinds
    assert [s.kind for s in shell_signals(store, "P0001", DEMO_DAY)] == [SignalKind.NOMINEE_OFFICER]
    # the market-banned 魏东升 still on the board of 苏州德华精密机械
    [banned] = _banned(store, "P0070", DEMO_DAY)
    assert banned.rule == "R5" and banned.sanction.id == "S0007"
    assert [link.target for link in banned.offices] == ["91320507374925964Q"]
    # the thresholds are the settings' (CREDITNET_REVIEW__SHELL__*): raised, they stay quiet
    raised = ReviewSettings(shell=ShellThresholds(nominee_min_positions=9)).shell
    assert shell_signals(store, "P0001", DEMO_DAY, raised) == []
