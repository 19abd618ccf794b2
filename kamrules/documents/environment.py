"""The one Jinja environment factory: sandboxed, StrictUndefined, a team's folder first and the packaged defaults second; filters."""

from __future__ import annotations

import dataclasses
import re
import traceback
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from kamrules.documents.context_model import Texts, Values
from kamrules.documents.formatting import Formatter
from kamrules.errors import TemplateError
from kamrules.i18n import (
    MISSING,
    Strings,
    fmt_bool,
    fmt_date,
    fmt_money,
    fmt_number,
    fmt_pct,
    is_missing,
)
from kamrules.pack import RulePack, pick

SELECTIONS = {"key": ("key",), "key+potential": ("key", "over_capacity", "potential"), "all": None, "none": ()}
PLAYBOOK_TEMPLATES = ("playbook.md.j2", "playbook.html.j2")
REPORT_TEMPLATE = "report.html.j2"

# ------------------------------------------------------------------------------------ environment

MAX_REPEAT = 100_000  # longest string or list a template may build with '*'


def default_templates_dir() -> Path:
    """The packaged default templates (in a source checkout: `playbooks/` at the repository root)."""
    from kamrules.resources import default_dir

    return default_dir("playbooks")


def _autoescape(name: str | None) -> bool:
    """Escape HTML templates only: `x.html.j2`, `x.html`, `x.svg.j2` ... (Markdown stays as written)."""
    if name is None:
        return False
    name = name.lower()
    for suffix in (".j2", ".jinja", ".jinja2"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name.endswith((".html", ".htm", ".xml", ".svg"))


def _sandbox_class():
    from jinja2.exceptions import SecurityError, TemplateSyntaxError
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    from kamrules.documents import guards

    class PlaybookSandbox(guards.BudgetedSandbox, ImmutableSandboxedEnvironment):
        """Jinja's immutable sandbox, plus: no `**`; `*` cannot build huge strings or lists; and the
        budgets of `guards.BudgetedSandbox` (document size and time, widths, `%`, `+`, `~`)."""

        intercepted_binops = frozenset({"*", "**", "%", "+"})
        code_generator_class = guards.budgeted_code_generator()

        def getattr(self, obj, attribute):
            # Fast path for the context's own frozen dataclasses and mappings (most lookups of a
            # render): they hold only plain values, so a public field is always safe. Anything else
            # goes through the sandbox's full checks.
            kind = type(obj)
            if kind in _SAFE_RECORDS and attribute[:1] != "_":
                try:
                    return getattr(obj, attribute)
                except AttributeError:
                    pass
            elif kind in _SAFE_MAPPINGS and attribute[:1] != "_" and attribute not in DICT_METHODS:
                try:
                    return obj[attribute]
                except KeyError:
                    pass
            return super().getattr(obj, attribute)

        def _parse(self, source, name, filename):
            try:
                return super()._parse(source, name, filename)
            except ValueError:  # an integer literal past the digits Python converts (Jinja's lexer: int())
                raise TemplateSyntaxError(f"a number is longer than the {guards.MAX_INT_DIGITS:,} digits a "
                                          "template may write", _long_number_line(source), name, filename) from None

        def call_binop(self, context, operator, left, right):
            if operator == "**":
                raise SecurityError("the '**' operator is not allowed in playbook templates")
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(times, int) and len(seq) * times > MAX_REPEAT:
                    raise SecurityError(f"'*' would build a sequence longer than {MAX_REPEAT:,}")
            return super().call_binop(context, operator, left, right)

    return PlaybookSandbox


def _long_number_line(source: str) -> int:
    """The line of the first run of more digits than Python converts to an integer (1 if none)."""
    from kamrules.documents.guards import MAX_INT_DIGITS

    found = re.search(r"[0-9_]{%d,}" % (MAX_INT_DIGITS + 1), source)
    return source.count("\n", 0, found.start()) + 1 if found else 1


DICT_METHODS = frozenset(dir(dict))
_SAFE_RECORDS: frozenset = frozenset()
_SAFE_MAPPINGS: frozenset = frozenset()


def _safe_types() -> tuple[frozenset, frozenset]:
    """The context classes of playbooks and report (frozen dataclasses of plain values)."""
    from kamrules.documents import context, context_model, report_model
    from kamrules.engine.evaluation import Evaluation
    from kamrules.results import portfolio, portfolio_model

    records = set()
    for module in (context, context_model, portfolio, portfolio_model, report_model):
        for value in vars(module).values():
            if isinstance(value, type) and dataclasses.is_dataclass(value) and value.__dataclass_params__.frozen:
                records.add(value)
    records.discard(Evaluation)  # read-only, but no record for templates: it holds the pack and every value
    from jinja2.runtime import LoopContext

    records.add(LoopContext)  # loop.index, loop.last ...: Jinja's own, public attributes only
    return frozenset(records), frozenset({Values, Strings, Texts})


def search_path(playbooks_dir: Path | str | None = None) -> list[Path]:
    """Where templates are looked up, in order: the team's folder, then the packaged defaults."""
    paths = []
    if playbooks_dir is not None:
        paths.append(Path(playbooks_dir))
    paths.append(default_templates_dir())
    return paths


class _MemoryBytecodeCache:
    """Compiled templates kept for the process, keyed by name and source checksum: every environment
    the factory makes shares them, so checking, probing and rendering compile each template once."""

    def __init__(self) -> None:
        from jinja2 import BytecodeCache

        class Cache(BytecodeCache):
            store: dict = {}

            def load_bytecode(self, bucket):
                code = self.store.get((bucket.key, bucket.checksum))
                if code is not None:
                    bucket.code = code

            def dump_bytecode(self, bucket):
                self.store[(bucket.key, bucket.checksum)] = bucket.code

        self.cache = Cache()


_BYTECODE: _MemoryBytecodeCache | None = None


def _bytecode_cache():
    global _BYTECODE
    if _BYTECODE is None:
        _BYTECODE = _MemoryBytecodeCache()
    return _BYTECODE.cache


def make_environment(playbooks_dir: Path | str | None = None, *, pack: RulePack | None = None, lang: str = "en"):
    """The one Jinja environment factory for playbooks and the report (see the module docstring)."""
    from jinja2 import ChoiceLoader, PrefixLoader, StrictUndefined

    from kamrules.documents import guards
    from kamrules.documents.guards import ConfinedFileSystemLoader as FileSystemLoader  # no symlink escapes

    paths = search_path(playbooks_dir)
    loader = ChoiceLoader([
        FileSystemLoader([str(p) for p in paths]),
        PrefixLoader({"default": FileSystemLoader(str(paths[-1]))}),  # {% extends "default/playbook.md.j2" %}
    ])
    global _SAFE_RECORDS, _SAFE_MAPPINGS
    if not _SAFE_RECORDS:
        _SAFE_RECORDS, _SAFE_MAPPINGS = _safe_types()
    env = _sandbox_class()(
        loader=loader,
        undefined=StrictUndefined,
        autoescape=_autoescape,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
        bytecode_cache=_bytecode_cache(),
    )
    for unused in ("lipsum", "cycler", "joiner"):  # nothing a playbook needs; less to attack
        env.globals.pop(unused, None)
    env.globals["stack_labels"] = stack_labels
    env.filters.update(guards.bounded_filters(env.filters, env))  # center, indent, format, join ... with bounds
    env.filters.update(make_filters(pack, lang))
    env.playbook_search_path = paths  # for error messages
    return env


def make_filters(pack: RulePack | None, lang: str = "en") -> dict:
    """The kamrules filters (docs/playbooks.md): money, number, pct, date, yesno, label, show, caption,
    text, md, css."""
    fmt = Formatter(pack, lang) if pack is not None else None

    def label(value: Any, name: str = "") -> str:
        if fmt is None:
            return pick(value, lang) if isinstance(value, dict) else (MISSING if is_missing(value) else str(value))
        return fmt.label(value, name)

    def show(value: Any, name: str = "") -> str:
        return fmt.show(value, name) if fmt is not None else label(value, name)

    def caption(name: str) -> str:
        return fmt.caption(name) if fmt is not None else str(name)

    return {
        "money": lambda value: fmt_money(value, lang, wan=False),
        "number": lambda value, digits=2: fmt_number(value, digits, lang),
        "pct": lambda value, digits=1: fmt_pct(value, digits, lang),
        "date": lambda value: fmt_date(value, lang),
        "yesno": lambda value: fmt_bool(value, lang),
        "label": label,
        "show": show,
        "caption": caption,
        "text": lambda value: pick(value, lang) if isinstance(value, dict) else ("" if value is None else str(value)),
        "md": md_escape,
        "css": css_string,
    }


def css_string(value: Any):
    """A text as a quoted CSS string (for `content: ...`), safe inside a <style> element."""
    from markupsafe import Markup

    text = "" if is_missing(value) else str(value)
    escaped = "".join(f"\\{ord(ch):x} " if ch in '\\"<>&\'' or ord(ch) < 0x20 or ord(ch) == 0x7f else ch
                      for ch in text)
    return Markup(f'"{escaped}"')


@lru_cache(maxsize=256)
def _stack_labels(table: str, labels: tuple) -> str:
    return "\n".join(f"table.{table} td:nth-child({n})::before {{ content: {css_string(label)}; }}"
                     for n, label in enumerate(labels, 1))


def stack_labels(table: str, labels: Iterable[str]):
    """CSS giving each cell of `table.TABLE` its column name on phones, where tables become cards:
    `{{ stack_labels("actions", [t.action, t.owner]) }}` inside a `<style>`. Cached: it is the same on
    every page of a language."""
    from markupsafe import Markup

    if not re.fullmatch(r"[A-Za-z][\w-]*", str(table)):
        raise ValueError(f"stack_labels: '{table}' is not a CSS class name")
    return Markup(_stack_labels(str(table), tuple(str(label) for label in labels)))


_MD_TABLE = str.maketrans({ch: "\\" + ch for ch in "\\`*_[]<>|#"})
_MD_SPECIAL = re.compile(r"[\\`*_\[\]<>|#]")
# Each maximal run of white space is matched once (linear); `\s*[\r\n]+\s*` rescanned a long run of
# spaces from every position of it (a 100 KB name took a minute).
_SPACES = re.compile(r"\s+")


def _one_line(run: re.Match) -> str:
    """A run of white space holding a line break becomes one space; any other run stays as it was."""
    text = run.group()
    return " " if "\n" in text or "\r" in text else text


def md_escape(value: Any) -> str:
    """Data text made safe inside Markdown (and its tables): markup characters escaped, one line."""
    if value.__class__ is str:
        text = value
    elif is_missing(value):
        return MISSING
    else:
        text = str(value)
    if "\n" in text or "\r" in text:
        text = _SPACES.sub(_one_line, text)
    # Most texts need nothing: a regex search is far quicker than translate() on CJK text.
    return text.translate(_MD_TABLE) if _MD_SPECIAL.search(text) else text

def template_error(exc: BaseException, what: str) -> TemplateError:
    """A rendering error as `file:line: message (what)`, located from the template's traceback."""
    place = ""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename and frame.filename.endswith((".j2", ".jinja", ".jinja2", ".html", ".md", ".css")):
            place = f"{display_path(frame.filename)}:{frame.lineno}: "
            break
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return TemplateError(f"{place}{message} ({what})")

def display_path(path: str | None) -> str:
    if not path:
        return "<template>"
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)

