"""Control over companies (DOMAIN.md "Ownership and control"), as pure functions over OWNS links.

Shared by the rule engine (R1 reaches companies a sanctioned company controls; R2 reaches persons
who control a judgment debtor) and by the investigation queries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from graph.model import Officer, OfficerRole, Ownership

__all__ = ["CONTROL_THRESHOLD", "HoldingIndex", "controlled_companies", "controllers_of"]

CONTROL_THRESHOLD = 50.0
"""More than this many percent is control; exactly 50% is not."""


class HoldingIndex:
    """OWNS links indexed both ways, with shares summed per (owner, company) pair.

    Two links between the same pair (for instance two share tranches with different start dates,
    both in force) add up. Self-holdings (a company owning its own shares) are dropped: a company
    never controls itself, and its own shares do not rescale the others.
    """

    def __init__(self, ownerships: Iterable[Ownership]) -> None:
        held: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        owners: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for link in ownerships:
            if link.owner_id == link.company_id:
                continue
            share = link.share or 0.0
            held[link.owner_id][link.company_id] += share
            owners[link.company_id][link.owner_id] += share
        self.holdings: Mapping[str, Mapping[str, float]] = held
        """owner id -> company id -> percent held directly."""
        self.owners: Mapping[str, Mapping[str, float]] = owners
        """company id -> owner id -> percent held directly."""


def controlled_companies(owner_id: str, index: HoldingIndex) -> set[str]:
    """Every company ``owner_id`` controls by recursive majority (no hop limit).

    O controls C when O, together with the companies O controls, owns more than 50% of C.

    Examples
    --------
    >>> links = [Ownership("P", "A", 60.0), Ownership("P", "B", 30.0), Ownership("A", "B", 30.0)]
    >>> sorted(controlled_companies("P", HoldingIndex(links)))
    ['A', 'B']
    """
    controlled: set[str] = set()
    holders = {owner_id}
    # Companies can only become controlled, never lose it, so a work list reaches the fixpoint.
    candidates = list(index.holdings.get(owner_id, {}))
    while candidates:
        company = candidates.pop()
        if company in controlled or company == owner_id:
            continue
        total = sum(
            share for holder, share in index.owners.get(company, {}).items() if holder in holders
        )
        if total > CONTROL_THRESHOLD:
            controlled.add(company)
            holders.add(company)
            candidates.extend(index.holdings.get(company, {}))
            # A newly controlled holder can tip companies already looked at.
            candidates.extend(c for h in holders for c in index.holdings.get(h, {}))
    return controlled


def controllers_of(
    company_id: str, index: HoldingIndex, officers: Iterable[Officer] = ()
) -> set[str]:
    """Everyone (person or company) who controls ``company_id``: by recursive majority over the
    ownership links in ``index``, or as its recorded ``actual_controller`` among ``officers``.

    ``index`` must hold the company's whole upstream ownership (every link above it).
    """
    upstream: set[str] = set()
    stack = [company_id]
    while stack:
        current = stack.pop()
        for owner in index.owners.get(current, {}):
            if owner not in upstream and owner != company_id:
                upstream.add(owner)
                stack.append(owner)
    found = {o for o in upstream if company_id in controlled_companies(o, index)}
    found.update(
        o.person_id
        for o in officers
        if o.company_id == company_id and o.role is OfficerRole.ACTUAL_CONTROLLER
    )
    return found
