"""The words of every message about the user's data (kamrules.data and the CLI around it), in every
language: bad cells and their reasons, columns and the --columns file, encodings, formats, --where,
duplicate and look-alike ids. Part of the one catalogue (re-exported by `kamrules.i18n`); keys match
across languages (a test checks it).

Placeholders are `str.format` fields. A field is named by `{field}`, which the caller fills with the
field's name in English and with its Chinese label and name, 「销售额」(sales), in Chinese; column
headers, values, row numbers and CLI options (--columns, --on-bad-value missing) are never translated."""

from __future__ import annotations

DATA: dict[str, dict[str, str]] = {
    "en": {
        # the CLI's prefixes
        "error": "error: {message}", "error_block": "error:\n{message}", "warning": "warning: {message}",
        "strict_refuses": "(--strict refuses these; fix the data, or run without --strict to be warned only)",
        # lists and places
        "sep": ", ", "and": " and ", "quote": "'{text}'", "more": " and {n} more", "first_more": "and {n} more",
        "did_you_mean": " (did you mean '{name}'?)", "column_blank": "(column {letter})",
        "at_row": "row {n}", "at_record": "record {n}", "at_line": "line {n}",
        "many_row": "rows {list}", "many_record": "records {list}", "many_line": "lines {list}",
        "more_row": "rows {list} and {n} more", "more_record": "records {list} and {n} more",
        "more_line": "lines {list} and {n} more",
        # options
        "unknown_format": "unknown input format '{fmt}'; use one of: {formats}",
        "bad_decimal": "--decimal must be '.' or ',', not '{value}'",
        "bad_on_bad_value": "--on-bad-value must be 'error' or 'missing', not '{value}'",
        "bad_delimiter": "--delimiter must be one ASCII character such as ; or | (or 'tab'), not '{value}'",
        "bad_encoding": "unknown encoding '{value}'; use for example utf-8, gb18030 or latin-1",
        "columns_unknown_field": "--columns: unknown field '{field}'{hint}; the pack's fields are: {known}",
        # the file itself
        "xls_old": "{name}: old Excel 97-2003 workbooks (.xls) cannot be read; open it in Excel and save as .xlsx or CSV",
        "format_unknown": "{name}: cannot tell the format from {shown}; pass --input-format csv, tsv, xlsx, parquet, json or jsonl",
        "ext_named": "extension '{ext}'", "ext_none": "no extension",
        "is_folder": "{name}: is a folder, not a data file; pass the file inside it",
        "no_file": "{name}: no such file; check the path",
        "no_permission": "{name}: cannot be opened (permission denied)",
        "unreadable": "{name}: cannot be read ({reason})",
        "empty": "{name}: the file is empty",
        "content_xls": "{name}: is an old Excel 97-2003 workbook (.xls), not {what}; open it in Excel and save as .xlsx or CSV",
        "content_binary": "{name}: is not {what}: it contains binary data; export the data as CSV, Excel (.xlsx), Parquet or JSON",
        "content_looks": "{name}: is not {what}: it looks like {looks}; rename it to {rename} or pass --input-format {suggestion}",
        "kind_csv": "CSV", "kind_tsv": "TSV", "kind_xlsx": "an Excel workbook (.xlsx)", "kind_parquet": "Parquet",
        "kind_json": "JSON", "kind_jsonl": "JSON Lines",
        "looks_xlsx": "an Excel workbook (.xlsx)", "looks_parquet": "a Parquet file",
        "looks_text": "a text file (CSV or JSON)",
        "no_rows": "{name}: has a header row but no data rows; add the accounts below the header",
        # encodings
        "encoding_mixed": "{name}: row {line} is not valid {label} (bytes {shown}) although the rows before are; "
                          "the file mixes encodings; save it again as UTF-8, or pass --encoding gb18030 or --encoding latin-1",
        "encoding_wrong": "{name}: row {line} cannot be read as {encoding} (bytes {shown}); {hint}",
        "encoding_looks": "the file looks like {detected}: pass --encoding {detected}",
        "encoding_pass": "pass the file's real encoding with --encoding (for example utf-8, gb18030 or latin-1)",
        # CSV, Excel, Parquet, JSON
        "delimiter_fix": "check the delimiter (read as {shown}; pass --delimiter to choose another) and the quotes",
        "tab": "tab",
        "bad_row": "{name}: row {number} has {actual} values but the header has {width} columns; {fix}",
        "bad_rows": "{name}: {count} rows do not have the header's {width} columns; {fix}:",
        "bad_rows_line": "row {number}: {actual} values",
        "csv_straddling": "{name}: a cell is larger than 1 MB, or a quote (\") is never closed so the rest of the file "
                          "reads as one cell; check the quotes, or keep long texts out of the customer table",
        "csv_failure": "{name}: cannot be read as CSV ({detail}); check that it is a CSV export",
        "xlsx_invalid": "{name}: is not a valid Excel workbook ({detail}); open it in Excel and save it again as .xlsx",
        "xlsx_again": "open it in Excel and save it again (or export it as CSV)",
        "xlsx_damaged": "{name}: the workbook is damaged or was not written by Excel ({detail}); {again}",
        "xlsx_parts": "{name}: the workbook has {parts} parts; Excel never writes that many; {again}",
        "xlsx_inflate": "{name}: the workbook would inflate to {total} bytes, more than {limit}; "
                        "export it as CSV or Parquet instead",
        "xlsx_ratio": "{name}: part {part} is compressed {ratio} to 1, as zip bombs are, not as Excel writes; {again}",
        "xlsx_dtd": "{name}: part {part} declares a DTD (entities), which Excel never writes; {again}",
        "excel_rows": "{name}: the sheet has more than {limit} rows, which no Excel sheet can have; "
                      "export the data as CSV or Parquet instead",
        "sheet_empty": "{name}: sheet '{sheet}' is empty; pass --sheet to read another sheet",
        "no_sheets": "{name}: the workbook has no sheets",
        "no_sheet": "{name}: no sheet '{wanted}'; the sheets are {listed} (pass --sheet with a name or a 0-based number)",
        "parquet_invalid": "{name}: is not a valid Parquet file ({detail})",
        "parquet_names": "{name}: the Parquet column names are not UTF-8 text; the file is damaged or was not "
                         "written by a Parquet library: export it again",
        "parquet_text": "{name}: column '{column}' holds text that is not UTF-8; the file is damaged or was not "
                        "written by a Parquet library: export it again",
        "json_line_where": "{name}: line {number}",
        "jsonl_invalid": "{name}: line {number} is not valid JSON (column {column}: {detail})",
        "json_invalid": "{name}: is not valid JSON (line {line}, column {column}: {detail})",
        "json_not_array": "{name}: expected an array of records like [{{\"account_id\": \"A1\", ...}}], found {kind}",
        "json_no_records": "{name}: the array has no records",
        "json_not_object": "{name}: {at} is {kind}, not an object with field names",
        "json_object": "an object", "json_array": "an array", "json_string": "a string", "json_null": "null",
        "json_number": "a number", "json_boolean": "a boolean",
        "json_surrogate": "{where}: line {line} has the escape {escape}, half of a character pair (a lone surrogate) "
                          "that no file can store; fix the text in the system that exported it",
        "json_deep": "{where}: nested too deeply (arrays or objects inside each other thousands of times); "
                     "a customer table is a list of flat records",
        # the --columns file
        "map_folder": "{name}: is a folder; --columns expects a YAML file like 'sales: Sales Amount'",
        "map_no_file": "{name}: no such file; check the --columns path",
        "map_empty": "{name}: is empty; write one line per field, like 'sales: Sales Amount'",
        "map_not_mapping": "{where}: a column mapping maps field names to column headers, like 'sales: Sales Amount'",
        "map_not_field": "{where}: '{key}' is not a field name",
        "map_expected_header": "{where}: field '{field}': expected a column header, found {found}",
        "found_nothing": "nothing", "found_list": "a list",
        "map_unknown_key": "{where}: field '{field}': unknown key '{key}'{hint}; "
                           "write {{column: Source Column, values: {{In the file: in the pack}}}}",
        "map_column_type": "{where}: field '{field}': 'column' must be a column header",
        "map_values_type": "{where}: field '{field}': 'values' maps each value in the file to the pack's value or "
                           "{skip}, like {{Prospect: {skip}, Technology Partner: partner}}",
        # matching columns to fields
        "one_problem": "{name}: {problem}",
        "many_problems": "{name}: {n} problems with the columns:\n  {problems}",
        "column_many_fields": "column '{header}' matches fields {listed}; choose with --columns "
                              "(for example {name}: {header})",
        "field_many_columns": "field {field} matches columns {listed}; rename or remove one, "
                              "or choose one with --columns ({name}: {header})",
        "not_found": "required field {field} not found (looked for: {looked}); columns found: {headers}{closest}; "
                     "rename the column or map it with --columns ({name}: <column>){hint}",
        "closest": "; closest: {headers}",
        "sales_hint": "; sales to the customer come from your own books: the sum of closed-won opportunity "
                      "amounts in the CRM, or the ERP's invoices to the customer; a CRM's 'Annual Revenue' is the "
                      "customer's own revenue, not sales",
        "mapped_missing": "--columns maps field '{field}' to '{wanted}', which is not a column of this file; "
                          "columns found: {headers}",
        "mapped_twice": "--columns maps field '{field}' to '{wanted}', but columns {listed} all have that header; "
                        "rename all but one",
        # value mapping
        "values_no_column": "{name}: --columns maps values of field '{field}', but no column of this file is that "
                            "field; add 'column: <header>' to its entry",
        "all_skipped": "{name}: every row was left out by 'skip-row' in the --columns file",
        "unknown_values": "{name}: column '{header}' (field {field}) has values the pack does not know: {listed}{more}; "
                          "add to the --columns file:\n  {line}\n{reasons}",
        "unknown_value": "'{value}' ({rows})",
        "carried_sep": "; ", "carries_none": "no sales", "carries": "sales {sales}{share}", "carries_share": " = {share} of the total",
        "skip_would_drop": "skip-row would leave out {rows}{carried}", "with_carried": " with {carried}",
        "value_reason": "  '{value}' → {target}: {reason}",
        "value_why_alias": "it names '{named}', which the pack reads as {target}; {dropped}",
        "value_why_not_customer": "not a customer; {rows}, no sales",
        "value_why_not_customer_sales": "read as missing: it says not a customer, yet it has {rows} with {carried}; "
                                        "write one of {allowed} if they are customers; {dropped}",
        "value_why_unclear": "read as missing (the rows stay, without a value): no value of the pack is clear; write "
                             "one of {allowed} when you know it; {dropped}",
        # --where
        "where_error": "--where: {message}\n  {condition}\n  {caret}^",
        "where_no_column": "field '{field}' has no column in this file, so --where cannot test it",
        "where_unknown_name": "unknown name '{name}'{hint}",
        "where_needs_quotes": "unknown name '{name}': a text value needs quotes, as in {example}",
        "where_use_eq": "use '==' to compare", "where_empty": "the condition is empty",
        "where_empty_list": "the list is empty: it would never match",
        "where_char_eq": "unexpected character '=' (to compare, write '==')",
        "where_char_and": "unexpected character '&' (write 'and')", "where_char_or": "unexpected character '|' (write 'or')",
        "where_char_not": "unexpected character '!' (write 'not')",
        "where_none_left": "{name}: --where {condition} leaves no rows",
        "where_nothing": "--where {condition}: no rows left out",
        "where_left": "left out {rows}: --where {condition} is false for {false}",
        "where_left_unknown": "left out {rows}: --where {condition} is false for {false} and unknown for "
                              "{unknown} (a value it tests is missing)",
        "row_one": "{n} row", "row_many": "{n} rows",
        # bad cells
        "issue": "{at}, column '{column}' (field {field}): '{value}' {reason}",
        "issue_empty": "{at}, column '{column}' (field {field}): value {reason}",
        "issues_as_missing": "warning: {name}: {n} cells could not be read and were treated as missing:",
        "bad_value": "{name}: {issue}; fix the cell or pass --on-bad-value missing",
        "bad_values": "{name}: {total} values cannot be read; fix the cells or pass --on-bad-value missing "
                      "to read them as missing values:",
        "r_not_number": "is not a number",
        "r_long_number": "is not a number ({n} characters; a number has at most {max})",
        "r_odd_digit": "is not a number: {char} is not a digit (digits are 0-9 and full-width ０-９; remove footnote marks and circled numbers)",
        "r_odd_digit_date": "is not a date: {char} is not a digit (digits are 0-9 and full-width ０-９)",
        # texts the rules compare that the engine would compare only in part (engine/evaluate.py)
        "long_texts": "{name}{n} text(s) too long for the rules to compare: the durable_rules engine compares texts of "
                      "at most {max} bytes and would read only their start; shorten them, or compare the field in no "
                      "condition:\n{lines}",
        "long_text_line": "  {where}, field {field}: {chars} characters ({size} bytes)",
        "long_text_line_column": "  {where}, column '{column}' (field {field}): {chars} characters ({size} bytes)",
        "r_decimal": "is not a number (if '{other}' is the decimal mark, pass --decimal {other})",
        "r_too_large": "is not a number (too large)",
        "r_not_whole": "is not a whole number",
        "r_huge": "is beyond ±{limit}, too large for an amount or a count: check the column and its unit",
        "r_own_unit": "carries its own unit while the column header gives one: write a plain number, or remove the "
                      "unit from the header",
        "r_outside": "is outside {low}–{high}, the range of {field}{hint}",
        "r_share": " (a share: write {percent}% or {fraction})",
        "r_required": "is missing but the field is required",
        "r_not_bool": "is not yes/no (use yes/no, true/false, 1/0 or 是/否)",
        "r_not_one_of": "is not one of: {allowed}",
        "r_not_date": "is not a date (use YYYY-MM-DD)",
        "r_long_date": "is not a date ({n} characters; a date has at most {max})",
        "r_bad_calendar": "is not a valid calendar date",
        "r_date_hold": "is outside the dates kamrules can hold ({first}-{last})",
        "r_date_accept": "is outside the dates kamrules accepts (1800-2199): check the year",
        # duplicate and look-alike ids, negative sales
        "dup_where": "column '{header}' (field {field})",
        "dup_fix": "each account must appear once: remove or merge the duplicates",
        "dup_one": "{name}: {where}: '{value}' appears in {rows}; {fix}",
        "group_bad": "{name}: {where}: {n} account group(s) cannot be known — an account's parent must be another "
                     "account or a group name, and following the parents must end at an account without one; "
                     "correct the parent IDs below",
        "group_self": "'{value}' is its own parent ({rows})",
        "group_cycle": "the parents go round in a circle: {chain} ({rows})",
        "dup_many": "{name}: {where}: {n} IDs appear more than once; {fix}:",
        "dup_line": "'{value}' in {rows}",
        "negative_sales": "{n} accounts have negative {field} (rows {rows}); credit notes or returns? They lower the "
                          "portfolio total and every other account's share: net them out before the run",
        "lookalike_ids": "ids that look the same but differ (case, width, invisible characters or Unicode form): "
                         "{shown}; they are kept as different accounts",
        "lookalike_id": "{value} (row {row})",
        "no_account": "{name}: no account with id '{id}'{hint}",
        # history facts (evaluate / explain --previous, --register)
        "history_column": "{data}: {columns}, but this run takes the history facts from {option} {source}, so the "
                          "file cannot give them as well; rename or remove the column, or leave out {option}",
        "history_column_one": "column '{column}' is read as the history fact {field}",
        "rerun_history": "the history the run in {out} read from {source} has changed since (a review recorded "
                         "before the run's date, or the earlier run replaced); explain the current data without --run",
        # explain --run: the inputs of a finished run
        "rerun_changed": "{data} is not the file the run in {out} read (its content changed since, or it is another "
                         "file named {name}); explain the current file without --run",
        "rerun_pack": "the rule pack in {rules} is not the one that made {out} (pack hash {hash}): "
                      "pass the run's pack with --rules",
        "rerun_as_of": "{out}/manifest.json: no valid as_of date; re-run kamrules evaluate",
        "rerun_no_input": "{out}/manifest.json names no input file: pass it, as in kamrules explain DATA ID --run {out}",
        "rerun_not_found": "the run in {out} read '{name}', which is not next to {out} nor in the current folder: "
                           "pass it, as in kamrules explain {name} ID --run {out}",
        # a run folder (--previous, diff OUT_A OUT_B, explain --run)
        "run_no_manifest": "{folder}: not a kamrules output folder (no manifest.json); make one with "
                           "`kamrules evaluate DATA --out {folder}`",
        "run_manifest_json": "{path}: not valid JSON ({detail}); re-run `kamrules evaluate`",
        "run_manifest_not": "{path}: not a kamrules manifest; re-run `kamrules evaluate`",
        "run_manifest_bad": "{path}: '{key}' is {found} where kamrules writes {wanted}; the manifest was edited or "
                            "damaged: re-run `kamrules evaluate`",
        "run_manifest_value": "{path}: '{key}' is '{value}', which {why}; the manifest was edited or damaged: "
                              "re-run `kamrules evaluate`",
        "run_why_date": "is not a date (YYYY-MM-DD)",
        "run_why_range": "lies outside {first} … {last}",
        "run_why_name": "is not a plain file name (a run names the file it read, never a path)",
        "run_why_sha": "is not a SHA-256 (64 hexadecimal digits)",
        "run_why_one_of": "is not one of: {values}",
        "run_why_encoding": "is not a text encoding",
        "run_why_delimiter": "is not a delimiter (one printable ASCII character, or tab)",
        "run_why_rows": "is not a number of rows (0 to 10,000,000)",
        "run_no_table": "{folder}: no decision table (decisions.csv, .json, .parquet or .xlsx); re-run "
                        "`kamrules evaluate`",
        "run_no_id": "{table}: no account_id column; re-run `kamrules evaluate`",
        "run_repeated_column": "{table}: the column '{column}' appears twice; the decision table was edited: "
                               "re-run `kamrules evaluate`",
        "run_bad_cells": "{table}: {n} cell(s) hold what kamrules never writes there; the decision table was "
                         "edited or damaged: re-run `kamrules evaluate`",
        "run_bad_cell": "row {row}, column '{column}': '{value}' {reason}",
        "run_table_damaged": "(this is a decision table kamrules wrote: it was edited or damaged since; re-run "
                             "`kamrules evaluate`)",
        "run_repeated_id": "{table}: the account '{id}' appears in rows {rows} ({n} rows repeat an id); a "
                           "decision table holds each account once: it was edited or damaged, re-run "
                           "`kamrules evaluate`",
        "run_excel_pack": "{table}: an Excel decision table shows the pack's labels, not its codes, and the pack "
                          "at hand does not name its columns; pass the pack that made the run with --rules, or "
                          "compare runs written with --format csv, json or parquet",
        "run_without_id": "{folder}: {n} account(s) have no account_id (a run made with --on-bad-value missing): "
                          "they are counted in the totals but cannot be matched with the other run",
        # files a command reads (pipes, devices, codecs)
        "encoding_not_text": "--encoding {value} is not a text encoding (it turns bytes into bytes, or text into "
                             "text); use for example utf-8, gb18030 or latin-1",
        "not_regular": "{name}: is a pipe or a device, not a file (kamrules reads the data more than once, and a "
                       "pipe nobody writes to would wait forever); save the data to a file and pass that",
        "cannot_write": "cannot write the output ({reason}); free some space, or send the output elsewhere",
        "encoding_east_asian": "{name}: is not UTF-8 or GB18030 text, and reads as {label}: pass --encoding "
                               "{codec} (or --encoding latin-1 if it is Western European text)",
        "json_repeated_key": "{name}: {at} names the key '{key}' twice, and a JSON reader keeps only the last "
                             "value; keep one of them",
        "xlsx_cut": "{file}: {n} cell(s) held more than {limit} characters, the most an Excel cell can hold, and "
                    "were cut there (the first: cell {cell}); write --format csv, json or parquet for the whole texts",
        # validate --data
        "validate_pack": "{folder}: valid — {fields} fields, {params} params, {derived} features and scores, "
                         "{decisions} decisions, {rules} rules",
        "validate_read": "{data}: {n} accounts; {found} of {total} fields found",
        "validate_optional": "  optional fields not in the file: {names}",
        "validate_never": "  rule '{decision} → {rule}' can never fire without: {names}",
        "validate_unused": "  columns not used by the pack: {names}",
        # validate --data: findings about the pack on this file, and how findings are shown
        "finding_dead": "rule '{rule}' matches none of the {n} accounts in {source}",
        "finding_missing_field": "field {field} is not in {source}: {n} rule(s) can never fire ({rules}); "
                                 "add the column or map it with --columns",
        "finding_literal": "rule '{rule}': '{literal}' never occurs in column '{column}' ({field}) of {source}{hint}",
        "finding_case": " (did you mean '{value}'? comparisons are case-sensitive)",
        "findings_decision": "decision '{id}':", "findings_data": "data:",
        "finding_line": "  {severity}: {where}{message}", "finding_example": "    e.g. {facts}",
        "severity_error": "error", "severity_warning": "warning", "severity_note": "note",
        "findings_count": "{errors} error(s), {warnings} warning(s)", "findings_notes": ", {notes} note(s)",
    },
    "zh": {
        "error": "错误：{message}", "error_block": "错误：\n{message}", "warning": "警告：{message}",
        "strict_refuses": "（--strict 不接受以上问题；请修正数据，或去掉 --strict 只显示警告）",
        "sep": "、", "and": " 和 ", "quote": "“{text}”", "more": " 等（另有 {n} 个）", "first_more": "另有 {n} 项",
        "did_you_mean": "（是否指“{name}”？）", "column_blank": "（{letter} 列）",
        "at_row": "第 {n} 行", "at_record": "第 {n} 条记录", "at_line": "第 {n} 行",
        "many_row": "第 {list} 行", "many_record": "第 {list} 条记录", "many_line": "第 {list} 行",
        "more_row": "第 {list} 行及另外 {n} 行", "more_record": "第 {list} 条记录及另外 {n} 条",
        "more_line": "第 {list} 行及另外 {n} 行",
        "unknown_format": "未知的输入格式“{fmt}”；可选：{formats}",
        "bad_decimal": "--decimal 只能是 '.' 或 ','，不能是“{value}”",
        "bad_on_bad_value": "--on-bad-value 只能是 error 或 missing，不能是“{value}”",
        "bad_delimiter": "--delimiter 须为单个 ASCII 字符，如 ; 或 |（或 tab），不能是“{value}”",
        "bad_encoding": "未知的编码“{value}”；可用如 utf-8、gb18030 或 latin-1",
        "columns_unknown_field": "--columns：未知字段“{field}”{hint}；规则包的字段有：{known}",
        "xls_old": "{name}：无法读取旧版 Excel 97-2003 工作簿（.xls）；请在 Excel 中打开并另存为 .xlsx 或 CSV",
        "format_unknown": "{name}：无法从{shown}判断文件格式；请用 --input-format 指定 csv、tsv、xlsx、parquet、json 或 jsonl",
        "ext_named": "扩展名“{ext}”", "ext_none": "无扩展名的文件名",
        "is_folder": "{name}：这是文件夹，不是数据文件；请指定其中的文件",
        "no_file": "{name}：文件不存在；请检查路径",
        "no_permission": "{name}：无法打开（没有权限）",
        "unreadable": "{name}：无法读取（{reason}）",
        "empty": "{name}：文件为空",
        "content_xls": "{name}：这是旧版 Excel 97-2003 工作簿（.xls），不是{what}；请在 Excel 中打开并另存为 .xlsx 或 CSV",
        "content_binary": "{name}：不是{what}：文件含二进制数据；请将数据导出为 CSV、Excel（.xlsx）、Parquet 或 JSON",
        "content_looks": "{name}：不是{what}：看起来是{looks}；请改名为 {rename}，或用 --input-format {suggestion}",
        "kind_csv": " CSV 文件", "kind_tsv": " TSV 文件", "kind_xlsx": " Excel 工作簿（.xlsx）",
        "kind_parquet": " Parquet 文件", "kind_json": " JSON 文件", "kind_jsonl": " JSON Lines 文件",
        "looks_xlsx": " Excel 工作簿（.xlsx）", "looks_parquet": " Parquet 文件",
        "looks_text": "文本文件（CSV 或 JSON）",
        "no_rows": "{name}：只有表头，没有数据行；请在表头下方填入客户数据",
        "encoding_mixed": "{name}：第 {line} 行不是有效的 {label}（字节 {shown}），而前面各行是；文件混用了多种编码；"
                          "请重新保存为 UTF-8，或用 --encoding gb18030 或 --encoding latin-1",
        "encoding_wrong": "{name}：第 {line} 行无法按 {encoding} 读取（字节 {shown}）；{hint}",
        "encoding_looks": "文件看起来是 {detected} 编码：请用 --encoding {detected}",
        "encoding_pass": "请用 --encoding 指定文件的实际编码（如 utf-8、gb18030 或 latin-1）",
        "delimiter_fix": "请检查分隔符（当前按 {shown} 读取；可用 --delimiter 另选）和引号",
        "tab": "制表符",
        "bad_row": "{name}：第 {number} 行有 {actual} 个值，而表头有 {width} 列；{fix}",
        "bad_rows": "{name}：有 {count} 行的值个数与表头的 {width} 列不符；{fix}：",
        "bad_rows_line": "第 {number} 行：{actual} 个值",
        "csv_straddling": "{name}：某个单元格超过 1 MB，或某个引号（\"）未闭合，导致文件其余部分被读成一个单元格；"
                          "请检查引号，或不要把长文本放进客户表",
        "csv_failure": "{name}：无法按 CSV 读取（{detail}）；请确认它是 CSV 导出文件",
        "xlsx_invalid": "{name}：不是有效的 Excel 工作簿（{detail}）；请在 Excel 中打开并重新另存为 .xlsx",
        "xlsx_again": "请在 Excel 中打开并重新保存（或导出为 CSV）",
        "xlsx_damaged": "{name}：工作簿已损坏或并非由 Excel 生成（{detail}）；{again}",
        "xlsx_parts": "{name}：工作簿有 {parts} 个部件，Excel 从不会生成这么多；{again}",
        "xlsx_inflate": "{name}：工作簿解压后将达 {total} 字节，超过上限 {limit}；请改为导出 CSV 或 Parquet",
        "xlsx_ratio": "{name}：部件 {part} 的压缩比为 {ratio} 比 1，与压缩炸弹相同，而非 Excel 的写法；{again}",
        "xlsx_dtd": "{name}：部件 {part} 声明了 DTD（实体），Excel 从不这样写；{again}",
        "excel_rows": "{name}：工作表超过 {limit} 行，任何 Excel 工作表都不可能这么多；请改为导出 CSV 或 Parquet",
        "sheet_empty": "{name}：工作表“{sheet}”为空；请用 --sheet 读取其他工作表",
        "no_sheets": "{name}：工作簿中没有工作表",
        "no_sheet": "{name}：没有工作表“{wanted}”；现有工作表：{listed}（用 --sheet 指定名称或从 0 开始的序号）",
        "parquet_invalid": "{name}：不是有效的 Parquet 文件（{detail}）",
        "parquet_names": "{name}：Parquet 列名不是 UTF-8 文本；文件已损坏或并非由 Parquet 库生成：请重新导出",
        "parquet_text": "{name}：列“{column}”含有非 UTF-8 文本；文件已损坏或并非由 Parquet 库生成：请重新导出",
        "json_line_where": "{name}：第 {number} 行",
        "jsonl_invalid": "{name}：第 {number} 行不是有效的 JSON（第 {column} 列：{detail}）",
        "json_invalid": "{name}：不是有效的 JSON（第 {line} 行第 {column} 列：{detail}）",
        "json_not_array": "{name}：应为记录数组，如 [{{\"account_id\": \"A1\", ...}}]，实际是{kind}",
        "json_no_records": "{name}：数组中没有记录",
        "json_not_object": "{name}：{at}是{kind}，不是带字段名的对象",
        "json_object": "对象", "json_array": "数组", "json_string": "字符串", "json_null": " null",
        "json_number": "数字", "json_boolean": "布尔值",
        "json_surrogate": "{where}：第 {line} 行含转义 {escape}，是半个字符对（孤立代理项），任何文件都无法保存；"
                          "请在导出数据的系统中修正该文本",
        "json_deep": "{where}：嵌套过深（数组或对象层层嵌套成千上万次）；客户表应是扁平记录的列表",
        "map_folder": "{name}：这是文件夹；--columns 需要一个 YAML 文件，如 'sales: Sales Amount'",
        "map_no_file": "{name}：文件不存在；请检查 --columns 的路径",
        "map_empty": "{name}：文件为空；每个字段写一行，如 'sales: Sales Amount'",
        "map_not_mapping": "{where}：列映射把字段名对应到列名，如 'sales: Sales Amount'",
        "map_not_field": "{where}：“{key}”不是字段名",
        "map_expected_header": "{where}：字段“{field}”：应为列名，实际是{found}",
        "found_nothing": "空值", "found_list": "列表",
        "map_unknown_key": "{where}：字段“{field}”：未知的键“{key}”{hint}；"
                           "请写成 {{column: 源列名, values: {{文件中的值: 规则包中的值}}}}",
        "map_column_type": "{where}：字段“{field}”：'column' 须为列名",
        "map_values_type": "{where}：字段“{field}”：'values' 把文件中的每个值对应到规则包的值或 {skip}，"
                           "如 {{Prospect: {skip}, Technology Partner: partner}}",
        "one_problem": "{name}：{problem}",
        "many_problems": "{name}：列有 {n} 个问题：\n  {problems}",
        "column_many_fields": "列“{header}”同时匹配字段 {listed}；请用 --columns 选定（例如 {name}: {header}）",
        "field_many_columns": "字段{field}同时匹配列 {listed}；请改名或删除其中之一，"
                              "或用 --columns 选定（{name}: {header}）",
        "not_found": "找不到必填字段{field}（查找过：{looked}）；文件中的列：{headers}{closest}；"
                     "请修改列名，或用 --columns 映射（{name}: <列名>）{hint}",
        "closest": "；最接近的：{headers}",
        "sales_hint": "；对该客户的销售额来自我方账目：CRM 中赢单商机金额之和，或 ERP 中开给该客户的发票；"
                      "CRM 的“Annual Revenue”（年营业额）是客户自身的营收，不是销售额",
        "mapped_missing": "--columns 把字段“{field}”映射到“{wanted}”，但文件中没有这一列；文件中的列：{headers}",
        "mapped_twice": "--columns 把字段“{field}”映射到“{wanted}”，但列 {listed} 都是这个列名；请只保留一个",
        "values_no_column": "{name}：--columns 映射了字段“{field}”的取值，但文件中没有对应该字段的列；"
                            "请在该条目中加上 'column: <列名>'",
        "all_skipped": "{name}：所有行都被 --columns 文件中的 'skip-row' 跳过了",
        "unknown_values": "{name}：列“{header}”（字段{field}）含有规则包不认识的值：{listed}{more}；"
                          "请在 --columns 文件中加入：\n  {line}\n{reasons}",
        "unknown_value": "“{value}”（{rows}）",
        "carried_sep": "；", "carries_none": "无销售额", "carries": "销售额 {sales}{share}", "carries_share": "，占总额 {share}",
        "skip_would_drop": "写 skip-row 将跳过 {rows}{carried}", "with_carried": "，连同{carried}",
        "value_reason": "  “{value}” → {target}：{reason}",
        "value_why_alias": "其中的“{named}”在规则包中读作 {target}；{dropped}",
        "value_why_not_customer": "不是客户；{rows}，无销售额",
        "value_why_not_customer_sales": "按缺失读取：它表示不是客户，但有 {rows}带有{carried}；如果它们是客户，"
                                        "请写 {allowed} 之一；{dropped}",
        "value_why_unclear": "按缺失读取（这些行保留，但没有该值）：规则包中没有明确对应的值；知道时请写 {allowed} 之一；"
                             "{dropped}",
        "where_error": "--where：{message}\n  {condition}\n  {caret}^",
        "where_no_column": "文件中没有字段“{field}”的列，--where 无法判断它",
        "where_unknown_name": "未知名称“{name}”{hint}",
        "where_needs_quotes": "未知名称“{name}”：文本值需要加引号，如 {example}",
        "where_use_eq": "比较相等请用 '=='", "where_empty": "条件为空",
        "where_empty_list": "列表为空：永远不会匹配",
        "where_char_eq": "不能识别的字符 '='（比较相等请写 '=='）",
        "where_char_and": "不能识别的字符 '&'（请写 and）", "where_char_or": "不能识别的字符 '|'（请写 or）",
        "where_char_not": "不能识别的字符 '!'（请写 not）",
        "where_none_left": "{name}：--where {condition} 之后没有剩下任何行",
        "where_nothing": "--where {condition}：没有跳过任何行",
        "where_left": "跳过 {rows}：--where {condition} 对其中 {false} 行不成立",
        "where_left_unknown": "跳过 {rows}：--where {condition} 对其中 {false} 行不成立，"
                              "{unknown} 行无法判断（所判断的值缺失）",
        "row_one": "{n} 行", "row_many": "{n} 行",
        "issue": "{at}，列“{column}”（字段{field}）：“{value}”{reason}",
        "issue_empty": "{at}，列“{column}”（字段{field}）：值{reason}",
        "issues_as_missing": "警告：{name}：{n} 个单元格无法读取，按缺失处理：",
        "bad_value": "{name}：{issue}；请修正该单元格，或用 --on-bad-value missing",
        "bad_values": "{name}：有 {total} 个值无法读取；请修正这些单元格，或用 --on-bad-value missing 将其按缺失值读取：",
        "r_not_number": "不是数字",
        "r_long_number": "不是数字（{n} 个字符；数字最多 {max} 个字符）",
        "r_odd_digit": "不是数字：{char} 不是数字字符（数字只能是 0-9 或全角 ０-９；请删除脚注标记和带圈数字）",
        "r_odd_digit_date": "不是日期：{char} 不是数字字符（数字只能是 0-9 或全角 ０-９）",
        "long_texts": "{name}有 {n} 个文本过长，规则无法比较：durable_rules 引擎最多比较 {max} 字节的文本，更长的只会比较开头；"
                      "请缩短这些单元格，或不要在条件中比较该字段：\n{lines}",
        "long_text_line": "  {where}，字段 {field}：{chars} 个字符（{size} 字节）",
        "long_text_line_column": "  {where}，列“{column}”（字段{field}）：{chars} 个字符（{size} 字节）",
        "r_decimal": "不是数字（如果小数点是 '{other}'，请用 --decimal {other}）",
        "r_too_large": "不是数字（太大）",
        "r_not_whole": "不是整数",
        "r_huge": "超过 ±{limit}，作为金额或数量过大：请检查该列及其单位",
        "r_own_unit": "自带单位，而列名中已给出单位：请只写数字，或去掉列名中的单位",
        "r_outside": "超出 {low}–{high}，即{field}的取值范围{hint}",
        "r_share": "（这是占比：请写 {percent}% 或 {fraction}）",
        "r_required": "缺失，但该字段为必填",
        "r_not_bool": "不是“是/否”（可用 是/否、yes/no、true/false 或 1/0）",
        "r_not_one_of": "不是以下取值之一：{allowed}",
        "r_not_date": "不是日期（请写成 YYYY-MM-DD）",
        "r_long_date": "不是日期（{n} 个字符；日期最多 {max} 个字符）",
        "r_bad_calendar": "不是有效的日历日期",
        "r_date_hold": "超出 kamrules 能处理的日期范围（{first}-{last}）",
        "r_date_accept": "超出 kamrules 接受的日期范围（1800-2199）：请检查年份",
        "dup_where": "列“{header}”（字段{field}）",
        "dup_fix": "每个客户只能出现一次：请删除或合并重复行",
        "dup_one": "{name}：{where}：“{value}”出现在{rows}；{fix}",
        "group_bad": "{name}：{where}：有 {n} 处客户分组无法确定——上级客户必须是另一个客户或集团名称，且沿上级客户逐级追溯"
                     "必须终止于没有上级的客户；请更正下列上级客户编号",
        "group_self": "“{value}”的上级客户是其自身（{rows}）",
        "group_cycle": "上级客户构成循环：{chain}（{rows}）",
        "dup_many": "{name}：{where}：有 {n} 个编码重复出现；{fix}：",
        "dup_line": "“{value}”在{rows}",
        "negative_sales": "{n} 个客户的{field}为负（第 {rows} 行）；是红字发票或退货吗？它们会压低组合总额并改变其他客户的占比："
                          "请在运行前先行冲抵",
        "lookalike_ids": "有看似相同但实际不同的编码（大小写、全角半角、不可见字符或 Unicode 形式不同）：{shown}；"
                         "它们被当作不同的客户",
        "lookalike_id": "{value}（第 {row} 行）",
        "no_account": "{name}：没有编码为“{id}”的客户{hint}",
        "history_column": "{data}：{columns}，但本次运行从 {option} {source} 取得历史事实，文件不能同时提供；"
                          "请重命名或删除该列，或去掉 {option}",
        "history_column_one": "列“{column}”被读作历史事实 {field}",
        "rerun_history": "{out} 中那次运行从 {source} 读取的历史此后已改变（记录了运行日期之前的评审，或之前的运行被替换）；"
                         "如要解释当前数据，请去掉 --run",
        "rerun_changed": "{data} 不是 {out} 中那次运行读取的文件（此后内容已改变，或是另一个同名文件 {name}）；"
                         "如要解释当前文件，请去掉 --run",
        "rerun_pack": "{rules} 中的规则包不是生成 {out} 的那个（规则包哈希 {hash}）：请用 --rules 指定该次运行的规则包",
        "rerun_as_of": "{out}/manifest.json：没有有效的 as_of 日期；请重新运行 kamrules evaluate",
        "rerun_no_input": "{out}/manifest.json 未记录输入文件：请指定它，如 kamrules explain DATA ID --run {out}",
        "rerun_not_found": "{out} 中的那次运行读取的是“{name}”，但它既不在 {out} 旁边，也不在当前文件夹：请指定它，"
                           "如 kamrules explain {name} ID --run {out}",
        # a run folder (--previous, diff OUT_A OUT_B, explain --run)
        "run_no_manifest": "{folder}：不是 kamrules 输出文件夹（没有 manifest.json）；请用 "
                           "`kamrules evaluate DATA --out {folder}` 生成",
        "run_manifest_json": "{path}：不是有效的 JSON（{detail}）；请重新运行 `kamrules evaluate`",
        "run_manifest_not": "{path}：不是 kamrules 的 manifest；请重新运行 `kamrules evaluate`",
        "run_manifest_bad": "{path}：“{key}”是{found}，而 kamrules 在此写的是{wanted}；manifest 被改动或损坏："
                            "请重新运行 `kamrules evaluate`",
        "run_manifest_value": "{path}：“{key}”的值“{value}”{why}；manifest 被改动或损坏：请重新运行 `kamrules evaluate`",
        "run_why_date": "不是日期（YYYY-MM-DD）",
        "run_why_range": "超出 {first} … {last}",
        "run_why_name": "不是单纯的文件名（运行记录的是所读文件的名字，从不是路径）",
        "run_why_sha": "不是 SHA-256（64 位十六进制数字）",
        "run_why_one_of": "不是以下之一：{values}",
        "run_why_encoding": "不是文本编码",
        "run_why_delimiter": "不是分隔符（一个可打印的 ASCII 字符，或 tab）",
        "run_why_rows": "不是行数（0 至 10,000,000）",
        "run_no_table": "{folder}：没有决策表（decisions.csv、.json、.parquet 或 .xlsx）；请重新运行 `kamrules evaluate`",
        "run_no_id": "{table}：没有 account_id 列；请重新运行 `kamrules evaluate`",
        "run_repeated_column": "{table}：列“{column}”出现了两次；决策表被改动过：请重新运行 `kamrules evaluate`",
        "run_bad_cells": "{table}：有 {n} 个单元格的内容不是 kamrules 写入的；决策表被改动或损坏："
                         "请重新运行 `kamrules evaluate`",
        "run_bad_cell": "第 {row} 行，列“{column}”：“{value}”{reason}",
        "run_table_damaged": "（这是 kamrules 写出的决策表：它之后被改动或损坏；请重新运行 `kamrules evaluate`）",
        "run_repeated_id": "{table}：客户“{id}”出现在第 {rows} 行（共 {n} 行的编码重复）；决策表中每个客户只出现一次："
                           "它被改动或损坏，请重新运行 `kamrules evaluate`",
        "run_excel_pack": "{table}：Excel 决策表显示的是规则包的标签而不是代码，而手头的规则包无法对应它的列；"
                          "请用 --rules 指定生成该运行的规则包，或比较用 --format csv、json 或 parquet 写出的运行",
        "run_without_id": "{folder}：有 {n} 个客户没有 account_id（用 --on-bad-value missing 运行的结果）："
                          "它们计入合计，但无法与另一次运行对应",
        # files a command reads (pipes, devices, codecs)
        "encoding_not_text": "--encoding {value} 不是文本编码（它把字节变成字节，或把文本变成文本）；"
                             "可用如 utf-8、gb18030 或 latin-1",
        "not_regular": "{name}：这是管道或设备，不是文件（kamrules 需多次读取数据，无人写入的管道会一直等待）；"
                       "请先将数据保存为文件再传入",
        "cannot_write": "无法写出输出（{reason}）；请腾出空间，或将输出写到别处",
        "encoding_east_asian": "{name}：不是 UTF-8 或 GB18030 文本，看起来是 {label} 编码：请用 --encoding {codec}"
                               "（如果是西欧文字，请用 --encoding latin-1）",
        "json_repeated_key": "{name}：{at}中键“{key}”出现了两次，而 JSON 读取时只保留最后一个值；请只保留其中一个",
        "xlsx_cut": "{file}：有 {n} 个单元格超过 {limit} 个字符（Excel 单元格的上限），已在该处截断（第一个：单元格 "
                    "{cell}）；如需完整文本，请用 --format csv、json 或 parquet",
        "validate_pack": "{folder}：有效——{fields} 个字段、{params} 个参数、{derived} 个特征与评分、"
                         "{decisions} 项决策、{rules} 条规则",
        "validate_read": "{data}：{n} 个客户；找到 {found} 个字段（共 {total} 个）",
        "validate_optional": "  文件中没有的可选字段：{names}",
        "validate_never": "  规则“{decision} → {rule}”缺少以下数据，永远不会触发：{names}",
        "validate_unused": "  规则包未使用的列：{names}",
        "finding_dead": "规则“{rule}”与 {source} 中的 {n} 个客户都不匹配",
        "finding_missing_field": "字段{field}不在 {source} 中：{n} 条规则永远不会触发（{rules}）；"
                                 "请添加该列，或用 --columns 映射",
        "finding_literal": "规则“{rule}”：“{literal}”从未出现在 {source} 的列“{column}”（{field}）中{hint}",
        "finding_case": "（是否指“{value}”？比较区分大小写）",
        "findings_decision": "决策“{id}”：", "findings_data": "数据：",
        "finding_line": "  {severity}：{where}{message}", "finding_example": "    例如 {facts}",
        "severity_error": "错误", "severity_warning": "警告", "severity_note": "提示",
        "findings_count": "{errors} 个错误，{warnings} 个警告", "findings_notes": "，{notes} 个提示",
    },
}



# Report-shaped exports: title rows and footers, units, look-alike values, `kamrules columns`.
# Kept in a block of their own and merged into DATA below.
EXPORT_MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "bad_row_option": "{option} must be a whole number of at least {lowest}, not '{value}'",
        "header_row_beyond": "{name}: --header-row {n} is beyond the end of the file; give the row number of the "
                             "header as the spreadsheet shows it",
        "header_row_empty": "{name}: row {n} (--header-row) is empty; give the row number of the header as the "
                            "spreadsheet shows it",
        "rows_at_end": "{name}: {count} row(s) after the last account ({rows}) do not have the header's {width} "
                       "columns; if they are a report footer or notes, pass --skip-footer {n} (the last {n} rows, "
                       "from row {first}, blank rows included); if they are accounts, complete their cells",
        "map_where_type": "{where}: 'where' must be a condition, as for --where: where: '`Lifecycle Stage` == \"Customer\"'",
        "map_unit_type": "{where}: field '{field}': 'unit' must be a unit such as 万元, 元, k, M or 年 (give 'unit' or "
                         "'scale', not both)",
        "map_scale_type": "{where}: field '{field}': 'scale' must be a number above 0, the factor values are "
                          "multiplied by (10000 for 万元)",
        "unit_not_fitting": "--columns: field '{field}': unit '{unit}' does not fit it; its units are: {units}",
        "map_period_type": "{where}: field '{field}': 'period' can only be {periods} (the column holds the year so "
                           "far; it is annualised at --as-of)",
        "period_not_fitting": "--columns: field '{field}': 'period: {period}' is for amounts of money (sales, gross "
                              "profit), not this field",
        "read_lifetime": " (lifetime revenue, not one period's — growth and decline are not comparable)",
        "read_one_deal": " (one deal, not one period's sales — shares and tiers rest on a single deal)",
        "annualised": "; year to date ×{factor} to a full year: {elapsed} of {days} days at {as_of}",
        "doubt_lifetime_note": "'{column}' ({field}) is lifetime revenue, not one period's: growth and decline are "
                               "not comparable",
        "doubt_one_deal_note": "'{column}' ({field}) is one deal, not one period's sales: shares and tiers rest on a "
                               "single deal",
        "ytd_is": "'{column}' ({field}) is the year to date",
        "ytd_likely": "'{column}' ({field}) is likely the year to date (a fiscal year in progress)",
        "ytd_may": "'{column}' ({field}) may be the year to date (it names the year of --as-of)",
        "ytd_elapsed": ": at {as_of}, {elapsed} of {days} days of {year} have passed ({share}, taking the year from 1 "
                       "January)",
        "ytd_effect": "; compared with a full year earlier ('{other}', {other_field}) it understates growth: an "
                      "account buying as much as last year shows a {drop} decline",
        "ytd_effect_unknown": "; compared with a full year earlier ('{other}', {other_field}) it understates growth",
        "ytd_fix": ". If it is, annualise it (×{factor}) in the --columns file: {line}",
        "ytd_fix_unknown": ". If it is, annualise it in the --columns file (evaluate says how much of the year has "
                           "passed at --as-of): {line}",
        "unit_none": "none (it is not a number of money, months or days)",
        "where_no_such_column": "no column `{column}` in this file{hint}",
        "unit_from_title": "; unit {unit} from the title", "unit_from_columns": "; unit {unit} from --columns",
        "read_as": "  sales columns read as: {listed}", "read_as_sep": "; ",
        "read_as_one": "{field} ← {column} = {label}",
        "layout_above": "  header on row {header}; left out {n} row(s) above it: {rows}",
        "layout_footer": "  left out a report footer of {n} row(s) at the end: {rows}",
        "row_with_text": "row {row} '{text}'", "layout_blank": " (and {n} blank)",
        "title_unit_applied": "  unit from the title: {unit}, applied to the money columns without a unit of their "
                              "own: {fields}",
        "title_unit_unused": "  the title states the unit {unit}; not applied: every money column says its own unit "
                             "(in its header or --columns)",
        "doubts": "{name}: {n} money column(s) do not agree with the sales column; nothing was decided. Say each "
                  "column's unit in the --columns file (or unit: 元 when the numbers are right as they are):",
        "doubt_smaller": "column '{column}' ({field}) is about {times} times smaller than '{other_column}' ({other})",
        "doubt_larger": "column '{column}' ({field}) is about {times} times larger than '{other_column}' ({other})",
        "doubt_margin": "column '{column}' ({field}) is above '{other_column}' ({other}) for most accounts "
                        "(a median margin of {margin})",
        "doubt_likely": "'{column}' is likely in {unit}", "doubt_unknown": "'{column}' is likely in another unit",
        "doubt_line": "{what}: {likely}; add:\n    {line}",
        "note_current": " (our revenue this period)", "note_year_earlier": " (our revenue a year earlier)",
        "note_previous_period": " (our revenue in the previous period)",
        "note_lifetime": " (lifetime revenue: every closed deal, not one period's)",
        "note_one_deal": " (one deal only: the most recent)",
        "note_unknown_period": " (our revenue; the header names no period)",
        "note_year_later": " (the later of two columns that differ only by the year, {year}: our revenue this year)",
        "note_year_before": " (the same column a year earlier, {year})",
        "note_unique": " (no id column: every row has a different value here, so it can serve as the id)",
        "lookalike_places": "{name}: column '{header}' ({field}) spells one place in several ways: {listed}; "
                            "concentration is measured per value, so each counts as a place of its own. To join "
                            "them, add to the --columns file:\n  {line}",
        "lookalike_value": "'{value}' ({rows})", "lookalike_group_sep": "; ", "by_proposed": "proposed",
        "as_of_example": ", the example's date",
        "survey_file": "{name}: {format}{encoding}{sheet}, {rows} rows",
        "survey_ambiguous": "  {field}: several columns match; proposed '{column}' (the others: {others})",
        "survey_required": "  {field}: required, proposed {column}",
        "survey_proposed": "  {field}: proposed {column}",
        "survey_missing": "  {field}: required, and no column fits: write the column in the --columns file",
        "survey_unknown": "  {field} ← {header}: values the pack does not know: {values} (the pack's values: {allowed})",
        "survey_value": "'{value}' ({rows}) → {target}",
        "survey_lookalikes": "  {field} ← {header}: one place spelt several ways: {values}",
        "survey_doubt": "  {field} ← {column}: its unit disagrees with '{other}': likely {unit}",
        "survey_status": "  rows that are not customers: '{header}' is {others}; proposed: keep {keep}",
        "survey_bad_cells": "  {field} ← {header}: {n} cell(s) cannot be read (evaluate lists them)",
        "survey_next": "next: kamrules columns {data} --write {file}, then kamrules evaluate {data} --columns {file}",
        "survey_written": "wrote {file}: check it, then run: kamrules evaluate {data} --columns {file}",
        "survey_nothing": "nothing to decide: kamrules evaluate {data} reads it as shown ({file} not needed)",
        "survey_exists": "{file} exists: pass --force to replace it, or choose another name",
        "starter_head": "# Column mapping for {name}, written by `kamrules columns`: check each line.",
        "starter_next": "# Then: kamrules evaluate {data} --columns {file}",
        "starter_syntax": "# field: Column, or field: {{column: Column, unit: 万元, values: {{in the file: in the pack, "
                          "or skip-row, or '' for missing}}}}; where: rows to keep (as --where).",
        "starter_found": "# Found by their names (nothing to decide; written out so that the map records what is read):",
        "starter_where": "# Rows that are not customers: '{header}' is {others}. Only customers are kept:",
        "starter_proposed": "# proposed: {column}",
        "starter_alternatives": "# other columns that match: {others}",
        "starter_unit": "# unit {unit}: its values disagree with '{other}' as they are (see kamrules columns)",
        "starter_values": "# values the pack does not know: '' reads them as missing; write one of {allowed} to "
                          "keep them as that, or {skip} to leave their rows out (and their sales):",
        "starter_lookalikes": "# one place spelt several ways, joined into its commonest spelling",
        "starter_missing": "# {field}: required, and no column fits: write its column here",
        "starter_hint": "# {field}: not found; a column with a close name: {columns}",
        "account_name_many": "{name}: {n} accounts are named '{id}' (ids {ids}); give the id",
        "no_account_or_name": "{name}: no account with the id or name '{id}'{hint}",
        "did_you_mean_any": " (did you mean {names}?)", "account_named": "'{account}' (id {id})",
        "rerun_columns_changed": "{path} is not the --columns file the run in {out} read (its content changed "
                                 "since); restore it, or evaluate again",
        "rerun_columns_missing": "the run in {out} read the --columns file '{path}', which is not next to {out} "
                                 "nor in the current folder: pass it with --columns",
    },
    "zh": {
        "bad_row_option": "{option} 须为不小于 {lowest} 的整数，而不是“{value}”",
        "header_row_beyond": "{name}：--header-row {n} 超出了文件末尾；请给出表头在电子表格中显示的行号",
        "header_row_empty": "{name}：第 {n} 行（--header-row）是空行；请给出表头在电子表格中显示的行号",
        "rows_at_end": "{name}：最后一个客户之后有 {count} 行（{rows}）的值个数与表头的 {width} 列不符；如果它们是报表页脚或备注，"
                       "请加 --skip-footer {n}（最后 {n} 行，从第 {first} 行起，含空行）；如果它们是客户，请补全这些单元格",
        "map_where_type": "{where}：'where' 须为条件，写法同 --where：where: '`Lifecycle Stage` == \"Customer\"'",
        "map_unit_type": "{where}：字段“{field}”：'unit' 须为单位，如 万元、元、k、M 或 年（'unit' 与 'scale' 只能给一个）",
        "map_scale_type": "{where}：字段“{field}”：'scale' 须为大于 0 的数，即数值要乘的倍数（万元为 10000）",
        "unit_not_fitting": "--columns：字段“{field}”：单位“{unit}”与它不符；它可用的单位：{units}",
        "map_period_type": "{where}：字段“{field}”：'period' 只能是 {periods}（该列是年初至今的数据，按 --as-of 折算为全年）",
        "period_not_fitting": "--columns：字段“{field}”：'period: {period}' 只适用于金额（销售额、毛利），不适用于该字段",
        "read_lifetime": "（累计收入，不是某一期的——增长与下滑无法比较）",
        "read_one_deal": "（只是一笔成交，不是一期的销售额——份额与分级只基于一笔）",
        "annualised": "；年初至今 ×{factor} 折算为全年：截至 {as_of} 已过 {elapsed}/{days} 天",
        "doubt_lifetime_note": "“{column}”（{field}）是累计收入，不是某一期的：增长与下滑无法比较",
        "doubt_one_deal_note": "“{column}”（{field}）只是一笔成交，不是一期的销售额：份额与分级只基于一笔",
        "ytd_is": "“{column}”（{field}）是年初至今的数据",
        "ytd_likely": "“{column}”（{field}）很可能是年初至今的数据（进行中的财年）",
        "ytd_may": "“{column}”（{field}）可能是年初至今的数据（列名是 --as-of 所在的年份）",
        "ytd_elapsed": "：截至 {as_of}，{year} 年已过 {elapsed}/{days} 天（{share}，按 1 月 1 日起算）",
        "ytd_effect": "；与完整的上一年（“{other}”，{other_field}）相比会低估增长：与去年买得一样多的客户也会显示下滑 {drop}",
        "ytd_effect_unknown": "；与完整的上一年（“{other}”，{other_field}）相比会低估增长",
        "ytd_fix": "。如果是，请在 --columns 文件中按全年折算（×{factor}）：{line}",
        "ytd_fix_unknown": "。如果是，请在 --columns 文件中按全年折算（evaluate 会按 --as-of 说明本年已过多少）：{line}",
        "unit_none": "无（它不是金额、月数或天数）",
        "where_no_such_column": "文件中没有列 `{column}`{hint}",
        "unit_from_title": "；单位 {unit} 取自标题", "unit_from_columns": "；单位 {unit} 取自 --columns",
        "read_as": "  销售额各列的含义：{listed}", "read_as_sep": "；",
        "read_as_one": "{field} ← {column} = {label}",
        "layout_above": "  表头在第 {header} 行；跳过其上方 {n} 行：{rows}",
        "layout_footer": "  跳过文件末尾的报表页脚 {n} 行：{rows}",
        "row_with_text": "第 {row} 行“{text}”", "layout_blank": "（另有 {n} 个空行）",
        "title_unit_applied": "  标题中的单位：{unit}，已用于没有自带单位的金额列：{fields}",
        "title_unit_unused": "  标题注明单位 {unit}；未使用：每个金额列都有自己的单位（在列名或 --columns 中）",
        "doubts": "{name}：有 {n} 个金额列与销售额列的单位不一致；尚未做任何判断。请在 --columns 文件中注明各列的单位"
                  "（数值本身无误时写 unit: 元）：",
        "doubt_smaller": "列“{column}”（{field}）的数值约为“{other_column}”（{other}）的 {times} 分之一",
        "doubt_larger": "列“{column}”（{field}）的数值约为“{other_column}”（{other}）的 {times} 倍",
        "doubt_margin": "列“{column}”（{field}）对多数客户都大于“{other_column}”（{other}）（毛利率中位数 {margin}）",
        "doubt_likely": "“{column}”的单位可能是 {unit}", "doubt_unknown": "“{column}”的单位可能不同",
        "doubt_line": "{what}：{likely}；请添加：\n    {line}",
        "note_current": "（我方本期收入）", "note_year_earlier": "（我方去年同期收入）",
        "note_previous_period": "（我方上期收入）",
        "note_lifetime": "（累计收入：历来所有成交，不是某一期的）",
        "note_one_deal": "（仅一笔：最近一次成交）",
        "note_unknown_period": "（我方收入；列名未写明期间）",
        "note_year_later": "（两列只差年份，取较晚的 {year} 年：我方本年收入）",
        "note_year_before": "（同一列早一年：{year} 年）",
        "note_unique": "（没有编码列：此列每行的值各不相同，可用作编码）",
        "lookalike_places": "{name}：列“{header}”（{field}）把同一地区写成了几种样子：{listed}；集中度按值分别计算，"
                            "它们会被当成不同的地区。要合并它们，请在 --columns 文件中添加：\n  {line}",
        "lookalike_value": "“{value}”（{rows}）", "lookalike_group_sep": "；", "by_proposed": "建议",
        "as_of_example": "（示例数据的日期）",
        "survey_file": "{name}：{format}{encoding}{sheet}，{rows} 行",
        "survey_ambiguous": "  {field}：有几列都匹配；建议用“{column}”（其他：{others}）",
        "survey_required": "  {field}：必填，建议用 {column}",
        "survey_proposed": "  {field}：建议用 {column}",
        "survey_missing": "  {field}：必填，但没有合适的列：请在 --columns 文件中写明它的列",
        "survey_unknown": "  {field} ← {header}：规则包不认识的值：{values}（规则包的取值：{allowed}）",
        "survey_value": "“{value}”（{rows}）→ {target}",
        "survey_lookalikes": "  {field} ← {header}：同一地区有几种写法：{values}",
        "survey_doubt": "  {field} ← {column}：单位与“{other}”不一致：可能是 {unit}",
        "survey_status": "  不是客户的行：“{header}”为 {others}；建议只保留 {keep}",
        "survey_bad_cells": "  {field} ← {header}：有 {n} 个单元格无法读取（evaluate 会列出）",
        "survey_next": "下一步：kamrules columns {data} --write {file}，然后 kamrules evaluate {data} --columns {file}",
        "survey_written": "已写入 {file}：请检查，然后运行：kamrules evaluate {data} --columns {file}",
        "survey_nothing": "无需决定任何事：kamrules evaluate {data} 会按上面所示读取（不需要 {file}）",
        "survey_exists": "{file} 已存在：加 --force 覆盖它，或换一个文件名",
        "starter_head": "# {name} 的列映射，由 `kamrules columns` 生成：请逐行检查。",
        "starter_next": "# 然后运行：kamrules evaluate {data} --columns {file}",
        "starter_syntax": "# 字段: 列名，或 字段: {{column: 列名, unit: 万元, values: {{文件中的值: 规则包中的值，或 skip-row，"
                          "或 '' 表示缺失}}}}；where: 要保留的行（同 --where）。",
        "starter_found": "# 按名称找到的字段（无需处理；写在这里，映射文件即记录了读取的列）：",
        "starter_where": "# 不是客户的行：“{header}”为 {others}。只保留客户：",
        "starter_proposed": "# 建议：{column}",
        "starter_alternatives": "# 也匹配的列：{others}",
        "starter_unit": "# 单位 {unit}：按原值读取时与“{other}”不一致（见 kamrules columns）",
        "starter_values": "# 规则包不认识的值：'' 按缺失读取；写 {allowed} 之一按该值读取，或写 {skip} 跳过这些行（连同其销售额）：",
        "starter_lookalikes": "# 同一地区的几种写法，合并为最常见的写法",
        "starter_missing": "# {field}：必填，但没有合适的列：请在这里写明它的列",
        "starter_hint": "# {field}：未找到；名称相近的列：{columns}",
        "account_name_many": "{name}：有 {n} 个客户名为“{id}”（编码 {ids}）；请给出编码",
        "no_account_or_name": "{name}：没有编码或名称为“{id}”的客户{hint}",
        "did_you_mean_any": "（是否指 {names}？）", "account_named": "“{account}”（编码 {id}）",
        "rerun_columns_changed": "{path} 不是 {out} 中那次运行读取的 --columns 文件（此后内容已改变）；请恢复它，或重新运行 evaluate",
        "rerun_columns_missing": "{out} 中的那次运行读取了 --columns 文件“{path}”，但它既不在 {out} 旁边，也不在当前文件夹："
                                 "请用 --columns 指定它",
    },
}
for _lang, _messages in EXPORT_MESSAGES.items():
    DATA[_lang].update(_messages)

# Python's json module explains a syntax error in English; the common ones in the user's words.
JSON_DETAILS = {
    "zh": {
        "Expecting value": "此处应为一个值",
        "Expecting ',' delimiter": "缺少逗号",
        "Expecting ':' delimiter": "缺少冒号",
        "Expecting property name enclosed in double quotes": "属性名须用双引号括起",
        "Unterminated string starting at": "字符串未结束",
        "Invalid control character at": "含无效的控制字符",
        "Extra data": "有多余的内容",
        "Invalid \\escape": "无效的转义",
        "Illegal trailing comma before end of object": "对象末尾多了逗号",
        "Illegal trailing comma before end of array": "数组末尾多了逗号",
    },
}


def data_text(lang: str, key: str, /, **params) -> str:
    """One data message in `lang` (English for an unknown language), its placeholders filled."""
    return DATA.get(lang, DATA["en"])[key].format(**params)


def json_detail(lang: str, message: str) -> str:
    """Python's explanation of a JSON syntax error, in `lang` when known."""
    return JSON_DETAILS.get(lang, {}).get(message, message)


# The register of reviews (`evaluate --register`, `kamrules history`, `--previous REGISTER`): kept in a
# block of their own and merged into DATA.
REGISTER_MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "register_folder": "{path}: is a folder, not a register file; give a file, e.g. --register {path}/reviews.db",
        "register_link_out": "{path}: is a link to {target}, outside its folder {folder}; give the register's own path",
        "register_not_file": "{path}: is not a regular file (a device, pipe or socket); give a register file such as "
                             "reviews.db",
        "register_no_folder": "{path}: the folder {folder} does not exist; create it, or give another --register path",
        "register_missing": "{path}: no register there; record reviews in it with "
                            "`kamrules evaluate DATA --register {path}`",
        "register_empty": "{path}: no review recorded yet; record one with `kamrules evaluate DATA --register {path}`",
        "register_not_sqlite": "{path}: is not a kamrules register (not an SQLite database); give the register's "
                               "file, or a new file name to start one",
        "register_foreign": "{path}: is an SQLite database but not a kamrules register; give another --register "
                            "file (kamrules creates it)",
        "register_corrupt": "{path}: the register is damaged (SQLite: {detail}); restore it from a backup, or "
                            "try `sqlite3 {path} .recover`",
        "register_locked": "{path}: the register is locked: another kamrules run is writing it; wait for that run "
                           "to finish and run again",
        "register_full": "{path}: the disk is full (SQLite: {detail}); free some space and run again",
        "register_cannot_write": "{path}: the register cannot be written (SQLite: {detail}); check the file's and "
                                 "its folder's permissions",
        "register_failed": "{path}: the register cannot be read or written (SQLite: {detail})",
        "register_nothing_recorded": " — nothing was recorded, the register is as it was",
        "register_newer": "{path}: was written by a newer kamrules ({by}, register schema {version}); this kamrules "
                          "({kamrules}) reads schema {ours} at most: upgrade kamrules (pip install -U kamrules)",
        "register_meaning": "{path}: the reviews of pack '{pack}' in it were decided by decisions that meant "
                            "something else; recording this run would mix two meanings:",
        "register_meaning_decision_gone": "decision '{decision}' is in the register but not in this pack",
        "register_meaning_decision_new": "decision '{decision}' is new in this pack",
        "register_meaning_hit": "decision '{decision}': hit policy {old} in the register, {new} in this pack",
        "register_meaning_output_gone": "decision '{decision}', output '{output}': in the register but not in this "
                                        "pack",
        "register_meaning_output_new": "decision '{decision}', output '{output}': new in this pack",
        "register_meaning_type": "decision '{decision}', output '{output}': a {old} in the register, a {new} in this "
                                 "pack",
        "register_meaning_values": "decision '{decision}', output '{output}': values only in the register: {gone}; "
                                   "only in this pack: {added}",
        "register_meaning_fix": "to record this run, keep the two meanings apart: record it in a new register "
                                "(--register another file; {path} stays as it is and can still be read), or give the "
                                "changed pack a name of its own (pack: name: in its pack file). A pack that only adds "
                                "decisions, outputs or values is accepted",
        "register_reserved": "the pack names a field or output '{name}', which the register uses for itself; rename "
                             "it to record runs with --register",
        "register_no_pack": "{path}: no review of pack '{pack}'; the register holds reviews of: {packs}",
        "register_none_before": "{path}: no review before {as_of} (this run's --as-of) to compare with; leave out "
                                "--previous, or record the earlier review first",
    },
    "zh": {
        "register_folder": "{path}：是文件夹，不是台账文件；请给出文件，例如 --register {path}/reviews.db",
        "register_link_out": "{path}：是指向 {target} 的链接，位于其所在文件夹 {folder} 之外；请给出台账本身的路径",
        "register_not_file": "{path}：不是普通文件（是设备、管道或套接字）；请给出台账文件，例如 reviews.db",
        "register_no_folder": "{path}：文件夹 {folder} 不存在；请先创建，或换一个 --register 路径",
        "register_missing": "{path}：此处没有台账；请用 `kamrules evaluate DATA --register {path}` 记录评审",
        "register_empty": "{path}：尚未记录任何评审；请用 `kamrules evaluate DATA --register {path}` 记录一次",
        "register_not_sqlite": "{path}：不是 kamrules 台账（不是 SQLite 数据库）；请给出台账文件，或给出新文件名以新建台账",
        "register_foreign": "{path}：是 SQLite 数据库，但不是 kamrules 台账；请换一个 --register 文件（kamrules 会创建它）",
        "register_corrupt": "{path}：台账已损坏（SQLite：{detail}）；请从备份恢复，或尝试 `sqlite3 {path} .recover`",
        "register_locked": "{path}：台账已被锁定：另一个 kamrules 运行正在写入；请等其结束后重新运行",
        "register_full": "{path}：磁盘已满（SQLite：{detail}）；请释放空间后重新运行",
        "register_cannot_write": "{path}：无法写入台账（SQLite：{detail}）；请检查该文件及其文件夹的权限",
        "register_failed": "{path}：无法读写台账（SQLite：{detail}）",
        "register_nothing_recorded": "——未记录任何内容，台账保持原样",
        "register_newer": "{path}：由更新版本的 kamrules 写入（{by}，台账结构版本 {version}）；当前 kamrules（{kamrules}）"
                          "最多读取结构版本 {ours}：请升级 kamrules（pip install -U kamrules）",
        "register_meaning": "{path}：其中规则包“{pack}”的评审所用决策含义不同；记录本次运行会混合两种含义：",
        "register_meaning_decision_gone": "决策“{decision}”在台账中有，本规则包中没有",
        "register_meaning_decision_new": "决策“{decision}”是本规则包新增的",
        "register_meaning_hit": "决策“{decision}”：台账中命中策略为 {old}，本规则包中为 {new}",
        "register_meaning_output_gone": "决策“{decision}”的输出“{output}”：台账中有，本规则包中没有",
        "register_meaning_output_new": "决策“{decision}”的输出“{output}”：本规则包新增",
        "register_meaning_type": "决策“{decision}”的输出“{output}”：台账中类型为 {old}，本规则包中为 {new}",
        "register_meaning_values": "决策“{decision}”的输出“{output}”：仅台账中有的取值：{gone}；仅本规则包中有的取值：{added}",
        "register_meaning_fix": "如需记录本次运行，请将两种含义分开：记录到新的台账（--register 另一个文件；{path} 保持不变，仍可读取），"
                                "或给修改后的规则包另起名称（规则包文件中的 pack: name:）。只新增决策、输出或取值的规则包会被接受",
        "register_reserved": "规则包中有名为“{name}”的字段或输出，而台账自用此名；请改名后再用 --register 记录",
        "register_no_pack": "{path}：没有规则包“{pack}”的评审；台账中有以下规则包的评审：{packs}",
        "register_none_before": "{path}：在 {as_of}（本次运行的 --as-of）之前没有可对比的评审；请去掉 --previous，或先记录之前的评审",
    },
}
for _lang, _messages in REGISTER_MESSAGES.items():
    DATA[_lang].update(_messages)


# The review cycle's files (`evaluate --overrides`, `--contacts`, `--notes`; kamrules/review): kept in a
# block of their own and merged into DATA.
REVIEW_MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "review_at": "{file}: {where}", "review_at_column": "{file}: {where}, column '{column}'",
        "review_semicolon": "; ", "review_yes": "yes", "review_no": "no",
        "review_problems": "{name}: {n} problems; fix these rows:",
        "review_yaml": "{where}: {detail}",
        "review_yaml_empty": "{name}: holds no records; write one record per row (a list of mappings)",
        "review_yaml_shape": "{name}: must be a list of records (each a mapping such as `- account: A00001`), "
                             "or one key holding that list",
        "review_yaml_record": "{place}: a record must be a mapping of column: value (e.g. `- account: A00001`)",
        "review_yaml_key": "{file}: {where}: unknown column '{key}'{hint}; the columns are: {known}",
        "review_cell": "{file}: {where}, column '{column}': '{value}' {problem}",
        "review_required": "{place}: the required column {field} is missing (write it as: {names})",
        "review_not_scalar": "must be a single value, not a list or a mapping",
        "review_not_value": "is not one of: {values}",
        "review_unknown_account": "{place}: account '{id}' is not in {data}{hint}; fix the id, or remove the row "
                                  "if the account is gone",
        # overrides
        "override_bad_value": "{place}: '{value}' cannot be set for {output}: {problem}",
        "override_not_value": "the pack's values are: {values}",
        "override_not_boolean": "write true or false (yes/no, 是/否)",
        "override_expired": "{place}: the override of {output} for account '{account}' ended on {date}, before "
                            "this review ({as_of}): ignored — the rules decide; renew the date or remove the row",
        "override_twice": "{place}: account '{account}' has {output} overridden already ({first}); keep one row",
        "override_list_output": "{place}: '{output}' is a list the rules collect (decision '{decision}') and "
                                "cannot be set by hand; override the decision it follows from (e.g. tier or "
                                "risk_level)",
        "override_unknown_output": "{place}: the pack has no output '{output}'{hint}; the outputs that can be "
                                   "overridden are: {outputs}",
        "override_too_many": "{file}: decision '{decision}' is overridden in {n} different ways; the engine takes "
                             "{room} more rules in it: set fewer different values",
        "override_because": "{output} overridden by {owner}: {reason} (until {date}); the rules said: {rules}",
        "override_cell": "{owner}: {reason} (until {date})",
        "override_source": "set by hand ({file})",
    },
    "zh": {
        "review_at": "{file}：{where}", "review_at_column": "{file}：{where}，列“{column}”",
        "review_semicolon": "；", "review_yes": "是", "review_no": "否",
        "review_problems": "{name}：有 {n} 处问题；请修正以下各行：",
        "review_yaml": "{where}：{detail}",
        "review_yaml_empty": "{name}：没有任何记录；请每行写一条记录（映射组成的列表）",
        "review_yaml_shape": "{name}：应为记录列表（每条为一个映射，如 `- account: A00001`），或由一个键包含该列表",
        "review_yaml_record": "{place}：每条记录应为“列: 值”的映射（如 `- account: A00001`）",
        "review_yaml_key": "{file}：{where}：未知的列“{key}”{hint}；可用的列：{known}",
        "review_cell": "{file}：{where}，列“{column}”：“{value}”{problem}",
        "review_required": "{place}：缺少必填列 {field}（可写作：{names}）",
        "review_not_scalar": "应为单个值，不能是列表或映射",
        "review_not_value": "不是以下取值之一：{values}",
        "review_unknown_account": "{place}：客户“{id}”不在 {data} 中{hint}；请修正编码，若该客户已不存在请删除此行",
        "override_bad_value": "{place}：{output} 不能设为“{value}”：{problem}",
        "override_not_value": "规则包的取值为：{values}",
        "override_not_boolean": "请写 true 或 false（yes/no、是/否）",
        "override_expired": "{place}：客户“{account}”的 {output} 人工调整已于 {date} 到期，早于本次回顾（{as_of}）："
                            "已忽略，由规则决定；请更新日期或删除此行",
        "override_twice": "{place}：客户“{account}”的 {output} 已有人工调整（{first}）；请只保留一行",
        "override_list_output": "{place}：“{output}”是规则汇总的列表（决策“{decision}”），不能人工设定；"
                                "请调整其所依据的决策（如 tier 或 risk_level）",
        "override_unknown_output": "{place}：规则包中没有输出“{output}”{hint}；可人工调整的输出有：{outputs}",
        "override_too_many": "{file}：决策“{decision}”有 {n} 种不同的人工调整；引擎最多还能容纳 {room} 条规则：请减少不同取值",
        "override_because": "{output}由{owner}人工调整：{reason}（有效期至 {date}）；规则结果：{rules}",
        "override_cell": "{owner}：{reason}（有效期至 {date}）",
        "override_source": "人工调整（{file}）",
    },
}
for _lang, _messages in REVIEW_MESSAGES.items():
    DATA[_lang].update(_messages)
REVIEW_MESSAGES["en"].update({
    "contact_future": "{place}: {date} is after this review ({as_of}); write the date of the last contact so far",
    "contact_twice": "{place}: '{name}' is listed for account '{account}' already ({first}); keep one row per person",
    "note_twice": "{place}: the same {section} note for account '{account}' is written already ({first}); "
                  "remove one",
})
REVIEW_MESSAGES["en"]["override_agrees"] = ("{file}: the override of {output} for account '{account}' ({value}) is what "
                                             "the rules decide now: ready to retire — remove the row")
REVIEW_MESSAGES["zh"]["override_agrees"] = "{file}：客户“{account}”的 {output} 人工调整（{value}）已与规则结果一致：可以撤销——请删除此行"
REVIEW_MESSAGES["zh"].update({
    "contact_future": "{place}：{date} 晚于本次回顾（{as_of}）；请填写迄今最近一次联系的日期",
    "contact_twice": "{place}：客户“{account}”已列有“{name}”（{first}）；每人只保留一行",
    "note_twice": "{place}：客户“{account}”已有相同的 {section} 备注（{first}）；请删除其中一条",
})
# objectives.csv of an earlier run (evaluate --previous; kamrules/review/objectives.py)
REVIEW_MESSAGES["en"].update({
    "objectives_columns": "{path}: the objectives file lacks the column(s) {columns}; it is not one kamrules "
                          "wrote: run the earlier review again, or remove the file to measure no objectives",
    "objectives_row": "{path}: row {row}: {values}: not an objective kamrules wrote (an id, an objective and a "
                      "metric, two numbers, two dates YYYY-MM-DD); fix the row or run the earlier review again",
})
REVIEW_MESSAGES["zh"].update({
    "objectives_columns": "{path}：目标文件缺少列 {columns}；它不是 kamrules 生成的文件：请重新运行上次回顾，"
                          "或删除该文件（不衡量目标）",
    "objectives_row": "{path}：第 {row} 行：{values}：不是 kamrules 写出的目标（客户编码、目标、指标、两个数字、"
                      "两个 YYYY-MM-DD 日期）；请修正此行或重新运行上次回顾",
})
for _lang, _messages in REVIEW_MESSAGES.items():
    DATA[_lang].update(_messages)
# a run folder's overrides.json (explain --run, diff OUT_A OUT_B; kamrules/review/overrides.py)
REVIEW_MESSAGES["en"].update({
    "overrides_record_json": "{path}: not an overrides record kamrules wrote ({detail}); run `kamrules evaluate "
                             "--overrides` again",
    "overrides_record_bad": "{path}: '{key}' is '{value}', not what kamrules writes there; the file was edited or "
                            "damaged: run `kamrules evaluate --overrides` again",
    "overrides_record_missing": "{folder}: the run applied overrides (its manifest lists overrides.json) but the "
                                "file is missing; copy the whole output folder, or run `kamrules evaluate "
                                "--overrides` again",
    "overrides_record_account": "{path}: account '{account}' is overridden but not in {data}; the file was "
                                "edited: run `kamrules evaluate --overrides` again",
})
REVIEW_MESSAGES["zh"].update({
    "overrides_record_json": "{path}：不是 kamrules 写出的人工调整记录（{detail}）；请重新运行 `kamrules evaluate "
                             "--overrides`",
    "overrides_record_bad": "{path}：“{key}”的值“{value}”不是 kamrules 在此写的内容；文件被改动或损坏："
                            "请重新运行 `kamrules evaluate --overrides`",
    "overrides_record_missing": "{folder}：该次运行应用了人工调整（manifest 列有 overrides.json），但文件缺失；"
                                "请复制整个输出文件夹，或重新运行 `kamrules evaluate --overrides`",
    "overrides_record_account": "{path}：被人工调整的客户“{account}”不在 {data} 中；文件被改动：请重新运行 "
                                "`kamrules evaluate --overrides`",
})
for _lang, _messages in REVIEW_MESSAGES.items():
    DATA[_lang].update(_messages)
# a run folder's contacts.json (explain --run; kamrules/review/contacts.py)
REVIEW_MESSAGES["en"].update({
    "contacts_record_json": "{path}: not a contacts record kamrules wrote ({detail}); run `kamrules evaluate "
                            "--contacts` again",
    "contacts_record_bad": "{path}: '{key}' is '{value}', not what kamrules writes there; the file was edited or "
                           "damaged: run `kamrules evaluate --contacts` again",
    "contacts_record_missing": "{folder}: the run read contacts (its manifest lists contacts.json) but the file is "
                               "missing; copy the whole output folder, or run `kamrules evaluate --contacts` again",
    "contacts_record_account": "{path}: account '{account}' has contacts but is not in {data}; the file was "
                               "edited: run `kamrules evaluate --contacts` again",
})
REVIEW_MESSAGES["zh"].update({
    "contacts_record_json": "{path}：不是 kamrules 写出的联系人记录（{detail}）；请重新运行 `kamrules evaluate "
                            "--contacts`",
    "contacts_record_bad": "{path}：“{key}”的值“{value}”不是 kamrules 在此写的内容；文件被改动或损坏："
                           "请重新运行 `kamrules evaluate --contacts`",
    "contacts_record_missing": "{folder}：该次运行读取了联系人（manifest 列有 contacts.json），但文件缺失；"
                               "请复制整个输出文件夹，或重新运行 `kamrules evaluate --contacts`",
    "contacts_record_account": "{path}：有联系人的客户“{account}”不在 {data} 中；文件被改动：请重新运行 "
                               "`kamrules evaluate --contacts`",
})
for _lang, _messages in REVIEW_MESSAGES.items():
    DATA[_lang].update(_messages)
# a Dask dataset's columns (evaluate --engine dask; kamrules/scale/dask_engine.py)
DATA["en"].update({
    "dask_missing": "{data}: the Parquet parts lack the required field(s) {fields}; --engine dask reads columns "
                    "named as the pack's fields: rename the columns, or run one process, which matches columns",
    "dask_type": "{data}: column {field} is {found} in the Parquet parts, but the pack's field is a {expected}; "
                 "write it as {expected} values (or run one process, which converts text)",
})
DATA["zh"].update({
    "dask_missing": "{data}：Parquet 分片缺少必填字段 {fields}；--engine dask 按规则包的字段名读取列："
                    "请重命名这些列，或用单进程运行（它会匹配列名）",
    "dask_type": "{data}：Parquet 分片中的列 {field} 为 {found}，而规则包中该字段是{expected}；"
                 "请写成{expected}值（或用单进程运行，它会转换文本）",
})
