"""The sort-based ranks, percentiles and cumulative shares of `measures` (the features and the
portfolio summary both use them) give, bit for bit, what the straightforward pandas versions give
(grouped rank, the formulas `measures` used to compute with pandas, kept here as the reference), on
tricky inputs: ties, missing values, infinities, signed zeros, empty and one-row tables, missing groups."""

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


def reference_cumulative_share(values: pd.Series, ids: list | None = None) -> pd.Series:
    """The pandas formulation: a descending sort (ties by id text, missing ids last, then position), a
    running sum, divided by its end, assigned by position."""
    clipped = measures.positive(values)
    result = pd.Series(np.nan, index=values.index)
    present = [i for i in range(len(values)) if clipped.iloc[i] == clipped.iloc[i]]
    if not present:
        return result
    ids = [None] * len(values) if ids is None else ids
    def tie(i):
        return (1, "") if ids[i] is None or ids[i] == "" else (0, str(ids[i]))
    order = sorted(present, key=lambda i: (-clipped.iloc[i], *tie(i), i))
    running = clipped.iloc[order].cumsum().to_numpy()
    if not running[-1] > 0:
        return result
    result.iloc[order] = np.minimum(running / running[-1], 1.0)
    return result


def reference_percentile_rank(values: pd.Series, keys: pd.Series | None = None, lower_first: bool = True) -> pd.Series:
    """The pandas formulation: grouped average rank, grouped count of present values."""
    numbers = pd.to_numeric(values, errors="coerce").astype("float64")
    ordered = numbers if lower_first else -numbers
    keys = pd.Series(0, index=values.index) if keys is None else keys
    average_rank = ordered.groupby(keys, sort=False).rank(method="average")
    present = numbers.notna().astype("float64").groupby(keys, sort=False).transform("sum")
    return ((average_rank - 0.5) / present.where(present > 0) * 100).where(numbers.notna())


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
    grouped = pd.Series(measures.ranks(ordered.to_numpy(), codes, average=False), index=numbers.index)
    same_bits(grouped, numbers.groupby(keys, sort=False).rank(method="min", ascending=ascending))
    whole = pd.Series(measures.ranks(ordered.to_numpy(), None, average=False), index=numbers.index)
    same_bits(whole, numbers.rank(method="min", ascending=ascending))
    average = pd.Series(measures.ranks(numbers.to_numpy(), codes, average=True), index=numbers.index)
    same_bits(average, numbers.groupby(keys, sort=False).rank(method="average"))


@settings(max_examples=300, deadline=None)
@given(rows, st.booleans())
def test_percentile_ranks_are_the_measures_percentile_rank(data, lower_first):
    numbers, keys, codes = frame_of(data)
    same_bits(measures.percentile_by_codes(numbers, codes, lower_first),
              reference_percentile_rank(numbers, keys, lower_first=lower_first))
    same_bits(measures.percentile_by_codes(numbers, None, lower_first),
              reference_percentile_rank(numbers, lower_first=lower_first))


@settings(max_examples=300, deadline=None)
@given(rows)
def test_cumulative_shares_are_the_measures_cumulative_share(data):
    numbers, _, _ = frame_of(data)
    same_bits(measures.cumulative_share(numbers), reference_cumulative_share(numbers))


ids = st.sampled_from([None, "", "A-9", "A-10", "a", "b", "中", "00042"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(values, ids), max_size=40), st.randoms())
def test_cumulative_shares_break_ties_by_id_whatever_the_input_order(data, random):
    numbers = pd.Series([v for v, _ in data], dtype="float64")
    names = [i for _, i in data]
    tied = np.array(names, dtype=object)
    same_id = [i or None for i in names]  # "" is a missing id too
    same_bits(measures.cumulative_share(numbers, tied), reference_cumulative_share(numbers, names))
    shuffled = list(range(len(data)))
    random.shuffle(shuffled)
    again = measures.cumulative_share(numbers.iloc[shuffled].reset_index(drop=True), tied[shuffled])
    by_id = {}  # (value, id) -> the shares of that account: equal accounts may swap, nothing else
    for i, share in enumerate(again):
        by_id.setdefault((repr(data[shuffled[i]][0]), same_id[shuffled[i]]), []).append(repr(share))
    before = {}
    for i, share in enumerate(measures.cumulative_share(numbers, tied)):
        before.setdefault((repr(data[i][0]), same_id[i]), []).append(repr(share))
    assert {k: sorted(v) for k, v in by_id.items()} == {k: sorted(v) for k, v in before.items()}


def test_equal_sales_go_by_account_id_in_text_order():
    numbers = pd.Series([5.0, 5.0, 5.0, 5.0, 10.0])
    tied = np.array(["A-9", None, "A-10", "B", "Z"], dtype=object)
    assert measures.pareto_order(numbers, tied) == [4, 2, 0, 3, 1]  # "A-10" < "A-9" < "B", missing last
    assert measures.cumulative_share(numbers, tied).tolist() == [20 / 30, 1.0, 15 / 30, 25 / 30, 10 / 30]
    assert measures.pareto_order(numbers) == [4, 0, 1, 2, 3]  # without ids: input order
    assert list(measures.stable_order(np.array([1.0, 1.0]), np.array(["b", "b"], dtype=object))) == [0, 1]


def test_large_tables_with_many_ties_and_groups():
    generator = np.random.default_rng(13)
    numbers = pd.Series(generator.integers(0, 50, 20_000).astype("float64"))
    numbers[generator.random(20_000) < 0.1] = NAN
    regions = pd.Series(generator.choice(["a", "b", "c", None], 20_000), dtype=object)
    codes = pd.factorize(regions, use_na_sentinel=True)[0]
    keys = pd.Series(codes)
    same_bits(measures.percentile_by_codes(numbers, codes), reference_percentile_rank(numbers, keys))
    same_bits(pd.Series(measures.ranks((-numbers).to_numpy(), codes, average=False)),
              numbers.groupby(keys, sort=False).rank(method="min", ascending=False))
    same_bits(measures.cumulative_share(numbers), reference_cumulative_share(numbers))
    many = pd.Series(np.arange(70_000) % 400)  # more groups than an int16 holds
    spread = pd.Series(generator.random(70_000))
    same_bits(pd.Series(measures.ranks(spread.to_numpy(), many.to_numpy(), average=True)),
              spread.groupby(many, sort=False).rank(method="average"))


def test_cumulative_share_follows_positions_whatever_the_labels():
    numbers = pd.Series([3.0, NAN, 1.0, 3.0, 2.0], index=[9, 4, 0, 7, 1])
    same_bits(measures.cumulative_share(numbers), reference_cumulative_share(numbers))
    same_bits(features._cumulative_share(numbers), features.ex.round_series(reference_cumulative_share(numbers)))
    repeated = pd.Series([3.0, 1.0, 2.0], index=[0, 0, 1])  # (pandas could not assign by such labels)
    assert measures.cumulative_share(repeated).tolist() == [0.5, 1.0, 5 / 6]
    assert list(measures.cumulative_share(repeated).index) == [0, 0, 1]


def test_a_value_without_a_group_has_no_percentile_rank():
    numbers = pd.Series([1.0, 2.0, 3.0, 4.0])
    keys = pd.Series(["a", None, "a", "b"], dtype=object)
    same_bits(measures.percentile_rank(numbers, keys), reference_percentile_rank(numbers, keys))
    assert np.isnan(measures.percentile_rank(numbers, keys)[1])


@settings(max_examples=300, deadline=None)
@given(st.lists(values.filter(lambda v: v == v), max_size=60))
def test_stable_order_is_numpys_stable_argsort(data):
    array = np.array(data, dtype="float64")
    assert (measures.stable_order(array) == np.argsort(array, kind="stable")).all()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([0.0, 1.0]), groups), max_size=40))
def test_group_counts_are_grouped_sums(data):
    table = pd.DataFrame(data, columns=["counted", "group"]).astype({"counted": "float64", "group": object})
    codes = pd.factorize(table["group"], use_na_sentinel=True)[0]
    counted = table["counted"]
    same_bits(pd.Series(measures.group_counts(counted.to_numpy(), codes)),
              counted.groupby(pd.Series(codes), sort=False).transform("sum"))
    same_bits(pd.Series(measures.group_counts(counted.to_numpy(), None)),
              counted.groupby(pd.Series(0, index=counted.index), sort=False).transform("sum"))


@pytest.mark.parametrize("size", [0, 1, 5])
def test_absent_boolean_fields_are_pandas_missing_booleans(size):
    index = pd.RangeIndex(size)
    built, reference = features._all_missing_booleans(index), pd.Series(pd.NA, index=index, dtype="boolean")
    pd.testing.assert_series_equal(built, reference, check_exact=True)
    assert (built.array._data == reference.array._data).all() and built.array._mask.all()
