"""What an evaluation produces: per account, per decision, the outputs and the rules behind them.

These typed structures are what the writers, the portfolio report and the playbook templates read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Iterator

import numpy as np
import pandas as pd

from kamrules.engine.outcomes import Outcomes, from_results
from kamrules.language import expr as ex
from kamrules.pack import RulePack

Text = dict  # {"en": "...", "zh": "..."}


@dataclass(frozen=True)
class Hit:
    """One rule that decided (or, for `collect`, contributed to) a decision for one account."""

    rule: str  # the rule id; "default" when no rule matched and the default applied
    outputs: dict  # output name -> value set by this rule
    reads: dict  # name -> value of every field/feature/output the rule's condition read
    source: Text = field(default_factory=dict)  # where the rule comes from, per language, as `because`
    template: Text = field(default_factory=dict, repr=False)  # the rule's `because`, unfilled
    filler: Any = field(default=None, repr=False, compare=False)  # fills `template` for this account

    @property
    def because(self) -> Text:
        """The rule's reason, its {placeholders} filled with this account's values, per language.

        Filled on demand: most runs only need the reasons of the accounts that get a playbook."""
        if self.filler is None:
            return dict(self.template)
        return self.filler(self.template, self.outputs)


@dataclass(frozen=True)
class DecisionResult:
    decision: str  # decision id
    outputs: dict  # output name -> value (a list for `collect` decisions)
    hits: tuple = ()  # the deciding Hit (first/unique/priority/default) or every matching Hit (collect)

    @property
    def rule(self) -> str | None:
        """The deciding rule id ("default" or None when nothing matched); `; `-joined for collect."""
        if not self.hits:
            return None
        return "; ".join(h.rule for h in self.hits)


class FactTable:
    """The evaluated table (fields, features, scores, outputs) with per-cell access as plain Python
    values: None for missing, dates as datetime.date, booleans as bool."""

    def __init__(self, frame: pd.DataFrame):
        self.columns = list(frame.columns)
        self._frame = frame
        self._arrays: dict[str, np.ndarray] = {}  # converted when first read: most runs read few
        self._kinds: dict[str, str] = {}
        self._names = frozenset(self.columns)
        self._members: dict[int, tuple] = {}  # id(list of names) -> (the list, its names as a set)

    def _column(self, name: str) -> tuple[np.ndarray, str]:
        if name not in self._arrays:
            series = self._frame[name]
            if pd.api.types.is_datetime64_any_dtype(series):
                self._kinds[name], self._arrays[name] = "date", series.to_numpy()
            elif pd.api.types.is_float_dtype(series) and series.dtype != object:
                self._kinds[name] = "float"
                # a view of a plain float column (NaN is missing), not a copy: at a million accounts the
                # 50-odd float columns would otherwise be held twice once any one account is read
                self._arrays[name] = (series.to_numpy() if series.dtype == np.float64
                                      else series.to_numpy(dtype="float64", na_value=np.nan))
            else:
                self._kinds[name], self._arrays[name] = "object", series.astype(object).to_numpy()
        return self._arrays[name], self._kinds[name]

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def value(self, name: str, index: int) -> Any:
        array, kind = self._column(name)
        value = array[index]
        if kind == "float":
            return None if value != value else float(value)
        if kind == "date":
            return None if pd.isna(value) else pd.Timestamp(value).date()
        if value is None or value is pd.NA or value is pd.NaT:
            return None
        if isinstance(value, float) and value != value:
            return None
        if isinstance(value, np.bool_):
            return bool(value)
        if isinstance(value, np.floating):
            return float(value)
        return value

    def row(self, index: int, names: Sequence[str] | None = None) -> "FactRow":
        if names is None:
            return FactRow(self, index, self.columns, self._names)
        known = self._members.get(id(names))
        if known is None or known[0] is not names:  # one set per list of names, not one per row
            known = self._members[id(names)] = (names, frozenset(names) & self._names)
        return FactRow(self, index, names, known[1])


class FactRow(Mapping):
    """One account's values by name, read from the table on access (no copy per account)."""

    __slots__ = ("_table", "_index", "_names", "_members")

    def __init__(self, table: FactTable, index: int, names: Sequence[str], members: frozenset | None = None):
        self._table, self._index, self._names = table, index, names
        # a set for membership (a list of 100 names searched per read was most of a playbook's lookups)
        self._members = frozenset(names) & table._names if members is None else members

    def __getitem__(self, name: str) -> Any:
        if name not in self._members:
            raise KeyError(name)
        return self._table.value(name, self._index)

    def __contains__(self, name: object) -> bool:
        return name in self._members

    def get(self, name: str, default: Any = None) -> Any:
        return self[name] if name in self else default

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __repr__(self) -> str:
        return repr(dict(self))


@dataclass
class AccountResult:
    index: int  # position in the input (0-based)
    row: int  # row number as the user sees it in the input file
    account_id: str
    account_name: str | None
    facts: Mapping  # fields, features and scores by name; None when missing
    decisions: Mapping = field(default_factory=dict)  # decision id -> DecisionResult

    def value(self, name: str) -> Any:
        """A fact or a decision output by name (None when missing or unknown)."""
        if name in self.facts:
            return self.facts[name]
        for result in self.decisions.values():
            if name in result.outputs:
                return result.outputs[name]
            if result.outputs and all(isinstance(v, list) for v in result.outputs.values()):
                if name == f"{result.decision}_count":
                    return len(result.hits)  # a collect decision's count, as its rules read it
                if name.endswith("_total") and isinstance(result.outputs.get(name[:-len("_total")]), list):
                    values = result.outputs[name[:-len("_total")]]
                    if all(v is None or isinstance(v, (int, float)) for v in values):
                        return ex.rnd(sum(float(v) for v in values if v is not None))
        return None


class Accounts(Sequence):
    """Every account's AccountResult in input order, each built when it is read (not kept)."""

    def __init__(self, count: int, build: Callable[[int], AccountResult]):
        self._count, self._build = count, build

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._build(i) for i in range(*index.indices(self._count))]
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError(index)
        return self._build(index)

    def __iter__(self) -> Iterator[AccountResult]:
        return (self._build(i) for i in range(self._count))


@dataclass(frozen=True)
class Evaluation:
    """The whole run, read-only once built: the pack, every account's results in input order, each
    decision's outcomes, and what the run was made from.

    Read it through `accounts` / `account(i)` (one account's results), `table` / `column(name)` (a name
    for every account) and `outcomes(decision_id)` (a decision's few distinct outcomes and each
    account's). How the engine encodes what it decided stays inside the engine."""

    pack: RulePack
    accounts: Sequence[AccountResult]
    as_of: dt.date
    input_name: str = ""
    # every account's fields, features, scores and single-valued outputs as columns (None when the
    # evaluation was built from a list of accounts)
    table: pd.DataFrame | None = None
    rows: np.ndarray | None = None  # the row number of each account as the user sees it in the input file
    engine: str = "durable_rules"
    jobs: int = 1  # worker processes actually used
    situations: int = 0  # engine calls the decision stage made (distinct situations, or accounts × decisions)
    timings: Mapping[str, float] = field(default_factory=dict)  # seconds per stage
    warnings: tuple[str, ...] = ()  # e.g. a feature whose arithmetic overflowed
    source: Mapping[str, Any] = field(default_factory=dict)  # what the reader says of the input (format, encoding …)
    # the fields the input really has (a column with a value for at least one account), when the
    # columns it was read from are known; None otherwise
    present_fields: tuple[str, ...] | None = None
    decided: Mapping[str, Outcomes] = field(default_factory=dict, repr=False)  # decision id -> its outcomes
    _derived: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("timings", "source", "decided"):  # read-only views: the evaluation cannot be patched
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))
        object.__setattr__(self, "warnings", tuple(self.warnings))
        if isinstance(self.accounts, list):
            object.__setattr__(self, "accounts", tuple(self.accounts))
        if self.present_fields is not None:
            object.__setattr__(self, "present_fields", tuple(self.present_fields))

    def account(self, index: int) -> AccountResult:
        """The results of the account at `index` (input order, from 0)."""
        return self.accounts[index]

    def outcomes(self, decision_id: str) -> Outcomes:
        """How a decision turned out: its distinct outcomes (outputs, and the rules behind them) and
        each account's (KeyError for an unknown decision)."""
        if decision_id in self.decided:
            return self.decided[decision_id]
        if decision_id not in self._derived:
            decision = self.pack.decision(decision_id)
            self._derived[decision_id] = from_results(decision, [a.decisions.get(decision_id) for a in self.accounts])
        return self._derived[decision_id]

    @property
    def frame(self) -> pd.DataFrame:
        """`table`, for readers that need it: an evaluation made by `evaluate` always has one (one built
        from a list of accounts has none: ValueError)."""
        if self.table is None:
            raise ValueError("this evaluation was built from a list of accounts: it has no table")
        return self.table

    def column(self, name: str) -> pd.Series | None:
        """Every account's value of a name, in input order: a column of the table (fields, features,
        scores, single-valued outputs), or a list policy's output (each account's list, the lists
        shared by accounts with the same outcome); None for a name the evaluation holds neither way."""
        if self.table is not None and name in self.table.columns:
            return self.table[name]
        decision = next((d for d in self.pack.decisions if name in d.outputs and d.policy.lists), None)
        if decision is None:
            return None
        outcomes = self.outcomes(decision.id)
        return pd.Series(outcomes.per_account([o.outputs.get(name) for o in outcomes.distinct]), dtype=object)
