"""`kamrules evaluate` as a library call: read, evaluate, render, write — all or nothing."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from kamrules.errors import UsageError
from kamrules.engine.evaluate import default_jobs, evaluate
from kamrules.pack import RulePack, load_pack
from kamrules.engine.evaluation import Evaluation

FORMATS = ("csv", "xlsx", "json", "parquet")
SELECTIONS = ("key", "key+potential", "all", "none")
LANGS = ("en", "zh")


@dataclass
class EvaluateOptions:
    data: Path
    rules: Path
    out: Path
    as_of: dt.date
    format: str = "csv"
    jobs: int = 0  # 0 = number of cores
    playbooks: str = "key+potential"
    playbooks_dir: Path | None = None
    lang: str = "en"
    force: bool = False
    strict: bool = False
    read_options: object = None  # kamrules.reader.ReadOptions
    columns_file: Path | None = None  # the --columns file, so --out can never contain (and delete) it


@dataclass
class RunResult:
    evaluation: Evaluation
    portfolio: object
    out: Path
    files: list = field(default_factory=list)
    data_issues: list = field(default_factory=list)
    warnings: list = field(default_factory=list)


def parse_as_of(text: str | None) -> dt.date:
    if text is None:
        return dt.date.today()
    try:
        as_of = dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--as-of '{text}' is not a date: write it as YYYY-MM-DD, e.g. --as-of 2026-11-27") from None
    if not AS_OF_RANGE[0] <= as_of <= AS_OF_RANGE[1]:  # pandas dates end in 1677 and 2262; offsets need room
        raise UsageError(f"--as-of {text} is outside {AS_OF_RANGE[0]} … {AS_OF_RANGE[1]}; check the year")
    return as_of


AS_OF_RANGE = (dt.date(1800, 1, 1), dt.date(2199, 12, 31))


def check_choice(option: str, value: str, choices: tuple) -> None:
    if value not in choices:
        raise UsageError(f"{option} '{value}' is not one of: {', '.join(choices)}")


def _hand_over(read) -> object:
    frame, read.frame = read.frame, None
    return frame


def run_evaluate(options: EvaluateOptions, progress: Callable[[str], None] | None = None) -> RunResult:
    """Everything `kamrules evaluate` does; writes OUT atomically or not at all.

    `progress` is called with the name of each stage as it starts (the CLI shows it on a terminal)."""
    step = progress or (lambda stage: None)
    from kamrules import documents as playbooks
    from kamrules.results import portfolio
    from kamrules.documents import report
    from kamrules.results.outputs import decision_frame, manifest, trace_chunks
    from kamrules.data.reader import ReadOptions, read_table
    from kamrules.data.writer import check_out, table_bytes, table_chunks, write_outputs

    check_choice("--format", options.format, FORMATS)
    check_choice("--playbooks", options.playbooks, SELECTIONS)
    check_choice("--lang", options.lang, LANGS)
    jobs = options.jobs or default_jobs()
    inputs = [options.data, options.rules, options.playbooks_dir, options.columns_file]
    check_out(options.out, inputs, force=options.force)  # before minutes of work, not after

    step("loading the rule pack")
    started = time.perf_counter()
    pack: RulePack = load_pack(options.rules, strict=options.strict)
    load_seconds = time.perf_counter() - started
    playbooks.check_templates(pack, playbooks_dir=options.playbooks_dir)

    step(f"reading {options.data.name}")
    started = time.perf_counter()
    read = read_table(options.data, list(pack.fields.values()), options.read_options or ReadOptions())
    read_seconds = time.perf_counter() - started
    from kamrules.data.guards import suspicious_values

    data_warnings = suspicious_values(read.frame, read.row_numbers, pack.role("sales"))  # negative sales, look-alike ids

    # Handed over, not kept: evaluate builds the typed table it needs and lets the raw frame go.
    evaluation = evaluate(pack, _hand_over(read), as_of=options.as_of, jobs=jobs,
                          input_name=options.data.name, row_numbers=read.row_numbers, progress=progress)
    evaluation.source = {k: v for k, v in read.source.items() if k != "path"}
    evaluation.data_issues = read.issues
    summary = portfolio.summarise(evaluation, lang=options.lang, present_fields=list(read.column_map))

    step("writing decisions, trace, playbooks and report")
    started = time.perf_counter()
    files: dict[str, bytes] = {}
    frame, list_columns = decision_frame(evaluation, options.lang)
    files[f"decisions.{options.format}"] = table_chunks(frame, options.format, list_columns=list_columns)
    files["trace.jsonl"] = trace_chunks(evaluation)
    if read.issues:
        import pandas as pd

        issues = pd.DataFrame([vars(i) for i in read.issues], columns=["row", "column", "field", "value", "reason"])
        files["data-issues.csv"] = table_bytes(issues, "csv")
    rendered = playbooks.render_playbooks(evaluation, selection=options.playbooks, lang=options.lang,
                                          playbooks_dir=options.playbooks_dir)
    files.update(rendered)
    links = playbooks.playbook_links(rendered, evaluation)
    files["report.html"] = report.render_report(evaluation, summary, lang=options.lang, playbook_links=links,
                                               playbooks_dir=options.playbooks_dir)
    render_seconds = time.perf_counter() - started
    names = sorted([*files, "manifest.json"])
    files["manifest.json"] = manifest(evaluation, input_path=options.data, jobs=evaluation.jobs, files=names,
                                      data_issues=len(read.issues))
    started = time.perf_counter()
    write_outputs(options.out, files, inputs=[p for p in inputs if p is not None], force=options.force)
    # Clock times are reported on the console, not in OUT: the files stay byte-identical per input.
    evaluation.timings.update({"load_pack": load_seconds, "read": read_seconds, "render": render_seconds,
                               "write": time.perf_counter() - started})
    return RunResult(evaluation, summary, options.out, sorted(files), read.issues, [*pack.warnings, *data_warnings])
