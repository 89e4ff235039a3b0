"""API keys: created once by ``creditnet keys add``, stored only as SHA-256 hashes.

The keys file is JSON: ``{"keys": [{"id", "name", "role", "created", "sha256"}]}``. A request
authenticates with ``Authorization: Bearer <key>``; the key is hashed and compared in constant time
with every stored hash. Roles are ordered: each one may do what the ones before it may.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from api.settings import Settings
from graph.errors import Forbidden, InvalidInput, Unauthenticated

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

    def require(self, needed: Role, what: str) -> None:
        """Raise Forbidden unless this key's role may do ``what``."""
        if not self.role.allows(needed):
            raise Forbidden(
                f"role {self.role.value!r} may not read {what}; it needs {needed.value}"
            )


def keys_path(settings: Settings) -> Path:
    return settings.keys_file or settings.data_dir / "keys.json"


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class KeyStore:
    """The keys file; re-read when it changes on disk, so ``keys add`` works on a live server."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._keys: list[ApiKey] = []
        self._mtime: float | None = None

    def _load(self) -> list[ApiKey]:
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            return []
        if mtime != self._mtime:
            document = json.loads(self.path.read_text(encoding="utf-8"))
            self._keys = [
                ApiKey(
                    id=k["id"],
                    name=k["name"],
                    role=Role(k["role"]),
                    created=k["created"],
                    sha256=k["sha256"],
                )
                for k in document.get("keys", [])
            ]
            self._mtime = mtime
        return self._keys

    def keys(self) -> list[ApiKey]:
        with self._lock:
            return list(self._load())

    def add(self, role: Role, name: str) -> tuple[ApiKey, str]:
        """Create a key; return its record and the raw key, which is not kept anywhere."""
        if not name.strip():
            raise InvalidInput("a key needs a non-empty --name")
        raw = "cn_" + secrets.token_urlsafe(32)
        record = ApiKey(
            id="key_" + secrets.token_hex(6),
            name=name.strip(),
            role=role,
            created=datetime.now(UTC).isoformat(timespec="seconds"),
            sha256=_hash(raw),
        )
        with self._lock:
            keys = [*self._load(), record]
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            descriptor = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as out:
                json.dump(
                    {"keys": [{**asdict(k), "role": k.role.value} for k in keys]}, out, indent=2
                )
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
            self._mtime = None
        return record, raw

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
        return found
