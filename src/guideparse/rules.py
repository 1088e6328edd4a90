"""The compiled rules: what extraction consults, built once per process by `load_rules`.

Headings, labels, vocabularies, boilerplate and patterns are data in `rules/`.
`rules_schema` says what each file may hold, `rules_load` reads and validates the files
(an error names file, line and the valid choices); this module compiles them into the
lookups the extractor matches with. Lookups derived from others are cached properties,
built on first use. Adding an IdP, a cell value or a heading wording is a rules change.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

from .rule_lists import RuleList, first_match_in, first_word_index, opening_words
from .rules_catalog import InferenceEntry, LintsFile, TiersFile
from .rules_families import FamiliesFile
from .rules_load import default_rules_dir, read_rules
from .rules_regex import Regex, compile_regex
from .rules_schema import (
    IDP_CELL_COLUMNS,
    AppNamePattern,
    Column,
    HeaderRules,
    LabelField,
    LinePattern,
    PageFile,
    StartPattern,
    TablesFile,
    VocabEntry,
    compile_line_pattern,
)

#: Column and LabelField, schema models, are here for the modules that annotate with them.
__all__ = ["CellTerm", "Column", "Heading", "LabelField", "Rules", "Start", "load_rules"]

#: Vocabulary labels whose terms are kept as (text, value, rule id) lists.
TERM_LABELS = ("PROTOCOL", "CURRENCY", "PERIOD", "PRICE_TERM")

LineRule = tuple[Regex, str]  # (whole-line regex, rule id)


@dataclass(frozen=True)
class Heading:
    label: str
    id: str
    regex: Regex
    family: str | None = None  # the family whose own heading it is (families.yaml); None: headings.jsonl


@dataclass(frozen=True)
class CellTerm:
    text: str
    value: str
    columns: tuple[str, ...]
    id: str


@dataclass(frozen=True)
class Start:
    id: str
    regex: Regex | None
    glued: bool
    vocabulary: str | None = None
    case_change: bool = False
    not_after: str = ""  # characters that must not come just before the start


class Vocabulary(NamedTuple):
    """rules/vocabulary.jsonl in the forms extraction looks terms up in (see the same
    fields of Rules)."""

    idps: list[tuple[str, str]]
    cells: dict[str, CellTerm]
    icons: dict[str, tuple[str, str]]
    icon_tables: dict[str, tuple[str, ...]]
    bools: dict[str, tuple[bool, str]]
    terms: dict[str, list[tuple[str, str, str]]]
    confusables: dict[str, str]


@dataclass(frozen=True)
class Rules:
    """Compiled rules; build once per process with `load_rules`."""

    directory: Path
    digest: str
    headings: list[Heading]
    idps: list[tuple[str, str]]  # (printed name, rule id), longest first
    cells: dict[str, CellTerm]  # casefolded text -> term
    icons: dict[str, tuple[str, str]]  # icon -> (cell value, rule id)
    icon_tables: dict[str, tuple[str, ...]]  # icon -> table kinds it is limited to
    bools: dict[str, tuple[bool, str]]  # casefolded word -> (value, rule id)
    terms: dict[str, list[tuple[str, str, str]]]  # PROTOCOL/CURRENCY/PERIOD/PRICE_TERM -> [(text, value, id)]
    confusables: dict[str, str]  # a letter that imitates a Latin one -> that letter (CONFUSABLE)
    app_patterns: list[tuple[int, AppNamePattern]]  # (line in app_names.jsonl, pattern)
    tables_file: TablesFile  # rules/tables.yaml, validated
    starts: dict[str, list[Start]]  # tables.yaml `starts`, compiled
    page: PageFile  # rules/page.yaml, validated
    header: dict[str, list[LineRule]]  # page.yaml `header`, compiled, per kind
    end_markers: list[LineRule]
    boilerplate: list[LineRule]
    # The catalog's rules, validated (infer.py, tiers.py and lints.py compile what they match with):
    inference: list[InferenceEntry]  # rules/inference.jsonl
    tiers: TiersFile  # rules/tiers.yaml
    lints: LintsFile  # rules/lints.yaml
    families: FamiliesFile  # rules/families.yaml, validated (families.py compiles what it matches with)

    @cached_property
    def icons_longest_first(self) -> list[tuple[str, tuple[str, str]]]:
        """The icons as (icon, (cell value, rule id)), longest first: a prefix test takes the first."""
        return sorted(self.icons.items(), key=lambda t: -len(t[0]))

    @cached_property
    def bullet_prefixes(self) -> tuple[str, ...]:
        """Each bullet marker followed by its space: a bullet line starts with one of these."""
        return tuple(f"{m} " for m in self.page.bullets)

    @cached_property
    def spec_labels(self) -> tuple[dict[str, tuple[str, str]], list[tuple[str, str, str]]]:
        """Technical-specs labels: (case-folded label -> (label, field), the first of the
        longest first kept; [(label, case-folded label, field)] longest first)."""
        specs = self.tables_file.technical_specs
        labels = sorted(((lab, f.field) for f in specs for lab in f.labels), key=lambda t: -len(t[0]))
        exact: dict[str, tuple[str, str]] = {}
        for lab, fld in labels:
            exact.setdefault(lab.casefold(), (lab, fld))
        return exact, [(lab, lab.casefold(), fld) for lab, fld in labels]

    @cached_property
    def cell_terms(self) -> list[tuple[str, str]]:
        """Every CELL term as (text, rule id), longest first."""
        return sorted(((t.text, t.id) for t in self.cells.values()), key=lambda t: -len(t[0]))

    @cached_property
    def cell_terms_by_column(self) -> dict[str, list[tuple[str, str]]]:
        """CELL terms allowed in each IdP column, longest first."""
        return {
            col: [(t, r) for t, r in self.cell_terms if col in self.cells[t.casefold()].columns]
            for col in IDP_CELL_COLUMNS
        }

    @cached_property
    def start_terms(self) -> dict[str, list[str]]:
        """The words a `starts` rule with a vocabulary looks for, per vocabulary."""
        return {
            "ICON": list(self.icons),
            "CELL": [t for t, _ in self.cell_terms],
            "CURRENCY": [t for t, _, _ in self.terms.get("CURRENCY", [])],
        }

    @cached_property
    def term_finders(self) -> dict[str, re.Pattern[str] | None]:
        """A zero-width pattern matching wherever one of a word list begins, for the CELL terms
        ("CELL"), those of each IdP column ("CELL:<column>") and each start vocabulary
        ("START:<label>"): one scan of a row finds every place a term can start."""
        lists = {
            "CELL": [t for t, _ in self.cell_terms],
            **{f"CELL:{col}": [t for t, _ in terms] for col, terms in self.cell_terms_by_column.items()},
            **{f"START:{label}": terms for label, terms in self.start_terms.items()},
        }
        return {key: _any_word_starts(words) for key, words in lists.items()}

    @cached_property
    def term_lookup(self) -> dict[str, dict[str, tuple[str, str]]]:
        """Per vocabulary label: case-folded term text -> (value, rule id) (prices' words)."""
        return self._term_index(str.casefold)

    @cached_property
    def whole_terms(self) -> dict[str, dict[str, tuple[str, str]]]:
        """Per vocabulary label: lower-cased, space-folded term text -> (value, rule id), as the
        PhraseMatcher compares tokens (its LOWER attribute)."""
        return self._term_index(lambda t: " ".join(t.split()).lower())

    def _term_index(self, key: Callable[[str], str]) -> dict[str, dict[str, tuple[str, str]]]:
        """Per vocabulary label: key(term text) -> (value, rule id), the first defined kept."""
        out: dict[str, dict[str, tuple[str, str]]] = {}
        for label, lst in self.terms.items():
            index = out[label] = {}
            for text, value, rid in lst:
                index.setdefault(key(text), (value, rid))
        return out

    @cached_property
    def header_starts(self) -> tuple[str, ...]:
        """Every table header name, case-folded: a header row must begin with one."""
        specs = self.tables_file.tables.values()
        return tuple(sorted({h.casefold() for spec in specs for c in spec.columns for h in c.headers}))

    @cached_property
    def header_index(self) -> dict[str, list[tuple[str, Column]]]:
        """Per table kind: (casefolded header name, column), longest name first."""
        out: dict[str, list[tuple[str, Column]]] = {}
        for kind, spec in self.tables_file.tables.items():
            pairs = [(h.casefold(), c) for c in spec.columns for h in c.headers]
            out[kind] = sorted(pairs, key=lambda t: -len(t[0]))
        return out

    @cached_property
    def _heading_index(self) -> dict[str, RuleList[Heading]]:
        return first_word_index((h.regex, h) for h in self.headings)

    @cached_property
    def _line_indexes(self) -> dict[str, dict[str, RuleList[str]]]:
        lists = {"end_markers": self.end_markers, "boilerplate": self.boilerplate, **self.header}
        return {k: first_word_index(v) for k, v in lists.items()}

    @cached_property
    def _first_words(self) -> dict[str, frozenset[str] | None]:
        out = {kind: opening_words(index) for kind, index in self._line_indexes.items()}
        out["headings"] = opening_words(self._heading_index)
        return out

    def first_words(self, kind: str) -> frozenset[str] | None:
        """The case-folded first words that can open a line matching a rule list ("headings",
        or a match_line kind); None when some rule opens with a placeholder (any line can)."""
        return self._first_words[kind]

    def match_heading(self, text: str, first_word: str | None = None) -> tuple[Heading, dict[str, str]] | None:
        """The first heading rule matching the whole line; `first_word`: its first word
        case-folded, when the caller has it."""
        if not text or len(text) > 160:
            return None
        return first_match_in(self._heading_index, text, first_word)

    def match_line(self, kind: str, text: str) -> tuple[str, dict[str, str]] | None:
        """Match a page rule list (header.<kind>, end_markers, boilerplate); return (rule id, captures)."""
        if not text or len(text) > 240:
            return None
        return first_match_in(self._line_indexes[kind], text)


def _any_word_starts(words: list[str]) -> re.Pattern[str] | None:
    """A zero-width pattern matching where any of the words begins (longest first, then
    alphabetical: the same pattern in every process). Python's `re`, as RE2 has no
    lookahead: built here from escaped literals, it has no repetition to backtrack over."""
    if not words:
        return None
    return re.compile("(?=" + "|".join(map(re.escape, sorted(set(words), key=lambda w: (-len(w), w)))) + ")")


# --------------------------------------------------------------------------- compiling


def compile_vocabulary(entries: Iterable[VocabEntry]) -> Vocabulary:
    """Vocabulary entries (validated: no term twice under one label) -> lookups by label."""
    v = Vocabulary([], {}, {}, {}, {}, {label: [] for label in TERM_LABELS}, {})
    for e in entries:
        text = e.term
        if e.label == "IDP":
            v.idps.append((text, e.id))
        elif e.label == "CELL":
            v.cells[text.casefold()] = CellTerm(text, str(e.value), tuple(e.columns or ()), e.id)
        elif e.label == "ICON":
            v.icons[text] = (str(e.value), e.id)
            if e.tables:
                v.icon_tables[text] = tuple(e.tables)
        elif e.label == "BOOL":
            v.bools[text.casefold()] = (bool(e.value), e.id)
        elif e.label == "CONFUSABLE":
            v.confusables[text] = str(e.value)
        else:
            v.terms[e.label].append((text, str(e.value), e.id))
    for lst in v.terms.values():
        lst.sort(key=lambda t: -len(t[0]))
    v.idps.sort(key=lambda t: (-len(t[0]), t[0]))
    return v


def compile_starts(tables: TablesFile) -> dict[str, list[Start]]:
    """tables.yaml `starts`, their patterns compiled (RE2: rules_regex)."""
    return {key: [_compile_start(sp) for sp in starts] for key, starts in tables.starts.items()}


def _compile_start(sp: StartPattern) -> Start:
    regex = compile_regex(sp.pattern) if sp.pattern else None
    return Start(sp.id, regex, sp.glued, sp.vocabulary, sp.case_change, sp.not_after or "")


def compile_lines(patterns: list[LinePattern]) -> list[LineRule]:
    """Line patterns as (whole-line regex, rule id), in file order."""
    return [(compile_line_pattern(lp.pattern), lp.id) for lp in patterns]


def load_rules(directory: str | Path | None = None) -> Rules:
    """Read, validate and compile the rules in `directory` (default: the project's);
    raise RulesError naming file and line."""
    d = Path(directory) if directory is not None else default_rules_dir()
    files = read_rules(d)
    vocab = compile_vocabulary(files.vocabulary.value)
    tables, page = files.tables.value, files.page.value
    return Rules(
        directory=d,
        digest=files.digest,
        headings=[Heading(h.label, h.id, compile_line_pattern(h.pattern)) for h in files.headings.value]
        + family_headings(files.families.value),
        idps=vocab.idps,
        cells=vocab.cells,
        icons=vocab.icons,
        icon_tables=vocab.icon_tables,
        bools=vocab.bools,
        terms=vocab.terms,
        confusables=vocab.confusables,
        app_patterns=[(files.app_names.lines[(i,)], p) for i, p in enumerate(files.app_names.value)],
        tables_file=tables,
        starts=compile_starts(tables),
        page=page,
        header={kind: compile_lines(getattr(page.header, kind)) for kind in HeaderRules.model_fields},
        end_markers=compile_lines(page.end_markers),
        boilerplate=compile_lines(page.boilerplate),
        inference=files.inference.value,
        tiers=files.tiers.value,
        lints=files.lints.value,
        families=files.families.value,
    )


def family_headings(families: FamiliesFile) -> list[Heading]:
    """The families' own headings (families.yaml), segmented like headings.jsonl's."""
    return [
        Heading(h.label, h.id, compile_line_pattern(h.pattern), name)
        for name, fam in families.families.items()
        for h in fam.headings
    ]
