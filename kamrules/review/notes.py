"""`evaluate --notes FILE`: what people write about an account, merged into its playbook's sections.

One row per note: account id, section, text (and optionally its author and date). The sections are
the parts of the playbook a key account manager writes (`SECTIONS`); a section the playbook does not
have is refused, naming the ones it has. Several notes of one section are kept in file order; the same
note written twice is refused. Notes are data: the documents escape them like every other value.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from kamrules.data.wording import say
from kamrules.review.files import Column, read_review_file, refuse, unknown_accounts
from kamrules.review.overrides import ACCOUNT

# section -> the words a file may use for it (English and Chinese); the playbook shows them in this order
SECTIONS = {
    "goals": ("customer goals", "customer's goals", "objectives", "客户目标", "目标", "客户诉求"),
    "competitors": ("competition", "competitor", "竞争对手", "竞争", "竞品"),
    "value_proposition": ("value proposition", "our value", "value", "价值主张", "我方价值"),
    "next_steps": ("next steps", "agreed next steps", "next step", "actions agreed", "下一步", "后续步骤", "约定事项"),
    "strengths": ("strength", "优势"),
    "weaknesses": ("weakness", "劣势"),
    "opportunities": ("opportunity", "机会"),
    "threats": ("threat", "威胁"),
    "other": ("general", "notes", "note", "备注", "其他"),
}
COLUMNS = (
    ACCOUNT,
    Column("section", {"en": "Section", "zh": "章节"}, type="category", required=True,
           aliases=("Part", "Topic", "部分", "类别", "主题"), values=SECTIONS),
    Column("text", {"en": "Text", "zh": "内容"}, required=True,
           aliases=("Note", "Notes", "Comment", "Content", "备注", "说明", "记录")),
    Column("author", {"en": "Author", "zh": "作者"}, aliases=("By", "Written by", "记录人", "填写人")),
    Column("date", {"en": "Date", "zh": "日期"}, type="date", aliases=("Written", "Noted on", "记录日期")),
)


@dataclass(frozen=True)
class Note:
    text: str
    author: str | None = None
    date: dt.date | None = None
    row: int = 0


@dataclass
class NoteBook:
    """Every account's notes by section, in file order."""

    path: Path
    by_account: dict = field(default_factory=dict)  # account id -> {section: tuple of Note}

    def of(self, account: str) -> dict:
        return self.by_account.get(str(account), {})


def read_notes(path: Path, accounts: Sequence[str], data_name: str, lang: str = "en") -> NoteBook:
    """The notes file, checked: unknown accounts and notes written twice in one DataError; an unknown
    section is refused by the reader, naming the sections the playbook has."""
    review = read_review_file(path, COLUMNS, lang)
    problems = unknown_accounts(review, accounts, data_name, lang)
    seen: dict[tuple, int] = {}
    found: dict[str, dict] = {}
    for index, record in enumerate(review.records):
        key = (record["account"], record["section"], " ".join(record["text"].split()))
        if key in seen:
            problems.append(say(lang, "note_twice", place=review.place(lang, index), account=record["account"],
                                section=record["section"], first=say(lang, f"at_{review.unit}", n=seen[key])))
            continue
        seen[key] = review.rows[index]
        note = Note(record["text"], record["author"], record["date"], review.rows[index])
        found.setdefault(record["account"], {}).setdefault(record["section"], []).append(note)
    refuse(review.path, problems, lang)
    return NoteBook(review.path, {account: {s: tuple(notes) for s, notes in sections.items()}
                                  for account, sections in found.items()})
