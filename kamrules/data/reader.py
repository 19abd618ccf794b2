"""Reading the customer table: CSV/TSV, Excel, Parquet, JSON and JSON Lines into typed columns.

Every cell is read as text first (so "00042" stays "00042") and then converted field by field, with a
vectorised fast path (pyarrow compute) for the common shapes and a per-distinct-value parser for the
rest ("¥1,234", "12万", "(1,200)", "2026年1月31日"). Values that cannot be read are never guessed:
they are reported with the row number the user sees in Excel, the column header and the value.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kamrules.errors import ConfigError, DataError, UsageError
from kamrules.pack.fields import FieldSpec, column_letter, normalise_header

__all__ = [
    "FORMATS", "MISSING_WORDS", "ReadOptions", "DataIssue", "ReadResult", "read_table", "load_column_mapping",
    "parse_number", "parse_date", "issue_text",
]

FORMATS = ("csv", "tsv", "xlsx", "parquet", "json", "jsonl")

_EXTENSIONS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
_FORMAT_NAMES = {
    "csv": "CSV",
    "tsv": "TSV",
    "xlsx": "an Excel workbook (.xlsx)",
    "parquet": "Parquet",
    "json": "JSON",
    "jsonl": "JSON Lines",
}

MAX_LISTED = 20  # problems listed in one error message; the rest are counted
_SAMPLE_BYTES = 64 * 1024
_CHUNK_BYTES = 1 << 20

# Cells that mean "no value", compared case-insensitively after trimming.
MISSING_WORDS = frozenset({"", "n/a", "na", "#n/a", "-", "--", "—", "null", "none", "nan", "无"})
TRUE_WORDS = frozenset({"yes", "y", "true", "t", "1", "是", "有"})
FALSE_WORDS = frozenset({"no", "n", "false", "f", "0", "否", "无"})

# A Python date range that numpy's datetime64[ns] can hold.
_FIRST_DATE, _LAST_DATE = date(1678, 1, 1), date(2261, 12, 31)
_EXCEL_EPOCH = date(1899, 12, 30)  # Excel's day 0 once its 1900 leap-year bug is accounted for


@dataclass
class ReadOptions:
    """How to read the data file; every `None` means "find out from the file"."""

    input_format: str | None = None  # csv|tsv|xlsx|parquet|json|jsonl; None = from the extension
    encoding: str | None = None  # None = auto-detect (UTF-8, UTF-8 BOM, UTF-16 BOM, GB18030, Latin-1)
    delimiter: str | None = None  # None = auto-detect among , ; and tab
    sheet: str | int | None = None  # xlsx sheet name or 0-based index; None = the first sheet
    decimal: str = "."  # "," for "€3.000,50"
    dayfirst: bool = False  # 01/02/2026 is 1 February when true
    on_bad_value: str = "error"  # error|missing
    columns: dict[str, str] | None = None  # field name -> source header (from --columns mapping.yaml)


@dataclass(frozen=True)
class DataIssue:
    """One cell that could not be read (or a required cell that is empty).

    `row` is the row number as the user sees it in Excel (the header is row 1, the first data row is 2);
    for JSON, JSON Lines and Parquet it is the 1-based record (for JSON Lines: line) number.
    """

    row: int
    column: str
    field: str
    value: str
    reason: str


@dataclass
class ReadResult:
    """The typed table and what the reader found out about the file, for the run manifest."""

    frame: pd.DataFrame
    row_numbers: list[int]
    column_map: dict[str, str]
    missing_optional: list[str]
    unused_columns: list[str]
    issues: list[DataIssue]
    source: dict


@dataclass
class _Raw:
    """A table as read from the file, before any field is matched or converted."""

    headers: list[str]
    columns: list[pa.Array]  # string arrays (no nulls) or, for Parquet, typed arrays
    row_numbers: np.ndarray
    unit: str = "row"  # how the user counts records: row (CSV, Excel), record (JSON, Parquet), line
    excel_serials: bool = False  # numbers in date fields are Excel serial day numbers
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None


# --------------------------------------------------------------------------------------------------
# Public API


def read_table(path: Path, fields: Sequence[FieldSpec], options: ReadOptions = ReadOptions()) -> ReadResult:
    """Read `path` and return one typed column per field found in it.

    Raises `DataError` with a message naming the file, the row, the column and the fix for anything
    that cannot be read; with `options.on_bad_value == "missing"` unreadable cells become missing values
    and are listed in `ReadResult.issues` instead.
    """
    path = Path(path)
    name = str(path)
    _check_options(options, fields)
    head = _open_head(path, name)
    fmt = _format_of(path, name, options)
    _check_content(name, fmt, head)
    raw = _READERS[fmt](path, name, head, options)
    raw = _drop_empty_rows(raw)
    if len(raw.row_numbers) == 0:
        raise DataError(f"{name}: has a header row but no data rows; add the accounts below the header")

    matched = _match_columns(name, raw.headers, fields, options.columns or {})
    by_name = {spec.name: spec for spec in fields}
    order = sorted(matched, key=lambda field_name: matched[field_name])  # input order

    data: dict[str, pd.Series] = {}
    problems: list[tuple[int, int, DataIssue]] = []
    n_problems = 0
    keep_all = options.on_bad_value == "missing"
    for field_name in order:
        index = matched[field_name]
        spec = by_name[field_name]
        column = raw.columns[index]
        values, bad_positions, bad_reasons = _convert(spec, column, raw, options)
        data[field_name] = values
        n_problems += len(bad_positions)
        limit = len(bad_positions) if keep_all else MAX_LISTED
        for position, reason in zip(bad_positions[:limit], bad_reasons[:limit]):
            problems.append((
                int(raw.row_numbers[position]),
                index,
                DataIssue(
                    row=int(raw.row_numbers[position]),
                    column=raw.headers[index],
                    field=field_name,
                    value=_cell_at(column, int(position)),
                    reason=reason,
                ),
            ))
    problems.sort(key=lambda item: item[:2])
    issues = [issue for _, _, issue in problems]

    messages = []
    if n_problems and not keep_all:
        messages.append(_bad_values_message(name, raw.unit, issues, n_problems))
    if "account_id" in data:
        duplicates = _duplicate_ids_message(name, raw, data["account_id"], raw.headers[matched["account_id"]])
        if duplicates:
            messages.append(duplicates)
    if messages:
        raise DataError("\n".join(messages))

    frame = pd.DataFrame(data, index=pd.RangeIndex(len(raw.row_numbers)))
    return ReadResult(
        frame=frame,
        row_numbers=[int(r) for r in raw.row_numbers],
        column_map={field_name: raw.headers[matched[field_name]] for field_name in order},
        missing_optional=[spec.name for spec in fields if not spec.required and spec.name not in matched],
        unused_columns=[h for i, h in enumerate(raw.headers) if i not in set(matched.values())],
        issues=issues if keep_all else [],
        source={
            "path": name,
            "format": fmt,
            "encoding": raw.encoding,
            "delimiter": raw.delimiter,
            "sheet": raw.sheet,
            "rows": len(raw.row_numbers),
        },
    )


def load_column_mapping(path: Path) -> dict[str, str]:
    """Load a `--columns` file: YAML lines `field: Source Column`. Raises `ConfigError` when malformed."""
    from kamrules.pack.yamlsrc import load_yaml

    path = Path(path)
    name = str(path)
    if path.is_dir():
        raise ConfigError(f"{name}: is a folder; --columns expects a YAML file like 'sales: Sales Amount'")
    if not path.exists():
        raise ConfigError(f"{name}: no such file; check the --columns path")
    document, diagnostics = load_yaml(path)
    errors = [d for d in diagnostics if d.severity == "error"]
    if errors:
        raise ConfigError("\n".join(str(d) for d in errors))
    if document is None:
        raise ConfigError(f"{name}: is empty; write one line per field, like 'sales: Sales Amount'")
    if not isinstance(document, dict):
        where = getattr(document, "loc", name)
        raise ConfigError(
            f"{where}: a column mapping maps field names to column headers, like 'sales: Sales Amount'"
        )
    mapping: dict[str, str] = {}
    problems = []
    for key, value in document.items():
        key_loc = document.key_loc(key) if hasattr(document, "key_loc") else name
        value_loc = document.value_loc(key) if hasattr(document, "value_loc") else name
        if not isinstance(key, str):
            problems.append(f"{key_loc}: '{key}' is not a field name")
            continue
        if value is None or isinstance(value, (bool, dict, list)):
            found = {type(None): "nothing", bool: f"'{value}'", dict: "a mapping"}.get(type(value), "a list")
            problems.append(f"{value_loc}: field '{key}': expected a column header, found {found}")
            continue
        if isinstance(value, (date, datetime)):
            value = value.isoformat()
        mapping[key] = str(value)
    if problems:
        raise ConfigError("\n".join(problems))
    return mapping


# --------------------------------------------------------------------------------------------------
# Options, file checks and format


def _check_options(options: ReadOptions, fields: Sequence[FieldSpec]) -> None:
    if options.input_format is not None and options.input_format not in FORMATS:
        raise UsageError(f"unknown input format '{options.input_format}'; use one of: {', '.join(FORMATS)}")
    if options.decimal not in (".", ","):
        raise UsageError(f"--decimal must be '.' or ',', not '{options.decimal}'")
    if options.on_bad_value not in ("error", "missing"):
        raise UsageError(f"--on-bad-value must be 'error' or 'missing', not '{options.on_bad_value}'")
    if options.delimiter is not None and _delimiter(options.delimiter) is None:
        raise UsageError(f"--delimiter must be one character (or 'tab'), not '{options.delimiter}'")
    if options.encoding is not None:
        try:
            codecs.lookup(options.encoding)
        except LookupError:
            raise UsageError(
                f"unknown encoding '{options.encoding}'; use for example utf-8, gb18030 or latin-1"
            ) from None
    if options.columns:
        known = [spec.name for spec in fields]
        for field_name in options.columns:
            if field_name not in known:
                close = difflib.get_close_matches(field_name, known, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise ConfigError(
                    f"--columns: unknown field '{field_name}'{hint}; the pack's fields are: {', '.join(known)}"
                )


def _delimiter(text: str) -> str | None:
    if text in ("\\t", "tab", "TAB", "\t"):
        return "\t"
    return text if len(text) == 1 and text not in "\r\n\"" else None


def _format_of(path: Path, name: str, options: ReadOptions) -> str:
    if options.input_format:
        return options.input_format
    suffix = path.suffix.lower()
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    if suffix == ".xls":
        raise DataError(f"{name}: old Excel 97-2003 workbooks (.xls) cannot be read; open it in Excel and save as .xlsx or CSV")
    shown = f"extension '{path.suffix}'" if path.suffix else "no extension"
    raise DataError(
        f"{name}: cannot tell the format from {shown}; pass --input-format "
        "csv, tsv, xlsx, parquet, json or jsonl"
    )


def _open_head(path: Path, name: str) -> bytes:
    """The first bytes of the file, after checking that it is a readable, non-empty file."""
    try:
        if path.is_dir():
            raise DataError(f"{name}: is a folder, not a data file; pass the file inside it")
        with open(path, "rb") as handle:
            head = handle.read(_SAMPLE_BYTES)
    except FileNotFoundError:
        raise DataError(f"{name}: no such file; check the path") from None
    except PermissionError:
        raise DataError(f"{name}: cannot be opened (permission denied)") from None
    except IsADirectoryError:
        raise DataError(f"{name}: is a folder, not a data file; pass the file inside it") from None
    except OSError as exc:
        raise DataError(f"{name}: cannot be read ({exc.strerror or exc})") from None
    if not head.strip(b" \t\r\n" + codecs.BOM_UTF8):
        raise DataError(f"{name}: the file is empty")
    return head


def _sniff_kind(head: bytes) -> str:
    """What the first bytes look like: xlsx (zip), parquet, xls (OLE), text or binary."""
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "text"
    if b"\x00" in head:
        return "binary"
    controls = sum(head.count(bytes([c])) for c in range(32) if c not in (9, 10, 12, 13))
    return "binary" if controls > len(head) // 20 else "text"


def _check_content(name: str, fmt: str, head: bytes) -> None:
    kind = _sniff_kind(head)
    expected = {"xlsx": "xlsx", "parquet": "parquet"}.get(fmt, "text")
    if kind == expected:
        return
    what = _FORMAT_NAMES[fmt]
    if kind == "xls":
        raise DataError(
            f"{name}: is an old Excel 97-2003 workbook (.xls), not {what}; open it in Excel and save as .xlsx or CSV"
        )
    if kind == "binary":
        raise DataError(
            f"{name}: is not {what}: it contains binary data; export the data as CSV, Excel (.xlsx), Parquet or JSON"
        )
    looks = {"xlsx": "an Excel workbook (.xlsx)", "parquet": "a Parquet file", "text": "a text file (CSV or JSON)"}[kind]
    suggestion = {"xlsx": "xlsx", "parquet": "parquet", "text": "csv"}[kind]
    rename = {"xlsx": ".xlsx", "parquet": ".parquet", "text": ".csv"}[kind]
    raise DataError(
        f"{name}: is not {what}: it looks like {looks}; rename it to {rename} or pass --input-format {suggestion}"
    )


# --------------------------------------------------------------------------------------------------
# Text encodings


def _decode_error(path: Path, encoding: str) -> tuple[int, bytes] | None:
    """Where (byte offset, bad bytes) `path` stops being valid `encoding`; None if it all decodes."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    offset = 0
    with open(path, "rb") as handle:
        while True:
            chunk = handle.read(_CHUNK_BYTES)
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                start = offset - pending + exc.start
                return start, exc.object[exc.start : exc.end]
            except UnicodeError:  # e.g. --encoding utf-16 on a file without a byte-order mark
                return offset, chunk[:2]
            if not chunk:
                return None
            offset += len(chunk)


def _line_of(path: Path, offset: int) -> int:
    """The 1-based line number holding byte `offset`."""
    lines = 1
    remaining = offset
    with open(path, "rb") as handle:
        while remaining > 0:
            chunk = handle.read(min(_CHUNK_BYTES, remaining))
            if not chunk:
                break
            lines += chunk.count(b"\n")
            remaining -= len(chunk)
    return lines


def _looks_chinese(text: str) -> bool:
    """GB18030 decodes almost any byte string; real Chinese text is mostly GB2312 characters, while
    Latin-1 accents read as GB18030 give rare characters (their second byte is usually ASCII)."""
    wide = [c for c in text if ord(c) > 127]
    if not wide:
        return False
    common = 0
    for char in wide:
        try:
            char.encode("gb2312")
            common += 1
        except UnicodeEncodeError:
            pass
    return common * 2 >= len(wide)


def _detect_encoding(path: Path, head: bytes) -> tuple[str, tuple[int, bytes] | None]:
    """(encoding, where it fails to decode the file or None): UTF-8 with or without BOM, UTF-16 with
    BOM, GB18030, or Latin-1/cp1252. Deterministic; each candidate is checked on the whole file."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", _decode_error(path, "utf-8-sig")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", _decode_error(path, "utf-16")
    failure = _decode_error(path, "utf-8")
    if failure is None:
        return "utf-8", None
    offset, _ = failure
    prefix = head[:offset] if offset <= len(head) else head
    if sum(1 for b in prefix if b >= 0xC0) >= 8:
        # Plenty of valid UTF-8 before the broken byte: a damaged or mixed file, not another encoding.
        return "utf-8", failure
    if _decode_error(path, "gb18030") is None:
        sample = codecs.getincrementaldecoder("gb18030")(errors="ignore").decode(head[: 1 << 16])
        if _looks_chinese(sample):
            return "gb18030", None
    if any(0x80 <= b <= 0x9F for b in head) and _decode_error(path, "cp1252") is None:
        return "cp1252", None  # the Windows superset of Latin-1: € and curly quotes in 0x80-0x9F
    return "latin-1", None


def _choose_encoding(path: Path, name: str, head: bytes, options: ReadOptions) -> str:
    if options.encoding is None:
        encoding, failure = _detect_encoding(path, head)
    else:
        encoding, failure = options.encoding, _decode_error(path, options.encoding)
    if failure is None:
        return encoding
    offset, bad = failure
    line = _line_of(path, offset)
    shown = " ".join(f"0x{b:02x}" for b in bad[:4])
    if options.encoding is None:
        return_hint = "the file mixes encodings; save it again as UTF-8, or pass --encoding gb18030 or --encoding latin-1"
        label = "UTF-16" if encoding == "utf-16" else "UTF-8"
        raise DataError(f"{name}: row {line} is not valid {label} (bytes {shown}) although the rows before are; {return_hint}")
    detected, detected_failure = _detect_encoding(path, head)
    if codecs.lookup(detected).name != codecs.lookup(encoding).name and detected_failure is None:
        hint = f"the file looks like {detected}: pass --encoding {detected}"
    else:
        hint = "pass the file's real encoding with --encoding (for example utf-8, gb18030 or latin-1)"
    raise DataError(f"{name}: row {line} cannot be read as {encoding} (bytes {shown}); {hint}")


def _sample_text(head: bytes, encoding: str) -> str:
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    return decoder.decode(head, final=False)


# --------------------------------------------------------------------------------------------------
# Readers: each returns a _Raw of text columns


def _sniff_delimiter(sample: str, complete: bool) -> str:
    """The delimiter among , ; and tab that gives the header most columns and every sampled row the
    same number of values; ties go to , then ; then tab. Deterministic, unlike csv.Sniffer."""
    best, best_score = ",", (-1, -1)
    for rank, candidate in enumerate((",", ";", "\t")):
        records = list(csv.reader(io.StringIO(sample, newline=""), delimiter=candidate))[:51]
        if not complete and len(records) > 1:
            records = records[:-1]  # the sample may end in the middle of a record
        records = [r for r in records if r]
        if not records:
            continue
        width = len(records[0])
        if width < 2:
            continue
        consistent = sum(1 for r in records[1:] if len(r) == width)
        score = (int(consistent == len(records) - 1), consistent, width, -rank)
        if score > best_score:
            best, best_score = candidate, score
    return best


def _read_csv(path: Path, name: str, head: bytes, options: ReadOptions, *, tsv: bool = False) -> _Raw:
    import pyarrow.csv as pacsv

    encoding = _choose_encoding(path, name, head, options)
    sample = _sample_text(head, encoding)
    if sample.startswith("\ufeff"):
        sample = sample[1:]
    lines = sample.split("\n")
    skip = 0  # blank lines above the header
    while skip < len(lines) - 1 and not lines[skip].strip():
        skip += 1
    sample = "\n".join(lines[skip:])
    complete = len(head) < _SAMPLE_BYTES
    if options.delimiter is not None:
        delimiter = _delimiter(options.delimiter) or ","
    elif tsv:
        delimiter = "\t"
    else:
        delimiter = _sniff_delimiter(sample, complete)
    header = next(csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter), [])
    width = max(len(header), 1)
    bad_rows: list[tuple[int, int]] = []

    def on_invalid_row(row: Any) -> str:
        bad_rows.append((row.number, row.actual_columns))  # counts the skipped lines too
        return "skip"

    arrow_encoding = "utf8" if codecs.lookup(encoding).name in ("utf-8", "utf-8-sig") else encoding
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(
                use_threads=False,  # keeps row numbers in invalid-row reports
                encoding=arrow_encoding,
                skip_rows=skip,
                autogenerate_column_names=True,
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                newlines_in_values=True,
                ignore_empty_lines=False,
                invalid_row_handler=on_invalid_row,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={f"f{i}": pa.string() for i in range(width)},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                null_values=[],
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise DataError(csv_failure(name, exc)) from None  # cells over 1 MB: say so (guards.py)
    shown = "tab" if delimiter == "\t" else f"'{delimiter}'"
    if bad_rows:
        lines = [f"row {number}: {actual} values" for number, actual in bad_rows[:MAX_LISTED]]
        if len(bad_rows) > MAX_LISTED:
            lines.append(f"and {len(bad_rows) - MAX_LISTED} more")
        fix = f"check the delimiter (read as {shown}; pass --delimiter to choose another) and the quotes"
        if len(bad_rows) == 1:
            number, actual = bad_rows[0]
            raise DataError(f"{name}: row {number} has {actual} values but the header has {width} columns; {fix}")
        raise DataError(
            f"{name}: {len(bad_rows)} rows do not have the header's {width} columns; {fix}:\n  " + "\n  ".join(lines)
        )
    if table.num_rows == 0:
        raise DataError(f"{name}: the file is empty")
    columns = [table.column(i).combine_chunks() for i in range(table.num_columns)]
    headers = [str(value) for value in (column[0].as_py() for column in columns)]
    if headers and headers[0].startswith("\ufeff"):
        headers[0] = headers[0][1:]
    return _Raw(
        headers=_display_headers(headers),
        columns=[column.slice(1) for column in columns],
        row_numbers=np.arange(skip + 2, skip + table.num_rows + 1, dtype=np.int64),
        encoding=encoding,
        delimiter=delimiter,
    )


def _read_tsv(path: Path, name: str, head: bytes, options: ReadOptions) -> _Raw:
    return _read_csv(path, name, head, options, tsv=True)


def _read_xlsx(path: Path, name: str, head: bytes, options: ReadOptions) -> _Raw:
    import zipfile

    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    xlsx_check(path, name)  # zip bombs, DTDs and entity bombs: refused before inflating (guards.py)
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError, *XLSX_DAMAGE) as exc:
        raise DataError(f"{name}: is not a valid Excel workbook ({exc}); open it in Excel and save it again as .xlsx") from None
    try:
        sheet = _pick_sheet(name, workbook, options.sheet)
        sheet.reset_dimensions()  # some writers record wrong sheet sizes; read what is really there
        rows = sheet.iter_rows(min_row=1, min_col=1, values_only=True)
        header: list[str] = []
        header_row = 0
        for number, row in enumerate(rows, start=1):
            cells = [_cell_text(value) for value in row]
            if any(cell.strip() for cell in cells):
                header, header_row = cells, number
                break
        if not header:
            raise DataError(f"{name}: sheet '{sheet.title}' is empty; pass --sheet to read another sheet")
        while header and not header[-1].strip():
            header.pop()
        width = len(header)
        values: list[list[str]] = [[] for _ in range(width)]
        numbers: list[int] = []
        for number, row in enumerate(rows, start=header_row + 1):
            excel_row_check(number, name)  # more rows than Excel allows (guards.py)
            cells = [_cell_text(value) for value in row[:width]]
            cells.extend("" for _ in range(width - len(cells)))
            for column, cell in zip(values, cells):
                column.append(cell)
            numbers.append(number)
    except XLSX_DAMAGE as exc:  # a truncated or hand-crafted sheet: never a traceback
        raise DataError(damaged_xlsx(name, exc)) from None
    finally:
        workbook.close()
    return _Raw(
        headers=_display_headers(header),
        columns=[pa.array(column, type=pa.string()) for column in values],
        row_numbers=np.array(numbers, dtype=np.int64),
        excel_serials=True,
        sheet=sheet.title,
    )


def _pick_sheet(name: str, workbook: Any, wanted: str | int | None) -> Any:
    sheets = workbook.worksheets
    titles = [ws.title for ws in sheets]
    if wanted is None:
        if not sheets:
            raise DataError(f"{name}: the workbook has no sheets")
        return sheets[0]
    if isinstance(wanted, str) and wanted in titles:
        return sheets[titles.index(wanted)]
    index = wanted if isinstance(wanted, int) else int(wanted) if str(wanted).strip().isdigit() else None
    if index is not None and 0 <= index < len(sheets):
        return sheets[index]
    listed = ", ".join(f"'{t}'" for t in titles)
    raise DataError(
        f"{name}: no sheet '{wanted}'; the sheets are {listed} (pass --sheet with a name or a 0-based number)"
    )


def _read_parquet(path: Path, name: str, head: bytes, options: ReadOptions) -> _Raw:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"{name}: is not a valid Parquet file ({message})") from None
    parquet_check(table, name)  # damaged column names (guards.py)
    if table.num_columns == 0:
        raise DataError(f"{name}: the file is empty")
    return _Raw(
        headers=_display_headers([str(n) for n in table.column_names]),
        columns=[table.column(i).combine_chunks() for i in range(table.num_columns)],
        row_numbers=np.arange(1, table.num_rows + 1, dtype=np.int64),
        unit="record",
    )


def _read_json(path: Path, name: str, head: bytes, options: ReadOptions, *, lines: bool = False) -> _Raw:
    encoding = _choose_encoding(path, name, head, options)
    text = path.read_bytes().decode(encoding)
    if text.startswith("\ufeff"):
        text = text[1:]
    records: list[tuple[int, Any]] = []
    if lines:
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append((number, json_loads(line, f"{name}: line {number}")))
            except json.JSONDecodeError as exc:
                raise DataError(f"{name}: line {number} is not valid JSON (column {exc.colno}: {exc.msg})") from None
        if not records:
            raise DataError(f"{name}: the file is empty")
    else:
        try:
            document = json_loads(text, name)  # hostile JSON: a message (guards.py)
        except json.JSONDecodeError as exc:
            raise DataError(f"{name}: is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
        if not isinstance(document, list):
            raise DataError(
                f"{name}: expected an array of records like [{{\"account_id\": \"A1\", ...}}], "
                f"found {_json_kind(document)}"
            )
        if not document:
            raise DataError(f"{name}: the array has no records")
        records = list(enumerate(document, start=1))
    unit = "line" if lines else "record"
    keys: dict[str, None] = {}
    for number, record in records:
        if not isinstance(record, dict):
            raise DataError(f"{name}: {unit} {number} is {_json_kind(record)}, not an object with field names")
        keys.update(dict.fromkeys(str(k) for k in record))
    headers = list(keys)
    columns = [
        pa.array([_cell_text(record.get(key)) for _, record in records], type=pa.string()) for key in headers
    ]
    return _Raw(
        headers=headers,
        columns=columns,
        row_numbers=np.array([number for number, _ in records], dtype=np.int64),
        unit=unit,
        encoding=encoding,
    )


def _read_jsonl(path: Path, name: str, head: bytes, options: ReadOptions) -> _Raw:
    return _read_json(path, name, head, options, lines=True)


def _json_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    return "a number" if not isinstance(value, bool) else "a boolean"


_READERS: dict[str, Callable[[Path, str, bytes, ReadOptions], _Raw]] = {
    "csv": _read_csv,
    "tsv": _read_tsv,
    "xlsx": _read_xlsx,
    "parquet": _read_parquet,
    "json": _read_json,
    "jsonl": _read_jsonl,
}


def _cell_text(value: Any) -> str:
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
        if value != value:
            return ""
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
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


def _display_headers(headers: list[str]) -> list[str]:
    """Headers as messages show them; a blank header becomes '(column C)'."""
    return [h if h.strip() else f"(column {column_letter(i)})" for i, h in enumerate(headers)]




def _is_blank(column: pa.Array) -> np.ndarray:
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        trimmed = pc.utf8_trim_whitespace(column.fill_null(""))
        return pc.equal(trimmed, "").to_numpy(zero_copy_only=False)
    blank = pc.is_null(column, nan_is_null=pa.types.is_floating(column.type))
    return blank.to_numpy(zero_copy_only=False)


def _drop_empty_rows(raw: _Raw) -> _Raw:
    """Rows with no value in any column (Excel's trailing ',,,,' lines) are not accounts."""
    if not raw.columns:
        return raw
    # Narrow the candidates column by column: after the first column almost none are left.
    candidates = np.arange(len(raw.row_numbers))
    for column in raw.columns:
        if not len(candidates):
            return raw
        subset = column if len(candidates) == len(column) else column.take(pa.array(candidates))
        candidates = candidates[_is_blank(subset)]
    if not len(candidates):
        return raw
    keep = np.ones(len(raw.row_numbers), dtype=bool)
    keep[candidates] = False
    mask = pa.array(keep)
    raw.columns = [column.filter(mask) for column in raw.columns]
    raw.row_numbers = raw.row_numbers[keep]
    return raw


# --------------------------------------------------------------------------------------------------
# Matching columns to fields


def _quoted(items: Sequence[str], limit: int = 30) -> str:
    shown = ", ".join(f"'{item}'" for item in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _match_columns(
    name: str, headers: list[str], fields: Sequence[FieldSpec], mapping: Mapping[str, str]
) -> dict[str, int]:
    """field name -> column index. Ambiguity is an error, never a guess."""
    normalised = [normalise_header(h) for h in headers]
    problems: list[str] = []
    matched: dict[str, int] = {}
    for field_name, wanted in mapping.items():
        exact = [i for i, h in enumerate(headers) if h == wanted]
        loose = [i for i, n in enumerate(normalised) if n and n == normalise_header(wanted)]
        found = exact or loose
        if len(found) == 1:
            matched[field_name] = found[0]
        elif not found:
            problems.append(
                f"--columns maps field '{field_name}' to '{wanted}', which is not a column of this file; "
                f"columns found: {_quoted(headers)}"
            )
        else:
            problems.append(
                f"--columns maps field '{field_name}' to '{wanted}', but columns "
                f"{_quoted([headers[i] for i in found])} all have that header; rename all but one"
            )
    claimed = set(matched.values())
    candidates: dict[str, list[int]] = {}
    for spec in fields:
        if spec.name in mapping:
            continue
        keys = {normalise_header(h) for h in spec.header_names()} - {""}
        candidates[spec.name] = [i for i, n in enumerate(normalised) if i not in claimed and n in keys]
    fields_of_column: dict[int, list[str]] = {}
    for field_name, found in candidates.items():
        for index in found:
            fields_of_column.setdefault(index, []).append(field_name)
    reported_columns = set()
    for index in sorted(fields_of_column):
        names = fields_of_column[index]
        if len(names) > 1:
            reported_columns.add(index)
            listed = " and ".join(f"'{n}'" for n in names)
            problems.append(
                f"column '{headers[index]}' matches fields {listed}; choose with --columns "
                f"(for example {names[0]}: {headers[index]})"
            )
    by_name = {spec.name: spec for spec in fields}
    for field_name, found in candidates.items():
        if len(found) > 1:
            listed = " and ".join(f"'{headers[i]}'" for i in found)
            problems.append(
                f"field '{field_name}' matches columns {listed}; rename or remove one, "
                f"or choose one with --columns ({field_name}: {headers[found[0]]})"
            )
        elif len(found) == 1:
            if found[0] not in reported_columns:
                matched[field_name] = found[0]
        elif by_name[field_name].required:
            problems.append(_not_found(field_name, by_name[field_name], headers, normalised))
    if problems:
        if len(problems) == 1:
            raise DataError(f"{name}: {problems[0]}")
        raise DataError(f"{name}: {len(problems)} problems with the columns:\n  " + "\n  ".join(problems))
    return matched


def _not_found(field_name: str, spec: FieldSpec, headers: list[str], normalised: list[str]) -> str:
    looked_for = ", ".join(spec.header_names())
    keys = [normalise_header(h) for h in spec.header_names()]
    close: list[str] = []
    for key in keys:
        for hit in difflib.get_close_matches(key, [n for n in normalised if n], n=3, cutoff=0.6):
            for i, n in enumerate(normalised):
                if n == hit and headers[i] not in close:
                    close.append(headers[i])
    closest = f"; closest: {_quoted(close[:3])}" if close else ""
    return (
        f"required field '{field_name}' not found (looked for: {looked_for}); columns found: "
        f"{_quoted(headers)}{closest}; rename the column or map it with --columns ({field_name}: <column>)"
    )


# --------------------------------------------------------------------------------------------------
# Converting one column to its field type


def _as_text(column: pa.Array) -> pa.Array:
    """A string array without nulls for any column (typed Parquet columns are shown as text)."""
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    if pa.types.is_string(column.type):
        return column.fill_null("") if column.null_count else column
    if pa.types.is_large_string(column.type):
        return column.cast(pa.string()).fill_null("")
    return pa.array([_cell_text(value) for value in column.to_pylist()], type=pa.string())


def _cell_at(column: pa.Array, position: int) -> str:
    value = column[position].as_py()
    return value if isinstance(value, str) else _cell_text(value)


def _lower_set(words: frozenset) -> pa.Array:
    return pa.array(sorted(words), type=pa.string())


def _missing_mask(trimmed: pa.Array, words: frozenset = MISSING_WORDS) -> np.ndarray:
    lowered = pc.utf8_lower(trimmed)
    return pc.is_in(lowered, value_set=_lower_set(words)).to_numpy(zero_copy_only=False)


def _by_distinct(texts: pa.Array, parse: Callable[[str], tuple[Any, str | None]]) -> tuple[np.ndarray, list]:
    """Parse each distinct value once: (index of each row's distinct value, [(value, reason)])."""
    encoded = pc.dictionary_encode(texts)
    indices = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    parsed = [parse(text) for text in encoded.dictionary.to_pylist()]
    return indices, parsed


def _spread(indices: np.ndarray, parsed: list, positions: np.ndarray, empty: Any, dtype: Any):
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


def _from_distinct(trimmed: pa.Array, parse: Callable[[str], tuple[Any, str | None]], dtype: Any):
    """Convert a column whose distinct values are few (booleans, categories) entirely per value."""
    indices, parsed = _by_distinct(trimmed, parse)
    values, missing, reasons = _spread(indices, parsed, np.arange(len(indices)), None, dtype)
    return pd.Series(values, dtype=dtype), missing, reasons


from kamrules.data.guards import (  # noqa: E402 - hardening guards (issue #15), one call each below
    XLSX_DAMAGE, bound_values, csv_failure, damaged_xlsx, excel_row_check, json_loads, parquet_check,
    typed_or_text, without_controls, xlsx_check,
)


def _convert(
    spec: FieldSpec, column: pa.Array, raw: _Raw, options: ReadOptions
) -> tuple[pd.Series, np.ndarray, list[str]]:
    """(values, positions of bad cells (sorted), their reasons) for one field."""
    kind = spec.type
    typed = typed_or_text(_convert_typed, spec, column)  # out-of-range Parquet types: via text (guards.py)
    if typed is not None:
        values, missing, bad = typed
        bad_reasons = {int(i): "is not a number" for i in np.flatnonzero(bad)}
    else:
        text = without_controls(_as_text(column))  # NUL, ANSI escapes: never into outputs or a terminal (guards.py)
        trimmed = pc.utf8_trim_whitespace(text)
        if kind in ("number", "integer"):
            values, missing, bad_reasons = _to_number(trimmed, options.decimal, whole=kind == "integer")
        elif kind == "boolean":
            values, missing, bad_reasons = _to_boolean(trimmed)
        elif kind == "date":
            values, missing, bad_reasons = _to_date(trimmed, options.dayfirst, raw.excel_serials)
        elif kind == "category" and spec.values:
            values, missing, bad_reasons = _to_category(trimmed, spec)
        else:
            values, missing, bad_reasons = _to_string(trimmed)
    bad_reasons = bound_values(kind, values, bad_reasons)  # 1e308, year 1700: totals and ages overflow (guards.py)
    if spec.required:
        for position in np.flatnonzero(missing):
            bad_reasons.setdefault(int(position), "is missing but the field is required")
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


# Numbers --------------------------------------------------------------------------------------------

_PLAIN_NUMBER = {
    ".": r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$",
    ",": r"^[+-]?(?:\d+,?\d*|,\d+)$",
}
_GROUPED = {
    ".": re.compile(r"\d{1,3}(?:[,\s'’]\d{3})+(?:\.\d*)?"),
    ",": re.compile(r"\d{1,3}(?:[.\s'’]\d{3})+(?:,\d*)?"),
}
_PLAIN = {
    ".": re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"),
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
_CURRENCY_AFTER = re.compile(r"\s*(?:元|" + _CURRENCY + r")$", re.IGNORECASE)
_UNITS = {"千": Decimal(1000), "万": Decimal(10_000), "亿": Decimal(100_000_000)}


def parse_number(text: str, decimal: str = ".") -> tuple[float | None, str | None]:
    """Read one number cell: (value, None) or (None, reason). Missing words are not handled here."""
    s = unicodedata.normalize("NFKC", text).strip()
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
    s = _CURRENCY_AFTER.sub("", s, count=1)
    scale = Decimal(1)
    if s.endswith("%"):
        scale, s = Decimal("0.01"), s[:-1].rstrip()
    elif s[-1:] in _UNITS:
        scale, s = _UNITS[s[-1]], s[:-1].rstrip()
    if signs > 1 or not s:
        return None, "is not a number"
    other = "," if decimal == "." else "."
    if _GROUPED[decimal].fullmatch(s):
        body = re.sub(r"[^\d" + re.escape(decimal) + "]", "", s)
    elif _PLAIN[decimal].fullmatch(s):
        body = s
    else:
        if _GROUPED[other].fullmatch(s) or _PLAIN[other].fullmatch(s):
            return None, f"is not a number (if '{other}' is the decimal mark, pass --decimal {other})"
        return None, "is not a number"
    try:
        value = Decimal(body.replace(",", ".")) * scale
    except InvalidOperation:
        return None, "is not a number"
    result = float(-value if negative else value)
    if result in (float("inf"), float("-inf")):
        return None, "is not a number (too large)"
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


def _to_number(trimmed: pa.Array, decimal: str, whole: bool):
    n = len(trimmed)
    missing = _missing_mask(trimmed)
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
        indices, parsed = _by_distinct(trimmed.take(pa.array(positions)), lambda t: parse_number(t, decimal))
        values[positions], _, reasons = _spread(indices, parsed, positions, np.nan, "float64")
    if whole:
        finite = np.isfinite(values)
        fractional = np.zeros(n, dtype=bool)
        fractional[finite] = values[finite] != np.floor(values[finite])
        for position in np.flatnonzero(fractional):
            reasons[int(position)] = "is not a whole number"
    return pd.Series(values, dtype="float64"), missing, reasons


# Booleans and categories ------------------------------------------------------------------------------


def _parse_boolean(text: str) -> tuple[bool | None, str | None]:
    word = unicodedata.normalize("NFKC", text).strip().casefold()
    if word in TRUE_WORDS:
        return True, None
    if word in FALSE_WORDS:
        return False, None  # checked before the missing words: "无" is "no" here
    if word in MISSING_WORDS:
        return None, None
    return None, "is not yes/no (use yes/no, true/false, 1/0 or 是/否)"


def _to_boolean(trimmed: pa.Array):
    return _from_distinct(trimmed, _parse_boolean, object)


def _to_category(trimmed: pa.Array, spec: FieldSpec):
    lookup: dict[str, str] = {}
    for value in spec.values:
        lookup.setdefault(normalise_header(value), value)
    for alias, value in spec.value_aliases.items():
        lookup.setdefault(normalise_header(alias), value)
    allowed = ", ".join(str(v) for v in spec.values[:15]) + (", ..." if len(spec.values) > 15 else "")

    def parse(text: str) -> tuple[str | None, str | None]:
        key = normalise_header(text)
        if key in lookup:
            return lookup[key], None
        if text.casefold() in MISSING_WORDS:
            return None, None
        return None, f"is not one of: {allowed}"

    return _from_distinct(trimmed, parse, object)


# Strings ---------------------------------------------------------------------------------------------


def _to_string(trimmed: pa.Array):
    missing = _missing_mask(trimmed)
    if pc.any(pc.starts_with(trimmed, "'")).as_py():
        # kamrules' writer (and other careful tools) put an apostrophe before =, +, -, @ so that Excel
        # does not run the cell as a formula; it is not part of the value.
        trimmed = pc.replace_substring_regex(trimmed, r"^'('*[=+\-@\t\r])", r"\1")
    kept = pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), trimmed)
    values = kept.to_numpy(zero_copy_only=False)
    if values.dtype != object:
        values = values.astype(object)
    return pd.Series(values, dtype=object), missing, {}


# Dates -----------------------------------------------------------------------------------------------

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
_DATE_REASON = "is not a date (use YYYY-MM-DD)"


def _month(word: str) -> int | None:
    """1-12 for an English month name or its abbreviation (Jan, Sept, January)."""
    word = word.casefold()
    for number, month in enumerate(_MONTH_NAMES, start=1):
        if len(word) >= 3 and (month.startswith(word) or word == "sept" and number == 9):
            return number
    return None


def parse_date(text: str, dayfirst: bool = False, excel_serials: bool = False) -> tuple[np.datetime64 | None, str | None]:
    """Read one date cell: (datetime64 at midnight, None) or (None, reason). A time of day is dropped."""
    s = unicodedata.normalize("NFKC", text).strip()
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
    elif excel_serials and _SERIAL.fullmatch(s) and 1 <= float(s) < 2958466:
        day = _EXCEL_EPOCH + timedelta(days=int(float(s)))
        ymd = (day.year, day.month, day.day)
    if ymd is None:
        return None, _DATE_REASON
    try:
        day = date(*ymd)
    except ValueError:
        return None, "is not a valid calendar date"
    if not _FIRST_DATE <= day <= _LAST_DATE:
        return None, f"is outside the dates kamrules can hold ({_FIRST_DATE.year}-{_LAST_DATE.year})"
    return np.datetime64(day, "ns"), None


def _to_date(trimmed: pa.Array, dayfirst: bool, excel_serials: bool):
    n = len(trimmed)
    missing = _missing_mask(trimmed)
    values = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    iso = pc.match_substring_regex(trimmed, r"^\d{4}-\d{2}-\d{2}$").to_numpy(zero_copy_only=False)
    if iso.any():
        subset = trimmed.filter(pa.array(iso))
        stamps = pc.strptime(subset, format="%Y-%m-%d", unit="s", error_is_null=True)
        # strptime rolls 2026-02-30 over to March; formatting back catches it
        same = pc.equal(pc.strftime(stamps, format="%Y-%m-%d"), subset).fill_null(False)
        years = pc.year(stamps).fill_null(0).to_numpy(zero_copy_only=False)
        good = same.to_numpy(zero_copy_only=False) & (years >= _FIRST_DATE.year) & (years <= _LAST_DATE.year)
        positions = np.flatnonzero(iso)
        seconds = stamps.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
        values[positions[good]] = seconds[good].astype("datetime64[s]").astype("datetime64[ns]")
        iso[positions[~good]] = False
    reasons: dict[int, str] = {}
    rest = ~iso & ~missing
    if rest.any():
        positions = np.flatnonzero(rest)
        indices, parsed = _by_distinct(
            trimmed.take(pa.array(positions)), lambda t: parse_date(t, dayfirst, excel_serials)
        )
        values[positions], _, reasons = _spread(indices, parsed, positions, np.datetime64("NaT", "ns"), "datetime64[ns]")
    return pd.Series(values, dtype="datetime64[ns]"), missing, reasons


# --------------------------------------------------------------------------------------------------
# Messages


def _shown(value: str, limit: int = 60) -> str:
    value = value.strip()
    return value if len(value) <= limit else value[: limit - 1] + "…"


def issue_text(issue: DataIssue, unit: str = "row") -> str:
    """One bad cell as a message line: "row 14, column 'Sales' (field sales): '12abc' is not a number"."""
    value = _shown(issue.value)
    what = f"'{value}' {issue.reason}" if value else f"value {issue.reason}"
    return f"{unit} {issue.row}, column '{issue.column}' (field {issue.field}): {what}"


def _bad_values_message(name: str, unit: str, problems: list[DataIssue], total: int) -> str:
    fix = "pass --on-bad-value missing to read them as missing values"
    if total == 1:
        return f"{name}: {issue_text(problems[0], unit)}; fix the cell or pass --on-bad-value missing"
    lines = [issue_text(issue, unit) for issue in problems[:MAX_LISTED]]
    if total > MAX_LISTED:
        lines.append(f"and {total - MAX_LISTED} more")
    return f"{name}: {total} values cannot be read; fix the cells or {fix}:\n  " + "\n  ".join(lines)


def _rows_text(unit: str, rows: list[int]) -> str:
    """"rows 3 and 9", "rows 3, 4 and 8", "rows 3, 4, 5, 6, 7 and 2 more"."""
    if len(rows) > 5:
        return f"{unit}s " + ", ".join(str(r) for r in rows[:5]) + f" and {len(rows) - 5} more"
    return f"{unit}s " + ", ".join(str(r) for r in rows[:-1]) + f" and {rows[-1]}"


def _duplicate_ids_message(name: str, raw: _Raw, ids: pd.Series, header: str) -> str | None:
    present = ids.notna()
    duplicated = ids.duplicated(keep=False) & present
    if not duplicated.any():
        return None
    groups: dict[str, list[int]] = {}
    for position in np.flatnonzero(duplicated.to_numpy()):
        groups.setdefault(ids.iloc[position], []).append(int(raw.row_numbers[position]))
    items = sorted(groups.items(), key=lambda item: item[1][0])
    where = f"column '{header}' (field account_id)"
    fix = "each account must appear once: remove or merge the duplicates"
    if len(items) == 1:
        value, rows = items[0]
        return f"{name}: {where}: '{value}' appears in {_rows_text(raw.unit, rows)}; {fix}"
    lines = [f"'{value}' in {_rows_text(raw.unit, rows)}" for value, rows in items[:MAX_LISTED]]
    if len(items) > MAX_LISTED:
        lines.append(f"and {len(items) - MAX_LISTED} more")
    return f"{name}: {where}: {len(items)} IDs appear more than once; {fix}:\n  " + "\n  ".join(lines)
