"""The one YAML entry point: safe loading that keeps line and column for every key and value.

PyYAML's safe constructor silently keeps the last of two equal keys; rule authors need to hear about
it, so mappings are built here from the composed node tree, which also gives us the marks for errors.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from kamrules.errors import Diagnostic, Location
from kamrules.pack.guards import SourceError, check_yaml_graph, read_source, scalar_problem

try:  # the C loader is much faster; both are safe (no Python tags)
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _Loader = yaml.SafeLoader


class YMap(dict):
    """A mapping from a YAML file that remembers where it and each of its keys and values stand."""

    loc: Location
    key_locs: dict
    value_locs: dict
    value_styles: dict  # key -> YAML scalar style (None plain, '"' or "'" quoted, '|' or '>' block)

    def key_loc(self, key: Any) -> Location:
        return self.key_locs.get(key, self.loc)

    def value_loc(self, key: Any) -> Location:
        return self.value_locs.get(key, self.loc)

    def text_loc(self, key: Any, offset: int) -> Location:
        """The location of character `offset` inside the scalar value of `key` (for expressions)."""
        start = self.value_loc(key)
        style = self.value_styles.get(key)
        if style in ("|", ">"):
            return start
        shift = 1 if style in ('"', "'") else 0
        return Location(start.file, start.line, start.column + shift + offset)


class YList(list):
    """A sequence from a YAML file that remembers where it and each item stand."""

    loc: Location
    item_locs: list
    item_styles: list


def _loc(file: str, node: yaml.Node) -> Location:
    return Location(file, node.start_mark.line + 1, node.start_mark.column + 1)


_PLAIN_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:omap")


class _Builder:
    def __init__(self, file: str, diagnostics: list[Diagnostic]):
        self.file = file
        self.diagnostics = diagnostics
        self.constructor = yaml.constructor.SafeConstructor()

    def build(self, node: yaml.Node) -> Any:
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.tag not in _PLAIN_TAGS:
            raise yaml.constructor.ConstructorError(
                None, None, f"could not determine a constructor for the tag '{node.tag}'", node.start_mark)
        if isinstance(node, yaml.MappingNode):
            self.constructor.flatten_mapping(node)  # resolves `<<` merge keys, as SafeLoader does
            result = YMap()
            result.loc = _loc(self.file, node)
            result.key_locs, result.value_locs, result.value_styles = {}, {}, {}
            for key_node, value_node in node.value:
                key = self.build(key_node)
                if isinstance(key, (dict, list)):
                    self.diagnostics.append(Diagnostic(_loc(self.file, key_node), "a key must be a plain value"))
                    continue
                if key in result:
                    first = result.key_locs[key]
                    self.diagnostics.append(
                        Diagnostic(
                            _loc(self.file, key_node),
                            f"duplicate key '{key}' (first defined at line {first.line}); "
                            "YAML keeps only one of them: remove or rename one",
                        )
                    )
                    continue
                result[key] = self.build(value_node)
                result.key_locs[key] = _loc(self.file, key_node)
                result.value_locs[key] = _loc(self.file, value_node)
                result.value_styles[key] = getattr(value_node, "style", None)
            return result
        if isinstance(node, yaml.SequenceNode):
            result_list = YList(self.build(item) for item in node.value)
            result_list.loc = _loc(self.file, node)
            result_list.item_locs = [_loc(self.file, item) for item in node.value]
            result_list.item_styles = [getattr(item, "style", None) for item in node.value]
            return result_list
        if node.tag == "tag:yaml.org,2002:bool" and node.value.lower() not in ("true", "false"):
            # YAML 1.1 reads yes/no/on/off as booleans ("Norway problem"); in a rule file they are
            # words such as an output value, so only true/false are booleans here (as in YAML 1.2).
            return node.value
        value = self.constructor.construct_object(node, deep=True)
        if (problem := scalar_problem(value)) is not None:  # .inf, .nan, 400-digit integers (guards.py)
            self.diagnostics.append(Diagnostic(_loc(self.file, node), problem))
            return None
        return value


def _colon_slip(text: str, line: int) -> str:
    """The message for the most common slip: a text holding ': ' without quotes (`because: Pareto: top 80%`)."""
    source = text.splitlines()[line] if line < len(text.splitlines()) else ""
    # `(.*)` then rstrip, not `(.*?)\s*$`: the lazy form rescans trailing spaces (quadratic on a long line)
    match = re.match(r"^\s*(?:-\s+)?([^\s:#{}\[\],][^:#{}\[\]]*?):\s+(.*)$", source)
    hint = "quote the text"
    if match and not match.group(2).startswith(("'", '"', "{", "[")):
        key, value = match.group(1), match.group(2).rstrip()
        hint += ", as in " + key + ": " + '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"YAML: a ': ' inside a text that is not in quotes ({hint})"


def load_yaml(path: Path, display_name: str | None = None) -> tuple[Any, list[Diagnostic]]:
    """Load one YAML file safely. Returns (document or None, diagnostics)."""
    name = display_name or str(path)
    diagnostics: list[Diagnostic] = []
    try:
        text = read_source(path).decode("utf-8-sig")
    except SourceError as exc:
        return None, [Diagnostic(Location(name), str(exc).removeprefix(f"{path}: "))]
    except UnicodeDecodeError as exc:
        return None, [Diagnostic(Location(name), f"not UTF-8 text (byte {exc.start}): save the file as UTF-8")]
    except OSError as exc:
        return None, [Diagnostic(Location(name), f"cannot read the file: {exc.strerror}")]
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(name, mark.line + 1, mark.column + 1) if mark else Location(name)
        problem = exc.problem or exc.context or "invalid YAML"
        if mark and problem.startswith("mapping values are not allowed"):
            return None, [Diagnostic(where, _colon_slip(text, mark.line))]
        return None, [Diagnostic(where, f"YAML syntax error: {problem}")]
    except yaml.YAMLError as exc:
        return None, [Diagnostic(Location(name), f"YAML syntax error: {exc}")]
    except RecursionError:
        return None, [Diagnostic(Location(name), "YAML nested too deeply; a rule file never needs that")]
    if node is None:
        return None, []
    too_big = check_yaml_graph(node, name)  # alias bombs, cycles, deep nesting: before expanding
    if too_big is not None:
        return None, [too_big]
    try:
        return _Builder(name, diagnostics).build(node), diagnostics
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        where = Location(name, mark.line + 1, mark.column + 1) if mark else Location(name)
        diagnostics.append(Diagnostic(where, f"unsupported YAML: {exc.problem} (rule files hold plain data only)"))
        return None, diagnostics

