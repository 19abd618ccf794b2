"""`--format parquet` writes every table as Parquet (decisions, actions, trace), and everything that reads a
run folder back reads those forms: `explain --run`, `diff OUT_A OUT_B`, `--previous OUT`, the register
and `kamrules history`. Each is checked through the CLI against the same run written as CSV."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from kamrules.cli import app
from kamrules.results.outputs import read_trace, read_trace_table
from kamrules.pack import load_pack

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
runner = CliRunner()


def cli(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def evaluate(data: Path, out: Path, fmt: str, *extra) -> None:
    result = cli("evaluate", data, "--as-of", "2026-11-27", "--out", out, "--format", fmt, "--playbooks", "none", "-q",
                 *extra)
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """The example as CSV and as Parquet, Q3 and Q4, made once for the module."""
    folder = tmp_path_factory.mktemp("parquet-runs")
    for fmt in ("csv", "parquet"):
        evaluate(EXAMPLES / "customers.csv", folder / f"q4-{fmt}", fmt)
        result = cli("evaluate", EXAMPLES / "customers-q3.csv", "--as-of", "2026-08-28", "--out", folder / f"q3-{fmt}",
                     "--format", fmt, "--playbooks", "none", "-q")
        assert result.exit_code == 0, result.output
    return folder


def csv_table(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def as_csv_texts(path: Path) -> pd.DataFrame:
    """A Parquet table's cells as actions.csv writes them (numbers without '.0', dates ISO, missing empty)."""
    frame = pq.read_table(path).to_pandas()
    texts = {}
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_float_dtype(column):
            texts[name] = [("" if v != v else (str(int(v)) if float(v).is_integer() else repr(v))) for v in column]
        else:
            texts[name] = ["" if v is None or v != v else str(v) for v in column]
    return pd.DataFrame(texts)


def test_a_parquet_run_writes_every_table_as_parquet_and_no_csv_or_jsonl_table(runs):
    files = sorted(p.name for p in (runs / "q4-parquet").iterdir() if p.is_file() and not p.name.startswith("."))
    assert files == ["actions.parquet", "decisions.parquet", "lookalikes.csv", "manifest.json", "objectives.csv",
                     "profile.csv", "report.html", "trace.parquet"]
    manifest = json.loads((runs / "q4-parquet" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["outputs"] == files
    assert "trace.jsonl" in manifest_outputs(runs / "q4-csv") and "actions.csv" in manifest_outputs(runs / "q4-csv")


def manifest_outputs(folder: Path) -> list[str]:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["outputs"]


def test_trace_parquet_reads_back_as_the_records_of_trace_jsonl(runs):
    with open(runs / "q4-csv" / "trace.jsonl", encoding="utf-8") as handle:
        from_jsonl = list(read_trace(handle))
    from_parquet = list(read_trace_table(runs / "q4-parquet" / "trace.parquet"))
    assert len(from_parquet) == 300 * len(load_pack(ROOT / "rules").decisions) and from_parquet == from_jsonl
    table = pq.read_table(runs / "q4-parquet" / "trace.parquet")
    described = json.loads(table.schema.metadata[b"kamrules.trace"])
    assert described["format"] == "kamrules-trace-parquet-1" and described["decisions"][1] == "tier"
    assert table.column_names[:3] == ["account_id", "row", "situation.abc"]
    assert table.schema.field("situation.tier").type == pa.int32()
    assert table.schema.field("value.nps").type == pa.float64()
    assert table.column("row").to_pylist()[:3] == [2, 3, 4]


def test_a_trace_parquet_without_its_description_is_refused(tmp_path):
    pq.write_table(pa.table({"account_id": ["a"]}), tmp_path / "t.parquet")
    with pytest.raises(ValueError, match="not a kamrules trace"):
        list(read_trace_table(tmp_path / "t.parquet"))


def test_actions_parquet_holds_the_rows_of_actions_csv_typed(runs):
    texts = csv_table(runs / "q4-csv" / "actions.csv")
    table = pq.read_table(runs / "q4-parquet" / "actions.parquet")
    assert table.column_names == list(texts.columns)
    assert table.schema.field("action_due_date").type == pa.date32()
    assert table.schema.field("money_at_stake").type == pa.float64()
    assert as_csv_texts(runs / "q4-parquet" / "actions.parquet").equals(texts)


def test_parquet_outputs_are_the_same_bytes_run_after_run(runs, tmp_path):
    evaluate(EXAMPLES / "customers.csv", tmp_path / "again", "parquet", "--jobs", "1")
    for name in ("decisions.parquet", "actions.parquet", "trace.parquet"):
        assert (tmp_path / "again" / name).read_bytes() == (runs / "q4-parquet" / name).read_bytes(), name


def test_explain_run_reads_a_parquet_run(runs, tmp_path):
    answers = []
    for fmt in ("csv", "parquet"):
        result = cli("explain", EXAMPLES / "customers.csv", "A00175", "--run", runs / f"q4-{fmt}")
        assert result.exit_code == 0, result.output
        answers.append(result.output)
    assert answers[0] == answers[1] and answers[0].startswith("宜昌汇丰源电子科技有限公司 (A00175)")


def test_diff_of_two_parquet_runs_is_the_diff_of_the_csv_runs(runs, tmp_path):
    for fmt in ("csv", "parquet"):
        result = cli("diff", runs / f"q3-{fmt}", runs / f"q4-{fmt}", "--out", tmp_path / f"diff-{fmt}", "-q")
        assert result.exit_code == 0, result.output
    assert csv_table(tmp_path / "diff-parquet" / "diff.csv").equals(csv_table(tmp_path / "diff-csv" / "diff.csv"))
    assert len(csv_table(tmp_path / "diff-csv" / "diff.csv")) > 10


def test_previous_of_a_parquet_run_gives_the_task_statuses_of_the_csv_run(runs, tmp_path):
    for fmt in ("csv", "parquet"):
        evaluate(EXAMPLES / "customers.csv", tmp_path / f"now-{fmt}", fmt, "--previous", runs / f"q3-{fmt}")
    texts = csv_table(tmp_path / "now-csv" / "actions.csv")
    assert set(texts["task_status"]) == {"new", "open", "resolved"}
    assert as_csv_texts(tmp_path / "now-parquet" / "actions.parquet").equals(texts)
    flags = pq.read_table(tmp_path / "now-parquet" / "decisions.parquet").column("review_before_demotion").to_pylist()
    assert [str(f).lower() for f in flags] == csv_table(tmp_path / "now-csv" / "decisions.csv")["review_before_demotion"].tolist()


def test_the_register_records_a_parquet_run_as_it_records_a_csv_run(tmp_path):
    shown = []
    for fmt in ("csv", "parquet"):
        register = tmp_path / f"{fmt}.db"
        for data, day in (("customers-q3.csv", "2026-08-28"), ("customers.csv", "2026-11-27")):
            result = cli("evaluate", EXAMPLES / data, "--as-of", day, "--out", tmp_path / f"out-{fmt}",
                         "--format", fmt, "--playbooks", "none", "-q", "--register", register, "--force")
            assert result.exit_code == 0, result.output
        history = cli("history", "--register", register, "--format", "csv")
        timeline = cli("history", "A00175", "--register", register)
        assert history.exit_code == 0 and timeline.exit_code == 0, history.output + timeline.output
        shown.append((history.output, timeline.output.replace(str(register), "REGISTER")))
    assert shown[0] == shown[1] and "A00175" in shown[0][1]


def test_a_run_folder_copied_without_its_csv_tables_still_reads(runs, tmp_path):
    """A Parquet run needs no CSV table: `--previous` and `diff` read decisions.parquet alone."""
    copy = tmp_path / "copy"
    shutil.copytree(runs / "q3-parquet", copy)
    assert not list(copy.glob("decisions.csv")) and not list(copy.glob("actions.csv"))
    result = cli("diff", copy, runs / "q4-parquet", "--out", tmp_path / "compared", "-q")
    assert result.exit_code == 0, result.output
