"""Checks every store makes before it applies a write batch, so both refuse the same batches."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from graph.errors import Conflict, InvalidInput
from graph.model import Case, Commitment, Link, LinkType, NodeLabel, Sanction
from graph.store import WriteBatch

__all__ = ["check_batch", "check_expectations", "check_versions"]

_ENTITY = (NodeLabel.COMPANY, NodeLabel.PERSON)
_CASE_SUBJECTS = (NodeLabel.COMPANY, NodeLabel.PERSON, NodeLabel.SANCTION)
_SOURCE_LABELS: dict[LinkType, tuple[NodeLabel, ...]] = {
    LinkType.OWNS: _ENTITY,
    LinkType.OFFICER_OF: (NodeLabel.PERSON,),
    LinkType.REGISTERED_AT: _ENTITY,
}
_TARGET_LABELS: dict[LinkType, tuple[NodeLabel, ...]] = {
    LinkType.OWNS: (NodeLabel.COMPANY,),
    LinkType.OFFICER_OF: (NodeLabel.COMPANY,),
    LinkType.REGISTERED_AT: (NodeLabel.ADDRESS,),
}


def check_batch(
    batch: WriteBatch, stored_labels: Callable[[Iterable[str]], dict[str, NodeLabel]]
) -> None:
    """Raise :class:`InvalidInput` when the batch reuses an id under another label or when a
    link or a sanction record names a node that is neither in the batch nor in the store.

    ``stored_labels`` answers, in one call, the label of each of the given ids that the store has.
    """
    wanted: set[str] = {node.id for node in batch.nodes}
    for node in batch.nodes:
        if isinstance(node, (Sanction, Case)):
            wanted.add(node.subject_id)
        elif isinstance(node, Commitment):
            wanted.add(node.promisor_id)
    for link in batch.links:
        wanted.add(link.source)
        wanted.add(link.target)
    labels = dict(stored_labels(wanted))
    for node in batch.nodes:
        known = labels.get(node.id)
        if known is not None and known is not node.label:
            raise InvalidInput(f"id {node.id!r} is already a {known}, not a {node.label}")
        labels[node.id] = node.label
    for node in batch.nodes:
        if isinstance(node, Sanction):
            _require(node, node.subject_id, labels, _ENTITY)
        elif isinstance(node, Case):
            _require(node, node.subject_id, labels, _CASE_SUBJECTS)
        elif isinstance(node, Commitment):
            _require(node, node.promisor_id, labels, _ENTITY)
    for link in batch.links:
        _require(link, link.source, labels, _SOURCE_LABELS[link.type])
        _require(link, link.target, labels, _TARGET_LABELS[link.type])


def _require(
    item: Sanction | Case | Commitment | Link,
    node_id: str,
    labels: dict[str, NodeLabel],
    allowed: tuple[NodeLabel, ...],
) -> None:
    label = labels.get(node_id)
    if label is not None and label in allowed:
        return
    if isinstance(item, (Sanction, Case, Commitment)):
        what = f"{item.label.value.lower()} {item.id!r}"
    else:
        what = f"{item.type.value} link {item.source!r} -> {item.target!r}"
    if label is None:
        raise InvalidInput(f"{what} names {node_id!r}, which is not in the graph")
    names = " or ".join(a.value for a in allowed)
    raise InvalidInput(f"{what} names {node_id!r}, a {label.value}; expected a {names}")


def check_expectations(batch: WriteBatch, expect: Mapping[str, int]) -> None:
    """A conditional write names only cases, sanction records and commitments it writes: a
    version check guards a change."""
    written = {node.id for node in batch.nodes if isinstance(node, (Case, Sanction, Commitment))}
    stray = sorted(set(expect) - written)
    if stray:
        raise InvalidInput(f"the write expects versions of records it does not write: {stray}")


def check_versions(expect: Mapping[str, int], stored: Mapping[str, int]) -> None:
    """Raise :class:`Conflict` unless every record has the version the caller read (0: a case
    that does not exist yet)."""
    for node_id, version in expect.items():
        current = stored.get(node_id, 0)
        if current != version:
            raise Conflict(
                f"{node_id!r} changed while you were deciding (you read version {version}, "
                f"it is now {current}); reload it and decide again"
            )
