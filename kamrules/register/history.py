"""Reading the register back: the portfolio's trend per review and one account's timeline.

A review is one as-of date of one pack: when several runs of a pack were recorded for the same date, the
one recorded last is the review (the view `current_reviews`); the earlier ones stay in `reviews`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kamrules.data.wording import say
from kamrules.errors import ConfigError
from kamrules.register import store
from kamrules.register.store import quoted

TOTALS = ("accounts", "sales", "key_accounts", "key_sales", "waiting", "lost", "lost_prior_sales", "lapsed",
          "lapsed_prior_sales", "at_risk", "critical")


@dataclass
class Review:
    """One review of the register: its row of `current_reviews`."""

    review_id: int
    as_of: str
    pack_name: str
    pack_version: str | None
    pack_hash: str
    input_name: str
    lang: str
    roles: dict
    decisions: dict
    table_columns: list
    totals: dict

    @property
    def key_sales_share(self) -> float | None:
        sales, key = self.totals.get("sales"), self.totals.get("key_sales")
        return None if not sales or key is None else key / sales


@dataclass
class Trend:
    """The portfolio per review of one pack, oldest first; `other_packs`: reviews of other packs (not shown)."""

    path: Path
    pack: str
    reviews: list
    other_packs: dict = field(default_factory=dict)


@dataclass
class TimelineRow:
    """An account in one review: absent (`present` false), or its tier, risk level, sales and findings."""

    review_id: int
    as_of: str
    present: bool
    account_name: str | None = None
    tier: str | None = None
    risk_level: str | None = None
    sales: float | None = None
    signals: list = field(default_factory=list)
    findings: list = field(default_factory=list)


@dataclass
class Timeline:
    path: Path
    pack: str
    account_id: str
    account_name: str | None
    rows: list  # TimelineRow, oldest first
    labels: dict  # (output, value, lang) -> label, from the latest review


_REVIEW_COLUMNS = ("review_id, as_of, pack_name, pack_version, pack_hash, input_name, lang, roles, decisions, "
                   "table_columns, " + ", ".join(TOTALS))


def _review(row: tuple) -> Review:
    head, totals = row[:10], row[10:]
    return Review(head[0], head[1], head[2], head[3], head[4], head[5], head[6], json.loads(head[7]),
                  json.loads(head[8]), json.loads(head[9]), dict(zip(TOTALS, totals)))


def reviews_of(register: store.Register, pack: str | None = None, before: str | None = None) -> tuple[str, list, dict]:
    """(the pack, its reviews oldest first, {other pack: reviews}): `pack` when given, else the pack of
    the review recorded last; with `before` (YYYY-MM-DD) only the reviews dated earlier."""
    lang = register.lang
    with store.sqlite_errors(register.path, lang):
        if register.new:
            raise ConfigError(say(lang, "register_empty", path=register.path))
        counts = dict(register.connection.execute(
            "SELECT pack_name, count(*) FROM current_reviews GROUP BY pack_name").fetchall())
        if not counts:
            raise ConfigError(say(lang, "register_empty", path=register.path))
        if pack is None:
            pack = register.connection.execute(
                "SELECT pack_name FROM reviews ORDER BY review_id DESC LIMIT 1").fetchone()[0]
        elif pack not in counts:
            raise ConfigError(say(lang, "register_no_pack", path=register.path, pack=pack,
                                  packs=", ".join(sorted(counts))))
        sql = f"SELECT {_REVIEW_COLUMNS} FROM current_reviews WHERE pack_name = ?"
        params: list[Any] = [pack]
        if before is not None:
            sql += " AND as_of < ?"
            params.append(before)
        rows = register.connection.execute(sql + " ORDER BY as_of, review_id", params).fetchall()
    return pack, [_review(r) for r in rows], {p: n for p, n in sorted(counts.items()) if p != pack}


def portfolio_trend(path: Path, pack: str | None = None, lang: str = "en") -> Trend:
    """The portfolio per review of `pack` (default: the pack of the review recorded last)."""
    register = store.open_register(path, lang)
    try:
        name, reviews, others = reviews_of(register, pack)
    finally:
        register.close()
    return Trend(register.path, name, reviews, others)


def account_timeline(path: Path, account: str, pack: str | None = None, lang: str = "en") -> Timeline:
    """An account's timeline over the reviews of `pack`: found by its id, else by its name (exactly, then
    ignoring case and spaces; close ids and names suggested)."""
    register = store.open_register(path, lang)
    try:
        name, reviews, _ = reviews_of(register, pack)
        with store.sqlite_errors(register.path, lang):
            account_id = find_account(register, reviews, account)
            rows = _timeline_rows(register, reviews, account_id)
            labels = _labels(register, reviews[-1].review_id)
    finally:
        register.close()
    named = next((r.account_name for r in reversed(rows) if r.present and r.account_name), None)
    return Timeline(register.path, name, account_id, named, rows, labels)


def _in(reviews: list) -> str:
    return "(" + ", ".join(str(int(r.review_id)) for r in reviews) + ")"


def find_account(register: store.Register, reviews: list, wanted: str) -> str:
    """The id of the account `wanted` names among `reviews`: an id (an index look-up), a name as written
    (an index look-up), else the names and ids of every account of these reviews are compared as
    `kamrules explain` compares them (ignoring case and spaces, close matches suggested)."""
    from kamrules.results.explain import find_among

    text = str(wanted).strip()
    connection = register.connection
    if connection.execute(f"SELECT 1 FROM accounts WHERE account_id = ? AND review_id IN {_in(reviews)} LIMIT 1",
                          (text,)).fetchone():
        return text
    named = [r[0] for r in connection.execute(
        f"SELECT DISTINCT account_id FROM accounts WHERE account_name = ? AND review_id IN {_in(reviews)} "
        "ORDER BY account_id", (text,))]
    if len(named) == 1:
        return named[0]
    # every account once, with its latest name (SQLite takes the bare column from the max() row)
    rows = connection.execute(f"SELECT account_id, account_name, max(review_id) FROM accounts "
                              f"WHERE review_id IN {_in(reviews)} GROUP BY account_id ORDER BY account_id").fetchall()
    ids, names = [r[0] for r in rows], [r[1] for r in rows]
    return ids[find_among(ids, names, text, str(register.path), register.lang)]


def _timeline_rows(register: store.Register, reviews: list, account_id: str) -> list:
    roles = {}
    present = {row[1] for row in register.connection.execute("PRAGMA table_info(accounts)")}
    for review in reviews:
        for role in ("tier", "risk_level", "sales", "risk_signal", "dependence_finding"):
            column = review.roles.get(role)
            if column in present:
                roles.setdefault(review.review_id, {})[role] = column
    columns = sorted({c for r in roles.values() for c in r.values()})
    found = {}
    sql = (f"SELECT review_id, account_name{''.join(', ' + quoted(c) for c in columns)} FROM accounts "
           f"WHERE account_id = ? AND review_id IN {_in(reviews)}")
    for row in register.connection.execute(sql, (account_id,)):
        found[row[0]] = (row[1], dict(zip(columns, row[2:])))
    rows = []
    for review in reviews:
        if review.review_id not in found:
            rows.append(TimelineRow(review.review_id, review.as_of, False))
            continue
        name, values = found[review.review_id]
        own = roles.get(review.review_id, {})

        def value(role: str) -> Any:
            return values.get(own[role]) if role in own else None

        rows.append(TimelineRow(review.review_id, review.as_of, True, name, value("tier"), value("risk_level"),
                                value("sales"), _list(value("risk_signal")), _list(value("dependence_finding"))))
    return rows


def _list(cell: Any) -> list:
    """A collect output's cell (a JSON array) as a list; a single value as a list of one."""
    if cell is None:
        return []
    if isinstance(cell, str) and cell.startswith("["):
        try:
            values = json.loads(cell)
        except ValueError:
            return [cell]
        return [v for v in values if v is not None] if isinstance(values, list) else [values]
    return [cell]


def _labels(register: store.Register, review_id: int) -> dict:
    return {(n, v, lang): label for n, v, lang, label in register.connection.execute(
        "SELECT name, value, lang, label FROM labels WHERE review_id = ?", (review_id,))}
