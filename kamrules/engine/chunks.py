"""A portfolio evaluated in chunks: the portfolio-wide figures first, then the accounts a chunk at a time.

Pass 1 computes the portfolio-wide figures (engine/portfolio_wide.py) from the few columns they read.
Pass 2 takes the accounts `chunk_size` at a time: their typed facts, the row-local features with the
figures given, the decisions. Every chunk is decided by the same engine (the rulesets compiled once).
Each decision's outcomes are numbered over the whole portfolio in order of their first account, as
one pass numbers them, so the evaluation — and every file written from it — is the same whatever
the chunk size (tests/test_chunks.py compares every file).

What a chunk holds while it is worked on (its typed facts, the engine's working columns, pandas'
temporaries) grows with the chunk, not with the portfolio. But the table of facts and decided values
the results are written from is still joined for the whole portfolio, and the input frame is held
until the last chunk, so a chunked run's peak memory is not lower yet — higher, measured
(docs/scale.md): what remains is writing the results chunk by chunk.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Callable

import numpy as np
import pandas as pd

from kamrules.engine import masks as mask_codec
from kamrules.engine.decide import Decided, Engine
from kamrules.engine.features import overflow_warning
from kamrules.engine.portfolio_wide import figure_names, portfolio_figures
from kamrules.engine.stages import decide_frame
from kamrules.pack import RulePack

def chunk_bounds(count: int, chunk_size: int) -> list[tuple[int, int]]:
    """(start, stop) of each chunk of `count` accounts, in input order."""
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    return [(start, min(start + chunk_size, count)) for start in range(0, count, chunk_size)]


class _Columns:
    """The chunks' tables a column at a time: each chunk's columns copied out of its table (so the table
    goes at once), then each column joined over the chunks and its parts let go as it is (never the
    whole table twice, as one concat of the chunks' tables holds it)."""

    def __init__(self) -> None:
        self.parts: dict[str, list] = {}

    def add(self, table: pd.DataFrame) -> None:
        for name in table.columns:
            self.parts.setdefault(name, []).append(table[name].copy(deep=True))

    def joined(self) -> pd.DataFrame:
        columns = {}
        for name in list(self.parts):
            parts = self.parts.pop(name)
            columns[name] = pd.concat(parts, ignore_index=True)
            del parts
        return pd.DataFrame(columns, copy=False)  # (the joined columns as they are: no copy into blocks)


class _Joined:
    """A decision's masks over the chunks so far, numbered in order of their first account."""

    def __init__(self) -> None:
        self.numbers: dict[int, int] = {}  # mask -> its number over the whole portfolio
        self.parts: list[np.ndarray] = []

    def add(self, codes: np.ndarray, distinct: np.ndarray) -> None:
        local = np.array([self.numbers.setdefault(int(mask), len(self.numbers)) for mask in distinct], dtype=np.int64)
        self.parts.append(local[codes] if len(codes) else np.zeros(0, dtype=np.int64))

    def coded(self) -> tuple[np.ndarray, np.ndarray]:
        distinct = np.array(list(self.numbers), dtype=np.uint64)
        codes = np.concatenate(self.parts) if self.parts else np.zeros(0, dtype=np.int64)
        return codes, distinct


def decide_in_chunks(pack: RulePack, frame: pd.DataFrame, *, as_of: dt.date, chunk_size: int, rows: np.ndarray,
                     jobs: int, progress: Callable[[str], None] | None, per_account: bool, engine: Engine,
                     context: tuple) -> tuple:
    """What `stages.decide_frame` returns for the whole of `frame`, computed chunk by chunk."""
    started = time.perf_counter()
    if progress is not None:
        progress("portfolio-wide figures")
    wide_counts: dict = {}
    figures = portfolio_figures(pack, frame, as_of, overflowed_counts=wide_counts)
    wide = set(figure_names(pack))
    counts = {name: n for name, n in wide_counts.items() if name in wide}  # (row-local ones: counted in pass 2)
    timings = {"features": time.perf_counter() - started, "rules": 0.0, "results": 0.0}
    bounds = chunk_bounds(len(frame), chunk_size)
    # each chunk's figures on their own, let go once the chunk is decided, as its part of the table grows
    pieces: list = [figures.iloc[start:stop].reset_index(drop=True).copy() for start, stop in bounds]
    del figures
    engine.rulesets.answers = {}  # each distinct situation asked once for the whole run
    try:
        return _second_pass(pack, frame, pieces, bounds, counts, timings, as_of=as_of, rows=rows, jobs=jobs,
                            progress=progress, per_account=per_account, engine=engine, context=context)
    finally:
        engine.rulesets.answers = None


def _second_pass(pack: RulePack, frame: pd.DataFrame, pieces: list, bounds: list, counts: dict, timings: dict, *,
                 as_of: dt.date, rows: np.ndarray, jobs: int, progress: Callable[[str], None] | None,
                 per_account: bool, engine: Engine, context: tuple) -> tuple:
    """Pass 2: the accounts chunk by chunk, with their portfolio-wide figures (`pieces`, one per chunk) given."""
    joined = {d.id: _Joined() for d in pack.decisions}
    columns, fact_names, found = _Columns(), [], Decided({})
    for number, (start, stop) in enumerate(bounds):
        if progress is not None:
            progress(f"accounts {start + 1:,}–{stop:,} of {len(frame):,} (chunk {number + 1}/{len(bounds)})")
        part, given, pieces[number] = frame.iloc[start:stop].reset_index(drop=True), pieces[number], None
        table, fact_names, _, part_found, part_timings, _ = decide_frame(
            pack, part, as_of=as_of, rows=rows[start:stop], jobs=jobs, progress=None, per_account=per_account,
            engine=engine, context=context, figures=given, overflowed_counts=counts)
        del part, given
        for decision in pack.decisions:
            joined[decision.id].add(*part_found.codes[decision.id])
        columns.add(table)
        del table
        found.situations += part_found.situations
        found.jobs = max(found.jobs, part_found.jobs)
        for stage, seconds in part_timings.items():
            timings[stage] = timings.get(stage, 0.0) + seconds
    started = time.perf_counter()
    table = columns.joined()
    found.codes = {d.id: joined[d.id].coded() for d in pack.decisions}
    decided = {d.id: mask_codec.outcomes(d, None, found.codes[d.id]) for d in pack.decisions}
    timings["results"] += time.perf_counter() - started
    warnings = [overflow_warning(item.name, counts[item.name]) for item in pack.derived if counts.get(item.name)]
    return table, fact_names, decided, found, timings, warnings
