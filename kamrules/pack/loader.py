"""Rule packs: loading the YAML files, validating them, and the one representation engines compile from.

`load_pack(path)` reads every `*.yaml` of a folder in name order and returns a `RulePack`, or raises
`RuleError` listing every problem in every file with `file:line:column`, the decision and rule, and
the key. Warnings (unknown keys) are kept on the pack; `strict=True` turns them into errors.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from kamrules.language import expr as ex
from kamrules.errors import ConfigError, Diagnostic, Location, RuleError
from kamrules.pack.fields import FIELD_TYPES, FieldSpec, normalise_header
from kamrules.pack.guards import SourceError, because_format_problem, read_source
from kamrules.pack.yamlsrc import YList, YMap, load_yaml

Text = dict

SECTIONS = ("pack", "fields", "params", "labels", "features", "scores", "decisions")
RESERVED = ("id", "sid", "params")
HIT_POLICIES = ("first", "unique", "priority", "collect")
OUTPUT_TYPES = ("category", "string", "text", "number", "boolean")
GROUP_FUNCTIONS = ("share_of", "rank", "percentile", "hhi", "sum", "mean", "max", "min", "count")
FEATURE_FUNCTIONS = ("expr", "cumulative_share", "band", "days_since", "days_until", *GROUP_FUNCTIONS)
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")

# durable_rules 2.0.28 limits (../shared/durable-rules-notes.md, re-measured): the core expands each
# rule's `or`s into separate branches; more than 64 branches matching one message fail with error 303,
# and 512 branches in one ruleset hang it. So a decision may have at most 64 branches in all.
MAX_BRANCHES_PER_DECISION = 64
MAX_COMPARISONS_PER_RULE = 48
MAX_FIELDS_PER_DECISION = 240  # > 254 fields per message is error 302


# The roles generic code (documents, portfolio summary) looks up, with the default pack's names. A team
# pack names its own under `pack: roles:`; a role whose name the pack lacks is simply absent.
ROLES = {
    "account_name": "account_name", "account_manager": "account_manager", "region": "region",
    "sales": "sales", "score": "kam_index", "abc_class": "abc_class", "sales_rank": "sales_rank",
    "sales_share": "sales_share", "sales_cum_share": "sales_cum_share",
    "tier": "tier", "tier_basis": "tier_basis", "relationship": "relationship",
    "service_level": "service_level", "review_every_days": "review_every_days",
    "risk_level": "risk_level", "risk_signal": "risk_signal", "risk_cause": "risk_cause",
    "dependence_finding": "dependence_finding", "dependence_advice": "dependence_advice",
    "action": "action", "action_title": "action_title", "action_owner": "action_owner",
    "action_due_days": "action_due_days", "action_measure": "action_measure", "action_section": "action_section",
}

# ------------------------------------------------------------------------------------------ model


@dataclass(frozen=True)
class ParamSpec:
    name: str
    value: Any
    label: Text = field(default_factory=dict)
    description: Text = field(default_factory=dict)
    source: str = ""
    loc: Location = Location("<builtin>")


@dataclass(frozen=True)
class Band:
    label: str
    below: ex.Node | None  # None for the last, unbounded band
    text: Text = field(default_factory=dict)


@dataclass(frozen=True)
class FeatureSpec:
    name: str
    function: str  # one of FEATURE_FUNCTIONS
    arg: Any  # a field name, an expression tree (expr), or True (count)
    type: str = "number"
    within: str | None = None
    where: ex.Node | None = None
    bands: tuple = ()
    order: str = "desc"
    label: Text = field(default_factory=dict)
    description: Text = field(default_factory=dict)
    reads: frozenset = frozenset()
    loc: Location = Location("<builtin>")

    @property
    def values(self) -> tuple:
        return tuple(b.label for b in self.bands)


@dataclass(frozen=True)
class Criterion:
    field: str
    weight: float
    better: str = "higher"


@dataclass(frozen=True)
class ScoreSpec:
    name: str
    criteria: tuple
    normalise: str = "percentile"
    title: Text = field(default_factory=dict)
    description: Text = field(default_factory=dict)
    reads: frozenset = frozenset()
    loc: Location = Location("<builtin>")
    type: str = "number"


@dataclass(frozen=True)
class OutputSpec:
    name: str
    type: str
    values: tuple = ()
    value_labels: dict = field(default_factory=dict)  # value -> Text
    label: Text = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    id: str
    when_text: str
    when: ex.Node
    then: dict
    because: Text = field(default_factory=dict)
    source: str = ""
    priority: int = 0
    reads: frozenset = frozenset()
    loc: Location = Location("<builtin>")


@dataclass(frozen=True)
class Decision:
    id: str
    hit: str
    outputs: dict  # name -> OutputSpec
    rules: tuple
    default: dict | None = None
    title: Text = field(default_factory=dict)
    description: Text = field(default_factory=dict)
    reads: frozenset = frozenset()
    loc: Location = Location("<builtin>")

    @property
    def count_name(self) -> str:
        return f"{self.id}_count"


@dataclass
class RulePack:
    root: Path
    files: list
    name: str
    title: Text
    version: str
    fields: dict  # name -> FieldSpec
    params: dict  # name -> ParamSpec
    labels: dict  # value -> Text (pack-wide display labels)
    derived: list  # FeatureSpec | ScoreSpec in evaluation order
    decisions: list  # Decision in evaluation order
    hash: str
    warnings: list = field(default_factory=list)
    roles: dict = field(default_factory=dict)  # role -> name, as declared in `pack: roles:`

    def role(self, role: str) -> str | None:
        """The name (field, feature, score or output) that plays a role the documents and the portfolio
        summary know (see ROLES), or None when the pack has nothing in that role. A pack declares its
        own names under `pack: roles:`; the default names apply otherwise."""
        name = self.roles.get(role, ROLES.get(role))
        if name is None:
            return None
        if name in self.fields or self.output(name) is not None or any(d.name == name for d in self.derived):
            return name
        return None

    @property
    def features(self) -> dict:
        return {d.name: d for d in self.derived if isinstance(d, FeatureSpec)}

    @property
    def scores(self) -> dict:
        return {d.name: d for d in self.derived if isinstance(d, ScoreSpec)}

    @property
    def param_values(self) -> dict:
        return {name: p.value for name, p in self.params.items()}

    def decision(self, decision_id: str) -> Decision:
        for decision in self.decisions:
            if decision.id == decision_id:
                return decision
        raise KeyError(decision_id)

    def output(self, name: str) -> OutputSpec | None:
        for decision in self.decisions:
            if name in decision.outputs:
                return decision.outputs[name]
        return None

    def label(self, name: str, value: Any, lang: str = "en") -> str:
        """The display label of an output or feature value in a language, falling back to the value."""
        output = self.output(name)
        if output is not None and value in output.value_labels:
            return pick(output.value_labels[value], lang)
        if isinstance(value, str) and value in self.labels:
            return pick(self.labels[value], lang)
        if isinstance(value, dict):
            return pick(value, lang)
        return "" if value is None else str(value)

    def name_label(self, name: str, lang: str = "en") -> str:
        """The display label of a field, feature, score or output name."""
        for source in (self.fields.get(name), self.features.get(name)):
            if source is not None and source.label:
                return pick(source.label, lang)
        score = self.scores.get(name)
        if score is not None and score.title:
            return pick(score.title, lang)
        output = self.output(name)
        if output is not None and output.label:
            return pick(output.label, lang)
        if name in self.labels:
            return pick(self.labels[name], lang)
        return name

    def symbols(self) -> dict:
        return _symbols(self.fields, self.derived, self.decisions, include_outputs=True)


def pick(text: Any, lang: str = "en") -> str:
    """One language of a display text (falls back to English, then to any language)."""
    if isinstance(text, dict):
        if lang in text:
            return str(text[lang])
        if "en" in text:
            return str(text["en"])
        return str(next(iter(text.values()), ""))
    return "" if text is None else str(text)


# ----------------------------------------------------------------------------------------- loading


def load_pack(path: Path | str, *, strict: bool = False) -> RulePack:
    """Load and validate a rule pack folder (or a single YAML file)."""
    root = Path(path)
    if not root.exists():
        raise ConfigError(f"{root}: no such rule pack folder (create one with `kamrules init {root}`)")
    files = sorted(root.glob("*.yaml")) + sorted(root.glob("*.yml")) if root.is_dir() else [root]
    files = sorted(files, key=lambda p: p.name)
    if not files:
        raise ConfigError(f"{root}: no rule files (*.yaml) in this folder")
    loader = _Loader(root)
    for file in files:
        loader.add_file(file)
    pack = loader.finish()
    errors = [d for d in loader.diagnostics if d.severity == "error"]
    warnings = [d for d in loader.diagnostics if d.severity == "warning"]
    if strict and warnings:
        errors += [Diagnostic(w.location, w.message + " (an error with --strict)") for w in warnings]
    if errors:
        raise RuleError(errors)
    assert pack is not None
    pack.warnings = sorted(warnings, key=lambda d: (d.location, d.message))
    return pack


def _display(root: Path, file: Path) -> str:
    try:
        return str(file.relative_to(Path.cwd()))
    except ValueError:
        return str(file)


class _Loader:
    def __init__(self, root: Path):
        self.root = root
        self.diagnostics: list[Diagnostic] = []
        self.sections: dict[str, list[tuple[YMap, str]]] = {s: [] for s in SECTIONS}
        self.digest = hashlib.sha256()
        self.file_names: list[str] = []
        self.poisoned: set[str] = set()  # names whose definition failed: no follow-on errors for them

    # -- reporting
    def error(self, loc: Location, message: str) -> None:
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

    # -- files
    def add_file(self, file: Path) -> None:
        name = _display(self.root, file)
        self.file_names.append(file.name)
        try:
            self.digest.update(file.name.encode() + b"\0" + read_source(file) + b"\0")
        except (OSError, SourceError):  # load_yaml below reports why
            pass
        document, diagnostics = load_yaml(file, name)
        self.diagnostics += diagnostics
        if document is None:
            return
        if not isinstance(document, YMap):
            self.error(Location(name, 1, 1), f"a rule file is a mapping of sections ({', '.join(SECTIONS)})")
            return
        for key, value in document.items():
            if key not in SECTIONS:
                self.warn(
                    document.key_loc(key),
                    f"unknown section '{key}'{ex.did_you_mean(str(key), SECTIONS)}; it is ignored"
                    f" (sections: {', '.join(SECTIONS)})",
                )
                continue
            if value is None:
                continue
            if not isinstance(value, YMap):
                self.error(document.value_loc(key), f"'{key}' must be a mapping of names to definitions")
                continue
            self.sections[key].append((value, name))

    # -- helpers
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

    # -- sections
    def finish(self) -> RulePack | None:
        self.names: dict[str, tuple[str, Location]] = {}
        meta = self.load_meta()
        self.fields = self.load_fields()
        self.params = self.load_params()
        self.params_values = {n: p.value for n, p in self.params.items()}
        self.labels = self.load_labels()
        derived = self.load_derived()
        decisions = self.load_decisions(derived)
        self._decisions = decisions
        roles = self.check_roles(meta.get("roles", {}))
        if not self.fields and not any(d.severity == "error" for d in self.diagnostics):
            self.error(Location(str(self.root)), "the pack defines no fields: add a 'fields' section")
        return RulePack(
            root=self.root,
            files=self.file_names,
            name=meta.get("name", self.root.name),
            title=meta.get("title", {}),
            version=str(meta.get("version", "")),
            fields=self.fields,
            params=self.params,
            labels=self.labels,
            derived=derived,
            decisions=decisions,
            hash=self.digest.hexdigest()[:16],
            roles=roles,
        )

    def claim(self, name: str, kind: str, loc: Location) -> bool:
        if name in self.names:
            other_kind, other_loc = self.names[name]
            self.error(loc, f"{kind} '{name}' is already defined as a {other_kind} at {other_loc}: names must be unique")
            return False
        self.names[name] = (kind, loc)
        return True

    def load_meta(self) -> dict:
        meta: dict = {}
        for mapping, _ in self.sections["pack"]:
            self.unknown_keys(mapping, ("name", "title", "version", "description", "roles"), "pack: ")
            for key in ("name", "version"):
                if key in mapping:
                    meta[key] = str(mapping[key])
            if "roles" in mapping:
                meta["roles"] = self.load_roles(mapping["roles"], mapping.value_loc("roles"))
            if "title" in mapping:
                meta["title"] = self.text(mapping["title"], mapping.value_loc("title"), "pack: title")
        return meta

    def load_roles(self, roles, loc: Location) -> dict:
        if not isinstance(roles, YMap):
            self.error(loc, "pack: roles: must be a mapping of role to name, e.g. 'tier: account_tier'")
            return {}
        checked = {}
        for role, name in roles.items():
            if role not in ROLES:
                self.warn(roles.key_loc(role), f"pack: roles: unknown role '{role}'" + ex.did_you_mean(str(role), ROLES))
                continue
            if not isinstance(name, str) or not NAME_RE.match(name):
                self.error(roles.value_loc(role), f"pack: roles: {role}: must be a name such as '{ROLES[role]}'")
                continue
            checked[role] = (name, roles.value_loc(role))
        return checked

    def check_roles(self, roles: dict) -> dict:
        """Every role names something the pack defines (checked once all names are known)."""
        known = self.names
        for role, (name, loc) in roles.items():
            if name not in known and not any(name in d.outputs for d in self._decisions):
                self.error(loc, f"pack: roles: {role}: '{name}' is not a field, feature, score or output of this pack"
                           + ex.did_you_mean(name, list(known)))
        return {role: name for role, (name, _) in roles.items()}

    def load_fields(self) -> dict:
        fields: dict[str, FieldSpec] = {}
        for section, _ in self.sections["fields"]:
            for name, spec in section.items():
                loc = section.key_loc(name)
                where = f"field '{name}': "
                if not self.check_name(name, loc, "field") or not self.claim(name, "field", loc):
                    continue
                if isinstance(spec, str):  # shorthand: `sales: number`
                    spec_map = YMap({"type": spec})
                    spec_map.loc, spec_map.key_locs = section.value_loc(name), {}
                    spec_map.value_locs = {"type": section.value_loc(name)}
                    spec_map.value_styles = {}
                    spec = spec_map
                if not isinstance(spec, YMap):
                    self.error(section.value_loc(name), f"{where}must be a mapping with at least a 'type'")
                    continue
                self.unknown_keys(spec, ("type", "required", "label", "description", "aliases", "values"), where)
                ftype = spec.get("type")
                if ftype not in FIELD_TYPES:
                    self.error(
                        spec.value_loc("type") if "type" in spec else spec.loc,
                        f"{where}type '{ftype}' is not one of {', '.join(FIELD_TYPES)}"
                        + (ex.did_you_mean(str(ftype), FIELD_TYPES) if ftype else ""),
                    )
                    continue
                required = spec.get("required", False)
                if not isinstance(required, bool):
                    self.error(spec.value_loc("required"), f"{where}required: must be true or false")
                    required = False
                aliases = spec.get("aliases", [])
                if isinstance(aliases, str):
                    aliases = [aliases]
                if not isinstance(aliases, list) or not all(isinstance(a, (str, int)) for a in aliases):
                    self.error(spec.value_loc("aliases"), f"{where}aliases: must be a list of column headers")
                    aliases = []
                values, value_aliases = self.category_values(spec, where, ftype)
                fields[name] = FieldSpec(
                    name=name,
                    type=ftype,
                    required=required,
                    label=self.text(spec.get("label"), spec.value_loc("label"), f"{where}label"),
                    description=self.text(spec.get("description"), spec.value_loc("description"), f"{where}description"),
                    aliases=tuple(str(a) for a in aliases),
                    values=values,
                    value_aliases=value_aliases,
                    loc=loc,
                )
        return fields

    def category_values(self, spec: YMap, where: str, ftype: str) -> tuple[tuple, dict]:
        raw = spec.get("values")
        if ftype != "category":
            if raw is not None:
                self.error(spec.key_loc("values"), f"{where}values: only category fields list values")
            return (), {}
        if raw is None:
            self.error(spec.loc, f"{where}a category field needs 'values' (the allowed values)")
            return (), {}
        values: list[str] = []
        aliases: dict[str, str] = {}
        if isinstance(raw, list):
            items = [(v, []) for v in raw]
        elif isinstance(raw, YMap):
            items = list(raw.items())
        else:
            self.error(spec.value_loc("values"), f"{where}values: must be a list or a mapping value → aliases")
            return (), {}
        for value, value_aliases in items:
            if not isinstance(value, str):
                self.error(spec.value_loc("values"), f"{where}values: '{value}' must be text")
                continue
            values.append(value)
            if value_aliases is None:
                value_aliases = []
            if isinstance(value_aliases, str):
                value_aliases = [value_aliases]
            for alias in [value, *value_aliases]:
                aliases[normalise_header(str(alias))] = value
        return tuple(values), aliases

    def load_params(self) -> dict:
        params: dict[str, ParamSpec] = {}
        for section, _ in self.sections["params"]:
            for name, spec in section.items():
                loc = section.key_loc(name)
                where = f"param '{name}': "
                if not isinstance(name, str) or not NAME_RE.match(name):
                    self.error(loc, f"param name '{name}' is not valid: use lower-case letters, digits and '_'")
                    continue
                if name in params:
                    self.error(loc, f"param '{name}' is already defined at {params[name].loc}")
                    continue
                label, description, source = {}, {}, ""
                value_loc = section.value_loc(name)
                if isinstance(spec, YMap):
                    self.unknown_keys(spec, ("value", "label", "description", "source"), where)
                    if "value" not in spec:
                        self.error(spec.loc, f"{where}a param given as a mapping needs a 'value'")
                        continue
                    label = self.text(spec.get("label"), spec.value_loc("label"), f"{where}label")
                    description = self.text(spec.get("description"), spec.value_loc("description"), f"{where}description")
                    source = str(spec.get("source", ""))
                    value_loc = spec.value_loc("value")
                    spec = spec["value"]
                if isinstance(spec, dt.datetime):
                    spec = spec.date()
                if not isinstance(spec, (int, float, str, bool, dt.date)) or spec is None:
                    self.error(value_loc, f"{where}value must be a number, text, true/false or a date")
                    continue
                if isinstance(spec, float) and spec != spec:
                    self.error(value_loc, f"{where}value must be a number, not .nan")
                    continue
                if isinstance(spec, float) and spec in (float("inf"), float("-inf")):
                    self.error(value_loc, f"{where}value must be a finite number")
                    continue
                if isinstance(spec, (int, float)) and not isinstance(spec, bool):
                    spec = ex.rnd(spec)
                params[name] = ParamSpec(name, spec, label, description, source, loc)
        return params

    def load_labels(self) -> dict:
        labels: dict[str, Text] = {}
        for section, _ in self.sections["labels"]:
            for value, text in section.items():
                labels[str(value)] = self.text(text, section.value_loc(value), f"label '{value}'")
        return labels

    # -- features and scores
    def load_derived(self) -> list:
        raw: dict[str, tuple] = {}  # name -> (kind, mapping, key, loc)
        for kind in ("features", "scores"):
            for section, _ in self.sections[kind]:
                for name, spec in section.items():
                    loc = section.key_loc(name)
                    what = "feature" if kind == "features" else "score"
                    if not self.check_name(name, loc, what) or not self.claim(name, what, loc):
                        continue
                    if not isinstance(spec, YMap):
                        self.error(section.value_loc(name), f"{what} '{name}': must be a mapping"
                                   + (" with one function, as in {share_of: sales}" if what == "feature" else ""))
                        continue
                    raw[name] = (what, spec, loc)
        # dependencies between derived values, from the names they read (before types are known)
        deps: dict[str, set[str]] = {}
        parsed: dict[str, dict] = {}
        for name, (what, spec, loc) in raw.items():
            info = self.pre_feature(name, spec) if what == "feature" else self.pre_score(name, spec)
            if info is None:
                continue
            parsed[name] = info
            deps[name] = {n for n in info["reads"] if n in raw}
        order = self.topo(deps, {n: raw[n][2] for n in deps}, "feature")
        derived: list = []
        symbols = {n: ex.Symbol(n, _expr_type(f.type), "field", f.values) for n, f in self.fields.items()}
        for name in order:
            what, spec, loc = raw[name]
            info = parsed[name]
            item = self.build_feature(name, spec, loc, info, symbols) if what == "feature" else \
                self.build_score(name, spec, loc, info, symbols)
            if item is None:
                continue
            derived.append(item)
            symbols[name] = ex.Symbol(name, item.type, what, getattr(item, "values", ()))
        self.poisoned |= set(raw) - {d.name for d in derived}
        return derived

    def pre_feature(self, name: str, spec: YMap) -> dict | None:
        where = f"feature '{name}': "
        functions = [k for k in spec if k in FEATURE_FUNCTIONS]
        allowed = (*FEATURE_FUNCTIONS, "within", "where", "bands", "order", "label", "description")
        for key in spec:
            if key not in allowed:
                self.warn(spec.key_loc(key), f"{where}unknown key '{key}'{ex.did_you_mean(str(key), allowed)}; it is ignored")
        if len(functions) != 1:
            self.error(
                spec.loc,
                f"{where}" + ("needs one function" if not functions else f"has {len(functions)} functions ({', '.join(functions)})")
                + f": one of {', '.join(FEATURE_FUNCTIONS)}",
            )
            return None
        function = functions[0]
        reads: set[str] = set()
        info: dict = {"function": function}
        if function == "expr":
            node = self.parse_expr(spec, "expr", where)
            if node is None:
                return None
            info["node"] = node
            reads |= ex.names_in(node)
        elif function == "count":
            if spec["count"] is not True:
                self.error(spec.value_loc("count"), f"{where}count: write 'count: true' (with optional within/where)")
                return None
        else:
            arg = spec[function]
            if not isinstance(arg, str):
                self.error(spec.value_loc(function), f"{where}{function}: must name a field or feature")
                return None
            reads.add(arg)
        if "within" in spec:
            if function not in GROUP_FUNCTIONS:
                self.error(spec.key_loc("within"), f"{where}within: only {', '.join(GROUP_FUNCTIONS)} work within groups")
                return None
            if not isinstance(spec["within"], str):
                self.error(spec.value_loc("within"), f"{where}within: must name a field")
                return None
            reads.add(spec["within"])
        if "where" in spec:
            if function != "count":
                self.error(spec.key_loc("where"), f"{where}where: only 'count' takes a condition")
                return None
            node = self.parse_expr(spec, "where", where)
            if node is None:
                return None
            info["where"] = node
            reads |= ex.names_in(node)
        info["reads"] = reads
        return info

    def pre_score(self, name: str, spec: YMap) -> dict | None:
        where = f"score '{name}': "
        self.unknown_keys(spec, ("title", "description", "normalise", "normalize", "criteria"), where)
        criteria = spec.get("criteria")
        if not isinstance(criteria, YList) or not criteria:
            self.error(spec.value_loc("criteria") if "criteria" in spec else spec.loc,
                       f"{where}criteria: must be a list of {{field: ..., weight: ...}}")
            return None
        reads = set()
        for i, criterion in enumerate(criteria):
            if isinstance(criterion, YMap) and isinstance(criterion.get("field"), str):
                reads.add(criterion["field"])
        return {"reads": reads}

    def build_feature(self, name: str, spec: YMap, loc: Location, info: dict, symbols: dict) -> FeatureSpec | None:
        where = f"feature '{name}': "
        function = info["function"]
        within = spec.get("within")
        if within is not None and within not in symbols:
            self.error(spec.value_loc("within"), f"{where}within: unknown name '{within}'{ex.did_you_mean(within, symbols)}")
            return None
        where_node = None
        if "where" in info:
            where_node, _ = self.resolve(info["where"], spec, "where", where, symbols, condition=True)
            if where_node is None:
                return None
        common = dict(name=name, function=function, within=within, where=where_node, loc=loc,
                      label=self.text(spec.get("label"), spec.value_loc("label"), f"{where}label"),
                      description=self.text(spec.get("description"), spec.value_loc("description"), f"{where}description"),
                      reads=frozenset(info["reads"]))
        if function == "expr":
            node, vtype = self.resolve(info["node"], spec, "expr", where, symbols, condition=False)
            if node is None:
                return None
            if vtype not in (ex.NUMBER, ex.BOOLEAN):
                self.error(spec.value_loc("expr"), f"{where}expr: gives a {vtype}; an expression feature must give a number or a condition")
                return None
            return FeatureSpec(arg=node, type=vtype, **common)
        if function == "count":
            return FeatureSpec(arg=True, **common)
        arg = spec[function]
        if arg not in symbols:
            self.error(spec.value_loc(function), f"{where}{function}: unknown name '{arg}'{ex.did_you_mean(arg, symbols)}")
            return None
        arg_type = symbols[arg].type
        if function in ("days_since", "days_until"):
            if arg_type != ex.DATE:
                self.error(spec.value_loc(function), f"{where}{function}: '{arg}' is a {arg_type}, not a date")
                return None
            return FeatureSpec(arg=arg, **common)
        if arg_type != ex.NUMBER:
            self.error(spec.value_loc(function), f"{where}{function}: '{arg}' is a {arg_type}, not a number")
            return None
        if function == "band":
            bands = self.load_bands(spec, where, symbols)
            if bands is None:
                return None
            return FeatureSpec(arg=arg, type=ex.CATEGORY, bands=bands, **common)
        order = spec.get("order", "desc")
        if order not in ("asc", "desc"):
            self.error(spec.value_loc("order"), f"{where}order: must be 'asc' or 'desc'")
            return None
        return FeatureSpec(arg=arg, order=order, **common)

    def load_bands(self, spec: YMap, where: str, symbols: dict) -> tuple | None:
        raw = spec.get("bands")
        if not isinstance(raw, YList) or len(raw) < 2:
            self.error(spec.value_loc("bands") if "bands" in spec else spec.loc,
                       f"{where}bands: list two or more bands, as in [{{below: 0.15, label: low}}, {{label: high}}]")
            return None
        bands: list[Band] = []
        previous: float | None = None
        for i, item in enumerate(raw):
            item_loc = raw.item_locs[i]
            if not isinstance(item, YMap) or not isinstance(item.get("label"), str):
                self.error(item_loc, f"{where}bands[{i + 1}]: needs a 'label' (and 'below' except the last)")
                return None
            self.unknown_keys(item, ("below", "label", "text"), f"{where}bands[{i + 1}]: ")
            last = i == len(raw) - 1
            if last:
                if "below" in item:
                    self.error(item.key_loc("below"), f"{where}bands[{i + 1}]: the last band has no 'below' (it takes everything above)")
                    return None
                bands.append(Band(item["label"], None, self.text(item.get("text"), item.value_loc("text"), f"{where}text")))
                continue
            below = item.get("below")
            if isinstance(below, str):
                try:
                    node, vtype = ex.Resolver(symbols, self.params_values).value(ex.parse(below))
                except ex.ExprError as exc:
                    self.error(item.text_loc("below", exc.offset), f"{where}bands[{i + 1}].below: {exc.message}")
                    return None
                if not isinstance(node, ex.Param) or vtype != ex.NUMBER:
                    self.error(item.value_loc("below"), f"{where}bands[{i + 1}].below: must be a number or params.NAME")
                    return None
            elif isinstance(below, (int, float)) and not isinstance(below, bool):
                node = ex.Const(ex.rnd(below), ex.NUMBER)
            else:
                self.error(item.value_loc("below") if "below" in item else item.loc,
                           f"{where}bands[{i + 1}]: needs 'below: NUMBER' (every band but the last)")
                return None
            if previous is not None and node.value <= previous:
                self.error(item.value_loc("below"), f"{where}bands[{i + 1}].below: {ex.format_number(node.value)} must be above the band before ({ex.format_number(previous)})")
                return None
            previous = node.value
            bands.append(Band(item["label"], node, self.text(item.get("text"), item.value_loc("text"), f"{where}text")))
        labels = [b.label for b in bands]
        if len(set(labels)) != len(labels):
            self.error(raw.loc, f"{where}bands: labels must be different")
            return None
        return tuple(bands)

    def build_score(self, name: str, spec: YMap, loc: Location, info: dict, symbols: dict) -> ScoreSpec | None:
        where = f"score '{name}': "
        normalise = spec.get("normalise", spec.get("normalize", "percentile"))
        if normalise not in ("percentile", "minmax"):
            self.error(spec.value_loc("normalise"), f"{where}normalise: must be 'percentile' or 'minmax'{ex.did_you_mean(str(normalise), ('percentile', 'minmax'))}")
            return None
        criteria = []
        ok = True
        raw = spec["criteria"]
        for i, item in enumerate(raw):
            item_loc = raw.item_locs[i]
            cwhere = f"{where}criteria[{i + 1}]: "
            if not isinstance(item, YMap):
                self.error(item_loc, f"{cwhere}must be a mapping {{field: ..., weight: ...}}")
                ok = False
                continue
            self.unknown_keys(item, ("field", "weight", "better"), cwhere)
            fname = item.get("field")
            if fname not in symbols:
                self.error(item.value_loc("field") if "field" in item else item.loc,
                           f"{cwhere}field: unknown name '{fname}'{ex.did_you_mean(str(fname), symbols)}")
                ok = False
                continue
            if symbols[fname].type != ex.NUMBER:
                self.error(item.value_loc("field"), f"{cwhere}'{fname}' is a {symbols[fname].type}, not a number")
                ok = False
                continue
            weight = item.get("weight")
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight <= 0:
                self.error(item.value_loc("weight") if "weight" in item else item.loc, f"{cwhere}weight: must be a number above 0")
                ok = False
                continue
            better = item.get("better", "higher")
            if better not in ("higher", "lower"):
                self.error(item.value_loc("better"), f"{cwhere}better: must be 'higher' or 'lower'")
                ok = False
                continue
            criteria.append(Criterion(fname, float(weight), better))
        if not ok:
            return None
        return ScoreSpec(
            name=name, criteria=tuple(criteria), normalise=normalise, loc=loc,
            title=self.text(spec.get("title"), spec.value_loc("title"), f"{where}title"),
            description=self.text(spec.get("description"), spec.value_loc("description"), f"{where}description"),
            reads=frozenset(c.field for c in criteria),
        )

    def topo(self, deps: dict, locs: dict, what: str) -> list:
        """Order names so each comes after what it reads; report cycles."""
        order: list[str] = []
        state: dict[str, int] = {}
        reported: set[frozenset] = set()

        def visit(name: str, path: list[str]) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                cycle = path[path.index(name):] + [name]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    self.error(locs[name], f"{what} '{name}' depends on itself: {' → '.join(cycle)}")
                return
            state[name] = 1
            for dep in sorted(deps[name]):
                if dep in deps:
                    visit(dep, path + [name])
            state[name] = 2
            order.append(name)

        for name in deps:  # definition order, for stable output
            visit(name, [])
        bad = {n for cycle in reported for n in cycle}
        return [n for n in order if n not in bad]

    # -- decisions
    def load_decisions(self, derived: list) -> list:
        raw: dict[str, tuple[YMap, Location]] = {}
        outputs_of: dict[str, dict] = {}
        for section, _ in self.sections["decisions"]:
            for decision_id, spec in section.items():
                loc = section.key_loc(decision_id)
                if not self.check_name(decision_id, loc, "decision"):
                    continue
                if decision_id in raw:
                    self.error(loc, f"decision '{decision_id}' is already defined at {raw[decision_id][1]}")
                    continue
                if not isinstance(spec, YMap):
                    self.error(section.value_loc(decision_id), f"decision '{decision_id}': must be a mapping with 'hit', 'outputs' and 'rules'")
                    continue
                raw[decision_id] = (spec, loc)
        # outputs first: later decisions may read earlier ones' outputs
        hits: dict[str, str] = {}
        for decision_id, (spec, loc) in raw.items():
            where = f"decision '{decision_id}': "
            self.unknown_keys(spec, ("title", "description", "hit", "outputs", "rules", "table", "default"), where)
            hit = spec.get("hit", "first")
            if hit not in HIT_POLICIES:
                self.error(spec.value_loc("hit"), f"{where}hit: '{hit}' is not one of {', '.join(HIT_POLICIES)}{ex.did_you_mean(str(hit), HIT_POLICIES)}")
                outputs = spec.get("outputs")
                self.poisoned |= {f"{decision_id}_count", *(outputs if isinstance(outputs, dict) else ())}
                continue
            hits[decision_id] = hit
            outputs = self.load_outputs(decision_id, spec, where)
            if outputs is None:
                self.poisoned.add(f"{decision_id}_count")
                continue
            outputs_of[decision_id] = outputs
            if hit == "collect":
                self.claim(f"{decision_id}_count", f"count of decision '{decision_id}'", loc)

        symbols = _symbols(self.fields, derived, [], include_outputs=False)
        out_symbols: dict[str, ex.Symbol] = {}
        owner: dict[str, str] = {}
        for decision_id, outputs in outputs_of.items():
            for oname, ospec in outputs.items():
                owner[oname] = decision_id
                if hits[decision_id] == "collect":
                    continue  # lists: read their count instead
                out_symbols[oname] = ex.Symbol(oname, ex.STRING if ospec.type == "text" else ospec.type, "output", ospec.values)
            if hits[decision_id] == "collect":
                out_symbols[f"{decision_id}_count"] = ex.Symbol(f"{decision_id}_count", ex.NUMBER, "count")
                owner[f"{decision_id}_count"] = decision_id
        all_symbols = {**symbols, **out_symbols}
        collect_outputs = {o for d, outs in outputs_of.items() if hits[d] == "collect" for o in outs}

        built: dict[str, Decision] = {}
        for decision_id, outputs in outputs_of.items():
            spec, loc = raw[decision_id]
            visible = {k: v for k, v in all_symbols.items() if owner.get(k) != decision_id}
            decision = self.build_decision(decision_id, spec, loc, hits[decision_id], outputs, visible, collect_outputs)
            if decision is not None:
                built[decision_id] = decision
        deps = {d.id: {owner[n] for n in d.reads if n in owner} for d in built.values()}
        order = self.topo(deps, {d: built[d].loc for d in built}, "decision")
        return [built[d] for d in order]

    def load_outputs(self, decision_id: str, spec: YMap, where: str) -> dict | None:
        raw = spec.get("outputs")
        if not isinstance(raw, YMap) or not raw:
            self.error(spec.value_loc("outputs") if "outputs" in spec else spec.loc,
                       f"{where}outputs: list the decision's outputs, as in outputs: {{tier: {{type: category, values: [key, standard]}}}}")
            return None
        outputs: dict[str, OutputSpec] = {}
        for oname, ospec in raw.items():
            oloc = raw.key_loc(oname)
            owhere = f"{where}output '{oname}': "
            if not self.check_name(oname, oloc, "output") or not self.claim(oname, "output", oloc):
                continue
            if isinstance(ospec, str):
                otype, ospec = ospec, YMap()
                ospec.loc, ospec.key_locs, ospec.value_locs, ospec.value_styles = oloc, {}, {}, {}
            elif isinstance(ospec, YMap):
                self.unknown_keys(ospec, ("type", "values", "label"), owhere)
                otype = ospec.get("type", "string")
            else:
                self.error(raw.value_loc(oname), f"{owhere}must be a type name or a mapping with 'type'")
                continue
            if otype not in OUTPUT_TYPES:
                self.error(ospec.value_loc("type") if "type" in ospec else raw.value_loc(oname),
                           f"{owhere}type '{otype}' is not one of {', '.join(OUTPUT_TYPES)}{ex.did_you_mean(str(otype), OUTPUT_TYPES)}")
                continue
            values: list = []
            value_labels: dict = {}
            rawv = ospec.get("values")
            if otype == "category":
                if isinstance(rawv, list):
                    values = [str(v) for v in rawv]
                elif isinstance(rawv, YMap):
                    for v, text in rawv.items():
                        values.append(str(v))
                        if text is not None:
                            value_labels[str(v)] = self.text(text, rawv.value_loc(v), f"{owhere}values.{v}")
                else:
                    self.error(ospec.loc, f"{owhere}a category output needs 'values' (a list, or a mapping value → label)")
                    continue
            elif rawv is not None:
                self.error(ospec.key_loc("values"), f"{owhere}values: only category outputs list values")
            outputs[oname] = OutputSpec(oname, otype, tuple(values), value_labels,
                                        self.text(ospec.get("label"), ospec.value_loc("label"), f"{owhere}label"))
        return outputs

    def build_decision(self, decision_id, spec, loc, hit, outputs, symbols, collect_outputs) -> Decision | None:
        where = f"decision '{decision_id}'"
        rules_raw = spec.get("rules")
        table = spec.get("table")
        if rules_raw is not None and table is not None:
            self.error(spec.key_loc("table"), f"{where}: give either 'rules' or 'table', not both")
            return None
        if rules_raw is None and table is None:
            self.error(spec.loc, f"{where}: needs 'rules' (or a 'table')")
            return None
        if table is not None:
            rule_specs = self.table_rules(decision_id, table, outputs, symbols)
            if rule_specs is None:
                return None
        else:
            if not isinstance(rules_raw, YList) or not rules_raw:
                self.error(spec.value_loc("rules"), f"{where}: rules: must be a list of rules ({{id, when, then}})")
                return None
            rule_specs = [(item, rules_raw.item_locs[i]) for i, item in enumerate(rules_raw)]
        rules: list[Rule] = []
        seen: dict[str, Location] = {}
        for i, (item, item_loc) in enumerate(rule_specs):
            rule = self.build_rule(decision_id, hit, i, item, item_loc, outputs, symbols, collect_outputs)
            if rule is None:
                continue
            if rule.id in seen:
                self.error(rule.loc, f"{where} → rule '{rule.id}': duplicate rule id (first at line {seen[rule.id].line})")
                continue
            seen[rule.id] = rule.loc
            rules.append(rule)
        default = None
        if "default" in spec:
            if hit == "collect":
                self.error(spec.key_loc("default"), f"{where}: default: a collect decision has no default (no match gives empty lists)")
            else:
                default = self.outputs_values(spec, "default", outputs, f"{where} → default: ", partial=False)
        if len(rules) != len(rule_specs):
            return None
        branches = sum(branch_count(r.when) for r in rules)
        if branches > MAX_BRANCHES_PER_DECISION:
            self.error(loc, f"{where}: its rules make {branches} engine branches (one per rule, one per "
                            f"'or' alternative); the engine takes at most {MAX_BRANCHES_PER_DECISION} per decision: "
                            "split it into two decisions, or move 'or' parts into features")
            return None
        reads = set().union(*(r.reads for r in rules)) if rules else set()
        if len(reads) > MAX_FIELDS_PER_DECISION:
            self.error(loc, f"{where}: reads {len(reads)} names; the engine takes at most {MAX_FIELDS_PER_DECISION}: split the decision")
            return None
        if hit == "first":
            self.check_shadowed(decision_id, rules)
        return Decision(
            id=decision_id, hit=hit, outputs=outputs, rules=tuple(rules), default=default,
            title=self.text(spec.get("title"), spec.value_loc("title"), f"{where}: title"),
            description=self.text(spec.get("description"), spec.value_loc("description"), f"{where}: description"),
            reads=frozenset(reads), loc=loc,
        )

    def table_rules(self, decision_id: str, table: Any, outputs: dict, symbols: dict) -> list | None:
        where = f"decision '{decision_id}' → table: "
        if not isinstance(table, YMap):
            self.error(getattr(table, "loc", Location("?")), f"{where}must be a mapping with inputs, outputs and rows")
            return None
        self.unknown_keys(table, ("inputs", "outputs", "rows", "ids", "because", "source"), where)
        inputs, touts, rows = table.get("inputs"), table.get("outputs"), table.get("rows")
        if not isinstance(inputs, list) or not inputs or not all(isinstance(i, str) for i in inputs):
            self.error(table.value_loc("inputs") if "inputs" in table else table.loc, f"{where}inputs: list the input names")
            return None
        for name in inputs:
            if name not in symbols:
                self.error(table.value_loc("inputs"), f"{where}inputs: unknown name '{name}'{ex.did_you_mean(name, symbols)}")
                return None
        if touts is None:
            touts = list(outputs)
        if not isinstance(touts, list) or any(o not in outputs for o in touts):
            bad = [o for o in (touts if isinstance(touts, list) else [touts]) if o not in outputs]
            self.error(table.value_loc("outputs"), f"{where}outputs: unknown output '{bad[0] if bad else touts}' (outputs: {', '.join(outputs)})")
            return None
        if not isinstance(rows, YList) or not rows:
            self.error(table.value_loc("rows") if "rows" in table else table.loc, f"{where}rows: list one row per combination")
            return None
        ids = table.get("ids")
        if ids is not None and (not isinstance(ids, list) or len(ids) != len(rows)):
            self.error(table.value_loc("ids"), f"{where}ids: give one id per row ({len(rows)})")
            return None
        specs = []
        width = len(inputs) + len(touts)
        for r, row in enumerate(rows):
            rloc = rows.item_locs[r]
            if not isinstance(row, list) or len(row) != width:
                self.error(rloc, f"{where}row {r + 1}: needs {width} cells ({', '.join(inputs)} | {', '.join(touts)}), found {len(row) if isinstance(row, list) else 1}")
                return None
            terms = []
            for name, cell in zip(inputs, row[: len(inputs)]):
                term = _cell_condition(name, cell, symbols[name].type)
                if term:
                    terms.append(term)
            when = " and ".join(terms) if terms else "true"
            item = YMap({"id": str(ids[r]) if ids else f"row{r + 1}", "when": when,
                         "then": YMap(zip(touts, row[len(inputs):]))})
            item.loc, item.key_locs, item.value_locs, item.value_styles = rloc, {}, {"when": rloc}, {"when": "|"}
            item["then"].loc, item["then"].key_locs, item["then"].value_locs, item["then"].value_styles = rloc, {}, {}, {}
            if "because" in table:
                item["because"] = table["because"]
            if "source" in table:
                item["source"] = table["source"]
            item.value_locs.update({"because": table.value_loc("because")})
            specs.append((item, rloc))
        return specs

    def build_rule(self, decision_id, hit, index, item, item_loc, outputs, symbols, collect_outputs) -> Rule | None:
        if not isinstance(item, YMap):
            self.error(item_loc, f"decision '{decision_id}' → rule {index + 1}: must be a mapping with id, when, then")
            return None
        rule_id = item.get("id")
        if rule_id is None:
            self.error(item.loc, f"decision '{decision_id}' → rule {index + 1}: needs an 'id'")
            return None
        rule_id = str(rule_id)
        where = f"decision '{decision_id}' → rule '{rule_id}': "
        if not re.fullmatch(r"[A-Za-z0-9_\-.]+", rule_id):
            self.error(item.value_loc("id"), f"{where}id: use letters, digits, '_', '-' and '.'")
            return None
        self.unknown_keys(item, ("id", "when", "then", "because", "source", "priority"), where)
        if "when" not in item:
            self.error(item.loc, f"{where}needs 'when' (write 'when: true' for a rule that always applies)")
            return None
        node = self.parse_expr(item, "when", where)
        if node is None:
            return None
        read_collect = ex.names_in(node) & collect_outputs
        if read_collect:
            name = sorted(read_collect)[0]
            self.error(item.text_loc("when", 0), f"{where}when: '{name}' is a list from a collect decision; read its count instead")
            return None
        resolved, _ = self.resolve(node, item, "when", where, symbols, condition=True)
        if resolved is None:
            return None
        comparisons = sum(1 for n in _atoms(resolved))
        if comparisons > MAX_COMPARISONS_PER_RULE:
            self.error(item.value_loc("when"), f"{where}when: {comparisons} comparisons; the engine takes at most {MAX_COMPARISONS_PER_RULE} in one rule: move parts into features")
            return None
        then = self.outputs_values(item, "then", outputs, where, partial=hit == "collect")
        if then is None:
            return None
        priority = item.get("priority", 0)
        if hit == "priority":
            if "priority" not in item or isinstance(priority, bool) or not isinstance(priority, int):
                self.error(item.value_loc("priority") if "priority" in item else item.loc,
                           f"{where}priority: a 'priority' decision needs a whole-number priority on every rule (higher wins)")
                return None
            if not 0 <= priority <= 60000:
                self.error(item.value_loc("priority"), f"{where}priority: must be between 0 and 60000")
                return None
        elif "priority" in item:
            self.warn(item.key_loc("priority"), f"{where}priority: only 'priority' decisions use it; it is ignored")
        because = self.text(item.get("because"), item.value_loc("because"), f"{where}because")
        for lang, text in because.items():
            if (problem := because_format_problem(text)) is not None:  # bounded at load time (guards.py)
                self.error(item.value_loc("because"), f"{where}because ({lang}): {problem}")
                return None
            for placeholder in re.findall(r"\{([^{}:]+)(?::[^{}]*)?\}", text):
                name = placeholder.strip()
                known = name in symbols or name in outputs or (name.startswith("params.") and name[7:] in self.params_values)
                if not known:
                    self.error(item.value_loc("because"), f"{where}because ({lang}): unknown name '{{{name}}}'{ex.did_you_mean(name, list(symbols) + ['params.' + p for p in self.params_values])}")
                    return None
        reads = ex.names_in(resolved)
        return Rule(id=rule_id, when_text=str(item["when"]), when=resolved, then=then, because=because,
                    source=str(item.get("source", "")), priority=priority if hit == "priority" else 0,
                    reads=frozenset(reads), loc=item.loc)

    def outputs_values(self, item: YMap, key: str, outputs: dict, where: str, partial: bool) -> dict | None:
        values = item.get(key)
        if not isinstance(values, YMap):
            self.error(item.value_loc(key) if key in item else item.loc,
                       f"{where}{key}: give the outputs it sets, as in {key}: {{{next(iter(outputs))}: ...}}")
            return None
        result = {}
        ok = True
        for name, value in values.items():
            if name not in outputs:
                self.error(values.key_loc(name), f"{where}{key}: unknown output '{name}'{ex.did_you_mean(str(name), outputs)} (outputs: {', '.join(outputs)})")
                ok = False
                continue
            checked = self.output_value(outputs[name], value, values.value_loc(name), f"{where}{key}.{name}: ")
            if checked is _BAD:
                ok = False
                continue
            result[name] = checked
        missing = [o for o in outputs if o not in result and o not in values]
        if missing and not partial and ok:
            self.error(values.loc, f"{where}{key}: sets no value for {', '.join(repr(m) for m in missing)}: every rule sets every output")
            return None
        return result if ok else None

    def output_value(self, spec: OutputSpec, value: Any, loc: Location, where: str) -> Any:
        if value is None:
            return None
        if spec.type == "category":
            if str(value) not in spec.values:
                self.error(loc, f"{where}'{value}' is not one of {', '.join(spec.values)}{ex.did_you_mean(str(value), spec.values)}")
                return _BAD
            return str(value)
        if spec.type == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                self.error(loc, f"{where}'{value}' is not a number")
                return _BAD
            return ex.rnd(value)
        if spec.type == "boolean":
            if not isinstance(value, bool):
                self.error(loc, f"{where}'{value}' is not true or false")
                return _BAD
            return value
        if spec.type == "text":
            text = self.text(value, loc, where.rstrip(": "))
            return text or _BAD
        if isinstance(value, (dict, list)):
            self.error(loc, f"{where}must be plain text")
            return _BAD
        return str(value)

    def check_shadowed(self, decision_id: str, rules: list) -> None:
        for j, later in enumerate(rules):
            for earlier in rules[:j]:
                if _implies(later.when, earlier.when):
                    self.error(
                        later.loc,
                        f"decision '{decision_id}' → rule '{later.id}': can never fire: rule '{earlier.id}' comes "
                        f"first and matches every account this one matches (hit: first); reorder or narrow them",
                    )
                    break


_BAD = object()


def _cell_condition(name: str, cell: Any, vtype: str) -> str:
    """A table cell as a condition on its input: '-' any, '> 0.3' a comparison, else equality."""
    if cell is None or (isinstance(cell, str) and cell.strip() in ("-", "", "*", "any")):
        return ""
    if isinstance(cell, bool):
        return f"{name} == {'true' if cell else 'false'}"
    if isinstance(cell, (int, float)):
        return f"{name} == {cell}"
    text = str(cell).strip()
    if re.match(r"^(==|!=|<=|>=|<|>|in\s*\[|not\s+in\s*\[|is\s+)", text):
        return f"{name} {text}"
    if vtype == ex.NUMBER:
        return f"{name} == {text}"
    return f"{name} == " + '"' + text.replace('"', '\\"') + '"'


def _expr_type(field_type: str) -> str:
    return ex.NUMBER if field_type == "integer" else field_type


def _symbols(fields: dict, derived: list, decisions: list, include_outputs: bool) -> dict:
    symbols = {n: ex.Symbol(n, _expr_type(f.type), "field", f.values) for n, f in fields.items()}
    for item in derived:
        symbols[item.name] = ex.Symbol(item.name, item.type, "feature", getattr(item, "values", ()))
    if include_outputs:
        for decision in decisions:
            if decision.hit == "collect":
                symbols[decision.count_name] = ex.Symbol(decision.count_name, ex.NUMBER, "count")
                continue
            for name, spec in decision.outputs.items():
                symbols[name] = ex.Symbol(name, ex.STRING if spec.type == "text" else spec.type, "output", spec.values)
    return symbols


# ------------------------------------------------------------------------- static analysis helpers


def _atoms(node: ex.Node) -> list:
    if isinstance(node, (ex.And, ex.Or)):
        return [a for item in node.items for a in _atoms(item)]
    if isinstance(node, ex.Not):
        return _atoms(node.item)
    return [node]


def _conjunction(node: ex.Node) -> list | None:
    """A condition as a list of atoms ANDed, or None when it is not a plain conjunction."""
    node = ex.push_not(node)
    if isinstance(node, ex.And):
        result = []
        for item in node.items:
            sub = _conjunction(item)
            if sub is None:
                return None
            result += sub
        return result
    if isinstance(node, (ex.Compare, ex.Missing, ex.Const)):
        return [node]
    return None


def _implies(later: ex.Node, earlier: ex.Node) -> bool:
    """True when every account matching `later` surely matches `earlier` (conservative)."""
    earlier = ex.push_not(earlier)
    if isinstance(earlier, ex.Const):
        return bool(earlier.value)
    options = earlier.items if isinstance(earlier, ex.Or) else (earlier,)
    facts = _conjunction(later)
    if facts is None:
        return False
    if any(isinstance(f, ex.Const) and not f.value for f in facts):
        return False
    for option in options:
        needed = _conjunction(option)
        if needed is None:
            continue
        if all(any(_atom_implies(f, n) for f in facts) for n in needed):
            return True
    return False


def _bound(atom: ex.Node):
    """(name, op, value) for `name OP constant`, normalised with the name on the left."""
    if not isinstance(atom, ex.Compare):
        return None
    left, right, op = atom.left, atom.right, atom.op
    if isinstance(right, ex.Name) and isinstance(left, (ex.Const, ex.Param)):
        left, right, op = right, left, ex.FLIPPED[op]
    if isinstance(left, ex.Name) and isinstance(right, (ex.Const, ex.Param)):
        return left.name, op, right.value
    return None


def _atom_implies(fact: ex.Node, need: ex.Node) -> bool:
    if isinstance(need, ex.Const):
        return bool(need.value)
    if fact == need:
        return True
    if isinstance(fact, ex.Missing) or isinstance(need, ex.Missing):
        if isinstance(need, ex.Missing) and need.negate and isinstance(need.operand, ex.Name):
            b = _bound(fact)  # any comparison being true implies the value is present
            return b is not None and b[0] == need.operand.name
        return False
    f, n = _bound(fact), _bound(need)
    if f is None or n is None or f[0] != n[0]:
        return False
    _, fop, fv = f
    _, nop, nv = n
    try:
        if fop == "==":
            return ex.compare(nop, fv, nv)
        if nop in (">", ">=") and fop in (">", ">="):
            return fv > nv or (fv == nv and (fop == ">" or nop == ">="))
        if nop in ("<", "<=") and fop in ("<", "<="):
            return fv < nv or (fv == nv and (fop == "<" or nop == "<="))
        if nop == "!=" and fop in (">", ">=", "<", "<="):
            if fop == ">":
                return fv >= nv
            if fop == ">=":
                return fv > nv
            if fop == "<":
                return fv <= nv
            return fv < nv
    except TypeError:
        return False
    return False


def branch_count(node: ex.Node) -> int:
    """How many branches the engine makes of a condition: `or` adds, `and` multiplies."""
    node = ex.push_not(node)
    if isinstance(node, ex.Or):
        return sum(branch_count(i) for i in node.items)
    if isinstance(node, ex.And):
        total = 1
        for item in node.items:
            total *= branch_count(item)
        return total
    return 1


def can_fire_without(node: ex.Node, absent: set) -> bool:
    """Whether a condition can still be true when the names in `absent` are missing for everyone."""
    node = ex.push_not(node)

    def can(n: ex.Node) -> bool:
        if isinstance(n, ex.And):
            return all(can(i) for i in n.items)
        if isinstance(n, ex.Or):
            return any(can(i) for i in n.items)
        if isinstance(n, ex.Missing):
            if ex.names_in(n) & absent:
                return not n.negate
            return True
        if isinstance(n, ex.Const):
            return bool(n.value)
        return not (ex.names_in(n) & absent)

    return can(node)


def absent_names(pack: RulePack, present_fields: Iterable[str]) -> set:
    """Fields missing from the data, and the features/scores that are then missing for everyone."""
    absent = {name for name in pack.fields if name not in set(present_fields)}
    for item in pack.derived:
        if isinstance(item, ScoreSpec):
            if all(c.field in absent for c in item.criteria):
                absent.add(item.name)
        elif item.reads & absent:
            absent.add(item.name)
    return absent


def rules_without_data(pack: RulePack, present_fields: Iterable[str]) -> list:
    """(decision, rule, missing names) for every rule that cannot fire with the columns present."""
    absent = absent_names(pack, present_fields)
    derived = {d.name: d for d in pack.derived}

    def fields_behind(name: str) -> set:
        if name in pack.fields:
            return {name}
        item = derived.get(name)
        if item is None:
            return set()
        reads = {c.field for c in item.criteria} if isinstance(item, ScoreSpec) else item.reads
        return set().union(*(fields_behind(n) for n in reads & absent)) if reads & absent else set()

    result = []
    for decision in pack.decisions:
        for rule in decision.rules:
            if not can_fire_without(rule.when, absent):
                missing = set().union(*(fields_behind(n) for n in rule.reads & absent))
                result.append((decision.id, rule.id, sorted(missing)))
    return result
