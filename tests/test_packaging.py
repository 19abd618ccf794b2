"""`pip install .` (not only an editable install) must carry the default pack, playbooks and data,
and find them from any folder."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(folder)],
                   check=True, capture_output=True, timeout=600)
    return next(folder.glob("kamrules-*.whl"))


def test_wheel_ships_default_rules_playbooks_and_example_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for rule_file in sorted((ROOT / "rules").glob("*.yaml")):
        assert f"kamrules/defaults/rules/{rule_file.name}" in names
    for template in sorted((ROOT / "playbooks").rglob("*.j2")):
        assert f"kamrules/defaults/playbooks/{template.relative_to(ROOT / 'playbooks').as_posix()}" in names
    assert "kamrules/defaults/examples/customers.csv" in names
    assert "kamrules/documents/fonts/wqy-microhei.ttf" in names  # evaluate --pdf sets Chinese with it
    assert any(n.endswith("entry_points.txt") for n in names)


def test_installed_layout_runs_the_bare_command_from_an_empty_folder(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    result = subprocess.run([sys.executable, "-m", "kamrules", "evaluate", "--as-of", "2026-11-27", "-q"],
                            cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert (work / "kamrules-out" / "decisions.csv").read_text(encoding="utf-8-sig").count("\n") == 301
    assert any((work / "kamrules-out" / "playbooks").glob("*.html"))
