"""The durable_rules engine: hit policies, agreement with the reference semantics, and every trap guarded."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kamrules.language import expr as ex
from kamrules.engine.durable import compile_decision
from kamrules.errors import EvaluationError
from kamrules.engine.evaluate import evaluate
from kamrules.pack import load_pack

from conftest import write_pack

AS_OF = dt.date(2026, 11, 27)

FIELDS = """\
fields:
  account_id: {type: string, required: true}
  sales: {type: number, required: true}
  sales_prev: {type: number}
  nps: {type: integer}
  strategic: {type: boolean}
  region: {type: string}
  last_order: {type: date}
params:
  decline: 0.2
"""


def pack_with(tmp_path: Path, decisions: str, name: str = "rules"):
    return load_pack(write_pack(Path(name), {"00.yaml": FIELDS, "10.yaml": textwrap.dedent(decisions)}))


def run(pack, rows: list[dict]) -> list:
    frame = pd.DataFrame(rows)
    if "account_id" not in frame:
        frame["account_id"] = [str(i) for i in range(len(rows))]
    return evaluate(pack, frame, as_of=AS_OF).accounts


POLICIES = """\
decisions:
  first_d:
    hit: first
    outputs: {f: {type: category, values: [a, b, c]}}
    rules:
      - {id: big, when: sales >= 100, then: {f: a}}
      - {id: mid, when: sales >= 10, then: {f: b}}
    default: {f: c}
  priority_d:
    hit: priority
    outputs: {p: {type: category, values: [low, high]}}
    rules:
      - {id: low, when: sales >= 10, then: {p: low}, priority: 1}
      - {id: high, when: nps >= 9, then: {p: high}, priority: 5}
  unique_d:
    hit: unique
    outputs: {u: {type: category, values: [x, y]}}
    rules:
      - {id: x, when: region == "north", then: {u: x}}
      - {id: y, when: region == "south", then: {u: y}}
  collect_d:
    hit: collect
    outputs: {c: {type: category, values: [big, promoter, strategic]}}
    rules:
      - {id: big, when: sales >= 100, then: {c: big}}
      - {id: promoter, when: nps >= 9, then: {c: promoter}}
      - {id: strategic, when: strategic, then: {c: strategic}}
"""


def test_each_hit_policy(tmp_path):
    pack = pack_with(tmp_path, POLICIES)
    accounts = run(pack, [
        {"sales": 150.0, "nps": 9.0, "region": "north", "strategic": True},
        {"sales": 50.0, "nps": 3.0, "region": "south", "strategic": False},
        {"sales": 1.0},
    ])
    got = [{d: (r.outputs, r.rule) for d, r in a.decisions.items()} for a in accounts]
    assert got[0] == {
        "first_d": ({"f": "a"}, "big"),
        "priority_d": ({"p": "high"}, "high"),
        "unique_d": ({"u": "x"}, "x"),
        "collect_d": ({"c": ["big", "promoter", "strategic"]}, "big; promoter; strategic"),
    }
    assert got[1] == {
        "first_d": ({"f": "b"}, "mid"),
        "priority_d": ({"p": "low"}, "low"),
        "unique_d": ({"u": "y"}, "y"),
        "collect_d": ({"c": []}, None),
    }
    # no rule matches: the default applies, or the outputs are missing when there is none
    assert got[2] == {
        "first_d": ({"f": "c"}, "default"),
        "priority_d": ({"p": None}, None),
        "unique_d": ({"u": None}, None),
        "collect_d": ({"c": []}, None),
    }


def test_unique_with_two_matches_names_account_and_rules(tmp_path):
    pack = pack_with(tmp_path, """\
        decisions:
          u:
            hit: unique
            outputs: {u: {type: category, values: [x, y]}}
            rules:
              - {id: big, when: sales >= 10, then: {u: x}}
              - {id: promoter, when: nps >= 9, then: {u: y}}
        """)
    with pytest.raises(EvaluationError) as info:
        run(pack, [{"account_id": "00042", "sales": 50.0, "nps": 9.0}, {"account_id": "7", "sales": 1.0}])
    assert str(info.value) == (
        "decision 'u' is 'hit: unique' but more than one rule matched:\n"
        "  account '00042' (row 2): rules big, promoter all match\n"
        "narrow the rules so that at most one matches, or use 'hit: first'"
    )


def test_later_decisions_read_earlier_outputs_and_counts(tmp_path):
    pack = pack_with(tmp_path, POLICIES + """\
  after:
    hit: first
    outputs: {risk: {type: category, values: [two, fewer]}}
    rules:
      - {id: two, when: collect_d_count >= 2 and f == "a", then: {risk: two}}
    default: {risk: fewer}
""")
    accounts = run(pack, [{"sales": 150.0, "nps": 9.0}, {"sales": 150.0, "nps": 1.0}])
    assert [a.decisions["after"].outputs["risk"] for a in accounts] == ["two", "fewer"]
    assert [a.value("collect_d_count") for a in accounts] == [2, 1]


def test_threshold_twenty_percent_decline_through_the_engine(tmp_path):
    pack = pack_with(tmp_path, """\
        features:
          growth: {expr: sales / sales_prev - 1}
        decisions:
          d:
            outputs: {alert: {type: boolean}}
            rules:
              - {id: decline, when: growth <= -params.decline, then: {alert: true}}
            default: {alert: false}
        """)
    accounts = run(pack, [{"sales": 80000.0, "sales_prev": 100000.0}, {"sales": 80001.0, "sales_prev": 100000.0}])
    assert accounts[0].facts["growth"] == -0.2
    assert [a.decisions["d"].outputs["alert"] for a in accounts] == [True, False]


def test_missing_values_never_match_comparisons(tmp_path):
    pack = pack_with(tmp_path, """\
        decisions:
          d:
            hit: collect
            outputs: {s: {type: string}}
            rules:
              - {id: ne, when: nps != 5, then: {s: ne}}
              - {id: not_gt, when: not (nps > 6), then: {s: not_gt}}
              - {id: missing, when: nps is missing, then: {s: missing}}
              - {id: either, when: nps > 6 or sales > 1, then: {s: either}}
        """)
    accounts = run(pack, [{"sales": 5.0}, {"sales": 0.0, "nps": 3.0}])
    assert accounts[0].decisions["d"].outputs["s"] == ["missing", "either"]
    assert accounts[1].decisions["d"].outputs["s"] == ["ne", "not_gt"]


def test_ids_with_leading_zeros_stay_strings(tmp_path):
    pack = pack_with(tmp_path, POLICIES)
    accounts = run(pack, [{"account_id": "00042", "sales": 1.0}])
    assert accounts[0].account_id == "00042"


def test_dates_and_booleans_compare_as_written(tmp_path):
    pack = pack_with(tmp_path, """\
        decisions:
          d:
            hit: collect
            outputs: {s: {type: string}}
            rules:
              - {id: recent, when: 'last_order >= date("2026-06-01")', then: {s: recent}}
              - {id: strategic, when: strategic, then: {s: strategic}}
              - {id: not_strategic, when: not strategic, then: {s: not_strategic}}
        """)
    accounts = run(pack, [
        {"sales": 1.0, "last_order": pd.Timestamp("2026-06-01"), "strategic": True},
        {"sales": 1.0, "last_order": pd.Timestamp("2026-05-31"), "strategic": False},
        {"sales": 1.0},
    ])
    assert [a.decisions["d"].outputs["s"] for a in accounts] == [["recent", "strategic"], ["not_strategic"], []]


# ------------------------------------------------------------------------------------- the traps


def test_compiled_rules_carry_the_marker_and_no_arithmetic(tmp_path):
    pack = pack_with(tmp_path, """\
        features:
          growth: {expr: sales / sales_prev - 1}
        decisions:
          d:
            hit: collect
            outputs: {s: {type: string}}
            rules:
              - {id: always, when: "true", then: {s: always}}
              - {id: ratio, when: sales / sales_prev > 2 and nps * 2 > 10, then: {s: ratio}}
              - {id: absent, when: nps is missing, then: {s: absent}}
        """)
    compiled = compile_decision(pack.decision("d"), pack.hash)
    text = json.dumps(compiled.definition)
    for operator in ("$add", "$sub", "$mul", "$div"):
        assert operator not in text
    for rule in compiled.definition.values():
        condition = rule["all"][0]["m"]
        # every rule requires the customer-record marker, so none can match the engine's state fact
        assert condition == {"_kam": 1.0} or condition["$and"][0] == {"_kam": 1.0}
    assert sorted(compiled.hidden) == ["_x0", "_x1"]


def test_catch_all_rule_terminates_and_zero_division_is_missing(tmp_path):
    pack = pack_with(tmp_path, """\
        decisions:
          d:
            hit: collect
            outputs: {s: {type: string}}
            rules:
              - {id: always, when: "true", then: {s: always}}
              - {id: ratio, when: sales / sales_prev > 2, then: {s: ratio}}
          e:
            outputs: {t: {type: string}}
            rules:
              - {id: always, when: "true", then: {t: yes}}
        """)
    accounts = run(pack, [{"sales": 5.0, "sales_prev": 0.0}, {"sales": 5.0, "sales_prev": 1.0}])
    assert [a.decisions["d"].outputs["s"] for a in accounts] == [["always"], ["always", "ratio"]]
    assert [a.decisions["e"].outputs["t"] for a in accounts] == ["yes", "yes"]


RAW_TRAP = """
import json, sys
from durable import engine
class Quiet(engine.Host):
    def _run(self): pass
host = Quiet()
condition = json.loads(sys.argv[1])
message = json.loads(sys.argv[2])
fired = []
host.set_rulesets({"trap": {"r": {"all": [{"m": condition}], "run": lambda c: fired.append(1)}}})
try:
    host.assert_fact("trap", message)
except Exception as exc:
    print("exception", type(exc).__name__)
print("fired", len(fired))
"""


def _raw(condition: dict, message: dict, timeout: float = 8) -> subprocess.CompletedProcess | None:
    try:
        return subprocess.run([sys.executable, "-c", RAW_TRAP, json.dumps(condition), json.dumps(message)],
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None


def test_hand_built_catch_all_loops_but_the_marker_guard_does_not():
    # Without the guard, a condition that the engine's own state fact satisfies fires forever.
    assert _raw({"$nex": {"nps": 1}}, {"id": "1", "sales": 1}, timeout=6) is None
    # The same condition behind the marker fires once for the record and stops.
    guarded = _raw({"$and": [{"_kam": 1.0}, {"$nex": {"nps": 1}}]}, {"id": "1", "_kam": 1.0, "sales": 1})
    assert guarded is not None and guarded.stdout.split() == ["fired", "1"]


def test_hand_built_integer_division_by_zero_kills_the_process_but_compiled_rules_do_not(tmp_path):
    condition = {"$gt": {"a": {"$div": {"$l": {"$m": "a"}, "$r": {"$m": "b"}}}}}
    killed = _raw(condition, {"id": "1", "a": 5, "b": 0})
    assert killed is not None and killed.returncode < 0  # SIGFPE: the whole process is gone
    pack = pack_with(tmp_path, """\
        decisions:
          d:
            outputs: {s: {type: string}}
            rules:
              - {id: ratio, when: sales > sales / sales_prev, then: {s: ratio}}
        """)
    accounts = run(pack, [{"sales": 5.0, "sales_prev": 0.0}])
    assert accounts[0].decisions["d"].outputs["s"] is None


def test_no_background_thread(tmp_path):
    before = threading.active_count()
    pack = pack_with(tmp_path, POLICIES)
    run(pack, [{"sales": 150.0}])
    assert threading.active_count() == before


def test_identical_records_are_not_merged(tmp_path):
    pack = pack_with(tmp_path, POLICIES)
    accounts = run(pack, [{"account_id": str(i), "sales": 150.0, "nps": 9.0} for i in range(3000)])
    assert all(a.decisions["collect_d"].outputs["c"] == ["big", "promoter"] for a in accounts)


def test_two_packs_in_one_process_keep_their_own_rules(tmp_path):
    one = pack_with(tmp_path, POLICIES, name="one")
    two = pack_with(tmp_path, POLICIES.replace("sales >= 100", "sales >= 1000"), name="two")
    rows = [{"sales": 150.0}]
    assert run(one, rows)[0].decisions["first_d"].outputs == {"f": "a"}
    assert run(two, rows)[0].decisions["first_d"].outputs == {"f": "b"}
    assert run(one, rows)[0].decisions["first_d"].outputs == {"f": "a"}


def test_parallel_jobs_give_the_same_results(tmp_path, monkeypatch):
    """jobs=2 really decides in two worker processes (the forked per-account path: the situations
    path decides in this one), and every account's outputs and hits are those of one process on the
    situations path."""
    import os

    from kamrules import processes

    pack = pack_with(tmp_path, POLICIES)
    frame = pd.DataFrame({"account_id": [f"{i:05d}" for i in range(2400)],
                          "sales": [float(i % 300) for i in range(2400)],
                          "nps": [float(i % 11) for i in range(2400)],
                          "region": [["north", "south", None][i % 3] for i in range(2400)]})
    workers: list[int] = []
    fork_map = processes.fork_map

    def spy(function, items):  # each slice's result comes back with the pid of the process that made it
        found = fork_map(lambda item: (os.getpid(), function(item)), items)
        workers.extend(pid for pid, _ in found)
        return [result for _, result in found]

    monkeypatch.setattr(processes, "fork_map", spy)
    one = evaluate(pack, frame.copy(), as_of=AS_OF, jobs=1)
    two = evaluate(pack, frame.copy(), as_of=AS_OF, jobs=2, per_account=True)
    assert (one.jobs, two.jobs) == (1, 2)
    assert len(set(workers)) == 2 and os.getpid() not in workers
    assert [a.decisions for a in one.accounts] == [a.decisions for a in two.accounts]


def test_the_per_account_path_split_over_forked_processes_decides_alike(tmp_path):
    """`per_account=True` with jobs: contiguous slices decided in forked processes (processes.fork_map),
    each inheriting the accounts; the same answers as one process, and a worker's error raised here."""
    from conftest import decided_masks
    from kamrules.errors import KamrulesError

    pack = pack_with(tmp_path, POLICIES)
    frame = pd.DataFrame({"account_id": [f"{i:05d}" for i in range(2400)],
                          "sales": [float(i % 300) for i in range(2400)],
                          "nps": [float(i % 11) for i in range(2400)],
                          "region": [["north", "south", None][i % 3] for i in range(2400)]})
    one = evaluate(pack, frame.copy(), as_of=AS_OF, jobs=1, per_account=True)
    two = evaluate(pack, frame.copy(), as_of=AS_OF, jobs=2, per_account=True)
    situations = evaluate(pack, frame.copy(), as_of=AS_OF, jobs=2)
    assert (one.jobs, two.jobs, situations.jobs) == (1, 2, 1)
    for decision in pack.decisions:
        assert decided_masks(one, decision.id) == decided_masks(two, decision.id) == decided_masks(situations, decision.id)
    frame.loc[2000, "sales"] = float("inf")  # in the second worker's slice
    messages = []
    for jobs in (1, 2):
        with pytest.raises(KamrulesError) as caught:
            evaluate(pack, frame.copy(), as_of=AS_OF, jobs=jobs, per_account=True)
        messages.append(str(caught.value))
    assert messages[0] == messages[1]


CONDITIONS = [
    "nps > 6 and not (sales <= 50)",
    "nps is missing or sales / sales_prev - 1 <= -params.decline",
    "not (nps >= 7 or sales_prev is not missing)",
    "0 < nps <= 6 or abs(sales - sales_prev) > 5",
    'region in ["north", "east"] or strategic',
    "sales > sales_prev",
    "not strategic and region != \"north\"",
]
present_numbers = st.one_of(st.sampled_from([0.0, 1.0, 6.0, 7.0, 50.0, 80000.0, 100000.0]), st.integers(-3, 12).map(float))
numbers = st.one_of(st.none(), present_numbers)


@settings(max_examples=25, deadline=None)
@given(records=st.lists(st.fixed_dictionaries({
    "nps": numbers, "sales": present_numbers, "sales_prev": numbers,
    "region": st.sampled_from([None, "north", "south", "east"]),
    "strategic": st.sampled_from([None, True, False]),
}), min_size=1, max_size=12))
def test_engine_agrees_with_the_reference_semantics(records, tmp_path_factory):
    rules = "\n".join(f"      - {{id: r{i}, when: '{c}', then: {{s: r{i}}}}}" for i, c in enumerate(CONDITIONS))
    folder = tmp_path_factory.mktemp("agree")
    pack = load_pack(write_pack(folder / "rules", {"00.yaml": FIELDS, "10.yaml": (
        "decisions:\n  d:\n    hit: collect\n    outputs: {s: {type: string}}\n    rules:\n" + rules + "\n")}))
    frame = pd.DataFrame(records).astype({"nps": "float64", "sales": "float64", "sales_prev": "float64"})
    frame["strategic"] = frame["strategic"].astype("boolean")
    frame["account_id"] = [str(i) for i in range(len(records))]
    accounts = evaluate(pack, frame, as_of=AS_OF).accounts
    for record, account in zip(records, accounts):
        present = {k: v for k, v in record.items() if v is not None}
        expected = [f"r{i}" for i, rule in enumerate(pack.decision("d").rules)
                    if ex.eval_condition(rule.when, present) is True]
        assert account.decisions["d"].outputs["s"] == expected, record


def test_hand_built_ruleset_with_65_matching_branches_fails_so_the_loader_caps_them(tmp_path):
    script = textwrap.dedent("""
        import durable_rules_engine as core
        from kamrules.engine.durable import to_json
        rules = {f"r{j}": {"all": [{"m": {"$and": [{"_kam": 1.0}, {"$gte": {"a": float(j)}}]}}]} for j in range(65)}
        handle = core.create_ruleset("cap", to_json(rules))
        try:
            core.assert_fact(handle, to_json({"id": "1", "_kam": 1.0, "a": 1000.0}))
            print("accepted")
        except core.error as exc:
            print(exc)
        """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "Could not assert fact, error code: 303"
    from kamrules.errors import RuleError
    from kamrules.pack import MAX_BRANCHES_PER_DECISION

    assert MAX_BRANCHES_PER_DECISION == 64
    rules = "".join(f"      - {{id: r{j}, when: sales >= {j}, then: {{s: x}}}}\n" for j in range(65))
    with pytest.raises(RuleError, match="its rules make 65 engine branches"):
        pack_with(tmp_path, "decisions:\n  d:\n    hit: collect\n    outputs: {s: {type: string}}\n    rules:\n" + rules)


def test_numbers_reach_the_engine_without_exponents(tmp_path):
    pack = pack_with(tmp_path, """\
        decisions:
          d:
            hit: collect
            outputs: {s: {type: string}}
            rules:
              - {id: tiny, when: sales < 0.00001, then: {s: tiny}}
              - {id: huge, when: sales > 10_000_000_000_000_000, then: {s: huge}}
        """)
    accounts = run(pack, [{"sales": 0.000001}, {"sales": 2e16}, {"sales": 5.0}])
    assert [a.decisions["d"].outputs["s"] for a in accounts] == [["tiny"], ["huge"], []]


# ------------------------------------------------------------------------------- the hit policy

HIT_ORDER = """\
decisions:
  first_d:
    hit: first
    outputs: {f: {type: category, values: [a, b, c]}}
    rules:
      - {id: one, when: sales >= 100, then: {f: a}}
      - {id: two, when: sales >= 10, then: {f: b}}
      - {id: three, when: sales >= 1, then: {f: c}}
  priority_d:
    hit: priority
    outputs: {p: {type: category, values: [low, mid, high]}}
    rules:
      - {id: low, when: sales >= 1, then: {p: low}, priority: 1}
      - {id: high, when: sales >= 10, then: {p: high}, priority: 5}
      - {id: high_too, when: sales >= 100, then: {p: mid}, priority: 5}
  collect_d:
    hit: collect
    outputs: {c: {type: category, values: [x, y]}}
    rules:
      - {id: x, when: sales >= 1, then: {c: x}}
      - {id: y, when: sales >= 10, then: {c: y}}
"""


def test_hit_policy_winners_when_several_rules_match(tmp_path):
    pack = pack_with(tmp_path, HIT_ORDER)
    first, priority, collect = (pack.decision(d) for d in ("first_d", "priority_d", "collect_d"))

    def decide_outputs(decision, matched):
        return decision.policy.outputs(decision, matched)

    # first: the first in file order, whatever order the matches are given in
    assert decide_outputs(first, [0, 1, 2]) == ({"f": "a"}, [0], False)
    assert decide_outputs(first, [2, 1]) == ({"f": "b"}, [1], False)
    # priority: the highest priority wins, a tie goes to the rule written first
    assert decide_outputs(priority, [0, 1]) == ({"p": "high"}, [1], False)
    assert decide_outputs(priority, [0, 1, 2]) == ({"p": "high"}, [1], False)
    assert decide_outputs(priority, [2, 0]) == ({"p": "mid"}, [2], False)
    assert decide_outputs(collect, [0, 1]) == ({"c": ["x", "y"]}, [0, 1], False)


def test_hit_policy_order_masks_and_rules_checked_before(tmp_path):
    import numpy as np

    from kamrules.engine import masks
    from kamrules.results.explain import rules_ahead

    pack = pack_with(tmp_path, HIT_ORDER)
    first, priority, collect = (pack.decision(d) for d in ("first_d", "priority_d", "collect_d"))
    assert priority.policy.order(priority) == [1, 2, 0]
    assert priority.policy.checked_before(priority, 0) == [1, 2]
    assert [r.id for r in rules_ahead(priority, 2)] == ["high"]
    assert [r.id for r in rules_ahead(first, 2)] == ["one", "two"]
    every = np.array([0b111, 0b101, 0b100, 0], dtype=np.uint64)
    assert masks.winners(first, every).tolist() == [0b001, 0b001, 0b100, 0]
    assert masks.winners(first, every).dtype == np.uint64  # a bit field, never a float
    assert masks.winners(priority, every).tolist() == [0b010, 0b100, 0b100, 0]
    assert masks.winners(collect, every).tolist() == every.tolist()
    # the same winners for many accounts at once (the analysers' vectors)
    fires = [np.array([bool(m >> i & 1) for m in every.tolist()]) for i in range(3)]
    for decision in (first, priority, collect):
        deciding = decision.policy.deciding(decision, fires)
        assert [sum(int(d[a]) << i for i, d in enumerate(deciding)) for a in range(4)] \
            == masks.winners(decision, every).tolist()
    # collect: every rule is checked and decides, so no rule stands "before" another
    assert [collect.policy.checked_before(collect, i) for i in range(3)] == [[], [], []]
    assert rules_ahead(collect, 2) == []
    assert collect.policy.winners(collect, [2, 0]) == [0, 2]


def test_engine_salience_follows_the_hit_policy(tmp_path):
    """The per-account engine (salience) and the situations path agree on the winner."""
    pack = pack_with(tmp_path, HIT_ORDER)
    frame = pd.DataFrame({"account_id": ["a", "b", "c", "d"], "sales": [500.0, 50.0, 5.0, 0.0]})
    for per_account in (True, False):
        accounts = evaluate(pack, frame.copy(), as_of=AS_OF, per_account=per_account).accounts
        assert [a.decisions["first_d"].rule for a in accounts] == ["one", "two", "three", None]
        assert [a.decisions["priority_d"].rule for a in accounts] == ["high", "high", "low", None]
