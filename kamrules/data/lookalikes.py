"""Values that name the same place in different words: `CA` and `California`, `TX` and `Texas`, 北京 and
北京市, 华东 and 华东区, 广东 and 广东省. Concentration is measured per value of the region, so each spelling
would count as a region of its own; the reader warns with the values, their rows and the `--columns`
value map that joins them (into the commonest spelling), and never joins them by itself."""

from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import Iterable

from kamrules.pack.fields import normalise_header

US_STATES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California", "CO": "Colorado",
    "CT": "Connecticut", "DE": "Delaware", "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho",
    "IL": "Illinois", "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York", "NC": "North Carolina",
    "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon", "PA": "Pennsylvania",
    "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota", "TN": "Tennessee", "TX": "Texas",
    "UT": "Utah", "VT": "Vermont", "VA": "Virginia", "WA": "Washington", "WV": "West Virginia",
    "WI": "Wisconsin", "WY": "Wyoming", "DC": "District-of-Columbia", "PR": "Puerto Rico",
    # Canadian provinces and territories
    "AB": "Alberta", "BC": "British Columbia", "MB": "Manitoba", "NB": "New Brunswick",
    "NL": "Newfoundland-and-Labrador", "NS": "Nova Scotia", "ON": "Ontario", "PE": "Prince-Edward-Island",
    "QC": "Quebec", "SK": "Saskatchewan", "NT": "Northwest Territories", "NU": "Nunavut", "YT": "Yukon",
}
# (names compared ignoring case, spaces and punctuation: "Prince-Edward-Island" is "Prince Edward Island")
_STATE_KEYS = {normalise_header(name): code.casefold() for code, name in US_STATES.items()}
# Chinese administrative suffixes, longest first: 新疆维吾尔自治区 is 新疆, 北京市 北京, 华东区 华东.
_ZH_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "地区", "大区", "片区", "省", "市", "区")
_EN_SUFFIXES = ("region", "province", "state", "area", "territory")


def place_key(value: str) -> str:
    """What a place name comes to once its spelling is set aside: case, spaces, an administrative suffix
    (省, 市, 区, 自治区, "Region") and a US state or Canadian province written out or abbreviated."""
    text = unicodedata.normalize("NFKC", str(value)).strip()
    key = normalise_header(text)
    if key in _STATE_KEYS:
        return _STATE_KEYS[key]
    for suffix in _ZH_SUFFIXES:
        if key.endswith(suffix) and len(key) - len(suffix) >= 2:
            return key[: -len(suffix)]
    for suffix in _EN_SUFFIXES:
        if key.endswith(suffix) and len(key) - len(suffix) >= 2:
            return key[: -len(suffix)]
    return key


@dataclass(frozen=True)
class LookAlikes:
    """Spellings of one place, commonest first, each with how many rows have it; `target` is the one the
    value map joins the others into."""

    values: tuple  # ((value, rows), …)

    @property
    def target(self) -> str:
        return self.values[0][0]


def lookalike_groups(values: Iterable = (), counts: dict | None = None) -> list[LookAlikes]:
    """The groups of two or more distinct values (trimmed) that name the same place, in order of their
    commonest value's rows (then alphabetically). `counts` (value -> rows) may be given instead of the values."""
    if counts is None:
        counts = Counter(str(v).strip() for v in values if v is not None and str(v).strip())
    else:
        merged: Counter = Counter()
        for value, rows in counts.items():
            if value is not None and str(value).strip():
                merged[str(value).strip()] += int(rows)
        counts = merged
    by_key: dict[str, list[tuple[str, int]]] = {}
    for value, rows in counts.items():
        by_key.setdefault(place_key(value), []).append((value, rows))
    groups = []
    for spellings in by_key.values():
        if len(spellings) > 1:
            spellings.sort(key=lambda item: (-item[1], len(item[0]), item[0]))
            groups.append(LookAlikes(tuple(spellings)))
    groups.sort(key=lambda g: (-g.values[0][1], g.values[0][0]))
    return groups


def value_map_line(field_name: str, header: str, groups: list[LookAlikes], yaml_key) -> str:
    """The --columns line that joins each group into its commonest spelling."""
    entries = ", ".join(f"{yaml_key(value)}: {yaml_key(group.target)}" for group in groups
                        for value, _ in group.values[1:])
    return f"{field_name}: {{column: {yaml_key(header)}, values: {{{entries}}}}}"


def lookalike_message(name: str, field_text: str, field_name: str, header: str, counts: dict,
                      lang: str = "en") -> str | None:
    """The warning for a column whose values spell one place several ways (None when none do): the
    values with their rows (`counts`: value -> rows) and the value map that joins them."""
    from kamrules.data.values import _yaml_key
    from kamrules.data.wording import say

    groups = lookalike_groups(counts=counts)
    if not groups:
        return None
    listed = say(lang, "lookalike_group_sep").join(
        say(lang, "sep").join(say(lang, "lookalike_value", value=value, rows=say(lang, "row_one" if rows == 1 else "row_many", n=rows)) for value, rows in group.values)
        for group in groups[:10])
    more = say(lang, "more", n=len(groups) - 10) if len(groups) > 10 else ""
    return say(lang, "lookalike_places", name=name, header=header, field=field_text, listed=listed + more,
               line=value_map_line(field_name, header, groups, _yaml_key))
