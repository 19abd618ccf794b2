"""One reader per file format (CSV/TSV, Excel, Parquet, JSON, JSON Lines): each returns a `_Raw`
table of text columns with the row numbers the user sees, before any field is matched."""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
from dataclasses import dataclass
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
from kamrules.data.layout import (
    FOOTER_SCAN, HEADER_SCAN, Layout, filled, footer_start, header_index, last_rows, row_text, title_unit,
)
from kamrules.data.messages import first_lines
from kamrules.data.options import MAX_LISTED, SAMPLE_BYTES, ReadOptions, _Raw
from kamrules.data.wording import at, json_detail, quoted, rows_text, say
from kamrules.errors import DataError, UsageError
from kamrules.pack.fields import column_letter

def _sniff_delimiter(sample: str, complete: bool) -> str:
    """The delimiter among , ; and tab that gives the header most columns and every sampled row the
    same number of values; ties go to , then ; then tab. Deterministic, unlike csv.Sniffer. Title rows
    above the header (layout.header_index) are not counted."""
    best, best_score = ",", (-1, -1)
    for rank, candidate in enumerate((",", ";", "\t")):
        records = list(csv.reader(io.StringIO(sample, newline=""), delimiter=candidate))[:51]
        if not complete and len(records) > 1:
            records = records[:-1]  # the sample may end in the middle of a record
        records = [r for r in records if r]
        records = records[header_index(records):]
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
    complete = len(head) < SAMPLE_BYTES
    if options.delimiter is not None:
        delimiter = delimiter_char(options.delimiter) or ","
    elif tsv:
        delimiter = "\t"
    else:
        delimiter = _sniff_delimiter(sample, complete)
    skip, layout = _csv_header(name, sample, delimiter, options)
    header = next(csv.reader(io.StringIO("\n".join(sample.split("\n")[skip:]), newline=""), delimiter=delimiter), [])
    if options.header_row is not None and not filled(header):
        raise DataError(say(options.lang, "header_row_empty", name=name, n=options.header_row))
    width = max(len(header), 1)
    table, bad_rows = _parse_csv(path, name, encoding, delimiter, skip, width, options.lang)
    if table.num_rows == 0:
        raise DataError(say(options.lang, "empty", name=name))
    numbers = _record_numbers(skip, table.num_rows, bad_rows)  # the header's first
    row_numbers = numbers[1:]
    scan = _footer_scan(len(row_numbers), options)
    first_scanned = int(row_numbers[-scan]) if scan else int(numbers[0]) + 1
    inside = [row for row in bad_rows if row[0] < first_scanned]
    if inside:  # short or long rows among the data: a wrong delimiter or a stray quote
        raise DataError(_bad_rows_message(name, bad_rows, width, delimiter, options.lang))
    columns = [table.column(i).combine_chunks() for i in range(table.num_columns)]
    headers = [str(value) for value in (column[0].as_py() for column in columns)]
    if headers and headers[0].startswith("\ufeff"):
        headers[0] = headers[0][1:]
    columns = [column.slice(1) for column in columns]
    trailing = [(number, next(csv.reader([text], delimiter=delimiter), []), False) for number, _, text in bad_rows]
    columns, row_numbers = _cut_footer(name, columns, row_numbers, trailing, width, layout, options, delimiter)
    return _Raw(
        headers=_display_headers(headers, options.lang),
        columns=columns,
        row_numbers=row_numbers,
        encoding=encoding,
        delimiter=delimiter,
        layout=layout,
    )


def _record_numbers(skip: int, table_rows: int, bad_rows: list) -> np.ndarray:
    """The row number of each record of the parsed table (the header's first), as the user sees them.

    Records with the wrong number of values are left out of the table (and listed in `bad_rows` with
    their own numbers), so the table's records are the numbers from the header on, less those: a
    Salesforce footer has blank lines (records of the table) between its short rows."""
    bad = {int(number) for number, _, _ in bad_rows}
    last = skip + table_rows + len(bad_rows)  # the number of the file's last record
    if len(bad) != len(bad_rows) or any(not skip + 2 <= number <= last for number in bad):  # a number arrow did not know
        return np.arange(skip + 1, skip + 1 + table_rows, dtype=np.int64)
    every = np.arange(skip + 1, last + 1, dtype=np.int64)
    return every[~np.isin(every, np.fromiter(bad, dtype=np.int64))] if bad else every


def _footer_scan(rows: int, options: ReadOptions) -> int:
    """How many of the last rows of a table are searched for its footer (more for a long --skip-footer)."""
    return min(rows, max(FOOTER_SCAN, (options.skip_footer or 0) + 1))


def _csv_header(name: str, sample: str, delimiter: str, options: ReadOptions) -> tuple[int, Layout]:
    """(lines above the header, what they hold): the header is --header-row, else the first record
    that looks like one (layout.header_index), below any title and blank rows."""
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
    leading: list[list[str]] = []
    ends: list[int] = []  # the line each leading record ends on
    try:
        for record in reader:
            leading.append(record)
            ends.append(reader.line_num)
            if len(leading) >= HEADER_SCAN:
                break
    except csv.Error:
        pass  # a broken quote: the parser below says where
    if options.header_row is not None:
        skip = options.header_row - 1
        if skip >= len(ends) and skip >= sample.count("\n"):
            raise DataError(say(options.lang, "header_row_beyond", name=name, n=options.header_row))
    else:
        position = header_index(leading)
        skip = ends[position - 1] if position else 0
    above = [(end, record) for record, end in zip(leading, ends) if end <= skip]
    return skip, _layout_above(skip + 1, above, options)


def _layout_above(header_row: int, above: list[tuple[int, list[str]]], options: ReadOptions) -> Layout:
    """The layout of the rows above the header: their texts, how many were blank, the unit a title states."""
    texts = [(row, row_text(cells)) for row, cells in above if filled(cells)]
    return Layout(header_row=header_row, above=texts, blank_above=len(above) - len(texts),
                  title_unit=title_unit(texts), header_given=options.header_row is not None)


def _cut_footer(name: str, columns: list[pa.Array], row_numbers: np.ndarray, trailing: list, width: int,
                layout: Layout, options: ReadOptions, delimiter: str = ",") -> tuple[list[pa.Array], np.ndarray]:
    """The table without its footer block (layout.footer_start, or the last --skip-footer rows), which
    `layout` records; rows after the data that could not be read and are not in the footer stop the read."""
    n = len(row_numbers)
    scan = _footer_scan(n, options)
    tail = [(int(number), cells, True) for number, cells in zip(row_numbers[n - scan:], last_rows(columns, scan))]
    tail += trailing
    tail.sort(key=lambda item: item[0])
    rows = [cells for _, cells, _ in tail]
    start = footer_start(rows, width) if options.skip_footer is None else _last_rows(rows, options.skip_footer)
    footer = tail[start:]
    layout.footer = [(number, row_text(cells)) for number, cells, _ in footer if filled(cells)]
    layout.footer_blank = sum(1 for _, cells, _ in footer if not filled(cells))
    layout.footer_given = options.skip_footer is not None
    kept = tail[:start]
    left = [(number, len(cells)) for number, cells, in_table in kept if not in_table and filled(cells)]
    among = left and any(in_table and filled(cells) and number > left[0][0] for number, cells, in_table in kept)
    if among or any(count > width for _, count in left):  # among the accounts, or too many values: a delimiter or a quote
        raise DataError(_bad_rows_message(name, [(number, count, "") for number, count in left], width,
                                          delimiter, options.lang))
    if left:
        last = max(number for number, cells, _ in tail if filled(cells))
        raise DataError(_rows_at_end_message(name, left, width, options.lang, last - left[0][0] + 1))
    in_footer = sum(1 for _, _, in_table in footer if in_table)
    return ([column.slice(0, n - in_footer) for column in columns], row_numbers[:n - in_footer]) if in_footer \
        else (columns, row_numbers)


def _last_filled_index(rows: list[list[str]]) -> int:
    """The position of the last row with a value (-1 when every row is blank)."""
    return next((i for i in range(len(rows) - 1, -1, -1) if filled(rows[i])), -1)


def _last_rows(rows: list[list[str]], count: int) -> int:
    """Where the last `count` rows start, counted as the user sees them: from the last row with a value
    back, blank rows included (a Salesforce footer has a blank line inside it); the blank rows after
    the last value go with them. `0` keeps every row."""
    if count == 0:
        return len(rows)
    return max(0, _last_filled_index(rows) + 1 - count)


def _rows_at_end_message(name: str, rows: list[tuple[int, int]], width: int, lang: str = "en",
                         lines: int | None = None) -> str:
    """Rows after the last account that do not have the header's columns: not the delimiter's fault.
    `lines`: how many rows --skip-footer must count to leave them out (blank rows included)."""
    numbers = [number for number, _ in rows]
    return say(lang, "rows_at_end", name=name, count=len(rows), rows=rows_text(lang, "row", numbers), width=width,
               n=lines or len(rows), first=numbers[0])


def _parse_csv(path: Path, name: str, encoding: str, delimiter: str, skip: int, width: int, lang: str = "en"):
    """(pyarrow table of text columns, [(row number, values) of rows with the wrong width])."""
    import pyarrow.csv as pacsv

    bad_rows: list[tuple[int, int, str]] = []

    def on_invalid_row(row: Any) -> str:
        bad_rows.append((row.number, row.actual_columns, row.text))  # counts the skipped lines too
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


def _bad_rows_message(name: str, bad_rows: list[tuple[int, int, str]], width: int, delimiter: str, lang: str = "en") -> str:
    shown = say(lang, "tab") if delimiter == "\t" else f"'{delimiter}'"
    fix = say(lang, "delimiter_fix", shown=shown)
    if len(bad_rows) == 1:
        number, actual, _ = bad_rows[0]
        return say(lang, "bad_row", name=name, number=number, actual=actual, width=width, fix=fix)
    lines = [say(lang, "bad_rows_line", number=number, actual=actual) for number, actual, _ in bad_rows[:MAX_LISTED]]
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
        header, header_row, layout, pending = _xlsx_header(name, sheet.title, rows, options)
        while header and not header[-1].strip():
            header.pop()
        width = len(header)
        values: list[list[str]] = [[] for _ in range(width)]
        numbers: list[int] = []
        read_on = ((number, [cell_text(value) for value in row[:width]])
                   for number, row in enumerate(rows, start=header_row + len(pending) + 1))
        for number, cells in itertools.chain(pending, read_on):
            excel_row_check(number, name, lang)  # more rows than Excel allows (guards.py)
            cells = cells[:width]
            cells.extend("" for _ in range(width - len(cells)))
            for column, cell in zip(values, cells):
                column.append(cell)
            numbers.append(number)
    except XLSX_DAMAGE as exc:  # a truncated or hand-crafted sheet: never a traceback
        raise DataError(damaged_xlsx(name, exc, lang)) from None
    finally:
        workbook.close()
    columns, row_numbers = _cut_footer(name, [pa.array(column, type=pa.string()) for column in values],
                                       np.array(numbers, dtype=np.int64), [], width, layout, options)
    return _Raw(
        headers=_display_headers(header, lang),
        columns=columns,
        row_numbers=row_numbers,
        excel_serials=True,
        sheet=sheet.title,
        layout=layout,
    )


def _xlsx_header(name: str, title: str, rows: Any, options: ReadOptions) -> tuple[list[str], int, Layout, list]:
    """(the header's cells, its row number, the rows above it, the rows read after it) of a sheet:
    --header-row, else the first row that looks like a header (layout.header_index) among the leading
    ones."""
    lang = options.lang
    leading: list[tuple[int, list[str]]] = []
    wanted = options.header_row
    seen = 0  # rows with a value
    for number, row in enumerate(rows, start=1):
        leading.append((number, [cell_text(value) for value in row]))
        seen += bool(filled(leading[-1][1]))
        if (wanted is not None and number >= wanted) or (wanted is None and seen >= HEADER_SCAN):
            break
    if wanted is not None:
        if len(leading) < wanted:
            raise DataError(say(lang, "header_row_beyond", name=name, n=wanted))
        position = wanted - 1
    else:
        filled_rows = [(i, cells) for i, (_, cells) in enumerate(leading) if filled(cells)]
        if not filled_rows:
            raise DataError(say(lang, "sheet_empty", name=name, sheet=title))
        position = filled_rows[header_index([cells for _, cells in filled_rows])][0]
    header_row, header = leading[position]
    if not filled(header):
        raise DataError(say(lang, "header_row_empty", name=name, n=header_row))
    layout = _layout_above(header_row, [(number, cells) for number, cells in leading[:position]], options)
    return header, header_row, layout, leading[position + 1:]


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


@dataclass(frozen=True)
class InputFormat:
    """One file format the reader reads, whole: a new format is one `register_format(InputFormat(…))`
    (and its `kind_<name>` words in i18n's `DATA`, which messages use to name what the file should be).

    `reader(path, name, head, options)` returns the file as a `_Raw` table of text columns with the row
    numbers the user sees; `extensions` (lower case, with the dot) are the names it is known by without
    `--format`; `content` is what its first bytes must look like (`text`, `xlsx`: a zip, `parquet`), so
    a workbook named `.csv` is refused with a hint instead of read as text."""

    name: str
    extensions: tuple[str, ...]
    reader: Callable[[Path, str, bytes, ReadOptions], _Raw]
    content: str = "text"


INPUT_FORMATS: dict[str, InputFormat] = {}  # by name, in the order `--input-format` lists them


def register_format(fmt: InputFormat) -> InputFormat:
    """Add a format to the reader. A name or an extension already taken, or a content the sniffer does not
    know, is a bug in the code that registers it (a ValueError naming it), never a silent swap."""
    taken = {ext for known in INPUT_FORMATS.values() for ext in known.extensions}
    if fmt.name in INPUT_FORMATS or taken & set(fmt.extensions):
        raise ValueError(f"taken: {fmt.name} {fmt.extensions}")
    if fmt.content not in ("text", "xlsx", "parquet"):
        raise ValueError(f"content: {fmt.content}")
    INPUT_FORMATS[fmt.name] = fmt
    return fmt


for _fmt in (
    InputFormat("csv", (".csv", ".txt"), _read_csv),
    InputFormat("tsv", (".tsv", ".tab"), _read_tsv),
    InputFormat("xlsx", (".xlsx", ".xlsm"), _read_xlsx, content="xlsx"),
    InputFormat("parquet", (".parquet", ".pq"), _read_parquet, content="parquet"),
    InputFormat("json", (".json",), _read_json),
    InputFormat("jsonl", (".jsonl", ".ndjson"), _read_jsonl),
):
    register_format(_fmt)


def check_format_option(options: ReadOptions) -> None:
    """UsageError for a `--format` no registered format has."""
    if options.input_format is not None and options.input_format not in INPUT_FORMATS:
        raise UsageError(say(options.lang, "unknown_format", fmt=options.input_format,
                             formats=", ".join(INPUT_FORMATS)))


def format_of(path: Path, name: str, options: ReadOptions) -> InputFormat:
    """The file's format: `--format`, else the one its extension names."""
    if options.input_format:
        return INPUT_FORMATS[options.input_format]
    suffix = path.suffix.lower()
    for fmt in INPUT_FORMATS.values():
        if suffix in fmt.extensions:
            return fmt
    lang = options.lang
    if suffix == ".xls":
        raise DataError(say(lang, "xls_old", name=name))
    shown = say(lang, "ext_named", ext=path.suffix) if path.suffix else say(lang, "ext_none")
    raise DataError(say(lang, "format_unknown", name=name, shown=shown))


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


def check_content(name: str, fmt: InputFormat, head: bytes, lang: str = "en") -> None:
    """DataError when the first bytes are not what the format's files hold, with the fix."""
    kind = _sniff_kind(head)
    if kind == fmt.content:
        return
    what = say(lang, f"kind_{fmt.name}")
    if kind == "xls":
        raise DataError(say(lang, "content_xls", name=name, what=what))
    if kind == "binary":
        raise DataError(say(lang, "content_binary", name=name, what=what))
    suggestion = {"xlsx": "xlsx", "parquet": "parquet", "text": "csv"}[kind]
    rename = {"xlsx": ".xlsx", "parquet": ".parquet", "text": ".csv"}[kind]
    raise DataError(say(lang, "content_looks", name=name, what=what, looks=say(lang, f"looks_{kind}"),
                        rename=rename, suggestion=suggestion))


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
