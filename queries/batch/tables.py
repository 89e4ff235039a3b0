"""The three tables the national batch writes, their Arrow schemas, and reading them back.

* ``restrictions.parquet``: one row per restriction in force (what :func:`graph.rules.engine.
  materialise` yields), sorted by (entity_id, measure, rule, source_id).
* ``scores.parquet``: one row per company and person: score, grade and the deductions, sorted by
  entity_id.
* ``owners.parquet``: one row per (company, beneficial owner), sorted by (company_id, owner_id).

The local engine writes each as one file, Spark as a folder of part files; :func:`read_table`
reads either into rows in table order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.parquet as pq

__all__ = [
    "DEDUCTION_KINDS",
    "OWNERS",
    "OWNERS_SCHEMA",
    "RESTRICTIONS",
    "RESTRICTIONS_SCHEMA",
    "SCORES",
    "SCORES_SCHEMA",
    "SORT_KEYS",
    "read_table",
    "write_table",
]

RESTRICTIONS: Final = "restrictions.parquet"
SCORES: Final = "scores.parquet"
OWNERS: Final = "owners.parquet"

DEDUCTION_KINDS: Final = ("own", "ended", "relationship")
"""A deduction's ``kind``, in the order a score lists them: an own record in force, an own record
that ended within the window, a relationship (a restriction from another entity's record)."""

RESTRICTIONS_SCHEMA: Final = pa.schema(
    [
        ("entity_id", pa.string()),
        ("measure", pa.string()),
        ("rule", pa.string()),
        ("source_id", pa.string()),
        ("disputed", pa.bool_()),
        ("path", pa.list_(pa.string())),
    ]
)
"""``source_id`` is the sanction record; ``path`` the node ids from its subject to the entity."""

DEDUCTION: Final = pa.struct(
    [("kind", pa.string()), ("sanction_id", pa.string()), ("points", pa.int32())]
)

SCORES_SCHEMA: Final = pa.schema(
    [
        ("entity_id", pa.string()),
        ("score", pa.int32()),
        ("grade", pa.string()),
        ("deductions", pa.list_(DEDUCTION)),
    ]
)
"""``deductions`` in report order: own records in force, then ended ones (each by record id),
then relationships by source record id (past the cap with 0 points)."""

OWNERS_SCHEMA: Final = pa.schema(
    [
        ("company_id", pa.string()),
        ("owner_id", pa.string()),
        ("effective_share", pa.float64()),
        ("controls", pa.bool_()),
        ("depth", pa.int32()),
    ]
)
"""``effective_share`` in percent over simple paths of at most 10 links; ``depth`` the shortest
ownership (or actual-control) path from the owner down to the company, in links."""

SORT_KEYS: Final[dict[str, tuple[str, ...]]] = {
    RESTRICTIONS: ("entity_id", "measure", "rule", "source_id"),
    SCORES: ("entity_id",),
    OWNERS: ("company_id", "owner_id"),
}


def write_table(
    rows: Iterable[Mapping[str, Any]], schema: pa.Schema, path: Path, *, chunk: int = 100_000
) -> int:
    """Write ``rows`` (dicts by column) to one Parquet file, a row group per ``chunk`` rows."""
    count = 0
    columns: dict[str, list[Any]] = {name: [] for name in schema.names}
    with pq.ParquetWriter(path, schema) as writer:
        for row in rows:
            for name, values in columns.items():
                values.append(row[name])
            count += 1
            if count % chunk == 0:
                writer.write_table(pa.Table.from_pydict(columns, schema=schema))
                for values in columns.values():
                    values.clear()
        writer.write_table(pa.Table.from_pydict(columns, schema=schema))
    return count


def read_table(path: Path, columns: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Every row of a batch table (a file, or Spark's folder of parts), sorted by its keys."""
    table = pq.read_table(path, columns=list(columns) if columns is not None else None)
    rows: list[dict[str, Any]] = table.to_pylist()
    keys = SORT_KEYS.get(path.name)
    if keys is not None:
        rows.sort(key=lambda row: tuple(row[k] for k in keys))
    return rows
