"""The register of reviews (issue #24 items 5 and 6): `evaluate --register`, `kamrules history`, history
facts for rules, `--previous REGISTER`, and every way a register can be bad."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kamrules.cli import app
from kamrules.errors import ConfigError
from kamrules.register import history_facts, store

runner = CliRunner()

PACK = """pack:
  name: mini
  version: "1"
fields:
  account_id: {type: string, required: true}
  account_name: {type: string}
  sales: {type: number, required: true}
  prior_sales: {type: number}
  gross_profit: {type: number}
params:
  key_from: 1000
features:
  lost:
    expr: sales <= 0 and coalesce(prior_sales, 0) > 0
decisions:
  tier:
    hit: first
    outputs:
      tier: {type: category, values: {key: {en: Key account, zh: 重点客户}, standard: {en: Standard, zh: 普通客户}}}
    rules:
      - id: big
        when: sales >= params.key_from
        then: {tier: key}
    default: {tier: standard}
  risk_signals:
    hit: collect
    outputs:
      risk_signal: {type: category, values: {decline: {en: Sales down, zh: 销售下滑}}}
    rules:
      - id: decline
        when: sales < prior_sales
        then: {risk_signal: decline}
  risk:
    hit: first
    outputs:
      risk_level:
        type: category
        values:
          lost: {en: Lost, zh: 已流失}
          lapsed: {en: Lapsed, zh: 流失中}
          critical: {en: Critical, zh: 高风险}
          at_risk: {en: At risk, zh: 有风险}
          none: {en: No signal, zh: 无风险信号}
    rules:
      - id: lost
        when: lost
        then: {risk_level: lost}
      - id: at_risk
        when: risk_signals_count >= 1
        then: {risk_level: at_risk}
    default: {risk_level: none}
"""

HEADER = "account_id,account_name,sales,prior_sales,gross_profit\n"
Q1 = HEADER + "A1,Acme Widgets Inc.,5000,4000,900\nA2,Beta,800,900,100\nA3,Gamma,0,1500,0\n"
Q2 = HEADER + "A1,Acme Widgets Inc.,900,5000,100\nA2,Beta,1200,800,200\nA4,Delta,300,,\n"


@pytest.fixture
def mini(tmp_path):
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "pack.yaml").write_text(PACK, encoding="utf-8")
    (tmp_path / "q1.csv").write_text(Q1, encoding="utf-8")
    (tmp_path / "q2.csv").write_text(Q2, encoding="utf-8")
    return tmp_path


def invoke(*args: str):
    return runner.invoke(app, list(args))


def record(data: str, as_of: str, register: str = "r.db", *more: str):
    return invoke("evaluate", data, "--rules", "rules", "--as-of", as_of, "--register", register, "--playbooks",
                  "none", "--out", f"out-{as_of}", *more)


def reviews(path: str = "r.db") -> list:
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT review_id, as_of, pack_name, accounts FROM reviews ORDER BY review_id").fetchall()


# --------------------------------------------------------------------------------------- recording


def test_a_run_is_recorded_with_its_decisions_and_facts(mini):
    result = record("q1.csv", "2026-03-31")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "Recorded in r.db as review 1 (as of 2026-03-31, 3 accounts)"
    with sqlite3.connect("r.db") as connection:
        review = connection.execute("SELECT as_of, pack_name, pack_version, input_name, input_sha256, options, "
                                    "accounts, key_accounts, key_sales, sales, lost, lost_prior_sales, at_risk "
                                    "FROM reviews").fetchone()
        rows = connection.execute("SELECT account_id, account_name, tier, tier_rule, risk_level, risk_signal, sales, "
                                  "prior_sales, gross_profit, lost FROM accounts ORDER BY account_id").fetchall()
        kinds = dict(connection.execute("SELECT name, kind FROM columns").fetchall())
        labels = connection.execute("SELECT label FROM labels WHERE name = 'tier' AND value = 'key' AND lang = 'zh'"
                                    ).fetchall()
    import hashlib

    assert review == ("2026-03-31", "mini", "1", "q1.csv", hashlib.sha256(Q1.encode()).hexdigest(),
                      '{"columns_sha256": null, "reading": {}, "set": {}, "where": null}', 3, 1, 5000.0, 5800.0, 1,
                      1500.0, 1)
    assert rows == [("A1", "Acme Widgets Inc.", "key", "big", "none", "[]", 5000.0, 4000.0, 900.0, 0),
                    ("A2", "Beta", "standard", "default", "at_risk", '["decline"]', 800.0, 900.0, 100.0, 0),
                    ("A3", "Gamma", "standard", "default", "lost", '["decline"]', 0.0, 1500.0, 0.0, 1)]
    assert kinds["risk_signal"] == "list" and kinds["lost"] == "boolean" and kinds["sales"] == "number"
    assert labels == [("重点客户",)]


def test_the_same_run_twice_replaces_itself_and_another_date_is_another_review(mini):
    assert record("q1.csv", "2026-03-31").exit_code == 0
    again = record("q1.csv", "2026-03-31")
    assert again.exit_code == 0
    assert again.output.splitlines()[-1] == ("Recorded in r.db as review 1 (as of 2026-03-31, 3 accounts), replacing "
                                             "its earlier recording of the same run")
    assert reviews() == [(1, "2026-03-31", "mini", 3)]
    assert record("q2.csv", "2026-06-30").exit_code == 0
    assert record("q1.csv", "2026-03-31", "r.db", "--set", "key_from=500").exit_code == 0  # a what-if: its own run
    assert reviews() == [(1, "2026-03-31", "mini", 3), (2, "2026-06-30", "mini", 3), (3, "2026-03-31", "mini", 3)]
    with sqlite3.connect("r.db") as connection:
        assert connection.execute("SELECT count(*) FROM accounts").fetchone() == (9,)
        assert connection.execute("SELECT review_id FROM current_reviews ORDER BY as_of").fetchall() == [(3,), (2,)]


def test_a_failed_run_records_nothing(mini):
    assert record("q1.csv", "2026-03-31").exit_code == 0
    before = Path("r.db").read_bytes()
    Path("bad.csv").write_text("account_id,account_name\nA1,Acme\n", encoding="utf-8")
    failed = record("bad.csv", "2026-06-30")
    assert failed.exit_code == 1
    assert Path("r.db").read_bytes() == before
    assert not Path("out-2026-06-30").exists()
    failed_new = record("bad.csv", "2026-06-30", "new.db")
    assert failed_new.exit_code == 1 and not Path("new.db").exists()


# --------------------------------------------------------------------------------------- history


def test_history_prints_the_portfolio_per_review(mini):
    assert record("q2.csv", "2026-06-30").exit_code == 0
    assert record("q1.csv", "2026-03-31").exit_code == 0
    result = invoke("history", "--register", "r.db")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Reviews of pack 'mini' in r.db"
    assert lines[3].split("│") == [" 2      ", " 2026-03-31 ", "        3 ", "   1 ", "     86.2% ", "       0 ",
                                  "    1 ", "            1,500 ", "      0 ", "                  0 ", "       1 ",
                                  "        0 ", " 5,800"]
    assert [cell.strip() for cell in lines[4].split("│")] == ["1", "2026-06-30", "3", "1", "50%", "0", "0", "0", "0",
                                                             "0", "1", "0", "2,400"]
    csv_text = invoke("history", "--register", "r.db", "--format", "csv").output
    assert csv_text.splitlines() == [
        "review_id,as_of,pack_name,pack_version,input_name,accounts,key_accounts,key_sales,key_sales_share,waiting,"
        "lost,lost_prior_sales,lapsed,lapsed_prior_sales,at_risk,critical,sales",
        "2,2026-03-31,mini,1,q1.csv,3,1,5000.0,0.8620689655172413,0,1,1500.0,0,0.0,1,0,5800.0",
        "1,2026-06-30,mini,1,q2.csv,3,1,1200.0,0.5,0,0,0.0,0,0.0,1,0,2400.0"]
    document = json.loads(invoke("history", "--register", "r.db", "--format", "json").output)
    assert document["pack"] == "mini" and [r["as_of"] for r in document["reviews"]] == ["2026-03-31", "2026-06-30"]
    zh = invoke("history", "--register", "r.db", "--lang", "zh").output.splitlines()
    assert zh[0] == "r.db 中规则包“mini”的评审" and "已流失" in zh[1]


def test_history_of_an_account_by_id_and_by_name(mini):
    assert record("q1.csv", "2026-03-31").exit_code == 0
    assert record("q2.csv", "2026-06-30").exit_code == 0
    by_id = invoke("history", "A1", "--register", "r.db")
    assert by_id.exit_code == 0, by_id.output
    assert by_id.output.splitlines() == [
        "A1 Acme Widgets Inc.: 2 reviews of pack 'mini' in r.db",
        " review ┃ as of      ┃ tier        ┃ risk level ┃ sales ┃ key findings",
        "━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━╇━━━━━━━━━━━━━━",
        " 1      │ 2026-03-31 │ Key account │ No signal  │ 5,000 │ —",
        " 2      │ 2026-06-30 │ Standard    │ At risk    │   900 │ Sales down"]
    for name in ("Acme Widgets Inc.", "  acme   WIDGETS inc. "):
        assert invoke("history", name, "--register", "r.db").output == by_id.output
    gone = invoke("history", "A3", "--register", "r.db", "--lang", "zh").output.splitlines()
    assert gone[0] == "A3 Gamma：r.db 中规则包“mini”的 2 次评审"
    assert gone[3] == " 1    │ 2026-03-31 │ 普通客户           │ 已流失   │      0 │ 销售下滑"
    assert gone[4].split("│")[2].strip() == "未出现在本次评审中"
    rows = invoke("history", "A1", "--register", "r.db", "--format", "csv").output.splitlines()
    assert rows[1:] == ["1,2026-03-31,A1,Acme Widgets Inc.,True,key,none,5000.0,,",
                        "2,2026-06-30,A1,Acme Widgets Inc.,True,standard,at_risk,900.0,decline,"]


@pytest.mark.parametrize("wanted, message", [
    ("A11", "error: r.db: no account with id 'A11' (did you mean 'A1'?)"),
    ("acme", "error: r.db: no account with the id or name 'acme' (did you mean 'Acme Widgets Inc.' (id A1)?)"),
    ("Zeta", "error: r.db: no account with the id or name 'Zeta' (did you mean 'Beta' (id A2)?)"),
    ("Xylophone", "error: r.db: no account with the id or name 'Xylophone'"),
])
def test_an_account_not_in_the_register_is_refused_with_close_matches(mini, wanted, message):
    assert record("q1.csv", "2026-03-31").exit_code == 0
    result = invoke("history", wanted, "--register", "r.db")
    assert result.exit_code == 1
    assert result.output.strip() == message


def test_history_shows_one_pack_and_names_the_others(mini):
    assert record("q1.csv", "2026-03-31").exit_code == 0
    Path("rules/pack.yaml").write_text(PACK.replace("name: mini", "name: other"), encoding="utf-8")
    assert record("q2.csv", "2026-06-30").exit_code == 0
    latest = invoke("history", "--register", "r.db").output.splitlines()
    assert latest[0] == "Reviews of pack 'other' in r.db"
    assert latest[-1] == "also in the register: 'mini' (1) (show one with --pack NAME)"
    assert invoke("history", "--register", "r.db", "--pack", "mini").output.splitlines()[0] == \
        "Reviews of pack 'mini' in r.db"
    unknown = invoke("history", "--register", "r.db", "--pack", "nope")
    assert (unknown.exit_code, unknown.output.strip()) == (
        1, "error: r.db: no review of pack 'nope'; the register holds reviews of: mini, other")


def test_history_needs_a_register(mini):
    result = invoke("history", "--register", "none.db")
    assert (result.exit_code, result.output.strip()) == (
        1, "error: none.db: no register there; record reviews in it with `kamrules evaluate DATA --register none.db`")
    assert not Path("none.db").exists()
    bad = invoke("history", "--register", "r.db", "--format", "xml")
    assert (bad.exit_code, bad.output.strip()) == (2, "error: --format 'xml' is not one of: text, csv, json")


# --------------------------------------------------------------------------------------- history facts


def _quarter(rows: dict) -> str:
    return HEADER + "".join(f"{account},{account} Ltd,{sales},," + "\n" for account, sales in rows.items())


def test_history_facts_over_four_quarters(mini):
    quarters = [("2025-03-31", {"K": 5000, "D": 3000, "S": 100}),
                ("2025-06-30", {"K": 6000, "D": 2000, "S": 1500}),
                ("2025-09-30", {"K": 7000, "D": 900, "S": 200}),
                ("2025-12-31", {"K": 8000, "D": 800, "N": 50})]
    for as_of, rows in quarters:
        Path(f"{as_of}.csv").write_text(_quarter(rows), encoding="utf-8")
        assert record(f"{as_of}.csv", as_of).exit_code == 0
    facts = history_facts(Path("r.db"), dt.date(2026, 3, 31))
    assert facts.previous_as_of == "2025-12-31" and facts.reviews == 4
    assert facts.frame.sort_index().to_dict("index") == {
        "D": {"previous_tier": "standard", "previous_tier_basis": None, "tier_basis_run": 0, "reviews_as_key": 0,
              "reviews_below_key": 2, "declines_in_row": 3, "key_since": None},
        "K": {"previous_tier": "key", "previous_tier_basis": None, "tier_basis_run": 0, "reviews_as_key": 4,
              "reviews_below_key": 0, "declines_in_row": 0, "key_since": "2025-03-31"},
        "N": {"previous_tier": "standard", "previous_tier_basis": None, "tier_basis_run": 0, "reviews_as_key": 0,
              "reviews_below_key": 1, "declines_in_row": 0, "key_since": None}}
    # as of the third quarter: only the first two count, and S (absent later) is there
    earlier = history_facts(Path("r.db"), dt.date(2025, 9, 30)).frame.sort_index()
    assert earlier.loc["S"].to_dict() == {"previous_tier": "key", "previous_tier_basis": None, "tier_basis_run": 0,
                                          "reviews_as_key": 1, "reviews_below_key": 0, "declines_in_row": 0,
                                          "key_since": "2025-06-30"}
    assert earlier.loc["D"].to_dict() == {"previous_tier": "key", "previous_tier_basis": None, "tier_basis_run": 0,
                                          "reviews_as_key": 2, "reviews_below_key": 0, "declines_in_row": 1,
                                          "key_since": "2025-03-31"}
    nothing = history_facts(Path("r.db"), dt.date(2025, 3, 31))
    assert nothing.previous_as_of is None and nothing.reviews == 0 and nothing.frame.empty
    assert list(nothing.frame.columns) == ["previous_tier", "previous_tier_basis", "tier_basis_run", "reviews_as_key",
                                           "reviews_below_key", "declines_in_row", "key_since"]


# --------------------------------------------------------------------------------------- --previous


def test_previous_reads_the_latest_review_before_the_run(mini):
    assert record("q1.csv", "2026-03-31").exit_code == 0
    result = record("q2.csv", "2026-06-30", "r.db", "--previous", "r.db")
    assert result.exit_code == 0, result.output
    table = Path("out-2026-06-30/decisions.csv").read_text(encoding="utf-8-sig").splitlines()
    assert table[0].endswith(",review_before_demotion") and table[1].startswith("A1,") and table[1].endswith(",true")
    assert "Since the last review" in Path("out-2026-06-30/report.html").read_text(encoding="utf-8")
    early = record("q1.csv", "2026-01-31", "other.db", "--previous", "r.db")
    assert (early.exit_code, early.output.strip().splitlines()[-1]) == (
        1, "error: r.db: no review before 2026-01-31 (this run's --as-of) to compare with; leave out --previous, or "
           "record the earlier review first")


# --------------------------------------------------------------------------------------- bad registers


def _error(result) -> str:
    return result.output.strip().splitlines()[-1] if "\n" not in result.output.strip() else result.output.strip()


def test_a_register_from_a_newer_kamrules_is_refused(mini):
    from kamrules import __version__

    assert record("q1.csv", "2026-03-31").exit_code == 0
    with sqlite3.connect("r.db") as connection:
        connection.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
        connection.execute("UPDATE meta SET value = '9.0' WHERE key = 'written_by'")
    before = Path("r.db").read_bytes()
    for result in (record("q2.csv", "2026-06-30"), invoke("history", "--register", "r.db")):
        assert result.exit_code == 1
        assert result.output.strip().splitlines()[-1] == (
            f"error: r.db: was written by a newer kamrules (9.0, register schema 99); this kamrules ({__version__}) "
            "reads schema 1 at most: upgrade kamrules (pip install -U kamrules)")
    assert Path("r.db").read_bytes() == before and not Path("out-2026-06-30").exists()


@pytest.mark.parametrize("content, message", [
    (b"account_id,sales\nA1,10\n", "error: r.db: is not a kamrules register (not an SQLite database); give the "
                                    "register's file, or a new file name to start one"),
    (None, "error: r.db: is an SQLite database but not a kamrules register; give another --register file "
           "(kamrules creates it)"),
])
def test_a_file_that_is_not_a_register_is_refused(mini, content, message):
    if content is None:
        with sqlite3.connect("r.db") as connection:
            connection.execute("CREATE TABLE customers (id TEXT)")
    else:
        Path("r.db").write_bytes(content)
    before = Path("r.db").read_bytes()
    for result in (record("q1.csv", "2026-03-31"), invoke("history", "--register", "r.db")):
        assert (result.exit_code, result.output.strip().splitlines()[-1]) == (1, message)
    assert Path("r.db").read_bytes() == before


def test_a_damaged_register_is_refused(mini):
    assert record("q1.csv", "2026-03-31").exit_code == 0
    data = bytearray(Path("r.db").read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # the schema page, after the file header
    Path("r.db").write_bytes(bytes(data))
    result = invoke("history", "--register", "r.db")
    assert result.exit_code == 1
    assert result.output.strip() == ("error: r.db: the register is damaged (SQLite: database disk image is malformed); "
                                     "restore it from a backup, or try `sqlite3 r.db .recover`")


def test_a_locked_register_is_refused_and_nothing_is_lost(mini, monkeypatch):
    from kamrules.register import record_run

    assert record("q1.csv", "2026-03-31").exit_code == 0
    before = Path("r.db").read_bytes()
    monkeypatch.setattr(store, "LOCK_WAIT_SECONDS", 0.1)
    other = sqlite3.connect("r.db", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another run writing
    try:
        result = record("q2.csv", "2026-06-30")
        assert result.exit_code == 1
        assert result.output.strip().splitlines()[-1] == (
            "error: r.db: the register is locked: another kamrules run is writing it; wait for that run to finish "
            "and run again")
        assert not Path("out-2026-06-30").exists()  # refused before the work
        # locked between the check and the record: nothing is recorded, and it says so
        from kamrules.register.record import RunFacts
        evaluation = _evaluation(mini / "q2.csv")
        with pytest.raises(ConfigError) as caught:
            record_run(Path("r.db"), evaluation, RunFacts("q2.csv"))
        assert str(caught.value) == ("r.db: the register is locked: another kamrules run is writing it; wait for that "
                                     "run to finish and run again — nothing was recorded, the register is as it was")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert Path("r.db").read_bytes() == before


def _evaluation(data: Path, as_of: dt.date = dt.date(2026, 6, 30)):
    from kamrules.data.reader import ReadOptions, read_table
    from kamrules.engine.evaluate import evaluate
    from kamrules.pack import load_pack

    pack = load_pack(Path("rules"))
    read = read_table(data, list(pack.fields.values()), ReadOptions())
    return evaluate(pack, read.frame, as_of=as_of, jobs=1, input_name=data.name)


def test_a_pack_whose_decisions_changed_meaning_is_refused(mini):
    assert record("q1.csv", "2026-03-31").exit_code == 0
    before = Path("r.db").read_bytes()
    changed = PACK.replace("          none: {en: No signal, zh: 无风险信号}",
                           "          dormant: {en: Dormant, zh: 休眠}\n          none: {en: No signal, zh: 无风险信号}")
    changed = changed.replace("  tier:\n    hit: first", "  tier:\n    hit: unique")
    Path("rules/pack.yaml").write_text(changed, encoding="utf-8")
    result = record("q2.csv", "2026-06-30")
    assert result.exit_code == 1
    assert result.output[result.output.index("error:"):].strip() == (
        "error:\n"
        "r.db: the reviews of pack 'mini' in it were decided by decisions that meant something else; recording this "
        "run would mix two meanings:\n"
        "  decision 'tier': hit policy first in the register, unique in this pack\n"
        "to record this run, keep the two meanings apart: record it in a new register (--register another file; r.db "
        "stays as it is and can still be read), or give the changed pack a name of its own (pack: name: in its pack "
        "file). A pack that only adds decisions, outputs or values is accepted")
    assert Path("r.db").read_bytes() == before and not Path("out-2026-06-30").exists()
    # a param change is not a change of meaning
    Path("rules/pack.yaml").write_text(PACK.replace("key_from: 1000", "key_from: 2000"), encoding="utf-8")
    assert record("q2.csv", "2026-06-30").exit_code == 0


def test_a_pack_that_only_adds_values_keeps_its_register(mini):
    """The upgrade path: a pack whose new version only adds values (as the review cycle added held and
    rising to tier_basis) records its runs in the register its earlier version wrote; a value it drops
    is refused, naming it."""
    assert record("q1.csv", "2026-03-31").exit_code == 0
    added = PACK.replace("          none: {en: No signal, zh: 无风险信号}",
                         "          dormant: {en: Dormant, zh: 休眠}\n          none: {en: No signal, zh: 无风险信号}")
    Path("rules/pack.yaml").write_text(added, encoding="utf-8")
    result = record("q2.csv", "2026-06-30")
    assert result.exit_code == 0, result.output
    assert [row[1] for row in reviews()] == ["2026-03-31", "2026-06-30"]
    Path("rules/pack.yaml").write_text(PACK, encoding="utf-8")  # dormant dropped again
    refused = record("q2.csv", "2026-09-30")
    assert refused.exit_code == 1
    assert "  decision 'risk', output 'risk_level': values only in the register: dormant; only in this pack: —\n" in refused.output


def test_a_folder_or_a_link_out_of_its_folder_is_no_register(mini, tmp_path_factory):
    Path("reviews").mkdir()
    folder = record("q1.csv", "2026-03-31", "reviews")
    assert (folder.exit_code, folder.output.strip().splitlines()[-1]) == (
        1, "error: reviews: is a folder, not a register file; give a file, e.g. --register reviews/reviews.db")
    outside = tmp_path_factory.mktemp("elsewhere") / "r.db"
    Path("sub").mkdir()
    os.symlink(outside, "sub/link.db")
    link = record("q1.csv", "2026-03-31", "sub/link.db")
    assert (link.exit_code, link.output.strip().splitlines()[-1]) == (
        1, f"error: sub/link.db: is a link to {outside}, outside its folder {Path('sub').resolve()}; give the "
           "register's own path")
    assert not outside.exists() and not Path("out-2026-03-31").exists()
    inside = record("q1.csv", "2026-03-31", "sub/link-in.db")
    assert inside.exit_code == 0


def test_a_full_disk_records_nothing(mini, monkeypatch):
    assert record("q1.csv", "2026-03-31").exit_code == 0
    before = Path("r.db").read_bytes()
    pages = len(before) // 4096
    monkeypatch.setattr(store, "PAGE_LIMIT", pages)  # the disk holds no page more than the register has
    big = HEADER + "".join(f"B{i:05d},Account {i},{1000 + i},{900 + i},{i}\n" for i in range(3000))
    Path("big.csv").write_text(big, encoding="utf-8")
    result = record("big.csv", "2026-06-30")
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        "error: r.db: the disk is full (SQLite: database or disk is full); free some space and run again — nothing "
        "was recorded, the register is as it was")
    assert Path("r.db").read_bytes() == before
    assert reviews() == [(1, "2026-03-31", "mini", 3)]


def test_register_messages_follow_lang(mini):
    Path("reviews").mkdir()
    result = invoke("history", "--register", "reviews", "--lang", "zh")
    assert (result.exit_code, result.output.strip()) == (
        1, "错误：reviews：是文件夹，不是台账文件；请给出文件，例如 --register reviews/reviews.db")
