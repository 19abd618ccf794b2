"""Hardening (issue #15), part 2: hostile and odd inputs — data values, Excel, JSON, Parquet, CSV, and
numbers, formats and expressions in rule packs. Part 1 (files, --out, YAML, processes) is
test_security.py; see docs/security.md for the threat model."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kamrules.errors import RuleError

from conftest import ROOT
from test_security import DATA, RULES, _evaluate, app, runner


# ------------------------------------------------------------------ 8. money beyond any sane range


def _write_table(path: Path, fmt: str, sales: list) -> Path:
    import pandas as pd

    frame = pd.DataFrame({"account_id": [f"A{i}" for i in range(len(sales))],
                          "account_name": [f"N{i}" for i in range(len(sales))], "sales": sales})
    if fmt == "csv":
        frame.to_csv(path, index=False)
    elif fmt == "json":
        path.write_text('[' + ",".join(f'{{"account_id": "A{i}", "account_name": "N{i}", "sales": {s!r}}}'
                                       for i, s in enumerate(sales)) + ']')
    else:
        frame.to_parquet(path, index=False)
    return path


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_sales_of_1e308_is_a_bad_value_with_row_and_column(tmp_path, fmt):
    from kamrules.data.reader import read_table
    from kamrules.errors import DataError
    from kamrules.pack import load_pack

    pack = load_pack(RULES)
    path = _write_table(tmp_path / f"d.{fmt}", fmt, [100.0, 1e308, -2e16])
    with pytest.raises(DataError) as caught:
        read_table(path, list(pack.fields.values()))
    message = str(caught.value)
    assert message.count("column 'sales' (field sales)") == 2  # with their rows (numbered per format)
    assert message.count("too large for an amount") == 2


def test_out_of_range_sales_read_as_missing_keep_totals_finite(tmp_path):
    from kamrules.data.reader import ReadOptions, read_table
    from kamrules.pack import load_pack

    pack = load_pack(RULES)
    path = _write_table(tmp_path / "d.csv", "csv", [100.0, 1e308, 5.0])
    read = read_table(path, list(pack.fields.values()), ReadOptions(on_bad_value="missing"))
    assert read.frame["sales"].sum() == 105.0
    assert [issue.row for issue in read.issues] == [3]


# ------------------------------------------------------------------ 7. hostile Excel files


def _xlsx_with(tmp_path: Path, replace: dict) -> Path:
    import io
    import zipfile

    import pandas as pd

    buffer = io.BytesIO()
    pd.DataFrame({"account_id": ["A1"], "account_name": ["x"], "sales": [1.0]}).to_excel(buffer, index=False)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    path = tmp_path / "book.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, replace.get(info.filename, source.read(info.filename)))
    return path


def _read_xlsx_error(path: Path) -> str:
    from kamrules.data.reader import read_table
    from kamrules.errors import DataError
    from kamrules.pack import load_pack

    with pytest.raises(DataError) as caught:
        read_table(path, list(load_pack(RULES).fields.values()))
    return str(caught.value)


def test_xlsx_zip_bomb_is_refused_before_inflating(tmp_path, monkeypatch):
    import kamrules.data.guards as guards

    monkeypatch.setattr(guards, "MAX_XLSX_INFLATED", 3 * 1024 * 1024)  # the same check, a cheaper bomb
    path = _xlsx_with(tmp_path, {"xl/worksheets/sheet1.xml": b"<x>" + b" " * (4 * 1024 * 1024) + b"</x>"})
    assert "would inflate to" in _read_xlsx_error(path)


def test_xlsx_compression_ratio_of_a_bomb_is_refused(tmp_path):
    path = _xlsx_with(tmp_path, {"xl/worksheets/sheet1.xml": b"<x>" + b" " * (8 * 1024 * 1024) + b"</x>"})
    assert "as zip bombs are" in _read_xlsx_error(path)


@pytest.mark.parametrize("prolog", [
    b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>',
    b'<?xml version="1.0"?><!-- c --><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
])
def test_xlsx_entity_bomb_and_xxe_are_refused(tmp_path, prolog):
    sheet = prolog + b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>'
    path = _xlsx_with(tmp_path, {"xl/worksheets/sheet1.xml": sheet})
    message = _read_xlsx_error(path)
    assert "declares a DTD" in message and "open it in Excel and save it again" in message


def test_truncated_sheet_xml_is_a_message_not_a_traceback(tmp_path):
    path = _xlsx_with(tmp_path, {"xl/worksheets/sheet1.xml":
                                 b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                                 b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>account_id'})
    assert "open it in Excel and save it again" in _read_xlsx_error(path)


# ------------------------------------------------------------------ crashes found by the fuzz suite


def test_bare_cr_inside_a_quoted_csv_cell_is_read(tmp_path):
    from kamrules.data.reader import read_table
    from kamrules.pack import load_pack

    path = tmp_path / "d.csv"
    path.write_bytes(b'account_id,account_name,sales\nA1,"one\rtwo",5\n')
    read = read_table(path, list(load_pack(RULES).fields.values()))
    assert read.frame["account_name"].tolist() == ["one\rtwo"]


def test_utf16_encoding_on_a_utf8_file_is_a_message(tmp_path):
    from kamrules.data.reader import ReadOptions, read_table
    from kamrules.errors import DataError
    from kamrules.pack import load_pack

    path = tmp_path / "d.csv"
    path.write_bytes(b"account_id,account_name,sales\nA1,x,5\n")
    with pytest.raises(DataError, match="cannot be read as utf-16"):
        read_table(path, list(load_pack(RULES).fields.values()), ReadOptions(encoding="utf-16"))


# ------------------------------------------------------------------ 6. because: width and precision


@pytest.mark.parametrize("because", ["{sales:.100000000f}", "{sales:>1000000000}", "{sales:0200,.2f}"])
def test_because_format_width_and_precision_are_bounded_at_load_time(tmp_path, because):
    from kamrules.pack import load_pack

    pack = tmp_path / "pack"
    shutil.copytree(RULES, pack)
    decisions = pack / "20-decisions.yaml"
    text = decisions.read_text(encoding="utf-8")
    marker = "{params.pareto_cut:%}"
    assert marker in text
    decisions.write_text(text.replace(marker, because, 1), encoding="utf-8")
    with pytest.raises(RuleError, match="width or precision over 100"):
        load_pack(pack)


def test_ordinary_because_formats_still_load():
    from kamrules.pack.guards import because_format_problem

    assert because_format_problem("{sales:,.0f} is {share:>8.1%} of {params.cut:%}") is None


# ------------------------------------------------------------------ 13. determinism, -q, --as-of


def test_manifest_is_the_same_whatever_the_number_of_jobs(tmp_path):
    assert _evaluate("--out", "one").exit_code == 0
    one = (tmp_path / "one" / "manifest.json").read_bytes()
    result = runner.invoke(app, ["evaluate", str(DATA), "--rules", str(RULES), "--as-of", "2026-11-27",
                                 "--jobs", "7", "-q", "--out", "seven"])
    assert result.exit_code == 0
    assert (tmp_path / "seven" / "manifest.json").read_bytes() == one
    assert b'"jobs"' not in one


@pytest.mark.parametrize("as_of", ["1700-01-01", "1677-01-01", "2262-06-01", "9999-12-31"])
def test_as_of_out_of_range_is_a_usage_error(as_of):
    result = _evaluate("--out", "out", "--as-of", as_of)
    assert result.exit_code == 2 and "outside 1800-01-01" in result.output


def test_quiet_silences_library_warnings(monkeypatch):
    import warnings

    import kamrules.run

    def warn_and_fail(*args, **kwargs):
        warnings.warn("PerformanceWarning: DataFrame is highly fragmented", UserWarning)
        raise kamrules.run.UsageError("stop here")

    monkeypatch.setattr(kamrules.run, "run_evaluate", warn_and_fail)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        result = _evaluate("--out", "out")
    assert result.exit_code == 2
    assert seen == []


# ------------------------------------------------------------------ crashes: deep expressions


@pytest.mark.parametrize("when, expected", [
    ("(" * 300 + "strategic_project" + ")" * 300, "parentheses nested more than 40 deep"),
    ("not " * 990 + "strategic_project", "more than 40 'not', '-' or '+' in a row"),
    ("sales > " + "-" * 500 + "1", "more than 40 'not', '-' or '+' in a row"),
])
def test_deeply_nested_conditions_are_rule_errors_not_crashes(tmp_path, when, expected):
    from kamrules.pack import load_pack

    pack = tmp_path / "pack"
    shutil.copytree(RULES, pack)
    decisions = pack / "20-decisions.yaml"
    text = decisions.read_text(encoding="utf-8")
    assert "when: strategic_project" in text
    decisions.write_text(text.replace("when: strategic_project", f"when: {when}", 1), encoding="utf-8")
    with pytest.raises(RuleError, match=re.escape(expected)) as caught:
        load_pack(pack)
    assert "20-decisions.yaml:" in str(caught.value)


def test_nesting_guard_leaves_ordinary_conditions_and_strings_alone():
    from kamrules.language.guards import nesting_problem

    assert nesting_problem("not (a and (b or -c)) and name == '((((((((((((((((((((((((((((((((((((((((((('") is None
    assert nesting_problem("notable > 1 and x_not < -1e-5") is None


# ------------------------------------------------------------------ crashes: JSON, Parquet, dates


def _data_error(path: Path) -> str:
    from kamrules.data.reader import read_table
    from kamrules.errors import DataError
    from kamrules.pack import load_pack

    with pytest.raises(DataError) as caught:
        read_table(path, list(load_pack(ROOT / "rules").fields.values()))
    return str(caught.value)


@pytest.mark.parametrize("text, expected", [
    ('[{"account_id": "A\\ud800", "account_name": "x", "sales": 1}]', "lone surrogate"),
    ('[{"account_id": "A", "account_name": ' + "[" * 100_000 + "]" * 100_000 + ', "sales": 1}]', "nested too deeply"),
    ('[{"account_id": "A", "account_name": "x", "sales": ' + "9" * 5000 + "}]", "column 'sales'"),
])
def test_hostile_json_is_a_data_error(tmp_path, text, expected):
    path = tmp_path / "d.json"
    path.write_text(text)
    assert expected in _data_error(path)


def test_paired_surrogates_in_json_are_fine(tmp_path):
    from kamrules.data.guards import json_loads

    assert json_loads('["\\ud83d\\ude00"]', "x") == ["\U0001F600"]


def test_parquet_uint64_above_2_53_is_a_bad_value(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"account_id": ["A", "B"], "sales": pa.array([2**60, 1], type=pa.uint64())}), path)
    assert "'1152921504606846976' is beyond" in _data_error(path)


@pytest.mark.parametrize("day", ["1500-01-01", "1700-01-01", "2300-01-01"])
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_dates_outside_1800_2199_are_bad_values(tmp_path, day, fmt):
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / f"d.{fmt}"
    if fmt == "csv":
        path.write_text(f"account_id,account_name,sales,last_order\nA1,x,5,{day}\nA2,y,6,2020-01-01\n")
    else:
        days = pa.array([dt.date.fromisoformat(day), dt.date(2020, 1, 1)])
        pq.write_table(pa.table({"account_id": ["A1", "A2"], "sales": [5.0, 6.0], "last_order": days}), path)
    message = _data_error(path)
    assert "column 'last_order'" in message and ("1800-2199" in message or "1678-2261" in message)


def test_a_csv_cell_over_the_block_size_is_explained(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("account_id,account_name,sales\nA1,\"" + "x" * 3_000_000 + "\",5\nA2,y,6\n")
    message = _data_error(path)
    assert "a cell is larger than 1 MB" in message and "straddling" not in message


def test_chinese_playbook_names_are_written_under_the_c_locale(tmp_path):
    (tmp_path / "zh.csv").write_text("account_id,account_name,sales\nA1,重点客户,500\nA2,y,6\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}
    done = subprocess.run([sys.executable, "-m", "kamrules", "evaluate", "zh.csv", "--as-of", "2026-11-27",
                           "--out", "out", "-q", "--playbooks", "all"], capture_output=True, env=env, timeout=300,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert "a1-重点客户.md".encode() in os.listdir(os.fsencode(tmp_path / "out" / "playbooks"))


# ------------------------------------------------------------------ 13. control characters from data


def test_nul_and_ansi_escapes_from_json_never_reach_outputs_or_the_terminal(tmp_path):
    (tmp_path / "d.json").write_text(
        '[{"account_id": "A1", "account_name": "Evil\\u0000\\u001b[2J\\u001b]0;pwned\\u0007 Co", "sales": 5},'
        ' {"account_id": "A2", "account_name": "Fine\\tCo", "sales": 6}]')
    result = runner.invoke(app, ["evaluate", "d.json", "--as-of", "2026-11-27", "--out", "out",
                                 "--playbooks", "all", "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x00" not in result.output
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert b"\x00" not in data and b"\x1b" not in data, path
    decisions = (tmp_path / "out" / "decisions.csv").read_text(encoding="utf-8")
    assert "Evil\ufffd\ufffd[2J" in decisions and "Fine\tCo" in decisions


def test_xlsx_with_an_encrypted_part_is_a_message(tmp_path):
    """Found by the long fuzz run: a flipped flag bit made zipfile raise RuntimeError (exit 3)."""
    import io
    import zipfile

    import pandas as pd

    buffer = io.BytesIO()
    pd.DataFrame({"account_id": ["A1"], "sales": [1.0]}).to_excel(buffer, index=False)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    data = bytearray(buffer.getvalue())
    name = b"docProps/core.xml"
    entry = data.find(b"PK\x01\x02")
    while entry >= 0 and data[entry + 46:entry + 46 + len(name)] != name:
        entry = data.find(b"PK\x01\x02", entry + 4)
    assert entry >= 0 and source.getinfo("docProps/core.xml")
    data[entry + 8] |= 0x1  # the central directory's "encrypted" flag
    path = tmp_path / "book.xlsx"
    path.write_bytes(bytes(data))
    assert "open it in Excel and save it again" in _read_xlsx_error(path)


def test_a_sheet_longer_than_excel_allows_is_named(tmp_path, monkeypatch):
    import pandas as pd

    import kamrules.data.guards as guards

    monkeypatch.setattr(guards, "EXCEL_ROWS", 5)  # the same check without writing a million rows
    path = tmp_path / "long.xlsx"
    pd.DataFrame({"account_id": [f"A{i}" for i in range(10)], "sales": range(10)}).to_excel(path, index=False)
    assert "more than 5 rows, which no Excel sheet can have" in _read_xlsx_error(path)


# ------------------------------------------------------------------ 9. negative sales, look-alike ids


def test_negative_sales_and_look_alike_ids_are_warned_about_with_rows(tmp_path):
    (tmp_path / "d.csv").write_text(
        "account_id,account_name,sales\nA1,x,500\nＡ1,y,400\nB\u200b2,z,-30\nB2,w,20\nc3,v,10\nC3,u,5\n",
        encoding="utf-8")
    result = runner.invoke(app, ["evaluate", "d.csv", "--rules", str(RULES), "--as-of", "2026-11-27",
                                 "--out", "out", "-q", "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert "warning: 1 accounts have negative sales (rows 4)" in result.output
    assert "'A1' (row 2) and 'Ａ1' (row 3)" in result.output
    assert "'B\\u200b2' (row 4) and 'B2' (row 5)" in result.output
    assert "'c3' (row 6) and 'C3' (row 7)" in result.output


def test_ordinary_data_gives_no_data_warnings():
    import pandas as pd

    from kamrules.data.guards import suspicious_values

    frame = pd.DataFrame({"account_id": ["A1", "A2"], "sales": [1.0, 0.0]})
    assert suspicious_values(frame, [2, 3], "sales") == []


# ------------------------------------------------------------------ 10. non-finite and huge numbers in packs


@pytest.mark.parametrize("value, expected", [
    ("9" * 400, "the number is beyond ±1,000,000,000,000,000"),
    (".inf", "the number is beyond ±1,000,000,000,000,000 (or infinite)"),
    ("-.inf", "the number is beyond"),
    (".nan", "'.nan' is not a number a rule can use"),
])
def test_huge_and_non_finite_numbers_in_a_pack_are_rule_errors(tmp_path, value, expected):
    from kamrules.pack import load_pack

    pack = tmp_path / "pack"
    shutil.copytree(RULES, pack)
    fields = pack / "00-fields.yaml"
    text = fields.read_text(encoding="utf-8")
    assert "  pareto_cut: 0.8" in text
    fields.write_text(text.replace("  pareto_cut: 0.8", f"  pareto_cut: {value}"), encoding="utf-8")
    with pytest.raises(RuleError) as caught:
        load_pack(pack)
    assert f"00-fields.yaml:19:15: {expected}" in str(caught.value)
