"""Export an entity's neighbourhood for Gephi (GraphML) or Cytoscape (cytoscape.js JSON).

The neighbourhood is the typed neighbourhood of the store port (OWNS, OFFICER_OF, REGISTERED_AT
in both directions, links in force at ``as_of``) with the sanction records of every node as nodes
of their own, joined to their subject by a SANCTIONED edge. Attributes are strings, numbers and
booleans only (dates as ISO strings, enums as their values; unknown values are left out), so both
formats read back without loss of meaning.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import fields
from datetime import date
from enum import Enum, StrEnum
from typing import Any

import networkx as nx

from graph.errors import InvalidInput, NotFound
from graph.model import Link, Node
from graph.store import GraphReader
from queries.paths import PATH_STEPS

__all__ = [
    "ExportFormat",
    "export_neighbourhood",
    "neighbourhood_graph",
    "to_cytoscape",
    "to_graphml",
]


class ExportFormat(StrEnum):
    GRAPHML = "graphml"
    CYTOSCAPE = "cytoscape"


_Attr = str | int | float | bool


def _attributes(item: Node | Link, skip: frozenset[str]) -> dict[str, _Attr]:
    found: dict[str, _Attr] = {}
    for spec in fields(item):
        if spec.name in skip:
            continue
        value = getattr(item, spec.name)
        if spec.name == "extra":
            for key, extra in sorted(value.items()):
                if extra is not None:
                    found[f"x_{key}"] = str(extra)  # one type per key across the file
            continue
        converted = _scalar(value)
        if converted is not None:
            found[spec.name] = converted
    return found


def _scalar(value: object) -> _Attr | None:
    if value is None or value == ():
        return None
    if isinstance(value, tuple):
        return "; ".join(str(v) for v in value)  # aliases, identifiers: one string attribute
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return float(value)  # one numeric type per key (registered_capital, share, fine, ...)
    return str(value)


def neighbourhood_graph(
    store: GraphReader, entity_id: str, as_of: date | None = None, *, hops: int = 2
) -> nx.MultiDiGraph[str]:
    """The neighbourhood of ``entity_id`` up to ``hops`` links as a networkx MultiDiGraph.

    Nodes carry ``label`` (their name, what graph tools show), ``type`` (Company, Person,
    Address, Sanction), ``name`` and their properties; edges carry ``type`` and the link's
    properties, keyed by the link's natural key.

    Examples
    --------
    >>> from graph.memory import MemoryStore
    >>> from graph.model import Company, Ownership, Person
    >>> from graph.store import WriteBatch
    >>> store = MemoryStore()
    >>> _ = store.write(WriteBatch(nodes=[Person("P", "Li"), Company("C", "C Co")],
    ...                            links=[Ownership("P", "C", 60.0)]))
    >>> graph = neighbourhood_graph(store, "C", date(2024, 1, 1))
    >>> sorted(graph.nodes), [d["share"] for _, _, d in graph.edges(data=True)]
    (['C', 'P'], [60.0])
    """
    if hops < 0:
        raise InvalidInput(f"hops must be at least 0, got {hops}")
    as_of = as_of or date.today()
    sub = store.neighbourhood([entity_id], steps=PATH_STEPS, hops=hops, as_of=as_of)
    if entity_id not in sub.nodes:
        if store.get(entity_id) is None:
            raise NotFound(f"no entity with id {entity_id!r}")
        raise InvalidInput(f"{entity_id!r} is a sanction record; export an entity or address")
    graph: nx.MultiDiGraph[str] = nx.MultiDiGraph(
        entity=entity_id, as_of=as_of.isoformat(), hops=hops
    )
    for node_id in sorted(sub.nodes):
        node = sub.nodes[node_id]
        attrs = _attributes(node, frozenset({"id"}))
        if "text" in attrs:
            attrs["name"] = attrs["text"]
        # Gephi and yEd show ``label``: the name (an address's text), the kind goes in ``type``.
        label = str(attrs.get("name") or node_id)
        graph.add_node(node_id, **{**attrs, "label": label, "type": node.label.value})
    for sanction_id in sorted(sub.sanctions):
        sanction = sub.sanctions[sanction_id]
        attrs = _attributes(sanction, frozenset({"id"}))
        name = f"{sanction.list} {sanction_id}"
        shown = {"name": name, "label": name, "type": sanction.label.value}
        graph.add_node(sanction_id, **{**attrs, **shown})
        graph.add_edge(
            sanction_id, sanction.subject_id, key=f"SANCTIONED|{sanction_id}", type="SANCTIONED"
        )
    for key in sorted(sub.links):
        link = sub.links[key]
        skip = frozenset({"owner_id", "company_id", "person_id", "entity_id", "address_id"})
        graph.add_edge(
            link.source, link.target, key=key, type=link.type.value, **_attributes(link, skip)
        )
    return graph


def to_graphml(graph: nx.MultiDiGraph[str]) -> bytes:
    """GraphML bytes (UTF-8) for Gephi, yEd, ...; reads back with ``networkx.read_graphml``."""
    buffer = io.BytesIO()
    nx.write_graphml(graph, buffer, encoding="utf-8", named_key_ids=True)
    return buffer.getvalue()


def to_cytoscape(graph: nx.MultiDiGraph[str]) -> dict[str, Any]:
    """The cytoscape.js JSON document (``networkx.cytoscape_data``) for Cytoscape.

    The graph-level ``data`` is a mapping (``{"entity": ..., "as_of": ..., "hops": ...}``), as
    cytoscape.js expects, not networkx's list of pairs; ``networkx.cytoscape_graph`` reads either.
    """
    document: dict[str, Any] = nx.cytoscape_data(graph)
    document["data"] = dict(graph.graph)
    return document


def export_neighbourhood(
    store: GraphReader,
    entity_id: str,
    as_of: date | None = None,
    *,
    hops: int = 2,
    fmt: ExportFormat = ExportFormat.GRAPHML,
) -> bytes | Mapping[str, Any]:
    """The neighbourhood in the chosen format: GraphML bytes or the Cytoscape JSON document.

    >>> from graph.memory import MemoryStore
    >>> from graph.model import Company
    >>> from graph.store import WriteBatch
    >>> store = MemoryStore()
    >>> _ = store.write(WriteBatch(nodes=[Company("C", "C Co")]))
    >>> document = export_neighbourhood(store, "C", fmt=ExportFormat.CYTOSCAPE)
    >>> document["elements"]["nodes"][0]["data"]["id"]
    'C'
    """
    graph = neighbourhood_graph(store, entity_id, as_of, hops=hops)
    if ExportFormat(fmt) is ExportFormat.CYTOSCAPE:
        return to_cytoscape(graph)
    return to_graphml(graph)
