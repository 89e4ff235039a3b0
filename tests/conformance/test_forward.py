"""Forward materialisation's coarse reads (graph/rules/forward.py): the same links as
``neighbourhood`` on every backend, and subjects that are each other's targets."""

from __future__ import annotations

from datetime import date

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
)
from graph.rules import forward
from graph.rules.engine import materialise, restrictions_for
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
    down = [
        Step(LinkType.OWNS, Direction.OUT),
        Step(LinkType.OFFICER_OF, Direction.OUT, frozenset({OfficerRole.ACTUAL_CONTROLLER})),
    ]
    walks: list[forward.LinkWalk] = [
        (["P", "A"], down, CLOSURE_HOPS),
        (["B"], [Step(LinkType.OFFICER_OF, Direction.IN)], 1),
        (["B"], [Step(LinkType.OWNS, Direction.IN)], 1),
    ]
    found = forward._walk_links(store, walks, AS_OF)
    assert [sorted(f"{link.source}>{link.target}" for link in w.values()) for w, _ in found] == [
        ["A>B", "P>A"],
        ["P>B"],
        ["A>B"],
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
