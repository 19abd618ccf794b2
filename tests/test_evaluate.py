"""`kamrules evaluate` end to end on golden projects: tests/projects/<name>/ holds rules, data and the
expected outputs."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from kamrules.cli import app

from conftest import ROOT

runner = CliRunner()
PROJECTS = ROOT / "tests" / "projects"


def evaluate(*args: str, expect: int = 0):
    result = runner.invoke(app, ["evaluate", *args], catch_exceptions=False)
    assert result.exit_code == expect, result.output
    return result


def files_of(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("project", ["basic"])
def test_golden_project(project):
    folder = PROJECTS / project
    evaluate(str(folder / "customers.csv"), "--rules", str(folder / "rules"), "--as-of", "2026-11-27",
             "--out", "out", "--playbooks", "all", "-q")
    for expected in sorted((folder / "expected").iterdir()):
        assert (Path("out") / expected.name).read_bytes() == expected.read_bytes(), expected.name


def test_decision_table_shape_and_leading_zeros():
    folder = PROJECTS / "basic"
    evaluate(str(folder / "customers.csv"), "--rules", str(folder / "rules"), "--as-of", "2026-11-27",
             "--out", "out", "--format", "json", "-q")
    rows = json.loads(Path("out/decisions.json").read_text(encoding="utf-8"))
    assert [r["account_id"] for r in rows] == ["00042", "00007", "A-3", "0004"]  # input order, zeros kept
    assert list(rows[0])[:2] == ["account_id", "account_name"]
    assert rows[0]["signal"] == ["decline", "detractor"]  # collect outputs stay lists in JSON
    assert rows[0]["tier_rule"] == "default" and rows[1]["tier_rule"] == "strategic"
    manifest = json.loads(Path("out/manifest.json").read_text(encoding="utf-8"))
    assert manifest["as_of"] == "2026-11-27"
    assert manifest["rows"] == {"accounts": 4, "data_issues": 0}
    assert manifest["input"]["name"] == "customers.csv" and len(manifest["input"]["sha256"]) == 64
    assert manifest["engine"] == "durable_rules" and len(manifest["pack"]["hash"]) == 16


def test_two_runs_are_byte_identical():
    args = ["--as-of", "2026-11-27", "-q", "--jobs", "2"]
    evaluate("--out", "first", *args)
    evaluate("--out", "second", *args)
    first, second = files_of(Path("first")), files_of(Path("second"))
    assert first.keys() == second.keys() and len(first) > 10
    assert first == second


def test_bare_command_runs_bundled_data_and_pack_from_any_folder():
    result = evaluate("--as-of", "2026-11-27")
    assert "Accounts: 300" in result.output
    assert "of the accounts" in result.output and "make 80% of sales" in result.output
    assert Path("kamrules-out/decisions.csv").is_file() and Path("kamrules-out/report.html").is_file()
    assert sorted(Path("kamrules-out/playbooks").glob("*.md"))


def test_every_format_writes_the_same_decisions():
    import pandas as pd

    folder = PROJECTS / "basic"
    common = [str(folder / "customers.csv"), "--rules", str(folder / "rules"), "--as-of", "2026-11-27", "-q"]
    for fmt in ("csv", "xlsx", "json", "parquet"):
        evaluate(*common, "--out", fmt, "--format", fmt)
    ids = {
        "csv": pd.read_csv("csv/decisions.csv", dtype=str, encoding="utf-8-sig")["account_id"].tolist(),
        "xlsx": pd.read_excel("xlsx/decisions.xlsx", dtype=str)["account_id"].tolist(),
        "json": pd.read_json("json/decisions.json", dtype={"account_id": str})["account_id"].tolist(),
        "parquet": pd.read_parquet("parquet/decisions.parquet")["account_id"].tolist(),
    }
    assert all(v == ["00042", "00007", "A-3", "0004"] for v in ids.values()), ids


def test_bad_value_stops_before_writing_anything():
    folder = PROJECTS / "basic"
    Path("data.csv").write_text("account_id,sales\n00042,12abc\n7,5\n", encoding="utf-8")
    result = runner.invoke(app, ["evaluate", "data.csv", "--rules", str(folder / "rules"), "--out", "out"])
    assert result.exit_code == 1
    assert "row 2" in result.stderr and "'12abc'" in result.stderr and "--on-bad-value missing" in result.stderr
    assert "Traceback" not in result.output
    assert not Path("out").exists()


def test_bad_values_as_missing_are_counted_and_listed():
    folder = PROJECTS / "basic"
    Path("data.csv").write_text("account_id,sales,nps\n00042,100,abc\n7,5,9\n", encoding="utf-8")
    result = evaluate("data.csv", "--rules", str(folder / "rules"), "--out", "out", "--on-bad-value", "missing")
    assert "1 cells could not be read and were treated as missing" in result.output
    issues = Path("out/data-issues.csv").read_text(encoding="utf-8-sig").splitlines()
    assert issues[0] == "row,column,field,value,reason" and issues[1].startswith("2,nps,nps,abc,")
    assert json.loads(Path("out/manifest.json").read_text(encoding="utf-8"))["rows"]["data_issues"] == 1
    decisions = Path("out/decisions.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(decisions) == 3  # every account is still there


def test_out_folder_is_not_replaced_when_it_was_not_ours():
    Path("mine").mkdir()
    Path("mine/notes.txt").write_text("keep me", encoding="utf-8")
    result = runner.invoke(app, ["evaluate", "--out", "mine", "--as-of", "2026-11-27", "-q"])
    assert result.exit_code == 1
    assert "mine" in result.stderr and "--force" in result.stderr
    assert Path("mine/notes.txt").read_text(encoding="utf-8") == "keep me"


def test_out_folder_may_not_hold_the_input():
    Path("out").mkdir()
    shutil.copy(PROJECTS / "basic" / "customers.csv", "out/customers.csv")
    result = runner.invoke(app, ["evaluate", "out/customers.csv", "--rules", str(PROJECTS / "basic" / "rules"),
                                 "--out", "out", "--force"])
    assert result.exit_code == 1
    assert Path("out/customers.csv").is_file()


def test_unique_conflict_stops_the_run_with_the_accounts(tmp_path):
    shutil.copytree(PROJECTS / "basic" / "rules", "rules")
    text = Path("rules/20-decisions.yaml").read_text(encoding="utf-8")
    Path("rules/20-decisions.yaml").write_text(text.replace("hit: first", "hit: unique", 1), encoding="utf-8")
    Path("data.csv").write_text("account_id,sales,strategic_project\n00042,100,yes\n7,100,no\n8,100,no\n",
                                encoding="utf-8")
    result = runner.invoke(app, ["evaluate", "data.csv", "--rules", "rules", "--out", "out"])
    assert result.exit_code == 1
    assert result.stderr == (
        "error:\ndecision 'tier' is 'hit: unique' but more than one rule matched:\n"
        "  account '00042' (row 2): rules pareto, strategic all match\n"
        "narrow the rules so that at most one matches, or use 'hit: first'\n")
    assert not Path("out").exists()


def test_team_report_template_overrides_a_block():
    Path("team").mkdir()
    Path("team/report.html.j2").write_text(
        '{% extends "default/report.html.j2" %}{% block advice %}<p id="team">Team advice</p>{% endblock %}\n',
        encoding="utf-8")
    evaluate("--as-of", "2026-11-27", "--out", "out", "--playbooks-dir", "team", "-q")
    assert '<p id="team">Team advice</p>' in Path("out/report.html").read_text(encoding="utf-8")


def test_decision_table_stands_alone_and_actions_go_to_actions_csv():
    evaluate(str(ROOT / "examples" / "customers.csv"), "--as-of", "2026-11-27", "--out", "out", "--playbooks", "none",
             "-q")
    table = pd.read_csv("out/decisions.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    source = pd.read_csv(ROOT / "examples" / "customers.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    assert list(table.columns[:5]) == ["account_id", "account_name", "account_manager", "region", "sales"]
    assert table["account_manager"].tolist() == source["account_manager"].tolist()
    assert table["region"].tolist() == source["region"].tolist()
    # the action texts are not repeated per account in the decision table: codes only
    assert "action_title" not in table.columns and "action_measure" not in table.columns
    actions = pd.read_csv("out/actions.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    assert list(actions.columns) == ["account_id", "account_name", "account_manager", "action", "action_title",
                                     "action_owner", "action_due_days", "action_due_date", "action_measure",
                                     "action_section", "task_id", "priority", "money_at_stake"]
    # one row per account and action, in account order then rule order, as the decision table lists them
    expected = [(row.account_id, code) for row in table.itertuples() for code in row.action.split("; ") if code]
    assert list(zip(actions["account_id"], actions["action"])) == expected
    first = actions.iloc[0]
    due = dt.date(2026, 11, 27) + dt.timedelta(days=int(first["action_due_days"]))
    assert first["action_due_date"] == due.isoformat()
    assert first["action_title"] and first["action_owner"] and first["action_measure"]


def test_trace_numbers_are_encoded_as_json_value_would():
    import json as _json

    import numpy as np

    from kamrules.results.outputs import _float_cells, json_value

    values = [0.0, -0.0, 1.0, -3.0, 0.1, 2.5e-07, 1e15 - 1, 1e15, 1e16, 123456789.123, float("nan"),
              float("inf"), float("-inf"), -42.75, 7e22]
    expected = [_json.dumps(json_value(v)) for v in values]
    assert _float_cells(np.array(values)) == expected


def test_no_actions_csv_without_an_action_decision():
    folder = PROJECTS / "basic"
    evaluate(str(folder / "customers.csv"), "--rules", str(folder / "rules"), "--as-of", "2026-11-27",
             "--out", "out", "--playbooks", "none", "-q")
    assert Path("out/decisions.csv").is_file() and not Path("out/actions.csv").exists()


def test_trace_cells_built_in_arrow_equal_the_python_encoding():
    """The trace's column-wise (Arrow) encoding gives json.dumps(json_value(v)) for every kind of column."""
    import json as _json

    import pandas as pd
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from kamrules.results.outputs import _json_array, _json_cells, _json_texts, json_value

    @settings(max_examples=300, deadline=None, database=None)
    @given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=20))
    def floats(values):
        series = pd.Series(values, dtype="float64")
        assert _json_array(series).to_pylist() == _json_cells(series) == [_json.dumps(json_value(v)) for v in values]

    floats()
    edge = [0.0, -0.0, 1e-4, 9.99e-5, 1e9, 999999999.5, 1e14, 1e15, 1e16, 123456789.123, -42.75, 7e22, 5e-324]
    series = pd.Series(edge, dtype="float64")
    assert _json_array(series).to_pylist() == [_json.dumps(json_value(v)) for v in edge]
    for series in (pd.Series([True, None, False], dtype="boolean"), pd.Series([True, False]),
                   pd.Series([3, None, -7], dtype="Int64"), pd.Series([1, 2], dtype="int64"),
                   pd.Series(["华东", None, 'say "hi"', "back\\slash", "tab\there"], dtype=object),
                   pd.Series(["a", None], dtype="string"),
                   pd.Series(["high", None, "low", float("nan")], dtype=object), pd.Series([None, None], dtype=object),
                   pd.Series([pd.Timestamp("2026-11-27"), pd.NaT]),
                   pd.Series(["text", 3.5, None, True], dtype=object)):
        assert _json_array(series).to_pylist() == _json_cells(series), series
    ids = ["00042", 'A"1', "客户\n7", ""]
    assert _json_texts(ids).to_pylist() == [_json.dumps(i, ensure_ascii=False) for i in ids]


@pytest.mark.parametrize("name", ['Smith, "Big" & Co', "=HYPERLINK(1)", "two\nlines", "carriage\rreturn", "中文，客户"])
def test_actions_csv_keeps_awkward_account_names_as_a_csv_reader_reads_them(tmp_path, name):
    """actions.csv is joined column-wise in Arrow: quoting, the formula guard and a carriage return
    come out as the csv module writes them, and read back as the name (the guard's apostrophe aside)."""
    import csv as _csv

    source = pd.read_csv(ROOT / "examples" / "customers.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    source.loc[0, "account_name"] = name
    data = tmp_path / "customers.csv"
    source.to_csv(data, index=False, quoting=_csv.QUOTE_ALL)
    evaluate(str(data), "--as-of", "2026-11-27", "--out", "out", "--playbooks", "none", "-q")
    with open("out/actions.csv", encoding="utf-8-sig", newline="") as handle:
        rows = list(_csv.DictReader(handle))
    first = source.loc[0, "account_id"]
    names = {row["account_name"] for row in rows if row["account_id"] == first}
    assert names == {("'" + name) if name.startswith("=") else name}
    assert len({row["account_id"] for row in rows}) > 1  # the other accounts' lines are intact
