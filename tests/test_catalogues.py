"""The message catalogues: a key written twice in one catalogue silently keeps the later text, so a
template asking for the first one prints the second ("%s sales at stake" where "at stake" was meant)."""

import ast
from pathlib import Path

import pytest

import kamrules.i18n

I18N = Path(kamrules.i18n.__file__).parent


@pytest.mark.parametrize("path", sorted(I18N.glob("*.py")), ids=lambda p: p.name)
def test_no_catalogue_key_is_written_twice(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    twice = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            seen = {}
            for key in node.keys:
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    if key.value in seen:
                        twice.append(f"{key.value!r} (lines {seen[key.value]} and {key.lineno})")
                    seen.setdefault(key.value, key.lineno)
    assert not twice, f"{path.name}: keys written twice: {', '.join(twice)}"
