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
- ``BANNED_OFFICER``: a person the rule engine bars from office at ``as_of``
  (``OFFICER_APPOINTMENT_BAN``, whatever the record and path behind it) still holds an office in
  force: the person asked about, or an officer of the company asked about.
- ``PHOENIX``: the company was founded on or after the start of a sanction (on one of
  ``phoenix_lists``, not revoked, at most ``phoenix_window_days`` before the founding) against
  another company with which it shares a principal responsible person (legal representative,
  chairman, general manager: in office at the new company at ``as_of`` or at its founding, and at
  the sanctioned company when the sanction started) or a controlling owner (controls the new
  company at ``as_of`` and controlled the sanctioned one when the sanction started).

Thresholds live in :class:`ShellThresholds` (a pydantic model with defaults; the settings expose
them as ``CREDITNET_REVIEW__SHELL__*``). The defaults of 8 companies at an address and 8 positions
for a nominee are low enough for the demo's registration-agent address and nominee director (8
companies each) to be signalled, as the demo means them to be: a signal is a lead an investigator
reads, not a decision, and a registry with many agent addresses raises them. Store calls: one for
addresses and officers, the rule engine's few for the restrictions on the persons found, one for
the ownership above the company, one for the principals' other positions (all dates), one per
controlling owner for what it holds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from graph.errors import InvalidInput, NotFound
from graph.explain import (
    BannedOfficerEvidence,
    CircularOwnershipEvidence,
    Evidence,
    NomineeEvidence,
    OpaqueOwnershipEvidence,
    Path,
    PathLink,
    PhoenixEvidence,
    PhoenixVia,
    SharedAddressEvidence,
)
from graph.model import (
    PRINCIPAL_ROLES,
    Address,
    Company,
    Direction,
    LinkType,
    Measure,
    Officer,
    OfficerRole,
    Ownership,
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
from graph.rules.engine import add_days, lookup_many
from graph.rules.schema import RuleSet, load_rules
from graph.store import GraphReader, Step, Subgraph
from queries.cycles import cycle_of
from queries.ownership import extract_closure

__all__ = ["ShellThresholds", "Signal", "SignalKind", "phoenix_signals", "shell_signals"]


class SignalKind(StrEnum):
    SHARED_ADDRESS = "SHARED_ADDRESS"
    NOMINEE_OFFICER = "NOMINEE_OFFICER"
    OPAQUE_OWNERSHIP = "OPAQUE_OWNERSHIP"
    CIRCULAR_OWNERSHIP = "CIRCULAR_OWNERSHIP"
    BANNED_OFFICER = "BANNED_OFFICER"
    PHOENIX = "PHOENIX"


class ShellThresholds(BaseModel):
    """When a pattern becomes a signal. Defaults suit a national registry."""

    model_config = ConfigDict(frozen=True)

    shared_address_min_companies: int = Field(default=8, ge=2)
    nominee_min_positions: int = Field(default=8, ge=2)
    layered_min_depth: int = Field(default=3, ge=1)
    bo_threshold: float = Field(default=25.0, ge=0.0, le=100.0)
    max_hops: int = Field(default=10, ge=1)
    cycle_max_length: int = Field(default=10, ge=2)
    phoenix_window_days: int = Field(default=3 * 365, ge=0)
    phoenix_lists: frozenset[str] = frozenset(
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
    """One signal: what it is, a sentence, and the typed evidence it rests on."""

    kind: SignalKind
    summary: str
    evidence: Evidence


_PRINCIPAL = frozenset(PRINCIPAL_ROLES)
_OFFICE_BAN = Measure.OFFICER_APPOINTMENT_BAN
_ACTUAL = frozenset({OfficerRole.ACTUAL_CONTROLLER})


def shell_signals(
    store: GraphReader,
    entity_id: str,
    as_of: date | None = None,
    thresholds: ShellThresholds | None = None,
    rules: RuleSet | None = None,
) -> list[Signal]:
    """The shell-company signals of a company (all six) or a person (address, nominee, banned
    officer).

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
    rules
        The rules in force, which decide who is barred from office (None: the shipped rules).

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
    signals += _banned_officers(store, local, entity, as_of, rules or load_rules(None))
    if isinstance(entity, Company):
        upstream = extract_closure(store, entity_id, as_of, upward=True)
        index = HoldingIndex(upstream.ownerships)
        officers = [o for o in upstream.officers if o.role is OfficerRole.ACTUAL_CONTROLLER]
        signals += _opaque(upstream, index, officers, entity_id, limits)
        signals += _circular(index, entity_id, limits)
        signals += phoenix_signals(store, [entity], as_of, limits, upstream=upstream).get(
            entity_id, []
        )
    order = list(SignalKind)
    signals.sort(key=lambda s: order.index(s.kind))
    return signals


def _sample(ids: set[str], limits: ShellThresholds) -> tuple[str, ...]:
    return tuple(sorted(ids)[: limits.evidence_sample])


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
                SharedAddressEvidence(
                    address_id=address_id,
                    address=text,
                    companies=len(companies),
                    sample=_sample(companies, limits),
                    threshold=limits.shared_address_min_companies,
                ),
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
        roles_here = tuple(sorted({o.role for o in positions if o.company_id == entity.id}))
        person = local.nodes.get(person_id)
        name = person.name if isinstance(person, Person) else person_id
        found.append(
            Signal(
                SignalKind.NOMINEE_OFFICER,
                f"{name} holds positions in {len(companies)} companies",
                NomineeEvidence(
                    person_id=person_id,
                    companies=len(companies),
                    roles=roles_here,
                    sample=_sample(companies, limits),
                    threshold=limits.nominee_min_positions,
                ),
            )
        )
    return found


def _banned_officers(
    store: GraphReader, local: Subgraph, entity: Company | Person, as_of: date, rules: RuleSet
) -> list[Signal]:
    """The persons (the entity, or the company's officers) barred from office who hold one."""
    officers = local.officers  # the extraction is as of ``as_of``: offices in force
    if isinstance(entity, Person):
        persons = {entity.id}
    else:
        persons = {o.person_id for o in officers if o.company_id == entity.id}
    if not persons:
        return []
    # One batch for every officer of the company, not one lookup each.
    looked = lookup_many(store, sorted(persons), as_of, rules)
    found: list[Signal] = []
    for person_id in sorted(looked):
        bans = [r for r in looked[person_id].restrictions if r.measure == _OFFICE_BAN]
        offices = sorted((o for o in officers if o.person_id == person_id), key=lambda o: o.key)
        if not bans or not offices:
            continue
        ban = bans[0]
        evidence = BannedOfficerEvidence(
            person_id=person_id,
            rule=ban.rule,
            legal_basis=ban.legal_basis,
            sanction=ban.source,
            path=ban.path,
            offices=tuple(PathLink.of(o) for o in offices),
            bans=len(bans),
        )
        found.append(Signal(SignalKind.BANNED_OFFICER, evidence.summary, evidence))
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
            OpaqueOwnershipEvidence(
                layers=deepest,
                upstream_companies=len(companies),
                upstream_persons=len(persons & set(layers)),
                top_persons=tuple(top),
                threshold=limits.layered_min_depth,
            ),
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
            CircularOwnershipEvidence(tuple(cycle_of(c, index).path for c in cycles)),
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


def phoenix_signals(
    store: GraphReader,
    companies: Sequence[Company],
    as_of: date,
    thresholds: ShellThresholds | None = None,
    *,
    upstream: Subgraph | None = None,
) -> dict[str, list[Signal]]:
    """The PHOENIX signals of many companies at once, by company id (companies without one are
    left out), in a fixed number of store calls whatever their number.

    One call for the principal positions around every company (at every date), one ownership
    closure above all of them (``upstream``, when the caller has it already), one closure below
    every controller found. Each company's answer equals what its own extractions would give:
    a closure is closed under its walk, so the union of several adds nothing to any one of them.
    """
    limits = thresholds or ShellThresholds()
    dated = [c for c in companies if c.founded is not None]
    if not dated:
        return {}
    ids = [c.id for c in dated]
    around = store.neighbourhood(
        ids,
        steps=[Step(LinkType.OFFICER_OF, Direction.BOTH, _PRINCIPAL)],
        hops=2,
        as_of=None,
    )
    if upstream is None:
        upstream = extract_closure(store, ids, as_of, upward=True)
    index = HoldingIndex(upstream.ownerships)
    actual = [o for o in upstream.officers if o.role is OfficerRole.ACTUAL_CONTROLLER]
    controllers = {c.id: sorted(controllers_of(c.id, index, actual)) for c in dated}
    every_controller = {x for found in controllers.values() for x in found}
    below = extract_closure(store, every_controller, None, upward=False)
    down = _holdings_down(below)
    found: dict[str, list[Signal]] = {}
    for company in dated:
        signals = _phoenix(company, around, controllers[company.id], below, down, as_of, limits)
        if signals:
            found[company.id] = signals
    return found


def _holdings_down(below: Subgraph) -> dict[str, set[str]]:
    """Holder -> what it holds or actually controls, over ``below`` (any date)."""
    down: dict[str, set[str]] = {}
    for link in below.links.values():
        if isinstance(link, Ownership) or (
            isinstance(link, Officer) and link.role is OfficerRole.ACTUAL_CONTROLLER
        ):
            down.setdefault(link.source, set()).add(link.target)
    return down


def _below(controller: str, down: Mapping[str, set[str]], below: Subgraph) -> set[str]:
    """The companies ``controller`` holds, directly or not, or actually controls (any date)."""
    seen = {controller}
    todo = [controller]
    while todo:
        for other in down.get(todo.pop(), ()):
            if other not in seen:
                seen.add(other)
                todo.append(other)
    return {n for n in seen if isinstance(below.nodes.get(n), Company)}


def _phoenix(
    company: Company,
    around: Subgraph,
    controllers: Sequence[str],
    below: Subgraph,
    down: Mapping[str, set[str]],
    as_of: date,
    limits: ShellThresholds,
) -> list[Signal]:
    founded = company.founded
    if founded is None:
        return []
    found: list[Signal] = []
    # Shared principal responsible persons: their principal positions at every date.
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
                now = [o for o in mine if o.person_id == person_id]
                path = Path(
                    (other, person_id, company.id),
                    (PathLink.of(min(then, key=_link_key)), PathLink.of(min(now, key=_link_key))),
                )
                found.append(
                    _phoenix_signal(
                        company,
                        sanction,
                        start,
                        PhoenixVia.PRINCIPAL,
                        person_id,
                        path,
                        tuple(sorted({o.role for o in then})),
                        tuple(sorted({o.role for o in now})),
                    )
                )
    # Shared controlling owners: what each controller holds, at every date.
    for controller in controllers:
        for other in sorted(_below(controller, down, below)):
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
                path = Path(
                    (other, controller, company.id),
                    (
                        PathLink.controls(controller, other),
                        PathLink.controls(controller, company.id),
                    ),
                )
                found.append(
                    _phoenix_signal(
                        company, sanction, start, PhoenixVia.CONTROLLER, controller, path
                    )
                )
    return found


def _link_key(link: Officer) -> str:
    return link.key


def _phoenix_signal(
    company: Company,
    sanction: Sanction,
    start: date,
    via: PhoenixVia,
    shared_id: str,
    path: Path,
    roles_then: tuple[OfficerRole, ...] = (),
    roles_now: tuple[OfficerRole, ...] = (),
) -> Signal:
    founded = company.founded
    assert founded is not None
    evidence = PhoenixEvidence(
        company_id=company.id,
        founded=founded,
        predecessor_id=sanction.subject_id,
        sanction=sanction,
        sanction_start=start,
        via=via,
        shared_id=shared_id,
        roles_then=roles_then,
        roles_now=roles_now,
        path=path,
    )
    return Signal(SignalKind.PHOENIX, evidence.summary, evidence)
