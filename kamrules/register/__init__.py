"""The register of reviews: every `evaluate --register PATH` run recorded in one SQLite file, read back by
`kamrules history`, by `evaluate --previous PATH` and, as history facts, by rules (docs/register.md).

- `record_run(path, evaluation, run)` records a run (`check_register` first, before the work);
- `portfolio_trend(path)` and `account_timeline(path, account)` read it back;
- `history_facts(path, as_of)`: per account, its previous tier, reviews as key or below the key line in a
  row, declines in a row and since when it is key;
- `previous_side(path, as_of, pack_name)`: the latest review before a date, for "since the last review".
"""

from kamrules.register.facts import HistoryFacts, history_facts
from kamrules.register.history import Timeline, Trend, account_timeline, portfolio_trend
from kamrules.register.previous import is_register, previous_side
from kamrules.register.record import Recorded, RunFacts, check_register, record_run
from kamrules.register.store import SCHEMA_VERSION

__all__ = ["HistoryFacts", "Recorded", "RunFacts", "SCHEMA_VERSION", "Timeline", "Trend", "account_timeline",
           "check_register", "history_facts", "is_register", "portfolio_trend", "previous_side", "record_run"]
