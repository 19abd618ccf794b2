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
            values = pd.Series(pd.NA, index=facts.index, dtype="boolean") if column is None else column.astype("boolean")
            facts[name] = values
        else:
            if column is None:
                facts[name] = pd.Series([None] * len(facts), index=facts.index, dtype="object")
            else:
                facts[name] = column.astype("object").where(column.notna(), None)
    return facts


def compute_derived(pack: RulePack, facts: pd.DataFrame, as_of: dt.date,
                    warnings: list | None = None) -> pd.DataFrame:
    """Add every feature and score to `facts` (in dependency order) and return it. Arithmetic overflow
    makes a value missing (as division by zero does); `warnings` gets one line per feature it hit."""
    for item in pack.derived:
        with vecsem.overflows() as overflowed:
            if isinstance(item, ScoreSpec):
                values = compute_score(item, facts)
            else:
                values = compute_feature(item, facts, as_of)
        facts[item.name] = _without_overflow(item.name, values, overflowed, warnings)
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


def compute_feature(feature: FeatureSpec, facts: pd.DataFrame, as_of: dt.date) -> pd.Series:
    function = feature.function
    if function == "expr":
        result = ex.eval_vector(feature.arg, _booleans_as_objects(facts, ex.names_in(feature.arg)))
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
    return _group_function(feature, facts)


def _booleans_as_objects(facts: pd.DataFrame, names: set[str]) -> pd.DataFrame:
    """The boolean columns among `names` (those the expression reads) with missing values as True /
    False / None objects: the vector comparison of a nullable boolean column with <NA> (a bare
    `strategic_project` in a feature) cannot become a NumPy bool array, while the object path masks
    missing values first. Only the columns read: converting all of them for every feature was a
    quarter of the features stage at a million accounts."""
    converted = {name: column.astype(object).where(column.notna(), None)
                 for name, column in ((n, facts[n]) for n in sorted(names) if n in facts.columns)
                 if isinstance(column.dtype, pd.BooleanDtype) and column.isna().any()}
    return facts.assign(**converted) if converted else facts


def _band(feature: FeatureSpec, values: pd.Series) -> pd.Series:
    result = pd.Series([None] * len(values), index=values.index, dtype="object")
    unassigned = values.notna()
    for band in feature.bands:
        if band.below is None:
            hit = unassigned
        else:
            hit = unassigned & (values < band.below.value)
        result[hit] = band.label
        unassigned = unassigned & ~hit
    return result


def _cumulative_share(values: pd.Series) -> pd.Series:
    """Share of the positive total held by this account and every larger one (see `measures`)."""
    return ex.round_series(measures.cumulative_share(values))


def _group_function(feature: FeatureSpec, facts: pd.DataFrame) -> pd.Series:
    function = feature.function
    index = facts.index
    if feature.within is not None:
        keys = facts[feature.within]
        in_group = keys.notna()
        # groups as integer codes (hashing a million objects once, not in every groupby); missing
        # values form a placeholder group (-1), blanked below
        keys = pd.Series(pd.factorize(keys, use_na_sentinel=True)[0], index=index)
    else:
        in_group = pd.Series(True, index=index)
        keys = pd.Series(0, index=index)

    if function == "count":
        if feature.where is not None:
            counted = ex.condition_vector(feature.where, facts).fillna(False).astype(float)
        else:
            counted = pd.Series(1.0, index=index)
        result = counted.groupby(keys, sort=False).transform("sum")
        return result.where(in_group).astype("float64")

    values = facts[feature.arg].astype("float64")
    grouped = values.groupby(keys, sort=False)
    if function == "share_of":
        result = measures.share_of(values, keys)
    elif function == "hhi":
        result = measures.hhi(values, keys)
    elif function == "rank":
        ascending = feature.order == "asc"
        result = (grouped.rank(method="min", ascending=ascending) if feature.within is not None
                  else values.rank(method="min", ascending=ascending))  # one group: no groupby
    elif function == "percentile":
        result = measures.percentile_rank(values, keys)
    elif function in ("sum", "mean", "max", "min"):
        result = grouped.transform(function)
    else:  # pragma: no cover - the loader only lets known functions through
        raise ValueError(function)
    if function in ("share_of", "rank", "percentile"):
        result = result.where(values.notna())
    return ex.round_series(result.where(in_group))


def compute_score(score: ScoreSpec, facts: pd.DataFrame) -> pd.Series:
    """Weighted index 0–100 over normalised criteria; missing criteria re-spread the weights."""
    index = facts.index
    weighted = pd.Series(0.0, index=index)
    weights = pd.Series(0.0, index=index)
    for criterion in score.criteria:
        values = facts[criterion.field].astype("float64")
        if score.normalise == "percentile":  # the standard percentile rank; "lower" ranks from the other end
            normal = measures.percentile_rank(values, lower_first=criterion.better != "lower") / 100
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
