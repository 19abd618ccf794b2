"""Row filters (`--where`): a condition in the rule language over the data's fields that keeps a row
when it holds, so prospects or closed accounts can be left out without editing the export."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from kamrules.errors import UsageError
from kamrules.language import expr as ex
from kamrules.pack.fields import FieldSpec


def where_mask(condition: str, frame: pd.DataFrame, fields: Sequence[FieldSpec]) -> tuple[np.ndarray, dict]:
    """(rows to keep, what was left out and why) for `condition` over the frame's fields.

    Parsed and type-checked exactly like a rule's `when` (same parser, same messages). A row is kept
    only when the condition is true: false and unknown (a value it tests is missing) both leave it out,
    counted apart. Raises `UsageError` pointing at the place in the condition."""
    present = {spec.name: spec for spec in fields if spec.name in frame.columns}
    symbols = {name: ex.Symbol(name, ex.NUMBER if spec.type == "integer" else spec.type, "field", spec.values)
               for name, spec in present.items()}
    try:
        node = ex.Resolver(symbols, {}).condition(ex.parse(condition))
    except ex.ExprError as exc:
        message = exc.message
        if exc.name is not None and exc.name in {spec.name for spec in fields}:
            message = f"field '{exc.name}' has no column in this file, so --where cannot test it"
        raise UsageError(f"--where: {message}\n  {condition}\n  {' ' * exc.offset}^") from None
    verdict = ex.condition_vector(node, frame)
    unknown = verdict.isna().to_numpy()
    keep = verdict.fillna(False).to_numpy(dtype=bool)
    summary = {"condition": condition, "left_out": int((~keep).sum()),
               "false": int((~keep & ~unknown).sum()), "unknown": int(unknown.sum())}
    return keep, summary


def where_line(summary: dict) -> str:
    """"left out 12 rows: --where customer_type != "prospect" is false for 10 and unknown for 2"."""
    if not summary["left_out"]:
        return f"--where {summary['condition']}: no rows left out"
    rows = "row" if summary["left_out"] == 1 else "rows"
    why = f"is false for {summary['false']}"
    if summary["unknown"]:
        why += f" and unknown for {summary['unknown']} (a value it tests is missing)"
    return f"left out {summary['left_out']} {rows}: --where {summary['condition']} {why}"
