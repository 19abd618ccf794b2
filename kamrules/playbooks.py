"""Playbooks: one account plan per selected account, rendered from Jinja templates in Markdown and HTML.

The pieces, in the order a run uses them:

- `make_environment(playbooks_dir, pack=..., lang=...)`: the one Jinja environment factory. Sandboxed
  (no Python internals, no `**`, bounded `range` and repetition), `StrictUndefined`, autoescape for
  HTML templates only, a search path of the team's folder first and the packaged defaults second, and
  the defaults also reachable as `default/NAME` so a team template can extend the default and
  override one block.
- `check_templates(pack, playbooks_dir=...)`: every template is parsed and checked against the
  documented context *before* any account is rendered: unknown names and attributes, Python
  internals, missing templates and filters are reported with `file:line`, all at once.
- `build_context(...)` gives a `PlaybookContext` (typed, documented in docs/playbooks.md).
- `render_playbooks(evaluation, selection=..., lang=...)` returns `{"playbooks/<file>.md": bytes, ...}`.

File names come from `playbook_paths(evaluation)`: safe on every file system whatever the account id
holds, stable, and unique even when names repeat.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from functools import cached_property, lru_cache
import difflib
import hashlib
from decimal import ROUND_HALF_UP, Decimal
import logging
import math
import re
import traceback
import types
import typing
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from .errors import TemplateError, UsageError
from .pack import RulePack, pick
from .results import AccountResult, DecisionResult, Evaluation

log = logging.getLogger(__name__)

LANGS = ("en", "zh")
SELECTIONS = {"key": ("key",), "key+potential": ("key", "potential"), "all": None, "none": ()}
PLAYBOOK_TEMPLATES = ("playbook.md.j2", "playbook.html.j2")
REPORT_TEMPLATE = "report.html.j2"
MISSING = "—"

# The output names of the default pack that the default templates give a section of their own. Any
# other pack works too: a section whose output the pack lacks is simply empty (None or ()).
TIER, TIER_BASIS, RELATIONSHIP, SERVICE_LEVEL, REVIEW_EVERY = (
    "tier", "tier_basis", "relationship", "service_level", "review_every_days")
RISK_LEVEL, RISK_SIGNAL, RISK_CAUSE = "risk_level", "risk_signal", "risk_cause"
FINDING, ADVICE = "dependence_finding", "dependence_advice"
ACTION_OUTPUTS = ("action", "action_title", "action_owner", "action_due_days", "action_measure", "action_section")
RANKING_NAMES = ("abc_class", "sales_rank", "sales_share", "sales_cum_share")
SCORE_NAME = "kam_index"
SECTION_ORDER = ("establish", "develop", "maintain")

# ------------------------------------------------------------------------------------- UI strings

# Every fixed text of the default templates (playbooks and report), in every language. Templates read
# them as `t.KEY`; a team template may add its own wording instead. Keys must match across languages
# (a test checks it). `%s` marks where a template fills in a value with the `format` filter.
UI: dict[str, dict[str, str]] = {
    "en": {
        "colon": ": ",
        "comma": ", ",
        "semicolon": "; ",
        "lparen": " (",
        "rparen": ")",
        "account_plan": "Account plan",
        "as_of": "As of",
        "rule_pack": "Rule pack",
        "input": "Input",
        "row": "row %s",
        "facts": "Account facts",
        "fact": "Fact",
        "value": "Value",
        "why_key": "Why this is a key account",
        "why_potential": "Why this is a potential key account",
        "why_not_key": "Why this is not a key account",
        "why_tier": "Why this tier",
        "basis": "Basis",
        "rule": "Rule",
        "default_rule": "default",
        "source": "Source",
        "facts_read": "Facts read",
        "tier_score": "Tier and evaluation score",
        "tier": "Tier",
        "score_of": "%s / 100",
        "rank": "Rank",
        "rank_of": "%s of %s accounts",
        "not_scored": "not scored (data missing)",
        "relationship": "Relationship type",
        "service": "Service level and commitments",
        "commitment": "Commitment",
        "dependence": "Dependence and concentration",
        "finding": "Finding",
        "advice": "Advice",
        "evidence": "Evidence",
        "no_findings": "No dependence or concentration finding.",
        "risk": "Defection risk",
        "risk_level": "Risk level",
        "signal": "Signal",
        "cause": "Cause",
        "no_signals": "No defection risk signal.",
        "plan": "Action plan",
        "action": "Action",
        "owner": "Owner",
        "due": "Due",
        "in_days": "in %s days",
        "measure": "Measure of success",
        "other_actions": "Other actions",
        "no_actions": "The rules propose no action for this account.",
        "next_review": "Next review",
        "review_every": "every %s days",
        "no_review": "No review date: the rule pack sets no review interval.",
        "trace": "Decision trace",
        "decision": "Decision",
        "outcome": "Outcome",
        "because": "Because",
        "footer": "Generated by kamrules from the rules and the data above. To change the plan, change the rules.",
        "report_title": "Key account portfolio report",
        "summary": "Summary",
        "accounts": "Accounts",
        "total_sales": "Total sales",
        "key_accounts": "Key accounts",
        "key_sales_share": "Share of sales from key accounts",
        "pareto": "Pareto split",
        "pareto_chart": "Pareto curve",
        "chart_x": "Share of accounts, largest first",
        "chart_y": "Cumulative share of sales",
        "chart_line": "%s of sales",
        "chart_even": "Even spread",
        "legend_key": "Key account",
        "legend_other": "Other account",
        "chart_caption": "One point per account (%s), sorted by sales. The dashed line marks %s.",
        "chart_sampled": "%s accounts: the largest 500 and an even sample of the rest are drawn (%s points), "
                         "sorted by sales. The dashed line marks %s.",
        "list_more": "The first %s of %s are listed; decisions.csv has them all.",
        "advice_title": "Portfolio advice",
        "counts": "Accounts by decision",
        "count": "Count",
        "share_of_accounts": "Share of accounts",
        "sales": "Sales",
        "share_of_sales": "Share of sales",
        "regions": "Regional concentration",
        "region": "Region",
        "largest": "Largest customer",
        "largest_share": "Its share",
        "hhi": "HHI",
        "concentration": "Concentration",
        "no_regions": "The data has no region: regional concentration is not measured.",
        "risks": "Defection risks",
        "no_risks": "No account is at risk or critical.",
        "account": "Account",
        "signals": "Signals",
        "key_list": "Key accounts and their playbooks",
        "playbook": "Playbook",
        "open": "Open",
        "score": "Score",
        "no_key": "No key accounts.",
        "unused_rules": "Rules that could not apply for lack of data",
        "missing_data": "Missing data",
        "all_rules_apply": "Every rule had the data it needs.",
        "run": "Run",
        "pack_hash": "Pack hash",
        "none": "none",
    },
    "zh": {
        "colon": "：",
        "comma": "，",
        "semicolon": "；",
        "lparen": "（",
        "rparen": "）",
        "account_plan": "客户计划",
        "as_of": "评估日期",
        "rule_pack": "规则包",
        "input": "数据文件",
        "row": "第 %s 行",
        "facts": "客户概况",
        "fact": "项目",
        "value": "数值",
        "why_key": "为何列为重点客户",
        "why_potential": "为何列为潜在重点客户",
        "why_not_key": "为何未列为重点客户",
        "why_tier": "分级依据",
        "basis": "依据",
        "rule": "规则",
        "default_rule": "默认",
        "source": "出处",
        "facts_read": "所用数据",
        "tier_score": "客户级别与综合评分",
        "tier": "客户级别",
        "score_of": "%s / 100",
        "rank": "排名",
        "rank_of": "第 %s 名（共 %s 个客户）",
        "not_scored": "无法评分（数据缺失）",
        "relationship": "客户关系类型",
        "service": "服务等级与服务承诺",
        "commitment": "服务承诺",
        "dependence": "依赖度与集中度",
        "finding": "发现",
        "advice": "建议",
        "evidence": "依据",
        "no_findings": "无依赖度或集中度方面的发现。",
        "risk": "客户背离风险",
        "risk_level": "风险等级",
        "signal": "信号",
        "cause": "原因类型",
        "no_signals": "未发现客户背离信号。",
        "plan": "行动计划",
        "action": "行动",
        "owner": "负责人",
        "due": "完成日期",
        "in_days": "%s 天内",
        "measure": "成功标准",
        "other_actions": "其他行动",
        "no_actions": "规则未对该客户提出行动。",
        "next_review": "下次回顾",
        "review_every": "每 %s 天",
        "no_review": "规则包未设定回顾间隔，无下次回顾日期。",
        "trace": "决策记录",
        "decision": "决策",
        "outcome": "结果",
        "because": "原因",
        "footer": "由 kamrules 根据上述规则与数据生成。如需调整计划，请修改规则。",
        "report_title": "重点客户组合报告",
        "summary": "概要",
        "accounts": "客户数",
        "total_sales": "销售总额",
        "key_accounts": "重点客户数",
        "key_sales_share": "重点客户销售额占比",
        "pareto": "二八分布",
        "pareto_chart": "帕累托曲线",
        "chart_x": "客户占比（按销售额从高到低）",
        "chart_y": "累计销售额占比",
        "chart_line": "%s 销售额",
        "chart_even": "均匀分布",
        "legend_key": "重点客户",
        "legend_other": "其他客户",
        "chart_caption": "每个点代表一个客户（共 %s 个），按销售额排序。虚线表示 %s。",
        "chart_sampled": "共 %s 个客户：图中画出最大的 500 个及其余客户的均匀抽样（%s 个点），按销售额排序。虚线表示 %s。",
        "list_more": "仅列出前 %s 个（共 %s 个）；完整名单见 decisions.csv。",
        "advice_title": "客户组合建议",
        "counts": "各项决策的客户分布",
        "count": "客户数",
        "share_of_accounts": "客户占比",
        "sales": "销售额",
        "share_of_sales": "销售额占比",
        "regions": "区域集中度",
        "region": "区域",
        "largest": "最大客户",
        "largest_share": "其占比",
        "hhi": "HHI",
        "concentration": "集中程度",
        "no_regions": "数据中没有区域信息，未计算区域集中度。",
        "risks": "客户背离风险",
        "no_risks": "没有处于风险或严重风险状态的客户。",
        "account": "客户",
        "signals": "信号",
        "key_list": "重点客户及其行动手册",
        "playbook": "行动手册",
        "open": "打开",
        "score": "评分",
        "no_key": "没有重点客户。",
        "unused_rules": "因缺少数据而无法适用的规则",
        "missing_data": "缺少的数据",
        "all_rules_apply": "所有规则所需的数据均已具备。",
        "run": "运行信息",
        "pack_hash": "规则包哈希",
        "none": "无",
    },
}


class Strings(dict):
    """The UI strings of one language, read in templates as `t.KEY` (unknown keys are errors)."""


class Values(dict):
    """An account's values by name (fields, features, scores, decision outputs), read as
    `account.values.NAME`; a name the pack does not define is an error, a missing value is None."""


class Texts(Values):
    """An account's values formatted for display (`account.texts.sales` → '520,000'), formatted when
    first read: most templates read few of them."""

    def __init__(self, values: Values, show):
        super().__init__()
        self._values = values
        self._show = show

    def __missing__(self, name: str) -> str:
        if name not in self._values:
            raise KeyError(name)
        text = self[name] = self._show(self._values[name], name)
        return text

    def __contains__(self, name: object) -> bool:
        return name in self._values

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def keys(self):
        return self._values.keys()

    def items(self):
        return [(name, self[name]) for name in self._values]

    def values(self):
        return [self[name] for name in self._values]

    def get(self, name, default=None):
        return self[name] if name in self._values else default


# ------------------------------------------------------------------------------- locale formatting

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _trim(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


_QUANTUM = {digits: Decimal(1).scaleb(-digits) for digits in range(10)}
_SCALE = {digits: 10 ** digits for digits in range(10)}


def fmt_number(value: Any, digits: int = 2, lang: str = "en") -> str:
    """1234567.891 → '1,234,567.89'; halves round up, as a person rounds (9876.5 → '9,877' with 0
    digits); trailing zeros dropped; missing → '—'."""
    if _is_missing(value) or isinstance(value, bool) or not isinstance(value, (int, float)):
        return MISSING if _is_missing(value) else str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    scaled = abs(value) * _SCALE[digits]
    if abs(scaled - math.floor(scaled) - 0.5) > 1e-6:  # not a half: the float formatting rounds right
        text = _trim(f"{value:,.{digits}f}")
    else:  # a half: round it up, on the decimal a person reads (1.005 → 1.01), not its binary value
        rounded = Decimal(repr(value)).quantize(_QUANTUM[digits], rounding=ROUND_HALF_UP)
        text = _trim(f"{rounded:,.{digits}f}")
    return "0" if text in ("-0", "") else text


def fmt_money(value: Any, lang: str = "en") -> str:
    """An amount: '520,000' (en); '52万', '1.35亿' (zh, from ten thousand up)."""
    if _is_missing(value) or isinstance(value, bool) or not isinstance(value, (int, float)):
        return fmt_number(value, lang=lang)
    number = float(value)
    if lang == "zh" and abs(number) >= 1e8:
        return fmt_number(number / 1e8, 2) + "亿"
    if lang == "zh" and abs(number) >= 1e4:
        return fmt_number(number / 1e4, 2) + "万"
    return fmt_number(number, 0 if abs(number) >= 1000 else 2)


def fmt_pct(value: Any, digits: int = 1, lang: str = "en") -> str:
    """A share 0–1 as a percentage: 0.3264 → '32.6%'."""
    if _is_missing(value) or isinstance(value, bool) or not isinstance(value, (int, float)):
        return fmt_number(value, lang=lang)
    return fmt_number(round(float(value) * 100, digits), digits) + "%"


def fmt_date(value: Any, lang: str = "en") -> str:
    """'27 Nov 2026' (en), '2026年11月27日' (zh); independent of the machine's locale."""
    if _is_missing(value):
        return MISSING
    if hasattr(value, "date") and callable(value.date):  # datetime, pandas Timestamp
        value = value.date()
    if not isinstance(value, dt.date):
        return str(value)
    if lang == "zh":
        return f"{value.year}年{value.month}月{value.day}日"
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"


def fmt_bool(value: Any, lang: str = "en") -> str:
    if _is_missing(value):
        return MISSING
    if lang == "zh":
        return "是" if value else "否"
    return "yes" if value else "no"


_UNIT_WORDS = (
    ("int", frozenset({"rank", "count", "days", "hours", "months", "accounts", "hhi"})),
    ("pct", frozenset({"share", "margin", "growth", "decline", "drop", "pct", "rate", "cum"})),
    ("money", frozenset({"sales", "profit", "revenue", "amount", "spend"})),
)


def value_kind(pack: RulePack, name: str) -> str:
    """How a named value is shown: money, pct, int, score, number, date, bool, label or text.

    Packs carry types, not units, so units are recognised by the words of the name, the last word
    first: `rank`, `count`, `days`, `hhi` … → whole number; `share`, `margin`, `growth`, `decline`,
    `drop`, `cum` … → percentage; `sales`, `profit`, `revenue`, `amount` → money.
    """
    vtype = "text"
    if name in pack.fields:
        vtype = pack.fields[name].type
    elif name in pack.scores:
        return "score"
    elif name in pack.features:
        feature = pack.features[name]
        if feature.function in ("share_of", "cumulative_share"):
            return "pct"
        if feature.function in ("rank", "count", "hhi", "days_since", "days_until"):
            return "int"
        vtype = "category" if feature.function == "band" else feature.type
    elif name.endswith("_count") and any(d.count_name == name for d in pack.decisions):
        return "int"
    else:
        output = pack.output(name)
        if output is not None:
            vtype = output.type
    if vtype == "date":
        return "date"
    if vtype == "boolean":
        return "bool"
    if vtype == "category":
        return "label"
    if vtype not in ("number", "integer"):
        return "text"
    parts = name.split("_")
    # The last word says most ("high_margin_sales" is money, "sales_share" a share); then any word.
    for words in ([parts[-1]], parts):
        for kind, unit_words in _UNIT_WORDS:
            if unit_words.intersection(words):
                return kind
    return "int" if vtype == "integer" else "number"


class Formatter:
    """The display rules of one pack in one language, shared by the filters and the context builder."""

    def __init__(self, pack: RulePack, lang: str = "en"):
        self.pack = pack
        self.lang = lang
        self._kinds: dict[str, str] = {}
        self._captions: dict[str, str] = {}
        self._shown: dict = {}
        self._labels: dict = {}

    def kind(self, name: str) -> str:
        if name not in self._kinds:
            self._kinds[name] = value_kind(self.pack, name)
        return self._kinds[name]

    def caption(self, name: str) -> str:
        """The display name of a field, feature, score or output."""
        if name not in self._captions:
            self._captions[name] = self.pack.name_label(name, self.lang)
        return self._captions[name]

    def label(self, value: Any, name: str = "") -> str:
        """A value as its display label: category labels, texts in the language, yes/no."""
        cls = type(value)
        if cls is str or cls is bool:  # category values repeat: look each label up once
            key = (name, cls, value)
            text = self._labels.get(key)
            if text is None:
                text = self._labels[key] = self._label(value, name)
            return text
        return self._label(value, name)

    def _label(self, value: Any, name: str = "") -> str:
        if _is_missing(value):
            return MISSING
        if isinstance(value, (list, tuple)):
            return ", ".join(self.label(v, name) for v in value) or MISSING
        if isinstance(value, dict):
            return pick(value, self.lang)
        if isinstance(value, bool):
            return fmt_bool(value, self.lang)
        if isinstance(value, str):
            return self.pack.label(name, value, self.lang)
        return self.show(value, name)

    def show(self, value: Any, name: str) -> str:
        """A named value formatted by its kind (see `value_kind`)."""
        if value is None:
            return MISSING
        cls = type(value)
        if cls is str or cls is bool or cls is float or cls is int:  # values repeat a lot: format each once
            key = (name, cls, value)
            text = self._shown.get(key)
            if text is None:
                if len(self._shown) > 100_000:  # bounded: a run of unique amounts must not grow it forever
                    self._shown.clear()
                text = self._shown[key] = self._show(value, name)
            return text
        return self._show(value, name)

    def _show(self, value: Any, name: str) -> str:
        if _is_missing(value):
            return MISSING
        if isinstance(value, (list, tuple)):
            return ", ".join(self.show(v, name) for v in value) or MISSING
        if isinstance(value, dict):
            return pick(value, self.lang)
        kind = self.kind(name)
        if kind == "date" or isinstance(value, dt.date):
            return fmt_date(value, self.lang)
        if kind == "bool" or isinstance(value, bool):
            return fmt_bool(value, self.lang)
        if isinstance(value, str):
            return self.pack.label(name, value, self.lang) if kind == "label" else value
        if kind == "pct":
            return fmt_pct(value, lang=self.lang)
        if kind == "money":
            return fmt_money(value, self.lang)
        if kind == "int":
            return fmt_number(value, 0)
        if kind == "score":
            return fmt_number(value, 1)
        return fmt_number(value)


# ------------------------------------------------------------------------------ template context


@dataclass(frozen=True)
class Fact:
    """One named value of the account, ready to print."""

    name: str  # the field / feature / score / output name, e.g. "sales"
    label: str  # its display name in the chosen language, e.g. "Sales this period"
    value: Any  # the raw value (None when missing)
    text: str  # the value formatted for the language ("—" when missing)


@dataclass(frozen=True)
class Reason:
    """One rule that decided a decision (or contributed to a `collect` decision)."""

    decision: str  # decision id, e.g. "tier"
    rule: str  # rule id, e.g. "pareto_core"; "default" when no rule matched
    rule_label: str  # the rule id as shown: the id, or "default" in the chosen language
    outcome: str  # the label of what the rule set for the decision's first output, e.g. "Key account"
    because: str  # the rule's reason with this account's values filled in
    source: str  # where the rule comes from (may be "")
    _reads: dict = field(default_factory=dict, repr=False, compare=False)
    _fact: Any = field(default=None, repr=False, compare=False)

    @cached_property
    def reads(self) -> tuple[Fact, ...]:
        """Every value the rule's condition read (formatted when first used: most reasons never are)."""
        return tuple(self._fact(n, v) for n, v in self._reads.items()) if self._fact else ()


@dataclass(frozen=True)
class Choice:
    """A single-valued decision output: its value, its display label and the reasons behind it."""

    name: str  # output name, e.g. "tier"
    label: str  # display name of the output, e.g. "Tier"
    value: Any  # raw value, e.g. "key"
    text: str  # display label of the value, e.g. "Key account"
    reasons: tuple[Reason, ...]  # the deciding rule (or the default)


@dataclass(frozen=True)
class Score:
    """The composite evaluation score and the account's rank on it."""

    name: str  # score name, e.g. "kam_index"
    title: str  # e.g. "Key account evaluation index"
    value: float | None  # 0–100, None when the account lacks every criterion
    text: str  # formatted value
    rank: int | None  # 1 = highest score in the portfolio; ties share the better rank
    rank_of: int  # number of scored accounts


@dataclass(frozen=True)
class Service:
    """The service level and the commitments that come with it."""

    level: Choice  # service_level
    commitments: tuple[Fact, ...]  # the service decision's other outputs (response hours, cadence...)


@dataclass(frozen=True)
class Finding:
    """One dependence / concentration finding."""

    value: Any  # the finding code, e.g. "region_dominant"
    text: str  # its label
    advice: str  # what to do ("" when the pack gives no advice)
    because: str  # the facts behind it
    rule: str


@dataclass(frozen=True)
class Signal:
    """One defection risk signal with its cause (controllable / uncontrollable)."""

    value: Any  # the signal code, e.g. "detractor"
    text: str  # its label
    cause: Any  # "controllable" | "uncontrollable" | None
    cause_text: str  # the cause's label
    because: str
    rule: str


@dataclass(frozen=True)
class ActionRow:
    """One row of the action plan."""

    value: Any  # the action code, e.g. "account_plan"
    text: str  # the action's short label
    title: str  # what to do
    owner: str  # the owner's role
    due: dt.date | None  # as_of + due_days
    due_days: int | None
    measure: str  # measure of success
    section: Any  # "establish" | "develop" | "maintain" | None
    rule: str
    because: str


@dataclass(frozen=True)
class PlanSection:
    """The action rows of one section of the plan, in rule order."""

    key: str  # "establish" | "develop" | "maintain" | "other"
    title: str  # its label
    rows: tuple[ActionRow, ...]


@dataclass(frozen=True)
class DecisionView:
    """Any decision of the pack, as a generic trace: outputs and reasons."""

    id: str
    title: str
    reasons: tuple[Reason, ...]
    _decision: Any = field(default=None, repr=False, compare=False)
    _values: Any = field(default=None, repr=False, compare=False)
    _fact: Any = field(default=None, repr=False, compare=False)
    _separators: tuple = field(default=("; ", ", "), repr=False, compare=False)  # the language's ; and ,

    @cached_property
    def outputs(self) -> tuple[Fact, ...]:
        """The decision's outputs for the account (formatted when first used)."""
        if self._fact is None or self._decision is None:
            return ()
        values = self._values or {}
        return tuple(self._fact(n, values.get(n)) for n in self._decision.outputs)

    @cached_property
    def outcome(self) -> str:
        """What the rules decided, as labels: "Key account"; for `collect` every item, '; '-joined."""
        return self._separators[0].join(r.outcome for r in self.reasons if r.outcome)

    @cached_property
    def rules(self) -> str:
        """The deciding rule ids, ', '-joined."""
        return self._separators[1].join(r.rule_label for r in self.reasons)

    @cached_property
    def because(self) -> str:
        """The reasons, '; '-joined."""
        return self._separators[0].join(r.because for r in self.reasons if r.because)

    @cached_property
    def sources(self) -> str:
        """Where the deciding rules come from, each once, '; '-joined."""
        return self._separators[0].join(dict.fromkeys(r.source for r in self.reasons if r.source))


@dataclass(frozen=True)
class AccountView:
    """The account header."""

    id: str
    name: str | None
    title: str  # "name (id)" (zh: "name（id）"), or the id alone
    row: int  # row number in the input file
    file: str  # this playbook's path stem, e.g. "00042-华东机械有限公司"
    facts: tuple[Fact, ...]  # the pack's fields that have a value, in pack order (id and name excluded)
    values: Values  # every value by name: account.values.sales
    texts: Texts  # every value formatted: account.texts.sales


@dataclass(frozen=True)
class RunInfo:
    """The run the playbook comes from."""

    as_of: dt.date
    lang: str  # "en" | "zh"
    pack_name: str
    pack_title: str
    pack_version: str
    pack_hash: str
    input_name: str
    accounts: int  # number of accounts in the portfolio


@dataclass(frozen=True)
class PlaybookContext:
    """Everything a playbook template sees, as top-level names (`{{ account.title }}`)."""

    run: RunInfo
    account: AccountView
    tier: Choice | None  # None when the pack has no `tier` output
    ranking: tuple[Fact, ...]  # abc_class, sales_rank, sales_share, sales_cum_share (those the pack has)
    score: Score | None
    relationship: Choice | None
    service: Service | None
    dependence: tuple[Finding, ...]
    risk: Choice | None  # risk_level
    signals: tuple[Signal, ...]
    plan: tuple[PlanSection, ...]  # establish, develop, maintain (only sections with rows)
    next_review: dt.date | None  # as_of + review_every_days
    review_every_days: int | None
    decisions: tuple[DecisionView, ...]  # every decision of the pack, in evaluation order
    t: Strings  # the UI strings of the language


def _context_names(cls: type) -> dict:
    return {f.name: f for f in dataclasses.fields(cls)}


class ContextBuilder:
    """Builds `PlaybookContext`s for the accounts of one evaluation in one language."""

    def __init__(self, evaluation: Evaluation, lang: str = "en"):
        if lang not in UI:
            raise UsageError(f"--lang '{lang}' is not one of: {', '.join(UI)}")
        pack: RulePack = evaluation.pack
        self.evaluation = evaluation
        self.pack = pack
        self.lang = lang
        self.fmt = Formatter(pack, lang)
        self.strings = Strings(UI[lang])
        self.separators = (self.strings["semicolon"], self.strings["comma"])
        self.as_of = evaluation.as_of
        self.names = known_names(pack)
        self.blank = dict.fromkeys(self.names)
        self.count_names = {d.id: d.count_name for d in pack.decisions if d.hit == "collect"}
        self.decision_of = {name: d for d in pack.decisions for name in d.outputs}
        self.main_output = {d.id: next(iter(d.outputs), None) for d in pack.decisions}
        self.titles = {d.id: pick(d.title, lang) or d.id for d in pack.decisions}
        section = pack.output("action_section")
        self.section_order = tuple(section.values) if section is not None and section.values else SECTION_ORDER
        self.run = RunInfo(
            as_of=evaluation.as_of, lang=lang, pack_name=pack.name, pack_title=pick(pack.title, lang) or pack.name,
            pack_version=pack.version, pack_hash=pack.hash, input_name=evaluation.input_name,
            accounts=len(evaluation.accounts),
        )
        score_names = list(pack.scores)
        self.score_name = SCORE_NAME if SCORE_NAME in pack.scores else (score_names[0] if score_names else None)
        self.ranks: dict[int, int] = {}
        self.scored = 0
        if self.score_name:
            scored = [(v, i) for i, v in enumerate(column_values(evaluation, self.score_name))]
            values = sorted((v for v, _ in scored if not _is_missing(v)), reverse=True)
            self.scored = len(values)
            first_rank: dict[float, int] = {}
            for position, v in enumerate(values, 1):
                first_rank.setdefault(v, position)
            self.ranks = {i: first_rank[v] for v, i in scored if not _is_missing(v)}
        self.field_names = [n for n in pack.fields if n not in ("account_id", "account_name")]
        self.ranking_names = [n for n in RANKING_NAMES if n in self.names]
        self.paths = playbook_paths(evaluation)

    # -- pieces
    def fact(self, name: str, value: Any) -> Fact:
        return Fact(name, self.fmt.caption(name), value, self.fmt.show(value, name))

    def because(self, hit) -> str:
        """The hit's reason in this language only (filling every language would double the work)."""
        template, filler = getattr(hit, "template", None), getattr(hit, "filler", None)
        if filler is not None and template:
            lang = self.lang if self.lang in template else "en" if "en" in template else next(iter(template))
            text = template[lang]
            if "{" not in text:  # nothing to fill (many reasons are fixed texts)
                return text
            return filler({lang: text}, hit.outputs)[lang]
        return pick(hit.because, self.lang)

    def reason(self, decision: str, hit) -> Reason:
        cached = self._reasons.get(id(hit))
        if cached is not None and cached[0] is hit:
            return cached[1]
        made = self._reason(decision, hit)
        self._reasons[id(hit)] = (hit, made)
        return made

    def _reason(self, decision: str, hit) -> Reason:
        main = self.main_output.get(decision)
        outcome = self.fmt.label(hit.outputs.get(main), main) if main in hit.outputs else ""
        label = self.strings["default_rule"] if hit.rule == "default" else hit.rule
        return Reason(decision, hit.rule, label, outcome, self.because(hit), hit.source, hit.reads, self.fact)

    def choice(self, account: AccountResult, name: str) -> Choice | None:
        decision = self.decision_of.get(name)
        if decision is None:
            return None
        result: DecisionResult | None = account.decisions.get(decision.id)
        value = None if result is None else result.outputs.get(name)
        reasons = () if result is None else tuple(self.reason(decision.id, h) for h in result.hits)
        return Choice(name, self.fmt.caption(name), value, self.fmt.label(value, name), reasons)

    def collected(self, account: AccountResult, names: Iterable[str]) -> list[tuple[Any, dict]]:
        """For a collect decision: (hit, {output: value}) per contributing rule, in rule order."""
        names = [n for n in names if n in self.decision_of]
        if not names:
            return []
        decision = self.decision_of[names[0]]
        self._collecting = decision.id
        result = account.decisions.get(decision.id)
        if result is None:
            return []
        rows = []
        for position, hit in enumerate(result.hits):
            values = {}
            for name in names:
                column = result.outputs.get(name)
                if isinstance(column, list):
                    values[name] = column[position] if position < len(column) else None
                else:
                    values[name] = hit.outputs.get(name)
            rows.append((hit, values))
        return rows

    def text(self, value: Any, name: str = "") -> str:
        return "" if _is_missing(value) else self.fmt.label(value, name)

    # -- the whole context
    def build(self, account: AccountResult) -> PlaybookContext:
        self._reasons: dict = {}  # one Reason per hit, shared by the sections and the trace
        values = Values(self.blank)
        values.update(account.facts)
        for decision_id, result in account.decisions.items():
            values.update(result.outputs)
            if decision_id in self.count_names:
                values[self.count_names[decision_id]] = len(result.hits)
        texts = Texts(values, self.fmt.show)
        name = account.account_name
        name = None if _is_missing(name) or str(name).strip() == "" else str(name)
        view = AccountView(
            id=account.account_id,
            name=name,
            title=(f"{name}{self.strings['lparen']}{account.account_id}{self.strings['rparen']}" if name
                   else account.account_id),
            row=account.row,
            file=self.paths.get(account.index, ""),
            facts=tuple(self.fact(n, values[n]) for n in self.field_names if not _is_missing(values[n])),
            values=values,
            texts=texts,
        )
        score = None
        if self.score_name:
            value = values.get(self.score_name)
            score = Score(self.score_name, self.fmt.caption(self.score_name), value,
                          self.fmt.show(value, self.score_name), self.ranks.get(account.index), self.scored)
        service = None
        level = self.choice(account, SERVICE_LEVEL)
        if level is not None:
            decision = self.decision_of[SERVICE_LEVEL]
            commitments = tuple(self.fact(n, values.get(n)) for n in decision.outputs
                                if n not in (SERVICE_LEVEL, REVIEW_EVERY))
            service = Service(level, commitments)
        findings = tuple(
            Finding(v.get(FINDING), self.text(v.get(FINDING), FINDING), self.text(v.get(ADVICE), ADVICE),
                    self.reason(self._collecting, hit).because, hit.rule)
            for hit, v in self.collected(account, (FINDING, ADVICE))
        )
        signals = tuple(
            Signal(v.get(RISK_SIGNAL), self.text(v.get(RISK_SIGNAL), RISK_SIGNAL), v.get(RISK_CAUSE),
                   self.text(v.get(RISK_CAUSE), RISK_CAUSE), self.reason(self._collecting, hit).because,
                   hit.rule)
            for hit, v in self.collected(account, (RISK_SIGNAL, RISK_CAUSE))
        )
        review_days = values.get(REVIEW_EVERY) if REVIEW_EVERY in values else None
        review_days = None if _is_missing(review_days) else int(review_days)
        return PlaybookContext(
            run=self.run,
            account=view,
            tier=self.choice(account, TIER),
            ranking=tuple(self.fact(n, values[n]) for n in self.ranking_names),
            score=score,
            relationship=self.choice(account, RELATIONSHIP),
            service=service,
            dependence=findings,
            risk=self.choice(account, RISK_LEVEL),
            signals=signals,
            plan=self.plan(account),
            next_review=None if review_days is None else self.as_of + dt.timedelta(days=review_days),
            review_every_days=review_days,
            decisions=tuple(self.decision_view(account, d) for d in self.pack.decisions),
            t=self.strings,
        )

    def plan(self, account: AccountResult) -> tuple[PlanSection, ...]:
        rows = []
        for hit, v in self.collected(account, ACTION_OUTPUTS):
            days = v.get("action_due_days")
            days = None if _is_missing(days) else int(days)
            rows.append(ActionRow(
                value=v.get("action"),
                text=self.text(v.get("action"), "action"),
                title=self.text(v.get("action_title"), "action_title") or self.text(v.get("action"), "action"),
                owner=self.text(v.get("action_owner"), "action_owner"),
                due=None if days is None else self.as_of + dt.timedelta(days=days),
                due_days=days,
                measure=self.text(v.get("action_measure"), "action_measure"),
                section=v.get("action_section"),
                rule=hit.rule,
                because=self.reason(self._collecting, hit).because,
            ))
        if not rows:
            return ()
        order = self.section_order
        sections = []
        for key in order:
            chosen = tuple(r for r in rows if r.section == key)
            if chosen:
                sections.append(PlanSection(key, self.fmt.label(key, "action_section"), chosen))
        other = tuple(r for r in rows if r.section not in order)
        if other:
            sections.append(PlanSection("other", self.strings["other_actions"], other))
        return tuple(sections)

    def decision_view(self, account: AccountResult, decision) -> DecisionView:
        result = account.decisions.get(decision.id)
        reasons = () if result is None else tuple(self.reason(decision.id, h) for h in result.hits)
        return DecisionView(decision.id, self.titles[decision.id], reasons, decision,
                            None if result is None else result.outputs, self.fact, self.separators)


def _plain(value: Any) -> Any:
    """A table cell as the plain Python value an AccountResult would hold (None when missing)."""
    if value is None:
        return None
    if isinstance(value, float):
        return None if value != value else value
    kind = type(value).__module__
    if kind == "numpy":
        import numpy as np

        if isinstance(value, np.floating):
            return None if value != value else float(value)
        if isinstance(value, np.bool_):
            return bool(value)
        if isinstance(value, np.integer):
            return int(value)
        if isinstance(value, np.datetime64):
            import pandas as pd

            return None if pd.isna(value) else pd.Timestamp(value).date()
    if kind.startswith("pandas"):
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return None
        if isinstance(value, pd.Timestamp):
            return value.date()
    return value


def column_values(evaluation: Evaluation, name: str) -> list:
    """Every account's value of a field, feature, score or (single-valued) output, in input order.

    Read from `evaluation.table` when the evaluation has one (no per-account objects are built),
    else from the accounts."""
    table = getattr(evaluation, "table", None)
    if table is not None and name in getattr(table, "columns", ()):
        column = table[name]
        if column.dtype.kind == "f":  # floats: tolist() gives Python floats; NaN → None
            return [None if v != v else v for v in column.tolist()]
        return [_plain(v) for v in column.astype(object).tolist()]
    if name == "account_id":
        return [a.account_id for a in evaluation.accounts]
    if name == "account_name":
        return [a.account_name for a in evaluation.accounts]
    return [a.value(name) for a in evaluation.accounts]


def account_ids(evaluation: Evaluation) -> tuple[list, list]:
    """(ids as text, names) of every account, in input order, as AccountResult gives them."""
    ids = ["" if v is None else str(v) for v in column_values(evaluation, "account_id")]
    return ids, column_values(evaluation, "account_name")


def known_names(pack: RulePack) -> list[str]:
    """Every name an account has a value for: fields, features, scores, outputs, collect counts."""
    names = list(pack.fields) + [d.name for d in pack.derived]
    for decision in pack.decisions:
        names += list(decision.outputs)
        if decision.hit == "collect":
            names.append(decision.count_name)
    return list(dict.fromkeys(names))


def build_context(evaluation: Evaluation, account: AccountResult, lang: str = "en") -> PlaybookContext:
    """The context of one account's playbook (for one-off use; `render_playbooks` reuses a builder)."""
    return ContextBuilder(evaluation, lang).build(account)


_FIELD_NAMES: dict = {}


def context_vars(context: Any) -> dict:
    """A context dataclass as the top-level names a template sees."""
    names = _FIELD_NAMES.get(type(context))
    if names is None:
        names = _FIELD_NAMES[type(context)] = tuple(f.name for f in dataclasses.fields(context))
    return {name: getattr(context, name) for name in names}


# ------------------------------------------------------------------------------------- file names

_STEM_MAX_BYTES = 80
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", "conin$", "conout$",
                     *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}


def _slug(text: str) -> str:
    """Letters and digits of any script (Chinese kept), lower-cased; every other run becomes '-'."""
    text = unicodedata.normalize("NFKC", text).lower()
    out = [ch if ch.isalnum() and ch.isprintable() else "-" for ch in text]
    return re.sub(r"-{2,}", "-", "".join(out)).strip("-")


def _digest(*parts: Any) -> str:
    return hashlib.sha256("\0".join(str(p) for p in parts).encode("utf-8", "surrogatepass")).hexdigest()


def _truncate_bytes(text: str, limit: int) -> str:
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return text
    return encoded[:limit].decode("utf-8", "ignore").rstrip("-")


def playbook_stem(account_id: Any, account_name: Any = None) -> str:
    """A safe file name stem for an account: id and name slugified, bounded, never a path.

    Only letters, digits and '-' survive, so no '/', '\\', '..', ':', control or reserved character
    can reach the file system; Windows device names get a '_'; over 80 bytes, the stem is cut and a
    hash of the full id and name keeps it distinct.
    """
    ident = "" if _is_missing(account_id) else str(account_id)
    name = "" if _is_missing(account_name) else str(account_name)
    id_slug, name_slug = _slug(ident), _slug(name)
    stem = id_slug or ("account-" + _digest(ident)[:8] if ident else "account")
    if name_slug and name_slug != id_slug:
        stem = f"{stem}-{name_slug}"
    if len(stem.encode("utf-8")) > _STEM_MAX_BYTES:
        stem = _truncate_bytes(stem, _STEM_MAX_BYTES - 9) + "-" + _digest(ident, name)[:8]
    if stem.split(".")[0] in _WINDOWS_RESERVED:
        stem += "_"
    return stem


def playbook_paths(evaluation: Evaluation) -> dict[int, str]:
    """Account index → unique file stem, over every account (so a name does not depend on --playbooks).

    Stems are compared case-insensitively (macOS and Windows file systems); a repeat gets a short hash
    of its id, name and position, so the first account keeps the plain name.
    """
    used: set[str] = set()
    stems: dict[int, str] = {}
    for index, (account_id, name) in enumerate(zip(*account_ids(evaluation))):
        stem = playbook_stem(account_id, name)
        candidate, width = stem, 8
        while candidate.casefold() in used:
            candidate = f"{stem}-{_digest(account_id, name, index)[:width]}"
            width += 4
        used.add(candidate.casefold())
        stems[index] = candidate
    return stems


def playbook_links(rendered: Mapping[str, bytes], evaluation: Evaluation) -> dict[str, str]:
    """Account id → relative path of its HTML playbook (for the report), for the playbooks rendered."""
    links: dict[str, str] = {}
    ids, _ = account_ids(evaluation)
    for index, stem in playbook_paths(evaluation).items():
        path = f"playbooks/{stem}.html"
        if path in rendered and ids[index] not in links:
            links[ids[index]] = path
    return links


# ------------------------------------------------------------------------------------ environment

MAX_REPEAT = 100_000  # longest string or list a template may build with '*'


def default_templates_dir() -> Path:
    """The packaged default templates (in a source checkout: `playbooks/` at the repository root)."""
    from .resources import default_dir

    return default_dir("playbooks")


def _autoescape(name: str | None) -> bool:
    """Escape HTML templates only: `x.html.j2`, `x.html`, `x.svg.j2` ... (Markdown stays as written)."""
    if name is None:
        return False
    name = name.lower()
    for suffix in (".j2", ".jinja", ".jinja2"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name.endswith((".html", ".htm", ".xml", ".svg"))


def _sandbox_class():
    from jinja2.exceptions import SecurityError
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class PlaybookSandbox(ImmutableSandboxedEnvironment):
        """Jinja's immutable sandbox, plus: no `**`, and `*` cannot build huge strings or lists."""

        intercepted_binops = frozenset({"*", "**"})

        def getattr(self, obj, attribute):
            # Fast path for the context's own frozen dataclasses and mappings (most lookups of a
            # render): they hold only plain values, so a public field is always safe. Anything else
            # goes through the sandbox's full checks.
            kind = type(obj)
            if kind in _SAFE_RECORDS and attribute[:1] != "_":
                try:
                    return getattr(obj, attribute)
                except AttributeError:
                    pass
            elif kind in _SAFE_MAPPINGS and attribute[:1] != "_" and attribute not in _DICT_METHODS:
                try:
                    return obj[attribute]
                except KeyError:
                    pass
            return super().getattr(obj, attribute)

        def call_binop(self, context, operator, left, right):
            if operator == "**":
                raise SecurityError("the '**' operator is not allowed in playbook templates")
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(times, int) and len(seq) * times > MAX_REPEAT:
                    raise SecurityError(f"'*' would build a sequence longer than {MAX_REPEAT:,}")
            return super().call_binop(context, operator, left, right)

    return PlaybookSandbox


_DICT_METHODS = frozenset(dir(dict))
_SAFE_RECORDS: frozenset = frozenset()
_SAFE_MAPPINGS: frozenset = frozenset()


def _safe_types() -> tuple[frozenset, frozenset]:
    """The context classes of playbooks and report (frozen dataclasses of plain values)."""
    from . import portfolio, report

    records = set()
    for module in (__import__(__name__, fromlist=["_"]), portfolio, report):
        for value in vars(module).values():
            if isinstance(value, type) and dataclasses.is_dataclass(value) and value.__dataclass_params__.frozen:
                records.add(value)
    from jinja2.runtime import LoopContext

    records.add(LoopContext)  # loop.index, loop.last ...: Jinja's own, public attributes only
    return frozenset(records), frozenset({Values, Strings, Texts})


def search_path(playbooks_dir: Path | str | None = None) -> list[Path]:
    """Where templates are looked up, in order: the team's folder, then the packaged defaults."""
    paths = []
    if playbooks_dir is not None:
        paths.append(Path(playbooks_dir))
    paths.append(default_templates_dir())
    return paths


class _MemoryBytecodeCache:
    """Compiled templates kept for the process, keyed by name and source checksum: every environment
    the factory makes shares them, so checking, probing and rendering compile each template once."""

    def __init__(self) -> None:
        from jinja2 import BytecodeCache

        class Cache(BytecodeCache):
            store: dict = {}

            def load_bytecode(self, bucket):
                code = self.store.get((bucket.key, bucket.checksum))
                if code is not None:
                    bucket.code = code

            def dump_bytecode(self, bucket):
                self.store[(bucket.key, bucket.checksum)] = bucket.code

        self.cache = Cache()


_BYTECODE: _MemoryBytecodeCache | None = None


def _bytecode_cache():
    global _BYTECODE
    if _BYTECODE is None:
        _BYTECODE = _MemoryBytecodeCache()
    return _BYTECODE.cache


def make_environment(playbooks_dir: Path | str | None = None, *, pack: RulePack | None = None, lang: str = "en"):
    """The one Jinja environment factory for playbooks and the report (see the module docstring)."""
    from jinja2 import ChoiceLoader, FileSystemLoader, PrefixLoader, StrictUndefined

    paths = search_path(playbooks_dir)
    loader = ChoiceLoader([
        FileSystemLoader([str(p) for p in paths]),
        PrefixLoader({"default": FileSystemLoader(str(paths[-1]))}),  # {% extends "default/playbook.md.j2" %}
    ])
    global _SAFE_RECORDS, _SAFE_MAPPINGS
    if not _SAFE_RECORDS:
        _SAFE_RECORDS, _SAFE_MAPPINGS = _safe_types()
    env = _sandbox_class()(
        loader=loader,
        undefined=StrictUndefined,
        autoescape=_autoescape,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
        bytecode_cache=_bytecode_cache(),
    )
    for unused in ("lipsum", "cycler", "joiner"):  # nothing a playbook needs; less to attack
        env.globals.pop(unused, None)
    env.globals["stack_labels"] = stack_labels
    env.filters.update(make_filters(pack, lang))
    env.playbook_search_path = paths  # for error messages
    return env


def make_filters(pack: RulePack | None, lang: str = "en") -> dict:
    """The kamrules filters (docs/playbooks.md): money, number, pct, date, yesno, label, show, caption,
    text, md, css."""
    fmt = Formatter(pack, lang) if pack is not None else None

    def label(value: Any, name: str = "") -> str:
        if fmt is None:
            return pick(value, lang) if isinstance(value, dict) else (MISSING if _is_missing(value) else str(value))
        return fmt.label(value, name)

    def show(value: Any, name: str = "") -> str:
        return fmt.show(value, name) if fmt is not None else label(value, name)

    def caption(name: str) -> str:
        return fmt.caption(name) if fmt is not None else str(name)

    return {
        "money": lambda value: fmt_money(value, lang),
        "number": lambda value, digits=2: fmt_number(value, digits, lang),
        "pct": lambda value, digits=1: fmt_pct(value, digits, lang),
        "date": lambda value: fmt_date(value, lang),
        "yesno": lambda value: fmt_bool(value, lang),
        "label": label,
        "show": show,
        "caption": caption,
        "text": lambda value: pick(value, lang) if isinstance(value, dict) else ("" if value is None else str(value)),
        "md": md_escape,
        "css": css_string,
    }


def css_string(value: Any):
    """A text as a quoted CSS string (for `content: ...`), safe inside a <style> element."""
    from markupsafe import Markup

    text = "" if _is_missing(value) else str(value)
    escaped = "".join(f"\\{ord(ch):x} " if ch in '\\"<>&\'' or ord(ch) < 0x20 or ord(ch) == 0x7f else ch
                      for ch in text)
    return Markup(f'"{escaped}"')


@lru_cache(maxsize=256)
def _stack_labels(table: str, labels: tuple) -> str:
    return "\n".join(f"table.{table} td:nth-child({n})::before {{ content: {css_string(label)}; }}"
                     for n, label in enumerate(labels, 1))


def stack_labels(table: str, labels: Iterable[str]):
    """CSS giving each cell of `table.TABLE` its column name on phones, where tables become cards:
    `{{ stack_labels("actions", [t.action, t.owner]) }}` inside a `<style>`. Cached: it is the same on
    every page of a language."""
    from markupsafe import Markup

    if not re.fullmatch(r"[A-Za-z][\w-]*", str(table)):
        raise ValueError(f"stack_labels: '{table}' is not a CSS class name")
    return Markup(_stack_labels(str(table), tuple(str(label) for label in labels)))


_MD_TABLE = str.maketrans({ch: "\\" + ch for ch in "\\`*_[]<>|#"})
_MD_SPECIAL = re.compile(r"[\\`*_\[\]<>|#]")


def md_escape(value: Any) -> str:
    """Data text made safe inside Markdown (and its tables): markup characters escaped, one line."""
    if value.__class__ is str:
        text = value
    elif _is_missing(value):
        return MISSING
    else:
        text = str(value)
    if "\n" in text or "\r" in text:
        text = re.sub(r"\s*[\r\n]+\s*", " ", text)
    # Most texts need nothing: a regex search is far quicker than translate() on CJK text.
    return text.translate(_MD_TABLE) if _MD_SPECIAL.search(text) else text


# ------------------------------------------------------------------------------- template checking

_MAX_RANGE = 100_000
_SAFE_FILTERS_ATTRIBUTE_ARGS = {"attr", "map", "selectattr", "rejectattr", "sort", "groupby", "sum", "unique",
                                "min", "max", "dictsort", "batch"}
_SAME_TYPE_FILTERS = {"sort", "list", "reverse", "unique", "selectattr", "rejectattr", "default", "d"}
_ELEMENT_FILTERS = {"first", "last", "random"}
_UNKNOWN = object()  # a value whose type the checker does not know: no attribute checks
_BLOCKED = object()  # an expression already reported as reaching Python internals


def _display_path(path: str | None) -> str:
    if not path:
        return "<template>"
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


_PARSED: dict = {}


def _parse(env, source: str, name: str, filename: str | None):
    """The template's syntax tree, parsed once per process per source text (the checker only reads it)."""
    key = (source, name, filename)
    if key not in _PARSED:
        _PARSED[key] = env.parse(source, name, filename)
    return _PARSED[key]


class _Schema:
    """What the checker knows about the context: top-level names → types, and the keys of mappings."""

    def __init__(self, top: Mapping[str, Any], mapping_keys: Mapping[type, Iterable[str]]):
        self.top = dict(top)
        self.mapping_keys = {k: set(v) for k, v in mapping_keys.items()}
        self._hints: dict[type, dict] = {}

    def hints(self, cls: type) -> dict:
        """The public members of a context class and their types: fields, then (cached) properties."""
        if cls not in self._hints:
            module = vars(__import__(cls.__module__, fromlist=["_"]))
            members = {name: tp for name, tp in typing.get_type_hints(cls, module).items()
                       if not name.startswith("_")}
            for name, value in vars(cls).items():
                function = getattr(value, "func", None) or getattr(value, "fget", None)
                if not name.startswith("_") and isinstance(value, (property, cached_property)) and function:
                    members[name] = typing.get_type_hints(function, module).get("return", _UNKNOWN)
            self._hints[cls] = members
        return self._hints[cls]


def _strip_optional(tp: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0] if len(args) == 1 else _UNKNOWN
    return tp


def _element_type(tp: Any) -> Any:
    tp = _strip_optional(tp)
    origin = typing.get_origin(tp)
    if origin in (tuple, list, typing.Sequence, set, frozenset):
        args = [a for a in typing.get_args(tp) if a is not Ellipsis]
        return args[0] if args else _UNKNOWN
    return _UNKNOWN


def _dotted(node) -> str:
    from jinja2 import nodes

    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        return f"{_dotted(node.node)}.{node.attr}"
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        return f"{_dotted(node.node)}[{node.arg.value!r}]"
    return "the value"


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


class TemplateChecker:
    """Checks templates statically against a context schema: names, attributes, filters, tests,
    templates referenced, and anything reaching Python internals. Collects every problem."""

    def __init__(self, env, schema: _Schema):
        self.env = env
        self.schema = schema
        self.errors: list[str] = []
        self.block_scopes: dict[str, dict] = {}
        self._exports: dict = {}
        self.globals = set(env.globals)

    # -- reporting
    def error(self, node, message: str) -> None:
        line = getattr(node, "lineno", 0) or 0
        self.errors.append(f"{self.display}:{line}: {message}")

    # -- entry
    def check(self, name: str, scope: dict | None = None, *, referrer: tuple | None = None) -> set:
        """Check one template (and those it references); returns the names it defines at top level
        (macros, sets, imports), which templates extending it can use."""
        from jinja2 import TemplateNotFound, TemplateSyntaxError

        key = (name, tuple(sorted((scope or {}).keys())) if scope is not None else None)
        if key in self._exports:
            return self._exports[key]
        self._exports[key] = set()
        try:
            source, filename, _ = self.env.loader.get_source(self.env, name)
        except TemplateNotFound:
            where = " and ".join(_display_path(str(p)) for p in self.env.playbook_search_path)
            parts = name.replace("\\", "/").split("/")
            if ".." in parts or name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
                message = f"template '{name}' is outside the playbooks folders: templates can only use files in {where}"
            else:
                message = f"template '{name}' not found (looked in {where})"
            self.errors.append(f"{referrer[0]}:{referrer[1]}: {message}" if referrer else message)
            return set()
        display = _display_path(filename)
        try:
            tree = _parse(self.env, source, name, filename)
        except TemplateSyntaxError as exc:
            self.errors.append(f"{display}:{exc.lineno}: {exc.message}")
            return set()
        previous = getattr(self, "display", None)
        self.display = display
        top_scope = dict(self.schema.top if scope is None else scope)
        try:
            exported = self.check_tree(tree, top_scope)
        finally:
            self.display = previous
        self._exports[key] = exported
        return exported

    def check_tree(self, tree, scope: dict) -> set:
        from jinja2 import nodes

        # Macros, sets and imports at template level are visible everywhere in the template and in the
        # blocks of templates extending it, wherever they are defined.
        exported: set = set()
        for node in tree.body:
            if isinstance(node, nodes.Macro):
                exported.add(node.name)
            elif isinstance(node, (nodes.Assign, nodes.AssignBlock)) and isinstance(node.target, nodes.Name):
                exported.add(node.target.name)
            elif isinstance(node, nodes.Import):
                exported.add(node.target)
            elif isinstance(node, nodes.FromImport):
                exported.update(item[1] if isinstance(item, tuple) else item for item in node.names)
        for extends in (n for n in tree.body if isinstance(n, nodes.Extends)):
            if isinstance(extends.template, nodes.Const) and isinstance(extends.template.value, str):
                display = self.display
                exported |= self.check(extends.template.value, None, referrer=(display, extends.lineno))
                self.display = display
            else:
                self.expr(extends.template, scope)
        for name in exported:
            scope.setdefault(name, _UNKNOWN)
        self.stmts(tree.body, scope, template_scope=scope)
        return exported

    # -- statements
    def stmts(self, body, scope: dict, template_scope: dict) -> None:
        for node in body:
            self.stmt(node, scope, template_scope)

    def stmt(self, node, scope: dict, template_scope: dict) -> None:
        from jinja2 import nodes

        if isinstance(node, nodes.Output):
            for item in node.nodes:
                if not isinstance(item, nodes.TemplateData):
                    self.expr(item, scope)
        elif isinstance(node, nodes.Extends):
            pass  # handled in check_tree
        elif isinstance(node, nodes.For):
            element = self.element(self.expr(node.iter, scope))
            inner = dict(scope)
            self.bind(node.target, element, inner)
            inner["loop"] = _UNKNOWN
            if node.test is not None:
                self.expr(node.test, inner)
            self.stmts(node.body, inner, template_scope)
            self.stmts(node.else_, dict(scope), template_scope)
        elif isinstance(node, nodes.If):
            self.expr(node.test, scope)
            self.stmts(node.body, scope, template_scope)
            for elif_ in node.elif_:
                self.stmt(elif_, scope, template_scope)
            self.stmts(node.else_, scope, template_scope)
        elif isinstance(node, nodes.Assign):
            value = self.expr(node.node, scope)
            if isinstance(node.target, nodes.NSRef):
                self.name(node.target, node.target.name, scope)
            else:
                self.bind(node.target, value, scope)
        elif isinstance(node, nodes.AssignBlock):
            if node.filter is not None:
                self.filter(node.filter, scope)
            self.stmts(node.body, scope, template_scope)
            self.bind(node.target, str, scope)
        elif isinstance(node, nodes.Block):
            if node.scoped:
                self.block_scopes[node.name] = dict(scope)
                inner = dict(scope)
            else:
                inner = dict(self.block_scopes.get(node.name, template_scope))
            inner.update({k: v for k, v in template_scope.items() if k not in inner})
            inner["super"] = _UNKNOWN
            self.stmts(node.body, inner, template_scope)
        elif isinstance(node, nodes.Macro):
            inner = dict(scope)
            inner.update({"varargs": _UNKNOWN, "kwargs": _UNKNOWN, "caller": _UNKNOWN})
            for default in node.defaults:
                self.expr(default, scope)
            for arg in node.args:
                inner[arg.name] = _UNKNOWN
            scope[node.name] = _UNKNOWN
            self.stmts(node.body, inner, template_scope)
        elif isinstance(node, nodes.CallBlock):
            self.expr(node.call, scope)
            inner = dict(scope)
            for arg in node.args:
                inner[arg.name] = _UNKNOWN
            self.stmts(node.body, inner, template_scope)
        elif isinstance(node, nodes.FilterBlock):
            self.filter(node.filter, scope)
            self.stmts(node.body, scope, template_scope)
        elif isinstance(node, nodes.With):
            inner = dict(scope)
            for target, value in zip(node.targets, node.values):
                self.bind(target, self.expr(value, scope), inner)
            self.stmts(node.body, inner, template_scope)
        elif isinstance(node, nodes.Include):
            self.reference(node, scope if node.with_context else {})
        elif isinstance(node, nodes.Import):
            self.reference(node, scope if node.with_context else {})
            scope[node.target] = _UNKNOWN
        elif isinstance(node, nodes.FromImport):
            self.reference(node, scope if node.with_context else {})
            for item in node.names:
                scope[item[1] if isinstance(item, tuple) else item] = _UNKNOWN
        elif isinstance(node, (nodes.Scope, nodes.OverlayScope, nodes.ScopedEvalContextModifier)):
            self.stmts(node.body, dict(scope), template_scope)
        elif isinstance(node, nodes.EvalContextModifier):
            pass
        else:
            for child in node.iter_child_nodes():
                if isinstance(child, nodes.Stmt):
                    self.stmt(child, scope, template_scope)
                else:
                    self.expr(child, scope)

    def reference(self, node, scope: dict) -> None:
        """Check a template named by include / import / from-import, with the names it will see."""
        from jinja2 import nodes

        template = node.template
        if isinstance(template, nodes.Const) and isinstance(template.value, str):
            names = [template.value]
        elif isinstance(template, (nodes.List, nodes.Tuple)) and all(isinstance(i, nodes.Const) for i in template.items):
            names = [i.value for i in template.items]  # include ["a", "b"]: the first that exists
            for name in names:
                try:
                    self.env.loader.get_source(self.env, name)
                except Exception:
                    continue
                names = [name]
                break
        else:
            self.expr(template, scope)  # a computed name: the loader still confines it to the search path
            return
        display = self.display
        for name in names:
            if getattr(node, "ignore_missing", False):
                try:
                    self.env.loader.get_source(self.env, name)
                except Exception:
                    continue
            self.check(name, dict(scope), referrer=(display, node.lineno))
            self.display = display

    def bind(self, target, value_type: Any, scope: dict) -> None:
        from jinja2 import nodes

        if isinstance(target, nodes.Name):
            scope[target.name] = value_type
        elif isinstance(target, (nodes.Tuple, nodes.List)):
            for item in target.items:
                self.bind(item, _UNKNOWN, scope)

    # -- expressions (each returns the type it can infer, or _UNKNOWN)
    def name(self, node, name: str, scope: dict) -> Any:
        if name in scope:
            return scope[name]
        if name in self.globals or name == "self":
            return _UNKNOWN
        candidates = list(scope) + sorted(self.globals)
        self.error(node, f"'{name}' is not defined{_did_you_mean(name, candidates)}")
        scope[name] = _UNKNOWN  # report each unknown name once per scope
        return _UNKNOWN

    def expr(self, node, scope: dict) -> Any:
        from jinja2 import nodes

        if isinstance(node, nodes.Name):
            return self.name(node, node.name, scope)
        if isinstance(node, nodes.Getattr):
            return self.attribute(node, node.node, node.attr, scope)
        if isinstance(node, nodes.Getitem):
            if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
                return self.attribute(node, node.node, node.arg.value, scope)
            base = self.expr(node.node, scope)
            self.expr(node.arg, scope)
            if isinstance(node.arg, nodes.Slice):
                return base
            return self.element(base)
        if isinstance(node, nodes.Filter):
            return self.filter(node, scope)
        if isinstance(node, nodes.Test):
            self.expr(node.node, scope)
            if node.name not in self.env.tests:
                self.error(node, f"no test named '{node.name}'{_did_you_mean(node.name, self.env.tests)}")
            self.args(node, scope)
            return bool
        if isinstance(node, nodes.Call):
            self.call(node, scope)
            return _UNKNOWN
        if isinstance(node, nodes.Pow):
            self.error(node, "the '**' operator is not allowed in playbook templates")
            return _UNKNOWN
        if isinstance(node, nodes.Const):
            return type(node.value)
        if isinstance(node, nodes.NSRef):
            self.name(node, node.name, scope)
            return _UNKNOWN
        for child in node.iter_child_nodes():
            self.expr(child, scope)
        if isinstance(node, nodes.CondExpr):
            return _UNKNOWN
        return _UNKNOWN

    def args(self, node, scope: dict) -> None:
        for arg in node.args:
            self.expr(arg, scope)
        for kwarg in node.kwargs:
            self.expr(kwarg.value, scope)
        for dyn in (node.dyn_args, node.dyn_kwargs):
            if dyn is not None:
                self.expr(dyn, scope)

    def filter(self, node, scope: dict) -> Any:
        from jinja2 import nodes

        base = self.expr(node.node, scope) if node.node is not None else _UNKNOWN
        if node.name not in self.env.filters:
            self.error(node, f"no filter named '{node.name}'{_did_you_mean(node.name, self.env.filters)}")
        if node.name in _SAFE_FILTERS_ATTRIBUTE_ARGS:
            for arg in [*node.args, *(k.value for k in node.kwargs)]:
                if isinstance(arg, nodes.Const) and isinstance(arg.value, str) and any(
                        part.startswith("_") for part in arg.value.split(".")):
                    self.internal(node, arg.value)
        self.args(node, scope)
        if node.name in _SAME_TYPE_FILTERS:
            return base
        if node.name in _ELEMENT_FILTERS:
            return self.element(base)
        return _UNKNOWN

    def call(self, node, scope: dict) -> None:
        from jinja2 import nodes

        self.expr(node.node, scope)
        self.args(node, scope)
        if isinstance(node.node, nodes.Name) and node.node.name == "range":
            numbers = [a.value for a in node.args if isinstance(a, nodes.Const) and isinstance(a.value, int)]
            if len(numbers) == len(node.args) and numbers:
                try:
                    size = len(range(*numbers))
                except (TypeError, ValueError):
                    size = 0
                if size > _MAX_RANGE:
                    self.error(node, f"range() of {size:,} items is too big for a template (at most {_MAX_RANGE:,})")

    def internal(self, node, attr: str) -> None:
        self.error(node, f"'{attr}' is not allowed: templates cannot reach Python internals "
                         f"(names starting with '_')")

    def attribute(self, node, base_node, attr: str, scope: dict) -> Any:
        base = self.expr(base_node, scope)
        if base is _BLOCKED:
            return _BLOCKED  # already reported: one message for ''.__class__.__mro__
        if attr.startswith("_"):
            self.internal(node, attr)
            return _BLOCKED
        return self.member(node, base_node, _strip_optional(base), attr)

    def member(self, node, base_node, base: Any, attr: str) -> Any:
        if base is _UNKNOWN or base is _BLOCKED or base is None:
            return _UNKNOWN
        if isinstance(base, type) and dataclasses.is_dataclass(base):
            hints = self.schema.hints(base)
            if attr in hints:
                return hints[attr]
            self.error(node, f"'{_dotted(base_node)}' has no attribute '{attr}'{_did_you_mean(attr, hints)}"
                             f" ({_type_name(base)} has: {', '.join(hints)})")
            return _UNKNOWN
        if isinstance(base, type) and base in self.schema.mapping_keys:
            keys = self.schema.mapping_keys[base]
            if attr in keys:
                return _UNKNOWN if base is not Strings else str
            if attr in ("get", "items", "keys", "values"):
                return _UNKNOWN
            if attr in _DICT_METHODS:
                self.error(node, f"'{_dotted(base_node)}.{attr}' would change the context: templates can only read it")
                return _UNKNOWN
            self.error(node, f"'{_dotted(base_node)}' has no entry '{attr}'{_did_you_mean(attr, keys)}")
            return _UNKNOWN
        return _UNKNOWN

    def element(self, tp: Any) -> Any:
        if tp is _UNKNOWN or tp is _BLOCKED:
            return _UNKNOWN
        return _element_type(tp)


def _did_you_mean(name: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def playbook_schema(pack: RulePack) -> _Schema:
    hints = typing.get_type_hints(PlaybookContext)
    return _Schema(hints, {Values: known_names(pack), Texts: known_names(pack), Strings: UI["en"].keys()})


def check_templates(pack: RulePack, *, playbooks_dir: Path | str | None = None, lang: str = "en",
                    report: bool = True) -> None:
    """Check every playbook template (and the report template) before anything is rendered.

    Raises `TemplateError` listing every problem as `file:line: message`: syntax errors, unknown names
    and attributes (with a did-you-mean), unknown filters and tests, missing templates, access to
    Python internals. Then renders each template once against a probe account, full and empty, so a
    runtime error shows up now rather than at account 300.
    """
    env = make_environment(playbooks_dir, pack=pack, lang=lang)
    checker = TemplateChecker(env, playbook_schema(pack))
    for name in PLAYBOOK_TEMPLATES:
        checker.check(name)
    if report:
        from .report import report_schema

        report_checker = TemplateChecker(env, report_schema(pack))
        report_checker.check(REPORT_TEMPLATE)
        checker.errors += report_checker.errors
    if checker.errors:
        raise TemplateError("\n".join(dict.fromkeys(checker.errors)))
    probe = probe_evaluation(pack)
    for probe_lang in dict.fromkeys([lang, *LANGS]):
        Renderer(probe, lang=probe_lang, playbooks_dir=playbooks_dir, checked=True, probe=True).render_all("all")
        if report:
            from .portfolio import summarise
            from .report import render_report

            render_report(probe, summarise(probe, lang=probe_lang), lang=probe_lang, playbook_links={},
                          playbooks_dir=playbooks_dir, checked=True, probe=True)


def probe_evaluation(pack: RulePack, as_of: dt.date = dt.date(2026, 1, 1)) -> Evaluation:
    """Two made-up accounts: one with a value for every name and every rule firing, one with nothing."""
    from .results import Hit

    def sample(name: str) -> Any:
        spec = pack.fields.get(name)
        vtype = spec.type if spec else None
        if name in pack.features and pack.features[name].function == "band":
            return pack.features[name].values[0] if pack.features[name].values else "x"
        if vtype == "date":
            return as_of - dt.timedelta(days=30)
        if vtype == "boolean":
            return True
        if vtype == "category":
            return spec.values[0] if spec.values else "x"
        if vtype == "string":
            return f"{name} <&> | *x*"
        return 0.5

    full_facts = {n: sample(n) for n in list(pack.fields) + [d.name for d in pack.derived]}
    full_facts["account_id"] = "PROBE-1"
    empty_facts = {n: None for n in full_facts}
    empty_facts["account_id"] = "PROBE-2"
    full = AccountResult(0, 2, "PROBE-1", full_facts.get("account_name"), full_facts)
    empty = AccountResult(1, 3, "PROBE-2", None, empty_facts)
    for decision in pack.decisions:
        because = {"en": "probe <reason>", "zh": "探测 <原因>"}
        if decision.hit == "collect":
            outputs = {n: [r.then.get(n) for r in decision.rules] for n in decision.outputs}
            hits = tuple(Hit(rule=r.id, outputs=dict(r.then), reads={n: full_facts.get(n) for n in sorted(r.reads)},
                             source=r.source, template=because) for r in decision.rules)
            full.decisions[decision.id] = DecisionResult(decision.id, outputs, hits)
            empty.decisions[decision.id] = DecisionResult(decision.id, {n: [] for n in decision.outputs}, ())
            full.facts[decision.count_name] = len(decision.rules)
            empty.facts[decision.count_name] = 0
            continue
        rule = decision.rules[0] if decision.rules else None
        outputs = dict(rule.then) if rule else {n: None for n in decision.outputs}
        hits = (Hit(rule=rule.id, outputs=dict(rule.then), reads={n: full_facts.get(n) for n in sorted(rule.reads)},
                    source=rule.source, template=because),) if rule else ()
        full.decisions[decision.id] = DecisionResult(decision.id, outputs, hits)
        empty.decisions[decision.id] = DecisionResult(decision.id, {n: None for n in decision.outputs}, ())
    return Evaluation(pack=pack, accounts=[full, empty], as_of=as_of, input_name="probe.csv")


# ---------------------------------------------------------------------------------------- rendering


def _template_error(exc: BaseException, what: str) -> TemplateError:
    """A rendering error as `file:line: message (what)`, located from the template's traceback."""
    place = ""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename and frame.filename.endswith((".j2", ".jinja", ".jinja2", ".html", ".md", ".css")):
            place = f"{_display_path(frame.filename)}:{frame.lineno}: "
            break
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return TemplateError(f"{place}{message} ({what})")


class Renderer:
    """Renders the playbooks of one evaluation in one language (templates compiled once)."""

    def __init__(self, evaluation: Evaluation, *, lang: str = "en", playbooks_dir: Path | str | None = None,
                 checked: bool = False, probe: bool = False):
        from jinja2 import TemplateError as JinjaError

        if lang not in UI:
            raise UsageError(f"--lang '{lang}' is not one of: {', '.join(UI)}")
        self.evaluation = evaluation
        self.probe = probe
        self.builder = ContextBuilder(evaluation, lang)
        self.env = make_environment(playbooks_dir, pack=evaluation.pack, lang=lang)
        if not checked:
            checker = TemplateChecker(self.env, playbook_schema(evaluation.pack))
            for name in PLAYBOOK_TEMPLATES:
                checker.check(name)
            if checker.errors:
                raise TemplateError("\n".join(dict.fromkeys(checker.errors)))
        self.extensions = {name: name[: -len(".j2")].rsplit(".", 1)[-1] for name in PLAYBOOK_TEMPLATES}
        try:
            self.templates = {name: self.env.get_template(name) for name in PLAYBOOK_TEMPLATES}
        except JinjaError as exc:
            raise _template_error(exc, "while compiling the playbook templates") from None

    def render(self, account: AccountResult) -> dict[str, bytes]:
        """`{"playbooks/<stem>.md": ..., "playbooks/<stem>.html": ...}` for one account."""
        context = self.builder.build(account)
        names = context_vars(context)
        files = {}
        stem = context.account.file
        for name, template in self.templates.items():
            try:
                text = template.render(names)
            except Exception as exc:  # any failure inside a user template is a template problem
                what = (f"{name} with a sample account, before rendering any playbook" if self.probe else
                        f"rendering the playbook of account '{account.account_id}' (row {account.row})")
                raise _template_error(exc, what) from None
            files[f"playbooks/{stem}.{self.extensions[name]}"] = text.encode("utf-8")
        return files

    def render_all(self, selection: str) -> dict[str, bytes]:
        files: dict[str, bytes] = {}
        accounts = self.evaluation.accounts
        for index in selected_indexes(self.evaluation, selection):
            files.update(self.render(accounts[index]))  # each account is built when needed, not kept
        return files


def selected_indexes(evaluation: Evaluation, selection: str = "key+potential") -> list[int]:
    """The positions of the accounts that get a playbook: key | key+potential | all | none, by `tier`."""
    if selection not in SELECTIONS:
        raise UsageError(f"--playbooks '{selection}' is not one of: {', '.join(SELECTIONS)}")
    tiers = SELECTIONS[selection]
    if tiers is None:
        return list(range(len(evaluation.accounts)))
    if not tiers:
        return []
    if evaluation.pack.output(TIER) is None:
        log.warning("the rule pack has no 'tier' output: --playbooks %s selects no account (use --playbooks all)",
                    selection)
        return []
    return [i for i, tier in enumerate(column_values(evaluation, TIER)) if tier in tiers]


def select_accounts(evaluation: Evaluation, selection: str = "key+potential") -> list[AccountResult]:
    """The accounts that get a playbook (see `selected_indexes`)."""
    return [evaluation.accounts[i] for i in selected_indexes(evaluation, selection)]


def render_playbooks(evaluation: Evaluation, *, selection: str = "key+potential", lang: str = "en",
                     playbooks_dir: Path | str | None = None) -> dict[str, bytes]:
    """Render the Markdown and HTML playbooks of the selected accounts.

    Returns relative paths (`playbooks/<stem>.md`, `playbooks/<stem>.html`) → UTF-8 bytes, in input
    order. Templates are checked first; any problem raises `TemplateError` before anything renders.
    """
    if selection not in SELECTIONS:
        raise UsageError(f"--playbooks '{selection}' is not one of: {', '.join(SELECTIONS)}")
    if not selected_indexes(evaluation, selection):
        return {}
    return Renderer(evaluation, lang=lang, playbooks_dir=playbooks_dir).render_all(selection)
