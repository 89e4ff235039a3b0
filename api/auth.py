"""API keys: created once by ``creditnet keys add``, stored only as SHA-256 hashes.

The keys file is JSON: ``{"keys": [{"id", "name", "role", "created", "sha256", "expires"?,
"revoked"?}]}``. A request
authenticates with ``Authorization: Bearer <key>``; the key is hashed and compared in constant time
with every stored hash. Roles are ordered: each one may do what the ones before it may.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import secrets
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from api.settings import Settings
from graph.errors import Forbidden, InvalidInput, NotFound, Unauthenticated

__all__ = ["ApiKey", "KeyStore", "Role", "keys_path"]


class Role(StrEnum):
    AGENCY = "agency"
    INVESTIGATOR = "investigator"
    REVIEWER = "reviewer"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A stored key: never the key itself, only its hash."""

    id: str
    name: str
    role: Role
    created: str
    sha256: str
    expires: str | None = None
    """ISO date-time (UTC) after which the key stops working; None: never."""
    revoked: str | None = None
    """When the key was revoked (it stops working at once); None: it was not."""

    def require(self, needed: Role, what: str) -> None:
        """Raise Forbidden unless this key's role may do ``what``."""
        if not self.role.allows(needed):
            raise Forbidden(
                f"role {self.role.value!r} may not read {what}; it needs {needed.value}"
            )

    def usable_at(self, now: datetime) -> bool:
        if self.revoked is not None:
            return False
        return self.expires is None or now < datetime.fromisoformat(self.expires)


def keys_path(settings: Settings) -> Path:
    return settings.keys_file or settings.data_dir / "keys.json"


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _key_of(document: dict[str, Any]) -> ApiKey:
    return ApiKey(
        id=document["id"],
        name=document["name"],
        role=Role(document["role"]),
        created=document["created"],
        sha256=document["sha256"],
        expires=document.get("expires"),
        revoked=document.get("revoked"),
    )


class KeyStore:
    """The keys file; re-read when it changes on disk (new inode, size or mtime), so ``keys add``
    and ``keys revoke`` take effect on a running server at its next request.

    Changes are made under an OS lock (``<keys file>.lock``) by re-reading the file, writing a
    uniquely named temporary file, fsyncing it and renaming it over the file: parallel ``keys
    add`` runs never lose a key, and a reader never sees a half-written file.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._keys: list[ApiKey] = []
        self._seen: tuple[int, int, int] | None = None

    def _load(self) -> list[ApiKey]:
        try:
            status = self.path.stat()
        except FileNotFoundError:
            self._keys, self._seen = [], None
            return []
        seen = (status.st_ino, status.st_size, status.st_mtime_ns)
        if seen != self._seen:
            document = json.loads(self.path.read_text(encoding="utf-8"))
            self._keys = [_key_of(k) for k in document.get("keys", [])]
            self._seen = seen
        return self._keys

    def keys(self) -> list[ApiKey]:
        with self._lock:
            return list(self._load())

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._lock:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            descriptor = os.open(
                self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600
            )
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX)
                yield
            finally:
                os.close(descriptor)

    def _save(self, keys: list[ApiKey]) -> None:
        descriptor, temporary = tempfile.mkstemp(
            prefix=self.path.name + ".", suffix=".tmp", dir=self.path.parent
        )
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as out:
                document = {
                    "keys": [
                        {
                            k: v
                            for k, v in {**asdict(key), "role": key.role.value}.items()
                            if v is not None
                        }
                        for key in keys
                    ]
                }
                json.dump(document, out, indent=2)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, 0o600)
            os.replace(temporary, self.path)
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        self._seen = None

    def add(self, role: Role, name: str, expires: datetime | None = None) -> tuple[ApiKey, str]:
        """Create a key; return its record and the raw key, which is not kept anywhere."""
        if not name.strip():
            raise InvalidInput("a key needs a non-empty --name")
        now = datetime.now(UTC)
        if expires is not None:
            if expires.tzinfo is None:
                expires = expires.replace(tzinfo=UTC)
            if expires <= now:
                raise InvalidInput(
                    f"--expires {expires.isoformat()} is already past; give a later time"
                )
        raw = "cn_" + secrets.token_urlsafe(32)
        record = ApiKey(
            id="key_" + secrets.token_hex(6),
            name=name.strip(),
            role=role,
            created=now.isoformat(timespec="seconds"),
            sha256=_hash(raw),
            expires=expires.isoformat(timespec="seconds") if expires is not None else None,
        )
        with self._locked():
            self._seen = None
            self._save([*self._load(), record])
        return record, raw

    def revoke(self, key_id: str) -> ApiKey:
        """Revoke a key by id; it stops working at a running server's next request."""
        with self._locked():
            self._seen = None
            keys = self._load()
            found = next((k for k in keys if k.id == key_id), None)
            if found is None:
                raise NotFound(
                    f"no API key {key_id!r} in {self.path}; `creditnet keys list` shows the ids"
                )
            if found.revoked is not None:
                return found
            revoked = replace(found, revoked=datetime.now(UTC).isoformat(timespec="seconds"))
            self._save([revoked if k.id == key_id else k for k in keys])
        return revoked

    def authenticate(self, authorization: str | None) -> ApiKey:
        """The key an ``Authorization`` header names; Unauthenticated when missing or wrong."""
        if not authorization:
            raise Unauthenticated("missing API key: send 'Authorization: Bearer <key>'")
        scheme, _, raw = authorization.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise Unauthenticated("malformed Authorization header: use 'Bearer <key>'")
        digest = _hash(raw.strip())
        found: ApiKey | None = None
        for key in self.keys():
            if hmac.compare_digest(digest, key.sha256):
                found = key
        if found is None:
            raise Unauthenticated("unknown API key")
        if not found.usable_at(datetime.now(UTC)):
            why = f"revoked {found.revoked}" if found.revoked else f"expired {found.expires}"
            raise Unauthenticated(f"API key {found.id} was {why}; ask an admin for a new key")
        return found
