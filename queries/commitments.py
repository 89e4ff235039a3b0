"""Credit commitments (spec/DOMAIN.md "Credit commitments"): record, verify, list.

An agency records a commitment a company or person made; a reviewer verifies it as kept or
broken. Verifying one as broken writes its COMMITMENT_BREACH record (:func:`graph.commitments.
breach_record`) in the same batch, so that the record exists exactly when the verification does;
from then on it has due process like any other record (objection, credit repair).

Like every decision, both writes take the day they run on as a parameter, carry their audit event
in the batch (``audit``), and are conditional on what they read (``expect``): a commitment id is
recorded once (a second recording of the same id is a :class:`graph.errors.Conflict`), and a
verification names the commitment version it read, so two reviewers cannot both verify it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from typing import Any

from graph.commitments import breach_id, breach_record
from graph.errors import Conflict, InvalidInput, NotFound
from graph.model import (
    Commitment,
    CommitmentKind,
    CommitmentOutcome,
    Company,
    Node,
    Person,
    Sanction,
    Severity,
)
from graph.store import GraphReader, GraphStore, WriteBatch, versioned_as

__all__ = ["commitments_of", "record_commitment", "verify_commitment"]


def _text(value: str | None) -> str | None:
    text = value.strip() if value is not None else ""
    return text or None


def record_commitment(
    store: GraphStore,
    commitment_id: str,
    promisor_id: str,
    kind: CommitmentKind,
    made: date,
    today: date,
    *,
    agency: str | None = None,
    matter: str | None = None,
    due: date | None = None,
    audit: Mapping[str, Any] | None = None,
) -> Commitment:
    """Record a pending commitment of ``promisor_id`` (a company or person).

    Raises
    ------
    InvalidInput
        For an empty id, a promisor that is not a company or person, a ``made`` after ``today``,
        or a ``due`` before ``made``.
    Conflict
        When a commitment with this id exists already (nothing is written).
    """
    ident = commitment_id.strip()
    if not ident:
        raise InvalidInput("a commitment needs an id")
    if made > today:
        raise InvalidInput(
            f"made {made.isoformat()} is after today ({today.isoformat()}); a commitment is "
            "recorded once it is made"
        )
    if due is not None and due < made:
        raise InvalidInput(f"due {due.isoformat()} is before made {made.isoformat()}")
    found = store.get_many([promisor_id, ident])
    promisor = found.get(promisor_id)
    if not isinstance(promisor, (Company, Person)):
        raise InvalidInput(f"promisor {promisor_id!r} is not a company or person in the graph")
    if ident in found:
        raise Conflict(
            f"{ident!r} is already recorded (a {found[ident].label.value}); choose another id"
        )
    commitment = Commitment(
        id=ident,
        promisor_id=promisor_id,
        kind=kind,
        made=made,
        agency=_text(agency),
        matter=_text(matter),
        due=due,
        version=1,
    )
    batch = WriteBatch(nodes=[commitment])
    if audit is not None:
        batch.audit.append({**audit, "result": ident})
    # version 0 expected: the id must not exist, also against a simultaneous recording
    store.write(batch, expect={ident: 0})
    return commitment


def verify_commitment(
    store: GraphStore,
    commitment_id: str,
    kept: bool,
    today: date,
    *,
    severity: Severity | None = None,
    version: int | None = None,
    audit: Mapping[str, Any] | None = None,
) -> tuple[Commitment, Sanction | None]:
    """Verify a pending commitment as kept or broken, on ``today``.

    A broken one gets ``severity`` (default general) and its COMMITMENT_BREACH record
    ``CB-<id>``, written in the same batch. Returns the commitment as written and the record.

    Raises
    ------
    NotFound
        When no commitment has this id.
    InvalidInput
        When it was already verified, when ``today`` is before it was made, or for a severity
        on a kept commitment.
    Conflict
        When ``version`` is not the version stored, or it changed while deciding.
    """
    node = store.get(commitment_id)
    if not isinstance(node, Commitment):
        raise NotFound(f"no commitment with id {commitment_id!r}")
    read = versioned_as(node)
    if version is not None and version != read:
        raise Conflict(
            f"commitment {commitment_id!r} changed since you read it (you read version "
            f"{version}, it is now {read}); reload it and verify again"
        )
    if node.outcome is not CommitmentOutcome.PENDING:
        verified = node.verified.isoformat() if node.verified is not None else "?"
        raise InvalidInput(
            f"commitment {commitment_id!r} was already verified as {node.outcome.value} on "
            f"{verified}; a verification is final (object to its breach record instead)"
        )
    if today < node.made:
        raise InvalidInput(
            f"commitment {commitment_id!r} was made {node.made.isoformat()}, after "
            f"{today.isoformat()}"
        )
    if kept and severity is not None:
        raise InvalidInput("a severity is given only for a broken commitment")
    outcome = CommitmentOutcome.KEPT if kept else CommitmentOutcome.BROKEN
    written = replace(
        node,
        outcome=outcome,
        verified=today,
        severity=None if kept else (severity or Severity.GENERAL),
        version=read + 1,
    )
    nodes: list[Node] = [written]
    expect = {written.id: read}
    record = None
    if not kept:
        existing = store.get(breach_id(written.id))
        if existing is not None:
            raise InvalidInput(
                f"{breach_id(written.id)!r} already exists (a {existing.label.value}); the "
                "breach record of this commitment can't be written"
            )
        record = replace(breach_record(written), version=1)
        nodes.append(record)
        expect[record.id] = 0
    batch = WriteBatch(nodes=nodes)
    if audit is not None:
        batch.audit.append({**audit, "result": written.id})
    store.write(batch, expect=expect)
    return written, record


def commitments_of(store: GraphReader, entity_id: str) -> list[Commitment]:
    """Every commitment ``entity_id`` made, by id (one extraction of the entity alone).

    Raises
    ------
    NotFound
        When no company or person has this id.
    """
    found = store.neighbourhood([entity_id], steps=[], hops=0, as_of=None)
    if not isinstance(found.nodes.get(entity_id), (Company, Person)):
        raise NotFound(f"no company or person has id {entity_id!r}")
    return found.commitments_of(entity_id)
