"""What `kamrules validate` finds before a run goes wrong: gaps, overlaps, hidden and impossible rules
(static, over the condition language), and with `--data` the checks against a real file."""

from kamrules.analysis.findings import Finding, has_failures
from kamrules.analysis.tables import analyse_pack

__all__ = ["Finding", "has_failures", "analyse_pack"]
