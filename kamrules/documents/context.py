"""The typed context a playbook template sees, and the builder that fills it from an evaluation."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Iterable

from kamrules.documents.files import playbook_paths
from kamrules.documents.formatting import Formatter
from kamrules.documents import review
from kamrules.documents.review import ContactRow, Objective, SwotRow
from kamrules.engine.evaluation import AccountResult, DecisionResult, Evaluation
from kamrules.errors import UsageError
from kamrules.i18n import UI, Strings, is_missing
from kamrules.language.text import placeholder_names
from kamrules.pack import RulePack, pick
from kamrules.results.columns import column_values
from kamrules.documents.since import AccountSince

# The roles the default templates give a section of their own (see `RulePack.role`: a pack names its
# own fields and outputs for them under `pack: roles:`). A section whose role the pack lacks is simply
# empty (None or ()).
ACTION_ROLES = ("action", "action_title", "action_owner", "action_due_days", "action_measure", "action_section")
RANKING_ROLES = ("abc_class", "sales_rank", "sales_share", "sales_cum_share")
SECTION_ORDER = ("establish", "develop", "maintain")  # when the pack lists no section values
FILLED_CACHE = 200_000  # filled reasons kept (a few tens of MB at most), then the cache starts again



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
        self.role = pack.role
        section = pack.output(pack.role("action_section") or "action_section")
        self.section_order = tuple(section.values) if section is not None and section.values else SECTION_ORDER
        self.run = RunInfo(
            as_of=evaluation.as_of, lang=lang, pack_name=pack.name, pack_title=pick(pack.title, lang) or pack.name,
            pack_version=pack.version, pack_hash=pack.hash, input_name=evaluation.input_name,
            accounts=len(evaluation.accounts),
        )
        self._rank_scores(evaluation)
        excluded = {pack.role("account_name"), "account_id", "account_name"}
        self.field_names = [n for n in pack.fields if n not in excluded]
        self.ranking_names = [n for n in map(pack.role, RANKING_ROLES) if n is not None and n in self.names]
        self.paths = playbook_paths(evaluation)
        # the facts the rules read, and the natural attributes the key-account profile compares
        wanted = set(review.needed_fields(pack)) | set(getattr(pack, "attributes", {}))
        self.needed = [n for n in self.field_names if n in wanted]
        self._filled: dict[tuple, str] = {}  # reasons filled with values, shared by accounts with the same values

    def _rank_scores(self, evaluation: Evaluation) -> None:
        """The score shown (the pack's `score` role, else its first score) and each account's rank on it."""
        score_names = list(self.pack.scores)
        self.score_name = self.role("score") or (score_names[0] if score_names else None)
        self.ranks: dict[int, int] = {}
        self.scored = 0
        if self.score_name:
            scored = [(v, i) for i, v in enumerate(column_values(evaluation, self.score_name))]
            values = sorted((v for v, _ in scored if not is_missing(v)), reverse=True)
            self.scored = len(values)
            first_rank: dict[float, int] = {}
            for position, v in enumerate(values, 1):
                first_rank.setdefault(v, position)
            self.ranks = {i: first_rank[v] for v, i in scored if not is_missing(v)}

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
            key = self._fill_key(text, lang, hit, filler)
            if key is None:
                return filler({lang: text}, hit.outputs)[lang]
            filled = self._filled.get(key)
            if filled is None:
                if len(self._filled) >= FILLED_CACHE:
                    self._filled.clear()
                filled = self._filled[key] = filler({lang: text}, hit.outputs)[lang]
            return filled
        return pick(hit.because, self.lang)

    def _fill_key(self, text: str, lang: str, hit, filler) -> tuple | None:
        """What a filled reason depends on: its text and the exact value of each placeholder, looked
        up by the engine's filler itself; None (no caching) for a filler without `lookup` or a value
        that cannot be a key."""
        lookup = getattr(filler, "lookup", None)
        if lookup is None:
            return None
        key: list = [text, lang]
        for name in placeholder_names(text):
            value = lookup(name, hit.outputs)
            kind = type(value)
            if kind is float:
                key.append(value.hex())  # exact: -0.0 and 0.0 differ, 1 and 1.0 and True do not mix
            elif kind is str or kind is int or value is None or kind is bool or kind is dt.date:
                key.append((kind, value))
            else:
                return None
        return tuple(key)

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
        return Reason(decision, hit.rule, label, outcome, self.because(hit), pick(hit.source, self.lang), hit.reads,
                      self.fact)

    def choice(self, account: AccountResult, role: str) -> Choice | None:
        """The single-valued output playing `role` (see `RulePack.role`), or None when the pack has none."""
        name = self.role(role)
        decision = self.decision_of.get(name) if name else None
        if decision is None:
            return None
        result: DecisionResult | None = account.decisions.get(decision.id)
        value = None if result is None else result.outputs.get(name)
        reasons = () if result is None else tuple(self.reason(decision.id, h) for h in result.hits)
        return Choice(name, self.fmt.caption(name), value, self.fmt.label(value, name), reasons)

    def collected(self, account: AccountResult, roles: Iterable[str]) -> list[tuple[Any, dict]]:
        """For a collect decision: (hit, {role: (name, value)}) per contributing rule, in rule order."""
        names = {role: self.role(role) for role in roles}
        names = {role: name for role, name in names.items() if name in self.decision_of}
        if not names:
            return []
        decision = self.decision_of[next(iter(names.values()))]
        self._collecting = decision.id
        result = account.decisions.get(decision.id)
        if result is None:
            return []
        rows = []
        for position, hit in enumerate(result.hits):
            values = {}
            for role, name in names.items():
                column = result.outputs.get(name)
                if isinstance(column, list):
                    values[role] = (name, column[position] if position < len(column) else None)
                else:
                    values[role] = (name, hit.outputs.get(name))
            rows.append((hit, values))
        return rows

    def text(self, item: tuple | None) -> str:
        """A (name, value) pair of `collected` as its label; '' when missing or absent."""
        if item is None or is_missing(item[1]):
            return ""
        return self.fmt.label(item[1], item[0])

    # -- the whole context
    def build(self, account: AccountResult) -> PlaybookContext:
        self._reasons: dict = {}  # one Reason per hit, shared by the sections and the trace
        values = Values(self.blank)
        values.update(account.facts)
        for decision_id, result in account.decisions.items():
            values.update(result.outputs)
            if decision_id in self.count_names:
                values[self.count_names[decision_id]] = len(result.hits)
        review_name = self.role("review_every_days")
        review_days = values.get(review_name) if review_name in values else None
        review_days = None if is_missing(review_days) else int(review_days)
        manager = review.manager_of(self.pack, values)
        plan = self.plan(account, manager)
        parts = dict(
            tier=self.choice(account, "tier"), dependence=self.findings(account), signals=self.signals(account),
            objectives=review.objectives(self.pack, values, self.fmt, self.strings),
        )
        return PlaybookContext(
            run=self.run,
            account=self.account_view(account, values),
            ranking=tuple(self.fact(n, values[n]) for n in self.ranking_names),
            score=self.score(account, values),
            relationship=self.choice(account, "relationship"),
            service=self.service(account, values),
            risk=self.choice(account, "risk_level"),
            plan=plan,
            next_review=None if review_days is None else self.as_of + dt.timedelta(days=review_days),
            review_every_days=review_days,
            decisions=tuple(self.decision_view(account, d) for d in self.pack.decisions),
            t=self.strings,
            manager=manager,
            sales=self.role_fact("sales", values),
            region=self.role_fact("region", values),
            next_actions=review.next_actions(row for section in plan for row in section.rows),
            unknown=tuple(Fact(n, self.fmt.caption(n), None, self.strings["find_out"])
                          for n in self.needed if is_missing(values[n])),
            swot=review.swot(parts, self.strings),
            contacts=review.contacts(manager, self.strings),
            **parts,
        )

    def role_fact(self, role: str, values: Values) -> Fact | None:
        name = self.role(role)
        return None if name is None or name not in values else self.fact(name, values[name])

    def account_view(self, account: AccountResult, values: Values) -> AccountView:
        name = account.account_name
        name = None if is_missing(name) or str(name).strip() == "" else str(name)
        return AccountView(
            id=account.account_id,
            name=name,
            title=(f"{name}{self.strings['lparen']}{account.account_id}{self.strings['rparen']}" if name
                   else account.account_id),
            row=account.row,
            file=self.paths.get(account.index, ""),
            facts=tuple(self.fact(n, values[n]) for n in self.field_names if not is_missing(values[n])),
            values=values,
            texts=Texts(values, self.fmt.show),
        )

    def score(self, account: AccountResult, values: Values) -> Score | None:
        if not self.score_name:
            return None
        value = values.get(self.score_name)
        return Score(self.score_name, self.fmt.caption(self.score_name), value,
                     self.fmt.show(value, self.score_name), self.ranks.get(account.index), self.scored)

    def service(self, account: AccountResult, values: Values) -> Service | None:
        level = self.choice(account, "service_level")
        if level is None:
            return None
        shown_elsewhere = (level.name, self.role("review_every_days"))
        commitments = tuple(self.fact(n, values.get(n)) for n in self.decision_of[level.name].outputs
                            if n not in shown_elsewhere)
        return Service(level, commitments)

    def findings(self, account: AccountResult) -> tuple[Finding, ...]:
        return tuple(
            Finding(v.get("dependence_finding", (None, None))[1], self.text(v.get("dependence_finding")),
                    self.text(v.get("dependence_advice")), self.reason(self._collecting, hit).because, hit.rule)
            for hit, v in self.collected(account, ("dependence_finding", "dependence_advice"))
        )

    def signals(self, account: AccountResult) -> tuple[Signal, ...]:
        return tuple(
            Signal(v.get("risk_signal", (None, None))[1], self.text(v.get("risk_signal")),
                   v.get("risk_cause", (None, None))[1], self.text(v.get("risk_cause")),
                   self.reason(self._collecting, hit).because, hit.rule)
            for hit, v in self.collected(account, ("risk_signal", "risk_cause"))
        )

    def plan(self, account: AccountResult, manager: str | None = None) -> tuple[PlanSection, ...]:
        rows = []
        for hit, v in self.collected(account, ACTION_ROLES):
            owner = v.get("action_owner", (None, None))[1]
            days = v.get("action_due_days", (None, None))[1]
            days = None if is_missing(days) else int(days)
            rows.append(ActionRow(
                value=v.get("action", (None, None))[1],
                text=self.text(v.get("action")),
                title=self.text(v.get("action_title")) or self.text(v.get("action")),
                owner=self.text(v.get("action_owner")),
                due=None if days is None else self.as_of + dt.timedelta(days=days),
                due_days=days,
                measure=self.text(v.get("action_measure")),
                section=v.get("action_section", (None, None))[1],
                rule=hit.rule,
                because=self.reason(self._collecting, hit).because,
                owner_name=manager if manager and review.is_manager_owner(owner) else "",
                who=self.who(self.text(v.get("action_owner")), manager, owner),
            ))
        if not rows:
            return ()
        return self.plan_sections(rows)

    def who(self, role_text: str, manager: str | None, owner: Any) -> str:
        if manager and review.is_manager_owner(owner):
            return f"{manager}{self.strings['lparen']}{role_text}{self.strings['rparen']}" if role_text else manager
        return role_text

    def plan_sections(self, rows: list[ActionRow]) -> tuple[PlanSection, ...]:
        order = self.section_order
        section_name = self.role("action_section") or "action_section"
        sections = []
        for key in order:
            chosen = tuple(r for r in rows if r.section == key)
            if chosen:
                sections.append(PlanSection(key, self.fmt.label(key, section_name), chosen))
        other = tuple(r for r in rows if r.section not in order)
        if other:
            sections.append(PlanSection("other", self.strings["other_actions"], other))
        return tuple(sections)

    def decision_view(self, account: AccountResult, decision) -> DecisionView:
        result = account.decisions.get(decision.id)
        reasons = () if result is None else tuple(self.reason(decision.id, h) for h in result.hits)
        return DecisionView(decision.id, self.titles[decision.id], reasons, decision,
                            None if result is None else result.outputs, self.fact, self.separators)



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


