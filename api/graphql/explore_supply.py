"""The supply part of the explorer's neighbourhoods (spec/TRACEABILITY.md): the batches a
company made, received or sent on, and a batch's producer, inputs, outputs, receivers and product.

The store's typed neighbourhood follows entity links only; movements of goods come from the
supply primitives instead (:meth:`graph.store.GraphReader.batches_of` and
:meth:`~graph.store.GraphReader.supply`, one call each), cut down here to the links that touch the
opened node. A batch has no stored link to its product (``Batch.product_id``): the explorer gets
a :class:`ProductOf` link for it, so that the product is drawn beside its batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TypeAlias

from graph import model
from graph.store import GraphReader, SupplyGraph

__all__ = ["PRODUCT_OF", "InForce", "ProductOf", "SupplyPart", "SupplyView", "supply_part"]

PRODUCT_OF = "PRODUCT_OF"
"""The type of the drawn link from a batch to its product (not a stored link)."""


@dataclass(frozen=True, slots=True)
class ProductOf:
    """A batch is a lot of its product: drawn from the batch to the product."""

    batch_id: str
    product_id: str

    @property
    def key(self) -> str:
        return f"{PRODUCT_OF}|{self.batch_id}"

    @property
    def source(self) -> str:
        return self.batch_id

    @property
    def target(self) -> str:
        return self.product_id


SupplyView: TypeAlias = model.Produced | model.Shipped | model.TransformedInto | ProductOf
"""A link the explorer draws between goods and companies."""


@dataclass(frozen=True, slots=True)
class SupplyPart:
    """The supply links touching one node on a date, named by relation, and their other ends."""

    links: list[tuple[SupplyView, str]]
    """(link, relation from the opened node)."""
    nodes: dict[str, model.Node]
    """Every node at an end of ``links`` (the opened node too)."""
    unsafe: frozenset[str]
    """The batches among ``nodes`` named (``batch_id``) by a record in force on the date: what
    the explorer marks as sanctioned."""


InForce: TypeAlias = Callable[[model.Sanction], bool]
"""Whether a record is in force on the day asked (the rule engine's time rules)."""


def supply_part(store: GraphReader, center: model.Node, day: date, in_force: InForce) -> SupplyPart:
    """The supply links of ``center`` (a company, a batch or a product) valid on ``day``.

    A company: PRODUCED by it ("batches produced"), SHIPPED to it ("batches received"),
    TRANSFORMED_INTO made by it ("transformations") and SHIPPED by it to others ("shipments
    sent", drawn from the batch to the receiver). A batch: its PRODUCED ("producer"),
    TRANSFORMED_INTO both ways ("inputs", "outputs"), SHIPPED out of it ("receivers") and its
    product. A product, and any other node: nothing.

    Examples
    --------
    >>> from graph.memory import MemoryStore
    >>> from graph.model import Batch, Company, Produced, Product, Shipped
    >>> from graph.store import WriteBatch
    >>> store = MemoryStore()
    >>> _ = store.write(WriteBatch(
    ...     nodes=[Company("F", "Farm"), Company("R", "Shop"), Product("g", "Milk"),
    ...            Batch("g:1", "g", "1")],
    ...     links=[Produced("F", "g:1", "e1", date(2024, 1, 1)),
    ...            Shipped("g:1", "R", "F", "e2", date(2024, 1, 5), 10.0)]))
    >>> def always(record): return True
    >>> part = supply_part(store, store.get("F"), date(2024, 2, 1), always)
    >>> sorted((link.type.value, relation) for link, relation in part.links)
    [('PRODUCED', 'batches produced'), ('SHIPPED', 'shipments sent')]
    >>> [r for _, r in supply_part(store, store.get("g:1"), date(2024, 1, 2), always).links]
    ['producer', 'product']
    """
    if isinstance(center, model.Company):
        return _company(store, center, day, in_force)
    if isinstance(center, model.Batch):
        return _batch(store, center, day, in_force)
    return SupplyPart([], {center.id: center}, frozenset())


def _company(store: GraphReader, center: model.Company, day: date, in_force: InForce) -> SupplyPart:
    held = [b.id for b in store.batches_of([center.id], as_of=day).get(center.id, [])]
    if not held:
        return SupplyPart([], {center.id: center}, frozenset())
    # Upstream of what it held: every PRODUCED into and SHIPPED out of those batches, and the
    # transformations that made them (its own among them).
    supply = store.supply(held, direction=model.Direction.IN, as_of=day)
    found: list[tuple[SupplyView, str]] = []
    for link in supply.links.values():
        if isinstance(link, model.Produced) and link.company_id == center.id:
            found.append((link, "batches produced"))
        elif isinstance(link, model.Shipped) and link.to_id == center.id:
            found.append((link, "batches received"))
        elif isinstance(link, model.Shipped) and link.from_id == center.id:
            found.append((link, "shipments sent"))
        elif isinstance(link, model.TransformedInto) and link.by_id == center.id:
            found.append((link, "transformations"))
    return _part(store, center, found, supply, in_force)


def _batch(store: GraphReader, center: model.Batch, day: date, in_force: InForce) -> SupplyPart:
    down = store.supply([center.id], direction=model.Direction.OUT, as_of=day)
    up = store.supply([center.id], direction=model.Direction.IN, as_of=day)
    found: list[tuple[SupplyView, str]] = []
    for link in {**down.links, **up.links}.values():
        if isinstance(link, model.Produced) and link.batch_id == center.id:
            found.append((link, "producer"))
        elif isinstance(link, model.Shipped) and link.batch_id == center.id:
            found.append((link, "receivers"))
        elif isinstance(link, model.TransformedInto) and link.output_batch_id == center.id:
            found.append((link, "inputs"))
        elif isinstance(link, model.TransformedInto) and link.input_batch_id == center.id:
            found.append((link, "outputs"))
    found.append((ProductOf(center.id, center.product_id), "product"))
    up.sanctions.update(down.sanctions)
    return _part(store, center, found, up, in_force)


def _part(
    store: GraphReader,
    center: model.Node,
    found: list[tuple[SupplyView, str]],
    supply: SupplyGraph,
    in_force: InForce,
) -> SupplyPart:
    ends = {end for link, _ in found for end in (link.source, link.target)}
    nodes = store.get_many(ends - {center.id}) if len(ends) > 1 else {}
    nodes[center.id] = center
    # a product named by a batch but not loaded is left out with its link
    kept = [(link, relation) for link, relation in found if link.target in nodes]
    named = {s.batch_id for s in supply.sanctions.values() if s.batch_id and in_force(s)}
    unsafe = frozenset(named & nodes.keys())
    return SupplyPart(kept, nodes, unsafe)
