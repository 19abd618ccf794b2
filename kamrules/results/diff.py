"""What changed between two sets of decisions: two packs on the same data, or two `evaluate` runs.

Both sides are first brought to one shape, a `Side`: one row per account (id, the identifying columns the
pack names by role, every decision output and deciding rule). `compare` then works a decision at a time
on whole columns: a from→to migration matrix (accounts and sales), the accounts that changed, and the
totals a reviewer looks at (key accounts, share of sales they cover, accounts at risk).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kamrules.errors import ConfigError
from kamrules.pack import recorded_lists
from kamrules.results.portfolio import RISK_LEVELS_LISTED

KEY_TIER = "key"  # the tier value the portfolio summary counts as a key account
WATCH = "watch"  # the risk level still watched: a risk that falls to it is improved, not resolved
LOST = "lost"  # the risk level of a customer who bought before and buys nothing now
HELD = "held"  # the tier basis of a key account held for a review before it is demoted
IDENTITY_ROLES = ("account_name", "account_manager", "region", "sales")
TOTAL_ROLES = ("tier", "risk_level", "relationship", "service_level", "tier_basis")


@dataclass
class DecisionSpec:
    id: str
    title: str
    outputs: list  # output names; the first is the one the migration matrix shows
    collect: bool = False


@dataclass
class Side:
    """One set of decisions: `frame` is indexed by account id (as text); accounts without an id (a run
    made with `--on-bad-value missing`) cannot be matched and are kept apart in `without_id`, counted
    in the totals."""

    label: str
    frame: pd.DataFrame
    decisions: list  # DecisionSpec
    roles: dict  # role -> column name in `frame` (only the roles present)
    pack: Any = None  # the RulePack when known: labels come from it
    manifest: dict = field(default_factory=dict)
    without_id: pd.DataFrame | None = None  # rows whose account_id is missing (same columns as `frame`)


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
    output: str | None = None  # the output whose values `before` and `after` are (the first that changed)


@dataclass
class Gone:
    """An account of the earlier side that the later one does not have, as it was then."""

    account_id: str
    account_name: Any
    owner: Any
    region: Any
    tier: Any  # its tier, risk level and sales in the earlier run (None: unknown)
    sales: Any
    risk_level: Any


@dataclass
class Lost:
    """A customer lost since the last review (lost now, not then), with its sales at the last review."""

    account_id: str
    account_name: Any
    owner: Any
    sales: Any  # its sales in the earlier run (None: unknown)


@dataclass
class Retire:
    """An override of the later run that the rules now agree with: ready to retire (remove the row)."""

    account_id: str
    account_name: Any
    output: str
    value: Any  # the value set by hand, which the rules now decide too
    owner: str
    reason: str
    expires: str  # YYYY-MM-DD


@dataclass
class Headline:
    """The line a reviewer reads first: key accounts then and now, the key accounts demoted or gone (no
    longer key) and what the gone accounts held of the earlier run's sales."""

    key_before: int | None  # None: a pack without a tier
    key_after: int | None
    key_gone: int  # key accounts of the earlier run that are not in the later one
    key_demoted: int  # key accounts then, in the later run but no longer key
    gone: int  # accounts of the earlier run that are not in the later one
    gone_sales: float | None  # their sales in the earlier run, all of them (None: no sales column)
    gone_share: float | None  # of the earlier run's total sales
    lost: list = field(default_factory=list)  # Lost: customers lost since the last review, largest sales first

    @property
    def key_lost(self) -> int:
        return self.key_gone + self.key_demoted


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
    risks_resolved: list = field(default_factory=list)  # at risk (or graver) then, watch-free now
    risks_improved: list = field(default_factory=list)  # at risk (or graver) then, watched or less grave now
    review_before_demotion: list = field(default_factory=list)  # Change rows: key before, not key now
    sales_changes: list = field(default_factory=list)  # (account_id, name, before, after), |change| desc
    pack: Any = None
    tier_output: str | None = None  # the names playing the roles `tier` and `risk_level`
    risk_output: str | None = None
    without_id: tuple = (0, 0)  # accounts without an id before and after: counted, not matched
    gone: list = field(default_factory=list)  # Gone, the accounts of `disappeared`, largest sales then first
    headline: Headline | None = None
    retire: list = field(default_factory=list)  # Retire: the later run's overrides the rules agree with
    lost: list = field(default_factory=list)  # Lost: lost now and not at the last review, largest sales then first
    lost_known: list = field(default_factory=list)  # (account id, name): lost at the last review and still now
    held: list = field(default_factory=list)  # (account id, name): key now on the tier basis `held`

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
    from kamrules.results.outputs import decision_frame_parts

    pack = evaluation.pack
    # One part holding every account, its text and list columns as categoricals (a value per distinct
    # cell): the comparison converts each distinct value once, not each account's.
    parts, _ = decision_frame_parts(evaluation, lang, rows=max(len(evaluation.frame), 1), coded=True)
    frame = next(parts)
    roles = {}
    for role in IDENTITY_ROLES + TOTAL_ROLES:
        name = pack.role(role)
        if name is None:
            continue
        if name not in frame.columns and name in evaluation.frame.columns:
            frame[name] = evaluation.frame[name].to_numpy()
        if name in frame.columns:
            roles[role] = name
    decisions = [DecisionSpec(d.id, pick(d.title, lang) or d.id, list(d.outputs), d.policy.lists)
                 for d in pack.decisions]
    indexed, without_id = _indexed(frame)
    return Side(label, indexed, decisions, roles, pack=pack, without_id=without_id)


def _indexed(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the rows with an account id, indexed by it as text; the rows without one)."""
    ids = frame["account_id"].astype(object)
    missing = ids.isna().to_numpy() | (ids == "").to_numpy()
    texts = ids[~missing].map(str)
    return frame[~missing].set_index(pd.Index(texts, name="id")), frame[missing].reset_index(drop=True)


def read_run(folder: Path, lang: str = "en", pack=None, kinds: dict | None = None) -> Side:
    """A Side from a `kamrules evaluate` output folder: its manifest and its decision table in any format
    kamrules writes, read with the guards of a data file (kamrules.results.run_folder). `kinds`: the
    kind of each column when the run's manifest does not record them (`--previous` lends the current
    run's); `pack` reads an Excel table's labels back as codes."""
    from kamrules.results.run_folder import read_decisions, read_manifest

    folder = Path(folder)
    manifest = read_manifest(folder, lang)
    recorded = manifest.get("roles") or {}
    sales = recorded.get("sales", "sales") or "sales"
    table = read_decisions(folder, manifest, lang, pack=pack, kinds={sales: "number", **(kinds or {})})
    frame = table.frame
    declared = manifest.get("decisions")
    order = [c[:-5] for c in frame.columns if c.endswith("_rule")]  # the pack's order (the manifest sorts)
    if declared:
        decisions = [DecisionSpec(d, d, list(declared[d].get("outputs", [])), recorded_lists(declared[d].get("hit")))
                     for d in sorted(declared, key=lambda d: (order.index(d) if d in order else len(order), d))]
    else:  # a manifest from before decisions were recorded: each decision's output named like it
        decisions = [DecisionSpec(d, d, [d] if d in frame.columns else []) for d in order]
    roles = {}
    for role in IDENTITY_ROLES + TOTAL_ROLES:
        name = recorded.get(role) or role
        if name in frame.columns:
            roles[role] = name
    indexed, without_id = _indexed(frame)
    return Side(str(folder), indexed, decisions, roles, manifest=manifest, without_id=without_id)


def adopt_pack(side: Side, pack, lang: str = "en") -> bool:
    """Give a run read from its folder the labels and titles of `pack` when the run was made by it
    (same pack hash in the manifest); returns whether it was."""
    from kamrules.pack import pick

    if pack is None or (side.manifest.get("pack") or {}).get("hash") != pack.hash:
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
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, (list, tuple)):  # as the decision table writes it; an empty list is an empty cell
        return "; ".join(str(v) for v in value) or None
    if hasattr(value, "item") and not isinstance(value, str):
        return value.item()
    return value


def _aligned(side: Side, name: str, positions: np.ndarray) -> np.ndarray:
    """Column `name` of `side` at the given row positions (-1: not there) as an object array of plain
    values: None for missing, lists joined as the decision table writes them. Vectorised: a categorical
    column (the evaluation's texts and lists) is converted once per category, others per column."""
    out = np.full(len(positions), None, dtype=object)
    if name not in side.frame.columns:
        return out
    present = positions >= 0
    taken = side.frame[name].iloc[positions[present]]
    dtype = taken.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        lookup = np.array([_cell(v) for v in dtype.categories] + [None], dtype=object)
        cells = lookup[taken.cat.codes.to_numpy()]  # code -1 (missing): the None at the end
    elif isinstance(dtype, np.dtype) and dtype.kind == "f":
        values = taken.to_numpy()
        cells = values.astype(object)
        cells[np.isnan(values)] = None
    else:  # text, pandas booleans and numbers with <NA>, lists
        cells = np.array(taken.astype(object).to_numpy().tolist() + [None], dtype=object)[:-1]
        missing = pd.isna(cells)
        cells[missing] = None
        if pd.api.types.infer_dtype(cells, skipna=True) not in ("string", "empty", "boolean", "floating", "integer",
                                                                  "mixed-integer-float"):
            joined: dict = {}  # a collect decision's lists repeat: each distinct one is joined once
            cells = np.array([joined.setdefault(tuple(v), _cell(v)) if type(v) in (list, tuple) else _cell(v)
                              for v in cells] + [None], dtype=object)[:-1]
    out[present] = cells
    return out


def _differs(old: np.ndarray, new: np.ndarray) -> np.ndarray:
    """Where two object arrays of plain values (None for missing) hold different values."""
    if not len(old):
        return np.zeros(0, dtype=bool)
    equal = np.frompyfunc(lambda a, b: a == b, 2, 1)(old, new).astype(bool)
    return ~equal


def _either(new: np.ndarray, old: np.ndarray) -> np.ndarray:
    """The newer side's value where it has one, else the older side's."""
    out = new.copy()
    empty = np.array([v is None for v in new], dtype=bool) if len(new) else np.zeros(0, dtype=bool)
    out[empty] = old[empty]
    return out


def compare(before: Side, after: Side) -> DiffResult:
    """Every difference between two Sides of the same decisions (call check_compatible first for runs).

    Worked out on whole columns aligned by account id; Change records are made only for the accounts
    that changed (a diff of 200,000 accounts used to compare every cell in Python)."""
    check_compatible(before, after)
    with _collector_paused():
        return _compare(before, after)


@contextmanager
def _collector_paused():
    """Python's cyclic garbage collector off while a diff makes its records: a million Change records
    (none of them in a cycle) made it walk the whole heap again and again, a third of the diff's time."""
    import gc

    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _compare(before: Side, after: Side) -> DiffResult:
    common = pd.Index(sorted(before.frame.index.intersection(after.frame.index, sort=False)), name="id")
    rows = (before.frame.index.get_indexer(common), after.frame.index.get_indexer(common))

    def role(side_index: int, name: str) -> np.ndarray:
        side = (before, after)[side_index]
        return _aligned(side, side.roles[name], rows[side_index]) if name in side.roles else \
            np.full(len(common), None, dtype=object)

    info = {
        "name": _either(role(1, "account_name"), role(0, "account_name")),
        "owner": _either(role(1, "account_manager"), role(0, "account_manager")),
        "region": _either(role(1, "region"), role(0, "region")),
        "sales_before": role(0, "sales"),
        "sales_after": role(1, "sales"),
    }
    weights = _numbers(_either(info["sales_after"], info["sales_before"]))
    ids = common.tolist()  # plain str: an index of Arrow strings answers one item at a time slowly
    decisions = [_decision_diff(spec, before, after, ids, rows, info, weights) for spec in after.decisions]
    result = DiffResult(before.label, after.label, decisions, _totals(before, after),
                        appeared=sorted(after.frame.index.difference(before.frame.index)),
                        disappeared=sorted(before.frame.index.difference(after.frame.index)),
                        pack=after.pack or before.pack,
                        without_id=(_unmatched(before), _unmatched(after)))
    _flag(result, after)
    _losses(result, before, after, ids, rows, info)
    result.held = _held(after)
    result.gone = _gone(before, result.disappeared)
    result.headline = _headline(result, before)
    if "sales" in before.roles and "sales" in after.roles:  # two runs; under two packs sales are equal
        moved = np.flatnonzero(_differs(info["sales_before"], info["sales_after"]))
        result.sales_changes = sorted(
            ((ids[i], info["name"][i], info["sales_before"][i], info["sales_after"][i]) for i in moved.tolist()),
            key=lambda r: (-abs((r[3] or 0.0) - (r[2] or 0.0)), r[0]))
    return result


def _numbers(values: np.ndarray) -> np.ndarray:
    """An object array of numbers and None as floats (None: 0)."""
    return np.array([0.0 if v is None else float(v) for v in values], dtype=float) if len(values) else np.zeros(0)


def _unmatched(side: Side) -> int:
    return 0 if side.without_id is None else len(side.without_id)


def _whole(side: Side) -> pd.DataFrame:
    """Every account of a side, with an id or not (for the totals)."""
    if not _unmatched(side):
        return side.frame
    return pd.concat([side.frame.reset_index(drop=True), side.without_id], ignore_index=True)


def _decision_diff(spec: DecisionSpec, before: Side, after: Side, ids: list, rows: tuple, info: dict,
                   weights: np.ndarray) -> DecisionDiff:
    rule_old = _aligned(before, f"{spec.id}_rule", rows[0])
    rule_new = _aligned(after, f"{spec.id}_rule", rows[1])
    shown = spec.outputs[0] if spec.outputs else f"{spec.id}_rule"
    if spec.outputs:
        olds = {o: _aligned(before, o, rows[0]) for o in spec.outputs}
        news = {o: _aligned(after, o, rows[1]) for o in spec.outputs}
    else:  # nothing but the deciding rule to compare
        olds, news = {shown: rule_old}, {shown: rule_new}
    names = list(olds)
    differs = np.vstack([_differs(olds[o], news[o]) for o in names])
    changed = np.flatnonzero(differs.any(axis=0))
    # Only the changed accounts become Change records, read from plain lists (not item by item from arrays).
    flags = differs[:, changed].T.tolist()
    old_cells = {o: olds[o][changed].tolist() for o in names}
    new_cells = {o: news[o][changed].tolist() for o in names}
    picked = {key: info[key][changed].tolist() for key in info}
    rules = rule_old[changed].tolist(), rule_new[changed].tolist()
    changes = []
    for j, i in enumerate(changed.tolist()):
        differing = [o for o, flag in zip(names, flags[j]) if flag]
        first = shown if shown in differing else differing[0]
        changes.append(Change(ids[i], picked["name"][j], picked["owner"][j], picked["region"][j],
                              picked["sales_before"][j], picked["sales_after"][j], spec.id, differing,
                              old_cells[first][j], new_cells[first][j], rules[0][j], rules[1][j], first))
    changes.sort(key=lambda c: (-(c.sales_after if c.sales_after is not None else c.sales_before or 0.0),
                                c.account_id))
    # A collect decision's lists are too varied for a matrix: its changes are listed instead.
    matrix = [] if spec.collect else _matrix(olds[shown], news[shown], weights)
    return DecisionDiff(spec.id, spec.title, shown, len(changes), matrix, changes)


def _matrix(old: np.ndarray, new: np.ndarray, weights: np.ndarray) -> list:
    """Every from→to pair of values with its accounts and sales, in the order of their texts."""
    if not len(old):
        return []
    before_codes, before_values = _codes(old)
    after_codes, after_values = _codes(new)
    pairs = before_codes * len(after_values) + after_codes
    counts = np.bincount(pairs, minlength=len(before_values) * len(after_values))
    sales = np.bincount(pairs, weights=weights, minlength=len(counts))
    cells = [Migration(before_values[p // len(after_values)], after_values[p % len(after_values)], int(counts[p]),
                       float(sales[p])) for p in np.flatnonzero(counts).tolist()]
    return sorted(cells, key=lambda m: (str(m.before), str(m.after)))


def _codes(values: np.ndarray) -> tuple[np.ndarray, list]:
    """(a code per cell, the distinct values in order of first appearance, None included)."""
    codes, distinct = pd.factorize(values)  # missing: -1
    distinct = list(distinct)
    if (codes < 0).any():
        codes = np.where(codes < 0, len(distinct), codes)
        distinct.append(None)
    return codes.astype(np.int64), distinct


def _values(frame: pd.DataFrame, side: Side, role: str) -> pd.Series | None:
    name = side.roles.get(role)
    return None if name is None else frame[name]


def _totals(before: Side, after: Side) -> list:
    wholes = {id(before): _whole(before), id(after): _whole(after)}
    totals = [Total("accounts", len(wholes[id(before)]), len(wholes[id(after)]))]
    pair = []
    for side in (before, after):
        whole = wholes[id(side)]
        tier, risk, sales = (_values(whole, side, "tier"), _values(whole, side, "risk_level"),
                             _values(whole, side, "sales"))
        sales = None if sales is None else pd.to_numeric(sales, errors="coerce").fillna(0.0)
        key = None if tier is None else tier == KEY_TIER
        total_sales = None if sales is None else float(sales.sum())
        pair.append({
            "sales": total_sales,
            "key_accounts": None if key is None else int(key.sum()),
            "key_sales_share": (None if key is None or sales is None or not total_sales
                                else round(float(sales[key.to_numpy()].sum()) / total_sales, 6)),
            "at_risk": None if risk is None else int(risk.isin(RISK_LEVELS_LISTED).sum()),
        })
    for name in ("key_accounts", "key_sales_share", "at_risk", "sales"):
        if pair[0][name] is not None or pair[1][name] is not None:
            totals.append(Total(name, pair[0][name], pair[1][name]))
    return totals


def risk_movement(before: Any, after: Any) -> str | None:
    """How an account's risk level moved: `newly_at_risk` (to at risk or graver from below), `resolved`
    (from at risk or graver to a level without a watch: no signal, not assessed, none), `improved`
    (from at risk or graver to watch, or to a less grave level of the listed ones: critical → at risk),
    else None (unchanged, worse, or moves below the line such as watch → no signal)."""
    if before not in RISK_LEVELS_LISTED:
        return "newly_at_risk" if after in RISK_LEVELS_LISTED else None
    if after in RISK_LEVELS_LISTED:
        return "improved" if RISK_LEVELS_LISTED.index(after) > RISK_LEVELS_LISTED.index(before) else None
    return "improved" if after == WATCH else "resolved"


def _flag(result: DiffResult, after: Side) -> None:
    """The lists a reviewer acts on: new, resolved and improved risks, key accounts about to be demoted."""
    risk_output, tier_output = after.roles.get("risk_level"), after.roles.get("tier")
    result.risk_output, result.tier_output = risk_output, tier_output
    lists = {"newly_at_risk": result.newly_at_risk, "resolved": result.risks_resolved,
             "improved": result.risks_improved}
    for diff in result.decisions:
        for change in diff.changes:
            if risk_output in change.outputs and diff.output == risk_output:
                movement = risk_movement(change.before, change.after)
                if movement is not None:
                    lists[movement].append(change)
            if tier_output in change.outputs and diff.output == tier_output:
                if change.before == KEY_TIER and change.after != KEY_TIER:
                    result.review_before_demotion.append(change)


def _losses(result: DiffResult, before: Side, after: Side, ids: list, rows: tuple, info: dict) -> None:
    """The customers lost since the last review (risk level `lost` now and not then; without a risk level,
    sales that fell to 0), with their sales then, largest first; and those lost then and still now."""
    if "risk_level" in before.roles and "risk_level" in after.roles:
        then = _aligned(before, before.roles["risk_level"], rows[0]) == LOST
        now = _aligned(after, after.roles["risk_level"], rows[1]) == LOST
    elif "sales" in before.roles and "sales" in after.roles:
        then = np.array([v is not None and float(v) == 0 for v in info["sales_before"]], dtype=bool)
        now = np.array([v is not None and float(v) == 0 for v in info["sales_after"]], dtype=bool) & ~then
    else:
        return
    lost = [Lost(ids[i], info["name"][i], info["owner"][i],
                 None if info["sales_before"][i] is None else float(info["sales_before"][i]))
            for i in np.flatnonzero(now & ~then).tolist()]
    result.lost = sorted(lost, key=lambda x: (x.sales is None, -(x.sales or 0.0), x.account_id))
    result.lost_known = [(ids[i], info["name"][i]) for i in np.flatnonzero(now & then).tolist()]


def _held(after: Side) -> list:
    """(account id, name) of the later run's key accounts held for a review before demotion."""
    tier, basis = after.roles.get("tier"), after.roles.get("tier_basis")
    if tier is None or basis is None:
        return []
    everyone = np.arange(len(after.frame))
    held = (_aligned(after, tier, everyone) == KEY_TIER) & (_aligned(after, basis, everyone) == HELD)
    names = _aligned(after, after.roles["account_name"], everyone) if "account_name" in after.roles else \
        np.full(len(everyone), None, dtype=object)
    return [(str(after.frame.index[i]), names[i]) for i in np.flatnonzero(held).tolist()]


def _gone(before: Side, ids: list) -> list:
    """The accounts of the earlier side the later one lacks, with their name, owner, region, tier, sales
    and risk level then: the largest sales first (unknown sales last), then by id."""
    if not ids:
        return []
    positions = before.frame.index.get_indexer(pd.Index(ids, dtype=object))

    def role(name: str) -> list:
        column = before.roles.get(name)
        return _aligned(before, column, positions).tolist() if column else [None] * len(ids)

    sales = [None if v is None else float(v) for v in role("sales")]
    gone = [Gone(*row) for row in zip(ids, role("account_name"), role("account_manager"), role("region"),
                                      role("tier"), sales, role("risk_level"))]
    return sorted(gone, key=lambda g: (g.sales is None, -(g.sales or 0.0), g.account_id))


def _headline(result: DiffResult, before: Side) -> Headline:
    totals = {t.name: t for t in result.totals}
    key = totals.get("key_accounts")
    gone_sales = sum(g.sales for g in result.gone if g.sales is not None) if "sales" in before.roles else None
    earlier = totals["sales"].before if "sales" in totals else None
    share = None if gone_sales is None or not earlier else gone_sales / earlier
    return Headline(key.before if key else None, key.after if key else None,
                    sum(1 for g in result.gone if g.tier == KEY_TIER), len(result.review_before_demotion),
                    len(result.gone), gone_sales, share, result.lost)


def headline_text(headline: Headline | None, lang: str = "en", shown: int = 3) -> str:
    """"Key accounts 9 → 7: 2 key accounts demoted (no longer key); 1 customer lost since the last review:
    Acme 9 (244,982); 3 accounts gone: 29,687,512, 12.8% of last review's sales" in the reader's words (the
    DIFF catalogue), "" without a headline. Demoted key accounts are never called lost; the lost customers
    are named (the first `shown`) with their sales at the last review."""
    from kamrules.i18n import DIFF, fmt_money, fmt_pct

    if headline is None:
        return ""
    words = DIFF.get(lang, DIFF["en"])

    def counted(key: str, n: int, **more) -> str:
        one, many = words[key].split("|")
        return (one if n == 1 else many).format(n=f"{n:,}", **more)

    parts = []
    if headline.key_before is not None:
        text = words["headline_key"].format(before=f"{headline.key_before:,}", after=f"{headline.key_after:,}")
        detail = [counted("headline_key_demoted", headline.key_demoted)] if headline.key_demoted else []
        if headline.key_gone:
            detail.append(counted("headline_key_gone", headline.key_gone))
        text += words["headline_changes"].format(detail=words["headline_sep"].join(detail)) if detail \
            else words["headline_none_lost"]
        parts.append(text)
    if headline.lost:
        names = words["headline_sep"].join(
            words["headline_lost_one"].format(name=str(x.account_name or x.account_id),
                                              money="—" if x.sales is None else fmt_money(x.sales, lang, wan=False))
            for x in headline.lost[:shown]) + (" …" if len(headline.lost) > shown else "")
        parts.append(counted("headline_lost_customers", len(headline.lost), names=names))
    if headline.gone:
        text = counted("headline_gone", headline.gone)
        if headline.gone_sales is not None:
            money = fmt_money(headline.gone_sales, lang, wan=False)
            text += (words["headline_money_share"].format(money=money, share=fmt_pct(headline.gone_share, 1, lang))
                     if headline.gone_share is not None else words["headline_money"].format(money=money))
        parts.append(text)
    elif parts:
        parts.append(words["headline_none_gone"])
    return words["headline_join"].join(parts)


# --------------------------------------------------------------------------------------- output


CSV_COLUMNS = ["account_id", "account_name", "account_manager", "region", "sales_before", "sales_after",
               "decision", "changed_outputs", "before", "after", "rule_before", "rule_after",
               "flag", "previous_tier", "previous_risk_level"]
# `flag`: what a reviewer acts on, one per row (docs/diff.md)
FLAGS = ("gone", "review_before_demotion", "newly_at_risk", "risk_resolved", "risk_improved")


def diff_frame(result: DiffResult) -> pd.DataFrame:
    """diff.csv: one row per changed account and decision, in decision order then sales descending; then
    the accounts gone (decision `account`, present → absent), named with their owner, region, and their
    tier, sales and risk level in the earlier run, largest sales first; then those that appeared."""
    gone = result.gone or [Gone(a, None, None, None, None, None, None) for a in result.disappeared]
    parts = (_change_rows(result), _gone_rows(gone), _appeared_rows(result.appeared))
    # built a column at a time: a million changes are a million rows
    frame = pd.DataFrame({name: pd.Series([v for part in parts for v in part[name]], dtype=object)
                          for name in CSV_COLUMNS})
    for name in ("sales_before", "sales_after"):
        frame[name] = pd.to_numeric(frame[name], errors="coerce")
    return frame


def _change_rows(result: DiffResult) -> dict[str, list]:
    """diff.csv's columns for the changed accounts, one row per account and decision, with the flag a
    reviewer acts on."""
    changes = [c for diff in result.decisions for c in diff.changes]
    flags = {id(c): flag for flag, rows in (("review_before_demotion", result.review_before_demotion),
                                            ("newly_at_risk", result.newly_at_risk),
                                            ("risk_resolved", result.risks_resolved),
                                            ("risk_improved", result.risks_improved)) for c in rows}
    none = [None] * len(changes)
    return {
        "account_id": [c.account_id for c in changes], "account_name": [c.account_name for c in changes],
        "account_manager": [c.owner for c in changes], "region": [c.region for c in changes],
        "sales_before": [c.sales_before for c in changes], "sales_after": [c.sales_after for c in changes],
        "decision": [c.decision for c in changes], "changed_outputs": ["; ".join(c.outputs) for c in changes],
        "before": [c.before for c in changes], "after": [c.after for c in changes],
        "rule_before": [c.rule_before for c in changes], "rule_after": [c.rule_after for c in changes],
        "flag": [flags.get(id(c)) for c in changes], "previous_tier": none, "previous_risk_level": none,
    }


def _gone_rows(gone: list) -> dict[str, list]:
    """diff.csv's columns for the accounts gone: present before, absent now, with what they were."""
    none = [None] * len(gone)
    return {
        "account_id": [g.account_id for g in gone], "account_name": [g.account_name for g in gone],
        "account_manager": [g.owner for g in gone], "region": [g.region for g in gone],
        "sales_before": [g.sales for g in gone], "sales_after": none, "decision": ["account"] * len(gone),
        "changed_outputs": [""] * len(gone), "before": ["present"] * len(gone), "after": ["absent"] * len(gone),
        "rule_before": none, "rule_after": none, "flag": ["gone"] * len(gone),
        "previous_tier": [g.tier for g in gone], "previous_risk_level": [g.risk_level for g in gone],
    }


def _appeared_rows(appeared: list) -> dict[str, list]:
    """diff.csv's columns for the accounts that appeared: absent before, present now."""
    none = [None] * len(appeared)
    return {name: none for name in CSV_COLUMNS} | {
        "account_id": list(appeared), "decision": ["account"] * len(appeared),
        "changed_outputs": [""] * len(appeared), "before": ["absent"] * len(appeared),
        "after": ["present"] * len(appeared)}


def _shown(result: DiffResult, name: str, value: Any, lang: str) -> str:
    if value is None:
        return "—"
    return result.pack.label(name, value, lang) if result.pack is not None else str(value)


def _output_name(result: DiffResult, name: str, lang: str) -> str:
    """An output's name as the pack labels it ("Tier"), else the name."""
    return result.pack.name_label(name, lang) if result.pack is not None else name


def _total_label(name: str, lang: str) -> str:
    """A total's name in the reader's words, as diff.html shows it (the DIFF catalogue)."""
    from kamrules.i18n import DIFF

    words = DIFF.get(lang, DIFF["en"])
    return words.get({"sales": "total_sales", "accounts": "total_accounts"}.get(name, name), name)


def without_id_notes(result: DiffResult, lang: str = "en") -> list[str]:
    """Warnings for the accounts a side has without an id: counted in the totals, never matched."""
    from kamrules.data.wording import say

    return [say(lang, "warning", message=say(lang, "run_without_id", folder=label, n=count))
            for label, count in zip((result.before, result.after), result.without_id) if count]


def flag_lines(result: DiffResult, lang: str = "en", limit: int = 10) -> list[str]:
    """The console's lists a reviewer acts on, `limit` accounts each (diff.csv has them all): key accounts
    to review before demotion, newly at risk, risks resolved, risks improved, the accounts gone (with
    their tier, sales and risk level then, largest sales first) and those that appeared."""
    from kamrules.i18n import DIFF, fmt_money

    words = DIFF.get(lang, DIFF["en"])
    colon, more = words["c_colon"], " …"
    lines = []
    lost = {x.account_id for x in result.lost}
    lines += _lost_lines(result, words, lang, limit)
    def pairs(changes: list) -> list:
        return [(c.account_id, c.account_name) for c in changes]

    named = (("c_lost_known", result.lost_known), ("c_demotion", pairs(result.review_before_demotion)),
             ("c_held", result.held), ("c_new_risk", pairs([c for c in result.newly_at_risk if c.account_id not in lost])),
             ("c_resolved", pairs(result.risks_resolved)), ("c_improved", pairs(result.risks_improved)))
    for key, rows in named:
        if rows:
            shown = ", ".join(f"{account} {name or ''}".strip() for account, name in rows[:limit])
            lines.append(f"{words[key]} ({len(rows):,}){colon}{shown}{more if len(rows) > limit else ''}")
    if result.gone:
        def gone(g: Gone) -> str:
            then = words["c_then_sep"].join((_shown(result, result.tier_output or "tier", g.tier, lang),
                                             "—" if g.sales is None else fmt_money(g.sales, lang, wan=False),
                                             _shown(result, result.risk_output or "risk_level", g.risk_level, lang)))
            return f"{g.account_id} {g.account_name or ''}".strip() + words["c_then"].format(then=then)

        shown = words["c_gone_sep"].join(gone(g) for g in result.gone[:limit])
        lines.append(f"{words['c_gone']} ({len(result.gone):,}){colon}{shown}{more if len(result.gone) > limit else ''}")
    elif result.disappeared:
        shown = ", ".join(result.disappeared[:limit])
        lines.append(f"{words['c_gone']} ({len(result.disappeared):,}){colon}{shown}"
                     f"{more if len(result.disappeared) > limit else ''}")
    if result.appeared:
        shown = ", ".join(result.appeared[:limit])
        lines.append(f"{words['c_appeared']} ({len(result.appeared):,}){colon}{shown}"
                     f"{more if len(result.appeared) > limit else ''}")
    return lines + _retire_lines(result, words, lang, limit)


def _lost_lines(result: DiffResult, words: dict, lang: str, limit: int) -> list[str]:
    """The customers lost since the last review, named with their sales then, the largest first."""
    from kamrules.i18n import fmt_money

    if not result.lost:
        return []
    shown = words["c_gone_sep"].join(
        f"{x.account_id} {x.account_name or ''}".strip()
        + words["c_then"].format(then="—" if x.sales is None else fmt_money(x.sales, lang, wan=False))
        for x in result.lost[:limit])
    return [f"{words['c_lost']} ({len(result.lost):,}){words['c_colon']}{shown}"
            f"{' …' if len(result.lost) > limit else ''}"]


def _retire_lines(result: DiffResult, words: dict, lang: str, limit: int) -> list[str]:
    """The overrides ready to retire: the account, the output and value set, the owner."""
    if not result.retire:
        return []
    colon = words["c_colon"]
    shown = words["c_gone_sep"].join(
        f"{r.account_id} {r.account_name or ''}".strip() + words["c_then"].format(
            then=words["c_then_sep"].join((f"{_output_name(result, r.output, lang)}{colon}"
                                            f"{_shown(result, r.output, r.value, lang)}", r.owner)))
        for r in result.retire[:limit])
    return [f"{words['c_retire']} ({len(result.retire):,}){colon}{shown}{' …' if len(result.retire) > limit else ''}"]


def print_since(result: DiffResult, previous: str, lang: str = "en", limit: int = 10) -> None:
    """`evaluate --previous`: the console's "since the last review" lines — the headline, then the lists
    a reviewer acts on (`flag_lines`); the report and `kamrules diff` have the rest."""
    from kamrules.i18n import SINCE_WORDS

    from kamrules.results.summary import text_console

    console = text_console()
    words = SINCE_WORDS.get(lang, SINCE_WORDS["en"])
    console.print(f"{words['title']}{'（' if lang == 'zh' else ' ('}{previous}{'）' if lang == 'zh' else ')'}")
    headline = headline_text(result.headline, lang)
    for line in ([headline] if headline else []) + flag_lines(result, lang, limit):
        console.print(line)


def print_diff(result: DiffResult, lang: str = "en", out: Any = None, limit: int = 10) -> None:
    """The console summary of a diff as rich tables (diff.html and diff.csv have everything)."""
    from kamrules.results.summary import text_console

    console = text_console()
    zh = lang == "zh"
    console.print(f"{'对比' if zh else 'Comparing'} {result.before} → {result.after}")
    console.print(_totals_table(result, lang))
    headline = headline_text(result.headline, lang)
    if headline:
        console.print(headline)
    has_sales = any(t.name == "sales" for t in result.totals)
    for diff in result.decisions:
        _print_decision(console, result, diff, lang, has_sales)
    _print_accounts(console, result, lang, limit)
    for note in without_id_notes(result, lang):
        console.print(note)
    if out is not None:
        console.print(f"{'结果已写入' if zh else 'Written to'} {out}/ (diff.csv, diff.html)")


def _totals_table(result: DiffResult, lang: str):
    """The totals before and after, one row each."""
    from rich.table import Table

    totals = Table(show_edge=False)
    for title in (("指标", "之前", "之后") if lang == "zh" else ("measure", "before", "after")):
        totals.add_column(title, justify="left" if title in ("measure", "指标") else "right")
    for total in result.totals:
        show = (lambda v: "—" if v is None else (f"{v * 100:.1f}%" if total.name == "key_sales_share"
                                                 else f"{v:,.2f}" if isinstance(v, float) else f"{v:,}"))
        totals.add_row(_total_label(total.name, lang), show(total.before), show(total.after))
    return totals


def _print_decision(console, result: DiffResult, diff, lang: str, has_sales: bool) -> None:
    """A decision's changes: 'unchanged', or how many accounts moved from which outcome to which."""
    from rich.table import Table

    zh = lang == "zh"
    if not diff.changed:
        console.print(f"{diff.title}: {'无变化' if zh else 'unchanged'}")
        return
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


def _print_accounts(console, result: DiffResult, lang: str, limit: int) -> None:
    """The lists a reviewer acts on (`flag_lines`: the first `limit` of each), and how many accounts'
    sales changed."""
    zh = lang == "zh"
    for line in flag_lines(result, lang, limit):
        console.print(line)
    if result.sales_changes:
        console.print(f"{'销售额变化的客户' if zh else 'accounts whose sales changed'}: {len(result.sales_changes):,}")
