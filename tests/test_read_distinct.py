"""Reading a column once per distinct text, and the control-character scan over a column's bytes: both
shortcuts must give exactly what converting every cell on its own gives (values, dtypes, bad cells,
reasons, messages)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kamrules.data import convert
from kamrules.data.convert import _convert_cells, _convert_distinct, _no_control_bytes, _repeats, _without_controls
from kamrules.data.guards import without_controls
from kamrules.data.options import _Raw
from kamrules.data.reader import ReadOptions, read_table
from kamrules.errors import DataError
from kamrules.pack.fields import FieldSpec

CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x80-\x9f]")

# Cells of every shape the converters tell apart: plain and formatted numbers, both decimal marks,
# units, dates in every order and out of range, Excel serials, booleans, categories and their
# aliases, missing words, formula apostrophes, control characters, full-width and Latin-1 text.
CELLS = [
    "", " ", "n/a", "NA", "-", "--", "—", "null", "None", "nan", "无", "0", "1", "7", " 7 ", "3.0", "3.5", "-2",
    "1.", ".5", "1,5", "1.234,5", "1,200,000", "12万", "35%", "(1,200)", "-$2,000 元", "¥1,234.50", "１２", "1e20",
    "1e999", "-1e999", "1e15", "1e16", "inf", "12abc", "0.35", "35", "100", "101", "-0.1", "1.5",
    "2026-01-31", "2026/1/31", "31/01/2026", "01/02/2026", "02.01.2026", "20260131", "2026年1月31日",
    "31 Jan 2026", "Jan 31, 2026", "September 30, 2026 23:59:59 PM +08:00", "2026-02-30", "2026-13-01",
    "1600-01-01", "1700-05-05", "1799-12-31", "1800-01-01", "2199-12-31", "2200-01-01", "2300-01-01", "46053",
    "46053.5", "2958466", "2026-01-31T10:00:00Z", "２０２６-０１-３１", "2024-02-29", "2023-02-29", "x" * 120,
    "yes", "no", "Y", "N", "true", "FALSE", "是", "否", "有", "maybe", " Yes ", "ＹＥＳ",
    "enterprise", " ENTERPRISE ", "企业", "政府", "government", "alien",
    "00042", " 00042 ", "'=1+1", "'-5", "''+x", "=cmd", "A\x01B", "\x1b[2J", "x\x7fy", "\x85x", "°C", "¥",
    "客户", "a\tb", "line\nbreak",
]

SPECS = [
    FieldSpec("account_id", "string", required=True),
    FieldSpec("note", "string"),
    FieldSpec("sales", "number", required=True),
    FieldSpec("share", "number", range=(0, 1)),
    FieldSpec("nps", "integer", range=(0, 10)),
    FieldSpec("months", "integer"),
    FieldSpec("last_visit", "date"),
    FieldSpec("strategic", "boolean"),
    FieldSpec("customer_type", "category", values=("enterprise", "government"), value_aliases={"企业": "enterprise"}),
    FieldSpec("kind", "category"),
]


def both_ways(spec: FieldSpec, column: pa.Array, options: ReadOptions, scale: float = 1.0, serials: bool = False):
    raw = _Raw(headers=["h"], columns=[column], row_numbers=np.arange(2, len(column) + 2), excel_serials=serials)
    return (_convert_distinct(spec, column, raw, options, scale), _convert_cells(spec, column, raw, options, scale))


def assert_same(got, expected):
    values, positions, reasons = got
    pd.testing.assert_series_equal(values, expected[0], check_exact=True)
    assert values.dtype == expected[0].dtype
    assert positions.dtype == expected[1].dtype and positions.tolist() == expected[1].tolist()
    assert reasons == expected[2]


@settings(max_examples=300, deadline=None, database=None)
@given(cells=st.lists(st.one_of(st.sampled_from(CELLS), st.none(),
                                st.lists(st.sampled_from(CELLS), min_size=2, max_size=3).map("".join)),
                      min_size=1, max_size=60),
       spec=st.sampled_from(SPECS), decimal=st.sampled_from([".", ","]), dayfirst=st.booleans(),
       lang=st.sampled_from(["en", "zh"]), serials=st.booleans(), scale=st.sampled_from([1.0, 10_000.0]))
def test_converting_distinct_texts_gives_what_converting_every_cell_gives(cells, spec, decimal, dayfirst, lang,
                                                                           serials, scale):
    options = ReadOptions(decimal=decimal, dayfirst=dayfirst, lang=lang)
    column = pa.array(cells, type=pa.string())  # None: a Parquet string column's null
    assert_same(*both_ways(spec, column, options, scale, serials))


def test_converting_distinct_texts_keeps_every_row_of_a_long_column():
    """Bad cells come back with every row that holds them, in row order, each with its reason."""
    cells = (["2026-01-31", "2026-02-30", "", "31/01/2026", "x"] * 3000)[:14_999]
    column = pa.array(cells)
    got, expected = both_ways(FieldSpec("last_visit", "date", required=True), column, ReadOptions())
    assert_same(got, expected)
    assert got[1][:4].tolist() == [1, 2, 4, 6] and len(got[1]) == 3 * 3000 - 1


@settings(max_examples=300, deadline=None, database=None)
@given(texts=st.lists(st.text(alphabet=st.characters(codec="utf-8"), max_size=6), min_size=1, max_size=30),
       start=st.integers(0, 5))
def test_the_byte_scan_finds_every_control_character_the_guard_replaces(texts, start):
    column = pa.array(texts, type=pa.string())
    expected = any(CONTROLS.search(text) for text in texts)
    assert _no_control_bytes(column) == (not expected)
    assert _without_controls(column).equals(without_controls(column))
    part = column.slice(min(start, len(texts) - 1))  # the buffer holds cells outside the slice
    assert _without_controls(part).equals(without_controls(part))
    if _no_control_bytes(part):
        assert not any(CONTROLS.search(text) for text in part.to_pylist())


@pytest.mark.parametrize("texts, clean", [
    ([], True), ([""], True), (["a\tb", "c\r\nd", "¥5", "°", "é", "中文"], True),
    (["\x00"], False), (["\x1b[31m"], False), (["\x7f"], False), (["\x80"], False), (["\x9f"], False),
    (["\xa0"], True), (["\u0100"], True), (["\u0c80"], True), (["\x0b"], False), (["\x0c"], False),
])
def test_the_byte_scan_on_chosen_cells(texts, clean):
    assert _no_control_bytes(pa.array(texts, type=pa.string())) == clean


def test_a_column_repeats_when_at_most_half_its_leading_cells_are_distinct():
    assert _repeats(pa.array(["a", "b"] * 10))
    assert not _repeats(pa.array([str(i) for i in range(10)]))
    assert not _repeats(pa.array(["a"]))
    assert not _repeats(pa.array([], type=pa.string()))
    unique_head = pa.array([str(i) for i in range(convert.DISTINCT_SAMPLE)] + ["a"] * 100_000)
    assert not _repeats(unique_head)  # decided on the leading cells only: still correct, only slower


FILE_FIELDS = [
    FieldSpec("account_id", "string", required=True),
    FieldSpec("account_name", "string"),
    FieldSpec("region", "string"),
    FieldSpec("sales", "number", required=True, aliases=("销售额",)),
    FieldSpec("share_of_wallet", "number", range=(0, 1)),
    FieldSpec("nps", "integer", range=(0, 10)),
    FieldSpec("last_visit", "date"),
    FieldSpec("strategic", "boolean"),
    FieldSpec("customer_type", "category", values=("enterprise", "government"), value_aliases={"企业": "enterprise"}),
]


def messy_file(path: Path, rows: int = 3000) -> Path:
    """A CSV whose columns repeat (the per-distinct path) except the ids, with a bad cell of every kind."""
    generator = np.random.default_rng(13)

    def pick(choices):
        return [choices[i] for i in generator.integers(0, len(choices), rows)]

    def quoted(text: str) -> str:
        return '"' + text.replace('"', '""') + '"'

    columns = {
        "account_id": [f"{i:05d}" for i in range(rows)],
        "account_name": pick(["Acme", "'=1+1", "x\x7fy", "", "n/a", "上海公司", "\x1b[2J"]),
        "region": pick(["上海", "西北", "", "North", "\x85x"]),
        "销售额(万元)": pick(["1", "12万", "35%", "(1,200)", "1,200,000", "n/a", "abc", "1e999", "3,5", "", "2e11"]),
        "share_of_wallet": pick(["0.5", "35%", "35", "1", "-0.1", "", "0,35"]),
        "nps": pick(["9", "10", "11", "7.5", "", "3"]),
        "last_visit": pick(["2026-01-31", "2026-02-30", "31/01/2026", "01/02/2026", "1700-01-01", "46053", "", "x"]),
        "strategic": pick(["yes", "no", "是", "maybe", ""]),
        "customer_type": pick(["enterprise", "企业", " GOVERNMENT ", "alien", ""]),
    }
    lines = [",".join(columns)] + [",".join(quoted(c[i]) for c in columns.values()) for i in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def read_both_ways(monkeypatch, path: Path, options: ReadOptions):
    results = []
    for repeats in (True, False):
        monkeypatch.setattr(convert, "_repeats", lambda column, repeats=repeats: repeats)
        try:
            results.append(read_table(path, FILE_FIELDS, options))
        except DataError as error:
            results.append(str(error))
    return results


@pytest.mark.parametrize("options", [
    ReadOptions(on_bad_value="missing"), ReadOptions(on_bad_value="missing", decimal=",", dayfirst=True),
    ReadOptions(on_bad_value="missing", lang="zh"), ReadOptions(), ReadOptions(lang="zh"),
    ReadOptions(values={"customer_type": {"alien": "enterprise"}}),
])
def test_a_file_reads_the_same_per_distinct_text_and_per_cell(tmp_path, monkeypatch, options):
    by_distinct, by_cell = read_both_ways(monkeypatch, messy_file(tmp_path / "messy.csv"), options)
    if options.on_bad_value == "error":
        assert isinstance(by_cell, str) and by_cell.count("\n") >= 20 and by_distinct == by_cell
        return
    pd.testing.assert_frame_equal(by_distinct.frame, by_cell.frame, check_exact=True)
    assert list(by_distinct.frame.dtypes) == list(by_cell.frame.dtypes)
    assert by_distinct.issues == by_cell.issues and len(by_cell.issues) > 1000
    assert by_distinct.row_numbers == by_cell.row_numbers


def test_columns_that_repeat_are_converted_per_distinct_text(tmp_path, monkeypatch):
    seen = []
    distinct = convert._convert_distinct

    def spy(spec, column, raw, options, scale, *rest):
        seen.append(spec.name)
        return distinct(spec, column, raw, options, scale, *rest)

    monkeypatch.setattr(convert, "_convert_distinct", spy)
    read_table(messy_file(tmp_path / "messy.csv"), FILE_FIELDS, ReadOptions(on_bad_value="missing"))
    assert "account_id" not in seen and len(seen) == len(FILE_FIELDS) - 1


DATE_PARTS = ["2026", "05", "5", "23", "31", "02", "30", "13", "1700", "-", "/", ".", " ", "  ", "T", ":", "14", "3",
              "07", ".250", "Z", "PM", "+08:00", "年", "月", "日", "Jan", "x", "n/a", "", "\x85"]


@settings(max_examples=400, deadline=None, database=None)
@given(cells=st.lists(st.one_of(st.sampled_from(CELLS), st.lists(st.sampled_from(DATE_PARTS), max_size=9).map("".join),
                                st.tuples(st.sampled_from(["2026-05-23", "2026/5/3", "23/05/2026", "5.3.2026", "2026-02-30",
                                                           "1700-01-01", "01/02/2026", "20260523"]),
                                          st.sampled_from([" ", "T", "  ", "t", " T", " " * 20, " " * 21, " " * 95]),
                                          st.sampled_from(["14:31", "4:31:07", "14:31:07.250", "14:31Z", "14:31:07Z",
                                                           "1:2", "14:31 PM", "14:31+08:00", "99:99:99"])).map("".join)),
                      min_size=1, max_size=40),
       dayfirst=st.booleans(), serials=st.booleans(), lang=st.sampled_from(["en", "zh"]))
def test_dates_read_once_per_distinct_date_as_every_cell_alone(cells, dayfirst, serials, lang):
    """Dropping the time of day first and reading each distinct date once gives what `parse_date` gives
    for every cell on its own (and what the cell-by-cell path gives)."""
    from kamrules.data.cells import missing_mask
    from kamrules.data.dates import _to_date, _to_date_cells, parse_date

    column = pa.array(cells, type=pa.string())
    values, missing, reasons = _to_date(column, dayfirst, serials, lang)
    cell_values, cell_missing, cell_reasons = _to_date_cells(column, dayfirst, serials, lang)
    pd.testing.assert_series_equal(values, cell_values, check_exact=True)
    assert missing.tolist() == cell_missing.tolist() and reasons == cell_reasons
    assert missing.tolist() == missing_mask(column).tolist()
    for position, text in enumerate(cells):
        if not missing[position]:
            value, reason = parse_date(text, dayfirst, serials, lang)
            assert reasons.get(position) == reason, text
            assert (pd.isna(values[position]) and value is None) or values[position] == value, text


@pytest.mark.parametrize("spaces", [1, 20, 21, 95])
def test_a_date_with_a_time_too_long_to_be_a_date_stays_refused(spaces):
    from kamrules.data.dates import _to_date, parse_date

    text = "2026-05-23" + " " * spaces + "14:31:07.123456789Z"
    values, _, reasons = _to_date(pa.array([text, text]), False, False)
    value, reason = parse_date(text)
    assert reasons == ({} if reason is None else {0: reason, 1: reason})
    assert (values[0] == value) if value is not None else pd.isna(values[0])
    assert (reason is None) == (len(text) <= 100)
