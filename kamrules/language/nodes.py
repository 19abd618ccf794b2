"""The expression tree of the condition language: node classes, types, rounding, and the helpers every
semantics shares (describe a tree as the author writes it, walk it, push `not` down)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable

NDIGITS = 9
NUMBER, STRING, BOOLEAN, DATE, CATEGORY = "number", "string", "boolean", "date", "category"
# Whole floats below this are exact integers (2**53 < 1e16): they are written without a decimal point
# or exponent ("1200", not "1200.0") and read back as themselves.
WHOLE_NUMBER_LIMIT = 1e16
# The dates kamrules holds — in data cells, date literals and date params alike: the whole years numpy's
# datetime64[ns] can hold. Any two are at most ~213,000 days apart.
FIRST_DATE, LAST_DATE = dt.date(1678, 1, 1), dt.date(2261, 12, 31)


def date_problem(value: dt.date) -> str | None:
    """Why a date cannot be a literal or a param (beyond the dates kamrules holds), or None."""
    if FIRST_DATE <= value <= LAST_DATE:
        return None
    return (f"{value.isoformat()} is outside the dates kamrules holds ({FIRST_DATE.year}-{LAST_DATE.year}); "
            "write a date within them")


def rnd(value: float) -> float:
    """Round a number the way the language does (exact decimals at NDIGITS places)."""
    result = round(float(value), NDIGITS)
    return 0.0 if result == 0 else result  # no -0.0: it would print as "-0"


class ExprError(Exception):
    """A problem in an expression, at a character offset of its text."""

    def __init__(self, message: str, offset: int = 0, name: str | None = None):
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.name = name  # the unknown name, for "unknown name" errors


# --------------------------------------------------------------------------------------------- tree


@dataclass(frozen=True)
class Node:
    pos: int = field(default=0, compare=False, repr=False, kw_only=True)


@dataclass(frozen=True)
class Const(Node):
    value: Any
    type: str


@dataclass(frozen=True)
class Name(Node):
    name: str
    type: str = ""


@dataclass(frozen=True)
class Param(Node):
    name: str
    value: Any
    type: str


@dataclass(frozen=True)
class Arith(Node):
    op: str  # + - * /
    left: Node
    right: Node


@dataclass(frozen=True)
class Neg(Node):
    operand: Node


@dataclass(frozen=True)
class Call(Node):
    func: str
    args: tuple


@dataclass(frozen=True)
class Compare(Node):
    op: str  # == != < <= > >=
    left: Node
    right: Node


@dataclass(frozen=True)
class Missing(Node):
    operand: Node
    negate: bool = False  # True for "is not missing"


@dataclass(frozen=True)
class And(Node):
    items: tuple


@dataclass(frozen=True)
class Or(Node):
    items: tuple


@dataclass(frozen=True)
class Not(Node):
    item: Node


CMP_OPS = ("==", "!=", "<=", ">=", "<", ">")
NEGATED = {"==": "!=", "!=": "==", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}
FLIPPED = {"==": "==", "!=": "!=", "<": ">", ">": "<", "<=": ">=", ">=": "<="}


def describe(node: Node) -> str:
    """The expression as the author would write it (for messages and explanations)."""
    if isinstance(node, Const):
        return _literal(node.value, node.type)
    if isinstance(node, Name):
        return node.name
    if isinstance(node, Param):
        return f"params.{node.name}"
    if isinstance(node, Neg):
        return f"-{_paren(node.operand)}"
    if isinstance(node, Arith):
        return f"{_paren(node.left)} {node.op} {_paren(node.right)}"
    if isinstance(node, Call):
        return f"{node.func}({', '.join(describe(a) for a in node.args)})"
    if isinstance(node, Compare):
        return f"{describe(node.left)} {node.op} {describe(node.right)}"
    if isinstance(node, Missing):
        return f"{describe(node.operand)} is {'not ' if node.negate else ''}missing"
    if isinstance(node, And):
        return " and ".join(_paren(i, And) for i in node.items)
    if isinstance(node, Or):
        return " or ".join(_paren(i, Or) for i in node.items)
    if isinstance(node, Not):
        inner = describe(node.item)
        return f"not {inner}" if isinstance(node.item, (Name, Const, Param)) else f"not ({inner})"
    return "?"


def _paren(node: Node, within: type | None = None) -> str:
    text = describe(node)
    simple = isinstance(node, (Const, Name, Param, Call, Compare, Missing)) or (within and isinstance(node, within))
    return text if simple else f"({text})"


def _literal(value: Any, vtype: str) -> str:
    if vtype == BOOLEAN:
        return "true" if value else "false"
    if vtype == NUMBER:
        return format_number(value)
    if vtype == DATE:
        return f'date("{value.isoformat()}")'
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def whole_number(value: float) -> int | None:
    """The int a whole float stands for (1200.0 -> 1200); None for a fraction, NaN, an infinity, or a
    float beyond WHOLE_NUMBER_LIMIT. The one rule every number-to-text of kamrules follows."""
    value = float(value)
    return int(value) if value.is_integer() and abs(value) < WHOLE_NUMBER_LIMIT else None


def format_number(value: float) -> str:
    """A number as a person writes it: no trailing zeros, no binary noise."""
    value = rnd(value)
    if (whole := whole_number(value)) is not None:
        return str(whole)
    return f"{value:.{NDIGITS}f}".rstrip("0").rstrip(".")


def names_in(node: Node) -> set[str]:
    """All field/feature/output names an expression reads."""
    found: set[str] = set()
    walk(node, lambda n: found.add(n.name) if isinstance(n, Name) else None)
    return found


def walk(node: Node, visit: Callable[[Node], Any]) -> None:
    visit(node)
    for child in children(node):
        walk(child, visit)


def children(node: Node) -> tuple:
    if isinstance(node, (Arith, Compare)):
        return (node.left, node.right)
    if isinstance(node, Neg):
        return (node.operand,)
    if isinstance(node, Missing):
        return (node.operand,)
    if isinstance(node, Call):
        return node.args
    if isinstance(node, (And, Or)):
        return node.items
    if isinstance(node, Not):
        return (node.item,)
    return ()


def push_not(node: Node, negate: bool = False) -> Node:
    """Push `not` down to comparisons (De Morgan). Under three-valued logic this keeps the meaning:
    `not (x > 5)` is `x <= 5`, unknown when x is missing, as the engine needs it."""
    if isinstance(node, Not):
        return push_not(node.item, not negate)
    if isinstance(node, And):
        items = tuple(push_not(i, negate) for i in node.items)
        return Or(items, pos=node.pos) if negate else And(items, pos=node.pos)
    if isinstance(node, Or):
        items = tuple(push_not(i, negate) for i in node.items)
        return And(items, pos=node.pos) if negate else Or(items, pos=node.pos)
    if not negate:
        return node
    if isinstance(node, Compare):
        return Compare(NEGATED[node.op], node.left, node.right, pos=node.pos)
    if isinstance(node, Missing):
        return Missing(node.operand, not node.negate, pos=node.pos)
    if isinstance(node, Const) and node.type == BOOLEAN:
        return Const(not node.value, BOOLEAN, pos=node.pos)
    raise ExprError(f"cannot negate {describe(node)}", node.pos)  # pragma: no cover - resolved trees only
