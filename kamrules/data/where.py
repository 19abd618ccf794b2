"""Row filters (`--where`): a condition in the rule language over the data's fields that keeps a row
when it holds, so prospects or closed accounts can be left out without editing the export."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from kamrules.data.wording import hint, say
from kamrules.errors import UsageError
from kamrules.language import expr as ex
from kamrules.pack.fields import FieldSpec


def where_mask(condition: str, frame: pd.DataFrame, fields: Sequence[FieldSpec],
               lang: str = "en") -> tuple[np.ndarray, dict]:
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
            message = say(lang, "where_no_column", field=exc.name)
        elif exc.name is not None and lang != "en":  # the rule language's own words are English
            quotes = say("en", "where_needs_quotes", name=exc.name, example="")  # the language layer's words
            message = (say(lang, "where_needs_quotes", name=exc.name, example=message[len(quotes):])
                       if message.startswith(quotes)
                       else say(lang, "where_unknown_name", name=exc.name, hint=hint(lang, exc.name, symbols)))
        elif lang != "en":  # the commonest slips, known by the language layer's English words
            known = {say("en", key): say(lang, key) for key in ("where_use_eq", "where_empty", "where_empty_list",
                                                                "where_char_eq", "where_char_and", "where_char_or",
                                                                "where_char_not")}
            message = known.get(message, message)
        raise UsageError(say(lang, "where_error", message=message, condition=condition, caret=" " * exc.offset)) from None
    verdict = ex.condition_vector(node, frame)
    unknown = verdict.isna().to_numpy()
    keep = verdict.fillna(False).to_numpy(dtype=bool)
    summary = {"condition": condition, "left_out": int((~keep).sum()),
               "false": int((~keep & ~unknown).sum()), "unknown": int(unknown.sum())}
    return keep, summary


def where_line(summary: dict, lang: str = "en") -> str:
    """"left out 12 rows: --where customer_type != "prospect" is false for 10 and unknown for 2"."""
    if not summary["left_out"]:
        return say(lang, "where_nothing", condition=summary["condition"])
    rows = say(lang, "row_one" if summary["left_out"] == 1 else "row_many", n=summary["left_out"])
    key = "where_left_unknown" if summary["unknown"] else "where_left"
    return say(lang, key, n=summary["left_out"], rows=rows, condition=summary["condition"], false=summary["false"],
               unknown=summary["unknown"])
