"""A tamper-evident, append-only audit log: one JSON record a line, each chained to the last.

Every record holds ``prev_hash`` (the previous record's ``hash``, or 64 zeros for the first) and
``hash`` = SHA-256 of the canonical JSON of the record without ``hash``. Changing, removing or
reordering any record breaks the chain at that record, which :meth:`AuditLog.verify` reports.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from api.settings import Settings

__all__ = ["GENESIS", "AuditLog", "Verification", "audit_path"]

GENESIS = "0" * 64


def audit_path(settings: Settings) -> Path:
    return settings.audit_file or settings.data_dir / "audit.jsonl"


def _canonical(record: dict[str, Any]) -> bytes:
    body = {k: v for k, v in record.items() if k != "hash"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def record_hash(record: dict[str, Any]) -> str:
    return hashlib.sha256(_canonical(record)).hexdigest()


@dataclass(frozen=True, slots=True)
class Verification:
    ok: bool
    records: int
    broken_line: int | None = None
    broken_seq: int | None = None
    reason: str | None = None


class AuditLog:
    """Appends are serialised by a lock and fsynced before :meth:`append` returns."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._last: tuple[int, str] | None = None

    def _tail(self) -> tuple[int, str]:
        if self._last is None:
            seq, last_hash = 0, GENESIS
            for record in self._read():
                seq, last_hash = int(record["seq"]), str(record["hash"])
            self._last = (seq, last_hash)
        return self._last

    def _read(self) -> Iterator[dict[str, Any]]:
        if not self.path.exists():
            return
        with self.path.open(encoding="utf-8") as lines:
            for line in lines:
                if line.strip():
                    record: dict[str, Any] = json.loads(line)
                    yield record

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
        with self._lock:
            seq, prev = self._tail()
            record: dict[str, Any] = {
                "seq": seq + 1,
                "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "key_id": key_id,
                "key_name": key_name,
                "role": role,
                "operation": operation,
                "subject_ids": list(subject_ids),
                "request_id": request_id,
                "result": result,
                "prev_hash": prev,
            }
            record["hash"] = record_hash(record)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            line = json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n"
            descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                os.write(descriptor, line.encode("utf-8"))
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
            self._last = (record["seq"], record["hash"])
            return record

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
        """Check every record's hash and link; report the first broken one."""
        if not self.path.exists():
            return Verification(ok=True, records=0)
        prev, expected_seq, count = GENESIS, 1, 0
        with self.path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    seq = int(record["seq"])
                    stored = str(record["hash"])
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
                prev, expected_seq, count = stored, expected_seq + 1, count + 1
        return Verification(ok=True, records=count)
