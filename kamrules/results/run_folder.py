"""A finished run's folder as `evaluate --previous`, `diff OUT_A OUT_B` and `explain --run` read it.

A run folder is a file the user hands kamrules like any data file: copied from a colleague, re-saved by
Excel (GBK, UTF-16, CRLF, TRUE/FALSE), edited by hand, or damaged. It is read with the guards of a data
file, by one reader:

- confined and bounded: `manifest.json` and the decision table must be regular files inside the folder
  (a link out of it, a FIFO or a device is refused, `kamrules.pack.guards`), the manifest at most
  16 MB and the table at most 8 GB;
- read by the data reader's own format readers (`kamrules.data.reader.read_cells`): encodings are
  detected, quotes and row widths checked, Excel and Parquet files guarded; every format kamrules
  writes is read (CSV, JSON, Parquet; Excel through the pack's labels);
- validated: every manifest entry kamrules uses has its type checked (an `as_of` in 1800-2199, an input
  `name` that is a plain file name, a text `encoding`, a `delimiter` the parser can use …), and the
  decision table's cells are converted by the kind the manifest records for each column (text, number,
  boolean, list): values are compared, not spellings — `TRUE` and `true` are one boolean, `1200.0` and
  `1200` one number, and an id the formula guard wrote as `'+86 138…` is the id `+86 138…` again;
- a bad value (`inf`, `1e308`, `maybe` for a boolean), a duplicate id, an empty table or an unclosed
  quote is an error naming the file, the row and the column. Accounts without an id (a run made with
  `--on-bad-value missing`) are kept and counted, but cannot be matched with another run.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kamrules.data.wording import say
from kamrules.errors import ConfigError, DataError, UsageError
from kamrules.pack import recorded_lists

MANIFEST = "manifest.json"
MAX_MANIFEST_BYTES = 16 * 1024 * 1024  # a manifest of a pack with hundreds of fields is ~50 KB
MAX_TABLE_BYTES = 8 * 1024**3  # a million accounts' decision table is ~0.5 GB as CSV
KINDS = ("text", "number", "boolean", "list")
TABLE_FORMATS = ("csv", "json", "parquet", "xlsx")
_SHOWN = 5  # bad cells listed in one message; the rest are counted


# --------------------------------------------------------------------------------------------------
# manifest.json


def read_manifest(folder: Path, lang: str = "en") -> dict:
    """The validated manifest of a `kamrules evaluate` output folder: only the entries kamrules uses,
    each of the type it needs (missing ones are absent or None). ConfigError naming the file and the
    entry for a folder that is not a run, a manifest that is not JSON or holds a wrong type."""
    from kamrules.data.guards import json_loads
    from kamrules.pack.guards import SourceError, read_source

    folder = Path(folder)
    path = folder / MANIFEST
    if not path.exists() and not path.is_symlink():
        raise ConfigError(say(lang, "run_no_manifest", folder=folder))
    try:
        text = read_source(path, folder, max_bytes=MAX_MANIFEST_BYTES).decode("utf-8-sig")
    except SourceError as exc:
        raise ConfigError(f"{exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(say(lang, "run_manifest_json", path=path, detail=exc)) from None
    import json

    try:
        document = json_loads(text, str(path), lang)
    except json.JSONDecodeError as exc:
        raise ConfigError(say(lang, "run_manifest_json", path=path, detail=exc)) from None
    except DataError as exc:  # nested thousands deep, a lone surrogate: said as about a customer file
        detail = str(exc).removeprefix(f"{path}: ").removeprefix(f"{path}：").split(";")[0].split("；")[0]
        raise ConfigError(say(lang, "run_manifest_json", path=path, detail=detail)) from None
    if not isinstance(document, dict):
        raise ConfigError(say(lang, "run_manifest_not", path=path))
    return _Checked(path, lang).manifest(document)


class _Checked:
    """The checks of one manifest: each entry's type, with the entry's dotted name in the message."""

    def __init__(self, path: Path, lang: str):
        self.path, self.lang = path, lang

    def fail(self, key: str, value: Any, wanted: str) -> NoReturn:
        from kamrules.data.formats import _json_kind

        raise ConfigError(say(self.lang, "run_manifest_bad", path=self.path, key=key,
                              found=_json_kind(value, self.lang), wanted=say(self.lang, f"json_{wanted}")))

    def problem(self, key: str, value: Any, why: str) -> NoReturn:
        raise ConfigError(say(self.lang, "run_manifest_value", path=self.path, key=key, value=str(value)[:200],
                              why=why))

    def object(self, parent: dict, key: str, name: str) -> dict:
        value = parent.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(name, value, "object")
        return value

    def text(self, parent: dict, key: str, name: str) -> str | None:
        value = parent.get(key)
        if value is not None and not isinstance(value, str):
            self.fail(name, value, "string")
        return value

    def texts(self, parent: dict, key: str, name: str) -> list[str] | None:
        value = parent.get(key)
        if value is None:
            return None
        if not isinstance(value, list):
            self.fail(name, value, "array")
        for item in value:
            if not isinstance(item, str):
                self.fail(f"{name}[…]", item, "string")
        return value

    def manifest(self, document: dict) -> dict:
        checked: dict[str, Any] = {"as_of": self.as_of(document)}
        pack = self.object(document, "pack", "pack")
        overrides = self.object(pack, "overrides", "pack.overrides")
        for name, value in overrides.items():
            if value is not None and not isinstance(value, (str, int, float, bool)):
                self.fail(f"pack.overrides.{name}", value, "string")
        checked["pack"] = {"name": self.text(pack, "name", "pack.name"), "version": self.text(pack, "version", "pack.version"),
                           "hash": self.text(pack, "hash", "pack.hash"), "overrides": dict(overrides)}
        checked["input"] = self.input(self.object(document, "input", "input"))
        checked["decisions"] = self.decisions(document)
        roles = self.object(document, "roles", "roles")
        checked["roles"] = {role: self.text(roles, role, f"roles.{role}") for role in roles}
        checked["columns"] = self.columns(self.object(document, "columns", "columns"))
        checked["outputs"] = self.texts(document, "outputs", "outputs") or []
        checked["table"] = self.table(self.object(document, "table", "table"))
        lang = self.text(document, "lang", "lang")
        checked["lang"] = lang if lang in _langs() else None  # the run's --lang (explain --run speaks it)
        history = self.object(document, "history", "history")  # where its history facts came from
        if history:
            checked["history"] = {"source": self.text(history, "source", "history.source"),
                                  "kind": self.text(history, "kind", "history.kind"),
                                  "digest": self.text(history, "digest", "history.digest")}
        return checked

    def as_of(self, document: dict) -> str:
        from kamrules.data.guards import DATE_RANGE

        value = document.get("as_of")
        try:
            day = dt.date.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            day = None
        if day is None:
            if value is not None and not isinstance(value, str):
                self.fail("as_of", value, "string")
            self.problem("as_of", value, say(self.lang, "run_why_date"))
        first, last = (stamp.date() for stamp in DATE_RANGE)
        if not first <= day <= last:
            self.problem("as_of", value, say(self.lang, "run_why_range", first=first, last=last))
        return day.isoformat()

    def input(self, recorded: dict) -> dict:
        from kamrules.data.cells import delimiter_char
        from kamrules.data.formats import INPUT_FORMATS
        from kamrules.data.options import check_encoding

        name = self.text(recorded, "name", "input.name")
        if name is not None and (name != Path(name).name or name in ("", ".", "..") or "\\" in name or "\x00" in name):
            self.problem("input.name", name, say(self.lang, "run_why_name"))
        sha = self.text(recorded, "sha256", "input.sha256")
        if sha is not None and not re.fullmatch(r"[0-9a-f]{64}", sha):
            self.problem("input.sha256", sha, say(self.lang, "run_why_sha"))
        fmt = self.text(recorded, "format", "input.format")
        if fmt is not None and fmt not in INPUT_FORMATS:
            self.problem("input.format", fmt, say(self.lang, "run_why_one_of", values=", ".join(INPUT_FORMATS)))
        encoding = self.text(recorded, "encoding", "input.encoding")
        if encoding is not None:
            try:
                check_encoding(encoding, self.lang)
            except UsageError:
                self.problem("input.encoding", encoding, say(self.lang, "run_why_encoding"))
        delimiter = self.text(recorded, "delimiter", "input.delimiter")
        if delimiter is not None and delimiter_char(delimiter) is None:
            self.problem("input.delimiter", delimiter, say(self.lang, "run_why_delimiter"))
        sheet = recorded.get("sheet")
        if sheet is not None and (isinstance(sheet, bool) or not isinstance(sheet, (str, int))):
            self.fail("input.sheet", sheet, "string")
        rows = {option: self.count(recorded, option, f"input.{option}") for option in ("header_row", "skip_footer")}
        return {"name": name, "sha256": sha, "format": fmt, "encoding": encoding, "delimiter": delimiter,
                "sheet": sheet, **rows}

    def count(self, parent: dict, key: str, name: str) -> int | None:
        """A whole number of rows (--header-row, --skip-footer), or None."""
        value = parent.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(name, value, "number")
        if not 0 <= value <= 10_000_000:
            self.problem(name, value, say(self.lang, "run_why_rows"))
        return value

    def decisions(self, document: dict) -> dict | None:
        if document.get("decisions") is None:
            return None  # a manifest from before decisions were recorded
        decisions = self.object(document, "decisions", "decisions")
        checked = {}
        for decision, entry in decisions.items():
            if not isinstance(entry, dict):
                self.fail(f"decisions.{decision}", entry, "object")
            checked[decision] = {"outputs": self.texts(entry, "outputs", f"decisions.{decision}.outputs") or [],
                                 "hit": self.text(entry, "hit", f"decisions.{decision}.hit")}
        return checked

    def columns(self, columns: dict) -> dict:
        fields = columns.get("fields")
        if fields is not None and not isinstance(fields, list):
            self.fail("columns.fields", fields, "array")
        rows = []
        for row in fields or []:
            if not isinstance(row, dict):
                self.fail("columns.fields[…]", row, "object")
            field_name, column = self.text(row, "field", "columns.fields[…].field"), self.text(row, "column", "columns.fields[…].column")
            if field_name and column:
                rows.append({"field": field_name, "column": column})
        where = self.object(columns, "where", "columns.where")
        checked = {"fields": rows, "where": {"condition": self.text(where, "condition", "columns.where.condition")}}
        mapping = self.object(columns, "file", "columns.file")  # the run's --columns file, as given
        if mapping:
            sha = self.text(mapping, "sha256", "columns.file.sha256")
            if sha is not None and not re.fullmatch(r"[0-9a-f]{64}", sha):
                self.problem("columns.file.sha256", sha, say(self.lang, "run_why_sha"))
            checked["file"] = {"path": self.text(mapping, "path", "columns.file.path"), "sha256": sha}
        return checked

    def table(self, table: dict) -> dict:
        kinds = self.object(table, "columns", "table.columns")
        for name, kind in kinds.items():
            if kind not in KINDS:
                self.problem(f"table.columns.{name}", kind, say(self.lang, "run_why_one_of", values=", ".join(KINDS)))
        file = self.text(table, "file", "table.file")
        if file is not None and file not in {f"decisions.{fmt}" for fmt in TABLE_FORMATS}:
            self.problem("table.file", file, say(self.lang, "run_why_one_of",
                                                 values=", ".join(f"decisions.{fmt}" for fmt in TABLE_FORMATS)))
        lang = self.text(table, "lang", "table.lang")
        return {"file": file, "lang": lang if lang in _langs() else None, "columns": dict(kinds)}


def _langs() -> tuple:
    from kamrules.i18n import LANGS

    return tuple(LANGS)


# --------------------------------------------------------------------------------------------------
# the decision table


@dataclass
class DecisionTable:
    """A run's decision table as values: one typed column per column of the file (text and list columns
    as str or None, numbers as float with NaN, booleans as True/False/None), in file order."""

    path: Path
    frame: pd.DataFrame  # RangeIndex, one row per account as in the file
    row_numbers: np.ndarray  # the row each account is on in the file (as the user sees it)
    kinds: dict = field(default_factory=dict)  # column -> text, number, boolean or list


def table_path(folder: Path, manifest: dict, lang: str = "en") -> Path:
    """The decision table of a run: the one the manifest names, else the one of decisions.csv, .json,
    .parquet or .xlsx the folder holds."""
    folder = Path(folder)
    named = (manifest.get("table") or {}).get("file")
    candidates = [named] if named else [f"decisions.{fmt}" for fmt in TABLE_FORMATS
                                        if f"decisions.{fmt}" in manifest.get("outputs", [])]
    candidates += [f"decisions.{fmt}" for fmt in TABLE_FORMATS]
    for name in candidates:
        if (folder / name).exists() or (folder / name).is_symlink():
            return folder / name
    raise ConfigError(say(lang, "run_no_table", folder=folder))


def read_decisions(folder: Path, manifest: dict, lang: str = "en", pack=None, kinds: dict | None = None) -> DecisionTable:
    """The decision table of the run in `folder` as values (see the module's docstring). `kinds`: each
    column's kind when the manifest does not record them (an older run; `--previous` lends the current
    run's); else they are told from the cells. `pack` turns an Excel table's labels back into codes."""
    from kamrules.data.options import ReadOptions
    from kamrules.data.reader import read_cells
    from kamrules.pack.guards import SourceError, check_source

    folder = Path(folder)
    path = table_path(folder, manifest, lang)
    try:
        check_source(path, folder, max_bytes=MAX_TABLE_BYTES)
    except SourceError as exc:
        raise ConfigError(f"{exc}") from None
    fmt = path.suffix.lstrip(".")
    # kamrules wrote it: the header is its first row and nothing follows the accounts (no title rows or
    # footer to find, as in a CRM export)
    try:
        raw, _ = read_cells(path, ReadOptions(input_format=fmt, lang=lang, header_row=1, skip_footer=0))
    except DataError as exc:  # the reader's words are about a customer file: say what this file is
        raise DataError(f"{exc}\n{say(lang, 'run_table_damaged')}") from None
    headers = list(raw.headers)
    recorded = (manifest.get("table") or {}).get("columns") or {}
    if fmt == "xlsx":
        headers, decode = _excel_names(path, headers, recorded or kinds or {}, manifest, pack, lang)
    else:
        decode = {}
    if "account_id" not in headers:
        raise ConfigError(say(lang, "run_no_id", table=path))
    known = {**(kinds or {}), **recorded}
    columns, found, bad = {}, {}, []
    for name, column in zip(headers, raw.columns):
        if name in columns:
            raise ConfigError(say(lang, "run_repeated_column", table=path, column=name))
        kind = known.get(name) or _told_kind(name, column, manifest)
        values, problems = _values(column, kind, fmt, decode.get(name), lang)
        columns[name], found[name] = values, kind
        bad += [(int(raw.row_numbers[i]), name, reason, column[int(i)].as_py()) for i, reason in problems]
    if bad:
        raise DataError(_bad_cells(path, bad, lang))
    frame = pd.DataFrame(columns, index=pd.RangeIndex(len(raw.row_numbers)))
    _refuse_repeated_ids(path, frame["account_id"], raw.row_numbers, lang)
    return DecisionTable(path, frame, raw.row_numbers, found)


def _told_kind(name: str, column: pa.Array, manifest: dict) -> str:
    """A column's kind for a run whose manifest does not record it: ids, names and rules are text, a
    collect decision's output a list; otherwise booleans if every cell is true/false, numbers if every
    cell is a number, else text."""
    from kamrules.data.convert import column_texts, convert_column
    from kamrules.pack.fields import FieldSpec

    decisions = manifest.get("decisions") or {}
    if name in ("account_id", "account_name", "account_manager", "region") or name.endswith("_rule"):
        return "text"
    if any(name in d["outputs"] and recorded_lists(d.get("hit")) for d in decisions.values()):
        return "list"
    texts = pc.utf8_trim_whitespace(column_texts(column))
    present = texts.filter(pc.not_equal(texts, ""))
    if not len(present):
        return "text"
    if pc.all(pc.is_in(pc.utf8_lower(present), value_set=pa.array(["true", "false"]))).as_py():
        return "boolean"
    _, positions, _ = convert_column(FieldSpec(name=name, type="number"), present)
    return "number" if not len(positions) else "text"


def _values(column: pa.Array, kind: str, fmt: str, codes: dict | None, lang: str) -> tuple[Any, list]:
    """(the column's values, [(position, reason)] of cells that are not of its kind)."""
    from kamrules.data.convert import column_texts, convert_column
    from kamrules.pack.fields import FieldSpec

    if kind in ("number", "boolean"):
        values, positions, reasons = convert_column(FieldSpec(name="value", type=kind), column,
                                                    _options(lang))
        if kind == "boolean":
            values = pd.Series(values.to_numpy(dtype=object), dtype=object)
        return values.reset_index(drop=True), list(zip(positions.tolist(), reasons))
    texts = column_texts(column)
    if fmt in ("csv", "xlsx"):  # the formula guard's apostrophe is not part of the value
        from kamrules.data.written import unguard_formulas

        texts = unguard_formulas(texts)
    # Each distinct text is read once (a list of actions repeats thousands of times), then spread back.
    encoded = pc.dictionary_encode(texts)
    distinct = encoded.dictionary.to_numpy(zero_copy_only=False).astype(object)
    distinct[distinct == ""] = None
    if codes:  # an Excel table's labels, back to the pack's codes
        distinct = np.array([None if c is None else codes.get(c, c) for c in distinct], dtype=object)
    if kind == "list":
        distinct = np.array([None if c is None else _list_text(c, codes, fmt) for c in distinct], dtype=object)
    return pd.Series(distinct[encoded.indices.to_numpy(zero_copy_only=False)], dtype=object), []


def _list_text(cell: str, codes: dict | None, fmt: str) -> str | None:
    """A list cell as the CSV decision table writes it ("a; b"), whatever spaces it was re-saved with;
    JSON and Parquet keep lists as arrays (read as their JSON text)."""
    import json

    items = None
    if fmt in ("json", "parquet") and cell.startswith("["):
        try:
            array = json.loads(cell)
        except ValueError:
            array = None
        if isinstance(array, list):
            from kamrules.data.cells import cell_text

            items = [cell_text(item) for item in array if item is not None]
    if items is None:
        items = [item.strip() for item in cell.split(";") if item.strip()]
    if codes:
        items = [codes.get(item, item) for item in items]
    return "; ".join(items) or None


def _options(lang: str):
    from kamrules.data.options import ReadOptions

    return ReadOptions(lang=lang)


def _bad_cells(path: Path, bad: list, lang: str) -> str:
    bad.sort()
    lines = [say(lang, "run_bad_cell", row=row, column=column, value=value, reason=reason)
             for row, column, reason, value in bad[:_SHOWN]]
    more = say(lang, "first_more", n=len(bad) - _SHOWN) if len(bad) > _SHOWN else ""
    return say(lang, "run_bad_cells", table=path, n=len(bad)) + "\n" + "\n".join("  " + line for line in lines) \
        + (f"\n  {more}" if more else "")


def _refuse_repeated_ids(path: Path, ids: pd.Series, rows: np.ndarray, lang: str) -> None:
    present = ids.notna().to_numpy()
    repeated = ids.duplicated(keep=False).to_numpy() & present
    if not repeated.any():
        return
    first = ids[repeated].iloc[0]
    where = rows[(ids == first).to_numpy() & present]
    raise DataError(say(lang, "run_repeated_id", table=path, id=first,
                        rows=say(lang, "and").join(str(int(r)) for r in where[:_SHOWN]),
                        n=int(repeated.sum())))


def _excel_names(path: Path, headers: list, kinds: dict, manifest: dict, pack, lang: str) -> tuple[list, dict]:
    """An Excel decision table's headers as column names, and per labelled column its label -> code:
    the workbook carries the pack's labels in the run's language (results/labels.py)."""
    from kamrules.i18n import LANGS
    from kamrules.results.labels import labelled_headers, value_codes

    if set(headers) >= {"account_id"} and all(h in kinds for h in headers):
        return headers, {}
    names = list(kinds) or _names_from_manifest(manifest)
    if pack is None or not names:
        raise ConfigError(say(lang, "run_excel_pack", table=path))
    recorded = (manifest.get("table") or {}).get("lang")
    best = None
    for language in ([recorded] if recorded else []) + [x for x in LANGS if x != recorded]:
        shown = labelled_headers(names, pack, language)
        matched = {label: name for label, name in zip(shown, names) if label in headers}
        if best is None or len(matched) > len(best[1]):
            best = (language, matched)
    language, matched = cast(tuple, best)  # (set: LANGS is never empty)
    if "account_id" not in matched.values():
        raise ConfigError(say(lang, "run_excel_pack", table=path))
    renamed = [matched.get(h, h) for h in headers]
    return renamed, {name: value_codes(pack, name, language) for name in renamed if name in names}


def _names_from_manifest(manifest: dict) -> list[str]:
    """The columns a decision table has, from an older manifest (its decisions and roles)."""
    names = ["account_id", "account_name", *[n for n in (manifest.get("roles") or {}).values() if n]]
    for decision, entry in (manifest.get("decisions") or {}).items():
        names += [*entry["outputs"], f"{decision}_rule"]
    return list(dict.fromkeys(names))
