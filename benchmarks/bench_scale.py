"""A whole `kamrules evaluate` run on a large export: time and peak memory.

    python benchmarks/bench_scale.py                  # 100,000 and 1,000,000 accounts
    python benchmarks/bench_scale.py --rows 100000
    python benchmarks/bench_scale.py --rows 100000 --playbooks default   # default options (key + potential plans)
    python benchmarks/bench_scale.py --rows 1000000 --format parquet

Writes a 20-column CSV (20 of the default pack's fields, realistic skew) to a temporary folder and runs
the real command on it in a child process — `kamrules evaluate FILE --playbooks none --jobs 1` —
reporting the stage times the command prints and the child's peak resident memory.
Results are written up in docs/performance.md.
"""

from __future__ import annotations

import argparse
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
COLUMNS = ["account_id", "account_name", "region", "customer_type", "sales", "sales_prev", "gross_profit",
           "contract_months", "strategic_project", "share_of_wallet", "share_of_wallet_prev", "nps",
           "open_complaints", "oldest_complaint_days", "last_contact", "last_order", "order_interval_days",
           "overdue_days", "customer_trend", "partnership_intent"]


def run(rows: int, folder: Path, jobs: int, fmt: str = "csv", playbooks: str = "none") -> str:
    sys.path.insert(0, str(HERE))
    from synth import synthetic_customers

    data = folder / f"customers-{rows}.csv"
    if not data.exists():
        synthetic_customers(rows)[COLUMNS].to_csv(data, index=False)
    out = folder / f"out-{rows}"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "kamrules", "evaluate", str(data), "--out", str(out), "--force",
                             "--as-of", "2026-11-27", "--jobs", str(jobs), "--format", fmt,
                             *([] if playbooks == "default" else ["--playbooks", playbooks])],
                            capture_output=True, text=True, cwd=folder)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(result.stderr)
    stages = re.search(r"— (features.*)$", " ".join(result.stdout.split()))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)  # steadier on a busy machine
    peak = after.ru_maxrss / 1024
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 2**20
    return (f"| {rows:,} | {jobs} | {data.stat().st_size / 2**20:.0f} MB | {seconds:.0f} s | {cpu:.0f} s | {peak:,.0f} MB | "
            f"{size:,.0f} MB | {stages.group(1) if stages else ''} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--format", default="csv", help="the decision table's format (csv, parquet, …)")
    parser.add_argument("--playbooks", default="none", help="'none' (default here), 'default' (the command's own default)")
    args = parser.parse_args()
    print("| accounts | jobs | CSV in | wall time | CPU time | peak RSS | outputs | stages (as printed) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---|")
    with tempfile.TemporaryDirectory() as folder:
        for rows in args.rows:  # peak RSS is the largest child so far: run sizes in increasing order
            print(run(rows, Path(folder), args.jobs, args.format, args.playbooks), flush=True)


if __name__ == "__main__":
    main()
