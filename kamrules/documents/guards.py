"""Guards on the template folder: a template is read only from inside its own search-path folder.

Jinja's FileSystemLoader follows symlinks, so `ln -s /etc tpl/etc` plus `{% include "etc/passwd" %}`,
or `report.html.j2 -> /etc/passwd`, would copy any readable file into the outputs; git stores
symlinks, so a shared template repository is enough. `ConfinedFileSystemLoader` resolves every
template path and reads it through `kamrules.pack.guards.read_source`, which refuses a target outside
the folder, anything but a regular file (FIFO, device) and an oversized file.
"""

from __future__ import annotations

import functools
import math
import os
import re
import time
import posixpath
from pathlib import Path

from jinja2 import FileSystemLoader, TemplateNotFound
from jinja2.loaders import split_template_path

from kamrules.errors import TemplateError
from kamrules.pack.guards import SourceError, read_source


class ConfinedFileSystemLoader(FileSystemLoader):
    """A FileSystemLoader that never reads outside its search-path folders (see the module docstring)."""

    def get_source(self, environment, template):
        pieces = split_template_path(template)
        for searchpath in self.searchpath:
            filename = posixpath.join(searchpath, *pieces)
            if os.path.lexists(filename) and not os.path.isdir(filename):
                break
        else:
            raise TemplateNotFound(template)
        try:
            contents = read_source(Path(filename), Path(searchpath)).decode(self.encoding)
        except SourceError as exc:
            raise TemplateError(f"template '{template}': {exc}") from None
        except UnicodeDecodeError as exc:
            raise TemplateError(f"template '{template}': not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
        except OSError as exc:
            raise TemplateError(f"template '{template}': cannot read {filename} ({exc.strerror})") from None
        mtime = os.path.getmtime(filename)

        def uptodate() -> bool:
            try:
                return os.path.getmtime(filename) == mtime
            except OSError:
                return False

        return contents, os.path.normpath(filename), uptodate


# ------------------------------------------------------------------------ budgets for one document
#
# A template is written by a user and may hold a typo: `{% for a in accounts %}{% for b in accounts %}`,
# `|center(1000000000)`, `'%*d' % (1000000000, 1)`, a string doubled in a loop. Each document gets an
# output size and a time budget, and the operations that build one large string in a single step
# (widths, padding, replace, repeat) are bounded before they run. The errors are raised inside the
# template, so the message carries its file:line, and the renderer adds the account.

MAX_WIDTH = 1_000  # widths and precisions in %-formats, str.format, center, indent, ljust ...
MAX_DOCUMENT_CHARS = 20_000_000  # one playbook is ~20 KB; the report of 200,000 accounts a few MB
RENDER_SECONDS = 60.0  # per document; a playbook takes milliseconds, the largest report seconds
MAX_ITEMS = 100_000  # lists a filter may build (batch, slice), as Jinja's own MAX_RANGE
# Integers a template may make with '*': 4,300 digits, the most Python will print. Squaring a number 28
# times in a short loop spent minutes in one multiplication (and, a few more, all memory).
MAX_INT_DIGITS = 4_300
MAX_INT_BITS = int(MAX_INT_DIGITS / math.log10(2))  # 14,284
MAX_CALL_DEPTH = 100  # macros (and caller blocks, loop(...)) calling each other; a page nests a handful


def portfolio_limit(accounts: int) -> int:
    """The size budget of a page about the whole portfolio (report, diff), which lists accounts: the
    report of 200,000 accounts is 15 MB, so 2,000 characters an account leave room to spare."""
    return MAX_DOCUMENT_CHARS + 2_000 * max(0, int(accounts))


def budget_for_portfolio(env, accounts: int) -> None:
    """Give a report-like page (one per run, listing accounts) budgets that grow with the portfolio:
    the size above, and 60 s plus 1 ms an account of rendering time."""
    env.max_chars = portfolio_limit(accounts)
    env.max_seconds = RENDER_SECONDS + max(0, int(accounts)) / 1_000


class BudgetError(Exception):
    """A template went over a budget (size, time, width); rendered as a template error."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def too_wide(what: str, width: int) -> BudgetError:
    return BudgetError(f"{what} asks for a width or precision of {width:,}; at most {MAX_WIDTH:,} is allowed")


def check_size(size: int, what: str = "a text") -> None:
    if size > MAX_DOCUMENT_CHARS:
        raise BudgetError(f"{what} would be {size:,} characters long, over the {MAX_DOCUMENT_CHARS:,} a "
                          "document may have (a loop or a filter repeats far too much?)")


_PERCENT_SPEC = re.compile(r"%%|%(?:\([^()]{0,200}\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")  # linear: no retries


def check_percent_format(text: str) -> None:
    """Refuse `'%*d' % (1000000000, 1)` and `'%1000000000d'` before Python builds the string."""
    if len(text) <= 200:  # a template's own format strings: checked once each (cached)
        _check_short_percent_format(text)
    else:
        _check_percent_format(text)


def _check_percent_format(text: str) -> None:
    for match in _PERCENT_SPEC.finditer(text):
        for number in match.groups():
            if number == "*":
                raise BudgetError(f"a '%*' width taken from the values is not allowed ({match.group()!r})")
            if number is not None and int(number) > MAX_WIDTH:
                raise too_wide(f"the format {match.group()!r}", int(number))


_check_short_percent_format = functools.lru_cache(maxsize=512)(_check_percent_format)
_DIGITS = re.compile(r"\d+")


def check_str_format(text: str) -> None:
    """Refuse `'{:>1000000000}'.format(1)` and nested specs (`'{:{w}}'`) before formatting."""
    import string

    for _, field, spec, _ in string.Formatter().parse(text):
        if field is None or not spec:
            continue
        if "{" in spec:
            raise BudgetError(f"a format spec taken from the values is not allowed ('{{{field}:{spec}}}')")
        for digits in _DIGITS.findall(spec):
            if int(digits) > MAX_WIDTH:
                raise too_wide(f"the format '{{{field}:{spec}}}'", int(digits))


def text_size(value, nested: bool = False, limit: int = MAX_DOCUMENT_CHARS) -> int:
    """An upper bound on the length of `str(value)` (`nested`: of `repr(value)`, as inside a list),
    counted without building it, iteratively, and only until it passes `limit`. A text inside a
    container counts four times (escapes such as \\x00), a container two characters an item, any
    other object the length of its own text."""
    total, stack = 0, [(value, nested)]
    while stack and total <= limit:
        item, inner = stack.pop()
        if isinstance(item, str):
            total += 4 * len(item) + 2 if inner else len(item)
        elif isinstance(item, bool) or item is None or isinstance(item, float):
            total += 24
        elif isinstance(item, int):
            total += item.bit_length() // 3 + 2
        elif isinstance(item, (list, tuple, set, frozenset, dict)):
            total += 2 + 2 * len(item)
            stack.extend((part, True) for part in (item if not isinstance(item, dict) else [*item.keys(), *item.values()]))
        else:
            total += len(str(item))
    return total


def check_result(size: int, what: str, limit: int | None = None) -> None:
    """Refuse a text of `size` characters before Python builds it (`%`, `str.format`, `join`, `pprint`):
    more than the document it is part of may have (`limit`; MAX_DOCUMENT_CHARS by default)."""
    limit = MAX_DOCUMENT_CHARS if limit is None else limit
    if size > limit:
        raise BudgetError(f"{what} would make a text of more than {limit:,} characters, over what a document may "
                          "have (a text repeated into itself in a loop?)")


def _format_size(template: str, values: list, marker: str) -> int:
    """An upper bound on the length of `template` formatted with `values`: each of its fields (counted
    by `marker`, '%' or '{') at most the longest value, padded to the widest width the template names
    (widths are bounded by MAX_WIDTH before this runs)."""
    fields = template.count(marker)
    if not fields:
        return len(template)
    longest = max((text_size(v) for v in values), default=0)
    widest = min(max((int(d) for d in _DIGITS.findall(template[:10_000])), default=0), MAX_WIDTH)
    return len(template) + fields * (longest + widest)


def check_multiply(left, right) -> None:
    """Refuse an integer product of more than MAX_INT_BITS before Python computes it."""
    if isinstance(left, int) and isinstance(right, int) and not isinstance(left, bool) and not isinstance(right, bool) \
            and left.bit_length() + right.bit_length() > MAX_INT_BITS:
        digits = math.ceil((left.bit_length() + right.bit_length()) * math.log10(2))
        raise BudgetError(f"'*' would make an integer of about {digits:,} digits; at most {MAX_INT_DIGITS:,} are "
                          "allowed (a number multiplied by itself in a loop?)")


def _check_width(what: str, width) -> None:
    if isinstance(width, int) and not isinstance(width, bool) and width > MAX_WIDTH:
        raise too_wide(what, width)
    if isinstance(width, str) and len(width) > MAX_WIDTH:
        raise too_wide(what, len(width))


def _check_replace(text, old, new, count) -> None:
    text, old, new = str(text), str(old), str(new)
    if len(new) > len(old):
        found = len(text) + 1 if not old else text.count(old)
        if count is not None and count >= 0:
            found = min(found, count)
        check_size(len(text) + found * (len(new) - len(old)), "'replace'")


_WIDENING_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})


def check_call(obj, args: tuple, kwargs: dict, limit: int | None = None) -> None:
    """Bound the str methods a template may call that build one large string from a number (and
    `join`, from many texts); `limit`: the document's size budget."""
    owner = getattr(obj, "__self__", None)
    if not isinstance(owner, str):
        return
    name = getattr(obj, "__name__", "")
    if name in _WIDENING_METHODS:
        for value in (*args, *kwargs.values()):
            _check_width(f"'{name}'", value)
    elif name == "replace":
        _check_replace(owner, *(list(args) + [None] * 3)[:3])
    elif name == "join" and args and isinstance(args[0], (list, tuple)):
        check_result(len(owner) * max(len(args[0]) - 1, 0) + sum(text_size(v) for v in args[0]), "'join'", limit)


def bounded_filters(filters: dict, env=None) -> dict:
    """Jinja's filters that take a width or a count, or build one text from many, bounded (see the
    section comment); `env`: whose document budget (`max_chars`) applies."""

    def limit() -> int:
        return getattr(env, "max_chars", MAX_DOCUMENT_CHARS)

    originals = {name: filters[name] for name in ("center", "indent", "format", "replace", "batch", "slice", "join",
                                                  "pprint")}

    def center(value, width=80):
        _check_width("'center'", width)
        return originals["center"](value, width)

    def indent(s, width=4, first=False, blank=False):
        _check_width("'indent'", width)
        size = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
        check_size(len(str(s)) + (str(s).count("\n") + 1) * size, "'indent'")
        return originals["indent"](s, width, first, blank)

    def format_(value, *args, **kwargs):
        check_percent_format(str(value))
        check_result(_format_size(str(value), [*args, *kwargs.values()], "%"), "'format'", limit())
        return originals["format"](value, *args, **kwargs)

    @functools.wraps(originals["join"])  # keeps pass_eval_context
    def join(eval_ctx, value, d="", attribute=None):
        items = list(value) if not isinstance(value, str) else value
        if attribute is None and not isinstance(items, str):
            check_result(len(str(d)) * max(len(items) - 1, 0) + sum(text_size(v) for v in items), "'join'", limit())
        return originals["join"](eval_ctx, items, d, attribute)

    def pprint(value):
        check_result(text_size(value, nested=True) + 40 * text_size([value]), "'pprint'", limit())  # (indentation)
        return originals["pprint"](value)

    @functools.wraps(originals["replace"])  # keeps pass_eval_context
    def replace(eval_ctx, s, old, new, count=None):
        _check_replace(s, old, new, count)
        return originals["replace"](eval_ctx, s, old, new, count)

    def batch(value, linecount, fill_with=None):
        if isinstance(linecount, int) and linecount > MAX_ITEMS:
            raise BudgetError(f"'batch' of {linecount:,} items; at most {MAX_ITEMS:,} are allowed")
        return originals["batch"](value, linecount, fill_with)

    def slice_(value, slices, fill_with=None):
        if isinstance(slices, int) and slices > MAX_ITEMS:
            raise BudgetError(f"'slice' into {slices:,} parts; at most {MAX_ITEMS:,} are allowed")
        return originals["slice"](value, slices, fill_with)

    return {"center": center, "indent": indent, "format": format_, "replace": replace, "batch": batch,
            "slice": slice_, "join": join, "pprint": pprint}


def budgeted_code_generator():
    """Jinja's code generator, plus a budget check at the top of every `{% for %}` body and before
    each test of a filtered loop (`{% for x in xs if … %}`, whose body may never run): nested loops
    of a typo then stop at the time budget instead of hanging the run (the check is a counter, and a
    clock read every 128 iterations). Calls — macros, `caller()`, `loop(…)` — are counted by the
    sandbox's `call`."""
    from jinja2 import nodes
    from jinja2.compiler import CodeGenerator

    class BudgetedCodeGenerator(CodeGenerator):
        def visit_For(self, node, frame):
            self.__dict__.setdefault("_loop_bodies", set()).add(id(node.body))
            if node.test is not None and not getattr(node, "_ticked", False):
                tick = nodes.Call(nodes.EnvironmentAttribute("loop_test_tick"), [], [], None, None)
                node.test = nodes.And(tick, node.test).set_lineno(node.test.lineno).set_environment(self.environment)
                node._ticked = True
            super().visit_For(node, frame)

        def blockvisit(self, nodes, frame):
            if id(nodes) in self.__dict__.get("_loop_bodies", ()):
                self.writeline("environment.render_tick()")
            super().blockvisit(nodes, frame)

        def visit_Concat(self, node, frame):  # `a ~ b`: a string doubled in a loop stops at the size bound
            self.write("environment.checked_text(")
            super().visit_Concat(node, frame)
            self.write(")")

    return BudgetedCodeGenerator


class BudgetedSandbox:
    """The budgets as sandbox methods, mixed into kamrules' Jinja sandbox (environment.py): the code
    from `budgeted_code_generator` calls `render_tick` and `checked_text`; Jinja calls `concat` to
    join a document, `call` for every call and `call_binop` for `%` and `+`."""

    _deadline = float("inf")
    _ticks = 0
    _depth = 0  # calls in progress (macros calling macros)
    max_chars = MAX_DOCUMENT_CHARS  # per document; the report and diff: budget_for_portfolio()
    max_seconds: float | None = None  # None: RENDER_SECONDS (read when rendering, so tests can lower it)

    def concat(self, pieces):
        """Join a document's pieces (Template.render; also macros and call blocks inside it) within
        the size budget; the outermost call starts the document's time budget."""
        from itertools import islice

        outermost = self._deadline == float("inf")
        if outermost:
            self._deadline = time.monotonic() + self._seconds()
        items = iter(pieces)
        parts: list = []
        size = 0
        try:
            while batch := list(islice(items, 256)):
                size += sum(map(len, batch))
                if size > self.max_chars:
                    _too_large(pieces, self.max_chars)
                parts += batch
        finally:
            if outermost:
                self._deadline = float("inf")
        return "".join(parts)

    def _seconds(self) -> float:
        return RENDER_SECONDS if self.max_seconds is None else self.max_seconds

    def render_tick(self) -> None:
        """Called at the top of every loop body; reads the clock every 128 calls."""
        self._ticks += 1
        if not self._ticks & 127 and time.monotonic() > self._deadline:
            raise BudgetError(f"rendering one document took over {self._seconds():.0f} s "
                              "(a loop inside a loop over a long list or range, or a macro that calls itself?)")

    def loop_test_tick(self) -> bool:
        """The tick before each test of a filtered loop (always true: the test itself decides)."""
        self.render_tick()
        return True

    def checked_text(self, text):
        check_size(len(text), "a text joined with '~'")
        return text

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 (Jinja's own signature)
        """Every call a template makes: counted against the time budget (a macro calling itself twice
        runs 2^n calls without any loop) and nested at most MAX_CALL_DEPTH deep."""
        check_call(__obj, args, kwargs, __self.max_chars)
        __self.render_tick()
        if __self._depth >= MAX_CALL_DEPTH:
            raise BudgetError(f"calls nested more than {MAX_CALL_DEPTH} deep (a macro that calls itself without end?)")
        __self._depth += 1
        try:
            return super().call(__context, __obj, *args, **kwargs)
        finally:
            __self._depth -= 1

    def call_binop(self, context, operator, left, right):
        if operator == "%" and isinstance(left, str):
            check_percent_format(left)
            values = list(right) if isinstance(right, tuple) else list(right.values()) if isinstance(right, dict) else [right]
            check_result(_format_size(left, values, "%"), "'%'", self.max_chars)
        if operator == "+" and isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple)):
            check_size(len(left) + len(right), "a text or list joined with '+'")
        if operator == "*":
            check_multiply(left, right)
        return super().call_binop(context, operator, left, right)

    def wrap_str_format(self, value):
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        text = value.__self__

        def checked(*args, **kwargs):
            check_str_format(text)
            values = [*args, *kwargs.values()] if value.__name__ == "format" else \
                [*(args[0].values() if args and isinstance(args[0], dict) else args)]
            check_result(_format_size(text, values, "{"), "'format'", self.max_chars)
            return wrapped(*args, **kwargs)

        return checked


def _too_large(pieces, limit: int) -> None:
    """Raise the size error inside the template when it is still running (the message then gets its
    file:line), else name the template file."""
    message = f"the document grew over {limit:,} characters (a loop or a filter repeats far too much?)"
    if getattr(pieces, "gi_frame", None) is not None:
        pieces.throw(BudgetError(message))
    source = getattr(getattr(pieces, "gi_code", None), "co_filename", None)
    raise BudgetError(f"{_display(source)}: {message}" if source else message)


def _display(path: str) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return path
