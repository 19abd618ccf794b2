"""Guards on values read from the customer table (issue #15, item 8).

One sales value of 1e308 made the portfolio total `inf`: every share became 0 or NaN, every account
Standard, and the run still exited 0; rounding to 9 decimals overflows above ~1.8e299. No amount of
money, count or score in a customer table comes near 1e15 (a quadrillion), so a number beyond
`MAX_MAGNITUDE` is a bad value like any other: reported with its row and column, refused unless
`--on-bad-value missing`, and sums of the rest stay finite.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MAX_MAGNITUDE = 1e15


def bound_numbers(kind: str, values: pd.Series, bad_reasons: dict) -> dict:
    """Add a reason for every number of a `number`/`integer` field beyond ±MAX_MAGNITUDE (or infinite)."""
    if kind not in ("number", "integer") or values.dtype.kind != "f":
        return bad_reasons
    numbers = values.to_numpy()
    with np.errstate(invalid="ignore"):
        huge = np.flatnonzero(np.isinf(numbers) | (np.abs(numbers) > MAX_MAGNITUDE))
    for position in huge:
        bad_reasons.setdefault(int(position), f"is beyond ±{MAX_MAGNITUDE:,.0f}, too large for an amount or a "
                                              "count: check the column and its unit")
    return bad_reasons
