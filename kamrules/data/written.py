"""Cells as kamrules writes them: the text of a value, the formula guard (OWASP "CSV injection"),
and the vectorised column texts the CSV, JSON and Excel writers share."""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kamrules.data.cells import number_text, plain_value

LIST_SEPARATOR = "; "
# Text starting with one of these is run by a spreadsheet as a formula (tab and CR too: Excel drops
# them and reads what follows). The vectorised pattern is built from the same tuple.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_PATTERN = "^'*[" + "".join(re.escape(c) for c in _FORMULA_STARTS) + "]"
_CHUNK_ROWS = 16_384  # rows formatted at a time: bounds the Python strings alive at once
_ARROW_ROWS = 65_536  # rows a CSV chunk built column-wise in Arrow holds (no Python string per cell)


def neutralise(text: str) -> str:
    """Prefix "'" to text a spreadsheet would read as a formula (=, +, -, @, tab, CR).

    Text that already starts with apostrophes before such a character gets one more, so that the
    reader, which drops one apostrophe there, gives back exactly the original text.
    """
    return "'" + text if text.lstrip("'").startswith(_FORMULA_STARTS) else text



def guard_formulas(texts: pa.Array) -> pa.Array:
    """`neutralise` for a whole pyarrow string column (nulls stay null)."""
    risky = pc.match_substring_regex(texts, _FORMULA_PATTERN).fill_null(False)
    return pc.if_else(risky, pc.binary_join_element_wise("'", texts, ""), texts)


def unguard_formulas(texts: pa.Array) -> pa.Array:
    """The inverse of `guard_formulas`: one apostrophe before =, +, -, @, tab or CR taken off again, so a
    table kamrules wrote reads back as the values it was made from (`'+86 138…` is the id `+86 138…`)."""
    return pc.replace_substring_regex(texts, "^'('*[" + "".join(re.escape(c) for c in _FORMULA_STARTS) + "])", r"\1")


def _date_text(value: Any) -> str:
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None and stamp == stamp.normalize():
        return stamp.date().isoformat()
    return stamp.isoformat(sep=" ")


def _text(value: Any) -> str:
    """A plain value as CSV text (before neutralising)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return number_text(value)
    if isinstance(value, (datetime, date)):
        return _date_text(value)
    if isinstance(value, list):
        return LIST_SEPARATOR.join(_text(item) for item in value if item is not None)
    return str(value)


def _columns(frame: pd.DataFrame) -> list[tuple[str, list[Any]]]:
    """(header, plain values) for each column, in order."""
    result = []
    for position, name in enumerate(frame.columns):
        series = frame.iloc[:, position]
        if not isinstance(series.dtype, np.dtype):  # pandas extension types (str, boolean, Int64...)
            values = [plain_value(v) for v in series.astype(object).to_numpy()]
        elif series.dtype.kind == "f":
            values = [None if v != v or v in (math.inf, -math.inf) else float(v) for v in series.to_numpy()]
        elif series.dtype.kind in "iu":
            values = [int(v) for v in series.to_numpy()]
        elif series.dtype.kind == "M":
            values = [None if v is pd.NaT else v.to_pydatetime() for v in series]
        else:
            values = [plain_value(v) for v in series.astype(object).to_numpy()]
        result.append((str(name), values))
    return result


def _chunks(frame: pd.DataFrame, rows: int = _CHUNK_ROWS):
    """The frame in slices of `rows` (at least one, so that an empty frame still gets its header)."""
    for start in range(0, max(len(frame), 1), rows):
        yield frame.iloc[start : start + rows]


def _has_time(series: pd.Series) -> bool:
    """Whether a date column holds any time of day (decided once for the whole column)."""
    values = series.to_numpy().astype("datetime64[ns]")
    present = values[~np.isnat(values)]
    return bool((present != present.astype("datetime64[D]")).any())


def _typed_texts(series: pd.Series, has_time: bool | None = None):
    """Numbers, booleans and dates of a numpy-typed column as a pyarrow string array (nulls where
    missing), vectorised: numbers in their shortest exact form (1200, 0.35, 1e+21), dates as ISO text.
    None for any other kind of column."""
    import pyarrow as pa
    import pyarrow.compute as pc

    dtype = series.dtype
    if not isinstance(dtype, np.dtype):
        return None
    values = series.to_numpy()
    if dtype.kind == "f":
        array = pa.array(values, from_pandas=True)  # NaN -> null
        array = pc.if_else(pc.is_finite(array), array, pa.scalar(None, array.type))
        return array.cast(pa.string())
    if dtype.kind in "iu":
        return pa.array(values).cast(pa.string())
    if dtype.kind == "b":
        return pa.array(np.where(values, "true", "false"))
    if dtype.kind == "M":
        values = values.astype("datetime64[ns]")
        if has_time is None:
            has_time = _has_time(series)
        array = pa.array(values, from_pandas=True).cast(pa.timestamp("s"), safe=False)
        return pc.strftime(array, format="%Y-%m-%d %H:%M:%S" if has_time else "%Y-%m-%d")
    return None


def _text_array(series: pd.Series):
    """A column of text (str or missing) as a pyarrow string array; None if it holds anything else."""
    import pyarrow as pa

    objects = series.astype(object).to_numpy()
    try:  # pyarrow checks every cell in C: str, None, NaN, NaT or NA, nothing else
        texts = pa.array(objects, type=pa.string(), from_pandas=True)
        return texts, None
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    return None, objects



def _date_columns(frame: pd.DataFrame) -> dict[int, bool]:
    return {i: _has_time(frame.iloc[:, i]) for i in range(frame.shape[1]) if frame.dtypes.iloc[i].kind == "M"}



def _display_width(text: str) -> int:
    return sum(2 if ord(char) > 0x2E80 else 1 for char in text)


def text_bytes(texts: pa.Array) -> bytes:
    """The concatenated UTF-8 bytes of a pyarrow string array without nulls (no copy per cell)."""
    texts = pa.concat_arrays([texts]) if len(texts) else pa.array([], type=pa.string())  # offsets from 0
    offsets = np.frombuffer(texts.buffers()[1], dtype=np.int32, count=len(texts) + 1)
    return texts.buffers()[2][offsets[0]:offsets[-1]].to_pybytes() if len(texts) else b""
