"""`evaluate --overrides FILE`: a decision output set by hand, with a reason, an owner and an end date.

A row says: for this account, this output (`tier`, `service_level`, `risk_level` … any output of a
single-valued decision) is this value, because of this reason, decided by this owner, until this date.
The value is checked against the pack (an unknown tier is refused, naming the allowed ones); an
override whose date has passed is ignored with a warning.

How it is applied — after the rules, never inside the engine. The portfolio is evaluated twice through
the engine's public `evaluate`:

1. as the rules decide it (what "the rules said" beside each override, and whether they now agree);
2. with a variant of the pack in which every overridden decision has, after its own rules, one rule per
   distinct way it is overridden (`override`, `override.2` …): that rule holds for exactly the accounts
   a hidden per-account value marks (`override_<decision>`), and the decision's own rules are kept
   from those accounts. So the overridden output is decided by a rule like any other, and every later
   decision that reads it (service, risk, actions …) follows it; the features are the same in both
   runs, computed over the whole portfolio.

The evaluation handed on carries the pack as loaded plus the override rules (the same hash, fields and
hit policies: the manifest, register and documents see the pack the user has), so the decision table's
`<decision>_rule` column and the trace say `override`, and the override rule's reason says "overridden
by OWNER: REASON (until DATE); the rules said …".
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from kamrules.data.wording import say
from kamrules.errors import DataError
from kamrules.language import expr as ex
from kamrules.pack import Decision, RulePack, Rule
from kamrules.pack.fields import FieldSpec, normalise_header
from kamrules.review.files import Column, ReviewFile, read_review_file, read_run_record, refuse, unknown_accounts

ACCOUNT = Column("account", {"en": "Account ID", "zh": "客户编码"}, required=True,
                 aliases=("account_id", "Account", "Customer ID", "Customer Code", "Record ID", "客户ID", "客户编号",
                          "客户代码", "客户"))
COLUMNS = (
    ACCOUNT,
    Column("output", {"en": "Output", "zh": "调整项"}, required=True,
           aliases=("Decision", "Field", "Overridden", "输出", "决策", "覆盖项", "调整字段")),
    Column("value", {"en": "Value", "zh": "调整为"}, required=True,
           aliases=("New value", "Set to", "Override", "值", "取值", "新值")),
    Column("reason", {"en": "Reason", "zh": "原因"}, required=True, aliases=("Why", "理由", "调整原因", "说明")),
    Column("owner", {"en": "Owner", "zh": "负责人"}, required=True,
           aliases=("By", "Decided by", "Approved by", "调整人", "审批人", "决定人")),
    Column("expires", {"en": "Expires", "zh": "有效期至"}, type="date", required=True,
           aliases=("Until", "Valid until", "End date", "Expiry", "Expiry date", "到期日", "截止日期", "有效期")),
)
RULE_ID = "override"  # the id of the rule an override decides by (override.2 … for further combinations)
TRUE_WORDS = ("true", "yes", "y", "1", "是", "对", "有")
FALSE_WORDS = ("false", "no", "n", "0", "否", "不", "无")


@dataclass(frozen=True)
class Override:
    """One row of the overrides file, its value typed as the output's."""

    account: str
    output: str
    value: Any
    reason: str
    owner: str
    expires: dt.date
    row: int  # the row (or YAML line) it was read from
    unit: str = "row"


@dataclass
class OverrideFile:
    """The overrides that apply on the run's date, and those whose date has passed (ignored)."""

    path: Path
    active: list = field(default_factory=list)  # Override
    expired: list = field(default_factory=list)  # Override
    warnings: list = field(default_factory=list)  # one line per expired override, in the user's language


# ------------------------------------------------------------------------------------------------- reading


def overridable(pack: RulePack) -> dict[str, Decision]:
    """The outputs an override may set: those of single-valued decisions (a collect decision's list is
    the rules' to make: override the decision it follows from)."""
    return {name: d for d in pack.decisions if not d.policy.lists for name in d.outputs}


def read_overrides(path: Path, pack: RulePack, accounts: Sequence[str], as_of: dt.date, data_name: str,
                   lang: str = "en") -> OverrideFile:
    """The overrides file, checked against the pack and the data: every problem of every row in one
    DataError (unknown account, output or value, a row repeated); overrides whose date is before
    `as_of` are set apart with a warning each."""
    review = read_review_file(path, COLUMNS, lang)
    problems = unknown_accounts(review, accounts, data_name, lang)
    outputs = overridable(pack)
    result = OverrideFile(Path(path))
    seen: dict[tuple, int] = {}
    for index, record in enumerate(review.records):
        output = record["output"]
        spec = pack.output(output) if output is not None else None
        if output is not None and output not in outputs:
            problems.append(_output_problem(review, index, output, pack, outputs, lang))
            continue
        value, problem = typed_value(spec, record["value"], pack, lang)
        if problem is not None:
            problems.append(say(lang, "override_bad_value", place=review.place(lang, index, "value"),
                                value=record["value"], output=output, problem=problem))
            continue
        override = Override(record["account"], output, value, record["reason"], record["owner"], record["expires"],
                            review.rows[index], review.unit)
        if override.expires < as_of:
            result.expired.append(override)
            result.warnings.append(say(lang, "warning", message=say(
                lang, "override_expired", place=review.place(lang, index, "expires"), output=output,
                account=override.account, date=override.expires.isoformat(), as_of=as_of.isoformat())))
            continue
        key = (override.account, output)
        if key in seen:
            problems.append(say(lang, "override_twice", place=review.place(lang, index), account=override.account,
                                output=output, first=say(lang, f"at_{review.unit}", n=seen[key])))
            continue
        seen[key] = override.row
        result.active.append(override)
    refuse(review.path, problems, lang)
    return result


def _output_problem(review: ReviewFile, index: int, output: str, pack: RulePack, outputs: dict,
                    lang: str) -> str:
    from kamrules.data.wording import hint

    place = review.place(lang, index, "output")
    collect = next((d for d in pack.decisions if d.policy.lists and output in d.outputs), None)
    if collect is not None:
        return say(lang, "override_list_output", place=place, output=output, decision=collect.id)
    return say(lang, "override_unknown_output", place=place, output=output, hint=hint(lang, output, outputs),
               outputs=", ".join(outputs))


def typed_value(spec, text: str | None, pack: RulePack, lang: str = "en") -> tuple[Any, str | None]:
    """An override's value as its output's type: (value, None) or (None, why not). A category takes its
    value or the value's label in any language ("Key account", "重点客户" for `key`)."""
    if text is None:
        return None, say(lang, "r_required")
    if spec.type == "category":
        wanted = normalise_header(text)
        for value in spec.values:
            words = [value, *(spec.value_labels.get(value) or {}).values()]
            if any(normalise_header(str(w)) == wanted for w in words):
                return value, None
        return None, say(lang, "override_not_value", values=", ".join(spec.values))
    if spec.type == "number":
        from kamrules.data.numbers import parse_number

        number, reason = parse_number(text, lang=lang)
        return (None, reason) if reason is not None else (ex.rnd(number), None)
    if spec.type == "boolean":
        folded = text.strip().casefold()
        if folded in TRUE_WORDS:
            return True, None
        if folded in FALSE_WORDS:
            return False, None
        return None, say(lang, "override_not_boolean")
    return text, None


# ------------------------------------------------------------------------------------------------ applying


@dataclass(frozen=True)
class Applied:
    """One override as the documents show it: the value set by hand beside what the rules said."""

    account: str
    position: int  # the account's position in the evaluation
    decision: str
    output: str
    value: Any  # set by hand
    rules_value: Any  # what the rules said
    owner: str
    reason: str
    expires: dt.date

    @property
    def agrees(self) -> bool:
        """The rules now give the same value: the override can be retired."""
        return self.value == self.rules_value


@dataclass
class OverridePlan:
    """Everything an overrides file changes in a run: the evaluation's pack variants, the hidden
    per-account values, and per account what was set by hand (`applied`)."""

    engine_pack: RulePack  # decides: the override rules, the decisions' own rules kept from their accounts
    shown_pack: RulePack  # the pack as loaded plus the override rules (same hash): what the results carry
    hidden: dict  # column name -> one value per account (the override codes and notes)
    applied: list  # Applied, in account order then pack order
    path: Path | None = None
    added: dict = field(default_factory=dict)  # decision id -> (its hidden code column, the override rules' ids)

    def by_position(self) -> dict[int, list]:
        found: dict[int, list] = {}
        for item in self.applied:
            found.setdefault(item.position, []).append(item)
        return found

    def ready_to_retire(self) -> list:
        """The overrides the rules now agree with."""
        return [a for a in self.applied if a.agrees]

    def explained(self, evaluation: Any, account: Any) -> tuple[Any, Any]:
        """(the evaluation, the account) as `explain` shows one account: the override rules and the hidden
        value they read are left out of each decision nobody overrode for this account (an account the
        rules decide is explained by the rules alone; `--verbose` lists no `override` rule for it)."""
        mine = {item.decision for item in self.applied if item.position == account.index}
        untouched = {d: added for d, added in self.added.items() if d not in mine}
        if not untouched:
            return evaluation, account
        pack = evaluation.pack
        decisions = [dataclasses.replace(d, rules=tuple(r for r in d.rules if r.id not in untouched[d.id][1]))
                     if d.id in untouched else d for d in pack.decisions]
        view = dataclasses.replace(pack, decisions=decisions)
        if hasattr(pack, "overrides"):
            view.overrides = pack.overrides
        results = dict(account.decisions)
        for decision_id, (code_name, _) in untouched.items():
            result = results[decision_id]
            hits = tuple(dataclasses.replace(h, reads={k: v for k, v in h.reads.items() if k != code_name})
                         for h in result.hits)
            results[decision_id] = dataclasses.replace(result, hits=hits)
        return dataclasses.replace(evaluation, pack=view), dataclasses.replace(account, decisions=results)

    def table_columns(self, count: int, pack: RulePack, lang: str) -> dict:
        """The decision table's columns for the overridden outputs (added at the end, in pack order):
        `<output>_by_rules` (what the rules said) and `<output>_override` ("OWNER: REASON (until DATE)"),
        filled on the overridden accounts only."""
        columns: dict = {}
        outputs = [name for d in pack.decisions for name in d.outputs if any(a.output == name for a in self.applied)]
        for name in outputs:
            spec = pack.output(name)
            kind = "number" if spec.type == "number" else "boolean" if spec.type == "boolean" else "text"
            by_rules = np.full(count, None, dtype=object)
            note = np.full(count, None, dtype=object)
            for item in self.applied:
                if item.output == name:
                    by_rules[item.position] = item.rules_value
                    note[item.position] = say(lang, "override_cell", owner=item.owner, reason=item.reason,
                                              date=item.expires.isoformat())
            columns[f"{name}_by_rules"] = (kind, by_rules)
            columns[f"{name}_override"] = ("text", note)
        return columns


def plan_overrides(pack: RulePack, overrides: Sequence[Override], rules: Any, lang: str = "en",
                   path: Path | None = None) -> OverridePlan:
    """The pack variants and hidden values for `overrides`, given `rules`: the evaluation as the rules
    decided it (its table gives each account's position and the rules' own values)."""
    table = rules.table
    ids = table["account_id"].astype(object).where(table["account_id"].notna(), None).tolist()
    position_of = {str(v): i for i, v in enumerate(ids) if v is not None}
    count = len(ids)
    decision_of = overridable(pack)
    symbols = pack.symbols()
    taken = set(symbols) | set(pack.params)
    hidden: dict = {}
    applied: list[Applied] = []
    engine_decisions, shown_decisions = list(pack.decisions), list(pack.decisions)
    extra_fields: dict = {}
    added: dict = {}
    for number, decision in enumerate(pack.decisions):
        mine = [o for o in overrides if decision_of.get(o.output) is decision]
        if not mine:
            continue
        code_name = _free_name(f"override_{decision.id}", taken)
        note_name = _free_name(f"override_{decision.id}_note", taken)
        codes = np.full(count, None, dtype=object)
        notes = np.full(count, None, dtype=object)
        combos: dict[str, dict] = {}
        per_account: dict[int, dict] = {}
        for item in mine:
            per_account.setdefault(position_of[item.account], {})[item.output] = item
        for position, chosen in sorted(per_account.items()):
            ordered = {name: chosen[name] for name in decision.outputs if name in chosen}
            combo = implied(decision, {name: item.value for name, item in ordered.items()})
            code = "; ".join(f"{name}={_code_text(value)}" for name, value in combo.items())
            combos.setdefault(code, combo)
            codes[position] = code
            parts = []
            for name, item in ordered.items():
                said = rules.table[name].iloc[position] if name in rules.table.columns else None
                said = None if said is None or (isinstance(said, float) and said != said) else _plain(said)
                applied.append(Applied(item.account, position, decision.id, name, item.value, said, item.owner,
                                       item.reason, item.expires))
                parts.append(say(lang, "override_because", output=pack.name_label(name, lang),
                                 owner=item.owner, reason=item.reason, date=item.expires.isoformat(),
                                 rules=_label(pack, name, said, lang)))
            notes[position] = say(lang, "review_semicolon").join(parts) if len(parts) > 1 else parts[0]
        hidden[code_name], hidden[note_name] = codes, notes
        extra_fields[code_name] = FieldSpec(code_name, "string")
        extra_fields[note_name] = FieldSpec(note_name, "string")
        new_rules = _override_rules(decision, combos, code_name, note_name, path, lang)
        added[decision.id] = (code_name, frozenset(r.id for r in new_rules))
        guard = ex.Missing(ex.Name(code_name, ex.STRING))
        guarded = tuple(dataclasses.replace(r, when=_and(r.when, guard), reads=r.reads | {code_name})
                        for r in decision.rules)
        engine_decisions[number] = dataclasses.replace(decision, rules=guarded + new_rules,
                                                       reads=decision.reads | {code_name})
        shown_decisions[number] = dataclasses.replace(decision, rules=tuple(decision.rules) + new_rules)
    applied.sort(key=lambda a: (a.position, [d.id for d in pack.decisions].index(a.decision)))
    marks = [f"{name}:{position}={code}" for name, column in sorted(hidden.items()) if not name.endswith("_note")
             for position, code in enumerate(column.tolist()) if code is not None]
    digest = hashlib.sha256("|".join([pack.hash, "overrides", *marks]).encode("utf-8")).hexdigest()[:16]
    engine_pack = dataclasses.replace(pack, fields={**pack.fields, **extra_fields}, decisions=engine_decisions,
                                      hash=digest)
    shown_pack = dataclasses.replace(pack, decisions=shown_decisions)
    for variant in (engine_pack, shown_pack):  # what-if --set values stay recorded (pack/whatif.py)
        if hasattr(pack, "overrides"):
            variant.overrides = pack.overrides
    return OverridePlan(engine_pack, shown_pack, hidden, applied, path, added)


def implied(decision: Decision, chosen: dict) -> dict:
    """The outputs an override sets: those chosen, and each other output of the decision that every rule
    (or the default) giving the chosen values agrees on — a service level's response hours follow it;
    why an account is key (the rules giving `key` disagree) is left empty."""
    givers = [rule.then for rule in decision.rules if all(rule.then.get(k) == v for k, v in chosen.items())]
    if decision.default is not None and all(decision.default.get(k) == v for k, v in chosen.items()):
        givers.append(decision.default)
    result = {}
    for name in decision.outputs:
        if name in chosen:
            result[name] = chosen[name]
            continue
        values = [then[name] for then in givers if name in then]
        if givers and len(values) == len(givers) and all(v == values[0] for v in values):
            result[name] = values[0]
    return result


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def _code_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return ex.format_number(value)
    return str(value)


def _label(pack: RulePack, name: str, value: Any, lang: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return say(lang, "review_yes" if value else "review_no")
    if isinstance(value, float):
        return ex.format_number(value)
    return pack.label(name, value, lang)


def _free_name(name: str, taken: set) -> str:
    while name in taken:
        name += "_"
    taken.add(name)
    return name


def _and(when: ex.Node, guard: ex.Node) -> ex.Node:
    items = when.items if isinstance(when, ex.And) else (when,)
    return ex.And((*items, guard))


def _override_rules(decision: Decision, combos: dict, code_name: str, note_name: str, path: Path | None,
                    lang: str) -> tuple:
    from kamrules.pack.model import MAX_BRANCHES_PER_DECISION

    room = MAX_BRANCHES_PER_DECISION - len(decision.rules)
    if len(combos) > room:
        raise DataError(say(lang, "override_too_many", file=path, decision=decision.id, n=len(combos), room=room))
    source = {language: say(language, "override_source", file=path.name if path else "--overrides")
              for language in ("en", "zh")}
    rules = []
    for number, (code, combo) in enumerate(combos.items(), 1):
        when = ex.Compare("==", ex.Name(code_name, ex.STRING), ex.Const(code, ex.STRING))
        rules.append(Rule(id=RULE_ID if number == 1 else f"{RULE_ID}.{number}",
                          when_text=f'{code_name} == "{code}"', when=when, then=dict(combo),
                          because={"en": "{" + note_name + "}", "zh": "{" + note_name + "}"}, source=source,
                          reads=frozenset({code_name})))
    return tuple(rules)


# ----------------------------------------------------------------------------------------------- the run


def evaluate_with_overrides(pack: RulePack, frame: pd.DataFrame, overrides: OverrideFile, *, lang: str = "en",
                            **evaluate_options) -> tuple[Any, OverridePlan]:
    """(the evaluation with the overrides applied, the plan that says what was set by hand): the rules'
    own evaluation first (what they said), then the pack variant's (see the module's docstring)."""
    from kamrules.engine.evaluate import evaluate

    rules = evaluate(pack, frame.copy(), lang=lang, **evaluate_options)
    if not overrides.active:
        return rules, OverridePlan(pack, pack, {}, [], overrides.path)
    plan = plan_overrides(pack, overrides.active, rules, lang, overrides.path)
    del rules  # (its values are in the plan)
    marked = frame.copy()
    for name, values in plan.hidden.items():
        marked[name] = pd.Series(values, index=marked.index, dtype=object)
    decided = evaluate(plan.engine_pack, marked, lang=lang, **evaluate_options)
    return dataclasses.replace(decided, pack=plan.shown_pack), plan


def retire_notes(plan: OverridePlan, pack: RulePack, lang: str = "en") -> list[str]:
    """One warning per override the rules now agree with ("ready to retire")."""
    name = plan.path.name if plan.path else "--overrides"
    return [say(lang, "warning", message=say(lang, "override_agrees", file=name, output=item.output,
                                                account=item.account, value=_label(pack, item.output, item.value, lang)))
            for item in plan.ready_to_retire()]


def applied_labels(item: Applied, pack: RulePack, lang: str) -> tuple[str, str]:
    """(the value set by hand, the rules' value) as labels in `lang`."""
    return _label(pack, item.output, item.value, lang), _label(pack, item.output, item.rules_value, lang)


# ------------------------------------------------------------------------------- the run folder's record

RECORD = "overrides.json"  # in OUT: the overrides a run applied (explain --run, diff OUT_A OUT_B)
RECORD_FORMAT = "kamrules-overrides"
MAX_RECORD_BYTES = 64 * 1024 * 1024  # ~250 bytes an override: a quarter of a million rows


@dataclass
class RecordedOverrides:
    """A run folder's `overrides.json`: the overrides the run read (`file`: the active ones as it applied
    them, the expired ones it ignored) and those the rules then agreed with (`ready`)."""

    file: OverrideFile
    ready: list = field(default_factory=list)  # Override
    by_rules: dict = field(default_factory=dict)  # (account, output) -> what the rules said in that run


def record_bytes(overrides: OverrideFile, plan: OverridePlan | None) -> bytes:
    """`overrides.json` of a run with `--overrides`: what explain --run and diff need, byte-identical for
    the same inputs (the file's name, not its path; the overrides in account then pack order)."""
    import json

    def common(account: str, output: str, value: Any, owner: str, reason: str, expires: dt.date) -> dict:
        return {"account": account, "output": output, "value": _plain(value), "owner": owner, "reason": reason,
                "expires": expires.isoformat()}

    document = {
        "format": RECORD_FORMAT, "version": 1, "file": overrides.path.name,
        "applied": [{**common(a.account, a.output, a.value, a.owner, a.reason, a.expires),
                     "by_rules": _plain(a.rules_value), "ready_to_retire": a.agrees}
                    for a in (plan.applied if plan is not None else [])],
        "expired": [common(o.account, o.output, o.value, o.owner, o.reason, o.expires) for o in overrides.expired],
    }
    return (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def read_record(folder: Path, pack: RulePack | None = None, lang: str = "en") -> RecordedOverrides | None:
    """The overrides a finished run applied, from its `overrides.json` (None: the run had no --overrides),
    read with the guards of a run folder's manifest; with `pack`, each output and value is checked against
    it. ConfigError naming the file and the entry when it was edited or damaged."""
    path = Path(folder) / RECORD
    document = read_run_record(Path(folder), RECORD, MAX_RECORD_BYTES, "overrides_record_json", lang)
    if document is None:
        return None
    return _Record(path, pack, lang).read(document)


class _Record:
    """The checks of one `overrides.json`: every entry of the type `record_bytes` writes."""

    def __init__(self, path: Path, pack: RulePack | None, lang: str):
        self.path, self.pack, self.lang = path, pack, lang

    def bad(self, key: str, value: Any) -> DataError:
        return DataError(say(self.lang, "overrides_record_bad", path=self.path, key=key, value=str(value)[:200]))

    def read(self, document: Any) -> RecordedOverrides:
        if not isinstance(document, dict) or document.get("format") != RECORD_FORMAT:
            raise self.bad("format", document.get("format") if isinstance(document, dict) else document)
        name = document.get("file")
        if not isinstance(name, str) or not name:
            raise self.bad("file", name)
        recorded = RecordedOverrides(OverrideFile(Path(name)))
        for key in ("applied", "expired"):
            entries = document.get(key, [])
            if not isinstance(entries, list):
                raise self.bad(key, entries)
            for number, entry in enumerate(entries):
                override = self.override(entry, f"{key}[{number}]")
                if key == "expired":
                    recorded.file.expired.append(override)
                    continue
                recorded.file.active.append(override)
                ready = entry.get("ready_to_retire")
                if not isinstance(ready, bool):
                    raise self.bad(f"{key}[{number}].ready_to_retire", ready)
                if ready:
                    recorded.ready.append(override)
                recorded.by_rules[(override.account, override.output)] = entry.get("by_rules")
        return recorded

    def override(self, entry: Any, where: str) -> Override:
        if not isinstance(entry, dict):
            raise self.bad(where, entry)
        texts = {}
        for key in ("account", "output", "owner", "reason", "expires"):
            value = entry.get(key)
            if not isinstance(value, str) or not value:
                raise self.bad(f"{where}.{key}", value)
            texts[key] = value
        try:
            expires = dt.date.fromisoformat(texts["expires"])
        except ValueError:
            raise self.bad(f"{where}.expires", texts["expires"]) from None
        value = entry.get("value")
        if value is None or not isinstance(value, (str, int, float, bool)) or not self.fits(texts["output"], value):
            raise self.bad(f"{where}.value" if texts["output"] in self.outputs() else f"{where}.output",
                           value if texts["output"] in self.outputs() else texts["output"])
        return Override(texts["account"], texts["output"], value, texts["reason"], texts["owner"], expires, 0)

    def outputs(self) -> dict:
        return overridable(self.pack) if self.pack is not None else {}

    def fits(self, output: str, value: Any) -> bool:
        if self.pack is None:
            return True
        if output not in self.outputs():
            return False
        spec = self.pack.output(output)
        if spec.type == "category":
            return value in spec.values
        if spec.type == "number":
            return isinstance(value, (int, float)) and not isinstance(value, bool)
        if spec.type == "boolean":
            return isinstance(value, bool)
        return isinstance(value, str)


def retiring(overrides: Sequence, side: Any) -> list:
    """The overrides the rules agree with (an OverridePlan's `ready_to_retire()` or a record's `ready`) as
    `kamrules.results.diff.Retire` rows, named as `side` (a diff Side of the same run) names the account."""
    from kamrules.results.diff import Retire

    column = side.roles.get("account_name") if side is not None else None
    found = side.frame.index if column else ()

    def name(account: str) -> Any:
        return _plain(side.frame.at[account, column]) if account in found else None

    return [Retire(o.account, name(o.account), o.output, _plain(o.value), o.owner, o.reason, o.expires.isoformat())
            for o in overrides]
