"""Pack tests: cases that say "given these facts, expect this decision", run with `kamrules test`."""

from kamrules.testing.cases import TestCase, TestFile, load_cases
from kamrules.testing.runner import CaseResult, Coverage, TestRun, run_tests

__all__ = ["TestCase", "TestFile", "load_cases", "CaseResult", "Coverage", "TestRun", "run_tests"]
