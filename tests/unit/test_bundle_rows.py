"""Rows and headers of a bundle file that must be rejected, and where (issue 11 item 4)."""

from __future__ import annotations

from pathlib import Path

from graph.memory import MemoryStore
from loaders.bundle import load_bundle, read_bundle


def _write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text, encoding="utf-8", newline="")


def _rejects(folder: Path) -> list[tuple[str, int, str, str]]:
    parsed = read_bundle(folder)
    return sorted((r.file, r.line, r.column, r.reason) for r in parsed.rejects)


def test_a_row_with_too_few_cells_is_rejected_not_loaded_blank(tmp_path: Path) -> None:
    _write(tmp_path, "companies.csv", "id,name,industry\nC1,Acme,mining\nC2,Beta\n")
    parsed = read_bundle(tmp_path)
    assert [r.item.id for r in parsed.rows["companies.csv"]] == ["C1"]  # type: ignore[union-attr]
    [reject] = parsed.rejects
    assert (reject.file, reject.line, reject.column) == ("companies.csv", 3, "industry")
    assert "2 cells" in reject.reason and "3" in reject.reason


def test_a_row_with_too_many_cells_is_rejected(tmp_path: Path) -> None:
    _write(tmp_path, "companies.csv", "id,name\nC1,Acme,extra\n")
    [reject] = read_bundle(tmp_path).rejects
    assert reject.line == 2 and "3 cells" in reject.reason


def test_a_duplicate_header_is_rejected_naming_the_column(tmp_path: Path) -> None:
    _write(tmp_path, "companies.csv", "id,name,name\nC1,Acme,Beta\n")
    parsed = read_bundle(tmp_path)
    assert parsed.rows.get("companies.csv", []) == []
    header = [r for r in parsed.rejects if r.line == 1]
    assert [(r.column, "twice" in r.reason) for r in header] == [("name", True)]
    assert {r.line for r in parsed.rejects} == {1, 2}
    assert all("name.1" not in r.column for r in parsed.rejects)


def test_nul_bytes_are_rejected_with_their_cell(tmp_path: Path) -> None:
    _write(tmp_path, "companies.csv", "id,name\nC1,Ac\x00me\nC2,Beta\n")
    parsed = read_bundle(tmp_path)
    assert [r.item.id for r in parsed.rows["companies.csv"]] == ["C2"]  # type: ignore[union-attr]
    [reject] = parsed.rejects
    assert (reject.line, reject.column) == (2, "name") and "NUL" in reject.reason


def test_line_numbers_are_physical_after_a_quoted_newline(tmp_path: Path) -> None:
    text = 'id,name,industry\nC1,"Acme\nHoldings\nGroup",mining\n\nC2,Beta,x\nC3,,y\n'
    _write(tmp_path, "companies.csv", text)
    # C3 is on physical line 7: the header, C1 over three lines, a blank line, C2.
    assert _rejects(tmp_path) == [("companies.csv", 7, "name", "required cell is empty")]


def test_every_error_of_a_row_is_reported(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "companies.csv",
        'id,name,founded,status,registered_capital\nC1,,2020-13-01,sleeping,"3,5"\n',
    )
    rejects = _rejects(tmp_path)
    assert [(line, column) for _, line, column, _ in rejects] == [
        (2, "founded"),
        (2, "name"),
        (2, "registered_capital"),
        (2, "status"),
    ]
    assert read_bundle(tmp_path).rows["companies.csv"] == []


def test_rejected_rows_still_load_nothing_and_reloads_are_idempotent(tmp_path: Path) -> None:
    _write(tmp_path, "companies.csv", "id,name,industry\nC1,Acme,mining\nC2,Beta\n")
    store = MemoryStore()
    result = load_bundle(store, tmp_path)
    assert not result.applied and result.rejected == 1 and store.labels_of(["C1"]) == {}
    _write(tmp_path, "companies.csv", "id,name,industry\nC1,Acme,mining\nC2,Beta,\n")
    first, second = load_bundle(store, tmp_path), load_bundle(store, tmp_path)
    assert first.applied and second.applied and first.written == second.written
    assert set(store.labels_of(["C1", "C2"])) == {"C1", "C2"}
