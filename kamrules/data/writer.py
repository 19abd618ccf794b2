"""Writing results: tables as CSV, Excel, JSON or Parquet bytes, and the output folder, atomically.

Every writer is byte-deterministic (same frame, same bytes): no timestamps, stable order. Text cells
that a spreadsheet would run as a formula are neutralised (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import glob
import io
import json
import os
import sys
import shutil
import tempfile
import time
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from typing import Any, Iterable, Iterator, Mapping, Sequence

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

__all__ = ["TABLE_FORMATS", "MARKER", "table_bytes", "table_chunks", "csv_parts_chunks", "parquet_parts_chunks", "write_outputs", "neutralise"]

TABLE_FORMATS = ("csv", "xlsx", "json", "parquet")
MARKER = ".kamrules-out"
_MARKER_TEXT = b"This folder was written by kamrules; the next run replaces it as a whole.\n"
_STALE_SECONDS = 3600  # leftover temporary folders older than this are removed



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


def csv_parts_chunks(parts: Iterator[pd.DataFrame], *, times: dict[int, bool] | None = None) -> Iterator[bytes]:
    """A CSV file from frames with the same columns, one after another (the header once): a table built
    part by part is written without being held whole. Same bytes as the concatenated frame's.

    How a date column is written (with or without a time of day) is decided once for the whole column,
    so parts may hold a date column only when `times` (from the whole column) is given."""
    first = True
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
                writer = pq.ParquetWriter(sink, schema, compression="zstd")
            writer.write_table(table)
            del table, part
            pa.default_memory_pool().release_unused()  # Arrow's allocator keeps freed pages otherwise
            yield sink.take()
    finally:
        if writer is not None:
            writer.close()
    yield sink.take()


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
    pq.write_table(table, buffer, compression="zstd")
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



# --------------------------------------------------------------------------------------------------
# The output folder


def _check_relative(name: str) -> PurePosixPath:
    relative = PurePosixPath(name.replace("\\", "/"))
    if not name or relative.is_absolute() or ".." in relative.parts or str(relative) in ("", "."):
        raise ConfigError(f"cannot write '{name}': output file names must stay inside the output folder")
    return relative


def _fsync_path(path: Path) -> None:
    fd = os.open(_native(path), os.O_RDWR)  # a file we just wrote; Windows needs write access to flush it
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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


def _fsync_files(paths: Sequence[Path]) -> None:
    """fsync every written file before the folder is renamed into place. In threads: fsync releases the
    GIL and the file system commits concurrent fsyncs together (thousands of playbooks: 5.8 ms a file
    one after another, 0.65 ms in 16 threads, measured on ext4)."""
    from concurrent.futures import ThreadPoolExecutor

    if len(paths) < 4:
        for path in paths:
            _fsync_path(path)
        return
    with ThreadPoolExecutor(max_workers=min(16, len(paths))) as pool:
        list(pool.map(_fsync_path, paths))


def _apart_groups(names: list, jobs: int) -> list[list]:
    """The files each forked writer takes (round robin over `jobs` - 1 of them); none without fork."""
    from kamrules.processes import can_fork

    workers = min(max(jobs, 1) - 1, len(names)) if can_fork() else 0
    return [names[i::workers] for i in range(workers)]


def _write_elsewhere(files: list[tuple[Path, bytes | Iterable[bytes]]]):
    """Write (and fsync) `files` in a forked process; the handle to wait for it or stop it."""
    from kamrules.processes import fork_and_run

    def write() -> None:
        for path, content in files:
            _write_file(path, content)
            _fsync_path(path)

    return fork_and_run(write)


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
    out_dir: Path, files: Mapping[str, bytes | Iterable[bytes]], *, inputs: Sequence[Path] = (), force: bool = False,
    apart: Sequence[str] = (), jobs: int = 1,
) -> None:
    """Replace `out_dir` with exactly `files` (relative path -> bytes or an iterable of byte chunks),
    all or nothing.

    With `jobs` > 1, the files named in `apart` (large outputs produced as they are written) are
    produced and written in up to `jobs` - 1 forked processes while this one writes the others: a
    million-account run makes its decision table, trace and actions at the same time.

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
    children: list = []
    try:
        written = [staging / MARKER]
        _write_file(written[0], contents.pop(PurePosixPath(MARKER)))
        elsewhere_names = set(apart)
        groups = _apart_groups([r for r in sorted(contents) if str(r) in elsewhere_names], jobs)
        children = [_write_elsewhere([(staging.joinpath(*r.parts), contents[r]) for r in group]) for group in groups]
        elsewhere = {r for group in groups for r in group}
        for relative in sorted(contents):
            if relative not in elsewhere:
                written.append(staging.joinpath(*relative.parts))
                _write_file(written[-1], contents[relative])
        while children:
            children[0].wait()
            children.pop(0)
        _fsync_files(written)  # (the files written elsewhere were fsynced there)
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
        for child in children:
            child.stop()
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

