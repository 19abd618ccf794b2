"""`evaluate --contacts FILE`: the customer's people — who decides, who influences, who is on our side.

One row per person: account id, name, title, role in the decision (decision maker, influencer, user,
champion, gatekeeper), attitude to us, last contact, our owner of the relationship, and whether the
person is still there (status: active or left). It fills the playbook's contact map, and gives the
rules stakeholder facts, per account (`stakeholder_facts`), for the fields of the same names the pack
declares (the default pack: rules/10-fields.yaml, "stakeholder facts, filled from --contacts"):

| fact | what it is |
|---|---|
| `decision_maker_known` | an active decision maker is on record |
| `champion_present` | an active champion is on record |
| `days_since_decision_maker_contact` | days from the last contact with an active decision maker to the run's date (missing when none is dated) |
| `key_contact_gone` | a decision maker or a champion has left |
| `decision_maker` | the decision maker last met, "name (title)" — for texts |
| `decision_maker_owner` | our owner of that relationship — for texts |

Accounts the file does not list get no decision maker and no champion: for a key account that is the gap
the rules name. Without --contacts the fields stay missing and the rules that read them do not fire.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from kamrules.data.wording import say
from kamrules.pack import RulePack
from kamrules.pack.fields import normalise_header
from kamrules.review.files import Column, read_review_file, read_run_record, refuse, unknown_accounts
from kamrules.review.overrides import ACCOUNT

ROLES = ("decision_maker", "influencer", "user", "champion", "gatekeeper")
ATTITUDES = ("positive", "neutral", "negative")
COLUMNS = (
    ACCOUNT,
    Column("name", {"en": "Name", "zh": "姓名"}, required=True,
           aliases=("Contact", "Contact name", "Full name", "Person", "联系人", "联系人姓名", "名字")),
    Column("title", {"en": "Title", "zh": "职务"}, aliases=("Job title", "Position", "Job", "职位", "岗位", "头衔")),
    Column("role", {"en": "Role in the decision", "zh": "决策角色"}, type="category",
           aliases=("Role", "Buying role", "Decision role", "角色", "采购角色"),
           values={"decision_maker": ("decision maker", "DM", "economic buyer", "决策者", "决策人", "拍板人"),
                   "influencer": ("influencer", "影响者", "影响人"),
                   "user": ("user", "end user", "使用者", "用户", "使用人"),
                   "champion": ("champion", "coach", "sponsor", "支持者", "内部支持者", "教练", "内线"),
                   "gatekeeper": ("gatekeeper", "把关者", "守门人", "把关人")}),
    Column("attitude", {"en": "Attitude to us", "zh": "对我方态度"}, type="category",
           aliases=("Attitude", "Stance", "态度"),
           values={"positive": ("positive", "supportive", "supporter", "friendly", "积极", "支持", "友好"),
                   "neutral": ("neutral", "中立", "一般"),
                   "negative": ("negative", "opposed", "hostile", "critic", "消极", "反对", "不满")}),
    Column("last_contact", {"en": "Last contact", "zh": "最近联系"}, type="date",
           aliases=("Last contacted", "Last met", "Last meeting", "Last contact date", "最近联系时间", "最近拜访",
                    "最近拜访时间", "上次联系")),
    Column("owner", {"en": "Our owner", "zh": "我方对接人"},
           aliases=("Owner", "Our contact", "Relationship owner", "对接人", "负责人", "我方负责人")),
    Column("status", {"en": "Status", "zh": "状态"}, type="category",
           values={"active": ("active", "current", "在职", "在岗"),
                   "left": ("left", "gone", "left the company", "离职", "已离职", "调离")}),
)
STAKEHOLDER_FACTS = ("decision_maker_known", "champion_present", "days_since_decision_maker_contact",
                     "key_contact_gone", "decision_maker", "decision_maker_owner")


@dataclass(frozen=True)
class Contact:
    """One person at a customer, as the contacts file gives them (codes for role, attitude, status)."""

    account: str
    name: str
    title: str | None = None
    role: str | None = None
    attitude: str | None = None
    last_contact: dt.date | None = None
    owner: str | None = None
    status: str | None = None  # "active" (or not said) | "left"
    row: int = 0

    @property
    def active(self) -> bool:
        return self.status != "left"

    @property
    def shown(self) -> str:
        """'Wang Lei (CFO)', or the name alone."""
        return f"{self.name} ({self.title})" if self.title else self.name


@dataclass
class ContactBook:
    """Every account's contacts, in file order."""

    path: Path
    by_account: dict = field(default_factory=dict)  # account id -> tuple of Contact

    def of(self, account: str) -> tuple:
        return self.by_account.get(str(account), ())


def read_contacts(path: Path, accounts: Sequence[str], as_of: dt.date, data_name: str,
                  lang: str = "en") -> ContactBook:
    """The contacts file, checked: every unknown account, person listed twice for one account and last
    contact after the run's date in one DataError naming the rows."""
    review = read_review_file(path, COLUMNS, lang)
    problems = unknown_accounts(review, accounts, data_name, lang)
    seen: dict[tuple, int] = {}
    found: dict[str, list] = {}
    for index, record in enumerate(review.records):
        contact = Contact(**{c.name: record[c.name] for c in COLUMNS}, row=review.rows[index])
        if contact.last_contact is not None and contact.last_contact > as_of:
            problems.append(say(lang, "contact_future", place=review.place(lang, index, "last_contact"),
                                date=contact.last_contact.isoformat(), as_of=as_of.isoformat()))
        key = (contact.account, normalise_header(contact.name))
        if key in seen:
            problems.append(say(lang, "contact_twice", place=review.place(lang, index), name=contact.name,
                                account=contact.account, first=say(lang, f"at_{review.unit}", n=seen[key])))
            continue
        seen[key] = contact.row
        found.setdefault(contact.account, []).append(contact)
    refuse(review.path, problems, lang)
    return ContactBook(review.path, {account: tuple(people) for account, people in found.items()})


def stakeholder_facts(book: ContactBook, accounts: Sequence, as_of: dt.date, pack: RulePack) -> dict:
    """The stakeholder facts (see the module's docstring) the pack declares as fields, as columns in the
    order of `accounts` (the data's account ids)."""
    return facts_columns(account_facts(book, as_of), accounts, pack)


def account_facts(book: ContactBook, as_of: dt.date) -> dict:
    """Each listed account's stakeholder facts on `as_of` (account id -> {fact: value}; the days as a
    whole number or None), in file order: what the rules see, and what the run folder keeps of them."""
    facts = {}
    for account, people in book.by_account.items():
        deciders = [p for p in people if p.role == "decision_maker" and p.active]
        dated = [p for p in deciders if p.last_contact is not None]
        # the decision maker last met (the first of equal dates: file order), else the first one listed
        latest = max(dated, key=lambda p: p.last_contact) if dated else deciders[0] if deciders else None
        facts[account] = {
            "decision_maker_known": bool(deciders),
            "champion_present": any(p.role == "champion" and p.active for p in people),
            "days_since_decision_maker_contact": (as_of - latest.last_contact).days if dated else None,
            "key_contact_gone": any(p.role in ("decision_maker", "champion") and not p.active for p in people),
            "decision_maker": latest.shown if latest is not None else None,
            "decision_maker_owner": latest.owner if latest is not None else None,
        }
    return facts


def facts_columns(facts: dict, accounts: Sequence, pack: RulePack) -> dict:
    """The facts the pack declares as fields, as columns in the order of `accounts` (an account `facts`
    does not list has no decision maker and no champion)."""
    wanted = [name for name in STAKEHOLDER_FACTS if name in pack.fields]
    count = len(accounts)
    known, champion, gone = np.zeros(count, bool), np.zeros(count, bool), np.zeros(count, bool)
    days = np.full(count, np.nan)
    who = np.full(count, None, dtype=object)
    owner = np.full(count, None, dtype=object)
    for position, account in enumerate(accounts):
        mine = facts.get(str(account)) if account is not None else None
        if mine is None:
            continue
        known[position], champion[position] = mine["decision_maker_known"], mine["champion_present"]
        gone[position] = mine["key_contact_gone"]
        if mine["days_since_decision_maker_contact"] is not None:
            days[position] = float(mine["days_since_decision_maker_contact"])
        who[position], owner[position] = mine["decision_maker"], mine["decision_maker_owner"]
    columns = {"decision_maker_known": pd.array(known, dtype="boolean"),
               "champion_present": pd.array(champion, dtype="boolean"),
               "days_since_decision_maker_contact": days, "key_contact_gone": pd.array(gone, dtype="boolean"),
               "decision_maker": who, "decision_maker_owner": owner}
    return {name: columns[name] for name in wanted}


# ------------------------------------------------------------------------------- the run folder's record

RECORD = "contacts.json"  # in OUT: the stakeholder facts the run's rules saw (explain --run)
RECORD_FORMAT = "kamrules-contacts"
MAX_RECORD_BYTES = 64 * 1024 * 1024  # ~250 bytes an account: a quarter of a million accounts with contacts
_FLAGS = ("decision_maker_known", "champion_present", "key_contact_gone")
_TEXTS = ("decision_maker", "decision_maker_owner")


def record_bytes(book: ContactBook, as_of: dt.date) -> bytes:
    """`contacts.json` of a run with `--contacts`: the file's name (not its path) and, per account the file
    lists (in file order), the stakeholder facts the rules saw on the run's date. UTF-8 JSON, byte-identical
    for the same inputs and `--as-of`; the contacts themselves stay in the user's file."""
    import json

    document = {"format": RECORD_FORMAT, "version": 1, "file": book.path.name,
                "accounts": [{"account": account, **facts} for account, facts in account_facts(book, as_of).items()]}
    return (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def read_record(folder: Path, lang: str = "en") -> dict | None:
    """The stakeholder facts a finished run's rules saw (account id -> facts, as `account_facts` gives
    them), from its `contacts.json` (None: the run had no --contacts), read with the guards of a run
    folder's manifest. DataError naming the file and the entry when it was edited or damaged."""
    path = Path(folder) / RECORD
    document = read_run_record(Path(folder), RECORD, MAX_RECORD_BYTES, "contacts_record_json", lang)
    if document is None:
        return None
    return _read_facts(document, path, lang)


def _read_facts(document, path: Path, lang: str) -> dict:
    """The checks of one `contacts.json`: every entry of the type `record_bytes` writes there."""
    from kamrules.errors import DataError

    def bad(key: str, value) -> DataError:
        return DataError(say(lang, "contacts_record_bad", path=path, key=key, value=str(value)[:200]))

    if not isinstance(document, dict) or document.get("format") != RECORD_FORMAT:
        raise bad("format", document.get("format") if isinstance(document, dict) else document)
    if not isinstance(document.get("file"), str) or not document["file"]:
        raise bad("file", document.get("file"))
    entries = document.get("accounts")
    if not isinstance(entries, list):
        raise bad("accounts", entries)
    facts: dict = {}
    for number, entry in enumerate(entries):
        where = f"accounts[{number}]"
        if not isinstance(entry, dict):
            raise bad(where, entry)
        account = entry.get("account")
        if not isinstance(account, str) or not account or account in facts:
            raise bad(f"{where}.account", account)
        for key in (*_FLAGS, *_TEXTS, "days_since_decision_maker_contact"):
            if not _fits(key, entry.get(key)) or key not in entry:
                raise bad(f"{where}.{key}", entry.get(key))
        facts[account] = {key: entry[key] for key in STAKEHOLDER_FACTS}
    return facts


def _fits(key: str, value) -> bool:
    if key in _FLAGS:
        return isinstance(value, bool)
    if key in _TEXTS:
        return value is None or (isinstance(value, str) and bool(value))
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0)
