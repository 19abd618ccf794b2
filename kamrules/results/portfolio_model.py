"""The portfolio summary's model: what `portfolio.summarise` returns, texts in every language, numbers
raw, and its plain summary lines (`Portfolio.lines`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kamrules.i18n import fmt_money, fmt_pct
from kamrules.results.portfolio_advice import RISK_WORDS
from kamrules.results.portfolio_regions import RegionRow
from kamrules.results.portfolio_team import Losses, NamedAccount

Text = dict  # {"en": ..., "zh": ...}


@dataclass(frozen=True)
class Count:
    """How many accounts have one value of an output, and their sales."""

    value: Any  # e.g. "key"; None for accounts without a value
    label: Text
    accounts: int
    account_share: float  # of all accounts
    sales: float
    sales_share: float | None  # of total sales (None when total sales are not positive)


@dataclass(frozen=True)
class Breakdown:
    """The accounts counted by the values of one output, in the pack's value order."""

    name: str  # the output name, e.g. "tier"
    title: Text
    counts: tuple[Count, ...]


@dataclass(frozen=True)
class CurvePoint:
    """One account on the Pareto curve (accounts sorted by sales, largest first)."""

    rank: int  # 1 = largest sales
    index: int  # position in the input
    account_id: str
    account_name: str | None
    sales: float
    account_share: float  # rank / number of accounts
    cum_sales_share: float  # share of total sales held by this account and all larger ones
    tier: Any
    key: bool


@dataclass(frozen=True)
class ParetoSplit:
    """The smallest share of accounts that makes at least `target` of sales, as measured."""

    target: float  # 0.8
    accounts: int  # how many accounts that takes
    account_share: float  # accounts / all accounts
    sales_share: float  # the cumulative share of sales they actually make (≥ target)
    text: Text


@dataclass(frozen=True)
class KeyAccountBand:
    """The number of key accounts against what a company can really manage."""

    key_accounts: int
    manageable_min: float | None  # None when the pack lacks the param (that advice is left out)
    manageable_max: float | None
    warn_strong: float | None
    department_threshold: float | None
    status: str  # "below" | "within" | "above" | "far_above" | "unknown"
    department: bool  # more than the threshold: a dedicated key account department
    managers_min: float | None  # key-account workload in full-time equivalents (low end)
    managers_max: float | None  # … (high end)
    advice: tuple[Text, ...]


@dataclass(frozen=True)
class RiskSignal:
    value: Any
    label: Text
    cause: Any
    cause_label: Text
    because: Text


@dataclass(frozen=True)
class RiskAccount:
    """An account at risk or critical, with the signals behind it."""

    index: int
    account_id: str
    account_name: str | None
    tier: Any
    tier_label: Text
    risk_level: Any
    risk_label: Text
    sales: float | None
    signals: tuple[RiskSignal, ...]
    stake: float | None = None  # sales at stake (the pack's stake base × share at stake; else sales)


@dataclass(frozen=True)
class UnusedRule:
    """A rule that cannot fire because the data lacks what it reads."""

    decision: str
    rule: str
    missing: tuple[str, ...]
    missing_labels: tuple[Text, ...]


@dataclass(frozen=True)
class Portfolio:
    """The portfolio summary; texts in every language, numbers raw (format them for display)."""

    lang: str
    accounts: int
    total_sales: float
    breakdowns: tuple[Breakdown, ...]
    key_accounts: int | None  # None when the pack has no `tier` output
    key_sales: float | None
    key_sales_share: float | None
    pareto: ParetoSplit | None  # None when total sales are not positive
    curve: tuple[CurvePoint, ...]  # one point per account; above 2,000, the largest 500 and a sample
    band: KeyAccountBand | None
    regions: tuple[RegionRow, ...]
    accounts_without_region: int
    risks: tuple[RiskAccount, ...]  # the first RISKS_LISTED_MAX, by sales at stake, then critical first
    rules_without_data: tuple[UnusedRule, ...]
    advice: tuple[Text, ...]  # the portfolio advice: key account band, organisation, regions, risks
    has_region: bool = False
    risks_total: int = 0  # all accounts at risk or critical (`risks` details the first ones)
    params: dict = field(default_factory=dict)
    # False when the data has none of the fields the risk signals read: "not assessed", never "no risk";
    # None when the pack has no risk signals
    risk_assessed: bool | None = None
    # why it was not assessed ("the file lacks …"), in every language; None when it was assessed
    risk_not_assessed: Text | None = None
    # accounts whose own row has no risk data (risk level `not_assessed`), even when the file has the columns
    risk_not_assessed_accounts: int = 0
    risk_not_assessed_accounts_text: Text | None = None  # said when some rows (not the file) lack risk data
    risk_words: dict = field(default_factory=lambda: dict(RISK_WORDS))  # lang -> (at risk, critical)
    key_capacity: float | None = None  # the pack's key-account capacity (role key_capacity)
    waiting: tuple[NamedAccount, ...] = ()  # accounts waiting for a key account manager, largest first
    waiting_total: int = 0
    waiting_sales: float = 0.0
    beyond_pipeline: int = 0  # qualifying accounts beyond the key-account capacity and the pipeline
    consumer_book: bool = False  # the pack's consumer_book: a VIP programme, no key account department
    index_basis: Text | None = None  # "the index rests on 1 of 6 criteria", when too few to compute it
    losses: Losses | None = None  # customers lost or lapsed
    at_risk_total: int = 0  # accounts at risk or critical (risks_total also counts lost and lapsed)

    def text(self, value: Text | str | None, lang: str | None = None) -> str:
        """One language of a text of this summary."""
        lang = lang or self.lang
        if value is None:
            return ""
        if isinstance(value, dict):
            return str(value.get(lang) or value.get("en") or next(iter(value.values()), ""))
        return str(value)

    def lines(self, lang: str | None = None) -> list[str]:
        """Plain summary lines for a console (the CLI prints them, e.g. as a rich table)."""
        lang = lang or self.lang
        zh = lang == "zh"
        out = [
            (f"客户数：{self.accounts} · 销售总额：{fmt_money(self.total_sales, lang, wan=False)}" if zh
             else f"Accounts: {self.accounts} · total sales: {fmt_money(self.total_sales, lang)}"),
        ]
        if self.key_accounts is not None:
            share = fmt_pct(self.key_accounts / self.accounts, lang=lang) if self.accounts else "—"
            sales = fmt_pct(self.key_sales_share, lang=lang)
            out.append(f"重点客户：{self.key_accounts} 个（占客户 {share}），贡献 {sales} 的销售额" if zh
                       else f"Key accounts: {self.key_accounts} ({share} of accounts), {sales} of sales")
        if self.pareto is not None:
            out.append(("二八分布：" if zh else "Pareto split: ") + self.text(self.pareto.text, lang))
        for breakdown in self.breakdowns:
            parts = [f"{self.text(c.label, lang)} {c.accounts}" for c in breakdown.counts]
            out.append(f"{self.text(breakdown.title, lang)}{'：' if zh else ': '}{' · '.join(parts)}")
        for advice in self.advice:
            out.append(self.text(advice, lang))
        if self.at_risk_total:
            at_risk, critical = self.risk_words.get(lang, RISK_WORDS["en"])
            out.append(f"{at_risk}或{critical}的客户：{self.at_risk_total} 个" if zh
                       else f"Accounts {at_risk} or {critical}: {self.at_risk_total}")
        if self.risk_assessed and self.risk_not_assessed_accounts:
            out.append(self.text(self.risk_not_assessed_accounts_text, lang))
        return out + self._unused_lines(zh)

    def _unused_lines(self, zh: bool) -> list[str]:
        """One line for the columns the whole file lacks and the rules they keep from applying (a thin export
        lacks some twenty: the details are in the report and `kamrules validate --data`)."""
        text = absent_columns_text(self.rules_without_data)
        return [self.text(text, "zh" if zh else "en")] if text else []


def missing_columns(unused: tuple) -> list[tuple[str, Text, list[str]]]:
    """(field, its label, the rules it keeps from applying as 'decision → rule') per field the file
    lacks, the field keeping most rules out first."""
    found: dict[str, tuple[Text, list[str]]] = {}
    for rule in unused:
        for name, label in zip(rule.missing, rule.missing_labels):
            found.setdefault(name, (label, []))[1].append(f"{rule.decision} → {rule.rule}")
    return sorted(((name, label, rules) for name, (label, rules) in found.items()), key=lambda x: (-len(x[2]), x[0]))


def absent_columns_text(unused: tuple) -> Text | None:
    """The console's one line for every column the whole file lacks: "This file has no column for 19 fields
    the rules read (Gross profit, Share of wallet, …): 62 rules cannot apply; the details: …"."""
    fields = missing_columns(unused)
    if not fields:
        return None
    n, rules = len(fields), len(unused)
    en = ", ".join(label.get("en") or name for name, label, _ in fields)
    zh = "、".join(label.get("zh") or label.get("en") or name for name, label, _ in fields)
    return {
        "en": f"This file has no column for {n} field{'s' if n != 1 else ''} the rules read ({en}): {rules} "
              f"rule{'s' if rules != 1 else ''} cannot apply; details in the report (rules that could not apply) "
              f"and kamrules validate --data",
        "zh": f"文件中没有规则所需的 {n} 个字段的列（{zh}）：{rules} 条规则无法适用；详见报告（因缺少数据而无法适用的规则）"
              f"和 kamrules validate --data",
    }


def missing_column_texts(unused: tuple, listed: int = 3) -> list[Text]:
    """The portfolio message of each column the whole file lacks, in every language: "This file has no
    Gross profit column (gross_profit): 21 rules cannot apply (abc → profit_a, …)"."""
    texts = []
    for name, label, rules in missing_columns(unused):
        shown = ", ".join(rules[:listed])
        more_en = f" and {len(rules) - listed} more" if len(rules) > listed else ""
        more_zh = f" 等（另有 {len(rules) - listed} 条）" if len(rules) > listed else ""
        en, zh = label.get("en") or name, label.get("zh") or label.get("en") or name
        texts.append({
            "en": f"This file has no {en} column ({name}): {len(rules)} rule{'s' if len(rules) != 1 else ''} "
                  f"cannot apply ({shown}{more_en})",
            "zh": f"文件中没有「{zh}」列（{name}）：{len(rules)} 条规则无法适用（{shown}{more_zh}）",
        })
    return texts
