"""Matching the file's columns to the pack's fields (by name, label or alias, or a `--columns`
mapping file), never guessing: ambiguity and a missing required field are errors that say how to fix them."""

from __future__ import annotations

import difflib
from datetime import date, datetime
from pathlib import Path
from typing import Mapping, Sequence

from kamrules.errors import ConfigError, DataError
from kamrules.pack.fields import FieldSpec, normalise_header


def load_column_mapping(path: Path) -> dict[str, str]:
    """Load a `--columns` file: YAML lines `field: Source Column`. Raises `ConfigError` when malformed."""
    from kamrules.pack.yamlsrc import load_yaml

    path = Path(path)
    name = str(path)
    if path.is_dir():
        raise ConfigError(f"{name}: is a folder; --columns expects a YAML file like 'sales: Sales Amount'")
    if not path.exists():
        raise ConfigError(f"{name}: no such file; check the --columns path")
    document, diagnostics = load_yaml(path)
    errors = [d for d in diagnostics if d.severity == "error"]
    if errors:
        raise ConfigError("\n".join(str(d) for d in errors))
    if document is None:
        raise ConfigError(f"{name}: is empty; write one line per field, like 'sales: Sales Amount'")
    if not isinstance(document, dict):
        where = getattr(document, "loc", name)
        raise ConfigError(
            f"{where}: a column mapping maps field names to column headers, like 'sales: Sales Amount'"
        )
    mapping: dict[str, str] = {}
    problems = []
    for key, value in document.items():
        key_loc = document.key_loc(key) if hasattr(document, "key_loc") else name
        value_loc = document.value_loc(key) if hasattr(document, "value_loc") else name
        if not isinstance(key, str):
            problems.append(f"{key_loc}: '{key}' is not a field name")
            continue
        if value is None or isinstance(value, (bool, dict, list)):
            found = {type(None): "nothing", bool: f"'{value}'", dict: "a mapping"}.get(type(value), "a list")
            problems.append(f"{value_loc}: field '{key}': expected a column header, found {found}")
            continue
        if isinstance(value, (date, datetime)):
            value = value.isoformat()
        mapping[key] = str(value)
    if problems:
        raise ConfigError("\n".join(problems))
    return mapping


# --------------------------------------------------------------------------------------------------
# Options, file checks and format


def _quoted(items: Sequence[str], limit: int = 30) -> str:
    shown = ", ".join(f"'{item}'" for item in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _match_columns(
    name: str, headers: list[str], fields: Sequence[FieldSpec], mapping: Mapping[str, str]
) -> dict[str, int]:
    """field name -> column index. Ambiguity is an error, never a guess."""
    normalised = [normalise_header(h) for h in headers]
    problems: list[str] = []
    matched: dict[str, int] = {}
    for field_name, wanted in mapping.items():
        exact = [i for i, h in enumerate(headers) if h == wanted]
        loose = [i for i, n in enumerate(normalised) if n and n == normalise_header(wanted)]
        found = exact or loose
        if len(found) == 1:
            matched[field_name] = found[0]
        elif not found:
            problems.append(
                f"--columns maps field '{field_name}' to '{wanted}', which is not a column of this file; "
                f"columns found: {_quoted(headers)}"
            )
        else:
            problems.append(
                f"--columns maps field '{field_name}' to '{wanted}', but columns "
                f"{_quoted([headers[i] for i in found])} all have that header; rename all but one"
            )
    claimed = set(matched.values())
    candidates: dict[str, list[int]] = {}
    for spec in fields:
        if spec.name in mapping:
            continue
        keys = {normalise_header(h) for h in spec.header_names()} - {""}
        candidates[spec.name] = [i for i, n in enumerate(normalised) if i not in claimed and n in keys]
    fields_of_column: dict[int, list[str]] = {}
    for field_name, found in candidates.items():
        for index in found:
            fields_of_column.setdefault(index, []).append(field_name)
    reported_columns = set()
    for index in sorted(fields_of_column):
        names = fields_of_column[index]
        if len(names) > 1:
            reported_columns.add(index)
            listed = " and ".join(f"'{n}'" for n in names)
            problems.append(
                f"column '{headers[index]}' matches fields {listed}; choose with --columns "
                f"(for example {names[0]}: {headers[index]})"
            )
    by_name = {spec.name: spec for spec in fields}
    for field_name, found in candidates.items():
        if len(found) > 1:
            listed = " and ".join(f"'{headers[i]}'" for i in found)
            problems.append(
                f"field '{field_name}' matches columns {listed}; rename or remove one, "
                f"or choose one with --columns ({field_name}: {headers[found[0]]})"
            )
        elif len(found) == 1:
            if found[0] not in reported_columns:
                matched[field_name] = found[0]
        elif by_name[field_name].required:
            problems.append(_not_found(field_name, by_name[field_name], headers, normalised))
    if problems:
        if len(problems) == 1:
            raise DataError(f"{name}: {problems[0]}")
        raise DataError(f"{name}: {len(problems)} problems with the columns:\n  " + "\n  ".join(problems))
    return matched


def _not_found(field_name: str, spec: FieldSpec, headers: list[str], normalised: list[str]) -> str:
    looked_for = ", ".join(spec.header_names())
    keys = [normalise_header(h) for h in spec.header_names()]
    close: list[str] = []
    for key in keys:
        for hit in difflib.get_close_matches(key, [n for n in normalised if n], n=3, cutoff=0.6):
            for i, n in enumerate(normalised):
                if n == hit and headers[i] not in close:
                    close.append(headers[i])
    closest = f"; closest: {_quoted(close[:3])}" if close else ""
    return (
        f"required field '{field_name}' not found (looked for: {looked_for}); columns found: "
        f"{_quoted(headers)}{closest}; rename the column or map it with --columns ({field_name}: <column>)"
    )


# --------------------------------------------------------------------------------------------------
# Converting one column to its field type
