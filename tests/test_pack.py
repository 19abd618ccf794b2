"""Loading and validating rule packs: every broken pack gets its exact message, with its location."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from kamrules.errors import ConfigError, RuleError
from kamrules.language import expr as ex
from kamrules.pack import load_pack, rules_without_data

from conftest import write_pack

FIELDS = """\
fields:
  account_id: {type: string, required: true}
  sales: {type: number, required: true}
  sales_prev: {type: number}
  region: {type: string}
  nps: {type: integer}
  strategic: {type: boolean}
  customer_type: {type: category, values: [enterprise, government]}
params:
  cut: 0.8
  decline: 0.2
"""

DECISION = """\
decisions:
  tier:
    hit: first
    outputs:
      tier: {type: category, values: [key, standard]}
    rules:
      - id: pareto
        when: sales_share >= 0.1
        then: {tier: key}
    default: {tier: standard}
features:
  sales_share: {share_of: sales}
"""


def load(tmp_path: Path, files: dict, strict: bool = False):
    return load_pack(write_pack(Path("rules"), {k: textwrap.dedent(v) for k, v in files.items()}), strict=strict)


def errors_of(tmp_path: Path, files: dict, strict: bool = False) -> str:
    with pytest.raises(RuleError) as info:
        load(tmp_path, files, strict)
    return str(info.value)

TABLE = """\
decisions:
  rel:
    outputs: {{rel: {{type: category, values: [a, b]}}}}
    table:
      inputs: [region, customer_type]
      rows:
        - [{cell}, enterprise, a]
"""

BROKEN = [
    ("yaml syntax", {"10.yaml": "decisions:\n  tier: [\n"},
     "rules/10.yaml:3:1: YAML syntax error: did not find expected node content"),
    ("duplicate key", {"10.yaml": DECISION + "features:\n  x: {share_of: sales}\n"},
     "rules/10.yaml:13:1: duplicate key 'features' (first defined at line 11); YAML keeps only one of them: remove or rename one"),
    ("python tag", {"10.yaml": "params:\n  x: !!python/object/apply:os.system ['ls']\n"},
     "rules/10.yaml:2:6: unsupported YAML: could not determine a constructor for the tag "
     "'tag:yaml.org,2002:python/object/apply:os.system' (rule files hold plain data only)"),
    ("not a mapping", {"10.yaml": "- a\n- b\n"},
     "rules/10.yaml:1:1: a rule file is a mapping of sections (pack, fields, params, labels, features, scores, decisions)"),
    ("section not a mapping", {"10.yaml": "features: [a, b]\n"},
     "rules/10.yaml:1:11: 'features' must be a mapping of names to definitions"),
    ("unknown field type", {"10.yaml": "fields:\n  margin: {type: nummber}\n"},
     "rules/10.yaml:2:18: field 'margin': type 'nummber' is not one of number, integer, string, boolean, date, category (did you mean 'number'?)"),
    ("category without values", {"10.yaml": "fields:\n  kind: {type: category}\n"},
     "rules/10.yaml:2:9: field 'kind': a category field needs 'values' (the allowed values)"),
    ("reserved name", {"10.yaml": "fields:\n  id: {type: string}\n"},
     "rules/10.yaml:2:3: field name 'id' is reserved (the engine uses it): rename it, e.g. 'id_'"),
    ("reserved sid", {"10.yaml": "features:\n  sid: {share_of: sales}\n"},
     "rules/10.yaml:2:3: feature name 'sid' is reserved (the engine uses it): rename it, e.g. 'sid_'"),
    ("bad name", {"10.yaml": "fields:\n  Sales Total: {type: number}\n"},
     "rules/10.yaml:2:3: field name 'Sales Total' is not valid: use lower-case letters, digits and '_', starting with a letter"),
    ("name defined twice across files", {"10.yaml": "features:\n  sales: {share_of: sales_prev}\n"},
     "rules/10.yaml:2:3: feature 'sales' is already defined as a field at rules/00.yaml:3:3: names must be unique"),
    ("param not scalar", {"10.yaml": "params:\n  bands: [1, 2]\n"},
     "rules/10.yaml:2:10: param 'bands': value must be a number, text, true/false or a date"),
    ("feature without function", {"10.yaml": "features:\n  x: {within: region}\n"},
     "rules/10.yaml:2:6: feature 'x': needs one function: one of expr, cumulative_share, band, days_since, days_until, criteria_of, share_of, rank, percentile, hhi, sum, mean, max, min, count"),
    ("feature with two functions", {"10.yaml": "features:\n  x: {share_of: sales, rank: sales}\n"},
     "rules/10.yaml:2:6: feature 'x': has 2 functions (share_of, rank): one of expr, cumulative_share, band, days_since, days_until, criteria_of, share_of, rank, percentile, hhi, sum, mean, max, min, count"),
    ("feature unknown field", {"10.yaml": "features:\n  x: {share_of: salse}\n"},
     "rules/10.yaml:2:17: feature 'x': share_of: unknown name 'salse' (did you mean 'sales'?)"),
    ("feature cycle", {"10.yaml": "features:\n  a: {expr: b + 1}\n  b: {expr: a * 2}\n"},
     "rules/10.yaml:2:3: feature 'a' depends on itself: a → b → a"),
    ("band thresholds not rising", {"10.yaml": "features:\n  x:\n    band: sales\n    bands: [{below: 10, label: low}, {below: 5, label: mid}, {label: high}]\n"},
     "rules/10.yaml:4:46: feature 'x': bands[2].below: 5 must be above the band before (10)"),
    ("group by unknown field", {"10.yaml": "features:\n  x: {share_of: sales, within: regoin}\n"},
     "rules/10.yaml:2:32: feature 'x': within: unknown name 'regoin' (did you mean 'region'?)"),
    ("score weight", {"10.yaml": "scores:\n  idx:\n    criteria:\n      - {field: sales, weight: 0}\n"},
     "rules/10.yaml:4:32: score 'idx': criteria[1]: weight: must be a number above 0"),
    ("score on a string", {"10.yaml": "scores:\n  idx:\n    criteria:\n      - {field: region, weight: 1}\n"},
     "rules/10.yaml:4:17: score 'idx': criteria[1]: 'region' is a string, not a number"),
    ("bad hit policy", {"10.yaml": DECISION.replace("hit: first", "hit: frist")},
     "rules/10.yaml:3:10: decision 'tier': hit: 'frist' is not one of first, unique, priority, collect (did you mean 'first'?)"),
    ("rule without id", {"10.yaml": DECISION.replace("      - id: pareto\n        when", "      - when")},
     "rules/10.yaml:7:9: decision 'tier' → rule 1: needs an 'id'"),
    ("duplicate rule id", {"10.yaml": DECISION.replace("    default:", "      - id: pareto\n        when: nps > 8\n        then: {tier: key}\n    default:")},
     "rules/10.yaml:10:9: decision 'tier' → rule 'pareto': duplicate rule id (first at line 7)"),
    ("condition syntax", {"10.yaml": DECISION.replace("sales_share >= 0.1", "sales_share >= 0.1 and")},
     "rules/10.yaml:8:37: decision 'tier' → rule 'pareto': when: expected a value, found the end of the condition"),
    ("unknown name in condition", {"10.yaml": DECISION.replace("sales_share >= 0.1", "salse_share >= 0.1")},
     "rules/10.yaml:8:15: decision 'tier' → rule 'pareto': when: unknown name 'salse_share' (did you mean 'sales_share'?)"),
    ("type mismatch", {"10.yaml": DECISION.replace("sales_share >= 0.1", "region > 5")},
     "rules/10.yaml:8:15: decision 'tier' → rule 'pareto': when: cannot compare region (string) with 5 (number): write numbers without quotes"),
    ("string compared with number", {"10.yaml": DECISION.replace("sales_share >= 0.1", "sales == \"100\"")},
     "rules/10.yaml:8:15: decision 'tier' → rule 'pareto': when: cannot compare sales (number) with \"100\" (string): write numbers without quotes"),
    ("category value typo", {"10.yaml": DECISION.replace("sales_share >= 0.1", "customer_type == \"goverment\"")},
     "rules/10.yaml:8:32: decision 'tier' → rule 'pareto': when: 'goverment' is not a value of customer_type (values: enterprise, government) (did you mean 'government'?)"),
    ("unknown param", {"10.yaml": DECISION.replace("sales_share >= 0.1", "sales_share >= params.cutt")},
     "rules/10.yaml:8:30: decision 'tier' → rule 'pareto': when: unknown parameter 'params.cutt' (did you mean 'cut'?)"),
    ("python injection", {"10.yaml": DECISION.replace("sales_share >= 0.1", "__import__('os').system('ls')")},
     "rules/10.yaml:8:15: decision 'tier' → rule 'pareto': when: names starting with '_' are not allowed ('__import__')"),
    ("attribute access", {"10.yaml": DECISION.replace("sales_share >= 0.1", "region.__class__ == 1")},
     "rules/10.yaml:8:15: decision 'tier' → rule 'pareto': when: 'region.__class__': only params are read with a dot (params.NAME)"),
    ("function call", {"10.yaml": DECISION.replace("sales_share >= 0.1", "open('x') == 1")},
     "rules/10.yaml:8:15: decision 'tier' → rule 'pareto': when: calling 'open' is not allowed: the functions are abs, min, max, floor, coalesce and date"),
    ("lambda", {"10.yaml": DECISION.replace("sales_share >= 0.1", "'(lambda: 1)() == 1'")},
     "rules/10.yaml:8:17: decision 'tier' → rule 'pareto': when: 'lambda' is Python, not part of the rule language"),
    ("comprehension", {"10.yaml": DECISION.replace("sales_share >= 0.1", "'[x for x in sales] == 1'")},
     "rules/10.yaml:8:16: decision 'tier' → rule 'pareto': when: a list only follows 'in', as in: region in [\"north\", \"south\"]"),
    ("then unknown output", {"10.yaml": DECISION.replace("then: {tier: key}", "then: {teir: key}")},
     "rules/10.yaml:9:16: decision 'tier' → rule 'pareto': then: unknown output 'teir' (did you mean 'tier'?) (outputs: tier)"),
    ("then bad category", {"10.yaml": DECISION.replace("then: {tier: key}", "then: {tier: kye}")},
     "rules/10.yaml:9:22: decision 'tier' → rule 'pareto': then.tier: 'kye' is not one of key, standard (did you mean 'key'?)"),
    ("default in collect", {"10.yaml": DECISION.replace("hit: first", "hit: collect")},
     "rules/10.yaml:10:5: decision 'tier': default: a collect decision has no default (no match gives empty lists)"),
    ("priority without numbers", {"10.yaml": DECISION.replace("hit: first", "hit: priority")},
     "rules/10.yaml:7:9: decision 'tier' → rule 'pareto': priority: a 'priority' decision needs a whole-number priority on every rule (higher wins)"),
    ("decision cycle", {"10.yaml": """\
        decisions:
          a:
            outputs: {x: {type: category, values: [p, q]}}
            rules: [{id: r, when: y == "p", then: {x: p}}]
          b:
            outputs: {y: {type: category, values: [p, q]}}
            rules: [{id: r, when: x == "p", then: {y: p}}]
        """},
     "rules/10.yaml:2:3: decision 'a' depends on itself: a → b → a"),
    ("shadowed rule", {"10.yaml": DECISION.replace("    default:", "      - id: big\n        when: sales_share >= 0.2\n        then: {tier: key}\n    default:")},
     "rules/10.yaml:10:9: decision 'tier' → rule 'big': can never fire: rule 'pareto' comes first and matches every account this one matches (hit: first); reorder or narrow them"),
    ("shadowed by catch-all", {"10.yaml": DECISION.replace("when: sales_share >= 0.1", "when: true").replace("    default:", "      - id: big\n        when: nps > 8\n        then: {tier: key}\n    default:")},
     "rules/10.yaml:10:9: decision 'tier' → rule 'big': can never fire: rule 'pareto' comes first and matches every account this one matches (hit: first); reorder or narrow them"),
    ("collect output read as a value", {"10.yaml": """\
        decisions:
          signals:
            hit: collect
            outputs: {signal: {type: category, values: [a]}}
            rules: [{id: r, when: nps < 6, then: {signal: a}}]
          risk:
            outputs: {risk: {type: category, values: [hi, lo]}}
            rules: [{id: r, when: signal == "a", then: {risk: hi}}]
        """},
     "rules/10.yaml:8:27: decision 'risk' → rule 'r': when: 'signal' is a list from a collect decision; read its count instead"),
    ("too many comparisons for the engine", {"10.yaml": DECISION.replace("sales_share >= 0.1", " or ".join(f"nps == {i}" for i in range(60)))},
     "rules/10.yaml:8:15: decision 'tier' → rule 'pareto': when: 60 comparisons; the engine takes at most 48 in one rule: move parts into features"),
    ("too many engine branches", {"10.yaml": "decisions:\n  many:\n    hit: collect\n    outputs: {s: {type: string}}\n    rules:\n"
                                  + "".join(f"      - {{id: r{i}, when: nps >= {i} or sales >= {i}, then: {{s: x}}}}\n" for i in range(33))},
     "rules/10.yaml:2:3: decision 'many': its rules make 66 engine branches (one per rule, one per 'or' alternative); "
     "the engine takes at most 64 per decision: split it into two decisions, or move 'or' parts into features"),
    ("unknown placeholder in because", {"10.yaml": DECISION.replace("then: {tier: key}", "then: {tier: key}\n        because: 'share {sales_shar:%}'")},
     "rules/10.yaml:10:18: decision 'tier' → rule 'pareto': because (en): unknown name '{sales_shar}' (did you mean 'sales_share'?)"),
    ("table row width", {"10.yaml": """\
        decisions:
          rel:
            outputs: {rel: {type: category, values: [a, b]}}
            table:
              inputs: [region, customer_type]
              rows:
                - [north, enterprise, a]
                - [north, b]
        """},
     "rules/10.yaml:8:11: decision 'rel' → table: row 2: needs 3 cells (region, customer_type | rel), found 2"),
    ("equal band thresholds", {"10.yaml": "features:\n  x:\n    band: sales\n    bands: [{below: 10, label: low}, {below: 10, label: mid}, {label: high}]\n"},
     "rules/10.yaml:4:46: feature 'x': bands[2].below: 10 must be above the band before (10)"),
    ("priority above 60000", {"10.yaml": DECISION.replace("hit: first", "hit: priority").replace("then: {tier: key}", "then: {tier: key}\n        priority: 60001")},
     "rules/10.yaml:10:19: decision 'tier' → rule 'pareto': priority: must be between 0 and 60000"),
    ("priority below 0", {"10.yaml": DECISION.replace("hit: first", "hit: priority").replace("then: {tier: key}", "then: {tier: key}\n        priority: -1")},
     "rules/10.yaml:10:19: decision 'tier' → rule 'pareto': priority: must be between 0 and 60000"),
    ("range on a text field", {"10.yaml": "fields:\n  note: {type: string, range: [0, 1]}\n"},
     "rules/10.yaml:2:24: field 'note': range: only number and integer fields have a range"),
    ("range not a pair", {"10.yaml": "fields:\n  score: {type: number, range: 10}\n"},
     "rules/10.yaml:2:32: field 'score': range: write [lowest, highest], e.g. range: [0, 10] (null for no bound)"),
    ("range upside down", {"10.yaml": "fields:\n  score: {type: number, range: [10, 0]}\n"},
     "rules/10.yaml:2:32: field 'score': range: the lowest value 10 is above the highest 0"),
    ("param nan", {"10.yaml": "params:\n  x: .nan\n"},
     "rules/10.yaml:2:6: '.nan' is not a number a rule can use; leave the value out instead"),
    ("param inf", {"10.yaml": "params:\n  x: {value: -.inf}\n"},
     "rules/10.yaml:2:14: the number is beyond ±1,000,000,000,000,000 (or infinite); no parameter or output needs that"),
    ("table cell: in without brackets", {"10.yaml": TABLE.format(cell="in north")},
     "rules/10.yaml:7:12: decision 'rel' → table: row 1: region: 'in north': write a list in brackets, as in: in [a, b]"),
    ("table cell: empty list item", {"10.yaml": TABLE.format(cell="'in [north, , south]'")},
     "rules/10.yaml:7:12: decision 'rel' → table: row 1: region: [north, , south]: a list holds one or more values separated by commas, as in [a, b]"),
    ("table cell: open quote in a list", {"10.yaml": TABLE.format(cell="'in [\"north]'")},
     "rules/10.yaml:7:12: decision 'rel' → table: row 1: region: [\"north]: a quote is not closed"),
    ("table cell: comparison without value", {"10.yaml": TABLE.format(cell="'>'")},
     "rules/10.yaml:7:12: decision 'rel' → table: row 1: region: a comparison in a cell needs a value, as in '> 0.3'"),
    ("table cell: word for a number", {"10.yaml": TABLE.format(cell="north").replace("[region,", "[nps,")},
     "rules/10.yaml:7:12: decision 'rel' → table: row 1: nps: 'north' is not a value: a cell holds a value, params.NAME or a condition such as '> 0.3'"),
    ("table cell: category value outside its values", {"10.yaml": TABLE.format(cell="'in [enterprise, goverment]'").replace("[region,", "[customer_type,")},
     "rules/10.yaml:7:11: decision 'rel' → rule 'row1': when: 'goverment' is not a value of customer_type (values: enterprise, government) (did you mean 'government'?)"),
    ("missing output in then", {"10.yaml": DECISION.replace("tier: {type: category, values: [key, standard]}", "tier: {type: category, values: [key, standard]}\n      basis: {type: string}").replace("default: {tier: standard}", "default: {tier: standard, basis: none}")},
     "rules/10.yaml:10:15: decision 'tier' → rule 'pareto': then: sets no value for 'basis': every rule sets every output"),
]


@pytest.mark.parametrize("files, expected", [c[1:] for c in BROKEN], ids=[c[0] for c in BROKEN])
def test_broken_pack_message(tmp_path, files, expected):
    assert errors_of(tmp_path, {"00.yaml": FIELDS, **files}) == expected


def test_broken_table_has_at_least_25_cases():
    assert len(BROKEN) >= 25


def test_all_errors_in_all_files_are_reported(tmp_path):
    message = errors_of(tmp_path, {
        "00.yaml": FIELDS,
        "10.yaml": "features:\n  x: {share_of: salse}\n",
        "20.yaml": DECISION.replace("hit: first", "hit: frist").replace("sales_share:", "sales_share2:"),
    })
    assert message.splitlines() == [
        "rules/10.yaml:2:17: feature 'x': share_of: unknown name 'salse' (did you mean 'sales'?)",
        "rules/20.yaml:3:10: decision 'tier': hit: 'frist' is not one of first, unique, priority, collect (did you mean 'first'?)",
    ]


def test_unknown_keys_warn_and_fail_with_strict(tmp_path):
    files = {"00.yaml": FIELDS, "10.yaml": DECISION.replace("      - id: pareto\n", "      - id: pareto\n        wen: nps > 1\n")}
    pack = load(tmp_path, files)
    assert [str(w) for w in pack.warnings] == [
        "rules/10.yaml:8:9: warning: decision 'tier' → rule 'pareto': unknown key 'wen' (did you mean 'when'?); it is ignored"
    ]
    assert errors_of(tmp_path, files, strict=True) == (
        "rules/10.yaml:8:9: decision 'tier' → rule 'pareto': unknown key 'wen' (did you mean 'when'?); it is ignored (an error with --strict)"
    )


def test_priority_outside_a_priority_decision_warns_and_is_not_kept(tmp_path):
    files = {"00.yaml": FIELDS, "10.yaml": DECISION.replace("then: {tier: key}", "then: {tier: key}\n        priority: 7")}
    pack = load(tmp_path, files)
    assert [str(w) for w in pack.warnings] == [
        "rules/10.yaml:10:9: warning: decision 'tier' → rule 'pareto': priority: only 'priority' decisions use it; it is ignored"
    ]
    assert pack.decision("tier").rules[0].priority == 0
    ranked = load(tmp_path, {"00.yaml": FIELDS, "10.yaml": files["10.yaml"].replace("hit: first", "hit: priority")})
    assert ranked.warnings == [] and ranked.decision("tier").rules[0].priority == 7


def test_missing_folder_and_empty_folder(tmp_path):
    with pytest.raises(ConfigError, match="no such rule pack folder"):
        load_pack(Path("nope"))
    Path("empty").mkdir()
    with pytest.raises(ConfigError, match=r"empty: no rule files \(\*\.yaml\) in this folder"):
        load_pack(Path("empty"))


def test_valid_pack_loads_in_dependency_order(tmp_path):
    pack = load(tmp_path, {"00.yaml": FIELDS, "10.yaml": """\
        decisions:
          risk:
            outputs: {risk: {type: category, values: [hi, lo]}}
            rules: [{id: r, when: tier == "key" and signals_count >= 1, then: {risk: hi}}]
            default: {risk: lo}
          signals:
            hit: collect
            outputs: {signal: {type: category, values: [decline]}}
            rules: [{id: decline, when: growth <= -params.decline, then: {signal: decline}}]
        features:
          growth: {expr: (sales - sales_prev) / sales_prev}
        """, "20.yaml": DECISION})
    assert [d.id for d in pack.decisions] == ["signals", "tier", "risk"]
    assert pack.decision("risk").reads == {"tier", "signals_count"}


def test_pack_hash_changes_with_content(tmp_path):
    first = load(tmp_path, {"00.yaml": FIELDS, "10.yaml": DECISION}).hash
    second = load(tmp_path, {"00.yaml": FIELDS, "10.yaml": DECISION.replace("0.1", "0.2")}).hash
    assert first != second and len(first) == 16


def test_table_form_builds_one_rule_per_row(tmp_path):
    pack = load(tmp_path, {"00.yaml": FIELDS, "10.yaml": """\
        decisions:
          rel:
            hit: unique
            outputs: {rel: {type: category, values: [a, b, c]}}
            table:
              inputs: [customer_type, nps]
              rows:
                - [enterprise, ">= 9", a]
                - [enterprise, "< 9", b]
                - [government, "-", c]
        """})
    rules = pack.decision("rel").rules
    assert [r.id for r in rules] == ["row1", "row2", "row3"]
    assert [r.when_text for r in rules] == [
        'customer_type == "enterprise" and nps >= 9',
        'customer_type == "enterprise" and nps < 9',
        'customer_type == "government"',
    ]


def test_table_cells_are_built_into_the_tree_without_a_text_round_trip(tmp_path):
    pack = load(tmp_path, {"00.yaml": FIELDS, "10.yaml": """\
        decisions:
          rel:
            hit: first
            outputs: {rel: {type: category, values: [a, b, c, d]}}
            table:
              inputs: [region, customer_type, nps]
              rows:
                - ['North\\East', "-", "-", a]
                - ["in [north, 'south, west']", "not in [government]", "> 3", b]
                - ["-", "in [enterprise, government]", "in [1, 2]", c]
                - ["-", "-", is not missing, d]
        """})
    backslash, listed, numbers, present = (r.when for r in pack.decision("rel").rules)
    assert ex.eval_condition(backslash, {"region": "North\\East"}) is True
    assert ex.eval_condition(backslash, {"region": "NorthEast"}) is False
    assert [ex.eval_condition(listed, {"region": r, "customer_type": "enterprise", "nps": 5})
            for r in ("north", "south, west", "south", "west")] == [True, True, False, False]
    assert ex.eval_condition(listed, {"region": "north", "customer_type": "government", "nps": 5}) is False
    assert [ex.eval_condition(numbers, {"customer_type": "government", "nps": n}) for n in (1, 2, 3)] == [True, True, False]
    assert ex.eval_condition(present, {"nps": None}) is False
    assert pack.decision("rel").rules[1].when_text == (
        '(region == "north" or region == "south, west") and (not (customer_type == "government")) and nps > 3')


def test_a_decision_reading_more_than_240_names_is_rejected(tmp_path):
    fields = "fields:\n" + "".join(f"  f{i}: {{type: number}}\n" for i in range(246))
    rules = "".join(
        f"      - {{id: r{k}, when: '{' and '.join(f'f{i} > 0' for i in range(k * 41, k * 41 + 41))}', then: {{s: x}}}}\n"
        for k in range(6))
    decision = f"decisions:\n  many:\n    hit: collect\n    outputs: {{s: {{type: string}}}}\n    rules:\n{rules}"
    assert errors_of(tmp_path, {"00.yaml": fields, "10.yaml": decision}) == (
        "rules/10.yaml:2:3: decision 'many': reads 246 names; the engine takes at most 240: split the decision")
    rules_240 = "".join(
        f"      - {{id: r{k}, when: '{' and '.join(f'f{i} > 0' for i in range(k * 40, k * 40 + 40))}', then: {{s: x}}}}\n"
        for k in range(6))
    at_limit = load(tmp_path, {"00.yaml": fields, "10.yaml": decision.replace(rules, rules_240)})  # 240 is allowed
    assert at_limit.decision("many").reads == {f"f{i}" for i in range(240)}


def test_an_unquoted_colon_in_a_text_gives_one_message_with_a_hint(tmp_path):
    broken = FIELDS.replace("  region: {type: string}\n", "  region: {type: string}\n  note:\n    type: string\n    description: Pareto: top 80%\n")
    assert errors_of(tmp_path, {"00.yaml": broken, "10.yaml": DECISION}) == (
        'rules/00.yaml:8:24: YAML: a \': \' inside a text that is not in quotes (quote the text, as in description: "Pareto: top 80%")')
    slip = DECISION.replace("then: {tier: key}", 'then: {tier: key}\n        because: Pareto: top 80% of "sales"')
    assert errors_of(tmp_path, {"00.yaml": FIELDS, "10.yaml": slip}) == (
        'rules/10.yaml:10:24: YAML: a \': \' inside a text that is not in quotes (quote the text, as in because: "Pareto: top 80% of \\"sales\\"")')
    # the fields file is unreadable: the decision's names are unknown, but only the YAML slip is reported


def test_a_bare_word_compared_with_a_text_is_told_to_take_quotes(tmp_path):
    files = {"00.yaml": FIELDS, "10.yaml": DECISION.replace("sales_share >= 0.1", "region == Energy")}
    assert errors_of(tmp_path, files) == ("rules/10.yaml:8:25: decision 'tier' → rule 'pareto': when: unknown name 'Energy': "
                                          'a text value needs quotes, as in region == "Energy"')
    files = {"00.yaml": FIELDS, "10.yaml": DECISION.replace("sales_share >= 0.1", "North != region")}
    assert errors_of(tmp_path, files) == ("rules/10.yaml:8:15: decision 'tier' → rule 'pareto': when: unknown name 'North': "
                                          'a text value needs quotes, as in "North" != region')
    # a misspelt name keeps its did-you-mean
    files = {"00.yaml": FIELDS, "10.yaml": DECISION.replace("sales_share >= 0.1", "region == regoin")}
    assert errors_of(tmp_path, files) == ("rules/10.yaml:8:25: decision 'tier' → rule 'pareto': when: unknown name 'regoin' "
                                          "(did you mean 'region'?)")


def test_rules_without_data_lists_rules_that_cannot_fire(tmp_path):
    pack = load(tmp_path, {"00.yaml": FIELDS, "10.yaml": """\
        features:
          growth: {expr: (sales - sales_prev) / sales_prev}
        decisions:
          signals:
            hit: collect
            outputs: {signal: {type: category, values: [decline, no_nps]}}
            rules:
              - {id: decline, when: growth <= -0.2, then: {signal: decline}}
              - {id: no_nps, when: nps is missing, then: {signal: no_nps}}
        """})
    assert rules_without_data(pack, ["account_id", "sales"]) == [("signals", "decline", ["sales_prev"])]


def test_pack_roles_name_a_teams_own_outputs_and_default_to_the_default_names(tmp_path):
    from conftest import write_pack

    base = (
        "fields:\n  account_id: {type: string, required: true}\n  revenue: number\n"
        "decisions:\n  segment:\n    hit: first\n    outputs: {segment: {type: category, values: [big]}}\n"
        "    rules:\n      - {id: big, when: 'revenue > 10', then: {segment: big}}\n"
    )
    pack = load_pack(write_pack(tmp_path / "plain", {"p.yaml": base}))
    assert pack.role("tier") is None and pack.role("sales") is None
    roles = "pack:\n  name: team\n  roles: {tier: segment, sales: revenue}\n"
    pack = load_pack(write_pack(tmp_path / "roles", {"p.yaml": roles + base}))
    assert pack.role("tier") == "segment" and pack.role("sales") == "revenue"


def test_pack_roles_must_name_something_the_pack_defines(tmp_path):
    from conftest import write_pack

    text = (
        "pack:\n  roles: {tier: segmnt, tiers: segment}\n"
        "fields:\n  account_id: {type: string, required: true}\n"
        "decisions:\n  segment:\n    hit: first\n    outputs: {segment: {type: category, values: [big]}}\n"
        "    rules:\n      - {id: all, when: 'account_id is not missing', then: {segment: big}}\n"
    )
    with pytest.raises(RuleError) as info:
        load_pack(write_pack(tmp_path / "bad", {"p.yaml": text}), strict=True)
    message = str(info.value)
    assert "bad/p.yaml:2:17: pack: roles: tier: 'segmnt' is not a field, feature, score or output of this pack (did you mean 'segment'?)" in message
    assert "bad/p.yaml:2:25: pack: roles: unknown role 'tiers' (did you mean 'tier'?) (an error with --strict)" in message
