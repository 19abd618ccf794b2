"""Derived values: features and composite scores, computed with pandas over the whole portfolio.

Portfolio functions (Pareto shares, percentiles, regional HHI) need every account at once, so they run
vectorized here before any rule is checked. Every number is rounded as the language defines
(`expr.round_series`), so what the rules compare is what a person would compute.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from kamrules.data.cells import cell_text, is_missing, plain_value
from kamrules.engine import measures
from kamrules.language import expr as ex
from kamrules.language.digits import odd_digit
from kamrules.language import vecsem
from kamrules.pack import FeatureSpec, RulePack, ScoreSpec

ID_FIELD = "account_id"  # the field whose text order breaks ties on the Pareto curve


def prepare_facts(pack: RulePack, frame: pd.DataFrame, names: list[str] | None = None) -> pd.DataFrame:
    """A copy of the input with one column per pack field, typed for evaluation (absent = missing);
    with `names`, only those fields (a chunked run's first pass reads a few columns)."""
    index = pd.RangeIndex(len(frame))
    facts: dict[str, pd.Series] = {}  # (one frame built at the end: see with_columns)
    for name, spec in pack.fields.items():
        if names is not None and name not in names:
            continue
        column = frame[name].reset_index(drop=True) if name in frame.columns else None
        if spec.type in ("number", "integer"):
            values = pd.Series(np.nan, index=index) if column is None else pd.to_numeric(column, errors="coerce")
            facts[name] = ex.round_series(values)
        elif spec.type == "date":
            values = pd.Series(pd.NaT, index=index) if column is None else pd.to_datetime(_digits_only(column),
                                                                                        errors="coerce")
            facts[name] = values.astype("datetime64[ns]")
        elif spec.type == "boolean":
            values = _all_missing_booleans(index) if column is None else column.astype("boolean")
            facts[name] = values
        else:
            if column is None:
                facts[name] = pd.Series([None] * len(index), index=index, dtype="object")
            elif isinstance(column.dtype, pd.StringDtype):  # (pandas' own strings) one object per distinct text
                codes, uniques = pd.factorize(column, use_na_sentinel=True)
                texts = np.empty(len(uniques) + 1, dtype=object)
                texts[:-1] = list(uniques)
                texts[-1] = None  # (code -1: missing)
                facts[name] = pd.Series(texts[codes], index=index, dtype="object")
            else:
                facts[name] = as_text(column)
    return pd.DataFrame(facts, index=index, copy=False)


def _digits_only(column: pd.Series) -> pd.Series:
    """A column of date texts (a test case's facts, a library user's frame) without the texts that hold
    digits of other forms: pandas reads '٢٠٢٦-01-01' and '𝟐𝟎𝟐𝟔-01-01' as 2026-01-01, while only ASCII
    and full-width digits are digits (language/digits.py). Those texts become missing."""
    if column.dtype != object:
        return column
    odd = [isinstance(v, str) and odd_digit(v) is not None for v in column]
    return column.where(~np.array(odd, dtype=bool), None) if any(odd) else column


def as_text(column: pd.Series) -> pd.Series:
    """A text or category column as texts (None when missing), decided as text on both engine paths.

    A library user's frame may hold other objects in a text column — 1 and 1.0, True, Decimal("1.0"),
    numpy numbers. The situations path classes values by hashing, which takes 1, 1.0 and True for
    one value, while the per-account path sent "1", "1.0" and "True" to the engine: the two paths
    disagreed. Each such cell becomes the text a CSV export of it would show (`data.cells.cell_text`:
    1.0 → "1", True → "true"), so every path decides the same texts."""
    values = column.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):  # the reader's columns: as they are
        return column.astype("object").where(column.notna(), None)
    texts = np.empty(len(values), dtype=object)
    texts[:] = [None if is_missing(v) else v if isinstance(v, str) else cell_text(plain_value(v)) for v in values]
    return pd.Series(texts, index=column.index, dtype="object")


def _all_missing_booleans(index: pd.Index) -> pd.Series:
    """A pandas "boolean" column of <NA> (False underneath, as pandas makes it from <NA> objects),
    built from its arrays rather than from a million <NA> objects tested one by one."""
    size = len(index)
    return pd.Series(pd.arrays.BooleanArray(np.zeros(size, dtype=bool), np.ones(size, dtype=bool)), index=index)


def compute_derived(pack: RulePack, facts: pd.DataFrame, as_of: dt.date,
                    warnings: list | None = None, *, items: list | None = None,
                    given: pd.DataFrame | None = None, overflowed_counts: dict | None = None) -> pd.DataFrame:
    """Add every feature and score to `facts` (in dependency order) and return it. Arithmetic overflow
    makes a value missing (as division by zero does); `warnings` gets one line per feature it hit.

    A chunked run (engine/chunks.py) passes `items` (only these are computed: pass 1's) or `given`
    (columns already computed over the whole portfolio, taken as they are, in their place among the
    others: pass 2), and `overflowed_counts` (name -> accounts hit, added to, instead of a line each)."""
    groups: dict = {}
    chosen = pack.derived if items is None else items
    order = [*facts.columns, *(item.name for item in chosen if item.name not in facts.columns)]
    said: dict[str, list] = {}  # each item's overflow warning, told in the pack's order
    for wave in derived_waves(chosen):
        added: dict[str, pd.Series] = {}
        for item in wave:
            if given is not None and item.name in given.columns:  # (pass 2: the portfolio-wide figures)
                added[item.name] = pd.Series(given[item.name].array, index=facts.index)
                continue
            with vecsem.overflows() as overflowed:
                if isinstance(item, ScoreSpec):
                    values = compute_score(item, facts)
                else:
                    values = compute_feature(item, facts, as_of, groups)
            added[item.name] = _without_overflow(item.name, values, overflowed, said.setdefault(item.name, []),
                                               overflowed_counts)
            groups.pop(item.name, None)
        facts = with_columns(facts, added)
    if warnings is not None:
        warnings.extend(line for item in chosen for line in said.get(item.name, []))
    return facts if list(facts.columns) == order else facts[order]


def derived_waves(items: list) -> list[list]:
    """Features and scores (in dependency order) in waves: an item reads only the facts and the items of
    earlier waves, so each wave's values are joined to the facts at once. An item that says it reads
    nothing (one built by hand) waits for every item before it."""
    waves: list[list] = []
    wave_of: dict[str, int] = {}
    for item in items:
        reads = set(item.reads)
        if isinstance(item, FeatureSpec) and item.function == "criteria_of":
            reads.update(item.arg)  # (the score's criteria)
        wave = max((wave_of[n] + 1 for n in reads if n in wave_of), default=0) if reads else len(waves)
        if wave == len(waves):
            waves.append([])
        waves[wave].append(item)
        wave_of[item.name] = wave
    return waves


def with_columns(facts: pd.DataFrame, added: dict) -> pd.DataFrame:
    """`facts` with the `added` columns after its own, in one step (empties `added`). Added a column at
    a time, each insert costs pandas more than the one before and it warns that the frame is "highly
    fragmented". Each column stays an array of its own (`copy=False`), as the code that reads the
    facts wants them: merged into 2-D blocks, they would be copied once now and again whenever a
    subset of the columns is taken (12% more CPU on a run of a million accounts, measured)."""
    if not added:
        return facts
    for name in [n for n in added if n in facts.columns]:  # (a name already there keeps its place)
        facts[name] = added.pop(name)
    joined = pd.concat([facts, pd.DataFrame(added, index=facts.index, copy=False)], axis=1) if added else facts
    added.clear()
    return joined


def overflow_warning(name: str, count: int) -> str:
    """The warning for a feature whose arithmetic overflowed for `count` accounts."""
    return (f"warning: '{name}' overflowed (a number too large to compute) for {count:,} "
            "accounts; it is missing for them, as after a division by zero. Check its formula "
            "and the sizes of the values it multiplies.")


def _without_overflow(name: str, values: pd.Series, overflowed: list, warnings: list | None,
                      counts: dict | None = None) -> pd.Series:
    """Infinite results (a sum of huge values) become missing too; the accounts hit are counted."""
    hit = np.logical_or.reduce(overflowed) if overflowed else np.zeros(len(values), dtype=bool)
    if pd.api.types.is_float_dtype(values.dtype):
        infinite = np.isinf(values.to_numpy(dtype="float64", na_value=np.nan))
        if infinite.any():
            hit = hit | infinite
            values = values.where(~infinite)
    if hit.any() and counts is not None:
        counts[name] = counts.get(name, 0) + int(hit.sum())
    elif hit.any() and warnings is not None:
        warnings.append(overflow_warning(name, int(hit.sum())))
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
        return _days_between(facts[feature.arg], as_of, function == "days_since")
    if function == "band":
        return _band(feature, facts[feature.arg])
    if function == "cumulative_share":
        return _cumulative_share(facts[feature.arg], facts[ID_FIELD] if ID_FIELD in facts.columns else None)
    if function == "criteria_of":
        return criteria_present(feature.arg, facts)
    return _group_function(feature, facts, groups)


def criteria_present(fields: tuple, facts: pd.DataFrame) -> pd.Series:
    """How many of a score's criteria (`fields`) each account has a value for."""
    present = np.zeros(len(facts), dtype="float64")
    for name in fields:
        present += facts[name].notna().to_numpy(dtype=bool)
    return pd.Series(present, index=facts.index)


def _days_between(dates: pd.Series, as_of: dt.date, since: bool) -> pd.Series:
    """Whole days from each date to `as_of` (`since`) or from `as_of` to each date, NaN when missing.
    Counted on day numbers, not nanoseconds: a timestamp difference overflows int64 past ±292 years
    (a last contact in 2199 seen from an --as-of in 1900 ended in OverflowError, exit 3), while any
    two dates kamrules holds are at most ~215,000 days apart."""
    stamps = dates.to_numpy(dtype="datetime64[ns]")
    missing = np.isnat(stamps)
    days = stamps.astype("datetime64[D]").astype(np.int64).astype("float64")
    anchor = float((as_of - dt.date(1970, 1, 1)).days)
    result = anchor - days if since else days - anchor
    result[missing] = np.nan
    return pd.Series(result, index=dates.index)


def _boolean_name_as_objects(facts: pd.DataFrame, node: ex.Node) -> pd.DataFrame:
    """For a feature that is just a boolean column's name, that column with missing values as True /
    False / None objects, as the feature has always read it (its result is that column made boolean
    again, False under the missing values). Comparisons read nullable boolean columns as they are
    (`vecsem` compares them with their missing values), so no other feature converts anything."""
    name = node.name if isinstance(node, ex.Name) else None
    column = facts[name] if name in facts.columns else None
    if name is None or column is None or not isinstance(column.dtype, pd.BooleanDtype) or not column.isna().any():
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


def _cumulative_share(values: pd.Series, ids: pd.Series | None = None) -> pd.Series:
    """Share of the positive total held by this account and every larger one, equal values ordered
    by account id (see `measures`)."""
    return ex.round_series(measures.cumulative_share(values, ids))


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
        result = pd.Series(measures.group_counts(counted.to_numpy(dtype="float64"), group_codes), index=index, copy=False)
        return result.where(in_group).astype("float64")

    values = facts[feature.arg].astype("float64")
    if feature.where is not None:  # accounts where the condition is not true take no part
        values = values.where(ex.condition_vector(feature.where, facts).fillna(False).astype(bool))
    grouped = values.groupby(keys, sort=False)
    if function == "share_of":
        result = measures.share_of(values, keys)
    elif function == "hhi":
        result = measures.hhi(values, keys)
    elif function == "rank":
        ordered = values if feature.order == "asc" else -values
        if feature.ties == "ordered":
            ids = facts[ID_FIELD].to_numpy(dtype=object) if ID_FIELD in facts.columns else None
            result = pd.Series(measures.ordinal_ranks(ordered.to_numpy(dtype="float64"), group_codes, ids),
                               index=index, copy=False)
        else:
            result = pd.Series(measures.ranks(ordered.to_numpy(), group_codes, average=False), index=index, copy=False)
    elif function == "percentile":
        result = measures.percentile_by_codes(values, group_codes)
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
    """Weighted index 0–100 over normalised criteria; missing criteria re-spread the weights. An account
    with fewer than `min_criteria` of them has no score: an index resting on one criterion is that
    criterion alone, not a composite."""
    index = facts.index
    weighted = pd.Series(0.0, index=index)
    weights = pd.Series(0.0, index=index)
    for criterion in score.criteria:
        values = facts[criterion.field].astype("float64")
        if score.normalise == "percentile":  # the standard percentile rank; "lower" ranks from the other end
            normal = measures.percentile_by_codes(values, None, lower_first=criterion.better != "lower") / 100
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
    if score.min_criteria is not None:
        enough = criteria_present(tuple(c.field for c in score.criteria), facts) >= score.min_criteria_value()
        result = result.where(enough)
    return ex.round_series(result)


