"""Forward materialisation's coarse reads (graph/rules/forward.py): the same links as
``neighbourhood`` on every backend, and subjects that are each other's targets."""

from __future__ import annotations

from datetime import date, timedelta

from graph.model import (
    Company,
    Direction,
    Link,
    LinkType,
    Node,
    Officer,
    OfficerRole,
    Ownership,
    Person,
    Sanction,
    SanctionList,
    Severity,
)
from graph.rules import forward
from graph.rules.engine import add_months, materialise, restrictions_for, sanction_in_force
from graph.rules.schema import load_rules
from graph.store import CLOSURE_HOPS, GraphStore, Step, WriteBatch

AS_OF = date(2024, 6, 1)


def _write(store: GraphStore) -> None:
    """P controls A, A controls B (an ended holding A -> C beside it); P is B's legal
    representative; P, A and B all have records in force, so each subject is another's target."""
    nodes: list[Node] = [
        Person("P", "P"),
        Company("A", "A"),
        Company("B", "B"),
        Company("C", "C"),
        Sanction("s_p", "P", SanctionList.DISHONEST_JUDGMENT_DEBTOR, start=date(2023, 1, 1)),
        Sanction("s_a", "A", SanctionList.SERIOUS_DISHONEST, start=date(2023, 1, 1)),
        Sanction("s_b", "B", SanctionList.SERIOUS_DISHONEST, start=date(2023, 1, 1)),
    ]
    links: list[Link] = [
        Ownership("P", "A", 60.0),
        Ownership("A", "B", 70.0),
        Ownership("A", "C", 90.0, end=date(2024, 1, 1)),
        Officer("P", "B", OfficerRole.LEGAL_REPRESENTATIVE),
    ]
    store.write(WriteBatch(nodes=nodes, links=links))


def test_walks_return_the_links_and_labels_of_the_neighbourhood(store: GraphStore) -> None:
    _write(store)
    # B -> D lies three links below P: a walk of two hops from P must not expand B.
    store.write(WriteBatch(nodes=[Company("D", "D")], links=[Ownership("B", "D", 40.0)]))
    down = [
        Step(LinkType.OWNS, Direction.OUT),
        Step(LinkType.OFFICER_OF, Direction.OUT, frozenset({OfficerRole.ACTUAL_CONTROLLER})),
    ]
    walks: list[forward.LinkWalk] = [
        (["P", "A"], down, CLOSURE_HOPS),
        (["B"], [Step(LinkType.OFFICER_OF, Direction.IN)], 1),
        (["B"], [Step(LinkType.OWNS, Direction.IN)], 1),
        (["P"], down, 2),
        # Steps both ways: walked hop by hop on a server, not as one variable-length match.
        (["P"], [Step(LinkType.OWNS, Direction.OUT), Step(LinkType.OWNS, Direction.IN)], 2),
        ([], down, CLOSURE_HOPS),
    ]
    found = forward._walk_links(store, walks, AS_OF)
    assert [sorted(f"{link.source}>{link.target}" for link in w.values()) for w, _ in found] == [
        ["A>B", "B>D", "P>A"],
        ["P>B"],
        ["A>B"],
        ["A>B", "P>A"],
        ["A>B", "P>A"],
        [],
    ]
    assert found[0][1]["A"] == "Company"  # a seed, and P's target
    for (seeds, steps, hops), (links, labels) in zip(walks, found, strict=True):
        full = store.neighbourhood(seeds, steps=steps, hops=hops, as_of=AS_OF)
        assert links == full.links
        # Every node reached is labelled, seeds reached from other seeds included.
        ends = {end for link in links.values() for end in (link.source, link.target)}
        assert ends - set(seeds) <= labels.keys()
        for node_id, label in labels.items():
            assert label == type(full.nodes[node_id]).__name__


def test_subjects_that_are_each_others_targets(store: GraphStore) -> None:
    _write(store)
    rules = load_rules(None)
    forward_found = list(materialise(store, AS_OF, rules))
    on_read = sorted(
        (
            r
            for entity in ("P", "A", "B", "C")
            for r in restrictions_for(store, entity, AS_OF, rules)
        ),
        key=lambda r: r.sort_key(),
    )
    assert forward_found == on_read
    # B bears measures from its own record, from its controller A's and from its officer P's.
    assert {r.subject_id for r in forward_found if r.entity_id == "B"} == {"A", "B", "P"}


def test_period_cut_is_the_end_of_the_maximum_publicity_period() -> None:
    """A record is past its maximum period on a day exactly when it started before the cut's
    day for its severity, also where adding months clamps to a month's end."""
    rules = load_rules(None)
    days = [date(2024, 2, 29), date(2024, 3, 31), date(2024, 6, 1), date(2025, 2, 28)]
    for day in days:
        cut = forward.period_cut(rules, day)
        for severity, period in rules.publicity.periods.items():
            months = period.maximum_months
            assert months is not None  # every severity of the shipped rules has a maximum
            for offset in range(-40, 41):
                start = add_months(day, -months) + timedelta(days=offset)
                over = day >= add_months(start, months)
                assert (start < cut.since[severity.value]) is over, (day, severity, start)
    assert cut.open_lists == {"MARKET_BAN", "DISHONEST_JUDGMENT_DEBTOR"}
    assert cut.defaults["ABNORMAL_OPERATION"] == "general"
    assert "ADMIN_PENALTY" not in cut.defaults  # as recorded, else general


def test_live_records_leave_out_only_the_records_past_their_maximum_period(
    store: GraphStore,
) -> None:
    rules = load_rules(None)
    policy = rules.publicity
    day = date(2024, 2, 29)
    nodes: list[Node] = [Company("A", "A"), Person("P", "P")]
    # Each list's severity (its own, its list's default, general), starting on either side of
    # each maximum period's end; a list without a maximum; a record dated by its decision only.
    lists = [
        SanctionList.SERIOUS_DISHONEST,
        SanctionList.ADMIN_PENALTY,
        SanctionList.ABNORMAL_OPERATION,
        SanctionList.MARKET_BAN,
    ]
    for listed in lists:
        for severity in (None, *Severity):
            for months in (3, 12, 36):
                for offset in (-2, -1, 0, 1):
                    start = add_months(day, -months) + timedelta(days=offset)
                    nodes.append(
                        Sanction(
                            f"s{len(nodes)}",
                            "AP"[len(nodes) % 2],
                            listed,
                            severity=severity,
                            start=start if offset % 2 else None,
                            decided=start,
                        )
                    )
    nodes.append(Sanction("undated", "A", SanctionList.ADMIN_PENALTY))
    store.write(WriteBatch(nodes=nodes))

    live = list(store.sanctions(live_at=day))
    kept, labels = forward._live_records(store, day, forward.period_cut(rules, day))
    over = set()
    for record in live:
        began, maximum = record.effective_start, policy.maximum_months(record)
        if began is not None and maximum is not None and day >= add_months(began, maximum):
            over.add(record.id)
    in_force = {r.id for r in live if sanction_in_force(r, day, policy)}
    assert over and in_force and "undated" in in_force
    # A store that reads in bulk leaves the records past their period where they are.
    expected = {r.id for r in live} - (over if isinstance(store, forward.ForwardReader) else set())
    assert {r.id for r in kept} == expected
    assert dict(labels) == {"A": "Company", "P": "Person"}
