"""Cyclomatic complexity of every function, measured from the source with `ast` (no dependency).

    python tools/complexity.py                       # engine/ and results/, the most complex first
    python tools/complexity.py kamrules --over 15    # any folder; only functions above 15

A function's complexity is 1 plus one for each place where its path divides, as McCabe counts it (and
radon, within a point or two): `if`/`elif` and conditional expressions, `for`/`while` loops (and their
`else`), `except` clauses, each `and`/`or` beyond the first operand, each `for` and `if` of a
comprehension, `assert`, each `case` of a `match`. A function nested inside another (or a lambda) is
counted on its own, not in the one that holds it. `tests/test_complexity.py` holds engine/ and results/
to `LIMIT`.
"""

from __future__ import annotations

import argparse
import ast
from pathlib import Path
from typing import Iterator

LIMIT = 20
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FOLDERS = ("kamrules/engine", "kamrules/results")
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


def _branches(node: ast.AST) -> int:
    """The places where the path divides in `node` itself (not in functions nested in it)."""
    count = 0
    for child in ast.iter_child_nodes(node):
        if isinstance(child, _FUNCTIONS):
            continue
        if isinstance(child, (ast.If, ast.IfExp, ast.While, ast.ExceptHandler, ast.Assert)):
            count += 1
        elif isinstance(child, (ast.For, ast.AsyncFor)):
            count += 1 + bool(child.orelse)
        elif isinstance(child, ast.BoolOp):
            count += len(child.values) - 1
        elif isinstance(child, ast.comprehension):
            count += 1 + len(child.ifs)
        elif isinstance(child, ast.match_case):
            count += 1
        if isinstance(child, ast.While) and child.orelse:
            count += 1
        count += _branches(child)
    return count


def functions(path: Path) -> Iterator[tuple[str, int, int]]:
    """(qualified name, line, complexity) of every function and method in one file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))

    def visit(node: ast.AST, prefix: str) -> Iterator[tuple[str, int, int]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = f"{prefix}{child.name}"
                yield name, child.lineno, 1 + _branches(child)
                yield from visit(child, name + ".")
            elif isinstance(child, ast.ClassDef):
                yield from visit(child, f"{prefix}{child.name}.")
            else:
                yield from visit(child, prefix)

    yield from visit(tree, "")


def measure(folders: tuple[str, ...] = DEFAULT_FOLDERS) -> list[tuple[int, str]]:
    """(complexity, "path:line name") of every function under the folders, the most complex first."""
    found = []
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for name, line, complexity in functions(path):
                found.append((complexity, f"{path.relative_to(ROOT)}:{line} {name}"))
    return sorted(found, key=lambda item: (-item[0], item[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", nargs="*", default=list(DEFAULT_FOLDERS))
    parser.add_argument("--over", type=int, default=10, help="list the functions above this complexity")
    args = parser.parse_args()
    for complexity, where in measure(tuple(args.folders)):
        if complexity > args.over:
            print(f"{complexity:4d}  {where}")


if __name__ == "__main__":
    main()
