"""The main job: features with pandas, decisions with durable_rules, results per account.

`evaluate(pack, frame, as_of=...)` returns an `Evaluation`. Decisions run in dependency order; each
account's message to the engine carries only what that decision reads. With `jobs > 1` the accounts
are split into contiguous chunks, each decided in its own process with its own engine.

What the engine decided is kept compactly — per decision, one 64-bit mask of matching rules per
account (a decision has at most 64 rules, see `pack.MAX_BRANCHES_PER_DECISION`) — and the per-account
result objects are built only when something reads them, so a million accounts fit in memory.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Mapping
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from kamrules.language import expr as ex
from kamrules.engine.durable import message_values, runner_for, rulesets_in_use
from kamrules.data.wording import at, field_ref, say
from kamrules.errors import DataError, EvaluationError
from kamrules.engine.features import compute_derived, prepare_facts
from kamrules.engine.coding import broadcast, long_texts
from kamrules.engine import masks as mask_codec
from kamrules.engine.masks import mask_rules, to_mask
from kamrules.engine.outcomes import Outcomes
from kamrules.engine.situations import Columns, decide_decision
from kamrules.pack import Decision, RulePack, core_traps
from kamrules.engine.evaluation import AccountResult, Accounts, DecisionResult, Evaluation, FactTable, Hit
from kamrules.language.text import fill_text

MESSAGE_BATCH = 10_000  # accounts whose engine messages are encoded at once
DEFAULT_BECAUSE = {"en": "no rule matched: the default applies", "zh": "没有规则匹配：采用默认值"}


def _symbol_types(pack: RulePack) -> dict:
    return {name: symbol.type for name, symbol in pack.symbols().items()}


def _decide_chunk(pack: RulePack, facts: pd.DataFrame, progress: Callable[[str], None] | None = None) -> dict:
    """Match masks per decision for a slice of the portfolio, every account through each decision's
    ruleset (the per-account reference path; outputs flow into later decisions)."""
    frame = facts.copy(deep=False)  # copy-on-write: new columns here leave `facts` as it is
    types = _symbol_types(pack)
    masks: dict[str, np.ndarray] = {}
    for number, decision in enumerate(pack.decisions, 1):
        if progress is not None:
            progress(f"decision {number}/{len(pack.decisions)}: {decision.id}")
        runner = runner_for(decision, pack.hash)
        column_types = _with_hidden(runner.compiled, frame, types)
        masks[decision.id] = _per_account(runner, frame, column_types)
        frame = frame.drop(columns=list(runner.compiled.hidden))
        store_outputs(decision, masks[decision.id], frame)
    return masks


def _with_hidden(compiled, frame: pd.DataFrame, types: dict) -> dict:
    """Compute a decision's hidden columns (arithmetic, by pandas) into `frame`: the types with theirs."""
    for column, node in compiled.hidden.items():
        frame[column] = ex.eval_vector(node, frame)
    return _hidden_types(types, {column: frame[column] for column in compiled.hidden})


def _hidden_types(types: dict, hidden: dict) -> dict:
    """The types with those of a decision's hidden columns: a number, or a condition (boolean)."""
    column_types = dict(types)
    for column, series in hidden.items():
        column_types[column] = ex.NUMBER if series.dtype == "float64" else ex.BOOLEAN
    return column_types


def _decide_situations(pack: RulePack, facts: pd.DataFrame, progress: Callable[[str], None] | None = None,
                       stats: dict | None = None) -> dict:
    """Match masks per decision, each distinct situation asked once (`situations.decide_decision`).
    A decision's outputs stay coded for the later ones (`situations.Columns`); `stats["situations"]`
    counts engine calls and `stats["codes"]` keeps each decision's (mask code per account, distinct masks)."""
    types = _symbol_types(pack)
    compiled = [runner_for(decision, pack.hash).compiled for decision in pack.decisions]
    columns = Columns(facts, types, compiled)
    last_read = {column: number for number, c in enumerate(compiled) for column in c.columns}
    masks: dict[str, np.ndarray] = {}
    codes: dict[str, tuple] = {}
    for number, decision in enumerate(pack.decisions):
        if progress is not None:
            progress(f"decision {number + 1}/{len(pack.decisions)}: {decision.id}")
        columns.now = number
        hidden = columns.hidden(compiled[number].hidden)
        column_types = _hidden_types(types, hidden)
        mask, account_codes, distinct, asked = decide_decision(decision, compiled[number], pack.hash, hidden,
                                                               column_types, columns)
        if stats is not None:
            stats["situations"] = stats.get("situations", 0) + asked
        masks[decision.id] = mask
        codes[decision.id] = (account_codes, distinct)
        columns.forget([c for c, last in last_read.items() if last == number])  # read by no later decision
        policy = decision.policy
        decoded = [policy.outputs(decision, mask_rules(int(m)))[:2] for m in distinct]
        for name, values, kind in given_values(decision, decoded):
            columns.set_output(name, values, account_codes, kind)
    if stats is not None:
        stats["codes"] = codes
    return masks


def given_values(decision: Decision, decoded: Sequence[tuple[Mapping, Sequence[int]]]) -> list[tuple[str, list, str]]:
    """(column, its value for each distinct outcome, kind) for each column a decision puts in the table:
    the values it gives later decisions (`HitPolicy.given`: its outputs, or its count and totals).
    `decoded`: each distinct outcome's (outputs, deciding rule indexes)."""
    policy = decision.policy
    given = [policy.given(decision, outputs, deciding) for outputs, deciding in decoded]
    found = []
    for name, kind in policy.given_kinds(decision).items():
        values = [values.get(name) for values in given]
        if kind == "text":
            values = [v.get("en") if isinstance(v, dict) else v for v in values]
        found.append((name, values, kind))
    return found


def _per_account(runner, frame: pd.DataFrame, column_types: dict) -> np.ndarray:
    compiled = runner.compiled
    mask = np.zeros(len(frame), dtype=np.uint64)
    for start in range(0, len(frame), MESSAGE_BATCH):  # bounded memory: messages are built per batch
        bodies = message_values(frame.iloc[start:start + MESSAGE_BATCH], compiled.columns, column_types)
        mask[start:start + len(bodies)] = [to_mask(runner.run(body)) for body in bodies]
    return mask


def store_outputs(decision: Decision, masks: np.ndarray, frame: pd.DataFrame) -> None:
    """Put the values a decision gives later decisions into the frame as columns (`given_columns`)."""
    for name, column in given_columns(mask_codec.outcomes(decision, masks), frame.index).items():
        frame[name] = column


def given_columns(outcomes: Outcomes, index: pd.Index) -> dict:
    """The values a decision gives later decisions (its outputs, or its count and totals) as columns by
    name: each column is its few distinct values, converted, then taken per account."""
    decoded = [(outcome.outputs, outcome.indexes) for outcome in outcomes.distinct]
    return {name: broadcast(values, outcomes.codes(), kind, index)
            for name, values, kind in given_values(outcomes.decision, decoded)}


_WORK: tuple | None = None  # (pack, facts) inherited by forked workers


def _work_chunk(bounds: tuple[int, int]) -> dict:
    """The masks of accounts start..stop by the per-account engine, in a forked worker."""
    assert _WORK is not None
    pack, facts = _WORK
    start, stop = bounds
    return _decide_chunk(pack, facts.iloc[start:stop].reset_index(drop=True))


def per_account_reference() -> bool:
    """The hidden switch to the per-account engine path (KAMRULES_PER_ACCOUNT=1), kept as the
    reference the situations path is tested against."""
    return os.environ.get("KAMRULES_PER_ACCOUNT", "") == "1"


def decide(pack: RulePack, facts: pd.DataFrame, jobs: int = 1,
           progress: Callable[[str], None] | None = None, per_account: bool | None = None,
           stats: dict | None = None) -> dict:
    """Match masks per decision (bit i = rule i matched), one per account in input order.

    By default each distinct situation goes to the engine once, in this process: splitting a million
    accounts over two forked processes saved a second but cost 250 MB more (each worker's touches of
    the text cells it reads copy the pages it shares with this process). `per_account=True` (or
    KAMRULES_PER_ACCOUNT=1) sends every account, split over `jobs` processes."""
    with rulesets_in_use():
        return _decide(pack, facts, jobs, progress, per_account, stats)


def _decide(pack: RulePack, facts: pd.DataFrame, jobs: int, progress: Callable[[str], None] | None,
            per_account: bool | None, stats: dict | None) -> dict:
    count = len(facts)
    per_account = per_account_reference() if per_account is None else per_account
    if not per_account:
        return _decide_situations(pack, facts, progress, stats)
    if stats is not None:
        stats["situations"] = count * len(pack.decisions)
    jobs = effective_jobs(jobs, count)
    if jobs == 1:
        return _decide_chunk(pack, facts, progress)
    if progress is not None:
        progress(f"{len(pack.decisions)} decisions in {jobs} processes")
    global _WORK
    from kamrules.processes import worker_pool

    bounds = [(int(chunk[0]), int(chunk[-1]) + 1) for chunk in np.array_split(np.arange(count), jobs) if len(chunk)]
    _WORK = (pack, facts)
    try:
        with worker_pool(jobs) as pool:  # workers die with this process (kamrules/processes.py)
            parts = list(pool.map(_work_chunk, bounds))
    finally:
        _WORK = None
    return {d.id: np.concatenate([part[d.id] for part in parts]) for d in pack.decisions}


def effective_jobs(jobs: int, accounts: int) -> int:
    """Worker processes actually used: forking costs more than it saves below ~1,000 accounts each."""
    return max(1, min(jobs, accounts // 1000 or 1))


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


MAX_LONG_TEXTS_LISTED = 20


def check_compared_texts(pack: RulePack, facts: pd.DataFrame, rows: np.ndarray, input_name: str = "",
                         lang: str = "en", headers: Mapping[str, str] | None = None) -> None:
    """Refuse the cells of the text columns rules compare (with a constant or another column) that are
    longer than the engine compares whole: it would compare only their start ("north" followed by
    65,531 x's equals "north"; pack/core_traps.py). Checked once, before both engine paths, so both
    refuse the same cells with the same message: the rows, columns (`headers`: field -> the column
    header it was read from, when known), fields and lengths."""
    types = _symbol_types(pack)
    compared: list[str] = []
    for decision in pack.decisions:
        compiled = runner_for(decision, pack.hash).compiled
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
) -> Evaluation:
    """Evaluate every account of `frame` (one column per field) against the pack.

    `progress`, when given, is called with a short description of each stage as it starts; `lang` is
    the language of messages about the data, and `headers` (field -> the column it was read from, as
    `ReadResult.column_map`) lets them name the user's columns and tells which fields the file has
    (`Evaluation.present_fields`); `source`: what the reader says of the file (`ReadResult.source`),
    kept in the evaluation for the manifest and the report."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    if progress is not None:
        progress("features and scores")
    warnings: list = []  # features whose arithmetic overflowed
    facts = compute_derived(pack, prepare_facts(pack, frame), as_of, warnings)
    del frame  # the typed table replaces it (a caller that handed it over frees it now)
    timings["features"] = time.perf_counter() - started
    rows = np.arange(2, len(facts) + 2) if row_numbers is None else np.asarray(row_numbers)
    with rulesets_in_use():  # (no ruleset is freed while this evaluation may use it)
        check_compared_texts(pack, facts, rows, input_name, lang, headers)  # before either engine path (core_traps.py)
        started = time.perf_counter()
        stats: dict = {}
        masks = decide(pack, facts, jobs, progress, per_account=per_account, stats=stats)
        timings["rules"] = time.perf_counter() - started
    _refuse(pack, masks, facts, rows)

    started = time.perf_counter()
    codes = stats.get("codes", {})
    decided = {d.id: mask_codec.outcomes(d, masks.pop(d.id), codes.get(d.id)) for d in pack.decisions}
    fact_names = list(facts.columns)
    columns: dict = {}  # every decision's columns, joined to the facts at once (not a column at a time)
    for decision in pack.decisions:
        columns.update(given_columns(decided[decision.id], facts.index))
    table = pd.concat([facts, pd.DataFrame(columns, index=facts.index)], axis=1)
    builder = _AccountBuilder(pack, FactTable(table), fact_names, decided, rows)
    reference = per_account_reference() if per_account is None else per_account
    jobs_used = effective_jobs(jobs, len(facts)) if reference else 1
    present = None if headers is None else \
        tuple(name for name in headers if name not in table.columns or bool(table[name].notna().any()))
    timings["results"] = time.perf_counter() - started
    return Evaluation(pack=pack, accounts=Accounts(len(facts), builder), as_of=as_of, input_name=input_name,
                      timings=timings, jobs=jobs_used, table=table, rows=rows,
                      situations=stats.get("situations", 0), warnings=tuple(warnings), source=source or {},
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
