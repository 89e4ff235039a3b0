"""`creditnet serve --workers 2` on each store: two processes share the port, answer as one
server, and their audit appends form one intact chain (docs/operations.md)."""

from __future__ import annotations

import json
import re
import subprocess
import threading
from pathlib import Path
from typing import Any

import httpx

from api.cli.loading import demo_bundle_dir
from tests.e2e.test_serve import (
    AS_OF,
    CLI,
    DEBTOR,
    REPORT,
    RING_A,
    SISTER,
    _cli,
    _env,
    _free_port,
    _wait_healthy,
    store,
)

__all__ = ["store"]  # the fixture, shared with tests/e2e/test_serve.py

CLIENTS = 6
REQUESTS = 10


def test_workers_answer_as_one_server_and_audit_one_chain(store: list[str], tmp_path: Path) -> None:
    env = _env(tmp_path)
    # the point is two processes and one audit chain, not speed: a busy machine must not trip
    # the per-request deadline
    env["CREDITNET_REQUEST_TIMEOUT"] = "120"
    _cli(["load", str(demo_bundle_dir()), *store, "--json"], env, tmp_path)
    added = _cli(
        ["keys", "add", "--role", "agency", "--name", "w", *store, "--json"], env, tmp_path
    )
    key = json.loads(added)["key"]
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [*CLI, "serve", "--port", str(port), "--workers", "2", *store],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    answers: list[tuple[int, Any]] = []
    lock = threading.Lock()

    def client(ids: list[str]) -> None:
        with httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=60) as session:
            for entity_id in ids:
                response = session.post(
                    f"{base}/graphql",
                    json={"query": REPORT, "variables": {"id": entity_id, "asOf": AS_OF}},
                )
                with lock:
                    answers.append((response.status_code, response.json()))

    try:
        _wait_healthy(base, server, log)
        ids = [SISTER, DEBTOR, RING_A]
        threads = [
            threading.Thread(target=client, args=([ids[(c + n) % 3] for n in range(REQUESTS)],))
            for c in range(CLIENTS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
    output = log.read_text(errors="replace")
    workers = set(re.findall(r"Started server process \[(\d+)\]", output))
    assert len(workers) == 2, output
    assert len(answers) == CLIENTS * REQUESTS
    assert all(status == 200 and "errors" not in body for status, body in answers), answers[:3]
    scores: dict[str, set[int]] = {}
    for _, body in answers:
        report = body["data"]["creditReport"]
        scores.setdefault(report["entity"]["id"], set()).add(report["score"])
    assert len(scores) == 3 and all(len(found) == 1 for found in scores.values()), scores
    verified = json.loads(_cli(["audit", "verify", *store, "--json"], env, tmp_path))
    assert verified["ok"] and verified["records"] == CLIENTS * REQUESTS, verified
