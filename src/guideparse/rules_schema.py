"""The schema of each rules file, as pydantic models.

Every check one file can answer is a validator here: known labels and field names,
formats, compiling patterns (with RE2, `rules_regex`) and CSS selectors, the shape each
vocabulary label needs, terms listed twice, patterns of printable text and bounded length. A check about a part of the value it validates raises `EntryError`
with the path to that part, so the loader reports the offending entry's line. Checks
that span files (rule ids) are the loader's.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator

from .css_subset import SUPPORTED, check_selector
from .rules_regex import MAX_PATTERN, Regex, compile_regex, escape

#: Section labels the extractor knows; a heading rule must use one of them.
SECTION_LABELS = (
    "summary", "strategic_alternative", "quick_facts", "identity_providers", "cost",
    "pricing", "practice", "constraints", "challenges", "identity_offer", "admins_saying",
    "recurring_theme", "decision", "bottom_line", "call_to_action", "technical_specs",
    "idp_config", "unlock", "last_updated", "keep_exploring", "related_apps",
)  # fmt: skip
VOCAB_LABELS = ("IDP", "CELL", "ICON", "BOOL", "PROTOCOL", "CURRENCY", "PERIOD", "PRICE_TERM", "CONFUSABLE")
IDP_CELL_COLUMNS = ("sso", "scim")
QUICK_FACT_FIELDS = ("scim_available", "scim_tier_required", "sso_required_first",
                     "sso_available", "sso_protocol", "documentation")  # fmt: skip
TECH_SPEC_FIELDS = ("scim_version", "supported_operations", "supported_attributes",
                    "plan_requirement", "prerequisites", "key_limitations")  # fmt: skip
IDP_CONFIG_FIELDS = ("integration_type", "where_to_enable", "prerequisite", "required_credentials",
                     "configuration_steps", "provisioning_trigger", "sync_behavior")  # fmt: skip
RELATED_APP_FIELDS = ("provisioning", "manual_cost")
COST_FIELDS = ("orphaned_accounts", "unused_licenses", "it_hours_per_year",
               "unused_license_cost_usd", "it_labor_cost_usd", "compliance_cost_usd",
               "total_annual_impact_usd")  # fmt: skip
LOSSY_FIELDS = ("constraints", "cost_of_manual_management", "challenges", "key_limitations",
                "identity_providers", "pricing", "summary")  # fmt: skip
FORMATS = ("text/flat", "text/pipe", "html")

#: spaCy Matcher token attributes accepted in rules/app_names.jsonl.
TOKEN_ATTRS = frozenset({"ORTH", "TEXT", "NORM", "LOWER", "LENGTH", "IS_ALPHA", "IS_ASCII", "IS_DIGIT",
                         "IS_LOWER", "IS_UPPER", "IS_TITLE", "IS_PUNCT", "IS_SPACE", "IS_STOP",
                         "LIKE_NUM", "LIKE_URL", "LIKE_EMAIL", "SHAPE", "PREFIX", "SUFFIX"})  # fmt: skip

PLACEHOLDERS = {
    "app": r"(?P<app>\S.*?)",
    "plan": r"(?P<plan>\S.*?)",
    "idp": r"(?P<idp>\S.*?)",
    "date": r"(?P<date>\d{4}-\d{2}-\d{2})",
}
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_SNAKE_CASE = re.compile(r"[a-z][a-z0-9_]*")

Loc = tuple[int | str, ...]


class EntryError(ValueError):
    """A check that fails on a part of the value being validated. `loc` is the path from
    that value to the part (an index, a key), so the error points at the entry's line
    rather than at the list or file that holds it."""

    def __init__(self, message: str, loc: Loc = ()) -> None:
        super().__init__(message)
        self.loc = loc


def shorten(value: object, limit: int = 60) -> str:
    """repr(value), cut to about `limit` characters: a message shows a hostile value, not all of it."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 5]}…{text[-4:]}"


def one_of(value: str, valid: tuple[str, ...], what: str, loc: Loc = ()) -> str:
    """Validate a name against its valid set; the error lists the valid names."""
    if value not in valid:
        raise EntryError(f"unknown {what} {shorten(value)} (valid: {', '.join(valid)})", loc)
    return value


def compile_line_pattern(pattern: str) -> Regex:
    """Literal text with {placeholders} -> a whole-line, case-insensitive RE2 regex."""
    out: list[str] = []
    pos = 0
    seen: set[str] = set()
    for m in _PLACEHOLDER.finditer(pattern):
        out.append(escape(pattern[pos : m.start()]))
        name = m.group(1)
        if name not in PLACEHOLDERS:
            raise ValueError(
                f"unknown placeholder {{{name}}} (valid: {', '.join('{' + p + '}' for p in PLACEHOLDERS)})"
            )
        if name in seen:  # one capture group per name: the regex would not compile
            raise ValueError(f"placeholder {{{name}}} is used twice (each captures one value)")
        seen.add(name)
        out.append(PLACEHOLDERS[name])
        pos = m.end()
    out.append(escape(pattern[pos:]))
    return compile_regex("".join(out), ignore_case=True)


def folded_term(pattern: str) -> str:
    """A vocabulary pattern with its runs of whitespace folded to one space: the term's text."""
    return " ".join(pattern.split())


# --------------------------------------------------------------------------- reusable checks


def _known_sections(labels: list[str]) -> list[str]:
    for i, label in enumerate(labels):
        one_of(label, SECTION_LABELS, "section label", (i,))
    return labels


def _fields_named(valid: tuple[str, ...], what: str) -> AfterValidator:
    """Each label field's `field` must be one the record has for this block."""

    def check(fields: list[LabelField]) -> list[LabelField]:
        for i, f in enumerate(fields):
            one_of(f.field, valid, f"{what} field", (i, "field"))
        return fields

    return AfterValidator(check)


def _selectors_supported(selectors: list[str]) -> list[str]:
    """Every CSS selector is of the subset the HTML reader supports (css_subset), so a typo fails
    the load instead of the first HTML page, without starting the selector engine."""
    for i, sel in enumerate(selectors):
        reason = check_selector(sel)
        if reason is not None:
            raise EntryError(f"bad CSS selector {shorten(sel)}: {reason} (supported: {SUPPORTED})", (i,))
    return selectors


def _printable(text: str) -> str:
    """No control characters (a tab, a NUL): no line of a page holds one, and a message
    showing the pattern must stay one line."""
    bad = next((c for c in text if unicodedata.category(c) == "Cc"), None)
    if bad is not None:
        raise ValueError(f"control character {bad!r} in pattern (write a regex escape such as \\t)")
    return text


def _has_text(pattern: str) -> str:
    if not pattern.strip():
        raise ValueError("blank")
    return pattern


#: A pattern of a rules file: printable, at most MAX_PATTERN characters.
Pattern = Annotated[str, Field(min_length=1, max_length=MAX_PATTERN), AfterValidator(_printable)]
#: Words a rules file gives (a term, a header, a label): a pattern that is not blank. A blank
#: one would match everywhere (an empty table header sent the header reader into a recursion).
Text = Annotated[Pattern, AfterValidator(_has_text)]
SectionLabels = Annotated[list[str], AfterValidator(_known_sections)]
#: Bounded like patterns: the subset's checker recurses into :not(...), one level a 5 characters.
CssSelectors = Annotated[list[Pattern], AfterValidator(_selectors_supported)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- headings.jsonl, page.yaml lines


class LinePattern(_Strict):
    """A whole-line pattern: literal text with {placeholders} (compile_line_pattern)."""

    id: str = Field(min_length=1)
    pattern: Text

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, v: str) -> str:
        compile_line_pattern(v)
        return v


class HeadingRule(LinePattern):
    """A line of rules/headings.jsonl: a heading wording that starts a section."""

    label: str

    @field_validator("label")
    @classmethod
    def _known_label(cls, v: str) -> str:
        return one_of(v, SECTION_LABELS, "section label")


# --------------------------------------------------------------------------- vocabulary.jsonl


def _is_cell_value(value: object) -> bool:
    return isinstance(value, str) and _SNAKE_CASE.fullmatch(value) is not None


def _value_problem(entry: VocabEntry) -> str | None:
    """What is wrong with the entry's value (and columns) for its label, if anything."""
    label, value = entry.label, entry.value
    if label == "IDP":
        ok = value is None and entry.columns is None
        return None if ok else "IDP entries take only label, pattern and id"
    if label == "CELL":
        if not _is_cell_value(value):
            return "CELL value must be a snake_case name such as 'via_api'"
        if not entry.columns or any(c not in IDP_CELL_COLUMNS for c in entry.columns):
            return f"CELL columns must be a non-empty list of {', '.join(IDP_CELL_COLUMNS)}"
        return None
    if label == "ICON":
        ok = _is_cell_value(value)
        return None if ok else "ICON value must be 'yes', 'no' or another cell value such as 'limited'"
    if label == "BOOL":
        return None if isinstance(value, bool) else "BOOL value must be true or false"
    if label == "PRICE_TERM":
        ok = value in ("custom", "free", "from")
        return None if ok else "PRICE_TERM value must be 'custom', 'free' or 'from' (a lead-in: 'Starting at')"
    if label == "CONFUSABLE":
        return _confusable_problem(entry.pattern, value)
    ok = isinstance(value, str) and bool(value.strip())
    return None if ok else f"{label} value must be a non-empty string"


def _confusable_problem(pattern: str, value: object) -> str | None:
    """A CONFUSABLE entry: one non-ASCII letter that NFKC keeps (names are read after NFKC)
    and the one ASCII letter or digit it imitates."""
    if len(pattern) != 1 or pattern.isascii() or not unicodedata.category(pattern).startswith("L"):
        return "CONFUSABLE pattern must be one non-ASCII letter"
    if unicodedata.normalize("NFKC", pattern) != pattern:
        return "CONFUSABLE pattern must be a letter NFKC keeps (NFKC already reads it as ASCII)"
    if not (isinstance(value, str) and len(value) == 1 and value.isascii() and value.isalnum()):
        return "CONFUSABLE value must be the one ASCII letter or digit the character imitates"
    return None


class VocabEntry(_Strict):
    """A line of rules/vocabulary.jsonl: a term, its label and the value it stands for."""

    label: str
    pattern: Text
    id: str = Field(min_length=1)
    value: str | bool | None = None
    columns: list[str] | None = Field(default=None, description="CELL only: the IdP columns the value belongs to")
    tables: list[str] | None = Field(default=None, description="ICON only: table kinds where the icon counts")

    @field_validator("label")
    @classmethod
    def _known_label(cls, v: str) -> str:
        return one_of(v, VOCAB_LABELS, "vocabulary label")

    @model_validator(mode="after")
    def _fits_label(self) -> VocabEntry:
        if self.tables is not None and self.label != "ICON":
            raise ValueError("only ICON entries take tables")
        if self.columns is not None and self.label not in ("CELL", "IDP"):
            raise ValueError("only CELL entries take columns")
        problem = _value_problem(self)
        if problem:
            raise ValueError(problem)
        return self

    @property
    def term(self) -> str:
        """The printed term: the pattern, whitespace folded."""
        return folded_term(self.pattern)

    @property
    def term_key(self) -> str:
        """What two entries of one label must not share: icons and confusable letters (each
        imitates one case) are looked up as printed, every other term case-insensitively."""
        return self.term if self.label in ("ICON", "CONFUSABLE") else self.term.casefold()


def _terms_once(entries: list[VocabEntry]) -> list[VocabEntry]:
    """A term listed twice under one label would make its value depend on file order."""
    seen: set[tuple[str, str]] = set()
    for i, entry in enumerate(entries):
        key = (entry.label, entry.term_key)
        if key in seen:
            raise EntryError(f"{entry.label} term {shorten(entry.term)} is listed twice", (i,))
        seen.add(key)
    return entries


def _one_confusable_per_script(entries: list[VocabEntry]) -> list[VocabEntry]:
    """Two CONFUSABLE letters of one script imitating one letter (Cyrillic І and Ӏ) would
    make two names of that script alike without either mixing scripts: confusables.py's
    promise that one of two look-alike names is always flagged needs one per script."""
    first: dict[tuple[str, str], str] = {}
    for i, entry in enumerate(entries):
        if entry.label == "CONFUSABLE":
            key = (unicodedata.name(entry.pattern, "").partition(" ")[0], str(entry.value))
            if key in first:
                raise EntryError(
                    f"CONFUSABLE {entry.pattern!r} imitates {entry.value!r} as {first[key]!r} of its script does", (i,)
                )
            first[key] = entry.pattern
    return entries


# --------------------------------------------------------------------------- app_names.jsonl


def _uses_regex(value: object) -> bool:
    """A spaCy token pattern value uses the REGEX operator, at any depth (inside FUZZY too).
    spaCy would run it with Python's backtracking `re`: `(a+)+$` and one long token hang."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "REGEX" in item:
                return True
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class AppNamePattern(_Strict):
    """A line of rules/app_names.jsonl: a spaCy Matcher pattern around the app name."""

    label: Literal["APP_NAME"]
    id: str = Field(min_length=1)
    pattern: list[dict[str, Any]] = Field(min_length=2)
    anchor: Literal["start"] | None = None

    @field_validator("pattern")
    @classmethod
    def _one_name(cls, v: list[dict[str, Any]]) -> list[dict[str, Any]]:
        names = [t for t in v if t.get("NAME") is True]
        if len(names) != 1 or names[0] != {"NAME": True}:
            raise ValueError('pattern needs exactly one {"NAME": true} token (the app name)')
        for i, tok in enumerate(v):
            if tok is names[0]:
                continue
            if "OP" in tok:
                raise EntryError("tokens other than NAME must not use OP", (i,))
            bad = sorted(set(tok) - TOKEN_ATTRS)
            if bad or not tok:
                valid = ", ".join(sorted(TOKEN_ATTRS))
                raise EntryError(
                    f"unknown token attribute {shorten(bad[0]) if bad else '(empty)'} (valid: {valid})", (i,)
                )
            if _uses_regex(tok):
                raise EntryError("REGEX is not supported in token patterns (spaCy runs it with Python's re)", (i,))
        return v


# --------------------------------------------------------------------------- tables.yaml


class Column(_Strict):
    role: str
    kind: Literal["key", "cell", "icon", "text"]
    headers: list[Text] = Field(min_length=1)
    vocabulary: str | None = None
    starts: str | None = None
    required: bool = False

    @field_validator("vocabulary")
    @classmethod
    def _known_vocabulary(cls, v: str | None) -> str | None:
        return v if v is None else one_of(v, VOCAB_LABELS, "vocabulary")


class TableSpec(_Strict):
    columns: list[Column] = Field(min_length=2)


class StartPattern(_Strict):
    id: str
    pattern: Pattern | None = Field(default=None, description="an RE2 regular expression (rules_regex)")
    vocabulary: Literal["ICON", "CELL", "CURRENCY"] | None = None
    case_change: bool = False
    glued: bool = False
    not_after: str | None = Field(
        default=None, max_length=MAX_PATTERN, description="characters that must not come just before a start"
    )

    @field_validator("pattern")
    @classmethod
    def _regex(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                compile_regex(v)
            except ValueError as exc:
                raise ValueError(f"bad regular expression: {exc}") from None
        return v

    @model_validator(mode="after")
    def _one_kind(self) -> StartPattern:
        if sum((self.pattern is not None, self.vocabulary is not None, self.case_change)) != 1:
            raise ValueError("a start needs exactly one of pattern, vocabulary, case_change")
        return self


class LabelField(_Strict):
    field: str
    labels: list[Text] = Field(min_length=1)
    type: Literal["bool", "text", "int"]
    means_null: list[Text] = Field(default_factory=list)


class CostRules(_Strict):
    basis_prefix: Text
    figures: Annotated[list[LabelField], _fields_named(COST_FIELDS, "cost")]


class TablesFile(_Strict):
    """rules/tables.yaml."""

    tables: dict[str, TableSpec]
    starts: dict[str, list[StartPattern]]
    quick_facts: Annotated[list[LabelField], _fields_named(QUICK_FACT_FIELDS, "quick_facts")]
    cost: CostRules
    technical_specs: Annotated[list[LabelField], _fields_named(TECH_SPEC_FIELDS, "technical_specs")]
    idp_config: Annotated[list[LabelField], _fields_named(IDP_CONFIG_FIELDS, "idp_config")]
    related_apps: Annotated[list[LabelField], _fields_named(RELATED_APP_FIELDS, "related_apps")]

    @model_validator(mode="after")
    def _starts_known(self) -> TablesFile:
        for kind, spec in self.tables.items():
            for i, col in enumerate(spec.columns):
                if col.starts is not None:
                    one_of(col.starts, tuple(self.starts), "starts", ("tables", kind, "columns", i, "starts"))
        return self

    def rule_ids(self) -> Iterator[tuple[Loc, str]]:
        """(path, id) of every rule with an id, in file order."""
        for kind, starts in self.starts.items():
            for i, start in enumerate(starts):
                yield ("starts", kind, i), start.id


# --------------------------------------------------------------------------- page.yaml


class HeaderRules(_Strict):
    title: list[LinePattern]
    logo: list[LinePattern]
    tagline: list[LinePattern]
    plan_requirement: list[LinePattern]
    plan_absent: list[LinePattern]
    chrome: list[LinePattern]


class HtmlIcon(_Strict):
    id: str
    classes: list[Text] = Field(min_length=1)
    text: Text


class HtmlIconLabel(_Strict):
    id: str
    labels: list[Text] = Field(min_length=1)
    text: Text


class HtmlRules(_Strict):
    chrome_tags: list[Text] = Field(default_factory=list)
    chrome_selectors: CssSelectors = Field(default_factory=list)
    icons: list[HtmlIcon] = Field(default_factory=list)
    icon_labels: list[HtmlIconLabel] = Field(default_factory=list)
    row_selectors: CssSelectors = Field(default_factory=list)


class AppNameSections(_Strict):
    """The sections read for the app's name (guideparse.nlp), besides the title block."""

    heading: SectionLabels = Field(description="sections whose heading may capture {app}")
    next_line: SectionLabels = Field(description="sections whose heading without {app} is followed by the name")
    sentences: SectionLabels = Field(description="sections whose first two lines may hold a template sentence")


def _lossy_known(lossy: dict[str, list[str]]) -> dict[str, list[str]]:
    for fmt, fields in lossy.items():
        one_of(fmt, FORMATS, "format", (fmt,))
        for i, name in enumerate(fields):
            one_of(name, LOSSY_FIELDS, "field", (fmt, i))
    return lossy


class PageFile(_Strict):
    """rules/page.yaml."""

    header: HeaderRules
    end_markers: list[LinePattern] = Field(min_length=1)
    bullets: list[Text] = Field(min_length=1)
    lossy: Annotated[dict[str, list[str]], AfterValidator(_lossy_known)] = Field(default_factory=dict)
    boilerplate: list[LinePattern] = Field(default_factory=list)
    boilerplate_sections: SectionLabels = Field(default_factory=list)
    app_name_sections: AppNameSections
    html: HtmlRules = Field(default_factory=HtmlRules)

    def rule_ids(self) -> Iterator[tuple[Loc, str]]:
        """(path, id) of every rule with an id."""
        for key in ("icons", "icon_labels"):
            for i, item in enumerate(getattr(self.html, key)):
                yield ("html", key, i), item.id
        for kind in HeaderRules.model_fields:
            for i, lp in enumerate(getattr(self.header, kind)):
                yield ("header", kind, i), lp.id
        for key in ("end_markers", "boilerplate"):
            for i, lp in enumerate(getattr(self, key)):
                yield (key, i), lp.id


# --------------------------------------------------------------------------- one schema per file

HEADINGS_SCHEMA: TypeAdapter[list[HeadingRule]] = TypeAdapter(list[HeadingRule])
VOCABULARY_SCHEMA: TypeAdapter[list[VocabEntry]] = TypeAdapter(
    Annotated[list[VocabEntry], AfterValidator(_terms_once), AfterValidator(_one_confusable_per_script)]
)
APP_NAMES_SCHEMA: TypeAdapter[list[AppNamePattern]] = TypeAdapter(list[AppNamePattern])
TABLES_SCHEMA: TypeAdapter[TablesFile] = TypeAdapter(TablesFile)
PAGE_SCHEMA: TypeAdapter[PageFile] = TypeAdapter(PageFile)
