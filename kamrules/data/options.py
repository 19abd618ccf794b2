"""Reading options, the reader's result types, and telling a file's format from its name and first bytes."""

from __future__ import annotations

import codecs
import stat
from datetime import date
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from kamrules.data.cells import delimiter_char
from kamrules.data.layout import Layout
from kamrules.data.periods import fits_period
from kamrules.data.units import fitting_units, unit_factor
from kamrules.data.wording import hint, say
from kamrules.errors import ConfigError, DataError, UsageError
from kamrules.pack.fields import FieldSpec

MAX_LISTED = 20  # problems listed in one error message; the rest are counted
SAMPLE_BYTES = 64 * 1024
CHUNK_BYTES = 1 << 20


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
    values: dict[str, dict[str, str]] | None = None  # field -> {value in the file: pack value or skip-row}
    where: str | None = None  # keep only rows where this condition (rule language, over fields) holds
    lang: str = "en"  # the language of the messages about the data (--lang): en or zh
    header_row: int | None = None  # the header's row number (--header-row); None = found below any title rows
    units: dict[str, str] | None = None  # field -> the unit its column is in (`unit:` in the --columns file)
    row_filter: str | None = None  # `where:` of the --columns file: a condition rows must meet, as --where
    row_filter_from: str = ""  # where that condition is written (file:line), for messages
    skip_footer: int | None = None  # rows at the end that are not accounts (--skip-footer); None = detected
    columns_file: Path | None = None  # the --columns file `columns`/`values` came from: an input --out never holds
    as_of: date | None = None  # the run's --as-of: which year-named column is this year's, how much of it has passed
    periods: dict[str, str] | None = None  # field -> year_to_date (`period:` in the --columns file): annualised


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
    # How each field found its column (see kamrules.data.columns.describe_mapping): shown on the
    # console and recorded in manifest.json.
    mapping: dict = field(default_factory=dict)


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
    layout: Layout | None = None  # title rows above the header, footer rows cut off (data/layout.py)


# --------------------------------------------------------------------------------------------------
# Options, file checks and format


def _check_options(options: ReadOptions, fields: Sequence[FieldSpec]) -> None:
    lang = options.lang
    if options.decimal not in (".", ","):
        raise UsageError(say(lang, "bad_decimal", value=options.decimal))
    if options.on_bad_value not in ("error", "missing"):
        raise UsageError(say(lang, "bad_on_bad_value", value=options.on_bad_value))
    for option, value, lowest in (("--header-row", options.header_row, 1), ("--skip-footer", options.skip_footer, 0)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < lowest):
            raise UsageError(say(lang, "bad_row_option", option=option, value=value, lowest=lowest))
    if options.delimiter is not None and delimiter_char(options.delimiter) is None:
        raise UsageError(say(lang, "bad_delimiter", value=options.delimiter))
    if options.encoding is not None:
        check_encoding(options.encoding, lang)
    if options.columns or options.values or options.units or options.periods:
        known = [spec.name for spec in fields]
        for field_name in [*(options.columns or {}), *(options.values or {}), *(options.units or {}),
                           *(options.periods or {})]:
            if field_name not in known:
                raise ConfigError(say(lang, "columns_unknown_field", field=field_name,
                                      hint=hint(lang, field_name, known), known=", ".join(known)))
    by_name = {spec.name: spec for spec in fields}
    for field_name, period in (options.periods or {}).items():
        if not fits_period(by_name[field_name]):
            raise ConfigError(say(lang, "period_not_fitting", field=field_name, period=period))
    for field_name, unit in (options.units or {}).items():
        if unit_factor(by_name[field_name], unit) is None:
            units = fitting_units(by_name[field_name])
            raise ConfigError(say(lang, "unit_not_fitting", field=field_name, unit=unit,
                                  units=", ".join(units) if units else say(lang, "unit_none")))


def check_encoding(name: str, lang: str = "en") -> None:
    """UsageError unless `name` is a codec that decodes bytes into text: `rot13`, `base64`, `hex`,
    `zlib` … are codecs too, and decoding a file with one crashed the reader."""
    try:
        info = codecs.lookup(name)
    except LookupError:
        raise UsageError(say(lang, "bad_encoding", value=name)) from None
    if not getattr(info, "_is_text_encoding", True):
        raise UsageError(say(lang, "encoding_not_text", value=name))


def _open_head(path: Path, name: str, lang: str = "en") -> bytes:
    """The first bytes of the file, after checking that it is a readable, non-empty file."""
    try:
        if path.is_dir():
            raise DataError(say(lang, "is_folder", name=name))
        if path.exists() and not stat.S_ISREG(path.stat().st_mode):  # a FIFO would hang open() below
            raise DataError(say(lang, "not_regular", name=name))
        with open(path, "rb") as handle:
            head = handle.read(SAMPLE_BYTES)
    except FileNotFoundError:
        raise DataError(say(lang, "no_file", name=name)) from None
    except PermissionError:
        raise DataError(say(lang, "no_permission", name=name)) from None
    except IsADirectoryError:
        raise DataError(say(lang, "is_folder", name=name)) from None
    except OSError as exc:
        raise DataError(say(lang, "unreadable", name=name, reason=exc.strerror or exc)) from None
    if not head.strip(b" \t\r\n" + codecs.BOM_UTF8):
        raise DataError(say(lang, "empty", name=name))
    return head


# --------------------------------------------------------------------------------------------------
# Text encodings
