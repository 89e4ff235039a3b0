"""Bulk initial load: ``neo4j-admin database import full`` CSVs from a bundle or a snapshot.

An online load writes through Cypher transactions (:class:`graph.neo4j.store.Neo4jStore`); Neo4j's
own importer instead builds the store files directly from CSV, an order of magnitude faster, but
only into an empty (or replaced) database of a stopped server. This module writes those CSVs with
exactly the properties an online load stores, so the two give the same graph:

- every node gets the ``Node`` label plus its own (and ``Entity`` for companies and persons), its
  :func:`graph.codec.node_props` and, for entities, ``search_name`` in the current search form;
- every link gets its type, :func:`graph.codec.link_props` and its natural ``key``;
- a sanction record gets its ``SANCTIONED`` link to its subject, a commitment its ``COMMITTED``
  link to its promisor (the online write derives both from the node);
- one ``:CreditnetMeta {name: 'search'}`` node records the search form, so that the first
  :meth:`~graph.neo4j.store.Neo4jStore.ensure_schema` does not reindex.

Rows go to chunk files of at most :data:`CHUNK_ROWS` rows, each with its own header file (the
columns of that chunk: a row without a value leaves its cell empty, which the importer stores as
no property). The folder gets ``import.args``, one importer argument a line, paths relative to the
folder: run the importer from there (``scripts/neo4j-local import DIR`` does; docs/scale.md).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Final

from graph.codec import link_props, node_props
from graph.errors import InvalidInput
from graph.model import (
    SEARCH_FORM_VERSION,
    Commitment,
    Company,
    Direction,
    Link,
    LinkType,
    Node,
    NodeLabel,
    Person,
    Sanction,
    search_text,
)
from graph.store import SupplyGraph, WriteBatch, WriteResult

__all__ = [
    "ARGS_FILE",
    "ARRAY_DELIMITER",
    "CHUNK_ROWS",
    "CsvImportWriter",
    "ImportPlan",
]

CHUNK_ROWS: Final = 200_000
"""Rows per data file: bounds the memory of the writer (one chunk is held at a time per kind)."""

ARRAY_DELIMITER: Final = "\x1f"
"""Between the items of a list property (aliases, identifiers): the ASCII unit separator, which
no name or identifier contains (the importer's default ``;`` does occur in names)."""

ARGS_FILE: Final = "import.args"

_Value = str | int | float | bool | date | list[str]

# Nodes whose creation also creates a link: (link type, property naming the other end).
_DERIVED_LINKS: Final[dict[type[Node], tuple[LinkType, str]]] = {
    Sanction: (LinkType.SANCTIONED, "subject_id"),
    Commitment: (LinkType.COMMITTED, "promisor_id"),
}
_ENTITY_CLASSES: Final = (Company, Person)


def _csv_type(value: object) -> str:
    # bool before int: a bool is an int in Python, and a boolean in Neo4j.
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "double"
    if isinstance(value, date):
        return "date"
    if isinstance(value, list):
        return "string[]"
    return "string"


def _quoted(text: str) -> str:
    # Always quoted: an unquoted empty cell means "no property", a quoted one the empty string.
    return '"' + text.replace('"', '""') + '"'


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return repr(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        items = [str(item) for item in value]
        if any(ARRAY_DELIMITER in item for item in items):
            raise InvalidInput(
                f"a list value holds the control character U+001F ({items!r}); the bulk import "
                "uses it between list items: clean the value or load online (creditnet load)"
            )
        return _quoted(ARRAY_DELIMITER.join(items))
    return _quoted(str(value))


@dataclass(slots=True)
class _Chunk:
    """The rows of one node label or link type not yet written, and their columns' types."""

    kind: str
    fixed: tuple[str, ...]
    """Header fields every row has, first (``id:ID`` or the relationship's endpoints)."""
    columns: dict[str, str] = field(default_factory=dict)
    rows: list[tuple[tuple[str, ...], dict[str, object]]] = field(default_factory=list)


@dataclass(slots=True)
class ImportPlan:
    """What :class:`CsvImportWriter` wrote: file pairs per kind, and the importer's arguments."""

    folder: Path
    nodes: list[tuple[str, str]] = field(default_factory=list)
    """(header file, data file) names relative to ``folder``."""
    relationships: list[tuple[str, str]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    """Rows by node label and link type (derived links included)."""
    multiline: bool = False
    """Some value holds a line break: the importer must be told (it is slower then)."""

    def arguments(self) -> list[str]:
        """The importer's arguments for these files, without the database name."""
        args = [f"--nodes={header},{data}" for header, data in self.nodes]
        args += [f"--relationships={header},{data}" for header, data in self.relationships]
        args += ["--array-delimiter=U+001F", "--id-type=string"]
        if self.multiline:
            args.append("--multiline-fields=true")
        return args


class CsvImportWriter:
    """Writes the importer's CSVs into ``folder`` from the batches of a load.

    It has the write side of a store (``write``) and answers ``labels_of`` with nothing, as an
    empty database does, so :func:`loaders.bundle.load_bundle` and
    :func:`loaders.parquet.load_parquet` drive it with their own parsing and checks unchanged.
    Call :meth:`close` at the end for the plan.
    """

    name = "neo4j-import-csv"

    def __init__(self, folder: Path, *, chunk_rows: int = CHUNK_ROWS) -> None:
        if folder.exists() and any(folder.iterdir()):
            raise InvalidInput(
                f"{folder} is not empty; give a new or empty folder for the import CSVs"
            )
        folder.mkdir(parents=True, exist_ok=True)
        self._plan = ImportPlan(folder=folder)
        self._chunk_rows = chunk_rows
        self._chunks: dict[tuple[str, str], _Chunk] = {}
        self._files = 0

    # -- the store-like side ---------------------------------------------------------------

    def labels_of(self, node_ids: Iterable[str]) -> dict[str, NodeLabel]:
        """Nothing is stored yet: only the source's own ids resolve (an initial load)."""
        return {}

    def supply(
        self, seeds: Iterable[str], *, direction: Direction, as_of: date | None
    ) -> SupplyGraph:
        """No stored supply links to check movements against (an initial load)."""
        return SupplyGraph()

    def write(self, batch: WriteBatch, *, expect: Mapping[str, int] | None = None) -> WriteResult:
        """Queue the batch's nodes and links (audit events have no place in an initial load)."""
        if batch.audit:
            raise InvalidInput("a bulk import takes nodes and links only, not audited decisions")
        for node in batch.nodes:
            self.add_node(node)
        for link in batch.links:
            self.add_link(link)
        return WriteResult(nodes=len(batch.nodes), links=len(batch.links))

    # -- rows --------------------------------------------------------------------------------

    def add_node(self, node: Node) -> None:
        props: dict[str, object] = dict(node_props(node))
        if isinstance(node, _ENTITY_CLASSES):
            props["search_name"] = search_text(node)
        node_id = str(props.pop("id"))
        labels = ["Node", node.label.value]
        if isinstance(node, _ENTITY_CLASSES):
            labels.append("Entity")
        # id is both the importer's :ID and the stored `id` property; the importer splits
        # :LABEL on the array delimiter (U+001F, see ImportPlan.arguments), not on ";".
        self._add(
            ("node", node.label.value),
            ("id:ID", ":LABEL"),
            (node_id, ARRAY_DELIMITER.join(labels)),
            props,
        )
        derived = _DERIVED_LINKS.get(type(node))
        if derived is not None:
            link_type, end = derived
            self._add(
                ("relationship", link_type.value),
                (":START_ID", ":END_ID", ":TYPE"),
                (node_id, str(getattr(node, end)), link_type.value),
                {},
            )

    def add_link(self, link: Link) -> None:
        props: dict[str, object] = {**link_props(link), "key": link.key}
        self._add(
            ("relationship", link.type.value),
            (":START_ID", ":END_ID", ":TYPE"),
            (link.source, link.target, link.type.value),
            props,
        )

    def _add(
        self,
        kind: tuple[str, str],
        fixed: tuple[str, ...],
        values: tuple[str, ...],
        props: dict[str, object],
    ) -> None:
        chunk = self._chunks.get(kind)
        if chunk is None:
            chunk = self._chunks[kind] = _Chunk(kind=kind[1], fixed=fixed)
        for name, value in props.items():
            wanted = _csv_type(value)
            known = chunk.columns.get(name)
            if known is None:
                if ":" in name:
                    raise InvalidInput(
                        f"the property name {name!r} of a {kind[1]} holds ':', which the "
                        "importer's header cannot carry; rename the column or load online"
                    )
                chunk.columns[name] = wanted
            elif known != wanted:
                # One column, one type: values of another type start a new file.
                self._flush(kind)
                self._add(kind, fixed, values, props)
                return
        chunk.rows.append((values, props))
        self._plan.counts[kind[1]] = self._plan.counts.get(kind[1], 0) + 1
        if len(chunk.rows) >= self._chunk_rows:
            self._flush(kind)

    def _flush(self, kind: tuple[str, str]) -> None:
        chunk = self._chunks.pop(kind, None)
        if chunk is None or not chunk.rows:
            return
        self._files += 1
        stem = f"{kind[0]}s-{chunk.kind}-{self._files:04d}"
        header_name, data_name = f"{stem}-header.csv", f"{stem}.csv"
        names = list(chunk.columns)
        typed = [f"{name}:{chunk.columns[name]}" for name in names]
        if kind[0] == "node":
            header = [chunk.fixed[0], *typed, chunk.fixed[1]]  # id:ID, properties, :LABEL
        else:
            header = [*chunk.fixed, *typed]
        folder = self._plan.folder
        (folder / header_name).write_text(
            ",".join(_quoted(h) for h in header) + "\n", encoding="utf-8"
        )
        multiline = False
        with (folder / data_name).open("w", encoding="utf-8", newline="") as out:
            lines: list[str] = []
            for values, props in chunk.rows:
                cells = [_cell(props.get(name)) for name in names]
                if kind[0] == "node":
                    line = ",".join([_quoted(values[0]), *cells, _quoted(values[1])])
                else:
                    line = ",".join([*(_quoted(v) for v in values), *cells])
                if "\n" in line or "\r" in line:
                    multiline = True
                lines.append(line)
                if len(lines) >= 10_000:
                    out.write("\n".join(lines) + "\n")
                    lines.clear()
            if lines:
                out.write("\n".join(lines) + "\n")
        self._plan.multiline = self._plan.multiline or multiline
        target = self._plan.nodes if kind[0] == "node" else self._plan.relationships
        target.append((header_name, data_name))

    def close(self) -> ImportPlan:
        """Write what is left, the search-form node and ``import.args``; return the plan."""
        for kind in list(self._chunks):
            self._flush(kind)
        folder = self._plan.folder
        # Outside :Node (no id), as Neo4jStore.ensure_schema writes it.
        (folder / "nodes-CreditnetMeta-header.csv").write_text(
            '"name","version:long",":LABEL"\n', encoding="utf-8"
        )
        (folder / "nodes-CreditnetMeta.csv").write_text(
            f'"search",{SEARCH_FORM_VERSION},"CreditnetMeta"\n', encoding="utf-8"
        )
        self._plan.nodes.append(("nodes-CreditnetMeta-header.csv", "nodes-CreditnetMeta.csv"))
        (folder / ARGS_FILE).write_text("\n".join(self._plan.arguments()) + "\n", encoding="utf-8")
        return self._plan
