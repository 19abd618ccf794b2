"""The account-review parts of a playbook: objectives with numbers, facts to find out, the actions due
soonest with a named owner, and the SWOT and contact tables a key account manager completes.

Everything here is computed from the pack's rules and the account's values, never from the default
pack's names: the thresholds an objective aims at are the ones the rules compare the value with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from kamrules.i18n import is_missing
from kamrules.language import expr as ex
from kamrules.pack import RulePack, pick

# Values a review objective is about, by role, with the default pack's names as defaults (used when the
# pack's roles do not know them).
OBJECTIVE_NAMES = {"share_of_wallet": "share_of_wallet", "sales_prev": "sales_prev"}
# How an action's owner says "the account's own manager" (any language of the owner text).
MANAGER_WORDS = ("account manager", "客户经理")
MAX_NEXT_ACTIONS = 5


@dataclass(frozen=True)
class Objective:
    """A measurable objective for the next period, e.g. share of wallet from 45% to 70%."""

    name: str  # the value it is about, e.g. "share_of_wallet"
    label: str  # its display name, e.g. "Share of wallet"
    current: str  # today's value, formatted ("45%")
    target: str  # the value aimed at, formatted ("70%")
    gain: str  # what reaching it is worth in sales, formatted ("+288,889")
    basis: str  # how the gain is computed, in words
    current_value: float | None = None  # today's value and the target as numbers (objectives.csv)
    target_value: float | None = None
    kind: str = ""  # what it asks, as objectives.csv names it: raise_share_of_wallet, recover_sales


@dataclass(frozen=True)
class SwotRow:
    """One quadrant of the SWOT table: what the data already says, and room for the KAM's notes."""

    key: str  # "strengths" | "weaknesses" | "opportunities" | "threats"
    title: str  # its heading in the language
    items: tuple[str, ...]  # pre-filled from the data (may be empty)
    notes: tuple[str, ...] = ()  # what people wrote for it (evaluate --notes)


@dataclass(frozen=True)
class ContactRow:
    """One row of the contact / decision-maker map; blank rows have empty texts."""

    name: str
    role: str  # job title or our role ("Account manager (ours)")
    side: str  # "ours" | "theirs"
    last_contact: str  # formatted date or ""
    buying_role: str = ""  # their part in the decision (evaluate --contacts), e.g. "Decision maker"
    attitude: str = ""  # their attitude to us (evaluate --contacts)
    owner: str = ""  # our owner of the relationship (evaluate --contacts)
    gone: bool = False  # they have left the customer (evaluate --contacts)


def role_name(pack: RulePack, role: str) -> str | None:
    """`pack.role(role)`, falling back to the default name for the review roles the pack loader does not
    know yet; None when the pack has no such value."""
    name = pack.role(role)  # None for a role `pack: roles:` does not know (yet)
    if name is None and role in OBJECTIVE_NAMES:
        default = OBJECTIVE_NAMES[role]
        if default in pack.fields or any(d.name == default for d in pack.derived):
            return default
    return name


_THRESHOLDS: dict = {}  # (id(pack), name) -> (pack, thresholds): walked once per pack, not per playbook


def thresholds_above(pack: RulePack, name: str) -> list[float]:
    """Every number the rules compare `name` with as a lower bound (`name >= X`, `name > X`, `X <= name`),
    sorted: the steps a value can climb."""
    known = _THRESHOLDS.get((id(pack), name))
    if known is not None and known[0] is pack:
        return list(known[1])
    if len(_THRESHOLDS) > 256:
        _THRESHOLDS.clear()
    found = _thresholds_above(pack, name)
    _THRESHOLDS[id(pack), name] = (pack, tuple(found))
    return found


def _thresholds_above(pack: RulePack, name: str) -> list[float]:
    found: set[float] = set()

    def visit(node: ex.Node) -> None:
        if not isinstance(node, ex.Compare):
            return
        for value_side, bound_side, ops in ((node.left, node.right, (">=", ">")),
                                            (node.right, node.left, ("<=", "<"))):
            if isinstance(value_side, ex.Name) and value_side.name == name and node.op in ops:
                bound = bound_side.value if isinstance(bound_side, (ex.Const, ex.Param)) else None
                if isinstance(bound, (int, float)) and not isinstance(bound, bool):
                    found.add(float(bound))

    for decision in pack.decisions:
        for rule in decision.rules:
            ex.walk(rule.when, visit)
    return sorted(found)


def needed_fields(pack: RulePack) -> list[str]:
    """The pack's fields that some rule reads, directly or through a feature or score, in pack order."""
    derived = {d.name: d for d in pack.derived}
    seen: set[str] = set()

    def behind(name: str) -> set[str]:
        if name in seen:
            return set()
        seen.add(name)
        if name in pack.fields:
            return {name}
        item = derived.get(name)
        if item is None:
            return set()
        criteria = getattr(item, "criteria", None)
        reads = {c.field for c in criteria} if criteria is not None else set(getattr(item, "reads", ()))
        return set().union(*(behind(n) for n in reads)) if reads else set()

    fields: set[str] = set()
    for decision in pack.decisions:
        for rule in decision.rules:
            for name in rule.reads:
                seen.clear()
                fields |= behind(name)
    return [n for n in pack.fields if n in fields]


def carried_fields(evaluation: Any, names: Iterable[str]) -> set[str]:
    """The fields the evaluated file has a value for: the evaluation's `present_fields` (known when
    the file's columns are) when there is one, else those with a value for at least one account."""
    present = getattr(evaluation, "present_fields", None)
    if present is not None:
        return set(present)
    table = getattr(evaluation, "table", None)
    if table is None:
        return set(names)
    return {n for n in names if n in table.columns and bool(table[n].notna().any())}


def is_manager_owner(owner: Any) -> bool:
    """Whether an action's owner text means the account's own manager (then the data names them)."""
    texts = owner.values() if isinstance(owner, dict) else [owner]
    return any(isinstance(t, str) and any(w in t.lower() for w in MANAGER_WORDS) for t in texts)


def next_actions(rows: Iterable[Any], limit: int = MAX_NEXT_ACTIONS) -> tuple:
    """The actions due soonest (undated last, plan order on ties)."""
    ordered = sorted(enumerate(rows), key=lambda p: (p[1].due_days is None, p[1].due_days or 0, p[0]))
    return tuple(row for _, row in ordered[:limit])


def objectives(pack: RulePack, values: dict, fmt, strings) -> tuple[Objective, ...]:
    """Share of wallet up to the next threshold the rules use (at most one year's step, when the pack
    has one), and sales back to last year's level."""
    sales_name = pack.role("sales")
    sales = values.get(sales_name) if sales_name else None
    if not _number(sales) or sales <= 0:
        return ()
    found = []
    sow_name = role_name(pack, "share_of_wallet")
    sow = values.get(sow_name) if sow_name else None
    if _number(sow) and 0 < sow < 1:
        target = next((t for t in thresholds_above(pack, sow_name) if sow < t <= 1), None)
        # the pack's yearly share-of-wallet step (a param role): the objective goes that far toward the
        # next threshold, so the objective and the plan's measure name one target
        step = pack.param("sow_growth_target_points")
        if target is not None and _number(step) and step > 0:
            target = min(target, round(sow + step, 9))  # one year's step toward the next line, as the plan measures it
        if target is not None:
            spend = sales / sow
            found.append(Objective(
                sow_name, fmt.caption(sow_name), fmt.show(sow, sow_name), fmt.show(target, sow_name),
                "+" + fmt.show(spend * (target - sow), sales_name),
                strings["spend_basis"] % (fmt.show(spend, sales_name),), float(sow), float(target),
                "raise_share_of_wallet"))
    prev_name = role_name(pack, "sales_prev")
    prev = values.get(prev_name) if prev_name else None
    if _number(prev) and prev > sales:
        found.append(Objective(
            sales_name, fmt.caption(sales_name), fmt.show(sales, sales_name), fmt.show(prev, sales_name),
            "+" + fmt.show(prev - sales, sales_name), strings["recover_basis"] % (fmt.caption(prev_name),),
            float(sales), float(prev), "recover_sales"))
    return tuple(found)


# Where a dependence finding of the default pack belongs in the SWOT; any other finding is a threat.
# Being the primary supplier is a strength (the threat is the second source it invites), dual sourcing
# and a regional counterweight are growth opportunities (thesis §5.5).
SWOT_OF_FINDING = {"sow_primary": "strengths", "sow_shared": "opportunities", "sow_secondary": "opportunities",
                   "region_counterweight": "opportunities"}


def swot(context_parts: dict, strings) -> tuple[SwotRow, ...]:
    """The four SWOT quadrants, pre-filled with what the rules found: the tier's deciding reasons are
    strengths, controllable risk signals weaknesses, objectives opportunities, uncontrollable signals and
    dependence findings threats — except the findings SWOT_OF_FINDING places elsewhere."""
    tier, signals = context_parts["tier"], context_parts["signals"]
    findings = {"strengths": [], "opportunities": [], "threats": []}
    for f in context_parts["dependence"]:
        findings[SWOT_OF_FINDING.get(str(f.value), "threats")].append(
            f.text + (strings["colon"] + f.because if f.because else ""))
    strengths = tuple(r.because for r in (tier.reasons if tier else ()) if r.rule != "default" and r.because) + tuple(
        findings["strengths"])
    weaknesses = tuple(s.because or s.text for s in signals if s.cause == "controllable")
    opportunities = tuple(f"{o.label}{strings['colon']}{o.current} → {o.target} ({o.gain})"
                          for o in context_parts["objectives"]) + tuple(findings["opportunities"])
    threats = tuple(s.because or s.text for s in signals if s.cause != "controllable") + tuple(findings["threats"])
    return tuple(SwotRow(key, strings["swot_" + key], items) for key, items in (
        ("strengths", strengths), ("weaknesses", weaknesses), ("opportunities", opportunities),
        ("threats", threats)))


def contacts(manager: str | None, strings, blank_rows: int = 4) -> tuple[ContactRow, ...]:
    """Our account manager (when the data names one), then blank rows for the customer's people."""
    rows = [ContactRow(manager, strings["our_manager"], "ours", "")] if manager else []
    return tuple(rows + [ContactRow("", "", "theirs", "")] * blank_rows)


def manager_of(pack: RulePack, values: dict) -> str | None:
    name = pack.role("account_manager")
    value = values.get(name) if name else None
    return None if is_missing(value) or str(value).strip() == "" else str(value)


def text_of(value: Any, lang: str) -> str:
    return pick(value, lang) if isinstance(value, dict) else ("" if is_missing(value) else str(value))


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and not is_missing(value)
