"""History facts for rules: what earlier reviews say about each account, as of a date.

For a register and an as-of date, the reviews of the pack dated before it are read (one per date, the
run recorded last: `current_reviews`), newest first: R1 (the previous review), R2, … Per account of R1:

- `previous_tier`: its tier in R1;
- `previous_tier_basis`: its tier basis in R1 (the output in the pack's `tier_basis` role);
- `tier_basis_run`: how many reviews in a row, counting back from R1, its tier basis was that same value
  (1 when only R1 is known; an account absent from a review ends the run);
- `reviews_as_key`: how many reviews in a row, counting back from R1, it was key (tier `key`);
- `reviews_below_key`: how many reviews in a row, from R1, it was present and not key;
- `declines_in_row`: how many reviews in a row, from R1, its sales were below its sales in the review
  before (both known; an account absent from a review ends the run);
- `key_since`: the as-of date of the first review of its current run as key (None when not key in R1;
  the oldest review's date when it was key in every review recorded).

An account absent from R1 has no row: a rule reads the facts as missing (no previous tier) and the counts
as 0. The run being decided is never counted: the facts end at the previous review. `run_folder_facts`
gives the same facts from one earlier run's output folder (`--previous RUN_FOLDER`: one review known).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from kamrules.data.history_facts import HistoryFacts, empty_frame, fingerprint
from kamrules.register import store
from kamrules.register.history import reviews_of
from kamrules.register.record import KEY_TIER
from kamrules.register.store import quoted

FACTS = ("previous_tier", "previous_tier_basis", "tier_basis_run", "reviews_as_key", "reviews_below_key",
         "declines_in_row", "key_since")


def history_facts(path: Path, as_of: dt.date, pack: str | None = None, lang: str = "en") -> HistoryFacts:
    """The history facts of every account of the previous review (see the module's docstring) from the
    register at `path`, for a run as of `as_of`; `pack` is the pack's name (default, or when the register
    holds no review of it: the pack of the review recorded last). A register without a review before
    `as_of` gives an empty frame and `reviews` 0."""
    register = store.open_register(path, lang)
    try:
        with store.sqlite_errors(register.path, lang):
            packs = {r[0] for r in register.connection.execute("SELECT DISTINCT pack_name FROM reviews")}
        _, reviews, _ = reviews_of(register, pack if pack in packs else None, before=as_of.isoformat())
        with store.sqlite_errors(register.path, lang):
            columns = [_read(register, review) for review in reversed(reviews)]  # newest first
    finally:
        register.close()
    if not columns:
        return _facts(empty_frame(), None, 0, path, "register")
    dates = [r.as_of for r in reversed(reviews)]
    return _facts(_frame(columns, dates), dates[0], len(columns), path, "register")


def run_folder_facts(side, path: Path) -> HistoryFacts:
    """The history facts from one earlier run (a kamrules.results.diff.Side read from its folder): one
    review known, as from a register holding only that review (the runs are at most 1, no declines)."""
    frame, pack = side.frame, side.pack
    names = {role: (pack.role(role) if pack is not None else None) or side.roles.get(role) or role
             for role in ("tier", "tier_basis")}
    column = pd.DataFrame({
        "tier": frame[names["tier"]].to_numpy() if names["tier"] in frame.columns else None,
        "tier_basis": frame[names["tier_basis"]].to_numpy() if names["tier_basis"] in frame.columns else None,
        "sales": np.nan,
    }, index=pd.Index(frame.index.astype(str), name="account_id"))
    as_of = str(side.manifest.get("as_of") or "") or None
    return _facts(_frame([column], [as_of]), as_of, 1, path, "run")


def _facts(frame: pd.DataFrame, latest: str | None, reviews: int, path: Path, kind: str) -> HistoryFacts:
    return HistoryFacts(frame, latest, reviews, source=str(path), kind=kind, digest=fingerprint(frame))


def _frame(columns: list, dates: list) -> pd.DataFrame:
    """The facts from each review's tier, tier basis and sales by account id (newest first)."""
    latest = columns[0]
    ids = latest.index
    tiers = [c["tier"].reindex(ids) for c in columns]
    bases = [c["tier_basis"].reindex(ids) for c in columns]
    sales = [pd.to_numeric(c["sales"], errors="coerce").reindex(ids) for c in columns]
    present = [ids.isin(c.index) for c in columns]
    key = np.column_stack([p & (t == KEY_TIER).to_numpy() for p, t in zip(present, tiers)])
    below = np.column_stack([p & ~(t == KEY_TIER).to_numpy() & t.notna().to_numpy() for p, t in zip(present, tiers)])
    first_basis = bases[0].astype(object)
    same_basis = np.column_stack([p & (b.astype(object) == first_basis).to_numpy() & first_basis.notna().to_numpy()
                                  for p, b in zip(present, bases)])
    declines = [(s < older).to_numpy() & p & q for s, older, p, q in zip(sales, sales[1:], present, present[1:])]
    as_key = _leading(key)
    frame = pd.DataFrame({
        "previous_tier": _texts(tiers[0]),
        "previous_tier_basis": _texts(bases[0]),
        "tier_basis_run": _leading(same_basis),
        "reviews_as_key": as_key,
        "reviews_below_key": _leading(below),
        "declines_in_row": _leading(np.column_stack(declines)) if declines else np.zeros(len(ids), dtype="int64"),
        "key_since": np.array([dates[n - 1] if n else None for n in as_key.tolist()], dtype=object),
    }, index=pd.Index(ids.astype(str), name="account_id"))
    frame["key_since"] = frame["key_since"].astype(object).where(frame["key_since"].notna(), None)
    return frame


def _texts(column: pd.Series) -> np.ndarray:
    """A column's values as texts, missing as None."""
    values = column.astype(object).to_numpy()
    return np.array([None if v is None or v != v or v == "" else str(v) for v in values.tolist()], dtype=object)


def _leading(flags: np.ndarray) -> np.ndarray:
    """Per row, how many of its first columns are true in a row."""
    if flags.shape[1] == 0:
        return np.zeros(flags.shape[0], dtype="int64")
    return np.cumprod(flags, axis=1).sum(axis=1).astype("int64")


def _read(register: store.Register, review) -> pd.DataFrame:
    """The tier, tier basis and sales of every account of a review, indexed by account id."""
    names = [review.roles.get("tier"), review.roles.get("tier_basis"), review.roles.get("sales")]
    present = {row[1] for row in register.connection.execute("PRAGMA table_info(accounts)")}
    select = ", ".join(quoted(name) if name in present else "NULL" for name in names)
    rows = register.connection.execute(f"SELECT account_id, {select} FROM accounts WHERE review_id = ?",
                                       (review.review_id,)).fetchall()
    frame = pd.DataFrame(rows, columns=["account_id", "tier", "tier_basis", "sales"], dtype=object)
    return frame.set_index("account_id")
