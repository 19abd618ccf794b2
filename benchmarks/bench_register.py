"""The register of reviews at scale (issue #24 item 6): recording, an account's timeline, the register's
growth per review.

    python benchmarks/bench_register.py                          # 1,000,000 accounts, 8 reviews
    python benchmarks/bench_register.py --rows 100000 --reviews 3

Each review is a synthetic portfolio (benchmarks/synth.py, a new seed per quarter: every account's sales
and facts change) evaluated with the default pack as `kamrules evaluate` does (library `evaluate`), then
recorded with `kamrules.register.record_run`, timed alone. After the last review: the portfolio's trend,
an account's timeline by id and by exact name (the target: < 1 s at 8 reviews of a million accounts), the
history facts for a run after the last review, and the previous review read for `--previous`. Written up
in docs/performance.md ("The register of reviews").
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIRST = dt.date(2025, 3, 31)


def _timed(work, repeat: int = 1) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--reviews", type=int, default=8)
    parser.add_argument("--folder", type=Path, default=None, help="where the register is written (default: a temporary folder)")
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    from synth import synthetic_customers

    from kamrules.engine.evaluate import default_jobs, evaluate
    from kamrules.pack import load_pack
    from kamrules.register import (RunFacts, account_timeline, history_facts, portfolio_trend, previous_side,
                                   record_run)
    from kamrules.resources import default_dir

    pack = load_pack(default_dir("rules"))
    with tempfile.TemporaryDirectory(dir=args.folder) as work:
        path = Path(work) / "reviews.db"
        print(f"{args.rows:,} accounts × {args.reviews} reviews, register {path}")
        print("review | as of      | evaluate s | record s | accounts/s | register MB | growth MB")
        size = 0
        for k in range(args.reviews):
            as_of = FIRST + dt.timedelta(days=91 * k)
            frame = synthetic_customers(args.rows, seed=7 + k)
            started = time.perf_counter()
            evaluation = evaluate(pack, frame, as_of=as_of, jobs=default_jobs(), input_name=f"q{k}.csv")
            evaluate_seconds = time.perf_counter() - started
            del frame
            seconds, _ = _timed(lambda: record_run(path, evaluation, RunFacts(f"q{k}.csv", f"{k:064x}")))
            now = os.path.getsize(path)
            print(f"{k + 1:6} | {as_of} | {evaluate_seconds:10.1f} | {seconds:8.1f} | {args.rows / seconds:10,.0f} | "
                  f"{now / 1e6:11.1f} | {(now - size) / 1e6:9.1f}")
            size = now
            del evaluation
        middle = f"{args.rows // 2:07d}"
        after = FIRST + dt.timedelta(days=91 * args.reviews)
        for label, work_ in (("trend (history)", lambda: portfolio_trend(path)),
                             (f"timeline by id ({middle})", lambda: account_timeline(path, middle)),
                             (f"timeline by name (Account {args.rows // 2})",
                              lambda: account_timeline(path, f"Account {args.rows // 2}")),
                             ("history facts", lambda: history_facts(path, after)),
                             ("previous review (--previous)", lambda: previous_side(path, after, pack.name))):
            seconds, result = _timed(work_, repeat=3)
            print(f"{label}: {seconds:.3f} s (median of 3)")
        print(f"register: {size / 1e6:.1f} MB for {args.reviews} reviews of {args.rows:,} accounts "
              f"({size / 1e6 / args.reviews:.1f} MB per review)")


if __name__ == "__main__":
    main()
