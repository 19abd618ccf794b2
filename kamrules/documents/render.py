"""Rendering playbooks: one account plan per selected account, in Markdown and HTML."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from pathlib import Path
from pathlib import PurePosixPath
from typing import Any, Iterable, Iterator, Mapping, Protocol, Sequence

from kamrules.documents.checker import TemplateChecker, playbook_schema
from kamrules.documents.context import ContextBuilder
from kamrules.documents.context_model import context_vars
from kamrules.documents.environment import (
    PLAYBOOK_TEMPLATES,
    REPORT_TEMPLATE,
    SELECTIONS,
    make_environment,
    template_error,
)
from kamrules.documents.report import render_report, report_schema
from kamrules.engine.evaluation import AccountResult, DecisionResult, Evaluation
from kamrules.errors import TemplateError, UsageError
from kamrules.i18n import LANGS, UI
from kamrules.pack import RulePack
from kamrules.results.columns import column_values
from kamrules.results.portfolio import summarise

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------- rendering




class Renderer:
    """Renders the playbooks of one evaluation in one language (templates compiled once)."""

    def __init__(self, evaluation: Evaluation, *, lang: str = "en", playbooks_dir: Path | str | None = None,
                 checked: bool = False, probe: bool = False, since: Mapping | None = None, review=None):
        from jinja2 import TemplateError as JinjaError

        if lang not in UI:
            raise UsageError(f"--lang '{lang}' is not one of: {', '.join(UI)}")
        self.evaluation = evaluation
        self.probe = probe
        self.since = since  # account id -> AccountSince, with `evaluate --previous`
        self.review = review  # review_cycle.ReviewInputs, with `evaluate --contacts` / `--notes`
        self.builder = ContextBuilder(evaluation, lang)
        self.env = make_environment(playbooks_dir, pack=evaluation.pack, lang=lang)
        if not checked:
            checker = TemplateChecker(self.env, playbook_schema(evaluation.pack))
            for name in PLAYBOOK_TEMPLATES:
                checker.check(name)
            if checker.errors:
                raise TemplateError("\n".join(dict.fromkeys(checker.errors)))
        self.extensions = {name: name[: -len(".j2")].rsplit(".", 1)[-1] for name in PLAYBOOK_TEMPLATES}
        try:
            self.templates = {name: self.env.get_template(name) for name in PLAYBOOK_TEMPLATES}
        except JinjaError as exc:
            raise template_error(exc, "while compiling the playbook templates") from None

    def render(self, account: AccountResult) -> dict[str, bytes]:
        """`{"playbooks/<stem>.md": ..., "playbooks/<stem>.html": ...}` for one account."""
        context = self.builder.build(account)
        if self.since is not None:
            context = dataclasses.replace(context, since_last_review=self.since.get(str(account.account_id)))
        if self.review is not None:
            context = self.review.apply(context, account.account_id)
        names = context_vars(context)
        files = {}
        stem = context.account.file
        for name, template in self.templates.items():
            try:
                text = template.render(names)
            except Exception as exc:  # any failure inside a user template is a template problem
                what = (f"{name} with a sample account, before rendering any playbook" if self.probe else
                        f"rendering the playbook of account '{account.account_id}' (row {account.row})")
                raise template_error(exc, what) from None
            files[f"playbooks/{stem}.{self.extensions[name]}"] = text.encode("utf-8")
        return files

    def render_all(self, selection: str, also: Sequence[int] = ()) -> dict[str, bytes]:
        files: dict[str, bytes] = {}
        accounts = self.evaluation.accounts
        for index in sorted(set(selected_indexes(self.evaluation, selection)) | set(also)):
            files.update(self.render(accounts[index]))  # each account is built when needed, not kept
        return files

    def render_lazily(self, selection: str, also: Sequence[int] = (), jobs: int = 1) -> dict[str, Iterable[bytes]]:
        """The same files as `render_all`, each rendered only when it is read (an iterable of bytes), so
        a run's playbooks are written one account at a time instead of all held in memory. With
        `jobs > 1` (and enough accounts) worker processes render ahead, in the order the files are
        written; the bytes are the same."""
        indexes = sorted(set(selected_indexes(self.evaluation, selection)) | set(also))
        paths = {index: [f"playbooks/{self.builder.paths.get(index, '')}.{self.extensions[name]}"
                         for name in self.templates] for index in indexes}
        source: _Source = self
        workers = parallel_jobs(jobs, len(indexes))
        if workers > 1:  # in the order write_outputs writes the files (sorted paths)
            order = sorted(indexes, key=lambda index: min(map(PurePosixPath, paths[index])))
            source = _AheadSource(self, order, workers)
        files: dict[str, Iterable[bytes]] = {}
        for index in indexes:
            pair = _LazyAccount(source, index)
            for path in paths[index]:
                files[path] = _LazyFile(pair, path)
        return files

    def render_index(self, index: int) -> dict[str, bytes]:
        return self.render(self.evaluation.accounts[index])


class _Source(Protocol):
    def render_index(self, index: int) -> dict[str, bytes]: ...


# ------------------------------------------------------------------------------ worker processes

PER_WORKER = 300  # accounts a worker must have for forking to pay (a fork + pool start-up is ~20 ms)
CHUNK = 16  # accounts a task: small enough to keep the workers busy, large enough to amortise the pipe
AHEAD = 4  # tasks in flight per worker: bounds the memory held by renders not yet written

_WORKER: Renderer | None = None  # the renderer a forked worker inherits


def parallel_jobs(jobs: int, accounts: int) -> int:
    """Worker processes for rendering `accounts` playbooks: 1 (render here) when forking is unavailable
    or would not pay."""
    import multiprocessing

    if jobs <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(jobs, accounts // PER_WORKER))


def _render_chunk(indexes: list[int]) -> list[tuple[int, dict[str, bytes]]]:
    assert _WORKER is not None
    return [(index, _WORKER.render_index(index)) for index in indexes]


class _AheadSource:
    """Renders accounts in forked worker processes, `CHUNK` accounts a task, at most `AHEAD` tasks a
    worker ahead of the writer; hands each account's files out when asked (any order: an account
    asked early waits for its task, others are kept until asked). A worker's error (a template
    error of one account) is raised when that account's files are asked for, as rendering here would."""

    def __init__(self, renderer: Renderer, order: list[int], jobs: int):
        import weakref

        from kamrules.processes import worker_pool

        global _WORKER
        self.renderer = renderer
        self.tasks = [order[i:i + CHUNK] for i in range(0, len(order), CHUNK)]
        self.task_of = {index: n for n, task in enumerate(self.tasks) for index in task}
        self.pending: dict[int, Any] = {}  # task number -> future
        self.done: dict[int, dict[str, bytes]] = {}  # index -> files, rendered and not yet asked for
        self.next_task = 0
        self.limit = jobs * AHEAD
        _WORKER = renderer
        self.pool = worker_pool(jobs)
        # the workers fork now (on the first submit), before the writer starts any thread
        self._submit()
        self._finalizer = weakref.finalize(self, _shutdown, self.pool)

    def _submit(self) -> None:
        while self.next_task < len(self.tasks) and len(self.pending) < self.limit:
            self.pending[self.next_task] = self.pool.submit(_render_chunk, self.tasks[self.next_task])
            self.next_task += 1

    def render_index(self, index: int) -> dict[str, bytes]:
        files = self.done.pop(index, None)
        if files is not None:
            return files
        task = self.task_of[index]
        future = self.pending.pop(task, None)
        if future is None:  # asked twice, or its task was never submitted (asked far out of order)
            if task >= self.next_task:
                for skipped in range(self.next_task, task + 1):
                    self.pending[skipped] = self.pool.submit(_render_chunk, self.tasks[skipped])
                self.next_task = task + 1
                future = self.pending.pop(task)
            else:  # asked again after its files were handed out: render it here
                return self.renderer.render_index(index)
        try:
            results = future.result()
        except BaseException:
            self.close()
            raise
        for rendered, files in results:
            self.done[rendered] = files
        self._submit()
        if not self.pending and self.next_task == len(self.tasks):
            self.close()
        return self.done.pop(index)

    def close(self) -> None:
        self._finalizer()


def _shutdown(pool) -> None:
    global _WORKER
    pool.shutdown(wait=True, cancel_futures=True)
    _WORKER = None


class _LazyAccount:
    """One account's playbook files, rendered together the first time one of them is read; each file's
    bytes are dropped once it has been read."""

    __slots__ = ("source", "index", "files")

    def __init__(self, source: _Source, index: int):
        self.source, self.index, self.files = source, index, None

    def take(self, path: str) -> bytes:
        if self.files is None or path not in self.files:  # first read (or a file read twice: again)
            self.files = self.source.render_index(self.index)
        return self.files.pop(path)


class _LazyFile:
    __slots__ = ("account", "path")

    def __init__(self, account: _LazyAccount, path: str):
        self.account, self.path = account, path

    def __iter__(self) -> Iterator[bytes]:
        yield self.account.take(self.path)


def selected_indexes(evaluation: Evaluation, selection: str = "key+potential") -> list[int]:
    """The positions of the accounts that get a playbook: key | key+potential | all | none, by `tier`."""
    if selection not in SELECTIONS:
        raise UsageError(f"--playbooks '{selection}' is not one of: {', '.join(SELECTIONS)}")
    tiers = SELECTIONS[selection]
    if tiers is None:
        return list(range(len(evaluation.accounts)))
    if not tiers:
        return []
    tier_name = evaluation.pack.role("tier")
    if tier_name is None or evaluation.pack.output(tier_name) is None:
        log.warning("the rule pack has no 'tier' output: --playbooks %s selects no account (use --playbooks all)",
                    selection)
        return []
    return [i for i, tier in enumerate(column_values(evaluation, tier_name)) if tier in tiers]


def select_accounts(evaluation: Evaluation, selection: str = "key+potential") -> list[AccountResult]:
    """The accounts that get a playbook (see `selected_indexes`)."""
    return [evaluation.accounts[i] for i in selected_indexes(evaluation, selection)]


def render_playbooks(evaluation: Evaluation, *, selection: str = "key+potential", lang: str = "en",
                     playbooks_dir: Path | str | None = None, since: Mapping | None = None,
                     also: Sequence[int] = (), jobs: int = 1, review=None) -> dict[str, bytes]:
    """Render the Markdown and HTML playbooks of the selected accounts (in `jobs` worker processes
    when more than 1 and worth it).

    With `evaluate --previous`: `since` maps account ids to their "since the last review" block, and
    `also` adds accounts (positions) outside the selection, e.g. key accounts about to be demoted.

    Returns relative paths (`playbooks/<stem>.md`, `playbooks/<stem>.html`) → UTF-8 bytes, in input
    order. Templates are checked first; any problem raises `TemplateError` before anything renders.
    """
    if selection not in SELECTIONS:
        raise UsageError(f"--playbooks '{selection}' is not one of: {', '.join(SELECTIONS)}")
    if not selected_indexes(evaluation, selection) and not also:
        return {}
    renderer = Renderer(evaluation, lang=lang, playbooks_dir=playbooks_dir, since=since, review=review)
    if parallel_jobs(jobs, len(evaluation.accounts)) == 1:
        return renderer.render_all(selection, also)
    return {path: b"".join(chunks) for path, chunks in renderer.render_lazily(selection, also, jobs=jobs).items()}


def playbooks_to_write(evaluation: Evaluation, *, selection: str = "key+potential", lang: str = "en",
                       playbooks_dir: Path | str | None = None, since: Mapping | None = None,
                       also: Sequence[int] = (), jobs: int = 1, review=None) -> dict[str, Iterable[bytes]]:
    """`render_playbooks` for `write_outputs`: the same paths, each file rendered when it is written
    (memory stays flat however many playbooks a run writes). Templates are checked first. With
    `jobs > 1`, that many worker processes render ahead of the writer (the same bytes)."""
    if selection not in SELECTIONS:
        raise UsageError(f"--playbooks '{selection}' is not one of: {', '.join(SELECTIONS)}")
    if not selected_indexes(evaluation, selection) and not also:
        return {}
    renderer = Renderer(evaluation, lang=lang, playbooks_dir=playbooks_dir, since=since, review=review)
    return renderer.render_lazily(selection, also, jobs=jobs)


def check_templates(pack: RulePack, *, playbooks_dir: Path | str | None = None, lang: str = "en",
                    report: bool = True) -> None:
    """Check every playbook template (and the report template) before anything is rendered.

    Raises `TemplateError` listing every problem as `file:line: message`: syntax errors, unknown names
    and attributes (with a did-you-mean), unknown filters and tests, missing templates, access to
    Python internals. Then renders each template once against a probe account, full and empty, so a
    runtime error shows up now rather than at account 300.
    """
    env = make_environment(playbooks_dir, pack=pack, lang=lang)
    checker = TemplateChecker(env, playbook_schema(pack))
    for name in PLAYBOOK_TEMPLATES:
        checker.check(name)
    if report:
        report_checker = TemplateChecker(env, report_schema(pack))
        report_checker.check(REPORT_TEMPLATE)
        checker.errors += report_checker.errors
    if checker.errors:
        raise TemplateError("\n".join(dict.fromkeys(checker.errors)))
    probe = probe_evaluation(pack)
    for probe_lang in dict.fromkeys([lang, *LANGS]):
        Renderer(probe, lang=probe_lang, playbooks_dir=playbooks_dir, checked=True, probe=True).render_all("all")
        if report:
            render_report(probe, summarise(probe, lang=probe_lang), lang=probe_lang, playbook_links={},
                          playbooks_dir=playbooks_dir, checked=True, probe=True)


def probe_evaluation(pack: RulePack, as_of: dt.date = dt.date(2026, 1, 1)) -> Evaluation:
    """Two made-up accounts: one with a value for every name and every rule firing, one with nothing."""
    from kamrules.engine.evaluation import Hit

    def sample(name: str) -> Any:
        spec = pack.fields.get(name)
        vtype = spec.type if spec else None
        if name in pack.features and pack.features[name].function == "band":
            return pack.features[name].values[0] if pack.features[name].values else "x"
        if vtype == "date":
            return as_of - dt.timedelta(days=30)
        if vtype == "boolean":
            return True
        if vtype == "category":
            return spec.values[0] if spec.values else "x"
        if vtype == "string":
            return f"{name} <&> | *x*"
        return 0.5

    full_facts = {n: sample(n) for n in list(pack.fields) + [d.name for d in pack.derived]}
    full_facts["account_id"] = "PROBE-1"
    empty_facts = {n: None for n in full_facts}
    empty_facts["account_id"] = "PROBE-2"
    full = AccountResult(0, 2, "PROBE-1", full_facts.get("account_name"), full_facts)
    empty = AccountResult(1, 3, "PROBE-2", None, empty_facts)
    for decision in pack.decisions:
        because = {"en": "probe <reason>", "zh": "探测 <原因>"}
        if decision.policy.lists:
            outputs = {n: [r.then.get(n) for r in decision.rules] for n in decision.outputs}
            hits = tuple(Hit(rule=r.id, outputs=dict(r.then), reads={n: full_facts.get(n) for n in sorted(r.reads)},
                             source=r.source, template=because) for r in decision.rules)
            full.decisions[decision.id] = DecisionResult(decision.id, outputs, hits)
            empty.decisions[decision.id] = DecisionResult(decision.id, {n: [] for n in decision.outputs}, ())
            full.facts[decision.count_name] = len(decision.rules)
            empty.facts[decision.count_name] = 0
            continue
        rule = decision.rules[0] if decision.rules else None
        outputs = dict(rule.then) if rule else {n: None for n in decision.outputs}
        hits = (Hit(rule=rule.id, outputs=dict(rule.then), reads={n: full_facts.get(n) for n in sorted(rule.reads)},
                    source=rule.source, template=because),) if rule else ()
        full.decisions[decision.id] = DecisionResult(decision.id, outputs, hits)
        empty.decisions[decision.id] = DecisionResult(decision.id, {n: None for n in decision.outputs}, ())
    return Evaluation(pack=pack, accounts=[full, empty], as_of=as_of, input_name="probe.csv")


