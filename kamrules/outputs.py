"""The machine-readable results of a run: the decision table, the trace and the manifest."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from . import __version__
from .pack import pick
from .results import Evaluation


def decision_frame(evaluation: Evaluation, lang: str = "en") -> tuple[pd.DataFrame, list[str]]:
    """One row per account in input order: id, name, every output, and per decision its rule.

    Returns the frame and the names of its list (collect) columns."""
    pack = evaluation.pack
    columns: dict[str, list] = {"account_id": [], "account_name": []}
    list_columns: list[str] = []
    for decision in pack.decisions:
        for name in decision.outputs:
            columns[name] = []
            if decision.hit == "collect":
                list_columns.append(name)
        columns[f"{decision.id}_rule"] = []
    for account in evaluation.accounts:
        columns["account_id"].append(account.account_id)
        columns["account_name"].append(account.account_name)
        for decision in pack.decisions:
            result = account.decisions[decision.id]
            for name, spec in decision.outputs.items():
                value = result.outputs.get(name)
                if spec.type == "text":
                    value = [pick(v, lang) for v in value] if isinstance(value, list) else (
                        None if value is None else pick(value, lang))
                columns[name].append(value)
            columns[f"{decision.id}_rule"].append(result.rule)
    frame = pd.DataFrame(columns)
    for decision in pack.decisions:
        for name, spec in decision.outputs.items():
            if decision.hit == "collect":
                continue
            if spec.type == "number":
                frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
            elif spec.type == "boolean":
                frame[name] = frame[name].astype("boolean")
            else:
                frame[name] = frame[name].astype("object")
    frame["account_id"] = frame["account_id"].astype("object")
    frame["account_name"] = frame["account_name"].astype("object")
    return frame, list_columns


def json_value(value: Any) -> Any:
    """A value as JSON: dates as ISO text, missing as null, floats without binary noise."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, list):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if hasattr(value, "item"):  # numpy scalars
        return json_value(value.item())
    return value


def trace_lines(evaluation: Evaluation) -> bytes:
    """trace.jsonl: per account and decision, the rules that fired and the values they read."""
    lines = []
    for account in evaluation.accounts:
        for decision in evaluation.pack.decisions:
            result = account.decisions[decision.id]
            reads: dict = {}
            for hit in result.hits:
                reads.update(hit.reads)
            record = {
                "account_id": account.account_id,
                "row": account.row,
                "decision": decision.id,
                "rules": [h.rule for h in result.hits],
                "outputs": json_value(result.outputs),
                "reads": json_value(reads),
            }
            lines.append(json.dumps(record, ensure_ascii=False, sort_keys=True))
    return ("\n".join(lines) + "\n").encode("utf-8") if lines else b""


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest(evaluation: Evaluation, *, input_path: Path | None, jobs: int, files: list[str],
             data_issues: int = 0, extra: dict | None = None) -> bytes:
    """manifest.json: what produced these results. Deterministic: clock times go to the console."""
    pack = evaluation.pack
    record = {
        "kamrules_version": __version__,
        "engine": evaluation.engine,
        "jobs": jobs,
        "as_of": evaluation.as_of.isoformat(),
        "pack": {"name": pack.name, "hash": pack.hash, "files": pack.files},
        "input": {
            "name": input_path.name if input_path else evaluation.input_name,
            "sha256": file_hash(input_path) if input_path and input_path.is_file() else None,
            **{k: v for k, v in evaluation.source.items() if k not in ("path",)},
        },
        "rows": {"accounts": len(evaluation.accounts), "data_issues": data_issues},
        "outputs": sorted(files),
    }
    if extra:
        record.update(extra)
    return (json.dumps(json_value(record), ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")
