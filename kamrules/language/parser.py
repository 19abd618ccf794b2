"""Tokenizer and hand-written parser of the condition language (never `eval`, never Python's `ast`):
only the documented constructs exist. `parse(text)` gives an unresolved tree."""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import cast

from kamrules.language.guards import depth_problem, nesting_problem
from kamrules.language.functions import FUNCTIONS
from kamrules.language.nodes import (
    BOOLEAN, CMP_OPS, DATE, NUMBER, STRING, And, Arith, Call, Compare, Const, ExprError, Missing,
    Name, Neg, Node, Not, Or, Param, date_problem, rnd,
)

# ---------------------------------------------------------------------------------------- tokenizer

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<number>[0-9][0-9_]*(?:\.[0-9][0-9_]*)?(?:[eE][+-]?[0-9]+)?|\.[0-9][0-9_]*)
  | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<name>[A-Za-z_\u00c0-\uffff][A-Za-z0-9_\u00c0-\uffff]*)
  | (?P<op>==|!=|<=|>=|<|>|\+|-|\*|/|\(|\)|\[|\]|,|\.)
    """,
    re.VERBOSE,
)
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
        kind = cast(str, match.lastgroup)  # (every alternative of the pattern is a named group)
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
            either = Or(tuple(Compare("==", left, v, pos=start) for v in values), pos=start)
            node: Node = either.items[0] if len(values) == 1 else either
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
                day = dt.date.fromisoformat(_unquote(token.text))
            except ValueError:
                raise ExprError(f"{token.text} is not a date in the form YYYY-MM-DD", token.pos) from None
            if (problem := date_problem(day)) is not None:  # date("9999-12-31") + 1 day overflowed
                raise ExprError(problem, token.pos)
            return Const(day, DATE, pos=pos)
        function = FUNCTIONS.get(name)
        if function is None:
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
        if (problem := function.arity_problem(len(args))) is not None:
            raise ExprError(problem, pos)
        return Call(name, tuple(args), pos=pos)


def _unquote(text: str) -> str:
    body = text[1:-1]
    return re.sub(r"\\(.)", r"\1", body)


def parse(text: str) -> Node:
    """Parse a condition or arithmetic expression. Raises ExprError."""
    if not isinstance(text, str):
        raise ExprError("a condition must be text", 0)
    if len(text) > 4000:
        raise ExprError("the condition is longer than 4,000 characters: split it into features", 0)
    if (too_deep := nesting_problem(text)) is not None:  # before the recursive parser (language/guards.py)
        raise ExprError(*too_deep)
    tree = _Parser(text).parse()
    if (too_deep := depth_problem(tree)) is not None:  # before any walker recurses over it
        raise ExprError(*too_deep)
    return tree
