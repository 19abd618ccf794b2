"""A portfolio evaluated in chunks (engine/chunks.py, `--chunk-size`): the portfolio-wide figures first,
then the accounts a chunk at a time — the same evaluation and byte for byte the same files as one pass."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from kamrules.cli import app
from kamrules.engine.chunks import chunk_bounds
from kamrules.engine.evaluate import evaluate
from kamrules.engine.portfolio_wide import first_pass_fields, first_pass_items, figure_names, is_portfolio_wide
from kamrules.pack import ScoreSpec, load_pack

from conftest import ROOT

runner = CliRunner()
PACK = load_pack(ROOT / "rules")
AS_OF = dt.date(2026, 11, 27)
EXAMPLE = ROOT / "examples" / "customers.csv"


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def messy_portfolio(n: int = 60, seed: int = 3, sales_missing: float = 0.1) -> pd.DataFrame:
    """Accounts with equal sales (ties on the Pareto curve and in ranks), missing values in every
    kind of column, and a few regions and customer groups (group sums, shares, ranks within)."""
    rng = np.random.default_rng(seed)
    sales = rng.choice([0.0, 500.0, 1_000.0, 1_000.0, 25_000.0, 250_000.0, 1_200_000.0], n)
    frame = pd.DataFrame({
        "account_id": [f"A{i:03d}" for i in rng.permutation(n)],
        "account_name": [f"Account {i}" for i in range(n)],
        "region": pd.Series(rng.choice(["East", "West", "North", None], n), dtype=object),
        "customer_type": pd.Series(rng.choice(["enterprise", "government", "retailer", None], n), dtype=object),
        "customer_group": pd.Series(rng.choice(["G1", "G2", None, None], n), dtype=object),
        "sales": pd.Series(sales).where(rng.random(n) >= sales_missing),
        "sales_prev": pd.Series(sales * rng.choice([0.5, 1.0, 1.3], n)).where(rng.random(n) > 0.2),
        "gross_profit": pd.Series(sales * 0.2).where(rng.random(n) > 0.2),
        "nps": pd.Series(rng.choice([0.0, 3.0, 7.0, 10.0], n)).where(rng.random(n) > 0.3),
        "open_complaints": pd.Series(rng.choice([0.0, 1.0, 3.0], n)).where(rng.random(n) > 0.3),
        "strategic_project": pd.Series(rng.random(n) < 0.2).astype("boolean").where(rng.random(n) > 0.3, pd.NA),
        "last_contact": pd.Series(pd.to_datetime("2026-06-01") + pd.to_timedelta(rng.integers(0, 300, n), "D"))
        .where(rng.random(n) > 0.2),
    })
    return frame


# ------------------------------------------------------------------------------- the split


def test_the_split_puts_every_function_that_reads_the_whole_portfolio_in_pass_1():
    wide = [item for item in PACK.derived if is_portfolio_wide(item)]
    assert {item.function for item in wide if not isinstance(item, ScoreSpec)} <= {
        "cumulative_share", "share_of", "hhi", "rank", "percentile", "sum", "mean", "max", "min", "count"}
    assert any(isinstance(item, ScoreSpec) for item in wide)  # scores are normalised over the portfolio
    local = [item for item in PACK.derived if not is_portfolio_wide(item)]
    assert {item.function for item in local} <= {"expr", "days_since", "days_until", "band", "criteria_of"}
    assert figure_names(PACK) == [item.name for item in wide]


def test_pass_1_computes_what_the_figures_read_and_reads_only_their_fields():
    items = first_pass_items(PACK)
    names = {item.name for item in items}
    for item in items:  # every derived value a pass-1 item reads is computed in pass 1 before it
        read = set(item.reads) | ({item.within} if getattr(item, "within", None) else set())
        derived_read = {n for n in read if n in {d.name for d in PACK.derived}}
        assert derived_read <= names
    fields = first_pass_fields(PACK)
    assert "account_id" in fields and "sales" in fields
    assert "account_name" not in fields  # no figure reads the name: pass 1 leaves it out


def test_chunk_bounds_cover_every_account_once_in_order():
    assert chunk_bounds(15, 7) == [(0, 7), (7, 14), (14, 15)]
    assert chunk_bounds(0, 7) == []
    with pytest.raises(ValueError):
        chunk_bounds(5, 0)


# ------------------------------------------------------------------- the same evaluation


@pytest.mark.parametrize("chunk_size", [5, 7, 59])
def test_a_chunked_evaluation_is_the_whole_portfolio_evaluation(chunk_size):
    frame = messy_portfolio()
    whole = evaluate(PACK, frame.copy(), as_of=AS_OF)
    chunked = evaluate(PACK, frame.copy(), as_of=AS_OF, chunk_size=chunk_size)
    pd.testing.assert_frame_equal(chunked.table, whole.table)
    assert list(chunked.rows) == list(whole.rows)
    for decision in PACK.decisions:
        ours, theirs = chunked.outcomes(decision.id), whole.outcomes(decision.id)
        assert ours.codes().tolist() == theirs.codes().tolist(), decision.id
        assert [(o.outputs, o.indexes) for o in ours.distinct] == [(o.outputs, o.indexes) for o in theirs.distinct]
    because = [[h.because for h in a.decisions["tier"].hits] for a in whole.accounts]
    assert [[h.because for h in a.decisions["tier"].hits] for a in chunked.accounts] == because


def test_an_overflow_in_a_chunked_run_is_counted_over_every_chunk():
    import dataclasses

    from kamrules.language import expr as ex
    from kamrules.pack import FeatureSpec

    huge = FeatureSpec(name="huge_sales", function="expr", arg=ex.parse("sales * 1e308 * 10"), reads=frozenset({"sales"}))
    pack = dataclasses.replace(PACK, derived=[*PACK.derived, huge])
    frame = messy_portfolio()
    whole = evaluate(pack, frame.copy(), as_of=AS_OF)
    chunked = evaluate(pack, frame.copy(), as_of=AS_OF, chunk_size=7)
    assert [w for w in whole.warnings if "huge_sales" in w]  # (sales of 0 stay 0; the others overflow)
    assert chunked.warnings == whole.warnings


# ------------------------------------------------------------------------- the same files


def _files(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _same_files(whole: Path, chunked: Path) -> None:
    ours, theirs = _files(chunked), _files(whole)
    assert sorted(ours) == sorted(theirs)
    different = [name for name in theirs if ours[name] != theirs[name]]
    assert different == []


@pytest.mark.parametrize("lang,fmt", [("en", "csv"), ("zh", "parquet"), ("en", "parquet"), ("zh", "csv")])
def test_the_bundled_example_in_chunks_of_7_writes_the_same_files(tmp_path, lang, fmt):
    for name, size in (("whole", []), ("chunked", ["--chunk-size", "7"])):
        result = invoke("evaluate", EXAMPLE, "--out", tmp_path / name, "--as-of", "2026-11-27", "--lang", lang,
                        "--format", fmt, *size, "-q")
        assert result.exit_code == 0, result.output
    _same_files(tmp_path / "whole", tmp_path / "chunked")


def test_a_portfolio_with_ties_missing_values_and_groups_writes_the_same_files(tmp_path):
    data = tmp_path / "messy.csv"
    messy_portfolio(90, sales_missing=0).to_csv(data, index=False)  # (sales is required in a file)
    for name, size in (("whole", []), ("chunked", ["--chunk-size", "7"])):
        result = invoke("evaluate", data, "--out", tmp_path / name, "--as-of", "2026-11-27", "--playbooks", "all",
                        *size, "-q")
        assert result.exit_code == 0, result.output
    _same_files(tmp_path / "whole", tmp_path / "chunked")


def test_a_chunk_size_below_one_is_refused(tmp_path):
    result = invoke("evaluate", EXAMPLE, "--out", tmp_path / "out", "--chunk-size", "0", "-q")
    assert result.exit_code == 2
    assert result.output.strip() == ("error: --chunk-size 0: give the number of accounts decided at a time, "
                                     "1 or more (e.g. 250,000; without it, the whole portfolio at once)")
    assert not (tmp_path / "out").exists()
