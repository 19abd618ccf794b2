"""The condition language: a whitelisted parser into an engine-neutral tree, its types and semantics.

Rule authors write `sales_cum_share <= params.pareto_cut and kam_index >= 60`. The text is tokenized
and parsed here by hand (never `eval`, never Python's `ast`), so only the documented constructs exist.
The tree (`Node` subclasses) is what every engine compiles from: the durable_rules engine, the
vectorized pandas evaluator for features, and the row evaluator behind `kamrules explain`.

Semantics (docs/rules.md): three-valued logic with missing values, division by zero gives missing, and
every number is rounded to `NDIGITS` decimal places so that decimal arithmetic reads as a person
computes it (80,000 vs 100,000 is exactly -0.2).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

import numpy as np
import pandas as pd

NDIGITS = 9
FUNCTIONS = ("abs", "min", "max")
NUMBER, STRING, BOOLEAN, DATE, CATEGORY = "number", "string", "boolean", "date", "category"


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


TRUE = Const(True, BOOLEAN)
CMP_OPS = ("==", "!=", "<=", ">=", "<", ">")
NEGATED = {"==": "!=", "!=": "==", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}
FLIPPED = {"==": "==", "!=": "!=", "<": ">", ">": "<", "<=": ">=", ">=": "<="}


# ---------------------------------------------------------------------------------------- tokenizer

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<number>\d[\d_]*(?:\.\d[\d_]*)?(?:[eE][+-]?\d+)?|\.\d[\d_]*)
  | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<name>[A-Za-z_\u00c0-\uffff][A-Za-z0-9_\u00c0-\uffff]*)
  | (?P<op>==|!=|<=|>=|<|>|\+|-|\*|/|\(|\)|\[|\]|,|\.)
    """,
    re.VERBOSE,
)
KEYWORDS = {"and", "or", "not", "in", "is", "missing", "true", "false", "date"}
_PY_WORDS = {"lambda", "for", "if", "else", "import", "None", "True", "False", "yield", "await", "def"}


@dataclass
class Token:
    kind: str  # number string name op end
    text: str
    pos: int


def tokenize(text: str) -> list[Token]:
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            for word in re.finditer(r"[A-Za-z_]+", text[:pos]):
                if word.group() in _PY_WORDS:
                    raise ExprError(f"'{word.group()}' is Python, not part of the rule language", word.start())
            char = text[pos]
            hint = {
                "=": " (to compare, write '==')",
                "&": " (write 'and')",
                "|": " (write 'or')",
                "!": " (write 'not')",
                "%": " (write a share as a number: 35% is 0.35)",
                "{": " (conditions take plain values, not mappings)",
                "@": "",
                ";": "",
                ":": "",
            }.get(char, "")
            raise ExprError(f"unexpected character '{char}'{hint}", pos)
        kind = match.lastgroup
        if kind == "op" and match.group() == "=" :  # pragma: no cover - '=' alone never matches
            raise ExprError("use '==' to compare", pos)
        if kind != "ws":
            tokens.append(Token(kind, match.group(), pos))
        pos = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


# ------------------------------------------------------------------------------------------- parser


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, k: int = 1) -> Token:
        return self.tokens[min(self.i + k, len(self.tokens) - 1)]

    def at(self, kind: str, text: str | None = None) -> bool:
        return self.tok.kind == kind and (text is None or self.tok.text == text)

    def at_word(self, word: str) -> bool:
        return self.tok.kind == "name" and self.tok.text == word

    def take(self) -> Token:
        token = self.tok
        self.i += 1
        return token

    def expect(self, kind: str, text: str, what: str) -> Token:
        if not self.at(kind, text):
            raise ExprError(f"expected {what}, found {self.describe(self.tok)}", self.tok.pos)
        return self.take()

    @staticmethod
    def describe(token: Token) -> str:
        return "the end of the condition" if token.kind == "end" else f"'{token.text}'"

    def parse(self) -> Node:
        if self.at("end"):
            raise ExprError("the condition is empty", 0)
        node = self.or_()
        if not self.at("end"):
            token = self.tok
            if token.kind == "name" and token.text in ("if", "for", "else"):
                raise ExprError(f"'{token.text}' is Python, not part of the rule language", token.pos)
            raise ExprError(
                f"unexpected {self.describe(token)}: join conditions with 'and' / 'or'", token.pos
            )
        return node

    def or_(self) -> Node:
        start = self.tok.pos
        items = [self.and_()]
        while self.at_word("or"):
            self.take()
            items.append(self.and_())
        return items[0] if len(items) == 1 else Or(tuple(items), pos=start)

    def and_(self) -> Node:
        start = self.tok.pos
        items = [self.not_()]
        while self.at_word("and"):
            self.take()
            items.append(self.not_())
        return items[0] if len(items) == 1 else And(tuple(items), pos=start)

    def not_(self) -> Node:
        if self.at_word("not"):
            start = self.take().pos
            return Not(self.not_(), pos=start)
        return self.comparison()

    def comparison(self) -> Node:
        start = self.tok.pos
        left = self.sum_()
        if self.at_word("is"):
            self.take()
            negate = False
            if self.at_word("not"):
                self.take()
                negate = True
            if not self.at_word("missing"):
                raise ExprError(
                    f"expected 'missing' after 'is{' not' if negate else ''}', found {self.describe(self.tok)}"
                    " (write 'x == value' to compare)",
                    self.tok.pos,
                )
            self.take()
            return Missing(left, negate, pos=start)
        if self.at_word("in") or (self.at_word("not") and self.peek().kind == "name" and self.peek().text == "in"):
            negate = self.at_word("not")
            if negate:
                self.take()
            self.take()
            values = self.literal_list()
            node: Node = Or(tuple(Compare("==", left, v, pos=start) for v in values), pos=start)
            if len(values) == 1:
                node = node.items[0]
            return Not(node, pos=start) if negate else node
        parts: list[Node] = []
        ops: list[str] = []
        while self.tok.kind == "op" and self.tok.text in CMP_OPS:
            ops.append(self.take().text)
            parts.append(self.sum_())
        if not ops:
            return left
        terms, prev = [], left
        for op, right in zip(ops, parts):
            terms.append(Compare(op, prev, right, pos=start))
            prev = right
        return terms[0] if len(terms) == 1 else And(tuple(terms), pos=start)

    def literal_list(self) -> list[Node]:
        self.expect("op", "[", "'[' to start a list, as in: region in [\"north\", \"south\"]")
        values: list[Node] = []
        while not self.at("op", "]"):
            if values:
                self.expect("op", ",", "',' between list items")
            token = self.tok
            sign = 1
            if self.at("op", "-"):
                self.take()
                sign = -1
            node = self.atom()
            if isinstance(node, Const) and node.type == NUMBER:
                node = Const(rnd(sign * node.value), NUMBER, pos=token.pos)
            elif sign == -1 or not isinstance(node, (Const, Param)):
                raise ExprError("a list holds plain values (numbers, strings, params)", token.pos)
            values.append(node)
        self.take()
        if not values:
            raise ExprError("the list is empty: it would never match", self.tok.pos)
        return values

    def sum_(self) -> Node:
        left = self.product()
        while self.tok.kind == "op" and self.tok.text in "+-":
            token = self.take()
            left = Arith(token.text, left, self.product(), pos=token.pos)
        return left

    def product(self) -> Node:
        left = self.unary()
        while self.tok.kind == "op" and self.tok.text in "*/":
            token = self.take()
            left = Arith(token.text, left, self.unary(), pos=token.pos)
        return left

    def unary(self) -> Node:
        if self.at("op", "-"):
            token = self.take()
            operand = self.unary()
            if isinstance(operand, Const) and operand.type == NUMBER:
                return Const(rnd(-operand.value), NUMBER, pos=token.pos)
            return Neg(operand, pos=token.pos)
        if self.at("op", "+"):
            self.take()
            return self.unary()
        return self.atom()

    def atom(self) -> Node:
        token = self.tok
        if token.kind == "number":
            self.take()
            try:
                value = float(token.text.replace("_", ""))
            except ValueError:
                raise ExprError(f"'{token.text}' is not a number", token.pos) from None
            if not math.isfinite(value):
                raise ExprError(f"'{token.text}' is too large", token.pos)
            return Const(rnd(value), NUMBER, pos=token.pos)
        if token.kind == "string":
            self.take()
            return Const(_unquote(token.text), STRING, pos=token.pos)
        if token.kind == "op" and token.text == "(":
            self.take()
            node = self.or_()
            self.expect("op", ")", "')'")
            return node
        if token.kind == "op" and token.text == "[":
            raise ExprError("a list only follows 'in', as in: region in [\"north\", \"south\"]", token.pos)
        if token.kind == "name":
            return self.name_or_call()
        raise ExprError(f"expected a value, found {self.describe(token)}", token.pos)

    def name_or_call(self) -> Node:
        token = self.take()
        name = token.text
        if name.startswith("_"):
            raise ExprError(f"names starting with '_' are not allowed ('{name}')", token.pos)
        if name in ("true", "false"):
            return Const(name == "true", BOOLEAN, pos=token.pos)
        if name in _PY_WORDS:
            raise ExprError(f"'{name}' is Python, not part of the rule language", token.pos)
        if name in ("and", "or", "in", "is", "missing"):
            raise ExprError(f"expected a value, found '{name}'", token.pos)
        if self.at("op", "("):
            return self.call(name, token.pos)
        if self.at("op", "."):
            self.take()
            attr = self.tok
            if name != "params":
                raise ExprError(
                    f"'{name}.{attr.text}': only params are read with a dot (params.NAME)", token.pos
                )
            if attr.kind != "name" or attr.text.startswith("_"):
                raise ExprError("expected a parameter name after 'params.'", attr.pos)
            self.take()
            if self.at("op", ".") or self.at("op", "("):
                raise ExprError(f"'params.{attr.text}' is a value: it has no attributes or calls", self.tok.pos)
            return Param(attr.text, None, "", pos=token.pos)
        if name == "params":
            raise ExprError("write params.NAME to read a parameter", token.pos)
        if name == "date":
            raise ExprError('write a date as date("YYYY-MM-DD")', token.pos)
        return Name(name, pos=token.pos)

    def call(self, name: str, pos: int) -> Node:
        self.take()  # (
        if name == "date":
            token = self.tok
            if token.kind != "string":
                raise ExprError('date() takes one quoted date: date("2026-01-31")', token.pos)
            self.take()
            self.expect("op", ")", "')' after the date")
            try:
                return Const(dt.date.fromisoformat(_unquote(token.text)), DATE, pos=pos)
            except ValueError:
                raise ExprError(f"{token.text} is not a date in the form YYYY-MM-DD", token.pos) from None
        if name not in FUNCTIONS:
            raise ExprError(
                f"calling '{name}' is not allowed: the functions are {', '.join(FUNCTIONS)} and date",
                pos,
            )
        args: list[Node] = []
        while not self.at("op", ")"):
            if args:
                self.expect("op", ",", "',' between arguments")
            args.append(self.sum_())
        self.take()
        if name == "abs" and len(args) != 1:
            raise ExprError("abs() takes one value", pos)
        if name in ("min", "max") and len(args) < 2:
            raise ExprError(f"{name}() takes two or more values", pos)
        return Call(name, tuple(args), pos=pos)


def _unquote(text: str) -> str:
    body = text[1:-1]
    return re.sub(r"\\(.)", r"\1", body)


from kamrules.language.guards import nesting_problem  # noqa: E402 - next to its one caller


def parse(text: str) -> Node:
    """Parse a condition or arithmetic expression. Raises ExprError."""
    if not isinstance(text, str):
        raise ExprError("a condition must be text", 0)
    if len(text) > 4000:
        raise ExprError("the condition is longer than 4,000 characters: split it into features", 0)
    if (too_deep := nesting_problem(text)) is not None:  # before the recursive parser (language/guards.py)
        raise ExprError(*too_deep)
    return _Parser(text).parse()


# ------------------------------------------------------------------------------ resolving and types


@dataclass(frozen=True)
class Symbol:
    """What a name in an expression refers to."""

    name: str
    type: str
    kind: str  # field | feature | score | output | count
    values: tuple = ()  # allowed category values


def _did_you_mean(name: str, candidates: Iterable[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, sorted(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    return _did_you_mean(name, candidates)


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
                    f"unknown parameter 'params.{node.name}'{_did_you_mean(node.name, self.params)}",
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
                raise ExprError(f"unknown name '{node.name}'{_did_you_mean(node.name, self.symbols)}", node.pos,
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
        if isinstance(node, Call):
            args = []
            for arg in node.args:
                resolved, atype = self.value(arg)
                self._need_number(atype, arg, f"{node.func}()")
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
                allowed = self.symbols[mine.name].values
                if allowed and other.value not in allowed:
                    raise ExprError(
                        f"'{other.value}' is not a value of {mine.name} "
                        f"(values: {', '.join(map(str, allowed))}){_did_you_mean(str(other.value), map(str, allowed))}",
                        other.pos,
                    )
        return Compare(node.op, left, right, pos=node.pos)


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
    return '"' + str(value).replace('"', '\\"') + '"'


def format_number(value: float) -> str:
    """A number as a person writes it: no trailing zeros, no binary noise."""
    value = rnd(value)
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.{NDIGITS}f}".rstrip("0").rstrip(".")


def names_in(node: Node) -> set[str]:
    """All field/feature/output names an expression reads."""
    found: set[str] = set()
    walk(node, lambda n: found.add(n.name) if isinstance(n, Name) else None)
    return found


def params_in(node: Node) -> set[str]:
    found: set[str] = set()
    walk(node, lambda n: found.add(n.name) if isinstance(n, Param) else None)
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
        args = [eval_value(a, record) for a in node.args]
        if any(a is None for a in args):
            return None
        if node.func == "abs":
            return rnd(abs(args[0]))
        return rnd(min(args) if node.func == "min" else max(args))
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


def is_missing(value: Any) -> bool:
    if value is None or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return False


def compare(op: str, left: Any, right: Any) -> bool:
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
    if isinstance(node, And):
        result: bool | None = True
        for item in node.items:
            value = eval_condition(item, record)
            if value is False:
                return False
            if value is None:
                result = None
        return result
    if isinstance(node, Or):
        result = False
        for item in node.items:
            value = eval_condition(item, record)
            if value is True:
                return True
            if value is None:
                result = None
        return result
    if isinstance(node, Not):
        value = eval_condition(node.item, record)
        return None if value is None else not value
    value = eval_value(node, record)
    return None if value is None else bool(value)


def _num(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return rnd(value)
    if isinstance(value, (np.floating, np.integer)):
        return rnd(float(value))
    return value


# ---------------------------------------------------------------------------- vector evaluation


def eval_vector(node: Node, frame: pd.DataFrame) -> pd.Series:
    """Evaluate over a whole table. Values: float64 with NaN for missing; conditions: pandas
    "boolean" with <NA> for unknown. Dates arrive as datetime64 columns."""
    index = frame.index
    if isinstance(node, (Const, Param)):
        value = node.value
        if node.type == BOOLEAN:
            return pd.Series(bool(value), index=index, dtype="boolean")
        if node.type == DATE:
            return pd.Series(pd.Timestamp(value), index=index)
        if node.type == NUMBER:
            return pd.Series(float(value), index=index, dtype="float64")
        return pd.Series(value, index=index, dtype="object")
    if isinstance(node, Name):
        return frame[node.name]
    if isinstance(node, Neg):
        return round_series(-_as_float(eval_vector(node.operand, frame)))
    if isinstance(node, Arith):
        left = _as_float(eval_vector(node.left, frame))
        right = _as_float(eval_vector(node.right, frame))
        with np.errstate(all="ignore"):
            if node.op == "+":
                result = left + right
            elif node.op == "-":
                result = left - right
            elif node.op == "*":
                result = left * right
            else:
                result = left / right.where(right != 0)
        return round_series(result.where(np.isfinite(result)))
    if isinstance(node, Call):
        args = [_as_float(eval_vector(a, frame)) for a in node.args]
        if node.func == "abs":
            return round_series(args[0].abs())
        stacked = pd.concat(args, axis=1)
        result = stacked.min(axis=1, skipna=False) if node.func == "min" else stacked.max(axis=1, skipna=False)
        return round_series(result)
    return condition_vector(node, frame)


def condition_vector(node: Node, frame: pd.DataFrame) -> pd.Series:
    index = frame.index
    if isinstance(node, Const):
        return pd.Series(bool(node.value), index=index, dtype="boolean")
    if isinstance(node, Compare):
        left, right = eval_vector(node.left, frame), eval_vector(node.right, frame)
        missing = _missing(left) | _missing(right)
        if pd.api.types.is_float_dtype(left) or pd.api.types.is_float_dtype(right):
            left, right = round_series(_as_float(left)), round_series(_as_float(right))
        with np.errstate(all="ignore"):
            values = compare(node.op, left.astype(object).where(~missing, 0), right.astype(object).where(~missing, 0)) \
                if left.dtype == object or right.dtype == object else compare(node.op, left, right)
        result = pd.Series(np.asarray(values, dtype=bool), index=index, dtype="boolean")
        result[missing.to_numpy()] = pd.NA
        return result
    if isinstance(node, Missing):
        missing = _missing(eval_vector(node.operand, frame))
        return pd.Series(~missing if node.negate else missing, index=index, dtype="boolean")
    if isinstance(node, And):
        result = condition_vector(node.items[0], frame)
        for item in node.items[1:]:
            result = result & condition_vector(item, frame)  # pandas "boolean" is Kleene logic
        return result
    if isinstance(node, Or):
        result = condition_vector(node.items[0], frame)
        for item in node.items[1:]:
            result = result | condition_vector(item, frame)
        return result
    if isinstance(node, Not):
        return ~condition_vector(node.item, frame)
    values = eval_vector(node, frame)
    return values.astype("boolean")


def _missing(series: pd.Series) -> pd.Series:
    return pd.Series(pd.isna(series).to_numpy(dtype=bool), index=series.index)


def _as_float(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series, errors="coerce").astype("float64")


def round_series(series: pd.Series) -> pd.Series:
    result = np.round(series.astype("float64"), NDIGITS)
    return result + 0.0  # turns -0.0 into 0.0
