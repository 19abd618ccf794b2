"""Static analysis of conditions: branch counts, implication (shadowed rules) and rules that cannot
fire when columns are missing. Pure functions over the expression tree and the pack model."""

from __future__ import annotations

from typing import Iterable

from kamrules.language import expr as ex
from kamrules.language.comparisons import comparison
from kamrules.pack.model import RulePack, ScoreSpec


def _atoms(node: ex.Node) -> list:
    if isinstance(node, (ex.And, ex.Or)):
        return [a for item in node.items for a in _atoms(item)]
    if isinstance(node, ex.Not):
        return _atoms(node.item)
    return [node]


def _conjunction(node: ex.Node) -> list | None:
    """A condition as a list of atoms ANDed, or None when it is not a plain conjunction."""
    node = ex.push_not(node)
    if isinstance(node, ex.And):
        result = []
        for item in node.items:
            sub = _conjunction(item)
            if sub is None:
                return None
            result += sub
        return result
    if isinstance(node, (ex.Compare, ex.Missing, ex.Const)):
        return [node]
    return None


def _implies(later: ex.Node, earlier: ex.Node) -> bool:
    """True when every account matching `later` surely matches `earlier` (conservative)."""
    earlier = ex.push_not(earlier)
    if isinstance(earlier, ex.Const):
        return bool(earlier.value)
    options = earlier.items if isinstance(earlier, ex.Or) else (earlier,)
    facts = _conjunction(later)
    if facts is None:
        return False
    if any(isinstance(f, ex.Const) and not f.value for f in facts):
        return False
    for option in options:
        needed = _conjunction(option)
        if needed is None:
            continue
        if all(any(_atom_implies(f, n) for f in facts) for n in needed):
            return True
    return False


def _bound(atom: ex.Node):
    """(name, op, value) for `name OP constant` (a literal or a param), with the name on the left."""
    compared = comparison(atom)
    if compared is None or compared.name is None or not isinstance(compared.other, (ex.Const, ex.Param)):
        return None
    return compared.name, compared.op, compared.other.value


def _atom_implies(fact: ex.Node, need: ex.Node) -> bool:
    if isinstance(need, ex.Const):
        return bool(need.value)
    if fact == need:
        return True
    if isinstance(fact, ex.Missing) or isinstance(need, ex.Missing):
        if isinstance(need, ex.Missing) and need.negate and isinstance(need.operand, ex.Name):
            b = _bound(fact)  # any comparison being true implies the value is present
            return b is not None and b[0] == need.operand.name
        return False
    f, n = _bound(fact), _bound(need)
    if f is None or n is None or f[0] != n[0]:
        return False
    _, fop, fv = f
    _, nop, nv = n
    try:
        if fop == "==":
            return ex.compare(nop, fv, nv)
        if nop in (">", ">=") and fop in (">", ">="):
            return fv > nv or (fv == nv and (fop == ">" or nop == ">="))
        if nop in ("<", "<=") and fop in ("<", "<="):
            return fv < nv or (fv == nv and (fop == "<" or nop == "<="))
        if nop == "!=" and fop in (">", ">=", "<", "<="):
            if fop == ">":
                return fv >= nv
            if fop == ">=":
                return fv > nv
            if fop == "<":
                return fv <= nv
            return fv < nv
    except TypeError:
        return False
    return False


def branch_count(node: ex.Node) -> int:
    """How many branches the engine makes of a condition: `or` adds, `and` multiplies."""
    node = ex.push_not(node)
    if isinstance(node, ex.Or):
        return sum(branch_count(i) for i in node.items)
    if isinstance(node, ex.And):
        total = 1
        for item in node.items:
            total *= branch_count(item)
        return total
    return 1


def surely_missing(node: ex.Node, absent: set) -> bool:
    """Whether a value or condition is missing (unknown) for every account when the names in `absent`
    are: arithmetic and comparisons with such a value are missing, `coalesce` only when all its values
    are, `x is missing` never is, and `and` / `or` only when no part can decide them."""
    if isinstance(node, ex.Name):
        return node.name in absent
    if isinstance(node, (ex.Const, ex.Param, ex.Missing)):
        return False
    if isinstance(node, ex.Call):
        return ex.FUNCTIONS[node.func].surely_missing([surely_missing(a, absent) for a in node.args])
    if isinstance(node, ex.Arith):
        return surely_missing(node.left, absent) or surely_missing(node.right, absent)
    if isinstance(node, ex.Neg):
        return surely_missing(node.operand, absent)
    if isinstance(node, ex.Compare):
        return surely_missing(node.left, absent) or surely_missing(node.right, absent)
    if isinstance(node, ex.Not):
        return surely_missing(node.item, absent)
    if isinstance(node, ex.And):  # one part that can be false decides it
        return all(surely_missing(i, absent) or (isinstance(i, ex.Const) and bool(i.value)) for i in node.items)
    if isinstance(node, ex.Or):  # one part that can be true decides it
        return all(surely_missing(i, absent) or (isinstance(i, ex.Const) and not i.value) for i in node.items)
    return bool(ex.names_in(node) & absent)


def can_fire_without(node: ex.Node, absent: set) -> bool:
    """Whether a condition can still be true when the names in `absent` are missing for everyone."""
    node = ex.push_not(node)

    def can(n: ex.Node) -> bool:
        if isinstance(n, ex.And):
            return all(can(i) for i in n.items)
        if isinstance(n, ex.Or):
            return any(can(i) for i in n.items)
        if isinstance(n, ex.Missing):
            if surely_missing(n.operand, absent):
                return not n.negate
            return True
        if isinstance(n, ex.Const):
            return bool(n.value)
        return not surely_missing(n, absent)

    return can(node)


def needs_absent(node: ex.Node, present: set) -> bool:
    """Whether a condition holds only where a field the data carries is missing (`sales_prev is missing
    and …` in a file with a sales_prev column): a path for files that lack that field, not a rule this
    file is short of."""
    node = ex.push_not(node)
    items = node.items if isinstance(node, ex.And) else [node]
    return any(isinstance(i, ex.Missing) and not i.negate and isinstance(i.operand, ex.Name)
               and i.operand.name in present for i in items)


def absent_names(pack: RulePack, present_fields: Iterable[str]) -> set:
    """Fields missing from the data, and the features/scores that are then missing for everyone: from
    what each one really reads. A count of accounts is never missing (`where` only narrows it); a
    condition that can still be true or false has a value (`not abc_on_profit or gross_profit is
    missing` without gross profit is true); arithmetic and abs/min/max of a missing value are missing,
    a function that picks the first present value (coalesce) only when all of its are."""
    absent = {name for name in pack.fields if name not in set(present_fields)}
    for item in pack.derived:
        if isinstance(item, ScoreSpec):
            present = sum(1 for c in item.criteria if c.field not in absent)
            if present < item.min_criteria_value():
                absent.add(item.name)
        elif item.function in ("count", "criteria_of"):
            continue  # a count is a number for everyone, 0 at worst
        elif item.function == "expr":
            if surely_missing(item.arg, absent):
                absent.add(item.name)
        elif item.arg in absent or (item.within is not None and item.within in absent):
            absent.add(item.name)
    return absent


def rules_without_data(pack: RulePack, present_fields: Iterable[str]) -> list:
    """(decision, rule, missing names) for every rule that cannot fire with the columns present."""
    absent = absent_names(pack, present_fields)
    derived = {d.name: d for d in pack.derived}

    def fields_behind(name: str) -> set:
        if name in pack.fields:
            return {name}
        item = derived.get(name)
        if item is None:
            return set()
        reads = {c.field for c in item.criteria} if isinstance(item, ScoreSpec) else item.reads
        return set().union(*(fields_behind(n) for n in reads & absent)) if reads & absent else set()

    present = set(present_fields)
    added: dict = {}  # fields added to the file's -> what is then absent

    def absent_with(fields: frozenset) -> set:
        if fields not in added:
            added[fields] = absent_names(pack, present | fields)
        return added[fields]

    def needed(rule, missing: set) -> set:
        """Of the fields behind a blocked rule, those it cannot fire without: a field that only a
        fallback reads (`coalesce(group_gp, gross_profit)`: the group column) is not one."""
        if len(missing) < 2:
            return missing
        keep = set()
        for name in missing:  # adding every other missing field: does the rule still need this one?
            if not can_fire_without(rule.when, absent_with(frozenset(missing - {name}))):
                keep.add(name)
        # enough on their own? else the rule needs more than one of them (last order, and an interval or orders)
        if keep and keep != missing and can_fire_without(rule.when, absent_with(frozenset(keep))):
            return keep
        return missing

    result = []
    for decision in pack.decisions:
        for rule in decision.rules:
            if not can_fire_without(rule.when, absent):
                missing = set().union(*(fields_behind(n) for n in rule.reads & absent))
                result.append((decision.id, rule.id, sorted(needed(rule, missing))))
    return result
