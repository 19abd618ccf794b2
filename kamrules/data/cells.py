"""Cell values, one definition each: what counts as missing, a cell as text, a number as text, a cell
as a plain Python value, Excel's day 0, the delimiter option, and did-you-mean hints.

The reader and the writer both use these, so a value written by kamrules reads back as itself.
Vectorised forms (pyarrow) sit next to the scalar ones they must agree with.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kamrules.i18n import is_missing
from kamrules.language import nodes
from kamrules.language.expr import did_you_mean, whole_number

__all__ = [
    "MISSING_WORDS", "TRUE_WORDS", "FALSE_WORDS", "FIRST_DATE", "LAST_DATE", "EXCEL_EPOCH",
    "excel_day", "days_after", "is_missing", "is_missing_word", "plain_number", "number_text", "cell_text", "plain_value",
    "delimiter_char", "did_you_mean", "missing_mask",
]

# Cells that mean "no value", compared case-insensitively after trimming.
MISSING_WORDS = frozenset({"", "n/a", "na", "#n/a", "-", "--", "—", "null", "none", "nan", "无"})
TRUE_WORDS = frozenset({"yes", "y", "true", "t", "1", "是", "有"})
FALSE_WORDS = frozenset({"no", "n", "false", "f", "0", "否", "无"})

# A Python date range that numpy's datetime64[ns] can hold (the language's, for literals and params too).
FIRST_DATE, LAST_DATE = nodes.FIRST_DATE, nodes.LAST_DATE
EXCEL_EPOCH = date(1899, 12, 30)  # Excel's day 0 once its 1900 leap-year bug is accounted for
EXCEL_LAST_SERIAL = 2958466  # 10000-01-01: Excel holds no later day

def excel_day(serial: float) -> date:
    """The calendar day of an Excel serial day number (46053 -> 2026-01-31); a time of day is dropped."""
    return EXCEL_EPOCH + timedelta(days=int(serial))


def days_after(day: date, days: float) -> date | None:
    """`day` + `days` whole days (negative: before), or None when that is no calendar date (past year
    9999 or before year 1) or `days` is not a finite number: a pack's due-in or review-every output of
    9,000,000 days, or `date("9999-12-31")` + 1, ended in OverflowError (exit 3)."""
    if days != days or days in (float("inf"), float("-inf")):
        return None
    try:
        return day + timedelta(days=int(days))
    except OverflowError:
        return None


def is_missing_word(text: str) -> bool:
    """Whether a (trimmed) text cell means "no value": empty, N/A, -, null, 无 ..."""
    return text.casefold() in MISSING_WORDS


def plain_number(value: float) -> int | float:
    """1200.0 -> 1200 (an int, written without ".0"), 0.35 -> 0.35; very large floats stay floats."""
    whole = whole_number(value)
    return value if whole is None else whole


def number_text(value: float) -> str:
    """1200.0 -> "1200", 0.35 -> "0.35": the shortest text that reads back as the same float."""
    return repr(plain_number(value))


def cell_text(value: Any) -> str:
    """A cell from Excel, JSON or Parquet as the text the user would see in a CSV export."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "" if value != value else number_text(value)
    if isinstance(value, datetime):
        if value.time() == time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def plain_value(value: Any) -> Any:
    """A cell as a plain Python value: None, bool, int, float, str, date/datetime or list."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return [plain_value(item) for item in value]
    if is_missing(value):
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value).to_pydatetime()
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, (datetime, date, str)):
        return value
    return str(value)


def delimiter_char(text: str) -> str | None:
    """The delimiter a `--delimiter` value names (one printable ASCII character, or tab as 'tab' / '\\t');
    None if invalid. A CSV delimiter is one byte to the parser: `--delimiter é` used to crash it."""
    if text in ("\\t", "tab", "TAB", "\t"):
        return "\t"
    return text if len(text) == 1 and " " <= text <= "~" and text != '"' else None


# --------------------------------------------------------------------------------------------------
# Columns of cells (pyarrow): the vectorised forms of the rules above


def missing_mask(trimmed: pa.Array, words: frozenset = MISSING_WORDS) -> np.ndarray:
    """Which cells of a trimmed string column are missing words."""
    lowered = pc.utf8_lower(trimmed)
    value_set = pa.array(sorted(words), type=pa.string())
    return pc.is_in(lowered, value_set=value_set).to_numpy(zero_copy_only=False)


def by_distinct(texts: pa.Array, parse: Callable[[str], tuple[Any, str | None]]) -> tuple[np.ndarray, list]:
    """Parse each distinct value once: (index of each row's distinct value, [(value, reason)])."""
    encoded = pc.dictionary_encode(texts)
    indices = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    parsed = [parse(text) for text in encoded.dictionary.to_pylist()]
    return indices, parsed


def spread(indices: np.ndarray, parsed: list, positions: np.ndarray, empty: Any, dtype: Any):
    """Per-row values, missing mask and reasons from per-distinct parse results.

    `positions[k]` is the row of the k-th parsed text; a result (None, None) is a missing value.
    """
    distinct = np.array([empty if value is None else value for value, _ in parsed] or [empty], dtype=dtype)
    failed = np.array([reason is not None for _, reason in parsed] or [False], dtype=bool)
    absent = np.array([value is None and reason is None for value, reason in parsed] or [False], dtype=bool)
    values = distinct[indices]
    bad = failed[indices]
    reasons = {int(p): parsed[i][1] for p, i in zip(positions[bad], indices[bad])}
    return values, absent[indices], reasons


def from_distinct(trimmed: pa.Array, parse: Callable[[str], tuple[Any, str | None]], dtype: Any):
    """Convert a column whose distinct values are few (booleans, categories) entirely per value."""
    indices, parsed = by_distinct(trimmed, parse)
    values, missing, reasons = spread(indices, parsed, np.arange(len(indices)), None, dtype)
    return pd.Series(values, dtype=dtype), missing, reasons
