"""Value mapping from the `--columns` file: values in the file replaced by the pack's values before
conversion, rows whose value maps to `skip-row` left out (and counted), and unknown category values
listed with their counts and the mapping line that would handle them."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kamrules.data.columns import SKIP_ROW
from kamrules.data.convert import _as_text, _cell_at
from kamrules.data.messages import _rows_text
from kamrules.data.options import _Raw
from kamrules.data.wording import say, spec_ref
from kamrules.errors import DataError
from kamrules.pack.fields import FieldSpec, normalise_header


def apply_value_maps(name: str, raw: _Raw, matched: Mapping[str, int],
                     values: Mapping[str, Mapping[str, str]], lang: str = "en") -> list[dict]:
    """Replace mapped values in place and drop the rows mapped to skip-row. Returns what was left out:
    [{field, column, value, rows}] in field order, then value order."""
    keep = np.ones(len(raw.row_numbers), dtype=bool)
    skipped: list[dict] = []
    for field_name, table in values.items():
        if field_name not in matched:
            raise DataError(say(lang, "values_no_column", name=name, field=field_name))
        index = matched[field_name]
        lookup = {normalise_header(source): target for source, target in table.items()}
        encoded = pc.dictionary_encode(pc.utf8_trim_whitespace(_as_text(raw.columns[index])))
        distinct = encoded.dictionary.to_pylist()
        mapped = [lookup.get(normalise_header(text), text) if normalise_header(text) else text for text in distinct]
        indices = encoded.indices.to_numpy(zero_copy_only=False)
        for position, (text, target) in enumerate(zip(distinct, mapped)):
            if target == SKIP_ROW:
                rows = indices == position
                skipped.append({"field": field_name, "column": raw.headers[index], "value": text,
                                "rows": int((rows & keep).sum())})
                keep &= ~rows
        texts = np.array([("" if t == SKIP_ROW else t) for t in mapped] or [""], dtype=object)[indices]
        raw.columns[index] = pa.array(texts, type=pa.string())
    if not keep.all():
        mask = pa.array(keep)
        raw.columns = [column.filter(mask) for column in raw.columns]
        raw.row_numbers = raw.row_numbers[keep]
    return [s for s in skipped if s["rows"]]


# Values of a status or type column that mean someone who is not a customer yet (HubSpot's Lifecycle
# Stage, a Salesforce Type of Prospect, a Chinese CRM's 客户状态).
NOT_CUSTOMER_WORDS = frozenset(normalise_header(w) for w in (
    "lead", "leads", "subscriber", "marketing-qualified-lead", "mql",  # (normalised: "Marketing Qualified Lead")
    "sales-qualified-lead", "sql", "opportunity", "prospect", "prospects", "suspect",
    "潜在客户", "意向客户", "线索", "商机", "销售线索", "目标客户", "待跟进"))

_WORDS = re.compile(r"[^\W_\u4e00-\u9fff]+|[\u4e00-\u9fff]+")  # words; Chinese apart from Latin ('VIP客户')
_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class ValueProposal:
    """What to do with a category value the pack does not know, and what its rows carry.

    `target` is a value of the pack (`why` = alias: the value names one of its aliases, `named`), '' (read as
    missing: `why` = unclear, or not_customer_sales for a "not a customer" word whose rows carry sales) or
    skip-row (`why` = not_customer: a "not a customer" word whose rows carry no sales). Rows that carry
    sales are never proposed skip-row. `sales` is None when some of its rows' sales cannot be read."""

    value: str
    rows: list
    sales: float | None
    share: float | None
    target: str
    why: str
    named: str = ""


def likely_value(spec: FieldSpec, text: str) -> tuple[str, str] | None:
    """(the pack's value, the part of `text` that names it) when exactly one value of the category has a
    name or alias that `text` contains — as whole words in English ('Key Distributor' names Distributor,
    a wholesaler), as characters in Chinese ('民营企业集团' names 企业) — else None."""
    original = _WORDS.findall(unicodedata.normalize("NFKC", str(text)))
    words = [w.casefold() for w in original]
    compact = normalise_header(text)
    found: dict[str, str] = {}
    for alias, value in spec.value_aliases.items():
        if not alias or alias == compact:
            continue
        if _CJK.search(alias):
            if len(alias) >= 2 and alias in compact and len(alias) > len(found.get(value, "")):
                found[value] = alias  # the longest: 民营企业, not 企业
            continue
        for start in range(len(words)):  # consecutive words that spell the alias ('Public sector')
            joined, end = "", start
            while end < len(words) and len(joined) < len(alias):
                joined += words[end]
                end += 1
            if joined == alias and len(alias) > len(normalise_header(found.get(value, ""))):
                found[value] = " ".join(original[start:end])
                break
    return next(iter(found.items())) if len(found) == 1 else None


def value_proposals(spec: FieldSpec, cells: Sequence[str], positions: Sequence[int], row_numbers: Sequence[int],
                    sales: np.ndarray | None = None, unreadable: np.ndarray | None = None) -> list[ValueProposal]:
    """A proposal for each value a category field does not know (see ValueProposal), most rows first.
    `cells`: the column's texts; `positions`: where the unknown values are; `sales`: the sales of the same
    rows (NaN when blank), None when the file has none; `unreadable`: rows whose sales cannot be read."""
    rows: dict[str, list[int]] = {}
    for position in positions:
        rows.setdefault(str(cells[int(position)]).strip(), []).append(int(position))
    total = float(np.nansum(sales)) if sales is not None else 0.0
    found = []
    for value, where in sorted(rows.items(), key=lambda item: (-len(item[1]), item[0])):
        carried = share = None
        if sales is not None and not (unreadable is not None and unreadable[where].any()):
            carried = float(np.nansum(sales[where]))
            share = carried / total if total > 0 else None
        numbers = [int(row_numbers[p]) for p in where]
        if normalise_header(value) in NOT_CUSTOMER_WORDS:
            target, why, named = (SKIP_ROW, "not_customer", "") if carried == 0 else ("", "not_customer_sales", "")
        elif likely_value(spec, value) is not None:
            (target, named), why = likely_value(spec, value), "alias"
        else:
            target, why, named = "", "unclear", ""
        found.append(ValueProposal(value, numbers, carried, share, target, why, named))
    return found


def carried_text(proposal: ValueProposal, lang: str = "en") -> str:
    """What a value's rows carry: "1,200 of sales, 0.5%", "no sales", or nothing when it is not known."""
    from kamrules.i18n.formats import fmt_money, fmt_pct

    if proposal.sales is None:
        return ""
    if proposal.sales == 0:
        return say(lang, "carries_none")
    share = say(lang, "carries_share", share=fmt_pct(proposal.share, lang=lang)) if proposal.share is not None else ""
    return say(lang, "carries", sales=fmt_money(proposal.sales, lang), share=share)


def proposal_reason(spec: FieldSpec, proposal: ValueProposal, lang: str = "en") -> str:
    """Why a value is proposed as it is, and what skip-row would leave out instead (rows and sales)."""
    rows = say(lang, "row_one" if len(proposal.rows) == 1 else "row_many", n=len(proposal.rows))
    carried = carried_text(proposal, lang)
    dropped = say(lang, "skip_would_drop", rows=rows, carried=say(lang, "with_carried", carried=carried) if carried
                  and proposal.sales else "")
    allowed = ", ".join(str(v) for v in spec.values[:15])
    if proposal.why == "alias":
        return say(lang, "value_why_alias", named=proposal.named, target=proposal.target, dropped=dropped)
    if proposal.why == "not_customer":
        return say(lang, "value_why_not_customer", rows=rows)
    if proposal.why == "not_customer_sales":
        return say(lang, "value_why_not_customer_sales", rows=rows, carried=carried, dropped=dropped, allowed=allowed)
    return say(lang, "value_why_unclear", allowed=allowed, dropped=dropped)


def unknown_categories_message(name: str, spec: FieldSpec, header: str, column: pa.Array,
                               positions: Sequence[int], row_numbers: np.ndarray, lang: str = "en",
                               sales: np.ndarray | None = None, unreadable: np.ndarray | None = None) -> str:
    """The category values a field does not know, each with its rows and the sales they carry, the
    --columns line that handles them (the likely value of the pack when one is clear, '' when none is,
    skip-row only for rows that are not customers and carry no sales), and what each option would drop."""
    cells = _as_text(column).to_pylist()
    found = value_proposals(spec, cells, positions, row_numbers, sales, unreadable)
    listed = say(lang, "sep").join(
        say(lang, "unknown_value", value=p.value, rows=_rows_text("row", p.rows, lang)
            + (say(lang, "carried_sep") + carried_text(p, lang) if carried_text(p, lang) else ""))
        for p in found[:20])
    more = say(lang, "more", n=len(found) - 20) if len(found) > 20 else ""
    entries = ", ".join(f"{_yaml_key(p.value)}: {_yaml_key(p.target) if p.target else chr(39) * 2}" for p in found[:20])
    line = f"{spec.name}: {{column: {_yaml_key(header)}, values: {{{entries}}}}}"
    reasons = "\n".join(say(lang, "value_reason", value=p.value, target=p.target or "''",
                            reason=proposal_reason(spec, p, lang)) for p in found[:20])
    return say(lang, "unknown_values", name=name, header=header, field=spec_ref(spec, lang), listed=listed, more=more,
               line=line, reasons=reasons)


def _yaml_key(text: str) -> str:
    """Text as a YAML flow-mapping key: quoted when it holds characters YAML would read otherwise."""
    plain = text and not any(c in text for c in ":{}[],#&*!|>'\"%@`") and text.strip() == text \
        and normalise_header(text) not in ("true", "false", "yes", "no", "null", "on", "off", "y", "n")
    return text if plain else "'" + text.replace("'", "''") + "'"
