"""The typed context a playbook template sees: an account's values and texts, its decisions, reasons,
actions and plan, and the run — and the names a template may read (`known_names`, `context_vars`).
`context.ContextBuilder` fills it from an evaluation."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from kamrules.documents.review import ContactRow, Objective, SwotRow
from kamrules.documents.review_cycle import EMPTY_NOTES, NoteRow, Notes, NoteSection, ProgressRow  # noqa: F401 (the sandbox reads them)
from kamrules.documents.since import AccountSince
from kamrules.i18n import Strings
from kamrules.pack import RulePack


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
    source: str  # where the rule comes from, in the chosen language (may be "")
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
    basis: str = ""  # what it rests on: "rests on 4 of its 6 criteria", or why it is not computed


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
    owner_name: str = ""  # the data's account manager when the owner is the account manager role, else ""
    who: str = ""  # the named owner with the role ("Zhang Wei (Key account manager)"), or the role alone


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
    manager: str | None = None  # the account manager the data names (role `account_manager`)
    sales: Fact | None = None  # the account's sales (role `sales`), the sales at stake when at risk
    region: Fact | None = None  # its region (role `region`)
    next_actions: tuple[ActionRow, ...] = ()  # the 3–5 actions due soonest, across sections
    objectives: tuple[Objective, ...] = ()  # measurable objectives from the rules' thresholds
    unknown: tuple[Fact, ...] = ()  # fields the rules read that this account lacks: find them out
    swot: tuple[SwotRow, ...] = ()  # strengths, weaknesses, opportunities, threats (pre-filled)
    contacts: tuple[ContactRow, ...] = ()  # the contact / decision-maker map: ours, then blank rows
    since_last_review: AccountSince | None = None  # `evaluate --previous OUT` only (docs/diff.md)
    notes: Notes = EMPTY_NOTES  # what the team wrote per section (`evaluate --notes`, docs/review-cycle.md)


def known_names(pack: RulePack) -> list[str]:
    """Every name an account has a value for: fields, features, scores, outputs, collect counts."""
    names = list(pack.fields) + [d.name for d in pack.derived]
    for decision in pack.decisions:
        names += list(decision.outputs)
        if decision.policy.lists:
            names.append(decision.count_name)
    return list(dict.fromkeys(names))


_FIELD_NAMES: dict = {}


def context_vars(context: Any) -> dict:
    """A context dataclass as the top-level names a template sees."""
    names = _FIELD_NAMES.get(type(context))
    if names is None:
        names = _FIELD_NAMES[type(context)] = tuple(f.name for f in dataclasses.fields(context))
    return {name: getattr(context, name) for name in names}
