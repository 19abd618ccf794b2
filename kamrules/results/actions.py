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


def actions_csv(evaluation: Evaluation, lang: str = "en", history: Any = None) -> Iterator[bytes] | None:
    """actions.csv in pieces (None when the pack has no action decision). Each rule's part of a line
    and each account's part are encoded once; a line joins them with the task's id. `history` (with
    `evaluate --previous`, kamrules.review.tasks.TaskHistory): `previous` (account id -> the action codes
    of the last review) gives each row its status, and `resolved` rows follow the current ones."""
    pack = evaluation.pack
    decision = action_decision(pack)
    if decision is None:
        return None
    table, outcomes = evaluation.frame, evaluation.outcomes(decision.id)
    identity = _account_columns(pack, table)
    header, suffixes = _csv_lines(rules_frame(evaluation, lang))
    action_name = pack.role("action")
    codes = [rule.then.get(action_name) for rule in decision.rules]
    per_account = account_task_values(evaluation)
    ids = (table["account_id"].astype(object).where(table["account_id"].notna(), "").map(str).tolist()
           if "account_id" in table.columns else [""] * len(table))
    previous = getattr(history, "previous", None)
    extra = [*TASK_COLUMNS, *([STATUS_COLUMN] if history is not None else [])]

    rule_parts = pa.array(suffixes, type=pa.string())

    def pieces() -> Iterator[bytes]:
        yield ("\ufeff" + ",".join(identity) + "," + header + "," + ",".join(extra) + "\n").encode("utf-8")
        for start in range(0, len(table), SLICE):
            part = table[identity].iloc[start:start + SLICE].astype("string")  # as text, missing as missing
            accounts, rules = _fired(outcomes, start, start + SLICE)
            if not len(accounts):
                continue
            prefixes = csv_row_texts(part.reset_index(drop=True))
            after = csv_row_texts(per_account.iloc[start:start + SLICE].reset_index(drop=True))
            taken = pa.array(accounts)
            account_ids = [ids[start + a] for a in accounts.tolist()]
            actions = [codes[r] for r in rules.tolist()]
            tasks = [task_id(a, c) for a, c in zip(account_ids, actions)]
            columns = [prefixes.take(taken), rule_parts.take(pa.array(rules)), pa.array(tasks, type=pa.string()),
                       after.take(taken)]
            if previous is not None:
                columns.append(pa.array(["open" if c in previous.get(a, ()) else "new"
                                         for a, c in zip(account_ids, actions)], type=pa.string()))
            lines = pc.binary_join_element_wise(*columns, ",")
            yield text_bytes(pc.binary_join_element_wise(lines, "", "\n"))
        if history is not None and history.resolved:
            yield _resolved_lines(history.resolved, identity, header, pack, lang)

    return pieces()


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
