"""`kamrules validate --data` on a large file, and `kamrules test` on the default pack's cases.

    python benchmarks/bench_validate.py                # 100,000 accounts
    python benchmarks/bench_validate.py --rows 20000

Writes a CSV of synthetic accounts (every field of the default pack, realistic skew) to a temporary
folder and runs the real commands in child processes, `kamrules validate rules --data FILE` and
`kamrules test rules --no-properties`, reporting their wall time (imports included). Goals (issue #10): validate
--data on 100,000 rows ≤ 10 s; test on the default pack's cases ≤ 2 s. Written up in docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def timed(args: list[str]) -> tuple[str, str]:
    """Wall time and CPU time (user + system) of one command in a child process, and its last line."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "kamrules", *args], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    elapsed = f"{wall:.2f} s wall, {cpu:.2f} s CPU"
    if result.returncode not in (0, 1):
        raise SystemExit(result.stderr)
    return elapsed, result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    options = parser.parse_args()
    sys.path.insert(0, str(HERE))
    from synth import synthetic_customers

    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "customers.csv"
        synthetic_customers(options.rows).to_csv(data, index=False)
        seconds, last = timed(["validate", str(ROOT / "rules"), "--data", str(data), "--as-of", "2026-11-27"])
        print(f"validate --data, {options.rows:,} accounts: {seconds} ({last})")
    seconds, last = timed(["test", str(ROOT / "rules"), "--no-properties"])  # properties: bench_properties.py
    print(f"test, default pack's cases: {seconds} ({last})")
    seconds, last = timed(["validate", str(ROOT / "rules")])
    print(f"validate (static analysis only): {seconds} ({last})")


if __name__ == "__main__":
    main()
