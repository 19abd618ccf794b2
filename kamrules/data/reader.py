"""Reading the customer table: CSV/TSV, Excel, Parquet, JSON and JSON Lines into typed columns.

Every cell is read as text first (so "00042" stays "00042") and then converted field by field, with a
vectorised fast path (pyarrow compute) for the common shapes and a per-distinct-value parser for the
rest ("¥1,234", "12万", "(1,200)", "2026年1月31日"); a column whose texts repeat (dates, scores, regions)
is converted once per distinct text (convert.py). Values that cannot be read are never guessed:
they are reported with the row number the user sees in Excel, the column header and the value.

This module is the entry point (`read_table`); the work is done by, in reading order:
`options` (options, result types, format detection), `encodings`, `formats` (one reader per format),
`columns` (matching columns to fields), `convert` with `numbers` and `dates` (cells to typed values),
`messages`, and `cells` (what every part agrees a cell means).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from kamrules.data.cells import MISSING_WORDS
from kamrules.data.columns import (
    ColumnMapping,
    _match_columns,
    describe_mapping,
    doubts_message,
    load_column_mapping,
    load_mapping,
    load_mapping_file,
    mapping_lines,
)
from kamrules.data.convert import _cell_at, _convert, category_reason
from kamrules.data.dates import parse_date
from kamrules.data.formats import INPUT_FORMATS, _drop_empty_rows, check_content, check_format_option, format_of
from kamrules.data.groups import groups_of
from kamrules.data.messages import (
    _bad_values_message,
    _duplicate_ids_message,
    issue_text,
)
from kamrules.data.numbers import parse_number
from kamrules.data.doubts import reference_field, unit_doubts
from kamrules.data.periods import annualised, factor_of, period_doubts
from kamrules.data.units import decide_units
from kamrules.data.options import (
    MAX_LISTED,
    DataIssue,
    ReadOptions,
    ReadResult,
    _check_options,
    _open_head,
    _Raw,
)
from kamrules.data.values import apply_value_maps, unknown_categories_message
from kamrules.data.where import WHERE_OPTION, where_mask, where_text
from kamrules.data.wording import say, spec_ref
from kamrules.errors import DataError
from kamrules.pack.fields import FieldSpec

__all__ = [
    "INPUT_FORMATS", "MISSING_WORDS", "ReadOptions", "DataIssue", "ReadResult", "read_table", "load_column_mapping",
    "parse_number", "parse_date", "issue_text", "mapping_lines", "load_mapping", "load_mapping_file", "ColumnMapping",
    "read_cells",
]


def read_table(path: Path, fields: Sequence[FieldSpec], options: ReadOptions = ReadOptions()) -> ReadResult:
    """Read `path` and return one typed column per field found in it.

    Raises `DataError` with a message naming the file, the row, the column and the fix for anything
    that cannot be read; with `options.on_bad_value == "missing"` unreadable cells become missing values
    and are listed in `ReadResult.issues` instead.
    """
    path = Path(path)
    name = str(path)
    lang = options.lang
    _check_options(options, fields)
    raw, fmt = _read_raw(path, name, options)
    year = options.as_of.year if options.as_of else None
    matched = _match_columns(name, raw.headers, fields, options.columns or {}, lang, raw.columns, year)
    units = decide_units(fields, raw.headers, matched, options.units,
                         raw.layout.title_unit if raw.layout is not None else None)
    skipped = apply_value_maps(name, raw, matched, options.values or {}, lang)
    if len(raw.row_numbers) == 0:
        raise DataError(say(lang, "all_skipped", name=name))
    order = sorted(matched, key=lambda field_name: matched[field_name])  # input order
    keep_all = options.on_bad_value == "missing"
    annual = annualised(fields, matched, options.periods, options.as_of)  # `period: year_to_date`
    wheres = _filter_rows(name, raw, fields, matched, units, options, annual)  # before any value is checked
    data, issues, n_problems, unknown, unreadable = _convert_fields(raw, fields, matched, order, options, units,
                                                                    annual)

    messages = []
    shown = {spec.name: spec_ref(spec, lang) for spec in fields}  # 「销售额」(sales) in Chinese
    if not keep_all:
        messages += _unknown_categories(name, raw, fields, matched, unknown, lang, data, unreadable)
        issues = [issue for issue in issues if issue.field not in unknown]
        n_problems -= sum(len(positions) for positions in unknown.values())
    if n_problems and not keep_all:
        messages.append(_bad_values_message(name, raw.unit, issues, n_problems, lang, shown))
    if "account_id" in data:
        duplicates = _duplicate_ids_message(name, raw, data["account_id"], raw.headers[matched["account_id"]], lang,
                                            shown["account_id"])
        if duplicates:
            messages.append(duplicates)
    if "parent_id" in data and "account_id" in data:
        problem, groups = groups_of(name, raw, pd.Series(np.asarray(data["account_id"], dtype=object)),
                                    pd.Series(np.asarray(data["parent_id"], dtype=object)),
                                    raw.headers[matched["parent_id"]], lang, shown["parent_id"])
        if problem:
            messages.append(problem)
        elif "customer_group" not in data and any(spec.name == "customer_group" for spec in fields):
            data["customer_group"] = groups  # the topmost parent, when the file has no group column of its own
    if not messages:
        doubts = unit_doubts(fields, data, {f: raw.headers[i] for f, i in matched.items()}, units,
                             chinese=_chinese(raw.headers))
        if doubts:
            messages.append(doubts_message(name, doubts, fields, units, lang))
    if messages:
        raise DataError("\n".join(messages))

    # copy=False: each column stays the array it was converted to (pandas would otherwise copy every
    # float column into one block: 190 MB and over a second at 2,000,000 accounts)
    frame = pd.DataFrame(data, index=pd.RangeIndex(len(raw.row_numbers)), copy=False)
    source = {"path": name, "format": fmt, "encoding": raw.encoding, "delimiter": raw.delimiter, "sheet": raw.sheet,
              "rows": len(raw.row_numbers)}
    for option in ("header_row", "skip_footer"):  # said by the user: explain --run reads the file the same way
        if getattr(options, option) is not None:
            source[option] = getattr(options, option)
    mapping = {**describe_mapping(raw.headers, fields, matched, options.columns or {}, units, raw.columns, year,
                                  annual),
               "skipped": skipped,
               "where": wheres.get("--where")}
    doubts = period_doubts(fields, {f: raw.headers[i] for f, i in matched.items()}, options.as_of, options.periods)
    if doubts:  # lifetime revenue, a year to date against a full year (data/periods.py)
        mapping["doubts"] = [doubt.as_dict() for doubt in doubts]
    if wheres.get("--columns"):
        mapping["where_columns_file"] = wheres["--columns"]
    if raw.layout is not None:
        mapping["layout"] = raw.layout.as_dict()
    return ReadResult(
        frame=frame,
        row_numbers=raw.row_numbers.tolist(),
        column_map={field_name: raw.headers[matched[field_name]] for field_name in order},
        missing_optional=[spec.name for spec in fields if not spec.required and spec.name not in matched],
        unused_columns=[h for i, h in enumerate(raw.headers) if i not in set(matched.values())],
        issues=issues if keep_all else [],
        source=source,
        mapping=mapping,
    )


def read_cells(path: Path, options: ReadOptions = ReadOptions()) -> tuple[_Raw, str]:
    """A file's text columns as the format's reader gives them, before any field is matched, and the
    format: the same guards, encodings, delimiters and Excel checks as `read_table` (a run folder's
    decision table is read this way: its columns are known, its cells are checked by the caller)."""
    path = Path(path)
    _check_options(options, [])
    return _read_raw(path, str(path), options)


def _names_read(condition: str) -> set[str]:
    """The plain names a condition mentions (none when it does not parse: where_mask then says why)."""
    from kamrules.data.where import column_names
    from kamrules.language import expr as ex

    try:
        return ex.names_in(ex.parse(column_names(condition)[0]))
    except ex.ExprError:
        return set()


def _chinese(headers: Sequence[str]) -> bool:
    """Whether the file's headers are Chinese (likely units are then named 万元, not k or M)."""
    return any("\u4e00" <= char <= "\u9fff" for header in headers for char in str(header))


def _read_raw(path: Path, name: str, options: ReadOptions) -> tuple[_Raw, str]:
    """The file's text columns without its empty rows, and its format; at least one data row."""
    check_format_option(options)
    head = _open_head(path, name, options.lang)
    fmt = format_of(path, name, options)
    check_content(name, fmt, head, options.lang)
    raw = _drop_empty_rows(fmt.reader(path, name, head, options))
    if len(raw.row_numbers) == 0:
        raise DataError(say(options.lang, "no_rows", name=name))
    return raw, fmt.name


def _filter_rows(name: str, raw: _Raw, fields: Sequence[FieldSpec], matched: dict[str, int], units: dict,
                 options: ReadOptions, annual: dict | None = None) -> dict:
    """Leave out the rows the `where:` of the --columns file and --where do not keep, before any value is
    checked: a lead with a blank revenue is left out, not reported. A row whose verdict is unknown
    because a value the condition tests cannot be read is kept, so that the bad cell is reported (never
    a row lost for a typo). Returns what each condition left out, by where it was written."""
    conditions = [(condition, option) for condition, option in
                  ((options.row_filter, f"where ({options.row_filter_from or '--columns'})"), (options.where, WHERE_OPTION))
                  if condition is not None]
    done: dict = {}
    if not conditions:
        return done
    lang = options.lang
    by_name = {spec.name: spec for spec in fields}
    columns = {header: raw.columns[i] for i, header in enumerate(raw.headers)}
    for condition, option in conditions:
        order = sorted(matched, key=lambda field_name: matched[field_name])
        typed, positions = {}, {}
        names = _names_read(condition)
        for field_name in order:
            index = matched[field_name]
            unit = units.get(field_name)
            if field_name not in names:  # not read: present for the names and hints only
                typed[field_name] = pd.Series(np.nan, index=pd.RangeIndex(len(raw.row_numbers)))
                positions[field_name] = np.array([], dtype=np.int64)
                continue
            values, bad, reasons = _convert(by_name[field_name], raw.columns[index], raw, options,
                                            scale=unit.scale if unit else 1.0,
                                            own_unit_wins=bool(unit) and unit.source != "header",
                                            annualise=factor_of(annual, field_name))
            # A blank cell is missing, not unreadable (even in a required field): the condition is unknown
            # there and the row is left out and counted (`--where 'sales > 0'` on HubSpot's blank revenue).
            blank = say(lang, "r_required")
            typed[field_name] = values
            positions[field_name] = np.array([p for p, r in zip(bad.tolist(), reasons) if r != blank], dtype=np.int64)
        frame = pd.DataFrame(typed, index=pd.RangeIndex(len(raw.row_numbers)))

        def unreadable(reads: list[str]) -> np.ndarray:  # rows kept so that their bad cell is reported
            rows = np.zeros(len(raw.row_numbers), dtype=bool)
            for field_name in reads:
                rows[positions[field_name]] = True
            return rows

        keep, summary = where_mask(condition, frame, fields, lang, columns=columns, decimal=options.decimal,
                                   option=option, keep_anyway=unreadable)
        if not keep.all():
            mask = pa.array(keep)
            raw.columns = [column.filter(mask) for column in raw.columns]
            raw.row_numbers = raw.row_numbers[keep]
            columns = {header: raw.columns[i] for i, header in enumerate(raw.headers)}
        if len(raw.row_numbers) == 0:
            raise DataError(where_text(say(lang, "where_none_left", name=name, condition=condition), option))
        done["--where" if option == WHERE_OPTION else "--columns"] = summary
    return done


def _unknown_categories(name: str, raw: _Raw, fields: Sequence[FieldSpec], matched: dict[str, int],
                        unknown: dict[str, list[int]], lang: str = "en", data: dict | None = None,
                        unreadable: dict | None = None) -> list[str]:
    """The message for each category field with values the pack does not know, with the sales their rows
    carry (so that no row with sales is proposed skip-row)."""
    by_name = {spec.name: spec for spec in fields}
    reference = reference_field(fields)
    sales = bad_sales = None
    if reference is not None and data and reference.name in data:
        sales = pd.to_numeric(data[reference.name], errors="coerce").to_numpy(dtype="float64")
        bad_sales = np.zeros(len(sales), dtype=bool)
        bad_sales[(unreadable or {}).get(reference.name, np.array([], dtype=np.int64))] = True
    return [unknown_categories_message(name, by_name[f], raw.headers[matched[f]], raw.columns[matched[f]], positions,
                                       raw.row_numbers, lang, sales, bad_sales)
            for f, positions in unknown.items()]


def _convert_fields(
    raw: _Raw, fields: Sequence[FieldSpec], matched: dict[str, int], order: list[str], options: ReadOptions,
    units: dict | None = None, annual: dict | None = None,
) -> tuple[dict[str, pd.Series], list[DataIssue], int, dict[str, list[int]], dict[str, np.ndarray]]:
    """(typed column per field, bad cells in row then column order, how many bad cells in all, the
    positions of the values a category field does not know — when those are its only bad cells —, the
    positions per field of the cells that hold a value that cannot be read (blank cells are not among them)).

    Unless every bad cell is kept (`--on-bad-value missing`), only the first MAX_LISTED per field are
    turned into issues: the message lists no more."""
    by_name = {spec.name: spec for spec in fields}
    keep_all = options.on_bad_value == "missing"
    data: dict[str, pd.Series] = {}
    problems: list[tuple[int, int, DataIssue]] = []
    n_problems = 0
    unknown: dict[str, list[int]] = {}
    unreadable: dict[str, np.ndarray] = {}
    blank = say(options.lang, "r_required")
    for field_name in order:
        index = matched[field_name]
        column = raw.columns[index]
        spec = by_name[field_name]
        unit = (units or {}).get(field_name)
        values, bad_positions, bad_reasons = _convert(spec, column, raw, options, scale=unit.scale if unit else 1.0,
                                                      own_unit_wins=unit is not None and unit.source != "header",
                                                      annualise=factor_of(annual, field_name))
        data[field_name] = values
        unreadable[field_name] = np.array([p for p, r in zip(bad_positions.tolist(), bad_reasons) if r != blank],
                                          dtype=np.int64)
        n_problems += len(bad_positions)
        if len(bad_positions) and spec.type == "category" and spec.values and all(
                reason == category_reason(spec, options.lang) for reason in bad_reasons):
            unknown[field_name] = [int(p) for p in bad_positions]
        limit = len(bad_positions) if keep_all else MAX_LISTED
        for position, reason in zip(bad_positions[:limit], bad_reasons[:limit]):
            row = int(raw.row_numbers[position])
            issue = DataIssue(row=row, column=raw.headers[index], field=field_name,
                              value=_cell_at(column, int(position)), reason=reason)
            problems.append((row, index, issue))
    problems.sort(key=lambda item: item[:2])
    return data, [issue for _, _, issue in problems], n_problems, unknown, unreadable
