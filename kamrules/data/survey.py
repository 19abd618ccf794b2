"""`kamrules columns FILE`: how the pack would read a file, and a starter `--columns` file to edit.

Nothing here refuses the file for what the reader would refuse (a required field without a column, two
columns for one field, values the pack does not know, money columns that disagree): each is shown, with
what to do, and the starter mapping proposes an answer to it — the column for a field by meaning and
type, the unit a column is likely in, the rows that are not customers (`where:`), a value map for
look-alike regions and unknown picklist values. Written as YAML with comments, so the user can check
each line; run as it is, it reads the file the way the comments say."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from kamrules.data.columns import (
    SKIP_ROW, ColumnMapping, describe_mapping, layout_lines, mapping_lines, match_plan, proposal_text,
)
from kamrules.data.convert import _as_text, _convert, category_reason
from kamrules.data.doubts import unit_doubts
from kamrules.data.lookalikes import LookAlikes, lookalike_groups
from kamrules.data.meaning import Proposal, proposals
from kamrules.data.doubts import reference_field
from kamrules.data.options import ReadOptions, _check_options
from kamrules.data.periods import annualised, doubt_text, factor_of, period_doubts
from kamrules.data.units import decide_units
from kamrules.data.values import NOT_CUSTOMER_WORDS, carried_text, proposal_reason, value_proposals
from kamrules.data.wording import say, spec_ref
from kamrules.pack.fields import FieldSpec, normalise_header

# Values of a customer-status column (HubSpot's Lifecycle Stage, a Chinese CRM's 客户状态) that mean a
# customer, and values that mean someone who is not one yet.
CUSTOMER_WORDS = frozenset(normalise_header(w) for w in (
    "customer", "customers", "evangelist", "active customer", "client", "客户", "成交客户", "签约客户", "正式客户",
    "老客户", "合作客户", "已成交", "现有客户"))
_STATUS_HEADER = re.compile(r"lifecycle|stage|status|客户状态|客户阶段|阶段|状态", re.IGNORECASE)


@dataclass
class Survey:
    """What `kamrules columns` found out about a file (see the module's docstring)."""

    name: str
    source: dict
    description: dict  # describe_mapping of the proposed mapping (with the layout)
    mapping: ColumnMapping  # the starter mapping: the given one, with the proposals added
    proposed: dict = field(default_factory=dict)  # field -> Proposal behind a proposed column
    alternatives: dict = field(default_factory=dict)  # field -> other columns it matched
    missing: list = field(default_factory=list)  # required fields still without a column
    hints: dict = field(default_factory=dict)  # field -> [Proposal] for optional fields left out (close names)
    unknown: dict = field(default_factory=dict)  # field -> (header, [(value, rows)])
    lookalikes: dict = field(default_factory=dict)  # field -> (header, [LookAlikes])
    doubts: list = field(default_factory=list)  # UnitDoubt
    status: tuple | None = None  # (header, customer values, other values with rows) of a status column
    bad_cells: dict = field(default_factory=dict)  # field -> (header, how many cells cannot be read)
    problems: list = field(default_factory=list)  # --columns entries that name no column of the file
    annual: dict = field(default_factory=dict)  # field -> YearElapsed, for `period: year_to_date` (data/periods.py)
    period_doubts: list = field(default_factory=list)  # PeriodDoubt: lifetime revenue, a year to date
    wheres: list = field(default_factory=list)  # what each row filter (where:, --where) leaves out


def survey_columns(path: Path, fields: Sequence[FieldSpec], options: ReadOptions = ReadOptions(),
                   group_fields: Sequence[str] = ()) -> Survey:
    """How `path` would be read with `options` (its --columns mapping included), and the proposals of the
    starter mapping. `group_fields`: the fields accounts are grouped by (region), checked for look-alike
    values. Raises DataError only for a file that cannot be read at all."""
    from kamrules.data.reader import _read_raw

    path = Path(path)
    name = str(path)
    lang = options.lang
    _check_options(options, fields)
    raw, fmt = _read_raw(path, name, options)
    by_name = {spec.name: spec for spec in fields}
    given = ColumnMapping(dict(options.columns or {}), {k: dict(v) for k, v in (options.values or {}).items()},
                          dict(options.units or {}), options.row_filter, periods=dict(options.periods or {}))
    survey = Survey(name, {"format": fmt, "encoding": raw.encoding, "delimiter": raw.delimiter, "sheet": raw.sheet,
                           "rows": len(raw.row_numbers)}, {}, given)
    columns = dict(given.columns)
    year = options.as_of.year if options.as_of else None
    plan = match_plan(raw.headers, fields, columns, lang, raw.columns, year)
    survey.problems = [p for p in plan.problems if p.startswith("--columns")]
    matched = dict(plan.matched)
    reference = reference_field(fields)
    taken = set(matched.values())
    for field_name, indexes in plan.ambiguous.items():  # two columns for one field: the first, by how it matched
        chosen = _preferred(by_name[field_name], [raw.headers[i] for i in indexes])
        index = raw.headers.index(chosen)
        matched[field_name], columns[field_name] = index, chosen
        survey.alternatives[field_name] = [raw.headers[i] for i in indexes if raw.headers[i] != chosen]
        taken.add(index)
    for index, names in plan.shared.items():  # one column, several fields: the one named most exactly
        chosen = names[0]
        matched[chosen], columns[chosen] = index, raw.headers[index]
        taken.add(index)
    free = [i for i in range(len(raw.headers)) if i not in taken]
    for spec in fields:  # fields without a column: a column by meaning and type
        if spec.name in matched:
            continue
        offered = proposals(spec, reference, raw.headers, raw.columns, free if not spec.required else
                            list(range(len(raw.headers))), year=year)
        chosen = next((p for p in offered if p.note != "close" or spec.required), None)
        if chosen is None:
            if offered:
                survey.hints[spec.name] = offered
            if spec.required:
                survey.missing.append(spec.name)
            continue
        index = raw.headers.index(chosen.column)
        matched[spec.name], columns[spec.name] = index, chosen.column
        survey.proposed[spec.name] = chosen
        if index in free:
            free.remove(index)
    survey.mapping.columns = {**given.columns, **{f: c for f, c in columns.items() if f not in given.columns
                                                  and (f in survey.proposed or f in survey.alternatives
                                                       or any(f in names for names in plan.shared.values()))}}
    survey.status = _status_column(raw, [i for i in range(len(raw.headers)) if i not in matched.values()])
    if survey.status is not None and survey.mapping.where is None:
        header, keep, _ = survey.status
        survey.mapping.where = f"`{header}` in [{', '.join(_quoted_value(v) for v in keep)}]"
    units = decide_units(fields, raw.headers, matched, given.units, raw.layout.title_unit if raw.layout else None)
    survey.annual = annualised(fields, matched, given.periods, options.as_of)  # `period: year_to_date`
    kept = _rows_kept(survey, raw, fields, matched, units, options)
    categories = [f for f in matched if by_name[f].type == "category" and by_name[f].values]
    sales = _sales_kept(raw, reference, matched, kept, units, options, survey.annual) if categories else None
    for field_name in categories:  # values the pack does not know, before any row is left out for them
        _convert_field(survey, raw, by_name[field_name], matched[field_name], kept, units, options, group_fields,
                       sales)
    _propose_values(survey, by_name)
    kept &= ~_skipped_rows(raw, matched, survey.mapping.values)
    unknown, survey.unknown, survey.bad_cells, survey.lookalikes = survey.unknown, {}, {}, {}
    data = {field_name: _convert_field(survey, raw, by_name[field_name], index, kept, units, options, group_fields)
            for field_name, index in sorted(matched.items(), key=lambda item: item[1])}
    survey.unknown = unknown  # as the file has them (the proposed value map now reads them)
    survey.doubts = unit_doubts(fields, data, {f: raw.headers[i] for f, i in matched.items()}, units,
                                chinese=any("\u4e00" <= c <= "\u9fff" for h in raw.headers for c in str(h)))
    _propose_values(survey, by_name)
    for doubt in survey.doubts:
        if doubt.unit and doubt.suspect not in survey.mapping.units:
            survey.mapping.units[doubt.suspect] = doubt.unit
            survey.mapping.columns.setdefault(doubt.suspect, raw.headers[matched[doubt.suspect]])
    for field_name, proposal in list(survey.proposed.items()):  # the name column made the id: it stays the name
        if proposal.note == "unique":
            for spec in fields:
                if spec.name != field_name and matched.get(spec.name) == matched[field_name]:
                    survey.mapping.columns.setdefault(spec.name, proposal.column)
    survey.description = {**describe_mapping(raw.headers, fields, matched, survey.mapping.columns, units, raw.columns,
                                             year, survey.annual),
                          "layout": raw.layout.as_dict() if raw.layout else {}}
    survey.period_doubts = period_doubts(fields, {f: raw.headers[i] for f, i in matched.items()}, options.as_of,
                                         given.periods)
    if survey.period_doubts:
        survey.description["doubts"] = [d.as_dict() for d in survey.period_doubts]
    for row in survey.description["fields"]:  # what kamrules columns proposes is not yet in a --columns file
        if row["field"] not in given.columns and (row["field"] in survey.proposed or row["field"] in survey.alternatives):
            row["by"] = say(lang, "by_proposed")
    return survey


def _sales_kept(raw, reference: FieldSpec | None, matched: dict, kept: np.ndarray, units: dict,
                options: ReadOptions, annual: dict | None = None) -> tuple | None:
    """(the sales of the kept rows, NaN when blank; which of them cannot be read), or None without a sales
    column: what the rows of a value the pack does not know carry."""
    if reference is None or reference.name not in matched:
        return None
    unit = units.get(reference.name)
    column = _as_text(raw.columns[matched[reference.name]]).filter(pa.array(kept))
    values, bad, reasons = _convert(reference, column, raw, options, scale=unit.scale if unit else 1.0,
                                    own_unit_wins=unit is not None and unit.source != "header",
                                    annualise=factor_of(annual, reference.name))
    unreadable = np.zeros(len(values), dtype=bool)
    blank = say(options.lang, "r_required")
    unreadable[[int(p) for p, r in zip(bad, reasons) if r != blank]] = True
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64"), unreadable


def _convert_field(survey: Survey, raw, spec: FieldSpec, index: int, kept: np.ndarray, units: dict,
                   options: ReadOptions, group_fields: Sequence[str], sales: tuple | None = None) -> pd.Series:
    """One field's column converted on the kept rows (with the mapping's value map): its values; what it
    holds that the pack does not know (with what its rows carry, `sales` of the kept rows), cannot read,
    or spells several ways goes into `survey`."""
    lang = options.lang
    column = _mapped_values(raw.columns[index], survey.mapping.values.get(spec.name)).filter(pa.array(kept))
    unit = units.get(spec.name)
    values, bad, reasons = _convert(spec, column, raw, options, scale=unit.scale if unit else 1.0,
                                    own_unit_wins=unit is not None and unit.source != "header",
                                    annualise=factor_of(survey.annual, spec.name))
    unknown = [int(p) for p, r in zip(bad, reasons) if spec.type == "category" and r == category_reason(spec, lang)]
    if unknown:
        found = value_proposals(spec, column.to_pylist(), unknown, raw.row_numbers[kept],
                                sales[0] if sales else None, sales[1] if sales else None)
        survey.unknown[spec.name] = (raw.headers[index], found)
    if len(bad) - len(unknown):
        survey.bad_cells[spec.name] = (raw.headers[index], len(bad) - len(unknown))
    if spec.name in group_fields and spec.type in ("string", "category"):
        groups = lookalike_groups(v for v in values.tolist() if v is not None)
        if groups:
            survey.lookalikes[spec.name] = (raw.headers[index], groups)
    return values


def _skipped_rows(raw, matched: dict, values: dict) -> np.ndarray:
    """The rows a value map sends to skip-row."""
    skipped = np.zeros(len(raw.row_numbers), dtype=bool)
    for field_name, table in values.items():
        targets = {normalise_header(k) for k, v in table.items() if v == SKIP_ROW}
        if field_name in matched and targets:
            cells = _as_text(raw.columns[matched[field_name]]).to_pylist()
            skipped |= np.array([normalise_header(c) in targets for c in cells], dtype=bool)
    return skipped


def _preferred(spec: FieldSpec, headers: list[str]) -> str:
    """Of the columns that match one field, the one matching its name, then a label, then the first."""
    for names in ([spec.name], list(spec.label.values())):
        keys = {normalise_header(n) for n in names}
        for header in headers:
            if normalise_header(header) in keys:
                return header
    return headers[0]


def _quoted_value(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _status_column(raw, candidates: list[int]) -> tuple | None:
    """A column that says whether a row is a customer at all (Lifecycle Stage: Customer beside Lead,
    Subscriber, Opportunity): (header, the values that mean a customer, every other value with its rows)."""
    for index in candidates:
        header = raw.headers[index]
        if not _STATUS_HEADER.search(header):
            continue
        counts = Counter(v.strip() for v in _as_text(raw.columns[index]).to_pylist() if v and v.strip())
        keep = sorted(v for v in counts if normalise_header(v) in CUSTOMER_WORDS)
        others = [v for v in counts if normalise_header(v) in NOT_CUSTOMER_WORDS]
        if keep and others:
            rest = sorted(((v, n) for v, n in counts.items() if v not in keep), key=lambda c: (-c[1], c[0]))
            return header, keep, rest
    return None


def _rows_kept(survey: Survey, raw, fields, matched: dict, units: dict, options: ReadOptions) -> np.ndarray:
    """The rows the mapping's `where:` (and --where) keep; all rows when there is none or it is wrong
    (then said among the problems)."""
    from kamrules.data.reader import _names_read
    from kamrules.data.where import where_mask
    from kamrules.errors import KamrulesError

    keep = np.ones(len(raw.row_numbers), dtype=bool)
    columns = {header: raw.columns[i] for i, header in enumerate(raw.headers)}
    by_name = {spec.name: spec for spec in fields}
    for condition in (survey.mapping.where, options.where):
        if not condition:
            continue
        names = _names_read(condition)
        typed = {}
        for field_name, index in matched.items():  # the fields it reads, typed; the others only named
            unit = units.get(field_name)
            typed[field_name] = (_convert(by_name[field_name], _mapped_values(raw.columns[index],
                                                                               survey.mapping.values.get(field_name)),
                                          raw, options, scale=unit.scale if unit else 1.0,
                                          own_unit_wins=unit is not None and unit.source != "header",
                                          annualise=factor_of(survey.annual, field_name))[0]
                                 if field_name in names else pd.Series(np.nan, index=pd.RangeIndex(len(keep))))
        frame = pd.DataFrame(typed, index=pd.RangeIndex(len(keep)))
        try:
            mask, summary = where_mask(condition, frame, fields, options.lang, columns=columns, decimal=options.decimal,
                                       option="--where" if condition == options.where else "where")
        except KamrulesError as exc:
            survey.problems.append(str(exc))
            continue
        survey.wheres.append(summary)
        keep &= mask
    return keep


def _mapped_values(column: pa.Array, table: dict | None) -> pa.Array:
    """A column with the --columns value map applied (skip-row rows read as missing here)."""
    text = _as_text(column)
    if not table:
        return text
    lookup = {normalise_header(k): v for k, v in table.items()}
    return pa.array([("" if lookup.get(normalise_header(v), v) == SKIP_ROW else lookup.get(normalise_header(v), v))
                     if normalise_header(v) else v for v in text.to_pylist()], type=pa.string())


def _propose_values(survey: Survey, by_name: dict) -> None:
    """Value maps for the starter: unknown values of a category (not customers: skip-row; the rest read as
    missing, to be replaced by a pack value), and look-alike places joined into their commonest spelling."""
    for field_name, (_, found) in survey.unknown.items():
        table = survey.mapping.values.setdefault(field_name, {})
        for proposal in found:  # the likely value, '' when none is clear; skip-row only for rows without sales
            table.setdefault(proposal.value, proposal.target)
        survey.mapping.columns.setdefault(field_name, survey.unknown[field_name][0])
    for field_name, (header, groups) in survey.lookalikes.items():
        table = survey.mapping.values.setdefault(field_name, {})
        for group in groups:
            for value, _ in group.values[1:]:
                table.setdefault(value, group.target)
        survey.mapping.columns.setdefault(field_name, header)


# ----------------------------------------------------------------------------------------- console


def survey_lines(survey: Survey, fields: Sequence[FieldSpec], lang: str = "en") -> list[str]:
    """What `kamrules columns` prints: the file, how each field is found, then everything to decide."""
    by_name = {spec.name: spec for spec in fields}
    source = survey.source
    lines = [say(lang, "survey_file", name=survey.name, format=source["format"], rows=source["rows"],
                 encoding=f", {source['encoding']}" if source.get("encoding") else "",
                 sheet=f", {source['sheet']}" if source.get("sheet") else "")]
    lines += mapping_lines(survey.description, full=True, lang=lang)
    for problem in survey.problems:
        lines.append("  " + problem)
    for field_name, others in survey.alternatives.items():
        lines.append(say(lang, "survey_ambiguous", field=field_name, column=survey.mapping.columns[field_name],
                         others=say(lang, "sep").join(say(lang, "quote", text=o) for o in others)))
    for field_name, proposal in survey.proposed.items():
        key = "survey_required" if by_name[field_name].required else "survey_proposed"
        lines.append(say(lang, key, field=field_name, column=proposal_text(proposal, lang)))
    for field_name in survey.missing:
        lines.append(say(lang, "survey_missing", field=spec_ref(by_name[field_name], lang)))
    for field_name, (header, found) in survey.unknown.items():
        lines.append(say(lang, "survey_unknown", field=field_name, header=header, values=_proposed(found, lang),
                         allowed=", ".join(by_name[field_name].values)))
    for field_name, (header, groups) in survey.lookalikes.items():
        listed = say(lang, "lookalike_group_sep").join(_counted(list(g.values), lang) for g in groups[:10])
        lines.append(say(lang, "survey_lookalikes", field=field_name, header=header, values=listed))
    for doubt in survey.doubts:
        column = doubt.column if doubt.suspect == doubt.field else doubt.other_column
        lines.append(say(lang, "survey_doubt", column=column, field=doubt.suspect, other=doubt.other_column,
                         unit=doubt.unit or "?"))
    if survey.status is not None:
        header, keep, rest = survey.status
        lines.append(say(lang, "survey_status", header=header, others=_counted(rest, lang),
                         keep=", ".join(keep)))
    for field_name, (header, count) in survey.bad_cells.items():
        lines.append(say(lang, "survey_bad_cells", field=field_name, header=header, n=count))
    from kamrules.data.where import where_line

    lines += ["  " + where_line(summary, lang) for summary in survey.wheres]
    return lines


def _proposed(found: Sequence, lang: str) -> str:
    """"'民企' (47 rows; 5,800,000 of sales, 31.2%) → enterprise, 'Prospect' (2 rows; no sales) → skip-row"."""
    def one(p) -> str:
        rows = say(lang, "row_one" if len(p.rows) == 1 else "row_many", n=len(p.rows))
        carried = carried_text(p, lang)
        return say(lang, "survey_value", value=p.value, rows=rows + (say(lang, "carried_sep") + carried if carried
                                                                      else ""), target=p.target or "''")
    shown = say(lang, "sep").join(one(p) for p in found[:12])
    return shown + (say(lang, "more", n=len(found) - 12) if len(found) > 12 else "")


def _counted(counts: Sequence[tuple[str, int]], lang: str) -> str:
    shown = say(lang, "sep").join(say(lang, "lookalike_value", value=v, rows=say(lang, "row_one" if n == 1 else "row_many", n=n)) for v, n in counts[:12])
    return shown + (say(lang, "more", n=len(counts) - 12) if len(counts) > 12 else "")


# ------------------------------------------------------------------------------------- the starter


def starter_mapping(survey: Survey, fields: Sequence[FieldSpec], lang: str = "en", data_name: str = "",
                    out_name: str = "") -> str:
    """The starter `--columns` file: YAML, one commented entry per decision (proposed columns, units,
    value maps, rows to leave out), the fields found by their names as comments."""
    by_name = {spec.name: spec for spec in fields}
    mapping = survey.mapping
    out = [say(lang, "starter_head", name=Path(survey.name).name),
           say(lang, "starter_next", data=data_name or survey.name, file=out_name or "columns.yaml"),
           say(lang, "starter_syntax"), ""]
    layout = survey.description.get("layout") or {}
    out += ["# " + line.strip() for line in layout_lines(layout, survey.description["fields"], lang)]
    found = [r for r in survey.description["fields"] if r["field"] not in mapping.columns and r["field"] not in
             mapping.values and r["field"] not in mapping.units and r["field"] not in mapping.periods]
    if found:
        out.append(say(lang, "starter_found"))
        out += [f"{r['field']}: {_scalar(r['column'])}" for r in found]  # a map of comments only is empty
    out.append("")
    if mapping.where:
        if survey.status is not None:
            header, keep, rest = survey.status
            out.append(say(lang, "starter_where", header=header, others=_counted(rest, lang)))
        out.append(f"where: {_scalar(mapping.where)}")
        out.append("")
    for spec in fields:
        name = spec.name
        if name not in mapping.columns and name not in mapping.values and name not in mapping.units \
                and name not in mapping.periods:
            continue
        out += _entry_comments(survey, spec, lang)
        parts = {}
        if name in mapping.columns:
            parts["column"] = _scalar(mapping.columns[name])
        if name in mapping.units:
            parts["unit"] = _scalar(mapping.units[name])
        if name in mapping.periods:
            parts["period"] = _scalar(mapping.periods[name])
        if name in mapping.values:
            table = mapping.values[name]
            parts["values"] = "{" + ", ".join(f"{_scalar(k)}: {_scalar(v)}" for k, v in table.items()) + "}"
        if list(parts) == ["column"]:
            out.append(f"{name}: {parts['column']}")
        else:
            out.append(f"{name}: {{" + ", ".join(f"{k}: {v}" for k, v in parts.items()) + "}")
        out.append("")
    for name in survey.missing:
        out.append(say(lang, "starter_missing", field=spec_ref(by_name[name], lang)))
        out.append(f"# {name}: <column>")
        out.append("")
    for name, offered in survey.hints.items():
        out.append(say(lang, "starter_hint", field=name,
                       columns=say(lang, "sep").join(proposal_text(p, lang) for p in offered)))
        out.append(f"# {name}: {_scalar(offered[0].column)}")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def _entry_comments(survey: Survey, spec: FieldSpec, lang: str) -> list[str]:
    name = spec.name
    lines = []
    label = spec.label.get(lang) or spec.label.get("en") or name
    lines.append(f"# {name}: {label}")
    if name in survey.proposed:
        lines.append(say(lang, "starter_proposed", column=proposal_text(survey.proposed[name], lang)))
    if name in survey.alternatives:
        lines.append(say(lang, "starter_alternatives",
                         others=say(lang, "sep").join(say(lang, "quote", text=o) for o in survey.alternatives[name])))
    doubt = next((d for d in survey.doubts if d.suspect == name), None)
    if doubt is not None and name in survey.mapping.units:
        lines.append(say(lang, "starter_unit", unit=survey.mapping.units[name], other=doubt.other_column
                         if doubt.suspect == doubt.field else doubt.column))
    lines += ["# " + doubt_text(d, lang) for d in survey.period_doubts if d.field == name]
    if name in survey.unknown:
        lines.append(say(lang, "starter_values", allowed=", ".join(spec.values), skip=SKIP_ROW))
        lines += ["#" + say(lang, "value_reason", value=p.value, target=p.target or "''",
                             reason=proposal_reason(spec, p, lang))[1:] for p in survey.unknown[name][1]]
    if name in survey.lookalikes:
        lines.append(say(lang, "starter_lookalikes"))
    return lines


_PLAIN = re.compile(r"^[^\s'\"`{}\[\],:#&*!|>%@?-][^:#{}\[\],]*$")
_YAML_WORDS = {"true", "false", "yes", "no", "null", "on", "off", "y", "n", "~", ""}


def _scalar(text: str) -> str:
    """Text as a YAML flow scalar: plain when YAML reads it back as that same text, else single-quoted."""
    text = str(text)
    if _PLAIN.match(text) and text == text.strip() and text.casefold() not in _YAML_WORDS \
            and not re.fullmatch(r"[-+]?[\d._]+(?:[eE][-+]?\d+)?|\d{4}-\d\d-\d\d.*", text):
        return text
    return "'" + text.replace("'", "''") + "'"
