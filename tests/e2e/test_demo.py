"""``creditnet demo`` as a user runs it: it serves, says what it cannot do, and leaves nothing."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-c", "from api.cli import main; main()"]


def _env(tmp_path: Path) -> dict[str, str]:
    values = {k: v for k, v in os.environ.items() if not k.startswith("CREDITNET_")}
    values["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), values.get("PYTHONPATH")]))
    values["TMPDIR"] = str(tmp_path)
    return values


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_demo_refuses_a_data_dir_or_neo4j(tmp_path: Path) -> None:
    for extra in (["--store", "neo4j"], ["--data-dir", str(tmp_path / "data")]):
        done = subprocess.run(
            [*CLI, "demo", "--no-serve", *extra],
            env=_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 2, done.stderr
        assert "creditnet load --demo" in done.stderr
    assert not (tmp_path / "data").exists()


def test_demo_checks_the_port_before_printing_keys(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [*CLI, "demo", "--port", str(port)],
            env=_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 1
    assert f"port {port}" in done.stderr and "--port" in done.stderr
    assert "Bearer" not in done.stdout and "admin:" not in done.stdout


def test_demo_serves_a_credit_report_and_cleans_up_on_sigterm(tmp_path: Path) -> None:
    port = _free_port()
    server = subprocess.Popen(
        [*CLI, "demo", "--port", str(port)],
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 120
        assert server.stdout is not None
        while time.monotonic() < deadline:
            line = server.stdout.readline()
            lines.append(line)
            if "GraphiQL:" in line:
                break
        printed = "".join(lines)
        assert "creditReport" in printed, printed
        # GraphiQL has its own key box (api/static/graphiql/): no headers tab to explain
        assert "API key box" in printed and "headers tab" not in printed, printed
        agency = next(line.split()[-1] for line in lines if line.strip().startswith("agency:"))
        scratch = [p for p in tmp_path.iterdir() if p.name.startswith("creditnet-demo-")]
        assert len(scratch) == 1
        body = None
        while time.monotonic() < deadline:
            try:
                response = httpx.post(
                    f"http://127.0.0.1:{port}/graphql",
                    json={"query": '{ creditReport(id: "P0010") { score grade } }'},
                    headers={"Authorization": f"Bearer {agency}"},
                )
                body = response.json()
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert body is not None and "errors" not in body, body
        assert body["data"]["creditReport"]["grade"] in {"A", "B", "C", "D"}
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    assert not scratch[0].exists(), "the temporary keys and audit log must be removed"
