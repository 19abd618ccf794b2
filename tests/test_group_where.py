"""Group functions with `where:` (only the accounts where it holds take part) and `rank` with `ties: ordered`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kamrules.engine import measures
from kamrules.engine.features import compute_derived, prepare_facts
from kamrules.errors import RuleError
from kamrules.pack import load_pack

from conftest import write_pack

PACK = """\
fields:
  account_id: {type: string, required: true}
  sales: {type: number, required: true}
  region: {type: string}
  kind: {type: category, values: [person, firm]}
features:
  firm_share: {share_of: sales, where: kind == "firm"}
  firm_total: {sum: sales, where: kind == "firm", within: region}
  rank_shared: {rank: sales}
  rank_ordered: {rank: sales, ties: ordered}
  firm_order: {rank: sales, where: kind == "firm", ties: ordered, within: region}
"""

FACTS = pd.DataFrame({
    "account_id": ["a", "b", "c", "d", "e"],
    "sales": [50.0, 30.0, 50.0, 20.0, 30.0],
    "region": ["n", "n", "s", "s", None],
    "kind": ["firm", "person", "firm", "firm", None],
})


def _derived() -> pd.DataFrame:
    pack = load_pack(write_pack(Path("rules"), {"pack.yaml": PACK}))
    return compute_derived(pack, prepare_facts(pack, FACTS.copy()), dt.date(2026, 11, 27))


def test_where_limits_which_accounts_take_part():
    derived = _derived()
    # firms a, c, d make 120: a and c hold 50/120, d 20/120; the others take no part
    assert derived["firm_share"].round(6).tolist()[0] == round(50 / 120, 6)
    assert derived["firm_share"].isna().tolist() == [False, True, False, False, True]
    # a group value is given to every account of the group; only firms are summed
    assert derived["firm_total"].tolist()[:4] == [50.0, 50.0, 70.0, 70.0]
    assert np.isnan(derived["firm_total"].iloc[4])  # no region: no group


def test_rank_ties_shared_or_ordered():
    derived = _derived()
    assert derived["rank_shared"].tolist() == [1.0, 3.0, 1.0, 5.0, 3.0]
    assert derived["rank_ordered"].tolist() == [1.0, 3.0, 2.0, 5.0, 4.0]  # ties in input order
    assert derived["firm_order"].fillna(-1).tolist() == [1.0, -1.0, 1.0, 2.0, -1.0]


def test_ordinal_ranks_match_a_stable_sort():
    rng = np.random.default_rng(7)
    values = rng.integers(0, 5, 200).astype("float64")
    values[rng.integers(0, 200, 20)] = np.nan
    codes = rng.integers(0, 3, 200)
    ranks = measures.ordinal_ranks(values, codes)
    for group in range(3):
        inside = np.flatnonzero((codes == group) & ~np.isnan(values))
        expected = inside[np.argsort(values[inside], kind="stable")]
        assert ranks[expected].tolist() == list(map(float, range(1, len(expected) + 1)))
    assert np.isnan(ranks[np.isnan(values)]).all()


@pytest.mark.parametrize("extra, message", [
    ("  bad: {days_since: sales, where: sales > 1}\n", "feature 'bad': where: only share_of, rank, percentile, hhi, sum, mean, max, min, count take a condition"),
    ("  bad: {sum: sales, ties: ordered}\n", "feature 'bad': ties: only 'rank' takes it"),
    ("  bad: {rank: sales, ties: first}\n", "feature 'bad': ties: must be 'shared' (equal values share the lower rank) or 'ordered' (one rank each, ties in the Pareto order)"),
])
def test_where_and_ties_errors(extra, message):
    with pytest.raises(RuleError) as raised:
        load_pack(write_pack(Path("rules"), {"pack.yaml": PACK + extra}))
    assert message in str(raised.value)


def test_ordered_ties_go_by_account_id_whatever_the_row_order():
    pack = load_pack(write_pack(Path("rules"), {"pack.yaml": PACK}))
    frame = pd.DataFrame({"account_id": ["b", "a", "c"], "sales": [5.0, 5.0, 5.0], "region": ["n"] * 3,
                          "kind": ["firm"] * 3})
    forward = compute_derived(pack, prepare_facts(pack, frame.copy()), dt.date(2026, 11, 27))
    backward = compute_derived(pack, prepare_facts(pack, frame.iloc[::-1].reset_index(drop=True)), dt.date(2026, 11, 27))
    by_id = lambda d: dict(zip(d["account_id"], d["rank_ordered"]))  # noqa: E731
    assert by_id(forward) == by_id(backward) == {"a": 1.0, "b": 2.0, "c": 3.0}
