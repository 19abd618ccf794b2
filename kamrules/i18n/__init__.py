"""Languages: the one catalogue of fixed texts (en/zh, `catalogues.py`) and locale-aware formatting of
numbers, money, percentages, dates and yes/no (`formats.py`). Import from here: `from kamrules.i18n
import UI, fmt_money`."""

from kamrules.i18n.catalogues import (
    CONSOLE, DIFF, EXPLAIN, LANGS, MISSING, PROFILE, SINCE_WORDS, TESTING, UI, Strings,
)
from kamrules.i18n.data_messages import DATA, data_text
from kamrules.i18n.formats import fmt_bool, fmt_date, fmt_money, fmt_number, fmt_pct, is_missing

__all__ = [
    "CONSOLE", "DATA", "DIFF", "EXPLAIN", "LANGS", "MISSING", "PROFILE", "SINCE_WORDS", "TESTING", "UI", "Strings",
    "data_text", "fmt_bool", "fmt_date", "fmt_money", "fmt_number", "fmt_pct", "is_missing",
]
