"""The package layers (docs/architecture.md): imports point one way, checked by import-linter's layers
contract in pyproject.toml, and the public library API resolves."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import kamrules

ROOT = Path(__file__).resolve().parent.parent


def test_import_linter_layers_contract_is_kept():
    script = ("import sys; from importlinter.cli import lint_imports_command; "
              "sys.exit(lint_imports_command([\"--no-cache\"]))")
    env_path = str(ROOT)
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                            env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"}, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken." in result.stdout


def test_every_public_name_resolves():
    for name in kamrules.__all__:
        assert getattr(kamrules, name) is not None, name
    assert kamrules.explain is kamrules.explain_account


def test_unknown_public_name_is_an_attribute_error():
    try:
        kamrules.no_such_name
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("kamrules.no_such_name resolved")
