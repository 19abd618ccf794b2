"""What the playbooks and the report show of the review cycle (kamrules/review): values set by hand beside
what the rules said, the contact map, the notes people wrote, the tasks since the last review and the
last review's objectives measured now. Typed views of plain texts, built in the run's language."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from collections.abc import Mapping
from typing import Any

from kamrules.i18n import Strings
from kamrules.pack import RulePack

NOTE_SECTIONS = ("goals", "competitors", "value_proposition", "next_steps", "other")  # the notes block, in order
SWOT_SECTIONS = ("strengths", "weaknesses", "opportunities", "threats")  # the SWOT table's notes column


# --------------------------------------------------------------------------------------------- playbooks


@dataclass(frozen=True)
class OverrideRow:
    """An output set by hand, beside what the rules said."""

    output: str  # e.g. "tier"
    label: str  # the output's display name, e.g. "Tier"
    value: Any  # set by hand
    text: str  # its label, e.g. "Key account"
    rules_text: str  # what the rules said, e.g. "Standard account"
    owner: str
    reason: str
    until: dt.date
    agrees: bool  # the rules now say the same: ready to retire
    note: str  # "overridden by OWNER: REASON (until DATE)"


@dataclass(frozen=True)
class NoteRow:
    text: str
    author: str = ""
    date: dt.date | None = None


@dataclass(frozen=True)
class NoteSection:
    key: str  # goals | competitors | value_proposition | next_steps | other
    title: str
    notes: tuple[NoteRow, ...]


@dataclass(frozen=True)
class Notes:
    """The account's notes by playbook section (`evaluate --notes`); every section empty without it."""

    goals: tuple[NoteRow, ...] = ()
    competitors: tuple[NoteRow, ...] = ()
    value_proposition: tuple[NoteRow, ...] = ()
    next_steps: tuple[NoteRow, ...] = ()
    strengths: tuple[NoteRow, ...] = ()
    weaknesses: tuple[NoteRow, ...] = ()
    opportunities: tuple[NoteRow, ...] = ()
    threats: tuple[NoteRow, ...] = ()
    other: tuple[NoteRow, ...] = ()
    sections: tuple[NoteSection, ...] = ()  # the notes block's sections that have notes, in order


@dataclass(frozen=True)
class ProgressRow:
    """An objective of the last review measured now."""

    name: str
    label: str  # e.g. "Share of wallet"
    start: str  # its value when set
    target: str
    now: str  # "—" when not measured
    set_on: dt.date
    status: str  # achieved | on_track | behind | not_measured
    status_text: str
    due: dt.date | None = None
    expected: str = ""  # the share of the way the time gone by asks for, e.g. "25%"


EMPTY_NOTES = Notes()


def override_rows(applied: list, pack: RulePack, fmt, strings: Strings, lang: str) -> tuple[OverrideRow, ...]:
    from kamrules.review.overrides import applied_labels

    rows = []
    for item in applied:
        text, rules_text = applied_labels(item, pack, lang)
        note = strings["overridden_by"] % (item.owner, item.reason, item.expires.isoformat())
        rows.append(OverrideRow(item.output, fmt.caption(item.output), item.value, text, rules_text, item.owner,
                                item.reason, item.expires, item.agrees, note))
    return tuple(rows)


def notes_view(by_section: dict, strings: Strings) -> Notes:
    """An account's notes (section -> tuple of review.notes.Note) as the playbook shows them."""
    if not by_section:
        return EMPTY_NOTES
    rows = {section: tuple(NoteRow(n.text, n.author or "", n.date) for n in notes)
            for section, notes in by_section.items()}
    sections = tuple(NoteSection(key, strings["note_" + key], rows[key]) for key in NOTE_SECTIONS if rows.get(key))
    return Notes(**rows, sections=sections)


def progress_rows(found: tuple, fmt, strings: Strings) -> tuple[ProgressRow, ...]:
    rows = []
    for item in found:
        name = item.objective.name
        rows.append(ProgressRow(name, fmt.caption(name), fmt.show(item.objective.start, name),
                                fmt.show(item.objective.target, name),
                                fmt.show(item.now, name) if item.now is not None else "—",
                                item.objective.set_on, item.status, strings["status_" + item.status],
                                item.objective.due, f"{item.expected:.0%}"))
    return tuple(rows)


def set_objectives(evaluation: Any, indexes: list[int]) -> list:
    """The objectives the playbooks of the accounts at `indexes` set (kamrules.documents.review.objectives),
    as objectives.csv records them: set on the run's date, due a year later."""
    from kamrules.documents.formatting import Formatter
    from kamrules.documents.review import objectives, role_name
    from kamrules.i18n import UI
    from kamrules.results.columns import column_values
    from kamrules.review.objectives import SetObjective, due_date

    pack = evaluation.pack
    names = {pack.role("sales"), role_name(pack, "share_of_wallet"), role_name(pack, "sales_prev")} - {None}
    columns = {name: column_values(evaluation, name) for name in sorted(names)
               if evaluation.table is not None and name in evaluation.table.columns}
    if not indexes or pack.role("sales") not in columns:
        return []
    ids = column_values(evaluation, "account_id")
    fmt, strings = Formatter(pack, "en"), Strings(UI["en"])
    set_on = evaluation.as_of
    found = []
    for index in indexes:
        values = {name: column[index] for name, column in columns.items()}
        for item in objectives(pack, values, fmt, strings):
            found.append(SetObjective(str(ids[index]), item.kind, item.name, item.current_value, item.target_value,
                                      set_on, due_date(set_on)))
    return found


def with_objective_progress(accounts: Any, found: dict, pack: RulePack, lang: str) -> Any:
    """The playbooks' "since the last review" blocks (account id -> AccountSince) with each account's
    objectives of the last review measured now (kamrules.review.objectives.progress); built when a
    playbook asks, as the blocks are."""
    from kamrules.documents.formatting import Formatter
    from kamrules.i18n import UI

    return _WithProgress(accounts, found, Formatter(pack, lang), Strings(UI[lang]))


class _WithProgress(Mapping):
    def __init__(self, accounts: Any, found: dict, fmt: Any, strings: Strings):
        self._accounts, self._found, self._fmt, self._strings = accounts, found, fmt, strings

    def __getitem__(self, account: str) -> Any:
        import dataclasses

        since = self._accounts[account]
        items = self._found.get(account)
        return dataclasses.replace(since, objectives=progress_rows(items, self._fmt, self._strings)) if items else since

    def __iter__(self):
        return iter(self._accounts)

    def __len__(self) -> int:
        return len(self._accounts)


def contact_rows(people: tuple, manager: str | None, strings: Strings) -> tuple:
    """The contact map from the contacts file: our account manager first (when the data names one), then
    the customer's people — decision makers, champions, influencers, users, gatekeepers — in file order
    within each role, those who left last."""
    from kamrules.documents.review import ContactRow
    from kamrules.review.contacts import ROLES

    rows = [ContactRow(manager, strings["our_manager"], "ours", "")] if manager else []
    order = {role: i for i, role in enumerate(ROLES)}
    ranked = sorted(enumerate(people), key=lambda p: (not p[1].active, order.get(p[1].role, len(order)), p[0]))
    for _, person in ranked:
        rows.append(ContactRow(
            person.name, person.title or "", "theirs",
            person.last_contact.isoformat() if person.last_contact else "",
            buying_role=strings["role_" + person.role] if person.role else "",
            attitude=strings["attitude_" + person.attitude] if person.attitude else "",
            owner=person.owner or "", gone=not person.active))
    return tuple(rows)


@dataclass(frozen=True)
class ReviewInputs:
    """What `evaluate --contacts` and `--notes` give the playbooks: the contact map and the notes of each
    account (kamrules.review.contacts.ContactBook, kamrules.review.notes.NoteBook; None when not given)."""

    contacts: Any = None
    notes: Any = None

    def apply(self, context: Any, account_id: Any) -> Any:
        """The playbook context with the account's contacts, notes and SWOT notes filled in."""
        import dataclasses

        strings, changes = context.t, {}
        if self.contacts is not None:
            changes["contacts"] = contact_rows(self.contacts.of(str(account_id)), context.manager, strings)
        if self.notes is not None:
            notes = notes_view(self.notes.of(str(account_id)), strings)
            changes["notes"] = notes
            changes["swot"] = tuple(dataclasses.replace(row, notes=tuple(n.text for n in getattr(notes, row.key, ())))
                                    for row in context.swot)
        return dataclasses.replace(context, **changes) if changes else context


# ------------------------------------------------------------------------------------------------ report


@dataclass(frozen=True)
class OverrideLine:
    account_id: str
    name: str
    link: str | None
    row: OverrideRow


@dataclass(frozen=True)
class TaskLine:
    account_id: str
    name: str
    action: str  # the action's label


@dataclass(frozen=True)
class ProgressLine:
    account_id: str
    name: str
    link: str | None
    row: ProgressRow
    money: str = ""  # the account's sales now, formatted (the list is in this order, largest first)


@dataclass(frozen=True)
class ReviewCycleView:
    """The report's "review cycle" section: what was set by hand, the tasks and objectives since the
    last review, and what the contacts and notes files covered."""

    overrides: tuple[OverrideLine, ...] = ()
    retire: tuple[OverrideLine, ...] = ()  # the overrides the rules now agree with
    expired: int = 0  # overrides ignored: their date had passed
    tasks_from: str = ""  # the last review, with --previous ("" without)
    tasks: dict = field(default_factory=dict)  # new / open / resolved -> count
    resolved: tuple[TaskLine, ...] = ()
    resolved_total: int = 0
    objectives_from: str = ""  # the last review whose objectives were measured ("" when none)
    objectives: dict = field(default_factory=dict)  # achieved / on_track / behind / not_measured -> count
    behind: tuple[ProgressLine, ...] = ()
    contacts_accounts: int = 0  # accounts the contacts file covers
    notes_accounts: int = 0  # accounts with notes
    decision_makers: int = 0  # accounts with an active decision maker on record (evaluate --contacts)
    behind_total: int = 0  # every objective behind (the list shows the first LIST_MAX)

    @property
    def shown(self) -> bool:
        return bool(self.overrides or self.expired or self.tasks_from or self.objectives_from
                    or self.contacts_accounts or self.notes_accounts)


LIST_MAX = 200  # lines a list of the section shows; the rest are counted


def review_cycle_view(evaluation: Any, lang: str, links: Any, *, plan: Any = None, overrides: Any = None,
                      tasks: Any = None, objectives: dict | None = None, objectives_from: str = "",
                      review: Any = None) -> ReviewCycleView:
    """The report's "review cycle" section of a run: the overrides applied (kamrules.review.overrides
    OverridePlan) and those ready to retire, the overrides ignored (`overrides`: the OverrideFile), the
    tasks against the last review (TaskHistory), the last review's objectives measured now (account id
    -> Progress), and the accounts the contacts and notes files cover (ReviewInputs)."""
    from kamrules.documents.formatting import Formatter
    from kamrules.i18n import UI
    from kamrules.results.columns import column_values
    from kamrules.review.objectives import counts

    pack = evaluation.pack
    fmt, strings = Formatter(pack, lang), Strings(UI[lang])
    ids = [None if a is None else str(a) for a in column_values(evaluation, "account_id")]
    name_field = pack.role("account_name") or "account_name"
    names = column_values(evaluation, name_field) if name_field in evaluation.table.columns else [None] * len(ids)
    position = {a: i for i, a in enumerate(ids) if a is not None}
    links = links or {}

    def who(account: str) -> tuple[str, str | None]:
        index = position.get(account)
        name = names[index] if index is not None else None
        return (account if name in (None, "") else str(name)), links.get(account)

    lines = []
    for row, item in zip(override_rows(plan.applied, pack, fmt, strings, lang) if plan is not None else (),
                         plan.applied if plan is not None else ()):
        lines.append(OverrideLine(item.account, *who(item.account), row))
    view: dict = {"overrides": tuple(lines[:LIST_MAX]), "retire": tuple(l for l in lines if l.row.agrees)[:LIST_MAX],
                  "expired": len(overrides.expired) if overrides is not None else 0}
    if tasks is not None:
        view.update(tasks_from=tasks.label, tasks=dict(tasks.counts), resolved_total=len(tasks.resolved))
    if objectives is not None:
        sales_name = pack.role("sales")
        sales = column_values(evaluation, sales_name) if sales_name in evaluation.table.columns else [None] * len(ids)

        def money(account: str) -> float:
            index = position.get(account)
            value = sales[index] if index is not None else None
            return float(value) if isinstance(value, (int, float)) and value == value else 0.0

        behind = sorted(((account, item) for account, items in objectives.items() for item in items
                         if item.status == "behind"), key=lambda p: (-money(p[0]), p[0]))
        view.update(objectives_from=objectives_from, objectives=counts(objectives), behind_total=len(behind),
                    behind=tuple(ProgressLine(account, *who(account), progress_rows((item,), fmt, strings)[0],
                                              fmt.show(money(account), sales_name) if sales_name else "")
                                 for account, item in behind[:LIST_MAX]))
    if review is not None and review.contacts is not None:
        book = review.contacts.by_account
        view.update(contacts_accounts=len(book), decision_makers=sum(
            1 for people in book.values() if any(p.role == "decision_maker" and p.active for p in people)))
    if review is not None and review.notes is not None:
        view.update(notes_accounts=sum(1 for notes in review.notes.by_account.values() if notes))
    return ReviewCycleView(**view)
