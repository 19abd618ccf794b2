"""`kamrules diff`, what-if `--set` and `evaluate --previous` (docs/diff.md)."""

from __future__ import annotations

import datetime as dt
import json
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
    assert "<script" not in html and "Review before demotion" in html
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
    assert "review before demotion (1): 003 Gamma" in result.output


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
    ("en", ("Since the last review", "Review before demotion", "Then", "Now", "Key", "Standard")),
    ("zh", ("自上次复核以来", "降级前需复核", "上次", "本次", "重点", "普通")),
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
    assert "Comparing" in folders.output and "review before demotion (2): 002 Beta, 006 Zeta" in folders.output


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
