"""actions.csv: one row per account and action, the shape a CRM imports as tasks.

The decision that owns the pack's `action` output (a collect decision; in the default pack `actions`)
gives, per account, every action whose rule matched, with its code, title, owner, due date (as-of +
due days), measure of success and section. The decision table keeps only the action codes, so the
texts are written once per action here instead of in one wide cell per account.
"""

from __future__ import annotations

import csv
import io
from typing import Iterator

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


def actions_csv(evaluation: Evaluation, lang: str = "en") -> Iterator[bytes] | None:
    """actions.csv in pieces (None when the pack has no action decision). Each rule's part of a line
    and each account's part are encoded once; a line joins the two."""
    pack = evaluation.pack
    decision = action_decision(pack)
    if decision is None:
        return None
    table, outcomes = evaluation.table, evaluation.outcomes(decision.id)
    identity = _account_columns(pack, table)
    header, suffixes = _csv_lines(rules_frame(evaluation, lang))

    rule_parts = pa.array(suffixes, type=pa.string())

    def pieces() -> Iterator[bytes]:
        yield ("\ufeff" + ",".join(identity) + "," + header + "\n").encode("utf-8")
        for start in range(0, len(table), SLICE):
            part = table[identity].iloc[start:start + SLICE].astype("string")  # as text, missing as missing
            accounts, rules = _fired(outcomes, start, start + SLICE)
            if not len(accounts):
                continue
            prefixes = csv_row_texts(part.reset_index(drop=True))
            lines = pc.binary_join_element_wise(prefixes.take(pa.array(accounts)), rule_parts.take(pa.array(rules)), ",")
            yield text_bytes(pc.binary_join_element_wise(lines, "", "\n"))

    return pieces()


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
