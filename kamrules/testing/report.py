"""What `kamrules test` prints and writes: plain text per failing case, JUnit XML for CI, JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path
from xml.etree import ElementTree as ET

from kamrules.i18n import TESTING
from kamrules.testing.runner import TestRun

# What XML 1.0 cannot hold (control characters but tab, LF, CR; lone surrogates; U+FFFE/U+FFFF): a
# case name or a cell with one made the JUnit file not well-formed, and a CI server dropped it.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# On a terminal: the C0 and C1 controls but tab and line feed (ESC would move the cursor, recolour…).
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def _xml(text) -> str:
    return _NOT_XML.sub("\ufffd", str(text))


def _plain(text) -> str:
    return _CONTROLS.sub("\ufffd", str(text))


def render_text(run: TestRun, lang: str = "en", coverage: bool = False) -> str:
    lines = []
    for result in run.failed:
        case = result.case
        lines.append(_plain(f"FAIL {case.loc}: {case.name}" + (f" — {case.reason}" if case.reason else "")))
        if result.error:
            lines.append(_plain(f"  {result.error}"))
        for mismatch in result.mismatches:
            lines += ["  " + _plain(line) for line in mismatch.lines[lang]]
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
        lines.append(_plain(TESTING[lang]["prop_fail"].format(loc=prop.loc, name=prop.name, kind=prop.kind,
                                                               portfolio=where)
                            + (f" — {prop.reason}" if prop.reason else "")))
        if result.error:
            lines += ["  " + _plain(line) for line in result.error.splitlines()]
        lines += ["  " + _plain(v[lang]) for v in result.violations[:PROPERTY_LINES_SHOWN]]
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
        case = ET.SubElement(suite, "testcase", classname=_xml(result.case.file), name=_xml(result.case.name),
                             file=_xml(result.case.file), line=str(result.case.loc.line))
        if result.error:
            ET.SubElement(case, "error", message=_xml(result.error)).text = _xml(result.error)
        elif result.mismatches:
            text = "\n".join(line for m in result.mismatches for line in m.lines[lang])
            ET.SubElement(case, "failure", message=_xml(result.mismatches[0].lines[lang][0])).text = _xml(text)
    for result in run.properties:  # one <testcase> per property and portfolio
        prop = result.prop
        where = result.portfolio or TESTING[lang]["prop_on_pack"]
        case = ET.SubElement(suite, "testcase", classname=_xml(prop.file), name=_xml(f"property '{prop.name}' on {where}"),
                             file=_xml(prop.file), line=str(prop.loc.line))
        if result.error:
            ET.SubElement(case, "error", message=_xml(result.error.splitlines()[0])).text = _xml(result.error)
        elif result.violations:
            text = "\n".join(v[lang] for v in result.violations)
            ET.SubElement(case, "failure", message=_xml(result.violations[0][lang])).text = _xml(text)
    ET.indent(suite)
    return ET.tostring(suite, encoding="utf-8", xml_declaration=True) + b"\n"


def check_junit(path: Path, pack_folder: Path) -> None:
    """Refuse a `--junit` path before the cases run, as `--out` is refused: inside the pack under test
    (it replaced a rule file, and the pack no longer loaded), a folder, or in a missing folder."""
    from kamrules.data.writer import check_file_target

    check_file_target(path, "--junit", inside=[pack_folder])


def write_junit(path: Path, run: TestRun, lang: str = "en") -> None:
    """Write the JUnit XML atomically: a full disk is an error naming the path, and leaves no half file."""
    from kamrules.data.writer import write_file

    write_file(path, to_junit(run, lang), "--junit")
