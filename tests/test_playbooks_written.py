"""Playbooks rendered as they are written (`playbooks_to_write`): the same files as `render_playbooks`,
none held before it is read."""

from __future__ import annotations

import pytest

from kamrules.documents import render
from kamrules.documents.render import playbooks_to_write, render_playbooks
from kamrules.errors import UsageError

from test_playbooks import load_case


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_lazy_playbooks_are_the_rendered_playbooks_and_render_only_when_read(monkeypatch, lang):
    case = load_case()
    eager = render_playbooks(case, selection="all", lang=lang)
    rendered = []
    real = render.Renderer.render

    def counting(self, account):
        rendered.append(account.index)
        return real(self, account)

    monkeypatch.setattr(render.Renderer, "render", counting)
    lazy = playbooks_to_write(case, selection="all", lang=lang)
    assert list(lazy) == list(eager) and rendered == []
    first = next(iter(lazy))
    assert b"".join(lazy[first]) == eager[first] and len(rendered) == 1
    rest = {path: b"".join(chunks) for path, chunks in lazy.items() if path != first}
    assert rest == {path: text for path, text in eager.items() if path != first}
    assert sorted(rendered) == list(range(len(case.accounts)))  # each account rendered once for both files
    assert b"".join(lazy[first]) == eager[first]  # a file read again is rendered again


def test_lazy_playbooks_check_the_selection_and_select_as_render_does():
    case = load_case()
    with pytest.raises(UsageError, match="--playbooks 'vip' is not one of"):
        playbooks_to_write(case, selection="vip")
    assert list(playbooks_to_write(case, selection="key")) == list(render_playbooks(case, selection="key"))
