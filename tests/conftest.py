"""Shared fixtures. Tests never write outside tmp_path: the autouse guard moves the working directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


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
