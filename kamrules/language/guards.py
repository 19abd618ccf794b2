"""Bounds on the shape of an expression, checked on the text before the recursive parser sees it.

The parser, the resolver and the compiler all recurse over the expression tree. 300 nested parentheses
or 990 repeated `not`s used to end in a RecursionError traceback (exit 3); no hand-written condition
nests like that. `nesting_problem` scans the text once (linear, no regular expression backtracking) and
names the offset where the nesting goes beyond `MAX_NESTING`.
"""

from __future__ import annotations

MAX_NESTING = 40  # parentheses / brackets, or prefix operators in a row (not, -, +)
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
