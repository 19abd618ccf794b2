"""Tables as CSV, Excel, JSON or Parquet bytes.

Every writer is byte-deterministic (same frame, same bytes): no timestamps, stable order. Text cells
that a spreadsheet would run as a formula are neutralised (OWASP "CSV injection"). Writing the bytes
into the output folder is `writer.write_outputs`.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from typing import Any, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kamrules.data.cells import plain_number, plain_value
from kamrules.data.written import (
    LIST_SEPARATOR, _ARROW_ROWS, _CHUNK_ROWS, _chunks, _date_columns, _date_text, _text, _text_array, _typed_texts, guard_formulas, neutralise,
    text_bytes,
)
from kamrules.data.xlsx import _xlsx_bytes
from kamrules.errors import ConfigError

__all__ = ["TABLE_FORMATS", "PARQUET_OPTIONS", "table_bytes", "table_chunks", "csv_parts_chunks", "parquet_parts_chunks",
           "arrow_parts_chunks", "arrow_table", "csv_row_texts"]

TABLE_FORMATS = ("csv", "xlsx", "json", "parquet")
# Every Parquet file kamrules writes: pyarrow's writer with each option that shapes the bytes fixed, so
# the same table gives the same bytes whatever the library's defaults become (the values are pyarrow 26's
# defaults: files written before they were fixed are unchanged). No clock time is written; the footer's
# `created_by` names the pyarrow version, so the bytes are the same for one version of pyarrow.
PARQUET_OPTIONS = {"compression": "zstd", "compression_level": 1, "version": "2.6", "data_page_version": "1.0",
                   "use_dictionary": True, "write_statistics": True, "store_schema": True,
                   "write_page_index": False, "write_page_checksum": False}


def table_bytes(frame: pd.DataFrame, fmt: str, *, list_columns: Sequence[str] = ()) -> bytes:
    """The frame as the bytes of a csv, xlsx, json or parquet file (see `table_chunks`)."""
    return b"".join(table_chunks(frame, fmt, list_columns=list_columns))


def table_chunks(frame: pd.DataFrame, fmt: str, *, list_columns: Sequence[str] = (),
                 cut: list | None = None) -> Iterator[bytes]:
    """The frame as a csv, xlsx, json or parquet file, in pieces (CSV and JSON 64k rows at a time, so a
    large table is never held twice in memory); same frame, same bytes.

    CSV is UTF-8 with a byte-order mark (so Excel shows Chinese correctly) and `\\n` line ends. Cells
    holding lists (`list_columns`, or any list value) are joined with "; " in CSV and Excel and kept as
    arrays in JSON and Parquet. Text starting with =, +, -, @, tab or CR gets a leading "'" in CSV and
    Excel so that a spreadsheet shows it instead of running it. Excel holds 32,767 characters a cell:
    longer texts are cut there, and `cut` (a list) gets (cells, first cell) per column cut.
    """
    if fmt == "csv":
        return _csv_chunks(frame)
    if fmt == "xlsx":
        return iter([_xlsx_bytes(frame, cut)])
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
    return _csv_cell(plain_value(value))


def _json_object(value: Any) -> str:
    kind = type(value)
    if kind is list or kind is tuple:
        try:
            return json.dumps(value, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError):
            pass
    return json.dumps(_json_value(plain_value(value)), ensure_ascii=False, allow_nan=False)



def _csv_column(series: pd.Series, has_time: bool | None = None) -> list[str]:

    typed = _typed_texts(series, has_time)
    if typed is not None:
        return typed.fill_null("").to_pylist()
    texts, objects = _text_array(series)
    if texts is None:  # outputs share a few value objects (lists): each is formatted once
        cache: dict[int, str] = {}
        cells = []
        for value in objects:
            cell = cache.get(id(value))
            if cell is None:
                cell = cache[id(value)] = _csv_object(value)
            cells.append(cell)
        return cells
    return guard_formulas(texts).fill_null("").to_pylist()



def _csv_chunks(frame: pd.DataFrame) -> Iterator[bytes]:
    return csv_parts_chunks(iter([frame]), times=_date_columns(frame))


def csv_parts_chunks(parts: Iterator[pd.DataFrame], *, times: dict[int, bool] | None = None,
                     header: bool = True) -> Iterator[bytes]:
    """A CSV file from frames with the same columns, one after another (the header once): a table built
    part by part is written without being held whole. Same bytes as the concatenated frame's.

    How a date column is written (with or without a time of day) is decided once for the whole column,
    so parts may hold a date column only when `times` (from the whole column) is given. With `header`
    False, only the rows (no byte-order mark, no header line): the bytes a later piece of a file adds,
    so pieces made apart (say, in other processes) are appended to the first one's bytes."""
    first = header
    for part in parts:
        if times is None and _date_columns(part):
            raise ValueError("csv_parts_chunks: a part holds a date column; pass `times` for the whole column")
        for chunk in _chunks(part, _CHUNK_ROWS if part.shape[1] <= 1 else _ARROW_ROWS):
            buffer = io.StringIO()
            if first:
                buffer.write("\ufeff")
                _write_rows(buffer, [[neutralise(str(name))] for name in part.columns])
                first = False
            if not len(chunk):
                yield buffer.getvalue().encode("utf-8")
                continue
            if chunk.shape[1] > 1:  # (the csv module writes a lone empty cell as "", so one column goes its way)
                yield buffer.getvalue().encode("utf-8") + _csv_lines(chunk, times or {})
                continue
            _write_rows(buffer, [_csv_column(chunk.iloc[:, i], (times or {}).get(i)) for i in range(chunk.shape[1])])
            yield buffer.getvalue().encode("utf-8")


def _csv_array(series: pd.Series, has_time: bool | None) -> pa.Array:
    """A column's CSV cells (before quoting) as a pyarrow string array: the same texts as `_csv_column`.
    A categorical column, or one whose cells share a few objects, comes back dictionary-encoded: each
    distinct value is formatted (and later quoted) once, not once per row."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        categories = pd.Series(_category_cells(series), dtype=object)
        texts = pa.concat_arrays([_plain(_csv_array(categories, None)), pa.array([""], type=pa.string())])
        codes = series.cat.codes.to_numpy()
        return pa.DictionaryArray.from_arrays(np.where(codes < 0, len(categories), codes).astype(np.int32), texts)
    typed = _typed_texts(series, has_time)
    if typed is not None:
        return typed.fill_null("")
    texts, objects = _text_array(series)
    if texts is not None:
        return guard_formulas(texts).fill_null("")
    codes, firsts = _shared_objects(objects)  # outputs share a few value objects (lists): each formatted once
    return pa.DictionaryArray.from_arrays(codes.astype(np.int32),
                                          pa.array([_csv_object(objects[i]) for i in firsts], type=pa.string()))


def _category_cells(series: pd.Series) -> np.ndarray:
    """A categorical column's categories as cells: a tuple is the list a coded list column held."""
    categories = series.cat.categories
    cells = np.empty(len(categories), dtype=object)
    for i, value in enumerate(categories):
        cells[i] = list(value) if type(value) is tuple else value
    return cells


def _each_row(array: pa.Array, function) -> pa.Array:
    """`function` (a per-cell kernel) of every cell; on a dictionary array, of each distinct value once."""
    if pa.types.is_dictionary(array.type):
        return function(array.dictionary).take(array.indices)
    return function(array)


def _plain(array: pa.Array) -> pa.Array:
    """A dictionary array decoded to its cells (any other array as it is)."""
    return array.dictionary.take(array.indices) if pa.types.is_dictionary(array.type) else array


def _shared_objects(objects: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(a code per cell, the first position of each code) for a column of objects, by identity: a
    column of a million cells that share a few list objects is formatted a few times, not a million."""
    codes, distinct = pd.factorize(np.fromiter(map(id, objects), dtype=np.int64, count=len(objects)))
    firsts = np.empty(len(distinct), dtype=np.int64)
    firsts[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
    return codes, firsts


def csv_row_texts(chunk: pd.DataFrame, times: dict[int, bool] | None = None, line_end: str = "") -> pa.Array:
    """Each row of the frame as one CSV line (ending with `line_end`), built column-wise in Arrow:
    byte-identical to `_write_rows` (Python's csv writer, QUOTE_MINIMAL: a cell holding a comma, a
    quote or "\n" is quoted, its quotes doubled; a row holding a carriage return has every cell quoted)."""
    times = _date_columns(chunk) if times is None else times
    arrays = [_csv_array(chunk.iloc[:, i], times.get(i)) for i in range(chunk.shape[1])]
    # one scan per column (of its distinct values when coded) finds the columns that need any care
    careful = [pc.any(pc.match_substring_regex(_values(array), '[,"\n\r]')).as_py() is True for array in arrays]
    row_has_return = None
    for array in (a for a, care in zip(arrays, careful) if care):
        flags = _each_row(array, lambda cells: pc.match_substring(cells, "\r"))
        row_has_return = flags if row_has_return is None else pc.or_(row_has_return, flags)
    quote_rows = row_has_return is not None and pc.any(row_has_return).as_py()
    cells = []
    for array, care in zip(arrays, careful):
        if quote_rows:  # rare: a carriage return quotes every cell of its row
            array = _plain(array)
        elif not care:
            cells.append(_plain(array))
            continue
        values = _values(array)  # a coded column is quoted once per distinct value
        special = pc.match_substring_regex(values, '[,"\n]')
        if quote_rows:
            special = pc.or_(special, row_has_return)
        if pc.any(special).as_py():
            quoted = pc.binary_join_element_wise('"', pc.replace_substring(values, '"', '""'), '"', "")
            values = pc.if_else(special, quoted, values)
        cells.append(values.take(array.indices) if pa.types.is_dictionary(array.type) else values)
    if line_end and cells:
        cells[-1] = pc.binary_join_element_wise(cells[-1], line_end, "")
    return pc.binary_join_element_wise(*cells, ",")


def _values(array: pa.Array) -> pa.Array:
    """The cells to examine: a dictionary array's distinct values, any other array's cells."""
    return array.dictionary if pa.types.is_dictionary(array.type) else array


def _csv_lines(chunk: pd.DataFrame, times: dict[int, bool]) -> bytes:
    """The chunk's rows as CSV bytes, "\n" after each (see `csv_row_texts`)."""
    return text_bytes(csv_row_texts(chunk, times, line_end="\n"))


def _write_rows(buffer: io.StringIO, columns: list[list[str]]) -> None:
    """CSV rows from columns of text. Python's csv module quotes a value holding "\n" but not one holding
    a lone carriage return (with "\n" line ends), which Excel and pyarrow read as a line break: rows
    with a CR are written with every value quoted."""
    plain = csv.writer(buffer, lineterminator="\n")
    if not any("\r" in "".join(column) for column in columns):
        plain.writerows(zip(*columns))
        return
    quoted = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)
    for row in zip(*columns):
        (quoted if any("\r" in cell for cell in row) else plain).writerow(row)


def _json_value(value: Any) -> Any:
    if isinstance(value, list):
        return [_json_value(item) for item in value]
    if isinstance(value, float):
        return plain_number(value)
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
    return _parquet_file(_arrow_table(frame, list_columns))


_ARROW_KINDS = {"text": pa.string(), "number": pa.float64(), "boolean": pa.bool_(), "list": pa.list_(pa.string())}


def parquet_parts_chunks(parts: Iterator[pd.DataFrame], kinds: Mapping[str, str]) -> Iterator[bytes]:
    """A Parquet file from frames with the same columns, one row group per part, written as each part
    comes (neither the whole frame nor the whole Arrow table is held). `kinds` gives each column's kind
    (text, number, boolean, list), so a part where a column is missing throughout is typed as the
    column is. A single part with the types its values give is the same file as `_parquet_bytes`."""
    import pyarrow.parquet as pq

    lists = [name for name, kind in kinds.items() if kind == "list"]
    sink, writer = _Sink(), None
    try:
        for part in parts:
            table = _arrow_table(part, lists, null_as_text=False)
            schema = pa.schema([pa.field(name, _ARROW_KINDS[kinds[name]]) if kinds.get(name) in _ARROW_KINDS
                                else table.schema.field(name) for name in table.column_names])
            try:
                table = table.cast(schema)
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
                raise ConfigError(f"cannot write the decision table as Parquet ({exc}); use --format csv") from None
            if writer is None:
                writer = pq.ParquetWriter(sink, schema, **PARQUET_OPTIONS)
            writer.write_table(table)
            del table, part
            pa.default_memory_pool().release_unused()  # Arrow's allocator keeps freed pages otherwise
            yield sink.take()
    finally:
        if writer is not None:
            writer.close()
    yield sink.take()


def arrow_parts_chunks(tables: Iterator[pa.Table], schema: pa.Schema,
                       metadata: Mapping[str, str] | None = None) -> Iterator[bytes]:
    """A Parquet file from Arrow tables with `schema` (each cast to it: a part where a column is missing
    throughout is typed as the column is), one row group per table, bytes handed on as each is written.
    `metadata` (text keys and values) goes into the file's key-value metadata. No table at all gives a
    file with the schema and no rows."""
    import pyarrow.parquet as pq

    if metadata:
        schema = schema.with_metadata({**(schema.metadata or {}), **metadata})
    sink, plain = _Sink(), schema.remove_metadata()
    writer = pq.ParquetWriter(sink, schema, **PARQUET_OPTIONS)
    try:
        for table in tables:
            writer.write_table(table.select(plain.names).cast(plain))  # (the writer compares without metadata)
            del table
            yield sink.take()
    finally:
        writer.close()
    yield sink.take()


def arrow_table(frame: pd.DataFrame, list_columns: Sequence[str] = ()) -> pa.Table:
    """The frame as an Arrow table, as the Parquet writer takes it: numbers, booleans and dates typed,
    `list_columns` (and any column of lists) as lists of text, mixed kinds as text, missing as null."""
    return _arrow_table(frame, list_columns)


class _Sink(io.RawIOBase):
    """Where the Parquet writer puts its bytes, handed on as they come (it only appends)."""

    def __init__(self):
        super().__init__()
        self._pieces: list[bytes] = []
        self._position = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._pieces.append(bytes(data))
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def take(self) -> bytes:
        data, self._pieces = b"".join(self._pieces), []
        return data


def _parquet_file(table) -> bytes:
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(table, buffer, **PARQUET_OPTIONS)
    return buffer.getvalue()


def _arrow_table(frame: pd.DataFrame, list_columns: Sequence[str], null_as_text: bool = True):
    arrays, names = [], []
    for position, name in enumerate(frame.columns):
        series = frame.iloc[:, position]
        if series.dtype.kind == "M":
            array = pa.array(series.to_numpy(dtype="datetime64[ns]"), type=pa.timestamp("ns"))
        elif isinstance(series.dtype, np.dtype) and series.dtype.kind in "fiub":
            array = pa.array(series.to_numpy(), from_pandas=True)  # NaN -> null
        elif isinstance(series.dtype, pd.CategoricalDtype):  # a code per row: the distinct values converted once
            codes = series.cat.codes.to_numpy()
            lists = [name] if str(name) in list_columns else []
            distinct = _arrow_table(pd.DataFrame({name: _category_cells(series)}), lists,
                                    null_as_text=False).column(0).combine_chunks()
            array = distinct.take(pa.array(codes, mask=codes < 0))
            if null_as_text and pa.types.is_null(array.type):
                array = array.cast(pa.string())
        elif str(name) in list_columns:
            # outputs share a few list objects across rows: each distinct one converted once, then taken
            objects = series.astype(object).to_numpy()
            codes, firsts = _shared_objects(objects)
            distinct = [plain_value(objects[i]) for i in firsts]
            distinct = [None if plain is None else [_text(item) for item in (plain if isinstance(plain, list) else [plain])]
                        for plain in distinct]
            array = pa.array(distinct, type=pa.list_(pa.string())).take(pa.array(codes))
        else:
            objects = series.astype(object).to_numpy()
            try:  # one kind of value throughout (text, booleans, lists): pyarrow converts it in C
                array = pa.array(objects, from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed kinds: keep them as text
                plain = [plain_value(v) for v in objects]
                array = pa.array([None if v is None else _text(v) for v in plain], type=pa.string())
            if null_as_text and pa.types.is_null(array.type):
                array = array.cast(pa.string())
        arrays.append(array)
        names.append(str(name))
    return pa.Table.from_arrays(arrays, names=names)
