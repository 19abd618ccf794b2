"""The main job: features with pandas, decisions with durable_rules, results per account.

`evaluate(pack, frame, as_of=...)` returns an `Evaluation`. Decisions run in dependency order; each
account's message to the engine carries only what that decision reads. With `jobs > 1` the accounts
are split into contiguous chunks, each decided in its own process with its own engine host.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import time
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from . import expr as ex
from .engine import message_values, runner_for
from .errors import EvaluationError
from .features import compute_derived, prepare_facts
from .pack import Decision, RulePack
from .results import AccountResult, DecisionResult, Evaluation, Hit
from .text import fill_text


def decide_outputs(decision: Decision, matched: Sequence[int]) -> tuple[dict, list[int], bool]:
    """Apply the hit policy: (outputs, deciding rule indexes, used_default)."""
    rules = decision.rules
    if decision.hit == "collect":
        outputs = {name: [rules[i].then.get(name) for i in matched] for name in decision.outputs}
        return outputs, list(matched), False
    if decision.hit == "priority" and matched:
        best = min(matched, key=lambda i: (-rules[i].priority, i))
        return dict(rules[best].then), [best], False
    if matched:
        return dict(rules[matched[0]].then), [matched[0]], False
    if decision.default is not None:
        return dict(decision.default), [], True
    return {name: None for name in decision.outputs}, [], False


def _symbol_types(pack: RulePack) -> dict:
    return {name: symbol.type for name, symbol in pack.symbols().items()}


def _decide_chunk(pack: RulePack, facts: pd.DataFrame, progress: Callable[[str], None] | None = None) -> tuple[dict, list]:
    """Rule indexes matched per decision per account, for a slice of the portfolio."""
    frame = facts.copy()
    types = _symbol_types(pack)
    matches: dict[str, list] = {}
    conflicts: list = []
    for number, decision in enumerate(pack.decisions, 1):
        if progress is not None:
            progress(f"decision {number}/{len(pack.decisions)}: {decision.id}")
        runner = runner_for(decision, pack.hash)
        compiled = runner.compiled
        column_types = dict(types)
        for column, node in compiled.hidden.items():
            frame[column] = ex.eval_vector(node, frame)
            column_types[column] = ex.NUMBER if frame[column].dtype == "float64" else ex.BOOLEAN
        messages = message_values(frame, compiled.columns, column_types)
        per_account = [runner.run(message) for message in messages]
        matches[decision.id] = per_account
        if decision.hit == "unique":
            for position, matched in enumerate(per_account):
                if len(matched) > 1:
                    conflicts.append((decision.id, position, [decision.rules[i].id for i in matched]))
        _store_outputs(decision, per_account, frame)
        frame = frame.drop(columns=list(compiled.hidden))
    return matches, conflicts


def _store_outputs(decision: Decision, per_account: list, frame: pd.DataFrame) -> None:
    """Put a decision's outputs into the frame, so later decisions can read them."""
    if decision.hit == "collect":
        frame[decision.count_name] = [float(len(m)) for m in per_account]
        return
    columns: dict[str, list] = {name: [] for name in decision.outputs}
    for matched in per_account:
        outputs, _, _ = decide_outputs(decision, matched)
        for name in decision.outputs:
            value = outputs.get(name)
            columns[name].append(value if not isinstance(value, dict) else value.get("en"))
    for name, values in columns.items():
        spec = decision.outputs[name]
        if spec.type == "number":
            frame[name] = pd.Series([np.nan if v is None else v for v in values], index=frame.index, dtype="float64")
        elif spec.type == "boolean":
            frame[name] = pd.Series([pd.NA if v is None else v for v in values], index=frame.index, dtype="boolean")
        else:
            frame[name] = pd.Series(values, index=frame.index, dtype="object")


_WORK: tuple | None = None  # (pack, facts) inherited by forked workers


def _work_chunk(bounds: tuple[int, int]) -> tuple[dict, list]:
    assert _WORK is not None
    pack, facts = _WORK
    start, stop = bounds
    matches, conflicts = _decide_chunk(pack, facts.iloc[start:stop].reset_index(drop=True))
    return matches, [(d, start + p, r) for d, p, r in conflicts]


def decide(pack: RulePack, facts: pd.DataFrame, jobs: int = 1,
           progress: Callable[[str], None] | None = None) -> tuple[dict, list]:
    """Rule indexes matched per decision per account (in input order), and `unique` conflicts."""
    jobs = effective_jobs(jobs, len(facts))
    if jobs == 1:
        return _decide_chunk(pack, facts, progress)
    if progress is not None:
        progress(f"{len(pack.decisions)} decisions in {jobs} processes")
    global _WORK
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    bounds = [(int(chunk[0]), int(chunk[-1]) + 1) for chunk in np.array_split(np.arange(n), jobs) if len(chunk)]
    _WORK = (pack, facts)
    try:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            parts = list(pool.map(_work_chunk, bounds))
    finally:
        _WORK = None
    matches = {d.id: [m for part, _ in parts for m in part[d.id]] for d in pack.decisions}
    conflicts = [c for _, part_conflicts in parts for c in part_conflicts]
    return matches, conflicts


def effective_jobs(jobs: int, accounts: int) -> int:
    """Worker processes actually used: forking costs more than it saves below ~1,000 accounts each."""
    return max(1, min(jobs, accounts // 1000 or 1))


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _python_values(series: pd.Series) -> list:
    """A column as plain Python values (None for missing), fast for whole columns."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return [None if pd.isna(v) else v.date() for v in series]
    if pd.api.types.is_float_dtype(series):
        return [None if v != v else v for v in series.tolist()]
    values = series.astype(object).tolist()
    return [None if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v) else
            (bool(v) if isinstance(v, np.bool_) else v) for v in values]


def evaluate(
    pack: RulePack,
    frame: pd.DataFrame,
    *,
    as_of: dt.date,
    jobs: int = 1,
    input_name: str = "",
    row_numbers: Sequence[int] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Evaluation:
    """Evaluate every account of `frame` (one column per field) against the pack.

    `progress`, when given, is called with a short description of each stage as it starts."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    if progress is not None:
        progress("features and scores")
    facts = compute_derived(pack, prepare_facts(pack, frame), as_of)
    timings["features"] = time.perf_counter() - started

    started = time.perf_counter()
    matches, conflicts = decide(pack, facts, jobs, progress)
    timings["rules"] = time.perf_counter() - started
    if row_numbers is None:
        row_numbers = [i + 2 for i in range(len(facts))]
    if conflicts:
        lines = []
        for decision_id, position, rule_ids in conflicts[:20]:
            account = facts.at[position, "account_id"] if "account_id" in facts.columns else position + 1
            lines.append(f"  account '{account}' (row {row_numbers[position]}): rules {', '.join(rule_ids)} all match")
        more = f"\n  … and {len(conflicts) - 20} more" if len(conflicts) > 20 else ""
        raise EvaluationError(
            f"decision '{conflicts[0][0]}' is 'hit: unique' but more than one rule matched:\n"
            + "\n".join(lines) + more
            + "\nnarrow the rules so that at most one matches, or use 'hit: first'"
        )

    started = time.perf_counter()
    accounts = build_results(pack, facts, matches, row_numbers)
    timings["results"] = time.perf_counter() - started
    return Evaluation(pack=pack, accounts=accounts, as_of=as_of, input_name=input_name, timings=timings,
                      jobs=effective_jobs(jobs, len(facts)))


def build_results(pack: RulePack, facts: pd.DataFrame, matches: dict, row_numbers: Sequence[int]) -> list:
    fact_names = list(facts.columns)
    columns = {name: _python_values(facts[name]) for name in fact_names}
    params = pack.param_values
    default_because = {"en": "no rule matched: the default applies", "zh": "没有规则匹配：采用默认值"}
    accounts: list[AccountResult] = []
    for i in range(len(facts)):
        values = {name: columns[name][i] for name in fact_names}
        account = AccountResult(
            index=i,
            row=int(row_numbers[i]),
            account_id="" if values.get("account_id") is None else str(values.get("account_id")),
            account_name=values.get("account_name"),
            facts=values,
        )
        known = dict(values)  # facts and, once decided, every output: what reasons may quote
        decided = []
        for decision in pack.decisions:
            matched = matches[decision.id][i]
            outputs, deciding, used_default = decide_outputs(decision, matched)
            known.update(outputs)
            if decision.hit == "collect":
                known[decision.count_name] = len(matched)
            decided.append((decision, outputs, deciding, used_default))
        filler = _Filler(pack, known, params)
        for decision, outputs, deciding, used_default in decided:
            hits = []
            for index in deciding:
                rule = decision.rules[index]
                hits.append(Hit(rule=rule.id, outputs=rule.then, source=rule.source, template=rule.because,
                                reads={name: known.get(name) for name in sorted(rule.reads)}, filler=filler))
            if used_default:
                hits.append(Hit(rule="default", outputs=decision.default or {}, reads={}, template=default_because))
            account.decisions[decision.id] = DecisionResult(decision.id, outputs, tuple(hits))
        accounts.append(account)
    return accounts


class _Filler:
    """Fills a rule's `because` with one account's values (the rule's own outputs first)."""

    __slots__ = ("pack", "known", "params")

    def __init__(self, pack: RulePack, known: dict, params: dict):
        self.pack, self.known, self.params = pack, known, params

    def __call__(self, template: dict, outputs: dict) -> dict:
        known, params = self.known, self.params

        def lookup(name: str) -> Any:
            if name.startswith("params."):
                return params.get(name[7:])
            return outputs[name] if name in outputs else known.get(name)

        return fill_text(template, lookup, self.pack.label)
