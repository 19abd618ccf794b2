"""One reader per file format (CSV/TSV, Excel, Parquet, JSON, JSON Lines): each returns a `_Raw`
table of text columns with the row numbers the user sees, before any field is matched."""

from __future__ import annotations

import codecs
import csv
import io
import json
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kamrules.data.cells import cell_text, delimiter_char
from kamrules.data.encodings import _choose_encoding, _sample_text
from kamrules.data.guards import (
    XLSX_DAMAGE, csv_failure, damaged_xlsx, excel_row_check, json_loads, parquet_check, repeated_keys, xlsx_check,
)
from kamrules.data.messages import first_lines
from kamrules.data.options import MAX_LISTED, SAMPLE_BYTES, ReadOptions, _Raw
from kamrules.data.wording import at, json_detail, quoted, say
from kamrules.errors import DataError
from kamrules.pack.fields import column_letter

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
    encoding = _choose_encoding(path, name, head, options)
    sample = _sample_text(head, encoding)
    if sample.startswith("\ufeff"):
        sample = sample[1:]
    lines = sample.split("\n")
    skip = 0  # blank lines above the header
    while skip < len(lines) - 1 and not lines[skip].strip():
        skip += 1
    sample = "\n".join(lines[skip:])
    complete = len(head) < SAMPLE_BYTES
    if options.delimiter is not None:
        delimiter = delimiter_char(options.delimiter) or ","
    elif tsv:
        delimiter = "\t"
    else:
        delimiter = _sniff_delimiter(sample, complete)
    header = next(csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter), [])
    width = max(len(header), 1)
    table, bad_rows = _parse_csv(path, name, encoding, delimiter, skip, width, options.lang)
    if bad_rows:
        raise DataError(_bad_rows_message(name, bad_rows, width, delimiter, options.lang))
    if table.num_rows == 0:
        raise DataError(say(options.lang, "empty", name=name))
    columns = [table.column(i).combine_chunks() for i in range(table.num_columns)]
    headers = [str(value) for value in (column[0].as_py() for column in columns)]
    if headers and headers[0].startswith("\ufeff"):
        headers[0] = headers[0][1:]
    return _Raw(
        headers=_display_headers(headers, options.lang),
        columns=[column.slice(1) for column in columns],
        row_numbers=np.arange(skip + 2, skip + table.num_rows + 1, dtype=np.int64),
        encoding=encoding,
        delimiter=delimiter,
    )


def _parse_csv(path: Path, name: str, encoding: str, delimiter: str, skip: int, width: int, lang: str = "en"):
    """(pyarrow table of text columns, [(row number, values) of rows with the wrong width])."""
    import pyarrow.csv as pacsv

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
        raise DataError(csv_failure(name, exc, lang)) from None  # cells over 1 MB: say so (guards.py)
    return table, bad_rows


def _bad_rows_message(name: str, bad_rows: list[tuple[int, int]], width: int, delimiter: str, lang: str = "en") -> str:
    shown = say(lang, "tab") if delimiter == "\t" else f"'{delimiter}'"
    fix = say(lang, "delimiter_fix", shown=shown)
    if len(bad_rows) == 1:
        number, actual = bad_rows[0]
        return say(lang, "bad_row", name=name, number=number, actual=actual, width=width, fix=fix)
    lines = [say(lang, "bad_rows_line", number=number, actual=actual) for number, actual in bad_rows[:MAX_LISTED]]
    return (say(lang, "bad_rows", name=name, count=len(bad_rows), width=width, fix=fix)
            + first_lines(lines, len(bad_rows), lang))


def _read_tsv(path: Path, name: str, head: bytes, options: ReadOptions) -> _Raw:
    return _read_csv(path, name, head, options, tsv=True)


def _read_xlsx(path: Path, name: str, head: bytes, options: ReadOptions) -> _Raw:
    import zipfile

    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    lang = options.lang
    xlsx_check(path, name, lang)  # zip bombs, DTDs and entity bombs: refused before inflating (guards.py)
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError, *XLSX_DAMAGE) as exc:
        raise DataError(say(lang, "xlsx_invalid", name=name, detail=exc)) from None
    try:
        sheet = _pick_sheet(name, workbook, options.sheet, lang)
        sheet.reset_dimensions()  # some writers record wrong sheet sizes; read what is really there
        rows = sheet.iter_rows(min_row=1, min_col=1, values_only=True)
        header: list[str] = []
        header_row = 0
        for number, row in enumerate(rows, start=1):
            cells = [cell_text(value) for value in row]
            if any(cell.strip() for cell in cells):
                header, header_row = cells, number
                break
        if not header:
            raise DataError(say(lang, "sheet_empty", name=name, sheet=sheet.title))
        while header and not header[-1].strip():
            header.pop()
        width = len(header)
        values: list[list[str]] = [[] for _ in range(width)]
        numbers: list[int] = []
        for number, row in enumerate(rows, start=header_row + 1):
            excel_row_check(number, name, lang)  # more rows than Excel allows (guards.py)
            cells = [cell_text(value) for value in row[:width]]
            cells.extend("" for _ in range(width - len(cells)))
            for column, cell in zip(values, cells):
                column.append(cell)
            numbers.append(number)
    except XLSX_DAMAGE as exc:  # a truncated or hand-crafted sheet: never a traceback
        raise DataError(damaged_xlsx(name, exc, lang)) from None
    finally:
        workbook.close()
    return _Raw(
        headers=_display_headers(header, lang),
        columns=[pa.array(column, type=pa.string()) for column in values],
        row_numbers=np.array(numbers, dtype=np.int64),
        excel_serials=True,
        sheet=sheet.title,
    )


def _pick_sheet(name: str, workbook: Any, wanted: str | int | None, lang: str = "en") -> Any:
    sheets = workbook.worksheets
    titles = [ws.title for ws in sheets]
    if wanted is None:
        if not sheets:
            raise DataError(say(lang, "no_sheets", name=name))
        return sheets[0]
    if isinstance(wanted, str) and wanted in titles:
        return sheets[titles.index(wanted)]
    index = wanted if isinstance(wanted, int) else int(wanted) if str(wanted).strip().isdigit() else None
    if index is not None and 0 <= index < len(sheets):
        return sheets[index]
    raise DataError(say(lang, "no_sheet", name=name, wanted=wanted, listed=quoted(lang, titles, limit=len(titles))))


def _read_parquet(path: Path, name: str, head: bytes, options: ReadOptions) -> _Raw:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(say(options.lang, "parquet_invalid", name=name, detail=message)) from None
    parquet_check(table, name, options.lang)  # damaged column names (guards.py)
    if table.num_columns == 0:
        raise DataError(say(options.lang, "empty", name=name))
    return _Raw(
        headers=_display_headers([str(n) for n in table.column_names], options.lang),
        columns=[table.column(i).combine_chunks() for i in range(table.num_columns)],
        row_numbers=np.arange(1, table.num_rows + 1, dtype=np.int64),
        unit="record",
    )


def _read_json(path: Path, name: str, head: bytes, options: ReadOptions, *, lines: bool = False) -> _Raw:
    encoding = _choose_encoding(path, name, head, options)
    lang = options.lang
    text = path.read_bytes().decode(encoding)
    if text.startswith("\ufeff"):
        text = text[1:]
    records: list[tuple[int, Any]] = []
    if lines:
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append((number, json_loads(line, say(lang, "json_line_where", name=name, number=number), lang)))
            except json.JSONDecodeError as exc:
                raise DataError(say(lang, "jsonl_invalid", name=name, number=number, column=exc.colno,
                                    detail=json_detail(lang, exc.msg))) from None
        if not records:
            raise DataError(say(lang, "empty", name=name))
    else:
        try:
            document = json_loads(text, name, lang)  # hostile JSON: a message (guards.py)
        except json.JSONDecodeError as exc:
            raise DataError(say(lang, "json_invalid", name=name, line=exc.lineno, column=exc.colno,
                                detail=json_detail(lang, exc.msg))) from None
        if not isinstance(document, list):
            raise DataError(say(lang, "json_not_array", name=name, kind=_json_kind(document, lang)))
        if not document:
            raise DataError(say(lang, "json_no_records", name=name))
        records = list(enumerate(document, start=1))
    unit = "line" if lines else "record"
    keys: dict[str, None] = {}
    for number, record in records:
        if not isinstance(record, dict):
            raise DataError(say(lang, "json_not_object", name=name, at=at(lang, unit, number),
                                kind=_json_kind(record, lang)))
        if repeated_keys(record):  # the last value would win silently
            raise DataError(say(lang, "json_repeated_key", name=name, at=at(lang, unit, number),
                                key=repeated_keys(record)[0]))
        keys.update(dict.fromkeys(str(k) for k in record))
    headers = list(keys)
    columns = [
        pa.array([cell_text(record.get(key)) for _, record in records], type=pa.string()) for key in headers
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


def _json_kind(value: Any, lang: str = "en") -> str:
    if isinstance(value, dict):
        kind = "object"
    elif isinstance(value, list):
        kind = "array"
    elif isinstance(value, str):
        kind = "string"
    elif value is None:
        kind = "null"
    else:
        kind = "number" if not isinstance(value, bool) else "boolean"
    return say(lang, f"json_{kind}")


_READERS: dict[str, Callable[[Path, str, bytes, ReadOptions], _Raw]] = {
    "csv": _read_csv,
    "tsv": _read_tsv,
    "xlsx": _read_xlsx,
    "parquet": _read_parquet,
    "json": _read_json,
    "jsonl": _read_jsonl,
}

def _display_headers(headers: list[str], lang: str = "en") -> list[str]:
    """Headers as messages show them; a blank header becomes '(column C)'."""
    return [h if h.strip() else say(lang, "column_blank", letter=column_letter(i)) for i, h in enumerate(headers)]




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
