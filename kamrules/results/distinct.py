"""A function of one cell, worked out once per distinct value of a column instead of once per account.

At a million accounts a Python call per cell costs a second or more per column, while the columns the
report and the profile read hold a few distinct values (tiers, risk levels, managers, categories) or a
few shared objects (the lists of a collect output). `each(values, f)` gives exactly what
`[f(v) for v in values]` gives: cells are grouped by value (as a hash table tells them apart) and by
type, and `f` runs once per group for the types declared `exact` — types whose equal values `f` cannot
tell apart — and once per cell of any other type. Unhashable cells (lists) are grouped by identity:
the same object, the same answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from kamrules.results.columns import column_values

TEXT = (str, type(None))  # equal texts are the same text: safe for any function of the cell
WHOLE = (str, type(None), bool, int)  # equal values of one of these types print the same
PLAIN = (str, type(None), bool, int, float)  # safe for comparisons, not for str() (0.0 == -0.0)


def each(values: Sequence, f: Callable[[Any], Any], exact: tuple = TEXT) -> np.ndarray:
    """`[f(v) for v in values]` as an object array, calling `f` once per distinct value of the types in
    `exact` (equal values of those types must give equal results) and once per cell of other types."""
    codes, firsts = distinct(values, exact)
    results = np.empty(len(firsts), dtype=object)
    for k, value in enumerate(firsts.tolist()):
        results[k] = f(value)
    return results[codes]


def distinct(values: Sequence, exact: tuple = TEXT) -> tuple[np.ndarray, np.ndarray]:
    """(a code per cell, the first cell of each code as an object array): cells of one code are equal
    and of one type in `exact`, or the same object; a cell of another type has a code of its own.
    Codes are numbered in order of first appearance."""
    n = len(values)
    cells = np.fromiter(values, dtype=object, count=n)
    if not n:
        return np.zeros(0, dtype=np.int64), cells
    groups, alone = _groups(cells, exact)
    groups = groups.astype(np.int64)
    if alone is not None:
        groups[alone] = -2 - np.arange(int(alone.sum()))  # below every group (missing values: -1)
    groups = pd.factorize(groups)[0]  # numbered in order of first appearance
    firsts = np.flatnonzero(~pd.Index(groups).duplicated())  # the first cell of code 0, 1, 2, …
    return groups.astype(np.int64, copy=False), cells[firsts]


def _groups(cells: np.ndarray, exact: tuple) -> tuple[np.ndarray, np.ndarray | None]:
    """(group of each cell; where the cell's type is not one of `exact`, None when nowhere). Cells of
    one group are equal and of one type, or the same object."""
    n = len(cells)
    try:
        codes = pd.factorize(cells)[0]  # missing values (None, NaN, NA, NaT) all get -1
    except (TypeError, ValueError):  # unhashable cells: by identity
        return pd.factorize(np.fromiter(map(id, cells), dtype=np.uint64, count=n))[0], None
    kinds = set(map(type, cells))
    pure = len(kinds) <= 1 or kinds == {str, type(None)}  # a group cannot mix types (None: the missing one)
    if pure and kinds <= set(exact):  # the usual column: texts and None
        return codes, None
    kind_codes, kinds = pd.factorize(np.fromiter(map(type, cells), dtype=object, count=n))
    inexact = [k for k, kind in enumerate(kinds.tolist()) if kind not in exact]
    alone = np.isin(kind_codes, inexact) if inexact else None
    return (codes if pure else (codes.astype(np.int64) + 1) * len(kinds) + kind_codes), alone


def column_cells(evaluation, name: str) -> np.ndarray:
    """`column_values(evaluation, name, shared=True)` as an object array. A table column of texts and
    None only (which `column_values` gives back as it stands) is taken as it is: no pass in Python
    over a million cells."""
    table = getattr(evaluation, "table", None)
    if table is not None and name in getattr(table, "columns", ()) and table[name].dtype == object:
        cells = table[name].to_numpy()
        if set(map(type, cells)) <= {str, type(None)}:
            return cells
    values = column_values(evaluation, name, shared=True)
    return np.fromiter(values, dtype=object, count=len(values))


def account_cells(evaluation) -> tuple[np.ndarray, np.ndarray]:
    """`account_ids(evaluation)` — (ids as text, names) — as object arrays."""
    ids = column_cells(evaluation, "account_id")
    if not set(map(type, ids)) <= {str}:
        ids = np.fromiter(("" if v is None else str(v) for v in ids.tolist()), dtype=object, count=len(ids))
    return ids, column_cells(evaluation, "account_name")
