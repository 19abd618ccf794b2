"""The portfolio report, `OUT/report.html`: one self-contained page (inline CSS and SVG, no scripts).

`render_report(evaluation, portfolio, lang=..., playbook_links=...)` renders `report.html.j2` (from the
team's playbooks folder or the packaged defaults) with a `ReportContext`: the Pareto curve as an
inline SVG chart (one point per account, key accounts marked, the 80% line), counts by decision,
regional concentration, defection risks, the key accounts linking to their playbooks, the portfolio
advice and the run's facts (as-of date, pack hash, input). Same input, same bytes.
"""

from __future__ import annotations

import dataclasses
import typing
import urllib.parse
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from kamrules.data.periods import doubt_text
from kamrules.documents import guards
from kamrules.documents.checker import Schema, TemplateChecker
from kamrules.documents.context_model import RunInfo, Values, context_vars, known_names
from kamrules.documents.environment import (
    REPORT_TEMPLATE,
    make_environment,
    template_error,
)
from kamrules.documents.formatting import Formatter
from kamrules.documents.report_model import (
    AccountLine,
    Chart,
    ChartPoint,
    CountRow,
    CountTable,
    OwnerView,
    RegionView,
    ReportContext,
    SignalView,
    Stat,
    Tick,
    UnusedRuleView,
)
from kamrules.engine.evaluation import Evaluation
from kamrules.errors import TemplateError, UsageError
from kamrules.i18n import UI, Strings, fmt_money, fmt_number, fmt_pct
from kamrules.pack import RulePack, pick
from kamrules.results.portfolio_team import WAITING_TIER
from kamrules.results.columns import column_values
from kamrules.results.distinct import PLAIN, account_cells, column_cells, each
from kamrules.results.portfolio import NOT_ASSESSED
from kamrules.results.portfolio_model import missing_column_texts
from kamrules.results.portfolio_model import Portfolio

# Chart geometry (SVG user units; the SVG scales to the page width).
WIDTH, HEIGHT = 720, 430
LEFT, RIGHT, TOP, BOTTOM = 64, 20, 18, 58
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM


# ------------------------------------------------------------------------------------ the context


def report_schema(pack: RulePack) -> Schema:
    return Schema(typing.get_type_hints(ReportContext), {Values: known_names(pack), Strings: UI["en"].keys()})


def _r(value: float) -> float:
    return round(value, 2)


OWNER_DAYS = 30  # the per-owner view counts the actions due within this many days
LIST_MAX = 500  # accounts listed per tier in the report; decisions.csv has them all
OWNER_LIST_MAX = 20  # accounts listed per manager and column in the per-owner view (largest sales first)


def build_chart(portfolio: Portfolio, lang: str) -> Chart:
    target = portfolio.pareto.target if portfolio.pareto else portfolio.params.get("pareto_target", 0.8)
    x = lambda share: _r(LEFT + share * PLOT_W)  # noqa: E731
    y = lambda share: _r(TOP + (1 - share) * PLOT_H)  # noqa: E731
    points = []
    path = [f"{x(0)},{y(0)}"]
    for point in portfolio.curve:  # every account, or the sample `portfolio.curve_ranks` keeps
        name = point.account_name if point.account_name not in (None, "") else point.account_id
        title = (f"#{point.rank} {name} ({point.account_id}) — {fmt_money(point.sales, lang, wan=False)}, "
                 f"{fmt_pct(point.cum_sales_share, lang=lang)}")
        points.append(ChartPoint(x(point.account_share), y(point.cum_sales_share), point.rank, point.account_id,
                                 point.key, title))
        path.append(f"{x(point.account_share)},{y(point.cum_sales_share)}")
    ticks = (0, 0.2, 0.4, 0.6, 0.8, 1.0)
    n = len(points)
    split_x = x(portfolio.pareto.account_share) if portfolio.pareto else None
    strings = UI[lang]
    return Chart(
        width=WIDTH, height=HEIGHT, left=LEFT, top=TOP, right=LEFT + PLOT_W, bottom=TOP + PLOT_H,
        points=tuple(points), curve=" ".join(path), even=f"{x(0)},{y(0)} {x(1)},{y(1)}",
        target_y=y(target), target_label=strings["chart_line"] % fmt_pct(target, 0),
        split_x=split_x,
        split_label=fmt_pct(portfolio.pareto.account_share, lang=lang) if portfolio.pareto else "",
        x_ticks=tuple(Tick(x(v), fmt_pct(v, 0)) for v in ticks),
        y_ticks=tuple(Tick(y(v), fmt_pct(v, 0)) for v in ticks),
        radius=3.5 if n <= 150 else 2.5 if n <= 600 else 1.6, accounts=portfolio.accounts,
    )


def _due_within(due, days: int) -> int:
    """How many of an account's action due days (a list, or one value) are numbers within `days`."""
    return len([d for d in (due if isinstance(due, list) else [due]) if isinstance(d, (int, float)) and d <= days])


def _owner_name(manager) -> str:
    """An account manager as the per-owner view groups them: "" when missing or blank."""
    return "" if manager is None or manager != manager or str(manager).strip() == "" else str(manager)


class _ReportBuilder:
    def __init__(self, evaluation: Evaluation, portfolio: Portfolio, lang: str, links: Mapping[str, str]):
        self.evaluation = evaluation
        self.pack: RulePack = evaluation.pack
        self.portfolio = portfolio
        self.lang = lang
        self.fmt = Formatter(self.pack, lang)
        self.links = links
        self.strings = Strings(UI[lang])
        self.strings["no_risks"] %= portfolio.risk_words.get(lang, portfolio.risk_words["en"])
        # Columns, read once: the lists below never build per-account objects.
        n = len(evaluation.accounts)
        self.ids, self.names = account_cells(evaluation)
        role = self.pack.role
        score = role("score") or next(iter(self.pack.scores), None)
        self.names_of = {"sales": role("sales"), "tier": role("tier"), "risk_level": role("risk_level"),
                         "manager": role("account_manager"), "due_days": role("action_due_days"), "score": score}
        self.columns = {key: (column_values(evaluation, name, shared=True) if key == "sales" else
                              column_cells(evaluation, name)) if name else [None] * n
                        for key, name in self.names_of.items()}  # read only: lists shared between accounts
        self._negated = None  # every account's sales, negated, as `by_sales` orders them (`largest`)

    def text(self, value) -> str:
        return self.portfolio.text(value, self.lang)

    def line(self, index: int, signals: tuple = ()) -> AccountLine:
        lang, total, column = self.lang, self.portfolio.total_sales, self.columns
        account_id, name = self.ids[index], self.names[index]
        sales, tier, risk = column["sales"][index], column["tier"][index], column["risk_level"][index]
        share = sales / total if isinstance(sales, (int, float)) and total > 0 else None
        link = self.links.get(account_id)
        return AccountLine(
            account_id=account_id, name=str(name) if name not in (None, "") else account_id,
            tier=tier, tier_text=self.fmt.label(tier, self.names_of["tier"] or "tier"),
            sales=fmt_money(sales, lang, wan=False), sales_share=fmt_pct(share, lang=lang),
            score=fmt_number(column["score"][index], 1), risk=risk,
            risk_text=self.fmt.label(risk, self.names_of["risk_level"] or "risk_level"),
            link=urllib.parse.quote(link) if link else None, signals=signals,
        )

    def accounts_of_tier(self, tier: str) -> tuple[tuple[AccountLine, ...], int]:
        """The accounts of a tier, largest sales first, up to LIST_MAX; and how many there are."""
        chosen = np.flatnonzero(each(self.columns["tier"], lambda t: bool(t == tier), PLAIN).astype(bool))
        return tuple(self.line(i) for i in self.largest(chosen, LIST_MAX)), len(chosen)

    def by_sales(self, index: int) -> tuple:
        """Sort key: largest sales first (missing as 0), then input order."""
        value = self.columns["sales"][index]
        return (-(value if isinstance(value, (int, float)) and value == value else 0.0), index)

    def largest(self, indexes: np.ndarray, count: int) -> list:
        """The first `count` of `indexes` in `by_sales` order; when every sale is a float or missing
        (a float column), on arrays: a partition to the `count` largest, then a sort of those."""
        if self._negated is None:
            sales = self.columns["sales"]
            floats = set(map(type, sales)) <= {float, type(None)}
            numbers = np.array(sales, dtype="float64")
            self._negated = -np.where(np.isnan(numbers), 0.0, numbers) if floats else False
        if self._negated is False:
            return sorted(indexes.tolist(), key=self.by_sales)[:count]
        negated = self._negated[indexes]
        if len(indexes) > count:
            kept = negated <= np.partition(negated, count - 1)[count - 1]
            indexes, negated = indexes[kept], negated[kept]
        return indexes[np.lexsort((indexes, negated))][:count].tolist()

    def owners(self, key_tier: str = "key", days: int = OWNER_DAYS) -> tuple[OwnerView, ...]:
        """Per account manager: their key accounts, their accounts at risk, their actions due within `days`."""
        column = self.columns
        if not self.names_of["manager"]:
            return ()
        calm = (None, "none", "watch", NOT_ASSESSED)  # "not assessed" is not "at risk" either
        key = each(column["tier"], lambda t: bool(t == key_tier), PLAIN).astype(bool)
        risky = each(column["risk_level"], lambda v: v not in calm, PLAIN).astype(bool)
        due = each(column["due_days"], lambda d: _due_within(d, days), PLAIN).astype(np.int64)
        chosen = np.flatnonzero(key | risky | (due > 0))
        names = each(column["manager"], _owner_name)[chosen]
        codes, distinct = pd.factorize(names)
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(distinct) + 1))
        found = {}
        for k, name in enumerate(distinct.tolist()):
            members = chosen[order[bounds[k]:bounds[k + 1]]]  # ascending: input order
            found[name] = (members[key[members]], members[risky[members]], int(due[members].sum()))
        # a manager of 70,000 risky accounts: the largest, not a 75 MB page
        return tuple(
            OwnerView(name or self.strings["no_owner"],
                      tuple(self.line(i) for i in self.largest(k, OWNER_LIST_MAX)),
                      tuple(self.line(i) for i in self.largest(r, OWNER_LIST_MAX)), d, len(k), len(r))
            for name, (k, r, d) in sorted(found.items(), key=lambda item: (item[0] == "", item[0])))

    def build(self) -> ReportContext:
        p, lang = self.portfolio, self.lang
        strings = self.strings
        stats = [
            Stat(strings["accounts"], fmt_number(p.accounts, 0), ""),
            Stat(strings["total_sales"], fmt_money(p.total_sales, lang, wan=False), ""),
        ]
        if p.key_accounts is not None:
            stats.append(Stat(strings["key_accounts"], fmt_number(p.key_accounts, 0),
                              fmt_pct(p.key_accounts / p.accounts, lang=lang) if p.accounts else ""))
            stats.append(Stat(strings["key_sales_share"], fmt_pct(p.key_sales_share, lang=lang), ""))
        if p.pareto is not None:
            stats.append(Stat(strings["pareto"], fmt_pct(p.pareto.account_share, lang=lang),
                              self.text(p.pareto.text)))
        counts = tuple(
            CountTable(b.name, self.text(b.title), tuple(
                CountRow(c.value, self.text(c.label), c.accounts, fmt_pct(c.account_share, lang=lang),
                         fmt_money(c.sales, lang, wan=False), fmt_pct(c.sales_share, lang=lang))
                for c in b.counts))
            for b in p.breakdowns
        )
        regions = tuple(
            RegionView(
                region=r.region, accounts=r.accounts, sales=fmt_money(r.sales, lang, wan=False),
                sales_share=fmt_pct(r.sales_share, lang=lang),
                largest=r.largest_name if r.largest_name not in (None, "") else (r.largest_id or "—"),
                largest_share=fmt_pct(r.largest_share, lang=lang), hhi=fmt_number(r.hhi, 0),
                concentration=r.concentration, concentration_text=self.text(r.concentration_label),
                balance=r.balance, advice=self.text(r.advice),
            )
            for r in p.regions
        )
        risks = tuple(  # in the summary's order: sales at stake first (prior sales for a lost customer)
            dataclasses.replace(
                self.line(r.index, tuple(SignalView(self.text(s.label), s.cause, self.text(s.cause_label),
                                                    self.text(s.because)) for s in r.signals)),
                stake=fmt_money(r.stake, lang, wan=False) if r.stake is not None else "")
            for r in p.risks
        )
        unused = tuple(
            UnusedRuleView(u.decision, u.rule, strings["comma"].join(self.text(m) for m in u.missing_labels))
            for u in p.rules_without_data
        )
        pack = self.pack
        run = RunInfo(as_of=self.evaluation.as_of, lang=lang, pack_name=pack.name,
                      pack_title=pick(pack.title, lang) or pack.name, pack_version=pack.version,
                      pack_hash=pack.hash, input_name=self.evaluation.input_name, accounts=p.accounts)
        key_accounts, key_total = self.accounts_of_tier("key")
        potential_accounts, potential_total = self.accounts_of_tier("potential")
        waiting_accounts, waiting_total = self.accounts_of_tier(WAITING_TIER)
        return ReportContext(
            run=run, stats=tuple(stats), pareto_text=self.text(p.pareto.text) if p.pareto else "",
            advice=tuple(self.text(a) for a in p.advice), chart=build_chart(p, lang), counts=counts,
            has_region=p.has_region, regions=regions, accounts_without_region=p.accounts_without_region,
            risks=risks, key_accounts=key_accounts, key_total=key_total,
            potential_accounts=potential_accounts, potential_total=potential_total, rules_without_data=unused,
            missing_columns=tuple(self.text(text) for text in missing_column_texts(p.rules_without_data)),
            data_notes=tuple(doubt_text(d, lang) for d in self.evaluation.source.get("doubts", ())),
            portfolio=p, t=strings, owners=self.owners(), owner_days=OWNER_DAYS,
            waiting_accounts=waiting_accounts, waiting_total=waiting_total,
        )


def build_report_context(evaluation: Evaluation, portfolio: Portfolio, *, lang: str = "en",
                         playbook_links: Mapping[str, str] | None = None) -> ReportContext:
    if lang not in UI:
        raise UsageError(f"--lang '{lang}' is not one of: {', '.join(UI)}")
    return _ReportBuilder(evaluation, portfolio, lang, playbook_links or {}).build()


def render_report(evaluation: Evaluation, portfolio: Portfolio, *, lang: str = "en",
                  playbook_links: Mapping[str, str] | None = None, playbooks_dir: Path | str | None = None,
                  checked: bool = False, probe: bool = False, since=None, profile=None,
                  review_cycle=None) -> bytes:
    """`report.html` as UTF-8 bytes. `playbook_links`: account id → relative path of its HTML playbook;
    `profile`: the run's key-account profile when it was already computed (for profile.csv)."""
    from jinja2 import TemplateError as JinjaError

    context = build_report_context(evaluation, portfolio, lang=lang, playbook_links=playbook_links)
    if since is not None:  # `evaluate --previous OUT`: a SinceLastReview
        context = dataclasses.replace(context, since_last_review=since)
    if review_cycle is not None and review_cycle.shown:  # a ReviewCycleView (docs/review-cycle.md)
        context = dataclasses.replace(context, review_cycle=review_cycle)
    from kamrules.documents.profile_view import profile_view

    context = dataclasses.replace(context, profile=profile_view(evaluation, lang, playbook_links, profile))
    env = make_environment(playbooks_dir, pack=evaluation.pack, lang=lang)
    guards.budget_for_portfolio(env, len(evaluation.accounts))  # it lists accounts: grows with them
    if not checked:
        checker = TemplateChecker(env, report_schema(evaluation.pack))
        checker.check(REPORT_TEMPLATE)
        if checker.errors:
            raise TemplateError("\n".join(dict.fromkeys(checker.errors)))
    try:
        template = env.get_template(REPORT_TEMPLATE)
        return template.render(context_vars(context)).encode("utf-8")
    except (JinjaError, Exception) as exc:  # any failure inside a user template is a template problem
        raise template_error(exc, f"{REPORT_TEMPLATE} with sample accounts, before rendering anything" if probe
                              else "rendering the portfolio report") from None

