"""What in the ownership data an analyst should look at: holdings over 100%, self-held shares,
links without a share or with a share out of range, circular ownership."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from graph.model import Ownership
from graph.ownership.cycles import cycles_through
from graph.ownership.holdings import EPSILON, MAX_HOPS, PERCENT, HoldingIndex

__all__ = ["DataIssue", "IssueKind", "data_issues"]


class IssueKind(StrEnum):
    """The kinds of :class:`DataIssue`, in the order a report lists them."""

    HOLDINGS_OVER_100 = "HOLDINGS_OVER_100"
    """The recorded holders of a company hold more than 100% in all (used as given)."""
    SELF_HELD_SHARES = "SELF_HELD_SHARES"
    """A company holds its own shares (left out; the other holders are not rescaled)."""
    MISSING_SHARE = "MISSING_SHARE"
    """An OWNS link without a share (a link, but it carries no ownership)."""
    SHARE_OUT_OF_RANGE = "SHARE_OUT_OF_RANGE"
    """A recorded share outside 0 < share <= 100."""
    CIRCULAR_OWNERSHIP = "CIRCULAR_OWNERSHIP"
    """The company takes part in an ownership cycle."""


@dataclass(frozen=True, slots=True)
class DataIssue:
    """Something in the ownership data an analyst should look at; ``value`` is a percent if any.

    Examples
    --------
    >>> DataIssue(IssueKind.SELF_HELD_SHARES, "A", "A holds 5% of its own shares", 5.0).kind.value
    'SELF_HELD_SHARES'
    """

    kind: IssueKind
    entity_id: str
    detail: str
    value: float | None = None


def data_issues(
    index: HoldingIndex,
    companies: Iterable[str] | None = None,
    ownerships: Iterable[Ownership] = (),
) -> list[DataIssue]:
    """Data issues of ``companies`` (None: every company in ``index``), sorted by entity and kind.

    ``ownerships`` (the raw links) adds SHARE_OUT_OF_RANGE checks per link.

    Examples
    --------
    >>> index = HoldingIndex([Ownership("P", "A", 70), Ownership("Q", "A", 40),
    ...                       Ownership("A", "A", 5)])
    >>> [(i.kind.value, i.value) for i in data_issues(index)]
    [('HOLDINGS_OVER_100', 110.0), ('SELF_HELD_SHARES', 5.0)]
    """
    wanted = sorted(set(index.owners) | set(index.self_held)) if companies is None else companies
    wanted_set = set(wanted)
    issues: list[DataIssue] = []
    for company in wanted:
        total = sum(index.owners.get(company, {}).values())
        if total > PERCENT + EPSILON:
            issues.append(
                DataIssue(
                    IssueKind.HOLDINGS_OVER_100,
                    company,
                    f"recorded holders of {company} hold {total:g}% in all; used as given",
                    total,
                )
            )
        if company in index.self_held:
            own = index.self_held[company]
            issues.append(
                DataIssue(
                    IssueKind.SELF_HELD_SHARES,
                    company,
                    f"{company} holds {own:g}% of its own shares; left out, others not rescaled",
                    own,
                )
            )
        if cycles_through(company, index, max_length=MAX_HOPS, limit=1):
            issues.append(
                DataIssue(
                    IssueKind.CIRCULAR_OWNERSHIP,
                    company,
                    f"{company} takes part in circular ownership",
                )
            )
    for owner, company in sorted(index.unshared):
        if company in wanted_set:
            issues.append(
                DataIssue(
                    IssueKind.MISSING_SHARE,
                    company,
                    f"the OWNS link {owner} -> {company} records no share: a link, no ownership",
                )
            )
    for link in ownerships:
        share = link.share
        if share is not None and not (0.0 < share <= PERCENT) and link.company_id in wanted_set:
            issues.append(
                DataIssue(
                    IssueKind.SHARE_OUT_OF_RANGE,
                    link.company_id,
                    f"the OWNS link {link.owner_id} -> {link.company_id} records {share:g}%",
                    share,
                )
            )
    order = list(IssueKind)
    issues.sort(key=lambda i: (i.entity_id, order.index(i.kind), i.detail))
    return issues
