"""Input formats and the condition language's functions are registries of objects: a new format or a
new function is one entry, and the reader, the parser, the type checker and both semantics ask it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from kamrules.cli import app
from kamrules.data import formats, options
from kamrules.data.formats import INPUT_FORMATS, InputFormat, register_format
from kamrules.data.options import _Raw
from kamrules.engine.evaluate import evaluate
from kamrules.language import expr as ex
from kamrules.language import nodes, parser, rowsem, types, vecsem
from kamrules.pack import load_pack

from conftest import ROOT, write_pack

BASIC = ROOT / "tests" / "projects" / "basic"
AS_OF = dt.date(2026, 11, 27)


def test_the_old_parallel_tuples_are_gone():
    """One registry each: no list of format names, extensions or readers beside it, no tuple of function
    names beside the function objects."""
    for module, name in ((options, "FORMATS"), (options, "_EXTENSIONS"), (formats, "_READERS"),
                         (nodes, "FUNCTIONS"), (parser, "FUNCTIONS_NAMES")):
        assert not hasattr(module, name), f"{module.__name__}.{name}"
    assert all(isinstance(fmt, InputFormat) for fmt in INPUT_FORMATS.values())
    assert list(INPUT_FORMATS) == ["csv", "tsv", "xlsx", "parquet", "json", "jsonl"]
    assert all(isinstance(function, ex.Function) for function in ex.FUNCTIONS.values())
    assert list(ex.FUNCTIONS) == ["abs", "min", "max", "floor", "coalesce"]
    # the parser, the type checker and both semantics hold no function's name of their own
    for module in (parser, types, rowsem, vecsem):
        source = Path(module.__file__).read_text(encoding="utf-8")
        for name in ex.FUNCTIONS:
            assert f'"{name}"' not in source, f"{module.__name__} names {name}"


def _read_psv(path: Path, name: str, head: bytes, read: options.ReadOptions) -> _Raw:
    """A toy format: values separated by a broken bar (¦), UTF-8, the header on line 1."""
    lines = [line.split("¦") for line in path.read_text(encoding="utf-8").splitlines() if line]
    headers, rows = lines[0], lines[1:]
    columns = [pa.array([row[i] for row in rows], type=pa.string()) for i in range(len(headers))]
    return _Raw(headers=headers, columns=columns, row_numbers=np.arange(2, len(rows) + 2), encoding="utf-8")


@pytest.fixture
def psv(monkeypatch):
    monkeypatch.setattr(formats, "INPUT_FORMATS", dict(formats.INPUT_FORMATS))  # undone after the test
    return register_format(InputFormat("psv", (".psv",), _read_psv))


def test_a_new_input_format_is_one_entry(psv, tmp_path):
    rows = list(csv.reader(io.StringIO((BASIC / "customers.csv").read_text(encoding="utf-8"))))
    (tmp_path / "customers.psv").write_text("".join("¦".join(row) + "\n" for row in rows), encoding="utf-8")
    runner = CliRunner()
    common = ["--rules", str(BASIC / "rules"), "--as-of", "2026-11-27", "-q", "--playbooks", "none"]
    by_extension = runner.invoke(app, ["evaluate", "customers.psv", "--out", "from-psv", *common])
    assert by_extension.exit_code == 0, by_extension.output
    from_csv = runner.invoke(app, ["evaluate", str(BASIC / "customers.csv"), "--out", "from-csv", *common])
    assert from_csv.exit_code == 0, from_csv.output
    assert (tmp_path / "from-psv" / "decisions.csv").read_bytes() == (tmp_path / "from-csv" / "decisions.csv").read_bytes()
    (tmp_path / "customers.txt").write_bytes((tmp_path / "customers.psv").read_bytes())
    named = runner.invoke(app, ["evaluate", "customers.txt", "--input-format", "psv", "--out", "named", *common])
    assert named.exit_code == 0, named.output
    unknown = runner.invoke(app, ["evaluate", "customers.txt", "--input-format", "pipes", "--out", "x", *common])
    assert unknown.exit_code == 2
    assert unknown.output.endswith(
        "error: unknown input format 'pipes'; use one of: csv, tsv, xlsx, parquet, json, jsonl, psv\n")
    with pytest.raises(ValueError, match=r"taken: pipes \('.psv',\)"):
        register_format(InputFormat("pipes", (".psv",), _read_psv))
    with pytest.raises(ValueError, match="content: zip"):
        register_format(InputFormat("zipped", (".zz",), _read_psv, content="zip"))


FIELDS = """\
fields:
  account_id: {type: string, required: true}
  sales: {type: number, required: true}
  nps: {type: number}
"""


def _clamp(values: list) -> float:
    value, low, high = values
    return min(max(value, low), high)


def test_a_new_language_function_is_one_object(tmp_path):
    clamp = ex.register_function(ex.Function(
        "clamp", 3, 3, _clamp, lambda c: c[0].clip(lower=c[1], upper=c[2]).where(c[1].notna() & c[2].notna())))
    try:
        pack = load_pack(write_pack(tmp_path / "rules", {"00.yaml": FIELDS, "10.yaml": textwrap.dedent("""\
            decisions:
              level:
                hit: first
                outputs: {level: {type: category, values: [high, low]}}
                rules:
                  - {id: high, when: "clamp(sales, 0, 100) + coalesce(nps, 0) >= 100", then: {level: high}}
                default: {level: low}
            """)}))
        frame = pd.DataFrame({"account_id": ["a", "b", "c", "d"], "sales": [500.0, 90.0, 99.5, None],
                              "nps": [0.0, 10.0, None, 9.0]})
        evaluation = evaluate(pack, frame, as_of=AS_OF)
        assert [a.decisions["level"].outputs["level"] for a in evaluation.accounts] == ["high", "high", "low", "low"]
        node = ex.Resolver({"sales": ex.Symbol("sales", ex.NUMBER, "field")}, {}).value(ex.parse("clamp(sales, 0, 100)"))[0]
        rows = [ex.eval_value(node, {"sales": s}) for s in (500.0, -3.0, 42.0, None)]
        column = ex.eval_vector(node, pd.DataFrame({"sales": [500.0, -3.0, 42.0, None]}))
        assert rows == [100.0, 0.0, 42.0, None]
        assert column.iloc[:3].tolist() == rows[:3] and pd.isna(column.iloc[3])
        with pytest.raises(ex.ExprError, match=r"clamp\(\) takes three values"):
            ex.parse("clamp(sales, 1) > 0")
        assert clamp.arity_words() == "three values"
    finally:
        ex.FUNCTIONS.pop("clamp", None)
    with pytest.raises(ex.ExprError, match="the functions are abs, min, max, floor, coalesce and date"):
        ex.parse("clamp(sales, 0, 1) > 0")
