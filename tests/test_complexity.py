"""No function in engine/ and results/ above cyclomatic complexity 20 (`tools/complexity.py`)."""

from __future__ import annotations

import importlib.util
import textwrap

from conftest import ROOT

_SPEC = importlib.util.spec_from_file_location("complexity", ROOT / "tools" / "complexity.py")
complexity = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(complexity)

def test_no_function_of_the_engine_and_the_results_is_above_the_limit():
    over = [(c, where) for c, where in complexity.measure() if c > complexity.LIMIT]
    assert over == []


def test_the_measure_counts_each_branch_and_each_function_on_its_own(tmp_path):
    source = tmp_path / "sample.py"
    source.write_text(textwrap.dedent("""
        def f(a, b):
            if a and b or not a:          # if: 1, two boolean operators: 2
                return [x for x in a if x]  # a comprehension's for and if: 2
            for x in b:                   # 1
                try:
                    pass
                except ValueError:        # 1
                    pass
            return a if b else None       # 1

        class C:
            def g(self):
                def inner():              # counted on its own
                    while True:           # 1
                        pass
                return inner
        """), encoding="utf-8")
    assert list(complexity.functions(source)) == [("f", 2, 9), ("C.g", 13, 1), ("C.g.inner", 14, 2)]


def test_the_engine_and_the_results_use_public_apis_only():
    """No CPython object pointers read through ctypes, no pandas internals (`array._data`, `._mask`,
    `._mgr` …): the millisecond they saved is not worth a pandas upgrade breaking them."""
    import re

    private = re.compile(r"\.(_data|_mask|_mgr|_ndarray|_pa_array|_values|_ndarray_values)\b(?!\s*=)")
    found = []
    for folder in ("engine", "results"):
        for path in sorted((ROOT / "kamrules" / folder).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            found += [f"{path.name}: import ctypes" for _ in re.findall(r"^\s*import ctypes", text, re.MULTILINE)]
            found += [f"{path.name}: {m.group(0)}" for m in private.finditer(text) if "self." + m.group(1) not in m.string[max(0, m.start() - 5):m.end()]]
    assert found == []


def test_the_engine_keeps_no_state_of_its_own_in_modules():
    """What the decision stage keeps (compiled rulesets, tuning, account positions, buffers, the work a
    forked worker inherits) is owned by objects passed explicitly (`Engine`, `Workspace`): no module of
    the engine rebinds a global, writes into a module-level table, or holds an instance of its classes."""
    import ast

    files = sorted((ROOT / "kamrules" / "engine").rglob("*.py"))
    trees = {path.name: ast.parse(path.read_text(encoding="utf-8")) for path in files}
    classes = {node.name for tree in trees.values() for node in ast.walk(tree) if isinstance(node, ast.ClassDef)}
    found = []
    for name, tree in trees.items():
        module_names = {t.id for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
                        for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
                        if isinstance(t, ast.Name)}
        for node in tree.body:  # an instance of an engine class made when the module is imported
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Call) \
                    and getattr(node.value.func, "id", None) in classes:
                found.append(f"{name}: {ast.unparse(node)}")
        for node in ast.walk(tree):
            if isinstance(node, ast.Global):
                found.append(f"{name}: global {', '.join(node.names)}")
            elif isinstance(node, (ast.Assign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) \
                            and target.value.id in module_names and node not in tree.body:
                        found.append(f"{name}: {ast.unparse(node)}")
    assert found == []
