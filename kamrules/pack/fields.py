"""The customer facts a rule pack reads: field specifications and how their names are matched."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from kamrules.errors import Location

FIELD_TYPES = ("number", "integer", "string", "boolean", "date", "category")

Text = dict  # {"en": "...", "zh": "..."}: a display text by language


@dataclass(frozen=True)
class FieldSpec:
    """One fact the pack reads from the data file.

    `values` lists a category's allowed values; `value_aliases` maps a normalised alias (see
    `normalise_header`) to its value, so "企业" or "Enterprise" reads as `enterprise`.
    """

    name: str
    type: str
    required: bool = False
    label: Text = field(default_factory=dict)
    description: Text = field(default_factory=dict)
    aliases: tuple = ()
    values: tuple = ()
    value_aliases: dict = field(default_factory=dict)
    loc: Location = Location("<builtin>")
    range: tuple = ()  # (lowest, highest) a number may take, either None; () when any number will do

    def header_names(self) -> tuple:
        """Every header this field answers to: its name, its labels, its aliases."""
        names = [self.name, *self.label.values(), *self.aliases]
        return tuple(dict.fromkeys(names))


def normalise_header(text: str) -> str:
    """Compare headers ignoring case, spaces and punctuation: 'Account Name' == 'account_name' ==
    'ACCOUNT-NAME'; Chinese characters are kept as they are (full-width forms folded)."""
    folded = unicodedata.normalize("NFKC", str(text)).casefold()
    return re.sub(r"[\W_]+", "", folded)


def column_letter(index: int) -> str:
    """A spreadsheet column's letters from its 0-based index: 0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
