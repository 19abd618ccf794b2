"""The register's file: opened safely, its schema, and SQLite's failures said as messages a user can act on.

A register is one SQLite database (the standard library's `sqlite3`), written in one transaction per
run with SQLite's rollback journal: a run that fails half-way (a full disk, a killed process) leaves the
register as it was. Only this module talks to `sqlite3` directly about files, locks and errors.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator
from urllib.parse import quote

from kamrules.data.wording import say
from kamrules.errors import ConfigError

FORMAT = "kamrules-register"
SCHEMA_VERSION = 1  # raised when a table or column changes meaning; older registers are upgraded, newer refused
LOCK_WAIT_SECONDS = 10.0  # how long a run waits for another run writing the register before it gives up
SQLITE_HEADER = b"SQLite format 3\x00"
CACHE_KIB = 256 * 1024  # SQLite's page cache while recording
PAGE_LIMIT: int | None = None  # tests: SQLite's max_page_count, to meet a full disk without filling one

# The fixed tables. `accounts` gets one column per decision-table column and fact of the packs recorded
# (ALTER TABLE … ADD COLUMN, listed in `columns`); docs/register.md describes every table.
SCHEMA = [
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE reviews (
        review_id INTEGER PRIMARY KEY,
        run_key TEXT NOT NULL UNIQUE,
        as_of TEXT NOT NULL,
        pack_name TEXT NOT NULL,
        pack_version TEXT,
        pack_hash TEXT NOT NULL,
        input_name TEXT NOT NULL,
        input_sha256 TEXT,
        kamrules_version TEXT NOT NULL,
        options TEXT NOT NULL,
        lang TEXT NOT NULL,
        out TEXT,
        accounts INTEGER NOT NULL,
        unidentified INTEGER NOT NULL,
        sales REAL,
        key_accounts INTEGER,
        key_sales REAL,
        waiting INTEGER,
        lost INTEGER,
        lost_prior_sales REAL,
        lapsed INTEGER,
        lapsed_prior_sales REAL,
        at_risk INTEGER,
        critical INTEGER,
        roles TEXT NOT NULL,
        decisions TEXT NOT NULL,
        table_columns TEXT NOT NULL,
        fact_columns TEXT NOT NULL)""",
    "CREATE INDEX reviews_by_pack_date ON reviews (pack_name, as_of)",
    """CREATE TABLE columns (
        name TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        source TEXT NOT NULL,
        decision TEXT,
        label_en TEXT,
        label_zh TEXT)""",
    """CREATE TABLE labels (
        review_id INTEGER NOT NULL REFERENCES reviews (review_id),
        name TEXT NOT NULL,
        value TEXT NOT NULL,
        lang TEXT NOT NULL,
        label TEXT NOT NULL,
        PRIMARY KEY (review_id, name, value, lang))""",
    """CREATE TABLE accounts (
        review_id INTEGER NOT NULL REFERENCES reviews (review_id),
        account_id TEXT NOT NULL,
        account_name TEXT)""",
    "CREATE UNIQUE INDEX accounts_by_account ON accounts (account_id, review_id)",
    "CREATE INDEX accounts_by_review ON accounts (review_id)",
    "CREATE INDEX accounts_by_name ON accounts (account_name)",
    """CREATE VIEW current_reviews AS
        SELECT * FROM reviews r WHERE review_id = (
            SELECT max(review_id) FROM reviews s WHERE s.pack_name = r.pack_name AND s.as_of = r.as_of)""",
]


@dataclass
class Register:
    """An open register: its path, the connection, and whether the file is new (no register yet)."""

    path: Path
    connection: sqlite3.Connection
    lang: str = "en"
    new: bool = False

    def close(self) -> None:
        self.connection.close()


def check_path(path: Path, lang: str = "en") -> None:
    """Refuse a register path that is a folder, a link leading out of its folder, or not a regular file;
    and one whose folder does not exist."""
    path = Path(path)
    folder = path.absolute().parent
    target = Path(os.path.realpath(path))
    home = Path(os.path.realpath(folder))
    if path.is_symlink() and not (target == home or home in target.parents):
        raise ConfigError(say(lang, "register_link_out", path=path, target=target, folder=home))
    if path.is_dir():
        raise ConfigError(say(lang, "register_folder", path=path))
    if path.exists():
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise ConfigError(say(lang, "register_not_file", path=path))
    elif not folder.is_dir():
        raise ConfigError(say(lang, "register_no_folder", path=path, folder=folder))


@contextlib.contextmanager
def sqlite_errors(path: Path, lang: str = "en", recording: bool = False) -> Iterator[None]:
    """SQLite's failures as messages: locked, full, damaged, not a database, cannot be written. With
    `recording`, the message says that nothing was recorded (the transaction was rolled back)."""
    try:
        yield
    except sqlite3.Error as exc:
        raise ConfigError(describe(exc, path, lang, recording)) from None


def describe(exc: sqlite3.Error, path: Path, lang: str, recording: bool = False) -> str:
    """The message for one of SQLite's errors about the register at `path`."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc)
    if name in ("SQLITE_BUSY", "SQLITE_LOCKED") or name.startswith("SQLITE_BUSY") or "locked" in text:
        key = "register_locked"
    elif name == "SQLITE_FULL" or "disk is full" in text:
        key = "register_full"
    elif name == "SQLITE_NOTADB" or "not a database" in text:
        key = "register_not_sqlite"
    elif name.startswith("SQLITE_CORRUPT") or "malformed" in text:
        key = "register_corrupt"
    elif name.startswith("SQLITE_READONLY") or name.startswith("SQLITE_CANTOPEN") or "readonly" in text:
        key = "register_cannot_write"
    else:
        key = "register_failed"
    message = say(lang, key, path=path, detail=text)
    return message + (say(lang, "register_nothing_recorded") if recording else "")


def open_register(path: Path, lang: str = "en", *, write: bool = False, recording: bool = False) -> Register:
    """The register at `path`, checked: a kamrules register of a schema this kamrules reads. With
    `write`, a missing (or empty) file is a new register, created by the first record; without, it is
    an error, and the file is opened read-only (`kamrules history` never changes it). `recording`: its
    errors say that nothing was recorded."""
    path = Path(path)
    check_path(path, lang)
    exists = path.exists() and path.stat().st_size > 0
    if not exists and not write:
        raise ConfigError(say(lang, "register_missing", path=path))
    if exists:
        try:
            with open(path, "rb") as handle:
                header = handle.read(len(SQLITE_HEADER))
        except OSError as exc:
            raise ConfigError(say(lang, "register_failed", path=path, detail=exc.strerror or exc)) from None
        if header != SQLITE_HEADER:
            raise ConfigError(say(lang, "register_not_sqlite", path=path, detail=""))
    with sqlite_errors(path, lang, recording):
        if write:
            connection = sqlite3.connect(str(path), timeout=LOCK_WAIT_SECONDS, isolation_level=None)
        else:
            uri = f"file:{quote(str(path.absolute()))}?mode=ro"
            connection = sqlite3.connect(uri, uri=True, timeout=LOCK_WAIT_SECONDS, isolation_level=None)
        register = Register(path, connection, lang, new=not exists)
        try:
            _check_schema(register)
        except BaseException:
            connection.close()
            raise
    return register


def _check_schema(register: Register) -> None:
    """A register of ours (its `meta`), of a schema version this kamrules reads."""
    connection, path, lang = register.connection, register.path, register.lang
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables:
        register.new = True  # an empty SQLite file: a new register
        return
    meta = dict(connection.execute("SELECT key, value FROM meta").fetchall()) if "meta" in tables else {}
    if meta.get("format") != FORMAT:
        raise ConfigError(say(lang, "register_foreign", path=path))
    try:
        version = int(meta.get("schema_version", ""))
    except ValueError:
        raise ConfigError(say(lang, "register_foreign", path=path)) from None
    if version > SCHEMA_VERSION:
        from kamrules import __version__

        raise ConfigError(say(lang, "register_newer", path=path, version=version, by=meta.get("written_by", "?"),
                              ours=SCHEMA_VERSION, kamrules=__version__))


@contextlib.contextmanager
def transaction(register: Register) -> Iterator[sqlite3.Connection]:
    """One write transaction, all or nothing: the write lock is taken first (waiting LOCK_WAIT_SECONDS
    for another run), and any failure rolls everything back."""
    connection = register.connection
    with sqlite_errors(register.path, register.lang, recording=True):
        connection.execute(f"PRAGMA cache_size = -{CACHE_KIB}")  # the indexes of a million accounts stay in memory
        if PAGE_LIMIT is not None:
            connection.execute(f"PRAGMA max_page_count = {int(PAGE_LIMIT)}")
        connection.execute("BEGIN IMMEDIATE")
        try:
            if register.new:
                create_schema(connection)
            yield connection
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK") if connection.in_transaction else None
            raise
    register.new = False


def create_schema(connection: sqlite3.Connection) -> None:
    """The tables of a new register, and its `meta`: format, schema version, the kamrules that made it."""
    from kamrules import __version__

    for statement in SCHEMA:
        connection.execute(statement)
    connection.executemany("INSERT INTO meta (key, value) VALUES (?, ?)",
                           [("format", FORMAT), ("schema_version", str(SCHEMA_VERSION)),
                            ("created_by", __version__), ("written_by", __version__)])


def quoted(name: str) -> str:
    """A column name as an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'
