"""`evaluate --previous REGISTER`: the latest review before this run's as-of date, as the side of a
comparison (kamrules.results.diff.Side), so "since the last review" reads a register as it reads a run
folder."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd

from kamrules.data.wording import say
from kamrules.errors import ConfigError
from kamrules.register import store
from kamrules.register.history import reviews_of
from kamrules.register.store import quoted


def is_register(path: Path) -> bool:
    """Whether `--previous PATH` names a register (a file) rather than a run folder."""
    return not Path(path).is_dir()


def previous_side(path: Path, as_of: dt.date, pack_name: str, lang: str = "en"):
    """The review of `pack_name` (else of the pack recorded last) dated latest before `as_of`, as a Side."""
    from kamrules.results import diff

    register = store.open_register(path, lang)
    try:
        with store.sqlite_errors(register.path, lang):
            packs = {r[0] for r in register.connection.execute("SELECT DISTINCT pack_name FROM reviews")}
        _, reviews, _ = reviews_of(register, pack_name if pack_name in packs else None, before=as_of.isoformat())
        if not reviews:
            raise ConfigError(say(lang, "register_none_before", path=path, as_of=as_of.isoformat()))
        review = reviews[-1]
        with store.sqlite_errors(register.path, lang):
            present = {row[1] for row in register.connection.execute("PRAGMA table_info(accounts)")}
            columns = ["account_id", "account_name", *(c for c in review.table_columns if c in present)]
            rows = register.connection.execute(
                f"SELECT {', '.join(map(quoted, columns))} FROM accounts WHERE review_id = ? ORDER BY rowid",
                (review.review_id,)).fetchall()
            kinds = dict(register.connection.execute("SELECT name, kind FROM columns").fetchall())
    finally:
        register.close()
    frame = pd.DataFrame(rows, columns=columns, dtype=object)
    for name in columns:
        if kinds.get(name) == "list":  # a few distinct lists among a million accounts: each decoded once
            decoded: dict = {}
            frame[name] = [v if not isinstance(v, str) else decoded[v] if v in decoded
                           else decoded.setdefault(v, json.loads(v)) for v in frame[name]]
    decisions = [diff.DecisionSpec(d, d, list(spec.get("outputs", {})), spec.get("hit") == "collect")
                 for d, spec in review.decisions.items()]
    roles = {role: review.roles[role] for role in (*diff.IDENTITY_ROLES, *diff.TOTAL_ROLES)
             if review.roles.get(role) in frame.columns}
    if "sales" in roles:
        frame[roles["sales"]] = pd.to_numeric(frame[roles["sales"]], errors="coerce")
    manifest = {"as_of": review.as_of, "pack": {"name": review.pack_name, "version": review.pack_version,
                                                 "hash": review.pack_hash}}
    frame = frame.set_index(pd.Index(frame["account_id"].astype(str), name="id"))
    return diff.Side(f"{path}", frame, decisions, roles, manifest=manifest)
