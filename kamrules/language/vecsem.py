"""Vector semantics: evaluating a resolved tree over a whole table with pandas (features and the
whole-portfolio readers). Values are float64 with NaN for missing; conditions are pandas "boolean"
with <NA> for unknown (Kleene logic, as the row semantics)."""

from __future__ import annotations

import contextlib
import contextvars
from typing import Any, Iterator

import numpy as np
import pandas as pd

from kamrules.language.functions import FUNCTIONS
from kamrules.language.nodes import (
    BOOLEAN, DATE, NDIGITS, NUMBER, And, Arith, Call, Compare, Const, Missing, Name, Neg, Node, Not, Or, Param,
)
from kamrules.language.rowsem import compare

# ---------------------------------------------------------------------------- vector evaluation


def eval_vector(node: Node, frame: pd.DataFrame) -> pd.Series:
    """Evaluate over a whole table. Values: float64 with NaN for missing; conditions: pandas
    "boolean" with <NA> for unknown. Dates arrive as datetime64 columns."""
    index = frame.index
    if isinstance(node, (Const, Param)):
        value = node.value
        if node.type == BOOLEAN:
            return _constant_booleans(bool(value), index)
        if node.type == DATE:
            return pd.Series(pd.Timestamp(value), index=index)
        if node.type == NUMBER:
            return pd.Series(float(value), index=index, dtype="float64")
        return pd.Series(value, index=index, dtype="object")
    if isinstance(node, Name):
        return frame[node.name]
    if isinstance(node, Neg):
        return round_series(-_as_float(eval_vector(node.operand, frame)))
    if isinstance(node, Arith):
        left = _as_float(eval_vector(node.left, frame))
        right = _as_float(eval_vector(node.right, frame))
        with np.errstate(all="ignore"):
            if node.op == "+":
                result = left + right
            elif node.op == "-":
                result = left - right
            elif node.op == "*":
                result = left * right
            else:
                result = left / right.where(right != 0)
        finite = np.isfinite(result)
        _note_overflow(~finite & result.notna())  # operands are finite here: an infinite result overflowed
        return round_series(result.where(finite))
    if isinstance(node, Call):
        return round_series(FUNCTIONS[node.func].vector([_as_float(eval_vector(a, frame)) for a in node.args]))
    return condition_vector(node, frame)


def condition_vector(node: Node, frame: pd.DataFrame) -> pd.Series:
    index = frame.index
    if isinstance(node, Const):
        return _constant_booleans(bool(node.value), index)
    if isinstance(node, Compare):
        left, right = eval_vector(node.left, frame), eval_vector(node.right, frame)
        fast = _compare_booleans(node.op, left, right)
        if fast is None:
            fast = _compare_with_constant(node, left, right)
        if fast is not None:
            return pd.Series(pd.arrays.BooleanArray(*fast), index=index)
        missing = _missing(left) | _missing(right)
        if pd.api.types.is_float_dtype(left) or pd.api.types.is_float_dtype(right):
            left, right = round_series(_as_float(left)), round_series(_as_float(right))
        with np.errstate(all="ignore"):
            values = compare(node.op, left.astype(object).where(~missing, 0), right.astype(object).where(~missing, 0)) \
                if left.dtype == object or right.dtype == object else compare(node.op, left, right)
        result = pd.Series(np.asarray(values, dtype=bool), index=index, dtype="boolean")
        result[missing.to_numpy()] = pd.NA
        return result
    if isinstance(node, Missing):
        missing = _missing(eval_vector(node.operand, frame))
        values = (~missing if node.negate else missing).to_numpy()
        return pd.Series(pd.arrays.BooleanArray(values, np.zeros(len(values), dtype=bool)), index=index)
    if isinstance(node, And):
        result = condition_vector(node.items[0], frame)
        for item in node.items[1:]:
            result = result & condition_vector(item, frame)  # pandas "boolean" is Kleene logic
        return result
    if isinstance(node, Or):
        result = condition_vector(node.items[0], frame)
        for item in node.items[1:]:
            result = result | condition_vector(item, frame)
        return result
    if isinstance(node, Not):
        return ~condition_vector(node.item, frame)
    values = eval_vector(node, frame)
    return values.astype("boolean")


def _compare_booleans(op: str, left: pd.Series, right: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """(values, missing) of a comparison of two pandas "boolean" vectors (a column, a condition, a
    constant), as the general comparison gives them for booleans as True / False / None objects:
    missing where either side is, values compared as Python compares True and False elsewhere and
    `op(0, 0)` under the missing ones (it compares both sides masked to 0). None for other operands.
    Without this, a nullable boolean with <NA> cannot go through NumPy, and converting such columns
    to objects, then comparing objects, was a third of the features stage at a million accounts."""
    if not (isinstance(left.dtype, pd.BooleanDtype) and isinstance(right.dtype, pd.BooleanDtype)):
        return None
    missing = left.isna().to_numpy() | right.isna().to_numpy()
    values = compare(op, left.to_numpy(dtype=bool, na_value=False), right.to_numpy(dtype=bool, na_value=False))
    return _masked(values, missing, op)


def _compare_with_constant(node: Compare, left: pd.Series, right: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """(values, missing) of a vector compared with a constant (a number, or a text against a column of
    texts), compared with the constant itself rather than with the vector repeating it: the same
    elementwise comparisons as the general path (rounded floats; Python's str comparison, the
    masked places `op(0, 0)`), without testing and masking the repeated constant. None when the
    operands are anything else (dates, missing constants, columns of mixed objects)."""
    constant = _plain_constant(node.right) if not isinstance(node.left, (Const, Param)) else None
    column, swapped = left, False
    if constant is None and not isinstance(node.right, (Const, Param)):
        constant, column, swapped = _plain_constant(node.left), right, True
    if constant is None:
        return None
    if isinstance(constant, float):
        missing = _missing(column).to_numpy()
        scalar = round_series(pd.Series([constant])).iloc[0]
        numbers = round_series(_as_float(column))
        with np.errstate(all="ignore"):
            values = compare(node.op, scalar, numbers) if swapped else compare(node.op, numbers, scalar)
        return np.asarray(values, dtype=bool), missing
    if column.dtype != object or pd.api.types.infer_dtype(column, skipna=True) != "string":
        return None
    missing = _missing(column).to_numpy()
    texts = column.to_numpy(dtype=object)
    values = np.zeros(len(texts), dtype=bool)
    operands: tuple[Any, Any] = (constant, texts) if swapped else (texts, constant)
    _UFUNCS[node.op](*operands, out=values, where=~missing)  # Python's comparison, present texts only
    return _masked(values, missing, node.op)


_UFUNCS = {"==": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal, ">": np.greater,
           ">=": np.greater_equal}


def _constant_booleans(value: bool, index: pd.Index) -> pd.Series:
    """A pandas "boolean" vector repeating `value`, built from its arrays (pandas would first test a
    million repeated objects for missing values)."""
    size = len(index)
    return pd.Series(pd.arrays.BooleanArray(np.full(size, value), np.zeros(size, dtype=bool)), index=index)


def _plain_constant(node: Node) -> float | str | None:
    """The value a constant vector repeats when a fast comparison can take it as it is: a present
    number as a float, a text as a str; None otherwise (booleans come as vectors, dates, missing)."""
    if not isinstance(node, (Const, Param)):
        return None
    value = node.value
    if node.type == NUMBER:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and not np.isnan(value):
            return float(value)
        return None
    if node.type not in (BOOLEAN, DATE) and type(value) is str:
        return value
    return None


def _masked(values: np.ndarray, missing: np.ndarray, op: str) -> tuple[np.ndarray, np.ndarray]:
    """The general path's values under missing places: it compares both sides masked to 0 there."""
    if missing.any():
        values = np.where(missing, bool(compare(op, 0, 0)), values)
    return values, missing


def _missing(series: pd.Series) -> pd.Series:
    return pd.Series(pd.isna(series).to_numpy(dtype=bool), index=series.index, copy=False)


def _as_float(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series, errors="coerce").astype("float64")


def round_series(series: pd.Series) -> pd.Series:
    """The values as floats rounded to NDIGITS decimals, as `rnd` rounds one number (no -0.0).
    Computed on the NumPy array, in place where the array is already a fresh result."""
    values = series.astype("float64").to_numpy()
    with np.errstate(over="ignore", invalid="ignore"):
        result = np.round(values, NDIGITS)
    if np.isinf(result).any():  # |x| > ~1.8e299 overflows x * 10**9; such numbers have no decimals
        result = np.where(np.isfinite(result) | ~np.isfinite(values), result, values)
    result += 0.0  # turns -0.0 into 0.0
    return pd.Series(result, index=series.index, name=series.name, copy=False)


# Arithmetic overflow (a finite result too large for a float, e.g. `sales * 1e300`) gives a missing value
# like division by zero; `overflows()` lets the caller (the features) count where it happened and say so.
_OVERFLOWS: contextvars.ContextVar = contextvars.ContextVar("kamrules_overflows", default=None)


@contextlib.contextmanager
def overflows() -> Iterator[list]:
    """Collect, as boolean arrays, the rows whose arithmetic overflowed while evaluating in the block."""
    found: list = []
    token = _OVERFLOWS.set(found)
    try:
        yield found
    finally:
        _OVERFLOWS.reset(token)


def _note_overflow(mask: pd.Series) -> None:
    found = _OVERFLOWS.get()
    if found is not None and mask.any():
        found.append(mask.to_numpy(dtype=bool))
