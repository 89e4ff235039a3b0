"""A whole store as Parquet tables, and back (docs/batch.md "The snapshot").

The national batch (:mod:`queries.batch`) reads a snapshot rather than the serving store, so that
a night's run neither loads nor locks it. The layout::

    SNAPSHOT/
      manifest.json            format version and row counts
      nodes/Company.parquet    one table per node label (Sanction holds the sanction records)
      nodes/Person.parquet ... Address, Product, Batch, Sanction, Commitment, Case
      links/OWNS.parquet       one table per stored link type: OWNS, OFFICER_OF, REGISTERED_AT,
                               PRODUCED, SHIPPED, TRANSFORMED_INTO

Each table has one column per field of its model type (:mod:`graph.model`) with its Arrow type
(strings, ``date32``, ``float64``, ``int64``, ``bool``, ``list<string>``; enums as their text), an
``extra`` column holding the extra properties as a JSON object (null when there are none), and for
links ``source``, ``target`` and ``key`` (the natural key) first. Every table is written, empty or
not, so a reader always finds the columns.

Writing streams the store's :meth:`graph.store.GraphReader.scan` batches into row groups; loading
reads row groups and writes them through the store's checked, idempotent write path (nodes of
entity labels first, then products and batches, then records, then links). The supply links are
also checked together as a bundle's are (:func:`loaders.bundle_supply.movement_problems`: held
before shipped, no transformation cycle, one content per event) before any of them is written.

A snapshot written before the supply kinds existed has no Product, Batch or supply link tables
(and no ``batch_id`` column): its manifest does not list them, and they load as empty.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any, Final, Protocol

import pyarrow as pa
import pyarrow.parquet as pq

from graph.codec import LINK_CLASSES, NODE_CLASSES, link_from_props, node_from_props
from graph.errors import InvalidInput
from graph.model import Direction, Link, LinkType, Node, NodeLabel, SupplyLink
from graph.store import GraphReader, GraphWriter, SupplyGraph, WriteBatch
from loaders.bundle_supply import movement_problems

__all__ = [
    "FORMAT_VERSION",
    "LINK_ENDPOINTS",
    "MANIFEST",
    "SUPPLY_LINKS",
    "SnapshotTarget",
    "export_parquet",
    "link_table",
    "load_parquet",
    "node_table",
    "table_schema",
]

FORMAT_VERSION: Final = 1
"""The snapshot layout version written to ``manifest.json``."""

MANIFEST: Final = "manifest.json"

NODE_ORDER: Final = (
    NodeLabel.COMPANY,
    NodeLabel.PERSON,
    NodeLabel.ADDRESS,
    NodeLabel.PRODUCT,
    NodeLabel.BATCH,
    NodeLabel.SANCTION,
    NodeLabel.COMMITMENT,
    NodeLabel.CASE,
)
"""Load order: a product names its brand owner, a batch its product, a record its subject (and
batch), so each comes after what it names."""

SUPPLY_LINKS: Final = (LinkType.PRODUCED, LinkType.SHIPPED, LinkType.TRANSFORMED_INTO)

LINK_ORDER: Final = (LinkType.OWNS, LinkType.OFFICER_OF, LinkType.REGISTERED_AT, *SUPPLY_LINKS)

LINK_ENDPOINTS: Final[dict[LinkType, tuple[str, str]]] = {
    LinkType.OWNS: ("owner_id", "company_id"),
    LinkType.OFFICER_OF: ("person_id", "company_id"),
    LinkType.REGISTERED_AT: ("entity_id", "address_id"),
    LinkType.PRODUCED: ("company_id", "batch_id"),
    LinkType.SHIPPED: ("batch_id", "to_id"),
    LinkType.TRANSFORMED_INTO: ("input_batch_id", "output_batch_id"),
}

_SINCE_VERSION_1: Final[frozenset[NodeLabel | LinkType]] = frozenset(
    {NodeLabel.PRODUCT, NodeLabel.BATCH, *SUPPLY_LINKS}
)
"""Tables added to layout version 1 without a version change: a snapshot whose manifest does not
list them predates them, and reads them as empty (any table its manifest lists must be there)."""
"""The model fields a link table's ``source`` and ``target`` columns hold."""

_ROW_GROUP: Final = 50_000
"""Rows buffered per table before a row group is written."""


def node_table(label: NodeLabel) -> str:
    """The path of a label's table inside a snapshot.

    >>> node_table(NodeLabel.SANCTION)
    'nodes/Sanction.parquet'
    """
    return f"nodes/{label.value}.parquet"


def link_table(link_type: LinkType) -> str:
    """The path of a link type's table inside a snapshot.

    >>> link_table(LinkType.OFFICER_OF)
    'links/OFFICER_OF.parquet'
    """
    return f"links/{link_type.value}.parquet"


def _arrow_type(annotation: Any) -> pa.DataType:
    """The Arrow type of a model field, from its annotation (``X | None`` is nullable X)."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType) and len(args) == 1:
        return _arrow_type(args[0])
    if origin is tuple:
        return pa.list_(pa.string())
    if annotation is bool:
        return pa.bool_()
    if annotation is int:
        return pa.int64()
    if annotation is float:
        return pa.float64()
    if annotation is date:
        return pa.date32()
    # str, and the StrEnums (kept as their text)
    return pa.string()


def _fields(cls: type[Any]) -> list[tuple[str, pa.DataType]]:
    hints = typing.get_type_hints(cls)
    return [
        (f.name, _arrow_type(hints[f.name])) for f in dataclasses.fields(cls) if f.name != "extra"
    ]


def table_schema(kind: NodeLabel | LinkType) -> pa.Schema:
    """The Arrow schema of a node label's or link type's table.

    >>> table_schema(LinkType.OWNS).names[:5]
    ['source', 'target', 'key', 'share', 'start']
    >>> str(table_schema(NodeLabel.SANCTION).field("start").type)
    'date32[day]'
    """
    if isinstance(kind, NodeLabel):
        columns = _fields(NODE_CLASSES[kind])
    else:
        ends = LINK_ENDPOINTS[kind]
        columns = [("source", pa.string()), ("target", pa.string()), ("key", pa.string())]
        columns += [c for c in _fields(LINK_CLASSES[kind]) if c[0] not in ends]
    columns.append(("extra", pa.string()))
    return pa.schema(columns)


def _cell(value: object) -> object:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, str):
        return str(value)  # a StrEnum member as its text
    return value


def _extra(extra: Mapping[str, object]) -> str | None:
    return json.dumps(dict(extra), ensure_ascii=False, sort_keys=True) if extra else None


class _Writer:
    """One table: rows are buffered by column and flushed as row groups."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.schema = schema
        self.columns: dict[str, list[object]] = {name: [] for name in schema.names}
        self.rows = 0
        self.written = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        self.writer = pq.ParquetWriter(path, schema)

    def add(self, row: Mapping[str, object]) -> None:
        for name, values in self.columns.items():
            values.append(row.get(name))
        self.rows += 1
        if self.rows >= _ROW_GROUP:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self.writer.write_table(pa.Table.from_pydict(self.columns, schema=self.schema))
            self.written += self.rows
            self.rows = 0
            for values in self.columns.values():
                values.clear()

    def close(self) -> int:
        self.flush()
        self.writer.close()
        return self.written


def _node_row(node: Node) -> dict[str, object]:
    row = {f.name: _cell(getattr(node, f.name)) for f in dataclasses.fields(node)}
    row["extra"] = _extra(node.extra)
    return row


def _link_row(link: Link) -> dict[str, object]:
    row = {f.name: _cell(getattr(link, f.name)) for f in dataclasses.fields(link)}
    row.update(source=link.source, target=link.target, key=link.key, extra=_extra(link.extra))
    return row


def export_parquet(store: GraphReader, out: Path) -> dict[str, int]:
    """Write the whole store to the snapshot folder ``out``; return the rows of each table.

    Examples
    --------
    >>> import tempfile
    >>> from graph.memory import MemoryStore
    >>> from graph.model import Company, Ownership, Person
    >>> store = MemoryStore()
    >>> _ = store.write(WriteBatch(nodes=[Company("c1", "Acme"), Person("p1", "Li")],
    ...                            links=[Ownership("p1", "c1", 60.0)]))
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     counts = export_parquet(store, Path(folder))
    >>> counts["Company"], counts["OWNS"], counts["Sanction"]
    (1, 1, 0)
    """
    if out.exists() and not out.is_dir():
        raise InvalidInput(f"{out} is a file; a Parquet snapshot is a folder: give a folder path")
    out.mkdir(parents=True, exist_ok=True)
    writers: dict[NodeLabel | LinkType, _Writer] = {}
    for label in NODE_ORDER:
        writers[label] = _Writer(out / node_table(label), table_schema(label))
    for link_type in LINK_ORDER:
        writers[link_type] = _Writer(out / link_table(link_type), table_schema(link_type))
    try:
        for batch in store.scan([*NODE_ORDER, *LINK_ORDER]):
            for item in batch:
                if isinstance(item, Node):
                    writers[item.label].add(_node_row(item))
                else:
                    writers[item.type].add(_link_row(item))
    finally:
        counts = {kind.value: writer.close() for kind, writer in writers.items()}
    manifest = {"format": "creditnet-parquet", "version": FORMAT_VERSION, "rows": counts}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return counts


def _check_snapshot(folder: Path) -> frozenset[str]:
    """Check the manifest; return the tables it lists (by their kind's name)."""
    manifest = folder / MANIFEST
    if not manifest.is_file():
        raise InvalidInput(
            f"{folder} is not a Parquet snapshot (no {MANIFEST}); write one with "
            "`creditnet export --format parquet --out FOLDER`"
        )
    try:
        content = json.loads(manifest.read_text(encoding="utf-8"))
        version = content.get("version")
        rows = content.get("rows") or {}
    except (ValueError, AttributeError):
        raise InvalidInput(f"{manifest}: not a snapshot manifest (invalid JSON)") from None
    if version != FORMAT_VERSION:
        raise InvalidInput(
            f"{manifest}: snapshot layout version {version!r}; this creditnet reads version "
            f"{FORMAT_VERSION}: export the snapshot again with this version"
        )
    return frozenset(str(name) for name in rows)


def _present(folder: Path, kind: NodeLabel | LinkType, listed: frozenset[str]) -> Path | None:
    """The table of ``kind``, or None when the snapshot predates it (:data:`_SINCE_VERSION_1`)."""
    path = folder / (node_table(kind) if isinstance(kind, NodeLabel) else link_table(kind))
    if kind in _SINCE_VERSION_1 and kind.value not in listed and not path.is_file():
        return None
    return path


def _rows(path: Path, batch_size: int) -> Iterator[list[dict[str, Any]]]:
    if not path.is_file():
        raise InvalidInput(f"{path}: missing from the snapshot; export it again")
    for record_batch in pq.ParquetFile(path).iter_batches(batch_size=batch_size):
        yield record_batch.to_pylist()


def _props(row: Mapping[str, Any], skip: frozenset[str]) -> dict[str, object]:
    props = {k: v for k, v in row.items() if v is not None and k not in skip}
    extra = props.pop("extra", None)
    if isinstance(extra, str):
        props.update({k: v for k, v in json.loads(extra).items() if k not in props})
    return props


_LINK_COLUMNS: Final = frozenset({"source", "target", "key"})


class SnapshotTarget(GraphWriter, Protocol):
    """What :func:`load_parquet` needs of a store: its checked writes, and the stored supply
    links that the movement checks read (:meth:`graph.store.GraphReader.supply`)."""

    def supply(
        self, seeds: Iterable[str], *, direction: Direction, as_of: date | None
    ) -> SupplyGraph: ...


def load_parquet(
    store: SnapshotTarget,
    folder: Path,
    *,
    batch_size: int = 5000,
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Load a snapshot written by :func:`export_parquet` into ``store``; return rows per table.

    Idempotent like every load (a row is an upsert by id or natural key), so an interrupted load
    is run again. The supply links are read whole and checked together, as a bundle's supply
    files are, before the first of them is written: the held-before-shipped check needs a
    batch's every earlier movement, which row groups may split.

    Raises
    ------
    InvalidInput
        When ``folder`` is not a snapshot of this layout version, the store refuses a batch, or
        a supply link fails the movement checks (nothing of the supply links is written then).
    """
    listed = _check_snapshot(folder)
    counts: dict[str, int] = {}
    done = 0

    def write(batch: WriteBatch) -> None:
        nonlocal done
        store.write(batch)
        done += len(batch)
        if progress is not None:
            progress(done)

    for label in NODE_ORDER:
        count = 0
        path = _present(folder, label, listed)
        for rows in _rows(path, batch_size) if path is not None else ():
            nodes = [node_from_props(label, _props(row, frozenset())) for row in rows]
            write(WriteBatch(nodes=nodes))
            count += len(nodes)
        counts[label.value] = count
    supply: list[SupplyLink] = []
    for link_type in LINK_ORDER:
        ends = LINK_ENDPOINTS[link_type]
        skip = _LINK_COLUMNS | frozenset(ends)
        count = 0
        path = _present(folder, link_type, listed)
        for rows in _rows(path, batch_size) if path is not None else ():
            links = [
                link_from_props(link_type, row["source"], row["target"], _props(row, skip))
                for row in rows
            ]
            count += len(links)
            if link_type in SUPPLY_LINKS:
                supply.extend(typing.cast(list[SupplyLink], links))
            else:
                write(WriteBatch(links=links))
        counts[link_type.value] = count
    _check_movements(store, supply, folder)
    for start in range(0, len(supply), batch_size):
        write(WriteBatch(links=list(supply[start : start + batch_size])))
    return counts


def _check_movements(store: SnapshotTarget, links: list[SupplyLink], folder: Path) -> None:
    """Refuse the snapshot when a supply link fails the bundle's movement checks."""
    # movement_problems reads nothing but supply(), which a SnapshotTarget has.
    problems = movement_problems(typing.cast(GraphReader, store), links)
    if not problems:
        return
    shown = sorted(problems.items())[:5]
    detail = "; ".join(
        f"{links[index].type.value} {links[index].key}: {column} {value}: {reason}"
        for index, (column, reason, value) in shown
    )
    more = f" (and {len(problems) - len(shown)} more)" if len(problems) > len(shown) else ""
    raise InvalidInput(
        f"{folder}: {len(problems)} supply link(s) fail the movement checks{more}: {detail}; "
        "fix the store the snapshot came from (or the snapshot's link tables) and export again"
    )
