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


SHARES_1500 = [20.0, 15.0, 15.0, 15.0, 15.0, 10.0, 10.0]  # squares add up to exactly 1,500


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
    # the playbook pack has no hours params: the workload advice is left out, never guessed
    assert (band.managers_min, band.managers_max) == (None, None) and len(band.advice) == 2


@pytest.mark.parametrize("keys,fte,words", [(40, (0.5, 2.0), "0.5–2"), (8, (0.1, 0.4), "0.1–0.4"), (0, None, "")])
def test_key_account_workload_in_full_time_equivalents(keys, fte, words):
    pack = load_pack(ROOT / "rules")  # the default pack: 2–8 h a month per relationship, 160 h per FTE
    n = 60
    p = summarise(synthetic(pack, [100.0] * n, tiers=["key"] * keys + ["standard"] * (n - keys)))
    if fte is None:
        assert p.band.managers_min is None and not any("full-time" in a["en"] for a in p.band.advice)
        return
    assert (p.band.managers_min, p.band.managers_max) == fte
    text = p.band.advice[-1]["en"]
    assert text.startswith(f"At 2–8 hours a month per relationship, {keys} key accounts take {keys * 2:,}–{keys * 8:,} hours")
    assert f"{words} full-time equivalents (at 160 hours a month each)" in text
    assert "全职人力" in p.band.advice[-1]["zh"] and "key account managers" not in text


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
    regions = ["N", "N", "N", "N", "S", "S", "S", "S", "S", "E", None, "W", "W", "W", "W"]
    sales = [40.0, 30.0, 20.0, 10.0, 21.0, 21.0, 21.0, 21.0, 21.0, 7.0, 3.0, 70.0, 10.0, 10.0, 10.0]
    p = summarise(synthetic(pack, sales, regions=regions))
    rows = {r.region: r for r in p.regions}
    assert [r.region for r in p.regions] == ["S", "N", "W", "E"]  # by sales, ties by name
    assert p.accounts_without_region == 1
    north = rows["N"]
    assert north.hhi == pytest.approx(40 ** 2 + 30 ** 2 + 20 ** 2 + 10 ** 2)  # 3,000
    # highly concentrated by HHI, but no customer dominates: 40 / 30 / 20 balance each other
    assert (north.largest_id, north.largest_share, north.concentration, north.balance) == ("C000", 0.4, "high", False)
    south = rows["S"]
    assert south.hhi == pytest.approx(2000) and south.concentration == "unknown" and not south.balance
    assert south.advice == {}  # the playbook pack has no moderate bound: the band is not guessed
    west = rows["W"]
    assert (west.largest_share, west.balance) == (0.7, True)
    assert west.advice["en"] == ("W: Customer 11 holds 70% of the region's sales (HHI 5,200; the next-largest at 14.3% of its "
                                 "size): develop the next-largest "
                                 "(Customer 12) and one more into evenly matched key customers, so 2–3 comparable key "
                                 "customers balance each other and none can dictate terms.")
    assert "培植重点客户的竞争对手" in west.advice["zh"]
    east = rows["E"]
    assert (east.hhi, east.largest_share) == (10000, 1.0)  # one customer is the region
    assert not east.balance  # nobody there to balance it with: no balancing advice
    assert any(a["en"].startswith("1 of 4 regions depends on one customer or very few (W)") for a in p.advice)


def test_regions_are_judged_from_two_accounts_and_the_hhi_from_three():
    pack = load_pack(ROOT / "rules")  # default pack: region_min_accounts 3 (for the HHI)
    regions = ["A", "B", "B", "C", "C", "C", "D", "D", "D", "E", "E"]
    sales = [50.0, 90.0, 10.0, 80.0, 10.0, 10.0, 30.0, 30.0, 30.0, 20.0, 20.0]
    rows = {r.region: r for r in summarise(synthetic(pack, sales, regions=regions)).regions}
    assert not rows["A"].balance  # one account: nobody to balance it with
    assert rows["B"].balance and rows["B"].concentration == "too_small"  # 90/10: judged, its HHI is not
    assert rows["C"].balance  # 3 accounts, one holds 80%
    assert not rows["D"].balance and rows["D"].hhi == pytest.approx(3333.333333)  # the target: 3 evenly matched
    assert not rows["E"].balance  # 50/50: the two balance each other


@pytest.mark.parametrize("shares,hhi,band", [
    ([25.0] * 4, 2500, "high"),  # exactly 2,500: highly concentrated (≥)
    ([30.0, 30.0, 20.0, 10.0, 10.0], 2400, "moderate"),
    (SHARES_1500, 1500, "moderate"),  # exactly 1,500: moderately concentrated (≥)
    ([20.0, 20.0] + [10.0] * 6, 1400, "unconcentrated"),
])
def test_concentration_bands_at_exactly_1500_and_2500(shares, hhi, band):
    pack = load_pack(ROOT / "rules")  # the default pack states both bounds
    row = summarise(synthetic(pack, shares, regions=["R"] * len(shares))).regions[0]
    assert row.hhi == pytest.approx(hhi) and row.concentration == band


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


def test_risks_are_listed_by_sales_at_stake():
    pack = load_pack(ROOT / "rules")
    p = summarise(synthetic(pack, [10.0, 500.0, 80.0, 1.0], risks=["critical", "at_risk", "at_risk", "none"]))
    assert [r.account_id for r in p.risks] == ["C001", "C002", "C000"]


def test_risk_not_assessed_is_said_when_no_signal_can_fire():
    pack = load_pack(ROOT / "rules")
    frame = pd.DataFrame({"account_id": ["1", "2"], "sales": [10.0, 5.0]})
    p = summarise(evaluate(pack, frame, as_of=AS_OF), present_fields=["account_id", "sales"])
    assert p.risk_assessed is False
    assert any(a["en"].startswith("Defection signals not assessed: the file lacks") and "not the same as no risk" in a["en"]
               and "still found" not in a["en"] for a in p.advice)
    levels = {c.value: c.accounts for c in p.breakdowns[-1].counts}
    assert levels["not_assessed"] == 2 and levels["none"] == 0
    frame = pd.DataFrame({"account_id": ["1", "2"], "sales": [10.0, 5.0], "nps": [9, 8]})
    p = summarise(evaluate(pack, frame, as_of=AS_OF), present_fields=["account_id", "sales", "nps"])
    assert p.risk_assessed is True and not any("not assessed" in a["en"] for a in p.advice)
    # a last order two years ago is a lapsed customer whatever the sales columns say (no prior sales here):
    # the console says the signals were not assessed, and that lost and lapsed customers still were
    frame = pd.DataFrame({"account_id": ["1", "2"], "sales": [10.0, 0.0], "last_order": ["2026-11-01", "2024-12-01"]})
    evaluation = evaluate(pack, frame, as_of=AS_OF)
    assert [a.value("risk_level") for a in evaluation.accounts] == ["none", "lapsed"]
    p = summarise(evaluation, present_fields=["account_id", "sales", "last_order"])
    assert any(a["en"].startswith("Defection signals not assessed") and a["en"].endswith(
        "Lost and lapsed customers are still found from the sales columns and the last order.") for a in p.advice)
    assert any("已流失与流失中的客户仍根据销售额与最近下单日期识别" in a["zh"] for a in p.advice)


def test_rules_that_could_not_apply_for_lack_of_data(pack, case):
    present = ["account_id", "account_name", "region", "sales", "sales_prev", "gross_profit", "share_of_wallet"]
    frame = pd.read_csv(PROJECT / "accounts.csv", dtype={"account_id": str})[present]
    p = summarise(evaluate(pack, frame, as_of=AS_OF, input_name="accounts.csv"), present_fields=present)
    unused = {(u.decision, u.rule): u.missing for u in p.rules_without_data}
    assert unused[("risk_signals", "detractor")] == ("nps",)
    assert unused[("risk_signals", "no_contact")] == ("last_contact",)
    assert unused[("tier", "strategic_project")] == ("strategic_project",)
    assert ("tier", "pareto_core") not in unused
    assert summarise(case).rules_without_data == ()  # every field has a value somewhere in the data
    # a rule that matched an account could apply, whatever the list of columns says
    assert summarise(case, present_fields=present).rules_without_data == ()


def test_a_column_the_whole_file_lacks_is_one_message_per_field(pack):
    from kamrules.results.portfolio_model import missing_column_texts

    present = ["account_id", "account_name", "region", "sales", "sales_prev", "share_of_wallet"]
    frame = pd.read_csv(PROJECT / "accounts.csv", dtype={"account_id": str})[present]
    p = summarise(evaluate(pack, frame, as_of=AS_OF, input_name="accounts.csv"), present_fields=present)
    # one message per field for the report (the console says them in one line: test_exports2.py)
    lines = [text["en"] for text in missing_column_texts(p.rules_without_data)]
    fields = [re.search(r"\((\w+)\): \d+ rules? cannot apply", line).group(1) for line in lines]
    assert sorted(fields) == sorted({m for u in p.rules_without_data for m in u.missing})  # one line per field
    nps = next(line for line in lines if "(nps)" in line)
    count = sum(1 for u in p.rules_without_data if "nps" in u.missing)
    assert nps.startswith(f"This file has no NPS score (0–10) column (nps): {count} rule")
    assert "risk_signals → detractor" in nps
    zh = [text["zh"] for text in missing_column_texts(p.rules_without_data)]
    assert len(zh) == len(lines) and any(line.startswith("文件中没有「") and "（nps）" in line for line in zh)


def test_summary_lines_in_both_languages(case):
    p = summarise(case, lang="zh")
    en, zh = p.lines("en"), p.lines()
    assert en[0] == "Accounts: 12 · total sales: 1,930,000"
    assert en[1] == "Key accounts: 5 (41.7% of accounts), 72% of sales"
    assert en[2] == "Pareto split: 41.7% of the accounts (5 of 12) make 80% of sales (together 80.3%)"
    assert en[3] == "Tier: Key account 5 · Potential key account 1 · Standard account 6"
    assert zh[0] == "客户数：12 · 销售总额：1,930,000"  # thousands separators, as in every zh document
    # the pack's own word for the critical level (this pack says 严重), not a fixed 高风险
    assert "有风险或严重的客户：" in "\n".join(zh) and "高风险" not in "\n".join(zh)
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


# ------------------------------------------------------------------ one implementation of the measures


def test_features_and_summary_agree_on_negative_and_missing_sales(pack):
    """Issue #9: region sales [100, missing, -40, 60] gave region_hhi 10,555.6 and a cumulative share of
    1.33 in the features while the report showed 5,312.5. Negative sales count as 0, missing take no part."""
    frame = pd.DataFrame({"account_id": ["1", "2", "3", "4"], "account_name": ["a", "b", "c", "d"],
                          "sales": [100.0, None, -40.0, 60.0], "region": ["R"] * 4})
    evaluation = evaluate(pack, frame, as_of=AS_OF)
    facts = [a.facts for a in evaluation.accounts]
    row = summarise(evaluation).regions[0]
    assert row.hhi == pytest.approx(62.5 ** 2 + 37.5 ** 2)  # 5,312.5, as before in the report
    assert [f["region_hhi"] for f in facts] == [pytest.approx(row.hhi)] * 4
    assert facts[0]["region_share"] == pytest.approx(0.625) and facts[2]["region_share"] == 0
    cum = [f["sales_cum_share"] for f in facts]
    assert cum[1] is None or math.isnan(cum[1])
    assert [cum[0], cum[3], cum[2]] == [pytest.approx(0.625), pytest.approx(1.0), pytest.approx(1.0)]
    curve = {pt.account_id: pt.cum_sales_share for pt in summarise(evaluation).curve}
    assert curve["1"] == pytest.approx(facts[0]["sales_cum_share"]) and curve["4"] == pytest.approx(1.0)


@pytest.mark.parametrize("ids", [["1", "2", "3", "4"], ["1", "4", "3", "2"]])
def test_pareto_ties_go_by_account_id_in_features_and_curve(pack, ids):
    """Equal sales are ordered by the account id's text, not by the order of the rows, in the features and
    on the report's curve alike."""
    frame = pd.DataFrame({"account_id": ids, "sales": [10.0, 30.0, 30.0, 30.0]})
    evaluation = evaluate(pack, frame, as_of=AS_OF)
    cum = {a.account_id: a.facts["sales_cum_share"] for a in evaluation.accounts}
    assert cum == {"1": pytest.approx(1.0), "2": pytest.approx(0.3), "3": pytest.approx(0.6), "4": pytest.approx(0.9)}
    assert [pt.account_id for pt in summarise(evaluation).curve] == ["2", "3", "4", "1"]


def test_standard_percentile_rank_with_heavy_ties():
    from kamrules.engine import measures
    values = pd.Series([0.0] * 50 + [5.0] * 40 + [100.0 + i for i in range(10)])
    pct = measures.percentile_rank(values)
    assert pct[0] == pytest.approx(25.0)  # 50 zeros: half of them below-equal
    assert pct[50] == pytest.approx(70.0)  # 50 below + half of 40 ties
    assert pct[99] == pytest.approx(99.5) and pct[90] == pytest.approx(90.5)
    assert (pct >= 90).sum() == 10  # "top 10%" means 10 accounts, not the whole tail
    assert measures.percentile_rank(pd.Series([7.0] * 12)).tolist() == [50.0] * 12
    lower = measures.percentile_rank(pd.Series([1.0, 2.0, float("nan")]), lower_first=False)
    assert lower[0] == 75.0 and lower[1] == 25.0 and math.isnan(lower[2])


@pytest.mark.parametrize("key, waiting", [(30, 5), (30, 0)])
def test_accounts_waiting_for_a_key_account_manager_are_named_with_their_sales(key, waiting):
    pack = load_pack(ROOT / "rules")
    n = key + waiting + 10
    sales = [100.0 + i for i in range(n)]
    p = summarise(synthetic(pack, sales, tiers=["key"] * key + ["over_capacity"] * waiting + ["standard"] * 10))
    texts = [a["en"] for a in p.band.advice]
    assert p.waiting_total == waiting and len(p.waiting) == waiting
    if not waiting:
        assert not any("wait for a key account manager" in t for t in texts)
        return
    line = next(t for t in texts if "wait for a key account manager" in t)
    assert line.startswith(f"{waiting:,} accounts qualify as key but wait for a key account manager")
    # largest first, with their sales
    assert [w.account_id for w in p.waiting] == [f"C{i:03d}" for i in range(key + waiting - 1, key - 1, -1)]
    assert f"Customer {key + waiting - 1} (134)" in line


def test_a_consumer_book_gets_a_vip_programme_and_no_department():
    pack = load_pack(ROOT / "rules")
    rows = [{"account_id": f"m{i:04d}", "customer_type": "consumer", "sales": 50.0 + (i % 97)} for i in range(400)]
    evaluation = evaluate(pack, pd.DataFrame(rows), as_of=AS_OF)
    p = summarise(evaluation)
    assert p.consumer_book and p.key_accounts == 0 and not p.band.department
    texts = [a["en"] for a in p.band.advice]
    assert any(t.startswith("A consumer book (most customers are individuals): run a VIP programme") for t in texts)
    assert not any("key account department" in t and "not" not in t for t in texts)
    assert not any("full-time" in t for t in texts)  # no KAM workload for a consumer book
    assert (evaluation.table["tier"] == "vip").sum() == 8  # 2% of 400 individuals


def test_department_only_when_the_workload_needs_a_team():
    pack = load_pack(ROOT / "rules")  # 2–8 h a month per key account, 160 h a month per person, 2 FTE for a team
    n = 100
    for keys, department in ((30, False), (40, True)):
        p = summarise(synthetic(pack, [100.0] * n, tiers=["key"] * keys + ["standard"] * (n - keys)))
        assert p.band.department is department
        texts = " ".join(a["en"] for a in p.band.advice)
        if department:  # 40 × 8 h = 320 h = 2 people
            assert "workload of up to 2 full-time people: set up a dedicated key account department" in texts
        else:  # 30 × 8 h = 240 h = 1.5 people: named managers, not a department
            assert "30 key accounts take at most 1.5 full-time people (below 2)" in texts
            assert "a department is not needed yet" in texts


def test_columns_and_groups_read_at_once_equal_cell_by_cell():
    """summarise reads columns once per distinct value (factorize, pyarrow): the same values, of the
    same kinds, as reading each cell, for every mix of kinds a table column can hold."""
    import numpy as np
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from kamrules.i18n import is_missing
    from kamrules.results.columns import _plain, _plain_column
    from kamrules.results.portfolio import _groups

    cells = st.one_of(st.none(), st.just(float("nan")), st.just(pd.NA), st.booleans(), st.integers(-3, 3),
                      st.floats(-2, 2, allow_nan=False), st.sampled_from(["key", "potential", "", " 华东 "]),
                      st.just(pd.Timestamp("2026-11-27")))

    @settings(max_examples=300, deadline=None, database=None)
    @given(st.lists(cells, max_size=12))
    def check(values):
        series = pd.Series(values, dtype=object)
        plain = [_plain(v) for v in values]
        got = _plain_column(series)
        assert [(type(v), v) for v in got] == [(type(v), v) for v in plain]
        groups = _groups(plain)
        if groups is None:  # mixed kinds a hash merges: summarise compares them one by one instead
            assert len({type(v) for v in plain if isinstance(v, (bool, int, float))}) > 1
            return
        expected = {v: [i for i, w in enumerate(plain) if not is_missing(w) and type(w) is type(v) and w == v]
                    for v in plain if not is_missing(v)}
        expected[None] = [i for i, v in enumerate(plain) if is_missing(v)]
        assert {k: list(v) for k, v in groups.items()} == expected

    check()
    assert isinstance(_plain_column(pd.Series([np.int64(3)], dtype=object))[0], int)
