"""Properties a team states for its pack (`properties:` in `rules/tests/*.yaml`), read and checked
against the pack like cases are (file:line:col, did-you-mean).

A case says "these facts give this decision"; a property says what must hold on *any* portfolio, and
`kamrules test` checks it on the portfolios of the pack's tests and on a data file
(`kamrules.testing.property_runs`). Each property has a `name`, an optional `reason` and one kind:

- `monotone`: raising one account's money figures (`raise`, multiplied by `by`), all else equal, never
  lowers its place on an ordered output (`output`, `order` from low to high; an item may be a list of
  equal values); tried on `accounts` accounts spread over the ranks of the first raised field.
- `largest`: the `count` largest accounts by `by` (a number, `params.NAME`, or a field, feature or
  score whose value is the count) have `output` in `in`, unless the condition `unless` holds for them.
- `order_invariant`: the rows reversed or shuffled (`seed`) give every account the same `outputs`.
- `unread_columns`: the fields `outputs` do not read (through features, scores and earlier decisions;
  or the `columns` a team says they do not read) change nothing when set to missing or shuffled.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kamrules.errors import Diagnostic, Location
from kamrules.language import expr as ex
from kamrules.pack import RulePack, ScoreSpec
from kamrules.pack.yamlsrc import YList, YMap, load_yaml

KINDS = ("monotone", "largest", "order_invariant", "unread_columns")
PROPERTY_KEYS = ("name", "reason", *KINDS)
OPTIONS = {
    "monotone": ("raise", "by", "output", "order", "accounts"),
    "largest": ("by", "count", "output", "in", "unless"),
    "order_invariant": ("outputs", "seed"),
    "unread_columns": ("outputs", "columns", "seed"),
}
REQUIRED = {"monotone": ("raise", "output"), "largest": ("by", "count", "output", "in")}
DEFAULT_FACTOR = 1.5
DEFAULT_ACCOUNTS = 30
DEFAULT_SEED = 1
ID_FIELD = "account_id"  # how accounts are matched; never an "unread" column


@dataclass(frozen=True)
class Property:
    """One stated property, checked against the pack. Which attributes matter depends on `kind`."""

    name: str
    kind: str
    file: str
    loc: Location
    reason: str = ""
    output: str = ""  # monotone, largest: the output compared
    raise_fields: tuple = ()  # monotone: the fields multiplied
    factor: float = DEFAULT_FACTOR  # monotone: by how much
    order: tuple = ()  # monotone: tuples of equal values, low to high
    accounts: int = DEFAULT_ACCOUNTS  # monotone: how many accounts are tried
    by_name: str = ""  # largest: the value accounts are ranked by
    count: Any = None  # largest: a number, or the name of a field, feature or score that holds it
    count_text: str = ""  # largest: the count as written (`params.key_account_capacity`)
    values: tuple = ()  # largest: the output values the largest accounts must have
    unless: ex.Node | None = None  # largest: accounts this condition holds for are exempt
    unless_text: str = ""
    outputs: tuple = ()  # order_invariant, unread_columns: the outputs compared (all when none given)
    columns: tuple | None = None  # unread_columns: the fields claimed unread (None: every field not read)
    seed: int = DEFAULT_SEED  # order_invariant, unread_columns: the shuffle's seed

    def rank(self, value: Any) -> int:
        """A monotone property's place of an output value (-1 when missing or not listed)."""
        for place, equal in enumerate(self.order):
            if value in equal:
                return place
        return -1


def load_properties(pack: RulePack, paths: list[Path]) -> tuple[list[Property], list[Diagnostic]]:
    """Every property of the YAML test files (a top-level `properties:` list), and every problem
    found in them (YAML syntax errors are the cases reader's to report)."""
    checker = _Checker(pack)
    found: list[Property] = []
    for path in paths:
        if path.suffix.lower() not in (".yaml", ".yml"):
            continue
        document, diagnostics = load_yaml(path, str(path))
        if document is None or any(d.severity == "error" for d in diagnostics):
            continue
        if not isinstance(document, YMap) or "properties" not in document:
            continue
        found += checker.file(path, document)
    return found, checker.errors


def output_names(pack: RulePack) -> list[str]:
    """Every decision output, in decision order."""
    return [name for decision in pack.decisions for name in decision.outputs]


def decision_of(pack: RulePack, name: str):
    """The decision an output or a collect count belongs to (None for a field, feature or score)."""
    for decision in pack.decisions:
        if name in decision.outputs or (decision.policy.lists and name == decision.count_name):
            return decision
    return None


def reads_path(pack: RulePack, output: str, field_name: str) -> list[str] | None:
    """How an output comes to read a field: [output, …, field] through decisions' rules, features
    and scores (the pack's `reads` sets), or None when it does not read it."""
    derived = {item.name: item for item in pack.derived}
    parents: dict[str, str | None] = {output: None}
    todo = [output]
    while todo:
        name = todo.pop(0)
        if name == field_name:
            path = [name]
            while parents[path[-1]] is not None:
                path.append(parents[path[-1]])
            return path[::-1]
        for read in sorted(_direct_reads(pack, derived, name)):
            if read not in parents:
                parents[read] = name
                todo.append(read)
    return None


def fields_read(pack: RulePack, outputs: list[str]) -> set[str]:
    """The fields the outputs read, directly or through features, scores and earlier decisions."""
    derived = {item.name: item for item in pack.derived}
    seen, todo = set(), list(outputs)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo += _direct_reads(pack, derived, name)
    return {name for name in seen if name in pack.fields}


def needed(pack: RulePack, outputs: list[str]) -> RulePack:
    """The pack cut down to what the outputs need (their decisions, the decisions and the features
    and scores these read): the same outputs, computed with less work."""
    derived = {item.name: item for item in pack.derived}
    seen, todo = set(), list(outputs)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        decision = decision_of(pack, name)
        todo += [*decision.outputs] if decision is not None else []
        todo += _direct_reads(pack, derived, name)
    decisions = [d for d in pack.decisions if any(n in seen for n in d.outputs)]
    return dataclasses.replace(pack, decisions=decisions, derived=[d for d in pack.derived if d.name in seen])


def _direct_reads(pack: RulePack, derived: dict, name: str) -> set[str]:
    decision = decision_of(pack, name)
    if decision is not None:
        return set(decision.reads)
    item = derived.get(name)
    if item is None:
        return set()
    return {c.field for c in item.criteria} if isinstance(item, ScoreSpec) else set(item.reads)


# ------------------------------------------------------------------------------------------ checking


class _Checker:
    def __init__(self, pack: RulePack):
        self.pack = pack
        self.errors: list[Diagnostic] = []
        self.outputs = output_names(pack)
        self.symbols = pack.symbols()
        self.numbers = [name for name, symbol in self.symbols.items()
                        if symbol.type == ex.NUMBER and symbol.kind in ("field", "feature")]
        self.number_fields = [name for name in self.numbers if name in pack.fields]
        self.seen: dict[str, Location] = {}

    def error(self, loc: Location, message: str) -> None:
        self.errors.append(Diagnostic(loc, message))

    def file(self, path: Path, document: YMap) -> list[Property]:
        items = document["properties"]
        if not isinstance(items, YList):
            self.error(document.value_loc("properties"), "properties: a list of properties, each with a name and "
                       f"one of {', '.join(KINDS)}")
            return []
        found = []
        for index, item in enumerate(items):
            prop = self.item(path, item, items.item_locs[index], index)
            if prop is not None:
                found.append(prop)
        return found

    def item(self, path: Path, item: Any, loc: Location, index: int) -> Property | None:
        if not isinstance(item, YMap):
            self.error(loc, f"property {index + 1}: must be a mapping with a name and one of {', '.join(KINDS)}")
            return None
        name = str(item.get("name") or "").strip()
        where = f"property '{name}': " if name else f"property {index + 1}: "
        if not name:
            self.error(item.key_loc("name") if "name" in item else item.loc, f"{where}needs a 'name'")
        elif name in self.seen:
            self.error(item.value_loc("name"), f"{where}a second property of this name (the first is at line "
                       f"{self.seen[name].line}): give each its own name")
        else:
            self.seen[name] = item.value_loc("name")
        unknown = [key for key in item if key not in PROPERTY_KEYS]
        for key in unknown:
            self.error(item.key_loc(key), f"{where}unknown key '{key}'{ex.did_you_mean(str(key), PROPERTY_KEYS)}")
        kinds = [key for key in item if key in KINDS]
        if not kinds:
            if not unknown:  # (an unknown key is most likely the misspelt kind: said above)
                self.error(item.loc, f"{where}says nothing to check: give one of {', '.join(KINDS)}")
            return None
        if len(kinds) > 1:
            self.error(item.key_loc(kinds[1]), f"{where}one kind per property: found {' and '.join(kinds)} "
                       "(write two properties)")
            return None
        kind = kinds[0]
        options = item[kind]
        if options is None:
            options = YMap()
            options.loc, options.key_locs, options.value_locs, options.value_styles = item.value_loc(kind), {}, {}, {}
        if not isinstance(options, YMap):
            self.error(item.value_loc(kind), f"{where}{kind}: a mapping of its options ({', '.join(OPTIONS[kind])})")
            return None
        where += f"{kind}: "
        before = len(self.errors)
        for key in options:
            if key not in OPTIONS[kind]:
                self.error(options.key_loc(key), f"{where}unknown option '{key}'"
                           f"{ex.did_you_mean(str(key), OPTIONS[kind])} (options: {', '.join(OPTIONS[kind])})")
        for key in REQUIRED.get(kind, ()):
            if key not in options:
                self.error(options.loc, f"{where}needs '{key}'")
        if len(self.errors) > before or not name:
            return None
        base = Property(name=name, kind=kind, file=str(path), loc=item.loc, reason=str(item.get("reason") or "").strip())
        changes = getattr(self, kind)(options, where)
        if changes is None or len(self.errors) > before:
            return None
        return dataclasses.replace(base, **changes)

    # -- the kinds
    def monotone(self, options: YMap, where: str) -> dict | None:
        raised = self.names(options, "raise", where, self.number_fields, "a number field: a money figure of the data")
        output = self.single_output(options, where)
        factor = self.number(options, "by", where, DEFAULT_FACTOR)
        if factor is not None and factor <= 1:
            self.error(options.value_loc("by"), f"{where}by: {factor:g} does not raise anything: give a factor above 1, e.g. 1.5")
        accounts = self.whole(options, "accounts", where, DEFAULT_ACCOUNTS, minimum=1)
        if output is None:
            return None
        order = self.order(options, output, where)
        if order is None:
            return None
        return {"raise_fields": tuple(raised), "output": output, "factor": factor, "accounts": accounts, "order": order}

    def largest(self, options: YMap, where: str) -> dict | None:
        by = self.name_option(options, "by", where, self.numbers, "a number field, feature or score")
        output = self.single_output(options, where)
        count, count_text = self.count(options, where)
        values = []
        if output is not None:
            raw = options["in"]
            values = [str(v) for v in (raw if isinstance(raw, list) else [raw])]
            for index, value in enumerate(values):
                self.check_values(output, [value], _item_loc(raw, index, options.value_loc("in")), f"{where}in: ")
        unless, unless_text = None, ""
        if "unless" in options:
            unless_text = str(options["unless"])
            unless = self.condition(options, "unless", where)
        return {"by_name": by, "output": output, "count": count, "count_text": count_text, "values": tuple(values),
                "unless": unless, "unless_text": unless_text}

    def order_invariant(self, options: YMap, where: str) -> dict | None:
        return {"outputs": self.output_list(options, where),
                "seed": self.whole(options, "seed", where, DEFAULT_SEED, minimum=0)}

    def unread_columns(self, options: YMap, where: str) -> dict | None:
        columns = None
        if "columns" in options:
            columns = tuple(self.names(options, "columns", where, list(self.pack.fields), "a field of the pack"))
            if ID_FIELD in columns:
                self.error(options.value_loc("columns"), f"{where}columns: '{ID_FIELD}' is how accounts are "
                           "matched, not a column to leave out")
        return {"outputs": self.output_list(options, where), "columns": columns,
                "seed": self.whole(options, "seed", where, DEFAULT_SEED, minimum=0)}

    # -- options
    def names(self, options: YMap, key: str, where: str, allowed: list, what: str) -> list[str]:
        raw = options.get(key)
        items = raw if isinstance(raw, list) else [raw]
        found = []
        for index, item in enumerate(items):
            loc = _item_loc(raw, index, options.value_loc(key))
            if not isinstance(item, str) or not item.strip():
                self.error(loc, f"{where}{key}: a list of names ({what})")
                continue
            if self.known_name(item, allowed, loc, f"{where}{key}: ", what):
                found.append(item)
        return found

    def name_option(self, options: YMap, key: str, where: str, allowed: list, what: str) -> str:
        value = options.get(key)
        if not isinstance(value, str):
            self.error(options.value_loc(key), f"{where}{key}: a name ({what})")
            return ""
        return value if self.known_name(value, allowed, options.value_loc(key), f"{where}{key}: ", what) else ""

    def known_name(self, name: str, allowed: list, loc: Location, where: str, what: str) -> bool:
        if name in allowed:
            return True
        if name in self.symbols:
            self.error(loc, f"{where}'{name}' is not {what}")
        else:
            self.error(loc, f"{where}unknown name '{name}'{ex.did_you_mean(name, allowed)}")
        return False

    def single_output(self, options: YMap, where: str) -> str | None:
        name = options.get("output")
        if not isinstance(name, str):
            self.error(options.value_loc("output"), f"{where}output: the name of a decision output, e.g. "
                       f"'{self.outputs[0] if self.outputs else 'tier'}'")
            return None
        if not self.is_output(name, options.value_loc("output"), f"{where}output: "):
            return None
        if decision_of(self.pack, name).policy.lists:
            self.error(options.value_loc("output"), f"{where}output: '{name}' is the list of a collect decision: "
                       "name a single-valued output")
            return None
        return name

    def output_list(self, options: YMap, where: str) -> tuple:
        if "outputs" not in options:
            return ()
        raw = options["outputs"]
        items = raw if isinstance(raw, list) else [raw]
        found = []
        for index, item in enumerate(items):
            name = str(item)
            if self.is_output(name, _item_loc(raw, index, options.value_loc("outputs")), f"{where}outputs: "):
                found.append(name)
        return tuple(found)

    def is_output(self, name: str, loc: Location, where: str) -> bool:
        if name in self.outputs:
            return True
        if any(d.id == name for d in self.pack.decisions):
            outputs = ", ".join(self.pack.decision(name).outputs)
            self.error(loc, f"{where}'{name}' is a decision: name its output ({outputs})")
            return False
        self.error(loc, f"{where}unknown output '{name}'{ex.did_you_mean(name, self.outputs)}")
        return False

    def order(self, options: YMap, output: str, where: str) -> tuple | None:
        spec = self.pack.output(output)
        if "order" not in options:
            if spec.type in ("number", "boolean"):
                return ()
            self.error(options.loc, f"{where}needs 'order': the values of {output} from low to high"
                       + (f", e.g. [{', '.join(spec.values)}]" if spec.values else ""))
            return None
        raw = options["order"]
        loc = options.value_loc("order")
        if not isinstance(raw, list) or not raw:
            self.error(loc, f"{where}order: a list of the values of {output}, low to high (a list inside it: equal values)")
            return None
        order, seen = [], set()
        before = len(self.errors)
        for index, item in enumerate(raw):
            place = _item_loc(raw, index, loc)
            equal = tuple(str(v) for v in (item if isinstance(item, list) else [item]))
            for inner, value in enumerate(equal):
                at = _item_loc(item, inner, place) if isinstance(item, list) else place
                self.check_values(output, [value], at, f"{where}order: ")
                if value in seen:
                    self.error(at, f"{where}order: '{value}' is listed twice")
                seen.add(value)
            order.append(equal)
        left_out = [v for v in spec.values if v not in seen]
        if spec.type == "category" and left_out and len(self.errors) == before:
            self.error(loc, f"{where}order: leaves out {', '.join(repr(v) for v in left_out)}: give every value of "
                       f"{output} its place (a list inside the order for equal values)")
        return tuple(order)

    def check_values(self, output: str, values: list, loc: Location, where: str) -> None:
        spec = self.pack.output(output)
        if spec is None or spec.type != "category":
            return
        for value in values:
            if value not in spec.values:
                self.error(loc, f"{where}'{value}' is not a value of {output}{ex.did_you_mean(value, spec.values)}")

    def count(self, options: YMap, where: str) -> tuple[Any, str]:
        raw = options.get("count")
        loc = options.value_loc("count")
        text = str(raw)
        if isinstance(raw, bool) or raw is None:
            self.error(loc, f"{where}count: a number, params.NAME or a number field, feature or score")
            return None, text
        if isinstance(raw, (int, float)):
            if raw < 0 or raw != int(raw):
                self.error(loc, f"{where}count: {raw} is not a whole number of accounts")
                return None, text
            return int(raw), text
        if text.startswith("params."):
            param = self.pack.params.get(text[len("params."):])
            if param is None:
                self.error(loc, f"{where}count: unknown parameter '{text}'"
                           f"{ex.did_you_mean(text[7:], self.pack.params)}")
                return None, text
            value = param.value
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                self.error(loc, f"{where}count: '{text}' is {value!r}, not a number of accounts")
                return None, text
            return int(value), text
        if self.known_name(text, self.numbers, loc, f"{where}count: ", "a number field, feature or score"):
            return text, text
        return None, text

    def condition(self, options: YMap, key: str, where: str) -> ex.Node | None:
        text = str(options[key])
        try:
            return ex.Resolver(self.symbols, self.pack.param_values).condition(ex.parse(text))
        except ex.ExprError as exc:
            self.error(options.text_loc(key, exc.offset), f"{where}{key}: {exc.message}")
            return None

    def number(self, options: YMap, key: str, where: str, default: float) -> float | None:
        if key not in options:
            return default
        value = options[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.error(options.value_loc(key), f"{where}{key}: '{value}' is not a number")
            return None
        return float(value)

    def whole(self, options: YMap, key: str, where: str, default: int, minimum: int) -> int:
        if key not in options:
            return default
        value = options[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.error(options.value_loc(key), f"{where}{key}: '{value}' is not a whole number of at least {minimum}")
            return default
        return value


def _item_loc(items: Any, index: int, fallback: Location) -> Location:
    """Where item `index` of a YAML list stands (the list's place for a single value)."""
    locs = getattr(items, "item_locs", None)
    return locs[index] if locs and index < len(locs) else fallback
