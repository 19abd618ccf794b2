"""Display texts: picking a language and filling `because` placeholders with an account's values."""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from typing import Any, Callable, Mapping

from kamrules.language import expr as ex

_PLACEHOLDER = re.compile(r"\{([^{}:]+)(?::([^{}]*))?\}")


def format_value(value: Any, spec: str = "", lang: str = "en") -> str:
    """A value as a sales manager reads it: 0.8 with '%' is '80%', 1234567 with ',' is '1,234,567'."""
    if ex.is_missing(value):
        return "—"
    if isinstance(value, bool):
        if lang == "zh":
            return "是" if value else "否"
        return "yes" if value else "no"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.strftime("%Y-%m-%d")
    if hasattr(value, "date") and callable(value.date):  # pandas Timestamp
        return value.date().isoformat()
    if isinstance(value, (int, float)):
        number = float(value)
        if spec == "%":
            return ex.format_number(round(number * 100, 1)) + "%"
        if spec == ",":
            text = f"{number:,.2f}".rstrip("0").rstrip(".")
            return text
        if spec and re.fullmatch(r",?\.\d+f", spec):
            return format(number, spec)
        return display_number(number)
    if isinstance(value, list):
        return ", ".join(format_value(v, spec, lang) for v in value)
    return str(value)


def display_number(value: float) -> str:
    """A number for people: four significant digits, thousands separated, never scientific."""
    number = float(value)
    if (whole := ex.whole_number(number)) is not None:
        return f"{whole:,}"
    if abs(number) >= 1000:
        return f"{number:,.1f}".rstrip("0").rstrip(".")
    digits = max(0, 3 - int(math.floor(math.log10(abs(number))))) if number else 0
    return ex.format_number(round(number, digits))


@functools.lru_cache(maxsize=4096)
def placeholder_names(template: str) -> tuple[str, ...]:
    """The names a template's placeholders read, in order (`{sales:,}` → 'sales', `{params.x}` → 'params.x')."""
    return tuple(match.group(1).strip() for match in _PLACEHOLDER.finditer(template))


def fill(template: str, lookup: Callable[[str], Any], lang: str = "en",
         label: Callable[[str, Any], str] | None = None) -> str:
    """Replace `{name}` / `{name:fmt}` / `{params.x:%}` with values; category values use labels."""

    def replace(match: re.Match) -> str:
        name, spec = match.group(1).strip(), match.group(2) or ""
        value = lookup(name)
        if label is not None and isinstance(value, str) and not spec:
            return label(name, value)
        return format_value(value, spec, lang)

    return _PLACEHOLDER.sub(replace, template)


def fill_text(text: Mapping[str, str], lookup: Callable[[str], Any],
              label_for: Callable[[str, Any, str], str] | None = None) -> dict:
    """Fill every language of a display text."""
    result = {}
    for lang, template in text.items():
        label = (lambda name, value, _lang=lang: label_for(name, value, _lang)) if label_for else None
        result[lang] = fill(template, lookup, lang, label)
    return result
