"""History facts for rules: what earlier reviews say about each account, as of a date.

For a register and an as-of date, the reviews of the pack dated before it are read (one per date, the
run recorded last: `current_reviews`), newest first: R1 (the previous review), R2, … Per account of R1:

- `previous_tier`: its tier in R1;
- `reviews_as_key`: how many reviews in a row, counting back from R1, it was key (tier `key`);
- `reviews_below_key`: how many reviews in a row, from R1, it was present and not key;
- `declines_in_row`: how many reviews in a row, from R1, its sales were below its sales in the review
  before (both known; an account absent from a review ends the run);
- `key_since`: the as-of date of the first review of its current run as key (None when not key in R1;
  the oldest review's date when it was key in every review recorded).

An account absent from R1 has no row: a rule reads the facts as missing (no previous tier) and the counts
as 0. The run being decided is never counted: the facts end at the previous review.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from kamrules.register import store
from kamrules.register.history import reviews_of
from kamrules.register.record import KEY_TIER
from kamrules.register.store import quoted

FACTS = ("previous_tier", "reviews_as_key", "reviews_below_key", "declines_in_row", "key_since")


@dataclass
class HistoryFacts:
    """Per account id (the index), the FACTS columns; `previous_as_of` is R1's date (None: no earlier review)."""

    frame: pd.DataFrame
    previous_as_of: str | None
    reviews: int  # how many earlier reviews were read


def history_facts(path: Path, as_of: dt.date, pack: str | None = None, lang: str = "en") -> HistoryFacts:
    """The history facts of every account of the previous review (see the module's docstring) from the
    register at `path`, for a run as of `as_of`; `pack` is the pack's name (default: the pack of the
    review recorded last). A register without a review before `as_of` gives an empty frame."""
    register = store.open_register(path, lang)
    try:
        _, reviews, _ = reviews_of(register, pack, before=as_of.isoformat())
        with store.sqlite_errors(register.path, lang):
            columns = [_read(register, review) for review in reversed(reviews)]  # newest first
    finally:
        register.close()
    empty = pd.DataFrame({name: pd.Series(dtype=object if name in ("previous_tier", "key_since") else "int64")
                          for name in FACTS}, index=pd.Index([], name="account_id", dtype=object))
    if not columns:
        return HistoryFacts(empty, None, 0)
    dates = [r.as_of for r in reversed(reviews)]
    latest = columns[0]
    ids = latest.index
    tiers = [c["tier"].reindex(ids) for c in columns]
    sales = [pd.to_numeric(c["sales"], errors="coerce").reindex(ids) for c in columns]
    present = [ids.isin(c.index) for c in columns]
    key = np.column_stack([p & (t == KEY_TIER).to_numpy() for p, t in zip(present, tiers)])
    below = np.column_stack([p & ~(t == KEY_TIER).to_numpy() for p, t in zip(present, tiers)])
    declines = [(s < older).to_numpy() & p & q for s, older, p, q in zip(sales, sales[1:], present, present[1:])]
    as_key = _leading(key)
    frame = pd.DataFrame({
        "previous_tier": tiers[0].astype(object).where(tiers[0].notna(), None).to_numpy(),
        "reviews_as_key": as_key,
        "reviews_below_key": _leading(below),
        "declines_in_row": _leading(np.column_stack(declines)) if declines else np.zeros(len(ids), dtype="int64"),
        "key_since": np.array([dates[n - 1] if n else None for n in as_key.tolist()], dtype=object),
    }, index=pd.Index(ids, name="account_id"))
    for name in ("previous_tier", "key_since"):  # missing as None (pandas made it NaN)
        frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
    return HistoryFacts(frame, dates[0], len(columns))


def _leading(flags: np.ndarray) -> np.ndarray:
    """Per row, how many of its first columns are true in a row."""
    if flags.shape[1] == 0:
        return np.zeros(flags.shape[0], dtype="int64")
    return np.cumprod(flags, axis=1).sum(axis=1).astype("int64")


def _read(register: store.Register, review) -> pd.DataFrame:
    """The tier and sales of every account of a review, indexed by account id."""
    tier, sales = review.roles.get("tier"), review.roles.get("sales")
    present = {row[1] for row in register.connection.execute("PRAGMA table_info(accounts)")}
    select = ", ".join([quoted(tier) if tier in present else "NULL", quoted(sales) if sales in present else "NULL"])
    rows = register.connection.execute(f"SELECT account_id, {select} FROM accounts WHERE review_id = ?",
                                       (review.review_id,)).fetchall()
    frame = pd.DataFrame(rows, columns=["account_id", "tier", "sales"], dtype=object)
    return frame.set_index("account_id")
