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


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_playbooks_rendered_in_worker_processes_are_the_same_files(monkeypatch, lang):
    """`--jobs 2`: forked workers render ahead of the writer; the files and their order are the same."""
    case = load_case()
    alone = render_playbooks(case, selection="all", lang=lang)
    monkeypatch.setattr(render, "PER_WORKER", 1)  # the small case would otherwise render here
    monkeypatch.setattr(render, "CHUNK", 2)
    assert render.parallel_jobs(2, len(case.accounts)) == 2
    forked = playbooks_to_write(case, selection="all", lang=lang, jobs=2)
    assert list(forked) == list(alone)
    assert {path: b"".join(chunks) for path, chunks in forked.items()} == alone
    assert render_playbooks(case, selection="all", lang=lang, jobs=2) == alone


def test_a_template_error_in_a_worker_names_its_account(monkeypatch, tmp_path):
    from kamrules.errors import TemplateError

    from test_playbooks import write_templates

    case = load_case()
    failing = case.accounts[3].account_id
    folder = write_templates(tmp_path / "pb", {
        "playbook.md.j2": "{{ account.id }} {{ (account.values.sales + 'x') if account.id == '%s' else '' }}\n" % failing,
        "playbook.html.j2": "<p>{{ account.id }}</p>\n"})
    monkeypatch.setattr(render, "PER_WORKER", 1)
    monkeypatch.setattr(render, "CHUNK", 2)
    lazy = playbooks_to_write(case, selection="all", playbooks_dir=folder, jobs=2)
    with pytest.raises(TemplateError) as error:
        for chunks in lazy.values():
            b"".join(chunks)
    assert failing in str(error.value) and "playbook.md.j2" in str(error.value)


def test_a_reason_filled_once_is_the_reason_filled_for_each_account(monkeypatch):
    """Reasons with the same placeholder values are filled once (ContextBuilder._fill_key reads them
    through the engine's own filler): every playbook equals one rendered without that cache."""
    from kamrules.documents.context import ContextBuilder
    from kamrules.language.text import placeholder_names

    assert placeholder_names("{sales:,} of {params.cap} ({ name })") == ("sales", "params.cap", "name")
    case = load_case()
    cached = render_playbooks(case, selection="all")
    monkeypatch.setattr(ContextBuilder, "_fill_key", lambda self, *args: None)
    assert render_playbooks(case, selection="all") == cached
