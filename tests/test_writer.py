"""kamrules.writer: table bytes in every format (round trips, injection, determinism) and the atomic
output folder."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kamrules
import kamrules.data.tables as tables
import kamrules.data.writer as writer
import kamrules.data.xlsx as xlsx
from kamrules.errors import ConfigError
from kamrules.pack.fields import FieldSpec
from kamrules.data.reader import MISSING_WORDS, ReadOptions, read_table
from kamrules.data.tables import table_bytes
from kamrules.data.written import neutralise
from kamrules.data.writer import MARKER, write_outputs
from kamrules.data.written import guard_formulas

FIELDS = [
    FieldSpec("account_id", "string", required=True),
    FieldSpec("name", "string"),
    FieldSpec("sales", "number"),
    FieldSpec("nps", "integer"),
    FieldSpec("last_visit", "date"),
    FieldSpec("strategic", "boolean"),
]


def sample_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "account_id": pd.Series(["00042", "A-7", "=HYPERLINK(\"x\")"], dtype=object),
        "name": pd.Series(["华为技术", None, "+cmd"], dtype=object),
        "sales": [1200.0, np.nan, -5.25],
        "nps": [9.0, 7.0, np.nan],
        "last_visit": pd.Series(pd.to_datetime(["2026-01-31", None, "2025-12-01"])).astype("datetime64[ns]"),
        "strategic": pd.Series([True, None, False], dtype=object),
    })


def assert_same_as_sample(frame: pd.DataFrame) -> None:
    expected = sample_frame()
    assert list(frame.columns) == list(expected.columns)
    for column in ["account_id", "name", "strategic"]:
        assert frame[column].tolist() == expected[column].tolist(), column
    for column in ["sales", "nps"]:
        np.testing.assert_array_equal(frame[column].to_numpy(), expected[column].to_numpy())
    assert frame["last_visit"].tolist()[0] == pd.Timestamp("2026-01-31")
    assert pd.isna(frame["last_visit"].iloc[1])


# --------------------------------------------------------------------------------------------------
# Round trips through the reader


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json", "parquet"])
def test_round_trip(tmp_path, fmt):
    path = tmp_path / f"decisions.{fmt}"
    path.write_bytes(table_bytes(sample_frame(), fmt))
    result = read_table(path, FIELDS, ReadOptions())
    assert_same_as_sample(result.frame)
    assert result.unused_columns == []


def test_list_columns_per_format():
    frame = pd.DataFrame({"account_id": ["A1", "A2", "A3"],
                          "actions": pd.Series([["call", "=visit"], [], None], dtype=object)})
    csv_text = table_bytes(frame, "csv", list_columns=["actions"]).decode("utf-8-sig")
    assert csv_text == "account_id,actions\nA1,call; =visit\nA2,\nA3,\n"
    records = json.loads(table_bytes(frame, "json", list_columns=["actions"]))
    assert [r["actions"] for r in records] == [["call", "=visit"], [], None]
    table = pq.read_table(io.BytesIO(table_bytes(frame, "parquet", list_columns=["actions"])))
    assert table.column("actions").to_pylist() == [["call", "=visit"], [], None]
    sheet = openpyxl.load_workbook(io.BytesIO(table_bytes(frame, "xlsx", list_columns=["actions"]))).active
    assert [c.value for c in sheet["B"]] == ["actions", "call; =visit", None, None]


def test_csv_layout():
    data = table_bytes(sample_frame(), "csv")
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel then shows Chinese correctly
    assert b"\r" not in data
    assert data.decode("utf-8-sig") == (
        "account_id,name,sales,nps,last_visit,strategic\n"
        "00042,华为技术,1200,9,2026-01-31,true\n"
        "A-7,,,7,,\n"
        "\"'=HYPERLINK(\"\"x\"\")\",'+cmd,-5.25,,2025-12-01,false\n"
    )


def test_unknown_format():
    with pytest.raises(ConfigError) as caught:
        table_bytes(sample_frame(), "xls")
    assert str(caught.value) == "unknown output format 'xls'; use one of: csv, xlsx, json, parquet"


# --------------------------------------------------------------------------------------------------
# Formula injection


@pytest.mark.parametrize("text, shown", [
    ("=1+2", "'=1+2"), ("+49 30 1234", "'+49 30 1234"), ("-x", "'-x"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("'=x", "''=x"), ("a=b", "a=b"), ("O'Brien", "O'Brien"), ("", ""),
    # only apostrophes are skipped before the formula character, no other letter
    ("X=1", "X=1"), ("XX-1", "XX-1"), ("''@x", "'''@x"),
])
def test_neutralise(text, shown):
    assert neutralise(text) == shown
    assert guard_formulas(pa.array([text, None])).to_pylist() == [shown, None]  # the vectorised guard agrees


def test_injection_in_csv_and_xlsx_but_numbers_stay_numbers():
    frame = pd.DataFrame({"=header": pd.Series(["=cmd|' /C calc'!A0", "-2"], dtype=object), "value": [-3.5, 2.0]})
    text = table_bytes(frame, "csv").decode("utf-8-sig")
    assert text == "'=header,value\n'=cmd|' /C calc'!A0,-3.5\n'-2,2\n"
    sheet = openpyxl.load_workbook(io.BytesIO(table_bytes(frame, "xlsx"))).active
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        ["'=header", "value"], ["'=cmd|' /C calc'!A0", -3.5], ["'-2", 2]]
    assert sheet["B2"].data_type == "n" and sheet["A2"].data_type == "s"


FORMULA_STARTS = ["=", "+", "-", "@", "\t", "\r"]


@pytest.mark.parametrize("start", FORMULA_STARTS, ids=["equals", "plus", "minus", "at", "tab", "cr"])
def test_every_formula_start_is_guarded_on_every_path_of_csv_and_xlsx(start):
    """Each start character, in a text column (the vectorised path), a mixed column (the per-cell path),
    a list cell and a header: a spreadsheet must never see it first. Removing any one character from
    the guard (the tab and CR included) fails this test."""
    bad = start + "cmd|' /C calc'!A0"
    frame = pd.DataFrame({
        bad: pd.Series(["safe", "safe", "safe"], dtype=object),
        "text": pd.Series([bad, "ok", None], dtype=object),  # all text: pyarrow, vectorised
        "mixed": pd.Series([bad, 7, ["a", "b"]], dtype=object),  # mixed kinds: one cell at a time
        "lists": pd.Series([[bad, "x"], ["y"], None], dtype=object),
    })
    rows = list(__import__("csv").reader(io.StringIO(table_bytes(frame, "csv").decode("utf-8-sig"),
                                                     newline="")))
    assert rows[0][0] == "'" + bad
    assert rows[1][1:] == ["'" + bad, "'" + bad, "'" + bad + "; x"]
    sheet = openpyxl.load_workbook(io.BytesIO(table_bytes(frame, "xlsx"))).active
    guarded = ("'" + bad).replace("\r", "\n")  # XML parsers read a CR in text as a line feed
    assert sheet["A1"].value == guarded
    assert [sheet[ref].value for ref in ("B2", "C2", "D2")] == [guarded, guarded, guarded + "; x"]


def test_a_carriage_return_in_csv_is_quoted_so_the_file_reads_back(tmp_path):
    frame = pd.DataFrame({"account_id": pd.Series(["A1", "A2"], dtype=object),
                          "name": pd.Series(["line\rbreak", "plain"], dtype=object)})
    path = tmp_path / "back.csv"
    path.write_bytes(table_bytes(frame, "csv"))
    assert path.read_bytes().decode("utf-8-sig") == 'account_id,name\n"A1","line\rbreak"\nA2,plain\n'
    back = read_table(path, [FieldSpec("account_id", "string"), FieldSpec("name", "string")])
    assert back.frame["name"].tolist() == ["line\rbreak", "plain"]


def test_json_and_parquet_keep_text_as_is():
    frame = pd.DataFrame({"id": pd.Series(["=cmd"], dtype=object)})
    assert json.loads(table_bytes(frame, "json")) == [{"id": "=cmd"}]
    assert pq.read_table(io.BytesIO(table_bytes(frame, "parquet"))).column("id").to_pylist() == ["=cmd"]


# --------------------------------------------------------------------------------------------------
# XLSX, JSON and Parquet details


def test_xlsx_is_byte_deterministic():
    first = table_bytes(sample_frame(), "xlsx")
    time.sleep(2.1)  # zip entry times have a 2-second resolution: a writer stamping "now" would differ
    second = table_bytes(sample_frame(), "xlsx")
    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        core = archive.read("docProps/core.xml").decode()
    assert "2000-01-01T00:00:00Z" in core


def test_xlsx_layout_and_types():
    frame = sample_frame()
    frame["note"] = ["x" * 500, "short", None]
    frame["中文列"] = ["客户" * 3, None, None]
    sheet = openpyxl.load_workbook(io.BytesIO(table_bytes(frame, "xlsx"))).active
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.b for cell in sheet[1])
    assert sheet["A2"].value == "00042" and sheet["A2"].data_type == "s"
    assert sheet["C2"].value == 1200 and sheet["C2"].data_type == "n"
    assert sheet["E2"].is_date and sheet["E2"].number_format == "yyyy-mm-dd"
    assert sheet["F2"].value is True
    assert sheet["C3"].value is None  # NaN is an empty cell
    widths = {letter: sheet.column_dimensions[letter].width for letter in "ABCGH"}
    assert widths["G"] == 60  # capped
    assert widths["A"] == 17  # the longest text (15 characters) plus 2
    assert widths["H"] == 14  # six Chinese characters count double


def test_xlsx_text_is_escaped_and_readable_by_pandas():
    frame = pd.DataFrame({
        "text": pd.Series(['a<b&c>"d"', "bell\x07here", "  spaced  ", None, "中文", ""], dtype=object),
        "mixed": pd.Series([1, "a", None, 2.5, True, ["x", "y"]], dtype=object),
        "when": pd.Series(pd.to_datetime(["2026-01-31 10:30", None, "2026-01-01", "2026-01-02", "2026-01-03",
                                          "2026-01-04"], format="ISO8601")).astype("datetime64[ns]"),
    })
    data = table_bytes(frame, "xlsx")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        import xml.etree.ElementTree as ElementTree

        for name in archive.namelist():
            ElementTree.fromstring(archive.read(name))  # every part is well-formed XML
    back = pd.read_excel(io.BytesIO(data))
    assert back["text"].tolist()[:3] == ['a<b&c>"d"', "bellhere", "  spaced  "]
    assert pd.isna(back["text"].iloc[3]) and pd.isna(back["text"].iloc[5]) and back["text"].iloc[4] == "中文"
    assert back["mixed"].tolist()[:2] == ["1", "a"] and back["mixed"].iloc[5] == "x; y"
    assert back["when"].iloc[0] == pd.Timestamp("2026-01-31 10:30")
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet["C2"].number_format == "yyyy-mm-dd hh:mm:ss"


def test_xlsx_refuses_more_rows_than_excel_holds(monkeypatch):
    monkeypatch.setattr(xlsx, "_EXCEL_ROWS", 3)
    with pytest.raises(ConfigError) as caught:
        table_bytes(sample_frame(), "xlsx")
    assert str(caught.value) == "3 rows do not fit in an Excel sheet (2 at most); use --format csv or parquet"


def test_json_layout():
    text = table_bytes(sample_frame(), "json").decode("utf-8")
    assert text.splitlines()[1] == ('{"account_id": "00042", "name": "华为技术", "sales": 1200, "nps": 9, '
                                    '"last_visit": "2026-01-31", "strategic": true},')
    records = json.loads(text)
    assert records[1] == {"account_id": "A-7", "name": None, "sales": None, "nps": 7, "last_visit": None,
                          "strategic": None}
    assert records[2]["sales"] == -5.25
    assert table_bytes(sample_frame().iloc[:0], "json") == b"[]\n"


def test_parquet_is_deterministic_and_typed():
    first = table_bytes(sample_frame(), "parquet")
    assert first == table_bytes(sample_frame(), "parquet")
    table = pq.read_table(io.BytesIO(first))
    assert str(table.schema.field("sales").type) == "double"
    assert str(table.schema.field("last_visit").type) == "timestamp[ns]"
    assert str(table.schema.field("strategic").type) == "bool"
    assert table.column("sales").to_pylist()[1] is None  # NaN is written as null


# --------------------------------------------------------------------------------------------------
# Property: anything valid written as CSV reads back the same


MISSING = {word.casefold() for word in MISSING_WORDS}
ids = st.from_regex(r"[0-9A-Z]{1,8}", fullmatch=True).filter(lambda s: s.casefold() not in MISSING)
texts = (
    st.text(alphabet=st.sampled_from(list("abcXYZ 中文客户，=+-@,;\"'\n0789")), min_size=1, max_size=12)
    .map(str.strip)
    .filter(lambda s: s and s.casefold() not in MISSING)
)
numbers = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15)  # beyond: refused
rows = st.lists(st.tuples(ids, numbers, texts), min_size=1, max_size=25, unique_by=lambda row: row[0])


@settings(max_examples=150, deadline=None, database=None,  # no .hypothesis folder: tests write only in tmp_path
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=rows)
def test_csv_round_trip_property(tmp_path, rows):
    frame = pd.DataFrame({
        "account_id": pd.Series([r[0] for r in rows], dtype=object),
        "sales": pd.Series([r[1] for r in rows], dtype="float64"),
        "name": pd.Series([r[2] for r in rows], dtype=object),
    })
    path = tmp_path / "round.csv"
    path.write_bytes(table_bytes(frame, "csv"))
    result = read_table(path, FIELDS, ReadOptions())
    assert result.frame["account_id"].tolist() == frame["account_id"].tolist()
    assert result.frame["sales"].tolist() == frame["sales"].tolist()
    assert result.frame["name"].tolist() == frame["name"].tolist()
    assert result.row_numbers == list(range(2, len(rows) + 2))


# --------------------------------------------------------------------------------------------------
# write_outputs


def listing(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_write_outputs_creates_and_replaces(tmp_path):
    out = tmp_path / "results"
    write_outputs(out, {"decisions.csv": b"1", "playbooks/A1.md": b"# A1"})
    assert listing(out) == {MARKER: writer._MARKER_TEXT, "decisions.csv": b"1", "playbooks/A1.md": b"# A1"}
    write_outputs(out, {"decisions.csv": b"2"})
    assert listing(out) == {MARKER: writer._MARKER_TEXT, "decisions.csv": b"2"}  # the old playbook is gone
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]  # no temporary folders left


def test_write_outputs_into_empty_existing_folder_and_new_parents(tmp_path):
    (tmp_path / "empty").mkdir()
    write_outputs(tmp_path / "empty", {"a.txt": b"a"})
    write_outputs(tmp_path / "deep" / "er" / "out", {"a.txt": b"a"})
    assert (tmp_path / "deep" / "er" / "out" / "a.txt").read_bytes() == b"a"


def test_refuses_out_containing_an_input(tmp_path):
    data = tmp_path / "work" / "customers.csv"
    data.parent.mkdir()
    data.write_text("x")
    with pytest.raises(ConfigError) as caught:
        write_outputs(tmp_path / "work", {"a.txt": b"a"}, inputs=[data], force=True)
    assert str(caught.value) == (f"{tmp_path / 'work'}: the output folder contains the input {data}; "
                                 "choose another --out so the input is not replaced")
    assert data.read_text() == "x"


def test_refuses_out_that_is_the_input(tmp_path):
    data = tmp_path / "customers.csv"
    data.write_text("x")
    with pytest.raises(ConfigError) as caught:
        write_outputs(tmp_path / "." / "customers.csv", {"a.txt": b"a"}, inputs=[data])
    assert str(caught.value).endswith("choose another --out so the input is not replaced")
    assert data.read_text() == "x"


def test_refuses_out_that_is_a_file(tmp_path):
    target = tmp_path / "results"
    target.write_text("x")
    with pytest.raises(ConfigError) as caught:
        write_outputs(target, {"a.txt": b"a"})
    assert str(caught.value) == f"{target}: is a file, not a folder; choose another --out"


def test_refuses_foreign_folder_unless_forced(tmp_path):
    out = tmp_path / "documents"
    out.mkdir()
    (out / "thesis.docx").write_text("precious")
    with pytest.raises(ConfigError) as caught:
        write_outputs(out, {"a.txt": b"a"})
    assert str(caught.value) == (f"{out}: folder is not empty and was not written by kamrules; choose a new "
                                 "or empty folder with --out, or pass --force to replace everything in it")
    assert (out / "thesis.docx").read_text() == "precious"
    write_outputs(out, {"a.txt": b"a"}, force=True)
    assert listing(out) == {MARKER: writer._MARKER_TEXT, "a.txt": b"a"}


@pytest.mark.parametrize("name", ["../escape.txt", "/etc/passwd", "", "a/../../b"])
def test_refuses_names_outside_out(tmp_path, name):
    with pytest.raises(ConfigError, match="output file names must stay inside the output folder"):
        write_outputs(tmp_path / "out", {name: b"x"})
    assert not (tmp_path / "escape.txt").exists()


def test_failure_midway_keeps_previous_results(tmp_path, monkeypatch):
    out = tmp_path / "results"
    write_outputs(out, {"decisions.csv": b"old", "report.html": b"old"})
    before = listing(out)
    real = writer._write_file
    written = []

    def failing(path, content):
        if len(written) == 2:
            raise OSError(28, "No space left on device")
        written.append(path)
        real(path, content)

    monkeypatch.setattr(writer, "_write_file", failing)
    with pytest.raises(ConfigError) as caught:
        write_outputs(out, {"decisions.csv": b"new", "report.html": b"new", "trace.jsonl": b"new"})
    assert str(caught.value) == f"{out}: cannot write the results (No space left on device); nothing was changed"
    assert listing(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


def test_failure_in_the_swap_puts_previous_results_back(tmp_path, monkeypatch):
    out = tmp_path / "results"
    write_outputs(out, {"decisions.csv": b"old"})
    before = listing(out)
    real_rename = os.rename
    calls = []

    def rename(source, target):
        calls.append(Path(target))
        if Path(target) == out and ".kamrules-new-" in Path(source).name:
            raise OSError(18, "Invalid cross-device link")
        real_rename(source, target)

    monkeypatch.setattr(writer.os, "rename", rename)
    with pytest.raises(ConfigError):
        write_outputs(out, {"decisions.csv": b"new"})
    assert listing(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


KILLED_WRITER = """
import sys, time
from pathlib import Path
import kamrules.data.writer as writer
import kamrules.data.xlsx as xlsx

real = writer._write_file
count = 0

def slow(path, content):
    global count
    real(path, content)
    count += 1
    if count == 3:
        print("half-way", flush=True)
        time.sleep(60)

writer._write_file = slow
writer.write_outputs(Path(sys.argv[1]), {"decisions.csv": b"new" * 100000, "playbooks/A1.md": b"new",
                                         "report.html": b"new", "trace.jsonl": b"new"})
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_killed_run_leaves_previous_results_intact(tmp_path):
    out = tmp_path / "results"
    write_outputs(out, {"decisions.csv": b"old", "report.html": b"old"})
    before = listing(out)
    env = dict(os.environ, PYTHONPATH=str(Path(kamrules.__file__).resolve().parents[1]))
    process = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(out)], stdout=subprocess.PIPE, env=env)
    try:
        assert process.stdout.readline() == b"half-way\n"
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
        process.stdout.close()
    assert process.returncode == -signal.SIGKILL
    assert listing(out) == before  # nothing half-written inside OUT
    leftovers = [p for p in tmp_path.iterdir() if p.name != "results"]
    assert len(leftovers) == 1 and leftovers[0].name.startswith(".results.kamrules-new-")
    # The next run works, and clears a leftover once it is old enough to be surely dead.
    old = time.time() - 2 * writer._STALE_SECONDS
    os.utime(leftovers[0], (old, old))
    write_outputs(out, {"decisions.csv": b"next"})
    assert listing(out) == {MARKER: writer._MARKER_TEXT, "decisions.csv": b"next"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


def test_every_file_is_fsynced_before_the_folder_takes_its_place(tmp_path, monkeypatch):
    out = tmp_path / "results"
    synced: list[str] = []
    real_sync, real_rename = writer._fsync_path, os.rename

    def sync(path):
        synced.append(Path(path).name)
        real_sync(path)

    def rename(source, target):
        if Path(target) == out:  # the staging folder becomes OUT: everything in it is on disk by now
            assert sorted(synced) == sorted(p.name for p in Path(source).rglob("*") if p.is_file())
        real_rename(source, target)

    monkeypatch.setattr(writer, "_fsync_path", sync)
    monkeypatch.setattr(writer.os, "rename", rename)
    files = {f"playbooks/a{i}.md": b"x" for i in range(20)} | {"decisions.csv": iter([b"a", b"b"])}
    write_outputs(out, files)
    assert len(synced) == 22  # 20 playbooks, the decision table, the marker
    assert (out / "decisions.csv").read_bytes() == b"ab"


# --------------------------------------------------------------------------------------------------
# Large files written beside the others in forked processes (--jobs)

needs_fork = pytest.mark.skipif(not __import__("kamrules.processes").processes.can_fork(), reason="needs fork")


def _where_made(label: str):
    """Chunks that say which process produced them."""
    yield label.encode()
    yield str(os.getpid()).encode()


@needs_fork
@pytest.mark.parametrize("jobs", [2, 3, 8])
def test_files_apart_are_made_in_forked_processes_with_the_same_bytes(tmp_path, jobs):
    def files():
        return {"decisions.csv": iter([b"id,tier\n", b"1,key\n"]), "report.html": b"<html>",
                "trace.jsonl": (line for line in [b'{"a": 1}\n'] * 1000), "actions.csv": iter([b"x\n", b"y\n"]),
                "playbooks/A1.md": b"plan"}
    write_outputs(tmp_path / "here", files(), apart=["trace.jsonl", "actions.csv"], jobs=1)
    write_outputs(tmp_path / "apart", files(), apart=["trace.jsonl", "actions.csv"], jobs=jobs)
    assert listing(tmp_path / "apart") == listing(tmp_path / "here")
    write_outputs(tmp_path / "pids", {"here.txt": _where_made("here"), "there.txt": _where_made("there")},
                  apart=["there.txt"], jobs=jobs)
    assert (tmp_path / "pids" / "here.txt").read_bytes() == f"here{os.getpid()}".encode()
    there = (tmp_path / "pids" / "there.txt").read_bytes()
    assert there.startswith(b"there") and there != f"there{os.getpid()}".encode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["apart", "here", "pids"]


def _earlier_results(tmp_path: Path) -> tuple[Path, dict]:
    """An output folder from an earlier run, and what it holds."""
    out = tmp_path / "results"
    write_outputs(out, {"decisions.csv": b"old"})
    return out, listing(out)


@needs_fork
def test_an_error_in_a_forked_writer_is_raised_here_and_nothing_changes(tmp_path):
    out, before = _earlier_results(tmp_path)

    def failing():
        yield b"first part"
        raise ConfigError("cannot write the decision table as Parquet (a text in a number column); use --format csv")

    with pytest.raises(ConfigError, match=r"as Parquet \(a text in a number column\); use --format csv"):
        write_outputs(out, {"decisions.csv": b"new", "trace.jsonl": failing()}, apart=["trace.jsonl"], jobs=2)
    assert listing(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


@needs_fork
def test_a_failure_here_stops_the_forked_writer_at_once(tmp_path):
    out, before = _earlier_results(tmp_path)

    def slow():
        yield b"started"
        time.sleep(120)
        yield b"too late"

    def failing():
        raise OSError(28, "No space left on device")
        yield b""

    started = time.monotonic()
    with pytest.raises(ConfigError, match="No space left on device"):
        write_outputs(out, {"decisions.csv": failing(), "trace.jsonl": slow()}, apart=["trace.jsonl"], jobs=2)
    assert time.monotonic() - started < 60  # the forked writer was stopped, not waited for
    time.sleep(0.2)
    assert listing(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


# --------------------------------------------------------------------------------------------------
# The column-wise CSV writer (Arrow) against Python's csv module, cell for cell


def _reference_csv(frame: pd.DataFrame) -> bytes:
    """The decision table as Python's csv module writes it (the path the Arrow writer replaces)."""
    import io

    buffer = io.StringIO()
    buffer.write("\ufeff")
    times = tables._date_columns(frame)
    tables._write_rows(buffer, [[neutralise(str(name))] for name in frame.columns])
    for chunk in tables._chunks(frame):
        tables._write_rows(buffer, [tables._csv_column(chunk.iloc[:, i], times.get(i)) for i in range(chunk.shape[1])])
    return buffer.getvalue().encode("utf-8")


awkward = st.text(alphabet=st.sampled_from(list("ab 中,;\"'\n\r=+-@\t")), max_size=8)
shared = [["Visit", "Call, then \"write\""], ["=SUM(A1)"], []]


@settings(max_examples=200, deadline=None, database=None)
@given(data=st.lists(st.tuples(st.one_of(st.none(), awkward), st.one_of(st.none(), numbers),
                               st.one_of(st.none(), st.booleans()), st.sampled_from(range(len(shared) + 1)),
                               st.one_of(st.none(), st.integers(-10**6, 10**6))), min_size=1, max_size=30))
def test_arrow_csv_equals_python_csv(data):
    frame = pd.DataFrame({
        "text": pd.Series([d[0] for d in data], dtype=object),
        "sales": pd.Series([d[1] for d in data], dtype="float64"),
        "flag": pd.Series([d[2] for d in data], dtype=object),
        "actions": pd.Series([shared[d[3]] if d[3] < len(shared) else None for d in data], dtype=object),
        "count": pd.Series([d[4] for d in data], dtype="Int64"),
        "when": pd.Series([pd.Timestamp("2026-11-27") if d[4] and d[4] % 2 else pd.NaT for d in data]),
    })
    assert table_bytes(frame, "csv") == _reference_csv(frame)


def test_arrow_csv_quotes_a_row_with_a_carriage_return():
    frame = pd.DataFrame({"a": ["x\ry", "plain"], "b": ["1", "2"]})
    assert table_bytes(frame, "csv") == _reference_csv(frame) == '\ufeffa,b\n"x\ry","1"\nplain,2\n'.encode()


def test_csv_parts_without_a_header_append_to_the_first_parts_bytes():
    """The pieces of a CSV file made apart: the first with its header, the others with `header=False`,
    concatenated, are the bytes of the whole frame."""
    from kamrules.data.tables import csv_parts_chunks

    frame = pd.DataFrame({"id": ["=a", "b,c", 'd"e', None], "sales": [1.5, 2.0, None, 1e21]})
    whole = table_bytes(frame, "csv")
    first = b"".join(csv_parts_chunks(iter([frame.iloc[:2]])))
    rest = b"".join(csv_parts_chunks(iter([frame.iloc[2:]]), header=False))
    assert first + rest == whole
    assert not rest.startswith("\ufeff".encode()) and rest.count(b"\n") == 2


def test_every_parquet_writer_fixes_the_writers_options():
    """Same table, same bytes, whatever pyarrow's defaults: the options are written out, and equal to
    pyarrow's defaults (files written before they were fixed keep their bytes)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from kamrules.data.tables import PARQUET_OPTIONS, arrow_parts_chunks

    table = pa.table({"id": ["a", "b", None], "n": [1.0, None, 3.5]})
    fixed = b"".join(arrow_parts_chunks(iter([table]), table.schema))
    default = io.BytesIO()
    pq.write_table(table, default, compression="zstd")
    assert fixed == default.getvalue() == b"".join(arrow_parts_chunks(iter([table]), table.schema))
    assert PARQUET_OPTIONS["compression"] == "zstd"
    assert b"".join(arrow_parts_chunks(iter([table]), table.schema, {"k": "v"})) != fixed
    assert pq.read_table(io.BytesIO(b"".join(arrow_parts_chunks(iter([]), table.schema)))).num_rows == 0
