"""Why one account got its decisions, in words a sales manager reads.

For each decision: the rule that decided and the values it read; for every earlier rule that did not
fire, which part of its condition failed and by how much ("kam_index 58.2 < 60 (needs +1.8)").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kamrules.language import expr as ex
from kamrules.errors import DataError
from kamrules.pack import Decision, RulePack, pick
from kamrules.engine.evaluation import AccountResult, Evaluation
from kamrules.language.text import display_number, format_value
from kamrules.i18n import EXPLAIN as _WORDS

@dataclass
class DecisionExplanation:
    decision: str
    title: str
    outputs: dict
    verdict: str
    reads: dict = field(default_factory=dict)
    because: str = ""
    misses: list = field(default_factory=list)  # (rule id, [reason lines])


def find_account(evaluation: Evaluation, account_id: str, lang: str = "en") -> AccountResult:
    """The account with this id; else with this name (exactly, then ignoring case and spaces). A name
    that several accounts share is refused with their ids; nothing found suggests the closest ids or
    names."""
    accounts = list(evaluation.accounts)
    found = find_among([a.account_id for a in accounts], [a.account_name for a in accounts], account_id,
                       evaluation.input_name, lang)
    return accounts[found]


def find_among(ids: list, names: list, wanted_text: str, source: str, lang: str = "en") -> int:
    """Which of the accounts (`ids` and `names`, one each) `wanted_text` names: the position of the one
    with this id, else with this name (exactly, then ignoring case and spaces). DataError naming `source`
    when several share the name (with their ids) or none fits (with the closest ids or names)."""
    import difflib
    import unicodedata

    from kamrules.data.wording import hint, say

    wanted = str(wanted_text).strip()
    for position, account in enumerate(ids):
        if account == wanted:
            return position

    def folded(text) -> str:
        return " ".join(unicodedata.normalize("NFKC", str(text)).casefold().split()) if text is not None else ""

    def named(match) -> list:
        return [i for i, name in enumerate(names) if name is not None and match(name)]

    for found in (named(lambda name: str(name).strip() == wanted),
                  [i for i, account in enumerate(ids) if folded(account) == folded(wanted)] or
                  named(lambda name: folded(name) == folded(wanted))):
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            shown = say(lang, "sep").join(say(lang, "quote", text=ids[i]) for i in found[:10])
            raise DataError(say(lang, "account_name_many", name=source, id=wanted, n=len(found), ids=shown))
    close_id = hint(lang, wanted, ids)
    if close_id:
        raise DataError(say(lang, "no_account", name=source, id=wanted, hint=close_id))
    by_name = {folded(name): i for i, name in enumerate(names) if name is not None}
    close = difflib.get_close_matches(folded(wanted), sorted(by_name), n=3, cutoff=0.6)
    if not close:  # a part of a name: "acme" for "Acme Widgets Inc."
        close = [name for name in sorted(by_name) if folded(wanted) and folded(wanted) in name][:3]
    shown = say(lang, "sep").join(say(lang, "account_named", account=str(names[by_name[n]]), id=ids[by_name[n]])
                                  for n in close)
    raise DataError(say(lang, "no_account_or_name", name=source, id=wanted,
                        hint=say(lang, "did_you_mean_any", names=shown) if close else ""))


def explain_account(evaluation: Evaluation, account: AccountResult, lang: str = "en") -> list[DecisionExplanation]:
    pack = evaluation.pack
    words = _WORDS.get(lang, _WORDS["en"])
    values = account_values(pack, account)
    explanations = []
    for decision in pack.decisions:
        result = account.decisions[decision.id]
        outputs = {name: _show(pack, name, value, lang) for name, value in result.outputs.items()}
        item = DecisionExplanation(decision.id, pick(decision.title, lang) or decision.id, outputs, "")
        fired = [h.rule for h in result.hits if h.rule != "default"]
        item.verdict = decision.policy.verdict(words, fired, decision.default is not None)
        for hit in result.hits:
            if hit.rule != "default":
                item.reads.update(hit.reads)
        considered = decision.rules
        if fired and not decision.policy.lists:  # one rule decided: those checked before it did not
            item.because = pick(result.hits[0].because, lang)
            considered = rules_ahead(decision, next(i for i, r in enumerate(decision.rules) if r.id == fired[0]))
        for rule in considered:
            if rule.id in fired:
                continue
            key = "skipped" if fired and not decision.policy.lists else "missed"
            item.misses.append((words[key].format(rule=rule.id), why_not(rule.when, values, lang)))
        explanations.append(item)
    return explanations


def account_values(pack: RulePack, account: AccountResult) -> dict:
    """Every value of the account by name: facts, features, outputs and collect counts."""
    values = dict(account.facts)
    for result in account.decisions.values():
        values.update(result.outputs)
        decision = pack.decision(result.decision)
        deciding = [h for h in result.hits if h.rule != "default"]
        if decision.policy.lists:  # (outputs given above: a list policy adds its count and totals)
            values.update(decision.policy.given(decision, result.outputs, deciding))
    return values


def rules_ahead(decision: Decision, position: int) -> list:
    """Rules that were checked before the deciding one (`HitPolicy.checked_before`)."""
    return [decision.rules[i] for i in decision.policy.checked_before(decision, position)]


def _show(pack: RulePack, name: str, value: Any, lang: str) -> str:
    if isinstance(value, list):
        return ", ".join(_show(pack, name, v, lang) for v in value) or "—"
    if isinstance(value, dict):
        return pick(value, lang)
    if isinstance(value, str):
        return pack.label(name, value, lang)
    return format_value(value, "", lang)


def why_not(node: ex.Node, values: dict, lang: str = "en") -> list[str]:
    """The parts of a condition that are not true for these values, with the gap for numbers."""
    words = _WORDS.get(lang, _WORDS["en"])
    if ex.eval_condition(node, values) is True:
        return []  # it holds: the rule lost to one checked before it (the caller says so)
    if isinstance(node, ex.Const):
        return [] if node.value else [words["false"]]
    if isinstance(node, ex.And):
        reasons = []
        for item in node.items:
            if ex.eval_condition(item, values) is not True:
                reasons += why_not(item, values, lang)
        return reasons
    if isinstance(node, ex.Or):
        parts = []
        for item in node.items:
            parts += ["  " + line for line in why_not(item, values, lang)]
        return [words["none_of"], *parts]
    if isinstance(node, ex.Not):
        return [f"not ({ex.describe(node.item)}): {ex.describe(node.item)} {words['holds']}"]
    if isinstance(node, ex.Missing):
        name = ex.describe(node.operand)
        value = ex.eval_value(node.operand, values)
        if node.negate:
            return [words["missing"].format(name=name)]
        return [words["present"].format(name=name, value=format_value(value, "", lang))]
    if isinstance(node, ex.Compare):
        return [_compare_reason(node, values, lang)]
    return [f"{ex.describe(node)}"]


def _compare_reason(node: ex.Compare, values: dict, lang: str) -> str:
    words = _WORDS.get(lang, _WORDS["en"])
    left, right = ex.eval_value(node.left, values), ex.eval_value(node.right, values)
    left_text, right_text = ex.describe(node.left), ex.describe(node.right)
    for side, text in ((left, left_text), (right, right_text)):
        if side is None:
            return f"{words['missing'].format(name=text)} ({ex.describe(node)}: {words['unknown']})"
    shown_left = _value_text(left)
    shown_right = _value_text(right)
    failed_op = ex.NEGATED[node.op]
    line = f"{left_text} {shown_left} {failed_op} {shown_right}" if isinstance(node.left, ex.Name) \
        else f"{left_text} = {shown_left} {failed_op} {shown_right}"
    if not isinstance(node.right, ex.Const):  # say where the threshold comes from
        line += f" ({right_text})"
    if isinstance(left, (int, float)) and isinstance(right, (int, float)) and not isinstance(left, bool):
        gap = ex.rnd(right - left)
        strict = {">": "> ", "<": "< "}.get(node.op, "")
        if node.op in (">=", ">") and gap >= 0:
            line += f" ({words['needs']} {strict}+{display_number(gap)})"
        elif node.op in ("<=", "<") and gap <= 0:
            line += f" ({words['needs']} {strict}{display_number(gap)})"
    return line


def _value_text(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return display_number(value)
    return format_value(value)


def render_explanation(evaluation: Evaluation, account: AccountResult, lang: str = "en") -> str:
    """Plain text for `kamrules explain`."""
    pack = evaluation.pack
    name = f" — {account.account_name}" if account.account_name else ""
    lines = [f"{account.account_id}{name} (row {account.row} of {evaluation.input_name}, as of {evaluation.as_of.isoformat()})"]
    for item in explain_account(evaluation, account, lang):
        lines.append("")
        outputs = ", ".join(f"{k} = {v}" for k, v in item.outputs.items())
        lines.append(f"{item.title} [{item.decision}]: {outputs}")
        lines.append(f"  {item.verdict}")
        if item.because:
            lines.append(f"  {item.because}")
        if item.reads:
            reads = ", ".join(f"{k} = {_show(pack, k, v, lang)}" for k, v in item.reads.items())
            lines.append(f"  {_WORDS.get(lang, _WORDS['en'])['read']}: {reads}")
        for header, reasons in item.misses:
            lines.append(f"  {header}")
            lines += [f"    {r}" for r in reasons]
    return "\n".join(lines) + "\n"


def history_facts_line(evaluation: Evaluation, account: AccountResult, lang: str = "en") -> str | None:
    """The account's history facts (kamrules.data.history_facts) as one line, each by its label, the
    previous tier and tier basis by their labels ("Tier in the previous review: Key account · …"); None
    when the pack declares none."""
    from kamrules.data.history_facts import LABELLED_BY, history_fields
    from kamrules.results.formatting import Formatter

    pack = evaluation.pack
    names = history_fields(pack)
    if not names:
        return None
    fmt, values = Formatter(pack, lang), dict(account.facts)
    shown = []
    for name in names:
        value = values.get(name)
        labelled_by = pack.role(LABELLED_BY[name]) if name in LABELLED_BY else None
        if labelled_by is not None and isinstance(value, str):
            text = fmt.label(value, labelled_by)
        else:
            text = fmt.label(value, name)
        shown.append(f"{fmt.caption(name)}{'：' if lang == 'zh' else ': '}{text}")
    return " · ".join(shown)
