"""`kamrules explain` for people: one screen with each decision, its value in words, the deciding reason,
and for the tier the closest path up, computed from the rules that rank above the one that decided.

`kamrules explain --verbose` shows the full rule-by-rule detail (`kamrules.results.explain`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeGuard

from kamrules.engine.evaluation import AccountResult, Evaluation
from kamrules.i18n import EXPLAIN, UI, fmt_date, is_missing
from kamrules.language import expr as ex
from kamrules.pack import Decision, RulePack, pick
from kamrules.results.explain import account_values, rules_ahead
from kamrules.results.formatting import Formatter

_OPS = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "==": "=", "!=": "≠"}


@dataclass(frozen=True)
class Step:
    """One change a rule needs: `name` from `value` to `op threshold`."""

    name: str
    op: str
    threshold: Any
    value: Any
    distance: float  # 0 = there already … 1 = far or not numeric


def render_brief(evaluation: Evaluation, account: AccountResult, lang: str = "en") -> str:
    """One screen: the account, each decision in words with its deciding reason, the closest path up."""
    pack = evaluation.pack
    fmt, words, strings = Formatter(pack, lang), EXPLAIN.get(lang, EXPLAIN["en"]), UI.get(lang, UI["en"])
    values = account_values(pack, account)
    name = account.account_name
    title = (f"{name}{strings['lparen']}{account.account_id}{strings['rparen']}"
             if not is_missing(name) and str(name).strip() else account.account_id)
    lines = [f"{title} · {strings['as_of']} {fmt_date(evaluation.as_of, lang)}", ""]
    tier = pack.role("tier")
    for decision in pack.decisions:
        lines.append(_decision_line(pack, decision, account, fmt, words, strings))
        if tier is not None and tier in decision.outputs and (score := _score_line(pack, values, fmt, strings)):
            lines.append(score)
    if tier is not None:
        decision = next(d for d in pack.decisions if tier in d.outputs)
        path = closest_path(pack, decision, account, values)
        if path is not None:
            lines += ["", _path_line(decision, path, fmt, words, strings)]
    lines += ["", words["more"]]
    return "\n".join(lines) + "\n"


def _score_line(pack: RulePack, values: dict, fmt: Formatter, strings: dict) -> str | None:
    """The evaluation index (role `score`) with what it rests on — or, when it rests on fewer criteria
    than it needs, that it is not computed (never a "composite" built from one criterion)."""
    name = pack.role("score")
    spec = pack.scores.get(name) if name else None
    if spec is None or name is None:
        return None
    value = values.get(name)
    have = sum(1 for c in spec.criteria if not is_missing(values.get(c.field)))
    title = pick(spec.title, fmt.lang) or name
    if is_missing(value):
        return f"{title}{strings['colon']}{strings['score_not_computed'] % (have, len(spec.criteria), spec.min_criteria_value())}"
    rests = (f"{strings['lparen']}{strings['score_rests'] % (have, len(spec.criteria))}{strings['rparen']}"
             if have < len(spec.criteria) else "")
    return f"{title}{strings['colon']}{strings['score_of'] % fmt.show(value, name)}{rests}"


def _decision_line(pack: RulePack, decision: Decision, account: AccountResult, fmt: Formatter, words: dict,
                   strings: dict) -> str:
    result = account.decisions[decision.id]
    main = next(iter(decision.outputs), "")
    value = result.outputs.get(main)
    label = fmt.label(value, main) if not (isinstance(value, list) and not value) else words["none_found"]
    if isinstance(value, list):
        label = strings["semicolon"].join(fmt.label(v, main) for v in value) or words["none_found"]
    title = pick(decision.title, fmt.lang) or decision.id
    line = f"{title}{strings['colon']}{label}"
    if not decision.policy.lists and result.hits:
        hit = result.hits[0]
        because = words["default_short"] if hit.rule == "default" else pick(hit.because, fmt.lang)
        if because and because != label:
            line += f" — {because}"
    return line


def closest_path(pack: RulePack, decision: Decision, account: AccountResult, values: dict):
    """(rule, steps) of the rule ranked above the deciding one that needs the least change, or None."""
    result = account.decisions[decision.id]
    fired = result.hits[0].rule if result.hits else "default"
    if fired == "default":
        candidates = list(decision.rules)
    else:
        position = next(i for i, r in enumerate(decision.rules) if r.id == fired)
        candidates = rules_ahead(decision, position)
    candidates = [rule for rule in candidates if _ranks_above(decision, rule, result.outputs)]
    best = None
    for rule in candidates:
        steps = _steps(rule.when, values)
        if not steps:
            continue
        cost = (len(steps), sum(s.distance for s in steps))
        if best is None or cost < best[0]:
            best = (cost, rule, steps)
    return None if best is None else (best[1], best[2])


def _ranks_above(decision: Decision, rule, outputs: dict) -> bool:
    """Whether the rule's outcome is better than the account's: the category's values are listed best
    first (key before potential before standard), so a rule checked earlier that gives the same or a
    lower value (the consumer segment's 'standard') is no way up."""
    main = next(iter(decision.outputs), None)
    order = list(decision.outputs[main].values) if main is not None else []
    now, then = outputs.get(main), rule.then.get(main)
    if not order or now not in order or then not in order:
        return then != now
    return order.index(then) < order.index(now)


def _steps(node: ex.Node, values: dict) -> list[Step] | None:
    """The changes that would make a condition true, or None when it cannot be said simply."""
    parts = node.items if isinstance(node, ex.And) else (node,)
    steps = []
    for part in parts:
        if ex.eval_condition(part, values) is True:
            continue
        if not (isinstance(part, ex.Compare) and isinstance(part.left, ex.Name)
                and isinstance(part.right, (ex.Const, ex.Param))):
            return None
        name, threshold = part.left.name, part.right.value
        value = values.get(name)
        distance = 1.0
        if _is_number(value) and _is_number(threshold):
            distance = min(1.0, abs(threshold - value) / max(abs(threshold), abs(value), 1e-9))
        steps.append(Step(name, part.op, threshold, value, distance))
    return steps


def _path_line(decision: Decision, path, fmt: Formatter, words: dict, strings: dict) -> str:
    rule, steps = path
    main = next(iter(decision.outputs), "")
    outcome = fmt.label(rule.then.get(main), main) if main in rule.then else rule.id
    changes = []
    for step in steps:
        now = words["unknown"] if is_missing(step.value) else fmt.show(step.value, step.name)
        target = f"{_OPS[step.op]} {fmt.show(step.threshold, step.name)}"
        if step.op == "==":
            target = fmt.label(step.threshold, step.name)
        change = f"{fmt.caption(step.name)} {now} → {target}"
        if _is_number(step.value) and _is_number(step.threshold) and step.op in (">=", ">", "<=", "<"):
            gap = step.threshold - step.value
            change += f"{strings['lparen']}{'+' if gap > 0 else '−'}{fmt.show(abs(gap), step.name)}{strings['rparen']}"
        changes.append(change)
    return words["path_up"].format(outcome=outcome, rule=rule.id, changes=strings["semicolon"].join(changes))


def _is_number(value: Any) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and not is_missing(value)
