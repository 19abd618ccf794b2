"""The hit policies as objects (kamrules/pack/hitpolicy.py): nothing else branches on a policy's name,
each policy's pieces agree with each other, and a new policy is one class."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from kamrules.analysis.tables import analyse_pack
from kamrules.engine.evaluate import evaluate
from kamrules.pack import POLICIES, HitPolicy, load_pack
from kamrules.results.explain import explain_account, rules_ahead

from conftest import write_pack

ROOT = Path(__file__).resolve().parent.parent
AS_OF = dt.date(2026, 11, 27)


def _reads_hit(node: ast.AST) -> bool:
    """`x.hit`, `hit`, `x["hit"]` or `x.get("hit")`: a decision's policy by its name."""
    if isinstance(node, ast.Attribute):
        return node.attr == "hit"
    if isinstance(node, ast.Name):
        return node.id == "hit"
    if isinstance(node, ast.Subscript):
        return isinstance(node.slice, ast.Constant) and node.slice.value == "hit"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
        return bool(node.args) and isinstance(node.args[0], ast.Constant) and node.args[0].value == "hit"
    return False


def _is_text(node: ast.AST) -> bool:
    """A text constant, or a tuple, list or set of them (`"collect"`, `("first", "priority")`)."""
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return bool(node.elts) and all(_is_text(e) for e in node.elts)
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def test_no_code_outside_the_policy_module_branches_on_a_policy_name():
    """Every `decision.hit == "collect"` (there were 44, in 18 files) became a question to the policy
    object: a comparison of a decision's `hit` with a policy's name stands only in pack/hitpolicy.py
    (looking a name up in the registry, `hit in POLICIES`, is no branch)."""
    found = []
    for path in sorted((ROOT / "kamrules").rglob("*.py")):
        if path == ROOT / "kamrules" / "pack" / "hitpolicy.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Compare):
                sides = [node.left, *node.comparators]
                if any(_reads_hit(n) for n in sides) and any(_is_text(n) for n in sides):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    assert found == []
    # (the check itself finds what it is meant to find)
    tree = ast.parse('if d.hit == "collect" or m.get("hit") in ("first", "x"): pass')
    assert sum(isinstance(n, ast.Compare) and any(map(_reads_hit, [n.left, *n.comparators]))
               and any(map(_is_text, [n.left, *n.comparators])) for n in ast.walk(tree)) == 2


class _Decision:
    """A decision as the policies see it: rules with priorities, outputs, a default."""

    def __init__(self, priorities: list[int]):
        self.rules = tuple(mock.Mock(priority=p, then={"o": f"r{i}"}) for i, p in enumerate(priorities))
        self.outputs = {"o": None}
        self.default = None
        self.count_name = "d_count"
        self.totals = {}


@settings(max_examples=200, deadline=None)
@given(priorities=st.lists(st.integers(0, 3), min_size=1, max_size=6), data=st.data())
def test_each_policys_order_winners_and_vectors_agree(priorities, data):
    """For every policy: the winners of a set of matching rules are what the vectorised `deciding`
    gives an account matching them; a salience policy's winner is the first matching rule in its
    order, and the rules checked before it are exactly those ahead of it in that order."""
    decision = _Decision(priorities)
    count = len(priorities)
    rows = data.draw(st.lists(st.sets(st.integers(0, count - 1)), min_size=1, max_size=8))
    fires = [np.array([i in row for row in rows]) for i in range(count)]
    for policy in POLICIES.values():
        deciding = policy.deciding(decision, fires)
        for account, matched in enumerate(rows):
            winners = policy.winners(decision, sorted(matched))
            assert [i for i in range(count) if deciding[i][account]] == winners, policy.name
            outputs, chosen, used_default = policy.outputs(decision, sorted(matched))
            assert chosen == (winners if policy.lists else winners[:1]) and not used_default
            if policy.salience and matched:
                order = policy.order(decision)
                first = min(matched, key=order.index)
                assert winners == [first]
                assert policy.checked_before(decision, first) == order[:order.index(first)]
        assert sorted(policy.order(decision)) == list(range(count))


def test_every_policy_says_its_verdict_in_every_language():
    from kamrules.i18n import EXPLAIN, LANGS

    for policy in POLICIES.values():
        for lang in LANGS:
            for fired, default in (([], False), ([], True), (["r0"], False), (["r0", "r1"], False)):
                assert policy.verdict(EXPLAIN[lang], fired, default)


class Last(HitPolicy):
    """A policy written for this test only: the LAST matching rule in file order decides."""

    name = "last"

    def order(self, decision) -> list[int]:
        return list(reversed(range(len(decision.rules))))


PACK = """\
fields:
  account_id: {type: string, required: true}
  sales: {type: number}
decisions:
  d:
    hit: last
    outputs: {o: {type: category, values: [small, mid, big, none]}}
    rules:
      - {id: big, when: sales >= 100, then: {o: big}}
      - {id: mid, when: sales >= 10, then: {o: mid}}
      - {id: small, when: sales >= 0, then: {o: small}}
      - {id: never, when: sales >= 5 and sales < 5, then: {o: none}}
"""


def test_a_new_policy_is_one_class(tmp_path):
    """A policy that exists nowhere else in the code, added to the registry: the loader takes it,
    both engine paths decide by it (the per-account engine's salience follows its order), explain
    lists the rules it checks before the deciding one, and the analyser finds the rule it hides."""
    with mock.patch.dict(POLICIES, {"last": Last()}):
        pack = load_pack(write_pack(tmp_path / "rules", {"00.yaml": PACK}))
        frame = pd.DataFrame({"account_id": ["A", "B", "C", "D"], "sales": [500.0, 50.0, 5.0, None]})
        results = [evaluate(pack, frame.copy(), as_of=AS_OF, per_account=p) for p in (False, True)]
        for evaluation in results:
            assert evaluation.table["o"].tolist() == ["small", "small", "small", None]
        explained = explain_account(results[0], results[0].accounts[0])[0]
        assert explained.verdict == "decided by rule 'small'"
        assert [r.id for r in rules_ahead(pack.decision("d"), 2)] == ["never"]
        findings = {(f.kind, f.rule) for f in analyse_pack(pack)}
        assert ("impossible", "never") in findings
        assert ("hidden", "mid") in findings and ("hidden", "big") in findings
    assert "last" not in POLICIES
