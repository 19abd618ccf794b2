"""Issue #29, files a pack or a command can point at, and what reaches the console (items 6, 7, 12,
14, 15, 17, 20, 21): one regression test per finding. Run folders (items 8, 9, 18, 19) are in
tests/test_run_folders.py."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from kamrules.cli import app

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
runner = CliRunner()


def cli(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


# ------------------------------------------------------------------ 7. diff --out holding an input


def test_diff_out_never_holds_the_columns_file(tmp_path):
    folder = tmp_path / "whatif"
    folder.mkdir()
    mapping = folder / "cols.yaml"
    mapping.write_text("sales: sales\n", encoding="utf-8")
    result = cli("diff", EXAMPLES / "customers.csv", "--set", "pareto_target=0.75", "--columns", mapping,
                 "--out", folder, "--force", "-q")
    assert result.exit_code == 1
    assert result.output == (f"error: {folder}: the output folder contains the input {mapping}; "
                             "choose another --out so the input is not replaced\n")
    assert mapping.read_text(encoding="utf-8") == "sales: sales\n"


def test_diff_of_two_runs_never_replaces_the_pack_that_lends_its_labels(tmp_path, monkeypatch):
    import shutil

    for name in ("a", "b"):
        assert cli("evaluate", EXAMPLES / "customers.csv", "--as-of", "2026-11-27", "--out", tmp_path / name,
                   "-q").exit_code == 0
    shutil.copytree(ROOT / "rules", tmp_path / "team" / "rules")  # ./rules lends the labels of two runs
    monkeypatch.chdir(tmp_path / "team")
    result = cli("diff", tmp_path / "a", tmp_path / "b", "--out", ".", "--force", "-q")
    assert result.exit_code == 1
    assert result.output == ("error: .: the output folder contains the input rules; choose another --out so "
                             "the input is not replaced\n")
    assert (tmp_path / "team" / "rules" / "00-pack.yaml").is_file()


# ------------------------------------------------------------------ 12. data on the console is text

MARKUP = ("[/]", "[on red]East[/on red]", "[link=https://evil.example]click[/link]", ":smile:", "[bold")


def _markup_copy(path: Path, target: Path, *, ids: bool = False) -> Path:
    """The example data with rich markup in regions and names (and ids): every console path prints them."""
    import csv

    rows = list(csv.reader(path.open(encoding="utf-8-sig", newline="")))
    header = rows[0]
    region, name, account = header.index("region"), header.index("account_name"), header.index("account_id")
    sales = header.index("sales")
    by_sales = sorted(range(len(rows) - 1), key=lambda i: float(rows[i + 1][sales] or 0))
    # regions of three accounts, one dominating (a large account and two of the smallest): the summary names them
    dominated = {by_sales[-1]: MARKUP[0], by_sales[0]: MARKUP[0], by_sales[1]: MARKUP[0],
                 by_sales[-2]: MARKUP[1], by_sales[2]: MARKUP[1], by_sales[3]: MARKUP[1]}
    for number, row in enumerate(rows[1:]):
        markup = MARKUP[number % len(MARKUP)]
        row[name] = f"{markup} {row[name]}"
        if number in dominated:
            row[region] = dominated[number]
        if ids and number < 5:
            row[account] = f"{markup}{row[account]}"
    with target.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return target


def test_evaluate_prints_markup_in_the_data_as_text(tmp_path):
    data = _markup_copy(EXAMPLES / "customers.csv", tmp_path / "markup.csv")
    result = cli("evaluate", data, "--as-of", "2026-11-27", "--out", "out")
    assert result.exit_code == 0, result.output
    words = " ".join(result.output.split())  # the console wraps long lines
    assert "[/]" in words and "[on red]East[/on red]" in words  # the regions, as they are
    assert "\x1b" not in result.output  # no colour, no hyperlink escape


def test_diff_prints_markup_in_the_data_as_text(tmp_path):
    data = _markup_copy(EXAMPLES / "customers.csv", tmp_path / "markup.csv", ids=True)
    result = cli("diff", data, "--set", "pareto_target=0.75", "--as-of", "2026-11-27", "--out", "whatif")
    assert result.exit_code == 0, result.output
    assert "demoted this review (3):" in result.output and "[link=https://evil.example]click[/link]" in result.output
    for name in ("q3", "q4"):
        source = data if name == "q4" else EXAMPLES / "customers.csv"
        assert cli("evaluate", source, "--as-of", "2026-11-27", "--out", name, "-q").exit_code == 0
    result = cli("diff", "q3", "q4", "--out", "q3-q4")
    assert result.exit_code == 0, result.output
    assert "appeared (5): :smile:A00004, [/]A00001, [bold" in result.output
    assert "\x1b" not in result.output and "😄" not in result.output


def test_every_other_command_prints_markup_in_the_data_as_text(tmp_path):
    data = _markup_copy(EXAMPLES / "customers.csv", tmp_path / "markup.csv", ids=True)
    outputs = {
        "explain": cli("explain", data, "[/]A00001", "--as-of", "2026-11-27"),
        "explain --verbose": cli("explain", data, "[/]A00001", "--as-of", "2026-11-27", "--verbose"),
        "profile": cli("profile", data, "--as-of", "2026-11-27"),
        "validate": cli("validate", ROOT / "rules", "--data", data, "--as-of", "2026-11-27"),
    }
    for command, result in outputs.items():
        assert result.exit_code in (0, 1), (command, result.output)
        assert "bug" not in result.output and "\x1b" not in result.output, command
    assert "[/]A00001" in outputs["explain"].output and "[/]" in outputs["explain --verbose"].output


def test_the_progress_line_shows_a_file_name_as_text(monkeypatch):
    import io
    import sys

    from kamrules import cli as cli_module

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    seen = cli_module._with_progress(lambda progress: progress("reading [/]b[link=https://x.example]c.csv") or "done",
                                     quiet=False)
    assert seen == "done"


# ------------------------------------------------------------------ 6. and 14. kamrules test: its files and facts


def _team_pack(tmp_path: Path) -> Path:
    import shutil

    shutil.copytree(ROOT / "rules", tmp_path / "rules", ignore=shutil.ignore_patterns("tests"))
    (tmp_path / "rules" / "tests").mkdir()
    return tmp_path / "rules"


def test_case_files_are_regular_files_inside_the_pack(tmp_path):
    import os

    rules = _team_pack(tmp_path)
    secret = tmp_path / "secret.txt"
    secret.write_text("aws_secret_access_key,AKIAIOSFODNN7EXAMPLE\n", encoding="utf-8")
    (rules / "tests" / "leak.csv").symlink_to(secret)
    (rules / "tests" / "zero.csv").symlink_to("/dev/zero")
    os.mkfifo(rules / "tests" / "fifo.yaml")
    (rules / "tests" / "big.csv").write_bytes(b"name,expected_tier\n" + b"x,key\n" * 1_000_000)
    result = cli("test", rules)
    assert result.exit_code == 1
    assert "AKIA" not in result.output
    assert result.output == (
        "error:\n"
        f"{rules}/tests/big.csv: is 6,000,019 bytes, more than the 5,242,880 a hand-written file can need; "
        "split it or check that it is the right file\n"
        f"{rules}/tests/fifo.yaml: is not a regular file (a device, pipe or socket); use a plain text file\n"
        f"{rules}/tests/leak.csv: is a link to {secret}, outside its folder {rules}; links may only point "
        "inside the folder (copy the file in instead)\n"
        f"{rules}/tests/zero.csv: is a link to /dev/zero, outside its folder {rules}; links may only point "
        "inside the folder (copy the file in instead)\n")


def test_a_case_portfolio_is_a_file_of_the_pack(tmp_path):
    rules = _team_pack(tmp_path)
    outside = tmp_path / "book.csv"
    outside.write_text("account_id,sales\nP1,AKIAIOSFODNN7EXAMPLE\n", encoding="utf-8")
    (rules / "tests" / "portfolios").mkdir()
    (rules / "tests" / "portfolios" / "linked.csv").symlink_to(outside)
    (rules / "tests" / "cases.yaml").write_text(
        "- name: read from anywhere\n"
        "  portfolio: ../../book.csv\n"
        "  facts: {account_id: T1, sales: 1000}\n"
        "  expect: {tier: standard}\n"
        "- name: linked out\n"
        "  portfolio: portfolios/linked.csv\n"
        "  facts: {account_id: T2, sales: 1000}\n"
        "  expect: {tier: standard}\n", encoding="utf-8")
    result = cli("test", rules, "--junit", tmp_path / "junit.xml")
    assert result.exit_code == 1
    assert result.output == (
        "error:\n"
        f"{rules}/tests/cases.yaml:2:14: case 'read from anywhere': portfolio: ../../book.csv is outside the "
        f"pack folder {rules}; keep portfolio files in {rules}/tests/portfolios\n"
        f"{rules}/tests/cases.yaml:6:14: {rules}/tests/portfolios/linked.csv: is a link to {outside}, outside "
        f"its folder {rules}; links may only point inside the folder (copy the file in instead)\n")
    assert not (tmp_path / "junit.xml").exists()


def test_case_facts_are_read_as_the_data_would_be(tmp_path):
    rules = _team_pack(tmp_path)
    (rules / "tests" / "facts.yaml").write_text(
        "as_of: 2026-11-27\n"
        "cases:\n"
        "  - name: wrong facts\n"
        "    facts: {account_id: T1, sales: 'abc', strategic_project: maybe, last_contact: 1700-01-01,\n"
        "            nps: 11, customer_type: governmnt, region: [a, b]}\n"
        "    expect: {tier: standard}\n"
        "  - name: a date no age can be computed from\n"
        "    as_of: 1700-01-01\n"
        "    facts: {account_id: T2, last_order: 9999-12-31}\n"
        "    expect: {tier: standard}\n", encoding="utf-8")
    result = cli("test", rules)
    assert result.exit_code == 1
    facts = f"{rules}/tests/facts.yaml"
    assert result.output == (
        "error:\n"
        f"{facts}:4:36: case 'wrong facts': facts: sales: 'abc' is not a number\n"
        f"{facts}:4:62: case 'wrong facts': facts: strategic_project: 'maybe' is not yes/no (use yes/no, "
        "true/false, 1/0 or 是/否)\n"
        f"{facts}:4:83: case 'wrong facts': facts: last_contact: '1700-01-01' is outside the dates kamrules "
        "accepts (1800-2199): check the year\n"
        f"{facts}:5:18: case 'wrong facts': facts: nps: '11' is outside 0–10, the range of nps\n"
        f"{facts}:5:37: case 'wrong facts': facts: customer_type: 'governmnt' is not one of: enterprise, "
        "government, non_profit, wholesaler, retailer, consumer, unspecified\n"
        f"{facts}:5:56: case 'wrong facts': facts: region: a single value, not a list\n"
        f"{facts}:8:12: case 'a date no age can be computed from': as_of: 1700-01-01 is outside 1800-01-01 … "
        "2199-12-31; check the year\n"
        f"{facts}:9:41: case 'a date no age can be computed from': facts: last_order: '9999-12-31' is outside "
        "the dates kamrules can hold (1678-2261)\n")
    zh = cli("test", rules, "--lang", "zh")
    assert zh.exit_code == 1
    assert f"{facts}:4:36: case 'wrong facts': facts: sales: 'abc' 不是数字" in zh.output.splitlines()


def test_case_tables_are_read_as_data_and_a_bad_cell_fails_its_cases(tmp_path):
    rules = _team_pack(tmp_path)
    (rules / "tests" / "table.csv").write_text(
        "name,account_id,as_of,sales,strategic_project,last_contact,expected_tier\n"
        "c1,T3,2026-11-27,abc,maybe,2300-01-01,standard\n", encoding="utf-8")
    result = cli("test", rules)
    assert result.exit_code == 1
    table = f"{rules}/tests/table.csv"
    assert result.output == (
        f"FAIL {table}:2:1: c1\n"
        f"  {table}: 3 values cannot be read; fix the cells or pass --on-bad-value missing to read them as missing "
        "values:\n"
        "  row 2, column 'sales' (field sales): 'abc' is not a number\n"
        "  row 2, column 'strategic_project' (field strategic_project): 'maybe' is not yes/no (use yes/no, "
        "true/false, 1/0 or 是/否)\n"
        "  row 2, column 'last_contact' (field last_contact): '2300-01-01' is outside the dates kamrules can hold "
        "(1678-2261)\n"
        "\n"
        "0 passed, 1 failed (1 cases)\n")


def test_well_formed_facts_still_pass(tmp_path):
    rules = _team_pack(tmp_path)
    (rules / "tests" / "facts.yaml").write_text(
        "as_of: 2026-11-27\n"
        "cases:\n"
        "  - name: a quoted amount, words for yes, a category alias\n"
        "    facts: {account_id: T1, sales: '100,000', customer_type: 企业, individual: 'no', lost: 否,\n"
        "            in_class_a: 'false', in_class_ab: '是', big_size: 'Y', big_flag: 'true', long_contract: 'no',\n"
        "            class_b_meaningful: 'false', key_capacity: '7', pipeline_capacity: 14, pipeline_placed: 'false',\n"
        "            key_order: '5', market_strength: 'yes'}\n"
        "    expect: {tier: key}\n"
        "    rules: {tier: big_market}\n", encoding="utf-8")
    result = cli("test", rules)
    assert result.exit_code == 0, result.output
    assert result.output == "1 passed, 0 failed (1 cases)\n"


# ------------------------------------------------------------------ 17. and 15. the JUnit file


def _failing_case(rules: Path, name: str = "a failing case") -> None:
    (rules / "tests" / "cases.yaml").write_text(
        "- name: " + name + "\n"
        "  as_of: 2026-11-27\n"
        "  facts: {account_id: T1, sales: 1000, sales_cum_share_before: 0.99}\n"
        "  expect: {tier: key}\n", encoding="utf-8")


def test_junit_never_replaces_a_file_of_the_pack_under_test(tmp_path):
    rules = _team_pack(tmp_path)
    _failing_case(rules)
    before = (rules / "00-pack.yaml").read_bytes()
    result = cli("test", rules, "--junit", rules / "00-pack.yaml")
    assert result.exit_code == 1
    assert result.output == (f"error: --junit {rules}/00-pack.yaml: is inside {rules}, which the command reads; "
                             "write it elsewhere (it would replace or add a file there)\n")
    assert (rules / "00-pack.yaml").read_bytes() == before
    result = cli("test", rules, "--junit", rules / "tests" / "report.xml")
    assert result.exit_code == 1 and "is inside" in result.output


def test_junit_path_problems_are_clear_errors(tmp_path):
    rules = _team_pack(tmp_path)
    _failing_case(rules)
    (tmp_path / "reports").mkdir()
    result = cli("test", rules, "--junit", tmp_path / "reports")
    assert result.exit_code == 1
    assert result.output == (f"error: --junit {tmp_path}/reports: is a folder; give a file name, e.g. --junit "
                             f"{tmp_path}/reports/kamrules-tests.xml\n")
    result = cli("test", rules, "--junit", tmp_path / "missing" / "junit.xml")
    assert result.exit_code == 1
    assert result.output == (f"error: --junit {tmp_path}/missing/junit.xml: the folder {tmp_path}/missing does "
                             "not exist; create it or choose another path\n")
    result = cli("test", rules, "--junit", "/dev/full")
    assert result.exit_code == 1
    assert result.output.endswith("error: --junit /dev/full: cannot write it (No space left on device); "
                                  "nothing was written\n")
    assert Path("/dev/full").is_char_device()  # written into, never replaced by a file


def test_a_full_disk_leaves_no_half_junit_file(tmp_path, monkeypatch):
    import errno
    import os

    from kamrules.data import writer

    target = tmp_path / "junit.xml"
    target.write_bytes(b"previous\n")

    def full(descriptor):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    from kamrules.errors import ConfigError
    import pytest

    with pytest.raises(ConfigError) as caught:
        writer.write_file(target, b"<testsuite/>\n", "--junit")
    assert str(caught.value) == f"--junit {target}: cannot write it (No space left on device); nothing was written"
    assert target.read_bytes() == b"previous\n" and sorted(p.name for p in tmp_path.iterdir()) == ["junit.xml"]


def test_junit_with_control_characters_is_well_formed_xml(tmp_path):
    from xml.etree import ElementTree as ET

    rules = _team_pack(tmp_path)
    _failing_case(rules, '"bell\\a escape\\e[2J nul\\0 and \\x1f"')
    result = cli("test", rules, "--junit", tmp_path / "junit.xml")
    assert result.exit_code == 1
    assert "\x1b" not in result.output and "\x07" not in result.output
    case = ET.parse(tmp_path / "junit.xml").getroot().find("testcase")  # parses: well-formed
    assert case.get("name") == "bell\ufffd escape\ufffd[2J nul\ufffd and \ufffd"


# ------------------------------------------------------------------ 15. codecs, pipes, full disks, closed pipes


def _command() -> list[str]:
    import sys

    return [sys.executable, "-c", "from kamrules.cli import main; main()"]


def _env() -> dict:
    import os

    return {**os.environ, "PYTHONPATH": str(ROOT)}


def test_stdout_on_a_full_disk_is_a_clear_error(tmp_path):
    import subprocess

    with open("/dev/full", "w") as full:
        done = subprocess.run([*_command(), "validate", str(ROOT / "rules")], stdout=full, stderr=subprocess.PIPE,
                              text=True, env=_env(), timeout=120)
    assert done.returncode == 1
    assert done.stderr == ("error: cannot write the output (No space left on device); free some space, or send the "
                           "output elsewhere\n")


def test_a_reader_that_goes_away_gives_the_documented_exit_code(tmp_path):
    import subprocess

    process = subprocess.Popen([*_command(), "validate", str(ROOT / "rules"), "--data", str(EXAMPLES / "customers.csv")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
    process.stdout.close()  # `| head` that has gone: the first write fails
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 141, stderr
    assert stderr == ""


def test_codecs_that_are_not_text_encodings_are_refused(tmp_path):
    for codec in ("rot13", "base64", "hex", "zlib"):
        result = cli("validate", ROOT / "rules", "--data", EXAMPLES / "customers.csv", "--encoding", codec)
        assert result.exit_code == 2, result.output
        assert result.output.endswith(f"error: --encoding {codec} is not a text encoding (it turns bytes into bytes, "
                                      "or text into text); use for example utf-8, gb18030 or latin-1\n")


def test_a_fifo_or_a_pipe_as_data_is_refused_without_hanging(tmp_path):
    import os

    os.mkfifo(tmp_path / "customers.csv")  # nobody writes to it: open() would wait forever
    result = cli("validate", ROOT / "rules", "--data", tmp_path / "customers.csv")
    assert result.exit_code == 1
    assert result.output.endswith(f"error: {tmp_path}/customers.csv: is a pipe or a device, not a file (kamrules "
                                  "reads the data more than once, and a pipe nobody writes to would wait forever); "
                                  "save the data to a file and pass that\n")
    read, write = os.pipe()  # `<(cat customers.csv)`: /dev/fd/N
    try:
        os.write(write, (EXAMPLES / "customers.csv").read_bytes()[:4096])
        result = cli("evaluate", f"/dev/fd/{read}", "--input-format", "csv", "--as-of", "2026-11-27", "--out", "out")
    finally:
        os.close(read)
        os.close(write)
    assert result.exit_code == 1
    assert f"error: /dev/fd/{read}: is a pipe or a device, not a file" in result.output
    assert not Path("out").exists()


def test_a_delimiter_the_parser_cannot_use_is_an_option_error(tmp_path):
    for delimiter in ("é", "\x00", "；"):
        result = cli("validate", ROOT / "rules", "--data", EXAMPLES / "customers.csv", "--delimiter", delimiter)
        assert result.exit_code == 2, result.output
        assert result.output.endswith(f"error: --delimiter must be one ASCII character such as ; or | (or 'tab'), "
                                      f"not '{delimiter}'\n")


# ------------------------------------------------------------------ 21. what the reader and the writers say


def test_a_json_record_naming_a_key_twice_is_refused(tmp_path):
    data = tmp_path / "customers.json"
    data.write_text('[{"account_id": "A1", "sales": 100},\n {"account_id": "A2", "sales": 100, "sales": 100000}]',
                    encoding="utf-8")
    result = cli("validate", ROOT / "rules", "--data", data)
    assert result.exit_code == 1
    assert result.output.endswith(f"error: {data}: record 2 names the key 'sales' twice, and a JSON reader keeps "
                                  "only the last value; keep one of them\n")
    lines = tmp_path / "customers.jsonl"
    lines.write_text('{"account_id": "A1", "sales": 1}\n{"account_id": "A2", "account_id": "A3", "sales": 2}\n',
                     encoding="utf-8")
    result = cli("validate", ROOT / "rules", "--data", lines, "--lang", "zh")
    assert result.exit_code == 1
    assert result.output.endswith(f"错误：{lines}：第 2 行中键“account_id”出现了两次，而 JSON 读取时只保留最后一个值；"
                                  "请只保留其中一个\n")


BIG5 = ["account_id,account_name,region,sales", "T1,鴻海精密工業股份有限公司,台北市,1200000",
        "T2,統一企業股份有限公司,台南市,800000", "T3,國泰人壽保險股份有限公司,台北市,950000"]
SHIFT_JIS = ["account_id,account_name,region,sales", "J1,株式会社さくら商事,東京都,1200000",
             "J2,トヨタ自動車株式会社,愛知県,800000", "J3,ソニーグループ株式会社,東京都,950000"]
LATIN = ["account_id,account_name,region,sales", "L1,Société Générale Sévigné,Île-de-France,1200000",
         "L2,Müller Straße GmbH,Bayern,800000", "L3,Ñandú Españolas,Andalucía,950000"]


def test_big5_and_shift_jis_are_named_not_read_as_latin_1(tmp_path):
    from kamrules.data.reader import ReadOptions, read_table
    from kamrules.pack import load_pack

    fields = list(load_pack(ROOT / "rules").fields.values())
    for rows, codec, label in ((BIG5, "big5", "Big5 (Traditional Chinese)"),
                               (SHIFT_JIS, "shift_jis", "Shift-JIS (Japanese)")):
        data = tmp_path / f"{codec}.csv"
        data.write_bytes(("\n".join(rows) + "\n").encode(codec))
        result = cli("validate", ROOT / "rules", "--data", data)
        assert result.exit_code == 1
        assert result.output.endswith(f"error: {data}: is not UTF-8 or GB18030 text, and reads as {label}: pass "
                                      f"--encoding {codec} (or --encoding latin-1 if it is Western European text)\n")
        read = read_table(data, fields, ReadOptions(encoding=codec))
        assert read.frame["account_name"].iloc[0] == rows[1].split(",")[1]
    latin = tmp_path / "latin.csv"
    latin.write_bytes(("\n".join(LATIN) + "\n").encode("latin-1"))
    assert read_table(latin, fields).frame["account_name"].tolist() == [r.split(",")[1] for r in LATIN[1:]]


def test_lookalike_ids_see_every_invisible_character_and_say_how_many_more(tmp_path):
    invisible = ["\u3164", "\u034f", "\U000e0020", "\u115f", "\ufe0f", "\u2800", "\uffa0"]
    rows = ["account_id,sales", "A1,100", *(f"A1{c},{100 + i}" for i, c in enumerate(invisible))]
    data = tmp_path / "ids.csv"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = cli("evaluate", data, "--as-of", "2026-11-27", "--out", "out", "-q")
    assert result.exit_code == 0, result.output
    assert result.output == (
        "warning: ids that look the same but differ (case, width, invisible characters or Unicode form): "
        "'A1' (row 2) and 'A1\\u3164' (row 3) and 'A1\\u034f' (row 4) and 'A1\\U000e0020' (row 5) and "
        "'A1\\u115f' (row 6) and 3 more; they are kept as different accounts\n")


def test_excel_output_says_when_it_cuts_a_text(tmp_path):
    import openpyxl

    rows = (EXAMPLES / "customers.csv").read_text(encoding="utf-8-sig").splitlines()
    header = rows[0].split(",")
    cells = rows[2].split(",")
    cells[header.index("account_name")] = "长" * 40_000
    rows[2] = ",".join(cells)
    data = tmp_path / "long.csv"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = cli("evaluate", data, "--as-of", "2026-11-27", "--out", "out", "--format", "xlsx", "-q")
    assert result.exit_code == 0, result.output
    assert result.output == ("warning: decisions.xlsx: 1 cell(s) held more than 32,767 characters, the most an "
                             "Excel cell can hold, and were cut there (the first: cell B3); write --format csv, "
                             "json or parquet for the whole texts\n")
    sheet = openpyxl.load_workbook(tmp_path / "out" / "decisions.xlsx", read_only=True).active
    assert len(next(sheet.iter_rows(min_row=3, max_row=3, min_col=2, max_col=2, values_only=True))[0]) == 32_767
    result = cli("evaluate", data, "--as-of", "2026-11-27", "--out", "csv-out", "-q")
    assert result.exit_code == 0 and result.output == ""


# ------------------------------------------------------------------ 20. diff --rules OLD --rules NEW reads as each pack


def _nps_pack(folder: Path, high: int) -> Path:
    folder.mkdir()
    (folder / "pack.yaml").write_text(
        "pack: {name: nps}\n"
        "fields:\n"
        "  account_id: {type: string, required: true}\n"
        "  sales: {type: number, required: true}\n"
        f"  nps: {{type: integer, range: [0, {high}]}}\n"
        "decisions:\n"
        "  loyalty:\n"
        "    hit: first\n"
        "    outputs: {loyalty: {type: category, values: [promoter, other]}}\n"
        "    rules:\n"
        "      - {id: promoter, when: nps >= 9, then: {loyalty: promoter}}\n"
        "    default: {loyalty: other}\n", encoding="utf-8")
    return folder


def test_diff_of_two_packs_reads_the_data_as_each_pack_defines_it(tmp_path):
    old, new = _nps_pack(tmp_path / "old", 10), _nps_pack(tmp_path / "new", 100)
    data = tmp_path / "nps.csv"
    data.write_text("account_id,sales,nps\nA1,100,55\nA2,200,9\n", encoding="utf-8")
    refused = cli("evaluate", data, "--rules", old, "--as-of", "2026-11-27", "--out", "old-run", "-q")
    result = cli("diff", data, "--rules", old, "--rules", new, "--as-of", "2026-11-27", "--out", "d", "-q")
    assert refused.exit_code == result.exit_code == 1
    assert result.output == refused.output  # OLD refuses an NPS of 55 in diff as in evaluate
    assert "'55' is outside 0–10, the range of nps" in result.output
    kept = cli("evaluate", data, "--rules", old, "--as-of", "2026-11-27", "--out", "old-run", "-q",
               "--on-bad-value", "missing")
    assert kept.exit_code == 0, kept.output
    result = cli("diff", data, "--rules", old, "--rules", new, "--as-of", "2026-11-27", "--out", "d", "-q",
                 "--on-bad-value", "missing")
    assert result.exit_code == 0, result.output
    changed = pd.read_csv("d/diff.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert changed[["account_id", "before", "after"]].values.tolist() == [["A1", "other", "promoter"]]
    evaluated = pd.read_csv("old-run/decisions.csv", dtype=str, encoding="utf-8-sig")
    assert evaluated.set_index("account_id")["loyalty"].to_dict() == {"A1": "other", "A2": "promoter"}
