"""The reference semantics of a pack's decisions: every rule's condition evaluated by the condition
language's own evaluator (language/vecsem over a whole table; language/rowsem gives the same for one
account), and the decision's hit policy object choosing among the matching rules.

durable_rules is the engine that must agree with it, on both of its paths (every account through each
decision's ruleset, or each distinct situation once): `tests/test_situations.py` checks the three
against each other on generated packs and data. `kamrules validate --data` reads a file's rules
through it (a whole file in seconds, without an engine run).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kamrules.engine.features import with_columns
from kamrules.language import expr as ex
from kamrules.pack import Decision, RulePack


def decide(pack: RulePack, facts: pd.DataFrame,
           matches: dict | None = None) -> tuple[dict[str, list[np.ndarray]], pd.DataFrame]:
    """Per decision, in pack order, where each of its rules decides (a boolean array per rule; for a
    list policy, where it matches), and `facts` (fields, features and scores, as `compute_derived` gives
    them) with each decision's values for the later ones; `matches`, when given, gets where each rule
    matches, deciding or not."""
    plain_booleans(facts)
    deciding: dict[str, list[np.ndarray]] = {}
    for decision in pack.decisions:
        deciding[decision.id], given = decide_decision(decision, facts, matches)
        facts = with_columns(facts, given)  # (a decision's columns at once: see with_columns)
    return deciding, facts


def decide_decision(decision: Decision, facts: pd.DataFrame,
                    matches: dict | None = None) -> tuple[list[np.ndarray], dict[str, pd.Series]]:
    """Where each rule of one decision decides (`decide`), and the values it gives later decisions (its
    outputs, or its count and totals: `HitPolicy.given`) as columns by name."""
    fires = [ex.condition_vector(rule.when, facts).fillna(False).to_numpy(dtype=bool) for rule in decision.rules]
    if matches is not None:
        matches[decision.id] = fires
    deciding = decision.policy.deciding(decision, fires)
    given: dict[str, pd.Series] = {}
    (_counted if decision.policy.lists else _decided)(decision, deciding, facts.index, given)
    return deciding, given


def _counted(decision: Decision, deciding: list[np.ndarray], index: pd.Index, facts: dict) -> None:
    """A list policy's count and totals, as `HitPolicy.given` adds them up."""
    facts[decision.count_name] = pd.Series(np.sum(deciding, axis=0).astype("float64") if deciding else 0.0,
                                           index=index, dtype="float64")
    for total, output in decision.totals.items():
        weights = [float(rule.then.get(output) or 0.0) for rule in decision.rules]
        facts[total] = pd.Series(np.round(np.sum([f * w for f, w in zip(deciding, weights)], axis=0), ex.NDIGITS)
                                 if deciding else 0.0, index=index, dtype="float64")


def _decided(decision: Decision, deciding: list[np.ndarray], index: pd.Index, facts: dict) -> None:
    """A single-valued decision's outputs: the deciding rule's, else the default."""
    policy = decision.policy
    order = policy.order(decision)
    for name, kind in policy.given_kinds(decision).items():
        default = _shown((decision.default or {}).get(name), kind)
        choices = [deciding[i] for i in order]  # (the policy's winner decides: the first of them)
        values = [_shown(decision.rules[i].then.get(name), kind) for i in order]
        if kind == "number":
            column = np.select(choices, [np.nan if v is None else v for v in values],
                               np.nan if default is None else default) if choices else np.nan
            facts[name] = pd.Series(column, index=index, dtype="float64")
        else:
            column = np.select(choices, [np.array(v, dtype=object) for v in values], default) if choices else default
            facts[name] = pd.Series(column, index=index, dtype=object)


def _shown(value, kind: str):
    """An output's value as later decisions read it: a text output in English (as the engine gives it)."""
    return value.get("en") if kind == "text" and isinstance(value, dict) else value


def plain_booleans(facts: pd.DataFrame) -> pd.DataFrame:
    """Boolean columns as objects (True/False/None), in place: `expr.condition_vector` compares a
    pandas "boolean" column holding <NA> by converting it to a numpy bool array, which fails."""
    for name in facts.columns:
        if str(facts[name].dtype) == "boolean":
            facts[name] = facts[name].astype(object).where(facts[name].notna(), None)
    return facts
