"""The key-account profile (kamrules.results.profile): lift and its honest ranking, look-alikes,
record completeness, profile.csv, `kamrules profile`, and the pack's attribute declarations."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import write_pack
from kamrules.cli import app
from kamrules.engine.evaluate import evaluate
from kamrules.errors import RuleError
from kamrules.pack import load_pack
from kamrules.results.profile import build_profile, profile_frame, wilson
from kamrules.run import evaluation_profile

runner = CliRunner()
AS_OF = dt.date(2026, 11, 27)

FIELDS = """
pack:
  name: profiled
  attributes:
    industry:
    contract_months: {bands: [12]}
fields:
  account_id: {type: string, required: true}
  account_name: {type: string}
  industry: {type: string}
  sales: {type: number, required: true}
  share_of_wallet: {type: number}
  contract_months: {type: integer}
  flag: {type: boolean}
  maybe: {type: boolean}
  nps: {type: integer}
"""
DECISIONS = """
decisions:
  tier:
    hit: first
    outputs: {tier: {type: category, values: [key, potential, standard]}}
    rules:
      - {id: flagged, when: flag, then: {tier: key}}
      - {id: maybe, when: maybe, then: {tier: potential}}
    default: {tier: standard}
  risk:
    hit: first
    outputs: {risk: {type: category, values: [none, at_risk]}}
    rules:
      - {id: detractor, when: nps <= 6, then: {risk: at_risk}}
    default: {risk: none}
"""


def portfolio() -> pd.DataFrame:
    """100 accounts, 20 key: Chemicals 12 of 20 key (over-represented), Textiles 2 of 2 key (tiny),
    Retail 4 of 40, Food 2 of 38. Key accounts have 24-month contracts; 4 non-key Chemicals accounts too."""
    rows = []

    def add(ident, industry, key, months, sow=None, maybe=False, nps=None):
        rows.append({"account_id": ident, "account_name": f"Account {ident}", "industry": industry,
                     "sales": 1000.0, "share_of_wallet": sow, "contract_months": months, "flag": key,
                     "maybe": maybe, "nps": nps})

    for i in range(1, 13):
        add(f"C{i:02d}", "Chemicals", True, 24, nps=8 if i <= 5 else None)
    add("C13", "Chemicals", False, 24, maybe=True)
    add("C14", "Chemicals", False, 24, sow=0.5)
    add("C15", "Chemicals", False, 24, sow=0.25)
    add("C16", "Chemicals", False, 24)
    for i in range(17, 21):
        add(f"C{i}", "Chemicals", False, 6)
    add("T01", "Textiles", True, 24)
    add("T02", "Textiles", True, 24)
    for i in range(1, 41):
        add(f"R{i:02d}", "Retail", i <= 4, 24 if i <= 4 else 6)
    for i in range(1, 39):
        add(f"F{i:02d}", "Food", i <= 2, 24 if i <= 2 else 6, nps=9)
    return pd.DataFrame(rows)


@pytest.fixture
def pack(tmp_path):
    return load_pack(write_pack(tmp_path / "rules", {"00.yaml": FIELDS, "10.yaml": DECISIONS}))


@pytest.fixture
def evaluated(pack):
    return evaluate(pack, portfolio(), as_of=AS_OF, jobs=1)


def row(profile, attribute, value):
    return next(r for r in profile.rows if (r.attribute, r.value) == (attribute, value))


def test_over_represented_industry_ranks_first_with_the_hand_computed_lift(evaluated):
    profile = evaluation_profile(evaluated)
    assert (profile.key_total, profile.accounts) == (20, 100)
    chemicals = row(profile, "industry", "Chemicals")
    assert (chemicals.key, chemicals.base) == (12, 20)
    assert chemicals.key_share == pytest.approx(12 / 20) and chemicals.base_share == pytest.approx(20 / 100)
    assert chemicals.lift == pytest.approx(3.0)  # (12/20) ÷ (20/100)
    # Wilson 95% lower bound of 12/20 by hand: (p + z²/2n − z·√(p(1−p)/n + z²/4n²)) ÷ (1 + z²/n)
    z, p, n = 1.96, 0.6, 20
    low = (p + z * z / (2 * n) - z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / (1 + z * z / n)
    assert chemicals.lift_low == pytest.approx(low / 0.2)
    industries = [r for r in profile.leading if r.attribute == "industry"]
    assert industries[0].value == "Chemicals"
    ranking = [a.attribute for a in profile.ranking]
    assert ranking == ["contract_months", "industry"]  # ≥12 months: 20 of 24 key, lift 4.17
    assert row(profile, "contract_months", "≥12").lift == pytest.approx((20 / 24) / 0.2)


def test_a_two_account_segment_is_not_ranked_above_it(evaluated, pack):
    profile = evaluation_profile(evaluated)
    textiles = row(profile, "industry", "Textiles")
    assert textiles.lift == pytest.approx(5.0) and not textiles.ranked  # all key, but only 2 accounts
    assert textiles not in profile.leading
    # even with no minimum count, the interval keeps it below: 2/2 has a Wilson lower bound of 0.342
    loose = build_profile(pack, evaluated.table, min_accounts=1)
    order = [(r.attribute, r.value) for r in loose.leading]
    assert order.index(("industry", "Chemicals")) < order.index(("industry", "Textiles"))
    assert wilson([2], [2])[0][0] == pytest.approx(0.3424, abs=1e-4)


def test_lookalikes_are_the_hand_computed_accounts(evaluated):
    profile = evaluation_profile(evaluated, lookalike_count=None)
    # key-like values: Chemicals (×3) and ≥12 months (×4.17). C13 is potential, so not a candidate.
    # C14–C16 have both: ties go to the most growth room (C15: 1000/0.25−1000 = 3000; C14: 1000), then
    # C16 (unknown); C17–C20 have Chemicals only, in input order.
    assert [a.account_id for a in profile.lookalikes] == ["C15", "C14", "C16", "C17", "C18", "C19", "C20"]
    first = profile.lookalikes[0]
    assert first.score == pytest.approx(math.log(3.0) + math.log((20 / 24) / 0.2))
    assert [(r.attribute, r.value) for r in first.reasons] == [("contract_months", "≥12"), ("industry", "Chemicals")]
    assert first.growth_room == pytest.approx(3000.0)
    assert profile.lookalikes[1].growth_room == pytest.approx(1000.0)
    assert profile.lookalikes[2].growth_room is None
    assert profile.lookalikes[3].score == pytest.approx(math.log(3.0))
    assert profile.lookalike_total == 7


def test_completeness_counts_missing_fields_of_key_and_potential_accounts(evaluated):
    profile = evaluation_profile(evaluated)
    by_field = {c.field: c for c in profile.completeness}
    # nps: read by a rule; known for C01–C05 and the 38 Food accounts (2 of them key)
    assert (by_field["nps"].key_missing, by_field["nps"].key_total) == (20 - 5 - 2, 20)
    assert (by_field["nps"].potential_missing, by_field["nps"].potential_total) == (1, 1)
    assert by_field["industry"].key_missing == 0  # an attribute: listed although no rule reads it
    assert "share_of_wallet" not in by_field  # neither read by a rule nor an attribute


def test_completeness_leaves_out_a_field_the_whole_file_lacks(pack):
    """A column the export does not carry is one portfolio message ("not in the file"), not a record to
    complete for every key account (the report said "Sales in the previous period 32 / 32")."""
    frame = portfolio()
    frame["nps"] = None
    profile = evaluation_profile(evaluate(pack, frame, as_of=AS_OF, jobs=1))
    by_field = {c.field: c for c in profile.completeness}
    assert "nps" not in by_field
    assert by_field["industry"].key_total == 20  # a field the file carries is still counted
    assert "nps" not in {c.field for c in evaluation_profile(evaluate(pack, frame.drop(columns=["nps"]), as_of=AS_OF,
                                                                           jobs=1)).completeness}


def test_playbook_unknown_block_lists_missing_attributes(pack):
    from kamrules.documents import render_playbooks

    frame = portfolio()
    frame.loc[frame["account_id"] == "C06", "industry"] = None
    evaluation = evaluate(pack, frame, as_of=AS_OF, jobs=1)
    files = render_playbooks(evaluation, selection="key", lang="en")
    text = next(v.decode() for k, v in files.items() if k.endswith(".md") and "c06-" in k)
    unknown = text[text.index("Facts to find out"):text.index("## Why")]
    assert "| industry | unknown — find out |" in unknown  # an attribute, though no rule reads it
    assert "| nps | unknown — find out |" in unknown


def test_profile_csv_is_deterministic_and_written_by_evaluate(tmp_path):
    data = tmp_path / "accounts.csv"
    portfolio().to_csv(data, index=False)
    write_pack(tmp_path / "rules", {"00.yaml": FIELDS, "10.yaml": DECISIONS})
    outputs = []
    for out in ("one", "two"):
        result = runner.invoke(app, ["evaluate", str(data), "--rules", str(tmp_path / "rules"), "--as-of",
                                     "2026-11-27", "--out", out, "-q", "--playbooks", "none"])
        assert result.exit_code == 0, result.output
        outputs.append((Path(out) / "profile.csv").read_bytes() + (Path(out) / "lookalikes.csv").read_bytes())
    assert outputs[0] == outputs[1]
    frame = pd.read_csv("one/profile.csv")
    assert list(frame.columns)[:4] == ["attribute", "value", "key_accounts", "accounts"]
    chemicals = frame[(frame.attribute == "industry") & (frame.value == "Chemicals")].iloc[0]
    assert chemicals.lift == pytest.approx(3.0) and chemicals.ranked
    assert pd.read_csv("one/lookalikes.csv")["account_id"].tolist()[:2] == ["C15", "C14"]


def test_profile_frame_orders_values_by_pack_then_band(evaluated):
    frame = profile_frame(evaluation_profile(evaluated))
    assert frame["attribute"].tolist() == ["industry"] * 4 + ["contract_months"] * 2
    assert frame[frame.attribute == "contract_months"]["value"].tolist() == ["<12", "≥12"]


def test_cli_profile_prints_the_profile(tmp_path):
    data = tmp_path / "accounts.csv"
    portfolio().to_csv(data, index=False)
    rules = write_pack(tmp_path / "rules", {"00.yaml": FIELDS, "10.yaml": DECISIONS})
    result = runner.invoke(app, ["profile", str(data), "--rules", str(rules), "--as-of", "2026-11-27"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "20 key accounts among 100 accounts (20%)" in out
    assert "industry = Chemicals: Among key accounts 60% (12/20), In the base 20% (20/100), ×3 (" in out
    assert "1. Account C15 (C15): contract_months = ≥12 (×4.17); industry = Chemicals (×3), Growth room 3,000" in out
    assert "nps missing for 13 of 20 key accounts; 1 of 1 potential" in out
    zh = runner.invoke(app, ["profile", str(data), "--rules", str(rules), "--as-of", "2026-11-27", "--lang", "zh"])
    assert zh.exit_code == 0 and "重点客户 20 家，全部客户 100 家" in zh.output


def test_cli_profile_on_the_bundled_pack_and_help():
    result = runner.invoke(app, ["profile", "--as-of", "2026-11-27"])
    assert result.exit_code == 0, result.output
    assert "Key accounts against the base" in result.output and "Look-alike accounts" in result.output
    assert "Example: kamrules profile" in runner.invoke(app, ["profile", "--help"]).output


def test_a_pack_without_attributes_has_no_profile(tmp_path):
    rules = write_pack(tmp_path / "rules", {"00.yaml": FIELDS.replace("  attributes:\n    industry:\n"
                                                                      "    contract_months: {bands: [12]}\n", ""),
                                            "10.yaml": DECISIONS})
    pack = load_pack(rules)
    assert pack.attributes == {}
    assert evaluation_profile(evaluate(pack, portfolio(), as_of=AS_OF, jobs=1)) is None
    data = tmp_path / "accounts.csv"
    portfolio().to_csv(data, index=False)
    result = runner.invoke(app, ["profile", str(data), "--rules", str(rules), "--as-of", "2026-11-27"])
    assert result.exit_code == 0
    assert result.output == ("The pack declares no attributes (pack: attributes:) or has no tier: "
                             "there is no profile.\n")
    result = runner.invoke(app, ["evaluate", str(data), "--rules", str(rules), "--as-of", "2026-11-27", "-q"])
    assert result.exit_code == 0 and not Path("kamrules-out/profile.csv").exists()


def test_boolean_attributes_read_as_yes_and_no(tmp_path):
    text = FIELDS.replace("    industry:\n    contract_months: {bands: [12]}\n", "    maybe:\n")
    pack = load_pack(write_pack(tmp_path / "rules", {"00.yaml": text, "10.yaml": DECISIONS}))
    profile = evaluation_profile(evaluate(pack, portfolio(), as_of=AS_OF, jobs=1))
    assert [r.value for r in profile.rows] == ["false", "true"]
    from kamrules.results.profile_text import value_text

    assert [value_text(pack, r, "en") for r in profile.rows] == ["maybe = no", "maybe = yes"]
    assert value_text(pack, profile.rows[1], "zh") == "maybe = 是"


BAD = [
    ("    industy:\n", "00.yaml:5:5: pack: attributes: 'industy' is not a field or feature of this pack "
                     "(did you mean 'industry'?)"),
    ("    sales:\n", "pack: attributes: sales: a number needs bands, e.g. 'sales: {bands: [12, 24, 36]}'"),
    ("    sales: {bands: [100, 50]}\n", "00.yaml:5:20: pack: attributes: sales: bands: the cut points must rise"),
    ("    sales: {bands: [a, 5]}\n", "pack: attributes: sales: bands: must be a list of numbers"),
    ("    industry: {bands: [1, 2]}\n", "pack: attributes: industry: bands: only number fields are banded"),
    ("    industry: yes please\n", "pack: attributes: industry: must be empty or a mapping"),
    ("    nps: {bands: [7]}\n    nps: {bands: [9]}\n", "duplicate"),
]


@pytest.mark.parametrize("declaration,expected", BAD)
def test_bad_attribute_declarations_give_located_errors(tmp_path, declaration, expected):
    text = FIELDS.replace("    industry:\n    contract_months: {bands: [12]}\n", declaration)
    with pytest.raises(RuleError) as info:
        load_pack(write_pack(tmp_path / "rules", {"00.yaml": text, "10.yaml": DECISIONS}))
    assert expected in str(info.value)


def test_attributes_as_a_list_and_unknown_keys_warn(tmp_path):
    text = FIELDS.replace("    industry:\n    contract_months: {bands: [12]}\n",
                          "    contract_months: {bands: [12], bans: 3}\n")
    pack = load_pack(write_pack(tmp_path / "a", {"00.yaml": text, "10.yaml": DECISIONS}))
    assert "unknown key 'bans' (did you mean 'bands'?)" in str(pack.warnings[0])
    listed = FIELDS.replace("  attributes:\n    industry:\n    contract_months: {bands: [12]}\n",
                            "  attributes: [industry]\n")
    assert list(load_pack(write_pack(tmp_path / "b", {"00.yaml": listed, "10.yaml": DECISIONS})).attributes) == ["industry"]
