"""trace.jsonl: compact (each decision's situations once, one line per account) and lossless."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from kamrules.engine.evaluate import evaluate
from kamrules.pack import load_pack
from kamrules.results.outputs import long_trace_chunks, read_trace, trace_chunks

from test_situations import FIELD_TO_FIELD, FIELDS, POLICIES, _frame
from conftest import write_pack

HERE = Path(__file__).parent
AS_OF = dt.date(2026, 11, 27)


def _long(evaluation) -> list[dict]:
    return [json.loads(line) for line in b"".join(long_trace_chunks(evaluation)).decode().splitlines()]


@pytest.mark.parametrize("chunk", [3, 10_000])
def test_the_compact_trace_reads_back_as_one_record_per_account_and_decision(tmp_path, chunk):
    pack = load_pack(write_pack(Path("rules"), {"00.yaml": FIELDS,
                                                "10.yaml": POLICIES + FIELD_TO_FIELD.replace("decisions:\n", "")}))
    frame = _frame([{"sales": float(i * 7 % 130) if i % 5 else None, "sales_prev": float(i % 9),
                     "nps": float(i % 11)} for i in range(40)])
    evaluation = evaluate(pack, frame, as_of=AS_OF)
    compact = b"".join(trace_chunks(evaluation, chunk=chunk)).decode()
    assert list(read_trace(compact.splitlines())) == _long(evaluation)
    lines = compact.splitlines()
    # a header, each decision's distinct situations once, then one line per account
    assert json.loads(lines[0]) == {"format": "kamrules-trace-2", "decisions": ["first_d", "priority_d", "pair_d"]}
    accounts = [json.loads(line) for line in lines if line.startswith('{"account_id"')]
    assert len(accounts) == 40 and len(lines) < 1 + 40 + 3 * 16
    assert all(len(a["situations"]) == 3 for a in accounts)


def test_the_golden_trace_holds_what_the_long_form_held():
    """tests/projects/basic/expected/trace.jsonl in the compact form reads back to the long form the
    project's trace had before (one line per account and decision, kept below as written then)."""
    before = [
        {"account_id": "00042", "decision": "tier", "reads": {}, "row": 2, "rules": ["default"]},
        {"account_id": "00042", "decision": "signals", "reads": {"growth": -0.2, "nps": 6}, "row": 2,
         "rules": ["decline", "detractor"]},
        {"account_id": "00042", "decision": "risk", "reads": {"signals_count": 2}, "row": 2, "rules": ["two"]},
        {"account_id": "00007", "decision": "tier", "reads": {"strategic_project": True}, "row": 3,
         "rules": ["strategic"]},
        {"account_id": "00007", "decision": "signals", "reads": {}, "row": 3, "rules": []},
        {"account_id": "00007", "decision": "risk", "reads": {}, "row": 3, "rules": ["default"]},
        {"account_id": "A-3", "decision": "tier", "reads": {}, "row": 4, "rules": ["default"]},
        {"account_id": "A-3", "decision": "signals", "reads": {}, "row": 4, "rules": []},
        {"account_id": "A-3", "decision": "risk", "reads": {}, "row": 4, "rules": ["default"]},
        {"account_id": "0004", "decision": "tier", "reads": {}, "row": 5, "rules": ["default"]},
        {"account_id": "0004", "decision": "signals", "reads": {"nps": 3}, "row": 5, "rules": ["detractor"]},
        {"account_id": "0004", "decision": "risk", "reads": {}, "row": 5, "rules": ["default"]},
    ]
    text = (HERE / "projects" / "basic" / "expected" / "trace.jsonl").read_text(encoding="utf-8")
    assert list(read_trace(text.splitlines())) == before


def test_a_trace_of_another_format_is_refused_with_its_line():
    with pytest.raises(ValueError, match="trace line 1: unknown format 'kamrules-trace-9'"):
        list(read_trace(['{"format": "kamrules-trace-9", "decisions": []}']))
