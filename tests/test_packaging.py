"""`pip install .` (not only an editable install) must carry the default pack, playbooks and data,
and find them from any folder. The wheel is built from a copy of the sources in a temporary folder:
setuptools writes `build/` and `*.egg-info` next to the sources it builds, never into the checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT

# What a wheel is built from (pyproject.toml's packages and package-dir), and nothing else.
SOURCES = ("pyproject.toml", "README.md", "kamrules", "rules", "playbooks", "examples")


def checkout_listing() -> set[str]:
    """Every file and folder of the checkout but git's own and Python's byte-code caches."""
    found = set()
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in (".git", "__pycache__")]
        base = Path(folder).relative_to(ROOT)
        found.update((base / name).as_posix() for name in [*dirs, *files])
    return found


def copy_sources(target: Path) -> Path:
    target.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", "kamrules-out")
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=ignore)
        else:
            shutil.copy2(source, target / name)
    return target


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, set[str], set[str]]:
    """The wheel, and the checkout's listing before and after building it."""
    before = checkout_listing()
    sources = copy_sources(tmp_path_factory.mktemp("src") / "kamrules-src")
    folder = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(sources), "--no-deps", "-q", "-w", str(folder)],
                   check=True, capture_output=True, timeout=600)
    return next(folder.glob("kamrules-*.whl")), before, checkout_listing()


@pytest.fixture(scope="module")
def wheel(built) -> Path:
    return built[0]


def test_building_the_wheel_writes_nothing_into_the_checkout(built):
    wheel, before, after = built
    assert wheel.is_file()
    assert sorted(after - before) == []


def test_copied_sources_are_all_the_wheel_needs(tmp_path):
    sources = copy_sources(tmp_path / "src")
    assert (sources / "rules" / "00-pack.yaml").is_file()
    assert (sources / "kamrules" / "__init__.py").is_file()
    assert not list(sources.rglob("__pycache__"))


def test_wheel_ships_default_rules_playbooks_and_example_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for rule_file in sorted((ROOT / "rules").glob("*.yaml")):
        assert f"kamrules/defaults/rules/{rule_file.name}" in names
    for template in sorted((ROOT / "playbooks").rglob("*.j2")):
        assert f"kamrules/defaults/playbooks/{template.relative_to(ROOT / 'playbooks').as_posix()}" in names
    assert "kamrules/defaults/examples/customers.csv" in names
    assert "kamrules/documents/fonts/wqy-microhei.ttf" in names  # evaluate --pdf sets Chinese with it
    assert any(n.endswith("entry_points.txt") for n in names)
    # every package of the source tree is in the wheel (a package left out of pyproject's list imports in
    # the checkout and fails in an installed copy)
    for init in sorted((ROOT / "kamrules").rglob("__init__.py")):
        assert init.relative_to(ROOT).as_posix() in names, f"{init.parent.name}: add it to pyproject's packages"


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


def test_hypothesis_keeps_its_database_outside_the_checkout():
    from hypothesis.configuration import storage_directory

    import tempfile

    where = storage_directory("examples", intent_to_write=False).path.resolve()
    home = os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY") or Path(tempfile.gettempdir()) / "kamrules-hypothesis"
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")  # each xdist worker its own database
    assert where == Path(home).resolve() / worker / "examples"
    assert not where.is_relative_to(ROOT.resolve()), where
