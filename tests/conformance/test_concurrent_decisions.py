"""Every pair of due-process decisions on one record, run at once, on both stores (issue 10).

Each trial starts from one sanction record (with an open objection and an open repair
application when the pair needs them), releases both decisions together from two threads, and
checks the invariant table:

* at most one decision wins per version of the record: no two successful decisions read the same
  record version (the loser got Conflict, or a refusal, and nothing of it applied);
* the stored record is exactly what the last successful decision wrote (no lost update: an
  approved repair stays ``repaired`` unless a later decision, itself stored, changed it);
* ``disputed`` is true exactly when an objection is open;
* every successful decision's case is stored as it wrote it, and its audit event is stored once.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from graph.errors import Conflict, CreditnetError
from graph.model import (
    Case,
    CaseKind,
    CaseStatus,
    Commitment,
    CommitmentKind,
    Company,
    Sanction,
    SanctionList,
    SanctionStatus,
    Severity,
)
from graph.rules.schema import RuleSet, load_rules
from graph.store import GraphStore, WriteBatch, versioned_as
from queries.due_process import (
    apply_credit_repair,
    decide_credit_repair,
    file_objection,
    resolve_objection,
)

DAY = date(2024, 6, 1)
RECORD = "pen"
OBJECTION = f"obj-{RECORD}-1"
REPAIR = f"rep-{RECORD}-1"
TRIALS = 2


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules(None)


@dataclass
class Outcome:
    name: str
    case: Case | None = None
    record: Sanction | None = None
    """The record as the decision wrote it (None for file/apply: read back from the case)."""
    error: CreditnetError | None = None


Op = Callable[[GraphStore, RuleSet, dict[str, Any]], tuple[Case, Sanction | None]]


def _event(name: str) -> dict[str, Any]:
    return {"event_id": f"{name}-{threading.get_ident()}", "operation": name, "time": "t"}


OPS: dict[str, Op] = {
    "file": lambda s, r, e: (file_objection(s, RECORD, "wrong", "agency-2", DAY, audit=e), None),
    "uphold": lambda s, r, e: resolve_objection(s, OBJECTION, True, "ok", "rev-u", DAY, audit=e),
    "reject": lambda s, r, e: resolve_objection(s, OBJECTION, False, "no", "rev-j", DAY, audit=e),
    "apply": lambda s, r, e: (
        apply_credit_repair(s, RECORD, "crc-1", "agency-2", DAY, r, audit=e),
        None,
    ),
    "approve": lambda s, r, e: decide_credit_repair(
        s, REPAIR, True, "paid", "rev-p", DAY, fine_paid=True, audit=e
    ),
    "refuse": lambda s, r, e: decide_credit_repair(s, REPAIR, False, "no", "rev-q", DAY, audit=e),
}
NEEDS_OBJECTION = {"uphold", "reject"}
NEEDS_REPAIR = {"approve", "refuse"}


def _setup(store: GraphStore, rules: RuleSet, names: tuple[str, str]) -> None:
    store.clear()
    record = Sanction(
        RECORD,
        "C1",
        SanctionList.ADMIN_PENALTY,
        severity=Severity.SERIOUS,
        start=date(2023, 1, 1),
        fine=100.0,
    )
    commitment = Commitment("crc-1", "C1", CommitmentKind.CREDIT_REPAIR, date(2023, 2, 1))
    store.write(WriteBatch(nodes=[Company("C1", "Contested Co"), record, commitment]))
    if NEEDS_REPAIR & set(names):
        apply_credit_repair(store, RECORD, "crc-1", "agency-1", DAY, rules)
    if NEEDS_OBJECTION & set(names):
        file_objection(store, RECORD, "wrong", "agency-1", DAY)


def _race(store: GraphStore, rules: RuleSet, names: tuple[str, str]) -> list[Outcome]:
    barrier = threading.Barrier(2)
    outcomes = [Outcome(name) for name in names]

    def run(outcome: Outcome) -> None:
        event = _event(outcome.name)
        barrier.wait()
        try:
            outcome.case, outcome.record = OPS[outcome.name](store, rules, event)
        except CreditnetError as exc:
            outcome.error = exc

    threads = [threading.Thread(target=run, args=(o,)) for o in outcomes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


PAIRS = list(itertools.combinations_with_replacement(sorted(OPS), 2))


@pytest.mark.parametrize("names", PAIRS, ids=["+".join(p) for p in PAIRS])
def test_two_decisions_at_once_keep_the_record_consistent(
    store: GraphStore, rules: RuleSet, names: tuple[str, str]
) -> None:
    for _ in range(TRIALS):
        _setup(store, rules, names)
        before = store.get(RECORD)
        assert isinstance(before, Sanction)
        outcomes = _race(store, rules, names)
        won = [o for o in outcomes if o.error is None]
        for o in outcomes:
            if o.error is not None:
                # Losing is a conflict or a refusal of the state the winner left, never a crash.
                assert isinstance(o.error, CreditnetError), o.error
        stored = store.get(RECORD)
        assert isinstance(stored, Sanction)
        # Each success moved the record on by one version: none was lost or applied twice.
        assert versioned_as(stored) == versioned_as(before) + len(won), (names, outcomes)
        cases = {c.id: c for c in store.cases(subject_ids=[RECORD])}
        for o in won:
            assert o.case is not None
            assert cases[o.case.id] == o.case, (names, o.name)
        # The stored record is the last winner's, field for field.
        last = max(
            (o for o in won if o.record is not None),
            key=lambda o: versioned_as(o.record) if o.record else 0,
            default=None,
        )
        if (
            last is not None
            and last.record is not None
            and versioned_as(last.record) == (versioned_as(stored))
        ):
            assert stored == last.record, (names, outcomes)
        upheld = any(
            c.kind is CaseKind.OBJECTION and c.status is CaseStatus.UPHELD for c in cases.values()
        )
        approved = any(
            c.kind is CaseKind.CREDIT_REPAIR and c.status is CaseStatus.APPROVED
            for c in cases.values()
        )
        if upheld and not approved:
            assert stored.status is SanctionStatus.REVOKED
        if approved and not upheld:
            assert stored.status is SanctionStatus.REPAIRED, (names, outcomes)
        if not upheld and not approved:
            assert stored.status is SanctionStatus.ACTIVE
        open_objection = any(
            c.kind is CaseKind.OBJECTION and c.status is CaseStatus.OPEN for c in cases.values()
        )
        assert stored.disputed is open_objection, (names, outcomes)
        # Every success's audit event was stored with it, once; a loser's never.
        events = [e for e in store.audit_events() if e["event_id"] != "setup"]
        results = sorted(e["result"] for e in events)
        assert results == sorted(o.case.id for o in won if o.case is not None), (names, outcomes)


def test_a_conflict_leaves_nothing_of_the_loser(store: GraphStore, rules: RuleSet) -> None:
    _setup(store, rules, ("approve", "uphold"))
    stale = store.get(RECORD)
    assert isinstance(stale, Sanction)
    resolve_objection(store, OBJECTION, True, "ok", "rev-u", DAY)
    # A decision that read the record before the objection was upheld must not apply.
    with pytest.raises(Conflict):
        store.write(
            WriteBatch(
                nodes=[
                    Case(REPAIR, CaseKind.CREDIT_REPAIR, RECORD, CaseStatus.APPROVED, version=2),
                    Sanction(
                        RECORD,
                        "C1",
                        SanctionList.ADMIN_PENALTY,
                        status=SanctionStatus.REPAIRED,
                        version=versioned_as(stale) + 1,
                    ),
                ],
                audit=[{"event_id": "late", "result": REPAIR}],
            ),
            expect={REPAIR: 1, RECORD: versioned_as(stale)},
        )
    record = store.get(RECORD)
    assert isinstance(record, Sanction) and record.status is SanctionStatus.REVOKED
    assert all(e["event_id"] != "late" for e in store.audit_events())
