"""Chinese Unified Social Credit Codes (统一社会信用代码, GB 32100-2015).

A USCC has 18 characters from a 31-character alphabet (digits and upper-case letters without
I, O, S, V and Z, which are too easily confused with digits)::

    9 1 350100 M000100Y4 3
    | | |      |         `- check character over positions 1-17 (mod 31)
    | | |      `----------- organisation code (GB 11714): 8 characters + its own check character
    | | `------------------ administrative division (GB/T 2260) of the registering authority
    | `-------------------- entity kind within the authority (for "9": 1 enterprise, 2 sole
    |                       trader, 3 farmers' cooperative)
    `---------------------- registration authority (9: market regulation, 5: civil affairs, ...)

Only the final check character is verified here: it is what GB 32100 defines for the whole code,
and the organisation-code check inside is not re-validated by registries either.
"""

from __future__ import annotations

import random
from typing import Final

__all__ = [
    "ADMIN_DIVISIONS",
    "USCC_CHARSET",
    "is_valid_uscc",
    "looks_like_uscc",
    "make_uscc",
    "normalize_id",
    "org_code_check_char",
    "uscc_check_char",
]

USCC_CHARSET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""The 31 characters of a USCC; a character's value is its index (0..30)."""

_VALUE: Final[dict[str, int]] = {char: value for value, char in enumerate(USCC_CHARSET)}
_WEIGHTS: Final = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
"""3**i mod 31 for positions 1..17."""

_AUTHORITIES: Final = frozenset("123456789ABCDEFGHNY")
"""Registration-authority codes allowed in position 1."""

_ORG_WEIGHTS: Final = (3, 7, 9, 10, 5, 8, 4, 2)
"""GB 11714 weights for the 8 body characters of an organisation code."""

ADMIN_DIVISIONS: Final[dict[str, str]] = {
    "110000": "北京市",
    "110105": "北京市",
    "110108": "北京市",
    "120000": "天津市",
    "310000": "上海市",
    "310104": "上海市",
    "310115": "上海市",
    "320500": "江苏省",
    "320100": "江苏省",
    "330100": "浙江省",
    "330200": "浙江省",
    "350100": "福建省",
    "350200": "福建省",
    "370200": "山东省",
    "420100": "湖北省",
    "440100": "广东省",
    "440300": "广东省",
    "440306": "广东省",
    "441900": "广东省",
    "500000": "重庆市",
    "510100": "四川省",
    "610100": "陕西省",
}
"""A small, realistic set of GB/T 2260 division codes and the province each belongs to."""


def looks_like_uscc(code: str) -> bool:
    """Whether ``code`` has the shape of a USCC, whatever its check character.

    Parameters
    ----------
    code
        Any identifier; compared case-insensitively.

    Returns
    -------
    bool
        True for 18 characters of the USCC alphabet starting with a registration-authority code.
    """
    upper = code.upper()
    return len(upper) == 18 and upper[0] in _AUTHORITIES and all(char in _VALUE for char in upper)


def uscc_check_char(first17: str) -> str:
    """The check character (position 18) for the first 17 characters of a USCC.

    Parameters
    ----------
    first17
        17 characters of the USCC alphabet (case-insensitive).

    Returns
    -------
    str
        The upper-case check character.

    Raises
    ------
    ValueError
        When ``first17`` is not 17 characters long or holds a character outside the alphabet.

    Examples
    --------
    >>> uscc_check_char("91350100M000100Y4")
    '3'
    """
    upper = first17.upper()
    if len(upper) != 17:
        raise ValueError(f"expected 17 characters, got {len(upper)}: {first17!r}")
    try:
        total = sum(_VALUE[char] * weight for char, weight in zip(upper, _WEIGHTS, strict=True))
    except KeyError as exc:
        raise ValueError(f"character {exc.args[0]!r} is not in the USCC alphabet") from None
    return USCC_CHARSET[(31 - total % 31) % 31]


def is_valid_uscc(code: str) -> bool:
    """Whether ``code`` is a USCC with a correct check character (case-insensitive).

    Examples
    --------
    >>> is_valid_uscc("91350100M000100Y43")
    True
    >>> is_valid_uscc("91350100M000100Y44")
    False
    """
    if not looks_like_uscc(code):
        return False
    upper = code.upper()
    return uscc_check_char(upper[:17]) == upper[17]


def normalize_id(raw: str) -> str:
    """The canonical form of an entity id as read from a file.

    Surrounding whitespace is removed; a USCC-shaped id is upper-cased so that the same company
    typed in lower case is one node. Other ids (persons, foreign registrations) are kept as given,
    since their case may be significant.
    """
    stripped = raw.strip()
    return stripped.upper() if looks_like_uscc(stripped) else stripped


def org_code_check_char(body: str) -> str:
    """The GB 11714 check character for an 8-character organisation-code body.

    Digits count as their value and letters as A=10 .. Z=35; a result of 10 is written ``X`` and
    11 is written ``0``.

    Examples
    --------
    >>> org_code_check_char("M000100Y")
    '4'
    """
    if len(body) != 8:
        raise ValueError(f"expected 8 characters, got {len(body)}: {body!r}")
    total = sum(int(char, 36) * weight for char, weight in zip(body, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def make_uscc(
    rng: random.Random,
    authority: str = "9",
    kind: str = "1",
    *,
    division: str | None = None,
    modern: bool | None = None,
) -> str:
    """A random but valid USCC.

    Parameters
    ----------
    rng
        The source of randomness (seeded by the caller for reproducible output).
    authority
        The registration-authority code (position 1); ``"9"`` is market regulation.
    kind
        The entity kind within the authority (position 2); ``"1"`` is an enterprise.
    division
        A 6-digit administrative division; by default one of :data:`ADMIN_DIVISIONS`.
    modern
        True for an organisation code of the shape issued since the 2015 reform ("MA" and six
        letters or digits), False for an older all-digit one carried over into the USCC; by
        default either, with equal chance.

    Returns
    -------
    str
        18 upper-case characters whose organisation-code and USCC check characters are both right.
    """
    if authority not in _AUTHORITIES:
        raise ValueError(f"not a registration-authority code: {authority!r}")
    if len(kind) != 1 or kind not in _VALUE:
        raise ValueError(f"not a USCC entity-kind character: {kind!r}")
    if division is None:
        division = rng.choice(list(ADMIN_DIVISIONS))
    if len(division) != 6 or not division.isdigit():
        raise ValueError(f"not a 6-digit administrative division: {division!r}")
    if modern is None:
        modern = rng.random() < 0.5
    if modern:
        body = "MA" + "".join(rng.choice(USCC_CHARSET) for _ in range(6))
    else:
        body = "".join(rng.choice("0123456789") for _ in range(8))
    first17 = authority + kind + division + body + org_code_check_char(body)
    return first17 + uscc_check_char(first17)
