"""`kamrules test`: pack test cases (YAML and CSV), checked like rules, run with overrides, reported
in business words, with coverage, JUnit XML and JSON; and the default pack's own cases pass."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kamrules.cli import app
from kamrules.errors import RuleError
from kamrules.pack import load_pack
from kamrules.resources import init_project
from kamrules.testing import load_cases, run_tests
from kamrules.testing.cases import test_files as find_test_files

from conftest import ROOT, write_pack

runner = CliRunner()

PACK = """
fields:
  account_id: {type: string, required: true}
  sales: number
  region: string
features:
  sales_share: {share_of: sales}
decisions:
  tier:
    hit: first
    outputs:
      tier:
        type: category
        values: {key: {en: Key account, zh: 重点客户}, standard: {en: Standard, zh: 普通客户}}
    rules:
      - id: big
        when: sales_share >= 0.5
        then: {tier: key}
    default: {tier: standard}
  flags:
    hit: collect
    outputs:
      flag: {type: category, values: [north, large]}
    rules:
      - id: is_north
        when: region == "north"
        then: {flag: north}
      - id: is_large
        when: sales >= 1000
        then: {flag: large}
"""


def make_pack(tmp_path: Path, cases: dict) -> Path:
    folder = write_pack(tmp_path / "rules", {"pack.yaml": PACK})
    write_pack(folder / "tests", cases)
    return folder


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_default_pack_cases_pass_and_cover_every_rule():
    """The shipped cases (expert portfolio + one case per rule it does not reach) pass, a team starts
    with every rule and default exercised, and the shipped properties hold on the pack's two test
    portfolios (speed: benchmarks/bench_validate.py and bench_properties.py, not a timed test)."""
    result = invoke("test", str(ROOT / "rules"), "--coverage", "--min-coverage", "100", "--as-of", "2026-11-27")
    assert result.exit_code == 0, result.output
    assert "  total: 100%\n" in result.output and "never:" not in result.output
    assert result.output.endswith(" passed, 0 failed (580 cases)\n"
                                  "property checks: 89 held, 0 failed (8 properties, 11 portfolios)\n")


def test_expected_rule_that_holds_but_comes_later_says_so(tmp_path):
    folder = write_pack(tmp_path / "rules", {"pack.yaml": PACK.replace(
        "    default: {tier: standard}",
        "      - id: any_sales\n        when: sales > 0\n        then: {tier: standard}\n    default: {tier: standard}")})
    (folder / "tests").mkdir()
    (folder / "tests" / "t.yaml").write_text(
        "- name: later rule\n  as_of: 2026-11-27\n  facts: {sales: 10}\n  rules: {tier: any_sales}\n", encoding="utf-8")
    result = invoke("test", str(folder))
    assert result.exit_code == 1
    assert ("    decided by rule 'big'\n    rule 'any_sales' did not fire:\n"
            "      its condition holds, but the deciding rule comes first (hit policy: first)\n") in result.output


def test_yaml_case_passes_with_a_feature_given_directly(tmp_path):
    folder = make_pack(tmp_path, {"t.yaml": """
as_of: 2026-11-27
cases:
  - name: half the portfolio is key
    facts: {sales: 10, sales_share: 0.6, region: north}
    expect: {tier: key, flag: [north]}
    rules: {tier: big}
  - name: alone, the share is computed (100%)
    facts: {sales: 10}
    expect: {tier: key}
"""})
    result = invoke("test", str(folder))
    assert result.exit_code == 0, result.output
    assert result.output == "2 passed, 0 failed (2 cases)\n"


def test_yaml_case_inside_a_portfolio_file(tmp_path):
    folder = make_pack(tmp_path, {"t.yaml": """
as_of: 2026-11-27
cases:
  - name: a tenth of this portfolio is standard
    portfolio: portfolios/book.csv
    facts: {account_id: C, sales: 100}
    expect: {tier: standard}
  - name: alone it would be key
    facts: {account_id: C, sales: 100}
    expect: {tier: standard}
"""})
    (folder / "tests" / "portfolios").mkdir()
    (folder / "tests" / "portfolios" / "book.csv").write_text("account_id,sales\nA,600\nB,300\n", encoding="utf-8")
    result = invoke("test", str(folder))
    assert result.exit_code == 1
    assert "FAIL" in result.output and ": alone it would be key\n" in result.output
    assert "a tenth of this portfolio" not in result.output
    assert result.output.endswith("1 passed, 1 failed (2 cases)\n")


def test_failing_case_says_expected_got_and_why_not_in_labels(tmp_path):
    folder = make_pack(tmp_path, {"t.yaml": """
- name: small is key?
  as_of: 2026-11-27
  facts: {sales: 10, sales_share: 0.2}
  expect: {tier: key}
"""})
    result = invoke("test", str(folder))
    assert result.exit_code == 1
    assert result.output == (
        f"FAIL {folder / 'tests' / 't.yaml'}:2:3: small is key?\n"
        "  tier [tier]: expected Key account (key), got Standard (standard)\n"
        "    no rule matched: the default applied\n"
        "    rule 'big' did not fire:\n"
        "      sales_share 0.2 < 0.5 (needs +0.3)\n"
        "\n"
        "0 passed, 1 failed (1 cases)\n"
    )
    zh = invoke("test", str(folder), "--lang", "zh")
    assert "tier [tier]: 期望 重点客户 (key), 实际 普通客户 (standard)" in zh.output
    assert "规则 'big' 未触发：" in zh.output


def test_expected_rule_mismatch_names_the_deciding_rule(tmp_path):
    folder = make_pack(tmp_path, {"t.yaml": """
- name: default expected
  facts: {sales: 10}
  rules: {tier: default}
"""})
    result = invoke("test", str(folder), "--as-of", "2026-11-27")
    assert result.exit_code == 1
    assert "  tier: expected rule 'default', got big\n    decided by rule 'big'\n" in result.output


def test_csv_cases_form_one_portfolio_with_includes_and_absent(tmp_path):
    folder = make_pack(tmp_path, {"t.csv": (
        "account_id,as_of,sales,region,expected_tier,expected_flags,absent_flags,rule_tier,reason\n"
        "A,2026-11-27,900,north,key,north,large,big,90% of the portfolio\n"
        "B,2026-11-27,100,south,standard,,north;large,default,10%\n"
    )})
    assert invoke("test", str(folder)).output == "2 passed, 0 failed (2 cases)\n"
    (folder / "tests" / "t.csv").write_text(
        "account_id,as_of,sales,region,expected_flags,absent_flags\n"
        "A,2026-11-27,1900,north,large,north\n", encoding="utf-8")
    result = invoke("test", str(folder))
    assert result.exit_code == 1
    assert "  flag [flag]: in the list but should not be: north\n" in result.output


@pytest.mark.parametrize("case, message", [
    ("- {name: x, facts: {slaes: 1}, expect: {tier: key}}",
     "t.yaml:1:21: case 'x': facts: unknown field, feature or score 'slaes' (did you mean 'sales'?)"),
    ("- {name: x, facts: {sales: 1}, expect: {teir: key}}",
     "t.yaml:1:41: case 'x': expect: unknown output 'teir' (did you mean 'tier'?)"),
    ("- {name: x, facts: {sales: 1}, expect: {tier: kye}}",
     "t.yaml:1:41: case 'x': expect: 'kye' is not a value of tier (did you mean 'key'?)"),
    ("- {name: x, facts: {sales: 1}, rules: {tier: bgi}}",
     "t.yaml:1:40: case 'x': rules: decision 'tier' has no rule 'bgi' (did you mean 'big'?)"),
    ("- {name: x, facts: {tier: key}, expect: {tier: key}}",
     "t.yaml:1:21: case 'x': facts: 'tier' is an output, not a fact: put it under 'expect' (or a column 'expected_tier')"),
    ("- {name: x, facts: {sales: 1}}",
     "t.yaml:1:3: case 'x': states nothing to check: add 'expect' (output values) or 'rules' (deciding rules)"),
])
def test_bad_yaml_case_is_a_located_error(tmp_path, case, message):
    folder = make_pack(tmp_path, {"t.yaml": case + "\n"})
    pack = load_pack(folder)
    with pytest.raises(RuleError) as info:
        load_cases(pack, find_test_files(folder))
    assert str(info.value) == str(folder / "tests") + "/" + message


def test_bad_csv_header_is_a_located_error(tmp_path):
    folder = make_pack(tmp_path, {"t.csv": "account_id,slaes,expected_teir\nA,1,key\n"})
    result = invoke("test", str(folder))
    assert result.exit_code == 1
    name = folder / "tests" / "t.csv"
    assert result.output == (
        "error:\n"
        f"{name}:1:2: column 'slaes': unknown field, feature or score 'slaes' (did you mean 'sales'?)\n"
        f"{name}:1:3: column 'expected_teir': unknown output or decision 'teir' (did you mean 'tier'?)\n"
    )


def test_csv_without_expectations_is_not_a_test_table(tmp_path):
    folder = make_pack(tmp_path, {"book.csv": "account_id,sales\nA,1\n"})
    result = invoke("test", str(folder))
    assert result.exit_code == 1
    assert result.output == (f"error: {folder / 'tests' / 'book.csv'}:1:1: a test table needs expected_<output>, "
                             "rule_<decision> or absent_<decision> columns; a portfolio file for YAML cases goes in "
                             "tests/portfolios/\n")


def test_coverage_min_coverage_json_and_junit(tmp_path):
    folder = make_pack(tmp_path, {"t.yaml": """
- {name: one, as_of: 2026-11-27, facts: {sales: 10, region: north}, expect: {tier: key}}
"""})
    result = invoke("test", str(folder), "--coverage")
    assert result.exit_code == 0
    assert ("coverage (rules and defaults exercised by at least one case):\n"
            "  tier: 1/2\n    never: default\n  flags: 1/2\n    never: is_large\n  total: 50%\n") in result.output
    low = invoke("test", str(folder), "--min-coverage", "60")
    assert low.exit_code == 1
    assert "coverage 50% is below --min-coverage 60%" in low.output
    data = json.loads(invoke("test", str(folder), "--format", "json").output)
    assert data["coverage"]["decisions"]["flags"] == {"exercised": ["is_north"], "never": ["is_large"],
                                                     "cases": {"is_large": 0, "is_north": 1}}
    assert data["passed"] == 1 and data["coverage"]["percent"] == 50.0
    junit = tmp_path / "junit.xml"
    invoke("test", str(folder), "--junit", str(junit))
    assert '<testcase classname="' in junit.read_text(encoding="utf-8")
    assert 'tests="1" failures="0" errors="0"' in junit.read_text(encoding="utf-8")


def test_junit_marks_failures(tmp_path):
    folder = make_pack(tmp_path, {"t.yaml": "- {name: f, as_of: 2026-11-27, facts: {sales: 1, sales_share: 0.1}, expect: {tier: key}}\n"})
    junit = tmp_path / "junit.xml"
    assert invoke("test", str(folder), "--junit", str(junit)).exit_code == 1
    text = junit.read_text(encoding="utf-8")
    assert 'failures="1"' in text and "<failure message=\"tier [tier]: expected Key account (key), got Standard (standard)\"" in text


def test_a_case_the_rules_cannot_decide_fails_alone(tmp_path):
    pack = PACK.replace("    hit: first\n", "    hit: unique\n").replace(
        "    default: {tier: standard}", "      - {id: also, when: sales > 5, then: {tier: standard}}\n    default: {tier: standard}")
    folder = write_pack(tmp_path / "rules", {"pack.yaml": pack})
    write_pack(folder / "tests", {"t.yaml": "- {name: both, as_of: 2026-11-27, facts: {sales: 10}, expect: {tier: key}}\n"
                                            "- {name: one, as_of: 2026-11-27, facts: {sales: 1}, expect: {tier: key}}\n"})
    result = invoke("test", str(folder))
    assert result.exit_code == 1
    assert "decision 'tier' is 'hit: unique' but more than one rule matched" in result.output
    assert result.output.endswith("1 passed, 1 failed (2 cases)\n")


def test_no_cases_is_a_clear_error(tmp_path):
    folder = write_pack(tmp_path / "rules", {"pack.yaml": PACK})
    result = invoke("test", str(folder))
    assert result.exit_code == 1
    assert "no test cases (*.yaml or *.csv); see docs/testing-rules.md" in result.output


def test_init_copies_the_cases_and_they_pass(tmp_path):
    init_project(tmp_path / "team")
    assert (tmp_path / "team" / "rules" / "tests" / "expert-cases.csv").is_file()
    pack = load_pack(tmp_path / "team" / "rules")
    run = run_tests(pack, load_cases(pack, find_test_files(tmp_path / "team" / "rules")), None)
    assert len(run.results) >= 36 and not run.failed


def test_help_has_an_example():
    assert "Example: kamrules test" in invoke("test", "--help").output
