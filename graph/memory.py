"""The embedded store: a networkx DiGraph in memory, made durable by an append-only journal.

Every acknowledged write batch is one journal record, fsynced before :meth:`MemoryStore.write`
returns; on start the journal is replayed. A record is one line, ``<crc32 hex> <json>\\n``.

Several processes may open one data dir at once (a server and CLI commands): the journal is the
one truth and every process follows it. Each read first applies the records others appended
since (a ``stat`` when nothing changed); each write takes the OS lock on ``journal.lock`` for one
append, applies what others wrote, checks the versions it was given, appends and fsyncs.

A damaged *last* record is a write that was never acknowledged (the process died during it): the
next writer, under the lock, reports it, moves it aside to ``journal.torn-<time>`` (nothing is
lost) and does not apply it; a reader without the lock just leaves it unapplied. Damage anywhere
else is not something a crash can cause, so the store refuses to start (:class:`CorruptJournal`).

This is the reference implementation of the :mod:`graph.store` port.
"""

from __future__ import annotations

import bisect
import fcntl
import gc
import logging
import os
import threading
import time
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any, TypeVar, cast

import networkx as nx
import orjson

from graph.codec import (
    link_from_props,
    link_props,
    merge_link,
    merge_node,
    node_from_props,
    node_props,
)
from graph.errors import CorruptJournal
from graph.extraction import Extraction, extract_each
from graph.memory_budget import Footprint, footprint, machine_memory_bytes, rss_bytes
from graph.memory_compact import NO_LINKS, Interner, held_links, iter_held, with_link
from graph.model import (
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
    Person,
    Produced,
    Product,
    Sanction,
    Shipped,
    TransformedInto,
    normalize_search_text,
    search_text,
)
from graph.store import (
    SCAN_BATCH,
    SearchPage,
    Stats,
    Step,
    Subgraph,
    SupplyGraph,
    WriteBatch,
    WriteResult,
    may_be_live,
    scan_kinds,
    versioned_as,
)
from graph.validation import check_batch, check_expectations, check_versions

__all__ = ["JOURNAL_NAME", "MemoryStore", "Recovery"]

log = logging.getLogger(__name__)

JOURNAL_NAME = "journal.log"
_FREEZE_EVERY = 100_000
_READ_CHUNK = 32 * 1024 * 1024
_LOCK_NAME = "journal.lock"


@dataclass(frozen=True, slots=True)
class Recovery:
    """What replay found: records applied, and a torn last record if there was one."""

    records: int
    torn_bytes: int = 0
    torn_file: Path | None = None


class MemoryStore:
    """The embedded store. ``data_dir=None`` keeps everything in memory only (tests, scratch).

    Examples
    --------
    >>> from graph.model import Company
    >>> store = MemoryStore()
    >>> store.write(WriteBatch(nodes=[Company(id="c1", name="Acme")])).nodes
    1
    >>> store.get("c1").name
    'Acme'
    """

    name = "memory"
    # Reads wait on nothing but this store's own lock (a write holds it for one journal fsync):
    # the API runs short reads inline on its event loop (api/graphql/blocking.py).
    reads_in_memory = True

    def __init__(self, data_dir: Path | str | None = None) -> None:
        self._rss_at_open = rss_bytes()
        # The layout (docs/operations.md, "Embedded store memory"): the DiGraph's node dict maps
        # an id to its model object itself (no attribute dict), and _succ[u][v] (the same object
        # as _pred[v][u]) is the link from u to v, or a tuple of the several links the pair has
        # (graph.memory_compact); a node without links one way shares the read-only NO_LINKS
        # there until it gets one. SANCTIONED and COMMITTED links are not edges: they are implied
        # by Sanction.subject_id and Commitment.promisor_id and kept in the indexes below.
        self._graph: nx.DiGraph[str] = nx.DiGraph()
        self._nodes: dict[str, Node] = self._graph._node
        self._interner = Interner(self._nodes)
        self._search_names: dict[str, str] = {}
        self._sanctions_by_subject: dict[str, set[str]] = {}
        self._sanctions_by_batch: dict[str, set[str]] = {}
        self._transformed_by: dict[str, set[tuple[str, str]]] = {}
        """TRANSFORMED_INTO (input, output) pairs by the company that transformed (``by_id``)."""
        self._commitments_by_promisor: dict[str, set[str]] = {}
        self._case_ids: set[str] = set()
        self._audit_events: list[dict[str, Any]] = []
        self._sorted_ids: dict[NodeLabel, tuple[int, list[str]]] = {}
        """Per label: (the write generation it was sorted at, every id of that label sorted)."""
        self._generation = 0
        self._lock = threading.RLock()
        self._lock_file: IO[bytes] | None = None
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self.recovery = Recovery(records=0)
        self._unfrozen_rows = 0
        # How far this process has applied the journal: its identity (inode) and byte offset.
        self._journal_id: tuple[int, int] | None = None
        self._offset = 0
        self._records = 0
        if self.data_dir is not None:
            self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            _restrict(self.data_dir, 0o700)
            with self._lock, self._writer_lock():
                self.recovery = self._catch_up(repair=True)
            gc.freeze()

    # -- durability -------------------------------------------------------------------------
    #
    # The journal is the one truth for every process that opens the data dir. A process applies
    # the records other processes appended (from the byte offset it has read up to) before it
    # answers and before it writes; a write takes the OS lock on ``journal.lock`` only for the
    # time of one append, so a server and CLI writes share a data dir. Only the holder of that
    # lock may move a torn tail aside: without it, bytes past the last newline may be a record
    # another process is appending right now.

    @property
    def _journal_path(self) -> Path:
        assert self.data_dir is not None
        return self.data_dir / JOURNAL_NAME

    @contextmanager
    def _writer_lock(self) -> Iterator[None]:
        """Hold the data dir's OS write lock (blocking); callers hold ``self._lock`` first."""
        assert self.data_dir is not None
        if self._lock_file is None:
            descriptor = os.open(self.data_dir / _LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
            self._lock_file = os.fdopen(descriptor, "r+b")
        fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_UN)

    def _sync(self) -> None:
        """Apply what other processes appended since this one last looked (readers call this)."""
        if self.data_dir is None:
            return
        with self._lock:
            self._catch_up(repair=False)

    def _catch_up(self, *, repair: bool) -> Recovery:
        """Apply the journal from ``self._offset``. With ``repair`` (only under the write lock) a
        torn tail is moved aside; without it, an incomplete tail is simply not applied yet."""
        path = self._journal_path
        try:
            status = os.stat(path)
        except FileNotFoundError:
            if self._journal_id is not None:
                self._reset()
            return Recovery(records=self._records)
        identity = (status.st_dev, status.st_ino)
        if identity != self._journal_id or status.st_size < self._offset:
            # A new journal (``clear`` replaces the file): start again from its first byte.
            if self._journal_id is not None:
                self._reset()
            self._journal_id = identity
        if status.st_size == self._offset:
            return Recovery(records=self._records)
        with path.open("rb") as journal:
            journal.seek(self._offset)
            tail = self._replay(journal, path)
        if repair and tail:
            return self._set_aside_torn_tail(path, tail)
        return Recovery(records=self._records)

    def _replay(self, journal: IO[bytes], path: Path) -> bytes:
        """Apply the complete records from ``journal``'s position on, advancing ``self._offset``;
        return the bytes after the last good record (a torn tail, or a record another process
        is appending right now). Read a chunk at a time: a 1M-company journal is gigabytes."""
        pending = b""
        while chunk := journal.read(_READ_CHUNK):
            data = pending + chunk if pending else chunk
            offset = 0
            while (newline := data.find(b"\n", offset)) >= 0:
                record = _decode_record(data[offset:newline])
                if record is None:
                    tail = data[offset:] + journal.read()
                    if tail[newline + 1 - offset :].strip():
                        raise CorruptJournal(
                            f"{path}: record {self._records + 1} (byte {self._offset}) is damaged "
                            "and is not the last one; a crash cannot cause that. Restore the data "
                            "dir from a backup, or move the journal aside and load your bundles "
                            "again."
                        )
                    return tail
                self._apply(_batch_from_record(record))
                self._audit_events.extend(record.get("a", ()))
                self._records += 1
                self._offset += newline + 1 - offset
                offset = newline + 1
            pending = data[offset:]
        return pending

    def _reset(self) -> None:
        self._generation += 1
        self._graph.clear()
        self._interner.clear()
        self._search_names.clear()
        self._sanctions_by_subject.clear()
        self._sanctions_by_batch.clear()
        self._transformed_by.clear()
        self._commitments_by_promisor.clear()
        self._case_ids.clear()
        self._audit_events.clear()
        self._journal_id = None
        self._offset = 0
        self._records = 0

    def _set_aside_torn_tail(self, path: Path, torn: bytes) -> Recovery:
        torn_file = path.with_name(f"journal.torn-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}")
        descriptor = os.open(torn_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(torn)
        with path.open("r+b") as journal:
            journal.truncate(self._offset)
            journal.flush()
            os.fsync(journal.fileno())
        log.warning(
            "%s: the last record (%d bytes) was torn by an interrupted write and was not applied; "
            "it was never acknowledged. Its bytes are kept in %s.",
            path,
            len(torn),
            torn_file,
        )
        return Recovery(records=self._records, torn_bytes=len(torn), torn_file=torn_file)

    def _append(self, batch: WriteBatch) -> None:
        path = self._journal_path
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            data = _encode_record(batch)
            os.write(descriptor, data)
            os.fsync(descriptor)
            status = os.fstat(descriptor)
        finally:
            os.close(descriptor)
        self._journal_id = (status.st_dev, status.st_ino)
        self._offset = status.st_size
        self._records += 1

    # -- writer ----------------------------------------------------------------------------

    def write(self, batch: WriteBatch, *, expect: Mapping[str, int] | None = None) -> WriteResult:
        if expect:
            check_expectations(batch, expect)
        with self._lock:
            if self.data_dir is None:
                self._write_locked(batch, expect)
            else:
                with self._writer_lock():
                    self._catch_up(repair=True)
                    self._write_locked(batch, expect)
        return WriteResult(nodes=len(batch.nodes), links=len(batch.links))

    def _write_locked(self, batch: WriteBatch, expect: Mapping[str, int] | None) -> None:
        if expect:
            nodes = self._nodes
            check_versions(
                expect,
                {
                    i: versioned_as(obj)
                    for i in expect
                    if isinstance(obj := nodes.get(i), (Case, Sanction, Commitment))
                },
            )
        check_batch(batch, self._labels_of_unsynced)
        if self.data_dir is not None:
            self._append(batch)
        self._apply(batch)
        self._audit_events.extend(batch.audit)
        self._unfrozen_rows += len(batch)
        if self._unfrozen_rows >= _FREEZE_EVERY:
            # The graph's objects live as long as the store; without this, every full
            # collection of the cyclic GC walks all of them (a second per query at 1M rows).
            # They hold no reference cycles, so reference counting still frees replaced ones.
            gc.freeze()
            self._unfrozen_rows = 0

    def audit_events(self) -> list[dict[str, Any]]:
        """The audit events written with decisions, in journal order (see :mod:`api.audit`)."""
        self._sync()
        with self._lock:
            return list(self._audit_events)

    def _apply(self, batch: WriteBatch) -> None:
        # Loading speed matters here (replay and bulk loads), so this writes networkx's
        # adjacency dicts directly, as DiGraph.add_node/add_edge would, in the layout described
        # in __init__; every object is first made to share its repeated values (Interner).
        self._generation += 1
        graph = self._graph
        nodes, succ, pred = self._nodes, graph._succ, graph._pred
        share = self._interner.share
        for node in batch.nodes:
            old = nodes.get(node.id)
            if old is None:
                share(node)
                nodes[node.id] = node
                succ[node.id] = NO_LINKS
                pred[node.id] = NO_LINKS
            else:
                if old == node:
                    continue
                node = merge_node(old, node)
                object.__setattr__(node, "id", old.id)  # the one id string the dicts hold
                share(node)
                if isinstance(old, Sanction):
                    self._unlink_sanction(old)
                elif isinstance(old, Commitment):
                    self._unlink_commitment(old)
                nodes[node.id] = node
            if isinstance(node, (Company, Person)):
                text = search_text(node)
                # Usually the name itself (simplified Chinese has no case or spaces): keep one.
                self._search_names[node.id] = node.name if text == node.name else text
            elif isinstance(node, Sanction):
                self._sanctions_by_subject.setdefault(node.subject_id, set()).add(node.id)
                if node.batch_id is not None:
                    self._sanctions_by_batch.setdefault(node.batch_id, set()).add(node.id)
            elif isinstance(node, Commitment):
                self._commitments_by_promisor.setdefault(node.promisor_id, set()).add(node.id)
            elif isinstance(node, Case):
                self._case_ids.add(node.id)
        for link in batch.links:
            share(link)
            source, target = link.source, link.target
            out = succ[source]
            held = out.get(target)
            if held is None:
                if out is NO_LINKS:
                    out = succ[source] = {}
                into = pred[target]
                if into is NO_LINKS:
                    into = pred[target] = {}
                out[target] = link
                into[source] = link
            else:
                held = with_link(held, link, merge_link)
                out[target] = held
                pred[target][source] = held
            if isinstance(link, TransformedInto) and link.by_id is not None:
                self._transformed_by.setdefault(link.by_id, set()).add((source, target))

    def _unlink_sanction(self, old: Sanction) -> None:
        self._sanctions_by_subject.get(old.subject_id, set()).discard(old.id)
        if old.batch_id is not None:
            self._sanctions_by_batch.get(old.batch_id, set()).discard(old.id)

    def _unlink_commitment(self, old: Commitment) -> None:
        self._commitments_by_promisor.get(old.promisor_id, set()).discard(old.id)

    # -- reader ----------------------------------------------------------------------------

    def get(self, node_id: str) -> Node | None:
        self._sync()
        return self._nodes.get(node_id)

    def get_many(self, node_ids: Iterable[str]) -> dict[str, Node]:
        self._sync()
        nodes = self._nodes
        return {i: nodes[i] for i in node_ids if i in nodes}

    def labels_of(self, node_ids: Iterable[str]) -> dict[str, NodeLabel]:
        self._sync()
        return self._labels_of_unsynced(node_ids)

    def node_ids(self, label: NodeLabel, *, after: str = "", limit: int = 10_000) -> list[str]:
        self._sync()
        with self._lock:
            cached = self._sorted_ids.get(label)
            if cached is None or cached[0] != self._generation:
                ids = sorted(i for i, obj in self._nodes.items() if obj.label is label)
                cached = (self._generation, ids)
                self._sorted_ids[label] = cached
            ids = cached[1]
        start = bisect.bisect_right(ids, after)
        return ids[start : start + max(limit, 0)]

    def _labels_of_unsynced(self, node_ids: Iterable[str]) -> dict[str, NodeLabel]:
        nodes = self._nodes
        return {i: nodes[i].label for i in node_ids if i in nodes}

    def search(
        self, text: str, kind: EntityKind | None = None, limit: int = 20, offset: int = 0
    ) -> SearchPage:
        needle = normalize_search_text(text)
        raw = text.strip()
        if not needle and not raw:
            return SearchPage(items=[], total=0)
        self._sync()
        nodes = cast(dict[str, Company | Person], self._nodes)  # the ids _search_names holds
        hits: list[tuple[int, str, str]] = []
        with self._lock:
            for node_id, name in self._search_names.items():
                if node_id == raw:
                    rank = 0
                elif needle and name.startswith(needle):
                    rank = 1
                elif needle and needle in name:
                    rank = 2
                else:
                    continue
                if kind is not None and nodes[node_id].kind is not kind:
                    continue
                hits.append((rank, name, node_id))
        hits.sort()
        page = [nodes[node_id] for _, _, node_id in hits[offset : offset + limit]]
        return SearchPage(items=page, total=len(hits))

    def read_version(self) -> str | None:
        """A token that changes with every batch this store applies, its own writes or another
        process's read from the journal (graph/rules/shared_lookups.py)."""
        self._sync()
        with self._lock:
            return f"{id(self)}:{self._generation}"

    def last_read_version(self) -> str | None:
        """:meth:`read_version` (it costs no round trip here): the version now is no later than
        what the next read sees."""
        return self.read_version()

    def extract(self, requests: Sequence[Extraction]) -> list[Subgraph]:
        # In process, a call costs no round trip: one neighbourhood per request is the cheapest.
        return extract_each(self, requests)

    def neighbourhood(
        self,
        seeds: Iterable[str],
        *,
        steps: Sequence[Step],
        hops: int,
        as_of: date | None,
    ) -> Subgraph:
        self._sync()
        graph, nodes = self._graph, self._nodes
        out_steps = [s for s in steps if s.direction in (Direction.OUT, Direction.BOTH)]
        in_steps = [s for s in steps if s.direction in (Direction.IN, Direction.BOTH)]
        result = Subgraph()
        with self._lock:
            frontier = [s for s in dict.fromkeys(seeds) if s in nodes]
            seen = set(frontier)
            for hop in range(hops + 1):
                next_frontier: list[str] = []
                for node_id in frontier:
                    obj = nodes[node_id]
                    if isinstance(obj, Sanction):
                        result.sanctions[node_id] = obj
                        continue
                    if isinstance(obj, (Case, Commitment, Product, Batch)):
                        continue
                    result.nodes[node_id] = obj
                    for sanction_id in self._sanctions_by_subject.get(node_id, ()):
                        result.sanctions[sanction_id] = nodes[sanction_id]  # type: ignore[assignment]
                    for commitment_id in self._commitments_by_promisor.get(node_id, ()):
                        result.commitments[commitment_id] = nodes[commitment_id]  # type: ignore[assignment]
                    if hop == hops:
                        continue
                    if out_steps:
                        self._expand(
                            graph._succ[node_id], out_steps, as_of, result, seen, next_frontier
                        )
                    if in_steps:
                        self._expand(
                            graph._pred[node_id], in_steps, as_of, result, seen, next_frontier
                        )
                frontier = next_frontier
        return result

    @staticmethod
    def _expand(
        adjacency: Any,
        steps: list[Step],
        as_of: date | None,
        result: Subgraph,
        seen: set[str],
        next_frontier: list[str],
    ) -> None:
        for other, link in iter_held(adjacency):
            if as_of is not None and not link.valid_at(as_of):
                continue
            if not any(step.accepts(link) for step in steps):
                continue
            result.links[link.key] = link
            if other not in seen:
                seen.add(other)
                next_frontier.append(other)

    def supply(
        self, seeds: Iterable[str], *, direction: Direction, as_of: date | None
    ) -> SupplyGraph:
        if direction is Direction.BOTH:
            raise ValueError("a supply closure is downstream (OUT) or upstream (IN), not both")
        self._sync()
        result = SupplyGraph()
        with self._lock:
            nodes, succ, pred = self._nodes, self._graph._succ, self._graph._pred
            frontier: list[str] = []
            for seed in dict.fromkeys(seeds):
                obj = nodes.get(seed)
                if isinstance(obj, Batch):
                    frontier.append(seed)
                elif isinstance(obj, Company) and direction is Direction.IN:
                    # A company stands for the batches shipped to it.
                    for link in _links_of(pred[seed], Shipped, as_of):
                        result.links[link.key] = link
                        frontier.append(link.batch_id)
            seen = set(frontier)
            while frontier:
                batch_id = frontier.pop()
                batch: Batch = nodes[batch_id]  # type: ignore[assignment]
                result.batches[batch_id] = batch
                product = nodes.get(batch.product_id)
                if isinstance(product, Product):
                    result.products[product.id] = product
                for sanction_id in self._sanctions_by_batch.get(batch_id, ()):
                    result.sanctions[sanction_id] = nodes[sanction_id]  # type: ignore[assignment]
                for shipped in _links_of(succ[batch_id], Shipped, as_of):
                    result.links[shipped.key] = shipped
                if direction is Direction.IN:
                    for produced in _links_of(pred[batch_id], Produced, as_of):
                        result.links[produced.key] = produced
                adjacency = succ[batch_id] if direction is Direction.OUT else pred[batch_id]
                for step in _links_of(adjacency, TransformedInto, as_of):
                    result.links[step.key] = step
                    other = step.target if direction is Direction.OUT else step.source
                    if other not in seen:
                        seen.add(other)
                        frontier.append(other)
        return result

    def batches_of(
        self, company_ids: Iterable[str], *, as_of: date | None = None
    ) -> dict[str, list[Batch]]:
        self._sync()
        found: dict[str, list[Batch]] = {}
        with self._lock:
            nodes, succ, pred = self._nodes, self._graph._succ, self._graph._pred
            for company_id in dict.fromkeys(company_ids):
                held: set[str] = set()
                if company_id in nodes:
                    held.update(p.batch_id for p in _links_of(succ[company_id], Produced, as_of))
                    held.update(s.batch_id for s in _links_of(pred[company_id], Shipped, as_of))
                    held.update(self._made_by(company_id, as_of))
                found[company_id] = [nodes[i] for i in sorted(held)]  # type: ignore[misc]
        return found

    def _made_by(self, company_id: str, as_of: date | None) -> Iterator[str]:
        """Output batches of the transformations ``company_id`` made (its ``by_id`` links)."""
        succ = self._graph._succ
        for source, target in self._transformed_by.get(company_id, ()):
            for step in _links_of({target: succ[source].get(target, ())}, TransformedInto, as_of):
                if step.by_id == company_id:
                    yield target
                    break

    def sanctions(
        self, subject_ids: Iterable[str] | None = None, *, live_at: date | None = None
    ) -> Iterator[Sanction]:
        self._sync()
        with self._lock:
            by_subject = self._sanctions_by_subject
            subjects = by_subject if subject_ids is None else subject_ids
            ids = {sid for s in subjects for sid in by_subject.get(s, ())}
            found: list[Sanction] = [self._nodes[i] for i in ids]  # type: ignore[misc]
        if live_at is not None:
            found = [record for record in found if may_be_live(record, live_at)]
        return iter(sorted(found, key=lambda s: s.id))

    def cases(
        self,
        *,
        subject_ids: Iterable[str] | None = None,
        kind: CaseKind | None = None,
        status: CaseStatus | None = None,
    ) -> list[Case]:
        subjects = None if subject_ids is None else set(subject_ids)
        self._sync()
        with self._lock:
            found: list[Case] = [self._nodes[i] for i in self._case_ids]  # type: ignore[misc]
        return sorted(
            (
                c
                for c in found
                if (subjects is None or c.subject_id in subjects)
                and (kind is None or c.kind is kind)
                and (status is None or c.status is status)
            ),
            key=lambda c: c.id,
        )

    def footprint(self) -> Footprint:
        """The bytes per company this process holds for the store, and the ceiling they imply on
        this machine (:mod:`graph.memory_budget`; ``creditnet stats`` prints it)."""
        self._sync()
        with self._lock:
            companies = sum(1 for obj in self._nodes.values() if obj.label is NodeLabel.COMPANY)
        return footprint(companies, rss_bytes() - self._rss_at_open, machine_memory_bytes())

    def stats(self) -> Stats:
        nodes: dict[str, int] = {label.value: 0 for label in NodeLabel}
        links: dict[str, int] = {kind.value: 0 for kind in LinkType}
        self._sync()
        with self._lock:
            for obj in self._nodes.values():
                nodes[obj.label.value] += 1
            for adjacency in self._graph._succ.values():
                for _, link in iter_held(adjacency):
                    links[link.type.value] += 1
            # Implied by the records themselves (see __init__), one each.
            links[LinkType.SANCTIONED.value] = sum(map(len, self._sanctions_by_subject.values()))
            links[LinkType.COMMITTED.value] = sum(map(len, self._commitments_by_promisor.values()))
        return Stats(nodes=nodes, links=links)

    def scan(
        self,
        labels: Iterable[NodeLabel | LinkType] | None = None,
        *,
        batch_size: int = SCAN_BATCH,
    ) -> Iterator[list[Node | Link]]:
        node_labels, link_types = scan_kinds(labels)
        self._sync()
        with self._lock:
            ids = sorted(self._nodes)
        for offset in range(0, len(ids), batch_size):
            with self._lock:
                nodes = self._nodes
                batch: list[Node | Link] = [
                    obj
                    for i in ids[offset : offset + batch_size]
                    if (obj := nodes.get(i)) is not None and obj.label in node_labels
                ]
            if batch:
                yield batch
        if not link_types:
            return
        for offset in range(0, len(ids), batch_size):
            links: list[Node | Link] = []
            with self._lock:
                succ = self._graph._succ
                for source in ids[offset : offset + batch_size]:
                    found: list[Link] = [
                        link
                        for _, link in iter_held(succ.get(source, {}))
                        if link.type in link_types
                    ]
                    found.sort(key=lambda link: link.key)
                    links.extend(found)
            if links:
                yield links

    def all_links(self) -> Iterator[Link]:
        """Every link, in no particular order (the generator and tests use it)."""
        self._sync()
        for adjacency in list(self._graph._succ.values()):
            for _, link in iter_held(adjacency):
                yield link

    # -- lifecycle -------------------------------------------------------------------------

    def clear(self) -> None:
        with self._lock:
            if self.data_dir is None:
                self._reset()
                return
            with self._writer_lock():
                # A new, empty file replaces the journal: other processes see another inode and
                # start again from nothing, rather than reading new records at an old offset.
                fresh = self.data_dir / f"{JOURNAL_NAME}.new-{os.getpid()}"
                descriptor = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                try:
                    os.fsync(descriptor)
                finally:
                    os.close(descriptor)
                os.replace(fresh, self._journal_path)
                _fsync_dir(self.data_dir)
                self._reset()
                self._catch_up(repair=True)

    def close(self) -> None:
        with self._lock:
            if self._lock_file is not None:
                self._lock_file.close()
                self._lock_file = None

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _restrict(path: Path, mode: int) -> None:
    """Narrow ``path``'s permissions to ``mode`` (journal, audit and keys hold personal data)."""
    try:
        if path.stat().st_mode & 0o777 & ~mode:
            path.chmod(mode)
    except PermissionError:
        log.warning("%s: could not restrict its permissions to %o", path, mode)


def _fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


_L = TypeVar("_L", Produced, Shipped, TransformedInto)


def _links_of(adjacency: Any, kind: type[_L], as_of: date | None) -> Iterator[_L]:
    """The links of class ``kind`` in one node's adjacency (succ or pred), valid at ``as_of``."""
    for held in adjacency.values():
        for link in held_links(held):
            if isinstance(link, kind) and (as_of is None or link.date <= as_of):
                yield link


def _encode_record(batch: WriteBatch) -> bytes:
    record: dict[str, Any] = {
        "n": [[node.label._value_, node_props(node)] for node in batch.nodes],
        "l": [
            [link.type._value_, link.source, link.target, link_props(link)] for link in batch.links
        ],
    }
    if batch.audit:
        record["a"] = list(batch.audit)
    body = orjson.dumps(record)
    return b"%08x " % zlib.crc32(body) + body + b"\n"


def _decode_record(line: bytes) -> dict[str, Any] | None:
    if len(line) < 10 or line[8:9] != b" ":
        return None
    body = line[9:]
    try:
        if int(line[:8], 16) != zlib.crc32(body):
            return None
        record = orjson.loads(body)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def _batch_from_record(record: dict[str, Any]) -> WriteBatch:
    return WriteBatch(
        nodes=[node_from_props(label, props) for label, props in record["n"]],
        links=[link_from_props(kind, src, dst, props) for kind, src, dst, props in record["l"]],
    )
