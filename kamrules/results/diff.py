"""What changed between two sets of decisions: two packs on the same data, or two `evaluate` runs.

Both sides are first brought to one shape, a `Side`: one row per account (id, the identifying columns the
pack names by role, every decision output and deciding rule). `compare` then works a decision at a time
on whole columns: a from→to migration matrix (accounts and sales), the accounts that changed, and the
totals a reviewer looks at (key accounts, share of sales they cover, accounts at risk).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from kamrules.errors import ConfigError
from kamrules.results.outputs import read_manifest
from kamrules.results.portfolio import RISK_LEVELS_LISTED

KEY_TIER = "key"  # the tier value the portfolio summary counts as a key account
IDENTITY_ROLES = ("account_name", "account_manager", "region", "sales")
TOTAL_ROLES = ("tier", "risk_level", "relationship", "service_level")


@dataclass
class DecisionSpec:
    id: str
    title: str
    outputs: list  # output names; the first is the one the migration matrix shows
    collect: bool = False


@dataclass
class Side:
    """One set of decisions: `frame` is indexed by account id (as text)."""

    label: str
    frame: pd.DataFrame
    decisions: list  # DecisionSpec
    roles: dict  # role -> column name in `frame` (only the roles present)
    pack: Any = None  # the RulePack when known: labels come from it
    manifest: dict = field(default_factory=dict)


@dataclass
class Change:
    account_id: str
    account_name: Any
    owner: Any
    region: Any
    sales_before: Any
    sales_after: Any
    decision: str
    outputs: list  # names of the outputs that changed
    before: Any  # value of the decision's first output (or of the first changed one)
    after: Any
    rule_before: Any
    rule_after: Any


@dataclass
class Migration:
    before: Any
    after: Any
    accounts: int
    sales: float


@dataclass
class DecisionDiff:
    decision: str
    title: str
    output: str
    changed: int
    matrix: list  # Migration, every from→to pair including unchanged ones
    changes: list  # Change, sales descending


@dataclass
class Total:
    name: str  # key_accounts, key_sales_share, at_risk, accounts, sales
    before: Any
    after: Any


@dataclass
class DiffResult:
    before: str
    after: str
    decisions: list  # DecisionDiff in pack order
    totals: list  # Total
    appeared: list = field(default_factory=list)  # account ids only in `after`
    disappeared: list = field(default_factory=list)  # account ids only in `before`
    newly_at_risk: list = field(default_factory=list)  # Change rows of the risk decision
    risks_resolved: list = field(default_factory=list)
    review_before_demotion: list = field(default_factory=list)  # Change rows: key before, not key now
    sales_changes: list = field(default_factory=list)  # (account_id, name, before, after), |change| desc
    pack: Any = None
    tier_output: str | None = None  # the names playing the roles `tier` and `risk_level`
    risk_output: str | None = None

    @property
    def changed(self) -> int:
        return sum(d.changed for d in self.decisions)

    @property
    def empty(self) -> bool:
        return not (self.changed or self.appeared or self.disappeared or self.sales_changes)


# --------------------------------------------------------------------------------------- sides


def side_from_evaluation(evaluation, label: str, lang: str = "en") -> Side:
    """A Side from an Evaluation (see kamrules.engine.evaluation)."""
    from kamrules.pack import pick
    from kamrules.results.outputs import decision_frame

    pack = evaluation.pack
    frame, _ = decision_frame(evaluation, lang)
    roles = {}
    for role in IDENTITY_ROLES + TOTAL_ROLES:
        name = pack.role(role)
        if name is None:
            continue
        if name not in frame.columns and name in evaluation.table.columns:
            frame[name] = evaluation.table[name].to_numpy()
        if name in frame.columns:
            roles[role] = name
    decisions = [DecisionSpec(d.id, pick(d.title, lang) or d.id, list(d.outputs), d.policy.lists)
                 for d in pack.decisions]
    return Side(label, _indexed(frame), decisions, roles, pack=pack)


def _lists(hit: Any) -> bool:
    """Whether a hit policy recorded in a manifest gives lists (an unknown one: no)."""
    from kamrules.pack import POLICIES

    return isinstance(hit, str) and hit in POLICIES and POLICIES[hit].lists


def _indexed(frame: pd.DataFrame) -> pd.DataFrame:
    ids = frame["account_id"].astype(object).map(lambda v: "" if v is None or v != v else str(v))
    return frame.set_index(pd.Index(ids, name="id"))


def read_run(folder: Path) -> Side:
    """A Side from a `kamrules evaluate` output folder (its manifest.json and decisions.csv)."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    table = folder / "decisions.csv"
    if not table.is_file():
        raise ConfigError(f"{folder}: no decisions.csv; compare runs made with `kamrules evaluate --format csv`")
    frame = pd.read_csv(table, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    frame = frame.astype(object).where(frame != "", None)
    if "account_id" not in frame.columns:
        raise ConfigError(f"{table}: no account_id column; re-run `kamrules evaluate`")
    declared = manifest.get("decisions")
    order = [c[:-5] for c in frame.columns if c.endswith("_rule")]  # the pack's order (the manifest sorts)
    if declared:
        decisions = [DecisionSpec(d, d, list(declared[d].get("outputs", [])), _lists(declared[d].get("hit")))
                     for d in sorted(declared, key=lambda d: (order.index(d) if d in order else len(order), d))]
    else:  # a manifest from before decisions were recorded: each decision's output named like it
        decisions = [DecisionSpec(d, d, [d] if d in frame.columns else []) for d in order]
    recorded = manifest.get("roles") or {}
    roles = {}
    for role in IDENTITY_ROLES + TOTAL_ROLES:
        name = recorded.get(role, role)
        if name in frame.columns:
            roles[role] = name
    if "sales" in roles:
        frame[roles["sales"]] = pd.to_numeric(frame[roles["sales"]], errors="coerce")
    return Side(str(folder), _indexed(frame), decisions, roles, manifest=manifest)


def adopt_pack(side: Side, pack, lang: str = "en") -> bool:
    """Give a run read from its folder the labels and titles of `pack` when the run was made by it
    (same pack hash in the manifest); returns whether it was."""
    from kamrules.pack import pick

    if pack is None or side.manifest.get("pack", {}).get("hash") != pack.hash:
        return False
    side.pack = pack
    titles = {d.id: pick(d.title, lang) or d.id for d in pack.decisions}
    for spec in side.decisions:
        spec.title = titles.get(spec.id, spec.title)
    return True


def check_compatible(before: Side, after: Side) -> None:
    """Refuse to compare runs whose packs decide different things, saying what differs."""
    old = {d.id: d.outputs for d in before.decisions}
    new = {d.id: d.outputs for d in after.decisions}
    problems = []
    for decision in sorted(set(old) | set(new)):
        if decision not in new:
            problems.append(f"decision '{decision}' is only in {before.label}")
        elif decision not in old:
            problems.append(f"decision '{decision}' is only in {after.label}")
        elif old[decision] != new[decision]:
            problems.append(f"decision '{decision}' has outputs {', '.join(old[decision]) or '(none)'} in "
                            f"{before.label} but {', '.join(new[decision]) or '(none)'} in {after.label}")
    if problems:
        raise ConfigError(
            f"cannot compare {before.label} with {after.label}: their rule packs decide different things\n  "
            + "\n  ".join(problems)
            + "\nre-run both with the same pack (kamrules evaluate --rules FOLDER), or compare the packs "
              "on one data file with `kamrules diff --rules OLD --rules NEW DATA`")


# --------------------------------------------------------------------------------------- compare


def _cell(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if hasattr(value, "item") and not isinstance(value, str):
        return value.item()
    return value


def _column(side: Side, name: str, ids: pd.Index) -> list:
    if name not in side.frame.columns:
        return [None] * len(ids)
    return [_cell(v) for v in side.frame[name].reindex(ids).tolist()]


def _role_column(before: Side, after: Side, role: str, ids: pd.Index) -> list:
    """An identifying column, from the newer side when it has it, else from the older one."""
    new = _column(after, after.roles[role], ids) if role in after.roles else [None] * len(ids)
    old = _column(before, before.roles[role], ids) if role in before.roles else [None] * len(ids)
    return [n if n is not None else o for n, o in zip(new, old)]


def compare(before: Side, after: Side) -> DiffResult:
    """Every difference between two Sides of the same decisions (call check_compatible first for runs)."""
    check_compatible(before, after)
    common = before.frame.index.intersection(after.frame.index, sort=False)
    common = pd.Index(sorted(common), name="id")
    info = {
        "name": _role_column(before, after, "account_name", common) if _has(before, after, "account_name") else [None] * len(common),
        "owner": _role_column(before, after, "account_manager", common) if _has(before, after, "account_manager") else [None] * len(common),
        "region": _role_column(before, after, "region", common) if _has(before, after, "region") else [None] * len(common),
        "sales_before": _column(before, before.roles["sales"], common) if "sales" in before.roles else [None] * len(common),
        "sales_after": _column(after, after.roles["sales"], common) if "sales" in after.roles else [None] * len(common),
    }
    weights = [a if a is not None else (b or 0.0) for a, b in zip(info["sales_after"], info["sales_before"])]
    decisions = [_decision_diff(spec, before, after, common, info, weights) for spec in after.decisions]
    result = DiffResult(before.label, after.label, decisions, _totals(before, after),
                        appeared=sorted(after.frame.index.difference(before.frame.index)),
                        disappeared=sorted(before.frame.index.difference(after.frame.index)),
                        pack=after.pack or before.pack)
    _flag(result, after)
    if "sales" in before.roles and "sales" in after.roles:  # two runs; under two packs sales are equal
        result.sales_changes = sorted(
            ((i, n, b, a) for i, n, b, a in zip(common, info["name"], info["sales_before"], info["sales_after"])
             if b != a), key=lambda r: (-abs((r[3] or 0.0) - (r[2] or 0.0)), r[0]))
    return result


def _has(before: Side, after: Side, role: str) -> bool:
    return role in before.roles or role in after.roles


def _decision_diff(spec: DecisionSpec, before: Side, after: Side, common: pd.Index, info: dict,
                   weights: list) -> DecisionDiff:
    olds = {o: _column(before, o, common) for o in spec.outputs}
    news = {o: _column(after, o, common) for o in spec.outputs}
    rule_old, rule_new = _column(before, f"{spec.id}_rule", common), _column(after, f"{spec.id}_rule", common)
    shown = spec.outputs[0] if spec.outputs else f"{spec.id}_rule"
    if not spec.outputs:  # nothing but the deciding rule to compare
        olds, news = {shown: rule_old}, {shown: rule_new}
    cells: dict = {}
    changes = []
    for i, account in enumerate(common):
        key = (olds[shown][i], news[shown][i])
        count, sales = cells.get(key, (0, 0.0))
        cells[key] = (count + 1, sales + float(weights[i] or 0.0))
        differing = [o for o in olds if olds[o][i] != news[o][i]]
        if not differing:
            continue
        first = shown if shown in differing else differing[0]
        changes.append(Change(account, info["name"][i], info["owner"][i], info["region"][i],
                              info["sales_before"][i], info["sales_after"][i], spec.id, differing,
                              olds[first][i], news[first][i], rule_old[i], rule_new[i]))
    changes.sort(key=lambda c: (-(c.sales_after if c.sales_after is not None else c.sales_before or 0.0),
                                c.account_id))
    # A collect decision's lists are too varied for a matrix: its changes are listed instead.
    matrix = [] if spec.collect else [Migration(b, a, n, s) for (b, a), (n, s) in
                                      sorted(cells.items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1])))]
    return DecisionDiff(spec.id, spec.title, shown, len(changes), matrix, changes)


def _values(side: Side, role: str) -> pd.Series | None:
    name = side.roles.get(role)
    return None if name is None else side.frame[name]


def _totals(before: Side, after: Side) -> list:
    totals = [Total("accounts", len(before.frame), len(after.frame))]
    pair = []
    for side in (before, after):
        tier, risk, sales = _values(side, "tier"), _values(side, "risk_level"), _values(side, "sales")
        sales = None if sales is None else pd.to_numeric(sales, errors="coerce").fillna(0.0)
        key = None if tier is None else tier == KEY_TIER
        total_sales = None if sales is None else float(sales.sum())
        pair.append({
            "sales": total_sales,
            "key_accounts": None if key is None else int(key.sum()),
            "key_sales_share": (None if key is None or not total_sales
                                else round(float(sales[key.to_numpy()].sum()) / total_sales, 6)),
            "at_risk": None if risk is None else int(risk.isin(RISK_LEVELS_LISTED).sum()),
        })
    for name in ("key_accounts", "key_sales_share", "at_risk", "sales"):
        if pair[0][name] is not None or pair[1][name] is not None:
            totals.append(Total(name, pair[0][name], pair[1][name]))
    return totals


def _flag(result: DiffResult, after: Side) -> None:
    """The lists a reviewer acts on: new and resolved risks, key accounts about to be demoted."""
    risk_output, tier_output = after.roles.get("risk_level"), after.roles.get("tier")
    result.risk_output, result.tier_output = risk_output, tier_output
    for diff in result.decisions:
        for change in diff.changes:
            if risk_output in change.outputs and diff.output == risk_output:
                if change.before not in RISK_LEVELS_LISTED and change.after in RISK_LEVELS_LISTED:
                    result.newly_at_risk.append(change)
                elif change.before in RISK_LEVELS_LISTED and change.after not in RISK_LEVELS_LISTED:
                    result.risks_resolved.append(change)
            if tier_output in change.outputs and diff.output == tier_output:
                if change.before == KEY_TIER and change.after != KEY_TIER:
                    result.review_before_demotion.append(change)


# --------------------------------------------------------------------------------------- output


CSV_COLUMNS = ["account_id", "account_name", "account_manager", "region", "sales_before", "sales_after",
               "decision", "changed_outputs", "before", "after", "rule_before", "rule_after"]


def diff_frame(result: DiffResult) -> pd.DataFrame:
    """diff.csv: one row per changed account and decision (appeared / disappeared accounts as
    decision `account`), in decision order then sales descending."""
    rows = []
    for diff in result.decisions:
        for c in diff.changes:
            rows.append([c.account_id, c.account_name, c.owner, c.region, c.sales_before, c.sales_after,
                         c.decision, "; ".join(c.outputs), c.before, c.after, c.rule_before, c.rule_after])
    for account in result.disappeared:
        rows.append([account, None, None, None, None, None, "account", "", "present", "absent", None, None])
    for account in result.appeared:
        rows.append([account, None, None, None, None, None, "account", "", "absent", "present", None, None])
    frame = pd.DataFrame(rows, columns=CSV_COLUMNS)
    for name in ("sales_before", "sales_after"):
        frame[name] = pd.to_numeric(frame[name], errors="coerce")
    return frame


def _shown(result: DiffResult, name: str, value: Any, lang: str) -> str:
    if value is None:
        return "—"
    return result.pack.label(name, value, lang) if result.pack is not None else str(value)


def _total_label(name: str, lang: str) -> str:
    """A total's name in the reader's words, as diff.html shows it (the DIFF catalogue)."""
    from kamrules.i18n import DIFF

    words = DIFF.get(lang, DIFF["en"])
    return words.get({"sales": "total_sales", "accounts": "total_accounts"}.get(name, name), name)


def print_diff(result: DiffResult, lang: str = "en", out: Any = None, limit: int = 10) -> None:
    """The console summary of a diff as rich tables (diff.html and diff.csv have everything)."""
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    zh = lang == "zh"
    has_sales = any(t.name == "sales" for t in result.totals)
    console.print(f"{'对比' if zh else 'Comparing'} {result.before} → {result.after}")
    totals = Table(show_edge=False)
    for title in (("指标", "之前", "之后") if zh else ("measure", "before", "after")):
        totals.add_column(title, justify="left" if title in ("measure", "指标") else "right")
    for total in result.totals:
        show = (lambda v: "—" if v is None else (f"{v * 100:.1f}%" if total.name == "key_sales_share"
                                                 else f"{v:,.2f}" if isinstance(v, float) else f"{v:,}"))
        totals.add_row(_total_label(total.name, lang), show(total.before), show(total.after))
    console.print(totals)
    for diff in result.decisions:
        if not diff.changed:
            console.print(f"{diff.title}: {'无变化' if zh else 'unchanged'}")
            continue
        moved = sum(m.accounts for m in diff.matrix if m.before != m.after)
        note = "" if not diff.matrix or moved == diff.changed else (
            f"（其中 {moved} 个 {diff.output} 变化）" if zh else f" ({moved} of them in {diff.output})")
        table = Table(title=f"{diff.title}: {diff.changed} {'个客户变化' if zh else 'accounts changed'}{note}",
                      title_justify="left", show_edge=False)
        for title in (("之前", "之后", "客户数", "销售额") if zh else ("before", "after", "accounts", "sales")):
            table.add_column(title, justify="right" if title in ("accounts", "sales", "客户数", "销售额") else "left")
        for cell in diff.matrix:
            if cell.before != cell.after:
                table.add_row(_shown(result, diff.output, cell.before, lang), _shown(result, diff.output, cell.after, lang),
                              f"{cell.accounts:,}", f"{cell.sales:,.0f}" if has_sales else "—")
        if diff.matrix and table.row_count:
            console.print(table)
        elif not diff.matrix:
            console.print(table.title)
    for title, rows in (("review before demotion" if not zh else "降级前需复核", result.review_before_demotion),
                        ("newly at risk" if not zh else "新增风险", result.newly_at_risk),
                        ("risks resolved" if not zh else "风险解除", result.risks_resolved)):
        if rows:
            shown = ", ".join(f"{c.account_id} {c.account_name or ''}".strip() for c in rows[:limit])
            console.print(f"{title} ({len(rows)}): {shown}{' …' if len(rows) > limit else ''}")
    for title, ids in (("appeared" if not zh else "新出现", result.appeared),
                       ("disappeared" if not zh else "消失", result.disappeared)):
        if ids:
            console.print(f"{title} ({len(ids)}): {', '.join(ids[:limit])}{' …' if len(ids) > limit else ''}")
    if result.sales_changes:
        console.print(f"{'销售额变化的客户' if zh else 'accounts whose sales changed'}: {len(result.sales_changes):,}")
    if out is not None:
        console.print(f"{'结果已写入' if zh else 'Written to'} {out}/ (diff.csv, diff.html)")
