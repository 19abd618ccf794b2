"""The portfolio report: the SVG Pareto chart, tables, links to playbooks, self-contained and deterministic."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from kamrules.errors import TemplateError
from kamrules.engine.evaluate import evaluate
from kamrules.pack import load_pack
from kamrules.documents import playbook_links, render_playbooks
from kamrules.results.portfolio import summarise
from kamrules.documents.report import build_chart, render_report

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ROOT / "tests" / "projects" / "playbook"
AS_OF = dt.date(2026, 11, 27)


@pytest.fixture(scope="module")
def case():
    frame = pd.read_csv(PROJECT / "accounts.csv", dtype={"account_id": str})
    return evaluate(load_pack(PROJECT / "rules"), frame, as_of=AS_OF, input_name="accounts.csv")


def report(evaluation, lang="en", **options):
    links = playbook_links(render_playbooks(evaluation, selection="key+potential", lang=lang), evaluation)
    return render_report(evaluation, summarise(evaluation, lang=lang), lang=lang, playbook_links=links,
                         **options).decode("utf-8")


class Elements(HTMLParser):
    """Every start tag with its attributes, in order."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def all(self, tag, cls=None):
        return [a for t, a in self.tags if t == tag and (cls is None or cls in a.get("class", "").split())]


def test_chart_has_one_point_per_account_and_marks_key_accounts(case):
    html = report(case)
    page = Elements(html)
    points = page.all("circle", "pt")
    assert len(points) == len(case.accounts) == 12
    assert len(page.all("circle", "pt-key")) == 5
    assert len(page.all("line", "target")) == 1 and len(page.all("line", "split")) == 1
    assert len(page.all("polyline", "curve")) == 1
    # points run left to right and never go down (SVG y grows downwards)
    xs = [float(p["cx"]) for p in points]
    ys = [float(p["cy"]) for p in points]
    assert xs == sorted(xs) and ys == sorted(ys, reverse=True)
    assert "41.7% of the accounts (5 of 12) make 80% of sales (together 80.3%)" in html


def test_chart_geometry(case):
    p = summarise(case)
    chart = build_chart(p, "en")
    assert chart.points[-1].x == chart.right and chart.points[-1].y == chart.top  # 100% of accounts, 100% of sales
    assert chart.target_y == pytest.approx(chart.top + 0.2 * (chart.bottom - chart.top), abs=0.01)
    assert chart.curve.startswith(f"{chart.left},{chart.bottom}")
    assert len(chart.curve.split()) == 13


def test_up_to_2000_accounts_every_account_is_a_point(case):
    pack = case.pack
    n = 2000
    frame = pd.DataFrame({"account_id": [f"X{i:05d}" for i in range(n)], "sales": [float(1 + (i * 7919) % 1000)
                                                                                   for i in range(n)]})
    evaluation = evaluate(pack, frame, as_of=AS_OF, input_name="big.csv")
    html = render_report(evaluation, summarise(evaluation), playbook_links={}).decode()
    assert len(Elements(html).all("circle", "pt")) == n
    assert "One point per account (2000)" in html


def test_a_larger_portfolio_draws_the_top_500_and_a_sample_ending_at_100_percent(case):
    pack = case.pack
    n = 5000
    frame = pd.DataFrame({"account_id": [f"X{i:05d}" for i in range(n)], "sales": [float(1 + (i * 7919) % 1000)
                                                                                   for i in range(n)]})
    evaluation = evaluate(pack, frame, as_of=AS_OF, input_name="big.csv")
    html = render_report(evaluation, summarise(evaluation), playbook_links={}).decode()
    points = Elements(html).all("circle", "pt")
    assert len(points) == 2000
    assert "5000 accounts: the largest 500 and an even sample of the rest are drawn (2000 points)" in html
    xs = [float(p["cx"]) for p in points]
    assert xs == sorted(xs) and xs[-1] == max(xs)  # ordered by sales, ending with the last account


def test_tables_and_facts_of_the_run(case):
    html = report(case)
    page = Elements(html)
    assert [t["data-output"] for t in page.all("table", "counts")] == ["tier", "relationship", "service_level",
                                                                     "risk_level"]
    assert len(page.all("tr", "region")) == 5
    assert len(page.all("tr", "account")) == 3 + 5 + 1  # risks, key accounts, potential
    assert "27 Nov 2026" in html and case.pack.hash in html and "accounts.csv" in html
    assert "5 key accounts, fewer than the 15–35 a company can really manage" in html
    assert "top management can run the key accounts directly" in html
    assert "Highly concentrated" in html


def test_key_accounts_link_to_their_playbooks(case):
    html = report(case)
    links = [a["href"] for a in Elements(html).all("a")]
    assert "playbooks/00042-%E5%8D%8E%E4%B8%9C%E6%9C%BA%E6%A2%B0%E6%9C%89%E9%99%90%E5%85%AC%E5%8F%B8.html" in links
    assert "playbooks/a-1001-northwind-traders.html" in links
    assert "playbooks/a-1003-fabrikam-inc.html" in links  # potential
    # key accounts, the potential one, 00042 again among the risks, and the key accounts in the per-owner view
    assert len(links) == 5 + 1 + 1 + 5
    assert all(link.startswith("playbooks/") and link.endswith(".html") for link in links)


def test_report_is_self_contained(case):
    html = report(case)
    assert "<script" not in html and "<link" not in html and "@import" not in html and "url(" not in html
    external = re.findall(r"https?://[^\"' >]+", html)
    assert external == ["http://www.w3.org/2000/svg"]  # the SVG namespace, not a request
    assert "default-src 'none'" in html
    assert "@media print" in html and "page-break" in html


def test_report_is_deterministic(case):
    assert report(case) == report(case)
    assert report(case, "zh") == report(case, "zh")


def test_report_in_chinese(case):
    html = report(case, "zh")
    assert "<html lang=\"zh-CN\">" in html
    assert "重点客户组合报告" in html and "2026年11月27日" in html and "1,930,000" in html and "193万" not in html
    assert "41.7% 的客户（12 个中的 5 个）贡献了 80% 的销售额（合计 80.3%）" in html
    text = re.sub(r"<[^>]+>|&[a-z]+;", " ", html.split("<body>", 1)[1])
    data = {"accounts.csv", case.pack.hash, "McDonald", "Woodburn", "HHI", "NPS"}
    data |= {str(v) for a in case.accounts for v in a.facts.values() if isinstance(v, str)}
    data |= {r.id for d in case.pack.decisions for r in d.rules}
    for word in sorted(data, key=len, reverse=True):
        text = text.replace(word, " ")
    assert not re.findall(r"[A-Za-z]{2,}", text)


def test_a_team_can_override_one_block_of_the_report(case, tmp_path):
    folder = tmp_path / "playbooks"
    folder.mkdir()
    (folder / "report.html.j2").write_text(
        '{% extends "default/report.html.j2" %}{% block regions %}<p id="mine">{{ regions | length }} regions'
        "</p>{% endblock %}", encoding="utf-8")
    html = report(case, playbooks_dir=folder)
    assert '<p id="mine">5 regions</p>' in html and "Regional concentration" not in html
    assert len(Elements(html).all("circle", "pt")) == 12


def test_a_broken_report_template_is_a_template_error(case, tmp_path):
    folder = tmp_path / "playbooks"
    folder.mkdir()
    (folder / "report.html.j2").write_text("{{ chart.pointz }}\n", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"^playbooks/report.html.j2:1: 'chart' has no attribute 'pointz'"):
        report(case, playbooks_dir=folder)


def test_long_tier_lists_show_the_largest_and_say_how_many_there_are(case, monkeypatch):
    import kamrules.documents.report as report_module

    monkeypatch.setattr(report_module, "LIST_MAX", 2)
    page = report(case)
    assert "The first 2 of 5 are listed; decisions.csv has them all." in page


def test_risks_are_sorted_by_sales_at_stake_and_each_manager_has_a_review_view(case):
    from kamrules.documents.report import build_report_context
    from kamrules.results.columns import column_values

    context = build_report_context(case, summarise(case, lang="en"), lang="en")
    sales = dict(zip([a.account_id for a in case.accounts], column_values(case, "sales")))
    at_stake = [sales[line.account_id] for line in context.risks]
    assert len(at_stake) > 1 and at_stake == sorted(at_stake, reverse=True)
    # per owner: each manager's key accounts and accounts at risk, counted from the decisions
    managers = dict(zip([a.account_id for a in case.accounts], column_values(case, "account_manager")))
    tiers = dict(zip([a.account_id for a in case.accounts], column_values(case, "tier")))
    owners = {o.name: o for o in context.owners}
    for owner in context.owners:
        assert all(managers[line.account_id] == owner.name and tiers[line.account_id] == "key"
                   for line in owner.key_accounts)
    key_by_manager = sorted((managers[i], i) for i, t in tiers.items() if t == "key")
    assert sorted((o.name, line.account_id) for o in context.owners for line in o.key_accounts) == key_by_manager
    due = column_values(case, "action_due_days")
    expected_due = sum(1 for i, days in enumerate(due) for d in (days or []) if d <= 30
                       if managers[case.accounts[i].account_id] == "张伟")
    assert owners["张伟"].actions_due == expected_due > 0
    html = report(case)
    assert 'id="owners"' in html and "Actions due in the next 30 days" in html
    # regional advice sits in the regions table, not in one box per region
    assert 'class="callout warn"' not in html.split('id="regions"')[1].split("</section>")[0]


def test_the_per_owner_view_lists_the_largest_accounts_and_says_how_many(case, monkeypatch):
    from kamrules.documents import report as report_module
    from kamrules.documents.report import build_report_context

    monkeypatch.setattr(report_module, "OWNER_LIST_MAX", 1)
    context = build_report_context(case, summarise(case, lang="en"), lang="en")
    busy = [o for o in context.owners if o.key_total > 1]
    assert busy and all(len(o.key_accounts) == min(1, o.key_total) and len(o.at_risk) == min(1, o.at_risk_total)
                        for o in context.owners)
    html = report(case)
    owners = html.split('id="owners"')[1].split("</section>")[0]
    assert f"The first 1 of {busy[0].key_total} are listed; decisions.csv has them all." in owners
