"""History facts: what earlier reviews say about each account, added to the customer data as pack fields.

A run with an earlier review (`evaluate --register PATH`, `--previous REGISTER`, `--previous RUN_FOLDER`,
and `explain` with the same options) adds these facts to every account before the features are computed,
so that rules can read them like any field (docs/rules.md, "History facts"). They are filled only for the
pack fields of these names: a pack without them gets nothing.

| fact | meaning |
|---|---|
| `previous_tier` | the tier in the previous review (missing when the account was not in it) |
| `previous_tier_basis` | its tier basis in the previous review |
| `tier_basis_run` | reviews in a row, counting back from the previous one, with that same basis (0: not in it) |
| `reviews_as_key` | reviews in a row, from the previous one, as a key account |
| `reviews_below_key` | reviews in a row, from the previous one, present and not key |
| `declines_in_row` | reviews in a row, from the previous one, whose sales were below the review before |
| `key_since` | the as-of date of the first review of its current run as key |
| `earlier_reviews` | how many earlier reviews the facts rest on (0: a first review) |

They are computed by `kamrules.register.facts` (from a register, or one review from a run folder); this
module owns their names, the record a run keeps of them (`HistoryFacts`), filling them into the data, and
what a file of the same names means: not the file's columns (no "not in the file" line for them), and
refused when the run takes the facts from its history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd

from kamrules.data.wording import say

HISTORY_FACTS = ("previous_tier", "previous_tier_basis", "tier_basis_run", "reviews_as_key", "reviews_below_key",
                 "declines_in_row", "key_since", "earlier_reviews")
COUNTS = ("tier_basis_run", "reviews_as_key", "reviews_below_key", "declines_in_row")  # 0 when not in the review
TEXTS = ("previous_tier", "previous_tier_basis", "key_since")  # missing when not in the review
# A fact shown with the labels of the output playing this role (the previous tier as "Key account").
LABELLED_BY = {"previous_tier": "tier", "previous_tier_basis": "tier_basis"}


@dataclass
class HistoryFacts:
    """The history facts of a run. `frame`: per account id (the index, as text) of the previous review, the
    facts but `earlier_reviews` (an account absent from it has no row); `reviews`: how many earlier reviews
    they rest on; `previous_as_of`: the latest one's date (None: no earlier review); `source`: the register
    or run folder as given, `kind`: "register" or "run"; `digest`: a fingerprint of the facts, so that
    `explain --run` can tell they are still the ones the run read."""

    frame: pd.DataFrame
    previous_as_of: str | None
    reviews: int
    source: str = ""
    kind: str = "register"
    digest: str = field(default="", compare=False)

    def record(self) -> dict:
        """What manifest.json keeps of them (deterministic: same inputs, same bytes)."""
        return {"source": self.source, "kind": self.kind, "reviews": self.reviews,
                "latest_as_of": self.previous_as_of, "digest": self.digest or fingerprint(self.frame)}


def empty_frame() -> pd.DataFrame:
    """The facts of no earlier review: no account, every column of its type."""
    return pd.DataFrame({name: pd.Series(dtype=object if name in TEXTS else "int64")
                         for name in HISTORY_FACTS if name != "earlier_reviews"},
                        index=pd.Index([], name="account_id", dtype=object))


def fingerprint(frame: pd.DataFrame) -> str:
    """The SHA-256 of the facts' values by account (in id order), fast at a million accounts."""
    import hashlib

    ordered = frame.sort_index()
    hashed = pd.util.hash_pandas_object(ordered.astype(object).where(ordered.notna(), None), index=True)
    return hashlib.sha256(hashed.to_numpy().tobytes()).hexdigest()


def history_fields(pack) -> list[str]:
    """The history facts the pack declares as fields (those a run fills), in the facts' order."""
    return [name for name in HISTORY_FACTS if name in pack.fields]


def check_file_columns(pack, column_map: Mapping[str, str], data_name: str, facts: HistoryFacts,
                       option: str, lang: str = "en") -> None:
    """A file column read as a history fact while the run takes the facts from its history: refused, as
    the two would disagree (`option`: --register or --previous, where the facts come from)."""
    from kamrules.errors import DataError

    clashing = [name for name in history_fields(pack) if name in column_map]
    if clashing:
        columns = say(lang, "sep").join(say(lang, "history_column_one", column=column_map[n], field=n) for n in clashing)
        raise DataError(say(lang, "history_column", data=data_name, columns=columns, source=facts.source,
                            option=option))


def add_history(frame: pd.DataFrame, pack, facts: HistoryFacts | None) -> pd.DataFrame:
    """The customer data with the pack's history fields filled from `facts` (matched by account id). Without
    facts (no earlier review asked for), only `earlier_reviews` = 0, and only where the file has no such
    column: the other facts stay absent, as any field the file lacks."""
    names = history_fields(pack)
    if not names:
        return frame
    if facts is None:
        if "earlier_reviews" in names and "earlier_reviews" not in frame.columns:
            frame["earlier_reviews"] = np.zeros(len(frame), dtype="int64")
        return frame
    ids = frame["account_id"].astype(object) if "account_id" in frame.columns else pd.Series([None] * len(frame))
    texts = pd.Index([None if v is None or v != v else str(v) for v in ids.tolist()], dtype=object)
    positions = facts.frame.index.get_indexer(texts) if len(facts.frame) else np.full(len(frame), -1)
    found = positions >= 0
    for name in names:
        if name == "earlier_reviews":
            frame[name] = np.full(len(frame), facts.reviews, dtype="int64")
            continue
        column = facts.frame[name].to_numpy() if name in facts.frame.columns else np.full(len(facts.frame), None)
        if name in COUNTS:
            values = np.zeros(len(frame), dtype="int64")
            values[found] = pd.to_numeric(pd.Series(column[positions[found]]), errors="coerce").fillna(0).astype("int64")
        else:
            values = np.full(len(frame), None, dtype=object)
            values[found] = column[positions[found]]
            values[pd.isna(values)] = None
        frame[name] = values
    return frame


def without_fields(mapping: dict, names) -> dict:
    """The reader's description of the columns without `names` among the fields "not in the file" or near a
    header: fields a run fills (history facts, stakeholder facts) are not the file's columns (no "not in
    the file" line, no --columns hint)."""
    names = set(names)
    if not names or not isinstance(mapping, dict):
        return mapping
    trimmed = dict(mapping)
    for key in ("absent", "missing_optional"):
        if isinstance(trimmed.get(key), list):
            trimmed[key] = [n for n in trimmed[key] if n not in names]
    if isinstance(trimmed.get("near_misses"), list):
        trimmed["near_misses"] = [m for m in trimmed["near_misses"] if not (isinstance(m, dict) and m.get("field") in names)]
    return trimmed
