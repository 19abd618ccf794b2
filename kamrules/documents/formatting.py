"""The documents format values with the one formatter of `kamrules.results.formatting` (also used by
`kamrules explain`)."""

from kamrules.results.formatting import Formatter, value_kind

__all__ = ["Formatter", "value_kind"]
