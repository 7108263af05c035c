"""Bytes to text: UTF-8 first (fast), then byte-order marks, then detection.

Order of the attempts, and why:

1. A byte-order mark says it: UTF-32, UTF-16 or UTF-8 (the mark is not part of
   the text, so offset 0 is the first character after it).
2. NUL bytes mean binary (images, executables, archives), unless the NULs sit
   every other byte as in UTF-16 text saved without a mark.
3. Valid UTF-8 is UTF-8: by far the most common, and one C call to check.
4. UTF-8 with a few broken bytes (a file pasted together) stays UTF-8, the broken
   bytes replaced by U+FFFD (one character each, so offsets stay honest):
   reading it as cp1252 would garble every accent.
5. cp1252, when it reads cleanly: Western European text (French, English) not in
   UTF-8 is cp1252 or Latin-1 (cp1252 is Latin-1 plus ’ œ € … in 0x80–0x9F,
   where Latin-1 only has control codes). Detection alone is unreliable on a
   short text: charset-normalizer reads "accentué" as mac_latin2 or cp1250.
6. charset-normalizer's best guess (Cyrillic, Greek, Central European, …).

Offsets in citations count characters of the decoded text (see qa.ingest.document).
"""

from __future__ import annotations

import codecs

from charset_normalizer import from_bytes
from charset_normalizer.md import mess_ratio

from .document import Unusable

# (signature, what it is) of common binary files, to say what was skipped.
_SIGNATURES = (
    (b"\x89PNG", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF8", "GIF image"),
    (b"%PDF-", "PDF document"),
    (b"PK\x03\x04", "zip archive or office document"),
    (b"\x1f\x8b", "gzip archive"),
    (b"\x7fELF", "executable"),
    (b"MZ", "Windows executable"),
    (b"\xd0\xcf\x11\xe0", "old office document"),
)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16: it starts with the UTF-16 LE mark
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_MESSY = 0.2  # charset-normalizer's own threshold for "this decoding is garbage"
_SAMPLE = 1 << 16  # characters looked at to judge a decoding
# Control characters that do not occur in text (tab, newlines, form feed and escape do).
_CONTROL = frozenset(chr(c) for c in range(32)) - set("\t\n\v\f\r\x1b")


def decode_bytes(data: bytes) -> str:
    """The text of ``data``; raises Unusable with a reason when it is not text."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return _checked(data.decode(encoding))
            except UnicodeDecodeError as exc:
                raise Unusable(f"not valid {encoding.split('-sig')[0].upper()} text (byte {exc.start})") from None
    if b"\x00" in data:
        text = _utf16_without_bom(data)
        if text is None:
            raise Unusable(f"binary file ({_kind(data)})")
        return _checked(text)
    try:
        return _checked(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    text = _mostly_utf8(data)
    if text is not None:
        return _checked(text)
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:  # 0x81 0x8D 0x8F 0x90 0x9D are not cp1252
        text = None
    if text is not None and mess_ratio(text[:_SAMPLE], _MESSY) < _MESSY:
        return _checked(text)
    best = from_bytes(data).best()
    if best is None:
        raise Unusable(f"binary file or unknown text encoding ({_kind(data)})")
    return _checked(str(best))


def _checked(text: str) -> str:
    """Text with more than a few control characters is a binary file that happened to decode."""
    sample = text[:_SAMPLE]
    controls = sum(sample.count(c) for c in _CONTROL if c in sample)
    if "\x00" in sample or controls > max(2, len(sample) // 100):
        raise Unusable("binary file (control characters)")
    return text


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text saved without a byte-order mark: mostly-Latin text then has a
    NUL in every other byte, and nowhere else."""
    if len(data) % 2:
        return None
    even, odd = data[0::2].count(0), data[1::2].count(0)
    half = len(data) // 2
    if odd > 0.3 * half and even == 0:
        encoding = "utf-16-le"
    elif even > 0.3 * half and odd == 0:
        encoding = "utf-16-be"
    else:
        return None
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


def _mostly_utf8(data: bytes) -> str | None:
    """UTF-8 with a few broken bytes (at most one per four good non-ASCII characters),
    the broken bytes as U+FFFD. Latin-1 text has almost no valid UTF-8 sequence."""
    text = data.decode("utf-8", errors="replace")
    broken = text.count("\ufffd") - data.count(b"\xef\xbf\xbd")
    non_ascii = len(text) - len(text.encode("ascii", "ignore")) - broken
    if non_ascii > 0 and 4 * broken <= non_ascii:
        return text
    return None


def _kind(data: bytes) -> str:
    for signature, kind in _SIGNATURES:
        if data.startswith(signature):
            return kind
    return "NUL bytes" if b"\x00" in data else "no text encoding fits"
