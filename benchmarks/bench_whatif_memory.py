"""Memory of a what-if sweep in one process (issue #29 item 4): the default pack under N `--set`
variants, each evaluated on the same accounts, as a notebook or a service doing what-if sweeps would.

    python benchmarks/bench_whatif_memory.py                  # 50 variants of pareto_target, 300 accounts
    python benchmarks/bench_whatif_memory.py --variants 100 --accounts 2000
    python benchmarks/bench_whatif_memory.py --every-decision   # the worst case: no ruleset shared

Prints the resident memory (RSS, from /proc/self/statm) after loading, after the first variant and
every 10 variants, the rulesets alive in the engine's C core, and the growth per variant after the
first. Each variant changes `pareto_target`, which reaches a few decisions' rules; the others keep
their rulesets whatever the variant. With --every-decision each variant also retitles every
decision, so no ruleset can be shared (as with packs loaded from many folders). Results are written
up in docs/performance.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import gc
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=50)
    parser.add_argument("--accounts", type=int, default=300)
    parser.add_argument("--every-decision", action="store_true", help="change every decision in each variant")
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    from synth import synthetic_customers

    from kamrules.engine.decide import Engine
    from kamrules.engine.evaluate import evaluate
    from kamrules.pack import load_pack
    from kamrules.pack.whatif import with_params
    from kamrules.resources import default_dir

    pack = load_pack(default_dir("rules"))
    frame = synthetic_customers(args.accounts)
    gc.collect()
    start = rss_mb()
    print(f"loaded: {start:.1f} MB")
    first = None
    for number in range(args.variants):
        variant = with_params(pack, [f"pareto_target={0.5 + 0.4 * number / max(args.variants, 1):.4f}"])
        if args.every_decision:
            variant = dataclasses.replace(variant, decisions=[dataclasses.replace(d, title={"en": f"{d.id} {number}"})
                                                              for d in variant.decisions])
        evaluate(variant, frame.copy(), as_of=dt.date(2026, 11, 27))
        gc.collect()
        if number == 0:
            first = rss_mb()
        if number == 0 or (number + 1) % 10 == 0:
            alive = Engine.of_process().rulesets.alive
            print(f"after {number + 1:3d} variants: {rss_mb():7.1f} MB, {alive:5d} rulesets alive")
    end = rss_mb()
    per = (end - first) / (args.variants - 1) if args.variants > 1 else 0.0
    print(f"growth after the first variant: {end - first:.1f} MB ({per:.2f} MB per variant)")


if __name__ == "__main__":
    main()
