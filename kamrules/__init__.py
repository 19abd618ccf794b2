"""kamrules: key-account-management decision support from YAML rule packs.

The library API (docs/library.md); the `kamrules` command is a thin layer over it::

    import kamrules

    pack = kamrules.load_pack("rules")
    table = kamrules.read_table("customers.csv", list(pack.fields.values()))
    evaluation = kamrules.evaluate(pack, table.frame, as_of=datetime.date(2026, 11, 30))
    portfolio = kamrules.summarise(evaluation)

Names are imported when first used, so `import kamrules` (and `kamrules --help`) stays instant.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> the module that defines it
_API = {
    "load_pack": "kamrules.pack",
    "RulePack": "kamrules.pack",
    "read_table": "kamrules.data.reader",
    "ReadOptions": "kamrules.data.reader",
    "evaluate": "kamrules.engine.evaluate",
    "Evaluation": "kamrules.engine.evaluation",
    "Outcomes": "kamrules.engine.outcomes",
    "Outcome": "kamrules.engine.outcomes",
    "summarise": "kamrules.results.portfolio",
    "Portfolio": "kamrules.results.portfolio",
    "explain_account": "kamrules.results.explain",
    "find_account": "kamrules.results.explain",
    "render_explanation": "kamrules.results.explain",
    "render_playbooks": "kamrules.documents.render",
    "check_templates": "kamrules.documents.render",
    "render_report": "kamrules.documents.report",
    "run_evaluate": "kamrules.run",
    "EvaluateOptions": "kamrules.run",
    "KamrulesError": "kamrules.errors",
    "UsageError": "kamrules.errors",
    "ConfigError": "kamrules.errors",
    "RuleError": "kamrules.errors",
    "DataError": "kamrules.errors",
    "TemplateError": "kamrules.errors",
    "EvaluationError": "kamrules.errors",
}
_ALIASES = {"explain": "explain_account"}

__all__ = ["__version__", *_API, *_ALIASES]


def __getattr__(name: str) -> Any:
    target = _ALIASES.get(name, name)
    module = _API.get(target)
    if module is None:
        raise AttributeError(f"module 'kamrules' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), target)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
