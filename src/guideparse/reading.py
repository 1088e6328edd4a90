"""Stage 1: bytes -> normalised lines.

Decoding: a BOM (UTF-8, UTF-16) decides; else a charset the page declares (HTML
<meta>, see charsets.py); else UTF-8, where a few bad bytes are read as U+FFFD with a
warning naming their lines (GP305), unless invalid sequences outnumber the valid
multi-byte characters: then the page is cp1252 (GP301). Line ends may be CRLF, CR
or LF. Whitespace noise (doubled or trailing spaces, tabs, non-breaking and
zero-width spaces) is folded here, once, so no later stage and no value ever sees it.
Control and bidi control characters are dropped with it (bidi ones reported, GP307:
they reorder what a line shows).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from itertools import repeat
from typing import NamedTuple

from .charsets import codec_for
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


def decode(data: bytes, path: str, charset: str | None = None) -> tuple[str, str, bool, list[Warn]]:
    """Return (text, encoding, cut_mid_char, warnings) or raise InputError.

    `charset`: what the page declares (an HTML <meta>); a BOM wins over it, and it over sniffing."""
    if not data.strip():
        raise InputError("GP901", "empty file", path=path)
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):  # before UTF-16: FF FE 00 00 starts with FF FE
        try:
            return data.decode("utf-32"), "utf-32", False, []
        except UnicodeDecodeError:
            raise InputError("GP902", "undecodable bytes: bad UTF-32", path=path) from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16", False, []
        except UnicodeDecodeError:
            raise InputError("GP902", "undecodable bytes: bad UTF-16", path=path) from None
    bom = data.startswith(codecs.BOM_UTF8)
    if bom:
        data = data[len(codecs.BOM_UTF8) :]
    _refuse_binary(data, path)
    warns: list[Warn] = []
    codec = None if charset is None or bom else codec_for(charset)
    if charset is not None and not bom and codec is None:
        warns.append(Warn(code="GP306", message=f"unknown charset {charset[:60]!r} declared; decoded as undeclared"))
    if codec is not None and codec != "utf-8":
        text, cut = _decode_marked(data, codec)
        return _unmarked(text, codec, cut, warns)
    text, cut = _decode_marked(data, "utf-8")
    bad = text.count(_MARK)
    if bad and not bom and _reads_as_cp1252(data, text, bad):
        try:
            text, enc = data.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            text, enc = data.decode("latin-1"), "latin-1"
        return text, enc, False, [*warns, Warn(code="GP301", message=f"not valid UTF-8; decoded as {enc}", line=None)]
    return _unmarked(text, "utf-8", cut, warns)


#: A lead byte and the continuation bytes it asks for: the shape of a UTF-8 character, valid or not.
_UTF8_SHAPED = re.compile(rb"[\xc0-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf7][\x80-\xbf]{3}")


def _reads_as_cp1252(data: bytes, text: str, bad: int) -> bool:
    """Invalid sequences outnumber the valid multi-byte characters, and few of them have the
    shape of UTF-8 (an overlong `C0 80`, an encoded surrogate `ED A0 80`, a code point past
    U+10FFFF are damage in a UTF-8 page; an é as the lone byte 0xE9 is cp1252)."""
    valid_multibyte = len(text) - bad - len(data.translate(None, _HIGH_BYTES))
    shaped_invalid = len(_UTF8_SHAPED.findall(data)) - valid_multibyte
    return bad > valid_multibyte and 4 * shaped_invalid < bad


def _refuse_binary(data: bytes, path: str) -> None:
    sample = data[:65536]
    if b"\x00" in sample or len(sample) - len(sample.translate(None, _BINARY_BYTES)) > max(8, len(sample) // 200):
        raise InputError("GP902", "undecodable bytes: binary content, not text", path=path)


#: Put in the place of each undecodable sequence while decoding: a lone surrogate, which no
#: codec decodes valid bytes to, so the marks count and locate exactly the bad bytes.
_MARK = chr(0xDCFF)  # a lone surrogate (mypyc takes no surrogate literal)
_HIGH_BYTES = bytes(range(0x80, 0x100))


def _mark_undecodable(exc: UnicodeError) -> tuple[str, int]:
    if isinstance(exc, UnicodeDecodeError):
        return _MARK, exc.end
    raise exc


codecs.register_error("guideparse.mark", _mark_undecodable)


def _decode_marked(data: bytes, codec: str) -> tuple[str, bool]:
    """Decode with each undecodable sequence marked; an incomplete character at the very end
    (a scrape cut inside it) is left out: (text, cut_mid_char)."""
    decoder = codecs.getincrementaldecoder(codec)("guideparse.mark")
    text = decoder.decode(data, final=False)
    return text, bool(decoder.getstate()[0])


#: Lines with bad bytes named one warning each, up to this many; then one warning for the rest.
_BAD_LINES_LISTED = 10


def _unmarked(text: str, codec: str, cut: bool, warns: list[Warn]) -> tuple[str, str, bool, list[Warn]]:
    """Marks -> U+FFFD, with a GP305 warning for each line that had them (source lines, as
    read_text numbers them)."""
    if _MARK not in text:
        return text, codec, cut, warns
    per_line: dict[int, int] = {}
    line, pos = 1, 0
    for m in re.finditer(_MARK, text):
        line += len(_LINE_END.findall(text, pos, m.start()))
        pos = m.start()
        per_line[line] = per_line.get(line, 0) + 1
    for no, n in list(per_line.items())[:_BAD_LINES_LISTED]:
        message = f"bad bytes: {n} sequence{'s' * (n > 1)} not valid {codec}, read as U+FFFD"
        warns.append(Warn(code="GP305", message=message, line=no))
    if len(per_line) > _BAD_LINES_LISTED:
        more = len(per_line) - _BAD_LINES_LISTED
        warns.append(Warn(code="GP305", message=f"bad bytes on {more} more lines, read as U+FFFD", line=None))
    return text.replace(_MARK, "\ufffd"), codec, cut, warns


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
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        head = data[:8192].decode("utf-16", "ignore").encode("utf-8")[:4096]
    if b"<" not in head:  # every sign below is markup: plain text is told in one scan
        return False
    head = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html", b"<?xml")) or b"<body" in head or b"<html" in head:
        return True
    tags = len(re.findall(rb"<(?:div|p|h[1-6]|table|tr|td|span|section|ul|li|a)\b[^>]*>", head))
    return tags >= 5
