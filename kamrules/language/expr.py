"""The condition language's facade: `from kamrules.language import expr as ex`, then `ex.parse`,
`ex.Resolver`, `ex.eval_condition`, `ex.condition_vector` …

Rule authors write `sales_cum_share <= params.pareto_cut and kam_index >= 60`. The text is tokenized
and parsed by hand (`parser`), names are bound and types checked (`types`), and the tree (`nodes`) is
what every engine compiles from: the durable_rules engine, the vectorized pandas evaluator
(`vecsem`) for features, and the row evaluator (`rowsem`) behind `kamrules explain`.

Semantics (docs/rules.md): three-valued logic with missing values, division by zero gives missing, and
every number is rounded to `NDIGITS` decimal places so that decimal arithmetic reads as a person
computes it (80,000 vs 100,000 is exactly -0.2).
"""

from kamrules.language.nodes import (
    BOOLEAN, CATEGORY, CMP_OPS, DATE, FLIPPED, NDIGITS, NEGATED, NUMBER, STRING, And, Arith, Call,
    Compare, Const, ExprError, Missing, Name, Neg, Node, Not, Or, Param, children, describe, format_number,
    names_in, push_not, rnd, walk, whole_number,
)
from kamrules.language.functions import FUNCTIONS, Function, register_function
from kamrules.language.parser import Token, parse, tokenize
from kamrules.language.rowsem import (
    arith, compare, eval_condition, eval_value, is_missing,
)
from kamrules.language.types import Resolver, Symbol, category_problem, did_you_mean, value_type
from kamrules.language.vecsem import condition_vector, eval_vector, round_series

__all__ = [
    "BOOLEAN", "CATEGORY", "CMP_OPS", "DATE", "FLIPPED", "FUNCTIONS", "NDIGITS", "NEGATED", "NUMBER", "STRING",
    "And", "Arith", "Call", "Compare", "Const", "ExprError", "Missing", "Name", "Neg", "Node", "Not", "Or", "Param",
    "children", "describe", "format_number", "names_in", "push_not", "rnd", "walk", "whole_number", "Token", "parse", "tokenize",
    "arith", "compare", "eval_condition", "eval_value", "is_missing", "Resolver", "Symbol", "category_problem", "did_you_mean",
    "value_type", "condition_vector", "eval_vector", "round_series", "Function", "register_function",
]
