"""``creditnet screen`` as a user runs it (a subprocess), on both stores (issue 11 item 15)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from tests.e2e.test_cli import env as env  # a fixture: the CLI environment of the store under test
from tests.e2e.test_cli import run

BUNDLE = {
    "companies.csv": "id,name\nC1,Acme\nC2,=Beta\n",
    "persons.csv": "id,name\nP1,Li Lei\n",
    "officers.csv": "person_id,company_id,role\nP1,C1,legal_representative\n",
    "sanctions.csv": "id,subject_id,list,start\nS1,C1,SERIOUS_DISHONEST,2024-01-01\n",
}


def _loaded(env: dict[str, str], tmp_path: Path) -> Path:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    for name, text in BUNDLE.items():
        (bundle / name).write_text(text, encoding="utf-8")
    loaded = run(["load", str(bundle), "--json"], env, tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    bidders = tmp_path / "bidders.csv"
    bidders.write_text("name,id\nAcme,C1\nLi,P1\nBeta,C2\nGhost,NOBODY\n", encoding="utf-8")
    return bidders


def test_screen_writes_one_row_per_reason_measure_or_unknown_id(
    env: dict[str, str], tmp_path: Path
) -> None:
    bidders = _loaded(env, tmp_path)
    args = ["screen", str(bidders), "--measure", "bidding_ban", "--measure", "HONOR_BAN"]
    done = run([*args, "--as-of", "2024-06-01"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    shown = [(r["id"], r["found"], r["measure"], r["restricted"], r["rule"]) for r in rows]
    assert shown == [
        ("C1", "true", "BIDDING_BAN", "true", "R1"),
        ("C1", "true", "HONOR_BAN", "true", "R1"),
        ("P1", "true", "BIDDING_BAN", "false", ""),
        ("P1", "true", "HONOR_BAN", "true", "R1"),
        ("C2", "true", "BIDDING_BAN", "false", ""),
        ("C2", "true", "HONOR_BAN", "false", ""),
        ("NOBODY", "false", "", "false", ""),
    ]
    p1 = rows[3]
    assert p1["path"] == "C1 <-[OFFICER_OF legal_representative]- P1"
    assert p1["source_sanction_id"] == "S1" and p1["legal_basis"]
    assert rows[4]["entity_name"] == "'=Beta"  # a spreadsheet would run it as a formula


def test_screen_json_and_jsonl_carry_the_same_answer(env: dict[str, str], tmp_path: Path) -> None:
    bidders = _loaded(env, tmp_path)
    common = ["--as-of", "2024-06-01", "--measure", "BIDDING_BAN"]
    document = run(["screen", str(bidders), *common, "--json"], env, tmp_path)
    assert document.returncode == 0, document.stderr
    doc = json.loads(document.stdout)
    assert doc["restrictedCount"] == 1 and doc["notFound"] == ["NOBODY"]
    out = tmp_path / "screen.jsonl"
    lines = run(
        ["screen", str(bidders), *common, "--format", "jsonl", "--out", str(out)], env, tmp_path
    )
    assert lines.returncode == 0, lines.stderr
    assert [json.loads(line) for line in out.read_text().splitlines()] == doc["rows"]


def test_screen_reads_one_id_per_line_and_refuses_what_it_cannot_read(
    env: dict[str, str], tmp_path: Path
) -> None:
    _loaded(env, tmp_path)
    plain = tmp_path / "ids.txt"
    plain.write_text("# bidders of tender 42\nC2\n\n P1 \n", encoding="utf-8")
    done = run(["screen", str(plain), "--json", "--as-of", "2024-06-01"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert [row["id"] for row in json.loads(done.stdout)["rows"]] == ["C2", "P1"]
    wide = tmp_path / "wide.csv"
    wide.write_text("name,code\nAcme,C1\n", encoding="utf-8")
    refused = run(["screen", str(wide)], env, tmp_path)
    assert refused.returncode == 2 and "none is named id" in refused.stderr
    unknown = run(["screen", str(plain), "--measure", "NO_SUCH"], env, tmp_path)
    assert unknown.returncode == 2 and "NO_SUCH" in unknown.stderr
    missing = run(["screen", str(tmp_path / "absent.csv")], env, tmp_path)
    assert missing.returncode == 2 and "no such file" in missing.stderr
