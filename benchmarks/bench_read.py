"""Benchmark kamrules.data.reader.read_table: time and peak memory for large 20-column CSV files.

    python benchmarks/bench_read.py                 # 100,000 and 1,000,000 rows, clean and messy
    python benchmarks/bench_read.py --rows 50000    # one size
    python benchmarks/bench_read.py --markdown      # print a table for docs/performance.md
    python benchmarks/bench_read.py --rows 100000 --write csv,json,parquet,xlsx   # also time the writers

Each file is read in a fresh child process, so the peak resident memory (ru_maxrss) is that of the
read alone, imports included. "clean" files hold plain numbers and ISO dates (the vectorised path);
"messy" files are GB18030 with ';' delimiters, "¥1,234", "12万", "35%", "(1,200)", "2026/01/31" and
"2026年1月31日" (the per-distinct-value path), as Chinese CRM exports often are.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLUMNS = 20
REGIONS = ["华东", "华南", "华北", "西南", "East", "West"]


def fields():
    from kamrules.pack.fields import FieldSpec

    specs = [
        FieldSpec("account_id", "string", required=True),
        FieldSpec("account_name", "string"),
        FieldSpec("region", "string"),
        FieldSpec("customer_type", "category", values=("enterprise", "government", "retailer"),
                  value_aliases={"企业": "enterprise", "政府": "government", "零售商": "retailer"}),
        FieldSpec("sales", "number", required=True),
        FieldSpec("sales_prev", "number"),
        FieldSpec("margin", "number"),
        FieldSpec("share_of_wallet", "number"),
        FieldSpec("visits", "integer"),
        FieldSpec("nps", "integer"),
        FieldSpec("last_visit", "date"),
        FieldSpec("contract_end", "date"),
        FieldSpec("strategic_project", "boolean"),
        FieldSpec("exclusive", "boolean"),
    ]
    specs += [FieldSpec(f"metric_{i}", "number") for i in range(COLUMNS - len(specs))]
    return specs


def generate(path: Path, rows: int, messy: bool, seed: int = 7) -> None:
    """Write a deterministic 20-column customer file."""
    rng = random.Random(seed)
    names = [spec.name for spec in fields()]
    delimiter = ";" if messy else ","
    encoding = "gb18030" if messy else "utf-8"
    types = ["企业", "政府", "零售商"] if messy else ["enterprise", "government", "retailer"]

    def money(value: float) -> str:
        if not messy:
            return f"{value:.2f}"
        form = rng.randrange(4)
        if form == 0:
            return f"¥{value:,.2f}"
        if form == 1:
            return f"{value / 10000:.1f}万"
        if form == 2:
            return f"({value:,.0f})" if value < 20000 else f"{value:,.2f}"
        return f"{value:.2f}"

    def day() -> str:
        y, m, d = rng.choice((2024, 2025, 2026)), rng.randint(1, 12), rng.randint(1, 28)
        if not messy:
            return f"{y}-{m:02d}-{d:02d}"
        return rng.choice((f"{y}/{m:02d}/{d:02d}", f"{y}年{m}月{d}日", f"{y}-{m:02d}-{d:02d}"))

    with open(path, "w", encoding=encoding, newline="") as handle:
        handle.write(delimiter.join(names) + "\n")
        for i in range(rows):
            sales = rng.uniform(1000, 5_000_000)
            row = [
                f"{i:08d}",
                f"客户{i}有限公司" if messy else f"Customer {i} Ltd",
                rng.choice(REGIONS),
                rng.choice(types),
                money(sales),
                money(sales * rng.uniform(0.5, 1.5)),
                f"{rng.uniform(0, 60):.1f}%" if messy else f"{rng.uniform(0, 0.6):.3f}",
                f"{rng.uniform(0, 1):.3f}",
                str(rng.randint(0, 40)),
                str(rng.randint(0, 10)),
                day(),
                day(),
                rng.choice(("是", "否")) if messy else rng.choice(("yes", "no")),
                rng.choice(("有", "无", "")) if messy else rng.choice(("true", "false", "")),
            ]
            row += [f"{rng.uniform(0, 1000):.2f}" for _ in range(COLUMNS - len(row))]
            handle.write(delimiter.join(row) + "\n")


def child(path: Path, write_formats: list[str]) -> None:
    """Read one file (then write the frame in each format) and print the measurements as JSON."""
    import resource

    sys.path.insert(0, str(ROOT))
    started = time.perf_counter()
    from kamrules.data.reader import read_table

    imported = time.perf_counter()
    result = read_table(path, fields())
    finished = time.perf_counter()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if platform.system() == "Darwin":
        peak_kib //= 1024  # macOS reports bytes
    writes = {}
    if write_formats:
        from kamrules.data.tables import table_bytes

        for fmt in write_formats:
            started = time.perf_counter()
            size = len(table_bytes(result.frame, fmt))
            writes[fmt] = {"seconds": round(time.perf_counter() - started, 2), "mb": round(size / 2**20)}
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // (1024 if platform.system() == "Darwin" else 1)
        writes["peak_rss_mb"] = round(after / 1024)
    print(json.dumps({
        "rows": len(result.frame),
        "seconds": round(finished - imported, 2),
        "import_seconds": round(imported - started, 2),
        "peak_rss_mb": round(peak_kib / 1024),
        "frame_mb": round(result.frame.memory_usage(deep=True).sum() / 2**20),
        "encoding": result.source["encoding"],
        "write": writes,
    }))


def measure(path: Path, write_formats: list[str]) -> dict:
    command = [sys.executable, __file__, "--child", str(path)]
    if write_formats:
        command += ["--write", ",".join(write_formats)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, action="append", help="rows per file (repeatable); default 100000 and 1000000")
    parser.add_argument("--only", choices=("clean", "messy"), help="only one kind of file")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--write", default="", help="also time table_bytes on the frame read, e.g. csv,xlsx")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    write_formats = [fmt for fmt in args.write.split(",") if fmt]
    if args.child:
        child(args.child, write_formats)
        return
    sizes = args.rows or [100_000, 1_000_000]
    kinds = [args.only] if args.only else ["clean", "messy"]
    results = []
    with tempfile.TemporaryDirectory(prefix="kamrules-bench-") as folder:
        for rows in sizes:
            for kind in kinds:
                path = Path(folder) / f"customers-{rows}-{kind}.csv"
                generate(path, rows, messy=kind == "messy")
                result = measure(path, write_formats)
                result.update(kind=kind, file_mb=round(path.stat().st_size / 2**20))
                results.append(result)
                if not args.markdown:
                    print(json.dumps(result), flush=True)
                path.unlink()
    if args.markdown:
        print("| rows | file | size | encoding | read time | peak RSS | frame in memory |")
        print("|---:|---|---:|---|---:|---:|---:|")
        for r in results:
            print(f"| {r['rows']:,} | {r['kind']} | {r['file_mb']} MB | {r['encoding']} | {r['seconds']} s "
                  f"| {r['peak_rss_mb']} MB | {r['frame_mb']} MB |")
        if write_formats:
            print("\n| rows | file | " + " | ".join(f"write {fmt}" for fmt in write_formats) + " | peak RSS |")
            print("|---:|---|" + "---:|" * (len(write_formats) + 1))
            for r in results:
                cells = [f"{r['write'][fmt]['seconds']} s ({r['write'][fmt]['mb']} MB)" for fmt in write_formats]
                print(f"| {r['rows']:,} | {r['kind']} | " + " | ".join(cells) + f" | {r['write']['peak_rss_mb']} MB |")


if __name__ == "__main__":
    main()
