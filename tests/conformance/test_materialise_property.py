"""Property: on any small graph, the forward materialisation is exactly the union of the on-read
answers over all entities (same restrictions, same canonical paths, same order).

The two engines extract differently (forward: from every sanctioned subject outwards, batched;
on read: backwards from one entity), so agreement checks both extractions and the claim that
control and shortest paths are decided inside what each extraction holds.
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.model import (
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
from graph.rules.engine import Restriction, materialise, restrictions_for
from graph.rules.schema import RuleSet, load_rules, parse_rules
from graph.store import GraphStore, WriteBatch

AS_OF = date(2024, 6, 1)
DAYS = [
    None,
    date(2020, 1, 1),
    date(2023, 6, 1),
    date(2024, 1, 1),
    date(2024, 5, 31),
    AS_OF,
    date(2024, 6, 2),
]
SHARES = [None, 10.0, 30.0, 45.0, 50.0, 51.0, 60.0, 100.0]

# Every kind of reach the engine knows, beyond the default rules: plain ownership walks both
# ways, officer walks without a role filter, and control from a person subject (through
# actual-controller positions too).
OTHER_RULES = """
version: 2
name: property-test
lists:
  SERIOUS_DISHONEST: {meaning: a, default_severity: serious, weight: 1, ended_factor: 0.2}
  DISHONEST_JUDGMENT_DEBTOR: {meaning: b, default_severity: serious, weight: 1, ended_factor: 0.2}
  MAJOR_TAX_VIOLATION: {meaning: c, default_severity: serious, weight: 1, ended_factor: 0.2}
  MARKET_BAN: {meaning: d, default_severity: serious, weight: 1, ended_factor: 0.2}
  ABNORMAL_OPERATION: {meaning: e, default_severity: general, weight: 1, ended_factor: 0.2}
  ADMIN_PENALTY: {meaning: f, default_severity: null, weight: 1, ended_factor: 0.2}
measures:
  HONOR_BAN: {meaning: g, kind: restriction}
  SUBSIDY_BAN: {meaning: h, kind: restriction}
  BIDDING_BAN: {meaning: i, kind: restriction}
  MARKET_ENTRY_BAN: {meaning: j, kind: restriction}
  HIGH_CONSUMPTION_BAN: {meaning: k, kind: restriction}
rules:
  - id: Y1
    name: walks
    trigger: {lists: [ABNORMAL_OPERATION, ADMIN_PENALTY]}
    subject: {kind: ANY, measures: {HONOR_BAN: 《甲》}}
    reaches:
      - {name: down, edge: OWNS, direction: OUT, max_hops: 2, measures: {SUBSIDY_BAN: 《乙》}}
      - {name: up, edge: OWNS, direction: IN, max_hops: 2, measures: {BIDDING_BAN: 《丙》}}
      - {name: officers, edge: OFFICER_OF, direction: IN, measures: {HONOR_BAN: 《丁》}}
      - {name: positions, edge: OFFICER_OF, direction: OUT, measures: {HONOR_BAN: 《丁》}}
  - id: Y2
    name: control
    trigger: {lists: [MARKET_BAN, SERIOUS_DISHONEST]}
    subject: {kind: ANY}
    reaches:
      - name: controlled
        edge: OWNS
        direction: OUT
        control: true
        max_hops: 2
        measures: {MARKET_ENTRY_BAN: 《戊》}
      - name: controllers
        edge: OWNS
        direction: IN
        control: true
        max_hops: null
        measures: {HIGH_CONSUMPTION_BAN: 《己》}
score:
  grades: {A: 900, B: 700, C: 500}
publicity:
  periods:
    minor: {minimum_months: 0, maximum_months: 3}
    general: {minimum_months: 0, maximum_months: 12}
    serious: {minimum_months: 0, maximum_months: 36}
"""

RULE_SETS = {
    "default": load_rules(None),
    "other": parse_rules(OTHER_RULES, "property-test.yaml"),
}


@st.composite
def graphs(draw: st.DrawFn) -> WriteBatch:
    companies = [f"c{i}" for i in range(draw(st.integers(1, 5)))]
    persons = [f"p{i}" for i in range(draw(st.integers(1, 3)))]
    entities = companies + persons
    # Biased towards links and records in force, so that most examples exercise the reaches;
    # the date edges around as_of still come up often.
    days = st.sampled_from(DAYS)
    ends = st.sampled_from([None, None, None, *DAYS])
    statuses = st.sampled_from([SanctionStatus.ACTIVE] * 4 + list(SanctionStatus))
    nodes: list[Node] = [Company(c, f"Company {c}") for c in companies]
    nodes += [Person(p, f"Person {p}") for p in persons]
    links: list[Link] = []
    for person, company, role, start, end in draw(
        st.lists(
            st.tuples(
                st.sampled_from(persons),
                st.sampled_from(companies),
                st.sampled_from(list(OfficerRole)),
                days,
                ends,
            ),
            max_size=8,
        )
    ):
        links.append(Officer(person, company, role, start=start, end=end))
    for owner, company, share, start, end in draw(
        st.lists(
            st.tuples(
                st.sampled_from(entities),
                st.sampled_from(companies),
                st.sampled_from(SHARES),
                days,
                ends,
            ),
            max_size=10,
        )
    ):
        links.append(Ownership(owner, company, share, start=start, end=end))
    for index, (subject, listed, severity, status, start, end, changed, disputed) in enumerate(
        draw(
            st.lists(
                st.tuples(
                    st.sampled_from(entities),
                    st.sampled_from(list(SanctionList)),
                    st.sampled_from([None, *Severity]),
                    statuses,
                    days,
                    ends,
                    days,
                    st.booleans(),
                ),
                max_size=6,
            )
        )
    ):
        nodes.append(
            Sanction(
                f"s{index}",
                subject,
                listed,
                severity=severity,
                status=status,
                start=start,
                end=end,
                status_date=changed,
                disputed=disputed,
            )
        )
    return WriteBatch(nodes=nodes, links=links)


@pytest.mark.parametrize("rule_set", sorted(RULE_SETS))
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    batch=graphs(),
    as_of=st.sampled_from([AS_OF, date(2024, 5, 31), date(2024, 6, 2)]),
    measure=st.sampled_from(list(Measure)),
)
def test_forward_materialisation_is_the_union_of_on_read_answers(
    store: GraphStore, rule_set: str, batch: WriteBatch, as_of: date, measure: Measure
) -> None:
    rules: RuleSet = RULE_SETS[rule_set]
    store.clear()  # the fixture is per test, not per example
    store.write(batch)
    ids = [n.id for n in batch.nodes if isinstance(n, (Company, Person))]
    union = sorted(
        (r for i in ids for r in restrictions_for(store, i, as_of, rules)),
        key=Restriction.sort_key,
    )
    forward = list(materialise(store, as_of, rules))
    assert forward == union
    assert list(materialise(store, as_of, rules, measure)) == [
        r for r in forward if r.measure is measure
    ]
    for item in forward:
        assert item.path.subject_id == item.source.subject_id
        assert item.path.entity_id == item.entity_id
        assert item.disputed == item.source.disputed
