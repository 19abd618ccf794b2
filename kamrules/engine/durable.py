"""The durable_rules engine: decision tables compiled to rulesets built from data, and run per account.

Every trap measured in ../shared/durable-rules-notes.md is guarded here, by construction:

- catch-all conditions loop forever on the engine's state fact: every compiled rule also requires
  our marker field `_kam == 1`, which only customer records carry;
- the Host's background dispatch thread: no Host is ever started; rulesets live in the C core;
- the core's JSON parser rejects exponents (`1e-05`, error 204): `to_json` writes plain decimals;
- 32-bit id hashing: every message gets a unique `id`; nothing is left pending (events are consumed,
  facts retracted right away); no batch calls;
- 32-bit name hashing: the core knows a field only by the hash of its name, so the loader refuses
  names that collide with each other or with the engine's own words, and hidden columns are named
  to collide with nothing (pack/core_traps.py);
- types: values are normalised before posting (numbers and dates as rounded floats, booleans as 1/0,
  missing values left out, so every comparison with them is false, as three-valued logic needs);
- integer division by zero (SIGFPE) and truncation: no arithmetic reaches the engine; arithmetic is
  computed by pandas into hidden columns first (`_x0`, `_x1`, …) with the language's exact semantics;
- `$in` and array literals: `in [...]` is already a disjunction of equalities;
- `$or`: the engine activates a rule once per true branch of an `$or`, so a fact can fire the same
  rule twice; matches are de-duplicated per rule (found by the engine/reference agreement test);
- swallowed action errors: actions only append to a list, and we check what they recorded;
- ruleset names register once per process: names carry the pack hash and a counter;
- compiled rulesets are never freed by the core on their own (~150 KB each, 16 MB per what-if variant
  of the default pack): they are cached by what they decide (not by the pack's hash, which an edit
  in place leaves as it was), shared by the variants that decide alike, and the least recently used
  beyond `MAX_RULESETS` are deleted from the core between evaluations (`Rulesets`); every ruleset
  fires a warm-up rule once, because deleting a state whose messages never matched crashes the core;
- 16-bit text lengths: texts over 65,535 bytes are compared on their start only, so evaluate refuses
  such cells in compared columns before either path runs (engine/stages.py, `check_compared_texts`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterable

import pandas as pd

from kamrules.language import expr as ex
from kamrules.language.comparisons import TRUE, Comparison, comparison, comparisons
from kamrules.errors import KamrulesError
from kamrules.pack import Decision, core_traps

MARKER = core_traps.MARKER
_EPOCH = dt.date(1970, 1, 1)
_OPS = {"==": None, "!=": "$neq", "<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}


class EngineError(KamrulesError):
    """The engine refused a compiled ruleset (a limit the loader did not catch)."""


# ----------------------------------------------------------------------------------------- compile


@dataclass
class CompiledDecision:
    """One decision table as a durable_rules ruleset definition plus what it needs from each account."""

    decision: Decision
    name: str  # the ruleset name, unique in the process
    definition: dict  # {rule_key: {"all": [{"m": condition}], "pri": n}} (no "run" yet)
    rule_keys: dict  # ruleset rule key -> index of the pack rule
    columns: list  # account columns the messages carry (names read + hidden columns)
    hidden: dict = field(default_factory=dict)  # hidden column -> expression tree computed by pandas
    mode: str = "post"  # "post" (first, priority) or "fact" (unique, collect)
    rule_reads: dict = field(default_factory=dict)  # rule index -> engine columns its condition reads
    constants: dict = field(default_factory=dict)  # engine column -> constants it is compared with
    exact: set = field(default_factory=set)  # columns compared with another column: never classed
    pairs: set = field(default_factory=set)  # (column, column) compared with each other


def date_number(value: Any) -> float:
    if isinstance(value, pd.Timestamp):
        value = value.date()
    if isinstance(value, dt.datetime):
        value = value.date()
    return float((value - _EPOCH).days)


class _Compiler:
    def __init__(self, taken: Iterable[str] = ()) -> None:
        self.taken = tuple(taken)  # the names the decision reads: a hidden column's hash must differ from theirs
        self.hidden: dict[ex.Node, str] = {}
        self.reads: set = set()  # engine columns read by the rule being compiled
        self.constants: dict[str, set] = {}
        self.exact: set = set()
        self.pairs: set = set()

    def rule(self, condition: ex.Node) -> dict | None:
        """A rule's condition (`not` pushed down to the comparisons) as JSON; what it compares each
        engine column with is recorded (`language/comparisons.py`: the readers' one account of it)."""
        compiled = self.condition(condition)
        for compared in comparisons(condition):
            subject = self.column(compared.subject)
            if compared.against_constant:
                self.constants.setdefault(subject, set()).add(self.constant(compared.other))
            else:
                other = self.column(compared.other)
                self.exact.update((subject, other))
                self.pairs.add((subject, other))
        return compiled

    def column(self, node: ex.Node) -> str:
        """The engine column holding a value that reads names: the name, or its hidden column."""
        return node.name if isinstance(node, ex.Name) else self.hidden[node]

    def constant(self, node: ex.Node) -> Any:
        if isinstance(node, (ex.Const, ex.Param)):
            value, vtype = node.value, node.type
        else:  # a constant expression such as -params.decline: fold it now, exactly
            value = ex.eval_value(node, {})
            vtype = ex.NUMBER
        if vtype == ex.BOOLEAN:
            return 1.0 if value else 0.0
        if vtype == ex.DATE:
            return date_number(value)
        if vtype == ex.NUMBER:
            return ex.rnd(value)
        return str(value)

    def operand(self, node: ex.Node) -> tuple[str, Any]:
        """('field', name) or ('const', value)."""
        if not ex.names_in(node):
            return "const", self.constant(node)
        if isinstance(node, ex.Name):
            self.reads.add(node.name)
            return "field", node.name
        if node not in self.hidden:
            self.hidden[node] = core_traps.hidden_name(len(self.hidden), self.taken, self.hidden.values())
        self.reads.add(self.hidden[node])
        return "field", self.hidden[node]

    def condition(self, node: ex.Node) -> dict | None:
        """JSON condition, or None for 'always true'."""
        if isinstance(node, ex.Const):
            return None if node.value else {MARKER: 0.0}  # false: a marker value no record has
        if isinstance(node, (ex.And, ex.Or)):
            return self.junction(node)
        if isinstance(node, ex.Missing):
            kind, name = self.operand(node.operand)
            return {"$ex" if node.negate else "$nex": {name: 1}}
        # a comparison, or a boolean expression used as a condition (already resolved): compared with true
        if not isinstance(node, ex.Compare):
            return self.comparison(Comparison(node, "==", TRUE))
        compared = comparison(node)
        if compared is None:  # two constants
            return None if ex.compare(node.op, self.constant(node.left), self.constant(node.right)) else {MARKER: 0.0}
        return self.comparison(compared)

    def junction(self, node: ex.And | ex.Or) -> dict | None:
        parts = [self.condition(item) for item in node.items]
        if isinstance(node, ex.And):
            parts = [p for p in parts if p is not None]
            if not parts:
                return None
            return parts[0] if len(parts) == 1 else {"$and": parts}
        if any(p is None for p in parts):
            return None
        return parts[0] if len(parts) == 1 else {"$or": parts}

    def comparison(self, compared: Comparison) -> dict:
        _, subject = self.operand(compared.subject)
        operator = _OPS[compared.op]
        if compared.against_constant:
            value = self.constant(compared.other)
            return {subject: value} if operator is None else {operator: {subject: value}}
        _, other = self.operand(compared.other)
        # field-to-field: both must be present (a missing side makes the comparison unknown)
        return {"$and": [{"$ex": {subject: 1}}, {"$ex": {other: 1}}, {operator or "$eq": {subject: {"$m": other}}}]}


_counter = itertools.count()


def compile_decision(decision: Decision, pack_hash: str) -> CompiledDecision:
    compiler = _Compiler(decision.reads)
    definition: dict = {}
    rule_keys: dict = {}
    rule_reads: dict = {}
    for rank, index in enumerate(decision.policy.order(decision)):
        rule = decision.rules[index]
        compiler.reads = set()
        condition = compiler.rule(ex.push_not(rule.when))
        rule_reads[index] = sorted(compiler.reads)
        guarded = {MARKER: 1.0} if condition is None else {"$and": [{MARKER: 1.0}, condition]}
        key = f"r{index}"
        definition[key] = {"all": [{"m": guarded}], "pri": rank + 1}
        rule_keys[key] = index
    columns = sorted(set(decision.reads) | set(compiler.hidden.values()))
    mode = "post" if decision.policy.salience else "fact"  # post: only the first by salience fires
    name = f"kam_{pack_hash}_{decision.id}_{next(_counter)}"
    return CompiledDecision(decision, name, definition, rule_keys, columns,
                            {v: k for k, v in compiler.hidden.items()}, mode,
                            rule_reads, compiler.constants, compiler.exact, compiler.pairs)


def compile_rule(compiled: CompiledDecision, index: int) -> CompiledDecision:
    """One rule of a compiled decision as a ruleset of its own (posted: it matches or it does not)."""
    key = f"r{index}"
    definition = {key: dict(compiled.definition[key], pri=1)}
    name = f"{compiled.name}_r{index}"
    return CompiledDecision(compiled.decision, name, definition, {key: index}, compiled.rule_reads[index],
                            compiled.hidden, "post")


# -------------------------------------------------------------------------------------------- core


def to_json(value: Any) -> str:
    """JSON the engine's parser reads. Its parser rejects exponents (1e-05, 1e+16: error 204), which
    Python writes for small and large floats, so numbers are written in plain decimal notation."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise EngineError("a number that is not finite cannot reach the engine")
        text = f"{value:.{ex.NDIGITS}f}".rstrip("0")
        return text + "0" if text.endswith(".") else text
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k), ensure_ascii=False)}:{to_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(to_json(v) for v in value) + "]"
    if value is None:
        return "null"
    raise EngineError(f"cannot send {type(value).__name__} to the engine")




class DecisionRunner:
    """Runs one compiled decision for one account at a time and returns the matching rule indexes.

    Rulesets and messages go straight to the engine's C core (`durable_rules_engine`, the module
    durable_rules' own Host drives): the Host's Python layer (closures, state copies, two JSON round
    trips per action, a timer thread) costs several times more than the matching itself, and its JSON
    has exponents the core cannot parse. Our actions only record the rule: no state to write back.
    """

    def __init__(self, compiled: CompiledDecision):
        import durable_rules_engine

        self.compiled = compiled
        self._core = durable_rules_engine
        definition = {**compiled.definition, _WARM_UP: _WARM_UP_RULE}
        try:
            self._handle = durable_rules_engine.create_ruleset(compiled.name, to_json(definition))
        except durable_rules_engine.error as exc:  # limits the loader did not catch
            raise EngineError(
                f"the engine refused decision '{compiled.decision.id}': {exc}; simplify its rules "
                "(fewer comparisons per rule, fewer rules) or split it"
            ) from None
        self._warm_up()
        self._index = dict(compiled.rule_keys)
        self._assert = durable_rules_engine.assert_event if compiled.mode == "post" else durable_rules_engine.assert_fact
        self._ids = itertools.count()

    def _warm_up(self) -> None:
        """Fire the warm-up rule once. The core's state "0" is created by the first message, but its
        action context is set only when an action runs: deleting a state whose messages never matched
        frees a garbage pointer (a segmentation fault, measured). After one action it is clean."""
        core, handle = self._core, self._handle
        result = core.assert_event(handle, f'{{"id":"{_WARM_UP}","{MARKER}":2.0}}')
        if result[0] != 0 or not core.start_action_for_state(handle, result[1]) \
                or core.complete_and_start_action(handle, result[1]) is not None:  # pragma: no cover - the core changed
            raise EngineError(f"decision '{self.compiled.decision.id}': the engine did not run its warm-up rule")

    def close(self) -> None:
        """Delete the ruleset from the core, freeing its memory. The core reuses a deleted handle for
        the next ruleset, so a closed runner refuses to run rather than ask another ruleset."""
        if self._handle is not None:
            handle, self._handle = self._handle, None
            try:  # the core's deleteRuleset frees the state pool but not what each state allocated
                self._core.delete_state(handle, "0")  # (our messages carry no sid: all live in state "0")
            except self._core.error:  # a ruleset never asked has no state
                pass
            self._core.delete_ruleset(handle)

    def run(self, body: str) -> list[int]:
        """Rule indexes (pack order) matching one account, given its message body from
        `message_values`. Every message gets a unique id and the customer-record marker."""
        core, handle = self._core, self._handle
        if handle is None:
            raise EngineError(f"decision '{self.compiled.decision.id}': its ruleset was freed")  # pragma: no cover
        payload = f'{{"id":"m{next(self._ids)}","{MARKER}":1.0{"," if body else ""}{body}}}'
        try:
            result = self._assert(handle, payload)
        except core.error as exc:
            raise EngineError(f"the engine rejected an account for decision '{self.compiled.decision.id}': {exc}") from None
        if result[0] == 1:  # no rule matched: nothing was stored
            return []
        if result[0] != 0:
            raise EngineError(f"the engine could not take an account for decision "
                              f"'{self.compiled.decision.id}' (code {result[0]})")
        fired: list[int] = []
        state_handle = result[1]
        action = core.start_action_for_state(handle, state_handle)
        if action:
            pending = action[1]
            while pending:
                fired.append(self._index[_rule_key(pending)])
                pending = core.complete_and_start_action(handle, state_handle)
        if self.compiled.mode == "post":
            return fired
        core.retract_fact(handle, payload)
        # an `$or` whose branches both hold activates the rule once per branch: count it once
        return sorted(set(fired))


def _rule_key(action_json: str) -> str:
    """The rule key of an action message '{"r3": {...}}' without decoding all of it."""
    end = action_json.index('"', 2)
    return action_json[2:end]


# A rule only the warm-up message (marker 2) matches, added to every ruleset (`DecisionRunner._warm_up`):
# customer records carry the marker 1, so it never fires for them.
_WARM_UP = "_w"
_WARM_UP_RULE = {"all": [{"m": {MARKER: 2.0}}], "pri": 65535}

MAX_RULESETS = 256  # rulesets kept in the core between evaluations (~230 KB each with its state: ~60 MB)


class Rulesets:
    """Compiled rulesets kept in the core, by what they decide: a decision's fingerprint (its whole
    content: rules, bound params, outputs — what `repr` shows), not the pack's hash, so a library user
    who edits a pack in place gets new rulesets, and what-if variants share those of the decisions
    they leave alone. The core never frees a ruleset itself; beyond `limit` the least recently used
    are deleted, but only between evaluations (`in_use`), never under a runner being used. The
    process's engine holds one (`Engine`, engine/decide.py)."""

    def __init__(self, limit: int = MAX_RULESETS) -> None:
        self.limit = limit
        self.runners: OrderedDict = OrderedDict()
        self.active = 0  # evaluations running now (nested, or in other threads)
        self.prints: dict = {}  # id(decision) -> (the decision, its fingerprint), for one evaluation
        # (decision id, rule index, message) -> whether the rule matches: kept while a chunked run lasts,
        # so a situation is asked once for the whole portfolio, not once per chunk (engine/chunks.py)
        self.answers: dict | None = None

    def fingerprint(self, decision: Decision) -> str:
        known = self.prints.get(id(decision))
        if known is None or known[0] is not decision:
            known = (decision, hashlib.sha256(repr(decision).encode("utf-8")).hexdigest())
            if self.active:  # (remembered while an evaluation runs; found anew by the next one)
                self.prints[id(decision)] = known
        return known[1]

    def runner(self, decision: Decision, pack_hash: str) -> DecisionRunner:
        """The runner of a decision's ruleset (compiled the first time)."""
        key = ("decision", decision.id, self.fingerprint(decision))
        return self._kept(key, lambda: DecisionRunner(compile_decision(decision, pack_hash)))

    def rule_runner(self, decision: Decision, pack_hash: str, index: int) -> DecisionRunner:
        """The runner of one rule alone (the situations path asks each rule separately)."""
        key = ("rule", decision.id, self.fingerprint(decision), index)
        return self._kept(key, lambda: DecisionRunner(compile_rule(self.runner(decision, pack_hash).compiled, index)))

    def _kept(self, key: tuple, make) -> DecisionRunner:
        runner = self.runners.get(key)
        if runner is None:
            runner = self.runners[key] = make()
        else:
            self.runners.move_to_end(key)
        return runner

    @property
    def alive(self) -> int:
        """How many compiled rulesets are kept in the engine's core."""
        return len(self.runners)

    @contextmanager
    def in_use(self):
        """`with rulesets.in_use():` around everything that runs them: none is freed meanwhile."""
        self.active += 1
        try:
            yield
        finally:
            self.active -= 1
            if not self.active:
                self.prints.clear()
                self.trim()

    def trim(self, limit: int | None = None) -> None:
        """Delete the least recently used rulesets beyond `limit` (default: the bound), between evaluations."""
        limit = self.limit if limit is None else limit
        while self.active == 0 and len(self.runners) > limit:
            self.runners.popitem(last=False)[1].close()


# ------------------------------------------------------------------------------------------ values


def _number_json(value: float) -> str:
    text = repr(value)
    if "e" in text or "n" in text:  # exponent (or inf/nan, which never get here: rounded, checked)
        return to_json(value)
    return text


def message_values(frame: pd.DataFrame, columns: list, types: dict) -> list[str]:
    """Per account, the JSON body (without braces) of the values the engine compares: normalised
    (numbers and dates as rounded floats, booleans 1/0) with missing values left out. Encoded a column
    at a time, because encoding per message in Python costs more than the engine's matching."""
    fragments = message_fragments(frame, columns, types)
    return [",".join(f for f in row if f is not None) for row in zip(*fragments)] if fragments \
        else [""] * len(frame)


def message_fragments(frame: pd.DataFrame, columns: list, types: dict) -> list[list]:
    """Per column, each account's `"name":value` part of its message body (None when missing)."""
    fragments: list[list] = []
    for column in columns:
        series = frame[column]
        vtype = types.get(column, ex.NUMBER)
        key = json.dumps(column) + ":"
        if vtype == ex.DATE:
            values = [None if pd.isna(v) else key + _number_json(date_number(v)) for v in series]
        elif vtype == ex.BOOLEAN:
            values = [None if v is None or v is pd.NA or (isinstance(v, float) and v != v) else key + ("1.0" if v else "0.0")
                      for v in series.astype(object)]
        elif vtype == ex.NUMBER:
            numbers = ex.round_series(pd.to_numeric(series, errors="coerce")).tolist()
            values = [None if v != v else key + _number_json(v) for v in numbers]
        else:
            values = [None if ex.is_missing(v) else key + json.dumps(str(v), ensure_ascii=False)
                      for v in series.astype(object)]
        fragments.append(values)
    return fragments
