"""Hardening (issue #15), part 3: limits — regular expressions that stay linear on huge cells (item 5),
templates with an output size and time budget (item 6), non-finite outputs and overflow (item 10) and
playbooks streamed to the output (item 12). Parts 1 and 2: test_security.py, test_security_inputs.py."""

from __future__ import annotations

import re
import types

import pytest

from test_security import DATA, RULES, _evaluate

MB = 1_000_000


# ------------------------------------------------------------------ 5. linear regular expressions


class _Spy:
    """A compiled pattern that records (pattern, length of the text) for every use."""

    def __init__(self, pattern: re.Pattern, seen: list):
        self._pattern, self._seen = pattern, seen

    def __getattr__(self, name):
        method = getattr(self._pattern, name)
        if name not in ("match", "fullmatch", "search", "sub", "subn", "findall", "finditer", "split"):
            return method

        def call(*args, **kwargs):
            text = args[1] if name in ("sub", "subn") else args[0]
            self._seen.append((self._pattern.pattern, len(text)))
            return method(*args, **kwargs)

        return call


def _spy_on_regexes(module, monkeypatch) -> list:
    """Every Python regex `module` applies (its compiled patterns, also in dicts, and `re.*` calls)."""
    seen: list = []
    for name, value in list(vars(module).items()):
        if isinstance(value, re.Pattern):
            monkeypatch.setattr(module, name, _Spy(value, seen))
        elif isinstance(value, dict) and any(isinstance(v, re.Pattern) for v in value.values()):
            monkeypatch.setattr(module, name, {k: _Spy(v, seen) if isinstance(v, re.Pattern) else v
                                               for k, v in value.items()})
    proxy = types.SimpleNamespace(**{n: getattr(re, n) for n in dir(re) if not n.startswith("__")})
    for function in ("match", "fullmatch", "search", "sub", "subn", "findall", "finditer", "split"):
        def call(pattern, *args, _function=function, **kwargs):
            return getattr(_Spy(re.compile(pattern), seen), _function)(*args, **kwargs)

        setattr(proxy, function, call)
    monkeypatch.setattr(module, "re", proxy)
    return seen


@pytest.mark.parametrize("cell", ["1" + " " * MB + "x", "1" * MB + "x", "1" + ",000" * (MB // 4) + "x",
                                  "¥" + " " * MB + "5 元"])
def test_a_number_cell_of_1_mb_never_reaches_a_backtracking_regex(monkeypatch, cell):
    from kamrules.data import numbers

    seen = _spy_on_regexes(numbers, monkeypatch)
    value, reason = numbers.parse_number(cell)
    assert value is None and reason.startswith("is not a number (")
    assert "a number has at most 100" in reason
    assert all(length <= numbers.MAX_NUMBER_CHARS for _, length in seen), seen


@pytest.mark.parametrize("cell", ["1" + "T" * MB + "x", "2026-01-05" + " " * MB + "12:00", "1" + " " * MB + "2"])
def test_a_date_cell_of_1_mb_never_reaches_a_backtracking_regex(monkeypatch, cell):
    from kamrules.data import dates

    seen = _spy_on_regexes(dates, monkeypatch)
    value, reason = dates.parse_date(cell)
    assert value is None and "a date has at most 100" in reason
    assert all(length <= dates.MAX_DATE_CHARS for _, length in seen), seen


def test_ordinary_numbers_and_dates_still_parse():
    from kamrules.data.dates import parse_date
    from kamrules.data.numbers import parse_number

    assert parse_number("¥1,234.50") == (1234.5, None)
    assert parse_number("-$2,000 元") == (-2000.0, None)
    assert parse_number("5USD") == (5.0, None)
    assert parse_number("12.5%")[0] == pytest.approx(0.125)
    assert parse_number("1e3") == (1000.0, None)
    assert parse_number("1.") == (1.0, None)
    assert parse_number(" " * 500 + "42" + " " * 500) == (42.0, None)  # padding is not length
    assert str(parse_date("September 30, 2026 11:59:59 PM +08:00")[0])[:10] == "2026-09-30"
    assert str(parse_date("2026-01-05T12:34:56.123456+08:00")[0])[:10] == "2026-01-05"


def test_markdown_escaping_of_a_1_mb_name_is_one_pass(monkeypatch):
    from kamrules.documents import environment

    seen = _spy_on_regexes(environment, monkeypatch)
    runs = []
    one_line = environment._one_line
    monkeypatch.setattr(environment, "_one_line", lambda match: runs.append(match.span()) or one_line(match))
    name = "A\nB" + " " * MB + "C"
    assert environment.md_escape(name) == "A B" + " " * MB + "C"
    # each regex is a single character class: it looks at every character once, whatever the text
    assert {pattern for pattern, _ in seen} <= {r"\s+", environment._MD_SPECIAL._pattern.pattern}
    assert len(runs) == 2  # the two runs of white space, each matched once
    assert environment.md_escape("a \r\n  b | *c*") == r"a b \| \*c\*"


def test_huge_cells_are_read_with_one_reason_each(tmp_path, monkeypatch):
    """Through the reader: the cells of the issue (100 KB each), each named as a bad value."""
    from kamrules.data import dates, numbers
    from kamrules.data.reader import ReadOptions, read_table
    from kamrules.pack import FieldSpec

    seen = _spy_on_regexes(numbers, monkeypatch) + _spy_on_regexes(dates, monkeypatch)
    path = tmp_path / "big.csv"
    path.write_text("account_id,account_name,sales,first_order\n"
                    f'A1,"A\nB{" " * 100_000}C",1{" " * 40_000}x,1{"T" * 40_000}x\n'
                    "A2,Beta,10,2026-01-05\n", encoding="utf-8")
    fields = [FieldSpec(name="account_id", type="string"),
              FieldSpec(name="account_name", type="string"), FieldSpec(name="sales", type="number"),
              FieldSpec(name="first_order", type="date")]
    read = read_table(path, fields, ReadOptions(on_bad_value="missing"))
    reasons = sorted(issue.reason for issue in read.issues)
    assert len(reasons) == 2
    assert "a date has at most 100" in reasons[0] and "a number has at most 100" in reasons[1]
    assert all(length <= 100 for _, length in seen)


# ------------------------------------------------------------------ 6. template budgets


def _playbooks_with(tmp_path, body: str):
    """A team folder whose Markdown playbook runs `body` for account 00042 only, so the check against
    the sample accounts passes and the failure happens while rendering a real account."""
    folder = tmp_path / "tpl"
    folder.mkdir(exist_ok=True)
    (folder / "playbook.md.j2").write_text(
        '{% extends "default/playbook.md.j2" %}{% block header %}{{ super() }}'
        '{% if account.id == "00042" %}' + body + "{% endif %}{% endblock %}\n", encoding="utf-8")
    return folder


@pytest.mark.parametrize("body, expected", [
    ("{{ '%*d' % (1000000000, 1) }}", "a '%*' width taken from the values is not allowed"),
    ("{{ '%1000000000d' % 1 }}", "asks for a width or precision of 1,000,000,000"),
    ("{{ account.id|center(1000000000) }}", "'center' asks for a width or precision of 1,000,000,000"),
    ("{{ account.id|indent(1000000000) }}", "'indent' asks for a width or precision of 1,000,000,000"),
    ("{{ '{:>1000000000}'.format(1) }}", "the format '{:>1000000000}' asks for a width"),
    ("{{ '{:>{}}'.format(1, 1000000000) }}", "a format spec taken from the values is not allowed"),
    ("{{ '%1000000000d'|format(1) }}", "asks for a width or precision of 1,000,000,000"),
    ("{{ account.id.rjust(1000000000) }}", "'rjust' asks for a width"),
    ("{{ ('x' * 100000)|replace('x', 'y' * 100000) }}", "'replace' would be 10,000,000,000 characters long"),
    ("{% set ns = namespace(s='x') %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
     "a text joined with '~' would be 33,554,432 characters long"),
    ("{% set s = 'x' * 100000 %}{% for i in range(100000) %}{{ s }}{% endfor %}",
     "the document grew over 20,000,000 characters"),
    ("{{ [1]|batch(1000000000, 0)|list|length }}", "'batch' of 1,000,000,000 items"),
])
def test_a_template_cannot_build_huge_output(tmp_path, body, expected):
    result = _evaluate("--out", "out", "--playbooks", "all", "--playbooks-dir", str(_playbooks_with(tmp_path, body)))
    assert result.exit_code == 1, result.output
    assert expected in result.output
    assert "playbook.md.j2:1: " in result.output  # the template and line
    assert "rendering the playbook of account '00042' (row 2)" in result.output  # and the account
    assert not (tmp_path / "out").exists()


def test_nested_loops_stop_at_the_time_budget(tmp_path, monkeypatch):
    from kamrules.documents import guards

    monkeypatch.setattr(guards, "RENDER_SECONDS", 0.5)
    body = "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}"
    result = _evaluate("--out", "out", "--playbooks", "all", "--playbooks-dir", str(_playbooks_with(tmp_path, body)))
    assert result.exit_code == 1, result.output
    assert "rendering one document took over 0 s (a loop inside a loop" in result.output
    assert "playbook.md.j2:1: " in result.output and "account '00042'" in result.output


def test_ordinary_formats_widths_and_loops_still_render():
    from kamrules.documents.environment import make_environment

    source = ("{{ '%5.2f|%-4s|%%' % (3.14159, 'ab') }} {{ 'x'|center(7) }} {{ '{:>6,.1f}'.format(1234.5) }} "
              "{{ 7 % 3 }} {{ 'a' ~ 'b' + 'c' }} {{ 'l1\nl2'|indent(2) }} {{ 'ab'|replace('a', 'xyz') }} "
              "{% for i in range(3) %}{{ i }}{% endfor %} {{ [1, 2, 3]|batch(2, 0)|list }}")
    assert make_environment(None).from_string(source).render() == (
        " 3.14|ab  |%    x    1,234.5 1 abc l1\n  l2 xyzb 012 [[1, 2], [3, 0]]")


# ------------------------------------------------------------------ 12. playbooks streamed to OUT


def test_playbooks_are_rendered_as_they_are_written_one_account_at_a_time(tmp_path, monkeypatch):
    from kamrules.data import writer
    from kamrules.documents import render

    events: list = []
    render_one, write_one = render.Renderer.render, writer._write_file
    monkeypatch.setattr(render.Renderer, "render", lambda self, account: events.append("render") or
                        render_one(self, account))
    monkeypatch.setattr(writer, "_write_file", lambda path, content: (
        events.append(path.name) if path.parent.name == "playbooks" else None) or write_one(path, content))
    assert _evaluate("--out", "out", "--playbooks", "all").exit_code == 0
    written = sorted(p.name for p in (tmp_path / "out" / "playbooks").iterdir())
    # the sample accounts of the template check render first; then each account is rendered while its
    # first file is written (the writer logs the name, then iterates) and its second file is the same render
    real = events[events.index(written[0]):]
    assert real == [item for name in written[::2] for item in (name, "render", name.replace(".html", ".md"))]
    assert len(written) == 2 * real.count("render") > 2


def test_a_template_error_while_streaming_leaves_the_previous_output(tmp_path):
    assert _evaluate("--out", "out").exit_code == 0
    before = sorted(p.relative_to(tmp_path / "out") for p in (tmp_path / "out").rglob("*"))
    body = "{{ '%*d' % (1000000000, 1) }}"
    result = _evaluate("--out", "out", "--playbooks", "all", "--playbooks-dir", str(_playbooks_with(tmp_path, body)))
    assert result.exit_code == 1 and "account '00042'" in result.output
    assert sorted(p.relative_to(tmp_path / "out") for p in (tmp_path / "out").rglob("*")) == before
    assert not [p for p in tmp_path.iterdir() if "kamrules-new" in p.name]  # the staging folder is gone


# ------------------------------------------------------------------ 10. non-finite outputs, overflow


def _pack_with(tmp_path, features: str = "", decision: str = ""):
    import shutil

    pack = tmp_path / "pack"
    shutil.copytree(RULES, pack)
    if features:
        with (pack / "10-features.yaml").open("a", encoding="utf-8") as handle:
            handle.write(features)
    if decision:
        (pack / "30-extra.yaml").write_text(decision, encoding="utf-8")
    return pack


_NUMBER_OUTPUT = """decisions:
  budget:
    hit: first
    outputs: {{amount: {{type: number}}}}
    rules:
      - id: big
        when: sales > 0
        then: {{amount: {then}}}
    default: {{amount: {default}}}
"""


@pytest.mark.parametrize("then, default, where", [
    (".inf", "0", "30-extra.yaml:8:24: the number is beyond"), (".nan", "0", "30-extra.yaml:8:24: '.nan'"),
    ("1", "-.inf", "30-extra.yaml:9:23: the number is beyond"), ("1", ".NaN", "30-extra.yaml:9:23: '.nan'"),
])
def test_validate_refuses_non_finite_output_values(tmp_path, then, default, where):
    from typer.testing import CliRunner

    from kamrules.cli import app

    pack = _pack_with(tmp_path, decision=_NUMBER_OUTPUT.format(then=then, default=default))
    result = CliRunner().invoke(app, ["validate", str(pack)])
    assert result.exit_code == 1, result.output
    assert where in result.output


def test_overflow_in_a_feature_is_a_warning_with_its_name_and_count(tmp_path):
    import csv

    pack = _pack_with(tmp_path, features="  huge: {expr: sales * 1e300 * 1e10}\n  total_huge: {sum: near_max}\n"
                                         "  near_max: {expr: sales * 0 + 1e308}\n")
    result = _evaluate("--out", "out", "--rules", str(pack), "-q")  # -q: errors and warnings only
    assert result.exit_code == 0, result.output
    accounts = sum(1 for _ in open(DATA, encoding="utf-8")) - 1
    with_sales = sum(1 for row in csv.DictReader(open(DATA, encoding="utf-8")) if row["sales"].strip())
    assert (f"warning: 'huge' overflowed (a number too large to compute) for {with_sales} accounts; it is "
            "missing for them, as after a division by zero") in result.output
    assert f"warning: 'total_huge' overflowed (a number too large to compute) for {accounts} accounts" in result.output
    assert "'near_max' overflowed" not in result.output  # large but finite: kept


def test_rounding_huge_numbers_does_not_overflow():
    import pandas as pd

    from kamrules.language.vecsem import round_series

    assert list(round_series(pd.Series([2e299, -1e305, 1.23456789012, float("inf")]))) == [
        2e299, -1e305, 1.23456789, float("inf")]


# ------------------------------------------------------------------ 9. --strict refuses odd data


def test_strict_refuses_negative_sales_and_look_alike_ids_before_the_run(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    import kamrules.run
    from kamrules.cli import app

    (tmp_path / "d.csv").write_text("account_id,account_name,sales\nA1,x,500\nＡ1,y,400\nB2,z,-30\n", encoding="utf-8")
    monkeypatch.setattr(kamrules.run, "evaluate", lambda *a, **k: pytest.fail("the run started"))
    result = CliRunner().invoke(app, ["evaluate", "d.csv", "--rules", str(RULES), "--as-of", "2026-11-27",
                                      "--out", "out", "--jobs", "1", "--strict"])
    assert result.exit_code == 1, result.output
    assert "1 accounts have negative sales (rows 4)" in result.output
    assert "'A1' (row 2) and 'Ａ1' (row 3)" in result.output
    assert "(--strict refuses these; fix the data, or run without --strict to be warned only)" in result.output
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------ crashes: a 2,000-feature cycle


def test_a_2000_feature_cycle_is_a_rule_error_not_a_recursion_error(tmp_path):
    from kamrules.errors import RuleError
    from kamrules.pack import load_pack

    chain = "".join(f"  f{i}: {{expr: f{(i + 1) % 2000} + 1}}\n" for i in range(2000))
    with pytest.raises(RuleError) as caught:
        load_pack(_pack_with(tmp_path, features=chain))
    assert ("10-features.yaml:10:3: feature 'f0' depends on itself: f0 → f1 → f2 → f3 → f4 → f5 → "
            "… 1992 more … → f1998 → f1999 → f0") in str(caught.value)


def test_the_report_size_budget_grows_with_the_portfolio(monkeypatch):
    """The report lists accounts (4 MB for 50,000): a flat budget would refuse a large portfolio."""
    from kamrules.documents import guards
    from kamrules.documents.render import probe_evaluation
    from kamrules.documents.report import render_report
    from kamrules.errors import TemplateError
    from kamrules.pack import load_pack
    from kamrules.results.portfolio import summarise

    probe = probe_evaluation(load_pack(RULES))
    monkeypatch.setattr(guards, "MAX_DOCUMENT_CHARS", 1_000)  # smaller than any page
    with pytest.raises(TemplateError) as caught:
        render_report(probe, summarise(probe), checked=True)
    assert "report.html.j2" in str(caught.value)
    assert "the document grew over 5,000 characters" in str(caught.value)  # 1,000 + 2 accounts × 2,000
    monkeypatch.setattr(guards, "portfolio_limit", lambda accounts: 10_000_000 + accounts)
    assert render_report(probe, summarise(probe), checked=True).startswith(b"<!DOCTYPE html>")


def test_portfolio_pages_get_budgets_that_grow_with_the_accounts():
    from kamrules.documents import guards
    from kamrules.documents.environment import make_environment

    env = make_environment(None)
    guards.budget_for_portfolio(env, 200_000)
    assert (env.max_chars, env.max_seconds) == (420_000_000, 260.0)
    fresh = make_environment(None)  # a playbook environment keeps the flat budgets
    assert (fresh.max_chars, fresh._seconds()) == (20_000_000, 60.0)
