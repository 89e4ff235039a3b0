"""Every Cypher statement of the adapter. Values are always parameters; labels and relationship
types come from the model's enums, never from input.

Lookups by id always match on ``:Node {id: ...}``: only that label has the unique index, and a
match on another label would scan it (one label scan per row of a batch).
"""

from __future__ import annotations

import dataclasses
from typing import Final, LiteralString

from graph.codec import NODE_CLASSES
from graph.model import Direction, LinkType, NodeLabel

SCHEMA: Final[tuple[LiteralString, ...]] = (
    "CREATE CONSTRAINT creditnet_node_id IF NOT EXISTS FOR (n:Node) REQUIRE n.id IS UNIQUE",
    "CREATE TEXT INDEX creditnet_entity_search IF NOT EXISTS FOR (n:Entity) ON (n.search_name)",
    "CREATE INDEX creditnet_sanction_subject IF NOT EXISTS FOR (n:Sanction) ON (n.subject_id)",
    "CREATE INDEX creditnet_case_subject IF NOT EXISTS FOR (n:Case) ON (n.subject_id)",
    "CREATE INDEX creditnet_commitment_promisor IF NOT EXISTS FOR (n:Commitment) "
    "ON (n.promisor_id)",
    "CREATE CONSTRAINT creditnet_product_id IF NOT EXISTS FOR (n:Product) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT creditnet_batch_id IF NOT EXISTS FOR (n:Batch) REQUIRE n.id IS UNIQUE",
    "CREATE INDEX creditnet_sanction_batch IF NOT EXISTS FOR (n:Sanction) ON (n.batch_id)",
    # Company.batches finds the transformations a company made by their by_id.
    "CREATE INDEX creditnet_transformed_by IF NOT EXISTS FOR ()-[r:TRANSFORMED_INTO]-() "
    "ON (r.by_id)",
)

# Earlier schemas indexed the links' natural keys. The planner then answered the link MERGE with
# a scan of that index instead of an expand between the two (already found) nodes: quadratic in
# the number of links (bench/load.py). Dropped on init, so that existing databases heal.
DROP_OBSOLETE: Final[tuple[LiteralString, ...]] = (
    "DROP INDEX creditnet_owns_key IF EXISTS",
    "DROP INDEX creditnet_officer_key IF EXISTS",
    "DROP INDEX creditnet_registered_key IF EXISTS",
)
AWAIT_INDEXES: Final = "CALL db.awaitIndexes(300)"

# The version of the search form the stored search_name values were written in (a singleton node
# outside :Node, so no query over entities ever meets it).
SEARCH_FORM: Final = "OPTIONAL MATCH (m:CreditnetMeta {name: 'search'}) RETURN m.version AS version"
SET_SEARCH_FORM: Final = """
MERGE (m:CreditnetMeta {name: 'search'})
SET m.version = $version
"""
SET_SEARCH_NAMES: Final = """
UNWIND $rows AS row
MATCH (n:Node {id: row.id})
SET n.search_name = row.search_name
"""

# Every node that holds a sanction record carries the label RecordHolder (set by the record's
# upsert with its SANCTIONED link, never removed: records are not deleted), so that a pruned walk
# passes a node that cannot hold a live record on its label alone instead of expanding its links;
# most nodes hold none, and a nominee's thousands of positions were each expanded for their
# records. Databases written before the label, and bulk imports, are marked once
# (CreditnetMeta 'record_holders').
RECORD_HOLDERS_MARKED: Final = (
    "OPTIONAL MATCH (m:CreditnetMeta {name: 'record_holders'}) RETURN m.version AS version"
)
MARK_ALL_RECORD_HOLDERS: Final = """
MATCH (s:Sanction)-[:SANCTIONED]->(n:Node)
WITH DISTINCT n
CALL (n) { SET n:RecordHolder } IN TRANSACTIONS OF 10000 ROWS
"""
SET_RECORD_HOLDERS_MARKED: Final = """
MERGE (m:CreditnetMeta {name: 'record_holders'})
SET m.version = 1
"""

LABELS_OF: Final = """
UNWIND $ids AS id
MATCH (n:Node {id: id})
RETURN n.id AS id, [l IN labels(n) WHERE l IN $labels][0] AS label
"""

# Walks the unique Node.id index in order, so each page costs its own size, whatever the label.
NODE_IDS: Final = """
MATCH (n:Node)
WHERE n.id > $after AND $label IN labels(n)
RETURN n.id AS id
ORDER BY n.id
LIMIT $limit
"""

GET_NODES: Final = """
UNWIND $ids AS id
MATCH (n:Node {id: id})
RETURN n.id AS id, [l IN labels(n) WHERE l IN $labels][0] AS label, properties(n) AS props
"""


def _upsert_node(labels: LiteralString) -> LiteralString:
    """MERGE on the indexed id; the kind's labels are set when the node is created."""
    return f"""
UNWIND $rows AS row
MERGE (n:Node {{id: row.id}})
ON CREATE SET n:{labels}
SET n += row.props
RETURN count(n) AS written
"""


def _upsert_record(
    label: LiteralString,
    link: LiteralString,
    owner_field: LiteralString,
    owner_label: LiteralString = "",
) -> LiteralString:
    """MERGE of records whose link to their entity is implied by a property (SANCTIONED by a
    sanction's ``subject_id``, COMMITTED by a commitment's ``promisor_id``): the link follows the
    property, so a record moved to another entity loses its old link. ``owner_label`` is set on
    the entity with the link (RecordHolder, for sanctions)."""
    mark: LiteralString = f"\nSET owner:{owner_label}" if owner_label else ""
    return f"""
UNWIND $rows AS row
MERGE (r:Node {{id: row.id}})
ON CREATE SET r:{label}
SET r += row.props
WITH r, row
CALL (r, row) {{
  OPTIONAL MATCH (r)-[old:{link}]->(prev:Node)
  WHERE prev.id <> row.props.{owner_field}
  DELETE old
}}
WITH r, row
MATCH (owner:Node {{id: row.props.{owner_field}}})
MERGE (r)-[:{link}]->(owner){mark}
RETURN count(r) AS written
"""


def _create_node(labels: LiteralString) -> LiteralString:
    """CREATE of nodes whose ids the writing transaction found absent: no index lookup and no
    MERGE lock per row (a concurrent creator still meets the unique constraint)."""
    return f"""
UNWIND $rows AS props
CREATE (n:Node:{labels})
SET n = props
RETURN count(n) AS written
"""


# The labels whose nodes imply no link (sanction records and commitments always MERGE theirs).
CREATE_NODES: Final[dict[NodeLabel, LiteralString]] = {
    NodeLabel.COMPANY: _create_node("Company:Entity"),
    NodeLabel.PERSON: _create_node("Person:Entity"),
    NodeLabel.ADDRESS: _create_node("Address"),
    NodeLabel.CASE: _create_node("Case"),
}


def _row_keys(label: NodeLabel) -> tuple[str, ...]:
    """The property keys a node of ``label`` may store, in row order: the model's fields
    (Python identifiers, so safe in statement text) and, for entities, ``search_name``."""
    keys = tuple(f.name for f in dataclasses.fields(NODE_CLASSES[label]) if f.name != "extra")
    if label in (NodeLabel.COMPANY, NodeLabel.PERSON):
        keys += ("search_name",)
    assert all(key.isidentifier() for key in keys)
    return keys


def _create_node_rows(labels: LiteralString, keys: tuple[str, ...]) -> LiteralString:
    """CREATE of new nodes from rows of values in ``keys`` order. Lists pack and unpack far
    cheaper than one map per row, and static keys spare the server a ``SET n = map``; a null
    value leaves its property absent, as a missing map key does."""
    props = ", ".join(f"{key}: row[{i}]" for i, key in enumerate(keys))
    return f"""
UNWIND $rows AS row
CREATE (n:Node:{labels} {{{props}}})
RETURN count(n) AS written
"""


# Rows of nodes without extra columns go through CREATE_NODE_ROWS, the others through
# CREATE_NODES; both store the same properties.
NODE_ROW_KEYS: Final[dict[NodeLabel, tuple[str, ...]]] = {
    label: _row_keys(label) for label in CREATE_NODES
}
CREATE_NODE_ROWS: Final[dict[NodeLabel, LiteralString]] = {
    NodeLabel.COMPANY: _create_node_rows("Company:Entity", NODE_ROW_KEYS[NodeLabel.COMPANY]),
    NodeLabel.PERSON: _create_node_rows("Person:Entity", NODE_ROW_KEYS[NodeLabel.PERSON]),
    NodeLabel.ADDRESS: _create_node_rows("Address", NODE_ROW_KEYS[NodeLabel.ADDRESS]),
    NodeLabel.CASE: _create_node_rows("Case", NODE_ROW_KEYS[NodeLabel.CASE]),
}

# One statement per label, so that the label is part of the constant text.
UPSERT_NODES: Final[dict[NodeLabel, LiteralString]] = {
    NodeLabel.COMPANY: _upsert_node("Company:Entity"),
    NodeLabel.PERSON: _upsert_node("Person:Entity"),
    NodeLabel.ADDRESS: _upsert_node("Address"),
    NodeLabel.SANCTION: _upsert_record("Sanction", "SANCTIONED", "subject_id", "RecordHolder"),
    NodeLabel.CASE: _upsert_node("Case"),
    NodeLabel.PRODUCT: _upsert_node("Product"),
    NodeLabel.BATCH: _upsert_node("Batch"),
    NodeLabel.COMMITMENT: _upsert_record("Commitment", "COMMITTED", "promisor_id"),
}

# Versions are read under the case's write lock, so two deciders cannot both pass the check:
# Neo4j does not lock on read, and a SET that leaves a value unchanged takes no lock either. A case
# that must not exist yet is created here as a placeholder (version 0): the unique constraint then
# serialises two creators, and the loser sees version 0 no longer (or rolls back on conflict).
LOCK_CASE_VERSIONS: Final = """
UNWIND $ids AS id
MERGE (c:Node {id: id})
ON CREATE SET c:Case, c.version = 0
SET c.creditnet_lock = randomUUID()
REMOVE c.creditnet_lock
RETURN c.id AS id, CASE WHEN c:Case THEN c.version ELSE -1 END AS version
"""

# A sanction record or a commitment is locked the same way (it must exist: a decision read it
# first); one no decision has changed yet has no version property and counts as version 0.
LOCK_SANCTION_VERSIONS: Final = """
UNWIND $ids AS id
MATCH (s:Node {id: id})
SET s.creditnet_lock = randomUUID()
REMOVE s.creditnet_lock
RETURN s.id AS id,
       CASE WHEN s:Sanction OR s:Commitment THEN coalesce(s.version, 0) ELSE -1 END AS version
"""

# Audit events written with a decision, in its transaction. They are not graph nodes (no Node
# label): nothing traverses them; api.audit reads them back to reconcile its hash-chained file.
CREATE_AUDIT_EVENTS: Final = """
UNWIND $events AS event
CREATE (:AuditEvent {event_id: event.event_id, time: event.time, document: event.document})
"""
AUDIT_EVENTS: Final = """
MATCH (a:AuditEvent)
RETURN a.document AS document
ORDER BY a.time, a.event_id
"""

CASES: Final = """
MATCH (c:Case)
WHERE ($subjects IS NULL OR c.subject_id IN $subjects)
  AND ($kind IS NULL OR c.kind = $kind)
  AND ($status IS NULL OR c.status = $status)
RETURN properties(c) AS props
ORDER BY c.id
"""


def _upsert_link(
    link_type: LiteralString, source: LiteralString, target: LiteralString
) -> LiteralString:
    """MERGE a link by its natural key between two nodes found by their indexed ids, from rows
    ``[source id, target id, key, properties]``.

    Ends without an allowed label (``source``, ``target``: graph.validation's) match nothing, so
    ``written`` falls short: a batch the store did not check first is then rolled back and
    checked (Neo4jStore.write). The properties are set within the MERGE (ON CREATE, ON MATCH):
    a SET after it reads as a conflict to the planner, which then buffers every row (Eager).
    """
    return f"""
UNWIND $rows AS row
MATCH (a:Node {{id: row[0]}}) WHERE {source}
MATCH (b:Node {{id: row[1]}}) WHERE {target}
MERGE (a)-[r:{link_type} {{key: row[2]}}]->(b)
ON CREATE SET r += row[3]
ON MATCH SET r += row[3]
RETURN count(r) AS written
"""


_ENTITY: Final = "a:Company OR a:Person"
UPSERT_LINKS: Final[dict[LinkType, LiteralString]] = {
    LinkType.OWNS: _upsert_link("OWNS", _ENTITY, "b:Company"),
    LinkType.OFFICER_OF: _upsert_link("OFFICER_OF", "a:Person", "b:Company"),
    LinkType.REGISTERED_AT: _upsert_link("REGISTERED_AT", _ENTITY, "b:Address"),
    LinkType.PRODUCED: _upsert_link("PRODUCED", "a:Company", "b:Batch"),
    LinkType.SHIPPED: _upsert_link("SHIPPED", "a:Batch", "b:Company"),
    LinkType.TRANSFORMED_INTO: _upsert_link("TRANSFORMED_INTO", "a:Batch", "b:Batch"),
}

# The as-of filter on a relationship r: start <= as_of < end, missing bounds open.
_IN_FORCE: Final = (
    "($as_of IS NULL OR ((r.start IS NULL OR r.start <= $as_of) "
    "AND (r.end IS NULL OR $as_of < r.end)))"
)
_PATTERNS: Final[dict[Direction, tuple[LiteralString, LiteralString]]] = {
    Direction.OUT: ("(n)-[r:", "]->(m)"),
    Direction.IN: ("(n)<-[r:", "]-(m)"),
    Direction.BOTH: ("(n)-[r:", "]-(m)"),
}


def expand_step(
    link: LinkType, direction: Direction, index: int, *, pruned: bool = False
) -> LiteralString:
    """The MATCH of one traversal step; role filters come as parameter ``$roles_<index>``.

    ``pruned``: a step of :func:`traverse`, which on a pruned last hop (not ``$keep_all``) only
    returns nodes that may hold a live record or are ``$seen``; the label test comes first so
    that the links to the other nodes are dropped before their properties are read.
    """
    left, right = _PATTERNS[direction]
    roles: LiteralString = f"($roles_{index} IS NULL OR r.role IN $roles_{index})"
    # Stated indirect interests (graph.model.Ownership.indirect) are followed only when asked.
    stated: LiteralString = f"coalesce(r.indirect, false) = $stated_{index}"
    test: LiteralString = f"{_IN_FORCE} AND {roles} AND {stated}"
    if pruned:
        # CASE, not AND: the planner orders the terms of an AND itself, and put the link's
        # properties first.
        test = f"CASE WHEN $keep_all OR m:RecordHolder OR m.id IN $seen THEN {test} ELSE false END"
    return f"MATCH {left}{_LINK_TYPES[link]}{right} WHERE {test} RETURN r, m"


_LINK_TYPES: Final[dict[LinkType, LiteralString]] = {
    LinkType.OWNS: "OWNS",
    LinkType.OFFICER_OF: "OFFICER_OF",
    LinkType.REGISTERED_AT: "REGISTERED_AT",
}


def expand(step_matches: list[LiteralString], *, first: bool) -> LiteralString:
    """One hop of a typed neighbourhood from the ids in ``$frontier``.

    Each row carries the node reached with its properties and sanction records, so that no
    second query loads them. The first hop also carries the seeds (``OPTIONAL CALL``: a seed
    without links still yields its row).
    """
    body: LiteralString = "\n  UNION ALL\n  ".join(step_matches)
    call: LiteralString = "OPTIONAL CALL (n) {\n  " if first else "CALL (n) {\n  "
    # Seed columns are computed once per seed (before the expansion), not once per link row.
    seed: LiteralString = (
        "WITH n, [l IN labels(n) WHERE l IN $labels][0] AS seed_label, "
        "properties(n) AS seed_props, "
        "COLLECT { MATCH (s:Sanction)-[:SANCTIONED]->(n) RETURN properties(s) } "
        "AS seed_sanctions, "
        "COLLECT { MATCH (k:Commitment)-[:COMMITTED]->(n) RETURN properties(k) } "
        "AS seed_commitments\n"
        if first
        else ""
    )
    seed_columns: LiteralString = (
        "seed_label, seed_props, seed_sanctions, seed_commitments, " if first else ""
    )
    return (
        "UNWIND $frontier AS id\n"
        "MATCH (n:Node {id: id})\n" + seed + call + body + "\n}\n"
        "RETURN n.id AS seed, " + seed_columns + "type(r) AS type, startNode(r).id AS source, "
        "endNode(r).id AS target, properties(r) AS props, m.id AS other, "
        "[l IN labels(m) WHERE l IN $labels][0] AS other_label, properties(m) AS other_props, "
        "CASE WHEN m IS NULL THEN [] ELSE "
        "COLLECT { MATCH (s:Sanction)-[:SANCTIONED]->(m) RETURN properties(s) } END "
        "AS other_sanctions, "
        "CASE WHEN m IS NULL THEN [] ELSE "
        "COLLECT { MATCH (k:Commitment)-[:COMMITTED]->(m) RETURN properties(k) } END "
        "AS other_commitments"
    )


def traverse(step_matches: list[LiteralString], *, first: bool) -> LiteralString:
    """One hop of an extraction (:meth:`Neo4jStore.extract`) from the ids in ``$frontier``:
    per node expanded, the links followed as ``[other id, live, link element id, type, source,
    target, link properties, other node's data]``.

    Each link comes with the data of the node reached (and the first hop with each seed's), so
    that the fetch of what is kept is only needed for what a pruned walk did not return.

    ``live`` says whether the node reached has a record that may be live at ``$live_at`` (false
    when no ``$live_at`` is given: nothing is pruned then, and nothing is looked up). Unless
    ``$keep_all``, a link is only returned when that node is live or already ``$seen``: on the
    last hop of a pruned extraction nothing else can lead to a live record, so a supernode's
    clean neighbours never leave the server. The first hop takes only seeds with one of
    ``$seed_labels`` (null: any), and returns every seed taken, with or without links.
    """
    body: LiteralString = "\n    UNION ALL\n    ".join(step_matches)
    seeds: LiteralString = (
        "WHERE $seed_labels IS NULL OR any(l IN labels(n) WHERE l IN $seed_labels)\n"
        if first
        else ""
    )
    return (
        "UNWIND $frontier AS id\n"
        "MATCH (n:Node {id: id})\n" + seeds + "RETURN n.id AS seed, COLLECT {\n"
        "  CALL (n) {\n    " + body + "\n  }\n"
        "  WITH r, m, CASE WHEN $live_at IS NULL OR NOT m:RecordHolder THEN false ELSE "
        "EXISTS { MATCH (s:Sanction)-[:SANCTIONED]->(m) WHERE " + _LIVE + " } END AS live\n"
        "  WHERE $keep_all OR live OR m.id IN $seen\n"
        "  RETURN [m.id, live, elementId(r), type(r), startNode(r).id, endNode(r).id, "
        "properties(r), " + _data("m") + "]\n"
        "} AS links" + (", " + _data("n") + " AS data" if first else "")
    )


def _data(node: LiteralString) -> LiteralString:
    """A node's label, properties, records and commitments as one map (:func:`_add_node`)."""
    return (
        "{label: [l IN labels(" + node + ") WHERE l IN $labels][0], "
        "props: properties(" + node + "), "
        "sanctions: COLLECT { MATCH (s:Sanction)-[:SANCTIONED]->(" + node + ") "
        "RETURN properties(s) }, "
        "commitments: COLLECT { MATCH (k:Commitment)-[:COMMITTED]->(" + node + ") "
        "RETURN properties(k) }}"
    )


def live_walks(steps: list[tuple[LinkType, int]], hops: int, direction: Direction) -> LiteralString:
    """A one-way (OUT or IN) extraction pruned to live records, in one statement.

    The live nodes within ``hops`` of the seeds come from a var-length match that returns
    distinct ends, which Neo4j answers with a pruning breadth-first expand (no path
    enumeration). The links returned are every link on a walk from a seed to a live node, and
    possibly more: the caller replays the traversal over them from the seeds
    (:func:`graph.extraction.traversals`) and keeps what a hop-by-hop extraction keeps (every
    node on a walk from a seed to a live node reaches it, so all the walk's links are here).
    Going down (OUT), they are collected by walking up from the live nodes, where holdings are
    few, so that a holder of thousands of stakes is never enumerated; going up (IN), from the
    seeds, whose owners are few. ``steps`` pairs each step's link type with its index in the
    ``$roles_<i>`` and ``$stated_<i>`` parameters.
    """
    types: LiteralString = "|".join(dict.fromkeys(_LINK_TYPES[link] for link, _ in steps))
    accepted: LiteralString = " OR ".join(
        f"(type(r) = '{_LINK_TYPES[link]}' AND ($roles_{i} IS NULL OR r.role IN $roles_{i}) "
        f"AND coalesce(r.indirect, false) = $stated_{i})"
        for link, i in steps
    )
    left, right = ("-", "->") if direction is Direction.OUT else ("<-", "-")
    where: LiteralString = f"WHERE all(r IN rs WHERE {_IN_FORCE} AND ({accepted}))"
    walk: LiteralString = f"{left}[rs:{types}*1..{hops}]{right}"
    links: LiteralString = (
        "UNWIND live AS m\n  MATCH (x)" + walk + "(m)\n"
        if direction is Direction.OUT
        else "UNWIND seeds AS n\n  MATCH (n)" + walk + "(m)\n"
    )
    return (
        "UNWIND $frontier AS id\n"
        "MATCH (n:Node {id: id})\n"
        "WHERE $seed_labels IS NULL OR any(l IN labels(n) WHERE l IN $seed_labels)\n"
        "WITH collect(n) AS seeds\n"
        "CALL (seeds) {\n"
        "  UNWIND seeds AS n\n"
        "  MATCH (n)" + walk + "(m)\n  " + where + "\n"
        "  WITH DISTINCT m\n"
        "  WHERE CASE WHEN m:RecordHolder THEN EXISTS { MATCH (s:Sanction)-[:SANCTIONED]->(m) "
        "WHERE " + _LIVE + " } ELSE false END\n"
        "  RETURN collect(m) AS live\n"
        "}\n"
        "CALL (seeds, live) {\n"
        "  " + links + "  " + where + "\n"
        "  UNWIND rs AS r\n"
        "  WITH DISTINCT r\n"
        "  RETURN collect({type: type(r), source: startNode(r).id, target: endNode(r).id, "
        "props: properties(r), element: elementId(r)}) AS links, "
        "collect(DISTINCT startNode(r)) + collect(DISTINCT endNode(r)) AS ends\n"
        "}\n"
        "CALL (seeds, live, ends) {\n"
        "  UNWIND seeds + live + ends AS v\n"
        "  WITH DISTINCT v\n"
        "  RETURN collect(" + _data("v") + ") AS nodes\n"
        "}\n"
        "RETURN [n IN seeds | n.id] AS seeds, [m IN live | m.id] AS live, links, nodes"
    )


# The columns of a first hop of :func:`traverse` and of :func:`live_walks`, in order.
TRAVERSE_COLUMNS: Final = "seed, links, data"
LIVE_WALKS_COLUMNS: Final = "seeds, live, links, nodes"


def all_at_once(queries: list[tuple[LiteralString, LiteralString]]) -> LiteralString:
    """Several read statements as one: for each ``(statement, columns)``, a column ``q<i>``
    holding the list of the statement's rows, each row the list of ``columns``.

    Each statement runs in a subquery that collects its rows, so it yields exactly one row
    whatever it matched (an inner subquery returning nothing would drop the whole answer).
    The statements must not share parameter names (:mod:`graph.neo4j.extract` renames them).
    """
    parts: list[LiteralString] = []
    names: list[LiteralString] = []
    for index, (statement, columns) in enumerate(queries):
        name: LiteralString = f"q{index}"
        names.append(name)
        parts.append(
            "CALL () {\n  CALL () {\n"
            + statement
            + "\n  }\n  RETURN collect(["
            + columns
            + "]) AS "
            + name
            + "\n}\n"
        )
    return "".join(parts) + "RETURN " + ", ".join(names)


# The nodes (with their records) and the links an extraction kept, in one round trip; links by
# element id, which the store seeks directly.
FETCH_EXTRACTED: Final = """
CALL () {
  UNWIND $ids AS id
  MATCH (n:Node {id: id})
  RETURN collect({label: [l IN labels(n) WHERE l IN $labels][0], props: properties(n),
    sanctions: COLLECT { MATCH (s:Sanction)-[:SANCTIONED]->(n) RETURN properties(s) },
    commitments: COLLECT { MATCH (k:Commitment)-[:COMMITTED]->(n) RETURN properties(k) }})
    AS nodes
}
CALL () {
  UNWIND $elements AS element
  MATCH ()-[r]->() WHERE elementId(r) = element
  RETURN collect({element: element, type: type(r), source: startNode(r).id,
    target: endNode(r).id, props: properties(r)}) AS links
}
RETURN nodes, links
"""


NODES_WITH_SANCTIONS: Final = """
UNWIND $ids AS id
MATCH (n:Node {id: id})
RETURN n.id AS id, [l IN labels(n) WHERE l IN $labels][0] AS label, properties(n) AS props,
       COLLECT { MATCH (s:Sanction)-[:SANCTIONED]->(n) RETURN properties(s) } AS sanctions,
       COLLECT { MATCH (k:Commitment)-[:COMMITTED]->(n) RETURN properties(k) } AS commitments
"""

# The same test as graph.store.may_be_live, where the records are.
_LIVE: Final = """($live_at IS NULL OR (
  (s.status = 'active' OR s.status_date > $live_at)
  AND coalesce(s.start, s.decided, $live_at) <= $live_at
  AND (s.end IS NULL OR $live_at < s.end)))"""

SANCTIONS_OF: Final = (
    """
UNWIND $ids AS id
MATCH (s:Sanction)-[:SANCTIONED]->(:Node {id: id})
WHERE """
    + _LIVE
    + """
RETURN properties(s) AS props
ORDER BY s.id
"""
)

ALL_SANCTIONS: Final = (
    "MATCH (s:Sanction) WHERE " + _LIVE + " RETURN properties(s) AS props ORDER BY s.id"
)

# Two index-backed lookups (unique id, text index on search_name) rather than one OR, which
# Neo4j would answer with a scan of every entity.
SEARCH: Final = """
CALL () {
  MATCH (n:Node {id: $raw}) WHERE n:Entity RETURN n
  UNION
  MATCH (n:Entity) WHERE n.search_name CONTAINS $needle RETURN n
}
WITH n
WHERE $label IS NULL OR $label IN labels(n)
WITH n, CASE WHEN n.id = $raw THEN 0
             WHEN n.search_name STARTS WITH $needle THEN 1 ELSE 2 END AS rank
ORDER BY rank, n.search_name, n.id
WITH collect({id: n.id, label: [l IN labels(n) WHERE l IN $labels][0], props: properties(n)})
     AS hits
RETURN size(hits) AS total, hits[$offset..$offset + $limit] AS page
"""

COUNT_LABEL: Final[dict[NodeLabel, LiteralString]] = {
    NodeLabel.COMPANY: "MATCH (n:Company) RETURN count(n) AS n",
    NodeLabel.PERSON: "MATCH (n:Person) RETURN count(n) AS n",
    NodeLabel.ADDRESS: "MATCH (n:Address) RETURN count(n) AS n",
    NodeLabel.SANCTION: "MATCH (n:Sanction) RETURN count(n) AS n",
    NodeLabel.CASE: "MATCH (n:Case) RETURN count(n) AS n",
    NodeLabel.COMMITMENT: "MATCH (n:Commitment) RETURN count(n) AS n",
    NodeLabel.PRODUCT: "MATCH (n:Product) RETURN count(n) AS n",
    NodeLabel.BATCH: "MATCH (n:Batch) RETURN count(n) AS n",
}
COUNT_TYPE: Final[dict[LinkType, LiteralString]] = {
    LinkType.OWNS: "MATCH ()-[r:OWNS]->() RETURN count(r) AS n",
    LinkType.OFFICER_OF: "MATCH ()-[r:OFFICER_OF]->() RETURN count(r) AS n",
    LinkType.REGISTERED_AT: "MATCH ()-[r:REGISTERED_AT]->() RETURN count(r) AS n",
    LinkType.SANCTIONED: "MATCH ()-[r:SANCTIONED]->() RETURN count(r) AS n",
    LinkType.COMMITTED: "MATCH ()-[r:COMMITTED]->() RETURN count(r) AS n",
    LinkType.PRODUCED: "MATCH ()-[r:PRODUCED]->() RETURN count(r) AS n",
    LinkType.SHIPPED: "MATCH ()-[r:SHIPPED]->() RETURN count(r) AS n",
    LinkType.TRANSFORMED_INTO: "MATCH ()-[r:TRANSFORMED_INTO]->() RETURN count(r) AS n",
}

# Keyset pages over the unique id index (never SKIP, which rereads every earlier row).
SCAN_NODES: Final = """
MATCH (n:Node) WHERE n.id > $after
WITH n ORDER BY n.id LIMIT $batch
RETURN n.id AS id, [l IN labels(n) WHERE l IN $labels][0] AS label, properties(n) AS props
"""
SCAN_LINKS: Final = """
MATCH (n:Node) WHERE n.id > $after
WITH n ORDER BY n.id LIMIT $batch
OPTIONAL MATCH (n)-[r]->(m:Node) WHERE type(r) IN $types
RETURN n.id AS source, type(r) AS type, m.id AS target, properties(r) AS props
"""

# -- supply closures (graph.store.GraphReader.supply) ----------------------------------------
# One statement per closure. The closure is a var-length expand whose end nodes alone are kept
# (DISTINCT), which the planner runs as a pruning breadth-first expand: each batch is visited
# once, so the cost is linear in the closure, not in the number of paths through a DAG.
_DATED: Final = "($as_of IS NULL OR r.date <= $as_of)"
# A batch of a supply closure with its product and the records that name it (then its links).
_BATCH_ROW: Final = """RETURN properties(b) AS batch,
       COLLECT { MATCH (p:Node {id: b.product_id}) WHERE p:Product RETURN properties(p) }
         AS product,
       COLLECT { MATCH (s:Sanction) WHERE s.batch_id = b.id RETURN properties(s) } AS sanctions,
"""
SUPPLY_DOWN: Final = (
    """
UNWIND $seeds AS id
MATCH (s:Node {id: id}) WHERE s:Batch
MATCH (s)-[ts:TRANSFORMED_INTO*0..]->(b:Batch)
WHERE all(t IN ts WHERE $as_of IS NULL OR t.date <= $as_of)
WITH DISTINCT b
"""
    + _BATCH_ROW
    + """       COLLECT { MATCH (b)-[r:SHIPPED|TRANSFORMED_INTO]->(m:Batch|Company) WHERE """
    + _DATED
    + """
                 RETURN {type: type(r), source: b.id, target: m.id, props: properties(r)} AS link }
         AS links
"""
)

SUPPLY_UP: Final = (
    """
UNWIND $seeds AS id
MATCH (s:Node {id: id}) WHERE s:Batch OR s:Company
CALL (s) {
  MATCH (s) WHERE s:Batch RETURN s AS start
  UNION
  MATCH (s)<-[r:SHIPPED]-(x:Batch) WHERE s:Company AND """
    + _DATED
    + """ RETURN x AS start
}
WITH DISTINCT start
MATCH (start)<-[ts:TRANSFORMED_INTO*0..]-(b:Batch)
WHERE all(t IN ts WHERE $as_of IS NULL OR t.date <= $as_of)
WITH DISTINCT b
"""
    + _BATCH_ROW
    + """       COLLECT { MATCH (b)-[r:SHIPPED]->(m:Company) WHERE """
    + _DATED
    + """
                 RETURN {type: type(r), source: b.id, target: m.id, props: properties(r)} AS link
                 UNION ALL
                 MATCH (b)<-[r:PRODUCED|TRANSFORMED_INTO]-(m:Company|Batch) WHERE """
    + _DATED
    + """
                 RETURN {type: type(r), source: m.id, target: b.id, props: properties(r)} AS link }
         AS links
"""
)

# Batches a company held: produced, received, or made by a transformation (by_id).
BATCHES_OF: Final = (
    """
UNWIND $ids AS id
MATCH (c:Node {id: id}) WHERE c:Company
CALL (c) {
  MATCH (c)-[r:PRODUCED]->(b:Batch) WHERE """
    + _DATED
    + """ RETURN b
  UNION
  MATCH (c)<-[r:SHIPPED]-(b:Batch) WHERE """
    + _DATED
    + """ RETURN b
  UNION
  MATCH ()-[r:TRANSFORMED_INTO]->(b:Batch) WHERE r.by_id = c.id AND """
    + _DATED
    + """ RETURN b
}
RETURN c.id AS company, properties(b) AS batch
ORDER BY company, b.id
"""
)

# A bounded piece of a clear per statement, repeated until nothing is left: one statement that
# deletes in inner transactions still runs as one outer transaction, which a server's
# transaction timeout (db.transaction.timeout) ends on a large graph (3.5M nodes at 1M
# companies took longer than 300 s).
CLEAR_SOME: Final = """
MATCH (n:Node)
WITH n LIMIT $limit
DETACH DELETE n
RETURN count(*) AS deleted
"""
CLEAR_SOME_AUDIT_EVENTS: Final = """
MATCH (a:AuditEvent)
WITH a LIMIT $limit
DELETE a
RETURN count(*) AS deleted
"""
PING: Final = "RETURN 1 AS ok"
