"""Shared fixtures. Tests never write outside tmp_path: the autouse guard moves the working directory."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import configuration as hypothesis_configuration

import kamrules.engine  # noqa: F401  (its filter of pandas' "fragmented" hint set before any test: pyproject's "error" then always wins)

ROOT = Path(__file__).resolve().parent.parent

# Hypothesis keeps its example database in `.hypothesis/` of the folder pytest started in (the
# checkout, usually); keep it in the temporary folder instead, unless the environment names one. Under
# pytest-xdist (`-n auto`) each worker keeps its own, so two workers never write one database at once.
hypothesis_configuration.set_hypothesis_home_dir(
    Path(os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY") or Path(tempfile.gettempdir()) / "kamrules-hypothesis")
    / os.environ.get("PYTEST_XDIST_WORKER", "main"))


@pytest.fixture(autouse=True)
def _work_in_tmp(tmp_path, monkeypatch):
    """Run every test inside its own tmp_path, so relative outputs (kamrules-out/) land there."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KAMRULES_TEST", "1")
    yield


@pytest.fixture
def root() -> Path:
    return ROOT


def write_pack(folder: Path, files: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def decided_masks(evaluation, decision_id: str) -> list[int]:
    """Per account, the rules that decided `decision_id` as a bit mask (bit i = rule i), read through
    the evaluation's outcomes (how the engine encodes them is its own business)."""
    outcomes = evaluation.outcomes(decision_id)
    masks = [sum(1 << i for i in outcome.indexes) for outcome in outcomes.distinct]
    return [masks[int(code)] for code in outcomes.codes()]
