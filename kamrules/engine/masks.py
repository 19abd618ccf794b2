"""How the engine keeps what it decided: per decision, one 64-bit mask per account, bit i set when
rule i decided (a decision has at most 64 rules: `pack.MAX_BRANCHES_PER_DECISION`).

The encoding stays inside the engine: everything else reads an evaluation through its outcomes
(`Evaluation.outcomes`, engine/evaluation.py), built here from the masks.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from kamrules.engine.coding import unsigned
from kamrules.engine.outcomes import Outcomes, outcome
from kamrules.pack import Decision


def mask_rules(mask: int) -> list[int]:
    """The rule indexes set in a match mask, in rule order."""
    indexes, position = [], 0
    while mask:
        if mask & 1:
            indexes.append(position)
        mask >>= 1
        position += 1
    return indexes


def to_mask(indexes: Sequence[int]) -> int:
    mask = 0
    for index in indexes:
        mask |= 1 << index
    return mask


def winners(decision: Decision, masks: np.ndarray) -> np.ndarray:
    """From the masks of ALL the matching rules to the masks of the deciding ones, as the hit policy
    picks them (`HitPolicy.winners`), worked out once per distinct mask."""
    policy = decision.policy
    table = {int(m): to_mask(policy.winners(decision, mask_rules(int(m)))) for m in pd.unique(masks)}
    return np.fromiter((table[m] for m in masks.tolist()), dtype=np.uint64, count=len(masks))


def refused(decision: Decision, masks: np.ndarray) -> list[tuple[int, list[int]]]:
    """(account position, matching rules) wherever the decision's hit policy refuses the rules that
    match (`HitPolicy.refuses`: two rules of a `unique` decision), in account order."""
    bad = [m for m in pd.unique(masks) if decision.policy.refuses(mask_rules(int(m)))]
    if not bad:
        return []
    return [(int(p), mask_rules(int(masks[p]))) for p in np.flatnonzero(np.isin(masks, np.array(bad, dtype=np.uint64)))]


def first_order(masks: np.ndarray | None, coded: tuple | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(each account's code, the distinct masks) numbered in order of their first account, from the
    masks or from `coded` (each account's mask code and the distinct masks)."""
    if coded is None:
        codes, distinct = pd.factorize(masks)  # in order of first appearance
        return codes.astype(unsigned(max(len(distinct) - 1, 0))), np.asarray(distinct)
    codes, distinct = coded
    present = pd.unique(codes)  # the masks present, in order of their first account
    number = np.zeros(len(distinct), dtype=unsigned(max(len(present) - 1, 0)))
    number[present] = np.arange(len(present))
    return np.take(number, codes), np.asarray(distinct)[present]


def outcomes(decision: Decision, masks: np.ndarray | None, coded: tuple | None = None) -> Outcomes:
    """A decision's outcomes from its masks, each distinct mask decoded once and the outcomes numbered
    in order of their first account. `coded`: each account's mask code and the distinct masks, when the
    situations path has them (renumbered, not hashed again)."""
    codes, distinct = first_order(masks, coded)
    policy = decision.policy
    found = [outcome(decision, *policy.outputs(decision, mask_rules(int(m)))) for m in distinct]
    return Outcomes(decision, found, np.ascontiguousarray(codes))
