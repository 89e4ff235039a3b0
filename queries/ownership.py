"""Beneficial owners and ownership closures (DOMAIN.md "Ownership and control").

Each question costs one extraction through the store port (the ownership closure, with the
``actual_controller`` positions on it; a closure deeper than one extraction's horizon is continued
from its edge, so control has no hop limit) and then pure arithmetic from :mod:`graph.ownership`.

Percentages throughout (0-100), as in the input and in spec/GRAPHQL.md.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from graph.errors import InvalidInput, NotFound
from graph.explain import Path, PathLink, path_node_ids
from graph.model import (
    Company,
    Direction,
    Link,
    LinkType,
    Officer,
    OfficerRole,
    Ownership,
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
from graph.store import CLOSURE_HOPS, GraphReader, Step, Subgraph

__all__ = [
    "BeneficialOwner",
    "ClosureDirection",
    "EffectiveHolding",
    "OwnershipReport",
    "beneficial_owners",
    "extract_closure",
    "ownership_closure",
    "ownership_report",
]


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
    effective_share_max: float | None = None
    """The effective share computed on the maximums of share ranges (None: the same as
    ``effective_share``, as for exact shares)."""
    possible: bool = False
    """Listed only because the maximum reaches the threshold: a *possible* beneficial owner
    (spec INTEROP.md "Ranges")."""


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
    nodes: dict[str, Company | Person] = field(default_factory=dict)
    """The entities on the owners' paths, by id (to name them)."""
    stated: list[Ownership] = field(default_factory=list)
    """Indirect interests in the company as a source stated them (BODS ``indirect``), shown
    beside the computed shares and never added into them."""


def extract_closure(
    store: GraphReader,
    entity_ids: str | Iterable[str],
    as_of: date | None,
    *,
    upward: bool = True,
) -> Subgraph:
    """The whole ownership closure of ``entity_ids`` (one id or several; upward: their owners,
    theirs, ...; downward: what they hold, ...) with the ``actual_controller`` positions met on
    the way.

    One store call for any number of seeds, plus one more per :data:`CLOSURE_HOPS` hops of
    depth (rare). The seeds are in the result's nodes when they exist. The closure of several
    seeds is the union of their closures: whatever is computed for one of them over it (shares,
    control) equals what its own closure gives, since a closure is closed under the walk.
    """
    direction = Direction.IN if upward else Direction.OUT
    steps = [Step(LinkType.OWNS, direction), Step(LinkType.OFFICER_OF, direction, _ACTUAL)]
    result = Subgraph()
    seeds = [entity_ids] if isinstance(entity_ids, str) else sorted(set(entity_ids))
    expanded: set[str] = set()
    while seeds:
        part = store.neighbourhood(seeds, steps=steps, hops=CLOSURE_HOPS, as_of=as_of)
        result.merge(part)
        reach = _distances(part, seeds, upward)
        expanded.update(node for node, hops in reach.items() if hops < CLOSURE_HOPS)
        seeds = sorted(
            node for node, hops in reach.items() if hops >= CLOSURE_HOPS and node not in expanded
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
    highs = _upper_shares(ownerships, company_id, persons, max_hops)
    owners: list[BeneficialOwner] = []
    by_pair = _links_by_pair(sub)  # once per report, not per owner
    for person_id in sorted(persons):
        share = shares.get(person_id, 0.0)
        high = share if highs is None else max(share, highs.get(person_id, 0.0))
        controls = person_id in controllers
        sure = share > 0.0 and share >= threshold - EPSILON
        possible = not sure and not controls and high > 0.0 and high >= threshold - EPSILON
        if not controls and not sure and not possible:
            continue
        person = sub.nodes[person_id]
        assert isinstance(person, Person)
        paths = _explain(
            by_pair, index, officers, person_id, company_id, controls, max_hops, max_paths
        )
        owners.append(
            BeneficialOwner(
                person,
                share,
                controls,
                paths,
                effective_share_max=None if highs is None else high,
                possible=possible,
            )
        )
    owners.sort(key=lambda o: (-o.effective_share, not o.controls, o.person.id))
    companies = sorted(n for n, node in sub.nodes.items() if isinstance(node, Company))
    issues = data_issues(index, companies, ownerships)
    on_paths = path_node_ids(path for owner in owners for path in owner.paths)
    nodes = {
        node_id: node
        for node_id in on_paths
        if isinstance(node := sub.nodes.get(node_id), (Company, Person))
    }
    stated = store.neighbourhood(
        [company_id], steps=[Step(LinkType.OWNS, Direction.IN, stated=True)], hops=1, as_of=as_of
    ).ownerships
    stated.sort(key=lambda link: link.key)
    return OwnershipReport(
        company=company, owners=owners, issues=issues, nodes=nodes, stated=stated
    )


def _upper_shares(
    ownerships: list[Ownership], company_id: str, persons: set[str], max_hops: int
) -> dict[str, float] | None:
    """Effective shares on the maximums of the share ranges, or None when no link has a range
    (then they equal the shares computed on the minimums, and nothing more is computed)."""
    if not any(o.share is None and o.share_max is not None for o in ownerships):
        return None
    upper = HoldingIndex(ownerships, upper=True)
    return EffectiveOwnership(upper, max_hops=max_hops, keep=persons).shares_of(company_id)


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
    by_pair: Mapping[tuple[str, str, bool], list[Link]],
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
    return [_path(by_pair, index, chain) for chain in chains]


def _links_by_pair(sub: Subgraph) -> dict[tuple[str, str, bool], list[Link]]:
    """Stored links by (source, target, is an actual-controller position)."""
    found: dict[tuple[str, str, bool], list[Link]] = {}
    for link in sub.links.values():
        if isinstance(link, Ownership):
            found.setdefault((link.owner_id, link.company_id, False), []).append(link)
        elif isinstance(link, Officer) and link.role is OfficerRole.ACTUAL_CONTROLLER:
            found.setdefault((link.person_id, link.company_id, True), []).append(link)
    return found


def _path(
    by_pair: Mapping[tuple[str, str, bool], list[Link]], index: HoldingIndex, chain: list[str]
) -> Path:
    """The ownership (or actual-control) chain as a path. A step backed by one stored link
    shows that link with its dates; parallel holdings of one pair show their summed share."""
    links: list[PathLink] = []
    for a, b in itertools.pairwise(chain):
        held = index.holdings.get(a, {}).get(b)
        stored = by_pair.get((a, b, held is None), [])
        if len(stored) == 1:
            links.append(PathLink.of(stored[0]))
        elif held is None:
            links.append(PathLink(LinkType.OFFICER_OF, a, b, role=OfficerRole.ACTUAL_CONTROLLER))
        elif held > 0.0 or (a, b) not in index.unshared:
            links.append(PathLink(LinkType.OWNS, a, b, share=held))
        else:
            links.append(PathLink(LinkType.OWNS, a, b))
    return Path(nodes=tuple(chain), links=tuple(links))


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
