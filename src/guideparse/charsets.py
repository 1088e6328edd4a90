"""Declared charsets: the encoding an HTML page's <meta> names, and the codec that reads it.

Only the encodings of the WHATWG Encoding Standard (the ones browsers read) are honoured, each
with the codec a browser uses for its label: ISO-8859-1 and ASCII are read as windows-1252,
Shift_JIS as Windows-31J, EUC-KR as windows-949, GB2312 as GBK, Big5 with HKSCS. A page whose
<meta> can be read as ASCII is not UTF-16, so a declared UTF-16 means UTF-8 (as in browsers).
Any other name is unknown (None): the caller reads the page as if nothing were declared.
"""

from __future__ import annotations

import codecs
import re

#: Python codec name -> the codec a browser reads that label with.
_BROWSER_READS = {
    "ascii": "cp1252",
    "iso8859-1": "cp1252",
    "iso8859-9": "cp1254",
    "iso8859-11": "cp874",
    "tis-620": "cp874",
    "shift_jis": "cp932",
    "euc_kr": "cp949",
    "gb2312": "gbk",
    "big5": "big5hkscs",
    "utf-8-sig": "utf-8",
    "utf-16": "utf-8",
    "utf-16-le": "utf-8",
    "utf-16-be": "utf-8",
}
#: The WHATWG encodings, by Python codec name (after _BROWSER_READS).
_WEB_CODECS = frozenset(
    {
        "utf-8",
        "cp866",
        *(f"iso8859-{n}" for n in (2, 3, 4, 5, 6, 7, 8, 10, 13, 14, 15, 16)),
        "koi8-r",
        "koi8-u",
        "mac-roman",
        "mac-cyrillic",
        "cp874",
        *(f"cp125{n}" for n in range(9)),
        "gbk",
        "gb18030",
        "big5hkscs",
        "euc_jp",
        "iso2022_jp",
        "cp932",
        "cp949",
    }
)
#: WHATWG labels Python's codec registry does not know.
_LABELS = {
    "x-sjis": "cp932",
    "windows-31j": "cp932",
    "x-euc-jp": "euc_jp",
    "x-gbk": "gbk",
    "mac": "mac-roman",
    "x-mac-roman": "mac-roman",
    "x-mac-cyrillic": "mac-cyrillic",
    "iso-8859-8-i": "iso8859-8",
    "dos-874": "cp874",
    "x-cp1250": "cp1250",
    "x-cp1251": "cp1251",
    "x-cp1252": "cp1252",
    "unicode-1-1-utf-8": "utf-8",
    "unicode11utf8": "utf-8",
    "unicode20utf8": "utf-8",
    "x-unicode20utf8": "utf-8",
}
_LABEL = re.compile(r"[a-z0-9][a-z0-9._:-]{0,39}")
_META = re.compile(rb"<meta\b([^>]*)>", re.IGNORECASE)
_ATTRIBUTE = re.compile(rb"""([a-z_:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)
_IN_CONTENT = re.compile(rb"""charset\s*=\s*["']?([^\s"';]+)""", re.IGNORECASE)
_COMMENT = re.compile(rb"<!--.*?(?:-->|\Z)", re.DOTALL)
#: How far into a page its <meta charset> is looked for.
HEAD_BYTES = 4096


def declared_charset(data: bytes) -> str | None:
    """The charset a page's first <meta charset="…"> or <meta http-equiv="Content-Type"
    content="…; charset=…"> names (in the first HEAD_BYTES, comments skipped), as written."""
    head = _COMMENT.sub(b"", data[:HEAD_BYTES])
    for meta in _META.finditer(head):
        attrs = {m[1].lower(): m[2] or m[3] or m[4] or b"" for m in _ATTRIBUTE.finditer(meta[1])}
        if attrs.get(b"charset", b"").strip():
            return attrs[b"charset"].strip().decode("latin-1")
        if attrs.get(b"http-equiv", b"").strip().lower() == b"content-type":
            found = _IN_CONTENT.search(attrs.get(b"content", b""))
            if found:
                return found[1].decode("latin-1")
    return None


def codec_for(label: str) -> str | None:
    """The Python codec a browser reads a declared charset with; None when it is not one of
    the WHATWG encodings (misspelt, or a Python codec that is no character set, e.g. rot13)."""
    name = label.strip().lower()
    if not _LABEL.fullmatch(name):
        return None
    name = _LABELS.get(name, name)
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return None
    codec = _BROWSER_READS.get(codec, codec)
    return codec if codec in _WEB_CODECS else None
