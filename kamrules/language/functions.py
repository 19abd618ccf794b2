"""The functions a condition may call (`abs`, `min`, `max`, `floor`, `coalesce`), one object each: its
name, how many values it takes, its type rule, its value for one account (the row semantics, behind
`explain`) and for a whole column (the vector semantics, behind features and the engine's hidden
columns). A new function is one `register_function(Function(…))`; the parser, the type checker, both
semantics and the analysers ask the registry and never compare a function's name.

Every function takes numbers and gives a number: the engine reads a call as a hidden numeric column
that pandas computes before durable_rules sees the rule. Both semantics round the result (`rnd`,
`round_series`), so an evaluator gives the plain value."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from kamrules.language.nodes import NUMBER

_COUNTS = {1: "one", 2: "two", 3: "three"}


@dataclass(frozen=True)
class Function:
    """One function of the condition language.

    `row(values)`: the value for one account, from its arguments' values (None = missing); it is only
    given a None when `missing_if_any` is false. `vector(columns)`: the same over float64 columns
    (NaN = missing), as a float64 column. `takes`: the type every argument must have (the type rule:
    the call is then a number)."""

    name: str
    least: int  # the fewest arguments
    most: int | None  # the most (None: any number)
    row: Callable[[list], float | None]
    vector: Callable[[list[pd.Series]], pd.Series]
    missing_if_any: bool = True  # missing when any argument is (False: the function decides)
    takes: str = NUMBER

    def arity_problem(self, count: int) -> str | None:
        """What is wrong with calling it with `count` values, or None."""
        if count >= self.least and (self.most is None or count <= self.most):
            return None
        return f"{self.name}() takes {self.arity_words()}"

    def arity_words(self) -> str:
        least = _COUNTS.get(self.least, str(self.least))
        if self.most is None:
            return f"{least} or more values"
        if self.most == self.least:
            return f"{least} value" + ("" if self.least == 1 else "s")
        return f"{least} to {_COUNTS.get(self.most, str(self.most))} values"

    def surely_missing(self, missing: Sequence[bool]) -> bool:
        """Whether the call is missing for every account when the arguments marked are."""
        return any(missing) if self.missing_if_any else all(missing)


FUNCTIONS: dict[str, Function] = {}  # by name, in the order the parser's message lists them


def register_function(function: Function) -> Function:
    """Add a function to the language (a name already taken, or `date`, is a bug, never a silent swap)."""
    if function.name in FUNCTIONS or function.name == "date":
        raise ValueError(f"function '{function.name}' is taken")
    if function.takes != NUMBER:
        raise ValueError(f"function '{function.name}': functions take numbers (the engine reads calls as numbers)")
    FUNCTIONS[function.name] = function
    return function


def _first_present(values: list) -> float | None:
    return next((v for v in values if v is not None), None)


def _first_present_vector(columns: list[pd.Series]) -> pd.Series:
    result = columns[0]
    for column in columns[1:]:
        result = result.where(result.notna(), column)
    return result


for _function in (
    Function("abs", 1, 1, lambda v: abs(v[0]), lambda c: c[0].abs()),
    Function("min", 2, None, min, lambda c: pd.concat(c, axis=1).min(axis=1, skipna=False)),
    Function("max", 2, None, max, lambda c: pd.concat(c, axis=1).max(axis=1, skipna=False)),
    Function("floor", 1, 1, lambda v: math.floor(v[0]), lambda c: np.floor(c[0])),
    # the first value that is not missing: missing only when all are
    Function("coalesce", 2, None, _first_present, _first_present_vector, missing_if_any=False),
):
    register_function(_function)
