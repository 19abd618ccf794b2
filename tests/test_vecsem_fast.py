"""The vector comparisons' fast paths (a column against a constant, nullable booleans) give exactly
what the general comparison gives (values, missing places, and the values under them) on tricky
columns, and agree with the row semantics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kamrules.language import expr as ex
from kamrules.language import vecsem
from kamrules.language.rowsem import compare

OPS = ["==", "!=", "<", "<=", ">", ">="]
NAN = float("nan")


def general_compare(op: str, left: pd.Series, right: pd.Series) -> pd.Series:
    """The comparison as vecsem has always made it, for any two vectors (the reference)."""
    missing = vecsem._missing(left) | vecsem._missing(right)
    if pd.api.types.is_float_dtype(left) or pd.api.types.is_float_dtype(right):
        left, right = vecsem.round_series(vecsem._as_float(left)), vecsem.round_series(vecsem._as_float(right))
    with np.errstate(all="ignore"):
        values = compare(op, left.astype(object).where(~missing, 0), right.astype(object).where(~missing, 0)) \
            if left.dtype == object or right.dtype == object else compare(op, left, right)
    result = pd.Series(np.asarray(values, dtype=bool), index=left.index, dtype="boolean")
    result[missing.to_numpy()] = pd.NA
    return result


def as_objects(column: pd.Series) -> pd.Series:
    """A nullable boolean column as the features used to hand it over: True / False / None objects."""
    if isinstance(column.dtype, pd.BooleanDtype) and column.isna().any():
        return column.astype(object).where(column.notna(), None)
    return column


def same(fast: pd.Series, reference: pd.Series) -> None:
    """Equal values and missing places, and equal values under the missing places too."""
    pd.testing.assert_series_equal(fast, reference, check_exact=True)
    assert (fast.array._data == reference.array._data).all()
    assert (fast.array._mask == reference.array._mask).all()


def check(node: ex.Compare, frame: pd.DataFrame) -> None:
    fast = ex.condition_vector(node, frame)
    objects = frame.apply(as_objects)
    reference = general_compare(node.op, ex.eval_vector(node.left, objects), ex.eval_vector(node.right, objects))
    same(fast, reference)
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    assert [None if v is pd.NA else v for v in fast.tolist()] == [ex.eval_condition(node, r) for r in rows]


numbers = st.sampled_from([NAN, 0.0, -0.0, 1.0, 0.1 + 0.2, 0.3, -2.5, 1e300, -1e300, 7.0, 123456.123456789])
texts = st.sampled_from([None, NAN, pd.NA, "consumer", "Consumer", "", "東京", "zz", "consumer "])
flags = st.sampled_from([None, True, False])
tables = st.lists(st.tuples(numbers, texts, flags, flags), min_size=1, max_size=12).map(
    lambda rows: pd.DataFrame(rows, columns=["n", "t", "b", "c"]).astype(
        {"n": "float64", "t": object, "b": "boolean", "c": "boolean"}))


@settings(max_examples=300, deadline=None)
@given(tables, st.sampled_from(OPS), st.sampled_from([0.3, 0.0, 1, -2.5, 1e300, float("inf"), 7.0000000001]),
       st.booleans())
def test_numbers_against_a_constant(frame, op, constant, swapped):
    column, value = ex.Name("n", ex.NUMBER), ex.Const(constant, ex.NUMBER)
    check(ex.Compare(op, value, column) if swapped else ex.Compare(op, column, value), frame)
    check(ex.Compare(op, ex.Arith("/", column, ex.Const(3.0, ex.NUMBER)), value), frame)


@settings(max_examples=300, deadline=None)
@given(tables, st.sampled_from(OPS), st.sampled_from(["consumer", "", "東京", "consumer "]), st.booleans())
def test_texts_against_a_constant(frame, op, constant, swapped):
    column, value = ex.Name("t", ex.STRING), ex.Const(constant, ex.STRING)
    node = ex.Compare(op, value, column) if swapped else ex.Compare(op, column, value)
    check(node, frame)
    check(ex.Compare(op, column, ex.Param("p", constant, ex.CATEGORY)), frame)


@settings(max_examples=300, deadline=None)
@given(tables, st.sampled_from(OPS), st.booleans(), st.booleans())
def test_nullable_booleans(frame, op, constant, swapped):
    left, right = ex.Name("b", ex.BOOLEAN), ex.Const(constant, ex.BOOLEAN)
    check(ex.Compare(op, right, left) if swapped else ex.Compare(op, left, right), frame)
    check(ex.Compare(op, left, ex.Name("c", ex.BOOLEAN)), frame)
    check(ex.Compare(op, left, ex.Param("flag", constant, ex.BOOLEAN)), frame)


@pytest.mark.parametrize("values", [
    ["consumer", 5, None],  # mixed objects: the general path
    ["consumer", pd.NaT, "x"],
    [None, None, None],
])
def test_other_object_columns_take_the_general_path(values):
    frame = pd.DataFrame({"t": pd.Series(values, dtype=object)})
    for op in ("==", "!="):
        node = ex.Compare(op, ex.Name("t", ex.STRING), ex.Const("consumer", ex.STRING))
        same(ex.condition_vector(node, frame), general_compare(op, frame["t"], pd.Series("consumer", dtype=object,
                                                                                          index=frame.index)))


def test_missing_and_unusual_constants_take_the_general_path():
    frame = pd.DataFrame({"n": [1.0, NAN, 3.0], "t": pd.Series(["a", None, "b"], dtype=object)})
    for node, right in [
        (ex.Compare("==", ex.Name("n", ex.NUMBER), ex.Param("p", NAN, ex.NUMBER)), pd.Series(NAN, index=frame.index)),
        (ex.Compare("==", ex.Name("t", ex.STRING), ex.Param("p", None, "")), pd.Series(None, index=frame.index,
                                                                                        dtype=object)),
        (ex.Compare("<", ex.Name("n", ex.NUMBER), ex.Const(np.int64(2), ex.NUMBER)), pd.Series(2.0, index=frame.index)),
    ]:
        same(ex.condition_vector(node, frame), general_compare(node.op, frame[node.left.name], right))


def test_a_missing_boolean_in_a_count_condition_is_unknown_not_an_error():
    frame = pd.DataFrame({"b": pd.array([True, None, False], dtype="boolean")})
    node = ex.Compare("==", ex.Name("b", ex.BOOLEAN), ex.Const(True, ex.BOOLEAN))
    assert ex.condition_vector(node, frame).tolist() == [True, pd.NA, False]


def pandas_rounding(series: pd.Series) -> pd.Series:
    """round_series as pandas operations (the reference)."""
    values = series.astype("float64")
    with np.errstate(over="ignore", invalid="ignore"):
        result = np.round(values, ex.NDIGITS)
    if np.isinf(result.to_numpy()).any():
        result = result.where(np.isfinite(result) | ~np.isfinite(values), values)
    return result + 0.0


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.floats(), st.integers(-10**6, 10**6).map(lambda n: n / 1000),
                          st.sampled_from([-0.0, 2e299, -1e305, 1.23456789012, -4.9999999995e-10])), max_size=20),
       st.sampled_from(["float64", "object"]))
def test_rounding_on_arrays_is_the_pandas_rounding(numbers, dtype):
    series = pd.Series(numbers, dtype=dtype, index=pd.RangeIndex(len(numbers)) * 3, name="x")
    fast, reference = vecsem.round_series(series), pandas_rounding(series)
    pd.testing.assert_series_equal(fast, reference, check_exact=True)
    assert (fast.to_numpy().view("int64") == reference.to_numpy().view("int64")).all()
