"""Checking properties (`kamrules.testing.properties`) on portfolios: the pack's own test portfolios
(each case table's rows, each file in `tests/portfolios/`) and a user's data file.

A portfolio is evaluated once as it is; each property then evaluates it again as its kind needs
(a raised account, the rows reversed or shuffled, columns made missing or shuffled), with the pack cut
down to what the compared outputs read, and compares account by account. Every difference that breaks
the property is a violation, in words (English and Chinese) that name the account and the values.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from kamrules.data.options import MAX_LISTED
from kamrules.data.reader import ReadOptions, issue_text, read_table
from kamrules.pack.guards import SourceError, check_source
from kamrules.data.wording import say
from kamrules.engine import measures
from kamrules.engine.evaluate import evaluate
from kamrules.engine.evaluation import Evaluation
from kamrules.errors import DataError, EvaluationError
from kamrules.i18n import TESTING
from kamrules.language import expr as ex
from kamrules.pack import RulePack
from kamrules.results.columns import column_values
from kamrules.testing.cases import MAX_PORTFOLIO_BYTES, TestFile
from kamrules.testing.properties import (
    ID_FIELD, Property, decision_of, fields_read, needed, output_names, reads_path,
)

LANGS = ("en", "zh")
PACK_ITSELF = ""  # the portfolio of a result about the pack itself (what an output reads)


@dataclass
class Portfolio:
    """Accounts a property is checked on: typed field columns (as `read_table` gives them), the date
    their date computations use, and the name reports show (the file)."""

    name: str
    frame: pd.DataFrame
    as_of: dt.date
    rows: list = field(default_factory=list)  # each account's row in the file (named when there is no id)
    warnings: list = field(default_factory=list)  # what the reader let through (cells read as missing)


@dataclass
class PropertyResult:
    """One property on one portfolio (or, `portfolio == ""`, on the pack itself)."""

    prop: Property
    portfolio: str
    accounts: int = 0
    evaluations: int = 0  # changed copies of the portfolio evaluated for this check (besides the shared one)
    violations: list = field(default_factory=list)  # each: {lang: one line}
    error: str = ""

    @property
    def passed(self) -> bool:
        return not self.violations and not self.error


# ---------------------------------------------------------------------------------------- portfolios


def pack_portfolios(pack: RulePack, folder: Path, files: list[TestFile], as_of: dt.date,
                    lang: str = "en") -> tuple[list[Portfolio], list[PropertyResult]]:
    """The portfolios of the pack's own tests: each case table (its rows, with the fields they give:
    features and scores a case sets directly are not data) and each file in `tests/portfolios/`.
    A file that cannot be read is returned as an error, so the other portfolios still run."""
    found, unreadable = [], []
    optional = [dataclasses.replace(spec, required=False) for spec in pack.fields.values()]
    for test_file in files:
        if test_file.path.suffix.lower() != ".csv" or not test_file.cases:
            continue
        days = {case.as_of for case in test_file.cases}
        day = days.pop() if len(days) == 1 and None not in days else as_of
        try:
            read = read_table(test_file.path, optional, ReadOptions(lang=lang))
        except DataError as exc:
            unreadable.append((str(test_file.path), str(exc)))
            continue
        frame = read.frame.reset_index(drop=True)
        if ID_FIELD in pack.fields:  # a case table may name its rows instead: the name is the id, as for cases
            labels = {case.loc.line: case.facts.get(ID_FIELD, case.name) for case in test_file.cases}
            given = frame[ID_FIELD] if ID_FIELD in frame.columns else pd.Series([None] * len(frame), dtype=object)
            names = pd.Series([labels.get(int(row)) for row in read.row_numbers], dtype=object)
            frame[ID_FIELD] = given.astype(object).where(given.notna(), names)
        found.append(Portfolio(str(test_file.path), frame, day, list(read.row_numbers)))
    extra = folder / "tests" / "portfolios"
    for path in sorted(extra.iterdir(), key=lambda p: p.name) if extra.is_dir() else ():
        if path.name.startswith(".") or path.is_dir():
            continue
        try:  # a portfolio is a file of the pack, as a case's is (testing/cases.py): no link out, no FIFO
            check_source(path, folder, max_bytes=MAX_PORTFOLIO_BYTES)
            found.append(data_portfolio(pack, path, ReadOptions(lang=lang), as_of))
        except SourceError as exc:
            unreadable.append((str(path), str(exc).removeprefix(f"{path}: ")))
        except DataError as exc:
            unreadable.append((str(path), str(exc)))
    return found, unreadable


def data_portfolio(pack: RulePack, path: Path, options: ReadOptions, as_of: dt.date) -> Portfolio:
    """A user's data file, read as `evaluate` reads it (raises DataError when it cannot be read)."""
    from dataclasses import replace

    read = read_table(path, list(pack.fields.values()), replace(options, as_of=as_of))
    warnings = []
    if read.issues:  # --on-bad-value missing: say which cells, as evaluate's data-issues.csv would
        unit = {"json": "record", "parquet": "record", "jsonl": "line"}.get(read.source.get("format"), "row")
        warnings.append(say(options.lang, "issues_as_missing", name=str(path), n=len(read.issues)))
        warnings += ["  " + issue_text(issue, unit, options.lang) for issue in read.issues[:MAX_LISTED]]
        if len(read.issues) > MAX_LISTED:
            warnings.append("  " + TESTING[options.lang]["prop_more"].format(n=len(read.issues) - MAX_LISTED))
    return Portfolio(str(path), read.frame.reset_index(drop=True), as_of, list(read.row_numbers), warnings)


# -------------------------------------------------------------------------------------------- running


def run_properties(pack: RulePack, properties: list[Property], portfolios: list[Portfolio],
                   unreadable: list | None = None, lang: str = "en") -> list[PropertyResult]:
    """Every property on every portfolio, in property order (first, for an `unread_columns` property
    that names its columns, whether the pack reads them at all). Each portfolio is evaluated as it is
    once, for all properties. `unreadable`: (file, message) of the portfolios that could not be read,
    an error for every property; `lang`: the language of errors."""
    found: dict[tuple[int, int], PropertyResult] = {}
    for number, portfolio in enumerate(portfolios):
        shared = _Portfolio(pack, portfolio, lang)
        for index, prop in enumerate(properties):
            found[index, number] = _check(shared, prop)
    results = []
    for index, prop in enumerate(properties):
        if prop.kind == "unread_columns" and prop.columns is not None:
            results.append(_reads_nothing_claimed(pack, prop))
        results += [PropertyResult(prop, name, error=message) for name, message in unreadable or ()]
        results += [found[index, number] for number in range(len(portfolios))]
    return results


def _check(shared: "_Portfolio", prop: Property) -> PropertyResult:
    result = PropertyResult(prop, shared.portfolio.name, accounts=len(shared.portfolio.frame))
    if len(shared.portfolio.frame) == 0:
        return result
    runs = _Runs(shared, result)
    try:
        {"monotone": _monotone, "largest": _largest, "order_invariant": _order_invariant,
         "unread_columns": _unread_columns}[prop.kind](runs, prop)
    except (DataError, EvaluationError) as exc:  # this portfolio cannot be evaluated: say so, go on
        result.error = str(exc)
    return result


class _Portfolio:
    """What every property checked on a portfolio shares: its evaluation as it is, its ids."""

    def __init__(self, pack: RulePack, portfolio: Portfolio, lang: str):
        self.pack, self.portfolio, self.lang = pack, portfolio, lang
        self._base: Evaluation | None = None
        self._failed: Exception | None = None
        self._ids: np.ndarray | None = None

    def evaluate(self, pack: RulePack, frame: pd.DataFrame) -> Evaluation:
        return evaluate(pack, frame, as_of=self.portfolio.as_of, input_name=self.portfolio.name)

    @property
    def base(self) -> Evaluation:
        if self._failed is not None:
            raise self._failed
        if self._base is None:
            try:
                self._base = self.evaluate(self.pack, self.portfolio.frame)
            except (DataError, EvaluationError) as exc:
                self._failed = exc
                raise
        return self._base

    @property
    def ids(self) -> np.ndarray | None:
        """Each account's id as text (None when the pack has no id field: ties then go by row)."""
        if self._ids is None and ID_FIELD in self.pack.fields:
            self._ids = np.array(["" if v is None else str(v) for v in column_values(self.base, ID_FIELD)], dtype=object)
        return self._ids


class _Runs:
    """One check of a property on a portfolio: the shared evaluation as it is, and the changed copies
    this check evaluates (counted in its result)."""

    def __init__(self, shared: _Portfolio, result: PropertyResult):
        self.shared, self.result = shared, result
        self.pack, self.portfolio, self.lang = shared.pack, shared.portfolio, shared.lang

    def evaluate(self, pack: RulePack, frame: pd.DataFrame) -> Evaluation:
        self.result.evaluations += 1
        return self.shared.evaluate(pack, frame)

    @property
    def base(self) -> Evaluation:
        return self.shared.base

    @property
    def ids(self) -> np.ndarray | None:
        return self.shared.ids

    def account(self, position: int) -> Callable[[str], str]:
        """How a message names an account: its id, else its row in the file."""
        if self.ids is not None:
            return lambda lang: self.ids[position]
        rows = self.portfolio.rows or range(2, len(self.portfolio.frame) + 2)
        return lambda lang: TESTING[lang]["prop_row"].format(row=rows[position])

    def ranked(self, positions: np.ndarray, values: np.ndarray) -> np.ndarray:
        """`positions` by `values`, largest first, equal values by id (as the Pareto curve orders them)."""
        return positions[measures.stable_order(-values, None if self.ids is None else self.ids[positions])]

    def violation(self, key: str, **values: Any) -> None:
        self.result.violations.append({lang: TESTING[lang][key].format(**{
            k: (v(lang) if callable(v) else v) for k, v in values.items()}) for lang in LANGS})


def _values(evaluation: Evaluation, name: str) -> list:
    return column_values(evaluation, name, shared=True)


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return "[" + ", ".join(map(_show, value)) + "]"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return ex.format_number(value)
    return str(value)


def _same(left: Any, right: Any) -> bool:
    if isinstance(left, float) and isinstance(right, float):
        return ex.rnd(left) == ex.rnd(right)
    return left == right


def _joined(names: list[str]) -> Callable[[str], str]:
    return lambda lang: ("、" if lang == "zh" else ", ").join(names)


def _one_of(values: list[str]) -> Callable[[str], str]:
    return lambda lang: values[0] if len(values) == 1 else TESTING[lang]["prop_one_of"].format(values=_joined(values)(lang))


def _changes(outputs: list[str], before: dict, after: dict, position: int) -> list[str]:
    return [f"{name} {_show(before[name][position])} → {_show(after[name][position])}" for name in outputs
            if not _same(before[name][position], after[name][position])]


# ------------------------------------------------------------------------------------------ monotone


def _monotone(runs: _Runs, prop: Property) -> None:
    frame = runs.portfolio.frame
    raised = [name for name in prop.raise_fields if name in frame.columns]
    if not raised:
        return  # no money figure to raise in this portfolio
    numbers = {name: pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype="float64") for name in raised}
    movable = np.zeros(len(frame), dtype=bool)
    for values in numbers.values():
        movable |= ~np.isnan(values) & (values != 0)
    before = _values(runs.base, prop.output)
    cut = needed(runs.pack, [prop.output])
    for position in _spread(numbers[raised[0]], movable, runs, prop.accounts):
        changed = frame.copy()
        for name in raised:
            value = numbers[name][position]
            if not np.isnan(value):
                changed[name] = _with(frame[name], position, value + abs(value) * (prop.factor - 1))
        after = _values(runs.evaluate(cut, changed), prop.output)[position]
        lowered = prop.rank(after) < prop.rank(before[position]) if prop.order else _lower(after, before[position])
        if lowered:
            runs.violation("prop_monotone", id=runs.account(position), output=prop.output,
                           before=_show(before[position]), after=_show(after),
                           fields=_joined(raised), factor=ex.format_number(prop.factor))


def _spread(first: np.ndarray, movable: np.ndarray, runs: _Runs, count: int) -> list[int]:
    """`count` accounts that can be raised, spread evenly over the ranks of the first raised field
    (largest first, equal values by id; accounts without it last): the same accounts every run."""
    candidates = np.flatnonzero(movable)
    if not len(candidates):
        return []
    values = np.where(np.isnan(first[candidates]), -np.inf, first[candidates])
    ranked = runs.ranked(candidates, values)
    if count >= len(ranked):
        return ranked.tolist()
    picks = np.unique(np.round(np.linspace(0, len(ranked) - 1, count)).astype(int))
    return ranked[picks].tolist()


def _with(column: pd.Series, position: int, value: float) -> pd.Series:
    """The column with one account's value replaced (the column's own type kept where it can)."""
    changed = column.copy()
    if not pd.api.types.is_float_dtype(changed.dtype):
        changed = pd.to_numeric(changed, errors="coerce").astype("float64")
    changed.iloc[position] = value
    return changed


def _lower(after: Any, before: Any) -> bool:
    """For an output without an order (a number or a yes/no): after is below before."""
    if before is None:
        return False
    if after is None:
        return True
    return float(after) < float(before) and not _same(float(after), float(before))


# ------------------------------------------------------------------------------------------- largest


def _largest(runs: _Runs, prop: Property) -> None:
    base = runs.base
    count = _count(runs, prop)
    if count is None:
        return
    by = np.array([np.nan if v is None else float(v) for v in _values(base, prop.by_name)], dtype="float64")
    present = np.flatnonzero(~np.isnan(by))
    ranked = runs.ranked(present, by[present])
    top = ranked[:min(count, len(ranked))]
    exempt = np.zeros(len(by), dtype=bool)
    if prop.unless is not None:
        exempt = ex.condition_vector(prop.unless, base.table).fillna(False).to_numpy(dtype=bool)
    got = _values(base, prop.output)
    for rank, position in enumerate(top, start=1):
        if exempt[position] or str(got[position]) in prop.values:
            continue
        runs.violation("prop_largest", id=runs.account(position), rank=rank, by=prop.by_name,
                       value=_show(float(by[position])), output=prop.output, got=_show(got[position]),
                       values=_one_of(list(prop.values)))


def _count(runs: _Runs, prop: Property) -> int | None:
    """N: the property's number, or the value its field, feature or score has for every account."""
    if isinstance(prop.count, int):
        return prop.count
    values = sorted({float(v) for v in _values(runs.base, prop.count) if v is not None})
    key = None
    if not values:
        key = "prop_count_missing"
    elif len(values) > 1:
        key = "prop_count_varies"
    elif values[0] < 0 or values[0] != int(values[0]):
        key = "prop_count_not_whole"
    if key is not None:
        shown = ", ".join(_show(v) for v in values[:3]) + (" …" if len(values) > 3 else "")
        runs.result.error = TESTING[runs.lang][key].format(name=prop.count_text, values=shown)
        return None
    return int(values[0])


# ---------------------------------------------------------------------------------- order_invariant


def _order_invariant(runs: _Runs, prop: Property) -> None:
    outputs = list(prop.outputs) or output_names(runs.pack)
    cut = needed(runs.pack, outputs)
    before = {name: _values(runs.base, name) for name in outputs}
    count = len(runs.portfolio.frame)
    orders = [(np.arange(count)[::-1], "prop_reversed"),
              (np.random.default_rng(prop.seed).permutation(count), "prop_shuffled")]
    for order, how in orders:
        moved = runs.portfolio.frame.iloc[order].reset_index(drop=True)
        evaluation = runs.evaluate(cut, moved)
        after = {name: [None] * count for name in outputs}
        for name in outputs:
            for place, value in zip(order.tolist(), _values(evaluation, name)):
                after[name][place] = value
        for position in range(count):
            changes = _changes(outputs, before, after, position)
            if changes:
                runs.violation(how, id=runs.account(position), changes=_joined(changes), seed=prop.seed)


# ---------------------------------------------------------------------------------- unread_columns


def _unread_columns(runs: _Runs, prop: Property) -> None:
    pack, frame = runs.pack, runs.portfolio.frame
    outputs = list(prop.outputs) or output_names(pack)
    if prop.columns is not None:
        candidates = list(prop.columns)
    else:
        read = fields_read(pack, outputs)
        candidates = [name for name in pack.fields if name not in read and name != ID_FIELD]
    candidates = [name for name in candidates if name in frame.columns and frame[name].notna().any()]
    if not candidates:
        return
    cut = needed(pack, outputs)
    before = {name: _values(runs.base, name) for name in outputs}
    rng = np.random.default_rng(prop.seed)
    shuffles = {name: rng.permutation(len(frame)) for name in candidates}

    def changed(how: str, names: list[str]) -> dict:
        """The outputs with the columns `names` left empty (prop_missing) or shuffled."""
        copy = frame.copy()
        for name in names:
            if how == "prop_missing":
                copy[name] = pd.Series([None] * len(frame), index=frame.index, dtype=object)
            else:
                copy[name] = frame[name].iloc[shuffles[name]].reset_index(drop=True).set_axis(frame.index)
        evaluation = runs.evaluate(cut, copy)
        return {name: _values(evaluation, name) for name in outputs}

    for how in ("prop_missing", "prop_shuffled_column"):
        after = changed(how, candidates)
        differing = [p for p in range(len(frame)) if _changes(outputs, before, after, p)]
        if not differing:
            continue
        culprits = [[name] for name in candidates] if len(candidates) > 1 else [candidates]
        found = False
        for names in culprits:  # which column does it: each alone (only when something changed)
            alone = changed(how, names) if len(candidates) > 1 else after
            for position in range(len(frame)):
                changes = _changes(outputs, before, alone, position)
                if changes:
                    found = True
                    runs.violation(how, id=runs.account(position), changes=_joined(changes), columns=_joined(names),
                                   seed=prop.seed)
        if not found:  # only together: name them all
            for position in differing:
                runs.violation(how, id=runs.account(position), changes=_joined(_changes(outputs, before, after, position)),
                               columns=_joined(candidates), seed=prop.seed)


def _reads_nothing_claimed(pack: RulePack, prop: Property) -> PropertyResult:
    """An `unread_columns` property's claim, checked on the pack itself: no compared output reads
    any of its columns (through features, scores and earlier decisions)."""
    result = PropertyResult(prop, PACK_ITSELF)
    outputs = list(prop.outputs) or output_names(pack)
    for column in prop.columns or ():
        for output in outputs:
            path = reads_path(pack, output, column)
            if path is not None:
                result.violations.append({lang: TESTING[lang]["prop_reads"].format(
                    output=output, column=column, path=_path_text(pack, path, lang)) for lang in LANGS})
                break
    return result


def _path_text(pack: RulePack, path: list[str], lang: str) -> str:
    """output → rule 'r' → feature → … → field, naming the first rule of each decision on the way
    that reads the next name."""
    steps = []
    for name, after in zip(path, [*path[1:], None]):
        steps.append(name)
        decision = decision_of(pack, name)
        if decision is not None and after is not None:
            rule = next((r.id for r in decision.rules if after in r.reads), None)
            if rule is not None:
                steps.append(TESTING[lang]["prop_rule"].format(rule=rule))
    return " → ".join(steps)
