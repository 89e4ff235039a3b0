"""Shell-company signals for an entity, each with the evidence an investigator can check.

Signals (:class:`SignalKind`):

- ``SHARED_ADDRESS``: registered at an address that at least ``shared_address_min_companies``
  companies (itself included) are registered at, in force at ``as_of``.
- ``NOMINEE_OFFICER``: an officer of the company (or the person asked about) holds positions in
  at least ``nominee_min_positions`` distinct companies at ``as_of``.
- ``OPAQUE_OWNERSHIP``: no natural person is a beneficial owner (at ``bo_threshold`` percent, or
  by control), and the ownership above is layered: its deepest owner sits at least
  ``layered_min_depth`` links up.
- ``CIRCULAR_OWNERSHIP``: the company takes part in an ownership cycle.
- ``PHOENIX``: the company was founded on or after the start of a sanction (on one of
  ``phoenix_lists``, not revoked, at most ``phoenix_window_days`` before the founding) against
  another company with which it shares a principal responsible person (legal representative,
  chairman, general manager: in office at the new company at ``as_of`` or at its founding, and at
  the sanctioned company when the sanction started) or a controlling owner (controls the new
  company at ``as_of`` and controlled the sanctioned one when the sanction started).

Thresholds live in :class:`ShellThresholds` (a pydantic model with defaults; the settings expose
them). Store calls: one for addresses and officers, one for the ownership above the company, one
for the principals' other positions (all dates), one per controlling owner for what it holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from graph.errors import InvalidInput, NotFound
from graph.model import (
    PRINCIPAL_ROLES,
    Address,
    Company,
    Direction,
    LinkType,
    Officer,
    OfficerRole,
    Person,
    Sanction,
    SanctionList,
    SanctionStatus,
)
from graph.ownership import (
    EPSILON,
    EffectiveOwnership,
    HoldingIndex,
    controlled_companies,
    controllers_of,
    cycles_through,
    depths,
)
from graph.rules.engine import add_days
from graph.store import GraphReader, Step, Subgraph
from queries.ownership import extract_closure

__all__ = ["ShellThresholds", "Signal", "SignalKind", "shell_signals", "signal_json"]


class SignalKind(StrEnum):
    SHARED_ADDRESS = "SHARED_ADDRESS"
    NOMINEE_OFFICER = "NOMINEE_OFFICER"
    OPAQUE_OWNERSHIP = "OPAQUE_OWNERSHIP"
    CIRCULAR_OWNERSHIP = "CIRCULAR_OWNERSHIP"
    PHOENIX = "PHOENIX"


class ShellThresholds(BaseModel):
    """When a pattern becomes a signal. Defaults suit a national registry."""

    model_config = ConfigDict(frozen=True)

    shared_address_min_companies: int = Field(default=10, ge=2)
    nominee_min_positions: int = Field(default=10, ge=2)
    layered_min_depth: int = Field(default=3, ge=1)
    bo_threshold: float = Field(default=25.0, ge=0.0, le=100.0)
    max_hops: int = Field(default=10, ge=1)
    cycle_max_length: int = Field(default=10, ge=2)
    phoenix_window_days: int = Field(default=3 * 365, ge=0)
    phoenix_lists: frozenset[SanctionList] = frozenset(
        {
            SanctionList.MARKET_BAN,
            SanctionList.SERIOUS_DISHONEST,
            SanctionList.DISHONEST_JUDGMENT_DEBTOR,
        }
    )
    evidence_sample: int = Field(default=20, ge=1)
    """How many ids at most an evidence list shows (the counts are always complete)."""


@dataclass(frozen=True, slots=True)
class Signal:
    """One signal: what it is, a sentence, and JSON-ready evidence (ids, counts, dates)."""

    kind: SignalKind
    summary: str
    evidence: dict[str, Any] = field(default_factory=dict)


_PRINCIPAL = frozenset(PRINCIPAL_ROLES)
_ACTUAL = frozenset({OfficerRole.ACTUAL_CONTROLLER})


def shell_signals(
    store: GraphReader,
    entity_id: str,
    as_of: date | None = None,
    thresholds: ShellThresholds | None = None,
) -> list[Signal]:
    """The shell-company signals of a company (all five) or a person (address, nominee).

    Parameters
    ----------
    store
        Any :class:`graph.store.GraphReader`.
    entity_id
        A company or a person.
    as_of
        The day the links are taken at (default today).
    thresholds
        Default :class:`ShellThresholds` when None.

    Returns
    -------
    list[Signal]
        In the order of :class:`SignalKind`; empty when nothing stands out.

    Examples
    --------
    >>> from graph.memory import MemoryStore
    >>> from graph.model import Ownership
    >>> from graph.store import WriteBatch
    >>> store = MemoryStore()
    >>> _ = store.write(WriteBatch(
    ...     nodes=[Company("A", "A Co"), Company("B", "B Co")],
    ...     links=[Ownership("A", "B", 60.0), Ownership("B", "A", 60.0)]))
    >>> [s.kind.value for s in shell_signals(store, "A", date(2024, 1, 1))]
    ['CIRCULAR_OWNERSHIP']
    """
    limits = thresholds or ShellThresholds()
    as_of = as_of or date.today()
    local = store.neighbourhood(
        [entity_id],
        steps=[
            Step(LinkType.REGISTERED_AT, Direction.BOTH),
            Step(LinkType.OFFICER_OF, Direction.BOTH),
        ],
        hops=2,
        as_of=as_of,
    )
    entity = local.nodes.get(entity_id)
    if entity is None:
        if store.get(entity_id) is None:
            raise NotFound(f"no entity with id {entity_id!r}")
        raise InvalidInput(f"{entity_id!r} is not a company or a person")
    if isinstance(entity, Address):
        raise InvalidInput(f"{entity_id!r} is an address; signals are about companies and persons")
    signals: list[Signal] = []
    signals += _shared_address(local, entity_id, limits)
    signals += _nominee(local, entity, limits)
    if isinstance(entity, Company):
        upstream = extract_closure(store, entity_id, as_of, upward=True)
        index = HoldingIndex(upstream.ownerships)
        officers = [o for o in upstream.officers if o.role is OfficerRole.ACTUAL_CONTROLLER]
        signals += _opaque(upstream, index, officers, entity_id, limits)
        signals += _circular(index, entity_id, limits)
        signals += _phoenix(store, entity, index, officers, as_of, limits)
    order = list(SignalKind)
    signals.sort(key=lambda s: order.index(s.kind))
    return signals


def _sample(ids: set[str], limits: ShellThresholds) -> list[str]:
    return sorted(ids)[: limits.evidence_sample]


def _shared_address(local: Subgraph, entity_id: str, limits: ShellThresholds) -> list[Signal]:
    found: list[Signal] = []
    registrations = local.registrations
    for address_id in sorted({r.address_id for r in registrations if r.entity_id == entity_id}):
        companies = {
            r.entity_id
            for r in registrations
            if r.address_id == address_id and isinstance(local.nodes.get(r.entity_id), Company)
        }
        if len(companies) < limits.shared_address_min_companies:
            continue
        address = local.nodes[address_id]
        text = address.text if isinstance(address, Address) else address_id
        found.append(
            Signal(
                SignalKind.SHARED_ADDRESS,
                f"registered at {text!r} with {len(companies)} companies",
                {
                    "addressId": address_id,
                    "address": text,
                    "companies": len(companies),
                    "sample": _sample(companies, limits),
                    "threshold": limits.shared_address_min_companies,
                },
            )
        )
    return found


def _nominee(local: Subgraph, entity: Company | Person, limits: ShellThresholds) -> list[Signal]:
    officers = local.officers
    if isinstance(entity, Person):
        persons = {entity.id}
    else:
        persons = {o.person_id for o in officers if o.company_id == entity.id}
    found: list[Signal] = []
    for person_id in sorted(persons):
        positions = [o for o in officers if o.person_id == person_id]
        companies = {o.company_id for o in positions}
        if len(companies) < limits.nominee_min_positions:
            continue
        roles_here = sorted({o.role.value for o in positions if o.company_id == entity.id})
        person = local.nodes.get(person_id)
        name = person.name if isinstance(person, Person) else person_id
        found.append(
            Signal(
                SignalKind.NOMINEE_OFFICER,
                f"{name} holds positions in {len(companies)} companies",
                {
                    "personId": person_id,
                    "companies": len(companies),
                    "roles": roles_here,
                    "sample": _sample(companies, limits),
                    "threshold": limits.nominee_min_positions,
                },
            )
        )
    return found


def _opaque(
    upstream: Subgraph,
    index: HoldingIndex,
    officers: list[Officer],
    company_id: str,
    limits: ShellThresholds,
) -> list[Signal]:
    layers = depths(company_id, index, upward=True)
    if not layers:
        return []  # no recorded owner at all: a gap in the data, not a layered structure
    deepest = max(layers.values())
    if deepest < limits.layered_min_depth:
        return []
    persons = {n for n, node in upstream.nodes.items() if isinstance(node, Person)}
    shares = EffectiveOwnership(index, max_hops=limits.max_hops, keep=persons).shares_of(company_id)
    controllers = controllers_of(company_id, index, officers)
    if any(p in controllers for p in persons):
        return []
    if any(v >= limits.bo_threshold - EPSILON for v in shares.values()):
        return []
    companies = {n for n in layers if isinstance(upstream.nodes.get(n), Company)}
    top = sorted(shares.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    return [
        Signal(
            SignalKind.OPAQUE_OWNERSHIP,
            f"{deepest} layers of ownership and no natural person at "
            f"{limits.bo_threshold:g}% or in control",
            {
                "layers": deepest,
                "upstreamCompanies": len(companies),
                "upstreamPersons": len(persons & set(layers)),
                "topPersons": [{"personId": p, "effectiveShare": round(v, 9)} for p, v in top],
                "threshold": limits.layered_min_depth,
            },
        )
    ]


def _circular(index: HoldingIndex, company_id: str, limits: ShellThresholds) -> list[Signal]:
    cycles = cycles_through(company_id, index, max_length=limits.cycle_max_length, limit=10)
    if not cycles:
        return []
    return [
        Signal(
            SignalKind.CIRCULAR_OWNERSHIP,
            f"takes part in {len(cycles)} ownership cycle(s), the shortest of {len(cycles[0])}",
            {"cycles": [list(c) for c in cycles]},
        )
    ]


def _qualifying(sanction: Sanction, founded: date, limits: ShellThresholds) -> date | None:
    """The sanction's start when it can make ``founded`` a phoenix founding, else None."""
    start = sanction.effective_start
    if sanction.list not in limits.phoenix_lists or start is None:
        return None
    if sanction.status is SanctionStatus.REVOKED:
        return None
    if not start <= founded <= add_days(start, limits.phoenix_window_days):
        return None
    return start


def _phoenix(
    store: GraphReader,
    company: Company,
    index: HoldingIndex,
    officers: list[Officer],
    as_of: date,
    limits: ShellThresholds,
) -> list[Signal]:
    founded = company.founded
    if founded is None:
        return []
    found: list[Signal] = []
    # Shared principal responsible persons: their principal positions at every date.
    around = store.neighbourhood(
        [company.id],
        steps=[Step(LinkType.OFFICER_OF, Direction.BOTH, _PRINCIPAL)],
        hops=2,
        as_of=None,
    )
    mine = [
        o
        for o in around.officers
        if o.company_id == company.id and (o.valid_at(as_of) or o.valid_at(founded))
    ]
    for person_id in sorted({o.person_id for o in mine}):
        for other in sorted({o.company_id for o in around.officers if o.person_id == person_id}):
            if other == company.id:
                continue
            for sanction in around.sanctions_of(other):
                start = _qualifying(sanction, founded, limits)
                if start is None:
                    continue
                then = [
                    o
                    for o in around.officers
                    if o.person_id == person_id and o.company_id == other and o.valid_at(start)
                ]
                if not then:
                    continue
                found.append(
                    _phoenix_signal(
                        company,
                        sanction,
                        start,
                        {
                            "via": "principal",
                            "personId": person_id,
                            "rolesThen": sorted({o.role.value for o in then}),
                            "rolesNow": sorted(
                                {o.role.value for o in mine if o.person_id == person_id}
                            ),
                        },
                    )
                )
    # Shared controlling owners: what each controller holds, at every date.
    for controller in sorted(controllers_of(company.id, index, officers)):
        below = extract_closure(store, controller, None, upward=False)
        for other in sorted(n for n, node in below.nodes.items() if isinstance(node, Company)):
            if other == company.id:
                continue
            for sanction in below.sanctions_of(other):
                start = _qualifying(sanction, founded, limits)
                if start is None:
                    continue
                held_then = HoldingIndex(o for o in below.ownerships if o.valid_at(start))
                roles = [o for o in below.officers if o.valid_at(start)]
                if other not in controlled_companies(controller, held_then, roles):
                    continue
                found.append(
                    _phoenix_signal(
                        company, sanction, start, {"via": "controller", "controllerId": controller}
                    )
                )
    return found


def _phoenix_signal(
    company: Company, sanction: Sanction, start: date, shared: dict[str, Any]
) -> Signal:
    founded = company.founded
    assert founded is not None
    who = shared.get("personId") or shared.get("controllerId")
    return Signal(
        SignalKind.PHOENIX,
        f"founded {founded.isoformat()}, {(founded - start).days} days after "
        f"{sanction.list.value} against {sanction.subject_id}, which shares {who} with it",
        {
            "sanctionedCompanyId": sanction.subject_id,
            "sanctionId": sanction.id,
            "list": sanction.list.value,
            "sanctionStart": start.isoformat(),
            "founded": founded.isoformat(),
            **shared,
        },
    )


def signal_json(signal: Signal) -> dict[str, Any]:
    """A :class:`Signal` as ``{"kind", "summary", "evidence"}``."""
    return {"kind": signal.kind.value, "summary": signal.summary, "evidence": signal.evidence}
