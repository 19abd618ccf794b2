"""Portfolio measures shared by the features rules read and the portfolio summary the report shows.

One implementation, so a feature and the report can never disagree (issue #9). The conventions:

- **Missing** values (NaN / None) take no part: they are left out of totals and counts, and their own
  result is missing.
- **Negative or zero** values (returns, credit notes) count as zero sales: they add nothing to a total,
  hold a share of 0, and sit at the end of the Pareto order. So every share is within 0–1, every
  cumulative share within 0–1, and every HHI within 0–10,000.
- A group whose positive total is 0 has no shares, no cumulative share and no HHI (missing).
- **Ties** keep input order on the Pareto curve (the first listed counts as larger) and share the
  middle rank in a percentile (the standard percentile rank: the share of values below plus half the
  share of equal values, × 100).
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


def pareto_order(values: pd.Series) -> list:
    """The index labels of the present values, largest (positive part) first; ties in input order."""
    clipped = positive(values).dropna()
    return list(clipped.sort_values(ascending=False, kind="stable").index)


def cumulative_share(values: pd.Series) -> pd.Series:
    """The share of the positive total held by each account and every account before it in
    `pareto_order` (0–1); missing where the value is missing or the total is not positive."""
    clipped = positive(values)
    total = clipped.sum()
    result = pd.Series(np.nan, index=values.index)
    if clipped.notna().sum() == 0 or not total > 0:
        return result
    order = pareto_order(values)
    result[order] = np.minimum(clipped[order].cumsum().to_numpy() / total, 1.0)
    return result


def percentile_rank(values: pd.Series, keys: pd.Series | None = None, lower_first: bool = True) -> pd.Series:
    """The standard percentile rank within each group, 0–100: (values below + half the equal values,
    counting the value itself) ÷ present values × 100. Ten equal values all get 50, not 100; the
    largest of 100 distinct values gets 99.5. `lower_first=False` ranks from the other end (the
    smallest value gets the highest rank)."""
    numbers = pd.to_numeric(values, errors="coerce").astype("float64")
    ordered = numbers if lower_first else -numbers
    grouped = ordered.groupby(_keys(values, keys), sort=False)
    average_rank = grouped.rank(method="average")  # below + (ties + 1) / 2
    present = numbers.notna().astype("float64").groupby(_keys(values, keys), sort=False).transform("sum")
    return ((average_rank - 0.5) / present.where(present > 0) * 100).where(numbers.notna())
