"""`validate --data FILE`: what the pack will meet in a real file. Rules no account hits, text literals
that never occur in their column (with the near match: comparisons are case-sensitive, by design, so
'energy' does not match 'Energy'), fields the pack reads that the file lacks (which column matched which
field is data.columns.describe_mapping's job).

Rules are checked by the reference semantics (engine/reference.py: the language's own evaluator and the
hit policy objects, which the engine is tested against), so a 100,000-account file takes seconds, not a
full engine run."""

from __future__ import annotations

import datetime as dt
import pandas as pd

from kamrules.analysis.findings import Finding
from kamrules.data.wording import hint as did_you_mean, say, spec_named, spec_ref
from kamrules.engine import reference
from kamrules.engine.features import compute_derived, prepare_facts
from kamrules.language import expr as ex
from kamrules.language.comparisons import comparisons
from kamrules.pack import RulePack, rules_without_data
from kamrules.pack.conditions import needs_absent
from kamrules.results.portfolio_team import index_basis

MAX_DISTINCT = 10_000  # distinct values of a column searched for a near match


def check_data(pack: RulePack, frame: pd.DataFrame, column_map: dict, source: str, as_of: dt.date,
               lang: str = "en") -> list[Finding]:
    """Findings about one data file (see `data_checks`)."""
    return data_checks(pack, frame, column_map, source, as_of, lang)[0]


def data_checks(pack: RulePack, frame: pd.DataFrame, column_map: dict, source: str, as_of: dt.date,
                lang: str = "en", filled: tuple = ()) -> tuple[list[Finding], list]:
    """(findings about one data file (its typed frame as read, and the fields found in it), in `lang`;
    the rules that cannot fire on it for lack of a column, as `rules_lacking_data` gives them).

    A rule that matches no account of this file is a note (good news as often as not: no account is in
    that situation), not a warning; a rule that cannot fire for lack of a column is a warning, from what
    the rule really reads (pack.rules_without_data) and never for a rule that matched an account.
    `filled`: fields a run fills that are not the file's columns (history facts): never "missing"."""
    facts = compute_derived(pack, prepare_facts(pack, frame), as_of)
    matched: dict = {}  # decision -> which accounts each rule matches
    deciding, facts = reference.decide(pack, facts, matched)
    blocked = _blocked(pack, {**{name: name for name in filled}, **column_map}, matched)
    present = set(column_map) | set(filled)
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
    facts = compute_derived(pack, prepare_facts(pack, frame), as_of)
    matched: dict = {}
    reference.decide(pack, facts, matched)
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


def _text_literals(node: ex.Node) -> list:
    """(name, text) for each comparison of a name with a text literal."""
    return [(compared.name, str(compared.other.value)) for compared in comparisons(node, inside_values=True)
            if compared.name is not None and isinstance(compared.other, ex.Const) and compared.other.type == ex.STRING]
