"""The key-account team in the portfolio summary: the capacity the pack derives from the team, the
qualifying accounts waiting for a key account manager (named, with their sales), whether the book is a
consumer book, what the evaluation index rests on in this file, and the customers lost or lapsed.

Everything is read through the pack's roles (`key_capacity`, `consumer_book`, `prior_sales`,
`stake_base`, `risk_stake_share`, `score`), so a team pack that names them differently keeps the
sections, and a pack without them simply has none."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np

from kamrules.i18n import fmt_money, fmt_number, fmt_pct
from kamrules.i18n import is_missing as _missing
from kamrules.pack import RulePack, ScoreSpec
from kamrules.pack.conditions import absent_names
from kamrules.results.columns import column_values
from kamrules.results.portfolio_advice import orders_period_text, period_gap_text, sizeable_left_text

Text = dict
WAITING_TIER = "over_capacity"  # qualifying accounts waiting for a key account manager
BEYOND_PIPELINE_BASIS = "capacity_full"
LOST, LAPSED = "lost", "lapsed"
NAMED_MAX = 100  # accounts named in a list of the summary and the report
LOST_NAMED = 5  # lost customers named in the summary's line (the report lists them all)


@dataclass(frozen=True)
class NamedAccount:
    """An account named in a list of the summary: id, name and money."""

    index: int
    account_id: str
    account_name: str | None
    sales: float | None
    money: float | None = None  # the list's own figure (prior sales for a lost customer, sales at stake)


@dataclass(frozen=True)
class Losses:
    """Customers lost (sales before, none now) and lapsed (stopped ordering), by prior sales."""

    lost: int
    lapsed: int
    prior_sales: float  # their prior (or current, the larger) sales: what is at stake
    prior_total: float | None  # the whole book's prior sales
    share: float | None  # prior_sales / prior_total
    alert: bool
    accounts: tuple[NamedAccount, ...]  # largest first, up to NAMED_MAX
    text: Text


def first_value(pack: RulePack, evaluation, role: str) -> Any:
    """The first account's value of the name playing `role` (a portfolio-wide feature), or None."""
    name = pack.role(role)
    if name is None:
        return None
    values = column_values(evaluation, name)
    return next((v for v in values if not _missing(v)), None)


def capacity_text(pack: RulePack, capacity: float | None, accounts: int, team_places: float | None = None,
                  flat: bool = False) -> Text | None:
    """How the key-account capacity is made, with the default pack's team params where it has them, and
    which limit binds: the team's places, or the policy that at most a share of the book is key."""
    if capacity is None:
        return None
    n = fmt_number(capacity, 0)
    managers, each = pack.param("key_account_managers"), pack.param("key_accounts_per_manager")
    share = pack.param("key_max_account_share")
    en, zh = f"Key-account capacity: {n}", f"重点客户容量：{n} 个"
    if managers is None or each is None:
        return {"en": en + ".", "zh": zh + "。"}
    places = team_places if team_places is not None else managers * each
    team_en = (f"{fmt_number(managers, 0)} key account manager{'' if managers == 1 else 's'} × "
               f"{fmt_number(each, 0)} accounts each")
    team_zh = f"{fmt_number(managers, 0)} 名重点客户经理 × 每人 {fmt_number(each, 0)} 个"
    cap = max(1, int(share * accounts)) if share is not None else None
    if capacity < places and cap is not None:
        en += (f" — at most {fmt_pct(share, 0)} of the {accounts:,} accounts ({cap:,})"
               + (f", raised to the {n} accounts material to us" if capacity > cap else "")
               + f". The team ({team_en}: {fmt_number(places, 0)} places) is not the limit: the policy is"
               + ("" if flat else ", so the next class A accounts are developed as potential key accounts rather than "
                                  "waiting for a manager"))
        zh += (f"——至多为 {accounts:,} 个客户的 {fmt_pct(share, 0, lang='zh')}（{cap:,} 个）"
               + (f"，因对我方举足轻重的客户而提高到 {n} 个" if capacity > cap else "")
               + f"。团队（{team_zh}：{fmt_number(places, 0)} 个名额）并非限制所在，限制来自政策"
               + ("" if flat else "，因此其后的 A 类客户作为潜在重点客户培育，而不是等待经理"))
    elif capacity > places:  # accounts material to us never wait for a manager
        en += (f" — the team's places ({team_en}: {fmt_number(places, 0)}) raised to the {n} accounts material to us "
               f"(an account holding {fmt_pct(pack.param('key_material_share') or 0, 0)} of our sales never waits for a "
               f"manager): the team carries more than its convention")
        zh += (f"——团队名额（{team_zh}：{fmt_number(places, 0)} 个）因对我方举足轻重的客户而提高到 {n} 个（占销售额 "
               f"{fmt_pct(pack.param('key_material_share') or 0, 0, lang='zh')} 的客户不会排队等候经理）：团队承担的客户超出惯例")
    else:
        en += f" — the team's places: {team_en}"
        zh += f"——团队名额：{team_zh}"
        if cap is not None:
            en += f" (a fifth of the {accounts:,} accounts would allow {cap:,})"
            zh += f"（{accounts:,} 个客户的五分之一可达 {cap:,} 个）"
    en += " (set key_account_managers and key_accounts_per_manager to your team)."
    zh += "（请按贵公司团队设置 key_account_managers 与 key_accounts_per_manager）。"
    return {"en": en, "zh": zh}


def concentration(pack: RulePack, evaluation, rest: bool = True) -> Text | None:
    """Said when the book has no concentration (role `concentration`: the largest fifth's share of
    sales, below the pack's `concentration_min`); `rest`: some accounts have no plan of their own."""
    value, minimum = first_value(pack, evaluation, "concentration"), pack.param("concentration_min")
    if not isinstance(value, (int, float)) or isinstance(value, bool) or minimum is None or value >= minimum:
        return None
    from kamrules.results.portfolio_advice import concentration_text
    return concentration_text(float(value), minimum, rest)


def _named(indexes: Iterable[int], ids, names, sales: np.ndarray, money: np.ndarray | None = None) -> tuple:
    out = []
    for i in indexes:
        value = float(sales[i])
        figure = None if money is None else float(money[i])
        out.append(NamedAccount(int(i), str(ids[i]), None if _missing(names[i]) else str(names[i]),
                                None if value != value else value,
                                None if figure is None or figure != figure else figure))
    return tuple(out)


def waiting_accounts(tiers: np.ndarray, ids, names, sales: np.ndarray) -> tuple[tuple, int, float]:
    """The accounts waiting for a key account manager, largest sales first (up to NAMED_MAX), how many
    there are and their sales."""
    where = np.flatnonzero(tiers == WAITING_TIER) if len(tiers) else np.zeros(0, dtype=np.int64)
    amounts = np.nan_to_num(sales[where], nan=0.0)
    order = where[np.lexsort((where, -amounts))]
    return _named(order[:NAMED_MAX], ids, names, sales), len(where), float(amounts.sum())


def waiting_text(waiting: tuple, total: int, amount: float, total_sales: float, beyond: int, lang_money,
                 policy_bound: bool = False) -> Text | None:
    """Said when qualifying accounts wait for a key account manager: how many, their sales, the first names;
    and, when class A accounts fall beyond the key places and the pipeline, which limit leaves them there
    (`policy_bound`: the policy's share of the book and the pipeline, not the team's places)."""
    if not total and not beyond:
        return None
    if not total:
        return _beyond_text(beyond, policy_bound)
    share = amount / total_sales if total_sales > 0 else None
    first = ", ".join(f"{a.account_name or a.account_id} ({lang_money(a.sales or 0, 'en')})" for a in waiting[:5])
    first_zh = "、".join(f"{a.account_name or a.account_id}（{lang_money(a.sales or 0, 'zh')}）" for a in waiting[:5])
    more = total - min(total, 5)
    en = (f"{total:,} {'account qualifies' if total == 1 else 'accounts qualify'} as key but wait for a key account manager "
          f"({fmt_pct(share) if share is not None else '—'} of sales), served at the potential level meanwhile"
          + (f": {first}" + (f" and {more:,} more (the report lists them)" if more else "") if total else "") + ".")
    zh = (f"{total:,} 个客户符合重点客户标准但在等待专属经理（占销售额 {fmt_pct(share, lang='zh') if share is not None else '—'}），"
          f"期间按潜在重点客户标准服务" + (f"：{first_zh}" + (f" 等，另有 {more:,} 个（见报告）" if more else "") if total else "") + "。")
    if total:
        en += " One more key account manager would serve them as key accounts: one portfolio decision, not a task per account."
        zh += "再增加一名重点客户经理即可将其作为重点客户服务：这是组合层面的一项决定，而非逐个客户的任务。"
    if beyond:
        en += (f" {beyond:,} more class A accounts fall beyond the key places and the pipeline and are served as "
               f"standard (their tier basis in the decision table says so).")
        zh += f"另有 {beyond:,} 个 A 类客户超出重点客户名额与培育名额，按普通客户服务（见决策表中的识别依据）。"
    return {"en": en, "zh": zh}


def _beyond_text(beyond: int, policy_bound: bool) -> Text:
    """Class A accounts beyond the key places and the pipeline, nobody waiting: the limit that leaves them
    standard — the policy (key_max_account_share, pipeline_factor) or the team's places."""
    one = beyond == 1
    en = (f"{beyond:,} class A {'account falls' if one else 'accounts fall'} beyond the key places and the pipeline "
          f"and {'is' if one else 'are'} served as standard (the tier basis in the decision table says so). ")
    zh = f"{beyond:,} 个 A 类客户超出重点客户名额与培育名额，按普通客户服务（见决策表中的识别依据）。"
    if policy_bound:
        en += ("The limit is the policy, not the team: at most key_max_account_share of the book is key and the "
               "pipeline holds pipeline_factor × the key places — raise pipeline_factor to develop them.")
        zh += ("限制来自政策而非团队：重点客户至多占客户总数的 key_max_account_share，培育名额为重点客户名额的 "
               "pipeline_factor 倍——如需培育，请提高 pipeline_factor。")
    else:
        en += ("The limit is the team's places (key_account_managers × key_accounts_per_manager) and the pipeline "
               "(pipeline_factor × the key places): add a manager or raise pipeline_factor to develop them.")
        zh += ("限制来自团队名额（key_account_managers × key_accounts_per_manager）与培育名额（重点客户名额的 "
               "pipeline_factor 倍）：增加一名经理或提高 pipeline_factor 即可培育。")
    return {"en": en, "zh": zh}


def index_basis(pack: RulePack, present_fields: Iterable[str] | None) -> Text | None:
    """What the evaluation index (role `score`) rests on in this file, when that is fewer criteria than
    it needs: "rests on 1 of 6 criteria (needs 3): not computed". None when it can be computed."""
    name = pack.role("score")
    score = next((d for d in pack.derived if isinstance(d, ScoreSpec) and d.name == name), None)
    if score is None or present_fields is None:
        return None
    absent = absent_names(pack, present_fields)
    present = [c.field for c in score.criteria if c.field not in absent]
    needed = score.min_criteria_value()
    if len(present) >= needed:
        return None
    title_en = str(score.title.get("en") or name)
    title_zh = str(score.title.get("zh") or title_en)
    has = ", ".join(present) if present else "none"
    return {
        "en": f"{title_en}: this file carries {len(present)} of its {len(score.criteria)} criteria ({has}); it "
              f"needs {needed}, so it is not computed and ranks nothing — accounts are ranked by value alone.",
        "zh": f"{title_zh}：本文件只具备其 {len(score.criteria)} 项指标中的 {len(present)} 项（{has if present else '无'}），"
              f"至少需要 {needed} 项，因此不计算、不参与排序——仅按价值排序。",
    }


def sizeable_left(pack: RulePack, evaluation) -> Text | None:
    """One line for every sizeable account left standard because the team's hours are taken (role
    `sizeable_left`, a count), None when there is none or the pack has no such count."""
    left = first_value(pack, evaluation, "sizeable_left")
    if not isinstance(left, (int, float)) or isinstance(left, bool) or left <= 0:
        return None
    hours = first_value(pack, evaluation, "team_hours")
    return sizeable_left_text(int(left), pack.param("potential_min_share"),
                              hours if isinstance(hours, (int, float)) and not isinstance(hours, bool) else None)


def period_gaps(pack: RulePack, evaluation) -> Text | None:
    """One line for the customers of class A last period that bought nothing this one (role
    `gap_prior_count`, with their share of the last period, role `gap_prior_share`), None without any."""
    count = first_value(pack, evaluation, "gap_prior_count")
    if not isinstance(count, (int, float)) or isinstance(count, bool) or count <= 0:
        return None
    share = first_value(pack, evaluation, "gap_prior_share")
    return period_gap_text(int(count), share if isinstance(share, (int, float)) and not isinstance(share, bool) else None)


def orders_basis(pack: RulePack, evaluation, present_fields: Iterable[str] | None) -> Text | None:
    """How the file's order count (role `orders`) is read: over the sales period (param role
    `orders_period_days`), or not at all for an interval when it covers more (role `orders_span_longer`,
    with the accounts that prove it, role `orders_beyond_period`). None without an order count."""
    name, days = pack.role("orders"), pack.param("orders_period_days")
    if name is None or days is None or present_fields is None or name not in set(present_fields):
        return None
    longer = first_value(pack, evaluation, "orders_span_longer")
    beyond = first_value(pack, evaluation, "orders_beyond_period")
    return orders_period_text(days, int(beyond) if longer is True and beyond else None, pack.param("lapsed_days"))


def losses(pack: RulePack, evaluation, levels: np.ndarray, ids, names, sales: np.ndarray) -> Losses | None:
    """Customers lost or lapsed, with the prior sales they took, against the book's prior sales."""
    if levels is None or not len(levels):
        return None
    lost = levels == LOST
    lapsed = levels == LAPSED
    if not lost.any() and not lapsed.any():
        return None
    base_name = pack.role("stake_base")
    prior_name = pack.role("prior_sales")
    base = _numbers(evaluation, base_name, len(levels)) if base_name else np.nan_to_num(sales, nan=0.0)
    prior = _numbers(evaluation, prior_name, len(levels)) if prior_name else None
    at_stake = np.where(lost | lapsed, np.nan_to_num(base, nan=0.0), 0.0)
    amount = float(at_stake.sum())
    prior_total = float(np.nansum(prior)) if prior is not None and np.isfinite(np.nansum(prior)) else None
    share = amount / prior_total if prior_total and prior_total > 0 else None
    threshold = pack.param("lapsed_alert_share")
    alert = share is not None and threshold is not None and share >= threshold
    where = np.flatnonzero(lost | lapsed)
    order = where[np.lexsort((where, -at_stake[where]))]
    named = _named(order[:NAMED_MAX], ids, names, sales, at_stake)
    n_lost, n_lapsed = int(lost.sum()), int(lapsed.sum())
    current = np.nan_to_num(sales, nan=0.0)
    first_lost = [i for i in order if lost[i]][:LOST_NAMED]
    text = _losses_text(n_lost, n_lapsed, float(at_stake[lost].sum()), prior_total, float(current[lapsed].sum()),
                        float(np.nansum(prior[lapsed])) if prior is not None else None, alert,
                        _named(first_lost, ids, names, sales, at_stake))
    return Losses(n_lost, n_lapsed, amount, prior_total, share, alert, named, text)


def _losses_text(n_lost: int, n_lapsed: int, lost_prior: float, prior_total: float | None, lapsed_now: float,
                 lapsed_before: float | None, alert: bool, first_lost: tuple = ()) -> Text:
    """The advice on lost and lapsed customers: how many, the prior sales lost and the first lost customers
    by name (`first_lost`, largest first), what the lapsed still buy."""
    lost_share = lost_prior / prior_total if prior_total and prior_total > 0 else None
    parts_en, parts_zh = [], []
    if n_lost:
        parts_en.append(f"{n_lost:,} {'customer' if n_lost == 1 else 'customers'} lost (bought before, nothing now): "
                        f"{fmt_money(lost_prior, 'en')} of prior sales"
                        + (f" — {fmt_pct(lost_share)} of the prior period's {fmt_money(prior_total, 'en')}"
                           if lost_share is not None else "") + _lost_names(first_lost, n_lost, "en"))
        parts_zh.append(f"已流失客户 {n_lost:,} 个（前期有采购、本期为零）：前期销售额 {fmt_money(lost_prior, 'zh')}"
                        + (f"，占前期销售额 {fmt_money(prior_total, 'zh')} 的 {fmt_pct(lost_share, lang='zh')}"
                           if lost_share is not None else "") + _lost_names(first_lost, n_lost, "zh"))
    if n_lapsed:
        parts_en.append(f"{n_lapsed:,} lapsed (stopped ordering): they bought {fmt_money(lapsed_now, 'en')} this period"
                        + (f" and {fmt_money(lapsed_before, 'en')} in the prior one" if lapsed_before else ""))
        parts_zh.append(f"流失中客户 {n_lapsed:,} 个（已停止下单）：本期采购 {fmt_money(lapsed_now, 'zh')}"
                        + (f"，前期 {fmt_money(lapsed_before, 'zh')}" if lapsed_before else ""))
    en = ("; ".join(parts_en) + ". " + ("Alert — review them first" if alert else "Review them first")
          + ", largest first (the report lists them).")
    zh = ("；".join(parts_zh) + "。" + ("预警——" if alert else "") + "请在回顾中优先处理，按金额从大到小（见报告清单）。")
    return {"en": en, "zh": zh}


def _lost_names(first: tuple, count: int, lang: str) -> str:
    """": Acme (6,000), Beta (4,000) and 3 more" — the first lost customers by name (else id), largest first,
    with the prior sales each took; "" when none is named."""
    if not first:
        return ""
    more = count - len(first)
    if lang == "zh":
        shown = "、".join(f"{a.account_name or a.account_id}（{fmt_money(a.money or 0.0, 'zh')}）" for a in first)
        return f"：{shown}" + (f"及另外 {more:,} 个" if more else "")
    shown = ", ".join(f"{a.account_name or a.account_id} ({fmt_money(a.money or 0.0, 'en')})" for a in first)
    return f": {shown}" + (f" and {more:,} more" if more else "")


def _numbers(evaluation, name: str, n: int) -> np.ndarray:
    table = getattr(evaluation, "table", None)
    if table is not None and name in getattr(table, "columns", ()) and table[name].dtype.kind == "f":
        return table[name].to_numpy(dtype="float64", copy=True)
    values = column_values(evaluation, name)
    return np.array([np.nan if _missing(v) or isinstance(v, bool) or not isinstance(v, (int, float)) else float(v)
                     for v in (values or [None] * n)], dtype="float64")


def stakes(pack: RulePack, evaluation, sales: np.ndarray) -> np.ndarray:
    """Every account's sales at stake: the pack's stake base × the risk decision's share at stake, or
    its sales where the pack (or the account) has no such values (NaN: missing)."""
    base_name, share_name = pack.role("stake_base"), pack.role("risk_stake_share")
    if base_name is None or share_name is None:
        return sales
    stake = _numbers(evaluation, base_name, len(sales)) * _numbers(evaluation, share_name, len(sales))
    return np.where(np.isnan(stake), sales, stake)
