"""Peak memory per stage of one `kamrules evaluate` run, in this process: where the memory goes.

    python benchmarks/bench_stages.py --rows 300000                       # the whole portfolio at once
    python benchmarks/bench_stages.py --rows 300000 --chunk-size 75000    # decided in chunks (docs/scale.md)

Writes the synthetic 20-column CSV of bench_scale.py to a temporary folder, runs `run_evaluate` with
`--playbooks none` and `--jobs 1` in this process, and samples its resident memory every 20 ms: each
stage the run reports (reading, features, each chunk, writing …) with the largest resident size seen
while it ran, then the peak of the whole run. Results are written up in docs/performance.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _resident_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * resource.getpagesize() / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--chunk-size", type=int, default=None)
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    from bench_scale import COLUMNS
    from synth import synthetic_customers

    from kamrules.run import EvaluateOptions, run_evaluate

    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "customers.csv"
        synthetic_customers(args.rows)[COLUMNS].to_csv(data, index=False)
        stage, peaks, done = ["start"], {}, threading.Event()

        def sample() -> None:
            while not done.wait(0.02):
                peaks[stage[0]] = max(peaks.get(stage[0], 0.0), _resident_mb())

        threading.Thread(target=sample, daemon=True).start()
        options = EvaluateOptions(data=data, rules=HERE.parent / "rules", out=Path(folder) / "out",
                                  as_of=dt.date(2026, 11, 27), playbooks="none", jobs=1, chunk_size=args.chunk_size)
        started = time.perf_counter()
        run_evaluate(options, progress=lambda name: stage.__setitem__(0, name))
        seconds = time.perf_counter() - started
        done.set()
    print(f"| stage ({args.rows:,} accounts, chunk size {args.chunk_size or 'none'}) | peak resident |")
    print("|---|---:|")
    for name, peak in peaks.items():
        if not name.startswith("decision "):
            print(f"| {name} | {peak:,.0f} MB |")
    print(f"| **the run** ({seconds:.0f} s) | **{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB** |")


if __name__ == "__main__":
    main()
