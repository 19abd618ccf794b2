"""Playbook file names: safe on every file system, stable, and unique even when names repeat."""

from __future__ import annotations

import hashlib
import re
import unicodedata
import weakref
from typing import Any, Mapping

from kamrules.engine.evaluation import Evaluation
from kamrules.i18n import is_missing
from kamrules.results.columns import account_ids

# ------------------------------------------------------------------------------------- file names

_STEM_MAX_BYTES = 80
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", "conin$", "conout$",
                     *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}


_ASCII_OTHER = re.compile(r"[^0-9a-z]+")


def _slug(text: str) -> str:
    """Letters and digits of any script (Chinese kept), lower-cased; every other run becomes '-'."""
    if text.isascii():  # the same result, quicker: NFKC leaves ASCII as it is, and its letters are a-z 0-9
        return _ASCII_OTHER.sub("-", text.lower()).strip("-")
    text = unicodedata.normalize("NFKC", text).lower()
    out = [ch if ch.isalnum() and ch.isprintable() else "-" for ch in text]
    return re.sub(r"-{2,}", "-", "".join(out)).strip("-")


def _digest(*parts: Any) -> str:
    return hashlib.sha256("\0".join(str(p) for p in parts).encode("utf-8", "surrogatepass")).hexdigest()


def _truncate_bytes(text: str, limit: int) -> str:
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return text
    return encoded[:limit].decode("utf-8", "ignore").rstrip("-")


def playbook_stem(account_id: Any, account_name: Any = None) -> str:
    """A safe file name stem for an account: id and name slugified, bounded, never a path.

    Only letters, digits and '-' survive, so no '/', '\\', '..', ':', control or reserved character
    can reach the file system; Windows device names get a '_'; over 80 bytes, the stem is cut and a
    hash of the full id and name keeps it distinct.
    """
    ident = "" if is_missing(account_id) else str(account_id)
    name = "" if is_missing(account_name) else str(account_name)
    id_slug, name_slug = _slug(ident), _slug(name)
    stem = id_slug or ("account-" + _digest(ident)[:8] if ident else "account")
    if name_slug and name_slug != id_slug:
        stem = f"{stem}-{name_slug}"
    if len(stem.encode("utf-8")) > _STEM_MAX_BYTES:
        stem = _truncate_bytes(stem, _STEM_MAX_BYTES - 9) + "-" + _digest(ident, name)[:8]
    if stem.split(".")[0] in _WINDOWS_RESERVED:
        stem += "_"
    return stem


def playbook_paths(evaluation: Evaluation) -> dict[int, str]:
    """Account index → unique file stem, over every account (so a name does not depend on --playbooks).

    Stems are compared case-insensitively (macOS and Windows file systems); a repeat gets a short hash
    of its id, name and position, so the first account keeps the plain name.
    """
    ids, names = account_ids(evaluation)
    cached = _STEMS.get(id(evaluation))
    if cached is not None and cached[0]() is evaluation and cached[1] == ids and cached[2] == names:
        return dict(cached[3])
    used: set[str] = set()
    stems: dict[int, str] = {}
    for index, (account_id, name) in enumerate(zip(ids, names)):
        stem = playbook_stem(account_id, name)
        candidate, width = stem, 8
        while candidate.casefold() in used:
            candidate = f"{stem}-{_digest(account_id, name, index)[:width]}"
            width += 4
        used.add(candidate.casefold())
        stems[index] = candidate
    _STEMS.clear()  # the last evaluation's only: the context builder and the report's links both ask
    _STEMS[id(evaluation)] = (weakref.ref(evaluation), ids, names, stems)
    return dict(stems)


_STEMS: dict[int, tuple] = {}


def playbook_links(rendered: Mapping[str, bytes], evaluation: Evaluation) -> dict[str, str]:
    """Account id → relative path of its HTML playbook (for the report), for the playbooks rendered."""
    links: dict[str, str] = {}
    if not any(path.startswith("playbooks/") for path in rendered):
        return links  # --playbooks none: no stem of a million accounts to work out
    ids, _ = account_ids(evaluation)
    for index, stem in playbook_paths(evaluation).items():
        path = f"playbooks/{stem}.html"
        if path in rendered and ids[index] not in links:
            links[ids[index]] = path
    return links


