"""The portfolio summary's advice texts (English and Chinese), from plain numbers.

Kept apart from `portfolio` so the numbers and the words can be read separately. Every function
returns a {"en": ..., "zh": ...} text, or None when the number it needs is missing (a pack without the
param gets no such advice).
"""

from __future__ import annotations

from kamrules.i18n import fmt_number, fmt_pct

Text = dict


# The labels of a region's concentration (RegionRow.concentration).
CONCENTRATION = {
    "unconcentrated": {"en": "Unconcentrated", "zh": "不集中"},
    "moderate": {"en": "Moderately concentrated", "zh": "中度集中"},
    "high": {"en": "Highly concentrated", "zh": "高度集中"},
    "unknown": {"en": "Unknown", "zh": "未知"},
    # fewer accounts than `region_min_accounts`: one or two accounts always look concentrated
    "too_small": {"en": "Too few accounts to judge", "zh": "客户过少，不作判断"},
}


def _n(value: float) -> str:
    return fmt_number(value, 0)


def band_text(status: str, key: int, low, high, strong, developing: int | None = None) -> Text | None:
    """`developing`: the accounts in development (potential key accounts and those waiting for a manager);
    0 says there is room but nobody to develop, rather than "make sure they are not treated as ordinary"."""
    if status == "unknown":
        return None
    band = f"{_n(low)}–{_n(high)}"
    if status == "below" and developing == 0:
        return {
            "en": f"{key} key accounts, fewer than the {band} a company can really manage (McDonald & Woodburn), and "
                  f"no account of this book qualifies as a potential key account: there is room for more — look for "
                  f"them among new customers and fast growers.",
            "zh": f"重点客户 {key} 个，少于企业实际能够管理的 {band} 个（McDonald & Woodburn），且本客户组合中没有符合潜在重点"
                  f"客户标准的客户：仍有余力——请在新客户与快速增长的客户中寻找。"}
    return {
        "below": {
            "en": f"{key} key accounts, fewer than the {band} a company can really manage (McDonald & Woodburn): "
                  f"there is room to develop potential key accounts — make sure they are not treated as ordinary "
                  f"customers.",
            "zh": f"重点客户 {key} 个，少于企业实际能够管理的 {band} 个（McDonald & Woodburn）：仍有余力培育潜在重点"
                  f"客户——避免把潜在重点客户当作普通客户对待。"},
        "within": {
            "en": f"{key} key accounts, within the {band} a company can really manage (McDonald & Woodburn).",
            "zh": f"重点客户 {key} 个，处于企业实际能够管理的 {band} 个范围内（McDonald & Woodburn）。"},
        "above": {
            "en": f"Warning: {key} key accounts, more than the {_n(high)} a company can really manage: tighten the "
                  f"key account criteria or add key account managers.",
            "zh": f"警告：重点客户 {key} 个，超过企业实际能够管理的 {_n(high)} 个：请收紧重点客户标准或增加重点客户经理。"},
        "far_above": {
            "en": f"Strong warning: {key} key accounts, far more than the {_n(high)} a company can really manage "
                  f"(above {_n(strong)}): tighten the criteria — when every account is key, none gets key "
                  f"account treatment.",
            "zh": f"强烈警告：重点客户 {key} 个，远超企业实际能够管理的 {_n(high)} 个（超过 {_n(strong)} 个）：请收紧"
                  f"标准——所有客户都是重点客户，就没有客户能得到重点服务。"},
    }[status]


def pipeline_text(potential: int, over: int, capacity: float | None, signs: int | None = None) -> Text | None:
    """Said when more accounts qualify as potential key accounts than the pack's pipeline holds;
    `signs`: how many of the potential key accounts hold places kept for signs of potential."""
    if not over:
        return None
    places = f" of {_n(capacity)} places" if capacity else ""
    places_zh = f"（共 {_n(capacity)} 个名额）" if capacity else ""
    kept_en = (f" ({_n(signs)} of them in the places kept for fast growth, a high index, loyalty or a regional "
               f"counterweight)" if signs else "")
    kept_zh = f"（其中 {_n(signs)} 个占用为快速增长、综合指数高、高忠诚度或区域制衡候选保留的名额）" if signs else ""
    are = "is a potential key account" if potential == 1 else "are potential key accounts"
    return {
        "en": f"{_n(potential + over)} accounts qualify as potential key accounts, more than the pipeline{places} holds: "
              f"{_n(potential)} {are}{kept_en}; the other {_n(over)} are served as standard accounts "
              f"('potential key-account pipeline full') — raise pipeline_factor to develop more of them.",
        "zh": f"{_n(potential + over)} 个客户符合潜在重点客户标准，超过培育名单的容量{places_zh}：{_n(potential)} 个为潜在重点客户"
              f"{kept_zh}；其余 {_n(over)} 个按普通客户服务（“潜在重点客户名额已满”）——如需培育更多，请提高 pipeline_factor。",
    }


def concentration_text(top_fifth_share: float, minimum: float, rest: bool = True) -> Text:
    """Said when the book has no concentration: its largest fifth hold less than `minimum` of sales. `rest`:
    some accounts have no plan of their own (without any, "manage the rest by segment" names nobody)."""
    return {
        "en": f"No concentration: the largest fifth of the accounts hold {fmt_pct(top_fifth_share)} of sales "
              f"(below {fmt_pct(minimum, 0)}; a 20/80 book would show 80%). The key accounts are the largest by rank, "
              f"not a few customers that carry the business: weigh them by the other criteria (big-account criteria, "
              f"the evaluation index, the relationship)"
              + (" and manage the rest by segment, not account by account." if rest else "."),
        "zh": f"客户组合不集中：销售额最大的五分之一客户只占销售额的 {fmt_pct(top_fifth_share, lang='zh')}"
              f"（低于 {fmt_pct(minimum, 0, lang='zh')}；符合二八法则的客户组合应为 80%）。重点客户只是排名靠前，而非承载业务的少数客户："
              f"请结合其他标准（大客户标准、综合评估指数、合作关系）判断"
              + ("，其余客户按细分群体管理，而非逐个客户管理。" if rest else "。"),
    }


def organisation_text(key: int, threshold: float | None, department: bool, fte_high: float | None = None,
                      min_fte: float | None = None) -> Text | None:
    """A key account department only when the book needs a team (thesis §5.3); the workload estimate
    and this advice never disagree."""
    if threshold is None:
        return None
    if department and fte_high is None:  # a pack without the workload params
        return {
            "en": f"More than {_n(threshold)} key accounts: set up a dedicated key account department (重点客户管理部).",
            "zh": f"重点客户超过 {_n(threshold)} 个：设立专门的重点客户管理部。",
        }
    if department:
        return {
            "en": f"More than {_n(threshold)} key accounts, and a workload of up to {fmt_number(fte_high, 1)} full-time "
                  f"people: set up a dedicated key account department (重点客户管理部).",
            "zh": f"重点客户超过 {_n(threshold)} 个，工作量最多约 {fmt_number(fte_high, 1)} 个全职人力：设立专门的重点客户管理部。",
        }
    if key > threshold and fte_high is not None and min_fte is not None:
        return {
            "en": f"{key} key accounts take at most {fmt_number(fte_high, 1)} full-time people (below {fmt_number(min_fte, 0)}): "
                  f"named key account managers with top management as sponsors can run them — a department is not needed yet.",
            "zh": f"{key} 个重点客户最多需要 {fmt_number(fte_high, 1)} 个全职人力（少于 {fmt_number(min_fte, 0)} 个）：由专属重点客户经理负责、"
                  f"高层担任对接人即可——暂不需要设立专门部门。",
        }
    return {
        "en": f"{key} key accounts (at most {_n(threshold)}): top management can run the key accounts "
              f"directly; a dedicated department is not needed yet.",
        "zh": f"重点客户 {key} 个（不超过 {_n(threshold)} 个）：可由企业高层直接管理重点客户，暂不需要设立专门部门。",
    }


def team_assumption(text: Text | None, managers: float, each: float, given: bool) -> Text | None:
    """The organisation advice with the team it rests on (the key accounts follow the team's places): when
    the user did not give the team (no --set of either param), that it is the pack's assumption and how to
    set it — never department advice built silently on a team nobody entered."""
    if text is None:
        return None
    team_en = (f"{_n(managers)} key account manager{'' if managers == 1 else 's'} × {_n(each)} accounts each")
    team_zh = f"{_n(managers)} 名重点客户经理 × 每人 {_n(each)} 个客户"
    if given:
        return {"en": text["en"] + f" (On the team given: {team_en}.)", "zh": text["zh"] + f"（按所给团队：{team_zh}。）"}
    return {"en": text["en"] + (f" This assumes the team in the pack's params ({team_en}): if yours differs, set "
                                f"key_account_managers and key_accounts_per_manager (--set, or in the pack's params) before "
                                f"deciding on a department."),
            "zh": text["zh"] + (f"以上建议基于规则包参数中的团队（{team_zh}）：如贵公司团队不同，决定是否设立部门之前，请设置 "
                                f"key_account_managers 与 key_accounts_per_manager（--set，或在规则包参数中）。")}


def sizeable_left_text(left: int, share: float | None, hours: float | None) -> Text:
    """Every account holding `share` of our sales or more that is served as standard, in one line, with the
    limit that binds: the team's hours (a potential account takes hours of development, not a key place)."""
    one = left == 1
    size_en = f"{fmt_pct(share, 0)} of our sales or more" if share is not None else "a sizeable share of our sales"
    size_zh = f"我方销售额 {fmt_pct(share, 0, 'zh')} 及以上" if share is not None else "我方销售额可观比例"
    hours_en = f" ({_n(hours)} hours a month)" if hours is not None else ""
    hours_zh = f"（每月 {_n(hours)} 小时）" if hours is not None else ""
    return {"en": f"{_n(left)} {'account holding' if one else 'accounts holding'} {size_en} {'is' if one else 'are'} "
                  f"served as standard: the key account team's hours{hours_en} are taken by the key accounts "
                  f"(kam_hours_per_month_max each) and the larger sizeable accounts in development "
                  f"(potential_hours_per_month_max each) — add a key account manager (key_account_managers) or "
                  f"give more of their time (fte_hours_per_month) to develop {'it' if one else 'them'}.",
            "zh": f"{_n(left)} 个占{size_zh}的客户按普通客户服务：重点客户团队的工时{hours_zh}已被重点客户"
                  f"（每个 kam_hours_per_month_max 小时）与更大的培育中可观规模客户（每个 potential_hours_per_month_max 小时）"
                  f"占满——增加一名重点客户经理（key_account_managers）或投入更多时间（fte_hours_per_month）即可培育。"}


def period_gap_text(count: int, share: float | None) -> Text:
    """Customers that bought last period and nothing this one (not yet lost: a 环比 file without a last order
    that says so): counted in one line with their share of the last period, so that a gap is confirmed, never
    silent; those of class A last period keep their tier until the order follow-up answers."""
    one = count == 1
    of_en = f" after {fmt_pct(share, 1)} of the last" if share is not None else " after buying in the last"
    of_zh = f"（上期占 {fmt_pct(share, 1, 'zh')}）" if share is not None else ""
    return {"en": f"{_n(count)} {'customer' if one else 'customers'} bought nothing this period{of_en}: confirm "
                  f"{'it' if one else 'them'} (order follow-up) — a season, a delayed order, a re-booking or a loss? "
                  f"A class A customer of the last period keeps its tier until the follow-up answers.",
            "zh": f"{_n(count)} 个上期有采购的客户本期无采购{of_zh}：请跟进订单予以确认——季节性、订单延迟、重复入账还是流失？"
                  f"上期为 A 类的客户在跟进有结果之前保留其级别。"}


def orders_period_text(days: float, beyond: int | None, lapsed_days: float | None) -> Text:
    """How an order (purchases) count is read: over `days` (the sales period), and how to say otherwise; or,
    when `beyond` accounts have orders but no sales (the count covers more than the sales period), that no
    usual interval is worked out from it and recency is judged on `lapsed_days` alone."""
    if beyond:
        after_en = f" after {_n(lapsed_days)} days without an order" if lapsed_days is not None else ""
        after_zh = f"（{_n(lapsed_days)} 天未下单）" if lapsed_days is not None else ""
        return {"en": f"The order count covers more than the sales period: {_n(beyond)} customers with no sales this "
                      f"period have orders (purchases) counted. No usual interval between orders is worked out from "
                      f"it: recency is judged without frequency (lapsed{after_en}). Give the period's own order count "
                      f"or a usual interval (order_interval_days) to judge each customer against its rhythm.",
                "zh": f"订单数覆盖的期间长于销售期间：{_n(beyond)} 个本期无销售额的客户仍计有订单（购买）次数。"
                      f"不据此推算通常订货间隔：最近一次购买按统一标准判断，不考虑购买频率（流失中{after_zh}）。"
                      f"请提供本期自身的订单数或通常订货间隔（order_interval_days），以便按各客户的节奏判断。"}
    return {"en": f"The order (purchases) count is read as orders in the last {_n(days)} days, the sales period: set "
                  f"orders_period_days if it covers another period (a weekly buyer silent for five months is lapsed; "
                  f"a once-a-year buyer is not).",
            "zh": f"订单（购买）次数按最近 {_n(days)} 天（销售期间）内的次数读取：如其覆盖其他期间，请设置 "
                  f"orders_period_days（每周购买的客户沉寂五个月即为流失中；一年买一次的客户则不是）。"}


def consumer_book_text(key: int) -> Text:
    """A consumer book: a VIP programme, not key account managers or a department (thesis §2.3.3, §5.3)."""
    return {
        "en": "A consumer book (most customers are individuals): run a VIP programme for the most valuable "
              "customers (the VIP tier) and a segment programme for the rest — not key account managers or a "
              "key account department." + (f" {key} organisations in it are key accounts." if key else ""),
        "zh": "消费者型客户组合（大多数客户为个人）：为价值最高的客户实行贵宾计划（贵宾等级），其余纳入细分客户计划——"
              "而不是配备重点客户经理或设立重点客户管理部。" + (f"其中 {key} 个组织客户为重点客户。" if key else ""),
    }


def balance_advice(region: str, who: str, second: str | None, share: float, hhi: float,
                   ratio: float | None = None) -> Text:
    """`ratio`: the region's next-largest customer's sales against the largest's (what decides whether the
    two already balance each other), said beside the HHI."""
    next_en = f"; the next-largest at {fmt_pct(ratio)} of its size" if ratio is not None else ""
    next_zh = f"；第二大客户规模为其 {fmt_pct(ratio, lang='zh')}" if ratio is not None else ""
    develop_en = (f"develop the next-largest ({second}) and one more into evenly matched key customers"
                  if second else "no other customer there is within reach of it yet: win and develop new customers "
                                 "of comparable size")
    develop_zh = (f"重点培育第二大客户（{second}）及另一客户，使之与其实力相当" if second
                  else "该区域暂无与其规模接近的客户：需开拓并培育新客户")
    return {
        "en": f"{region}: {who} holds {fmt_pct(share)} of the region's sales (HHI {_n(hhi)}{next_en}): {develop_en}, "
              f"so 2–3 comparable key customers balance each other and none can dictate terms.",
        "zh": f"{region}：{who} 占该区域销售额的 {fmt_pct(share)}（HHI {_n(hhi)}{next_zh}）：{develop_zh}，"
              f"形成 2–3 个实力相当、相互制衡的重点客户（培植重点客户的竞争对手）。",
    }


def balancing_text(balancing: list, regions: int) -> Text:
    """The regions whose largest customer dominates (names of the first six)."""
    names = ", ".join(balancing[:6]) + (" …" if len(balancing) > 6 else "")
    names_zh = "、".join(balancing[:6]) + ("等" if len(balancing) > 6 else "")
    return {
        "en": f"{len(balancing)} of {regions} regions {'depends' if len(balancing) == 1 else 'depend'} on one customer or very few ({names}): "
              f"cultivate 2–3 evenly matched key customers in each so they balance each other.",
        "zh": f"{regions} 个区域中有 {len(balancing)} 个依赖单一或极少数客户（{names_zh}）：在这些区域各培植 2–3 个"
              f"实力相当的重点客户，使其相互制衡。",
    }


# The words for the "at risk" and "critical" levels in running text (console summary, advice, report),
# by language. In Chinese the pack's own labels replace them (risk_words), so a document never says
# 高风险 in one place and 严重 in another; English keeps these lower-case words.
RISK_WORDS = {"en": ("at risk", "critical"), "zh": ("有风险", "高风险")}


def risk_words(labels: dict) -> dict:
    """RISK_WORDS with the Chinese words taken from `labels` (the risk level output's value labels:
    value -> {en, zh}) where the pack gives them."""
    zh = tuple(str((labels.get(level) or {}).get("zh") or word)
               for level, word in zip(("at_risk", "critical"), RISK_WORDS["zh"]))
    return {**RISK_WORDS, "zh": zh}


def risks_text(total: int, critical: int, critical_zh: str = "高风险", planned: int | None = None) -> Text:
    """`critical_zh`: the pack's Chinese word for the critical level (one word in every zh document).
    `planned`: how many of them are key or potential accounts (a playbook each); None when unknown."""
    accounts_are = "account is" if total == 1 else "accounts are"
    if planned is None or planned == total:
        return {
            "en": f"{_n(total)} {accounts_are} at risk of defection ({_n(critical)} critical): run the retention "
                  f"actions of their playbooks first.",
            "zh": f"{_n(total)} 个客户存在流失风险（其中 {_n(critical)} 个{critical_zh}）：优先执行其行动手册中的防流失措施。",
        }
    rest = total - planned
    return {
        "en": f"{_n(total)} {accounts_are} at risk of defection ({_n(critical)} critical). "
              + (f"{_n(planned)} of them are key or potential accounts: run the retention actions of their "
                 f"playbooks first. " if planned else "")
              + f"The other {_n(rest)} are standard accounts without a playbook: work through them from the "
                f"largest sales at stake (the report's risk list, the decision table's risk columns) in the segment programme.",
        "zh": f"{_n(total)} 个客户存在流失风险（其中 {_n(critical)} 个{critical_zh}）。"
              + (f"其中 {_n(planned)} 个为重点或潜在重点客户：优先执行其行动手册中的防流失措施。" if planned else "")
              + f"其余 {_n(rest)} 个为没有行动手册的普通客户：按风险金额从大到小（报告中的风险清单、决策表的风险列）"
                f"在细分客户计划中逐一处理。",
    }


def not_assessed_text(names: dict, losses_found: bool = False) -> Text:
    """Said when the file lacks every field the risk signals read ({lang: [field labels]});
    `losses_found`: lost or lapsed customers were still found (from the sales and last-order columns)."""
    return {
        "en": f"Defection signals not assessed: the file lacks every field they read "
              f"({', '.join(names['en'])}). This is not the same as no risk: add these columns to assess it."
              + (" Lost and lapsed customers are still found from the sales columns and the last order." if losses_found else ""),
        "zh": f"未评估客户流失信号：文件缺少风险信号所需的全部字段（{'、'.join(names['zh'])}）。这不等于没有风险："
              f"补充这些字段后即可评估。" + ("已流失与流失中的客户仍根据销售额与最近下单日期识别。" if losses_found else ""),
    }


def not_assessed_rows_text(count: int, accounts: int) -> Text:
    """Said when the file has risk columns but some rows have no risk data at all."""
    return {
        "en": f"Defection risk not assessed for {count} of {accounts} accounts: their rows have no risk data "
              f"(not the same as no risk).",
        "zh": f"{accounts} 个客户中有 {count} 个未评估流失风险：其记录中没有任何风险数据（不等于没有风险）。",
    }
