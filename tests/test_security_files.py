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


# ------------------------------------------------------------------ 12. data on the console is text

MARKUP = ("[/]", "[on red]East[/on red]", "[link=https://evil.example]click[/link]", ":smile:", "[bold")


def _markup_copy(path: Path, target: Path, *, ids: bool = False) -> Path:
    """The example data with rich markup in regions and names (and ids): every console path prints them."""
    import csv

    rows = list(csv.reader(path.open(encoding="utf-8-sig", newline="")))
    header = rows[0]
    region, name, account = header.index("region"), header.index("account_name"), header.index("account_id")
    for number, row in enumerate(rows[1:]):
        markup = MARKUP[number % len(MARKUP)]
        row[name] = f"{markup} {row[name]}"
        if number in (0, 1, 3, 4, 5, 6):  # regions of three accounts, one dominating: the summary names them
            row[region] = MARKUP[0] if number < 4 else MARKUP[1]
        if ids and number < 5:
            row[account] = f"{markup}{row[account]}"
    with target.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return target


def test_evaluate_prints_markup_in_the_data_as_text(tmp_path):
    data = _markup_copy(EXAMPLES / "customers.csv", tmp_path / "markup.csv")
    result = cli("evaluate", data, "--as-of", "2026-11-27", "--out", "out")
    assert result.exit_code == 0, result.output
    assert "[/]" in result.output and "[on red]East[/on red]" in result.output  # the regions, as they are
    assert "\x1b" not in result.output  # no colour, no hyperlink escape


def test_diff_prints_markup_in_the_data_as_text(tmp_path):
    data = _markup_copy(EXAMPLES / "customers.csv", tmp_path / "markup.csv", ids=True)
    result = cli("diff", data, "--set", "pareto_target=0.75", "--as-of", "2026-11-27", "--out", "whatif")
    assert result.exit_code == 0, result.output
    assert "review before demotion (3):" in result.output and "[link=https://evil.example]click[/link]" in result.output
    for name in ("q3", "q4"):
        source = data if name == "q4" else EXAMPLES / "customers.csv"
        assert cli("evaluate", source, "--as-of", "2026-11-27", "--out", name, "-q").exit_code == 0
    result = cli("diff", "q3", "q4", "--out", "q3-q4")
    assert result.exit_code == 0, result.output
    assert "appeared (5): :smile:A00004, [/]A00001, [bold" in result.output
    assert "\x1b" not in result.output and "😄" not in result.output


def test_the_progress_line_shows_a_file_name_as_text(monkeypatch):
    import io
    import sys

    from kamrules import cli as cli_module

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    seen = cli_module._with_progress(lambda progress: progress("reading [/]b[link=https://x.example]c.csv") or "done",
                                     quiet=False)
    assert seen == "done"
