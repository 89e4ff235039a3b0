"""Bounded loopback soak: `creditnet serve` on an embedded data dir, several client processes
mixing credit reports and decisions, and a CLI writer on the same data dir at the same time.

It ends by checking: no 5xx, ``creditnet audit verify`` passes, every acknowledged decision is in
the store and in the audit log exactly once, and the store opens. Prints its figures; with
``--json`` the last line is one JSON object.

    python3 -m bench.soak --clients 3 --requests 150 --records 60 --cli-decisions 20 [--json]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-c", "from api.cli import main; main()"]
REPORT = "query($id: ID!) { creditReport(id: $id) { score grade } }"
FILE = 'mutation($s: ID!) { fileObjection(sanction: $s, reason: "soak") { id } }'
RESOLVE = (
    "mutation($o: ID!, $u: ObjectionOutcome!) { resolveObjection(objection: $o, outcome: $u, "
    'reason: "soak") { id } }'
)


def _env(data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDITNET_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["CREDITNET_DATA_DIR"] = str(data)
    return env


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=300)


def _seed(data: Path, records: int) -> None:
    sys.path.insert(0, str(ROOT))
    from graph.memory import MemoryStore
    from graph.model import Company, Sanction, SanctionList
    from graph.store import WriteBatch

    nodes: list[Any] = []
    for i in range(records):
        nodes.append(Company(f"C{i}", f"Soak Co {i}"))
        nodes.append(
            Sanction(f"S{i}", f"C{i}", SanctionList.SERIOUS_DISHONEST, start=date(2024, 1, 1))
        )
    with MemoryStore(data) as store:
        store.write(WriteBatch(nodes=nodes))


def _client(url: str, agency: str, reviewer: str, index: int, requests: int, records: int) -> Any:
    """One client process: reports, and decisions on its own slice of records."""
    statuses: dict[int, int] = {}
    acknowledged: list[str] = []
    latencies: list[float] = []
    with httpx.Client(timeout=60) as http:

        def post(key: str, query: str, variables: dict[str, Any]) -> Any:
            started = time.perf_counter()
            response = http.post(
                url,
                json={"query": query, "variables": variables},
                headers={"Authorization": f"Bearer {key}"},
            )
            latencies.append(time.perf_counter() - started)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            return response.json() if response.status_code < 500 else {}

        for n in range(requests):
            record = (index + n * 7) % records
            if n % 3:
                post(agency, REPORT, {"id": f"C{record}"})
                continue
            filed = post(agency, FILE, {"s": f"S{record}"})
            case = ((filed.get("data") or {}).get("fileObjection") or {}).get("id")
            if case is None:
                continue
            acknowledged.append(case)
            resolved = post(reviewer, RESOLVE, {"o": case, "u": "REJECT"})
            if ((resolved.get("data") or {}).get("resolveObjection") or {}).get("id"):
                acknowledged.append(f"{case}:resolved")
    return statuses, acknowledged, latencies


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=3)
    parser.add_argument("--requests", type=int, default=150, help="per client")
    parser.add_argument("--records", type=int, default=60)
    parser.add_argument("--cli-decisions", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    data = Path(tempfile.mkdtemp(prefix="creditnet-soak-")) / "data"
    _seed(data, args.records)
    env = _env(data)
    keys = {}
    for role in ("agency", "reviewer"):
        done = _cli(["keys", "add", "--role", role, "--name", f"soak {role}", "--json"], env)
        keys[role] = json.loads(done.stdout)["key"]
    port = _free_port()
    server = subprocess.Popen(
        [*CLI, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/graphql"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("creditnet serve did not start")
            time.sleep(0.2)
        started = time.perf_counter()
        with multiprocessing.Pool(args.clients) as pool:
            pending = pool.starmap_async(
                _client,
                [
                    (url, keys["agency"], keys["reviewer"], i, args.requests, args.records)
                    for i in range(args.clients)
                ],
            )
            # The CLI writer: objections on the records beyond the clients' reach.
            cli_acknowledged: list[str] = []
            cli_refused = 0
            for n in range(args.cli_decisions):
                record = args.records - 1 - (n % max(1, args.records // 4))
                done = _cli(
                    ["objection", "file", f"S{record}", "--reason", "soak", "--actor", "cli"], env
                )
                if done.returncode == 0:
                    cli_acknowledged.append(done.stdout.split()[0])
                else:
                    cli_refused += 1
            results = pending.get(timeout=600)
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)

    statuses: dict[int, int] = {}
    acknowledged: list[str] = []
    latencies: list[float] = []
    for s, a, lat in results:
        for code, count in s.items():
            statuses[code] = statuses.get(code, 0) + count
        acknowledged += a
        latencies += lat
    verify = _cli(["audit", "verify", "--json"], env)
    audit = json.loads(verify.stdout) if verify.stdout.strip() else {"ok": False}
    sys.path.insert(0, str(ROOT))
    from graph.memory import MemoryStore

    with MemoryStore(data) as store:
        cases = {c.id: c for c in store.cases()}
        stored_events = store.audit_events()
    audit_results = [
        json.loads(line)["result"] for line in (data / "audit.jsonl").read_text().splitlines()
    ]
    decisions = [a for a in acknowledged if not a.endswith(":resolved")]
    missing = [c for c in decisions + cli_acknowledged if c not in cases]
    unresolved = [
        a.split(":")[0]
        for a in acknowledged
        if a.endswith(":resolved") and cases[a.split(":")[0]].status.value != "rejected"
    ]
    twice = [
        r
        for r in set(audit_results)
        if r.startswith("obj-")
        and audit_results.count(r) != sum(1 for e in stored_events if e["result"] == r)
    ]
    latencies.sort()
    figures = {
        "clients": args.clients,
        "requests": sum(statuses.values()) + args.cli_decisions,
        "seconds": round(elapsed, 1),
        "http_status": {str(k): v for k, v in sorted(statuses.items())},
        "server_errors": sum(v for k, v in statuses.items() if k >= 500),
        "api_decisions": len(acknowledged),
        "cli_decisions": len(cli_acknowledged),
        "cli_refused": cli_refused,
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 1) if latencies else None,
        "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 1) if latencies else None,
        "audit_ok": bool(audit.get("ok")),
        "audit_records": audit.get("records"),
        "missing_decisions": len(missing) + len(unresolved),
        "audit_mismatches": len(twice),
    }
    ok = (
        figures["server_errors"] == 0
        and figures["audit_ok"]
        and not missing
        and not unresolved
        and not twice
    )
    figures["ok"] = ok
    for name, value in figures.items():
        print(f"{name:>18}: {value}")
    if args.json:
        print(json.dumps(figures))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
