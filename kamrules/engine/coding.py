"""A column as the engine sees it, coded once: the numbers, texts, dates and booleans a decision reads,
each reduced to a small integer per account and a table of what the integers stand for.

The engine's answer depends only on where a value falls among the constants a rule compares it with
(situations.py). `prepare` codes a column once for every decision that reads it: a number by its class
among all the constants any of them compares it with (`number_codes`), a text, date or boolean by its
distinct values; `Coded.table` then gives one decision's classes from the codes. Codes are 0 for a
missing value and k + 1 otherwise, in the smallest unsigned type (one byte per account for most
columns). Also here: the two ways keys are numbered — first accounts by scatter (`first_accounts`)
and hashing (`numbered`) — which coding and situations both use.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from kamrules.engine.durable import date_number
from kamrules.language import expr as ex
from kamrules.pack import core_traps

_FEW_CUTS = 8  # up to this many constants, counting comparisons beats a binary search per account


@dataclass(frozen=True)
class Tuning:
    """The sizes at which the decision stage changes method. Tests set small ones, to take on a few
    accounts the paths meant for a million (`Engine(tuning=…)`, engine/decide.py)."""

    few_rows: int = 65_536  # below this many accounts pandas' hashing is as quick as anything, and keys are found in one pass
    few_keys: int = 4_096  # up to this many possible keys, their first accounts are found by scanning slices
    cluster_width: int = 4_096  # rule groups whose classes combine into at most this many keys share one key
    slack: int = 1_024  # keys up to 2 × accounts + this are looked up in tables by key; more are hashed


class Workspace:
    """What the decision stage of one evaluation keeps from decision to decision: its tuning, the
    account positions 0 … count-1 (every decision uses them), and buffers the size of the portfolio
    reused decision after decision (fresh memory costs more than the work on it)."""

    def __init__(self, count: int, tuning: Tuning = Tuning()):
        self.count, self.tuning = count, tuning
        self.positions = np.arange(count)
        self.positions.flags.writeable = False
        self.scratch = np.empty(count, dtype="float64")  # engine numbers while a column is classed
        self.other = np.empty(count, dtype="float64")  # … and the other side of a pair
        self.index = np.empty(count, dtype=np.intp)  # a key as numpy indexes with (no conversion each time)


def engine_numbers(series: pd.Series, vtype: str, out: np.ndarray | None = None) -> np.ndarray | None:
    """The numbers the engine receives for a column (NaN = missing), or None for strings. `out`: where
    to round a float column's numbers (a buffer reused column after column: no fresh memory)."""
    if vtype == ex.NUMBER and out is not None and series.dtype == np.float64 and len(out) == len(series):
        values = series.to_numpy()
        with np.errstate(over="ignore", invalid="ignore"):
            np.round(values, ex.NDIGITS, out=out)
        if np.isinf(out).any():  # as round_series: |x| > ~1.8e299 overflows x * 10**9 and stays as it is
            np.copyto(out, values, where=np.isinf(out) & np.isfinite(values))
        return out
    if vtype == ex.NUMBER:
        return ex.round_series(pd.to_numeric(series, errors="coerce")).to_numpy(dtype="float64")
    if vtype in (ex.DATE, ex.BOOLEAN):
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        table = _unique_numbers(uniques, vtype)
        return np.where(codes < 0, np.nan, table[np.maximum(codes, 0)] if len(table) else np.nan)
    return None


def _unique_numbers(uniques, vtype: str) -> np.ndarray:
    """The engine's number for each distinct date or boolean."""
    if vtype == ex.DATE:
        return np.array([date_number(v) for v in uniques], dtype="float64")
    return np.array([1.0 if v else 0.0 for v in uniques], dtype="float64")


def unsigned(top: int):
    """The smallest unsigned integer type that holds 0 … top."""
    return next(k for k in (np.uint8, np.uint16, np.uint32, np.uint64) if top <= np.iinfo(k).max)


def _shifted(codes: np.ndarray, size: int) -> np.ndarray:
    """Codes -1 … size-1 as 0 … size (0 = missing) in the smallest unsigned type: one byte per account
    for most columns, not eight."""
    kind = unsigned(size)
    if codes.dtype.itemsize == np.dtype(kind).itemsize:
        codes = codes.view(np.dtype(kind).str.replace("u", "i"))
        codes += 1
        return codes.view(kind)
    shifted = codes.astype(kind)  # (-1 wraps round to the top) …
    shifted += kind(1)  # … and back to 0
    return shifted


def number_codes(numbers: np.ndarray, cuts) -> tuple[np.ndarray, int, bool]:
    """(each engine number's class among the constants `cuts` as a code, number of codes, whether a
    value is infinite). Code 0: missing; 1 + 2 × (constants below the value) + (1 if it equals one) for
    a finite value; +inf and -inf codes of their own after those (the engine refuses them).

    Up to `_FEW_CUTS` constants the code is counted by whole-array comparisons in one byte per
    account — (x > c) + (x ≥ c) is 2 below a value, 1 at it, and NaN fails them all — otherwise found
    by a binary search."""
    cuts = np.array(sorted(cuts), dtype="float64")
    top = 2 * len(cuts) + 1  # finite classes
    if len(cuts) <= _FEW_CUTS:
        codes = np.zeros(len(numbers), dtype=np.uint8)
        hit = np.empty(len(numbers), dtype=bool)
        np.add(codes, np.equal(numbers, numbers, out=hit), out=codes, casting="unsafe")  # 1: not missing
        for cut in cuts:
            np.add(codes, np.greater(numbers, cut, out=hit), out=codes, casting="unsafe")
            np.add(codes, np.greater_equal(numbers, cut, out=hit), out=codes, casting="unsafe")
    else:
        with np.errstate(invalid="ignore"):
            position = np.searchsorted(cuts, numbers, side="left")
            codes = (2 * position + 1).astype(unsigned(top + 2))
            codes += cuts[np.minimum(position, len(cuts) - 1)] == numbers
        codes[np.isnan(numbers)] = 0
    infinite = bool(np.isinf(numbers).any())
    if infinite:
        codes[numbers == np.inf] = top + 1
        codes[numbers == -np.inf] = top + 2
    return codes, top + 2, infinite


@dataclass
class Coded:
    """A column as the engine sees it, compactly: a code per account (0 = missing, k + 1 = the k-th
    value or class, in the smallest unsigned type) and what the codes stand for — either `values` (the
    engine value of each: numbers, or texts) or `cuts` (number classes among these sorted constants,
    as `number_codes` numbers them)."""

    codes: np.ndarray
    size: int  # codes run 0 … size
    values: np.ndarray | None = None
    cuts: tuple = ()

    def table(self, constants: set, exact: bool) -> tuple[np.ndarray, int]:
        """(a decision's class for each code, -1 for code 0 (missing); number of classes its codes reach),
        the decision comparing the column with `constants` (or with another column: `exact`)."""
        table = np.empty(self.size + 1, dtype=np.int64)
        table[0] = -1
        if self.values is None:  # number classes among `cuts`; the decision's constants are among them
            cuts = sorted(constants)
            for code in range(self.size):
                table[code + 1] = _class_between(self.cuts, code, cuts)
        elif exact or not all(isinstance(c, float if self.values.dtype == np.float64 else str) for c in constants):
            table[1:] = np.arange(self.size)  # every value its own class
        elif self.values.dtype == np.float64:
            table[1:] = number_codes(self.values, constants)[0].astype(np.int64) - 1
        else:
            cuts = sorted(constants)
            for code, value in enumerate(self.values):
                text = str(value)
                position = bisect.bisect_left(cuts, text)
                table[code + 1] = 2 * position + (position < len(cuts) and cuts[position] == text)
        return table, int(table.max()) + 1  # the classes its values reach (a key's radix: no room for others)


def _class_between(union: tuple, code: int, cuts: list) -> int:
    """The class among `cuts` of the values whose class among `union` (which holds every cut) is `code`."""
    top = 2 * len(cuts) + 1
    if code >= 2 * len(union) + 1:  # +inf, -inf
        return top + (code - 2 * len(union) - 1)
    if code % 2:  # equal to union[i]
        value = union[code // 2]
        position = bisect.bisect_left(cuts, value)
        return 2 * position + (position < len(cuts) and cuts[position] == value)
    # strictly between union[i-1] and union[i]: the cuts below it are those up to union[i-1]
    return 2 * (bisect.bisect_right(cuts, union[code // 2 - 1]) if code else 0)


def prepare(series: pd.Series, vtype: str, constants: set | None, space: Workspace | None = None) -> Coded:
    """A column coded for every decision that reads it. `constants`: all the constants those decisions
    compare it with, when they all compare it only with number constants (its values are then classed
    among them once); None when one of them needs its exact values. `space`: the evaluation's
    workspace (a float buffer for the engine numbers while they are classed, the tuning), made for
    this column when not given."""
    space = space if space is not None and space.count == len(series) else Workspace(len(series))
    if vtype == ex.BOOLEAN and isinstance(series.dtype, pd.BooleanDtype):
        return _booleans(series)
    if vtype == ex.NUMBER:
        return _numbers(series, constants, space)
    if vtype == ex.DATE and series.dtype == "datetime64[ns]" and len(series) > space.tuning.few_rows:
        return _dates(series, space)
    if vtype in (ex.DATE, ex.BOOLEAN):
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        return Coded(_shifted(codes, len(uniques)), len(uniques), _unique_numbers(uniques, vtype))
    return _texts(series)


def _booleans(series: pd.Series) -> Coded:
    """A pandas boolean column: no hashing, false is code 1, true code 2, missing 0."""
    codes = series.to_numpy(dtype=np.uint8, na_value=0)
    codes += 1
    codes[series.isna().to_numpy()] = 0
    return Coded(codes, 2, np.array([0.0, 1.0]))


def _numbers(series: pd.Series, constants: set | None, space: Workspace) -> Coded:
    """Numbers: classed among the constants when there are only number constants, else by value."""
    classed = constants is not None and all(isinstance(c, float) for c in constants)
    numbers = engine_numbers(series, ex.NUMBER, space.scratch if classed else None)
    assert numbers is not None  # a number column always has the engine's numbers
    if constants is not None and classed:
        codes, size, infinite = number_codes(numbers, constants)
        return Coded(codes, size if infinite else size - 2, cuts=tuple(sorted(constants)))  # (no room for ±inf unless seen)
    codes, uniques = pd.factorize(numbers, use_na_sentinel=True)
    return Coded(_shifted(codes, len(uniques)), len(uniques), np.asarray(uniques, dtype="float64"))


def _dates(series: pd.Series, space: Workspace) -> Coded:
    """A long date column, numbered by its int64 values (2–3 times quicker than hashing timestamps)."""
    codes, found = numbered(series.to_numpy().view(np.int64))  # NaT is a value: made missing below
    _, firsts = first_accounts(codes, found, space)
    stamps = series.iloc[firsts].tolist()
    numbers = np.array([np.nan if v is pd.NaT else date_number(v) for v in stamps], dtype="float64")
    missing = np.isnan(numbers)
    if not missing.any():
        return Coded(_shifted(codes, found), found, numbers)
    shift = np.cumsum(~missing) * ~missing  # 0 for NaT, else the number of its value among the others
    return Coded(np.take(shift.astype(unsigned(found)), codes, mode="clip"), found - 1, numbers[~missing])


def _texts(series: pd.Series) -> Coded:
    """Texts, by value (Arrow-backed strings hashed as they are, not as objects)."""
    codes, uniques = text_codes(series)
    values = np.empty(len(uniques), dtype=object)
    values[:] = list(uniques)
    return Coded(_shifted(codes, len(uniques)), len(uniques), values)


def text_codes(series: pd.Series) -> tuple[np.ndarray, pd.Index | np.ndarray]:
    """(each cell's code, -1 when missing; the distinct texts in order of first appearance)."""
    if isinstance(series.dtype, pd.StringDtype):
        return pd.factorize(series, use_na_sentinel=True)
    return pd.factorize(series.to_numpy(dtype=object), use_na_sentinel=True)


def long_texts(series: pd.Series) -> list[tuple[int, int, int]]:
    """(position, characters, engine bytes) of each cell of a text column longer than the engine
    compares whole (`core_traps.MAX_TEXT_BYTES`), in order. Each distinct text is measured once (a
    column holds few, and none is long as a rule); only texts long enough to matter are measured in
    bytes, and only theirs are looked for cell by cell."""
    values = series.to_numpy(dtype=object)
    try:
        distinct = pd.unique(values)
    except TypeError:  # an unhashable cell: each cell on its own
        distinct = values
    found = []
    for text in distinct:
        if isinstance(text, str) and len(text) >= core_traps.MIN_CHARS_TOO_LONG \
                and (size := core_traps.engine_text_length(text)) > core_traps.MAX_TEXT_BYTES:
            found += [(int(p), len(text), size) for p in np.flatnonzero(values == text)]
    return sorted(set(found))


# ----------------------------------------------------------------------------------- situations


def first_accounts(key: np.ndarray, width: int, space: Workspace) -> tuple[np.ndarray, np.ndarray]:
    """(the keys present in order of their first account, those first accounts), keys below `width`.
    With few possible keys, one count tells which are present and the accounts are scanned from the
    start in growing slices until each has been seen (the usual key is seen in the first few thousand
    accounts); otherwise one scatter over all the accounts."""
    count, tuning = len(key), space.tuning
    positions = space.positions if len(space.positions) == count else np.arange(count)
    first_at = np.full(width, count, dtype=np.int64)
    if width <= tuning.few_keys and count > tuning.few_rows:
        present = np.flatnonzero(np.bincount(key, minlength=width))
        start, size = 0, max(tuning.few_rows // 4, 1)
        while start < count and (first_at[present] == count).any():
            stop = min(count, start + size)
            seen = np.full(width, count, dtype=np.int64)
            seen[key[start:stop][::-1]] = positions[start:stop][::-1]
            np.minimum(first_at, seen, out=first_at)
            start, size = stop, size * 4
    else:
        first_at[key[::-1]] = positions[::-1]  # the last write wins: each key's first account
    slots = np.flatnonzero(first_at < count)
    firsts = first_at[slots]
    order = np.argsort(firsts, kind="stable")
    return slots[order], firsts[order]


def numbered(key: np.ndarray) -> tuple[np.ndarray, int]:
    """(each key's number among the distinct keys in order of appearance, how many): Arrow's hashing,
    which is 2–3 times pandas' for the few distinct keys of a decision."""
    encoded = pa.array(key).dictionary_encode()
    return encoded.indices.to_numpy(zero_copy_only=False), len(encoded.dictionary)


def broadcast(values: list, codes: np.ndarray, kind: str, index: pd.Index | None = None) -> pd.Series:
    """A column from one value per distinct mask and each account's mask code: the values converted
    once (a number column to float64, a boolean one to pandas' boolean, any other kept as objects),
    then taken per account."""
    distinct = pd.Series(values, dtype=object)
    if kind == "number":
        return pd.Series(distinct.astype("float64").to_numpy()[codes], index=index)
    if kind == "boolean":
        return pd.Series(distinct.astype("boolean").array.take(codes), index=index)
    return pd.Series(distinct.to_numpy()[codes], index=index, dtype=object)
