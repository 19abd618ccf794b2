"""Templates checked before any account is rendered: unknown names and attributes, Python internals, missing templates and filters, all reported with file:line."""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from functools import cached_property
from typing import Any, Iterable, Mapping

from kamrules.documents.context_model import PlaybookContext, Texts, Values, known_names
from kamrules.documents.environment import DICT_METHODS, display_path
from kamrules.i18n import UI, Strings
from kamrules.language.types import did_you_mean as _did_you_mean
from kamrules.pack import RulePack

# ------------------------------------------------------------------------------- template checking

_MAX_RANGE = 100_000
_SAFE_FILTERS_ATTRIBUTE_ARGS = {"attr", "map", "selectattr", "rejectattr", "sort", "groupby", "sum", "unique",
                                "min", "max", "dictsort", "batch"}
_SAME_TYPE_FILTERS = {"sort", "list", "reverse", "unique", "selectattr", "rejectattr", "default", "d"}
_ELEMENT_FILTERS = {"first", "last", "random"}
_UNKNOWN = object()  # a value whose type the checker does not know: no attribute checks
_BLOCKED = object()  # an expression already reported as reaching Python internals




_PARSED: dict = {}


def _parse(env, source: str, name: str, filename: str | None):
    """The template's syntax tree, parsed once per process per source text (the checker only reads it)."""
    key = (source, name, filename)
    if key not in _PARSED:
        _PARSED[key] = env.parse(source, name, filename)
    return _PARSED[key]


class Schema:
    """What the checker knows about the context: top-level names → types, and the keys of mappings."""

    def __init__(self, top: Mapping[str, Any], mapping_keys: Mapping[type, Iterable[str]]):
        self.top = dict(top)
        self.mapping_keys = {k: set(v) for k, v in mapping_keys.items()}
        self._hints: dict[type, dict] = {}

    def hints(self, cls: type) -> dict:
        """The public members of a context class and their types: fields, then (cached) properties."""
        if cls not in self._hints:
            module = vars(__import__(cls.__module__, fromlist=["_"]))
            members = {name: tp for name, tp in typing.get_type_hints(cls, module).items()
                       if not name.startswith("_")}
            for name, value in vars(cls).items():
                function = getattr(value, "func", None) or getattr(value, "fget", None)
                if not name.startswith("_") and isinstance(value, (property, cached_property)) and function:
                    members[name] = typing.get_type_hints(function, module).get("return", _UNKNOWN)
            self._hints[cls] = members
        return self._hints[cls]


def _strip_optional(tp: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0] if len(args) == 1 else _UNKNOWN
    return tp


def _element_type(tp: Any) -> Any:
    tp = _strip_optional(tp)
    origin = typing.get_origin(tp)
    if origin in (tuple, list, typing.Sequence, set, frozenset):
        args = [a for a in typing.get_args(tp) if a is not Ellipsis]
        return args[0] if args else _UNKNOWN
    return _UNKNOWN


def _dotted(node) -> str:
    from jinja2 import nodes

    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        return f"{_dotted(node.node)}.{node.attr}"
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        return f"{_dotted(node.node)}[{node.arg.value!r}]"
    return "the value"


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


class TemplateChecker:
    """Checks templates statically against a context schema: names, attributes, filters, tests,
    templates referenced, and anything reaching Python internals. Collects every problem."""

    def __init__(self, env, schema: Schema):
        self.env = env
        self.schema = schema
        self.errors: list[str] = []
        self.block_scopes: dict[str, dict] = {}
        self._exports: dict = {}
        self.globals = set(env.globals)

    # -- reporting
    def error(self, node, message: str) -> None:
        line = getattr(node, "lineno", 0) or 0
        self.errors.append(f"{self.display}:{line}: {message}")

    # -- entry
    def check(self, name: str, scope: dict | None = None, *, referrer: tuple | None = None) -> set:
        """Check one template (and those it references); returns the names it defines at top level
        (macros, sets, imports), which templates extending it can use."""
        from jinja2 import TemplateNotFound, TemplateSyntaxError

        key = (name, tuple(sorted((scope or {}).keys())) if scope is not None else None)
        if key in self._exports:
            return self._exports[key]
        self._exports[key] = set()
        try:
            source, filename, _ = self.env.loader.get_source(self.env, name)
        except TemplateNotFound:
            where = " and ".join(display_path(str(p)) for p in self.env.playbook_search_path)
            parts = name.replace("\\", "/").split("/")
            if ".." in parts or name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
                message = f"template '{name}' is outside the playbooks folders: templates can only use files in {where}"
            else:
                message = f"template '{name}' not found (looked in {where})"
            self.errors.append(f"{referrer[0]}:{referrer[1]}: {message}" if referrer else message)
            return set()
        display = display_path(filename)
        try:
            tree = _parse(self.env, source, name, filename)
        except TemplateSyntaxError as exc:
            self.errors.append(f"{display}:{exc.lineno}: {exc.message}")
            return set()
        previous = getattr(self, "display", None)
        self.display = display
        top_scope = dict(self.schema.top if scope is None else scope)
        try:
            exported = self.check_tree(tree, top_scope)
        finally:
            self.display = previous
        self._exports[key] = exported
        return exported

    def check_tree(self, tree, scope: dict) -> set:
        from jinja2 import nodes

        # Macros, sets and imports at template level are visible everywhere in the template and in the
        # blocks of templates extending it, wherever they are defined.
        exported: set = set()
        for node in tree.body:
            if isinstance(node, nodes.Macro):
                exported.add(node.name)
            elif isinstance(node, (nodes.Assign, nodes.AssignBlock)) and isinstance(node.target, nodes.Name):
                exported.add(node.target.name)
            elif isinstance(node, nodes.Import):
                exported.add(node.target)
            elif isinstance(node, nodes.FromImport):
                exported.update(item[1] if isinstance(item, tuple) else item for item in node.names)
        for extends in (n for n in tree.body if isinstance(n, nodes.Extends)):
            if isinstance(extends.template, nodes.Const) and isinstance(extends.template.value, str):
                display = self.display
                exported |= self.check(extends.template.value, None, referrer=(display, extends.lineno))
                self.display = display
            else:
                self.expr(extends.template, scope)
        for name in exported:
            scope.setdefault(name, _UNKNOWN)
        self.stmts(tree.body, scope, template_scope=scope)
        return exported

    # -- statements
    def stmts(self, body, scope: dict, template_scope: dict) -> None:
        for node in body:
            self.stmt(node, scope, template_scope)

    def stmt(self, node, scope: dict, template_scope: dict) -> None:
        handler = getattr(self, f"_stmt_{type(node).__name__}", None)
        if handler is not None:
            handler(node, scope, template_scope)
            return
        from jinja2 import nodes

        if isinstance(node, (nodes.Scope, nodes.OverlayScope, nodes.ScopedEvalContextModifier)):
            self.stmts(node.body, dict(scope), template_scope)
        elif isinstance(node, (nodes.Extends, nodes.EvalContextModifier)):
            pass  # Extends is handled in check_tree
        else:
            for child in node.iter_child_nodes():
                if isinstance(child, nodes.Stmt):
                    self.stmt(child, scope, template_scope)
                else:
                    self.expr(child, scope)

    # One method per statement node (named after its jinja2.nodes class), dispatched by `stmt`.
    def _stmt_Output(self, node, scope: dict, template_scope: dict) -> None:
        from jinja2 import nodes

        for item in node.nodes:
            if not isinstance(item, nodes.TemplateData):
                self.expr(item, scope)

    def _stmt_For(self, node, scope: dict, template_scope: dict) -> None:
        element = self.element(self.expr(node.iter, scope))
        inner = dict(scope)
        self.bind(node.target, element, inner)
        inner["loop"] = _UNKNOWN
        if node.test is not None:
            self.expr(node.test, inner)
        self.stmts(node.body, inner, template_scope)
        self.stmts(node.else_, dict(scope), template_scope)

    def _stmt_If(self, node, scope: dict, template_scope: dict) -> None:
        self.expr(node.test, scope)
        self.stmts(node.body, scope, template_scope)
        for elif_ in node.elif_:
            self.stmt(elif_, scope, template_scope)
        self.stmts(node.else_, scope, template_scope)

    def _stmt_Assign(self, node, scope: dict, template_scope: dict) -> None:
        from jinja2 import nodes

        value = self.expr(node.node, scope)
        if isinstance(node.target, nodes.NSRef):
            self.name(node.target, node.target.name, scope)
        else:
            self.bind(node.target, value, scope)

    def _stmt_AssignBlock(self, node, scope: dict, template_scope: dict) -> None:
        if node.filter is not None:
            self.filter(node.filter, scope)
        self.stmts(node.body, scope, template_scope)
        self.bind(node.target, str, scope)

    def _stmt_Block(self, node, scope: dict, template_scope: dict) -> None:
        if node.scoped:
            self.block_scopes[node.name] = dict(scope)
            inner = dict(scope)
        else:
            inner = dict(self.block_scopes.get(node.name, template_scope))
        inner.update({k: v for k, v in template_scope.items() if k not in inner})
        inner["super"] = _UNKNOWN
        self.stmts(node.body, inner, template_scope)

    def _stmt_Macro(self, node, scope: dict, template_scope: dict) -> None:
        inner = dict(scope)
        inner.update({"varargs": _UNKNOWN, "kwargs": _UNKNOWN, "caller": _UNKNOWN})
        for default in node.defaults:
            self.expr(default, scope)
        for arg in node.args:
            inner[arg.name] = _UNKNOWN
        scope[node.name] = _UNKNOWN
        self.stmts(node.body, inner, template_scope)

    def _stmt_CallBlock(self, node, scope: dict, template_scope: dict) -> None:
        self.expr(node.call, scope)
        inner = dict(scope)
        for arg in node.args:
            inner[arg.name] = _UNKNOWN
        self.stmts(node.body, inner, template_scope)

    def _stmt_FilterBlock(self, node, scope: dict, template_scope: dict) -> None:
        self.filter(node.filter, scope)
        self.stmts(node.body, scope, template_scope)

    def _stmt_With(self, node, scope: dict, template_scope: dict) -> None:
        inner = dict(scope)
        for target, value in zip(node.targets, node.values):
            self.bind(target, self.expr(value, scope), inner)
        self.stmts(node.body, inner, template_scope)

    def _stmt_Include(self, node, scope: dict, template_scope: dict) -> None:
        self.reference(node, scope if node.with_context else {})

    def _stmt_Import(self, node, scope: dict, template_scope: dict) -> None:
        self.reference(node, scope if node.with_context else {})
        scope[node.target] = _UNKNOWN

    def _stmt_FromImport(self, node, scope: dict, template_scope: dict) -> None:
        self.reference(node, scope if node.with_context else {})
        for item in node.names:
            scope[item[1] if isinstance(item, tuple) else item] = _UNKNOWN

    def reference(self, node, scope: dict) -> None:
        """Check a template named by include / import / from-import, with the names it will see."""
        from jinja2 import nodes

        template = node.template
        if isinstance(template, nodes.Const) and isinstance(template.value, str):
            names = [template.value]
        elif isinstance(template, (nodes.List, nodes.Tuple)) and all(isinstance(i, nodes.Const) for i in template.items):
            names = [i.value for i in template.items]  # include ["a", "b"]: the first that exists
            for name in names:
                try:
                    self.env.loader.get_source(self.env, name)
                except Exception:
                    continue
                names = [name]
                break
        else:
            self.expr(template, scope)  # a computed name: the loader still confines it to the search path
            return
        display = self.display
        for name in names:
            if getattr(node, "ignore_missing", False):
                try:
                    self.env.loader.get_source(self.env, name)
                except Exception:
                    continue
            self.check(name, dict(scope), referrer=(display, node.lineno))
            self.display = display

    def bind(self, target, value_type: Any, scope: dict) -> None:
        from jinja2 import nodes

        if isinstance(target, nodes.Name):
            scope[target.name] = value_type
        elif isinstance(target, (nodes.Tuple, nodes.List)):
            for item in target.items:
                self.bind(item, _UNKNOWN, scope)

    # -- expressions (each returns the type it can infer, or _UNKNOWN)
    def name(self, node, name: str, scope: dict) -> Any:
        if name in scope:
            return scope[name]
        if name in self.globals or name == "self":
            return _UNKNOWN
        candidates = list(scope) + sorted(self.globals)
        self.error(node, f"'{name}' is not defined{_did_you_mean(name, candidates)}")
        scope[name] = _UNKNOWN  # report each unknown name once per scope
        return _UNKNOWN

    def expr(self, node, scope: dict) -> Any:
        from jinja2 import nodes

        if isinstance(node, nodes.Name):
            return self.name(node, node.name, scope)
        if isinstance(node, nodes.Getattr):
            return self.attribute(node, node.node, node.attr, scope)
        if isinstance(node, nodes.Getitem):
            if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
                return self.attribute(node, node.node, node.arg.value, scope)
            base = self.expr(node.node, scope)
            self.expr(node.arg, scope)
            if isinstance(node.arg, nodes.Slice):
                return base
            return self.element(base)
        if isinstance(node, nodes.Filter):
            return self.filter(node, scope)
        if isinstance(node, nodes.Test):
            self.expr(node.node, scope)
            if node.name not in self.env.tests:
                self.error(node, f"no test named '{node.name}'{_did_you_mean(node.name, self.env.tests)}")
            self.args(node, scope)
            return bool
        if isinstance(node, nodes.Call):
            self.call(node, scope)
            return _UNKNOWN
        if isinstance(node, nodes.Pow):
            self.error(node, "the '**' operator is not allowed in playbook templates")
            return _UNKNOWN
        if isinstance(node, nodes.Const):
            return type(node.value)
        if isinstance(node, nodes.NSRef):
            self.name(node, node.name, scope)
            return _UNKNOWN
        for child in node.iter_child_nodes():
            self.expr(child, scope)
        if isinstance(node, nodes.CondExpr):
            return _UNKNOWN
        return _UNKNOWN

    def args(self, node, scope: dict) -> None:
        for arg in node.args:
            self.expr(arg, scope)
        for kwarg in node.kwargs:
            self.expr(kwarg.value, scope)
        for dyn in (node.dyn_args, node.dyn_kwargs):
            if dyn is not None:
                self.expr(dyn, scope)

    def filter(self, node, scope: dict) -> Any:
        from jinja2 import nodes

        base = self.expr(node.node, scope) if node.node is not None else _UNKNOWN
        if node.name not in self.env.filters:
            self.error(node, f"no filter named '{node.name}'{_did_you_mean(node.name, self.env.filters)}")
        if node.name in _SAFE_FILTERS_ATTRIBUTE_ARGS:
            for arg in [*node.args, *(k.value for k in node.kwargs)]:
                if isinstance(arg, nodes.Const) and isinstance(arg.value, str) and any(
                        part.startswith("_") for part in arg.value.split(".")):
                    self.internal(node, arg.value)
        self.args(node, scope)
        if node.name in _SAME_TYPE_FILTERS:
            return base
        if node.name in _ELEMENT_FILTERS:
            return self.element(base)
        return _UNKNOWN

    def call(self, node, scope: dict) -> None:
        from jinja2 import nodes

        self.expr(node.node, scope)
        self.args(node, scope)
        if isinstance(node.node, nodes.Name) and node.node.name == "range":
            numbers = [a.value for a in node.args if isinstance(a, nodes.Const) and isinstance(a.value, int)]
            if len(numbers) == len(node.args) and numbers:
                try:
                    size = len(range(*numbers))
                except (TypeError, ValueError):
                    size = 0
                if size > _MAX_RANGE:
                    self.error(node, f"range() of {size:,} items is too big for a template (at most {_MAX_RANGE:,})")

    def internal(self, node, attr: str) -> None:
        self.error(node, f"'{attr}' is not allowed: templates cannot reach Python internals "
                         f"(names starting with '_')")

    def attribute(self, node, base_node, attr: str, scope: dict) -> Any:
        base = self.expr(base_node, scope)
        if base is _BLOCKED:
            return _BLOCKED  # already reported: one message for ''.__class__.__mro__
        if attr.startswith("_"):
            self.internal(node, attr)
            return _BLOCKED
        return self.member(node, base_node, _strip_optional(base), attr)

    def member(self, node, base_node, base: Any, attr: str) -> Any:
        if base is _UNKNOWN or base is _BLOCKED or base is None:
            return _UNKNOWN
        if isinstance(base, type) and dataclasses.is_dataclass(base):
            hints = self.schema.hints(base)
            if attr in hints:
                return hints[attr]
            self.error(node, f"'{_dotted(base_node)}' has no attribute '{attr}'{_did_you_mean(attr, hints)}"
                             f" ({_type_name(base)} has: {', '.join(hints)})")
            return _UNKNOWN
        if isinstance(base, type) and base in self.schema.mapping_keys:
            keys = self.schema.mapping_keys[base]
            if attr in keys:
                return _UNKNOWN if base is not Strings else str
            if attr in ("get", "items", "keys", "values"):
                return _UNKNOWN
            if attr in DICT_METHODS:
                self.error(node, f"'{_dotted(base_node)}.{attr}' would change the context: templates can only read it")
                return _UNKNOWN
            self.error(node, f"'{_dotted(base_node)}' has no entry '{attr}'{_did_you_mean(attr, keys)}")
            return _UNKNOWN
        return _UNKNOWN

    def element(self, tp: Any) -> Any:
        if tp is _UNKNOWN or tp is _BLOCKED:
            return _UNKNOWN
        return _element_type(tp)


def playbook_schema(pack: RulePack) -> Schema:
    hints = typing.get_type_hints(PlaybookContext)
    return Schema(hints, {Values: known_names(pack), Texts: known_names(pack), Strings: UI["en"].keys()})
