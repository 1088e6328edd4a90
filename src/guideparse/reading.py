"""Stage 1: bytes -> normalised lines.

Decoding is strict UTF-8 (BOM or not), then cp1252 with a warning; line ends may
be CRLF, CR or LF. Whitespace noise (doubled or trailing spaces, tabs,
non-breaking and zero-width spaces) is folded here, once, so no later stage and
no value ever sees it; control and bidi control characters are dropped with it
(bidi ones reported, GP305: they reorder what a line shows).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from itertools import repeat
from typing import NamedTuple

from .confusables import bidi_warning
from .errors import InputError
from .models import Warn
from .printable import BIDI_CONTROLS


class Line(NamedTuple):
    """One source line: its 1-based number and its whitespace-folded text (never mutated).

    A named tuple: a page makes hundreds, and tuple.__new__ makes them without a Python call."""

    no: int
    text: str


@dataclass
class Text:
    lines: list[Line]
    encoding: str
    final_newline: bool
    cut_mid_char: bool
    warnings: list[Warn] = field(default_factory=list)
    source_lines: dict[int, int] | None = None  # HTML: rendered line -> source line


_LINE_END = re.compile(r"\r\n|\r|\n")
_SPACES = re.compile(r"[ \t\r\n\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\f\v]+")
# Invisible characters dropped from every line: zero-width ones, soft hyphens, C0 and C1
# controls, DEL, and bidi controls (they reorder what a line shows and belong in no value).
_DROPPED = f"\\u200b\\u200c\\u200d\\u2060\\ufeff\\u00ad\\x00-\\x08\\x0e-\\x1f\\x7f-\\x9f{BIDI_CONTROLS}"
_INVISIBLE = re.compile(f"[{_DROPPED}]")
# Control characters other than whitespace: many of them mean the bytes are not text.
_BINARY_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x1B), *range(0x1C, 0x20)])
# Printable ASCII and line ends: deleting these from UTF-8 bytes leaves every other
# character whole (continuation bytes are >= 0x80), a few dozen bytes in a clean page.
_PLAIN_ASCII = bytes([0x0A, 0x0D, *range(0x20, 0x7F)])
# What the folding changes besides a doubled space: odd spaces, invisibles, controls.
_ODD_CHARS = re.compile(f"[\\t\\u00a0\\u1680\\u2000-\\u200d\\u202f\\u205f\\u3000\\f\\v{_DROPPED}]")


# Anything fold_space would change inside a line; most lines have none of it.
_NEEDS_FOLDING = re.compile(f"  |[\\t\\r\\n\\u00a0\\u1680\\u2000-\\u200d\\u202f\\u205f\\u3000\\f\\v{_DROPPED}]")


def fold_space(text: str) -> str:
    """Collapse whitespace runs to one space, drop invisible characters, trim."""
    if _NEEDS_FOLDING.search(text) is None:
        return text.strip()
    return _SPACES.sub(" ", _INVISIBLE.sub("", text)).strip()


def decode(data: bytes, path: str) -> tuple[str, str, bool, list[Warn]]:
    """Return (text, encoding, cut_mid_char, warnings) or raise InputError."""
    if not data.strip():
        raise InputError("GP901", "empty file", path=path)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16", False, []
        except UnicodeDecodeError:
            raise InputError("GP902", "undecodable bytes: bad UTF-16", path=path) from None
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    sample = data[:65536]
    if b"\x00" in sample or len(sample) - len(sample.translate(None, _BINARY_BYTES)) > max(8, len(sample) // 200):
        raise InputError("GP902", "undecodable bytes: binary content, not text", path=path)
    try:
        return data.decode("utf-8"), "utf-8", False, []
    except UnicodeDecodeError as exc:
        # A scrape cut inside a multi-byte character: keep what precedes it.
        if exc.start >= len(data) - 3 and exc.reason == "unexpected end of data":
            return data[: exc.start].decode("utf-8"), "utf-8", True, []
    try:
        text = data.decode("cp1252")
        enc = "cp1252"
    except UnicodeDecodeError:
        text = data.decode("latin-1")
        enc = "latin-1"
    return text, enc, False, [Warn(code="GP301", message=f"not valid UTF-8; decoded as {enc}", line=None)]


_SPACES_IN_LINE = re.compile(r"[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\f\v]+")


def _has_odd_chars(data: bytes, text: str, encoding: str) -> bool:
    """Whether the text holds odd spaces, invisibles or controls (checked in microseconds
    on the bytes of a UTF-8 page, where scanning its characters takes a millisecond)."""
    if encoding != "utf-8":
        return True
    rest = data.translate(None, _PLAIN_ASCII).decode("utf-8", "ignore")
    return _ODD_CHARS.search(rest) is not None


def read_text(data: bytes, path: str) -> Text:
    """Decode bytes and split them into numbered, whitespace-folded lines.

    The folding runs once over the whole text (line ends kept), not line by line."""
    text, enc, cut, warns = decode(data, path)
    if _has_odd_chars(data, text, enc):
        bidi = bidi_warning(text)  # dropped below, as invisibles are; said so, as they reorder a line
        warns = warns if bidi is None else [*warns, bidi]
        text = _SPACES_IN_LINE.sub(" ", _INVISIBLE.sub("", text))
    else:
        while "  " in text:  # str.replace beats a regex here by 20x; runs halve each pass
            text = text.replace("  ", " ")
    raw_lines = _LINE_END.split(text) if "\r" in text else text.split("\n")
    final_newline = raw_lines[-1] == "" if raw_lines else True
    if final_newline:
        raw_lines.pop()
    lines = list(
        map(tuple.__new__, repeat(Line), zip(range(1, len(raw_lines) + 1), map(str.strip, raw_lines), strict=True))
    )
    return Text(lines=lines, encoding=enc, final_newline=final_newline, cut_mid_char=cut, warnings=warns)


def looks_like_html(data: bytes) -> bool:
    """Sniff the content, not the file name: a doctype, an html/body element, or markup-dense text."""
    head = data[:4096]
    if b"<" not in head:  # every sign below is markup: plain text is told in one scan
        return False
    head = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html", b"<?xml")) or b"<body" in head or b"<html" in head:
        return True
    tags = len(re.findall(rb"<(?:div|p|h[1-6]|table|tr|td|span|section|ul|li|a)\b[^>]*>", head))
    return tags >= 5
