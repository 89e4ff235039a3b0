"""Control by recursive majority and by recorded actual controllers (DOMAIN.md "Ownership and
control"): O controls C when O, together with the companies O controls, holds more than 50% of C,
or O is recorded as C's ``actual_controller``. No hop limit; nobody controls itself."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable

from graph.model import Officer, OfficerRole
from graph.ownership.holdings import (
    CONTROL_THRESHOLD,
    EPSILON,
    HoldingIndex,
    actual_controller_links,
)
from graph.ownership.sweep import sweep
from graph.ownership.walk import hop_distances

__all__ = ["control_map", "control_path", "controlled_companies", "controllers_of"]


def controlled_companies(
    owner_id: str, index: HoldingIndex, officers: Iterable[Officer] = ()
) -> set[str]:
    """Every company ``owner_id`` controls by recursive majority (no hop limit).

    O controls C when O, together with the companies O controls, owns more than 50% of C; the
    companies of which O is the recorded ``actual_controller`` (among ``officers``) are controlled
    too, and count as O's for the majority of the next level. ``index`` must hold every OWNS link
    out of ``owner_id`` and the companies it reaches (its downstream closure).

    Examples
    --------
    >>> from graph.model import Ownership
    >>> links = [Ownership("P", "A", 60.0), Ownership("P", "B", 30.0), Ownership("A", "B", 30.0)]
    >>> sorted(controlled_companies("P", HoldingIndex(links)))
    ['A', 'B']
    >>> sorted(controlled_companies("P", HoldingIndex([Ownership("P", "A", 50.0)])))
    []
    """
    controlled: set[str] = set()
    tally: dict[str, float] = defaultdict(float)
    queue = [owner_id]
    for officer in officers:
        if (
            officer.person_id == owner_id
            and officer.role is OfficerRole.ACTUAL_CONTROLLER
            and officer.company_id != owner_id
            and officer.company_id not in controlled
        ):
            controlled.add(officer.company_id)
            queue.append(officer.company_id)
    # Each member of the group adds its holdings once, when it joins: linear in the links.
    while queue:
        holder = queue.pop()
        for company, share in index.holdings.get(holder, {}).items():
            if company == owner_id or company in controlled:
                continue
            tally[company] += share
            if tally[company] > CONTROL_THRESHOLD + EPSILON:
                controlled.add(company)
                queue.append(company)
    return controlled


def control_map(
    index: HoldingIndex,
    officers: Iterable[Officer] = (),
    companies: Iterable[str] | None = None,
) -> dict[str, set[str]]:
    """The controllers of every company at once: company id -> ids of everyone who controls it.

    The least fixpoint of the recursive majority rule, computed owners-first so that an acyclic
    graph is settled in one pass; inside and below cycles the affected companies are revisited
    until nothing changes. ``companies`` limits the work to them and what lies above them.
    Companies nobody controls are left out.

    Examples
    --------
    >>> from graph.model import Ownership
    >>> links = [Ownership("P", "A", 60), Ownership("A", "B", 51), Ownership("Q", "B", 49)]
    >>> {k: sorted(v) for k, v in sorted(control_map(HoldingIndex(links)).items())}
    {'A': ['P'], 'B': ['A', 'P']}
    """
    actual = actual_controller_links(officers, upward=True)
    within: set[str] | None = None
    roots: list[str] = []
    if companies is not None:
        roots = list(companies)
        within = set(roots)
        for root in roots:
            within.update(hop_distances(root, index.owners))
    settled = sweep(
        index.owners, index.holdings, keep=None, shares=False, actual=actual, within=within
    )
    if companies is None:
        return settled.ctrl
    wanted = set(roots)
    return {k: v for k, v in settled.ctrl.items() if k in wanted}


def controllers_of(
    company_id: str, index: HoldingIndex, officers: Iterable[Officer] = ()
) -> set[str]:
    """Everyone (person or company) who controls ``company_id``: by recursive majority over the
    ownership links in ``index``, or as its recorded ``actual_controller`` among ``officers`` (also
    of a company that controls it).

    ``index`` must hold the company's whole upstream ownership (every link above it).

    Examples
    --------
    >>> from graph.model import Ownership
    >>> links = [Ownership("P", "A", 60), Ownership("A", "B", 40), Ownership("P", "B", 11)]
    >>> sorted(controllers_of("B", HoldingIndex(links)))  # A's 40% alone is not a majority
    ['P']
    """
    return control_map(index, officers, companies=[company_id]).get(company_id, set())


def control_path(
    controller: str,
    company_id: str,
    index: HoldingIndex,
    officers: Iterable[Officer] = (),
) -> list[str] | None:
    """A shortest chain ``controller -> ... -> company_id`` through companies ``controller``
    controls (each link carries shares), or None when it does not control the company by holdings.

    A chain made of one recorded ``actual_controller`` position is ``[controller, company_id]``.

    Examples
    --------
    >>> from graph.model import Ownership
    >>> links = [Ownership(f"C{i}", f"C{i + 1}", 60) for i in range(12)]
    >>> control_path("C0", "C12", HoldingIndex(links)) == [f"C{i}" for i in range(13)]
    True
    """
    officers = list(officers)
    group = controlled_companies(controller, index, officers)
    if company_id not in group:
        return None
    via_role = actual_controller_links(officers, upward=False).get(controller, set())
    previous: dict[str, str] = {}
    queue = deque([controller])
    seen = {controller}
    while queue:
        node = queue.popleft()
        nexts = [c for c, s in index.holdings.get(node, {}).items() if s > 0.0]
        if node == controller:
            nexts += sorted(via_role)
        for other in nexts:
            if other in seen or other not in group:
                continue
            seen.add(other)
            previous[other] = node
            if other == company_id:
                chain = [other]
                while chain[-1] != controller:
                    chain.append(previous[chain[-1]])
                return chain[::-1]
            queue.append(other)
    return None  # pragma: no cover - a controlled company is reachable through the group
