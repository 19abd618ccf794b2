"""The portfolio view: how the accounts split, how concentrated sales are, and what to do about it.

`summarise(evaluation)` returns a `Portfolio`: counts by tier / relationship / service level / risk
level (whichever outputs the pack has), the Pareto split *as measured* (the smallest share of accounts
that makes 80% of sales) and its curve, the number of key accounts against the manageable band with the
domain's advice (key account department or top management), regional concentration (largest customer,
HHI, balancing advice), the accounts at risk of defection, and the rules that could not apply for lack
of data. Every text is kept in English and Chinese; `Portfolio.lines(lang)` gives plain summary lines.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from typing import Any, Iterable

from kamrules.pack import RulePack, rules_without_data
from kamrules.pack.conditions import needs_absent
from kamrules.i18n import LANGS, fmt_money, fmt_number, fmt_pct
from kamrules.i18n import is_missing as _missing
from kamrules.results.columns import column_values, mixed_numbers
from kamrules.results.distinct import account_cells, column_cells
from kamrules.engine import measures
from kamrules.results import portfolio_advice as advice_text
from kamrules.results.portfolio_regions import RegionParams, region_rows
from kamrules.results import portfolio_team as team
from kamrules.results.portfolio_model import (
    Breakdown, Count, CurvePoint, KeyAccountBand, ParetoSplit, Portfolio, RiskAccount, RiskSignal, Text, UnusedRule,
)
from kamrules.engine.evaluation import Evaluation

BREAKDOWN_OUTPUTS = ("tier", "relationship", "service_level", "risk_level")
# the risk levels listed, sorted by the sales at stake: customers lost or lapsed come with the others
RISK_LEVELS_LISTED = ("lost", "lapsed", "critical", "at_risk")
RISK_WORDS = advice_text.RISK_WORDS
# The risk level of an account whose row has none of the risk fields (never counted as "no risk").
NOT_ASSESSED = "not_assessed"

# The split is always measured; a pack without `pareto_target` is measured at the principle's 80%.
PARETO_PRINCIPLE = 0.80
# The param roles the summary shows (Portfolio.params, by role). A pack that lacks one leaves out the
# advice that needs it (no copy of the default pack's values lives here); every param is read through
# its role (pack/model.PARAM_ROLES), so a team pack that renames one keeps its sections.
PORTFOLIO_PARAM_ROLES = ("pareto_target", "kam_manageable_min", "kam_manageable_max", "kam_warn_strong",
                         "kam_department_threshold", "kam_department_min_fte", "kam_hours_per_month_min",
                         "kam_hours_per_month_max", "fte_hours_per_month", "region_dominant_share",
                         "region_hhi_high", "region_hhi_moderate", "lapsed_alert_share",
                         "potential_hours_per_month_min", "potential_hours_per_month_max", "concentration_min")


# ---------------------------------------------------------------------------------------- helpers


def _number(value: Any) -> float | None:
    if _missing(value) or isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _labels(pack: RulePack, name: str, value: Any) -> Text:
    if _missing(value):
        return {"en": "(none)", "zh": "（无）"}
    return {lang: pack.label(name, value, lang) for lang in LANGS}


def _title(pack: RulePack, name: str) -> Text:
    return {lang: pack.name_label(name, lang) for lang in LANGS}


def _sales(pack: RulePack, evaluation: Evaluation, n: int) -> np.ndarray:
    """Every account's sales as a float, NaN when missing or not a number (`_number`: never NaN itself)."""
    name, table = pack.role("sales"), getattr(evaluation, "table", None)
    if name is not None and table is not None and name in getattr(table, "columns", ()) and table[name].dtype.kind == "f":
        return table[name].to_numpy(dtype="float64", copy=True)
    numbers = [_number(v) for v in (_column(pack, evaluation, "sales") or [None] * n)]
    return np.array([math.nan if v is None else v for v in numbers], dtype="float64")


def _sale(sales: np.ndarray, i: int) -> float | None:
    """One account's sales as `_number` gives it: a float, None when missing."""
    value = float(sales[i])
    return None if value != value else value


def _objects(values: list) -> np.ndarray:
    """A column's values as a one-dimensional object array (lists stay cells), for comparisons at once:
    `cells == "key"` holds where `value == "key"` does."""
    return np.fromiter(values, dtype=object, count=len(values))


def _among(cells: np.ndarray, *wanted: str) -> np.ndarray:
    """Where a cell equals one of `wanted` (`v in wanted`, for texts), compared cell by cell in C."""
    found = np.zeros(len(cells), dtype=bool)
    for value in wanted:
        if len(cells):
            found |= cells == value
    return found


def _count(cells: np.ndarray, *wanted: str) -> int:
    """How many cells equal one of `wanted` (`sum(1 for v in values if v in wanted)`)."""
    return int(_among(cells, *wanted).sum())


def _column(pack: RulePack, evaluation: Evaluation, role: str) -> list | None:
    """The values of the name playing `role` in the pack, or None when the pack has none."""
    name = pack.role(role)
    return None if name is None else column_values(evaluation, name)


def _n(value: float) -> str:
    return fmt_number(value, 0)


# ---------------------------------------------------------------------------------------- summary


def summarise(evaluation: Evaluation, lang: str = "en", present_fields: Iterable[str] | None = None) -> Portfolio:
    """The portfolio summary of an evaluation.

    `present_fields`: the pack fields the data file had; without it, the evaluation's own
    (`Evaluation.present_fields`, known when the file's columns were), else a field counts as present
    when at least one account has a value for it.
    """
    summary = _Summary(evaluation)
    pack, n = summary.pack, summary.n
    key = summary.key_accounts()
    target = pack.param("pareto_target") or PARETO_PRINCIPLE
    curve, pareto = _pareto(summary.ids, summary.names, summary.sales, summary.tiers, target)
    band, team_view = summary.team(key[0])
    regions, without_region, has_region = summary.regions()
    levels = summary.levels()
    stakes = team.stakes(pack, evaluation, summary.sales)
    risks, risk_counts = _risks(pack, evaluation, levels, summary.tiers, summary.sales, stakes) if levels is not None \
        else ((), {})
    losses = team.losses(pack, evaluation, levels, summary.ids, summary.names, summary.sales) if levels is not None \
        else None
    index_text = team.index_basis(pack, present_fields if present_fields is not None else evaluation.present_fields)
    orders_text = team.orders_basis(pack, evaluation,
                                    present_fields if present_fields is not None else evaluation.present_fields)
    unused = _unused_rules(pack, evaluation, present_fields)
    not_assessed = _risk_not_assessed(pack, unused, losses is not None)
    level_cells = levels if levels is not None else _objects([])
    unassessed_rows = _count(level_cells, NOT_ASSESSED)
    # at risk with a plan of their own (key and potential accounts get a playbook by default)
    planned = int((_among(level_cells, "critical", "at_risk")
                   & _among(summary.tiers[:len(level_cells)], "key", "over_capacity", "potential")).sum())
    at_risk_total = risk_counts.get("critical", 0) + risk_counts.get("at_risk", 0)
    level = pack.output(pack.role("risk_level") or "")
    words = advice_text.risk_words(level.value_labels if level is not None else {})
    advice = _advice(band, regions, not_assessed, at_risk_total, risk_counts.get("critical", 0), words, planned,
                     index_text, losses)
    left = team.sizeable_left(pack, evaluation)
    if left is not None:  # after the key account band's lines, which it completes
        advice.insert((1 if losses is not None else 0) + (len(band.advice) if band is not None else 0), left)
    gaps = team.period_gaps(pack, evaluation)
    if gaps is not None:  # beside the lost and lapsed customers: gaps to confirm
        advice.insert(1 if losses is not None else 0, gaps)
    if orders_text is not None:  # how the order count is read: after the lost and lapsed customers it explains
        advice.insert(1 if losses is not None else 0, orders_text)
    return Portfolio(
        lang=lang, accounts=n, total_sales=summary.total_sales, breakdowns=summary.breakdowns(),
        key_accounts=key[0], key_sales=key[1], key_sales_share=key[2], pareto=pareto, curve=curve, band=band,
        regions=regions, accounts_without_region=without_region, risks=risks, risks_total=sum(risk_counts.values()),
        rules_without_data=unused, advice=tuple(advice),
        has_region=has_region, risk_assessed=None if not _signal_decisions(pack) else not_assessed is None,
        risk_not_assessed=not_assessed, risk_not_assessed_accounts=unassessed_rows,
        risk_not_assessed_accounts_text=advice_text.not_assessed_rows_text(unassessed_rows, n) if unassessed_rows else None,
        params={role: pack.param(role) for role in PORTFOLIO_PARAM_ROLES if pack.param(role) is not None},
        risk_words=words, index_basis=index_text, losses=losses, at_risk_total=at_risk_total, **team_view,
    )


class _Summary:
    """What every part of the summary reads, each column once: ids and names, sales (NaN when
    missing), the tiers. Columns, not per-account objects: the evaluation's table holds every
    single-valued output."""

    def __init__(self, evaluation: Evaluation):
        self.evaluation, self.pack = evaluation, evaluation.pack
        self.n = len(evaluation.accounts)
        self.ids, self.names = account_cells(evaluation)
        self.read: dict = {}  # each column once (the tier and the risk level are read twice); never changed
        self.sales = _sales(self.pack, evaluation, self.n)  # NaN: missing
        self.amounts = np.where(np.isnan(self.sales), 0.0, self.sales)  # a missing sale counts as none
        self.total_sales = sum(self.sales[~np.isnan(self.sales)].tolist())  # in input order, as a person adds them up
        self.positive_total = sum(self.sales[self.sales > 0].tolist(), 0.0 if self.n else 0)
        tier_name = self.pack.role("tier")
        self.has_tier = tier_name is not None and self.pack.output(tier_name) is not None
        self.tiers = self.values_of(tier_name) if tier_name is not None and self.has_tier else _objects([None] * self.n)

    def values_of(self, name: str) -> np.ndarray:
        if name not in self.read:
            self.read[name] = column_cells(self.evaluation, name)
        return self.read[name]

    def breakdowns(self) -> tuple:
        pack = self.pack
        return tuple(_breakdown(pack, name, self.values_of(name), self.amounts, self.total_sales)
                     for name in (pack.role(r) for r in BREAKDOWN_OUTPUTS)
                     if name is not None and pack.output(name) is not None)

    def key_accounts(self) -> tuple:
        """(key accounts, their sales, their share of all sales), None each without a tier."""
        if not self.has_tier:
            return None, None, None
        key = _among(self.tiers, "key")
        amounts = self.amounts
        key_sales = sum(np.where(amounts[key] == 0, 0.0, amounts[key]).tolist())  # `s or 0.0`: never -0.0
        return int(key.sum()), key_sales, key_sales / self.total_sales if self.total_sales > 0 else None

    def team(self, key_accounts: int | None) -> tuple:
        """(the key-account band, the Portfolio's team fields: capacity, consumer book, waiting accounts)."""
        pack, evaluation, tiers = self.pack, self.evaluation, self.tiers
        basis_role = pack.role("tier_basis")
        basis_name = basis_role if basis_role and pack.output(basis_role) else None
        bases = self.values_of(basis_name) if basis_name else _objects([None] * self.n)
        capacity = team.first_value(pack, evaluation, "key_capacity")
        consumer_book = bool(team.first_value(pack, evaluation, "consumer_book"))
        waiting, waiting_total, waiting_sales = team.waiting_accounts(tiers, self.ids, self.names, self.sales)
        beyond = _count(bases, team.BEYOND_PIPELINE_BASIS)
        signs = team.first_value(pack, evaluation, "pipeline_signs")
        pipeline = (_count(tiers, "potential"), _count(bases, "potential_capacity"),
                    int(signs) if isinstance(signs, (int, float)) and not isinstance(signs, bool) else None)
        left = _number(team.first_value(pack, evaluation, "sizeable_left"))
        if left and left >= beyond + pipeline[1]:  # all of them sizeable: one line counts them (team.sizeable_left)
            beyond, pipeline = 0, (pipeline[0], 0, pipeline[2])
        developing = _count(tiers, "potential") + waiting_total
        planned = _count(tiers, "key", "over_capacity", "potential")  # every account planned: no "rest" to segment
        concentration = None if consumer_book else team.concentration(pack, evaluation, planned < self.n)
        places = team.first_value(pack, evaluation, "team_places")
        policy_bound = _number(capacity) is not None and _number(places) is not None and capacity < places
        band = (_band(pack, key_accounts, capacity, self.n, pipeline, consumer_book,
                      team.waiting_text(waiting, waiting_total, waiting_sales, self.total_sales, beyond,
                                        lambda v, lang: fmt_money(v, lang, wan=False), policy_bound),
                      developing=developing, concentration=concentration,
                      team_places=places, waiting=waiting_total)
                if key_accounts is not None else None)
        return band, {"key_capacity": capacity, "waiting": waiting, "waiting_total": waiting_total,
                      "waiting_sales": waiting_sales, "beyond_pipeline": beyond, "consumer_book": consumer_book}

    def regions(self) -> tuple:
        """(the region rows, accounts without a region, whether the pack has a region)."""
        pack = self.pack
        region = pack.role("region")
        if region is None:
            return (), 0, False
        region_values = column_cells(self.evaluation, region)
        rows, without = region_rows(region_values, self.ids, self.names, self.sales, self.positive_total, RegionParams(
            pack.param("region_dominant_share"), pack.param("region_hhi_high"), pack.param("region_hhi_moderate"),
            pack.param("region_min_accounts") or 1, pack.param("counterweight_min_ratio"),
            pack.param("region_dominant_min_share")), _flags(self.evaluation, pack.role("region_dominated")))
        return rows, without, True

    def levels(self) -> np.ndarray | None:
        """Every account's risk level, None when the pack has none."""
        level_name = self.pack.role("risk_level")
        if level_name is None or self.pack.output(level_name) is None:
            return None
        return self.values_of(level_name)


def _advice(band, regions: tuple, not_assessed: Text | None, risks_total: int, critical: int,
            words: dict | None = None, planned: int | None = None, index_text: Text | None = None,
            losses=None) -> list:
    """The portfolio advice: lost and lapsed customers first, then the key account band, organisation
    and workload, what the index rests on, regions, risks."""
    advice: list[Text] = []
    if losses is not None:
        advice.append(losses.text)
    if band is not None:
        advice += list(band.advice)
    if index_text is not None:
        advice.append(index_text)
    balancing = [row.region for row in regions if row.balance]
    if balancing:
        advice.append(advice_text.balancing_text(balancing, len(regions)))
    if not_assessed is not None:
        advice.append(not_assessed)
    if risks_total:
        advice.append(advice_text.risks_text(risks_total, critical, (words or RISK_WORDS)["zh"][1], planned))
    return advice


def _breakdown(pack: RulePack, name: str, values: list | np.ndarray, amounts: np.ndarray, total: float) -> Breakdown:
    """The accounts counted by the values of output `name`; `amounts`: every account's sales, 0.0 when missing."""
    spec = pack.output(name)
    order = list(spec.values) if spec is not None and spec.values else []
    groups = _groups(values)
    if groups is None:  # values a hash cannot tell apart (True and 1): compared one by one
        present = {v for v in values if not _missing(v)}
        groups = {v: [i for i, w in enumerate(values) if w == v] for v in present}
        groups[None] = [i for i, v in enumerate(values) if _missing(v)]
    order += sorted((v for v in groups if v is not None and v not in order), key=str)
    counts = []
    n = len(values) or 1
    for value in [*order, None]:
        chosen = groups.get(value, np.zeros(0, dtype=np.int64))
        if value is None and not len(chosen):
            continue
        amount = sum(amounts[chosen].tolist())  # in input order, as a person would add them up
        counts.append(Count(value, _labels(pack, name, value), len(chosen), len(chosen) / n, amount,
                            amount / total if total > 0 else None))
    return Breakdown(name, _title(pack, name), tuple(counts))


_FEW = 16  # distinct values up to which `_groups` takes a mask per value rather than one sort


def _groups(values: list | np.ndarray) -> dict | None:
    """{value: positions (ascending)} with missing values under None; None when the values mix kinds
    a hash takes for one (True, 1 and 1.0)."""
    try:
        codes, distinct = pd.factorize(np.array(values, dtype=object))
    except TypeError:
        return None
    distinct = distinct.tolist()
    if mixed_numbers(values):
        return None
    if len(distinct) <= _FEW:  # a mask per value beats sorting a million codes
        groups = {value: np.flatnonzero(codes == k) for k, value in enumerate(distinct)}
        groups[None] = np.flatnonzero(codes < 0)
        return groups
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(-1, len(distinct) + 1))
    groups = {value: order[bounds[k + 1]:bounds[k + 2]] for k, value in enumerate(distinct)}
    groups[None] = order[bounds[0]:bounds[1]]
    return groups


CURVE_POINTS_MAX = 2000  # a larger portfolio's curve keeps a sample (the report stays light to open)
CURVE_TOP_KEPT = 500  # the largest accounts, where key accounts sit, are always kept


def curve_ranks(n: int) -> set | None:
    """The ranks (1 = largest) kept on the curve: all (None) up to CURVE_POINTS_MAX; above, the largest
    CURVE_TOP_KEPT and an even sample of the rest, always ending with the last account."""
    if n <= CURVE_POINTS_MAX:
        return None
    rest = n - CURVE_TOP_KEPT
    step = rest / (CURVE_POINTS_MAX - CURVE_TOP_KEPT)
    sampled = {CURVE_TOP_KEPT + 1 + int(i * step) for i in range(CURVE_POINTS_MAX - CURVE_TOP_KEPT - 1)}
    return set(range(1, CURVE_TOP_KEPT + 1)) | sampled | {n}


def _pareto(ids: list | np.ndarray, names: list | np.ndarray, sales: np.ndarray, tiers: list | np.ndarray, target: float):
    """The Pareto curve and split, from `measures` (the same order and shares as the features);
    `sales`: every account's, NaN when missing."""
    n = len(ids)
    values = pd.Series(sales, dtype="float64")
    clipped = measures.positive(values).fillna(0.0).to_numpy()  # arrays: read once per account below
    tie_ids = np.asarray(ids, dtype=object)  # equal sales by account id, as the features order them
    cumulative = measures.cumulative_share(values.fillna(0.0), tie_ids).to_numpy()  # a missing sale counts as none here
    order = measures.pareto_order(values.fillna(0.0), tie_ids)
    kept = curve_ranks(n)

    def share_at(i: int) -> float:
        return 0.0 if math.isnan(cumulative[i]) else round(float(cumulative[i]), 9)

    ranks = range(1, len(order) + 1) if kept is None else sorted(r for r in kept if r <= len(order))
    points = [CurvePoint(rank, i, ids[i], names[i], float(clipped[i]), rank / n, share_at(i), tiers[i],
                         tiers[i] == "key")
              for rank, i in ((rank, order[rank - 1]) for rank in ranks)]
    split = None
    if target is not None and len(order):
        # The cumulative share only grows along the Pareto order: look from the first rank near the
        # target on, with the exact (rounded) test.
        along = np.nan_to_num(cumulative[np.asarray(order)], nan=0.0)
        for position in range(int(np.searchsorted(along, target - 1e-6, side="left")), len(order)):
            share = share_at(order[position])
            if share > 0 and share >= target:
                split = (position + 1, share)
                break
    pareto = None
    if split is not None:
        k, share = split
        account_share = k / n
        pareto = ParetoSplit(target, k, account_share, share, {
            "en": f"{fmt_pct(account_share)} of the accounts ({k} of {n}) make {fmt_pct(target, 0)} of sales "
                  f"(together {fmt_pct(share)})",
            "zh": f"{fmt_pct(account_share)} 的客户（{n} 个中的 {k} 个）贡献了 {fmt_pct(target, 0)} 的销售额"
                  f"（合计 {fmt_pct(share)}）",
        })
    return tuple(points), pareto


def _band(pack: RulePack, key: int, capacity: float | None, accounts: int, pipeline: tuple = (0, 0, None),
          consumer_book: bool = False, waiting_line: Text | None = None, developing: int = 0,
          concentration: Text | None = None, team_places: Any = None, waiting: int = 0) -> KeyAccountBand:
    low, high = pack.param("kam_manageable_min"), pack.param("kam_manageable_max")
    strong, threshold = pack.param("kam_warn_strong"), pack.param("kam_department_threshold")
    status = _status(key, low, high, strong) if not consumer_book else "unknown"
    fte = _fte(pack, key, developing)
    department, organisation = _organisation(pack, key, threshold, fte, consumer_book)
    potential, over, signs = (tuple(pipeline) + (None,))[:3]
    pipeline_line = advice_text.pipeline_text(potential, over, None if capacity is None else capacity * (pack.param("pipeline_factor") or 0) or None, signs)
    places = team_places if isinstance(team_places, (int, float)) and not isinstance(team_places, bool) else None
    advice = [text for text in (team.capacity_text(pack, capacity, accounts, places, concentration is not None)
                                if not consumer_book else None,
                                concentration, advice_text.band_text(status, key, low, high, strong, developing),
                                _with_hours(pack, waiting_line, fte) if waiting else waiting_line,
                                pipeline_line, organisation) if text]
    if fte is not None and not consumer_book:
        advice.append(fte[2])
    return KeyAccountBand(key, low, high, strong, threshold, status, department,
                          fte[0] if fte else None, fte[1] if fte else None, tuple(advice))


def _with_hours(pack: RulePack, waiting_line: Text | None, fte: tuple | None) -> Text | None:
    """The waiting line, and — when the team's hours would carry the waiting accounts too — that the limit is
    the convention of accounts per manager, not the hours."""
    managers, each, full = (pack.param(name) for name in ("key_account_managers", "key_accounts_per_manager",
                                                            "fte_hours_per_month"))
    if waiting_line is None or fte is None or not managers or not each or not full or fte[1] > managers:
        return waiting_line
    return {"en": waiting_line["en"] + (
                f" The team's hours would carry them (the workload is at most {fmt_number(fte[1], 1)} full-time people for "
                f"{_n(managers)} manager{'' if managers == 1 else 's'}): the limit is the convention of {_n(each)} accounts "
                f"each — raise key_accounts_per_manager, or add a manager."),
            "zh": waiting_line["zh"] + (
                f"团队的工时足以承担（工作量最多约 {fmt_number(fte[1], 1)} 个全职人力，团队有 {_n(managers)} 名经理）：限制来自"
                f"每人 {_n(each)} 个客户的惯例——可提高 key_accounts_per_manager，或增加一名经理。")}


def _organisation(pack: RulePack, key: int, threshold: float | None, fte: tuple | None,
                  consumer_book: bool) -> tuple[bool, Text | None]:
    """(whether the key accounts need a department, the advice on how to organise them)."""
    min_fte = pack.param("kam_department_min_fte")
    # a department is a team: only when the book is B2B, the key accounts are many and their workload
    # needs at least min_fte people (thesis §5.3: a small company's top management runs them itself)
    department = (not consumer_book and threshold is not None and key > threshold
                  and (fte is None or min_fte is None or fte[1] >= min_fte))
    if consumer_book:
        return department, advice_text.consumer_book_text(key)
    text = advice_text.organisation_text(key, threshold, department, fte[1] if fte else None, min_fte)
    managers, each = pack.param("key_account_managers"), pack.param("key_accounts_per_manager")
    if managers is None or each is None:
        return department, text
    given = bool({"key_account_managers", "key_accounts_per_manager"} & set(getattr(pack, "overrides", {})))
    return department, advice_text.team_assumption(text, managers, each, given)


def _status(key: int, low: float | None, high: float | None, strong: float | None) -> str:
    if low is None or high is None:
        return "unknown"
    if key < low:
        return "below"
    if key <= high:
        return "within"
    return "above" if strong is None or key <= strong else "far_above"


def _fte(pack: RulePack, key: int, developing: int = 0) -> tuple[float, float, Text] | None:
    """The key-account workload in full-time equivalents: key accounts × hours a month (Sherman, Sperry &
    Reese: 2–8 h a month per relationship), plus the accounts in development (waiting for a key account
    manager, potential key accounts: a shared manager's 1–2 h a month) when the pack gives their hours,
    ÷ hours of one full-time person a month."""
    low, high = pack.param("kam_hours_per_month_min"), pack.param("kam_hours_per_month_max")
    full = pack.param("fte_hours_per_month")
    if not key or low is None or high is None or not full:
        return None
    dev_low, dev_high = pack.param("potential_hours_per_month_min"), pack.param("potential_hours_per_month_max")
    if dev_low is None or dev_high is None:
        developing = 0
    hours_low = key * low + developing * (dev_low or 0)
    hours_high = key * high + developing * (dev_high or 0)
    fte_low, fte_high = round(hours_low / full, 2), round(hours_high / full, 2)
    if developing and dev_low is not None and dev_high is not None:  # (developing: 0 without them)
        en_who = (f"At {_n(low)}–{_n(high)} hours a month per key relationship and {_n(dev_low)}–{_n(dev_high)} per account "
                  f"in development, {key} key accounts and {developing:,} in development (waiting or potential) take")
        zh_who = (f"按每个重点客户关系每月 {_n(low)}–{_n(high)} 小时、每个培育中客户每月 {_n(dev_low)}–{_n(dev_high)} 小时计，"
                  f"{key} 个重点客户与 {developing:,} 个培育中客户（等待专属经理或潜在重点客户）每月需")
    else:
        en_who = f"At {_n(low)}–{_n(high)} hours a month per relationship, {key} key accounts take"
        zh_who = f"按每个客户关系每月 {_n(low)}–{_n(high)} 小时计，{key} 个重点客户每月需"
    return fte_low, fte_high, {
        "en": f"{en_who} {hours_low:,.0f}–{hours_high:,.0f} hours a month: {fmt_number(fte_low, 2)}–"
              f"{fmt_number(fte_high, 2)} full-time equivalents (at {_n(full)} hours a month each).",
        "zh": f"{zh_who} {hours_low:,.0f}–{hours_high:,.0f} 小时，约合 {fmt_number(fte_low, 2)}–{fmt_number(fte_high, 2)} "
              f"个全职人力（每人每月 {_n(full)} 小时）。",
    }


RISKS_LISTED_MAX = 100  # accounts detailed in the summary and report; decisions.csv has them all


def _risks(pack: RulePack, evaluation: Evaluation, levels: list | np.ndarray, tiers: list | np.ndarray, sales: np.ndarray,
           stakes: np.ndarray | None = None) -> tuple[tuple, dict]:
    """The accounts lost, lapsed, critical or at risk (by sales at stake, then the graver level first),
    detailed up to RISKS_LISTED_MAX, and how many there are per level; `levels`: every account's risk
    level, `sales`: every account's (NaN when missing), `stakes`: its sales at stake (default: sales)."""
    stakes = sales if stakes is None else stakes
    level_name, tier_name = pack.role("risk_level") or "", pack.role("tier") or ""  # (levels: the pack has one)
    listed, counts = _at_risk(levels, stakes)
    result = []
    for i in listed:  # details (and their reasons) only for those listed
        level = levels[i]
        account = evaluation.accounts[i]
        tier = tiers[i]
        result.append(RiskAccount(i, account.account_id, None if _missing(account.account_name) else account.account_name,
                                  tier, _labels(pack, tier_name, tier), level, _labels(pack, level_name, level),
                                  _sale(sales, i), _risk_signals(pack, account), _sale(stakes, i)))
    return tuple(result), counts


def _at_risk(levels: list | np.ndarray, stakes: np.ndarray) -> tuple[list, dict]:
    """(the positions of the accounts listed: by sales at stake (largest first), then the graver level
    first, then input order, at most RISKS_LISTED_MAX; how many accounts there are per level)."""
    rank = {level: position for position, level in enumerate(RISK_LEVELS_LISTED)}
    groups = _groups(levels) or {}
    counts = {level: len(groups.get(level, ())) for level in RISK_LEVELS_LISTED}
    at_risk = np.concatenate([np.asarray(groups.get(level, ()), dtype=np.int64) for level in RISK_LEVELS_LISTED])
    stake = -np.where(np.isnan(stakes[at_risk]), 0.0, stakes[at_risk])
    graver = np.repeat(np.arange(len(RISK_LEVELS_LISTED), dtype=np.int64), [counts[level] for level in rank])
    if len(at_risk) > RISKS_LISTED_MAX:  # only the largest stakes can be listed
        kept = stake <= np.partition(stake, RISKS_LISTED_MAX - 1)[RISKS_LISTED_MAX - 1]
        at_risk, graver, stake = at_risk[kept], graver[kept], stake[kept]
    return at_risk[np.lexsort((at_risk, graver, stake))][:RISKS_LISTED_MAX].tolist(), counts


def _risk_signals(pack: RulePack, account) -> tuple:
    """An account's risk signals, each with its cause and the reason of the rule that raised it."""
    signal_name, cause_name = pack.role("risk_signal"), pack.role("risk_cause") or ""
    if signal_name is None:
        return ()
    signal_decision = next((d for d in pack.decisions if signal_name in d.outputs), None)
    if signal_decision is None or signal_decision.id not in account.decisions:
        return ()
    decided = account.decisions[signal_decision.id]
    names = decided.outputs.get(signal_name) or []
    causes = decided.outputs.get(cause_name) or [None] * len(names)
    signals = []
    for position, hit in enumerate(decided.hits):
        value = names[position] if position < len(names) else hit.outputs.get(signal_name)
        cause = causes[position] if position < len(causes) else hit.outputs.get(cause_name)
        signals.append(RiskSignal(value, _labels(pack, signal_name, value), cause,
                                  _labels(pack, cause_name, cause) if not _missing(cause) else {}, dict(hit.because)))
    return tuple(signals)


def _signal_decisions(pack: RulePack) -> list:
    name = pack.role("risk_signal")
    return [d for d in pack.decisions if name is not None and name in d.outputs]


def _flags(evaluation: Evaluation, name: str | None) -> list | None:
    """Every account's value of a yes/no name (True only when it is exactly true), or None without it."""
    if name is None:
        return None
    values = column_values(evaluation, name)
    if values is None or all(_missing(v) for v in values):  # not computed (an evaluation made by hand)
        return None
    return [v is True or (isinstance(v, (bool, np.bool_)) and bool(v)) for v in values]


def _risk_not_assessed(pack: RulePack, unused: tuple, losses_found: bool = False) -> Text | None:
    """Said when no risk-signal rule can fire with the columns the data has; `losses_found`: lost or
    lapsed customers were found all the same (the message says so, as the decision table does)."""
    decisions = _signal_decisions(pack)
    if not decisions:
        return None
    blocked = {(u.decision, u.rule) for u in unused}
    rules = [(d.id, r.id) for d in decisions for r in d.rules]
    if not rules or not all(rule in blocked for rule in rules):
        return None
    missing: dict[str, Text] = {}
    for u in unused:
        if u.decision in {d.id for d in decisions}:
            missing.update(zip(u.missing, u.missing_labels))
    names = {lang: [str(missing[m].get(lang) or m) for m in sorted(missing)] for lang in LANGS}
    return advice_text.not_assessed_text(names, losses_found)


def _unused_rules(pack: RulePack, evaluation: Evaluation, present_fields: Iterable[str] | None):
    if present_fields is None:
        present_fields = evaluation.present_fields
    if present_fields is None:
        present_fields = [name for name in pack.fields
                          if any(not _missing(v) for v in column_values(evaluation, name))]
    rows = []
    present = set(present_fields)
    for decision, rule, missing in rules_without_data(pack, present_fields):
        if _matched_somewhere(evaluation, decision, rule):
            continue  # it applied to an account: not a rule the data kept out
        if needs_absent(next(r for r in pack.decision(decision).rules if r.id == rule).when, present):
            continue  # a path for files without a column this one has (`sales_prev is missing and …`)
        rows.append(UnusedRule(decision, rule, tuple(missing), tuple(_title(pack, m) for m in missing)))
    return tuple(rows)


def _matched_somewhere(evaluation: Evaluation, decision_id: str, rule_id: str) -> bool:
    """Whether a rule decided for at least one account of the evaluation."""
    decision = evaluation.pack.decision(decision_id)
    position = next((i for i, rule in enumerate(decision.rules) if rule.id == rule_id), None)
    return position is not None and evaluation.outcomes(decision_id).decides(position)
