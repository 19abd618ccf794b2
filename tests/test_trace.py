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


@pytest.mark.parametrize("rows", [3, 131_072])
def test_trace_parquet_reads_back_as_the_long_form_with_dates_flags_and_texts(tmp_path, rows):
    """trace.parquet (one row group per `rows` accounts) holds what trace.jsonl holds: read back with
    read_trace_table it is the long form, dates as YYYY-MM-DD, missing flags as null."""
    import pyarrow.parquet as pq

    from kamrules.results.outputs import read_trace_table, trace_parquet_chunks

    pack = load_pack(write_pack(Path("rules"), {"00.yaml": FIELDS, "10.yaml": POLICIES + FIELD_TO_FIELD.replace(
        "decisions:\n", "") + READS_EVERY_KIND}))
    frame = _frame([{"sales": float(i * 7 % 130) if i % 5 else None, "sales_prev": float(i % 9), "nps": float(i % 11),
                     "strategic": [True, False, None][i % 3], "loyal": [None, True][i % 2],
                     "region": ["north", None, "south", '=x"y'][i % 4], "home": "north",
                     "last_order": None if i % 6 == 0 else f"2026-0{1 + i % 9}-1{i % 10}",
                     "first_order": "2020-02-02"} for i in range(40)])
    evaluation = evaluate(pack, frame, as_of=AS_OF)
    (tmp_path / "trace.parquet").write_bytes(b"".join(trace_parquet_chunks(evaluation, rows=rows)))
    assert list(read_trace_table(tmp_path / "trace.parquet")) == _long(evaluation)
    handle = pq.ParquetFile(tmp_path / "trace.parquet")
    assert handle.metadata.num_rows == 40 and handle.num_row_groups == (14 if rows == 3 else 1)
    kinds = {f.name: str(f.type) for f in handle.schema_arrow}
    read = {name for record in _long(evaluation) for name in record["reads"]}
    assert {f"value.{name}" for name in read} == {n for n in kinds if n.startswith("value.")}
    assert {"last_order", "strategic", "loyal", "region", "nps", "pair_d_count"} <= read
    assert [kinds[f"value.{n}"] for n in ("last_order", "strategic", "region", "nps")] == [
        "date32[day]", "bool", "string", "double"]


READS_EVERY_KIND = """\
  kinds_d:
    hit: collect
    outputs: {k: {type: category, values: [dated, flagged, placed, listed]}}
    rules:
      - {id: dated, when: last_order < date("2026-05-01"), then: {k: dated}}
      - {id: flagged, when: strategic or loyal, then: {k: flagged}}
      - {id: placed, when: region == "north", then: {k: placed}}
      - {id: listed, when: pair_d_count >= 2, then: {k: listed}}
"""
