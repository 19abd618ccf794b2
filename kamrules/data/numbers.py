"""Number cells: `parse_number` for one cell ("¥1,234", "12万", "(1,200)", "35%"), and a vectorised
path (pyarrow) for whole columns of the common shapes that gives the same floats."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation, Overflow

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kamrules.data.cells import by_distinct, missing_mask, spread
from kamrules.data.wording import say
from kamrules.language.digits import describe_char, odd_digit

_PLAIN_NUMBER = {
    ".": r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$",
    ",": r"^[+-]?(?:\d+,?\d*|,\d+)$",
}
_GROUPED = {
    ".": re.compile(r"\d{1,3}(?:[,\s'’]\d{3})+(?:\.\d*)?"),
    ",": re.compile(r"\d{1,3}(?:[.\s'’]\d{3})+(?:,\d*)?"),
}
# Unambiguous patterns only (each character can be matched one way), so a failed match never backtracks
# through a long cell: `\d+\.?\d*` would split a run of digits every possible way (quadratic).
_PLAIN = {
    ".": re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"),
    ",": re.compile(r"\d+(?:,\d*)?|,\d+"),
}
# The common formatted shapes ("¥1,234.50", "12万", "35%", "(1,200)", "-$2,000 元"), recognised by pyarrow
# for whole columns at once; a strict subset of what parse_number accepts, giving the same floats
# (the unit becomes an exponent, so "12.5%" is parsed as "12.5e-2", correctly rounded like Decimal).
_CURRENCY = r"(?:RMB|CNY|USD|EUR|GBP|HK\$|US\$|[¥$€£])"
_VECTOR_NUMBER = {
    decimal: (
        r"(?i)^(?P<open>\()?\s*(?P<s1>[+-])?\s*(?:" + _CURRENCY + r"\s*)?(?P<s2>[+-])?\s*(?P<body>" + body + r")"
        r"\s*(?P<unit>[%千万亿])?\s*(?:元|" + _CURRENCY + r")?\s*(?P<close>\))?$"
    )
    for decimal, body in ((".", r"\d{1,3}(?:,\d{3})+(?:\.\d*)?|\d+\.?\d*|\.\d+"),
                          (",", r"\d{1,3}(?:\.\d{3})+(?:,\d*)?|\d+,?\d*|,\d+"))
}
_UNIT_EXPONENTS = (("%", "e-2"), ("千", "e3"), ("万", "e4"), ("亿", "e8"))
_CURRENCY_BEFORE = re.compile(r"^" + _CURRENCY + r"\s*", re.IGNORECASE)
_CURRENCY_AFTER = re.compile(r"(?:元|" + _CURRENCY + r")\Z", re.IGNORECASE)  # searched in the last 3 characters only
MAX_NUMBER_CHARS = 100  # a number cell longer than this is not a number; parsing it stays linear and short
_UNITS = {"千": Decimal(1000), "万": Decimal(10_000), "亿": Decimal(100_000_000)}


def parse_number(text: str, decimal: str = ".", lang: str = "en") -> tuple[float | None, str | None]:
    """Read one number cell: (value, None) or (None, reason in `lang`). Missing words are not handled here."""
    s = text.strip()
    if len(s) > MAX_NUMBER_CHARS:
        return None, say(lang, "r_long_number", n=f"{len(s):,}", max=MAX_NUMBER_CHARS)
    if odd := odd_digit(s):  # before NFKC, which makes a footnote mark '¹' the digit 1 (docs/data.md)
        return None, say(lang, "r_odd_digit", char=describe_char(odd))
    s = unicodedata.normalize("NFKC", s).strip()  # may lengthen a text, hence the second check
    if len(s) > MAX_NUMBER_CHARS:
        return None, say(lang, "r_long_number", n=f"{len(s):,}", max=MAX_NUMBER_CHARS)
    negative = False
    signs = 0
    if s.startswith("(") and s.endswith(")"):  # accounting negative
        negative, s, signs = True, s[1:-1].strip(), 1
    for _ in range(2):  # a sign may stand before or after the currency: -$5, $-5
        if s[:1] in ("+", "-", "−"):
            negative ^= s[0] != "+"
            s = s[1:].lstrip()
            signs += 1
        s = _CURRENCY_BEFORE.sub("", s, count=1)
    if ending := _CURRENCY_AFTER.search(s, max(0, len(s) - 3)):  # "5 元", "5USD": a unit is 1-3 characters
        s = s[: ending.start()].rstrip()
    scale = Decimal(1)
    if s.endswith("%"):
        scale, s = Decimal("0.01"), s[:-1].rstrip()
    elif s[-1:] in _UNITS:
        scale, s = _UNITS[s[-1]], s[:-1].rstrip()
    if signs > 1 or not s:
        return None, say(lang, "r_not_number")
    other = "," if decimal == "." else "."
    if _GROUPED[decimal].fullmatch(s):
        body = re.sub(r"[^\d" + re.escape(decimal) + "]", "", s)
    elif _PLAIN[decimal].fullmatch(s):
        body = s
    else:
        if _GROUPED[other].fullmatch(s) or _PLAIN[other].fullmatch(s):
            return None, say(lang, "r_decimal", other=other)
        return None, say(lang, "r_not_number")
    try:
        value = Decimal(body.replace(",", ".")) * scale
    except Overflow:  # an exponent beyond what a decimal holds (1e9999999): as too large as an infinite float
        return None, say(lang, "r_too_large")
    except InvalidOperation:
        return None, say(lang, "r_not_number")
    result = float(-value if negative else value)
    if result in (float("inf"), float("-inf")):
        return None, say(lang, "r_too_large")
    return result, None


def _formatted_numbers(texts: pa.Array, decimal: str) -> tuple[np.ndarray, np.ndarray]:
    """(mask of texts in a common formatted shape, their values), vectorised."""
    found = pc.extract_regex(texts, _VECTOR_NUMBER[decimal])

    def part(name: str) -> pa.Array:
        return pc.struct_field(found, name).fill_null("")

    opened, closed = pc.equal(part("open"), "("), pc.equal(part("close"), ")")
    first, second = part("s1"), part("s2")
    signed_once = pc.not_equal(first, "")
    two_signs = pc.and_(signed_once, pc.not_equal(second, ""))
    paren_and_sign = pc.and_(opened, pc.or_(signed_once, pc.not_equal(second, "")))
    good = pc.and_(found.is_valid(), pc.equal(opened, closed))
    good = pc.and_(good, pc.invert(pc.or_(two_signs, paren_and_sign)))
    body = part("body")
    if decimal == ",":
        body = pc.replace_substring(pc.replace_substring(body, ".", ""), ",", ".")
    else:
        body = pc.replace_substring(body, ",", "")
    exponent = part("unit")
    for unit, power in _UNIT_EXPONENTS:
        exponent = pc.replace_substring(exponent, unit, power)
    number_text = pc.if_else(good, pc.binary_join_element_wise(body, exponent, ""), "0")
    numbers = number_text.cast(pa.float64()).to_numpy(zero_copy_only=False).copy()
    negative = pc.or_(opened, pc.or_(pc.equal(first, "-"), pc.equal(second, "-"))).to_numpy(zero_copy_only=False)
    numbers[negative] = -numbers[negative]
    mask = good.to_numpy(zero_copy_only=False) & np.isfinite(numbers)
    return mask, numbers[mask]


def _to_number(trimmed: pa.Array, decimal: str, whole: bool, lang: str = "en"):
    n = len(trimmed)
    missing = missing_mask(trimmed)
    values = np.full(n, np.nan)
    plain = pc.match_substring_regex(trimmed, _PLAIN_NUMBER[decimal]).to_numpy(zero_copy_only=False)
    if plain.any():
        subset = trimmed.filter(pa.array(plain))
        if decimal == ",":
            subset = pc.replace_substring(subset, ",", ".")
        values[plain] = subset.cast(pa.float64()).to_numpy(zero_copy_only=False)
        overflow = plain & ~np.isfinite(values)
        plain &= ~overflow  # "1e999": let the careful parser explain
    reasons: dict[int, str] = {}
    rest = ~plain & ~missing
    if rest.any():
        positions = np.flatnonzero(rest)
        formatted, numbers = _formatted_numbers(trimmed.take(pa.array(positions)), decimal)
        values[positions[formatted]] = numbers
        rest[positions[formatted]] = False
    if rest.any():
        positions = np.flatnonzero(rest)
        parse = (lambda t: parse_number(t, decimal)) if lang == "en" else (lambda t: parse_number(t, decimal, lang))
        indices, parsed = by_distinct(trimmed.take(pa.array(positions)), parse)
        values[positions], _, reasons = spread(indices, parsed, positions, np.nan, "float64")
    if whole:
        finite = np.isfinite(values)
        fractional = np.zeros(n, dtype=bool)
        fractional[finite] = values[finite] != np.floor(values[finite])
        for position in np.flatnonzero(fractional):
            reasons[int(position)] = say(lang, "r_not_whole")
    return pd.Series(values, dtype="float64"), missing, reasons


# Booleans and categories ------------------------------------------------------------------------------
