"""The checker every section loader shares: its state, the diagnostics it collects, and the helpers
for texts, names and expressions with their YAML locations."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any, Iterable

from kamrules.errors import Diagnostic, Location
from kamrules.language import expr as ex
from kamrules.pack.fields import FieldSpec
from kamrules.pack.model import (
    NAME_RE,
    RESERVED,
    SECTIONS,
    Decision,
    ParamSpec,
    Text,
)
from kamrules.pack.yamlsrc import YMap


class Checker:
    """State of one pack load, set here and filled section by section (see kamrules.pack.loader)."""

    def __init__(self, root: Path):
        self.root = root
        self.diagnostics: list[Diagnostic] = []
        self.sections: dict[str, list[tuple[YMap, str]]] = {s: [] for s in SECTIONS}
        self.digest = hashlib.sha256()
        self.file_names: list[str] = []
        self.poisoned: set[str] = set()  # names whose definition failed: no follow-on errors for them
        self.unreadable = False  # a file is not valid YAML
        self.names: dict[str, tuple[str, Location]] = {}  # every defined name -> (kind, where)
        self.fields: dict[str, FieldSpec] = {}
        self.params: dict[str, ParamSpec] = {}
        self.params_values: dict[str, Any] = {}
        self.labels: dict[str, Text] = {}
        self.decisions: list[Decision] = []

    def error(self, loc: Location, message: str) -> None:
        if any(d.location == loc and d.severity == "error" for d in self.diagnostics):
            return  # one error per spot: e.g. a `.nan` the YAML guard already refused (pack/guards.py)
        self.diagnostics.append(Diagnostic(loc, message))

    def warn(self, loc: Location, message: str) -> None:
        self.diagnostics.append(Diagnostic(loc, message, "warning"))

    def unknown_keys(self, mapping: YMap, allowed: Iterable[str], where: str) -> None:
        allowed = tuple(allowed)
        for key in mapping:
            if key not in allowed:
                self.warn(
                    mapping.key_loc(key),
                    f"{where}unknown key '{key}'{ex.did_you_mean(str(key), allowed)}; it is ignored",
                )

    def text(self, value: Any, loc: Location, what: str) -> Text:
        if value is None:
            return {}
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return {"en": str(value)}
        if isinstance(value, YMap):
            result = {}
            for lang, text in value.items():
                if not isinstance(lang, str) or not re.fullmatch(r"[a-z]{2}(-[A-Za-z]{2,4})?", lang):
                    self.error(value.key_loc(lang), f"{what}: '{lang}' is not a language code (use en, zh)")
                    continue
                if not isinstance(text, (str, int, float)) or isinstance(text, bool):
                    self.error(value.value_loc(lang), f"{what}.{lang}: must be text")
                    continue
                result[lang] = str(text)
            return result
        self.error(loc, f"{what}: must be text or a mapping by language, as in {{en: ..., zh: ...}}")
        return {}

    def source(self, mapping: YMap, where: str) -> Text:
        """A `source:` (where a rule or param comes from), like a label: one text, shown in every
        language, or a mapping by language `{en: ..., zh: ...}`. A language given with no text is an
        error (a translation left half done would show nothing); a plain `source: ""` means none."""
        if "source" not in mapping:
            return {}
        value = mapping["source"]
        text = self.text(value, mapping.value_loc("source"), f"{where}source")
        if not isinstance(value, YMap):
            return {lang: t for lang, t in text.items() if t.strip()}
        for lang, content in list(text.items()):
            if not content.strip():
                self.error(value.value_loc(lang), f"{where}source.{lang}: is empty: write the text, or leave "
                           f"'{lang}' out (another language's text is shown instead)")
                del text[lang]
        return text

    def check_name(self, name: Any, loc: Location, what: str) -> bool:
        if not isinstance(name, str) or not NAME_RE.match(name):
            self.error(
                loc,
                f"{what} name '{name}' is not valid: use lower-case letters, digits and '_', starting with a letter",
            )
            return False
        if name in RESERVED:
            self.error(loc, f"{what} name '{name}' is reserved (the engine uses it): rename it, e.g. '{name}_'"
                       if name != "params" else f"{what} name 'params' is reserved: rename it")
            return False
        return True

    def parse_expr(self, mapping: YMap, key: str, where: str) -> ex.Node | None:
        text = mapping.get(key)
        if isinstance(text, bool):
            return ex.Const(text, ex.BOOLEAN)
        if isinstance(text, (int, float)):
            text = str(text)
        if not isinstance(text, str):
            self.error(mapping.value_loc(key), f"{where}{key}: must be a condition written as text")
            return None
        try:
            return ex.parse(text)
        except ex.ExprError as exc:
            self.error(mapping.text_loc(key, exc.offset), f"{where}{key}: {exc.message}")
            return None

    def resolve(self, node: ex.Node, mapping: YMap, key: str, where: str, symbols: dict, condition: bool):
        resolver = ex.Resolver(symbols, self.params_values)
        try:
            if condition:
                return resolver.condition(node), None
            return resolver.value(node)
        except ex.ExprError as exc:
            if exc.name is None or exc.name not in self.poisoned:  # else: its own error is reported
                self.error(mapping.text_loc(key, exc.offset), f"{where}{key}: {exc.message}")
            return None, None

    def claim(self, name: str, kind: str, loc: Location) -> bool:
        if name in self.names:
            other_kind, other_loc = self.names[name]
            self.error(loc, f"{kind} '{name}' is already defined as a {other_kind} at {other_loc}: names must be unique")
            return False
        self.names[name] = (kind, loc)
        return True

    def topo(self, deps: dict, locs: dict, what: str) -> list:
        """Order names so each comes after what it reads; report cycles. Iterative (a depth-first walk
        with its own stack): a 2,000-feature chain or cycle used to end in a RecursionError."""
        order: list[str] = []
        state: dict[str, int] = {}
        reported: set[frozenset] = set()
        for root in deps:  # definition order, for stable output
            if state.get(root) == 2:
                continue
            state[root], path, stack = 1, [root], [iter(sorted(deps[root]))]
            while stack:
                for dep in stack[-1]:
                    if dep not in deps or state.get(dep) == 2:
                        continue
                    if state.get(dep) == 1:  # back on the current path: a cycle
                        cycle = path[path.index(dep):] + [dep]
                        if (key := frozenset(cycle)) not in reported:
                            reported.add(key)
                            shown = cycle if len(cycle) <= 12 else [*cycle[:6], f"… {len(cycle) - 9} more …", *cycle[-3:]]
                            self.error(locs[dep], f"{what} '{dep}' depends on itself: {' → '.join(shown)}")
                        continue
                    state[dep] = 1
                    path.append(dep)
                    stack.append(iter(sorted(deps[dep])))
                    break
                else:
                    stack.pop()
                    state[path[-1]] = 2
                    order.append(path.pop())
        bad = {n for cycle in reported for n in cycle}
        return [n for n in order if n not in bad]
