"""Reading pack test cases: `rules/tests/*.yaml` (one case per list item) and `rules/tests/*.csv`
(one case per row), checked against the pack like rules are (file:line:col, did-you-mean).

A case names the account's facts (any field, feature or score: a feature or score given directly
overrides what would be computed), optionally a portfolio file it runs inside and its `as_of` date,
and what it expects: output values (`expect`), the deciding rule per decision (`rules`), values a
collect decision must include (`includes`) or must not include (`excludes`). Only what is stated is
checked.

The CSV form: every column that is not special is a fact; `expected_<output>` is an output's value
(a `;`-separated set for a collect decision's output), `expected_<decision>` / `absent_<decision>`
list values a collect decision must / must not produce, `rule_<decision>` the deciding rule, and
`name` (or `account_id`), `reason`, `as_of` describe the case. All rows of one CSV file form one
portfolio: portfolio values (shares, ranks, HHI) are computed over the whole table.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kamrules.data.cells import cell_text
from kamrules.data.convert import convert_value
from kamrules.data.guards import DATE_RANGE
from kamrules.data.options import ReadOptions
from kamrules.errors import Diagnostic, Location, RuleError
from kamrules.language import expr as ex
from kamrules.pack import FieldSpec, RulePack, normalise_header
from kamrules.pack.guards import MAX_SOURCE_BYTES, SourceError, check_source, read_source
from kamrules.pack.yamlsrc import YList, YMap, load_yaml

CASE_KEYS = ("name", "facts", "portfolio", "as_of", "expect", "rules", "includes", "excludes", "reason")
CSV_SPECIAL = ("name", "reason", "as_of")
# A portfolio is a small data file kept in the pack; test files are hand-written (MAX_SOURCE_BYTES).
MAX_PORTFOLIO_BYTES = 50 * 1024 * 1024


@dataclass
class TestCase:
    """One case: facts in, expectations out. `expect` holds output → value (a sorted list for
    collect outputs); `rules` decision → rule id; `includes`/`excludes` decision → values."""

    __test__ = False  # not a pytest class

    name: str
    file: str
    loc: Location
    facts: dict
    as_of: dt.date | None = None
    expect: dict = field(default_factory=dict)
    rules: dict = field(default_factory=dict)
    includes: dict = field(default_factory=dict)
    excludes: dict = field(default_factory=dict)
    reason: str = ""
    group: str = ""  # cases of one group run as one portfolio (a CSV file; a YAML case alone)
    portfolio: Path | None = None


@dataclass
class TestFile:
    __test__ = False

    path: Path
    cases: list


def test_files(folder: Path) -> list[Path]:
    """The test files of a pack folder, in name order."""
    tests = folder / "tests"
    if not tests.is_dir():
        return []
    return sorted([*tests.glob("*.yaml"), *tests.glob("*.yml"), *tests.glob("*.csv")], key=lambda p: p.name)


def input_specs(pack: RulePack) -> list[FieldSpec]:
    """Every field, feature and score as an optional field, so a case may give any of them."""
    specs = [dataclasses.replace(spec, required=False) for spec in pack.fields.values()]
    for item in pack.derived:
        values = tuple(getattr(item, "values", ()))
        kind = "number" if item.type == ex.NUMBER else item.type
        specs.append(FieldSpec(name=item.name, type=kind, values=values,
                               value_aliases={normalise_header(v): v for v in values}))
    return specs


def load_cases(pack: RulePack, paths: list[Path], lang: str = "en") -> list[TestFile]:
    """Read and check every test file; raise RuleError listing every problem in every file.

    Test files and portfolios are read like rule files (`kamrules.pack.guards`): regular files inside
    the pack folder, of bounded size. A shared pack with `tests/a.csv -> ~/.aws/credentials` printed
    the credential in its error message; `/dev/zero` filled memory and a FIFO hung the run. `lang`: the
    language of the reasons a fact cannot be read (the data reader's words)."""
    checker = _Checker(pack, lang)
    files = []
    for path in paths:
        cases = checker.csv_file(path) if path.suffix.lower() == ".csv" else checker.yaml_file(path)
        files.append(TestFile(path, cases))
    if checker.errors:
        raise RuleError(checker.errors)
    return files


def collect_values(pack: RulePack, decision_id: str) -> str:
    """The output whose values a collect decision lists (its first output)."""
    return next(iter(pack.decision(decision_id).outputs))


class _Checker:
    def __init__(self, pack: RulePack, lang: str = "en"):
        self.pack = pack
        self.lang = lang
        self.errors: list[Diagnostic] = []
        self.inputs = set(pack.fields) | {d.name for d in pack.derived}
        self.outputs = {name: d for d in pack.decisions for name in d.outputs}
        self.decisions = {d.id: d for d in pack.decisions}
        self.specs = {spec.name: spec for spec in input_specs(pack)}
        self.folder = Path(pack.root)

    def error(self, loc: Location, message: str) -> None:
        self.errors.append(Diagnostic(loc, message))

    # -- YAML
    def guarded(self, path: Path, loc: Location, *, max_bytes: int = MAX_SOURCE_BYTES) -> bool:
        """Whether `path` is a regular file inside the pack folder, of at most `max_bytes` (else an error at `loc`)."""
        try:
            check_source(path, self.folder, max_bytes=max_bytes)
        except SourceError as exc:
            self.error(loc, str(exc).removeprefix(f"{path}: ") if loc.file == str(path) else str(exc))
            return False
        return True

    def yaml_file(self, path: Path) -> list:
        name = str(path)
        if not self.guarded(path, Location(name)):
            return []
        document, diagnostics = load_yaml(path, name)
        self.errors += [d for d in diagnostics if d.severity == "error"]
        if document is None:
            return []
        file_as_of = None
        items = document
        if isinstance(document, YMap):
            file_as_of = self.date(document.get("as_of"), document.value_loc("as_of"), "as_of") if "as_of" in document else None
            items = document.get("cases")
            if items is None and "properties" in document:
                return []  # properties only (kamrules/testing/properties.py reads them)
        if not isinstance(items, YList):
            self.error(Location(name, 1, 1), "a test file is a list of cases (or a mapping with 'cases:', "
                       "'properties:' and 'as_of:'), each case with name, facts and expect")
            return []
        cases = []
        for index, item in enumerate(items):
            case = self.yaml_case(path, item, items.item_locs[index], index, file_as_of)
            if case is not None:
                cases.append(case)
        return cases

    def yaml_case(self, path: Path, item: Any, loc: Location, index: int, file_as_of) -> TestCase | None:
        if not isinstance(item, YMap):
            self.error(loc, f"case {index + 1}: must be a mapping with name, facts and expect")
            return None
        label = str(item.get("name", f"case {index + 1}"))
        where = f"case '{label}': "
        for key in item:
            if key not in CASE_KEYS:
                self.error(item.key_loc(key), f"{where}unknown key '{key}'{ex.did_you_mean(str(key), CASE_KEYS)}")
        facts = {}
        raw_facts = item.get("facts", YMap())
        if not isinstance(raw_facts, YMap):
            self.error(item.value_loc("facts"), f"{where}facts: a mapping of field, feature or score to value")
            raw_facts = YMap()
        for key, value in raw_facts.items():
            if self.input_name(str(key), raw_facts.key_loc(key), where + "facts: "):
                facts[str(key)] = self.fact(str(key), value, raw_facts.value_loc(key), where + "facts: ")
        case = TestCase(name=label, file=str(path), loc=item.loc, facts=facts, reason=str(item.get("reason", "")),
                        group=f"{path}#{index}")
        case.as_of = self.date(item["as_of"], item.value_loc("as_of"), where + "as_of") if "as_of" in item else file_as_of
        if "portfolio" in item:
            portfolio = path.parent / str(item["portfolio"])
            home = self.folder.resolve()
            if not Path(os.path.normpath(portfolio.absolute())).is_relative_to(home):
                self.error(item.value_loc("portfolio"), f"{where}portfolio: {item['portfolio']} is outside the pack "
                           f"folder {self.folder}; keep portfolio files in {self.folder / 'tests' / 'portfolios'}")
            elif not portfolio.exists():
                self.error(item.value_loc("portfolio"), f"{where}portfolio: no file {portfolio}")
            elif self.guarded(portfolio, item.value_loc("portfolio"), max_bytes=MAX_PORTFOLIO_BYTES):
                case.portfolio = portfolio
        self.yaml_expectations(item, case, where)
        if not any(key in item for key in ("expect", "rules", "includes", "excludes")):
            self.error(item.loc, f"{where}states nothing to check: add 'expect' (output values) or 'rules' (deciding rules)")
        return case

    def yaml_expectations(self, item: YMap, case: TestCase, where: str) -> None:
        for key in ("expect", "rules", "includes", "excludes"):
            mapping = item.get(key)
            if mapping is None:
                continue
            if not isinstance(mapping, YMap):
                self.error(item.value_loc(key), f"{where}{key}: a mapping of " + ("output to value" if key == "expect" else "decision to rule id" if key == "rules" else "decision to a list of values"))
                continue
            for name, value in mapping.items():
                self.expectation(key, str(name), value, mapping.key_loc(name), case, where + f"{key}: ")

    # -- CSV
    def csv_file(self, path: Path) -> list:
        name = str(path)
        if not self.guarded(path, Location(name)):
            return []
        try:
            text = read_source(path, self.folder).decode("utf-8-sig")
            rows = list(csv.reader(io.StringIO(text, newline="")))
        except (OSError, SourceError, UnicodeDecodeError, csv.Error) as exc:
            self.error(Location(name), f"cannot read the test table: {exc} (save it as UTF-8 CSV)")
            return []
        if not rows:
            self.error(Location(name, 1, 1), "the test table is empty: one header row, then one row per case")
            return []
        header = rows[0]
        columns = self.csv_header(name, header)
        if not any(kind in ("expect", "rules", "includes", "excludes") for kind, _ in columns.values()):
            if not self.errors:
                self.error(Location(name, 1, 1), "a test table needs expected_<output>, rule_<decision> or "
                           "absent_<decision> columns; a portfolio file for YAML cases goes in tests/portfolios/")
            return []
        cases = []
        for number, row in enumerate(rows[1:], start=2):
            if not any(cell.strip() for cell in row):
                continue
            cells = dict(zip(header, row + [""] * (len(header) - len(row))))
            case = self.csv_case(path, number, cells, columns)
            if case is not None:
                cases.append(case)
        return cases

    def csv_header(self, name: str, header: list) -> dict:
        """column -> (kind, name): fact, expect, rules, includes, excludes or special."""
        columns = {}
        for index, column in enumerate(header):
            loc = Location(name, 1, index + 1)
            key = column.strip()
            if key in CSV_SPECIAL or key == "account_id" and key not in self.inputs:
                columns[column] = ("special", key)
            elif key.startswith("expected_"):
                target = key[len("expected_"):]
                kind = "expect" if target in self.outputs else "includes"
                if kind == "includes" and not self.collect_decision(target, loc, f"column '{key}': "):
                    continue
                columns[column] = (kind, target)
            elif key.startswith("absent_"):
                if self.collect_decision(key[len("absent_"):], loc, f"column '{key}': "):
                    columns[column] = ("excludes", key[len("absent_"):])
            elif key.startswith("rule_"):
                if self.decision_name(key[len("rule_"):], loc, f"column '{key}': "):
                    columns[column] = ("rules", key[len("rule_"):])
            elif self.input_name(key, loc, f"column '{key}': "):
                columns[column] = ("fact", key)
        return columns

    def csv_case(self, path: Path, number: int, cells: dict, columns: dict) -> TestCase | None:
        label = (cells.get("name") or cells.get("account_id") or f"row {number}").strip()
        case = TestCase(name=label, file=str(path), loc=Location(str(path), number, 1), facts={},
                        reason=cells.get("reason", "").strip(), group=str(path))
        for position, (column, text) in enumerate(cells.items()):
            kind, target = columns.get(column, (None, None))
            loc = Location(str(path), number, position + 1)
            if kind == "fact" and text.strip():
                case.facts[target] = text.strip()  # the table is read as data: a bad cell names its row and column
            elif kind == "special" and target == "as_of" and text.strip():
                case.as_of = self.date(text.strip(), loc, f"row {number}: as_of")
            elif kind in ("expect", "rules", "includes", "excludes") and text.strip():
                value: Any = text.strip()
                if kind != "rules" and (kind != "expect" or self.is_collect_output(target)):
                    value = [v.strip() for v in value.split(";") if v.strip()]
                self.expectation(kind, target, value, loc, case, f"row {number}: {column}: ")
        if "account_id" in self.inputs and "account_id" not in case.facts:
            case.facts["account_id"] = label
        return case

    # -- shared checks
    def input_name(self, name: str, loc: Location, where: str) -> bool:
        if name in self.inputs:
            return True
        hint = ex.did_you_mean(name, sorted(self.inputs | set(self.outputs)))
        if name in self.outputs:
            self.error(loc, f"{where}'{name}' is an output, not a fact: put it under 'expect' (or a column 'expected_{name}')")
        else:
            self.error(loc, f"{where}unknown field, feature or score '{name}'{hint}")
        return False

    def decision_name(self, name: str, loc: Location, where: str) -> bool:
        if name in self.decisions:
            return True
        self.error(loc, f"{where}unknown decision '{name}'{ex.did_you_mean(name, list(self.decisions) + list(self.outputs))}")
        return False

    def collect_decision(self, name: str, loc: Location, where: str) -> bool:
        if name in self.decisions and self.decisions[name].hit == "collect":
            return True
        if name in self.decisions:
            self.error(loc, f"{where}'{name}' is not a collect decision: expect its outputs instead")
            return False
        self.error(loc, f"{where}unknown output or decision '{name}'{ex.did_you_mean(name, list(self.outputs) + list(self.decisions))}")
        return False

    def is_collect_output(self, name: str) -> bool:
        return self.outputs[name].hit == "collect"

    def expectation(self, kind: str, name: str, value: Any, loc: Location, case: TestCase, where: str) -> None:
        if kind == "expect":
            if name not in self.outputs:
                self.error(loc, f"{where}unknown output '{name}'{ex.did_you_mean(name, list(self.outputs))}")
                return
            values = value if isinstance(value, list) else [value]
            if self.is_collect_output(name) and not isinstance(value, list):
                values, value = [value], [value]
            self.check_values(name, values, loc, where)
            case.expect[name] = sorted(map(str, value)) if isinstance(value, list) else value
        elif kind == "rules":
            if not self.decision_name(name, loc, where):
                return
            ids = [r.id for r in self.decisions[name].rules] + ["default"]
            if str(value) not in ids:
                self.error(loc, f"{where}decision '{name}' has no rule '{value}'{ex.did_you_mean(str(value), ids)}")
                return
            case.rules[name] = str(value)
        else:
            if not self.collect_decision(name, loc, where):
                return
            values = value if isinstance(value, list) else [value]
            self.check_values(collect_values(self.pack, name), values, loc, where)
            getattr(case, kind)[name] = sorted(map(str, values))

    def check_values(self, output: str, values: list, loc: Location, where: str) -> None:
        spec = self.outputs[output].outputs[output]
        if spec.type != "category":
            return
        for value in values:
            if str(value) not in spec.values:
                self.error(loc, f"{where}'{value}' is not a value of {output}{ex.did_you_mean(str(value), spec.values)}")

    def date(self, value: Any, loc: Location, where: str) -> dt.date | None:
        if isinstance(value, dt.datetime):
            value = value.date()
        if not isinstance(value, dt.date):
            try:
                value = dt.date.fromisoformat(str(value))
            except ValueError:
                self.error(loc, f"{where}: '{value}' is not a date: write it as YYYY-MM-DD")
                return None
        first, last = (day.date() for day in DATE_RANGE)
        if not first <= value <= last:  # as --as-of: ages and durations must fit pandas' nanoseconds
            self.error(loc, f"{where}: {value} is outside {first} … {last}; check the year")
            return None
        return value

    def fact(self, name: str, value: Any, loc: Location, where: str) -> Any:
        """A fact typed as the data file's cell would be (an error at `loc` when it cannot be): `'abc'`
        for a number or `maybe` for a yes/no field used to become a silent missing value, so a case
        could pass for the wrong reason."""
        if value is None:
            return None
        if isinstance(value, (YMap, YList, dict, list)):
            self.error(loc, f"{where}{name}: a single value, not a {'list' if isinstance(value, list) else 'mapping'}")
            return None
        converted, reason = convert_value(self.specs[name], cell_text(value), ReadOptions(lang=self.lang))
        if reason is not None:
            self.error(loc, f"{where}{name}: {cell_text(value)!r} {reason}")
        return converted
