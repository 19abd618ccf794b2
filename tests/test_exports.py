"""Real CRM exports to a correct run without surgery (issue #25): report footers and title rows, units
that disagree, period words, rows that are not customers, CRM revenue columns, look-alike regions,
whole-file gaps, `kamrules columns`, explain and validate on real files, the example's own date.

The exports are in tests/data/exports (made by make_exports.py there): a Salesforce Account report CSV
with its footer, a HubSpot companies xlsx with leads, a Chinese CRM export in GBK with a title row."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import shlex
import shutil
from pathlib import Path

import openpyxl
import pytest
import typer
import yaml
from typer.testing import CliRunner

from kamrules.cli import app
from kamrules.data.lookalikes import lookalike_groups, place_key
from kamrules.data.meaning import Revenue, header_kind, proposals, revenue_of
from kamrules.data.reader import ReadOptions, load_mapping_file, read_table
from kamrules.errors import ConfigError, DataError
from kamrules.pack import load_pack
from kamrules.pack.fields import FieldSpec

from conftest import ROOT

EXPORTS = ROOT / "tests" / "data" / "exports"
SALESFORCE, HUBSPOT, CHINESE = EXPORTS / "salesforce-accounts.csv", EXPORTS / "hubspot-companies.xlsx", EXPORTS / "crm-zh-gbk.csv"
AS_OF = "2026-11-27"
runner = CliRunner()
PACK = load_pack(ROOT / "rules")
FIELDS = list(PACK.fields.values())


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def read(path, **options):
    return read_table(Path(path), FIELDS, ReadOptions(**options))


def write_csv(name: str, rows: list[list], encoding: str = "utf-8") -> Path:
    with open(name, "w", encoding=encoding, newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return Path(name)


def manifest(out: str) -> dict:
    return json.loads(Path(out, "manifest.json").read_text(encoding="utf-8"))


# ------------------------------------------------------------------- 1. footers and title rows


def test_a_salesforce_footer_is_left_out_and_every_row_of_it_reported():
    result = read(SALESFORCE, columns={"account_id": "Account Name", "sales": "Closed Won Amount (This Fiscal Year)"},
                  values={"customer_type": {"Prospect": "skip-row", "Technology Partner": "", "Other": ""}})
    layout = result.mapping["layout"]
    assert [r["row"] for r in layout["footer"]] == [43, 44, 46, 47]  # the blank rows 42 and 45 are not text
    assert layout["footer"][0]["text"] == "Confidential Information - Do Not Distribute"
    assert layout["footer"][3]["text"] == "Acme Widgets Holdings"
    assert result.row_numbers[-1] == 41 and len(result.frame) == 36  # 40 accounts, 4 prospects left out


def test_a_chinese_title_row_and_blank_row_are_skipped_and_the_title_unit_applies():
    result = read(CHINESE, columns={"region": "所属区域"})
    layout = result.mapping["layout"]
    assert layout["header_row"] == 3
    assert layout["above"] == [{"row": 1, "text": "2026年第四季度客户销售明细表（金额单位：万元）"}]
    assert layout["title_unit"]["unit"] == "万元"
    assert result.row_numbers[0] == 4
    fields = {r["field"]: r for r in result.mapping["fields"]}
    assert fields["sales_prev_period"]["unit_from"] == "title" and fields["sales_prev_period"]["scale"] == 10000
    assert fields["gross_profit"]["unit_from"] == "title" and "unit_from" not in fields["sales"]
    first = result.frame.iloc[0]  # 00040: 100.4 / 103.38 / 19.32 in 万元
    assert (first["account_id"], first["sales"], first["sales_prev_period"], first["gross_profit"]) == \
        ("00040", 1_004_000.0, 1_033_800.0, 193_200.0)
    assert result.frame.loc[result.frame["account_id"] == "00047", "sales_prev_period"].item() == 120_000.0  # 12万
    lines = invoke("evaluate", CHINESE, "--columns", _mapping("region: 所属区域\n"), "--as-of", AS_OF, "--playbooks",
                   "none", "--out", "o").output.splitlines()
    assert "  header on row 3; left out 1 row(s) above it: row 1 '2026年第四季度客户销售明细表（金额单位：万元）' (and 1 blank)" in lines
    assert ("  unit from the title: 万元, applied to the money columns without a unit of their own: "
            "sales_prev_period (上期销售额), gross_profit (毛利)") in lines


def _mapping(text: str, name: str = "map.yaml") -> Path:
    Path(name).write_text(text, encoding="utf-8")
    return Path(name)


def test_a_title_unit_is_not_applied_to_columns_with_their_own_unit_and_that_is_said():
    write_csv("t.csv", [["客户销售表（单位：万元）", "", ""], ["", "", ""], ["客户编码", "销售额(元)", "毛利(元)"],
                        ["A1", "1200", "300"], ["A2", "900", "200"]])
    result = read("t.csv")
    assert result.frame["sales"].tolist() == [1200.0, 900.0]
    lines = invoke("evaluate", "t.csv", "--as-of", AS_OF, "--out", "o", "--playbooks", "none").output.splitlines()
    assert ("  the title states the unit 万元; not applied: every money column says its own unit (in its header or "
            "--columns)") in lines


def test_an_xlsx_report_with_title_rows_and_a_totals_footer():
    book = openpyxl.Workbook()
    sheet = book.active
    for row in (["Key account sales report (in thousands)"], [], ["Account ID", "Sales", "Region", "Industry"],
                ["A1", 120, "East", "Energy"], ["A2", 80, "West", "Retail"], ["A3", 40, "East", "Retail"],
                ["Total", 240, None, None], [], ["Printed by: J. Doe"]):
        sheet.append(row)
    book.save("r.xlsx")
    result = read("r.xlsx")
    assert result.row_numbers == [4, 5, 6] and result.frame["sales"].tolist() == [120_000.0, 80_000.0, 40_000.0]
    assert result.mapping["layout"]["footer"] == [{"row": 7, "text": "Total 240"}, {"row": 9, "text": "Printed by: J. Doe"}]
    assert result.mapping["layout"]["title_unit"] == {"unit": "k", "text": "Key account sales report (in thousands)"}


def test_short_rows_at_the_end_do_not_blame_the_delimiter_and_skip_footer_reads_them_away():
    rows = [["account_id", "sales", "region"], ["A1", "5", "East"], ["A2", "6", "West"], ["End of list"], ["J. Doe"]]
    write_csv("s.csv", rows)  # no blank row and no footer word: not taken for a footer by itself
    with pytest.raises(DataError) as caught:
        read("s.csv")
    assert str(caught.value) == ("s.csv: 2 row(s) after the last account (rows 4 and 5) do not have the header's 3 "
                                 "columns; if they are a report footer or notes, pass --skip-footer 2 (the last 2 "
                                 "rows, from row 4, blank rows included); if they are accounts, complete their cells")
    assert "delimiter" not in str(caught.value)
    result = read("s.csv", skip_footer=2)
    assert result.row_numbers == [2, 3] and [r["row"] for r in result.mapping["layout"]["footer"]] == [4, 5]
    middle = write_csv("m.csv", [["account_id", "sales", "region"], ["A1", "5"], ["A2", "6", "West"]])
    with pytest.raises(DataError, match="check the delimiter"):
        read(middle)


def test_header_row_chooses_the_header_and_bad_row_options_are_usage_errors():
    write_csv("h.csv", [["Accounts", "exported", "2026-11-27"], ["account_id", "sales", "region"], ["A1", "5", "East"]])
    result = read("h.csv", header_row=2)
    assert result.row_numbers == [3] and result.mapping["layout"]["above"] == [{"row": 1, "text": "Accounts exported 2026-11-27"}]
    assert result.source["header_row"] == 2
    bad = invoke("evaluate", "h.csv", "--header-row", "0", "--out", "o")
    assert bad.exit_code == 2 and bad.stderr == "error: --header-row must be a whole number of at least 1, not '0'\n"
    beyond = invoke("evaluate", "h.csv", "--header-row", "9", "--out", "o")
    assert beyond.exit_code == 1
    assert beyond.stderr == ("error: h.csv: --header-row 9 is beyond the end of the file; give the row number of the "
                             "header as the spreadsheet shows it\n")
    ok = invoke("evaluate", "h.csv", "--header-row", "2", "--as-of", AS_OF, "--out", "o", "--playbooks", "none")
    assert ok.exit_code == 0 and manifest("o")["input"]["header_row"] == 2


def test_a_totals_row_at_the_end_is_never_an_account():
    write_csv("z.csv", [["客户编码", "销售额", "区域"], ["A1", "5", "华东"], ["A2", "7", "华北"], ["合计", "12", ""]])
    result = read("z.csv")
    assert result.frame["account_id"].tolist() == ["A1", "A2"]
    assert result.mapping["layout"]["footer"] == [{"row": 4, "text": "合计 12"}]


# ------------------------------------------------------------------------- 2. units that disagree


def _chinese_without_title() -> Path:
    lines = CHINESE.read_bytes().decode("gbk").splitlines(keepends=True)[2:]
    Path("zh.csv").write_text("".join(lines), encoding="utf-8")
    return Path("zh.csv")


def test_money_columns_that_disagree_stop_with_the_columns_the_likely_unit_and_the_line():
    path = _chinese_without_title()
    with pytest.raises(DataError) as caught:
        read(path, columns={"region": "所属区域"})
    assert str(caught.value) == (
        "zh.csv: 2 money column(s) do not agree with the sales column; nothing was decided. Say each column's unit "
        "in the --columns file (or unit: 元 when the numbers are right as they are):\n"
        "  column '上期销售额' (sales_prev_period) is about 10,000 times smaller than '本期销售额(万元)' (sales): "
        "'上期销售额' is likely in 万元; add:\n"
        "    sales_prev_period: {column: 上期销售额, unit: 万元}\n"
        "  column '毛利' (gross_profit) is about 40,000 times smaller than '本期销售额(万元)' (sales): "
        "'毛利' is likely in 万元; add:\n"
        "    gross_profit: {column: 毛利, unit: 万元}")
    with pytest.raises(DataError) as zh:
        read(path, columns={"region": "所属区域"}, lang="zh")
    assert "“上期销售额”的单位可能是 万元" in str(zh.value) and "sales_prev_period: {column: 上期销售额, unit: 万元}" in str(zh.value)
    settled = read(path, columns={"region": "所属区域"}, units={"sales_prev_period": "万元", "gross_profit": "万元"})
    assert settled.frame["sales_prev_period"].iloc[0] == 1_033_800.0
    as_is = read(path, columns={"region": "所属区域"}, units={"sales_prev_period": "元", "gross_profit": "元"})
    assert as_is.frame["sales_prev_period"].iloc[0] == 103.38  # the user said so: read as they are


def test_gross_profit_above_sales_for_most_accounts_is_a_unit_doubt():
    write_csv("g.csv", [["account_id", "sales", "gross_profit"], ["A1", "12", "30000"], ["A2", "10", "25000"],
                        ["A3", "8", "15000"]])
    with pytest.raises(DataError) as caught:
        read("g.csv")
    assert ("column 'gross_profit' (gross_profit) is above 'sales' (sales) for most accounts (a median margin of "
            "250000%): 'sales' is likely in k") in str(caught.value)


def test_a_unit_in_the_mapping_scales_and_years_become_months():
    write_csv("y.csv", [["account_id", "sales", "Contract (years)", "合同年限(年)"], ["A1", "5", "2", "1.5"]])
    mapping = _mapping("contract_months: {column: Contract (years), unit: years}\nsales: {column: sales, unit: k}\n")
    loaded = load_mapping_file(mapping)
    result = read("y.csv", columns=loaded.columns, units=loaded.units)
    assert result.frame["contract_months"].tolist() == [24.0] and result.frame["sales"].tolist() == [5000.0]
    write_csv("y2.csv", [["account_id", "sales", "合同期限(年)"], ["A1", "5", "1.5"]])
    assert read("y2.csv").frame["contract_months"].tolist() == [18.0]  # 年 under a field counted in months
    scaled = _mapping("sales: {column: sales, scale: 10000}\n", "scaled.yaml")
    assert read("y.csv", units=load_mapping_file(scaled).units).frame["sales"].tolist() == [50000.0]
    _mapping("sales: {column: sales, scale: -3}\n", "bad.yaml")
    with pytest.raises(ConfigError) as bad:
        load_mapping_file(Path("bad.yaml"))
    assert str(bad.value) == ("bad.yaml:1:8: field 'sales': 'scale' must be a number above 0, the factor values are "
                              "multiplied by (10000 for 万元)")
    with pytest.raises(ConfigError) as caught:
        read("y.csv", units={"sales": "years"})
    assert str(caught.value) == ("--columns: field 'sales': unit 'years' does not fit it; its units are: 元, 千元, 万元, "
                                 "百万元, 亿元, k, M, %")


# ------------------------------------------------------------------------------- 3. period words


def test_previous_period_sales_are_not_sales_a_year_earlier_and_the_console_says_which():
    write_csv("p.csv", [["客户编码", "本期销售额", "上期销售额", "去年同期销售额"], ["A1", "100", "90", "80"], ["A2", "50", "60", "40"]])
    result = read("p.csv")
    assert result.column_map["sales_prev_period"] == "上期销售额" and result.column_map["sales_prev"] == "去年同期销售额"
    lines = invoke("evaluate", "p.csv", "--as-of", AS_OF, "--out", "o", "--playbooks", "none").output.splitlines()
    assert ("  sales columns read as: sales ← 本期销售额 = Sales this period; sales_prev_period ← 上期销售额 = Sales in the "
            "previous period; sales_prev ← 去年同期销售额 = Sales a year earlier") in lines
    zh = invoke("evaluate", "p.csv", "--as-of", AS_OF, "--out", "o", "--playbooks", "none", "--lang", "zh").output
    assert "sales_prev_period ← 上期销售额 = 上期销售额（环比）" in zh and "sales_prev ← 去年同期销售额 = 去年同期销售额" in zh
    write_csv("q.csv", [["客户编码", "本期销售额", "上期销售额"], ["A1", "100", "90"]])
    mapped = read("q.csv", columns={"sales_prev": "上期销售额"})  # the mapping can say it means a year earlier
    assert mapped.column_map["sales_prev"] == "上期销售额" and "sales_prev_period" not in mapped.column_map


# ---------------------------------------------------------------------- 4. rows that are not customers


def test_where_names_the_files_own_columns_and_filters_before_values_are_checked():
    out = invoke("evaluate", HUBSPOT, "--columns", _mapping("sales: Total Revenue\n"), "--where",
                 '`Lifecycle Stage` in ["Customer", "Evangelist"]', "--as-of", AS_OF, "--out", "o", "--playbooks", "none")
    assert out.exit_code == 0, out.output  # the leads' blank Total Revenue is never checked
    assert ('  left out 14 rows: --where `Lifecycle Stage` in ["Customer", "Evangelist"] is false for 14'
            in out.output.splitlines())
    recorded = manifest("o")
    assert recorded["rows"]["accounts"] == 22 and recorded["columns"]["where"]["left_out"] == 14
    bad = invoke("evaluate", HUBSPOT, "--columns", "map.yaml", "--where", '`Lifecycle Stag` == "Customer"', "--out", "o")
    assert bad.exit_code == 2
    assert bad.stderr == ("error:\n--where: no column `Lifecycle Stag` in this file (did you mean 'Lifecycle Stage'?)\n"
                          '  `Lifecycle Stag` == "Customer"\n  ^\n')


def test_a_bad_cell_the_condition_tests_is_reported_not_filtered_away():
    write_csv("w.csv", [["account_id", "sales", "Deals"], ["A1", "5", "3"], ["A2", "abc", "0"], ["A3", "", "0"]])
    kept = read("w.csv", where="Deals > 0")  # a bare name that is a column of the file; A2 and A3 never checked
    assert kept.frame["account_id"].tolist() == ["A1"] and kept.mapping["where"]["left_out"] == 2
    with pytest.raises(DataError) as caught:
        read("w.csv", where="`Deals` >= 0 and sales > 1")
    # the unreadable 'abc' is reported; the blank cell makes the condition unknown: A3 is left out, counted
    assert str(caught.value) == ("w.csv: row 3, column 'sales' (field sales): 'abc' is not a number; fix the cell or "
                                 "pass --on-bad-value missing")


def test_the_where_of_a_columns_file_is_applied_and_counted_apart():
    mapping = _mapping('sales: Total Revenue\nwhere: \'`Lifecycle Stage` in ["Customer", "Evangelist"]\'\n')
    out = invoke("evaluate", HUBSPOT, "--columns", mapping, "--as-of", AS_OF, "--out", "o", "--playbooks", "none")
    assert out.exit_code == 0, out.output
    assert ('  left out 14 rows: where (map.yaml:2:8) `Lifecycle Stage` in ["Customer", "Evangelist"] is false for 14'
            in out.output.splitlines())
    assert manifest("o")["columns"]["where_columns_file"]["left_out"] == 14


def _help_examples() -> list[list[str]]:
    """Every example of every command's --help (and of the options' help), as argument lists."""
    root = typer.main.get_command(app)
    found = [shlex.split(line.split("Example:", 1)[1].strip()) for line in (root.help or "").splitlines()
             if "Example:" in line]
    for name, command in root.commands.items():
        lines = (command.help or "").splitlines()
        start = next(i for i, line in enumerate(lines) if "Example:" in line)
        block = [lines[start].split("Example:", 1)[1]] + [l for l in lines[start + 1:] if l.strip().startswith("kamrules")]
        for text in block:
            for part in text.split("&&"):
                found.append(shlex.split(part.strip()))
        for param in command.params:
            for option in re.findall(r"(--where '[^']*')", param.help or ""):
                found.append(["kamrules", name, *_data_arguments(command), *shlex.split(option)])
    return found


def _data_arguments(command) -> list[str]:
    """How a command is given customers.csv (an argument or --data), with --as-of and --out when it has them."""
    by_name = {p.name: p for p in command.params}
    data = by_name.get("data")
    found = [] if data is None else ["--data", "customers.csv"] if data.param_type_name == "option" else ["customers.csv"]
    options = {o for p in command.params if p.param_type_name == "option" for o in p.opts}
    found += ["--as-of", AS_OF] if "--as-of" in options else []
    return found + (["--out", "where-out"] if "--out" in options else [])


def _example_runs() -> list[list[list[str]]]:
    """The help examples, each in a run of its own but for those that read what the one before made
    (`history` after `evaluate --register`, everything after `cd`): one test each, so that the test
    workers (`pytest -n auto`) share them out."""
    runs: list[list[list[str]]] = []
    for example in _help_examples():
        if runs and (example[0] == "cd" or example[1] == "history" or runs[-1][-1][0] == "cd"):
            runs[-1].append(example)
        else:
            runs.append([example])
    return runs


@pytest.fixture(scope="module")
def help_project(tmp_path_factory) -> Path:
    """A folder as the help examples expect it: the example data, `kamrules init .`, and a run in
    `review-2026-q4` (made once per test process, copied for each test)."""
    import contextlib

    folder = tmp_path_factory.mktemp("help-examples")
    with contextlib.chdir(folder):
        shutil.copy(ROOT / "examples" / "customers.csv", "customers.csv")
        assert invoke("init", ".").exit_code == 0
        assert invoke("evaluate", "customers.csv", "--as-of", AS_OF, "--out", "review-2026-q4", "-q").exit_code == 0
    return folder


def test_the_help_examples_cover_every_command():
    examples = [example for run in _example_runs() for example in run]
    assert examples == _help_examples()
    assert {e[1] for e in examples if e[0] == "kamrules"} >= {"evaluate", "validate", "explain", "test", "diff",
                                                             "profile", "init", "columns", "history"}


# The whole output of the help examples whose output a test holds: the default pack's properties on the
# bundled example take a minute and a half of CPU, so they are checked here, in the example's own run,
# not again in a test of their own. (The pack's case tables — review-cycle.csv and group-plans.csv among
# them — and the example are the 12 portfolios.)
HELP_OUTPUTS = {
    ("kamrules", "test", "--data", "customers.csv", "--no-cases", "--as-of", AS_OF):
        "property checks: 97 held, 0 failed (8 properties, 12 portfolios)\n",
}


def test_the_help_outputs_held_are_help_examples():
    assert set(HELP_OUTPUTS) <= {tuple(example) for example in _help_examples()}


@pytest.mark.parametrize("run", _example_runs(), ids=lambda run: " && ".join(" ".join(e[:3]) for e in run))
def test_every_help_example_runs_on_the_default_pack(run, help_project, monkeypatch):
    shutil.copytree(help_project, "project")
    monkeypatch.chdir("project")
    for example in run:
        if example[0] == "cd":
            monkeypatch.chdir(example[1])
            continue
        assert example[0] == "kamrules", example
        result = runner.invoke(app, example[1:])
        assert result.exit_code == 0, (example, result.output)
        if tuple(example) in HELP_OUTPUTS:
            assert result.output == HELP_OUTPUTS[tuple(example)]


# --------------------------------------------------------------------------------- 5. revenue columns


def test_revenue_columns_say_whose_revenue_and_which_period():
    assert revenue_of("Closed Won Amount (This Fiscal Year)") == Revenue("ours", "current")
    assert revenue_of("Closed Won Amount (Last Fiscal Year)").period == "year_earlier"
    assert revenue_of("Total Won Amount Last FY").period == "year_earlier"
    assert revenue_of("Won Opportunities Amount").whose == "ours" and revenue_of("Won Opportunities Amount").period is None
    assert revenue_of("Total Revenue").period == "lifetime" and revenue_of("Total deal value").period == "lifetime"
    assert revenue_of("Recent Deal Amount").period == "one_deal"
    assert revenue_of("Annual Revenue").whose == "customer" and revenue_of("年营业额").whose == "customer"


def test_crm_revenue_columns_are_proposed_for_sales_by_period_never_annual_revenue():
    sales, prev = PACK.fields["sales"], PACK.fields["sales_prev"]
    headers = ["Annual Revenue", "Won Opportunities Amount", "Total Won Amount Last FY", "Recent Deal Amount",
               "Number of Associated Deals"]
    columns = [None] * len(headers)
    offered = proposals(sales, sales, headers, columns, range(len(headers)))
    assert [(p.column, p.note) for p in offered] == [("Recent Deal Amount", "one_deal"),
                                                      ("Won Opportunities Amount", "unknown_period")]
    assert [(p.column, p.note) for p in proposals(prev, sales, headers, columns, range(len(headers)))] == \
        [("Total Won Amount Last FY", "year_earlier")]
    out = invoke("evaluate", HUBSPOT, "--out", "o")
    assert out.exit_code == 1
    assert "closest: 'Total Revenue' (lifetime revenue: every closed deal, not one period's);" in out.stderr
    assert "Annual Revenue' (" not in out.stderr and "'Number of Associated Deals' (" not in out.stderr
    sf = invoke("evaluate", SALESFORCE, "--out", "o")
    assert "closest: 'Closed Won Amount (This Fiscal Year)' (our revenue this period);" in sf.stderr
    assert "closest: 'Account Name' (no id column: every row has a different value here, so it can serve as the id)" in sf.stderr


def test_near_misses_are_offered_by_meaning_and_type():
    write_csv("n.csv", [["account_id", "sales", "Country/Region", "Open Complaints Count", "Create Date", "Contract Month"],
                        ["A1", "5", "United States", "3", "2024-01-01", "12"]])
    misses = {m["field"]: m["column"] for m in read("n.csv").mapping["near_misses"]}
    assert misses.get("contract_months") != "Country/Region"
    assert misses.get("oldest_complaint_days") != "Open Complaints Count"
    assert misses.get("last_order") != "Create Date" and misses.get("last_contact") != "Create Date"
    assert header_kind("Country/Region") == "place" and header_kind("Oldest Open Case Age") == "days"


# ----------------------------------------------------------------------------- 6. look-alike regions


def test_places_spelt_several_ways_are_grouped():
    values = ["CA"] * 3 + ["California"] + ["TX", "Texas", "Texas"] + ["北京", "北京市"] + ["华东区", "华东"] \
        + ["广东", "广东省"] + ["NY"]
    groups = {tuple(v for v, _ in g.values) for g in lookalike_groups(values)}
    assert groups == {("CA", "California"), ("Texas", "TX"), ("北京", "北京市"), ("华东", "华东区"), ("广东", "广东省")}
    assert place_key("New York") == place_key("NY") and place_key("东区") == "东区"


def test_look_alike_regions_are_warned_with_the_value_map_and_concentration_follows_the_map():
    columns = _mapping("account_id: Account Name\nsales: Closed Won Amount (This Fiscal Year)\n"
                       "customer_type: {column: Type, values: {Prospect: skip-row, Technology Partner: '', Other: ''}}\n")
    out = invoke("evaluate", SALESFORCE, "--columns", columns, "--as-of", AS_OF, "--out", "o", "--playbooks", "none")
    assert out.exit_code == 0, out.output
    assert (f"warning: {SALESFORCE}: column 'Billing State/Province' (region) spells one place in several ways: "
            "'CA' (13 rows), 'California' (4 rows); 'TX' (6 rows), 'Texas' (2 rows); concentration is measured per "
            "value, so each counts as a place of its own. To join them, add to the --columns file:\n"
            "  region: {column: Billing State/Province, values: {California: CA, Texas: TX}}\n") in out.stderr
    regions = {row["region"] for row in csv.DictReader(open("o/decisions.csv", encoding="utf-8-sig"))}
    assert {"CA", "California"} <= regions
    joined = _mapping(columns.read_text(encoding="utf-8")
                      + "region: {column: Billing State/Province, values: {California: CA, Texas: TX}}\n", "joined.yaml")
    again = invoke("evaluate", SALESFORCE, "--columns", joined, "--as-of", AS_OF, "--out", "o2", "--playbooks", "none")
    assert "spells one place" not in again.stderr
    regions = {row["region"] for row in csv.DictReader(open("o2/decisions.csv", encoding="utf-8-sig"))}
    assert "California" not in regions and "Texas" not in regions
    strict = invoke("evaluate", SALESFORCE, "--columns", columns, "--as-of", AS_OF, "--out", "o3", "--strict")
    assert strict.exit_code == 1 and "spells one place in several ways" in strict.stderr


# -------------------------------------------------------------------------------- 7. whole-file gaps


def test_playbooks_list_only_facts_missing_for_that_account_among_the_files_columns():
    rows = list(csv.reader(open(ROOT / "examples" / "customers.csv", encoding="utf-8")))
    keep = [i for i, h in enumerate(rows[0]) if h not in ("gross_profit", "high_margin_sales")]
    write_csv("nogp.csv", [[row[i] for i in keep] for row in rows])
    out = invoke("evaluate", "nogp.csv", "--as-of", AS_OF, "--out", "o", "--playbooks", "key")
    assert out.exit_code == 0, out.output
    assert "This file has no column for" in out.output and "Gross profit" in out.output  # one line (test_exports2.py)
    report = Path("o/report.html").read_text(encoding="utf-8")
    assert "This file has no Gross profit column (gross_profit)" in report
    playbooks = list(Path("o/playbooks").glob("*.md"))
    texts = [p.read_text(encoding="utf-8") for p in playbooks]
    assert texts and not any("Gross profit | unknown — find out" in t for t in texts)
    assert any("unknown — find out" in t for t in texts)  # what the file has but an account lacks is still asked
    actions = open("o/actions.csv", encoding="utf-8-sig").read()
    assert actions.count("\n") > 1


# ---------------------------------------------------------------------- 8. kamrules columns, end to end


def _columns_then_evaluate(data: Path, *extra: str) -> tuple:
    made = invoke("columns", data, "--write", "map.yaml", *extra)
    assert made.exit_code == 0, made.output
    said = (f"已写入 map.yaml：请检查，然后运行：kamrules evaluate {data} --columns map.yaml" if "zh" in extra
            else f"wrote map.yaml: check it, then run: kamrules evaluate {data} --columns map.yaml")
    assert made.output.splitlines()[-1] == said
    mapping = load_mapping_file(Path("map.yaml"))  # the starter is valid YAML the reader accepts
    run = invoke("evaluate", data, "--columns", "map.yaml", "--as-of", AS_OF, "--out", "out", "--playbooks", "none")
    assert run.exit_code == 0, run.output
    return made.output, mapping, run.output, manifest("out")


def test_salesforce_report_in_two_commands():
    survey, mapping, console, recorded = _columns_then_evaluate(SALESFORCE)
    assert "  sales: required, proposed 'Closed Won Amount (This Fiscal Year)' (our revenue this period)" in survey
    assert mapping.columns["sales"] == "Closed Won Amount (This Fiscal Year)"
    assert mapping.columns["sales_prev"] == "Closed Won Amount (Last Fiscal Year)"
    assert mapping.columns["account_id"] == "Account Name"
    # 'Other' is the pack's "customer, type not stated" (unspecified): only the values it does not know remain
    assert mapping.values["customer_type"] == {"Prospect": "skip-row", "Technology Partner": ""}
    assert mapping.values["region"] == {"California": "CA", "Texas": "TX"}
    assert recorded["rows"]["accounts"] == 36
    assert recorded["columns"]["skipped"] == [{"field": "customer_type", "column": "Type", "value": "Prospect", "rows": 4}]
    assert [r["row"] for r in recorded["columns"]["layout"]["footer"]] == [43, 44, 46, 47]
    assert "  left out a report footer of 4 row(s) at the end: row 43 'Confidential Information - Do Not Distribute'" \
        in console
    decisions = list(csv.DictReader(open("out/decisions.csv", encoding="utf-8-sig")))
    assert {d["region"] for d in decisions} <= {"CA", "TX", "NY", "WA", "IL"}
    sales = {d["account_id"]: float(d["sales"]) for d in decisions}
    assert sales["Acme Inc."] == 546250.0


def test_hubspot_export_in_two_commands():
    survey, mapping, console, recorded = _columns_then_evaluate(HUBSPOT)
    assert "  sales: required, proposed 'Total Revenue' (lifetime revenue: every closed deal, not one period's)" in survey
    assert ("  rows that are not customers: 'Lifecycle Stage' is 'Lead' (6 rows), 'Marketing Qualified Lead' (2 rows), "
            "'Opportunity' (2 rows), 'Sales Qualified Lead' (2 rows), 'Subscriber' (2 rows); proposed: keep Customer, "
            "Evangelist") in survey
    assert mapping.where == '`Lifecycle Stage` in ["Customer", "Evangelist"]'
    assert "Annual Revenue" not in mapping.columns.values()
    assert recorded["rows"]["accounts"] == 22 and recorded["columns"]["where_columns_file"]["left_out"] == 14
    assert "  left out 14 rows: where (map.yaml:" in console


def test_chinese_gbk_export_in_two_commands_in_chinese():
    survey, mapping, console, recorded = _columns_then_evaluate(CHINESE, "--lang", "zh")
    assert "  region：有几列都匹配；建议用“所属区域”（其他：“省份”）" in survey.splitlines()
    assert mapping.columns["region"] == "所属区域" and mapping.values["region"] == {"华东": "华东区"}
    assert "# 表头在第 3 行；跳过其上方 1 行：第 1 行“2026年第四季度客户销售明细表（金额单位：万元）”" in \
        Path("map.yaml").read_text(encoding="utf-8")
    fields = {r["field"]: r for r in recorded["columns"]["fields"]}
    assert fields["sales_prev_period"]["unit_from"] == "title" and fields["gross_profit"]["scale"] == 10000
    decisions = {d["account_id"]: d for d in csv.DictReader(open("out/decisions.csv", encoding="utf-8-sig"))}
    assert float(decisions["00040"]["sales"]) == 1_004_000.0 and decisions["00045"]["region"] == "华东区"
    assert recorded["rows"]["accounts"] == 36


def test_columns_proposes_the_likely_unit_of_money_columns_that_disagree():
    path = _chinese_without_title()
    survey, mapping, console, recorded = _columns_then_evaluate(path)
    assert "  sales_prev_period ← 上期销售额: its unit disagrees with '本期销售额(万元)': likely 万元" in survey.splitlines()
    assert mapping.units == {"sales_prev_period": "万元", "gross_profit": "万元"}
    fields = {r["field"]: r for r in recorded["columns"]["fields"]}
    assert fields["gross_profit"]["unit_from"] == "--columns" and fields["gross_profit"]["scale"] == 10000


def test_columns_on_a_file_with_nothing_to_decide_says_so():
    out = invoke("columns", ROOT / "examples" / "customers.csv")
    assert out.exit_code == 0
    assert out.output.splitlines()[-1] == (f"nothing to decide: kamrules evaluate {ROOT / 'examples' / 'customers.csv'} "
                                           "reads it as shown (columns.yaml not needed)")


def test_columns_refuses_to_replace_a_file_and_reads_its_own_starter_again():
    assert invoke("columns", HUBSPOT, "--write", "map.yaml").exit_code == 0
    again = invoke("columns", HUBSPOT, "--write", "map.yaml")
    assert again.exit_code == 1
    assert again.stderr == "error: map.yaml exists: pass --force to replace it, or choose another name\n"
    second = invoke("columns", HUBSPOT, "--columns", "map.yaml", "--write", "map.yaml")  # a second pass
    assert second.exit_code == 0 and "  sales           ← Total Revenue  (--columns)" in second.output


# ---------------------------------------------------------------------- 9. explain and validate


def test_explain_run_uses_the_runs_columns_file_and_language_and_finds_accounts_by_name():
    shutil.copy(HUBSPOT, "hub.xlsx")
    _mapping('sales: Total Revenue\nwhere: \'`Lifecycle Stage` in ["Customer", "Evangelist"]\'\n')
    run = invoke("evaluate", "hub.xlsx", "--columns", "map.yaml", "--out", "run", "--lang", "zh", "--as-of", AS_OF, "-q")
    assert run.exit_code == 0, run.output
    assert manifest("run")["lang"] == "zh" and manifest("run")["columns"]["file"]["path"] == "map.yaml"
    by_name = invoke("explain", "--run", "run", "north labs")
    assert by_name.exit_code == 0, by_name.output
    assert by_name.output.startswith("North Labs（9000000000） · 评估日期 2026年11月27日")
    english = invoke("explain", "--run", "run", "North Labs", "--lang", "en")
    assert english.output.startswith("North Labs (9000000000)")
    close = invoke("explain", "--run", "run", "North Lab", "--lang", "en")
    assert close.exit_code == 1 and close.stderr == (
        "error: hub.xlsx: no account with the id or name 'North Lab' (did you mean 'North Labs' (id 9000000000), "
        "'North Foods' (id 9000047514), 'Harbor Labs' (id 9000039595)?)\n")
    Path("map.yaml").write_text("sales: Total Revenue\n", encoding="utf-8")
    changed = invoke("explain", "--run", "run", "North Labs", "--lang", "en")
    assert changed.exit_code == 1 and "is not the --columns file the run in run read" in changed.stderr


def test_a_name_several_accounts_share_is_refused_with_their_ids():
    write_csv("d.csv", [["account_id", "account_name", "sales"], ["A1", "Acme", "5"], ["A2", "Acme", "6"]])
    out = invoke("explain", "d.csv", "acme", "--as-of", AS_OF)
    assert out.exit_code == 1
    assert out.stderr == "error: d.csv: 2 accounts are named 'acme' (ids 'A1', 'A2'); give the id\n"


def test_validate_data_says_cannot_fire_only_from_what_a_rule_really_reads():
    rows = list(csv.reader(open(ROOT / "examples" / "customers.csv", encoding="utf-8")))
    drop = rows[0].index("gross_profit")
    write_csv("nogp.csv", [row[:drop] + row[drop + 1:] for row in rows])
    out = invoke("validate", "--data", "nogp.csv", "--as-of", AS_OF)
    lines = out.output.splitlines()
    assert "  rule 'abc → profit_a' can never fire without: gross_profit" in lines
    assert not [line for line in lines if "'tier → pareto_a' can never fire" in line]  # Pareto rules fire here
    assert not [line for line in lines if re.search(r"'tier → \w+' can never fire", line)]


# --------------------------------------------------------------------------- 10. the example's date


def test_the_bundled_example_is_evaluated_as_of_its_own_date():
    out = invoke("evaluate", "--out", "o", "--playbooks", "none")
    assert out.output.splitlines()[0] == "as of 2026-11-27, the example's date" and manifest("o")["as_of"] == AS_OF
    zh = invoke("evaluate", "--out", "o", "--playbooks", "none", "--lang", "zh")
    assert zh.output.splitlines()[0] == "基准日期 2026-11-27（示例数据的日期）"
    given = invoke("evaluate", "--out", "o", "--playbooks", "none", "--as-of", "2026-12-31")
    assert given.output.splitlines()[0] == "as of 2026-12-31"
    shutil.copy(ROOT / "examples" / "customers.csv", "mine.csv")  # the same rows, but the user's file
    own = invoke("evaluate", "mine.csv", "--out", "o", "--playbooks", "none")
    assert own.output.splitlines()[0] == f"as of {dt.date.today().isoformat()} (today; pass --as-of to fix it)"
