"""Decide each distinct situation once: the engine is asked per situation, the answer broadcast.

durable_rules' answer for a rule depends only on where each value the rule reads falls relative to
the constants the decision compares that column with: missing, below the lowest constant, equal to a
constant, between two constants, above the highest. Every account is reduced to those *classes*;
accounts whose classes agree on a rule's columns are one situation for that rule. Each rule is compiled
into a ruleset of its own, durable_rules is asked once per situation with a real account of that
situation (the first one), and its answer is broadcast to every account of the situation. The hit
policy is then applied once per distinct combination (`hitpolicy.reduce_masks`), so the masks are
exactly those the per-account engine returns (the differential test in tests/test_situations.py checks it).

How it stays fast for a million accounts (docs/performance.md):

- Each column is *prepared* once for every decision that reads it (`Coded`): a compact code per
  account — a number's class among all the constants any of those decisions compares it with, a text's
  or date's number among its distinct values — and what each code stands for. A decision classes a
  column by a table over those few codes, never by the million values again.
- A decision combines its columns' classes into one key per account (mixed radix, in the narrowest
  integer type that holds it) and finds its distinct *decision situations* once; everything per rule
  group — the group's situations, the engine's answers, the hit policy — is then worked out on those few
  situations, and each account gets its match mask by one lookup.
- A decision's outputs stay coded (the value of each distinct match mask, and each account's mask code)
  for the later decisions that read them; the per-account column is built only where an expression needs it.

Two number (or date, boolean) columns compared with each other (`sales > sales_prev`) add one more
class per account to the rules reading both: the sign of their difference (less, equal, greater, either
missing), on the numbers the engine receives; each column is still classed against its own constants.
Any other column compared with a column (text with text) is not classed: its exact value is the class.
Values the engine refuses (infinite numbers) are classes of their own, so their account is the one
sent and the engine's error is raised as before.
"""

from __future__ import annotations

import bisect
import ctypes
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from kamrules.engine import hitpolicy
from kamrules.engine.durable import CompiledDecision, date_number, message_fragments, rule_runner_for
from kamrules.language import expr as ex
from kamrules.pack import Decision

_KEY_LIMIT = 2 ** 62  # a combined key stays below this, or it is renumbered first
_SLACK = 1024  # keys up to 2 × accounts + this are looked up in tables by key; more are hashed
_FEW_CUTS = 8  # up to this many constants, counting comparisons beats a binary search per account


def _engine_numbers(series: pd.Series, vtype: str, out: np.ndarray | None = None) -> np.ndarray | None:
    """The numbers the engine receives for a column (NaN = missing), or None for strings. `out`: where
    to round a float column's numbers (a buffer reused column after column: no fresh memory)."""
    if vtype == ex.NUMBER and out is not None and series.dtype == np.float64 and len(out) == len(series):
        values = series.to_numpy()
        with np.errstate(over="ignore", invalid="ignore"):
            np.round(values, ex.NDIGITS, out=out)
        if np.isinf(out).any():  # as round_series: |x| > ~1.8e299 overflows x * 10**9 and stays as it is
            np.copyto(out, values, where=np.isinf(out) & np.isfinite(values))
        return out
    if vtype == ex.NUMBER:
        return ex.round_series(pd.to_numeric(series, errors="coerce")).to_numpy(dtype="float64")
    if vtype in (ex.DATE, ex.BOOLEAN):
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        table = _unique_numbers(uniques, vtype)
        return np.where(codes < 0, np.nan, table[np.maximum(codes, 0)] if len(table) else np.nan)
    return None


def _unique_numbers(uniques, vtype: str) -> np.ndarray:
    """The engine's number for each distinct date or boolean."""
    if vtype == ex.DATE:
        return np.array([date_number(v) for v in uniques], dtype="float64")
    return np.array([1.0 if v else 0.0 for v in uniques], dtype="float64")


def _unsigned(top: int):
    """The smallest unsigned integer type that holds 0 … top."""
    return next(k for k in (np.uint8, np.uint16, np.uint32, np.uint64) if top <= np.iinfo(k).max)


def _shifted(codes: np.ndarray, size: int) -> np.ndarray:
    """Codes -1 … size-1 as 0 … size (0 = missing) in the smallest unsigned type: one byte per account
    for most columns, not eight."""
    kind = _unsigned(size)
    if codes.dtype.itemsize == np.dtype(kind).itemsize:
        codes = codes.view(np.dtype(kind).str.replace("u", "i"))
        codes += 1
        return codes.view(kind)
    shifted = codes.astype(kind)  # (-1 wraps round to the top) …
    shifted += kind(1)  # … and back to 0
    return shifted


def number_codes(numbers: np.ndarray, cuts) -> tuple[np.ndarray, int, bool]:
    """(each engine number's class among the constants `cuts` as a code, number of codes, whether a
    value is infinite). Code 0: missing; 1 + 2 × (constants below the value) + (1 if it equals one) for
    a finite value; +inf and -inf codes of their own after those (the engine refuses them).

    Up to `_FEW_CUTS` constants the code is counted by whole-array comparisons in one byte per
    account — (x > c) + (x ≥ c) is 2 below a value, 1 at it, and NaN fails them all — otherwise found
    by a binary search."""
    cuts = np.array(sorted(cuts), dtype="float64")
    top = 2 * len(cuts) + 1  # finite classes
    if len(cuts) <= _FEW_CUTS:
        codes = np.zeros(len(numbers), dtype=np.uint8)
        hit = np.empty(len(numbers), dtype=bool)
        np.add(codes, np.equal(numbers, numbers, out=hit), out=codes, casting="unsafe")  # 1: not missing
        for cut in cuts:
            np.add(codes, np.greater(numbers, cut, out=hit), out=codes, casting="unsafe")
            np.add(codes, np.greater_equal(numbers, cut, out=hit), out=codes, casting="unsafe")
    else:
        with np.errstate(invalid="ignore"):
            position = np.searchsorted(cuts, numbers, side="left")
            codes = (2 * position + 1).astype(_unsigned(top + 2))
            codes += cuts[np.minimum(position, len(cuts) - 1)] == numbers
        codes[np.isnan(numbers)] = 0
    infinite = bool(np.isinf(numbers).any())
    if infinite:
        codes[numbers == np.inf] = top + 1
        codes[numbers == -np.inf] = top + 2
    return codes, top + 2, infinite


@dataclass
class Coded:
    """A column as the engine sees it, compactly: a code per account (0 = missing, k + 1 = the k-th
    value or class, in the smallest unsigned type) and what the codes stand for — either `values` (the
    engine value of each: numbers, or texts) or `cuts` (number classes among these sorted constants,
    as `number_codes` numbers them)."""

    codes: np.ndarray
    size: int  # codes run 0 … size
    values: np.ndarray | None = None
    cuts: tuple = ()

    def table(self, constants: set, exact: bool) -> tuple[np.ndarray, int]:
        """(a decision's class for each code, -1 for code 0 (missing); number of classes its codes reach),
        the decision comparing the column with `constants` (or with another column: `exact`)."""
        table = np.empty(self.size + 1, dtype=np.int64)
        table[0] = -1
        if self.values is None:  # number classes among `cuts`; the decision's constants are among them
            cuts = sorted(constants)
            for code in range(self.size):
                table[code + 1] = _class_between(self.cuts, code, cuts)
        elif exact or not all(isinstance(c, float if self.values.dtype == np.float64 else str) for c in constants):
            table[1:] = np.arange(self.size)  # every value its own class
        elif self.values.dtype == np.float64:
            table[1:] = number_codes(self.values, constants)[0].astype(np.int64) - 1
        else:
            cuts = sorted(constants)
            for code, value in enumerate(self.values):
                text = str(value)
                position = bisect.bisect_left(cuts, text)
                table[code + 1] = 2 * position + (position < len(cuts) and cuts[position] == text)
        return table, int(table.max()) + 1  # the classes its values reach (a key's radix: no room for others)


def _class_between(union: tuple, code: int, cuts: list) -> int:
    """The class among `cuts` of the values whose class among `union` (which holds every cut) is `code`."""
    top = 2 * len(cuts) + 1
    if code >= 2 * len(union) + 1:  # +inf, -inf
        return top + (code - 2 * len(union) - 1)
    if code % 2:  # equal to union[i]
        value = union[code // 2]
        position = bisect.bisect_left(cuts, value)
        return 2 * position + (position < len(cuts) and cuts[position] == value)
    # strictly between union[i-1] and union[i]: the cuts below it are those up to union[i-1]
    return 2 * (bisect.bisect_right(cuts, union[code // 2 - 1]) if code else 0)


def prepare(series: pd.Series, vtype: str, constants: set | None, scratch: np.ndarray | None = None) -> Coded:
    """A column coded for every decision that reads it. `constants`: all the constants those decisions
    compare it with, when they all compare it only with number constants (its values are then classed
    among them once); None when one of them needs its exact values. `scratch`: a float buffer the size
    of the column for its engine numbers while they are classed."""
    numbers = None
    if vtype == ex.BOOLEAN and isinstance(series.dtype, pd.BooleanDtype):  # no hashing: the bits are the codes
        array = series.array
        codes = array._data.astype(np.uint8)
        codes += 1
        codes[array._mask] = 0
        return Coded(codes, 2, np.array([0.0, 1.0]))
    if vtype == ex.NUMBER:
        classed = constants is not None and all(isinstance(c, float) for c in constants)
        numbers = _engine_numbers(series, vtype, scratch if classed else None)
        if classed:
            codes, size, infinite = number_codes(numbers, constants)
            return Coded(codes, size if infinite else size - 2, cuts=tuple(sorted(constants)))  # (no room for ±inf unless seen)
        codes, uniques = pd.factorize(numbers, use_na_sentinel=True)
        return Coded(_shifted(codes, len(uniques)), len(uniques), np.asarray(uniques, dtype="float64"))
    if vtype == ex.DATE and series.dtype == "datetime64[ns]" and len(series) > _FEW_ROWS:
        codes, found = _factorize(series.to_numpy().view(np.int64))  # NaT is a value: made missing below
        _, firsts = _first_accounts(codes, found)
        stamps = series.iloc[firsts].tolist()
        numbers = np.array([np.nan if v is pd.NaT else date_number(v) for v in stamps], dtype="float64")
        missing = np.isnan(numbers)
        if not missing.any():
            return Coded(_shifted(codes, found), found, numbers)
        shift = np.cumsum(~missing) * ~missing  # 0 for NaT, else the number of its value among the others
        return Coded(np.take(shift.astype(_unsigned(found)), codes, mode="clip"), found - 1, numbers[~missing])
    if vtype in (ex.DATE, ex.BOOLEAN):
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        return Coded(_shifted(codes, len(uniques)), len(uniques), _unique_numbers(uniques, vtype))
    shared = _shared_texts(series)
    if shared is not None:
        return shared
    if isinstance(series.dtype, pd.StringDtype):  # (Arrow-backed or not: hashed as it is, not as objects)
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
    else:
        codes, uniques = pd.factorize(series.astype(object), use_na_sentinel=True)
    values = np.empty(len(uniques), dtype=object)
    values[:] = list(uniques)
    return Coded(_shifted(codes, len(uniques)), len(uniques), values)


_FEW_ROWS = 65_536  # below this, pandas' hashing is as quick as anything
_FEW_OBJECTS = 4_096


def _shared_texts(series: pd.Series) -> Coded | None:
    """A text column coded by the identity of its cells' objects, when they share a few (the reader
    converts each distinct text once, and derived columns repeat their few constants): the object
    pointers are hashed as integers (5 ms for a million cells instead of 25–60 ms hashing strings), and
    only the few objects are compared by value. None when the column is short, not a plain object
    array, or holds many distinct objects."""
    if len(series) <= _FEW_ROWS or series.dtype != object:
        return None
    values = series.to_numpy()
    if not values.flags.c_contiguous:
        return None
    pointers = np.ctypeslib.as_array((ctypes.c_size_t * len(values)).from_address(values.ctypes.data))
    if _factorize(pointers[:_FEW_ROWS])[1] > _FEW_OBJECTS:  # not shared (a glance at the first rows)
        return None
    codes, found = _factorize(pointers)
    del pointers
    if found > _FEW_OBJECTS:
        return None
    _, firsts = _first_accounts(codes, found)
    number = np.zeros(found, dtype=np.int64)  # each object's code: 0 missing, k + 1 for the k-th distinct value
    distinct: dict = {}
    try:
        for at, value in enumerate(values[firsts]):
            number[at] = 0 if (pd.api.types.is_scalar(value) and pd.isna(value)) else distinct.setdefault(value, len(distinct)) + 1
    except TypeError:  # an unhashable cell: left to pandas, which says so
        return None
    texts = np.empty(len(distinct), dtype=object)
    texts[:] = list(distinct)
    return Coded(np.take(number.astype(_unsigned(len(distinct))), codes, mode="clip"), len(distinct), texts)


def distinct_codes(values: list) -> tuple[np.ndarray, list]:
    """(the code of each value, -1 for None; the distinct values in order of first appearance), for
    hashable values: the few values of a decision's output, one per distinct mask."""
    distinct = list(dict.fromkeys(v for v in values if v is not None))
    position = {value: i for i, value in enumerate(distinct)}
    return np.array([-1 if v is None else position[v] for v in values], dtype=np.int32), distinct


# ----------------------------------------------------------------------------------- situations


def combine(parts: list[tuple[np.ndarray, np.ndarray | None, int]], count: int) -> tuple[np.ndarray, int]:
    """(one key per account, the number of possible keys) from each part's (codes 0 … size, a table
    giving code k + 1 its class -1 … n-1 (code 0, missing: -1), or None when the codes are the classes;
    n): accounts get the same key exactly when they have the same classes. Classes are combined by
    arithmetic (mixed radix), looked up only where codes and classes differ; the key is built in the
    narrowest unsigned type that holds it, and renumbered when it would outgrow 64 bits."""
    key = np.zeros(count, dtype=np.uint8)
    width = 1
    spare: dict = {}
    for codes, table, number in sorted(parts, key=lambda part: part[2]):
        looked_up = table is not None and not _is_identity(table)
        radix = number + 1
        if width > 1 and width * radix >= _KEY_LIMIT:  # renumbered: the keys present, 0 … n-1
            key, width = _renumber(key, width)
        width *= radix
        kind = _unsigned(width - 1)
        if key.dtype != kind:
            key = key.astype(kind)
        if kind not in spare:
            spare[kind] = np.empty(count, dtype=kind)
        below = width // radix
        if looked_up:
            step = ((table + 1) * below).astype(kind)  # (class + 1) × the radix below it
            key += np.take(step, codes, out=spare[kind], mode="clip")  # (codes are in range: no checks)
        elif below == 1:
            np.add(key, codes, out=key, casting="unsafe")  # (codes are never negative)
        else:
            key += np.multiply(codes, below, out=spare[kind], dtype=kind, casting="unsafe")
    return key, width


def _is_identity(table: np.ndarray) -> bool:
    """Whether a class table gives code k + 1 the class k (its codes are its classes)."""
    return bool((table[1:] == np.arange(len(table) - 1)).all())


def _renumber(key: np.ndarray, width: int) -> tuple[np.ndarray, int]:
    """The keys present numbered 0 … n-1 (in key order, or when the keys could be many more than the
    accounts, in order of appearance), and n."""
    if width > 8 * len(key) + 4096:
        return _factorize(key)
    present = np.zeros(width, dtype=bool)
    present[key] = True
    slots = np.flatnonzero(present)
    number = np.zeros(width, dtype=_unsigned(len(slots)))
    number[slots] = np.arange(len(slots))
    return number[key], len(slots)


def situations(key: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(each account's situation number, the first account of each situation), situations numbered
    in order of their first account. Few possible keys: one scatter over the accounts instead of
    hashing them; otherwise hashing, which numbers in order of appearance."""
    count = len(key)
    if count == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if width > 2 * count + _SLACK:
        key, width = _factorize(key)
    slots, firsts = _first_accounts(key, width)
    number = np.zeros(width, dtype=_unsigned(len(slots)))
    number[slots] = np.arange(len(slots))
    return np.take(number, key, mode="clip"), firsts


_POSITIONS: list = [np.arange(0)]


def _positions(count: int) -> np.ndarray:
    """0 … count-1, made once per portfolio size (every decision uses it)."""
    if len(_POSITIONS[0]) != count:
        _POSITIONS[0] = np.arange(count)
        _POSITIONS[0].flags.writeable = False
    return _POSITIONS[0]


def _pair_class(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Where `left` stands against `right`, per account: less, equal, greater, either missing (or no order)."""
    codes = np.full(len(left), 4, dtype=np.uint8)  # (as codes 1 … 4: never missing)
    with np.errstate(invalid="ignore"):
        codes[left < right] = 1
        codes[left == right] = 2
        codes[left > right] = 3
    return codes


def _exact_and_signed(compiled: CompiledDecision, types: dict) -> tuple[set, list]:
    """(columns classed by exact value, number pairs classed by the sign of their difference)."""
    numeric = (ex.NUMBER, ex.DATE, ex.BOOLEAN)
    pairs = sorted(getattr(compiled, "pairs", set()))
    signed = [p for p in pairs if all(types.get(c, ex.NUMBER) in numeric for c in p)]
    exact = {c for p in pairs if p not in signed for c in p}
    if not pairs:
        exact = set(compiled.exact)
    return exact, signed


class Columns:
    """The columns decisions read, each prepared once (`Coded`) for every decision that reads it and
    let go after the last of them; a decision's outputs kept as the value of each distinct match mask
    and each account's mask code, made into a column only where an expression or a pair needs it."""

    def __init__(self, frame: pd.DataFrame, types: dict, compiled: list[CompiledDecision]):
        self.frame, self.types, self.compiled = frame, types, compiled
        self.now = 0  # the decision being decided
        # buffers reused decision after decision (fresh memory costs more than the work on it):
        self.scratch = np.empty(len(frame), dtype="float64")  # engine numbers while a column is classed
        self.other = np.empty(len(frame), dtype="float64")  # … and the other side of a pair
        self.index = np.empty(len(frame), dtype=np.intp)  # a key as numpy indexes with (no conversion each time)
        self._hidden: dict = {}  # expression -> its column, for the next decision that computes the same
        self._coded: dict = {}
        self._outputs: dict = {}  # name -> (values per mask code, mask code per account, kind)

    def set_output(self, name: str, values: list, codes: np.ndarray, kind: str) -> None:
        self._coded.pop(name, None)
        self._outputs[name] = (values, codes, kind)
        for node in [n for n in self._hidden if name in ex.names_in(n)]:
            del self._hidden[node]

    def hidden(self, nodes: dict) -> dict:
        """A decision's hidden columns (arithmetic by pandas, `ex.eval_vector`), each computed once for
        the decisions that compute the same expression over the same columns."""
        reading = _Reading(self, {})
        for column, node in nodes.items():
            if node not in self._hidden:
                self._hidden[node] = ex.eval_vector(node, reading)
            reading.hidden[column] = self._hidden[node]
        return reading.hidden

    def constants(self, name: str) -> set | None:
        """Every constant the decisions from now on compare `name` with, until one sets it anew —
        or None when one of them needs its exact values."""
        union: set = set()
        for compiled in self.compiled[self.now:]:
            if name in compiled.columns and name not in compiled.hidden:
                found = compiled.constants.get(name, set())
                if name in _exact_and_signed(compiled, self.types)[0] or not all(isinstance(c, float) for c in found):
                    return None
                union |= found
            if name in compiled.decision.outputs or name == compiled.decision.count_name:
                break
        return union

    def coded(self, name: str) -> Coded:
        if name not in self._coded:
            vtype = self.types.get(name, ex.NUMBER)
            if name in self._outputs:  # the few values prepared, then taken per account
                values, codes, kind = self._outputs[name]
                few = prepare(_broadcast(values, np.arange(len(values)), kind), vtype, self.constants(name))
                self._coded[name] = Coded(few.codes[codes], few.size, few.values, few.cuts)
            else:
                self._coded[name] = prepare(self.frame[name], vtype, self.constants(name), self.scratch)
        return self._coded[name]

    def column(self, name: str, positions: np.ndarray | None = None) -> pd.Series:
        """The column (at `positions`) as the per-account engine path holds it."""
        if name in self._outputs:
            values, codes, kind = self._outputs[name]
            at = codes if positions is None else codes[positions]
            return _broadcast(values, at, kind, None if positions is None else pd.RangeIndex(len(positions)))
        series = self.frame[name]
        return series if positions is None else series.take(positions)

    def is_output(self, name: str) -> bool:
        return name in self._outputs

    def forget(self, names) -> None:
        for name in names:
            self._coded.pop(name, None)


class _Reading:
    """What an expression reads: the facts, earlier decisions' outputs (made whole for it), hidden columns."""

    def __init__(self, columns: Columns, hidden: dict):
        self.columns, self.hidden, self.index = columns, hidden, columns.frame.index

    def __getitem__(self, name: str) -> pd.Series:
        return self.hidden[name] if name in self.hidden else self.columns.column(name)


def _broadcast(values: list, codes: np.ndarray, kind: str, index: pd.Index | None = None) -> pd.Series:
    """A column from one value per distinct mask and each account's mask code (see evaluate.broadcast)."""
    from kamrules.engine.evaluate import broadcast

    return broadcast(values, codes, kind, index)


def decide_decision(decision: Decision, compiled: CompiledDecision, pack_hash: str, hidden: dict,
                    types: dict, columns: Columns) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(each account's match mask as the per-account engine leaves it, each account's mask code, the
    distinct masks, engine calls made). `hidden`: the decision's hidden columns; `columns` the rest.

    Per rule group (the rules that read the same columns): each account's key of the group's classes,
    the group's situations asked once, each account's *answer* (which of the group's rules match) taken
    by key. The decision's answer is then the combination of its groups' answers, whose few distinct
    combinations get their match masks and hit policy once."""
    count = len(columns.frame)
    if count == 0:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.uint8), np.zeros(0, dtype=np.uint64), 0
    exact, signed = _exact_and_signed(compiled, types)
    parts: dict = {}  # column -> (its classes per account as codes 0 = missing, None, number of classes)
    for column in compiled.columns:
        if column in compiled.hidden:  # this decision's own (recomputed per decision, same names)
            constants = compiled.constants.get(column, set())
            exact_here = column in exact or not all(isinstance(c, float) for c in constants)
            coded = prepare(hidden[column], types.get(column, ex.NUMBER), None if exact_here else constants,
                            columns.scratch)
        else:
            coded = columns.coded(column)
        table, number = coded.table(compiled.constants.get(column, set()), column in exact)
        if _is_identity(table):  # its codes are its classes
            parts[column] = (coded.codes, None, number)
        else:  # looked up once for all the groups that read it
            parts[column] = (np.take((table + 1).astype(_unsigned(number)), coded.codes, mode="clip"), None, number)
    for pair in signed:
        left, right = (_engine_numbers(hidden[c] if c in hidden else columns.column(c), types.get(c, ex.NUMBER), out)
                       for c, out in zip(pair, (columns.scratch, columns.other)))
        parts[pair] = (_pair_class(left, right), None, 4)
    groups: dict[tuple, list[int]] = {}
    for index in range(len(decision.rules)):
        groups.setdefault(tuple(compiled.rule_reads[index]), []).append(index)
    reads = {names: list(names) + [p for p in signed if set(p) <= set(names)] for names in groups}  # (pairs too)

    found = []  # per rule group: its columns, rules, cluster, each cluster situation's group situation, accounts asked
    clustered = []  # per cluster: key per account, number of keys, keys present, number of situations
    for cluster in _clusters([reads[names] for names in groups], {c: part[2] + 1 for c, part in parts.items()}):
        key, width = combine([parts[c] for c in cluster], count)
        if width > 2 * count + _SLACK:  # too many possible keys for a table by key: the keys present
            key, width = _factorize(key)
        np.copyto(columns.index, key, casting="unsafe")
        slots, firsts = _first_accounts(columns.index, width)
        clustered.append((key, width, slots, len(firsts)))
        at_firsts = {c: parts[c][0][firsts] for c in cluster}  # the cluster's situations' classes
        for names, indexes in groups.items():
            if set(reads[names]) <= set(cluster) and not any(names == f[0] for f in found):
                in_group, group_first = situations(*combine([(at_firsts[c], None, parts[c][2]) for c in reads[names]],
                                                            len(firsts)))
                found.append((names, indexes, len(clustered) - 1, in_group, firsts[group_first]))

    # The accounts asked, each encoded once for all the groups that ask it
    asked_accounts = np.unique(np.concatenate([accounts for *_, accounts in found])) if found else np.zeros(0, dtype=np.int64)
    rows = {c: (hidden[c].take(asked_accounts) if c in hidden else columns.column(c, asked_accounts)).reset_index(drop=True)
            for c in compiled.columns}
    fragments = dict(zip(compiled.columns, message_fragments(rows, compiled.columns, types)))
    asked = 0
    matched = [np.zeros(situations_count, dtype=np.uint64) for *_, situations_count in clustered]
    for names, indexes, cluster, in_group, accounts in found:
        at = np.searchsorted(asked_accounts, accounts).tolist()
        texts = [fragments[c] for c in names]
        bodies = [",".join(f for f in (text[i] for text in texts) if f is not None) for i in at]
        answers = np.zeros(len(bodies), dtype=np.uint64)  # per group situation: the bits of the group's rules
        for index in indexes:
            runner = rule_runner_for(decision, pack_hash, index)
            hits = np.fromiter((bool(runner.run(body)) for body in bodies), dtype=bool, count=len(bodies))
            answers[hits] |= np.uint64(1) << np.uint64(index)
            asked += len(bodies)
        matched[cluster] |= answers[in_group]
    answered = []  # per cluster: (each account's answer code, the cluster's distinct answers)
    for (key, width, slots, _), answers in zip(clustered, matched):
        answer_of, distinct = pd.factorize(answers)
        by_key = np.zeros(width, dtype=_unsigned(len(distinct)))
        by_key[slots] = answer_of
        np.copyto(columns.index, key, casting="unsafe")
        answered.append((np.take(by_key, columns.index, mode="clip"), np.asarray(distinct, dtype=np.uint64)))
    del clustered

    # The decision: the distinct combinations of its clusters' answers, each decided once
    combination, width, matched = _combinations(answered, count, columns.index)
    matched = hitpolicy.reduce_masks(decision, matched)
    mask_of, masks = pd.factorize(matched)  # the few distinct masks
    masks = np.asarray(masks, dtype=np.uint64)
    codes = np.take(mask_of.astype(_unsigned(len(masks))), combination, mode="clip")
    return np.take(masks, codes, mode="clip"), codes, masks, asked


def _combinations(answered: list, count: int, index: np.ndarray) -> tuple[np.ndarray, int, np.ndarray]:
    """(each account's combination of its clusters' answers, number of combinations, the rules each
    combination matches). The combinations present are read off the key's digits, not found per account."""
    if len(answered) == 1:
        codes, distinct = answered[0]
        return codes, len(distinct), distinct.copy()
    parts = [(codes, None, len(distinct) - 1) for codes, distinct in answered]
    radixes = [len(distinct) for _, distinct in answered]
    if int(np.prod(radixes, dtype=object)) > 2 * count + _SLACK:  # too many to list: found per account
        combination, firsts = situations(*combine(parts, count))
        matched = np.zeros(len(firsts), dtype=np.uint64)
        for codes, distinct in answered:
            matched |= distinct[codes[firsts]]
        return combination, len(firsts), matched
    key, width = combine(parts, count)
    np.copyto(index, key, casting="unsafe")
    present = np.flatnonzero(np.bincount(index, minlength=width))
    matched = np.zeros(len(present), dtype=np.uint64)
    below = 1
    for group in sorted(range(len(parts)), key=lambda g: parts[g][2]):  # combine's order of digits
        matched |= answered[group][1][(present // below) % radixes[group]]
        below *= radixes[group]
    number = np.zeros(width, dtype=_unsigned(len(present)))
    number[present] = np.arange(len(present))
    return np.take(number, index, mode="clip"), len(present), matched


_CLUSTER_WIDTH = 4_096  # rule groups whose classes combine into at most this many keys share one key


def _clusters(reads: list[list], radixes: dict) -> list[list]:
    """The rule groups' columns gathered into clusters whose combined classes stay few
    (`_CLUSTER_WIDTH`): each cluster costs one key per account, however many groups it holds, and
    its groups' situations are found among its few. Greedy: the widest groups first, each into the
    cluster it widens least."""
    def width(columns) -> int:
        return int(np.prod([radixes[c] for c in columns], dtype=object)) if columns else 1

    clusters: list[list] = []
    for columns in sorted(reads, key=lambda c: (-width(c), c)):
        best, best_width = None, None
        for cluster in clusters:
            joined = width(set(cluster) | set(columns))
            if joined <= _CLUSTER_WIDTH and (best_width is None or joined < best_width):
                best, best_width = cluster, joined
        if best is None:
            clusters.append(sorted(set(columns), key=str))
        else:
            best[:] = sorted(set(best) | set(columns), key=str)
    return clusters


def _first_accounts(key: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(the keys present in order of their first account, those first accounts), keys below `width`.
    With few possible keys, one count tells which are present and the accounts are scanned from the
    start in growing slices until each has been seen (the usual key is seen in the first few thousand
    accounts); otherwise one scatter over all the accounts."""
    count = len(key)
    first_at = np.full(width, count, dtype=np.int64)
    if width <= _FEW_OBJECTS and count > _FEW_ROWS:
        present = np.flatnonzero(np.bincount(key, minlength=width))
        start, size = 0, max(_FEW_ROWS // 4, 1)
        while start < count and (first_at[present] == count).any():
            stop = min(count, start + size)
            seen = np.full(width, count, dtype=np.int64)
            seen[key[start:stop][::-1]] = _positions(count)[start:stop][::-1]
            np.minimum(first_at, seen, out=first_at)
            start, size = stop, size * 4
    else:
        first_at[key[::-1]] = _positions(count)[::-1]  # the last write wins: each key's first account
    slots = np.flatnonzero(first_at < count)
    firsts = first_at[slots]
    order = np.argsort(firsts, kind="stable")
    return slots[order], firsts[order]


def _factorize(key: np.ndarray) -> tuple[np.ndarray, int]:
    """(each key's number among the distinct keys in order of appearance, how many): Arrow's hashing,
    which is 2–3 times pandas' for the few distinct keys of a decision."""
    encoded = pa.array(key).dictionary_encode()
    return encoded.indices.to_numpy(zero_copy_only=False), len(encoded.dictionary)
