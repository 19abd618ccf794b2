"""`kamrules diff`, what-if `--set` and `evaluate --previous` (docs/diff.md)."""

from __future__ import annotations

import datetime as dt
import json
from html import unescape
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import write_pack
from kamrules.cli import app
from kamrules.data.reader import ReadOptions, read_table
from kamrules.engine.evaluate import evaluate
from kamrules.errors import UsageError
from kamrules.pack import load_pack
from kamrules.pack.whatif import with_params
from kamrules.results import diff

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
runner = CliRunner()

# A pack small enough to compute its answers by hand: key when sales reach params.key_min.
TINY = {
    "pack.yaml": """\
pack:
  name: tiny
fields:
  account_id: {type: string, required: true}
  account_name: {type: string}
  account_manager: {type: string}
  sales: {type: number, required: true}
  nps: {type: integer}
params:
  key_min: 10000
  detractor: 6
  strict_mode: false
decisions:
  tier:
    hit: first
    outputs:
      tier: {type: category, values: {key: {en: Key, zh: 重点}, standard: {en: Standard, zh: 普通}}}
    rules:
      - id: big
        when: sales >= params.key_min
        then: {tier: key}
    default: {tier: standard}
  risk:
    hit: first
    outputs: {risk_level: {type: category, values: [at_risk, none]}}
    rules:
      - id: detractor
        when: nps <= params.detractor
        then: {risk_level: at_risk}
    default: {risk_level: none}
""",
}
Q4 = """account_id,account_name,account_manager,sales,nps
001,Alpha,Ann,25000,9
002,Beta,Bo,12000,8
003,Gamma,Ann,9000,5
004,Delta,Cy,15000,3
005,Epsilon,Bo,4000,9
006,Zeta,Cy,10000,7
"""
Q3 = """account_id,account_name,account_manager,sales,nps
001,Alpha,Ann,24000,9
002,Beta,Bo,8000,8
003,Gamma,Ann,11000,9
004,Delta,Cy,15000,3
005,Epsilon,Bo,4000,4
007,Eta,Bo,30000,9
"""


def cli(*args: str):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def tiny(tmp_path) -> Path:
    return write_pack(tmp_path / "rules", TINY)


def _evaluate(pack, data: Path, as_of=dt.date(2026, 11, 27)):
    read = read_table(data, list(pack.fields.values()), ReadOptions())
    return evaluate(pack, read.frame, as_of=as_of, jobs=1, input_name=data.name, row_numbers=read.row_numbers)


def _data(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ----------------------------------------------------------------------------------- pack diffs


def test_a_pack_diffed_against_itself_is_empty():
    pack = load_pack(ROOT / "rules")
    data = EXAMPLES / "customers.csv"
    result = diff.compare(diff.side_from_evaluation(_evaluate(pack, data), "a"),
                          diff.side_from_evaluation(_evaluate(pack, data), "b"))
    assert result.empty and result.changed == 0
    assert not (result.appeared or result.disappeared or result.newly_at_risk or result.review_before_demotion)
    assert diff.diff_frame(result).empty
    assert all(m.before == m.after for d in result.decisions for m in d.matrix)


def test_cli_pack_against_itself_writes_an_empty_diff(tmp_path):
    rules = ROOT / "rules"
    result = cli("diff", "--rules", rules, "--rules", rules, EXAMPLES / "customers.csv", "--as-of", "2026-11-27",
                 "--out", tmp_path / "d", "--jobs", "1")
    assert result.exit_code == 0, result.output
    lines = (tmp_path / "d" / "diff.csv").read_text(encoding="utf-8-sig").splitlines()
    assert lines == [",".join(diff.CSV_COLUMNS)]
    assert "Account tier: unchanged" in result.output


def test_a_param_change_moves_exactly_the_hand_computed_accounts(tmp_path, tiny):
    data = _data(tmp_path, "q4.csv", Q4)
    pack = load_pack(tiny)
    frame = pd.read_csv(data, dtype={"account_id": str})
    # By hand: raising key_min from 10,000 to 14,000 demotes the accounts with 10,000 <= sales < 14,000.
    expected = sorted(frame[(frame.sales >= 10000) & (frame.sales < 14000)].account_id)
    assert expected == ["002", "006"]
    result = diff.compare(diff.side_from_evaluation(_evaluate(pack, data), "old"),
                          diff.side_from_evaluation(_evaluate(with_params(pack, ["key_min=14000"]), data), "new"))
    tier = next(d for d in result.decisions if d.decision == "tier")
    assert sorted(c.account_id for c in tier.changes) == expected
    assert {(m.before, m.after): (m.accounts, m.sales) for m in tier.matrix} == {
        ("key", "key"): (2, 40000.0), ("key", "standard"): (2, 22000.0), ("standard", "standard"): (2, 13000.0)}
    change = next(c for c in tier.changes if c.account_id == "002")
    assert (change.account_name, change.owner, change.sales_after, change.before, change.after,
            change.rule_before, change.rule_after) == ("Beta", "Bo", 12000.0, "key", "standard", "big", "default")
    assert [c.account_id for c in result.review_before_demotion] == ["002", "006"]
    risk = next(d for d in result.decisions if d.decision == "risk")
    assert risk.changed == 0
    totals = {t.name: (t.before, t.after) for t in result.totals}
    assert totals["key_accounts"] == (4, 2)
    assert totals["key_sales_share"] == (round(62000 / 75000, 6), round(40000 / 75000, 6))
    assert totals["at_risk"] == (2, 2)


def test_default_pack_pareto_target_what_if_on_the_example_data():
    pack = load_pack(ROOT / "rules")
    data = EXAMPLES / "customers.csv"
    result = diff.compare(diff.side_from_evaluation(_evaluate(pack, data), "old"),
                          diff.side_from_evaluation(_evaluate(with_params(pack, ["pareto_target=0.75"]), data), "new"))
    by_id = {d.decision: d for d in result.decisions}
    moved = {(m.before, m.after): m.accounts for m in by_id["abc"].matrix if m.before != m.after}
    assert moved == {("A", "B"): 9}  # what the issue found with a script
    demoted = {(m.before, m.after): m.accounts for m in by_id["tier"].matrix if m.before != m.after}
    # three key accounts leave class A (potential now); two accounts waiting for a manager take their places
    assert demoted == {("key", "potential"): 3, ("over_capacity", "key"): 2}
    # The accounts moved from A are exactly those whose cumulative share before them lies in [0.75, 0.80).
    evaluation = _evaluate(pack, data)
    table = evaluation.table
    start = table["sales_cum_share_before"].where(table["abc_basis"] != "gross_profit", table["gp_cum_share_before"])
    hand = sorted(table.account_id[(start >= 0.75) & (start < 0.80)].astype(str))
    assert sorted(c.account_id for c in by_id["abc"].changes) == hand


# ------------------------------------------------------------------------------------------ --set


def test_set_gives_a_new_pack_with_a_new_hash_and_leaves_the_original(tiny):
    pack = load_pack(tiny)
    changed = with_params(pack, ["key_min=5%", "strict_mode=yes"])
    assert changed.params["key_min"].value == 0.05 and changed.params["strict_mode"].value is True
    assert pack.params["key_min"].value == 10000 and changed.hash != pack.hash
    assert with_params(pack, ["key_min=5%", "strict_mode=yes"]).hash == changed.hash  # deterministic
    assert changed.overrides == {"key_min": 0.05, "strict_mode": True}


@pytest.mark.parametrize("setting, message", [
    ("key_mn=5", "--set key_mn=5: the pack has no param 'key_mn' (did you mean 'key_min'?); "
                 "`kamrules validate` lists the pack"),
    ("key_min=lots", "--set key_min=lots: params.key_min is a number (now 10000); 'lots' is not a number, "
                     "write e.g. 0.75 or 75%"),
    ("strict_mode=maybe", "--set strict_mode=maybe: params.strict_mode is a boolean (now False); write true or false"),
    ("key_min", "--set 'key_min': write it as NAME=VALUE, e.g. --set pareto_target=0.75"),
    ("key_min=inf", "--set key_min=inf: params.key_min is a number (now 10000); 'inf' is not a finite number"),
])
def test_set_errors(tmp_path, tiny, setting, message):
    with pytest.raises(UsageError) as caught:
        with_params(load_pack(tiny), [setting])
    assert str(caught.value) == message
    for command in (["evaluate", _data(tmp_path, "q4.csv", Q4)], ["explain", _data(tmp_path, "q4.csv", Q4), "001"],
                    ["diff", _data(tmp_path, "q4.csv", Q4)]):
        result = cli(*command, "--rules", tiny, "--set", setting, "--as-of", "2026-11-27")
        assert result.exit_code == 2
        assert result.output.strip().splitlines()[-1] == f"error: {message}"


def test_evaluate_set_is_in_the_manifest_and_the_decisions(tmp_path, tiny):
    data = _data(tmp_path, "q4.csv", Q4)
    plain = cli("evaluate", data, "--rules", tiny, "--as-of", "2026-11-27", "--out", tmp_path / "a", "-q")
    what_if = cli("evaluate", data, "--rules", tiny, "--as-of", "2026-11-27", "--out", tmp_path / "b", "-q",
                  "--set", "key_min=14000")
    assert plain.exit_code == what_if.exit_code == 0, what_if.output
    old = json.loads((tmp_path / "a" / "manifest.json").read_text(encoding="utf-8"))
    new = json.loads((tmp_path / "b" / "manifest.json").read_text(encoding="utf-8"))
    assert "overrides" not in old["pack"] and new["pack"]["overrides"] == {"key_min": 14000}
    assert old["pack"]["hash"] != new["pack"]["hash"]
    tiers = pd.read_csv(tmp_path / "b" / "decisions.csv", dtype=str).set_index("account_id")["tier"]
    assert sorted(tiers[tiers == "key"].index) == ["001", "004"]


def test_explain_set_explains_the_what_if(tmp_path, tiny):
    data = _data(tmp_path, "q4.csv", Q4)
    result = cli("explain", data, "002", "--rules", tiny, "--as-of", "2026-11-27", "--set", "key_min=14000")
    assert result.exit_code == 0, result.output
    assert "standard" in result.output.lower() and "14000" in result.output.replace(",", "")


def test_diff_with_nothing_to_compare_is_a_usage_error(tmp_path, tiny):
    result = cli("diff", _data(tmp_path, "q4.csv", Q4), "--rules", tiny)
    assert result.exit_code == 2
    assert result.output.strip() == ("error: nothing to compare: give --rules OLD --rules NEW, or --set NAME=VALUE, "
                                     "or two output folders (kamrules diff OUT_Q3 OUT_Q4)")
    three = cli("diff", "a", "b", "c")
    assert three.exit_code == 2 and three.output.strip() == "error: give DATA, or two output folders OLD_OUT NEW_OUT"


def test_diff_outputs_are_deterministic_and_hold_the_matrix_chart(tmp_path, tiny):
    data = _data(tmp_path, "q4.csv", Q4)
    outs = []
    for name in ("d1", "d2"):
        result = cli("diff", data, "--rules", tiny, "--set", "key_min=14000", "--as-of", "2026-11-27",
                     "--out", tmp_path / name)
        assert result.exit_code == 0, result.output
        assert "Key accounts" in result.output and "key_accounts" not in result.output  # totals in words
        outs.append({p.name: p.read_bytes() for p in (tmp_path / name).iterdir() if not p.name.startswith(".")})
    assert outs[0] == outs[1] and set(outs[0]) == {"diff.csv", "diff.html"}
    html = outs[0]["diff.html"].decode("utf-8")
    assert 'class="chart matrix"' in html and html.count('class="cell moved"') == 1
    assert "<script" not in html and "Demoted this review" in html
    rows = pd.read_csv(tmp_path / "d1" / "diff.csv", dtype={"account_id": str})
    assert rows[["account_id", "decision", "before", "after", "rule_before", "rule_after"]].values.tolist() == [
        ["002", "tier", "key", "standard", "big", "default"], ["006", "tier", "key", "standard", "big", "default"]]


# ----------------------------------------------------------------------------------- run diffs


@pytest.fixture
def tiny_runs(tmp_path, tiny) -> tuple[Path, Path]:
    q3, q4 = _data(tmp_path, "q3.csv", Q3), _data(tmp_path, "q4.csv", Q4)
    for data, out, as_of in ((q3, "out-q3", "2026-08-28"), (q4, "out-q4", "2026-11-27")):
        result = cli("evaluate", data, "--rules", tiny, "--as-of", as_of, "--out", tmp_path / out, "-q")
        assert result.exit_code == 0, result.output
    return tmp_path / "out-q3", tmp_path / "out-q4"


def test_run_comparison_of_two_runs(tmp_path, tiny_runs):
    result = cli("diff", *tiny_runs, "--out", tmp_path / "d")
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(tmp_path / "d" / "diff.csv", dtype=str, keep_default_na=False)
    assert rows[["account_id", "decision", "before", "after"]].values.tolist() == [
        # by hand: Beta 8,000 -> 12,000 and Zeta (10,000, new) reach key_min; Gamma 11,000 -> 9,000 drops out
        ["002", "tier", "standard", "key"], ["003", "tier", "key", "standard"],
        ["003", "risk", "none", "at_risk"], ["005", "risk", "at_risk", "none"],
        ["007", "account", "present", "absent"], ["006", "account", "absent", "present"]]
    compared = diff.compare(diff.read_run(tiny_runs[0]), diff.read_run(tiny_runs[1]))
    assert [c.account_id for c in compared.newly_at_risk] == ["003"]
    assert [c.account_id for c in compared.risks_resolved] == ["005"]
    assert [c.account_id for c in compared.review_before_demotion] == ["003"]
    assert (compared.appeared, compared.disappeared) == (["006"], ["007"])
    assert "demoted this review (1): 003 Gamma" in result.output


def test_run_comparison_of_the_bundled_quarters(tmp_path):
    for data, out, as_of in (("customers-q3.csv", "q3", "2026-08-28"), ("customers.csv", "q4", "2026-11-27")):
        result = cli("evaluate", EXAMPLES / data, "--as-of", as_of, "--out", tmp_path / out, "-q",
                     "--playbooks", "none", "--jobs", "1")
        assert result.exit_code == 0, result.output
    compared = diff.compare(diff.read_run(tmp_path / "q3"), diff.read_run(tmp_path / "q4"))
    # A00129 and A00231 halved their sales; A00298 and A00151 (key on a big-account flag in Q3, same sales)
    # now wait for a key account manager behind larger accounts
    assert [c.account_id for c in compared.review_before_demotion] == ["A00129", "A00231", "A00298", "A00151"]
    assert compared.disappeared == ["A09001", "A09002", "A09003"]
    assert len(compared.appeared) == 4
    tier = next(d for d in compared.decisions if d.decision == "tier")
    assert {(m.before, m.after): m.accounts for m in tier.matrix if m.before != m.after}[("key", "potential")] == 2


def test_incompatible_runs_are_refused_with_what_differs(tmp_path, tiny_runs):
    other = write_pack(tmp_path / "other", {"pack.yaml": TINY["pack.yaml"].replace(
        "    outputs: {risk_level: {type: category, values: [at_risk, none]}}",
        "    outputs:\n      risk_level: {type: category, values: [at_risk, none]}\n      risk_note: {type: text}")
        .replace("then: {risk_level: at_risk}", "then: {risk_level: at_risk, risk_note: low NPS}")
        .replace("default: {risk_level: none}", "default: {risk_level: none, risk_note: fine}")})
    result = cli("evaluate", _data(tmp_path, "q4.csv", Q4), "--rules", other, "--as-of", "2026-11-27",
                 "--out", tmp_path / "out-other", "-q")
    assert result.exit_code == 0, result.output
    refused = cli("diff", tiny_runs[0], tmp_path / "out-other", "--out", tmp_path / "d")
    assert refused.exit_code == 1
    assert refused.output == (
        f"error:\ncannot compare {tiny_runs[0]} with {tmp_path / 'out-other'}: their rule packs decide different "
        f"things\n  decision 'risk' has outputs risk_level in {tiny_runs[0]} but risk_level, risk_note in "
        f"{tmp_path / 'out-other'}\nre-run both with the same pack (kamrules evaluate --rules FOLDER), or compare "
        "the packs on one data file with `kamrules diff --rules OLD --rules NEW DATA`\n")
    assert not (tmp_path / "d").exists()


def test_a_folder_without_a_manifest_is_refused(tmp_path, tiny_runs):
    (tmp_path / "empty").mkdir()
    result = cli("diff", tmp_path / "empty", tiny_runs[1])
    assert result.exit_code == 1
    assert result.output == (f"error: {tmp_path / 'empty'}: not a kamrules output folder (no manifest.json); "
                             f"make one with `kamrules evaluate DATA --out {tmp_path / 'empty'}`\n")


# ----------------------------------------------------------------------------------- --previous


@pytest.mark.parametrize("lang, words", [
    ("en", ("Since the last review", "Demoted this review", "Then", "Now", "Key", "Standard")),
    ("zh", ("自上次复核以来", "本次降级", "上次", "本次", "重点", "普通")),
])
def test_previous_adds_since_the_last_review(tmp_path, tiny, tiny_runs, lang, words):
    title, demotion, then, now, key, standard = words
    out = tmp_path / f"out-{lang}"
    result = cli("evaluate", tmp_path / "q4.csv", "--rules", tiny, "--as-of", "2026-11-27", "--out", out, "-q",
                 "--previous", tiny_runs[0], "--lang", lang, "--playbooks", "key")
    assert result.exit_code == 0, result.output
    decisions = pd.read_csv(out / "decisions.csv", dtype={"account_id": str}).set_index("account_id")
    assert decisions["review_before_demotion"].to_dict() == {
        "001": False, "002": False, "003": True, "004": False, "005": False, "006": False}
    report = (out / "report.html").read_text(encoding="utf-8")
    section = report.split('<section id="since-last-review">')[1].split("</section>")[0]
    assert title in section and demotion in section and "Gamma" in section
    assert f"<td>{key}</td><td>{standard}</td>" in section  # Gamma: then key, now standard
    # Gamma is no longer key, so --playbooks key would leave it out: it gets a playbook to review.
    playbook = next((out / "playbooks").glob("003-*.md")).read_text(encoding="utf-8")
    block = playbook.split(f"## {title}")[1].split("\n## ")[0]
    assert f"**{demotion}**" in block
    assert f"| {then} | {now} |" in block
    assert f"| {key} | **{standard}** |" in block
    new_account = next((out / "playbooks").glob("006-*.md")).read_text(encoding="utf-8")
    assert f"## {title}" in new_account and demotion not in new_account.split(f"## {title}")[1].split("\n## ")[0]


def test_without_previous_there_is_no_since_section(tmp_path, tiny):
    out = tmp_path / "out"
    result = cli("evaluate", _data(tmp_path, "q4.csv", Q4), "--rules", tiny, "--as-of", "2026-11-27",
                 "--out", out, "-q")
    assert result.exit_code == 0, result.output
    assert "since-last-review" not in (out / "report.html").read_text(encoding="utf-8")
    assert "review_before_demotion" not in (out / "decisions.csv").read_text(encoding="utf-8")
    assert all("Since the last review" not in p.read_text(encoding="utf-8") for p in (out / "playbooks").glob("*.md"))


def test_previous_with_an_incompatible_run_is_refused(tmp_path, tiny_runs):
    other = write_pack(tmp_path / "other", {"pack.yaml": TINY["pack.yaml"].replace("  risk:\n", "  danger:\n")})
    result = cli("evaluate", tmp_path / "q4.csv", "--rules", other, "--as-of", "2026-11-27",
                 "--out", tmp_path / "x", "-q", "--previous", tiny_runs[0])
    assert result.exit_code == 1
    assert "decision 'danger' is only in " in result.output and "decision 'risk' is only in " in result.output
    assert not (tmp_path / "x").exists()


def test_two_pack_folders_give_the_same_diff_as_the_same_set(tmp_path, tiny):
    data = _data(tmp_path, "q4.csv", Q4)
    new = write_pack(tmp_path / "new", {"pack.yaml": TINY["pack.yaml"].replace("key_min: 10000", "key_min: 14000")})
    folders = cli("diff", "--rules", tiny, "--rules", new, data, "--as-of", "2026-11-27", "--out", tmp_path / "a")
    what_if = cli("diff", "--rules", tiny, "--set", "key_min=14000", data, "--as-of", "2026-11-27",
                  "--out", tmp_path / "b")
    assert folders.exit_code == what_if.exit_code == 0, folders.output
    assert (tmp_path / "a" / "diff.csv").read_bytes() == (tmp_path / "b" / "diff.csv").read_bytes()
    assert "Comparing" in folders.output and "demoted this review (2): 002 Beta, 006 Zeta" in folders.output


def test_run_comparison_reports_sales_when_the_decision_tables_carry_them(tmp_path, tiny_runs):
    # decisions.csv carries the input's identifying columns (sales, owner; issue #11/#13): the comparison
    # reads them by role from it, with no join back to the input.
    for folder in tiny_runs:
        assert {"account_manager", "sales"} <= set(pd.read_csv(folder / "decisions.csv", dtype=str).columns)
    compared = diff.compare(diff.read_run(tiny_runs[0]), diff.read_run(tiny_runs[1]))
    assert compared.sales_changes == [("002", "Beta", 8000.0, 12000.0), ("003", "Gamma", 11000.0, 9000.0),
                                      ("001", "Alpha", 24000.0, 25000.0)]
    tier = next(d for d in compared.decisions if d.decision == "tier")
    assert {(m.before, m.after): m.sales for m in tier.matrix} == {
        ("key", "key"): 40000.0, ("standard", "key"): 12000.0, ("key", "standard"): 9000.0,
        ("standard", "standard"): 4000.0}
    change = next(c for c in tier.changes if c.account_id == "003")
    assert (change.owner, change.sales_before, change.sales_after) == ("Ann", 11000.0, 9000.0)
    totals = {t.name: (t.before, t.after) for t in compared.totals}
    assert totals["sales"] == (92000.0, 75000.0) and totals["key_accounts"] == (4, 4)


def test_previous_with_playbooks_none_writes_no_playbook(tmp_path, tiny, tiny_runs):
    out = tmp_path / "out"
    result = cli("evaluate", tmp_path / "q4.csv", "--rules", tiny, "--as-of", "2026-11-27", "--out", out, "-q",
                 "--previous", tiny_runs[0], "--playbooks", "none")
    assert result.exit_code == 0, result.output
    assert not (out / "playbooks").exists()
    assert "since-last-review" in (out / "report.html").read_text(encoding="utf-8")


# ------------------------------------------------------- issue #24 items 2-3: gone accounts, resolved vs improved

# Tiers with a basis and five risk levels, labelled in both languages (the default pack's shape, small).
LEVELS = {
    "pack.yaml": """\
pack:
  name: levels
fields:
  account_id: {type: string, required: true}
  account_name: {type: string}
  account_manager: {type: string}
  region: {type: string}
  sales: {type: number, required: true}
  nps: {type: integer}
  loyal: {type: boolean}
params:
  key_min: 10000
decisions:
  tier:
    hit: first
    outputs:
      tier: {type: category, values: {key: {en: Key account, zh: 重点客户}, standard: {en: Standard account, zh: 普通客户}}}
      tier_basis:
        type: category
        values: {big: {en: Big account, zh: 大客户}, loyal: {en: Loyal customer, zh: 忠诚客户}, none: {en: No basis, zh: 无}}
    rules:
      - id: big
        when: sales >= params.key_min
        then: {tier: key, tier_basis: big}
      - id: loyal
        when: loyal
        then: {tier: key, tier_basis: loyal}
    default: {tier: standard, tier_basis: none}
  risk:
    hit: first
    outputs:
      risk_level:
        type: category
        values:
          critical: {en: Critical, zh: 高风险}
          at_risk: {en: At risk, zh: 有风险}
          watch: {en: Watch, zh: 关注}
          not_assessed: {en: Not assessed, zh: 未评估}
          none: {en: No signal, zh: 无风险信号}
    rules:
      - {id: critical, when: nps <= 2, then: {risk_level: critical}}
      - {id: at_risk, when: nps <= 5, then: {risk_level: at_risk}}
      - {id: watch, when: nps <= 7, then: {risk_level: watch}}
      - {id: not_assessed, when: nps is missing, then: {risk_level: not_assessed}}
    default: {risk_level: none}
""",
}
LEVELS_Q3 = """account_id,account_name,account_manager,region,sales,nps,loyal
A1,Alpha,Ann,North,40000,1,false
A2,Beta,Bo,North,5000,2,true
A3,Gamma,Ann,South,3000,4,false
A4,Delta,Cy,South,12000,1,false
A5,Epsilon,Bo,North,2000,6,false
A6,Zeta,Cy,South,1500,5,false
A7,Eta,Ann,North,2500,9,false
G1,Gone Big,Ann,North,50000,9,false
G2,Gone Small,Bo,South,1000,3,false
G3,Gone Mid,Cy,North,8000,,false
"""
LEVELS_Q4 = """account_id,account_name,account_manager,region,sales,nps,loyal
A1,Alpha,Ann,North,42000,7,false
A2,Beta,Bo,North,11000,2,true
A3,Gamma,Ann,South,3000,9,false
A4,Delta,Cy,South,9000,4,false
A5,Epsilon,Bo,North,2000,9,false
A6,Zeta,Cy,South,1500,,false
A7,Eta,Ann,North,2500,3,false
N1,New,Ann,South,500,1,false
"""
# By hand: key accounts then A1, A2, A4, G1 (4), now A1, A2 (2): G1 gone, A4 no longer key (9,000 < 10,000).
# Sales then 125,000; the gone accounts G1, G3, G2 held 50,000 + 8,000 + 1,000 = 59,000 = 47.2% of it.
HEADLINE_EN = ("Key accounts 4 → 2: 1 key account demoted (no longer key), 1 key account gone; 3 accounts gone: "
               "59,000, 47.2% of last review's sales")
HEADLINE_ZH = ("重点客户 4 → 2：1 个重点客户降级（不再是重点客户），1 个重点客户已不在名单；3 个客户已不在名单：59,000，"
               "占上次评审销售额的 47.2%")
GONE_EN = ("gone (3): G1 Gone Big (Key account · 50,000 · No signal); G3 Gone Mid (Standard account · 8,000 · "
           "Not assessed); G2 Gone Small (Standard account · 1,000 · At risk)")
GONE_ZH = ("已不在名单 (3)：G1 Gone Big（重点客户，50,000，无风险信号）；G3 Gone Mid（普通客户，8,000，未评估）；"
           "G2 Gone Small（普通客户，1,000，有风险）")


def _flat(text: str) -> str:
    """Console output with rich's line wrapping undone (it wraps at spaces)."""
    return " ".join(text.split())


@pytest.fixture
def levels_runs(tmp_path) -> tuple[Path, Path]:
    rules = write_pack(tmp_path / "levels", LEVELS)
    q3, q4 = _data(tmp_path, "q3.csv", LEVELS_Q3), _data(tmp_path, "q4.csv", LEVELS_Q4)
    for data, out, as_of in ((q3, "out-q3", "2026-08-28"), (q4, "out-q4", "2026-11-27")):
        result = cli("evaluate", data, "--rules", rules, "--as-of", as_of, "--out", tmp_path / out, "-q")
        assert result.exit_code == 0, result.output
    return tmp_path / "out-q3", tmp_path / "out-q4"


@pytest.mark.parametrize("before, after, movement", [
    ("critical", "watch", "improved"), ("critical", "at_risk", "improved"), ("lost", "lapsed", "improved"),
    ("lapsed", "watch", "improved"), ("at_risk", "none", "resolved"), ("critical", "not_assessed", "resolved"),
    ("lapsed", None, "resolved"), ("lost", "none", "resolved"), ("none", "at_risk", "newly_at_risk"),
    ("watch", "critical", "newly_at_risk"), ("at_risk", "critical", None), ("watch", "none", None),
    ("none", "watch", None), ("at_risk", "at_risk", None),
])
def test_risk_movement_tells_resolved_from_improved(before, after, movement):
    assert diff.risk_movement(before, after) == movement


def test_gone_accounts_are_named_with_their_money_and_the_headline(levels_runs):
    compared = diff.compare(diff.read_run(levels_runs[0]), diff.read_run(levels_runs[1]))
    assert [(g.account_id, g.account_name, g.owner, g.region, g.tier, g.sales, g.risk_level) for g in compared.gone] == [
        ("G1", "Gone Big", "Ann", "North", "key", 50000.0, "none"),
        ("G3", "Gone Mid", "Cy", "North", "standard", 8000.0, "not_assessed"),
        ("G2", "Gone Small", "Bo", "South", "standard", 1000.0, "at_risk")]
    assert compared.disappeared == ["G1", "G2", "G3"]
    headline = compared.headline
    assert (headline.key_before, headline.key_after, headline.key_gone, headline.key_demoted, headline.gone,
            headline.gone_sales, round(headline.gone_share, 4)) == (4, 2, 1, 1, 3, 59000.0, 0.472)
    assert diff.headline_text(headline, "en") == HEADLINE_EN
    assert diff.headline_text(headline, "zh") == HEADLINE_ZH
    assert [c.account_id for c in compared.risks_resolved] == ["A3", "A6"]  # at risk → no signal, not assessed
    assert [c.account_id for c in compared.risks_improved] == ["A1", "A4"]  # critical → watch, critical → at risk
    assert [c.account_id for c in compared.newly_at_risk] == ["A7"]


@pytest.mark.parametrize("key_lost, gone, text", [
    ((0, 0), (0, None, None), "Key accounts 4 → 4, none demoted or gone; no account gone"),
    ((1, 0), (1, 30000.0, 0.326), "Key accounts 4 → 4: 1 key account gone; 1 account gone: 30,000, "
                                  "32.6% of last review's sales"),
    ((0, 2), (2, None, None), "Key accounts 4 → 4: 2 key accounts demoted (no longer key); 2 accounts gone"),
])
def test_headline_words(key_lost, gone, text):
    headline = diff.Headline(4, 4, key_lost[0], key_lost[1], *gone)
    assert diff.headline_text(headline, "en") == text
    assert diff.headline_text(diff.Headline(None, None, 0, 0, 1, 500.0, None), "en") == "1 account gone: 500"


@pytest.mark.parametrize("lang, headline, gone, resolved, improved", [
    ("en", HEADLINE_EN, GONE_EN, "risks resolved (2): A3 Gamma, A6 Zeta", "risks improved (2): A1 Alpha, A4 Delta"),
    ("zh", HEADLINE_ZH, GONE_ZH, "风险解除 (2)：A3 Gamma, A6 Zeta", "风险改善 (2)：A1 Alpha, A4 Delta"),
])
def test_diff_console_names_the_gone_accounts_and_tells_resolved_from_improved(tmp_path, levels_runs, lang, headline,
                                                                              gone, resolved, improved):
    result = cli("diff", *levels_runs, "--out", tmp_path / "d", "--lang", lang, "--rules", tmp_path / "levels")
    assert result.exit_code == 0, result.output
    output = _flat(result.output)
    for line in (headline, gone, resolved, improved):
        assert _flat(line) in output
    assert "disappeared" not in output and "消失" not in output


def test_diff_csv_names_the_gone_accounts_and_flags_every_row(tmp_path, levels_runs):
    result = cli("diff", *levels_runs, "--out", tmp_path / "d")
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(tmp_path / "d" / "diff.csv", dtype=str, keep_default_na=False)
    assert list(rows.columns) == diff.CSV_COLUMNS
    accounts = rows[rows.decision == "account"]
    assert accounts[["account_id", "account_name", "account_manager", "region", "sales_before", "before", "after",
                     "flag", "previous_tier", "previous_risk_level"]].values.tolist() == [
        ["G1", "Gone Big", "Ann", "North", "50000", "present", "absent", "gone", "key", "none"],
        ["G3", "Gone Mid", "Cy", "North", "8000", "present", "absent", "gone", "standard", "not_assessed"],
        ["G2", "Gone Small", "Bo", "South", "1000", "present", "absent", "gone", "standard", "at_risk"],
        ["N1", "", "", "", "", "absent", "present", "", "", ""]]
    risk = rows[rows.decision == "risk"].set_index("account_id")
    assert risk["flag"].to_dict() == {"A1": "risk_improved", "A4": "risk_improved", "A7": "newly_at_risk",
                                      "A3": "risk_resolved", "A6": "risk_resolved", "A5": ""}
    tier = rows[rows.decision == "tier"].set_index("account_id")
    assert tier["flag"].to_dict() == {"A2": "", "A4": "review_before_demotion"}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_diff_html_names_the_gone_accounts_and_tells_resolved_from_improved(tmp_path, levels_runs, lang):
    from kamrules.i18n import DIFF

    result = cli("diff", *levels_runs, "--out", tmp_path / "d", "--lang", lang, "--rules", tmp_path / "levels")
    assert result.exit_code == 0, result.output
    html = (tmp_path / "d" / "diff.html").read_text(encoding="utf-8")
    t = DIFF[lang]
    assert (HEADLINE_EN if lang == "en" else HEADLINE_ZH) in unescape(html)
    gone = html.split('<section id="gone">')[1].split("</section>")[0]
    assert f"{t['gone']} (3)" in gone and t["tier_then"] in gone and t["risk_then"] in gone
    names = [part.split("</strong>")[0] for part in gone.split("<strong>")[1:]]
    assert names == ["Gone Big", "Gone Mid", "Gone Small"]  # largest sales then first
    key, standard = ("Key account", "Standard account") if lang == "en" else ("重点客户", "普通客户")
    assert f"<td>{key}</td><td class=\"num\">50,000</td>" in gone and f"<td>{standard}</td>" in gone
    improved = html.split('<section id="risks-improved">')[1].split("</section>")[0]
    resolved = html.split('<section id="risks-resolved">')[1].split("</section>")[0]
    assert f"{t['risks_improved']} (2)" in improved and "Alpha" in improved and "Delta" in improved
    assert f"{t['risks_resolved']} (2)" in resolved and "Gamma" in resolved and "Zeta" in resolved
    assert "Alpha" not in resolved and 'id="disappeared"' not in html


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_previous_names_the_gone_accounts_everywhere_with_labels_not_codes(tmp_path, levels_runs, lang):
    from kamrules.i18n import SINCE_WORDS

    out = tmp_path / f"out-{lang}"
    result = cli("evaluate", tmp_path / "q4.csv", "--rules", tmp_path / "levels", "--as-of", "2026-11-27",
                 "--out", out, "--previous", levels_runs[0], "--lang", lang)
    assert result.exit_code == 0, result.output
    words = SINCE_WORDS[lang]
    output = _flat(result.output)
    since = output[output.index(words["title"]):]
    assert since.startswith(f"{words['title']}{'（' if lang == 'zh' else ' ('}")
    assert _flat(HEADLINE_EN if lang == "en" else HEADLINE_ZH) in since
    assert _flat(GONE_EN if lang == "en" else GONE_ZH) in since
    report = (out / "report.html").read_text(encoding="utf-8")
    section = report.split('<section id="since-last-review">')[1].split("</section>")[0]
    assert (HEADLINE_EN if lang == "en" else HEADLINE_ZH) in unescape(section)
    assert f"{words['gone']} (3)" in section and words["sales_then"] in section
    gone = section.split('class="accounts compact gone"')[1].split("</table>")[0]
    assert [part.split("</strong>")[0] for part in gone.split("<strong>")[1:]] == ["Gone Big", "Gone Mid", "Gone Small"]
    assert f"{words['improved_risks']} (2)" in section and f"{words['resolved_risks']} (2)" in section
    # the tier changes: Beta stays key on another basis, Delta is no longer key — labels, never codes
    key, big, loyal = ("Key account", "Big account", "Loyal customer") if lang == "en" else ("重点客户", "大客户", "忠诚客户")
    assert f"<td>{key} · {loyal}</td><td>{key} · {big}</td>" in section
    for code in ("big", "loyal", "standard", "at_risk", "not_assessed", "critical"):
        assert f"<td>{code}</td>" not in section and f"{code} ·" not in section


def test_previous_register_names_the_gone_accounts_as_a_run_folder_does(tmp_path, levels_runs):
    rules = tmp_path / "levels"
    recorded = cli("evaluate", tmp_path / "q3.csv", "--rules", rules, "--as-of", "2026-08-28", "--out",
                   tmp_path / "r3", "-q", "--register", tmp_path / "reviews.db")
    assert recorded.exit_code == 0, recorded.output
    outputs = {}
    for name, previous in (("folder", levels_runs[0]), ("register", tmp_path / "reviews.db")):
        result = cli("evaluate", tmp_path / "q4.csv", "--rules", rules, "--as-of", "2026-11-27", "--out",
                     tmp_path / f"o-{name}", "--previous", previous)
        assert result.exit_code == 0, result.output
        outputs[name] = _flat(result.output)
    for text in (HEADLINE_EN, GONE_EN):
        assert _flat(text) in outputs["register"] and _flat(text) in outputs["folder"]


def test_gone_lists_stay_capped_and_the_money_is_over_all(tmp_path, tiny):
    # 205 accounts leave: the documents list the first 200 by sales, the headline sums all 205.
    before = "account_id,account_name,sales,nps\n" + "".join(f"G{i:03},Gone {i},{1000 + i},9\n" for i in range(205))
    before += "K1,Kept,50000,9\n"
    after = "account_id,account_name,sales,nps\nK1,Kept,50000,9\n"
    for name, text, as_of in (("b.csv", before, "2026-08-28"), ("a.csv", after, "2026-11-27")):
        result = cli("evaluate", _data(tmp_path, name, text), "--rules", tiny, "--as-of", as_of,
                     "--out", tmp_path / name[0], "-q", *(["--previous", tmp_path / "b"] if name == "a.csv" else []))
        assert result.exit_code == 0, result.output
    total = sum(1000 + i for i in range(205))
    report = (tmp_path / "a" / "report.html").read_text(encoding="utf-8")
    gone = report.split('class="accounts compact gone"')[1].split("</section>")[0]
    assert gone.count("<strong>") == 200 and "+5 more" in gone
    assert "<strong>Gone 204</strong>" in gone and "<strong>Gone 4</strong>" not in gone  # the largest first
    assert f"205 accounts gone: {total:,}" in report
    result = cli("diff", tmp_path / "b", tmp_path / "a", "--out", tmp_path / "d")
    assert result.exit_code == 0, result.output
    html = (tmp_path / "d" / "diff.html").read_text(encoding="utf-8")
    assert html.split('<section id="gone">')[1].count("<strong>") == 200 and "+5 more in diff.csv" in html
    rows = pd.read_csv(tmp_path / "d" / "diff.csv", dtype=str)
    assert (rows.flag == "gone").sum() == 205
