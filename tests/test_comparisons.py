"""What a condition compares (kamrules/language/comparisons.py): the one account the engine, the
analysers and the loader read of which constants each name is compared with."""

from __future__ import annotations

import datetime as dt

from kamrules.engine.durable import compile_decision, date_number
from kamrules.language import expr as ex
from kamrules.language.comparisons import comparison, comparisons, compared_constants
from kamrules.pack import load_pack

from conftest import ROOT

SYMBOLS = {"sales": ex.Symbol("sales", ex.NUMBER, "field"), "prev": ex.Symbol("prev", ex.NUMBER, "field"),
           "strategic": ex.Symbol("strategic", ex.BOOLEAN, "field"), "region": ex.Symbol("region", ex.STRING, "field"),
           "last": ex.Symbol("last", ex.DATE, "field"), "big": ex.Symbol("big", ex.BOOLEAN, "feature")}


def _condition(text: str) -> ex.Node:
    node = ex.parse(text)
    return ex.Resolver(SYMBOLS, {"cut": 5, "day": dt.date(2026, 1, 1)}).condition(node)


def test_each_comparison_has_its_name_on_the_left():
    found = [(ex.describe(c.subject), c.op, ex.describe(c.other), c.against_constant)
             for c in comparisons(_condition('5 < sales and (not (region == "north") or prev <= sales - 1)'))]
    assert found == [("sales", ">", "5", True), ("region", "==", '"north"', True), ("prev", "<=", "sales - 1", False)]
    # a chain, `in`, params and constant arithmetic, a bare boolean (resolved to `== true`), dates
    text = '0 < sales <= params.cut * 2 and region in ["a", "b"] and strategic and last >= params.day'
    assert [(c.name, c.op, c.value()) for c in comparisons(_condition(text))] == [
        ("sales", ">", 0.0), ("sales", "<=", 10.0), ("region", "==", "a"), ("region", "==", "b"),
        ("strategic", "==", True), ("last", ">=", dt.date(2026, 1, 1))]
    assert comparison(ex.Compare("<", ex.Const(1.0, ex.NUMBER), ex.Const(2.0, ex.NUMBER))) is None  # no name
    assert list(comparisons(_condition("sales is missing or true"))) == []


def test_the_constants_each_name_is_compared_with():
    conditions = [_condition("sales >= 10 and prev < 3"), _condition("sales < params.cut or strategic"),
                  _condition('region != "x"')]
    assert compared_constants(conditions) == ({"sales": [10.0, 5.0], "prev": [3.0], "strategic": [True],
                                               "region": ["x"]}, True)
    # a name compared with a name, or inside arithmetic: no constants of its own, and not exact
    found, exact = compared_constants([_condition("sales - prev > 2 and prev > 1")])
    assert found == {"prev": [1.0], "sales": []} and not exact
    # a comparison used as a value: its constants only for the readers that look inside values
    inside = _condition("(sales > 7) == big")
    assert compared_constants([inside]) == ({"big": [], "sales": []}, False)
    assert compared_constants([inside], inside_values=True)[0]["sales"] == [7.0]


def test_the_engine_compares_each_column_with_the_constants_the_language_says():
    """The compiled rulesets of the default pack record, per name, exactly the constants the shared
    extraction finds (in the engine's form: numbers rounded, dates as day numbers, booleans as 1/0)."""
    pack = load_pack(ROOT / "rules")
    for decision in pack.decisions:
        compiled = compile_decision(decision, pack.hash)
        found, _ = compared_constants(ex.push_not(rule.when) for rule in decision.rules)
        for name, values in found.items():
            engine = {date_number(v) if isinstance(v, dt.date) else float(v) if isinstance(v, (bool, int, float))
                      else str(v) for v in values}
            assert compiled.constants.get(name, set()) == engine, (decision.id, name)
