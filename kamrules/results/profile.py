"""The key-account profile: how key accounts differ from the whole base by their natural attributes
(`pack: attributes:`), the non-key accounts that look most like them, and whose records are incomplete.

Everything is computed on whole columns (pandas), once per attribute: 1,000,000 accounts take a few
seconds (benchmarks/bench_profile.py). docs/profile.md explains how to read the result.

The measure that ranks attribute values is the lift's lower bound: the Wilson score interval (95%) of the
share of key accounts within the segment, its lower end divided by the key share of the whole base. A
segment of 2 accounts that are both key has a point lift as high as any, but its lower bound stays low,
so it cannot outrank a large segment that is clearly over-represented; segments below `min_accounts`
are shown but never ranked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np
import pandas as pd

from kamrules.language import expr as ex
from kamrules.pack import RulePack
from kamrules.results.distinct import WHOLE, distinct

KEY, POTENTIAL = "key", "potential"  # the tier values the report and the portfolio summary read too
MIN_ACCOUNTS = 5  # a segment smaller than this is listed but not ranked
Z = 1.96  # 95% Wilson score interval
LOOKALIKES = 20  # look-alikes the report and `kamrules profile` list
LOOKALIKES_FILE = 10_000  # look-alikes lookalikes.csv lists (the most similar; the count of all is in the report)


@dataclass(frozen=True)
class ValueRow:
    """One attribute value (a category, or a band of a number) against the base."""

    attribute: str
    value: str  # the category value, or the band: "<12", "12–<24", "≥36"
    order: int  # band order (0, 1, …) or -1 for categories
    key: int  # key accounts with this value
    base: int  # accounts with this value
    key_share: float  # of all key accounts
    base_share: float  # of all accounts
    lift: float  # key_share ÷ base_share (1 = as common among key accounts as in the base)
    lift_low: float  # the lower end of the lift's 95% interval (Wilson), the ranking measure
    lift_high: float
    sales_share: float  # of total sales
    ranked: bool  # base >= min_accounts


@dataclass(frozen=True)
class AttributeRank:
    attribute: str
    strength: float  # the best lift_low among its ranked values (0 when none is ranked)
    top: ValueRow | None  # that value


@dataclass(frozen=True)
class LookAlike:
    index: int  # position in the input
    account_id: str
    account_name: Any
    tier: Any
    score: float  # Σ ln(lift) over the account's key-like values
    reasons: tuple  # ValueRow of each key-like value it has, highest lift first
    sales: float | None
    growth_room: float | None  # sales ÷ share of wallet − sales, when the share of wallet is known


@dataclass(frozen=True)
class Completeness:
    field: str
    key_missing: int
    key_total: int
    potential_missing: int
    potential_total: int


@dataclass
class Profile:
    accounts: int
    key_total: int
    key_rate: float
    min_accounts: int
    rows: tuple = ()  # ValueRow, by attribute (pack order), then value
    ranking: tuple = ()  # AttributeRank, strongest first
    leading: tuple = ()  # ranked ValueRow with lift_low > 1, strongest first
    lookalikes: tuple = ()  # LookAlike, most similar first
    lookalike_total: int = 0
    completeness: tuple = ()  # Completeness per field, pack order
    attributes: tuple = ()
    missing_attributes: tuple = field(default=())  # declared attributes the data lacks
    # attributes the tier decision itself reads (directly or through features): their lift is partly
    # circular — key accounts differ on them because the rules made them key — and they are marked so
    circular: tuple = field(default=())


def tier_reads(pack: RulePack) -> set:
    """Every field, feature and output the tier decision reads, directly or through what it reads."""
    tier_name = pack.role("tier")
    decision = next((d for d in pack.decisions if tier_name in d.outputs), None)
    if decision is None:
        return set()
    derived = {d.name: d for d in pack.derived}
    decisions = {o: d for d in pack.decisions for o in (*d.outputs, d.count_name, *d.totals)}
    seen: set = set()
    todo = list(decision.reads) + [n for r in decision.rules for n in r.reads]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        item = derived.get(name)
        if item is not None:
            todo += list(item.reads) + ([c.field for c in item.criteria] if hasattr(item, "criteria") else [])
            if getattr(item, "within", None):
                todo.append(item.within)
            if getattr(item, "where", None) is not None:
                todo += list(ex.names_in(item.where))
        elif name in decisions and decisions[name] is not decision:
            other = decisions[name]
            todo += [n for r in other.rules for n in r.reads]
    return seen


def wilson(k: np.ndarray, n: np.ndarray, z: float = Z) -> tuple[np.ndarray, np.ndarray]:
    """The Wilson score interval of the proportion k/n (arrays), n > 0."""
    k, n = np.asarray(k, dtype="float64"), np.asarray(n, dtype="float64")
    p = k / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def band_labels(bands: tuple) -> list[str]:
    """Cut points [12, 24] → ["<12", "12–<24", "≥24"]."""
    labels = [f"<{_num(bands[0])}"]
    labels += [f"{_num(a)}–<{_num(b)}" for a, b in zip(bands, bands[1:])]
    return labels + [f"≥{_num(bands[-1])}"]


def _category(value: Any) -> str | None:
    """An attribute's value as a category: its text, "true"/"false" for booleans, None when missing or blank."""
    if value is None or value != value or str(value).strip() == "":
        return None
    return "true" if value is True else "false" if value is False else str(value)


def attribute_codes(pack: RulePack, table: pd.DataFrame, name: str) -> tuple[np.ndarray, list[str], bool]:
    """Per account, the code of its value of attribute `name` (-1 when missing), the values, and whether
    they are bands (kept in band order) rather than categories (kept in sorted order)."""
    spec = pack.attributes[name]
    column = table[name]
    if spec.bands:
        numbers = pd.to_numeric(column, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        codes = np.searchsorted(np.asarray(spec.bands), numbers, side="right").astype("int64")
        codes[np.isnan(numbers)] = -1
        return codes, band_labels(spec.bands), True
    cells, firsts = distinct(column.astype(object).to_numpy(), WHOLE)  # each distinct value made a category once
    values = pd.Series(firsts, dtype=object)
    values = values.where(values.notna(), None)
    codes, uniques = pd.factorize(pd.Series([_category(v) for v in values.tolist()], dtype=object).infer_objects(),
                                  sort=True, use_na_sentinel=True)
    return codes[cells].astype("int64"), [str(u) for u in uniques], False


def _rows(name: str, codes: np.ndarray, labels: list[str], banded: bool, is_key: np.ndarray,
          sales: np.ndarray, totals: tuple, min_accounts: int) -> list[ValueRow]:
    accounts, key_total, total_sales = totals
    known = codes >= 0
    size = len(labels)
    base = np.bincount(codes[known], minlength=size)
    key = np.bincount(codes[known], weights=is_key[known], minlength=size)
    value_sales = np.bincount(codes[known], weights=sales[known], minlength=size)
    rate = key_total / accounts
    present = base > 0
    low, high = np.zeros(size), np.zeros(size)
    if present.any():
        low[present], high[present] = wilson(key[present], base[present])
    rows = []
    for code in np.flatnonzero(present):
        k, n = int(key[code]), int(base[code])
        rows.append(ValueRow(
            attribute=name, value=labels[code], order=int(code) if banded else -1, key=k, base=n,
            key_share=k / key_total, base_share=n / accounts, lift=(k / n) / rate,
            lift_low=float(low[code]) / rate, lift_high=float(high[code]) / rate,
            sales_share=float(value_sales[code]) / total_sales if total_sales > 0 else 0.0,
            ranked=n >= min_accounts))
    return rows


def _by_strength(row: ValueRow) -> tuple:
    return (-row.lift_low, -row.lift, -row.base, row.attribute, row.value)


def build_profile(pack: RulePack, table: pd.DataFrame, *, needed: Iterable[str] = (),
                  min_accounts: int = MIN_ACCOUNTS, lookalike_count: int | None = LOOKALIKES) -> Profile | None:
    """The profile of an evaluated table (fields, features, outputs as columns), or None when the pack
    has no tier role or declares no attributes. `needed`: the fields the rules read (for completeness)."""
    tier_name = pack.role("tier")
    if tier_name is None or tier_name not in table.columns or not pack.attributes:
        return None
    accounts = len(table)
    tiers = table[tier_name].astype(object).to_numpy()
    is_key = (tiers == KEY).astype("float64")
    is_potential = tiers == POTENTIAL
    key_total = int(is_key.sum())
    sales = _numbers(table, pack.role("sales"), accounts)
    total_sales = float(np.nansum(np.clip(sales, 0, None)))
    sales_for_sum = np.nan_to_num(np.clip(sales, 0, None))
    present = [n for n in pack.attributes if n in table.columns]
    result = Profile(accounts, key_total, key_total / accounts if accounts else 0.0, min_accounts,
                     attributes=tuple(present),
                     missing_attributes=tuple(n for n in pack.attributes if n not in table.columns),
                     circular=tuple(n for n in present if n in tier_reads(pack)))
    result.completeness = completeness(pack, table, list(needed), tiers == KEY, is_potential)
    if not accounts or not key_total:
        return result
    rows, codes_of = [], {}
    for name in present:
        codes, labels, banded = attribute_codes(pack, table, name)
        codes_of[name] = (codes, labels)
        rows += _rows(name, codes, labels, banded, is_key, sales_for_sum,
                      (accounts, key_total, total_sales), min_accounts)
    result.rows = tuple(rows)
    ranked = sorted((r for r in rows if r.ranked), key=_by_strength)
    result.leading = tuple(r for r in ranked if r.lift_low > 1)
    best = {}
    for row in ranked:
        best.setdefault(row.attribute, row)
    result.ranking = tuple(sorted((AttributeRank(n, best[n].lift_low if n in best else 0.0, best.get(n))
                                   for n in present), key=lambda a: (-a.strength, present.index(a.attribute))))
    result.lookalikes, result.lookalike_total = lookalikes(pack, table, rows, codes_of, tiers, sales,
                                                           lookalike_count)
    return result


def _numbers(table: pd.DataFrame, name: str | None, n: int) -> np.ndarray:
    if name is None or name not in table.columns:
        return np.full(n, np.nan)
    return pd.to_numeric(table[name], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def lookalikes(pack: RulePack, table: pd.DataFrame, rows: list, codes_of: dict, tiers: np.ndarray,
               sales: np.ndarray, count: int | None) -> tuple[tuple, int]:
    """Accounts neither key nor potential, scored by Σ ln(lift) over their key-like values (ranked values
    whose lift's lower bound is above 1); most similar first, then the most growth room, the most sales."""
    n = len(table)
    score = np.zeros(n)
    key_like = {(r.attribute, r.value): r for r in rows if r.ranked and r.lift_low > 1}
    by_attribute: dict[str, dict] = {}
    for (attribute, value), row in key_like.items():
        by_attribute.setdefault(attribute, {})[value] = row
    value_codes: dict[str, dict] = {}
    for attribute, values in by_attribute.items():
        codes, labels = codes_of[attribute]
        weights = np.zeros(len(labels) + 1)  # the last slot takes code -1 (missing)
        lookup = {}
        for code, label in enumerate(labels):
            if label in values:
                weights[code] = math.log(values[label].lift)
                lookup[code] = values[label]
        value_codes[attribute] = lookup
        score += weights[codes]
    candidates = (tiers != KEY) & (tiers != POTENTIAL) & (score > 0)
    room = _growth_room(pack, table, sales)
    index = np.flatnonzero(candidates)
    order = np.lexsort((index, -np.nan_to_num(sales[index], nan=-np.inf),
                        -np.nan_to_num(room[index], nan=-np.inf), -np.round(score[index], 9)))
    chosen = index[order] if count is None else index[order][:count]
    ids = table["account_id"].astype(object).to_numpy() if "account_id" in table.columns else np.arange(n)
    name_column = pack.role("account_name")
    names = table[name_column].astype(object).to_numpy() if name_column in table.columns else [None] * n
    found = []
    for i in chosen:
        reasons = [value_codes[a][codes_of[a][0][i]] for a in value_codes if codes_of[a][0][i] in value_codes[a]]
        reasons.sort(key=lambda r: (-r.lift, r.attribute))
        found.append(LookAlike(int(i), str(ids[i]), _plain(names[i]), _plain(tiers[i]), float(score[i]),
                               tuple(reasons), _plain(sales[i]), _plain(room[i])))
    return tuple(found), int(candidates.sum())


def _growth_room(pack: RulePack, table: pd.DataFrame, sales: np.ndarray) -> np.ndarray:
    share = _numbers(table, pack.role("share_of_wallet"), len(table))
    usable = (share > 0) & (share <= 1) & ~np.isnan(sales)
    room = np.full(len(table), np.nan)
    room[usable] = sales[usable] / share[usable] - sales[usable]
    return room


def _plain(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, (float, np.floating)):
        return None if value != value else float(value)
    return value


def completeness(pack: RulePack, table: pd.DataFrame, needed: list, is_key: np.ndarray,
                 is_potential: np.ndarray) -> tuple:
    """Per field the rules or the profile read: how many key and potential accounts lack it. A field the
    whole file lacks is left out: it is a gap of the export, said once for the portfolio (the console's
    "not in the file", `validate --data`), not a record to complete account by account."""
    wanted = set(needed) | {n for n in pack.attributes if n in pack.fields}
    skip = {"account_id", pack.role("account_name")}
    rows = []
    for name in pack.fields:
        if name not in wanted or name in skip:
            continue
        if name not in table.columns:
            continue
        missing = _missing(table[name])
        if len(missing) and missing.all():
            continue
        rows.append(Completeness(name, int((missing & is_key).sum()), int(is_key.sum()),
                                 int((missing & is_potential).sum()), int(is_potential.sum())))
    return tuple(rows)


def _missing(column: pd.Series) -> np.ndarray:
    """Where a field has no value: missing, or (text) blank. Text columns are read once per distinct
    value: at a million accounts, not a million texts converted and stripped."""
    if column.dtype != object:
        return column.isna().to_numpy().copy()
    cells, firsts = distinct(column.to_numpy(), WHOLE)
    values = pd.Series(firsts, dtype=object)
    missing = values.isna().to_numpy().copy()
    missing |= values.astype(str).str.strip().eq("").to_numpy() & values.notna().to_numpy()
    return missing[cells]


def profile_of(evaluation, *, needed: Iterable[str] = (), min_accounts: int = MIN_ACCOUNTS,
               lookalike_count: int | None = LOOKALIKES) -> Profile | None:
    """`build_profile` on an evaluation's table."""
    table = evaluation.table
    if table is None:
        return None
    return build_profile(evaluation.pack, table, needed=needed, min_accounts=min_accounts,
                         lookalike_count=lookalike_count)


PROFILE_COLUMNS = ["attribute", "value", "key_accounts", "accounts", "key_share", "base_share", "lift",
                   "lift_low", "lift_high", "sales_share", "ranked", "rank"]
LOOKALIKE_COLUMNS = ["rank", "account_id", "account_name", "tier", "score", "reasons", "sales", "growth_room"]


def profile_frame(profile: Profile) -> pd.DataFrame:
    """profile.csv: one row per attribute value, attributes in pack order, values in band or sorted order."""
    rank = {(r.attribute, r.value): i for i, r in enumerate(sorted((r for r in profile.rows if r.ranked),
                                                                   key=_by_strength), 1)}
    records = [[r.attribute, r.value, r.key, r.base, round(r.key_share, 6), round(r.base_share, 6),
                round(r.lift, 6), round(r.lift_low, 6), round(r.lift_high, 6), round(r.sales_share, 6),
                r.ranked, rank.get((r.attribute, r.value))] for r in profile.rows]
    frame = pd.DataFrame(records, columns=PROFILE_COLUMNS)
    frame["rank"] = frame["rank"].astype("Int64")
    return frame


def lookalike_frame(profile: Profile) -> pd.DataFrame:
    """lookalikes.csv: the look-alike accounts, most similar first, with their reasons."""
    records = [[i, a.account_id, a.account_name, a.tier, round(a.score, 6),
                "; ".join(f"{r.attribute}={r.value} (×{r.lift:.2f})" for r in a.reasons),
                a.sales, None if a.growth_room is None else round(a.growth_room, 2)]
               for i, a in enumerate(profile.lookalikes, 1)]
    return pd.DataFrame(records, columns=LOOKALIKE_COLUMNS)
