"""How a decision turned out over the whole portfolio: its few distinct outcomes, and each account's.

A million accounts share a few hundred ways a decision can turn out (which rules decided, hence the
outputs). `Outcomes` keeps each distinct outcome once (`Outcome`: the outputs, the deciding rules or
the default) and a small integer per account saying which one it has, so the decision table, the
trace, actions.csv and the report read a decision a column at a time without building a result per
account. `Evaluation.outcomes(decision_id)` gives it (engine/evaluation.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from kamrules.pack import Decision, Rule


@dataclass(frozen=True)
class Outcome:
    """One distinct way a decision turned out: the rules that decided it (for a list policy every
    matching rule, in rule order) or, when none matched, its default; and the outputs they give (lists
    for a list policy). Shared by every account with this outcome: read it, never change it."""

    outputs: Mapping[str, Any]
    indexes: tuple[int, ...]  # the deciding rules' positions in the decision's rules
    rules: tuple[Rule, ...]  # the deciding rules themselves
    default: bool = False  # no rule matched and the decision's default applied

    @property
    def rule_ids(self) -> list[str]:
        """The deciding rules' ids, or ["default"] (the trace's `rules`); [] when nothing decided."""
        return [rule.id for rule in self.rules] + (["default"] if self.default else [])

    @property
    def reads(self) -> list[str]:
        """Every name the deciding rules read, sorted (the values the trace keeps for the account)."""
        return sorted(set().union(*(rule.reads for rule in self.rules))) if self.rules else []


def outcome(decision: Decision, outputs: Mapping[str, Any], deciding: Sequence[int], default: bool) -> Outcome:
    return Outcome(outputs, tuple(deciding), tuple(decision.rules[i] for i in deciding), default)


class Outcomes:
    """A decision's outcomes: `distinct` (numbered in order of their first account) and, per account,
    the number of its outcome (`codes`)."""

    def __init__(self, decision: Decision, distinct: Sequence[Outcome], codes: np.ndarray):
        self.decision = decision
        self.distinct: tuple[Outcome, ...] = tuple(distinct)
        self._codes = codes
        self._codes.flags.writeable = False

    def __len__(self) -> int:
        """How many distinct outcomes."""
        return len(self.distinct)

    def codes(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """The outcome number of each account from `start` to `stop` (read-only, small integers)."""
        return self._codes[start:stop]

    def of(self, position: int) -> Outcome:
        """The outcome of the account at `position` (input order, from 0)."""
        return self.distinct[int(self._codes[position])]

    def accounts(self, number: int) -> np.ndarray:
        """The positions of the accounts whose outcome is `distinct[number]`."""
        return np.flatnonzero(self._codes == number)

    def per_account(self, values: Sequence, start: int = 0, stop: int | None = None) -> np.ndarray:
        """An object array with, for each account from `start` to `stop`, the value of its outcome
        (`values`: one per distinct outcome). Cells share the few value objects: a million accounts hold a
        handful of strings, not a million copies."""
        table = np.empty(len(values), dtype=object)
        for number, value in enumerate(values):  # (one at a time: a list value stays one cell)
            table[number] = value
        return table[self.codes(start, stop)]

    def decides(self, index: int) -> bool:
        """Whether rule `index` decided (for a list policy, was among the rules that decided) for at
        least one account."""
        return any(index in outcome.indexes for outcome in self.distinct)


def from_results(decision: Decision, results: Sequence[Any]) -> Outcomes:
    """A decision's outcomes from each account's `DecisionResult` (None: the account lacks it), for an
    evaluation built from a list of accounts rather than by the engine: accounts with the same
    deciding rules and the same outputs share an outcome."""
    position_of = {rule.id: i for i, rule in enumerate(decision.rules)}
    numbers: dict = {}
    distinct: list[Outcome] = []
    codes = np.zeros(len(results), dtype=np.int64)
    for position, result in enumerate(results):
        fired = [hit.rule for hit in result.hits] if result is not None else []
        outputs = dict(result.outputs) if result is not None else {}
        key = (tuple(fired), repr(outputs))
        if key not in numbers:
            numbers[key] = len(distinct)
            deciding = [position_of[rule] for rule in fired if rule in position_of]
            distinct.append(outcome(decision, outputs, deciding, "default" in fired))
        codes[position] = numbers[key]
    return Outcomes(decision, distinct, codes)
