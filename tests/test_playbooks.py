"""Playbooks: golden Markdown (en, zh), template checking, the sandbox, file names, overrides, determinism."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from kamrules.documents import context as playbooks
from kamrules.documents import environment, review
from kamrules.documents.context import build_context
from kamrules.errors import TemplateError, UsageError
from kamrules.engine.evaluate import evaluate
from kamrules.pack import load_pack
from kamrules.documents.environment import md_escape
from kamrules.documents.files import playbook_links, playbook_paths, playbook_stem
from kamrules.documents.render import check_templates, render_playbooks
from kamrules.i18n import UI, fmt_date, fmt_money, fmt_number, fmt_pct

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ROOT / "tests" / "projects" / "playbook"
GOLDEN = ROOT / "tests" / "golden"
AS_OF = dt.date(2026, 11, 27)
UPDATE = os.environ.get("KAMRULES_UPDATE_GOLDEN") == "1"  # regenerate: KAMRULES_UPDATE_GOLDEN=1 pytest ...


def load_case(csv: Path = PROJECT / "accounts.csv", rules: Path = PROJECT / "rules"):
    pack = load_pack(rules)
    frame = pd.read_csv(csv, dtype={"account_id": str})
    return evaluate(pack, frame, as_of=AS_OF, input_name=csv.name)


@pytest.fixture(scope="module")
def case():
    return load_case()


def write_templates(folder: Path, files: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def account(evaluation, account_id):
    return next(a for a in evaluation.accounts if a.account_id == account_id)


# ------------------------------------------------------------------------------------------ golden

GOLDEN_ACCOUNTS = [
    ("00042", "key account, critical risk, Chinese name"),
    ("A-1003", "potential key account"),
    ("A-1009", "standard account at risk, missing last contact"),
]


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("account_id,why", GOLDEN_ACCOUNTS)
def test_markdown_matches_golden_file(case, account_id, why, lang):
    rendered = render_playbooks(case, selection="all", lang=lang)
    stem = playbook_paths(case)[account(case, account_id).index]
    text = rendered[f"playbooks/{stem}.md"].decode("utf-8")
    golden = GOLDEN / f"playbook-{account_id}.{lang}.md"
    if UPDATE:
        golden.write_text(text, encoding="utf-8", newline="\n")
    assert text == golden.read_text(encoding="utf-8"), f"{golden.name} differs ({why}); " \
        "if the change is intended, regenerate with KAMRULES_UPDATE_GOLDEN=1"


def test_golden_playbook_has_every_section_a_reviewer_expects(case):
    text = render_playbooks(case, selection="key", lang="en")["playbooks/00042-华东机械有限公司.md"].decode()
    headings = re.findall(r"^##+ (.+)$", text, flags=re.M)
    assert headings == [
        "At a glance", "Next actions", "Objectives for the next period",
        "Why this is a key account", "Tier and evaluation score", "Relationship type",
        "Service level and commitments", "Dependence and concentration", "Defection risk: Critical",
        "Action plan", "Establish the relationship", "Develop the relationship", "Maintain the relationship",
        "Next review", "Contacts and decision makers", "SWOT", "Approval", "Appendix: Account facts",
        "Appendix: Decision trace",
    ]
    # why key: the rule and the facts that fired it
    assert "(Rule `pareto_core`; Facts read: Cumulative share of sales = 26.9%)" in text
    # action rows: due date = as-of + due days; owner role; measure
    assert ("| Defection-prevention review | Sales director | 4 Dec 2026 (in 7 days) | Recovery plan approved |"
            in text)
    # next review = as-of + review_every_days (91)
    assert "**26 Feb 2027** (every 91 days, Quarterly)" in text
    assert "| No contact with a key person | Uncontrollable | 118 days without contact with a key person |" in text


def test_chinese_playbook_has_no_english_except_data_values(case):
    rendered = render_playbooks(case, selection="all", lang="zh")
    data_words = {"accounts.csv", case.pack.hash}
    for a in case.accounts:
        data_words |= {str(v) for v in a.facts.values() if isinstance(v, str)}
        data_words.add(a.account_id)
    data_words |= {r.id for d in case.pack.decisions for r in d.rules}
    allowed = {"NPS", "HHI", "ABC", "SWOT", "kamrules"}
    for path, content in rendered.items():
        if not path.endswith(".md"):
            continue
        text = content.decode()
        for word in sorted(data_words, key=len, reverse=True):
            text = text.replace(md_escape(word), " ").replace(word, " ")
        english = [w for w in re.findall(r"[A-Za-z]{2,}", text) if w not in allowed]
        assert not english, f"{path}: English left in a Chinese playbook: {english[:10]}"


def test_every_ui_string_exists_in_every_language_with_the_same_placeholders():
    assert set(UI["en"]) == set(UI["zh"])
    for key in UI["en"]:
        assert UI["en"][key].count("%s") == UI["zh"][key].count("%s"), key
        assert UI["zh"][key].strip() or key in ("colon", "comma", "semicolon", "lparen", "rparen"), key


@pytest.mark.parametrize("catalogue", ["EXPLAIN", "CONSOLE"])
def test_every_catalogue_covers_every_language_with_the_same_placeholders(catalogue):
    import re as re_

    from kamrules import i18n

    strings = getattr(i18n, catalogue)
    assert tuple(strings) == i18n.LANGS
    for lang in i18n.LANGS:
        assert set(strings[lang]) == set(strings["en"]), lang
        for key, text in strings["en"].items():
            assert sorted(re_.findall(r"{\w+}", text)) == sorted(re_.findall(r"{\w+}", strings[lang][key])), key


# ------------------------------------------------------------------------------------ selection


@pytest.mark.parametrize("selection,expected", [
    ("key", {"00042", "A-1001", "A-1002", "A-1006", "A-1011"}),
    ("key+potential", {"00042", "A-1001", "A-1002", "A-1003", "A-1006", "A-1011"}),
    ("all", None),
    ("none", set()),
])
def test_selection_by_tier(case, selection, expected):
    rendered = render_playbooks(case, selection=selection)
    ids = {a.account_id for a in case.accounts}
    expected = ids if expected is None else expected
    links = playbook_links(rendered, case)
    assert set(links) == expected
    assert len(rendered) == 2 * len(expected)
    for account_id, path in links.items():
        assert path.endswith(".html") and path.startswith("playbooks/")
        assert path[:-5] + ".md" in rendered


def test_unknown_selection_is_a_usage_error(case):
    with pytest.raises(UsageError, match=r"^--playbooks 'vip' is not one of: key, key\+potential, all, none$"):
        render_playbooks(case, selection="vip")


def test_unknown_language_is_a_usage_error(case):
    with pytest.raises(UsageError, match=r"^--lang 'fr' is not one of: en, zh$"):
        render_playbooks(case, selection="all", lang="fr")


def test_a_pack_without_the_optional_outputs_still_renders():
    evaluation = load_case(rules=ROOT / "tests" / "projects" / "basic" / "rules")
    check_templates(evaluation.pack)
    rendered = render_playbooks(evaluation, selection="all")
    assert len(rendered) == 2 * len(evaluation.accounts)
    text = next(v for k, v in rendered.items() if k.endswith(".md")).decode()
    assert "## Service level" not in text and "## Relationship type" not in text
    assert "Decision trace" in text


def test_a_pack_without_tier_selects_nobody_but_all_works(caplog, tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "pack.yaml").write_text(
        "fields:\n  account_id: {type: string, required: true}\n  sales: {type: number}\n"
        "decisions:\n  size:\n    hit: first\n    outputs: {size: {type: category, values: [big, small]}}\n"
        "    rules:\n      - {id: big, when: sales > 10, then: {size: big}}\n    default: {size: small}\n",
        encoding="utf-8")
    evaluation = load_case(rules=rules)
    assert render_playbooks(evaluation, selection="key+potential") == {}
    assert "no 'tier' output" in caplog.text
    assert len(render_playbooks(evaluation, selection="all")) == 2 * len(evaluation.accounts)


# ------------------------------------------------------------------------------ template checking


def check_user_template(tmp_path, text, name="playbook.md.j2"):
    folder = write_templates(tmp_path / "playbooks", {name: text})
    pack = load_pack(PROJECT / "rules")
    with pytest.raises(TemplateError) as error:
        check_templates(pack, playbooks_dir=folder)
    return str(error.value)


@pytest.mark.parametrize("text,message", [
    ("{{ acount.name }}\n", "playbooks/playbook.md.j2:1: 'acount' is not defined (did you mean 'account'?)"),
    ("line one\n\n{{ account.nmae }}\n",
     "playbooks/playbook.md.j2:3: 'account' has no attribute 'nmae' (did you mean 'name'?) "
     "(AccountView has: id, name, title, row, file, facts, values, texts)"),
    ("{% for s in plan %}{% for row in s.rows %}{{ row.ownr }}{% endfor %}{% endfor %}\n",
     "playbooks/playbook.md.j2:1: 'row' has no attribute 'ownr' (did you mean 'owner'?) "
     "(ActionRow has: value, text, title, owner, due, due_days, measure, section, rule, because, owner_name, who)"),
    ("{{ tier.reasons[0].reads[0].lable }}\n",
     "playbooks/playbook.md.j2:1: 'tier.reasons[0].reads[0]' has no attribute 'lable' (did you mean 'label'?) "
     "(Fact has: name, label, value, text)"),
    ("{{ account.values.salse }}\n",
     "playbooks/playbook.md.j2:1: 'account.values' has no entry 'salse' (did you mean 'sales'?)"),
    ("{{ t.acount_plan }}\n", "playbooks/playbook.md.j2:1: 't' has no entry 'acount_plan' (did you mean 'account_plan'?)"),
    ("{{ account.values.sales | mony }}\n", "playbooks/playbook.md.j2:1: no filter named 'mony' (did you mean 'money'?)"),
    ("{% if tier is keyy %}{% endif %}\n", "playbooks/playbook.md.j2:1: no test named 'keyy'"),
    ("{% for x in plan %}\n", "playbooks/playbook.md.j2:1: Unexpected end of template. Jinja was looking for the "
     "following tags: 'endfor' or 'else'. The innermost block that needs to be closed is 'for'."),
    ("{% include 'header.md.j2' %}\n",
     "playbooks/playbook.md.j2:1: template 'header.md.j2' not found (looked in playbooks and /"),
    ("{% extends 'default/playbook.md.j2' %}{% block plan %}{{ plann }}{% endblock %}\n",
     "playbooks/playbook.md.j2:1: 'plann' is not defined (did you mean 'plan'?)"),
])
def test_template_errors_are_found_before_rendering_with_file_and_line(tmp_path, text, message):
    assert check_user_template(tmp_path, text).startswith(message)


def test_every_template_error_is_reported_at_once(tmp_path):
    message = check_user_template(tmp_path, "{{ acount }}\n{{ account.nmae }}\n{{ x | nofilter }}\n")
    lines = message.splitlines()
    assert [line.split(": ")[0] for line in lines] == [
        "playbooks/playbook.md.j2:1", "playbooks/playbook.md.j2:2", "playbooks/playbook.md.j2:3",
        "playbooks/playbook.md.j2:3"]


def test_an_error_in_the_report_template_is_found_too(tmp_path):
    message = check_user_template(tmp_path, "{{ chart.pointz | length }}\n", name="report.html.j2")
    assert message.startswith("playbooks/report.html.j2:1: 'chart' has no attribute 'pointz' (did you mean 'points'?)")


def test_runtime_errors_are_found_with_a_sample_account_before_any_real_one(tmp_path):
    message = check_user_template(tmp_path, "ok\n{{ account.values.sales + 'x' }}\n")
    assert message == ("playbooks/playbook.md.j2:2: unsupported operand type(s) for +: 'float' and 'str' "
                       "(playbook.md.j2 with a sample account, before rendering any playbook)")


def test_a_valid_override_passes_and_optional_names_can_be_tested(tmp_path):
    folder = write_templates(tmp_path / "playbooks", {"playbook.md.j2": (
        "{% set basis = account.values.get('tier_basis') %}{{ basis or '' }}"
        "{% if account.values.nps is not none %}{{ account.values.nps }}{% endif %}\n"
        "{% macro row(r) %}{{ r.title }}{% endmacro %}"
        "{% for s in plan %}{% for r in s.rows if r.due %}{{ row(r) }} {{ loop.index }}{% endfor %}{% endfor %}\n"
        "{% with first = (plan | first) if plan else none %}{{ first.title if first else '' }}{% endwith %}\n"
        "{% set ns = namespace(n=0) %}{% for d in decisions %}{% set ns.n = ns.n + d.reasons | length %}{% endfor %}"
        "{{ ns.n }} {{ range(3) | list | length }} {{ dict(a=1).a }}\n")})
    check_templates(load_pack(PROJECT / "rules"), playbooks_dir=folder)


# ---------------------------------------------------------------------------------------- sandbox

ESCAPES = [
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "'__class__' is not allowed: templates cannot reach Python internals"),
    ("{{ self._TemplateReference__context }}", "'_TemplateReference__context' is not allowed"),
    ("{{ cycler.__init__.__globals__.os }}", "'cycler' is not defined"),
    ("{{ lipsum.__globals__['os'].popen('id').read() }}", "'lipsum' is not defined"),
    ("{{ joiner.__init__.__globals__ }}", "'joiner' is not defined"),
    ("{{ account.__class__.__init__.__globals__ }}", "'__class__' is not allowed"),
    ("{{ account|attr('__class__') }}", "'__class__' is not allowed"),
    ("{{ plan|map(attribute='__class__')|list }}", "'__class__' is not allowed"),
    ("{{ account.values['__class__'] }}", "'__class__' is not allowed"),
    ("{{ range(10**9)|length }}", "the '**' operator is not allowed in playbook templates"),
    ("{{ range(1000000000)|length }}", "range() of 1,000,000,000 items is too big for a template (at most 100,000)"),
    ("{% include '/etc/passwd' %}", "template '/etc/passwd' is outside the playbooks folders"),
    ("{% include '../../../../etc/passwd' %}", "template '../../../../etc/passwd' is outside the playbooks folders"),
    ("{% extends '../secret.j2' %}", "template '../secret.j2' is outside the playbooks folders"),
    ("{% import 'os' as os %}{{ os.system('id') }}", "template 'os' not found"),
    ("{{ config }}{{ request }}", "'config' is not defined"),
    ("{{ account.values.update({'sales': 1}) }}", "'account.values.update' would change the context: templates can only read it"),
    ("{{ account.values.clear() }}", "'account.values.clear' would change the context"),
    ("{{ __import__('os') }}", "'__import__' is not defined"),
]


@pytest.mark.parametrize("text,message", ESCAPES)
def test_sandbox_escapes_fail_before_anything_runs(tmp_path, monkeypatch, text, message):
    built = []
    monkeypatch.setattr(playbooks.ContextBuilder, "build", lambda self, a: built.append(a))
    error = check_user_template(tmp_path, text + "\n")
    assert error.startswith("playbooks/playbook.md.j2:1: " + message)
    assert built == [], "a template was rendered although the check failed"


@pytest.mark.parametrize("text,message", [
    ("{{ '{0.__class__}'.format(account) }}", "access to attribute '__class__' of 'AccountView' object is unsafe."),
    ("{{ (account.values or {}).update({'sales': 1}) }}", "access to attribute 'update' of 'Values' object is unsafe."),
    ("{{ 'x' * 1000000 }}", "'*' would build a sequence longer than 100,000"),
    ("{% set n = 30 %}{{ range(n * 10000) | length }}", "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000)."),
])
def test_sandbox_blocks_at_run_time_what_the_check_cannot_see(tmp_path, text, message):
    error = check_user_template(tmp_path, text + "\n")
    assert error == (f"playbooks/playbook.md.j2:1: {message} "
                     "(playbook.md.j2 with a sample account, before rendering any playbook)")


def test_the_sandbox_is_immutable_strict_and_escapes_html_only(tmp_path):
    env = environment.make_environment(None, pack=load_pack(PROJECT / "rules"))
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    assert isinstance(env, ImmutableSandboxedEnvironment)
    assert env.undefined is StrictUndefined
    assert env.keep_trailing_newline is True
    assert env.autoescape("playbook.html.j2") and env.autoescape("x.html")
    assert not env.autoescape("playbook.md.j2") and not env.autoescape("kamrules.css")
    assert {"lipsum", "cycler", "joiner"}.isdisjoint(env.globals)


# ------------------------------------------------------------------------------------- file names

NASTY_IDS = [
    "../../etc/passwd", "..", ".", "/abs/path", "a\\b\\c", "C:\\Windows\\system32", "C:", "con", "CON", "nul.txt",
    "com1", "LPT9", "aux.md", "", "   ", "\x00\x01\x1f", "a\nb\rc\td", "x" * 500, "中文客户" * 60, "‮cod.exe",
    ".hidden", "~user", "a:b*c?d\"e<f>g|h", "%2e%2e%2f", "ｃｏｎ", "\u200b", "-rf", "名字/../../x",
]


@pytest.mark.parametrize("account_id", NASTY_IDS)
@pytest.mark.parametrize("account_name", [None, "Acme", "../../x", "华东机械有限公司", "A" * 300])
def test_file_names_are_safe_whatever_the_id(tmp_path, account_id, account_name):
    stem = playbook_stem(account_id, account_name)
    assert re.fullmatch(r"[^\W_][\w-]*", stem), stem
    assert "_" not in stem.rstrip("_")
    assert len(stem.encode("utf-8")) <= 90
    assert stem.split(".")[0].lower() not in {"con", "prn", "aux", "nul", "com1", "lpt9"}
    assert all(ch.isprintable() for ch in stem)
    out = tmp_path / "playbooks"
    out.mkdir()
    target = out / f"{stem}.html"
    target.write_text("x", encoding="utf-8")
    assert target.resolve().parent == out.resolve()
    assert playbook_stem(account_id, account_name) == stem  # stable


def test_file_names_are_unique_even_when_ids_and_names_repeat(case):
    import copy

    evaluation = copy.copy(case)
    base = case.accounts[0]
    clones = []
    for i, (account_id, name) in enumerate([("ABC", "Same"), ("abc", "same"), ("ABC", "Same"), ("a/b", "c"),
                                            ("a-b", "c"), ("x" * 300, None), ("x" * 300 + "y", None)]):
        clone = copy.copy(base)
        clone.index, clone.account_id, clone.account_name = i, account_id, name
        clones.append(clone)
    evaluation.accounts, evaluation.table = clones, None  # ids from the accounts themselves
    stems = list(playbook_paths(evaluation).values())
    assert len({s.casefold() for s in stems}) == len(stems)
    assert stems[0] == "abc-same"  # the first keeps the plain name
    assert stems == list(playbook_paths(evaluation).values())


# -------------------------------------------------------------------------------------- overrides


def test_a_team_can_override_one_template_file(case, tmp_path):
    folder = write_templates(tmp_path / "playbooks", {"playbook.md.j2": "# {{ account.title }}\n"})
    rendered = render_playbooks(case, selection="key", playbooks_dir=folder)
    assert rendered["playbooks/a-1001-northwind-traders.md"] == b"# Northwind Traders (A-1001)\n"
    assert b"<!DOCTYPE html>" in rendered["playbooks/a-1001-northwind-traders.html"]  # the default still applies


def test_a_team_can_override_one_block(case, tmp_path):
    folder = write_templates(tmp_path / "playbooks", {"playbook.md.j2": (
        '{% extends "default/playbook.md.j2" %}\n'
        "{% block plan %}\n\n## Our plan\n{% for section in plan %}{% for row in section.rows %}"
        "- [ ] {{ row.title | md }} — {{ row.owner | md }}, {{ row.due | date }}\n{% endfor %}{% endfor %}"
        "{% endblock %}\n")})
    text = render_playbooks(case, selection="key", playbooks_dir=folder)["playbooks/00042-华东机械有限公司.md"].decode()
    default = render_playbooks(case, selection="key")["playbooks/00042-华东机械有限公司.md"].decode()
    assert "## Our plan\n- [ ] Map the contact points and write the account plan — Key account manager, 27 Dec 2026\n" in text
    assert "## Action plan" not in text
    before, after = default.split("\n## Action plan", 1)
    assert text.startswith(before)  # everything else is the default
    assert text.endswith(after[after.index("\n## Next review"):])


def test_a_team_can_override_the_stylesheet(case, tmp_path):
    folder = write_templates(tmp_path / "playbooks", {"kamrules.css": "body { color: rebeccapurple; }\n"})
    html = render_playbooks(case, selection="key", playbooks_dir=folder)["playbooks/a-1001-northwind-traders.html"]
    assert b"rebeccapurple" in html and b"--brand" not in html


# ---------------------------------------------------------------------------- content and safety


def test_rendering_is_deterministic(case):
    first = render_playbooks(case, selection="all", lang="zh")
    second = render_playbooks(load_case(), selection="all", lang="zh")
    assert first == second
    assert list(first) == list(second)


def test_html_playbooks_are_self_contained(case):
    for path, content in render_playbooks(case, selection="all").items():
        if path.endswith(".html"):
            html = content.decode()
            assert "<script" not in html and "<link" not in html and "@import" not in html
            assert "url(" not in html and "http://" not in html and "https://" not in html
            assert "@media print" in html and "@media (max-width" in html
            assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html


def test_data_values_cannot_break_the_markdown_or_inject_html(case, tmp_path):
    frame = pd.read_csv(PROJECT / "accounts.csv", dtype={"account_id": str})
    frame.loc[0, "account_name"] = "Evil | *Corp* <script>alert(1)</script>\nsecond line"
    frame.loc[0, "industry"] = "[link](javascript:x) | # heading"
    evaluation = evaluate(load_pack(PROJECT / "rules"), frame, as_of=AS_OF, input_name="accounts.csv")
    rendered = render_playbooks(evaluation, selection="key")
    md = next(v for k, v in rendered.items() if k.startswith("playbooks/00042") and k.endswith(".md")).decode()
    html = next(v for k, v in rendered.items() if k.startswith("playbooks/00042") and k.endswith(".html")).decode()
    assert md.splitlines()[0] == r"# Account plan: Evil \| \*Corp\* \<script\>alert(1)\</script\> second line (00042)"
    assert r"| Industry | \[link\](javascript:x) \| \# heading |" in md
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_numbers_and_dates_are_formatted_for_the_language():
    assert fmt_money(520000) == "520,000" and fmt_money(520000, "zh") == "52万"
    assert fmt_money(123456789, "zh") == "1.23亿" and fmt_money(9876.5, "zh") == "9,877"
    assert fmt_money(520000, "zh", wan=False) == "520,000"
    assert fmt_money(12.5) == "12.5" and fmt_money(None) == "—"
    assert fmt_pct(0.3264) == "32.6%" and fmt_pct(0.8, 0) == "80%" and fmt_pct(None) == "—"
    assert fmt_number(1234567.891) == "1,234,567.89" and fmt_number(-0.0001) == "0"
    assert fmt_date(AS_OF) == "27 Nov 2026" and fmt_date(AS_OF, "zh") == "2026年11月27日"
    assert fmt_date(None) == "—"


def test_filters_are_available_to_templates(case, tmp_path):
    folder = write_templates(tmp_path / "playbooks", {"playbook.md.j2": (
        "{{ account.values.sales | money }}|{{ account.values.share_of_wallet | pct }}|"
        "{{ account.values.last_contact | date }}|{{ tier.value | label('tier') }}|{{ 'sales' | caption }}|"
        "{{ account.values.sales | show('sales') }}|{{ account.texts.share_of_wallet }}|"
        "{{ account.values.strategic_project | yesno }}|{{ account.values.sales | number(0) }}|"
        "{{ {'en': 'Hello', 'zh': '你好'} | text }}|{{ 'a|b' | md }}\n")})
    rendered = render_playbooks(case, selection="key", lang="zh", playbooks_dir=folder)
    assert rendered["playbooks/00042-华东机械有限公司.md"].decode() == (
        r"520,000|45%|2026年8月1日|重点客户|本期销售额|520,000|45%|否|520,000|你好|a\|b" + "\n")


def test_the_default_pack_and_example_data_render(tmp_path):
    try:
        pack = load_pack(ROOT / "rules")
    except Exception as exc:  # the default pack is being written: its own tests say why
        pytest.skip(f"the default rule pack does not load yet: {exc}")
    check_templates(pack)
    check_templates(pack, lang="zh")
    frame = pd.read_csv(ROOT / "examples" / "customers.csv", dtype={"account_id": str})
    evaluation = evaluate(pack, frame, as_of=AS_OF, input_name="customers.csv")
    rendered = render_playbooks(evaluation, selection="key+potential", lang="zh")
    assert rendered
    assert all(re.fullmatch(r"playbooks/[\w-]+\.(md|html)", path) for path in rendered)


# ------------------------------------------------------------------------------------------- docs


def test_docs_list_every_context_variable_filter_and_block():
    import dataclasses
    import typing

    from functools import cached_property

    from kamrules.documents import report_model as report

    docs = (ROOT / "docs" / "playbooks.md").read_text(encoding="utf-8")
    for module in (playbooks, report):
        for name, cls in vars(module).items():
            if isinstance(cls, type) and dataclasses.is_dataclass(cls) and cls.__module__ == module.__name__:
                members = [f for f in typing.get_type_hints(cls, vars(module)) if not f.startswith("_")]
                members += [n for n, v in vars(cls).items() if isinstance(v, (property, cached_property))]
                for member in members:
                    assert f"`{member}`" in docs, f"docs/playbooks.md does not mention {name}.{member}"
    for name in environment.make_filters(None):
        assert f"| `{name}" in docs, f"docs/playbooks.md does not list the filter {name}"
    for template in ("playbook.md.j2", "playbook.html.j2", "report.html.j2"):
        source = (ROOT / "playbooks" / template).read_text(encoding="utf-8")
        for block in re.findall(r"{% block (\w+)", source):
            assert f"`{block}`" in docs, f"docs/playbooks.md does not list the block {block} of {template}"


# ------------------------------------------------------------------------------ account review (#14)


def test_review_first_page_names_the_manager_orders_actions_by_due_date_and_computes_objectives(case):
    context = build_context(case, account(case, "00042"), "en")
    assert context.manager == "张伟"
    due = [row.due_days for row in context.next_actions]
    assert due == sorted(due) and 3 <= len(due) <= 5
    every = sorted(r.due_days for s in context.plan for r in s.rows)
    assert due == every[:len(due)]  # the soonest, across sections
    named = [r for s in context.plan for r in s.rows if r.owner == "Key account manager"]
    assert named and all(r.who == "张伟 (Key account manager)" for r in named)
    assert all(r.who == r.owner for s in context.plan for r in s.rows if r.owner != "Key account manager")
    # share of wallet 45% climbs to the next threshold a rule compares it with; worth = spend × gain
    sow = next(o for o in context.objectives if o.name == "share_of_wallet")
    thresholds = review.thresholds_above(case.pack, "share_of_wallet")
    target = min(t for t in thresholds if t > 0.45)
    assert (sow.current, sow.target) == ("45%", f"{target:.0%}")
    assert sow.gain == "+" + fmt_money(520000 / 0.45 * (target - 0.45))
    sales = next(o for o in context.objectives if o.name == "sales")
    assert (sales.current, sales.target, sales.gain) == ("520,000", "700,000", "+180,000")


def test_review_shows_facts_the_rules_needed_but_the_data_lacked(case):
    context = build_context(case, account(case, "A-1009"), "zh")
    assert [(f.name, f.text) for f in context.unknown] == [("last_contact", "未知——待查明")]
    assert "last_contact" in review.needed_fields(case.pack)
    full = build_context(case, account(case, "00042"), "en")
    assert full.unknown == ()


def test_review_swot_is_prefilled_from_signals_and_findings_and_contacts_leave_blank_rows(case):
    context = build_context(case, account(case, "00042"), "en")
    swot = {row.key: row.items for row in context.swot}
    assert list(swot) == ["strengths", "weaknesses", "opportunities", "threats"]
    controllable = [s.because for s in context.signals if s.cause == "controllable"]
    assert controllable and list(swot["weaknesses"]) == controllable
    # dual sourcing is a growth opportunity (thesis §5.5), not a threat; domination of a region is a threat
    assert any("dual sourcing" in item for item in swot["opportunities"])
    assert not any("dual sourcing" in item for item in swot["threats"])
    assert any("Dominates its region" in item for item in swot["threats"])
    assert context.contacts[0].name == "张伟" and all(not c.name for c in context.contacts[1:])


def test_context_finds_its_sections_by_pack_role_not_by_default_names(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(PROJECT / "rules", rules)
    pack_file = rules / "00-pack.yaml"
    text = pack_file.read_text(encoding="utf-8")
    assert "roles:" not in text
    rules_text = "".join(p.read_text(encoding="utf-8") for p in sorted(rules.glob("*.yaml")))
    for path in rules.glob("*.yaml"):
        path.write_text(re.sub(r"\brisk_level\b", "danger", path.read_text(encoding="utf-8")), encoding="utf-8")
    assert "risk_level" in rules_text
    pack_file.write_text(re.sub(r"^pack:\n", "pack:\n  roles: {risk_level: danger}\n",
                                pack_file.read_text(encoding="utf-8"), flags=re.M), encoding="utf-8")
    evaluation = load_case(rules=rules)
    context = build_context(evaluation, account(evaluation, "00042"), "en")
    assert context.risk is not None and context.risk.name == "danger" and context.risk.value == "critical"


# ------------------------------------------------------------------------------ explain for people (#14)


def test_explain_for_people_is_one_screen_in_words_with_the_closest_path_up(case):
    from kamrules.results.explain_brief import closest_path, render_brief

    text = render_brief(case, account(case, "A-1003"), "en")
    lines = text.splitlines()
    assert len(lines) <= 24 and lines[0] == "Fabrikam Inc (A-1003) · As of 27 Nov 2026"
    assert "Account tier: Potential key account — Evaluation index 41.3 (≥ 40)" in lines
    assert not re.search(r"\b0\.\d{3,}", text), "raw decimals"  # shares as %, never 0.8034
    assert "tier_basis" not in text and "[tier]" not in text  # labels, not identifiers
    # the rule ranked above the deciding one that needs least change: pareto_core, 80.3% → ≤ 80%
    assert "Closest path up: Key account (rule pareto_core) if Cumulative share of sales 80.3% → ≤ 80% (−0.3%)" in lines
    rule, steps = closest_path(case.pack, case.pack.decision("tier"), account(case, "A-1003"),
                               {**account(case, "A-1003").facts})
    assert rule.id == "pareto_core" and [s.name for s in steps] == ["sales_cum_share"]
    # a key account by the first rule has no path up
    assert "Closest path up" not in render_brief(case, account(case, "00042"), "en")


def test_closest_path_up_never_points_down():
    """A key account of the default pack decided after the consumer-segment rule (which gives 'standard')
    has no path up; a standard account's path leads to a better tier."""
    from kamrules.engine.evaluate import evaluate
    from kamrules.pack import load_pack
    from kamrules.results.explain import account_values
    from kamrules.results.explain_brief import closest_path

    pack = load_pack(ROOT / "rules")
    frame = pd.DataFrame({"account_id": ["big", "tail"], "sales": [900.0, 100.0], "customer_type": ["enterprise"] * 2})
    evaluation = evaluate(pack, frame, as_of=dt.date(2026, 11, 27))
    tier = pack.decision("tier")
    order = list(tier.outputs["tier"].values)
    for item in evaluation.accounts:
        path = closest_path(pack, tier, item, account_values(pack, item))
        if item.value("tier") == order[0]:
            assert path is None
        elif path is not None:
            assert order.index(path[0].then["tier"]) < order.index(item.value("tier"))


def test_explain_for_people_in_chinese_has_no_english_identifiers(case):
    from kamrules.results.explain_brief import render_brief

    text = render_brief(case, account(case, "A-1009"), "zh")
    words = [w for w in re.findall(r"[A-Za-z_]{3,}", text) if w not in {"kamrules", "explain", "verbose", "Adventure",
                                                                       "Works", "pareto_core", "NPS"}]
    assert not words, words
    assert "最近的升级路径：重点客户（规则 pareto_core）" in text
