"""The console summary printed after `kamrules evaluate` (the report.html has the full picture)."""

from __future__ import annotations

from typing import Any

from kamrules.i18n import CONSOLE, MISSING, fmt_pct


def text_console(stderr: bool = False):
    """A rich Console that prints every string as the text it is: no markup, no emoji codes, no
    highlighting. Data reaches the console (regions, account names, ids, file names), and read as
    markup a region `[/]` crashed the run after its outputs were written, `[link=…]` made a terminal
    hyperlink and `[on red]` coloured the line. Every console of kamrules is made here."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, markup=False, emoji=False)


def print_summary(result: Any, lang: str = "en") -> None:
    """Print the portfolio summary of a run (kamrules.run.RunResult) as rich tables."""
    from rich.table import Table

    console = text_console()
    words = CONSOLE.get(lang, CONSOLE["en"])
    portfolio = result.portfolio
    lines = portfolio.lines(lang)
    console.print(lines[0])
    for breakdown in portfolio.breakdowns:
        table = Table(title=portfolio.text(breakdown.title, lang), title_justify="left", show_edge=False)
        table.add_column(words["value"])
        table.add_column(words["accounts"], justify="right")
        table.add_column(words["share_of_sales"], justify="right")
        for count in breakdown.counts:
            share = MISSING if count.sales_share is None else fmt_pct(count.sales_share, 1, lang)
            table.add_row(portfolio.text(count.label, lang) or MISSING, f"{count.accounts:,}", share)
        console.print(table)
    for line in lines[1:]:
        if not any(line.startswith(portfolio.text(b.title, lang)) for b in portfolio.breakdowns):
            console.print(line)
    if result.data_issues:
        console.print(words["data_issues"].format(n=len(result.data_issues)))
    timings = result.evaluation.timings
    names = dict(pair.split("=", 1) for pair in words["stages"].split("|"))
    stages = " · ".join(f"{names.get(name, name)} {seconds:.2f}s" + _engine_calls(result.evaluation, words) * (name == "rules")
                        for name, seconds in timings.items())
    console.print(f"{words['written']} {result.out}/ ({len(result.files)} {words['files']}) — {stages}")


def _engine_calls(evaluation, words: dict) -> str:
    """Why the rules stage is fast: how often the engine was asked for how many accounts."""
    if not evaluation.situations:
        return ""
    return words["situations"].format(situations=f"{evaluation.situations:,}", accounts=f"{len(evaluation.accounts):,}")
