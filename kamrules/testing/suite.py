"""`kamrules test` as one library call: the pack's cases and its properties, read and checked
together (every problem of every test file at once), then run."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from kamrules.data.reader import ReadOptions
from kamrules.errors import ConfigError, RuleError
from kamrules.pack import RulePack
from kamrules.testing.cases import load_cases, test_files
from kamrules.testing.properties import load_properties
from kamrules.testing.property_runs import data_portfolio, pack_portfolios, run_properties
from kamrules.testing.runner import TestRun, empty_coverage, run_tests


def run_pack_tests(pack: RulePack, folder: Path, as_of: dt.date, lang: str = "en", *, cases: bool = True,
                   properties: bool = True, data: Path | None = None,
                   read_options: ReadOptions | None = None) -> TestRun:
    """Read every test file of `folder/tests`, then run its cases (unless `cases` is False) and check
    its properties (unless `properties` is False) on the pack's test portfolios and on `data`, read
    with `read_options`. Raises RuleError listing every problem of every test file, ConfigError when
    there is nothing to run."""
    paths = test_files(folder)
    if not paths:
        raise ConfigError(f"{folder / 'tests'}: no test cases (*.yaml or *.csv); see docs/testing-rules.md")
    problems, files = [], []
    try:
        files = load_cases(pack, paths, lang)
    except RuleError as exc:
        problems += exc.diagnostics
    stated, errors = load_properties(pack, paths)
    if problems or errors:
        raise RuleError(problems + errors)
    if data is not None and not stated:
        raise ConfigError(f"--data checks the pack's properties, and {folder / 'tests'} states none: add a "
                          "'properties:' list to a test file (see docs/testing-rules.md, \"Properties\")")
    run = run_tests(pack, files, as_of, lang) if cases else TestRun([], empty_coverage(pack), cases_run=False)
    if properties and stated:
        portfolios, unreadable = pack_portfolios(pack, folder, files, as_of, lang)
        if data is not None:
            portfolios.append(data_portfolio(pack, data, read_options or ReadOptions(lang=lang), as_of))
            run.warnings += portfolios[-1].warnings
        run.properties = run_properties(pack, stated, portfolios, unreadable, lang)
    return run
