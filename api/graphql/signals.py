"""``cycles`` and ``signals``: circular ownership and shell-company signals, with typed evidence.

Each answer is shaped by :mod:`api.views` (``cycle_doc``, ``signal_doc``) and the types below are
built from those documents, so ``creditnet cycles|signals --json`` and these fields agree. The
evidence of a signal is a union, one type per signal kind.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from api import views
from api.auth import Role
from api.graphql.blocking import blocking
from api.graphql.context import Context
from api.graphql.due_process_types import CandidateLink
from api.graphql.types import Path, PathLink
from graph.errors import InvalidInput
from graph.explain import PhoenixEvidence
from queries import shell
from queries.cycles import ownership_cycles

__all__ = ["SignalsQuery"]

SignalKind = strawberry.enum(shell.SignalKind, name="SignalKind")


@strawberry.type
class Cycle:
    """An ownership cycle: ``path`` starts and ends at its smallest id, each node holding shares
    of the next; ``share`` is the product of the shares around it (null: a share is unknown)."""

    path: Path
    length: int
    share: float | None

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Cycle:
        nodes = [*doc["nodes"], doc["nodes"][0]] if doc["nodes"] else []
        return cls(
            path=Path.from_doc({"nodes": nodes, "links": doc["links"]}),
            length=doc["length"],
            share=doc["share"],
        )


@strawberry.type
class SharedAddressEvidence:
    address_id: strawberry.ID
    address: str
    companies: int
    sample: list[strawberry.ID]
    threshold: int


@strawberry.type
class NomineeEvidence:
    person_id: strawberry.ID
    companies: int
    roles: list[str]
    """The person's roles in the entity asked about (empty when it is the person)."""
    sample: list[strawberry.ID]
    threshold: int


@strawberry.type
class PersonShare:
    person_id: strawberry.ID
    effective_share: float


@strawberry.type
class OpaqueOwnershipEvidence:
    layers: int
    upstream_companies: int
    upstream_persons: int
    top_persons: list[PersonShare]
    threshold: int


@strawberry.type
class CircularOwnershipEvidence:
    cycles: list[Path]


@strawberry.type
class BannedOfficerEvidence:
    """A person barred from office who holds offices in force: the ban's rule, record and path
    (from the record's subject to the person), and the offices."""

    person_id: strawberry.ID
    measure: str
    rule: str
    legal_basis: str
    sanction_id: strawberry.ID
    list_: str = strawberry.field(name="list")
    path: Path
    offices: list[PathLink]
    bans: int


SignalEvidence = Annotated[
    SharedAddressEvidence
    | NomineeEvidence
    | OpaqueOwnershipEvidence
    | CircularOwnershipEvidence
    | CandidateLink
    | BannedOfficerEvidence,
    strawberry.union("SignalEvidence"),
]


def _evidence(kind: shell.SignalKind, doc: dict[str, Any], signal: shell.Signal) -> Any:
    ids = [strawberry.ID(i) for i in doc.get("sample", [])]
    match kind:
        case shell.SignalKind.SHARED_ADDRESS:
            return SharedAddressEvidence(
                address_id=strawberry.ID(doc["addressId"]),
                address=doc["address"],
                companies=doc["companies"],
                sample=ids,
                threshold=doc["threshold"],
            )
        case shell.SignalKind.NOMINEE_OFFICER:
            return NomineeEvidence(
                person_id=strawberry.ID(doc["personId"]),
                companies=doc["companies"],
                roles=doc["roles"],
                sample=ids,
                threshold=doc["threshold"],
            )
        case shell.SignalKind.OPAQUE_OWNERSHIP:
            return OpaqueOwnershipEvidence(
                layers=doc["layers"],
                upstream_companies=doc["upstreamCompanies"],
                upstream_persons=doc["upstreamPersons"],
                top_persons=[
                    PersonShare(
                        person_id=strawberry.ID(p["personId"]),
                        effective_share=p["effectiveShare"],
                    )
                    for p in doc["topPersons"]
                ],
                threshold=doc["threshold"],
            )
        case shell.SignalKind.CIRCULAR_OWNERSHIP:
            return CircularOwnershipEvidence(cycles=[Path.from_doc(c) for c in doc["cycles"]])
        case shell.SignalKind.BANNED_OFFICER:
            return BannedOfficerEvidence(
                person_id=strawberry.ID(doc["personId"]),
                measure=doc["measure"],
                rule=doc["rule"],
                legal_basis=doc["legalBasis"],
                sanction_id=strawberry.ID(doc["sanctionId"]),
                list_=doc["list"],
                path=Path.from_doc(doc["path"]),
                offices=[PathLink.from_doc(link) for link in doc["offices"]],
                bans=doc["bans"],
            )
        case shell.SignalKind.PHOENIX:
            assert isinstance(signal.evidence, PhoenixEvidence)
            return CandidateLink.of(signal.evidence)


@strawberry.type
class Signal:
    kind: SignalKind  # type: ignore[valid-type]
    summary: str
    evidence: SignalEvidence

    @classmethod
    def of(cls, signal: shell.Signal) -> Signal:
        # Names come from the entity loader when a client asks for a path's nodes.
        doc = views.signal_doc(signal, {})
        return cls(
            kind=signal.kind,
            summary=doc["summary"],
            evidence=_evidence(signal.kind, doc["evidence"], signal),
        )


@strawberry.type
class SignalsQuery:
    """Mixed into ``Query`` (api/graphql/schema.py)."""

    @strawberry.field
    async def cycles(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
        as_of: date | None = None,
        max_length: int = 10,
    ) -> list[Cycle]:
        """The ownership cycles ``id`` takes part in at ``asOf`` (default today), shortest first,
        with the product of the shares around each (investigator+)."""
        ctx = info.context
        ctx.require(Role.INVESTIGATOR, "ownership cycles")
        if not 2 <= max_length <= 20:
            raise InvalidInput("maxLength must be between 2 and 20")
        found = await blocking(
            ownership_cycles, ctx.store, str(id), as_of or ctx.today(), max_length=max_length
        )
        return [Cycle.from_doc(views.cycle_doc(c, {})) for c in found]

    @strawberry.field
    async def signals(
        self, info: Info[Context, None], id: strawberry.ID, as_of: date | None = None
    ) -> list[Signal]:
        """The shell-company signals of a company or person at ``asOf`` (default today), each
        with its typed evidence; thresholds are the server's (CREDITNET_REVIEW__SHELL__*)
        (investigator+)."""
        ctx = info.context
        ctx.require(Role.INVESTIGATOR, "shell-company signals")
        found = await blocking(
            shell.shell_signals,
            ctx.store,
            str(id),
            as_of or ctx.today(),
            ctx.review.shell,
            ctx.rules,
        )
        return [Signal.of(s) for s in found]
