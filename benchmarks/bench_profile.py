"""The key-account profile on a large evaluated table (issue #16: 1,000,000 accounts ≤ 10 s).

    python benchmarks/bench_profile.py                       # 1,000,000 accounts
    python benchmarks/bench_profile.py --sizes 100000 --repeat 3

The profile reads the evaluated table (fields, features, outputs as columns): the benchmark builds that
table directly from the synthetic customers (benchmarks/synth.py) with the default pack's attributes and
a tier column (the top accounts by sales are key, the next ones potential), so it times the profile
alone — `build_profile` keeping the 10,000 look-alikes lookalikes.csv lists, then profile.csv and lookalikes.csv in memory —
not the engine. Results are written up in docs/performance.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def table_of(size: int):
    sys.path.insert(0, str(HERE))
    import numpy as np
    from synth import synthetic_customers

    frame = synthetic_customers(size)
    rank = frame["sales"].rank(ascending=False, method="first").to_numpy()
    frame["tier"] = np.where(rank <= size * 0.05, "key", np.where(rank <= size * 0.15, "potential", "standard"))
    return frame


def measure(size: int, repeat: int) -> dict:
    from kamrules.data.tables import table_bytes
    from kamrules.pack import load_pack
    from kamrules.resources import default_dir
    from kamrules.results.profile import LOOKALIKES_FILE, build_profile, lookalike_frame, profile_frame

    pack = load_pack(default_dir("rules"))
    table = table_of(size)
    times, profile = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        profile = build_profile(pack, table, needed=list(pack.fields), lookalike_count=LOOKALIKES_FILE)
        table_bytes(profile_frame(profile), "csv")
        table_bytes(lookalike_frame(profile), "csv")
        times.append(time.perf_counter() - started)
    return {"accounts": size, "seconds": statistics.median(times), "best": min(times),
            "rows": len(profile.rows), "lookalikes": profile.lookalike_total}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000", help="comma-separated account counts")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print("| accounts | profile + CSVs (median) | best | value rows | look-alikes |")
    print("|---|---|---|---|---|")
    for size in (int(s) for s in args.sizes.split(",")):
        r = measure(size, args.repeat)
        print(f"| {r['accounts']:,} | {r['seconds']:.2f} s | {r['best']:.2f} s | {r['rows']} | {r['lookalikes']:,} |")


if __name__ == "__main__":
    main()
