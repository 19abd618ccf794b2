"""The main job: features with pandas, decisions with durable_rules, results per account.

`evaluate(pack, frame, as_of=...)` returns an `Evaluation`. Decisions run in dependency order
(engine/decide.py: each distinct situation asked once, or every account through each decision's
ruleset); each account's message to the engine carries only what that decision reads.

What the engine decided is kept compactly — per decision, its few distinct outcomes and a small code
per account (engine/outcomes.py) — and the per-account result objects are built only when something
reads them, so a million accounts fit in memory.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from kamrules.engine.chunks import decide_in_chunks
from kamrules.engine.decide import Engine, per_account_reference
from kamrules.engine.stages import check_compared_texts, decide_frame  # noqa: F401  (check_compared_texts: as before)
from kamrules.pack import Decision, RulePack
from kamrules.engine.evaluation import AccountResult, Accounts, DecisionResult, Evaluation, FactTable, Hit
from kamrules.language.text import fill_text

DEFAULT_BECAUSE = {"en": "no rule matched: the default applies", "zh": "没有规则匹配：采用默认值"}


def evaluate(
    pack: RulePack,
    frame: pd.DataFrame,
    *,
    as_of: dt.date,
    jobs: int = 1,
    input_name: str = "",
    row_numbers: Sequence[int] | None = None,
    progress: Callable[[str], None] | None = None,
    per_account: bool | None = None,
    lang: str = "en",
    headers: Mapping[str, str] | None = None,
    source: Mapping[str, Any] | None = None,
    engine: Engine | None = None,
    filled: Sequence[str] = (),
    chunk_size: int | None = None,
    figures: pd.DataFrame | None = None,
) -> Evaluation:
    """Evaluate every account of `frame` (one column per field) against the pack.

    `progress`, when given, is called with a short description of each stage as it starts; `lang` is
    the language of messages about the data, and `headers` (field -> the column it was read from, as
    `ReadResult.column_map`) lets them name the user's columns and tells which fields the file has
    (`Evaluation.present_fields`); `source`: what the reader says of the file (`ReadResult.source`),
    kept in the evaluation for the manifest and the report; `filled`: fields the run fills that are not
    the file's columns (history facts), present whatever their values. `engine`: the engine to decide with (the
    process's, `Engine.of_process()`, unless given); `per_account` (default: KAMRULES_PER_ACCOUNT=1)
    sends every account to the engine, split over `jobs` processes, instead of each distinct situation;
    `chunk_size` (accounts) evaluates the portfolio in chunks once its portfolio-wide figures are known
    (engine/chunks.py): the same evaluation, with less working memory; `figures`: the portfolio-wide
    figures of these accounts (engine/portfolio_wide.py) when they are part of a larger portfolio (a
    Dask partition, kamrules/scale)."""
    rows = np.arange(2, len(frame) + 2) if row_numbers is None else np.asarray(row_numbers)
    engine = engine or Engine.of_process()
    per_account = per_account_reference() if per_account is None else per_account
    if chunk_size is not None and len(frame) > chunk_size:
        decided_run = decide_in_chunks(pack, frame, as_of=as_of, chunk_size=chunk_size, rows=rows, jobs=jobs,
                                       progress=progress, per_account=per_account, engine=engine,
                                       context=(input_name, lang, headers))
    else:
        decided_run = decide_frame(pack, frame, as_of=as_of, rows=rows, jobs=jobs, progress=progress,
                                   per_account=per_account, engine=engine, context=(input_name, lang, headers),
                                   figures=figures)
    del frame  # the typed table replaces it (a caller that handed it over frees it now)
    table, fact_names, decided, found, timings, warnings = decided_run
    started = time.perf_counter()
    builder = _AccountBuilder(pack, FactTable(table), fact_names, decided, rows)
    present = None if headers is None else \
        tuple(name for name in headers if name not in table.columns or bool(table[name].notna().any())) + \
        tuple(name for name in filled if name not in headers)
    timings["results"] = timings.get("results", 0.0) + time.perf_counter() - started
    return Evaluation(pack=pack, accounts=Accounts(len(table), builder), as_of=as_of, input_name=input_name,
                      timings=timings, jobs=found.jobs, table=table, rows=rows,
                      situations=found.situations, warnings=tuple(warnings), source=source or {},
                      present_fields=present, decided=decided)


class _AccountBuilder:
    """Builds one account's AccountResult on demand from the table and the decisions' outcomes."""

    def __init__(self, pack: RulePack, table: FactTable, fact_names: list, decided: dict, rows: np.ndarray):
        self.pack, self.table, self.fact_names, self.decided, self.rows = pack, table, fact_names, decided, rows
        self.params = pack.param_values
        self.has_id = "account_id" in table.columns
        self.has_name = "account_name" in table.columns

    def __call__(self, index: int) -> AccountResult:
        table = self.table
        account_id = table.value("account_id", index) if self.has_id else None
        return AccountResult(
            index=index,
            row=int(self.rows[index]),
            account_id="" if account_id is None else str(account_id),
            account_name=table.value("account_name", index) if self.has_name else None,
            facts=table.row(index, self.fact_names),
            decisions=_Decisions(self, index),
        )

    def decision(self, decision: Decision, index: int) -> DecisionResult:
        outcome = self.decided[decision.id].of(index)
        outputs = {name: list(v) if isinstance(v, list) else v for name, v in outcome.outputs.items()}  # its own
        known = self.table.row(index)
        filler = _Filler(self.pack, known, self.params)
        hits = []
        for rule in outcome.rules:
            hits.append(Hit(rule=rule.id, outputs=rule.then, source=rule.source, template=rule.because,
                            reads={name: known.get(name) for name in sorted(rule.reads)}, filler=filler))
        if outcome.default:
            hits.append(Hit(rule="default", outputs=decision.default or {}, reads={}, template=DEFAULT_BECAUSE))
        return DecisionResult(decision.id, outputs, tuple(hits))


class _Decisions(Mapping):
    """An account's decisions by id, each built the first time it is read."""

    def __init__(self, builder: _AccountBuilder, index: int):
        self._builder, self._index = builder, index
        self._built: dict[str, DecisionResult] = {}

    def __getitem__(self, decision_id: str) -> DecisionResult:
        if decision_id not in self._built:
            decision = self._builder.pack.decision(decision_id)  # KeyError for an unknown id
            self._built[decision_id] = self._builder.decision(decision, self._index)
        return self._built[decision_id]

    def __iter__(self):
        return (d.id for d in self._builder.pack.decisions)

    def __len__(self) -> int:
        return len(self._builder.pack.decisions)

    def __repr__(self) -> str:
        return repr(dict(self.items()))


class _Filler:
    """Fills a rule's `because` with one account's values (the rule's own outputs first)."""

    __slots__ = ("pack", "known", "params")

    def __init__(self, pack: RulePack, known: Any, params: dict):
        self.pack, self.known, self.params = pack, known, params

    def lookup(self, name: str, outputs: dict) -> Any:
        """The value a placeholder shows: `params.x`, else the rule's own output, else the account's value."""
        if name.startswith("params."):
            return self.params.get(name[7:])
        return outputs[name] if name in outputs else self.known.get(name)

    def __call__(self, template: dict, outputs: dict) -> dict:
        return fill_text(template, lambda name: self.lookup(name, outputs), self.pack.label)
