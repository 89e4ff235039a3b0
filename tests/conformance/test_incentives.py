"""Joint incentives, graded supervision, commitments and the inspection draw on every store.

One scenario per incentive rule and per supervision class boundary, with the literal blocking
record and path; dates at the boundaries (the 3-year window, the verification day, the maximum
publicity of a breach); a property that I1 never holds beside a restriction; the draw's
determinism and counts; and the bulk standings equal to the reports'.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.errors import Conflict, InvalidInput
from graph.explain import Path, PathLink
from graph.model import (
    Commitment,
    CommitmentKind,
    CommitmentOutcome,
    Company,
    Link,
    LinkType,
    Node,
    Officer,
    OfficerRole,
    Person,
    Sanction,
    SanctionList,
    SanctionStatus,
    Severity,
)
from graph.rules.engine import add_months
from graph.rules.schema import ConditionKind, Grade, RuleSet, load_rules
from graph.store import GraphStore, WriteBatch
from queries.commitments import commitments_of, record_commitment, verify_commitment
from queries.incentives import incentive_rows, standings
from queries.report import CreditReport, credit_report
from queries.supervision import draw_count, inspection_draw

AS_OF = date(2024, 6, 1)
LR = OfficerRole.LEGAL_REPRESENTATIVE
CH = OfficerRole.CHAIRMAN
I1 = ("GREEN_CHANNEL", "REDUCED_INSPECTION", "FINANCING_PREFERENCE")


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules(None)


def write(store: GraphStore, nodes: Sequence[Node], links: Sequence[Link] = ()) -> None:
    store.write(WriteBatch(nodes=list(nodes), links=list(links)))


def kept(cid: str, promisor: str, verified: date) -> Commitment:
    return Commitment(
        cid,
        promisor,
        CommitmentKind.TAX_DECLARATION,
        verified - timedelta(days=30),
        verified=verified,
        outcome=CommitmentOutcome.KEPT,
    )


def granted(report: CreditReport) -> list[tuple[str, str]]:
    return [(g.rule, str(g.measure)) for g in report.incentives]


def withheld(report: CreditReport) -> dict[str, tuple[ConditionKind, Path | None]]:
    return {
        w.rule: (w.condition, w.blocker.path if w.blocker is not None else None)
        for w in report.withheld
    }


def same_in_bulk(store: GraphStore, rules: RuleSet, day: date = AS_OF) -> None:
    """Forward materialisation gives every company the standing its report gives."""
    for company, standing in standings(store, day, rules, page=2):
        report = credit_report(store, company.id, day, rules)
        assert (standing.incentives, standing.withheld, standing.supervision_class) == (
            report.incentives,
            report.withheld,
            report.supervision_class,
        ), company.id


def test_a_clean_company_with_a_kept_commitment_gets_both(
    store: GraphStore, rules: RuleSet
) -> None:
    write(store, [Company("C", "Clean"), kept("k1", "C", date(2024, 1, 10))])
    report = credit_report(store, "C", AS_OF, rules)
    assert granted(report) == [("I1", m) for m in I1] + [("I2", "NOTIFICATION_COMMITMENT")]
    assert report.withheld == ()
    assert report.supervision_class is Grade.A
    assert "国发〔2016〕33号" in report.incentives[0].legal_basis
    same_in_bulk(store, rules)


def test_grade_b_withholds_i1_and_is_class_b(store: GraphStore, rules: RuleSet) -> None:
    # Two records that ended within three years: 100 (MARKET_BAN) + 80 (SERIOUS_DISHONEST).
    write(
        store,
        [
            Company("C", "Once banned"),
            Sanction(
                "m", "C", SanctionList.MARKET_BAN, start=date(2021, 1, 1), end=date(2022, 1, 1)
            ),
            Sanction(
                "s",
                "C",
                SanctionList.SERIOUS_DISHONEST,
                start=date(2020, 1, 1),
                end=date(2022, 1, 1),
            ),
        ],
    )
    report = credit_report(store, "C", AS_OF, rules)
    assert (report.score, report.grade) == (820, Grade.B)
    assert withheld(report)["I1"] == (ConditionKind.GRADE, None)
    assert report.withheld[0].reason == "grade B (score 820); needs grade A"
    assert report.supervision_class is Grade.B
    same_in_bulk(store, rules)


def test_an_own_restriction_withholds_both_and_is_class_c(
    store: GraphStore, rules: RuleSet
) -> None:
    write(
        store,
        [
            Company("C", "Abnormal"),
            Sanction("ab", "C", SanctionList.ABNORMAL_OPERATION, start=date(2024, 1, 1)),
            kept("k1", "C", date(2024, 1, 10)),
        ],
    )
    report = credit_report(store, "C", AS_OF, rules)
    assert report.grade is Grade.A  # 900: the grade alone would not withhold it
    assert withheld(report) == {
        "I1": (ConditionKind.NO_RESTRICTION, Path(("C",))),
        "I2": (ConditionKind.NO_RESTRICTION, Path(("C",))),
    }
    blocker = report.withheld[0].blocker
    assert blocker is not None and blocker.sanction is not None and blocker.sanction.id == "ab"
    assert report.supervision_class is Grade.C
    same_in_bulk(store, rules)


def test_a_restricted_principal_withholds_i1_with_the_path(
    store: GraphStore, rules: RuleSet
) -> None:
    # P chairs C (no restriction on C: R3 reaches only companies P legally represents) and is
    # the legal representative of C2, which is seriously dishonest (R1 bars P from office).
    write(
        store,
        [
            Company("C", "Trusted"),
            Company("C2", "Dishonest"),
            Person("P", "Li Lei"),
            Sanction("s2", "C2", SanctionList.SERIOUS_DISHONEST, start=date(2024, 1, 1)),
            kept("k1", "C", date(2024, 1, 10)),
        ],
        [Officer("P", "C", CH), Officer("P", "C2", LR)],
    )
    report = credit_report(store, "C", AS_OF, rules)
    assert report.restrictions == () and report.grade is Grade.A
    condition, path = withheld(report)["I1"]
    assert condition is ConditionKind.NO_PRINCIPAL_RESTRICTION
    assert path == Path(
        ("C", "P", "C2"),
        (
            PathLink(LinkType.OFFICER_OF, "P", "C", role=CH),
            PathLink(LinkType.OFFICER_OF, "P", "C2", role=LR),
        ),
    )
    assert path.describe() == "C <-[OFFICER_OF chairman]- P -[OFFICER_OF legal_representative]-> C2"
    assert report.withheld[0].blocker is not None
    assert report.withheld[0].blocker.sanction is not None
    assert report.withheld[0].blocker.sanction.id == "s2"
    assert granted(report) == [("I2", "NOTIFICATION_COMMITMENT")]
    assert report.supervision_class is Grade.B  # A needs I1
    assert {"C", "P", "C2"} <= set(report.nodes)  # the path can be named
    same_in_bulk(store, rules)


def test_a_principal_judgment_debtor_blocks_with_a_two_node_path(
    store: GraphStore, rules: RuleSet
) -> None:
    write(
        store,
        [
            Company("C", "Trusted"),
            Person("P", "Debtor"),
            Sanction("d", "P", SanctionList.DISHONEST_JUDGMENT_DEBTOR, start=date(2024, 1, 1)),
        ],
        [Officer("P", "C", CH)],
    )
    report = credit_report(store, "C", AS_OF, rules)
    assert withheld(report)["I1"] == (
        ConditionKind.NO_PRINCIPAL_RESTRICTION,
        Path(("C", "P"), (PathLink(LinkType.OFFICER_OF, "P", "C", role=CH),)),
    )
    # a director is not a principal responsible person
    store.clear()
    write(
        store,
        [
            Company("C", "Trusted"),
            Person("P", "Debtor"),
            Sanction("d", "P", SanctionList.DISHONEST_JUDGMENT_DEBTOR, start=date(2024, 1, 1)),
        ],
        [Officer("P", "C", OfficerRole.DIRECTOR)],
    )
    assert "I1" not in withheld(credit_report(store, "C", AS_OF, rules))


def test_an_own_record_without_a_rule_withholds_i1(store: GraphStore, rules: RuleSet) -> None:
    write(
        store,
        [Company("C", "Abroad"), Sanction("x", "C", SanctionList.EXTERNAL_SANCTION, start=AS_OF)],
    )
    report = credit_report(store, "C", AS_OF, rules)
    assert (report.score, report.restrictions) == (1000, ())
    assert withheld(report)["I1"] == (ConditionKind.NO_OWN_RECORD, Path(("C",)))
    assert report.supervision_class is Grade.B
    day_before = credit_report(store, "C", AS_OF - timedelta(days=1), rules)
    assert granted(day_before)[:3] == [("I1", m) for m in I1]


def test_i2_window_and_verification_boundaries(store: GraphStore, rules: RuleSet) -> None:
    verified = date(2021, 6, 1)
    write(store, [Company("C", "Keeper"), kept("k1", "C", verified)])

    def i2(day: date) -> ConditionKind | None:
        found = withheld(credit_report(store, "C", day, rules)).get("I2")
        return found[0] if found else None

    assert i2(verified - timedelta(days=1)) is ConditionKind.KEPT_COMMITMENT  # still pending
    assert i2(verified) is None
    end = add_months(verified, 36)
    assert i2(end - timedelta(days=1)) is None
    assert i2(end) is ConditionKind.KEPT_COMMITMENT  # three years on, it no longer counts
    same_in_bulk(store, rules, end)


def test_a_broken_commitment_withholds_i2_until_revoked(store: GraphStore, rules: RuleSet) -> None:
    write(store, [Company("C", "Promiser"), kept("k1", "C", date(2023, 1, 10))])
    record_commitment(
        store, "k2", "C", CommitmentKind.NOTIFICATION_PERMIT, date(2023, 2, 1), date(2023, 2, 1)
    )
    _, record = verify_commitment(store, "k2", False, date(2023, 3, 1))
    assert record is not None and record.id == "CB-k2" and record.severity is Severity.GENERAL
    assert store.get("CB-k2") == record  # written with the verification
    # In force (R10) for a year: the breach itself restricts.
    report = credit_report(store, "C", date(2023, 6, 1), rules)
    assert {r.measure for r in report.restrictions} == {
        "NOTIFICATION_COMMITMENT_BAN",
        "ENHANCED_SUPERVISION",
    }
    assert withheld(report)["I2"] == (ConditionKind.NO_BROKEN_COMMITMENT, Path(("C",)))
    # Past its maximum publicity (general: 12 months) it restricts no more, but still counts.
    expired = add_months(date(2023, 3, 1), 12)
    report = credit_report(store, "C", expired, rules)
    assert report.restrictions == ()
    assert withheld(report)["I2"][0] is ConditionKind.NO_BROKEN_COMMITMENT
    blocker = report.withheld[-1].blocker
    assert blocker is not None and blocker.commitment is not None
    assert (blocker.commitment.id, blocker.sanction.id if blocker.sanction else None) == (
        "k2",
        "CB-k2",
    )
    # An upheld objection revokes the breach record: from then on it does not count.
    revoked = Sanction(
        "CB-k2",
        "C",
        SanctionList.COMMITMENT_BREACH,
        start=date(2023, 3, 1),
        status=SanctionStatus.REVOKED,
        status_date=date(2024, 3, 2),
    )
    write(store, [revoked])
    assert "I2" in withheld(credit_report(store, "C", date(2024, 3, 1), rules))
    assert "I2" not in withheld(credit_report(store, "C", date(2024, 3, 2), rules))
    same_in_bulk(store, rules, date(2024, 3, 2))


def test_supervision_class_boundaries(store: GraphStore, rules: RuleSet) -> None:
    write(
        store,
        [
            Company("D1", "Grade D"),  # 400 by four serious penalties, no measure of D
            *(
                Sanction(
                    f"d{n}",
                    "D1",
                    SanctionList.ADMIN_PENALTY,
                    severity=Severity.SERIOUS,
                    start=date(2024, 1, 1),
                )
                for n in range(4)
            ),
            Company("D2", "Wage arrears"),  # 700: grade B, but holds PROCUREMENT_BAN
            Sanction("w", "D2", SanctionList.WAGE_ARREARS, start=date(2024, 1, 1)),
            Company("C1", "Grade C"),  # 650 with no measure of D
            Sanction(
                "p1",
                "C1",
                SanctionList.ADMIN_PENALTY,
                severity=Severity.SERIOUS,
                start=date(2024, 1, 1),
            ),
            Sanction("p2", "C1", SanctionList.ADMIN_PENALTY, start=date(2024, 1, 1)),
            Sanction("c1b", "C1", SanctionList.COMMITMENT_BREACH, start=date(2024, 1, 1)),
            Sanction(
                "p3",
                "C1",
                SanctionList.ADMIN_PENALTY,
                severity=Severity.SERIOUS,
                start=date(2024, 2, 1),
            ),
            Company("A1", "Clean"),
        ],
    )
    classes = {c.id: s.supervision_class for c, s in standings(store, AS_OF, rules)}
    assert classes == {"D1": Grade.D, "D2": Grade.D, "C1": Grade.C, "A1": Grade.A}
    grades = {i: credit_report(store, i, AS_OF, rules).grade for i in classes}
    assert grades == {"D1": Grade.D, "D2": Grade.B, "C1": Grade.C, "A1": Grade.A}
    same_in_bulk(store, rules)


def test_incentive_rows_list_the_holders(store: GraphStore, rules: RuleSet) -> None:
    write(
        store,
        [
            Company("A", "Alpha"),
            Company("B", "Beta"),
            kept("k", "B", date(2024, 1, 1)),
            Company("Z", "Zed"),
            Sanction("ab", "Z", SanctionList.ABNORMAL_OPERATION, start=date(2024, 1, 1)),
        ],
    )
    rows = list(incentive_rows(store, AS_OF, rules, "NOTIFICATION_COMMITMENT"))
    assert [(r["entity_id"], r["rule"], r["supervision_class"]) for r in rows] == [("B", "I2", "A")]
    every = list(incentive_rows(store, AS_OF, rules))
    assert [(r["entity_id"], r["measure"]) for r in every] == [
        ("A", "GREEN_CHANNEL"),
        ("A", "REDUCED_INSPECTION"),
        ("A", "FINANCING_PREFERENCE"),
        ("B", "GREEN_CHANNEL"),
        ("B", "REDUCED_INSPECTION"),
        ("B", "FINANCING_PREFERENCE"),
        ("B", "NOTIFICATION_COMMITMENT"),
    ]


def test_commitments_record_verify_and_list(store: GraphStore) -> None:
    write(store, [Company("C", "C"), Person("P", "P")])
    made = date(2024, 1, 1)
    record_commitment(store, "k1", "C", CommitmentKind.PROACTIVE, made, made, due=date(2024, 2, 1))
    with pytest.raises(Conflict):
        record_commitment(store, "k1", "C", CommitmentKind.PROACTIVE, made, made)
    with pytest.raises(InvalidInput, match="not a company or person"):
        record_commitment(store, "k2", "nobody", CommitmentKind.PROACTIVE, made, made)
    with pytest.raises(InvalidInput, match="after today"):
        record_commitment(store, "k3", "C", CommitmentKind.PROACTIVE, made, made - timedelta(1))
    with pytest.raises(Conflict, match="version"):
        verify_commitment(store, "k1", True, date(2024, 1, 5), version=7)
    written, record = verify_commitment(store, "k1", True, date(2024, 1, 5), version=1)
    assert (written.outcome, written.verified, written.version, record) == (
        CommitmentOutcome.KEPT,
        date(2024, 1, 5),
        2,
        None,
    )
    with pytest.raises(InvalidInput, match="already verified"):
        verify_commitment(store, "k1", False, date(2024, 1, 6))
    record_commitment(store, "kp", "P", CommitmentKind.CREDIT_REPAIR, made, made)
    assert [c.id for c in commitments_of(store, "C")] == ["k1"]
    assert [c.id for c in commitments_of(store, "P")] == ["kp"]
    assert store.stats().links["COMMITTED"] == 2


def test_the_draw_is_reproducible_and_counts_round_half_up(
    store: GraphStore, rules: RuleSet
) -> None:
    companies: list[Node] = [Company(f"C{i:02d}", f"Co {i}") for i in range(25)]
    companies += [
        Sanction(f"s{i}", f"C{i:02d}", SanctionList.ABNORMAL_OPERATION, start=date(2024, 1, 1))
        for i in range(5)
    ]
    write(store, companies)
    first = inspection_draw(store, AS_OF, 42, rules)
    again = inspection_draw(store, AS_OF, 42, rules)
    assert first == again
    sizes = {c.name.value: (c.size, c.selected) for c in first.classes}
    # 20 class A (3% of 20 = 0.6 -> 1), 5 class C (30% of 5 = 1.5 -> 2)
    assert sizes == {"A": (20, 1), "B": (0, 0), "C": (5, 2), "D": (0, 0)}
    assert [grade for _, grade in first.selected] == [Grade.A, Grade.C, Grade.C]
    others = {inspection_draw(store, AS_OF, seed, rules).selected for seed in range(10)}
    assert len(others) > 1  # the seed decides which
    assert draw_count(rules.supervision.rate(Grade.D), 7) == 7 if rules.supervision else False


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    records=st.lists(
        st.tuples(
            st.sampled_from(["C0", "C1", "C2", "P0", "P1"]),
            st.sampled_from(list(SanctionList)),
            st.integers(min_value=-1500, max_value=200),
        ),
        max_size=5,
    ),
    roles=st.lists(
        st.tuples(
            st.sampled_from(["P0", "P1"]),
            st.sampled_from(["C0", "C1", "C2"]),
            st.sampled_from(list(OfficerRole)),
        ),
        max_size=5,
    ),
)
def test_i1_never_holds_beside_a_restriction(
    store: GraphStore,
    rules: RuleSet,
    records: list[tuple[str, SanctionList, int]],
    roles: list[tuple[str, str, OfficerRole]],
) -> None:
    store.clear()
    nodes: list[Node] = [Company(f"C{i}", f"C{i}") for i in range(3)]
    nodes += [Person(f"P{i}", f"P{i}") for i in range(2)]
    nodes += [
        Sanction(f"s{n}", subject, listed, start=AS_OF + timedelta(days=offset))
        for n, (subject, listed, offset) in enumerate(records)
    ]
    write(store, nodes, [Officer(p, c, role) for p, c, role in roles])
    for company, standing in standings(store, AS_OF, rules):
        report = credit_report(store, company.id, AS_OF, rules)
        i1 = any(g.rule == "I1" for g in report.incentives)
        assert not (i1 and report.restrictions), company.id
        assert (standing.incentives, standing.withheld) == (report.incentives, report.withheld)
