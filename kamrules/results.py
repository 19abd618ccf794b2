"""What an evaluation produces: per account, per decision, the outputs and the rules behind them.

These typed structures are what the writers, the portfolio report and the playbook templates read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

Text = dict  # {"en": "...", "zh": "..."}


@dataclass(frozen=True)
class Hit:
    """One rule that decided (or, for `collect`, contributed to) a decision for one account."""

    rule: str  # the rule id; "default" when no rule matched and the default applied
    outputs: dict  # output name -> value set by this rule
    reads: dict  # name -> value of every field/feature/output the rule's condition read
    source: str = ""  # where the rule comes from (domain brief section, standard...)
    template: Text = field(default_factory=dict, repr=False)  # the rule's `because`, unfilled
    filler: Any = field(default=None, repr=False, compare=False)  # fills `template` for this account

    @property
    def because(self) -> Text:
        """The rule's reason, its {placeholders} filled with this account's values, per language.

        Filled on demand: most runs only need the reasons of the accounts that get a playbook."""
        if self.filler is None:
            return dict(self.template)
        return self.filler(self.template, self.outputs)


@dataclass(frozen=True)
class DecisionResult:
    decision: str  # decision id
    outputs: dict  # output name -> value (a list for `collect` decisions)
    hits: tuple = ()  # the deciding Hit (first/unique/priority/default) or every matching Hit (collect)

    @property
    def rule(self) -> str | None:
        """The deciding rule id ("default" or None when nothing matched); `; `-joined for collect."""
        if not self.hits:
            return None
        return "; ".join(h.rule for h in self.hits)


@dataclass
class AccountResult:
    index: int  # position in the input (0-based)
    row: int  # row number as the user sees it in the input file
    account_id: str
    account_name: str | None
    facts: dict  # fields, features and scores by name; None when missing
    decisions: dict = field(default_factory=dict)  # decision id -> DecisionResult

    def value(self, name: str) -> Any:
        """A fact or a decision output by name (None when missing or unknown)."""
        if name in self.facts:
            return self.facts[name]
        for result in self.decisions.values():
            if name in result.outputs:
                return result.outputs[name]
            if name == f"{result.decision}_count" and result.outputs and all(
                    isinstance(v, list) for v in result.outputs.values()):
                return len(result.hits)  # a collect decision's count, as its rules read it
        return None


@dataclass
class Evaluation:
    """The whole run: the pack, every account's results in input order, and run metadata."""

    pack: Any  # kamrules.pack.RulePack
    accounts: list
    as_of: dt.date
    input_name: str
    engine: str = "durable_rules"
    jobs: int = 1  # worker processes actually used
    timings: dict = field(default_factory=dict)
    data_issues: list = field(default_factory=list)
    source: dict = field(default_factory=dict)
