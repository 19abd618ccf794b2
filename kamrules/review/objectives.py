"""Objectives with progress: the targets the last review's playbooks set, against this period's facts.

Each run writes `objectives.csv` (account id, objective, its value when set, the target, the date): the
measurable objectives its playbooks show (kamrules.documents.review.objectives — share of wallet one
year's step toward the next line the rules use, sales back to last year's level). With `evaluate
--previous OUT`, that file of the earlier run is read back (with the guards of a run folder) and each
objective is measured with this run's value of the same fact:

- `achieved`: the value reached the target;
- `on_track`: it moved toward the target at least as far as the time gone by asks (the objectives are a
  year's step: after a quarter, a quarter of the way);
- `behind`: it moved less than that, or away from the target;
- `not_measured`: this run has no value for it (the account or the column is gone).
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
COLUMNS = ("account_id", "objective", "start", "target", "set_on")
HORIZON_DAYS = 365  # an objective is one year's step
STATUSES = ("achieved", "on_track", "behind", "not_measured")


@dataclass(frozen=True)
class SetObjective:
    """An objective as a review set it."""

    account: str
    name: str  # the fact it is about, e.g. share_of_wallet
    start: float  # its value when the objective was set
    target: float
    set_on: dt.date


@dataclass(frozen=True)
class Progress:
    """One objective of the last review measured now."""

    objective: SetObjective
    now: float | None
    status: str  # one of STATUSES
    expected: float  # the share of the way the time gone by asks for (0-1)
    done: float | None  # the share of the way gone (None when not measured)


def objectives_frame(rows: Iterable[tuple]) -> pd.DataFrame:
    """objectives.csv from (account id, objective, start, target, set on) rows."""
    frame = pd.DataFrame(list(rows), columns=list(COLUMNS))
    frame["set_on"] = [d.isoformat() if isinstance(d, dt.date) else d for d in frame["set_on"]]
    return frame


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
    raw, _ = read_cells(path, ReadOptions(input_format="csv", lang=lang, header_row=1, skip_footer=0))
    headers = list(raw.headers)
    missing = [c for c in COLUMNS if c not in headers]
    if missing:
        raise DataError(say(lang, "objectives_columns", path=path, columns=", ".join(missing)))
    cells = {name: raw.columns[headers.index(name)].to_pylist() for name in COLUMNS}
    found = []
    for position, row in enumerate(raw.row_numbers.tolist()):
        try:
            found.append(SetObjective(str(cells["account_id"][position]), str(cells["objective"][position]),
                                      float(cells["start"][position]), float(cells["target"][position]),
                                      dt.date.fromisoformat(str(cells["set_on"][position]).strip())))
        except (TypeError, ValueError):
            values = ", ".join(f"{name}={cells[name][position]!r}" for name in COLUMNS)
            raise DataError(say(lang, "objectives_row", path=path, row=row, values=values)) from None
    return found


def measure(objective: SetObjective, now: Any, as_of: dt.date) -> Progress:
    """One objective against this period's value (see the module's docstring)."""
    elapsed = max(0, (as_of - objective.set_on).days)
    expected = min(1.0, elapsed / HORIZON_DAYS)
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
