"""The CSS selectors rules may use, checked without a selector engine.

page.yaml names chrome and row selectors. They are checked on load against this subset
of CSS Selectors Level 3 (a grammar of a few regular expressions), so a typo fails the
load with file and line, while the engine (soupsieve, what bs4 uses) is started only by
the first HTML page: starting it costs a quarter of a second, which a run of cached or
text-only guides never pays. Every selector this accepts, soupsieve accepts (tested).

    selector list:  compound (combinator compound)* ("," ...)*
    combinator:     whitespace, ">", "+", "~"
    compound:       a type name or "*", then .class, #id, [attr], [attr op value], :not(compound)
"""

from __future__ import annotations

import re

_IDENT = r"-?[A-Za-z_][A-Za-z0-9_-]*"
_VALUE = rf"""(?:{_IDENT}|'[^'\\\n]*'|"[^"\\\n]*")"""
_ATTR = re.compile(rf"\[\s*{_IDENT}\s*(?:(?:[~|^$*]?=)\s*{_VALUE}\s*)?\]")
_TYPE = re.compile(rf"(?:{_IDENT}|\*)")
_CLASS_OR_ID = re.compile(rf"[.#]{_IDENT}")
_COMBINATOR = re.compile(r"\s*[>+~]\s*|\s+")
_COMMA = re.compile(r"\s*,\s*")

SUPPORTED = (
    "a tag or *, .class, #id, [attr], [attr=value] (=, ~=, |=, ^=, $=, *=), :not(...), combinators ' ', >, +, ~ and ','"
)


def check_selector(text: str) -> str | None:
    """None when `text` is a selector list of the subset; else where it goes wrong."""
    pos = _skip(text, 0)
    while True:
        end = _selector(text, pos)
        if end is None:
            return "not a selector of the supported kind"
        pos = end
        m = _COMMA.match(text, pos)
        if m is None or m.end() == len(text):
            break
        pos = m.end()
    pos = _skip(text, pos)
    return None if pos == len(text) else f"unexpected text at {text[pos : pos + 12]!r}"


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def _selector(text: str, pos: int) -> int | None:
    end = _compound(text, pos)
    while end is not None:
        m = _COMBINATOR.match(text, end)
        if m is None or m.end() == len(text) or text[m.end()] == ",":
            return end
        nxt = _compound(text, m.end())
        if nxt is None:
            return end if not m.group().strip() else None  # trailing spaces are no combinator
        end = nxt
    return None


def _compound(text: str, pos: int) -> int | None:
    start = pos
    m = _TYPE.match(text, pos)
    if m:
        pos = m.end()
    while pos < len(text):
        m = _CLASS_OR_ID.match(text, pos) or _ATTR.match(text, pos)
        if m:
            pos = m.end()
        elif text.startswith(":not(", pos):
            inner = _compound(text, _skip(text, pos + 5))
            if inner is None:
                return None
            close = _skip(text, inner)
            if not text.startswith(")", close):
                return None
            pos = close + 1
        else:
            break
    return pos if pos > start else None
