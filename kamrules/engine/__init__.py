"""Deciding: features and scores computed with pandas, each decision matched by durable_rules, the
result an `Evaluation`."""

import warnings

import pandas as pd

# pandas warns that a frame is "highly fragmented" when columns are added one at a time (a performance
# hint, not a fault). kamrules adds the features and scores a set at a time (features.with_columns), and
# the tests turn the hint from kamrules' code into an error (pyproject.toml); a pack far larger than
# those tested should not show it to users either, so it stays silenced for kamrules' own modules only —
# never for the user's code.
warnings.filterwarnings("ignore", category=pd.errors.PerformanceWarning, module=r"kamrules(\.|$)")

from kamrules.engine.evaluate import evaluate
from kamrules.engine.evaluation import AccountResult, DecisionResult, Evaluation, Hit
from kamrules.engine.outcomes import Outcome, Outcomes

__all__ = ["evaluate", "AccountResult", "DecisionResult", "Evaluation", "Hit", "Outcome", "Outcomes"]
