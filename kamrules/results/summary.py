"""The console summary printed after `kamrules evaluate` (the report.html has the full picture)."""

from __future__ import annotations

from typing import Any


def print_summary(result: Any, lang: str = "en") -> None:
    """Print the portfolio summary of a run (kamrules.run.RunResult) as rich tables."""
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    portfolio = result.portfolio
    zh = lang == "zh"
    lines = portfolio.lines(lang)
    console.print(lines[0])
    for breakdown in portfolio.breakdowns:
        table = Table(title=portfolio.text(breakdown.title, lang), title_justify="left", show_edge=False)
        table.add_column("值" if zh else "value")
        table.add_column("客户数" if zh else "accounts", justify="right")
        table.add_column("销售占比" if zh else "share of sales", justify="right")
        for count in breakdown.counts:
            share = "—" if count.sales_share is None else f"{count.sales_share * 100:.1f}%"
            table.add_row(portfolio.text(count.label, lang) or "—", f"{count.accounts:,}", share)
        console.print(table)
    for line in lines[1:]:
        if not any(line.startswith(portfolio.text(b.title, lang)) for b in portfolio.breakdowns):
            console.print(line)
    if result.data_issues:
        console.print((f"{len(result.data_issues)} 个单元格无法读取，按缺失处理，见 data-issues.csv" if zh else
                       f"{len(result.data_issues)} cells could not be read and were treated as missing: "
                       "see data-issues.csv"))
    timings = result.evaluation.timings
    stages = " · ".join(f"{name} {seconds:.2f}s" + _engine_calls(result.evaluation) * (name == "rules")
                        for name, seconds in timings.items())
    console.print(f"{'结果已写入' if zh else 'Results written to'} {result.out}/ ({len(result.files)} files) — {stages}")


def _engine_calls(evaluation) -> str:
    """Why the rules stage is fast: how often the engine was asked for how many accounts."""
    accounts = len(evaluation.accounts)
    return f" ({evaluation.situations:,} situations for {accounts:,} accounts)" if evaluation.situations else ""
