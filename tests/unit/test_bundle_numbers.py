"""Numbers in a bundle: a comma is never guessed at (issue 11 item 4)."""

from __future__ import annotations

from pathlib import Path

import pytest

from loaders.bundle import read_bundle

HEADER = "owner_id,company_id,share\n"
COMPANIES = "id,name\nC1,Acme\nC2,Beta\n"


def _share(tmp_path: Path, cell: str) -> tuple[float | None, list[str]]:
    (tmp_path / "companies.csv").write_text(COMPANIES, encoding="utf-8")
    (tmp_path / "ownership.csv").write_text(f'{HEADER}C1,C2,"{cell}"\n', encoding="utf-8")
    parsed = read_bundle(tmp_path)
    rows = parsed.rows.get("ownership.csv", [])
    share = getattr(rows[0].item, "share", None) if rows else None
    return share, [f"{r.column}: {r.reason}" for r in parsed.rejects]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("35", 35.0), ("3.5", 3.5), ("12.5%", 12.5), (" 40 ", 40.0), ("100", 100.0)],
)
def test_plain_numbers_load(tmp_path: Path, cell: str, expected: float) -> None:
    share, rejects = _share(tmp_path, cell)
    assert rejects == [] and share == pytest.approx(expected)


@pytest.mark.parametrize("cell", ["3,5", "2,5%", "1.000,50", "1,000.5", "1 000", "35..0", "+-3"])
def test_ambiguous_numbers_are_rejected_with_a_reason(tmp_path: Path, cell: str) -> None:
    share, rejects = _share(tmp_path, cell)
    assert share is None
    assert len(rejects) == 1 and rejects[0].startswith("share: "), rejects
    assert "decimal" in rejects[0] or "not a number" in rejects[0]
