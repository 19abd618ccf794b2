"""The rule pack model: the validated, typed form of a pack that every engine and document reads.

`load_pack` (kamrules.pack.loader) builds a `RulePack`; nothing here reads files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kamrules.errors import Location
from kamrules.language import expr as ex
from kamrules.pack.hitpolicy import HitPolicy, policy_named

Text = dict

SECTIONS = ("pack", "fields", "params", "labels", "features", "scores", "decisions")
RESERVED = ("id", "sid", "params")
OUTPUT_TYPES = ("category", "string", "text", "number", "boolean")
GROUP_FUNCTIONS = ("share_of", "rank", "percentile", "hhi", "sum", "mean", "max", "min", "count")
FEATURE_FUNCTIONS = ("expr", "cumulative_share", "band", "days_since", "days_until", "criteria_of", *GROUP_FUNCTIONS)
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")

# durable_rules 2.0.28 limits (../shared/durable-rules-notes.md, re-measured): the core expands each
# rule's `or`s into separate branches; more than 64 branches matching one message fail with error 303,
# and 512 branches in one ruleset hang it. So a decision may have at most 64 branches in all.
MAX_BRANCHES_PER_DECISION = 64
MAX_COMPARISONS_PER_RULE = 48
MAX_FIELDS_PER_DECISION = 240  # > 254 fields per message is error 302


# The roles generic code (documents, portfolio summary) looks up, with the default pack's names. A team
# pack names its own under `pack: roles:`; a role whose name the pack lacks is simply absent.
ROLES = {
    "account_name": "account_name", "account_manager": "account_manager", "region": "region",
    "sales": "sales", "score": "kam_index", "abc_class": "abc_class", "sales_rank": "sales_rank",
    "sales_share": "sales_share", "sales_cum_share": "sales_cum_share",
    "tier": "tier", "tier_basis": "tier_basis", "relationship": "relationship",
    "service_level": "service_level", "review_every_days": "review_every_days",
    "risk_level": "risk_level", "risk_signal": "risk_signal", "risk_cause": "risk_cause",
    "dependence_finding": "dependence_finding", "dependence_advice": "dependence_advice",
    "action": "action", "action_title": "action_title", "action_owner": "action_owner",
    "action_due_days": "action_due_days", "action_measure": "action_measure", "action_section": "action_section",
    "share_of_wallet": "share_of_wallet",
    # the key-account team and the money at stake (features and outputs the portfolio summary reads)
    "key_capacity": "key_capacity", "consumer_book": "consumer_book", "prior_sales": "prior_sales",
    "stake_base": "stake_base", "risk_stake_share": "risk_stake_share",
    "team_places": "team_places", "concentration": "top_fifth_share", "pipeline_signs": "sign_taken",
    "region_dominated": "region_dominated",
    # an order count and whether it covers more than the sales period (the console says how it is read)
    "orders": "orders", "orders_beyond_period": "orders_beyond_period", "orders_span_longer": "orders_span_longer",
    # sizeable accounts left standard because the team's hours are taken, and those hours
    "sizeable_left": "sizeable_left", "team_hours": "team_hours",
    # customers of class A last period that bought nothing this period, and their share of the last period
    "gap_prior_count": "gap_prior_count", "gap_prior_share": "gap_prior_share",
}

# The params generic code reads (the portfolio summary and its advice, the report's ABC chart, the review
# objectives), by role, with the default pack's names: a team pack that renames one names it under
# `pack: roles:` (`kam_manageable_max: team_max`) and keeps the report sections that read it; a role whose
# param the pack lacks leaves out what needs it.
PARAM_ROLES = {name: name for name in (
    "pareto_target", "abc_b_cut", "kam_manageable_min", "kam_manageable_max", "kam_warn_strong",
    "kam_department_threshold", "kam_department_min_fte", "kam_hours_per_month_min", "kam_hours_per_month_max",
    "fte_hours_per_month", "potential_hours_per_month_min", "potential_hours_per_month_max", "pipeline_factor",
    "key_account_managers", "key_accounts_per_manager", "key_max_account_share", "concentration_min",
    "lapsed_alert_share", "region_dominant_share", "region_dominant_min_share", "region_hhi_high",
    "region_hhi_moderate", "region_min_accounts", "counterweight_min_ratio", "sow_growth_target_points",
    "key_material_share", "orders_period_days", "lapsed_days", "potential_min_share",
)}



class ParamValue(float):
    """A number output's value written as `params.NAME` in a rule's `then` (or a default): the param's
    value, which remembers the param so that `--set NAME=…` changes the output too."""

    def __new__(cls, value: float, name: str):
        number = super().__new__(cls, value)
        number.name = name
        return number

    def __reduce__(self):
        return (ParamValue, (float(self), self.name))


@dataclass(frozen=True)
class ParamSpec:
    name: str
    value: Any
    label: Text = field(default_factory=dict)
    description: Text = field(default_factory=dict)
    source: Text = field(default_factory=dict)  # where the value comes from, per language (pick())
    loc: Location = Location("<builtin>")
    range: tuple = ()  # (lowest, highest) a number param may take, either None; () when any will do


@dataclass(frozen=True)
class Band:
    label: str
    below: ex.Node | None  # None for the last, unbounded band
    text: Text = field(default_factory=dict)


@dataclass(frozen=True)
class AttributeSpec:
    """A natural attribute of an account (`pack: attributes:`) that the key-account profile compares.

    `bands` are the ascending cut points of a number field; () for a field used as it is."""

    name: str
    bands: tuple = ()
    loc: Location = Location("<builtin>")


@dataclass(frozen=True)
class FeatureSpec:
    name: str
    function: str  # one of FEATURE_FUNCTIONS
    arg: Any  # a field name, an expression tree (expr), or True (count)
    type: str = "number"
    within: str | None = None
    where: ex.Node | None = None
    bands: tuple = ()
    order: str = "desc"
    ties: str = "shared"  # rank: equal values share the lower rank, or "ordered": one rank each, in Pareto order
    label: Text = field(default_factory=dict)
    description: Text = field(default_factory=dict)
    reads: frozenset = frozenset()
    loc: Location = Location("<builtin>")

    @property
    def values(self) -> tuple:
        return tuple(b.label for b in self.bands)


@dataclass(frozen=True)
class Criterion:
    field: str
    weight: float
    better: str = "higher"


@dataclass(frozen=True)
class ScoreSpec:
    name: str
    criteria: tuple
    normalise: str = "percentile"
    title: Text = field(default_factory=dict)
    description: Text = field(default_factory=dict)
    reads: frozenset = frozenset()
    loc: Location = Location("<builtin>")
    type: str = "number"
    # the fewest criteria an account's score may rest on (a number or params.NAME); fewer: no score
    min_criteria: ex.Node | None = None

    def min_criteria_value(self) -> int:
        """`min_criteria` as a whole number (1 when not set)."""
        if self.min_criteria is None:
            return 1
        value = ex.eval_value(self.min_criteria, {})
        return 1 if value is None else max(1, int(value))


@dataclass(frozen=True)
class OutputSpec:
    name: str
    type: str
    values: tuple = ()
    value_labels: dict = field(default_factory=dict)  # value -> Text
    label: Text = field(default_factory=dict)
    total: bool = False  # a collect decision's number output added up for later decisions (<name>_total)


@dataclass(frozen=True)
class Rule:
    id: str
    when_text: str
    when: ex.Node
    then: dict
    because: Text = field(default_factory=dict)
    source: Text = field(default_factory=dict)  # where the rule comes from, per language (pick())
    priority: int = 0
    reads: frozenset = frozenset()
    loc: Location = Location("<builtin>")


@dataclass(frozen=True)
class Decision:
    id: str
    hit: str
    outputs: dict  # name -> OutputSpec
    rules: tuple
    default: dict | None = None
    title: Text = field(default_factory=dict)
    description: Text = field(default_factory=dict)
    reads: frozenset = frozenset()
    loc: Location = Location("<builtin>")

    @property
    def policy(self) -> HitPolicy:
        """The hit policy object its `hit:` names (pack/hitpolicy.py)."""
        return policy_named(self.hit)

    @property
    def count_name(self) -> str:
        return f"{self.id}_count"

    @property
    def totals(self) -> dict:
        """For a collect decision, `<output>_total` -> output for each number output declared `total: true`:
        the sum of that output over the rules that fired (risk points, say), read by later decisions like
        the count."""
        if not self.policy.lists:
            return {}
        return {f"{name}_total": name for name, spec in self.outputs.items() if spec.total}

    def reads_back(self, name: str) -> bool:
        """Whether `name` is a value this decision gives later decisions (an output, count or total)."""
        return name in self.outputs or name == self.count_name or name in self.totals


@dataclass
class RulePack:
    root: Path
    files: list
    name: str
    title: Text
    version: str
    fields: dict  # name -> FieldSpec
    params: dict  # name -> ParamSpec
    labels: dict  # value -> Text (pack-wide display labels)
    derived: list  # FeatureSpec | ScoreSpec in evaluation order
    decisions: list  # Decision in evaluation order
    hash: str
    warnings: list = field(default_factory=list)
    roles: dict = field(default_factory=dict)  # role -> name, as declared in `pack: roles:`
    attributes: dict = field(default_factory=dict)  # name -> AttributeSpec, from `pack: attributes:`

    def role(self, role: str) -> str | None:
        """The name (field, feature, score or output) that plays a role the documents and the portfolio
        summary know (see ROLES), or None when the pack has nothing in that role. A pack declares its
        own names under `pack: roles:`; the default names apply otherwise."""
        name = self.roles.get(role, ROLES.get(role))
        if name is None:
            return None
        if name in self.fields or self.output(name) is not None or any(d.name == name for d in self.derived):
            return name
        return None

    def param(self, role: str) -> float | None:
        """The numeric value of the param that plays `role` (see PARAM_ROLES), or None when the pack has
        no such param (or it is not a number). Declared under `pack: roles:` like the other roles."""
        name = self.roles.get(role, PARAM_ROLES.get(role))
        value = self.param_values.get(name) if name is not None else None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        return None

    @property
    def features(self) -> dict:
        return {d.name: d for d in self.derived if isinstance(d, FeatureSpec)}

    @property
    def scores(self) -> dict:
        return {d.name: d for d in self.derived if isinstance(d, ScoreSpec)}

    @property
    def param_values(self) -> dict:
        return {name: p.value for name, p in self.params.items()}

    def decision(self, decision_id: str) -> Decision:
        for decision in self.decisions:
            if decision.id == decision_id:
                return decision
        raise KeyError(decision_id)

    def output(self, name: str) -> OutputSpec | None:
        for decision in self.decisions:
            if name in decision.outputs:
                return decision.outputs[name]
        return None

    def label(self, name: str, value: Any, lang: str = "en") -> str:
        """The display label of an output or feature value in a language, falling back to the value."""
        output = self.output(name)
        if output is not None and value in output.value_labels:
            return pick(output.value_labels[value], lang)
        if isinstance(value, str) and value in self.labels:
            return pick(self.labels[value], lang)
        if isinstance(value, dict):
            return pick(value, lang)
        return "" if value is None else str(value)

    def name_label(self, name: str, lang: str = "en") -> str:
        """The display label of a field, feature, score or output name."""
        for source in (self.fields.get(name), self.features.get(name)):
            if source is not None and source.label:
                return pick(source.label, lang)
        score = self.scores.get(name)
        if score is not None and score.title:
            return pick(score.title, lang)
        output = self.output(name)
        if output is not None and output.label:
            return pick(output.label, lang)
        if name in self.labels:
            return pick(self.labels[name], lang)
        return name

    def symbols(self) -> dict:
        return symbol_table(self.fields, self.derived, self.decisions, include_outputs=True)


def pick(text: Any, lang: str = "en") -> str:
    """One language of a display text (falls back to English, then to any language)."""
    if isinstance(text, dict):
        if lang in text:
            return str(text[lang])
        if "en" in text:
            return str(text["en"])
        return str(next(iter(text.values()), ""))
    return "" if text is None else str(text)


def expr_type(field_type: str) -> str:
    return ex.NUMBER if field_type == "integer" else field_type


def symbol_table(fields: dict, derived: list, decisions: list, include_outputs: bool) -> dict:
    symbols = {n: ex.Symbol(n, expr_type(f.type), "field", f.values) for n, f in fields.items()}
    for item in derived:
        symbols[item.name] = ex.Symbol(item.name, item.type, "feature", getattr(item, "values", ()))
    if include_outputs:
        for decision in decisions:
            if decision.policy.lists:
                symbols[decision.count_name] = ex.Symbol(decision.count_name, ex.NUMBER, "count")
                continue
            for name, spec in decision.outputs.items():
                symbols[name] = ex.Symbol(name, ex.STRING if spec.type == "text" else spec.type, "output", spec.values)
    return symbols
