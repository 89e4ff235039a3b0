"""Checks every store makes before it applies a write batch, so both refuse the same batches."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from graph.errors import Conflict, InvalidInput
from graph.model import (
    Batch,
    Case,
    Commitment,
    Link,
    LinkType,
    Node,
    NodeLabel,
    Product,
    Sanction,
    Shipped,
    TransformedInto,
)
from graph.store import WriteBatch

__all__ = ["check_batch", "check_expectations", "check_versions"]

_ENTITY = (NodeLabel.COMPANY, NodeLabel.PERSON)
_CASE_SUBJECTS = (NodeLabel.COMPANY, NodeLabel.PERSON, NodeLabel.SANCTION)
_SOURCE_LABELS: dict[LinkType, tuple[NodeLabel, ...]] = {
    LinkType.OWNS: _ENTITY,
    LinkType.OFFICER_OF: (NodeLabel.PERSON,),
    LinkType.REGISTERED_AT: _ENTITY,
    LinkType.PRODUCED: (NodeLabel.COMPANY,),
    LinkType.SHIPPED: (NodeLabel.BATCH,),
    LinkType.TRANSFORMED_INTO: (NodeLabel.BATCH,),
}
_TARGET_LABELS: dict[LinkType, tuple[NodeLabel, ...]] = {
    LinkType.OWNS: (NodeLabel.COMPANY,),
    LinkType.OFFICER_OF: (NodeLabel.COMPANY,),
    LinkType.REGISTERED_AT: (NodeLabel.ADDRESS,),
    LinkType.PRODUCED: (NodeLabel.BATCH,),
    LinkType.SHIPPED: (NodeLabel.COMPANY,),
    LinkType.TRANSFORMED_INTO: (NodeLabel.BATCH,),
}
_COMPANY = (NodeLabel.COMPANY,)


def check_batch(
    batch: WriteBatch, stored_labels: Callable[[Iterable[str]], dict[str, NodeLabel]]
) -> None:
    """Raise :class:`InvalidInput` when the batch reuses an id under another label or when a
    link or a sanction record names a node that is neither in the batch nor in the store.

    ``stored_labels`` answers, in one call, the label of each of the given ids that the store has.
    """
    wanted: set[str] = {node.id for node in batch.nodes}
    for node in batch.nodes:
        wanted.update(_references(node))
    for link in batch.links:
        wanted.add(link.source)
        wanted.add(link.target)
        if isinstance(link, Shipped):
            wanted.add(link.from_id)
        elif isinstance(link, TransformedInto) and link.by_id is not None:
            wanted.add(link.by_id)
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
        elif isinstance(node, Batch):
            _require(node, node.product_id, labels, (NodeLabel.PRODUCT,))
        elif isinstance(node, Product) and node.brand_owner_id is not None:
            _require(node, node.brand_owner_id, labels, _COMPANY)
        if isinstance(node, Sanction) and node.batch_id is not None:
            _require(node, node.batch_id, labels, (NodeLabel.BATCH,))
    for link in batch.links:
        _require(link, link.source, labels, _SOURCE_LABELS[link.type])
        _require(link, link.target, labels, _TARGET_LABELS[link.type])
        if isinstance(link, Shipped):
            _require(link, link.from_id, labels, _COMPANY)
        elif isinstance(link, TransformedInto) and link.by_id is not None:
            _require(link, link.by_id, labels, _COMPANY)


def _references(node: Node) -> list[str]:
    """The ids a node names (a record's subject, a batch's product, ...)."""
    if isinstance(node, (Sanction, Case)):
        refs = [node.subject_id]
        if isinstance(node, Sanction) and node.batch_id is not None:
            refs.append(node.batch_id)
        return refs
    if isinstance(node, Commitment):
        return [node.promisor_id]
    if isinstance(node, Batch):
        return [node.product_id]
    if isinstance(node, Product) and node.brand_owner_id is not None:
        return [node.brand_owner_id]
    return []


def _require(
    item: Sanction | Case | Commitment | Product | Batch | Link,
    node_id: str,
    labels: dict[str, NodeLabel],
    allowed: tuple[NodeLabel, ...],
) -> None:
    label = labels.get(node_id)
    if label is not None and label in allowed:
        return
    if isinstance(item, (Sanction, Case, Commitment, Product, Batch)):
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
