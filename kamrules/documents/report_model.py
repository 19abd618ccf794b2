"""The typed context the report template sees (frozen dataclasses of plain values)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kamrules.documents.context_model import RunInfo
from kamrules.i18n import Strings
from kamrules.results.portfolio_model import Portfolio
from kamrules.documents.since import SinceLastReview
from kamrules.documents.review_cycle import (  # noqa: F401 (the sandbox reads them)
    OverrideLine, OverrideRow, ProgressLine, ReviewCycleView,
)
from kamrules.documents.profile_view import ProfileView


@dataclass(frozen=True)
class Stat:
    """One headline figure."""

    label: str
    value: str
    note: str


@dataclass(frozen=True)
class Tick:
    pos: float  # x or y in SVG units
    label: str


@dataclass(frozen=True)
class ChartPoint:
    """One account on the Pareto chart."""

    x: float  # SVG coordinates
    y: float
    rank: int
    account_id: str
    key: bool  # a key account (drawn filled)
    title: str  # the tooltip: name, sales, cumulative share


@dataclass(frozen=True)
class Chart:
    """The Pareto curve: cumulative share of sales (y) against share of accounts (x), largest first."""

    width: int
    height: int
    left: int
    top: int
    right: int  # x of the right edge of the plot
    bottom: int  # y of the bottom edge of the plot
    points: tuple[ChartPoint, ...]  # one per account
    curve: str  # the polyline's "x,y x,y ..." from the origin through every point
    even: str  # the even-spread diagonal, same format
    target_y: float  # y of the target line (80% of sales)
    target_label: str
    split_x: float | None  # x where the target is reached (None without positive sales)
    split_label: str
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    radius: float
    accounts: int = 0  # accounts in the portfolio (points may be a sample of them)


@dataclass(frozen=True)
class CountRow:
    value: Any
    label: str
    accounts: int
    account_share: str
    sales: str
    sales_share: str


@dataclass(frozen=True)
class CountTable:
    name: str  # output name, e.g. "tier"
    title: str
    rows: tuple[CountRow, ...]


@dataclass(frozen=True)
class RegionView:
    region: str
    accounts: int
    sales: str
    sales_share: str
    largest: str  # name (or id) of the largest customer
    largest_share: str
    hhi: str
    concentration: str  # "unconcentrated" | "moderate" | "high" | "unknown"
    concentration_text: str
    balance: bool
    advice: str


@dataclass(frozen=True)
class SignalView:
    text: str
    cause: Any
    cause_text: str
    because: str


@dataclass(frozen=True)
class AccountLine:
    """An account in a list of the report (key accounts, risks), with its playbook link if any."""

    account_id: str
    name: str  # the name, or the id when there is none
    tier: Any
    tier_text: str
    sales: str
    sales_share: str
    score: str
    risk: Any  # risk level value
    risk_text: str
    link: str | None  # relative, URL-encoded path of the HTML playbook
    signals: tuple[SignalView, ...]
    stake: str = ""  # sales at stake (risk lists: prior sales for a lost customer, a share for a symptom)


@dataclass(frozen=True)
class OwnerView:
    """One account manager's book for the review: key accounts, accounts at risk, actions due soon."""

    name: str  # the manager as the data names them ("(no manager named)" for accounts without one)
    key_accounts: tuple[AccountLine, ...]  # their key accounts, largest sales first
    at_risk: tuple[AccountLine, ...]  # their accounts at risk or critical, largest sales first
    actions_due: int  # actions the rules set due within `owner_days` of the as-of date
    key_total: int = 0  # how many key accounts they have (the list shows the largest OWNER_LIST_MAX)
    at_risk_total: int = 0  # how many of their accounts are at risk (likewise)


@dataclass(frozen=True)
class UnusedRuleView:
    decision: str
    rule: str
    missing: str


@dataclass(frozen=True)
class ReportContext:
    """Everything `report.html.j2` sees, as top-level names."""

    run: RunInfo
    stats: tuple[Stat, ...]
    pareto_text: str  # "32.6% of the accounts (163 of 500) make 80% of sales (together 80.1%)"; "" if unknown
    advice: tuple[str, ...]
    chart: Chart
    counts: tuple[CountTable, ...]
    has_region: bool
    regions: tuple[RegionView, ...]
    accounts_without_region: int
    risks: tuple[AccountLine, ...]
    key_accounts: tuple[AccountLine, ...]  # tier key, by sales (the first LIST_MAX)
    key_total: int  # all key accounts
    potential_accounts: tuple[AccountLine, ...]  # tier potential, by sales (the first LIST_MAX)
    potential_total: int  # all potential key accounts
    rules_without_data: tuple[UnusedRuleView, ...]
    portfolio: Portfolio  # the raw summary, for custom templates
    t: Strings
    owners: tuple[OwnerView, ...] = ()  # per account manager (role `account_manager`); () when the pack has none
    owner_days: int = 30  # the window of `OwnerView.actions_due`
    since_last_review: SinceLastReview | None = None  # `evaluate --previous OUT` only (docs/diff.md)
    profile: ProfileView | None = None  # key accounts against the base; None without `pack: attributes:` (docs/profile.md)
    waiting_accounts: tuple[AccountLine, ...] = ()  # qualifying accounts waiting for a key account manager, by sales
    waiting_total: int = 0
    missing_columns: tuple[str, ...] = ()  # one message per column the whole file lacks, in the language
    data_notes: tuple[str, ...] = ()  # doubts about what a column covers (lifetime revenue, a year to date), in the language
    review_cycle: ReviewCycleView | None = None  # overrides, tasks, objectives, contacts and notes (docs/review-cycle.md)
