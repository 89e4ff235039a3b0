"""Joint punishment on every store: each default rule R1-R7 on a hand-built graph, with the
expected restrictions and paths written out; date edges; several sources; disputes; supernodes.

Only the GraphStore port is used, so the suite runs unchanged on every backend.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from datetime import date

import pytest

from graph.errors import NotFound
from graph.extraction import Extraction
from graph.model import (
    Address,
    Batch,
    Case,
    CaseKind,
    CaseStatus,
    Company,
    Direction,
    EntityKind,
    Link,
    LinkType,
    Measure,
    Node,
    NodeLabel,
    Officer,
    OfficerRole,
    Ownership,
    Person,
    Registration,
    Sanction,
    SanctionList,
    SanctionStatus,
    Severity,
)
from graph.rules.engine import Path, PathLink, Restriction, materialise, restrictions_for
from graph.rules.schema import RuleSet, load_rules, parse_rules
from graph.store import (
    GraphReader,
    GraphStore,
    SearchPage,
    Stats,
    Step,
    Subgraph,
    SupplyGraph,
    WriteBatch,
)

AS_OF = date(2024, 6, 1)
LONG_AGO = date(2024, 1, 1)
"""Within every maximum publicity period at AS_OF but the minor one (3 months)."""

LR = OfficerRole.LEGAL_REPRESENTATIVE
CHAIR = OfficerRole.CHAIRMAN
GM = OfficerRole.GENERAL_MANAGER
DIRECTOR = OfficerRole.DIRECTOR
SUPERVISOR = OfficerRole.SUPERVISOR
MANAGER = OfficerRole.MANAGER
AC = OfficerRole.ACTUAL_CONTROLLER

R1_SUBJECT = [
    "BIDDING_BAN",
    "ENHANCED_SUPERVISION",
    "FINANCING_RESTRICTION",
    "HONOR_BAN",
    "PROCUREMENT_BAN",
    "SUBSIDY_BAN",
]

Row = tuple[str, str, str, str, str]
"""(entity, measure, rule, source sanction, path as text)."""


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules(None)


def write(store: GraphStore, nodes: Sequence[Node], links: Sequence[Link] = ()) -> None:
    store.write(WriteBatch(nodes=list(nodes), links=list(links)))


def companies(*ids: str) -> list[Node]:
    return [Company(i, f"Company {i}") for i in ids]


def persons(*ids: str) -> list[Node]:
    return [Person(i, f"Person {i}") for i in ids]


def sanction(
    sid: str,
    subject: str,
    listed: SanctionList,
    start: date | None = LONG_AGO,
    **fields: object,
) -> Sanction:
    return Sanction(sid, subject, listed, start=start, **fields)  # type: ignore[arg-type]


def rows(items: Iterable[Restriction]) -> list[Row]:
    return [(r.entity_id, r.measure, r.rule, r.source.id, r.path.describe()) for r in items]


def on_read(store: GraphReader, entity_id: str, rules: RuleSet, as_of: date = AS_OF) -> list[Row]:
    return rows(restrictions_for(store, entity_id, as_of, rules))


def forward(store: GraphReader, rules: RuleSet, as_of: date = AS_OF) -> list[Row]:
    return rows(materialise(store, as_of, rules))


def own(entity: str, rule: str, source: str, measures: Iterable[str]) -> list[Row]:
    return [(entity, m, rule, source, entity) for m in sorted(measures)]


def agree(store: GraphStore, rules: RuleSet, ids: Iterable[str], as_of: date = AS_OF) -> None:
    """The forward list equals the on-read answers of every entity, in the same order."""
    union = sorted(
        (r for i in ids for r in restrictions_for(store, i, as_of, rules)),
        key=Restriction.sort_key,
    )
    assert list(materialise(store, as_of, rules)) == union


# -- R1 ----------------------------------------------------------------------------------------


def build_r1(store: GraphStore, listed: SanctionList) -> None:
    write(
        store,
        companies("C", "A", "B", "D", "E", "F", "G", "H")
        + persons("P1", "P2", "P3", "P4", "P5")
        + [sanction("s1", "C", listed)],
        [
            Officer("P1", "C", LR),
            Officer("P2", "C", CHAIR),
            Officer("P3", "C", GM),
            Officer("P4", "C", DIRECTOR),  # not a principal responsible person
            Officer("P5", "C", SUPERVISOR),
            Ownership("C", "A", 60.0),
            Ownership("A", "B", 60.0),
            Ownership("B", "D", 100.0),  # 3 hops: reached
            Ownership("D", "E", 100.0),  # 4 hops: too far
            Ownership("C", "F", 50.0),  # exactly 50%: not control
            Ownership("C", "G", 30.0),  # 30% direct + 30% through A: control, 1 hop
            Ownership("A", "G", 30.0),
            Ownership("H", "C", 100.0),  # C's owner: R1 does not reach upwards
        ],
    )


@pytest.mark.parametrize(
    "listed", [SanctionList.SERIOUS_DISHONEST, SanctionList.MAJOR_TAX_VIOLATION]
)
def test_r1_reaches_principal_persons_and_controlled_companies_within_3_hops(
    store: GraphStore, rules: RuleSet, listed: SanctionList
) -> None:
    build_r1(store, listed)
    assert on_read(store, "C", rules) == own("C", "R1", "s1", R1_SUBJECT)
    for person, role in (
        ("P1", "legal_representative"),
        ("P2", "chairman"),
        ("P3", "general_manager"),
    ):
        path = f"C <-[OFFICER_OF {role}]- {person}"
        assert on_read(store, person, rules) == [
            (person, "HONOR_BAN", "R1", "s1", path),
            (person, "OFFICER_APPOINTMENT_BAN", "R1", "s1", path),
        ]
    assert on_read(store, "A", rules) == [
        ("A", "ENHANCED_SUPERVISION", "R1", "s1", "C -[OWNS 60%]-> A")
    ]
    assert on_read(store, "B", rules) == [
        ("B", "ENHANCED_SUPERVISION", "R1", "s1", "C -[OWNS 60%]-> A -[OWNS 60%]-> B")
    ]
    assert on_read(store, "D", rules) == [
        (
            "D",
            "ENHANCED_SUPERVISION",
            "R1",
            "s1",
            "C -[OWNS 60%]-> A -[OWNS 60%]-> B -[OWNS 100%]-> D",
        )
    ]
    assert on_read(store, "G", rules) == [
        ("G", "ENHANCED_SUPERVISION", "R1", "s1", "C -[OWNS 30%]-> G")
    ]
    for untouched in ("E", "F", "H", "P4", "P5"):
        assert on_read(store, untouched, rules) == [], untouched
    agree(store, rules, ["C", "A", "B", "D", "E", "F", "G", "H", "P1", "P2", "P3", "P4", "P5"])


def test_r1_path_carries_link_type_direction_role_and_share(
    store: GraphStore, rules: RuleSet
) -> None:
    build_r1(store, SanctionList.SERIOUS_DISHONEST)
    (officer_ban, _) = [
        r for r in restrictions_for(store, "P1", AS_OF, rules) if r.measure.startswith("O")
    ] + [None]
    assert officer_ban is not None
    assert officer_ban.path == Path(
        nodes=("C", "P1"),
        links=(PathLink(LinkType.OFFICER_OF, "P1", "C", role=LR, share=None),),
    )
    (watch,) = restrictions_for(store, "B", AS_OF, rules)
    assert watch.path == Path(
        nodes=("C", "A", "B"),
        links=(
            PathLink(LinkType.OWNS, "C", "A", role=None, share=60.0),
            PathLink(LinkType.OWNS, "A", "B", role=None, share=60.0),
        ),
    )
    assert watch.path.subject_id == "C"
    assert watch.path.entity_id == "B"
    assert watch.source.id == "s1"
    assert watch.legal_basis == rules.rule("R1").reaches[1].measures[Measure.ENHANCED_SUPERVISION]
    assert (own_path := restrictions_for(store, "C", AS_OF, rules)[0].path) == Path(("C",))
    assert own_path.hops == 0


def test_r1_hops_are_counted_on_the_shortest_ownership_path(
    store: GraphStore, rules: RuleSet
) -> None:
    # X is controlled through a 4-hop chain of majorities, but a direct 10% holding makes the
    # shortest ownership path 1 hop: it is within reach, and that is the path shown.
    write(
        store,
        [
            *companies("S", "K1", "K2", "K3", "X"),
            sanction("s1", "S", SanctionList.SERIOUS_DISHONEST),
        ],
        [
            Ownership("S", "K1", 100.0),
            Ownership("K1", "K2", 100.0),
            Ownership("K2", "K3", 100.0),
            Ownership("K3", "X", 45.0),
            Ownership("S", "X", 10.0),
        ],
    )
    assert on_read(store, "X", rules) == [
        ("X", "ENHANCED_SUPERVISION", "R1", "s1", "S -[OWNS 10%]-> X")
    ]
    agree(store, rules, ["S", "K1", "K2", "K3", "X"])


def test_r1_ties_between_shortest_paths_go_to_the_smallest_ids(
    store: GraphStore, rules: RuleSet
) -> None:
    write(
        store,
        [*companies("S", "M2", "M1", "T"), sanction("s1", "S", SanctionList.SERIOUS_DISHONEST)],
        [
            Ownership("S", "M1", 60.0),
            Ownership("S", "M2", 60.0),
            Ownership("M1", "T", 30.0),
            Ownership("M2", "T", 30.0),
        ],
    )
    assert on_read(store, "T", rules) == [
        ("T", "ENHANCED_SUPERVISION", "R1", "s1", "S -[OWNS 60%]-> M1 -[OWNS 30%]-> T")
    ]
    agree(store, rules, ["S", "M1", "M2", "T"])


# -- R2 ----------------------------------------------------------------------------------------


def test_r2_reaches_principal_persons_actual_controllers_and_controlling_persons(
    store: GraphStore, rules: RuleSet
) -> None:
    write(
        store,
        companies("D", "H", "J")
        + persons("P1", "P2", "P3", "P4", "P5", "P6", "P7")
        + [sanction("s1", "D", SanctionList.DISHONEST_JUDGMENT_DEBTOR)],
        [
            Officer("P1", "D", LR),
            Officer("P2", "D", AC),
            Officer("P3", "D", DIRECTOR),  # not reached
            Ownership("P4", "H", 60.0),
            Ownership("H", "D", 70.0),  # P4 controls D through H
            Ownership("P5", "D", 30.0),  # a minority holder: not reached
            Officer("P6", "H", AC),  # the actual controller of D's controlling parent
            Ownership("P7", "J", 100.0),
            Ownership("J", "D", 50.0),  # exactly 50%: not control
        ],
    )
    subject = own(
        "D",
        "R2",
        "s1",
        ["BIDDING_BAN", "FINANCING_RESTRICTION", "HIGH_CONSUMPTION_BAN", "PROCUREMENT_BAN"],
    )
    assert on_read(store, "D", rules) == subject
    assert on_read(store, "P1", rules) == [
        ("P1", "HIGH_CONSUMPTION_BAN", "R2", "s1", "D <-[OFFICER_OF legal_representative]- P1")
    ]
    assert on_read(store, "P2", rules) == [
        ("P2", "HIGH_CONSUMPTION_BAN", "R2", "s1", "D <-[OFFICER_OF actual_controller]- P2")
    ]
    assert on_read(store, "P4", rules) == [
        ("P4", "HIGH_CONSUMPTION_BAN", "R2", "s1", "D <-[OWNS 70%]- H <-[OWNS 60%]- P4")
    ]
    assert on_read(store, "P6", rules) == [
        (
            "P6",
            "HIGH_CONSUMPTION_BAN",
            "R2",
            "s1",
            "D <-[OWNS 70%]- H <-[OFFICER_OF actual_controller]- P6",
        )
    ]
    # H controls D but is a company: R2 reaches persons only ("they are not themselves listed").
    for untouched in ("H", "J", "P3", "P5", "P7"):
        assert on_read(store, untouched, rules) == [], untouched
    agree(store, rules, ["D", "H", "J", "P1", "P2", "P3", "P4", "P5", "P6", "P7"])


def test_r2_a_person_with_two_roles_gets_one_restriction(store: GraphStore, rules: RuleSet) -> None:
    write(
        store,
        companies("D")
        + persons("P")
        + [sanction("s1", "D", SanctionList.DISHONEST_JUDGMENT_DEBTOR)],
        [Officer("P", "D", LR), Officer("P", "D", CHAIR), Officer("P", "D", AC)],
    )
    # One source, one measure, one rule: one restriction, through the smallest link key.
    assert on_read(store, "P", rules) == [
        ("P", "HIGH_CONSUMPTION_BAN", "R2", "s1", "D <-[OFFICER_OF actual_controller]- P")
    ]
    agree(store, rules, ["D", "P"])


def test_r2_control_has_no_hop_limit(store: GraphStore, rules: RuleSet) -> None:
    chain = [f"K{i}" for i in range(8)]
    links: list[Link] = [Ownership("P", chain[0], 51.0)]
    links += [Ownership(a, b, 51.0) for a, b in itertools.pairwise(chain)]
    links.append(Ownership(chain[-1], "D", 51.0))
    write(
        store,
        companies("D", *chain)
        + persons("P")
        + [sanction("s1", "D", SanctionList.DISHONEST_JUDGMENT_DEBTOR)],
        links,
    )
    (restriction,) = restrictions_for(store, "P", AS_OF, rules)
    assert restriction.path.nodes == ("D", *reversed(chain), "P")
    assert restriction.path.hops == 9
    agree(store, rules, ["D", "P", *chain])


# -- R3 ----------------------------------------------------------------------------------------


def test_r3_reaches_companies_the_debtor_legally_represents(
    store: GraphStore, rules: RuleSet
) -> None:
    write(
        store,
        companies("C1", "C2", "C3")
        + persons("P")
        + [sanction("s1", "P", SanctionList.DISHONEST_JUDGMENT_DEBTOR)],
        [
            Officer("P", "C1", LR),
            Officer("P", "C2", DIRECTOR),
            Ownership("P", "C3", 100.0),  # owning is not representing
        ],
    )
    assert on_read(store, "P", rules) == own(
        "P", "R3", "s1", ["HIGH_CONSUMPTION_BAN", "OFFICER_APPOINTMENT_BAN", "PROCUREMENT_BAN"]
    )
    assert on_read(store, "C1", rules) == [
        ("C1", "ENHANCED_SUPERVISION", "R3", "s1", "P -[OFFICER_OF legal_representative]-> C1")
    ]
    assert on_read(store, "C2", rules) == []
    assert on_read(store, "C3", rules) == []
    agree(store, rules, ["P", "C1", "C2", "C3"])


# -- R4 and R5 ---------------------------------------------------------------------------------


def test_r4_market_ban_reaches_principal_persons_and_directors(
    store: GraphStore, rules: RuleSet
) -> None:
    write(
        store,
        companies("M", "S")
        + persons("P1", "P2", "P3", "P4", "P5")
        + [sanction("s1", "M", SanctionList.MARKET_BAN)],
        [
            Officer("P1", "M", LR),
            Officer("P2", "M", CHAIR),
            Officer("P3", "M", GM),
            Officer("P4", "M", DIRECTOR),
            Officer("P5", "M", MANAGER),  # a manager is not reached
            Ownership("M", "S", 100.0),  # R4 does not take R1's reaches
        ],
    )
    assert on_read(store, "M", rules) == own("M", "R4", "s1", [*R1_SUBJECT, "MARKET_ENTRY_BAN"])
    for person, role in (
        ("P1", "legal_representative"),
        ("P2", "chairman"),
        ("P3", "general_manager"),
        ("P4", "director"),
    ):
        path = f"M <-[OFFICER_OF {role}]- {person}"
        assert on_read(store, person, rules) == [
            (person, "MARKET_ENTRY_BAN", "R4", "s1", path),
            (person, "OFFICER_APPOINTMENT_BAN", "R4", "s1", path),
        ]
    assert on_read(store, "P5", rules) == []
    assert on_read(store, "S", rules) == []
    agree(store, rules, ["M", "S", "P1", "P2", "P3", "P4", "P5"])


def test_r5_market_ban_on_a_person_reaches_no_one(store: GraphStore, rules: RuleSet) -> None:
    write(
        store,
        companies("C") + persons("P") + [sanction("s1", "P", SanctionList.MARKET_BAN)],
        [Officer("P", "C", LR), Ownership("P", "C", 100.0)],
    )
    assert on_read(store, "P", rules) == own(
        "P", "R5", "s1", ["MARKET_ENTRY_BAN", "OFFICER_APPOINTMENT_BAN"]
    )
    assert on_read(store, "C", rules) == []
    agree(store, rules, ["P", "C"])


# -- R6 and R7 ---------------------------------------------------------------------------------


def test_r6_abnormal_operation_on_companies_and_persons(store: GraphStore, rules: RuleSet) -> None:
    write(
        store,
        companies("C", "S")
        + persons("P", "Q")
        + [
            sanction("s1", "C", SanctionList.ABNORMAL_OPERATION),
            sanction("s2", "P", SanctionList.ABNORMAL_OPERATION),
        ],
        [Officer("Q", "C", LR), Ownership("C", "S", 100.0)],
    )
    assert on_read(store, "C", rules) == own("C", "R6", "s1", ["ENHANCED_SUPERVISION", "HONOR_BAN"])
    assert on_read(store, "P", rules) == own("P", "R6", "s2", ["ENHANCED_SUPERVISION", "HONOR_BAN"])
    assert on_read(store, "Q", rules) == []
    assert on_read(store, "S", rules) == []
    agree(store, rules, ["C", "S", "P", "Q"])


def test_r7_only_serious_administrative_penalties(store: GraphStore, rules: RuleSet) -> None:
    write(
        store,
        companies("C1", "C2", "C3")
        + persons("P")
        + [
            sanction("s1", "C1", SanctionList.ADMIN_PENALTY, severity=Severity.SERIOUS),
            sanction("s2", "C2", SanctionList.ADMIN_PENALTY, severity=Severity.GENERAL),
            sanction("s3", "C3", SanctionList.ADMIN_PENALTY),  # no severity: general
            sanction("s4", "P", SanctionList.ADMIN_PENALTY, severity=Severity.SERIOUS),
        ],
        [Officer("P", "C1", LR)],
    )
    assert on_read(store, "C1", rules) == own(
        "C1", "R7", "s1", ["ENHANCED_SUPERVISION", "HONOR_BAN"]
    )
    assert on_read(store, "C2", rules) == []
    assert on_read(store, "C3", rules) == []
    assert on_read(store, "P", rules) == own("P", "R7", "s4", ["ENHANCED_SUPERVISION", "HONOR_BAN"])
    agree(store, rules, ["C1", "C2", "C3", "P"])


# -- R8, R9 and R10 (2022 Opinions) -------------------------------------------------------------


def test_r8_wage_arrears_reaches_principal_persons(store: GraphStore, rules: RuleSet) -> None:
    write(
        store,
        companies("W", "S", "H", "OLD")
        + persons("P1", "P2", "P3", "P4", "P5", "Q")
        + [
            sanction("s1", "W", SanctionList.WAGE_ARREARS),
            sanction("s2", "Q", SanctionList.WAGE_ARREARS),  # R8 is about companies only
            # Serious by default: at most 3 years, so a 2021 listing has ended by AS_OF.
            sanction("s3", "OLD", SanctionList.WAGE_ARREARS, start=date(2021, 5, 1)),
        ],
        [
            Officer("P1", "W", LR),
            Officer("P2", "W", CHAIR),
            Officer("P3", "W", GM),
            Officer("P4", "W", DIRECTOR),  # not a principal responsible person
            Officer("P5", "W", SUPERVISOR),
            Officer("P1", "OLD", LR),
            Ownership("W", "S", 100.0),  # R8 does not reach down ownership
            Ownership("H", "W", 100.0),  # nor up
        ],
    )
    assert on_read(store, "W", rules) == own("W", "R8", "s1", R1_SUBJECT)
    for person, role in (
        ("P1", "legal_representative"),
        ("P2", "chairman"),
        ("P3", "general_manager"),
    ):
        path = f"W <-[OFFICER_OF {role}]- {person}"
        assert on_read(store, person, rules) == [
            (person, "HIGH_CONSUMPTION_BAN", "R8", "s1", path),
            (person, "HONOR_BAN", "R8", "s1", path),
        ]
    for untouched in ("P4", "P5", "S", "H", "Q", "OLD"):
        assert on_read(store, untouched, rules) == [], untouched
    assert on_read(store, "OLD", rules, date(2024, 4, 30)) == own("OLD", "R8", "s3", R1_SUBJECT)
    agree(store, rules, ["W", "S", "H", "OLD", "P1", "P2", "P3", "P4", "P5", "Q"])


def test_r9_social_insurance_fraud_on_companies_and_persons(
    store: GraphStore, rules: RuleSet
) -> None:
    write(
        store,
        companies("C", "S")
        + persons("P", "Q")
        + [
            sanction("s1", "C", SanctionList.SOCIAL_INSURANCE_FRAUD),
            sanction("s2", "Q", SanctionList.SOCIAL_INSURANCE_FRAUD),
        ],
        [Officer("P", "C", LR), Ownership("C", "S", 100.0)],
    )
    measures = ["ENHANCED_SUPERVISION", "HONOR_BAN", "SUBSIDY_BAN"]
    assert on_read(store, "C", rules) == own("C", "R9", "s1", measures)
    assert on_read(store, "Q", rules) == own("Q", "R9", "s2", measures)
    assert on_read(store, "P", rules) == []  # no reaches
    assert on_read(store, "S", rules) == []
    agree(store, rules, ["C", "S", "P", "Q"])


def test_r10_commitment_breach_of_any_severity(store: GraphStore, rules: RuleSet) -> None:
    recent = date(2024, 5, 1)  # within even the minor maximum (3 months) at AS_OF
    write(
        store,
        companies("C", "D", "E", "OLD")
        + persons("P", "Q")
        + [
            sanction("CB-1", "C", SanctionList.COMMITMENT_BREACH),  # default general
            sanction("CB-2", "D", SanctionList.COMMITMENT_BREACH, severity=Severity.SERIOUS),
            sanction("CB-3", "P", SanctionList.COMMITMENT_BREACH, recent, severity=Severity.MINOR),
            # General: at most 1 year, so a breach verified in May 2023 ended in May 2024.
            sanction("CB-4", "OLD", SanctionList.COMMITMENT_BREACH, date(2023, 5, 1)),
        ],
        [Officer("Q", "C", LR)],
    )
    measures = ["ENHANCED_SUPERVISION", "NOTIFICATION_COMMITMENT_BAN"]
    assert on_read(store, "C", rules) == own("C", "R10", "CB-1", measures)
    assert on_read(store, "D", rules) == own("D", "R10", "CB-2", measures)
    assert on_read(store, "P", rules) == own("P", "R10", "CB-3", measures)
    assert on_read(store, "Q", rules) == []
    assert on_read(store, "OLD", rules) == []
    assert on_read(store, "OLD", rules, date(2024, 4, 30)) == own("OLD", "R10", "CB-4", measures)
    agree(store, rules, ["C", "D", "E", "OLD", "P", "Q"])


def test_external_sanctions_produce_no_measure(store: GraphStore, rules: RuleSet) -> None:
    write(
        store,
        companies("C") + persons("P") + [sanction("x1", "C", SanctionList.EXTERNAL_SANCTION)],
        [Officer("P", "C", LR)],
    )
    assert on_read(store, "C", rules) == []
    assert on_read(store, "P", rules) == []
    assert forward(store, rules) == []


# -- dates -------------------------------------------------------------------------------------


def test_links_count_from_start_to_the_day_before_end(store: GraphStore, rules: RuleSet) -> None:
    write(
        store,
        companies("C", "A", "B", "X", "Y")
        + persons("P_ended", "P_last_day", "P_future", "P_today")
        + [sanction("s1", "C", SanctionList.SERIOUS_DISHONEST)],
        [
            Officer("P_ended", "C", LR, end=AS_OF),  # its last day was the day before as_of
            Officer("P_last_day", "C", LR, end=date(2024, 6, 2)),
            Officer("P_future", "C", LR, start=date(2024, 6, 2)),
            Officer("P_today", "C", LR, start=AS_OF),
            Ownership("C", "A", 60.0, end=AS_OF),
            Ownership("C", "B", 60.0, start=AS_OF),
            Ownership("C", "X", 60.0),
            Ownership("X", "Y", 60.0, start=date(2024, 6, 2)),
        ],
    )
    assert on_read(store, "P_ended", rules) == []
    assert [r[0] for r in on_read(store, "P_last_day", rules)] == ["P_last_day"] * 2
    assert on_read(store, "P_future", rules) == []
    assert [r[0] for r in on_read(store, "P_today", rules)] == ["P_today"] * 2
    assert on_read(store, "A", rules) == []
    assert on_read(store, "B", rules) == [
        ("B", "ENHANCED_SUPERVISION", "R1", "s1", "C -[OWNS 60%]-> B")
    ]
    assert on_read(store, "Y", rules) == []
    # The day before, the ended link was still there and the new ones were not.
    assert on_read(store, "A", rules, date(2024, 5, 31)) == [
        ("A", "ENHANCED_SUPERVISION", "R1", "s1", "C -[OWNS 60%]-> A")
    ]
    assert on_read(store, "B", rules, date(2024, 5, 31)) == []
    ids = ["C", "A", "B", "X", "Y", "P_ended", "P_last_day", "P_future", "P_today"]
    agree(store, rules, ids)
    agree(store, rules, ids, date(2024, 5, 31))


def test_sanctions_count_from_their_start_until_status_change(
    store: GraphStore, rules: RuleSet
) -> None:
    tomorrow = date(2024, 6, 2)
    write(
        store,
        companies("Future", "Today", "Repaired", "RepairLater", "Revoked", "Expired")
        + persons("P")
        + [
            sanction("s_future", "Future", SanctionList.SERIOUS_DISHONEST, start=tomorrow),
            sanction("s_today", "Today", SanctionList.SERIOUS_DISHONEST, start=AS_OF),
            sanction(
                "s_repaired",
                "Repaired",
                SanctionList.SERIOUS_DISHONEST,
                status=SanctionStatus.REPAIRED,
                status_date=AS_OF,
            ),
            sanction(
                "s_repair_later",
                "RepairLater",
                SanctionList.SERIOUS_DISHONEST,
                status=SanctionStatus.REPAIRED,
                status_date=tomorrow,
            ),
            sanction(
                "s_revoked",
                "Revoked",
                SanctionList.SERIOUS_DISHONEST,
                status=SanctionStatus.REVOKED,
                status_date=date(2024, 3, 1),
            ),
            # Serious: at most 3 years of publicity, so it stopped on 2024-06-01.
            sanction(
                "s_expired", "Expired", SanctionList.SERIOUS_DISHONEST, start=date(2021, 6, 1)
            ),
        ],
        [
            Officer("P", "Future", LR),
            Officer("P", "Today", LR),
            Officer("P", "Repaired", LR),
            Officer("P", "RepairLater", LR),
            Officer("P", "Revoked", LR),
            Officer("P", "Expired", LR),
        ],
    )
    assert on_read(store, "Future", rules) == []
    assert on_read(store, "Today", rules) == own("Today", "R1", "s_today", R1_SUBJECT)
    assert on_read(store, "Repaired", rules) == []
    assert on_read(store, "RepairLater", rules) == own(
        "RepairLater", "R1", "s_repair_later", R1_SUBJECT
    )
    assert on_read(store, "Revoked", rules) == []
    assert on_read(store, "Expired", rules) == []
    assert on_read(store, "Expired", rules, date(2024, 5, 31)) == own(
        "Expired", "R1", "s_expired", R1_SUBJECT
    )
    assert on_read(store, "Revoked", rules, date(2024, 2, 29)) == own(
        "Revoked", "R1", "s_revoked", R1_SUBJECT
    )
    # The reached person follows the same clock.
    assert {r[3] for r in on_read(store, "P", rules)} == {"s_today", "s_repair_later"}
    ids = ["Future", "Today", "Repaired", "RepairLater", "Revoked", "Expired", "P"]
    agree(store, rules, ids)
    agree(store, rules, ids, date(2024, 2, 29))


# -- several sources, disputes -----------------------------------------------------------------


def test_the_same_measure_from_several_sources_is_kept_apart(
    store: GraphStore, rules: RuleSet
) -> None:
    write(
        store,
        companies("C1", "C2")
        + persons("P")
        + [
            sanction("s1", "C1", SanctionList.SERIOUS_DISHONEST),
            sanction("s2", "C2", SanctionList.SERIOUS_DISHONEST),
            sanction("s3", "C1", SanctionList.MAJOR_TAX_VIOLATION),
            sanction("s4", "C1", SanctionList.MARKET_BAN),
        ],
        [Officer("P", "C1", LR), Officer("P", "C2", CHAIR)],
    )
    via_c1 = "C1 <-[OFFICER_OF legal_representative]- P"
    via_c2 = "C2 <-[OFFICER_OF chairman]- P"
    assert on_read(store, "P", rules) == [
        ("P", "HONOR_BAN", "R1", "s1", via_c1),
        ("P", "HONOR_BAN", "R1", "s2", via_c2),
        ("P", "HONOR_BAN", "R1", "s3", via_c1),
        ("P", "MARKET_ENTRY_BAN", "R4", "s4", via_c1),
        ("P", "OFFICER_APPOINTMENT_BAN", "R1", "s1", via_c1),
        ("P", "OFFICER_APPOINTMENT_BAN", "R1", "s2", via_c2),
        ("P", "OFFICER_APPOINTMENT_BAN", "R1", "s3", via_c1),
        ("P", "OFFICER_APPOINTMENT_BAN", "R4", "s4", via_c1),
    ]
    agree(store, rules, ["C1", "C2", "P"])


def test_a_disputed_sanction_still_restricts_and_says_so(store: GraphStore, rules: RuleSet) -> None:
    write(
        store,
        companies("C", "S")
        + persons("P")
        + [
            sanction("s1", "C", SanctionList.SERIOUS_DISHONEST, disputed=True),
            sanction("s2", "C", SanctionList.ABNORMAL_OPERATION),
        ],
        [Officer("P", "C", LR), Ownership("C", "S", 100.0)],
    )
    found = {
        (r.entity_id, r.source.id): r.disputed
        for i in ("C", "S", "P")
        for r in restrictions_for(store, i, AS_OF, rules)
    }
    assert found == {("C", "s1"): True, ("C", "s2"): False, ("P", "s1"): True, ("S", "s1"): True}
    assert all(r.disputed == (r.source.id == "s1") for r in materialise(store, AS_OF, rules))


# -- supernodes and extraction cost ------------------------------------------------------------


class CountingReader:
    """A GraphReader that forwards to a store and records what each extraction returned."""

    def __init__(self, store: GraphStore) -> None:
        self.store = store
        self.extracted: list[int] = []
        self.reads = 0
        self.gets = 0

    def get(self, node_id: str) -> Node | None:
        self.gets += 1
        return self.store.get(node_id)

    def get_many(self, node_ids: Iterable[str]) -> dict[str, Node]:
        self.gets += 1
        return self.store.get_many(node_ids)

    def labels_of(self, node_ids: Iterable[str]) -> dict[str, NodeLabel]:
        return self.store.labels_of(node_ids)

    def node_ids(self, label: NodeLabel, *, after: str = "", limit: int = 10_000) -> list[str]:
        return self.store.node_ids(label, after=after, limit=limit)

    def scan(
        self, labels: Iterable[NodeLabel | LinkType] | None = None, *, batch_size: int = 10_000
    ) -> Iterator[list[Node | Link]]:
        return self.store.scan(labels, batch_size=batch_size)

    def search(
        self, text: str, kind: EntityKind | None = None, limit: int = 20, offset: int = 0
    ) -> SearchPage:
        return self.store.search(text, kind, limit, offset)

    def neighbourhood(
        self, seeds: Iterable[str], *, steps: Sequence[Step], hops: int, as_of: date | None
    ) -> Subgraph:
        found = self.store.neighbourhood(seeds, steps=steps, hops=hops, as_of=as_of)
        self.extracted.append(len(found.nodes) + len(found.links))
        self.reads += 1
        return found

    def extract(self, requests: Sequence[Extraction]) -> list[Subgraph]:
        found = self.store.extract(requests)
        self.extracted.extend(len(one.nodes) + len(one.links) for one in found)
        self.reads += 1
        return found

    def sanctions(
        self, subject_ids: Iterable[str] | None = None, *, live_at: date | None = None
    ) -> Iterator[Sanction]:
        return self.store.sanctions(subject_ids, live_at=live_at)

    def cases(
        self,
        *,
        subject_ids: Iterable[str] | None = None,
        kind: CaseKind | None = None,
        status: CaseStatus | None = None,
    ) -> list[Case]:
        return self.store.cases(subject_ids=subject_ids, kind=kind, status=status)

    def stats(self) -> Stats:
        return self.store.stats()

    def supply(
        self, seeds: Iterable[str], *, direction: Direction, as_of: date | None
    ) -> SupplyGraph:
        self.reads += 1
        return self.store.supply(seeds, direction=direction, as_of=as_of)

    def batches_of(
        self, company_ids: Iterable[str], *, as_of: date | None = None
    ) -> dict[str, list[Batch]]:
        return self.store.batches_of(company_ids, as_of=as_of)


def test_a_supernode_person_does_not_drag_into_a_company_lookup(
    store: GraphStore, rules: RuleSet
) -> None:
    count = 3000
    ids = [f"C{i:04d}" for i in range(count)]
    nodes: list[Node] = [Company(i, f"Company {i}") for i in ids]
    nodes += persons("X", "Y")
    nodes += [
        sanction("s_x", "X", SanctionList.DISHONEST_JUDGMENT_DEBTOR),
        sanction("s_c7", "C0007", SanctionList.SERIOUS_DISHONEST),
    ]
    links: list[Link] = [Officer("X", i, LR) for i in ids]
    links.append(Officer("Y", "C1234", DIRECTOR))
    write(store, nodes, links)

    reader = CountingReader(store)
    assert on_read(reader, "C1234", rules) == [
        (
            "C1234",
            "ENHANCED_SUPERVISION",
            "R3",
            "s_x",
            "X -[OFFICER_OF legal_representative]-> C1234",
        )
    ]
    # A few extractions in one read, none of which expanded X's 3000 positions, and no
    # per-node reads.
    assert reader.reads == 1
    assert len(reader.extracted) <= 4
    assert max(reader.extracted) < 10
    assert reader.gets == 0

    # The supernode's own lookup sees all of it, as it should.
    found = restrictions_for(store, "X", AS_OF, rules)
    assert rows(found) == [
        ("X", "HIGH_CONSUMPTION_BAN", "R3", "s_x", "X"),
        ("X", "HONOR_BAN", "R1", "s_c7", "C0007 <-[OFFICER_OF legal_representative]- X"),
        (
            "X",
            "OFFICER_APPOINTMENT_BAN",
            "R1",
            "s_c7",
            "C0007 <-[OFFICER_OF legal_representative]- X",
        ),
        ("X", "OFFICER_APPOINTMENT_BAN", "R3", "s_x", "X"),
        ("X", "PROCUREMENT_BAN", "R3", "s_x", "X"),
    ]
    assert on_read(store, "Y", rules) == []
    watched = [r for r in materialise(store, AS_OF, rules, Measure.ENHANCED_SUPERVISION)]
    assert len([r for r in watched if r.rule == "R3"]) == count


def test_forward_materialisation_batches_its_extractions(store: GraphStore, rules: RuleSet) -> None:
    ids = [f"C{i}" for i in range(50)]
    nodes: list[Node] = [Company(i, i) for i in ids] + persons("P")
    nodes += [sanction(f"s{i}", i, SanctionList.SERIOUS_DISHONEST) for i in ids]
    write(store, nodes, [Officer("P", i, LR) for i in ids])
    reader = CountingReader(store)
    found = list(materialise(reader, AS_OF, rules))
    assert len(found) == 50 * 6 + 50 * 2
    assert len(reader.extracted) <= 4  # one per (link type, direction) the rules walk
    assert reader.gets == 0  # the subjects' kinds come from labels_of, not their nodes


# -- errors, custom rules, measure filter ------------------------------------------------------


def test_unknown_ids_and_non_entities_are_not_found(store: GraphStore, rules: RuleSet) -> None:
    write(
        store,
        [*companies("C"), Address("addr", "1 Road"), sanction("s1", "C", SanctionList.MARKET_BAN)],
        [Registration("C", "addr")],
    )
    for missing in ("nobody", "addr", "s1"):
        with pytest.raises(NotFound):
            restrictions_for(store, missing, AS_OF, rules)


CUSTOM_RULES = """
version: 2
name: test-agency
lists:
  SERIOUS_DISHONEST: {meaning: a, default_severity: serious, weight: 1, ended_factor: 0.2}
  DISHONEST_JUDGMENT_DEBTOR: {meaning: b, default_severity: serious, weight: 1, ended_factor: 0.2}
  MAJOR_TAX_VIOLATION: {meaning: c, default_severity: serious, weight: 1, ended_factor: 0.2}
  MARKET_BAN: {meaning: d, default_severity: serious, weight: 1, ended_factor: 0.2}
  ABNORMAL_OPERATION: {meaning: e, default_severity: general, weight: 1, ended_factor: 0.2}
  ADMIN_PENALTY: {meaning: f, default_severity: null, weight: 1, ended_factor: 0.2}
measures:
  ENHANCED_SUPERVISION: {meaning: watched, kind: restriction}
  HONOR_BAN: {meaning: no awards, kind: restriction}
  MARKET_ENTRY_BAN: {meaning: no market entry, kind: restriction}
rules:
  - id: X1
    name: watch-group
    trigger: {lists: [ABNORMAL_OPERATION], severities: [general]}
    subject: {kind: COMPANY}
    reaches:
      - name: subsidiaries within two hops, controlled or not
        edge: OWNS
        direction: OUT
        max_hops: 2
        measures: {ENHANCED_SUPERVISION: 《某监管办法》}
      - name: any shareholder, one hop up
        edge: OWNS
        direction: IN
        max_hops: 1
        measures: {HONOR_BAN: 《某表彰办法》}
      - name: every officer
        edge: OFFICER_OF
        direction: IN
        max_hops: 1
        measures: {HONOR_BAN: 《某表彰办法》}
  - id: X2
    name: person-controls
    trigger: {lists: [MARKET_BAN]}
    subject: {kind: PERSON}
    reaches:
      - name: companies the person controls
        edge: OWNS
        direction: OUT
        control: true
        max_hops: null
        measures: {MARKET_ENTRY_BAN: 《某禁入办法》}
score:
  grades: {A: 900, B: 700, C: 500}
publicity:
  periods:
    minor: {minimum_months: 0}
    general: {minimum_months: 0}
    serious: {minimum_months: 0}
"""


def test_a_custom_rules_file_with_other_reaches_works_both_ways(store: GraphStore) -> None:
    custom = parse_rules(CUSTOM_RULES, "custom.yaml")
    write(
        store,
        companies("C", "A", "B", "Z", "H", "K1", "K2")
        + persons("P", "Q", "R")
        + [
            sanction("s1", "C", SanctionList.ABNORMAL_OPERATION),
            sanction("s2", "R", SanctionList.MARKET_BAN),
        ],
        [
            Ownership("C", "A", 10.0),
            Ownership("A", "B"),  # no share: still a link
            Ownership("B", "Z", 100.0),  # 3 hops: too far
            Ownership("H", "C", 5.0),
            Ownership("Q", "C", 1.0),
            Officer("P", "C", OfficerRole.OTHER),
            Officer("R", "K1", AC),  # control through an actual-controller position
            Ownership("K1", "K2", 51.0),
        ],
    )
    assert on_read(store, "A", custom) == [
        ("A", "ENHANCED_SUPERVISION", "X1", "s1", "C -[OWNS 10%]-> A")
    ]
    assert on_read(store, "B", custom) == [
        ("B", "ENHANCED_SUPERVISION", "X1", "s1", "C -[OWNS 10%]-> A -[OWNS]-> B")
    ]
    assert on_read(store, "Z", custom) == []
    assert on_read(store, "H", custom) == [("H", "HONOR_BAN", "X1", "s1", "C <-[OWNS 5%]- H")]
    assert on_read(store, "Q", custom) == [("Q", "HONOR_BAN", "X1", "s1", "C <-[OWNS 1%]- Q")]
    assert on_read(store, "P", custom) == [
        ("P", "HONOR_BAN", "X1", "s1", "C <-[OFFICER_OF other]- P")
    ]
    assert on_read(store, "C", custom) == []  # the rule gives its subject nothing
    assert on_read(store, "K2", custom) == [
        (
            "K2",
            "MARKET_ENTRY_BAN",
            "X2",
            "s2",
            "R -[OFFICER_OF actual_controller]-> K1 -[OWNS 51%]-> K2",
        )
    ]
    agree(store, custom, ["C", "A", "B", "Z", "H", "K1", "K2", "P", "Q", "R"])


def test_materialise_filters_by_measure(store: GraphStore, rules: RuleSet) -> None:
    build_r1(store, SanctionList.SERIOUS_DISHONEST)
    everything = list(materialise(store, AS_OF, rules))
    for measure in Measure:
        only = list(materialise(store, AS_OF, rules, measure))
        assert only == [r for r in everything if r.measure is measure]
    assert rows(materialise(store, AS_OF, rules, Measure.ENHANCED_SUPERVISION)) == [
        ("A", "ENHANCED_SUPERVISION", "R1", "s1", "C -[OWNS 60%]-> A"),
        ("B", "ENHANCED_SUPERVISION", "R1", "s1", "C -[OWNS 60%]-> A -[OWNS 60%]-> B"),
        ("C", "ENHANCED_SUPERVISION", "R1", "s1", "C"),
        (
            "D",
            "ENHANCED_SUPERVISION",
            "R1",
            "s1",
            "C -[OWNS 60%]-> A -[OWNS 60%]-> B -[OWNS 100%]-> D",
        ),
        ("G", "ENHANCED_SUPERVISION", "R1", "s1", "C -[OWNS 30%]-> G"),
    ]
