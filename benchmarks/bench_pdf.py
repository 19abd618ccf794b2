"""`kamrules evaluate --pdf` against the same run without it (issue #28 item 5: at most 3x).

    python benchmarks/bench_pdf.py                       # the three cases below, 5 pairs each
    python benchmarks/bench_pdf.py --case example-zh --pairs 9
    python benchmarks/bench_pdf.py --kamrules "/other/venv/bin/python -m kamrules"   # another install
    python benchmarks/bench_pdf.py --stages              # in one process: where a PDF's time goes

Cases (each `--playbooks key --as-of 2026-11-27`):
- example-en, example-zh: the bundled example (examples/customers.csv, 300 accounts): the key
  accounts' playbooks and the report, in English and in Chinese;
- export-zh: a messy Chinese CRM export of 360 accounts (examples/generate.py's GBK export, written for
  the whole book: Chinese headers, 万 amounts, mixed dates), `--encoding gb18030 --lang zh --set
  key_account_managers=5`: 40 key accounts (five managers of eight).

Each pair runs the command without `--pdf` and then with it, in child processes, and measures each
run from outside: wall time, and CPU time (user + system of the command and the worker processes it
waited for). The ratios are taken pair by pair and their median reported, so a machine whose speed
drifts (other jobs) moves both runs of a pair. `--jobs` is the command's default (every core) unless
given.

`--stages` runs the PDF work of the example in this process, one document after another, and reports
the one-off costs (reading the font, making the run's working font) and each PDF's layout and save,
then the same documents as fpdf2 alone sets them (`pdf_fonts.plain_fpdf2()`: every document reads and
subsets the whole font and measures every text afresh), and checks both give the same bytes.
Results are written up in docs/performance.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2026-11-27"
TARGET = 3.0


def chinese_export(folder: Path, accounts: int = 360) -> Path:
    """The example generator's messy Chinese GBK export, for the whole book of `accounts` accounts (the
    bundled one holds the first 40)."""
    sys.path.insert(0, str(ROOT / "examples"))
    import generate

    generate.N_ACCOUNTS = accounts
    book = generate.build_accounts()
    path = folder / f"customers-zh-{accounts}-gbk.csv"
    with path.open("wb") as out:
        for start in range(0, len(book), 40):  # the generator writes 40 rows a file
            part = folder / "part.csv"
            generate.write_customers_zh(book[start:start + 40], part)
            lines = part.read_bytes().split(b"\r\n", 1)
            out.write(lines[0] + b"\r\n" if start == 0 else b"")
            out.write(lines[1])
    return path


def cases(folder: Path) -> dict[str, list[str]]:
    example = str(ROOT / "examples" / "customers.csv")
    return {
        "example-en": [example, "--lang", "en"],
        "example-zh": [example, "--lang", "zh"],
        "export-zh": [str(chinese_export(folder)), "--encoding", "gb18030", "--lang", "zh",
                      "--set", "key_account_managers=5"],
    }


def timed(command: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and the processes it waited for)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{shlex.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def pairs(kamrules: list[str], args: list[str], out: Path, count: int, jobs: int | None) -> dict:
    base = [*kamrules, "evaluate", *args, "--playbooks", "key", "--as-of", AS_OF, "-q", "--force"]
    if jobs:
        base += ["--jobs", str(jobs)]
    timed([*base, "--out", str(out / "warm-up")])  # imports and files in the page cache
    plain, pdf = [], []
    for _ in range(count):
        plain.append(timed([*base, "--out", str(out / "plain")]))
        pdf.append(timed([*base, "--out", str(out / "pdf"), "--pdf"]))
    documents = len(list((out / "pdf").rglob("*.pdf")))
    median = statistics.median
    return {"documents": documents,
            "plain_wall": median(w for w, _ in plain), "pdf_wall": median(w for w, _ in pdf),
            "plain_cpu": median(c for _, c in plain), "pdf_cpu": median(c for _, c in pdf),
            "wall_ratio": median(b[0] / a[0] for a, b in zip(plain, pdf)),
            "cpu_ratio": median(b[1] / a[1] for a, b in zip(plain, pdf)),
            "ratio_range": (min(b[0] / a[0] for a, b in zip(plain, pdf)), max(b[0] / a[0] for a, b in zip(plain, pdf)))}


# ------------------------------------------------------------------------------------------ --stages


def stages(lang: str) -> None:
    sys.path.insert(0, str(ROOT))
    import pandas as pd

    from kamrules.documents import playbook_links, render_playbooks
    from kamrules.documents import pdf as pdf_module
    from kamrules.documents import pdf_fonts
    from kamrules.documents.report import build_report_context, render_report
    from kamrules.engine.evaluate import evaluate
    from kamrules.pack import load_pack
    from kamrules.resources import default_dir, example_data
    from kamrules.results.portfolio import summarise

    as_of = dt.date.fromisoformat(AS_OF)
    frame = pd.read_csv(example_data(), dtype={"account_id": str})
    evaluation = evaluate(load_pack(default_dir("rules")), frame, as_of=as_of, input_name="customers.csv", jobs=1)
    files = render_playbooks(evaluation, selection="key", lang=lang)
    links = playbook_links(files, evaluation)
    summary = summarise(evaluation, lang=lang)
    files["report.html"] = render_report(evaluation, summary, lang=lang, playbook_links=links)
    view = build_report_context(evaluation, summary, lang=lang, playbook_links=links)
    b_cut = evaluation.pack.param_values.get("abc_b_cut")
    copies = pdf_module._copies(files, lang, as_of, view)
    options = {"lang": lang, "as_of": as_of, "report": view, "b_cut": b_cut}

    cpu = time.process_time
    started = cpu()
    import fpdf  # noqa: F401

    imported = cpu() - started
    started = cpu()
    pdf_fonts._master()
    font = cpu() - started
    started = cpu()
    pdf_fonts.prepare([*(c.html for c in copies), *(c.footer for c in copies), *pdf_module.pdf_words(lang)])
    working = cpu() - started
    glyphs = len(pdf_fonts._working.glyphs)
    made, layout, save = {}, [], []
    from kamrules.documents.pdf_layout import Document

    original = Document.output  # each document timed in two parts: layout, then save

    def output(self, *args, **kwargs):
        output.laid = cpu()
        return original(self, *args, **kwargs)

    Document.output = output
    try:
        for copy in copies:
            started = cpu()
            made[copy.target] = pdf_module._make(copy, options)
            ended = cpu()
            layout.append(output.laid - started)
            save.append(ended - output.laid)
    finally:
        Document.output = original
    pdf_fonts.release()
    with pdf_fonts.plain_fpdf2():
        started = cpu()
        alone = {copy.target: pdf_module._make(copy, options) for copy in copies}
        alone_cpu = cpu() - started
    same = alone == made
    n = len(copies)
    print(f"# {lang}: {n} PDFs (the example's key accounts and the report), one process, CPU seconds")
    print(f"import fpdf2 {imported:.3f} · read the font once {font:.3f} · working font ({glyphs} glyphs) {working:.3f}")
    print(f"layout {sum(layout):.2f} s ({1000 * statistics.median(layout):.0f} ms a PDF, median) · "
          f"save {sum(save):.2f} s ({1000 * statistics.median(save):.0f} ms a PDF) · "
          f"all {font + working + sum(layout) + sum(save):.2f} s")
    print(f"fpdf2 alone: {alone_cpu:.2f} s ({1000 * alone_cpu / n:.0f} ms a PDF) · same bytes: {same}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", action="append", choices=["example-en", "example-zh", "export-zh"])
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=None, help="passed to the command (default: its own, every core)")
    parser.add_argument("--kamrules", default=f"{sys.executable} -m kamrules",
                        help="the command to run (default: this Python's kamrules)")
    parser.add_argument("--stages", action="store_true", help="time the PDF work in one process instead")
    parser.add_argument("--stages-lang", choices=["en", "zh"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stages_lang:
        stages(args.stages_lang)
        return
    if args.stages:  # each language in a fresh process, as a run is
        for lang in ("en", "zh"):
            subprocess.run([sys.executable, __file__, "--stages-lang", lang], check=True)
        return
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"# {platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"load average {load:.1f} at the start; {args.pairs} pairs each; median of the ratios pair by pair")
    print("| case | PDFs | without --pdf (wall / CPU) | with --pdf (wall / CPU) | wall ratio (range) | CPU ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    failed = False
    with tempfile.TemporaryDirectory(prefix="bench-pdf-") as folder:
        for name, case_args in cases(Path(folder)).items():
            if args.case and name not in args.case:
                continue
            row = pairs(shlex.split(args.kamrules), case_args, Path(folder) / name, args.pairs, args.jobs)
            failed |= row["wall_ratio"] > TARGET
            low, high = row["ratio_range"]
            print(f"| {name} | {row['documents']} | {row['plain_wall']:.2f} s / {row['plain_cpu']:.2f} s | "
                  f"{row['pdf_wall']:.2f} s / {row['pdf_cpu']:.2f} s | **{row['wall_ratio']:.2f}x** "
                  f"({low:.2f}-{high:.2f}) | {row['cpu_ratio']:.2f}x |", flush=True)
    if failed:
        print(f"# above the target of {TARGET}x", file=sys.stderr)


if __name__ == "__main__":
    main()
