"""Matching the file's columns to the pack's fields (by name, label or alias, or a `--columns`
mapping file), never guessing: ambiguity and a missing required field are errors that say how to fix them."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Mapping, Sequence

from kamrules.data.doubts import reference_field
from kamrules.data.meaning import closest, proposals
from kamrules.data.periods import PERIODS, YearElapsed, doubt_text
from kamrules.data.units import header_unit, unit_fits, unit_scale
from kamrules.data.where import where_line
from kamrules.data.wording import hint, joined, quoted, say, spec_named, spec_ref
from kamrules.errors import ConfigError, DataError
from kamrules.pack.fields import FieldSpec, normalise_header


SKIP_ROW = "skip-row"  # a value mapped to this leaves its row out of the run

# Headers so generic that they name a field only when no more specific column does: a file with both
# 'Account Name' and 'Name' (a contact's, say) reads the account name from 'Account Name', one with
# '客户名称' and '客户' from '客户名称'; alone, 'Name' or '客户' is the account name.
GENERIC_HEADERS = frozenset(normalise_header(h) for h in (
    "Name", "Account", "Company", "Customer", "Client", "名称", "客户", "公司", "单位"))


def load_column_mapping(path: Path, lang: str = "en") -> dict[str, str]:
    """The columns of a `--columns` file (field -> header); see `load_mapping`."""
    return load_mapping(path, lang)[0]


def load_mapping(path: Path, lang: str = "en") -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Load a `--columns` file: (field -> column header, field -> {value in the file: value for the pack}).

    Each line is `field: Source Column`, or `field: {column: Source Column, values: {Prospect: skip-row,
    Technology Partner: partner}, unit: 万元}` (`column` optional). Raises `ConfigError` when malformed.
    `load_mapping_file` gives the units and the row filter too."""
    mapping = load_mapping_file(path, lang)
    return mapping.columns, mapping.values


@dataclass
class ColumnMapping:
    """A `--columns` file: which column each field reads, value maps, units, and rows to leave out."""

    columns: dict = field(default_factory=dict)  # field -> column header
    values: dict = field(default_factory=dict)  # field -> {value in the file: pack value, '' or skip-row}
    units: dict = field(default_factory=dict)  # field -> unit its column is in (万元, k, 年 …)
    where: str | None = None  # `where:` a condition rows must meet (as --where)
    where_loc: str = ""  # where that condition is written, for messages
    periods: dict = field(default_factory=dict)  # field -> year_to_date: the column holds the year so far


WHERE_KEY = "where"  # the top-level key of a --columns file that holds its row filter


def load_mapping_file(path: Path, lang: str = "en") -> ColumnMapping:
    """Load a `--columns` file with everything it may say (see `load_mapping`, and `where:` at the top
    level: a condition, as --where, that rows must meet). Raises `ConfigError` when malformed."""
    document, name = _mapping_document(Path(path), lang)
    mapping = ColumnMapping()
    columns, values, units = mapping.columns, mapping.values, mapping.units
    problems: list[str] = []
    for key, value in document.items():
        key_loc = document.key_loc(key) if hasattr(document, "key_loc") else name
        value_loc = document.value_loc(key) if hasattr(document, "value_loc") else name
        if not isinstance(key, str):
            problems.append(say(lang, "map_not_field", where=key_loc, key=key))
            continue
        if key == WHERE_KEY:
            if not isinstance(value, str) or not value.strip():
                problems.append(say(lang, "map_where_type", where=value_loc))
            else:
                mapping.where, mapping.where_loc = value, str(value_loc)
            continue
        if isinstance(value, dict):
            _field_entry(key, value, value_loc, columns, values, problems, lang, units, mapping.periods)
            continue
        if value is None or isinstance(value, (bool, list)):
            found = (say(lang, "found_nothing") if value is None else say(lang, "found_list")
                     if isinstance(value, list) else say(lang, "quote", text=value))
            problems.append(say(lang, "map_expected_header", where=value_loc, field=key, found=found))
            continue
        columns[key] = _text(value)
    if problems:
        raise ConfigError("\n".join(problems))
    return mapping


def _mapping_document(path: Path, lang: str = "en"):
    from kamrules.pack.yamlsrc import load_yaml

    name = str(path)
    if path.is_dir():
        raise ConfigError(say(lang, "map_folder", name=name))
    if not path.exists():
        raise ConfigError(say(lang, "map_no_file", name=name))
    document, diagnostics = load_yaml(path)
    errors = [d for d in diagnostics if d.severity == "error"]
    if errors:
        raise ConfigError("\n".join(str(d) for d in errors))
    if document is None:
        raise ConfigError(say(lang, "map_empty", name=name))
    if not isinstance(document, dict):
        raise ConfigError(say(lang, "map_not_mapping", where=getattr(document, "loc", name)))
    return document, name


def _text(value) -> str:
    return value.isoformat() if isinstance(value, (date, datetime)) else str(value)


def _field_entry(key: str, entry: dict, where: str, columns: dict, values: dict, problems: list,
                 lang: str = "en", units: dict | None = None, periods: dict | None = None) -> None:
    """One `field: {column: ..., values: {...}, unit: ..., period: year_to_date}` entry of a mapping file."""
    unknown = [k for k in entry if k not in ("column", "values", "unit", "scale", "period")]
    if unknown:
        problems.append(say(lang, "map_unknown_key", where=where, field=key, key=unknown[0],
                            hint=hint(lang, str(unknown[0]), ["column", "values", "unit", "scale", "period"])))
        return
    period = entry.get("period")
    if period is not None:
        if not isinstance(period, str) or period.strip() not in PERIODS:
            problems.append(say(lang, "map_period_type", where=where, field=key, periods=", ".join(PERIODS)))
            return
        if periods is not None:
            periods[key] = period.strip()
    unit, scale = entry.get("unit"), entry.get("scale")
    if unit is not None:
        if isinstance(unit, (bool, dict, list)) or not str(unit).strip() or scale is not None:
            problems.append(say(lang, "map_unit_type", where=where, field=key))
            return
        if units is not None:
            units[key] = str(unit).strip()
    if scale is not None:  # a factor instead of a unit: scale: 10000 is unit: 万元
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 0 < scale < float("inf"):
            problems.append(say(lang, "map_scale_type", where=where, field=key))
            return
        if units is not None:
            units[key] = f"{scale:g}"
    column, table = entry.get("column"), entry.get("values")
    if column is not None:
        if isinstance(column, (bool, dict, list)):
            problems.append(say(lang, "map_column_type", where=where, field=key))
            return
        columns[key] = _text(column)
    if table is not None:
        if not isinstance(table, dict) or any(isinstance(v, (dict, list)) or v is None for v in table.values()):
            problems.append(say(lang, "map_values_type", where=where, field=key, skip=SKIP_ROW))
            return
        values[key] = {_text(k): _text(v) for k, v in table.items()}


# --------------------------------------------------------------------------------------------------
# Options, file checks and format


def _quoted(items: Sequence[str], limit: int = 30, lang: str = "en") -> str:
    return quoted(lang, items, limit)


def _match_columns(
    name: str, headers: list[str], fields: Sequence[FieldSpec], mapping: Mapping[str, str], lang: str = "en",
    columns: Sequence | None = None, year: int | None = None,
) -> dict[str, int]:
    """field name -> column index. Ambiguity is an error, never a guess. `year`: the run's as-of year (which
    of two year-named columns is this year's, in the proposals)."""
    plan = match_plan(headers, fields, mapping, lang, columns, year)
    problems = plan.problems
    if problems:
        if len(problems) == 1:
            raise DataError(say(lang, "one_problem", name=name, problem=problems[0]))
        raise DataError(say(lang, "many_problems", name=name, n=len(problems), problems="\n  ".join(problems)))
    return plan.matched


@dataclass
class Matching:
    """How the file's columns meet the pack's fields, before anything is refused: the fields matched
    (field -> column index), the problems (as messages), the fields several columns answer
    (field -> indexes), the columns several fields answer (index -> fields), the required fields not found."""

    matched: dict
    problems: list
    ambiguous: dict
    shared: dict
    missing: list


def match_plan(headers: list[str], fields: Sequence[FieldSpec], mapping: Mapping[str, str], lang: str = "en",
               columns: Sequence | None = None, year: int | None = None) -> Matching:
    """`_match_columns` without refusing: what matched and what is wrong (`kamrules columns` shows both)."""
    normalised = [normalise_header(h) for h in headers]
    problems: list[str] = []
    matched = _mapped_columns(headers, normalised, mapping, problems, lang)
    claimed = set(matched.values())
    candidates: dict[str, list[int]] = {}
    for spec in fields:
        if spec.name in mapping:
            continue
        keys = {normalise_header(h) for h in spec.header_names()} - {""}
        found = [i for i, n in enumerate(normalised) if i not in claimed and n in keys]
        if not found:  # "所在省份" is "省份": only when no header matches as it is
            found = [i for i, n in enumerate(normalised) if i not in claimed and _unprefixed(n) in keys]
        if not found:  # "年销售额(万元)" is "年销售额" in 万元 (data/units.py)
            found = [i for i, h in enumerate(headers) if i not in claimed and _unit_stem_matches(h, spec, keys)]
        specific = [i for i in found if normalised[i] not in GENERIC_HEADERS]
        candidates[spec.name] = specific if specific else found  # 'Account Name' before 'Name'
    fields_of_column: dict[int, list[str]] = {}
    for field_name, found in candidates.items():
        for index in found:
            fields_of_column.setdefault(index, []).append(field_name)
    by_name = {spec.name: spec for spec in fields}

    def ref(field_name: str) -> str:  # 'sales' in English, 「销售额」(sales) in Chinese
        return spec_named(by_name[field_name], lang)

    reported_columns = set()
    shared, ambiguous, missing = {}, {}, []
    for index in sorted(fields_of_column):
        names = fields_of_column[index]
        if len(names) > 1:
            reported_columns.add(index)
            shared[index] = list(names)
            problems.append(say(lang, "column_many_fields", header=headers[index],
                                listed=joined(lang, [ref(n) for n in names]), name=names[0]))
    for field_name, found in candidates.items():
        if len(found) > 1:
            ambiguous[field_name] = list(found)
            listed = joined(lang, [say(lang, "quote", text=headers[i]) for i in found])
            problems.append(say(lang, "field_many_columns", field=ref(field_name), listed=listed, name=field_name,
                                header=headers[found[0]]))
        elif len(found) == 1:
            if found[0] not in reported_columns:
                matched[field_name] = found[0]
        elif by_name[field_name].required:
            missing.append(field_name)
            problems.append(_not_found(field_name, by_name[field_name], headers, normalised, lang, ref(field_name),
                                       fields, columns, year))
    return Matching(matched, problems, ambiguous, shared, missing)


def _closest_headers(spec: FieldSpec, headers: list[str], candidates: list[int], limit: int = 3,
                     columns: Sequence | None = None) -> list[str]:
    """The headers among `candidates` (column indexes) closest to any name the field answers to, best
    first, of the field's kind and type (data/meaning.py); the customer's own revenue is never offered."""
    return closest(spec, headers, list(columns) if columns is not None else [None] * len(headers), candidates, limit)


def _is_sales(spec: FieldSpec) -> bool:
    """Whether the field means our sales to the customer (its name or English label says so)."""
    names = {normalise_header(spec.name), normalise_header(spec.label.get("en", ""))}
    return "sales" in names or any(n.startswith("sales") and "prev" not in n for n in names if n)


# Chinese CRMs often prefix a header with "the ... it is in / belongs to" (所在省份, 所属行业, 所属客户经理):
# the rest is the name the pack knows.
_CHINESE_PREFIXES = ("所在", "所属")


def proposal_text(proposal, lang: str = "en") -> str:
    """A column offered for a field, with why when it is not just a close name: "'Total Revenue'
    (lifetime revenue: every closed deal, not one period)"."""
    text = say(lang, "quote", text=proposal.column)
    return text if proposal.note == "close" else text + say(lang, "note_" + proposal.note, year=proposal.year)


def _unit_stem_matches(header: str, spec: FieldSpec, keys: set) -> bool:
    stem, unit = header_unit(header)
    if unit is None or not unit_fits(spec.type, unit):
        return False
    key = normalise_header(stem)
    return bool(key) and (key in keys or _unprefixed(key) in keys)


def _unprefixed(normalised: str) -> str | None:
    for prefix in _CHINESE_PREFIXES:
        if normalised.startswith(prefix) and len(normalised) > len(prefix):
            return normalised[len(prefix):]
    return None


def _mapped_columns(headers: list[str], normalised: list[str], mapping: Mapping[str, str],
                    problems: list[str], lang: str = "en") -> dict[str, int]:
    """The columns the --columns file names (exactly, else ignoring case and punctuation)."""
    matched: dict[str, int] = {}
    for field_name, wanted in mapping.items():
        exact = [i for i, h in enumerate(headers) if h == wanted]
        loose = [i for i, n in enumerate(normalised) if n and n == normalise_header(wanted)]
        found = exact or loose
        if len(found) == 1:
            matched[field_name] = found[0]
        elif not found:
            problems.append(say(lang, "mapped_missing", field=field_name, wanted=wanted,
                                headers=_quoted(headers, lang=lang)))
        else:
            problems.append(say(lang, "mapped_twice", field=field_name, wanted=wanted,
                                listed=_quoted([headers[i] for i in found], lang=lang)))
    return matched


def _not_found(field_name: str, spec: FieldSpec, headers: list[str], normalised: list[str], lang: str = "en",
               field_text: str | None = None, fields: Sequence[FieldSpec] = (), columns: Sequence | None = None,
               year: int | None = None) -> str:
    looked_for = say(lang, "sep").join(spec.header_names())
    offered = proposals(spec, reference_field(fields or [spec]), headers,
                        list(columns) if columns is not None else [None] * len(headers), list(range(len(headers))),
                        year=year)
    closest = (say(lang, "closest", headers=say(lang, "sep").join(proposal_text(p, lang) for p in offered))
               if offered else "")
    sales_hint = say(lang, "sales_hint") if _is_sales(spec) else ""
    return say(lang, "not_found", field=field_text or f"'{field_name}'", looked=looked_for,
               headers=_quoted(headers, lang=lang), closest=closest, name=field_name, hint=sales_hint)


def describe_mapping(
    headers: list[str], fields: Sequence[FieldSpec], matched: Mapping[str, int], mapping: Mapping[str, str],
    units: Mapping | None = None, columns: Sequence | None = None, year: int | None = None,
    annual: Mapping[str, YearElapsed] | None = None,
) -> dict:
    """How each field found its column, for the console and the run manifest (JSON-ready, in input order):
    `fields` [{field, column, by: --columns|name|label|alias}, with `scale`, `unit` and `unit_from`
    (header, title, --columns) when its values are read in another unit], `near_misses` [{field, column}]
    for fields left without a column whose name is close to an unused header, `absent` fields,
    `unused_columns`. Sales fields (the sales field and those named after it: sales_prev,
    sales_prev_period) carry `read_as`, their label, so the console says which period each column is."""
    reference = reference_field(fields)
    read_as = {spec.name for spec in fields if reference is not None and spec.type == "number"
               and spec.name.startswith(reference.name)}
    if len(read_as & set(matched)) < 2:
        read_as = set()  # one sales column: no period to tell apart
    found = []
    for field_name in sorted(matched, key=lambda f: matched[f]):
        spec = next(s for s in fields if s.name == field_name)
        header = headers[matched[field_name]]
        entry = {"field": field_name, "column": header, "by": _matched_by(spec, header, field_name in mapping)}
        if spec.name in read_as:
            entry["read_as"] = dict(spec.label) or {"en": spec.name}  # which period a sales column means
        unit = (units or {}).get(field_name)
        if unit is None and units is None and unit_scale(header, spec.type) != 1:
            entry["scale"] = unit_scale(header, spec.type)  # 万元: ×10,000 (data/units.py)
        elif unit is not None:
            if unit.scale != 1:
                entry["scale"] = unit.scale
            if unit.source != "header":
                entry["unit"], entry["unit_from"] = unit.unit, unit.source
        if (annual or {}).get(field_name) is not None:  # `period: year_to_date`: annualised
            elapsed = annual[field_name]
            entry["annualised"] = {"as_of": elapsed.as_of.isoformat(), "elapsed_days": elapsed.elapsed,
                                   "year_days": elapsed.days, "factor": round(elapsed.factor, 6)}
        found.append(entry)
    used = set(matched.values())
    unused = [i for i in range(len(headers)) if i not in used]
    near, absent = [], []
    cells = list(columns) if columns is not None else [None] * len(headers)
    for spec in fields:
        if spec.name in matched:
            continue
        absent.append(spec.name)
        offered = proposals(spec, reference, headers, cells, unused, limit=1, year=year)
        if offered:
            near.append({"field": spec.name, "column": offered[0].column,
                         **({"note": offered[0].note} if offered[0].note != "close" else {}),
                         **({"year": offered[0].year} if offered[0].year else {})})
    return {"fields": found, "near_misses": near, "absent": absent,
            "unused_columns": [headers[i] for i in unused]}


def _matched_by(spec: FieldSpec, header: str, mapped: bool) -> str:
    if mapped:
        return "--columns"
    stem, unit = header_unit(header)
    if unit is not None and normalise_header(stem) and normalise_header(header) not in {
            normalise_header(h) for h in spec.header_names()}:
        return f"{_matched_by(spec, stem, False)}, unit {unit}"
    key = normalise_header(header)
    if key == normalise_header(spec.name):
        return "name"
    if any(key == normalise_header(label) for label in spec.label.values()):
        return "label"
    keys = {normalise_header(h) for h in spec.header_names()}
    return "alias" if key in keys else "alias without 所在/所属"


def mapping_lines(description: Mapping, full: bool = True, lang: str = "en") -> list[str]:
    """The column mapping as a compact console table in the user's language: one line per matched field,
    then near misses (with the --columns line that would use them), and with `full`, absent fields and
    unused columns."""
    from kamrules.i18n import CONSOLE

    words = CONSOLE.get(lang, CONSOLE["en"])
    by_words = dict(pair.split("=", 1) for pair in words["by"].split("|"))
    rows = [r for r in description["fields"] if r["by"] != "name" or r.get("annualised")]
    same = [r["field"] for r in description["fields"] if r["by"] == "name" and not r.get("annualised")]
    width = max((len(r["field"]) for r in rows), default=0)
    lines = [words["columns"].format(n=len(description["fields"]))]
    if same:
        lines.append(words["by_own_name"].format(n=len(same), names=", ".join(same)))
    lines += layout_lines(description.get("layout") or {}, description["fields"], lang)
    for r in rows:
        how = ", ".join(_by_text(part, by_words) for part in r["by"].split(", "))
        if r.get("unit_from"):
            how += say(lang, "unit_from_" + ("title" if r["unit_from"] == "title" else "columns"), unit=r["unit"])
        scaled = words["scaled"].format(scale=f"{r['scale']:g}") if "scale" in r else ""
        if r.get("annualised"):
            a = r["annualised"]
            scaled += say(lang, "annualised", factor=f"{a['factor']:.3f}", elapsed=a["elapsed_days"],
                          days=a["year_days"], as_of=a["as_of"])
        note = _period_note(description, r["field"], lang)
        lines.append(f"  {r['field']:<{width}} ← {r['column']}  ({how}{scaled}){note}")
    periods = [r for r in description["fields"] if r.get("read_as")]
    if periods:
        lines.append(say(lang, "read_as", listed=say(lang, "read_as_sep").join(
            say(lang, "read_as_one", field=r["field"], column=r["column"],
                label=r["read_as"].get(lang) or r["read_as"].get("en") or r["field"]) for r in periods)))
    lines += ["  " + doubt_text(d, lang) for d in description.get("doubts", []) if d["doubt"] == "year_to_date"]
    for miss in description["near_misses"]:
        note = say(lang, "note_" + miss["note"], year=miss.get("year")) if miss.get("note", "close") != "close" else ""
        lines.append(words["near_miss"].format(field=miss["field"], column=miss["column"]) + note)
    others = [f for f in description["absent"] if f not in {m["field"] for m in description["near_misses"]}]
    if others and full:
        lines.append(words["not_in_file"].format(n=len(others), names=", ".join(others)))
    for skip in description.get("skipped", []):
        rows = say(lang, "row_one" if skip["rows"] == 1 else "row_many", n=skip["rows"])
        lines.append(words["skipped"].format(rows=rows, field=skip["field"], value=skip["value"]))
    if description.get("where_columns_file"):
        lines.append("  " + where_line(description["where_columns_file"], lang))
    if description.get("where"):
        lines.append("  " + where_line(description["where"], lang))
    if description["unused_columns"] and full:
        lines.append(words["unused"].format(n=len(description["unused_columns"]),
                                            names=_quoted(description["unused_columns"], limit=12, lang=lang)))
    return lines


def _period_note(description: Mapping, field_name: str, lang: str) -> str:
    """" (lifetime revenue, not one period's — …)" after the column read as sales, when it is one."""
    doubt = next((d for d in description.get("doubts", []) if d["field"] == field_name
                  and d["doubt"] in ("lifetime", "one_deal")), None)
    return say(lang, "read_" + doubt["doubt"]) if doubt else ""


def layout_lines(layout: Mapping, fields: Sequence[Mapping], lang: str = "en") -> list[str]:
    """The rows of the file that are not the table (title rows, a footer) and the unit a title states,
    as console lines: every row left out is said."""
    lines = []
    if layout.get("above"):
        blank = say(lang, "layout_blank", n=layout["blank_above"]) if layout.get("blank_above") else ""
        lines.append(say(lang, "layout_above", header=layout["header_row"], n=len(layout["above"]),
                         rows=_rows_with_text(layout["above"], lang) + blank))
    if layout.get("footer"):
        blank = say(lang, "layout_blank", n=layout["footer_blank"]) if layout.get("footer_blank") else ""
        lines.append(say(lang, "layout_footer", n=len(layout["footer"]),
                         rows=_rows_with_text(layout["footer"], lang) + blank))
    unit = layout.get("title_unit")
    if unit:
        applied = [f"{r['field']} ({r['column']})" for r in fields if r.get("unit_from") == "title"]
        if applied:
            lines.append(say(lang, "title_unit_applied", unit=unit["unit"], fields=", ".join(applied)))
        else:
            lines.append(say(lang, "title_unit_unused", unit=unit["unit"]))
    return lines


def _rows_with_text(rows: Sequence[Mapping], lang: str) -> str:
    """"row 1 '2026年第四季度…', row 43 'Confidential Information'" (the first five, then how many more)."""
    shown = say(lang, "sep").join(say(lang, "row_with_text", row=r["row"], text=r["text"]) for r in rows[:5])
    return shown + (say(lang, "more", n=len(rows) - 5) if len(rows) > 5 else "")


def doubts_message(name: str, doubts: Sequence, fields: Sequence[FieldSpec], units: Mapping,
                   lang: str = "en") -> str:
    """The read stops: money columns disagree about their unit (data/doubts.py). Names both columns,
    how far apart they are, the likely unit and the --columns lines that settle it."""
    by_name = {spec.name: spec for spec in fields}
    lines = []
    for doubt in doubts:
        names = dict(column=doubt.column, field=spec_ref(by_name[doubt.field], lang), other_column=doubt.other_column,
                     other=spec_ref(by_name[doubt.other], lang))
        if doubt.margin:
            what = say(lang, "doubt_margin", margin=f"{doubt.ratio:.0%}", **names)
        else:
            what = say(lang, "doubt_smaller" if doubt.ratio < 1 else "doubt_larger", times=_times(doubt.ratio), **names)
        suspect_column = doubt.column if doubt.suspect == doubt.field else doubt.other_column
        if doubt.unit:
            likely = say(lang, "doubt_likely", column=suspect_column, unit=doubt.unit)
            line = f"{doubt.suspect}: {{column: {_yaml_text(suspect_column)}, unit: {doubt.unit}}}"
        else:
            likely = say(lang, "doubt_unknown", column=suspect_column)
            line = f"{doubt.suspect}: {{column: {_yaml_text(suspect_column)}, unit: <unit>}}"
        lines.append(say(lang, "doubt_line", what=what, likely=likely, line=line))
    return say(lang, "doubts", name=name, n=len(doubts)) + "\n  " + "\n  ".join(lines)


def _times(ratio: float) -> str:
    """How many times apart two medians are, to one significant digit: 10,000, 40,000."""
    factor = 1 / ratio if 0 < ratio < 1 else ratio
    return f"{float(f'{factor:.1g}'):,.0f}"


def _yaml_text(text: str) -> str:
    """A header as a YAML flow value: quoted when YAML would read it otherwise."""
    plain = text and not any(c in text for c in ":{}[],#&*!|>'\"%@`") and text.strip() == text
    return text if plain else "'" + text.replace("'", "''") + "'"


def _by_text(part: str, by_words: dict) -> str:
    """How a column was matched, in the user's words ("unit 万元" keeps its unit)."""
    if part.startswith("unit "):
        return f"{by_words['unit']} {part[5:]}"
    return by_words.get(part, part)


# --------------------------------------------------------------------------------------------------
# Converting one column to its field type
