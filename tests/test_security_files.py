"""Issue #29, files a pack or a run folder can point at, and what reaches the console (items 6, 7, 12,
14, 15, 17, 21): one regression test per finding. Run folders (items 8, 9, 18) are in
tests/test_run_folders.py."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from kamrules.cli import app

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
runner = CliRunner()


def cli(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


# ------------------------------------------------------------------ 7. diff --out holding an input


def test_diff_out_never_holds_the_columns_file(tmp_path):
    folder = tmp_path / "whatif"
    folder.mkdir()
    mapping = folder / "cols.yaml"
    mapping.write_text("sales: sales\n", encoding="utf-8")
    result = cli("diff", EXAMPLES / "customers.csv", "--set", "pareto_target=0.75", "--columns", mapping,
                 "--out", folder, "--force", "-q")
    assert result.exit_code == 1
    assert result.output == (f"error: {folder}: the output folder contains the input {mapping}; "
                             "choose another --out so the input is not replaced\n")
    assert mapping.read_text(encoding="utf-8") == "sales: sales\n"


def test_diff_of_two_runs_never_replaces_the_pack_that_lends_its_labels(tmp_path, monkeypatch):
    import shutil

    for name in ("a", "b"):
        assert cli("evaluate", EXAMPLES / "customers.csv", "--as-of", "2026-11-27", "--out", tmp_path / name,
                   "-q").exit_code == 0
    shutil.copytree(ROOT / "rules", tmp_path / "team" / "rules")  # ./rules lends the labels of two runs
    monkeypatch.chdir(tmp_path / "team")
    result = cli("diff", tmp_path / "a", tmp_path / "b", "--out", ".", "--force", "-q")
    assert result.exit_code == 1
    assert result.output == ("error: .: the output folder contains the input rules; choose another --out so "
                             "the input is not replaced\n")
    assert (tmp_path / "team" / "rules" / "00-pack.yaml").is_file()
