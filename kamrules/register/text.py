"""What `kamrules history` prints: the portfolio's trend and an account's timeline, as console tables
(en or zh), CSV or JSON (for tools: values as recorded, codes rather than labels)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from kamrules.i18n.catalogues import HISTORY
from kamrules.register.history import TOTALS, Timeline, Trend

FORMATS = ("text", "csv", "json")
TREND_COLUMNS = ("review_id", "as_of", "pack_name", "pack_version", "input_name", "accounts", "key_accounts",
                 "key_sales", "key_sales_share", "waiting", "lost", "lost_prior_sales", "lapsed", "lapsed_prior_sales",
                 "at_risk", "critical", "sales")
TIMELINE_COLUMNS = ("review_id", "as_of", "account_id", "account_name", "present", "tier", "risk_level", "sales",
                    "risk_signals", "dependence_findings")


def _words(lang: str) -> dict:
    return HISTORY.get(lang, HISTORY["en"])


def trend_records(trend: Trend) -> list[dict]:
    return [{"review_id": r.review_id, "as_of": r.as_of, "pack_name": r.pack_name, "pack_version": r.pack_version,
             "input_name": r.input_name, **{k: r.totals.get(k) for k in TOTALS}, "key_sales_share": r.key_sales_share}
            for r in trend.reviews]


def timeline_records(timeline: Timeline) -> list[dict]:
    return [{"review_id": r.review_id, "as_of": r.as_of, "account_id": timeline.account_id,
             "account_name": r.account_name, "present": r.present, "tier": r.tier, "risk_level": r.risk_level,
             "sales": r.sales, "risk_signals": r.signals, "dependence_findings": r.findings} for r in timeline.rows]


def render_trend(trend: Trend, fmt: str = "text", lang: str = "en") -> str:
    records = trend_records(trend)
    if fmt == "json":
        return _json({"register": str(trend.path), "pack": trend.pack, "reviews": records})
    if fmt == "csv":
        return _csv(TREND_COLUMNS, records)
    from kamrules.i18n import fmt_money, fmt_pct

    words = _words(lang)
    headers = ["review", "as_of", "accounts", "key_accounts", "key_share", "waiting", "lost", "lost_prior_sales",
               "lapsed", "lapsed_prior_sales", "at_risk", "critical", "sales"]
    rows = []
    for r in records:
        rows.append([str(r["review_id"]), r["as_of"], _count(r["accounts"]), _count(r["key_accounts"]),
                     fmt_pct(r["key_sales_share"], lang=lang), _count(r["waiting"]), _count(r["lost"]),
                     fmt_money(r["lost_prior_sales"], "en"), _count(r["lapsed"]), fmt_money(r["lapsed_prior_sales"], "en"),
                     _count(r["at_risk"]), _count(r["critical"]), fmt_money(r["sales"], "en")])
    lines = [words["trend_title"].format(pack=trend.pack, path=trend.path),
             _table([words[h] for h in headers], rows, left=2), words["trend_note"]]
    if trend.other_packs:
        lines.append(words["other_packs"].format(packs=", ".join(f"'{p}' ({n})" for p, n in trend.other_packs.items())))
    return "\n".join(lines) + "\n"


def render_timeline(timeline: Timeline, fmt: str = "text", lang: str = "en") -> str:
    records = timeline_records(timeline)
    if fmt == "json":
        return _json({"register": str(timeline.path), "pack": timeline.pack, "account_id": timeline.account_id,
                      "account_name": timeline.account_name, "reviews": records})
    if fmt == "csv":
        rows = [{**r, "risk_signals": "; ".join(map(str, r["risk_signals"])),
                 "dependence_findings": "; ".join(map(str, r["dependence_findings"]))} for r in records]
        return _csv(TIMELINE_COLUMNS, rows)
    from kamrules.i18n import fmt_money

    words = _words(lang)
    sep = "、" if lang == "zh" else "; "

    def label(name: str, value: Any) -> str:
        if value is None:
            return "—"
        return timeline.labels.get((name, str(value), lang)) or timeline.labels.get((name, str(value), "en")) or str(value)

    rows = []
    for r in timeline.rows:
        if not r.present:
            rows.append([str(r.review_id), r.as_of, words["absent"], "", "", ""])
            continue
        findings = [label("risk_signal", s) for s in r.signals] + [label("dependence_finding", f) for f in r.findings]
        rows.append([str(r.review_id), r.as_of, label("tier", r.tier), label("risk_level", r.risk_level),
                     fmt_money(r.sales, "en"), sep.join(findings) or "—"])
    account = f"{timeline.account_id} {timeline.account_name}" if timeline.account_name else timeline.account_id
    title = words["timeline_title"].format(account=account, n=len(timeline.rows), pack=timeline.pack,
                                           path=timeline.path)
    headers = [words[h] for h in ("review", "as_of", "tier", "risk_level", "sales", "findings")]
    return title + "\n" + _table(headers, rows, left=4, wrap_last=True) + "\n"


def _count(value: Any) -> str:
    return "—" if value is None else f"{int(value):,}"


def _table(headers: list, rows: list, left: int, wrap_last: bool = False) -> str:
    """A console table (rich, no box edges, as `kamrules diff` prints): the first `left` columns
    left-aligned, the others right-aligned (a last text column left-aligned with `wrap_last`)."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(show_edge=False)
    for i, header in enumerate(headers):
        text_column = i < left or (wrap_last and i == len(headers) - 1)
        table.add_column(header, justify="left" if text_column else "right", overflow="fold")
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))  # data as text, never as markup
    buffer = io.StringIO()
    Console(file=buffer, highlight=False, width=160, color_system=None).print(table)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines())


def _json(document: dict) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def _csv(columns: tuple, records: list) -> str:
    """CSV text; a text cell that a spreadsheet would run as a formula is neutralised as in every CSV kamrules writes."""
    from kamrules.data.written import neutralise

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for record in records:
        writer.writerow({k: "" if v is None else neutralise(v) if isinstance(v, str) else v for k, v in record.items()})
    return buffer.getvalue()


def recorded_line(recorded, lang: str = "en") -> str:
    """What `evaluate --register` says once the run is recorded."""
    words = _words(lang)
    line = words["replaced" if recorded.replaced else "recorded"].format(
        path=recorded.path, review=recorded.review_id, as_of=recorded.as_of, n=f"{recorded.accounts:,}")
    return line + (words["unidentified"].format(n=recorded.unidentified) if recorded.unidentified else "")
