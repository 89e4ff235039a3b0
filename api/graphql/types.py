"""GraphQL types (spec/GRAPHQL.md). Resolvers are thin: they ask a loader and wrap the answer."""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from datetime import date
from enum import Enum
from typing import Any, Generic, TypeVar

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from api.auth import Role
from api.graphql.context import Context
from api.graphql.loaders import LinkKey, LinkRow
from graph import model
from graph.errors import InvalidInput
from graph.rules import engine
from queries import due_process, ownership, paths, report

__all__ = [
    "AuditEvent",
    "Case",
    "Company",
    "Connection",
    "Direction",
    "Entity",
    "EntityKind",
    "MarketBanCandidate",
    "MarketBanDecision",
    "ObjectionOutcome",
    "Officer",
    "Ownership",
    "Person",
    "Sanction",
    "paginate",
    "to_entity",
]

T = TypeVar("T")

EntityKind = strawberry.enum(model.EntityKind, name="EntityKind")
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
    rows = await loader.load((entity_id, as_of or date.today()))
    return paginate([wrap(row, ctx) for row in rows], size, after)


# --- nodes --------------------------------------------------------------------------------------


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
    disputed: bool

    @classmethod
    def of(cls, s: model.Sanction) -> Sanction:
        return cls(
            id=strawberry.ID(s.id),
            subject_id=strawberry.ID(s.subject_id),
            list_=s.list.value,
            authority=s.authority,
            severity=s.effective_severity.value,
            fine=s.fine,
            decided=s.decided,
            start=s.start,
            end=s.end,
            legal_basis=s.legal_basis,
            description=s.description,
            status=s.status.value,
            disputed=s.disputed,
        )


def _in_force(s: model.Sanction, as_of: date) -> bool:
    if s.status is not model.SanctionStatus.ACTIVE:
        return False
    start = s.effective_start
    return (start is None or start <= as_of) and (s.end is None or as_of < s.end)


async def _sanctions(
    info: Info[Context, None], entity_id: str, as_of: date | None, include_ended: bool
) -> list[Sanction]:
    records = await info.context.loaders.sanctions.load(entity_id)
    day = as_of or date.today()
    return [Sanction.of(s) for s in records if include_ended or _in_force(s, day)]


@strawberry.interface
class Entity:
    id: strawberry.ID
    name: str
    kind: EntityKind  # type: ignore[valid-type]


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

    @classmethod
    def of(cls, row: LinkRow, ctx: Context) -> Ownership:
        return cls(
            owner=_required(row.source, ctx, "owner"),
            company=_required(row.target, ctx, "company"),
            share=row.link.share if isinstance(row.link, model.Ownership) else None,
            start=row.link.start,
            end=row.link.end,
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


@strawberry.type
class Path:
    nodes: list[Entity]
    links: list[PathLink]

    @classmethod
    def of_ids(cls, path: engine.Path, nodes: Mapping[str, object], ctx: Context) -> Path:
        return cls(
            nodes=[e for e in (to_entity(nodes.get(i), ctx) for i in path.nodes) if e],
            links=[
                PathLink(
                    type=link.type.value,
                    from_=strawberry.ID(link.from_id),
                    to=strawberry.ID(link.to_id),
                    role=link.role.value if link.role else None,
                    share=link.share,
                )
                for link in path.links
            ],
        )

    @classmethod
    def of_nodes(cls, path: paths.Path, ctx: Context) -> Path:
        return cls(
            nodes=[e for e in (to_entity(n, ctx) for n in path.nodes) if e],
            links=[
                PathLink(
                    type=link.type.value,
                    from_=strawberry.ID(link.source),
                    to=strawberry.ID(link.target),
                    role=link.role.value if link.role else None,
                    share=link.share,
                )
                for link in path.links
            ],
        )


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


@strawberry.type
class CreditReport:
    entity: Entity
    as_of: date
    score: int
    grade: Grade
    deductions: list[Deduction]
    sanctions: list[Sanction]
    restrictions: list[Restriction]

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
                    source=Sanction.of(d.source) if d.source else None,
                )
                for d in r.deductions
            ],
            sanctions=[Sanction.of(s.sanction) for s in r.sanctions],
            restrictions=[
                Restriction(
                    measure=x.measure,
                    rule=x.rule,
                    legal_basis=x.legal_basis,
                    source=Sanction.of(x.source),
                    path=Path.of_ids(x.path, r.nodes, ctx),
                    disputed=x.disputed,
                )
                for x in r.restrictions
            ],
        )


@strawberry.type
class BeneficialOwner:
    person: Person
    effective_share: float
    controls: bool
    paths: list[Path]

    @classmethod
    def of(cls, b: ownership.BeneficialOwner, ctx: Context) -> BeneficialOwner:
        return cls(
            person=Person.of(b.person, ctx),
            effective_share=b.effective_share,
            controls=b.controls,
            paths=[Path.of_nodes(p, ctx) for p in b.paths],
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


# --- due process (market-ban review, objections, credit repair) -----------------------------------

CandidateKind = strawberry.enum(due_process.CandidateKind, name="CandidateKind")
CaseKind = strawberry.enum(model.CaseKind, name="CaseKind")
CaseStatus = strawberry.enum(model.CaseStatus, name="CaseStatus")


@strawberry.enum
class ObjectionOutcome(Enum):
    UPHOLD = "UPHOLD"
    REJECT = "REJECT"


@strawberry.type
class EvidenceRecord:
    """A sanction record a market-ban candidate rests on, and the part it plays."""

    role: str
    sanction: Sanction


@strawberry.type
class CandidateLink:
    """How a likely phoenix is tied to its sanctioned predecessor."""

    via: str
    summary: str
    sanction_id: strawberry.ID
    predecessor_id: strawberry.ID
    path: Path


@strawberry.type
class MarketBanCandidate:
    id: strawberry.ID
    entity: Entity
    kind: CandidateKind  # type: ignore[valid-type]
    summary: str
    evidence: list[EvidenceRecord]
    links: list[CandidateLink]

    @classmethod
    def of(cls, c: due_process.Candidate, ctx: Context) -> MarketBanCandidate:
        entity = to_entity(c.entity, ctx)
        assert entity is not None
        path_ids = {i for link in c.links for i in link["path"]["nodes"]}
        nodes = ctx.store.get_many(path_ids) if path_ids else {}
        links: list[CandidateLink] = []
        for link in c.links:
            path = link["path"]
            links.append(
                CandidateLink(
                    via=str(link["via"]),
                    summary=str(link["summary"]),
                    sanction_id=strawberry.ID(str(link["sanctionId"])),
                    predecessor_id=strawberry.ID(str(link["sanctionedCompanyId"])),
                    path=Path(
                        nodes=[
                            e for e in (to_entity(nodes.get(i), ctx) for i in path["nodes"]) if e
                        ],
                        links=[
                            PathLink(
                                type=str(step["type"]),
                                from_=strawberry.ID(str(step["from"])),
                                to=strawberry.ID(str(step["to"])),
                                role=", ".join(step["roles"]) or None,
                                share=None,
                            )
                            for step in path["links"]
                        ],
                    ),
                )
            )
        return cls(
            id=strawberry.ID(c.id),
            entity=entity,
            kind=c.kind,
            summary=c.summary,
            evidence=[
                EvidenceRecord(role=r.role, sanction=Sanction.of(r.sanction)) for r in c.records
            ],
            links=links,
        )


@strawberry.type
class Case:
    """A due-process case: an objection or repair application about a record, or a market-ban
    review of an entity. ``version`` is what a decision names to be refused when stale."""

    id: strawberry.ID
    kind: CaseKind  # type: ignore[valid-type]
    subject_id: strawberry.ID
    status: CaseStatus  # type: ignore[valid-type]
    version: int
    filed: date | None
    due: date | None
    decided: date | None
    reason: str | None
    decision_reason: str | None
    filed_by: str | None
    decided_by: str | None
    evidence: str | None
    """A JSON document: what the case rests on."""
    commitment: str | None
    fine_paid: bool | None

    @classmethod
    def of(cls, c: model.Case) -> Case:
        commitment = c.extra.get("commitment")
        fine_paid = c.extra.get("fine_paid")
        return cls(
            id=strawberry.ID(c.id),
            kind=c.kind,
            subject_id=strawberry.ID(c.subject_id),
            status=c.status,
            version=c.version,
            filed=c.filed,
            due=c.due,
            decided=c.decided,
            reason=c.reason,
            decision_reason=c.decision_reason,
            filed_by=c.filed_by,
            decided_by=c.decided_by,
            evidence=c.evidence,
            commitment=str(commitment) if commitment is not None else None,
            fine_paid=bool(fine_paid) if fine_paid is not None else None,
        )

    @strawberry.field
    async def sanction(self, info: Info[Context, None]) -> Sanction | None:
        """The record an objection or repair is about, or the ban a review approved."""
        extra_id: str | None = None
        if self.kind is model.CaseKind.MARKET_BAN_REVIEW:
            node = await info.context.loaders.entity.load(str(self.id))
            if isinstance(node, model.Case):
                found = node.extra.get("sanction_id")
                extra_id = str(found) if found is not None else None
            if extra_id is None:
                return None
        record = await info.context.loaders.entity.load(extra_id or str(self.subject_id))
        return Sanction.of(record) if isinstance(record, model.Sanction) else None


@strawberry.type
class MarketBanDecision:
    case: Case
    sanction: Sanction | None
    """The MARKET_BAN record an approval created (null for a rejection)."""
