"""`kamrules validate`'s analysis: each finding kind on a minimal pack with its exact message, the
--data checks, the CLI's grouping, JSON and --strict; and a property test that the gap and overlap
analysis agrees with brute-force evaluation of random small tables."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from kamrules.analysis import analyse_pack
from kamrules.analysis.findings import render_findings
from kamrules.cli import app
from kamrules.errors import RuleError
from kamrules.language import expr as ex
from kamrules.pack import load_pack

from conftest import write_pack

runner = CliRunner()

FIELDS = """
fields:
  account_id: {type: string, required: true}
  x: {type: number, required: true}
  y: number
  industry: {type: string, aliases: [Branche]}
  flag: boolean
"""


def pack_with(tmp_path: Path, decision: str):
    folder = write_pack(tmp_path / "rules", {"p.yaml": FIELDS + "decisions:\n" + decision})
    return folder, load_pack(folder)


def messages(pack) -> list:
    return [(f.severity, f.kind, f.message, f.example) for f in analyse_pack(pack)]


def test_gap_in_a_table_without_default_is_an_error_with_an_account(tmp_path):
    _, pack = pack_with(tmp_path, """
  size:
    outputs: {size: {type: category, values: [big, small]}}
    rules:
      - {id: big, when: x >= 10, then: {size: big}}
      - {id: small, when: x < 5, then: {size: small}}
""")
    assert messages(pack) == [(
        "error", "gap",
        "gap: no rule matches some accounts and there is no default, so their size would be missing: "
        "add a rule or a 'default'",
        {"x": 5.0})]


def test_missing_values_make_gaps_too(tmp_path):
    _, pack = pack_with(tmp_path, """
  size:
    outputs: {size: {type: category, values: [big, small]}}
    rules:
      - {id: big, when: y >= 10, then: {size: big}}
      - {id: small, when: y < 10, then: {size: small}}
""")
    assert messages(pack)[0][3] == {"y": None}


def test_no_gap_when_covered_or_a_default(tmp_path):
    _, pack = pack_with(tmp_path, """
  size:
    outputs: {size: {type: category, values: [big, small]}}
    rules:
      - {id: big, when: x >= 10, then: {size: big}}
      - {id: small, when: x < 10, then: {size: small}}
  other:
    outputs: {o: string}
    rules:
      - {id: a, when: y > 3, then: {o: a}}
    default: {o: none}
""")
    assert messages(pack) == []


GRID = """
fields:
  account_id: {type: string, required: true}
  size: {type: category, values: [few, many], required: true}
  margin: {type: category, values: [low, high], required: true}
decisions:
  level:
    outputs: {level: string}
    table:
      inputs: [size, margin]
      outputs: [level]
      rows:
        - [few, low, a]
        - [few, high, b]
        - [many, low, c]
    default: {level: z}
"""


def test_default_filling_a_hole_in_a_grid_is_a_warning(tmp_path):
    folder = write_pack(tmp_path / "grid", {"p.yaml": GRID})
    assert messages(load_pack(folder)) == [(
        "warning", "default_fills_gap",
        "the default applies to a combination of known values that no row lists: "
        "if it is not meant as a fallback, add the row",
        {"size": "many", "margin": "high"})]
    full = GRID.replace("        - [many, low, c]\n", "        - [many, low, c]\n        - [many, high, d]\n")
    assert messages(load_pack(write_pack(tmp_path / "full", {"p.yaml": full}))) == []


def test_overlap_in_a_unique_table(tmp_path):
    _, pack = pack_with(tmp_path, """
  size:
    hit: unique
    outputs: {size: {type: category, values: [big, small]}}
    rules:
      - {id: big, when: x >= 10, then: {size: big}}
      - {id: small, when: x <= 10, then: {size: small}}
""")
    assert messages(pack) == [(
        "error", "overlap",
        "rules 'big' and 'small' both match some accounts (hit: unique): narrow one of them, or use 'hit: first'",
        {"x": 10.0})]


def test_rule_hidden_by_earlier_ones(tmp_path):
    """What the loader's own check misses: a rule hidden by an 'or' of earlier values, or by two rules together."""
    _, pack = pack_with(tmp_path, """
  size:
    outputs: {size: {type: category, values: [big, small]}}
    rules:
      - {id: from5, when: x >= 5, then: {size: big}}
      - {id: low, when: x < 3, then: {size: small}}
      - {id: one_or_two, when: 'x in [1, 2]', then: {size: small}}
      - {id: mid, when: x >= 3, then: {size: small}}
      - {id: any_y, when: x < 7 and y > 1, then: {size: small}}
""")
    assert messages(pack) == [
        ("error", "hidden", "rule 'one_or_two' can never fire: rule 'low' comes first and matches every account it "
         "matches (hit: first); reorder or narrow them", {"x": 1.0}),
        ("error", "hidden", "rule 'any_y' can never fire: rules 'from5', 'low', 'mid' come first and match every "
         "account it matches (hit: first); reorder or narrow them", {"x": 1.0, "y": 2.0}),
    ]


def test_impossible_rule(tmp_path):
    _, pack = pack_with(tmp_path, """
  size:
    hit: collect
    outputs: {size: {type: category, values: [big, small]}}
    rules:
      - {id: never, when: x > 5 and x < 3, then: {size: big}}
      - {id: fine, when: x > 5, then: {size: small}}
""")
    assert messages(pack) == [(
        "error", "impossible",
        "rule 'never' can never hold: 'x > 5 and x < 3' is false or unknown for every account; "
        "fix the condition or remove the rule", {})]


def test_computed_conditions_are_not_claimed_impossible(tmp_path):
    _, pack = pack_with(tmp_path, """
  size:
    hit: collect
    outputs: {size: string}
    rules:
      - {id: computed, when: x - y > 100, then: {size: big}}
""")
    assert messages(pack) == []


# ------------------------------------------------------------------------------------------ --data

DATA_PACK = """
  sector:
    outputs: {sector: string}
    rules:
      - {id: energy, when: 'industry == "energy"', then: {sector: energy}}
      - {id: big, when: x > 1000, then: {sector: big}}
    default: {sector: other}
"""


def test_data_checks_dead_rules_literals_missing_fields_and_mapping(tmp_path):
    folder, _ = pack_with(tmp_path, DATA_PACK)
    Path("d.csv").write_text("Account ID,x,Branche,extra\n1,5,Energy,a\n2,7,Retail,b\n", encoding="utf-8")
    result = runner.invoke(app, ["validate", "rules", "--data", "d.csv"])
    assert result.exit_code == 0, result.output
    assert result.output == (
        "rules: valid — 5 fields, 0 params, 0 features and scores, 1 decisions, 2 rules\n"
        "d.csv: 2 accounts; 3 of 5 fields found\n"
        "  optional fields not in the file: y, flag\n"
        "  columns not used by the pack: extra\n"
        "columns: 3 fields found\n"
        "  by their own name (2): account_id, x\n"
        "  industry ← Branche  (alias)\n"
        "decision 'sector':\n"
        "  warning: rules/p.yaml:13:9: rule 'energy': 'energy' never occurs in column 'Branche' (industry) of d.csv"
        " (did you mean 'Energy'? comparisons are case-sensitive)\n"
        "  note: rules/p.yaml:13:9: rule 'energy' matches none of the 2 accounts in d.csv\n"
        "  note: rules/p.yaml:14:9: rule 'big' matches none of the 2 accounts in d.csv\n"
        "0 error(s), 1 warning(s), 2 note(s)\n"
    )
    strict = runner.invoke(app, ["validate", str(folder), "--data", "d.csv", "--strict"])
    assert strict.exit_code == 1  # the literal that never occurs; a rule matching no account is information


def test_near_match_that_is_not_only_case(tmp_path):
    folder, _ = pack_with(tmp_path, DATA_PACK.replace('"energy"', '"Enrgy"'))
    Path("d.csv").write_text("account_id,x,industry\n1,5,Energy\n", encoding="utf-8")
    result = runner.invoke(app, ["validate", str(folder), "--data", "d.csv"])
    assert "'Enrgy' never occurs in column 'industry' (industry) of d.csv (did you mean 'Energy'?)\n" in result.output


def test_missing_field_finding(tmp_path):
    folder, _ = pack_with(tmp_path, """
  s:
    outputs: {s: string}
    rules:
      - {id: hi_y, when: y > 1, then: {s: a}}
    default: {s: b}
""")
    Path("d.csv").write_text("account_id,x\n1,5\n", encoding="utf-8")
    result = runner.invoke(app, ["validate", str(folder), "--data", "d.csv"])
    assert ("data:\n  warning: rules/p.yaml:5:3: field 'y' is not in d.csv: 1 rule(s) can never fire "
            "(s → hi_y); add the column or map it with --columns\n") in result.output


def test_json_format(tmp_path):
    folder, _ = pack_with(tmp_path, DATA_PACK)
    Path("d.csv").write_text("account_id,x,industry\n1,5,Energy\n", encoding="utf-8")
    result = runner.invoke(app, ["validate", str(folder), "--data", "d.csv", "--format", "json"])
    data = json.loads(result.output)
    assert data["warnings"] == 1 and data["errors"] == 0
    assert {"field": "industry", "column": "industry", "by": "name"} in data["columns"]
    assert data["findings"][0]["kind"] == "unknown_literal"


def test_cli_gap_fails_validate(tmp_path):
    folder, _ = pack_with(tmp_path, """
  size:
    outputs: {size: {type: category, values: [big, small]}}
    rules:
      - {id: big, when: x >= 10, then: {size: big}}
""")
    result = runner.invoke(app, ["validate", str(folder)])
    assert result.exit_code == 1
    assert result.output.splitlines()[1:] == [
        "decision 'size':",
        "  error: rules/p.yaml:10:3: gap: no rule matches some accounts and there is no default, so their "
        "size would be missing: add a rule or a 'default'",
        "    e.g. x = 9",
        "1 error(s), 0 warning(s)",
    ]


def test_default_pack_has_no_static_errors(root):
    findings = analyse_pack(load_pack(root / "rules"))
    assert not [f for f in findings if f.severity == "error"], render_findings(findings)


# --------------------------------------------------------------------------------- property test

OPS = ("<", "<=", ">", ">=", "==", "!=")
atom = st.one_of(
    st.tuples(st.just("x"), st.sampled_from(OPS), st.integers(0, 4)),
    st.tuples(st.just("y"), st.sampled_from(OPS), st.integers(0, 4)),
    st.tuples(st.just("y"), st.sampled_from(("is missing", "is not missing")), st.none()),
    st.tuples(st.just("flag"), st.sampled_from(("== true", "== false")), st.none()),
)
condition = st.lists(atom, min_size=1, max_size=2).map(
    lambda atoms: " and ".join(f"{n} {op} {v}" if v is not None else f"{n} {op}" for n, op, v in atoms))
tables = st.tuples(st.sampled_from(("first", "unique")), st.lists(condition, min_size=1, max_size=4))


def brute_force(pack) -> tuple[bool, bool]:
    """(gap, overlap) found by evaluating a fine grid of accounts one by one."""
    decision = pack.decisions[0]
    gap = overlap = False
    xs = [v / 2 for v in range(-2, 11)]
    for x in xs:
        for y in [*xs, None]:
            for flag in (True, False, None):
                values = {"x": x, "y": y, "flag": flag}
                hits = sum(ex.eval_condition(r.when, values) is True for r in decision.rules)
                gap |= hits == 0
                overlap |= hits > 1
    return gap, overlap


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tables)
def test_gap_and_overlap_agree_with_brute_force(tmp_path_factory, table):
    hit, conditions = table
    folder = tmp_path_factory.mktemp("pack")
    rules = "\n".join(f"      - {{id: r{i}, when: '{c}', then: {{o: v}}}}" for i, c in enumerate(conditions))
    write_pack(folder, {"p.yaml": FIELDS + f"decisions:\n  d:\n    hit: {hit}\n    outputs: {{o: string}}\n"
                        f"    rules:\n{rules}\n"})
    try:
        pack = load_pack(folder)
    except RuleError:  # the loader's own checks (e.g. an earlier rule that hides a later one)
        return
    kinds = {f.kind for f in analyse_pack(pack)}
    gap, overlap = brute_force(pack)
    assert ("gap" in kinds) == gap
    if hit == "unique":
        assert ("overlap" in kinds) == overlap


def _collect_pack(rules: int, with_or: int = 0) -> str:
    lines = ["  many:", "    hit: collect", "    outputs: {tag: string}", "    rules:"]
    for i in range(rules):
        when = f"x > {i} or y > {i}" if i < with_or else f"x > {i}"
        lines.append(f"      - {{id: r{i}, when: '{when}', then: {{tag: t{i}}}}}")
    return "\n".join(lines) + "\n"


def test_validate_reports_the_engine_branches_left_when_a_decision_nears_the_limit(tmp_path):
    """48 branches (three quarters of 64) say nothing; 49 — 45 rules, 4 of them with an 'or' — get a note
    with the count, what is left and how to make room; the loader still refuses 65."""
    _, quiet = pack_with(tmp_path / "a", _collect_pack(48))
    assert [f for f in analyse_pack(quiet) if f.kind == "branch_headroom"] == []
    folder, near = pack_with(tmp_path / "b", _collect_pack(45, with_or=4))
    assert [(f.severity, f.decision, f.message) for f in analyse_pack(near) if f.kind == "branch_headroom"] == [
        ("note", "many", "its rules make 49 of the 64 engine branches a decision may have (15 left; each rule is one, "
                         "each 'or' alternative one more): before adding rules, move 'or' parts (x in [a, b], p or q) "
                         "into boolean features")]
    result = runner.invoke(app, ["validate", str(folder)])
    assert result.exit_code == 0, result.output
    assert "note: " in result.output and "49 of the 64 engine branches" in result.output
    try:
        pack_with(tmp_path / "c", _collect_pack(60, with_or=5))
    except RuleError as error:
        assert "65 engine branches" in str(error)
    else:
        raise AssertionError("a decision of 65 branches loaded")
