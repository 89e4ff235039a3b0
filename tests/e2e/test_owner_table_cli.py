"""``creditnet owner-table`` as a user runs it (a subprocess), on both stores: a bundle loaded with
``creditnet load``, then the beneficial owners of every company in its ``companies.csv``."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from tests.e2e.test_cli import env as env  # a fixture: the CLI environment of the store under test
from tests.e2e.test_cli import run

BUNDLE = {
    "companies.csv": "id,name\nA,A Co\nB,B Co\nC,C Co\n=EVIL,Evil Co\n",
    "persons.csv": "id,name\nP,Li\nQ,Wu\n",
    # B: A holds 51% (so P, who controls A, controls B); Q is B's recorded actual controller.
    # C: A and C hold 30% of each other. =EVIL: an id a spreadsheet would run as a formula.
    "ownership.csv": "owner_id,company_id,share\nP,A,60\nQ,A,40\nA,B,51\nA,C,30\nC,A,30\n"
    "Q,C,70\nQ,=EVIL,30\n",
    "officers.csv": "person_id,company_id,role\nQ,B,actual_controller\n",
}


def test_owner_table_of_a_loaded_bundle(env: dict[str, str], tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    for name, text in BUNDLE.items():
        (bundle / name).write_text(text, encoding="utf-8")
    loaded = run(["load", str(bundle), "--json"], env, tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    companies = str(bundle / "companies.csv")

    table = run(["owner-table", "--companies", companies, "--as-of", "2025-01-01"], env, tmp_path)
    assert table.returncode == 0, table.stderr
    assert list(csv.reader(io.StringIO(table.stdout))) == [
        ["company_id", "owner_id", "effective_share", "controls"],
        ["'=EVIL", "Q", "30.0", "false"],  # quoted: a spreadsheet would run =EVIL
        ["A", "P", "60.0", "true"],
        ["A", "Q", "61.0", "true"],  # 40% + 70% x 30% through C, which Q controls
        ["B", "P", "30.6", "true"],
        ["B", "Q", "31.11", "true"],
        ["C", "Q", "82.0", "true"],  # 70% + 40% x 30% through A
    ]

    out = tmp_path / "owners.jsonl"
    ids = tmp_path / "ids.txt"
    ids.write_text("# two companies\nB\n\nC\n", encoding="utf-8")
    args = ["owner-table", "--companies", str(ids), "--threshold", "50", "--format", "jsonl"]
    written = run([*args, "--as-of", "2025-01-01", "--out", str(out)], env, tmp_path)
    assert written.returncode == 0, written.stderr
    assert [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()] == [
        {"company_id": "B", "owner_id": "P", "effective_share": 30.6, "controls": True},
        {"company_id": "B", "owner_id": "Q", "effective_share": 31.11, "controls": True},
        {"company_id": "C", "owner_id": "Q", "effective_share": 82.0, "controls": True},
    ]

    document = run([*args[:3], "--as-of", "2025-01-01", "--json"], env, tmp_path)
    assert document.returncode == 0, document.stderr
    assert json.loads(document.stdout)["owners"][0] == {
        "companyId": "B",
        "ownerId": "P",
        "effectiveShare": 30.6,
        "controls": True,
    }

    ids.write_text("B\nGHOST\n", encoding="utf-8")
    unknown = run(["owner-table", "--companies", str(ids)], env, tmp_path)
    assert unknown.returncode == 3 and "GHOST" in unknown.stderr
    missing = run(["owner-table", "--companies", str(tmp_path / "nope.txt")], env, tmp_path)
    assert missing.returncode == 2 and "nope.txt" in missing.stderr
