"""Reading an evaluation by column: every account's value of a name, in input order, as plain Python values."""

from __future__ import annotations

from typing import Any

from kamrules.engine.evaluation import Evaluation



def _plain(value: Any) -> Any:
    """A table cell as the plain Python value an AccountResult would hold (None when missing)."""
    if value is None:
        return None
    if isinstance(value, float):
        return None if value != value else value
    kind = type(value).__module__
    if kind == "numpy":
        import numpy as np

        if isinstance(value, np.floating):
            return None if value != value else float(value)
        if isinstance(value, np.bool_):
            return bool(value)
        if isinstance(value, np.integer):
            return int(value)
        if isinstance(value, np.datetime64):
            import pandas as pd

            return None if pd.isna(value) else pd.Timestamp(value).date()
    if kind.startswith("pandas"):
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return None
        if isinstance(value, pd.Timestamp):
            return value.date()
    return value


def mixed_numbers(values) -> bool:
    """Whether the values hold more than one kind of number (bool, int, float, numpy's), which a hash
    does not tell apart (True == 1 == 1.0)."""
    import numpy as np

    kinds = set(map(type, values))
    return len([k for k in kinds if issubclass(k, (bool, int, float, np.number, np.bool_))]) > 1


def _plain_column(column) -> list:
    """`_plain` of every cell, worked out once per distinct value (a million accounts share a few tiers)."""
    import numpy as np
    import pandas as pd

    if column.dtype != object and pd.api.types.is_string_dtype(column.dtype):  # text: str or missing only
        return column.to_numpy(dtype=object, na_value=None).tolist()
    objects = column.astype(object).to_numpy()
    import pyarrow as pa

    try:  # text and missing values only (ids, names): pyarrow checks each cell in C
        texts = pa.array(objects, from_pandas=True)
        if pa.types.is_string(texts.type) or pa.types.is_large_string(texts.type):
            # the table's own str objects (not a million new copies), missing values as None
            nulls = texts.is_null().to_numpy(zero_copy_only=False)
            if nulls.any():
                objects = objects.copy()
                objects[nulls] = None
            if set(map(type, objects[~nulls].tolist())) <= {str}:
                return objects.tolist()
            return texts.to_pylist()  # str subclasses (numpy.str_) become plain str
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        pass
    try:
        codes, distinct = pd.factorize(objects)  # missing values (None, NaN, NA, NaT) get code -1
    except TypeError:  # an unhashable cell: each one its own way
        return [_plain(v) for v in objects.tolist()]
    if mixed_numbers(objects):  # True, 1 and 1.0 are one key to a hash: keep each cell's own kind
        return [_plain(v) for v in objects.tolist()]
    plain = np.empty(len(distinct) + 1, dtype=object)
    plain[:-1] = [_plain(v) for v in distinct.tolist()] if len(distinct) else []
    plain[-1] = None
    return plain[codes].tolist()


def column_values(evaluation: Evaluation, name: str, *, shared: bool = False) -> list:
    """Every account's value of a field, feature, score or (single-valued) output, in input order.

    Read from `evaluation.table` when the evaluation has one (no per-account objects are built),
    else from the accounts. A collect decision's output is a list per account: its own copy, or with
    `shared` (for readers that never change them) the few list objects accounts have in common — at a
    million accounts, a million lists fewer."""
    table = getattr(evaluation, "table", None)
    if table is not None and name in getattr(table, "columns", ()):
        column = table[name]
        if column.dtype.kind == "f":  # floats: tolist() gives Python floats; NaN → None
            return [None if v != v else v for v in column.tolist()]
        return _plain_column(column)
    lists = evaluation.column(name)  # an output not in the table: a list policy's lists
    if lists is not None:
        cells = lists.tolist()
        return cells if shared else [list(v) if isinstance(v, list) else v for v in cells]
    if name == "account_id":
        return [a.account_id for a in evaluation.accounts]
    if name == "account_name":
        return [a.account_name for a in evaluation.accounts]
    return [a.value(name) for a in evaluation.accounts]


def account_ids(evaluation: Evaluation) -> tuple[list, list]:
    """(ids as text, names) of every account, in input order, as AccountResult gives them."""
    ids = ["" if v is None else str(v) for v in column_values(evaluation, "account_id")]
    return ids, column_values(evaluation, "account_name")


