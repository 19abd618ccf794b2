"""Fuzzing (issue #15): no input to the reader, the pack loader or the template checker gives a crash.

Every outcome must be a result or a `KamrulesError` (exit 1/2 with a message); anything else is what the
CLI reports as "this is a bug" (exit 3). The example budget is small so CI stays fast; raise it with
KAMRULES_FUZZ_EXAMPLES=3000 for a long run (see docs/security.md for the last one).
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kamrules.errors import KamrulesError

from conftest import ROOT

RULES = ROOT / "tests" / "projects" / "basic" / "rules"
BUDGET = settings(max_examples=int(os.environ.get("KAMRULES_FUZZ_EXAMPLES", "25")), deadline=None,
                  database=None,  # no .hypothesis folder: tests write only in tmp_path
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

_PACK = None


def _fields():
    global _PACK
    if _PACK is None:
        from kamrules.pack import load_pack

        _PACK = load_pack(RULES)
    return list(_PACK.fields.values())


def _read(data: bytes, suffix: str, **options) -> None:
    from kamrules.data.reader import ReadOptions, read_table

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"data{suffix}"
        path.write_bytes(data)
        try:
            read_table(path, _fields(), ReadOptions(**options))
        except KamrulesError:
            pass


HEADER = b"account_id,account_name,sales,sales_prev,region,strategic_project,nps,customer_type\n"
cell = st.one_of(
    st.sampled_from(["", "1", "-0", "1e308", "nan", "inf", "1,234.5", "12万", "¥3", "35%", "00042", "\"", "\"a\rb\"",
                     "2026-02-30", "1677-01-01", "9" * 400, "\x00", "\x1b[31m", "\ud7ff", "A\u200bB"]),
    st.text(max_size=30),
)
row = st.lists(cell, min_size=0, max_size=10).map(lambda cells: ",".join(cells))


@BUDGET
@given(rows=st.lists(row, max_size=8), encoding=st.sampled_from([None, "utf-8", "gb18030", "latin-1", "utf-16"]),
       delimiter=st.sampled_from([None, ",", ";"]))
def test_csv_text_never_crashes(rows, encoding, delimiter):
    data = HEADER + "\n".join(rows).encode("utf-8", "surrogatepass")
    _read(data, ".csv", encoding=encoding, delimiter=delimiter)


@BUDGET
@given(data=st.binary(max_size=400))
def test_csv_bytes_never_crash(data):
    _read(data, ".csv")


json_value = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10)),
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)),
    max_leaves=20,
)


@BUDGET
@given(records=st.lists(st.fixed_dictionaries(
    {"account_id": json_value, "account_name": json_value, "sales": json_value}), max_size=5))
def test_json_records_never_crash(records):
    import json

    _read(json.dumps(records).encode(), ".json")


@BUDGET
@given(data=st.binary(max_size=300), suffix=st.sampled_from([".json", ".jsonl", ".xlsx", ".parquet"]))
def test_binary_files_never_crash(data, suffix):
    _read(data, suffix)


def _small_parquet() -> bytes:
    import pandas as pd

    buffer = io.BytesIO()
    pd.DataFrame({"account_id": ["A1", "A2"], "account_name": ["x", "y"], "sales": [1.0, 2.0]}).to_parquet(buffer)
    return buffer.getvalue()


def _small_xlsx() -> bytes:
    import pandas as pd

    buffer = io.BytesIO()
    pd.DataFrame({"account_id": ["A1", "A2"], "account_name": ["x", "y"], "sales": [1.0, 2.0]}).to_excel(
        buffer, index=False)
    return buffer.getvalue()


@pytest.mark.parametrize("suffix, make", [(".parquet", _small_parquet), (".xlsx", _small_xlsx)])
def test_corrupted_parquet_and_xlsx_never_crash(suffix, make):
    original = make()

    @BUDGET
    @given(st.lists(st.tuples(st.integers(0, len(original) - 1), st.integers(0, 255)), min_size=1, max_size=6),
           st.integers(0, len(original)))
    def flip(changes, cut):
        data = bytearray(original)
        for position, value in changes:
            data[position] = value
        _read(bytes(data[:cut] if cut > 20 else data), suffix)

    flip()


def test_parquet_column_name_that_is_not_utf8_is_a_data_error():
    """Found by the long fuzz run: one flipped byte in a column name gave UnicodeDecodeError (exit 3)."""
    original = bytearray(_small_parquet())
    position = original.find(b"account_name")
    original[position] = 0x80
    with pytest.raises(KamrulesError, match="not UTF-8"):
        _read_strict(bytes(original), ".parquet")


def _read_strict(data: bytes, suffix: str) -> None:
    from kamrules.data.reader import read_table

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"data{suffix}"
        path.write_bytes(data)
        read_table(path, _fields())


yaml_piece = st.sampled_from([
    "fields:", "params:", "features:", "decisions:", "  - id: x", "    when: sales > 1", "    type: number",
    "  sales: {type: number}", "&a [1, 2]", "*a", "<<: *a", "!!python/object:os.system", "[", "]", "{", "}",
    "    because: \"{sales:.100f}\"", "    then: {tier: Key}", "  default: {tier: .inf}", "  x: 1" + "0" * 400,
    "    when: " + "(" * 200 + "1" + ")" * 200, "    when: " + "not " * 300 + "true", "- ", ": ", "'", "\t",
])


@BUDGET
@given(lines=st.lists(st.one_of(yaml_piece, st.text(max_size=20)), max_size=12))
def test_rule_files_never_crash_the_loader(lines, tmp_path):
    from kamrules.pack import load_pack

    pack = tmp_path / "pack"
    shutil.rmtree(pack, ignore_errors=True)
    shutil.copytree(RULES, pack)
    (pack / "99-fuzz.yaml").write_text("\n".join(lines), encoding="utf-8", errors="surrogatepass")
    try:
        load_pack(pack)
    except KamrulesError:
        pass


jinja_piece = st.sampled_from([
    "{{ account.name }}", "{{ account.sales | money }}", "{% if account %}", "{% endif %}", "{% for x in [1,2] %}",
    "{% endfor %}", "{{ x }}", "{{ ''.__class__ }}", "{% include 'etc/passwd' %}", "{% extends 'nope' %}",
    "{{ '%*d' % (10, 1) }}", "{{ 1 / 0 }}", "{{ account.nope }}", "{% block x %}", "{% endblock %}", "{#", "#}",
    "{{", "}}", "{%", "%}", "{{ range(3) | list }}", "{{ 'a' | center(5) }}",
    # the budgets of issue #15 item 6: every one must end in a template error, never a crash
    "{{ '%1000000000d' % 1 }}", "{{ 'x' | center(1000000000) }}", "{{ '{:>1000000000}'.format(1) }}",
    "{{ '{:>{}}'.format(1, 5) }}", "{{ 'x'.ljust(10) }}", "{{ '%(a)5s' % {'a': 1} }}", "{{ 'a' ~ 'b' + 'c' }}",
    "{{ ('x' * 99999) | replace('x', 'yy') }}", "{{ [1] | batch(1000000000, 0) | list }}", "{{ 'a\nb' | indent(1001) }}",
])


@BUDGET
@given(pieces=st.lists(st.one_of(jinja_piece, st.text(max_size=15)), max_size=10))
def test_templates_never_crash_the_checker(pieces, tmp_path):
    from kamrules.documents import check_templates

    folder = tmp_path / "tpl"
    folder.mkdir(exist_ok=True)
    (folder / "playbook.md.j2").write_text("".join(pieces), encoding="utf-8", errors="surrogatepass")
    try:
        check_templates(_PACK or _load_pack_once(), playbooks_dir=folder, report=False)
    except KamrulesError:
        pass


def _load_pack_once():
    _fields()
    return _PACK


def test_parquet_text_that_is_not_utf8_is_a_data_error():
    """Found by the long fuzz run: a flipped byte in a text value reached pyarrow's compute (exit 3)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    table = pa.table({"account_id": ["A1", "A2"], "account_name": ["xyzzy", "plugh"], "sales": [1.0, 2.0]})
    pq.write_table(table, buffer, use_dictionary=False, compression="NONE")
    data = bytearray(buffer.getvalue())
    data = bytearray(bytes(data).replace(b"xyzzy", b"\x80yzzy"))  # in the page and in its statistics
    with pytest.raises(KamrulesError, match="column 'account_name' holds text that is not UTF-8"):
        _read_strict(bytes(data), ".parquet")
