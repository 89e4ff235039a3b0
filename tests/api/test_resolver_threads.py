"""Where resolvers run: a credit report on the embedded store runs on the event loop (its reads
are CPU over memory; a thread hop cost more than the report), on Neo4j in a worker thread (its
reads wait on the network, and requests must overlap meanwhile)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import queries.report
from graph.model import Company
from graph.store import GraphStore, WriteBatch
from tests.api.conftest import Api

REPORT = '{ creditReport(id: "C1", asOf: "2024-06-01") { score } }'


def test_credit_report_runs_inline_only_on_the_embedded_store(
    store: GraphStore, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.write(WriteBatch(nodes=[Company(id="C1", name="Acme")]))
    on_loop: list[bool] = []
    original = queries.report.credit_report

    def spy(*args: Any, **kwargs: Any) -> Any:
        try:
            asyncio.get_running_loop()
            on_loop.append(True)
        except RuntimeError:  # a worker thread has no running loop
            on_loop.append(False)
        return original(*args, **kwargs)

    monkeypatch.setattr(queries.report, "credit_report", spy)
    body = api.query(REPORT)
    assert "errors" not in body, body
    assert on_loop == [store.name == "memory"]
