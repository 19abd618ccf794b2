"""The `kamrules` command: a thin layer that parses options, calls the library, maps errors to exits.

Exit codes: 0 success, 1 a problem in the user's files or data (with a message saying where and how to
fix it), 2 a wrong option, 3 a bug in kamrules (reported as such, with a traceback to send us).
"""

from __future__ import annotations

import errno
import sys
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Iterator, Optional

import typer

# Reading options shared by every command that reads a data file.
ColumnsOption = Annotated[Optional[Path], typer.Option("--columns", help="YAML mapping field: \"Source Column\", "
                                                      "or field: {column: X, values: {In file: in pack, Prospect: skip-row}}.")]
EncodingOption = Annotated[Optional[str], typer.Option("--encoding", help="CSV encoding, e.g. gb18030 (default: detected).")]
DelimiterOption = Annotated[Optional[str], typer.Option("--delimiter", help="CSV delimiter (default: detected among , ; tab).")]
SheetOption = Annotated[Optional[str], typer.Option("--sheet", help="XLSX sheet name or 0-based index.")]
InputFormatOption = Annotated[Optional[str], typer.Option("--input-format", help="csv, tsv, xlsx, parquet, json or jsonl (default: from the extension).")]
DecimalOption = Annotated[str, typer.Option("--decimal", help="Decimal mark in the data: '.' or ','.")]
DayfirstOption = Annotated[bool, typer.Option("--dayfirst", help="Read ambiguous dates like 03/04/2026 as day first.")]
WhereOption = Annotated[Optional[str], typer.Option("--where", help="Keep only rows where this condition holds, "
                                                  "in the rule language, over the pack's fields or the file's own "
                                                  "columns (`in backticks` when not a plain name), before any value "
                                                  "is checked: --where 'customer_type != \"government\"'.")]
RulesOption = Annotated[Optional[Path], typer.Option("--rules", help="Rule pack folder (default: ./rules, else the bundled pack).")]
AsOfOption = Annotated[Optional[str], typer.Option("--as-of", help="Date for date computations (YYYY-MM-DD, default today).")]
LangOption = Annotated[str, typer.Option("--lang", help="en or zh.")]
JobsOption = Annotated[int, typer.Option("--jobs", help="Worker processes (default: number of cores).")]
PlaybooksDirOption = Annotated[Optional[Path], typer.Option("--playbooks-dir", help="Folder of templates overriding the defaults (default: ./playbooks when present).")]
ForceOption = Annotated[bool, typer.Option("--force", help="Replace --out even if kamrules did not create it.")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors.")]
SetOption = Annotated[Optional[list[str]], typer.Option("--set", help="What-if: override a param for this run, NAME=VALUE (repeatable), e.g. --set pareto_target=0.75.")]
OnBadValueOption = Annotated[str, typer.Option("--on-bad-value", help="error: stop and list bad cells; missing: treat them as missing and list them in data-issues.csv.")]
HeaderRowOption = Annotated[Optional[int], typer.Option("--header-row", help="Row number of the header, as the spreadsheet shows it (default: found below any title rows).")]
SkipFooterOption = Annotated[Optional[int], typer.Option("--skip-footer", help="Rows at the end that are not accounts, e.g. a report footer (default: detected; 0 keeps every row).")]

_READING = (("encoding", EncodingOption, None), ("delimiter", DelimiterOption, None), ("sheet", SheetOption, None),
            ("input_format", InputFormatOption, None), ("decimal", DecimalOption, "."),
            ("dayfirst", DayfirstOption, False), ("on_bad_value", OnBadValueOption, "error"),
            ("columns", ColumnsOption, None), ("header_row", HeaderRowOption, None),
            ("skip_footer", SkipFooterOption, None))


def reads_data(command):
    """Give a command the data-reading options every such command shares (--encoding … --columns),
    declared once here; the command receives them as `reading` and turns them into ReadOptions with
    `_read_options(reading)` inside `user_errors()`."""
    import functools
    import inspect

    signature = inspect.signature(command, eval_str=True)
    kept = [p for p in signature.parameters.values() if p.name != "reading"]
    added = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)
             for name, annotation, default in _READING]

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        reading = {name: kwargs.pop(name, default) for name, _, default in _READING}
        return command(*args, reading=reading, **kwargs)

    wrapper.__signature__ = signature.replace(parameters=[*kept, *added])
    return wrapper


app = typer.Typer(
    name="kamrules",
    help="Key-account-management decisions from YAML rule packs, checked by the durable_rules engine.\n\n"
    "Example: kamrules evaluate customers.csv --as-of 2026-11-27",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _echo_err(message: str) -> None:
    typer.echo(message, err=True)


@contextmanager
def user_errors(lang: str = "en") -> Iterator[None]:
    """Turn user mistakes into a clear message and exit code; anything else is our bug. `lang`: the
    language of the "error:" prefix (the message itself was built in the run's language)."""
    from kamrules.errors import KamrulesError

    try:
        yield
    except KamrulesError as exc:
        from kamrules.i18n import data_text

        _echo_err(data_text(lang, "error" if "\n" not in str(exc) else "error_block", message=exc))
        raise typer.Exit(exc.exit_code) from None
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly, with the documented code
        _quiet_broken_pipe()
    except OSError as exc:
        if exc.errno not in _CANNOT_WRITE:
            _bug()
        from kamrules.i18n import data_text

        # Nothing is lost: the outputs are written (or not at all) before anything is printed.
        _echo_err(data_text(lang, "error", message=data_text(lang, "cannot_write", reason=exc.strerror or exc)))
        _stdout_to_devnull()  # what is still buffered would fail again when Python exits
        raise typer.Exit(1) from None
    except Exception:  # noqa: BLE001 - the last line of defence
        _bug()


# A full disk (stdout redirected to a file, `>/dev/full`), a quota or an I/O error: not a bug of ours.
_CANNOT_WRITE = {getattr(errno, name) for name in ("ENOSPC", "EDQUOT", "EFBIG", "EIO") if hasattr(errno, name)}


def _bug() -> None:
    """Report what no user can fix (called while handling it): the traceback, and exit 3."""
    _echo_err(traceback.format_exc())
    _echo_err("error: this is a bug in kamrules, not a problem with your files. "
              "Please report it with the text above.")
    raise typer.Exit(3) from None


def _print_warnings(warnings: list) -> None:
    for warning in warnings:
        _echo_err(str(warning))


@app.command()
@reads_data
def validate(
    rules: Optional[Path] = typer.Argument(None, help="Rule pack folder (default: ./rules, else the bundled pack)."),
    data: Optional[Path] = typer.Option(None, "--data", help="Also check the pack's fields against this data file."),
    strict: bool = typer.Option(False, "--strict", help="Treat warnings (unknown keys) as errors."),
    where: WhereOption = None,
    reading: Optional[dict] = None,  # the data-reading options (@reads_data)
    fmt: str = typer.Option("text", "--format", help="text or json (the findings, for tools)."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Date for date features in --data checks (YYYY-MM-DD, default today)."),
    lang: str = typer.Option("en", "--lang", help="Language of the messages about the --data file: en or zh."),
) -> None:
    """Check a rule pack: gaps, overlaps, hidden and impossible rules (and, with --data, rules no
    account hits, text values that never occur, missing fields and the column mapping).

    Example: kamrules validate rules --data customers.csv --strict
    """
    with user_errors(lang):
        from kamrules.pack import load_pack
        from kamrules.resources import rules_dir
        from kamrules.analysis import analyse_pack, has_failures
        from kamrules.analysis.findings import findings_json, render_findings
        from kamrules.run import LANGS, check_choice, parse_as_of

        check_choice("--format", fmt, ("text", "json"))
        check_choice("--lang", lang, LANGS)
        say = typer.echo if fmt == "text" else (lambda *args, **kwargs: None)
        folder = rules_dir(rules)
        pack = load_pack(folder, strict=strict)
        _print_warnings(pack.warnings)
        rule_count = sum(len(d.rules) for d in pack.decisions)
        findings, mapping = analyse_pack(pack), {}
        from kamrules.i18n import data_text

        say(data_text(lang, "validate_pack", folder=folder, fields=len(pack.fields), params=len(pack.params),
                      derived=len(pack.derived), decisions=len(pack.decisions), rules=rule_count))
        if data is not None:
            from kamrules.data.reader import read_table

            from dataclasses import replace

            options = replace(_read_options(reading, where, lang), as_of=parse_as_of(as_of, data))
            read = read_table(data, list(pack.fields.values()), options)
            say(data_text(lang, "validate_read", data=data, n=len(read.frame), found=len(read.column_map),
                          total=len(pack.fields)))
            from kamrules.data.history_facts import add_history
            from kamrules.run import filled_fields, run_filled, without_filled

            # not the file's columns: filled by a run with history (else a first review) or with --contacts
            facts = run_filled(pack)
            missing = [name for name in read.missing_optional if name not in facts]
            if missing:
                say(data_text(lang, "validate_optional", names=", ".join(missing)))
            from kamrules.analysis.data import data_checks

            read.mapping = without_filled(read.mapping, pack)
            on_data, silent = data_checks(pack, add_history(read.frame, pack, None), read.column_map, str(data),
                                          parse_as_of(as_of, data), lang,
                                          filled=tuple(filled_fields(pack, read)))
            for decision_id, rule_id, names in silent:
                say(data_text(lang, "validate_never", decision=decision_id, rule=rule_id, names=", ".join(names)))
            if read.unused_columns:
                say(data_text(lang, "validate_unused", names=", ".join(read.unused_columns)))
            mapping = _column_mapping(read, say, lang)
            findings += on_data
        order = {d.id: i for i, d in enumerate(pack.decisions)}
        findings.sort(key=lambda f: order.get(f.decision, len(order)))
        typer.echo(render_findings(findings, lang) if fmt == "text" else findings_json(findings, mapping), nl=False)
        if has_failures(findings, strict):
            raise typer.Exit(1)


def _column_mapping(read, say, lang: str = "en") -> dict:
    """Print which column matched which field (by name, label, alias or --columns) and the near misses;
    return the same mapping for --format json."""
    from kamrules.data.reader import mapping_lines

    for line in mapping_lines(read.mapping, full=False, lang=lang):
        say(line)
    return {"columns": read.mapping["fields"], "near_misses": read.mapping["near_misses"],
            "unused_columns": list(read.unused_columns)}


def _read_options(reading: dict | None, where: str | None = None, lang: str = "en"):
    """The data-reading options every command shares, checked; messages about the data in `lang`."""
    from kamrules.data.reader import ColumnMapping, ReadOptions, load_mapping_file
    from kamrules.run import check_choice

    r = {name: default for name, _, default in _READING} | (reading or {})
    check_choice("--on-bad-value", r["on_bad_value"], ("error", "missing"))
    check_choice("--decimal", r["decimal"], (".", ","))
    mapping = load_mapping_file(r["columns"], lang) if r["columns"] else ColumnMapping()
    return ReadOptions(input_format=r["input_format"], encoding=r["encoding"], delimiter=_delimiter(r["delimiter"]),
                       sheet=r["sheet"], decimal=r["decimal"], dayfirst=r["dayfirst"], on_bad_value=r["on_bad_value"],
                       columns=mapping.columns or None, values=mapping.values or None, units=mapping.units or None,
                       row_filter=mapping.where, row_filter_from=mapping.where_loc, where=where, lang=lang,
                       periods=mapping.periods or None,
                       header_row=r["header_row"], skip_footer=r["skip_footer"], columns_file=r["columns"])


@app.command()
@reads_data
def evaluate(
    data: Optional[Path] = typer.Argument(None, help="Customer data (CSV, TSV, XLSX, Parquet, JSON, JSONL). "
                                          "Default: the bundled example data."),
    rules: RulesOption = None,
    out: Path = typer.Option(Path("kamrules-out"), "--out", help="Output folder (replaced atomically)."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Date every date computation is relative to "
                                        "(YYYY-MM-DD, default today). Same inputs + same --as-of = same output bytes."),
    fmt: str = typer.Option("csv", "--format", help="Decision table format: csv, xlsx, json or parquet (parquet: the actions and the trace too)."),
    jobs: JobsOption = 0,
    playbooks: str = typer.Option("key+potential", "--playbooks", help="Accounts that get a playbook: key, key+potential, all, none."),
    playbooks_dir: PlaybooksDirOption = None,
    lang: str = typer.Option("en", "--lang", help="Language of playbooks, report and summary: en or zh."),
    force: ForceOption = False,
    strict: bool = typer.Option(False, "--strict", help="Treat warnings as errors: rule-pack warnings, negative sales, look-alike ids."),
    reading: Optional[dict] = None,  # the data-reading options (@reads_data)
    where: WhereOption = None,
    quiet: QuietOption = False,
    settings: SetOption = None,
    previous: Optional[Path] = typer.Option(None, "--previous", help="An earlier output folder: add 'since the last review' to the report and playbooks."),
    pdf: bool = typer.Option(False, "--pdf", help="Also write each HTML playbook and the report as PDF (A4, no browser needed)."),
    register: Optional[Path] = typer.Option(None, "--register", help="Record the run in this register of reviews (an SQLite file, created when missing); read it with `kamrules history`."),
    overrides: Optional[Path] = typer.Option(None, "--overrides", help="Decision outputs set by hand (CSV or YAML: account, output, value, reason, owner, expires); see docs/review-cycle.md."),
    contacts: Optional[Path] = typer.Option(None, "--contacts", help="The customers' people (CSV or YAML: account, name, title, role, attitude, last_contact, owner, status): fills the playbook's contact map; see docs/review-cycle.md."),
    notes: Optional[Path] = typer.Option(None, "--notes", help="Notes per account and playbook section (CSV or YAML: account, section, text); see docs/review-cycle.md."),
    engine: str = typer.Option("process", "--engine", help="process (one process, every file) or dask (DATA: a folder or glob of Parquet parts; the decision table only; pip install \"kamrules[dask]\"); see docs/scale.md."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="With --engine dask: the Dask scheduler's address (default: a local cluster on this machine)."),
    chunk_size: Optional[int] = typer.Option(None, "--chunk-size", help="Accounts decided at a time once the portfolio-wide figures are known (the same files whatever the size; default: all at once); see docs/scale.md."),
) -> None:
    """Decide tier, relationship, service level, dependence, risk and actions for every account.

    Example: kamrules evaluate customers.csv --as-of 2026-11-27 --out results --lang zh
    """
    with user_errors(lang):
        from kamrules.resources import example_data, is_example, playbooks_dir as find_playbooks, rules_dir
        from kamrules.run import EvaluateOptions, parse_as_of, run_evaluate

        if jobs < 0:
            from kamrules.errors import UsageError

            raise UsageError("--jobs must be 0 (all cores) or more")
        if engine != "process" or scheduler is not None:
            _evaluate_dask(engine, scheduler, data, rules_dir(rules), out, as_of, force, lang, quiet)
            return
        read_options = _read_options(reading, where, lang)
        options = EvaluateOptions(
            data=data if data is not None else example_data(), rules=rules_dir(rules), out=out,
            as_of=parse_as_of(as_of, data or example_data()), format=fmt, jobs=jobs, playbooks=playbooks,
            playbooks_dir=find_playbooks(playbooks_dir), lang=lang, force=force, strict=strict,
            read_options=read_options, settings=list(settings or []), previous=previous, columns_file=reading["columns"], pdf=pdf,
            register=register, overrides=overrides, contacts=contacts, notes=notes, chunk_size=chunk_size,
        )
        tell = _teller(quiet)
        tell(_as_of_line(options.as_of, given=as_of is not None, lang=lang, example=is_example(options.data)))
        result = _with_progress(lambda progress: run_evaluate(options, progress, tell), quiet)
        _print_warnings(result.warnings)
        if not quiet:
            from kamrules.results.summary import print_summary

            print_summary(result, lang)
        if result.since is not None and not quiet:
            from kamrules.results.diff import print_since

            print_since(result.since.result, result.since.report.previous, lang)
        if result.recorded is not None and not quiet:
            from kamrules.register.text import recorded_line

            typer.echo(recorded_line(result.recorded, lang))


def _evaluate_dask(engine: str, scheduler: Optional[str], data: Optional[Path], rules: Path, out: Path,
                   as_of: Optional[str], force: bool, lang: str, quiet: bool) -> None:
    """`evaluate DATASET --engine dask [--scheduler ADDRESS]` (kamrules/scale/dask_engine.py)."""
    from kamrules.errors import UsageError
    from kamrules.run import check_choice, parse_as_of
    from kamrules.scale.dask_engine import ENGINES, DaskOptions, evaluate_dask

    check_choice("--engine", engine, ENGINES)
    if engine != "dask":
        raise UsageError("--scheduler is the address of a Dask scheduler: give it with --engine dask")
    if data is None:
        raise UsageError("--engine dask: give DATASET, a folder of Parquet parts or a glob such as 'parts/*.parquet'")
    options = DaskOptions(data=str(data), rules=rules, out=out, as_of=parse_as_of(as_of, data), scheduler=scheduler,
                          lang=lang, force=force)
    result = _with_progress(lambda progress: evaluate_dask(options, progress), quiet)
    if not quiet:
        from kamrules.i18n import CONSOLE

        typer.echo(CONSOLE.get(lang, CONSOLE["en"])["dask_done"].format(
            accounts=f"{result.accounts:,}", out=result.out / "decisions", parts=result.parts))


def _teller(quiet: bool):
    """Where the lines before the results go: nowhere with -q (and no library warnings either)."""
    if not quiet:
        return typer.echo
    import warnings

    warnings.simplefilter("ignore")  # -q: only errors, so no pandas PerformanceWarning … either
    return lambda line: None


def _as_of_line(as_of, *, given: bool, lang: str, example: bool = False) -> str:
    """"as of 2026-11-27", marked "today" when the user did not pass --as-of, or "the example's date"
    for the bundled example."""
    from kamrules.i18n import CONSOLE, data_text

    words = CONSOLE.get(lang, CONSOLE["en"])
    mark = "" if given else data_text(lang, "as_of_example") if example else words["as_of_today"]
    return words["as_of"].format(date=as_of.isoformat()) + mark


def _with_progress(work, quiet: bool):
    """Run `work(progress)` with a live status line on a terminal (none when piped or quiet)."""
    if quiet or not sys.stderr.isatty():
        return work(None)
    from rich.text import Text

    from kamrules.results.summary import text_console

    # A stage names the data file: rich's spinner reads any str as markup, so it gets Text.
    with text_console(stderr=True).status(Text("kamrules: starting")) as status:
        return work(lambda stage: status.update(Text(f"kamrules: {stage}…")))


def _delimiter(value: Optional[str]) -> Optional[str]:
    if value in ("tab", "\\t", "TAB"):
        return "\t"
    return value


@app.command()
@reads_data
def explain(
    data: Path = typer.Argument(..., help="Customer data file (with --run: optional, the run's own file is found)."),
    account_id: Optional[str] = typer.Argument(None, help="The account's id as in the data (leading zeros kept), "
                                               "or its name."),
    rules: RulesOption = None,
    run_out: Optional[Path] = typer.Option(None, "--run", help="A finished evaluate --out folder: explain with that run's "
                                           "data, pack, --columns, --set, --as-of and --lang, so it agrees with its documents."),
    as_of: AsOfOption = None,
    lang: Optional[str] = typer.Option(None, "--lang", help="en or zh (default: en; with --run, the run's)."),
    reading: Optional[dict] = None,  # the data-reading options (@reads_data)
    verbose: bool = typer.Option(False, "--verbose", help="Every rule checked, with the values it read and its gaps."),
    settings: SetOption = None,
    previous: Optional[Path] = typer.Option(None, "--previous", help="History facts as evaluate --previous reads them: a register or an earlier output folder."),
    register: Optional[Path] = typer.Option(None, "--register", help="History facts as evaluate --register reads them: the register's reviews before --as-of."),
    overrides: Optional[Path] = typer.Option(None, "--overrides", help="Decision outputs set by hand, applied as evaluate --overrides applies them (with --run: the run's own)."),
    contacts: Optional[Path] = typer.Option(None, "--contacts", help="The customers' people, whose stakeholder facts the rules read as with evaluate --contacts (with --run: the run's own)."),
) -> None:
    """Show why one account got each decision (one screen; --verbose for every rule checked). The account
    is found by its id, else by its name (exactly, then ignoring case and spaces).

    Example: kamrules explain customers.csv A00042 --as-of 2026-11-27
             kamrules explain --run review-2026-q4 A00042
    """
    with user_errors(lang or _run_lang(run_out)):
        from kamrules.run import ExplainOptions, run_explain

        options = ExplainOptions(data=data, account=account_id, rules=rules, run_out=run_out, as_of=as_of,
                                 lang=lang, read_options=_read_options(reading, lang=lang or "en"),
                                 verbose=verbose, settings=list(settings or []), previous=previous,
                                 register=register, overrides=overrides, contacts=contacts)
        typer.echo(run_explain(options, notice=_echo_err), nl=False)


def _run_lang(run_out: Optional[Path]) -> str:
    """The --lang a finished run recorded (its messages' language for explain --run), else en. Read with
    the run folder's guards (a FIFO manifest would hang, a deeply nested one crash): a manifest that
    cannot be read gives en here, and its error once the command reads it."""
    if run_out is None:
        return "en"
    from kamrules.errors import KamrulesError
    from kamrules.results.run_folder import read_manifest

    try:
        recorded = read_manifest(run_out).get("lang")
    except KamrulesError:
        recorded = None
    return recorded if recorded in ("en", "zh") else "en"


@app.command()
@reads_data
def columns(
    data: Path = typer.Argument(..., help="Customer data file (CSV, TSV, XLSX, Parquet, JSON, JSONL)."),
    rules: RulesOption = None,
    write: Optional[Path] = typer.Option(None, "--write", help="Write a starter --columns file here, with a comment "
                                         "on each line: check it, then evaluate with --columns."),
    force: bool = typer.Option(False, "--force", help="Replace the --write file if it exists."),
    where: WhereOption = None,
    lang: LangOption = "en",
    reading: Optional[dict] = None,  # the data-reading options (@reads_data)
) -> None:
    """How each field would be found in a file, what to decide (columns to choose, units, values the pack
    does not know, look-alike regions, rows that are not customers, title and footer rows), and a starter
    --columns file to edit.

    Example: kamrules columns customers.csv --write columns.yaml
    """
    with user_errors(lang):
        from kamrules.resources import rules_dir
        from kamrules.run import ColumnsOptions, run_columns

        options = ColumnsOptions(data=data, rules=rules_dir(rules), lang=lang,
                                 read_options=_read_options(reading, where, lang), write=write, force=force,
                                 columns_file=reading["columns"])
        typer.echo(run_columns(options), nl=False)


@app.command("test")
@reads_data
def test_cmd(
    rules: Optional[Path] = typer.Argument(None, help="Rule pack folder; its cases are in RULES/tests (default: ./rules, else the bundled pack)."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Date for cases that give none, and for the portfolios properties are checked on (YYYY-MM-DD, default today)."),
    coverage: bool = typer.Option(False, "--coverage", help="Show which rules and defaults no case exercises."),
    min_coverage: Optional[float] = typer.Option(None, "--min-coverage", help="Fail when fewer than N% of rules and defaults are exercised."),
    junit: Optional[Path] = typer.Option(None, "--junit", help="Also write JUnit XML here (for CI)."),
    fmt: str = typer.Option("text", "--format", help="text or json."),
    lang: str = typer.Option("en", "--lang", help="Language of the failure messages: en or zh."),
    data: Optional[Path] = typer.Option(None, "--data", help="Also check the pack's properties on this data file (read as evaluate reads it)."),
    where: WhereOption = None,
    reading: Optional[dict] = None,  # the data-reading options (@reads_data)
    cases: bool = typer.Option(True, "--cases/--no-cases", help="Run the cases (--no-cases: only the properties)."),
    properties: bool = typer.Option(True, "--properties/--no-properties", help="Check the properties (--no-properties: only the cases)."),
) -> None:
    """Run the pack's test cases and check its properties (RULES/tests/*.yaml and *.csv); exit 1 when
    one fails.

    Example: kamrules test rules --coverage --min-coverage 90 --junit kamrules-tests.xml
             kamrules test --data customers.csv --no-cases --as-of 2026-11-27
    """
    with user_errors(lang):
        from kamrules.errors import UsageError
        from kamrules.pack import load_pack
        from kamrules.resources import rules_dir
        from kamrules.run import LANGS, check_choice, parse_as_of
        from kamrules.testing.report import check_junit, render_text, to_json, write_junit
        from kamrules.testing.suite import run_pack_tests

        check_choice("--format", fmt, ("text", "json"))
        check_choice("--lang", lang, LANGS)
        if not cases and not properties:
            raise UsageError("--no-cases and --no-properties leave nothing to run: keep one")
        if not cases and (coverage or min_coverage is not None):
            raise UsageError("--coverage and --min-coverage measure the cases: leave out --no-cases")
        if data is not None and not properties:
            raise UsageError("--data is checked against the pack's properties: leave out --no-properties")
        if data is None and (where is not None or reading != {name: default for name, _, default in _READING}):
            raise UsageError("--where and the reading options (--columns, --encoding …) apply to --data: give --data FILE")
        folder = rules_dir(rules)
        pack = load_pack(folder)
        if junit is not None:
            check_junit(junit, folder)  # before anything runs, as --out is checked
        read_options = _read_options(reading, where, lang) if data is not None else None
        run = run_pack_tests(pack, folder, parse_as_of(as_of), lang, cases=cases, properties=properties,
                             data=data, read_options=read_options)
        _print_warnings(run.warnings)
        if junit is not None:
            write_junit(junit, run, lang)
        typer.echo(to_json(run, lang) if fmt == "json" else render_text(run, lang, coverage or min_coverage is not None), nl=False)
        low = min_coverage is not None and run.coverage.percent() < min_coverage
        if low:
            _echo_err(f"coverage {run.coverage.percent():g}% is below --min-coverage {min_coverage:g}%")
        if run.failed or run.failed_properties or low:
            raise typer.Exit(1)


@app.command()
@reads_data
def diff(
    paths: list[Path] = typer.Argument(..., help="DATA (compared under two packs), or OLD_OUT NEW_OUT (two evaluate output folders)."),
    rules: Optional[list[Path]] = typer.Option(None, "--rules", help="Rule pack folder; give it twice (OLD, then NEW) to compare two packs."),
    settings: SetOption = None,
    out: Path = typer.Option(Path("kamrules-diff"), "--out", help="Output folder for diff.csv and diff.html (replaced atomically)."),
    as_of: AsOfOption = None,
    lang: LangOption = "en",
    jobs: JobsOption = 0,
    playbooks_dir: PlaybooksDirOption = None,
    force: ForceOption = False,
    strict: bool = typer.Option(False, "--strict", help="Treat rule-pack warnings as errors."),
    reading: Optional[dict] = None,  # the data-reading options (@reads_data)
    quiet: QuietOption = False,
) -> None:
    """Show what changes: two packs (or --set what-ifs) on the same data, or two evaluate runs.

    Example: kamrules diff --set pareto_target=0.75 customers.csv --as-of 2026-11-27
    """
    with user_errors(lang):
        from kamrules.errors import UsageError
        from kamrules.resources import playbooks_dir as find_playbooks, rules_dir
        from kamrules.run import DiffOptions, parse_as_of, run_diff

        if len(paths) == 2:
            if settings or (rules and len(rules) > 1):
                raise UsageError("two output folders are compared as they are: --set and a second --rules apply "
                                 "to DATA only (one --rules only lends its labels)")
            options = DiffOptions(out=out, runs=tuple(paths), rules=tuple(rules or ()), lang=lang, force=force)
        elif len(paths) == 1:
            if jobs < 0:
                raise UsageError("--jobs must be 0 (all cores) or more")
            packs = tuple(rules) if rules else (rules_dir(None),)
            options = DiffOptions(out=out, data=paths[0], rules=packs, settings=list(settings or []),
                                  as_of=parse_as_of(as_of, paths[0]), lang=lang, jobs=jobs, force=force, strict=strict,
                                  read_options=_read_options(reading, lang=lang))
        else:
            raise UsageError("give DATA, or two output folders OLD_OUT NEW_OUT")
        options.playbooks_dir = find_playbooks(playbooks_dir)
        outcome = _with_progress(lambda progress: run_diff(options, progress), quiet)
        if not quiet:
            from kamrules.results.diff import print_diff

            print_diff(outcome.result, lang, out=outcome.out)


@app.command()
def history(
    account: Optional[str] = typer.Argument(None, help="An account's id, or its name: its timeline. Without it: the portfolio per review."),
    register: Path = typer.Option(..., "--register", help="The register of reviews written by `evaluate --register`."),
    pack: Optional[str] = typer.Option(None, "--pack", help="The pack whose reviews to show (default: the pack of the run recorded last)."),
    fmt: str = typer.Option("text", "--format", help="text, csv or json (for tools)."),
    lang: LangOption = "en",
) -> None:
    """The reviews recorded in a register: the portfolio's trend per review (key accounts, their share of
    sales, accounts waiting for a manager, lost and lapsed customers, at risk), or one account's timeline
    (tier, risk level, sales and key findings per review).

    Example: kamrules evaluate customers.csv --as-of 2026-11-27 --register reviews.db -q && kamrules history --register reviews.db
             kamrules history A00001 --register reviews.db --lang zh
    """
    with user_errors(lang):
        from kamrules.run import HistoryOptions, run_history

        options = HistoryOptions(register=register, account=account, pack=pack, format=fmt, lang=lang)
        typer.echo(run_history(options), nl=False)


@app.command()
@reads_data
def profile(
    data: Optional[Path] = typer.Argument(None, help="Customer data file (default: the bundled example data)."),
    rules: RulesOption = None,
    as_of: AsOfOption = None,
    lang: LangOption = "en",
    reading: Optional[dict] = None,  # the data-reading options (@reads_data)
) -> None:
    """Key accounts against the whole base: the attributes that mark them, look-alike accounts, missing records.

    Example: kamrules profile customers.csv --as-of 2026-11-27 --lang zh
    """
    with user_errors(lang):
        from kamrules.resources import example_data, rules_dir
        from kamrules.run import ProfileOptions, parse_as_of, run_profile

        options = ProfileOptions(data=data if data is not None else example_data(), rules=rules_dir(rules),
                                 as_of=parse_as_of(as_of, data or example_data()), lang=lang,
                                 read_options=_read_options(reading, lang=lang))
        typer.echo(run_profile(options), nl=False)


@app.command()
def init(
    directory: Path = typer.Argument(Path("."), help="Where to create rules/ and playbooks/."),
    force: bool = typer.Option(False, "--force", help="Overwrite existing files."),
    name: Optional[str] = typer.Option(None, "--name", help="The team's pack name, shown in every document "
                                       "(asked for when not given and the input is a terminal)."),
) -> None:
    """Copy the default rule pack and playbooks into DIRECTORY for a team to edit.

    Example: kamrules init my-team --name "Acme KAM" && cd my-team && kamrules validate
    """
    with user_errors():
        from kamrules.resources import init_project

        if name is None and sys.stdin.isatty():
            name = typer.prompt("Name of your team's rule pack (shown in every document)", default="") or None
        created = init_project(directory, force=force, name=name)
        typer.echo(f"created {len(created)} files in {directory / 'rules'} and {directory / 'playbooks'}")
        typer.echo(f"next: edit them, then run `kamrules validate {directory / 'rules'}`")


@app.callback(invoke_without_command=True)
def _version(
    version: bool = typer.Option(False, "--version", help="Print the kamrules version and exit."),
) -> None:
    if version:
        from kamrules import __version__

        typer.echo(f"kamrules {__version__}")
        raise typer.Exit(0)


def main() -> None:
    """Console-script entry point."""
    try:
        app(prog_name="kamrules")
    except BrokenPipeError:
        _quiet_broken_pipe()


def _quiet_broken_pipe() -> None:
    """`kamrules ... | head` closed the pipe: stop quietly, as Unix tools do (exit 141 = 128 + SIGPIPE),
    and point stdout at /dev/null so Python's final flush does not print a second error."""
    _stdout_to_devnull()
    sys.exit(141)


def _stdout_to_devnull() -> None:
    """Point stdout at /dev/null: the descriptor (for what the OS still holds) and the Python object (a
    closed pipe or a full disk fails again on Python's final flush, with a traceback)."""
    import os

    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (a test's capture)
        pass
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives until the process exits


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
