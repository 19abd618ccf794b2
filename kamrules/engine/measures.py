"""Portfolio measures shared by the features rules read and the portfolio summary the report shows.

One implementation, so a feature and the report can never disagree. The conventions:

- **Missing** values (NaN / None) take no part: they are left out of totals and counts, and their own
  result is missing.
- **Negative or zero** values (returns, credit notes) count as zero sales: they add nothing to a total,
  hold a share of 0, and sit at the end of the Pareto order. So every share is within 0–1, every
  cumulative share within 0–1, and every HHI within 0–10,000.
- A group whose positive total is 0 has no shares, no cumulative share and no HHI (missing).
- **Ties** on the Pareto curve go by account id (text order: "A-10" before "A-9"; a missing id after
  every id; input order only between exactly equal ids), so the order of the rows in a file changes
  nothing. In a percentile they share the middle rank (the standard percentile rank: the share of
  values below plus half the share of equal values, × 100).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def positive(values: pd.Series) -> pd.Series:
    """The values as floats, negatives and zeros as 0.0, missing kept missing."""
    values = pd.to_numeric(values, errors="coerce").astype("float64")
    return values.where(values.isna() | (values > 0), 0.0)


def _keys(values: pd.Series, keys: pd.Series | None) -> pd.Series:
    if keys is None:
        return pd.Series(0, index=values.index)
    return keys


def share_of(values: pd.Series, keys: pd.Series | None = None) -> pd.Series:
    """Each value's share of its group's positive total (0–1)."""
    clipped = positive(values)
    totals = clipped.groupby(_keys(values, keys), sort=False).transform("sum")
    return clipped / totals.where(totals > 0)


def hhi(values: pd.Series, keys: pd.Series | None = None) -> pd.Series:
    """The Herfindahl–Hirschman index of each value's group: the sum of squared % shares (0–10,000),
    repeated on every row of the group (a missing value adds nothing to it)."""
    group = _keys(values, keys)
    squares = (share_of(values, keys) * 100) ** 2
    totals = positive(values).groupby(group, sort=False).transform("sum")
    result = squares.groupby(group, sort=False).transform("sum")
    return result.where(totals > 0)


def pareto_order(values: pd.Series, ids: pd.Series | np.ndarray | None = None) -> list:
    """The index labels of the present values, largest (positive part) first; ties by account id
    (`ids`, position for position; without ids, in input order)."""
    return list(values.index[_pareto_positions(positive(values).to_numpy(dtype="float64"), ids)])


def _pareto_positions(clipped: np.ndarray, ids: pd.Series | np.ndarray | None = None) -> np.ndarray:
    """The positions of the present values in Pareto order (a stable sort of the negated values, ties
    by id)."""
    present = np.flatnonzero(~np.isnan(clipped))
    tie_ids = None if ids is None else np.asarray(ids, dtype=object)[present]
    return present[stable_order(-clipped[present], tie_ids)]


def cumulative_share(values: pd.Series, ids: pd.Series | np.ndarray | None = None) -> pd.Series:
    """The share of the positive total held by each account and every account before it in
    `pareto_order` (0–1); missing where the value is missing or the total is not positive. The total is
    the running sum's end, so it is the same whatever the input order. Computed by position (the
    index is carried over as it is)."""
    clipped = positive(values)
    array = clipped.to_numpy(dtype="float64")
    result = np.full(len(array), np.nan)
    if np.isnan(array).all():
        return pd.Series(result, index=values.index, copy=False)
    order = _pareto_positions(array, ids)
    running = np.cumsum(array[order])
    total = running[-1]
    if not total > 0:
        return pd.Series(result, index=values.index, copy=False)
    result[order] = np.minimum(running / total, 1.0)
    return pd.Series(result, index=values.index, copy=False)


def percentile_rank(values: pd.Series, keys: pd.Series | None = None, lower_first: bool = True) -> pd.Series:
    """The standard percentile rank within each group, 0–100: (values below + half the equal values,
    counting the value itself) ÷ present values × 100. Ten equal values all get 50, not 100; the
    largest of 100 distinct values gets 99.5. `lower_first=False` ranks from the other end (the
    smallest value gets the highest rank). A row without a group (missing key) has no rank."""
    if keys is None:
        return percentile_by_codes(values, None, lower_first)
    codes = pd.factorize(keys, use_na_sentinel=True)[0]
    return percentile_by_codes(values, codes, lower_first).where(codes >= 0)  # no group, no rank


def percentile_by_codes(values: pd.Series, codes: np.ndarray | None, lower_first: bool = True) -> pd.Series:
    """`percentile_rank` with the groups as integer codes (None: one group), from one sort of the
    present values. The average rank of a run of ties is a half-integer, exact in a float."""
    numbers = pd.to_numeric(values, errors="coerce").astype("float64").to_numpy()
    ordered = numbers if lower_first else -numbers
    average_rank = ranks(ordered, codes, average=True)
    present = group_counts((~np.isnan(numbers)).astype("float64"), codes)
    with np.errstate(invalid="ignore", divide="ignore"):
        result = (average_rank - 0.5) / np.where(present > 0, present, np.nan) * 100
    return pd.Series(np.where(np.isnan(numbers), np.nan, result), index=values.index, copy=False)


# ---------------------------------------------------------------------- sorting and counting by group


def group_counts(counted: np.ndarray, codes: np.ndarray | None) -> np.ndarray:
    """For every row, the sum of `counted` (ones and zeros) over its group (codes; None for one
    group; -1 a group of its own). Sums of ones and zeros are exact in any order, so they equal
    pandas' grouped sum without grouping."""
    if codes is None:
        return np.full(len(counted), counted.sum())
    shifted = codes + 1
    sums = np.bincount(shifted, weights=counted, minlength=int(shifted.max(initial=0)) + 1)
    return sums.astype("float64", copy=False)[shifted]  # (NumPy counts an empty table in integers)


def stable_order(values: np.ndarray, ids: np.ndarray | None = None) -> np.ndarray:
    """`np.argsort(values, kind="stable")` for values without NaN: a quicksort, then the runs of equal
    values put back in order by one sort of (run, position) keys of the tied places only, several
    times faster than NumPy's stable sort of floats when ties are few. With `ids` (one per value), a
    run of equal values goes by id in text order first (missing ids last), then by position."""
    order = np.argsort(values)
    ranked = values[order]
    same = ranked[1:] == ranked[:-1]
    if not same.any():
        return order
    tied = np.zeros(len(order), dtype=bool)
    tied[1:] = same
    tied[:-1] |= same
    places = np.flatnonzero(tied)
    new_run = np.ones(len(order), dtype=np.int64)
    new_run[1:] = ~same
    runs = np.cumsum(new_run)[places]
    size = len(order)
    if ids is not None:  # (run, id's text rank), stably over the tied places taken in input order
        by_position = np.argsort(order[places])
        positions = order[places][by_position]
        id_ranks = text_ranks(ids[positions])
        keys = runs[by_position] * (int(id_ranks.max(initial=0)) + 1) + id_ranks
        order[places] = positions[np.argsort(keys, kind="stable")]
        return order
    order[places] = np.sort(runs * size + order[places]) % size
    return order


def text_ranks(ids: np.ndarray) -> np.ndarray:
    """Each id's place in text order (code point order, as Python compares texts; a number id as its
    text), as int64: equal texts share a place, missing ids (None, NaN, "") come after every text.
    Sorted by pyarrow, in C, without a fixed-width copy of the longest id for every account."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        texts = pa.array(ids, type=pa.string(), from_pandas=True)  # texts and missing values
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        texts = pa.array([None if pd.isna(v) else str(v) for v in ids], type=pa.string())
    count = len(texts)
    if not count:
        return np.zeros(0, dtype=np.int64)
    order = pc.array_sort_indices(texts).to_numpy()  # missing last
    ranked = texts.take(order)
    new_text = np.ones(count, dtype=bool)
    new_text[1:] = ~pc.equal(ranked[1:], ranked[:-1]).fill_null(False).to_numpy(zero_copy_only=False)
    places = np.empty(count, dtype=np.int64)
    places[order] = np.cumsum(new_text)
    missing = pc.or_kleene(pc.is_null(texts), pc.equal(texts, "")).fill_null(True).to_numpy(zero_copy_only=False)
    places[missing] = count + 1
    return places


def ranks(values: np.ndarray, codes: np.ndarray | None, average: bool) -> np.ndarray:
    """Each value's rank within its group (integer `codes`; None for one group), smallest first, as
    pandas ranks with missing values kept missing: the lowest rank of its ties (`average=False`,
    method "min") or their mean (`average=True`, method "average"). Ties are equal values, so their
    order in the sort does not matter and one unstable sort of the present values does it."""
    missing = np.isnan(values)
    where = np.flatnonzero(~missing) if missing.any() else None
    present = values if where is None else values[where]
    order = np.argsort(present)
    new_tie = np.zeros(len(order), dtype=bool)
    new_tie[:1] = True
    group_start = None
    if codes is not None:
        groups = _compact(codes if where is None else codes[where])[order]
        regroup = np.argsort(groups, kind="stable")
        order, groups = order[regroup], groups[regroup]
        np.not_equal(groups[1:], groups[:-1], out=new_tie[1:])
        group_start = _run_starts(new_tie)
    ordered = present[order]
    new_tie[1:] |= ordered[1:] != ordered[:-1]
    rank = _run_starts(new_tie)
    if average:
        rank = (rank + _run_ends(new_tie)) / 2
    rank = (rank + 1 if group_start is None else rank - group_start + 1).astype("float64")
    result = np.full(len(values), np.nan)
    result[order if where is None else where[order]] = rank
    return result


def ordinal_ranks(values: np.ndarray, codes: np.ndarray | None, ids: np.ndarray | None = None) -> np.ndarray:
    """Each value's rank within its group, smallest first, one rank per account: equal values take
    consecutive ranks in the order `stable_order` gives them (the Pareto order: by id, with `ids`), so
    a capacity of N accounts is never overrun by ties and the input order changes nothing. Missing
    values stay missing."""
    missing = np.isnan(values)
    where = np.flatnonzero(~missing)
    order = where[stable_order(values[where], None if ids is None else ids[where])]
    result = np.full(len(values), np.nan)
    if codes is None:
        result[order] = np.arange(1, len(order) + 1, dtype="float64")
        return result
    groups = _compact(codes[order])
    regroup = np.argsort(groups, kind="stable")
    order, groups = order[regroup], groups[regroup]
    new_group = np.ones(len(order), dtype=bool)
    np.not_equal(groups[1:], groups[:-1], out=new_group[1:])
    positions = np.arange(len(order))
    result[order] = (positions - _run_starts(new_group) + 1).astype("float64")
    return result


def _run_starts(new_run: np.ndarray) -> np.ndarray:
    """For every position, the position where its run begins (`new_run` marks each run's first)."""
    positions = np.arange(len(new_run))
    return np.maximum.accumulate(np.where(new_run, positions, 0)) if len(new_run) else positions


def _run_ends(new_run: np.ndarray) -> np.ndarray:
    """For every position, the position of the last one of its run."""
    count = len(new_run)
    last = np.ones(count, dtype=bool)
    last[:-1] = new_run[1:]
    ends = np.where(last, np.arange(count), count)
    return np.minimum.accumulate(ends[::-1])[::-1] if count else ends


def _compact(codes: np.ndarray) -> np.ndarray:
    """Group codes in the smallest integer type that holds them: NumPy's stable sort of small
    integers is a radix sort, several times faster than on 64-bit ones."""
    for dtype in (np.int8, np.int16):
        if len(codes) == 0 or (codes.min() >= np.iinfo(dtype).min and codes.max() <= np.iinfo(dtype).max):
            return codes.astype(dtype)
    return codes
