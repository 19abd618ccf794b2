"""Features, then decisions, of a frame of accounts: what `evaluate` runs once for the whole portfolio,
or once per chunk with the portfolio-wide figures given (engine/chunks.py)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from typing import Callable

import numpy as np
import pandas as pd

from kamrules.language import expr as ex
from kamrules.data.wording import at, field_ref, say
from kamrules.errors import DataError, EvaluationError
from kamrules.engine.features import compute_derived, prepare_facts
from kamrules.engine.coding import long_texts
from kamrules.engine import masks as mask_codec
from kamrules.engine.decide import Engine, given_columns, symbol_types
from kamrules.pack import RulePack, core_traps


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
