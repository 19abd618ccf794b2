"""Decide each distinct situation once: the engine is asked per situation, the answer broadcast.

durable_rules' answer for a rule depends only on where each value the rule reads falls relative to
the constants the decision compares that column with: missing, below the lowest constant, equal to a
constant, between two constants, above the highest. Every account is reduced to those classes (numpy
`searchsorted` on numbers and dates, `pandas.factorize` on strings and booleans); accounts whose
classes agree on a rule's columns are one *situation* for that rule. Each rule is compiled into a
ruleset of its own, durable_rules is asked once per situation with a real account of that situation
(the first one), and its answer is broadcast to every account of the situation. The hit policy is then
applied once for all accounts (`hitpolicy.reduce_masks`), so the masks are exactly those the
per-account engine returns (the differential test in tests/test_situations.py checks it).

Two number (or date, boolean) columns compared with each other (`sales > sales_prev`) add one more
class per account to the rules reading both: the sign of their difference (less, equal, greater, either
missing), on the numbers the engine receives; each column is still classed against its own constants.
Any other column compared with a column (text with text) is not classed: its exact value is the class. Values the engine refuses (infinite numbers) are classes of their own, so their account is
the one sent and the engine's error is raised as before.
"""

from __future__ import annotations

import bisect

import numpy as np
import pandas as pd

from kamrules.engine import hitpolicy
from kamrules.engine.durable import CompiledDecision, date_number, message_values, rule_runner_for
from kamrules.language import expr as ex
from kamrules.pack import Decision

_KEY_LIMIT = 2 ** 62  # a combined key stays below this, or it is renumbered first


def _engine_numbers(series: pd.Series, vtype: str) -> np.ndarray | None:
    """The numbers the engine receives for a column (NaN = missing), or None for strings."""
    if vtype == ex.NUMBER:
        return ex.round_series(pd.to_numeric(series, errors="coerce")).to_numpy(dtype="float64")
    if vtype in (ex.DATE, ex.BOOLEAN):
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        if vtype == ex.DATE:
            table = np.array([date_number(v) for v in uniques], dtype="float64")
        else:
            table = np.array([1.0 if v else 0.0 for v in uniques], dtype="float64")
        return np.where(codes < 0, np.nan, table[np.maximum(codes, 0)] if len(table) else np.nan)
    return None


def _exact_codes(values: np.ndarray | pd.Series) -> tuple[np.ndarray, int]:
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return codes.astype("int64"), len(uniques)


def column_classes(series: pd.Series, vtype: str, constants: set, exact: bool,
                   known: "ColumnValues | None" = None) -> tuple[np.ndarray, int]:
    """(class per account, number of classes); -1 is missing. `known` holds the column's engine numbers
    or text codes when an earlier decision already computed them."""
    known = known or ColumnValues()
    numbers = known.numbers(series, vtype)
    if numbers is not None:
        if exact or not all(isinstance(c, float) for c in constants):
            return _exact_codes(numbers)
        cuts = np.array(sorted(constants), dtype="float64")
        codes = _number_classes(numbers, cuts)
        top = 2 * len(cuts) + 1
        infinite = np.isinf(numbers)
        if infinite.any():  # not finite: a class of its own (the engine refuses it)
            codes[infinite & (numbers > 0)] = top
            codes[infinite & (numbers < 0)] = top + 1
        codes[np.isnan(numbers)] = -1
        return codes, top + 2
    codes, uniques = known.texts(series)
    if exact or not all(isinstance(c, str) for c in constants):
        return codes, len(uniques)
    cuts = sorted(constants)
    table = np.empty(len(uniques) + 1, dtype=np.int8 if 2 * len(cuts) + 1 < 127 else np.int64)
    table[-1] = -1  # (code -1, missing, takes the last entry)
    for number, value in enumerate(uniques):
        text = str(value)
        position = bisect.bisect_left(cuts, text)
        table[number] = 2 * position + (position < len(cuts) and cuts[position] == text)
    return table[codes], 2 * len(cuts) + 1


_FEW_CUTS = 8  # up to this many constants, counting comparisons beats a binary search per account


def _number_classes(numbers: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """2 × (how many constants lie below the value) + (1 if it equals one): the class of each finite
    value among the sorted constants `cuts` (missing and infinite values are set by the caller)."""
    if len(cuts) <= _FEW_CUTS:  # a few whole-array comparisons in one byte per account
        below = np.zeros(len(numbers), dtype=np.int8)
        equal = np.zeros(len(numbers), dtype=np.int8)
        for cut in cuts:
            below += numbers > cut
            equal += numbers == cut
        below *= 2
        below += equal
        return below
    position = np.searchsorted(cuts, numbers, side="left")
    codes = (2 * position).astype(np.int32 if len(cuts) < 2 ** 29 else np.int64)
    codes += cuts[np.minimum(position, len(cuts) - 1)] == numbers
    return codes


def distinct_codes(values: list) -> tuple[np.ndarray, list]:
    """(the code of each value, -1 for None; the distinct values in order of first appearance), for
    hashable values: the few values of a decision's output, one per distinct mask."""
    distinct = list(dict.fromkeys(v for v in values if v is not None))
    position = {value: i for i, value in enumerate(distinct)}
    return np.array([-1 if v is None else position[v] for v in values], dtype=np.int32), distinct


class ColumnValues:
    """What classing a column starts from — the numbers the engine receives, or the codes of its texts —
    computed once per column for every decision that reads it (tier, nps, share of wallet are read by
    several), and let go after the last of them (`forget`)."""

    def __init__(self):
        self._numbers: dict = {}
        self._texts: dict = {}

    def numbers(self, series: pd.Series, vtype: str) -> np.ndarray | None:
        key = (series.name, vtype)
        if key not in self._numbers:
            self._numbers[key] = _engine_numbers(series, vtype)
        return self._numbers[key]

    def texts(self, series: pd.Series) -> tuple[np.ndarray, object]:
        if series.name not in self._texts:
            codes, uniques = pd.factorize(series.astype(object), use_na_sentinel=True)
            self._texts[series.name] = (codes.astype(np.int32 if len(uniques) < 2 ** 31 else np.int64), uniques)
        return self._texts[series.name]

    def coded(self, name: str, values: list, codes: np.ndarray) -> None:
        """Take column `name` as given by `values[codes]` (a decision's output: the value of each
        distinct mask, each account's mask code): its text codes without hashing the column. Nothing is
        kept when a value is neither text nor missing (such a column is hashed when read)."""
        if not all(v is None or type(v) is str for v in values):
            return
        per_value, texts = distinct_codes(values)
        uniques = np.empty(len(texts), dtype=object)
        uniques[:] = texts
        self._texts[name] = (per_value[codes], uniques)

    def forget(self, names) -> None:
        for name in names:
            self._texts.pop(name, None)
            for key in [k for k in self._numbers if k[0] == name]:
                del self._numbers[key]


def _compact(classes: tuple[np.ndarray, int]) -> tuple[np.ndarray, int]:
    """The classes in the smallest integer type that holds them (and -1): a decision reading twenty
    columns keeps twenty class arrays while its rules are asked, 1 byte per account each, not 8."""
    codes, number = classes
    for kind in (np.int8, np.int16, np.int32):
        if number < np.iinfo(kind).max:
            return codes.astype(kind), number
    return classes


def situation_keys(classes: list[tuple[np.ndarray, int]], count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(key per account, the first account of each situation, each situation's key — or None when the
    keys are the situations' numbers already).

    The classes are combined into one key per account; when the keys are few (the usual case: a rule
    reads a few columns of a few classes each) each key's first account is found by one scatter over
    the accounts instead of hashing a million keys, and the caller looks answers up by key."""
    whole = 1
    for _, number in classes:
        whole *= number + 1
    key = np.zeros(count, dtype=np.int32 if whole < 2 ** 31 else np.int64)  # half the memory traffic when it fits
    width = 1
    for codes, number in classes:
        if width * (number + 1) >= _KEY_LIMIT:
            key, found = _exact_codes(key)
            width = found
        key *= number + 1
        key += codes
        key += 1
        width *= number + 1
    if count == 0:
        return np.zeros(0, dtype="int64"), np.zeros(0, dtype="int64"), None
    if width <= 4 * count + 1024:
        first_at = np.full(width, count, dtype="int64")
        first_at[key[::-1]] = _positions(count)[::-1]  # the last write wins: each key's first account
        slots = np.flatnonzero(first_at < count)
        return key, first_at[slots], slots
    codes, _ = _exact_codes(key)
    # factorize numbers situations in order of appearance: the first account of k is where the
    # running maximum first reaches k
    first = np.searchsorted(np.maximum.accumulate(codes), np.arange(codes.max() + 1), side="left")
    return codes, first, None


_POSITIONS: list = [np.arange(0)]


def _positions(count: int) -> np.ndarray:
    """0 … count-1, made once per portfolio size (every rule group of every decision uses it)."""
    if len(_POSITIONS[0]) != count:
        _POSITIONS[0] = np.arange(count)
        _POSITIONS[0].flags.writeable = False
    return _POSITIONS[0]


def _pair_class(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, int]:
    """Where `left` stands against `right`, per account: less, equal, greater, either missing (or no order)."""
    codes = np.full(len(left), 3, dtype="int64")
    with np.errstate(invalid="ignore"):
        codes[left < right] = 0
        codes[left == right] = 1
        codes[left > right] = 2
    return codes, 4


def _exact_and_signed(compiled: CompiledDecision, types: dict) -> tuple[set, list]:
    """(columns classed by exact value, number pairs classed by the sign of their difference)."""
    numeric = (ex.NUMBER, ex.DATE, ex.BOOLEAN)
    pairs = sorted(getattr(compiled, "pairs", set()))
    signed = [p for p in pairs if all(types.get(c, ex.NUMBER) in numeric for c in p)]
    exact = {c for p in pairs if p not in signed for c in p}
    if not pairs:
        exact = set(compiled.exact)
    return exact, signed


def decide_decision(decision: Decision, compiled: CompiledDecision, pack_hash: str, frame: pd.DataFrame,
                    types: dict, known: ColumnValues | None = None) -> tuple[np.ndarray, int]:
    """(match mask per account as the per-account engine leaves it, engine calls made). `known`: the
    column values earlier decisions computed (the decision's own hidden columns are never taken from it)."""
    count = len(frame)
    classes: dict[str, tuple[np.ndarray, int]] = {}
    full = np.zeros(count, dtype=np.uint64)
    asked = 0
    groups: dict[tuple, list[int]] = {}
    exact, signed = _exact_and_signed(compiled, types)
    mine = ColumnValues()  # this decision's hidden columns (recomputed per decision, same names)
    shared = known or mine

    def values_of(column: str) -> ColumnValues:
        return mine if column in compiled.hidden else shared

    for index in range(len(decision.rules)):
        groups.setdefault(tuple(compiled.rule_reads[index]), []).append(index)
    for columns, indexes in groups.items():
        for column in columns:
            if column not in classes:
                classes[column] = _compact(column_classes(frame[column], types.get(column, ex.NUMBER),
                                                          compiled.constants.get(column, set()), column in exact,
                                                          values_of(column)))
        between = [_pair_class(*(values_of(c).numbers(frame[c], types.get(c, ex.NUMBER)) for c in pair))
                   for pair in signed if pair[0] in columns and pair[1] in columns]
        key, first, slots = situation_keys([classes[c] for c in columns] + between, count)
        bodies = message_values(frame[list(columns)].take(first), list(columns), types) if count else []
        matched = np.zeros(len(bodies), dtype=np.uint64)  # per situation: the bits of the group's rules
        for index in indexes:
            runner = rule_runner_for(decision, pack_hash, index)
            hits = np.fromiter((bool(runner.run(body)) for body in bodies), dtype=bool, count=len(bodies))
            matched[hits] |= np.uint64(1) << np.uint64(index)
            asked += len(bodies)
        if slots is not None:  # looked up by key: one gather per account, not two
            by_key = np.zeros(int(slots[-1]) + 1 if len(slots) else 0, dtype=np.uint64)
            by_key[slots] = matched
            matched = by_key
        full |= matched[key]
    return hitpolicy.reduce_masks(decision, full), asked
