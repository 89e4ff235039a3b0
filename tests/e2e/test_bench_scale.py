"""bench/scale.py end to end at a tiny size: every figure of its JSON line is there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import neo4j_test_uri

ROOT = Path(__file__).resolve().parents[2]

SHAPE = {
    "embedded": {"load_rows_per_s", "peak_rss_bytes", "report_p50_ms", "report_p99_ms"},
    "neo4j": {
        "bulk_import_rows_per_s",
        "online_node_rows_per_s",
        "online_link_rows_per_s",
        "reference_create_rows_per_s",
        "report_p50_ms",
        "report_p99_ms",
        "report_restricted_p99_ms",
        "materialise_per_s",
    },
    "api": {
        "embedded_req_per_s_8_clients",
        "neo4j_req_per_s_8_clients",
        "neo4j_http_over_direct_p50",
    },
}


@pytest.mark.neo4j
def test_scale_prints_every_figure_last() -> None:
    # The tests' own Neo4j (its database is replaced, as the tests clear it): the bulk import
    # restarts it through scripts/neo4j-local with this environment's NEO4J_LOCAL_* settings.
    command = [
        sys.executable, "-m", "bench.scale", "--companies", "300", "--json",
        "--neo4j-uri", neo4j_test_uri(), "--lookups", "40", "--seconds", "1", "--requests", "60",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(figures) == {"companies", *SHAPE}
    assert figures["companies"] == 300
    for part, keys in SHAPE.items():
        assert set(figures[part]) == keys, part
        assert all(isinstance(value, int | float) and value > 0 for value in figures[part].values())
    assert figures["embedded"]["peak_rss_bytes"] > 50_000_000, "a process's whole peak RSS"
    assert figures["neo4j"]["report_p50_ms"] <= figures["neo4j"]["report_p99_ms"]
