"""A param's value: the one check the pack file and `--set` share.

A value in `params:` and a value given with `--set NAME=VALUE` must pass the same checks, or a what-if
runs with a value the pack file itself refuses (`--set fte_hours_per_month=1e-320` gave "inf–inf
full-time equivalents", `--set pareto_target=1e308` was taken). `param_value` is that check: a plain
scalar, no NaN or infinity and nothing beyond ±10^15 (`guards.scalar_problem`), numbers rounded as the
language rounds them (and none so small it would round to 0), and within the param's declared
`range: [low, high]`. `category_problem` (in the
language) refuses a text param compared with a category field that is not one of its values; the
loader asks it when a condition is resolved, `--set` for every comparison of the param it overrides.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from kamrules.language import expr as ex
from kamrules.language.nodes import date_problem
from kamrules.pack.core_traps import text_problem
from kamrules.pack.guards import scalar_problem


def range_text(bounds: tuple) -> str:
    """[0, 1], [0, no limit]: a declared range as messages show it."""
    low, high = bounds
    return f"[{'no limit' if low is None else ex.format_number(low)}, {'no limit' if high is None else ex.format_number(high)}]"


def param_value(value: Any, bounds: tuple = ()) -> tuple[Any, str | None]:
    """(the value as rules read it, None when it is fine or why it cannot be this param's value).
    `bounds`: the param's declared (low, high), either None, or () for none. The value is None when
    nothing usable is left; a refused value of the right kind is kept, so the loader reports it once
    rather than every rule reading the param as unknown too."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if value is None or not isinstance(value, (int, float, str, bool, dt.date)):
        return None, "value must be a number, text, true/false or a date"
    if (problem := scalar_problem(value)) is not None:
        return None, problem
    if isinstance(value, dt.date) and (problem := date_problem(value)) is not None:
        return value, problem
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        rounded = ex.rnd(value)
        if value and not rounded:  # 1e-320 would silently be 0 (a divisor: "inf–inf" FTEs)
            return rounded, (f"{value!r} is closer to 0 than the {ex.NDIGITS} decimals numbers keep: it would "
                             "be 0; write 0 if that is meant")
        if bounds:
            low, high = bounds
            if (low is not None and rounded < low) or (high is not None and rounded > high):
                return rounded, f"{ex.format_number(rounded)} is outside the param's range {range_text(bounds)}"
        return rounded, None
    if bounds:
        return value, f"only number params have a range; this one is a {ex.value_type(value)}"
    if isinstance(value, str) and (problem := text_problem(value)) is not None:  # (core_traps.py)
        return value, problem
    return value, None


def category_problems(trees: Any, names: set, symbols: dict) -> list[str]:
    """What `ex.category_problem` finds in every comparison of a category with one of the params
    `names`, anywhere in `trees` (rules, features, bands: the pack's bound trees)."""
    found: list[str] = []

    def visit(node: ex.Node) -> None:
        if not isinstance(node, ex.Compare):
            return
        for mine, other in ((node.left, node.right), (node.right, node.left)):
            if isinstance(mine, ex.Name) and mine.type == ex.CATEGORY and isinstance(other, ex.Param) \
                    and other.name in names and mine.name in symbols:
                problem = ex.category_problem(mine.name, symbols[mine.name].values, other.value)
                if problem is not None and problem not in found:
                    found.append(problem)

    for tree in _trees(trees):
        ex.walk(tree, visit)
    return found


def _trees(value: Any):
    """The expression trees held anywhere in `value` (dataclasses, lists, tuples, dicts)."""
    if isinstance(value, ex.Node):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _trees(getattr(value, f.name))
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _trees(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _trees(item)
