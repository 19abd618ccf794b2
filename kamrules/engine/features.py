"""Derived values: features and composite scores, computed with pandas over the whole portfolio.

Portfolio functions (Pareto shares, percentiles, regional HHI) need every account at once, so they run
vectorized here before any rule is checked. Every number is rounded as the language defines
(`expr.round_series`), so what the rules compare is what a person would compute.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from kamrules.engine import measures
from kamrules.language import expr as ex
from kamrules.language import vecsem
from kamrules.pack import FeatureSpec, RulePack, ScoreSpec


def prepare_facts(pack: RulePack, frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of the input with one column per pack field, typed for evaluation (absent = missing)."""
    facts = pd.DataFrame(index=pd.RangeIndex(len(frame)))
    for name, spec in pack.fields.items():
        column = frame[name].reset_index(drop=True) if name in frame.columns else None
        if spec.type in ("number", "integer"):
            values = pd.Series(np.nan, index=facts.index) if column is None else pd.to_numeric(column, errors="coerce")
            facts[name] = ex.round_series(values)
        elif spec.type == "date":
            values = pd.Series(pd.NaT, index=facts.index) if column is None else pd.to_datetime(column, errors="coerce")
            facts[name] = values.astype("datetime64[ns]")
        elif spec.type == "boolean":
            values = _all_missing_booleans(facts.index) if column is None else column.astype("boolean")
            facts[name] = values
        else:
            if column is None:
                facts[name] = pd.Series([None] * len(facts), index=facts.index, dtype="object")
            else:
                facts[name] = column.astype("object").where(column.notna(), None)
    return facts


def _all_missing_booleans(index: pd.Index) -> pd.Series:
    """A pandas "boolean" column of <NA> (False underneath, as pandas makes it from <NA> objects),
    built from its arrays rather than from a million <NA> objects tested one by one."""
    size = len(index)
    return pd.Series(pd.arrays.BooleanArray(np.zeros(size, dtype=bool), np.ones(size, dtype=bool)), index=index)


def compute_derived(pack: RulePack, facts: pd.DataFrame, as_of: dt.date,
                    warnings: list | None = None) -> pd.DataFrame:
    """Add every feature and score to `facts` (in dependency order) and return it. Arithmetic overflow
    makes a value missing (as division by zero does); `warnings` gets one line per feature it hit."""
    groups: dict = {}
    for item in pack.derived:
        with vecsem.overflows() as overflowed:
            if isinstance(item, ScoreSpec):
                values = compute_score(item, facts)
            else:
                values = compute_feature(item, facts, as_of, groups)
        facts[item.name] = _without_overflow(item.name, values, overflowed, warnings)
        groups.pop(item.name, None)
    return facts


def _without_overflow(name: str, values: pd.Series, overflowed: list, warnings: list | None) -> pd.Series:
    """Infinite results (a sum of huge values) become missing too; the accounts hit are counted."""
    hit = np.logical_or.reduce(overflowed) if overflowed else np.zeros(len(values), dtype=bool)
    if pd.api.types.is_float_dtype(values.dtype):
        infinite = np.isinf(values.to_numpy(dtype="float64", na_value=np.nan))
        if infinite.any():
            hit = hit | infinite
            values = values.where(~infinite)
    if hit.any() and warnings is not None:
        warnings.append(f"warning: '{name}' overflowed (a number too large to compute) for {int(hit.sum()):,} "
                        "accounts; it is missing for them, as after a division by zero. Check its formula "
                        "and the sizes of the values it multiplies.")
    return values


def compute_feature(feature: FeatureSpec, facts: pd.DataFrame, as_of: dt.date,
                    groups: dict | None = None) -> pd.Series:
    """One feature's values; `groups` keeps the group codes of `within` columns between the features
    of one run (the columns do not change while it adds new ones)."""
    function = feature.function
    if function == "expr":
        result = ex.eval_vector(feature.arg, _boolean_name_as_objects(facts, feature.arg))
        if feature.type == ex.BOOLEAN:
            return result.astype("boolean")
        return ex.round_series(result)
    if function in ("days_since", "days_until"):
        dates = facts[feature.arg]
        anchor = pd.Timestamp(as_of)
        days = (anchor - dates).dt.days if function == "days_since" else (dates - anchor).dt.days
        return days.astype("float64")
    if function == "band":
        return _band(feature, facts[feature.arg])
    if function == "cumulative_share":
        return _cumulative_share(facts[feature.arg])
    return _group_function(feature, facts, groups)


def _boolean_name_as_objects(facts: pd.DataFrame, node: ex.Node) -> pd.DataFrame:
    """For a feature that is just a boolean column's name, that column with missing values as True /
    False / None objects, as the feature has always read it (its result is that column made boolean
    again, False under the missing values). Comparisons read nullable boolean columns as they are
    (`vecsem` compares them with their missing values), so no other feature converts anything."""
    name = node.name if isinstance(node, ex.Name) else None
    column = facts[name] if name in facts.columns else None
    if column is None or not isinstance(column.dtype, pd.BooleanDtype) or not column.isna().any():
        return facts
    return facts.assign(**{name: column.astype(object).where(column.notna(), None)})


def _band(feature: FeatureSpec, values: pd.Series) -> pd.Series:
    """The label of the first band each present value is below (None when missing); labels are set
    in a NumPy array, as pandas' masked assignment checks and aligns the mask every time."""
    labels = np.full(len(values), None, dtype=object)
    unassigned = values.notna()
    for band in feature.bands:
        if band.below is None:
            hit = unassigned
        else:
            hit = unassigned & (values < band.below.value)
        labels[hit.to_numpy(dtype=bool)] = band.label
        unassigned = unassigned & ~hit
    return pd.Series(labels, index=values.index, dtype="object", copy=False)


def _cumulative_share(values: pd.Series) -> pd.Series:
    """Share of the positive total held by this account and every larger one (see `measures`)."""
    if not values.index.is_unique:  # positions stand for labels only when labels are unique
        return ex.round_series(measures.cumulative_share(values))
    return ex.round_series(_cumulative_share_by_position(values))


def _cumulative_share_by_position(values: pd.Series) -> pd.Series:
    """`measures.cumulative_share` bit for bit, with positions where it sorts and assigns by index
    label: the Pareto order as a stable sort of the negated values (largest first, ties in input
    order, as pandas' descending stable sort), the running total as the same left-to-right sum."""
    clipped = measures.positive(values)
    total = clipped.sum()
    array = clipped.to_numpy(dtype="float64")
    result = np.full(len(array), np.nan)
    present = np.flatnonzero(~np.isnan(array))
    if len(present) and total > 0:
        order = present[_stable_order(-array[present])]
        result[order] = np.minimum(np.cumsum(array[order]) / total, 1.0)
    return pd.Series(result, index=values.index, copy=False)


def _group_function(feature: FeatureSpec, facts: pd.DataFrame, groups: dict | None = None) -> pd.Series:
    function = feature.function
    index = facts.index
    if feature.within is not None:
        group_codes, in_group = _group_codes(facts, feature.within, {} if groups is None else groups)
        keys = pd.Series(group_codes, index=index, copy=False)
    else:
        in_group = pd.Series(True, index=index)
        keys = pd.Series(0, index=index)
        group_codes = None

    if function == "count":
        if feature.where is not None:
            counted = ex.condition_vector(feature.where, facts).fillna(False).astype(float)
        else:
            counted = pd.Series(1.0, index=index)
        result = pd.Series(_group_counts(counted.to_numpy(dtype="float64"), group_codes), index=index, copy=False)
        return result.where(in_group).astype("float64")

    values = facts[feature.arg].astype("float64")
    grouped = values.groupby(keys, sort=False)
    if function == "share_of":
        result = measures.share_of(values, keys)
    elif function == "hhi":
        result = measures.hhi(values, keys)
    elif function == "rank":
        ordered = values if feature.order == "asc" else -values
        result = pd.Series(_ranks(ordered.to_numpy(), group_codes, average=False), index=index, copy=False)
    elif function == "percentile":
        result = _percentile_rank(values, group_codes)
    elif function in ("sum", "mean", "max", "min"):
        result = grouped.transform(function)
    else:  # pragma: no cover - the loader only lets known functions through
        raise ValueError(function)
    if function in ("share_of", "rank", "percentile"):
        result = result.where(values.notna())
    return ex.round_series(result.where(in_group))


def _group_codes(facts: pd.DataFrame, within: str, groups: dict) -> tuple[np.ndarray, pd.Series]:
    """The groups of column `within` as integer codes (hashing a million objects once, not in every
    groupby; missing values form a placeholder group, -1, blanked by the caller) and which rows
    have a group; remembered in `groups`, as several features often group by one column."""
    if within not in groups:
        keys = facts[within]
        groups[within] = (pd.factorize(keys, use_na_sentinel=True)[0], keys.notna())
    return groups[within]


def compute_score(score: ScoreSpec, facts: pd.DataFrame) -> pd.Series:
    """Weighted index 0–100 over normalised criteria; missing criteria re-spread the weights."""
    index = facts.index
    weighted = pd.Series(0.0, index=index)
    weights = pd.Series(0.0, index=index)
    for criterion in score.criteria:
        values = facts[criterion.field].astype("float64")
        if score.normalise == "percentile":  # the standard percentile rank; "lower" ranks from the other end
            normal = _percentile_rank(values, None, lower_first=criterion.better != "lower") / 100
        else:
            low, high = values.min(), values.max()
            if pd.isna(low):
                normal = values
            elif high == low:
                normal = values.where(values.isna(), 1.0)
            else:
                normal = (values - low) / (high - low)
                if criterion.better == "lower":
                    normal = 1 - normal
        present = normal.notna()
        weighted = weighted + normal.fillna(0) * criterion.weight
        weights = weights + present * criterion.weight
    result = 100 * weighted / weights.where(weights > 0)
    return ex.round_series(result)


def _group_counts(counted: np.ndarray, codes: np.ndarray | None) -> np.ndarray:
    """For every row, the sum of `counted` (ones and zeros) over its group (codes; None for one
    group; -1 a group of its own). Sums of ones and zeros are exact in any order, so they equal
    pandas' grouped sum without grouping."""
    if codes is None:
        return np.full(len(counted), counted.sum())
    shifted = codes + 1
    sums = np.bincount(shifted, weights=counted, minlength=int(shifted.max(initial=0)) + 1)
    return sums.astype("float64", copy=False)[shifted]  # (NumPy counts an empty table in integers)


def _stable_order(values: np.ndarray) -> np.ndarray:
    """`np.argsort(values, kind="stable")` for values without NaN: a quicksort, then the runs of equal
    values put back in input order by one sort of (run, position) keys of the tied places only,
    several times faster than NumPy's stable sort of floats when ties are few."""
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
    order[places] = np.sort(runs * size + order[places]) % size
    return order


def _percentile_rank(values: pd.Series, codes: np.ndarray | None, lower_first: bool = True) -> pd.Series:
    """`measures.percentile_rank` bit for bit (groups as integer codes, None for one group), from one
    sort of the present values: pandas' grouped rank sorts values, missing mask and groups together,
    most of a score's time at a million accounts. The average rank of a run of ties is a
    half-integer, exact in a float, so the formula sees the same numbers."""
    numbers = pd.to_numeric(values, errors="coerce").astype("float64").to_numpy()
    ordered = numbers if lower_first else -numbers
    average_rank = _ranks(ordered, codes, average=True)
    present = _group_counts((~np.isnan(numbers)).astype("float64"), codes)
    with np.errstate(invalid="ignore", divide="ignore"):
        result = (average_rank - 0.5) / np.where(present > 0, present, np.nan) * 100
    return pd.Series(np.where(np.isnan(numbers), np.nan, result), index=values.index, copy=False)


def _ranks(values: np.ndarray, codes: np.ndarray | None, average: bool) -> np.ndarray:
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
