"""Generic code reads the default pack's params by role (pack/model.PARAM_ROLES), never by name: a team
pack that renames a param and names it under `pack: roles:` keeps every report section that reads it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import shutil
from pathlib import Path

import pytest

from kamrules.data.reader import ReadOptions, read_table
from kamrules.engine.evaluate import evaluate
from kamrules.errors import KamrulesError
from kamrules.pack import load_pack
from kamrules.results.portfolio import summarise

from conftest import ROOT

AS_OF = dt.date(2026, 11, 27)
RENAMED = {"kam_manageable_max": "team_kam_max", "kam_manageable_min": "team_kam_min",
           "lapsed_alert_share": "lost_alert_share", "abc_b_cut": "class_b_cut", "pareto_target": "pareto_goal",
           "region_hhi_high": "region_hhi_top", "sow_growth_target_points": "sow_step"}


def _renamed_pack(folder: Path, with_roles: bool) -> Path:
    shutil.copytree(ROOT / "rules", folder)
    for path in folder.rglob("*.y*ml"):
        text = path.read_text(encoding="utf-8")
        for old, new in RENAMED.items():
            text = re.sub(rf"\b{old}\b", new, text)
        path.write_text(text, encoding="utf-8")
    if with_roles:
        pack_file = folder / "00-pack.yaml"
        roles = ", ".join(f"{old}: {new}" for old, new in RENAMED.items())
        text = pack_file.read_text(encoding="utf-8")
        pack_file.write_text(text.replace("roles: {review_every_days: next_review_days}",
                                          f"roles: {{review_every_days: next_review_days, {roles}}}"), encoding="utf-8")
    return folder


def _portfolio(rules: Path, lang: str):
    pack = load_pack(rules)
    read = read_table(ROOT / "examples" / "customers.csv", list(pack.fields.values()), ReadOptions())
    evaluation = evaluate(pack, read.frame, as_of=AS_OF, row_numbers=read.row_numbers)
    return pack, summarise(evaluation, lang)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_renamed_param_keeps_its_report_sections_through_its_role(tmp_path, lang):
    default_pack, default = _portfolio(ROOT / "rules", lang)
    renamed_pack, renamed = _portfolio(_renamed_pack(tmp_path / "renamed", with_roles=True), lang)
    for role in RENAMED:
        assert renamed_pack.param(role) == default_pack.param(role) is not None, role
    assert renamed == default
    # without the roles, the same pack loses what those params gave the report: the test can fail
    _, unnamed = _portfolio(_renamed_pack(tmp_path / "unnamed", with_roles=False), lang)
    assert unnamed != default
    assert set(default.params) - set(unnamed.params) == {"kam_manageable_max", "kam_manageable_min",
                                                         "lapsed_alert_share", "pareto_target", "region_hhi_high"}
    assert [a for a in unnamed.advice if a not in default.advice] or len(unnamed.advice) != len(default.advice)


def test_a_param_role_must_name_a_param(tmp_path):
    rules = _renamed_pack(tmp_path / "rules", with_roles=True)
    pack_file = rules / "00-pack.yaml"
    pack_file.write_text(pack_file.read_text(encoding="utf-8").replace("abc_b_cut: class_b_cut",
                                                                      "abc_b_cut: class_b_cutt"), encoding="utf-8")
    with pytest.raises(KamrulesError) as caught:
        load_pack(rules)
    assert "pack: roles: abc_b_cut: 'class_b_cutt' is not a param of this pack (did you mean 'class_b_cut'?)" \
        in str(caught.value)
