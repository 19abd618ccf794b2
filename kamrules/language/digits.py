"""What a digit is: ASCII 0-9 and the full-width ０-９ of Chinese and Japanese input methods, nothing else.

Python reads far more as digits: `str.isdigit`, `int()`, `float()`, `Decimal()` and the `\\d` of `re`
accept Arabic-Indic ١٢٣, mathematical 𝟏𝟐𝟑 and other scripts' digits, and Unicode normalisation (NFKC)
turns superscripts, circled and parenthesised numbers into ASCII digits: a footnote mark `1200¹` would
read as 12001 and `①②` as 12. Every place that reads a number or a date from text (data cells, dates,
`--set`, case facts, the condition language) asks `odd_digit` first and refuses a text that has one.
"""

from __future__ import annotations

import unicodedata

_DIGITS = frozenset("0123456789０１２３４５６７８９")
ASCII_DIGITS = "[0-9]"  # the `\d` of a pattern that must read ASCII digits only


def odd_digit(text: str) -> str | None:
    """The first character of `text` that Python would read as (part of) a number but is not one of
    our digits — a superscript, a circled number, another script's digit — or None."""
    for char in text:
        if char in _DIGITS or char.isascii():
            continue
        if char.isdigit() or char.isdecimal() or any(c in _DIGITS for c in unicodedata.normalize("NFKC", char)):
            return char
    return None


def describe_char(char: str) -> str:
    """'¹' (U+00B9 SUPERSCRIPT ONE): a character as a message shows it."""
    name = unicodedata.name(char, "")
    return f"'{char}' (U+{ord(char):04X}{' ' + name if name else ''})"
