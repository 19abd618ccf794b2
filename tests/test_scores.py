"""Scores resting on too few criteria: `min_criteria` leaves them missing, `criteria_of` counts them."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from kamrules.engine.features import compute_derived, prepare_facts
from kamrules.errors import RuleError
from kamrules.pack import load_pack
from kamrules.pack.whatif import with_params

from conftest import write_pack

PACK = """\
fields:
  account_id: {type: string, required: true}
  sales: {type: number, required: true}
  margin: {type: number}
  intent: {type: number}
  price: {type: number}
params:
  enough: 2
scores:
  index:
    min_criteria: MINCRIT
    criteria:
      - {field: margin, weight: 1}
      - {field: intent, weight: 1}
      - {field: price, weight: 1, better: lower}
features:
  index_basis: {criteria_of: index}
decisions:
  tier:
    hit: first
    outputs: {tier: {type: category, values: [scored, unscored]}}
    rules:
      - id: scored
        when: index is not missing and index_basis >= 2
        then: {tier: scored}
    default: {tier: unscored}
"""

FACTS = pd.DataFrame({
    "account_id": ["a", "b", "c", "d"],
    "sales": [10.0, 20.0, 30.0, 40.0],
    "margin": [0.1, 0.2, None, None],
    "intent": [3.0, None, 4.0, None],
    "price": [2.0, None, None, None],
})


def _pack(min_criteria: str):
    return load_pack(write_pack(Path("rules"), {"pack.yaml": textwrap.dedent(PACK.replace("MINCRIT", min_criteria))}))


def _derived(pack) -> pd.DataFrame:
    return compute_derived(pack, prepare_facts(pack, FACTS.copy()), dt.date(2026, 11, 27))


def test_an_account_below_min_criteria_has_no_score_and_its_basis_is_counted():
    derived = _derived(_pack("2"))
    assert derived["index_basis"].tolist() == [3.0, 1.0, 1.0, 0.0]
    # a and the accounts with 2+ criteria are scored; b and c rest on one criterion, d on none
    assert derived["index"].notna().tolist() == [True, False, False, False]


def test_min_criteria_from_a_param_follows_set():
    pack = _pack("params.enough")
    assert _derived(pack)["index"].notna().tolist() == [True, False, False, False]
    relaxed = with_params(pack, ["enough=1"])
    assert _derived(relaxed)["index"].notna().tolist() == [True, True, True, False]


def test_without_min_criteria_one_criterion_is_enough():
    text = textwrap.dedent(PACK.replace("MINCRIT", "1"))
    pack = load_pack(write_pack(Path("rules"), {"pack.yaml": text.replace("    min_criteria: 1\n", "")}))
    assert _derived(pack)["index"].notna().tolist() == [True, True, True, False]


@pytest.mark.parametrize("value, message", [
    ("4", "min_criteria: must be a whole number from 1 to 3 (the score's criteria), or params.NAME; it is 4"),
    ("0", "min_criteria: must be a whole number from 1 to 3 (the score's criteria), or params.NAME; it is 0"),
    ("two", "min_criteria: must be a whole number from 1 to 3 (the score's criteria), or params.NAME"),
    ("params.enogh", "min_criteria: unknown parameter 'params.enogh' (did you mean 'enough'?)"),
])
def test_min_criteria_errors_name_the_place(value, message):
    with pytest.raises(RuleError) as raised:
        _pack(value)
    assert "rules/pack.yaml:11:19: score 'index': " + message in str(raised.value)


def test_criteria_of_names_a_score():
    text = textwrap.dedent(PACK.replace("MINCRIT", "1")).replace("criteria_of: index}", "criteria_of: indx}")
    with pytest.raises(RuleError) as raised:
        load_pack(write_pack(Path("rules"), {"pack.yaml": text}))
    assert "feature 'index_basis': criteria_of: 'indx' is not a score (did you mean 'index'?)" in str(raised.value)


TOTALS = """\
fields:
  account_id: {type: string, required: true}
  sales: {type: number, required: true}
  days: {type: number}
decisions:
  signals:
    hit: collect
    outputs:
      signal: {type: category, values: [late, very_late, small]}
      weight: {type: number, total: true}
    rules:
      - {id: late, when: days > 60, then: {signal: late, weight: 0.5}}
      - {id: very_late, when: days > 90, then: {signal: very_late, weight: 1}}
      - {id: small, when: sales < 5, then: {signal: small}}
  level:
    hit: first
    outputs: {level: {type: category, values: [high, low]}}
    rules:
      - {id: high, when: weight_total >= 1.5, then: {level: high}}
    default: {level: low}
"""


@pytest.mark.parametrize("per_account", [False, True])
def test_a_collect_decision_totals_its_number_outputs_for_later_decisions(per_account):
    from kamrules.engine.evaluate import evaluate
    from kamrules.results.explain import account_values

    pack = load_pack(write_pack(Path("rules"), {"pack.yaml": TOTALS}))
    frame = pd.DataFrame({"account_id": ["a", "b", "c", "d"], "sales": [1.0, 10.0, 10.0, 10.0],
                          "days": [120.0, 70.0, None, 95.0]})
    evaluation = evaluate(pack, frame, as_of=dt.date(2026, 11, 27), per_account=per_account)
    levels = [account.decisions["level"].outputs["level"] for account in evaluation.accounts]
    assert levels == ["high", "low", "low", "high"]  # 0.5 + 1 (+ nothing for 'small') = 1.5
    totals = [account_values(pack, account)["weight_total"] for account in evaluation.accounts]
    assert totals == [1.5, 0.5, 0.0, 1.5]
    assert [account.value("weight_total") for account in evaluation.accounts] == totals


def test_a_total_name_is_claimed():
    text = TOTALS.replace("  days: {type: number}\n", "  days: {type: number}\n  weight_total: {type: number}\n")
    with pytest.raises(RuleError) as raised:
        load_pack(write_pack(Path("rules"), {"pack.yaml": text}))
    assert ("rules/pack.yaml:7:3: decision 'signals' total 'weight_total' is already defined as a field at "
            "rules/pack.yaml:5:3: names must be unique") in str(raised.value)


def test_total_is_for_number_outputs_of_collect_decisions():
    text = TOTALS.replace("      signal: {type: category, values: [late, very_late, small]}",
                          "      signal: {type: category, values: [late, very_late, small], total: true}")
    with pytest.raises(RuleError) as raised:
        load_pack(write_pack(Path("rules"), {"pack.yaml": text}))
    assert ("decision 'signals': output 'signal': total: write 'total: true' on a number output of a collect "
            "decision (its sum over the rules that fire, as signal_total)") in str(raised.value)
    # without total: true, no total is made (and the name stays free)
    plain = TOTALS.replace("      weight: {type: number, total: true}", "      weight: {type: number}")
    with pytest.raises(RuleError) as raised:
        load_pack(write_pack(Path("rules"), {"pack.yaml": plain}))
    assert "unknown name 'weight_total'" in str(raised.value)
