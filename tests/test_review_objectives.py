"""Objectives with progress and the report's review-cycle section (issue #26 items 4 and 2;
docs/review-cycle.md), end to end through `kamrules evaluate` on the example's two quarters."""

from __future__ import annotations

import csv
import html
import re
from pathlib import Path

from typer.testing import CliRunner

from kamrules.cli import app
from conftest import ROOT

runner = CliRunner()
Q3 = str(ROOT / "examples" / "customers-q3.csv")
Q4 = str(ROOT / "examples" / "customers.csv")


def evaluate(data: str, as_of: str, *args: str, expect: int = 0):
    result = runner.invoke(app, ["evaluate", data, "--as-of", as_of, "-q", *args], catch_exceptions=False)
    assert result.exit_code == expect, result.output
    return result


def quarter(out: str, *args: str):
    return evaluate(Q3, "2026-08-28", "--out", out, *args)


def rows(path: str) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def section(text: str, start: str) -> list[str]:
    """The lines of a Markdown playbook from the heading `start` up to the next heading of level 2."""
    lines = text.splitlines()
    first = lines.index(start)
    end = next(i for i in range(first + 1, len(lines)) if lines[i].startswith("## "))
    return [line for line in lines[first:end] if line]


def report_section(path: str) -> list[str]:
    """The report's review-cycle section as plain text lines."""
    text = Path(path).read_text(encoding="utf-8")
    start = text.index('<section id="review-cycle">')
    body = text[start:text.index("</section>", start)]
    lines = (re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", line))).strip() for line in body.splitlines())
    return [line for line in lines if line]


def test_a_run_writes_the_objectives_its_playbooks_set_the_same_bytes_in_every_language():
    quarter("q3")
    quarter("q3zh", "--lang", "zh")
    text = Path("q3/objectives.csv").read_bytes()
    assert text == Path("q3zh/objectives.csv").read_bytes()
    found = rows("q3/objectives.csv")
    assert len(found) == 73
    assert list(found[0]) == ["account_id", "objective", "metric", "baseline", "target", "set_on", "due"]
    assert text.decode("utf-8-sig").splitlines()[:3] == [
        "account_id,objective,metric,baseline,target,set_on,due",
        "A00001,recover_sales,sales,3829319.1,5666950.88,2026-08-28,2027-08-28",
        "A00007,raise_share_of_wallet,share_of_wallet,0.46,0.61,2026-08-28,2027-08-28"]
    # only the accounts with a playbook set objectives: none without playbooks (the header alone)
    quarter("none", "--playbooks", "none")
    assert Path("none/objectives.csv").read_text(encoding="utf-8-sig") == \
        "account_id,objective,metric,baseline,target,set_on,due\n"


def test_the_last_reviews_objectives_are_measured_in_the_playbook_in_english():
    quarter("q3")
    evaluate(Q4, "2026-11-27", "--out", "q4", "--previous", "q3")
    text = Path("q4/playbooks/a00001-上海宏远建筑工程有限公司.md").read_text(encoding="utf-8")
    assert section(text, "### Since the last review: objectives") == [
        "### Since the last review: objectives",
        "The objectives the last review set, measured now: on track means at least as far toward the target as "
        "the time gone by to the due date asks (25% so far).",
        "| Objective | Then | Target | Now | Due | Progress |",
        "|---|---|---|---|---|---|",
        "| Sales this period | 3,829,319 | 5,666,951 | 4,214,886 | 28 Aug 2027 | **behind** |"]
    statuses = {}
    for path in Path("q4/playbooks").glob("*.md"):
        for line in path.read_text(encoding="utf-8").splitlines():
            match = re.fullmatch(r"\| .+ \| \d{1,2} \w{3} 2027 \| \**([a-z ]+?)\** \|", line)
            if match:
                statuses[match.group(1)] = statuses.get(match.group(1), 0) + 1
    assert statuses == {"achieved": 16, "on track": 11, "behind": 41}


def test_the_last_reviews_objectives_are_measured_in_the_playbook_in_chinese():
    quarter("q3", "--lang", "zh")
    evaluate(Q4, "2026-11-27", "--out", "q4", "--previous", "q3", "--lang", "zh")
    text = Path("q4/playbooks/a00001-上海宏远建筑工程有限公司.md").read_text(encoding="utf-8")
    assert section(text, "### 上次回顾以来：目标进展") == [
        "### 上次回顾以来：目标进展",
        "上次回顾设定的目标，按本期数据衡量：“进展正常”指向目标推进的幅度不低于距完成日期已过时间的比例（目前为 25%）。",
        "| 目标 | 当时 | 目标值 | 现状 | 完成日期 | 进展 |",
        "|---|---|---|---|---|---|",
        "| 本期销售额 | 3,829,319 | 5,666,951 | 4,214,886 | 2027年8月28日 | **落后** |"]


def test_an_objective_is_achieved_on_track_or_not_measured_by_this_periods_facts():
    """The same account measured three ways: its sales cell edited in the fourth quarter's file."""
    quarter("q3")
    lines = Path(Q4).read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")

    def with_cell(account: str, column: str, value: str) -> str:
        position = header.index(column)
        edited = []
        for line in lines:
            if line.startswith(account + ","):
                cells = line.split(",")
                cells[position] = value
                line = ",".join(cells)
            edited.append(line)
        Path("q4.csv").write_text("\n".join(edited) + "\n", encoding="utf-8")
        return "q4.csv"

    for value, expected in (("5700000", "| Sales this period | 3,829,319 | 5,666,951 | 5,700,000 | 28 Aug 2027 | achieved |"),
                            ("4300000", "| Sales this period | 3,829,319 | 5,666,951 | 4,300,000 | 28 Aug 2027 | on track |")):
        evaluate(with_cell("A00001", "sales", value), "2026-11-27", "--out", "q4", "--previous", "q3", "--force")
        text = Path("q4/playbooks/a00001-上海宏远建筑工程有限公司.md").read_text(encoding="utf-8")
        assert section(text, "### Since the last review: objectives")[-1] == expected
    # the share of wallet unknown this period: not measured
    evaluate(with_cell("A00007", "share_of_wallet", ""), "2026-11-27", "--out", "q4", "--previous", "q3", "--force",
             "--playbooks", "all")
    text = Path("q4/playbooks/a00007-绵阳远航商贸有限公司.md").read_text(encoding="utf-8")
    assert section(text, "### Since the last review: objectives")[-1] == \
        "| Share of wallet | 46% | 61% | — | 28 Aug 2027 | not measured |"


def test_the_report_counts_the_objectives_and_lists_the_behind_ones_by_money():
    quarter("q3")
    evaluate(Q4, "2026-11-27", "--out", "q4", "--previous", "q3")
    found = report_section("q4/report.html")
    assert found[:6] == [
        "Review cycle",
        "Tasks since the last review (q3)",
        "new: 25 · still open: 572 · resolved: 75",
        "Objectives of the last review (28 Aug 2026, q3)",
        "achieved: 16 · on track: 11 · behind: 44 · not measured: 2",
        "Behind, largest accounts first (44)"]
    assert found[7:10] == [
        "温州中联微电子股份有限公司 A00189 18,562,858 Share of wallet 48% 63% 48% 28 Aug 2027",
        "沈阳嘉和建筑工程有限公司 A00163 6,540,904 Share of wallet 53% 68% 53% 28 Aug 2027",
        "上海宏远建筑工程有限公司 A00001 4,214,886 Sales this period 3,829,319 5,666,951 4,214,886 28 Aug 2027"]


def test_the_report_shows_overrides_contacts_and_notes_in_chinese():
    examples = ROOT / "examples"
    evaluate(Q4, "2026-11-27", "--out", "q4", "--lang", "zh", "--overrides", str(examples / "overrides.csv"),
             "--contacts", str(examples / "contacts.csv"), "--notes", str(examples / "notes.csv"))
    found = report_section("q4/report.html")
    assert found[:4] == ["回顾周期", "人工调整 (2)", "客户 决策项 调整为 规则结果 负责人 原因 有效期至",
                         "佛山理工大学 A00002 客户级别 重点客户 普通客户 Linda Wang "
                         "University framework agreement signed in October; volume ramps up in Q1 2027年3月31日"]
    assert found[-3:] == ["因已过有效期而忽略的人工调整：1", "2 个客户有联系人记录，其中 2 个已知决策者", "1 个客户有团队备注"]


def test_a_damaged_objectives_file_of_the_last_run_is_named_with_its_row():
    quarter("q3")
    path = Path("q3/objectives.csv")
    text = path.read_text(encoding="utf-8-sig").replace("A00001,recover_sales,sales,3829319.1,",
                                                        "A00001,recover_sales,sales,lots,")
    path.write_text(text, encoding="utf-8")
    result = evaluate(Q4, "2026-11-27", "--out", "q4", "--previous", "q3", expect=1)
    assert result.output == (
        "error: q3/objectives.csv: row 2: account_id='A00001', objective='recover_sales', metric='sales', "
        "baseline='lots', target='5666950.88', set_on='2026-08-28', due='2027-08-28': not an objective kamrules "
        "wrote (an id, an objective and a metric, two numbers, two dates YYYY-MM-DD); fix the row or run the "
        "earlier review again\n")
    assert not Path("q4").exists()


def test_the_report_lists_an_override_the_rules_now_agree_with_as_ready_to_retire():
    Path("agree.csv").write_text("account,output,value,reason,owner,expires\n"
                                 "A00001,tier,key,Strategic,Zhao Lei,2027-06-30\n", encoding="utf-8")
    evaluate(Q4, "2026-11-27", "--out", "q4", "--playbooks", "none", "--overrides", "agree.csv")
    assert report_section("q4/report.html")[-2:] == [
        "Ready to retire (the rules now decide the same): remove these rows from the overrides file (1)",
        "上海宏远建筑工程有限公司 (A00001): Tier = Key account — overridden by Zhao Lei: Strategic (until 2027-06-30)"]
