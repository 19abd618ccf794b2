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


def column_classes(series: pd.Series, vtype: str, constants: set, exact: bool) -> tuple[np.ndarray, int]:
    """(class per account, number of classes); -1 is missing."""
    numbers = _engine_numbers(series, vtype)
    if numbers is not None:
        if exact or not all(isinstance(c, float) for c in constants):
            return _exact_codes(numbers)
        cuts = np.array(sorted(constants), dtype="float64")
        missing = np.isnan(numbers)
        filled = np.where(missing, 0.0, numbers)
        position = np.searchsorted(cuts, filled, side="left")
        equal = (position < len(cuts)) & (cuts[np.minimum(position, len(cuts) - 1)] == filled) if len(cuts) \
            else np.zeros(len(filled), dtype=bool)
        codes = 2 * position.astype("int64") + equal
        top = 2 * len(cuts) + 1
        codes[np.isposinf(filled)] = top  # not finite: a class of its own (the engine refuses it)
        codes[np.isneginf(filled)] = top + 1
        codes[missing] = -1
        return codes, top + 2
    codes, uniques = pd.factorize(series.astype(object), use_na_sentinel=True)
    if exact or not all(isinstance(c, str) for c in constants):
        return codes.astype("int64"), len(uniques)
    cuts = sorted(constants)
    table = np.empty(len(uniques), dtype="int64")
    for number, value in enumerate(uniques):
        text = str(value)
        position = bisect.bisect_left(cuts, text)
        table[number] = 2 * position + (position < len(cuts) and cuts[position] == text)
    result = table[np.maximum(codes, 0)] if len(table) else np.zeros(len(codes), dtype="int64")
    result[codes < 0] = -1
    return result, 2 * len(cuts) + 1


def _compact(classes: tuple[np.ndarray, int]) -> tuple[np.ndarray, int]:
    """The classes in the smallest integer type that holds them (and -1): a decision reading twenty
    columns keeps twenty class arrays while its rules are asked, 1 byte per account each, not 8."""
    codes, number = classes
    for kind in (np.int8, np.int16, np.int32):
        if number < np.iinfo(kind).max:
            return codes.astype(kind), number
    return classes


def situations(classes: list[tuple[np.ndarray, int]], count: int) -> tuple[np.ndarray, np.ndarray]:
    """(situation per account, first account of each situation) for the combined classes."""
    key = np.zeros(count, dtype="int64")
    width = 1
    for codes, number in classes:
        if width * (number + 1) >= _KEY_LIMIT:
            key, found = _exact_codes(key)
            width = found
        key = key * (number + 1) + (codes.astype("int64") + 1)
        width *= number + 1
    codes, _ = _exact_codes(key)
    if count == 0:
        return codes, np.zeros(0, dtype="int64")
    # factorize numbers situations in order of appearance: the first account of k is where the
    # running maximum first reaches k
    first = np.searchsorted(np.maximum.accumulate(codes), np.arange(codes.max() + 1), side="left")
    return codes, first


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
                    types: dict) -> tuple[np.ndarray, int]:
    """(match mask per account as the per-account engine leaves it, engine calls made)."""
    count = len(frame)
    classes: dict[str, tuple[np.ndarray, int]] = {}
    full = np.zeros(count, dtype=np.uint64)
    asked = 0
    groups: dict[tuple, list[int]] = {}
    exact, signed = _exact_and_signed(compiled, types)
    numbers: dict[str, np.ndarray] = {}
    for index in range(len(decision.rules)):
        groups.setdefault(tuple(compiled.rule_reads[index]), []).append(index)
    for columns, indexes in groups.items():
        for column in columns:
            if column not in classes:
                classes[column] = _compact(column_classes(frame[column], types.get(column, ex.NUMBER),
                                                          compiled.constants.get(column, set()), column in exact))
        between = []
        for pair in (p for p in signed if p[0] in columns and p[1] in columns):
            for column in pair:
                if column not in numbers:
                    numbers[column] = _engine_numbers(frame[column], types.get(column, ex.NUMBER))
            between.append(_pair_class(numbers[pair[0]], numbers[pair[1]]))
        codes, first = situations([classes[c] for c in columns] + between, count)
        bodies = message_values(frame[list(columns)].take(first), list(columns), types) if count else []
        for index in indexes:
            runner = rule_runner_for(decision, pack_hash, index)
            matched = np.array([bool(runner.run(body)) for body in bodies], dtype=bool)
            asked += len(bodies)
            full[matched[codes]] |= np.uint64(1) << np.uint64(index)
    return hitpolicy.reduce_masks(decision, full), asked
