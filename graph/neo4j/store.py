"""The Neo4j store: the GraphStore port over the official driver.

The caller owns the :class:`neo4j.Driver` (unless it hands ownership over with ``owns_driver``).
Reads run in ``execute_read`` and writes in ``execute_write`` managed transactions, so a
``neo4j://`` cluster URI routes reads to readers and retries transient failures. Every node carries
the ``Node`` label (unique ``id``) plus its own label; companies and persons also carry ``Entity``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date
from typing import Any, LiteralString, TypeVar

import neo4j
from neo4j.exceptions import (
    ConstraintError,
    DriverError,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
    TransientError,
)

from graph.codec import link_from_props, link_props, node_from_props, node_props
from graph.errors import BackendUnavailable, InvalidInput
from graph.extraction import Extraction
from graph.model import (
    SEARCH_FORM_VERSION,
    Batch,
    Case,
    CaseKind,
    CaseStatus,
    Commitment,
    Company,
    Direction,
    EntityKind,
    Link,
    LinkType,
    Node,
    NodeLabel,
    Officer,
    Ownership,
    Person,
    Product,
    Registration,
    Sanction,
    normalize_search_text,
    search_text,
)
from graph.neo4j import cypher, extract, forward
from graph.neo4j.extract import add_node as _add_node
from graph.store import (
    SCAN_BATCH,
    SearchPage,
    Stats,
    Step,
    Subgraph,
    SupplyGraph,
    WriteBatch,
    WriteResult,
    scan_ids,
    scan_kinds,
)
from graph.validation import check_batch, check_expectations, check_versions

__all__ = ["Neo4jStore"]

T = TypeVar("T")
_READ_ATTEMPTS = 3
_CLEAR_BATCH = 10_000

_LABELS = [label.value for label in NodeLabel]
# Link types whose rows name no node but their two ends (graph.validation checks nothing else).
_SELF_CHECKED = frozenset({LinkType.OWNS, LinkType.OFFICER_OF, LinkType.REGISTERED_AT})
_CHUNK = 10_000


def _version(session: neo4j.Session) -> str | None:
    """The session's last bookmark as a version token (Neo4jStore.read_version)."""
    values = sorted(session.last_bookmarks().raw_values)
    return ",".join(values) if values else None


class Neo4jStore:
    """GraphStore on Neo4j 5.26+.

    Parameters
    ----------
    driver
        An open driver; the store never closes it unless ``owns_driver`` is true.
    database
        The database to use (Community has one: ``neo4j``).
    """

    name = "neo4j"

    def __init__(
        self, driver: neo4j.Driver, database: str = "neo4j", *, owns_driver: bool = False
    ) -> None:
        self._driver = driver
        self._database = database
        self._owns_driver = owns_driver
        self._schema_ready = False
        self._schema_lock = threading.Lock()
        # Whether the last batches found their ids new (Neo4jStore.write); only a shortcut.
        self._fresh_ids = True
        self._holders_marked = False
        # per thread: the bookmark its last read ended at (last_read_version)
        self._last_read = threading.local()

    # -- plumbing --------------------------------------------------------------------------

    def _session(self) -> neo4j.Session:
        # Schema-free properties (a link without `end`) make the server warn on every query.
        return self._driver.session(
            database=self._database,
            notifications_min_severity=neo4j.NotificationMinimumSeverity.OFF,
        )

    def _read(self, work: Any) -> Any:
        try:
            with self._session() as session:
                return session.execute_read(work)
        except (ServiceUnavailable, DriverError, OSError) as exc:
            raise self._unavailable(exc) from exc

    def _read_auto(self, work: Callable[[extract.Runner], T]) -> T:
        """A read whose statements each run as an auto-commit transaction in a read session.

        A managed transaction costs two round trips of its own (BEGIN, COMMIT) around its
        statements; a credit report's extraction is one statement, so they were most of its
        waiting. Nothing is lost: Neo4j reads at read-committed isolation within a transaction
        too. A lost connection or a transient error is retried, as ``execute_read`` would.
        """
        for attempt in range(1, _READ_ATTEMPTS + 1):
            try:
                with self._driver.session(
                    database=self._database,
                    default_access_mode=neo4j.READ_ACCESS,
                    notifications_min_severity=neo4j.NotificationMinimumSeverity.OFF,
                ) as session:
                    answer = work(session)
                    self._last_read.version = _version(session)
                    return answer
            except (ServiceUnavailable, SessionExpired, TransientError) as exc:
                if attempt == _READ_ATTEMPTS:
                    raise self._unavailable(exc) from exc
                time.sleep(0.2 * attempt)
            except (DriverError, OSError) as exc:
                raise self._unavailable(exc) from exc
        raise AssertionError("unreachable")

    def _write(self, work: Any) -> Any:
        self.ensure_schema()
        try:
            with self._session() as session:
                return session.execute_write(work)
        except (ServiceUnavailable, DriverError, OSError) as exc:
            raise self._unavailable(exc) from exc

    def _unavailable(self, exc: Exception) -> BackendUnavailable:
        return BackendUnavailable(
            f"Neo4j at {self._driver_address()} is not reachable ({exc}). Start it "
            "(scripts/neo4j-local start, or docker compose up neo4j) or check CREDITNET_NEO4J_URI; "
            "nothing was written by the failed call, and re-running is safe."
        )

    def _driver_address(self) -> str:
        try:
            return str(self._driver.get_server_info().address)
        except Exception:  # the server is down: any driver error means "unknown address"
            return "the configured URI"

    def ensure_schema(self) -> None:
        """Create constraints and indexes if missing (idempotent); wait until they are online."""
        if self._schema_ready:
            return
        with self._schema_lock:
            if self._schema_ready:
                return
            try:
                with self._session() as session:
                    for statement in (*cypher.DROP_OBSOLETE, *cypher.SCHEMA):
                        session.run(statement).consume()
                    session.run(cypher.AWAIT_INDEXES).consume()
                    record = session.run(cypher.SEARCH_FORM).single()
                    stored = record["version"] if record is not None else None
            except (ServiceUnavailable, DriverError, OSError) as exc:
                raise self._unavailable(exc) from exc
            self._schema_ready = True
        self._ensure_record_holders()
        # Outside the lock: the reindex reads and writes through the methods that ensure the
        # schema. Two processes may both reindex; the result is the same.
        if stored != SEARCH_FORM_VERSION:
            self._reindex_search()

    def _ensure_record_holders(self) -> None:
        """Label the nodes that hold records RecordHolder (cypher.MARK_ALL_RECORD_HOLDERS) if
        this database was written without the label (before it existed, or by the bulk
        importer): a pruned extraction reads it, and on an unmarked database would miss live
        records."""
        if self._holders_marked:
            return
        try:
            with self._session() as session:
                marked = session.run(cypher.RECORD_HOLDERS_MARKED).single()
                if marked is None or marked["version"] is None:
                    # Auto-commit: the marking commits in batches of its own.
                    session.run(cypher.MARK_ALL_RECORD_HOLDERS).consume()
                    session.run(cypher.SET_RECORD_HOLDERS_MARKED).consume()
        except (ServiceUnavailable, DriverError, OSError) as exc:
            raise self._unavailable(exc) from exc
        except Neo4jError as exc:
            raise BackendUnavailable(
                f"this Neo4j database's record holders are not marked yet and could not be "
                f"marked ({exc.code}: {exc.message}): run `creditnet --store neo4j db init` once "
                "as a user that may write (docs/operations.md, 'Neo4j: record holders')"
            ) from exc
        self._holders_marked = True

    def _reindex_search(self) -> None:
        """Rewrite every entity's search text in the current form (after an upgrade that changed
        :func:`graph.model.normalize_search_text`), a page of ids at a time."""
        for label in (NodeLabel.COMPANY, NodeLabel.PERSON):
            for ids in scan_ids(self, label):
                found = self.get_many(ids)
                rows = [
                    {"id": node.id, "search_name": search_text(node)}
                    for node in found.values()
                    if isinstance(node, (Company, Person))
                ]
                self._write(lambda tx, r=rows: tx.run(cypher.SET_SEARCH_NAMES, rows=r).consume())
        self._write(
            lambda tx: tx.run(cypher.SET_SEARCH_FORM, version=SEARCH_FORM_VERSION).consume()
        )

    def ping(self) -> None:
        """Raise BackendUnavailable unless the database answers a trivial query."""
        self._read(lambda tx: tx.run(cypher.PING).single())

    # -- writer ----------------------------------------------------------------------------

    def write(self, batch: WriteBatch, *, expect: Mapping[str, int] | None = None) -> WriteResult:
        if expect:
            check_expectations(batch, expect)
        nodes_by_label: dict[NodeLabel, list[dict[str, Any]]] = {}
        for node in batch.nodes:
            props = node_props(node)
            if isinstance(node, (Company, Person)):
                props["search_name"] = search_text(node)
            nodes_by_label.setdefault(node.label, []).append({"id": node.id, "props": props})
        links_by_type: dict[LinkType, list[list[Any]]] = {}
        for link in batch.links:
            key = link.key  # computed on each access
            links_by_type.setdefault(link.type, []).append(
                [link.source, link.target, key, {**link_props(link), "key": key}]
            )

        sanction_ids = {node.id for node in batch.nodes if isinstance(node, (Sanction, Commitment))}
        audit_rows = [
            {
                "event_id": str(event["event_id"]),
                "time": str(event.get("time", "")),
                "document": json.dumps(event, sort_keys=True, ensure_ascii=False),
            }
            for event in batch.audit
        ]

        # Ids this batch would CREATE: while loads keep bringing new ids, they are not looked up
        # first; the unique constraint proves them absent, and a ConstraintError sends the batch
        # down the checked path.
        creatable = {node.id for node in batch.nodes if node.label in cypher.CREATE_NODES}
        # A batch of links whose only references are their ends needs no lookups either:
        # UPSERT_LINKS matches only ends of the allowed labels, so a bad row makes the written
        # count fall short, and the batch is rolled back and checked.
        self_checked = not batch.nodes and all(link.type in _SELF_CHECKED for link in batch.links)

        def work(tx: neo4j.ManagedTransaction, create: bool, trusting: bool) -> None:
            if expect:
                # Cases and sanction records are locked and read in one order (by id) so that
                # two decisions on one record queue up instead of deadlocking.
                stored: dict[str, int] = {}
                for node_id in sorted(expect):
                    statement = (
                        cypher.LOCK_SANCTION_VERSIONS
                        if node_id in sanction_ids
                        else cypher.LOCK_CASE_VERSIONS
                    )
                    for r in tx.run(statement, ids=[node_id]):
                        stored[r["id"]] = r["version"]
                check_versions(expect, stored)
            asked: set[str] = set()
            stored_labels: dict[str, NodeLabel] = {}

            trust_ids = trusting and create and self._fresh_ids

            def labels_of(ids: Iterable[str]) -> dict[str, NodeLabel]:
                wanted = list(ids)
                asked.update(wanted)
                if trust_ids:
                    wanted = [node_id for node_id in wanted if node_id not in creatable]
                found = self._labels_in(tx, wanted)
                stored_labels.update(found)
                return found

            if not (trusting and self_checked):
                check_batch(batch, labels_of)
                if creatable and not trust_ids:
                    # A reload finds its ids stored: the next batches look theirs up first.
                    self._fresh_ids = creatable.isdisjoint(stored_labels)
            # Sanctions after entities, so that their subjects exist.
            for label in (
                NodeLabel.COMPANY,
                NodeLabel.PERSON,
                NodeLabel.ADDRESS,
                NodeLabel.PRODUCT,
                NodeLabel.BATCH,
                NodeLabel.SANCTION,
                NodeLabel.COMMITMENT,
                NodeLabel.CASE,
            ):
                rows = nodes_by_label.get(label, [])
                create_rows = cypher.CREATE_NODES.get(label) if create else None
                if create_rows is not None and rows:
                    # Ids this transaction saw absent are created without a MERGE (no lookup,
                    # no merge lock); the rest (reloads, repeats in the batch) are merged.
                    fresh, rows = _split_new(rows, asked, stored_labels)
                    listed, mapped = _as_rows(fresh, cypher.NODE_ROW_KEYS[label])
                    for chunk in _chunks(listed):
                        made = tx.run(cypher.CREATE_NODE_ROWS[label], rows=chunk).single(
                            strict=True
                        )
                        _expect(made["written"], len(chunk), label.value)
                    for chunk in _chunks(mapped):
                        written = tx.run(create_rows, rows=chunk).single(strict=True)
                        _expect(written["written"], len(chunk), label.value)
                for chunk in _chunks(rows):
                    written = tx.run(cypher.UPSERT_NODES[label], rows=chunk).single(strict=True)
                    _expect(written["written"], len(chunk), label.value)
            for link_type, link_rows in links_by_type.items():
                for chunk in _chunks(link_rows):
                    written = tx.run(cypher.UPSERT_LINKS[link_type], rows=chunk).single(strict=True)
                    if trusting and self_checked and written["written"] != len(chunk):
                        raise _Unchecked
                    _expect(written["written"], len(chunk), link_type.value)
            if audit_rows:
                tx.run(cypher.CREATE_AUDIT_EVENTS, events=audit_rows).consume()

        trusting = not expect
        try:
            try:
                try:
                    self._write(lambda tx: work(tx, create=True, trusting=trusting))
                except _Unchecked:
                    # A link end is missing or of the wrong kind: check_batch says which.
                    self._write(lambda tx: work(tx, create=True, trusting=False))
            except ConstraintError:
                # One of the "new" ids was stored (a reload, or another writer meanwhile): this
                # batch rolled back whole, and is merged row by row instead.
                if trusting and creatable:
                    self._fresh_ids = False
                self._write(lambda tx: work(tx, create=False, trusting=False))
        except ConstraintError as exc:
            raise InvalidInput(f"Neo4j refused the batch: {exc.message}") from exc
        except Neo4jError as exc:
            # Timeouts, terminated transactions, memory limits: the batch was rolled back whole.
            raise BackendUnavailable(
                f"Neo4j did not apply the batch ({exc.code}: {exc.message}); nothing of it was "
                "written, and re-running the load is safe"
            ) from exc
        return WriteResult(nodes=len(batch.nodes), links=len(batch.links))

    @staticmethod
    def _labels_in(tx: neo4j.ManagedTransaction, ids: Iterable[str]) -> dict[str, NodeLabel]:
        found: dict[str, NodeLabel] = {}
        for chunk in _chunks(list(ids)):
            for record in tx.run(cypher.LABELS_OF, ids=chunk, labels=_LABELS):
                found[record["id"]] = NodeLabel(record["label"])
        return found

    # -- reader ----------------------------------------------------------------------------

    def get(self, node_id: str) -> Node | None:
        return self.get_many([node_id]).get(node_id)

    def get_many(self, node_ids: Iterable[str]) -> dict[str, Node]:
        ids = list(dict.fromkeys(node_ids))
        if not ids:
            return {}

        def work(tx: neo4j.ManagedTransaction) -> dict[str, Node]:
            result: dict[str, Node] = {}
            for chunk in _chunks(ids):
                for record in tx.run(cypher.GET_NODES, ids=chunk, labels=_LABELS):
                    result[record["id"]] = node_from_props(record["label"], record["props"])
            return result

        found: dict[str, Node] = self._read(work)
        return found

    def labels_of(self, node_ids: Iterable[str]) -> dict[str, NodeLabel]:
        ids = list(dict.fromkeys(node_ids))
        if not ids:
            return {}
        labels: dict[str, NodeLabel] = self._read(lambda tx: self._labels_in(tx, ids))
        return labels

    def node_ids(self, label: NodeLabel, *, after: str = "", limit: int = 10_000) -> list[str]:
        def work(tx: neo4j.ManagedTransaction) -> list[str]:
            result = tx.run(cypher.NODE_IDS, label=label.value, after=after, limit=max(limit, 0))
            return [record["id"] for record in result]

        ids: list[str] = self._read(work)
        return ids

    def search(
        self, text: str, kind: EntityKind | None = None, limit: int = 20, offset: int = 0
    ) -> SearchPage:
        needle = normalize_search_text(text)
        if not needle:
            return SearchPage(items=[], total=0)
        label = None if kind is None else _KIND_LABEL[kind]

        def work(tx: neo4j.ManagedTransaction) -> SearchPage:
            record = tx.run(
                cypher.SEARCH,
                raw=text.strip(),
                needle=needle,
                label=label,
                labels=_LABELS,
                offset=offset,
                limit=limit,
            ).single(strict=True)
            items = [node_from_props(hit["label"], hit["props"]) for hit in record["page"]]
            return SearchPage(
                items=[i for i in items if isinstance(i, (Company, Person))], total=record["total"]
            )

        page: SearchPage = self._read(work)
        return page

    def neighbourhood(
        self,
        seeds: Iterable[str],
        *,
        steps: Sequence[Step],
        hops: int,
        as_of: date | None,
    ) -> Subgraph:
        start = list(dict.fromkeys(seeds))
        matches: list[LiteralString] = []
        params: dict[str, Any] = {"as_of": as_of}
        for index, step in enumerate(steps):
            matches.append(cypher.expand_step(step.link, step.direction, index))
            params[f"roles_{index}"] = (
                None if step.roles is None else sorted(r.value for r in step.roles)
            )
            params[f"stated_{index}"] = step.stated
        if not matches or hops < 1:
            subgraph: Subgraph = self._read(lambda tx: self._only_nodes(tx, start))
            return subgraph
        first_hop = cypher.expand(matches, first=True)
        later_hops = cypher.expand(matches, first=False)

        def work(tx: neo4j.ManagedTransaction) -> Subgraph:
            result = Subgraph()
            seen = set(start)
            frontier = start
            for hop in range(hops):
                if not frontier:
                    break
                next_frontier: list[str] = []
                query = first_hop if hop == 0 else later_hops
                for chunk in _chunks(frontier):
                    for record in tx.run(query, frontier=chunk, labels=_LABELS, **params):
                        if hop == 0:
                            _add_node(
                                result,
                                record["seed_label"],
                                record["seed_props"],
                                record["seed_sanctions"],
                                record["seed_commitments"],
                            )
                        if record["type"] is None:
                            continue
                        link = link_from_props(
                            record["type"], record["source"], record["target"], record["props"]
                        )
                        result.links[link.key] = link
                        other = record["other"]
                        if other not in seen:
                            seen.add(other)
                            next_frontier.append(other)
                            _add_node(
                                result,
                                record["other_label"],
                                record["other_props"],
                                record["other_sanctions"],
                                record["other_commitments"],
                            )
                frontier = next_frontier
            return result

        subgraph = self._read(work)
        return subgraph

    def extract(self, requests: Sequence[Extraction]) -> list[Subgraph]:
        self._ensure_record_holders()
        # One read transaction for all; one statement for every request that needs one round.
        return self._read_auto(lambda session: extract.extract(session, requests))

    def read_version(self) -> str | None:
        """The bookmark of the last transaction the database committed, as an opaque token
        (graph/rules/shared_lookups.py): it changes whenever a write commits."""

        def work(session: extract.Runner) -> str | None:
            session.run(cypher.PING).consume()
            assert isinstance(session, neo4j.Session)
            return _version(session)

        return self._read_auto(work)

    def last_read_version(self) -> str | None:
        """:meth:`read_version` as of the end of this thread's last read, without a round trip
        (a read's bookmark: the last transaction committed when it ended)."""
        version: str | None = getattr(self._last_read, "version", None)
        return version

    def live_records(
        self, day: date, cut: forward.PeriodCut | None = None
    ) -> tuple[list[Sanction], dict[str, str]]:
        """Forward materialisation's first read (graph/rules/forward.py, graph/neo4j/forward.py)."""
        return forward.live_records(self._read, day, cut)

    def walk_links(
        self, walks: Sequence[forward.LinkWalk], as_of: date
    ) -> list[forward.WalkedLinks]:
        """Forward materialisation's walks, links and labels only (graph/neo4j/forward.py)."""
        return forward.walk_links(self._read, walks, as_of)

    def _only_nodes(self, tx: neo4j.ManagedTransaction, ids: list[str]) -> Subgraph:
        result = Subgraph()
        self._load_nodes(tx, ids, result)
        return result

    @staticmethod
    def _load_nodes(tx: neo4j.ManagedTransaction, ids: list[str], result: Subgraph) -> None:
        for chunk in _chunks(ids):
            for record in tx.run(cypher.NODES_WITH_SANCTIONS, ids=chunk, labels=_LABELS):
                _add_node(
                    result,
                    record["label"],
                    record["props"],
                    record["sanctions"],
                    record["commitments"],
                )

    def supply(
        self, seeds: Iterable[str], *, direction: Direction, as_of: date | None
    ) -> SupplyGraph:
        if direction is Direction.BOTH:
            raise ValueError("a supply closure is downstream (OUT) or upstream (IN), not both")
        start = list(dict.fromkeys(seeds))
        query = cypher.SUPPLY_DOWN if direction is Direction.OUT else cypher.SUPPLY_UP

        def work(tx: extract.Runner) -> SupplyGraph:
            result = SupplyGraph()
            for record in tx.run(query, seeds=start, as_of=as_of):
                batch = node_from_props(NodeLabel.BATCH, record["batch"])
                assert isinstance(batch, Batch)
                result.batches[batch.id] = batch
                for props in record["product"]:
                    product = node_from_props(NodeLabel.PRODUCT, props)
                    assert isinstance(product, Product)
                    result.products[product.id] = product
                for props in record["sanctions"]:
                    sanction = node_from_props(NodeLabel.SANCTION, props)
                    assert isinstance(sanction, Sanction)
                    result.sanctions[sanction.id] = sanction
                for row in record["links"]:
                    link = link_from_props(row["type"], row["source"], row["target"], row["props"])
                    assert not isinstance(link, (Ownership, Officer, Registration))
                    result.links[link.key] = link
            return result

        # One statement: the whole closure in one round trip, never a loop of hops.
        return self._read_auto(work)

    def batches_of(
        self, company_ids: Iterable[str], *, as_of: date | None = None
    ) -> dict[str, list[Batch]]:
        ids = list(dict.fromkeys(company_ids))
        found: dict[str, list[Batch]] = {i: [] for i in ids}
        if not ids:
            return found

        def work(tx: neo4j.ManagedTransaction) -> None:
            for record in tx.run(cypher.BATCHES_OF, ids=ids, as_of=as_of):
                batch = node_from_props(NodeLabel.BATCH, record["batch"])
                assert isinstance(batch, Batch)
                found[record["company"]].append(batch)

        self._read(work)
        return found

    def sanctions(
        self, subject_ids: Iterable[str] | None = None, *, live_at: date | None = None
    ) -> Iterator[Sanction]:
        ids = None if subject_ids is None else list(dict.fromkeys(subject_ids))

        def work(tx: neo4j.ManagedTransaction) -> list[Sanction]:
            if ids is None:
                records = list(tx.run(cypher.ALL_SANCTIONS, live_at=live_at))
            else:
                records = [
                    r
                    for c in _chunks(ids)
                    for r in tx.run(cypher.SANCTIONS_OF, ids=c, live_at=live_at)
                ]
            found = [node_from_props(NodeLabel.SANCTION, r["props"]) for r in records]
            return sorted((s for s in found if isinstance(s, Sanction)), key=lambda s: s.id)

        found: list[Sanction] = self._read(work)
        return iter(found)

    def cases(
        self,
        *,
        subject_ids: Iterable[str] | None = None,
        kind: CaseKind | None = None,
        status: CaseStatus | None = None,
    ) -> list[Case]:
        subjects = None if subject_ids is None else list(dict.fromkeys(subject_ids))

        def work(tx: neo4j.ManagedTransaction) -> list[Case]:
            records = tx.run(
                cypher.CASES,
                subjects=subjects,
                kind=None if kind is None else kind.value,
                status=None if status is None else status.value,
            )
            found = [node_from_props(NodeLabel.CASE, r["props"]) for r in records]
            return [c for c in found if isinstance(c, Case)]

        cases: list[Case] = self._read(work)
        return cases

    def scan(
        self,
        labels: Iterable[NodeLabel | LinkType] | None = None,
        *,
        batch_size: int = SCAN_BATCH,
    ) -> Iterator[list[Node | Link]]:
        node_labels, link_types = scan_kinds(labels)
        wanted = {label.value for label in node_labels}
        after = ""
        while True:
            # One read transaction per page: a long export holds no transaction open.
            rows = self._read(
                lambda tx, a=after: list(
                    tx.run(cypher.SCAN_NODES, after=a, batch=batch_size, labels=_LABELS)
                )
            )
            if not rows:
                break
            after = rows[-1]["id"]
            nodes: list[Node | Link] = [
                node_from_props(r["label"], r["props"]) for r in rows if r["label"] in wanted
            ]
            if nodes:
                yield nodes
        if not link_types:
            return
        types = sorted(t.value for t in link_types)
        after = ""
        while True:
            rows = self._read(
                lambda tx, a=after: list(
                    tx.run(cypher.SCAN_LINKS, after=a, batch=batch_size, types=types)
                )
            )
            if not rows:
                break
            after = max(r["source"] for r in rows)
            links: list[Link] = [
                link_from_props(r["type"], r["source"], r["target"], r["props"])
                for r in rows
                if r["type"] is not None
            ]
            links.sort(key=lambda link: (link.source, link.key))
            if links:
                yield list(links)

    def stats(self) -> Stats:
        def work(tx: neo4j.ManagedTransaction) -> Stats:
            nodes = {
                label.value: tx.run(query).single(strict=True)["n"]
                for label, query in cypher.COUNT_LABEL.items()
            }
            links = {
                kind.value: tx.run(query).single(strict=True)["n"]
                for kind, query in cypher.COUNT_TYPE.items()
            }
            return Stats(nodes=nodes, links=links)

        stats: Stats = self._read(work)
        return stats

    # -- lifecycle -------------------------------------------------------------------------

    def audit_events(self) -> list[dict[str, Any]]:
        def work(tx: neo4j.ManagedTransaction) -> list[dict[str, Any]]:
            return [json.loads(r["document"]) for r in tx.run(cypher.AUDIT_EVENTS)]

        events: list[dict[str, Any]] = self._read(work)
        return events

    def clear(self) -> None:
        try:
            with self._session() as session:
                for statement in (cypher.CLEAR_SOME, cypher.CLEAR_SOME_AUDIT_EVENTS):
                    deleted = _CLEAR_BATCH
                    while deleted:
                        record = session.run(statement, limit=_CLEAR_BATCH).single(strict=True)
                        deleted = record["deleted"]
        except (ServiceUnavailable, DriverError, OSError) as exc:
            raise self._unavailable(exc) from exc
        except Neo4jError as exc:
            raise BackendUnavailable(f"Neo4j could not clear the database: {exc}") from exc

    def close(self) -> None:
        if self._owns_driver:
            self._driver.close()

    def __enter__(self) -> Neo4jStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_KIND_LABEL = {
    EntityKind.COMPANY: NodeLabel.COMPANY.value,
    EntityKind.PERSON: NodeLabel.PERSON.value,
}


def _split_new(
    rows: list[dict[str, Any]], asked: set[str], stored: Mapping[str, NodeLabel]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows of ids looked up and found absent (their property maps, ``id`` included), and the
    others: ids the store has, ids not looked up, and second rows of one id."""
    fresh: list[dict[str, Any]] = []
    merged: list[dict[str, Any]] = []
    taken: set[str] = set()
    for row in rows:
        node_id = row["id"]
        if node_id in asked and node_id not in stored and node_id not in taken:
            taken.add(node_id)
            fresh.append(row["props"])
        else:
            merged.append(row)
    return fresh, merged


def _as_rows(
    maps: list[dict[str, Any]], keys: tuple[str, ...]
) -> tuple[list[list[Any]], list[dict[str, Any]]]:
    """Property maps as rows of values in ``keys`` order (None where absent), and the maps with
    keys beyond those (extra columns), which go as maps."""
    known = frozenset(keys)
    rows: list[list[Any]] = []
    others: list[dict[str, Any]] = []
    for props in maps:
        if props.keys() <= known:
            rows.append(list(map(props.get, keys)))
        else:
            others.append(props)
    return rows, others


class _Unchecked(Exception):
    """An unchecked batch did not write every row: it is rolled back, and checked."""


def _chunks(rows: list[Any], size: int = _CHUNK) -> Iterator[list[Any]]:
    for offset in range(0, len(rows), size):
        yield rows[offset : offset + size]


def _expect(written: int, expected: int, what: str) -> None:
    if written != expected:
        # check_batch ran in this transaction, so this means a concurrent delete: roll back.
        raise InvalidInput(
            f"only {written} of {expected} {what} rows could be written (an endpoint vanished "
            "while writing); nothing was written, retry the load"
        )
