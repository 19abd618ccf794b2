"""Every Chinese document of one run reads as one: amounts in one number format (thousands separators,
never 万/亿 next to them) and one word for the critical risk level (the pack's, 高风险 in the default pack).

The example is evaluated once in Chinese (with --previous, so each playbook's "since the last review"
table shows amounts too); the console summary, the report, the playbooks and `explain` are checked."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kamrules.cli import app

from conftest import ROOT

runner = CliRunner()
EXAMPLE = ROOT / "examples" / "customers.csv"
# A number of four digits or more not written with thousands separators (ids such as A00042, dates
# such as 2026年 / 2026-11-27 and hashes are not amounts), and an amount written with 万 or 亿.
PLAIN = re.compile(r"(?<![\d.,A-Za-z#_/\-])\d{4,}(?![\d,A-Za-z年\-])")
WAN = re.compile(r"\d[\d.,]*\s*[万亿]")
SEPARATED = re.compile(r"(?<![\d.,])\d{1,3}(?:,\d{3})+")
OTHER_CRITICAL = ("高危", "严重", "危急")


def cli(*args) -> str:
    result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def visible(path: Path) -> str:
    """The text a reader sees: for HTML, without styles, scripts and tags."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".html":
        text = re.sub(r"<(style|script)\b.*?</\1>", " ", text, flags=re.S)
        text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    return text


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("zh")
    cli("evaluate", EXAMPLE, "--as-of", "2026-08-27", "--out", folder / "before", "-q")
    console = cli("evaluate", EXAMPLE, "--as-of", "2026-11-27", "--out", folder / "out", "--lang", "zh",
                  "--previous", folder / "before")
    return folder / "out", console


def documents(out: Path) -> list[Path]:
    return [out / "report.html", *sorted((out / "playbooks").glob("*.md")),
            *sorted((out / "playbooks").glob("*.html"))]


def assert_one_number_format(text: str, where: str) -> int:
    assert PLAIN.findall(text) == [], f"{where}: amounts without thousands separators"
    assert WAN.findall(text) == [], f"{where}: amounts in 万/亿 next to amounts with separators"
    return len(SEPARATED.findall(text))


def test_every_chinese_document_writes_amounts_with_thousands_separators(run):
    out, console = run
    files = documents(out)
    assert len(files) > 100
    separated = {path.name: assert_one_number_format(visible(path), path.name) for path in files}
    assert separated["report.html"] > 100 and all(separated.values())
    # with --previous each playbook's "since the last review" table shows sales (it wrote 421.49万 before)
    assert all("自上次复核以来" in visible(path) for path in files if path.suffix == ".md")


def test_the_chinese_console_summary_writes_amounts_as_the_documents_do(run):
    _, console = run
    total = re.search(r"销售总额：(\S+)", console).group(1)
    assert total == "231,627,587"
    assert total in visible(run[0] / "report.html")  # the same figure as the report's total
    assert_one_number_format(console.split("结果已写入")[0], "console")


@pytest.mark.parametrize("account", ["A00001", "A00007", "A00200"])
def test_chinese_explain_writes_amounts_as_the_documents_do(account):
    for extra in ((), ("--verbose",)):
        text = cli("explain", EXAMPLE, account, "--lang", "zh", "--as-of", "2026-11-27", *extra)
        assert WAN.findall(text) == [], account


def test_the_profile_bands_of_money_fields_have_thousands_separators(tmp_path):
    # the default pack profiles natural attributes only; a team that bands sales sees its bands with separators
    import shutil

    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    attributes = rules / "15-attributes.yaml"
    attributes.write_text(attributes.read_text(encoding="utf-8")
                          + "    sales: {bands: [100000, 500000, 2000000]}\n", encoding="utf-8")
    cli("evaluate", EXAMPLE, "--rules", rules, "--as-of", "2026-11-27", "--out", tmp_path / "out", "--lang", "zh",
        "--playbooks", "none")
    report = visible(tmp_path / "out" / "report.html")
    assert "本期销售额 = ≥2,000,000" in report and "500,000–<2,000,000" in report


def test_one_word_for_critical_in_every_chinese_output(run):
    out, console = run
    texts = {path.name: visible(path) for path in documents(out)}
    texts["console"] = console
    for name, text in texts.items():
        for word in OTHER_CRITICAL:
            assert word not in text, f"{name}: '{word}' (the default pack says 高风险)"
    assert "高风险" in texts["report.html"] and "高风险" in console


def test_a_packs_own_word_for_critical_is_used_by_the_fixed_texts_too(tmp_path):
    """tests/projects/playbook calls the critical level 严重: the summary, the advice and the report follow."""
    project = ROOT / "tests" / "projects" / "playbook"
    console = cli("evaluate", project / "accounts.csv", "--rules", project / "rules", "--as-of", "2026-11-27",
                  "--out", tmp_path / "out", "--lang", "zh")
    report = visible(tmp_path / "out" / "report.html")
    for text in (console, report):
        assert "严重" in text and "高风险" not in text
    assert "有风险或严重的客户" in console


def test_the_since_heading_writes_the_previous_date_as_every_chinese_date(run):
    """'自上次复核以来（2026年8月27日，…/before）', not an ISO date in nested brackets."""
    out, _ = run
    for path in [out / "report.html", next((out / "playbooks").glob("*.md"))]:
        text = visible(path)
        assert "2026年8月27日，" in text and "2026-08-27" not in text, path.name
