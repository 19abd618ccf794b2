"""actions.csv: one row per account and action, the shape a CRM imports as tasks.

The decision that owns the pack's `action` output (a collect decision; in the default pack `actions`)
gives, per account, every action whose rule matched, with its code, title, owner, due date (as-of +
due days), measure of success and section. The decision table keeps only the action codes, so the
texts are written once per action here instead of in one wide cell per account.

Each row is a task that lives across reviews (docs/actions.md): `task_id` is the same for the same
account and action in every run and on every machine, so a CRM upserts by it instead of creating the
task again; `priority` follows the account's risk level and tier, `money_at_stake` is the account's
sales at stake (the pack's stake roles, as the report counts them). With `evaluate --previous`, each row
has a `task_status` (new, or open: needed in the last review too) and the tasks of the last review no
longer needed follow, `resolved` (kamrules/review/tasks.py reads them from the previous run).
"""

from __future__ import annotations

import csv
import hashlib
import io
from typing import Any, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kamrules.data.cells import days_after
from kamrules.data.tables import csv_row_texts, table_chunks
from kamrules.data.written import text_bytes
from kamrules.engine.evaluation import Evaluation
from kamrules.engine.outcomes import Outcomes
from kamrules.pack import pick

SLICE = 10_000  # accounts per piece: the file is built and written a slice at a time (~1.5 MB of text each)


def action_decision(pack):
    """The collect decision that owns the pack's `action` output, or None."""
    name = pack.role("action")
    for decision in pack.decisions:
        if decision.policy.lists and name in decision.outputs:
            return decision
    return None


def _fired(outcomes: Outcomes, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
    """(account position from `start`, rule index) of every action of the accounts start..stop, in
    account order then rule order."""
    codes = outcomes.codes(start, stop).astype(np.intp)
    fired = [outcome.indexes for outcome in outcomes.distinct]
    padded = np.full((len(fired), max([len(f) for f in fired] + [1])), -1, dtype="int64")
    for row, rules in enumerate(fired):
        padded[row, :len(rules)] = rules
    counts = np.array([len(f) for f in fired], dtype="int64")[codes]
    accounts = np.repeat(np.arange(len(codes)), counts)
    offsets = np.arange(len(accounts)) - np.repeat(np.cumsum(counts) - counts, counts)
    return accounts, (padded[codes[accounts], offsets] if len(accounts) else np.zeros(0, dtype="int64"))


def _account_columns(pack, table: pd.DataFrame) -> list[str]:
    names = ["account_id", pack.role("account_name"), pack.role("account_manager")]
    return [n for n in names if n and n in table.columns]


def rules_frame(evaluation: Evaluation, lang: str = "en") -> pd.DataFrame:
    """Per rule of the action decision, the action columns (the due date is as-of + due days)."""
    decision = action_decision(evaluation.pack)
    due = evaluation.pack.role("action_due_days")
    columns: dict = {}
    for name, spec in decision.outputs.items():
        values = [_shown(rule.then.get(name), spec.type, lang) for rule in decision.rules]
        columns[name] = pd.Series(values, dtype="float64" if spec.type == "number" else object)
        if name == due:
            columns[name.removesuffix("_days") + "_date"] = [
                None if d is None or (due_date := days_after(evaluation.as_of, d)) is None else due_date.isoformat()
                for d in values]  # (no calendar date that far off: missing, as a missing due-in)
    return pd.DataFrame(columns)


TASK_COLUMNS = ("task_id", "priority", "money_at_stake")
STATUS_COLUMN = "task_status"
PRIORITIES = ("high", "medium", "low")
PLAN_TIERS = ("key", "over_capacity", "vip")  # tiers whose tasks are never low (the default pack's values)
SEVERE_RISKS = ("critical", "lost", "lapsed")
RISKY = ("critical", "lost", "lapsed", "at_risk")  # as results.portfolio.RISK_LEVELS_LISTED


def task_id(account_id: Any, action: Any) -> str:
    """A task's id: "kt-" and the first 16 hex digits of SHA-256 over the account id, a unit separator
    and the action code (UTF-8). The same account and action give the same id in every run, on every
    machine (docs/actions.md)."""
    digest = hashlib.sha256(f"{account_id}\x1f{action}".encode("utf-8")).hexdigest()
    return f"kt-{digest[:16]}"


def priorities(tiers: np.ndarray, risks: np.ndarray) -> np.ndarray:
    """Each account's task priority: high for a critical, lost or lapsed account, or one at risk among
    the key, waiting and VIP accounts; medium for the other accounts at risk, and the key, waiting, VIP
    and potential accounts; low for the rest."""
    risky, severe = np.isin(risks, RISKY), np.isin(risks, SEVERE_RISKS)
    planned = np.isin(tiers, PLAN_TIERS)
    high = severe | (risky & planned)
    medium = ~high & (risky | planned | (tiers == "potential"))
    return np.where(high, "high", np.where(medium, "medium", "low")).astype(object)


def account_task_values(evaluation: Evaluation) -> pd.DataFrame:
    """Per account (input order): the priority of its tasks and its money at stake."""
    from kamrules.results.portfolio_team import stakes

    pack, table = evaluation.pack, evaluation.frame
    count = len(table)

    def texts(role: str) -> np.ndarray:
        name = pack.role(role)
        if name is None or name not in table.columns:
            return np.full(count, None, dtype=object)
        return table[name].astype(object).to_numpy()

    sales_name = pack.role("sales")
    sales = (pd.to_numeric(table[sales_name], errors="coerce").to_numpy(dtype="float64")
             if sales_name and sales_name in table.columns else np.full(count, np.nan))
    money = np.round(stakes(pack, evaluation, sales).astype("float64"), 2)
    return pd.DataFrame({"priority": pd.Series(priorities(texts("tier"), texts("risk_level")), dtype=object),
                         "money_at_stake": money})


def actions_file(evaluation: Evaluation, fmt: str, lang: str = "en",
                 history: Any = None) -> tuple[str, Iterator[bytes]] | None:
    """(file name, its bytes in pieces) of the action plan: `actions.parquet` when the tables are written
    as Parquet (`--format parquet`), `actions.csv` otherwise; None when the pack has no action decision."""
    if fmt == "parquet":
        made = actions_parquet(evaluation, lang, history)
        return None if made is None else ("actions.parquet", made)
    made = actions_csv(evaluation, lang, history)
    return None if made is None else ("actions.csv", made)


class _Plan:
    """What every row of the action plan is made from: the account columns, each rule's action columns,
    and per slice of accounts the (account, rule) pairs of its rows with their task ids and statuses."""

    def __init__(self, evaluation: Evaluation, lang: str, history: Any):
        pack = evaluation.pack
        self.decision = decision = action_decision(pack)
        self.table, self.outcomes = evaluation.frame, evaluation.outcomes(decision.id)
        self.identity = _account_columns(pack, self.table)
        self.rules = rules_frame(evaluation, lang)
        action_name = pack.role("action")
        self.codes = [rule.then.get(action_name) for rule in decision.rules]
        self.per_account = account_task_values(evaluation)
        table = self.table
        self.ids = (table["account_id"].astype(object).where(table["account_id"].notna(), "").map(str).tolist()
                    if "account_id" in table.columns else [""] * len(table))
        self.history = history
        self.extra = [*TASK_COLUMNS, *([STATUS_COLUMN] if history is not None else [])]

    def slices(self) -> Iterator[tuple[int, np.ndarray, np.ndarray, pa.Array, pa.Array | None]]:
        """Per slice of SLICE accounts with actions: (its start, each row's account from the start and
        rule, each row's task id, each row's status or None without a history)."""
        previous = getattr(self.history, "previous", None)
        for start in range(0, len(self.table), SLICE):
            accounts, rules = _fired(self.outcomes, start, start + SLICE)
            if not len(accounts):
                continue
            account_ids = [self.ids[start + a] for a in accounts.tolist()]
            actions = [self.codes[r] for r in rules.tolist()]
            tasks = pa.array([task_id(a, c) for a, c in zip(account_ids, actions)], type=pa.string())
            status = None
            if previous is not None:
                status = pa.array(["open" if c in previous.get(a, ()) else "new" for a, c in zip(account_ids, actions)],
                                  type=pa.string())
            yield start, accounts, rules, tasks, status


def actions_csv(evaluation: Evaluation, lang: str = "en", history: Any = None) -> Iterator[bytes] | None:
    """actions.csv in pieces (None when the pack has no action decision). Each rule's part of a line
    and each account's part are encoded once; a line joins them with the task's id. `history` (with
    `evaluate --previous`, kamrules.review.tasks.TaskHistory): `previous` (account id -> the action codes
    of the last review) gives each row its status, and `resolved` rows follow the current ones."""
    pack = evaluation.pack
    if action_decision(pack) is None:
        return None
    plan = _Plan(evaluation, lang, history)
    header, suffixes = _csv_lines(plan.rules)
    rule_parts = pa.array(suffixes, type=pa.string())

    def pieces() -> Iterator[bytes]:
        yield ("\ufeff" + ",".join(plan.identity) + "," + header + "," + ",".join(plan.extra) + "\n").encode("utf-8")
        for start, accounts, rules, tasks, status in plan.slices():
            part = plan.table[plan.identity].iloc[start:start + SLICE].astype("string")  # as text, missing as missing
            prefixes = csv_row_texts(part.reset_index(drop=True))
            after = csv_row_texts(plan.per_account.iloc[start:start + SLICE].reset_index(drop=True))
            taken = pa.array(accounts)
            columns = [prefixes.take(taken), rule_parts.take(pa.array(rules)), tasks, after.take(taken)]
            if status is not None:
                columns.append(status)
            lines = pc.binary_join_element_wise(*columns, ",")
            yield text_bytes(pc.binary_join_element_wise(lines, "", "\n"))
        if history is not None and history.resolved:
            yield _resolved_lines(history.resolved, plan.identity, header, pack, lang)

    return pieces()


def actions_parquet(evaluation: Evaluation, lang: str = "en", history: Any = None) -> Iterator[bytes] | None:
    """actions.parquet in pieces (None when the pack has no action decision): the columns and rows of
    actions.csv (docs/actions.md), typed — text, `action_due_days` and `money_at_stake` as float64,
    `action_due_date` as a date — one row group per slice of accounts; the resolved rows of `history`
    (`evaluate --previous`) follow as the last row group."""
    pack = evaluation.pack
    if action_decision(pack) is None:
        return None
    plan = _Plan(evaluation, lang, history)
    due_days = pack.role("action_due_days")
    due_date = due_days.removesuffix("_days") + "_date" if due_days else None
    rule_types = {name: pa.date32() if name == due_date else _ARROW_TYPES.get(_kind(plan.decision, name) or "", pa.string())
                  for name in plan.rules.columns}
    schema = pa.schema([*[pa.field(n, pa.string()) for n in plan.identity],
                        *[pa.field(n, t) for n, t in rule_types.items()],
                        pa.field("task_id", pa.string()), pa.field("priority", pa.string()),
                        pa.field("money_at_stake", pa.float64()),
                        *([pa.field(STATUS_COLUMN, pa.string())] if history is not None else [])])
    rule_arrays = [_typed(plan.rules[name], kind) for name, kind in rule_types.items()]
    priority = pa.array(plan.per_account["priority"].to_numpy(), type=pa.string())
    money = pa.array(plan.per_account["money_at_stake"].to_numpy(dtype="float64"), from_pandas=True)

    def groups() -> Iterator[pa.Table]:
        for start, accounts, rules, tasks, status in plan.slices():
            taken, everyone = pa.array(accounts), pa.array(accounts + start)
            identity = [_typed(plan.table[n].iloc[start:start + SLICE].astype("string"), pa.string()).take(taken)
                        for n in plan.identity]
            columns = [*identity, *[array.take(pa.array(rules)) for array in rule_arrays], tasks,
                       priority.take(everyone), money.take(everyone), *([status] if status is not None else [])]
            yield pa.Table.from_arrays(columns, schema=schema)
        if history is not None and history.resolved:
            yield _resolved_table(history.resolved, schema, plan.identity, pack, lang)

    from kamrules.data.tables import arrow_parts_chunks

    return arrow_parts_chunks(groups(), schema)


_ARROW_TYPES = {"number": pa.float64(), "integer": pa.float64(), "boolean": pa.bool_()}


def _kind(decision, name: str) -> str | None:
    spec = decision.outputs.get(name)
    return None if spec is None else spec.type


def _typed(series: pd.Series, kind: pa.DataType) -> pa.Array:
    """A column as an Arrow array of `kind` (text: each cell's text, missing as null)."""
    if kind == pa.float64():
        return pa.array(series.to_numpy(dtype="float64", na_value=np.nan), from_pandas=True)
    objects = series.astype(object).to_numpy()
    try:
        return pa.array(objects, type=kind, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        from kamrules.data.written import _text

        texts = pa.array([None if v is None or v is pd.NA or v != v else _text(v) for v in objects], type=pa.string())
        return texts.cast(kind)


def _resolved_table(resolved: list, schema: pa.Schema, identity: list[str], pack, lang: str) -> pa.Table:
    """The resolved rows of `_resolved_lines` as a table of `schema`."""
    action_name, title_name = pack.role("action"), pack.role("action_title")
    columns: dict[str, list] = {name: [None] * len(resolved) for name in schema.names}
    for row, item in enumerate(resolved):
        for name in identity:
            value = item.identity.get(name)
            columns[name][row] = None if value is None else str(value)
        columns[action_name][row] = None if item.action is None else str(item.action)
        if title_name in columns:
            columns[title_name][row] = pack.label(action_name, item.action, lang)
        columns["task_id"][row] = task_id(item.account, item.action)
        columns[STATUS_COLUMN][row] = "resolved"
    return pa.Table.from_arrays([pa.array(columns[f.name], type=f.type) for f in schema], schema=schema)


def _resolved_lines(resolved: list, identity: list[str], header: str, pack, lang: str) -> bytes:
    """The tasks of the last review no longer needed: the account's identity as the last review had it,
    the action code and its label as the title, the task id, status resolved (due, priority and money
    left empty: nothing is due)."""
    from kamrules.data.tables import table_chunks

    names = header.split(",")
    action_name = pack.role("action")
    title_name = pack.role("action_title")
    rows = []
    for item in resolved:
        row = {name: item.identity.get(name) for name in identity}
        row.update({name: None for name in names})
        row[action_name] = item.action
        if title_name in row:
            row[title_name] = pack.label(action_name, item.action, lang)
        row.update({"task_id": task_id(item.account, item.action), "priority": None, "money_at_stake": None,
                    STATUS_COLUMN: "resolved"})
        rows.append(row)
    frame = pd.DataFrame(rows, columns=[*identity, *names, *TASK_COLUMNS, STATUS_COLUMN]).astype(object)
    text = b"".join(table_chunks(frame, "csv")).decode("utf-8").lstrip("\ufeff")
    return text.split("\n", 1)[1].encode("utf-8")


def _csv_lines(frame: pd.DataFrame) -> tuple[str, list[str]]:
    """(header, one CSV line per row) as the table writer encodes them (quoting, formula guard)."""
    text = b"".join(table_chunks(frame.reset_index(drop=True), "csv")).decode("utf-8").lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    lines = []
    for row in rows:
        writer.writerow(row)
        lines.append(buffer.getvalue()[:-1])
        buffer.seek(0)
        buffer.truncate()
    return lines[0], lines[1:]


def _shown(value, vtype: str, lang: str):
    if vtype == "text" and value is not None:
        return pick(value, lang)
    return value
