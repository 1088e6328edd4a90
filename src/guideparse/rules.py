"""Load, validate and compile the declarative rules in `rules/`.

Headings, labels, vocabularies, boilerplate and patterns are data. This module
reads them with safe loaders, validates every entry (an error names file, line
and the valid choices), compiles them once, and computes the digest recorded in
each run. Adding an IdP, a cell value or a heading wording is a rules change.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import RulesError

RULE_FILES = ("headings.jsonl", "vocabulary.jsonl", "app_names.jsonl", "tables.yaml", "page.yaml")

#: Section labels the extractor knows; a heading rule must use one of them.
SECTION_LABELS = (
    "summary", "strategic_alternative", "quick_facts", "identity_providers", "cost",
    "pricing", "practice", "constraints", "challenges", "identity_offer", "admins_saying",
    "recurring_theme", "decision", "bottom_line", "call_to_action", "technical_specs",
    "idp_config", "unlock", "last_updated", "keep_exploring", "related_apps",
)
VOCAB_LABELS = ("IDP", "CELL", "ICON", "BOOL", "PROTOCOL", "CURRENCY", "PERIOD", "PRICE_TERM")
IDP_CELL_COLUMNS = ("sso", "scim")
QUICK_FACT_FIELDS = ("scim_available", "scim_tier_required", "sso_required_first",
                     "sso_available", "sso_protocol", "documentation")
TECH_SPEC_FIELDS = ("scim_version", "supported_operations", "supported_attributes",
                    "plan_requirement", "prerequisites", "key_limitations")
IDP_CONFIG_FIELDS = ("integration_type", "where_to_enable", "prerequisite", "required_credentials",
                     "configuration_steps", "provisioning_trigger", "sync_behavior")
RELATED_APP_FIELDS = ("provisioning", "manual_cost")
COST_FIELDS = ("orphaned_accounts", "unused_licenses", "it_hours_per_year",
               "unused_license_cost_usd", "it_labor_cost_usd", "compliance_cost_usd",
               "total_annual_impact_usd")
LOSSY_FIELDS = ("constraints", "cost_of_manual_management", "challenges", "key_limitations",
                "identity_providers", "pricing", "summary")
FORMATS = ("text/flat", "text/pipe", "html")

#: spaCy Matcher token attributes accepted in rules/app_names.jsonl.
TOKEN_ATTRS = frozenset({"ORTH", "TEXT", "NORM", "LOWER", "LENGTH", "IS_ALPHA", "IS_ASCII", "IS_DIGIT",
                         "IS_LOWER", "IS_UPPER", "IS_TITLE", "IS_PUNCT", "IS_SPACE", "IS_STOP",
                         "LIKE_NUM", "LIKE_URL", "LIKE_EMAIL", "SHAPE", "PREFIX", "SUFFIX"})

PLACEHOLDERS = {
    "app": r"(?P<app>\S.*?)",
    "plan": r"(?P<plan>\S.*?)",
    "idp": r"(?P<idp>\S.*?)",
    "date": r"(?P<date>\d{4}-\d{2}-\d{2})",
}
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def default_rules_dir() -> Path:
    """Rules shipped in the wheel, else the checkout's top-level `rules/`."""
    env = os.environ.get("GUIDEPARSE_RULES")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent
    packaged = here / "_rules"
    if packaged.is_dir():
        return packaged
    return here.parent.parent / "rules"


def compile_line_pattern(pattern: str) -> re.Pattern[str]:
    """Literal text with {placeholders} -> a whole-line, case-insensitive regex."""
    out: list[str] = []
    pos = 0
    for m in _PLACEHOLDER.finditer(pattern):
        out.append(re.escape(" ".join(pattern[pos:m.start()].split(" "))))
        name = m.group(1)
        if name not in PLACEHOLDERS:
            raise ValueError(f"unknown placeholder {{{name}}} (valid: {', '.join('{' + p + '}' for p in PLACEHOLDERS)})")
        out.append(PLACEHOLDERS[name])
        pos = m.end()
    out.append(re.escape(pattern[pos:]))
    return re.compile("".join(out), re.IGNORECASE)


# --------------------------------------------------------------------------- schema

def one_of(value: str, valid: tuple[str, ...], what: str) -> str:
    """Validate a name against its valid set; the error lists the valid names."""
    if value not in valid:
        raise ValueError(f"unknown {what} {value!r} (valid: {', '.join(valid)})")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LinePattern(_Strict):
    id: str = Field(min_length=1)
    pattern: str = Field(min_length=1)

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, v: str) -> str:
        compile_line_pattern(v)
        return v


class HeadingRule(LinePattern):
    label: str

    @field_validator("label")
    @classmethod
    def _known_label(cls, v: str) -> str:
        return one_of(v, SECTION_LABELS, "section label")


class VocabEntry(_Strict):
    label: str
    pattern: str = Field(min_length=1)
    id: str = Field(min_length=1)
    value: str | bool | None = None
    columns: list[str] | None = None
    tables: list[str] | None = Field(default=None, description="ICON only: table kinds where the icon counts")

    @field_validator("label")
    @classmethod
    def _known_label(cls, v: str) -> str:
        return one_of(v, VOCAB_LABELS, "vocabulary label")

    def check(self) -> None:
        """Cross-field checks that depend on the label."""
        if self.tables is not None and self.label != "ICON":
            raise ValueError("only ICON entries take tables")
        if self.label == "IDP":
            if self.value is not None or self.columns is not None:
                raise ValueError("IDP entries take only label, pattern and id")
        elif self.label == "CELL":
            if not isinstance(self.value, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", self.value):
                raise ValueError("CELL value must be a snake_case name such as 'via_api'")
            if not self.columns or any(c not in IDP_CELL_COLUMNS for c in self.columns):
                raise ValueError(f"CELL columns must be a non-empty list of {', '.join(IDP_CELL_COLUMNS)}")
        elif self.label == "ICON":
            if not isinstance(self.value, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", self.value):
                raise ValueError("ICON value must be 'yes', 'no' or another cell value such as 'limited'")
        elif self.label == "BOOL":
            if not isinstance(self.value, bool):
                raise ValueError("BOOL value must be true or false")
        elif self.label == "PRICE_TERM":
            if self.value not in ("custom", "free", "from"):
                raise ValueError("PRICE_TERM value must be 'custom', 'free' or 'from' (a lead-in: 'Starting at')")
        elif not isinstance(self.value, str) or not self.value.strip():
            raise ValueError(f"{self.label} value must be a non-empty string")


class AppNamePattern(_Strict):
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
        for tok in v:
            if tok is names[0]:
                continue
            if "OP" in tok:
                raise ValueError("tokens other than NAME must not use OP")
            bad = sorted(set(tok) - TOKEN_ATTRS)
            if bad or not tok:
                raise ValueError(f"unknown token attribute {bad[0] if bad else '(empty)'!r} (valid: {', '.join(sorted(TOKEN_ATTRS))})")
        return v


class Column(_Strict):
    role: str
    kind: Literal["key", "cell", "icon", "text"]
    headers: list[str] = Field(min_length=1)
    vocabulary: str | None = None
    starts: str | None = None
    required: bool = False


class TableSpec(_Strict):
    columns: list[Column] = Field(min_length=2)


class StartPattern(_Strict):
    id: str
    pattern: str | None = None
    vocabulary: Literal["ICON", "CELL", "CURRENCY"] | None = None
    case_change: bool = False
    glued: bool = False

    @field_validator("pattern")
    @classmethod
    def _regex(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as exc:
                raise ValueError(f"bad regular expression: {exc}") from None
        return v

    @model_validator(mode="after")
    def _one_kind(self) -> "StartPattern":
        if sum((self.pattern is not None, self.vocabulary is not None, self.case_change)) != 1:
            raise ValueError("a start needs exactly one of pattern, vocabulary, case_change")
        return self


class LabelField(_Strict):
    field: str
    labels: list[str] = Field(min_length=1)
    type: Literal["bool", "text", "int"]
    means_null: list[str] = Field(default_factory=list)


class CostRules(_Strict):
    basis_prefix: str
    figures: list[LabelField]


class TablesFile(_Strict):
    tables: dict[str, TableSpec]
    starts: dict[str, list[StartPattern]]
    quick_facts: list[LabelField]
    cost: CostRules
    technical_specs: list[LabelField]
    idp_config: list[LabelField]
    related_apps: list[LabelField]


class HeaderRules(_Strict):
    title: list[LinePattern]
    logo: list[LinePattern]
    tagline: list[LinePattern]
    plan_requirement: list[LinePattern]
    plan_absent: list[LinePattern]
    chrome: list[LinePattern]


class HtmlIcon(_Strict):
    id: str
    classes: list[str] = Field(min_length=1)
    text: str = Field(min_length=1)


class HtmlIconLabel(_Strict):
    id: str
    labels: list[str] = Field(min_length=1)
    text: str = Field(min_length=1)


class HtmlRules(_Strict):
    chrome_tags: list[str] = Field(default_factory=list)
    chrome_selectors: list[str] = Field(default_factory=list)
    icons: list[HtmlIcon] = Field(default_factory=list)
    icon_labels: list[HtmlIconLabel] = Field(default_factory=list)
    row_selectors: list[str] = Field(default_factory=list)


class PageFile(_Strict):
    header: HeaderRules
    end_markers: list[LinePattern] = Field(min_length=1)
    bullets: list[str] = Field(min_length=1)
    lossy: dict[str, list[str]] = Field(default_factory=dict)
    boilerplate: list[LinePattern] = Field(default_factory=list)
    boilerplate_sections: list[str] = Field(default_factory=list)
    html: HtmlRules = Field(default_factory=HtmlRules)

    @field_validator("boilerplate_sections")
    @classmethod
    def _known_sections(cls, v: list[str]) -> list[str]:
        return [one_of(label, SECTION_LABELS, "section label") for label in v]


# --------------------------------------------------------------------------- loading

def _yaml_with_lines(text: str, name: str) -> tuple[Any, dict[tuple, int]]:
    """Parse YAML safely and map each node path to its 1-based line."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)  # libyaml when built with it: 8x faster
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise RulesError("GP001", f"invalid YAML: {getattr(exc, 'problem', exc)}", path=name, line=line) from None
    finally:
        loader.dispose()
    lines: dict[tuple, int] = {}

    def walk(n: yaml.Node, path: tuple) -> None:
        lines[path] = n.start_mark.line + 1
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                walk(v, path + (k.value,))
        elif isinstance(n, yaml.SequenceNode):
            for i, v in enumerate(n.value):
                walk(v, path + (i,))

    if node is not None:
        walk(node, ())
    return data, lines


def _first_error(exc: ValidationError) -> tuple[tuple, str]:
    err = exc.errors()[0]
    loc = tuple(err.get("loc", ()))
    msg = err.get("msg", "invalid").removeprefix("Value error, ")
    where = ".".join(str(p) for p in loc)
    return loc, f"{where}: {msg}" if where else msg


def _line_for(loc: tuple, lines: dict[tuple, int]) -> int | None:
    for n in range(len(loc), -1, -1):
        if loc[:n] in lines:
            return lines[loc[:n]]
    return None


def _load_yaml_model(path: Path, model: type[BaseModel], shown: str) -> tuple[Any, dict[tuple, int]]:
    """Validate a YAML rules file; return the model and the node-path -> line map."""
    text = _read(path, shown)
    data, lines = _yaml_with_lines(text, shown)
    try:
        return model.model_validate(data), lines
    except ValidationError as exc:
        loc, msg = _first_error(exc)
        raise RulesError("GP002", msg, path=shown, line=_line_for(loc, lines)) from None


def _load_jsonl(path: Path, model: type[BaseModel], shown: str) -> list[tuple[int, Any]]:
    out = []
    for no, raw in enumerate(_read(path, shown).splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("//"):
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise RulesError("GP001", f"invalid JSON: {exc.msg} (column {exc.colno})", path=shown, line=no) from None
        try:
            entry = model.model_validate(obj)
            if hasattr(entry, "check"):
                entry.check()
        except ValidationError as exc:
            raise RulesError("GP002", _first_error(exc)[1], path=shown, line=no) from None
        except ValueError as exc:
            raise RulesError("GP002", str(exc), path=shown, line=no) from None
        out.append((no, entry))
    return out


def _read(path: Path, shown: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RulesError("GP001", "rules file is missing", path=shown) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError("GP001", f"cannot read rules file: {exc}", path=shown) from None


# --------------------------------------------------------------------------- compiled

@dataclass(frozen=True)
class Heading:
    label: str
    id: str
    regex: re.Pattern[str]


@dataclass(frozen=True)
class CellTerm:
    text: str
    value: str
    columns: tuple[str, ...]
    id: str


@dataclass(frozen=True)
class Start:
    id: str
    regex: re.Pattern[str] | None
    glued: bool
    vocabulary: str | None = None
    case_change: bool = False


@dataclass
class Rules:
    """Compiled rules; build once per process with `load_rules`."""

    directory: Path
    digest: str
    headings: list[Heading]
    idps: list[tuple[str, str]]                 # (printed name, rule id), longest first
    cells: dict[str, CellTerm]                  # casefolded text -> term
    icons: dict[str, tuple[str, str]]           # icon -> (cell value, rule id)
    icon_tables: dict[str, tuple[str, ...]]     # icon -> table kinds it is limited to
    bools: dict[str, tuple[bool, str]]          # casefolded word -> (value, rule id)
    terms: dict[str, list[tuple[str, str, str]]]  # PROTOCOL/CURRENCY/PERIOD/PRICE_TERM -> [(text, value, id)]
    app_patterns: list[tuple[int, AppNamePattern]]
    tables: dict[str, TableSpec]
    starts: dict[str, list[Start]]
    quick_facts: list[LabelField]
    cost: CostRules
    technical_specs: list[LabelField]
    idp_config: list[LabelField]
    related_apps: list[LabelField]
    page: PageFile
    header: dict[str, list[tuple[re.Pattern[str], str]]] = field(default_factory=dict)
    end_markers: list[tuple[re.Pattern[str], str]] = field(default_factory=list)
    boilerplate: list[tuple[re.Pattern[str], str]] = field(default_factory=list)

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
        labels = sorted(((lab, f.field) for f in self.technical_specs for lab in f.labels), key=lambda t: -len(t[0]))
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
        return {col: [(t, r) for t, r in self.cell_terms if col in self.cells[t.casefold()].columns]
                for col in IDP_CELL_COLUMNS}

    @cached_property
    def start_terms(self) -> dict[str, list[str]]:
        """The words a `starts` rule with a vocabulary looks for, per vocabulary."""
        return {"ICON": list(self.icons), "CELL": [t for t, _ in self.cell_terms],
                "CURRENCY": [t for t, _, _ in self.terms.get("CURRENCY", [])]}

    @cached_property
    def term_finders(self) -> dict[str, re.Pattern[str] | None]:
        """A zero-width pattern matching wherever one of a word list begins, for the CELL terms
        ("CELL"), those of each IdP column ("CELL:<column>") and each start vocabulary
        ("START:<label>"): one scan of a row finds every place a term can start."""
        lists = {"CELL": [t for t, _ in self.cell_terms],
                 **{f"CELL:{col}": [t for t, _ in terms] for col, terms in self.cell_terms_by_column.items()},
                 **{f"START:{label}": terms for label, terms in self.start_terms.items()}}
        return {key: re.compile("(?=" + "|".join(map(re.escape, sorted(set(words), key=len, reverse=True))) + ")")
                if words else None for key, words in lists.items()}

    @cached_property
    def term_lookup(self) -> dict[str, dict[str, tuple[str, str]]]:
        """Per vocabulary label: case-folded term text -> (value, rule id) (prices' words)."""
        return self._term_index(str.casefold)

    @cached_property
    def whole_terms(self) -> dict[str, dict[str, tuple[str, str]]]:
        """Per vocabulary label: lower-cased, space-folded term text -> (value, rule id), as the
        PhraseMatcher compares tokens (its LOWER attribute)."""
        return self._term_index(lambda t: " ".join(t.split()).lower())

    def _term_index(self, key) -> dict[str, dict[str, tuple[str, str]]]:
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
        return tuple(sorted({h.casefold() for spec in self.tables.values() for c in spec.columns for h in c.headers}))

    @cached_property
    def header_index(self) -> dict[str, list[tuple[str, "Column"]]]:
        """Per table kind: (casefolded header name, column), longest name first."""
        out = {}
        for kind, spec in self.tables.items():
            pairs = [(h.casefold(), c) for c in spec.columns for h in c.headers]
            out[kind] = sorted(pairs, key=lambda t: -len(t[0]))
        return out

    @cached_property
    def _heading_index(self) -> dict[str, list[tuple[re.Pattern[str], Heading]]]:
        return _first_word_index([(h.regex, h) for h in self.headings])

    @cached_property
    def _line_indexes(self) -> dict[str, dict[str, list[tuple[re.Pattern[str], str]]]]:
        lists = {"end_markers": self.end_markers, "boilerplate": self.boilerplate, **self.header}
        return {k: _first_word_index(v) for k, v in lists.items()}

    def first_words(self, kind: str) -> frozenset[str] | None:
        """The case-folded first words that can open a line matching a rule list ("headings",
        or a match_line kind); None when some rule opens with a placeholder (any line can)."""
        if kind not in self._first_words:
            index = self._heading_index if kind == "headings" else self._line_indexes[kind]
            self._first_words[kind] = None if index[_WILD] else frozenset(w for w in index if w != _WILD)
        return self._first_words[kind]

    @cached_property
    def _first_words(self) -> dict[str, frozenset[str] | None]:
        return {}

    def match_heading(self, text: str) -> tuple[Heading, dict[str, str]] | None:
        if not text or len(text) > 160:
            return None
        for rx, h in _candidates(self._heading_index, text):
            m = rx.fullmatch(text)
            if m:
                return h, {k: v for k, v in m.groupdict().items() if v is not None}
        return None

    def match_line(self, kind: str, text: str) -> tuple[str, dict[str, str]] | None:
        """Match a page rule list (header.<kind>, end_markers, boilerplate); return (rule id, captures)."""
        if not text or len(text) > 240:
            return None
        for rx, rid in _candidates(self._line_indexes[kind], text):
            m = rx.fullmatch(text)
            if m:
                return rid, {k: v for k, v in m.groupdict().items() if v is not None}
        return None


_WILD = ""


def _first_word_index(items):
    """Patterns by their first literal word (case-folded), each list followed by the patterns
    that open with a placeholder (those are tried for every line, under "")."""
    index: dict[str, list] = {}
    for rx, payload in items:
        prefix = rx.pattern.split("(?P<", 1)[0]
        literal = re.sub(r"\\(.)", r"\1", prefix)
        word = literal.split(" ", 1)[0].casefold() if " " in literal else (
            literal.casefold() if "(?P<" not in rx.pattern else _WILD)
        index.setdefault(word, []).append((rx, payload))
    wild = index.get(_WILD, [])
    return {w: (lst + wild if w != _WILD else lst) for w, lst in index.items()} | {_WILD: wild}


def _candidates(index, text: str):
    return index.get(text.partition(" ")[0].casefold()) or index[_WILD]


def _digest(directory: Path) -> str:
    h = hashlib.sha256()
    for name in RULE_FILES:
        p = directory / name
        h.update(name.encode() + b"\0")
        h.update(p.read_bytes() if p.is_file() else b"")
        h.update(b"\0")
    return h.hexdigest()


def _check_selectors(page: PageFile, pname: str, plines: dict[tuple, int]) -> None:
    """Every CSS selector of page.yaml compiles."""
    import soupsieve

    for key in ("chrome_selectors", "row_selectors"):
        for i, sel in enumerate(getattr(page.html, key)):
            try:
                soupsieve.compile(sel)
            except Exception as exc:  # soupsieve.SelectorSyntaxError
                raise RulesError("GP002", f"bad CSS selector {sel!r}: {str(exc).splitlines()[0]}",
                                 path=pname, line=_line_for(("html", key, i), plines)) from None


def load_rules(directory: str | Path | None = None) -> Rules:
    """Read and validate every rules file; raise RulesError naming file and line."""
    d = Path(directory) if directory is not None else default_rules_dir()
    if not d.is_dir():
        raise RulesError("GP001", "rules folder not found", path=str(d))

    def shown(name: str) -> str:
        return str(d / name)

    headings_raw = _load_jsonl(d / "headings.jsonl", HeadingRule, shown("headings.jsonl"))
    vocab_raw = _load_jsonl(d / "vocabulary.jsonl", VocabEntry, shown("vocabulary.jsonl"))
    app_raw = _load_jsonl(d / "app_names.jsonl", AppNamePattern, shown("app_names.jsonl"))
    tables, tlines = _load_yaml_model(d / "tables.yaml", TablesFile, shown("tables.yaml"))
    page, plines = _load_yaml_model(d / "page.yaml", PageFile, shown("page.yaml"))

    seen: dict[str, str] = {}

    def unique(rule_id: str, where: str, line: int | None) -> None:
        if rule_id in seen:
            raise RulesError("GP002", f"duplicate rule id {rule_id!r} (first in {seen[rule_id]})", path=where, line=line)
        seen[rule_id] = f"{where}:{line}" if line else where

    headings = []
    for no, h in headings_raw:
        unique(h.id, shown("headings.jsonl"), no)
        headings.append(Heading(h.label, h.id, compile_line_pattern(h.pattern)))

    idps: list[tuple[str, str]] = []
    cells: dict[str, CellTerm] = {}
    icons: dict[str, tuple[str, str]] = {}
    icon_tables: dict[str, tuple[str, ...]] = {}
    bools: dict[str, tuple[bool, str]] = {}
    terms: dict[str, list[tuple[str, str, str]]] = {k: [] for k in ("PROTOCOL", "CURRENCY", "PERIOD", "PRICE_TERM")}
    for no, v in vocab_raw:
        unique(v.id, shown("vocabulary.jsonl"), no)
        text = " ".join(v.pattern.split())
        key = text.casefold()
        clash = {"IDP": [t.casefold() for t, _ in idps], "CELL": list(cells), "ICON": list(icons), "BOOL": list(bools),
                 **{k: [t.casefold() for t, _, _ in lst] for k, lst in terms.items()}}[v.label]
        if key in clash:
            raise RulesError("GP002", f"{v.label} term {text!r} is listed twice", path=shown("vocabulary.jsonl"), line=no)
        if v.label == "IDP":
            idps.append((text, v.id))
        elif v.label == "CELL":
            cells[key] = CellTerm(text, str(v.value), tuple(v.columns or ()), v.id)
        elif v.label == "ICON":
            icons[text] = (str(v.value), v.id)
            if v.tables:
                icon_tables[text] = tuple(v.tables)
        elif v.label == "BOOL":
            bools[key] = (bool(v.value), v.id)
        else:
            terms[v.label].append((text, str(v.value), v.id))
    for lst in terms.values():
        lst.sort(key=lambda t: -len(t[0]))
    idps.sort(key=lambda t: (-len(t[0]), t[0]))

    apps = []
    for no, a in app_raw:
        unique(a.id, shown("app_names.jsonl"), no)
        apps.append((no, a))

    tname = shown("tables.yaml")
    for tkey, spec in tables.tables.items():
        for i, col in enumerate(spec.columns):
            loc = ("tables", tkey, "columns", i)
            if col.vocabulary is not None and col.vocabulary not in VOCAB_LABELS:
                raise RulesError("GP002", f"unknown vocabulary {col.vocabulary!r} (valid: {', '.join(VOCAB_LABELS)})",
                                 path=tname, line=_line_for(loc, tlines))
            if col.starts is not None and col.starts not in tables.starts:
                raise RulesError("GP002", f"unknown starts {col.starts!r} (valid: {', '.join(tables.starts)})",
                                 path=tname, line=_line_for(loc, tlines))
    for i, qf in enumerate(tables.quick_facts):
        if qf.field not in QUICK_FACT_FIELDS:
            raise RulesError("GP002", f"unknown quick_facts field {qf.field!r} (valid: {', '.join(QUICK_FACT_FIELDS)})",
                             path=tname, line=_line_for(("quick_facts", i), tlines))
    for i, cf in enumerate(tables.cost.figures):
        if cf.field not in COST_FIELDS:
            raise RulesError("GP002", f"unknown cost field {cf.field!r} (valid: {', '.join(COST_FIELDS)})",
                             path=tname, line=_line_for(("cost", "figures", i), tlines))
    for key, valid in (("technical_specs", TECH_SPEC_FIELDS), ("idp_config", IDP_CONFIG_FIELDS),
                       ("related_apps", RELATED_APP_FIELDS)):
        for i, tf in enumerate(getattr(tables, key)):
            if tf.field not in valid:
                raise RulesError("GP002", f"unknown {key} field {tf.field!r} (valid: {', '.join(valid)})",
                                 path=tname, line=_line_for((key, i), tlines))
    starts = {}
    for key, lst in tables.starts.items():
        out = []
        for i, sp in enumerate(lst):
            unique(sp.id, tname, _line_for(("starts", key, i), tlines))
            out.append(Start(sp.id, re.compile(sp.pattern) if sp.pattern else None, sp.glued,
                             sp.vocabulary, sp.case_change))
        starts[key] = out

    pname = shown("page.yaml")
    for fmt, fields in page.lossy.items():
        if fmt not in FORMATS:
            raise RulesError("GP002", f"unknown format {fmt!r} (valid: {', '.join(FORMATS)})",
                             path=pname, line=_line_for(("lossy", fmt), plines))
        for f in fields:
            if f not in LOSSY_FIELDS:
                raise RulesError("GP002", f"unknown field {f!r} (valid: {', '.join(LOSSY_FIELDS)})",
                                 path=pname, line=_line_for(("lossy", fmt), plines))
    _check_selectors(page, pname, plines)
    for i, icon in enumerate(page.html.icons):
        unique(icon.id, pname, _line_for(("html", "icons", i), plines))
    for i, lab in enumerate(page.html.icon_labels):
        unique(lab.id, pname, _line_for(("html", "icon_labels", i), plines))
    header: dict[str, list[tuple[re.Pattern[str], str]]] = {}
    for kind in HeaderRules.model_fields:
        header[kind] = []
        for i, lp in enumerate(getattr(page.header, kind)):
            unique(lp.id, pname, _line_for(("header", kind, i), plines))
            header[kind].append((compile_line_pattern(lp.pattern), lp.id))
    end_markers = []
    for i, lp in enumerate(page.end_markers):
        unique(lp.id, pname, _line_for(("end_markers", i), plines))
        end_markers.append((compile_line_pattern(lp.pattern), lp.id))
    boilerplate = []
    for i, lp in enumerate(page.boilerplate):
        unique(lp.id, pname, _line_for(("boilerplate", i), plines))
        boilerplate.append((compile_line_pattern(lp.pattern), lp.id))

    return Rules(
        directory=d, digest=_digest(d), headings=headings, idps=idps, cells=cells, icons=icons,
        icon_tables=icon_tables, bools=bools, terms=terms, app_patterns=apps, tables=dict(tables.tables), starts=starts,
        quick_facts=list(tables.quick_facts), cost=tables.cost,
        technical_specs=list(tables.technical_specs), idp_config=list(tables.idp_config),
        related_apps=list(tables.related_apps), page=page, header=header,
        end_markers=end_markers, boilerplate=boilerplate,
    )
