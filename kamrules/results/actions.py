"""actions.csv: one row per account and action, the shape a CRM imports as tasks.

The decision that owns the pack's `action` output (a collect decision; in the default pack `actions`)
gives, per account, every action whose rule matched, with its code, title, owner, due date (as-of +
due days), measure of success and section. The decision table keeps only the action codes, so the
texts are written once per action here instead of in one wide cell per account.
"""

from __future__ import annotations

import datetime as dt
from typing import Iterator

import numpy as np
import pandas as pd

from kamrules.data.writer import table_chunks
from kamrules.engine.evaluation import Evaluation
from kamrules.pack import pick

SLICE = 100_000  # accounts per piece: the file is built and written a slice at a time


def action_decision(pack):
    """The collect decision that owns the pack's `action` output, or None."""
    name = pack.role("action")
    for decision in pack.decisions:
        if decision.hit == "collect" and name in decision.outputs:
            return decision
    return None


def actions_frame(evaluation: Evaluation, lang: str = "en", start: int = 0, stop: int | None = None) -> pd.DataFrame:
    """Rows of actions.csv for accounts [start, stop), in account order then rule order."""
    pack, table = evaluation.pack, evaluation.table
    decision = action_decision(pack)
    stop = len(table) if stop is None else stop
    masks = evaluation.masks[decision.id][start:stop]
    unique, codes = np.unique(masks, return_inverse=True)
    codes = codes.reshape(-1)
    fired = [_bits(int(m)) for m in unique]
    widest = max((len(f) for f in fired), default=0)
    padded = np.full((len(unique), max(widest, 1)), -1, dtype="int64")
    for row, rules in enumerate(fired):
        padded[row, :len(rules)] = rules
    counts = np.array([len(f) for f in fired], dtype="int64")[codes]
    accounts = np.repeat(np.arange(len(masks)), counts)
    offsets = np.arange(len(accounts)) - np.repeat(np.cumsum(counts) - counts, counts)
    rules = padded[codes[accounts], offsets] if len(accounts) else np.zeros(0, dtype="int64")
    columns: dict = {}
    for role in ("account_id", "account_name", "account_manager"):
        name = role if role == "account_id" else pack.role(role)
        if name and name in table.columns:
            values = table[name].iloc[start:stop].astype(object).to_numpy()[accounts]
            columns[name] = [None if v is None or v != v else str(v) for v in values]
    due = pack.role("action_due_days")
    for name, spec in decision.outputs.items():
        per_rule = np.empty(len(decision.rules), dtype=object)
        per_rule[:] = [_shown(rule.then.get(name), spec.type, lang) for rule in decision.rules]
        columns[name] = per_rule[rules]
        if name == due:
            columns[name.removesuffix("_days") + "_date"] = _due_dates(evaluation.as_of, columns[name])
    return pd.DataFrame(columns)


def actions_csv(evaluation: Evaluation, lang: str = "en") -> Iterator[bytes] | None:
    """actions.csv in pieces (None when the pack has no action decision)."""
    if action_decision(evaluation.pack) is None:
        return None
    def pieces() -> Iterator[bytes]:
        total = len(evaluation.table)
        for start in range(0, max(total, 1), SLICE):
            data = b"".join(table_chunks(actions_frame(evaluation, lang, start, start + SLICE), "csv"))
            yield data if start == 0 else data[data.index(b"\n") + 1:]  # the header once

    return pieces()


def _bits(mask: int) -> list[int]:
    return [i for i in range(mask.bit_length()) if mask >> i & 1]


def _shown(value, vtype: str, lang: str):
    if vtype == "text" and value is not None:
        return pick(value, lang)
    return value


def _due_dates(as_of: dt.date, days: np.ndarray) -> np.ndarray:
    distinct = {d: None if d is None or d != d else (as_of + dt.timedelta(days=int(d))).isoformat()
                for d in set(days.tolist())}
    result = np.empty(len(days), dtype=object)
    result[:] = [distinct[d] for d in days.tolist()]
    return result
