"""Money columns that disagree about their unit: 本期销售额(万元) read ×10,000 beside 上期销售额 and 毛利
read as they are gives every account growth ×10⁴ and a margin near 0%, with no word. Before anything
is decided, the money fields are compared with the file's sales: medians per account off by a power of
ten (10³ or more), or gross profit above sales for most accounts, stop the read with the columns, the
likely unit and the `--columns` line that settles it."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from kamrules.data.units import SCALES, FieldUnit, is_money

MIN_PAIRS = 3  # accounts with both values needed before two columns are compared
OFF_BY = 10 ** 2.5  # medians further apart than this are not the same unit (the smallest step, 千, is 10³)
PART_TYPICAL = 0.25  # a typical gross margin, the ratio a profit column aims at
_PART = re.compile(r"profit|margin|毛利|利润", re.IGNORECASE)
_UNITS_ZH = ((1e3, "千元"), (1e4, "万元"), (1e6, "百万元"), (1e8, "亿元"))
_UNITS_EN = ((1e3, "k"), (1e6, "M"))


@dataclass(frozen=True)
class UnitDoubt:
    """Two money columns whose values disagree: `field`'s column against the sales column (`other`).
    `ratio` is the median of field ÷ other per account; `suspect` the field whose column is likely in
    `unit` (None when no common unit fits); `margin` when profit is above sales for most accounts."""

    field: str
    column: str
    other: str
    other_column: str
    ratio: float
    suspect: str
    unit: str | None
    margin: bool = False

    def as_dict(self) -> dict:
        return {"field": self.field, "column": self.column, "other": self.other, "other_column": self.other_column,
                "ratio": self.ratio, "suspect": self.suspect, "unit": self.unit, "margin": self.margin}


def reference_field(fields: Sequence) -> object | None:
    """The money field the others are compared with: the required one (sales), else the first."""
    money = [spec for spec in fields if is_money(spec)]
    return next((spec for spec in money if spec.required), money[0] if money else None)


def unit_doubts(fields: Sequence, data: Mapping[str, pd.Series], headers: Mapping[str, str],
                units: Mapping[str, FieldUnit], chinese: bool = False) -> list[UnitDoubt]:
    """The money fields whose values disagree with the sales field's (see the module's docstring).
    `headers`: field -> column; `units`: the unit each field was read in; a unit from the --columns file
    settles a pair (the user said it). `chinese`: name likely units as 万元 rather than k/M."""
    reference = reference_field(fields)
    if reference is None or reference.name not in data:
        return []
    base = pd.to_numeric(data[reference.name], errors="coerce").to_numpy(dtype="float64")
    doubts = []
    for spec in fields:
        if spec is reference or not is_money(spec) or spec.name not in data:
            continue
        if _said(units, spec.name) or _said(units, reference.name):
            continue
        values = pd.to_numeric(data[spec.name], errors="coerce").to_numpy(dtype="float64")
        both = np.isfinite(values) & np.isfinite(base) & (values != 0) & (base != 0)
        if both.sum() < MIN_PAIRS:
            continue
        ratio = float(np.median(np.abs(values[both]) / np.abs(base[both])))
        part = bool(_PART.search(" ".join([spec.name, *spec.label.values()])))
        margin = part and ratio > 1.5
        if not margin and 1 / OFF_BY <= ratio <= OFF_BY:
            continue
        aim = PART_TYPICAL if part else 1.0
        doubts.append(_doubt(spec, reference, headers, units, ratio, aim, margin, chinese))
    return doubts


def _said(units: Mapping[str, FieldUnit], name: str) -> bool:
    unit = units.get(name)
    return unit is not None and unit.source == "--columns"


def _doubt(spec, reference, headers, units, ratio: float, aim: float, margin: bool, chinese: bool) -> UnitDoubt:
    """Which column is likely off, and its likely unit: the smaller values are in the bigger unit."""
    if ratio < aim:  # the field's values are too small: its column is in a bigger unit
        suspect, factor = spec.name, aim / ratio
    else:  # the field's values are too big: the sales column is in a bigger unit
        suspect, factor = reference.name, ratio / aim
    current = units.get(suspect)
    scale = (current.scale if current else 1.0) * factor
    return UnitDoubt(spec.name, headers[spec.name], reference.name, headers[reference.name], ratio, suspect,
                     _likely_unit(scale, units, chinese), margin)


def _likely_unit(scale: float, units: Mapping[str, FieldUnit], chinese: bool) -> str | None:
    """The common unit nearest `scale` (within a decade), preferring one the file already uses."""
    if scale <= 1:
        return None
    for unit in units.values():  # 本期销售额(万元) beside 上期销售额: likely 万元 too
        if unit.scale > 1 and abs(math.log10(unit.scale) - math.log10(scale)) <= 1:
            return unit.unit
    table = _UNITS_ZH if chinese else _UNITS_EN
    best = min(table, key=lambda item: abs(math.log10(item[0]) - math.log10(scale)))
    return best[1] if abs(math.log10(best[0]) - math.log10(scale)) <= 1 else None


def known_unit(unit: str) -> bool:
    return str(unit).casefold() in SCALES
