"""creditReport over HTTP, beside the direct Python call, on each store.

    python -m bench.api [--companies 100000] [--requests 2000] [--seconds 20] [--lookups 1000]
                        [--neo4j-uri bolt://127.0.0.1:7797] [--skip-neo4j]

For each store, serves ``create_app`` with uvicorn in a child process on a free loopback port (so
that the clients here do not share a GIL with the server), with an agency key. Then 1 and 8
concurrent clients (threads, one ``httpx.Client`` each) send ``creditReport`` queries for random
companies and persons of the generated graph, each level bounded by ``--requests`` requests or
``--seconds`` seconds; it prints requests/s, p50 and p99. Beside that: the p50 and p99 of the
direct call of the same query function (``queries.report.credit_report``) on the same ids, and the
ratio HTTP p50 / direct p50. Every HTTP credit report is also written to the audit log (fsynced),
as in production. Figures only: nothing is asserted.
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

import httpx

from bench.common import bundle_for, memory_store, neo4j_store, percentiles, sample_ids
from graph.rules.schema import load_rules
from graph.store import GraphStore
from queries.report import credit_report

AS_OF = date(2026, 11, 27)
ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
START_TIMEOUT = 600.0  # the child loads the whole bundle into its own embedded store first
WARMUP = 20

QUERY = """
query Report($id: ID!, $asOf: Date) {
  creditReport(id: $id, asOf: $asOf) {
    entity { id name kind }
    asOf score grade
    deductions { points reason source { id } }
    sanctions { id list severity start end status disputed }
    restrictions {
      measure rule legalBasis disputed
      source { id list }
      path { nodes { id name } links { type from to role share } }
    }
  }
}
"""


def direct(name: str, store: GraphStore, ids: list[str], seconds: float) -> float:
    """The direct Python call: prints p50/p99 and returns p50 in ms."""
    rules = load_rules(None)
    for entity_id in ids[:WARMUP]:
        credit_report(store, entity_id, AS_OF, rules)
    timings: list[float] = []
    deadline = time.perf_counter() + seconds
    for entity_id in ids:
        started = time.perf_counter()
        credit_report(store, entity_id, AS_OF, rules)
        timings.append(time.perf_counter() - started)
        if started > deadline:
            break
    p50, p99 = percentiles(timings)
    print(
        f"{name:7} direct credit_report:  p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  "
        f"({len(timings)} calls)"
    )
    return p50


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def serve_child(args: argparse.Namespace) -> None:
    """The child process: load the store, serve the app on loopback until terminated."""
    import uvicorn

    from api.app import create_app
    from api.audit import AuditLog
    from api.auth import KeyStore
    from api.settings import Settings

    scratch = Path(args.scratch)
    bundle = bundle_for(args.companies)
    store = (
        memory_store(bundle)
        if args.serve_child == "memory"
        else neo4j_store(bundle, args.neo4j_uri)
    )
    settings = Settings(
        data_dir=scratch, keys_file=scratch / "keys.json", audit_file=scratch / "audit.jsonl"
    )
    app = create_app(
        store,
        settings,
        keys=KeyStore(scratch / "keys.json"),
        audit=AuditLog(scratch / "audit.jsonl"),
    )
    try:
        uvicorn.run(app, host=HOST, port=args.port, log_level="warning", access_log=False)
    finally:
        store.close()


class Server:
    """``python -m bench.api --serve-child STORE`` in a child process, stopped on exit."""

    def __init__(self, kind: str, args: argparse.Namespace, scratch: Path) -> None:
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.log = scratch / "server.log"
        command = [
            sys.executable, "-m", "bench.api", "--serve-child", kind, "--port", str(self.port),
            "--scratch", str(scratch), "--companies", str(args.companies),
            "--neo4j-uri", args.neo4j_uri,
        ]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )

    def wait_healthy(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(
                    f"the server exited {self.process.returncode}:\n{self.log.read_text()}"
                )
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        raise SystemExit(
            f"the server was not healthy after {START_TIMEOUT} s:\n{self.log.read_text()}"
        )

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def http(
    name: str, url: str, key: str, ids: list[str], clients: int, requests: int, seconds: float
) -> float:
    """``clients`` threads sending credit report queries; prints req/s, p50, p99; returns p50."""
    headers = {"Authorization": f"Bearer {key}"}
    endpoint = f"{url}/graphql"
    lock = threading.Lock()
    upcoming = itertools.cycle(ids)
    sent = 0
    timings: list[float] = []
    errors: list[str] = []
    deadline = math.inf  # set once every client is warm

    def take() -> str | None:
        nonlocal sent
        with lock:
            if sent >= requests or time.perf_counter() > deadline:
                return None
            sent += 1
            return next(upcoming)

    def client() -> None:
        mine: list[float] = []
        with httpx.Client(headers=headers, timeout=30.0) as session:
            for warm in ids[:WARMUP]:
                body = {"query": QUERY, "variables": {"id": warm, "asOf": AS_OF.isoformat()}}
                session.post(endpoint, json=body)
            barrier.wait()
            while (entity_id := take()) is not None:
                body = {"query": QUERY, "variables": {"id": entity_id, "asOf": AS_OF.isoformat()}}
                started = time.perf_counter()
                response = session.post(endpoint, json=body)
                mine.append(time.perf_counter() - started)
                if response.status_code != 200 or "errors" in response.json():
                    with lock:
                        errors.append(f"{response.status_code} {response.text[:200]}")
        with lock:
            timings.extend(mine)

    barrier = threading.Barrier(clients + 1)
    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    deadline = started + seconds
    for thread in threads:
        thread.join(timeout=seconds + 60)
    elapsed = time.perf_counter() - started
    p50, p99 = percentiles(timings) if timings else (float("nan"), float("nan"))
    print(
        f"{name:7} HTTP {clients} client{'s' if clients > 1 else ' '}: "
        f"{len(timings) / elapsed:7.1f} req/s  p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  "
        f"({len(timings)} requests in {elapsed:.1f} s, {len(errors)} errors)"
    )
    if errors:
        print(f"        first error: {errors[0]}")
    return p50


def measure(name: str, store: GraphStore, ids: list[str], args: argparse.Namespace) -> None:
    from api.auth import KeyStore, Role

    direct_p50 = direct(name, store, ids, args.seconds)
    with tempfile.TemporaryDirectory(prefix=f"creditnet-bench-api-{name}-") as folder:
        scratch = Path(folder)
        _, key = KeyStore(scratch / "keys.json").add(Role.AGENCY, "bench agency")
        server = Server(name, args, scratch)
        try:
            server.wait_healthy()
            p50s = {
                clients: http(name, server.url, key, ids, clients, args.requests, args.seconds)
                for clients in (1, 8)
            }
        finally:
            server.stop()
    for clients, p50 in p50s.items():
        print(
            f"{name:7} HTTP p50 / direct p50, {clients} client{'s' if clients > 1 else ''}: "
            f"{p50 / direct_p50:6.1f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=1000, help="distinct random ids")
    parser.add_argument("--requests", type=int, default=2000, help="at most, per client level")
    parser.add_argument("--seconds", type=float, default=20.0, help="at most, per level")
    parser.add_argument("--neo4j-uri", default="bolt://127.0.0.1:7797")
    parser.add_argument("--skip-neo4j", action="store_true")
    parser.add_argument("--serve-child", choices=["memory", "neo4j"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--scratch", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_child:
        serve_child(args)
        return
    bundle = bundle_for(args.companies)
    ids = sample_ids(bundle, args.lookups)
    memory = memory_store(bundle)
    try:
        measure("memory", memory, ids, args)
    finally:
        memory.close()
    if not args.skip_neo4j:
        with neo4j_store(bundle, args.neo4j_uri) as graph:
            measure("neo4j", graph, ids, args)


if __name__ == "__main__":
    main()
