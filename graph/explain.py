"""Explanations: the one path type every derived answer carries, and typed evidence.

A restriction, an ownership share, a cycle, a path between two entities, a shell signal and a
market-ban candidate all explain themselves with a :class:`Path`: the ids of the nodes in walking
order and one :class:`PathLink` between each two, each link in its own stored direction with its
role, share and dates. Names are not part of an explanation: they are looked up where the answer
is shown (``api/views.py``), so an explanation stays true when a name is corrected.

Besides stored links (:class:`graph.model.LinkType`) a path can show a *derived* link
(:class:`DerivedLinkType`): ``CONTROLS``, the conclusion of the control arithmetic that one entity
controls a company (by majority ownership, directly or through companies it controls, or as a
recorded actual controller). It is stated where the chain of holdings behind it would not fit one
path, as in the evidence of a phoenix company.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TypeAlias

from graph.model import (
    Link,
    LinkType,
    Officer,
    OfficerRole,
    Ownership,
    Produced,
    Registration,
    Sanction,
    Shipped,
    TransformedInto,
)

__all__ = [
    "BannedOfficerEvidence",
    "CircularOwnershipEvidence",
    "DerivedLinkType",
    "Evidence",
    "NomineeEvidence",
    "OpaqueOwnershipEvidence",
    "Path",
    "PathLink",
    "PathLinkType",
    "PhoenixEvidence",
    "PhoenixVia",
    "SharedAddressEvidence",
    "path_node_ids",
]


class DerivedLinkType(StrEnum):
    """Links a path can show that are concluded, not stored."""

    CONTROLS = "CONTROLS"
    """``source`` controls company ``target`` (spec: recursive majority control or a recorded
    actual controller)."""


PathLinkType: TypeAlias = LinkType | DerivedLinkType


@dataclass(frozen=True, slots=True)
class PathLink:
    """One link of a path, as stored (``source`` -> ``target``), whichever way it was walked.

    ``role`` is set on OFFICER_OF links, ``share`` (percent) on OWNS links that record one;
    ``start`` and ``end`` are the link's own validity (empty: open); a supply link's ``start``
    is its date, and ``quantity`` the quantity a SHIPPED link moved.
    """

    type: PathLinkType
    source: str
    target: str
    role: OfficerRole | None = None
    share: float | None = None
    start: date | None = None
    end: date | None = None
    quantity: float | None = None

    @classmethod
    def of(cls, link: Link) -> PathLink:
        """The path link of a stored link.

        >>> PathLink.of(Ownership("P1", "C1", 60.0))
        PathLink(type=<LinkType.OWNS: 'OWNS'>, source='P1', target='C1', role=None, share=60.0, \
start=None, end=None, quantity=None)
        """
        if isinstance(link, Shipped):
            return cls(link.type, link.source, link.target, start=link.date, quantity=link.quantity)
        if isinstance(link, (Produced, TransformedInto)):
            return cls(link.type, link.source, link.target, start=link.date)
        if isinstance(link, Ownership):
            return cls(
                LinkType.OWNS,
                link.owner_id,
                link.company_id,
                None,
                link.share,
                link.start,
                link.end,
            )
        if isinstance(link, Officer):
            return cls(
                LinkType.OFFICER_OF,
                link.person_id,
                link.company_id,
                link.role,
                None,
                *_dates(link),
            )
        assert isinstance(link, Registration)
        return cls(
            LinkType.REGISTERED_AT,
            link.entity_id,
            link.address_id,
            None,
            None,
            link.start,
            link.end,
        )

    @classmethod
    def controls(cls, controller_id: str, company_id: str) -> PathLink:
        """A derived CONTROLS link."""
        return cls(DerivedLinkType.CONTROLS, controller_id, company_id)

    @property
    def label(self) -> str:
        """``OFFICER_OF legal_representative``, ``OWNS 60%`` or ``CONTROLS``."""
        text = self.type.value
        if self.role is not None:
            text += f" {self.role.value}"
        if self.share is not None:
            text += f" {self.share:g}%"
        return text

    def sort_key(self) -> tuple[str, str, str, str, float, str]:
        role = self.role.value if self.role is not None else ""
        share = self.share if self.share is not None else -1.0
        start = self.start.isoformat() if self.start is not None else ""
        return (self.type.value, self.source, self.target, role, share, start)


@dataclass(frozen=True, slots=True)
class Path:
    """Node ids in walking order and the links between consecutive ones.

    A one-node path (no links) explains what an entity has of its own, such as a restriction
    from its own sanction record.
    """

    nodes: tuple[str, ...]
    links: tuple[PathLink, ...] = ()

    def __post_init__(self) -> None:
        if not self.nodes or len(self.links) != len(self.nodes) - 1:
            raise ValueError("a path has one link fewer than nodes, and at least one node")

    @property
    def subject_id(self) -> str:
        """The first node (for a restriction: the sanctioned subject)."""
        return self.nodes[0]

    @property
    def entity_id(self) -> str:
        """The last node (for a restriction: the restricted entity)."""
        return self.nodes[-1]

    @property
    def hops(self) -> int:
        return len(self.links)

    def sort_key(
        self,
    ) -> tuple[int, tuple[str, ...], tuple[tuple[str, str, str, str, float, str], ...]]:
        return (len(self.nodes), self.nodes, tuple(link.sort_key() for link in self.links))

    def describe(self, names: Mapping[str, str] | None = None) -> str:
        """The path as text, links pointing the way they are stored.

        Examples
        --------
        >>> path = Path(("c1", "p1"), (PathLink(LinkType.OFFICER_OF, "p1", "c1",
        ...                                     role=OfficerRole.LEGAL_REPRESENTATIVE),))
        >>> path.describe({"c1": "Acme"})
        'Acme <-[OFFICER_OF legal_representative]- p1'
        """
        names = names or {}
        text = names.get(self.nodes[0], self.nodes[0])
        for link, node in zip(self.links, self.nodes[1:], strict=True):
            arrow = f" -[{link.label}]-> " if link.target == node else f" <-[{link.label}]- "
            text += arrow + names.get(node, node)
        return text


def _dates(link: Link) -> tuple[date | None, date | None]:
    return (link.start, link.end)


def path_node_ids(paths: Iterable[Path]) -> set[str]:
    """Every node id on ``paths`` (what a view must name)."""
    return {node for path in paths for node in path.nodes}


# -- evidence of shell signals and market-ban candidates ----------------------------------------


@dataclass(frozen=True, slots=True)
class SharedAddressEvidence:
    """Many companies registered at the entity's address."""

    address_id: str
    address: str
    """The address text as registered."""
    companies: int
    sample: tuple[str, ...]
    """Some of those companies (at most the configured sample size), by id."""
    threshold: int


@dataclass(frozen=True, slots=True)
class NomineeEvidence:
    """A person holding positions in many companies (a likely nominee officer)."""

    person_id: str
    companies: int
    roles: tuple[OfficerRole, ...]
    """The person's roles in the entity at hand (empty when the entity is the person)."""
    sample: tuple[str, ...]
    threshold: int


@dataclass(frozen=True, slots=True)
class OpaqueOwnershipEvidence:
    """Layers of companies above a company and no natural person owning or controlling it."""

    layers: int
    upstream_companies: int
    upstream_persons: int
    top_persons: tuple[tuple[str, float], ...]
    """The persons with the largest effective shares (id, percent), at most five."""
    threshold: int


@dataclass(frozen=True, slots=True)
class CircularOwnershipEvidence:
    """Ownership cycles through a company; each path starts and ends at the same node."""

    cycles: tuple[Path, ...]


class PhoenixVia(StrEnum):
    PRINCIPAL = "principal"
    """A principal responsible person of both companies."""
    CONTROLLER = "controller"
    """An owner or actual controller that controls both companies."""


@dataclass(frozen=True, slots=True)
class PhoenixEvidence:
    """A company founded soon after a ban or dishonesty record on a company it shares a principal
    responsible person or a controller with.

    ``path`` runs from the sanctioned predecessor through the shared person or controller to the
    new company: OFFICER_OF links for a principal (with the role held then and now), derived
    CONTROLS links for a controller.
    """

    company_id: str
    founded: date
    predecessor_id: str
    sanction: Sanction
    sanction_start: date
    via: PhoenixVia
    shared_id: str
    """The person (``principal``) or controller (``controller``) the two companies share."""
    roles_then: tuple[OfficerRole, ...]
    """The shared principal's roles in the predecessor when the record started."""
    roles_now: tuple[OfficerRole, ...]
    """The shared principal's roles in the new company."""
    path: Path

    @property
    def summary(self) -> str:
        """One sentence: when the company was founded after which record, and what it shares."""
        days = (self.founded - self.sanction_start).days
        return (
            f"founded {self.founded.isoformat()}, {days} days after {self.sanction.list} "
            f"against {self.predecessor_id}, which shares {self.shared_id} with it"
        )


@dataclass(frozen=True, slots=True)
class BannedOfficerEvidence:
    """A person barred from office (``OFFICER_APPOINTMENT_BAN``, by the rule engine at the date)
    who still holds offices in force.

    ``path`` is the ban's: from the record's subject to the person (the person alone when the
    record is their own). ``offices`` are the person's OFFICER_OF links in force.
    """

    person_id: str
    rule: str
    legal_basis: str
    sanction: Sanction
    path: Path
    offices: tuple[PathLink, ...]
    bans: int
    """How many (rule, record) pairs ban the person; the evidence shows the first."""

    @property
    def summary(self) -> str:
        """One sentence: who is banned by what, and how many offices they still hold."""
        held = ", ".join(
            f"{link.role.value if link.role else 'officer'} of {link.target}"
            for link in self.offices[:3]
        )
        more = f" and {len(self.offices) - 3} more" if len(self.offices) > 3 else ""
        return (
            f"{self.person_id} is barred from office ({self.rule}, from {self.sanction.list} "
            f"{self.sanction.id}) but holds {len(self.offices)} "
            f"office{'' if len(self.offices) == 1 else 's'} in force: {held}{more}"
        )


Evidence: TypeAlias = (
    SharedAddressEvidence
    | NomineeEvidence
    | OpaqueOwnershipEvidence
    | CircularOwnershipEvidence
    | PhoenixEvidence
    | BannedOfficerEvidence
)
"""What a shell signal rests on, one type per signal kind."""
