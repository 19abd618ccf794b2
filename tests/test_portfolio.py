"""Portfolio summary: the measured Pareto split, the key account band, regional concentration, risks."""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path

import pandas as pd
import pytest

from kamrules.engine.evaluate import evaluate
from kamrules.pack import load_pack
from kamrules.results.portfolio import summarise
from kamrules.engine.evaluation import AccountResult, DecisionResult, Evaluation

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ROOT / "tests" / "projects" / "playbook"
AS_OF = dt.date(2026, 11, 27)


@pytest.fixture(scope="module")
def pack():
    return load_pack(PROJECT / "rules")


@pytest.fixture(scope="module")
def case(pack):
    frame = pd.read_csv(PROJECT / "accounts.csv", dtype={"account_id": str})
    return evaluate(pack, frame, as_of=AS_OF, input_name="accounts.csv")


def synthetic(pack, sales, tiers=None, regions=None, risks=None):
    """An evaluation made by hand: one account per sales figure."""
    accounts = []
    for i, amount in enumerate(sales):
        facts = {"account_id": f"C{i:03d}", "account_name": f"Customer {i}", "sales": amount,
                 "region": regions[i] if regions else None}
        account = AccountResult(i, i + 2, f"C{i:03d}", f"Customer {i}", facts)
        account.decisions["tier"] = DecisionResult("tier", {"tier": tiers[i] if tiers else "standard",
                                                            "tier_basis": "none"})
        account.decisions["risk"] = DecisionResult("risk", {"risk_level": risks[i] if risks else "none"})
        accounts.append(account)
    return Evaluation(pack=pack, accounts=accounts, as_of=AS_OF, input_name="synthetic.csv")


def brute_force_split(sales, target=0.8):
    ordered = sorted(sales, reverse=True)
    total = sum(ordered)
    for k in range(1, len(ordered) + 1):
        if sum(ordered[:k]) / total >= target - 1e-12:
            return k
    return None


# -------------------------------------------------------------------------------------- the case


def test_summary_of_the_test_portfolio(case):
    p = summarise(case)
    assert p.accounts == 12
    assert p.total_sales == pytest.approx(1_930_000)
    assert p.key_accounts == 5
    assert p.key_sales_share == pytest.approx((520_000 + 380_000 + 260_000 + 20_000 + 210_000) / 1_930_000)
    assert p.pareto.accounts == 5 and p.pareto.account_share == pytest.approx(5 / 12)
    assert p.pareto.text == {
        "en": "41.7% of the accounts (5 of 12) make 80% of sales (together 80.3%)",
        "zh": "41.7% 的客户（12 个中的 5 个）贡献了 80% 的销售额（合计 80.3%）",
    }
    tiers = {c.value: c.accounts for c in p.breakdowns[0].counts}
    assert p.breakdowns[0].name == "tier" and tiers == {"key": 5, "potential": 1, "standard": 6}
    assert [b.name for b in p.breakdowns] == ["tier", "relationship", "service_level", "risk_level"]
    assert sum(c.accounts for c in p.breakdowns[1].counts) == 12


def test_pareto_curve_has_one_point_per_account_sorted_by_sales(case):
    p = summarise(case)
    assert len(p.curve) == 12
    assert [pt.rank for pt in p.curve] == list(range(1, 13))
    sales = [pt.sales for pt in p.curve]
    assert sales == sorted(sales, reverse=True)
    shares = [pt.cum_sales_share for pt in p.curve]
    assert shares == sorted(shares) and shares[-1] == pytest.approx(1.0)
    assert [pt.account_share for pt in p.curve] == pytest.approx([k / 12 for k in range(1, 13)])
    assert sum(pt.key for pt in p.curve) == 5


@pytest.mark.parametrize("sales", [
    [100.0] * 10,  # even: 8 of 10
    [900.0] + [10.0] * 9,  # one customer makes 90%
    [50.0, 30.0, 20.0],
    [1.0] * 3 + [0.0] * 7,  # zeros count as accounts
    [5.0, 5.0, 5.0, 5.0, 4.0],
    [float(2 ** (20 - i)) for i in range(20)],
])
def test_pareto_split_is_measured_never_assumed(pack, sales):
    p = summarise(synthetic(pack, sales))
    k = brute_force_split(sales)
    assert p.pareto.accounts == k
    assert p.pareto.account_share == pytest.approx(k / len(sales))
    assert p.pareto.sales_share >= 0.8


def test_no_pareto_split_without_positive_sales(pack):
    p = summarise(synthetic(pack, [0.0, 0.0, None]))
    assert p.pareto is None and p.total_sales == 0 and len(p.curve) == 3


def test_missing_and_negative_sales_do_not_break_the_curve(pack):
    p = summarise(synthetic(pack, [100.0, None, -20.0, 50.0]))
    assert p.total_sales == pytest.approx(130.0)  # as given; a missing value is left out
    assert [pt.cum_sales_share for pt in p.curve] == pytest.approx([100 / 150, 1.0, 1.0, 1.0])


# ------------------------------------------------------------------------------- key account band


@pytest.mark.parametrize("keys,status,department,first_words", [
    (0, "below", False, "0 key accounts, fewer than the 15–35"),
    (10, "below", False, "10 key accounts, fewer than the 15–35"),
    (15, "within", False, "15 key accounts, within the 15–35"),
    (20, "within", False, "20 key accounts, within the 15–35"),
    (21, "within", True, "21 key accounts, within the 15–35"),
    (35, "within", True, "35 key accounts, within"),
    (36, "above", True, "Warning: 36 key accounts, more than the 35"),
    (50, "above", True, "Warning: 50 key accounts"),
    (51, "far_above", True, "Strong warning: 51 key accounts"),
])
def test_key_accounts_against_the_manageable_band(pack, keys, status, department, first_words):
    n = 60
    p = summarise(synthetic(pack, [100.0] * n, tiers=["key"] * keys + ["standard"] * (n - keys)))
    band = p.band
    assert (band.key_accounts, band.status, band.department) == (keys, status, department)
    assert band.advice[0]["en"].startswith(first_words)
    organisation = band.advice[1]
    if department:
        assert organisation["en"] == ("More than 20 key accounts: set up a dedicated key account department "
                                      "(重点客户管理部).")
        assert organisation["zh"] == "重点客户超过 20 个：设立专门的重点客户管理部。"
    else:
        assert "top management can run the key accounts directly" in organisation["en"]
        assert "可由企业高层直接管理重点客户" in organisation["zh"]
    if keys:
        assert (band.managers_min, band.managers_max) == (math.ceil(keys / 8), keys)


def test_the_band_reads_the_pack_params(tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    for f in (PROJECT / "rules").glob("*.yaml"):
        text = f.read_text(encoding="utf-8")
        text = text.replace("kam_manageable_min: 15", "kam_manageable_min: 2")
        text = text.replace("kam_manageable_max: 35", "kam_manageable_max: 8")
        text = text.replace("kam_department_threshold: 20", "kam_department_threshold: 3")
        (rules / f.name).write_text(text, encoding="utf-8")
    pack = load_pack(rules)
    p = summarise(synthetic(pack, [1.0] * 12, tiers=["key"] * 9 + ["standard"] * 3))
    assert p.band.status == "above" and p.band.department
    assert p.band.advice[0]["en"].startswith("Warning: 9 key accounts, more than the 8 a company")
    assert p.band.advice[1]["en"].startswith("More than 3 key accounts")


# ------------------------------------------------------------------------------------------ regions


def test_regional_concentration(pack):
    regions = ["N", "N", "N", "N", "S", "S", "S", "S", "S", "E", None]
    sales = [40.0, 30.0, 20.0, 10.0, 21.0, 21.0, 21.0, 21.0, 21.0, 7.0, 3.0]
    p = summarise(synthetic(pack, sales, regions=regions))
    rows = {r.region: r for r in p.regions}
    assert [r.region for r in p.regions] == ["S", "N", "E"]  # by sales
    assert p.accounts_without_region == 1
    north = rows["N"]
    assert north.hhi == pytest.approx(40 ** 2 + 30 ** 2 + 20 ** 2 + 10 ** 2)  # 3,000
    assert (north.largest_id, north.largest_share, north.concentration, north.balance) == ("C000", 0.4, "high", True)
    assert north.advice["en"] == ("N: Customer 0 holds 40% of the region's sales (HHI 3,000): cultivate 2–3 evenly "
                                  "matched key customers there so they balance each other.")
    assert "培植重点客户的竞争对手" in north.advice["zh"]
    south = rows["S"]
    assert south.hhi == pytest.approx(2000) and south.concentration == "moderate" and not south.balance
    assert south.advice == {}
    east = rows["E"]
    assert (east.hhi, east.largest_share, east.balance) == (10000, 1.0, True)  # one customer is the region
    assert p.advice[-1]["en"].startswith("2 of 3 regions depend on one customer or very few (N, E)")


def test_balancing_threshold_on_both_sides(pack):
    # (A largest share of 50% alone makes the HHI at least 2,500, so either trigger gives the same answer.)
    sales = [51.0] + [49 / 30] * 30  # largest 51%, HHI 2,681
    p = summarise(synthetic(pack, sales, regions=["R"] * 31))
    assert p.regions[0].largest_share >= 0.5 and p.regions[0].hhi >= 2500 and p.regions[0].balance
    sales = [45.0] + [55 / 30] * 30  # largest 45%, HHI 2,126: no balancing needed
    p = summarise(synthetic(pack, sales, regions=["R"] * 31))
    assert p.regions[0].largest_share < 0.5 and p.regions[0].hhi < 2500 and not p.regions[0].balance


def test_a_pack_without_region_has_no_regional_table(tmp_path):
    pack = load_pack(ROOT / "tests" / "projects" / "basic" / "rules")
    frame = pd.DataFrame({"account_id": ["1", "2"], "sales": [10.0, 5.0]})
    p = summarise(evaluate(pack, frame, as_of=AS_OF))
    assert p.regions == () and p.has_region  # basic has the field but no values
    assert p.key_accounts == 1 and [b.name for b in p.breakdowns] == ["tier"]
    assert p.risks == ()  # no risk_level output


# --------------------------------------------------------------------------------- risks and data


def test_defection_risks_list_at_risk_and_critical_with_their_signals(case):
    p = summarise(case)
    assert [(r.account_id, r.risk_level) for r in p.risks] == [
        ("00042", "critical"), ("A-1004", "critical"), ("A-1009", "at_risk")]
    first = p.risks[0]
    assert [(s.value, s.cause) for s in first.signals] == [
        ("sales_decline", "controllable"), ("detractor", "controllable"), ("no_contact", "uncontrollable")]
    assert first.signals[2].cause_label == {"en": "Uncontrollable", "zh": "不可控"}
    assert first.signals[1].because == {"en": "NPS score 5 (detractor)", "zh": "NPS 评分 5（贬损者）"}


def test_rules_that_could_not_apply_for_lack_of_data(case):
    present = ["account_id", "account_name", "region", "sales", "sales_prev", "gross_profit", "share_of_wallet"]
    p = summarise(case, present_fields=present)
    unused = {(u.decision, u.rule): u.missing for u in p.rules_without_data}
    assert unused[("risk_signals", "detractor")] == ("nps",)
    assert unused[("risk_signals", "no_contact")] == ("last_contact",)
    assert unused[("tier", "strategic_project")] == ("strategic_project",)
    assert ("tier", "pareto_core") not in unused
    assert summarise(case).rules_without_data == ()  # every field has a value somewhere in the data


def test_summary_lines_in_both_languages(case):
    p = summarise(case, lang="zh")
    en, zh = p.lines("en"), p.lines()
    assert en[0] == "Accounts: 12 · total sales: 1,930,000"
    assert en[1] == "Key accounts: 5 (41.7% of accounts), 72% of sales"
    assert en[2] == "Pareto split: 41.7% of the accounts (5 of 12) make 80% of sales (together 80.3%)"
    assert en[3] == "Tier: Key account 5 · Potential key account 1 · Standard account 6"
    assert zh[0] == "客户数：12 · 销售总额：193万"
    assert zh[3] == "客户级别：重点客户 5 · 潜在重点客户 1 · 普通客户 6"
    data = {"North", "South", "West", "(McDonald & Woodburn)", "NPS", "HHI", "McDonald", "Woodburn"}
    for line in zh:
        for word in data:
            line = line.replace(word, "")
        assert not re.findall(r"[A-Za-z]{3,}", line), line
    assert len(en) == len(zh)


def test_summary_is_deterministic(case):
    assert summarise(case) == summarise(case)


def test_risk_list_details_the_first_hundred_and_counts_them_all(tmp_path):
    from kamrules.results import portfolio as pf
    from kamrules.engine.evaluate import evaluate
    from kamrules.pack import load_pack
    import datetime as dt
    import pandas as pd
    from conftest import ROOT

    pack = load_pack(ROOT / "rules")
    n = 400
    frame = pd.DataFrame({
        "account_id": [f"R{i:04d}" for i in range(n)],
        "sales": [float(1000 + i) for i in range(n)],
        "sales_prev": [float(5000 + i) for i in range(n)],  # every account fell by far more than 20%
        "nps": [3.0] * n,  # and is a detractor: two signals, at risk
    })
    evaluation = evaluate(pack, frame, as_of=dt.date(2026, 11, 27))
    summary = pf.summarise(evaluation)
    assert summary.risks_total == n
    assert len(summary.risks) == pf.RISKS_LISTED_MAX == 100
    assert [r.sales for r in summary.risks][:2] == [1399.0, 1398.0]  # largest first
    assert f"Accounts at risk or critical: {n}" in summary.lines()
