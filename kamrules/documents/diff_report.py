"""`OUT/diff.html`: what changed between two sets of decisions, as one self-contained page.

`render_diff(result, lang=...)` renders `diff.html.j2` (the team's playbooks folder first, then the
packaged default) with a `DiffContext`: the totals before and after, per decision a from→to migration
matrix drawn as an inline SVG grid (circle area = accounts), the changed accounts, new and resolved
risks, key accounts to review before demotion, and accounts that appeared or disappeared.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from kamrules.documents import guards
from kamrules.documents.environment import make_environment, template_error
from kamrules.errors import UsageError
from kamrules.i18n import DIFF, SINCE_WORDS, fmt_date, fmt_money, fmt_pct
from kamrules.results.diff import Change, DiffResult, Gone, headline_text
from kamrules.documents.since import RetireRow

DIFF_TEMPLATE = "diff.html.j2"
CELL, HEAD_W, HEAD_H = 64, 240, 120  # matrix chart geometry (SVG user units)

MAX_ROWS = 200  # changed accounts listed per decision on the page (diff.csv has them all)


@dataclass(frozen=True)
class TotalRow:
    label: str
    before: str
    after: str
    change: str


@dataclass(frozen=True)
class MatrixCell:
    x: float
    y: float
    r: float
    text: str
    moved: bool  # off the diagonal


@dataclass(frozen=True)
class MatrixChart:
    width: int
    height: int
    rows: tuple  # (y, label)
    columns: tuple  # (x, label)
    cells: tuple  # MatrixCell


@dataclass(frozen=True)
class ChangeRow:
    account_id: str
    name: str
    owner: str
    sales: str
    before: str
    after: str
    rule_before: str
    rule_after: str
    outputs: str


@dataclass(frozen=True)
class GoneRow:
    """An account gone since the earlier run, as it was then (labels in the page's language)."""

    account_id: str
    name: str
    owner: str
    tier: str
    sales: str
    risk_level: str


@dataclass(frozen=True)
class DecisionView:
    id: str
    title: str
    changed: int
    chart: Any  # MatrixChart or None
    changes: tuple  # ChangeRow
    hidden: int  # changes not listed on the page


@dataclass(frozen=True)
class DiffContext:
    lang: str
    t: dict
    before: str
    after: str
    totals: tuple  # TotalRow
    decisions: tuple  # DecisionView with changes
    unchanged: tuple  # titles of decisions without changes
    newly_at_risk: tuple  # ChangeRow
    risks_resolved: tuple
    review_before_demotion: tuple
    appeared: tuple  # account ids
    disappeared: tuple
    sales_changes: tuple  # ChangeRow (before/after = sales)
    # How many accounts each flag list holds (the lists above show the first MAX_ROWS: the rest are in
    # diff.csv; 30,000 accounts newly at risk made a 40 MB page and half a minute of rendering).
    flagged: dict = None
    headline: str = ""  # key accounts then and now, key accounts lost, the gone accounts' sales
    risks_improved: tuple = ()  # ChangeRow: at risk or graver then, watched or less grave now
    gone: tuple = ()  # GoneRow, the first MAX_ROWS by sales then (flagged["gone"] counts them all)
    retire: tuple = ()  # RetireRow: the later run's overrides the rules now agree with (the first MAX_ROWS)
    lost: tuple = ()  # SinceLine: lost since the earlier run (then: sales then; now: risk level)
    lost_known: tuple = ()  # SinceLine: lost then and still now
    held: tuple = ()  # SinceLine: key now, held for a review before demotion


def _short(text: str, limit: int = 24) -> str:
    """An axis label that fits the chart's margin (the tables below carry the full text)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Builder:
    def __init__(self, result: DiffResult, lang: str):
        self.result, self.lang, self.pack = result, lang, result.pack

    def label(self, name: str, value: Any) -> str:
        if value is None:
            return "—"
        if self.pack is not None:
            return self.pack.label(name, value, self.lang) or str(value)
        return str(value)

    def label_name(self, name: str) -> str:
        return self.pack.name_label(name, self.lang) if self.pack is not None else name

    def money(self, value: Any) -> str:
        return "—" if value is None else fmt_money(value, self.lang, wan=False)  # as every document writes amounts

    def row(self, change: Change, output: str) -> ChangeRow:
        output = output if output in change.outputs or not change.outputs else change.outputs[0]
        sales = change.sales_after if change.sales_after is not None else change.sales_before
        return ChangeRow(change.account_id, str(change.account_name or ""), str(change.owner or ""),
                         self.money(sales), self.label(output, change.before), self.label(output, change.after),
                         str(change.rule_before or "—"), str(change.rule_after or "—"), ", ".join(change.outputs))

    def gone(self, gone: Gone) -> GoneRow:
        result = self.result
        return GoneRow(gone.account_id, str(gone.account_name or ""), str(gone.owner or ""),
                       self.label(result.tier_output or "tier", gone.tier), self.money(gone.sales),
                       self.label(result.risk_output or "risk_level", gone.risk_level))

    def losses_and_held(self) -> dict:
        """The lost customers (their sales then, their risk level now), those lost already at the last
        review, and the key accounts held now, as "since the last review" lines (the first MAX_ROWS)."""
        from kamrules.documents.since import SinceLine

        result, risk = self.result, self.result.risk_output or "risk_level"
        lost_label = self.label(risk, "lost") if result.risk_output else "—"
        held = self.label(result.tier_output or "tier", "key")
        return {"lost": tuple(SinceLine(x.account_id, str(x.account_name or x.account_id), self.money(x.sales),
                                        lost_label) for x in result.lost[:MAX_ROWS]),
                "lost_known": tuple(SinceLine(a, str(n or a), lost_label, lost_label)
                                    for a, n in result.lost_known[:MAX_ROWS]),
                "held": tuple(SinceLine(a, str(n or a), held, self.label("tier_basis", "held"))
                              for a, n in result.held[:MAX_ROWS])}

    def retire(self, item) -> RetireRow:
        return RetireRow(item.account_id, str(item.account_name or ""), self.label_name(item.output),
                         self.label(item.output, item.value) if not isinstance(item.value, bool) else
                         ("是" if item.value else "否") if self.lang == "zh" else ("yes" if item.value else "no"),
                         item.owner, item.reason, item.expires)

    def chart(self, diff) -> MatrixChart | None:
        if not diff.matrix:
            return None
        before = sorted({m.before for m in diff.matrix}, key=lambda v: (v is None, str(v)))
        after = sorted({m.after for m in diff.matrix}, key=lambda v: (v is None, str(v)))
        biggest = max(m.accounts for m in diff.matrix)
        cells = []
        for m in diff.matrix:
            x = HEAD_W + (after.index(m.after) + 0.5) * CELL
            y = HEAD_H + (before.index(m.before) + 0.5) * CELL
            radius = round(4 + (CELL / 2 - 6) * math.sqrt(m.accounts / biggest), 2)
            cells.append(MatrixCell(round(x, 2), round(y, 2), radius, f"{m.accounts:,}", m.before != m.after))
        return MatrixChart(HEAD_W + CELL * len(after) + 10, HEAD_H + CELL * len(before) + 10,
                           tuple((HEAD_H + (i + 0.5) * CELL, _short(self.label(diff.output, v))) for i, v in enumerate(before)),
                           tuple((HEAD_W + (i + 0.5) * CELL, _short(self.label(diff.output, v))) for i, v in enumerate(after)),
                           tuple(cells))

    def total(self, total) -> TotalRow:
        t = DIFF[self.lang]
        names = {"accounts": "total_accounts", "sales": "total_sales"}
        label = t[names.get(total.name, total.name)]
        if total.name == "key_sales_share":
            show = lambda v: "—" if v is None else fmt_pct(v, 1, self.lang)  # noqa: E731
            delta = None if None in (total.before, total.after) else (total.after - total.before) * 100
            change = "—" if delta is None else f"{delta:+.1f} pt"
        elif total.name == "sales":
            show = self.money
            change = "—" if None in (total.before, total.after) else self.money(total.after - total.before)
        else:
            show = lambda v: "—" if v is None else f"{v:,}"  # noqa: E731
            change = "—" if None in (total.before, total.after) else f"{total.after - total.before:+,}"
        return TotalRow(label, show(total.before), show(total.after), change)

    def build(self) -> DiffContext:
        result, t = self.result, DIFF[self.lang]
        views, unchanged = [], []
        for diff in result.decisions:
            if not diff.changed:
                unchanged.append(diff.title)
                continue
            rows = tuple(self.row(c, diff.output) for c in diff.changes[:MAX_ROWS])
            views.append(DecisionView(diff.decision, diff.title, diff.changed, self.chart(diff), rows,
                                      max(0, diff.changed - MAX_ROWS)))
        risk, tier = result.risk_output or "", result.tier_output or ""
        sales = tuple(ChangeRow(i, str(n or ""), "", self.money((a or 0.0) - (b or 0.0)), self.money(b), self.money(a),
                                "", "", "") for i, n, b, a in result.sales_changes[:20])
        lost = {x.account_id for x in result.lost}  # listed as lost, not again as newly at risk
        newly = [c for c in result.newly_at_risk if c.account_id not in lost]
        flagged = {"newly_at_risk": len(newly), "risks_resolved": len(result.risks_resolved),
                   "risks_improved": len(result.risks_improved),
                   "review_before_demotion": len(result.review_before_demotion), "gone": len(result.gone),
                   "lost": len(result.lost), "lost_known": len(result.lost_known), "held": len(result.held)}
        return DiffContext(
            self.lang, t, result.before, result.after, tuple(self.total(x) for x in result.totals), tuple(views),
            tuple(unchanged), tuple(self.row(c, risk) for c in newly[:MAX_ROWS]),
            tuple(self.row(c, risk) for c in result.risks_resolved[:MAX_ROWS]),
            tuple(self.row(c, tier) for c in result.review_before_demotion[:MAX_ROWS]),
            tuple(result.appeared), tuple(result.disappeared), sales, flagged,
            headline_text(result.headline, self.lang),
            tuple(self.row(c, risk) for c in result.risks_improved[:MAX_ROWS]),
            tuple(self.gone(g) for g in result.gone[:MAX_ROWS]), tuple(self.retire(r) for r in result.retire[:MAX_ROWS]),
            **self.losses_and_held())


def build_diff_context(result: DiffResult, *, lang: str = "en") -> DiffContext:
    if lang not in DIFF:
        raise UsageError(f"--lang '{lang}' is not one of: {', '.join(DIFF)}")
    return _Builder(result, lang).build()


def render_diff(result: DiffResult, *, lang: str = "en", playbooks_dir: Path | str | None = None) -> bytes:
    """`diff.html` as UTF-8 bytes (same inputs, same bytes)."""
    from jinja2 import TemplateError as JinjaError

    context = build_diff_context(result, lang=lang)
    env = make_environment(playbooks_dir, pack=result.pack, lang=lang)
    accounts = next((t for t in result.totals if t.name == "accounts"), None)  # it lists accounts
    guards.budget_for_portfolio(env, max(int(accounts.before or 0), int(accounts.after or 0)) if accounts else 0)
    try:
        template = env.get_template(DIFF_TEMPLATE)
        return template.render({name: getattr(context, name) for name in context.__dataclass_fields__}).encode("utf-8")
    except (JinjaError, Exception) as exc:  # any failure inside a user template is a template problem
        raise template_error(exc, "rendering diff.html") from None


# ------------------------------------------------------------------- evaluate --previous (since.py)

FACT_ROLES = ("tier", "risk_level", "relationship", "service_level", "sales")


def since_views(before, after, result: DiffResult, lang: str = "en") -> tuple:
    """(SinceLastReview for the report, {account id: AccountSince} for the playbooks) of a compared run.

    `before` is the previous run (results.diff.read_run), `after` the run being made."""
    from kamrules.documents.since import (AccountSince, SinceFact, SinceGone, SinceLastReview, SinceLine,
                                          SinceWords)

    if lang not in SINCE_WORDS:
        raise UsageError(f"--lang '{lang}' is not one of: {', '.join(SINCE_WORDS)}")
    builder = _Builder(result, lang)
    words = SinceWords(**SINCE_WORDS[lang])
    as_of = before.manifest.get("as_of")
    previous = f"{_run_date(as_of, lang)}{'，' if lang == 'zh' else ', '}{before.label}" if as_of else before.label

    def show(role: str, value: Any) -> str:
        if role == "sales":
            return builder.money(None if value is None or value != value else float(value))
        return builder.label(after.roles.get(role, role), None if value is None or value != value else value)

    def line(change: Change, role: str) -> SinceLine:
        return SinceLine(change.account_id, str(change.account_name or change.account_id),
                         show(role, change.before), show(role, change.after))

    tier_name = after.roles.get("tier")

    def tier_line(change: Change) -> SinceLine:
        """A tier change by its labels; a change of the tier decision's other outputs only (the tier basis)
        as "Key account · Pareto / ABC" then and now, the tier being the same."""
        if change.output in (None, tier_name) or tier_name is None:
            return line(change, "tier")
        tier = show("tier", _plain(after.frame.at[change.account_id, tier_name]))
        return SinceLine(change.account_id, str(change.account_name or change.account_id),
                         f"{tier} · {builder.label(change.output, change.before)}",
                         f"{tier} · {builder.label(change.output, change.after)}")

    tier = next((d for d in result.decisions if d.output == result.tier_output), None)
    lists = {"migrations": ([c for c in (tier.changes if tier else []) if c.before != c.after], tier_line),
             "new_risks": ([c for c in result.newly_at_risk if c.account_id not in {x.account_id for x in result.lost}],
                           None), "resolved_risks": (result.risks_resolved, None),
             "improved_risks": (result.risks_improved, None),
             "review_before_demotion": (result.review_before_demotion, None)}
    roles = {"migrations": "tier", "review_before_demotion": "tier"}
    shown = {name: tuple((make(c) if make else line(c, roles.get(name, "risk_level"))) for c in changes[:MAX_ROWS])
             for name, (changes, make) in lists.items()}
    gone = tuple(SinceGone(g.account_id, str(g.account_name or g.account_id), show("tier", g.tier),
                           show("sales", g.sales), show("risk_level", g.risk_level)) for g in result.gone[:MAX_ROWS])
    counts = {name: len(changes) for name, (changes, _) in lists.items()}
    counts["gone"] = len(result.gone)
    counts.update(lost=len(result.lost), lost_known=len(result.lost_known), held=len(result.held))
    report = SinceLastReview(
        previous, shown["migrations"], shown["new_risks"], shown["resolved_risks"], shown["review_before_demotion"],
        len(result.appeared), len(result.disappeared), words, counts=counts,
        headline=headline_text(result.headline, lang), improved_risks=shown["improved_risks"], gone=gone,
        retire=tuple(builder.retire(r) for r in result.retire[:MAX_ROWS]), **builder.losses_and_held())
    roles = [r for r in FACT_ROLES if r in after.roles]
    demoted = {c.account_id for c in result.review_before_demotion}

    def account_since(account: str) -> AccountSince:
        known = account in before.frame.index
        facts = []
        for role in roles:
            now = _plain(after.frame.at[account, after.roles[role]])
            then = _plain(before.frame.at[account, before.roles[role]]) if known and role in before.roles else None
            if role == "sales" and then is not None:
                then = float(then)
            facts.append(SinceFact(builder.label_name(after.roles[role]), show(role, then) if known else "—",
                                   show(role, now), known and then != now))
        return AccountSince(previous, not known, account in demoted, tuple(facts), words)

    return report, _LazyViews(after.frame.index, account_since)


def _plain(value: Any) -> Any:
    """A cell as the views compare it: None for missing (NaN, NA), else the value."""
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    return value


class _LazyViews(Mapping):
    """Account id -> AccountSince, each built when a playbook asks for it: with `--previous` at 200,000
    accounts, building a block for every account (most get no playbook) took most of the run."""

    def __init__(self, ids: pd.Index, build):
        self._ids, self._build, self._made = ids, build, {}

    def __getitem__(self, account: str) -> Any:
        if account not in self._made:
            if account not in self._ids:
                raise KeyError(account)
            self._made[account] = self._build(account)
        return self._made[account]

    def __iter__(self):
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)


def _run_date(as_of: str, lang: str) -> str:
    """The previous run's as-of date as the document writes dates (27 Nov 2026, 2026年11月27日)."""
    import datetime as dt

    try:
        return fmt_date(dt.date.fromisoformat(str(as_of)), lang)
    except ValueError:  # a hand-edited manifest: shown as it is
        return str(as_of)
