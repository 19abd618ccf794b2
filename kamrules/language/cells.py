"""Decision-table cells, built straight into the expression tree (no text round trip).

A cell is a condition on one input: `-` (or empty, `*`, `any`) matches anything; `> 0.3`, `== x`,
`is missing`, `in [a, b]`, `not in [a, b]` are conditions; anything else means equality. A plain word
stays exactly as written (`North\\East` is the text North\\East), so a backslash is never an escape
outside quotes. Quoted values follow the condition language (`"a \\"b\\""`).
"""

from __future__ import annotations

import re
from typing import Any

from kamrules.language import expr as ex

_ANY = ("-", "", "*", "any")
_OPERATOR = re.compile(r"^(==|!=|<=|>=|<|>)\s*")
_LIST = re.compile(r"^(not\s+)?in\s*\[(.*)\]$", re.DOTALL)
_MISSING = re.compile(r"^is\s+(not\s+)?missing$")


def cell_condition(name: str, cell: Any, vtype: str) -> ex.Node | None:
    """The condition a table cell puts on input `name` (of language type `vtype`), or None for 'any'.
    Raises ExprError with a message for the rule author."""
    left = ex.Name(name)
    if cell is None or (isinstance(cell, str) and cell.strip() in _ANY):
        return None
    if isinstance(cell, bool):
        return ex.Compare("==", left, ex.Const(cell, ex.BOOLEAN))
    if isinstance(cell, (int, float)):
        return ex.Compare("==", left, ex.Const(ex.rnd(cell), ex.NUMBER))
    if not isinstance(cell, str):
        raise ex.ExprError("a cell holds one value or a condition such as '> 0.3' or 'in [a, b]'")
    text = cell.strip()
    missing = _MISSING.match(text)
    if missing:
        return ex.Missing(left, bool(missing.group(1)))
    listed = _LIST.match(text)
    if listed:
        values = [_value(item, vtype) for item in _split_items(listed.group(2))]
        equal = tuple(ex.Compare("==", left, v) for v in values)
        node = equal[0] if len(equal) == 1 else ex.Or(equal)
        return ex.Not(node) if listed.group(1) else node
    if re.match(r"^(not\s+)?in\b", text):
        raise ex.ExprError(f"'{text}': write a list in brackets, as in: in [a, b]")
    operator = _OPERATOR.match(text)
    if operator:
        return ex.Compare(operator.group(1), left, _value(text[operator.end():], vtype))
    return ex.Compare("==", left, _value(text, vtype))


def _split_items(inner: str) -> list[str]:
    """The items of `[a, "b, c", d]` split at commas outside quotes."""
    items, current, quote = [], "", ""
    for char in inner:
        if quote:
            current += char
            if char == quote and not current.endswith("\\" + quote):
                quote = ""
        elif char in "\"'":
            quote, current = char, current + char
        elif char == ",":
            items.append(current.strip())
            current = ""
        else:
            current += char
    items.append(current.strip())
    if quote:
        raise ex.ExprError(f"[{inner}]: a quote is not closed")
    if not any(items) or any(not item for item in items):
        raise ex.ExprError(f"[{inner}]: a list holds one or more values separated by commas, as in [a, b]")
    return items


def _value(text: str, vtype: str) -> ex.Node:
    """One value of a cell: a plain word for a text/category input is taken as written; numbers,
    dates, params and quoted strings are read as in conditions."""
    text = text.strip()
    if not text:
        raise ex.ExprError("a comparison in a cell needs a value, as in '> 0.3'")
    quoted = text[0] in "\"'"
    if vtype in (ex.STRING, ex.CATEGORY) and not quoted and not text.startswith("params."):
        return ex.Const(text, ex.STRING)
    try:
        node = ex.parse(text)
    except ex.ExprError as exc:
        raise ex.ExprError(f"'{text}' is not a value: {exc.message}") from None
    if isinstance(node, (ex.Const, ex.Param)):
        return node
    raise ex.ExprError(f"'{text}' is not a value: a cell holds a value, params.NAME or a condition such as '> 0.3'")
