"""Messages about bad cells and duplicate account IDs, listing the first few in row order, in the
language of the run (words from the catalogue, kamrules.i18n DATA)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kamrules.data.options import MAX_LISTED, DataIssue, _Raw
from kamrules.data.wording import at, rows_text, say


def first_lines(lines: list[str], total: int, lang: str = "en") -> str:
    """The first MAX_LISTED of `total` lines, each on its own indented line, and how many more."""
    shown = lines[:MAX_LISTED]
    if total > MAX_LISTED:
        shown.append(say(lang, "first_more", n=total - MAX_LISTED))
    return "\n  " + "\n  ".join(shown)


def _shown(value: str, limit: int = 60) -> str:
    value = value.strip()
    return value if len(value) <= limit else value[: limit - 1] + "…"


def issue_text(issue: DataIssue, unit: str = "row", lang: str = "en", field: str | None = None) -> str:
    """One bad cell as a message line: "row 14, column 'Sales' (field sales): '12abc' is not a number";
    `field` names the field as the user knows it (default: its name)."""
    value = _shown(issue.value)
    words = dict(at=at(lang, unit, issue.row), column=issue.column, field=field or issue.field,
                 reason=issue.reason)
    return say(lang, "issue", value=value, **words) if value else say(lang, "issue_empty", **words)


def _bad_values_message(name: str, unit: str, problems: list[DataIssue], total: int, lang: str = "en",
                        fields: dict | None = None) -> str:
    """`fields`: field name -> how messages name it (see wording.field_ref)."""
    fields = fields or {}

    def line(issue: DataIssue) -> str:
        return issue_text(issue, unit, lang, fields.get(issue.field))

    if total == 1:
        return say(lang, "bad_value", name=name, issue=line(problems[0]))
    lines = [line(issue) for issue in problems[:MAX_LISTED]]
    return say(lang, "bad_values", name=name, total=total) + first_lines(lines, total, lang)


def _rows_text(unit: str, rows: list[int], lang: str = "en") -> str:
    """"row 3", "rows 3 and 9", "rows 3, 4 and 8", "rows 3, 4, 5, 6, 7 and 2 more"."""
    return rows_text(lang, unit, rows)


def _all_distinct(ids: pd.Series) -> bool:
    """Whether the present ids are all different, for a column of text (False: look closer)."""
    import pyarrow as pa

    try:
        texts = pa.array(ids.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return False
    return len(texts.dictionary_encode().dictionary) == len(texts) - texts.null_count


def _duplicate_ids_message(name: str, raw: _Raw, ids: pd.Series, header: str, lang: str = "en",
                           field: str = "account_id") -> str | None:
    if _all_distinct(ids):  # the usual case, answered by Arrow's hash table
        return None
    present = ids.notna()
    duplicated = ids.duplicated(keep=False) & present
    if not duplicated.any():
        return None
    groups: dict[str, list[int]] = {}
    for position in np.flatnonzero(duplicated.to_numpy()):
        groups.setdefault(ids.iloc[position], []).append(int(raw.row_numbers[position]))
    items = sorted(groups.items(), key=lambda item: item[1][0])
    where = say(lang, "dup_where", header=header, field=field)
    fix = say(lang, "dup_fix")
    if len(items) == 1:
        value, rows = items[0]
        return say(lang, "dup_one", name=name, where=where, value=value, rows=_rows_text(raw.unit, rows, lang), fix=fix)
    lines = [say(lang, "dup_line", value=value, rows=_rows_text(raw.unit, rows, lang)) for value, rows in items[:MAX_LISTED]]
    return say(lang, "dup_many", name=name, where=where, n=len(items), fix=fix) + first_lines(lines, len(items), lang)
