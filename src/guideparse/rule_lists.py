"""Whole-line rule lists and their first-word indexes: what `Rules.match_heading` and
`Rules.match_line` match with (compiled with the extraction modules: _native.py)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sized
from typing import ClassVar, Generic, TypeVar

from .rules_regex import AnyOf, Regex

P = TypeVar("P")

_WILD = ""


class RuleList(Generic[P]):
    """Whole-line rules (compile_line_pattern: case-insensitive) tried in order. Past FEW
    rules, those to try on a text are first narrowed by RE2 sets (rules_regex.AnyOf) to the
    ones that match it: 50,000 heading rules opening with {app} cost a few set matches a
    line, where one fullmatch each took 5 s a page."""

    FEW: ClassVar[int] = 16

    def __init__(self, rules: list[tuple[Regex, P]]) -> None:
        self.rules = rules
        self._any = AnyOf([rx.pattern for rx, _ in rules], ignore_case=True) if len(rules) > self.FEW else None

    def __len__(self) -> int:
        return len(self.rules)

    def first_match(self, text: str) -> tuple[P, dict[str, str]] | None:
        """The first rule matching all of `text`: (its payload, its captures)."""
        rules = self.rules if self._any is None else [self.rules[i] for i in self._any.matching(text)]
        for rx, payload in rules:
            m = rx.fullmatch(text)
            if m:
                groups = m.groupdict()
                return payload, {k: v for k, v in groups.items() if v is not None} if groups else {}
        return None


def first_word_index(items: Iterable[tuple[Regex, P]]) -> dict[str, RuleList[P]]:
    """Patterns by their first literal word (case-folded); those that open with a placeholder,
    tried for every line after the line's own word's, under _WILD."""
    index: dict[str, list[tuple[Regex, P]]] = {_WILD: []}
    for rx, payload in items:
        index.setdefault(_first_literal_word(rx), []).append((rx, payload))
    return {w: RuleList(lst) for w, lst in index.items()}


def first_match_in(
    index: dict[str, RuleList[P]], text: str, first_word: str | None = None
) -> tuple[P, dict[str, str]] | None:
    """The first rule of the text's first word (case-folded: `first_word`, when given) that
    matches it, else the first opening with a placeholder."""
    own = index.get(text.partition(" ")[0].casefold() if first_word is None else first_word)
    found = own.first_match(text) if own is not None else None
    if found is None:
        wild = index[_WILD]
        return wild.first_match(text) if wild.rules else None
    return found


def _first_literal_word(rx: Regex) -> str:
    """The case-folded word a compiled line pattern opens with; _WILD when it opens with a
    placeholder (a literal word glued to a placeholder counts as a placeholder)."""
    literal = re.sub(r"\\(.)", r"\1", rx.pattern.split("(?P<", 1)[0])
    if " " in literal:
        return literal.split(" ", 1)[0].casefold()
    return literal.casefold() if "(?P<" not in rx.pattern else _WILD


def opening_words(index: Mapping[str, Sized]) -> frozenset[str] | None:
    """The first words of a first-word index; None when a rule opens with a placeholder."""
    return None if index[_WILD] else frozenset(w for w in index if w != _WILD)
