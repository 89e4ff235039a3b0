"""scripts/test starts Neo4j only when the selected tests need it (issue 11 item 13)."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.conftest import ROOT


def _plan(*args: str) -> str:
    done = subprocess.run(
        [str(ROOT / "scripts" / "test"), *args],
        env={**os.environ, "TEST_PLAN_ONLY": "1"},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return done.stdout.strip()


@pytest.mark.parametrize(
    "args",
    [("-m", "not neo4j"), ("-q", "-m", "not neo4j and not slow"), ("-mnot neo4j",)],
)
def test_deselected_neo4j_is_not_started(args: tuple[str, ...]) -> None:
    assert _plan(*args) == "neo4j: not needed"


@pytest.mark.parametrize(
    "args", [(), ("-p", "no:cacheprovider"), ("-m", "neo4j"), ("-m", "slow"), ("-k", "not neo4j")]
)
def test_neo4j_is_started_otherwise(args: tuple[str, ...]) -> None:
    assert _plan(*args) == "neo4j: needed"


def test_ci_runs_the_whole_suite() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert "scripts/test -p no:cacheprovider" in ci and " -m " not in ci
