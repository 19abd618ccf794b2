"""The portfolio's regions: how concentrated each region's sales are (largest customer, HHI) and where
to develop counterweights (thesis §5.5). Part of `portfolio.summarise`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple, cast

import numpy as np
import pandas as pd

from kamrules.engine import measures
from kamrules.i18n import is_missing as _missing
from kamrules.results import portfolio_advice as advice_text

Text = dict  # {"en": ..., "zh": ...}


class RegionParams(NamedTuple):
    """The pack's region params (None where the pack lacks one)."""

    dominant_share: float | None  # region_dominant_share
    hhi_high: float | None  # region_hhi_high
    hhi_moderate: float | None  # region_hhi_moderate
    min_accounts: float  # region_min_accounts (1 without it): for the HHI only
    counterweight_ratio: float | None  # counterweight_min_ratio
    dominant_min_share: float | None = None  # region_dominant_min_share: a dominant customer large enough in our book


@dataclass(frozen=True)
class RegionRow:
    """Concentration of one region's sales."""

    region: str
    accounts: int
    sales: float
    sales_share: float | None  # of total sales
    largest_id: str | None
    largest_name: str | None
    largest_share: float | None  # the largest customer's share of the region
    hhi: float | None  # sum of squared % shares, 0–10,000
    concentration: str  # "unconcentrated" | "moderate" | "high" | "unknown" | "too_small" (below region_min_accounts)
    concentration_label: Text
    balance: bool  # two accounts or more, a region that matters, the largest ≥ 50%: develop counterweights
    advice: Text  # {} when no action is needed



_FEW = 64  # regions up to which their members are found by a mask each rather than one sort


def _region_groups(region_values: list | np.ndarray) -> tuple[dict, int, list]:
    """({region: member positions, ascending}, how many accounts have no region, each account's region
    key: its text stripped, None when missing). Worked out once per distinct value."""
    codes, distinct = pd.factorize(np.array(region_values, dtype=object))
    stripped = [str(r).strip() for r in distinct.tolist()]
    key_of = np.array([*stripped, None], dtype=object)
    keys = key_of[codes].tolist()  # code -1 (missing) takes the last: None
    named = [k if k else None for k in stripped]  # a region that is only spaces counts as none
    grouped, regions = pd.factorize(np.array([*named, None], dtype=object)[codes])
    if len(regions) <= _FEW:  # a mask per region beats sorting a million codes
        groups = {region: np.flatnonzero(grouped == k) for k, region in enumerate(regions.tolist())}
        return groups, int((grouped < 0).sum()), keys
    order = np.argsort(grouped, kind="stable")
    bounds = np.searchsorted(grouped[order], np.arange(-1, len(regions) + 1))
    groups = {region: order[bounds[k + 1]:bounds[k + 2]] for k, region in enumerate(regions.tolist())}
    return groups, int(bounds[1] - bounds[0]), keys


def region_rows(region_values: list | np.ndarray, ids: list | np.ndarray, names: list | np.ndarray, sales: np.ndarray, total: float, params: RegionParams,
                dominated: list | None = None):
    """One row per region; `sales`: every account's, NaN when missing. HHI and shares come from `measures`
    (what the features compute). A region needs balancing when it has two accounts or more and its
    largest customer holds `region_dominant_share` or more of it and at least `region_dominant_min_share`
    of our whole sales (enough to dictate terms) (two customers at 90/10 are judged: the small-sample caution, `region_min_accounts`, is the
    HHI's); three evenly matched customers (the thesis's target) never do. `dominated`: every account's
    value of the pack's own test (role `region_dominated`), when the pack has one: then a region needs
    balancing exactly when the pack says its largest customer dominates it, so the summary and the
    accounts' plans never disagree."""
    dominant, high, moderate, minimum, reach, weight = params
    groups, without, keys = _region_groups(region_values)
    values = pd.Series(sales, dtype="float64")
    keys = pd.Series(keys, dtype="object")
    shares, hhis = measures.share_of(values, keys).to_numpy(), measures.hhi(values, keys).to_numpy()
    clipped = measures.positive(values).fillna(0.0).to_numpy()
    rows = []
    for region, members in groups.items():
        order = _two_largest(members, clipped)
        largest, region_total = order[0], float(clipped[members].sum())
        largest_share = hhi = None
        concentration = "unknown"
        if region_total > 0:
            largest_share, hhi = round(float(shares[largest]), 9), round(float(hhis[largest]), 6)
            concentration = _concentration(hhi, high, moderate) if len(members) >= minimum else "too_small"
        matters = weight is None or (total > 0 and float(clipped[largest]) / total >= weight)
        alone = len(order) < 2 or float(clipped[order[1]]) < float(clipped[largest])  # 50/50: no one dominates
        if dominated is not None:
            balance = largest_share is not None and dominated[largest] is True
        else:
            balance = (dominant is not None and largest_share is not None and len(members) >= 2 and matters
                       and alone and largest_share >= dominant)
        advice: Text = {}
        if balance:
            second = order[1] if len(order) > 1 and _within_reach(clipped, largest, order[1], reach) else None
            advice = advice_text.balance_advice(region, _who(ids, names, largest),
                                                _who(ids, names, second) if second is not None else None,
                                                cast(float, largest_share), cast(float, hhi),
                                                _second_ratio(clipped, order))  # (balance: both measured)
        rows.append(RegionRow(
            region=region, accounts=len(members), sales=region_total,
            sales_share=region_total / total if total > 0 else None,
            largest_id=ids[largest], largest_name=_name(names[largest]),
            largest_share=largest_share, hhi=hhi, concentration=concentration,
            concentration_label=advice_text.CONCENTRATION[concentration], balance=balance, advice=advice,
        ))
    rows.sort(key=lambda r: (-r.sales, r.region))
    return tuple(rows), without


def _two_largest(members: np.ndarray, clipped: np.ndarray) -> list:
    """The region's largest member and the next one (ties in input order), as positions."""
    amounts = clipped[members]
    first = int(np.argmax(amounts))  # the first of the largest: `members` ascend
    if len(members) == 1:
        return [int(members[first])]
    rest = np.delete(np.arange(len(members)), first)
    second = int(rest[np.argmax(amounts[rest])])
    return [int(members[first]), int(members[second])]


def _second_ratio(clipped, order: list) -> float | None:
    """The region's number 2's sales against the largest one's (what decides whether they balance)."""
    if len(order) < 2 or float(clipped[order[0]]) <= 0:
        return None
    return float(clipped[order[1]]) / float(clipped[order[0]])


def _within_reach(clipped, largest: int, second: int, ratio: float | None) -> bool:
    """Whether the region's number 2 can become a counterweight: at least `counterweight_min_ratio` of the
    largest one's sales (the `cultivate_counterweight` action's test); a tiny tie is never named."""
    return ratio is None or float(clipped[second]) >= float(clipped[largest]) * ratio


def _concentration(hhi: float, high: float | None, moderate: float | None) -> str:
    """The HHI band; "unknown" where the pack lacks the bound that would place it."""
    if high is not None and hhi >= high:
        return "high"
    if moderate is not None and hhi >= moderate:
        return "moderate" if high is not None else "unknown"
    return "unconcentrated" if moderate is not None else "unknown"


def _name(name: Any) -> str | None:
    return None if _missing(name) or name == "" else name


def _who(ids: list | np.ndarray, names: list | np.ndarray, i: int) -> str:
    return _name(names[i]) or ids[i]
