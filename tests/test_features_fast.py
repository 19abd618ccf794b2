"""The features stage's sort-based ranks, percentiles and cumulative shares give, bit for bit, what
the straightforward pandas versions give (grouped rank, `measures`), on tricky inputs: ties, missing
values, infinities, signed zeros, empty and one-row tables, missing groups."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kamrules.engine import features, measures

NAN = float("nan")
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # inf / inf, as in measures
INF = float("inf")
values = st.sampled_from([NAN, INF, -INF, 0.0, -0.0, 1.0, 1.0, 2.5, -3.0, 1e300, -1e-300, 7.0, 100.0])
groups = st.sampled_from([None, "north", "south", "east", "东"])
rows = st.lists(st.tuples(values, groups), max_size=40)


def same_bits(left: pd.Series, right: pd.Series) -> None:
    """Equal as floats, NaN in the same places, and the same bits (no -0.0 against 0.0)."""
    pd.testing.assert_series_equal(left, right, check_exact=True, check_names=False)
    assert (left.to_numpy().view("int64") == right.to_numpy().view("int64")).all()


def frame_of(data: list) -> tuple[pd.Series, pd.Series, np.ndarray]:
    table = pd.DataFrame(data, columns=["value", "group"]).astype({"value": "float64", "group": object})
    codes = pd.factorize(table["group"], use_na_sentinel=True)[0]
    return table["value"], pd.Series(codes, index=table.index), codes


@settings(max_examples=300, deadline=None)
@given(rows, st.booleans())
def test_ranks_are_pandas_ranks(data, ascending):
    numbers, keys, codes = frame_of(data)
    ordered = numbers if ascending else -numbers
    grouped = pd.Series(features._ranks(ordered.to_numpy(), codes, average=False), index=numbers.index)
    same_bits(grouped, numbers.groupby(keys, sort=False).rank(method="min", ascending=ascending))
    whole = pd.Series(features._ranks(ordered.to_numpy(), None, average=False), index=numbers.index)
    same_bits(whole, numbers.rank(method="min", ascending=ascending))
    average = pd.Series(features._ranks(numbers.to_numpy(), codes, average=True), index=numbers.index)
    same_bits(average, numbers.groupby(keys, sort=False).rank(method="average"))


@settings(max_examples=300, deadline=None)
@given(rows, st.booleans())
def test_percentile_ranks_are_the_measures_percentile_rank(data, lower_first):
    numbers, keys, codes = frame_of(data)
    same_bits(features._percentile_rank(numbers, codes, lower_first),
              measures.percentile_rank(numbers, keys, lower_first=lower_first))
    same_bits(features._percentile_rank(numbers, None, lower_first),
              measures.percentile_rank(numbers, lower_first=lower_first))


@settings(max_examples=300, deadline=None)
@given(rows)
def test_cumulative_shares_are_the_measures_cumulative_share(data):
    numbers, _, _ = frame_of(data)
    same_bits(features._cumulative_share_by_position(numbers), measures.cumulative_share(numbers))


def test_large_tables_with_many_ties_and_groups():
    generator = np.random.default_rng(13)
    numbers = pd.Series(generator.integers(0, 50, 20_000).astype("float64"))
    numbers[generator.random(20_000) < 0.1] = NAN
    regions = pd.Series(generator.choice(["a", "b", "c", None], 20_000), dtype=object)
    codes = pd.factorize(regions, use_na_sentinel=True)[0]
    keys = pd.Series(codes)
    same_bits(features._percentile_rank(numbers, codes), measures.percentile_rank(numbers, keys))
    same_bits(pd.Series(features._ranks((-numbers).to_numpy(), codes, average=False)),
              numbers.groupby(keys, sort=False).rank(method="min", ascending=False))
    same_bits(features._cumulative_share_by_position(numbers), measures.cumulative_share(numbers))
    many = pd.Series(np.arange(70_000) % 400)  # more groups than an int16 holds
    spread = pd.Series(generator.random(70_000))
    same_bits(pd.Series(features._ranks(spread.to_numpy(), many.to_numpy(), average=True)),
              spread.groupby(many, sort=False).rank(method="average"))


def test_cumulative_share_follows_labels_not_positions():
    numbers = pd.Series([3.0, NAN, 1.0, 3.0, 2.0], index=[9, 4, 0, 7, 1])
    same_bits(features._cumulative_share(numbers), features.ex.round_series(measures.cumulative_share(numbers)))
    repeated = pd.Series([3.0, 1.0, 2.0], index=[0, 0, 1])  # as before: pandas cannot assign by such labels
    with pytest.raises(pd.errors.InvalidIndexError):
        measures.cumulative_share(repeated)
    with pytest.raises(pd.errors.InvalidIndexError):
        features._cumulative_share(repeated)


@settings(max_examples=300, deadline=None)
@given(st.lists(values.filter(lambda v: v == v), max_size=60))
def test_stable_order_is_numpys_stable_argsort(data):
    array = np.array(data, dtype="float64")
    assert (features._stable_order(array) == np.argsort(array, kind="stable")).all()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([0.0, 1.0]), groups), max_size=40))
def test_group_counts_are_grouped_sums(data):
    table = pd.DataFrame(data, columns=["counted", "group"]).astype({"counted": "float64", "group": object})
    codes = pd.factorize(table["group"], use_na_sentinel=True)[0]
    counted = table["counted"]
    same_bits(pd.Series(features._group_counts(counted.to_numpy(), codes)),
              counted.groupby(pd.Series(codes), sort=False).transform("sum"))
    same_bits(pd.Series(features._group_counts(counted.to_numpy(), None)),
              counted.groupby(pd.Series(0, index=counted.index), sort=False).transform("sum"))


@pytest.mark.parametrize("size", [0, 1, 5])
def test_absent_boolean_fields_are_pandas_missing_booleans(size):
    index = pd.RangeIndex(size)
    built, reference = features._all_missing_booleans(index), pd.Series(pd.NA, index=index, dtype="boolean")
    pd.testing.assert_series_equal(built, reference, check_exact=True)
    assert (built.array._data == reference.array._data).all() and built.array._mask.all()
