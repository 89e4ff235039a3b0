"""A tamper-evident, append-only audit log: one JSON record a line, each chained to the last.

Every record holds ``prev_hash`` (the previous record's ``hash``, or 64 zeros for the first) and
``hash`` = SHA-256 of the canonical JSON of the record without ``hash`` and ``mac``. Changing,
removing or reordering a record breaks the chain there. A chain alone can be rebuilt by whoever
can write the file, so it is **anchored**:

* ``mac`` = HMAC-SHA256 over the previous record's ``mac`` and this record's ``hash``, keyed by a
  secret kept outside the log (``CREDITNET_AUDIT_KEY``, else ``audit.key`` beside the log, created
  0600; production keeps the key elsewhere). Re-hashing after an edit, or deleting a record and
  re-chaining, cannot produce valid MACs without the key.
* A **checkpoint** (``<log>.checkpoint``: the record count and the head's hash and MAC, itself
  MACed) is rewritten with every append, so cutting records off the end or emptying the file is
  seen too. It is written just after the records are fsynced, and callers are released in
  between; records past the checkpoint that chain from it with valid MACs are what a writer
  stopped between the two writes leaves (only a holder of the key can make them), and are
  accepted, the checkpoint brought up to date.

Appends from every process are serialised by an OS lock (``<log>.lock``); the sequence number and
previous hash are read under it. Within a process, appends made while another is being written
are *group-committed*: the next writer chains all of them in one write and one fsync (and one
checkpoint), and each caller returns once its own records are durable. So a server answering
many audited reads at once pays one fsync per group, not one per request. Requests on an event
loop append with :meth:`AuditLog.append_events_async`: they queue their events and await a
future, and one writer task hands each group to a writer thread in one hop (a thread hop per
request cost more than the fsync it waited for).

A decision's audit event is first written *with the decision* (in its journal record or Neo4j
transaction, see :class:`graph.store.WriteBatch`); this file is derived from those events:
:meth:`AuditLog.reconcile` appends any the file lacks (after a crash between the two steps), so a
decision never lacks its audit record. :func:`run_audited` is the one audited-decision policy the
CLI and the API share.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import hashlib
import hmac
import json
import logging
import os
import secrets
import threading
import uuid
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from api.settings import Settings
from graph.errors import BackendUnavailable, Conflict, CreditnetError

__all__ = [
    "GENESIS",
    "AuditLog",
    "AuditUnavailable",
    "Verification",
    "audit_path",
    "run_audited",
]

log = logging.getLogger(__name__)

GENESIS = "0" * 64
KEY_ENV = "CREDITNET_AUDIT_KEY"
T = TypeVar("T")


class AuditUnavailable(CreditnetError):
    """The audit log cannot be written or was tampered with: audited operations are refused."""

    code = "AUDIT_UNAVAILABLE"


def audit_path(settings: Settings) -> Path:
    return settings.audit_file or settings.data_dir / "audit.jsonl"


def _canonical(record: Mapping[str, Any]) -> bytes:
    body = {k: v for k, v in record.items() if k not in ("hash", "mac")}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def record_hash(record: Mapping[str, Any]) -> str:
    return hashlib.sha256(_canonical(record)).hexdigest()


@dataclass(frozen=True, slots=True)
class Verification:
    ok: bool
    records: int
    broken_line: int | None = None
    broken_seq: int | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class _Head:
    count: int
    hash: str
    mac: str


_EMPTY = _Head(0, GENESIS, GENESIS)

_FileState = tuple[int, int, int, int]
"""A file's device, inode, size and change time (ns): any write, truncation, replacement,
``touch`` or mode change gives another (the change time cannot be set from user space)."""


def _file_state(status: os.stat_result) -> _FileState:
    return (status.st_dev, status.st_ino, status.st_size, status.st_ctime_ns)


Written = Callable[[list[dict[str, Any]]], None]
"""Told a group's records once they are durable, before the checkpoint is written."""


@dataclass(slots=True)
class _Ticket:
    """One caller's events in a group commit, and what became of them."""

    events: list[Mapping[str, Any]]
    written: Written | None = None
    records: list[dict[str, Any]] | None = None
    error: BaseException | None = None
    done: bool = False

    def outcome(self) -> list[dict[str, Any]]:
        if self.error is not None:
            raise self.error
        assert self.records is not None
        return self.records


@dataclass(slots=True)
class _LoopGroup:
    """One event loop's appends waiting for its writer task, and that task while it runs."""

    waiting: list[tuple[list[Mapping[str, Any]], asyncio.Future[list[dict[str, Any]]]]] = field(
        default_factory=list
    )
    writer: asyncio.Task[None] | None = None


_Members = list[tuple[list[Mapping[str, Any]], "asyncio.Future[list[dict[str, Any]]]"]]


def _settle(members: _Members, records: list[dict[str, Any]]) -> None:
    """Give each loop caller of a group its own records (those not settled or cancelled yet)."""
    start = 0
    for batch, done in members:
        if not done.done():
            done.set_result(records[start : start + len(batch)])
        start += len(batch)


def _load_key(path: Path) -> bytes:
    """The anchor key: ``CREDITNET_AUDIT_KEY``, else the key file (created 0600 if missing)."""
    configured = os.environ.get(KEY_ENV, "").strip()
    if configured:
        return configured.encode()
    key_file = path.with_name("audit.key")
    try:
        return key_file.read_bytes().strip()
    except FileNotFoundError:
        pass
    key_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return key_file.read_bytes().strip()
    with os.fdopen(descriptor, "w", encoding="ascii") as out:
        out.write(secrets.token_hex(32))
        out.flush()
        os.fsync(out.fileno())
    return key_file.read_bytes().strip()


class AuditLog:
    """The audit log at ``path``. Appends are serialised across threads and processes and fsynced
    before :meth:`append` returns.

    A log found tampered with (:meth:`refuse`) refuses every further append with
    :class:`AuditUnavailable` until an operator has dealt with it.
    """

    def __init__(self, path: Path, key: bytes | None = None) -> None:
        self.path = path
        self._key = key
        self._lock = threading.Lock()
        self.refusal: str | None = None
        # group commit: appends waiting for the writer, and whether one is writing
        self._group = threading.Condition(threading.Lock())
        self._waiting: list[_Ticket] = []
        self._writing = False
        # appends from event loops: a queue per loop, written by one thread (made on first use)
        self._loop_groups: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopGroup] = (
            weakref.WeakKeyDictionary()
        )
        self._writer_thread: ThreadPoolExecutor | None = None
        # the head this process last wrote or read, and what the log and checkpoint files were
        # then (see _head)
        self._known: tuple[_Head, _FileState, _FileState] | None = None

    @property
    def checkpoint_path(self) -> Path:
        return self.path.with_name(self.path.name + ".checkpoint")

    @property
    def key(self) -> bytes:
        if self._key is None:
            self._key = _load_key(self.path)
        return self._key

    def _mac(self, *parts: str) -> str:
        return hmac.new(self.key, "\n".join(parts).encode(), hashlib.sha256).hexdigest()

    # -- locking and the head --------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._lock:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            lock_path = self.path.with_name(self.path.name + ".lock")
            descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX)
                yield
            finally:
                os.close(descriptor)  # closing releases the lock

    def _read_checkpoint(self) -> _Head | None:
        try:
            document = json.loads(self.checkpoint_path.read_text(encoding="utf-8"))
            head = _Head(int(document["count"]), str(document["hash"]), str(document["mac"]))
            sealed = str(document["seal"])
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError) as exc:
            raise AuditUnavailable(
                f"the audit checkpoint {self.checkpoint_path} is unreadable ({exc}); run "
                "`creditnet audit verify` and restore the log and checkpoint from a backup"
            ) from exc
        if not hmac.compare_digest(sealed, self._mac(str(head.count), head.hash, head.mac)):
            raise AuditUnavailable(
                f"the audit checkpoint {self.checkpoint_path} was not written with this audit "
                "key (edited, or the key changed); run `creditnet audit verify`"
            )
        return head

    def _write_checkpoint(self, head: _Head) -> None:
        document = {
            "count": head.count,
            "hash": head.hash,
            "mac": head.mac,
            "seal": self._mac(str(head.count), head.hash, head.mac),
        }
        temporary = self.checkpoint_path.with_name(
            f"{self.checkpoint_path.name}.{os.getpid()}.{secrets.token_hex(4)}"
        )
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            json.dump(document, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, self.checkpoint_path)

    def _last_records(self, count: int) -> list[dict[str, Any]]:
        """The file's last ``count`` records (fewer if it holds fewer), oldest first, read from
        its end: appends need not read the whole log."""
        try:
            with self.path.open("rb") as data:
                data.seek(0, os.SEEK_END)
                position = data.tell()
                block = b""
                lines: list[bytes] = []
                while position > 0:
                    step = min(65536, position)
                    position -= step
                    data.seek(position)
                    block = data.read(step) + block
                    lines = [line for line in block.split(b"\n") if line.strip()]
                    # the first line of a block may be cut: one more than wanted, unless at 0
                    if len(lines) > count:
                        break
                return [json.loads(line) for line in lines[-count:]] if lines else []
        except FileNotFoundError:
            return []

    def _extends(self, checkpoint: _Head, head: _Head) -> bool:
        """Whether the log's records after ``checkpoint`` up to ``head`` follow it, each chained
        and MACed with this log's key: what a writer stopped between a group's write and its
        checkpoint leaves (a writer without the key cannot make them)."""
        if not checkpoint.count < head.count:
            return False
        prev = checkpoint
        for record in self._last_records(head.count - checkpoint.count):
            stored = str(record.get("hash"))
            if (
                record.get("seq") != prev.count + 1
                or record.get("prev_hash") != prev.hash
                or record_hash(record) != stored
                or not hmac.compare_digest(str(record.get("mac")), self._mac(prev.mac, stored))
            ):
                return False
            prev = _Head(prev.count + 1, stored, str(record.get("mac")))
        return prev == head

    def _file_states(self) -> tuple[_FileState, _FileState] | None:
        try:
            return _file_state(os.stat(self.path)), _file_state(os.stat(self.checkpoint_path))
        except OSError:
            return None

    def _head(self) -> _Head:
        """The head of the log, checked against the checkpoint; under the lock.

        When neither file changed since this process last wrote or read them (same inode, size
        and change time: no write, truncation, rename or touch, by anyone, changes none of
        them), the head is the one it knew; reading the log's tail and the checkpoint, and
        checking the checkpoint's seal, cost more than the append itself. A change made by
        hand is checked as before; ``verify`` checks every record whatever this says.
        """
        known, before = self._known, self._file_states()
        if known is not None and before == known[1:]:
            return known[0]
        self._known = None
        head = self._read_head()
        if before is not None and self._file_states() == before:
            self._known = (head, *before)
        return head

    def _read_head(self) -> _Head:
        try:
            tail = self._last_records(1)
        except (OSError, ValueError) as exc:
            raise AuditUnavailable(
                f"the audit log {self.path} cannot be read ({exc}); nothing was done. Fix the "
                "file's permissions or restore it, then run `creditnet audit verify`"
            ) from exc
        head = _EMPTY if not tail else _Head(int(tail[0]["seq"]), tail[0]["hash"], tail[0]["mac"])
        checkpoint = self._read_checkpoint()
        if checkpoint is None and head.count > 0:
            # A log written before the anchor existed: anchor its current head once.
            self._write_checkpoint(head)
            checkpoint = head
        if checkpoint is not None and checkpoint != head and self._extends(checkpoint, head):
            log.warning(
                "%s: %d record(s) past the checkpoint, chained and MACed with the audit key (the "
                "writer stopped between the log's write and the checkpoint's); checkpoint updated",
                self.path,
                head.count - checkpoint.count,
            )
            self._write_checkpoint(head)
            checkpoint = head
        if checkpoint is not None and checkpoint != head:
            reason = (
                f"the audit log {self.path} ends at record {head.count} but its checkpoint says "
                f"{checkpoint.count} (records were cut off, removed or rewritten)"
            )
            self.refusal = reason
            raise AuditUnavailable(reason + "; audited operations are refused until it is restored")
        return head

    # -- appending -------------------------------------------------------------------------

    def refuse_if_tampered(self) -> None:
        """Raise :class:`AuditUnavailable` when this log was found tampered with (no I/O)."""
        if self.refusal is not None:
            raise AuditUnavailable(
                f"audited operations are refused: {self.refusal}. Restore the audit log, then "
                "restart the server (`creditnet audit verify` says what is wrong)"
            )

    def ensure_usable(self) -> None:
        """Raise :class:`AuditUnavailable` unless an append could be made now (nothing written)."""
        self.refuse_if_tampered()
        with self._locked():
            self._head()
            self._check_writable()

    def _check_writable(self) -> None:
        try:
            descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            os.close(descriptor)
        except OSError as exc:
            raise AuditUnavailable(
                f"the audit log {self.path} cannot be written ({exc}); nothing was done. Fix its "
                "permissions, then try again"
            ) from exc

    @staticmethod
    def new_event(
        *,
        operation: str,
        subject_ids: Sequence[str],
        key_id: str | None,
        key_name: str | None,
        role: str | None,
        request_id: str | None,
        result: str = "",
    ) -> dict[str, Any]:
        """An audit event not yet in the log (a decision writes it with its batch)."""
        return {
            "event_id": uuid.uuid4().hex,
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "key_id": key_id,
            "key_name": key_name,
            "role": role,
            "operation": operation,
            "subject_ids": list(subject_ids),
            "request_id": request_id,
            "result": result,
        }

    def append(
        self,
        *,
        operation: str,
        subject_ids: Sequence[str],
        key_id: str | None,
        key_name: str | None,
        role: str | None,
        request_id: str | None,
        result: str,
    ) -> dict[str, Any]:
        """Append one record (a read, or a refused attempt) and return it."""
        event = self.new_event(
            operation=operation,
            subject_ids=subject_ids,
            key_id=key_id,
            key_name=key_name,
            role=role,
            request_id=request_id,
            result=result,
        )
        return self.append_events([event])[0]

    def append_events(
        self, events: Iterable[Mapping[str, Any]], *, written: Written | None = None
    ) -> list[dict[str, Any]]:
        """Chain ``events`` onto the log, in order, under the lock; fsynced before returning.

        Callers in other threads that append meanwhile are chained in the same write (group
        commit): each gets its own records back, consecutive and in its order, and an error of
        the write (an unwritable or tampered log) is raised to every caller of the group. Each
        caller is released as soon as the group's records are durable, while the checkpoint is
        written (a writer stopped in between leaves a log that is still usable, see
        :meth:`_extends`); ``written`` is told the records then, from the writing thread.
        """
        if self.refusal is not None:
            self.ensure_usable()
        ticket = _Ticket(list(events), written)
        if not ticket.events:
            return []
        with self._group:
            self._waiting.append(ticket)
            while self._writing and not ticket.done:
                self._group.wait()
            if ticket.done:  # written by the group another thread led
                return ticket.outcome()
            self._writing = True
            group, self._waiting = self._waiting, []

        def release(records: list[dict[str, Any]]) -> None:
            with self._group:
                start = 0
                for member in group:
                    member.records = records[start : start + len(member.events)]
                    start += len(member.events)
                    member.done = True
                    if member.written is not None:
                        member.written(member.records)
                self._group.notify_all()

        try:
            with self._locked():
                self._append_locked(
                    self._head(), [event for member in group for event in member.events], release
                )
        except BaseException as exc:
            for member in group:
                if not member.done:
                    member.error = exc
        finally:
            with self._group:
                for member in group:
                    member.done = True
                self._writing = False
                self._group.notify_all()
        return ticket.outcome()

    async def append_events_async(
        self, events: Iterable[Mapping[str, Any]]
    ) -> list[dict[str, Any]]:
        """:meth:`append_events` for a caller on an event loop: returns once ``events`` are
        chained, written and fsynced, with their records.

        The appends of one loop are queued; one writer task takes every queued append at once
        and makes one :meth:`append_events` call for them in the writer thread (so the thread
        and process group commit still applies), while the loop goes on serving. Each caller gets
        its own records, consecutive and in its order; an error of a group's write is raised to
        every caller of the group. A caller cancelled meanwhile leaves its events in the group.
        """
        batch = list(events)
        if not batch:
            return []
        loop = asyncio.get_running_loop()
        with self._group:
            group = self._loop_groups.get(loop)
            if group is None:
                group = self._loop_groups[loop] = _LoopGroup()
            if self._writer_thread is None:
                self._writer_thread = ThreadPoolExecutor(1, thread_name_prefix="audit-writer")
        done: asyncio.Future[list[dict[str, Any]]] = loop.create_future()
        group.waiting.append((batch, done))
        if group.writer is None:
            group.writer = loop.create_task(self._write_loop_group(group, self._writer_thread))
        return await done

    async def _write_loop_group(self, group: _LoopGroup, thread: ThreadPoolExecutor) -> None:
        """Write what ``group`` holds, a whole queue at a time, until it is empty."""
        loop = asyncio.get_running_loop()
        try:
            while group.waiting:
                members, group.waiting = group.waiting, []
                events = [event for batch, _ in members for event in batch]

                def durable(records: list[dict[str, Any]], members: _Members = members) -> None:
                    # in the writer thread, before the checkpoint: the callers may answer now
                    with contextlib.suppress(RuntimeError):  # the loop has closed
                        loop.call_soon_threadsafe(_settle, members, records)

                try:
                    records = await loop.run_in_executor(
                        thread, functools.partial(self.append_events, events, written=durable)
                    )
                except asyncio.CancelledError:
                    # the loop is shutting down; the thread still finishes the write
                    for _, done in members:
                        done.cancel()
                    raise
                except BaseException as exc:
                    for _, done in members:
                        if not done.done():
                            done.set_exception(exc)
                    continue
                _settle(members, records)  # told already, unless the loop ran nothing meanwhile
        finally:
            group.writer = None
            for _, done in group.waiting:  # only when cancelled: the loop is shutting down
                done.cancel()
            group.waiting.clear()

    def _append_locked(
        self, head: _Head, events: list[Mapping[str, Any]], written: Written | None = None
    ) -> list[dict[str, Any]]:
        """Chain, write and fsync ``events``, tell ``written`` (they are durable), then write the
        checkpoint. A checkpoint that fails after ``written`` was told is logged, not raised:
        the records are in the log, and the next append brings the checkpoint up to date."""
        if not events:
            return []
        records: list[dict[str, Any]] = []
        lines: list[bytes] = []
        for event in events:
            record: dict[str, Any] = {**event, "seq": head.count + 1, "prev_hash": head.hash}
            record.pop("hash", None)
            record.pop("mac", None)
            record["hash"] = record_hash(record)
            record["mac"] = self._mac(head.mac, record["hash"])
            head = _Head(record["seq"], record["hash"], record["mac"])
            records.append(record)
            lines.append((json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n").encode())
        try:
            descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        except OSError as exc:
            raise AuditUnavailable(f"the audit log {self.path} cannot be written ({exc})") from exc
        try:
            data = memoryview(b"".join(lines))
            while data:  # a write to a regular file may, rarely, be short
                data = data[os.write(descriptor, data) :]
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        if written is not None:
            written(records)
        try:
            self._write_checkpoint(head)
        except Exception:
            self._known = None
            if written is None:
                raise
            log.exception("%s: no checkpoint after record %d", self.path, head.count)
            return records
        states = self._file_states()
        self._known = None if states is None else (head, *states)
        return records

    def reconcile(self, stored: Iterable[Mapping[str, Any]], *, warn: bool = True) -> int:
        """Append the decision events ``stored`` (from the store) that the file lacks; return
        how many. Run at server start, by ``audit verify`` and after every decision."""
        wanted = [e for e in stored if e.get("event_id")]
        if not wanted:
            return 0
        with self._locked():
            head = self._head()
            present = {r.get("event_id") for r in self._read()}
            missing = [e for e in wanted if e["event_id"] not in present]
            if missing and warn:
                log.warning(
                    "%s: %d decision(s) were stored without their audit line (a crash between "
                    "the two steps); appended now",
                    self.path,
                    len(missing),
                )
            self._append_locked(head, missing)
        return len(missing)

    # -- reading ---------------------------------------------------------------------------

    def _read(self) -> Iterator[dict[str, Any]]:
        if not self.path.exists():
            return
        with self.path.open(encoding="utf-8") as lines:
            for line in lines:
                if line.strip():
                    record: dict[str, Any] = json.loads(line)
                    yield record

    def events(
        self, *, operation: str | None = None, subject_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Records in order, optionally narrowed to an operation and/or a subject id."""
        return [
            r
            for r in self._read()
            if (operation is None or r.get("operation") == operation)
            and (subject_id is None or subject_id in r.get("subject_ids", []))
        ]

    def verify(self) -> Verification:
        """Check every record's hash, link and MAC and the checkpoint; report the first fault."""
        with self._locked():
            return self._verify_locked()

    def _verify_locked(self) -> Verification:
        unreadable: str | None = None
        try:
            checkpoint = self._read_checkpoint()
        except AuditUnavailable as exc:
            checkpoint, unreadable = None, str(exc)
        prev, prev_mac, expected_seq, count = GENESIS, GENESIS, 1, 0
        anchored = _EMPTY  # the record the checkpoint names, once the scan has met it
        if self.path.exists():
            with self.path.open(encoding="utf-8") as lines:
                for number, line in enumerate(lines, start=1):
                    if not line.strip():
                        continue
                    try:
                        record = json.loads(line)
                        seq = int(record["seq"])
                        stored = str(record["hash"])
                        mac = str(record.get("mac", ""))
                    except (ValueError, KeyError, TypeError):
                        return Verification(False, count, number, None, "not a valid audit record")
                    if seq != expected_seq:
                        return Verification(
                            False, count, number, seq, f"sequence {seq}, expected {expected_seq}"
                        )
                    if record.get("prev_hash") != prev:
                        return Verification(
                            False, count, number, seq, "prev_hash does not match the record before"
                        )
                    if record_hash(record) != stored:
                        return Verification(
                            False, count, number, seq, "hash does not match the record's content"
                        )
                    if not hmac.compare_digest(mac, self._mac(prev_mac, stored)):
                        return Verification(
                            False,
                            count,
                            number,
                            seq,
                            "MAC does not match: the record was written or re-chained without "
                            "the audit key",
                        )
                    prev, prev_mac, expected_seq, count = stored, mac, expected_seq + 1, count + 1
                    if checkpoint is not None and seq == checkpoint.count:
                        anchored = _Head(seq, stored, mac)
        if unreadable is not None:
            return Verification(False, count, None, None, unreadable)
        if checkpoint is None:
            if count:
                return Verification(False, count, None, None, "the checkpoint is missing")
            return Verification(ok=True, records=0)
        # Records past the checkpoint are what a writer stopped between a group's write and its
        # checkpoint leaves: every one was checked above, chain and MAC, like the others.
        if checkpoint != anchored or checkpoint.count > count:
            return Verification(
                False,
                count,
                None,
                None,
                f"the log has {count} record(s) but the checkpoint says {checkpoint.count} with "
                "another head: records were cut off the end, removed or rewritten",
            )
        return Verification(ok=True, records=count)


def run_audited(
    log: AuditLog,
    *,
    operation: str,
    subject_ids: Sequence[str],
    key_id: str | None,
    key_name: str | None,
    role: str | None,
    request_id: str | None,
    action: Callable[[dict[str, Any]], T],
    result_of: Callable[[T], str],
) -> T:
    """The audited-decision policy, one for the CLI and the API.

    1. The log must be usable (readable, writable, not tampered with), or the decision is
       refused with :class:`AuditUnavailable` before anything is written.
    2. ``action(event)`` makes the decision and writes ``event`` in the same batch (its result
       set to the case id): decision and audit event are durable together.
    3. The event is then chained onto the file (if this process dies first, :meth:`AuditLog.
       reconcile` adds it from the store at the next server start or ``audit verify``).
    4. A refused attempt (forbidden, invalid) is appended with ``error:<CODE>``; a conflict or an
       unavailable store is not: nothing happened and retrying is expected.
    """
    log.ensure_usable()
    event = log.new_event(
        operation=operation,
        subject_ids=subject_ids,
        key_id=key_id,
        key_name=key_name,
        role=role,
        request_id=request_id,
    )
    try:
        outcome = action(event)
    except (Conflict, BackendUnavailable, AuditUnavailable):
        raise
    except CreditnetError as exc:
        log.append_events([{**event, "result": f"error:{exc.code}"}])
        raise
    decided = {**event, "result": result_of(outcome)}
    try:
        # By event id: a reconcile in another process may have appended it already.
        log.reconcile([decided], warn=False)
    except (AuditUnavailable, OSError) as exc:
        # The decision and its event are stored; the file catches up at the next reconcile.
        logging.getLogger(__name__).error(
            "decision %s is stored but its audit line could not be appended yet: %s",
            decided["result"],
            exc,
        )
    return outcome
