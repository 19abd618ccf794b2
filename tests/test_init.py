"""kamrules init: the team's pack gets its own name (flag, or a prompt on a terminal only)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from kamrules.cli import app
from kamrules.errors import ConfigError
from kamrules.pack import load_pack
from kamrules.resources import init_project


def test_init_names_the_pack_and_keeps_the_rest_of_the_file(tmp_path):
    init_project(tmp_path / "team", name="Acme  KAM 东区")
    pack_file = tmp_path / "team" / "rules" / "00-pack.yaml"
    original = (Path(__file__).resolve().parent.parent / "rules" / "00-pack.yaml").read_text(encoding="utf-8")
    changed = [(a, b) for a, b in zip(original.splitlines(), pack_file.read_text(encoding="utf-8").splitlines())
               if a != b]
    assert changed == [
        ("  name: default", "  name: acme-kam-东区"),
        ("  title: {en: Key account management (default pack), zh: 重点客户管理（默认规则包）}",
         '  title: "Acme KAM 东区"'),
        ('  version: "3.3"', '  version: "1.0"'),  # the team's own pack starts at 1.0
    ]
    pack = load_pack(tmp_path / "team" / "rules")
    assert (pack.name, pack.version) == ("acme-kam-东区", "1.0")


def test_init_without_a_name_keeps_the_default_and_never_prompts_off_a_terminal(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["init", "team"], input="Should not be read\n")
    assert result.exit_code == 0, result.output
    assert "Name of your team" not in result.output
    assert load_pack(tmp_path / "team" / "rules").name == "default"
    named = CliRunner().invoke(app, ["init", "named", "--name", "Beta"])
    assert named.exit_code == 0 and load_pack(tmp_path / "named" / "rules").name == "beta"


def test_init_rejects_a_name_without_letters(tmp_path):
    with pytest.raises(ConfigError) as caught:
        init_project(tmp_path / "team", name=" !! ")
    assert str(caught.value) == "--name ' !! ' has no letters or digits; give the team's pack a name like 'acme-kam'"
