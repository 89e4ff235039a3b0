"""The recall list: every recall notice in force at a date, one row each, as CSV or JSON lines.

A row names the receiver, the batch at fault and the batch the receiver got (the same batch, or
one made from it), the day it got it, the record and rule behind the notice and the path from the
batch at fault to the receiver. Rows are in a stable order (receiver, measure, rule, record, path),
as in the restriction list (:mod:`queries.restrictions`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final, TypeAlias

from graph.model import Node
from graph.rules.schema import RuleSet
from graph.rules.supply import Notice, materialise_notices
from graph.store import GraphReader

__all__ = ["COLUMNS", "RecallList", "Row", "recall_list", "recall_rows", "receivers"]

COLUMNS: Final = (
    "entity_id",
    "entity_name",
    "measure",
    "rule",
    "legal_basis",
    "batch_id",
    "received_batch_id",
    "received",
    "source_sanction_id",
    "source_list",
    "subject_id",
    "path",
    "disputed",
)

Row: TypeAlias = dict[str, str | bool]


@dataclass(frozen=True, slots=True)
class RecallList:
    """The recall notices in force at ``as_of`` and the nodes on their paths (to name them)."""

    as_of: date
    notices: tuple[Notice, ...]
    nodes: dict[str, Node]


def recall_list(store: GraphReader, as_of: date, rules: RuleSet) -> RecallList:
    """Every notice in force at ``as_of`` (RECALL_NOTICE under the shipped rules; an agency's
    rules may give notices of its own); the receivers and batches on the paths read in one call.

    Examples
    --------
    >>> from graph.memory import MemoryStore
    >>> from graph.model import Batch, Company, Product, Produced, Sanction, SanctionList, Shipped
    >>> from graph.rules.schema import load_rules
    >>> from graph.store import WriteBatch
    >>> store = MemoryStore()
    >>> _ = store.write(WriteBatch(
    ...     nodes=[Company("maker", "Maker"), Company("shop", "Shop"), Product("p", "Milk"),
    ...            Batch("b1", "p", "L1"),
    ...            Sanction("s1", "maker", SanctionList.PRODUCT_SAFETY_VIOLATION,
    ...                     start=date(2024, 3, 1), batch_id="b1")],
    ...     links=[Produced("maker", "b1", "e1", date(2024, 1, 1)),
    ...            Shipped("b1", "shop", "maker", "e2", date(2024, 2, 1), 10.0)]))
    >>> rows = recall_rows(recall_list(store, date(2024, 6, 1), load_rules(None)))
    >>> [(r["entity_name"], r["measure"], r["received"], r["path"]) for r in rows]
    [('Shop', 'RECALL_NOTICE', '2024-02-01', 'b1 -[SHIPPED]-> shop')]
    """
    notices = tuple(materialise_notices(store, as_of, rules))
    ids = {node for notice in notices for node in notice.path.nodes}
    nodes = dict(store.get_many(ids)) if ids else {}
    return RecallList(as_of, notices, nodes)


def recall_rows(found: RecallList) -> Iterator[Row]:
    """One flat row per notice (:data:`COLUMNS`); ``path`` written with ids, as stored."""
    for item in found.notices:
        node = found.nodes.get(item.entity_id)
        yield {
            "entity_id": item.entity_id,
            "entity_name": getattr(node, "name", "") or "",
            "measure": str(item.measure),
            "rule": item.rule,
            "legal_basis": item.legal_basis,
            "batch_id": item.batch_id,
            "received_batch_id": item.received_batch_id,
            "received": item.received.isoformat() if item.received is not None else "",
            "source_sanction_id": item.source.id,
            "source_list": str(item.source.list),
            "subject_id": item.subject_id,
            "path": item.path.describe(),
            "disputed": item.disputed,
        }


def receivers(found: RecallList) -> Sequence[str]:
    """The receivers listed, each once, in order (what an audit record of the listing names)."""
    return list(dict.fromkeys(item.entity_id for item in found.notices))
