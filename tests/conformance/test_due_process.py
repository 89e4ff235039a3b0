"""Due process on every store: market-ban candidates and decisions, objections, credit repair,
and the optimistic-concurrency guarantee (a stale decision is refused and nothing is applied
twice)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import cast

import pytest

from graph.errors import Conflict, Forbidden, InvalidInput, NotFound
from graph.explain import PhoenixVia
from graph.model import (
    Case,
    CaseKind,
    CaseStatus,
    Commitment,
    CommitmentKind,
    Company,
    Link,
    Measure,
    Node,
    Officer,
    OfficerRole,
    Person,
    Sanction,
    SanctionList,
    SanctionStatus,
    Severity,
)
from graph.rules.engine import add_months, sanction_in_force
from graph.rules.schema import RuleSet, load_rules
from graph.store import GraphStore, WriteBatch, WriteResult
from queries.due_process import (
    Candidate,
    CandidateKind,
    ReviewSettings,
    apply_credit_repair,
    decide_credit_repair,
    decide_market_ban,
    file_objection,
    market_ban_candidates,
    resolve_objection,
)
from queries.report import credit_report

AS_OF = date(2024, 6, 1)
LR = OfficerRole.LEGAL_REPRESENTATIVE
PA = SanctionList.ADMIN_PENALTY


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules(None)


def write(store: GraphStore, nodes: Sequence[Node], links: Sequence[Link] = ()) -> None:
    store.write(WriteBatch(nodes=list(nodes), links=list(links)))


def penalty(
    sid: str, subject: str, start: date, fine: float | None = 1000.0, **kw: object
) -> Sanction:
    return Sanction(sid, subject, PA, start=start, fine=fine, **kw)  # type: ignore[arg-type]


def offender(store: GraphStore, *, first: date = date(2023, 1, 10)) -> None:
    """C1: three fined penalties within 24 months, then an abnormal-operation listing."""
    write(
        store,
        [
            Company("C1", "Repeat Trading Co"),
            Person("P1", "Wang Fang"),
            Person("P2", "Zhao Lei"),
            penalty("pen1", "C1", first),
            penalty("pen2", "C1", date(2023, 5, 10), 20000.0),
            penalty("pen3", "C1", date(2023, 9, 10), 5000.0),
            Sanction("ab1", "C1", SanctionList.ABNORMAL_OPERATION, start=date(2024, 1, 15)),
        ],
        [Officer("P1", "C1", LR), Officer("P2", "C1", OfficerRole.DIRECTOR)],
    )


def by_entity(found: Iterable[Candidate]) -> dict[str, list[Candidate]]:
    grouped: dict[str, list[Candidate]] = {}
    for candidate in found:
        grouped.setdefault(candidate.entity_id, []).append(candidate)
    return grouped


# -- candidates ----------------------------------------------------------------------------------


def test_repeat_offender_is_a_candidate_with_its_evidence(store: GraphStore) -> None:
    offender(store)
    found = market_ban_candidates(store, AS_OF)
    assert [c.entity_id for c in found] == ["C1"]
    candidate = found[0]
    assert candidate.kind is CandidateKind.REPEAT_OFFENDER
    assert candidate.id.startswith("mbr-C1-")
    roles = {r.sanction.id: r.role for r in candidate.records}
    assert roles == {
        "pen1": "penalty",
        "pen2": "penalty",
        "pen3": "penalty",
        "ab1": "later_violation",
    }
    fines = {r.sanction.id: r.sanction.fine for r in candidate.records}
    assert fines["pen2"] == 20000.0
    # Stable: the same evidence gives the same id on another day.
    again = market_ban_candidates(store, AS_OF + timedelta(days=30))
    assert [c.id for c in again] == [candidate.id]


def test_two_penalties_are_not_enough(store: GraphStore) -> None:
    write(
        store,
        [
            Company("C2", "Twice Co"),
            penalty("a", "C2", date(2023, 1, 1)),
            penalty("b", "C2", date(2023, 2, 1)),
            Sanction("c", "C2", SanctionList.ABNORMAL_OPERATION, start=date(2024, 1, 1)),
            # an unfined penalty does not count towards the three
            penalty("d", "C2", date(2023, 3, 1), fine=None),
        ],
    )
    assert market_ban_candidates(store, AS_OF) == []


def test_no_later_violation_no_candidate(store: GraphStore) -> None:
    write(
        store,
        [
            Company("C3", "Quiet Since Co"),
            penalty("a", "C3", date(2023, 1, 1)),
            penalty("b", "C3", date(2023, 2, 1)),
            penalty("c", "C3", date(2023, 3, 1)),
            # on the same day as the last counted penalty: not "after" it
            Sanction("d", "C3", SanctionList.ABNORMAL_OPERATION, start=date(2023, 3, 1)),
        ],
    )
    assert market_ban_candidates(store, AS_OF) == []


def test_the_window_is_24_months_inclusive(store: GraphStore) -> None:
    offender(store, first=date(2022, 5, 31))  # a day too old on AS_OF
    assert market_ban_candidates(store, AS_OF) == []
    assert [c.entity_id for c in market_ban_candidates(store, date(2024, 5, 31))] == ["C1"]


def test_revoked_records_never_count(store: GraphStore) -> None:
    offender(store)
    write(
        store,
        [
            penalty(
                "pen2",
                "C1",
                date(2023, 5, 10),
                status=SanctionStatus.REVOKED,
                status_date=date(2023, 6, 1),
            )
        ],
    )
    assert market_ban_candidates(store, AS_OF) == []


def test_two_serious_penalties_and_a_later_record(store: GraphStore) -> None:
    write(
        store,
        [
            Person("P9", "Sun Wei"),
            penalty("s1", "P9", date(2023, 1, 1), fine=None, severity=Severity.SERIOUS),
            penalty("s2", "P9", date(2023, 4, 1), fine=None, severity=Severity.SERIOUS),
            penalty("s3", "P9", date(2023, 8, 1), fine=None, severity=Severity.MINOR),
        ],
    )
    found = market_ban_candidates(store, AS_OF)
    assert [(c.entity_id, sorted(c.evidence_ids)) for c in found] == [("P9", ["s1", "s2", "s3"])]


def phoenix(store: GraphStore) -> None:
    """OLD is seriously dishonest from 2023-01-01; its legal representative founds NEW."""
    write(
        store,
        [
            Company("OLD", "Old Trading Co", founded=date(2010, 1, 1)),
            Company("NEW", "New Trading Co", founded=date(2023, 6, 1)),
            Company("UNRELATED", "Unrelated Co", founded=date(2023, 6, 1)),
            Person("PX", "Li Ming"),
            Sanction("sd1", "OLD", SanctionList.SERIOUS_DISHONEST, start=date(2023, 1, 1)),
        ],
        [
            Officer("PX", "OLD", LR, start=date(2015, 1, 1)),
            Officer("PX", "NEW", LR, start=date(2023, 6, 1)),
        ],
    )


def test_phoenix_is_a_candidate_with_its_path(store: GraphStore) -> None:
    phoenix(store)
    found = market_ban_candidates(store, AS_OF)
    assert [(c.entity_id, c.kind) for c in found] == [("NEW", CandidateKind.PHOENIX)]
    candidate = found[0]
    assert candidate.evidence_ids == {"sd1"}
    [link] = candidate.links
    assert link.via is PhoenixVia.PRINCIPAL
    assert link.path.nodes == ("OLD", "PX", "NEW")
    assert [step.role for step in link.path.links] == [LR] * 2
    assert link.roles_then == link.roles_now == (LR,)


# -- decisions -------------------------------------------------------------------------------------


def test_approve_bans_and_reaches_the_legal_representative_the_same_day(
    store: GraphStore, rules: RuleSet
) -> None:
    offender(store)
    [candidate] = market_ban_candidates(store, AS_OF)
    case, ban = decide_market_ban(
        store,
        candidate.id,
        True,
        "three fines and still violating",
        3,
        "reviewer Liu",
        AS_OF,
        rules,
        ReviewSettings(authority="Test AMR"),
    )
    assert ban is not None
    stored = store.get(ban.id)
    assert isinstance(stored, Sanction)
    assert stored.list is SanctionList.MARKET_BAN
    assert (stored.start, stored.end) == (AS_OF, date(2027, 6, 1))
    assert stored.severity is Severity.SERIOUS and stored.authority == "Test AMR"
    assert stored.legal_basis and "R4" in stored.legal_basis and "行政处罚法" in stored.legal_basis
    saved = store.get(case.id)
    assert isinstance(saved, Case)
    assert (saved.kind, saved.status, saved.decided_by) == (
        CaseKind.MARKET_BAN_REVIEW,
        CaseStatus.APPROVED,
        "reviewer Liu",
    )
    evidence = json.loads(saved.evidence or "{}")
    assert {r["id"] for r in evidence["evidence"]} == {"pen1", "pen2", "pen3", "ab1"}

    report = credit_report(store, "P1", AS_OF, rules)
    bans = [r for r in report.restrictions if r.measure is Measure.MARKET_ENTRY_BAN]
    assert [(r.rule, r.source.id, r.path.nodes) for r in bans] == [("R4", ban.id, ("C1", "P1"))]
    assert bans[0].path.links[0].role is LR
    director = credit_report(store, "P2", AS_OF, rules)
    assert {r.measure for r in director.restrictions} == {
        Measure.MARKET_ENTRY_BAN,
        Measure.OFFICER_APPOINTMENT_BAN,
    }
    own = credit_report(store, "C1", AS_OF, rules)
    assert any(
        d.source is not None and d.source.id == ban.id and d.points == 500 for d in own.deductions
    )
    # The day before, nothing.
    before = credit_report(store, "P1", AS_OF - timedelta(days=1), rules)
    assert before.restrictions == ()
    # Banned now: not a candidate any more; deciding again is a conflict.
    assert market_ban_candidates(store, AS_OF) == []
    with pytest.raises(Conflict):
        decide_market_ban(store, candidate.id, False, "no", 3, "reviewer Ma", AS_OF, rules)


def test_approving_a_person_uses_r5(store: GraphStore, rules: RuleSet) -> None:
    write(
        store,
        [
            Person("P9", "Sun Wei"),
            penalty("s1", "P9", date(2023, 1, 1), fine=None, severity=Severity.SERIOUS),
            penalty("s2", "P9", date(2023, 4, 1), fine=None, severity=Severity.SERIOUS),
            penalty("s3", "P9", date(2023, 8, 1)),
        ],
    )
    [candidate] = market_ban_candidates(store, AS_OF)
    _, ban = decide_market_ban(store, candidate.id, True, "repeat", 1, "r", AS_OF, rules)
    assert ban is not None and ban.legal_basis is not None and ban.legal_basis.startswith("R5")
    report = credit_report(store, "P9", AS_OF, rules)
    assert {(r.measure, r.rule) for r in report.restrictions if r.source.id == ban.id} == {
        (Measure.MARKET_ENTRY_BAN, "R5"),
        (Measure.OFFICER_APPOINTMENT_BAN, "R5"),
    }


def test_decision_input_is_checked(store: GraphStore, rules: RuleSet) -> None:
    offender(store)
    [candidate] = market_ban_candidates(store, AS_OF)
    for years in (0, 11):
        with pytest.raises(InvalidInput, match="years"):
            decide_market_ban(store, candidate.id, True, "r", years, "r", AS_OF, rules)
    with pytest.raises(InvalidInput, match="reason"):
        decide_market_ban(store, candidate.id, True, "  ", 3, "r", AS_OF, rules)
    with pytest.raises(NotFound):
        decide_market_ban(store, "mbr-C1-0000000000", True, "r", 3, "r", AS_OF, rules)
    with pytest.raises(InvalidInput):
        decide_market_ban(store, "C1", True, "r", 3, "r", AS_OF, rules)
    assert store.cases() == []


def test_rejected_candidate_returns_only_with_new_evidence(
    store: GraphStore, rules: RuleSet
) -> None:
    offender(store)
    [candidate] = market_ban_candidates(store, AS_OF)
    case, ban = decide_market_ban(
        store, candidate.id, False, "fines were paid promptly", 3, "reviewer Liu", AS_OF, rules
    )
    assert ban is None and case.status is CaseStatus.REJECTED
    assert [s.list for s in store.sanctions(["C1"])].count(SanctionList.MARKET_BAN) == 0
    assert market_ban_candidates(store, AS_OF) == []
    assert market_ban_candidates(store, AS_OF + timedelta(days=40)) == []
    write(store, [penalty("pen4", "C1", date(2024, 7, 1))])
    [again] = market_ban_candidates(store, date(2024, 7, 2))
    assert again.id != candidate.id
    assert "pen4" in again.evidence_ids


class _RacingStore:
    """A store proxy whose first write lets another reviewer decide first (a stale read)."""

    def __init__(self, inner: GraphStore, other: Callable[[], None]) -> None:
        self._inner = inner
        self._other = other
        self.raced = False

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    def write(self, batch: WriteBatch, *, expect: Mapping[str, int] | None = None) -> WriteResult:
        if not self.raced:
            self.raced = True
            self._other()
        return self._inner.write(batch, expect=expect)


def test_two_reviewers_one_candidate_one_wins(store: GraphStore, rules: RuleSet) -> None:
    offender(store)
    [candidate] = market_ban_candidates(store, AS_OF)

    def first() -> None:
        decide_market_ban(store, candidate.id, True, "ban", 2, "reviewer A", AS_OF, rules)

    racing = _RacingStore(store, first)
    with pytest.raises(Conflict):
        decide_market_ban(
            cast(GraphStore, racing), candidate.id, False, "no", 3, "reviewer B", AS_OF, rules
        )
    bans = [s for s in store.sanctions(["C1"]) if s.list is SanctionList.MARKET_BAN]
    assert len(bans) == 1 and bans[0].end == date(2026, 6, 1)
    [case] = store.cases(kind=CaseKind.MARKET_BAN_REVIEW)
    assert (case.status, case.decided_by) == (CaseStatus.APPROVED, "reviewer A")


# -- objections ------------------------------------------------------------------------------------


def dishonest(store: GraphStore) -> None:
    write(
        store,
        [
            Company("D1", "Dishonest Co"),
            Person("DP", "Chen Jie"),
            Sanction("sd", "D1", SanctionList.SERIOUS_DISHONEST, start=date(2024, 1, 1)),
        ],
        [Officer("DP", "D1", LR)],
    )


def test_upheld_objection_revokes_as_of_that_date(store: GraphStore, rules: RuleSet) -> None:
    dishonest(store)
    filed_on, decided_on = date(2024, 5, 1), date(2024, 5, 10)
    case = file_objection(store, "sd", "wrong company: name confusion", "agency Hu", filed_on)
    assert (case.kind, case.status, case.due) == (
        CaseKind.OBJECTION,
        CaseStatus.OPEN,
        date(2024, 5, 21),
    )
    disputed = store.get("sd")
    assert isinstance(disputed, Sanction) and disputed.disputed
    during = credit_report(store, "DP", filed_on, rules)
    assert during.restrictions and all(r.disputed for r in during.restrictions)

    decided, _ = resolve_objection(
        store,
        case.id,
        True,
        "verified: not the same company",
        "reviewer Liu",
        decided_on,
        version=case.version,
    )
    assert decided.status is CaseStatus.UPHELD and decided.version == case.version + 1
    stored = store.get("sd")
    assert isinstance(stored, Sanction)
    assert (stored.status, stored.status_date, stored.disputed) == (
        SanctionStatus.REVOKED,
        decided_on,
        False,
    )
    for entity in ("DP", "D1"):
        before = credit_report(store, entity, decided_on - timedelta(days=1), rules)
        after = credit_report(store, entity, decided_on, rules)
        assert before.restrictions, entity
        assert after.restrictions == () and after.score == 1000, entity
    # History kept: the record stays, with its status.
    assert [s.id for s in store.sanctions(["D1"])] == ["sd"]
    with pytest.raises(InvalidInput, match="revoked"):
        file_objection(store, "sd", "again", "agency Hu", decided_on)


def test_one_open_objection_per_record_and_reject(store: GraphStore, rules: RuleSet) -> None:
    dishonest(store)
    case = file_objection(store, "sd", "objection", "agency Hu", AS_OF)
    with pytest.raises(InvalidInput, match="open objection"):
        file_objection(store, "sd", "another", "agency Ho", AS_OF)
    with pytest.raises(InvalidInput, match="reason"):
        file_objection(store, "sd", "", "agency Ho", AS_OF)
    with pytest.raises(NotFound):
        file_objection(store, "nope", "x", "agency Ho", AS_OF)
    decided, sanction = resolve_objection(store, case.id, False, "record is right", "rev", AS_OF)
    assert decided.status is CaseStatus.REJECTED
    assert (sanction.status, sanction.disputed) == (SanctionStatus.ACTIVE, False)
    assert credit_report(store, "DP", AS_OF, rules).restrictions
    # a new objection may be filed once the first is decided
    second = file_objection(store, "sd", "new facts", "agency Hu", AS_OF)
    assert second.id != case.id


def test_stale_decision_is_a_conflict_and_nothing_is_applied_twice(
    store: GraphStore, rules: RuleSet
) -> None:
    dishonest(store)
    case = file_objection(store, "sd", "objection", "agency Hu", date(2024, 5, 1))
    read_version = case.version
    resolve_objection(store, case.id, True, "right", "reviewer A", date(2024, 5, 5), read_version)
    with pytest.raises(Conflict):
        resolve_objection(
            store, case.id, False, "wrong", "reviewer B", date(2024, 5, 6), read_version
        )
    with pytest.raises(Conflict):
        resolve_objection(store, case.id, True, "again", "reviewer B", date(2024, 5, 6))
    stored = store.get("sd")
    saved = store.get(case.id)
    assert isinstance(stored, Sanction) and isinstance(saved, Case)
    assert (stored.status, stored.status_date) == (SanctionStatus.REVOKED, date(2024, 5, 5))
    assert (saved.status, saved.decided_by, saved.version) == (
        CaseStatus.UPHELD,
        "reviewer A",
        read_version + 1,
    )


# -- credit repair ---------------------------------------------------------------------------------

START = date(2023, 1, 31)


@pytest.mark.parametrize(
    ("severity", "months"),
    [(Severity.MINOR, 0), (Severity.GENERAL, 3), (Severity.SERIOUS, 12)],
)
def test_repair_opens_after_the_minimum_period(
    store: GraphStore, rules: RuleSet, severity: Severity, months: int
) -> None:
    write(
        store,
        [Company("R1", "Repair Co"), penalty("rp", "R1", START, 500.0, severity=severity)],
    )
    opens = add_months(START, months)
    with pytest.raises(InvalidInput):
        apply_credit_repair(store, "rp", None, "agency", opens - timedelta(1), rules)
    case = apply_credit_repair(store, "rp", None, "agency", opens, rules)
    assert (case.kind, case.status, case.subject_id) == (
        CaseKind.CREDIT_REPAIR,
        CaseStatus.OPEN,
        "rp",
    )


def test_repair_message_names_the_earliest_date(store: GraphStore, rules: RuleSet) -> None:
    write(
        store, [Company("R1", "Repair Co"), penalty("rp", "R1", START, severity=Severity.GENERAL)]
    )
    with pytest.raises(InvalidInput, match="2023-04-30"):
        apply_credit_repair(store, "rp", "c", "agency", date(2023, 4, 29), rules)


@pytest.mark.parametrize(
    "listed", [SanctionList.MARKET_BAN, SanctionList.DISHONEST_JUDGMENT_DEBTOR]
)
def test_bans_and_judgment_debtors_are_not_repairable(
    store: GraphStore, rules: RuleSet, listed: SanctionList
) -> None:
    write(
        store,
        [
            Company("R1", "Repair Co"),
            Sanction("x", "R1", listed, start=START, end=date(2026, 1, 1)),
        ],
    )
    with pytest.raises(InvalidInput, match="2026-01-01"):
        apply_credit_repair(store, "x", "c", "agency", AS_OF, rules)


def test_repair_decision(store: GraphStore, rules: RuleSet) -> None:
    write(
        store,
        [
            Company("R1", "Repair Co"),
            penalty("rp", "R1", START, 500.0, severity=Severity.SERIOUS),
            Commitment("crc", "R1", CommitmentKind.CREDIT_REPAIR, date(2024, 2, 1)),
        ],
    )
    day = date(2024, 3, 1)
    unpaid = apply_credit_repair(store, "rp", None, "agency", day, rules)
    with pytest.raises(InvalidInput, match="not found paid"):
        decide_credit_repair(store, unpaid.id, True, "ok", "reviewer", day)
    with pytest.raises(Forbidden, match="may not decide"):  # separation of duties
        decide_credit_repair(store, unpaid.id, False, "mine", "agency", day, fine_paid=True)
    with pytest.raises(InvalidInput, match="open repair"):
        apply_credit_repair(store, "rp", None, "agency", day, rules)
    decide_credit_repair(store, unpaid.id, False, "pay the fine first", "reviewer", day)
    paid = apply_credit_repair(store, "rp", None, "agency", day, rules)
    assert paid.id != unpaid.id
    decided, sanction = decide_credit_repair(
        store,
        paid.id,
        True,
        "paid and committed",
        "reviewer",
        date(2024, 3, 5),
        paid.version,
        fine_paid=True,
    )
    assert decided.status is CaseStatus.APPROVED
    assert decided.extra["fine_paid"] is True  # the reviewer's finding, recorded
    assert decided.extra["commitment"] == "crc"  # the real commitment found, recorded
    assert (sanction.status, sanction.status_date) == (SanctionStatus.REPAIRED, date(2024, 3, 5))
    before = credit_report(store, "R1", date(2024, 3, 4), rules)
    after = credit_report(store, "R1", date(2024, 3, 5), rules)
    assert [d.points for d in before.deductions] == [150]
    assert [d.points for d in after.deductions] == [30]  # 20% of an ended (repaired) record
    assert "repaired" in after.deductions[0].reason
    with pytest.raises(Conflict):
        decide_credit_repair(store, paid.id, True, "again", "reviewer", date(2024, 3, 6))
    with pytest.raises(InvalidInput, match="repaired"):
        apply_credit_repair(store, "rp", "c", "agency", date(2024, 4, 1), rules)


def test_records_past_their_maximum_stop_counting_on_their_own(
    store: GraphStore, rules: RuleSet
) -> None:
    write(
        store,
        [Company("R1", "Repair Co"), penalty("rp", "R1", START, 500.0, severity=Severity.GENERAL)],
    )
    record = store.get("rp")
    assert isinstance(record, Sanction)
    maximum = add_months(START, 12)
    assert sanction_in_force(record, maximum - timedelta(1), rules.publicity)
    assert not sanction_in_force(record, maximum, rules.publicity)
    report = credit_report(store, "R1", maximum, rules)
    assert [d.points for d in report.deductions] == [12] and "expired" in report.deductions[
        0
    ].reason
    with pytest.raises(InvalidInput, match="on its own"):
        apply_credit_repair(store, "rp", "c", "agency", maximum, rules)
