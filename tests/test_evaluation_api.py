"""Reading an evaluation (kamrules/engine/evaluation.py, outcomes.py): a decision's outcomes, a column
by name, an account's results — read-only, with the engine's mask encoding kept inside the engine."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from kamrules.engine.evaluate import evaluate
from kamrules.engine.evaluation import AccountResult, DecisionResult, Evaluation, Hit
from kamrules.pack import load_pack

from conftest import write_pack

AS_OF = dt.date(2026, 11, 27)
PACK = """\
fields:
  account_id: {type: string, required: true}
  sales: {type: number}
  nps: {type: number}
decisions:
  tier:
    hit: first
    outputs: {tier: {type: category, values: [key, standard, small]}}
    rules:
      - {id: big, when: sales >= 100, then: {tier: key}}
      - {id: mid, when: sales >= 10, then: {tier: standard}}
    default: {tier: small}
  signals:
    hit: collect
    outputs:
      signal: {type: category, values: [detractor, quiet, big]}
      points: {type: number, total: true}
    rules:
      - {id: detractor, when: nps <= 6, then: {signal: detractor, points: 2}}
      - {id: quiet, when: nps is missing, then: {signal: quiet, points: 1}}
      - {id: big, when: 'tier == "key"', then: {signal: big, points: 5}}
"""


@pytest.fixture
def evaluation(tmp_path) -> Evaluation:
    pack = load_pack(write_pack(tmp_path / "rules", {"00.yaml": PACK}))
    frame = pd.DataFrame({"account_id": ["A", "B", "C", "D", "E"], "sales": [500.0, 50.0, 5.0, 500.0, None],
                          "nps": [3.0, None, 9.0, 3.0, 7.0], "unread": [None] * 5})
    return evaluate(pack, frame, as_of=AS_OF, headers={"account_id": "Id", "sales": "Sales", "nps": "NPS"},
                    source={"format": "csv", "encoding": "utf-8"})


def test_a_decisions_outcomes_are_its_distinct_outcomes_and_each_accounts(evaluation):
    tiers = evaluation.outcomes("tier")
    assert len(tiers) == 3  # numbered in order of their first account: A key, B standard, C small
    assert [o.outputs["tier"] for o in tiers.distinct] == ["key", "standard", "small"]
    assert [o.rule_ids for o in tiers.distinct] == [["big"], ["mid"], ["default"]]
    assert [[r.id for r in o.rules] for o in tiers.distinct] == [["big"], ["mid"], []]
    assert [o.default for o in tiers.distinct] == [False, False, True]
    assert tiers.codes().tolist() == [0, 1, 2, 0, 2] and tiers.codes(1, 3).tolist() == [1, 2]
    assert tiers.accounts(0).tolist() == [0, 3] and tiers.accounts(2).tolist() == [2, 4]
    assert tiers.of(4).outputs == {"tier": "small"}
    assert tiers.per_account(["K", "S", "-"]).tolist() == ["K", "S", "-", "K", "-"]
    assert tiers.decides(0) and tiers.decides(1)
    signals = evaluation.outcomes("signals")
    assert [o.rule_ids for o in signals.distinct] == [["detractor", "big"], ["quiet"], []]
    assert [o.reads for o in signals.distinct] == [["nps", "tier"], ["nps"], []]
    assert signals.codes().tolist() == [0, 1, 2, 0, 2]
    assert signals.distinct[0].outputs == {"signal": ["detractor", "big"], "points": [2.0, 5.0]}
    with pytest.raises(ValueError):  # read-only
        tiers.codes()[0] = 1
    with pytest.raises(KeyError):
        evaluation.outcomes("no_such_decision")


def test_outcomes_agree_with_each_accounts_results(evaluation):
    for decision in evaluation.pack.decisions:
        outcomes = evaluation.outcomes(decision.id)
        for position in range(len(evaluation.accounts)):
            result = evaluation.account(position).decisions[decision.id]
            outcome = outcomes.of(position)
            assert result.outputs == dict(outcome.outputs)
            assert [h.rule for h in result.hits] == outcome.rule_ids


def test_a_column_by_name(evaluation):
    assert evaluation.column("tier").tolist() == ["key", "standard", "small", "key", "small"]
    assert evaluation.column("signals_count").tolist() == [2.0, 1.0, 0.0, 2.0, 0.0]
    assert evaluation.column("points_total").tolist() == [7.0, 1.0, 0.0, 7.0, 0.0]
    lists = evaluation.column("signal")  # a list policy's output: each account's list, shared by outcome
    assert lists.tolist() == [["detractor", "big"], ["quiet"], [], ["detractor", "big"], []]
    assert lists[0] is lists[3]
    assert evaluation.column("no_such_name") is None


def test_an_evaluation_is_read_only_and_says_what_it_was_made_from(evaluation):
    for name, value in (("table", None), ("timings", {}), ("source", {}), ("present_fields", ())):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(evaluation, name, value)
    with pytest.raises(TypeError):
        evaluation.timings["write"] = 1.0
    with pytest.raises(TypeError):
        evaluation.source["present_fields"] = []
    assert dict(evaluation.source) == {"format": "csv", "encoding": "utf-8"}
    assert set(evaluation.timings) == {"features", "rules", "results"}
    # the fields the file has: a mapped column with a value for at least one account
    assert evaluation.present_fields == ("account_id", "sales", "nps")
    assert not hasattr(evaluation, "masks")


def test_without_the_files_columns_nothing_is_said_of_present_fields(tmp_path):
    pack = load_pack(write_pack(tmp_path / "rules", {"00.yaml": PACK}))
    frame = pd.DataFrame({"account_id": ["A"], "sales": [None], "nps": [None]})
    assert evaluate(pack, frame, as_of=AS_OF).present_fields is None
    present = evaluate(pack, frame, as_of=AS_OF, headers={"account_id": "Id", "sales": "Sales"}).present_fields
    assert present == ("account_id",)  # a column empty all the way down is as missing as an absent one


def test_an_evaluation_built_from_a_list_of_accounts_reads_alike(tmp_path):
    """A library user (or a test) may build an Evaluation from AccountResults: its outcomes and
    columns come from those accounts."""
    pack = load_pack(write_pack(tmp_path / "rules", {"00.yaml": PACK}))
    signals = pack.decision("signals")
    accounts = []
    for i, (tier, fired) in enumerate([("key", ["big"]), ("small", []), ("key", ["big"]), ("key", [])]):
        account = AccountResult(i, i + 2, f"A{i}", None, {"sales": None})
        rules = [r for r in signals.rules if r.id in fired]
        account.decisions["tier"] = DecisionResult("tier", {"tier": tier}, (Hit("default", {}, {}),))
        account.decisions["signals"] = DecisionResult(
            "signals", {"signal": [r.then["signal"] for r in rules], "points": [r.then["points"] for r in rules]},
            tuple(Hit(r.id, dict(r.then), {}) for r in rules))
        accounts.append(account)
    built = Evaluation(pack=pack, accounts=accounts, as_of=AS_OF)
    tiers = built.outcomes("tier")
    assert [o.outputs["tier"] for o in tiers.distinct] == ["key", "small"] and tiers.codes().tolist() == [0, 1, 0, 0]
    assert all(o.default for o in tiers.distinct)
    assert built.outcomes("signals").codes().tolist() == [0, 1, 0, 1]
    assert built.outcomes("signals").decides(2) and not built.outcomes("signals").decides(0)
    assert built.column("signal").tolist() == [["big"], [], ["big"], []]
    assert built.column("tier") is None  # no table: single values are read from the accounts
    assert isinstance(built.accounts, tuple)
    assert np.array_equal(built.outcomes("tier").accounts(1), [1])
