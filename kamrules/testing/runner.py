"""Running pack test cases: each group of cases is evaluated as one portfolio, with the facts a case
gives directly (features and scores included) overriding what would be computed; then only what the
case states is compared, and the rules each case exercised are counted for coverage."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from kamrules.data.reader import ReadOptions, read_table
from kamrules.engine.evaluate import evaluate
from kamrules.engine.evaluation import AccountResult
from kamrules.engine.features import compute_feature, compute_score, derived_waves, prepare_facts, with_columns
from kamrules.errors import DataError, EvaluationError
from kamrules.i18n import TESTING
from kamrules.language import expr as ex
from kamrules.pack import RulePack, ScoreSpec
from kamrules.results.explain import account_values, why_not
from kamrules.testing.cases import TestCase, TestFile, collect_values, input_specs


@dataclass
class Mismatch:
    """One stated expectation that did not hold, already in words (per language)."""

    decision: str
    lines: dict  # lang -> list of text lines


@dataclass
class CaseResult:
    case: TestCase
    mismatches: list = field(default_factory=list)
    error: str = ""

    @property
    def passed(self) -> bool:
        return not self.mismatches and not self.error


@dataclass
class Coverage:
    """Per decision: every rule (and the default) and whether some case exercised it."""

    decisions: dict  # decision id -> {rule id or "default": number of cases}

    def percent(self) -> float:
        total = sum(len(rules) for rules in self.decisions.values())
        hit = sum(1 for rules in self.decisions.values() for n in rules.values() if n)
        return 100.0 if not total else round(100.0 * hit / total, 1)

    def never(self) -> dict:
        return {d: [r for r, n in rules.items() if not n] for d, rules in self.decisions.items()}


@dataclass
class TestRun:
    __test__ = False

    results: list
    coverage: Coverage
    properties: list = field(default_factory=list)  # PropertyResult (kamrules.testing.property_runs)
    cases_run: bool = True  # False with `kamrules test --no-cases`
    warnings: list = field(default_factory=list)  # lines about the data properties were checked on

    @property
    def failed(self) -> list:
        return [r for r in self.results if not r.passed]

    @property
    def failed_properties(self) -> list:
        return [r for r in self.properties if not r.passed]


def run_tests(pack: RulePack, files: list[TestFile], as_of: dt.date, lang: str = "en") -> TestRun:
    """Run every case of every file (`as_of` for cases that give no date; `lang`: the language of
    messages about the cases' data files)."""
    coverage = empty_coverage(pack)
    groups: dict[tuple, list] = {}
    for test_file in files:
        for case in test_file.cases:
            groups.setdefault((case.group, case.as_of or as_of), []).append(case)
    results = []
    for (_, day), cases in groups.items():
        try:
            accounts = _evaluate_group(pack, cases, day, lang)
        except (DataError, EvaluationError) as exc:  # the case fails, the others still run
            results += [CaseResult(case, error=str(exc)) for case in cases]
            continue
        for case, account in zip(cases, accounts):
            results.append(CaseResult(case, check_case(pack, case, account)))
            for result in account.decisions.values():
                for hit in result.hits:
                    if hit.rule in coverage.decisions[result.decision]:
                        coverage.decisions[result.decision][hit.rule] += 1
    order = {id(case): i for i, case in enumerate(c for f in files for c in f.cases)}
    results.sort(key=lambda r: order[id(r.case)])
    return TestRun(results, coverage)


def empty_coverage(pack: RulePack) -> Coverage:
    """Every rule and default of every decision, exercised by no case yet."""
    return Coverage({d.id: {**{r.id: 0 for r in d.rules}, **({"default": 0} if d.default is not None else {})}
                     for d in pack.decisions})


def _evaluate_group(pack: RulePack, cases: list[TestCase], as_of: dt.date, lang: str = "en") -> list[AccountResult]:
    """Evaluate the cases of one group as one portfolio; their accounts, in case order."""
    first = cases[0]
    if first.file.lower().endswith(".csv"):
        read = read_table(first.file, input_specs(pack), ReadOptions(lang=lang))
        frame = read.frame
        position = {line: i for i, line in enumerate(read.row_numbers)}
        wanted = [position[case.loc.line] for case in cases]
    else:
        frames = []
        if first.portfolio is not None:
            frames.append(read_table(first.portfolio, list(pack.fields.values()), ReadOptions(lang=lang)).frame)
        frames.append(pd.DataFrame([case.facts for case in cases]))
        frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        wanted = list(range(len(frame) - len(cases), len(frame)))
    facts = _facts_with_overrides(pack, frame, as_of)
    flat = _flattened(pack)
    evaluation = evaluate(flat, facts, as_of=as_of, input_name=first.file)
    return [evaluation.accounts[i] for i in wanted]


def _facts_with_overrides(pack: RulePack, frame: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Fields typed, then every feature and score computed in order, except where the case gives it."""
    frame = frame.reset_index(drop=True)
    facts = prepare_facts(pack, frame)
    flat = _flattened(pack)
    given = prepare_facts(flat, frame)  # the directly given features and scores, typed like fields
    for wave in derived_waves(pack.derived):  # (each wave joined to `facts` at once, as compute_derived does)
        added: dict[str, pd.Series] = {}
        for item in wave:
            computed = compute_score(item, facts) if isinstance(item, ScoreSpec) else compute_feature(item, facts, as_of)
            if item.name in frame.columns:
                override = given[item.name]
                computed = override.where(override.notna(), computed) if computed.dtype == override.dtype \
                    else override.astype(object).where(override.notna(), computed.astype(object))
            added[item.name] = computed
        facts = with_columns(facts, added)
    return facts


def _flattened(pack: RulePack) -> RulePack:
    """The same pack with every feature and score read as a field: the values are given, not derived."""
    specs = {spec.name: spec for spec in input_specs(pack)}
    return dataclasses.replace(pack, fields=specs, derived=[])


# ------------------------------------------------------------------------------------------ checking


def check_case(pack: RulePack, case: TestCase, account: AccountResult) -> list[Mismatch]:
    values = account_values(pack, account)
    found = []
    for name, want in case.expect.items():
        got = account.value(name)
        got_cmp = sorted(map(str, got)) if isinstance(got, list) else got
        if not _same(want, got_cmp):
            decision = next(d for d in pack.decisions if name in d.outputs)
            found.append(_mismatch(pack, decision.id, account, values, name, want, got, None))
    for decision_id, rule_id in case.rules.items():
        fired = [h.rule for h in account.decisions[decision_id].hits]
        if not pack.decision(decision_id).policy.rule_expected(fired, rule_id):
            found.append(_mismatch(pack, decision_id, account, values, None, None, None, rule_id))
    for kind in ("includes", "excludes"):
        for decision_id, wanted in getattr(case, kind).items():
            output = collect_values(pack, decision_id)
            got = set(map(str, account.value(output) or []))
            wrong = [v for v in wanted if (v not in got) == (kind == "includes")]
            if wrong:
                found.append(_collect_mismatch(pack, decision_id, account, values, output, wrong, kind))
    return found


def _same(want: Any, got: Any) -> bool:
    if got is None:
        return want in (None, "")
    if isinstance(got, bool):
        return str(want).lower() == str(got).lower()
    if isinstance(got, (int, float)):
        try:
            return ex.rnd(float(want)) == ex.rnd(float(got))
        except (TypeError, ValueError):
            return False
    if isinstance(want, list):
        return want == got
    return str(want) == str(got)


def _show(pack: RulePack, output: str, value: Any, lang: str) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        return ", ".join(_show(pack, output, v, lang) for v in value)
    label = pack.label(output, value, lang)
    return f"{label} ({value})" if label != str(value) else str(value)


def _verdict(pack: RulePack, decision_id: str, account: AccountResult, lang: str) -> str:
    words = TESTING[lang]
    hits = [h.rule for h in account.decisions[decision_id].hits]
    if not hits:
        return words["nothing"]
    if hits == ["default"]:
        return words["default"]
    return words["decided"].format(rule=", ".join(hits))


def _mismatch(pack, decision_id, account, values, output, want, got, rule_id) -> Mismatch:
    decision = pack.decision(decision_id)
    lines = {}
    for lang in ("en", "zh"):
        words = TESTING[lang]
        if output is not None:
            head = f"{pack.name_label(output, lang)} [{output}]: {words['expected']} {_show(pack, output, want, lang)}, " \
                   f"{words['got']} {_show(pack, output, got, lang)}"
            candidates = [r for r in decision.rules if _same(want, r.then.get(output))]
        else:
            head = f"{decision_id}: {words['expected']} rule '{rule_id}', {words['got']} " \
                   f"{account.decisions[decision_id].rule or '—'}"
            candidates = [r for r in decision.rules if r.id == rule_id]
        text = [head, "  " + _verdict(pack, decision_id, account, lang)]
        for rule in candidates[:3]:
            text.append("  " + words["not_fired"].format(rule=rule.id))
            reasons = why_not(rule.when, values, lang)
            text += ["    " + reason for reason in reasons or [words["holds"].format(hit=decision.hit)]]
        lines[lang] = text
    return Mismatch(decision_id, lines)


def _collect_mismatch(pack, decision_id, account, values, output, wrong, kind) -> Mismatch:
    decision = pack.decision(decision_id)
    lines = {}
    for lang in ("en", "zh"):
        words = TESTING[lang]
        text = [f"{pack.name_label(output, lang)} [{output}]: {words[kind]}: {_show(pack, output, wrong, lang)}",
                f"  {words['got']}: {_show(pack, output, sorted(map(str, account.value(output) or [])), lang)}"]
        if kind == "includes":
            for rule in [r for r in decision.rules if r.then.get(output) in wrong][:3]:
                text.append("  " + words["not_fired"].format(rule=rule.id))
                text += ["    " + reason for reason in why_not(rule.when, values, lang)]
        else:
            fired = {h.rule for h in account.decisions[decision_id].hits}
            for rule in [r for r in decision.rules if r.id in fired and r.then.get(output) in wrong][:3]:
                text.append("  " + words["decided"].format(rule=rule.id))
        lines[lang] = text
    return Mismatch(decision_id, lines)
