"""Reject lines printed by a third-party load keep their column (regression: rich read the
``[column]`` of a reject as console markup and dropped it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EPCIS = ROOT / "tests" / "fixtures" / "epcis" / "milk-to-cheese.jsonld"


def test_reject_lines_show_their_column(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDITNET_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["CREDITNET_DATA_DIR"] = str(tmp_path / "data")
    # Without the party map, the document's GLNs name no company: every movement is a reject.
    done = subprocess.run(
        [sys.executable, "-c", "from api.cli import main; main()", "load", str(EPCIS)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 4, done.stderr
    reject_lines = [line for line in done.stderr.splitlines() if "milk-to-cheese.jsonld:" in line]
    assert reject_lines, done.stderr
    assert all("[bizLocation]" in line or "[" in line for line in reject_lines), reject_lines
    assert any("[bizLocation]" in line for line in reject_lines), reject_lines
