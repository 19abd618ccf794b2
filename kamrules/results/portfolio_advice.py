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


def band_text(status: str, key: int, low, high, strong) -> Text | None:
    if status == "unknown":
        return None
    band = f"{_n(low)}–{_n(high)}"
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


def capacity_text(key: int, over: int, capacity: float | None, factor: float | None) -> Text | None:
    """Said plainly when more accounts qualify than the pack's key-account capacity (a consumer-like
    portfolio): key account management for the best by index, a segment programme for the rest."""
    if capacity is None or not over:
        return None
    if factor is not None and key + over >= factor * capacity:
        return {
            "en": f"{_n(key + over)} accounts qualify as key, far beyond the capacity of {_n(capacity)}: this portfolio is "
                  f"consumer-like. Run key account management for the top {key} by composite index and serve the "
                  f"other {_n(over)} through a segment programme (marked 'qualifies, over capacity').",
            "zh": f"{_n(key + over)} 个客户符合重点客户标准，远超可管理容量 {_n(capacity)} 个：该客户组合接近消费者型。对综合"
                  f"指数最高的 {key} 个实施重点客户管理，其余 {_n(over)} 个（标记为\"符合标准，超出容量\"）纳入细分客户计划。",
        }
    return {
        "en": f"{_n(key + over)} accounts qualify as key, more than the capacity of {_n(capacity)}: the top {key} by "
              f"composite index are key accounts; the other {_n(over)} are marked 'qualifies, over capacity' — raise the "
              f"capacity (add key account managers) or serve them as potential key accounts.",
        "zh": f"{_n(key + over)} 个客户符合重点客户标准，超过可管理容量 {_n(capacity)} 个：综合指数最高的 {key} 个为重点客户，"
              f"其余 {_n(over)} 个标记为\"符合标准，超出容量\"——提高容量（增加重点客户经理）或按潜在重点客户服务。",
    }


def pipeline_text(potential: int, over: int, capacity: float | None) -> Text | None:
    """Said when more accounts qualify as potential key accounts than the pack's pipeline holds."""
    if capacity is None or not over:
        return None
    return {
        "en": f"{_n(potential + over)} accounts qualify as potential key accounts, more than the pipeline of "
              f"{_n(capacity)}: the top {potential} by key-account priority are potential key accounts; the other "
              f"{_n(over)} are served as standard accounts ('potential key-account pipeline full') — raise "
              f"potential_account_capacity to develop more of them.",
        "zh": f"{_n(potential + over)} 个客户符合潜在重点客户标准，超过 {_n(capacity)} 个的培育名额：按重点客户优先度最高的 "
              f"{potential} 个为潜在重点客户；其余 {_n(over)} 个按普通客户服务（“潜在重点客户名额已满”）——如需培育更多，"
              f"请提高 potential_account_capacity。",
    }


def organisation_text(key: int, threshold: float | None) -> Text | None:
    if threshold is None:
        return None
    if key > threshold:
        return {
            "en": f"More than {_n(threshold)} key accounts: set up a dedicated key account department "
                  f"(重点客户管理部).",
            "zh": f"重点客户超过 {_n(threshold)} 个：设立专门的重点客户管理部。",
        }
    return {
        "en": f"{key} key accounts (at most {_n(threshold)}): top management can run the key accounts "
              f"directly; a dedicated department is not needed yet.",
        "zh": f"重点客户 {key} 个（不超过 {_n(threshold)} 个）：可由企业高层直接管理重点客户，暂不需要设立专门部门。",
    }


def balance_advice(region: str, who: str, second: str | None, share: float, hhi: float) -> Text:
    develop_en = (f"develop the next-largest ({second}) and one more into evenly matched key customers"
                  if second else "no other customer there is within reach of it yet: win and develop new customers "
                                 "of comparable size")
    develop_zh = (f"重点培育第二大客户（{second}）及另一客户，使之与其实力相当" if second
                  else "该区域暂无与其规模接近的客户：需开拓并培育新客户")
    return {
        "en": f"{region}: {who} holds {fmt_pct(share)} of the region's sales (HHI {_n(hhi)}): {develop_en}, "
              f"so 2–3 comparable key customers balance each other and none can dictate terms.",
        "zh": f"{region}：{who} 占该区域销售额的 {fmt_pct(share)}（HHI {_n(hhi)}）：{develop_zh}，"
              f"形成 2–3 个实力相当、相互制衡的重点客户（培植重点客户的竞争对手）。",
    }


def balancing_text(balancing: list, regions: int) -> Text:
    """The regions whose largest customer dominates (names of the first six)."""
    names = ", ".join(balancing[:6]) + (" …" if len(balancing) > 6 else "")
    names_zh = "、".join(balancing[:6]) + ("等" if len(balancing) > 6 else "")
    return {
        "en": f"{len(balancing)} of {regions} regions depend on one customer or very few ({names}): "
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
    if planned is None or planned == total:
        return {
            "en": f"{_n(total)} accounts are at risk of defection ({_n(critical)} critical): run the retention "
                  f"actions of their playbooks first.",
            "zh": f"{_n(total)} 个客户存在流失风险（其中 {_n(critical)} 个{critical_zh}）：优先执行其行动手册中的防流失措施。",
        }
    rest = total - planned
    return {
        "en": f"{_n(total)} accounts are at risk of defection ({_n(critical)} critical). "
              + (f"{_n(planned)} of them are key or potential accounts: run the retention actions of their "
                 f"playbooks first. " if planned else "")
              + f"The other {_n(rest)} are standard accounts without a playbook: work through them from the "
                f"largest sales at stake (the report's risk list, the decision table's risk columns) in the segment programme.",
        "zh": f"{_n(total)} 个客户存在流失风险（其中 {_n(critical)} 个{critical_zh}）。"
              + (f"其中 {_n(planned)} 个为重点或潜在重点客户：优先执行其行动手册中的防流失措施。" if planned else "")
              + f"其余 {_n(rest)} 个为没有行动手册的普通客户：按风险金额从大到小（报告中的风险清单、决策表的风险列）"
                f"在细分客户计划中逐一处理。",
    }


def not_assessed_text(names: dict) -> Text:
    """Said when the file lacks every field the risk signals read ({lang: [field labels]})."""
    return {
        "en": f"Defection risk not assessed: the file lacks every field its signals read "
              f"({', '.join(names['en'])}). This is not the same as no risk: add these columns to assess it.",
        "zh": f"未评估客户流失风险：文件缺少风险信号所需的全部字段（{'、'.join(names['zh'])}）。这不等于没有风险："
              f"补充这些字段后即可评估。",
    }


def not_assessed_rows_text(count: int, accounts: int) -> Text:
    """Said when the file has risk columns but some rows have no risk data at all."""
    return {
        "en": f"Defection risk not assessed for {count} of {accounts} accounts: their rows have no risk data "
              f"(not the same as no risk).",
        "zh": f"{accounts} 个客户中有 {count} 个未评估流失风险：其记录中没有任何风险数据（不等于没有风险）。",
    }
