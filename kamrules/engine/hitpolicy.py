"""The hit policy, in one place: which matching rules decide a decision.

- `first`: the first matching rule in file order;
- `priority`: the matching rule with the highest `priority`; ties go to the one written first;
- `unique`: at most one rule may match (evaluate refuses the run otherwise) and it decides;
- `collect`: every matching rule decides, in file order.

The engine's rulesets, evaluate's decision of outputs, and explain's "rules checked before the deciding
one" all read their order from `order` and their winner from `winners`, so they cannot disagree.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from kamrules.pack import Decision

SINGLE_WINNER = ("first", "priority")


def order(decision: Decision) -> list[int]:
    """Rule indexes in the order the hit policy checks them (the engine's salience order)."""
    rules = decision.rules
    if decision.hit == "priority":
        return sorted(range(len(rules)), key=lambda i: (-rules[i].priority, i))
    return list(range(len(rules)))


def winners(decision: Decision, matched: Sequence[int]) -> list[int]:
    """The deciding rule indexes among the matching ones (`matched`, any order)."""
    if decision.hit in SINGLE_WINNER:
        if not matched:
            return []
        rank = {index: position for position, index in enumerate(order(decision))}
        return [min(matched, key=rank.__getitem__)]
    return sorted(matched)


def checked_before(decision: Decision, position: int) -> list[int]:
    """Rule indexes the policy checks before rule `position` (nothing for collect: all are checked)."""
    if decision.hit == "collect":
        return []
    sequence = order(decision)
    return sequence[:sequence.index(position)]


def reduce_masks(decision: Decision, masks: np.ndarray) -> np.ndarray:
    """From every account's mask of ALL matching rules (bit i = rule i) to the mask the engine's
    salience leaves: for first and priority only the winner's bit; unique and collect keep all."""
    if decision.hit not in SINGLE_WINNER:
        return masks
    result = np.zeros(len(masks), dtype=np.uint64)
    undecided = np.ones(len(masks), dtype=bool)
    for index in order(decision):
        bit = np.uint64(1) << np.uint64(index)
        hit = undecided & ((masks & bit) != 0)
        result[hit] = bit
        undecided &= ~hit
    return result
