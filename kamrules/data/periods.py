"""Which stretch of time the sales column covers, when the run should doubt it, and a year to date
annualised.

A CRM's revenue columns do not all cover one period: HubSpot's `Total Revenue` is every closed deal
ever (lifetime), `Recent Deal Amount` one deal, and Salesforce's `Closed Won Amount (This FY)` the
fiscal year so far, beside a full `(Last FY)`: compared as they are, growth is understated by the part
of the year still to come. The run says so (`PeriodDoubt`: the console line of the sales column, the
manifest's `columns.doubts`, the report's data notes); `period: year_to_date` in the `--columns` file
annualises the column (×365/elapsed days at --as-of, the year taken from 1 January)."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import Mapping, Sequence

from kamrules.data.doubts import reference_field
from kamrules.data.meaning import field_period, header_year, revenue_of
from kamrules.data.units import is_money
from kamrules.data.wording import say

YEAR_TO_DATE = "year_to_date"
PERIODS = (YEAR_TO_DATE,)  # what `period:` of a --columns entry may say

# How surely a header names the year so far: it says so (YTD), it names this (fiscal) year (Salesforce's
# "This FY": a fiscal year in progress), or it names the year of --as-of (2026, 本年, 今年).
_IS_YTD = re.compile(r"\bytd\b|year\s*to\s*date|年初至今|本年累计|年度累计|累计至今", re.IGNORECASE)
_THIS_FY = re.compile(r"this\s*(?:fiscal\s*)?(?:year|fy)\b|current\s*(?:fiscal\s*)?(?:year|fy)\b|\b(?:cfy|tfy)\b|本财年|"
                      r"本会计年度", re.IGNORECASE)
_THIS_YEAR = re.compile(r"本年|今年")


@dataclass(frozen=True)
class YearElapsed:
    """How much of the year of `as_of` has passed: `elapsed` of `days` days (1 January to as_of, both in)."""

    as_of: dt.date
    elapsed: int
    days: int

    @property
    def fraction(self) -> float:
        return self.elapsed / self.days

    @property
    def factor(self) -> float:
        """What a year-to-date amount is multiplied by to stand for the whole year."""
        return self.days / self.elapsed


def year_elapsed(as_of: dt.date) -> YearElapsed:
    days = 366 if calendar.isleap(as_of.year) else 365
    return YearElapsed(as_of, (as_of - dt.date(as_of.year, 1, 1)).days + 1, days)


@dataclass(frozen=True)
class PeriodDoubt:
    """A doubt about the period a sales column covers: `kind` lifetime, one_deal or year_to_date (`strength`
    is, likely or may; beside `other_column`, read as `other_field` a year earlier; `elapsed` of the year at
    --as-of, None when the run has no date)."""

    field: str
    column: str
    kind: str
    strength: str = ""
    other_field: str = ""
    other_column: str = ""
    elapsed: YearElapsed | None = None

    def as_dict(self) -> dict:
        """JSON-ready, for the manifest's `columns.doubts` (and the report, which words it)."""
        found = {"field": self.field, "column": self.column, "doubt": self.kind}
        if self.kind == YEAR_TO_DATE:
            found.update(strength=self.strength, other_field=self.other_field, other_column=self.other_column)
            if self.elapsed is not None:
                found.update(as_of=self.elapsed.as_of.isoformat(), elapsed_days=self.elapsed.elapsed,
                             year_days=self.elapsed.days)
        return found


def period_doubts(fields: Sequence, headers: Mapping[str, str], as_of: dt.date | None = None,
                  periods: Mapping[str, str] | None = None) -> list[PeriodDoubt]:
    """The doubts about the sales column read (`headers`: field -> the column it reads): lifetime revenue
    or one deal instead of one period's sales; a year to date compared with a full year earlier (unless
    the --columns file says `period: year_to_date`, which annualises it)."""
    reference = reference_field(fields)
    if reference is None or reference.name not in headers:
        return []
    header = headers[reference.name]
    period = revenue_of(header).period
    if period in ("lifetime", "one_deal"):
        return [PeriodDoubt(reference.name, header, period)]
    earlier = next((spec for spec in fields if spec.name in headers and spec is not reference
                    and field_period(spec, reference) == "year_earlier"), None)
    if earlier is None or (periods or {}).get(reference.name) == YEAR_TO_DATE:
        return []
    strength = _ytd_strength(header, as_of)
    elapsed = year_elapsed(as_of) if as_of is not None else None
    if not strength or (elapsed is not None and elapsed.elapsed >= elapsed.days):
        return []
    return [PeriodDoubt(reference.name, header, YEAR_TO_DATE, strength, earlier.name, headers[earlier.name], elapsed)]


def _ytd_strength(header: str, as_of: dt.date | None) -> str:
    if _IS_YTD.search(header):
        return "is"
    if _THIS_FY.search(header):
        return "likely"
    named = header_year(header)
    if as_of is not None and (_THIS_YEAR.search(header) or (named is not None and named[0] == as_of.year)):
        return "may"
    return ""


def annualised(fields: Sequence, matched: Mapping[str, object], periods: Mapping[str, str] | None,
               as_of: dt.date | None) -> dict[str, YearElapsed]:
    """The fields the --columns file says are a year to date (`period: year_to_date`), with how much of
    the year has passed at `as_of` (today when the run has no date)."""
    day = as_of or dt.date.today()
    return {spec.name: year_elapsed(day) for spec in fields
            if spec.name in matched and (periods or {}).get(spec.name) == YEAR_TO_DATE}


def factor_of(annual: Mapping[str, YearElapsed] | None, field_name: str) -> float:
    """What a field's values are multiplied by to stand for a whole year (1 unless `period: year_to_date`)."""
    found = (annual or {}).get(field_name)
    return found.factor if found is not None else 1.0


def fits_period(spec) -> bool:
    """`period: year_to_date` is for amounts of money (sales, gross profit), not counts or shares."""
    return is_money(spec)


def doubt_text(doubt: Mapping | PeriodDoubt, lang: str = "en") -> str:
    """A doubt in words (the console line after the column mapping, the report's data notes)."""
    from kamrules.i18n.formats import fmt_pct

    d = doubt.as_dict() if isinstance(doubt, PeriodDoubt) else dict(doubt)
    if d["doubt"] != YEAR_TO_DATE:
        return say(lang, f"doubt_{d['doubt']}_note", column=d["column"], field=d["field"])
    line = f"{d['field']}: {{column: {_flow(d['column'])}, period: {YEAR_TO_DATE}}}"
    what = say(lang, f"ytd_{d['strength']}", column=d["column"], field=d["field"])
    if d.get("elapsed_days"):
        elapsed, days = int(d["elapsed_days"]), int(d["year_days"])
        when = say(lang, "ytd_elapsed", as_of=d["as_of"], year=d["as_of"][:4], elapsed=elapsed, days=days,
                   share=fmt_pct(elapsed / days, lang=lang))
        effect = say(lang, "ytd_effect", other=d["other_column"], other_field=d["other_field"],
                     drop=fmt_pct(1 - elapsed / days, lang=lang))
        fix = say(lang, "ytd_fix", factor=f"{days / elapsed:.3f}", line=line)
    else:
        when, effect = "", say(lang, "ytd_effect_unknown", other=d["other_column"], other_field=d["other_field"])
        fix = say(lang, "ytd_fix_unknown", line=line)
    return what + when + effect + fix


def _flow(text: str) -> str:
    """A header as a YAML flow value: quoted when YAML would read it otherwise."""
    plain = text and not any(c in text for c in ":{}[],#&*!|>'\"%@`") and text.strip() == text
    return text if plain else "'" + text.replace("'", "''") + "'"
