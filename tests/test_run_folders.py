"""Issue #29, items 8, 9 and 18: run folders read by `evaluate --previous`, `diff OUT_A OUT_B` and
`explain --run` are user files like any data file: confined, bounded, validated, read by one reader,
compared by value. One regression test per finding."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from kamrules.cli import app
from kamrules.results import diff

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
runner = CliRunner()


def cli(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """Q3 and Q4 of the bundled example, evaluated once for the module (copied by each test)."""
    folder = tmp_path_factory.mktemp("runs")
    for name, data, day in (("q3", "customers-q3.csv", "2026-08-28"), ("q4", "customers.csv", "2026-11-27")):
        result = cli("evaluate", EXAMPLES / data, "--as-of", day, "--out", folder / name, "--playbooks", "none", "-q")
        assert result.exit_code == 0, result.output
    result = cli("diff", folder / "q3", folder / "q4", "--out", folder / "reference", "-q")
    assert result.exit_code == 0, result.output
    return folder


def copy(runs: Path, name: str, target: str) -> Path:
    shutil.copytree(runs / name, target)
    return Path(target)


def changes(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "diff.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")


def only_newcomers_changed(folder: Path, data: Path) -> bool:
    """The same file reviewed twice changes nothing but its newcomers: an account with no prior sales is
    new at the first review and, bought from at that review, no longer new at the second (its run-rate
    question is not asked again)."""
    accounts = pd.read_csv(data, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    newcomers = set(accounts.loc[accounts["sales_prev"] == "", "account_id"])
    changed = changes(folder)
    return bool(len(changed)) and set(changed["account_id"]) <= newcomers


# ------------------------------------------------------------------ 8. a decision table re-saved by Excel


@pytest.mark.parametrize("variant", ["gbk", "utf-16", "crlf", "TRUE/FALSE", "1200.0"])
def test_a_decision_table_resaved_by_excel_compares_by_value(runs, variant):
    resaved = copy(runs, "q4", "resaved")
    table = resaved / "decisions.csv"
    text = table.read_text(encoding="utf-8-sig")
    if variant == "TRUE/FALSE":
        text = text.replace(",true,", ",TRUE,").replace(",false,", ",FALSE,")
        assert ",TRUE," in text
    if variant == "1200.0":  # Excel shows whole numbers with decimals: still the same number
        frame = pd.read_csv(table, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        frame["review_every_days"] = frame["review_every_days"].map(lambda v: f"{v}.0" if v else v)
        text = frame.to_csv(index=False)
    encoding = {"gbk": "gbk", "utf-16": "utf-16"}.get(variant, "utf-8-sig")
    table.write_bytes(text.replace("\n", "\r\n").encode(encoding) if variant == "crlf" else text.encode(encoding))
    result = cli("diff", runs / "q4", resaved, "--out", "same", "-q")
    assert result.exit_code == 0, result.output
    assert changes(Path("same")).empty
    result = cli("diff", runs / "q3", resaved, "--out", "quarters", "-q")
    assert result.exit_code == 0, result.output
    assert changes(Path("quarters")).equals(changes(runs / "reference"))


def _edit_table(runs: Path, edit) -> Path:
    folder = copy(runs, "q4", "edited")
    table = folder / "decisions.csv"
    lines = table.read_text(encoding="utf-8-sig").splitlines()
    table.write_text("\n".join(edit(lines)) + "\n", encoding="utf-8")
    return folder


def _sales(value):
    def edit(lines):
        header = lines[0].split(",")
        cells = lines[4].split(",")
        cells[header.index("sales")] = value
        return [*lines[:4], ",".join(cells), *lines[5:]]
    return edit


@pytest.mark.parametrize("edit, message", [
    (lambda lines: [*lines[:3], lines[2], *lines[3:]],
     "error: edited/decisions.csv: the account 'A00002' appears in rows 3 and 4 (2 rows repeat an id); a decision "
     "table holds each account once: it was edited or damaged, re-run `kamrules evaluate`\n"),
    (lambda lines: [],
     "error:\nedited/decisions.csv: the file is empty\n(this is a decision table kamrules wrote: it was edited or "
     "damaged since; re-run `kamrules evaluate`)\n"),
    (_sales("inf"),
     "error:\nedited/decisions.csv: 1 cell(s) hold what kamrules never writes there; the decision table was edited or "
     "damaged: re-run `kamrules evaluate`\n  row 5, column 'sales': 'inf' is not a number\n"),
    (_sales("1e308"),
     "error:\nedited/decisions.csv: 1 cell(s) hold what kamrules never writes there; the decision table was edited or "
     "damaged: re-run `kamrules evaluate`\n  row 5, column 'sales': '1e308' is beyond ±1,000,000,000,000,000, too large "
     "for an amount or a count: check the column and its unit\n"),
    (lambda lines: [lines[0], *(line.replace(",true,", ",maybe,", 1) for line in lines[1:])],
     None),
])
def test_a_damaged_decision_table_is_a_clear_error(runs, edit, message):
    edited = _edit_table(runs, edit)
    result = cli("diff", runs / "q3", "edited", "--out", "out", "-q")
    assert result.exit_code == 1
    if message is not None:
        assert result.output == message
    else:
        assert result.output.startswith("error:\nedited/decisions.csv: ")
        assert "'maybe' is not yes/no" in result.output
    assert not Path("out").exists()
    previous = cli("evaluate", EXAMPLES / "customers.csv", "--as-of", "2026-11-27", "--out", "next", "--previous",
                   edited, "--playbooks", "none", "-q")
    assert previous.exit_code == 1 and previous.output == result.output


def test_an_unclosed_quote_is_a_clear_error(runs):
    _edit_table(runs, lambda lines: [*lines[:5], '"' + lines[5], *lines[6:]])
    result = cli("diff", runs / "q3", "edited", "--out", "out", "-q")
    assert result.exit_code == 1
    assert result.output.startswith("error:\nedited/decisions.csv: ") and "row 6" in result.output
    assert result.output.endswith("(this is a decision table kamrules wrote: it was edited or damaged since; re-run "
                                  "`kamrules evaluate`)\n")


def test_nan_sales_are_missing_not_nan_percent(runs):
    _edit_table(runs, _sales("nan"))
    result = cli("diff", runs / "q3", "edited", "--out", "out")
    assert result.exit_code == 0, result.output
    assert "nan" not in result.output.lower().replace("nanjing", "") and "inf" not in result.output


def test_a_decision_table_or_manifest_linked_out_of_the_folder_is_refused(runs, tmp_path):
    linked = copy(runs, "q4", "linked")
    outside = tmp_path / "elsewhere.csv"
    shutil.move(linked / "decisions.csv", outside)
    (linked / "decisions.csv").symlink_to(outside)
    result = cli("diff", runs / "q3", linked, "--out", "out", "-q")
    assert result.exit_code == 1
    assert result.output == (f"error: linked/decisions.csv: is a link to {outside}, outside its folder "
                             f"{tmp_path}/linked; links may only point inside the folder (copy the file in instead)\n")
    os.remove(linked / "decisions.csv")
    os.mkfifo(linked / "decisions.csv")
    result = cli("diff", runs / "q3", linked, "--out", "out", "-q")
    assert result.exit_code == 1
    assert result.output == ("error: linked/decisions.csv: is not a regular file (a device, pipe or socket); use a "
                             "plain text file\n")
    shutil.copy(outside, linked / "kept.csv")
    os.remove(linked / "decisions.csv")
    (linked / "decisions.csv").symlink_to("kept.csv")  # a link inside the folder is fine
    (linked / "manifest.json").unlink()
    (linked / "manifest.json").symlink_to("/etc/hostname")
    result = cli("diff", runs / "q3", linked, "--out", "out", "-q")
    assert result.exit_code == 1
    assert result.output == ("error: linked/manifest.json: is a link to /etc/hostname, outside its folder "
                             f"{tmp_path}/linked; links may only point inside the folder (copy the file in instead)\n")


# ------------------------------------------------------------------ 8. a malformed manifest


def _manifest(runs: Path, change) -> Path:
    folder = copy(runs, "q4", "hand-edited")
    path = folder / "manifest.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    text = change(document)
    path.write_text(text if isinstance(text, str) else json.dumps(document), encoding="utf-8")
    return folder


EDITED = "the manifest was edited or damaged: re-run `kamrules evaluate`"


@pytest.mark.parametrize("change, message", [
    (lambda m: m.update(decisions=[1, 2]), f"'decisions' is an array where kamrules writes an object; {EDITED}"),
    (lambda m: m.update(pack=None, roles=None, columns=None) or json.dumps({**m, "input": [1]}),
     f"'input' is an array where kamrules writes an object; {EDITED}"),
    (lambda m: m["decisions"].update(tier=None), f"'decisions.tier' is null where kamrules writes an object; {EDITED}"),
    (lambda m: m.update(as_of="1700-01-01"), f"'as_of' is '1700-01-01', which lies outside 1800-01-01 … 2199-12-31; {EDITED}"),
    (lambda m: m.update(as_of=None), f"'as_of' is 'None', which is not a date (YYYY-MM-DD); {EDITED}"),
    (lambda m: m["input"].update(encoding="rot13"), f"'input.encoding' is 'rot13', which is not a text encoding; {EDITED}"),
    (lambda m: m["input"].update(name="../../etc/passwd"), f"'input.name' is '../../etc/passwd', which is not a plain file "
                                                           f"name (a run names the file it read, never a path); {EDITED}"),
    (lambda m: m["input"].update(delimiter="é"), f"'input.delimiter' is 'é', which is not a delimiter (one printable "
                                                 f"ASCII character, or tab); {EDITED}"),
    (lambda m: '{"as_of": "2026-11-27", "x": ' + "[" * 100_000 + "]" * 100_000 + "}",
     "not valid JSON (nested too deeply (arrays or objects inside each other thousands of times)); re-run "
     "`kamrules evaluate`"),
    (lambda m: "[1, 2]", "not a kamrules manifest; re-run `kamrules evaluate`"),
])
def test_a_malformed_manifest_is_a_clear_error_for_every_reader(runs, change, message):
    folder = _manifest(runs, change)
    expected = f"error: {folder}/manifest.json: {message}\n"
    result = cli("diff", runs / "q3", folder, "--out", "out", "-q")
    assert (result.exit_code, result.output) == (1, expected)
    result = cli("evaluate", EXAMPLES / "customers.csv", "--as-of", "2026-11-27", "--out", "next", "--previous",
                 folder, "--playbooks", "none", "-q")
    assert (result.exit_code, result.output) == (1, expected)
    shutil.copy(EXAMPLES / "customers.csv", "customers.csv")
    result = cli("explain", "--run", folder, "A00001")
    assert (result.exit_code, result.output) == (1, expected)


def test_a_malformed_manifest_is_said_in_chinese(runs):
    folder = _manifest(runs, lambda m: m.update(decisions=[1]))
    result = cli("diff", runs / "q3", folder, "--out", "out", "-q", "--lang", "zh")
    assert result.exit_code == 1
    assert result.output == (f"错误：{folder}/manifest.json：“decisions”是数组，而 kamrules 在此写的是对象；manifest 被改动或"
                             "损坏：请重新运行 `kamrules evaluate`\n")


# ------------------------------------------------------------------ 9. ids the formula guard rewrote


def test_previous_matches_ids_the_formula_guard_rewrote(tmp_path):
    rows = (EXAMPLES / "customers.csv").read_text(encoding="utf-8-sig").splitlines()
    header = rows[0].split(",")
    ids = ["+86 138 0013 8000", "-A00001", "=1+1", "@home", "'=kept as typed", "\t-tabbed"]
    for number, account in enumerate(ids, start=1):
        cells = rows[number].split(",")
        cells[header.index("account_id")] = account
        rows[number] = ",".join(cells)
    data = tmp_path / "formula-ids.csv"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    for name in ("then", "now"):
        result = cli("evaluate", data, "--as-of", "2026-11-27", "--out", name, "--playbooks", "none", "-q",
                     *(["--previous", "then"] if name == "now" else []))
        assert result.exit_code == 0, result.output
    assert "'+86 138 0013 8000" in Path("then/decisions.csv").read_text(encoding="utf-8-sig")  # still guarded
    now = pd.read_csv("now/decisions.csv", dtype=str, encoding="utf-8-sig")
    assert (now["review_before_demotion"] == "false").all()
    result = cli("diff", "then", "now", "--out", "compared", "-q")
    assert result.exit_code == 0, result.output
    assert only_newcomers_changed(Path("compared"), data)  # not "300 appeared, 299 disappeared"
    side = diff.read_run(Path("then"))
    assert {"+86 138 0013 8000", "-A00001", "=1+1", "@home", "-tabbed"} <= set(side.frame.index)


# ------------------------------------------------------------------ 18. every run kamrules writes


def test_a_run_with_accounts_without_an_id_can_be_compared(tmp_path):
    rows = (EXAMPLES / "customers.csv").read_text(encoding="utf-8-sig").splitlines()
    rows[5] = "," + rows[5].split(",", 1)[1]  # two accounts without an id: kept with --on-bad-value missing
    rows[9] = "," + rows[9].split(",", 1)[1]
    data = tmp_path / "no-ids.csv"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    made = cli("evaluate", data, "--as-of", "2026-11-27", "--out", "then", "--on-bad-value", "missing",
               "--playbooks", "none", "-q")
    assert made.exit_code == 0, made.output
    note = ("warning: {folder}: 2 account(s) have no account_id (a run made with --on-bad-value missing): they are "
            "counted in the totals but cannot be matched with the other run\n")
    result = cli("evaluate", data, "--as-of", "2026-11-27", "--out", "now", "--on-bad-value", "missing",
                 "--previous", "then", "--playbooks", "none", "-q")
    assert result.exit_code == 0, result.output
    assert result.output == note.format(folder="then") + note.format(folder="now")
    result = cli("diff", "then", "now", "--out", "compared", "-q")
    assert result.exit_code == 0, result.output
    assert only_newcomers_changed(Path("compared"), data)
    compared = diff.compare(diff.read_run(Path("then")), diff.read_run(Path("now")))
    assert compared.without_id == (2, 2)
    assert next(t for t in compared.totals if t.name == "accounts").before == 300


@pytest.mark.parametrize("fmt, lang", [("json", "en"), ("parquet", "en"), ("xlsx", "en"), ("xlsx", "zh")])
def test_diff_and_previous_read_every_format_kamrules_writes(runs, fmt, lang):
    made = cli("evaluate", EXAMPLES / "customers-q3.csv", "--as-of", "2026-08-28", "--out", "q3", "--format", fmt,
               "--lang", lang, "--playbooks", "none", "-q")
    assert made.exit_code == 0, made.output
    result = cli("diff", "q3", runs / "q4", "--out", "compared", "-q")
    assert result.exit_code == 0, result.output
    assert changes(Path("compared")).equals(changes(runs / "reference"))
    # demotion_reviews=1: the history facts --previous brings hold no key account below the line (the review
    # cycle), so the accounts flagged are those the comparison without history finds demoted
    result = cli("evaluate", EXAMPLES / "customers.csv", "--as-of", "2026-11-27", "--out", "q4", "--previous", "q3",
                 "--playbooks", "none", "-q", "--set", "demotion_reviews=1")
    assert result.exit_code == 0, result.output
    flagged = pd.read_csv("q4/decisions.csv", dtype=str, encoding="utf-8-sig")
    demoted = set(flagged.loc[flagged["review_before_demotion"] == "true", "account_id"])
    assert demoted == set(changes(runs / "reference").query("decision == 'tier' and before == 'key'")["account_id"])


# ------------------------------------------------------------------ 19. the comparison on whole columns


def _reference(before: diff.Side, after: diff.Side) -> dict:
    """What changed, worked out one account and one cell at a time (the comparison as it used to be)."""
    def cell(value):
        if value is None or value is pd.NA or (isinstance(value, float) and value != value):
            return None
        return ("; ".join(map(str, value)) or None) if isinstance(value, list) else value

    found = {}
    for spec in after.decisions:
        for account in sorted(set(before.frame.index) & set(after.frame.index)):
            names = spec.outputs or [f"{spec.id}_rule"]
            old = {o: cell(before.frame.at[account, o]) if o in before.frame else None for o in names}
            new = {o: cell(after.frame.at[account, o]) if o in after.frame else None for o in names}
            differing = [o for o in names if old[o] != new[o]]
            if differing:
                found[(spec.id, account)] = (differing, old[differing[0] if names[0] not in differing else names[0]],
                                             new[differing[0] if names[0] not in differing else names[0]])
    return found


def test_the_vectorised_comparison_agrees_with_a_cell_by_cell_one():
    import random

    rng = random.Random(29)
    ids = [f"A{i:03d}" for i in range(60)]
    choices = {"tier": ["key", "standard", None], "score": [1.0, 2.5, float("nan"), None], "flag": [True, False, None],
               "actions": [["a", "b"], ["a"], [], None, ["b", "a"]], "tier_rule": ["r1", "r2", "default", None]}

    def side(label: str, keep: float) -> diff.Side:
        rows = [i for i in ids if rng.random() < keep]
        frame = pd.DataFrame({name: [rng.choice(values) for _ in rows] for name, values in choices.items()},
                             index=pd.Index(rows, name="id"))
        frame["account_id"] = rows
        frame["sales"] = [rng.choice([100.0, 250.5, None]) for _ in rows]
        decisions = [diff.DecisionSpec("tier", "Tier", ["tier", "score", "flag"]),
                     diff.DecisionSpec("actions", "Actions", ["actions"], collect=True)]
        return diff.Side(label, frame, decisions, {"sales": "sales", "tier": "tier"})

    for _ in range(20):
        before, after = side("before", 0.9), side("after", 0.9)
        result = diff.compare(before, after)
        got = {(c.decision, c.account_id): (c.outputs, c.before, c.after) for d in result.decisions for c in d.changes}
        assert got == _reference(before, after)
        tier = result.decisions[0]
        common = sorted(set(before.frame.index) & set(after.frame.index))
        assert sum(m.accounts for m in tier.matrix) == len(common)
        assert sorted(result.appeared) == sorted(set(after.frame.index) - set(before.frame.index))
