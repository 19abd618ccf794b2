"""Reading a review file (overrides, contacts, notes): rows of typed values with the place of each.

A review file is written by sales ops in Excel or a text editor, so it is read like a customer file:

- a table (CSV in any encoding the data reader detects — UTF-8, UTF-8 with BOM, GBK/GB18030 — TSV,
  Excel, JSON …) goes through the data reader itself (`kamrules.data.reader.read_table`): its guards,
  encodings, header aliases in English and Chinese, value aliases, dates and the messages that name
  the row and the column;
- a YAML file (`.yaml`, `.yml`) goes through the one YAML entry point (`kamrules.pack.yamlsrc`: safe,
  bounded, every value with its line): a list of records, or one top-level key holding that list.

Both give a `ReviewFile`: one record per row, each value typed (text, a date, a category's value) or
None when missing, and the row number (a table's row as a spreadsheet shows it; a YAML record's line).
What a record means (an unknown account, a duplicate …) is checked by the module of its kind.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import pandas as pd

from kamrules.data.wording import hint, say, spec_ref
from kamrules.errors import DataError
from kamrules.pack.fields import FieldSpec, normalise_header

YAML_SUFFIXES = (".yaml", ".yml")
MAX_LISTED = 20  # problems listed in one message; the rest are counted


@dataclass(frozen=True)
class Column:
    """One column of a review file: its name, type (string, date or category), and the headers (and,
    for a category, the values) it answers to in English and Chinese."""

    name: str
    label: dict
    type: str = "string"
    required: bool = False
    aliases: tuple = ()
    values: dict = field(default_factory=dict)  # category value -> its aliases

    def spec(self) -> FieldSpec:
        """The column as the data reader reads a field."""
        aliases = {normalise_header(text): value for value, words in self.values.items()
                   for text in (value, *words)}
        return FieldSpec(self.name, self.type, self.required, dict(self.label), aliases=tuple(self.aliases),
                         values=tuple(self.values), value_aliases=aliases)


@dataclass
class ReviewFile:
    """A review file read: `records[i]` holds row `rows[i]`'s values by column name (None: missing)."""

    path: Path
    unit: str  # "row" (a table, as a spreadsheet numbers it) or "line" (a YAML record's first line)
    rows: list[int]
    records: list[dict]
    headers: dict  # column name -> the header (YAML: the key) it was read from

    def place(self, lang: str, index: int, column: str | None = None) -> str:
        """'overrides.csv: row 3, column 'expires'' in the user's language."""
        where = say(lang, f"at_{self.unit}", n=self.rows[index])
        if column is None:
            return say(lang, "review_at", file=self.path, where=where)
        return say(lang, "review_at_column", file=self.path, where=where, column=self.headers.get(column, column))


def read_review_file(path: Path, columns: Sequence[Column], lang: str = "en") -> ReviewFile:
    """Read a review file of these columns (YAML by its extension, anything else by the data reader).
    DataError naming the file, the row or line and the column for anything that cannot be read."""
    path = Path(path)
    if path.suffix.lower() in YAML_SUFFIXES:
        return _read_yaml(path, columns, lang)
    return _read_table(path, columns, lang)


# ----------------------------------------------------------------------------------------------- tables


# The data reader's hints about options that apply to the customer file, not to a review file.
_DATA_ONLY_HINTS = (
    re.compile(r" or pass --on-bad-value missing( to read them as missing values)?"),
    re.compile(r"，或用 --on-bad-value missing( 将其按缺失值读取)?"),
    re.compile(r" or map it with --columns \([^)]*\)"),
    re.compile(r"，或用 --columns 映射（[^）]*）"),
)


def read_run_record(folder: Path, name: str, max_bytes: int, damaged: str, lang: str = "en") -> Any:
    """The JSON document `name` in a finished run's folder (None: the run did not write it), read with
    the guards of a run folder's manifest; DataError `damaged` (a message key taking path and detail)
    when it is not JSON kamrules could have written."""
    import json

    from kamrules.data.guards import json_loads
    from kamrules.pack.guards import SourceError, read_source

    path = Path(folder) / name
    if not path.exists() and not path.is_symlink():
        return None
    try:
        return json_loads(read_source(path, Path(folder), max_bytes=max_bytes).decode("utf-8-sig"), str(path), lang)
    except SourceError as exc:
        raise DataError(f"{exc}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, DataError) as exc:
        raise DataError(say(lang, damaged, path=path, detail=str(exc).split("\n")[0])) from None


def _own_hints(message: str) -> str:
    for pattern in _DATA_ONLY_HINTS:
        message = pattern.sub("", message)
    return message


def _read_table(path: Path, columns: Sequence[Column], lang: str) -> ReviewFile:
    from kamrules.data.reader import ReadOptions, read_table

    # a category is read as text and its values checked here, as in a YAML file: the data reader's advice
    # for an unknown value is about the --columns file
    specs = [c.spec() if c.type != "category" else FieldSpec(c.name, "string", c.required, dict(c.label),
                                                               aliases=tuple(c.aliases)) for c in columns]
    try:
        read = read_table(path, specs, ReadOptions(lang=lang))
    except DataError as exc:
        raise DataError(_own_hints(str(exc))) from None
    frame = read.frame
    names = [c.name for c in columns if c.name in frame.columns]
    cells = {name: [_plain(v) for v in frame[name].astype(object).tolist()] for name in names}
    records = [{c.name: cells[c.name][i] if c.name in cells else None for c in columns}
               for i in range(len(frame))]
    review = ReviewFile(path, "row", list(read.row_numbers), records, dict(read.column_map))
    problems = []
    for column in columns:
        if column.type != "category" or column.name not in cells:
            continue
        for index, record in enumerate(records):
            if record[column.name] is None:
                continue
            record[column.name], problem = _typed(column, record[column.name], lang)
            if problem is not None:
                problems.append(say(lang, "review_cell", file=path, where=say(lang, "at_row", n=review.rows[index]),
                                    column=review.headers.get(column.name, column.name),
                                    value=_shown(cells[column.name][index]), problem=problem))
    if problems:
        raise DataError(_listed(path, problems, lang))
    return review


def _plain(value: Any) -> Any:
    """A cell as plain Python: None for missing, a date for a timestamp, stripped text."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


# ------------------------------------------------------------------------------------------------- YAML


def _read_yaml(path: Path, columns: Sequence[Column], lang: str) -> ReviewFile:
    from kamrules.pack.yamlsrc import YList, YMap, load_yaml

    if not path.exists():
        raise DataError(say(lang, "no_file", name=path))
    if path.is_dir():
        raise DataError(say(lang, "is_folder", name=path))
    document, diagnostics = load_yaml(path)
    problems = [d for d in diagnostics if d.severity == "error"]
    if problems:
        raise DataError("\n".join(say(lang, "review_yaml", where=d.location, detail=d.message) for d in problems))
    items = document
    if isinstance(document, YMap) and len(document) == 1 and isinstance(next(iter(document.values())), YList):
        items = next(iter(document.values()))  # `overrides:` (any one key) holding the list
    if document is None or (isinstance(items, list) and not items):
        raise DataError(say(lang, "review_yaml_empty", name=path))
    if not isinstance(items, YList):
        raise DataError(say(lang, "review_yaml_shape", name=path))
    by_header = {normalise_header(text): c for c in columns for text in (c.name, *c.label.values(), *c.aliases)}
    rows, records, headers, problems = [], [], {}, []
    for position, item in enumerate(items):
        loc = item.loc if isinstance(item, YMap) else items.item_locs[position]
        place = say(lang, "review_at", file=path, where=say(lang, "at_line", n=loc.line))
        if not isinstance(item, YMap):
            problems.append(say(lang, "review_yaml_record", place=place))
            continue
        record: dict = {c.name: None for c in columns}
        for key, value in item.items():
            column = by_header.get(normalise_header(str(key)))
            line = item.key_loc(key).line
            if column is None:
                problems.append(say(lang, "review_yaml_key", file=path, where=say(lang, "at_line", n=line), key=key,
                                    hint=hint(lang, str(key), [c.name for c in columns]),
                                    known=", ".join(c.name for c in columns)))
                continue
            headers.setdefault(column.name, str(key))
            typed, problem = _typed(column, value, lang)
            if problem is not None:
                problems.append(say(lang, "review_cell", file=path, where=say(lang, "at_line", n=line), column=key,
                                    value=_shown(value), problem=problem))
            record[column.name] = typed
        for column in columns:
            if column.required and record[column.name] is None and not _given(item, column, by_header):
                problems.append(say(lang, "review_required", place=place, field=column.name,
                                    names=", ".join(dict.fromkeys((column.name, *column.label.values())))))
        rows.append(loc.line)
        records.append(record)
    if problems:
        raise DataError(_listed(path, problems, lang))
    return ReviewFile(path, "line", rows, records, headers)


def _given(item: dict, column: Column, by_header: dict) -> bool:
    """Whether a YAML record names the column (its value was then reported as bad, not as missing)."""
    return any(by_header.get(normalise_header(str(key))) is column and value is not None
               for key, value in item.items())


def _shown(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "…"


def _typed(column: Column, value: Any, lang: str) -> tuple[Any, str | None]:
    """A YAML value as the column's type: (value, None), or (None, why it is not)."""
    if value is None:
        if column.required:
            return None, say(lang, "r_required")
        return None, None
    if isinstance(value, (dict, list)):
        return None, say(lang, "review_not_scalar")
    if column.type == "date":
        if isinstance(value, dt.datetime):
            return value.date(), None
        if isinstance(value, dt.date):
            return value, None
        from kamrules.data.dates import parse_date

        parsed, reason = parse_date(str(value), lang=lang)
        if reason is not None:
            return None, reason
        return pd.Timestamp(parsed).date(), None
    text = _text(value)
    if not text:
        return (None, say(lang, "r_required")) if column.required else (None, None)
    if column.type == "category":
        known = column.spec().value_aliases
        found = known.get(normalise_header(text))
        if found is None:
            return None, say(lang, "review_not_value", values=", ".join(column.values))
        return found, None
    return text, None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    return str(value).strip()


def _listed(path: Path, problems: list[str], lang: str) -> str:
    shown = problems[:MAX_LISTED]
    more = [say(lang, "first_more", n=len(problems) - MAX_LISTED)] if len(problems) > MAX_LISTED else []
    if len(problems) == 1:
        return problems[0]
    return say(lang, "review_problems", name=path, n=len(problems)) + "\n" + "\n".join(
        "  " + p for p in [*shown, *more])


# --------------------------------------------------------------------------------------- what a row means


def refuse(path: Path, problems: list[str], lang: str) -> None:
    """Raise one DataError listing every problem found in a review file (the first MAX_LISTED)."""
    if problems:
        raise DataError(_listed(path, problems, lang))


def unknown_accounts(review: ReviewFile, known: Iterable[str], data_name: str, lang: str,
                     column: str = "account") -> list[str]:
    """One problem per row whose account id is not an account of the data (with the closest id)."""
    known = set(known)
    lowered = {k.casefold(): k for k in known}
    problems = []
    for index, record in enumerate(review.records):
        account = record.get(column)
        if account is None or account in known:
            continue
        close = lowered.get(account.casefold()) or lowered.get(account.strip().casefold())
        suggestion = say(lang, "did_you_mean", name=close) if close else ""
        problems.append(say(lang, "review_unknown_account", place=review.place(lang, index, column), id=account,
                            data=data_name, hint=suggestion))
    return problems


def column_ref(column: Column, lang: str) -> str:
    """A review column as messages name it (「原因」(reason) in Chinese)."""
    return spec_ref(column.spec(), lang)
