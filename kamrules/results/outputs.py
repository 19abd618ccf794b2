"""The machine-readable results of a run: the decision table, the trace and the manifest."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kamrules import __version__
from kamrules.data.written import text_bytes
from kamrules.pack import pick
from kamrules.engine.evaluation import Evaluation


CSV_PART_ROWS = 16_384  # accounts per part of decisions.csv (while the trace is written beside it: its memory adds up)
PARQUET_PART_ROWS = 131_072  # accounts per Parquet row group of decisions.parquet (a million: 8 groups)
DEMOTION_FLAG = "review_before_demotion"  # with `evaluate --previous`: key accounts falling out


def decision_frame(evaluation: Evaluation, lang: str = "en") -> tuple[pd.DataFrame, list[str]]:
    """One row per account in input order: id, name, every output, and per decision its rule.

    Built a decision at a time from its outcomes (each distinct outcome is shown once), not account
    by account. Returns the frame and the names of its list (collect) columns."""
    kinds, shown = _table_columns(evaluation), _decoded(evaluation, lang)
    return _frame_rows(evaluation, kinds, shown, 0, len(evaluation.frame)), _lists(kinds)


def decision_frame_parts(evaluation: Evaluation, lang: str = "en", rows: int = CSV_PART_ROWS,
                         coded: bool = False) -> tuple[Iterator[pd.DataFrame], list[str]]:
    """The decision frame `rows` accounts at a time (each mask still decoded once): a million-account
    table is written without being held whole. Concatenated, the parts are `decision_frame` (with
    `coded`, its text columns are categoricals: the same values, written once per distinct value)."""
    kinds, shown = _table_columns(evaluation), _decoded(evaluation, lang)
    count = len(evaluation.frame)

    def parts() -> Iterator[pd.DataFrame]:
        for start in range(0, max(count, 1), rows):
            yield _frame_rows(evaluation, kinds, shown, start, min(start + rows, count), coded=coded)

    return parts(), _lists(kinds)


def decision_kinds(evaluation: Evaluation) -> dict[str, str]:
    """Each decision-table column's kind — text, number, boolean or list — from the pack, not from the
    values (a part where a column is missing throughout has the kind the whole column has)."""
    return _table_columns(evaluation)


def decision_table_chunks(evaluation: Evaluation, fmt: str, lang: str = "en",
                          demoted: set | None = None, cut: list | None = None,
                          extra: dict | None = None) -> Iterator[bytes]:
    """decisions.<fmt>, built when it is written (at a million accounts it is not held beside the
    report): CSV and Parquet part by part, never whole; Excel with the pack's labels in `lang`.
    `demoted` (ids, with `evaluate --previous`) adds the `review_before_demotion` column; `cut` (a
    list) gets the Excel cells whose text was cut at 32,767 characters (data.xlsx); `extra` (name ->
    (kind, one value per account in input order)) adds columns at the end (`evaluate --overrides`:
    what the rules said and who overrode it, kamrules/review/overrides.py)."""
    from kamrules.data.tables import csv_parts_chunks, parquet_parts_chunks, table_chunks

    def flagged(frame: pd.DataFrame, start: int = 0) -> pd.DataFrame:
        if demoted is not None:  # key accounts falling out are flagged, not silently dropped
            frame[DEMOTION_FLAG] = frame["account_id"].astype(str).isin(demoted)
        for name, (_, values) in (extra or {}).items():
            frame[name] = pd.Series(values[start:start + len(frame)], dtype=object)
        return frame

    def offsets(parts: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        start = 0
        for part in parts:
            yield flagged(part, start)
            start += len(part)

    if fmt in ("csv", "parquet"):
        parts, _ = decision_frame_parts(evaluation, lang, rows=CSV_PART_ROWS if fmt == "csv" else PARQUET_PART_ROWS,
                                        coded=True)
        parts = offsets(parts)
        if fmt == "csv":
            yield from csv_parts_chunks(parts)
        else:
            yield from parquet_parts_chunks(parts, {**decision_kinds(evaluation), DEMOTION_FLAG: "boolean",
                                                    **{name: kind for name, (kind, _) in (extra or {}).items()}})
        return
    frame, list_columns = decision_frame(evaluation, lang)
    frame = flagged(frame)
    if fmt == "xlsx":  # for people: labelled headers and values in --lang (results/labels.py)
        from kamrules.results.labels import labelled_frame

        labelled = labelled_frame(frame, evaluation.pack, lang)
        list_columns = [labelled.columns[frame.columns.get_loc(c)] for c in list_columns]
        frame = labelled
    chunks = table_chunks(frame, fmt, list_columns=list_columns, cut=cut)
    del frame  # held by the chunks until written, then let go
    yield from chunks


def _output_columns(decision) -> Iterator[tuple[str, Any, str]]:
    """(name, spec, kind) of a decision's columns in the decision table; a collect decision's texts are
    left out (the same texts a million times: they are in actions.csv, and the trace names the rules)."""
    for name, spec in decision.outputs.items():
        if decision.policy.lists and spec.type == "text":
            continue
        yield name, spec, "list" if decision.policy.lists else spec.type


def _table_columns(evaluation: Evaluation) -> dict[str, str]:
    """The decision table's columns in order, each with its kind (text, number, boolean, list)."""
    pack, table = evaluation.pack, evaluation.frame
    kinds = {name: "number" if name in table.columns and name not in ("account_id", "account_name")
                   and pd.api.types.is_numeric_dtype(table[name]) else "text" for name in _input_columns(pack)}
    for decision in pack.decisions:
        kinds.update((name, kind) for name, _, kind in _output_columns(decision))
        kinds[f"{decision.id}_rule"] = "text"
    return kinds


def _lists(kinds: dict[str, str]) -> list[str]:
    return [name for name, kind in kinds.items() if kind == "list"]


def _decoded(evaluation: Evaluation, lang: str) -> list:
    """Per decision, its outcomes and each of its columns' cell for each distinct outcome:
    [(outcomes, [(column name, [cell of outcome 0, 1, …])])]."""
    shown: list = []
    for decision in evaluation.pack.decisions:
        outcomes = evaluation.outcomes(decision.id)
        columns = []
        for name, spec, _ in _output_columns(decision):
            def cell(value: Any, _spec=spec) -> Any:
                if _spec.type == "text":
                    if isinstance(value, list):
                        return [pick(v, lang) for v in value]
                    return None if value is None else pick(value, lang)
                return value

            columns.append((name, [cell(outcome.outputs.get(name)) for outcome in outcomes.distinct]))
        columns.append((f"{decision.id}_rule", [_rule_label(outcome) for outcome in outcomes.distinct]))
        shown.append((outcomes, columns))
    return shown


def _frame_rows(evaluation: Evaluation, kinds: dict[str, str], shown: list, start: int, stop: int,
                coded: bool = False) -> pd.DataFrame:
    """The decision frame's rows start..stop (index from 0). `coded`: text columns as pandas categoricals
    (a code per account and the few distinct texts), which the CSV and Parquet writers format once per
    distinct value; otherwise as objects."""
    inputs = _input_columns(evaluation.pack)
    present = [name for name in inputs if name in evaluation.frame.columns]
    table = evaluation.frame[present].iloc[start:stop].reset_index(drop=True)  # only the columns repeated
    count = stop - start
    columns: dict[str, Any] = {}
    for name in inputs:
        columns[name] = table[name] if kinds[name] == "number" else _identity(table, name, count)
    for outcomes, decision_columns in shown:
        codes, unique = pd.factorize(outcomes.codes(start, stop))  # once per decision: the part's outcomes
        for name, cells in decision_columns:
            distinct = [cells[int(k)] for k in unique]  # the cell of each of them
            columns[name] = _broadcast(distinct, codes, kinds[name], coded)
    return pd.DataFrame(columns)


def _broadcast(distinct: list, codes: np.ndarray, kind: str, coded: bool) -> pd.Series:
    """A column from the cell of each distinct outcome and each account's code. The cells are converted
    once (a number column to float64, a boolean one to pandas' boolean), then taken per account. `coded`:
    a text column as a categorical of its texts, a list column as a categorical of tuples (the writers
    turn a tuple category back into the list it was)."""
    cells = distinct
    if coded and kind == "list" and all(cell is None or type(cell) is list for cell in cells):
        cells = [None if cell is None else tuple(cell) for cell in cells]  # (the writers read them as lists)
    if coded and kind in ("text", "list") and all(cell is None or type(cell) in (str, tuple) for cell in cells) \
            and _hashable(cells):
        per_outcome, values = _distinct_codes(cells)
        categories = pd.Index(values, dtype=object, tupleize_cols=False)
        return pd.Series(pd.Categorical.from_codes(per_outcome[codes], categories=categories))
    converted = pd.Series(distinct, dtype=object)
    if kind == "number":
        return pd.Series(converted.astype("float64").to_numpy()[codes])
    if kind == "boolean":
        return pd.Series(converted.astype("boolean").array.take(codes))
    return pd.Series(converted.to_numpy()[codes], dtype=object)


def _distinct_codes(values: list) -> tuple[np.ndarray, list]:
    """(the code of each value, -1 for None; the distinct values in order of first appearance), for
    hashable values: the few cells of a decision's column, one per distinct outcome."""
    distinct = list(dict.fromkeys(v for v in values if v is not None))
    position = {value: i for i, value in enumerate(distinct)}
    return np.array([-1 if v is None else position[v] for v in values], dtype=np.int32), distinct


def _hashable(cells: list) -> bool:
    try:
        hash(tuple(cells))
    except TypeError:
        return False
    return True


def _identity(table: pd.DataFrame, name: str, count: int) -> pd.Series:
    """An id, name or owner column as text: missing as None, anything else as its str."""
    if name not in table.columns:
        return pd.Series([None] * count, dtype=object)
    values = table[name].astype(object).to_numpy()
    missing = pd.isna(values)
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):  # text already (the usual case)
        values = values.copy()
        values[missing] = None
        return pd.Series(values, dtype=object)
    return pd.Series([None if v is None or v != v else (v if isinstance(v, str) else str(v)) for v in values],
                     dtype=object)


def _input_columns(pack) -> list[str]:
    """The input columns the decision table repeats: id, name, owner, region and sales."""
    return ["account_id", "account_name", *_key_inputs(pack)]


def _key_inputs(pack) -> list[str]:
    """The owner, region and sales columns the decision table repeats from the input (pack roles)."""
    names = [pack.role(role) for role in ("account_manager", "region", "sales")]
    return [n for n in names if n and n in pack.fields and n not in ("account_id", "account_name")]


def _rule_label(outcome) -> str | None:
    """The decision table's `<decision>_rule` cell: the deciding rule(s), "default", or empty."""
    return "; ".join(outcome.rule_ids) or None


def json_value(value: Any) -> Any:
    """A value as JSON: dates as ISO text, missing as null, floats without binary noise."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return int(value) if value.is_integer() and abs(value) < 1e15 else value  # 2.0 reads as 2
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, list):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if hasattr(value, "item"):  # numpy scalars
        return json_value(value.item())
    return value


def _json_cells(series: pd.Series) -> list[str]:
    """A column as JSON texts, one per account (missing values as null)."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return ["null" if pd.isna(v) else json.dumps(v.date().isoformat()) for v in series]
    if pd.api.types.is_float_dtype(series) and series.dtype != object:
        return _float_cells(series.to_numpy(dtype="float64", na_value=np.nan))
    cache: dict = {}
    cells = []
    for value in series.astype(object).tolist():
        key = (type(value), value) if not isinstance(value, float) or value == value else "nan"
        try:
            cell = cache.get(key)
        except TypeError:  # unhashable
            cell = None
        if cell is None:
            plain: Any = None if value is pd.NA or value is pd.NaT else value
            if hasattr(plain, "item") and not isinstance(plain, (str, bytes)):
                plain = plain.item()
            cell = json.dumps(json_value(plain), ensure_ascii=False, sort_keys=True)
            try:
                cache[key] = cell
            except TypeError:
                pass
        cells.append(cell)
    return cells


def _float_cells(values: np.ndarray) -> list[str]:
    """json.dumps(json_value(v)) for every float, vectorised: whole numbers as integers, NaN as null."""
    cells = np.array(list(map(float.__repr__, values.tolist())), dtype=object)
    finite = np.isfinite(values)
    whole = finite & (np.abs(np.where(finite, values, 0.0)) < 1e15) & (values == np.floor(np.where(finite, values, 0.0)))
    cells[whole] = list(map(str, values[whole].astype("int64").tolist()))
    cells[np.isnan(values)] = "null"
    for index in np.flatnonzero(np.isinf(values)):
        cells[index] = json.dumps(float(values[index]))
    return cells.tolist()


TRACE_FORMAT = "kamrules-trace-2"


def trace_chunks(evaluation: Evaluation, chunk: int = 16_384) -> Iterator[bytes]:
    """trace.jsonl, compact: each decision's distinct situations once, then one line per account.

    A situation is one distinct outcome of a decision (the rules that fired, the names they read):
    `{"decision": "tier", "situation": 0, "rules": ["pareto_core"], "reads": ["sales_cum_share_before"]}`.
    An account line gives its situation in every decision (in the order of the first line's
    `decisions`) and, once, every value the fired rules read:
    `{"account_id": "00042", "row": 2, "situations": [0, 3, …], "values": {"nps": 6, …}}`.
    `read_trace` turns it back into one record per account and decision (the long form)."""
    pack, table = evaluation.pack, evaluation.frame
    count = len(table)
    names, situations = _trace_situations(evaluation)
    yield (json.dumps({"format": TRACE_FORMAT, "decisions": [d.id for d in pack.decisions]}) + "\n").encode("utf-8")
    for decision, described in zip(pack.decisions, situations):
        lines = [json.dumps({"decision": decision.id, "situation": number, "rules": rules, "reads": reads},
                            ensure_ascii=False) for number, (rules, reads, _) in enumerate(described)]
        if lines:
            yield ("\n".join(lines) + "\n").encode("utf-8")
    rows = np.asarray(evaluation.rows, dtype="int64")
    for start in range(0, count, chunk):
        stop = min(count, start + chunk)
        if stop > start:
            ids = _id_texts(table, start, stop)  # a slice at a time: no million new strings at once
            yield _account_lines(evaluation, names, situations, ids, rows[start:stop], start, stop)


def _id_texts(table: pd.DataFrame, start: int, stop: int) -> list | pa.Array:
    """The account ids of rows start..stop as text, missing as "" (an array when they are texts already)."""
    if "account_id" not in table.columns:
        return [""] * (stop - start)
    from kamrules.data.written import _text_array

    ids = table["account_id"].iloc[start:stop]
    texts, _ = _text_array(ids)  # texts and missing cells: converted in C, the table's strings untouched
    if texts is not None:
        return texts.fill_null("")
    return ids.astype(object).where(ids.notna(), "").map(str).tolist()


def _trace_situations(evaluation: Evaluation) -> tuple[list[str], list[list]]:
    """(every name a fired rule reads, per decision and distinct outcome (a situation): (rules, reads,
    bits of the names read))."""
    found = [[(outcome.rule_ids, outcome.reads) for outcome in evaluation.outcomes(decision.id).distinct]
             for decision in evaluation.pack.decisions]
    names = sorted({n for described in found for (_, reads) in described for n in reads})
    bit = {n: 1 << i for i, n in enumerate(names)}
    return names, [[(rules, reads, sum(bit[n] for n in reads)) for rules, reads in d] for d in found]


def _account_lines(evaluation: Evaluation, names: list[str], situations: list[list], ids: list, rows: np.ndarray,
                   start: int, stop: int) -> bytes:
    """The account lines of a slice, built column-wise in Arrow: per account, its situation in each
    decision, then each name a fired rule read (which follow from the situations) with its value."""
    table = evaluation.frame
    count = stop - start
    if count == 0:
        return b""
    pieces = [pa.scalar('{"account_id": '), _json_texts(ids), pa.scalar(', "row": '), pa.array(rows).cast(pa.string()),
              pa.scalar(', "situations": [')]
    per_decision, reads = _situations_read(evaluation, names, situations, start, stop)
    for number, (codes, described) in enumerate(zip(per_decision, situations)):
        numerals = pa.array([str(k) for k in range(len(described))], type=pa.string())
        pieces += [pa.scalar(", ")] * bool(number) + [numerals.take(pa.array(codes))]
    pieces.append(pa.scalar('], "values": {'))
    values = []  # per name read by some account: ', "name": value' where read, null elsewhere
    for i, name in enumerate(names):
        where = np.flatnonzero(reads[:, i])
        if not len(where):
            continue
        texts = _json_array(table[name].iloc[start:stop].iloc[where])  # only the accounts that read it
        keyed = pc.binary_join_element_wise(", " + json.dumps(name) + ": ", texts, "")
        index = np.full(count, -1, dtype=np.int32)
        index[where] = np.arange(len(where), dtype=np.int32)
        values.append(keyed.take(pa.array(index, mask=index < 0)))
    if values:  # joined skipping the names an account did not read, then its first ", " dropped
        # (an empty text joined in too: pyarrow drops the null rows of a lone array joined this way)
        joined = pc.binary_join_element_wise(*values, pa.scalar(""), "", null_handling="skip")
        pieces.append(pc.utf8_slice_codeunits(joined, 2))
    pieces.append(pa.scalar("}}\n"))
    return text_bytes(pc.binary_join_element_wise(*pieces, ""))


def _situations_read(evaluation: Evaluation, names: list[str], situations: list[list], start: int,
                     stop: int) -> tuple[list[np.ndarray], np.ndarray]:
    """(per decision, each account's situation; per account and name, whether a fired rule read it) for
    the accounts start..stop: what a name is read for follows from the situations."""
    reads = np.zeros((stop - start, len(names)), dtype=bool)
    per_decision = []
    for decision, described in zip(evaluation.pack.decisions, situations):
        codes = evaluation.outcomes(decision.id).codes(start, stop).astype(np.int64)  # its situation
        read = np.zeros((len(described), len(names)), dtype=bool)  # per situation of the decision
        for k, (_, _, bits) in enumerate(described):
            read[k] = [bool(bits >> i & 1) for i in range(len(names))]
        reads |= read[codes]
        per_decision.append(codes)
    return per_decision, reads


_PLAIN_TEXT = r'^[^"\\\x00-\x1f]*$'  # JSON needs no escape: no quote, backslash or control character


def _json_texts(texts: list | pa.Array) -> pa.Array:
    """json.dumps(text, ensure_ascii=False) of each text, vectorised."""
    array = texts if isinstance(texts, pa.Array) else pa.array(texts, type=pa.string())
    plain = pc.match_substring_regex(array, _PLAIN_TEXT)
    if pc.all(plain).as_py() is not False:
        return pc.binary_join_element_wise('"', array, '"', "")
    return pa.array([json.dumps(t, ensure_ascii=False) for t in array.to_pylist()], type=pa.string())


def _json_array(series: pd.Series) -> pa.Array:
    """`_json_cells` as a pyarrow string array; numbers and dates vectorised."""
    if pd.api.types.is_datetime64_any_dtype(series):
        stamps = pa.array(series.to_numpy(dtype="datetime64[ns]"), from_pandas=True).cast(pa.timestamp("s"), safe=False)
        return pc.binary_join_element_wise('"', pc.strftime(stamps, format="%Y-%m-%d"), '"', "").fill_null("null")
    if pd.api.types.is_float_dtype(series) and series.dtype != object:
        return _float_json(series.to_numpy(dtype="float64", na_value=np.nan))
    if pd.api.types.is_bool_dtype(series):  # numpy or pandas boolean (missing as null)
        flags = pa.array(series.to_numpy(dtype=object, na_value=None), type=pa.bool_())
        return pc.if_else(flags, "true", "false").fill_null("null")
    if pd.api.types.is_integer_dtype(series):
        return pa.array(series.to_numpy(dtype=object, na_value=None), type=pa.int64()).cast(pa.string()).fill_null("null")
    if pd.api.types.is_string_dtype(series) or series.dtype == object:  # text, perhaps with missing cells
        try:
            texts = pa.array(series.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # not only text: each cell its own way
            texts = None
        if texts is not None and pc.all(pc.match_substring_regex(texts, _PLAIN_TEXT)).as_py() is not False:
            return pc.binary_join_element_wise('"', texts, '"', "").fill_null("null")
    return pa.array(_json_cells(series), type=pa.string())


def _float_json(values: np.ndarray) -> pa.Array:
    """`_float_cells` as a pyarrow string array. Arrow's shortest float text equals Python's repr (and
    whole numbers print without ".0") for 0 and 1e-4 <= |v| < 1e9; missing is null; only the other
    values (large whole numbers, tiny fractions, infinities, -0.0) take the Python path."""
    size = np.abs(values)
    missing = np.isnan(values)
    arrow = ((size >= 1e-4) & (size < 1e9)) | ((values == 0) & ~np.signbit(values)) | missing
    texts = pa.array(values, from_pandas=True).cast(pa.string()).fill_null("null")
    if arrow.all():
        return texts
    others = np.flatnonzero(~arrow)
    return pc.replace_with_mask(texts, pa.array(~arrow), pa.array(_float_cells(values[others]), type=pa.string()))


def read_trace(lines: Iterable[str | bytes]) -> Iterator[dict]:
    """The records of trace.jsonl in the long form: per account and decision `{"account_id",
    "decision", "reads": {name: value}, "row", "rules"}`, in account order then decision order."""
    decisions: list[str] = []
    situations: dict[tuple[str, int], dict] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        record = json.loads(line)
        if "format" in record:
            if record["format"] != TRACE_FORMAT:
                raise ValueError(f"trace line {number}: unknown format {record['format']!r} (expected {TRACE_FORMAT})")
            decisions = record["decisions"]
        elif "situation" in record:
            situations[record["decision"], record["situation"]] = record
        else:
            values = record["values"]
            for decision, situation in zip(decisions, record["situations"]):
                described = situations[decision, situation]
                yield {"account_id": record["account_id"], "decision": decision,
                       "reads": {n: values[n] for n in described["reads"]}, "row": record["row"],
                       "rules": described["rules"]}


TRACE_PARQUET_FORMAT = "kamrules-trace-parquet-1"
TRACE_METADATA_KEY = "kamrules.trace"  # the key-value metadata entry of trace.parquet that describes the situations
SITUATION_PREFIX, VALUE_PREFIX = "situation.", "value."
TRACE_GROUP_ROWS = 131_072  # accounts per row group of trace.parquet


def trace_file(evaluation: Evaluation, fmt: str) -> tuple[str, Iterator[bytes]]:
    """(file name, its bytes in pieces) of the run's trace: `trace.parquet` when the tables are written as
    Parquet (`--format parquet`), `trace.jsonl` otherwise (docs/trace.md)."""
    if fmt == "parquet":
        return "trace.parquet", trace_parquet_chunks(evaluation)
    return "trace.jsonl", trace_chunks(evaluation)


def trace_parquet_chunks(evaluation: Evaluation, rows: int = TRACE_GROUP_ROWS) -> Iterator[bytes]:
    """trace.parquet: the trace of `trace_chunks` as one Parquet table, one row per account in input
    order — `account_id` (text), `row` (int64), `situation.<decision>` (int32, the account's situation
    in each decision) and `value.<name>` for every name a fired rule reads (the column's own type:
    float64, int64, boolean, date32, text or list of text; null where the account's rules did not read
    it). The situations (each decision's rules and the names they read, numbered from 0) are JSON in the
    file's key-value metadata under `kamrules.trace`. One row group per `rows` accounts."""
    pack, table = evaluation.pack, evaluation.frame
    count = len(table)
    names, situations = _trace_situations(evaluation)
    types = {name: _trace_type(table[name]) for name in names}
    schema = pa.schema([pa.field("account_id", pa.string()), pa.field("row", pa.int64()),
                        *[pa.field(SITUATION_PREFIX + d.id, pa.int32()) for d in pack.decisions],
                        *[pa.field(VALUE_PREFIX + name, types[name]) for name in names]])
    described = {"format": TRACE_PARQUET_FORMAT, "decisions": [d.id for d in pack.decisions],
                 "situations": {d.id: [{"rules": rules, "reads": reads} for rules, reads, _ in found]
                                for d, found in zip(pack.decisions, situations)}}
    all_rows = np.asarray(evaluation.rows, dtype="int64")

    def groups() -> Iterator[pa.Table]:
        for start in range(0, count, rows):
            stop = min(count, start + rows)
            ids = _id_texts(table, start, stop)
            per_decision, reads = _situations_read(evaluation, names, situations, start, stop)
            columns = [ids if isinstance(ids, pa.Array) else pa.array(ids, type=pa.string()), pa.array(all_rows[start:stop]),
                       *[pa.array(codes.astype(np.int32)) for codes in per_decision]]
            for i, name in enumerate(names):
                values = _trace_values(table[name].iloc[start:stop], types[name])
                columns.append(values.take(pa.array(np.arange(stop - start), mask=~reads[:, i])))  # null where unread
            yield pa.Table.from_arrays(columns, schema=schema)

    from kamrules.data.tables import arrow_parts_chunks

    return arrow_parts_chunks(groups(), schema,
                              {TRACE_METADATA_KEY: json.dumps(described, ensure_ascii=False, sort_keys=True)})


def _trace_type(series: pd.Series) -> pa.DataType:
    """The Arrow type of a value column of trace.parquet, from the whole column (so every row group has it)."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return pa.date32()
    if pd.api.types.is_bool_dtype(series):
        return pa.bool_()
    if pd.api.types.is_float_dtype(series):
        return pa.float64()
    if pd.api.types.is_integer_dtype(series):
        return pa.int64()
    sample = series.dropna().iloc[:1000].astype(object).tolist()
    if sample and all(type(v) in (list, tuple) for v in sample):
        return pa.list_(pa.string())
    if sample and all(type(v) in (bool, np.bool_) for v in sample):
        return pa.bool_()
    return pa.string()


def _trace_values(series: pd.Series, kind: pa.DataType) -> pa.Array:
    """A slice of a value column as Arrow `kind` (see `_trace_type`); a cell of another kind as its text."""
    if kind == pa.date32():
        return pa.array(series.to_numpy(dtype="datetime64[ns]"), from_pandas=True).cast(pa.date32(), safe=False)
    if kind == pa.float64():
        return pa.array(series.to_numpy(dtype="float64", na_value=np.nan), from_pandas=True)
    if isinstance(series.dtype, np.dtype) and series.dtype.kind in "biu":  # flags and counts: no object per cell
        return pa.array(series.to_numpy()).cast(kind)
    if (pd.api.types.is_bool_dtype(series) or pd.api.types.is_integer_dtype(series)) and kind != pa.string():
        return pa.array(series.array, from_pandas=True).cast(kind)  # pandas' masked arrays: missing as null
    objects = series.astype(object).to_numpy()
    try:
        return pa.array(objects, type=kind, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        pass
    from kamrules.data.cells import plain_value
    from kamrules.data.written import _text

    plain = [plain_value(v) for v in objects]
    if pa.types.is_list(kind):
        return pa.array([None if v is None else [_text(item) for item in (v if isinstance(v, list) else [v])]
                         for v in plain], type=kind)
    texts = pa.array([None if v is None else _text(v) for v in plain], type=pa.string())
    return texts if kind == pa.string() else texts.cast(kind)  # ("true"/"false" for a column of flags)


def read_trace_table(path: Path) -> Iterator[dict]:
    """The records of trace.parquet in the long form, as `read_trace` gives them from trace.jsonl: per
    account and decision `{"account_id", "decision", "reads": {name: value}, "row", "rules"}` (dates as
    `YYYY-MM-DD` text, as in the JSON form)."""
    import pyarrow.parquet as pq

    handle = pq.ParquetFile(path)
    metadata = (handle.schema_arrow.metadata or {}).get(TRACE_METADATA_KEY.encode())
    if metadata is None:
        raise ValueError(f"{path}: not a kamrules trace (no '{TRACE_METADATA_KEY}' metadata)")
    described = json.loads(metadata)
    if described.get("format") != TRACE_PARQUET_FORMAT:
        raise ValueError(f"{path}: unknown trace format {described.get('format')!r} (expected {TRACE_PARQUET_FORMAT})")
    decisions, situations = described["decisions"], described["situations"]
    for batch in handle.iter_batches():
        for record in batch.to_pylist():
            for decision in decisions:
                situation = situations[decision][record[SITUATION_PREFIX + decision]]
                reads = {n: _long_value(record[VALUE_PREFIX + n]) for n in situation["reads"]}
                yield {"account_id": record["account_id"], "decision": decision, "reads": reads, "row": record["row"],
                       "rules": situation["rules"]}


def _long_value(value: Any) -> Any:
    """A value of trace.parquet as the JSON form has it (dates as text, whole floats compare equal)."""
    return value.isoformat() if isinstance(value, dt.date) else value


def long_trace_chunks(evaluation: Evaluation, chunk: int = 10000) -> Iterator[bytes]:
    """The long form of the trace (what `read_trace` gives back from trace.jsonl), produced a slice of accounts at a time: per account and decision, the rules that
    fired and the values the rules read (the outputs themselves are in the decision table). Each
    distinct outcome is described once and each column encoded once per slice."""
    pack, table = evaluation.pack, evaluation.frame
    count = len(table)
    ids = [json.dumps(a, ensure_ascii=False) for a in
           (table["account_id"].astype(object).where(table["account_id"].notna(), "").map(str)
            if "account_id" in table.columns else [""] * count)]
    rows = np.asarray(evaluation.rows, dtype="int64").tolist()
    read_names: set = set()
    plans = []
    for decision in pack.decisions:
        outcomes = evaluation.outcomes(decision.id)
        described = []
        for outcome in outcomes.distinct:
            read_names.update(outcome.reads)
            head = f'"decision": {json.dumps(decision.id)}, "reads": {{'
            tail = f', "rules": {json.dumps(outcome.rule_ids, ensure_ascii=False)}}}'
            described.append((head, [(json.dumps(n) + ": ", n) for n in outcome.reads], tail))
        plans.append((outcomes, described))
    for start in range(0, count, chunk):
        stop = min(count, start + chunk)
        encoded = {name: np.array(_json_cells(table[name].iloc[start:stop]), dtype=object)
                   for name in sorted(read_names)}
        prefix = np.array([f'{{"account_id": {a}, ' for a in ids[start:stop]], dtype=object)
        row = np.array([f'}}, "row": {r}' for r in rows[start:stop]], dtype=object)
        per_decision = [_trace_lines(outcomes.codes(start, stop), described, encoded, prefix, row)
                        for outcomes, described in plans]
        if per_decision and stop > start:
            # account by account, decision by decision
            yield ("\n".join(np.stack(per_decision, axis=1).ravel().tolist()) + "\n").encode("utf-8")


def _trace_lines(outcome_codes: np.ndarray, described: list, encoded: dict, prefix: np.ndarray,
                 row: np.ndarray) -> np.ndarray:
    """One decision's trace line per account of a slice, built a distinct outcome at a time."""
    unique, codes = np.unique(outcome_codes, return_inverse=True)
    codes = codes.reshape(-1)
    lines = np.empty(len(outcome_codes), dtype=object)
    groups = np.split(np.argsort(codes, kind="stable"), np.cumsum(np.bincount(codes, minlength=len(unique)))[:-1])
    for number, where in zip(unique.tolist(), groups):
        head, reads, tail = described[int(number)]
        line = prefix[where] + head
        for position, (key, name) in enumerate(reads):
            line = line + ((", " if position else "") + key) + encoded[name][where]
        lines[where] = line + row[where] + tail
    return lines


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


MANIFEST_ROLES = ("account_name", "account_manager", "region", "sales", "tier", "risk_level", "relationship",
                  "service_level")


def manifest(evaluation: Evaluation, *, input_path: Path | None, jobs: int, files: list[str],
             data_issues: int = 0, columns: dict | None = None, lang: str | None = None,
             table: dict | None = None, history: dict | None = None) -> bytes:
    """manifest.json: what produced these results. Deterministic: clock times go to the console.
    `history`: where the run's history facts came from (kamrules.data.history_facts.HistoryFacts.record).
    `table`: the decision table's file, language and the kind of each column (text, number, boolean,
    list), so `diff` and `--previous` read its values back, not its spellings (see `table_record`)."""
    pack = evaluation.pack
    record: dict[str, Any] = {
        "kamrules_version": __version__,
        "engine": evaluation.engine,
        # no "jobs": the default is the number of cores, so the bytes would differ between machines
        "as_of": evaluation.as_of.isoformat(),
        "pack": {"name": pack.name, "version": pack.version, "hash": pack.hash, "files": pack.files},
        "input": {
            "name": input_path.name if input_path else evaluation.input_name,
            "sha256": file_hash(input_path) if input_path and input_path.is_file() else None,
            **{k: v for k, v in evaluation.source.items() if k not in ("path", "present_fields", "doubts")},
        },
        "rows": {"accounts": len(evaluation.accounts), "data_issues": data_issues},
        "outputs": sorted(files),
        # What `kamrules diff OUT_A OUT_B` needs to compare two runs without their packs.
        "decisions": {d.id: {"outputs": list(d.outputs), "hit": d.hit} for d in pack.decisions},
        "roles": {r: pack.role(r) for r in MANIFEST_ROLES if pack.role(r) is not None},
    }
    if columns is not None:  # how each field found its column, and which fields the file lacks
        record["columns"] = columns
    if lang is not None:  # the language of the documents (explain --run speaks it too)
        record["lang"] = lang
    if table is not None:
        record["table"] = table
    overrides = getattr(pack, "overrides", None)
    if overrides:
        record["pack"]["overrides"] = overrides  # what-if `--set NAME=VALUE`
    if history is not None:
        record["history"] = history
    return (json.dumps(json_value(record), ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


def table_record(evaluation: Evaluation, fmt: str, lang: str, demoted: bool = False,
                 extra: dict | None = None) -> dict:
    """The manifest's `table`: the decision table's file, its language (Excel's labels) and each
    column's kind; `demoted`: it has the `review_before_demotion` column (`--previous`); `extra`: the
    columns `decision_table_chunks` added at the end (name -> (kind, values))."""
    plain = {"number": "number", "integer": "number", "boolean": "boolean", "list": "list"}
    kinds = {name: plain.get(kind, "text") for name, kind in decision_kinds(evaluation).items()}
    if demoted:
        kinds[DEMOTION_FLAG] = "boolean"
    for name, (kind, _) in (extra or {}).items():
        kinds[name] = plain.get(kind, "text")
    return {"file": f"decisions.{fmt}", "lang": lang, "columns": kinds}


def read_manifest(folder: Path, lang: str = "en") -> dict:
    """The manifest.json of a `kamrules evaluate` output folder, read with the guards of a data file
    and validated (kamrules.results.run_folder.read_manifest)."""
    from kamrules.results.run_folder import read_manifest as read

    return read(folder, lang)
