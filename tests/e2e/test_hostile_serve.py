"""A real served process under a fragment fan-out (issue 11 item 1): refused in well under a
second, with and without a key, while /healthz keeps answering."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path

import httpx

from tests.api.test_hostile import fan_out
from tests.e2e.test_serve import CLI, _cli, _env, _free_port, _wait_healthy


def test_fan_out_is_refused_while_health_answers(tmp_path: Path) -> None:
    env = _env(tmp_path)
    store = ["--store", "memory", "--data-dir", str(tmp_path / "data")]
    key = json.loads(
        _cli(
            ["keys", "add", "--role", "admin", "--name", "red team", *store, "--json"],
            env,
            tmp_path,
        )
    )["key"]
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [*CLI, "serve", "--host", "127.0.0.1", "--port", str(port), *store],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_healthy(base, server, log)
        health: list[float] = []
        stop = threading.Event()

        def probe() -> None:
            while not stop.is_set():
                started = time.perf_counter()
                assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
                health.append(time.perf_counter() - started)
                time.sleep(0.02)

        watcher = threading.Thread(target=probe)
        watcher.start()
        try:
            document = {"query": fan_out(21)}
            for headers, code in (
                ({}, "UNAUTHENTICATED"),
                ({"Authorization": f"Bearer {key}"}, "QUERY_TOO_COMPLEX"),
            ):
                for _ in range(3):
                    started = time.perf_counter()
                    response = httpx.post(
                        f"{base}/graphql", json=document, headers=headers, timeout=30
                    )
                    elapsed = time.perf_counter() - started
                    assert response.status_code == 200, response.text
                    codes = {e["extensions"]["code"] for e in response.json()["errors"]}
                    assert codes == {code}
                    # typically 0.1 s; the bound leaves room for a busy shared machine
                    assert elapsed < 0.9, f"{code} took {elapsed:.2f} s"
        finally:
            stop.set()
            watcher.join()
        assert health and max(health) < 1.0, health
    finally:
        server.terminate()
        server.wait(timeout=20)
