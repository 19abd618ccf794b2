"""How a named value of a pack is shown: its kind (money, pct, int, date, label …) and a cached formatter,
shared by the documents and `kamrules explain` so both show a value the same way."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kamrules.i18n import MISSING, fmt_bool, fmt_date, fmt_money, fmt_number, fmt_pct, is_missing
from kamrules.pack import RulePack, pick

_UNIT_WORDS = (
    ("int", frozenset({"rank", "count", "days", "hours", "months", "accounts", "hhi"})),
    ("pct", frozenset({"share", "margin", "growth", "decline", "drop", "pct", "rate", "cum"})),
    ("money", frozenset({"sales", "profit", "revenue", "amount", "spend"})),
)


def value_kind(pack: RulePack, name: str) -> str:
    """How a named value is shown: money, pct, int, score, number, date, bool, label or text.

    Packs carry types, not units, so units are recognised by the words of the name, the last word
    first: `rank`, `count`, `days`, `hhi` … → whole number; `share`, `margin`, `growth`, `decline`,
    `drop`, `cum` … → percentage; `sales`, `profit`, `revenue`, `amount` → money.
    """
    vtype = _value_type(pack, name)
    if vtype in _KINDS:
        return _KINDS[vtype]
    if vtype not in ("number", "integer"):
        return "text"
    parts = name.split("_")
    # The last word says most ("high_margin_sales" is money, "sales_share" a share); then any word.
    for words in ([parts[-1]], parts):
        for kind, unit_words in _UNIT_WORDS:
            if unit_words.intersection(words):
                return kind
    return "int" if vtype == "integer" else "number"


_KINDS = {"score": "score", "pct": "pct", "int": "int", "total": "number", "date": "date", "boolean": "bool",
          "category": "label"}


def _value_type(pack: RulePack, name: str) -> str:
    """A name's type (a field's, a feature's, an output's), or the kind it is shown as when its
    function or role already says (a score, a share, a count …); "number" for a collect total."""
    if name in pack.fields:
        return pack.fields[name].type
    if name in pack.scores:
        return "score"
    if name in pack.features:
        feature = pack.features[name]
        if feature.function in ("share_of", "cumulative_share"):
            return "pct"
        if feature.function in ("rank", "count", "hhi", "days_since", "days_until", "criteria_of"):
            return "int"
        return "category" if feature.function == "band" else feature.type
    if name.endswith("_count") and any(d.count_name == name for d in pack.decisions):
        return "int"
    if name.endswith("_total") and any(name in d.totals for d in pack.decisions):
        return "total"
    output = pack.output(name)
    return output.type if output is not None else "text"


class Formatter:
    """The display rules of one pack in one language, shared by the filters and the context builder."""

    def __init__(self, pack: RulePack, lang: str = "en"):
        self.pack = pack
        self.lang = lang
        self._kinds: dict[str, str] = {}
        self._captions: dict[str, str] = {}
        self._shown: dict = {}
        self._labels: dict = {}

    def kind(self, name: str) -> str:
        if name not in self._kinds:
            self._kinds[name] = value_kind(self.pack, name)
        return self._kinds[name]

    def caption(self, name: str) -> str:
        """The display name of a field, feature, score or output."""
        if name not in self._captions:
            self._captions[name] = self.pack.name_label(name, self.lang)
        return self._captions[name]

    def label(self, value: Any, name: str = "") -> str:
        """A value as its display label: category labels, texts in the language, yes/no."""
        cls = type(value)
        if cls is str or cls is bool:  # category values repeat: look each label up once
            key = (name, cls, value)
            text = self._labels.get(key)
            if text is None:
                text = self._labels[key] = self._label(value, name)
            return text
        return self._label(value, name)

    def _label(self, value: Any, name: str = "") -> str:
        if is_missing(value):
            return MISSING
        if isinstance(value, (list, tuple)):
            return ", ".join(self.label(v, name) for v in value) or MISSING
        if isinstance(value, dict):
            return pick(value, self.lang)
        if isinstance(value, bool):
            return fmt_bool(value, self.lang)
        if isinstance(value, str):
            return self.pack.label(name, value, self.lang)
        return self.show(value, name)

    def show(self, value: Any, name: str) -> str:
        """A named value formatted by its kind (see `value_kind`)."""
        if value is None:
            return MISSING
        cls = type(value)
        if cls is str or cls is bool or cls is float or cls is int:  # values repeat a lot: format each once
            key = (name, cls, value)
            text = self._shown.get(key)
            if text is None:
                if len(self._shown) > 100_000:  # bounded: a run of unique amounts must not grow it forever
                    self._shown.clear()
                text = self._shown[key] = self._show(value, name)
            return text
        return self._show(value, name)

    def _show(self, value: Any, name: str) -> str:
        if is_missing(value):
            return MISSING
        if isinstance(value, (list, tuple)):
            return ", ".join(self.show(v, name) for v in value) or MISSING
        if isinstance(value, dict):
            return pick(value, self.lang)
        kind = self.kind(name)
        if kind == "date" or isinstance(value, dt.date):
            return fmt_date(value, self.lang)
        if kind == "bool" or isinstance(value, bool):
            return fmt_bool(value, self.lang)
        if isinstance(value, str):
            return self.pack.label(name, value, self.lang) if kind == "label" else value
        if kind == "pct":
            return fmt_pct(value, lang=self.lang)
        if kind == "money":
            return fmt_money(value, self.lang, wan=False)  # as the rules' reasons write amounts
        if kind == "int":
            return fmt_number(value, 0)
        if kind == "score":
            return fmt_number(value, 1)
        return fmt_number(value)


