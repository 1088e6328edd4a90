"""Text that looks like what it is not: look-alike names (GP108) and bidi controls (GP307).

A name (an IdP, a cell value, the app) that is a known vocabulary term as printed, or
pure ASCII, is taken as it is and never looked at here. Any other name is compared with
the vocabulary after two folds:

- NFKC, for compatibility forms: a fullwidth `Ｏkta` or a mathematical bold `𝐎𝐤𝐭𝐚` is,
  by Unicode's own normalisation, the same text as `Okta`. Where NFKC makes a name a
  known term it is read as that term, with a warning saying so.
- a skeleton, after Unicode TR39: each letter of another script that imitates a Latin
  one (the CONFUSABLE entries of rules/vocabulary.jsonl: Cyrillic `О`, Greek `Ο`) replaced
  by the letter it imitates. A Cyrillic `Оkta` is a different string from `Okta`, so it
  is kept as written, never merged with the real term, and flagged.

A name is also flagged when a word of it mixes scripts (one of them Latin or another with
look-alikes: `JumpСloud`), when a word holding look-alike letters reads as Latin (`ОТР`),
or when NFKC changes it without making it a known term. With the table holding one letter
per script and imitated letter (checked on load), of two distinct names that display alike
(the same after NFKC and the skeleton) at least one is always flagged (tested with hypothesis).

Bidi controls reorder what a line shows; reading drops them from every page (with the
zero-width characters), and `bidi_warning` reports the lines they were dropped from.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from .models import Warn
from .printable import BIDI_CONTROLS

if TYPE_CHECKING:
    from .rules import Rules

#: How a warning names a term of each vocabulary label.
_TERM_WORD = {"IDP": "IdP", "CELL": "cell value", "PROTOCOL": "protocol"}
#: Script names as warnings print them (others in title case: Cyrillic, Greek).
_SCRIPT_NAMES = {"CJK": "CJK"}
#: Labels whose terms are looked up as printed (the others case-insensitively, spaces folded).
_AS_PRINTED = ("IDP",)


@dataclass(frozen=True)
class Lookalikes:
    """The vocabulary in the forms names are compared in, built once per rules digest."""

    table: dict[int, str]  # ord(a letter that imitates a Latin one) -> the letter it imitates
    scripts: frozenset[str]  # the scripts whose letters imitate one another (LATIN among them)
    digit_twins: dict[str, frozenset[str]]  # a digit -> the scripts with a letter imitating it (3: CYRILLIC З)
    known: dict[str, dict[str, str]]  # label -> lookup key of each term -> the term
    skeletons: dict[str, dict[str, str]]  # label -> case-folded skeleton of each term -> the term


_LOOKALIKES: dict[str, Lookalikes] = {}


def lookalikes(rules: Rules) -> Lookalikes:
    """The compiled comparison forms of `rules` (cached by rules digest)."""
    look = _LOOKALIKES.get(rules.digest)
    if look is None:
        look = _LOOKALIKES[rules.digest] = _build(rules)
    return look


def _build(rules: Rules) -> Lookalikes:
    table = {ord(c): latin for c, latin in rules.confusables.items()}
    scripts = frozenset({"LATIN"} | {_script(c) for c in rules.confusables})
    terms = {
        "IDP": [t for t, _ in rules.idps],
        "CELL": [t.text for t in rules.cells.values()],
        **{label: [t for t, _, _ in lst] for label, lst in rules.terms.items()},
    }
    known = {label: {_key(label, t): t for t in reversed(lst)} for label, lst in terms.items()}
    skeletons = {
        label: {unicodedata.normalize("NFKC", t).translate(table).casefold(): t for t in reversed(lst)}
        for label, lst in terms.items()
    }
    twins: dict[str, set[str]] = {}
    for c, latin in rules.confusables.items():
        if latin.isdigit():
            twins.setdefault(latin, set()).add(_script(c))
    return Lookalikes(table, scripts, {d: frozenset(s) for d, s in twins.items()}, known, skeletons)


def _key(label: str, text: str) -> str:
    return text if label in _AS_PRINTED else " ".join(text.split()).casefold()


def _script(ch: str) -> str:
    """The script a letter's Unicode name opens with (LATIN, CYRILLIC, GREEK, …)."""
    return unicodedata.name(ch, "").partition(" ")[0]


def skeleton(text: str, rules: Rules) -> str:
    """NFKC, then every letter that imitates a Latin one replaced by that letter."""
    return unicodedata.normalize("NFKC", text).translate(lookalikes(rules).table)


def describe(chars: Iterable[str], limit: int = 3) -> str:
    """'U+041E CYRILLIC CAPITAL LETTER O, …' for the distinct characters, in order."""
    distinct = list(dict.fromkeys(chars))
    named = [f"U+{ord(c):04X} {unicodedata.name(c, '?')}" for c in distinct[:limit]]
    return ", ".join(named) + (f" and {len(distinct) - limit} more" if len(distinct) > limit else "")


class Verdict(NamedTuple):
    name: str  # the name as kept: as written, or the known term NFKC makes it
    warning: str | None  # why it looks like what it is not (a GP108 message)


def vet(name: str, label: str | None, rules: Rules, what: str, kept: str = "kept as written") -> Verdict:
    """Judge a printed name against the terms of vocabulary `label` (None: no vocabulary,
    the name is only checked for mixed scripts and imitated Latin). `what` names it in
    the warning ("IdP name", "app name"), `kept` says what becomes of a flagged one."""
    if name.isascii():
        return Verdict(name, None)
    look = lookalikes(rules)
    known = look.known.get(label, {}) if label else {}
    if _key(label or "", name) in known:
        return Verdict(name, None)
    nfkc = unicodedata.normalize("NFKC", name)
    term = known.get(_key(label or "", nfkc))
    if term is not None:
        changed = describe(c for c in name if unicodedata.normalize("NFKC", c) != c)
        return Verdict(
            term, f"{what} {name!r} is {term!r} in compatibility characters ({changed}); read as {term!r} (NFKC)"
        )
    problem = _problem(name, nfkc, label, look, what)
    return Verdict(name, None if problem is None else f"{problem}; {kept}")


def _problem(name: str, nfkc: str, label: str | None, look: Lookalikes, what: str) -> str | None:
    """What makes a name that is not a known term look like one, or like other text, if anything."""
    posers = [c for c in nfkc if ord(c) in look.table]
    term = look.skeletons.get(label, {}).get(nfkc.translate(look.table).casefold()) if posers and label else None
    if term is not None:
        word = _TERM_WORD.get(label or "", "term")
        return f"{what} {name!r} looks like the known {word} {term!r} but holds {describe(posers)}, so is not it"
    for word in nfkc.split():
        odd = _odd_word(word, look)
        if odd is not None:
            return f"{what} {name!r} {odd}"
    if nfkc != name:
        changed = describe(c for c in name if unicodedata.normalize("NFKC", c) != c)
        return f"{what} {name!r} holds compatibility characters ({changed}), NFKC reads it as {nfkc!r}"
    return None


def _odd_word(word: str, look: Lookalikes) -> str | None:
    """Why one word may pass for another: its letters come from two scripts (one of them
    with look-alikes), or it holds look-alike letters and reads as Latin (every letter of its
    skeleton ASCII, or the look-alike itself a Latin letter such as dotless ı). With the
    table one letter per script and imitated letter, of two distinct words alike after the
    skeleton one always answers here; a digit among letters of a script with a letter imitating
    it (Cyrillic З for 3) answers too, since the word with that letter instead is an ordinary
    word of the script."""
    scripts = sorted({_script(c) for c in word if c.isalpha()})
    named = " and ".join(_SCRIPT_NAMES.get(s, s.title()) for s in scripts)
    if len(scripts) > 1 and not look.scripts.isdisjoint(scripts):
        return f"mixes {named} letters in {word!r}"
    twin = next((d for d in word if look.digit_twins.get(d, frozenset()) & set(scripts)), None)
    if twin is not None:  # "3ж" displays as the Cyrillic "Зж"
        return f"holds the digit {twin!r} among {named} letters, one of which imitates it, in {word!r}"
    posers = [c for c in word if ord(c) in look.table]
    if not posers:
        return None
    skel = word.translate(look.table)
    if scripts == ["LATIN"] or all(c.isascii() for c in skel if c.isalpha()):
        return f"imitates the Latin {skel!r} with {describe(posers)}"
    return None


def glued_lookalike(text: str, pos: int, terms: list[tuple[str, str]], rules: Rules) -> tuple[str, str] | None:
    """A piece of a glued row at `pos` that NFKC and the skeleton make one of `terms`
    ((text, rule id), longest first), glued to what follows or ending the row: (the piece
    as printed, the term's rule id). Asked only where no term is printed at `pos`."""
    table = lookalikes(rules).table
    for term, rid in terms:
        end = pos + len(term)
        if end > len(text) or (end < len(text) and text[end].isspace()):
            continue
        piece = text[pos:end]
        if not piece.isascii() and unicodedata.normalize("NFKC", piece).translate(table) == term:
            return piece, rid
    return None


# --------------------------------------------------------------------------- bidi controls

_BIDI = re.compile(f"[{BIDI_CONTROLS}]")
# The same characters as HTML character references (an HTML parser turns these into them).
_BIDI_HTML = re.compile(
    f"[{BIDI_CONTROLS}]|&#(?:x0*(?:200[ef]|202[a-e]|206[6-9])|0*(?:820[67]|823[4-8]|829[4-7]));?|&[lr]rm;",
    re.IGNORECASE,
)
_LINE_END = re.compile(r"\r\n|\r|\n")


def bidi_warning(text: str, html: bool = False) -> Warn | None:
    """GP307 naming the lines of a page's text (or HTML source) that hold bidi controls,
    which reading drops; None when there are none. For HTML the lines are source lines,
    named in the message (a warning's own line counts rendered lines)."""
    hits = list((_BIDI_HTML if html else _BIDI).finditer(text))
    if not hits:
        return None
    lines: list[int] = []
    line, prev = 1, 0
    for m in hits:  # line ends counted once, from one hit to the next
        line += len(_LINE_END.findall(text, prev, m.start()))
        prev = m.start()
        if not lines or lines[-1] != line:
            lines.append(line)
    shown = ", ".join(map(str, lines[:5])) + (f" and {len(lines) - 5} more" if len(lines) > 5 else "")
    chars = describe(c for m in hits for c in _bidi_char(m.group()))
    where = "source line" if html else "line"
    return Warn(
        code="GP307",
        message=f"bidi control characters removed ({chars}) from {where}{'s' if len(lines) > 1 else ''} {shown}",
        line=None if html else lines[0],
    )


def _bidi_char(found: str) -> str:
    """The character a match stands for (itself, or what an HTML reference names)."""
    if not found.startswith("&"):
        return found
    import html

    return html.unescape(found if found.endswith(";") else found + ";")
