"""spaCy, used where token patterns beat regexes; imported on first use.

App names. The template names the app in fixed sentences ("your IT team manages X accounts
manually", "X gates SCIM behind …", "X has no native SCIM") and headings ("The X
pricing problem", "Unlock SCIM for X"), in the sections listed by
`app_name_sections` in rules/page.yaml. Headings are matched by the heading
rules; sentences by a spaCy Matcher over tokens, whose patterns live in
rules/app_names.jsonl. Token patterns absorb punctuation and spacing that would
make a regex brittle ("Aha!", "Customer.io"), and the Matcher runs only over the
few lines that can hold such a sentence.

Vocabulary phrases. The SSO protocol text ("SAML 2.0, OAuth 2.0 (OIDC)") is
matched with a PhraseMatcher over PROTOCOL terms (rules/vocabulary.jsonl) on
lower-cased tokens; overlapping matches keep the longest ("SAML 2.0" over
"SAML"), so punctuation and order do not matter.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from .context import Ctx
from .errors import RulesError
from .reading import Line
from .rules import Rules

_MAX_NAME_TOKENS = 8

_MATCHERS: dict[str, Any] = {}
_PHRASES: dict[tuple[str, str], Any] = {}


@dataclass(frozen=True)
class Candidate:
    name: str
    line: Line
    rule: str


_NLP: list[Any] = []


def _blank() -> Any:
    """One blank English pipeline per process (tokenizer only)."""
    if not _NLP:
        import spacy

        _NLP.append(spacy.blank("en"))
    return _NLP[0]


def _phrase_matcher(rules: Rules, label: str) -> tuple[Any, Any, dict[str, str]]:
    key = (rules.digest, label)
    if key not in _PHRASES:
        from spacy.matcher import PhraseMatcher

        nlp = _blank()
        matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        values: dict[str, str] = {}
        for text, value, rid in rules.terms.get(label, []):
            matcher.add(rid, [nlp.make_doc(text)])
            values[rid] = value
        _PHRASES[key] = (nlp, matcher, values)
    return _PHRASES[key]


def match_terms(text: str, rules: Rules, label: str) -> list[tuple[str, str]]:
    """Vocabulary terms of `label` in text, longest non-overlapping, in order: [(value, rule id)].

    A text that is one whole term ("SAML 2.0", the usual cell) is answered by lookup:
    the PhraseMatcher would find that same single span, and spaCy is not loaded for it."""
    whole = rules.whole_terms.get(label, {}).get(" ".join(text.split()).lower())
    if whole is not None:
        return [whole]
    return match_phrases(text, rules, label)


def match_phrases(text: str, rules: Rules, label: str) -> list[tuple[str, str]]:
    """match_terms by the PhraseMatcher alone."""
    from spacy.util import filter_spans

    nlp, matcher, values = _phrase_matcher(rules, label)
    doc = nlp.make_doc(text)
    matches = matcher(doc)
    spans = [doc[a:b] for _, a, b in matches]
    ids = {(a, b): nlp.vocab.strings[m] for m, a, b in matches}
    out: list[tuple[str, str]] = []
    for span in sorted(filter_spans(spans), key=lambda sp: sp.start):
        rid = ids[(span.start, span.end)]
        if values[rid] not in (v for v, _ in out):
            out.append((values[rid], rid))
    return out


def _build(rules: Rules) -> tuple[Any, Any, dict[str, tuple[int, int, bool]]]:
    """A blank English pipeline and a Matcher, built once per process and rules digest."""
    cached = _MATCHERS.get(rules.digest)
    if cached is not None:
        return cached
    from spacy.matcher import Matcher

    nlp = _blank()
    matcher = Matcher(nlp.vocab, validate=True)
    meta: dict[str, tuple[int, int, bool]] = {}
    for line_no, p in rules.app_patterns:
        idx = next(i for i, t in enumerate(p.pattern) if t == {"NAME": True})
        tokens = [dict(t) for t in p.pattern]
        tokens[idx] = {"OP": f"{{1,{_MAX_NAME_TOKENS}}}"}
        try:
            matcher.add(p.id, [tokens])
        except Exception as exc:  # spaCy raises ValueError / MatchPatternError
            raise RulesError(
                "GP002",
                f"bad token pattern: {str(exc).splitlines()[0]}",
                path=str(rules.directory / "app_names.jsonl"),
                line=line_no,
            ) from None
        meta[p.id] = (idx, len(p.pattern) - idx - 1, p.anchor == "start")
    _MATCHERS[rules.digest] = (nlp, matcher, meta)
    return _MATCHERS[rules.digest]


def sentence_candidates(lines: list[Line], rules: Rules) -> list[Candidate]:
    """Run the Matcher over the given lines (one nlp.pipe batch)."""
    if not lines:
        return []
    nlp, matcher, meta = _build(rules)
    out: list[Candidate] = []
    for ln, doc in zip(lines, nlp.pipe(ln.text for ln in lines), strict=True):
        best: dict[str, tuple[int, int]] = {}
        for match_id, start, end in matcher(doc):
            rid = nlp.vocab.strings[match_id]
            before, after, anchored = meta[rid]
            if anchored and start != 0:
                continue
            name_start, name_end = start + before, end - after
            prev = best.get(rid)
            # The shortest name wins: "your IT team manages X accounts manually" must not
            # swallow an earlier sentence that happens to contain the same words.
            if prev is None or (name_end - name_start) < (prev[1] - prev[0]):
                best[rid] = (name_start, name_end)
        for rid, (a, b) in best.items():
            name = doc[a:b].text.strip(" ,;:")
            if name:
                out.append(Candidate(name, ln, rid))
    return out


def find_app_name(ctx: Ctx) -> Candidate | None:
    """Most frequent candidate over headings and sentences; disagreement is a warning."""
    page = ctx.page
    cands: list[Candidate] = []
    lines: list[Line] = []
    naming = ctx.rules.page.app_name_sections
    for section in page.sections:
        if section.label in naming.heading and section.captures.get("app"):
            cands.append(Candidate(section.captures["app"], section.heading, section.rule))
        if section.label in naming.next_line and "app" not in section.captures and section.nonblank:
            cands.append(Candidate(section.nonblank[0].text, section.nonblank[0], f"{section.rule}:next-line"))
        if section.label in naming.sentences:
            lines.extend(section.nonblank[:2])
    # Two headings that agree settle it; the sentences (and spaCy) are read only when they don't.
    if len(cands) < 2 or len({c.name for c in cands}) > 1:
        cands.extend(sentence_candidates(lines, ctx.rules))
    if not cands:
        return None
    counts = Counter(c.name for c in cands)
    top = max(counts.values())
    winner = next(c for c in cands if counts[c.name] == top)
    if len(counts) > 1:
        others = ", ".join(f"{n!r}×{k}" for n, k in counts.most_common())
        ctx.warn("GP502", f"template sentences name different apps ({others}); chose {winner.name!r}", winner.line.no)
    return winner
