"""`kamrules explain --run OUT ID`: explain an account from a finished run, so the explanation agrees
with the decision table, report and playbooks the user holds.

A run's `manifest.json` records what made it: the `--as-of` date, the pack (name, version, hash, the
`--set` overrides), the input file (name, SHA-256, format, encoding, delimiter, sheet) and which column
each field was read from (and the `--where` filter). The explanation is computed again from those
same inputs, and refused when the data file or the rule pack at hand is not the one the run used:
kamrules never explains a different run than the one in OUT."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from kamrules.data.reader import ReadOptions
from kamrules.data.wording import say
from kamrules.errors import ConfigError, UsageError
from kamrules.pack import RulePack, load_pack
from kamrules.results.outputs import file_hash
from kamrules.results.run_folder import read_manifest


@dataclass
class RunInputs:
    """What `evaluate` used for the run in OUT: enough to evaluate it again, identically."""

    data: Path
    pack: RulePack
    as_of: dt.date
    options: ReadOptions


def run_inputs(out: Path, rules_folder: Path, data: Path | None = None,
               options: ReadOptions | None = None) -> RunInputs:
    """The inputs of the run in `out`, checked: the data file (given, or found by its recorded name next
    to OUT or in the current folder) must have the recorded SHA-256, and the pack in `rules_folder`
    (with the recorded `--set` overrides) the recorded hash."""
    lang = options.lang if options is not None else "en"
    manifest = read_manifest(out, lang)  # validated: types, as_of, a plain input name, a text encoding
    recorded = manifest.get("input") or {}
    data = data if data is not None else _find_data(out, recorded.get("name"), lang)
    if recorded.get("sha256") and data.is_file() and file_hash(data) != recorded["sha256"]:
        raise ConfigError(say(lang, "rerun_changed", data=data, out=out, name=recorded.get("name")))
    pack = load_pack(rules_folder)
    wanted = (manifest.get("pack") or {}).get("hash")
    refused = ConfigError(say(lang, "rerun_pack", rules=rules_folder, out=out, hash=wanted))
    overrides = (manifest.get("pack") or {}).get("overrides") or {}
    if overrides:
        from kamrules.pack.whatif import with_params

        try:
            pack = with_params(pack, {name: _setting_text(value) for name, value in overrides.items()})
        except UsageError:  # the run's --set names a param this pack lacks
            raise refused from None
    if wanted and pack.hash != wanted:
        raise refused
    try:
        as_of = dt.date.fromisoformat(str(manifest.get("as_of")))
    except ValueError:
        raise ConfigError(say(lang, "rerun_as_of", out=out)) from None
    return RunInputs(data, pack, as_of, _read_options(manifest, recorded, options or ReadOptions()))


def _find_data(out: Path, name: str | None, lang: str = "en") -> Path:
    if not name:
        raise UsageError(say(lang, "rerun_no_input", out=out))
    for folder in (Path(out).resolve().parent, Path.cwd()):
        if (folder / name).is_file():
            return folder / name
    raise UsageError(say(lang, "rerun_not_found", out=out, name=name))


def _setting_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _read_options(manifest: dict, recorded: dict, given: ReadOptions) -> ReadOptions:
    """The recorded way of reading the file (format, encoding, delimiter, sheet, which column is which
    field, the --where filter); what the user passes (decimal mark, dayfirst, bad values) is kept."""
    columns = {row["field"]: row["column"] for row in (manifest.get("columns") or {}).get("fields", [])
               if isinstance(row, dict) and row.get("field") and row.get("column")}
    where = (manifest.get("columns") or {}).get("where") or {}
    return ReadOptions(
        input_format=recorded.get("format") or given.input_format,
        encoding=recorded.get("encoding") or given.encoding,
        delimiter=recorded.get("delimiter") or given.delimiter,
        sheet=recorded.get("sheet") if recorded.get("sheet") is not None else given.sheet,
        decimal=given.decimal, dayfirst=given.dayfirst, on_bad_value=given.on_bad_value,
        columns=columns or given.columns, values=given.values,
        where=where.get("condition") if isinstance(where, dict) and where.get("condition") else given.where,
        lang=given.lang,
    )
