"""A whole `kamrules evaluate` run on a large export: time and peak memory.

    python benchmarks/bench_scale.py                  # 100,000 and 1,000,000 accounts
    python benchmarks/bench_scale.py --rows 100000
    python benchmarks/bench_scale.py --rows 100000 --playbooks default   # default options (key + potential plans)
    python benchmarks/bench_scale.py --rows 1000000 --format parquet
    python benchmarks/bench_scale.py --rows 1000000 --jobs 1            # one process (default: the command's, all cores)
    python benchmarks/bench_scale.py --rows 1000000 --chunk-size 250000  # decided in chunks (docs/scale.md)
    python benchmarks/bench_scale.py --rows 2000000 --engine dask        # Parquet parts of 250,000 on a LocalCluster
    python benchmarks/bench_scale.py --rows 2000000 --input parquet --format parquet   # Parquet in, Parquet out

With `--input parquet` the portfolio is written as a Parquet file, and the last column is the run's wall
and CPU time over those pyarrow takes to read that file and write it back as Parquet (a fresh process
each time, median of three: the yardstick of "reading and writing at Arrow's speed"; on a shared
machine the CPU ratio is the steadier one).

Writes a 20-column CSV (20 of the default pack's fields, realistic skew) to a temporary folder and runs
the real command on it in a child process — `kamrules evaluate FILE --playbooks none` — reporting the
stage times the command prints, the peak resident memory of its largest process, and the peak memory
of all its processes together (proportional set size, sampled every 50 ms: a forked writer's shared
pages counted once).
Results are written up in docs/performance.md.
"""

from __future__ import annotations

import argparse
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
COLUMNS = ["account_id", "account_name", "region", "customer_type", "sales", "sales_prev", "gross_profit",
           "contract_months", "strategic_project", "share_of_wallet", "share_of_wallet_prev", "nps",
           "open_complaints", "oldest_complaint_days", "last_contact", "last_order", "order_interval_days",
           "overdue_days", "customer_trend", "partnership_intent"]


def _tree(pid: int) -> list[int]:
    """The process and all its descendants (Linux /proc)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                todo += [int(child) for child in task.read_text().split()]
            except OSError:
                pass
    return found


def _pss_mb(pid: int) -> float:
    """Proportional set size of a process tree in MB: shared pages (a forked writer shares the run's
    memory until it writes to it) are counted once, split between the processes that share them."""
    total = 0
    for member in _tree(pid):
        try:
            for line in Path(f"/proc/{member}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


class _PeakPss(threading.Thread):
    """Samples the run's process tree every 50 ms; `peak` is the largest sum seen (0 off Linux)."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.done = pid, 0.0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.05):
            self.peak = max(self.peak, _pss_mb(self.pid))


def arrow_round_trip(data: Path, folder: Path) -> tuple[float, float]:
    """(wall, CPU) seconds pyarrow takes to read `data` (Parquet) and write it back as Parquet: the median
    of three runs, each in a fresh child process (imports not counted)."""
    script = ("import sys, time, pyarrow.parquet as pq; t, c = time.perf_counter(), time.process_time(); "
              "pq.write_table(pq.read_table(sys.argv[1]), sys.argv[2], compression='zstd'); "
              "print(time.perf_counter() - t, time.process_time() - c)")
    runs = [tuple(map(float, subprocess.run([sys.executable, "-c", script, str(data), str(folder / "round-trip.parquet")],
                                            capture_output=True, text=True, check=True).stdout.split()))
            for _ in range(3)]
    return sorted(r[0] for r in runs)[1], sorted(r[1] for r in runs)[1]


PART_ROWS = 250_000  # accounts per Parquet part of a Dask dataset


def _parts(rows: int, folder: Path) -> Path:
    """The synthetic portfolio as Parquet parts of PART_ROWS accounts (made a part at a time)."""
    from synth import synthetic_customers

    data = folder / f"parts-{rows}"
    if not data.exists():
        data.mkdir()
        for number, start in enumerate(range(0, rows, PART_ROWS)):
            part = synthetic_customers(min(PART_ROWS, rows - start), seed=7 + number)[COLUMNS]
            part["account_id"] = [f"{start + i:08d}" for i in range(len(part))]
            part.to_parquet(data / f"part-{number:04d}.parquet", index=False)
    return data


def _command(rows: int, folder: Path, jobs: int, fmt: str, playbooks: str, chunk_size: int | None,
             engine: str, source: str = "csv") -> tuple[Path, list[str]]:
    """(the input, the command line) of one measured run."""
    from synth import synthetic_customers

    out = folder / f"out-{rows}"
    common = ["--out", str(out), "--force", "--as-of", "2026-11-27"]
    if engine == "dask":
        data = _parts(rows, folder)
        return data, [sys.executable, "-m", "kamrules", "evaluate", str(data), "--engine", "dask", *common]
    data = folder / f"customers-{rows}.{source}"
    if not data.exists():
        portfolio = synthetic_customers(rows)[COLUMNS]
        portfolio.to_parquet(data, index=False) if source == "parquet" else portfolio.to_csv(data, index=False)
    return data, [sys.executable, "-m", "kamrules", "evaluate", str(data), *common, "--jobs", str(jobs), "--format", fmt,
                  *([] if playbooks == "default" else ["--playbooks", playbooks]),
                  *([] if chunk_size is None else ["--chunk-size", str(chunk_size)])]


def run(rows: int, folder: Path, jobs: int, fmt: str = "csv", playbooks: str = "none",
        chunk_size: int | None = None, engine: str = "process", source: str = "csv") -> str:
    sys.path.insert(0, str(HERE))
    data, command = _command(rows, folder, jobs, fmt, playbooks, chunk_size, engine, source)
    out = folder / f"out-{rows}"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=folder)
    sampler = _PeakPss(child.pid)
    sampler.start()
    stdout, stderr = child.communicate()
    sampler.done.set()
    sampler.join()
    result = subprocess.CompletedProcess(child.args, child.returncode, stdout, stderr)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(result.stderr)
    stages = re.search(r"— (features.*)$", " ".join(result.stdout.split()))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)  # steadier on a busy machine
    peak = after.ru_maxrss / 1024
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 2**20
    size_in = sum(p.stat().st_size for p in ([data] if data.is_file() else data.glob("*.parquet"))) / 2**20
    ratio = ""
    if source == "parquet" and engine == "process":
        wall, processor = arrow_round_trip(data, folder)
        ratio = f" {seconds / wall:.1f}× wall, {cpu / processor:.1f}× CPU (pyarrow {wall:.2f} s, {processor:.2f} s CPU) |"
    return (f"| {rows:,} | {jobs} | {size_in:.0f} MB | {seconds:.0f} s | {cpu:.0f} s | {peak:,.0f} MB | "
            f"{sampler.peak:,.0f} MB | {size:,.0f} MB | {stages.group(1) if stages else ''} |{ratio}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--jobs", type=int, default=0, help="--jobs of the command (0: its default, all cores)")
    parser.add_argument("--format", default="csv", help="the decision table's format (csv, parquet, …)")
    parser.add_argument("--playbooks", default="none", help="'none' (default here), 'default' (the command's own default)")
    parser.add_argument("--chunk-size", type=int, default=None, help="--chunk-size of the command (default: none, all at once)")
    parser.add_argument("--engine", default="process", choices=["process", "dask"],
                        help="dask: the input as Parquet parts of 250,000 accounts, --engine dask on a LocalCluster")
    parser.add_argument("--input", default="csv", choices=["csv", "parquet"],
                        help="the portfolio's file format; parquet adds the ratio to a pyarrow read + write")
    args = parser.parse_args()
    parquet = args.input == "parquet" and args.engine == "process"
    print(f"| accounts | jobs | {args.input.upper()} in | wall time | CPU time | peak RSS (largest process) "
          "| peak PSS (all processes) | outputs | stages (as printed) |" + " ÷ pyarrow read + write |" * parquet)
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---|" + "---:|" * parquet)
    with tempfile.TemporaryDirectory() as folder:
        for rows in args.rows:  # peak RSS is the largest child so far: run sizes in increasing order
            print(run(rows, Path(folder), args.jobs, args.format, args.playbooks, args.chunk_size, args.engine,
                      args.input), flush=True)


if __name__ == "__main__":
    main()
