"""Recording a run in the register: its review (what made it, the portfolio's totals) and every account's
decisions with the facts that drove them, in one transaction after the output folder is in place.

The same run recorded again (same input, pack hash, as-of date and decision-changing options: the
`run_key`) replaces itself and keeps its review number: the same inputs give the same decisions, and
when a newer kamrules decides them differently the register holds what the latest documents say.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd

from kamrules.data.wording import say
from kamrules.errors import ConfigError
from kamrules.register import store
from kamrules.register.store import quoted

CHUNK_ROWS = 65_536  # accounts inserted per batch (the decision table is built a part at a time)
RESERVED = ("review_id",)  # the register's own column in `accounts`
KEY_TIER = "key"  # the tier the portfolio counts as key (kamrules.results.diff.KEY_TIER)
LOST, LAPSED, CRITICAL, AT_RISK = "lost", "lapsed", "critical", "at_risk"  # the default pack's risk levels


@dataclass
class RunFacts:
    """What made a run besides the evaluation: the input file, the options that change decisions, OUT."""

    input_name: str
    input_sha256: str | None = None
    where: str | None = None  # --where
    columns_sha256: str | None = None  # the --columns file's SHA-256
    reading: dict = field(default_factory=dict)  # reading options that change what is read (sheet …)
    out: str | None = None
    lang: str = "en"


@dataclass
class Recorded:
    """What `record_run` did: the review's number and date, how many accounts, and whether it replaced
    an earlier recording of the same run."""

    path: Path
    review_id: int
    as_of: str
    accounts: int
    replaced: bool = False
    unidentified: int = 0


# --------------------------------------------------------------------------------------- meaning


def pack_meaning(pack) -> dict:
    """What a pack's decisions mean, as the register compares it: each decision's hit policy and outputs,
    each output's type and (for a category) its values."""
    return {d.id: {"hit": d.hit,
                   "outputs": {name: {"type": spec.type, **({"values": list(spec.values)} if spec.values else {})}
                               for name, spec in d.outputs.items()}}
            for d in pack.decisions}


def meaning_differences(recorded: dict, current: dict, lang: str) -> list[str]:
    """What differs between the meaning recorded in the register and the pack's, one line each."""
    return [line for line, _ in _differences(recorded, current, lang)]


def _differences(recorded: dict, current: dict, lang: str) -> list[tuple[str, bool]]:
    """(line, whether it breaks the meaning) for each difference: a decision, output or value the register
    knows that is gone, a changed hit policy or type break it; a decision, output or value the pack only
    adds does not (every recorded value still means what it meant: a pack upgraded with new values, such
    as the review cycle's held and rising, keeps its register)."""
    found: list[tuple[str, bool]] = []
    for decision in [*recorded, *(d for d in current if d not in recorded)]:
        old, new = recorded.get(decision), current.get(decision)
        if new is None:
            found.append((say(lang, "register_meaning_decision_gone", decision=decision), True))
            continue
        if old is None:
            found.append((say(lang, "register_meaning_decision_new", decision=decision), False))
            continue
        if old.get("hit") != new.get("hit"):
            found.append((say(lang, "register_meaning_hit", decision=decision, old=old.get("hit"), new=new.get("hit")),
                          True))
        found += _output_differences(decision, old.get("outputs", {}), new.get("outputs", {}), lang)
    return found


def _output_differences(decision: str, outputs_old: dict, outputs_new: dict, lang: str) -> list[tuple[str, bool]]:
    found: list[tuple[str, bool]] = []
    for output in [*outputs_old, *(o for o in outputs_new if o not in outputs_old)]:
        a, b = outputs_old.get(output), outputs_new.get(output)
        if b is None:
            found.append((say(lang, "register_meaning_output_gone", decision=decision, output=output), True))
        elif a is None:
            found.append((say(lang, "register_meaning_output_new", decision=decision, output=output), False))
        elif a.get("type") != b.get("type"):
            found.append((say(lang, "register_meaning_type", decision=decision, output=output,
                              old=a.get("type"), new=b.get("type")), True))
        else:
            gone = [v for v in a.get("values", []) if v not in b.get("values", [])]
            added = [v for v in b.get("values", []) if v not in a.get("values", [])]
            if gone or added:
                found.append((say(lang, "register_meaning_values", decision=decision, output=output,
                                  gone=", ".join(gone) or "—", added=", ".join(added) or "—"), bool(gone)))
    return found


def check_meaning(register: store.Register, pack) -> None:
    """Refuse a pack whose decisions mean something else than those recorded under its name; a pack that
    only adds decisions, outputs or values is accepted (its runs are recorded with the new meaning)."""
    row = register.connection.execute(
        "SELECT decisions FROM reviews WHERE pack_name = ? ORDER BY review_id DESC LIMIT 1", (pack.name,)).fetchone()
    if row is None:
        return
    lines = [line for line, breaks in _differences(json.loads(row[0]), pack_meaning(pack), register.lang) if breaks]
    if lines:
        lang = register.lang
        raise ConfigError("\n  ".join([say(lang, "register_meaning", path=register.path, pack=pack.name), *lines])
                          + "\n" + say(lang, "register_meaning_fix", path=register.path))


def check_register(path: Path, pack, lang: str = "en") -> None:
    """Before a run: the register can take it (a register of ours, a schema we write, the pack's
    decisions meaning what they meant), so that minutes of work are not refused at the end."""
    store.check_path(Path(path), lang)
    _check_names(pack, lang)
    if not Path(path).exists():
        return  # a new register: made by the record, not before (a failed run leaves no file)
    register = store.open_register(path, lang, write=True)
    try:
        with store.sqlite_errors(register.path, lang):
            if not register.new:
                check_meaning(register, pack)
    finally:
        register.close()


def _check_names(pack, lang: str) -> None:
    for name in RESERVED:
        if name in pack.fields or pack.output(name) is not None or any(d.name == name for d in pack.derived):
            raise ConfigError(say(lang, "register_reserved", name=name))


# --------------------------------------------------------------------------------------- record


def record_run(path: Path, evaluation, run: RunFacts, lang: str = "en") -> Recorded:
    """Record `evaluation` in the register at `path` (created when missing), in one transaction; the same
    run recorded before is replaced (see the module's docstring)."""
    from kamrules import __version__

    pack = evaluation.pack
    _check_names(pack, lang)
    created = not Path(path).exists()
    register = store.open_register(path, lang, write=True, recording=True)
    try:
        columns = _table_plan(evaluation)
        facts = _facts(evaluation, columns)
        options = {"set": dict(getattr(pack, "overrides", None) or {}), "where": run.where,
                   "columns_sha256": run.columns_sha256, "reading": dict(sorted(run.reading.items()))}
        as_of = evaluation.as_of.isoformat()
        run_key = hashlib.sha256(json.dumps([run.input_sha256, pack.hash, as_of, options], sort_keys=True,
                                            default=str).encode("utf-8")).hexdigest()
        roles = {r: pack.role(r) for r in ("account_name", "account_manager", "region", "sales", "prior_sales", "tier",
                                           "tier_basis", "risk_level", "risk_signal", "relationship", "service_level",
                                           "dependence_finding", "action") if pack.role(r) is not None}
        with store.transaction(register) as connection:
            if not register.new:
                check_meaning(register, pack)
            _add_columns(connection, pack, columns, facts)
            old = connection.execute("SELECT review_id FROM reviews WHERE run_key = ?", (run_key,)).fetchone()
            if old is not None:
                review_id = old[0]
                connection.execute("DELETE FROM accounts WHERE review_id = ?", (review_id,))
                connection.execute("DELETE FROM labels WHERE review_id = ?", (review_id,))
                connection.execute("DELETE FROM reviews WHERE review_id = ?", (review_id,))
            else:
                review_id = (connection.execute("SELECT coalesce(max(review_id), 0) + 1 FROM reviews").fetchone()[0])
            totals = _insert_accounts(connection, evaluation, review_id, columns, facts, roles, lang)
            names = ["review_id", "run_key", "as_of", "pack_name", "pack_version", "pack_hash", "input_name",
                     "input_sha256", "kamrules_version", "options", "lang", "out", *totals, "roles", "decisions",
                     "table_columns", "fact_columns"]
            values = [review_id, run_key, as_of, pack.name, pack.version or None, pack.hash, run.input_name,
                      run.input_sha256, __version__, json.dumps(options, sort_keys=True, ensure_ascii=False), lang,
                      run.out, *totals.values(), json.dumps(roles, sort_keys=True),
                      json.dumps(pack_meaning(pack), ensure_ascii=False), json.dumps(list(columns)),
                      json.dumps(list(facts))]
            connection.execute(f"INSERT INTO reviews ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                               values)
            connection.executemany("INSERT INTO labels VALUES (?, ?, ?, ?, ?)", _labels(pack, review_id))
            connection.execute("UPDATE meta SET value = ? WHERE key = 'written_by'", (__version__,))
        return Recorded(register.path, review_id, as_of, totals["accounts"], old is not None, totals["unidentified"])
    except BaseException:
        if created:  # the file this call made holds nothing: it goes, as if the run had never been recorded
            register.close()
            for leftover in (Path(path), Path(f"{path}-journal")):
                leftover.unlink(missing_ok=True)
        raise
    finally:
        register.close()


def _table_plan(evaluation) -> dict[str, tuple[str, str, str | None]]:
    """The decision table's columns (but the id and name) as the register stores them: name -> (kind,
    source, decision): identity columns, each decision's outputs and its deciding rule."""
    from kamrules.results.outputs import decision_kinds

    pack = evaluation.pack
    owner = {name: d.id for d in pack.decisions for name in d.outputs}
    owner.update({f"{d.id}_rule": d.id for d in pack.decisions})
    plan = {}
    for name, kind in decision_kinds(evaluation).items():
        if name in ("account_id", "account_name"):
            continue
        source = "rule" if name.endswith("_rule") and name in owner and name not in pack.fields else \
            "decision" if name in owner else "input"
        plan[name] = (_KINDS.get(kind, "text"), source, owner.get(name))
    return plan


def _facts(evaluation, columns: dict) -> dict[str, str]:
    """The facts recorded beside the decisions: sales, prior sales and gross profit, and every field,
    feature or count the tier, risk-signal and risk decisions read (name -> kind)."""
    pack, table = evaluation.pack, evaluation.table
    wanted = [pack.role("sales"), pack.role("prior_sales"), "gross_profit"]
    outputs = {name for d in pack.decisions for name in d.outputs}
    for role in ("tier", "risk_signal", "risk_level"):
        name = pack.role(role)
        decision = next((d for d in pack.decisions if name in d.outputs), None) if name else None
        if decision is not None:
            wanted += sorted(decision.reads)
    facts = {}
    for name in wanted:
        if (name and name not in facts and name not in columns and name not in outputs
                and name not in ("account_id", "account_name") and name in table.columns):
            facts[name] = _kind(table[name])
    return facts


def _kind(column: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(column.dtype):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        return "date"
    if pd.api.types.is_numeric_dtype(column.dtype):
        return "number"
    return "text"


_KINDS = {"number": "number", "integer": "number", "boolean": "boolean", "list": "list", "date": "date"}  # else text
SQL_TYPES = {"text": "TEXT", "number": "REAL", "boolean": "INTEGER", "list": "TEXT", "date": "TEXT"}


def _add_columns(connection, pack, columns: dict, facts: dict) -> None:
    """A column of `accounts` (and a line of `columns`) for every name this pack brings that the register
    lacks; the `columns` line of a name it has is brought up to date (kind, labels)."""
    present = {row[1] for row in connection.execute("PRAGMA table_info(accounts)")}
    described = [(name, kind, source, decision) for name, (kind, source, decision) in columns.items()]
    described += [(name, kind, "fact", None) for name, kind in facts.items()]
    for name, kind, source, decision in described:
        if name not in present:
            connection.execute(f"ALTER TABLE accounts ADD COLUMN {quoted(name)} {SQL_TYPES[kind]}")
        label = _label_of(pack, name)
        connection.execute("INSERT INTO columns VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
                           "kind = excluded.kind, source = excluded.source, decision = excluded.decision, "
                           "label_en = excluded.label_en, label_zh = excluded.label_zh",
                           (name, kind, source, decision, label.get("en"), label.get("zh")))


def _label_of(pack, name: str) -> dict:
    """A column's label per language: a field's, an output's, a derived name's, or a decision's title."""
    spec = pack.fields.get(name) or pack.output(name)
    label = getattr(spec, "label", None) if spec is not None else None
    if not label:
        derived = next((d for d in pack.derived if d.name == name), None)
        label = getattr(derived, "label", None) or getattr(derived, "title", None) if derived is not None else None
    if not label and name.endswith("_rule"):
        decision = next((d for d in pack.decisions if f"{d.id}_rule" == name), None)
        label = decision.title if decision is not None else None
    return dict(label) if isinstance(label, dict) else {}


def _labels(pack, review_id: int) -> Iterator[tuple]:
    """(review, output, value, lang, label) of every value of every category output, in every language."""
    from kamrules.i18n import LANGS

    for decision in pack.decisions:
        for name, spec in decision.outputs.items():
            for value in spec.values:
                for lang in LANGS:
                    yield review_id, name, str(value), lang, pack.label(name, value, lang)


def _insert_accounts(connection, evaluation, review_id: int, columns: dict, facts: dict, roles: dict,
                     lang: str) -> dict:
    """Insert every account with an id (a part of the decision table at a time); the review's totals."""
    from kamrules.results.outputs import decision_frame_parts

    table = evaluation.table
    names = ["review_id", "account_id", "account_name", *columns, *facts]
    sql = f"INSERT INTO accounts ({', '.join(map(quoted, names))}) VALUES ({', '.join('?' * len(names))})"
    totals = _Totals(roles)
    parts, _ = decision_frame_parts(evaluation, lang, rows=CHUNK_ROWS, coded=True)
    start = 0
    for part in parts:
        stop = start + len(part)
        cells = {"account_id": _cells(part["account_id"], "text"), "account_name": _cells(part["account_name"], "text")}
        cells.update((name, _cells(part[name], kind)) for name, (kind, _, _) in columns.items())
        cells.update((name, _cells(table[name].iloc[start:stop], kind)) for name, kind in facts.items())
        totals.add(cells)
        ids = cells["account_id"]
        keep = [i for i, v in enumerate(ids) if v not in (None, "")]
        totals.unidentified += len(ids) - len(keep)
        selected = [cells[name] for name in names[1:]]
        if len(keep) < len(ids):  # accounts without an id cannot be followed from review to review
            selected = [[column[i] for i in keep] for column in selected]
        connection.executemany(sql, zip(repeat(review_id), *selected))
        start = stop
    return totals.values()


def _cells(column: pd.Series, kind: str) -> list:
    """A column as the plain values SQLite stores: numbers as float (missing None), booleans as 1/0,
    dates as YYYY-MM-DD, lists as JSON arrays, texts as str. Worked out per distinct value or a whole
    column at a time (a million accounts a review)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        categories = [_one(v, kind) for v in column.cat.categories.tolist()] + [None]
        codes = column.cat.codes.to_numpy()
        return np.asarray(categories, dtype=object)[codes].tolist()
    if kind == "number" or (kind not in ("list", "text") and pd.api.types.is_float_dtype(column.dtype)):
        values = pd.to_numeric(column, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        out = values.astype(object)
        out[np.isnan(values)] = None
        return out.tolist()
    if kind == "boolean":
        flags = column.astype("boolean")
        out = flags.fillna(False).to_numpy(dtype=bool).astype(np.int64).astype(object)
        out[flags.isna().to_numpy()] = None
        return out.tolist()
    if kind == "date" or pd.api.types.is_datetime64_any_dtype(column.dtype):
        stamps = pd.to_datetime(column, errors="coerce")
        out = stamps.dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
        out[stamps.isna().to_numpy()] = None
        return out.tolist()
    values = column.astype(object).to_numpy()
    if kind == "text" and pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        out = values.copy()  # texts already (ids, names, owners): missing cells as None
        out[pd.isna(values)] = None
        return out.tolist()
    codes, distinct = pd.factorize(values)  # anything else: converted once per distinct value
    plain = np.asarray([_one(v, kind) for v in distinct.tolist()] + [None], dtype=object)
    return plain[codes].tolist()


def _one(value: Any, kind: str) -> Any:
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    if kind == "list" or isinstance(value, (list, tuple)):
        from kamrules.results.outputs import json_value

        return json.dumps(json_value(list(value) if isinstance(value, (list, tuple)) else [value]),
                          ensure_ascii=False, separators=(",", ":"))
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, bool):
        return int(value)
    return value if isinstance(value, (int, float, str)) else str(value)


class _Totals:
    """The portfolio of one review, added up a part at a time: accounts, sales, key accounts and their
    sales, accounts waiting for a key account manager, lost and lapsed accounts and the prior sales they
    took, accounts at risk and critical."""

    def __init__(self, roles: dict):
        from kamrules.results.portfolio_team import WAITING_TIER

        self.roles, self.waiting_tier = roles, WAITING_TIER
        self.sums: dict[str, float] = {}
        self.unidentified = 0

    def _add(self, name: str, value: float) -> None:
        self.sums[name] = self.sums.get(name, 0.0) + value

    def add(self, cells: dict) -> None:
        count = len(cells["account_id"])
        self._add("accounts", count)
        sales = self._numbers(cells, "sales", count)
        prior = self._numbers(cells, "prior_sales", count)
        tier = self._texts(cells, "tier", count)
        risk = self._texts(cells, "risk_level", count)
        if sales is not None:
            self._add("sales", float(np.nansum(sales)))
        if tier is not None:
            key = tier == KEY_TIER
            self._add("key_accounts", int(key.sum()))
            self._add("waiting", int((tier == self.waiting_tier).sum()))
            if sales is not None:
                self._add("key_sales", float(np.nansum(sales[key])))
        if risk is not None:
            for level in (LOST, LAPSED, CRITICAL, AT_RISK):
                self._add(level, int((risk == level).sum()))
            if prior is not None:
                self._add("lost_prior_sales", float(np.nansum(prior[risk == LOST])))
                self._add("lapsed_prior_sales", float(np.nansum(prior[risk == LAPSED])))

    def _numbers(self, cells: dict, role: str, count: int):
        name = self.roles.get(role)
        if name is None or name not in cells:
            return None
        return np.array([np.nan if v is None else v for v in cells[name]], dtype="float64")

    def _texts(self, cells: dict, role: str, count: int):
        name = self.roles.get(role)
        if name is None or name not in cells:
            return None
        return np.array(cells[name], dtype=object)

    def values(self) -> dict:
        def whole(name):
            return int(self.sums[name]) if name in self.sums else None

        def money(name):
            return self.sums.get(name)

        has_prior = "prior_sales" in self.roles
        return {"accounts": whole("accounts") or 0, "unidentified": self.unidentified, "sales": money("sales"),
                "key_accounts": whole("key_accounts"), "key_sales": money("key_sales"), "waiting": whole("waiting"),
                "lost": whole(LOST), "lost_prior_sales": money("lost_prior_sales") if has_prior else None,
                "lapsed": whole(LAPSED), "lapsed_prior_sales": money("lapsed_prior_sales") if has_prior else None,
                "at_risk": whole(AT_RISK), "critical": whole(CRITICAL)}
