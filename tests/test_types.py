"""The package ships its types (`py.typed`), and mypy finds nothing in the packages held to it: the
engine, whose `Evaluation` is what every reader of results types against, the results read from it,
and the condition language."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT

CHECKED = ["kamrules/engine", "kamrules/results", "kamrules/language"]


def test_the_package_says_it_is_typed():
    assert (ROOT / "kamrules" / "py.typed").is_file()
    assert '"kamrules" = ["py.typed"]' in (ROOT / "pyproject.toml").read_text(encoding="utf-8")


def test_mypy_finds_nothing_in_the_checked_packages(tmp_path):
    found = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", str(tmp_path / "cache"),
         *CHECKED],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert found.returncode == 0, found.stdout + found.stderr
    assert found.stdout.startswith("Success: no issues found")
