"""`kamrules evaluate DATASET --engine dask` (kamrules/scale/dask_engine.py): the decisions of a portfolio
in Parquet parts, decided on a Dask LocalCluster, are the one-process run's on the same accounts."""

from __future__ import annotations

import datetime as dt
import io
import json
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

from kamrules.cli import app
from kamrules.engine.evaluate import evaluate
from kamrules.pack import load_pack
from kamrules.data.tables import parquet_parts_chunks
from kamrules.results.outputs import decision_frame, decision_kinds

from conftest import ROOT
from test_chunks import messy_portfolio

runner = CliRunner()
PACK = load_pack(ROOT / "rules")
AS_OF = dt.date(2026, 11, 27)

try:
    import dask.dataframe  # noqa: F401
    import distributed  # noqa: F401
    HAVE_DASK = True
except ImportError:  # (`pip install ".[test]"` installs it: the test extra includes kamrules[dask])
    HAVE_DASK = False

needs_dask = pytest.mark.skipif(not HAVE_DASK, reason='Dask is not installed: pip install "kamrules[dask]"')


def _dataset(folder, sizes=(23, 40, 17)):
    frame = messy_portfolio(sum(sizes))
    folder.mkdir()
    start = 0
    for number, size in enumerate(sizes):
        frame.iloc[start:start + size].to_parquet(folder / f"part-{number}.parquet", index=False)
        start += size
    return folder


@needs_dask
def test_decisions_on_a_local_cluster_are_the_one_process_decisions(tmp_path):
    from kamrules.scale.dask_engine import DaskOptions, evaluate_dask

    data = _dataset(tmp_path / "parts")
    result = evaluate_dask(DaskOptions(data=str(data), rules=ROOT / "rules", out=tmp_path / "out", as_of=AS_OF,
                                       workers=2, processes=False))
    assert (result.accounts, result.parts) == (80, 3)
    parts = sorted((tmp_path / "out" / "decisions").glob("part-*.parquet"))
    assert [p.name for p in parts] == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    on_dask = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)

    whole = pd.concat([pd.read_parquet(p) for p in sorted(data.glob("*.parquet"))], ignore_index=True)
    evaluation = evaluate(PACK, whole, as_of=AS_OF)
    table, _ = decision_frame(evaluation)
    written = b"".join(parquet_parts_chunks(iter([table]), decision_kinds(evaluation)))  # as the one process writes it
    one_process = pd.read_parquet(io.BytesIO(written))
    pd.testing.assert_frame_equal(on_dask, one_process)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["engine"] == "dask" and manifest["accounts"] == 80
    assert manifest["inputs"] == ["part-0.parquet", "part-1.parquet", "part-2.parquet"]


def test_without_dask_the_engine_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # an import of it fails, as when it is not installed
    result = runner.invoke(app, ["evaluate", str(tmp_path), "--engine", "dask", "--out", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 2
    assert result.output.strip() == 'error: --engine dask needs Dask: pip install "kamrules[dask]" (dask[dataframe] and distributed)'


def test_an_unknown_engine_and_a_scheduler_without_dask_are_refused(tmp_path):
    result = runner.invoke(app, ["evaluate", str(tmp_path), "--engine", "spark", "-q"])
    assert result.exit_code == 2
    assert result.output.strip() == "error: --engine 'spark' is not one of: process, dask"
    result = runner.invoke(app, ["evaluate", str(tmp_path), "--scheduler", "tcp://10.0.0.1:8786", "-q"])
    assert result.exit_code == 2
    assert result.output.strip() == "error: --scheduler is the address of a Dask scheduler: give it with --engine dask"


@needs_dask
def test_a_dataset_without_parquet_parts_is_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    result = runner.invoke(app, ["evaluate", str(tmp_path / "empty"), "--engine", "dask", "--out",
                                 str(tmp_path / "out"), "-q"])
    assert result.exit_code == 1
    assert result.output.strip() == (f"error: {tmp_path / 'empty'}: no Parquet parts found; give a folder of .parquet "
                                     "files or a glob such as 'parts/*.parquet'")


@needs_dask
def test_a_missing_required_field_and_a_number_written_as_text_are_refused_in_the_run_language(tmp_path):
    (tmp_path / "parts").mkdir()
    pd.DataFrame({"account_id": ["a", "b"], "amount": [1.0, 2.0]}).to_parquet(tmp_path / "parts" / "p.parquet")
    result = runner.invoke(app, ["evaluate", str(tmp_path / "parts"), "--engine", "dask", "--out",
                                 str(tmp_path / "out"), "-q", "--lang", "zh"])
    assert result.exit_code == 1
    assert result.output.strip() == (f"错误：{tmp_path / 'parts'}：Parquet 分片缺少必填字段 「本期销售额」(sales)；"
                                     "--engine dask 按规则包的字段名读取列：请重命名这些列，或用单进程运行（它会匹配列名）")
    pd.DataFrame({"account_id": ["a", "b"], "sales": ["100", "200"]}).to_parquet(tmp_path / "parts" / "p.parquet")
    result = runner.invoke(app, ["evaluate", str(tmp_path / "parts"), "--engine", "dask", "--out",
                                 str(tmp_path / "out"), "-q"])
    assert result.exit_code == 1
    assert result.output.strip() == (f"error: {tmp_path / 'parts'}: column sales is string in the Parquet parts, but the "
                                     "pack's field is a number; write it as number values (or run one process, "
                                     "which converts text)")
    assert not (tmp_path / "out").exists()
