"""The portfolio-wide figures of a pack: the derived values that need every account at once.

A pack's derived items are of two kinds. *Portfolio-wide* ones compare an account with the others:
the Pareto cumulative share, ranks, percentiles, `share_of`, `hhi`, group sums, means, maxima, minima
and counts, and every score (its criteria are normalised over the portfolio: percentiles or the
portfolio's minimum and maximum). *Row-local* ones read one account only: expressions, `days_since`,
`days_until`, bands, `criteria_of`. A chunked run (engine/chunks.py) computes the portfolio-wide
figures first, from only the columns they read (pass 1: a few number columns, small beside the whole
table), then the rest chunk by chunk with those figures given (pass 2). A row-local item a
portfolio-wide one reads is computed in pass 1 too, so the figures are exactly the whole run's.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from kamrules.engine.features import ID_FIELD, compute_derived, prepare_facts
from kamrules.pack import RulePack, ScoreSpec
from kamrules.pack.model import GROUP_FUNCTIONS

WIDE_FUNCTIONS = frozenset({"cumulative_share", *GROUP_FUNCTIONS})  # a feature that needs every account


def is_portfolio_wide(item) -> bool:
    """Whether a derived item (feature or score) needs every account of the portfolio at once."""
    return isinstance(item, ScoreSpec) or item.function in WIDE_FUNCTIONS


def first_pass_items(pack: RulePack) -> list:
    """The derived items pass 1 computes, in the pack's (dependency) order: the portfolio-wide ones and
    every derived item they read, directly or not."""
    by_name = {item.name: item for item in pack.derived}
    wanted = {item.name for item in pack.derived if is_portfolio_wide(item)}
    todo = list(wanted)
    while todo:
        for name in _reads(by_name[todo.pop()]):
            if name in by_name and name not in wanted:
                wanted.add(name)
                todo.append(name)
    return [item for item in pack.derived if item.name in wanted]


def figure_names(pack: RulePack) -> list[str]:
    """The names of the portfolio-wide figures (what pass 1 hands to every chunk)."""
    return [item.name for item in first_pass_items(pack) if is_portfolio_wide(item)]


def first_pass_fields(pack: RulePack) -> list[str]:
    """The pack's fields pass 1 reads: those its items read, and the account id (equal values are
    ordered by it on the Pareto curve and in ordered ranks)."""
    items = first_pass_items(pack)
    names = set().union(*(_reads(item) for item in items)) if items else set()
    if items:
        names.add(ID_FIELD)
    return [name for name in pack.fields if name in names]


def portfolio_figures(pack: RulePack, frame: pd.DataFrame, as_of: dt.date,
                      overflowed_counts: dict | None = None) -> pd.DataFrame:
    """Pass 1: the portfolio-wide figures of every account (one column each, in input order), computed
    from the columns of `frame` they read; `overflowed_counts` gets, per item, the accounts whose
    arithmetic overflowed."""
    fields = first_pass_fields(pack)
    facts = prepare_facts(pack, frame, names=fields)
    facts = compute_derived(pack, facts, as_of, items=first_pass_items(pack), overflowed_counts=overflowed_counts)
    return facts[figure_names(pack)]


def _reads(item) -> set[str]:
    """The names a derived item reads: its own `reads`, and the column it groups by."""
    names = set(item.reads)
    within = getattr(item, "within", None)
    if within:
        names.add(within)
    return names
