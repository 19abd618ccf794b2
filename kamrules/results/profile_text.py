"""`kamrules profile` on the console: the leading attribute values, the attribute ranking, the look-alike
accounts and record completeness, in one language."""

from __future__ import annotations

import re

from kamrules.i18n import PROFILE, fmt_bool, fmt_money, fmt_number, fmt_pct
from kamrules.pack import RulePack
from kamrules.results.profile import Profile, ValueRow

LEADING_SHOWN = 10


_BAND_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def value_text(pack: RulePack, row: ValueRow, lang: str) -> str:
    """"Industry = Electronics" with the pack's labels; a band's bounds written as every other number
    of the document ("≥2,000,000", not the band code "≥2000000" kept in profile.csv)."""
    spec = pack.fields.get(row.attribute)
    if row.order >= 0:
        value = _BAND_NUMBER.sub(lambda m: fmt_number(float(m.group())), row.value)
    elif spec is not None and spec.type == "boolean":
        value = fmt_bool(row.value == "true", lang)
    else:
        value = pack.label(row.attribute, row.value, lang)
    return f"{pack.name_label(row.attribute, lang)} = {value}"


def lift_text(row: ValueRow) -> str:
    return f"×{fmt_number(row.lift, 2)} ({fmt_number(row.lift_low, 2)}–{fmt_number(row.lift_high, 2)})"


def render_profile(profile: Profile | None, pack: RulePack, lang: str = "en") -> str:
    """The whole profile as plain text lines (ends with a newline)."""
    t = PROFILE[lang]
    if profile is None:
        return t["profile_off"] + "\n"
    lines = [t["profile"], "",
             t["profile_intro"] % (profile.key_total, profile.accounts, fmt_pct(profile.key_rate, lang=lang),
                                   profile.min_accounts)]
    if profile.missing_attributes:
        lines.append(t["profile_absent"] % ", ".join(profile.missing_attributes))
    if not profile.key_total:
        return "\n".join([*lines, t["profile_no_key"]]) + "\n"
    lines += ["", t["profile_leading"], *_leading_lines(profile, pack, lang)]
    lines += ["", t["profile_ranking"], *_ranking_lines(profile, pack, lang)]
    lines += ["", t["profile_lookalikes"], *_lookalike_lines(profile, pack, lang)]
    lines += ["", t["profile_completeness"]]
    gaps = [c for c in profile.completeness if c.key_missing or c.potential_missing]
    for c in gaps:
        lines.append(f"  {t['profile_missing_of'] % (pack.name_label(c.field, lang), c.key_missing, c.key_total)}; "
                     f"{t['profile_potential_missing'] % (c.potential_missing, c.potential_total)}")
    if not gaps:
        lines.append("  " + t["profile_complete"])
    return "\n".join(lines) + "\n"


def _leading_lines(profile: Profile, pack: RulePack, lang: str) -> list[str]:
    t = PROFILE[lang]
    lines = []
    for row in profile.leading[:LEADING_SHOWN] or ():
        lines.append(f"  {value_text(pack, row, lang)}: {t['profile_key_share']} "
                     f"{fmt_pct(row.key_share, lang=lang)} ({row.key}/{profile.key_total}), {t['profile_base_share']} "
                     f"{fmt_pct(row.base_share, lang=lang)} ({row.base}/{profile.accounts}), {lift_text(row)}")
    if not profile.leading:
        lines.append("  " + t["profile_none"])
    return lines


def _ranking_lines(profile: Profile, pack: RulePack, lang: str) -> list[str]:
    t = PROFILE[lang]
    lines = []
    for rank in profile.ranking:
        top = f" — {value_text(pack, rank.top, lang)}" if rank.top is not None else ""
        mark = f" {t['profile_circular_mark']}" if rank.attribute in profile.circular else ""
        lines.append(f"  {pack.name_label(rank.attribute, lang)}{mark}: {fmt_number(rank.strength, 2)}{top}")
    if profile.circular:
        lines.append("  " + t["profile_circular"] % ", ".join(pack.name_label(n, lang) for n in profile.circular))
    return lines


def _lookalike_lines(profile: Profile, pack: RulePack, lang: str) -> list[str]:
    t = PROFILE[lang]
    lines = []
    for i, account in enumerate(profile.lookalikes, 1):
        name = account.account_name if account.account_name not in (None, "") else account.account_id
        reasons = "; ".join(f"{value_text(pack, r, lang)} (×{fmt_number(r.lift, 2)})" for r in account.reasons)
        room = f", {t['profile_growth']} {fmt_money(account.growth_room, lang, wan=False)}" \
            if account.growth_room is not None else ""
        lines.append(f"  {i}. {name} ({account.account_id}): {reasons}{room}")
    if not profile.lookalikes:
        lines.append("  " + t["profile_no_lookalikes"])
    elif profile.lookalike_total > len(profile.lookalikes):
        lines.append("  " + t["profile_lookalikes_more"] % (len(profile.lookalikes), profile.lookalike_total))
    return lines
