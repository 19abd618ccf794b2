"""What the report and each playbook see of `evaluate --previous OUT`: "since the last review".

Plain frozen records (no behaviour), kept apart so the context modules can name them without importing
the diff machinery. Built by kamrules.documents.diff_report.since_views."""

from __future__ import annotations

from dataclasses import dataclass

from kamrules.documents.review_cycle import ProgressRow


@dataclass(frozen=True)
class SinceWords:
    """The headings and phrases of the "since the last review" blocks, in the run's language."""

    title: str  # "Since the last review"
    then: str  # "Then"
    now: str  # "Now"
    demotion: str  # "Demoted this review"
    demotion_note: str  # why the flag is there
    migrations: str
    new_risks: str
    resolved_risks: str
    new_account: str  # "Not in the previous run"
    appeared: str
    disappeared: str
    none: str  # "Nothing changed"
    more: str = ""  # after "+N": where the accounts a list leaves out are
    improved_risks: str = ""  # "Risks improved"
    resolved_note: str = ""  # what "resolved" means
    improved_note: str = ""  # what "improved" means
    gone: str = ""  # "Accounts gone since then"
    gone_note: str = ""
    tier_then: str = ""  # the gone accounts' columns
    sales_then: str = ""
    risk_then: str = ""
    retire: str = ""  # "Overrides ready to retire"
    held: str = ""  # "Held — review before demotion"
    held_note: str = ""
    lost: str = ""  # "Lost since the last review"
    lost_note: str = ""
    lost_known: str = ""  # "Lost already at the last review"
    retire_note: str = ""
    retire_value: str = ""  # its columns
    retire_by: str = ""
    retire_until: str = ""


@dataclass(frozen=True)
class SinceFact:
    """One key fact then and now (tier, risk level, relationship, service level, sales)."""

    label: str
    then: str
    now: str
    changed: bool


@dataclass(frozen=True)
class AccountSince:
    """A playbook's "since the last review" block."""

    previous: str  # the previous run: its as-of date and folder
    new_account: bool  # the account was not in the previous run
    review_before_demotion: bool  # key last time, not key now
    facts: tuple[SinceFact, ...]
    words: SinceWords
    objectives: tuple[ProgressRow, ...] = ()  # the objectives the last review set, measured now


@dataclass(frozen=True)
class SinceLine:
    """An account in a list of the report's "since the last review" section."""

    account_id: str
    name: str
    then: str
    now: str


@dataclass(frozen=True)
class SinceGone:
    """An account of the previous review that is not in this one, as it was then."""

    account_id: str
    name: str
    tier: str
    sales: str
    risk_level: str


@dataclass(frozen=True)
class RetireRow:
    """An override the rules now agree with (ready to retire), in the page's words."""

    account_id: str
    name: str
    output: str  # the output's label ("Tier")
    value: str  # the value set by hand, as a label
    owner: str
    reason: str
    until: str


@dataclass(frozen=True)
class SinceLastReview:
    """The report's "since the last review" section."""

    previous: str
    migrations: tuple[SinceLine, ...]  # tier changes
    new_risks: tuple[SinceLine, ...]
    resolved_risks: tuple[SinceLine, ...]
    review_before_demotion: tuple[SinceLine, ...]
    appeared: int
    disappeared: int
    words: SinceWords
    # How many accounts each list holds: the lists show the first 200 (at 200,000 accounts a list of
    # every account newly at risk made the report tens of MB and most of the run's time).
    counts: dict | None = None  # review_before_demotion, migrations, new_risks, resolved_risks, improved_risks, gone
    headline: str = ""  # "Key accounts 9 → 7: 2 key accounts demoted (no longer key); 1 customer lost …"
    improved_risks: tuple[SinceLine, ...] = ()  # at risk or graver then, watched or less grave now
    gone: tuple[SinceGone, ...] = ()  # the accounts gone, largest sales then first
    retire: tuple[RetireRow, ...] = ()  # the overrides the rules now agree with (the first 200)
    lost: tuple[SinceLine, ...] = ()  # lost since the last review: then its sales then, now its risk level
    lost_known: tuple[SinceLine, ...] = ()  # lost at the last review and still now
    held: tuple[SinceLine, ...] = ()  # key now on the tier basis held: review before demotion
