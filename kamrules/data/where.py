"""Row filters (`--where`, or `where:` in the `--columns` file): a condition in the rule language over
the data's fields, or over the file's own columns, that keeps a row when it holds, so prospects, leads
or closed accounts can be left out without editing the export.

A column of the file is named as it is written, in backticks when it is not a plain name
(`` `Lifecycle Stage` in ["Customer", "Evangelist"] ``); a pack field of the same name wins over a bare
one. A column reads as numbers when every value in it is a number, else as text."""

from __future__ import annotations

import re
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from kamrules.data.cells import MISSING_WORDS
from kamrules.data.numbers import parse_number
from kamrules.data.wording import hint, say
from kamrules.errors import UsageError
from kamrules.language import expr as ex
from kamrules.pack.fields import FieldSpec, normalise_header

_QUOTED_COLUMN = re.compile(r"`([^`]*)`")
WHERE_OPTION = "--where"


def column_names(condition: str) -> tuple[str, list[str], Callable[[int], int]]:
    """(the condition with each `quoted column` replaced by a plain name, the columns in order, a map
    from an offset in the new text back to the condition as written)."""
    spans: list[tuple[int, int, int, int]] = []  # (new start, new end, old start, old end)
    columns: list[str] = []
    parts: list[str] = []
    last, shift = 0, 0
    for match in _QUOTED_COLUMN.finditer(condition):
        if match.group(1) not in columns:
            columns.append(match.group(1))
        placeholder = f"quoted_column_{columns.index(match.group(1)) + 1}"
        parts += [condition[last:match.start()], placeholder]
        start = match.start() + shift
        spans.append((start, start + len(placeholder), match.start(), match.end()))
        shift += len(placeholder) - (match.end() - match.start())
        last = match.end()
    parts.append(condition[last:])

    def back(offset: int) -> int:
        moved = 0
        for new_start, new_end, old_start, old_end in spans:
            if offset < new_start:
                break
            if offset < new_end:
                return old_start
            moved = old_end - new_end
        return offset + moved

    return "".join(parts), columns, back


def column_values(texts: pa.Array | Sequence[str], decimal: str = ".") -> tuple[pd.Series, str]:
    """A file column as `--where` reads it: (values, type): numbers when every value is one, else text;
    empty cells and the missing words are missing."""
    cells = texts.to_pylist() if isinstance(texts, pa.Array) else list(texts)
    trimmed = [None if c is None or not str(c).strip() or str(c).strip().casefold() in MISSING_WORDS
               else str(c).strip() for c in cells]
    distinct = {t for t in trimmed if t is not None}
    numbers = {t: parse_number(t, decimal)[0] for t in distinct} if len(distinct) <= 100_000 else {}
    if distinct and numbers and all(v is not None for v in numbers.values()):
        return pd.Series([np.nan if t is None else numbers[t] for t in trimmed], dtype="float64"), ex.NUMBER
    return pd.Series(trimmed, dtype=object), ex.STRING


def where_mask(condition: str, frame: pd.DataFrame, fields: Sequence[FieldSpec],
               lang: str = "en", columns: Mapping[str, pa.Array] | None = None, decimal: str = ".",
               option: str = WHERE_OPTION,
               keep_anyway: Callable[[list[str]], np.ndarray] | None = None) -> tuple[np.ndarray, dict]:
    """(rows to keep, what was left out and why) for `condition` over the frame's fields and, when
    given, the file's own `columns` (header -> its cells).

    Parsed and type-checked exactly like a rule's `when` (same parser, same messages). A row is kept
    only when the condition is true: false and unknown (a value it tests is missing) both leave it out,
    counted apart. Raises `UsageError` pointing at the place in the condition; `option` names where the
    condition was written (--where, or the --columns file). `keep_anyway(fields the condition reads)`
    gives rows kept whatever the verdict (rows whose tested value could not be read)."""
    text, quoted, back = column_names(condition)
    try:
        node, frame = _resolve(text, quoted, frame, fields, columns or {}, decimal, lang)
    except ex.ExprError as exc:
        exc.offset = back(exc.offset)
        message = exc.message
        for number, header in enumerate(quoted, start=1):  # the language names a quoted column by its placeholder
            message = message.replace(f"quoted_column_{number}", f"`{header}`")
        symbols = [spec.name for spec in fields if spec.name in frame.columns] + list(columns or {})
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
        raise UsageError(_named(say(lang, "where_error", message=message, condition=condition,
                                    caret=" " * exc.offset), option)) from None
    verdict = ex.condition_vector(node, frame)
    unknown = verdict.isna().to_numpy()
    keep = verdict.fillna(False).to_numpy(dtype=bool)
    if keep_anyway is not None:
        keep = keep | keep_anyway(sorted(ex.names_in(node) & {spec.name for spec in fields}))
    summary = {"condition": condition, "left_out": int((~keep).sum()),
               "false": int((~keep & ~unknown).sum()), "unknown": int((~keep & unknown).sum())}
    if option != WHERE_OPTION:
        summary["option"] = option
    return keep, summary


def _resolve(text: str, quoted: list[str], frame: pd.DataFrame, fields: Sequence[FieldSpec],
             columns: Mapping[str, pa.Array], decimal: str, lang: str) -> tuple[ex.Node, pd.DataFrame]:
    """The checked condition and the frame it reads: the fields found in the file, and each file column
    the condition names (quoted, or bare when no field has that name)."""
    present = {spec.name: spec for spec in fields if spec.name in frame.columns}
    symbols = {name: ex.Symbol(name, ex.NUMBER if spec.type == "integer" else spec.type, "field", spec.values)
               for name, spec in present.items()}
    frame = frame.copy(deep=False) if quoted or columns else frame
    for number, header in enumerate(quoted, start=1):
        found = _column(header, columns)
        if found is None:
            offset = text.index(f"quoted_column_{number}")
            raise ex.ExprError(say(lang, "where_no_such_column", column=header, hint=hint(lang, header, columns)),
                               offset)
        _add_column(f"quoted_column_{number}", columns[found], frame, symbols, decimal)
    known = {spec.name for spec in fields}
    for _ in range(32):  # a bare name that is one of the file's columns (and no field): read that column
        try:
            return ex.Resolver(symbols, {}).condition(ex.parse(text)), frame
        except ex.ExprError as exc:
            found = _column(exc.name, columns) if exc.name is not None and exc.name not in known else None
            if found is None or exc.name in symbols:
                raise
            _add_column(exc.name, columns[found], frame, symbols, decimal)
    return ex.Resolver(symbols, {}).condition(ex.parse(text)), frame


def _column(header: str, columns: Mapping[str, pa.Array]) -> str | None:
    """The file's column named `header`: exactly, else ignoring case, spaces and punctuation (once)."""
    if header in columns:
        return header
    loose = [h for h in columns if normalise_header(h) and normalise_header(h) == normalise_header(header)]
    return loose[0] if len(loose) == 1 else None


def _add_column(name: str, cells: pa.Array, frame: pd.DataFrame, symbols: dict, decimal: str) -> None:
    values, kind = column_values(cells, decimal)
    frame[name] = values.to_numpy() if kind == ex.NUMBER else values.to_numpy(dtype=object)
    symbols[name] = ex.Symbol(name, kind, "field")


def where_text(message: str, option: str) -> str:
    """A --where message about the `where:` of the --columns file (named by `option`, its file and line)."""
    return message if option == WHERE_OPTION else message.replace(WHERE_OPTION, option, 1)


_named = where_text


def where_line(summary: dict, lang: str = "en") -> str:
    """"left out 12 rows: --where customer_type != "prospect" is false for 10 and unknown for 2"."""
    option = summary.get("option", WHERE_OPTION)
    if not summary["left_out"]:
        return _named(say(lang, "where_nothing", condition=summary["condition"]), option)
    rows = say(lang, "row_one" if summary["left_out"] == 1 else "row_many", n=summary["left_out"])
    key = "where_left_unknown" if summary["unknown"] else "where_left"
    return _named(say(lang, key, n=summary["left_out"], rows=rows, condition=summary["condition"],
                      false=summary["false"], unknown=summary["unknown"]), option)
