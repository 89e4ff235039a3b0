"""Fuzzing the third-party readers (spec/INTEROP.md): whatever the bytes, a load ends in a clear
reject (file, record, field, reason) or an InvalidInput, never a traceback, and a rejected load
writes nothing."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.errors import InvalidInput
from graph.memory import MemoryStore
from loaders.interop import InputFormat, load_interop

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SAMPLES = {
    InputFormat.FTM: (FIXTURES / "ftm" / "entities.ftm.json").read_bytes(),
    InputFormat.BODS: (FIXTURES / "bods" / "bods-package-fi-soe.json").read_bytes(),
    InputFormat.PSC: (FIXTURES / "psc" / "psc-data-8.json").read_bytes(),
}

_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=True)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
_KEYS = {
    InputFormat.FTM: ["id", "schema", "properties", "name", "owner", "percentage", "startDate"],
    InputFormat.BODS: ["recordId", "recordType", "recordDetails", "statementDate", "interests"],
    InputFormat.PSC: ["company_number", "data", "kind", "links", "natures_of_control"],
}


def _mutate(fmt: InputFormat, data: bytes, cut: int, key: str, value: object) -> bytes:
    """A sample truncated at ``cut``, or with ``key`` set to ``value`` wherever it occurs."""
    if cut >= 0:
        return data[: cut % max(1, len(data))]
    text = data.decode()
    needle = f'"{key}":'
    return text.replace(needle, f'"{key}": {json.dumps(value)}, "x_{key}":').encode()


def _check(fmt: InputFormat, payload: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "input.json"
        path.write_bytes(payload)
        store = MemoryStore()
        try:
            result = load_interop(store, path, fmt)
        except InvalidInput as exc:
            assert str(exc)
            return
        if result.rejects:
            assert not result.applied
            assert all(r.reason and r.line >= 0 for r in result.rejects)
            assert sum(store.stats().nodes.values()) == 0  # nothing half-loaded


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    fmt=st.sampled_from(list(SAMPLES)),
    cut=st.integers(-1, 20_000),
    key_index=st.integers(0, 4),
    value=_json,
)
def test_readers_reject_clearly_and_write_nothing(
    fmt: InputFormat, cut: int, key_index: int, value: object
) -> None:
    payload = _mutate(fmt, SAMPLES[fmt], cut, _KEYS[fmt][key_index], value)
    _check(fmt, payload)


@settings(max_examples=15, deadline=None, database=None)
@given(fmt=st.sampled_from(list(SAMPLES)), size=st.integers(10_000, 200_000))
def test_huge_strings_are_rejected_not_crashing(fmt: InputFormat, size: int) -> None:
    huge = "x" * size
    if fmt is InputFormat.FTM:
        line = {"id": "c1", "schema": "Company", "properties": {"name": [huge]}}
        payload = (json.dumps(line) + "\n").encode()
    elif fmt is InputFormat.BODS:
        statements = json.loads(SAMPLES[fmt])
        statements[0]["recordDetails"]["name"] = huge
        statements[1]["recordId"] = huge
        payload = json.dumps(statements).encode()
    else:
        lines = json.loads(SAMPLES[fmt])
        lines[0]["data"]["name"] = huge
        payload = json.dumps(lines).encode()
    _check(fmt, payload)


def test_garbage_bytes_are_a_clear_reject() -> None:
    for fmt in SAMPLES:
        _check(fmt, b"\xff\xfe{not json at all\n\x00\x01")
        _check(fmt, b'[{}, 1, "x", null]')
