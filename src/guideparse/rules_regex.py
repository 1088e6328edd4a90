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

import re
from collections.abc import Iterator
from typing import Any, Protocol, cast

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
    and the constructs it lacks when that is the reason). A pattern RE2 accepts that cannot
    backtrack much (`_backtracks_little`) is then matched by `re`, a few times cheaper per call
    (with re.ASCII, so \\w, \\d and \\b mean what they mean in RE2; not for a case-insensitive
    pattern with non-ASCII letters, which RE2 folds by Unicode and `re.ASCII` would not)."""
    try:
        compiled = cast(Regex, re2.compile(pattern, _options(ignore_case)))
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if isinstance(exc.args[0], bytes) else str(exc)
        if "perl operator" in reason or "escape sequence" in reason:
            reason += " (rules patterns are RE2 syntax: no lookaround, no backreference)"
        raise ValueError(reason) from None
    except UnicodeEncodeError:  # a lone surrogate
        raise ValueError("pattern is not valid Unicode") from None
    folds = ignore_case or _INLINE_IGNORE_CASE.search(pattern) is not None
    if (pattern.isascii() or not folds) and not _READ_OTHERWISE.search(pattern) and _backtracks_little(pattern):
        return cast(Regex, re.compile(pattern, re.ASCII | (re.IGNORECASE if ignore_case else 0)))
    return compiled


#: An inline flag group that turns case folding on, `(?i)` or `(?mi:…)`: `re` folds only ASCII
#: under re.ASCII, RE2 folds Unicode (a possible one too: such a pattern is left to RE2).
_INLINE_IGNORE_CASE = re.compile(r"\(\?[a-zA-Z-]*i")
#: What `re` parses and reads otherwise than RE2: a POSIX class `[[:alpha:]]` (to `re` a set of
#: those characters and a `]`), `{,3}` (to RE2 literal text; to `re` up to three repeats).
_READ_OTHERWISE = re.compile(r"\[:|\{,")


def _backtracks_little(pattern: str) -> bool:
    """At most one unbounded repeat, and no repeat inside a repeat: `re` then tries each
    split of a line at most once per start, never a power of its length. (ASCII patterns
    only, compiled with re.ASCII: \\w, \\d, \\b and case folding as RE2's on ASCII.)"""
    from re import _parser as sre_parse  # type: ignore[attr-defined]

    unbounded = 0

    def walk(items: Any, inside_repeat: bool) -> bool:
        nonlocal unbounded
        for op, arg in items:
            name = str(op)
            if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                if inside_repeat:
                    return False
                unbounded += arg[1] == sre_parse.MAXREPEAT
                if not walk(arg[2], True):
                    return False
            elif name == "SUBPATTERN":
                if not walk(arg[3], inside_repeat):
                    return False
            elif name == "BRANCH":
                if inside_repeat or not all(walk(b, inside_repeat) for b in arg[1]):
                    return False
        return True

    try:
        return walk(sre_parse.parse(pattern), False) and unbounded <= 1
    except (re.error, RecursionError, OverflowError):
        return False


class AnyOf:
    """Which of many whole-text RE2 patterns match a text, in one pass per SET_SIZE patterns
    (RE2 sets): a long list of rules, tried on every line, costs a few matches, not one each.
    A chunk RE2 cannot build as one set within its memory is split; a pattern that will not
    go into any set is reported as a candidate always (its own fullmatch decides)."""

    SET_SIZE = 256

    def __init__(self, patterns: list[str], *, ignore_case: bool = False) -> None:
        self._options = _options(ignore_case, max_mem=8 << 20)
        self._patterns = patterns
        self._sets: list[tuple[Any, list[int]]] = []  # (RE2 set, or None: always; the patterns' indexes)
        for start in range(0, len(patterns), self.SET_SIZE):
            self._build(list(range(start, min(start + self.SET_SIZE, len(patterns)))))

    def _build(self, chunk: list[int]) -> None:
        one = re2.Set.FullMatchSet(self._options)
        try:
            for i in chunk:
                one.Add(self._patterns[i])
            one.Compile()
        except re2.error:
            if len(chunk) == 1:
                self._sets.append((None, chunk))
                return
            self._build(chunk[: len(chunk) // 2])
            self._build(chunk[len(chunk) // 2 :])
            return
        self._sets.append((one, chunk))

    def matching(self, text: str) -> list[int]:
        """The indexes of the patterns that match all of `text`, in order."""
        found: list[int] = []
        for one, chunk in self._sets:
            found.extend(chunk if one is None else (chunk[j] for j in one.Match(text) or ()))
        return sorted(found)


def _options(ignore_case: bool, max_mem: int = _MAX_MEM) -> Any:
    options = re2.Options()
    options.log_errors = False  # RE2 would print to stderr; the error is raised instead
    options.case_sensitive = not ignore_case
    options.max_mem = max_mem
    return options


def escape(text: str) -> str:
    """`text` as an RE2 pattern matching it literally (every character but letters, digits
    and non-ASCII escaped)."""
    return cast(str, re2.escape(text))
