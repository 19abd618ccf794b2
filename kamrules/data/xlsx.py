"""Excel output: the workbook written directly as SpreadsheetML, byte-deterministic."""

from __future__ import annotations

import io
import itertools
import zipfile
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kamrules.data.cells import EXCEL_EPOCH, number_text, plain_value
from kamrules.data.written import (
    _CHUNK_ROWS, _columns, _date_columns, _display_width, _text, _text_array, _typed_texts, guard_formulas,
)
from kamrules.errors import ConfigError
from kamrules.pack.fields import column_letter

_FIXED_TIME = datetime(2000, 1, 1)  # stands in for "now" in workbook properties
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry
_MAX_WIDTH, _MIN_WIDTH = 60, 8
_WIDTH_SAMPLE = 1000  # rows looked at to size Excel columns
_EXCEL_EPOCH = np.datetime64(EXCEL_EPOCH, "ns")


# The workbook is written directly as SpreadsheetML (the XML inside an .xlsx), one vectorised string
# operation per column: openpyxl, without lxml, needs ~30 µs a cell, minutes for a large table. The parts
# are the minimum Excel, LibreOffice and openpyxl read; their bytes depend on the table only.
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_EXCEL_ROWS = 1_048_576
_EXCEL_TEXT = 32_767  # characters in one cell
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

    texts = pc.replace_substring_regex(texts, r"[\x00-\x08\x0b\x0c\x0e-\x1f\x{fffe}\x{ffff}]", "")
    texts = pc.utf8_slice_codeunits(texts, 0, _EXCEL_TEXT)
    for raw, escaped in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        texts = pc.replace_substring(texts, raw, escaped)
    return texts


def _xlsx_cells(series: pd.Series, refs, has_time: bool = False, cut: list | None = None):
    """Each cell of a column as SpreadsheetML (an empty string for a missing value), vectorised. Text
    over Excel's 32,767 characters is cut there: `cut` gets (cells cut, the first one's reference)."""

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
            plain = [plain_value(v) for v in objects]
            if all(v is None or (isinstance(v, (bool, int, float)) and not isinstance(v, bool)) for v in plain):
                values, kind = pa.array([None if v is None else number_text(float(v)) for v in plain]), ""
            elif all(v is None or isinstance(v, bool) for v in plain):
                values, kind = pa.array([None if v is None else "1" if v else "0" for v in plain]), ' t="b"'
            else:
                texts = pa.array([None if v is None else _text(v) for v in plain], type=pa.string())
        if texts is not None:
            texts = pc.if_else(pc.equal(texts, ""), pa.scalar(None, pa.string()), texts)  # no cell, as in Excel
            texts = guard_formulas(texts)
            if cut is not None:
                _note_cut(texts, refs, cut)
            cells = pc.binary_join_element_wise(
                '<c r="', refs, '" t="inlineStr"><is><t xml:space="preserve">', _xml_text(texts), "</t></is></c>", ""
            )
            return cells.fill_null("")
    cells = pc.binary_join_element_wise('<c r="', refs, '"' + style + kind + "><v>", values, "</v></c>", "")
    return cells.fill_null("")


def _note_cut(texts, refs, cut: list) -> None:
    """(how many cells, the first one's reference, e.g. B17) of the texts Excel cannot hold whole."""
    long = pc.fill_null(pc.greater(pc.utf8_length(texts), _EXCEL_TEXT), False)
    count = pc.sum(long).as_py() or 0
    if count:
        cut.append((count, refs[pc.index(long, True).as_py()].as_py()))


def _xlsx_bytes(frame: pd.DataFrame, cut: list | None = None) -> bytes:
    """The workbook; `cut` (a list) gets (cells, first cell) for every column whose texts were cut at
    Excel's limit of 32,767 characters a cell, so the run can say so."""

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
                _xlsx_cells(chunk.iloc[:, i], pc.binary_join_element_wise(letters[i], numbers, ""), times.get(i, False),
                            cut)
                for i in range(width)
            ]
            if cells:
                joined = pc.binary_join_element_wise('<row r="', numbers, '">', *cells, "</row>", "")
            else:
                joined = pc.binary_join_element_wise('<row r="', numbers, '"/>', "")
            yield "".join(joined.to_pylist())

    names = pa.array([str(name) for name in frame.columns], type=pa.string())
    header_texts = _xml_text(guard_formulas(names)).to_pylist()
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
    return _zip(parts, large=rows * max(width, 1) * 80 > 2**31)


def _zip(parts: dict, large: bool) -> bytes:
    """The workbook's parts as a zip with fixed times (equal tables, equal bytes). The sheet is streamed,
    so it is never whole in memory; ZIP64 only when it may pass 2 GB (older Excel versions warn about
    ZIP64 in small files)."""
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for name, content in parts.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            with archive.open(info, "w", force_zip64=large and not isinstance(content, str)) as entry:
                for piece in [content] if isinstance(content, str) else content:
                    entry.write(piece.encode("utf-8"))
    return output.getvalue()


def _column_width(name: str, values: list[Any]) -> int:
    widest = max(_display_width(text) for text in [name] + [_text(v) for v in values])
    return min(max(widest + 2, _MIN_WIDTH), _MAX_WIDTH)


