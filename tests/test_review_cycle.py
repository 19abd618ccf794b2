"""The review cycle (issue #26; kamrules/review, docs/review-cycle.md): overrides, tasks, contacts and
the bad input of each file, end to end through `kamrules evaluate`."""

from __future__ import annotations

import csv
from pathlib import Path

from typer.testing import CliRunner

from kamrules.cli import app
from conftest import ROOT

runner = CliRunner()
DATA = str(ROOT / "examples" / "customers.csv")
AS_OF = ("--as-of", "2026-11-27")
HEADER = "account,output,value,reason,owner,expires\n"


def evaluate(*args: str, expect: int = 0):
    result = runner.invoke(app, ["evaluate", DATA, *AS_OF, *args], catch_exceptions=False)
    assert result.exit_code == expect, result.output
    return result


def rows(path: str) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def write(name: str, text: str, encoding: str = "utf-8") -> str:
    Path(name).write_bytes(text.encode(encoding))
    return name


# ---------------------------------------------------------------------------------------------- overrides


def test_an_override_decides_and_the_decisions_that_read_it_follow():
    write("overrides.csv", HEADER + "A00002,tier,key,Framework agreement signed,Linda Wang,2027-03-31\n"
                                    "A00003,risk_level,at_risk,New CFO re-tenders,Sales director,2027-01-31\n")
    evaluate("--out", "plain", "--playbooks", "none", "-q")
    evaluate("--out", "out", "--playbooks", "none", "-q", "--overrides", "overrides.csv")
    before, after = rows("plain/decisions.csv"), rows("out/decisions.csv")
    assert (before[1]["tier"], before[1]["service_level"]) == ("standard", "standard")
    assert (after[1]["tier"], after[1]["tier_rule"], after[1]["service_level"]) == ("key", "override", "key")
    assert after[1]["tier_by_rules"] == "standard"
    assert after[1]["tier_override"] == "Linda Wang: Framework agreement signed (until 2027-03-31)"
    assert (after[2]["risk_level"], after[2]["risk_rule"], after[2]["risk_level_by_rules"]) == ("at_risk", "override",
                                                                                               "none")
    assert after[2]["risk_level_override"] == "Sales director: New CFO re-tenders (until 2027-01-31)"
    # every other account is decided as the rules decide it
    columns = [c for c in before[0] if c in after[0]]
    assert [[r[c] for c in columns] for i, r in enumerate(after) if i not in (1, 2)] == \
           [[r[c] for c in columns] for i, r in enumerate(before) if i not in (1, 2)]
    assert after[0]["tier_by_rules"] == "" and after[0]["tier_override"] == ""


def test_an_override_is_shown_beside_what_the_rules_said_in_the_playbook(tmp_path):
    write("overrides.yaml", "overrides:\n  - account: A00002\n    output: tier\n    value: Key account\n"
                            "    reason: Framework <b>agreement</b>\n    owner: Linda Wang\n    expires: 2027-03-31\n")
    evaluate("--out", "out", "--playbooks", "key", "-q", "--overrides", "overrides.yaml")
    md = next(Path("out/playbooks").glob("a00002-*.md")).read_text(encoding="utf-8")
    assert ("- **Key account**: Tier overridden by Linda Wang: Framework \\<b\\>agreement\\</b\\> (until 2027-03-31); "
            "the rules said: Standard account") in md
    html = next(Path("out/playbooks").glob("a00002-*.html")).read_text(encoding="utf-8")
    assert "Framework &lt;b&gt;agreement&lt;/b&gt;" in html and "<b>agreement" not in html


def test_an_override_in_chinese():
    write("调整.csv", "客户编码,调整项,调整为,原因,负责人,有效期至\nA00002,tier,重点客户,框架协议已签,王琳,2027-03-31\n",
          encoding="gbk")
    evaluate("--out", "out", "--playbooks", "key", "-q", "--lang", "zh", "--overrides", "调整.csv")
    after = rows("out/decisions.csv")
    assert (after[1]["tier"], after[1]["tier_override"]) == ("key", "王琳：框架协议已签（有效期至 2027-03-31）")
    md = next(Path("out/playbooks").glob("a00002-*.md")).read_text(encoding="utf-8")
    assert "- **重点客户**：客户级别由王琳人工调整：框架协议已签（有效期至 2027-03-31）；规则结果：普通客户\n" in md


def test_an_expired_override_is_ignored_with_a_warning():
    write("overrides.csv", HEADER + "A00002,tier,key,Old,Linda Wang,2026-09-30\n")
    result = evaluate("--out", "out", "--playbooks", "none", "--overrides", "overrides.csv")
    assert ("warning: overrides.csv: row 2, column 'expires': the override of tier for account 'A00002' ended on "
            "2026-09-30, before this review (2026-11-27): ignored — the rules decide; renew the date or remove "
            "the row") in " ".join(result.output.split())
    assert rows("out/decisions.csv")[1]["tier"] == "standard"


BAD = HEADER + ("A00002,tier,gold,Because,Linda Wang,2027-03-31\n"
                "A99999,tier,key,Because,Linda Wang,2027-03-31\n"
                "A00003,teir,key,Because,Linda Wang,2027-03-31\n"
                "A00004,action,call,Because,Linda Wang,2027-03-31\n"
                "A00006,tier,key,Because,Linda Wang,2027-03-31\n"
                "A00006,tier,potential,Again,Linda Wang,2027-03-31\n")
OUTPUTS = ("abc_class, abc_basis, tier, tier_basis, relationship, service_level, response_critical_hours, "
           "response_normal_hours, review_cadence, review_every_days, account_manager_model, executive_sponsor, "
           "supply_priority, risk_level, risk_stake_share, next_review_days, planned, growth_paused")
VALUES = "key, over_capacity, potential, vip, flag_review, standard"


def test_bad_override_rows_are_each_named_and_nothing_is_written():
    write("overrides.csv", BAD)
    result = evaluate("--out", "out", "--overrides", "overrides.csv", "-q", expect=1)
    assert result.output.splitlines() == [
        "error:",
        "overrides.csv: 5 problems; fix these rows:",
        "  overrides.csv: row 3, column 'account': account 'A99999' is not in customers.csv; fix the id, or remove "
        "the row if the account is gone",
        f"  overrides.csv: row 2, column 'value': 'gold' cannot be set for tier: the pack's values are: {VALUES}",
        "  overrides.csv: row 4, column 'output': the pack has no output 'teir' (did you mean 'tier'?); the outputs "
        f"that can be overridden are: {OUTPUTS}",
        "  overrides.csv: row 5, column 'output': 'action' is a list the rules collect (decision 'actions') and "
        "cannot be set by hand; override the decision it follows from (e.g. tier or risk_level)",
        "  overrides.csv: row 7: account 'A00006' has tier overridden already (row 6); keep one row",
    ]
    assert not Path("out").exists()


def test_bad_override_rows_in_chinese():
    write("overrides.csv", BAD)
    result = evaluate("--out", "out", "--overrides", "overrides.csv", "-q", "--lang", "zh", expect=1)
    assert result.output.splitlines() == [
        "错误：",
        "overrides.csv：有 5 处问题；请修正以下各行：",
        "  overrides.csv：第 3 行，列“account”：客户“A99999”不在 customers.csv 中；请修正编码，若该客户已不存在请删除此行",
        f"  overrides.csv：第 2 行，列“value”：tier 不能设为“gold”：规则包的取值为：{VALUES}",
        f"  overrides.csv：第 4 行，列“output”：规则包中没有输出“teir”（是否指“tier”？）；可人工调整的输出有：{OUTPUTS}",
        "  overrides.csv：第 5 行，列“output”：“action”是规则汇总的列表（决策“actions”），不能人工设定；"
        "请调整其所依据的决策（如 tier 或 risk_level）",
        "  overrides.csv：第 7 行：客户“A00006”的 tier 已有人工调整（第 6 行）；请只保留一行",
    ]


def test_an_unreadable_override_date_and_a_missing_reason_are_named():
    write("overrides.csv", HEADER + "A00005,tier,key,Because,Linda Wang,2027-13-45\nA00007,tier,key,,Linda Wang,2027-03-31\n")
    result = evaluate("--out", "out", "--overrides", "overrides.csv", "-q", expect=1)
    assert result.output.splitlines() == [
        "error:",
        "overrides.csv: 2 values cannot be read; fix the cells:",
        "  row 2, column 'expires' (field expires): '2027-13-45' is not a valid calendar date",
        "  row 3, column 'reason' (field reason): value is missing but the field is required",
    ]


def test_a_yaml_override_with_an_unknown_key_names_its_line():
    write("overrides.yaml", "- account: A00002\n  output: tier\n  value: key\n  reason: r\n  owner: o\n"
                            "  expires: 2027-03-31\n  expiry_note: x\n")
    result = evaluate("--out", "out", "--overrides", "overrides.yaml", "-q", expect=1)
    assert result.output.splitlines() == [
        "error: overrides.yaml: line 7: unknown column 'expiry_note' (did you mean 'expires'?); the columns are: "
        "account, output, value, reason, owner, expires",
    ]


# ------------------------------------------------------------------------------------------------- tasks


def test_task_ids_are_stable_and_follow_the_documented_hash():
    import hashlib

    from kamrules.results.actions import task_id

    assert task_id("A00001", "account_plan") == "kt-786b7abff55bf5e3"
    digest = hashlib.sha256("客户1\x1fexecutive_visit".encode("utf-8")).hexdigest()[:16]
    assert task_id("客户1", "executive_visit") == f"kt-{digest}"
    assert task_id("A1", "b") != task_id("A1b", "")  # the separator keeps the parts apart


def test_task_priorities_follow_risk_and_tier():
    import numpy as np

    from kamrules.results.actions import priorities

    tiers = np.array(["standard", "key", "standard", "potential", "standard", "vip", "standard"], dtype=object)
    risks = np.array(["critical", "at_risk", "at_risk", "none", "none", "watch", None], dtype=object)
    assert priorities(tiers, risks).tolist() == ["high", "high", "medium", "medium", "low", "medium", "low"]


def test_tasks_are_new_open_or_resolved_against_the_last_review():
    evaluate_q3 = runner.invoke(app, ["evaluate", str(ROOT / "examples" / "customers-q3.csv"), "--as-of", "2026-08-28",
                                      "--out", "q3", "--playbooks", "none", "-q"], catch_exceptions=False)
    assert evaluate_q3.exit_code == 0, evaluate_q3.output
    evaluate("--out", "q4", "--playbooks", "none", "-q", "--previous", "q3")
    before, after = rows("q3/actions.csv"), rows("q4/actions.csv")
    assert "task_status" not in before[0]
    assert list(after[0])[-4:] == ["task_id", "priority", "money_at_stake", "task_status"]
    earlier = {(r["account_id"], r["action"]): r["task_id"] for r in before}
    current = [r for r in after if r["task_status"] != "resolved"]
    resolved = [r for r in after if r["task_status"] == "resolved"]
    assert after[:len(current)] == current  # the resolved ones follow
    for row in current:
        assert row["task_status"] == ("open" if (row["account_id"], row["action"]) in earlier else "new")
        assert row["priority"] in ("high", "medium", "low") and float(row["money_at_stake"]) >= 0
    now = {(r["account_id"], r["action"]) for r in current}
    assert {(r["account_id"], r["action"]) for r in resolved} == set(earlier) - now
    assert resolved and all(r["task_id"] == earlier[(r["account_id"], r["action"])] for r in resolved)
    assert all(r["action_due_date"] == "" and r["priority"] == "" and r["action_title"] for r in resolved)
    assert {r["task_status"] for r in current} == {"new", "open"}
    # the same task keeps its id from one review to the next
    assert all(r["task_id"] == earlier[(r["account_id"], r["action"])] for r in current if r["task_status"] == "open")


# ---------------------------------------------------------------------------------------- contacts, notes

CONTACTS = ("account,name,title,role,attitude,last_contact,owner,status\n"
            "A00001,Wang Jun,Procurement director,decision_maker,neutral,2026-10-12,赵磊,active\n"
            "A00001,<script>Li Na</script>,Site manager,champion,positive,2026-11-20,赵磊,\n"
            "A00001,Chen Hao,Former CFO,决策者,消极,2026-03-02,Sales director,已离职\n")
NOTES = ("account,section,text,author,date\n"
         "A00001,goals,Win the 2027 metro-line tenders,赵磊,2026-11-20\n"
         "A00001,竞争对手,Local supplier | 8% cheaper,赵磊,\n"
         "A00001,strengths,Only certified supplier,,\n")


def playbook(ext: str) -> str:
    return next(Path("out/playbooks").glob(f"a00001-*.{ext}")).read_text(encoding="utf-8")


def test_contacts_fill_the_contact_map_and_notes_the_sections():
    write("contacts.csv", CONTACTS)
    write("notes.csv", NOTES)
    evaluate("--out", "out", "--playbooks", "key", "-q", "--contacts", "contacts.csv", "--notes", "notes.csv")
    md = playbook("md")
    assert ("| Name | Role / title | Part in the decision | Attitude to us | Last contact |\n"
            "|---|---|---|---|---|\n"
            "| 赵磊 | Account manager (ours) |  |  |  |\n"
            "| Wang Jun | Procurement director | Decision maker | Neutral; our owner: 赵磊 | 2026-10-12 |\n"
            "| \\<script\\>Li Na\\</script\\> | Site manager | Champion | Positive; our owner: 赵磊 | 2026-11-20 |\n"
            "| Chen Hao (left) | Former CFO | Decision maker | Negative; our owner: Sales director | 2026-03-02 |\n") in md
    assert "| Only certified supplier |\n| **Weaknesses** |" in md
    assert ("## Notes from the team\n\n**Customer goals**\n\n- Win the 2027 metro-line tenders — 赵磊, 20 Nov 2026\n\n"
            "**Competitors**\n\n- Local supplier \\| 8% cheaper — 赵磊\n") in md
    html = playbook("html")
    assert "&lt;script&gt;Li Na&lt;/script&gt;" in html and "<script>Li Na" not in html
    assert "<h3>Customer goals</h3>" in html


def test_contacts_and_notes_in_chinese():
    write("contacts.csv", CONTACTS)
    write("notes.csv", NOTES)
    evaluate("--out", "out", "--playbooks", "key", "-q", "--lang", "zh", "--contacts", "contacts.csv",
             "--notes", "notes.csv")
    md = playbook("md")
    assert "| Chen Hao（已离职） | Former CFO | 决策者 | 消极；我方对接人：Sales director | 2026-03-02 |" in md
    assert "## 团队备注\n\n**客户目标**\n\n" in md


def test_without_contacts_the_contact_map_keeps_its_blank_rows():
    evaluate("--out", "out", "--playbooks", "key", "-q")
    assert "| 赵磊 | Account manager (ours) |  |  |  |\n|  |  |  |  |  |\n" in playbook("md")
    assert "Notes from the team" not in playbook("md")


def test_bad_contacts_and_notes_are_refused_naming_each_row():
    write("contacts.csv", "account,name,title,role,attitude,last_contact,owner,status\n"
                          "A00001,Wang Jun,Director,decision maker,neutral,2026-10-12,赵磊,active\n"
                          "A99999,Li Na,,champion,,2026-11-20,,\n"
                          "A00001,wang jun,,,,2026-12-20,,\n")
    result = evaluate("--out", "out", "-q", "--contacts", "contacts.csv", expect=1)
    assert result.output.splitlines() == [
        "error:",
        "contacts.csv: 3 problems; fix these rows:",
        "  contacts.csv: row 3, column 'account': account 'A99999' is not in customers.csv; fix the id, or remove "
        "the row if the account is gone",
        "  contacts.csv: row 4, column 'last_contact': 2026-12-20 is after this review (2026-11-27); write the date "
        "of the last contact so far",
        "  contacts.csv: row 4: 'wang jun' is listed for account 'A00001' already (row 2); keep one row per person",
    ]
    write("notes.csv", "account,section,text\nA00001,goal,Win tenders\n")
    result = evaluate("--out", "out", "-q", "--notes", "notes.csv", "--lang", "zh", expect=1)
    assert result.output.splitlines() == [
        "错误：notes.csv：第 2 行，列“section”：“goal”不是以下取值之一：goals, competitors, value_proposition, "
        "next_steps, strengths, weaknesses, opportunities, threats, other"]
    write("notes.csv", "account,section,text\nA00001,goals,Win tenders\nA00001,goals,Win  tenders\n")
    result = evaluate("--out", "out", "-q", "--notes", "notes.csv", expect=1)
    assert result.output.splitlines() == [
        "error: notes.csv: row 3: the same goals note for account 'A00001' is written already (row 2); remove one"]
    assert not Path("out").exists()


def test_a_gbk_contacts_file_with_chinese_headers():
    write("联系人.csv", "客户编码,姓名,职务,决策角色,对我方态度,最近联系,我方对接人,状态\n"
                       "A00001,王军,采购总监,决策人,中立,2026/10/12,赵磊,在职\n", encoding="gbk")
    evaluate("--out", "out", "--playbooks", "key", "-q", "--lang", "zh", "--contacts", "联系人.csv")
    assert "| 王军 | 采购总监 | 决策者 | 中立；我方对接人：赵磊 | 2026-10-12 |" in playbook("md")


def test_stakeholder_facts_reach_the_rules_of_a_pack_that_declares_them():
    import shutil

    basic = ROOT / "tests" / "projects" / "basic"
    shutil.copytree(basic / "rules", "pack")
    Path("pack/30-stakeholders.yaml").write_text(
        "fields:\n"
        "  decision_maker_known: {type: boolean}\n"
        "  days_since_decision_maker_contact: {type: number}\n"
        "  decision_maker: {type: string}\n"
        "decisions:\n"
        "  stakeholders:\n"
        "    hit: first\n"
        "    outputs: {stakeholder_gap: {type: category, values: [no_decision_maker, stale, none]}}\n"
        "    rules:\n"
        "      - id: unknown\n"
        "        when: not decision_maker_known\n"
        "        then: {stakeholder_gap: no_decision_maker}\n"
        "      - id: stale\n"
        "        when: days_since_decision_maker_contact > 90\n"
        "        then: {stakeholder_gap: stale}\n"
        "        because: {en: 'Last met {decision_maker} {days_since_decision_maker_contact} days ago', "
        "zh: '{decision_maker}'}\n"
        "    default: {stakeholder_gap: none}\n", encoding="utf-8")
    write("contacts.yaml", "- {account: '00042', name: Wang Jun, title: CFO, role: decision_maker, "
                           "last_contact: 2026-06-01}\n"
                           "- {account: '00007', name: Li Na, role: decision_maker, last_contact: 2026-11-01}\n"
                           "- {account: '00007', name: Zhao, role: champion, status: left}\n")
    result = runner.invoke(app, ["evaluate", str(basic / "customers.csv"), "--rules", "pack", *AS_OF, "--out", "out",
                                 "--playbooks", "none", "-q", "--contacts", "contacts.yaml"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    table = rows("out/decisions.csv")
    assert [r["stakeholder_gap"] for r in table] == ["stale", "none", "no_decision_maker", "no_decision_maker"]
    trace = Path("out/trace.jsonl").read_text(encoding="utf-8")
    assert '"stale"' in trace


def test_without_contacts_the_console_does_not_say_the_file_lacks_the_stakeholder_facts():
    import shutil

    basic = ROOT / "tests" / "projects" / "basic"
    shutil.copytree(basic / "rules", "pack")
    Path("pack/30-stakeholders.yaml").write_text(
        "fields:\n  decision_maker_known: {type: boolean}\n"
        "decisions:\n  stakeholders:\n    hit: first\n"
        "    outputs: {stakeholder_gap: {type: category, values: [no_decision_maker, none]}}\n"
        "    rules:\n      - id: unknown\n        when: not decision_maker_known\n"
        "        then: {stakeholder_gap: no_decision_maker}\n    default: {stakeholder_gap: none}\n", encoding="utf-8")
    result = runner.invoke(app, ["evaluate", str(basic / "customers.csv"), "--rules", "pack", *AS_OF, "--out", "out",
                                 "--playbooks", "none"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "decision_maker_known" not in result.output and "has no column" not in result.output
    assert [r["stakeholder_gap"] for r in rows("out/decisions.csv")] == ["none"] * 4  # missing: the rule does not fire


def test_an_override_the_rules_now_agree_with_is_ready_to_retire():
    write("overrides.csv", HEADER + "A00001,tier,key,Keep it key,赵磊,2027-03-31\n")
    result = evaluate("--out", "out", "--playbooks", "none", "--overrides", "overrides.csv")
    assert ("warning: overrides.csv: the override of tier for account 'A00001' (Key account) is what the rules "
            "decide now: ready to retire — remove the row") in " ".join(result.output.split())
    result = evaluate("--out", "zh", "--playbooks", "none", "--overrides", "overrides.csv", "--lang", "zh")
    assert "警告：overrides.csv：客户“A00001”的tier人工调整（重点客户）已与规则结果一致：可以撤销——请删除此行" in \
        "".join(result.output.split())
    assert rows("out/decisions.csv")[0]["tier_rule"] == "override"
