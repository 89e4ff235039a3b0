"""Company names, organisation codes and cell formats of the synthetic registry
(:mod:`loaders.generate`).

Both are unique by construction, not by a set of those already issued, so the generator can make
any number of companies without remembering them: a name is read back into its (city, trade name,
form) key and serial, and an organisation code is a serial number scrambled by a bijection.
"""

from __future__ import annotations

import random
from datetime import date
from functools import cache
from typing import Final

from loaders.uscc import USCC_CHARSET
from loaders.vocabulary import CITIES, INDUSTRIES, TRADE_CHARS

__all__ = [
    "FORMS",
    "HOLDING_FORMS",
    "MODERN_CODES",
    "NAME_KEYS",
    "NAME_TRIES",
    "OLD_CODES",
    "SCRAMBLE",
    "SUFFIXES",
    "SUFFIX_WEIGHTS",
    "TRADES",
    "company_name",
    "iso",
    "iso_day",
    "org_body",
    "person_id",
    "share_text",
    "split_shares",
]

# -- company names ---------------------------------------------------------------------------

SUFFIXES: Final = ("有限公司", "有限责任公司", "股份有限公司")
SUFFIX_WEIGHTS: Final = (85, 8, 7)
HOLDING_FORMS: Final = ("投资控股有限公司", "集团有限公司")
FORMS: Final = (
    *(phrase + suffix for phrase, _, _ in INDUSTRIES for suffix in SUFFIXES),
    *HOLDING_FORMS,
)
"""What follows the city and the trade name: an industry phrase and a legal form, or a holding's."""
TRADES: Final = len(TRADE_CHARS) ** 2
NAME_KEYS: Final = len(CITIES) * TRADES * len(FORMS)
"""How many (city, trade name, form) combinations :func:`company_name` distinguishes."""
NAME_TRIES: Final = 8
"""Fresh trade names tried before a taken one is reused as a numbered branch."""
_DIGITS: Final = "零一二三四五六七八九"


def _chinese_number(n: int) -> str:
    """``n`` (>= 1) in Chinese numerals below ten thousand, in Arabic digits from there."""
    if n >= 10_000:
        return str(n)
    if 10 <= n < 20:
        return "十" + (_DIGITS[n - 10] if n > 10 else "")
    text = ""
    zero = False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = n // value % 10
        if digit:
            text += ("零" if zero and text else "") + _DIGITS[digit] + unit
            zero = False
        else:
            zero = True
    return text


def company_name(key: int, serial: int) -> str:
    """The company name of a (city, trade name, form) ``key`` and its ``serial`` use.

    The first use (``serial`` 0) is the plain name, e.g. 上海恒盛贸易有限公司; later ones are
    its numbered branches (上海恒盛贸易有限公司第一分公司, ...). Distinct (key, serial) pairs
    always give distinct names: city names and trade names have two characters each and no form
    is another form followed by a branch suffix, so a name can be read back into its pair.

    Parameters
    ----------
    key
        ``(city * trades + trade) * forms + form``, below :data:`NAME_KEYS`.
    serial
        How many companies used ``key`` before this one.

    Returns
    -------
    str
        The name.
    """
    rest, form = divmod(key, len(FORMS))
    city, trade = divmod(rest, TRADES)
    first, second = divmod(trade, len(TRADE_CHARS))
    name = CITIES[city].short + TRADE_CHARS[first] + TRADE_CHARS[second] + FORMS[form]
    return name if serial == 0 else f"{name}第{_chinese_number(serial)}分公司"


# -- company ids -----------------------------------------------------------------------------

MODERN_CODES: Final = len(USCC_CHARSET) ** 6
OLD_CODES: Final = 10**8
SCRAMBLE: Final = {True: 548_507_439, False: 61_803_399}
"""Multipliers coprime to the code spaces (31**6 and 10**8): ``serial * m + offset`` is then a
bijection of the space, so serial numbers give distinct codes that do not look sequential."""


def org_body(number: int, modern: bool) -> str:
    """The 8-character organisation-code body of ``number`` ("MA" and six characters since 2015,
    eight digits before)."""
    if not modern:
        return f"{number:08d}"
    chars = []
    for _ in range(6):
        number, value = divmod(number, len(USCC_CHARSET))
        chars.append(USCC_CHARSET[value])
    return "MA" + "".join(reversed(chars))


# -- values ----------------------------------------------------------------------------------


def iso(ordinal: int | None) -> str:
    return "" if ordinal is None else iso_day(ordinal)


@cache
def iso_day(ordinal: int) -> str:
    return date.fromordinal(ordinal).isoformat()


def share_text(basis_points: int | None) -> str:
    """A share in hundredths of a percent, written without trailing zeros ("25", "33.33")."""
    if basis_points is None:
        return ""
    whole, frac = divmod(basis_points, 100)
    return str(whole) if frac == 0 else f"{whole}.{frac:02d}".rstrip("0")


def split_shares(rng: random.Random, total: int, parts: int) -> list[int]:
    """``total`` basis points split into ``parts`` positive whole-percent shares, largest first."""
    if parts == 1:
        return [total]
    cuts = sorted(rng.sample(range(1, total // 100), parts - 1))
    shares = [(b - a) * 100 for a, b in zip([0, *cuts], [*cuts, total // 100], strict=True)]
    shares[-1] += total % 100
    return sorted(shares, reverse=True)


def person_id(index: int) -> str:
    """The id of the ``index``-th generated person (P00000001, ...)."""
    return f"P{index + 1:08d}"
