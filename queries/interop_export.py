"""Export an entity's neighbourhood, or the whole store, for other tools (spec/INTEROP.md).

``ftm`` (JSON lines, each line checked by followthemoney), ``bods`` (a JSON array of BODS 0.4
statements, each checked against the schema libcovebods validates with), ``gexf`` (Gephi, names
as labels), ``graphml`` and ``cytoscape`` (as :mod:`queries.export`), and ``neo4j-csv`` (a folder
in ``neo4j-admin database import`` layout). Without an entity the whole store is read with the
port's streamed :meth:`graph.store.GraphReader.scan`; ftm, bods, gexf and neo4j-csv are written
as they are read (GraphML and Cytoscape documents are built in memory: their formats declare
everything up front).
"""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Iterable, Iterator
from datetime import date
from enum import Enum, StrEnum
from pathlib import Path
from typing import IO, Any, Final
from xml.sax.saxutils import quoteattr

import networkx as nx

from graph.errors import InvalidInput, NotFound
from graph.model import (
    Address,
    Company,
    Link,
    Node,
    NodeLabel,
    Officer,
    Ownership,
    Person,
    Registration,
    Sanction,
)
from graph.store import GraphReader
from queries.export import neighbourhood_graph, to_cytoscape, to_graphml
from queries.paths import PATH_STEPS

__all__ = ["OutputFormat", "export"]


class OutputFormat(StrEnum):
    FTM = "ftm"
    BODS = "bods"
    GEXF = "gexf"
    GRAPHML = "graphml"
    CYTOSCAPE = "cytoscape"
    NEO4J_CSV = "neo4j-csv"
    EPCIS = "epcis"
    """Every supply movement as one EPCIS 2.0 document (:mod:`loaders.interop.epcis_export`)."""
    PARQUET = "parquet"
    """The whole store as a Parquet snapshot folder (:mod:`loaders.parquet`, docs/batch.md)."""


def _items(
    store: GraphReader, entity_id: str | None, as_of: date | None, hops: int
) -> Iterator[list[Node | Link]]:
    if entity_id is None:
        yield from store.scan()
        return
    sub = store.neighbourhood([entity_id], steps=PATH_STEPS, hops=hops, as_of=as_of)
    if entity_id not in sub.nodes:
        if store.get(entity_id) is None:
            raise NotFound(f"no entity with id {entity_id!r}")
        raise InvalidInput(f"{entity_id!r} is a sanction record; export an entity or address")
    nodes: list[Node | Link] = [sub.nodes[k] for k in sorted(sub.nodes)]
    nodes += [sub.sanctions[k] for k in sorted(sub.sanctions)]
    yield nodes
    yield [sub.links[k] for k in sorted(sub.links)]


def export(
    store: GraphReader,
    fmt: OutputFormat | str,
    out: Path,
    entity_id: str | None = None,
    *,
    as_of: date | None = None,
    hops: int = 2,
) -> dict[str, int]:
    """Write the export to ``out`` (a file; a folder for neo4j-csv); return counts by kind.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from graph.memory import MemoryStore
    >>> from graph.store import WriteBatch
    >>> store = MemoryStore()
    >>> _ = store.write(WriteBatch(nodes=[Company("C", "C Co")]))
    >>> export(store, "ftm", pathlib.Path(tempfile.mkdtemp()) / "out.ftm.json")
    {'Company': 1}
    """
    kind = OutputFormat(fmt)
    if kind is OutputFormat.PARQUET:
        from loaders.parquet import export_parquet

        if entity_id is not None:
            raise InvalidInput("a Parquet snapshot is of the whole store: export it without an id")
        return export_parquet(store, out)
    if kind is OutputFormat.EPCIS:
        from loaders.interop.epcis_export import export_epcis

        if entity_id is not None:
            raise InvalidInput(
                "an EPCIS export holds every supply movement: export it without an id"
            )
        return export_epcis(store, out)
    if kind in (OutputFormat.FTM, OutputFormat.BODS):
        from loaders.interop import require_interop

        require_interop()
    if hops < 0:
        raise InvalidInput(f"hops must be at least 0, got {hops}")
    out.parent.mkdir(parents=True, exist_ok=True)
    if kind in (OutputFormat.GRAPHML, OutputFormat.CYTOSCAPE):
        graph = (
            neighbourhood_graph(store, entity_id, as_of, hops=hops)
            if entity_id is not None
            else _whole_graph(store)
        )
        if kind is OutputFormat.GRAPHML:
            out.write_bytes(to_graphml(graph))
        else:
            out.write_text(json.dumps(to_cytoscape(graph), ensure_ascii=False, indent=2) + "\n")
        return {"nodes": graph.number_of_nodes(), "links": graph.number_of_edges()}
    batches = _items(store, entity_id, as_of, hops)
    if kind is OutputFormat.NEO4J_CSV:
        return _neo4j_csv(batches, out)
    with out.open("w", encoding="utf-8") as stream:
        if kind is OutputFormat.FTM:
            return _ftm(store, batches, stream)
        if kind is OutputFormat.BODS:
            return _bods(batches, stream)
        return _gexf(batches, stream)


def _count(counts: dict[str, int], item: Node | Link) -> None:
    kind = (
        item.label.value
        if isinstance(item, (Company, Person, Address, Sanction))
        else (item.type.value if isinstance(item, (Ownership, Officer, Registration)) else "other")
    )
    counts[kind] = counts.get(kind, 0) + 1


def _ftm(store: GraphReader, batches: Iterable[list[Node | Link]], out: IO[str]) -> dict[str, int]:
    from followthemoney import model as ftm_model

    from loaders.interop.ftm import add_addresses, entity_dicts

    counts: dict[str, int] = {}

    def write(data: dict[str, Any]) -> None:
        # The export's promise: every line passes followthemoney's own validation.
        proxy = ftm_model.get_proxy(data)
        proxy.schema.validate(data)  # type: ignore[arg-type]  # a plain dict is what it reads
        out.write(json.dumps(data, ensure_ascii=False, sort_keys=True) + "\n")

    for batch in batches:
        registered: dict[str, list[str]] = {}
        for item in batch:
            if isinstance(item, Registration):
                registered.setdefault(item.entity_id, []).append(item.address_id)
                _count(counts, item)
                continue
            if isinstance(item, (Company, Person, Address, Sanction, Ownership, Officer)):
                for data in entity_dicts(item):
                    write(data)
                _count(counts, item)
        if registered:
            # FtM keeps a registered address on the entity (addressEntity): the entity is
            # written again, whole, with its addresses (a re-load upserts it).
            for entity in store.get_many(sorted(registered)).values():
                if isinstance(entity, (Company, Person)):
                    for data in entity_dicts(entity):
                        write(add_addresses(data, registered[entity.id]))
    return counts


def _bods(batches: Iterable[list[Node | Link]], out: IO[str]) -> dict[str, int]:
    from loaders.interop.bods import bods_statements, statement_errors

    counts: dict[str, int] = {}
    today = date.today()
    first = True
    out.write("[\n")
    for batch in batches:
        for item in batch:
            for statement in bods_statements(item, today):
                errors = statement_errors(statement)
                if errors:
                    raise InvalidInput(
                        f"the BODS statement for {statement['recordId']} does not validate: "
                        + "; ".join(errors[:3])
                    )
                out.write(("" if first else ",\n") + json.dumps(statement, ensure_ascii=False))
                first = False
                _count(counts, item)
    out.write("\n]\n")
    return counts


def _gexf(batches: Iterable[list[Node | Link]], out: IO[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    out.write(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<gexf xmlns="http://gexf.net/1.3" version="1.3">\n'
        '<graph defaultedgetype="directed" mode="static">\n'
        '<attributes class="node"><attribute id="kind" title="kind" type="string"/>'
        '<attribute id="list" title="list" type="string"/></attributes>\n'
        '<attributes class="edge"><attribute id="share" title="share" type="double"/>'
        '<attribute id="role" title="role" type="string"/></attributes>\n'
        "<nodes>\n"
    )
    in_edges = False
    edge = 0
    for batch in batches:
        for item in batch:
            if isinstance(item, (Company, Person, Address, Sanction)):
                label = (
                    item.name
                    if isinstance(item, (Company, Person))
                    else item.text
                    if isinstance(item, Address)
                    else str(item.list)
                )
                values = f'<attvalue for="kind" value={quoteattr(item.label.value)}/>'
                if isinstance(item, Sanction):
                    values += f'<attvalue for="list" value={quoteattr(str(item.list))}/>'
                out.write(
                    f"<node id={quoteattr(item.id)} label={quoteattr(label)}>"
                    f"<attvalues>{values}</attvalues></node>\n"
                )
                _count(counts, item)
                continue
            if not isinstance(item, (Ownership, Officer, Registration)):
                continue
            if not in_edges:
                out.write("</nodes>\n<edges>\n")
                in_edges = True
            values = ""
            if isinstance(item, Ownership) and item.share_low is not None:
                values = f'<attvalue for="share" value="{item.share_low}"/>'
            elif isinstance(item, Officer):
                values = f'<attvalue for="role" value={quoteattr(item.role.value)}/>'
            edge += 1
            out.write(
                f'<edge id="e{edge}" source={quoteattr(item.source)} '
                f"target={quoteattr(item.target)} label={quoteattr(item.type.value)}>"
                f"<attvalues>{values}</attvalues></edge>\n"
            )
            _count(counts, item)
    out.write(("" if in_edges else "</nodes>\n<edges>\n") + "</edges>\n</graph>\n</gexf>\n")
    return counts


_CSV_TYPES: Final[dict[str, str]] = {
    "share": "float",
    "share_min": "float",
    "share_max": "float",
    "registered_capital": "float",
    "fine": "float",
    "birth_year": "int",
    "version": "int",
    "disputed": "boolean",
    "indirect": "boolean",
    "aliases": "string[]",
    "identifiers": "string[]",
}
_NODE_LABELS: Final[dict[NodeLabel, str]] = {
    NodeLabel.COMPANY: "Node;Company;Entity",
    NodeLabel.PERSON: "Node;Person;Entity",
    NodeLabel.ADDRESS: "Node;Address",
    NodeLabel.SANCTION: "Node;Sanction",
}
_ENDPOINTS: Final = frozenset({"owner_id", "company_id", "person_id", "entity_id", "address_id"})


def _columns(cls: type[Any]) -> list[str]:
    return [f.name for f in dataclasses.fields(cls) if f.name not in ("extra", *_ENDPOINTS)]


def _header(name: str) -> str:
    if name in ("start", "end", "founded", "dissolved", "decided", "status_date"):
        return f"{name}:date"
    kind = _CSV_TYPES.get(name)
    return f"{name}:{kind}" if kind else name


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, tuple):
        return ";".join(value)
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _neo4j_csv(batches: Iterable[list[Node | Link]], folder: Path) -> dict[str, int]:
    """``nodes-<Label>.csv`` and ``relationships-<TYPE>.csv`` with ``neo4j-admin`` headers
    (``id:ID``, ``:LABEL``, ``:START_ID``, ``:END_ID``, ``:TYPE``; arrays split on ``;``).
    Sanction records get their SANCTIONED relationship, as the store keeps them. Extra
    (unmodelled) properties are left out: the header is fixed before the first row."""
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, tuple[IO[str], Any, list[str]]] = {}
    counts: dict[str, int] = {}

    def writer(name: str, header: list[str], columns: list[str]) -> tuple[Any, list[str]]:
        if name not in files:
            stream = (folder / name).open("w", encoding="utf-8", newline="")
            rows = csv.writer(stream)
            rows.writerow(header)
            files[name] = (stream, rows, columns)
        return files[name][1], files[name][2]

    try:
        for batch in batches:
            for item in batch:
                if isinstance(item, (Company, Person, Address, Sanction)):
                    columns = _columns(type(item))
                    rows, columns = writer(
                        f"nodes-{item.label.value}.csv",
                        ["id:ID", *(_header(c) for c in columns if c != "id"), ":LABEL"],
                        columns,
                    )
                    rows.writerow(
                        [
                            item.id,
                            *(_cell(getattr(item, c)) for c in columns if c != "id"),
                            _NODE_LABELS[item.label],
                        ]
                    )
                    if isinstance(item, Sanction):
                        sanctioned, _ = writer(
                            "relationships-SANCTIONED.csv", [":START_ID", ":END_ID", ":TYPE"], []
                        )
                        sanctioned.writerow([item.id, item.subject_id, "SANCTIONED"])
                    _count(counts, item)
                elif isinstance(item, (Ownership, Officer, Registration)):
                    columns = _columns(type(item))
                    kind = item.type.value
                    rows, columns = writer(
                        f"relationships-{kind}.csv",
                        [":START_ID", ":END_ID", ":TYPE", "key", *(_header(c) for c in columns)],
                        columns,
                    )
                    rows.writerow(
                        [item.source, item.target, kind, item.key]
                        + [_cell(getattr(item, c)) for c in columns]
                    )
                    _count(counts, item)
    finally:
        for stream, _, _ in files.values():
            stream.close()
    return counts


def _whole_graph(store: GraphReader) -> nx.MultiDiGraph[str]:
    from queries.export import _attributes

    graph: nx.MultiDiGraph[str] = nx.MultiDiGraph()
    skip = frozenset({"owner_id", "company_id", "person_id", "entity_id", "address_id"})
    for batch in store.scan():
        for item in batch:
            if isinstance(item, (Company, Person, Address, Sanction)):
                attrs = _attributes(item, frozenset({"id"}))
                if isinstance(item, Address):
                    attrs["name"] = item.text
                elif isinstance(item, Sanction):
                    attrs["name"] = str(item.list)
                graph.add_node(item.id, label=item.label.value, **attrs)
                if isinstance(item, Sanction):
                    graph.add_edge(
                        item.id, item.subject_id, key=f"SANCTIONED|{item.id}", type="SANCTIONED"
                    )
            elif isinstance(item, (Ownership, Officer, Registration)):
                graph.add_edge(
                    item.source,
                    item.target,
                    key=item.key,
                    type=item.type.value,
                    **_attributes(item, skip),
                )
    return graph
