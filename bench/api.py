"""creditReport over HTTP, beside the direct Python call, on each store.

    python -m bench.api [--companies 100000] [--requests 2000] [--seconds 20] [--lookups 1000]
                        [--neo4j-uri bolt://127.0.0.1:7797] [--workers 2] [--skip-neo4j]
                        [--json]
    python -m bench.api --profile OUT [--companies 100000] [--requests 300]

Each store is served by ``creditnet serve --workers N`` itself, as deployed: the embedded store
over a data dir whose journal holds the bundle (each worker opens its own copy; the data dir is
made once and cached in bench/out/), Neo4j over the loaded database. Both listen on a free
loopback port with an agency key, so the clients here do not share a GIL with the server.
Then 1 and 8 concurrent clients (threads, one keep-alive ``http.client`` connection each: a client
light enough not to be the bottleneck on a 2-core machine) send ``creditReport`` queries for
random companies and persons of the generated graph, each level bounded by ``--requests``
requests or ``--seconds`` seconds; it prints requests/s, p50 and p99. Beside that: the p50 and
p99 of the direct call of the same query function (``queries.report.credit_report``) on the same
ids, and the ratio HTTP p50 / direct p50. Every HTTP credit report is also written to the audit
log (fsynced), as in production. Figures only: nothing is asserted. With ``--json`` the last line
is one JSON object (:func:`measure_api` returns the same figures, for bench/scale.py).

``--profile OUT`` instead drives credit reports through the app in-process (no HTTP, no client)
on the embedded store, prints the mean server time beside the direct call, and writes a
pyinstrument profile (the creditnet[dev] extra) to OUT: where the server's time goes.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, MutableMapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from bench.common import (
    bundle_for,
    journalled,
    memory_store,
    neo4j_store,
    percentiles,
    sample_ids,
)
from graph.rules.schema import load_rules
from graph.store import GraphStore
from queries.report import credit_report

__all__ = ["measure_api"]

AS_OF = date(2026, 11, 27)
ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
START_TIMEOUT = 900.0  # the memory child loads the whole bundle into its own store first
WARMUP = 20
CLIENT_LEVELS = (1, 8)
DEFAULT_WORKERS = 2

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


@dataclass
class Level:
    """One client level's figures."""

    clients: int
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: list[str] = field(default_factory=list)
    client_cores: float = 0.0
    """CPU of this (client) process over the level, in cores: near 1 it would be the bottleneck."""

    @property
    def per_s(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass
class StoreFigures:
    """A store's figures: the direct call's p50 and each HTTP level."""

    direct_p50_ms: float
    direct_p99_ms: float
    levels: dict[int, Level]

    def ratio(self, clients: int) -> float:
        return self.levels[clients].p50_ms / self.direct_p50_ms


def direct(name: str, store: GraphStore, ids: list[str], seconds: float) -> tuple[float, float]:
    """The direct Python call: prints p50/p99 and returns them in ms."""
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
    return p50, p99


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


_STARTED = "Application startup complete"
"""What uvicorn logs once per worker when it serves."""


class Server:
    """The server under test in a child process, stopped by :meth:`stop`.

    ``creditnet serve --workers N`` as deployed: ``memory`` over the journalled bundle
    (:func:`bench.common.journalled`, which every worker opens), ``neo4j`` over the already
    loaded database.
    """

    def __init__(
        self, kind: str, scratch: Path, companies: int, neo4j_uri: str, workers: int
    ) -> None:
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.log = scratch / "server.log"
        self.workers = workers
        # the request log (one JSON line a request) is part of the cost, as in production
        env = {k: v for k, v in os.environ.items() if not k.startswith("CREDITNET_")}
        env["PYTHONPATH"] = str(ROOT)
        command = [sys.executable, "-c", "from api.cli import main; main()", "serve"]
        if kind == "memory":
            # every worker opens (replays) the journalled bundle; keys and audit log are here
            env["CREDITNET_KEYS_FILE"] = str(scratch / "keys.json")
            env["CREDITNET_AUDIT_FILE"] = str(scratch / "audit.jsonl")
            command += [
                "--store", "memory", "--data-dir", str(journalled(bundle_for(companies))),
            ]  # fmt: skip
        else:
            command += [
                "--store", "neo4j", "--neo4j-uri", neo4j_uri, "--data-dir", str(scratch),
            ]  # fmt: skip
        command += ["--host", HOST, "--port", str(self.port), "--workers", str(workers)]
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
                healthy = httpx.get(f"{self.url}/healthz", timeout=60.0).status_code == 200
            except httpx.TransportError:
                healthy = False
            # every worker, not just the first: one still opening its store would take CPU
            # from the others and serve nothing
            if healthy and self.log.read_text().count(_STARTED) >= self.workers:
                return
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


def _post(connection: http.client.HTTPConnection, key: str, entity_id: str) -> tuple[int, bytes]:
    body = json.dumps({"query": QUERY, "variables": {"id": entity_id, "asOf": AS_OF.isoformat()}})
    connection.request(
        "POST",
        "/graphql",
        body=body.encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    response = connection.getresponse()
    return response.status, response.read()


def http_level(
    name: str, port: int, key: str, ids: list[str], clients: int, requests: int, seconds: float
) -> Level:
    """``clients`` threads sending credit report queries; prints and returns req/s, p50, p99."""
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
        connection = http.client.HTTPConnection(HOST, port, timeout=60)
        try:
            for warm in ids[:WARMUP]:
                _post(connection, key, warm)
            barrier.wait()
            while (entity_id := take()) is not None:
                started = time.perf_counter()
                status, data = _post(connection, key, entity_id)
                mine.append(time.perf_counter() - started)
                if status != 200 or b'"errors"' in data:
                    with lock:
                        errors.append(f"{status} {data[:200]!r}")
        finally:
            connection.close()
            with lock:
                timings.extend(mine)

    barrier = threading.Barrier(clients + 1)
    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started, cpu = time.perf_counter(), time.process_time()
    deadline = started + seconds
    for thread in threads:
        thread.join(timeout=seconds + 60)
    elapsed = time.perf_counter() - started
    cores = (time.process_time() - cpu) / elapsed
    p50, p99 = percentiles(timings) if timings else (math.nan, math.nan)
    level = Level(clients, len(timings), elapsed, p50, p99, errors, cores)
    print(
        f"{name:7} HTTP {clients} client{'s' if clients > 1 else ' '}: "
        f"{level.per_s:7.1f} req/s  p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  "
        f"({len(timings)} requests in {elapsed:.1f} s, {len(errors)} errors; "
        f"client CPU {cores:.2f} cores, load average {os.getloadavg()[0]:.1f})"
    )
    if errors:
        print(f"        first error: {errors[0]}")
    return level


def measure(
    name: str,
    ids: list[str],
    *,
    direct_store: Callable[[], AbstractContextManager[GraphStore]] | None,
    companies: int,
    neo4j_uri: str,
    workers: int,
    requests: int,
    seconds: float,
) -> StoreFigures:
    """The HTTP levels against ``name``'s server, and the direct call on ``direct_store()``.

    The direct call comes first on Neo4j, which it loads if need be (and so that the HTTP
    levels do not warm the database's caches for it), and after the HTTP levels on the embedded
    store, so that this process holds no copy of the store while the server's workers hold
    theirs. ``direct_store=None`` skips it (bench/scale.py has the embedded figure already).
    """
    from api.auth import KeyStore, Role

    timed: tuple[float, float] | None = None
    if direct_store is not None and name == "neo4j":
        timed = _direct_on(name, direct_store, ids, seconds)
    with tempfile.TemporaryDirectory(prefix=f"creditnet-bench-api-{name}-") as folder:
        scratch = Path(folder)
        _, key = KeyStore(scratch / "keys.json").add(Role.AGENCY, "bench agency")
        server = Server(name, scratch, companies, neo4j_uri, workers)
        try:
            server.wait_healthy()
            levels = {
                clients: http_level(name, server.port, key, ids, clients, requests, seconds)
                for clients in CLIENT_LEVELS
            }
        finally:
            server.stop()
    if direct_store is not None and timed is None:
        timed = _direct_on(name, direct_store, ids, seconds)
    figures = StoreFigures(*(timed or (math.nan, math.nan)), levels)
    if timed is not None:
        for clients in CLIENT_LEVELS:
            print(
                f"{name:7} HTTP p50 / direct p50, {clients} client{'s' if clients > 1 else ''}: "
                f"{figures.ratio(clients):6.1f}x"
            )
    return figures


def _direct_on(
    name: str,
    opened: Callable[[], AbstractContextManager[GraphStore]],
    ids: list[str],
    seconds: float,
) -> tuple[float, float]:
    with opened() as store:
        return direct(name, store, ids, seconds)


def profile(companies: int, requests: int, out: Path) -> None:
    """Server-side time of ``requests`` credit reports on the embedded store, without HTTP or a
    client: each request is driven through the ASGI app in this process (the app as served,
    audit log on disk included), timed, then profiled with pyinstrument into ``out``."""
    import asyncio
    import logging

    from pyinstrument import Profiler

    from api.app import create_app
    from api.audit import AuditLog
    from api.auth import KeyStore, Role
    from api.settings import Settings

    bundle = bundle_for(companies)
    ids = sample_ids(bundle, max(requests, WARMUP))
    store = memory_store(bundle)
    scratch = Path(tempfile.mkdtemp(prefix="creditnet-bench-api-profile-"))
    _, key = KeyStore(scratch / "keys.json").add(Role.AGENCY, "bench agency")
    settings = Settings(
        data_dir=scratch, keys_file=scratch / "keys.json", audit_file=scratch / "audit.jsonl"
    )
    logging.getLogger("creditnet.requests").disabled = True  # stderr is no part of this figure
    app = create_app(
        store,
        settings,
        keys=KeyStore(scratch / "keys.json"),
        audit=AuditLog(scratch / "audit.jsonl"),
    )

    async def call(entity_id: str) -> None:
        body = json.dumps(
            {"query": QUERY, "variables": {"id": entity_id, "asOf": AS_OF.isoformat()}}
        ).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"authorization", f"Bearer {key}".encode()),
        ]
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": "POST", "scheme": "http", "path": "/graphql", "raw_path": b"/graphql",
            "query_string": b"", "root_path": "", "headers": headers, "state": {},
            "client": (HOST, 1), "server": (HOST, 80),
        }  # fmt: skip
        sent: list[MutableMapping[str, Any]] = []
        pending = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive() -> dict[str, Any]:
            if pending:
                return pending.pop()
            await asyncio.Event().wait()  # never: the app reads one body
            raise AssertionError

        async def send(message: MutableMapping[str, Any]) -> None:
            sent.append(message)

        await app(scope, receive, send)
        answer = b"".join(m.get("body", b"") for m in sent[1:])
        if sent[0]["status"] != 200 or b'"errors"' in answer:
            raise SystemExit(f"{sent[0]['status']} {answer[:300]!r}")

    async def run() -> None:
        for entity_id in ids[:WARMUP]:
            await call(entity_id)
        started, cpu = time.perf_counter(), time.process_time()
        for entity_id in ids[:requests]:
            await call(entity_id)
        wall = (time.perf_counter() - started) / requests * 1000
        cpu_ms = (time.process_time() - cpu) / requests * 1000
        rules = load_rules(None)
        started, cpu = time.perf_counter(), time.process_time()
        for entity_id in ids[:requests]:
            credit_report(store, entity_id, AS_OF, rules)
        direct_wall = (time.perf_counter() - started) / requests * 1000
        direct_cpu = (time.process_time() - cpu) / requests * 1000
        print(
            f"in-process ASGI: {wall:.2f} ms a request ({cpu_ms:.2f} ms CPU); direct "
            f"credit_report {direct_wall:.2f} ms ({direct_cpu:.2f} ms CPU), mean of {requests}"
        )
        profiler = Profiler(interval=0.0005, async_mode="enabled")
        profiler.start()
        for entity_id in ids[:requests]:
            await call(entity_id)
        profiler.stop()
        out.write_text(profiler.output_text(unicode=False, color=False))
        print(f"profile of {requests} requests: {out}")

    try:
        asyncio.run(run())
    finally:
        store.close()
        shutil.rmtree(scratch, ignore_errors=True)


def measure_api(
    companies: int,
    neo4j_uri: str | None,
    *,
    workers: int = DEFAULT_WORKERS,
    lookups: int = 1000,
    requests: int = 2000,
    seconds: float = 20.0,
    embedded_direct: bool = True,
) -> dict[str, float | None]:
    """The API figures of issue 14 at ``companies`` (bench/scale.py's ``"api"`` object).

    Both stores when ``neo4j_uri`` is given (the database is loaded with the bundle if it does
    not hold it yet), else only the embedded store (the Neo4j figures are then None). Both are
    served by ``serve --workers`` processes; ``embedded_direct=False`` skips the direct call on
    the embedded store (it would load the bundle once more, only for a printed figure).
    """
    bundle = bundle_for(companies)
    ids = sample_ids(bundle, lookups)
    common: dict[str, Any] = {
        "companies": companies,
        "neo4j_uri": neo4j_uri or "",
        "workers": workers,
        "requests": requests,
        "seconds": seconds,
    }
    embedded = measure(
        "memory",
        ids,
        direct_store=(lambda: memory_store(bundle)) if embedded_direct else None,
        **common,
    )
    result: dict[str, float | None] = {
        "embedded_req_per_s_8_clients": round(embedded.levels[8].per_s, 1),
        "neo4j_req_per_s_8_clients": None,
        "neo4j_http_over_direct_p50": None,
    }
    if neo4j_uri:
        uri = neo4j_uri
        neo4j = measure("neo4j", ids, direct_store=lambda: neo4j_store(bundle, uri), **common)
        result["neo4j_req_per_s_8_clients"] = round(neo4j.levels[8].per_s, 1)
        result["neo4j_http_over_direct_p50"] = round(neo4j.ratio(1), 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=1000, help="distinct random ids")
    parser.add_argument("--requests", type=int, default=2000, help="at most, per client level")
    parser.add_argument("--seconds", type=float, default=20.0, help="at most, per level")
    parser.add_argument("--neo4j-uri", default="bolt://127.0.0.1:7797")
    parser.add_argument(
        "--workers", type=int, default=DEFAULT_WORKERS, help="serve --workers, both stores"
    )
    parser.add_argument("--skip-neo4j", action="store_true")
    parser.add_argument("--json", action="store_true", help="last line: the figures as JSON")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="OUT",
        help="instead: profile credit reports in-process on the embedded store into OUT",
    )
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f} (2 cores)")
    if args.profile is not None:
        profile(args.companies, min(args.requests, args.lookups), args.profile)
        return
    figures = measure_api(
        args.companies,
        None if args.skip_neo4j else args.neo4j_uri,
        workers=args.workers,
        lookups=args.lookups,
        requests=args.requests,
        seconds=args.seconds,
    )
    if args.json:
        print(json.dumps({"companies": args.companies, "workers": args.workers, **figures}))


if __name__ == "__main__":
    main()
