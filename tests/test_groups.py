"""Account groups read from a file: each account's group is its topmost parent; an account that is its
own parent, or parents that go round in a circle, stop the run with the rows to correct."""

from __future__ import annotations

import csv
from pathlib import Path

from typer.testing import CliRunner

from kamrules.cli import app
from kamrules.data.reader import ReadOptions, read_table
from kamrules.pack import load_pack

from conftest import ROOT

runner = CliRunner()
PACK = load_pack(ROOT / "rules")


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["Customer ID", "Customer Name", "Parent Account ID", "Sales"], *rows])
    return path


def test_a_chain_of_parents_groups_under_the_topmost(tmp_path):
    data = _write(tmp_path / "groups.csv", [
        ["A", "Plant A", "B", "100"], ["B", "Division B", "C", "200"], ["C", "Holding C", "", "300"],
        ["D", "Branch D", "Head office", "50"], ["E", "Independent", "", "80"]])
    read = read_table(data, list(PACK.fields.values()), ReadOptions())
    assert read.column_map["parent_id"] == "Parent Account ID"
    assert read.frame["customer_group"].tolist() == ["C", "C", "C", "Head office", "E"]


def test_an_ultimate_parent_column_is_used_as_it_is(tmp_path):
    data = tmp_path / "sf.csv"
    data.write_text("Account ID,Account Name,Parent Account ID,Ultimate Parent,Sales\n"
                    "1,A,2,Acme Group,100\n2,B,,Acme Group,200\n3,C,,,50\n", encoding="utf-8")
    read = read_table(data, list(PACK.fields.values()), ReadOptions())
    assert read.frame["customer_group"].tolist()[:2] == ["Acme Group", "Acme Group"]


def test_own_parent_and_circles_are_refused_with_their_rows(tmp_path):
    data = _write(tmp_path / "bad.csv", [
        ["A", "Plant A", "A", "100"], ["B", "B", "C", "200"], ["C", "C", "D", "300"], ["D", "D", "B", "10"],
        ["E", "E", "", "80"]])
    result = runner.invoke(app, ["evaluate", str(data), "--as-of", "2026-11-27", "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert result.stderr == (
        f"error:\n{data}: column 'Parent Account ID' (field parent_id): 2 account group(s) cannot be known — an "
        "account's parent must be another account or a group name, and following the parents must end at an "
        "account without one; correct the parent IDs below\n"
        "  'A' is its own parent (row 2)\n"
        "  the parents go round in a circle: B → C → D → B (rows 3, 4 and 5)\n")
    assert not (tmp_path / "out").exists()
    zh = runner.invoke(app, ["evaluate", str(data), "--as-of", "2026-11-27", "--out", str(tmp_path / "out"),
                             "--lang", "zh"])
    assert zh.exit_code == 1 and "上级客户构成循环：B → C → D → B" in zh.stderr and "“A”的上级客户是其自身" in zh.stderr


def test_groups_in_a_run_are_named_in_the_plan(tmp_path):
    rows = [[f"a{i:02d}", f"Customer {i}", "", str(100_000 - 3_000 * i)] for i in range(30)]
    rows += [[f"g{i}", f"Subsidiary {i}", "GROUP-1", "13500"] for i in range(5)]
    data = _write(tmp_path / "book.csv", rows)
    out = tmp_path / "out"
    result = runner.invoke(app, ["evaluate", str(data), "--as-of", "2026-11-27", "--out", str(out),
                                 "--set", "key_max_account_share=0.8", "-q"])
    assert result.exit_code == 0, result.output
    with (out / "decisions.csv").open(encoding="utf-8-sig") as handle:
        tiers = {row["account_id"]: row["tier"] for row in csv.DictReader(handle)}
    assert {tiers[f"g{i}"] for i in range(5)} == {"key"}
    with (out / "actions.csv").open(encoding="utf-8-sig") as handle:
        plans = [row for row in csv.DictReader(handle) if row["action"] == "group_plan"]
    assert sorted(row["account_id"] for row in plans) == [f"g{i}" for i in range(5)]
