"""`kamrules evaluate` as a library call: read, evaluate, render, write — all or nothing."""

from __future__ import annotations

import datetime as dt
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from kamrules.errors import UsageError
from kamrules.engine.decide import default_jobs
from kamrules.engine.evaluate import evaluate
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
    settings: list = field(default_factory=list)  # what-if `--set NAME=VALUE` overrides
    previous: Path | None = None  # `--previous OUT`: an earlier run to compare with
    columns_file: Path | None = None  # the --columns file, so --out can never contain (and delete) it
    pdf: bool = False  # `--pdf`: a PDF copy of each HTML playbook and of the report
    register: Path | None = None  # `--register PATH`: record the run in this register of reviews
    overrides: Path | None = None  # `--overrides FILE`: decision outputs set by hand (kamrules/review)
    contacts: Path | None = None  # `--contacts FILE`: the customers' people (kamrules/review/contacts.py)
    notes: Path | None = None  # `--notes FILE`: notes per account and playbook section (kamrules/review/notes.py)
    # `--chunk-size N`: accounts decided at a time once the portfolio-wide figures are known (engine/chunks.py;
    # the same files whatever N); None (the default): the whole portfolio at once. The results are still
    # written from the whole portfolio's table, so a chunked run does not use less memory yet (docs/scale.md)
    chunk_size: int | None = None


@dataclass
class RunResult:
    evaluation: Evaluation
    portfolio: object
    out: Path
    files: list = field(default_factory=list)
    data_issues: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    timings: dict = field(default_factory=dict)  # seconds per stage: the evaluation's, and reading, rendering, writing
    recorded: object = None  # kamrules.register.Recorded, with --register
    since: object = None  # Since, with --previous: what changed since the last review
    overridden: object = None  # kamrules.review.overrides.OverridePlan, with --overrides


def parse_as_of(text: str | None, data: Path | None = None) -> dt.date:
    """`--as-of`, else the bundled example's own date when `data` is the example, else today."""
    if text is None:
        from kamrules.resources import EXAMPLE_AS_OF, is_example

        return EXAMPLE_AS_OF if is_example(data) else dt.date.today()
    try:
        as_of = dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--as-of '{text}' is not a date: write it as YYYY-MM-DD, e.g. --as-of 2026-11-27") from None
    if not AS_OF_RANGE[0] <= as_of <= AS_OF_RANGE[1]:  # pandas dates end in 1677 and 2262; offsets need room
        raise UsageError(f"--as-of {text} is outside {AS_OF_RANGE[0]} … {AS_OF_RANGE[1]}; check the year")
    return as_of


AS_OF_RANGE = (dt.date(1800, 1, 1), dt.date(2199, 12, 31))


APART_ACCOUNTS = 50_000  # from here on the trace and actions.csv are written beside the decision table (--jobs)


def give_back_memory() -> None:
    """Hand the memory a stage let go of back to the system (glibc's malloc_trim; nothing elsewhere).

    glibc keeps freed memory in its heap, fragmented by a million small objects, and the next stage
    does not always reuse it: at 1,000,000 accounts the text of the file and the engine's working
    columns would stay resident under the outputs' peak (docs/performance.md)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # musl has no libc.so.6 / no malloc_trim: nothing to do
        pass


def _then_give_back(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The chunks, then the memory that made them handed back (a million-account table's parts)."""
    yield from chunks
    give_back_memory()


def read_paths(*paths: Path | None, read_options=None) -> list[Path]:
    """Every path a command reads, so that `--out` can be checked against all of them (a `--columns`
    file kept in the diff's --out folder used to be deleted by the run): the given ones and the
    `--columns` file the reading options came from."""
    found = [Path(p) for p in paths if p is not None]
    columns_file = getattr(read_options, "columns_file", None)
    if columns_file is not None:
        found.append(Path(columns_file))
    return found


def check_choice(option: str, value: str, choices: tuple) -> None:
    if value not in choices:
        raise UsageError(f"{option} '{value}' is not one of: {', '.join(choices)}")


def _hand_over(read) -> object:
    frame, read.frame = read.frame, None
    return frame


def pack_line(pack: RulePack, folder: Path, lang: str = "en") -> str:
    """Which pack a run uses: "pack: rules (my-team 1.2, hash 0123abcd…)"."""
    from kamrules.i18n import CONSOLE

    version = f" {pack.version}" if pack.version else ""
    return CONSOLE.get(lang, CONSOLE["en"])["pack"].format(folder=folder, name=f"{pack.name}{version}", hash=pack.hash)


def run_evaluate(options: EvaluateOptions, progress: Callable[[str], None] | None = None,
                 notice: Callable[[str], None] | None = None) -> RunResult:
    """Everything `kamrules evaluate` does; writes OUT atomically or not at all.

    `progress` is called with the name of each stage as it starts (the CLI shows it on a terminal);
    `notice` with the lines a user should see before the results: the pack used and the column mapping."""
    step = progress or (lambda stage: None)
    tell = notice or (lambda line: None)
    from kamrules import documents as playbooks
    from kamrules.results import portfolio
    from kamrules.results.outputs import manifest, table_record
    from kamrules.data.writer import check_out, write_outputs

    _check_evaluate_options(options)
    jobs = options.jobs or default_jobs()
    inputs = read_paths(options.data, options.rules, options.playbooks_dir, options.columns_file, options.previous,
                        options.register, options.overrides, options.contacts, options.notes,
                        read_options=options.read_options)
    check_out(options.out, inputs, force=options.force)  # before minutes of work, not after

    step("loading the rule pack")
    started = time.perf_counter()
    pack = _load_run_pack(options)
    load_seconds = time.perf_counter() - started
    tell(pack_line(pack, options.rules, options.lang))
    playbooks.check_templates(pack, playbooks_dir=options.playbooks_dir)
    if options.register is not None:  # a register that cannot take this run says so before the work
        from kamrules.register import check_register

        check_register(options.register, pack, options.lang)

    history = run_history_facts(pack, options.as_of, options.previous, options.register, options.lang)
    if history is not None:
        tell(history_line(history, options.lang))

    step(f"reading {options.data.name}")
    started = time.perf_counter()
    read, data_warnings = _read_run_data(options, pack, tell)
    read_seconds = time.perf_counter() - started
    fill_history(read, pack, history, options.data.name, _history_option(options), options.lang)
    give_back_memory()

    overrides = _read_overrides(options, pack, read)
    review = _read_review_inputs(options, pack, read)
    # Handed over, not kept: evaluate builds the typed table it needs and lets the raw frame go.
    evaluate_options = dict(as_of=options.as_of, jobs=jobs, input_name=options.data.name,
                            row_numbers=read.row_numbers, progress=progress, lang=options.lang,
                            headers=read.column_map, source=_source(read),
                            filled=filled_fields(pack, read), chunk_size=options.chunk_size)
    plan = None
    if overrides is not None and overrides.active:  # the rules first, then the overridden decisions
        from kamrules.review.overrides import evaluate_with_overrides

        evaluation, plan = evaluate_with_overrides(pack, _hand_over(read), overrides, **evaluate_options)
    else:
        evaluation = evaluate(pack, _hand_over(read), **evaluate_options)
    give_back_memory()
    summary = portfolio.summarise(evaluation, lang=options.lang)
    give_back_memory()

    since = _since_last_review(options, evaluation, plan) if options.previous is not None else None

    step("writing decisions, trace, playbooks and report")
    started = time.perf_counter()
    cut: list = []  # Excel cells cut at 32,767 characters, known once decisions.xlsx is written
    extra = plan.table_columns(len(evaluation.table), evaluation.pack, options.lang) if plan is not None else None
    files = _output_files(options, evaluation, read, summary, since, step, cut, extra, review,
                          cycle={"plan": plan, "overrides": overrides})
    if overrides is not None:  # what explain --run and diff need of them (docs/review-cycle.md)
        from kamrules.review.overrides import RECORD, record_bytes

        files[RECORD] = record_bytes(overrides, plan)
    if review is not None and review.contacts is not None:  # the stakeholder facts the rules saw (explain --run)
        from kamrules.review import contacts

        files[contacts.RECORD] = contacts.record_bytes(review.contacts, options.as_of)
    render_seconds = time.perf_counter() - started
    names = sorted([*files, "manifest.json"])
    files["manifest.json"] = manifest(evaluation, input_path=options.data, jobs=evaluation.jobs, files=names,
                                      data_issues=len(read.issues), columns=_recorded_mapping(options, read),
                                      lang=options.lang,
                                      table=table_record(evaluation, options.format, options.lang, since is not None,
                                                         extra),
                                      history=history.record() if history is not None else None)
    started = time.perf_counter()
    write_outputs(options.out, files, inputs=inputs, force=options.force,
                  apart=[n for n in files if n.startswith(("trace.", "actions."))]
                  if len(evaluation.table) >= APART_ACCOUNTS else [],
                  jobs=jobs)
    # Clock times are reported on the console, not in OUT: the files stay byte-identical per input.
    timings = {**evaluation.timings, "load_pack": load_seconds, "read": read_seconds, "render": render_seconds,
               "write": time.perf_counter() - started}
    recorded = _record(options, evaluation, read) if options.register is not None else None
    return RunResult(evaluation, summary, options.out, sorted(files), read.issues,
                     [*pack.warnings, *data_warnings, *(overrides.warnings if overrides else []),
                      *(_retire_notes(plan, evaluation, options.lang) if plan is not None else []),
                      *evaluation.warnings, *_cut_warnings(cut, options), *_since_warnings(since, options)],
                     timings, recorded, since, plan)


def _read_review_inputs(options: EvaluateOptions, pack: RulePack, read):
    """`--contacts` and `--notes`, checked against the data's account ids (None without either). The
    contacts give the stakeholder facts the pack declares as fields, added to the data before the rules."""
    if options.contacts is None and options.notes is None:
        return None
    from kamrules.documents.review_cycle import ReviewInputs

    frame = read.frame
    ids = frame["account_id"].astype(object).where(frame["account_id"].notna(), None).tolist() \
        if "account_id" in frame.columns else []
    known = [str(i) for i in ids if i is not None]
    contacts = notes = None
    if options.contacts is not None:
        from kamrules.review.contacts import read_contacts, stakeholder_facts

        contacts = read_contacts(options.contacts, known, options.as_of, options.data.name, options.lang)
        for name, values in stakeholder_facts(contacts, [None if i is None else str(i) for i in ids],
                                              options.as_of, pack).items():
            frame[name] = values
    if options.notes is not None:
        from kamrules.review.notes import read_notes

        notes = read_notes(options.notes, known, options.data.name, options.lang)
    return ReviewInputs(contacts, notes)


def _retire_notes(plan, evaluation: Evaluation, lang: str) -> list[str]:
    from kamrules.review.overrides import retire_notes

    return retire_notes(plan, evaluation.pack, lang)


def _read_overrides(options: EvaluateOptions, pack: RulePack, read):
    """`--overrides FILE`, checked against the pack and the data's account ids (None without it)."""
    if options.overrides is None:
        return None
    from kamrules.review.overrides import read_overrides

    ids = read.frame["account_id"].dropna().astype(str).tolist() if "account_id" in read.frame.columns else []
    return read_overrides(options.overrides, pack, ids, options.as_of, options.data.name, options.lang)


def _source(read) -> dict:
    """What the reader says of the file, as the evaluation keeps it: its format, encoding … (not its path)
    and what a column covers (lifetime, a year to date: the report's data notes)."""
    source = {k: v for k, v in read.source.items() if k != "path"}
    if read.mapping.get("doubts"):
        source["doubts"] = read.mapping["doubts"]
    return source


def _since_warnings(since, options: EvaluateOptions) -> list[str]:
    """--previous: the accounts either run has without an id (counted, never matched)."""
    if since is None:
        return []
    from kamrules.results.diff import without_id_notes

    return without_id_notes(since.result, options.lang)


def _cut_warnings(cut: list, options: EvaluateOptions) -> list[str]:
    """The warning for texts Excel could not hold whole (decisions.xlsx is written, cut, with a warning)."""
    if not cut:
        return []
    from kamrules.i18n import data_text

    count = sum(n for n, _ in cut)
    message = data_text(options.lang, "xlsx_cut", file=f"decisions.{options.format}", n=f"{count:,}",
                        cell=cut[0][1], limit="32,767")
    return [data_text(options.lang, "warning", message=message)]


def _record(options: EvaluateOptions, evaluation: Evaluation, read):
    """`--register`: the run recorded once its output folder is in place (kamrules.register)."""
    from kamrules.register import RunFacts, record_run
    from kamrules.results.outputs import file_hash

    reading = options.read_options
    changing = {name: getattr(reading, name, None) for name in ("sheet", "on_bad_value", "dayfirst", "decimal",
                                                                "header_row", "skip_footer")}
    run = RunFacts(input_name=options.data.name,
                   input_sha256=file_hash(options.data) if options.data.is_file() else None,
                   where=getattr(reading, "where", None),
                   columns_sha256=file_hash(Path(options.columns_file)) if options.columns_file else None,
                   reading={k: v for k, v in changing.items() if v not in (None, False, ".", "error")},
                   out=str(options.out), lang=options.lang)
    return record_run(options.register, evaluation, run, options.lang)


# --------------------------------------------------------------------------------- history facts


def run_history_facts(pack: RulePack, as_of: dt.date, previous: Path | None, register: Path | None,
                      lang: str = "en"):
    """The history facts a run reads (kamrules.data.history_facts), from `--previous` (a register's reviews
    before `as_of`, or one earlier run folder), else from `--register`'s reviews before `as_of`; None
    when neither is given or the pack declares none of the facts' fields (nothing to fill)."""
    from kamrules.data.history_facts import history_fields

    source = previous if previous is not None else register
    if source is None or not history_fields(pack):
        return None
    from kamrules.register import history_facts, is_register, run_folder_facts

    if is_register(source):
        if previous is None and not Path(source).exists():  # --register starts a new register: no review yet
            from kamrules.data.history_facts import HistoryFacts, empty_frame, fingerprint

            empty = empty_frame()
            return HistoryFacts(empty, None, 0, source=str(source), kind="register", digest=fingerprint(empty))
        return history_facts(Path(source), as_of, pack.name, lang)
    from kamrules.results import diff

    before = diff.read_run(Path(source), lang, pack=pack)
    diff.check_compatible(before, diff.Side(pack.name, before.frame.iloc[:0], _pack_decisions(pack), {}))
    diff.adopt_pack(before, pack, lang)
    return run_folder_facts(before, Path(source))


def _pack_decisions(pack: RulePack) -> list:
    from kamrules.results.diff import DecisionSpec

    return [DecisionSpec(d.id, d.id, list(d.outputs), d.policy.lists) for d in pack.decisions]


def history_line(history, lang: str = "en") -> str:
    """The console line saying where the run's history facts come from."""
    from kamrules.i18n import CONSOLE

    words = CONSOLE.get(lang, CONSOLE["en"])
    if not history.reviews:
        return words["history_none"].format(source=history.source)
    key = ("history_run" if history.kind == "run" else
           "history_one" if history.reviews == 1 else "history_many")
    return words[key].format(n=history.reviews, source=history.source, as_of=history.previous_as_of)


def fill_history(read, pack: RulePack, history, data_name: str, option: str, lang: str = "en") -> None:
    """The pack's history fields added to the data read (kamrules.data.history_facts.add_history); a file
    column read as one of them while the facts come from the run's history is refused."""
    from kamrules.data.history_facts import add_history, check_file_columns

    if history is not None:
        check_file_columns(pack, read.column_map, data_name, history, option, lang)
    read.frame = add_history(read.frame, pack, history)


def run_filled(pack: RulePack) -> list[str]:
    """The pack's fields a run fills, never the data file: the history facts (from --register/--previous)
    and the stakeholder facts (from --contacts; docs/review-cycle.md). The console and validate do not say
    the file lacks them, and rules that read them are not "rules that cannot apply" (at a first review or
    without --contacts they are missing on purpose)."""
    from kamrules.data.history_facts import history_fields
    from kamrules.review.contacts import STAKEHOLDER_FACTS

    return history_fields(pack) + [name for name in STAKEHOLDER_FACTS if name in pack.fields]


def filled_fields(pack: RulePack, read) -> list[str]:
    """`run_filled`, less any the file itself has a column for."""
    return [name for name in run_filled(pack) if name not in read.column_map]


def without_filled(mapping: dict, pack: RulePack) -> dict:
    """The reader's description of the columns without the fields a run fills (`run_filled`)."""
    from kamrules.data.history_facts import without_fields

    return without_fields(mapping, run_filled(pack))


def recorded_history(recorded: dict | None, pack: RulePack, as_of: dt.date, out: Path, lang: str = "en"):
    """`explain --run`: the history facts the run read (its manifest's "history"), read again from the same
    register or run folder, refused when they are no longer the same (a review recorded since, before the
    run's date, or the earlier run folder replaced)."""
    if not recorded or not recorded.get("source"):
        return None
    from kamrules.data.wording import say
    from kamrules.errors import ConfigError

    source = Path(str(recorded["source"]))
    if recorded.get("kind") == "run":
        history = run_history_facts(pack, as_of, source, None, lang)
    else:
        history = run_history_facts(pack, as_of, None, source, lang)
    if history is None or history.record()["digest"] != recorded.get("digest"):
        raise ConfigError(say(lang, "rerun_history", out=out, source=source))
    return history


def _history_option(options) -> str:
    return "--previous" if options.previous is not None else "--register"


# --------------------------------------------------------------------------------------- explain


@dataclass
class ExplainOptions:
    """`kamrules explain DATA ACCOUNT` or `kamrules explain --run OUT ACCOUNT`."""

    data: Path | None
    account: str | None
    rules: Path | None = None
    run_out: Path | None = None  # a finished evaluate --out folder
    as_of: str | None = None  # as typed (--run refuses it)
    lang: str | None = None  # None: en, or with --run the run's own
    read_options: object = None  # kamrules.data.reader.ReadOptions
    verbose: bool = False
    settings: list = field(default_factory=list)
    previous: Path | None = None  # history facts, as evaluate reads them (--previous / --register)
    register: Path | None = None
    overrides: Path | None = None  # `--overrides FILE`, as evaluate reads it (--run: the run's own)
    contacts: Path | None = None  # `--contacts FILE`, as evaluate reads it (--run: the run's own)


def run_explain(options: ExplainOptions, notice: Callable[[str], None] | None = None) -> str:
    """Everything `kamrules explain` does: the text that says why the account got its decisions. With
    `run_out`, the run is evaluated again from its own inputs (data, pack, --columns file, --set, --as-of,
    --lang, overrides and stakeholder facts), so the explanation agrees with the documents of that run.
    `notice` is called with the warnings of an --overrides file (expired, ready to retire)."""
    from dataclasses import replace

    from kamrules.data.reader import ReadOptions, read_table
    from kamrules.resources import rules_dir
    from kamrules.results.explain import find_account, render_explanation
    from kamrules.results.explain_brief import render_brief

    if options.lang is not None:
        check_choice("--lang", options.lang, LANGS)
    lang = options.lang or "en"
    read_options = options.read_options or ReadOptions(lang=lang)
    data, account_id = options.data, options.account
    if options.run_out is not None:
        from kamrules.results.rerun import run_inputs

        if options.settings or options.as_of:
            raise UsageError("--run explains the run as it was: leave out --set and --as-of")
        data, account_id = (None, str(data)) if account_id is None else (data, account_id)
        inputs = run_inputs(options.run_out, rules_dir(options.rules), data, read_options,
                            explicit_lang=options.lang is not None)
        data, pack, day, read_options, lang = inputs.data, inputs.pack, inputs.as_of, inputs.options, inputs.lang
        if options.previous is not None or options.register is not None:
            raise UsageError("--run explains the run with the history it read: leave out --previous and --register")
        if options.overrides is not None or options.contacts is not None:
            raise UsageError("--run explains the run with the overrides and contacts it read: leave out --overrides "
                             "and --contacts")
        history = recorded_history(inputs.history, pack, day, options.run_out, lang)
        previous = Path(inputs.history["source"]) if inputs.history and inputs.history.get("kind") == "run" else None
    else:
        if account_id is None:
            raise UsageError("give the data file and the account id: kamrules explain DATA ID "
                             "(or kamrules explain --run OUT ID)")
        pack = load_pack(rules_dir(options.rules))
        if options.settings:
            from kamrules.pack.whatif import with_params

            pack = with_params(pack, options.settings)
        day = parse_as_of(options.as_of, data)
        read_options = replace(read_options, lang=lang)
        previous, register = options.previous, options.register
        history = run_history_facts(pack, day, previous, register, lang)
    read = read_table(data, list(pack.fields.values()), replace(read_options, as_of=day))
    fill_history(read, pack, history, data.name, "--previous" if previous is not None else "--register", lang)
    decide = dict(as_of=day, jobs=1, input_name=data.name, row_numbers=read.row_numbers, lang=lang,
                  headers=read.column_map)
    overrides = _explain_review(options, pack, read, data, day, lang, notice or (lambda line: None))
    plan = None
    if overrides is not None and overrides.active:  # as evaluate applies them: the rules, then the overrides
        from kamrules.review.overrides import evaluate_with_overrides

        evaluation, plan = evaluate_with_overrides(pack, read.frame, overrides, **decide)
        if options.run_out is None:
            for line in _retire_notes(plan, evaluation, lang):
                (notice or (lambda line: None))(line)
    else:
        evaluation = evaluate(pack, read.frame, **decide)
    account = find_account(evaluation, account_id, lang)
    if plan is not None:  # an account nobody overrode is explained by the rules alone
        evaluation, account = plan.explained(evaluation, account)
    heading = ""
    if history is not None:
        from kamrules.results.explain import history_facts_line

        heading = history_line(history, lang) + "\n" + history_facts_line(evaluation, account, lang) + "\n\n"
    return heading + (render_explanation if options.verbose else render_brief)(evaluation, account, lang)


def _explain_review(options: ExplainOptions, pack: RulePack, read, data: Path, day: dt.date, lang: str,
                    tell: Callable[[str], None]):
    """What people added to the plan, for explain as for evaluate: the stakeholder facts added to the data
    read, and the overrides to apply (an OverrideFile, None without). With --run, the run's own records;
    else `--contacts` and `--overrides` read and checked as evaluate reads them (the warnings told)."""
    if options.run_out is not None:
        recorded = _run_overrides(options.run_out, pack, read, data, lang)
        _run_contacts(options.run_out, pack, read, data, lang)
        return recorded.file if recorded is not None else None
    frame = read.frame
    ids = frame["account_id"].astype(object).where(frame["account_id"].notna(), None).tolist() \
        if "account_id" in frame.columns else []
    known = [str(i) for i in ids if i is not None]
    overrides = None
    if options.overrides is not None:
        from kamrules.review.overrides import read_overrides

        overrides = read_overrides(options.overrides, pack, known, day, data.name, lang)
    if options.contacts is not None:
        from kamrules.review.contacts import read_contacts, stakeholder_facts

        book = read_contacts(options.contacts, known, day, data.name, lang)
        for name, values in stakeholder_facts(book, [None if i is None else str(i) for i in ids], day, pack).items():
            frame[name] = values
    for line in overrides.warnings if overrides is not None else []:
        tell(line)
    return overrides


def _run_overrides(out: Path, pack: RulePack, read, data: Path, lang: str):
    """The overrides the run in `out` applied (its overrides.json, checked against the pack and the data's
    ids), None for a run without --overrides; refused when the manifest lists the file and it is gone."""
    from kamrules.data.wording import say
    from kamrules.errors import DataError
    from kamrules.results.run_folder import read_manifest
    from kamrules.review.overrides import RECORD, read_record

    recorded = read_record(out, pack, lang)
    if recorded is None:
        if RECORD in (read_manifest(out, lang).get("outputs") or []):
            raise DataError(say(lang, "overrides_record_missing", folder=out))
        return None
    ids = set(read.frame["account_id"].dropna().astype(str)) if "account_id" in read.frame.columns else set()
    for item in recorded.file.active:
        if item.account not in ids:
            raise DataError(say(lang, "overrides_record_account", path=Path(out) / RECORD, account=item.account,
                                data=data.name))
    return recorded


def _run_contacts(out: Path, pack: RulePack, read, data: Path, lang: str) -> None:
    """The stakeholder facts the run in `out` gave its rules (its contacts.json, checked against the data's
    ids) added to the data read, as the run added them; nothing for a run without --contacts; refused when
    the manifest lists the file and it is gone."""
    from kamrules.data.wording import say
    from kamrules.errors import DataError
    from kamrules.results.run_folder import read_manifest
    from kamrules.review.contacts import RECORD, facts_columns, read_record

    facts = read_record(out, lang)
    if facts is None:
        if RECORD in (read_manifest(out, lang).get("outputs") or []):
            raise DataError(say(lang, "contacts_record_missing", folder=out))
        return
    frame = read.frame
    ids = frame["account_id"].astype(object).where(frame["account_id"].notna(), None).tolist() \
        if "account_id" in frame.columns else []
    known = {str(i) for i in ids if i is not None}
    for account in facts:
        if account not in known:
            raise DataError(say(lang, "contacts_record_account", path=Path(out) / RECORD, account=account,
                                data=data.name))
    for name, values in facts_columns(facts, [None if i is None else str(i) for i in ids], pack).items():
        frame[name] = values


# --------------------------------------------------------------------------------------- columns


@dataclass
class ColumnsOptions:
    """`kamrules columns FILE [--columns MAP] [--write MAP]`."""

    data: Path
    rules: Path
    lang: str = "en"
    read_options: object = None  # kamrules.data.reader.ReadOptions (with the --columns mapping)
    write: Path | None = None  # where to write the starter --columns file
    force: bool = False  # replace an existing --write file
    columns_file: Path | None = None  # the --columns file given (may be --write itself: a second pass)


def run_columns(options: ColumnsOptions) -> str:
    """Everything `kamrules columns` does: how each field would be found, what to decide, and with
    `write` the starter --columns file (written atomically); the text to print."""
    from kamrules.data.reader import ReadOptions
    from kamrules.data.survey import starter_mapping, survey_columns, survey_lines
    from kamrules.data.wording import say
    from kamrules.errors import ConfigError

    check_choice("--lang", options.lang, LANGS)
    pack = load_pack(options.rules)
    from kamrules.data.history_facts import history_fields

    facts = set(history_fields(pack))  # filled from --previous / --register, never a column to find
    fields = [spec for name, spec in pack.fields.items() if name not in facts]
    survey = survey_columns(options.data, fields, options.read_options or ReadOptions(lang=options.lang),
                            group_fields(pack))
    lines = survey_lines(survey, fields, options.lang)
    target = options.write
    if target is None:
        settled = not (survey.proposed or survey.missing or survey.unknown or survey.lookalikes or survey.doubts
                       or survey.status or survey.problems or survey.alternatives or survey.period_doubts)
        lines.append(say(options.lang, "survey_nothing" if settled else "survey_next", data=options.data,
                         file="columns.yaml"))
        return "\n".join(lines) + "\n"
    same = options.columns_file is not None and Path(options.columns_file).resolve() == Path(target).resolve()
    if Path(target).resolve() == Path(options.data).resolve() or (Path(target).exists() and not options.force
                                                                     and not same):
        raise ConfigError(say(options.lang, "survey_exists", file=target))
    text = starter_mapping(survey, fields, options.lang, data_name=str(options.data), out_name=str(target))
    _write_text_atomically(Path(target), text)
    lines.append(say(options.lang, "survey_written", file=target, data=options.data))
    return "\n".join(lines) + "\n"


def _write_text_atomically(path: Path, text: str) -> None:
    """Write a small text file whole or not at all (a temporary file beside it, then renamed)."""
    import os
    import tempfile

    from kamrules.errors import ConfigError

    folder = path.resolve().parent
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # as any file the user writes (mkstemp makes it private)
        os.replace(temporary, path)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be written ({exc.strerror or exc})") from None


# --------------------------------------------------------------------------------------- profile


def evaluation_profile(evaluation: Evaluation, lookalike_count: int | None = 20):
    """The key-account profile of an evaluation (kamrules.results.profile), None when the pack has none;
    `lookalike_count` look-alikes (None: all of them)."""
    from kamrules.documents.review import needed_fields
    from kamrules.results.profile import profile_of

    return profile_of(evaluation, needed=needed_fields(evaluation.pack), lookalike_count=lookalike_count)


def profile_files(profile) -> dict:
    """profile.csv and lookalikes.csv from the run's profile, when the pack declares attributes and has a tier."""
    from kamrules.data.tables import table_bytes
    from kamrules.results.profile import lookalike_frame, profile_frame

    if profile is None:
        return {}
    return {"profile.csv": table_bytes(profile_frame(profile), "csv"),
            "lookalikes.csv": table_bytes(lookalike_frame(profile), "csv")}


@dataclass
class ProfileOptions:
    data: Path
    rules: Path
    as_of: dt.date
    lang: str = "en"
    read_options: object = None


def run_profile(options: ProfileOptions) -> str:
    """Everything `kamrules profile` does: read, evaluate, profile; the text to print."""
    from kamrules.data.reader import ReadOptions, read_table
    from kamrules.results.profile_text import render_profile

    check_choice("--lang", options.lang, LANGS)
    pack = load_pack(options.rules)
    read = read_table(options.data, list(pack.fields.values()),
                      with_as_of(options.read_options or ReadOptions(lang=options.lang), options.as_of))
    evaluation = evaluate(pack, read.frame, as_of=options.as_of, jobs=default_jobs(), input_name=options.data.name,
                          row_numbers=read.row_numbers, lang=options.lang, headers=read.column_map)
    return render_profile(evaluation_profile(evaluation), pack, options.lang)


# ------------------------------------------------------------------------------------------ diff


def _check_evaluate_options(options: EvaluateOptions) -> None:
    """The choices of `evaluate`, and a missing PDF library, said before any work."""
    check_choice("--format", options.format, FORMATS)
    check_choice("--playbooks", options.playbooks, SELECTIONS)
    check_choice("--lang", options.lang, LANGS)
    if options.chunk_size is not None and options.chunk_size < 1:
        raise UsageError(f"--chunk-size {options.chunk_size}: give the number of accounts decided at a time, "
                         "1 or more (e.g. 250,000; without it, the whole portfolio at once)")
    if options.pdf:
        from kamrules.documents.pdf import require_fpdf

        require_fpdf()


def _load_run_pack(options: EvaluateOptions) -> RulePack:
    """The pack, with the run's what-if `--set` overrides."""
    pack = load_pack(options.rules, strict=options.strict)
    if options.settings:
        from kamrules.pack.whatif import with_params

        pack = with_params(pack, options.settings)
    return pack


def _read_run_data(options: EvaluateOptions, pack: RulePack, tell: Callable[[str], None]) -> tuple:
    """(the data read, its warnings): the column mapping is told first; with --strict, negative sales and
    look-alike ids are refused before the run, not warned about after it."""
    from kamrules.data.guards import suspicious_values
    from kamrules.data.reader import ReadOptions, mapping_lines, read_table

    read = read_table(options.data, list(pack.fields.values()),
                      with_as_of(options.read_options or ReadOptions(lang=options.lang), options.as_of))
    for line in mapping_lines(without_filled(read.mapping, pack), lang=options.lang):
        tell(line)
    from kamrules.i18n import data_text

    lang = options.lang
    sales = pack.role("sales")
    sales_text = _field_text(pack, sales, lang) if sales else None
    data_warnings = suspicious_values(read.frame, read.row_numbers, sales, lang=lang, sales_text=sales_text)
    data_warnings += place_warnings(pack, read, str(options.data), lang)
    if options.strict and data_warnings:
        from kamrules.errors import DataError

        prefix = data_text(lang, "warning", message="")
        raise DataError("\n".join(w.replace(prefix, "", 1) for w in data_warnings)
                        + "\n" + data_text(lang, "strict_refuses"))
    return read, data_warnings


def with_as_of(read_options, as_of: dt.date):
    """The reading options with the run's date: which of two year-named columns is this year's, and how
    much of the year has passed (a year-to-date column)."""
    from dataclasses import replace

    return replace(read_options, as_of=as_of)


def _recorded_mapping(options: EvaluateOptions, read) -> dict:
    """How the columns were read, for the manifest, with the --columns file (as given, and its SHA-256)
    so that `explain --run` reads the file the same way."""
    if options.columns_file is None:
        return read.mapping
    from kamrules.results.outputs import file_hash

    return {**read.mapping, "file": {"path": str(options.columns_file), "sha256": file_hash(Path(options.columns_file))}}


def group_fields(pack: RulePack) -> list[str]:
    """The fields accounts are grouped by (the region, and any field a feature works `within`): their
    values must not spell one group several ways."""
    names = [pack.role("region")] + [f.within for f in pack.features.values() if f.within]
    # the account id is a key, not a place (a feature counted `within: account_id` is per account): the
    # reader's own check says when ids look alike
    return [n for n in dict.fromkeys(names) if n is not None and n in pack.fields and n != "account_id"
            and pack.fields[n].type in ("string", "category")]


def place_warnings(pack: RulePack, read, source: str, lang: str) -> list[str]:
    """A warning per grouping field whose values spell one place several ways (data/lookalikes.py)."""
    from kamrules.data.lookalikes import lookalike_message
    from kamrules.i18n import data_text

    warnings = []
    for name in group_fields(pack):
        if name in read.frame and name in read.column_map:
            text = lookalike_message(source, _field_text(pack, name, lang), name, read.column_map[name],
                                     read.frame[name].value_counts(dropna=True).to_dict(), lang)
            if text:
                warnings.append(data_text(lang, "warning", message=text))
    return warnings


def _field_text(pack: RulePack, name: str, lang: str) -> str:
    """A field as messages name it: 「销售额」(sales) in Chinese (kamrules.data.wording.field_ref)."""
    from kamrules.data.wording import field_ref

    spec = pack.fields.get(name)
    return field_ref(name, spec.label if spec is not None else None, lang)


def _output_files(options: EvaluateOptions, evaluation: Evaluation, read, summary, since,
                  step: Callable[[str], None], cut: list | None = None, extra: dict | None = None,
                  review=None, cycle: dict | None = None) -> dict:
    """Every file of OUT but the manifest: values are bytes or iterables of byte chunks (written lazily)."""
    from kamrules import documents as playbooks
    from kamrules.data.tables import table_bytes
    from kamrules.documents import report
    from kamrules.results.outputs import decision_table_chunks, trace_file

    files: dict[str, bytes] = {}

    demoted = since.demoted if since is not None else None
    files[f"decisions.{options.format}"] = _then_give_back(
        decision_table_chunks(evaluation, options.format, options.lang, demoted=demoted, cut=cut, extra=extra))
    trace_name, files[trace_name] = trace_file(evaluation, options.format)  # trace.parquet with --format parquet
    from kamrules.results.actions import actions_file

    actions = actions_file(evaluation, options.format, options.lang, history=since.tasks if since is not None else None)
    if actions is not None:
        files[actions[0]] = actions[1]
    from kamrules.results.profile import LOOKALIKES_FILE

    profile = evaluation_profile(evaluation, lookalike_count=LOOKALIKES_FILE)  # once: the CSVs and the report
    files.update(profile_files(profile))
    if read.issues:
        import pandas as pd

        issues = pd.DataFrame([vars(i) for i in read.issues], columns=["row", "column", "field", "value", "reason"])
        files["data-issues.csv"] = table_bytes(issues, "csv")
    from kamrules.documents.render import playbooks_to_write, render_playbooks, selected_indexes
    from kamrules.documents.review_cycle import set_objectives
    from kamrules.review.objectives import objectives_frame

    also = since.also if since is not None and options.playbooks != "none" else []
    with_playbook = sorted(set(selected_indexes(evaluation, options.playbooks)) | set(also))
    files["objectives.csv"] = table_bytes(objectives_frame(set_objectives(evaluation, with_playbook)), "csv")

    # Rendered as written (memory stays flat), except with --pdf: the PDFs are made from the HTML, which
    # would otherwise be rendered twice (once for the PDF, once when written).
    render = render_playbooks if options.pdf else playbooks_to_write
    rendered = render(evaluation, selection=options.playbooks, lang=options.lang, playbooks_dir=options.playbooks_dir,
                      jobs=options.jobs or default_jobs(), review=review,
                      **({"since": since.accounts, "also": also} if since else {}))
    files.update(rendered)
    links = playbooks.playbook_links(rendered, evaluation)
    files["report.html"] = report.render_report(evaluation, summary, lang=options.lang, playbook_links=links,
                                               playbooks_dir=options.playbooks_dir,
                                               since=since.report if since else None, profile=profile,
                                               review_cycle=_review_cycle(options, evaluation, links, since, review,
                                                                          cycle or {}))
    give_back_memory()  # the report's working columns, before the decision table is built and written
    if options.pdf:
        from kamrules.documents.pdf import pdf_copies

        step("writing the PDF copies")
        # the report PDF's summary pages read the report's own model (no figure computed twice)
        view = report.build_report_context(evaluation, summary, lang=options.lang, playbook_links=links)
        files.update(pdf_copies(files, lang=options.lang, as_of=options.as_of, report=view,
                                b_cut=evaluation.pack.param("abc_b_cut"),
                                jobs=options.jobs or default_jobs()))
    return files


def _review_cycle(options: EvaluateOptions, evaluation: Evaluation, links, since, review, cycle: dict):
    """The report's review-cycle section (kamrules.documents.review_cycle.review_cycle_view)."""
    from kamrules.documents.review_cycle import review_cycle_view

    return review_cycle_view(evaluation, options.lang, links, plan=cycle.get("plan"), overrides=cycle.get("overrides"),
                             tasks=since.tasks if since is not None else None,
                             objectives=since.objectives if since is not None else None,
                             objectives_from=since.report.previous if since is not None else "", review=review)


@dataclass
class Since:
    """`evaluate --previous OUT`: what the report, the playbooks and the decision table get."""

    report: object  # kamrules.documents.since.SinceLastReview
    accounts: dict  # account id -> AccountSince
    demoted: set  # ids of key accounts that are no longer key
    also: list  # positions of demoted accounts, which get a playbook whatever --playbooks says
    result: object  # kamrules.results.diff.DiffResult
    tasks: object = None  # kamrules.review.tasks.TaskHistory: this run's tasks against the last review's
    objectives: dict | None = None  # account id -> the last review's objectives measured now (None: it set none)


def _since_last_review(options: EvaluateOptions, evaluation: Evaluation, plan=None) -> Since:
    from kamrules.documents.diff_report import since_views
    from kamrules.results import diff

    if options.previous.is_file():  # a register: its latest review before this run's as-of date
        from kamrules.register import previous_side

        before = previous_side(options.previous, options.as_of, evaluation.pack.name, options.lang)
    else:
        from kamrules.results.outputs import table_record

        kinds = table_record(evaluation, "csv", options.lang)["columns"]  # for a previous run that records none
        before = diff.read_run(options.previous, options.lang, pack=evaluation.pack, kinds=kinds)
    after = diff.side_from_evaluation(evaluation, str(options.out), options.lang)
    result = diff.compare(before, after)
    if plan is not None:  # the overrides the rules now agree with: ready to retire
        from kamrules.review.overrides import retiring

        result.retire = retiring(plan.ready_to_retire(), after)
    report, accounts = since_views(before, after, result, options.lang)
    demoted = {c.account_id for c in result.review_before_demotion}
    also = [i for i, account in enumerate(after.frame.index) if account in demoted]
    from kamrules.review.tasks import task_history

    objectives = _objective_progress(options, evaluation)
    if objectives:
        from kamrules.documents.review_cycle import with_objective_progress

        accounts = with_objective_progress(accounts, objectives, evaluation.pack, options.lang)
    return Since(report, accounts, demoted, also, result, task_history(before, evaluation), objectives)


def _objective_progress(options: EvaluateOptions, evaluation: Evaluation) -> dict | None:
    """The objectives the previous run folder set (its objectives.csv), measured with this run's values;
    None for a register or a run that wrote no objectives file (docs/review-cycle.md)."""
    if options.previous.is_file():
        return None
    from kamrules.review.objectives import progress, read_objectives

    set_before = read_objectives(options.previous, options.lang)
    return None if set_before is None else progress(set_before, evaluation)


@dataclass
class DiffOptions:
    """`kamrules diff`: either two output folders (`runs`), or one data file under two packs."""

    out: Path
    runs: tuple = ()  # (OLD_OUT, NEW_OUT) folders of `kamrules evaluate`
    data: Path | None = None
    rules: tuple = ()  # one or two rule pack folders
    settings: list = field(default_factory=list)  # `--set` overrides, applied to the newer pack
    as_of: dt.date | None = None
    lang: str = "en"
    jobs: int = 0
    force: bool = False
    strict: bool = False
    read_options: object = None
    playbooks_dir: Path | None = None


@dataclass
class DiffOutcome:
    result: object  # kamrules.results.diff.DiffResult
    out: Path
    files: list = field(default_factory=list)


def diff_sides(options: DiffOptions, progress: Callable[[str], None] | None = None) -> tuple:
    """The two sides `kamrules diff` compares (see DiffOptions)."""
    from kamrules.results import diff

    step = progress or (lambda stage: None)
    if options.runs:
        step("reading the two runs")
        pack = _label_pack(options)
        first = diff.read_run(options.runs[0], options.lang, pack=pack)
        # an older run that records no column kinds reads its cells as the other run's kinds say
        second = diff.read_run(options.runs[1], options.lang, pack=pack,
                               kinds=(first.manifest.get("table") or {}).get("columns"))
        if not (first.manifest.get("table") or {}).get("columns"):
            first = diff.read_run(options.runs[0], options.lang, pack=pack,
                                  kinds=(second.manifest.get("table") or {}).get("columns"))
        for side in (first, second):
            diff.adopt_pack(side, pack, options.lang)
        return first, second
    from kamrules.data.reader import ReadOptions, read_table
    from kamrules.pack.whatif import with_params

    if len(options.rules) > 2:
        raise UsageError("--rules: give one pack (with --set) or two packs (OLD then NEW)")
    if len(options.rules) < 2 and not options.settings:
        raise UsageError("nothing to compare: give --rules OLD --rules NEW, or --set NAME=VALUE, or two output "
                         "folders (kamrules diff OUT_Q3 OUT_Q4)")
    step("loading the rule packs")
    old = load_pack(options.rules[0], strict=options.strict)
    new = load_pack(options.rules[1], strict=options.strict) if len(options.rules) == 2 else old
    new = with_params(new, options.settings)
    labels = [str(options.rules[0]), str(options.rules[-1])]
    if options.settings:
        labels[1] += " with --set " + " --set ".join(options.settings)
    step(f"reading {options.data.name}")
    reading = with_as_of(options.read_options or ReadOptions(lang=options.lang), options.as_of or dt.date.today())
    # Each pack reads the data with its own fields (types, ranges, aliases, required), so OLD's side is
    # what `evaluate --rules OLD` gives: read once when the two define the same fields.
    first = read_table(options.data, list(old.fields.values()), reading)
    second = first if _same_fields(old, new) else read_table(options.data, list(new.fields.values()), reading)
    jobs = options.jobs or default_jobs()
    sides = []
    for pack, label, read in ((old, labels[0], first), (new, labels[1], second)):
        evaluation = evaluate(pack, read.frame.copy(), as_of=options.as_of or dt.date.today(), jobs=jobs,
                              input_name=options.data.name, row_numbers=read.row_numbers, progress=progress,
                              lang=options.lang, headers=read.column_map)
        sides.append(diff.side_from_evaluation(evaluation, label, options.lang))
    return tuple(sides)


def _same_fields(old: RulePack, new: RulePack) -> bool:
    """Whether two packs read a data file alike: the same fields, equal but for where they are written."""
    import dataclasses

    def plain(pack: RulePack) -> dict:
        return {name: dataclasses.replace(spec, loc=None) for name, spec in pack.fields.items()}

    return old is new or plain(old) == plain(new)


def _label_pack(options: DiffOptions):
    """The pack that lends two runs its labels (--rules, else ./rules, else the bundled one; shown only
    when it made them, see diff.adopt_pack), and reads an Excel decision table's labels; None when it
    does not load: the runs are still compared, by their values."""
    from kamrules.errors import KamrulesError

    try:
        return load_pack(_label_pack_folder(options))
    except KamrulesError:
        return None


def _label_pack_folder(options: DiffOptions) -> Path:
    from kamrules.resources import rules_dir

    return options.rules[0] if options.rules else rules_dir(None)


def run_diff(options: DiffOptions, progress: Callable[[str], None] | None = None) -> DiffOutcome:
    """Everything `kamrules diff` does: compare, then write diff.csv and diff.html to OUT atomically."""
    from kamrules.data.tables import table_bytes
    from kamrules.data.writer import check_out, write_outputs
    from kamrules.documents.diff_report import render_diff
    from kamrules.results import diff

    check_choice("--lang", options.lang, LANGS)
    # Two runs without --rules lend the labels of ./rules (else the bundled pack): read too.
    lender = (_label_pack_folder(options),) if options.runs else ()
    inputs = read_paths(options.data, *options.runs, *options.rules, *lender, options.playbooks_dir,
                        read_options=options.read_options)
    check_out(options.out, inputs, force=options.force)  # before the work, not after
    before, after = diff_sides(options, progress)
    result = diff.compare(before, after)
    if options.runs:  # the later run's overrides the rules agree with (its overrides.json)
        from kamrules.review.overrides import read_record, retiring

        recorded = read_record(Path(options.runs[1]), None, options.lang)
        result.retire = retiring(recorded.ready, after) if recorded is not None else []
    (progress or (lambda stage: None))("writing diff.csv and diff.html")
    files = {"diff.csv": table_bytes(diff.diff_frame(result), "csv"),
             "diff.html": render_diff(result, lang=options.lang, playbooks_dir=options.playbooks_dir)}
    write_outputs(options.out, files, inputs=inputs, force=options.force)
    return DiffOutcome(result, options.out, sorted(files))


# --------------------------------------------------------------------------------------- history


@dataclass
class HistoryOptions:
    """`kamrules history [ACCOUNT] --register PATH`."""

    register: Path
    account: str | None = None
    pack: str | None = None
    format: str = "text"
    lang: str = "en"


def run_history(options: HistoryOptions) -> str:
    """Everything `kamrules history` does: the portfolio's trend per review, or with an account its
    timeline; the text to print (a console table, CSV or JSON)."""
    from kamrules.register import account_timeline, portfolio_trend
    from kamrules.register.text import FORMATS, render_timeline, render_trend

    check_choice("--format", options.format, FORMATS)
    check_choice("--lang", options.lang, LANGS)
    if options.account is None:
        return render_trend(portfolio_trend(options.register, options.pack, options.lang), options.format,
                            options.lang)
    timeline = account_timeline(options.register, options.account, options.pack, options.lang)
    return render_timeline(timeline, options.format, options.lang)
