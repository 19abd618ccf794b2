"""The command line, through Typer's CliRunner: exit codes and whole messages."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kamrules.cli import app
from kamrules.pack import load_pack

from conftest import ROOT, write_pack

runner = CliRunner()
BASIC = ROOT / "tests" / "projects" / "basic"


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.mark.parametrize("command", ["validate", "evaluate", "explain", "init"])
def test_every_command_has_help_with_an_example(command):
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert "Example: kamrules " + command in " ".join(result.output.split())


def test_top_level_help_and_version():
    result = invoke("--help")
    assert result.exit_code == 0 and "Example: kamrules evaluate customers.csv" in result.output
    assert invoke("--version").output.startswith("kamrules ")


def test_validate_valid_pack():
    result = invoke("validate", str(BASIC / "rules"))
    assert result.exit_code == 0
    assert result.output == (f"{BASIC / 'rules'}: valid — 8 fields, 3 params, 6 features and scores, "
                             "3 decisions, 5 rules\n")


def test_validate_reports_every_error_with_location_and_exit_1():
    shutil.copytree(BASIC / "rules", "rules")
    text = Path("rules/20-decisions.yaml").read_text(encoding="utf-8")
    Path("rules/20-decisions.yaml").write_text(text.replace("hit: collect", "hit: colect")
                                               .replace("sales_cum_share <=", "sales_cum_shar <="), encoding="utf-8")
    result = runner.invoke(app, ["validate", "rules"])
    assert result.exit_code == 1
    assert result.stderr == (
        "error:\n"
        "rules/20-decisions.yaml:9:15: decision 'tier' → rule 'pareto': when: unknown name 'sales_cum_shar' "
        "(did you mean 'sales_cum_share'?)\n"
        "rules/20-decisions.yaml:17:10: decision 'signals': hit: 'colect' is not one of first, unique, priority, "
        "collect (did you mean 'collect'?)\n"
    )
    assert "Traceback" not in result.output


def test_validate_uses_local_rules_folder_by_default():
    shutil.copytree(BASIC / "rules", "rules")
    result = invoke("validate")
    assert result.exit_code == 0 and result.output.startswith("rules: valid")


def test_validate_strict_turns_warnings_into_errors():
    write_pack(Path("rules"), {"00.yaml": (BASIC / "rules" / "00-fields.yaml").read_text(encoding="utf-8")
                               + "extras: 1\n"})
    relaxed = runner.invoke(app, ["validate", "rules"])
    assert relaxed.exit_code == 0
    assert "rules/00.yaml:22:1: warning: unknown section 'extras'; it is ignored" in relaxed.stderr
    strict = runner.invoke(app, ["validate", "rules", "--strict"])
    assert strict.exit_code == 1
    assert "unknown section 'extras'; it is ignored (sections: pack, fields, params, labels, features, scores, " \
           "decisions) (an error with --strict)" in strict.stderr


def test_validate_with_data_reports_fields_and_silent_rules():
    Path("data.csv").write_text("account_id,sales,region\n00042,100,north\n7,50,south\n", encoding="utf-8")
    result = invoke("validate", str(BASIC / "rules"), "--data", "data.csv")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[1] == "data.csv: 2 accounts; 3 of 8 fields found"
    assert lines[2] == "  optional fields not in the file: account_name, sales_prev, strategic_project, nps, customer_type"
    assert "  rule 'signals → decline' can never fire without: sales_prev" in lines
    assert "  rule 'signals → detractor' can never fire without: nps" in lines


def test_missing_rules_folder_is_a_clean_error():
    result = runner.invoke(app, ["validate", "nowhere"])
    assert result.exit_code == 1
    assert result.stderr == "error: nowhere: no such rule pack folder (create one with `kamrules init nowhere`)\n"


def test_bad_as_of_is_a_usage_error():
    result = runner.invoke(app, ["evaluate", "--as-of", "27/11/2026"])
    assert result.exit_code == 2
    assert result.stderr == "error: --as-of '27/11/2026' is not a date: write it as YYYY-MM-DD, e.g. --as-of 2026-11-27\n"


def test_bad_choice_is_a_usage_error():
    result = runner.invoke(app, ["evaluate", "--format", "xls"])
    assert result.exit_code == 2
    assert result.stderr == "error: --format 'xls' is not one of: csv, xlsx, json, parquet\n"


def test_explain_shows_deciding_rule_and_the_gap_of_the_others():
    Path("data.csv").write_text("account_id,sales,sales_prev,nps,strategic_project\n"
                                "00042,80000,100000,6,no\n7,1000000,900000,9,no\n", encoding="utf-8")
    result = invoke("explain", "data.csv", "00042", "--rules", str(BASIC / "rules"), "--as-of", "2026-11-27",
                    "--verbose")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:8] == [
        "00042 (row 2 of data.csv, as of 2026-11-27)",
        "",
        "Tier [tier]: tier = Standard",
        "  no rule matched: the default applies",
        "  rule 'pareto' did not match:",
        "    sales_cum_share 1 > 0.8 (params.pareto_cut) (needs -0.2)",
        "  rule 'strategic' did not match:",
        "    strategic_project false != true",
    ]
    assert "  read: growth = -0.2, nps = 6" in result.output


def test_explain_unknown_account_suggests_the_closest():
    Path("data.csv").write_text("account_id,sales\n00042,1\n", encoding="utf-8")
    result = runner.invoke(app, ["explain", "data.csv", "0042", "--rules", str(BASIC / "rules")])
    assert result.exit_code == 1
    assert result.stderr == "error: data.csv: no account with id '0042' (did you mean '00042'?)\n"


def test_init_copies_default_pack_and_refuses_to_overwrite():
    result = invoke("init", "team")
    assert result.exit_code == 0
    assert Path("team/rules").is_dir() and any(Path("team/rules").glob("*.yaml"))
    assert invoke("validate", "team/rules", "--strict").exit_code == 0
    again = runner.invoke(app, ["init", "team"])
    assert again.exit_code == 1
    assert again.stderr == "error: team/rules already exists and is not empty: pass --force to overwrite it\n"


def test_unexpected_exception_is_reported_as_a_bug(monkeypatch):
    import kamrules.pack

    def boom(*args, **kwargs):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(kamrules.pack, "load_pack", boom)
    result = runner.invoke(app, ["validate", str(BASIC / "rules")])
    assert result.exit_code == 3
    assert "this is a bug in kamrules, not a problem with your files" in result.stderr


def test_default_pack_validates_strictly_and_fits_the_example_data():
    """The pack alone passes --strict, and so does the pack against its example. Rules the example never
    hits (profit-based ABC, capacity overflow, …) are notes, information a team may want: no account is
    in that situation, which is not a defect of the pack or the file."""
    assert invoke("validate", str(ROOT / "rules"), "--strict").exit_code == 0
    result = invoke("validate", str(ROOT / "rules"), "--data", str(ROOT / "examples" / "customers.csv"))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    fields = len(load_pack(ROOT / "rules").fields)
    assert lines[1].startswith(f"{ROOT / 'examples' / 'customers.csv'}: 300 accounts; 29 of {fields} fields found")
    # the example carries sales a year earlier (同比), not the previous period's (环比): that column is
    # optional, and the decline on the previous period (read only without a year-earlier figure) is said
    # to be out of reach
    assert [line for line in lines if "can never fire" in line or "not in the file" in line] == [
        "  optional fields not in the file: parent_id, customer_group, sales_prev_period, orders",
        "  rule 'risk_signals → period_decline' can never fire without: sales_prev_period",
        "  rule 'risk_signals → period_decline_strong' can never fire without: sales_prev_period",
        "  rule 'risk_signals → period_gap' can never fire without: sales_prev_period"]
    assert " 0 error(s), 0 warning(s)" in f" {lines[-1]}"
    assert "  note: " in result.output and "matches none of the 300 accounts" in result.output
    strict = invoke("validate", "--strict", "--data", str(ROOT / "examples" / "customers.csv"))
    assert strict.exit_code == 0, strict.output


def test_validate_and_explain_read_semicolon_decimal_comma_files():
    Path("data.csv").write_text("account_id;sales;sales_prev;nps\n00042;80.000,00;100.000,00;6\n7;5,5;4;9\n",
                                encoding="utf-8")
    checked = invoke("validate", str(BASIC / "rules"), "--data", "data.csv", "--delimiter", ";", "--decimal", ",")
    assert checked.output.splitlines()[1] == "data.csv: 2 accounts; 4 of 8 fields found"
    explained = invoke("explain", "data.csv", "00042", "--rules", str(BASIC / "rules"), "--as-of", "2026-11-27",
                       "--delimiter", ";", "--decimal", ",", "--verbose")
    assert "  read: growth = -0.2, nps = 6" in explained.output
    bad = runner.invoke(app, ["validate", str(BASIC / "rules"), "--data", "data.csv", "--decimal", ";"])
    assert bad.exit_code == 2 and bad.stderr == "error: --decimal ';' is not one of: ., ,\n"


def test_explain_run_uses_the_runs_date_settings_and_refuses_other_inputs(tmp_path):
    data = tmp_path / "customers.csv"
    data.write_bytes((ROOT / "examples" / "customers.csv").read_bytes())
    out = tmp_path / "q4"
    made = invoke("evaluate", str(data), "--as-of", "2026-11-27", "--out", str(out), "-q", "--playbooks", "none",
                  "--set", "pareto_target=0.75")
    assert made.exit_code == 0, made.output
    from_run = invoke("explain", "--run", str(out), "A00175")
    assert from_run.exit_code == 0, from_run.output
    assert from_run.output.startswith("宜昌汇丰源电子科技有限公司 (A00175) · As of 27 Nov 2026\n")
    assert "Starts at 75% of cumulative sales: between the A cut (75%)" in from_run.output  # the run's --set
    today = invoke("explain", str(data), "A00175", "--as-of", "2026-11-27")
    assert "below the A cut of 80%" in today.output  # without --run: the pack as it is
    assert invoke("explain", "--run", str(out), "A00175", "--as-of", "2026-11-28").output == (
        "error: --run explains the run as it was: leave out --set and --as-of\n")
    data.write_text(data.read_text(encoding="utf-8") + "A99999,x,华东,enterprise,Retail,张伟,5\n", encoding="utf-8")
    changed = invoke("explain", "--run", str(out), "A00175")
    assert changed.exit_code == 1 and "is not the file the run in" in changed.output
    refused = invoke("explain", str(ROOT / "examples" / "customers.csv"), "A00175", "--run", str(out),
                     "--rules", str(BASIC / "rules"))
    assert refused.exit_code == 1 and "is not the one that made" in refused.output


def test_xlsx_decision_table_is_labelled_in_the_run_language_and_csv_keeps_codes(tmp_path):
    import openpyxl
    import pandas as pd

    for fmt in ("xlsx", "csv"):
        result = invoke("evaluate", str(ROOT / "examples" / "customers.csv"), "--as-of", "2026-11-27", "--lang", "zh",
                        "--out", str(tmp_path / fmt), "-q", "--playbooks", "none", "--format", fmt)
        assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(tmp_path / "xlsx" / "decisions.xlsx", read_only=True).active
    header, first = list(sheet.iter_rows(max_row=2, values_only=True))
    row = dict(zip(header, first))
    assert row["客户编码"] == "A00001" and row["客户级别"] == "重点客户" and row["客户分级 — 规则"] == "pareto_a"
    assert "tier" not in header and len(set(header)) == len(header)
    csv_row = pd.read_csv(tmp_path / "csv" / "decisions.csv", dtype=str).iloc[0]
    assert (csv_row["tier"], csv_row["tier_rule"]) == ("key", "pareto_a")


def test_the_console_speaks_chinese_with_lang_zh(tmp_path):
    result = invoke("evaluate", str(ROOT / "examples" / "customers.csv"), "--as-of", "2026-11-27", "--lang", "zh",
                    "--out", str(tmp_path / "out"), "--playbooks", "none")
    assert result.exit_code == 0, result.output
    for words in ("基准日期 2026-11-27", "规则包：", "列映射：找到 29 个字段", "计算特征", "规则判断", "种情形", "结果已写入"):
        assert words in result.output, words
    for english in ("as of", "pack:", "columns:", "by their own name", "features ", "situations for"):
        assert english not in result.output, english
