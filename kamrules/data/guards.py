"""Guards on the customer table: hostile Excel files and values.

Excel: an .xlsx is a zip of XML. A 2 MB zip bomb inflated to 4.3 GB; a DTD with an entity bomb or an
external entity (XXE) reached the XML parser; a truncated sheet gave a ParseError traceback. Before
openpyxl opens the file, `xlsx_check` reads only the zip directory (declared sizes and compression
ratios) and the prolog of each XML part (Excel never writes a DTD), and any damage found while reading
is answered with "open it in Excel and save it again" (`damaged_xlsx`).

Values:
One sales value of 1e308 made the portfolio total `inf`: every share became 0 or NaN, every account
Standard, and the run still exited 0; rounding to 9 decimals overflows above ~1.8e299. No amount of
money, count or score in a customer table comes near 1e15 (a quadrillion), so a number beyond
`MAX_MAGNITUDE` is a bad value like any other: reported with its row and column, refused unless
`--on-bad-value missing`, and sums of the rest stay finite.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from pathlib import Path
from xml.etree.ElementTree import ParseError

import numpy as np
import pandas as pd

from kamrules.data.wording import say
from kamrules.errors import DataError

MAX_MAGNITUDE = 1e15
MAX_XLSX_INFLATED = 2 * 1024**3  # all parts together, as declared in the zip directory
MAX_XLSX_RATIO = 200  # Excel's own sheets compress ~10-30x; zip bombs compress 1,000x and more
MAX_XLSX_PARTS = 10_000
EXCEL_ROWS = 1_048_576
_PROLOG_BYTES = 64 * 1024

XLSX_DAMAGE = (zipfile.BadZipFile, zlib.error, ParseError, EOFError, KeyError, ValueError, TypeError,
               IndexError, AttributeError, OSError, OverflowError,
               NotImplementedError, RuntimeError)  # zipfile: unknown compression method, encrypted part


def damaged_xlsx(name: str, exc: BaseException, lang: str = "en") -> str:
    detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
    return say(lang, "xlsx_damaged", name=name, detail=detail, again=say(lang, "xlsx_again"))


def xlsx_check(path: Path, name: str, lang: str = "en") -> None:
    """Raise `DataError` for a workbook that would inflate beyond bounds or carries a DTD."""
    again = say(lang, "xlsx_again")
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
            if len(parts) > MAX_XLSX_PARTS:
                raise DataError(say(lang, "xlsx_parts", name=name, parts=f"{len(parts):,}", again=again))
            total = sum(part.file_size for part in parts)
            if total > MAX_XLSX_INFLATED:
                raise DataError(say(lang, "xlsx_inflate", name=name, total=f"{total:,}", limit=f"{MAX_XLSX_INFLATED:,}"))
            for part in parts:
                if part.file_size > 1024 * 1024 and part.file_size > MAX_XLSX_RATIO * max(part.compress_size, 1):
                    ratio = f"{part.file_size // max(part.compress_size, 1):,}"
                    raise DataError(say(lang, "xlsx_ratio", name=name, part=part.filename, ratio=ratio, again=again))
                if part.filename.endswith((".xml", ".rels", ".vml")) and _has_dtd(archive, part):
                    raise DataError(say(lang, "xlsx_dtd", name=name, part=part.filename, again=again))
    except zipfile.BadZipFile:
        return  # not a zip at all: the reader's own message says so
    except XLSX_DAMAGE as exc:
        raise DataError(damaged_xlsx(name, exc, lang)) from None


def _has_dtd(archive: zipfile.ZipFile, part: zipfile.ZipInfo) -> bool:
    """Whether a DOCTYPE comes before the root element (only the prolog is inflated)."""
    with archive.open(part) as handle:
        prolog = handle.read(_PROLOG_BYTES)
    position = 0
    while True:
        start = prolog.find(b"<", position)
        if start < 0 or start + 1 >= len(prolog):
            return b"<!DOCTYPE" in prolog
        following = prolog[start + 1:start + 2]
        if following not in (b"?", b"!"):
            return False  # the root element: no DTD can follow
        if prolog.startswith(b"<!DOCTYPE", start):
            return True
        position = start + 1


def bound_numbers(kind: str, values: pd.Series, bad_reasons: dict, lang: str = "en") -> dict:
    """Add a reason for every number of a `number`/`integer` field beyond ±MAX_MAGNITUDE (or infinite)."""
    if kind not in ("number", "integer") or values.dtype.kind != "f":
        return bad_reasons
    numbers = values.to_numpy()
    with np.errstate(invalid="ignore"):
        huge = np.flatnonzero(np.isinf(numbers) | (np.abs(numbers) > MAX_MAGNITUDE))
    for position in huge:
        bad_reasons.setdefault(int(position), say(lang, "r_huge", limit=f"{MAX_MAGNITUDE:,.0f}"))
    return bad_reasons


# JSON: the standard parser recurses (100,000 nested arrays: RecursionError), refuses integers over
# 4,300 digits (ValueError) and accepts lone surrogates (`\ud800`) that no later step can encode.
_LONE_SURROGATE = re.compile(r"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
                             r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}")
_MAX_INT_DIGITS = 300


def _int_or_text(digits: str):
    return int(digits) if len(digits) <= _MAX_INT_DIGITS else digits  # huge: kept as text, refused as a number later


class JsonObject(dict):
    """A JSON object that named a key more than once: `repeated` lists those keys (the last value is
    kept, as JSON parsers do; the reader refuses the record instead of letting it win silently)."""

    repeated: tuple = ()


def _json_object(pairs: list) -> dict:
    found = dict(pairs)
    if len(found) == len(pairs):
        return found
    counted: dict = {}
    for key, _ in pairs:
        counted[key] = counted.get(key, 0) + 1
    marked = JsonObject(found)
    marked.repeated = tuple(key for key, n in counted.items() if n > 1)
    return marked


def json_loads(text: str, where: str, lang: str = "en"):
    """`json.loads` that answers hostile JSON with a `DataError` naming `where` (JSONDecodeError passes).
    An object that names a key twice comes back as a `JsonObject` listing the key (see `repeated_keys`)."""
    import json

    if "\\u" in text and (lone := _LONE_SURROGATE.search(text)) is not None:
        line = text.count("\n", 0, lone.start()) + 1
        raise DataError(say(lang, "json_surrogate", where=where, line=line, escape=lone.group()))
    try:
        return json.loads(text, parse_int=_int_or_text, object_pairs_hook=_json_object)
    except RecursionError:
        raise DataError(say(lang, "json_deep", where=where)) from None


def repeated_keys(record) -> tuple:
    """The keys a JSON object (from `json_loads`) named more than once."""
    return getattr(record, "repeated", ())


def typed_or_text(convert, spec, column):
    """Run a typed fast path (Parquet columns); None — read it as text, which names each bad cell —
    when the column does not fit (uint64 above 2^53 cannot be cast exactly, dates outside pandas'
    1677-2262 range cannot become timestamps)."""
    import pyarrow as pa

    try:
        return convert(spec, column)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, AttributeError, OverflowError, ValueError):
        return None


DATE_RANGE = (pd.Timestamp("1800-01-01"), pd.Timestamp("2199-12-31"))  # as --as-of: differences fit in int64 ns


def bound_values(kind: str, values: pd.Series, bad_reasons: dict, lang: str = "en") -> dict:
    """`bound_numbers`, and for dates: a date before 1800 or after 2199 is a bad value (its distance to
    --as-of would overflow pandas' nanoseconds: a 1700 date used to crash the run)."""
    if kind != "date" or values.dtype.kind != "M":
        return bound_numbers(kind, values, bad_reasons, lang)
    stamps = values.dt.tz_localize(None) if getattr(values.dt, "tz", None) is not None else values
    outside = np.flatnonzero(((stamps < DATE_RANGE[0]) | (stamps > DATE_RANGE[1])).to_numpy())
    for position in outside:
        bad_reasons.setdefault(int(position), say(lang, "r_date_accept"))
    return bad_reasons


def csv_failure(name: str, exc: BaseException, lang: str = "en") -> str:
    """The message for a CSV that pyarrow cannot read; "straddling object" means a cell bigger than
    pyarrow's block (1 MB by default), which no customer table has: usually an unclosed quote."""
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "straddling" in message:
        return say(lang, "csv_straddling", name=name)
    return say(lang, "csv_failure", name=name, detail=message)


def parquet_check(table, name: str, lang: str = "en") -> None:
    """A Parquet file whose column names or text values are not UTF-8 (Parquet readers do not check;
    a damaged or hand-made file) is a DataError."""
    import pyarrow as pa

    try:
        names = table.column_names
    except UnicodeDecodeError:
        raise DataError(say(lang, "parquet_names", name=name)) from None
    for column_name, column in zip(names, table.columns):
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            try:
                column.validate(full=True)
            except pa.ArrowInvalid:
                raise DataError(say(lang, "parquet_text", name=name, column=column_name)) from None


# NUL, ESC (ANSI colour and cursor sequences) and the other control characters have no place in a
# customer table; passed through they corrupt outputs and can rewrite the user's terminal. Tab, line
# feed and carriage return stay (multi-line cells are legitimate). RE2 (pyarrow) is linear.
_CONTROLS = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x{80}-\x{9f}]"


def without_controls(text):
    """A pyarrow string array with every control character replaced by U+FFFD (visible, harmless)."""
    import pyarrow.compute as pc

    if not len(text) or not pc.any(pc.match_substring_regex(text, _CONTROLS)).as_py():
        return text
    return pc.replace_substring_regex(text, pattern=_CONTROLS, replacement="\ufffd")


def excel_row_check(number: int, name: str, lang: str = "en") -> None:
    """Excel sheets end at row 1,048,576: a sheet with more rows was not made by Excel (or is a bomb)."""
    if number > EXCEL_ROWS:
        raise DataError(say(lang, "excel_rows", name=name, limit=f"{EXCEL_ROWS:,}"))


# Values that read fine but usually mean a mistake upstream: said as warnings.
# Unicode's default-ignorable code points (DerivedCoreProperties.txt: soft hyphen, combining grapheme
# joiner, Hangul fillers, variation selectors, zero-width and direction marks, tags U+E0000…), the
# braille blank, and white space: none of them changes how an id looks.
_INVISIBLE = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f"
                        "\u202a-\u202e\u2060-\u206f\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8"
                        "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff\\s]")
_LISTED = 5


# The ASCII characters _INVISIBLE matches (\s: tab to carriage return, the separators 0x1c-0x1f, space),
# as an RE2 class: on an ASCII id NFKC changes nothing and casefold is lower().
_ASCII_INVISIBLE = "[" + "".join(f"\\x{{{c:02x}}}" for c in range(128) if _INVISIBLE.match(chr(c))) + "]"


def _id_key(value):
    """What two ids that look alike have in common: NFKC, no invisible characters, case folded."""
    import unicodedata

    return _INVISIBLE.sub("", unicodedata.normalize("NFKC", value)).casefold() if isinstance(value, str) else value


def _lookalike_keys(ids: pd.Series) -> tuple[np.ndarray, list] | None:
    """(positions of the ids that differ but share an `_id_key` with another, their keys), worked out
    on whole columns (pyarrow): ASCII ids in C, others one by one. None when the column holds anything
    but texts and missing values: the caller maps `_id_key` cell by cell."""
    import pyarrow as pa
    import pyarrow.compute as pc

    cells = ids.to_numpy(dtype=object)
    if not set(map(type, cells)) <= {str, type(None), float}:
        return None
    try:
        texts = pa.array(cells, type=pa.string(), from_pandas=True)  # None and NaN: null (never a clash)
    except (pa.ArrowException, UnicodeError, TypeError, ValueError):
        return None
    keys = pc.ascii_lower(pc.replace_substring_regex(texts, pattern=_ASCII_INVISIBLE, replacement=""))
    other = np.flatnonzero(~pc.fill_null(pc.string_is_ascii(texts), True).to_numpy(zero_copy_only=False))
    if len(other):
        mask = np.zeros(len(cells), dtype=bool)
        mask[other] = True
        keys = pc.replace_with_mask(keys, pa.array(mask), pa.array([_id_key(cells[i]) for i in other.tolist()],
                                                                    type=pa.string()))
    # Two ids that are their own keys and share one are the same id: without an id its key changes,
    # no clash (digits, lower-case codes).
    if not pc.any(pc.fill_null(pc.not_equal(keys, texts), False)).as_py():
        return np.zeros(0, dtype=np.int64), []
    shared = _repeated(keys)
    near = np.flatnonzero(shared)  # equal ids have equal keys: a repeated id is among these
    repeated_id = np.zeros(len(cells), dtype=bool)
    repeated_id[near] = _repeated(texts.take(pa.array(near)))
    clash = np.flatnonzero(shared & ~repeated_id)
    return clash, keys.take(pa.array(clash)).to_pylist()


def _repeated(texts) -> np.ndarray:
    """Where a text occurs more than once in the array (`duplicated(keep=False)`; nulls: False)."""
    import pyarrow.compute as pc

    codes = pc.fill_null(pc.dictionary_encode(texts).indices, -1).to_numpy(zero_copy_only=False)
    counts = np.bincount(codes[codes >= 0], minlength=1)
    return (codes >= 0) & (counts[np.maximum(codes, 0)] > 1)


def _shown_id(value) -> str:
    """An id as a warning shows it: its repr, with the invisible characters Python prints as they are
    (Hangul filler U+3164, U+034F, the braille blank …) written as escapes, so the difference shows."""
    def escaped(char: str) -> str:
        return f"\\u{ord(char):04x}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08x}"

    return "".join(escaped(c) if ord(c) > 127 and _INVISIBLE.match(c) else c for c in repr(value))


def _rows(numbers, lang: str = "en") -> str:
    shown = say(lang, "sep").join(str(int(n)) for n in numbers[:_LISTED])
    return shown + (say(lang, "more", n=len(numbers) - _LISTED) if len(numbers) > _LISTED else "")


def suspicious_values(frame: pd.DataFrame, row_numbers, sales_field: str | None,
                      id_field: str = "account_id", lang: str = "en", sales_text: str | None = None) -> list[str]:
    """Warnings for negative sales (credit notes, returns: every share and rank shifts) and for ids
    that look identical but differ by case, width, invisible characters or Unicode form. Each starts
    with "warning: " in `lang`; `sales_text` names the sales field (default: its name)."""
    rows = np.asarray(row_numbers)
    warnings = []
    if sales_field and sales_field in frame and frame[sales_field].dtype.kind == "f":
        negative = np.flatnonzero((frame[sales_field] < 0).to_numpy())
        if len(negative):
            text = say(lang, "negative_sales", n=len(negative), field=sales_text or sales_field,
                       rows=_rows(rows[negative], lang))
            warnings.append(say(lang, "warning", message=text))
    if id_field in frame:
        ids = frame[id_field]
        found = _lookalike_keys(ids)
        if found is None:
            keys = ids.map(_id_key)
            clash = keys.duplicated(keep=False) & ~ids.duplicated(keep=False) & ids.notna()
            ids, keys = ids[clash], keys[clash]
        else:
            positions, texts = found
            ids = ids.iloc[positions]
            keys = pd.Series(texts, index=ids.index)
        for _, group in ids.groupby(keys, sort=True):
            shown = say(lang, "and").join(say(lang, "lookalike_id", value=_shown_id(value), row=int(rows[i]))
                                          for i, value in list(group.items())[:_LISTED])
            if len(group) > _LISTED:  # say how many more, as every list of rows does
                shown += say(lang, "more", n=len(group) - _LISTED)
            warnings.append(say(lang, "warning", message=say(lang, "lookalike_ids", shown=shown)))
    return warnings
