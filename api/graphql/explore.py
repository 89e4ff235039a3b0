"""The fields the network explorer (``GET /explore``) asks for: a node's typed neighbourhood, one
page at a time, with every node marked sanctioned or restricted, and the ownership cycles through
an entity.

The explorer is a client of this API like any other (no second API): the same keys, roles, limits
and audit. A neighbourhood is for investigators (it shows ownership and officer links, which an
agency may not see); every person it names is audited as a person read.

A supernode (a nominee director on 3,000 boards, a registration agent's address) is paged: links
come in a stable order (by relation, then by the node at the other end), and ``more`` counts what
is left of each relation after the page, so the explorer can offer "120 more positions".
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from enum import Enum

import strawberry
from strawberry.types import Info

from api.auth import Role
from api.graphql.blocking import blocking
from api.graphql.context import Context
from api.graphql.explore_supply import PRODUCT_OF, ProductOf, supply_part
from api.graphql.types import Path, decode_cursor, encode_cursor
from graph import model
from graph.errors import InvalidInput, NotFound
from graph.rules import engine
from graph.rules.schema import RuleSet
from graph.store import GraphReader, Subgraph
from queries.cycles import ownership_cycles
from queries.paths import PATH_STEPS

__all__ = ["ExploreQuery", "NodeKind", "explore_page"]


@strawberry.enum
class NodeKind(Enum):
    COMPANY = "COMPANY"
    PERSON = "PERSON"
    ADDRESS = "ADDRESS"
    SANCTION = "SANCTION"
    PRODUCT = "PRODUCT"
    BATCH = "BATCH"


# The order relations are paged in: the few links that say most first (owners, officers), the
# long lists last (a registration agent's address, a nominee's positions).
_RELATIONS: dict[tuple[model.LinkType, bool, NodeKind], str] = {
    # (link type, the centre is the link's source, the centre's kind) -> relation
    (model.LinkType.OWNS, False, NodeKind.COMPANY): "owners",
    (model.LinkType.OFFICER_OF, False, NodeKind.COMPANY): "officers",
    (model.LinkType.OWNS, True, NodeKind.COMPANY): "subsidiaries",
    (model.LinkType.OWNS, True, NodeKind.PERSON): "holdings",
    (model.LinkType.OFFICER_OF, True, NodeKind.PERSON): "positions",
    (model.LinkType.REGISTERED_AT, True, NodeKind.COMPANY): "addresses",
    (model.LinkType.REGISTERED_AT, True, NodeKind.PERSON): "addresses",
    (model.LinkType.REGISTERED_AT, False, NodeKind.ADDRESS): "registered here",
}
_SUPPLY_RELATIONS = (
    "product",
    "producer",
    "inputs",
    "batches produced",
    "batches received",
    "transformations",
    "outputs",
    "shipments sent",
    "receivers",
)
"""The movements of goods (:mod:`api.graphql.explore_supply`), after the entity links, in the
way goods go."""
_ORDER = {
    name: i for i, name in enumerate(dict.fromkeys([*_RELATIONS.values(), *_SUPPLY_RELATIONS]))
}


@dataclass(frozen=True, slots=True)
class ExploreNode:
    """A node of the explorer's view, with what it needs to draw and mark it."""

    node: model.Node
    sanctioned: bool
    measures: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ExploreLink:
    link: model.Link | model.Sanction | ProductOf
    relation: str


@dataclass(frozen=True, slots=True)
class ExplorePage:
    """One page of a node's neighbourhood at a date (see :func:`explore_page`)."""

    center: ExploreNode | None
    nodes: tuple[ExploreNode, ...]
    links: tuple[ExploreLink, ...]
    start: int
    total: int
    more: tuple[tuple[str, int], ...]


def _kind(node: object) -> NodeKind:
    if isinstance(node, model.Company):
        return NodeKind.COMPANY
    if isinstance(node, model.Person):
        return NodeKind.PERSON
    if isinstance(node, model.Address):
        return NodeKind.ADDRESS
    if isinstance(node, model.Product):
        return NodeKind.PRODUCT
    if isinstance(node, model.Batch):
        return NodeKind.BATCH
    return NodeKind.SANCTION


def _relation(link: model.Link, center: str, kind: NodeKind) -> str:
    return _RELATIONS.get((link.type, link.source == center, kind), link.type.value.lower())


def _marked(
    store: GraphReader,
    sub: Subgraph,
    node: model.Company | model.Person | model.Address,
    day: date,
    rules: RuleSet,
) -> ExploreNode:
    """``node`` marked with its records in force and the measures restricting it on ``day``."""
    if isinstance(node, model.Address):
        return ExploreNode(node, False, ())
    sanctioned = any(
        engine.sanction_in_force(s, day, rules.publicity) for s in sub.sanctions_of(node.id)
    )
    # the rule engine decides, as for a credit report: a node is restricted through its links too
    found = engine.lookup(store, node.id, day, rules)
    return ExploreNode(node, sanctioned, tuple(sorted({r.measure for r in found.restrictions})))


def explore_page(
    store: GraphReader, node_id: str, day: date, rules: RuleSet, start: int, size: int
) -> ExplorePage:
    """The links of ``node_id`` valid on ``day``, ``size`` of them from ``start``, with the nodes
    at their other ends and the node's own sanction records in force. The node itself, marked,
    comes with the first page only (marking a supernode is the dearest part of a page).

    Examples
    --------
    >>> from graph.memory import MemoryStore
    >>> from graph.model import Company, Officer, OfficerRole, Person
    >>> from graph.rules.schema import load_rules
    >>> from graph.store import WriteBatch
    >>> store = MemoryStore()
    >>> _ = store.write(WriteBatch(
    ...     nodes=[Person("p", "Zhou"), *(Company(f"c{i}", f"Co {i}") for i in range(3))],
    ...     links=[Officer("p", f"c{i}", OfficerRole.DIRECTOR) for i in range(3)]))
    >>> page = explore_page(store, "p", date(2026, 1, 1), load_rules(None), 0, 2)
    >>> [n.node.id for n in page.nodes], page.total, page.more
    (['c0', 'c1'], 3, (('positions', 1),))
    """
    sub = store.neighbourhood([node_id], steps=PATH_STEPS, hops=1, as_of=day)
    center: model.Node | None = sub.nodes.get(node_id)
    if center is None:
        found = store.get(node_id)
        if found is None:
            raise NotFound(f"no company, person, address, product or batch has id {node_id!r}")
        if isinstance(found, model.Sanction):
            raise InvalidInput(
                f"{node_id!r} is a sanction record; explore its subject {found.subject_id!r}"
            )
        if not isinstance(found, (model.Company, model.Batch, model.Product)):
            raise InvalidInput(f"{node_id!r} is not a company, person, address or batch")
        center = found
    kind = _kind(center)
    supply = supply_part(
        store, center, day, lambda s: engine.sanction_in_force(s, day, rules.publicity)
    )
    relation: dict[str, str] = {
        link.key: _relation(link, node_id, kind) for link in sub.links.values()
    }
    relation.update((link.key, name) for link, name in supply.links)
    nodes_of: dict[str, model.Node] = {**supply.nodes, **sub.nodes}

    def other(link: model.Link | ProductOf) -> str:
        # a shipment a company sent touches neither end of it: the receiver is the other end
        return link.source if link.target == node_id else link.target

    links: list[model.Link | ProductOf] = sorted(
        [*sub.links.values(), *(link for link, _ in supply.links)],
        key=lambda link: (_ORDER.get(relation[link.key], 99), other(link), link.key),
    )
    page = links[start : start + size]
    left = Counter(relation[link.key] for link in links[start + size :])
    neighbours: dict[str, model.Node] = {}
    for link in page:
        for end in (link.source, link.target):
            if end != node_id:
                neighbours.setdefault(end, nodes_of[end])
    records = [
        s
        for s in (sub.sanctions_of(node_id) if kind in (NodeKind.COMPANY, NodeKind.PERSON) else [])
        if engine.sanction_in_force(s, day, rules.publicity)
    ]

    def marked(node: model.Node) -> ExploreNode:
        if isinstance(node, (model.Company, model.Person, model.Address)):
            return _marked(store, sub, node, day, rules)
        return ExploreNode(node, node.id in supply.unsafe, ())

    nodes = [marked(n) for n in neighbours.values()]
    nodes += [ExploreNode(s, False, ()) for s in records]
    return ExplorePage(
        center=marked(center) if start == 0 else None,
        nodes=tuple(nodes),
        links=tuple(
            [ExploreLink(link, relation[link.key]) for link in page]
            + [ExploreLink(s, "records") for s in records]
        ),
        start=start,
        total=len(links),
        more=tuple(sorted(left.items(), key=lambda item: _ORDER.get(item[0], 99))),
    )


@strawberry.type
class GraphNode:
    """A node as the explorer draws it. ``restricted``: the rule engine holds a measure against it
    on the date asked (through its links too); ``sanctioned``: one of its own records is in
    force."""

    id: strawberry.ID
    kind: NodeKind
    label: str
    sanctioned: bool
    restricted: bool
    measures: list[str]
    status: str | None
    """A company's status; a sanction record's status."""
    detail: str | None
    """An address's region, a sanction record's authority and description, a product's
    category, a batch's product and quantity."""
    legal_basis: str | None
    start: date | None
    """A record's start, a batch's production day."""
    end: date | None
    """A record's end, a batch's expiry day."""

    @classmethod
    def of(cls, item: ExploreNode, ctx: Context) -> GraphNode:
        node = item.node
        status: str | None = None
        detail: str | None = None
        legal_basis: str | None = None
        start: date | None = None
        end: date | None = None
        if isinstance(node, model.Person):
            ctx.person_reads.add(node.id)  # audited like any other person read
            label = node.name
        elif isinstance(node, model.Company):
            label = node.name
            status = node.status.value if node.status else None
        elif isinstance(node, model.Address):
            label, detail = node.text, node.region
        elif isinstance(node, model.Product):
            label = node.name
            detail = node.category.value if node.category else None
        elif isinstance(node, model.Batch):
            label = node.lot
            amount = f"{node.quantity:g}" if node.quantity is not None else None
            detail = " · ".join(filter(None, [node.product_id, amount]))
            start, end = node.produced, node.expires
        elif not isinstance(node, model.Sanction):
            raise InvalidInput(f"{node.id!r} is not something the explorer draws")
        else:
            label = str(node.list)
            status = node.status.value
            detail = " · ".join(filter(None, [node.authority, node.description])) or None
            legal_basis = node.legal_basis
            start, end = node.effective_start, node.end
        return cls(
            id=strawberry.ID(node.id),
            kind=_kind(node),
            label=label,
            sanctioned=item.sanctioned,
            restricted=bool(item.measures),
            measures=list(item.measures),
            status=status,
            detail=detail,
            legal_basis=legal_basis,
            start=start,
            end=end,
        )


@strawberry.type
class GraphLink:
    """A link as the explorer draws it: ``source`` to ``target`` the way it is stored (the owner
    to the company, the officer to the company, the entity to its address, the record to its
    subject, the company to the batch it produced, a batch to the company it was shipped to, an
    input batch to its output, a batch to its product); ``relation`` names it from the explored
    node (owners, positions, receivers, ...)."""

    id: strawberry.ID
    type: str
    source: strawberry.ID
    target: strawberry.ID
    relation: str
    role: str | None
    share: float | None
    start: date | None
    """From when it counts: a movement's date."""
    end: date | None
    quantity: float | None = None
    """What a shipment moved."""
    from_id: strawberry.ID | None = None
    """The company that shipped (SHIPPED)."""
    by_id: strawberry.ID | None = None
    """The company that transformed (TRANSFORMED_INTO)."""
    event_id: str | None = None
    """A movement's source event."""

    @classmethod
    def of(cls, item: ExploreLink) -> GraphLink:
        link = item.link
        if isinstance(link, model.Sanction):
            return cls(
                id=strawberry.ID(f"SANCTIONED|{link.id}"),
                type=model.LinkType.SANCTIONED.value,
                source=strawberry.ID(link.id),
                target=strawberry.ID(link.subject_id),
                relation=item.relation,
                role=None,
                share=None,
                start=link.effective_start,
                end=link.end,
            )
        if isinstance(link, ProductOf):
            return cls(
                id=strawberry.ID(link.key),
                type=PRODUCT_OF,
                source=strawberry.ID(link.source),
                target=strawberry.ID(link.target),
                relation=item.relation,
                role=None,
                share=None,
                start=None,
                end=None,
            )
        movement = (
            link
            if isinstance(link, (model.Produced, model.Shipped, model.TransformedInto))
            else None
        )
        shipped = link if isinstance(link, model.Shipped) else None
        by = link.by_id if isinstance(link, model.TransformedInto) else None
        return cls(
            id=strawberry.ID(link.key),
            type=link.type.value,
            source=strawberry.ID(link.source),
            target=strawberry.ID(link.target),
            relation=item.relation,
            role=link.role.value if isinstance(link, model.Officer) else None,
            share=link.share if isinstance(link, model.Ownership) else None,
            start=link.start,
            end=link.end,
            quantity=shipped.quantity if shipped else None,
            from_id=strawberry.ID(shipped.from_id) if shipped else None,
            by_id=strawberry.ID(by) if by else None,
            event_id=movement.event_id if movement else None,
        )


@strawberry.type
class RelationCount:
    relation: str
    count: int


@strawberry.type
class Neighbourhood:
    center: GraphNode | None
    """The explored node, marked; on the first page only."""
    nodes: list[GraphNode]
    """The nodes at the other end of this page's links, and the centre's records in force."""
    links: list[GraphLink]
    total_count: int
    """Links of the centre on that date (records not counted)."""
    has_next_page: bool
    end_cursor: str | None
    more: list[RelationCount]
    """What is left after this page, by relation."""


@strawberry.type
class OwnershipCycle:
    path: Path
    """The cycle from its smallest id back to it, each entity holding shares of the next."""
    length: int
    share: float | None
    """The product of the shares around it in percent (null when a link has none)."""


@strawberry.type
class Viewer:
    """The caller's key: what the explorer may offer."""

    name: str
    role: str


@strawberry.type
class ExploreQuery:
    """Mixed into ``Query`` (api/graphql/schema.py)."""

    @strawberry.field
    async def neighbourhood(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
        as_of: date | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Neighbourhood:
        """One page of a company's, person's or address's links on ``asOf`` (default today),
        with the nodes at their other ends, marked (investigator+; persons are audited)."""
        ctx = info.context
        ctx.require(Role.INVESTIGATOR, "the network explorer's neighbourhoods")
        size = ctx.page_size(first)
        start = decode_cursor(after)
        page = await blocking(
            explore_page, ctx.store, str(id), as_of or ctx.today(), ctx.rules, start, size
        )
        end = start + len([x for x in page.links if x.relation != "records"])
        return Neighbourhood(
            center=GraphNode.of(page.center, ctx) if page.center else None,
            nodes=[GraphNode.of(n, ctx) for n in page.nodes],
            links=[GraphLink.of(x) for x in page.links],
            total_count=page.total,
            has_next_page=end < page.total,
            end_cursor=encode_cursor(end - 1) if end > start else None,
            more=[RelationCount(relation=r, count=c) for r, c in page.more],
        )

    @strawberry.field
    async def ownership_cycles(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
        as_of: date | None = None,
        max_length: int = 6,
    ) -> list[OwnershipCycle]:
        """The circular holdings an entity takes part in on ``asOf``, shortest first
        (investigator+)."""
        ctx = info.context
        ctx.require(Role.INVESTIGATOR, "ownership cycles")
        if not 2 <= max_length <= 10:
            raise InvalidInput("maxLength must be between 2 and 10")
        found = await blocking(
            ownership_cycles, ctx.store, str(id), as_of or ctx.today(), max_length=max_length
        )
        return [OwnershipCycle(path=Path.of(c.path), length=c.length, share=c.share) for c in found]

    @strawberry.field
    def viewer(self, info: Info[Context, None]) -> Viewer:
        """The name and role of the key in use."""
        key = info.context.require(Role.AGENCY, "the explorer")
        return Viewer(name=key.name, role=key.role.value)
