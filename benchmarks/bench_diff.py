"""`kamrules diff` against one `kamrules evaluate` on the same data (issue #11: diff ≤ 2× evaluate).

    python benchmarks/bench_diff.py                    # 100,000 accounts, 1 job
    python benchmarks/bench_diff.py --sizes 20000 --jobs 1 --repeat 1

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each; the median is reported")
    args = parser.parse_args()
    print("| accounts | jobs | evaluate (s) | evaluate --playbooks none (s) | diff (s) | diff ÷ evaluate "
          "| diff ÷ evaluate without playbooks | account-decisions changed |")
    print("|---|---|---|---|---|---|---|---|")
    for size in args.sizes:
        r = measure(size, args.jobs, args.repeat)
        print(f"| {r['accounts']:,} | {r['jobs']} | {r['evaluate_s']} | {r['bare_s']} | {r['diff_s']} | {r['ratio']} "
              f"| {r['bare_ratio']} | {r['changed']:,} |", flush=True)


if __name__ == "__main__":
    main()
