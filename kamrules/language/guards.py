"""Bounds on the shape of an expression: on the text before the recursive parser sees it, and on the
tree it builds before anything walks it.

The parser, the resolver and the compiler all recurse over the expression tree. 300 nested parentheses
or 990 repeated `not`s used to end in a RecursionError traceback (exit 3); no hand-written condition
nests like that. `nesting_problem` scans the text once (linear, no regular expression backtracking) and
names the offset where the nesting goes beyond `MAX_NESTING`.

A chain of operators without parentheses (`1 + 1 + … + 1`, 1,500 of them fit in the 4,000-character
cap) is parsed by a loop, but it is a tree as deep as the chain is long, and every walker — types,
rowsem, vecsem, describe, the engine's compiler, hashing a node — recurses over it. `depth_problem`
measures the finished tree with an explicit stack and refuses one deeper than `MAX_DEPTH`, so every
tree that exists has at most `MAX_DEPTH` levels and no walker comes near Python's recursion limit
(tests/test_expr.py drives the deepest allowed trees through every path).
"""

from __future__ import annotations

from kamrules.language.nodes import children

MAX_NESTING = 40  # parentheses / brackets, or prefix operators in a row (not, -, +)
MAX_DEPTH = 100  # levels of the expression tree: each operator of a chain is one level
_OPEN, _CLOSE = "([", ")]"


def nesting_problem(text: str) -> tuple[str, int] | None:
    """(message, character offset) when `text` nests deeper than MAX_NESTING, else None."""
    depth = 0
    prefix_run = 0
    quote = ""
    i = 0
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\":
                i += 1
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
            prefix_run = 0
        elif char in _OPEN:
            depth += 1
            if depth > MAX_NESTING:
                return f"parentheses nested more than {MAX_NESTING} deep: split the condition into features", i
        elif char in _CLOSE:
            depth = max(depth - 1, 0)
            prefix_run = 0
        elif char in "-+" or (text.startswith("not", i) and _word_at(text, i, 3)):
            prefix_run += 1
            if prefix_run > MAX_NESTING:
                return f"more than {MAX_NESTING} 'not', '-' or '+' in a row: simplify the condition", i
            if char == "n":
                i += 2
        elif not char.isspace():
            prefix_run = 0
            while i + 1 < len(text) and (text[i + 1].isalnum() or text[i + 1] in "_."):
                i += 1  # skip the rest of a name or number in one go
        i += 1
    return None


def _word_at(text: str, start: int, length: int) -> bool:
    before = text[start - 1] if start else " "
    after = text[start + length] if start + length < len(text) else " "
    return not (before.isalnum() or before == "_") and not (after.isalnum() or after == "_")


def depth_problem(tree) -> tuple[str, int] | None:
    """(message, character offset) when the parsed `tree` has more than MAX_DEPTH levels, else None.
    Iterative: it must not itself recurse over the tree it guards."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        below = children(node)
        if below and depth >= MAX_DEPTH:  # the operator whose operands go one level too deep
            return (f"the expression is more than {MAX_DEPTH} operators deep (each operator of a chain such "
                    "as a + b + c counts): compute parts of it as features", node.pos)
        stack.extend((child, depth + 1) for child in below)
    return None
