"""Rule packs: loading the YAML files, validating them, and the one representation engines compile from.

`load_pack(path)` reads every `*.yaml` of a folder in name order and returns a `RulePack`, or raises
`RuleError` listing every problem in every file with `file:line:column`, the decision and rule, and
the key. Warnings (unknown keys) are kept on the pack; `strict=True` turns them into errors.
"""

from __future__ import annotations

from pathlib import Path

from kamrules.errors import ConfigError, Diagnostic, Location, RuleError
from kamrules.language import expr as ex
from kamrules.pack.attributes_section import AttributeSections
from kamrules.pack.decisions_section import DecisionSections
from kamrules.pack.derived_section import DerivedSections
from kamrules.pack.core_traps import name_collisions
from kamrules.pack.fields_section import FieldSections
from kamrules.pack.guards import SourceError, read_source
from kamrules.pack.model import SECTIONS, RulePack
from kamrules.pack.yamlsrc import YMap, load_yaml

# ----------------------------------------------------------------------------------------- loading


def load_pack(path: Path | str, *, strict: bool = False) -> RulePack:
    """Load and validate a rule pack folder (or a single YAML file)."""
    root = Path(path)
    if not root.exists():
        raise ConfigError(f"{root}: no such rule pack folder (create one with `kamrules init {root}`)")
    files = sorted(root.glob("*.yaml")) + sorted(root.glob("*.yml")) if root.is_dir() else [root]
    files = sorted(files, key=lambda p: p.name)
    if not files:
        raise ConfigError(f"{root}: no rule files (*.yaml) in this folder")
    loader = _Loader(root)
    for file in files:
        loader.add_file(file)
    if loader.unreadable:  # names defined there are unknown now: checking the rest gives only follow-on errors
        raise RuleError([d for d in loader.diagnostics if d.severity == "error"])
    pack = loader.finish()
    errors = [d for d in loader.diagnostics if d.severity == "error"]
    warnings = [d for d in loader.diagnostics if d.severity == "warning"]
    if strict and warnings:
        errors += [Diagnostic(w.location, w.message + " (an error with --strict)") for w in warnings]
    if errors:
        raise RuleError(errors)
    assert pack is not None
    pack.warnings = sorted(warnings, key=lambda d: (d.location, d.message))
    return pack


def _display(root: Path, file: Path) -> str:
    try:
        return str(file.relative_to(Path.cwd()))
    except ValueError:
        return str(file)


class _Loader(FieldSections, DerivedSections, DecisionSections, AttributeSections):
    """Checks every file of a pack, section by section, collecting every problem (see load_pack)."""

    def add_file(self, file: Path) -> None:
        name = _display(self.root, file)
        self.file_names.append(file.name)
        try:
            self.digest.update(file.name.encode() + b"\0" + read_source(file) + b"\0")
        except (OSError, SourceError):  # load_yaml below reports why
            pass
        document, diagnostics = load_yaml(file, name)
        self.diagnostics += diagnostics
        if document is None:
            self.unreadable = self.unreadable or any(d.severity == "error" for d in diagnostics)
            return
        if not isinstance(document, YMap):
            self.error(Location(name, 1, 1), f"a rule file is a mapping of sections ({', '.join(SECTIONS)})")
            return
        for key, value in document.items():
            if key not in SECTIONS:
                self.warn(
                    document.key_loc(key),
                    f"unknown section '{key}'{ex.did_you_mean(str(key), SECTIONS)}; it is ignored"
                    f" (sections: {', '.join(SECTIONS)})",
                )
                continue
            if value is None:
                continue
            if not isinstance(value, YMap):
                self.error(document.value_loc(key), f"'{key}' must be a mapping of names to definitions")
                continue
            self.sections[key].append((value, name))

    def finish(self) -> RulePack | None:
        meta = self.load_meta()
        self.fields = self.load_fields()
        self.params = self.load_params()
        self.params_values = {n: p.value for n, p in self.params.items()}
        self.labels = self.load_labels()
        derived = self.load_derived()
        decisions = self.load_decisions(derived)
        self.decisions = decisions
        # names the engine would confuse (pack/core_traps.py): once every name is known
        self.diagnostics += name_collisions(self.names)
        roles = self.check_roles(meta.get("roles", {}))
        attributes = self.check_attributes(meta.get("attributes", []), derived)
        if not self.fields and not any(d.severity == "error" for d in self.diagnostics):
            self.error(Location(str(self.root)), "the pack defines no fields: add a 'fields' section")
        return RulePack(
            root=self.root,
            files=self.file_names,
            name=meta.get("name", self.root.name),
            title=meta.get("title", {}),
            version=str(meta.get("version", "")),
            fields=self.fields,
            params=self.params,
            labels=self.labels,
            derived=derived,
            decisions=decisions,
            hash=self.digest.hexdigest()[:16],
            roles=roles,
            attributes=attributes,
        )
