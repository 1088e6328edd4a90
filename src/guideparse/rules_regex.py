"""Regular expressions that come from rules files, compiled by RE2: linear time, always.

A rules folder may come from anyone (`--rules`), and Python's `re` backtracks: `(a+)+$`
against forty letters runs for ever, and a line pattern's lazy `{placeholder}` groups cost
a power of the line's length. RE2 matches in time linear in the text whatever the pattern,
so every pattern built from rules data is compiled here: tables.yaml `starts` patterns and
the whole-line patterns of headings.jsonl and page.yaml. What RE2 lacks (lookarounds,
backreferences) is refused when the rules load (GP002 with file and line), not emulated.
RE2's `\\d`, `\\w`, `\\s` and `\\b` are ASCII; case-insensitive matching folds Unicode.

Python's `re` stays for patterns written in code, and for the vocabulary's term finders
(`rules.Rules.term_finders`), which code builds from escaped literal terms: no repetition,
so no backtracking. Per call, RE2 from Python costs more than `re` on short strings (about
3 µs a fullmatch and 35 µs a finditer over a table row, against 1-2 µs), but rules patterns
are matched a few dozen times a page: extraction of raw/ takes the same time within noise.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, cast

import re2

#: The longest pattern a rules file may give (the schema's limit): rules patterns are words
#: and short phrases, and RE2's memory per pattern is bounded too.
MAX_PATTERN = 1000
#: The memory RE2 may use for one compiled pattern (its default is 8 MB).
_MAX_MEM = 1 << 20


class Match(Protocol):
    def start(self) -> int: ...
    def groupdict(self) -> dict[str, str | None]: ...


class Regex(Protocol):
    """The part of a compiled pattern extraction uses (RE2's and `re`'s alike)."""

    @property
    def pattern(self) -> str: ...
    def fullmatch(self, text: str) -> Match | None: ...
    def finditer(self, text: str, pos: int = ...) -> Iterator[Match]: ...


def compile_regex(pattern: str, *, ignore_case: bool = False) -> Regex:
    """Compile a rules pattern with RE2; ValueError says why it cannot be (RE2's reason,
    and the constructs it lacks when that is the reason)."""
    options = re2.Options()
    options.log_errors = False  # RE2 would print to stderr; the error is raised instead
    options.case_sensitive = not ignore_case
    options.max_mem = _MAX_MEM
    try:
        return cast(Regex, re2.compile(pattern, options))
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if isinstance(exc.args[0], bytes) else str(exc)
        if "perl operator" in reason or "escape sequence" in reason:
            reason += " (rules patterns are RE2 syntax: no lookaround, no backreference)"
        raise ValueError(reason) from None
    except UnicodeEncodeError:  # a lone surrogate
        raise ValueError("pattern is not valid Unicode") from None


def escape(text: str) -> str:
    """`text` as an RE2 pattern matching it literally (every character but letters, digits
    and non-ASCII escaped)."""
    return cast(str, re2.escape(text))
