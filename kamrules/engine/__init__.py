"""Deciding: features and scores computed with pandas, each decision matched by durable_rules, the
result an `Evaluation`."""

import warnings

import pandas as pd

# A pack of many features and decisions adds a column per name to one frame; pandas then warns that the
# frame is "highly fragmented" (a performance hint, not a fault). kamrules adds columns on purpose, one
# per name, so the hint is silenced for kamrules' own modules only — never for the user's code.
warnings.filterwarnings("ignore", category=pd.errors.PerformanceWarning, module=r"kamrules(\.|$)")

from kamrules.engine.evaluate import evaluate
from kamrules.engine.evaluation import AccountResult, DecisionResult, Evaluation, Hit
from kamrules.engine.outcomes import Outcome, Outcomes

__all__ = ["evaluate", "AccountResult", "DecisionResult", "Evaluation", "Hit", "Outcome", "Outcomes"]
