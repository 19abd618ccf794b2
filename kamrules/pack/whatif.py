"""What-if parameters: `--set NAME=VALUE` applied to a loaded rule pack, without editing its files.

A param's value is bound into every rule, feature band and `because` text when the pack loads, so an
override rebuilds those bound trees with the new value and gives the pack a new hash (the manifest and
the engine's compiled rulesets follow the hash). The original pack is left as it was.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from typing import Any, Iterable

from kamrules.errors import UsageError
from kamrules.language import expr as ex
from kamrules.language.digits import describe_char, odd_digit
from kamrules.pack.loader import RulePack
from kamrules.pack.model import ParamValue
from kamrules.pack.params import category_problems, param_value

_TRUE = ("true", "yes", "1", "on")
_FALSE = ("false", "no", "0", "off")


def parse_settings(settings: Iterable[str]) -> list[tuple[str, str]]:
    """`NAME=VALUE` texts as (name, value) pairs, in the order given; the last one for a name wins."""
    pairs: list[tuple[str, str]] = []
    for text in settings:
        name, sep, value = text.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--set '{text}': write it as NAME=VALUE, e.g. --set pareto_target=0.75")
        pairs.append((name.strip(), value.strip()))
    return pairs


def _typed(name: str, text: str, current: Any) -> Any:
    """The override text as the param's own type (the type of its value in the pack)."""
    kind = ex.value_type(current)
    shown = int(current) if isinstance(current, float) and current.is_integer() else current
    where = f"--set {name}={text}: params.{name} is a {kind} (now {shown})"
    if kind == ex.BOOLEAN:
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise UsageError(f"{where}; write true or false")
    if kind == ex.NUMBER:
        if odd := odd_digit(text):  # float() reads ١٢٣ and 𝟏𝟐𝟑 as 123 (docs/data.md: what a digit is)
            raise UsageError(f"{where}; '{text}' is not a number: {describe_char(odd)} is not a digit")
        cleaned = text.replace(",", "").replace("_", "")
        percent = cleaned.endswith("%")
        try:
            number = float(cleaned[:-1] if percent else cleaned)
        except ValueError:
            raise UsageError(f"{where}; '{text}' is not a number, write e.g. 0.75 or 75%") from None
        if number != number or number in (float("inf"), float("-inf")):
            raise UsageError(f"{where}; '{text}' is not a finite number")
        return number / 100 if percent else number
    if kind == ex.DATE:
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise UsageError(f"{where}; '{text}' is not a date, write it as YYYY-MM-DD") from None
    return text


def _rebind(value: Any, values: dict) -> Any:
    """`value` with every bound `params.NAME` in it carrying the value from `values`."""
    if isinstance(value, ParamValue):
        return ParamValue(ex.rnd(values[value.name]), value.name) if value.name in values else value
    if isinstance(value, ex.Param):
        if value.name in values:
            new = values[value.name]
            return dataclasses.replace(value, value=ex.rnd(new) if value.type == ex.NUMBER else new)
        return value
    if isinstance(value, ex.Node) or (dataclasses.is_dataclass(value) and not isinstance(value, type)):
        changes = {}
        for f in dataclasses.fields(value):
            if not f.init:
                continue
            old = getattr(value, f.name)
            new = _rebind(old, values)
            if new is not old:
                changes[f.name] = new
        return dataclasses.replace(value, **changes) if changes else value
    if isinstance(value, tuple):
        items = tuple(_rebind(v, values) for v in value)
        return value if all(a is b for a, b in zip(items, value)) else items
    if isinstance(value, list):
        items = [_rebind(v, values) for v in value]
        return value if all(a is b for a, b in zip(items, value)) else items
    if isinstance(value, dict):
        items = {k: _rebind(v, values) for k, v in value.items()}
        return value if all(items[k] is value[k] for k in value) else items
    return value


def with_params(pack: RulePack, settings: Iterable[str] | dict) -> RulePack:
    """A copy of `pack` with params overridden (`["pareto_target=0.75"]` or `{"pareto_target": "0.75"}`).

    Unknown names and values of the wrong type raise UsageError with a did-you-mean. The copy's hash
    covers the overrides, and `overrides` (name -> value) is recorded on it for the manifest."""
    pairs = list(settings.items()) if isinstance(settings, dict) else parse_settings(settings)
    if not pairs:
        return pack
    values: dict[str, Any] = {}
    for name, text in pairs:
        if name not in pack.params:
            raise UsageError(f"--set {name}={text}: the pack has no param '{name}'"
                             f"{ex.did_you_mean(name, list(pack.params))}; `kamrules validate` lists the pack")
        spec = pack.params[name]
        typed = text if not isinstance(text, str) else _typed(name, text, spec.value)
        value, problem = param_value(typed, spec.range)  # exactly the pack file's check (pack/params.py)
        if problem is None and ex.value_type(value) != ex.value_type(spec.value):
            problem = f"params.{name} is a {ex.value_type(spec.value)}, not a {ex.value_type(value)}"
        if problem is not None:
            raise UsageError(f"--set {name}={text}: {problem}")
        values[name] = value
    params = {n: dataclasses.replace(p, value=values[n]) if n in values else p for n, p in pack.params.items()}
    overrides = {**getattr(pack, "overrides", {}), **values}
    digest = hashlib.sha256((pack.hash + json.dumps(overrides, sort_keys=True, default=str)).encode("utf-8"))
    derived, decisions = _rebind(list(pack.derived), values), _rebind(list(pack.decisions), values)
    # a text param compared with a category must be one of its values, as the loader checks it
    symbols = pack.symbols()
    for name in values:
        if problems := category_problems([derived, decisions], {name}, symbols):
            raise UsageError(f"--set {name}={_given(pairs, name)}: " + "; ".join(problems))
    new = dataclasses.replace(pack, params=params, derived=derived, decisions=decisions, hash=digest.hexdigest()[:16])
    new.overrides = overrides
    return new


def _given(pairs: list, name: str) -> Any:
    """The value the user gave for `name` (the last one wins, as in with_params)."""
    return [value for n, value in pairs if n == name][-1]


def overrides_of(pack: RulePack) -> dict:
    """The what-if overrides applied to a pack (empty for a pack as loaded)."""
    return dict(getattr(pack, "overrides", {}))
