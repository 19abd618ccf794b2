"""Guards on files users share: what a rule file, a `--columns` file or a template may be.

A rule pack or a template folder often comes from a shared repository, and git stores symlinks, FIFOs
cannot be stored but can be made locally, and `/dev/zero` is one `ln -s` away. So every user-written
source file is opened through `read_source`, which refuses:

- a symlink whose target leaves the folder the link stands in (reading `/etc/passwd` through a rule
  file or a template);
- anything that is not a regular file (a FIFO would hang the run, `/dev/zero` would fill memory);
- a file larger than `MAX_SOURCE_BYTES` (rule files and templates are small text).

And every YAML document is checked by `check_yaml_graph` before it is expanded: PyYAML composes
aliases as shared nodes, so a 470-byte "billion laughs" file is a tiny graph that expands to
gigabytes, and `x: &x [*x]` is a cycle. The walk is iterative (no recursion limit to hit) and
bounds the expanded size, the nesting depth and refuses cycles, with the line of the culprit.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import yaml

from kamrules.errors import Diagnostic, Location

MAX_SOURCE_BYTES = 5 * 1024 * 1024  # a rule file or template over 5 MB is not hand-written
MAX_YAML_NODES = 200_000  # after alias expansion; the default pack has ~6,000
MAX_YAML_DEPTH = 64  # nesting levels; the default pack uses 7


class SourceError(Exception):
    """A source file that must not be read; the message says why and how to fix it."""


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_source(path: Path, folder: Path | None = None, *, max_bytes: int = MAX_SOURCE_BYTES) -> None:
    """Raise `SourceError` unless `path` is a regular file of at most `max_bytes` that, when it is a
    symlink (or lies under one), still resolves inside `folder` (default: the folder it stands in)."""
    path = Path(path)
    home = Path(folder if folder is not None else path.parent).resolve()
    target = path.resolve()
    if not _inside(target, home):
        raise SourceError(
            f"{path}: is a link to {target}, outside its folder {home}; links may only point inside "
            "the folder (copy the file in instead)")
    try:
        info = os.stat(target)
    except OSError as exc:
        raise SourceError(f"{path}: cannot read the file ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise SourceError(f"{path}: is not a regular file (a device, pipe or socket); use a plain text file")
    if info.st_size > max_bytes:
        raise SourceError(f"{path}: is {info.st_size:,} bytes, more than the {max_bytes:,} a hand-written "
                          "file can need; split it or check that it is the right file")


def read_source(path: Path, folder: Path | None = None, *, max_bytes: int = MAX_SOURCE_BYTES) -> bytes:
    """The bytes of a user-written source file, after `check_source` (read at most `max_bytes`, so a
    file that grows between the check and the read cannot exhaust memory)."""
    check_source(path, folder, max_bytes=max_bytes)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)  # a pipe swapped in after the check cannot hang
    fd = os.open(Path(path).resolve(), flags)
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise SourceError(f"{path}: is more than {max_bytes:,} bytes; split it or check that it is the right file")
    return data


def check_yaml_graph(root: yaml.Node, file: str, *, max_nodes: int = MAX_YAML_NODES,
                     max_depth: int = MAX_YAML_DEPTH) -> Diagnostic | None:
    """A diagnostic if the composed YAML `root` is cyclic, nests deeper than `max_depth` or expands
    (aliases counted every time they are used) to more than `max_nodes` nodes; else None."""
    expanded = 0
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]  # (node, depth, leaving)
    while stack:
        node, depth, leaving = stack.pop()
        if leaving:
            on_path.discard(id(node))
            continue
        where = Location(file, node.start_mark.line + 1, node.start_mark.column + 1)
        if id(node) in on_path:
            return Diagnostic(where, "a YAML alias refers to itself (a cycle); write the value out instead")
        if depth > max_depth:
            return Diagnostic(where, f"YAML nested more than {max_depth} levels deep; a rule file never needs that")
        expanded += 1
        if expanded > max_nodes:
            return Diagnostic(where, f"YAML aliases expand to more than {max_nodes:,} values (an 'alias bomb'); "
                                     "write the values out or use fewer nested aliases")
        if isinstance(node, (yaml.SequenceNode, yaml.MappingNode)):
            on_path.add(id(node))
            stack.append((node, depth, True))
            children = node.value if isinstance(node, yaml.SequenceNode) else [n for pair in node.value for n in pair]
            stack.extend((child, depth + 1, False) for child in reversed(children))
    return None


MAX_FORMAT_WIDTH = 100  # width and precision in a `because:` placeholder, e.g. {sales:,.0f} or {share:>8.1%}
_PLACEHOLDER_SPEC = re.compile(r"\{[^{}:]{1,200}:([^{}]{0,200})\}")
_NUMBER = re.compile(r"\d{1,400}")


def because_format_problem(text: str) -> str | None:
    """Why a `because:` text cannot be formatted safely, or None: `{sales:.100000000f}` passed
    `validate` and then made `evaluate` build a 100 MB string per account."""
    for spec in _PLACEHOLDER_SPEC.findall(text):
        if any(int(digits) > MAX_FORMAT_WIDTH for digits in _NUMBER.findall(spec)):
            return (f"the format '{{…:{spec}}}' asks for a width or precision over {MAX_FORMAT_WIDTH}; "
                    "write something like {sales:,.0f} or {share:.1%}")
    return None


MAX_NUMBER = 1e15  # as for data values: no parameter, threshold or output needs more


def scalar_problem(value: object) -> str | None:
    """Why a YAML number cannot be used in a rule file, or None: `.inf`/`.nan` became silently missing
    outputs, and a 400-digit integer crashed the conversion to float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and value != value:
        return "'.nan' is not a number a rule can use; leave the value out instead"
    if abs(value) > MAX_NUMBER:
        return f"the number is beyond ±{MAX_NUMBER:,.0f} (or infinite); no parameter or output needs that"
    return None
