"""Value mapping from the `--columns` file: values in the file replaced by the pack's values before
conversion, rows whose value maps to `skip-row` left out (and counted), and unknown category values
listed with their counts and the mapping line that would handle them."""

from __future__ import annotations

from collections import Counter
from typing import Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kamrules.data.columns import SKIP_ROW
from kamrules.data.convert import _as_text, _cell_at
from kamrules.data.messages import _rows_text
from kamrules.data.options import _Raw
from kamrules.data.wording import say, spec_ref
from kamrules.errors import DataError
from kamrules.pack.fields import FieldSpec, normalise_header


def apply_value_maps(name: str, raw: _Raw, matched: Mapping[str, int],
                     values: Mapping[str, Mapping[str, str]], lang: str = "en") -> list[dict]:
    """Replace mapped values in place and drop the rows mapped to skip-row. Returns what was left out:
    [{field, column, value, rows}] in field order, then value order."""
    keep = np.ones(len(raw.row_numbers), dtype=bool)
    skipped: list[dict] = []
    for field_name, table in values.items():
        if field_name not in matched:
            raise DataError(say(lang, "values_no_column", name=name, field=field_name))
        index = matched[field_name]
        lookup = {normalise_header(source): target for source, target in table.items()}
        encoded = pc.dictionary_encode(pc.utf8_trim_whitespace(_as_text(raw.columns[index])))
        distinct = encoded.dictionary.to_pylist()
        mapped = [lookup.get(normalise_header(text), text) if normalise_header(text) else text for text in distinct]
        indices = encoded.indices.to_numpy(zero_copy_only=False)
        for position, (text, target) in enumerate(zip(distinct, mapped)):
            if target == SKIP_ROW:
                rows = indices == position
                skipped.append({"field": field_name, "column": raw.headers[index], "value": text,
                                "rows": int((rows & keep).sum())})
                keep &= ~rows
        texts = np.array([("" if t == SKIP_ROW else t) for t in mapped] or [""], dtype=object)[indices]
        raw.columns[index] = pa.array(texts, type=pa.string())
    if not keep.all():
        mask = pa.array(keep)
        raw.columns = [column.filter(mask) for column in raw.columns]
        raw.row_numbers = raw.row_numbers[keep]
    return [s for s in skipped if s["rows"]]


def unknown_categories_message(name: str, spec: FieldSpec, header: str, column: pa.Array,
                               positions: Sequence[int], row_numbers: np.ndarray, lang: str = "en") -> str:
    """The category values a field does not know, each with its count, and the --columns line that
    handles them (as written it leaves those rows out; replace skip-row by a pack value to keep them)."""
    rows: dict[str, list[int]] = {}
    for position in positions:
        rows.setdefault(_cell_at(column, int(position)).strip(), []).append(int(row_numbers[int(position)]))
    counts = Counter({value: len(found) for value, found in rows.items()})
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    listed = say(lang, "sep").join(say(lang, "unknown_value", value=value, rows=_rows_text("row", rows[value], lang))
                                   for value, _ in ordered[:20])
    more = say(lang, "more", n=len(ordered) - 20) if len(ordered) > 20 else ""
    entries = ", ".join(f"{_yaml_key(value)}: {SKIP_ROW}" for value, _ in ordered[:20])
    allowed = ", ".join(str(v) for v in spec.values[:15])
    line = f"{spec.name}: {{column: {_yaml_key(header)}, values: {{{entries}}}}}"
    return say(lang, "unknown_values", name=name, header=header, field=spec_ref(spec, lang), listed=listed, more=more,
               line=line, skip=SKIP_ROW, allowed=allowed)


def _yaml_key(text: str) -> str:
    """Text as a YAML flow-mapping key: quoted when it holds characters YAML would read otherwise."""
    plain = text and not any(c in text for c in ":{}[],#&*!|>'\"%@`") and text.strip() == text \
        and normalise_header(text) not in ("true", "false", "yes", "no", "null", "on", "off", "y", "n")
    return text if plain else "'" + text.replace("'", "''") + "'"
