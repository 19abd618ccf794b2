"""A rule's or param's `source:` in the user's language: one text, or `{en: …, zh: …}` as a label, checked
with its location; the default pack's sources in Chinese; the Chinese playbooks show them."""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path

import pytest

from kamrules.documents.render import render_playbooks
from kamrules.engine.evaluate import evaluate
from kamrules.errors import RuleError
from kamrules.pack import load_pack
from kamrules.data.reader import ReadOptions, read_table

from conftest import ROOT, write_pack

PACK = """\
fields:
  account_id: {type: string, required: true}
  sales: {type: number, required: true}
  region: {type: category, values: [north, south]}
params:
  cut:
    value: 100
    source: PARAM
decisions:
  tier:
    outputs:
      tier: {type: category, values: [key, standard]}
    rules:
      - id: big
        when: sales > params.cut
        then: {tier: key}
        source: RULE
    default: {tier: standard}
  rel:
    outputs: {rel: {type: category, values: [a, b]}}
    table:
      inputs: [region]
      source: TABLE
      rows:
        - [north, a]
        - [south, b]
"""
CJK = re.compile(r"[\u4e00-\u9fff]")


def load(param: str = "p", rule: str = "r", table: str = "t"):
    text = PACK.replace("PARAM", param).replace("RULE", rule).replace("TABLE", table)
    return load_pack(write_pack(Path("rules"), {"p.yaml": text}))


def test_a_single_text_is_kept_for_every_language():
    pack = load()
    assert pack.params["cut"].source == {"en": "p"}
    assert pack.decision("tier").rules[0].source == {"en": "r"}
    assert [r.source for r in pack.decision("rel").rules] == [{"en": "t"}, {"en": "t"}]


def test_a_mapping_by_language_is_kept_per_language():
    pack = load("{en: Pareto, zh: 帕累托}", "{en: brief §1, zh: 领域说明 §1}", "{en: Kotler, zh: 科特勒}")
    assert pack.params["cut"].source == {"en": "Pareto", "zh": "帕累托"}
    assert pack.decision("tier").rules[0].source == {"en": "brief §1", "zh": "领域说明 §1"}
    assert {r.source["zh"] for r in pack.decision("rel").rules} == {"科特勒"}


def test_an_empty_plain_source_means_none():
    assert load(rule='""').decision("tier").rules[0].source == {}


BAD_SOURCES = [
    ("unknown language", {"rule": "{en: b, chinese: 乙}"},
     "rules/p.yaml:17:25: decision 'tier' → rule 'big': source: 'chinese' is not a language code (use en, zh)"),
    ("empty zh text of a rule", {"rule": "{en: b, zh: ''}"},
     "rules/p.yaml:17:29: decision 'tier' → rule 'big': source.zh: is empty: write the text, or leave 'zh' out "
     "(another language's text is shown instead)"),
    ("blank zh text of a param", {"param": "{en: a, zh: '  '}"},
     "rules/p.yaml:8:25: param 'cut': source.zh: is empty: write the text, or leave 'zh' out "
     "(another language's text is shown instead)"),
    ("empty zh text of a table", {"table": "{en: c, zh: ''}"},
     "rules/p.yaml:23:27: decision 'rel' → rule 'row1': source.zh: is empty: write the text, or leave 'zh' out "
     "(another language's text is shown instead)"),
    ("a list", {"rule": "[a, b]"},
     "rules/p.yaml:17:17: decision 'tier' → rule 'big': source: must be text or a mapping by language, "
     "as in {en: ..., zh: ...}"),
    ("a list inside the mapping", {"rule": "{en: [a]}"},
     "rules/p.yaml:17:22: decision 'tier' → rule 'big': source.en: must be text"),
]


@pytest.mark.parametrize("given, expected", [c[1:] for c in BAD_SOURCES], ids=[c[0] for c in BAD_SOURCES])
def test_a_bad_source_is_refused_with_its_location(given, expected):
    with pytest.raises(RuleError) as info:
        load(**given)
    assert str(info.value) == expected


# ---------------------------------------------------------------------------------- the default pack

@pytest.fixture(scope="module")
def pack():
    return load_pack(ROOT / "rules", strict=True)


def _sources(pack) -> dict:
    found = {f"param {name}": p.source for name, p in pack.params.items()}
    for decision in pack.decisions:
        found.update({f"{decision.id} → {rule.id}": rule.source for rule in decision.rules})
    return found


def test_every_source_of_the_default_pack_is_written_in_chinese(pack):
    """Fails when a rule or param is added with an English-only source (or a copy of the English)."""
    sources = _sources(pack)
    assert len(sources) > 100
    untranslated = [where for where, text in sources.items()
                    if not CJK.search(text.get("zh", "")) or "thesis" in text.get("zh", "")]
    assert untranslated == []
    # the pack cites the thesis by its own sections and the literature, never a brief the user cannot read
    assert not [w for w, text in sources.items() if "domain brief" in text["en"] or "领域说明" in text.get("zh", "")]


def test_chinese_sources_keep_the_citations_and_markers(pack):
    for where, text in _sources(pack).items():
        for kept in re.findall(r"\[[PDF/]+\]|§\s?\d|McDonald & Woodburn|Kotler|Reichheld|IFRS 8", text["en"]):
            assert kept in text["zh"], f"{where}: '{kept}' is missing from the Chinese source"


@pytest.fixture(scope="module")
def example(pack):
    read = read_table(ROOT / "examples" / "customers.csv", list(pack.fields.values()), ReadOptions())
    return evaluate(pack, read.frame, as_of=dt.date(2026, 11, 27), input_name="customers.csv")


def _shown_sources(rendered: dict) -> list[str]:
    shown = []
    for path, content in rendered.items():  # the HTML playbook's decision record: "出处：…"
        if path.endswith(".html"):
            text = content.decode("utf-8")
            for word in ("出处：", "Source: "):
                shown += [html.unescape(s) for s in re.findall(rf'<span class="muted small">{word}([^<]+)</span>', text)]
    return shown


def test_chinese_playbooks_show_the_sources_in_chinese(pack, example):
    shown = _shown_sources(render_playbooks(example, selection="key+potential", lang="zh"))
    assert len(shown) > 100
    english = {text["en"] for text in _sources(pack).values()}
    for line in shown:
        assert CJK.search(line), line
        assert not any(en in line for en in english), line
        assert "domain brief" not in line, line


def test_english_playbooks_keep_the_english_sources(pack, example):
    shown = _shown_sources(render_playbooks(example, selection="key", lang="en"))
    assert shown and all("论文" not in line and "领域说明" not in line for line in shown)
    assert any("thesis §" in line for line in shown)


def test_kamrules_init_copies_the_chinese_sources(tmp_path):
    from kamrules.resources import init_project

    init_project(tmp_path / "team")
    copied = load_pack(tmp_path / "team" / "rules")
    assert all(CJK.search(text.get("zh", "")) for text in _sources(copied).values())
