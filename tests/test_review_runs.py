"""The review cycle across run folders (docs/review-cycle.md): what a run records of its overrides, and
how `explain --run`, `kamrules diff OUT_A OUT_B` and `--previous` (a run folder or a register) read it."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

from typer.testing import CliRunner

from kamrules.cli import app
from conftest import ROOT

runner = CliRunner()
EXAMPLES = ROOT / "examples"
HEADER = "account,output,value,reason,owner,expires\n"
OVERRIDES = HEADER + ("A00002,tier,key,Framework agreement signed,Linda Wang,2027-03-31\n"
                      "A00003,risk_level,at_risk,New CFO re-tenders,Sales director,2027-01-31\n"
                      "A00004,tier,potential,Old,赵磊,2026-09-30\n")


def invoke(*args: str, expect: int = 0):
    result = runner.invoke(app, [*args], catch_exceptions=False)
    assert result.exit_code == expect, result.output
    return result


def evaluate(data: str, as_of: str, *args: str, expect: int = 0):
    return invoke("evaluate", data, "--as-of", as_of, "--playbooks", "none", "-q", *args, expect=expect)


def customers(name: str = "customers.csv") -> str:
    """The example file copied next to the runs (explain --run finds the run's data by its name)."""
    shutil.copy(EXAMPLES / name, name)
    return name


def rows(path: str) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def lines(text: str) -> list[str]:
    return text.splitlines()


def flat(text: str) -> str:
    return " ".join(text.split())


# --------------------------------------------------------------------------- explain --run and overrides


def test_explain_run_shows_the_overrides_the_run_applied():
    Path("overrides.csv").write_text(OVERRIDES, encoding="utf-8")
    evaluate(customers(), "2026-11-27", "--out", "out", "--overrides", "overrides.csv")
    shown = lines(invoke("explain", "--run", "out", "A00002").output)
    assert ("Account tier: Key account — Tier overridden by Linda Wang: Framework agreement signed (until "
            "2027-03-31); the rules said: Standard account") in shown
    # what follows from the overridden tier follows it, as in the run's decision table
    assert rows("out/decisions.csv")[1]["service_level"] == "key"
    assert any(line.startswith("Service level: Key account service — ") for line in shown)
    shown = lines(invoke("explain", "--run", "out", "A00003", "--lang", "zh").output)
    assert ("客户流失风险等级：有风险 — 风险等级由Sales director人工调整：New CFO re-tenders（有效期至 2027-01-31）；"
            "规则结果：无风险信号") in shown
    # an account nobody overrode is explained as the rules decide it
    assert "Account tier: Potential key account" not in invoke("explain", "--run", "out", "A00004").output


def test_the_run_records_its_overrides_in_overrides_json():
    Path("overrides.csv").write_text(OVERRIDES, encoding="utf-8")
    evaluate(customers(), "2026-11-27", "--out", "out", "--overrides", "overrides.csv")
    evaluate(customers(), "2026-11-27", "--out", "again", "--overrides", "overrides.csv")
    record = Path("out/overrides.json").read_bytes()
    assert record == Path("again/overrides.json").read_bytes()  # the same inputs, the same bytes
    assert record.decode("utf-8") == (
        '{\n "format": "kamrules-overrides",\n "version": 1,\n "file": "overrides.csv",\n "applied": [\n  {\n'
        '   "account": "A00002",\n   "output": "tier",\n   "value": "key",\n   "owner": "Linda Wang",\n'
        '   "reason": "Framework agreement signed",\n   "expires": "2027-03-31",\n   "by_rules": "standard",\n'
        '   "ready_to_retire": false\n  },\n  {\n   "account": "A00003",\n   "output": "risk_level",\n'
        '   "value": "at_risk",\n   "owner": "Sales director",\n   "reason": "New CFO re-tenders",\n'
        '   "expires": "2027-01-31",\n   "by_rules": "none",\n   "ready_to_retire": false\n  }\n ],\n'
        ' "expired": [\n  {\n   "account": "A00004",\n   "output": "tier",\n   "value": "potential",\n'
        '   "owner": "赵磊",\n   "reason": "Old",\n   "expires": "2026-09-30"\n  }\n ]\n}\n')
    assert '"overrides.json"' in Path("out/manifest.json").read_text(encoding="utf-8")
    evaluate(customers(), "2026-11-27", "--out", "plain")
    assert not Path("plain/overrides.json").exists()


def test_explain_run_refuses_a_missing_or_edited_overrides_record():
    Path("overrides.csv").write_text(OVERRIDES, encoding="utf-8")
    evaluate(customers(), "2026-11-27", "--out", "out", "--overrides", "overrides.csv")
    record = Path("out/overrides.json")
    text = record.read_text(encoding="utf-8")
    record.write_text(text.replace('"value": "key"', '"value": "gold"'), encoding="utf-8")
    result = invoke("explain", "--run", "out", "A00002", expect=1)
    assert " ".join(result.output.split()) == (
        "error: out/overrides.json: 'applied[0].value' is 'gold', not what kamrules writes there; the file was "
        "edited or damaged: run `kamrules evaluate --overrides` again")
    record.write_text(text.replace("A00003", "A99999"), encoding="utf-8")
    result = invoke("explain", "--run", "out", "A00002", expect=1)
    assert " ".join(result.output.split()) == (
        "error: out/overrides.json: account 'A99999' is overridden but not in customers.csv; the file was "
        "edited: run `kamrules evaluate --overrides` again")
    record.write_text("{not json", encoding="utf-8")
    result = invoke("explain", "--run", "out", "A00002", "--lang", "zh", expect=1)
    assert result.output.startswith("错误：out/overrides.json：不是 kamrules 写出的人工调整记录（")
    assert result.output.rstrip().endswith("）；请重新运行 `kamrules evaluate --overrides`")
    record.unlink()
    result = invoke("explain", "--run", "out", "A00002", expect=1)
    assert " ".join(result.output.split()) == (
        "error: out: the run applied overrides (its manifest lists overrides.json) but the file is missing; "
        "copy the whole output folder, or run `kamrules evaluate --overrides` again")


def test_explain_verbose_lists_the_override_rule_only_where_an_override_decided():
    Path("overrides.csv").write_text(OVERRIDES, encoding="utf-8")
    evaluate(customers(), "2026-11-27", "--out", "out", "--overrides", "overrides.csv")
    nobody = invoke("explain", "--run", "out", "A00005", "--verbose").output
    assert "rule 'override" not in nobody and "override_tier" not in nobody and "override_risk" not in nobody
    # the same account explained without the overrides reads the same, line for line
    assert nobody == invoke("explain", "customers.csv", "A00005", "--as-of", "2026-11-27", "--verbose").output
    tier_only = lines(invoke("explain", "--run", "out", "A00002", "--verbose").output)
    assert tier_only.count("  decided by rule 'override'") == 1  # its tier; its risk level is the rules'
    assert "  read: override_tier = tier=key" in tier_only
    assert not any("override_risk" in line or "rule 'override' did not" in line for line in tier_only)
    risk_only = lines(invoke("explain", "--run", "out", "A00003", "--verbose").output)
    assert risk_only.count("  decided by rule 'override'") == 1
    assert not any("override_tier" in line for line in risk_only)


# --------------------------------------------------------------------------- explain --run and contacts

CONTACTS = ("account,name,title,role,attitude,last_contact,owner,status\n"
            "A00001,Wang Jun,Procurement director,decision_maker,neutral,2026-10-12,赵磊,active\n"
            "A00001,Chen Hao,Former CFO,decision_maker,negative,2026-03-02,Sales director,left\n"
            "A00002,Prof. Zhou,,decision maker,positive,,,\n")


def decided(out: str, account: str) -> dict:
    return next(row for row in rows(f"{out}/decisions.csv") if row["account_id"] == account)


def test_explain_run_replays_the_stakeholder_facts_the_run_saw():
    Path("contacts.csv").write_text(CONTACTS, encoding="utf-8")
    evaluate(customers(), "2026-11-27", "--out", "out", "--contacts", "contacts.csv")
    # A00001's decision maker left: the strong key_contact_left signal makes the key account at risk
    assert decided("out", "A00001")["risk_signal"] == "sales_decline; key_contact_left"
    assert decided("out", "A00001")["risk_level"] == "at_risk"
    shown = lines(invoke("explain", "--run", "out", "A00001").output)
    assert "Defection risk signals: Sales down on a year earlier; Key contact left" in shown
    assert any(line.startswith("Defection risk level: At risk — ") for line in shown)
    # A00009, a key account the file does not list: no decision maker on record, a meeting to set up
    assert decided("out", "A00009")["risk_signal"] == "no_decision_maker; overdue"
    shown = lines(invoke("explain", "--run", "out", "A00009").output)
    assert "Defection risk signals: No decision maker known at a key account; Receivables overdue" in shown
    assert any(line.startswith("Action plan: ") and "Meet the customer's decision maker" in line for line in shown)
    # explained from the file alone, the rules see no contacts: not what the run decided
    alone = invoke("explain", "customers.csv", "A00009", "--as-of", "2026-11-27").output
    assert "Defection risk signals: Receivables overdue\n" in alone


def test_the_run_records_the_stakeholder_facts_in_contacts_json():
    Path("contacts.csv").write_text(CONTACTS, encoding="utf-8")
    evaluate(customers(), "2026-11-27", "--out", "out", "--contacts", "contacts.csv")
    evaluate(customers(), "2026-11-27", "--out", "again", "--contacts", "contacts.csv", "--lang", "zh")
    record = Path("out/contacts.json").read_bytes()
    assert record == Path("again/contacts.json").read_bytes()  # the same inputs, the same bytes
    assert record.decode("utf-8") == (
        '{\n "format": "kamrules-contacts",\n "version": 1,\n "file": "contacts.csv",\n "accounts": [\n  {\n'
        '   "account": "A00001",\n   "decision_maker_known": true,\n   "champion_present": false,\n'
        '   "days_since_decision_maker_contact": 46,\n   "key_contact_gone": true,\n'
        '   "decision_maker": "Wang Jun (Procurement director)",\n   "decision_maker_owner": "赵磊"\n  },\n  {\n'
        '   "account": "A00002",\n   "decision_maker_known": true,\n   "champion_present": false,\n'
        '   "days_since_decision_maker_contact": null,\n   "key_contact_gone": false,\n'
        '   "decision_maker": "Prof. Zhou",\n   "decision_maker_owner": null\n  }\n ]\n}\n')
    assert '"contacts.json"' in Path("out/manifest.json").read_text(encoding="utf-8")
    evaluate(customers(), "2026-11-27", "--out", "plain")
    assert not Path("plain/contacts.json").exists()


def test_explain_run_refuses_a_missing_or_edited_contacts_record():
    Path("contacts.csv").write_text(CONTACTS, encoding="utf-8")
    evaluate(customers(), "2026-11-27", "--out", "out", "--contacts", "contacts.csv")
    record = Path("out/contacts.json")
    text = record.read_text(encoding="utf-8")
    record.write_text(text.replace('"champion_present": false', '"champion_present": "yes"', 1), encoding="utf-8")
    result = invoke("explain", "--run", "out", "A00001", expect=1)
    assert flat(result.output) == (
        "error: out/contacts.json: 'accounts[0].champion_present' is 'yes', not what kamrules writes there; the "
        "file was edited or damaged: run `kamrules evaluate --contacts` again")
    record.write_text(text.replace('"days_since_decision_maker_contact": 46', '"days_since_decision_maker_contact": '
                                   '-3'), encoding="utf-8")
    result = invoke("explain", "--run", "out", "A00001", expect=1)
    assert flat(result.output).startswith("error: out/contacts.json: 'accounts[0].days_since_decision_maker_contact' "
                                          "is '-3', not what kamrules writes there;")
    record.write_text(text.replace("A00002", "A99999"), encoding="utf-8")
    result = invoke("explain", "--run", "out", "A00001", expect=1)
    assert flat(result.output) == (
        "error: out/contacts.json: account 'A99999' has contacts but is not in customers.csv; the file was "
        "edited: run `kamrules evaluate --contacts` again")
    record.write_text("[1, 2", encoding="utf-8")
    result = invoke("explain", "--run", "out", "A00001", "--lang", "zh", expect=1)
    assert result.output.startswith("错误：out/contacts.json：不是 kamrules 写出的联系人记录（")
    assert result.output.rstrip().endswith("）；请重新运行 `kamrules evaluate --contacts`")
    record.unlink()
    result = invoke("explain", "--run", "out", "A00001", expect=1)
    assert flat(result.output) == (
        "error: out: the run read contacts (its manifest lists contacts.json) but the file is missing; copy the "
        "whole output folder, or run `kamrules evaluate --contacts` again")


# ------------------------------------------------------------- explain DATA ID --overrides --contacts


def test_explain_from_the_files_gives_what_the_run_decided():
    Path("overrides.csv").write_text(OVERRIDES, encoding="utf-8")
    Path("contacts.csv").write_text(CONTACTS, encoding="utf-8")
    evaluate(customers(), "2026-11-27", "--out", "out", "--overrides", "overrides.csv", "--contacts", "contacts.csv")
    given = ("--as-of", "2026-11-27", "--overrides", "overrides.csv", "--contacts", "contacts.csv")
    for account in ("A00001", "A00002", "A00003", "A00009"):
        for extra in ((), ("--verbose",), ("--lang", "zh")):
            from_files = invoke("explain", "customers.csv", account, *given, *extra)
            assert from_files.stdout == invoke("explain", "--run", "out", account, *extra).stdout, (account, extra)
    # the overrides and the contacts both count: A00002's tier is set by hand, A00009 has no decision maker
    shown = invoke("explain", "customers.csv", "A00002", *given)
    assert ("Account tier: Key account — Tier overridden by Linda Wang: Framework agreement signed (until "
            "2027-03-31); the rules said: Standard account") in lines(shown.stdout)
    # the warnings evaluate gives of the file, on stderr: the expired override
    assert flat(shown.stderr) == (
        "warning: overrides.csv: row 4, column 'expires': the override of tier for account 'A00004' ended on "
        "2026-09-30, before this review (2026-11-27): ignored — the rules decide; renew the date or remove the row")
    assert "No decision maker known at a key account" in invoke("explain", "customers.csv", "A00009", *given).stdout


def test_explain_checks_the_overrides_and_contacts_as_evaluate_does():
    Path("overrides.csv").write_text(HEADER + "A00002,tier,gold,Framework,Linda Wang,2027-03-31\n", encoding="utf-8")
    Path("contacts.csv").write_text(CONTACTS + "A99999,Someone,,champion,,,,\n", encoding="utf-8")
    shutil.copy(EXAMPLES / "customers.csv", "customers.csv")
    refused = invoke("explain", "customers.csv", "A00002", "--as-of", "2026-11-27", "--overrides", "overrides.csv",
                     expect=1)
    assert refused.output == invoke("evaluate", "customers.csv", "--as-of", "2026-11-27", "--out", "x", "-q",
                                    "--overrides", "overrides.csv", expect=1).output
    assert "'gold'" in refused.output and "key" in refused.output
    refused = invoke("explain", "customers.csv", "A00002", "--as-of", "2026-11-27", "--contacts", "contacts.csv",
                     expect=1)
    assert refused.output == invoke("evaluate", "customers.csv", "--as-of", "2026-11-27", "--out", "x", "-q",
                                    "--contacts", "contacts.csv", expect=1).output
    assert "A99999" in refused.output
    Path("contacts.csv").write_text(CONTACTS, encoding="utf-8")
    evaluate("customers.csv", "2026-11-27", "--out", "out", "--contacts", "contacts.csv")
    result = invoke("explain", "--run", "out", "A00002", "--contacts", "contacts.csv", expect=2)
    assert flat(result.output) == ("error: --run explains the run with the overrides and contacts it read: leave "
                                   "out --overrides and --contacts")


# --------------------------------------------------------------------- overrides ready to retire: diff, --previous

RETIRE = HEADER + ("A00001,tier,key,Keep it key,赵磊,2027-03-31\n"
                   "A00002,tier,key,Framework signed,Linda Wang,2027-03-31\n")


def test_overrides_ready_to_retire_are_listed_by_previous_and_by_diff():
    Path("overrides.csv").write_text(RETIRE, encoding="utf-8")
    evaluate(customers("customers-q3.csv"), "2026-08-28", "--out", "q3")
    result = invoke("evaluate", customers(), "--as-of", "2026-11-27", "--playbooks", "none", "--out", "q4",
                    "--previous", "q3", "--overrides", "overrides.csv")
    line = ("overrides ready to retire (the rules decide the same now: remove the row) (1): A00001 "
            "上海宏远建筑工程有限公司 (Tier: Key account · 赵磊)")
    assert line in flat(result.output)
    report = Path("q4/report.html").read_text(encoding="utf-8")
    since = report[report.index('<section id="since-last-review">'):]
    assert ('<h3>Overrides ready to retire (1)</h3>' in since and
            '<td>Tier: Key account<br><span class="muted small">Keep it key</span></td><td>赵磊</td>'
            '<td>2027-03-31</td>' in since)
    result = invoke("diff", "q3", "q4", "--out", "d")
    assert line in flat(result.output)
    page = Path("d/diff.html").read_text(encoding="utf-8")
    assert '<h2>Overrides ready to retire (1)</h2>' in page and '<span class="muted small">A00001</span>' in page
    result = invoke("diff", "q3", "q4", "--out", "dz", "--lang", "zh")
    assert "可撤销的人工调整（规则结果已相同：请删除此行） (1)：A00001 上海宏远建筑工程有限公司（客户级别：重点客户，赵磊）" in \
        flat(result.output)
    # a later run without overrides has none to retire
    assert "ready to retire" not in flat(invoke("diff", "q4", "q3", "--out", "back").output)


# ------------------------------------------------------------------------- task_status with --previous REGISTER


def test_task_status_against_a_register_is_the_same_as_against_the_run_folder():
    evaluate(customers("customers-q3.csv"), "2026-08-28", "--out", "q3", "--register", "reviews.db")
    evaluate(customers(), "2026-11-27", "--out", "by-folder", "--previous", "q3")
    evaluate(customers(), "2026-11-27", "--out", "by-register", "--previous", "reviews.db")
    folder, register = rows("by-folder/actions.csv"), rows("by-register/actions.csv")
    assert register == folder  # new, open and resolved alike, with the same ids, names and managers
    statuses = [r["task_status"] for r in register]
    assert (statuses.count("new"), statuses.count("open"), statuses.count("resolved")) == (25, 572, 75)
    resolved = next(r for r in register if r["task_status"] == "resolved")
    assert (resolved["account_id"], resolved["account_name"], resolved["account_manager"], resolved["action"],
            resolved["action_title"], resolved["task_id"], resolved["priority"]) == (
        "A00001", "上海宏远建筑工程有限公司", "赵磊", "complaint_recovery", "Complaint recovery", "kt-a9558a211a0e07f2", "")
    report = Path("by-register/report.html").read_text(encoding="utf-8")
    assert ('<h3>Tasks since the last review (reviews.db)</h3>\n'
            '  <p class="tasks">new: 25 · still open: 572 · resolved: 75</p>') in report
    evaluate(customers(), "2026-11-27", "--out", "zh", "--previous", "reviews.db", "--lang", "zh")
    assert [r["task_status"] for r in rows("zh/actions.csv")] == statuses
    report = Path("zh/report.html").read_text(encoding="utf-8")
    assert ('<h3>上次回顾以来的任务（reviews.db）</h3>\n'
            '  <p class="tasks">新增：25 · 仍未完成：572 · 已解决：75</p>') in report


# ------------------------------------------------------------------------ the report PDF's review-cycle section


def pdf_text(path: str) -> list[str]:
    import pypdf

    reader = pypdf.PdfReader(path)
    return [line for page in reader.pages for line in page.extract_text().splitlines()]


def section(text: list[str], heading: str, end: str) -> list[str]:
    start = text.index(heading)
    return text[start:start + next(i for i, line in enumerate(text[start:]) if line.startswith(end))]


def test_the_report_pdf_has_the_review_cycle_section():
    Path("overrides.csv").write_text(RETIRE, encoding="utf-8")
    evaluate(customers("customers-q3.csv"), "2026-08-28", "--out", "q3")
    evaluate(customers(), "2026-11-27", "--out", "q4", "--previous", "q3", "--overrides", "overrides.csv", "--pdf")
    found = section(pdf_text("q4/report.pdf"), "Review cycle", "Key account portfolio report ·")
    assert found == [
        "Review cycle", "Set by hand (2)", "Account Decision Set to The rules said By Reason Until",
        "上海宏远建筑工程有限公司", "A00001", "Tier Key account Key account 赵磊 Keep it key 31 Mar 2027",
        "佛山理工大学", "A00002", "Tier Key account Standard account Linda Wang Framework signed 31 Mar 2027",
        "Ready to retire (the rules now decide the same): remove these rows from the overrides file (1)",
        "• 上海宏远建筑工程有限公司 (A00001): Tier = Key account — overridden by 赵磊: Keep it key (until 2027-03-31)",
        "Tasks since the last review (q3)", "new: 32 · still open: 572 · resolved: 75",
        "Objectives of the last review (28 Aug 2026, q3)", "achieved: 0 · on track: 0 · behind: 0 · not measured: 0",
    ]
    evaluate(customers(), "2026-11-27", "--out", "zh", "--previous", "q3", "--overrides", "overrides.csv", "--pdf",
             "--lang", "zh")
    text = pdf_text("zh/report.pdf")
    assert text[text.index("回顾周期"):text.index("回顾周期") + 2] == ["回顾周期", "人工调整 (2)"]
    assert "上次回顾以来的任务（q3）" in "\n".join(text)


# ------------------------------------------------------------------ the review diff's words: demoted, held, lost


def quarters() -> None:
    """Three reviews of the example: in Q4 key account A00129 and three others fall below the key line
    and are held, A00020 (448,455 at Q3) buys nothing; in Q1 the held four are demoted, A00012 buys
    nothing too (lost since the last review) and A00020 stays lost (known at the last review)."""
    import pandas as pd

    frame = pd.read_csv(EXAMPLES / "customers.csv", dtype=str, keep_default_na=False)
    frame.loc[frame["account_id"] == "A00020", "sales"] = "0"
    frame.to_csv("c4.csv", index=False)
    frame.loc[frame["account_id"] == "A00012", "sales"] = "0"
    frame.to_csv("c5.csv", index=False)
    evaluate(customers("customers-q3.csv"), "2026-08-28", "--out", "q3")


def test_the_review_diff_says_demoted_held_and_lost_apart():
    quarters()
    q4 = flat(invoke("evaluate", "c4.csv", "--as-of", "2026-11-27", "--out", "q4", "--previous", "q3",
                     "--playbooks", "none").output)
    assert ("Key accounts 32 → 31: 1 key account gone; 1 customer lost since the last review: "
            "武汉瑞丰汽车零部件有限公司 (448,455); 3 accounts gone: 4,335,104, 1.9% of last review's sales") in q4
    assert "lost since the last review (1): A00020 武汉瑞丰汽车零部件有限公司 (448,455)" in q4
    assert ("held — review before demotion (4): A00129 宜昌汇丰源电器连锁有限公司, A00151 绵阳恒达能源集团有限公司, "
            "A00231 烟台万通电器连锁有限公司, A00298 郑州天成供应链管理有限公司") in q4
    assert "demoted this review" not in q4 and "newly at risk" not in q4
    q5 = flat(invoke("evaluate", "c5.csv", "--as-of", "2027-02-26", "--out", "q5", "--previous", "q4",
                     "--playbooks", "none").output)
    assert ("Key accounts 31 → 32: 4 key accounts demoted (no longer key); 1 customer lost since the last review: "
            "济南正泰精密机械有限公司 (7,584); no account gone") in q5
    assert ("lost since the last review (1): A00012 济南正泰精密机械有限公司 (7,584) "
            "lost already at the last review (1): A00020 武汉瑞丰汽车零部件有限公司 "
            "demoted this review (4): A00129 宜昌汇丰源电器连锁有限公司, A00231 烟台万通电器连锁有限公司, "
            "A00298 郑州天成供应链管理有限公司, A00151 绵阳恒达能源集团有限公司 newly at risk (159):") in q5
    assert "held — review before demotion" not in q5 and " lost (" not in q5.split("; ")[0]
    report = Path("q5/report.html").read_text(encoding="utf-8")
    since = report[report.index('<section id="since-last-review">'):report.index("</section>",
                                                                                  report.index('<section id="since-last-review">'))]
    assert re.findall(r"<h3>([^<]*)</h3>", since)[:4] == [
        "Lost since the last review (1)", "Lost already at the last review (1)", "Demoted this review (4)",
        "Tier changes (10)"]
    assert "<td>7,584</td><td>Lost — bought before, nothing now</td>" in since
    assert ("Key account at the last review, no longer key now: demoted this review, its service changed in "
            "this run; hand over the plan with the account manager.") in since
    zh = flat(invoke("evaluate", "c5.csv", "--as-of", "2027-02-26", "--out", "q5z", "--previous", "q4",
                     "--playbooks", "none", "--lang", "zh").output)
    assert ("重点客户 31 → 32：4 个重点客户降级（不再是重点客户）；上次回顾以来流失 1 个客户：济南正泰精密机械有限公司（7,584）；"
            "没有客户离开名单") in zh
    assert "上次回顾以来流失 (1)：A00012 济南正泰精密机械有限公司（7,584） 上次回顾时已流失 (1)：A00020 武汉瑞丰汽车零部件有限公司 " \
           "本次降级 (4)：A00129" in zh
    compared = flat(invoke("diff", "q4", "q5", "--out", "d").output)
    assert ("Key accounts 31 → 32: 4 key accounts demoted (no longer key); 1 customer lost since the last review: "
            "济南正泰精密机械有限公司 (7,584); no account gone") in compared
    page = Path("d/diff.html").read_text(encoding="utf-8")
    assert [line for line in page.splitlines() if line.startswith("  <h2>")][:4] == [
        "  <h2>Lost since the last review (1)</h2>", "  <h2>Lost already at the last review (1)</h2>",
        "  <h2>Demoted this review (4)</h2>", "  <h2>Newly at risk (159)</h2>"]
    compared = flat(invoke("diff", "q3", "q4", "--out", "d4", "--lang", "zh").output)
    assert "保留为重点客户——降级前需复核 (4)：A00129 宜昌汇丰源电器连锁有限公司" in compared


# ------------------------------------------------------------------- the console names the customers lost


def test_the_console_names_the_customers_lost_without_previous():
    with open(EXAMPLES / "customers.csv", encoding="utf-8", newline="") as handle:
        table = list(csv.DictReader(handle))
    for row in table[40:47]:  # seven customers who bought last year and nothing now
        row.update(sales="0", gross_profit="0", last_order="2025-06-30")
    with open("lost.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)
    result = invoke("evaluate", "lost.csv", "--as-of", "2026-11-27", "--playbooks", "none", "--out", "out")
    assert ("7 customers lost (bought before, nothing now): 30,740,189 of prior sales — 13.9% of the prior period's "
            "221,326,161: 东莞同创能源集团有限公司 (29,786,368), 吴志强（个人） (543,736), 郑州创新家居广场 (309,733), "
            "成都市教育局采购中心 (48,476), 苏州立信便利店连锁 (44,481) and 2 more. Alert — review them first, largest "
            "first (the report lists them).") in flat(result.output)
    result = invoke("evaluate", "lost.csv", "--as-of", "2026-11-27", "--playbooks", "none", "--out", "zh",
                    "--lang", "zh")
    assert ("已流失客户7个（前期有采购、本期为零）：前期销售额3,074.02万，占前期销售额2.21亿的13.9%：东莞同创能源集团有限公司"
            "（2,978.64万）、吴志强（个人）（54.37万）、郑州创新家居广场（30.97万）、成都市教育局采购中心（4.85万）、"
            "苏州立信便利店连锁（4.45万）及另外2个。预警——请在回顾中优先处理，按金额从大到小（见报告清单）。") in \
        "".join(result.output.split())
