"""Messages about the user's data follow --lang: with zh every message family is Chinese (no English
word of the English message left, fields named 「label」(name)), still says where (file, row, column)
and how to fix, with headers, values and CLI options kept as they are. English stays as it was
(tests/test_reader.py and tests/test_cli.py pin it)."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from kamrules.cli import app
from kamrules.data.guards import suspicious_values
from kamrules.data.reader import ReadOptions, load_mapping, parse_date, parse_number, read_table
from kamrules.errors import KamrulesError
from kamrules.i18n import DATA, LANGS
from kamrules.pack.fields import FieldSpec

from conftest import ROOT

FIELDS = [
    FieldSpec("account_id", "string", required=True, label={"en": "Account ID", "zh": "客户编码"}),
    FieldSpec("account_name", "string", label={"en": "Account name", "zh": "客户名称"}),
    FieldSpec("sales", "number", required=True, label={"en": "Sales", "zh": "销售额"},
              aliases=("年销售额", "Sales Amount")),
    FieldSpec("last_visit", "date", label={"en": "Last visit", "zh": "最近拜访"}),
    FieldSpec("strategic", "boolean", label={"en": "Strategic", "zh": "战略项目"}),
    FieldSpec("orders", "integer", label={"en": "Orders", "zh": "订单数"}),
    FieldSpec("nps", "integer", label={"en": "NPS", "zh": "推荐评分"}, range=(0, 10)),
    FieldSpec("share_of_wallet", "number", label={"en": "Share of wallet", "zh": "钱包份额"}, range=(0, 1)),
    FieldSpec("customer_type", "category", label={"en": "Customer type", "zh": "客户类型"},
              values=("enterprise", "government", "retailer")),
]
runner = CliRunner()

# Literal parts a Chinese message keeps: quoted headers and values, field names after their label,
# CLI options with their argument, YAML lines, the values a category allows.
_LITERAL = re.compile(r"“[^”]*”|「[^」]*」(?:\([^)]*\))?|'[^']*'|--[a-z-]+(?: (?:missing|gb18030|latin-1|[a-z]+\b))?"
                      r"|\{.*\}|[a-z_]+: <[^>]*>|\b[a-z]+/[a-z]+\b"
                      r"|\b(?:YYYY-MM-DD|UTF-8|CSV|TSV|CRM|ERP|YAML|Excel|JSON|Parquet|kamrules|xlsx?|csv|tsv|jsonl?|parquet)\b")


def english_words(text: str, literals=()) -> set:
    for literal in literals:
        text = text.replace(literal, " ")
    return {word.lower() for word in re.findall(r"[A-Za-z]{3,}", _LITERAL.sub(" ", text))}


def assert_chinese(zh: str, en: str, *literals: str) -> None:
    """zh has Chinese words and none of the English message's words (outside literal parts)."""
    assert re.search(r"[\u4e00-\u9fff]{2}", zh), zh
    leaked = english_words(zh, literals) & english_words(en, literals)
    assert not leaked, f"English words {sorted(leaked)} in: {zh}"
    assert zh != en


def errors(path, fields=FIELDS, **options) -> tuple[str, str]:
    """The English and the Chinese message of reading `path`."""
    found = []
    for lang in ("en", "zh"):
        with pytest.raises(KamrulesError) as info:
            read_table(Path(path), fields, ReadOptions(lang=lang, **options))
        found.append(str(info.value))
    return found[0], found[1]


def write(name: str, text: str, encoding: str = "utf-8") -> str:
    Path(name).write_text(text, encoding=encoding)
    return name


# ------------------------------------------------------------------------------------ bad cells

BAD_CELLS = [
    # (column header, cell, the Chinese reason, what it says to do)
    ("sales", "abc", "不是数字", None),
    ("sales", "9" * 60 + "abc" + "9" * 60, "不是数字（123 个字符；数字最多 100 个字符）", None),
    ("sales", "1,5", "不是数字（如果小数点是 ','，请用 --decimal ,）", "--decimal ,"),
    ("sales", "9e20", "超过 ±1,000,000,000,000,000，作为金额或数量过大：请检查该列及其单位", "请检查该列"),
    ("last_visit", "next week", "不是日期（请写成 YYYY-MM-DD）", "YYYY-MM-DD"),
    ("last_visit", "2026-02-30", "不是有效的日历日期", None),
    ("last_visit", "1700-01-01", "超出 kamrules 接受的日期范围（1800-2199）：请检查年份", "请检查年份"),
    ("strategic", "maybe", "不是“是/否”（可用 是/否、yes/no、true/false 或 1/0）", "是/否"),
    ("orders", "2.5", "不是整数", None),
    ("nps", "11", "超出 0–10，即「推荐评分」(nps)的取值范围", None),
    ("share_of_wallet", "35", "超出 0–1，即「钱包份额」(share_of_wallet)的取值范围（这是占比：请写 35% 或 0.35）",
     "35%"),
    ("account_id", "", "缺失，但该字段为必填", None),
]


@pytest.mark.parametrize("column,cell,reason,fix", BAD_CELLS, ids=[f"{c[0]}-{c[1][:10]}" for c in BAD_CELLS])
def test_each_bad_cell_reason_is_chinese_and_says_where_and_how(column, cell, reason, fix):
    row = {"account_id": "A2", "sales": "5", column: cell}
    header = ",".join(row)
    path = write("bad.csv", f"{header}\n{','.join(row.values())}\n".replace("1,5", '"1,5"'))
    en, zh = errors(path)
    label = next(f.label["zh"] for f in FIELDS if f.name == column)
    assert zh.startswith(f"bad.csv：第 2 行，列“{column}”（字段「{label}」({column})）："), zh
    assert reason in zh
    assert "请修正该单元格，或用 --on-bad-value missing" in zh
    if fix:
        assert fix in zh
    assert_chinese(zh, en, "bad.csv", cell)


def test_many_bad_cells_are_listed_in_chinese_and_the_count_of_the_rest():
    rows = "".join(f"A{i},x{i}\n" for i in range(2, 26))
    en, zh = errors(write("many.csv", "account_id,sales\n" + rows))
    assert zh.splitlines()[0] == ("many.csv：有 24 个值无法读取；请修正这些单元格，或用 --on-bad-value missing "
                                  "将其按缺失值读取：")
    assert zh.splitlines()[1] == "  第 2 行，列“sales”（字段「销售额」(sales)）：“x2”不是数字"
    assert zh.splitlines()[-1] == "  另有 4 项"
    assert_chinese(zh, en, "many.csv")


def test_a_unit_in_the_cell_and_in_the_header_is_refused_in_chinese():
    en, zh = errors(write("unit.csv", "account_id,年销售额(万元)\nA1,12万\n"))
    assert "“12万”自带单位，而列名中已给出单位：请只写数字，或去掉列名中的单位" in zh
    assert "列“年销售额(万元)”" in zh  # the header exactly as in the file
    assert_chinese(zh, en, "unit.csv")


def test_bad_cells_kept_as_missing_have_chinese_reasons_for_data_issues_csv():
    path = write("keep.csv", "account_id,sales\nA1,abc\n")
    read = read_table(Path(path), FIELDS, ReadOptions(lang="zh", on_bad_value="missing"))
    assert [(i.row, i.column, i.reason) for i in read.issues] == [(2, "sales", "不是数字")]


def test_the_per_cell_parsers_answer_in_the_language_asked():
    assert parse_number("12abc", ".", "zh") == (None, "不是数字")
    assert parse_number("12abc") == (None, "is not a number")
    assert parse_date("soon", lang="zh") == (None, "不是日期（请写成 YYYY-MM-DD）")


# ------------------------------------------------------------------- categories and value mapping


def test_unknown_category_values_list_counts_and_the_mapping_line_to_add_in_chinese():
    path = write("types.csv", "account_id,sales,Type\nA1,1,Prospect\nA2,2,Prospect\nA3,3,enterprise\nA4,4,Partner\n")
    en, zh = errors(path, columns={"customer_type": "Type"})
    assert zh == ("types.csv：列“Type”（字段「客户类型」(customer_type)）含有规则包不认识的值："
                  "“Prospect”（第 2 和 3 行；销售额 3，占总额 30%）、“Partner”（第 5 行；销售额 4，占总额 40%）；"
                  "请在 --columns 文件中加入：\n"
                  "  customer_type: {column: Type, values: {Prospect: '', Partner: ''}}\n"
                  "  “Prospect” → ''：按缺失读取：它表示不是客户，但有 2 行带有销售额 3，占总额 30%；如果它们是客户，"
                  "请写 enterprise, government, retailer 之一；写 skip-row 将跳过 2 行，连同销售额 3，占总额 30%\n"
                  "  “Partner” → ''：按缺失读取（这些行保留，但没有该值）：规则包中没有明确对应的值；知道时请写 "
                  "enterprise, government, retailer 之一；写 skip-row 将跳过 1 行，连同销售额 4，占总额 40%")
    assert_chinese(zh, en, "types.csv", zh.splitlines()[1], "skip-row", "enterprise, government, retailer",
                   "Prospect", "Partner")


def test_value_mapping_for_a_field_without_a_column_is_chinese():
    path = write("v.csv", "account_id,sales\nA1,1\n")
    en, zh = errors(path, values={"customer_type": {"Prospect": "skip-row"}})
    assert zh == ("v.csv：--columns 映射了字段“customer_type”的取值，但文件中没有对应该字段的列；"
                  "请在该条目中加上 'column: <列名>'")
    assert_chinese(zh, en, "v.csv")


def test_every_row_skipped_is_chinese():
    path = write("s.csv", "account_id,sales,Type\nA1,1,Prospect\n")
    en, zh = errors(path, columns={"customer_type": "Type"}, values={"customer_type": {"Prospect": "skip-row"}})
    assert zh == "s.csv：所有行都被 --columns 文件中的 'skip-row' 跳过了"
    assert_chinese(zh, en, "s.csv")


# ------------------------------------------------------------------------------ columns and fields


def test_a_missing_required_field_names_its_label_the_columns_and_the_sales_hint_in_chinese():
    en, zh = errors(write("nosales.csv", "account_id,Annual Revenue\nA1,5\n"))
    assert zh.startswith("nosales.csv：找不到必填字段「销售额」(sales)（查找过：sales、Sales、销售额、年销售额、Sales Amount）；"
                         "文件中的列：“account_id”、“Annual Revenue”；")
    assert "请修改列名，或用 --columns 映射（sales: <列名>）" in zh
    assert "CRM 中赢单商机金额之和，或 ERP 中开给该客户的发票" in zh
    assert "最接近的" not in zh  # the customer's own revenue is never suggested
    assert_chinese(zh, en, "nosales.csv", "Annual Revenue", "Sales Amount", "（查找过：sales、Sales、")


def test_several_column_problems_are_counted_and_listed_in_chinese():
    fields = [*FIELDS, FieldSpec("contact", "string", label={"zh": "联系人"}, aliases=("Name",)),
              FieldSpec("owner", "string", label={"zh": "负责人"}, aliases=("name",))]
    en, zh = errors(write("two.csv", "account_id,Name,a\nA1,x,y\n"), fields)
    lines = zh.splitlines()
    assert lines[0] == "two.csv：列有 2 个问题："
    assert lines[1] == "  列“Name”同时匹配字段 「联系人」(contact) 和 「负责人」(owner)；请用 --columns 选定（例如 contact: Name）"
    assert lines[2].startswith("  找不到必填字段「销售额」(sales)")
    assert_chinese(zh, en, "two.csv", "contact: Name", "（查找过：sales、Sales、", "Sales Amount")


def test_a_columns_mapping_to_a_header_not_in_the_file_is_chinese():
    en, zh = errors(write("m.csv", "account_id,sales\nA1,1\n"), columns={"account_name": "Company"})
    assert zh == ("m.csv：--columns 把字段“account_name”映射到“Company”，但文件中没有这一列；"
                  "文件中的列：“account_id”、“sales”")
    assert_chinese(zh, en, "m.csv")


def test_duplicate_ids_are_chinese():
    en, zh = errors(write("dup.csv", "account_id,sales\nA1,1\nA1,2\nA2,3\nA1,4\n"))
    assert zh == ("dup.csv：列“account_id”（字段「客户编码」(account_id)）：“A1”出现在第 2、3 和 5 行；"
                  "每个客户只能出现一次：请删除或合并重复行")
    assert_chinese(zh, en, "dup.csv")


# ---------------------------------------------------------------------------- files and formats

FILE_PROBLEMS = [
    # (file name, content (text or bytes), options, the Chinese message)
    ("none.csv", None, {}, "none.csv：文件不存在；请检查路径"),
    ("empty.csv", "", {}, "empty.csv：文件为空"),
    ("header.csv", "account_id,sales\n", {}, "header.csv：只有表头，没有数据行；请在表头下方填入客户数据"),
    ("old.xls", b"\xd0\xcf\x11\xe0rest", {}, "old.xls：无法读取旧版 Excel 97-2003 工作簿（.xls）；"
                                             "请在 Excel 中打开并另存为 .xlsx 或 CSV"),
    ("data.dat", "a,b\n", {}, "data.dat：无法从扩展名“.dat”判断文件格式；请用 --input-format 指定 csv、tsv、xlsx、"
                             "parquet、json 或 jsonl"),
    ("bin.csv", b"\x00\x01\x02\x03" * 50, {}, "bin.csv：不是 CSV 文件：文件含二进制数据；"
                                              "请将数据导出为 CSV、Excel（.xlsx）、Parquet 或 JSON"),
    ("gb.csv", "account_id,sales\n客户,1\n".encode("gb18030"), {"encoding": "utf-8"},
     "gb.csv：第 2 行无法按 utf-8 读取（字节 0xbf）；文件看起来是 gb18030 编码：请用 --encoding gb18030"),
    ("rows.csv", "account_id,sales\nA1,1,2\n", {}, "rows.csv：第 2 行有 3 个值，而表头有 2 列；"
                                                  "请检查分隔符（当前按 ',' 读取；可用 --delimiter 另选）和引号"),
    ("x.json", "{\"a\": 1}", {}, "x.json：应为记录数组，如 [{\"account_id\": \"A1\", ...}]，实际是对象"),
    ("y.json", "[1, 2", {}, "y.json：不是有效的 JSON（第 1 行第 6 列：缺少逗号）"),
    ("z.jsonl", "{\"account_id\": \"A1\"}\n[1]\n", {}, "z.jsonl：第 2 行是数组，不是带字段名的对象"),
]


@pytest.mark.parametrize("name,content,options,message", FILE_PROBLEMS, ids=[p[0] for p in FILE_PROBLEMS])
def test_file_problems_are_chinese(name, content, options, message):
    if isinstance(content, bytes):
        Path(name).write_bytes(content)
    elif content is not None:
        write(name, content)
    en, zh = errors(name, **options)
    assert zh == message
    assert_chinese(zh, en, name, "utf-8", "0xbf")


def test_a_missing_sheet_is_chinese():
    workbook = openpyxl.Workbook()
    workbook.active.title = "客户"
    workbook.active.append(["account_id", "sales"])
    workbook.save("book.xlsx")
    en, zh = errors("book.xlsx", sheet="Sheet9")
    assert zh == "book.xlsx：没有工作表“Sheet9”；现有工作表：“客户”（用 --sheet 指定名称或从 0 开始的序号）"
    assert_chinese(zh, en, "book.xlsx")


def test_reading_options_are_refused_in_chinese():
    path = write("ok.csv", "account_id,sales\nA1,1\n")
    en, zh = errors(path, decimal=";")
    assert zh == "--decimal 只能是 '.' 或 ','，不能是“;”"
    en, zh = errors(path, columns={"salse": "sales"})
    known = ", ".join(f.name for f in FIELDS)
    assert zh == f"--columns：未知字段“salse”（是否指“sales”？）；规则包的字段有：{known}"
    assert_chinese(zh, en, known)


# ------------------------------------------------------------------------------ the --columns file

MAPPING_FILES = [
    ("folder", None, "map：这是文件夹；--columns 需要一个 YAML 文件，如 'sales: Sales Amount'"),
    ("empty", "", "map.yaml：文件为空；每个字段写一行，如 'sales: Sales Amount'"),
    ("list", "- a\n- b\n", "map.yaml:1:1：列映射把字段名对应到列名，如 'sales: Sales Amount'"),
    ("unknown key", "customer_type: {colum: Type}\n", "map.yaml:1:16：字段“customer_type”：未知的键“colum”"
                                                      "（是否指“column”？）；请写成 {column: 源列名, values: {文件中的值: 规则包中的值}}"),
    ("no header", "sales:\n", "map.yaml:1:7：字段“sales”：应为列名，实际是空值"),
]


@pytest.mark.parametrize("case,text,message", MAPPING_FILES, ids=[m[0] for m in MAPPING_FILES])
def test_columns_file_problems_are_chinese(case, text, message):
    if text is None:
        Path("map").mkdir()
        path = Path("map")
    else:
        path = Path(write("map.yaml", text))
    found = []
    for lang in ("en", "zh"):
        with pytest.raises(KamrulesError) as info:
            load_mapping(path, lang)
        found.append(str(info.value))
    assert found[1] == message
    assert_chinese(found[1], found[0], str(path))


# ------------------------------------------------------------------------------------------ --where


def test_where_problems_and_the_rows_left_out_are_chinese():
    from kamrules.data.reader import mapping_lines

    path = write("w.csv", "account_id,sales,customer_type\nA1,1,enterprise\nA2,2,government\nA3,3,\n")
    en, zh = errors(path, where="customer_type == enterprise")
    assert zh.splitlines()[0] == "--where：未知名称“enterprise”：文本值需要加引号，如 customer_type == \"enterprise\""
    en, zh = errors(path, where="nps > 5")
    assert zh.splitlines() == ["--where：文件中没有字段“nps”的列，--where 无法判断它", "  nps > 5", "  ^"]
    assert_chinese(zh, en, "nps")
    en, zh = errors(path, where="sales = 1")
    assert zh.splitlines() == ["--where：不能识别的字符 '='（比较相等请写 '=='）", "  sales = 1", "        ^"]
    assert en.splitlines()[0] == "--where: unexpected character '=' (to compare, write '==')"
    en, zh = errors(path, where="sales > 10")
    assert zh == "w.csv：--where sales > 10 之后没有剩下任何行"
    read = read_table(Path(path), FIELDS, ReadOptions(lang="zh", where='customer_type != "retailer"'))
    lines = mapping_lines(read.mapping, lang="zh")
    assert '  跳过 1 行：--where customer_type != "retailer" 对其中 0 行不成立，1 行无法判断（所判断的值缺失）' in lines


def test_rows_skipped_by_the_mapping_file_are_summarised_in_chinese():
    from kamrules.data.reader import mapping_lines

    path = write("k.csv", "account_id,sales,Type\nA1,1,Prospect\nA2,2,Prospect\nA3,3,enterprise\n")
    read = read_table(Path(path), FIELDS, ReadOptions(lang="zh", columns={"customer_type": "Type"},
                                                      values={"customer_type": {"Prospect": "skip-row"}}))
    assert "  跳过 2 行：customer_type 为“Prospect”（--columns 中的 skip-row）" in mapping_lines(read.mapping, lang="zh")


# --------------------------------------------------------------------------------------- warnings


def test_negative_sales_and_look_alike_ids_warn_in_chinese():
    import pandas as pd

    frame = pd.DataFrame({"account_id": ["A1", "a1", "B"], "sales": [1.0, -2.0, 3.0]})
    en = suspicious_values(frame, [2, 3, 4], "sales")
    zh = suspicious_values(frame, [2, 3, 4], "sales", lang="zh", sales_text="「销售额」(sales)")
    assert zh == ["警告：1 个客户的「销售额」(sales)为负（第 3 行）；是红字发票或退货吗？它们会压低组合总额并改变其他客户的占比："
                  "请在运行前先行冲抵",
                  "警告：有看似相同但实际不同的编码（大小写、全角半角、不可见字符或 Unicode 形式不同）："
                  "'A1'（第 2 行） 和 'a1'（第 3 行）；它们被当作不同的客户"]
    for chinese, english in zip(zh, en):
        assert_chinese(chinese, english, "Unicode")


# ------------------------------------------------------------------------------------- the CLI


def test_evaluate_prints_chinese_errors_with_a_chinese_prefix():
    write("bad.csv", "account_id,account_name,region,sales,nps\nA1,甲公司,华东,12万,11\nA2,乙公司,华东,abc,5\n")
    zh = runner.invoke(app, ["evaluate", "bad.csv", "--lang", "zh", "--out", "o", "--as-of", "2026-11-30"])
    en = runner.invoke(app, ["evaluate", "bad.csv", "--out", "o", "--as-of", "2026-11-30"])
    assert zh.exit_code == en.exit_code == 1
    assert zh.stderr.startswith("错误：\nbad.csv：有 2 个值无法读取；")
    assert "  第 2 行，列“nps”（字段「NPS 推荐评分」(nps)）：“11”超出 0–10" in zh.stderr
    assert "  第 3 行，列“sales”（字段「本期销售额」(sales)）：“abc”不是数字" in zh.stderr
    assert en.stderr.startswith("error:\nbad.csv: 2 values cannot be read;")
    assert_chinese(zh.stderr, en.stderr, "bad.csv")


def test_evaluate_warns_in_chinese_and_strict_refuses_in_chinese():
    write("neg.csv", "account_id,account_name,sales\nA1,甲,100\nA2,乙,-5\n")
    args = ["evaluate", "neg.csv", "--lang", "zh", "--out", "o", "--as-of", "2026-11-30", "--playbooks", "none", "-q"]
    warned = runner.invoke(app, args)
    assert warned.exit_code == 0
    assert warned.stderr.startswith("警告：1 个客户的「本期销售额」(sales)为负（第 3 行）")
    refused = runner.invoke(app, [*args, "--strict", "--force"])
    assert refused.exit_code == 1
    assert refused.stderr == ("错误：\n1 个客户的「本期销售额」(sales)为负（第 3 行）；是红字发票或退货吗？它们会压低组合总额"
                              "并改变其他客户的占比：请在运行前先行冲抵\n（--strict 不接受以上问题；请修正数据，"
                              "或去掉 --strict 只显示警告）\n")


def test_validate_data_explain_profile_and_diff_speak_chinese():
    write("nosales.csv", "id,name\n1,x\n")
    for args in (["validate", "--data", "nosales.csv", "--lang", "zh"],
                 ["explain", "nosales.csv", "1", "--lang", "zh"],
                 ["profile", "nosales.csv", "--lang", "zh"],
                 ["diff", "nosales.csv", "--set", "pareto_target=0.7", "--lang", "zh"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 1, args
        assert result.stderr.startswith("错误：\nnosales.csv：列有 2 个问题：\n  找不到必填字段「客户编码」(account_id)"), args
    write("ok.csv", "account_id,sales\nA1,1\n")
    result = runner.invoke(app, ["explain", "ok.csv", "A9", "--lang", "zh"])
    assert result.stderr == "错误：ok.csv：没有编码或名称为“A9”的客户\n"  # ids, then names
    result = runner.invoke(app, ["validate", "--data", "ok.csv", "--lang", "zh"])
    assert "ok.csv：1 个客户；找到 2 个字段（共 " in result.output
    assert "  文件中没有的可选字段：" in result.output


def test_a_columns_file_error_on_the_command_line_is_chinese():
    write("ok.csv", "account_id,sales\nA1,1\n")
    write("map.yaml", "")
    result = runner.invoke(app, ["evaluate", "ok.csv", "--columns", "map.yaml", "--lang", "zh", "--out", "o"])
    assert result.exit_code == 1
    assert result.stderr == "错误：map.yaml：文件为空；每个字段写一行，如 'sales: Sales Amount'\n"


# --------------------------------------------------------------------- no message in English only


def placeholders(text: str) -> set:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_data_message_has_every_language_with_the_same_placeholders():
    assert set(DATA) == set(LANGS)
    for lang in LANGS:
        assert set(DATA[lang]) == set(DATA["en"]), lang
        for key, english in DATA["en"].items():
            assert placeholders(DATA[lang][key]) == placeholders(english), (lang, key)


# The modules that read the customer's data; their user-facing words come from the catalogue only.
READER_MODULES = ["cells", "columns", "convert", "dates", "encodings", "formats", "guards", "messages", "numbers",
                  "options", "reader", "units", "values", "where", "wording",
                  "layout", "doubts", "meaning", "lookalikes", "survey"]
_WORDS = re.compile(r"[A-Za-z]{2,}(?:[ ,;:]+[A-Za-z]+){2,}")


def _literals(tree: ast.AST):
    """Every string a module builds (docstrings left out), with its line."""
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and node.body
                  and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            yield node.lineno, "".join(v.value for v in node.values if isinstance(v, ast.Constant))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.lineno, node.value


def test_the_reader_writes_no_message_of_its_own():
    """A message written inline in English would not follow --lang: every sentence the reading modules
    show comes from the DATA catalogue (kamrules/i18n/data_messages.py)."""
    found = []
    for module in READER_MODULES:
        path = ROOT / "kamrules" / "data" / f"{module}.py"
        for line, text in _literals(ast.parse(path.read_text(encoding="utf-8"))):
            if _WORDS.search(text):
                found.append(f"{path.name}:{line}: {text!r}")
    assert found == []



def test_validate_data_findings_about_the_file_are_chinese():
    write("v.csv", "account_id,sales,industry\nA1,100,Energy\nA2,5,retail\n")
    zh = runner.invoke(app, ["validate", "--data", "v.csv", "--lang", "zh"])
    en = runner.invoke(app, ["validate", "--data", "v.csv"])
    lines = zh.output.splitlines()
    assert re.search(r"：有效——\d+ 个字段、\d+ 个参数、\d+ 个特征与评分、\d+ 项决策、\d+ 条规则$", lines[0])
    assert "v.csv：2 个客户；找到 3 个字段（共 " in zh.output
    data = lines.index("数据：")
    assert lines[data + 1].startswith("  警告：") and "不在 v.csv 中：" in lines[data + 1]
    assert "；请添加该列，或用 --columns 映射" in lines[data + 1]
    assert "与 v.csv 中的 2 个客户都不匹配" in zh.output
    assert re.fullmatch(r"\d+ 个错误，\d+ 个警告(，\d+ 个提示)?", lines[-1])
    identifiers = re.compile(r"\S+\.yaml:\d+:\d+|\w+ → \w+|（\d+ 个）")  # places and rule ids stay as written

    def about_the_file(text: str) -> str:
        return identifiers.sub(" ", "\n".join(line for line in text.splitlines() if "v.csv" in line))

    assert_chinese(about_the_file(zh.output), about_the_file(en.output))


def test_kamrules_test_reports_a_bad_cell_of_a_csv_case_in_chinese(tmp_path):
    rules = tmp_path / "rules"
    (rules / "tests").mkdir(parents=True)
    (rules / "pack.yaml").write_text("fields:\n  account_id: {type: string, required: true}\n  sales: number\n"
                                     "decisions:\n  tier:\n    hit: first\n    outputs:\n      tier: {type: category, "
                                     "values: [key, standard]}\n    rules:\n      - {id: big, when: sales > 5, "
                                     "then: {tier: key}}\n    default: {tier: standard}\n", encoding="utf-8")
    (rules / "tests" / "t.csv").write_text("account_id,as_of,sales,expected_tier\nA,2026-11-27,abc,key\n",
                                           encoding="utf-8")
    zh = runner.invoke(app, ["test", str(rules), "--lang", "zh"])
    en = runner.invoke(app, ["test", str(rules)])
    assert zh.exit_code == en.exit_code == 1
    line = f"  {rules / 'tests' / 't.csv'}：第 2 行，列“sales”（字段「sales」）：“abc”不是数字；请修正该单元格，或用 --on-bad-value missing"
    assert line in zh.output.splitlines()
    assert_chinese(line, en.output, str(rules / "tests" / "t.csv"))


def test_explain_run_refuses_a_changed_data_file_in_chinese():
    write("ok.csv", "account_id,sales\nA1,1\nA2,2\n")
    made = runner.invoke(app, ["evaluate", "ok.csv", "--out", "run", "--as-of", "2026-11-30", "--playbooks", "none",
                               "-q"])
    assert made.exit_code == 0, made.output
    write("ok.csv", "account_id,sales\nA1,1\nA2,3\n")
    zh = runner.invoke(app, ["explain", "--run", "run", "A1", "--lang", "zh"])
    en = runner.invoke(app, ["explain", "--run", "run", "A1"])
    assert zh.exit_code == en.exit_code == 1
    assert zh.stderr.startswith("错误：") and "不是 run 中那次运行读取的文件" in zh.stderr
    assert "去掉 --run" in zh.stderr
    assert_chinese(zh.stderr, en.stderr, str(Path("ok.csv").resolve()), "ok.csv", "run")
