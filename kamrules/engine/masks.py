"""How the engine keeps what it decided: per decision, one 64-bit mask per account, bit i set when
rule i decided (a decision has at most 64 rules: `pack.MAX_BRANCHES_PER_DECISION`).

The encoding stays inside the engine: everything else reads an evaluation through its outcomes
(`Evaluation.outcomes`, engine/evaluation.py), built here from the masks.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

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


def decode(decision: Decision, masks: np.ndarray) -> dict:
    """Each distinct match mask of a decision, decoded once: mask -> (outputs, deciding rule
    indexes, used_default), in order of first appearance."""
    policy = decision.policy
    return {int(m): policy.outputs(decision, mask_rules(int(m))) for m in pd.unique(masks)}
