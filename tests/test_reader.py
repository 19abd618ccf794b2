"""kamrules.reader: every accepted input shape, and the exact message for every rejected one."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kamrules.errors import ConfigError, DataError, KamrulesError, UsageError
from kamrules.pack.fields import FieldSpec
from kamrules.data.reader import DataIssue, ReadOptions, load_column_mapping, parse_date, parse_number, read_table

FIELDS = [
    FieldSpec("account_id", "string", required=True, label={"en": "Account ID", "zh": "客户编码"},
              aliases=("Record ID",)),
    FieldSpec("account_name", "string", label={"en": "Account Name", "zh": "客户名称"}, aliases=("Company name",)),
    FieldSpec("region", "string", aliases=("所属区域", "Billing State/Province", "State/Region")),
    FieldSpec("sales", "number", required=True, aliases=("销售额", "Sales Amount")),
    FieldSpec("last_visit", "date", aliases=("最近拜访时间", "Last Activity Date")),
    FieldSpec("strategic", "boolean", aliases=("战略项目",)),
    FieldSpec("nps", "integer"),
    FieldSpec("customer_type", "category", values=("enterprise", "government", "retailer"),
              value_aliases={"企业": "enterprise", "政府": "government", "零售商": "retailer"}),
]
# Two fields that both answer to "Name": a column called Name is ambiguous.
CLASHING = [
    FieldSpec("account_id", "string", required=True),
    FieldSpec("account_name", "string", aliases=("Name",)),
    FieldSpec("contact_name", "string", aliases=("name",)),
]
SMALL = [FieldSpec("account_id", "string", required=True), FieldSpec("sales", "number")]


def write(path: Path, content: bytes | str, encoding: str = "utf-8") -> Path:
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def xlsx_bytes(rows: list[list], title: str = "Accounts", more_sheets: dict | None = None) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    for name, extra in (more_sheets or {}).items():
        other = workbook.create_sheet(name)
        for row in extra:
            other.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def parquet_bytes(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def read(path: Path, fields=FIELDS, **options):
    return read_table(path, fields, ReadOptions(**options))


# --------------------------------------------------------------------------------------------------
# Bad input: one file each, the whole message

GBK_FILE = "客户编码,客户名称,销售额\n00042,华为技术,1200\n".encode("gb18030")
MANY_BAD = "Account ID,Sales\n" + "".join(f"A{i},bad{i}\n" for i in range(25))

BAD_CASES = [
    # (id, file name, content, fields, options, exception, message with {p} for the path)
    ("empty", "c.csv", b"", FIELDS, {}, DataError, "{p}: the file is empty"),
    ("blank-lines-only", "c.csv", b"\r\n  \n", FIELDS, {}, DataError, "{p}: the file is empty"),
    ("bom-only", "c.csv", b"\xef\xbb\xbf", FIELDS, {}, DataError, "{p}: the file is empty"),
    ("header-only", "c.csv", "Account ID,Sales\n", FIELDS, {}, DataError,
     "{p}: has a header row but no data rows; add the accounts below the header"),
    ("header-and-empty-rows", "c.csv", "Account ID,Sales\n,\n , \n", FIELDS, {}, DataError,
     "{p}: has a header row but no data rows; add the accounts below the header"),
    ("csv-named-xlsx", "c.xlsx", "Account ID,Sales\nA1,5\n", FIELDS, {}, DataError,
     "{p}: is not an Excel workbook (.xlsx): it looks like a text file (CSV or JSON); "
     "rename it to .csv or pass --input-format csv"),
    ("xlsx-named-csv", "c.csv", xlsx_bytes([["Account ID", "Sales"], ["A1", 5]]), FIELDS, {}, DataError,
     "{p}: is not CSV: it looks like an Excel workbook (.xlsx); rename it to .xlsx or pass --input-format xlsx"),
    ("junk-bytes", "c.csv", bytes(range(256)) * 4, FIELDS, {}, DataError,
     "{p}: is not CSV: it contains binary data; export the data as CSV, Excel (.xlsx), Parquet or JSON"),
    ("old-xls-extension", "c.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), FIELDS, {}, DataError,
     "{p}: old Excel 97-2003 workbooks (.xls) cannot be read; open it in Excel and save as .xlsx or CSV"),
    ("old-xls-named-xlsx", "c.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), FIELDS, {}, DataError,
     "{p}: is an old Excel 97-2003 workbook (.xls), not an Excel workbook (.xlsx); "
     "open it in Excel and save as .xlsx or CSV"),
    ("text-named-parquet", "c.parquet", "account_id\nA1\n", FIELDS, {}, DataError,
     "{p}: is not Parquet: it looks like a text file (CSV or JSON); rename it to .csv or pass --input-format csv"),
    ("broken-xlsx", "c.xlsx", b"PK\x03\x04" + b"not really a zip", FIELDS, {}, DataError,
     "{p}: is not a valid Excel workbook (File is not a zip file); open it in Excel and save it again as .xlsx"),
    ("unknown-extension", "c.dat", "a,b\n", FIELDS, {}, DataError,
     "{p}: cannot tell the format from extension '.dat'; pass --input-format csv, tsv, xlsx, parquet, json or jsonl"),
    ("missing-required-column", "c.csv", "Account ID,Sale amount,Region\nA1,5,East\n", FIELDS, {}, DataError,
     "{p}: required field 'sales' not found (looked for: sales, 销售额, Sales Amount); columns found: "
     "'Account ID', 'Sale amount', 'Region'; closest: 'Sale amount'; rename the column or map it with "
     "--columns (sales: <column>); sales to the customer come from your own books: the sum of closed-won "
     "opportunity amounts in the CRM, or the ERP's invoices to the customer; a CRM's 'Annual Revenue' is the "
     "customer's own revenue, not sales"),
    ("two-columns-one-field", "c.csv", "Account ID,Sales,销售额\nA1,5,6\n", FIELDS, {}, DataError,
     "{p}: field 'sales' matches columns 'Sales' and '销售额'; rename or remove one, or choose one with "
     "--columns (sales: Sales)"),
    ("one-column-two-fields", "c.csv", "account_id,Name\nA1,Acme\n", CLASHING, {}, DataError,
     "{p}: column 'Name' matches fields 'account_name' and 'contact_name'; choose with --columns "
     "(for example account_name: Name)"),
    ("duplicate-header", "c.csv", "Account ID,Sales,Sales\nA1,5,6\n", FIELDS, {}, DataError,
     "{p}: field 'sales' matches columns 'Sales' and 'Sales'; rename or remove one, or choose one with "
     "--columns (sales: Sales)"),
    ("several-column-problems", "c.csv", "Region,Sales,销售额\nEast,5,6\n", FIELDS, {}, DataError,
     "{p}: 2 problems with the columns:\n"
     "  required field 'account_id' not found (looked for: account_id, Account ID, 客户编码, Record ID); "
     "columns found: 'Region', 'Sales', '销售额'; rename the column or map it with --columns (account_id: <column>)\n"
     "  field 'sales' matches columns 'Sales' and '销售额'; rename or remove one, or choose one with "
     "--columns (sales: Sales)"),
    ("mapping-to-unknown-column", "c.csv", "Account ID,Revenue\nA1,5\n", FIELDS,
     {"columns": {"sales": "Turnover"}}, DataError,
     "{p}: --columns maps field 'sales' to 'Turnover', which is not a column of this file; "
     "columns found: 'Account ID', 'Revenue'"),
    ("mapping-unknown-field", "c.csv", "Account ID,Sales\nA1,5\n", FIELDS,
     {"columns": {"slaes": "Sales"}}, ConfigError,
     "--columns: unknown field 'slaes' (did you mean 'sales'?); the pack's fields are: account_id, "
     "account_name, region, sales, last_visit, strategic, nps, customer_type"),
    ("bad-number", "customers.csv", "Account ID,Sales\nA1,5\nA2,12abc\n", FIELDS, {}, DataError,
     "{p}: row 3, column 'Sales' (field sales): '12abc' is not a number; fix the cell or pass "
     "--on-bad-value missing"),
    ("decimal-comma-without-option", "c.csv", "Account ID;Sales\nA1;€3.000,50\n", FIELDS, {}, DataError,
     "{p}: row 2, column 'Sales' (field sales): '€3.000,50' is not a number (if ',' is the decimal mark, "
     "pass --decimal ,); fix the cell or pass --on-bad-value missing"),
    ("two-signs", "c.csv", "Account ID,Sales\nA1,--5\n", FIELDS, {}, DataError,
     "{p}: row 2, column 'Sales' (field sales): '--5' is not a number; fix the cell or pass "
     "--on-bad-value missing"),
    ("bad-date", "c.csv", "Account ID,Sales,Last Activity Date\nA1,5,last tuesday\n", FIELDS, {}, DataError,
     "{p}: row 2, column 'Last Activity Date' (field last_visit): 'last tuesday' is not a date "
     "(use YYYY-MM-DD); fix the cell or pass --on-bad-value missing"),
    ("impossible-date", "c.csv", "Account ID,Sales,last_visit\nA1,5,2026-02-30\n", FIELDS, {}, DataError,
     "{p}: row 2, column 'last_visit' (field last_visit): '2026-02-30' is not a valid calendar date; "
     "fix the cell or pass --on-bad-value missing"),
    ("placeholder-date", "c.csv", "Account ID,Sales,last_visit\nA1,5,9999-12-31\n", FIELDS, {}, DataError,
     "{p}: row 2, column 'last_visit' (field last_visit): '9999-12-31' is outside the dates kamrules can "
     "hold (1678-2261); fix the cell or pass --on-bad-value missing"),
    ("bad-category", "c.csv", "Account ID,Sales,customer_type\nA1,5,partner\n", FIELDS, {}, DataError,
     "{p}: column 'customer_type' (field customer_type) has values the pack does not know: 'partner' (row 2; "
     "sales 5 = 100% of the total); add to the --columns file:\n  customer_type: {column: customer_type, values: "
     "{partner: ''}}\n  'partner' → '': read as missing (the rows stay, without a value): no value of the pack is "
     "clear; write one of enterprise, government, retailer when you know it; skip-row would leave out 1 row with "
     "sales 5 = 100% of the total"),
    ("bad-boolean", "c.csv", "Account ID,Sales,strategic\nA1,5,maybe\n", FIELDS, {}, DataError,
     "{p}: row 2, column 'strategic' (field strategic): 'maybe' is not yes/no (use yes/no, true/false, "
     "1/0 or 是/否); fix the cell or pass --on-bad-value missing"),
    ("non-whole-integer", "c.csv", "Account ID,Sales,NPS\nA1,5,7.5\n", FIELDS, {}, DataError,
     "{p}: row 2, column 'NPS' (field nps): '7.5' is not a whole number; fix the cell or pass "
     "--on-bad-value missing"),
    ("required-value-empty", "c.csv", "Account ID,Sales\nA1,\n", FIELDS, {}, DataError,
     "{p}: row 2, column 'Sales' (field sales): value is missing but the field is required; fix the cell "
     "or pass --on-bad-value missing"),
    ("required-value-na", "c.csv", "Account ID,Sales\nA1,N/A\n", FIELDS, {}, DataError,
     "{p}: row 2, column 'Sales' (field sales): 'N/A' is missing but the field is required; fix the cell "
     "or pass --on-bad-value missing"),
    ("many-bad-values", "c.csv", MANY_BAD, FIELDS, {}, DataError,
     "{p}: 25 values cannot be read; fix the cells or pass --on-bad-value missing to read them as missing "
     "values:\n" + "".join(f"  row {i + 2}, column 'Sales' (field sales): 'bad{i}' is not a number\n"
                          for i in range(20)) + "  and 5 more"),
    ("duplicate-id", "c.csv", "Account ID,Sales\n00042,1\nA7,2\n00042,3\n", FIELDS, {}, DataError,
     "{p}: column 'Account ID' (field account_id): '00042' appears in rows 2 and 4; each account must "
     "appear once: remove or merge the duplicates"),
    ("duplicate-ids-after-trim", "c.csv", "Account ID,Sales\n00042,1\nA7,2\n 00042 ,3\nA7,4\nA7,5\n", FIELDS,
     {"on_bad_value": "missing"}, DataError,
     "{p}: column 'Account ID' (field account_id): 2 IDs appear more than once; each account must appear "
     "once: remove or merge the duplicates:\n  '00042' in rows 2 and 4\n  'A7' in rows 3, 5 and 6"),
    ("too-many-values", "c.csv", "Account ID,Sales\nA1,5\nA2,1,200\n", FIELDS, {}, DataError,
     "{p}: row 3 has 3 values but the header has 2 columns; check the delimiter (read as ','; pass "
     "--delimiter to choose another) and the quotes"),
    ("blank-lines-above-header", "c.csv", "\n \nAccount ID,Sales\nA1,5\nA2,x\n", FIELDS, {}, DataError,
     "{p}: row 5, column 'Sales' (field sales): 'x' is not a number; fix the cell or pass --on-bad-value missing"),
    ("blank-lines-above-bad-row", "c.csv", "\n \nAccount ID,Sales\nA1,5\nA2,x,1\n", FIELDS, {}, DataError,
     "{p}: row 5 has 3 values but the header has 2 columns; check the delimiter (read as ','; pass "
     "--delimiter to choose another) and the quotes"),
    ("explicit-encoding-fails", "c.csv", GBK_FILE, FIELDS, {"encoding": "utf-8"}, DataError,
     "{p}: row 1 cannot be read as utf-8 (bytes 0xbf); the file looks like gb18030: pass --encoding gb18030"),
    ("utf8-broken-midway", "c.csv",
     ("Account ID,客户名称,Sales\n" + "".join(f"A{i},北京客户,1\n" for i in range(5))).encode() + b"A9,\xff\xfe,1\n",
     FIELDS, {}, DataError,
     "{p}: row 7 is not valid UTF-8 (bytes 0xff) although the rows before are; the file mixes encodings; "
     "save it again as UTF-8, or pass --encoding gb18030 or --encoding latin-1"),
    ("json-syntax", "c.json", '[{"account_id": "A1", "sales": 5},\n {"account_id": "A2" "sales": 6}]', FIELDS, {},
     DataError, "{p}: is not valid JSON (line 2, column 22: Expecting ',' delimiter)"),
    ("json-object", "c.json", '{"data": [{"account_id": "A1"}]}', FIELDS, {}, DataError,
     '{p}: expected an array of records like [{"account_id": "A1", ...}], found an object'),
    ("json-empty-array", "c.json", "[]", FIELDS, {}, DataError, "{p}: the array has no records"),
    ("json-record-not-object", "c.json", '[{"account_id": "A1", "sales": 5}, 7]', FIELDS, {}, DataError,
     "{p}: record 2 is a number, not an object with field names"),
    ("jsonl-bad-line", "c.jsonl", '{"account_id": "A1", "sales": 5}\n\n{"account_id": "A2", sales: 6}\n', FIELDS,
     {}, DataError, "{p}: line 3 is not valid JSON (column 22: Expecting property name enclosed in double quotes)"),
    ("jsonl-bad-value", "c.jsonl", '{"account_id": "A1", "sales": 5}\n\n{"account_id": "A2", "sales": "lots"}\n',
     FIELDS, {}, DataError,
     "{p}: line 3, column 'sales' (field sales): 'lots' is not a number; fix the cell or pass "
     "--on-bad-value missing"),
    ("xlsx-no-such-sheet", "c.xlsx", xlsx_bytes([["Account ID", "Sales"], ["A1", 5]]), FIELDS, {"sheet": "Data"},
     DataError, "{p}: no sheet 'Data'; the sheets are 'Accounts' (pass --sheet with a name or a 0-based number)"),
    ("xlsx-empty-sheet", "c.xlsx", xlsx_bytes([]), FIELDS, {}, DataError,
     "{p}: sheet 'Accounts' is empty; pass --sheet to read another sheet"),
    ("xlsx-bad-cell", "c.xlsx", xlsx_bytes([["Account ID", "Sales"], ["A1", 5], ["A2", "#DIV/0!"]]), FIELDS, {},
     DataError, "{p}: row 3, column 'Sales' (field sales): '#DIV/0!' is not a number; fix the cell or pass "
     "--on-bad-value missing"),
    ("unknown-input-format", "c.csv", "Account ID,Sales\nA1,5\n", FIELDS, {"input_format": "xls"}, UsageError,
     "unknown input format 'xls'; use one of: csv, tsv, xlsx, parquet, json, jsonl"),
    ("unknown-encoding", "c.csv", "Account ID,Sales\nA1,5\n", FIELDS, {"encoding": "klingon"}, UsageError,
     "unknown encoding 'klingon'; use for example utf-8, gb18030 or latin-1"),
]


@pytest.mark.parametrize(
    "file_name, content, fields, options, error, message",
    [case[1:] for case in BAD_CASES],
    ids=[case[0] for case in BAD_CASES],
)
def test_bad_input_is_reported_exactly(tmp_path, file_name, content, fields, options, error, message):
    path = write(tmp_path / file_name, content)
    with pytest.raises(error) as caught:
        read(path, fields, **options)
    assert str(caught.value) == message.replace("{p}", str(path))


def test_bad_case_table_is_large_enough():
    assert len(BAD_CASES) >= 30


def test_directory(tmp_path):
    with pytest.raises(DataError) as caught:
        read(tmp_path)
    assert str(caught.value) == f"{tmp_path}: is a folder, not a data file; pass the file inside it"


def test_missing_file(tmp_path):
    path = tmp_path / "customers.csv"
    with pytest.raises(DataError) as caught:
        read(path)
    assert str(caught.value) == f"{path}: no such file; check the path"


def test_unreadable_file(tmp_path, monkeypatch):
    import kamrules.data.options as reader  # where the file is first opened

    path = write(tmp_path / "c.csv", "Account ID,Sales\nA1,5\n")

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(reader, "open", denied, raising=False)  # works as root too, unlike chmod
    with pytest.raises(DataError) as caught:
        read(path)
    assert str(caught.value) == f"{path}: cannot be opened (permission denied)"


def test_errors_are_kamrules_errors_without_chained_tracebacks(tmp_path):
    path = write(tmp_path / "c.json", "[1,")
    with pytest.raises(KamrulesError) as caught:
        read(path)
    assert caught.value.__suppress_context__ or caught.value.__cause__ is None


# --------------------------------------------------------------------------------------------------
# Good input


def test_gb18030_chinese_export(tmp_path):
    text = (
        "客户编码,客户名称,所属区域,销售额,最近拜访时间,战略项目,customer_type\n"
        "00042,华为技术有限公司,华南,12万,2026/01/31,是,企业\n"
        "00043,腾讯科技,华南,\"¥1,234\",2026年1月5日,无,政府\n"
        "00044,小米,华北,1.5亿,2025-12-01,否,零售商\n"
    )
    path = write(tmp_path / "客户.csv", text, "gb18030")
    result = read(path)
    frame = result.frame
    assert result.source == {"path": str(path), "format": "csv", "encoding": "gb18030", "delimiter": ",",
                             "sheet": None, "rows": 3}
    assert list(frame.columns) == ["account_id", "account_name", "region", "sales", "last_visit", "strategic",
                                   "customer_type"]
    assert frame["account_id"].tolist() == ["00042", "00043", "00044"]
    assert frame["account_name"].tolist() == ["华为技术有限公司", "腾讯科技", "小米"]
    assert frame["sales"].tolist() == [120000.0, 1234.0, 150000000.0]
    assert frame["last_visit"].tolist() == [pd.Timestamp("2026-01-31"), pd.Timestamp("2026-01-05"),
                                            pd.Timestamp("2025-12-01")]
    assert frame["strategic"].tolist() == [True, False, False]  # 无 is "no" for a boolean, not missing
    assert frame["customer_type"].tolist() == ["enterprise", "government", "retailer"]
    assert result.column_map["sales"] == "销售额"
    assert result.missing_optional == ["nps"]
    assert result.unused_columns == []
    assert result.row_numbers == [2, 3, 4]


def test_dtypes(tmp_path):
    path = write(tmp_path / "c.csv", "Account ID,Sales,nps,last_visit,strategic,customer_type\nA1,5,3,2026-01-02,y,企业\n"
                 "A2,6,,,,\n")
    frame = read(path).frame
    assert frame.index.equals(pd.RangeIndex(2))
    assert str(frame["account_id"].dtype) == "object"
    assert str(frame["sales"].dtype) == "float64"
    assert str(frame["nps"].dtype) == "float64"
    assert str(frame["last_visit"].dtype) == "datetime64[ns]"
    assert str(frame["strategic"].dtype) == "object"
    assert str(frame["customer_type"].dtype) == "object"
    assert frame["strategic"].tolist() == [True, None]
    assert frame["customer_type"].tolist() == ["enterprise", None]
    assert pd.isna(frame["last_visit"].iloc[1]) and np.isnan(frame["nps"].iloc[1])
    assert type(frame["account_id"].iloc[0]) is str


@pytest.mark.parametrize("encoding, detected", [("utf-8-sig", "utf-8-sig"), ("utf-8", "utf-8"),
                                                ("latin-1", "latin-1"), ("cp1252", "cp1252"),
                                                ("utf-16", "utf-16"), ("gb18030", "gb18030")])
def test_encodings_are_detected(tmp_path, encoding, detected):
    names = {"gb18030": "北京客户", "cp1252": "Müller “Café” €"}.get(encoding, "Société Générale Müller")
    second = "上海客户" if encoding == "gb18030" else "René"
    path = write(tmp_path / "c.csv", f"Account ID,Account Name,Sales\nA1,{names},5\nA2,{second},6\n", encoding)
    result = read(path)
    assert result.source["encoding"] == detected
    assert result.frame["account_name"].tolist() == [names, second]
    assert list(result.frame["account_id"]) == ["A1", "A2"]


def test_gb18030_with_latin1_lookalike_is_latin1(tmp_path):
    # "Müller" in Latin-1 is also valid GB18030 bytes; the GB2312 check keeps it Latin-1.
    path = write(tmp_path / "c.csv", "Account ID,Account Name,Sales\nA1,Müller,5\nA2,Jürgen Böhm,6\n", "latin-1")
    result = read(path)
    assert result.source["encoding"] == "latin-1"
    assert result.frame["account_name"].tolist() == ["Müller", "Jürgen Böhm"]


def test_explicit_encoding_overrides(tmp_path):
    path = write(tmp_path / "c.csv", "Account ID,Account Name,Sales\nA1,Müller,5\n", "latin-1")
    assert read(path, encoding="cp1252").frame["account_name"].tolist() == ["Müller"]


@pytest.mark.parametrize("delimiter", [";", "\t", ","])
def test_delimiters_are_detected(tmp_path, delimiter):
    rows = [["Account ID", "Sales", "Account Name"], ["A1", "1,234.50", "Acme; Inc"], ["A2", "7", "Beta, Ltd"]]
    import csv

    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(rows)
    path = write(tmp_path / "c.csv", buffer.getvalue())
    result = read(path)
    assert result.source["delimiter"] == delimiter
    assert result.frame["sales"].tolist() == [1234.5, 7.0]
    assert result.frame["account_name"].tolist() == ["Acme; Inc", "Beta, Ltd"]


def test_tsv_extension_and_explicit_delimiter(tmp_path):
    path = write(tmp_path / "c.tsv", "Account ID\tSales\nA1\t5\n")
    assert read(path).source["delimiter"] == "\t"
    path = write(tmp_path / "d.csv", "Account ID|Sales\nA1|5\n")
    assert read(path, delimiter="|").frame["sales"].tolist() == [5.0]


@pytest.mark.parametrize(
    "text, decimal, expected",
    [
        ("12万", ".", 120000.0), ("1.5亿", ".", 150000000.0), ("3千", ".", 3000.0), ("35%", ".", 0.35),
        ("¥1,234", ".", 1234.0), ("￥1,234.5", ".", 1234.5), ("$2,000", ".", 2000.0), ("(1,200)", ".", -1200.0),
        ("-$1,200", ".", -1200.0), ("1,234.50", ".", 1234.5), ("RMB 8,000", ".", 8000.0), ("8000元", ".", 8000.0),
        ("12万元", ".", 120000.0), ("€3.000,50", ",", 3000.5), ("3 000,50", ",", 3000.5), ("12,5%", ",", 0.125),
        ("1e3", ".", 1000.0), ("１２３", ".", 123.0), ("0.1", ".", 0.1), ("-0.5", ".", -0.5),
        # signs: a plus is not a minus, a space may follow the sign, the Unicode minus (U+2212) counts
        ("+5", ".", 5.0), ("+$5", ".", 5.0), ("- 5", ".", -5.0), ("−1,200", ".", -1200.0),
        # a space may stand before the percent sign or the unit
        ("35 %", ".", 0.35), ("12 万", ".", 120000.0),
    ],
)
def test_number_formats(text, decimal, expected):
    assert parse_number(text, decimal) == (expected, None)


@pytest.mark.parametrize("text", ["1,2,3", "12abc", "$", "1.2.3", "(-5)", "1e999", "(12", "12)", "--5"])
def test_numbers_that_are_not(text):
    value, reason = parse_number(text)
    assert value is None and reason.startswith("is not a number")


@pytest.mark.parametrize("text, decimal, reason", [
    ("abc", ".", "is not a number"),
    ("1,5", ".", "is not a number (if ',' is the decimal mark, pass --decimal ,)"),
    ("1.5", ",", "is not a number (if '.' is the decimal mark, pass --decimal .)"),
    ("1e999", ".", "is not a number (too large)"),
    ("-1e999", ".", "is not a number (too large)"),
    ("1e9999999", ".", "is not a number (too large)"),  # beyond a decimal's exponent, not only a float's
    ("-1e9999999万", ".", "is not a number (too large)"),
])
def test_number_reasons_say_how_to_fix(text, decimal, reason):
    assert parse_number(text, decimal) == (None, reason)


def test_number_formats_in_a_file(tmp_path):
    path = write(tmp_path / "c.csv", "Account ID,Sales\nA1,12万\nA2,35%\nA3,\"¥1,234\"\nA4,(1200)\nA5,  7  \nA6,-\n"
                 "A7,N/A\nA8,0.1\n")
    result = read(path, fields=SMALL)
    assert result.frame["sales"].tolist()[:5] == [120000.0, 0.35, 1234.0, -1200.0, 7.0]
    assert np.isnan(result.frame["sales"].iloc[5]) and np.isnan(result.frame["sales"].iloc[6])
    assert result.frame["sales"].iloc[7] == 0.1


def test_decimal_comma_file(tmp_path):
    path = write(tmp_path / "c.csv", "Account ID;Sales\nA1;€3.000,50\nA2;12,5\nA3;1.234.567\n")
    result = read(path, decimal=",")
    assert result.frame["sales"].tolist() == [3000.5, 12.5, 1234567.0]


@pytest.mark.parametrize(
    "text, dayfirst, expected",
    [
        ("2026-01-31", False, "2026-01-31"), ("2026/01/31", False, "2026-01-31"), ("2026.1.5", False, "2026-01-05"),
        ("31.01.2026", False, "2026-01-31"), ("01/31/2026", False, "2026-01-31"), ("31/01/2026", False, "2026-01-31"),
        ("03/04/2026", False, "2026-03-04"), ("03/04/2026", True, "2026-04-03"), ("2026年1月31日", False, "2026-01-31"),
        ("20260131", False, "2026-01-31"), ("2026-01-31 14:30:00", False, "2026-01-31"),
        ("2026-01-31T14:30:00+08:00", False, "2026-01-31"), ("31 Jan 2026", False, "2026-01-31"),
        ("Jan 31, 2026", False, "2026-01-31"), ("January 31 2026", False, "2026-01-31"),
        ("1/31/2026 2:30 PM", False, "2026-01-31"), ("2026年1月31日 10:30", False, "2026-01-31"),
    ],
)
def test_date_formats(text, dayfirst, expected):
    assert parse_date(text, dayfirst) == (np.datetime64(expected, "ns"), None)


def test_excel_serial_only_where_cells_are_numbers():
    assert parse_date("46053", excel_serials=True) == (np.datetime64("2026-01-31", "ns"), None)
    assert parse_date("46053")[0] is None


@pytest.mark.parametrize("word, expected", [("yes", True), ("Y", True), ("TRUE", True), ("t", True), ("1", True),
                                             ("是", True), ("有", True), ("no", False), ("n", False), ("False", False),
                                             ("f", False), ("0", False), ("否", False), ("无", False), ("", None),
                                             ("N/A", None), ("-", None)])
def test_booleans(tmp_path, word, expected):
    path = write(tmp_path / "c.csv", f"Account ID,Sales,strategic\nA1,5,{word}\n")
    assert read(path).frame["strategic"].tolist() == [expected]


@pytest.mark.parametrize("word", ["", "N/A", "NA", "n/a", "-", "--", "null", "NULL", "None", "无", "  "])
def test_missing_words(tmp_path, word):
    path = write(tmp_path / "c.csv", f"Account ID,Sales,region,last_visit\nA1,5,{word},{word}\n")
    frame = read(path).frame
    assert frame["region"].tolist() == [None]
    assert pd.isna(frame["last_visit"].iloc[0])


def test_category_values_win_over_missing_words(tmp_path):
    fields = SMALL + [FieldSpec("market", "category", values=("NA", "EMEA", "APAC"))]
    path = write(tmp_path / "c.csv", "account_id,market\nA1,NA\nA2,emea\nA3,\nA4,n/a\n")
    assert read(path, fields).frame["market"].tolist() == ["NA", "EMEA", None, "NA"]


def test_ids_keep_leading_zeros_and_spaces_are_trimmed(tmp_path):
    path = write(tmp_path / "c.csv", "Account ID,Sales,region\n00042,1,  East \n 007,2,West\n")
    frame = read(path).frame
    assert frame["account_id"].tolist() == ["00042", "007"]
    assert frame["region"].tolist() == ["East", "West"]


def test_salesforce_headers(tmp_path):
    text = ("Account ID,Account Name,Account Owner,Billing State/Province,Industry,Type,Annual Revenue,Sales\n"
            "001A,Acme Corp,Jane,CA,Tech,Customer,50000000,120000\n")
    result = read(write(tmp_path / "sf.csv", text))
    assert result.column_map == {"account_id": "Account ID", "account_name": "Account Name",
                                 "region": "Billing State/Province", "sales": "Sales"}
    # A CRM's Annual Revenue is the customer's own revenue, never our sales to it.
    assert "Annual Revenue" in result.unused_columns
    assert result.frame["sales"].tolist() == [120000.0]


def test_hubspot_headers(tmp_path):
    text = ("Record ID,Company name,Company owner,State/Region,Annual Revenue,Last Activity Date,Sales Amount\n"
            "9001,Beta LLC,Ann,NY,2000000,2026-01-15 09:12,5000\n")
    result = read(write(tmp_path / "hs.csv", text))
    assert result.column_map["account_id"] == "Record ID"
    assert result.column_map["account_name"] == "Company name"
    assert result.column_map["last_visit"] == "Last Activity Date"
    assert result.frame["last_visit"].tolist() == [pd.Timestamp("2026-01-15")]
    assert result.unused_columns == ["Company owner", "Annual Revenue"]


def test_headers_match_ignoring_case_spaces_and_punctuation(tmp_path):
    path = write(tmp_path / "c.csv", "ACCOUNT-ID, sales ,Last_Visit\nA1,5,2026-01-01\n")
    assert read(path).column_map == {"account_id": "ACCOUNT-ID", "sales": " sales ", "last_visit": "Last_Visit"}


def test_columns_mapping_overrides_and_resolves_ambiguity(tmp_path):
    path = write(tmp_path / "c.csv", "Account ID,Sales,销售额,Turnover\nA1,5,6,7\n")
    result = read(path, columns={"sales": "销售额"})
    assert result.column_map["sales"] == "销售额"
    assert result.frame["sales"].tolist() == [6.0]
    assert result.unused_columns == ["Sales", "Turnover"]
    result = read(path, columns={"sales": "turnover"})  # matched like a header, ignoring case
    assert result.frame["sales"].tolist() == [7.0]


def test_blank_lines_keep_excel_row_numbers(tmp_path):
    path = write(tmp_path / "c.csv", "Account ID,Sales\nA1,5\n\n,\nA2,oops\n")
    with pytest.raises(DataError, match=r"row 5, column 'Sales'"):
        read(path)
    result = read(path, on_bad_value="missing")
    assert result.row_numbers == [2, 5]


def test_quoted_newlines_count_as_one_row(tmp_path):
    path = write(tmp_path / "c.csv", 'Account ID,Account Name,Sales\nA1,"two\nlines",5\nA2,x,bad\n')
    with pytest.raises(DataError, match=r"^\S+: row 3, column 'Sales'"):
        read(path)


def test_on_bad_value_missing_returns_issues(tmp_path):
    text = ("Account ID,Sales,nps,last_visit,strategic,customer_type\n"
            "A1,5,1,2026-01-01,yes,企业\n"
            "A2,12abc,2.5,someday,perhaps,partner\n"
            "A3,,3,2026-01-03,no,政府\n")
    result = read(write(tmp_path / "c.csv", text), on_bad_value="missing")
    assert result.issues == [
        DataIssue(3, "Sales", "sales", "12abc", "is not a number"),
        DataIssue(3, "nps", "nps", "2.5", "is not a whole number"),
        DataIssue(3, "last_visit", "last_visit", "someday", "is not a date (use YYYY-MM-DD)"),
        DataIssue(3, "strategic", "strategic", "perhaps", "is not yes/no (use yes/no, true/false, 1/0 or 是/否)"),
        DataIssue(3, "customer_type", "customer_type", "partner", "is not one of: enterprise, government, retailer"),
        DataIssue(4, "Sales", "sales", "", "is missing but the field is required"),
    ]
    frame = result.frame
    assert np.isnan(frame["sales"].iloc[1]) and np.isnan(frame["nps"].iloc[1])
    assert pd.isna(frame["last_visit"].iloc[1])
    assert frame["strategic"].tolist() == [True, None, False]
    assert frame["customer_type"].tolist() == ["enterprise", None, "government"]


def test_excel_workbook_with_sheet_and_date_cells(tmp_path):
    rows = [
        ["Account ID", "Sales", "Last Activity Date", "strategic", "nps"],
        ["00042", 1200.5, dt.datetime(2026, 1, 31, 15, 45), True, 9],
        [42, "¥1,234", dt.date(2025, 12, 1), "否", 7.0],
        [None, None, None, None, None],
        ["A3", 3, 46053, None, None],  # a date typed as its Excel serial number
    ]
    content = xlsx_bytes([["ignore me"]], title="Notes", more_sheets={"Accounts": rows})
    path = write(tmp_path / "c.xlsx", content)
    for sheet in ("Accounts", 1, "1"):
        result = read(path, sheet=sheet)
        frame = result.frame
        assert result.source["sheet"] == "Accounts"
        assert frame["account_id"].tolist() == ["00042", "42", "A3"]
        assert frame["sales"].tolist() == [1200.5, 1234.0, 3.0]
        assert frame["last_visit"].tolist() == [pd.Timestamp("2026-01-31"), pd.Timestamp("2025-12-01"),
                                                pd.Timestamp("2026-01-31")]
        assert frame["strategic"].tolist() == [True, False, None]
        assert frame["nps"].tolist()[:2] == [9.0, 7.0]
        assert result.row_numbers == [2, 3, 5]


def test_excel_header_below_empty_rows(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["B3"], sheet["C3"] = "Account ID", "Sales"
    sheet["B4"], sheet["C4"] = "A1", "oops"
    buffer = io.BytesIO()
    workbook.save(buffer)
    path = write(tmp_path / "c.xlsx", buffer.getvalue())
    with pytest.raises(DataError) as caught:
        read(path)
    assert str(caught.value) == (f"{path}: row 4, column 'Sales' (field sales): 'oops' is not a number; "
                                 "fix the cell or pass --on-bad-value missing")


def test_parquet(tmp_path):
    table = pa.table({
        "account_id": pa.array(["00042", "00043", None]),
        "sales": pa.array([1.5, None, 3.0]),
        "nps": pa.array([9, 8, None], type=pa.int64()),
        "last_visit": pa.array([dt.datetime(2026, 1, 31, 10, 0), None, dt.datetime(2025, 1, 1)]),
        "strategic": pa.array([True, False, None]),
        "region": pa.array([1, 2, 3]),
    })
    path = write(tmp_path / "c.parquet", parquet_bytes(table))
    result = read(path, on_bad_value="missing")
    frame = result.frame
    assert frame["account_id"].tolist() == ["00042", "00043", None]
    assert frame["sales"].tolist()[0] == 1.5 and np.isnan(frame["sales"].iloc[1])
    assert frame["nps"].tolist()[:2] == [9.0, 8.0]
    assert frame["last_visit"].tolist()[0] == pd.Timestamp("2026-01-31")
    assert str(frame["last_visit"].dtype) == "datetime64[ns]"
    assert frame["strategic"].tolist() == [True, False, None]
    assert frame["region"].tolist() == ["1", "2", "3"]
    assert result.issues == [DataIssue(2, "sales", "sales", "", "is missing but the field is required"),
                             DataIssue(3, "account_id", "account_id", "", "is missing but the field is required")]


def test_json_records(tmp_path):
    records = [{"account_id": "00042", "sales": 1200, "strategic": True, "last_visit": "2026-01-31"},
               {"account_id": 43, "sales": "12万", "region": "华南"}]
    path = write(tmp_path / "c.json", json.dumps(records, ensure_ascii=False))
    result = read(path)
    assert list(result.frame.columns) == ["account_id", "sales", "strategic", "last_visit", "region"]
    assert result.frame["account_id"].tolist() == ["00042", "43"]
    assert result.frame["sales"].tolist() == [1200.0, 120000.0]
    assert result.frame["strategic"].tolist() == [True, None]
    assert result.row_numbers == [1, 2]
    assert result.source["format"] == "json"


def test_json_lines(tmp_path):
    path = write(tmp_path / "c.jsonl", '{"account_id": "A1", "sales": 1.5}\n\n{"account_id": "A2", "sales": 2}\n')
    result = read(path)
    assert result.frame["account_id"].tolist() == ["A1", "A2"]
    assert result.row_numbers == [1, 3]
    path = write(tmp_path / "c.data", '{"account_id": "A1", "sales": 1.5}\n')
    assert read(path, input_format="jsonl").frame["sales"].tolist() == [1.5]


def test_input_format_overrides_extension(tmp_path):
    path = write(tmp_path / "export.txt", "Account ID\tSales\nA1\t5\n")
    assert read(path, input_format="tsv").frame["sales"].tolist() == [5.0]


# --------------------------------------------------------------------------------------------------
# Column mapping files


def test_load_column_mapping(tmp_path):
    path = write(tmp_path / "map.yaml", "sales: Umsatz\naccount_id: 'Kunden-Nr.'\nregion: 2025\n")
    assert load_column_mapping(path) == {"sales": "Umsatz", "account_id": "Kunden-Nr.", "region": "2025"}


@pytest.mark.parametrize(
    "text, message",
    [
        ("- sales\n- Umsatz\n", "{p}:1:1: a column mapping maps field names to column headers, like 'sales: Sales Amount'"),
        ("sales: [a, b]\n", "{p}:1:8: field 'sales': expected a column header, found a list"),
        ("sales:\n", "{p}:1:7: field 'sales': expected a column header, found nothing"),
        ("sales: a\nsales: b\n", "{p}:2:1: duplicate key 'sales' (first defined at line 1); YAML keeps only one "
                                 "of them: remove or rename one"),
        ("", "{p}: is empty; write one line per field, like 'sales: Sales Amount'"),
    ],
)
def test_bad_column_mapping(tmp_path, text, message):
    path = write(tmp_path / "map.yaml", text)
    with pytest.raises(ConfigError) as caught:
        load_column_mapping(path)
    assert str(caught.value) == message.format(p=path)


def test_missing_column_mapping(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_column_mapping(tmp_path / "nope.yaml")
    assert str(caught.value) == f"{tmp_path / 'nope.yaml'}: no such file; check the --columns path"


def test_column_mapping_syntax_error_names_the_line(tmp_path):
    path = write(tmp_path / "map.yaml", "sales: [a\n")
    with pytest.raises(ConfigError) as caught:
        load_column_mapping(path)
    assert str(caught.value).startswith(f"{path}:2:1: YAML syntax error: ")


# --------------------------------------------------------------------------------------------------
# The vectorised number path must agree with the per-value parser on everything it accepts

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

NUMBER_PARTS = ["(", ")", "-", "+", "¥", "$", "€", "RMB ", "rmb", "HK$", "元", " ", "1", "2", "0", "5", "12",
                ",", ".", ",345", ".5", "000", "%", "万", "亿", "千", "e"]


@settings(max_examples=300, deadline=None, database=None)  # writes nothing outside tmp_path
@given(texts=st.lists(st.lists(st.sampled_from(NUMBER_PARTS), min_size=1, max_size=7).map("".join), min_size=1,
                      max_size=40),
       decimal=st.sampled_from([".", ","]))
def test_vectorised_numbers_agree_with_parse_number(texts, decimal):
    from kamrules.data.numbers import _formatted_numbers

    texts = [t.strip() for t in texts if t.strip()]
    if not texts:
        return
    accepted, numbers = _formatted_numbers(pa.array(texts), decimal)
    for text, number in zip([t for t, ok in zip(texts, accepted) if ok], numbers):
        assert parse_number(text, decimal) == (number, None), text


def test_only_cells_the_vectorised_paths_cannot_read_reach_the_per_cell_parser(monkeypatch):
    """Plain numbers (pyarrow cast) and the common formatted shapes (one regex) are read column-wise;
    the careful parser sees only the rest, with the file's decimal mark, and explains them."""
    from kamrules.data import numbers

    seen = []

    def spy(text, decimal="."):
        seen.append((text, decimal))
        return parse_number(text, decimal)

    formatted = []
    regex_path = numbers._formatted_numbers

    def regex_spy(texts, decimal):
        formatted.extend(texts.to_pylist())
        return regex_path(texts, decimal)

    monkeypatch.setattr(numbers, "parse_number", spy)
    monkeypatch.setattr(numbers, "_formatted_numbers", regex_spy)
    cells = ["1", "2.5", "-3", "1e999", "(1,200)", "12万", "N/A", "12abc", "１２,５"]
    values, missing, reasons = numbers._to_number(pa.array(cells), ".", whole=False)
    assert formatted == ["1e999", "(1,200)", "12万", "12abc", "１２,５"]  # plain numbers were cast
    assert seen == [("1e999", "."), ("12abc", "."), ("１２,５", ".")]
    got = values.tolist()
    assert got[:3] + got[4:6] == [1.0, 2.5, -3.0, -1200.0, 120000.0] and np.isnan(got[3])
    assert missing.tolist() == [False] * 6 + [True, False, False]
    assert reasons == {3: "is not a number (too large)", 7: "is not a number",
                       8: "is not a number (if ',' is the decimal mark, pass --decimal ,)"}
    seen.clear()
    values, _, reasons = numbers._to_number(pa.array(["１２,５", "3,5"]), ",", whole=False)
    assert seen == [("１２,５", ",")] and values.tolist() == [12.5, 3.5] and reasons == {}


@pytest.mark.parametrize("decimal, texts", [
    (".", ["(1,200)", "-5", "¥-5", "-¥5", "+1,234.5", "12万", "35%", "$2,000", "RMB 8,000", "8000元", "-1,200.50"]),
    (",", ["(1.200)", "-3.000,5", "€-3.000,50", "12,5%"]),
])
def test_vectorised_numbers_take_the_common_shapes_themselves(decimal, texts):
    """The common shapes (signs, accounting parentheses, currencies, units) never fall back to the
    per-cell parser, and give its values."""
    from kamrules.data.numbers import _formatted_numbers

    accepted, numbers = _formatted_numbers(pa.array(texts), decimal)
    assert accepted.all(), [t for t, ok in zip(texts, accepted) if not ok]
    assert [(float(n), None) for n in numbers] == [parse_number(t, decimal) for t in texts]


# --------------------------------------------------------------------------------------------------
# The column mapping a user sees (console, validate --data, manifest.json)

ROOT = Path(__file__).resolve().parent.parent


def default_fields():
    from kamrules.pack import load_pack

    return list(load_pack(ROOT / "rules").fields.values())


def test_mapping_says_how_each_field_was_found_and_what_is_close(tmp_path):
    from kamrules.data.reader import mapping_lines

    path = write(tmp_path / "crm.csv", "Account ID,Umsatz,Sales,Regoin,Annual Revenue,Type\nA1,1,5,浙江,9,Enterprise\n")
    read = read_table(path, default_fields(), ReadOptions(columns={"account_name": "Umsatz"}))
    mapping = read.mapping
    assert mapping["fields"] == [
        {"field": "account_id", "column": "Account ID", "by": "name"},
        {"field": "account_name", "column": "Umsatz", "by": "--columns"},
        {"field": "sales", "column": "Sales", "by": "name"},
        {"field": "customer_type", "column": "Type", "by": "alias"},
    ]
    assert mapping["near_misses"] == [{"field": "region", "column": "Regoin"}]
    assert "region" in mapping["absent"] and "sales" not in mapping["absent"]
    assert mapping["unused_columns"] == ["Regoin", "Annual Revenue"]
    lines = mapping_lines(mapping)
    assert lines[:4] == [
        "columns: 4 fields found",
        "  by their own name (2): account_id, sales",
        "  account_name  ← Umsatz  (--columns)",
        "  customer_type ← Type  (alias)",
    ]
    assert lines[4] == ("  region: not found; did you mean column 'Regoin'? "
                        "(map it with --columns: region: Regoin)")
    assert lines[-1] == "  columns not used (2): 'Regoin', 'Annual Revenue'"
    assert not any("not in the file" in line for line in mapping_lines(mapping, full=False))


@pytest.mark.parametrize("revenue", ["Annual Revenue", "年营业额", "营业收入"])
def test_missing_sales_never_suggests_the_customers_own_revenue(tmp_path, revenue):
    path = write(tmp_path / "crm.csv", f"Account ID,{revenue},Sales Amt\nA1,9,5\n")
    with pytest.raises(DataError) as caught:
        read_table(path, default_fields())
    message = str(caught.value)
    assert "closest: 'Sales Amt'" in message and f"closest: '{revenue}'" not in message
    assert message.endswith(
        "sales to the customer come from your own books: the sum of closed-won opportunity amounts in the "
        "CRM, or the ERP's invoices to the customer; a CRM's 'Annual Revenue' is the customer's own "
        "revenue, not sales")
    # an own-revenue header is no near miss for any field either
    read = read_table(write(tmp_path / "ok.csv", f"Account ID,Sales,{revenue}\nA1,5,9\n"), default_fields())
    assert read.mapping["near_misses"] == []


def test_evaluate_prints_as_of_pack_and_columns_and_records_them(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from kamrules.cli import app

    monkeypatch.chdir(tmp_path)
    write(tmp_path / "c.csv", "Account ID,Sales,Type\nA1,500,Enterprise\nA2,100,Government\n")
    result = CliRunner().invoke(app, ["evaluate", "c.csv", "--rules", str(ROOT / "rules"), "--out", "out",
                                      "--playbooks", "none", "--jobs", "1"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"as of {dt.date.today().isoformat()} (today; pass --as-of to fix it)"
    from kamrules.pack import load_pack

    pack = load_pack(ROOT / "rules")
    assert lines[1] == f"pack: {ROOT / 'rules'} ({pack.name} {pack.version}, hash {pack.hash})"
    assert lines[2:5] == ["columns: 3 fields found", "  by their own name (2): account_id, sales",
                          "  customer_type ← Type  (alias)"]
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["columns"]["fields"][2] == {"field": "customer_type", "column": "Type", "by": "alias"}
    assert "region" in manifest["columns"]["absent"]
    assert (manifest["pack"]["name"], manifest["pack"]["version"]) == (pack.name, pack.version)
    again = CliRunner().invoke(app, ["evaluate", "c.csv", "--rules", str(ROOT / "rules"), "--out", "out",
                                     "--playbooks", "none", "--jobs", "1", "--as-of", "2026-11-30"])
    assert again.output.splitlines()[0] == "as of 2026-11-30"


# --------------------------------------------------------------------------------------------------
# Value mapping in the --columns file

SALESFORCE = ("Account ID,Account Name,Type,Sales\n1,a,Prospect,5\n2,b,Technology Partner,6\n"
              "3,c,Prospect,7\n4,d,Customer - Direct,8\n")


def test_unknown_category_values_are_counted_with_the_mapping_line_to_add(tmp_path):
    path = write(tmp_path / "sf.csv", SALESFORCE)
    with pytest.raises(DataError) as caught:
        read_table(path, default_fields())
    assert str(caught.value) == (
        f"{path}: column 'Type' (field customer_type) has values the pack does not know: 'Prospect' (rows 2 "
        "and 4; sales 12 = 46.2% of the total), 'Technology Partner' (row 3; sales 6 = 23.1% of the total); add to "
        "the --columns file:\n"
        "  customer_type: {column: Type, values: {Prospect: '', Technology Partner: ''}}\n"
        "  'Prospect' → '': read as missing: it says not a customer, yet it has 2 rows with sales 12 = 46.2% of the "
        "total; write one of enterprise, government, non_profit, wholesaler, retailer, consumer, unspecified if they "
        "are customers; skip-row would leave out 2 rows with sales 12 = 46.2% of the total\n"
        "  'Technology Partner' → '': read as missing (the rows stay, without a value): no value of the pack is "
        "clear; write one of enterprise, government, non_profit, wholesaler, retailer, consumer, unspecified when you "
        "know it; skip-row would leave out 1 row with sales 6 = 23.1% of the total")


def test_the_suggested_line_works_and_value_maps_keep_or_leave_out_rows(tmp_path):
    from kamrules.data.reader import load_mapping, mapping_lines

    path = write(tmp_path / "sf.csv", SALESFORCE)
    mapping_file = write(tmp_path / "m.yaml", "customer_type:\n  column: Type\n  values:\n"
                         "    Prospect: skip-row\n    technology partner: wholesaler\n"
                         "    Customer - Direct: 企业\nsales: Sales\n")
    columns, values = load_mapping(mapping_file)
    assert columns == {"customer_type": "Type", "sales": "Sales"}
    read = read_table(path, default_fields(), ReadOptions(columns=columns, values=values))
    assert read.frame["account_id"].tolist() == ["2", "4"] and read.row_numbers == [3, 5]
    assert read.frame["customer_type"].tolist() == ["wholesaler", "enterprise"]  # a value alias works too
    assert read.mapping["skipped"] == [{"field": "customer_type", "column": "Type", "value": "Prospect", "rows": 2}]
    assert "  left out 2 rows: customer_type 'Prospect' (skip-row in --columns)" in mapping_lines(read.mapping)


@pytest.mark.parametrize("text, message", [
    ("customer_type: {colum: Type}\n",
     "{p}:1:16: field 'customer_type': unknown key 'colum' (did you mean 'column'?); "
     "write {column: Source Column, values: {In the file: in the pack}}"),
    ("customer_type: {values: [a, b]}\n",
     "{p}:1:16: field 'customer_type': 'values' maps each value in the file to the pack's value or skip-row, "
     "like {Prospect: skip-row, Technology Partner: partner}"),
])
def test_bad_value_maps_are_reported_with_their_place(tmp_path, text, message):
    from kamrules.data.reader import load_mapping

    path = write(tmp_path / "m.yaml", text)
    with pytest.raises(ConfigError) as caught:
        load_mapping(path)
    assert str(caught.value) == message.replace("{p}", str(path))


def test_every_row_skipped_and_values_without_a_column_are_errors(tmp_path):
    path = write(tmp_path / "sf.csv", "Account ID,Sales,Type\n1,5,Prospect\n")
    with pytest.raises(DataError) as caught:
        read_table(path, default_fields(), ReadOptions(values={"customer_type": {"prospect": "skip-row"}}))
    assert str(caught.value) == f"{path}: every row was left out by 'skip-row' in the --columns file"
    with pytest.raises(DataError) as caught:
        read_table(path, default_fields(), ReadOptions(values={"industry": {"x": "y"}}))
    assert str(caught.value) == (f"{path}: --columns maps values of field 'industry', but no column of this file "
                                 "is that field; add 'column: <header>' to its entry")


# --------------------------------------------------------------------------------------------------
# Row filters (--where)

WHERE_DATA = "Account ID,Sales,Type,NPS\n1,5,Enterprise,9\n2,6,Government,3\n3,7,,8\n4,8,Retailer,\n"


def test_where_keeps_rows_where_the_condition_holds_and_counts_the_rest(tmp_path):
    from kamrules.data.reader import mapping_lines

    path = write(tmp_path / "w.csv", WHERE_DATA)
    read = read_table(path, default_fields(), ReadOptions(where='customer_type != "government" and nps >= 5'))
    # row 3 has no type (unknown), row 4 no NPS (unknown), row 2 is false
    assert read.frame["account_id"].tolist() == ["1"] and read.row_numbers == [2]
    assert read.mapping["where"] == {"condition": 'customer_type != "government" and nps >= 5',
                                     "left_out": 3, "false": 1, "unknown": 2}
    assert ('  left out 3 rows: --where customer_type != "government" and nps >= 5 is false for 1 and unknown '
            'for 2 (a value it tests is missing)') in mapping_lines(read.mapping)
    everyone = read_table(path, default_fields(), ReadOptions(where="sales > 0"))
    assert len(everyone.frame) == 4 and everyone.mapping["where"]["left_out"] == 0


@pytest.mark.parametrize("condition, message", [
    ('custmer_type != "enterprise"', "--where: unknown name 'custmer_type' (did you mean 'customer_type'?)\n"
                                     '  custmer_type != "enterprise"\n  ^'),
    ("sales >", None),
    ("region == 'East'", "--where: field 'region' has no column in this file, so --where cannot test it\n"
                         "  region == 'East'\n  ^"),
])
def test_where_errors_are_the_rule_languages_with_a_caret(tmp_path, condition, message):
    from kamrules.language import expr as ex

    path = write(tmp_path / "w.csv", WHERE_DATA)
    with pytest.raises(UsageError) as caught:
        read_table(path, default_fields(), ReadOptions(where=condition))
    if message is None:  # the parser's own message, word for word
        with pytest.raises(ex.ExprError) as parsed:
            ex.parse(condition)
        message = f"--where: {parsed.value.message}\n  {condition}\n  {' ' * parsed.value.offset}^"
    assert str(caught.value) == message


def test_where_leaving_no_rows_is_an_error(tmp_path):
    path = write(tmp_path / "w.csv", WHERE_DATA)
    with pytest.raises(DataError) as caught:
        read_table(path, default_fields(), ReadOptions(where="sales > 100"))
    assert str(caught.value) == f"{path}: --where sales > 100 leaves no rows"


@pytest.mark.parametrize("header", ["所在省份", "所属区域", "省份", "所在 省"])
def test_chinese_location_prefixes_match_region(tmp_path, header):
    path = write(tmp_path / "c.csv", f"客户编码,销售额,{header}\n00042,5,浙江\n")
    read = read_table(path, default_fields())
    assert read.column_map["region"] == header and read.frame["region"].tolist() == ["浙江"]
    expected = "alias without 所在/所属" if header in ("所在省份", "所在 省") else "alias"
    assert next(r for r in read.mapping["fields"] if r["field"] == "region")["by"] in (expected, "label")


def test_a_header_that_matches_as_it_is_wins_over_a_prefixed_one(tmp_path):
    path = write(tmp_path / "c.csv", "客户编码,销售额,所在省份,省份\n00042,5,浙江,江苏\n")
    read = read_table(path, default_fields())
    assert read.column_map["region"] == "省份" and "所在省份" in read.unused_columns


def test_values_outside_a_field_range_are_bad_values_with_their_row(tmp_path):
    fields = [FieldSpec("account_id", "string", required=True), FieldSpec("nps", "integer", range=(0, 10)),
              FieldSpec("sow", "number", range=(0, 1)), FieldSpec("days", "integer", range=(0, None))]
    path = write(tmp_path / "r.csv", "account_id,nps,sow,days\n1,10,0.5,0\n2,11,35,3\n3,-1,35%,-2\n")
    with pytest.raises(DataError) as error:
        read(path, fields)
    assert str(error.value).splitlines()[1:] == [
        "  row 3, column 'nps' (field nps): '11' is outside 0–10, the range of nps",
        "  row 3, column 'sow' (field sow): '35' is outside 0–1, the range of sow (a share: write 35% or 0.35)",
        "  row 4, column 'nps' (field nps): '-1' is outside 0–10, the range of nps",
        "  row 4, column 'days' (field days): '-2' is outside 0–…, the range of days",
    ]
    result = read(path, fields, on_bad_value="missing")
    assert result.frame["nps"].tolist()[0] == 10 and pd.isna(result.frame["nps"]).tolist() == [False, True, True]
    assert result.frame["sow"].tolist()[:1] == [0.5] and result.frame["sow"].tolist()[2] == 0.35
    assert len(result.issues) == 4


def test_a_unit_in_the_header_matches_the_field_and_scales_plain_numbers(tmp_path):
    fields = [FieldSpec("account_id", "string", required=True, aliases=("客户编号",)),
              FieldSpec("sales", "number", required=True, aliases=("销售额",)),
              FieldSpec("share_of_wallet", "number", aliases=("钱包份额",)),
              FieldSpec("contract_months", "integer", aliases=("合同期限",)),
              FieldSpec("nps", "integer", aliases=("推荐度",))]
    path = write(tmp_path / "u.csv", "客户编号,销售额(万元),钱包份额（%）,合同期限(月),推荐度(万元)\n"
                                     "1,120,40,36,9\n2,3.5,,12,7\n", encoding="gbk")
    result = read(path, fields)
    assert result.frame["sales"].tolist() == [1_200_000.0, 35_000.0]
    assert result.frame["share_of_wallet"].tolist()[0] == 0.4
    assert result.frame["contract_months"].tolist() == [36, 12]  # a neutral unit: matched, not scaled
    assert "nps" not in result.frame  # 万元 cannot be the unit of a whole-number score: no match
    by = {row["field"]: (row["by"], row.get("scale")) for row in result.mapping["fields"]}
    assert by["sales"] == ("alias, unit 万元", 10_000) and by["contract_months"] == ("alias, unit 月", None)


def test_a_cell_with_its_own_unit_under_a_unit_header_is_not_scaled_twice(tmp_path):
    fields = [FieldSpec("account_id", "string", required=True), FieldSpec("sales", "number", aliases=("销售额",))]
    path = write(tmp_path / "u.csv", "account_id,销售额(万元)\n1,120\n2,12万\n")
    with pytest.raises(DataError) as error:
        read(path, fields)
    assert ("row 3, column '销售额(万元)' (field sales): '12万' carries its own unit while the column header "
            "gives one: write a plain number, or remove the unit from the header") in str(error.value)


def test_where_still_filters_when_bad_cells_are_kept_as_missing(tmp_path):
    """--on-bad-value missing used to switch --where off whenever a cell was bad."""
    path = tmp_path / "f.csv"
    path.write_text("account_id,sales,customer_type\nA1,abc,enterprise\nA2,2,government\nA3,x,retailer\n",
                    encoding="utf-8")
    read = read_table(path, FIELDS, ReadOptions(on_bad_value="missing", where='customer_type != "retailer"'))
    assert list(read.frame["account_id"]) == ["A1", "A2"]
    assert [(issue.row, issue.value) for issue in read.issues] == [(2, "abc")]  # row 4 is left out
    assert read.mapping["where"]["left_out"] == 1
