"""Units in column headers: Chinese exports put the unit in the header, as in 年销售额(万元) or
钱包份额(%). A header's unit lets the column match its field by the name before the brackets, and a
money or percent unit scales the plain numbers below it (120 under 万元 is 1,200,000; 35 under % is
0.35). Units that do not change the value (months, days, a score) only help the match."""

from __future__ import annotations

import re

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


OWN_UNIT = "[万亿%％]"  # a cell that carries its own unit cannot also take the header's
