"""docs/library.md is run as written: its Python blocks, in order and in one namespace, on the bundled
example data and the default pack, must print exactly the `text` block under each of them."""

from __future__ import annotations

import contextlib
import io
import re
import shutil

import pandas as pd
import pytest

from conftest import ROOT

import kamrules

DOC = ROOT / "docs" / "library.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```\n", re.DOTALL | re.MULTILINE)


def examples() -> list[tuple[str, str]]:
    """(code, printed output) for each Python block of the page; output '' when no text block follows."""
    blocks = [(m.group(1), m.group(2)) for m in BLOCK.finditer(DOC.read_text(encoding="utf-8"))]
    pairs = []
    for i, (kind, body) in enumerate(blocks):
        if kind == "python":
            following = blocks[i + 1] if i + 1 < len(blocks) else ("", "")
            pairs.append((body, following[1] if following[0] == "text" else ""))
    return pairs


@pytest.fixture(scope="module")
def ran(tmp_path_factory) -> tuple[dict, list[tuple[str, str, str]]]:
    """The namespace after running every example, and (code, expected, printed) per block."""
    folder = tmp_path_factory.mktemp("library")
    shutil.copytree(ROOT / "rules", folder / "rules")
    shutil.copy(ROOT / "examples" / "customers.csv", folder / "customers.csv")
    namespace: dict = {"__name__": "library_example"}
    results = []
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        for code, expected in examples():
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed):
                exec(compile(code, str(DOC), "exec"), namespace)
            results.append((code, expected, printed.getvalue()))
    namespace["folder"] = folder
    return namespace, results


def test_the_page_has_examples_with_their_output():
    pairs = examples()
    assert len(pairs) >= 3
    assert all(expected for _, expected in pairs)


def test_every_example_prints_what_the_page_shows(ran):
    _, results = ran
    for code, expected, printed in results:
        assert printed == expected, code


def test_the_example_evaluates_every_row_of_the_example_data(ran):
    namespace, _ = ran
    rows = pd.read_csv(ROOT / "examples" / "customers.csv", dtype=str)
    evaluation, portfolio = namespace["evaluation"], namespace["portfolio"]
    assert [a.account_id for a in evaluation.accounts] == list(rows.iloc[:, 0])
    assert portfolio.accounts == len(rows)
    # Markdown and HTML for each key account: the documents follow the decisions.
    key = sum(1 for a in evaluation.accounts if a.decisions["tier"].outputs["tier"] == "key")
    assert key == portfolio.key_accounts
    assert len(namespace["playbooks"]) == 2 * key


def test_the_example_writes_its_files_where_it_ran(ran):
    namespace, _ = ran
    folder = namespace["folder"]
    assert (folder / "report.html").read_bytes().startswith(b"<!DOCTYPE html>")
    decisions = pd.read_csv(folder / "review" / "decisions.csv", dtype=str, encoding="utf-8-sig")
    first = namespace["evaluation"].accounts[0]
    assert decisions.loc[0, "account_id"] == first.account_id
    assert decisions.loc[0, "tier"] == first.decisions["tier"].outputs["tier"]


def test_every_public_name_in_the_table_is_exported():
    text = DOC.read_text(encoding="utf-8")
    for name in kamrules.__all__:
        if name != "__version__":
            assert f"`{name}" in text, f"{name} is public but docs/library.md does not describe it"
