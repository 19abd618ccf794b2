"""The machine-readable results of a run: the decision table, the trace and the manifest."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from pathlib import Path
from typing import Any, Iterator

import pandas as pd

from . import __version__
from .pack import pick
from .results import Evaluation


def decision_frame(evaluation: Evaluation, lang: str = "en") -> tuple[pd.DataFrame, list[str]]:
    """One row per account in input order: id, name, every output, and per decision its rule.

    Built a decision at a time from the match masks (each distinct mask is decoded once), not account
    by account. Returns the frame and the names of its list (collect) columns."""
    from .evaluate import decide_outputs, mask_rules

    pack, table = evaluation.pack, evaluation.table
    count = len(table)
    columns: dict[str, Any] = {}
    for name in ("account_id", "account_name"):
        if name in table.columns:
            series = table[name].astype(object)
            columns[name] = series.where(series.notna(), None).map(lambda v: v if v is None else str(v))
        else:
            columns[name] = pd.Series([None] * count, dtype=object)
    list_columns: list[str] = []
    for decision in pack.decisions:
        keys = pd.Series(evaluation.masks[decision.id])
        decoded = {}
        for mask in pd.unique(keys):
            outputs, deciding, used_default = decide_outputs(decision, mask_rules(int(mask)))
            rule = "default" if used_default else ("; ".join(decision.rules[i].id for i in deciding) or None)
            decoded[int(mask)] = (outputs, rule)
        for name, spec in decision.outputs.items():
            def shown(value: Any, _spec=spec) -> Any:
                if _spec.type == "text":
                    if isinstance(value, list):
                        return [pick(v, lang) for v in value]
                    return None if value is None else pick(value, lang)
                return value

            values = keys.map({m: shown(out.get(name)) for m, (out, _) in decoded.items()})
            if decision.hit == "collect":
                list_columns.append(name)
                columns[name] = values.astype(object)
            elif spec.type == "number":
                columns[name] = pd.to_numeric(values, errors="coerce").astype("float64")
            elif spec.type == "boolean":
                columns[name] = values.astype("boolean")
            else:
                columns[name] = values.astype(object).where(values.notna(), None)
        columns[f"{decision.id}_rule"] = keys.map({m: rule for m, (_, rule) in decoded.items()}).astype(object)
    return pd.DataFrame(columns), list_columns


def json_value(value: Any) -> Any:
    """A value as JSON: dates as ISO text, missing as null, floats without binary noise."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return int(value) if value.is_integer() and abs(value) < 1e15 else value  # 2.0 reads as 2
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


def trace_chunks(evaluation: Evaluation, chunk: int = 5000) -> Iterator[bytes]:
    """trace.jsonl, a few thousand accounts at a time: per account and decision, the rules that fired,
    the outputs and the values the rules read."""
    for start in range(0, len(evaluation.accounts), chunk):
        lines = []
        for account in evaluation.accounts[start:start + chunk]:
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
        if lines:
            yield ("\n".join(lines) + "\n").encode("utf-8")


def trace_lines(evaluation: Evaluation) -> bytes:
    """trace.jsonl as one piece."""
    return b"".join(trace_chunks(evaluation))


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
