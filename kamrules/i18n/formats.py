"""Locale-aware formatting of numbers, money (万/亿 in Chinese), percentages, dates and yes/no."""

from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import pandas as pd

from kamrules.i18n.catalogues import MISSING


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def is_missing(value: Any) -> bool:
    """The one test of a missing value: None, NaN (any float), NaT (pandas or numpy) and pd.NA; never a
    list or a string. The language, the reader and the documents all use it."""
    if value is None:
        return True
    if isinstance(value, float):  # the common case first (np.float64 is a float too): it runs per cell
        return value != value
    if value is pd.NaT or value is pd.NA:
        return True
    if isinstance(value, np.floating):
        return bool(np.isnan(value))
    return isinstance(value, np.datetime64) and bool(np.isnat(value))


def _trim(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


_QUANTUM = {digits: Decimal(1).scaleb(-digits) for digits in range(10)}
_SCALE = {digits: 10 ** digits for digits in range(10)}


def fmt_number(value: Any, digits: int = 2, lang: str = "en") -> str:
    """1234567.891 → '1,234,567.89'; halves round up, as a person rounds (9876.5 → '9,877' with 0
    digits); trailing zeros dropped; missing → '—'."""
    if is_missing(value) or isinstance(value, bool) or not isinstance(value, (int, float)):
        return MISSING if is_missing(value) else str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    scaled = abs(value) * _SCALE[digits]
    if abs(scaled - math.floor(scaled) - 0.5) > 1e-6:  # not a half: the float formatting rounds right
        text = _trim(f"{value:,.{digits}f}")
    else:  # a half: round it up, on the decimal a person reads (1.005 → 1.01), not its binary value
        rounded = Decimal(repr(value)).quantize(_QUANTUM[digits], rounding=ROUND_HALF_UP)
        text = _trim(f"{rounded:,.{digits}f}")
    return "0" if text in ("-0", "") else text


def fmt_money(value: Any, lang: str = "en", wan: bool = True) -> str:
    """An amount: '520,000' (en); '52万', '1.35亿' (zh, from ten thousand up). `wan=False` keeps thousands
    separators in zh too: the documents use them, so that their amounts read like the ones the rules'
    reasons fill in ('520,000') — one number format per document."""
    if is_missing(value) or isinstance(value, bool) or not isinstance(value, (int, float)):
        return fmt_number(value, lang=lang)
    number = float(value)
    if wan and lang == "zh" and abs(number) >= 1e8:
        return fmt_number(number / 1e8, 2) + "亿"
    if wan and lang == "zh" and abs(number) >= 1e4:
        return fmt_number(number / 1e4, 2) + "万"
    return fmt_number(number, 0 if abs(number) >= 1000 else 2)


def fmt_pct(value: Any, digits: int = 1, lang: str = "en") -> str:
    """A share 0–1 as a percentage: 0.3264 → '32.6%'."""
    if is_missing(value) or isinstance(value, bool) or not isinstance(value, (int, float)):
        return fmt_number(value, lang=lang)
    return fmt_number(round(float(value) * 100, digits), digits) + "%"


def fmt_date(value: Any, lang: str = "en") -> str:
    """'27 Nov 2026' (en), '2026年11月27日' (zh); independent of the machine's locale."""
    if is_missing(value):
        return MISSING
    if hasattr(value, "date") and callable(value.date):  # datetime, pandas Timestamp
        value = value.date()
    if not isinstance(value, dt.date):
        return str(value)
    if lang == "zh":
        return f"{value.year}年{value.month}月{value.day}日"
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"


def fmt_bool(value: Any, lang: str = "en") -> str:
    if is_missing(value):
        return MISSING
    if lang == "zh":
        return "是" if value else "否"
    return "yes" if value else "no"
