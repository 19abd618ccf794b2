"""What `kamrules test` prints and writes: plain text per failing case, JUnit XML for CI, JSON."""

from __future__ import annotations

import json
from xml.etree import ElementTree as ET

from kamrules.testing.runner import TestRun


def render_text(run: TestRun, lang: str = "en", coverage: bool = False) -> str:
    lines = []
    for result in run.failed:
        case = result.case
        lines.append(f"FAIL {case.loc}: {case.name}" + (f" — {case.reason}" if case.reason else ""))
        if result.error:
            lines.append(f"  {result.error}")
        for mismatch in result.mismatches:
            lines += ["  " + line for line in mismatch.lines[lang]]
        lines.append("")
    passed = len(run.results) - len(run.failed)
    summary = f"{passed} passed, {len(run.failed)} failed" if lang != "zh" else f"{passed} 个通过，{len(run.failed)} 个失败"
    if coverage:
        lines += render_coverage(run)
    lines.append(summary + f" ({len(run.results)} cases)" if lang != "zh" else summary + f"（共 {len(run.results)} 个用例）")
    return "\n".join(lines) + "\n"


def render_coverage(run: TestRun) -> list:
    lines = ["coverage (rules and defaults exercised by at least one case):"]
    for decision, rules in run.coverage.decisions.items():
        hit = sum(1 for n in rules.values() if n)
        lines.append(f"  {decision}: {hit}/{len(rules)}")
        never = [r for r, n in rules.items() if not n]
        if never:
            lines.append(f"    never: {', '.join(never)}")
    lines.append(f"  total: {run.coverage.percent():g}%")
    return lines + [""]


def to_json(run: TestRun, lang: str = "en") -> str:
    data = {
        "cases": [
            {"name": r.case.name, "file": r.case.file, "line": r.case.loc.line, "passed": r.passed,
             "error": r.error or None, "failures": [m.lines[lang] for m in r.mismatches]}
            for r in run.results
        ],
        "passed": len(run.results) - len(run.failed),
        "failed": len(run.failed),
        "coverage": {
            "percent": run.coverage.percent(),
            "decisions": {d: {"exercised": sorted(r for r, n in rules.items() if n),
                              "never": sorted(r for r, n in rules.items() if not n),
                              "cases": dict(sorted(rules.items()))}
                          for d, rules in run.coverage.decisions.items()},
        },
    }
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def to_junit(run: TestRun, lang: str = "en") -> bytes:
    suite = ET.Element("testsuite", name="kamrules", tests=str(len(run.results)),
                       failures=str(sum(1 for r in run.failed if not r.error)),
                       errors=str(sum(1 for r in run.failed if r.error)))
    for result in run.results:
        case = ET.SubElement(suite, "testcase", classname=result.case.file, name=result.case.name,
                             file=result.case.file, line=str(result.case.loc.line))
        if result.error:
            ET.SubElement(case, "error", message=result.error).text = result.error
        elif result.mismatches:
            text = "\n".join(line for m in result.mismatches for line in m.lines[lang])
            ET.SubElement(case, "failure", message=result.mismatches[0].lines[lang][0]).text = text
    ET.indent(suite)
    return ET.tostring(suite, encoding="utf-8", xml_declaration=True) + b"\n"
