"""Deciding every account: the engine a process decides with (the rulesets it keeps compiled in
durable_rules' core, and the tuning of the situations path) and its two paths.

- Each distinct situation asked once (the default, situations.py): a million accounts take a few
  thousand engine calls, in this process. Splitting them over two forked processes saved a second but
  cost 250 MB more (each worker's touches of the text cells it reads copy the pages it shares with
  this process).
- Every account through each decision's ruleset (`per_account=True`, or KAMRULES_PER_ACCOUNT=1), split
  over `jobs` forked processes.

Both give, per decision, each account's match mask (engine/masks.py), from which evaluate builds the
evaluation's outcomes; tests/test_situations.py checks that they, and the reference semantics
(engine/reference.py), agree.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable, ClassVar

import numpy as np
import pandas as pd

from kamrules.engine import masks as mask_codec
from kamrules.engine.coding import Tuning, Workspace, broadcast
from kamrules.engine.durable import MAX_RULESETS, DecisionRunner, Rulesets, message_values
from kamrules.engine.outcomes import Outcomes
from kamrules.engine.situations import Columns, decide_decision
from kamrules.language import expr as ex
from kamrules.pack import Decision, RulePack

MESSAGE_BATCH = 10_000  # accounts whose engine messages are encoded at once (the per-account path)


@dataclass
class Decided:
    """What the decision stage found: per decision each account's match mask; on the situations
    path also each account's mask code and the distinct masks (no hashing of a million masks again)."""

    masks: dict[str, np.ndarray]
    codes: dict[str, tuple] = field(default_factory=dict)
    situations: int = 0  # engine calls made: distinct situations, or accounts × decisions
    jobs: int = 1  # processes the accounts were decided in


class Engine:
    """durable_rules as a process decides with it: the rulesets kept compiled in its core (`Rulesets`:
    at most `ruleset_limit` between evaluations) and the tuning of the situations path. The core is one
    per process, and so is the engine `evaluate` uses unless it is given another (`of_process`); tests
    make their own, with small tuning sizes or a small bound."""

    _process: ClassVar[Engine | None] = None

    def __init__(self, tuning: Tuning = Tuning(), ruleset_limit: int = MAX_RULESETS):
        self.tuning = tuning
        self.rulesets = Rulesets(ruleset_limit)

    @classmethod
    def of_process(cls) -> Engine:
        """The engine of this process (made when first asked for)."""
        if cls._process is None:
            cls._process = cls()
        return cls._process

    def in_use(self):
        """`with engine.in_use():` around everything that runs its rulesets: none is freed meanwhile."""
        return self.rulesets.in_use()

    def runner(self, decision: Decision, pack_hash: str) -> DecisionRunner:
        """A decision's compiled ruleset, ready to run."""
        return self.rulesets.runner(decision, pack_hash)

    def close(self) -> None:
        """Delete every ruleset this engine keeps in the core (compiled again when needed)."""
        self.rulesets.trim(0)

    def decide(self, pack: RulePack, facts: pd.DataFrame, jobs: int = 1,
               progress: Callable[[str], None] | None = None, per_account: bool = False) -> Decided:
        """Each account's match mask per decision (bit i = rule i), in input order: each distinct
        situation asked once, or (`per_account`) every account asked, split over `jobs` processes."""
        with self.rulesets.in_use():
            if per_account:
                return self._per_account(pack, facts, jobs, progress)
            return self._situations(pack, facts, progress)

    def _situations(self, pack: RulePack, facts: pd.DataFrame, progress: Callable[[str], None] | None) -> Decided:
        """Each distinct situation asked once (`situations.decide_decision`). A decision's outputs stay
        coded for the later ones (`situations.Columns`)."""
        types = symbol_types(pack)
        compiled = [self.runner(decision, pack.hash).compiled for decision in pack.decisions]
        columns = Columns(facts, types, compiled, Workspace(len(facts), self.tuning))
        last_read = {column: number for number, c in enumerate(compiled) for column in c.columns}
        decided = Decided({})
        for number, decision in enumerate(pack.decisions):
            _tell(progress, number, pack)
            columns.now = number
            hidden = columns.hidden(compiled[number].hidden)
            mask, account_codes, distinct, asked = decide_decision(
                decision, compiled[number], self.rulesets, pack.hash, hidden, hidden_types(types, hidden), columns)
            decided.situations += asked
            decided.masks[decision.id] = mask
            decided.codes[decision.id] = (account_codes, distinct)
            columns.forget([c for c, last in last_read.items() if last == number])  # read by no later decision
            policy = decision.policy
            decoded = [policy.outputs(decision, mask_codec.mask_rules(int(m)))[:2] for m in distinct]
            for name, values, kind in given_values(decision, decoded):
                columns.set_output(name, values, account_codes, kind)
        return decided

    def _per_account(self, pack: RulePack, facts: pd.DataFrame, jobs: int,
                     progress: Callable[[str], None] | None) -> Decided:
        """Every account through each decision's ruleset; with more than one job, contiguous slices in
        forked processes (which die with this one: kamrules/processes.py)."""
        count = len(facts)
        jobs = effective_jobs(jobs, count)
        if jobs == 1:
            return Decided(self._chunk(pack, facts, progress), situations=count * len(pack.decisions))
        from kamrules.processes import fork_map

        if progress is not None:
            progress(f"{len(pack.decisions)} decisions in {jobs} processes")
        bounds = [(int(c[0]), int(c[-1]) + 1) for c in np.array_split(np.arange(count), jobs) if len(c)]
        parts = fork_map(lambda b: self._chunk(pack, facts.iloc[b[0]:b[1]].reset_index(drop=True)), bounds)
        masks = {d.id: np.concatenate([part[d.id] for part in parts]) for d in pack.decisions}
        return Decided(masks, situations=count * len(pack.decisions), jobs=jobs)

    def _chunk(self, pack: RulePack, facts: pd.DataFrame, progress: Callable[[str], None] | None = None) -> dict:
        """Match masks per decision for a slice of the portfolio, every account through each decision's
        ruleset (outputs flow into later decisions)."""
        frame = facts.copy(deep=False)  # copy-on-write: new columns here leave `facts` as it is
        types = symbol_types(pack)
        masks: dict[str, np.ndarray] = {}
        for number, decision in enumerate(pack.decisions):
            _tell(progress, number, pack)
            runner = self.runner(decision, pack.hash)
            for column, node in runner.compiled.hidden.items():  # arithmetic, by pandas
                frame[column] = ex.eval_vector(node, frame)
            column_types = hidden_types(types, {column: frame[column] for column in runner.compiled.hidden})
            masks[decision.id] = _per_account(runner, frame, column_types)
            frame = frame.drop(columns=list(runner.compiled.hidden))
            for name, column in given_columns(mask_codec.outcomes(decision, masks[decision.id]), frame.index).items():
                frame[name] = column
        return masks


def _tell(progress: Callable[[str], None] | None, number: int, pack: RulePack) -> None:
    if progress is not None:
        progress(f"decision {number + 1}/{len(pack.decisions)}: {pack.decisions[number].id}")


def _per_account(runner: DecisionRunner, frame: pd.DataFrame, column_types: dict) -> np.ndarray:
    compiled = runner.compiled
    mask = np.zeros(len(frame), dtype=np.uint64)
    for start in range(0, len(frame), MESSAGE_BATCH):  # bounded memory: messages are built per batch
        bodies = message_values(frame.iloc[start:start + MESSAGE_BATCH], compiled.columns, column_types)
        mask[start:start + len(bodies)] = [mask_codec.to_mask(runner.run(body)) for body in bodies]
    return mask


def symbol_types(pack: RulePack) -> dict:
    return {name: symbol.type for name, symbol in pack.symbols().items()}


def hidden_types(types: dict, hidden: dict) -> dict:
    """The types with those of a decision's hidden columns: a number, or a condition (boolean)."""
    column_types = dict(types)
    for column, series in hidden.items():
        column_types[column] = ex.NUMBER if series.dtype == "float64" else ex.BOOLEAN
    return column_types


def given_values(decision: Decision, decoded: list) -> list[tuple[str, list, str]]:
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


def given_columns(outcomes: Outcomes, index: pd.Index) -> dict:
    """The values a decision gives later decisions (its outputs, or its count and totals) as columns by
    name: each column is its few distinct values, converted, then taken per account."""
    decoded = [(outcome.outputs, outcome.indexes) for outcome in outcomes.distinct]
    return {name: broadcast(values, outcomes.codes(), kind, index)
            for name, values, kind in given_values(outcomes.decision, decoded)}


def per_account_reference() -> bool:
    """The hidden switch to the per-account engine path (KAMRULES_PER_ACCOUNT=1)."""
    return os.environ.get("KAMRULES_PER_ACCOUNT", "") == "1"


def effective_jobs(jobs: int, accounts: int) -> int:
    """Worker processes actually used: forking costs more than it saves below ~1,000 accounts each."""
    return max(1, min(jobs, accounts // 1000 or 1))


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1
