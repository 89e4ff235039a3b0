"""Beneficial owners of many companies in one pass: the table the national batch publishes.

One ownership-closure extraction for all the companies together (their whole upstream, with the
``actual_controller`` positions on it; see :func:`queries.ownership.extract_closure`), then the
vectorised engine (:func:`graph.ownership.all_beneficial_owners`). The answers are those of
:func:`queries.ownership.beneficial_owners` for each company, without the explanations.

Without a list of companies, every company in the store is answered for (its ids read a page at
a time with :func:`graph.store.scan_ids`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date

from graph.errors import InvalidInput, NotFound
from graph.model import Company, NodeLabel, OfficerRole, Person
from graph.ownership import BO_THRESHOLD, MAX_HOPS, all_beneficial_owners
from graph.store import GraphReader, scan_ids
from queries.ownership import extract_closure

__all__ = ["OwnerRow", "beneficial_owner_rows"]

_SHOWN_MISSING = 5
"""How many unknown ids an error message names."""


@dataclass(frozen=True, slots=True)
class OwnerRow:
    """One beneficial owner of one company."""

    company_id: str
    owner_id: str
    """A natural person."""
    effective_share: float
    """Percent (0-100), over the ownership paths of at most ``max_hops`` links."""
    controls: bool
    """By recursive majority or as a recorded actual controller (no hop limit)."""


def beneficial_owner_rows(
    store: GraphReader,
    as_of: date,
    threshold: float = BO_THRESHOLD,
    max_hops: int = MAX_HOPS,
    *,
    companies: Iterable[str] | None = None,
) -> Iterator[OwnerRow]:
    """Every beneficial owner of every company in ``companies`` (None: every company in the
    store), sorted by company then owner.

    A natural person is a beneficial owner when their effective share is at least ``threshold``
    percent or they control the company (DOMAIN.md "Ownership and control"), exactly as
    :func:`queries.ownership.beneficial_owners` answers for one company.

    Parameters
    ----------
    store
        Any :class:`graph.store.GraphReader`.
    as_of
        Links in force on this day.
    threshold
        Percent; exactly the threshold qualifies.
    max_hops
        Ownership paths longer than this are ignored for the share (not for control).
    companies
        The company ids to answer for (repeats are answered once; None: all of them). A company
        without beneficial owners has no row.

    Returns
    -------
    Iterator[OwnerRow]
        Sorted by (company id, owner id).

    Raises
    ------
    NotFound
        When some ids are not in the store (the message names a few).
    InvalidInput
        When an id is not a company, or the bounds are out of range.

    Examples
    --------
    >>> from graph.memory import MemoryStore
    >>> from graph.model import Ownership
    >>> from graph.store import WriteBatch
    >>> store = MemoryStore()
    >>> _ = store.write(WriteBatch(
    ...     nodes=[Company("A", "A Co"), Company("B", "B Co"), Person("P", "Li"),
    ...            Person("Q", "Wu")],
    ...     links=[Ownership("P", "A", 60), Ownership("Q", "A", 40), Ownership("A", "B", 30)]))
    >>> for row in beneficial_owner_rows(store, date(2025, 1, 1), companies=["B", "A"]):
    ...     print(row.company_id, row.owner_id, round(row.effective_share, 6), row.controls)
    A P 60.0 True
    A Q 40.0 False
    >>> len(list(beneficial_owner_rows(store, date(2025, 1, 1))))  # every company
    2
    """
    if not 0.0 <= threshold <= 100.0:
        raise InvalidInput(f"threshold must lie between 0 and 100, got {threshold}")
    if max_hops < 1:
        raise InvalidInput(f"max_hops must be at least 1, got {max_hops}")
    if companies is None:
        companies = (i for page in scan_ids(store, NodeLabel.COMPANY) for i in page)
    wanted = sorted(set(companies))
    sub = extract_closure(store, wanted, as_of, upward=True)
    _check_companies(wanted, sub.nodes)
    persons = {node_id for node_id, node in sub.nodes.items() if isinstance(node, Person)}
    officers = [o for o in sub.officers if o.role is OfficerRole.ACTUAL_CONTROLLER]
    table = all_beneficial_owners(
        sub.ownerships,
        persons,
        threshold=threshold,
        max_hops=max_hops,
        officers=officers,
        companies=wanted,
    )
    rows = [OwnerRow(*row) for row in table.rows()]
    rows.sort(key=lambda row: (row.company_id, row.owner_id))
    return iter(rows)


def _check_companies(wanted: list[str], nodes: Mapping[str, object]) -> None:
    missing = [node_id for node_id in wanted if node_id not in nodes]
    if missing:
        shown = ", ".join(repr(m) for m in missing[:_SHOWN_MISSING])
        more = f" and {len(missing) - _SHOWN_MISSING} more" if len(missing) > _SHOWN_MISSING else ""
        raise NotFound(
            f"{len(missing)} of the {len(wanted)} ids are not entities in the store: {shown}{more};"
            " check the list against the store it was made for"
        )
    others = [node_id for node_id in wanted if not isinstance(nodes[node_id], Company)]
    if others:
        shown = ", ".join(repr(o) for o in others[:_SHOWN_MISSING])
        raise InvalidInput(
            f"{len(others)} ids in the list are not companies ({shown}); beneficial owners are "
            "of companies: remove them from the list"
        )
