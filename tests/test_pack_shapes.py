"""The default pack on portfolios shaped unlike the bundled example: long tails, heavy ties, tiny regions,
files without gross profit / share of wallet / NPS / any risk column, some rows without risk data, and
owners that follow the data's account manager. Every expectation is worked out by hand in the test.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from typer.testing import CliRunner

from kamrules.cli import app
from kamrules.documents.review import is_manager_owner
from kamrules.engine.evaluate import evaluate
from kamrules.pack import load_pack
from kamrules.results.portfolio import summarise

from conftest import ROOT

AS_OF = dt.date(2026, 11, 27)


@pytest.fixture(scope="module")
def pack():
    return load_pack(ROOT / "rules", strict=True)


def evaluate_rows(pack, rows: list[dict]):
    evaluation = evaluate(pack, pd.DataFrame(rows), as_of=AS_OF)
    return evaluation, {account.account_id: account for account in evaluation.accounts}


def long_tail() -> list[dict]:
    """4 accounts of 200,000 (800,000 = 80% of 1,000,000) and a tail of 100 equal accounts of 2,000 on
    24-month contracts, in region North (2 big + 98 tail), South (2 big + 1 tail) and East (1 tail). No
    gross profit, no share of wallet, no NPS, no risk column at all."""
    rows = [{"account_id": f"B{i}", "account_name": f"Big {i}", "sales": 200_000,
             "region": "North" if i < 2 else "South", "customer_type": "enterprise"} for i in range(4)]
    rows += [{"account_id": f"T{i:03d}", "sales": 2_000, "contract_months": 24, "customer_type": "enterprise",
              "region": "North" if i < 98 else "South" if i == 98 else "East"} for i in range(100)]
    return rows


def test_long_tail_without_optional_columns(pack):
    """Cumulative before B0..B3: 0, 20, 40, 60% → class A, key (pareto). The tail starts at 80% (not below
    the A cut), so it is B up to 95% and C after. Its percentile rank is (0 below + 100 / 2 ties) / 104 =
    48.1: not "large orders" (≥ 90) despite the 24-month contract, and below the median needed for a
    class B potential → every tail account is standard."""
    evaluation, acc = evaluate_rows(pack, long_tail())
    assert [acc[f"B{i}"].value("tier") for i in range(4)] == ["key"] * 4
    tail = [a for k, a in acc.items() if k.startswith("T")]
    assert {a.value("tier") for a in tail} == {"standard"}
    assert tail[0].value("sales_percentile_rank") == pytest.approx(50 / 104 * 100)
    assert tail[0].value("abc_class") == "B" and tail[-1].value("abc_class") == "C"
    # no risk column: not assessed, never "no signal"; the key accounts keep their routine executive visit
    assert {a.value("risk_level") for a in acc.values()} == {"not_assessed"}
    assert all("executive_visit" in acc[f"B{i}"].value("action") for i in range(4))
    # no gross profit: the margin counts as medium and the key accounts are proactive (at least)
    assert {acc[f"B{i}"].value("relationship") for i in range(4)} == {"proactive"}
    p = summarise(evaluation)
    assert p.key_accounts == 4 and p.risk_assessed is False and p.risks_total == 0
    assert "lacks every field" in p.risk_not_assessed["en"] and "NPS" in p.risk_not_assessed["en"]
    assert "缺少" in p.risk_not_assessed["zh"]
    lines = p.lines("en")
    assert any(line.startswith("Defection signals not assessed") for line in lines)
    assert not any("No account is at risk" in line for line in lines)


def test_tiny_regions_get_no_verdict(pack):
    """South: B2, B3 (200,000 each) and one tail account of 2,000 — three accounts, largest 49.8% < 50%:
    balanced, no verdict. East: one account (100% of it) — below the 3-account minimum: no finding, no
    balancing action, and the summary labels it "too few accounts to judge" rather than concentrated.
    North: B0 + B1 of 592,000 — largest 33.8%: no dominant customer."""
    evaluation, acc = evaluate_rows(pack, long_tail())
    east = acc["T099"]
    assert east.value("region_share") == 1.0 and east.value("region_accounts") == 1
    assert not {"region_dominant", "region_counterweight"} & set(east.value("dependence_finding") or [])
    assert "regional_balancing" not in (east.value("action") or [])
    rows = {r.region: r for r in summarise(evaluation).regions}
    assert rows["East"].concentration == "too_small" and not rows["East"].balance
    assert rows["East"].concentration_label["en"] == "Too few accounts to judge"
    assert rows["South"].accounts == 3 and not rows["South"].balance
    assert rows["South"].concentration == "high"  # HHI ≈ 4,960: reported, but three comparable customers are the target


def test_a_dominant_region_never_names_a_tiny_tie_as_counterweight(pack):
    """North: D1 holds 100,000 and 30 equal accounts 1,000 each (100,000 of 130,000 = 76.9%, dominant). The
    number 2 has 1% of D1's sales (< 20%, counterweight_min_ratio): the advice says no one is within reach
    instead of naming an arbitrary tie, and no tail account gets the counterweight action."""
    rows = [{"account_id": "D1", "account_name": "Dominant", "sales": 100_000, "region": "North"}]
    rows += [{"account_id": f"N{i:02d}", "account_name": f"Tie {i}", "sales": 1_000, "region": "North"}
             for i in range(30)]
    rows += [{"account_id": "Z", "sales": 1_000_000, "region": "Elsewhere"}]
    evaluation, acc = evaluate_rows(pack, rows)
    assert "region_dominant" in acc["D1"].value("dependence_finding")
    assert not any("cultivate_counterweight" in (acc[f"N{i:02d}"].value("action") or []) for i in range(30))
    north = next(r for r in summarise(evaluation).regions if r.region == "North")
    assert north.balance and "Tie" not in north.advice["en"] and "within reach" in north.advice["en"]
    assert "规模接近" in north.advice["zh"] and "Tie" not in north.advice["zh"]
    # one counterweight within reach (25,000 = 25% of D1's sales) is named
    rows[1]["sales"] = 25_000
    evaluation, acc = evaluate_rows(pack, rows)
    north = next(r for r in summarise(evaluation).regions if r.region == "North")
    assert "Tie 0" in north.advice["en"]
    assert "cultivate_counterweight" in acc["N00"].value("action")


def test_some_rows_without_risk_data(pack):
    """The file has NPS, but two of four rows leave it blank: those two are "not assessed", the others are
    assessed; the summary says how many were not assessed instead of a reassuring "no risk"."""
    rows = [{"account_id": "a", "sales": 500_000, "nps": 9}, {"account_id": "b", "sales": 300_000, "nps": 8},
            {"account_id": "c", "sales": 150_000}, {"account_id": "d", "sales": 50_000}]
    evaluation, acc = evaluate_rows(pack, rows)
    assert [acc[k].value("risk_level") for k in "abcd"] == ["none", "none", "not_assessed", "not_assessed"]
    p = summarise(evaluation)
    assert p.risk_assessed is True and p.risk_not_assessed_accounts == 2
    assert "2 of 4 accounts" in p.risk_not_assessed_accounts_text["en"]
    assert any("not assessed for 2 of 4" in line for line in p.lines("en"))


def test_heavy_ties_everywhere(pack):
    """50 accounts of exactly equal sales: cumulative before runs 0, 2, …, 98%, so the first 40 (before <
    80%) are class A. The capacity is a fifth of the book (10); equal values fill it in account id order.
    The largest fifth hold 20% of sales: no concentration — so the other class A accounts are standard
    ("a book without concentration", not waiting or potential on their size alone), and so are the class
    B and C ones (2% of sales each, below the 3% that makes any account a potential one); no account is
    "large orders" (percentile rank 50 for all), and the summary says the book has no concentration."""
    rows = [{"account_id": f"E{i:02d}", "sales": 10_000, "contract_months": 24} for i in range(50)]
    evaluation, acc = evaluate_rows(pack, rows)
    tiers = [acc[f"E{i:02d}"].value("tier") for i in range(50)]
    assert tiers == ["key"] * 10 + ["standard"] * 40
    assert [acc[f"E{i:02d}"].value("tier_basis") for i in (10, 39, 40)] == ["flat_book", "flat_book", "none"]
    assert {a.value("sales_percentile_rank") for a in acc.values()} == {50.0}
    p = summarise(evaluation)
    assert p.key_accounts == 10 and p.waiting_total == 0
    assert any(p.text(a, "en").startswith("No concentration: the largest fifth of the accounts hold 20% of sales")
               for a in p.advice)
    assert any(p.text(a, "en").startswith("Key-account capacity: 10") and p.text(a, "en").endswith(
        "is not the limit: the policy is (set key_account_managers and key_accounts_per_manager to your team).")
        for a in p.advice)


# ------------------------------------------------------------------------------------------- owners


def _owner_rules(pack):
    decision = next(d for d in pack.decisions if d.id == "actions")
    for rule in decision.rules:
        yield rule, rule.then["action_owner"]


def test_owner_texts_name_the_account_manager_only_where_it_leads(pack):
    """The playbook shows the data's account manager where an action's owner is the account manager role
    (documents.review.is_manager_owner). So an owner text mentions the account manager only when the
    account manager leads the action; potential accounts (a shared manager) never get "Key account
    manager"; the executive sponsor owns actions of key accounts only (only they have one)."""
    for rule, owner in _owner_rules(pack):
        if is_manager_owner(owner):
            assert owner["en"].startswith(("Key account manager", "Account manager")), rule.id
            assert owner["zh"].startswith(("重点客户经理", "客户经理")), rule.id
        if "potential" in rule.when_text and owner["en"].startswith("Key account manager"):
            pytest.fail(f"{rule.id}: a potential key account has no key account manager")
        if "sponsor" in owner["en"]:
            assert 'tier == "key"' in rule.when_text, rule.id


def test_playbook_names_the_account_manager_as_owner(tmp_path):
    """End to end: a key account whose manager is 张伟 gets 张伟 as the owner of its account plan; the
    retention review stays with the sales director (who leads it), without the manager's name."""
    data = tmp_path / "accounts.csv"
    rows = ["account_id,account_name,account_manager,sales,sales_prev,nps,open_complaints,oldest_complaint_days"]
    rows.append("K1,华东汽车集团,张伟,800000,1200000,3,1,45")
    rows += [f"S{i},小客户{i},,20000,20000,8,0,0" for i in range(10)]
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["evaluate", str(data), "--as-of", "2026-11-27", "--out", str(out)])
    assert result.exit_code == 0, result.output
    playbook = next((out / "playbooks").glob("k1-*.md")).read_text(encoding="utf-8")
    plan_lines = [line for line in playbook.splitlines() if line.startswith("| ")]
    account_plan = next(line for line in plan_lines if line.startswith("| Map the contact points"))
    assert "张伟 (Key account manager)" in account_plan
    retention = next(line for line in plan_lines if line.startswith("| Defection-prevention review"))
    assert "| Sales director |" in retention and "张伟" not in retention


def test_small_export_with_many_small_regions(pack):
    """A 30-row export over 8 regions (7 of 4 accounts, 1 of 2): in each 4-account region the sales are
    40, 30, 20, 10 (largest 40% < 50%: comparable customers, no verdict although the HHI is 3,000); in the
    2-account region one customer holds 95%: it dominates (judged from two accounts; only its HHI is too
    small a sample), and the other (5% of it) is no counterweight."""
    rows = []
    for r in range(7):
        rows += [{"account_id": f"R{r}{k}", "sales": s * 1_000, "region": f"Region {r}"}
                 for k, s in enumerate((40, 30, 20, 10))]
    rows += [{"account_id": "X0", "sales": 90_000, "region": "Tiny"}, {"account_id": "X1", "sales": 5_000,
                                                                        "region": "Tiny"}]
    evaluation, acc = evaluate_rows(pack, rows)
    assert not any({"region_dominant", "region_counterweight"} & set(a.value("dependence_finding") or [])
                   for k, a in acc.items() if k != "X0")
    assert acc["X0"].value("dependence_finding") == ["major_customer", "region_dominant"]
    regions = summarise(evaluation).regions
    assert [r.region for r in regions if r.balance] == ["Tiny"]
    assert {r.region: r.concentration for r in regions}["Tiny"] == "too_small"
    assert {r.concentration for r in regions if r.region != "Tiny"} == {"high"}  # HHI 3,000, reported only
