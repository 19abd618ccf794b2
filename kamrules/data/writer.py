"""Writing results: tables as CSV, Excel, JSON or Parquet bytes, and the output folder, atomically.

Every writer is byte-deterministic (same frame, same bytes): no timestamps, stable order. Text cells
that a spreadsheet would run as a formula are neutralised (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import glob
import io
import itertools
import json
import math
import os
import sys
import shutil
import tempfile
import time
import zipfile
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from typing import Any, Iterable, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from kamrules.errors import ConfigError
from kamrules.pack.fields import column_letter

__all__ = ["TABLE_FORMATS", "MARKER", "table_bytes", "table_chunks", "write_outputs", "neutralise"]

TABLE_FORMATS = ("csv", "xlsx", "json", "parquet")
MARKER = ".kamrules-out"
_MARKER_TEXT = b"This folder was written by kamrules; the next run replaces it as a whole.\n"
LIST_SEPARATOR = "; "
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FIXED_TIME = datetime(2000, 1, 1)  # stands in for "now" in workbook properties
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry
_MAX_WIDTH, _MIN_WIDTH = 60, 8
_WIDTH_SAMPLE = 1000  # rows looked at to size Excel columns
_STALE_SECONDS = 3600  # leftover temporary folders older than this are removed


# --------------------------------------------------------------------------------------------------
# Cell values


def neutralise(text: str) -> str:
    """Prefix "'" to text a spreadsheet would read as a formula (=, +, -, @, tab, CR).

    Text that already starts with apostrophes before such a character gets one more, so that the
    reader, which drops one apostrophe there, gives back exactly the original text.
    """
    return "'" + text if text.lstrip("'").startswith(_FORMULA_STARTS) else text


def _is_missing(value: Any) -> bool:
    """None, NaN, NaT and pd.NA; never a list or a string."""
    if value is None or value is pd.NaT or value is pd.NA:
        return True
    return isinstance(value, (float, np.floating)) and math.isnan(value)


def _number_text(value: float) -> str:
    """1200.0 -> "1200", 0.35 -> "0.35": the shortest text that reads back as the same float."""
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


def _date_text(value: Any) -> str:
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None and stamp == stamp.normalize():
        return stamp.date().isoformat()
    return stamp.isoformat(sep=" ")


def _plain(value: Any) -> Any:
    """A cell as a plain Python value: None, bool, int, float, str, date/datetime or list."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(item) for item in value]
    if _is_missing(value):
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else pd.Timestamp(value).to_pydatetime()
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, (datetime, date, str)):
        return value
    return str(value)


def _text(value: Any) -> str:
    """A plain value as CSV text (before neutralising)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number_text(value)
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
            values = [_plain(v) for v in series.astype(object).to_numpy()]
        elif series.dtype.kind == "f":
            values = [None if v != v or v in (math.inf, -math.inf) else float(v) for v in series.to_numpy()]
        elif series.dtype.kind in "iu":
            values = [int(v) for v in series.to_numpy()]
        elif series.dtype.kind == "M":
            values = [None if v is pd.NaT else v.to_pydatetime() for v in series]
        else:
            values = [_plain(v) for v in series.astype(object).to_numpy()]
        result.append((str(name), values))
    return result


# --------------------------------------------------------------------------------------------------
# Tables


def table_bytes(frame: pd.DataFrame, fmt: str, *, list_columns: Sequence[str] = ()) -> bytes:
    """The frame as the bytes of a csv, xlsx, json or parquet file (see `table_chunks`)."""
    return b"".join(table_chunks(frame, fmt, list_columns=list_columns))


def table_chunks(frame: pd.DataFrame, fmt: str, *, list_columns: Sequence[str] = ()) -> Iterator[bytes]:
    """The frame as a csv, xlsx, json or parquet file, in pieces (CSV and JSON 64k rows at a time, so a
    large table is never held twice in memory); same frame, same bytes.

    CSV is UTF-8 with a byte-order mark (so Excel shows Chinese correctly) and `\\n` line ends. Cells
    holding lists (`list_columns`, or any list value) are joined with "; " in CSV and Excel and kept as
    arrays in JSON and Parquet. Text starting with =, +, -, @, tab or CR gets a leading "'" in CSV and
    Excel so that a spreadsheet shows it instead of running it.
    """
    if fmt == "csv":
        return _csv_chunks(frame)
    if fmt == "xlsx":
        return iter([_xlsx_bytes(frame)])
    if fmt == "json":
        return _json_chunks(frame)
    if fmt == "parquet":
        return iter([_parquet_bytes(frame, list_columns)])
    raise ConfigError(f"unknown output format '{fmt}'; use one of: {', '.join(TABLE_FORMATS)}")


def _csv_cell(value: Any) -> str:
    if isinstance(value, (str, list)):
        return neutralise(_text(value))
    return _text(value)


def _csv_object(value: Any) -> str:
    """One cell of a mixed column as CSV text; lists of text (actions, reasons) take a short cut."""
    kind = type(value)
    if kind is str:
        return neutralise(value)
    if kind is list or kind is tuple:
        try:
            return neutralise(LIST_SEPARATOR.join(value))
        except TypeError:
            pass
    return _csv_cell(_plain(value))


def _json_object(value: Any) -> str:
    kind = type(value)
    if kind is list or kind is tuple:
        try:
            return json.dumps(value, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError):
            pass
    return json.dumps(_json_value(_plain(value)), ensure_ascii=False, allow_nan=False)


_FORMULA_PATTERN = r"^'*[=+\-@\t\r]"


_CHUNK_ROWS = 16_384  # rows formatted at a time: bounds the Python strings alive at once


def _chunks(frame: pd.DataFrame):
    """The frame in row slices (at least one, so that an empty frame still gets its header)."""
    for start in range(0, max(len(frame), 1), _CHUNK_ROWS):
        yield frame.iloc[start : start + _CHUNK_ROWS]


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


def _csv_column(series: pd.Series, has_time: bool | None = None) -> list[str]:
    import pyarrow.compute as pc

    typed = _typed_texts(series, has_time)
    if typed is not None:
        return typed.fill_null("").to_pylist()
    texts, objects = _text_array(series)
    if texts is None:
        return [_csv_object(v) for v in objects]
    risky = pc.match_substring_regex(texts, _FORMULA_PATTERN).fill_null(False)
    guarded = pc.if_else(risky, pc.binary_join_element_wise("'", texts, ""), texts)
    return guarded.fill_null("").to_pylist()


def _date_columns(frame: pd.DataFrame) -> dict[int, bool]:
    return {i: _has_time(frame.iloc[:, i]) for i in range(frame.shape[1]) if frame.dtypes.iloc[i].kind == "M"}


def _csv_chunks(frame: pd.DataFrame) -> Iterator[bytes]:
    times = _date_columns(frame)
    if len(frame) == 0:
        buffer = io.StringIO()
        buffer.write("\ufeff")
        csv.writer(buffer, lineterminator="\n").writerow([neutralise(str(name)) for name in frame.columns])
        yield buffer.getvalue().encode("utf-8")
        return
    for number, chunk in enumerate(_chunks(frame)):
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        if number == 0:
            buffer.write("\ufeff")
            writer.writerow([neutralise(str(name)) for name in frame.columns])
        columns = [_csv_column(chunk.iloc[:, i], times.get(i)) for i in range(chunk.shape[1])]
        writer.writerows(zip(*columns))
        yield buffer.getvalue().encode("utf-8")


def _json_value(value: Any) -> Any:
    if isinstance(value, list):
        return [_json_value(item) for item in value]
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return int(value)
    if isinstance(value, (datetime, date)):
        return _date_text(value)
    return value


def _json_column(series: pd.Series, has_time: bool | None = None) -> list[str]:
    """Each cell of a column as JSON text."""
    from json.encoder import encode_basestring  # the C encoder; keeps Chinese as it is

    typed = _typed_texts(series, has_time)
    if typed is not None:
        texts = typed.to_pylist()
        if series.dtype.kind in "fiub":
            return ["null" if t is None else t for t in texts]
        return ["null" if t is None else encode_basestring(t) for t in texts]
    texts, objects = _text_array(series)
    if texts is not None:
        return ["null" if v is None else encode_basestring(v) for v in texts.to_pylist()]
    return [_json_object(v) for v in objects]


def _json_chunks(frame: pd.DataFrame) -> Iterator[bytes]:
    if len(frame) == 0:
        yield b"[]\n"
        return
    keys = [json.dumps(str(name), ensure_ascii=False) + ": " for name in frame.columns]
    times = _date_columns(frame)
    for number, chunk in enumerate(_chunks(frame)):
        columns = [_json_column(chunk.iloc[:, i], times.get(i)) for i in range(chunk.shape[1])]
        lines = ["{" + ", ".join(map(str.__add__, keys, row)) + "}" for row in zip(*columns)]
        yield ((",\n" if number else "[\n") + ",\n".join(lines)).encode("utf-8")
    yield b"\n]\n"


def _parquet_bytes(frame: pd.DataFrame, list_columns: Sequence[str]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays, names = [], []
    for position, name in enumerate(frame.columns):
        series = frame.iloc[:, position]
        if series.dtype.kind == "M":
            array = pa.array(series.to_numpy(dtype="datetime64[ns]"), type=pa.timestamp("ns"))
        elif isinstance(series.dtype, np.dtype) and series.dtype.kind in "fiub":
            array = pa.array(series.to_numpy(), from_pandas=True)  # NaN -> null
        elif str(name) in list_columns:
            plain = [_plain(v) for v in series.astype(object).to_numpy()]
            plain = [None if v is None else [_text(item) for item in (v if isinstance(v, list) else [v])]
                     for v in plain]
            array = pa.array(plain, type=pa.list_(pa.string()))
        else:
            objects = series.astype(object).to_numpy()
            try:  # one kind of value throughout (text, booleans, lists): pyarrow converts it in C
                array = pa.array(objects, from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed kinds: keep them as text
                plain = [_plain(v) for v in objects]
                array = pa.array([None if v is None else _text(v) for v in plain], type=pa.string())
            if pa.types.is_null(array.type):
                array = array.cast(pa.string())
        arrays.append(array)
        names.append(str(name))
    table = pa.Table.from_arrays(arrays, names=names)
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    return buffer.getvalue()


def _display_width(text: str) -> int:
    return sum(2 if ord(char) > 0x2E80 else 1 for char in text)


# The workbook is written directly as SpreadsheetML (the XML inside an .xlsx), one vectorised string
# operation per column: openpyxl, without lxml, needs ~30 µs a cell, minutes for a large table. The parts
# are the minimum Excel, LibreOffice and openpyxl read; their bytes depend on the table only.
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_EXCEL_ROWS = 1_048_576
_EXCEL_TEXT = 32_767  # characters in one cell
_EXCEL_EPOCH = np.datetime64("1899-12-30", "ns")
_STYLE_BOLD, _STYLE_DATE, _STYLE_DATETIME = 1, 2, 3
_XLSX_STATIC = {
    "[Content_Types].xml": _XML_HEAD
    + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
    '<Override PartName="/docProps/app.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
    "</Types>",
    "_rels/.rels": _XML_HEAD
    + f'<Relationships xmlns="{_PKG_REL_NS}">'
    f'<Relationship Id="rId1" Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/'
    'core-properties" Target="docProps/core.xml"/>'
    f'<Relationship Id="rId3" Type="{_REL_NS}/extended-properties" Target="docProps/app.xml"/>'
    "</Relationships>",
    "docProps/app.xml": _XML_HEAD
    + '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
    "<Application>kamrules</Application></Properties>",
    "docProps/core.xml": _XML_HEAD
    + '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:creator>kamrules</dc:creator>'
    f'<dcterms:created xsi:type="dcterms:W3CDTF">{_FIXED_TIME:%Y-%m-%dT%H:%M:%SZ}</dcterms:created>'
    f'<dcterms:modified xsi:type="dcterms:W3CDTF">{_FIXED_TIME:%Y-%m-%dT%H:%M:%SZ}</dcterms:modified>'
    "</cp:coreProperties>",
    "xl/workbook.xml": _XML_HEAD
    + f'<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}"><bookViews><workbookView/></bookViews>'
    '<sheets><sheet name="data" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": _XML_HEAD
    + f'<Relationships xmlns="{_PKG_REL_NS}">'
    f'<Relationship Id="rId1" Type="{_REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_REL_NS}/styles" Target="styles.xml"/>'
    "</Relationships>",
    "xl/styles.xml": _XML_HEAD
    + f'<styleSheet xmlns="{_MAIN_NS}">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>",
}


def _xml_text(texts):
    """Text for an XML element: escaped, without the control characters XML forbids, within Excel's cell limit."""
    import pyarrow.compute as pc

    texts = pc.replace_substring_regex(texts, r"[\x00-\x08\x0b\x0c\x0e-\x1f\x{fffe}\x{ffff}]", "")
    texts = pc.utf8_slice_codeunits(texts, 0, _EXCEL_TEXT)
    for raw, escaped in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        texts = pc.replace_substring(texts, raw, escaped)
    return texts


def _xlsx_cells(series: pd.Series, refs, has_time: bool = False):
    """Each cell of a column as SpreadsheetML (an empty string for a missing value), vectorised."""
    import pyarrow as pa
    import pyarrow.compute as pc

    dtype = series.dtype
    style = ""
    if isinstance(dtype, np.dtype) and dtype.kind in "fiu":
        values, kind = _typed_texts(series), ""
    elif isinstance(dtype, np.dtype) and dtype.kind == "b":
        values, kind = pa.array(np.where(series.to_numpy(), "1", "0")), ' t="b"'
    elif isinstance(dtype, np.dtype) and dtype.kind == "M":
        stamps = series.to_numpy().astype("datetime64[ns]")
        days = (stamps - _EXCEL_EPOCH) / np.timedelta64(1, "D")
        values, kind = pa.array(days, from_pandas=True).cast(pa.string()), ""
        style = f' s="{_STYLE_DATETIME if has_time else _STYLE_DATE}"'
    else:
        texts, objects = _text_array(series)
        if texts is None:
            plain = [_plain(v) for v in objects]
            if all(v is None or (isinstance(v, (bool, int, float)) and not isinstance(v, bool)) for v in plain):
                values, kind = pa.array([None if v is None else _number_text(float(v)) for v in plain]), ""
            elif all(v is None or isinstance(v, bool) for v in plain):
                values, kind = pa.array([None if v is None else "1" if v else "0" for v in plain]), ' t="b"'
            else:
                texts = pa.array([None if v is None else _text(v) for v in plain], type=pa.string())
        if texts is not None:
            texts = pc.if_else(pc.equal(texts, ""), pa.scalar(None, pa.string()), texts)  # no cell, as in Excel
            risky = pc.match_substring_regex(texts, _FORMULA_PATTERN).fill_null(False)
            texts = pc.if_else(risky, pc.binary_join_element_wise("'", texts, ""), texts)
            cells = pc.binary_join_element_wise(
                '<c r="', refs, '" t="inlineStr"><is><t xml:space="preserve">', _xml_text(texts), "</t></is></c>", ""
            )
            return cells.fill_null("")
    cells = pc.binary_join_element_wise('<c r="', refs, '"' + style + kind + "><v>", values, "</v></c>", "")
    return cells.fill_null("")


def _xlsx_bytes(frame: pd.DataFrame) -> bytes:
    import pyarrow as pa
    import pyarrow.compute as pc

    rows, width = frame.shape
    if rows + 1 > _EXCEL_ROWS:
        raise ConfigError(f"{rows} rows do not fit in an Excel sheet ({_EXCEL_ROWS - 1} at most); "
                          "use --format csv or parquet")
    letters = [column_letter(i) for i in range(max(width, 1))]
    times = _date_columns(frame)

    def rows_xml():
        """The data rows, a chunk at a time."""
        for start in range(0, rows, _CHUNK_ROWS):
            chunk = frame.iloc[start : start + _CHUNK_ROWS]
            numbers = pa.array(np.arange(start + 2, start + len(chunk) + 2)).cast(pa.string())
            cells = [
                _xlsx_cells(chunk.iloc[:, i], pc.binary_join_element_wise(letters[i], numbers, ""), times.get(i, False))
                for i in range(width)
            ]
            if cells:
                joined = pc.binary_join_element_wise('<row r="', numbers, '">', *cells, "</row>", "")
            else:
                joined = pc.binary_join_element_wise('<row r="', numbers, '"/>', "")
            yield "".join(joined.to_pylist())

    names = pa.array([str(name) for name in frame.columns], type=pa.string())
    header_texts = _xml_text(pc.if_else(pc.match_substring_regex(names, _FORMULA_PATTERN),
                                        pc.binary_join_element_wise("'", names, ""), names)).to_pylist()
    header = "".join(
        f'<c r="{letters[i]}1" s="{_STYLE_BOLD}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'
        for i, text in enumerate(header_texts)
    )
    sample = _columns(frame.iloc[:_WIDTH_SAMPLE])
    columns_xml = "".join(
        f'<col min="{i + 1}" max="{i + 1}" width="{_column_width(name, values)}" customWidth="1"/>'
        for i, (name, values) in enumerate(sample)
    )
    last = f"{letters[max(width, 1) - 1]}{rows + 1}"
    opening = "".join([
        _XML_HEAD,
        f'<worksheet xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}"><dimension ref="A1:{last}"/>',
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
        'state="frozen"/><selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>',
        '<sheetFormatPr defaultRowHeight="15"/>',
        f"<cols>{columns_xml}</cols>" if columns_xml else "",
        f'<sheetData><row r="1">{header}</row>',
    ])
    sheet = itertools.chain([opening], rows_xml(), ["</sheetData></worksheet>"])
    parts = dict(_XLSX_STATIC)
    parts["xl/worksheets/sheet1.xml"] = sheet
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for name, content in parts.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)  # fixed times: equal tables, equal bytes
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            # Streamed, so the sheet is never whole in memory; ZIP64 only when it may pass 2 GB (older
            # Excel versions warn about ZIP64 in small files).
            large = not isinstance(content, str) and rows * max(width, 1) * 80 > 2**31
            with archive.open(info, "w", force_zip64=large) as entry:
                for piece in [content] if isinstance(content, str) else content:
                    entry.write(piece.encode("utf-8"))
    return output.getvalue()


def _column_width(name: str, values: list[Any]) -> int:
    widest = max(_display_width(text) for text in [name] + [_text(v) for v in values])
    return min(max(widest + 2, _MIN_WIDTH), _MAX_WIDTH)




# --------------------------------------------------------------------------------------------------
# The output folder


def _check_relative(name: str) -> PurePosixPath:
    relative = PurePosixPath(name.replace("\\", "/"))
    if not name or relative.is_absolute() or ".." in relative.parts or str(relative) in ("", "."):
        raise ConfigError(f"cannot write '{name}': output file names must stay inside the output folder")
    return relative


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":
        return  # Windows cannot open a folder for fsync; its renames are durable enough
    fd = os.open(_native(path), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _native(path: Path) -> bytes | str:
    """The path as the bytes to hand the OS: UTF-8 whatever the locale. Under LC_ALL=C (with
    PYTHONUTF8=0) Python's file-system encoding is ASCII and a playbook named after 重点客户 could not
    be created at all; UTF-8 bytes are what every UTF-8 system shows (surrogateescape keeps any
    undecodable bytes of the user's own folder names as they were)."""
    if os.name != "posix" or sys.getfilesystemencoding().lower() in ("utf-8", "utf8"):
        return str(path)
    return str(path).encode("utf-8", "surrogateescape")


def _write_file(path: Path, content: bytes | Iterable[bytes]) -> None:
    """Write bytes, or an iterable of byte chunks (large outputs are produced piece by piece)."""
    os.makedirs(_native(path.parent), exist_ok=True)
    with open(_native(path), "xb") as handle:
        if isinstance(content, (bytes, bytearray)):
            handle.write(content)
        else:
            for chunk in content:
                handle.write(chunk)
        handle.flush()
        os.fsync(handle.fileno())


def _remove_stale(parent: Path, name: str) -> None:
    """Remove temporary folders a killed run left next to OUT (ours only: they carry the marker)."""
    now = time.time()
    for prefix in (f".{name}.kamrules-new-", f".{name}.kamrules-old-"):
        for leftover in parent.glob(glob.escape(prefix) + "*"):
            try:
                if (leftover / MARKER).is_file() and now - leftover.stat().st_mtime > _STALE_SECONDS:
                    shutil.rmtree(leftover, ignore_errors=True)
            except OSError:
                pass


def _refuse(out_dir: Path, inputs: Iterable[Path], force: bool) -> None:
    resolved = out_dir.resolve()
    for given in inputs:
        source = Path(given).resolve()
        if source == resolved or resolved in source.parents:
            raise ConfigError(
                f"{out_dir}: the output folder contains the input {given}; "
                "choose another --out so the input is not replaced"
            )
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"{out_dir}: is a file, not a folder; choose another --out")
    if out_dir.is_dir() and not (out_dir / MARKER).is_file() and any(out_dir.iterdir()) and not force:
        raise ConfigError(
            f"{out_dir}: folder is not empty and was not written by kamrules; choose a new or empty "
            "folder with --out, or pass --force to replace everything in it"
        )


def _through_link(out_dir: Path) -> Path:
    """A symlinked OUT is written where it points (the link stays), not replaced by a real folder."""
    return Path(os.path.realpath(out_dir)) if out_dir.is_symlink() else out_dir


def _writable_parent(out_dir: Path) -> None:
    ancestor = out_dir.absolute().parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise ConfigError(f"{out_dir}: cannot create it, {ancestor} is a file; choose another --out")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise ConfigError(f"{out_dir}: cannot write in {ancestor} (permission denied); choose another --out")


def check_out(out_dir: Path, inputs: Iterable[Path | None] = (), *, force: bool = False) -> None:
    """Refuse an unusable OUT before any work starts: one that is or contains an input (rule pack,
    templates, column mapping, data: the run would delete it), a file, a foreign non-empty folder
    (without `force`), or one whose parent cannot be written."""
    out_dir = _through_link(Path(out_dir))
    _refuse(out_dir, [p for p in inputs if p is not None], force)
    _writable_parent(out_dir)


def _umask_mode() -> int:
    mask = os.umask(0o077)
    os.umask(mask)
    return 0o777 & ~mask


def write_outputs(
    out_dir: Path, files: Mapping[str, bytes | Iterable[bytes]], *, inputs: Sequence[Path] = (), force: bool = False
) -> None:
    """Replace `out_dir` with exactly `files` (relative path -> bytes or an iterable of byte chunks),
    all or nothing.

    The files are written and fsynced into a new folder next to `out_dir`, which then takes its place by
    renames; if anything fails the previous `out_dir` is left as it was and the new folder is removed.
    A marker file (`.kamrules-out`) tells later runs the folder is kamrules' to replace. Refuses when
    `out_dir` is or holds one of `inputs`, is a file, or is a non-empty folder without the marker
    (unless `force`).
    """
    out_dir = _through_link(Path(out_dir))
    _refuse(out_dir, inputs, force)
    contents = {_check_relative(name): content for name, content in files.items()}
    contents[PurePosixPath(MARKER)] = _MARKER_TEXT
    parent = out_dir.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{out_dir}: cannot create the folder {parent} ({exc.strerror})") from None
    _remove_stale(parent, out_dir.name)
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.kamrules-new-", dir=parent))
    except OSError as exc:
        raise ConfigError(f"{out_dir}: cannot write next to it in {parent} ({exc.strerror})") from None
    os.chmod(staging, _umask_mode())  # mkdtemp makes 0700; OUT gets the mode any new folder would
    aside: Path | None = None
    try:
        _write_file(staging / MARKER, contents.pop(PurePosixPath(MARKER)))
        for relative in sorted(contents):
            _write_file(staging.joinpath(*relative.parts), contents[relative])
        for folder in sorted({p for r in contents for p in (staging.joinpath(*r.parts).parents)}, reverse=True):
            if folder == staging or staging in folder.parents:
                _fsync_dir(folder)
        if out_dir.exists():
            aside = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.kamrules-old-", dir=parent))
            os.rmdir(aside)
            os.rename(out_dir, aside)
        try:
            os.rename(staging, out_dir)
        except OSError:
            if aside is not None:
                os.rename(aside, out_dir)  # put the previous results back
                aside = None
            raise
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, OSError):
            raise ConfigError(f"{out_dir}: cannot write the results ({exc.strerror or exc}); nothing was changed") from None
        raise
    try:
        _fsync_dir(parent)  # make the renames durable; the results are in place either way
    except OSError:
        pass
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)
