"""Issue 10 with real processes: one data dir shared by a server and CLI commands, journal
openers during a load, the anchored audit log, and key files changed by several processes.

Every subprocess runs this source tree (PYTHONPATH is the repository root).
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.audit import AuditLog, record_hash
from graph.memory import JOURNAL_NAME, MemoryStore
from graph.model import Company, Sanction, SanctionList
from graph.store import WriteBatch
from tests.conftest import ROOT
from tests.e2e.test_serve import _free_port

CLI = [sys.executable, "-c", "from api.cli import main; main()"]
PY = [sys.executable, "-c"]


def _env(data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDITNET_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["CREDITNET_DATA_DIR"] = str(data)
    env["CREDITNET_AUDIT_KEY"] = "test-audit-key-kept-outside-the-log"
    return env


def _cli(args: list[str], env: dict[str, str], ok: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=120)
    if ok:
        assert done.returncode == 0, f"{args}: {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def _seed(data: Path) -> None:
    with MemoryStore(data) as store:
        store.write(
            WriteBatch(
                nodes=[
                    Company("C1", "Contested Co"),
                    Sanction("S1", "C1", SanctionList.SERIOUS_DISHONEST, start=date_(2024)),
                    Sanction("S2", "C1", SanctionList.SERIOUS_DISHONEST, start=date_(2024)),
                ]
            )
        )


def date_(year: int) -> Any:
    from datetime import date

    return date(year, 1, 1)


def _key(env: dict[str, str], role: str, name: str) -> tuple[str, str]:
    out = json.loads(_cli(["keys", "add", "--role", role, "--name", name, "--json"], env).stdout)
    return out["id"], out["key"]


class Server:
    def __init__(self, env: dict[str, str]) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [*CLI, "serve", "--port", str(self.port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        pytest.fail("creditnet serve did not start")

    def query(self, key: str, query: str, variables: dict[str, Any] | None = None) -> Any:
        response = httpx.post(
            self.url + "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        )
        assert response.status_code < 500, response.text
        return response.json()

    def stop(self) -> str:
        self.process.terminate()
        try:
            out, _ = self.process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, _ = self.process.communicate()
        return out or ""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Server, dict[str, str], dict[str, str]]]:
    data = tmp_path / "data"
    _seed(data)
    env = _env(data)
    keys = {
        "agency": _key(env, "agency", "agency")[1],
        "reviewer": _key(env, "reviewer", "reviewer one")[1],
        "admin": _key(env, "admin", "admin")[1],
    }
    server = Server(env)
    try:
        yield server, env, keys
    finally:
        server.stop()


CASES = "query($s: ID!) { cases(subjectId: $s) { totalCount edges { node { id status } } } }"
FILE = 'mutation($s: ID!) { fileObjection(sanction: $s, reason: "r") { id } }'
RESOLVE = (
    'mutation($o: ID!) { resolveObjection(objection: $o, outcome: UPHOLD, reason: "r") '
    "{ id status } }"
)


def _codes(body: Any) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


def test_a_cli_decision_beside_a_running_server_is_seen_at_once(
    served: tuple[Server, dict[str, str], dict[str, str]],
) -> None:
    server, env, keys = served
    _cli(["objection", "file", "S1", "--reason", "wrong", "--actor", "clerk"], env)
    cases = server.query(keys["reviewer"], CASES, {"s": "S1"})["data"]["cases"]
    assert cases["totalCount"] == 1  # the server saw the CLI's write at once
    again = server.query(keys["agency"], FILE, {"s": "S1"})
    assert _codes(again) == ["BAD_USER_INPUT"]  # the open objection is known to the API
    # And the other way round: an API decision is seen by the CLI; both survive a restart.
    resolved = server.query(keys["reviewer"], RESOLVE, {"o": "obj-S1-1"})
    assert resolved["data"]["resolveObjection"]["status"] == "UPHELD"
    _cli(["objection", "file", "S2", "--reason", "also", "--actor", "clerk"], env)
    server.stop()
    with MemoryStore(env["CREDITNET_DATA_DIR"]) as store:
        assert {c.id: c.status.value for c in store.cases()} == {
            "obj-S1-1": "upheld",
            "obj-S2-1": "open",
        }
    assert _cli(["audit", "verify", "--json"], env).returncode == 0


def test_the_filer_may_not_decide_and_the_actor_is_the_key(
    served: tuple[Server, dict[str, str], dict[str, str]],
) -> None:
    server, env, keys = served
    filed = server.query(keys["reviewer"], FILE, {"s": "S1"})["data"]["fileObjection"]
    own = server.query(keys["reviewer"], RESOLVE, {"o": filed["id"]})
    assert _codes(own) == ["FORBIDDEN"]
    _cli(["objection", "file", "S2", "--reason", "wrong", "--actor", "clerk"], env)
    refused = _cli(
        ["objection", "resolve", "obj-S2-1", "--uphold", "--reason", "x", "--actor", "clerk"],
        env,
        ok=False,
    )
    assert refused.returncode != 0 and "may not decide" in refused.stderr


def test_a_revoked_key_stops_working_on_a_running_server(
    served: tuple[Server, dict[str, str], dict[str, str]],
) -> None:
    server, env, _ = served
    key_id, raw = _key(env, "agency", "short-lived")
    assert "data" in server.query(raw, FILE, {"s": "S2"})
    _cli(["keys", "revoke", key_id], env)
    time.sleep(1.0)
    assert _codes(server.query(raw, FILE, {"s": "S1"})) == ["UNAUTHENTICATED"]
    listed = json.loads(_cli(["keys", "list", "--json"], env).stdout)["keys"]
    assert [k["revoked"] is not None for k in listed if k["id"] == key_id] == [True]


def test_parallel_key_adds_keep_every_key_and_files_are_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _seed(data)
    env = _env(data)
    runs = [
        subprocess.Popen(
            [*CLI, "keys", "add", "--role", "agency", "--name", f"k{i}", "--json"],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(8)
    ]
    printed = {json.loads(r.communicate(timeout=60)[0])["id"] for r in runs}
    stored = {k["id"] for k in json.loads((data / "keys.json").read_text())["keys"]}
    assert printed == stored and len(stored) == 8
    _cli(["objection", "file", "S1", "--reason", "r", "--actor", "clerk"], env)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for name in (JOURNAL_NAME, "audit.jsonl", "keys.json"):
        assert stat.S_IMODE((data / name).stat().st_mode) == 0o600, name


WRITER = """
import sys
from graph.memory import MemoryStore
from graph.model import Company
from graph.store import WriteBatch
with MemoryStore(sys.argv[1]) as store:
    for b in range(int(sys.argv[2])):
        store.write(WriteBatch(nodes=[Company(f"B{b}-{i}", "x") for i in range(2000)]))
"""
OPENER = """
import sys, time
from graph.memory import MemoryStore
end = time.monotonic() + float(sys.argv[2])
while time.monotonic() < end:
    with MemoryStore(sys.argv[1]) as store:
        store.stats()
"""


def test_opening_the_store_during_a_load_never_cuts_the_journal(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    env = _env(data)
    batches = 40
    openers = [subprocess.Popen([*PY, OPENER, str(data), "6"], env=env) for _ in range(4)]
    writer = subprocess.run([*PY, WRITER, str(data), str(batches)], env=env, timeout=120)
    for opener in openers:
        assert opener.wait(timeout=60) == 0
    assert writer.returncode == 0
    with MemoryStore(data) as store:
        assert store.recovery.records == batches
        assert store.stats().nodes["Company"] == batches * 2000


APPENDER = """
import sys
from pathlib import Path
from api.audit import AuditLog
log = AuditLog(Path(sys.argv[1]))
for i in range(int(sys.argv[2])):
    log.append(operation="credit_report", subject_ids=[f"x{i}"], key_id=None, key_name=sys.argv[3],
               role="cli", request_id=None, result="ok")
"""


def test_audit_appends_from_several_processes_form_one_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    env = _env(tmp_path)
    runs = [subprocess.Popen([*PY, APPENDER, str(path), "40", f"p{i}"], env=env) for i in range(4)]
    assert [r.wait(timeout=120) for r in runs] == [0, 0, 0, 0]
    os.environ["CREDITNET_AUDIT_KEY"] = env["CREDITNET_AUDIT_KEY"]
    try:
        result = AuditLog(path).verify()
    finally:
        del os.environ["CREDITNET_AUDIT_KEY"]
    assert result.ok and result.records == 160, result


def _tamper(path: Path, how: str) -> None:
    lines = path.read_text().splitlines()
    records = [json.loads(line) for line in lines]
    if how == "truncate":
        kept = records[:-2]
    elif how == "empty":
        kept = []
    elif how == "edit-last-and-rehash":
        records[-1]["result"] = "forged"
        records[-1]["hash"] = record_hash(records[-1])
        kept = records
    else:  # delete one and re-chain every hash after it
        kept = records[:1] + records[2:]
        prev = "0" * 64
        for seq, record in enumerate(kept, start=1):
            record["seq"], record["prev_hash"] = seq, prev
            record["hash"] = prev = record_hash(record)
    path.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in kept))


@pytest.mark.parametrize("how", ["truncate", "empty", "edit-last-and-rehash", "delete-and-rechain"])
def test_audit_tampering_is_detected_by_verify_and_the_server(tmp_path: Path, how: str) -> None:
    data = tmp_path / "data"
    _seed(data)
    env = _env(data)
    _, admin = _key(env, "admin", "admin")
    _cli(["objection", "file", "S1", "--reason", "r", "--actor", "clerk"], env)
    _cli(["objection", "resolve", "obj-S1-1", "--reject", "--reason", "r", "--actor", "rev"], env)
    _cli(["objection", "file", "S2", "--reason", "r", "--actor", "clerk"], env)
    assert _cli(["audit", "verify"], env).returncode == 0
    _tamper(data / "audit.jsonl", how)
    failed = _cli(["audit", "verify"], env, ok=False)
    assert failed.returncode == 1, failed.stdout
    server = Server(env)
    try:
        body = server.query(admin, FILE, {"s": "S1"})
        assert _codes(body) == ["AUDIT_UNAVAILABLE"]
    finally:
        out = server.stop()
    assert "tampered" in out


KILLED = """
import os, signal, sys
from datetime import date
from graph.memory import MemoryStore
from queries.due_process import file_objection
store = MemoryStore(sys.argv[1])
event = {"event_id": "e-killed", "time": "2024-01-01T00:00:00Z", "operation": "file_objection",
         "subject_ids": ["S1"], "key_id": None, "key_name": "clerk", "role": "cli",
         "request_id": None}
file_objection(store, "S1", "wrong", "clerk", date.today(), audit=event)
os.kill(os.getpid(), signal.SIGKILL)  # after the decision is durable, before the audit line
"""


def test_a_decision_killed_before_its_audit_line_gets_it_on_verify(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _seed(data)
    env = _env(data)
    killed = subprocess.run([*PY, KILLED, str(data)], env=env, timeout=60)
    assert killed.returncode == -signal.SIGKILL
    assert not (data / "audit.jsonl").exists()
    _cli(["audit", "verify"], env)
    lines = [json.loads(line) for line in (data / "audit.jsonl").read_text().splitlines()]
    assert [(r["event_id"], r["result"]) for r in lines] == [("e-killed", "obj-S1-1")]


def test_an_unusable_audit_log_refuses_the_decision_with_nothing_written(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _seed(data)
    env = _env(data)
    (data / "audit.jsonl").mkdir()  # unreadable as a file, whoever runs the test
    refused = _cli(["objection", "file", "S1", "--reason", "r", "--actor", "clerk"], env, ok=False)
    assert refused.returncode != 0 and "audit log" in refused.stderr
    with MemoryStore(data) as store:
        assert store.cases() == []
        record = store.get("S1")
        assert isinstance(record, Sanction) and not record.disputed
