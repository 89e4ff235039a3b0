"""Unified social credit codes: check-character arithmetic, shape checks and the random maker."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loaders.uscc import (
    USCC_CHARSET,
    is_valid_uscc,
    looks_like_uscc,
    make_uscc,
    normalize_id,
    org_code_check_char,
    uscc_check_char,
)

SAMPLE = "91350100M000100Y43"
"""The sample code printed in GB 32100-2015 explanations (a Fuzhou enterprise)."""


def test_known_sample_is_valid() -> None:
    assert is_valid_uscc(SAMPLE)
    assert uscc_check_char(SAMPLE[:17]) == "3"


def test_flipping_the_last_char_of_the_sample_fails() -> None:
    for char in USCC_CHARSET:
        if char != SAMPLE[-1]:
            assert not is_valid_uscc(SAMPLE[:-1] + char)


def test_check_char_arithmetic_by_hand() -> None:
    weights = [pow(3, i, 31) for i in range(17)]
    assert weights == [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    values = [USCC_CHARSET.index(char) for char in SAMPLE[:17]]
    total = sum(v * w for v, w in zip(values, weights, strict=True))
    assert total % 31 == 28  # so the check value is 31 - 28 = 3
    assert uscc_check_char(SAMPLE[:17]) == USCC_CHARSET[(31 - total % 31) % 31]


def test_check_value_zero_maps_to_digit_zero() -> None:
    # Find a body whose weighted sum is a multiple of 31: the check is then "0", not "31".
    for last in USCC_CHARSET:
        first17 = "9131000012345678" + last
        values = [USCC_CHARSET.index(c) for c in first17]
        if sum(v * pow(3, i, 31) for i, v in enumerate(values)) % 31 == 0:
            assert uscc_check_char(first17) == "0"
            return
    pytest.fail("no body with a zero remainder found")  # pragma: no cover


def test_case_insensitive() -> None:
    assert is_valid_uscc(SAMPLE.lower())
    assert looks_like_uscc(SAMPLE.lower())
    assert uscc_check_char(SAMPLE[:17].lower()) == "3"


@pytest.mark.parametrize(
    "code",
    [
        "",
        SAMPLE[:17],  # too short
        SAMPLE + "0",  # too long
        "01350100M000100Y43",  # "0" is no registration authority
        "I1350100M000100Y43",  # I is not in the alphabet
        "91350100O000100Y43",  # nor O
        "91350100M000100Y4Z",  # nor Z
        "P00000001",
    ],
)
def test_not_a_uscc(code: str) -> None:
    assert not looks_like_uscc(code)
    assert not is_valid_uscc(code)


def test_looks_like_ignores_the_check_char() -> None:
    assert looks_like_uscc("91350100M000100Y44")
    assert not is_valid_uscc("91350100M000100Y44")


def test_uscc_check_char_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        uscc_check_char(SAMPLE[:16])
    with pytest.raises(ValueError):
        uscc_check_char("91350100M000100I4")


def test_normalize_id() -> None:
    assert normalize_id("  91350100m000100y43\t") == SAMPLE
    assert normalize_id(" p00000001 ") == "p00000001"  # other ids keep their case
    assert normalize_id("HK-1234567") == "HK-1234567"


def test_org_code_check_char() -> None:
    assert org_code_check_char("M000100Y") == "4"
    # weights 3,7,9,10,5,8,4,2 over 1,0,0,0,0,0,0,0: 11 - 3 = 8
    assert org_code_check_char("10000000") == "8"
    # sum 10 -> 11 - 10 = 1; sum 11 -> 11 - 0 = 11 -> "0"; sum 1 -> 10 -> "X"
    assert org_code_check_char("00010000") == "1"
    assert org_code_check_char("00000000") == "0"


def test_make_uscc_parameters() -> None:
    rng = random.Random(5)
    code = make_uscc(rng, authority="5", kind="3", division="330100")
    assert code.startswith("53330100")
    assert is_valid_uscc(code)
    assert org_code_check_char(code[8:16]) == code[16]
    with pytest.raises(ValueError):
        make_uscc(rng, authority="0")
    with pytest.raises(ValueError):
        make_uscc(rng, kind="I")
    with pytest.raises(ValueError):
        make_uscc(rng, division="31000")


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_make_uscc_is_valid_and_check_substitutions_fail(seed: int) -> None:
    code = make_uscc(random.Random(seed))
    assert is_valid_uscc(code)
    assert looks_like_uscc(code)
    assert code == code.upper()
    assert org_code_check_char(code[8:16]) == code[16]
    for char in USCC_CHARSET:
        if char != code[-1]:
            assert not is_valid_uscc(code[:-1] + char)


@given(
    st.integers(min_value=0, max_value=2**32 - 1),
    st.integers(min_value=0, max_value=16),
    st.sampled_from(USCC_CHARSET),
)
def test_any_single_substitution_is_detected(seed: int, position: int, char: str) -> None:
    # 31 is prime and no weight is 0 mod 31, so changing one character always changes the sum.
    code = make_uscc(random.Random(seed))
    if code[position] == char:
        return
    assert not is_valid_uscc(code[:position] + char + code[position + 1 :])
