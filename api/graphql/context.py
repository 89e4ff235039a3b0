"""The per-request context: the store, the caller's key, loaders, and what to audit."""

from __future__ import annotations

from dataclasses import dataclass

from strawberry.fastapi import BaseContext

from api.audit import AuditLog
from api.auth import ApiKey, KeyStore, Role
from api.clock import Clock, system_clock
from api.graphql.loaders import Loaders
from graph.errors import InvalidInput
from graph.rules.schema import RuleSet, load_rules
from graph.store import GraphStore
from queries.due_process import ReviewSettings

__all__ = ["Context", "Limits"]


@dataclass(frozen=True, slots=True)
class Limits:
    max_page_size: int = 100
    default_page_size: int = 20


class Context(BaseContext):
    def __init__(
        self,
        *,
        store: GraphStore,
        keys: KeyStore,
        audit: AuditLog,
        limits: Limits,
        authorization: str | None,
        request_id: str,
        rules: RuleSet | None = None,
        key: ApiKey | None = None,
        clock: Clock = system_clock,
        review: ReviewSettings | None = None,
    ) -> None:
        super().__init__()
        self.store = store
        self.keys = keys
        self.audit = audit
        self.limits = limits
        self.authorization = authorization
        self.request_id = request_id
        self._rules = rules
        self.today = clock
        self.review = review or ReviewSettings()
        """The configured review and shell thresholds."""
        """Today's date (the app's clock)."""
        self.loaders = Loaders(store)
        self.person_reads: set[str] = set()
        self.audit_records: list[tuple[str, list[str]]] = []
        # the HTTP layer authenticates before it lets a document be parsed, and hands the key on
        self._key: ApiKey | None = key
        # the metrics and log label of the operation (its root field), set once it has run
        self.operation = "invalid"

    def key(self) -> ApiKey:
        """The caller's key; raises Unauthenticated when it is missing or wrong."""
        if self._key is None:
            self._key = self.keys.authenticate(self.authorization)
        return self._key

    def require(self, role: Role, what: str) -> ApiKey:
        key = self.key()
        # Reads are audited too: a server whose audit log was tampered with answers nothing.
        self.audit.refuse_if_tampered()
        key.require(role, what)
        return key

    @property
    def rules(self) -> RuleSet:
        if self._rules is None:
            self._rules = load_rules(None)
        return self._rules

    def page_size(self, first: int | None) -> int:
        if first is None:
            return self.limits.default_page_size
        if first < 0:
            raise InvalidInput("first must not be negative")
        if first > self.limits.max_page_size:
            raise InvalidInput(
                f"first={first} is more than the largest page, {self.limits.max_page_size}"
            )
        return first

    async def flush_audit(self, ok: bool) -> None:
        """Append what this request read to the audit log (called once, after execution).

        One append for the request, awaited until it is durable: the loop's concurrent requests
        share one write and fsync, made off the event loop (:meth:`api.audit.AuditLog.
        append_events_async`).
        """
        records = list(self.audit_records)
        if self.person_reads:
            records.append(("person_read", sorted(self.person_reads)))
        self.audit_records.clear()
        self.person_reads.clear()
        if not records:
            return
        key = self._key
        events = [
            self.audit.new_event(
                operation=operation,
                subject_ids=subjects,
                key_id=key.id if key else None,
                key_name=key.name if key else None,
                role=key.role.value if key else None,
                request_id=self.request_id,
                result="ok" if ok else "error",
            )
            for operation, subjects in records
        ]
        await self.audit.append_events_async(events)
