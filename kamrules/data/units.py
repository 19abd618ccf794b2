"""Units of a column: in its header (年销售额(万元), 钱包份额(%)), in the `--columns` file
(`sales_prev: {column: 上期销售额, unit: 万元}`), or stated by the report's title (金额单位：万元).

A header's unit lets the column match its field by the name before the brackets, and a money or
percent unit scales the plain numbers below it (120 under 万元 is 1,200,000; 35 under % is 0.35).
Units that do not change the value (a score) only help the match; years under a field counted in months
are months ×12. `decide_units` says, per field, which unit applies and where it comes from."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Sequence

_HEADER_UNIT = re.compile(r"^(?P<stem>[^()（）\[\]【】]*?)\s*[(（\[【]\s*(?P<unit>[^()（）\[\]【】]{1,10}?)\s*[)）\]】]\s*$")

SCALES = {  # unit (case-folded) -> factor to the field's own unit (money in yuan/dollars, shares 0–1)
    "元": 1, "人民币": 1, "人民币元": 1, "rmb": 1, "cny": 1, "usd": 1, "eur": 1, "¥": 1, "￥": 1, "$": 1,
    "千元": 1e3, "k": 1e3, "万": 1e4, "万元": 1e4, "十万元": 1e5, "百万": 1e6, "百万元": 1e6, "m": 1e6,
    "千万元": 1e7, "亿": 1e8, "亿元": 1e8, "%": 0.01, "％": 0.01,
}
NEUTRAL = frozenset({
    "月", "个月", "天", "日", "次", "个", "分", "年", "months", "month", "days", "day", "times", "score",
    "1-5", "1–5", "0-10", "0–10",
})
# Units of time, and what a field counted in months or days makes of them (年 under 合同月数 is ×12).
TIME_UNITS = {
    "年": ("months", 12), "years": ("months", 12), "year": ("months", 12), "yrs": ("months", 12), "yr": ("months", 12),
    "月": ("months", 1), "个月": ("months", 1), "months": ("months", 1), "month": ("months", 1),
    "天": ("days", 1), "日": ("days", 1), "days": ("days", 1), "day": ("days", 1),
    "周": ("days", 7), "weeks": ("days", 7), "week": ("days", 7),
}


def header_unit(header: str) -> tuple[str, str | None]:
    """(the header without its unit, the unit) when the header ends in a known unit in brackets;
    (header, None) otherwise. The pattern has no nested quantifiers: linear in the header's length."""
    match = _HEADER_UNIT.match(str(header)[:200])
    if not match:
        return str(header), None
    unit = match["unit"].strip().casefold()
    if unit not in SCALES and unit not in NEUTRAL:
        return str(header), None
    return match["stem"], unit


def unit_fits(field_type: str, unit: str) -> bool:
    """A scaling unit only fits a number field; a neutral one fits numbers and integers."""
    if unit in NEUTRAL:
        return field_type in ("number", "integer")
    return field_type == "number"


def unit_scale(header: str, field_type: str) -> float:
    """The factor the plain numbers under `header` are multiplied by for a field of `field_type` (1 when
    the header names no scaling unit)."""
    _, unit = header_unit(header)
    if unit is None or field_type != "number":
        return 1.0
    return float(SCALES.get(unit, 1))


# Words that make a number field an amount of money, and words that make it something else (a share,
# a rate, a count of days). Checked on the field's name and labels.
_MONEY = re.compile(r"sales|revenue|profit|amount|spend|income|turnover|销售|毛利|利润|金额|收入|营收|额", re.IGNORECASE)
_NOT_MONEY = re.compile(r"share|rate|ratio|percent|days|months|count|score|份额|率|比例|天数|月数|次数|评分", re.IGNORECASE)


def is_money(spec) -> bool:
    """Whether a field holds an amount of money (sales, gross profit): a number field whose name or
    labels say so, and no share, rate or count."""
    if spec.type != "number" or (spec.range and spec.range[1] is not None and spec.range[1] <= 1):
        return False
    names = [spec.name, *spec.label.values()]
    return any(_MONEY.search(n) for n in names) and not any(_NOT_MONEY.search(n) for n in names)


def time_base(spec) -> str | None:
    """"months" or "days" for a number or integer field counted in them (by its name and labels)."""
    if spec.type not in ("number", "integer"):
        return None
    names = " ".join([spec.name, *spec.label.values()]).casefold()
    if "month" in names or "月" in names:
        return "months"
    if "day" in names or "天" in names:
        return "days"
    return None


def unit_factor(spec, unit: str) -> float | None:
    """The factor a value in `unit` is multiplied by for `spec`; None when the unit does not fit it."""
    key = str(unit).strip().casefold()
    if key in SCALES and spec.type == "number":
        return float(SCALES[key])
    if spec.type in ("number", "integer") and re.fullmatch(r"\d+(?:\.\d+)?(?:e[+-]?\d+)?", key):
        return float(key) if float(key) > 0 else None  # `scale:` of the --columns file
    if key in TIME_UNITS and TIME_UNITS[key][0] == time_base(spec):
        return float(TIME_UNITS[key][1])
    return None


def fitting_units(spec) -> list[str]:
    """The units a `--columns` entry may give this field."""
    base = time_base(spec)
    found = [u for u in ("元", "千元", "万元", "百万元", "亿元", "k", "M", "%") if spec.type == "number"]
    return found + [u for u, (b, _) in TIME_UNITS.items() if b == base and u in ("年", "years", "月", "months",
                                                                               "天", "days", "周", "weeks")]


@dataclass(frozen=True)
class FieldUnit:
    """The unit a field's column is read in: as written, its factor, and where it was said: `header`
    (销售额(万元)), `--columns` (unit: 万元) or `title` (a title row's 金额单位：万元)."""

    unit: str
    scale: float
    source: str


def decide_units(fields: Sequence, headers: Sequence[str], matched: Mapping[str, int],
                 mapped: Mapping[str, str] | None = None, title: tuple | None = None) -> dict[str, FieldUnit]:
    """Per matched field, the unit its values are in, when one is said: the --columns file first, then
    the header, then (money fields whose header says nothing) the unit a title states."""
    mapped = mapped or {}
    units: dict[str, FieldUnit] = {}
    for spec in fields:
        if spec.name not in matched:
            continue
        header = headers[matched[spec.name]]
        _, unit = header_unit(header)
        if spec.name in mapped and unit_factor(spec, mapped[spec.name]) is not None:
            units[spec.name] = FieldUnit(mapped[spec.name], unit_factor(spec, mapped[spec.name]), "--columns")
        elif unit is not None and (unit in SCALES and spec.type == "number" or unit_factor(spec, unit) not in (None, 1.0)):
            units[spec.name] = FieldUnit(unit, unit_factor(spec, unit) or 1.0, "header")
        elif title and is_money(spec) and (unit is None or unit not in SCALES):
            units[spec.name] = FieldUnit(title[0], float(SCALES[title[0].casefold()]), "title")
    return units


OWN_UNIT = "[万亿%％]"  # a cell that carries its own unit cannot also take the header's
