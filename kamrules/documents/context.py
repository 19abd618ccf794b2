"""The builder that fills a playbook's typed context (`context_model`) from an evaluation."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, Iterable

from kamrules.data.cells import days_after
from kamrules.documents.files import playbook_paths
from kamrules.documents.formatting import Formatter
from kamrules.documents import review
from kamrules.engine.evaluation import AccountResult, DecisionResult, Evaluation
from kamrules.errors import UsageError
from kamrules.i18n import UI, Strings, is_missing
from kamrules.language.text import placeholder_names
from kamrules.pack import RulePack, pick
from kamrules.results.columns import column_values
from kamrules.documents.context_model import (
    AccountView, ActionRow, Choice, DecisionView, Fact, Finding, PlanSection, PlaybookContext, Reason, RunInfo, Score,
    Service, Signal, Texts, Values, known_names,
)

# The roles the default templates give a section of their own (see `RulePack.role`: a pack names its
# own fields and outputs for them under `pack: roles:`). A section whose role the pack lacks is simply
# empty (None or ()).
ACTION_ROLES = ("action", "action_title", "action_owner", "action_due_days", "action_measure", "action_section")
RANKING_ROLES = ("abc_class", "sales_rank", "sales_share", "sales_cum_share")
SECTION_ORDER = ("establish", "develop", "maintain")  # when the pack lists no section values
FILLED_CACHE = 200_000  # filled reasons kept (a few tens of MB at most), then the cache starts again



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
        self.count_names = {d.id: d.count_name for d in pack.decisions if d.policy.lists}
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
        # … among the columns the file has: a column missing from the whole file is one portfolio
        # message (report, console), not a line in every playbook
        carried = review.carried_fields(evaluation, self.field_names)
        self.needed = [n for n in self.field_names if n in wanted and n in carried]
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
            next_review=None if review_days is None else days_after(self.as_of, review_days),
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
                     self.fmt.show(value, self.score_name), self.ranks.get(account.index), self.scored,
                     self.score_basis(values, value))

    def score_basis(self, values: Values, value) -> str:
        """How many of the score's criteria the account has: said beside a score, and said instead of one
        when it rests on fewer than the score's `min_criteria` (never called a composite then)."""
        spec = self.pack.scores.get(self.score_name)
        if spec is None:
            return ""
        have = sum(1 for c in spec.criteria if not is_missing(values.get(c.field)))
        words = UI[self.lang] if self.lang in UI else UI["en"]
        if is_missing(value):
            return words["score_not_computed"] % (have, len(spec.criteria), spec.min_criteria_value())
        return words["score_rests"] % (have, len(spec.criteria)) if have < len(spec.criteria) else ""

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
                due=None if days is None else days_after(self.as_of, days),  # (None past year 9999)
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



def build_context(evaluation: Evaluation, account: AccountResult, lang: str = "en") -> PlaybookContext:
    """The context of one account's playbook (for one-off use; `render_playbooks` reuses a builder)."""
    return ContextBuilder(evaluation, lang).build(account)
