"""The hit policies: which of a decision's matching rules decide it, one object per policy.

- `first`: the first matching rule in file order;
- `priority`: the matching rule with the highest `priority`; ties go to the one written first;
- `unique`: at most one rule may match (evaluate refuses the run otherwise) and it decides;
- `collect`: every matching rule decides, in file order; each output is a list.

Everything that depends on the policy asks the decision's policy object (`decision.policy`), never its
name: the engine's salience order and mode (engine/durable.py), the winners of each situation
(engine/masks.py), the outputs (engine/evaluate.py), the rules `kamrules explain` says were checked
before the deciding one and its verdict (results/explain.py), the loader's checks (pack/decisions_section.py),
the analysers' gaps, overlaps and shadowed rules (analysis/tables.py, analysis/data.py), and how
`kamrules test` reads a `rule:` expectation (testing/runner.py). A new policy is a class here and its
name in `POLICIES` (its words for `explain`, if it needs new ones, in i18n's `EXPLAIN`).
"""

from __future__ import annotations

from typing import Any, ClassVar, Mapping, Protocol, Sequence

import numpy as np

from kamrules.language.nodes import rnd


class DecisionView(Protocol):
    """What a policy reads of a decision (`kamrules.pack.model.Decision`, which imports this module)."""

    @property
    def rules(self) -> tuple: ...

    @property
    def outputs(self) -> dict: ...

    @property
    def default(self) -> dict | None: ...

    @property
    def count_name(self) -> str: ...

    @property
    def totals(self) -> dict: ...


class HitPolicy:
    """How the rules of a decision that match one account decide it. Subclasses set the class
    attributes and override what differs; the base is a policy whose winner is the first matching
    rule in file order (`first`)."""

    name: ClassVar[str] = ""
    # Every matching rule decides: each output is a list (in rule order), the decision hands later
    # decisions its count (`<decision>_count`) and totals, and no match is an answer (empty lists), so
    # there is no default and no gap.
    lists: ClassVar[bool] = False
    # The winner is the first matching rule in `order`, so the engine's salience picks it (durable_rules
    # posts the account as an event: only that rule fires). Otherwise every matching rule is reported
    # (the account is asserted as a fact) and `winners` chooses.
    salience: ClassVar[bool] = True
    priorities: ClassVar[bool] = False  # every rule carries `priority: N`
    # The loader refuses a rule that an earlier one (in file order) matches wherever it does: it can
    # never decide. Left to `kamrules validate` for the other policies (tables.py finds it per policy).
    shadows_in_file_order: ClassVar[bool] = False

    def order(self, decision: DecisionView) -> list[int]:
        """Rule indexes in the order the policy checks them (the engine's salience order)."""
        return list(range(len(decision.rules)))

    def winners(self, decision: DecisionView, matched: Sequence[int]) -> list[int]:
        """The deciding rule indexes among the matching ones (`matched`, any order), in rule order."""
        if not self.salience:
            return sorted(matched)
        if not matched:
            return []
        rank = {index: position for position, index in enumerate(self.order(decision))}
        return [min(matched, key=rank.__getitem__)]

    def deciding(self, decision: DecisionView, fires: Sequence[np.ndarray]) -> list[np.ndarray]:
        """`winners` for many accounts at once: from where each rule matches (one boolean array per
        rule) to where it decides."""
        if not self.salience:
            return list(fires)
        deciding = list(fires)
        taken = np.zeros(len(fires[0]) if fires else 0, dtype=bool)
        for index in self.order(decision):  # a rule decides only where no rule before it matched
            deciding[index] = fires[index] & ~taken
            taken = taken | fires[index]
        return deciding

    def refuses(self, matched: Sequence[int]) -> bool:
        """Whether the policy cannot decide an account these rules match (evaluate stops the run)."""
        return False

    # (the words of a refusal: evaluate's message, and the analyser's advice for two rules)
    refusal: ClassVar[str] = ""
    refusal_advice: ClassVar[str] = ""
    overlap_advice: ClassVar[str] = ""

    def checked_before(self, decision: DecisionView, position: int) -> list[int]:
        """Rule indexes the policy checks before rule `position` (none when every rule decides)."""
        if self.lists:
            return []
        sequence = self.order(decision)
        return sequence[:sequence.index(position)]

    def outputs(self, decision: DecisionView, matched: Sequence[int]) -> tuple[dict, list[int], bool]:
        """(outputs, deciding rule indexes, whether the default applied) for the matching rules."""
        rules = decision.rules
        deciding = self.winners(decision, matched)
        if self.lists:
            return {name: [rules[i].then.get(name) for i in deciding] for name in decision.outputs}, deciding, False
        if deciding:
            return dict(rules[deciding[0]].then), deciding[:1], False
        if decision.default is not None:
            return dict(decision.default), [], True
        return {name: None for name in decision.outputs}, [], False

    def given(self, decision: DecisionView, outputs: Mapping[str, Any], deciding: Sequence[int]) -> dict:
        """The values a decision gives later decisions (and `kamrules explain`) for one outcome: its
        outputs, or for a list policy its count and totals."""
        if not self.lists:
            return dict(outputs)
        given: dict = {decision.count_name: float(len(deciding))}
        for total, output in decision.totals.items():
            given[total] = total_of(outputs.get(output) or [])
        return given

    def given_kinds(self, decision: DecisionView) -> dict[str, str]:
        """The names `given` fills, each with its kind (an output's type; a count or total: number)."""
        if self.lists:
            return {decision.count_name: "number", **{total: "number" for total in decision.totals}}
        return {name: spec.type for name, spec in decision.outputs.items()}

    def verdict(self, words: Mapping[str, str], fired: Sequence[str], has_default: bool) -> str:
        """`kamrules explain`'s line on how the decision was decided (`words`: i18n's EXPLAIN[lang])."""
        if self.lists:
            return words["collect"].format(n=len(fired))
        if fired:
            return words["decided"].format(rule=fired[0])
        return words["default"] if has_default else words["nothing"]

    def rule_expected(self, fired: Sequence[str], rule_id: str) -> bool:
        """A `kamrules test` case's `rule: {decision: RULE}` holds: RULE decided (for a list policy,
        was among the rules that did). `fired`: the ids of the deciding rules, or ["default"]."""
        return rule_id in fired if self.lists else list(fired) == [rule_id]


def total_of(values: Sequence) -> float:
    """The total of a list output over the rules that fired (missing ones add nothing; none fired: 0),
    rounded as the language rounds."""
    return rnd(sum(float(v) for v in values if v is not None and not isinstance(v, bool)))


class First(HitPolicy):
    name = "first"
    shadows_in_file_order = True


class Priority(HitPolicy):
    name = "priority"
    priorities = True

    def order(self, decision: DecisionView) -> list[int]:
        rules = decision.rules
        return sorted(range(len(rules)), key=lambda i: (-rules[i].priority, i))


class Unique(HitPolicy):
    name = "unique"
    salience = False  # every match is reported, so that two are seen and refused
    refusal = "more than one rule matched"
    refusal_advice = "narrow the rules so that at most one matches, or use 'hit: first'"
    overlap_advice = "narrow one of them, or use 'hit: first'"

    def refuses(self, matched: Sequence[int]) -> bool:
        return len(matched) > 1


class Collect(HitPolicy):
    name = "collect"
    lists = True
    salience = False


POLICIES: dict[str, HitPolicy] = {policy.name: policy for policy in (First(), Unique(), Priority(), Collect())}
HIT_POLICIES = tuple(POLICIES)


def policy_named(name: str) -> HitPolicy:
    """The policy a decision's `hit:` names (the loader has checked it is one of `POLICIES`)."""
    return POLICIES[name]


def recorded_lists(name: Any) -> bool:
    """Whether the policy a run recorded by name (a manifest's or a register's `hit`) gives lists; a
    name that is no policy (a damaged or foreign record): no."""
    return isinstance(name, str) and name in POLICIES and POLICIES[name].lists
