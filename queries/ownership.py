"""Beneficial owners and ownership closures (DOMAIN.md "Ownership and control").

Each question costs one extraction through the store port (the ownership closure, with the
``actual_controller`` positions on it; a closure deeper than one extraction's horizon is continued
from its edge, so control has no hop limit) and then pure arithmetic from :mod:`graph.ownership`.

Percentages throughout (0-100), as in the input and in spec/GRAPHQL.md.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from graph.errors import InvalidInput, NotFound
from graph.model import (
    Company,
    Direction,
    LinkType,
    Officer,
    OfficerRole,
    Person,
)
from graph.ownership import (
    BO_THRESHOLD,
    EPSILON,
    MAX_HOPS,
    DataIssue,
    EffectiveOwnership,
    HoldingIndex,
    control_path,
    controlled_companies,
    controllers_of,
    data_issues,
    depths,
    ownership_paths,
)
from graph.store import GraphReader, Step, Subgraph
from queries.paths import Path, PathLink, entity_json, path_json

__all__ = [
    "CLOSURE_HORIZON",
    "BeneficialOwner",
    "ClosureDirection",
    "EffectiveHolding",
    "OwnershipReport",
    "beneficial_owner_json",
    "beneficial_owners",
    "data_issue_json",
    "effective_holding_json",
    "extract_closure",
    "ownership_closure",
    "ownership_report",
]

CLOSURE_HORIZON = 64
"""Hops per extraction; a closure reaching this far is continued from its edge."""

_ACTUAL = frozenset({OfficerRole.ACTUAL_CONTROLLER})


class ClosureDirection(StrEnum):
    """GraphQL ``Direction``: UP (who owns this company) or DOWN (what this entity owns)."""

    UP = "UP"
    DOWN = "DOWN"


@dataclass(frozen=True, slots=True)
class BeneficialOwner:
    """GraphQL ``BeneficialOwner``; ``paths`` explain the share (largest first) and the control."""

    person: Person
    effective_share: float
    controls: bool
    paths: list[Path]


@dataclass(frozen=True, slots=True)
class EffectiveHolding:
    """GraphQL ``EffectiveHolding``: ``depth`` is the length of the shortest ownership path."""

    entity: Company | Person
    effective_share: float
    controls: bool
    depth: int


@dataclass(slots=True)
class OwnershipReport:
    """Beneficial owners with the data issues found in the company's upstream ownership."""

    company: Company
    owners: list[BeneficialOwner]
    issues: list[DataIssue] = field(default_factory=list)


def extract_closure(
    store: GraphReader,
    entity_id: str,
    as_of: date | None,
    *,
    upward: bool = True,
) -> Subgraph:
    """The whole ownership closure of ``entity_id`` (upward: its owners, theirs, ...; downward:
    what it holds, ...) with the ``actual_controller`` positions met on the way.

    One store call, plus one more per :data:`CLOSURE_HORIZON` hops of depth (rare). The seed is in
    the result's nodes when it exists.
    """
    direction = Direction.IN if upward else Direction.OUT
    steps = [Step(LinkType.OWNS, direction), Step(LinkType.OFFICER_OF, direction, _ACTUAL)]
    result = Subgraph()
    seeds = [entity_id]
    expanded: set[str] = set()
    while seeds:
        part = store.neighbourhood(seeds, steps=steps, hops=CLOSURE_HORIZON, as_of=as_of)
        result.merge(part)
        reach = _distances(part, seeds, upward)
        expanded.update(node for node, hops in reach.items() if hops < CLOSURE_HORIZON)
        seeds = sorted(
            node for node, hops in reach.items() if hops >= CLOSURE_HORIZON and node not in expanded
        )
    return result


def _distances(part: Subgraph, seeds: list[str], upward: bool) -> dict[str, int]:
    adjacency: dict[str, list[str]] = {}
    for link in part.links.values():
        near, far = (link.target, link.source) if upward else (link.source, link.target)
        adjacency.setdefault(near, []).append(far)
    distance = {seed: 0 for seed in seeds if seed in part.nodes}
    queue = list(distance)
    for node in queue:
        for other in adjacency.get(node, ()):
            if other not in distance:
                distance[other] = distance[node] + 1
                queue.append(other)
    return distance


def _check_bounds(threshold: float, max_hops: int) -> None:
    if not 0.0 <= threshold <= 100.0:
        raise InvalidInput(f"threshold must lie between 0 and 100, got {threshold}")
    if max_hops < 1:
        raise InvalidInput(f"max_hops must be at least 1, got {max_hops}")


def _actual_controllers(sub: Subgraph) -> list[Officer]:
    return [o for o in sub.officers if o.role is OfficerRole.ACTUAL_CONTROLLER]


def ownership_report(
    store: GraphReader,
    company_id: str,
    as_of: date | None = None,
    *,
    threshold: float = BO_THRESHOLD,
    max_hops: int = MAX_HOPS,
    max_paths: int = 20,
) -> OwnershipReport:
    """Beneficial owners of a company, with the data issues of its upstream ownership.

    See :func:`beneficial_owners`; ``issues`` lists holdings over 100%, self-held shares, links
    without a share and circular ownership among the company and everything above it.
    """
    _check_bounds(threshold, max_hops)
    as_of = as_of or date.today()
    sub = extract_closure(store, company_id, as_of, upward=True)
    company = sub.nodes.get(company_id)
    if company is None:
        if store.get(company_id) is None:
            raise NotFound(f"no entity with id {company_id!r}")
        raise InvalidInput(f"{company_id!r} is not a company")
    if not isinstance(company, Company):
        raise InvalidInput(f"{company_id!r} is not a company; beneficial owners are of companies")
    ownerships = sub.ownerships
    index = HoldingIndex(ownerships)
    officers = _actual_controllers(sub)
    persons = {node_id for node_id, node in sub.nodes.items() if isinstance(node, Person)}
    shares = EffectiveOwnership(index, max_hops=max_hops, keep=persons).shares_of(company_id)
    controllers = controllers_of(company_id, index, officers)
    owners: list[BeneficialOwner] = []
    for person_id in sorted(persons):
        share = shares.get(person_id, 0.0)
        controls = person_id in controllers
        if not controls and (share <= 0.0 or share < threshold - EPSILON):
            continue
        person = sub.nodes[person_id]
        assert isinstance(person, Person)
        paths = _explain(sub, index, officers, person_id, company_id, controls, max_hops, max_paths)
        owners.append(BeneficialOwner(person, share, controls, paths))
    owners.sort(key=lambda o: (-o.effective_share, not o.controls, o.person.id))
    companies = sorted(n for n, node in sub.nodes.items() if isinstance(node, Company))
    issues = data_issues(index, companies, ownerships)
    return OwnershipReport(company=company, owners=owners, issues=issues)


def beneficial_owners(
    store: GraphReader,
    company_id: str,
    as_of: date | None = None,
    threshold: float = BO_THRESHOLD,
    max_hops: int = MAX_HOPS,
    *,
    max_paths: int = 20,
) -> list[BeneficialOwner]:
    """Natural persons with an effective share of at least ``threshold`` percent in the company,
    or who control it (recursive majority, or recorded ``actual_controller``), largest first.

    Parameters
    ----------
    store
        Any :class:`graph.store.GraphReader`.
    company_id
        The company.
    as_of
        Links in force on this day (default: today).
    threshold
        Percent; exactly the threshold qualifies.
    max_hops
        Ownership paths longer than this are ignored for the share (not for control).
    max_paths
        At most this many ownership paths per owner are listed (the largest contributions);
        the share always sums every path.

    Returns
    -------
    list[BeneficialOwner]
        With the paths that explain each share and, for a controller, the control chain.

    Raises
    ------
    NotFound
        For an unknown id.
    InvalidInput
        For an id that is not a company, or bounds out of range.

    Examples
    --------
    The spec's worked example: X 25% directly, B (100% owned by W) 25%, C (90% Y, 10% Z) 50%.

    >>> from graph.memory import MemoryStore
    >>> from graph.model import Ownership
    >>> from graph.store import WriteBatch
    >>> store = MemoryStore()
    >>> _ = store.write(WriteBatch(
    ...     nodes=[Company("T", "Target"), Company("B", "B Co"), Company("C", "C Co")]
    ...     + [Person(p, p) for p in "XWYZ"],
    ...     links=[Ownership("X", "T", 25), Ownership("B", "T", 25), Ownership("W", "B", 100),
    ...            Ownership("C", "T", 50), Ownership("Y", "C", 90), Ownership("Z", "C", 10)]))
    >>> [(o.person.id, round(o.effective_share, 6)) for o in beneficial_owners(store, "T")]
    [('Y', 45.0), ('W', 25.0), ('X', 25.0)]
    """
    return ownership_report(
        store, company_id, as_of, threshold=threshold, max_hops=max_hops, max_paths=max_paths
    ).owners


def _explain(
    sub: Subgraph,
    index: HoldingIndex,
    officers: list[Officer],
    person_id: str,
    company_id: str,
    controls: bool,
    max_hops: int,
    max_paths: int,
) -> list[Path]:
    chains = [
        nodes
        for nodes, _ in ownership_paths(
            person_id, company_id, index, max_hops=max_hops, limit=max_paths
        )
    ]
    if controls:
        chain = control_path(person_id, company_id, index, officers)
        if chain is not None and chain not in chains:
            chains.append(chain)
    return [_path(sub, index, chain) for chain in chains]


def _path(sub: Subgraph, index: HoldingIndex, chain: list[str]) -> Path:
    links: list[PathLink] = []
    for a, b in itertools.pairwise(chain):
        held = index.holdings.get(a, {}).get(b)
        if held is not None and (held > 0.0 or (a, b) not in index.unshared):
            links.append(PathLink(LinkType.OWNS, a, b, share=held))
        elif held is not None:
            links.append(PathLink(LinkType.OWNS, a, b))
        else:
            links.append(PathLink(LinkType.OFFICER_OF, a, b, role=OfficerRole.ACTUAL_CONTROLLER))
    nodes = []
    for node_id in chain:
        node = sub.nodes[node_id]
        assert isinstance(node, (Company, Person))
        nodes.append(node)
    return Path(nodes=tuple(nodes), links=tuple(links))


def ownership_closure(
    store: GraphReader,
    entity_id: str,
    as_of: date | None = None,
    direction: ClosureDirection = ClosureDirection.UP,
    min_share: float = 0.0,
    *,
    max_hops: int = MAX_HOPS,
) -> list[EffectiveHolding]:
    """Every entity above (UP: persons and companies owning it, directly or not) or below
    (DOWN: companies it owns) an entity, with effective share, control and depth.

    ``controls`` is from the owner's side in both directions: UP, the listed entity controls
    ``entity_id``; DOWN, ``entity_id`` controls the listed company. Recorded ``actual_controller``
    positions count as one-link steps (so a company controlled only through such a position is
    listed DOWN, with share 0). Entities reached only through paths longer than ``max_hops`` are
    listed with share 0. ``min_share`` drops entities below that share unless they control.
    Sorted by share (largest first), then depth, then id.

    Examples
    --------
    >>> from graph.memory import MemoryStore
    >>> from graph.model import Ownership
    >>> from graph.store import WriteBatch
    >>> store = MemoryStore()
    >>> _ = store.write(WriteBatch(
    ...     nodes=[Person("P", "Li"), Company("D", "D Co"), Company("T", "T Co")],
    ...     links=[Ownership("P", "D", 50), Ownership("D", "T", 60)]))
    >>> [(h.entity.id, round(h.effective_share, 6), h.controls, h.depth)
    ...  for h in ownership_closure(store, "T")]
    [('D', 60.0, True, 1), ('P', 30.0, False, 2)]
    """
    if min_share < 0.0 or min_share > 100.0:
        raise InvalidInput(f"min_share must lie between 0 and 100, got {min_share}")
    _check_bounds(0.0, max_hops)
    as_of = as_of or date.today()
    upward = ClosureDirection(direction) is ClosureDirection.UP
    sub = extract_closure(store, entity_id, as_of, upward=upward)
    if entity_id not in sub.nodes:
        if store.get(entity_id) is None:
            raise NotFound(f"no entity with id {entity_id!r}")
        raise InvalidInput(f"{entity_id!r} is not a company or a person")
    index = HoldingIndex(sub.ownerships)
    officers = _actual_controllers(sub)
    shares = EffectiveOwnership(index, upward=upward, max_hops=max_hops).shares_of(entity_id)
    depth = depths(entity_id, index, upward=upward, officers=officers)
    if upward:
        controlling = controllers_of(entity_id, index, officers)
    else:
        controlling = controlled_companies(entity_id, index, officers)
    found: list[EffectiveHolding] = []
    for other, hops in depth.items():
        node = sub.nodes.get(other)
        if not isinstance(node, (Company, Person)):
            continue
        share = shares.get(other, 0.0)
        controls = other in controlling
        if share < min_share - EPSILON and not controls:
            continue
        found.append(EffectiveHolding(node, share, controls, hops))
    found.sort(key=lambda h: (-h.effective_share, h.depth, h.entity.id))
    return found


# -- JSON (camelCase, as in spec/GRAPHQL.md) ---------------------------------------------------


def _percent(value: float) -> float:
    return round(value, 9)


def beneficial_owner_json(owner: BeneficialOwner) -> dict[str, Any]:
    """A :class:`BeneficialOwner` as GraphQL ``BeneficialOwner``.

    >>> beneficial_owner_json(BeneficialOwner(Person("P", "Li"), 30.0000000001, False, []))
    {'person': {'id': 'P', 'name': 'Li', 'kind': 'PERSON'}, 'effectiveShare': 30.0, \
'controls': False, 'paths': []}
    """
    return {
        "person": entity_json(owner.person),
        "effectiveShare": _percent(owner.effective_share),
        "controls": owner.controls,
        "paths": [path_json(path) for path in owner.paths],
    }


def effective_holding_json(holding: EffectiveHolding) -> dict[str, Any]:
    """An :class:`EffectiveHolding` as GraphQL ``EffectiveHolding``."""
    return {
        "entity": entity_json(holding.entity),
        "effectiveShare": _percent(holding.effective_share),
        "controls": holding.controls,
        "depth": holding.depth,
    }


def data_issue_json(issue: DataIssue) -> dict[str, Any]:
    """A :class:`graph.ownership.DataIssue` as ``{"kind", "entityId", "detail", "value"}``."""
    return {
        "kind": issue.kind.value,
        "entityId": issue.entity_id,
        "detail": issue.detail,
        "value": issue.value,
    }
