"""`kamrules explain --run OUT ID`: explain an account from a finished run, so the explanation agrees
with the decision table, report and playbooks the user holds.

A run's `manifest.json` records what made it: the `--as-of` date, the pack (name, version, hash, the
`--set` overrides), the input file (name, SHA-256, format, encoding, delimiter, sheet) and which column
each field was read from (and the `--where` filter). The explanation is computed again from those
same inputs, and refused when the data file or the rule pack at hand is not the one the run used:
kamrules never explains a different run than the one in OUT."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
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
    lang: str = "en"  # the run's --lang
    history: dict | None = None  # where the run's history facts came from (manifest "history")


def run_inputs(out: Path, rules_folder: Path, data: Path | None = None,
               options: ReadOptions | None = None, explicit_lang: bool = True) -> RunInputs:
    """The inputs of the run in `out`, checked: the data file (given, or found by its recorded name next
    to OUT or in the current folder) must have the recorded SHA-256, and the pack in `rules_folder`
    (with the recorded `--set` overrides) the recorded hash. The run's --columns file is read again
    (and must be unchanged), and its --lang is used unless `explicit_lang` (the user chose one)."""
    lang = options.lang if options is not None else "en"
    manifest = read_manifest(out, lang)  # validated: types, as_of, a plain input name, a text encoding
    recorded = manifest.get("input") or {}
    data = data if data is not None else _find_data(out, recorded.get("name"), lang)
    if recorded.get("sha256") and data.is_file() and file_hash(data) != recorded["sha256"]:
        raise ConfigError(say(lang, "rerun_changed", data=data, out=out, name=recorded.get("name")))
    pack = _recorded_pack(manifest, rules_folder, out, lang)
    try:
        as_of = dt.date.fromisoformat(str(manifest.get("as_of")))
    except ValueError:
        raise ConfigError(say(lang, "rerun_as_of", out=out)) from None
    given = options or ReadOptions()
    recorded_lang = manifest.get("lang")
    lang = given.lang if explicit_lang or recorded_lang not in ("en", "zh") else str(recorded_lang)
    read = _read_options(manifest, recorded, replace(given, lang=lang))
    mapping_file = ((manifest.get("columns") or {}).get("file") or {})
    if mapping_file.get("path"):
        _recorded_mapping_file(out, mapping_file, read)
    history = manifest.get("history") if isinstance(manifest.get("history"), dict) else None
    return RunInputs(data, pack, as_of, read, lang, history)


def _recorded_pack(manifest: dict, rules_folder: Path, out: Path, lang: str) -> RulePack:
    """The pack in `rules_folder` with the run's `--set` overrides, refused unless it has the recorded hash."""
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
    return pack


def _recorded_mapping_file(out: Path, recorded: dict, options: ReadOptions) -> None:
    """Read the run's --columns file again (found as given, next to OUT or in the current folder), with the
    same guards as any input, refusing one whose content changed since the run: its value maps, units and
    `where:` apply as they did."""
    from kamrules.data.reader import load_mapping_file

    lang = options.lang
    given = Path(str(recorded["path"]))
    places = [given, Path(out).resolve().parent / given.name, Path.cwd() / given.name]
    path = next((p for p in places if p.is_file()), None)
    if path is None:
        raise UsageError(say(lang, "rerun_columns_missing", out=out, path=given))
    if recorded.get("sha256") and file_hash(path) != recorded["sha256"]:
        raise ConfigError(say(lang, "rerun_columns_changed", path=path, out=out))
    mapping = load_mapping_file(path, lang)
    options.values = mapping.values or None
    options.units = mapping.units or None
    options.periods = mapping.periods or None
    options.row_filter, options.row_filter_from = mapping.where, mapping.where_loc


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
    rows = {option: recorded[option] if isinstance(recorded.get(option), int) and not isinstance(recorded.get(option), bool)
            else getattr(given, option) for option in ("header_row", "skip_footer")}
    return ReadOptions(
        **rows,
        input_format=recorded.get("format") or given.input_format,
        encoding=recorded.get("encoding") or given.encoding,
        delimiter=recorded.get("delimiter") or given.delimiter,
        sheet=recorded.get("sheet") if recorded.get("sheet") is not None else given.sheet,
        decimal=given.decimal, dayfirst=given.dayfirst, on_bad_value=given.on_bad_value,
        columns=columns or given.columns, values=given.values,
        where=where.get("condition") if isinstance(where, dict) and where.get("condition") else given.where,
        lang=given.lang,
    )
