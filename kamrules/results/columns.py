"""Reading an evaluation by column: every account's value of a name, in input order, as plain Python values."""

from __future__ import annotations

from typing import Any

from kamrules.engine.evaluation import Evaluation



def _plain(value: Any) -> Any:
    """A table cell as the plain Python value an AccountResult would hold (None when missing)."""
    if value is None:
        return None
    if isinstance(value, float):
        return None if value != value else value
    kind = type(value).__module__
    if kind == "numpy":
        import numpy as np

        if isinstance(value, np.floating):
            return None if value != value else float(value)
        if isinstance(value, np.bool_):
            return bool(value)
        if isinstance(value, np.integer):
            return int(value)
        if isinstance(value, np.datetime64):
            import pandas as pd

            return None if pd.isna(value) else pd.Timestamp(value).date()
    if kind.startswith("pandas"):
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return None
        if isinstance(value, pd.Timestamp):
            return value.date()
    return value


def column_values(evaluation: Evaluation, name: str) -> list:
    """Every account's value of a field, feature, score or (single-valued) output, in input order.

    Read from `evaluation.table` when the evaluation has one (no per-account objects are built),
    else from the accounts."""
    table = getattr(evaluation, "table", None)
    if table is not None and name in getattr(table, "columns", ()):
        column = table[name]
        if column.dtype.kind == "f":  # floats: tolist() gives Python floats; NaN → None
            return [None if v != v else v for v in column.tolist()]
        return [_plain(v) for v in column.astype(object).tolist()]
    masks = getattr(evaluation, "masks", None) or {}
    for decision in evaluation.pack.decisions:  # an output not in the table (a collect decision's list)
        if name in decision.outputs and decision.id in masks:
            return _output_values(decision, masks[decision.id], name)
    if name == "account_id":
        return [a.account_id for a in evaluation.accounts]
    if name == "account_name":
        return [a.account_name for a in evaluation.accounts]
    return [a.value(name) for a in evaluation.accounts]


def _output_values(decision, masks, name: str) -> list:
    """A decision output for every account, decoded once per distinct match mask (as
    `AccountResult.value` gives it, without building each account's results)."""
    from kamrules.engine.evaluate import decode_masks, map_masks

    values = {m: outputs.get(name) for m, (outputs, _, _) in decode_masks(decision, masks).items()}
    return [list(v) if isinstance(v, list) else v for v in map_masks(masks, values).tolist()]


def account_ids(evaluation: Evaluation) -> tuple[list, list]:
    """(ids as text, names) of every account, in input order, as AccountResult gives them."""
    ids = ["" if v is None else str(v) for v in column_values(evaluation, "account_id")]
    return ids, column_values(evaluation, "account_name")


