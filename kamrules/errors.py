"""One exception family for everything a user can fix, with locations they can find."""

from __future__ import annotations

from dataclasses import dataclass


class KamrulesError(Exception):
    """A problem the user can fix: bad rule file, bad data, bad template, bad option."""

    exit_code = 1


class UsageError(KamrulesError):
    """A command-line option is wrong."""

    exit_code = 2


class ConfigError(KamrulesError):
    """A setting outside the rule files is wrong (paths, output folder, column mapping)."""


class DataError(KamrulesError):
    """The input data cannot be read as the pack needs it."""


class TemplateError(KamrulesError):
    """A playbook template is wrong."""


class EvaluationError(KamrulesError):
    """The rules cannot decide an account (for example two rules match a `unique` table)."""


@dataclass(frozen=True, order=True)
class Location:
    """Where something is in a rule file; line and column are 1-based."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}:{self.column}"
        return self.file


@dataclass(frozen=True)
class Diagnostic:
    """One finding about a rule pack: an error or a warning, with its place and breadcrumb."""

    location: Location
    message: str
    severity: str = "error"  # "error" | "warning"

    def __str__(self) -> str:
        prefix = "" if self.severity == "error" else "warning: "
        return f"{self.location}: {prefix}{self.message}"


class RuleError(KamrulesError):
    """A rule pack has errors; all of them are listed."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = sorted(diagnostics, key=lambda d: (d.location, d.message))
        super().__init__("\n".join(str(d) for d in self.diagnostics))
