"""A million accounts within 1.5 GB (issue #13): each thing is held once, and the decision table is
written part by part. The figures are in docs/performance.md (benchmarks/bench_scale.py); these tests
pin the behaviours that keep memory down and show the bytes do not change."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

import kamrules.run as run
from kamrules.data.reader import ReadOptions, read_table
from kamrules.data.tables import csv_parts_chunks, parquet_parts_chunks, table_bytes
from kamrules.engine.evaluate import evaluate
from kamrules.engine.evaluation import FactTable
from kamrules.engine.coding import _shifted
from kamrules.engine.situations import combine
from kamrules.pack import load_pack
from kamrules.results.columns import _plain_column, column_values
from kamrules.results.outputs import decision_frame, decision_frame_parts, decision_kinds

from conftest import ROOT

AS_OF = dt.date(2026, 11, 27)


@pytest.fixture(scope="module")
def example():
    pack = load_pack(ROOT / "rules")
    read = read_table(ROOT / "examples" / "customers.csv", list(pack.fields.values()), ReadOptions())
    return evaluate(pack, read.frame, as_of=AS_OF, input_name="customers.csv", row_numbers=read.row_numbers)


def _uncoded(frame: pd.DataFrame) -> pd.DataFrame:
    """A coded part with its categorical columns back as objects (missing as None)."""
    frame = frame.copy()
    for name in frame.columns:
        if isinstance(frame[name].dtype, pd.CategoricalDtype):
            values = frame[name].astype(object)
            frame[name] = pd.Series([list(v) if type(v) is tuple else v for v in values.where(values.notna(), None)],
                                    dtype=object)
    return frame


@pytest.mark.parametrize("coded", [False, True])
@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("rows", [1, 7, 64, 10_000])
def test_decision_table_written_in_parts_is_the_same_file(example, lang, rows, coded):
    whole, list_columns = decision_frame(example, lang)
    parts, part_lists = decision_frame_parts(example, lang, rows=rows, coded=coded)
    parts = list(parts)
    assert len(parts) == -(-len(whole) // rows)
    assert part_lists == list_columns
    assert any(isinstance(t, pd.CategoricalDtype) for t in parts[0].dtypes) == coded
    pd.testing.assert_frame_equal(pd.concat([_uncoded(p) for p in parts], ignore_index=True), whole)
    assert b"".join(csv_parts_chunks(iter(parts))) == table_bytes(whole, "csv")


def test_decision_table_parquet_from_parts_reads_back_as_the_whole_table(example):
    import io

    import pyarrow.parquet as pq

    whole, list_columns = decision_frame(example, "zh")
    kinds = decision_kinds(example)
    assert list(kinds) == list(whole.columns) and [c for c in kinds if kinds[c] == "list"] == list_columns
    for coded in (False, True):
        one, _ = decision_frame_parts(example, "zh", rows=10_000, coded=coded)
        assert b"".join(parquet_parts_chunks(one, kinds)) == table_bytes(whole, "parquet", list_columns=list_columns)
    parts, _ = decision_frame_parts(example, "zh", rows=7, coded=True)
    data = b"".join(parquet_parts_chunks(parts, kinds))
    again, _ = decision_frame_parts(example, "zh", rows=7, coded=True)
    assert b"".join(parquet_parts_chunks(again, kinds)) == data  # same inputs, same bytes
    written = pq.ParquetFile(io.BytesIO(data))
    assert written.metadata.num_row_groups == -(-len(whole) // 7)
    expected = pq.read_table(io.BytesIO(table_bytes(whole, "parquet", list_columns=list_columns)))
    assert written.read().equals(expected)


def test_parquet_parts_type_a_column_missing_throughout_one_part_by_its_kind():
    import io

    import pyarrow.parquet as pq

    parts = [pd.DataFrame({"id": ["a"], "flag": pd.Series([pd.NA], dtype="boolean"), "note": [None],
                           "sales": [float("nan")], "actions": pd.Series([None], dtype=object)}),
             pd.DataFrame({"id": ["b"], "flag": pd.Series([True], dtype="boolean"), "note": ["x"],
                           "sales": [12.5], "actions": pd.Series([["call"]], dtype=object)})]
    kinds = {"id": "text", "flag": "boolean", "note": "text", "sales": "number", "actions": "list"}
    data = b"".join(parquet_parts_chunks(iter(parts), kinds))
    whole = pq.read_table(io.BytesIO(table_bytes(pd.concat(parts, ignore_index=True), "parquet",
                                                 list_columns=["actions"])))
    assert pq.read_table(io.BytesIO(data)).equals(whole)
    assert [str(f.type) for f in whole.schema] == ["string", "bool", "string", "double", "list<element: string>"]


def test_coded_columns_are_written_as_their_values():
    """A categorical column (a code per row, the distinct texts once) gives the same CSV and Parquet as
    the same texts held as objects: quoting, the formula guard, a carriage return, missing cells, an
    unused category, a part where every cell is missing; and lists that share objects."""
    import io

    import pyarrow.parquet as pq
    from hypothesis import given, settings
    from hypothesis import strategies as st

    awkward = ["key", "a,b", 'say "hi"', "two\nlines", "car\rriage", "=SUM(A1)", "-3", "'+x", "中文", "", " "]
    shared = [["call", "visit"], ["=x"], [], None, [14, 7.5], ["a,b", "say \"hi\""]]

    @settings(max_examples=150, deadline=None, database=None)
    @given(st.lists(st.tuples(st.sampled_from(awkward + [None]), st.sampled_from(range(len(shared)))),
                    min_size=0, max_size=12), st.booleans())
    def same(rows, unused):
        texts = [t for t, _ in rows]
        lists = [shared[i] for _, i in rows]
        plain = pd.DataFrame({"id": [str(i) for i in range(len(rows))], "text": pd.Series(texts, dtype=object),
                              "actions": pd.Series(lists, dtype=object)})
        categories = list(dict.fromkeys(t for t in texts if t is not None)) + (["never used"] if unused else [])
        coded = plain.assign(text=pd.Categorical(texts, categories=pd.Index(categories, dtype=object)))
        tuples = [None if v is None else tuple(v) for v in lists]  # a coded list column: tuples for lists
        kept = list(dict.fromkeys(t for t in tuples if t is not None)) + ([("never", "used")] if unused else [])
        codes = [-1 if t is None else kept.index(t) for t in tuples]
        coded["actions"] = pd.Categorical.from_codes(codes, categories=pd.Index(kept, dtype=object, tupleize_cols=False))
        assert b"".join(csv_parts_chunks(iter([coded]))) == table_bytes(plain, "csv")
        kinds = {"id": "text", "text": "text", "actions": "list"}
        read = pq.read_table(io.BytesIO(b"".join(parquet_parts_chunks(iter([coded]), kinds))))
        assert read.equals(pq.read_table(io.BytesIO(b"".join(parquet_parts_chunks(iter([plain]), kinds)))))

    same()


def test_parquet_parts_refuse_a_value_of_another_kind_with_a_message():
    from kamrules.errors import ConfigError

    parts = [pd.DataFrame({"id": ["a"], "x": pd.Series(["text"], dtype=object)})]
    with pytest.raises(ConfigError, match="use --format csv"):
        b"".join(parquet_parts_chunks(iter(parts), {"id": "text", "x": "number"}))


def test_csv_parts_decide_a_date_column_once_for_the_whole_column():
    frame = pd.DataFrame({"id": ["a", "b"], "when": [pd.Timestamp("2026-11-27"), pd.Timestamp("2026-11-27 09:30")]})
    with pytest.raises(ValueError, match="date column"):
        b"".join(csv_parts_chunks(iter([frame.iloc[:1], frame.iloc[1:]])))
    parts = iter([frame.iloc[:1].reset_index(drop=True), frame.iloc[1:].reset_index(drop=True)])
    assert b"".join(csv_parts_chunks(parts, times={1: True})) == table_bytes(frame, "csv")


def test_an_empty_table_written_in_parts_keeps_its_header():
    frame = pd.DataFrame({"account_id": pd.Series([], dtype=object), "sales": pd.Series([], dtype="float64")})
    assert b"".join(csv_parts_chunks(iter([frame]))) == table_bytes(frame, "csv") == "\ufeffaccount_id,sales\n".encode()


def test_the_decision_table_is_built_when_written_not_before(monkeypatch, tmp_path):
    """While the report is rendered the decision table does not exist yet (its memory is not stacked)."""
    import kamrules.results.outputs as outputs

    built: list = []
    real = outputs.decision_frame_parts

    def recording(*args, **kwargs):
        built.append("decisions")
        return real(*args, **kwargs)

    monkeypatch.setattr(outputs, "decision_frame_parts", recording)
    import kamrules.documents.report as report

    real_report = report.render_report

    def report_first(*args, **kwargs):
        built.append("report")
        return real_report(*args, **kwargs)

    monkeypatch.setattr(report, "render_report", report_first)
    options = run.EvaluateOptions(data=ROOT / "examples" / "customers.csv", rules=ROOT / "rules", out=tmp_path / "out",
                                  as_of=AS_OF, playbooks="none", jobs=1)
    run.run_evaluate(options)
    assert built == ["report", "decisions"]
    assert (tmp_path / "out" / "decisions.csv").read_bytes().startswith("\ufeffaccount_id,".encode())


@pytest.mark.skipif(not __import__("kamrules.processes").processes.can_fork(), reason="needs fork")
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_large_run_writes_its_trace_and_actions_beside_the_decision_table(monkeypatch, tmp_path, fmt):
    """With --jobs 2 a large run (here: any run) writes trace.jsonl and actions.csv in a forked process
    while it writes the decision table: the same files, byte for byte, as with --jobs 1."""
    import kamrules.data.writer as writer

    monkeypatch.setattr(run, "APART_ACCOUNTS", 0)
    forked: list = []
    real = writer._write_elsewhere
    monkeypatch.setattr(writer, "_write_elsewhere", lambda files: forked.append([p.name for p, _ in files]) or real(files))
    outs = {}
    for jobs in (1, 2):
        outs[jobs] = tmp_path / f"jobs{jobs}"
        run.run_evaluate(run.EvaluateOptions(data=ROOT / "examples" / "customers.csv", rules=ROOT / "rules",
                                             out=outs[jobs], as_of=AS_OF, jobs=jobs, format=fmt))
    apart = ["actions.csv", "trace.jsonl"] if fmt == "csv" else ["actions.parquet", "trace.parquet"]
    assert forked == [apart]  # only with --jobs 2, both in the one other process
    files = {p.relative_to(outs[1]).as_posix(): p.read_bytes() for p in sorted(outs[1].rglob("*")) if p.is_file()}
    assert {p.relative_to(outs[2]).as_posix(): p.read_bytes() for p in sorted(outs[2].rglob("*")) if p.is_file()} == files
    assert set(apart) <= set(files) and len(files) > 10  # playbooks too


def test_text_columns_hand_back_the_tables_own_strings():
    texts = ["华东", "00042", "华东"]
    column = pd.Series([texts[0], None, texts[1], float("nan"), pd.NA, texts[2]], dtype=object)
    values = _plain_column(column)
    assert values == ["华东", None, "00042", None, None, "华东"]
    assert values[0] is texts[0] and values[2] is texts[1]  # not a million new copies
    subclassed = _plain_column(pd.Series([np.str_("a"), None], dtype=object))
    assert subclassed == ["a", None] and type(subclassed[0]) is str


def test_shared_lists_for_readers_own_copies_otherwise(example):
    name = example.pack.role("action_due_days")
    shared = column_values(example, name, shared=True)
    copies = column_values(example, name)
    assert shared == copies
    with_lists = [i for i, v in enumerate(shared) if isinstance(v, list) and v]
    same = [(i, j) for i in with_lists for j in with_lists if i < j and shared[i] == shared[j]]
    assert same, "the example has accounts with the same actions"
    i, j = same[0]
    assert shared[i] is shared[j]  # one list object for accounts with the same actions
    assert copies[i] is not copies[j]
    copies[i].append(999)
    assert copies[j] == shared[j] and 999 not in shared[i]


def test_reading_one_account_does_not_copy_the_float_columns(example):
    table = FactTable(example.table)
    table.row(0)
    floats = [c for c in example.table.columns if example.table[c].dtype == np.float64]
    assert floats
    for name in floats:
        assert np.shares_memory(table._column(name)[0], example.table[name].to_numpy()), name


@pytest.mark.parametrize("number, kind", [(3, np.uint8), (255, np.uint8), (256, np.uint16), (40_000, np.uint16),
                                          (70_000, np.uint32), (2 ** 32, np.uint64)])
@pytest.mark.parametrize("source", [np.int8, np.int16, np.int32, np.int64])
def test_codes_kept_in_the_smallest_integer_type(number, kind, source):
    """A column's codes -1 … n-1 are kept as 0 … n (0 = missing) in the smallest unsigned type."""
    if number - 1 > np.iinfo(source).max:
        return
    codes = np.array([-1, 0, number - 1], dtype=source)
    compact = _shifted(codes.copy(), number)
    assert compact.dtype == kind
    assert compact.tolist() == [0, 1, number]


@pytest.mark.parametrize("numbers, kind", [([3, 4, 5], np.uint8), ([20, 20], np.uint16), ([300, 300, 300], np.uint32),
                                           ([70_000, 70_000], np.uint64)])
@pytest.mark.parametrize("looked_up", [False, True])
def test_a_decisions_key_is_built_in_the_narrowest_type_that_holds_it(numbers, kind, looked_up):
    """The key is the mixed-radix number of the accounts' classes, whether a part's codes are its
    classes or its classes are looked up by code (codes 0 = missing, class -1)."""
    rng = np.random.default_rng(3)
    parts = []
    for n in numbers:
        if looked_up:  # 2n codes, each mapped to one of n classes (code 0, missing, to -1)
            table = np.concatenate([[-1], rng.integers(-1, n, size=2 * n)])
            table[1:n + 1] = np.arange(n)  # every class reached
            parts.append((rng.integers(0, 2 * n + 1, size=50).astype(np.uint32), table, n))
        else:
            parts.append((rng.integers(0, n + 1, size=50).astype(np.uint32), None, n))
    key, width = combine(parts, 50)
    assert key.dtype == kind and width == np.prod([n + 1 for n in numbers])
    expected, below = [0] * 50, 1
    for codes, table, n in sorted(parts, key=lambda p: p[2]):
        digits = codes.tolist() if table is None else (table[codes] + 1).tolist()
        expected = [e + d * below for e, d in zip(expected, digits)]
        below *= n + 1
    assert key.tolist() == expected  # the same mixed-radix key as in unbounded integers


def test_freed_memory_is_handed_back_on_linux_only(monkeypatch):
    import ctypes

    calls: list = []

    class Libc:
        def malloc_trim(self, pad):
            calls.append(pad)

    monkeypatch.setattr(ctypes, "CDLL", lambda name: Libc())
    monkeypatch.setattr(run.sys, "platform", "linux")
    run.give_back_memory()
    assert calls == [0]
    monkeypatch.setattr(run.sys, "platform", "darwin")
    run.give_back_memory()
    assert calls == [0]

    def missing(name):
        raise OSError("no libc.so.6")

    monkeypatch.setattr(ctypes, "CDLL", missing)
    monkeypatch.setattr(run.sys, "platform", "linux")
    run.give_back_memory()  # musl: nothing to do, no error


@pytest.mark.parametrize("dtype", ["str", object])
def test_a_text_field_holds_one_object_per_distinct_text(dtype):
    """A caller's text column — pandas' own strings or objects — becomes the same values, missing as
    None; pandas' strings are made one object per distinct text, not one per cell (less memory, and
    the decision stage codes shared objects without hashing a million strings)."""
    from kamrules.engine.features import prepare_facts

    pack = load_pack(ROOT / "rules")
    texts = ["retailer", None, "wholesaler", "retailer", ""] * 20
    frame = pd.DataFrame({"customer_type": pd.Series(texts, dtype=dtype)})
    column = prepare_facts(pack, frame)["customer_type"]
    assert column.dtype == object
    assert column.tolist() == ["retailer", None, "wholesaler", "retailer", ""] * 20
    if dtype == "str":
        assert column[0] is column[3] is column[98]
