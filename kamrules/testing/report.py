"""What `kamrules test` prints and writes: plain text per failing case, JUnit XML for CI, JSON."""

from __future__ import annotations

import json
from xml.etree import ElementTree as ET

from kamrules.i18n import TESTING
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
    lines += render_properties(run, lang)
    passed = len(run.results) - len(run.failed)
    summary = f"{passed} passed, {len(run.failed)} failed" if lang != "zh" else f"{passed} 个通过，{len(run.failed)} 个失败"
    if coverage:
        lines += render_coverage(run)
    if run.cases_run and (run.results or not run.properties):
        lines.append(summary + f" ({len(run.results)} cases)" if lang != "zh" else summary + f"（共 {len(run.results)} 个用例）")
    if run.properties:
        lines.append(property_summary(run, lang))
    return "\n".join(lines) + "\n"


PROPERTY_LINES_SHOWN = 20  # violations listed per failing property check (the JSON report has them all)


def render_properties(run: TestRun, lang: str = "en") -> list:
    """A block per failing property check: where the property is, on which portfolio, each violation."""
    lines = []
    for result in run.failed_properties:
        prop = result.prop
        where = result.portfolio or TESTING[lang]["prop_on_pack"]
        lines.append(TESTING[lang]["prop_fail"].format(loc=prop.loc, name=prop.name, kind=prop.kind, portfolio=where)
                     + (f" — {prop.reason}" if prop.reason else ""))
        if result.error:
            lines += ["  " + line for line in result.error.splitlines()]
        lines += ["  " + v[lang] for v in result.violations[:PROPERTY_LINES_SHOWN]]
        if len(result.violations) > PROPERTY_LINES_SHOWN:
            lines.append("  " + TESTING[lang]["prop_more"].format(n=len(result.violations) - PROPERTY_LINES_SHOWN))
        lines.append("")
    return lines


def property_summary(run: TestRun, lang: str = "en") -> str:
    """"property checks: 11 held, 0 failed (5 properties, 2 portfolios)": one check is one property on
    one portfolio (or on the pack itself)."""
    words = TESTING[lang]
    failed = len(run.failed_properties)

    def counted(key: str, n: int) -> str:
        one, many = words[key].split("|")
        return (one if n == 1 else many).format(n=n)

    return words["prop_summary"].format(
        held=len(run.properties) - failed, failed=failed,
        properties=counted("prop_properties", len({id(r.prop) for r in run.properties})),
        portfolios=counted("prop_portfolios", len({r.portfolio for r in run.properties if r.portfolio})))


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
        "properties": [
            {"name": r.prop.name, "kind": r.prop.kind, "file": r.prop.file, "line": r.prop.loc.line,
             "portfolio": r.portfolio or None, "accounts": r.accounts, "evaluations": r.evaluations,
             "passed": r.passed, "error": r.error or None, "violations": [v[lang] for v in r.violations]}
            for r in run.properties
        ],
        "properties_held": len(run.properties) - len(run.failed_properties),
        "properties_failed": len(run.failed_properties),
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
    checks = [*run.results, *run.properties]
    suite = ET.Element("testsuite", name="kamrules", tests=str(len(checks)),
                       failures=str(sum(1 for r in checks if not r.passed and not r.error)),
                       errors=str(sum(1 for r in checks if r.error)))
    for result in run.results:
        case = ET.SubElement(suite, "testcase", classname=result.case.file, name=result.case.name,
                             file=result.case.file, line=str(result.case.loc.line))
        if result.error:
            ET.SubElement(case, "error", message=result.error).text = result.error
        elif result.mismatches:
            text = "\n".join(line for m in result.mismatches for line in m.lines[lang])
            ET.SubElement(case, "failure", message=result.mismatches[0].lines[lang][0]).text = text
    for result in run.properties:  # one <testcase> per property and portfolio
        prop = result.prop
        where = result.portfolio or TESTING[lang]["prop_on_pack"]
        case = ET.SubElement(suite, "testcase", classname=prop.file, name=f"property '{prop.name}' on {where}",
                             file=prop.file, line=str(prop.loc.line))
        if result.error:
            ET.SubElement(case, "error", message=result.error.splitlines()[0]).text = result.error
        elif result.violations:
            text = "\n".join(v[lang] for v in result.violations)
            ET.SubElement(case, "failure", message=result.violations[0][lang]).text = text
    ET.indent(suite)
    return ET.tostring(suite, encoding="utf-8", xml_declaration=True) + b"\n"
