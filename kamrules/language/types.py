"""Name resolution and types: binds names and params of a parsed tree, checks types and normalises it
(no chains, no bare booleans) so every engine compiles the same tree."""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from kamrules.language.functions import FUNCTIONS
from kamrules.language.nodes import (
    BOOLEAN, CATEGORY, DATE, NUMBER, STRING, And, Arith, Call, Compare, Const, ExprError, Missing, Name, Neg,
    Node, Not, Or, Param, describe, rnd,
)

# ------------------------------------------------------------------------------ resolving and types


@dataclass(frozen=True)
class Symbol:
    """What a name in an expression refers to."""

    name: str
    type: str
    kind: str  # field | feature | score | output | count
    values: tuple = ()  # allowed category values


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest candidate, or '' when none is close."""
    close = difflib.get_close_matches(name, sorted(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


class Resolver:
    """Binds names and params, checks types, and normalises the tree (no chains, no bare booleans)."""

    def __init__(self, symbols: Mapping[str, Symbol], params: Mapping[str, Any]):
        self.symbols = symbols
        self.params = params
        self.names: set[str] = set()

    # A value-typed pass: returns (node, type)
    def value(self, node: Node) -> tuple[Node, str]:
        if isinstance(node, Const):
            return node, node.type
        if isinstance(node, Param):
            if node.name not in self.params:
                raise ExprError(
                    f"unknown parameter 'params.{node.name}'{did_you_mean(node.name, self.params)}",
                    node.pos,
                )
            value = self.params[node.name]
            ptype = value_type(value)
            if ptype == NUMBER:
                value = rnd(value)
            return Param(node.name, value, ptype, pos=node.pos), ptype
        if isinstance(node, Name):
            symbol = self.symbols.get(node.name)
            if symbol is None:
                raise ExprError(f"unknown name '{node.name}'{did_you_mean(node.name, self.symbols)}", node.pos,
                                name=node.name)
            self.names.add(node.name)
            return Name(node.name, symbol.type, pos=node.pos), symbol.type
        if isinstance(node, Neg):
            operand, otype = self.value(node.operand)
            self._need_number(otype, node.operand, "'-'")
            return Neg(operand, pos=node.pos), NUMBER
        if isinstance(node, Arith):
            left, ltype = self.value(node.left)
            right, rtype = self.value(node.right)
            self._need_number(ltype, node.left, f"'{node.op}'")
            self._need_number(rtype, node.right, f"'{node.op}'")
            return Arith(node.op, left, right, pos=node.pos), NUMBER
        if isinstance(node, Call):  # the function's type rule: it takes numbers and gives one
            args = []
            for arg in node.args:
                resolved, atype = self.value(arg)
                self._need_number(atype, arg, f"{FUNCTIONS[node.func].name}()")
                args.append(resolved)
            return Call(node.func, tuple(args), pos=node.pos), NUMBER
        # a condition used as a value (expr features may be boolean)
        return self.condition(node), BOOLEAN

    def _need_number(self, vtype: str, node: Node, what: str) -> None:
        if vtype != NUMBER:
            raise ExprError(f"{what} needs numbers, but {describe(node)} is a {vtype}", node.pos)

    def condition(self, node: Node) -> Node:
        if isinstance(node, And):
            return And(tuple(self.condition(item) for item in node.items), pos=node.pos)
        if isinstance(node, Or):
            return Or(tuple(self.condition(item) for item in node.items), pos=node.pos)
        if isinstance(node, Not):
            return Not(self.condition(node.item), pos=node.pos)
        if isinstance(node, Missing):
            operand, _ = self.value(node.operand)
            if not isinstance(operand, Name):
                raise ExprError("'is missing' tests a name, as in: nps is missing", node.pos)
            return Missing(operand, node.negate, pos=node.pos)
        if isinstance(node, Compare):
            return self.compare(node)
        resolved, vtype = self.value(node)
        if vtype == BOOLEAN:
            if isinstance(resolved, Const):
                return resolved
            if isinstance(resolved, (Name, Param)):
                return Compare("==", resolved, Const(True, BOOLEAN), pos=node.pos)
            return resolved
        raise ExprError(
            f"{describe(node)} is a {vtype}, not a condition: compare it, as in {describe(node)} > 0"
            if vtype == NUMBER
            else f"{describe(node)} is a {vtype}, not a condition: compare it, as in {describe(node)} == \"...\"",
            node.pos,
        )

    def compare(self, node: Compare) -> Node:
        self._quote_hint(node)
        left, ltype = self.value(node.left)
        right, rtype = self.value(node.right)
        lbase, rbase = _base(ltype), _base(rtype)
        if lbase != rbase:
            raise ExprError(
                f"cannot compare {describe(node.left)} ({ltype}) with {describe(node.right)} ({rtype})"
                + (": write numbers without quotes" if {lbase, rbase} == {NUMBER, STRING} else ""),
                node.pos,
            )
        if node.op not in ("==", "!=") and lbase in (STRING, BOOLEAN):
            raise ExprError(f"'{node.op}' does not apply to {lbase}s: use '==' or '!='", node.pos)
        for mine, other in ((left, right), (right, left)):
            if isinstance(mine, Name) and mine.type == CATEGORY and isinstance(other, (Const, Param)):
                problem = category_problem(mine.name, self.symbols[mine.name].values, other.value)
                if problem is not None:
                    raise ExprError(problem, other.pos)
        return Compare(node.op, left, right, pos=node.pos)


    def _quote_hint(self, node: Compare) -> None:
        """`industry == Energy`: an unknown bare word compared with a text is a value missing its quotes."""
        for mine, other in ((node.left, node.right), (node.right, node.left)):
            if not (isinstance(mine, Name) and isinstance(other, Name) and other.name not in self.symbols):
                continue
            symbol = self.symbols.get(mine.name)
            if symbol is None or _base(symbol.type) != STRING or did_you_mean(other.name, self.symbols):
                continue
            quoted = Const(other.name, STRING)
            fixed = Compare(node.op, quoted if node.left is other else node.left, quoted if node.right is other else node.right)
            raise ExprError(f"unknown name '{other.name}': a text value needs quotes, as in {describe(fixed)}",
                            other.pos, name=other.name)


def category_problem(name: str, allowed: tuple, value: Any) -> str | None:
    """Why `value` (a constant or a param) cannot be compared with the category `name`, or None: it is
    not one of its values, so the comparison could never hold (a typo, another case, an alias the data
    reader would map). The resolver and `--set` (pack/params.py) both ask this."""
    if not allowed or value in allowed:
        return None
    text = str(value)
    hint = did_you_mean(text, map(str, allowed))
    if not hint:  # ENTERPRISE for enterprise: difflib compares cases as different letters
        same = [str(a) for a in allowed if str(a).casefold() == text.casefold()]
        hint = f" (did you mean '{same[0]}'?)" if same else ""
    return f"'{text}' is not a value of {name} (values: {', '.join(map(str, allowed))}){hint}"


def _base(vtype: str) -> str:
    return STRING if vtype == CATEGORY else vtype


def value_type(value: Any) -> str:
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, (int, float)):
        return NUMBER
    if isinstance(value, dt.date):
        return DATE
    return STRING
