"""Phrase patterns: the pattern language of the catalog rules (`rules/inference.jsonl`,
`rules/tiers.yaml`). Rules never hold regular expressions; a phrase is a few words:

    no … SCIM provisioning?        "no", up to three words, "SCIM", maybe "provisioning"
    SSO integration? available|supported
    SSO … on {plan} plans?         {plan} captures a plan name (tier statements only)

Tokens are separated by spaces: a word (letters and digits, with `-` `.` `/` `'` `+` `&`
inside), alternatives `a|b|c`, an optional token `word?`, a gap `…` (or `...`) of at most
three words, and `{plan}`, one to five words captured as `plan`. Words match whole words,
case-insensitively; between two tokens the text may hold spaces and punctuation other than
what ends a clause (`.` `;` `:` `!` `?`), so no phrase spans two sentences. Each phrase
compiles to a regular expression built here from escaped words and bounded repetitions:
matching is linear in the text whatever the rules say.
"""

from __future__ import annotations

import re

#: What may separate two words of a phrase: anything but word characters and clause ends.
SEP = r"[^\w.;:!?]+"
#: A word of the text, as a gap or a {plan} counts them ("2.0", "just-in-time", "100k").
WORD = r"\w+(?:[.'’\-]\w+)*"
GAP_WORDS = 3
PLAN_WORDS = 5
MAX_TOKENS = 12
MAX_ALTERNATIVES = 12
GAPS = ("…", "...")
SLOT = "{plan}"
_WORD = re.compile(r"\w(?:[\w\-./'+&]*\w)?")
#: Word sets a text must hold a word of each of (gate_words, passes_gates).
Gates = tuple[tuple[str, ...], ...]


def compile_phrase(phrase: str, *, whole: bool = False, slots: bool = False) -> re.Pattern[str]:
    """A phrase -> its case-insensitive regular expression; ValueError says what is wrong.
    `whole`: the phrase must be all of the text (punctuation around it aside); `slots`:
    `{plan}` is allowed."""
    tokens = phrase.split()
    if not tokens:
        raise ValueError("a phrase needs at least one word")
    if len(tokens) > MAX_TOKENS:
        raise ValueError(f"a phrase has at most {MAX_TOKENS} tokens")
    if tokens[0] in GAPS or tokens[-1] in GAPS:
        raise ValueError("a phrase cannot start or end with a gap (…)")
    if tokens.count(SLOT) > (1 if slots else 0):
        raise ValueError("{plan} is allowed once, in tier statements only" if slots else "{plan} is not allowed here")
    if not any(t not in GAPS and not t.endswith("?") and t != SLOT for t in tokens):
        raise ValueError("a phrase needs at least one word that is not optional")
    body, lead = "", False  # lead: a word was surely matched, so the next token follows a separator
    for token in tokens:
        regex, optional = _token(token)
        if token in GAPS:
            if not lead:
                raise ValueError("a gap (…) needs a word before it that is not optional")
            body += regex
        elif lead:
            body += f"(?:{SEP}{regex})?" if optional else f"{SEP}{regex}"
        else:
            body += f"(?:{regex}{SEP})?" if optional else regex
            lead = not optional
    pattern = rf"^[\W_]*{body}[\W_]*$" if whole else rf"(?<!\w){_reach(tokens)}{body}(?!\w)"
    return re.compile(pattern, re.IGNORECASE)


def _reach(tokens: list[str]) -> str:
    """For a phrase opening with {plan} or optional words: a lookahead that its first required
    word follows within as many words as those tokens can take. It only says what the match
    needs, so it changes no match; it spares trying every split of the words at every start
    of a sentence where that word is not near (a plan-first tier statement: 6x faster)."""
    reach = 0
    for token in tokens:
        if token == SLOT:
            reach += PLAN_WORDS
        elif token in GAPS:
            reach += GAP_WORDS
        elif token.endswith("?") and len(token) > 1:
            reach += 1
        elif reach == 0:
            return ""  # it opens with a required word: the regex tries that first anyway
        else:
            return rf"(?=(?:{WORD}{SEP}){{0,{reach}}}{_token(token)[0]}(?!\w))"
    return ""


def _token(token: str) -> tuple[str, bool]:
    """One token -> (its regex, whether it is optional)."""
    if token in GAPS:
        return f"(?:{SEP}{WORD}){{0,{GAP_WORDS}}}", False
    if token == SLOT:
        return f"(?P<plan>{WORD}(?:{SEP}{WORD}){{0,{PLAN_WORDS - 1}}}?)", False
    optional = token.endswith("?") and len(token) > 1
    words = (token[:-1] if optional else token).split("|")
    if len(words) > MAX_ALTERNATIVES:
        raise ValueError(f"{token!r}: at most {MAX_ALTERNATIVES} alternatives")
    for w in words:
        if not _WORD.fullmatch(w):
            raise ValueError(
                f"{w!r} is not a word (letters and digits, with - . / ' + & inside; "
                "alternatives a|b, optional word?, gap …, {plan})"
            )
    return "(?:" + "|".join(re.escape(w) for w in words) + ")", optional


def fold(text: str) -> str:
    """A text case-folded as the prefilters compare it (needed_words, may_match, gate_words):
    str.casefold, with the dotless ı and the dotted İ (casefolded to i and a combining dot) as
    plain i, since a phrase's regex (re.IGNORECASE) takes both for an i. Every character a
    phrase's word matches then folds as that word's character does."""
    return text.casefold().replace("i\u0307", "i").replace("ı", "i")


def needed_words(phrase: str) -> tuple[tuple[str, ...], ...]:
    """The words a text must hold (folded by `fold`, as substrings) for the phrase to match in
    it: one of each required token's alternatives. A cheap test before the regular expression."""
    groups = []
    for token in phrase.split():
        if token in GAPS or token == SLOT or (token.endswith("?") and len(token) > 1):
            continue
        groups.append(tuple(fold(w) for w in token.split("|")))
    return tuple(groups)


def word_order(needs: tuple[tuple[str, ...], ...]) -> re.Pattern[str]:
    """The test of `may_match` for one phrase (its needed_words), as one regular expression:
    for each group, skip to the earliest place one of its words starts (runs of characters
    no word starts with at once; atomic: never reconsidered), then step one character on.
    Anchored at the start, so linear in the text."""
    steps = []
    for group in needs:
        words = "|".join(re.escape(w) for w in group)
        firsts = "".join(sorted({re.escape(w[0]) for w in group}))
        steps.append(f"(?>(?:[^{firsts}]+|(?!{words}).)*)(?={words}).")
    return re.compile("".join(steps), re.DOTALL)


def may_match(order: re.Pattern[str], folded: str) -> bool:
    """Whether a text folded by `fold` holds the words a phrase needs, in the phrase's order (each
    group's earliest word after the previous group's earliest; `order` = word_order(needs)). A
    match has its words in that order, so this never rejects one; it rejects the sentences
    that hold the words in another order before the phrase's regex tries every split of them."""
    return order.match(folded) is not None


def gate_words(needs: list[tuple[tuple[str, ...], ...]], gates: int = 2) -> Gates:
    """Up to `gates` sets of words such that every text that may match one of these phrases
    (their `needed_words`) holds a word of each set (`passes_gates`). Each set takes one group
    of alternatives from every phrase, a group no earlier set took from it: the group whose
    shortest word is longest (a short word like "on" lies in nearly every text), then the one
    adding the fewest words; there are as many sets as the phrase with the fewest groups has
    groups (at most `gates`). A text missing every word of a set is skipped by a few substring
    tests."""
    groups_left = [list(groups) for groups in needs if groups]
    if not groups_left or len(groups_left) < len(needs):
        return ()  # a phrase that needs no word: no text can be skipped
    sets: list[tuple[str, ...]] = []
    for _ in range(min(gates, min(len(g) for g in groups_left))):
        gate: set[str] = set()
        for groups in groups_left:
            best = min(groups, key=lambda g: (-min(map(len, g)), len(set(g) - gate), len(g)))
            groups.remove(best)
            gate |= set(best)
        sets.append(tuple(sorted(_shortest_cover(gate))))
    return tuple(sets)


def _shortest_cover(words: set[str]) -> set[str]:
    """The words no other word of the set lies within (a text holding "plans" holds "plan")."""
    return {w for w in words if not any(o != w and o in w for o in words)}


def passes_gates(folded: str, gates: Gates) -> bool:
    """Whether a text folded by `fold` holds a word of every gate (gate_words). Loops, not
    generator expressions: it runs for every text the catalog semantics read."""
    for gate in gates:
        for word in gate:
            if word in folded:
                break
        else:
            return False
    return True


_SENTENCE_END = re.compile(r"(?<=[.;:!?])\s+")


def sentences(text: str) -> list[str]:
    """A text cut where a sentence ends (`.` `;` `:` `!` `?` and a space): no phrase spans two."""
    return _SENTENCE_END.split(text)


def negation_before(cue: str, window: int) -> re.Pattern[str]:
    """A negation cue (a phrase) followed by at most `window` words and the end of the text:
    searched in the clause before a match, it says the match is negated ("no documented SCIM")."""
    head = compile_phrase(cue).pattern
    return re.compile(rf"{head}(?:{SEP}{WORD}){{0,{window}}}[^\w.;:!?]*$", re.IGNORECASE)


#: Where a clause ends, for negation: a sentence end, a comma or parenthesis, a spaced dash, "but".
_CLAUSE_END = re.compile(r"[.;:!?](?=\s|$)|[,()]|\s[-–—]\s|\bbut\b", re.IGNORECASE)


def clause_before(text: str, at: int) -> str:
    """The text of the clause that ends at `at`: from the last clause end before it."""
    head = text[:at]
    ends = [m.end() for m in _CLAUSE_END.finditer(head)]
    return head[ends[-1] :] if ends else head
