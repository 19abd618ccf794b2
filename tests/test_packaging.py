"""`pip install .` (not only an editable install) must carry the default pack, playbooks and data."""

from __future__ import annotations

import subprocess
import sys
import zipfile

from conftest import ROOT


def test_wheel_ships_default_rules_playbooks_and_example_data(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(tmp_path)],
                   check=True, capture_output=True, timeout=600)
    wheel = next(tmp_path.glob("kamrules-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for rule_file in sorted((ROOT / "rules").glob("*.yaml")):
        assert f"kamrules/defaults/rules/{rule_file.name}" in names
    for template in sorted((ROOT / "playbooks").rglob("*.j2")):
        assert f"kamrules/defaults/playbooks/{template.relative_to(ROOT / 'playbooks').as_posix()}" in names
    assert "kamrules/defaults/examples/customers.csv" in names
    assert any(n.endswith("entry_points.txt") for n in names)
