"""History facts reach the rules (issue #24 item 4, the facts half): `evaluate --register`, `--previous
REGISTER`, `--previous RUN_FOLDER`, `explain` and `kamrules test` give a pack's rules the account's previous
tier, tier basis and how long it held it; a file column of the same name is refused; a run without history
decides as a first review."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kamrules.cli import app

runner = CliRunner()

# A key account that falls below the line is held for two reviews, then demoted: the rule reads
# previous_tier, previous_tier_basis and tier_basis_run.
PACK = """pack:
  name: held
  version: "1"
fields:
  account_id: {type: string, required: true}
  account_name: {type: string}
  sales: {type: number, required: true}
  previous_tier: {type: category, values: {key: [], standard: []}}
  previous_tier_basis: {type: string}
  tier_basis_run: {type: integer}
  earlier_reviews: {type: integer}
decisions:
  tier:
    hit: first
    outputs:
      tier: {type: category, values: {key: {en: Key account, zh: 重点客户}, standard: {en: Standard, zh: 普通客户}}}
      tier_basis:
        type: category
        values: {big: {en: Big, zh: 大}, held: {en: Held, zh: 保留}, small: {en: Small, zh: 小}}
    rules:
      - id: big
        when: sales >= 1000
        then: {tier: key, tier_basis: big}
      - id: held
        when: previous_tier == "key" and (previous_tier_basis != "held" or tier_basis_run < 2)
        then: {tier: key, tier_basis: held}
    default: {tier: standard, tier_basis: small}
"""

BIG = "account_id,account_name,sales\nA1,Acme,5000\nB2,Beta,300\n"
SMALL = "account_id,account_name,sales\nA1,Acme,500\nB2,Beta,300\n"
DATES = {"q1": "2026-03-31", "q2": "2026-06-30", "q3": "2026-09-30", "q4": "2026-12-31"}


@pytest.fixture
def held(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "pack.yaml").write_text(PACK, encoding="utf-8")
    for quarter in DATES:
        (tmp_path / f"{quarter}.csv").write_text(BIG if quarter == "q1" else SMALL, encoding="utf-8")
    return tmp_path


def invoke(*args: str):
    return runner.invoke(app, list(args))


def evaluate(quarter: str, *more: str, out: str | None = None):
    return invoke("evaluate", f"{quarter}.csv", "--rules", "rules", "--as-of", DATES[quarter], "--playbooks", "none",
                  "--out", out or f"out-{quarter}", *more)


def tier_of(out: str, account: str = "A1") -> tuple:
    lines = Path(out, "decisions.csv").read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(",")
    row = next(line.split(",") for line in lines[1:] if line.startswith(account + ","))
    return row[header.index("tier")], row[header.index("tier_basis")]


def history_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(("history:", "历史："))]


def test_a_register_built_by_earlier_runs_gives_the_rules_their_facts(held):
    first = evaluate("q1", "--register", "r.db")
    assert first.exit_code == 0, first.output
    assert history_lines(first.output) == ["history: no review before this run's date in r.db: decided as a first review"]
    assert tier_of("out-q1") == ("key", "big")
    second = evaluate("q2", "--register", "r.db")
    assert history_lines(second.output) == ["history: 1 earlier review from r.db, as of 2026-03-31"]
    assert tier_of("out-q2") == ("key", "held")  # below the line once: held
    third = evaluate("q3", "--register", "r.db")
    assert history_lines(third.output) == ["history: 2 earlier reviews from r.db, the latest as of 2026-06-30"]
    assert tier_of("out-q3") == ("key", "held")  # held for one review so far: held again
    fourth = evaluate("q4", "--register", "r.db")
    assert tier_of("out-q4") == ("standard", "small")  # held for two reviews: demoted
    assert json.loads(Path("out-q4/manifest.json").read_text(encoding="utf-8"))["history"] == {
        "source": "r.db", "kind": "register", "reviews": 3, "latest_as_of": "2026-09-30",
        "digest": json.loads(Path("out-q4/manifest.json").read_text(encoding="utf-8"))["history"]["digest"]}
    # --previous REGISTER reads the same facts (and compares with its latest review)
    again = evaluate("q4", "--previous", "r.db", out="again-q4")
    assert history_lines(again.output) == ["history: 3 earlier reviews from r.db, the latest as of 2026-09-30"]
    assert tier_of("again-q4") == ("standard", "small")


def test_previous_run_folder_is_one_earlier_review(held):
    assert evaluate("q1").exit_code == 0
    assert evaluate("q2", "--previous", "out-q1").exit_code == 0
    assert tier_of("out-q2") == ("key", "held")
    result = evaluate("q3", "--previous", "out-q2")
    assert history_lines(result.output) == ["history: the earlier run in out-q2, as of 2026-06-30"]
    assert tier_of("out-q3") == ("key", "held")  # one review known: the basis ran for 1 review
    manifest = json.loads(Path("out-q3/manifest.json").read_text(encoding="utf-8"))
    assert {k: v for k, v in manifest["history"].items() if k != "digest"} == {
        "source": "out-q2", "kind": "run", "reviews": 1, "latest_as_of": "2026-06-30"}


def test_same_inputs_same_bytes_with_history(held):
    for quarter in ("q1", "q2"):
        assert evaluate(quarter, "--register", "r.db").exit_code == 0
    evaluate("q3", "--previous", "r.db", out="a")
    evaluate("q3", "--previous", "r.db", out="b")
    for name in ("manifest.json", "decisions.csv", "report.html", "trace.jsonl"):
        assert Path("a", name).read_bytes() == Path("b", name).read_bytes(), name


def test_without_history_only_earlier_reviews_is_filled_and_nothing_is_said(held):
    result = evaluate("q2")
    assert result.exit_code == 0, result.output
    assert history_lines(result.output) == []
    assert "previous_tier" not in result.output and "earlier_reviews" not in result.output
    assert tier_of("out-q2") == ("standard", "small")
    assert "history" not in json.loads(Path("out-q2/manifest.json").read_text(encoding="utf-8"))
    from kamrules.run import EvaluateOptions, run_evaluate, parse_as_of

    run = run_evaluate(EvaluateOptions(data=Path("q2.csv"), rules=Path("rules"), out=Path("lib"),
                                       as_of=parse_as_of("2026-06-30"), playbooks="none"))
    table = run.evaluation.table
    assert table["earlier_reviews"].tolist() == [0, 0] and table["previous_tier"].isna().all()


def test_validate_and_columns_do_not_ask_for_history_facts(held):
    validated = invoke("validate", "rules", "--data", "q1.csv")
    assert validated.exit_code == 0, validated.output
    columns = invoke("columns", "q1.csv", "--rules", "rules")
    for output in (validated.output, columns.output):
        for name in ("previous_tier", "tier_basis_run", "earlier_reviews"):
            assert name not in output


@pytest.mark.parametrize("lang, message", [
    ("en", "error: bad.csv: column 'previous_tier' is read as the history fact previous_tier, but this run takes "
           "the history facts from --previous out-q1, so the file cannot give them as well; rename or remove the "
           "column, or leave out --previous"),
    ("zh", "错误：bad.csv：列“previous_tier”被读作历史事实 previous_tier，但本次运行从 --previous out-q1 取得历史事实，"
           "文件不能同时提供；请重命名或删除该列，或去掉 --previous"),
])
def test_a_file_column_named_like_a_history_fact_is_refused_with_history(held, lang, message):
    assert evaluate("q1").exit_code == 0
    Path("bad.csv").write_text("account_id,sales,previous_tier\nA1,100,key\n", encoding="utf-8")
    result = invoke("evaluate", "bad.csv", "--rules", "rules", "--as-of", "2026-06-30", "--previous", "out-q1",
                    "--out", "bad-out", "--lang", lang)
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == message
    assert not Path("bad-out").exists()
    # without history the columns are the file's own: read as any field
    Path("bad.csv").write_text("account_id,sales,previous_tier,previous_tier_basis\nA1,100,key,big\n", encoding="utf-8")
    plain = invoke("evaluate", "bad.csv", "--rules", "rules", "--as-of", "2026-06-30", "--out", "plain-out")
    assert plain.exit_code == 0, plain.output
    assert tier_of("plain-out") == ("key", "held")


def test_previous_run_of_another_pack_is_the_existing_message(held):
    assert evaluate("q1").exit_code == 0
    (held / "other").mkdir()
    (held / "other" / "pack.yaml").write_text(PACK.replace("name: held", "name: other").replace(
        "tier_basis", "basis").replace("previous_basis", "previous_tier_basis").replace(
        "basis_run", "tier_basis_run"), encoding="utf-8")
    result = invoke("evaluate", "q2.csv", "--rules", "other", "--as-of", "2026-06-30", "--previous", "out-q1",
                    "--out", "o")
    assert result.exit_code == 1
    assert ("cannot compare out-q1 with other: their rule packs decide different things\n"
            "  decision 'tier' has outputs tier, tier_basis in out-q1 but tier, basis in other\n"
            "re-run both with the same pack (kamrules evaluate --rules FOLDER), or compare the packs on one data "
            "file with `kamrules diff --rules OLD --rules NEW DATA`") in result.output


def test_explain_shows_the_facts_and_decides_as_evaluate(held):
    for quarter in ("q1", "q2"):
        assert evaluate(quarter, "--register", "r.db").exit_code == 0
    assert evaluate("q3", "--register", "r.db").exit_code == 0
    result = invoke("explain", "q3.csv", "A1", "--rules", "rules", "--as-of", "2026-09-30", "--register", "r.db")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[:2] == ["history: 2 earlier reviews from r.db, the latest as of 2026-06-30",
                         "previous_tier: Key account · previous_tier_basis: Held · tier_basis_run: 1 · "
                         "earlier_reviews: 2"]
    assert "tier: Key account" in result.output or "Key account" in lines[4]
    by_run = invoke("explain", "q3.csv", "A1", "--rules", "rules", "--run", "out-q3")
    assert by_run.exit_code == 0, by_run.output
    assert by_run.output == result.output
    # a review recorded since, before the run's date, changes the history: --run refuses to explain
    assert invoke("evaluate", "q2.csv", "--rules", "rules", "--as-of", "2026-08-31", "--register", "r.db",
                  "--playbooks", "none", "--out", "late").exit_code == 0
    refused = invoke("explain", "q3.csv", "A1", "--rules", "rules", "--run", "out-q3")
    assert refused.exit_code == 1
    assert refused.output.strip().splitlines()[-1] == (
        "error: the history the run in out-q3 read from r.db has changed since (a review recorded before the run's "
        "date, or the earlier run replaced); explain the current data without --run")
    # explain without history decides as a first review
    first = invoke("explain", "q3.csv", "A1", "--rules", "rules", "--as-of", "2026-09-30")
    assert not history_lines(first.output) and "Standard" in first.output


def test_a_pack_without_history_fields_gets_nothing_and_no_error(held):
    (held / "rules" / "pack.yaml").write_text(
        PACK.replace("  previous_tier: {type: category, values: {key: [], standard: []}}\n", "")
            .replace("  previous_tier_basis: {type: string}\n", "").replace("  tier_basis_run: {type: integer}\n", "")
            .replace("  earlier_reviews: {type: integer}\n", "")
            .replace('previous_tier == "key" and (previous_tier_basis != "held" or tier_basis_run < 2)', "account_name == 'Never'"),
        encoding="utf-8")
    assert evaluate("q1", "--register", "r.db").exit_code == 0
    result = evaluate("q2", "--register", "r.db")
    assert result.exit_code == 0, result.output
    assert history_lines(result.output) == []
    assert "history" not in json.loads(Path("out-q2/manifest.json").read_text(encoding="utf-8"))


def test_kamrules_test_cases_give_the_facts_as_columns(held):
    (held / "rules" / "tests").mkdir()
    (held / "rules" / "tests" / "held.csv").write_text(
        "name,account_id,as_of,sales,previous_tier,previous_tier_basis,tier_basis_run,earlier_reviews,"
        "expected_tier,expected_tier_basis,rule_tier\n"
        "big,A,2026-11-27,5000,,,0,0,key,big,big\n"
        "first review,B,2026-11-27,500,,,0,0,standard,small,default\n"
        "held once,C,2026-11-27,500,key,big,3,2,key,held,held\n"
        "held again,D,2026-11-27,500,key,held,1,2,key,held,held\n"
        "demoted,E,2026-11-27,500,key,held,2,3,standard,small,default\n", encoding="utf-8")
    result = invoke("test", "rules")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "5 passed, 0 failed (5 cases)"
