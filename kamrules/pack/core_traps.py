"""What durable_rules' C core cannot tell apart, known here so that no pack or data reaches it: names,
which it knows by a 32-bit hash, and long texts, whose length it keeps in 16 bits.

## Names are 32-bit hashes

The C core of durable_rules 2.0.28 reads every key of a message and of a condition as the FNV-1a hash
of its bytes (`getStringAndHash` in src/rules/json.c: offset basis 0x811c9dc5, prime 16777619, each
byte taken as a *signed* char) and never compares the text. Two names with the same hash are one name
to it: with fields `utuokim` and `hwoaoeu` (both 17623579) the per-account path read "utuokim > 5" off
hwoaoeu's value, and a rule reading both never fired on the situations path. Its own words — the
operators (`$and`, `$gt` …), `$m`, the message keys `id` and `sid`, and kamrules' marker `_kam` — are
hashes too, so a name sharing one of theirs would be taken for it.

So no two names that can reach the engine may share a hash: `name_collisions` refuses a pack whose
fields, features, scores, outputs or `_count` names collide with each other or with an engine word
(any two of them can meet in one message), and `hidden_name` picks the names of hidden arithmetic
columns (`_x0`, `_x1` …) so that they collide with nothing a decision sends. Refusing is total and
simple; the chance of a collision between two given names is one in four billion, so no real pack
is refused.

## Text lengths are 16 bits

The core keeps a text's length (the bytes of its JSON text: UTF-8, with escapes) as a 32-bit number
but compares two texts with `reduceString(char *left, unsigned short leftLength, …)`
(src/rules/events.c): `strncmp` over the longer of the two lengths *modulo 65,536*. A text of 65,536
bytes or more is compared on its first (length mod 65,536) bytes only: "north" followed by 65,531
x's equals "north". `MAX_TEXT_BYTES` is the longest text the core compares whole; `text_problem`
refuses longer text constants in a pack (params, output and category values), and the engine refuses
longer cells in the columns rules compare, with their rows (engine/evaluate.py).
"""

from __future__ import annotations

import json
from typing import Iterable

from kamrules.errors import Diagnostic, Location

MARKER = "_kam"  # the field only customer records carry (engine/durable.py): every compiled rule requires it

# Every key the core reads by its hash (src/rules/rete.c, state.h, events.c), and the keys kamrules
# adds to each message.
ENGINE_WORDS = (
    "id", "sid", "$s", MARKER,
    "$and", "$or", "$lt", "$lte", "$gt", "$gte", "$eq", "$neq", "$mt", "$imt", "$iall", "$iany", "$ex", "$nex",
    "$m", "$add", "$sub", "$mul", "$div", "$l", "$r", "$i", "$forward",
    "all", "any", "pri", "count", "cap", "dist", "name",
)

_FNV_OFFSET, _FNV_PRIME = 0x811C9DC5, 16777619
MAX_TEXT_BYTES = 65_535  # a longer text is compared on its first (length mod 65,536) bytes only


def engine_hash(name: str) -> int:
    """The 32-bit hash the engine knows `name` by (its JSON text's UTF-8 bytes, as signed chars)."""
    value = _FNV_OFFSET
    for byte in name.encode("utf-8"):
        value ^= (byte - 256 if byte > 127 else byte) & 0xFFFFFFFF  # a char is signed on x86 and ARM Linux
        value = (value * _FNV_PRIME) & 0xFFFFFFFF
    return value


_WORDS = {engine_hash(word): word for word in ENGINE_WORDS}


def name_collisions(names: dict[str, tuple[str, Location]]) -> list[Diagnostic]:
    """One error per name of the pack (name -> (kind, where), in definition order) that the engine
    cannot tell from an earlier name or from one of its own words."""
    found: list[Diagnostic] = []
    seen: dict[int, str] = {}
    for name, (kind, loc) in names.items():
        value = engine_hash(name)
        word = _WORDS.get(value)
        if word is not None and word != name:
            found.append(Diagnostic(loc, f"{kind} '{name}' looks like the engine's own '{word}' to durable_rules, "
                                         f"which tells names apart only by a 32-bit hash (both {value}): rename it"))
        elif value in seen and seen[value] != name:
            other = seen[value]
            other_kind, other_loc = names[other]
            found.append(Diagnostic(loc, f"{kind} '{name}' and {other_kind} '{other}' (at {other_loc}) look alike to "
                                         f"durable_rules, which tells names apart only by a 32-bit hash (both "
                                         f"{value}): rename one of them"))
        else:
            seen[value] = name
    return found


def hidden_name(number: int, taken: Iterable[str], used: Iterable[str]) -> str:
    """The name of a decision's next hidden column: `_x{number}`, or the next `_x…` whose hash no
    name of `taken` (what the decision reads), `used` (its hidden columns so far) or the engine's
    words has."""
    hashes = set(_WORDS) | {engine_hash(n) for n in taken} | {engine_hash(n) for n in used}
    while engine_hash(name := f"_x{number}") in hashes:
        number += 1
    return name


def engine_text_length(text: str) -> int:
    """The length the core keeps for a text: the bytes of its JSON text (UTF-8, escapes included,
    quotes not), as kamrules writes it into a message (`json.dumps(…, ensure_ascii=False)`)."""
    return len(json.dumps(text, ensure_ascii=False).encode("utf-8")) - 2


# A text shorter than this many characters cannot exceed MAX_TEXT_BYTES (an escape such as \u0001 is
# the longest form of a character: 6 bytes), so only longer ones are measured.
MIN_CHARS_TOO_LONG = MAX_TEXT_BYTES // 6 + 1


def text_problem(text: str) -> str | None:
    """Why a text constant of a pack cannot be compared by the engine, or None."""
    if len(text) < MIN_CHARS_TOO_LONG or (size := engine_text_length(text)) <= MAX_TEXT_BYTES:
        return None
    return (f"a text of {len(text):,} characters ({size:,} bytes) is longer than durable_rules compares "
            f"(at most {MAX_TEXT_BYTES:,} bytes; it would compare only the start): shorten it")
