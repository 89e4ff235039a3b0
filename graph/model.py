"""The creditnet domain model: frozen node and link types and the enums of spec/DOMAIN.md.

Every type here is a plain value: no behaviour that needs a store, no I/O. Dates are
``datetime.date``; a missing date means "unknown" (for ``start``: since ever, for ``end``:
still valid).
"""

from __future__ import annotations

import datetime as dt
import functools
import sys
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from types import MappingProxyType
from typing import Final, TypeAlias, cast

__all__ = [
    "PRINCIPAL_ROLES",
    "SEARCH_FORM_VERSION",
    "SUPPLY_LINK_TYPES",
    "Address",
    "Batch",
    "Case",
    "CaseKind",
    "CaseStatus",
    "Commitment",
    "CommitmentKind",
    "CommitmentOutcome",
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
    "Produced",
    "Product",
    "ProductCategory",
    "Registration",
    "Sanction",
    "SanctionList",
    "SanctionStatus",
    "Scalar",
    "Severity",
    "Shipped",
    "SupplyLink",
    "TransformedInto",
    "link_valid_at",
    "list_name",
    "measure_name",
    "normalize_search_text",
    "search_text",
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
    COMMITMENT = "Commitment"
    PRODUCT = "Product"
    BATCH = "Batch"


class LinkType(StrEnum):
    OWNS = "OWNS"
    OFFICER_OF = "OFFICER_OF"
    REGISTERED_AT = "REGISTERED_AT"
    SANCTIONED = "SANCTIONED"
    COMMITTED = "COMMITTED"
    PRODUCED = "PRODUCED"
    SHIPPED = "SHIPPED"
    TRANSFORMED_INTO = "TRANSFORMED_INTO"


SUPPLY_LINK_TYPES: Final = frozenset(
    {LinkType.PRODUCED, LinkType.SHIPPED, LinkType.TRANSFORMED_INTO}
)
"""The movements of goods (spec/TRACEABILITY.md): each counts from its date, with no end."""


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
    """Names of shipped catalogue entries that the code refers to, not the catalogue.

    The lists a record can be on are data: the ``lists:`` catalogue of the rules file in force
    (:attr:`graph.rules.schema.RuleSet.catalogue`), where an agency adds its own. A
    :attr:`Sanction.list` is any catalogue name, so compare it with these constants as a string
    (``==`` or ``is``: :class:`Sanction` stores a shipped name as its constant) and never read
    ``.value`` from it.
    """

    SERIOUS_DISHONEST = "SERIOUS_DISHONEST"
    DISHONEST_JUDGMENT_DEBTOR = "DISHONEST_JUDGMENT_DEBTOR"
    MAJOR_TAX_VIOLATION = "MAJOR_TAX_VIOLATION"
    MARKET_BAN = "MARKET_BAN"
    ABNORMAL_OPERATION = "ABNORMAL_OPERATION"
    ADMIN_PENALTY = "ADMIN_PENALTY"
    EXTERNAL_SANCTION = "EXTERNAL_SANCTION"
    WAGE_ARREARS = "WAGE_ARREARS"
    SOCIAL_INSURANCE_FRAUD = "SOCIAL_INSURANCE_FRAUD"
    COMMITMENT_BREACH = "COMMITMENT_BREACH"
    PRODUCT_SAFETY_VIOLATION = "PRODUCT_SAFETY_VIOLATION"


class Severity(StrEnum):
    MINOR = "minor"
    GENERAL = "general"
    SERIOUS = "serious"


class SanctionStatus(StrEnum):
    ACTIVE = "active"
    REPAIRED = "repaired"
    REVOKED = "revoked"


class ProductCategory(StrEnum):
    """What kind of goods a product is (the law that governs its safety)."""

    FOOD = "food"
    DRUG = "drug"
    MEDICAL_DEVICE = "medical_device"
    SPECIAL_EQUIPMENT = "special_equipment"
    AGRICULTURAL_INPUT = "agricultural_input"
    OTHER = "other"


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
    """Names of shipped catalogue entries that the code refers to, not the catalogue.

    The measures are data: the ``measures:`` catalogue of the rules file in force, each with its
    kind (restriction, incentive or notice). A restriction's measure is any catalogue name: use
    it as a string, never ``.value``.
    """

    PROCUREMENT_BAN = "PROCUREMENT_BAN"
    BIDDING_BAN = "BIDDING_BAN"
    SUBSIDY_BAN = "SUBSIDY_BAN"
    FINANCING_RESTRICTION = "FINANCING_RESTRICTION"
    HIGH_CONSUMPTION_BAN = "HIGH_CONSUMPTION_BAN"
    OFFICER_APPOINTMENT_BAN = "OFFICER_APPOINTMENT_BAN"
    MARKET_ENTRY_BAN = "MARKET_ENTRY_BAN"
    HONOR_BAN = "HONOR_BAN"
    ENHANCED_SUPERVISION = "ENHANCED_SUPERVISION"
    NOTIFICATION_COMMITMENT_BAN = "NOTIFICATION_COMMITMENT_BAN"
    GREEN_CHANNEL = "GREEN_CHANNEL"
    REDUCED_INSPECTION = "REDUCED_INSPECTION"
    FINANCING_PREFERENCE = "FINANCING_PREFERENCE"
    NOTIFICATION_COMMITMENT = "NOTIFICATION_COMMITMENT"
    RECALL_NOTICE = "RECALL_NOTICE"


_SHIPPED_LISTS: dict[str, SanctionList] = {member.value: member for member in SanctionList}
_SHIPPED_MEASURES: dict[str, Measure] = {member.value: member for member in Measure}


def list_name(name: str) -> str:
    """A list name as the code keeps it: the :class:`SanctionList` constant for a shipped name,
    else the (interned) string, so that equal names are one object.

    >>> list_name("MARKET_BAN") is SanctionList.MARKET_BAN
    True
    >>> list_name("PROVINCIAL_X")
    'PROVINCIAL_X'
    """
    shipped = _SHIPPED_LISTS.get(name)
    return shipped if shipped is not None else sys.intern(str(name))


def measure_name(name: str) -> str:
    """A measure name as the code keeps it: the :class:`Measure` constant for a shipped name,
    else the (interned) string.

    >>> measure_name("HONOR_BAN") is Measure.HONOR_BAN
    True
    """
    shipped = _SHIPPED_MEASURES.get(name)
    return shipped if shipped is not None else sys.intern(str(name))


SEARCH_FORM_VERSION: Final = 2
"""The version of :func:`normalize_search_text`'s form; a store indexed with an older one
re-indexes its names (2: simplified Chinese, no whitespace)."""


@functools.cache
def _simplified() -> Callable[[str], str]:
    import opencc  # OpenCC's own phrase and character tables, loaded once and only when needed

    converter = opencc.OpenCC("t2s")
    return cast(Callable[[str], str], converter.convert)


def normalize_search_text(text: str) -> str:
    """The form names are indexed and searched in: NFKC, traditional Chinese written as
    simplified (OpenCC ``t2s``), case-folded, and without whitespace, so that 臺灣 finds 台湾 and
    ``ABC Trading`` finds ``ABCTrading``.

    >>> normalize_search_text("  ＡＢＣ  Trading\\tCo ")
    'abctradingco'
    >>> normalize_search_text("臺灣 積體電路") == normalize_search_text("台湾积体电路")
    True
    """
    folded = "".join(unicodedata.normalize("NFKC", text).casefold().split())
    return folded if folded.isascii() else _simplified()(folded)


def search_text(entity: Company | Person) -> str:
    """The text an entity is found by: its name, then its aliases and identifiers, each in
    :func:`normalize_search_text` form, one a line (a needle has no line break, so a match never
    spans two). Without aliases or identifiers it is the normalized name alone, so that ranking
    (name starts with the text first) is unchanged.

    >>> search_text(Company("c1", "Acme", aliases=("ACME Ltd",), identifiers=("GB-COH:123",)))
    'acme\\nacmeltd\\ngb-coh:123'
    """
    name = normalize_search_text(entity.name)
    if not entity.aliases and not entity.identifiers:
        return name
    others = dict.fromkeys(
        normalize_search_text(text) for text in (*entity.aliases, *entity.identifiers)
    )
    others.pop(name, None)
    return "\n".join([name, *others])


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
    aliases: tuple[str, ...] = ()
    """Other names (aliases, previous and transliterated names); search finds them all."""
    identifiers: tuple[str, ...] = ()
    """Register identifiers as ``SCHEME:value`` (``CN-USCC:9111...``); searchable."""
    source_format: str | None = None
    """Provenance: the format the record came from (``ftm``, ``bods``, ``psc``, ``icij``)."""
    source_dataset: str | None = None
    """Provenance: the dataset it came from (``--dataset``, default the file name)."""
    record_id: str | None = None
    """Provenance: the source's own record id (None for bundle rows)."""

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
    aliases: tuple[str, ...] = ()
    """Other names (aliases, previous and transliterated names); search finds them all."""
    identifiers: tuple[str, ...] = ()
    """Register identifiers as ``SCHEME:value`` (``CN-USCC:9111...``); searchable."""
    source_format: str | None = None
    """Provenance: the format the record came from (``ftm``, ``bods``, ``psc``, ``icij``)."""
    source_dataset: str | None = None
    """Provenance: the dataset it came from (``--dataset``, default the file name)."""
    record_id: str | None = None
    """Provenance: the source's own record id (None for bundle rows)."""

    label = NodeLabel.PERSON
    kind = EntityKind.PERSON


@dataclass(frozen=True, slots=True)
class Address:
    id: str
    text: str
    region: str | None = None
    extra: Mapping[str, Scalar] = field(default_factory=_no_extra)
    source_format: str | None = None
    """Provenance: the format the record came from (``ftm``, ``bods``, ``psc``, ``icij``)."""
    source_dataset: str | None = None
    """Provenance: the dataset it came from (``--dataset``, default the file name)."""
    record_id: str | None = None
    """Provenance: the source's own record id (None for bundle rows)."""

    label = NodeLabel.ADDRESS


@dataclass(frozen=True, slots=True)
class Sanction:
    """A record on one of the lists, about one subject (company or person)."""

    id: str
    subject_id: str
    list: str
    """A name of the lists catalogue in force (shipped names are :class:`SanctionList`)."""
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
    version: int | None = None
    """Counts the due-process decisions that changed the record (None: none yet; loads leave it
    alone), so a decision can require the version it read (:func:`graph.store.versioned_as`)."""
    extra: Mapping[str, Scalar] = field(default_factory=_no_extra)
    source_format: str | None = None
    """Provenance: the format the record came from (``ftm``, ``bods``, ``psc``, ``icij``)."""
    source_dataset: str | None = None
    """Provenance: the dataset it came from (``--dataset``, default the file name)."""
    record_id: str | None = None
    """Provenance: the source's own record id (None for bundle rows)."""
    batch_id: str | None = None
    """The batch at fault (product-safety records); when given, it names a stored Batch."""

    label = NodeLabel.SANCTION

    def __post_init__(self) -> None:
        # Shipped names become their constant and others are interned: list names repeat over
        # millions of records, and code may compare them with the constants by identity.
        name = list_name(self.list)
        if name is not self.list:
            object.__setattr__(self, "list", name)

    @property
    def effective_start(self) -> date | None:
        """The day the record starts to count: its start, else the day it was decided."""
        return self.start if self.start is not None else self.decided


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


class CommitmentKind(StrEnum):
    """What a credit commitment (信用承诺) is made for (spec/DOMAIN.md "Credit commitments")."""

    TAX_DECLARATION = "TAX_DECLARATION"
    NOTIFICATION_PERMIT = "NOTIFICATION_PERMIT"
    PROACTIVE = "PROACTIVE"
    CREDIT_REPAIR = "CREDIT_REPAIR"
    INDUSTRY = "INDUSTRY"


class CommitmentOutcome(StrEnum):
    PENDING = "pending"
    KEPT = "kept"
    BROKEN = "broken"


@dataclass(frozen=True, slots=True)
class Commitment:
    """A credit commitment made by a company or person (``promisor_id``) to an agency.

    Linked COMMITTED (Commitment -> promisor), implied by ``promisor_id`` as SANCTIONED is by
    :attr:`Sanction.subject_id`. The outcome counts from ``verified`` on: before that day the
    commitment is pending (:func:`graph.commitments.outcome_at`). ``severity`` is set only on a
    broken one. ``version`` counts the verifications, so that a verification can require the
    version it read (:func:`graph.store.versioned_as`).
    """

    id: str
    promisor_id: str
    kind: CommitmentKind
    made: date
    agency: str | None = None
    matter: str | None = None
    due: date | None = None
    verified: date | None = None
    outcome: CommitmentOutcome = CommitmentOutcome.PENDING
    severity: Severity | None = None
    version: int | None = None
    extra: Mapping[str, Scalar] = field(default_factory=_no_extra)

    label = NodeLabel.COMMITMENT


@dataclass(frozen=True, slots=True)
class Product:
    """A product (a GTIN-14 or another product code), of which batches are made."""

    id: str
    name: str
    category: ProductCategory | None = None
    brand_owner_id: str | None = None
    """The Company that owns the brand, when known."""
    extra: Mapping[str, Scalar] = field(default_factory=_no_extra)
    source_format: str | None = None
    """Provenance: the format the record came from (``epcis``, ...)."""
    source_dataset: str | None = None
    """Provenance: the dataset it came from."""
    record_id: str | None = None
    """Provenance: the source's own record id (None for bundle rows)."""

    label = NodeLabel.PRODUCT


@dataclass(frozen=True, slots=True)
class Batch:
    """One lot of a product (id ``<product id>:<lot>``); it moves as PRODUCED, SHIPPED and
    TRANSFORMED_INTO links."""

    id: str
    product_id: str
    lot: str
    produced: date | None = None
    expires: date | None = None
    quantity: float | None = None
    extra: Mapping[str, Scalar] = field(default_factory=_no_extra)
    source_format: str | None = None
    """Provenance: the format the record came from (``epcis``, ...)."""
    source_dataset: str | None = None
    """Provenance: the dataset it came from."""
    record_id: str | None = None
    """Provenance: the source's own record id (None for bundle rows)."""

    label = NodeLabel.BATCH


Node: TypeAlias = Company | Person | Address | Sanction | Case | Commitment | Product | Batch


@dataclass(frozen=True, slots=True)
class Ownership:
    """OWNS: ``owner_id`` (person or company) holds ``share`` percent of ``company_id``."""

    owner_id: str
    company_id: str
    share: float | None = None
    start: date | None = None
    end: date | None = None
    extra: Mapping[str, Scalar] = field(default_factory=_no_extra)
    share_min: float | None = None
    """The lower end of a share given as a range (a BODS range, a PSC band); ``share`` stays
    the exact value, None for a range."""
    share_max: float | None = None
    """The upper end of a share given as a range."""
    indirect: bool | None = None
    """True for an indirect interest stated by the source (BODS ``directOrIndirect: indirect``):
    kept and shown beside the computed effective share, never added into it nor traversed."""
    source_format: str | None = None
    """Provenance: the format the record came from (``ftm``, ``bods``, ``psc``, ``icij``)."""
    source_dataset: str | None = None
    """Provenance: the dataset it came from (``--dataset``, default the file name)."""
    record_id: str | None = None
    """The source record id; part of the natural key, so that several records of one pair
    with one start date coexist (None for bundle rows: their keys do not change)."""

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
        return f"OWNS|{self.owner_id}|{self.company_id}|{_iso(self.start)}{_rec(self.record_id)}"

    def valid_at(self, as_of: date) -> bool:
        return link_valid_at(self.start, self.end, as_of)

    @property
    def share_low(self) -> float | None:
        """The exact share, else the lower end of its range (None: no share known).

        >>> Ownership("P", "C", share_min=25.0, share_max=50.0).share_low
        25.0
        """
        return self.share if self.share is not None else self.share_min

    @property
    def share_high(self) -> float | None:
        """The exact share, else the upper end of its range (None: no share known)."""
        return self.share if self.share is not None else self.share_max


@dataclass(frozen=True, slots=True)
class Officer:
    """OFFICER_OF: ``person_id`` holds ``role`` in ``company_id``."""

    person_id: str
    company_id: str
    role: OfficerRole
    start: date | None = None
    end: date | None = None
    extra: Mapping[str, Scalar] = field(default_factory=_no_extra)
    interest: str | None = None
    """The control interest a source stated (BODS ``appointmentOfBoard``, a PSC nature)."""
    role_text: str | None = None
    """The role as the source wrote it, when it was mapped to a role or to ``other``."""
    source_format: str | None = None
    """Provenance: the format the record came from (``ftm``, ``bods``, ``psc``, ``icij``)."""
    source_dataset: str | None = None
    """Provenance: the dataset it came from (``--dataset``, default the file name)."""
    record_id: str | None = None
    """The source record id; part of the natural key, so that several records of one pair
    with one start date coexist (None for bundle rows: their keys do not change)."""

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
        return (
            f"OFFICER_OF|{self.person_id}|{self.company_id}|{self.role.value}|{_iso(self.start)}"
            f"{_rec(self.record_id)}"
        )

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
    source_format: str | None = None
    """Provenance: the format the record came from (``ftm``, ``bods``, ``psc``, ``icij``)."""
    source_dataset: str | None = None
    """Provenance: the dataset it came from (``--dataset``, default the file name)."""
    record_id: str | None = None
    """The source record id; part of the natural key, so that several records of one pair
    with one start date coexist (None for bundle rows: their keys do not change)."""

    type = LinkType.REGISTERED_AT

    @property
    def source(self) -> str:
        return self.entity_id

    @property
    def target(self) -> str:
        return self.address_id

    @property
    def key(self) -> str:
        return (
            f"REGISTERED_AT|{self.entity_id}|{self.address_id}|{_iso(self.start)}"
            f"{_rec(self.record_id)}"
        )

    def valid_at(self, as_of: date) -> bool:
        return link_valid_at(self.start, self.end, as_of)


# The supply links name their date ``date`` (as the spec's columns do), so inside them the type
# is written ``dt.date``. Each is keyed by its event id: one pair may move goods many times.


@dataclass(frozen=True, slots=True)
class Produced:
    """PRODUCED: ``company_id`` made (commissioned) ``batch_id`` on ``date``."""

    company_id: str
    batch_id: str
    event_id: str
    date: dt.date
    extra: Mapping[str, Scalar] = field(default_factory=_no_extra)
    source_format: str | None = None
    """Provenance: the format the record came from (``epcis``, ...)."""
    source_dataset: str | None = None
    """Provenance: the dataset it came from."""
    record_id: str | None = None
    """Provenance: the source's own record id (the event id is the key, not this)."""

    type = LinkType.PRODUCED

    @property
    def source(self) -> str:
        return self.company_id

    @property
    def target(self) -> str:
        return self.batch_id

    @property
    def key(self) -> str:
        return f"PRODUCED|{self.company_id}|{self.batch_id}|{self.event_id}"

    @property
    def start(self) -> dt.date:
        return self.date

    @property
    def end(self) -> dt.date | None:
        return None

    def valid_at(self, as_of: dt.date) -> bool:
        return self.date <= as_of


@dataclass(frozen=True, slots=True)
class Shipped:
    """SHIPPED: ``batch_id`` (or part of it, ``quantity``) passed from company ``from_id`` to
    company ``to_id`` on ``date``."""

    batch_id: str
    to_id: str
    from_id: str
    event_id: str
    date: dt.date
    quantity: float | None = None
    extra: Mapping[str, Scalar] = field(default_factory=_no_extra)
    source_format: str | None = None
    """Provenance: the format the record came from (``epcis``, ...)."""
    source_dataset: str | None = None
    """Provenance: the dataset it came from."""
    record_id: str | None = None
    """Provenance: the source's own record id (the event id is the key, not this)."""

    type = LinkType.SHIPPED

    @property
    def source(self) -> str:
        return self.batch_id

    @property
    def target(self) -> str:
        return self.to_id

    @property
    def key(self) -> str:
        """``SHIPPED|<batch>|<to>|<event id>``.

        >>> Shipped("b1", "c2", "c1", "e9", dt.date(2024, 1, 2)).key
        'SHIPPED|b1|c2|e9'
        """
        return f"SHIPPED|{self.batch_id}|{self.to_id}|{self.event_id}"

    @property
    def start(self) -> dt.date:
        return self.date

    @property
    def end(self) -> dt.date | None:
        return None

    def valid_at(self, as_of: dt.date) -> bool:
        return self.date <= as_of


@dataclass(frozen=True, slots=True)
class TransformedInto:
    """TRANSFORMED_INTO: ``input_batch_id`` went into ``output_batch_id`` on ``date``, in a
    transformation by company ``by_id`` (when known)."""

    input_batch_id: str
    output_batch_id: str
    event_id: str
    date: dt.date
    by_id: str | None = None
    extra: Mapping[str, Scalar] = field(default_factory=_no_extra)
    source_format: str | None = None
    """Provenance: the format the record came from (``epcis``, ...)."""
    source_dataset: str | None = None
    """Provenance: the dataset it came from."""
    record_id: str | None = None
    """Provenance: the source's own record id (the event id is the key, not this)."""

    type = LinkType.TRANSFORMED_INTO

    @property
    def source(self) -> str:
        return self.input_batch_id

    @property
    def target(self) -> str:
        return self.output_batch_id

    @property
    def key(self) -> str:
        return f"TRANSFORMED_INTO|{self.input_batch_id}|{self.output_batch_id}|{self.event_id}"

    @property
    def start(self) -> dt.date:
        return self.date

    @property
    def end(self) -> dt.date | None:
        return None

    def valid_at(self, as_of: dt.date) -> bool:
        return self.date <= as_of


SupplyLink: TypeAlias = Produced | Shipped | TransformedInto
"""A movement of goods (:data:`SUPPLY_LINK_TYPES`)."""

Link: TypeAlias = Ownership | Officer | Registration | Produced | Shipped | TransformedInto
"""A stored relationship with its own properties (SANCTIONED is implied by Sanction.subject_id)."""


def _iso(value: date | None) -> str:
    return value.isoformat() if value is not None else ""


def _rec(record_id: str | None) -> str:
    # Appended only when there is one, so that bundle links keep the keys they always had.
    return f"|{record_id}" if record_id else ""
