"""Deciding: features and scores computed with pandas, each decision matched by durable_rules, the
result an `Evaluation`."""

from kamrules.engine.evaluate import evaluate
from kamrules.engine.evaluation import AccountResult, DecisionResult, Evaluation, Hit

__all__ = ["evaluate", "AccountResult", "DecisionResult", "Evaluation", "Hit"]
