"""The decision table for people: `--format xlsx` is opened in Excel by sales ops, so its headers and
category values are the pack's labels in the run's language (`--lang zh`: 客户级别, 重点客户). CSV,
JSON and Parquet keep the stable codes (`tier`, `key`) that tools, `kamrules diff` and formulas rely on.
A header that two columns would share keeps its code in brackets, so no column is lost or ambiguous."""

from __future__ import annotations

from typing import Any

import pandas as pd

from kamrules.i18n import UI
from kamrules.pack import RulePack, pick


def labelled_headers(columns, pack: RulePack, lang: str) -> list[str]:
    """The Excel headers of the decision table's `columns` (names): labels in `lang`, a decision's rule
    column as "<title> — rule", and a label two columns would share followed by its code in brackets."""
    rule_word = UI.get(lang, UI["en"]).get("rule", "rule")
    titles = {f"{d.id}_rule": f"{pick(d.title, lang) or d.id} — {rule_word}" for d in pack.decisions}
    headers = [titles.get(c) or pack.name_label(c, lang) for c in columns]
    seen: dict[str, int] = {}
    for header in headers:
        seen[header] = seen.get(header, 0) + 1
    return [h if seen[h] == 1 or h == c else f"{h} ({c})" for h, c in zip(headers, columns)]


def value_codes(pack: RulePack, name: str, lang: str) -> dict[str, str]:
    """label -> code for the values of a labelled column (the inverse of `labelled_frame`'s values), {}
    when the column carries codes."""
    if not _has_labels(pack, name):
        return {}
    output = pack.output(name)
    values = output.values if output is not None else pack.fields[name].values
    codes: dict[str, str] = {}
    for value in values:
        codes.setdefault(pack.label(name, value, lang), value)
    return codes


def labelled_frame(frame: pd.DataFrame, pack: RulePack, lang: str) -> pd.DataFrame:
    """A copy of the decision table with labelled headers and category values (codes where no label)."""
    headers = labelled_headers(list(frame.columns), pack, lang)
    result = frame.copy()
    for column in frame.columns:
        if _has_labels(pack, column):
            result[column] = frame[column].map(lambda value, name=column: _label(pack, name, value, lang))
    result.columns = headers
    return result


def _has_labels(pack: RulePack, name: str) -> bool:
    output = pack.output(name)
    if output is not None:
        return bool(output.value_labels)
    field = pack.fields.get(name)
    return field is not None and field.type == "category"


def _label(pack: RulePack, name: str, value: Any, lang: str) -> Any:
    if isinstance(value, list):
        return [_label(pack, name, item, lang) for item in value]
    if isinstance(value, str) and value:
        return pack.label(name, value, lang)
    return value
