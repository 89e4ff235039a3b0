"""The embedded store: a networkx MultiDiGraph in memory, made durable by an append-only journal.

Every acknowledged write batch is one journal record, fsynced before :meth:`MemoryStore.write`
returns; on start the journal is replayed. A record is one line, ``<crc32 hex> <json>\\n``.
A damaged *last* record is a write that was never acknowledged (the process died during it): it
is reported, moved aside to ``journal.torn-<time>`` (nothing is lost) and not applied.
Damage anywhere else is not something a crash can cause,
so the store refuses to start (:class:`CorruptJournal`).

This is the reference implementation of the :mod:`graph.store` port.
"""

from __future__ import annotations

import fcntl
import gc
import logging
import os
import threading
import time
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any

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
from graph.errors import CorruptJournal, InvalidInput
from graph.model import (
    Case,
    CaseKind,
    CaseStatus,
    Company,
    Direction,
    EntityKind,
    Link,
    LinkType,
    Node,
    NodeLabel,
    Person,
    Sanction,
    normalize_search_text,
)
from graph.store import SearchPage, Stats, Step, Subgraph, WriteBatch, WriteResult, may_be_live
from graph.validation import check_batch, check_expectations, check_versions

__all__ = ["JOURNAL_NAME", "MemoryStore", "Recovery"]

log = logging.getLogger(__name__)

JOURNAL_NAME = "journal.log"
_FREEZE_EVERY = 100_000
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

    def __init__(self, data_dir: Path | str | None = None) -> None:
        self._graph: nx.MultiDiGraph[str] = nx.MultiDiGraph()
        self._search_names: dict[str, str] = {}
        self._sanctions_by_subject: dict[str, set[str]] = {}
        self._case_ids: set[str] = set()
        self._lock = threading.RLock()
        self._journal: IO[bytes] | None = None
        self._lock_file: IO[bytes] | None = None
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self.recovery = Recovery(records=0)
        self._unfrozen_rows = 0
        if self.data_dir is not None:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self.recovery = self._replay(self.data_dir / JOURNAL_NAME)
            gc.freeze()

    # -- durability -------------------------------------------------------------------------

    def _replay(self, path: Path) -> Recovery:
        if not path.exists():
            return Recovery(records=0)
        data = path.read_bytes()
        offset = 0
        records = 0
        while offset < len(data):
            newline = data.find(b"\n", offset)
            end = len(data) if newline < 0 else newline
            line = data[offset:end]
            record = _decode_record(line) if newline >= 0 else None
            if record is None:
                if data[end + 1 :].strip():
                    raise CorruptJournal(
                        f"{path}: record {records + 1} (byte {offset}) is damaged and is not the "
                        "last one; a crash cannot cause that. Restore the data dir from a backup, "
                        "or move the journal aside and load your bundles again."
                    )
                return self._set_aside_torn_tail(path, data, offset, records)
            self._apply(_batch_from_record(record))
            records += 1
            offset = end + 1
        return Recovery(records=records)

    def _set_aside_torn_tail(self, path: Path, data: bytes, offset: int, records: int) -> Recovery:
        torn = data[offset:]
        torn_file = path.with_name(f"journal.torn-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}")
        torn_file.write_bytes(torn)
        with path.open("r+b") as journal:
            journal.truncate(offset)
            journal.flush()
            os.fsync(journal.fileno())
        log.warning(
            "%s: the last record (%d bytes) was torn by an interrupted write and was not applied; "
            "it was never acknowledged. Its bytes are kept in %s.",
            path,
            len(torn),
            torn_file,
        )
        return Recovery(records=records, torn_bytes=len(torn), torn_file=torn_file)

    def _open_journal(self) -> IO[bytes]:
        if self._journal is None:
            assert self.data_dir is not None
            lock_file = (self.data_dir / _LOCK_NAME).open("a+b")
            try:
                fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                lock_file.close()
                raise InvalidInput(
                    f"{self.data_dir} is being written by another creditnet process; "
                    "stop it or use another --data-dir"
                ) from None
            self._lock_file = lock_file
            self._journal = (self.data_dir / JOURNAL_NAME).open("ab")
        return self._journal

    def _append(self, batch: WriteBatch) -> None:
        if self.data_dir is None:
            return
        journal = self._open_journal()
        journal.write(_encode_record(batch))
        journal.flush()
        os.fsync(journal.fileno())

    # -- writer ----------------------------------------------------------------------------

    def write(self, batch: WriteBatch, *, expect: Mapping[str, int] | None = None) -> WriteResult:
        if expect:
            check_expectations(batch, expect)
        with self._lock:
            if expect:
                nodes = self._graph.nodes
                check_versions(
                    expect,
                    {
                        i: nodes[i]["obj"].version
                        for i in expect
                        if i in nodes and isinstance(nodes[i]["obj"], Case)
                    },
                )
            check_batch(batch, self.labels_of)
            self._append(batch)
            self._apply(batch)
            self._unfrozen_rows += len(batch)
            if self._unfrozen_rows >= _FREEZE_EVERY:
                # The graph's objects live as long as the store; without this, every full
                # collection of the cyclic GC walks all of them (a second per query at 1M rows).
                # They hold no reference cycles, so reference counting still frees replaced ones.
                gc.freeze()
                self._unfrozen_rows = 0
        return WriteResult(nodes=len(batch.nodes), links=len(batch.links))

    def _apply(self, batch: WriteBatch) -> None:
        # Loading speed matters here (replay and bulk loads), so this writes networkx's
        # adjacency dicts directly, exactly as MultiDiGraph.add_node/add_edge would: node
        # attributes in _node, and one key dict per (u, v) shared by _succ[u][v] and _pred[v][u].
        graph = self._graph
        node_attrs, succ, pred = graph._node, graph._succ, graph._pred
        for node in batch.nodes:
            attrs = node_attrs.get(node.id)
            if attrs is None:
                node_attrs[node.id] = {"obj": node}
                succ[node.id] = {}
                pred[node.id] = {}
            else:
                old: Node = attrs["obj"]
                if old == node:
                    continue
                node = merge_node(old, node)
                if isinstance(old, Sanction):
                    self._unlink_sanction(old)
                attrs["obj"] = node
            if isinstance(node, (Company, Person)):
                self._search_names[node.id] = normalize_search_text(node.name)
            elif isinstance(node, Sanction):
                graph.add_edge(node.id, node.subject_id, key=_sanctioned_key(node.id), obj=None)
                self._sanctions_by_subject.setdefault(node.subject_id, set()).add(node.id)
            elif isinstance(node, Case):
                self._case_ids.add(node.id)
        for link in batch.links:
            source, target, key = link.source, link.target, link.key
            keydict = succ[source].get(target)
            if keydict is None:
                keydict = {}
                succ[source][target] = keydict
                pred[target][source] = keydict
            data = keydict.get(key)
            if data is None:
                keydict[key] = {"obj": link}
            elif data["obj"] != link:
                data["obj"] = merge_link(data["obj"], link)

    def _unlink_sanction(self, old: Sanction) -> None:
        self._graph.remove_edge(old.id, old.subject_id, key=_sanctioned_key(old.id))
        self._sanctions_by_subject.get(old.subject_id, set()).discard(old.id)

    # -- reader ----------------------------------------------------------------------------

    def get(self, node_id: str) -> Node | None:
        data = self._graph.nodes.get(node_id)
        return None if data is None else data["obj"]

    def get_many(self, node_ids: Iterable[str]) -> dict[str, Node]:
        nodes = self._graph.nodes
        return {i: nodes[i]["obj"] for i in node_ids if i in nodes}

    def labels_of(self, node_ids: Iterable[str]) -> dict[str, NodeLabel]:
        return {i: node.label for i, node in self.get_many(node_ids).items()}

    def search(
        self, text: str, kind: EntityKind | None = None, limit: int = 20, offset: int = 0
    ) -> SearchPage:
        needle = normalize_search_text(text)
        raw = text.strip()
        if not needle and not raw:
            return SearchPage(items=[], total=0)
        nodes = self._graph.nodes
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
                if kind is not None and nodes[node_id]["obj"].kind is not kind:
                    continue
                hits.append((rank, name, node_id))
        hits.sort()
        page = [nodes[node_id]["obj"] for _, _, node_id in hits[offset : offset + limit]]
        return SearchPage(items=page, total=len(hits))

    def neighbourhood(
        self,
        seeds: Iterable[str],
        *,
        steps: Sequence[Step],
        hops: int,
        as_of: date | None,
    ) -> Subgraph:
        graph = self._graph
        out_steps = [s for s in steps if s.direction in (Direction.OUT, Direction.BOTH)]
        in_steps = [s for s in steps if s.direction in (Direction.IN, Direction.BOTH)]
        result = Subgraph()
        with self._lock:
            frontier = [s for s in dict.fromkeys(seeds) if s in graph]
            seen = set(frontier)
            for hop in range(hops + 1):
                next_frontier: list[str] = []
                for node_id in frontier:
                    obj = graph.nodes[node_id]["obj"]
                    if isinstance(obj, Sanction):
                        result.sanctions[node_id] = obj
                        continue
                    if isinstance(obj, Case):
                        continue
                    result.nodes[node_id] = obj
                    for sanction_id in self._sanctions_by_subject.get(node_id, ()):
                        result.sanctions[sanction_id] = graph.nodes[sanction_id]["obj"]
                    if hop == hops:
                        continue
                    if out_steps:
                        self._expand(
                            graph.succ[node_id], out_steps, as_of, result, seen, next_frontier
                        )
                    if in_steps:
                        self._expand(
                            graph.pred[node_id], in_steps, as_of, result, seen, next_frontier
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
        for other, edges in adjacency.items():
            for data in edges.values():
                link: Link | None = data["obj"]
                if link is None:  # SANCTIONED: records come with their subject
                    continue
                if as_of is not None and not link.valid_at(as_of):
                    continue
                if not any(step.accepts(link) for step in steps):
                    continue
                result.links[link.key] = link
                if other not in seen:
                    seen.add(other)
                    next_frontier.append(other)

    def sanctions(
        self, subject_ids: Iterable[str] | None = None, *, live_at: date | None = None
    ) -> Iterator[Sanction]:
        with self._lock:
            by_subject = self._sanctions_by_subject
            subjects = by_subject if subject_ids is None else subject_ids
            ids = {sid for s in subjects for sid in by_subject.get(s, ())}
            found = [self._graph.nodes[i]["obj"] for i in ids]
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
        with self._lock:
            found = [self._graph.nodes[i]["obj"] for i in self._case_ids]
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

    def stats(self) -> Stats:
        nodes: dict[str, int] = {label.value: 0 for label in NodeLabel}
        links: dict[str, int] = {kind.value: 0 for kind in LinkType}
        with self._lock:
            for _, obj in self._graph.nodes(data="obj"):
                nodes[obj.label.value] += 1
            for _, _, obj in self._graph.edges(data="obj"):
                links[LinkType.SANCTIONED.value if obj is None else obj.type.value] += 1
        return Stats(nodes=nodes, links=links)

    def all_links(self) -> Iterator[Link]:
        """Every link, in no particular order (the generator and tests use it)."""
        for _, _, obj in self._graph.edges(data="obj"):
            if obj is not None:
                yield obj

    # -- lifecycle -------------------------------------------------------------------------

    def clear(self) -> None:
        with self._lock:
            self._graph.clear()
            self._search_names.clear()
            self._sanctions_by_subject.clear()
            self._case_ids.clear()
            if self.data_dir is not None:
                journal = self._open_journal()
                journal.truncate(0)
                journal.flush()
                os.fsync(journal.fileno())

    def close(self) -> None:
        with self._lock:
            if self._journal is not None:
                self._journal.close()
                self._journal = None
            if self._lock_file is not None:
                fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_UN)
                self._lock_file.close()
                self._lock_file = None

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _sanctioned_key(sanction_id: str) -> str:
    return f"SANCTIONED|{sanction_id}"


def _encode_record(batch: WriteBatch) -> bytes:
    body = orjson.dumps(
        {
            "n": [[node.label._value_, node_props(node)] for node in batch.nodes],
            "l": [
                [link.type._value_, link.source, link.target, link_props(link)]
                for link in batch.links
            ],
        }
    )
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
