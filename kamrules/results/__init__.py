"""Reading an evaluation: columns, the decision table, trace and manifest, explanations and the
portfolio numbers (Pareto split, concentration, risks)."""

from kamrules.results.explain import explain_account, find_account, render_explanation
from kamrules.results.portfolio import summarise
from kamrules.results.portfolio_model import Portfolio

__all__ = ["explain_account", "find_account", "render_explanation", "Portfolio", "summarise"]
