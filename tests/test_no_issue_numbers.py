"""Comments and docs describe the code as it is: they cite no issue numbers (the tracker is not part of
the repository, and its numbers mean nothing to a reader of a release) and no paths outside it."""

from __future__ import annotations

import re

from conftest import ROOT

ISSUE = re.compile(r"\bissues? #?\d+|#\d+,? items?\b|\(#\d+[,)]")
OUTSIDE = re.compile(r"(?<![\w.~-])/(?:tmp|work|home|root|opt|Users)/")


def _texts():
    for path in sorted([*(ROOT / "kamrules").rglob("*.py"), *(ROOT / "docs").rglob("*.md"), ROOT / "README.md"]):
        yield path, path.read_text(encoding="utf-8")


def test_no_issue_numbers_or_outside_paths_in_the_code_and_docs():
    found = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
             for path, text in _texts() for number, line in enumerate(text.splitlines(), 1)
             if ISSUE.search(line) or OUTSIDE.search(line)]
    assert found == []


def test_the_patterns_catch_what_they_are_for():
    for line in ("one definition (issue #9)", "issue 29: a run folder", "(round 3, issue #29 item 16)",
                 "see #27 item 4", "(#9, duplicates)", "open items of issues #15 and #29"):
        assert ISSUE.search(line), line
    for line in ("copied to /tmp/kamrules-mutation", "read /work/shared/STYLE.md"):
        assert OUTSIDE.search(line), line
    for line in ("color: #1f2937;", "row #3 of the sheet", "tests/projects/basic", "`kamrules/tmp/x`"):
        assert not ISSUE.search(line) and not OUTSIDE.search(line), line
