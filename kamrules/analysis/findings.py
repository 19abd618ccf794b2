"""One finding of the analysis, and how findings are shown: grouped per decision, or as JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from kamrules.errors import Location
from kamrules.language import expr as ex


@dataclass(frozen=True)
class Finding:
    severity: str  # "error" | "warning"
    kind: str  # gap, overlap, hidden, impossible, dead_on_data, unknown_literal, missing_field, not_analysed
    decision: str  # decision id, or "" for the data file
    message: str
    rule: str = ""
    location: Location = Location("")
    example: dict = field(default_factory=dict)  # the facts that show it (name -> value; None = missing)

    def to_dict(self) -> dict:
        return {"severity": self.severity, "kind": self.kind, "decision": self.decision, "rule": self.rule,
                "message": self.message, "location": str(self.location),
                "example": {k: show_value(v) for k, v in self.example.items()}}


def show_value(value: Any) -> str:
    if value is None:
        return "missing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return ex.format_number(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return f'"{value}"'


def has_failures(findings: list, strict: bool) -> bool:
    return any(f.severity == "error" or (strict and f.severity == "warning") for f in findings)


def render_findings(findings: list, lang: str = "en") -> str:
    """Grouped per decision (in pack order, as found), errors before warnings; one line per finding
    and its counterexample; the frame in `lang` (the messages are built in it)."""
    from kamrules.i18n import data_text as say

    if not findings:
        return ""
    groups: dict[str, list] = {}
    for finding in findings:
        groups.setdefault(finding.decision, []).append(finding)
    lines = []
    for decision, items in groups.items():
        lines.append(say(lang, "findings_decision", id=decision) if decision else say(lang, "findings_data"))
        for finding in sorted(items, key=lambda f: f.severity != "error"):
            where = f"{finding.location}: " if finding.location.file else ""
            lines.append(say(lang, "finding_line", severity=say(lang, f"severity_{finding.severity}"), where=where,
                             message=finding.message))
            if finding.example:
                facts = ", ".join(f"{k} = {show_value(v)}" for k, v in finding.example.items())
                lines.append(say(lang, "finding_example", facts=facts))
    errors = sum(1 for f in findings if f.severity == "error")
    warnings = sum(1 for f in findings if f.severity == "warning")
    notes = len(findings) - errors - warnings
    lines.append(say(lang, "findings_count", errors=errors, warnings=warnings)
                 + (say(lang, "findings_notes", notes=notes) if notes else ""))
    return "\n".join(lines) + "\n"


def findings_json(findings: list, extra: dict | None = None) -> str:
    data = {"findings": [f.to_dict() for f in findings],
            "errors": sum(1 for f in findings if f.severity == "error"),
            "warnings": sum(1 for f in findings if f.severity == "warning"), **(extra or {})}
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
