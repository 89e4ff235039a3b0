"""The creditnet domain model: frozen node and link types and the enums of spec/DOMAIN.md.

Every type here is a plain value: no behaviour that needs a store, no I/O. Dates are
``datetime.date``; a missing date means "unknown" (for ``start``: since ever, for ``end``:
still valid).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from types import MappingProxyType
from typing import TypeAlias

__all__ = [
    "PRINCIPAL_ROLES",
    "Address",
    "Case",
    "CaseKind",
    "CaseStatus",
    "Company",
    "CompanyStatus",
    "Direction",
    "EntityKind",
    "Link",
    "LinkType",
    "Measure",
    "Node",
    "NodeLabel",
    "Officer",
    "OfficerRole",
    "Ownership",
    "Person",
    "Registration",
    "Sanction",
    "SanctionList",
    "SanctionStatus",
    "Scalar",
    "Severity",
    "link_valid_at",
    "normalize_search_text",
]

Scalar: TypeAlias = str | int | float | bool | None
"""A simple property value; extra CSV columns are kept as scalars."""

_EMPTY: Mapping[str, Scalar] = MappingProxyType({})


def _no_extra() -> Mapping[str, Scalar]:
    return _EMPTY


class NodeLabel(StrEnum):
    COMPANY = "Company"
    PERSON = "Person"
    ADDRESS = "Address"
    SANCTION = "Sanction"
    CASE = "Case"


class LinkType(StrEnum):
    OWNS = "OWNS"
    OFFICER_OF = "OFFICER_OF"
    REGISTERED_AT = "REGISTERED_AT"
    SANCTIONED = "SANCTIONED"


class Direction(StrEnum):
    """Which way a link is followed from the node at hand."""

    OUT = "OUT"
    IN = "IN"
    BOTH = "BOTH"


class EntityKind(StrEnum):
    COMPANY = "COMPANY"
    PERSON = "PERSON"


class CompanyStatus(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"
    DEREGISTERED = "deregistered"


class SanctionList(StrEnum):
    SERIOUS_DISHONEST = "SERIOUS_DISHONEST"
    DISHONEST_JUDGMENT_DEBTOR = "DISHONEST_JUDGMENT_DEBTOR"
    MAJOR_TAX_VIOLATION = "MAJOR_TAX_VIOLATION"
    MARKET_BAN = "MARKET_BAN"
    ABNORMAL_OPERATION = "ABNORMAL_OPERATION"
    ADMIN_PENALTY = "ADMIN_PENALTY"

    @property
    def default_severity(self) -> Severity | None:
        """The severity when the source does not say (None: as recorded)."""
        return _DEFAULT_SEVERITY.get(self)


class Severity(StrEnum):
    MINOR = "minor"
    GENERAL = "general"
    SERIOUS = "serious"


_DEFAULT_SEVERITY: dict[SanctionList, Severity] = {
    SanctionList.SERIOUS_DISHONEST: Severity.SERIOUS,
    SanctionList.DISHONEST_JUDGMENT_DEBTOR: Severity.SERIOUS,
    SanctionList.MAJOR_TAX_VIOLATION: Severity.SERIOUS,
    SanctionList.MARKET_BAN: Severity.SERIOUS,
    SanctionList.ABNORMAL_OPERATION: Severity.GENERAL,
}


class SanctionStatus(StrEnum):
    ACTIVE = "active"
    REPAIRED = "repaired"
    REVOKED = "revoked"


class OfficerRole(StrEnum):
    LEGAL_REPRESENTATIVE = "legal_representative"
    CHAIRMAN = "chairman"
    DIRECTOR = "director"
    SUPERVISOR = "supervisor"
    GENERAL_MANAGER = "general_manager"
    MANAGER = "manager"
    ACTUAL_CONTROLLER = "actual_controller"
    OTHER = "other"


PRINCIPAL_ROLES: frozenset[OfficerRole] = frozenset(
    {OfficerRole.LEGAL_REPRESENTATIVE, OfficerRole.CHAIRMAN, OfficerRole.GENERAL_MANAGER}
)
"""The *principal responsible persons* of a company (DOMAIN.md)."""


class Measure(StrEnum):
    PROCUREMENT_BAN = "PROCUREMENT_BAN"
    BIDDING_BAN = "BIDDING_BAN"
    SUBSIDY_BAN = "SUBSIDY_BAN"
    FINANCING_RESTRICTION = "FINANCING_RESTRICTION"
    HIGH_CONSUMPTION_BAN = "HIGH_CONSUMPTION_BAN"
    OFFICER_APPOINTMENT_BAN = "OFFICER_APPOINTMENT_BAN"
    MARKET_ENTRY_BAN = "MARKET_ENTRY_BAN"
    HONOR_BAN = "HONOR_BAN"
    ENHANCED_SUPERVISION = "ENHANCED_SUPERVISION"


def normalize_search_text(text: str) -> str:
    """The form names are indexed and searched in: NFKC, case-folded, whitespace collapsed.

    >>> normalize_search_text("  ＡＢＣ  Trading\\tCo ")
    'abc trading co'
    """
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def link_valid_at(start: date | None, end: date | None, as_of: date) -> bool:
    """A link counts when ``start <= as_of < end``; a missing bound is open."""
    return (start is None or start <= as_of) and (end is None or as_of < end)


@dataclass(frozen=True, slots=True)
class Company:
    id: str
    name: str
    jurisdiction: str | None = None
    status: CompanyStatus | None = None
    founded: date | None = None
    dissolved: date | None = None
    registered_capital: float | None = None
    industry: str | None = None
    extra: Mapping[str, Scalar] = field(default_factory=_no_extra)

    label = NodeLabel.COMPANY
    kind = EntityKind.COMPANY


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    name: str
    nationality: str | None = None
    birth_year: int | None = None
    national_id_hash: str | None = None
    """A salted SHA-256 of the national ID number; the raw number is never stored."""
    extra: Mapping[str, Scalar] = field(default_factory=_no_extra)

    label = NodeLabel.PERSON
    kind = EntityKind.PERSON


@dataclass(frozen=True, slots=True)
class Address:
    id: str
    text: str
    region: str | None = None
    extra: Mapping[str, Scalar] = field(default_factory=_no_extra)

    label = NodeLabel.ADDRESS


@dataclass(frozen=True, slots=True)
class Sanction:
    """A record on one of the lists, about one subject (company or person)."""

    id: str
    subject_id: str
    list: SanctionList
    authority: str | None = None
    severity: Severity | None = None
    fine: float | None = None
    decided: date | None = None
    start: date | None = None
    end: date | None = None
    legal_basis: str | None = None
    description: str | None = None
    status: SanctionStatus = SanctionStatus.ACTIVE
    status_date: date | None = None
    disputed: bool = False
    extra: Mapping[str, Scalar] = field(default_factory=_no_extra)

    label = NodeLabel.SANCTION

    @property
    def effective_start(self) -> date | None:
        """The day the record starts to count: its start, else the day it was decided."""
        return self.start if self.start is not None else self.decided

    @property
    def effective_severity(self) -> Severity:
        """The recorded severity, else the list's default, else ``general``."""
        return self.severity or self.list.default_severity or Severity.GENERAL


class CaseKind(StrEnum):
    """The due-process procedures a :class:`Case` records."""

    OBJECTION = "objection"
    CREDIT_REPAIR = "credit_repair"
    MARKET_BAN_REVIEW = "market_ban_review"


class CaseStatus(StrEnum):
    OPEN = "open"
    UPHELD = "upheld"
    """An objection found right: the record is revoked."""
    REJECTED = "rejected"
    APPROVED = "approved"
    """A repair or a market ban granted."""


@dataclass(frozen=True, slots=True)
class Case:
    """One due-process procedure: an objection or a repair application about a sanction record,
    or a market-ban review of an entity; with who filed and decided it, when, and why.

    ``version`` counts the changes to the case: a decision names the version it was made on, and
    a store refuses it (:class:`graph.errors.Conflict`) when someone decided in between.
    """

    id: str
    kind: CaseKind
    subject_id: str
    """The sanction record (objection, credit repair) or the entity (market-ban review)."""
    status: CaseStatus = CaseStatus.OPEN
    version: int = 1
    filed: date | None = None
    due: date | None = None
    decided: date | None = None
    reason: str | None = None
    decision_reason: str | None = None
    filed_by: str | None = None
    decided_by: str | None = None
    evidence: str | None = None
    """A JSON document: the records, dates and paths the case rests on."""
    extra: Mapping[str, Scalar] = field(default_factory=_no_extra)

    label = NodeLabel.CASE


Node: TypeAlias = Company | Person | Address | Sanction | Case


@dataclass(frozen=True, slots=True)
class Ownership:
    """OWNS: ``owner_id`` (person or company) holds ``share`` percent of ``company_id``."""

    owner_id: str
    company_id: str
    share: float | None = None
    start: date | None = None
    end: date | None = None
    extra: Mapping[str, Scalar] = field(default_factory=_no_extra)

    type = LinkType.OWNS

    @property
    def source(self) -> str:
        return self.owner_id

    @property
    def target(self) -> str:
        return self.company_id

    @property
    def key(self) -> str:
        """The natural key (owner_id, company_id, start) as one string."""
        return f"OWNS|{self.owner_id}|{self.company_id}|{_iso(self.start)}"

    def valid_at(self, as_of: date) -> bool:
        return link_valid_at(self.start, self.end, as_of)


@dataclass(frozen=True, slots=True)
class Officer:
    """OFFICER_OF: ``person_id`` holds ``role`` in ``company_id``."""

    person_id: str
    company_id: str
    role: OfficerRole
    start: date | None = None
    end: date | None = None
    extra: Mapping[str, Scalar] = field(default_factory=_no_extra)

    type = LinkType.OFFICER_OF

    @property
    def source(self) -> str:
        return self.person_id

    @property
    def target(self) -> str:
        return self.company_id

    @property
    def key(self) -> str:
        """The natural key (person_id, company_id, role, start) as one string."""
        return f"OFFICER_OF|{self.person_id}|{self.company_id}|{self.role.value}|{_iso(self.start)}"

    def valid_at(self, as_of: date) -> bool:
        return link_valid_at(self.start, self.end, as_of)


@dataclass(frozen=True, slots=True)
class Registration:
    """REGISTERED_AT: a company or person is registered at an address."""

    entity_id: str
    address_id: str
    start: date | None = None
    end: date | None = None
    extra: Mapping[str, Scalar] = field(default_factory=_no_extra)

    type = LinkType.REGISTERED_AT

    @property
    def source(self) -> str:
        return self.entity_id

    @property
    def target(self) -> str:
        return self.address_id

    @property
    def key(self) -> str:
        return f"REGISTERED_AT|{self.entity_id}|{self.address_id}|{_iso(self.start)}"

    def valid_at(self, as_of: date) -> bool:
        return link_valid_at(self.start, self.end, as_of)


Link: TypeAlias = Ownership | Officer | Registration
"""A stored relationship with its own properties (SANCTIONED is implied by Sanction.subject_id)."""


def _iso(value: date | None) -> str:
    return value.isoformat() if value is not None else ""
