"""Row semantics: evaluating a resolved tree for one account, with three-valued logic (None = unknown),
missing arithmetic operands and division by zero giving missing. `kamrules explain` uses it."""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from kamrules.i18n import is_missing
from kamrules.language.functions import FUNCTIONS
from kamrules.language.nodes import (
    And, Arith, Call, Compare, Const, Missing, Name, Neg, Node, Not, Or, Param, rnd,
)

# ------------------------------------------------------------------------------- row evaluation


def eval_value(node: Node, record: Mapping[str, Any]) -> Any:
    """The value of an expression for one account; None when missing."""
    if isinstance(node, Const):
        return node.value
    if isinstance(node, Param):
        return node.value
    if isinstance(node, Name):
        value = record.get(node.name)
        return None if is_missing(value) else value
    if isinstance(node, Neg):
        value = eval_value(node.operand, record)
        return None if value is None else rnd(-value)
    if isinstance(node, Arith):
        left, right = eval_value(node.left, record), eval_value(node.right, record)
        if left is None or right is None:
            return None
        return arith(node.op, left, right)
    if isinstance(node, Call):
        function = FUNCTIONS[node.func]
        args = [eval_value(a, record) for a in node.args]
        if function.missing_if_any and any(a is None for a in args):
            return None
        value = function.row(args)
        return None if value is None else rnd(value)
    return eval_condition(node, record)


def arith(op: str, left: float, right: float) -> float | None:
    if op == "+":
        result = left + right
    elif op == "-":
        result = left - right
    elif op == "*":
        result = left * right
    else:
        if right == 0:
            return None
        result = left / right
    if not math.isfinite(result):
        return None
    return rnd(result)


def compare(op: str, left: Any, right: Any) -> Any:  # (a bool for values, an array for arrays)
    if op == "==":
        return left == right
    if op == "!=":
        return left != right
    if op == "<":
        return left < right
    if op == "<=":
        return left <= right
    if op == ">":
        return left > right
    return left >= right


def eval_condition(node: Node, record: Mapping[str, Any]) -> bool | None:
    """Three-valued: True, False, or None (unknown)."""
    if isinstance(node, Const):
        return bool(node.value)
    if isinstance(node, Compare):
        left, right = eval_value(node.left, record), eval_value(node.right, record)
        if left is None or right is None:
            return None
        return compare(node.op, _num(left), _num(right))
    if isinstance(node, Missing):
        missing = eval_value(node.operand, record) is None
        return not missing if node.negate else missing
    if isinstance(node, (And, Or)):
        return _kleene(node.items, record, decisive=isinstance(node, Or))
    if isinstance(node, Not):
        value = eval_condition(node.item, record)
        return None if value is None else not value
    value = eval_value(node, record)
    return None if value is None else bool(value)


def _kleene(items: tuple, record: Mapping[str, Any], decisive: bool) -> bool | None:
    """`and` (decisive False) or `or` (decisive True) in three-valued logic: one decisive item decides;
    otherwise any unknown item makes the whole unknown."""
    result: bool | None = not decisive
    for item in items:
        value = eval_condition(item, record)
        if value is decisive:
            return decisive
        if value is None:
            result = None
    return result


def _num(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return rnd(value)
    if isinstance(value, (np.floating, np.integer)):
        return rnd(float(value))
    return value
