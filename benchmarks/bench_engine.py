"""Accounts per second of the durable_rules engine on the full default pack, and peak memory.

    python benchmarks/bench_engine.py                 # 10,000 and 100,000 accounts, 1 and 2 jobs
    python benchmarks/bench_engine.py --sizes 10000 --jobs 1
    python benchmarks/bench_engine.py --per-account   # the per-account reference path, for comparison

Each measurement runs in a fresh process (so peak RSS is its own). "engine" is the decision stage
(durable_rules, all decisions, asked once per distinct situation; with --per-account once per account
and decision); "evaluate" adds features, scores and building the results. "situations" is how many
times durable_rules was asked.
Results are written up in docs/performance.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def measure(size: int, jobs: int) -> dict:
    sys.path.insert(0, str(HERE))
    from synth import synthetic_customers

    from kamrules.engine.evaluate import evaluate
    from kamrules.pack import load_pack
    from kamrules.resources import default_dir

    pack = load_pack(default_dir("rules"))
    frame = synthetic_customers(size)
    started = time.perf_counter()
    evaluation = evaluate(pack, frame, as_of=dt.date(2026, 11, 27), jobs=jobs)
    total = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "accounts": size,
        "jobs": jobs,
        "engine_accounts_per_s": round(size / evaluation.timings["rules"]),
        "situations": evaluation.situations,
        "evaluate_accounts_per_s": round(size / total),
        "seconds": {k: round(v, 3) for k, v in evaluation.timings.items()},
        "peak_rss_mb": round(max(peak_mb, children_mb)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=3, help="runs per cell; the median is reported")
    parser.add_argument("--per-account", action="store_true", help="measure the per-account reference path")
    parser.add_argument("--one", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(*args.one)))
        return
    env = dict(os.environ, KAMRULES_PER_ACCOUNT="1" if args.per_account else "")
    print("| accounts | jobs | engine accounts/s | situations | evaluate accounts/s | peak RSS (MB) |")
    print("|---:|---:|---:|---:|---:|---:|")
    for size in args.sizes:
        baseline = None
        for jobs in args.jobs:
            runs = []
            for _ in range(args.repeat):
                output = subprocess.run([sys.executable, __file__, "--one", str(size), str(jobs)],
                                        check=True, capture_output=True, text=True, env=env).stdout
                runs.append(json.loads(output.strip().splitlines()[-1]))
            runs.sort(key=lambda r: r["engine_accounts_per_s"])
            median = runs[len(runs) // 2]
            speedup = ""
            if jobs == 1:
                baseline = median["engine_accounts_per_s"]
            elif baseline:
                speedup = f" ({median['engine_accounts_per_s'] / baseline:.2f}×)"
            print(f"| {size:,} | {jobs} | {median['engine_accounts_per_s']:,}{speedup} | {median['situations']:,} | "
                  f"{median['evaluate_accounts_per_s']:,} | {median['peak_rss_mb']:,} |", flush=True)


if __name__ == "__main__":
    main()
