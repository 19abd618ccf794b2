"""Objectives with progress: the targets the last review's playbooks set, against this period's facts.

Each run writes `objectives.csv` (account id, objective, the fact it is measured by, its value when set,
the target, the day it was set, the day it is due): the measurable objectives its playbooks show
(kamrules.documents.review.objectives — share of wallet one year's step toward the next line the rules
use, sales back to last year's level). With `evaluate --previous OUT`, that file of the earlier run is
read back (with the guards of a run folder) and each objective is measured with this run's value of the
same fact:

- `achieved`: the value reached the target;
- `on_track`: it moved toward the target at least as far as the time gone by asks, pro rata to the due
  date (after a quarter of a year's objective, a quarter of the way);
- `behind`: it moved less than that, or away from the target;
- `not_measured`: this run has no value for it (the account or the column is gone, or the cell is empty).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from kamrules.data.wording import say
from kamrules.errors import ConfigError, DataError

FILE = "objectives.csv"
COLUMNS = ("account_id", "objective", "metric", "baseline", "target", "set_on", "due")
HORIZON_DAYS = 365  # an objective is one year's step
STATUSES = ("achieved", "on_track", "behind", "not_measured")


@dataclass(frozen=True)
class SetObjective:
    """An objective as a review set it."""

    account: str
    kind: str  # what it asks, e.g. raise_share_of_wallet, recover_sales
    name: str  # the fact it is measured by, e.g. share_of_wallet
    start: float  # its value when the objective was set (the baseline)
    target: float
    set_on: dt.date
    due: dt.date


@dataclass(frozen=True)
class Progress:
    """One objective of the last review measured now."""

    objective: SetObjective
    now: float | None
    status: str  # one of STATUSES
    expected: float  # the share of the way the time gone by asks for (0-1), pro rata to the due date
    done: float | None  # the share of the way gone (None when not measured)


def due_date(set_on: dt.date) -> dt.date:
    """The day an objective set on `set_on` is due: one year's step."""
    return set_on + dt.timedelta(days=HORIZON_DAYS)


def objectives_frame(rows: Iterable[SetObjective]) -> pd.DataFrame:
    """objectives.csv from the objectives a run sets, in the order given (the playbooks' order)."""
    frame = pd.DataFrame([(o.account, o.kind, o.name, o.start, o.target, o.set_on.isoformat(), o.due.isoformat())
                          for o in rows], columns=list(COLUMNS))
    return frame.astype({"baseline": "float64", "target": "float64"})


def read_objectives(folder: Path, lang: str = "en") -> list[SetObjective] | None:
    """The objectives an earlier run set (its objectives.csv), None when it wrote none (a run made before
    kamrules wrote them, or one without playbooks). Read with the data reader's guards; a damaged file is
    an error naming the row and the column."""
    from kamrules.data.options import ReadOptions
    from kamrules.data.reader import read_cells
    from kamrules.pack.guards import SourceError, check_source

    path = Path(folder) / FILE
    if not path.exists():
        return None
    try:
        check_source(path, Path(folder), max_bytes=1024**3)
    except SourceError as exc:
        raise ConfigError(f"{exc}") from None
    if _header_only(path):  # a run whose playbooks set no objective
        return []
    raw, _ = read_cells(path, ReadOptions(input_format="csv", lang=lang, header_row=1, skip_footer=0))
    headers = list(raw.headers)
    missing = [c for c in COLUMNS if c not in headers]
    if missing:
        raise DataError(say(lang, "objectives_columns", path=path, columns=", ".join(missing)))
    cells = {name: raw.columns[headers.index(name)].to_pylist() for name in COLUMNS}
    found = []
    for position, row in enumerate(raw.row_numbers.tolist()):
        try:
            text = {name: str(cells[name][position]).strip() for name in COLUMNS}
            if not (text["account_id"] and text["objective"] and text["metric"]):
                raise ValueError
            found.append(SetObjective(text["account_id"], text["objective"], text["metric"],
                                      float(text["baseline"]), float(text["target"]),
                                      dt.date.fromisoformat(text["set_on"]), dt.date.fromisoformat(text["due"])))
        except (TypeError, ValueError):
            values = ", ".join(f"{name}={cells[name][position]!r}" for name in COLUMNS)
            raise DataError(say(lang, "objectives_row", path=path, row=row, values=values)) from None
    return found


def _header_only(path: Path) -> bool:
    with open(path, "rb") as handle:
        lines = [line for line in handle.read(64 * 1024).splitlines() if line.strip()]
    return len(lines) == 1 and path.stat().st_size < 64 * 1024


def measure(objective: SetObjective, now: Any, as_of: dt.date) -> Progress:
    """One objective against this period's value (see the module's docstring)."""
    elapsed = max(0, (as_of - objective.set_on).days)
    span = (objective.due - objective.set_on).days
    expected = 1.0 if span <= 0 else min(1.0, elapsed / span)
    if now is None or (isinstance(now, float) and now != now):
        return Progress(objective, None, "not_measured", expected, None)
    now = float(now)
    gap = objective.target - objective.start
    done = 1.0 if gap == 0 else (now - objective.start) / gap
    if (gap >= 0 and now >= objective.target) or (gap < 0 and now <= objective.target):
        status = "achieved"
    elif done > 0 and done >= expected:
        status = "on_track"
    else:
        status = "behind"
    return Progress(objective, now, status, expected, done)


def progress(objectives: list[SetObjective], evaluation: Any) -> dict[str, tuple]:
    """Every account's objectives of the last review measured with this run's values: account id ->
    tuple of Progress (in the order the file lists them)."""
    from kamrules.results.columns import column_values

    names = {o.name for o in objectives}
    ids = [None if a is None else str(a) for a in column_values(evaluation, "account_id")]
    position = {a: i for i, a in enumerate(ids) if a is not None}
    values = {name: column_values(evaluation, name) for name in names
              if evaluation.table is not None and name in evaluation.table.columns}
    found: dict[str, list] = {}
    for objective in objectives:
        index = position.get(objective.account)
        now = values[objective.name][index] if index is not None and objective.name in values else None
        found.setdefault(objective.account, []).append(measure(objective, now, evaluation.as_of))
    return {account: tuple(items) for account, items in found.items()}


def counts(found: dict[str, tuple]) -> dict[str, int]:
    tally = dict.fromkeys(STATUSES, 0)
    for items in found.values():
        for item in items:
            tally[item.status] += 1
    return tally
