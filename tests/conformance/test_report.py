"""Credit reports on every store: score arithmetic, ended records, the relationship cap, grades at
their boundaries, the floor at 0, and the JSON shape of the GraphQL ``CreditReport`` type."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from importlib import resources

import pytest
import yaml

from api import views
from graph.errors import NotFound
from graph.model import (
    Address,
    Company,
    Link,
    Measure,
    Node,
    Officer,
    OfficerRole,
    Ownership,
    Person,
    Sanction,
    SanctionList,
    SanctionStatus,
    Severity,
)
from graph.rules.schema import Grade, RuleSet, load_rules, parse_rules
from graph.store import GraphStore, WriteBatch
from queries.report import CreditReport, credit_report

AS_OF = date(2024, 6, 1)
RECENT = date(2024, 1, 1)

LR = OfficerRole.LEGAL_REPRESENTATIVE


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules(None)


def write(store: GraphStore, nodes: Sequence[Node], links: Sequence[Link] = ()) -> None:
    store.write(WriteBatch(nodes=list(nodes), links=list(links)))


def sanction(
    sid: str, subject: str, listed: SanctionList, start: date | None = RECENT, **fields: object
) -> Sanction:
    return Sanction(sid, subject, listed, start=start, **fields)  # type: ignore[arg-type]


def points(report: CreditReport) -> list[tuple[int, str | None]]:
    return [(d.points, d.source.id if d.source is not None else None) for d in report.deductions]


def check_sum(report: CreditReport) -> None:
    """The deductions explain the score exactly (before the floor)."""
    total = sum(d.points for d in report.deductions)
    if report.score > 0:
        assert total == 1000 - report.score
    else:
        assert total >= 1000


def test_a_clean_entity_scores_1000(store: GraphStore, rules: RuleSet) -> None:
    write(store, [Company("C", "Clean Co")])
    report = credit_report(store, "C", AS_OF, rules)
    assert (report.score, report.grade) == (1000, Grade.A)
    assert report.deductions == ()
    assert report.sanctions == ()
    assert report.restrictions == ()


@pytest.mark.parametrize(
    ("listed", "severity", "expected"),
    [
        (SanctionList.SERIOUS_DISHONEST, None, 400),
        (SanctionList.DISHONEST_JUDGMENT_DEBTOR, None, 350),
        (SanctionList.MAJOR_TAX_VIOLATION, None, 300),
        (SanctionList.MARKET_BAN, None, 500),
        (SanctionList.ABNORMAL_OPERATION, None, 100),
        (SanctionList.ADMIN_PENALTY, Severity.MINOR, 20),
        (SanctionList.ADMIN_PENALTY, Severity.GENERAL, 60),
        (SanctionList.ADMIN_PENALTY, Severity.SERIOUS, 150),
        (SanctionList.ADMIN_PENALTY, None, 60),
    ],
)
def test_own_sanctions_in_force_deduct_their_points(
    store: GraphStore,
    rules: RuleSet,
    listed: SanctionList,
    severity: Severity | None,
    expected: int,
) -> None:
    write(
        store,
        [Company("C", "C"), sanction("s1", "C", listed, start=date(2024, 5, 1), severity=severity)],
    )
    report = credit_report(store, "C", AS_OF, rules)
    assert points(report) == [(expected, "s1")]
    assert report.score == 1000 - expected
    # Own restrictions never count as relationship deductions.
    assert all(r.own for r in report.restrictions)


def test_several_own_sanctions_add_up(store: GraphStore, rules: RuleSet) -> None:
    write(
        store,
        [
            Company("C", "C"),
            sanction("s1", "C", SanctionList.SERIOUS_DISHONEST),
            sanction("s2", "C", SanctionList.ADMIN_PENALTY, severity=Severity.GENERAL),
            sanction("s3", "C", SanctionList.ABNORMAL_OPERATION),
        ],
    )
    report = credit_report(store, "C", AS_OF, rules)
    assert points(report) == [(400, "s1"), (60, "s2"), (100, "s3")]
    assert (report.score, report.grade) == (440, Grade.D)
    check_sum(report)


@pytest.mark.parametrize(
    ("listed", "severity", "expected"),
    [
        (SanctionList.WAGE_ARREARS, None, 300),
        (SanctionList.SOCIAL_INSURANCE_FRAUD, None, 300),
        (SanctionList.COMMITMENT_BREACH, Severity.MINOR, 30),
        (SanctionList.COMMITMENT_BREACH, Severity.GENERAL, 80),
        (SanctionList.COMMITMENT_BREACH, Severity.SERIOUS, 200),
        (SanctionList.COMMITMENT_BREACH, None, 80),  # default general
        (SanctionList.EXTERNAL_SANCTION, None, 0),
    ],
)
def test_the_new_lists_deduct_their_catalogue_weights(
    store: GraphStore,
    rules: RuleSet,
    listed: SanctionList,
    severity: Severity | None,
    expected: int,
) -> None:
    write(
        store,
        [Company("C", "C"), sanction("s1", "C", listed, start=date(2024, 5, 1), severity=severity)],
    )
    report = credit_report(store, "C", AS_OF, rules)
    assert points(report) == [(expected, "s1")]
    assert report.score == 1000 - expected
    assert [(s.sanction.id, s.in_force) for s in report.sanctions] == [("s1", True)]


@pytest.mark.parametrize(
    ("listed", "severity", "reason", "expected"),
    [
        (SanctionList.WAGE_ARREARS, None, "WAGE_ARREARS (serious)", 60),
        (SanctionList.SOCIAL_INSURANCE_FRAUD, None, "SOCIAL_INSURANCE_FRAUD (serious)", 60),
        (SanctionList.COMMITMENT_BREACH, None, "COMMITMENT_BREACH (general)", 16),
        (SanctionList.COMMITMENT_BREACH, Severity.MINOR, "COMMITMENT_BREACH (minor)", 6),
        (SanctionList.COMMITMENT_BREACH, Severity.SERIOUS, "COMMITMENT_BREACH (serious)", 40),
    ],
)
def test_the_new_lists_deduct_20_percent_once_ended(
    store: GraphStore,
    rules: RuleSet,
    listed: SanctionList,
    severity: Severity | None,
    reason: str,
    expected: int,
) -> None:
    # Repaired last month: the ended factor of every shipped list is 20%, rounded down.
    repaired = sanction(
        "s1",
        "C",
        listed,
        date(2024, 3, 1),  # within even the minor maximum (3 months) at the repair
        severity=severity,
        status=SanctionStatus.REPAIRED,
        status_date=date(2024, 5, 1),
    )
    write(store, [Company("C", "C"), repaired])
    report = credit_report(store, "C", AS_OF, rules)
    assert points(report) == [(expected, "s1")]
    (deduction,) = report.deductions
    assert f"own {reason} record s1 ended 2024-05-01 (repaired)" in deduction.reason
    assert "20% of" in deduction.reason


def test_ended_records_deduct_20_percent_for_3_years(store: GraphStore, rules: RuleSet) -> None:
    write(
        store,
        [
            Company("C", "C"),
            # Ended by its own end date two years ago: 20% of 300.
            sanction(
                "s_expired",
                "C",
                SanctionList.MAJOR_TAX_VIOLATION,
                date(2021, 1, 1),
                end=date(2022, 6, 1),
            ),
            # Repaired last month: 20% of 100.
            sanction(
                "s_repaired",
                "C",
                SanctionList.ABNORMAL_OPERATION,
                status=SanctionStatus.REPAIRED,
                status_date=date(2024, 5, 1),
            ),
            # Revoked: withdrawn, no trace in the score.
            sanction(
                "s_revoked",
                "C",
                SanctionList.SERIOUS_DISHONEST,
                status=SanctionStatus.REVOKED,
                status_date=date(2024, 5, 1),
            ),
            # Ended exactly 3 years before as_of: outside the window.
            sanction("s_old", "C", SanctionList.MARKET_BAN, date(2020, 1, 1), end=date(2021, 6, 1)),
            # Ended 3 years before the day after: still inside.
            sanction(
                "s_edge", "C", SanctionList.MARKET_BAN, date(2020, 1, 1), end=date(2021, 6, 2)
            ),
            # Stopped by its maximum publicity (general: 1 year) and counts as ended: 20% of 60.
            sanction(
                "s_max",
                "C",
                SanctionList.ADMIN_PENALTY,
                date(2023, 1, 1),
                severity=Severity.GENERAL,
            ),
            # Minor: 20% of 20 is 4.
            sanction(
                "s_minor",
                "C",
                SanctionList.ADMIN_PENALTY,
                date(2023, 1, 1),
                severity=Severity.MINOR,
            ),
            # Not started yet: not on the record at as_of.
            sanction("s_future", "C", SanctionList.SERIOUS_DISHONEST, date(2024, 6, 2)),
        ],
    )
    report = credit_report(store, "C", AS_OF, rules)
    assert points(report) == [
        (100, "s_edge"),
        (60, "s_expired"),
        (12, "s_max"),
        (4, "s_minor"),
        (20, "s_repaired"),
    ]
    assert report.score == 1000 - 196
    check_sum(report)
    states = {s.sanction.id: (s.in_force, s.ended_on) for s in report.sanctions}
    assert states == {
        "s_edge": (False, date(2021, 6, 2)),
        "s_expired": (False, date(2022, 6, 1)),
        "s_max": (False, date(2024, 1, 1)),
        "s_minor": (False, date(2023, 4, 1)),
        "s_old": (False, date(2021, 6, 1)),
        "s_repaired": (False, date(2024, 5, 1)),
        "s_revoked": (False, date(2024, 5, 1)),
    }
    by_source = {d.source.id: d.reason for d in report.deductions if d.source is not None}
    assert "repaired" in by_source["s_repaired"]
    assert "expired" in by_source["s_expired"]
    # The day before the repair, the record was in force: full points.
    earlier = credit_report(store, "C", date(2024, 4, 30), rules)
    assert (100, "s_repaired") in points(earlier)


def test_ended_deductions_round_down(store: GraphStore) -> None:
    raw = yaml.safe_load(
        resources.files("graph.rules").joinpath("default.yaml").read_text(encoding="utf-8")
    )
    raw["lists"]["ABNORMAL_OPERATION"]["weight"] = 333
    custom = parse_rules(yaml.safe_dump(raw, allow_unicode=True), "custom.yaml")
    write(
        store,
        [
            Company("C", "C"),
            sanction("s1", "C", SanctionList.ABNORMAL_OPERATION, end=date(2024, 3, 1)),
        ],
    )
    report = credit_report(store, "C", AS_OF, custom)
    assert points(report) == [(66, "s1")]  # 20% of 333 is 66.6
    assert report.score == 934


def test_relationship_deductions_count_distinct_sources_up_to_200(
    store: GraphStore, rules: RuleSet
) -> None:
    nodes: list[Node] = [Person("P", "P")]
    links: list[Link] = []
    for i in range(1, 6):
        nodes += [
            Company(f"C{i}", f"C{i}"),
            sanction(f"s{i}", f"C{i}", SanctionList.SERIOUS_DISHONEST),
        ]
        links.append(Officer("P", f"C{i}", LR))
    # A second record on C1 is a distinct source too; it is past the cap.
    nodes.append(sanction("s6", "C1", SanctionList.MARKET_BAN))
    write(store, nodes, links)
    report = credit_report(store, "P", AS_OF, rules)
    # Each source gives P two measures (HONOR_BAN, OFFICER_APPOINTMENT_BAN) but counts once.
    assert points(report) == [(50, "s1"), (50, "s2"), (50, "s3"), (50, "s4"), (0, "s5"), (0, "s6")]
    assert (report.score, report.grade) == (800, Grade.B)
    check_sum(report)
    capped = [d for d in report.deductions if d.points == 0]
    assert all("capped at 200" in d.reason for d in capped)
    assert len(report.restrictions) == 12


def test_a_watch_flag_from_another_entity_counts_too(store: GraphStore, rules: RuleSet) -> None:
    write(
        store,
        [
            Company("C", "C"),
            Company("Parent", "Parent"),
            Person("P", "P"),
            sanction("s1", "P", SanctionList.DISHONEST_JUDGMENT_DEBTOR),
            sanction("s2", "Parent", SanctionList.SERIOUS_DISHONEST, disputed=True),
        ],
        [Officer("P", "C", LR), Ownership("Parent", "C", 100.0)],
    )
    report = credit_report(store, "C", AS_OF, rules)
    # ENHANCED_SUPERVISION is a watch flag, not a penalty, but it still counts (DOMAIN.md); so
    # does a disputed record until its objection is resolved.
    assert {r.measure for r in report.restrictions} == {"ENHANCED_SUPERVISION"}
    assert points(report) == [(50, "s1"), (50, "s2")]
    assert report.score == 900
    assert report.grade is Grade.A


@pytest.mark.parametrize(
    ("deducted", "grade"),
    [
        (0, Grade.A),
        (100, Grade.A),
        (101, Grade.B),
        (300, Grade.B),
        (301, Grade.C),
        (500, Grade.C),
        (501, Grade.D),
        (999, Grade.D),
    ],
)
def test_grades_at_their_boundaries(store: GraphStore, deducted: int, grade: Grade) -> None:
    raw = yaml.safe_load(
        resources.files("graph.rules").joinpath("default.yaml").read_text(encoding="utf-8")
    )
    raw["lists"]["ABNORMAL_OPERATION"]["weight"] = deducted
    custom = parse_rules(yaml.safe_dump(raw, allow_unicode=True), "custom.yaml")
    write(store, [Company("C", "C"), sanction("s1", "C", SanctionList.ABNORMAL_OPERATION)])
    report = credit_report(store, "C", AS_OF, custom)
    assert report.score == 1000 - deducted
    assert report.grade is grade


def test_the_score_is_floored_at_0(store: GraphStore, rules: RuleSet) -> None:
    write(
        store,
        [
            Company("C", "C"),
            sanction("s1", "C", SanctionList.MARKET_BAN),
            sanction("s2", "C", SanctionList.SERIOUS_DISHONEST),
            sanction("s3", "C", SanctionList.MAJOR_TAX_VIOLATION),
        ],
    )
    report = credit_report(store, "C", AS_OF, rules)
    assert (report.score, report.grade) == (0, Grade.D)
    check_sum(report)
    # Deductions still list everything: they sum to 1000 - (-200).
    assert sum(d.points for d in report.deductions) == 1200


def test_unknown_ids_and_non_entities_are_not_found(store: GraphStore, rules: RuleSet) -> None:
    write(
        store,
        [Company("C", "C"), Address("A", "1 Road"), sanction("s1", "C", SanctionList.MARKET_BAN)],
    )
    for missing in ("nobody", "A", "s1"):
        with pytest.raises(NotFound):
            credit_report(store, missing, AS_OF, rules)


def test_report_json_has_the_graphql_shape(store: GraphStore, rules: RuleSet) -> None:
    write(
        store,
        [
            Company("C", "Acme 有限公司"),
            Person("P", "Li Lei"),
            sanction("s1", "C", SanctionList.SERIOUS_DISHONEST, authority="SAMR", disputed=True),
        ],
        [Officer("P", "C", LR)],
    )
    document = views.report_doc(credit_report(store, "P", AS_OF, rules), rules)
    json.dumps(document)  # plain JSON types only
    source = {
        "id": "s1",
        "subjectId": "C",
        "list": "SERIOUS_DISHONEST",
        "authority": "SAMR",
        "severity": "serious",
        "fine": None,
        "decided": None,
        "start": "2024-01-01",
        "end": None,
        "legalBasis": None,
        "description": None,
        "status": "active",
        "statusDate": None,
        "disputed": True,
        "batchId": None,
    }
    path = {
        "nodes": [
            {"id": "C", "name": "Acme 有限公司", "kind": "COMPANY"},
            {"id": "P", "name": "Li Lei", "kind": "PERSON"},
        ],
        "links": [
            {
                "type": "OFFICER_OF",
                "from": "P",
                "to": "C",
                "role": "legal_representative",
                "share": None,
                "start": None,
                "end": None,
                "quantity": None,
            }
        ],
    }
    r1 = rules.rule("R1").reaches[0].measures
    assert document == {
        "entity": {"id": "P", "name": "Li Lei", "kind": "PERSON"},
        "asOf": "2024-06-01",
        "score": 950,
        "grade": "A",
        "deductions": [
            {
                "points": 50,
                "reason": "restricted (HONOR_BAN, OFFICER_APPOINTMENT_BAN; rule R1) by "
                "SERIOUS_DISHONEST (serious) record s1 on Acme 有限公司 (C)",
                "source": source,
            }
        ],
        "sanctions": [],
        "restrictions": [
            {
                "measure": measure,
                "rule": "R1",
                "legalBasis": r1[Measure(measure)],
                "source": source,
                "path": path,
                "disputed": True,
            }
            for measure in ("HONOR_BAN", "OFFICER_APPOINTMENT_BAN")
        ],
        "notices": [],
        # incentives and supervision classes are for companies only
        "incentives": [],
        "withheldIncentives": [],
        "supervisionClass": None,
    }


def test_report_json_lists_own_sanctions_with_their_state(
    store: GraphStore, rules: RuleSet
) -> None:
    write(
        store,
        [
            Company("C", "C"),
            sanction("s1", "C", SanctionList.ABNORMAL_OPERATION),
            sanction(
                "s2",
                "C",
                SanctionList.ADMIN_PENALTY,
                severity=Severity.MINOR,
                status=SanctionStatus.REPAIRED,
                status_date=date(2024, 2, 1),
            ),
        ],
    )
    document = views.report_doc(credit_report(store, "C", AS_OF, rules), rules)
    states = [(s["id"], s["inForce"], s["endedOn"], s["status"]) for s in document["sanctions"]]
    assert states == [("s1", True, None, "active"), ("s2", False, "2024-02-01", "repaired")]
    assert [d["points"] for d in document["deductions"]] == [100, 4]
    assert document["score"] == 896
    assert all(r["path"]["links"] == [] for r in document["restrictions"])
