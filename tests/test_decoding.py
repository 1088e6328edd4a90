"""Decoding: a few bad bytes keep a UTF-8 page UTF-8 (named by line), a cp1252 page stays
cp1252, a declared charset is honoured, and no bytes raise anything but InputError.

Golden cases of whole records are in tests/cases/reading.json; these are the properties.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ROOT
from guideparse.charsets import codec_for, declared_charset
from guideparse.errors import InputError
from guideparse.reading import decode, read_text

LABELS = [
    "utf-8",
    "Shift_JIS",
    "euc-jp",
    "iso-2022-jp",
    "gb18030",
    "big5",
    "koi8-r",
    "latin1",
    "utf-16",
    "x-bogus",
    "rot13",
]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000), st.one_of(st.none(), st.sampled_from(LABELS), st.text(max_size=20)))
def test_any_bytes_decode_or_fail_cleanly(data, charset):
    """Any bytes, with any declared charset: text that is valid Unicode (no stray surrogate
    left from marking bad bytes), or InputError (empty, binary)."""
    try:
        text, enc, _cut, warns = decode(data, "p.txt", charset)
    except InputError as exc:
        assert exc.code in ("GP901", "GP902")
        return
    text.encode("utf-8")  # raises on a lone surrogate
    assert enc and all(w.code in ("GP301", "GP305", "GP306") for w in warns)


#: Lines of text with multi-byte characters; bytes that are never valid where they are put (at a line's end).
LINE = st.text(alphabet="abc xyz✓❌—é→日本", min_size=1, max_size=30).map(lambda s: s.strip() or "x")
STRAY = st.sampled_from([b"\x80", b"\xbf", b"\xc0", b"\xc3", b"\xe2", b"\xf0", b"\xf8", b"\xff"])


@settings(max_examples=150, deadline=None)
@given(st.lists(LINE, min_size=2, max_size=40), st.data())
def test_few_bad_bytes_stay_utf8_named_by_line(lines, data):
    """Stray bytes at the ends of some lines, fewer than the page's multi-byte characters:
    still UTF-8, each stray byte exactly one U+FFFD, and a GP305 warning on each such line."""
    multibyte = sum(ord(c) > 127 for line in lines for c in line)
    bad = data.draw(st.sets(st.integers(0, len(lines) - 1), max_size=min(multibyte, 12)))
    raw = b"\n".join(line.encode() + (data.draw(STRAY) if i in bad else b"") for i, line in enumerate(lines)) + b"\n"
    text, enc, cut, warns = decode(raw, "p.txt")
    assert (enc, cut) == ("utf-8", False)
    assert text == "\n".join(line + ("\ufffd" if i in bad else "") for i, line in enumerate(lines)) + "\n"
    named = [w.line for w in warns if w.code == "GP305" and w.line is not None]
    assert named == sorted(i + 1 for i in bad)[:10]
    assert len([w for w in warns if w.code == "GP305"]) == min(len(bad), 11)
    assert [w.code for w in read_text(raw, "p.txt").warnings if w.code != "GP305"] == []


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="abcdef XYZ.,éèàüïçñöÉ", min_size=1, max_size=200).filter(lambda s: s.strip()))
def test_cp1252_page_stays_cp1252(text):
    """A windows-1252 page (accented letters as single bytes, which never form a UTF-8
    sequence) reads as cp1252, every character as written, with GP301. (It ends in ASCII: a
    page whose only non-ASCII byte is a lead byte at its very end reads as cut mid-character.)"""
    text += "."
    got, enc, _cut, warns = decode(text.encode("cp1252"), "p.txt")
    if text.isascii():
        assert (got, enc, warns) == (text, "utf-8", [])
    else:
        assert (got, enc, [w.code for w in warns]) == (text, "cp1252", ["GP301"])


@pytest.mark.parametrize(
    ("label", "sample"),
    [
        ("Shift_JIS", "アクメ ① SCIM 対応"),
        ("EUC-JP", "アクメはSCIMに対応"),
        ("gb2312", "支持 SCIM 的应用"),
        ("Big5", "支援 SCIM 的應用"),
        ("euc-kr", "SCIM 지원"),
        ("koi8-r", "Поддержка SCIM"),
        ("windows-1251", "Поддержка SCIM"),
        ("iso-8859-7", "Υποστήριξη SCIM"),
        ("ISO-8859-1", "Café — naïve"),
    ],
)
def test_declared_charset_is_honoured(label, sample):
    """The encodings browsers read, each by a label pages use: the text comes back as written."""
    codec = codec_for(label)
    assert codec is not None
    data = f"<p>{sample}</p>\n".encode(codec)
    text, enc, _cut, warns = decode(data, "p.html", label)
    assert (text, enc, warns) == (f"<p>{sample}</p>\n", codec, [])


@pytest.mark.parametrize(
    ("head", "declared"),
    [
        (b'<meta charset="Shift_JIS">', "Shift_JIS"),
        (b"<META CHARSET=euc-jp>", "euc-jp"),
        (b"<meta charset='gbk' />", "gbk"),
        (b'<meta http-equiv="Content-Type" content="text/html; charset=koi8-r">', "koi8-r"),
        (b"<meta content='text/html;charset=big5' http-equiv='content-type'>", "big5"),
        (b'<meta name="description" content="charset=utf-7 is not a charset here">', None),
        (b"<!-- <meta charset=koi8-r> --><meta charset=windows-1251>", "windows-1251"),
        (b'<meta charset="utf-8"><meta charset="Shift_JIS">', "utf-8"),
        (b"<p>no meta</p>", None),
        (b" " * 5000 + b'<meta charset="Shift_JIS">', None),
    ],
)
def test_declared_charset_found(head, declared):
    """<meta charset> and http-equiv Content-Type, in the page's first 4 KB, comments skipped, first wins."""
    assert declared_charset(b"<html><head>" + head) == declared


@pytest.mark.parametrize("label", ["x-klingon", "utf-7", "rot13", "unicode_escape", "base64", "", "a\x00b", "é"])
def test_unknown_charsets(label):
    """Names that are no WHATWG encoding (Python codecs that are no charset included) are unknown."""
    assert codec_for(label) is None
    text, enc, _cut, warns = decode("<p>Café ✓</p>".encode(), "p.html", label)
    assert (text, enc, [w.code for w in warns]) == ("<p>Café ✓</p>", "utf-8", ["GP306"])


@pytest.mark.parametrize("junk", [b"\xc0\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xff"])
def test_one_damaged_sequence_keeps_a_utf8_page_utf8(junk):
    """An overlong form, an encoded surrogate, a code point past U+10FFFF: damage in a UTF-8 page
    (GP305), not a reason to read the whole page as cp1252 (which turns every — into â€”)."""
    page = (ROOT / "raw" / "airtable.flat.txt").read_bytes()
    text, enc, _cut, warns = decode(page.replace(b"Airtable", b"Air" + junk + b"table", 1), "p.txt")
    assert enc == "utf-8" and [w.code for w in warns] == ["GP305"] and "\u2014" in text
