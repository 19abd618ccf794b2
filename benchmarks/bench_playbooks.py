"""Benchmark playbook rendering: accounts per second (Markdown + HTML each) on one core.

    python benchmarks/bench_playbooks.py                    # 1,000 and 5,000 accounts, en and zh
    python benchmarks/bench_playbooks.py --accounts 2000    # one size
    python benchmarks/bench_playbooks.py --markdown         # a table for docs/performance.md

The portfolio is synthetic (benchmarks/synth.py: every field of the default pack, Pareto-skewed sales)
and evaluated with the default rule pack once; what is timed is `Renderer.render_all("all")`, i.e.
building each account's results (the evaluation builds them when read), its typed context, and
rendering both templates in the sandbox — and the same with the results built beforehand — best of N rounds
of CPU time in this process, pinned to one core. Also reported: the one-off template check (cold, i.e.
parsing and compiling every template, and warm) and the portfolio summary + report for all accounts.
Target: at least 500 playbooks (accounts) a second.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

TARGET = 500  # accounts a second


def pin_one_core() -> str:
    try:
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        return f"pinned to core {core}"
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return "not pinned"


def best_cpu(function, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        function()
        best = min(best, time.process_time() - started)
    return best


def calibration(rounds: int) -> float:
    """CPU ms of a fixed pure-Python loop: compare it across machines (and busy or quiet moments)."""

    def loop():
        total = 0
        for i in range(1_000_000):
            total += i * i
        return total

    return best_cpu(loop, rounds) * 1000


def run(sizes: list[int], langs: list[str], rounds: int) -> list[dict]:
    from synth import synthetic_customers

    from kamrules.documents import render as playbooks
    from kamrules.documents.files import playbook_links
    from kamrules.engine.evaluate import evaluate
    from kamrules.pack import load_pack
    from kamrules.results.portfolio import summarise
    from kamrules.documents.report import render_report

    pack = load_pack(ROOT / "rules")
    started = time.process_time()
    playbooks.check_templates(pack)
    cold = time.process_time() - started
    warm = best_cpu(lambda: playbooks.check_templates(pack), rounds)
    rows = []
    for n in sizes:
        evaluation = evaluate(pack, synthetic_customers(n), as_of=dt.date(2026, 11, 27), input_name="synthetic.csv")
        # The evaluation builds each account's results when read; a materialised copy isolates rendering.
        materialised = copy.copy(evaluation)
        materialised.accounts = list(evaluation.accounts)
        for account in materialised.accounts:
            for decision in pack.decisions:
                account.decisions[decision.id]
        for lang in langs:
            renderer = playbooks.Renderer(evaluation, lang=lang)
            files = renderer.render_all("all")
            size = sum(len(v) for v in files.values())
            seconds = best_cpu(lambda: renderer.render_all("all"), rounds)
            prebuilt = playbooks.Renderer(materialised, lang=lang)
            render_only = best_cpu(lambda: prebuilt.render_all("all"), rounds)
            context = best_cpu(lambda: [prebuilt.builder.build(a) for a in materialised.accounts], rounds)
            summary_seconds = best_cpu(lambda: summarise(evaluation, lang=lang), rounds)
            portfolio = summarise(evaluation, lang=lang)
            links = playbook_links(files, evaluation)
            report_seconds = best_cpu(
                lambda: render_report(evaluation, portfolio, lang=lang, playbook_links=links), rounds)
            rows.append({
                "accounts": n, "lang": lang, "seconds": seconds, "per_second": n / seconds,
                "render_only": n / render_only, "context_share": context / render_only, "mb": size / 1e6,
                "summary": summary_seconds, "report": report_seconds,
            })
    return [{"check_cold": cold, "check_warm": warm}, *rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, action="append", help="portfolio size (repeatable)")
    parser.add_argument("--lang", action="append", choices=["en", "zh"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()
    pinned = pin_one_core()
    head, *rows = run(args.accounts or [1000, 5000], args.lang or ["en", "zh"], args.rounds)
    print(f"# {platform.python_implementation()} {platform.python_version()} on {platform.machine()}, "
          f"{os.cpu_count()} CPUs, {pinned}; best of {args.rounds} rounds of CPU time")
    print(f"# template check: {head['check_cold']:.2f} s cold (parse + compile), {head['check_warm'] * 1000:.0f} ms warm")
    print(f"# calibration loop (1M multiply-adds in Python): {calibration(args.rounds):.0f} ms "
          "before the runs")
    if args.markdown:
        print("| accounts | lang | playbooks/s (md + html) | playbooks/s, results prebuilt "
              "| context share | output MB | summary s | report s |")
        print("|---:|---|---:|---:|---:|---:|---:|---:|")
    failed = False
    for row in rows:
        ok = row["per_second"] >= TARGET
        failed |= not ok
        if args.markdown:
            print(f"| {row['accounts']:,} | {row['lang']} | {row['per_second']:,.0f} | {row['render_only']:,.0f} | "
                  f"{row['context_share']:.0%} | "
                  f"{row['mb']:.1f} | {row['summary']:.3f} | {row['report']:.3f} |")
        else:
            print(f"{row['accounts']:>7,} accounts {row['lang']}: {row['per_second']:7,.0f} playbooks/s "
                  f"({row['seconds']:.2f} s; {row['render_only']:,.0f}/s with the results already built; "
                  f"context {row['context_share']:.0%}; {row['mb']:.1f} MB) "
                  f"summary {row['summary']:.3f} s, report {row['report']:.3f} s  {'ok' if ok else 'BELOW TARGET'}")
    print(f"# calibration loop after the runs: {calibration(args.rounds):.0f} ms")
    if failed:
        print(f"# below the target of {TARGET} playbooks/s", file=sys.stderr)


if __name__ == "__main__":
    main()
