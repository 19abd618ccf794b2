"""Static analysis of decision tables: every rule condition is evaluated over a finite set of accounts
that stands for all of them.

A condition compares names with constants, so only the side of each constant a value falls on matters:
per name, the constants it is compared with, a value between each two, one beyond each end, and
"missing" (unless the name can never be missing) make a set of representative values; their cartesian
product covers every situation the table can meet, under the language's three-valued logic (a rule
fires only when its condition is true, never when it is unknown). Findings are therefore exact for
such tables; when names are compared with each other or computed with (`a - b > 0`), a finding is
still a real counterexample, but finding none is not a proof (the decision is marked as checked by
sampling). Names are treated as independent: a counterexample may combine values that the features
behind them never produce together.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd

from kamrules.analysis.findings import Finding
from kamrules.data.cells import days_after
from kamrules.language import expr as ex
from kamrules.language.comparisons import compared_constants
from kamrules.pack import MAX_BRANCHES_PER_DECISION, Decision, RulePack, ScoreSpec
from kamrules.pack.conditions import branch_count

MAX_POINTS = 200_000  # accounts per decision evaluated at most (a few hundred ms)
BRANCH_NOTE_SHARE = 0.75  # a note on the engine branches left once a decision uses more than this share
OTHER = "any other value"


def analyse_pack(pack: RulePack) -> list[Finding]:
    """Every finding of every decision, in pack order."""
    context = _Context(pack)
    findings: list[Finding] = []
    for decision in pack.decisions:
        findings += analyse_decision(context, decision)
    return findings


class _Context:
    def __init__(self, pack: RulePack):
        self.pack = pack
        self.symbols = pack.symbols()
        self.maybe_missing = _maybe_missing(pack)


def _maybe_missing(pack: RulePack) -> set:
    """Names that can be missing for an account: optional fields, what is derived from them, and the
    outputs of decisions without a default."""
    missing = {name for name, spec in pack.fields.items() if not spec.required}
    for item in pack.derived:
        if isinstance(item, ScoreSpec):
            if item.min_criteria is not None or all(c.field in missing for c in item.criteria):
                missing.add(item.name)
        elif item.function in ("expr", "days_since", "days_until", "band") or item.reads & missing:
            if item.function not in ("count", "criteria_of") and (item.reads & missing or item.function == "expr"):
                missing.add(item.name)
    for decision in pack.decisions:
        if not decision.policy.lists and decision.default is None:
            missing |= set(decision.outputs)
    return missing


def branch_headroom(decision: Decision) -> list[Finding]:
    """A note when a decision's rules use more than BRANCH_NOTE_SHARE of the engine's branches: how many
    it makes, how many are left, and how to make room before the loader refuses the next rule."""
    used = sum(branch_count(rule.when) for rule in decision.rules)
    if used <= MAX_BRANCHES_PER_DECISION * BRANCH_NOTE_SHARE:
        return []
    left = MAX_BRANCHES_PER_DECISION - used
    return [Finding("note", "branch_headroom", decision.id,
                    f"its rules make {used} of the {MAX_BRANCHES_PER_DECISION} engine branches a decision may have "
                    f"({left} left; each rule is one, each 'or' alternative one more): before adding rules, move "
                    f"'or' parts (x in [a, b], p or q) into boolean features", location=decision.loc)]


def analyse_decision(context: _Context, decision: Decision) -> list[Finding]:
    rules = list(decision.rules)
    if not rules:
        return []
    return branch_headroom(decision) + _analyse_rules(context, decision, rules)


def _analyse_rules(context: _Context, decision: Decision, rules: list) -> list[Finding]:
    names = sorted(set().union(*(ex.names_in(r.when) for r in rules)))
    constants, exact = _constants(rules)
    domains = {name: _domain(context, name, constants.get(name, [])) for name in names}
    size = math.prod(len(d) for d in domains.values())
    findings: list[Finding] = []
    policy = decision.policy
    if policy.lists or size > MAX_POINTS:  # (no match is an answer for lists: no gap to find)
        for rule in rules:
            findings += _impossible_alone(context, decision, rule, constants)
        if size > MAX_POINTS and not policy.lists:
            findings.append(Finding("note", "not_analysed", decision.id,
                                    f"not checked for gaps and overlaps: its rules read {len(names)} names, "
                                    f"{size:,} combinations (at most {MAX_POINTS:,})", location=decision.loc))
        return findings
    frame = _points(domains)
    fires = [_fires(rule.when, frame) for rule in rules]
    findings += _overlaps(decision, rules, fires, frame)
    if exact:  # "never" is only proven when every comparison is against a constant
        findings += _hidden(decision, rules, fires, frame)
    gap = ~np.logical_or.reduce(fires)
    if decision.default is not None:
        findings += _default_in_a_grid(context, decision, names, frame, gap)
    elif gap.any():
        kind = "" if exact else " (found by sampling: names compared with each other or computed)"
        findings.append(Finding(
            "error", "gap", decision.id,
            f"gap: no rule matches some accounts and there is no default, so their "
            f"{', '.join(decision.outputs)} would be missing{kind}: add a rule or a 'default'",
            location=decision.loc, example=_example(frame, gap)))
    return findings


def _default_in_a_grid(context: _Context, decision: Decision, names: list, frame: pd.DataFrame,
                       gap: np.ndarray) -> list:
    """A table over category values (a grid, like Kotler's matrix) whose rows leave out a combination
    of known values: the default then fills a hole the author most likely did not mean."""
    symbols = [context.symbols.get(name) for name in names]
    if len(names) < 2 or not all(s is not None and s.values for s in symbols) \
            or any(len(ex.names_in(rule.when)) < 2 for rule in decision.rules):
        return []  # a list of cases, not a grid: a default there is an ordinary fallback
    known = gap & frame[names].notna().all(axis=1).to_numpy()
    if not known.any():
        return []
    return [Finding("warning", "default_fills_gap", decision.id,
                    "the default applies to a combination of known values that no row lists: "
                    "if it is not meant as a fallback, add the row", location=decision.loc,
                    example=_example(frame, known))]


def _fires(node: ex.Node, frame: pd.DataFrame) -> np.ndarray:
    result = ex.condition_vector(node, frame)
    return result.fillna(False).to_numpy(dtype=bool)


def _example(frame: pd.DataFrame, mask: np.ndarray, names: Any = None) -> dict:
    row = int(np.argmax(mask))
    columns = names if names is not None else frame.columns
    example = {}
    for name in columns:
        value = frame[name].iloc[row]
        if value is pd.NaT or value is pd.NA or (isinstance(value, float) and math.isnan(value)) or value is None:
            example[name] = None
        elif isinstance(value, pd.Timestamp):
            example[name] = value.date()
        elif isinstance(value, (np.bool_, bool)):
            example[name] = bool(value)
        elif isinstance(value, (np.floating, float, np.integer)):
            example[name] = float(value)
        else:
            example[name] = value
    return example


def _overlaps(decision: Decision, rules: list, fires: list, frame: pd.DataFrame) -> list:
    """Two rules that both match an account where the hit policy refuses two (`unique`)."""
    findings = []
    policy = decision.policy
    for j, later in enumerate(rules):
        for i in range(j):
            both = fires[i] & fires[j]
            if policy.refuses([i, j]) and both.any():
                names = sorted(ex.names_in(rules[i].when) | ex.names_in(later.when))
                findings.append(Finding(
                    "error", "overlap", decision.id,
                    f"rules '{rules[i].id}' and '{later.id}' both match some accounts (hit: {policy.name}): "
                    f"{policy.overlap_advice}",
                    rule=later.id, location=later.loc, example=_example(frame, both, names)))
                break
    return findings


def _hidden(decision: Decision, rules: list, fires: list, frame: pd.DataFrame) -> list:
    """Rules that never match (impossible), and rules that match but never decide: the hit policy
    gives every account they match to rules it checks before them (`HitPolicy.deciding`)."""
    policy = decision.policy
    order = policy.order(decision)
    deciding = policy.deciding(decision, fires)
    findings = []
    for position, index in enumerate(order):
        rule, mask = rules[index], fires[index]
        if not mask.any():
            findings.append(_impossible(decision, rule, mask))
        elif not deciding[index].any():
            earlier = [rules[k].id for k in order[:position] if (deciding[k] & mask).any()]
            who = f"rule '{earlier[0]}' comes first and matches" if len(earlier) == 1 else \
                "rules " + ", ".join(f"'{e}'" for e in earlier) + " come first and match"
            findings.append(Finding(
                "error", "hidden", decision.id,
                f"rule '{rule.id}' can never fire: {who} every account it matches "
                f"(hit: {policy.name}); reorder or narrow them",
                rule=rule.id, location=rule.loc, example=_example(frame, mask, sorted(ex.names_in(rule.when)))))
    return findings


def _impossible(decision: Decision, rule, mask) -> Finding:
    return Finding("error", "impossible", decision.id,
                   f"rule '{rule.id}' can never hold: '{rule.when_text.strip()}' is false or unknown "
                   "for every account; fix the condition or remove the rule", rule=rule.id, location=rule.loc)


def _impossible_alone(context: _Context, decision: Decision, rule, constants: dict) -> list:
    names = sorted(ex.names_in(rule.when))
    domains = {name: _domain(context, name, constants.get(name, [])) for name in names}
    if math.prod(len(d) for d in domains.values()) > MAX_POINTS or not _constants([rule])[1]:
        return []
    if not names:
        holds = ex.eval_condition(rule.when, {}) is True
        return [] if holds else [_impossible(decision, rule, None)]
    if _fires(rule.when, _points(domains)).any():
        return []
    return [_impossible(decision, rule, None)]


# ---------------------------------------------------------------------------- representative values


def _constants(rules: list) -> tuple[dict, bool]:
    """name -> the constants it is compared with (a literal, a param, or arithmetic on them); and
    whether every comparison is name-vs-constant (language/comparisons.py)."""
    return compared_constants((rule.when for rule in rules), inside_values=True)


def _domain(context: _Context, name: str, constants: list) -> list:
    symbol = context.symbols.get(name)
    vtype = symbol.type if symbol is not None else ex.NUMBER
    if vtype == ex.BOOLEAN:
        values: list = [True, False]
    elif symbol is not None and symbol.values:
        values = list(symbol.values)
    elif vtype in (ex.STRING, ex.CATEGORY):
        values = sorted({str(c) for c in constants}) + [OTHER]
    elif vtype == ex.DATE:
        days = sorted({c for c in constants if isinstance(c, dt.date)})
        near = [days_after(d, k) for d in days for k in (-1, 1)]  # (none past year 9999: no date is there)
        values = days + [d for d in near if d is not None] or [dt.date(2000, 1, 1)]
    else:
        whole = symbol is not None and (symbol.kind == "count" or _is_integer_field(context, name))
        values = _numbers([float(c) for c in constants if isinstance(c, (int, float)) and not isinstance(c, bool)],
                          whole, symbol is not None and symbol.kind == "count")
    unique = list(dict.fromkeys(values))
    if name in context.maybe_missing:
        unique.append(None)
    return unique


def _is_integer_field(context: _Context, name: str) -> bool:
    spec = context.pack.fields.get(name)
    return spec is not None and spec.type == "integer"


def _numbers(constants: list, whole: bool, non_negative: bool) -> list:
    points = sorted(set(constants))
    if not points:
        return [0.0]
    between = [(a + b) / 2 for a, b in zip(points, points[1:])]
    outside = [points[0] - 1, points[-1] + 1]
    if whole:
        between = [float(v) for a in points for v in (math.floor(a) - 1, math.floor(a), math.ceil(a), math.ceil(a) + 1)]
        between += [math.floor((a + b) / 2) for a, b in zip(points, points[1:])]
        outside = []
    values = [ex.rnd(v) for v in (*points, *between, *outside)]
    if non_negative:
        values = [v for v in values if v >= 0] or [0.0]
    return values


def _points(domains: dict) -> pd.DataFrame:
    """The cartesian product of the domains (in itertools.product order: earlier values first)."""
    names = list(domains)
    sizes = [len(domains[n]) for n in names]
    total = math.prod(sizes)
    columns = {}
    for position, name in enumerate(names):
        inner = math.prod(sizes[position + 1:])
        index = np.tile(np.repeat(np.arange(sizes[position]), inner), total // (inner * sizes[position]))
        columns[name] = pd.Series(_typed(domains[name])[index])
    return pd.DataFrame(columns, index=pd.RangeIndex(total))


def _typed(domain: list) -> np.ndarray:
    """A domain as the array type the evaluator expects (converted once, then indexed)."""
    sample = next((v for v in domain if v is not None), None)
    if isinstance(sample, dt.date):
        return pd.to_datetime(pd.Series(domain, dtype=object)).astype("datetime64[ns]").to_numpy()
    if isinstance(sample, (int, float)) and not isinstance(sample, bool):
        return np.array([np.nan if v is None else float(v) for v in domain], dtype="float64")
    values = np.empty(len(domain), dtype=object)  # booleans as objects: the comparison then handles missing
    values[:] = domain
    return values
