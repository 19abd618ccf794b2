"""What `kamrules test` properties cost: each kind of the default pack's properties on the bundled
example (300 accounts) and on synthetic portfolios, and the whole command.

    python benchmarks/bench_properties.py                 # the example, then 10,000 accounts
    python benchmarks/bench_properties.py --rows 10000 --rows 50000

Each property of rules/tests/properties.yaml is checked alone on each portfolio, in this process,
after one warm-up check (the engine's rulesets are compiled once per process); the figures are the
wall time, the CPU time of this process and how many times the portfolio was evaluated. Then
`kamrules test rules` runs in a child process (imports included) with and without the properties,
and with `--data` on the example. Written up in docs/performance.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
AS_OF = dt.date(2026, 11, 27)


def check_each(pack, properties, portfolio) -> None:
    from kamrules.testing.property_runs import run_properties

    run_properties(pack, [p for p in properties if p.kind == "order_invariant"][:1], [portfolio])  # warm-up
    total_wall = total_cpu = 0.0
    for prop in properties:
        wall, cpu = time.perf_counter(), time.process_time()
        result = run_properties(pack, [prop], [portfolio])[-1]
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        total_wall, total_cpu = total_wall + wall, total_cpu + cpu
        per = f"{1000 * cpu / (result.evaluations + 1):.0f} ms CPU per evaluation" if result.evaluations else ""
        print(f"  {prop.kind:16} {prop.output or ', '.join(prop.outputs) or 'all outputs':16} "
              f"1 + {result.evaluations:2d} evaluations {wall:6.2f} s wall {cpu:6.2f} s CPU  {per}"
              f"{'' if result.passed else '  (fails)'}")
    print(f"  sum of the {len(properties)} properties alone: {total_wall:.2f} s wall, {total_cpu:.2f} s CPU")
    wall, cpu = time.perf_counter(), time.process_time()
    results = run_properties(pack, properties, [portfolio])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"  all together (the portfolio evaluated as it is once, plus "
          f"{sum(r.evaluations for r in results)} changed copies): {wall:.2f} s wall, {cpu:.2f} s CPU")


def timed(args: list[str]) -> str:
    """Wall and CPU time (user + system) of one command in a child process, and its last line."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "kamrules", *args], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    if result.returncode not in (0, 1):
        raise SystemExit(result.stderr)
    last = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    return f"{wall:.2f} s wall, {cpu:.2f} s CPU ({last})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, action="append", help="synthetic portfolio sizes (default: 10000)")
    options = parser.parse_args()
    sys.path.insert(0, str(HERE))
    sys.path.insert(0, str(ROOT))
    from synth import synthetic_customers

    from kamrules.data.reader import ReadOptions
    from kamrules.pack import load_pack
    from kamrules.testing.cases import test_files
    from kamrules.testing.properties import load_properties
    from kamrules.testing.property_runs import Portfolio, data_portfolio

    pack = load_pack(ROOT / "rules")
    properties, errors = load_properties(pack, test_files(ROOT / "rules"))
    if errors:
        raise SystemExit("\n".join(map(str, errors)))
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print("examples/customers.csv, 300 accounts:")
    check_each(pack, properties, data_portfolio(pack, ROOT / "examples" / "customers.csv", ReadOptions(), AS_OF))
    for rows in options.rows or [10_000]:
        print(f"synthetic, {rows:,} accounts:")
        check_each(pack, properties, Portfolio(f"synthetic-{rows}", synthetic_customers(rows), AS_OF))
    print(f"kamrules test rules (cases and properties): {timed(['test', str(ROOT / 'rules'), '--as-of', '2026-11-27'])}")
    print(f"kamrules test rules --no-properties: {timed(['test', str(ROOT / 'rules'), '--as-of', '2026-11-27', '--no-properties'])}")
    example = str(ROOT / "examples" / "customers.csv")
    print(f"kamrules test rules --no-cases --data examples/customers.csv: "
          f"{timed(['test', str(ROOT / 'rules'), '--as-of', '2026-11-27', '--no-cases', '--data', example])}")
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "customers.csv"
        synthetic_customers(10_000).to_csv(data, index=False)
        print(f"kamrules test rules --no-cases --data (10,000 synthetic accounts): "
              f"{timed(['test', str(ROOT / 'rules'), '--as-of', '2026-11-27', '--no-cases', '--data', str(data)])}")


if __name__ == "__main__":
    main()
