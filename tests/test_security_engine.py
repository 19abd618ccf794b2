"""Hardening, round 3 (issue #29): the engine's own traps, the condition language's depth, digits,
`--set`, dates far apart and the template budget. See docs/security.md and docs/engine-traps.md."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from kamrules.errors import RuleError

from conftest import ROOT, decided_masks, write_pack
from test_security import DATA, RULES, app, runner


# ------------------------------------------------------------------ 10. long chains of operators


def _chain(count: int, op: str = "+", term: str = "1") -> str:
    return f" {op} ".join([term] * count)


def _deep_pack(folder: Path, chain: str) -> Path:
    """The basic pack with a feature, a rule and a `because` reading a chain as deep as `chain`."""
    pack = folder / "rules"
    shutil.copytree(RULES, pack)
    features = pack / "10-features.yaml"
    features.write_text(features.read_text(encoding="utf-8") + f"  deep: {{expr: '{chain}'}}\n", encoding="utf-8")
    decisions = pack / "20-decisions.yaml"
    text = decisions.read_text(encoding="utf-8")
    decisions.write_text(text.replace("when: strategic_project", f"when: 'sales + {chain} > deep'", 1),
                         encoding="utf-8")
    return pack


# the deepest trees the guard lets through: a left-deep chain (each operator one level), a chain
# under the 40 parentheses the text guard allows, a product inside a sum, subtraction
DEEPEST = [
    _chain(98),
    "(" * 39 + _chain(59, "-", "sales") + ")" * 39,
    _chain(48, "+", "sales * 2"),
    _chain(97, "-", "nps"),
]


@pytest.mark.parametrize("chain", DEEPEST)
def test_the_deepest_expressions_allowed_go_through_every_path(tmp_path, chain):
    """Loading (types), features (vecsem), both engine paths (compiler, hashing nodes), explain
    (rowsem, describe), validate (analysis), a what-if and the playbooks all walk the deepest trees."""
    from kamrules.engine.evaluate import evaluate
    from kamrules.language import expr as ex
    from kamrules.pack import load_pack

    pack_dir = _deep_pack(tmp_path, chain)
    pack = load_pack(pack_dir)
    assert ex.describe(ex.parse(chain))
    from kamrules.data.reader import read_table
    import datetime as dt

    frame = read_table(DATA, list(pack.fields.values())).frame
    fast = evaluate(pack, frame.copy(), as_of=dt.date(2026, 11, 27))
    slow = evaluate(pack, frame.copy(), as_of=dt.date(2026, 11, 27), per_account=True)
    assert {d.id: decided_masks(fast, d.id) for d in pack.decisions} == {d.id: decided_masks(slow, d.id) for d in pack.decisions}
    common = ["--rules", str(pack_dir), "--as-of", "2026-11-27"]
    for args in (["evaluate", str(DATA), *common, "--out", "out", "-q", "--where", f"sales + {chain} > 0"],
                 ["explain", str(DATA), "00042", *common, "--verbose"],
                 ["validate", str(pack_dir), "--data", str(DATA)],
                 ["diff", str(DATA), *common, "--set", "decline=0.3", "--out", "d", "-q"]):
        result = runner.invoke(app, args)
        assert result.exit_code in (0, 1), (args[0], result.output)  # (validate: findings are exit 1)
        assert "this is a bug" not in result.output and "RecursionError" not in result.output


@pytest.mark.parametrize("count", [101, 1_000, 1_900])
def test_a_chain_too_deep_is_a_rule_error_at_its_place(tmp_path, count):
    pack = _deep_pack(tmp_path, "+".join(["1"] * count))  # (1,900 operators fit in the 4,000 characters)
    from kamrules.pack import load_pack

    with pytest.raises(RuleError) as caught:
        load_pack(pack)
    message = str(caught.value)
    assert re.search(r"10-features\.yaml:\d+:\d+: feature 'deep'.*more than 100 operators deep", message), message
    assert re.search(r"20-decisions\.yaml:\d+:\d+: decision 'tier' → rule 'strategic'.*more than 100 operators deep",
                     message), message


def test_a_where_too_deep_is_a_usage_error():
    where = "sales > " + "+".join(["1"] * 1_500)
    result = runner.invoke(app, ["evaluate", str(DATA), "--rules", str(RULES), "--as-of", "2026-11-27", "-q",
                                 "--out", "out", "--where", where])
    assert result.exit_code == 2, result.output
    # the caret under the operator 100 levels below the top: the 1,401st '+' of 1,499
    assert result.output == ("error:\n--where: the expression is more than 100 operators deep (each operator of a "
                             "chain such as a + b + c counts): compute parts of it as features\n"
                             f"  {where}\n  {' ' * (len('sales > ') + 2 * 1_401 - 1)}^\n")


# ------------------------------------------------------------------ 11. only ASCII and full-width digits


def _read_csv(tmp_path: Path, header: str, cell: str, lang: str = "en"):
    from kamrules.data.options import ReadOptions
    from kamrules.data.reader import read_table
    from kamrules.pack import load_pack

    path = tmp_path / "c.csv"
    path.write_text(f"account_id,account_name,{header}\nA1,N1,{cell}\n", encoding="utf-8")
    return read_table(path, list(load_pack(RULES).fields.values()), ReadOptions(lang=lang))


@pytest.mark.parametrize("cell, char", [
    ("1200¹", "'¹' (U+00B9 SUPERSCRIPT ONE)"),
    ("5⁰", "'⁰' (U+2070 SUPERSCRIPT ZERO)"),
    ("①②", "'①' (U+2460 CIRCLED DIGIT ONE)"),
    ("⑩", "'⑩' (U+2469 CIRCLED NUMBER TEN)"),
    ("𝟏𝟐𝟑", "'𝟏' (U+1D7CF MATHEMATICAL BOLD DIGIT ONE)"),
    ("١٢٣", "'١' (U+0661 ARABIC-INDIC DIGIT ONE)"),
    ("¥1200²", "'²' (U+00B2 SUPERSCRIPT TWO)"),
    ("½", "'½' (U+00BD VULGAR FRACTION ONE HALF)"),
])
def test_digits_of_other_forms_are_not_read_as_digits(tmp_path, cell, char):
    from kamrules.errors import DataError

    with pytest.raises(DataError) as caught:
        _read_csv(tmp_path, "sales", cell)
    assert str(caught.value) == (
        f"{tmp_path / 'c.csv'}: row 2, column 'sales' (field sales): '{cell}' is not a number: {char} is not a digit "
        "(digits are 0-9 and full-width ０-９; remove footnote marks and circled numbers); fix the cell or pass "
        "--on-bad-value missing")


def test_an_odd_digit_is_named_in_chinese_too(tmp_path):
    from kamrules.errors import DataError

    with pytest.raises(DataError) as caught:
        _read_csv(tmp_path, "sales", "1200¹", lang="zh")
    assert "不是数字：'¹' (U+00B9 SUPERSCRIPT ONE) 不是数字字符" in str(caught.value)


@pytest.mark.parametrize("cell, value", [("１２３", 123.0), ("1,200", 1200.0), ("12万", 120_000.0), ("¥１,２００", 1200.0)])
def test_ascii_and_full_width_digits_and_chinese_units_still_read(tmp_path, cell, value):
    assert _read_csv(tmp_path, "sales", f'"{cell}"').frame["sales"].tolist() == [value]


@pytest.mark.parametrize("cell", ["٢٠٢٦-01-01", "2026-0¹-01", "𝟐𝟎𝟐𝟔-01-01", "2026年①月1日"])
def test_dates_with_odd_digits_are_not_dates(tmp_path, cell):
    from kamrules.errors import DataError

    pack = tmp_path / "rules"
    shutil.copytree(RULES, pack)
    fields = pack / "00-fields.yaml"
    fields.write_text(fields.read_text(encoding="utf-8").replace("  nps:", "  last_visit: {type: date}\n  nps:"),
                      encoding="utf-8")
    from kamrules.data.reader import read_table
    from kamrules.pack import load_pack

    path = tmp_path / "c.csv"
    path.write_text(f"account_id,sales,last_visit\nA1,5,{cell}\n", encoding="utf-8")
    with pytest.raises(DataError) as caught:
        read_table(path, list(load_pack(pack).fields.values()))
    assert f"'{cell}' is not a date: '" in str(caught.value)
    assert "is not a digit (digits are 0-9 and full-width ０-９)" in str(caught.value)
    path.write_text("account_id,sales,last_visit\nA1,5,２０２６-０１-３１\n", encoding="utf-8")
    assert str(read_table(path, list(load_pack(pack).fields.values())).frame["last_visit"][0].date()) == "2026-01-31"


@pytest.mark.filterwarnings("ignore:Could not infer format")  # (pandas, on a column of mixed texts)
def test_date_texts_handed_to_evaluate_read_only_ascii_and_full_width_digits(tmp_path):
    """A library frame or a test case's facts hold dates as texts; pandas reads '٢٠٢٦-01-01' and
    '𝟐𝟎𝟐𝟔-01-01' as dates, kamrules does not (they are missing, as in any other number or date)."""
    import datetime as dt

    import pandas as pd

    from kamrules.engine.evaluate import evaluate
    from kamrules.pack import load_pack

    pack_dir = tmp_path / "rules"
    shutil.copytree(RULES, pack_dir)
    write_pack(pack_dir, {"30-days.yaml": DAYS_PACK})
    pack = load_pack(pack_dir)
    texts = ["٢٠٢٦-01-01", "𝟐𝟎𝟐𝟔-01-01", "２０２６-01-01", "2026-01-01"]
    frame = pd.DataFrame({"account_id": [f"A{i}" for i in range(4)], "sales": [1.0] * 4,
                          "last_contact": pd.Series(texts, dtype=object)})
    since = evaluate(pack, frame, as_of=dt.date(2026, 1, 11)).table["since_contact"].tolist()
    assert [None if v != v else v for v in since] == [None, None, 10.0, 10.0]


def test_a_condition_reads_ascii_digits_only(tmp_path):
    from kamrules.language import expr as ex

    assert ex.parse("sales > 100") == ex.parse("sales > 1_00")
    with pytest.raises(ex.ExprError):  # '١٠٠' is a name here, not the number 100: an unknown name
        ex.Resolver({"sales": ex.Symbol("sales", ex.NUMBER, "field")}, {}).condition(ex.parse("sales > ١٠٠"))


# ------------------------------------------------------------------ 13. --set takes what the pack file takes

PARAMS_PACK = """\
params:
  focus: government
  hours_min: {value: 2, range: [0, 744]}
  share_cut: {value: 0.8, range: [0, 1]}
  full_time: {value: 160, range: [1, null]}
"""
FOCUS_RULE = """\
decisions:
  focus:
    hit: first
    outputs: {focus: {type: category, values: [yes, no]}}
    rules:
      - {id: chosen, when: customer_type == params.focus and sales_cum_share <= params.share_cut, then: {focus: "yes"}}
      - {id: hours, when: sales > params.hours_min * params.full_time, then: {focus: "no"}}
    default: {focus: "no"}
"""


def _params_pack(folder: Path, params: str = PARAMS_PACK) -> Path:
    pack = folder / "rules"
    shutil.copytree(RULES, pack)
    write_pack(pack, {"30-params.yaml": params, "40-focus.yaml": FOCUS_RULE})
    return pack


# (--set NAME=VALUE, the same value in the pack file, the one message both give)
REFUSED = [
    ("hours_min=1e-320", "hours_min: {value: 1.0e-320, range: [0, 744]}",
     "1e-320 is closer to 0 than the 9 decimals numbers keep: it would be 0; write 0 if that is meant"),
    ("hours_min=-5", "hours_min: {value: -5, range: [0, 744]}", "-5 is outside the param's range [0, 744]"),
    ("share_cut=1e308", "share_cut: {value: 1.0e+308, range: [0, 1]}",
     "the number is beyond ±1,000,000,000,000,000 (or infinite); no parameter or output needs that"),
    ("share_cut=1.5", "share_cut: {value: 1.5, range: [0, 1]}", "1.5 is outside the param's range [0, 1]"),
    ("full_time=0", "full_time: {value: 0, range: [1, null]}", "0 is outside the param's range [1, no limit]"),
    ("focus=governmnt", "focus: governmnt",
     "'governmnt' is not a value of customer_type (values: enterprise, government, retailer) (did you mean 'government'?)"),
    ("focus=ENTERPRISE", "focus: ENTERPRISE",
     "'ENTERPRISE' is not a value of customer_type (values: enterprise, government, retailer) (did you mean 'enterprise'?)"),
    ("focus=政府", "focus: 政府", "'政府' is not a value of customer_type (values: enterprise, government, retailer)"),
]


@pytest.mark.parametrize("setting, in_file, problem", REFUSED)
def test_set_refuses_exactly_what_the_pack_file_refuses(tmp_path, setting, in_file, problem):
    from kamrules.pack import load_pack

    name = setting.split("=")[0]
    lines = [line if not line.startswith(f"  {name}:") else f"  {in_file}" for line in PARAMS_PACK.splitlines()]
    with pytest.raises(RuleError) as caught:
        load_pack(_params_pack(tmp_path / "file", "\n".join(lines) + "\n"))
    assert str(caught.value).splitlines()[0].endswith(problem), str(caught.value)
    pack = _params_pack(tmp_path)
    for command in (["evaluate", str(DATA), "--out", "out", "-q"], ["explain", str(DATA), "00042"], ["diff", str(DATA)]):
        result = runner.invoke(app, [*command, "--rules", str(pack), "--as-of", "2026-11-27", "--set", setting])
        assert result.exit_code == 2, result.output
        assert result.output == f"error: --set {setting}: {problem}\n"


@pytest.mark.parametrize("setting, value", [("hours_min=0", 0.0), ("hours_min=744", 744.0), ("share_cut=75%", 0.75),
                                            ("focus=retailer", "retailer"), ("full_time=１６８", 168.0)])
def test_set_takes_values_within_the_declared_range(tmp_path, setting, value):
    from kamrules.pack import load_pack
    from kamrules.pack.whatif import with_params

    changed = with_params(load_pack(_params_pack(tmp_path)), [setting])
    assert changed.params[setting.split("=")[0]].value == value


@pytest.mark.parametrize("params, message", [
    ("params:\n  label: {value: north, range: [0, 1]}\n",
     "rules/30-params.yaml:2:18: param 'label': only number params have a range; this one is a string"),
    ("params:\n  cut: {value: 0.5, range: [1, 0]}\n",
     "rules/30-params.yaml:2:28: param 'cut': range: the lowest value 1 is above the highest 0"),
    ("params:\n  cut: {value: 0.5, range: 1}\n",
     "rules/30-params.yaml:2:28: param 'cut': range: write [lowest, highest], e.g. range: [0, 10] (null for no bound)"),
])
def test_a_param_range_is_checked_like_a_field_range(tmp_path, params, message):
    from kamrules.pack import load_pack

    pack = tmp_path / "rules"
    shutil.copytree(RULES, pack)
    write_pack(pack, {"30-params.yaml": params})
    with pytest.raises(RuleError) as caught:
        load_pack(Path("rules"))
    assert str(caught.value) == message


# ------------------------------------------------------------------ 14. dates more than 292 years apart

DAYS_PACK = """\
fields:
  last_contact: {type: date}
features:
  since_contact: {days_since: last_contact}
  until_contact: {days_until: last_contact}
decisions:
  stale:
    hit: first
    outputs: {stale: {type: category, values: ["yes", "no"]}}
    rules:
      - {id: old, when: since_contact > 100000, then: {stale: "yes"}}
      - {id: ahead, when: until_contact > 100000, then: {stale: "no"}}
"""


@pytest.mark.parametrize("as_of", ["1800-01-01", "1900-01-01", "2199-12-31"])
def test_days_since_and_until_span_the_dates_kamrules_holds(tmp_path, as_of):
    """A timestamp difference overflows past ±292 years (OverflowError, exit 3); days do not."""
    import datetime as dt

    from kamrules.engine.evaluate import evaluate
    from kamrules.pack import load_pack

    import pandas as pd

    pack_dir = tmp_path / "rules"
    shutil.copytree(RULES, pack_dir)
    write_pack(pack_dir, {"30-days.yaml": DAYS_PACK})
    pack = load_pack(pack_dir)
    dates = ["1678-01-01", "2199-12-31", "2261-12-31", None, "2026-11-27"]
    frame = pd.DataFrame({"account_id": [f"A{i}" for i in range(5)], "sales": [1.0] * 5,
                          "last_contact": pd.to_datetime(dates)})
    day = dt.date.fromisoformat(as_of)
    expected = [float((day - dt.date.fromisoformat(d)).days) if d else None for d in dates]
    for per_account in (False, True):
        evaluation = evaluate(pack, frame.copy(), as_of=day, per_account=per_account)
        since = [None if v != v else v for v in evaluation.table["since_contact"].tolist()]
        until = [None if v != v else v for v in evaluation.table["until_contact"].tolist()]
        assert since == expected and until == [None if v is None else -v for v in expected]
    path = tmp_path / "far.csv"
    path.write_text("account_id,sales,last_contact\nA1,1,2199-12-31\nA2,1,1800-01-02\n", encoding="utf-8")
    result = runner.invoke(app, ["evaluate", str(path), "--rules", str(pack_dir), "--as-of", as_of, "--out", "out", "-q"])
    assert result.exit_code == 0, result.output


def test_dates_beyond_those_kamrules_holds_are_refused_in_conditions_params_and_set(tmp_path):
    from kamrules.pack import load_pack

    pack_dir = tmp_path / "rules"
    shutil.copytree(RULES, pack_dir)
    write_pack(pack_dir, {"30-days.yaml": DAYS_PACK.replace("since_contact > 100000", 'last_contact < date("9999-12-31")')
                          + "params:\n  cutoff: 0001-01-01\n"})
    with pytest.raises(RuleError) as caught:
        load_pack(Path("rules"))
    assert str(caught.value) == (
        "rules/30-days.yaml:11:45: decision 'stale' → rule 'old': when: 9999-12-31 is outside the dates kamrules "
        "holds (1678-2261); write a date within them\n"
        "rules/30-days.yaml:14:11: param 'cutoff': 0001-01-01 is outside the dates kamrules holds (1678-2261); "
        "write a date within them")
    write_pack(pack_dir, {"30-days.yaml": DAYS_PACK + "params:\n  cutoff: 2026-01-01\n"})
    result = runner.invoke(app, ["evaluate", str(DATA), "--rules", str(pack_dir), "--as-of", "2026-11-27",
                                 "--set", "cutoff=9999-12-31", "--out", "out", "-q"])
    assert result.exit_code == 2
    assert result.output == ("error: --set cutoff=9999-12-31: 9999-12-31 is outside the dates kamrules holds "
                             "(1678-2261); write a date within them\n")


def test_a_due_date_past_year_9999_is_missing_not_a_crash(tmp_path):
    pack_dir = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", pack_dir)
    service = pack_dir / "60-service.yaml"
    service.write_text(service.read_text(encoding="utf-8").replace("review_every_days: 365", "review_every_days: 5000000"),
                       encoding="utf-8")
    actions = pack_dir / "90-actions.yaml"
    text = actions.read_text(encoding="utf-8")
    assert "action_due_days: 30\n" in text
    actions.write_text(text.replace("action_due_days: 30\n", "action_due_days: 9000000\n"), encoding="utf-8")
    data = ROOT / "examples" / "customers.csv"
    result = runner.invoke(app, ["evaluate", str(data), "--rules", str(pack_dir), "--as-of", "2026-11-27",
                                 "--out", "out", "-q"])
    assert result.exit_code == 0, result.output
    import csv

    with open(tmp_path / "out" / "actions.csv", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    far = [row for row in rows if row["action_due_days"] == "9000000"]
    assert far and all(row["action_due_date"] == "" for row in far)
    assert all(row["action_due_date"] for row in rows if row["action_due_days"] not in ("", "9000000"))
    result = runner.invoke(app, ["validate", str(pack_dir)])
    assert "this is a bug" not in result.output


# ------------------------------------------------------------------ 1. names the engine confuses (32-bit hashes)

COLLIDING = """\
fields:
  account_id: {type: string, required: true}
  utuokim: {type: number}
  hwoaoeu: {type: number}
decisions:
  d:
    hit: first
    outputs: {o: {type: category, values: [a, b]}}
    rules:
      - {id: big, when: utuokim > 5, then: {o: a}}
    default: {o: b}
"""


def test_the_engine_hash_is_the_cores_fnv1a_of_signed_chars():
    from kamrules.pack.core_traps import engine_hash

    assert engine_hash("utuokim") == engine_hash("hwoaoeu") == 17623579
    # the core's own constants (src/rules/rete.c, state.h)
    assert [engine_hash(w) for w in ("id", "sid", "$and", "$m", "$gt", "$div")] == [
        926444256, 3593476751, 3746487396, 1690058490, 507407960, 130502]
    assert engine_hash("é") == ((((0x811C9DC5 ^ 0xFFFFFFC3) * 16777619) & 0xFFFFFFFF ^ 0xFFFFFFA9) * 16777619) & 0xFFFFFFFF


def test_two_names_with_one_engine_hash_are_refused_naming_both(tmp_path):
    from kamrules.pack import load_pack

    write_pack(tmp_path / "rules", {"10.yaml": COLLIDING})
    with pytest.raises(RuleError) as caught:
        load_pack(Path("rules"))
    assert str(caught.value) == (
        "rules/10.yaml:4:3: field 'hwoaoeu' and field 'utuokim' (at rules/10.yaml:3:3) look alike to durable_rules, "
        "which tells names apart only by a 32-bit hash (both 17623579): rename one of them")


@pytest.mark.parametrize("name, word, where", [
    ("bdpvek9", "id", "field"), ("phjrejs", "sid", "field"), ("k7m5bci", "_kam", "feature"),
    ("po1xdbk", "$and", "output"), ("r1yxjdu", "$m", "output")])
def test_a_name_with_the_hash_of_an_engine_word_is_refused(tmp_path, name, word, where):
    from kamrules.pack import load_pack

    text = COLLIDING.replace("  hwoaoeu: {type: number}\n", "")
    if where == "field":
        text = text.replace("  utuokim: {type: number}\n", f"  utuokim: {{type: number}}\n  {name}: {{type: number}}\n")
    elif where == "feature":
        text += f"features:\n  {name}: {{expr: utuokim * 2}}\n"
    else:
        text = text.replace("outputs: {o: {type: category, values: [a, b]}}",
                            f"outputs: {{o: {{type: category, values: [a, b]}}, {name}: {{type: number}}}}")
        text = text.replace("then: {o: a}", f"then: {{o: a, {name}: 1}}").replace("default: {o: b}", f"default: {{o: b, {name}: 0}}")
    write_pack(tmp_path / "rules", {"10.yaml": text})
    with pytest.raises(RuleError) as caught:
        load_pack(Path("rules"))
    assert re.fullmatch(rf"rules/10\.yaml:\d+:\d+: {where} '{name}' looks like the engine's own '{re.escape(word)}' to "
                        r"durable_rules, which tells names apart only by a 32-bit hash \(both \d+\): rename it",
                        str(caught.value)), str(caught.value)


def test_hidden_columns_are_named_to_collide_with_nothing_the_decision_reads(tmp_path):
    """`hl5dbbf` has the hash of `_x0`, the first hidden column's usual name: the compiler skips it,
    and both engine paths give what the condition means."""
    import datetime as dt

    import pandas as pd

    from kamrules.engine.durable import compile_decision
    from kamrules.engine.evaluate import evaluate
    from kamrules.pack import load_pack
    from kamrules.pack.core_traps import engine_hash

    text = COLLIDING.replace("hwoaoeu", "hl5dbbf").replace("when: utuokim > 5", "when: utuokim + 1 > hl5dbbf")
    pack = load_pack(write_pack(tmp_path / "rules", {"10.yaml": text}))
    compiled = compile_decision(pack.decisions[0], pack.hash)
    assert engine_hash("hl5dbbf") == engine_hash("_x0") and list(compiled.hidden) == ["_x1"]
    frame = pd.DataFrame({"account_id": ["A", "B", "C"], "utuokim": [1.0, 10.0, None], "hl5dbbf": [5.0, 5.0, 1.0]})
    for per_account in (False, True):
        evaluation = evaluate(pack, frame.copy(), as_of=dt.date(2026, 1, 1), per_account=per_account)
        assert evaluation.table["o"].tolist() == ["b", "a", "b"]


# ------------------------------------------------------------------ 2. texts longer than the engine compares

TEXTS = """\
fields:
  account_id: {type: string, required: true}
  region: {type: string}
  other: {type: string}
  note: {type: string}
decisions:
  d:
    hit: collect
    outputs: {o: {type: category, values: [north, same, noted]}}
    rules:
      - {id: north, when: region == "north", then: {o: north}}
      - {id: same, when: region == other, then: {o: same}}
      - {id: noted, when: note is not missing, then: {o: noted}}
"""


def _texts_frame(regions: list, notes: list | None = None):
    import pandas as pd

    count = len(regions)
    return pd.DataFrame({"account_id": [f"A{i}" for i in range(count)], "region": regions,
                         "other": ["north"] * count, "note": notes or [None] * count})


@pytest.mark.parametrize("text, chars, size", [
    ("north" + "x" * 65_531, "65,536", "65,536"),  # compared as "north" by the engine
    ("north" + "x" * 131_067, "131,072", "131,072"),
    ("\x01" * 10_923, "10,923", "65,538"),  # 6 bytes each as the engine reads it (\u0001)
    ("北" * 21_846, "21,846", "65,538"),  # 3 bytes each in UTF-8
])
def test_a_text_longer_than_the_engine_compares_is_refused_on_both_paths(tmp_path, text, chars, size):
    import datetime as dt

    from kamrules.engine.evaluate import evaluate
    from kamrules.errors import DataError
    from kamrules.pack import load_pack

    pack = load_pack(write_pack(tmp_path / "rules", {"10.yaml": TEXTS}))
    frame = _texts_frame(["south", text, "north", text])
    messages = []
    for per_account in (False, True):
        with pytest.raises(DataError) as caught:
            evaluate(pack, frame.copy(), as_of=dt.date(2026, 1, 1), per_account=per_account, input_name="c.csv")
        messages.append(str(caught.value))
    assert messages[0] == messages[1] == (
        "c.csv: 2 text(s) too long for the rules to compare: the durable_rules engine compares texts of at most "
        "65,535 bytes and would read only their start; shorten them, or compare the field in no condition:\n"
        f"  row 3, field region: {chars} characters ({size} bytes)\n"
        f"  row 5, field region: {chars} characters ({size} bytes)")


def test_texts_up_to_the_limit_and_long_texts_nobody_compares_are_decided(tmp_path):
    import datetime as dt

    from kamrules.engine.evaluate import evaluate
    from kamrules.pack import load_pack

    pack = load_pack(write_pack(tmp_path / "rules", {"10.yaml": TEXTS}))
    longest = "north" + "x" * 65_530  # 65,535 bytes: compared whole
    frame = _texts_frame(["north", longest, "south"], notes=["n" * 200_000, None, "n" * 70_000])
    masks = [decided_masks(evaluate(pack, frame.copy(), as_of=dt.date(2026, 1, 1), per_account=p), "d")
             for p in (False, True)]
    assert masks[0] == masks[1] == [0b111, 0b000, 0b100]


def test_a_long_text_is_refused_with_its_row_by_the_cli_in_both_languages(tmp_path):
    pack = write_pack(tmp_path / "rules", {"10.yaml": TEXTS})
    data = tmp_path / "c.csv"
    data.write_text("account_id,Region,other\nA1,north,x\nA2," + "北" * 30_000 + ",y\n", encoding="utf-8")
    result = runner.invoke(app, ["evaluate", str(data), "--rules", str(pack), "--as-of", "2026-11-27", "--out", "o", "-q"])
    assert result.exit_code == 1
    assert result.output == (
        f"error:\n{data.name}: 1 text(s) too long for the rules to compare: the durable_rules engine compares texts of at "
        "most 65,535 bytes and would read only their start; shorten them, or compare the field in no condition:\n"
        "  row 3, column 'Region' (field region): 30,000 characters (90,000 bytes)\n")
    result = runner.invoke(app, ["evaluate", str(data), "--rules", str(pack), "--as-of", "2026-11-27", "--out", "o",
                                 "-q", "--lang", "zh"])
    assert result.exit_code == 1
    assert "有 1 个文本过长，规则无法比较" in result.output and "第 3 行，列“Region”（字段「region」）：30,000 个字符（90,000 字节）" in result.output
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("where", ["param", "output"])
def test_a_text_constant_longer_than_the_engine_compares_is_refused_in_the_pack(tmp_path, where):
    from kamrules.pack import load_pack

    long = "x" * 70_000
    if where == "param":
        text = TEXTS + f"params:\n  home: {long}\n"
        text = text.replace('region == "north"', "region == params.home")
    else:
        text = TEXTS.replace("outputs: {o: {type: category, values: [north, same, noted]}}",
                             "outputs: {o: {type: category, values: [north, same, noted]}, t: {type: string}}")
        text = text.replace("then: {o: north}", f"then: {{o: north, t: {long}}}")
    with pytest.raises(RuleError) as caught:
        load_pack(write_pack(tmp_path / "rules", {"10.yaml": text}))
    assert str(caught.value).endswith("a text of 70,000 characters (70,000 bytes) is longer than durable_rules compares "
                                      "(at most 65,535 bytes; it would compare only the start): shorten it")


# ------------------------------------------------------------------ 3. text columns hold texts before they are decided


def test_mixed_objects_in_a_text_column_are_decided_as_their_texts_on_both_paths(tmp_path):
    """A library user's column holding 1, 1.0, True, Decimal("1.0") and numpy numbers: the situations
    path classed 1, 1.0 and True as one value while the per-account path sent "1", "1.0", "True"."""
    import datetime as dt
    from decimal import Decimal

    import numpy as np
    import pandas as pd

    from kamrules.engine.evaluate import evaluate
    from kamrules.pack import load_pack

    text = TEXTS.replace('region == "north"', 'region == "1"').replace("region == other", 'region == "true"')
    pack = load_pack(write_pack(tmp_path / "rules", {"10.yaml": text}))
    regions = [1.0, 1, True, Decimal("1.0"), np.int64(1), "1", np.float64(1.0), np.bool_(True), None, float("nan"), 2.5]
    frame = pd.DataFrame({"account_id": [f"A{i}" for i in range(len(regions))],
                          "region": pd.Series(regions, dtype=object), "other": [None] * len(regions)})
    results = []
    for per_account in (False, True):
        evaluation = evaluate(pack, frame.copy(), as_of=dt.date(2026, 1, 1), per_account=per_account)
        results.append((decided_masks(evaluation, "d"), evaluation.table["region"].tolist()))
    assert results[0] == results[1]
    masks, texts = results[0]
    assert texts == ["1", "1", "true", "1.0", "1", "1", "1", "true", None, None, "2.5"]
    assert masks == [0b001, 0b001, 0b010, 0, 0b001, 0b001, 0b001, 0b010, 0, 0, 0]


# ------------------------------------------------------------------ 4. compiled rulesets are freed, never stale


def test_a_pack_edited_in_place_is_never_decided_by_its_old_rulesets(tmp_path):
    """A library user replaces a decision of a loaded pack (its hash stays the same): the cache keyed
    by the pack's hash served the old rulesets."""
    import dataclasses
    import datetime as dt

    import pandas as pd

    from kamrules.engine.evaluate import evaluate
    from kamrules.language import expr as ex
    from kamrules.pack import load_pack

    pack = load_pack(write_pack(tmp_path / "rules", {"10.yaml": COLLIDING.replace("  hwoaoeu: {type: number}\n", "")}))
    frame = pd.DataFrame({"account_id": ["A", "B", "C"], "utuokim": [1.0, 6.0, 10.0]})
    for per_account in (False, True):
        assert evaluate(pack, frame.copy(), as_of=dt.date(2026, 1, 1), per_account=per_account).table["o"].tolist() \
            == ["b", "a", "a"]
    decision = pack.decisions[0]
    stricter = dataclasses.replace(decision.rules[0], when=ex.Compare(">", ex.Name("utuokim", ex.NUMBER),
                                                                      ex.Const(8.0, ex.NUMBER)))
    hash_before = pack.hash
    pack.decisions[0] = dataclasses.replace(decision, rules=(stricter,))
    assert pack.hash == hash_before
    for per_account in (False, True):
        assert evaluate(pack, frame.copy(), as_of=dt.date(2026, 1, 1), per_account=per_account).table["o"].tolist() \
            == ["b", "b", "a"]


def test_rulesets_beyond_the_bound_are_freed_between_evaluations_and_answers_stay_right(tmp_path, monkeypatch):
    import datetime as dt

    from kamrules.engine import durable
    from kamrules.engine.decide import Engine
    from kamrules.engine.evaluate import evaluate
    from kamrules.pack.whatif import with_params

    import pandas as pd

    from kamrules.pack import load_pack

    engine = Engine(ruleset_limit=3)
    text = COLLIDING.replace("  hwoaoeu: {type: number}\n", "").replace("utuokim > 5", "utuokim > params.cut") \
        + "params:\n  cut: 5\n"
    pack = load_pack(write_pack(tmp_path / "rules", {"10.yaml": text}))
    frame = pd.DataFrame({"account_id": ["A", "B", "C"], "utuokim": [1.0, 6.0, 10.0]})
    closed = []
    real_close = durable.DecisionRunner.close
    monkeypatch.setattr(durable.DecisionRunner, "close", lambda self: closed.append(self) or real_close(self))
    for cut in range(12):
        variant = with_params(pack, [f"cut={cut}"])
        expected = ["a" if value > cut else "b" for value in (1.0, 6.0, 10.0)]
        for per_account in (False, True):
            assert evaluate(variant, frame.copy(), as_of=dt.date(2026, 1, 1), per_account=per_account,
                            engine=engine).table["o"].tolist() == expected
        assert engine.rulesets.alive <= 3
    assert len(closed) >= 12 and all(runner._handle is None for runner in closed)


def test_a_ruleset_whose_messages_never_matched_is_freed_without_crashing(tmp_path):
    """The core's state keeps a garbage action context until an action has run: deleting it crashed
    (segmentation fault). Run in a child process, so a regression fails this test, not the suite."""
    import subprocess
    import sys

    script = (
        "import sys; sys.path.insert(0, %r)\n"
        "from conftest import write_pack\n"
        "from pathlib import Path\n"
        "from kamrules.pack import load_pack\n"
        "from kamrules.engine.durable import Rulesets\n"
        "text = open(%r, encoding='utf-8').read()\n"
        "pack = load_pack(write_pack(Path(%r), {'10.yaml': text}))\n"
        "rulesets = Rulesets()\n"
        "for mode_body in ('\"utuokim\":1.0', ''):\n"
        "    runner = rulesets.runner(pack.decisions[0], pack.hash)\n"
        "    assert runner.run(mode_body) == []\n"
        "    rulesets.trim(0)\n"
        "assert rulesets.alive == 0\n"
        "print('freed')\n"
    ) % (str(ROOT / "tests"), str(tmp_path / "pack.yaml"), str(tmp_path / "rules"))
    (tmp_path / "pack.yaml").write_text(COLLIDING.replace("  hwoaoeu: {type: number}\n", ""), encoding="utf-8")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "freed\n"


# ------------------------------------------------------------------ 16. templates: time and size wherever spent

def _macro_playbooks(tmp_path, body: str) -> Path:
    """A team folder whose Markdown playbook defines its macros at the top (where a macro may call
    itself) and runs `body` for account 00042 only, as `_playbooks_with` in test_security_limits.py."""
    macros = "".join(re.findall(r"{% macro .*?{% endmacro %}", body))
    rest = body.replace(macros, "") if macros else body
    folder = tmp_path / "tpl"
    folder.mkdir(exist_ok=True)
    (folder / "playbook.md.j2").write_text(
        macros + '{% extends "default/playbook.md.j2" %}{% block header %}{{ super() }}'
        '{% if account.id == "00042" %}' + rest + "{% endif %}{% endblock %}\n", encoding="utf-8")
    return folder


GROW = "{% set ns = namespace(s='x') %}{% for i in range(30) %}{% set ns.s = EXPR %}{% endfor %}{{ ns.s|length }}"


@pytest.mark.parametrize("body, expected", [
    ("{% set ns = namespace(x=10) %}{% for i in range(28) %}{% set ns.x = ns.x * ns.x %}{% endfor %}{{ ns.x > 1 }}",
     "'*' would make an integer of about 8,193 digits; at most 4,300 are allowed (a number multiplied by itself in a "
     "loop?)"),
    (GROW.replace("EXPR", "'{0}{0}{0}{0}'.format(ns.s)"), "'format' would make a text of more than 20,000,000 characters"),
    (GROW.replace("EXPR", "'%s%s%s%s' % (ns.s, ns.s, ns.s, ns.s)"), "'%' would make a text of more than 20,000,000"),
    (GROW.replace("EXPR", "'%s%s%s%s'|format(ns.s, ns.s, ns.s, ns.s)"), "'format' would make a text of more than"),
    (GROW.replace("EXPR", "[ns.s, ns.s, ns.s, ns.s]|join"), "'join' would make a text of more than 20,000,000"),
    (GROW.replace("EXPR", "''.join([ns.s, ns.s, ns.s, ns.s])"), "'join' would make a text of more than 20,000,000"),
    ("{{ ([('x' * 100000)] * 100000)|pprint|length }}", "'pprint' would make a text of more than 20,000,000"),
    ("{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(5000) }}",
     "calls nested more than 100 deep (a macro that calls itself without end?)"),
    ("{% for x in [1] recursive %}{{ loop([1]) }}{% endfor %}", "calls nested more than 100 deep"),
])
def test_a_template_cannot_spend_size_or_depth_outside_loops(tmp_path, body, expected):
    from test_security_limits import _evaluate as evaluate_basic

    result = evaluate_basic("--out", "out", "--playbooks", "all", "--playbooks-dir", str(_macro_playbooks(tmp_path, body)))
    assert result.exit_code == 1, result.output
    assert expected in result.output
    assert "playbook.md.j2:1: " in result.output and "rendering the playbook of account '00042' (row 2)" in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("body", [
    "{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(40) }}",  # no loop at all
    "{% macro g() %}{{ caller() }}{{ caller() }}{% endmacro %}"
    "{% macro f(n) %}{% if n > 0 %}{% call g() %}{{ f(n - 1) }}{% endcall %}{% endif %}{% endmacro %}{{ f(30) }}",
    "{% for a in range(100000) if range(100000)|select('odd')|list|length < 0 %}{% endfor %}",  # the body never runs
])
def test_macros_and_filtered_loops_stop_at_the_time_budget(tmp_path, monkeypatch, body):
    from kamrules.documents import guards
    from test_security_limits import _evaluate as evaluate_basic

    monkeypatch.setattr(guards, "RENDER_SECONDS", 0.5)
    result = evaluate_basic("--out", "out", "--playbooks", "all", "--playbooks-dir", str(_macro_playbooks(tmp_path, body)))
    assert result.exit_code == 1, result.output
    assert ("rendering one document took over 0 s (a loop inside a loop over a long list or range, or a macro that "
            "calls itself?)") in result.output
    assert "playbook.md.j2:1: " in result.output and "account '00042'" in result.output


def test_a_number_too_long_for_python_is_a_template_syntax_error(tmp_path):
    from test_security_limits import _evaluate as evaluate_basic, _playbooks_with

    _playbooks_with(tmp_path, "\n{{ 1" + "0" * 5_000 + " }}")
    result = evaluate_basic("--out", "out", "--playbooks-dir", "tpl")
    assert result.exit_code == 1, result.output
    assert result.output == "error: tpl/playbook.md.j2:2: a number is longer than the 4,300 digits a template may write\n"


def test_ordinary_macros_formats_and_joins_still_render():
    from kamrules.documents.environment import make_environment

    source = ("{% macro f(n) %}{% if n > 0 %}{{ n }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(12) }} "
              "{{ '{:>5}|{}'.format('ab', [1, 'x']) }} {{ '%s-%03d' % ('a', 7) }} {{ ['a', 'b']|join(', ') }} "
              "{{ '+'.join(['x', 'y']) }} {{ 12345678901234567890 * 98765432109876543210 }} "
              "{% for i in range(5) if i is odd %}{{ i }}{% endfor %} {{ {'a': 1}|pprint }}")
    assert make_environment(None).from_string(source).render() == (
        "121110987654321    ab|[1, 'x'] a-007 a, b x+y 1219326311370217952237463801111263526900 13 {'a': 1}")
