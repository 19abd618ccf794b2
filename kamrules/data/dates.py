"""Date cells: `parse_date` for one cell (ISO, Chinese, day/month orders, month names, Excel serial
days), and a vectorised path for ISO dates."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kamrules.data.cells import EXCEL_LAST_SERIAL, FIRST_DATE, LAST_DATE, by_distinct, excel_day, missing_mask, spread
from kamrules.data.wording import say
from kamrules.language.digits import describe_char, odd_digit

_TIME_SUFFIX = re.compile(
    r"^(.*?\S)(?:[ T]+\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[AaPp][Mm])?\s*(?:Z|[+-]\d{2}:?\d{2})?)$"
)
_YMD = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_CHINESE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?")
_DMY_OR_MDY = re.compile(r"(\d{1,2})([-/.])(\d{1,2})\2(\d{4})")
_MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
                "october", "november", "december")
_D_MON_Y = re.compile(r"(\d{1,2})[-\s]([A-Za-z]{3,9})\.?[-\s,]+(\d{4})")
_MON_D_Y = re.compile(r"([A-Za-z]{3,9})\.?\s+(\d{1,2}),?\s+(\d{4})")
_SERIAL = re.compile(r"\d{1,7}(?:\.\d+)?")
# `_TIME_SUFFIX` backtracks (its lazy head meets `[ T]+`): quadratic in the cell's length, so cells are
# capped first. The longest date kamrules reads ("September 30, 2026 23:59:59.123456789 PM +08:00") has
# under 50 characters.
MAX_DATE_CHARS = 100


def _month(word: str) -> int | None:
    """1-12 for an English month name or its abbreviation (Jan, Sept, January)."""
    word = word.casefold()
    for number, month in enumerate(_MONTH_NAMES, start=1):
        if len(word) >= 3 and (month.startswith(word) or word == "sept" and number == 9):
            return number
    return None


def parse_date(text: str, dayfirst: bool = False, excel_serials: bool = False,
               lang: str = "en") -> tuple[np.datetime64 | None, str | None]:
    """Read one date cell: (datetime64 at midnight, None) or (None, reason in `lang`). A time of day is dropped."""
    s = text.strip()
    if len(s) > MAX_DATE_CHARS:
        return None, say(lang, "r_long_date", n=f"{len(s):,}", max=MAX_DATE_CHARS)
    if odd := odd_digit(s):  # before NFKC, which makes '²' or '①' ASCII digits (docs/data.md)
        return None, say(lang, "r_odd_digit_date", char=describe_char(odd))
    s = unicodedata.normalize("NFKC", s).strip()  # may lengthen a text, hence the second check
    if len(s) > MAX_DATE_CHARS:
        return None, say(lang, "r_long_date", n=f"{len(s):,}", max=MAX_DATE_CHARS)
    match = _TIME_SUFFIX.match(s)
    if match:
        s = match.group(1)
    ymd: tuple[int, int, int] | None = None
    if m := _YMD.fullmatch(s) or _COMPACT.fullmatch(s) or _CHINESE.fullmatch(s):
        ymd = (int(m.group(1)), int(m.group(2)), int(m.group(3)))
    elif m := _DMY_OR_MDY.fullmatch(s):
        a, b, year = int(m.group(1)), int(m.group(3)), int(m.group(4))
        day_first = dayfirst or m.group(2) == "."  # nobody writes month.day.year
        if a > 12 >= b:
            day_first = True
        elif b > 12 >= a:
            day_first = False
        ymd = (year, b, a) if day_first else (year, a, b)
    elif m := _D_MON_Y.fullmatch(s):
        month = _month(m.group(2))
        ymd = (int(m.group(3)), month, int(m.group(1))) if month else None
    elif m := _MON_D_Y.fullmatch(s):
        month = _month(m.group(1))
        ymd = (int(m.group(3)), month, int(m.group(2))) if month else None
    elif excel_serials and _SERIAL.fullmatch(s) and 1 <= float(s) < EXCEL_LAST_SERIAL:
        day = excel_day(float(s))
        ymd = (day.year, day.month, day.day)
    if ymd is None:
        return None, say(lang, "r_not_date")
    try:
        day = date(*ymd)
    except ValueError:
        return None, say(lang, "r_bad_calendar")
    if not FIRST_DATE <= day <= LAST_DATE:
        return None, say(lang, "r_date_hold", first=FIRST_DATE.year, last=LAST_DATE.year)
    return np.datetime64(day, "ns"), None


# A date with a time of day in the shapes CRMs export ("2026-05-23 14:31:07", "2026/5/23 14:31",
# "23/05/2026 14:31", "2026-05-23T14:31:07.250Z"): `parse_date` drops the time (`_TIME_SUFFIX` keeps
# exactly the date part, which holds no space and no T), so the date part alone reads the same. At most
# 50 characters in all: a longer cell is refused by its length (MAX_DATE_CHARS) before any time is dropped.
_DATE_TIME = (r"^(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4})(?:T| {1,20})"
              r"\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?Z?$")


def _to_date(trimmed: pa.Array, dayfirst: bool, excel_serials: bool, lang: str = "en"):
    """(values, missing, reasons by position) for a column of trimmed date cells, read once per
    distinct date: a column of a million dates holds a few thousand (times of day dropped first)."""
    days = trimmed
    if len(trimmed) and pc.any(pc.match_substring(trimmed, ":")).as_py():
        days = pc.replace_substring_regex(trimmed, _DATE_TIME, r"\1")
    encoded = pc.dictionary_encode(days)
    values, missing, reasons = _to_date_cells(encoded.dictionary, dayfirst, excel_serials, lang)
    indices = encoded.indices.to_numpy(zero_copy_only=False)
    bad = np.zeros(len(encoded.dictionary), dtype=bool)
    bad[list(reasons)] = True
    rows = np.flatnonzero(bad[indices])
    row_reasons = {int(row): reasons[int(i)] for row, i in zip(rows, indices[rows])}
    return (pd.Series(values.to_numpy()[indices], dtype="datetime64[ns]", copy=False), missing[indices],
            row_reasons)


def _to_date_cells(trimmed: pa.Array, dayfirst: bool, excel_serials: bool, lang: str = "en"):
    """`_to_date`, cell by cell: ISO dates vectorised, the rest by `parse_date`."""
    n = len(trimmed)
    missing = missing_mask(trimmed)
    values = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    iso = pc.match_substring_regex(trimmed, r"^\d{4}-\d{2}-\d{2}$").to_numpy(zero_copy_only=False)
    if iso.any():
        subset = trimmed.filter(pa.array(iso))
        stamps = pc.strptime(subset, format="%Y-%m-%d", unit="s", error_is_null=True)
        # strptime rolls 2026-02-30 over to March; formatting back catches it
        same = pc.equal(pc.strftime(stamps, format="%Y-%m-%d"), subset).fill_null(False)
        years = pc.year(stamps).fill_null(0).to_numpy(zero_copy_only=False)
        good = same.to_numpy(zero_copy_only=False) & (years >= FIRST_DATE.year) & (years <= LAST_DATE.year)
        positions = np.flatnonzero(iso)
        seconds = stamps.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
        values[positions[good]] = seconds[good].astype("datetime64[s]").astype("datetime64[ns]")
        iso[positions[~good]] = False
    reasons: dict[int, str] = {}
    rest = ~iso & ~missing
    if rest.any():
        positions = np.flatnonzero(rest)
        indices, parsed = by_distinct(
            trimmed.take(pa.array(positions)), lambda t: parse_date(t, dayfirst, excel_serials, lang)
        )
        values[positions], _, reasons = spread(indices, parsed, positions, np.datetime64("NaT", "ns"), "datetime64[ns]")
    return pd.Series(values, dtype="datetime64[ns]"), missing, reasons


# --------------------------------------------------------------------------------------------------
# Messages
