"""Credit commitments (spec/DOMAIN.md "Credit commitments"): their state at a date, and the
COMMITMENT_BREACH record a broken one becomes.

Pure functions over :class:`graph.model.Commitment` values. The loader and the verification
decision both build a breach record with :func:`breach_record`, so a commitment found broken in a
bundle and one found broken by a reviewer leave the same record in the store.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Final

from graph.model import (
    Commitment,
    CommitmentOutcome,
    Sanction,
    SanctionList,
    Severity,
)

__all__ = [
    "BREACH_PREFIX",
    "CommitmentState",
    "breach_id",
    "breach_record",
    "state_at",
]

BREACH_PREFIX: Final = "CB-"
"""The id of a broken commitment's COMMITMENT_BREACH record is this and the commitment id."""


class CommitmentState(StrEnum):
    """A commitment as it stands at a date."""

    PENDING = "pending"
    """Not verified yet (or verified only after the date), and not past its due date."""
    OVERDUE = "overdue"
    """Pending past its ``due`` date: reported, with no effect."""
    KEPT = "kept"
    BROKEN = "broken"


def breach_id(commitment_id: str) -> str:
    """The id of the COMMITMENT_BREACH record of a broken commitment.

    >>> breach_id("TX-2024-1")
    'CB-TX-2024-1'
    """
    return f"{BREACH_PREFIX}{commitment_id}"


def state_at(commitment: Commitment, as_of: date) -> CommitmentState:
    """The commitment's state at ``as_of``: its outcome counts from ``verified`` on.

    Examples
    --------
    >>> c = Commitment("k1", "c1", "TAX_DECLARATION", date(2024, 1, 1), due=date(2024, 3, 1),
    ...                verified=date(2024, 2, 1), outcome=CommitmentOutcome.KEPT)
    >>> [state_at(c, d).value for d in (date(2024, 1, 31), date(2024, 2, 1))]
    ['pending', 'kept']
    >>> pending = Commitment("k2", "c1", "TAX_DECLARATION", date(2024, 1, 1), due=date(2024, 3, 1))
    >>> [state_at(pending, d).value for d in (date(2024, 3, 1), date(2024, 3, 2))]
    ['pending', 'overdue']
    """
    verified = commitment.verified
    if (
        verified is not None
        and verified <= as_of
        and commitment.outcome is not CommitmentOutcome.PENDING
    ):
        return (
            CommitmentState.KEPT
            if commitment.outcome is CommitmentOutcome.KEPT
            else CommitmentState.BROKEN
        )
    if commitment.due is not None and commitment.due < as_of:
        return CommitmentState.OVERDUE
    return CommitmentState.PENDING


def breach_record(commitment: Commitment) -> Sanction:
    """The COMMITMENT_BREACH record of a broken commitment (spec/DOMAIN.md).

    Subject the promisor, authority the agency, severity the commitment's (default general),
    decided and start on the verification day, no end: the publicity periods of its severity
    end it, and it can be objected to, repaired and revoked like any record.

    Raises
    ------
    ValueError
        When the commitment is not verified as broken.

    Examples
    --------
    >>> c = Commitment("k1", "c1", "TAX_DECLARATION", date(2024, 1, 1), agency="Tax Bureau",
    ...                verified=date(2024, 5, 1), outcome=CommitmentOutcome.BROKEN)
    >>> record = breach_record(c)
    >>> record.id, record.subject_id, str(record.list), record.severity.value, record.start
    ('CB-k1', 'c1', 'COMMITMENT_BREACH', 'general', datetime.date(2024, 5, 1))
    """
    if commitment.outcome is not CommitmentOutcome.BROKEN or commitment.verified is None:
        raise ValueError(f"commitment {commitment.id!r} is not verified as broken")
    matter = f" ({commitment.matter})" if commitment.matter else ""
    return Sanction(
        id=breach_id(commitment.id),
        subject_id=commitment.promisor_id,
        list=SanctionList.COMMITMENT_BREACH,
        authority=commitment.agency,
        severity=commitment.severity or Severity.GENERAL,
        decided=commitment.verified,
        start=commitment.verified,
        description=(
            f"{commitment.kind} commitment {commitment.id}{matter} made "
            f"{commitment.made.isoformat()} found broken on {commitment.verified.isoformat()}"
        ),
    )
