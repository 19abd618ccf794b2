"""Tasks that live across reviews: each row of actions.csv against the last review's actions.

A task is an account and an action code (its id: `results.actions.task_id`). With `evaluate --previous
OUT` (a run folder, read by `results.run_folder`) or `--previous REGISTER` (its latest review before
this one, read by `register.previous_side`), the last review's actions are the decision table's action
column of that review, and each task of this run is

- `new`: not asked for in the last review;
- `open`: asked for then and still needed now (its condition still holds);
- `resolved`: asked for then and no longer needed (its condition cleared, or the account is no longer in
  the data) — listed too, so that a CRM closes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

STATUSES = ("new", "open", "resolved")


@dataclass(frozen=True)
class Resolved:
    account: str
    action: str
    identity: dict  # the identity columns (name, manager) as the last review had them


@dataclass
class TaskHistory:
    """This run's tasks against the last review's: `previous` gives each current task its status."""

    label: str  # the last review (its folder, or the register and date)
    previous: dict  # account id -> frozenset of its action codes in the last review
    resolved: list = field(default_factory=list)  # Resolved, in account then action order of the last review
    counts: dict = field(default_factory=dict)  # status -> tasks

    def status(self, account: str, action: str) -> str:
        return "open" if action in self.previous.get(str(account), ()) else "new"


def task_history(before: Any, evaluation: Any) -> TaskHistory | None:
    """The tasks of `evaluation` against the last review (`before`: a results.diff.Side); None when the
    pack has no action output or the last review has no action column (a run without actions)."""
    from kamrules.results.columns import column_values

    pack = evaluation.pack
    name = pack.role("action")
    if name is None or name not in before.frame.columns:
        return None
    previous = {str(account): frozenset(_codes(cell)) for account, cell in before.frame[name].items()}
    ids = [None if a is None else str(a) for a in column_values(evaluation, "account_id")]
    current: dict[str, list] = {}
    for account, codes in zip(ids, column_values(evaluation, name)):
        if account is not None:
            current[account] = [c for c in (codes or []) if c is not None]
    counts = dict.fromkeys(STATUSES, 0)
    for account, codes in current.items():
        before_codes = previous.get(account, ())
        for code in codes:
            counts["open" if code in before_codes else "new"] += 1
    identity_names = [n for n in ("account_name", pack.role("account_manager")) if n]
    resolved = []
    for account, cell in before.frame[name].items():
        now = set(current.get(str(account), ()))
        for code in _codes(cell):
            if code not in now:
                row = {n: _plain(before.frame.at[account, n]) if n in before.frame.columns else None
                       for n in identity_names}
                resolved.append(Resolved(str(account), code, {"account_id": str(account), **row}))
    counts["resolved"] = len(resolved)
    return TaskHistory(str(before.label), previous, resolved, counts)


def _codes(cell: Any) -> list[str]:
    """A decision-table list cell ("a; b", or a list) as its codes."""
    if cell is None or (isinstance(cell, float) and cell != cell):
        return []
    if isinstance(cell, (list, tuple)):
        return [str(c) for c in cell if c is not None]
    return [part.strip() for part in str(cell).split(";") if part.strip()]


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    return value
