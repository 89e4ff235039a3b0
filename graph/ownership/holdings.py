"""OWNS links indexed for arithmetic, and the thresholds of DOMAIN.md "Ownership and control"."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from graph.model import Officer, OfficerRole, Ownership

__all__ = [
    "BO_THRESHOLD",
    "CONTROL_THRESHOLD",
    "EPSILON",
    "MAX_HOPS",
    "PERCENT",
    "HoldingIndex",
    "actual_controller_links",
]

CONTROL_THRESHOLD = 50.0
"""More than this many percent is control; exactly 50% is not."""

BO_THRESHOLD = 25.0
"""A natural person with at least this effective share is a beneficial owner (exactly 25% is)."""

MAX_HOPS = 10
"""Ownership paths longer than this many links are ignored for effective ownership."""

EPSILON = 1e-9
"""Tolerance (in percent) for threshold comparisons, so that 30.1 + 19.9 counts as exactly 50."""

PERCENT = 100.0
"""A whole company in percent: shares come and go in percent, the arithmetic runs on fractions."""


class HoldingIndex:
    """OWNS links indexed both ways, with shares summed per (owner, company) pair.

    Two links between the same pair (for instance two share tranches with different start dates,
    both in force) add up. Self-holdings (a company owning its own shares) are dropped: a company
    never controls itself, and its own shares do not rescale the others; they are kept aside in
    ``self_held`` for the data-issue report. A link without a share adds 0 to its pair, so the pair
    is still a link (for depth, paths and cycles) but carries no ownership.

    Parameters
    ----------
    ownerships
        The OWNS links to index (typically an ownership closure extracted from a store).
    upper
        A share given as a range counts with its maximum (else its minimum): effective
        ownership over ranges is an interval, computed once on the minimums and once on the
        maximums (spec INTEROP.md "Ranges"). Exact shares are the same either way.

    Examples
    --------
    >>> index = HoldingIndex([Ownership("P", "A", 30.0), Ownership("P", "A", 20.0),
    ...                       Ownership("A", "A", 10.0), Ownership("Q", "A")])
    >>> dict(index.owners["A"]), dict(index.self_held), sorted(index.unshared)
    ({'P': 50.0, 'Q': 0.0}, {'A': 10.0}, [('Q', 'A')])
    """

    def __init__(self, ownerships: Iterable[Ownership], *, upper: bool = False) -> None:
        held: dict[str, dict[str, float]] = {}
        owners: dict[str, dict[str, float]] = {}
        self_held: dict[str, float] = {}
        unshared: set[tuple[str, str]] = set()
        held_get, owners_get = held.get, owners.get
        for link in ownerships:
            owner, company, share = link.owner_id, link.company_id, link.share
            if share is None:
                share = link.share_max if upper else link.share_min
            if share is None:
                unshared.add((owner, company))
                share = 0.0
            if owner == company:
                self_held[company] = self_held.get(company, 0.0) + share
                continue
            row = held_get(owner)
            if row is None:
                held[owner] = {company: share}
            else:
                row[company] = row.get(company, 0.0) + share
            column = owners_get(company)
            if column is None:
                owners[company] = {owner: share}
            else:
                column[owner] = column.get(owner, 0.0) + share
        self.holdings: Mapping[str, Mapping[str, float]] = held
        """owner id -> company id -> percent held directly."""
        self.owners: Mapping[str, Mapping[str, float]] = owners
        """company id -> owner id -> percent held directly."""
        self.self_held: Mapping[str, float] = self_held
        """company id -> percent of its own shares it holds (left out of every computation)."""
        self.unshared: frozenset[tuple[str, str]] = frozenset(unshared)
        """(owner, company) pairs with at least one link that records no share."""

    def adjacency(self, upward: bool) -> Mapping[str, Mapping[str, float]]:
        """``owners`` when ``upward`` (who owns each company), else ``holdings``.

        Examples
        --------
        >>> index = HoldingIndex([Ownership("P", "A", 60.0)])
        >>> dict(index.adjacency(upward=True)["A"]), dict(index.adjacency(upward=False)["P"])
        ({'P': 60.0}, {'A': 60.0})
        """
        return self.owners if upward else self.holdings

    def entities(self) -> set[str]:
        """Every id that takes part in an ownership link (self-holdings included).

        Examples
        --------
        >>> sorted(HoldingIndex([Ownership("P", "A", 60.0), Ownership("B", "B", 5.0)]).entities())
        ['A', 'B', 'P']
        """
        return set(self.holdings) | set(self.owners) | set(self.self_held)


def actual_controller_links(officers: Iterable[Officer], upward: bool) -> dict[str, set[str]]:
    """The recorded ``actual_controller`` positions among ``officers`` as one-link steps.

    Upward: company id -> ids of its actual controllers; downward: person id -> the companies
    they are recorded as controlling. Other roles are left out.

    Examples
    --------
    >>> officers = [Officer("P", "A", OfficerRole.ACTUAL_CONTROLLER),
    ...             Officer("Q", "A", OfficerRole.LEGAL_REPRESENTATIVE)]
    >>> dict(actual_controller_links(officers, upward=True))
    {'A': {'P'}}
    >>> dict(actual_controller_links(officers, upward=False))
    {'P': {'A'}}
    """
    links: dict[str, set[str]] = defaultdict(set)
    for officer in officers:
        if officer.role is OfficerRole.ACTUAL_CONTROLLER:
            if upward:
                links[officer.company_id].add(officer.person_id)
            else:
                links[officer.person_id].add(officer.company_id)
    return links
