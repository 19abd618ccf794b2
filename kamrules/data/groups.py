"""Account groups: a `parent_id` column names the account a subsidiary belongs to. Each account's group
is its topmost parent in the file (a chain A → B → C groups A and B under C; a parent that is not an
account of the file is the group's name as it is). A parent that is the account itself, or parents that
lead back to where they started, are errors naming the rows — the group of such an account cannot be
known. Read once per file; the result fills the pack's `customer_group` field when the file lacks one."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kamrules.data.options import MAX_LISTED, _Raw
from kamrules.data.wording import rows_text, say


def _text(value) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = str(value).strip()
    return text or None


def groups_of(name: str, raw: _Raw, ids: pd.Series, parents: pd.Series, header: str, lang: str = "en",
              field: str = "parent_id") -> tuple[str | None, np.ndarray]:
    """(an error message or None, every account's group: its topmost parent, or its own id when it has
    no parent; None where the account has no id)."""
    id_list = [_text(v) for v in ids.tolist()]
    parent_of: dict[str, str] = {}
    row_of: dict[str, int] = {}
    selves: list[tuple[str, int]] = []
    for position, (account, parent) in enumerate(zip(id_list, (_text(v) for v in parents.tolist()))):
        if account is None:
            continue
        row_of.setdefault(account, int(raw.row_numbers[position]))
        if parent is None:
            continue
        if parent == account:
            selves.append((account, int(raw.row_numbers[position])))
            continue
        parent_of[account] = parent
    top: dict[str, str] = {}
    cycles: list[list[str]] = []
    bad: set[str] = set()
    for start in parent_of:
        if start in top or start in bad:
            continue
        path: list[str] = []
        index: dict[str, int] = {}
        node, root = start, None
        while True:
            if node in top:
                root = top[node]
                break
            if node in bad:
                break
            if node not in parent_of:
                root = node
                break
            if node in index:  # back where the walk has been: a cycle
                cycles.append(path[index[node]:])
                break
            index[node] = len(path)
            path.append(node)
            node = parent_of[node]
        for member in path:
            if root is None:
                bad.add(member)
            else:
                top[member] = root
    message = None
    if selves or cycles:
        where = say(lang, "dup_where", header=header, field=field)
        lines = [say(lang, "group_self", value=account, rows=rows_text(lang, raw.unit, [row])) for account, row in selves]
        for cycle in cycles:
            rows = sorted(row_of[a] for a in cycle if a in row_of)
            lines.append(say(lang, "group_cycle", chain=" → ".join([*cycle, cycle[0]]), rows=rows_text(lang, raw.unit, rows)))
        shown = lines[:MAX_LISTED]
        if len(lines) > MAX_LISTED:
            shown.append(say(lang, "first_more", n=len(lines) - MAX_LISTED))
        message = say(lang, "group_bad", name=name, where=where, n=len(lines)) + "\n  " + "\n  ".join(shown)
    groups = np.array([None if a is None else top.get(a, a) for a in id_list], dtype=object)
    return message, groups
