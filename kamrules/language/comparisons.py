"""What a condition compares: every comparison with the side that reads names on the left, and the
constants each name (or expression of names) is compared with.

A rule's answer for an account depends only on where each value it reads falls against the constants it
is compared with, so several readers need exactly this and nothing else: the engine compiles each
comparison and classes each column among its constants (engine/durable.py, engine/situations.py), the
decision-table analyser builds representative values from them (analysis/tables.py), the loader proves
one comparison implies another (pack/conditions.py) and `validate --data` looks for text constants that
never occur (analysis/data.py). They all read it here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from kamrules.language.nodes import BOOLEAN, FLIPPED, And, Compare, Const, Missing, Name, Node, Not, Or, children, names_in
from kamrules.language.rowsem import eval_value

TRUE = Const(True, BOOLEAN)


@dataclass(frozen=True)
class Comparison:
    """`subject op other`: `subject` reads names (a name, or an expression of them); `other` is a
    constant (no names: a literal, a param, arithmetic on them) or another subject."""

    subject: Node
    op: str
    other: Node

    @property
    def against_constant(self) -> bool:
        return not names_in(self.other)

    @property
    def name(self) -> str | None:
        """The name compared, when the subject is a bare name."""
        return self.subject.name if isinstance(self.subject, Name) else None

    def value(self) -> Any:
        """The constant's value (None when the other side is not a constant)."""
        return eval_value(self.other, {}) if self.against_constant else None


def comparison(node: Node) -> Comparison | None:
    """A comparison with its subject on the left (`5 < sales` is `sales > 5`); None for anything else,
    and for a comparison of two constants (no name is compared)."""
    if not isinstance(node, Compare):
        return None
    left, op, right = node.left, node.op, node.right
    if not names_in(left):
        if not names_in(right):
            return None
        left, op, right = right, FLIPPED[op], left
    return Comparison(left, op, right)


def comparisons(condition: Node, inside_values: bool = False) -> Iterator[Comparison]:
    """Every comparison a condition makes, in the order written: its atoms under `and`, `or` and
    `not`, and a boolean value used as a condition as compared with true. `inside_values`: also the
    comparisons inside the values compared (`(sales > 5) == flag`), for readers that look at every
    name's constants, not only at what the engine receives."""
    if isinstance(condition, (And, Or)):
        for item in condition.items:
            yield from comparisons(item, inside_values)
        return
    if isinstance(condition, Not):
        yield from comparisons(condition.item, inside_values)
        return
    if isinstance(condition, (Missing, Const)):
        return
    found = comparison(condition) if isinstance(condition, Compare) else Comparison(condition, "==", TRUE)
    if found is not None:
        yield found
    if inside_values:
        for child in children(condition) if isinstance(condition, Compare) else (condition,):
            yield from _inside(child)


def _inside(value: Node) -> Iterator[Comparison]:
    """The comparisons within a value (a condition used as a value, an argument of a call …)."""
    if isinstance(value, Compare):
        yield from comparisons(value, inside_values=True)
        return
    for child in children(value):
        yield from _inside(child)


def compared_constants(conditions: Iterable[Node], inside_values: bool = False) -> tuple[dict[str, list], bool]:
    """(each name compared -> the constants it is compared with, in order; whether every comparison
    is a bare name against a constant). A name compared only with other names or inside an expression
    gets an empty list; a constant whose value is missing is left out."""
    found: dict[str, list] = {}
    exact = True
    for condition in conditions:
        for compared in comparisons(condition, inside_values):
            if compared.name is not None and compared.against_constant:
                value = compared.value()
                found.setdefault(compared.name, [])
                if value is not None:
                    found[compared.name].append(value)
                continue
            exact = False
            for name in sorted(names_in(compared.subject) | names_in(compared.other)):
                found.setdefault(name, [])
    return found, exact
