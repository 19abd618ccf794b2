"""The report's profile section (`block profile` in report.html.j2): the key-account profile of
kamrules.results.profile, formatted for one language, with bar widths for small inline SVG charts."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from typing import Mapping

from kamrules.documents.review import needed_fields
from kamrules.i18n import UI, fmt_money, fmt_number, fmt_pct
from kamrules.results.profile import Profile, ValueRow, profile_of
from kamrules.results.profile_text import value_text

BARS = 8  # leading attribute values charted
LISTED = 10  # look-alikes listed


@dataclass(frozen=True)
class ProfileBar:
    """One attribute value: its share among key accounts and in the base, as bars of 0–100 units."""

    label: str
    key_share: str
    base_share: str
    key_width: float
    base_width: float
    lift: str  # "×3.2 (1.9–4.5)"
    counts: str  # "12/20 · 20/100"
    sales_share: str


@dataclass(frozen=True)
class LookAlikeView:
    account_id: str
    name: str
    reasons: str
    growth_room: str  # "" when the share of wallet is unknown
    link: str | None


@dataclass(frozen=True)
class CompletenessView:
    field: str
    text: str  # "NPS score missing for 5 of 34 key accounts"
    key_missing: int
    key_total: int
    potential_missing: int
    potential_total: int
    width: float  # share of key accounts missing it, 0–100


@dataclass(frozen=True)
class ProfileView:
    intro: str
    bars: tuple[ProfileBar, ...]
    ranking: tuple[str, ...]  # "Industry (1.10)", strongest first
    lookalikes: tuple[LookAlikeView, ...]
    lookalikes_note: str
    completeness: tuple[CompletenessView, ...]
    absent: str  # declared attributes the data lacks, "" when none
    circular: str = ""  # the attributes the tier decision reads (marked ◆ in the ranking), "" when none


def _bar(pack, row: ValueRow, profile: Profile, lang: str) -> ProfileBar:
    return ProfileBar(
        label=value_text(pack, row, lang), key_share=fmt_pct(row.key_share, lang=lang),
        base_share=fmt_pct(row.base_share, lang=lang), key_width=round(row.key_share * 100, 2),
        base_width=round(row.base_share * 100, 2),
        lift=f"×{fmt_number(row.lift, 2)} ({fmt_number(row.lift_low, 2)}–{fmt_number(row.lift_high, 2)})",
        counts=f"{row.key}/{profile.key_total} · {row.base}/{profile.accounts}",
        sales_share=fmt_pct(row.sales_share, lang=lang))


def profile_view(evaluation, lang: str, links: Mapping[str, str] | None = None, profile=None) -> ProfileView | None:
    """The section's content, or None when the pack declares no attributes or has no tier. `profile`: one
    already computed for the run (its look-alikes are cut to the LISTED shown here), else it is computed."""
    if profile is None:
        profile = profile_of(evaluation, needed=needed_fields(evaluation.pack), lookalike_count=LISTED)
    if profile is None:
        return None
    pack, t, links = evaluation.pack, UI[lang], links or {}
    intro = t["profile_intro"] % (profile.key_total, profile.accounts, fmt_pct(profile.key_rate, lang=lang),
                                  profile.min_accounts)
    lookalikes = tuple(LookAlikeView(
        a.account_id, str(a.account_name) if a.account_name not in (None, "") else a.account_id,
        t["comma"].join(f"{value_text(pack, r, lang)} (×{fmt_number(r.lift, 2)})" for r in a.reasons),
        fmt_money(a.growth_room, lang, wan=False) if a.growth_room is not None else "",
        urllib.parse.quote(links[a.account_id]) if a.account_id in links else None)
        for a in profile.lookalikes[:LISTED])
    more = profile.lookalike_total > len(lookalikes)
    completeness = tuple(CompletenessView(
        pack.name_label(c.field, lang), t["profile_missing_of"] % (pack.name_label(c.field, lang), c.key_missing,
                                                                    c.key_total),
        c.key_missing, c.key_total, c.potential_missing, c.potential_total,
        round(100 * c.key_missing / c.key_total, 2) if c.key_total else 0.0)
        for c in profile.completeness if c.key_missing or c.potential_missing)
    return ProfileView(
        intro=intro, bars=tuple(_bar(pack, r, profile, lang) for r in profile.leading[:BARS]),
        ranking=tuple(f"{pack.name_label(a.attribute, lang)}"
                      f"{' ' + t['profile_circular_mark'] if a.attribute in profile.circular else ''}"
                      f" ({fmt_number(a.strength, 2)})" for a in profile.ranking),
        lookalikes=lookalikes,
        lookalikes_note=t["profile_lookalikes_more"] % (len(lookalikes), profile.lookalike_total) if more else "",
        completeness=completeness,
        absent=t["profile_absent"] % ", ".join(profile.missing_attributes) if profile.missing_attributes else "",
        circular=t["profile_circular"] % t["comma"].join(pack.name_label(n, lang) for n in profile.circular)
        if profile.circular else "")
