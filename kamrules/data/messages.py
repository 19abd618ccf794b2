"""Messages about bad cells and duplicate account IDs, listing the first few in row order."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kamrules.data.options import MAX_LISTED, DataIssue, _Raw


def first_lines(lines: list[str], total: int) -> str:
    """The first MAX_LISTED of `total` lines, each on its own indented line, and how many more."""
    shown = lines[:MAX_LISTED]
    if total > MAX_LISTED:
        shown.append(f"and {total - MAX_LISTED} more")
    return "\n  " + "\n  ".join(shown)


def _shown(value: str, limit: int = 60) -> str:
    value = value.strip()
    return value if len(value) <= limit else value[: limit - 1] + "…"


def issue_text(issue: DataIssue, unit: str = "row") -> str:
    """One bad cell as a message line: "row 14, column 'Sales' (field sales): '12abc' is not a number"."""
    value = _shown(issue.value)
    what = f"'{value}' {issue.reason}" if value else f"value {issue.reason}"
    return f"{unit} {issue.row}, column '{issue.column}' (field {issue.field}): {what}"


def _bad_values_message(name: str, unit: str, problems: list[DataIssue], total: int) -> str:
    fix = "pass --on-bad-value missing to read them as missing values"
    if total == 1:
        return f"{name}: {issue_text(problems[0], unit)}; fix the cell or pass --on-bad-value missing"
    lines = [issue_text(issue, unit) for issue in problems[:MAX_LISTED]]
    return f"{name}: {total} values cannot be read; fix the cells or {fix}:" + first_lines(lines, total)


def _rows_text(unit: str, rows: list[int]) -> str:
    """"row 3", "rows 3 and 9", "rows 3, 4 and 8", "rows 3, 4, 5, 6, 7 and 2 more"."""
    if len(rows) == 1:
        return f"{unit} {rows[0]}"
    if len(rows) > 5:
        return f"{unit}s " + ", ".join(str(r) for r in rows[:5]) + f" and {len(rows) - 5} more"
    return f"{unit}s " + ", ".join(str(r) for r in rows[:-1]) + f" and {rows[-1]}"


def _duplicate_ids_message(name: str, raw: _Raw, ids: pd.Series, header: str) -> str | None:
    present = ids.notna()
    duplicated = ids.duplicated(keep=False) & present
    if not duplicated.any():
        return None
    groups: dict[str, list[int]] = {}
    for position in np.flatnonzero(duplicated.to_numpy()):
        groups.setdefault(ids.iloc[position], []).append(int(raw.row_numbers[position]))
    items = sorted(groups.items(), key=lambda item: item[1][0])
    where = f"column '{header}' (field account_id)"
    fix = "each account must appear once: remove or merge the duplicates"
    if len(items) == 1:
        value, rows = items[0]
        return f"{name}: {where}: '{value}' appears in {_rows_text(raw.unit, rows)}; {fix}"
    lines = [f"'{value}' in {_rows_text(raw.unit, rows)}" for value, rows in items[:MAX_LISTED]]
    return f"{name}: {where}: {len(items)} IDs appear more than once; {fix}:" + first_lines(lines, len(items))
