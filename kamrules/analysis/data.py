"""`validate --data FILE`: what the pack will meet in a real file. Rules no account hits, text literals
that never occur in their column (with the near match: comparisons are case-sensitive, by design, so
'energy' does not match 'Energy'), fields the pack reads that the file lacks (which column matched which
field is data.columns.describe_mapping's job).

Rules are checked with the vectorized evaluator (the same language semantics as the engine, see
docs/rules.md), so a 100,000-account file takes seconds, not a full engine run."""

from __future__ import annotations

import datetime as dt
import numpy as np
import pandas as pd

from kamrules.analysis.findings import Finding
from kamrules.data.wording import hint as did_you_mean, say, spec_named, spec_ref
from kamrules.engine.features import compute_derived, prepare_facts
from kamrules.language import expr as ex
from kamrules.pack import Decision, RulePack, rules_without_data
from kamrules.pack.analysis import needs_absent
from kamrules.results.portfolio_team import index_basis

MAX_DISTINCT = 10_000  # distinct values of a column searched for a near match


def check_data(pack: RulePack, frame: pd.DataFrame, column_map: dict, source: str, as_of: dt.date,
               lang: str = "en") -> list[Finding]:
    """Findings about one data file (see `data_checks`)."""
    return data_checks(pack, frame, column_map, source, as_of, lang)[0]


def data_checks(pack: RulePack, frame: pd.DataFrame, column_map: dict, source: str, as_of: dt.date,
                lang: str = "en") -> tuple[list[Finding], list]:
    """(findings about one data file (its typed frame as read, and the fields found in it), in `lang`;
    the rules that cannot fire on it for lack of a column, as `rules_lacking_data` gives them).

    A rule that matches no account of this file is a note (good news as often as not: no account is in
    that situation), not a warning; a rule that cannot fire for lack of a column is a warning, from what
    the rule really reads (pack.rules_without_data) and never for a rule that matched an account."""
    facts = _plain_booleans(compute_derived(pack, prepare_facts(pack, frame), as_of))
    matched: dict = {}  # decision -> which accounts each rule matches
    deciding = {decision.id: _decide(decision, facts, matched) for decision in pack.decisions}
    blocked = _blocked(pack, column_map, matched)
    present = set(column_map)
    # a rule for files without a column this file has (`sales_prev is missing and …`) is no warning
    findings = _missing_fields([b for b in blocked if not needs_absent(_rule(pack, b[0], b[1]).when, present)],
                               pack, source, lang)
    basis = index_basis(pack, column_map)
    if basis is not None:  # "the index rests on 1 of its 6 criteria": not computed, ranks nothing
        findings.append(Finding("note", "index_basis", "", basis.get(lang) or basis["en"]))
    findings += _literals(pack, facts, column_map, source, lang)
    silent = {(d, r) for d, r, _ in blocked}
    for decision in pack.decisions:
        for rule, mask in zip(decision.rules, deciding[decision.id]):
            if not mask.any() and (decision.id, rule.id) not in silent:
                findings.append(Finding("note", "dead_on_data", decision.id,
                                        say(lang, "finding_dead", rule=rule.id, n=f"{len(facts):,}", source=source),
                                        rule=rule.id, location=rule.loc))
    return findings, blocked


def rules_lacking_data(pack: RulePack, frame: pd.DataFrame, column_map: dict, as_of: dt.date) -> list:
    """(decision, rule, missing fields) for the rules that cannot fire on this file for lack of a column:
    the rules whose condition needs a field the file lacks (pack.rules_without_data), less any that
    matched an account all the same."""
    facts = _plain_booleans(compute_derived(pack, prepare_facts(pack, frame), as_of))
    matched: dict = {}
    for decision in pack.decisions:
        _decide(decision, facts, matched)
    return _blocked(pack, column_map, matched)


def _rule(pack: RulePack, decision_id: str, rule_id: str):
    return next(rule for rule in pack.decision(decision_id).rules if rule.id == rule_id)


def _blocked(pack: RulePack, column_map: dict, matched: dict) -> list:
    found = []
    for decision_id, rule_id, names in rules_without_data(pack, column_map):
        decision = pack.decision(decision_id)
        position = next(i for i, rule in enumerate(decision.rules) if rule.id == rule_id)
        if not matched[decision_id][position].any():
            found.append((decision_id, rule_id, names))
    return found


def _missing_fields(blocked: list, pack: RulePack, source: str, lang: str = "en") -> list[Finding]:
    findings = []
    by_field: dict[str, list] = {}
    for decision_id, rule_id, names in blocked:
        for name in names:
            by_field.setdefault(name, []).append(f"{decision_id} → {rule_id}")
    for name, rules in by_field.items():
        shown = say(lang, "sep").join(rules[:5]) + (say(lang, "more", n=len(rules) - 5) if len(rules) > 5 else "")
        message = say(lang, "finding_missing_field", field=spec_named(pack.fields[name], lang), source=source,
                      n=len(rules), rules=shown)
        findings.append(Finding("warning", "missing_field", "", message, location=pack.fields[name].loc))
    return findings


def _literals(pack: RulePack, facts: pd.DataFrame, column_map: dict, source: str, lang: str = "en") -> list[Finding]:
    """Text constants compared with a text field that never occur in its column."""
    findings, seen = [], set()
    distinct: dict[str, set] = {}
    for decision in pack.decisions:
        for rule in decision.rules:
            for name, literal in _text_literals(rule.when):
                spec = pack.fields.get(name)
                if spec is None or spec.type != "string" or name not in column_map or (name, literal) in seen:
                    continue
                seen.add((name, literal))
                if name not in distinct:
                    distinct[name] = set(facts[name].dropna().astype(str).unique()[:MAX_DISTINCT])
                values = distinct[name]
                if literal in values:
                    continue
                folded = sorted(v for v in values if v.casefold() == literal.casefold())
                hint = say(lang, "finding_case", value=folded[0]) if folded else did_you_mean(lang, literal, values)
                message = say(lang, "finding_literal", rule=rule.id, literal=literal, column=column_map[name],
                              field=spec_ref(spec, lang), source=source, hint=hint)
                findings.append(Finding("warning", "unknown_literal", decision.id, message, rule=rule.id,
                                        location=rule.loc))
    return findings


def _plain_booleans(facts: pd.DataFrame) -> pd.DataFrame:
    """Boolean columns as objects (True/False/None): `expr.condition_vector` compares a pandas
    "boolean" column holding <NA> by converting it to a numpy bool array, which fails."""
    for name in facts.columns:
        if str(facts[name].dtype) == "boolean":
            facts[name] = facts[name].astype(object).where(facts[name].notna(), None)
    return facts


def _text_literals(node: ex.Node) -> list:
    found = []

    def visit(item: ex.Node) -> None:
        if isinstance(item, ex.Compare):
            for mine, other in ((item.left, item.right), (item.right, item.left)):
                if isinstance(mine, ex.Name) and isinstance(other, ex.Const) and other.type == ex.STRING:
                    found.append((mine.name, str(other.value)))

    ex.walk(node, visit)
    return found


def _decide(decision: Decision, facts: pd.DataFrame, matches: dict | None = None) -> list:
    """Which accounts each rule decides (matches, for collect), and the decision's outputs added to `facts`
    for later ones; `matches` gets which accounts each rule matches, deciding or not."""
    fires = [ex.condition_vector(rule.when, facts).fillna(False).to_numpy(dtype=bool) for rule in decision.rules]
    if matches is not None:
        matches[decision.id] = fires
    if decision.hit == "collect":
        facts[decision.count_name] = np.sum(fires, axis=0).astype("float64") if fires else 0.0
        for total, output in decision.totals.items():  # as engine.evaluate.collect_total adds them up
            weights = [float(rule.then.get(output) or 0.0) for rule in decision.rules]
            facts[total] = (np.round(np.sum([f * w for f, w in zip(fires, weights)], axis=0), ex.NDIGITS)
                            if fires else 0.0)
        return fires
    order = list(range(len(decision.rules)))
    if decision.hit == "priority":
        order.sort(key=lambda i: -decision.rules[i].priority)
    for name, spec in decision.outputs.items():
        default = (decision.default or {}).get(name)
        choices = [fires[i] for i in order]
        values = [decision.rules[i].then.get(name) for i in order]
        if spec.type == "number":
            column = np.select(choices, [np.nan if v is None else v for v in values],
                               np.nan if default is None else default) if choices else np.nan
            facts[name] = pd.Series(column, index=facts.index, dtype="float64")
        else:
            column = np.select(choices, [np.array(v, dtype=object) for v in values], default) if choices else default
            facts[name] = pd.Series(column, index=facts.index, dtype=object)
    if decision.hit == "unique":
        return fires
    deciding, taken = list(fires), np.zeros(len(facts), dtype=bool)
    for i in order:  # a rule decides only where no rule before it matched
        deciding[i] = fires[i] & ~taken
        taken |= fires[i]
    return deciding
