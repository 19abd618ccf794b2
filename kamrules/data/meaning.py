"""What a column means, from its header and its values, so that a field left without a column is offered
only columns of the same kind and type: never `contract_months` → "Country/Region" (a place, in words),
never a count of complaints for a complaint's age (days), never a CRM's "Annual Revenue" (the customer's
own revenue) for our sales.

Revenue columns of CRMs say whose revenue and which period: Salesforce's "Closed Won Amount (This
Fiscal Year)" is our sales this year and "… (Last Fiscal Year)" a year earlier; HubSpot's "Total
Revenue" is every closed deal ever (lifetime, not a period), "Recent Deal Amount" one deal. `Revenue`
describes them; `proposals` offers them to the pack's sales fields by period, with that note."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Sequence

import pyarrow as pa

from kamrules.data.cells import FALSE_WORDS, MISSING_WORDS, TRUE_WORDS
from kamrules.data.dates import parse_date
from kamrules.data.numbers import parse_number
from kamrules.data.units import header_unit, is_money, time_base
from kamrules.pack.fields import FieldSpec, normalise_header

SAMPLE = 200  # non-empty cells looked at to tell a column's type
FITS = 0.8  # share of them that must read as the field's type

# Kinds of thing a field or a column holds. Regular expressions on the header (case-folded).
_KIND_WORDS = (
    ("share", r"share|percent|%|rate\b|ratio|份额|占比|比例|比率|率$"),
    ("days", r"\bdays?\b|\bage\b|天数|天$|账龄|逾期"),
    ("months", r"\bmonths?\b|月数|个月"),
    ("date", r"date|\bon\b$|\bat\b$|time$|日期|时间|^last activity$"),
    ("count", r"\bcount\b|number of|\bnum\b|#|\bno\. of|数量|次数|个数|数$"),
    ("money", r"amount|revenue|sales|value|price|profit|spend|turnover|\bgp\b|金额|销售|收入|营收|毛利|利润|额"),
    ("place", r"region|state|province|territory|country|city|district|area|zone|区域|省|市|地区|大区|国家|城市"),
    ("person", r"owner|manager|\brep\b|salesperson|contact|负责人|经理|业务员|销售代表|跟进人|联系人"),
    ("id", r"\bid\b|identifier|number$|\bno\b|code|编码|编号|代码|号$"),
    ("name", r"name|名称|全称"),
    ("flag", r"^is\b|^has\b|flag|是否"),
)
_KIND_PATTERNS = tuple((kind, re.compile(pattern, re.IGNORECASE)) for kind, pattern in _KIND_WORDS)
_CREATED = re.compile(r"creat|创建|建档|first", re.IGNORECASE)  # when a record began, never a "last …" date
# a count of purchases or orders: offered only for a field that speaks of orders or purchases itself (never
# 'open_complaints' for 'purchases', whose letters 'Open Cases' resembles)
_ORDER_WORDS = re.compile(r"purchase|order|transaction|购买|采购|订单|下单|订货", re.IGNORECASE)


def header_kind(header: str) -> str | None:
    """The kind of thing a header names (money, date, days, months, count, share, place, person, id,
    name, flag), None when its words say nothing."""
    stem, unit = header_unit(header)
    if unit is not None:
        if time_base_of_unit(unit):
            return time_base_of_unit(unit)
        if unit in ("%", "％"):
            return "share"
        return "money" if unit not in ("次", "个", "分", "score", "times") else "count"
    text = " ".join(str(header).replace("_", " ").split())
    for kind, pattern in _KIND_PATTERNS:
        if pattern.search(text):
            return kind
    return None


def time_base_of_unit(unit: str) -> str | None:
    from kamrules.data.units import TIME_UNITS

    found = TIME_UNITS.get(unit)
    return found[0] if found else None


def field_kind(spec: FieldSpec) -> str | None:
    """The kind of thing a field holds, from its type and its names (see header_kind)."""
    if spec.type == "date":
        return "date"
    if spec.type == "boolean":
        return "flag"
    if spec.type in ("number", "integer"):
        if is_money(spec):
            return "money"
        if time_base(spec):
            return time_base(spec)
        if spec.range and spec.range[1] is not None and spec.range[1] <= 1:
            return "share"
        if spec.range and spec.range[1] is not None and spec.range[0] is not None:
            return "score"
        return "count" if spec.type == "integer" else None
    if spec.type == "category":
        return "category"
    kinds = [header_kind(name) for name in (spec.name, *spec.label.values())]
    return next((k for k in kinds if k in ("place", "person", "id", "name")), "text")


_COMPATIBLE = {
    "text": {None, "name", "place", "person", "category", "text"},
    "category": {None, "category", "text", "name"},
    "score": {None, "score", "count", "share"},
}


def kinds_fit(field: str | None, column: str | None) -> bool:
    """Whether a column of kind `column` can hold a field of kind `field` (unknown fits anything but a
    kind that is clearly another)."""
    if field is None or column is None:
        return True
    if field in _COMPATIBLE:
        return column in _COMPATIBLE[field]
    return field == column


def values_fit(spec: FieldSpec, column: pa.Array | None) -> bool:
    """Whether most of a column's first non-empty cells read as the field's type (a text field takes
    anything but a column of plain numbers or dates, unless it is an id)."""
    if column is None:
        return True
    cells = _sample(column)
    if not cells:
        return True
    if spec.type in ("number", "integer"):
        return _share(cells, lambda c: parse_number(c)[0] is not None) >= FITS
    if spec.type == "date":
        return _share(cells, lambda c: parse_date(c, excel_serials=True)[0] is not None) >= FITS
    if spec.type == "boolean":
        return _share(cells, lambda c: c.casefold() in TRUE_WORDS | FALSE_WORDS) >= FITS
    if field_kind(spec) in ("id",):
        return True
    numbers = _share(cells, lambda c: parse_number(c)[0] is not None)
    return numbers < FITS


def _sample(column: pa.Array) -> list[str]:
    cells = []
    for value in column.slice(0, SAMPLE * 5).to_pylist():
        text = "" if value is None else str(value).strip()
        if text and text.casefold() not in MISSING_WORDS:
            cells.append(text)
            if len(cells) >= SAMPLE:
                break
    return cells


def _share(cells: list[str], test) -> float:
    return sum(1 for c in cells if test(c)) / len(cells)


def fits(spec: FieldSpec, header: str, column: pa.Array | None) -> bool:
    """Whether a column may be offered for a field: same kind, values of its type, and never a
    record's creation date for a 'last …' date."""
    if not kinds_fit(field_kind(spec), header_kind(header)):
        return False
    if spec.type == "date" and "last" in spec.name and _CREATED.search(str(header)):
        return False
    if _ORDER_WORDS.search(str(header)) and field_kind(spec) != "money" and not any(
            _ORDER_WORDS.search(str(name)) for name in (spec.name, *spec.label.values(), *spec.header_names())):
        return False
    if is_money(spec) and revenue_of(header).whose == "customer":
        return False
    return values_fit(spec, column)


# ------------------------------------------------------------------------------------- revenue columns

@dataclass(frozen=True)
class Revenue:
    """Whose revenue a money header names (ours, the customer's, or unknown) and for which period:
    current, year_earlier, previous_period, lifetime, one_deal, or None when it does not say."""

    whose: str | None
    period: str | None


_OURS = re.compile(r"won|closed|deal|opportunit|booked|invoic|billed|order|purchase|sales|our\b|成交|赢单|签约|开票|订单|销售",
                   re.IGNORECASE)
_CUSTOMERS = re.compile(r"annual\s*revenue|company\s*revenue|customer\s*revenue|年营业额|营业额|营业收入|年营收|年收入|企业营收|"
                        r"公司营收|营收规模|注册资本", re.IGNORECASE)
_PERIODS = (
    ("previous_period", re.compile(r"(?:last|previous|prior)\s*(?:period|quarter|month|qtr)|\b(?:lq|pq)\b|上期|上季度|上月|环比",
                                   re.IGNORECASE)),
    ("year_earlier", re.compile(r"(?:last|previous|prior)\s*(?:fiscal\s*)?(?:year|fy)|\b(?:ly|py|lfy|pfy)\b|去年|上年|"
                                r"上一年|同期|同比", re.IGNORECASE)),
    ("current", re.compile(r"this\s*(?:fiscal\s*)?(?:year|fy|quarter|period|month)|current\s*(?:fiscal\s*)?"
                           r"(?:year|fy|period|quarter)|\bytd\b|year\s*to\s*date|\b(?:cy|cfy|tfy)\b|本期|本年|今年|当期|本季度|本月",
                           re.IGNORECASE)),
    ("one_deal", re.compile(r"recent\s*deal|last\s*deal|latest\s*deal|最近一笔|最近成交", re.IGNORECASE)),
    ("lifetime", re.compile(r"total\s*revenue|total\s*deal|lifetime|\bltv\b|all\s*time|累计|历史", re.IGNORECASE)),
)


def revenue_of(header: str) -> Revenue:
    """What a money header says about whose revenue and which period (see Revenue)."""
    text = " ".join(str(header).replace("_", " ").split())
    if _CUSTOMERS.search(text):
        return Revenue("customer", None)
    period = next((name for name, pattern in _PERIODS if pattern.search(text)), None)
    whose = "ours" if _OURS.search(text) or period in ("lifetime", "one_deal") or re.search(
        r"total\s*revenue", text, re.IGNORECASE) else None
    return Revenue(whose, period)


def field_period(spec: FieldSpec, reference: FieldSpec | None) -> str | None:
    """Which period a sales field means: current (the sales field itself), year_earlier, previous_period."""
    if reference is None or not spec.name.startswith(reference.name) or spec.type != "number":
        return None
    if spec is reference or spec.name == reference.name:
        return "current"
    names = " ".join([spec.name, *spec.label.values()])
    if re.search(r"period|环比|上期", names, re.IGNORECASE):
        return "previous_period"
    if re.search(r"prev|year|prior|同期|去年|上年", names, re.IGNORECASE):
        return "year_earlier"
    return None


# A year in a header: "Net Sales FY2026", "Revenue 2025", "2026年销售额", "FY26 Sales".
_YEAR = re.compile(r"(?:\bFY\s*'?\s*)?(?<!\d)((?:19|20)\d\d)(?!\d)(?:\s*(?:年度|财年|年))?|\bFY\s*'?(\d\d)\b",
                   re.IGNORECASE)


@dataclass(frozen=True)
class YearColumn:
    """A money column named by a year, beside another that differs from it only by the year: the later
    (`current`: sales this year) or the one a year before it (`year_earlier`); `other`: the other's index."""

    year: int
    period: str
    other: int


def header_year(header: str) -> tuple[int, str] | None:
    """(the year a header names, the header without it, normalised) when it names exactly one year."""
    found = list(_YEAR.finditer(str(header)))
    if len(found) != 1:
        return None
    match = found[0]
    year = int(match.group(1)) if match.group(1) else 2000 + int(match.group(2))
    stem = normalise_header(str(header)[:match.start()] + " " + str(header)[match.end():])
    return (year, stem) if stem else None


def year_columns(headers: Sequence[str], year: int | None = None) -> dict[int, YearColumn]:
    """Money columns that differ only by a year (`Net Sales FY2026` and `Net Sales FY2025`, `2026年销售额`
    and `2025年销售额`): the later — the run's as-of `year` when one of them names it, else the larger year —
    is sales this year, the one a year before it sales a year earlier. Never the customer's own revenue."""
    groups: dict[str, dict[int, int]] = {}
    for index, header in enumerate(headers):
        named = header_year(header)
        if named is None or header_kind(header) != "money" or revenue_of(header).whose == "customer":
            continue
        groups.setdefault(named[1], {}).setdefault(named[0], index)
    found: dict[int, YearColumn] = {}
    for years in groups.values():
        later = year if year in years else max(years)
        if later - 1 in years:
            found[years[later]] = YearColumn(later, "current", years[later - 1])
            found[years[later - 1]] = YearColumn(later - 1, "year_earlier", years[later])
    return found


@dataclass(frozen=True)
class Proposal:
    """A column offered for a field, and why: `note` is current, year_earlier, previous_period,
    lifetime, one_deal or unknown_period (a revenue column's period), year_later or year_before (one of two
    columns that differ only by the year, `year`), or close (a similar name)."""

    field: str
    column: str
    note: str
    year: int | None = None


def proposals(spec: FieldSpec, reference: FieldSpec | None, headers: Sequence[str],
              columns: Sequence[pa.Array | None], candidates: Sequence[int], limit: int = 3,
              year: int | None = None) -> list[Proposal]:
    """Columns among `candidates` (indexes) to offer for a field, best first: revenue columns of the
    field's period (lifetime, one deal and unknown periods for the current sales only, with that note;
    of two columns that differ only by a year, the later for the current sales and the one a year
    before for a year earlier — `year`: the run's as-of year), then columns with a close name that fit
    its kind and type. Never the customer's own revenue."""
    found: list[Proposal] = []
    period = field_period(spec, reference)
    if period is not None:
        ranked = []
        years = year_columns(headers, year)
        for index in candidates:
            revenue = revenue_of(headers[index])
            named = years.get(index)
            if named is not None and values_fit(spec, columns[index]):
                if named.period == period:
                    ranked.append((0, index, "year_later" if period == "current" else "year_before", named.year))
                continue
            if revenue.whose != "ours" or header_kind(headers[index]) != "money" or not values_fit(spec, columns[index]):
                continue
            if revenue.period == period:
                ranked.append((0, index, period, None))
            elif period == "current" and revenue.period in ("lifetime", "one_deal", None):
                ranked.append((1 + ("lifetime", "one_deal", None).index(revenue.period), index,
                               revenue.period or "unknown_period", None))
        found += [Proposal(spec.name, headers[i], note, named) for _, i, note, named in sorted(ranked)]
    taken = {p.column for p in found}
    for header in closest(spec, headers, columns, candidates):
        if header not in taken:
            found.append(Proposal(spec.name, header, "close"))
    if not found and spec.required and field_kind(spec) == "id":  # no id column: a name that is unique
        found += [Proposal(spec.name, headers[i], "unique") for i in candidates
                  if header_kind(headers[i]) == "name" and unique_values(columns[i])][:1]
    return found[:limit]


def unique_values(column: pa.Array | None) -> bool:
    """Whether every cell of a column holds a value and no two hold the same (trimmed)."""
    if column is None:
        return False
    cells = [("" if v is None else str(v).strip()) for v in column.to_pylist()]
    return bool(cells) and all(cells) and len(set(cells)) == len(cells)


def closest(spec: FieldSpec, headers: Sequence[str], columns: Sequence[pa.Array | None],
            candidates: Sequence[int], limit: int = 3) -> list[str]:
    """The headers among `candidates` closest to a name the field answers to (similarity 0.6 or more),
    best first, of the field's kind and type; blank headers and the customer's own revenue never."""
    keys = [k for k in (normalise_header(h) for h in spec.header_names()) if k]
    scored: dict[int, float] = {}
    for index in candidates:
        header = normalise_header(headers[index])
        if not header or _blank_header(headers[index]) or revenue_of(headers[index]).whose == "customer":
            continue
        best = max((difflib.SequenceMatcher(None, key, header).ratio() for key in keys), default=0.0)
        if best >= 0.6 and fits(spec, headers[index], columns[index] if index < len(columns) else None):
            scored[index] = best
    ranked = sorted(scored, key=lambda index: (-scored[index], index))
    return [headers[index] for index in ranked[:limit]]


def _blank_header(header: str) -> bool:
    """A header the reader made up for a blank one: "(column C)" / "（C 列）"."""
    return bool(re.fullmatch(r"\(column [A-Z]+\)|（[A-Z]+ 列）", str(header)))
