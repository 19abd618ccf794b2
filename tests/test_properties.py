"""`kamrules test` properties: the file format (checked like cases, file:line:col and did-you-mean),
each kind on a toy pack that keeps it and one that breaks it (tests/projects/properties/), where they
run (the pack's case tables and portfolios, `--data FILE` with the reading options), and the reports
(text, JUnit XML, JSON)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kamrules.cli import app
from kamrules.data.reader import ReadOptions, read_table
from kamrules.engine.evaluate import evaluate
from kamrules.pack import load_pack
from kamrules.testing.cases import test_files as find_test_files
from kamrules.testing.properties import fields_read, load_properties, needed, output_names, reads_path
from kamrules.testing.suite import run_pack_tests

from conftest import ROOT, write_pack

runner = CliRunner()
PROJECT = ROOT / "tests" / "projects" / "properties"
AS_OF = "2026-11-27"


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def copy_pack(tmp_path: Path, name: str) -> Path:
    """A toy pack copied into tmp_path (messages then name short, predictable paths)."""
    return Path(shutil.copytree(PROJECT / name, tmp_path / name))


# ------------------------------------------------------------------------------- each kind, both sides


def test_a_pack_that_keeps_every_kind_passes(tmp_path):
    folder = copy_pack(tmp_path, "good")
    result = invoke("test", str(folder), "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    assert result.output == "9 passed, 0 failed (9 cases)\nproperty checks: 11 held, 0 failed (5 properties, 2 portfolios)\n"


def test_an_index_that_ignores_sales_fails_largest(tmp_path):
    folder = copy_pack(tmp_path, "by-index")
    result = invoke("test", str(folder), "--as-of", AS_OF)
    assert result.exit_code == 1
    assert result.output == (
        f"FAIL {folder}/tests/properties.yaml:2:5: property 'the largest accounts are key' (largest) on "
        f"{folder}/tests/portfolios/book.csv — key accounts are the few that carry most of the sales\n"
        "  I-1 (no. 1 by sales, 900000): tier standard, expected key\n"
        "  I-2 (no. 2 by sales, 700000): tier standard, expected key\n"
        "\n"
        "property checks: 0 held, 1 failed (1 property, 1 portfolio)\n")


def test_a_pack_that_reads_the_order_of_the_rows_fails_order_invariant(tmp_path):
    """Without an account_id field, equal sales on the Pareto curve keep the order of the rows."""
    folder = copy_pack(tmp_path, "input-order")
    result = invoke("test", str(folder), "--as-of", AS_OF)
    assert result.exit_code == 1
    assert result.output == (
        f"FAIL {folder}/tests/properties.yaml:2:5: property 'the order of the rows changes nothing' "
        f"(order_invariant) on {folder}/tests/portfolios/book.csv\n"
        "  row 2: tier key → standard when the rows are reversed\n"
        "  row 3: tier key → standard when the rows are reversed\n"
        "  row 4: tier standard → key when the rows are reversed\n"
        "  row 5: tier standard → key when the rows are reversed\n"
        "  row 3: tier key → standard when the rows are shuffled (seed 7)\n"
        "  row 4: tier standard → key when the rows are shuffled (seed 7)\n"
        "\n"
        "property checks: 0 held, 1 failed (1 property, 1 portfolio)\n")


def test_the_same_ties_with_an_account_id_keep_order_invariant(tmp_path):
    """The same pack with its id named account_id: ties go by the id, whatever the order of the rows."""
    folder = copy_pack(tmp_path, "input-order")
    for path in (folder / "pack.yaml", folder / "tests" / "portfolios" / "book.csv"):
        path.write_text(path.read_text(encoding="utf-8").replace("customer_no", "account_id"), encoding="utf-8")
    result = invoke("test", str(folder), "--as-of", AS_OF)
    assert result.exit_code == 0, result.output


def test_a_tier_by_margin_alone_fails_monotone(tmp_path):
    folder = copy_pack(tmp_path, "by-margin")
    result = invoke("test", str(folder), "--as-of", AS_OF)
    assert result.exit_code == 1
    assert result.output == (
        f"FAIL {folder}/tests/properties.yaml:2:5: property 'more sales never lower the tier' (monotone) on "
        f"{folder}/tests/portfolios/book.csv\n"
        "  M-1: tier key → potential when sales × 1.5\n"
        "  M-2: tier potential → standard when sales × 1.5\n"
        "  M-3: tier key → standard when sales × 1.5\n"
        "\n"
        "property checks: 0 held, 1 failed (1 property, 1 portfolio)\n")
    zh = invoke("test", str(folder), "--as-of", AS_OF, "--lang", "zh")
    assert "  M-1：sales × 1.5 后，tier 由 key 降为 potential\n" in zh.output
    assert zh.output.endswith("性质检查：0 项成立，1 项不成立（1 条性质，1 个客户组合）\n")


def test_a_tier_that_reads_industry_fails_unread_columns_on_the_pack_and_on_the_data(tmp_path):
    folder = copy_pack(tmp_path, "reads-industry")
    result = invoke("test", str(folder), "--as-of", AS_OF)
    assert result.exit_code == 1
    prefix = f"FAIL {folder}/tests/properties.yaml:2:5: property 'industry and region change no tier' (unread_columns)"
    assert result.output == (
        f"{prefix} on the rule pack\n"
        "  tier reads industry: tier → rule 'strategic_sector' → energy → industry\n"
        "\n"
        f"{prefix} on {folder}/tests/portfolios/book.csv\n"
        "  R-2: tier key → standard when industry is left empty\n"
        "\n"
        "property checks: 0 held, 2 failed (1 property, 1 portfolio)\n")


def test_shuffling_an_unread_column_is_tried_too(tmp_path):
    """A column read by the tier, shuffled across accounts: the accounts whose tier moves are named."""
    folder = copy_pack(tmp_path, "reads-industry")
    (folder / "tests" / "portfolios" / "book.csv").write_text(
        "account_id,sales,industry,region\nR-1,200000,Steel,North\nR-2,5000,Energy,South\n"
        "R-3,3000,Retail,South\nR-4,3000,Retail,South\nR-5,3000,Retail,South\n", encoding="utf-8")
    output = invoke("test", str(folder), "--as-of", AS_OF).output
    assert "  R-2: tier key → standard when industry is left empty\n" in output
    assert "when industry is shuffled across accounts (seed 1)\n" in output


def test_unread_columns_without_a_list_tries_every_field_the_outputs_do_not_read(tmp_path):
    pack = load_pack(PROJECT / "good")
    assert sorted(set(pack.fields) - fields_read(pack, ["visit"])) == ["account_id", "account_name", "gross_profit",
                                                                          "industry"]
    assert fields_read(pack, ["tier"]) == {"sales", "customer_type"}
    assert reads_path(pack, "visit", "region") == ["visit", "region_share", "region"]
    assert reads_path(pack, "visit", "customer_type") == ["visit", "tier", "individual", "customer_type"]
    assert reads_path(pack, "tier", "region") is None


def test_a_pack_cut_to_an_output_decides_it_as_the_whole_pack_does():
    pack = load_pack(ROOT / "rules")
    read = read_table(ROOT / "examples" / "customers.csv", list(pack.fields.values()), ReadOptions())
    whole = evaluate(pack, read.frame, as_of=dt.date(2026, 11, 27))
    cut = needed(pack, ["tier"])
    assert [d.id for d in cut.decisions] == ["tier"] and len(cut.derived) < len(pack.derived)
    alone = evaluate(cut, read.frame, as_of=dt.date(2026, 11, 27))
    assert alone.table["tier"].tolist() == whole.table["tier"].tolist()
    assert set(output_names(cut)) == {"tier", "tier_basis"}


# -------------------------------------------------------------------------------------- the options


def test_monotone_tries_the_accounts_asked_spread_over_the_ranks(tmp_path):
    folder = copy_pack(tmp_path, "by-margin")
    path = folder / "tests" / "properties.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "      accounts: 2\n", encoding="utf-8")
    result = json.loads(invoke("test", str(folder), "--as-of", AS_OF, "--format", "json").output)
    check = result["properties"][0]
    assert check["evaluations"] == 2  # the largest and the smallest raised (the portfolio as it is: shared)
    assert check["violations"] == ["M-1: tier key → potential when sales × 1.5"]  # M-4 has no margin: stays


def test_largest_reads_its_count_from_a_feature_and_says_when_it_is_not_one_number(tmp_path):
    folder = copy_pack(tmp_path, "good")
    path = folder / "tests" / "properties.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("count: params.key_capacity", "count: account_count"), encoding="utf-8")
    result = invoke("test", str(folder), "--as-of", AS_OF, "--no-cases")
    assert result.exit_code == 1  # every account: the consumer and the tail are not key
    assert "  G05 (no. 4 by sales, 100000): tier potential, expected key\n" in result.output
    path.write_text(text.replace("count: params.key_capacity", "count: sales"), encoding="utf-8")
    result = invoke("test", str(folder), "--as-of", AS_OF, "--no-cases")
    assert result.exit_code == 1
    assert ("  count: sales is not one number for the whole portfolio (20000, 80000, 100000 …): name a value every "
            "account shares, e.g. a param\n") in result.output


def test_largest_unless_exempts_the_accounts_it_holds_for(tmp_path):
    folder = copy_pack(tmp_path, "good")
    path = folder / "tests" / "properties.yaml"
    text = path.read_text(encoding="utf-8").replace("count: params.key_capacity", "count: 6")
    path.write_text(text, encoding="utf-8")
    with_unless = invoke("test", str(folder), "--as-of", AS_OF, "--no-cases").output
    path.write_text(text.replace('      unless: customer_type == "consumer"\n', ""), encoding="utf-8")
    without = invoke("test", str(folder), "--as-of", AS_OF, "--no-cases").output
    for output in (with_unless, without):
        assert ("  G05 (no. 4 by sales, 100000): tier potential, expected key\n"
                "  G06 (no. 5 by sales, 100000): tier standard, expected key\n") in output
    consumer = "  G03 (no. 6 by sales, 80000): tier standard, expected key\n"
    assert consumer not in with_unless and consumer in without


# ----------------------------------------------------------------------------------- the file format


GOOD = "as_of: 2026-11-27\nproperties:\n"


@pytest.mark.parametrize("text, message", [
    ("  - {name: p, monotonic: {raise: [sales], output: tier}}",
     "3:15: property 'p': unknown key 'monotonic' (did you mean 'monotone'?)"),
    ("  - {name: p}", "3:5: property 'p': says nothing to check: give one of monotone, largest, order_invariant, unread_columns"),
    ("  - {name: p, order_invariant: {}, largest: {}}",
     "3:36: property 'p': one kind per property: found order_invariant and largest (write two properties)"),
    ("  - {order_invariant: {}}", "3:5: property 1: needs a 'name'"),
    ("  - {name: p, order_invariant: {}}\n  - {name: p, order_invariant: {}}",
     "4:12: property 'p': a second property of this name (the first is at line 3): give each its own name"),
    ("  - {name: p, order_invariant: {sed: 3}}",
     "3:33: property 'p': order_invariant: unknown option 'sed' (did you mean 'seed'?) (options: outputs, seed)"),
    ("  - {name: p, monotone: {output: tier}}", "3:25: property 'p': monotone: needs 'raise'"),
    ("  - {name: p, monotone: {raise: [slaes], output: tier, order: [standard, potential, key]}}",
     "3:34: property 'p': monotone: raise: unknown name 'slaes' (did you mean 'sales'?)"),
    ("  - {name: p, monotone: {raise: [region], output: tier, order: [standard, potential, key]}}",
     "3:34: property 'p': monotone: raise: 'region' is not a number field: a money figure of the data"),
    ("  - {name: p, monotone: {raise: [sales_share], output: tier, order: [standard, potential, key]}}",
     "3:34: property 'p': monotone: raise: 'sales_share' is not a number field: a money figure of the data"),
    ("  - {name: p, monotone: {raise: [sales], output: teir}}",
     "3:50: property 'p': monotone: output: unknown output 'teir' (did you mean 'tier'?)"),
    ("  - {name: p, monotone: {raise: [sales], output: visits}}",
     "3:50: property 'p': monotone: output: 'visits' is a decision: name its output (visit)"),
    ("  - {name: p, monotone: {raise: [sales], output: tier}}",
     "3:25: property 'p': monotone: needs 'order': the values of tier from low to high, e.g. [key, potential, standard]"),
    ("  - {name: p, monotone: {raise: [sales], output: tier, order: [standard, potential, kye]}}",
     "3:85: property 'p': monotone: order: 'kye' is not a value of tier (did you mean 'key'?)"),
    ("  - {name: p, monotone: {raise: [sales], output: tier, order: [standard, key]}}",
     "3:63: property 'p': monotone: order: leaves out 'potential': give every value of tier its place (a list "
     "inside the order for equal values)"),
    ("  - {name: p, monotone: {raise: [sales], output: tier, order: [standard, [potential, key], key]}}",
     "3:92: property 'p': monotone: order: 'key' is listed twice"),
    ("  - {name: p, monotone: {raise: [sales], output: tier, order: [standard, potential, key], by: 1}}",
     "3:95: property 'p': monotone: by: 1 does not raise anything: give a factor above 1, e.g. 1.5"),
    ("  - {name: p, monotone: {raise: [sales], output: tier, order: [standard, potential, key], accounts: 0}}",
     "3:101: property 'p': monotone: accounts: '0' is not a whole number of at least 1"),
    ("  - {name: p, largest: {by: sales, count: params.key_capacty, output: tier, in: [key]}}",
     "3:43: property 'p': largest: count: unknown parameter 'params.key_capacty' (did you mean 'key_capacity'?)"),
    ("  - {name: p, largest: {by: sales, count: 2.5, output: tier, in: [key]}}",
     "3:43: property 'p': largest: count: 2.5 is not a whole number of accounts"),
    ("  - {name: p, largest: {by: sales, count: region, output: tier, in: [key]}}",
     "3:43: property 'p': largest: count: 'region' is not a number field, feature or score"),
    ("  - {name: p, largest: {by: region, count: 3, output: tier, in: [key]}}",
     "3:29: property 'p': largest: by: 'region' is not a number field, feature or score"),
    ("  - {name: p, largest: {by: sales, count: 3, output: tier, in: [kee]}}",
     "3:65: property 'p': largest: in: 'kee' is not a value of tier (did you mean 'key'?)"),
    ("  - {name: p, largest: {by: sales, count: 3, output: tier, in: [key], unless: 'customer_typ == 1'}}",
     "3:80: property 'p': largest: unless: unknown name 'customer_typ' (did you mean 'customer_type'?)"),
    ("  - {name: p, largest: {by: sales, count: 3, output: tier, in: [key], unless: 'sales >'}}",
     "3:87: property 'p': largest: unless: expected a value, found the end of the condition"),
    ("  - {name: p, largest: {by: sales, count: 3, in: [key]}}", "3:24: property 'p': largest: needs 'output'"),
    ("  - {name: p, unread_columns: {columns: [industy]}}",
     "3:42: property 'p': unread_columns: columns: unknown name 'industy' (did you mean 'industry'?)"),
    ("  - {name: p, unread_columns: {columns: [account_id]}}",
     "3:41: property 'p': unread_columns: columns: 'account_id' is how accounts are matched, not a column to leave out"),
    ("  - {name: p, unread_columns: {outputs: [tier, visist]}}",
     "3:48: property 'p': unread_columns: outputs: unknown output 'visist' (did you mean 'visit'?)"),
    ("  - {name: p, order_invariant: [tier]}",
     "3:32: property 'p': order_invariant: a mapping of its options (outputs, seed)"),
    ("  - just a name", "3:5: property 1: must be a mapping with a name and one of monotone, largest, order_invariant, "
                        "unread_columns"),
])
def test_bad_property_is_a_located_error(tmp_path, text, message):
    folder = copy_pack(tmp_path, "good")
    path = folder / "tests" / "properties.yaml"
    path.write_text(GOOD + text + "\n", encoding="utf-8")
    pack = load_pack(folder)
    properties, errors = load_properties(pack, find_test_files(folder))
    assert [str(e) for e in errors] == [f"{path}:{message}"]


def test_properties_not_a_list_is_an_error(tmp_path):
    folder = copy_pack(tmp_path, "good")
    path = folder / "tests" / "properties.yaml"
    path.write_text("properties: {name: p}\n", encoding="utf-8")
    _, errors = load_properties(load_pack(folder), find_test_files(folder))
    assert [str(e) for e in errors] == [f"{path}:1:13: properties: a list of properties, each with a name and one of "
                                        "monotone, largest, order_invariant, unread_columns"]


def test_every_problem_of_every_test_file_is_listed_before_anything_runs(tmp_path):
    folder = copy_pack(tmp_path, "good")
    (folder / "tests" / "properties.yaml").write_text(
        GOOD + "  - {name: p, monotone: {raise: [slaes], output: tier, order: [standard, potential, key]}}\n", encoding="utf-8")
    (folder / "tests" / "more.yaml").write_text("- {name: c, facts: {slaes: 1}, expect: {tier: key}}\n", encoding="utf-8")
    result = invoke("test", str(folder))
    assert result.exit_code == 1
    assert result.output == (
        "error:\n"
        f"{folder}/tests/more.yaml:1:21: case 'c': facts: unknown field, feature or score 'slaes' (did you mean 'sales'?)\n"
        f"{folder}/tests/properties.yaml:3:34: property 'p': monotone: raise: unknown name 'slaes' (did you mean 'sales'?)\n")


def test_a_file_of_properties_only_needs_no_cases(tmp_path):
    folder = copy_pack(tmp_path, "good")
    (folder / "tests" / "cases.csv").unlink()
    result = invoke("test", str(folder), "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    assert result.output == "property checks: 6 held, 0 failed (5 properties, 1 portfolio)\n"


# --------------------------------------------------------------------------------- where they run


def test_data_file_with_reading_options(tmp_path):
    """A CRM export: semicolons, decimal commas, other column names (one mapped with --columns, the
    others by alias), a prospect row left out with --where."""
    folder = copy_pack(tmp_path, "good")
    export = tmp_path / "crm.csv"
    export.write_text(
        "Account Number;Company;Umsatz;Gross profit;Region;Type\n"
        "C-1;Alpha;400.000,50;80.000;North;Company\n"
        "C-2;Beta;300.000;;North;Business\n"
        "C-3;Gamma;300.000;30.000;South;Individual\n"
        "C-10;Delta;250.000;50.000;South;Company\n"
        "C-9;Epsilon;250.000;25.000;West;Company\n"
        "C-4;Zeta;10.000;1.000;West;Prospect\n", encoding="utf-8")
    mapping = tmp_path / "columns.yaml"
    mapping.write_text("sales: Umsatz\ncustomer_type: {column: Type, values: {Prospect: enterprise}}\n", encoding="utf-8")
    result = invoke("test", str(folder), "--data", str(export), "--columns", str(mapping), "--decimal", ",",
                    "--where", 'account_name != "Zeta"', "--no-cases", "--as-of", AS_OF, "--format", "json")
    assert result.exit_code == 0, result.output
    checks = [c for c in json.loads(result.output)["properties"] if c["portfolio"] == str(export)]
    assert len(checks) == 5 and all(c["passed"] and c["accounts"] == 5 for c in checks)
    by_name = {c["name"]: c for c in checks}
    assert by_name["the three largest companies are key"]["evaluations"] == 0  # reads the shared evaluation
    assert by_name["the order of the rows changes nothing"]["evaluations"] == 2  # reversed, shuffled


def test_data_file_that_breaks_a_property(tmp_path):
    folder = copy_pack(tmp_path, "by-index")
    export = tmp_path / "book.csv"
    export.write_text("account_id,sales,partnership_intent\nX-1,5000000,1\nX-2,20,5\nX-3,10,4\n", encoding="utf-8")
    result = invoke("test", str(folder), "--data", str(export), "--no-cases", "--as-of", AS_OF)
    assert result.exit_code == 1
    assert result.output.endswith(
        f"FAIL {folder}/tests/properties.yaml:2:5: property 'the largest accounts are key' (largest) on {export} "
        "— key accounts are the few that carry most of the sales\n"
        "  X-1 (no. 1 by sales, 5000000): tier standard, expected key\n"
        "\n"
        "property checks: 0 held, 2 failed (1 property, 2 portfolios)\n")


def test_data_file_that_cannot_be_read_is_a_user_error(tmp_path):
    folder = copy_pack(tmp_path, "good")
    export = tmp_path / "crm.csv"
    export.write_text("Company,Revenue to us\nAlpha,12\n", encoding="utf-8")
    result = invoke("test", str(folder), "--data", str(export), "--as-of", AS_OF)
    assert result.exit_code == 1
    assert result.output.startswith("error: ") and "account_id" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("args, message", [
    (["--no-cases", "--no-properties"], "error: --no-cases and --no-properties leave nothing to run: keep one\n"),
    (["--no-cases", "--coverage"], "error: --coverage and --min-coverage measure the cases: leave out --no-cases\n"),
    (["--data", "x.csv", "--no-properties"], "error: --data is checked against the pack's properties: leave out --no-properties\n"),
    (["--where", "sales > 0"], "error: --where and the reading options (--columns, --encoding …) apply to --data: give --data FILE\n"),
    (["--encoding", "gb18030"], "error: --where and the reading options (--columns, --encoding …) apply to --data: give --data FILE\n"),
])
def test_options_that_do_not_go_together(tmp_path, args, message):
    folder = copy_pack(tmp_path, "good")
    result = invoke("test", str(folder), *args)
    assert result.exit_code == 2
    assert result.output == message


def test_data_without_properties_says_where_to_state_them(tmp_path):
    folder = write_pack(tmp_path / "rules", {"pack.yaml": (PROJECT / "by-index" / "pack.yaml").read_text(encoding="utf-8")})
    write_pack(folder / "tests", {"t.yaml": "- {name: c, facts: {sales: 1}, expect: {tier: key}}\n"})
    result = invoke("test", str(folder), "--data", str(PROJECT / "by-index" / "tests" / "portfolios" / "book.csv"))
    assert result.exit_code == 1
    assert result.output == (f"error: --data checks the pack's properties, and {folder / 'tests'} states none: add a "
                             "'properties:' list to a test file (see docs/testing-rules.md, \"Properties\")\n")


def test_only_cases_or_only_properties(tmp_path):
    folder = copy_pack(tmp_path, "good")
    assert invoke("test", str(folder), "--as-of", AS_OF, "--no-properties").output == "9 passed, 0 failed (9 cases)\n"
    assert invoke("test", str(folder), "--as-of", AS_OF, "--no-cases").output == \
        "property checks: 11 held, 0 failed (5 properties, 2 portfolios)\n"


def test_a_case_table_runs_as_data_without_its_feature_overrides(tmp_path):
    """A case table that sets a feature directly (an impossible portfolio) is checked on its fields."""
    folder = copy_pack(tmp_path, "good")
    table = folder / "tests" / "cases.csv"
    rows = table.read_text(encoding="utf-8").splitlines()
    rows[0] = rows[0].replace("expected_tier", "company_rank,expected_tier")
    rows[1:] = [row.replace(",key,", ",1,key,").replace(",potential,", ",,potential,").replace(",standard,", ",,standard,")
                for row in rows[1:]]
    table.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = invoke("test", str(folder), "--as-of", AS_OF)
    assert result.exit_code == 0, result.output


def test_a_portfolio_that_cannot_be_read_is_an_error_and_the_others_run(tmp_path):
    folder = copy_pack(tmp_path, "good")
    (folder / "tests" / "portfolios" / "broken.csv").write_text("account_id,sales\nB-1,lots\n", encoding="utf-8")
    run = run_pack_tests(load_pack(folder), folder, dt.date(2026, 11, 27))
    broken = [r for r in run.properties if r.portfolio.endswith("broken.csv")]
    assert len(broken) == 5 and all(r.error and "lots" in r.error for r in broken)
    assert all(r.passed for r in run.properties if not r.portfolio.endswith("broken.csv"))


# -------------------------------------------------------------------------------------- the reports


def test_junit_and_json_carry_the_property_checks(tmp_path):
    folder = copy_pack(tmp_path, "reads-industry")
    junit = tmp_path / "junit.xml"
    result = invoke("test", str(folder), "--as-of", AS_OF, "--junit", str(junit), "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["properties_held"] == 0 and data["properties_failed"] == 2
    on_pack, on_book = data["properties"]
    assert on_pack == {"name": "industry and region change no tier", "kind": "unread_columns",
                       "file": f"{folder}/tests/properties.yaml", "line": 2, "portfolio": None, "accounts": 0,
                       "evaluations": 0, "passed": False, "error": None,
                       "violations": ["tier reads industry: tier → rule 'strategic_sector' → energy → industry"]}
    assert on_book["portfolio"] == f"{folder}/tests/portfolios/book.csv" and on_book["accounts"] == 3
    assert on_book["violations"][0] == "R-2: tier key → standard when industry is left empty"
    text = junit.read_text(encoding="utf-8")
    assert 'tests="2" failures="2" errors="0"' in text
    assert "name=\"property 'industry and region change no tier' on the rule pack\"" in text
    assert '<failure message="R-2: tier key → standard when industry is left empty">' in text


def test_a_long_list_of_violations_is_cut_in_the_text_and_whole_in_json(tmp_path):
    folder = copy_pack(tmp_path, "by-index")
    rows = "".join(f"I-{i:02d},{100000 - i},{i}\n" for i in range(30))
    (folder / "tests" / "portfolios" / "book.csv").write_text("account_id,sales,partnership_intent\n" + rows, encoding="utf-8")
    path = folder / "tests" / "properties.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("count: params.key_capacity", "count: 25"), encoding="utf-8")
    text = invoke("test", str(folder), "--as-of", AS_OF).output
    assert "  … and 5 more\n" in text and text.count(": tier standard, expected key\n") == 20
    data = json.loads(invoke("test", str(folder), "--as-of", AS_OF, "--format", "json").output)
    assert len(data["properties"][0]["violations"]) == 25


def test_cells_read_as_missing_in_the_data_are_listed(tmp_path):
    folder = copy_pack(tmp_path, "good")
    export = tmp_path / "crm.csv"
    export.write_text("account_id,sales\nC-1,400\nC-2,lots\nC-3,\n", encoding="utf-8")
    result = invoke("test", str(folder), "--data", str(export), "--on-bad-value", "missing", "--no-cases", "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    assert (f"warning: {export}: 2 cells could not be read and were treated as missing:\n"
            "  row 3, column 'sales' (field sales): 'lots' is not a number\n"
            "  row 4, column 'sales' (field sales): value is missing but the field is required\n") in result.output


# ------------------------------------------------------------------------------------ the default pack


# That the default pack's properties hold on the bundled example (97 checks, 12 portfolios) is held by
# its help example, `kamrules test --data customers.csv --no-cases` (test_exports.HELP_OUTPUTS): the same
# run, made once.


def test_the_order_of_the_rows_changes_nothing_on_the_tie_heavy_example():
    """examples/skewed-ties.csv: 40 equal tail accounts, half of them class B. Before ties went by
    account id, reversing the rows moved abc_class B → C for T001…T020."""
    from kamrules.testing.property_runs import data_portfolio, run_properties

    pack = load_pack(ROOT / "rules")
    stated, _ = load_properties(pack, find_test_files(ROOT / "rules"))
    order = [p for p in stated if p.kind == "order_invariant"]
    for name in ("skewed-ties.csv", "customers-q3.csv"):
        portfolio = data_portfolio(pack, ROOT / "examples" / name, ReadOptions(), dt.date(2026, 11, 27))
        [result] = run_properties(pack, order, [portfolio])
        assert result.passed and result.evaluations == 2, result.violations
