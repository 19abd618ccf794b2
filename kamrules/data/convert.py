"""Converting one column of text cells to its field's type: numbers, dates, booleans, categories,
strings, and typed Parquet columns used as they are. Returns the values, the missing cells and the
bad cells with their reasons; nothing is guessed."""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kamrules.data.cells import FALSE_WORDS, MISSING_WORDS, TRUE_WORDS, cell_text, from_distinct, missing_mask
from kamrules.data.dates import _to_date
from kamrules.data.guards import bound_values, typed_or_text, without_controls
from kamrules.data.numbers import _to_number
from kamrules.data.options import ReadOptions, _Raw
from kamrules.data.units import OWN_UNIT
from kamrules.data.wording import say, spec_ref
from kamrules.pack.fields import FieldSpec, normalise_header


def _as_text(column: pa.Array) -> pa.Array:
    """A string array without nulls for any column (typed Parquet columns are shown as text)."""
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    if pa.types.is_string(column.type):
        return column.fill_null("") if column.null_count else column
    if pa.types.is_large_string(column.type):
        return column.cast(pa.string()).fill_null("")
    return pa.array([cell_text(value) for value in column.to_pylist()], type=pa.string())


def _without_controls(text: pa.Array) -> pa.Array:
    """`without_controls`, answered from the bytes of the whole column when none of them can be part of a
    control character (the usual case): a scan of one buffer instead of a regular expression per cell."""
    return text if _no_control_bytes(text) else without_controls(text)


_CONTROL_BYTES = np.zeros(256, dtype=bool)
_CONTROL_BYTES[[*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F]] = True


def _no_control_bytes(text: pa.Array) -> bool:
    """True when the data buffer behind a string array holds no control character: no byte of
    U+0000-U+001F (but tab, line feed, carriage return) or U+007F, and no UTF-8 pair C2 80-C2 9F
    (U+0080-U+009F). The buffer may hold more than the array's cells; a hit there only means "look closer"."""
    data = text.buffers()[2]
    if data is None or data.size == 0:
        return True
    raw = np.frombuffer(data, dtype=np.uint8)
    low = raw[raw < 0x20]
    if _CONTROL_BYTES[low].any() or (raw == 0x7F).any():
        return False
    follows = raw[np.flatnonzero(raw[:-1] == 0xC2) + 1]
    return not ((follows >= 0x80) & (follows <= 0x9F)).any()


def _cell_at(column: pa.Array, position: int) -> str:
    value = column[position].as_py()
    return value if isinstance(value, str) else cell_text(value)


def _scaled(values: pd.Series, scale: float, column: pa.Array, bad_reasons: dict, lang: str = "en",
            own_unit_wins: bool = False, whole: bool = False) -> pd.Series:
    """Plain numbers times the column's unit. A cell with its own unit (12万 under 万元) is a bad value
    under a header's unit, never multiplied twice; under a unit the title or the --columns file states,
    the cell's own unit wins (12万 is 120,000). `whole`: the result must be a whole number (an integer
    field counted in months, read in years)."""
    own = pc.match_substring_regex(_without_controls(_as_text(column)), OWN_UNIT).to_numpy(zero_copy_only=False)
    if not own_unit_wins:
        for position in np.flatnonzero(own):
            bad_reasons.setdefault(int(position), say(lang, "r_own_unit"))
    factors = np.where(own & own_unit_wins, 1.0, scale)
    scaled = (values * factors).round(9)
    if whole:
        numbers = scaled.to_numpy(dtype="float64")
        finite = np.isfinite(numbers)
        fractional = np.zeros(len(numbers), dtype=bool)
        fractional[finite] = numbers[finite] != np.floor(numbers[finite])
        for position in np.flatnonzero(fractional):
            bad_reasons.setdefault(int(position), say(lang, "r_not_whole"))
    return scaled


def _outside_range(spec: FieldSpec, values: pd.Series, bad_reasons: dict, lang: str = "en") -> None:
    """A number outside the field's declared `range` (an NPS of 11, a share of wallet of 35 meant as 35%)
    is a bad value, reported with its row like any other."""
    low, high = spec.range
    numbers = pd.to_numeric(values, errors="coerce")
    outside = pd.Series(False, index=numbers.index)
    if low is not None:
        outside |= numbers < low
    if high is not None:
        outside |= numbers > high
    field = spec_ref(spec, lang)
    for position in np.flatnonzero(outside.to_numpy()):
        value = numbers.iloc[position]
        hint = (say(lang, "r_share", percent=f"{value:g}", fraction=f"{value / 100:g}")
                if high == 1 and (low is None or low >= 0) and 1 < value <= 100 else "")
        bad_reasons.setdefault(int(position), say(lang, "r_outside", low=_bound_text(low), high=_bound_text(high),
                                                  field=field, hint=hint))


def _bound_text(bound) -> str:
    if bound is None:
        return "…"
    return f"{bound:g}" if isinstance(bound, float) else str(bound)


def _convert(
    spec: FieldSpec, column: pa.Array, raw: _Raw, options: ReadOptions, scale: float = 1.0,
    own_unit_wins: bool = False, annualise: float = 1.0,
) -> tuple[pd.Series, np.ndarray, list[str]]:
    """(values, positions of bad cells (sorted), their reasons) for one field; `scale` is the column's
    unit (120 under 年销售额(万元) is 1,200,000, see data/units.py); `own_unit_wins` when that unit was not
    said by the header (a cell's own 万 then counts, see `_scaled`); `annualise`: the factor a year to
    date is multiplied by to stand for a whole year (`period: year_to_date`, data/periods.py), every cell.

    A text column whose values repeat (dates, shares, scores, regions) is converted once per distinct
    text and spread back to its rows: every step below reads a cell on its own, so each row gets what
    converting it alone would give."""
    if pa.types.is_string(column.type) and _repeats(column):
        return _convert_distinct(spec, column, raw, options, scale, own_unit_wins, annualise)
    return _convert_cells(spec, column, raw, options, scale, own_unit_wins, annualise)


DISTINCT_SAMPLE = 4096  # leading cells that decide whether a column repeats enough to convert per distinct text


def _repeats(column: pa.Array) -> bool:
    """Whether at most half the leading cells are distinct: encoding a column of unique texts (ids,
    amounts) would cost more than it saves."""
    head = column.slice(0, DISTINCT_SAMPLE)
    return len(head) > 1 and pc.count_distinct(head, mode="all").as_py() * 2 <= len(head)


def _convert_distinct(
    spec: FieldSpec, column: pa.Array, raw: _Raw, options: ReadOptions, scale: float, own_unit_wins: bool = False,
    annualise: float = 1.0,
) -> tuple[pd.Series, np.ndarray, list[str]]:
    """`_convert_cells` on the distinct texts of a string column, spread back to its rows."""
    encoded = pc.dictionary_encode(_as_text(column))
    values, positions, reasons = _convert_cells(spec, encoded.dictionary, raw, options, scale, own_unit_wins,
                                                annualise)
    indices = encoded.indices.to_numpy(zero_copy_only=False)
    bad = np.zeros(len(encoded.dictionary), dtype=bool)
    bad[positions] = True
    rows = np.flatnonzero(bad[indices]).astype(np.int64)
    reason_of = dict(zip(positions.tolist(), reasons))
    row_reasons = [reason_of[i] for i in indices[rows].tolist()]
    return pd.Series(values.to_numpy()[indices], dtype=values.dtype, copy=False), rows, row_reasons


def _convert_cells(
    spec: FieldSpec, column: pa.Array, raw: _Raw, options: ReadOptions, scale: float = 1.0,
    own_unit_wins: bool = False, annualise: float = 1.0,
) -> tuple[pd.Series, np.ndarray, list[str]]:
    """`_convert`, cell by cell."""
    kind = spec.type
    lang = options.lang
    typed = typed_or_text(_convert_typed, spec, column)  # out-of-range Parquet types: via text (guards.py)
    if typed is not None:
        values, missing, bad = typed
        bad_reasons = {int(i): say(lang, "r_not_number") for i in np.flatnonzero(bad)}
    else:
        text = _without_controls(_as_text(column))  # NUL, ANSI escapes: never into outputs or a terminal (guards.py)
        trimmed = pc.utf8_trim_whitespace(text)
        if kind in ("number", "integer"):  # an integer read in another unit is whole once scaled
            values, missing, bad_reasons = _to_number(trimmed, options.decimal, whole=kind == "integer" and scale == 1,
                                                      lang=lang)
        elif kind == "boolean":
            values, missing, bad_reasons = _to_boolean(trimmed, lang)
        elif kind == "date":
            values, missing, bad_reasons = _to_date(trimmed, options.dayfirst, raw.excel_serials, lang)
        elif kind == "category" and spec.values:
            values, missing, bad_reasons = _to_category(trimmed, spec, lang)
        else:
            values, missing, bad_reasons = _to_string(trimmed)
    if scale != 1 and kind in ("number", "integer"):
        values = _scaled(values, scale, column, bad_reasons, lang, own_unit_wins, whole=kind == "integer")
    if annualise != 1 and kind == "number":  # a year to date, as a whole year (data/periods.py)
        values = (values * annualise).round(9)
    bad_reasons = bound_values(kind, values, bad_reasons, lang)  # 1e308, year 1700: totals and ages overflow (guards.py)
    if spec.range:
        _outside_range(spec, values, bad_reasons, lang)
    if spec.required:
        for position in np.flatnonzero(missing):
            bad_reasons.setdefault(int(position), say(lang, "r_required"))
    positions = np.array(sorted(bad_reasons), dtype=np.int64)
    reasons = [bad_reasons[int(p)] for p in positions]
    if len(positions):
        values = _blank_out(values, positions)
    return values, positions, reasons


def _blank_out(values: pd.Series, positions: np.ndarray) -> pd.Series:
    values = values.copy()
    if values.dtype == object:
        values.iloc[positions] = None
    else:
        values.iloc[positions] = np.nan if values.dtype.kind == "f" else pd.NaT
    return values


def _convert_typed(spec: FieldSpec, column: pa.Array):
    """Fast paths for Parquet columns that already have the field's type; None to go through text."""
    kind = column.type
    if spec.type in ("number", "integer") and (
        pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)
    ):
        values = column.cast(pa.float64()).to_numpy(zero_copy_only=False).astype("float64", copy=True)
        missing = np.isnan(values)
        bad = np.isinf(values)
        if spec.type == "integer":
            finite = np.isfinite(values)
            whole = np.zeros_like(finite)
            whole[finite] = values[finite] == np.floor(values[finite])
            if not whole[finite].all():
                return None  # let the text path name the fractional values
        return pd.Series(values, dtype="float64"), missing, bad
    if spec.type == "boolean" and pa.types.is_boolean(kind):
        objects = np.array(column.to_pylist(), dtype=object)
        return pd.Series(objects, dtype=object), pd.isna(objects), np.zeros(len(objects), dtype=bool)
    if spec.type == "date" and (pa.types.is_timestamp(kind) or pa.types.is_date(kind)):
        try:
            series = pd.Series(column.to_pandas())
            if getattr(series.dt, "tz", None) is not None:
                series = series.dt.tz_localize(None)
            values = pd.to_datetime(series).dt.normalize().astype("datetime64[ns]")
        except (pa.ArrowException, OverflowError, ValueError, pd.errors.OutOfBoundsDatetime):
            return None
        missing = values.isna().to_numpy()
        return values.reset_index(drop=True), missing, np.zeros(len(values), dtype=bool)
    return None




def _parse_boolean(text: str, lang: str = "en") -> tuple[bool | None, str | None]:
    word = unicodedata.normalize("NFKC", text).strip().casefold()
    if word in TRUE_WORDS:
        return True, None
    if word in FALSE_WORDS:
        return False, None  # checked before the missing words: "无" is "no" here
    if word in MISSING_WORDS:
        return None, None
    return None, say(lang, "r_not_bool")


def _to_boolean(trimmed: pa.Array, lang: str = "en"):
    return from_distinct(trimmed, lambda text: _parse_boolean(text, lang), object)


def category_reason(spec: FieldSpec, lang: str = "en") -> str:
    """Why a value of a category field was refused: it is none of the allowed values (listed)."""
    allowed = ", ".join(str(v) for v in spec.values[:15]) + (", ..." if len(spec.values) > 15 else "")
    return say(lang, "r_not_one_of", allowed=allowed)


def _to_category(trimmed: pa.Array, spec: FieldSpec, lang: str = "en"):
    lookup: dict[str, str] = {}
    for value in spec.values:
        lookup.setdefault(normalise_header(value), value)
    for alias, value in spec.value_aliases.items():
        lookup.setdefault(normalise_header(alias), value)
    reason = category_reason(spec, lang)

    def parse(text: str) -> tuple[str | None, str | None]:
        key = normalise_header(text)
        if key in lookup:
            return lookup[key], None
        if text.casefold() in MISSING_WORDS:
            return None, None
        return None, reason

    return from_distinct(trimmed, parse, object)


# Strings ---------------------------------------------------------------------------------------------


def _to_string(trimmed: pa.Array):
    missing = missing_mask(trimmed)
    if pc.any(pc.starts_with(trimmed, "'")).as_py():
        # kamrules' writer (and other careful tools) put an apostrophe before =, +, -, @ so that Excel
        # does not run the cell as a formula; it is not part of the value.
        trimmed = pc.replace_substring_regex(trimmed, r"^'('*[=+\-@\t\r])", r"\1")
    values = trimmed.to_numpy(zero_copy_only=False)
    if values.dtype != object:
        values = values.astype(object)
    if missing.any():
        values[missing] = None
    return pd.Series(values, dtype=object, copy=False), missing, {}




def convert_column(spec: FieldSpec, column: pa.Array, options: ReadOptions | None = None,
                   excel_serials: bool = False) -> tuple[pd.Series, np.ndarray, list[str]]:
    """A column of cells converted exactly as `read_table` converts a field's column: (values, positions
    of bad cells, their reasons). `excel_serials`: numbers in a date column are Excel day numbers."""
    raw = _Raw(headers=[spec.name], columns=[column], row_numbers=np.zeros(len(column), dtype=np.int64),
               excel_serials=excel_serials)
    return _convert_cells(spec, column, raw, options or ReadOptions())


def column_texts(column: pa.Array) -> pa.Array:
    """The cells of a column as the texts a CSV export would show (typed Parquet cells too), without
    nulls and with control characters replaced, as every reader sees them."""
    return _without_controls(_as_text(column))


def convert_value(spec: FieldSpec, text: str, options: ReadOptions | None = None) -> tuple[object, str | None]:
    """One cell converted exactly as a cell of a data file in `spec`'s column would be: (the plain value,
    None when missing; the reason it is a bad value, or None). `kamrules test` checks a case's facts
    with it, so `'abc'` for a number or `maybe` for a yes/no field is an error, never a silent gap."""
    from kamrules.data.cells import plain_value

    values, positions, reasons = convert_column(spec, pa.array([text], type=pa.string()), options)
    if len(positions):
        return None, reasons[0]
    value = plain_value(values.iloc[0])
    if spec.type == "date" and value is not None:
        value = value.date()
    return value, None
