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

from kamrules.language import expr as ex
from kamrules.data.wording import at, field_ref, say
from kamrules.errors import DataError, EvaluationError
from kamrules.engine.features import compute_derived, prepare_facts
from kamrules.engine.coding import long_texts
from kamrules.engine import masks as mask_codec
from kamrules.engine.decide import Engine, given_columns, per_account_reference, symbol_types
from kamrules.pack import Decision, RulePack, core_traps
from kamrules.engine.evaluation import AccountResult, Accounts, DecisionResult, Evaluation, FactTable, Hit
from kamrules.language.text import fill_text

DEFAULT_BECAUSE = {"en": "no rule matched: the default applies", "zh": "没有规则匹配：采用默认值"}


MAX_LONG_TEXTS_LISTED = 20


def check_compared_texts(engine: Engine, pack: RulePack, facts: pd.DataFrame, rows: np.ndarray, input_name: str = "",
                         lang: str = "en", headers: Mapping[str, str] | None = None) -> None:
    """Refuse the cells of the text columns rules compare (with a constant or another column) that are
    longer than the engine compares whole: it would compare only their start ("north" followed by
    65,531 x's equals "north"; pack/core_traps.py). Checked once, before both engine paths, so both
    refuse the same cells with the same message: the rows, columns (`headers`: field -> the column
    header it was read from, when known), fields and lengths."""
    types = symbol_types(pack)
    compared: list[str] = []
    for decision in pack.decisions:
        compiled = engine.runner(decision, pack.hash).compiled
        for name in compiled.columns:
            if (name in facts.columns and name not in compared and types.get(name) in (ex.STRING, ex.CATEGORY)
                    and (name in compiled.constants or name in compiled.exact)):
                compared.append(name)
    found = sorted((int(rows[position]), order, name, chars, size)
                   for order, name in enumerate(compared) for position, chars, size in long_texts(facts[name]))
    if not found:
        return
    headers = headers or {}
    lines = [say(lang, "long_text_line_column" if name in headers else "long_text_line", where=at(lang, "row", row),
                 column=headers.get(name), field=_field_named(pack, name, lang), chars=f"{chars:,}", size=f"{size:,}")
             for row, _, name, chars, size in found[:MAX_LONG_TEXTS_LISTED]]
    if len(found) > MAX_LONG_TEXTS_LISTED:
        lines.append("  " + say(lang, "first_more", n=len(found) - MAX_LONG_TEXTS_LISTED))
    raise DataError(say(lang, "long_texts", name=f"{input_name}: " if input_name else "", n=len(found),
                        max=f"{core_traps.MAX_TEXT_BYTES:,}", lines="\n".join(lines)))


def _field_named(pack: RulePack, name: str, lang: str) -> str:
    spec = pack.fields.get(name)
    return field_ref(name, spec.label if spec is not None else None, lang)


def _refuse(pack: RulePack, masks: dict, facts: pd.DataFrame, rows: np.ndarray) -> None:
    """Stop the run where a decision's hit policy refuses the rules that match an account
    (`HitPolicy.refuses`: two rules of a `unique` decision), naming the first 20 accounts."""
    for decision in pack.decisions:
        refused = mask_codec.refused(decision, masks[decision.id])
        if not refused:
            continue
        lines = []
        for position, indexes in refused[:20]:
            account = facts.at[position, "account_id"] if "account_id" in facts.columns else position + 1
            rule_ids = ", ".join(decision.rules[i].id for i in indexes)
            lines.append(f"  account '{account}' (row {rows[position]}): rules {rule_ids} all match")
        more = f"\n  … and {len(refused) - 20} more" if len(refused) > 20 else ""
        policy = decision.policy
        raise EvaluationError(f"decision '{decision.id}' is 'hit: {policy.name}' but {policy.refusal}:\n"
                              + "\n".join(lines) + more + f"\n{policy.refusal_advice}")


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
        from kamrules.engine.chunks import decide_in_chunks

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


def decide_frame(pack: RulePack, frame: pd.DataFrame, *, as_of: dt.date, rows: np.ndarray, jobs: int,
                 progress: Callable[[str], None] | None, per_account: bool, engine: Engine, context: tuple,
                 figures: pd.DataFrame | None = None, overflowed_counts: dict | None = None) -> tuple:
    """Features, then decisions, of the accounts of `frame` (`rows`: their row numbers): (the table of
    facts and decided values, the names of the facts, the outcomes per decision, what the engine found,
    timings, warnings). `figures`: the portfolio-wide figures of these accounts, when computed over a
    larger portfolio (engine/chunks.py); `context`: (input name, language, headers) for messages."""
    input_name, lang, headers = context
    timings: dict[str, float] = {}
    started = time.perf_counter()
    if progress is not None:
        progress("features and scores")
    warnings: list = []  # features whose arithmetic overflowed
    facts = compute_derived(pack, prepare_facts(pack, frame), as_of, warnings, given=figures,
                            overflowed_counts=overflowed_counts)
    del frame
    timings["features"] = time.perf_counter() - started
    with engine.in_use():  # (no ruleset is freed while this evaluation may use it)
        check_compared_texts(engine, pack, facts, rows, input_name, lang, headers)  # before either engine path (core_traps.py)
        started = time.perf_counter()
        found = engine.decide(pack, facts, jobs, progress, per_account)
        timings["rules"] = time.perf_counter() - started
    masks = found.masks
    _refuse(pack, masks, facts, rows)

    started = time.perf_counter()
    coded = {d.id: mask_codec.first_order(masks.pop(d.id), found.codes.get(d.id)) for d in pack.decisions}
    decided = {d.id: mask_codec.outcomes(d, None, coded[d.id]) for d in pack.decisions}
    fact_names = list(facts.columns)
    columns: dict = {}  # every decision's columns, joined to the facts at once (not a column at a time)
    for decision in pack.decisions:
        columns.update(given_columns(decided[decision.id], facts.index))
    table = pd.concat([facts, pd.DataFrame(columns, index=facts.index)], axis=1)
    timings["results"] = time.perf_counter() - started
    found.codes = coded  # each decision's masks in order of their first account (a chunked run joins them)
    return table, fact_names, decided, found, timings, warnings


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
