"""GraphQL types (spec/GRAPHQL.md). Resolvers are thin: they ask a loader and wrap the answer."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import date
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from api import views
from api.auth import Role
from api.graphql.blocking import blocking
from api.graphql.context import Context
from api.graphql.loaders import LinkKey, LinkRow
from graph import explain, model
from graph.errors import InvalidInput
from graph.rules import engine, incentives, supply
from graph.rules.schema import RuleSet
from queries import ownership, report
from queries.commitments import commitments_of

if TYPE_CHECKING:
    from api.graphql.supply import Batch

__all__ = [
    "AuditEvent",
    "Company",
    "Connection",
    "Direction",
    "Entity",
    "EntityKind",
    "Officer",
    "Ownership",
    "Person",
    "Sanction",
    "paginate",
    "to_entity",
]

T = TypeVar("T")

EntityKind = strawberry.enum(model.EntityKind, name="EntityKind")
# The shipped measures; build_schema adds those of the rules in force (api/graphql/measures.py).
Measure = strawberry.enum(model.Measure, name="Measure")


@strawberry.enum
class Direction(Enum):
    UP = "UP"
    DOWN = "DOWN"


@strawberry.enum
class Grade(Enum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"


def _parse_date(value: object) -> date:
    if not isinstance(value, str):
        raise InvalidInput("a Date is an ISO string, YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{value!r} is not a date; write it as YYYY-MM-DD") from None


def _serialize_date(value: date) -> str:
    return value.isoformat()


DateScalar = strawberry.scalar(
    name="Date",
    description="An ISO 8601 calendar date, YYYY-MM-DD.",
    serialize=_serialize_date,
    parse_value=_parse_date,
)


# --- pagination -------------------------------------------------------------------------------


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def decode_cursor(cursor: str | None) -> int:
    """The offset just after ``cursor`` (0 without one)."""
    if cursor is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        kind, _, number = text.partition(":")
        if kind != "o":
            raise ValueError(text)
        return int(number) + 1
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(f"{cursor!r} is not a cursor this API gave out") from None


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    node: T
    cursor: str


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    total_count: int


def make_connection(items: list[T], start: int, total: int) -> Connection[T]:
    edges = [Edge(node=item, cursor=encode_cursor(start + i)) for i, item in enumerate(items)]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=start + len(items) < total,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total_count=total,
    )


def paginate(items: list[T], first: int, after: str | None) -> Connection[T]:
    start = decode_cursor(after)
    return make_connection(items[start : start + first], start, len(items))


async def _link_page(
    info: Info[Context, None],
    what: str,
    loader: DataLoader[LinkKey, list[LinkRow]],
    entity_id: str,
    as_of: date | None,
    first: int | None,
    after: str | None,
    wrap: Callable[[LinkRow, Context], T],
) -> Connection[T]:
    """One page of an entity's links (owners, officers, positions, ...), for investigators."""
    ctx = info.context
    ctx.require(Role.INVESTIGATOR, what)
    size = ctx.page_size(first)
    rows = await loader.load((entity_id, as_of or ctx.today()))
    return paginate([wrap(row, ctx) for row in rows], size, after)


# --- nodes --------------------------------------------------------------------------------------


def _day(value: str | None) -> date | None:
    """A view's ISO date back as a date (the GraphQL ``Date`` scalar serialises dates)."""
    return date.fromisoformat(value) if value is not None else None


@strawberry.type
class Sanction:
    id: strawberry.ID
    subject_id: strawberry.ID
    list_: str = strawberry.field(name="list")
    authority: str | None
    severity: str
    fine: float | None
    decided: date | None
    start: date | None
    end: date | None
    legal_basis: str | None
    description: str | None
    status: str
    status_date: date | None
    disputed: bool
    batch_id: strawberry.ID | None = strawberry.field(
        description="The product batch the record found at fault (product-safety records)."
    )

    @classmethod
    def of(cls, s: model.Sanction, rules: RuleSet) -> Sanction:
        return cls.from_doc(views.sanction_doc(s, rules))

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Sanction:
        """From :func:`api.views.sanction_doc`."""
        return cls(
            id=strawberry.ID(doc["id"]),
            subject_id=strawberry.ID(doc["subjectId"]),
            list_=doc["list"],
            authority=doc["authority"],
            severity=doc["severity"],
            fine=doc["fine"],
            decided=_day(doc["decided"]),
            start=_day(doc["start"]),
            end=_day(doc["end"]),
            legal_basis=doc["legalBasis"],
            description=doc["description"],
            status=doc["status"],
            status_date=_day(doc["statusDate"]),
            disputed=doc["disputed"],
            batch_id=strawberry.ID(doc["batchId"]) if doc["batchId"] is not None else None,
        )


async def _sanctions(
    info: Info[Context, None], entity_id: str, as_of: date | None, include_ended: bool
) -> list[Sanction]:
    """The entity's records; without ``include_ended`` only those the rule engine holds in
    force at ``as_of`` (status, dates and the maximum publicity period alike)."""
    ctx = info.context
    records = await ctx.loaders.sanctions.load(entity_id)
    day = as_of or ctx.today()
    policy = ctx.rules.publicity
    return [
        Sanction.of(s, ctx.rules)
        for s in records
        if include_ended or engine.sanction_in_force(s, day, policy)
    ]


@strawberry.enum
class CommitmentState(Enum):
    PENDING = "pending"
    OVERDUE = "overdue"
    KEPT = "kept"
    BROKEN = "broken"


@strawberry.type
class Commitment:
    """A credit commitment (信用承诺); ``state`` is as of the date asked (default today)."""

    id: strawberry.ID
    promisor_id: strawberry.ID
    kind: str
    agency: str | None
    matter: str | None
    made: date
    due: date | None
    verified: date | None
    outcome: str
    severity: str | None
    version: int
    state: CommitmentState

    @classmethod
    def of(cls, c: model.Commitment, as_of: date) -> Commitment:
        doc = views.commitment_doc(c, as_of)
        return cls(
            id=strawberry.ID(doc["id"]),
            promisor_id=strawberry.ID(doc["promisorId"]),
            kind=doc["kind"],
            agency=doc["agency"],
            matter=doc["matter"],
            made=c.made,
            due=_day(doc["due"]),
            verified=_day(doc["verified"]),
            outcome=doc["outcome"],
            severity=doc["severity"],
            version=doc["version"],
            state=CommitmentState(doc["state"]),
        )


async def _commitments(
    info: Info[Context, None], entity_id: str, as_of: date | None
) -> list[Commitment]:
    ctx = info.context
    ctx.require(Role.AGENCY, "commitments")
    day = as_of or ctx.today()
    found = await blocking(commitments_of, ctx.store, entity_id)
    return [Commitment.of(c, day) for c in found]


@strawberry.type
class Provenance:
    """Where a record came from (spec/INTEROP.md): format, dataset and the source's record id."""

    format: str | None
    dataset: str | None
    record_id: str | None

    @classmethod
    def of(cls, item: model.Node | model.Link) -> Provenance | None:
        fmt = getattr(item, "source_format", None)
        dataset = getattr(item, "source_dataset", None)
        record = getattr(item, "record_id", None)
        if fmt is None and dataset is None and record is None:
            return None  # loaded from a bundle
        return cls(format=fmt, dataset=dataset, record_id=record)


@strawberry.interface
class Entity:
    id: strawberry.ID
    name: str
    kind: EntityKind  # type: ignore[valid-type]

    @strawberry.field
    async def aliases(self, info: Info[Context, None]) -> list[str]:
        """Other names: aliases, previous and transliterated names (spec/INTEROP.md)."""
        node = await self._entity(info)
        return list(node.aliases) if node is not None else []

    @strawberry.field
    async def identifiers(self, info: Info[Context, None]) -> list[str]:
        """Register identifiers as ``SCHEME:value`` (``CN-USCC:...``)."""
        node = await self._entity(info)
        return list(node.identifiers) if node is not None else []

    @strawberry.field
    async def provenance(self, info: Info[Context, None]) -> Provenance | None:
        """The source format, dataset and record id; null for bundle rows."""
        node = await self._entity(info)
        return Provenance.of(node) if node is not None else None

    async def _entity(self, info: Info[Context, None]) -> model.Company | model.Person | None:
        if self.kind is model.EntityKind.PERSON:
            info.context.require(Role.INVESTIGATOR, "person details")
        node = await info.context.loaders.entity.load(str(self.id))
        return node if isinstance(node, (model.Company, model.Person)) else None


@strawberry.type
class Company(Entity):
    status: str | None
    founded: date | None
    dissolved: date | None
    jurisdiction: str | None
    industry: str | None
    registered_capital: float | None

    @classmethod
    def of(cls, c: model.Company) -> Company:
        return cls(
            id=strawberry.ID(c.id),
            name=c.name,
            kind=model.EntityKind.COMPANY,
            status=c.status.value if c.status else None,
            founded=c.founded,
            dissolved=c.dissolved,
            jurisdiction=c.jurisdiction,
            industry=c.industry,
            registered_capital=c.registered_capital,
        )

    @strawberry.field
    async def batches(
        self, info: Info[Context, None], as_of: date | None = None
    ) -> list[Annotated[Batch, strawberry.lazy("api.graphql.supply")]]:
        from api.graphql.supply import batches_of  # supply imports this module

        info.context.require(Role.AGENCY, "batches")
        return await batches_of(info, str(self.id), as_of)

    @strawberry.field
    async def owners(
        self,
        info: Info[Context, None],
        as_of: date | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Ownership]:
        return await _link_page(
            info,
            "ownership",
            info.context.loaders.owners,
            str(self.id),
            as_of,
            first,
            after,
            Ownership.of,
        )

    @strawberry.field
    async def subsidiaries(
        self,
        info: Info[Context, None],
        as_of: date | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Ownership]:
        return await _link_page(
            info,
            "ownership",
            info.context.loaders.subsidiaries,
            str(self.id),
            as_of,
            first,
            after,
            Ownership.of,
        )

    @strawberry.field
    async def officers(
        self,
        info: Info[Context, None],
        as_of: date | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Officer]:
        return await _link_page(
            info,
            "officers",
            info.context.loaders.officers,
            str(self.id),
            as_of,
            first,
            after,
            Officer.of,
        )

    @strawberry.field
    async def sanctions(
        self, info: Info[Context, None], as_of: date | None = None, include_ended: bool = False
    ) -> list[Sanction]:
        info.context.require(Role.AGENCY, "sanctions")
        return await _sanctions(info, str(self.id), as_of, include_ended)

    @strawberry.field
    async def commitments(
        self, info: Info[Context, None], as_of: date | None = None
    ) -> list[Commitment]:
        """The credit commitments the company made, with their state at ``asOf`` (agency+)."""
        return await _commitments(info, str(self.id), as_of)


@strawberry.type
class Person(Entity):
    @classmethod
    def of(cls, p: model.Person, ctx: Context) -> Person:
        ctx.person_reads.add(p.id)
        return cls(id=strawberry.ID(p.id), name=p.name, kind=model.EntityKind.PERSON)

    @strawberry.field
    async def nationality(self, info: Info[Context, None]) -> str | None:
        return (await self._node(info)).nationality

    @strawberry.field
    async def birth_year(self, info: Info[Context, None]) -> int | None:
        return (await self._node(info)).birth_year

    async def _node(self, info: Info[Context, None]) -> model.Person:
        info.context.require(Role.INVESTIGATOR, "person details")
        node = await info.context.loaders.entity.load(str(self.id))
        assert isinstance(node, model.Person)
        return node

    @strawberry.field
    async def positions(
        self,
        info: Info[Context, None],
        as_of: date | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Officer]:
        return await _link_page(
            info,
            "person positions",
            info.context.loaders.positions,
            str(self.id),
            as_of,
            first,
            after,
            Officer.of,
        )

    @strawberry.field
    async def holdings(
        self,
        info: Info[Context, None],
        as_of: date | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Ownership]:
        return await _link_page(
            info,
            "person holdings",
            info.context.loaders.holdings,
            str(self.id),
            as_of,
            first,
            after,
            Ownership.of,
        )

    @strawberry.field
    async def sanctions(
        self, info: Info[Context, None], as_of: date | None = None, include_ended: bool = False
    ) -> list[Sanction]:
        info.context.require(Role.INVESTIGATOR, "person sanctions")
        return await _sanctions(info, str(self.id), as_of, include_ended)

    @strawberry.field
    async def commitments(
        self, info: Info[Context, None], as_of: date | None = None
    ) -> list[Commitment]:
        """The credit commitments the person made (investigator+: person data)."""
        info.context.require(Role.INVESTIGATOR, "person commitments")
        return await _commitments(info, str(self.id), as_of)


def to_entity(node: object, ctx: Context) -> Company | Person | None:
    if isinstance(node, model.Company):
        return Company.of(node)
    if isinstance(node, model.Person):
        return Person.of(node, ctx)
    return None


def _required(node: object, ctx: Context, what: str) -> Any:
    entity = to_entity(node, ctx)
    if entity is None:
        raise RuntimeError(f"the store returned a link without its {what}")
    return entity


@strawberry.type
class Ownership:
    owner: Entity
    company: Company
    share: float | None
    start: date | None
    end: date | None
    share_min: float | None = strawberry.field(
        default=None, description="The lower end of a share given as a range (PSC band, BODS)."
    )
    share_max: float | None = strawberry.field(
        default=None, description="The upper end of a share given as a range."
    )
    provenance: Provenance | None = None

    @classmethod
    def of(cls, row: LinkRow, ctx: Context) -> Ownership:
        link = row.link
        owns = link if isinstance(link, model.Ownership) else None
        return cls(
            owner=_required(row.source, ctx, "owner"),
            company=_required(row.target, ctx, "company"),
            share=owns.share if owns is not None else None,
            start=link.start,
            end=link.end,
            share_min=owns.share_min if owns is not None else None,
            share_max=owns.share_max if owns is not None else None,
            provenance=Provenance.of(link),
        )


@strawberry.type
class Officer:
    person: Person
    company: Company
    role: str
    start: date | None
    end: date | None

    @classmethod
    def of(cls, row: LinkRow, ctx: Context) -> Officer:
        return cls(
            person=_required(row.source, ctx, "person"),
            company=_required(row.target, ctx, "company"),
            role=row.link.role.value if isinstance(row.link, model.Officer) else "",
            start=row.link.start,
            end=row.link.end,
        )


@strawberry.type
class AuditEvent:
    seq: int
    time: str
    key_id: str | None
    key_name: str | None
    role: str | None
    operation: str
    subject_ids: list[strawberry.ID]
    request_id: str | None
    result: str
    prev_hash: str
    hash: str

    @classmethod
    def of(cls, r: dict[str, Any]) -> AuditEvent:
        return cls(
            seq=int(r["seq"]),
            time=str(r["time"]),
            key_id=r.get("key_id"),
            key_name=r.get("key_name"),
            role=r.get("role"),
            operation=str(r["operation"]),
            subject_ids=[strawberry.ID(s) for s in r.get("subject_ids", [])],
            request_id=r.get("request_id"),
            result=str(r["result"]),
            prev_hash=str(r["prev_hash"]),
            hash=str(r["hash"]),
        )


# --- reports, ownership and paths ---------------------------------------------------------------


@strawberry.type
class PathLink:
    type: str
    from_: strawberry.ID = strawberry.field(name="from")
    to: strawberry.ID
    role: str | None
    share: float | None
    start: date | None
    end: date | None
    quantity: float | None = strawberry.field(
        description="What a SHIPPED link moved (supply links: start is the movement's date)"
    )

    @classmethod
    def of(cls, link: explain.PathLink) -> PathLink:
        return cls.from_doc(views.link_doc(link))

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> PathLink:
        """From :func:`api.views.link_doc`."""
        return cls(
            type=doc["type"],
            from_=strawberry.ID(doc["from"]),
            to=strawberry.ID(doc["to"]),
            role=doc["role"],
            share=doc["share"],
            start=_day(doc["start"]),
            end=_day(doc["end"]),
            quantity=doc.get("quantity"),
        )


@strawberry.type
class Path:
    """Entities in walking order and the links between them (an address on the way is not an
    ``Entity``: its links are listed, its node is not)."""

    node_ids: strawberry.Private[tuple[str, ...]]
    links: list[PathLink]

    @classmethod
    def of(cls, path: explain.Path) -> Path:
        return cls(node_ids=path.nodes, links=[PathLink.of(link) for link in path.links])

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Path:
        """From :func:`api.views.path_doc` (its nodes are loaded again when asked for)."""
        return cls(
            node_ids=tuple(node["id"] for node in doc["nodes"]),
            links=[PathLink.from_doc(link) for link in doc["links"]],
        )

    @strawberry.field
    async def nodes(self, info: Info[Context, None]) -> list[Entity]:
        found = await info.context.loaders.entity.load_many(list(self.node_ids))
        return [e for e in (to_entity(node, info.context) for node in found) if e]


@strawberry.type
class Deduction:
    points: int
    reason: str
    source: Sanction | None


@strawberry.type
class Restriction:
    measure: Measure  # type: ignore[valid-type]
    rule: str
    legal_basis: str
    source: Sanction
    path: Path
    disputed: bool

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Restriction:
        """From :func:`api.views.restriction_doc`."""
        return cls(
            measure=doc["measure"],
            rule=doc["rule"],
            legal_basis=doc["legalBasis"],
            source=Sanction.from_doc(doc["source"]),
            path=Path.from_doc(doc["path"]),
            disputed=doc["disputed"],
        )


@strawberry.type
class Incentive:
    """An incentive measure granted, by which rule, on which legal basis."""

    measure: Measure  # type: ignore[valid-type]
    rule: str
    legal_basis: str


@strawberry.type
class IncentiveBlocker:
    """What withholds an incentive: the record or commitment, and the path from the company to
    its subject (through the principal person, when it is theirs)."""

    sanction: Sanction | None
    commitment: Commitment | None
    restriction: Restriction | None
    path: Path | None


@strawberry.type
class WithheldIncentive:
    rule: str
    measures: list[Measure]  # type: ignore[valid-type]
    condition: str
    """The first failing condition's test (grade, no_restriction, ...)."""
    reason: str
    blocker: IncentiveBlocker | None


def _restriction(x: engine.Restriction | supply.Notice, rules: RuleSet) -> Restriction:
    return Restriction(
        measure=x.measure,
        rule=x.rule,
        legal_basis=x.legal_basis,
        source=Sanction.of(x.source, rules),
        path=Path.of(x.path),
        disputed=x.disputed,
    )


def _withheld(w: incentives.WithheldIncentive, ctx: Context, as_of: date) -> WithheldIncentive:
    doc = views.withheld_doc(w, {}, ctx.rules)
    b = w.blocker
    return WithheldIncentive(
        rule=doc["rule"],
        measures=list(w.measures),
        condition=doc["condition"],
        reason=doc["reason"],
        blocker=None
        if b is None
        else IncentiveBlocker(
            sanction=Sanction.of(b.sanction, ctx.rules) if b.sanction else None,
            commitment=Commitment.of(b.commitment, as_of) if b.commitment else None,
            restriction=_restriction(b.restriction, ctx.rules) if b.restriction else None,
            path=Path.of(b.path) if b.path is not None else None,
        ),
    )


@strawberry.type
class CreditReport:
    entity: Entity
    as_of: date
    score: int
    grade: Grade
    deductions: list[Deduction]
    sanctions: list[Sanction]
    restrictions: list[Restriction]
    incentives: list[Incentive]
    withheld_incentives: list[WithheldIncentive]
    supervision_class: Grade | None
    """A company's supervision class A-D (null for a person)."""
    notices: list[Restriction] = strawberry.field(
        description="A company's notices (recall notices of batches it received), shaped as "
        "restrictions, the path from the batch at fault; no score or incentive effect"
    )

    @classmethod
    def of(cls, r: report.CreditReport, ctx: Context) -> CreditReport:
        entity = to_entity(r.entity, ctx)
        assert entity is not None
        return cls(
            entity=entity,
            as_of=r.as_of,
            score=r.score,
            grade=Grade(r.grade.value),
            deductions=[
                Deduction(
                    points=d.points,
                    reason=d.reason,
                    source=Sanction.of(d.source, ctx.rules) if d.source else None,
                )
                for d in r.deductions
            ],
            sanctions=[Sanction.of(s.sanction, ctx.rules) for s in r.sanctions],
            restrictions=[_restriction(x, ctx.rules) for x in r.restrictions],
            incentives=[
                Incentive(measure=i.measure, rule=i.rule, legal_basis=i.legal_basis)
                for i in r.incentives
            ],
            withheld_incentives=[_withheld(w, ctx, r.as_of) for w in r.withheld],
            supervision_class=(
                Grade(r.supervision_class.value) if r.supervision_class is not None else None
            ),
            notices=[_restriction(x, ctx.rules) for x in r.notices],
        )


@strawberry.type
class BeneficialOwner:
    person: Person
    effective_share: float
    controls: bool
    paths: list[Path]
    effective_share_max: float = strawberry.field(
        description="The effective share on the maximums of share ranges (= effectiveShare "
        "when every share is exact)."
    )
    possible: bool = strawberry.field(
        description="Listed only because effectiveShareMax reaches the threshold."
    )

    @classmethod
    def of(cls, b: ownership.BeneficialOwner, ctx: Context) -> BeneficialOwner:
        high = b.effective_share_max
        return cls(
            person=Person.of(b.person, ctx),
            effective_share=b.effective_share,
            controls=b.controls,
            paths=[Path.of(p) for p in b.paths],
            effective_share_max=b.effective_share if high is None else high,
            possible=b.possible,
        )


@strawberry.type
class EffectiveHolding:
    entity: Entity
    effective_share: float
    controls: bool
    depth: int

    @classmethod
    def of(cls, h: ownership.EffectiveHolding, ctx: Context) -> EffectiveHolding:
        return cls(
            entity=_required(h.entity, ctx, "entity"),
            effective_share=h.effective_share,
            controls=h.controls,
            depth=h.depth,
        )
