"""How the data layer words its messages in the user's language: the text of a catalogue entry
(`say`, from kamrules.i18n's DATA), a field as the user knows it (`field_ref`: 「销售额」(sales) in
Chinese), places (`at`, `rows_text`) and lists. Every message about the data is built here from the
catalogue, never written inline, so a message cannot exist in English only."""

from __future__ import annotations

import difflib
from typing import Iterable, Sequence

from kamrules.i18n.data_messages import data_text, json_detail

__all__ = ["say", "field_ref", "spec_ref", "spec_named", "at", "rows_text", "quoted", "joined", "hint", "json_detail"]


def say(lang: str, key: str, /, **params) -> str:
    """The catalogue's message `key` in `lang`, filled in."""
    return data_text(lang, key, **params)


def field_ref(name: str, label: dict | None, lang: str) -> str:
    """A field as messages name it: its name in English; in another language 「label」(name), or 「name」
    when the pack gives no label in that language."""
    if lang == "en":
        return name
    text = (label or {}).get(lang)
    return f"「{text}」({name})" if text and text != name else f"「{name}」"


def spec_ref(spec, lang: str) -> str:
    """`field_ref` of a FieldSpec."""
    return field_ref(spec.name, spec.label, lang)


def spec_named(spec, lang: str) -> str:
    """A field named in a sentence: 'sales' in English, 「销售额」(sales) (「sales」 unlabelled) in Chinese."""
    text = spec_ref(spec, lang)
    return say(lang, "quote", text=text) if text == spec.name else text


def at(lang: str, unit: str, number: int) -> str:
    """"row 14" / "第 14 行"; unit is row, record or line."""
    return say(lang, f"at_{unit}", n=number)


def joined(lang: str, items: Sequence[str]) -> str:
    """"a, b and c" / "a、b和c"."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return say(lang, "sep").join(items[:-1]) + say(lang, "and") + items[-1]


def rows_text(lang: str, unit: str, rows: list[int]) -> str:
    """"row 3", "rows 3 and 9", "rows 3, 4 and 8", "rows 3, 4, 5, 6, 7 and 2 more"."""
    if len(rows) == 1:
        return at(lang, unit, rows[0])
    if len(rows) > 5:
        shown = say(lang, "sep").join(str(r) for r in rows[:5])
        return say(lang, f"more_{unit}", list=shown, n=len(rows) - 5)
    return say(lang, f"many_{unit}", list=joined(lang, [str(r) for r in rows]))


def quoted(lang: str, items: Sequence[str], limit: int = 30) -> str:
    """"'a', 'b' and 3 more" / "“a”、“b” 等（另有 3 个）"."""
    shown = say(lang, "sep").join(say(lang, "quote", text=item) for item in items[:limit])
    return shown + (say(lang, "more", n=len(items) - limit) if len(items) > limit else "")


def hint(lang: str, name: str, candidates: Iterable[str]) -> str:
    """" (did you mean 'x'?)" for the closest candidate, or "" (as kamrules.language's did_you_mean)."""
    close = difflib.get_close_matches(name, sorted(candidates), n=1, cutoff=0.6)
    return say(lang, "did_you_mean", name=close[0]) if close else ""
