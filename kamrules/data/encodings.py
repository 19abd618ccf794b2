"""Text encodings of CSV, TSV and JSON files: detected deterministically (BOM, UTF-8, GB18030,
cp1252/Latin-1), and a clear message naming the row when a file does not decode."""

from __future__ import annotations

import codecs
from pathlib import Path

from kamrules.data.options import CHUNK_BYTES, ReadOptions
from kamrules.data.wording import say
from kamrules.errors import DataError

def _decode_error(path: Path, encoding: str) -> tuple[int, bytes] | None:
    """Where (byte offset, bad bytes) `path` stops being valid `encoding`; None if it all decodes."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    offset = 0
    with open(path, "rb") as handle:
        while True:
            chunk = handle.read(CHUNK_BYTES)
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                start = offset - pending + exc.start
                return start, exc.object[exc.start : exc.end]
            except UnicodeError:  # e.g. --encoding utf-16 on a file without a byte-order mark
                return offset, chunk[:2]
            if not chunk:
                return None
            offset += len(chunk)


def _line_of(path: Path, offset: int) -> int:
    """The 1-based line number holding byte `offset`."""
    lines = 1
    remaining = offset
    with open(path, "rb") as handle:
        while remaining > 0:
            chunk = handle.read(min(CHUNK_BYTES, remaining))
            if not chunk:
                break
            lines += chunk.count(b"\n")
            remaining -= len(chunk)
    return lines


def _looks_chinese(text: str) -> bool:
    """GB18030 decodes almost any byte string; real Chinese text is mostly GB2312 characters, while
    Latin-1 accents read as GB18030 give rare characters (their second byte is usually ASCII)."""
    wide = [c for c in text if ord(c) > 127]
    if not wide:
        return False
    common = 0
    for char in wide:
        try:
            char.encode("gb2312")
            common += 1
        except UnicodeEncodeError:
            pass
    return common * 2 >= len(wide)


def _detect_encoding(path: Path, head: bytes) -> tuple[str, tuple[int, bytes] | None]:
    """(encoding, where it fails to decode the file or None): UTF-8 with or without BOM, UTF-16 with
    BOM, GB18030, or Latin-1/cp1252. Deterministic; each candidate is checked on the whole file."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", _decode_error(path, "utf-8-sig")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", _decode_error(path, "utf-16")
    failure = _decode_error(path, "utf-8")
    if failure is None:
        return "utf-8", None
    offset, _ = failure
    prefix = head[:offset] if offset <= len(head) else head
    if sum(1 for b in prefix if b >= 0xC0) >= 8:
        # Plenty of valid UTF-8 before the broken byte: a damaged or mixed file, not another encoding.
        return "utf-8", failure
    if _decode_error(path, "gb18030") is None:
        sample = codecs.getincrementaldecoder("gb18030")(errors="ignore").decode(head[: 1 << 16])
        if _looks_chinese(sample):
            return "gb18030", None
    if any(0x80 <= b <= 0x9F for b in head) and _decode_error(path, "cp1252") is None:
        return "cp1252", None  # the Windows superset of Latin-1: € and curly quotes in 0x80-0x9F
    return "latin-1", None


# Latin-1 decodes any bytes: before falling back to it, a file that reads as Big5 or Shift-JIS stops
# the run with the option to pass (read as Latin-1 it was silently mojibake). Both need the whole file
# to decode and the text to look like the language: Big5's frequent characters (its level 1 and
# punctuation), Japanese kana. (Western text with accents rarely decodes as either, and never so.)
_EAST_ASIAN = (("big5", "Big5 (Traditional Chinese)"), ("shift_jis", "Shift-JIS (Japanese)"))


def _looks_like(text: str, codec: str) -> bool:
    wide = [c for c in text if ord(c) > 127]
    if len(wide) < 4:
        return False
    if codec == "big5":
        common = sum(1 for c in wide if 0xA140 <= int.from_bytes(c.encode("big5"), "big") <= 0xC67E)
        return common * 10 >= len(wide) * 8
    kana = sum(1 for c in wide if "\u3040" <= c <= "\u30ff")
    japanese = sum(1 for c in wide if "\u3000" <= c <= "\u30ff" or "\u4e00" <= c <= "\u9fff" or "\uff01" <= c <= "\uff5e")
    return kana > 0 and japanese * 10 >= len(wide) * 9


def _east_asian(path: Path, head: bytes) -> tuple[str, str] | None:
    """(codec, what to call it) when a file that is not UTF-8 or GB18030 reads as Big5 or Shift-JIS."""
    for codec, label in _EAST_ASIAN:
        if _decode_error(path, codec) is None:
            sample = codecs.getincrementaldecoder(codec)(errors="ignore").decode(head[: 1 << 16])
            if _looks_like(sample, codec):
                return codec, label
    return None


def _choose_encoding(path: Path, name: str, head: bytes, options: ReadOptions) -> str:
    if options.encoding is None:
        encoding, failure = _detect_encoding(path, head)
        if failure is None and encoding in ("latin-1", "cp1252") and (guess := _east_asian(path, head)):
            raise DataError(say(options.lang, "encoding_east_asian", name=name, label=guess[1], codec=guess[0]))
    else:
        encoding, failure = options.encoding, _decode_error(path, options.encoding)
    if failure is None:
        return encoding
    offset, bad = failure
    line = _line_of(path, offset)
    shown = " ".join(f"0x{b:02x}" for b in bad[:4])
    lang = options.lang
    if options.encoding is None:
        label = "UTF-16" if encoding == "utf-16" else "UTF-8"
        raise DataError(say(lang, "encoding_mixed", name=name, line=line, label=label, shown=shown))
    detected, detected_failure = _detect_encoding(path, head)
    if codecs.lookup(detected).name != codecs.lookup(encoding).name and detected_failure is None:
        hint = say(lang, "encoding_looks", detected=detected)
    else:
        hint = say(lang, "encoding_pass")
    raise DataError(say(lang, "encoding_wrong", name=name, line=line, encoding=encoding, shown=shown, hint=hint))


def _sample_text(head: bytes, encoding: str) -> str:
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    return decoder.decode(head, final=False)


# --------------------------------------------------------------------------------------------------
# Readers: each returns a _Raw of text columns
