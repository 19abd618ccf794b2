"""The render stage's whole-column fast paths give what the cell-by-cell code they replace gave.

Each test compares a fast path with a straightforward reference (the former per-account loop, kept
here) on tricky inputs: missing values of every kind, kinds a hash merges (True, 1, 1.0), -0.0,
infinities, non-ASCII and invisible characters, shared and unhashable cells, empty and one-row columns.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kamrules.results.distinct import PLAIN, TEXT, WHOLE, distinct, each

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ROOT / "tests" / "projects" / "playbook"
AS_OF = dt.date(2026, 11, 27)
FAST = settings(max_examples=300, deadline=None, database=None)
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # infinite sales, in measures

SHARED = [1.0, 2.0]  # one list object in many cells, as a collect output's shared lists
CELLS = st.one_of(
    st.none(), st.just(float("nan")), st.just(np.float64("nan")), st.booleans(), st.integers(-2, 2),
    st.sampled_from([0.0, -0.0, 1.0, 2.5, math.inf, -math.inf]), st.just(np.int64(1)), st.just(np.str_("key")),
    st.sampled_from(["key", "potential", "", " ", "Key", "华东", " 华东 ", "none", "watch", "not_assessed"]),
    st.sampled_from([Decimal("1"), Decimal("1.0")]), st.just(pd.Timestamp("2026-11-27")))


def _described(values) -> list:
    return [(type(v).__name__, repr(v)) for v in values]


# ---------------------------------------------------------------------------------- distinct.each


@FAST
@given(st.lists(CELLS, max_size=14))
def test_each_maps_like_a_list_comprehension(values):
    for exact in (TEXT, WHOLE):  # exact for any function of the cell, str() included
        assert _described(each(values, lambda v: (type(v), repr(v)), exact)) == \
            _described([(type(v), repr(v)) for v in values])
    compare = lambda v: (v is None, v in (None, "none", "watch"), isinstance(v, (int, float)) and v <= 1)
    assert each(values, compare, PLAIN).tolist() == [compare(v) for v in values]


@FAST
@given(st.lists(st.one_of(CELLS, st.just(SHARED), st.lists(st.integers(0, 40), max_size=3)), max_size=10))
def test_each_groups_unhashable_cells_by_identity(values):
    assert each(values, lambda v: repr(v)).tolist() == [repr(v) for v in values]
    codes, firsts = distinct(values)
    firsts = [firsts[c] for c in codes.tolist()]
    if any(isinstance(v, list) for v in values):  # a hash cannot take them: the same object, or its own code
        assert all(first is v for first, v in zip(firsts, values))
    assert _described(firsts) == _described(values)


def test_each_on_empty_and_one_cell():
    assert each([], str).tolist() == [] and each(["a"], str).tolist() == ["a"]
    assert each(np.array([None], dtype=object), lambda v: v is None).tolist() == [True]


# ------------------------------------------------------------------------------- look-alike ids

_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\\s]")


def reference_lookalikes(frame: pd.DataFrame) -> list:
    """The groups of look-alike ids as the per-id code found them: (position, id) lists, sorted by key."""
    ids = frame["account_id"]
    keys = ids.map(lambda v: _INVISIBLE.sub("", unicodedata.normalize("NFKC", v)).casefold()
                   if isinstance(v, str) else v)
    clash = keys.duplicated(keep=False) & ~ids.duplicated(keep=False) & ids.notna()
    return [list(group.items()) for _, group in ids[clash].groupby(keys[clash], sort=True)]


ID_PARTS = st.sampled_from(["a", "A", "b", "1", " ", "\t", "\x1c", "\x1f", "\x0b", "\u00a0", "\u200b", "\ufeff",
                            "Ａ", "ａ", "ß", "SS", "ss", "é", "e\u0301", "Σ", "ς", "İ", "\u3000", "x", "-"])
IDS = st.one_of(st.none(), st.just(float("nan")), st.lists(ID_PARTS, max_size=4).map("".join))


@FAST
@given(st.lists(IDS, max_size=12), st.booleans())
def test_lookalike_ids_found_on_whole_columns_as_one_by_one(ids, numbers_too):
    from kamrules.data.guards import suspicious_values

    if numbers_too:  # anything but text and missing values: the cell-by-cell path
        ids = [*ids, 7, 7.5]
    frame = pd.DataFrame({"account_id": pd.Series(ids, dtype=object), "sales": 1.0})
    rows = list(range(2, len(ids) + 2))
    warnings = suspicious_values(frame, rows, "sales")
    assert len(warnings) == len(reference_lookalikes(frame))
    for warning, group in zip(warnings, reference_lookalikes(frame)):
        for position, value in group[:5]:
            assert f"{value!r} (row {position + 2})" in warning


def test_lookalike_ids_of_a_large_ascii_column_with_a_few_others():
    from kamrules.data.guards import suspicious_values

    ids = [f"C{i:05d}" for i in range(5000)] + ["c00007", "C 00008", "Ｃ00009", "C0001\u200b0", "c\x1c00011", None]
    frame = pd.DataFrame({"account_id": pd.Series(ids, dtype=object), "sales": 1.0})
    warnings = suspicious_values(frame, list(range(2, len(ids) + 2)), "sales")
    assert len(warnings) == len(reference_lookalikes(frame)) == 5
    assert "'C00007' (row 9) and 'c00007' (row 5002)" in warnings[0]


# ------------------------------------------------------------------------------ profile categories


def reference_codes(column: pd.Series) -> tuple[list, list]:
    values = column.astype(object).where(column.notna(), None)
    text = values.map(lambda v: None if v is None or v != v or str(v).strip() == "" else
                      ("true" if v is True else "false" if v is False else str(v)), na_action=None)
    codes, uniques = pd.factorize(text, sort=True, use_na_sentinel=True)
    return codes.tolist(), [str(u) for u in uniques]


def _attribute_pack():
    from types import SimpleNamespace

    return SimpleNamespace(attributes={"a": SimpleNamespace(bands=None)})


@FAST
@given(st.lists(st.one_of(CELLS, st.just(pd.NA), st.just(pd.NaT)), max_size=14),
       st.sampled_from(["object", "boolean", "str"]))
def test_attribute_categories_read_once_per_value_as_cell_by_cell(values, dtype):
    from kamrules.results.profile import attribute_codes

    if dtype == "boolean":
        values = [v if isinstance(v, bool) or v is None else None for v in values]
    elif dtype == "str":
        values = [v if isinstance(v, str) or v is None else None for v in values]
    column = pd.Series(values, dtype=dtype)
    codes, labels, banded = attribute_codes(_attribute_pack(), pd.DataFrame({"a": column}), "a")
    assert (codes.tolist(), labels, banded) == (*reference_codes(column), False)


@FAST
@given(st.lists(st.one_of(CELLS, st.just(pd.NA), st.just(pd.NaT)), max_size=14))
def test_missing_and_blank_texts_found_once_per_value_as_cell_by_cell(values):
    from kamrules.results.profile import _missing

    column = pd.Series(values, dtype=object)
    expected = column.isna().to_numpy().copy()
    expected |= column.astype(str).str.strip().eq("").to_numpy() & column.notna().to_numpy()
    assert _missing(column).tolist() == expected.tolist()


# ------------------------------------------------------------------------------------ report owners


def reference_owners(columns: dict, key_tier: str = "key", days: int = 30, most: int = 20) -> list:
    """The per-owner view as the per-account loop built it (account positions instead of lines)."""
    calm = (None, "none", "watch", "not_assessed")

    def by_sales(i):
        value = columns["sales"][i]
        return (-(value if isinstance(value, (int, float)) and value == value else 0.0), i)

    found: dict = {}
    for i, manager in enumerate(columns["manager"]):
        due = columns["due_days"][i]
        due = [d for d in (due if isinstance(due, list) else [due]) if isinstance(d, (int, float)) and d <= days]
        key, risky = columns["tier"][i] == key_tier, columns["risk_level"][i] not in calm
        if not (key or risky or due):
            continue
        name = "" if manager is None or manager != manager or str(manager).strip() == "" else str(manager)
        keys, risks, count = found.setdefault(name, ([], [], [0]))
        if key:
            keys.append(i)
        if risky:
            risks.append(i)
        count[0] += len(due)
    return [(name or "(none)", tuple(sorted(k, key=by_sales)[:most]), tuple(sorted(r, key=by_sales)[:most]), d[0],
             len(k), len(r)) for name, (k, r, d) in sorted(found.items(), key=lambda item: (item[0] == "", item[0]))]


def _builder(columns: dict):
    from kamrules.documents.report import _ReportBuilder

    builder = _ReportBuilder.__new__(_ReportBuilder)
    builder.columns = columns
    builder.names_of = {"manager": "account_manager"}
    builder.strings = {"no_owner": "(none)"}
    builder._negated = None
    builder.line = lambda i: i  # positions stand for the account lines
    return builder


SALES = st.one_of(st.none(), st.sampled_from([0.0, -0.0, 5.0, 5.0, 7.5, -3.0, math.inf, -math.inf, 1e300]))
OTHER_SALES = st.one_of(SALES, st.sampled_from([2, True, 2**60 + 1, "12"]))
DUE = st.one_of(st.none(), st.just(SHARED), st.lists(st.sampled_from([3.0, 14, 30, 31.0, None, True]), max_size=3),
                st.sampled_from([10.0, 45, float("nan")]))
MANAGERS = st.one_of(st.none(), st.just(float("nan")), st.sampled_from(["张伟", "Ann", "ann", " ", "", "Bo "]),
                     st.sampled_from([0.0, -0.0, 3]))


@FAST
@given(st.data(), st.integers(0, 30), st.booleans())
def test_owners_and_tier_lists_on_arrays_as_in_the_per_account_loop(data, n, plain_sales):
    from kamrules.documents import report

    columns = {
        "sales": data.draw(st.lists(SALES if plain_sales else OTHER_SALES, min_size=n, max_size=n)),
        "tier": data.draw(st.lists(st.sampled_from(["key", "potential", "standard", None, 1]), min_size=n, max_size=n)),
        "risk_level": data.draw(st.lists(st.sampled_from(["none", "watch", "at_risk", "critical", "not_assessed",
                                                          None, float("nan")]), min_size=n, max_size=n)),
        "manager": data.draw(st.lists(MANAGERS, min_size=n, max_size=n)),
        "due_days": data.draw(st.lists(DUE, min_size=n, max_size=n)),
    }
    most = data.draw(st.integers(1, 4))
    builder = _builder(columns)
    original = report.OWNER_LIST_MAX
    report.OWNER_LIST_MAX = most
    try:
        got = [(o.name, o.key_accounts, o.at_risk, o.actions_due, o.key_total, o.at_risk_total)
               for o in builder.owners()]
        listed, total = builder.accounts_of_tier("potential")
    finally:
        report.OWNER_LIST_MAX = original
    assert got == reference_owners(columns, most=most)
    chosen = sorted((i for i, t in enumerate(columns["tier"]) if t == "potential"), key=builder.by_sales)
    assert (list(listed), total) == (chosen[:report.LIST_MAX], len(chosen))


# -------------------------------------------------------------------------------- portfolio summary


def _reference_summary(evaluation) -> dict:
    """The figures summarise worked out account by account, from the columns."""
    from kamrules.results.columns import column_values
    from kamrules.results.portfolio import RISK_LEVELS_LISTED, RISKS_LISTED_MAX, _number

    pack = evaluation.pack
    sales = [_number(v) for v in column_values(evaluation, pack.role("sales"))]
    tiers = column_values(evaluation, pack.role("tier"))
    levels = column_values(evaluation, pack.role("risk_level"))
    total = sum(s for s in sales if s is not None)
    key_sales = sum(s or 0.0 for s, t in zip(sales, tiers) if t == "key")
    stake = lambda i: 0.0 if sales[i] is None else sales[i]
    at_risk = [i for level in RISK_LEVELS_LISTED for i, v in enumerate(levels) if v == level]
    listed = sorted(at_risk, key=lambda i: (-stake(i), RISK_LEVELS_LISTED.index(levels[i]), i))[:RISKS_LISTED_MAX]
    counts = {}
    for value in dict.fromkeys(tiers):
        chosen = [i for i, t in enumerate(tiers) if t == value]
        counts[value] = (len(chosen), repr(sum([0.0 if sales[i] is None else sales[i] for i in chosen])))
    return {"total": repr(total), "key": (sum(1 for t in tiers if t == "key"), repr(key_sales)),
            "risks": [(i, repr(sales[i])) for i in listed], "tiers": counts,
            "unassessed": sum(1 for v in levels if v == "not_assessed")}


def _summary_figures(portfolio) -> dict:
    return {"total": repr(portfolio.total_sales), "key": (portfolio.key_accounts, repr(portfolio.key_sales)),
            "risks": [(r.index, repr(r.sales)) for r in portfolio.risks],
            "tiers": {c.value: (c.accounts, repr(c.sales)) for c in portfolio.breakdowns[0].counts if c.accounts},
            "unassessed": portfolio.risk_not_assessed_accounts}


@pytest.fixture(scope="module")
def project_pack():
    from kamrules.pack import load_pack

    return load_pack(PROJECT / "rules")


@pytest.mark.parametrize("seed", range(6))
def test_summary_figures_on_arrays_as_account_by_account(project_pack, seed, monkeypatch):
    from kamrules.engine.evaluate import evaluate
    from kamrules.results import portfolio

    monkeypatch.setattr(portfolio, "RISKS_LISTED_MAX", 3)  # the partition to the largest stakes, too
    frame = pd.read_csv(PROJECT / "accounts.csv", dtype={"account_id": str})
    frame = pd.concat([frame] * 4, ignore_index=True)
    frame["account_id"] = [f"A{i:03d}" for i in range(len(frame))]
    generator = np.random.default_rng(seed)
    choices = np.array([0.0, -0.0, 1e5, 1e5, 2.5e5, -4e4, np.nan, 1e-3, 7e5], dtype="float64")
    frame["sales"] = choices[generator.integers(0, len(choices), len(frame))]
    evaluation = evaluate(project_pack, frame, as_of=AS_OF, jobs=1, input_name="accounts.csv")
    got = portfolio.summarise(evaluation)
    assert _summary_figures(got) == _reference_summary(evaluation)
    if seed == 0:  # no account at all and a single one
        for rows in (frame.iloc[:0], frame.iloc[:1]):
            one = evaluate(project_pack, rows.reset_index(drop=True), as_of=AS_OF, jobs=1)
            assert _summary_figures(portfolio.summarise(one)) == _reference_summary(one)


@FAST
@given(st.data(), st.integers(0, 12))
def test_summary_of_hand_made_accounts_without_a_table(project_pack, data, n):
    """An evaluation without a table (sales of any kind, read one by one) gives the same figures."""
    from test_portfolio import synthetic

    from kamrules.results import portfolio

    sales = data.draw(st.lists(st.one_of(SALES, st.sampled_from([3, True, "12", float("nan")])), min_size=n, max_size=n))
    tiers = data.draw(st.lists(st.sampled_from(["key", "potential", "standard", "over_capacity"]), min_size=n, max_size=n))
    risks = data.draw(st.lists(st.sampled_from(["none", "at_risk", "critical", "not_assessed"]), min_size=n, max_size=n))
    evaluation = synthetic(project_pack, sales, tiers=tiers, risks=risks)
    original = portfolio.RISKS_LISTED_MAX
    portfolio.RISKS_LISTED_MAX = 2
    try:
        assert _summary_figures(portfolio.summarise(evaluation)) == _reference_summary(evaluation)
    finally:
        portfolio.RISKS_LISTED_MAX = original
