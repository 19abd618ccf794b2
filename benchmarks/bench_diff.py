"""`kamrules diff` against one `kamrules evaluate` on the same data (issue #11: diff ≤ 2× evaluate), and
run folders (issue #29, item 19: `evaluate --previous` and `diff OUT_A OUT_B` at 200,000 accounts).

    python benchmarks/bench_diff.py                    # 100,000 accounts, 1 job
    python benchmarks/bench_diff.py --sizes 20000 --jobs 1 --repeat 1
    python benchmarks/bench_diff.py --runs --sizes 200000          # a quarter later, then a whole new book

With `--runs`, each command runs in a process of its own, as the CLI would (wall seconds and peak
resident memory of that process): `evaluate` of a quarter, `evaluate` of the next quarter without and
with `--previous`, and `diff` of the two output folders. The next quarter is the same book a quarter
later (10% of the accounts' sales move, 5% change NPS or contact dates, 2% leave, 2% arrive: a few
thousand decisions change), or with `--changed all` an unrelated book under the same ids (nearly
every account changes: the worst case for the comparison).

Both run as the CLI does (library calls `run_evaluate` and `run_diff`), on a synthetic CSV written once:
"evaluate" reads, evaluates, writes decisions, trace, playbooks (key+potential) and the report (and
once more with `--playbooks none`);
"diff" reads once, evaluates under the pack and under `--set pareto_target=0.75`, compares, and writes
diff.csv and diff.html. Results are written up at the end of docs/performance.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
AS_OF = dt.date(2026, 11, 27)


def measure(size: int, jobs: int, repeat: int) -> dict:
    sys.path.insert(0, str(HERE))
    from synth import synthetic_customers

    from kamrules.resources import default_dir
    from kamrules.run import DiffOptions, EvaluateOptions, run_diff, run_evaluate

    rules = default_dir("rules")
    with tempfile.TemporaryDirectory() as work:
        data = Path(work) / "customers.csv"
        synthetic_customers(size).to_csv(data, index=False)
        times: dict[str, list] = {"evaluate": [], "bare": [], "diff": []}
        changed = 0
        for _ in range(repeat):
            started = time.perf_counter()
            run_evaluate(EvaluateOptions(data=data, rules=rules, out=Path(work) / "out", as_of=AS_OF, jobs=jobs))
            times["evaluate"].append(time.perf_counter() - started)
            started = time.perf_counter()
            run_evaluate(EvaluateOptions(data=data, rules=rules, out=Path(work) / "out", as_of=AS_OF, jobs=jobs,
                                         playbooks="none"))
            times["bare"].append(time.perf_counter() - started)
            started = time.perf_counter()
            outcome = run_diff(DiffOptions(out=Path(work) / "diff", data=data, rules=(rules,),
                                           settings=["pareto_target=0.75"], as_of=AS_OF, jobs=jobs))
            times["diff"].append(time.perf_counter() - started)
            changed = outcome.result.changed
    evaluate_s, diff_s = statistics.median(times["evaluate"]), statistics.median(times["diff"])
    bare_s = statistics.median(times["bare"])
    return {"accounts": size, "jobs": jobs, "evaluate_s": round(evaluate_s, 2), "bare_s": round(bare_s, 2),
            "diff_s": round(diff_s, 2), "ratio": round(diff_s / evaluate_s, 2), "bare_ratio": round(diff_s / bare_s, 2),
            "changed": changed}


def quarter_later(frame, seed: int = 11):
    """The same book a quarter later: some sales, NPS and contact dates move; a few accounts leave and
    a few arrive."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    n = len(frame)
    later = frame.copy()
    moved = rng.random(n) < 0.10
    later.loc[moved, "sales"] = (later.loc[moved, "sales"] * rng.uniform(0.5, 1.5, moved.sum())).round(2)
    touched = rng.random(n) < 0.05
    later.loc[touched, "nps"] = rng.integers(0, 11, touched.sum()).astype(float)
    later.loc[touched, "last_contact"] = later.loc[touched, "last_contact"] - pd.Timedelta(days=60)
    later = later[rng.random(n) >= 0.02]
    arrivals = frame.sample(n // 50, random_state=seed).copy()
    arrivals["account_id"] = [f"N{i:07d}" for i in range(len(arrivals))]
    return pd.concat([later, arrivals], ignore_index=True)


def _timed(arguments: list[str]) -> tuple[float, float]:
    """(wall seconds, peak resident MiB) of one kamrules command in a process of its own."""
    import json
    import subprocess

    code = ("import json, resource, sys, time\n"
            "from kamrules.cli import app\n"
            "started = time.perf_counter()\n"
            "try:\n"
            "    app(args=sys.argv[1:], prog_name='kamrules', standalone_mode=False)\n"
            "finally:\n"
            "    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
            "    print(json.dumps([time.perf_counter() - started, max(own, kids) / 1024]), file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", code, *arguments], capture_output=True, text=True, check=True)
    seconds, mib = json.loads(done.stderr.strip().splitlines()[-1])
    return seconds, mib


def measure_runs(size: int, jobs: int, changed: str) -> dict:
    sys.path.insert(0, str(HERE))
    from synth import synthetic_customers

    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        first = synthetic_customers(size)
        second = synthetic_customers(size, seed=8) if changed == "all" else quarter_later(first)
        first.to_csv(folder / "q3.csv", index=False)
        second.to_csv(folder / "q4.csv", index=False)
        common = ["--as-of", AS_OF.isoformat(), "--jobs", str(jobs), "-q"]
        figures = {
            "evaluate": _timed(["evaluate", str(folder / "q3.csv"), "--out", str(folder / "q3"), *common]),
            "bare": _timed(["evaluate", str(folder / "q4.csv"), "--out", str(folder / "q4-alone"), *common]),
            "previous": _timed(["evaluate", str(folder / "q4.csv"), "--out", str(folder / "q4"),
                                "--previous", str(folder / "q3"), *common]),
            "diff": _timed(["diff", str(folder / "q3"), str(folder / "q4"), "--out", str(folder / "d"), "-q"]),
        }
        changes = sum(1 for _ in open(folder / "d" / "diff.csv", encoding="utf-8-sig")) - 1
    return {"accounts": size, "changed": changes, **figures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each; the median is reported")
    parser.add_argument("--runs", action="store_true", help="evaluate --previous and diff of two run folders")
    parser.add_argument("--changed", choices=("quarter", "all"), default="quarter",
                        help="with --runs: the next quarter of the same book, or an unrelated book")
    args = parser.parse_args()
    if args.runs:
        print("| accounts | rows of diff.csv | evaluate (s / MiB) | next quarter alone | next quarter --previous "
              "| diff OUT_A OUT_B |")
        print("|---|---|---|---|---|---|")
        for size in args.sizes:
            r = measure_runs(size, args.jobs, args.changed)
            cell = lambda pair: f"{pair[0]:.1f} s / {pair[1]:,.0f}"  # noqa: E731
            print(f"| {r['accounts']:,} | {r['changed']:,} | {cell(r['evaluate'])} | {cell(r['bare'])} "
                  f"| {cell(r['previous'])} | {cell(r['diff'])} |", flush=True)
        return
    print("| accounts | jobs | evaluate (s) | evaluate --playbooks none (s) | diff (s) | diff ÷ evaluate "
          "| diff ÷ evaluate without playbooks | account-decisions changed |")
    print("|---|---|---|---|---|---|---|---|")
    for size in args.sizes:
        r = measure(size, args.jobs, args.repeat)
        print(f"| {r['accounts']:,} | {r['jobs']} | {r['evaluate_s']} | {r['bare_s']} | {r['diff_s']} | {r['ratio']} "
              f"| {r['bare_ratio']} | {r['changed']:,} |", flush=True)


if __name__ == "__main__":
    main()
