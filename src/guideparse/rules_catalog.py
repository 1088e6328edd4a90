"""The schema of the catalog's rules files: `inference.jsonl` (what an IdP note implies),
`tiers.yaml` (tier classes) and `lints.yaml` (the checks a catalog entry runs on itself).

As in `rules_schema`, every check one file can answer is a validator here (phrases compile,
field paths name fields a catalog entry has, message placeholders are ones the lint can fill,
a condition is one of the few kinds evaluated by `lints.py`); an `EntryError` carries the path
below the validated value, so the loader names the entry's line. The one check that spans
files (an implied value must be a cell value of its column in `vocabulary.jsonl`) is
`implied_value_problems`, run by the loader.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import AfterValidator, BaseModel, Field, TypeAdapter, field_validator, model_validator

from .phrases import compile_phrase
from .rules_schema import IDP_CELL_COLUMNS, EntryError, Loc, VocabEntry, _Strict, one_of

TIER_CLASSES = ("free", "all_plans", "paid_plan", "enterprise", "add_on", "not_available", "unknown")
#: Classes that are a rung of the plan ladder (the others are beside it).
LADDER_CLASSES = ("all_plans", "free", "paid_plan", "enterprise")
SEVERITIES = ("error", "warning", "info")
#: Named checks a lint may use (implemented in lints.py) and the placeholders each one fills.
LINT_CHECKS: dict[str, tuple[str, ...]] = {
    "tier_texts_disagree": ("first", "first_text", "first_class", "second", "second_text", "second_class"),
    "scim_marked_below_tier": ("table", "plan", "required", "required_field", "required_text"),
    "note_contradicts_icon": ("idp", "column", "shown", "implied", "rule", "note"),
    "renderings_disagree": ("field", "values"),
}
#: Placeholders every lint message may use.
ENTRY_PLACEHOLDERS = ("app", "slug")
MAX_CONDITION_DEPTH = 6
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_RULE_ID = re.compile(r"[a-z][a-z0-9_.-]*")


def _rule_id(prefix: str) -> AfterValidator:
    def check(v: str) -> str:
        if not v.startswith(prefix) or not _RULE_ID.fullmatch(v):
            raise ValueError(f"rule id {v!r} must start with {prefix!r} (then lowercase letters, digits, - _ .)")
        return v

    return AfterValidator(check)


# --------------------------------------------------------------------------- inference.jsonl


class InferenceEntry(_Strict):
    """A line of rules/inference.jsonl: an IMPLIES phrase (what a note saying it implies for the
    sso / scim cells) or a NEGATION cue (a phrase before which an IMPLIES phrase does not hold)."""

    label: Literal["IMPLIES", "NEGATION"]
    id: Annotated[str, _rule_id("infer.")]
    phrase: str = Field(min_length=1)
    whole: bool = Field(default=False, description="IMPLIES: the phrase must be the whole note")
    implies: dict[str, str] | None = Field(default=None, description="IMPLIES: column -> value; {} only blocks")
    fits: dict[str, list[str]] | None = Field(
        default=None, description="IMPLIES: shown values the note agrees with besides the one it implies"
    )
    window: int | None = Field(default=None, ge=0, le=6, description="NEGATION: words allowed between cue and phrase")

    @model_validator(mode="after")
    def _fits_label(self) -> InferenceEntry:
        try:
            compile_phrase(self.phrase, whole=self.whole)
        except ValueError as exc:
            raise EntryError(f"bad phrase {self.phrase!r}: {exc}", ("phrase",)) from None
        if self.label == "NEGATION":
            if self.implies is not None or self.fits is not None or self.whole:
                raise ValueError("NEGATION entries take only label, id, phrase and window")
            return self
        if self.window is not None:
            raise ValueError("only NEGATION entries take window")
        if self.implies is None:
            raise ValueError("IMPLIES entries need implies (an object: column -> value; {} to block)")
        for column, value in self.implies.items():
            one_of(column, IDP_CELL_COLUMNS, "column", ("implies", column))
            _snake(value, ("implies", column))
        for column, values in (self.fits or {}).items():
            if column not in self.implies:
                raise EntryError(f"fits names {column!r}, which the entry does not imply", ("fits", column))
            for i, value in enumerate(values):
                _snake(value, ("fits", column, i))
        return self


def _snake(value: str, loc: Loc) -> None:
    if not re.fullmatch(r"[a-z][a-z0-9_]*", value):
        raise EntryError(f"cell value {value!r} must be a snake_case name such as 'yes', 'no', 'via_api'", loc)


def implied_value_problems(entries: list[InferenceEntry], vocabulary: list[VocabEntry]) -> Iterator[tuple[Loc, str]]:
    """(path, message) for each implied or fitting value that no cell of its column can show:
    yes, no, or a CELL value of vocabulary.jsonl listed for that column."""
    valid: dict[str, list[str]] = {c: ["yes", "no"] for c in IDP_CELL_COLUMNS}
    for v in vocabulary:
        if v.label == "CELL":
            for column in v.columns or ():
                valid[column].append(str(v.value))
    for i, e in enumerate(entries):
        values: list[tuple[Loc, str, str]] = [(("implies", c), c, v) for c, v in (e.implies or {}).items()]
        values += [(("fits", c, k), c, v) for c, vs in (e.fits or {}).items() for k, v in enumerate(vs)]
        for loc, column, value in values:
            if value not in valid[column]:
                yield (i, *loc), f"{value!r} is not a {column} cell value (valid: {', '.join(valid[column])})"


def _unique_ids(entries: list[Any]) -> list[Any]:
    seen: set[str] = set()
    for i, e in enumerate(entries):
        if e.id in seen:
            raise EntryError(f"rule id {e.id!r} is listed twice", (i,))
        seen.add(e.id)
    return entries


# --------------------------------------------------------------------------- tiers.yaml


def _tier_class(v: str) -> str:
    return one_of(v, TIER_CLASSES[:-1], "tier class")


class TierPhrase(_Strict):
    """A phrase that decides the class of a whole tier text ("add-on", "all plans")."""

    id: Annotated[str, _rule_id("tier.")]
    phrase: str
    tier_class: Annotated[str, AfterValidator(_tier_class)] = Field(alias="class")
    unless_plan_named: bool = Field(default=False, description="only where the text names no plan of `plans`")

    @field_validator("phrase")
    @classmethod
    def _compiles(cls, v: str) -> str:
        compile_phrase(v)
        return v


class PlanNames(_Strict):
    """Plan names of one class ("Enterprise", "Custom" -> enterprise)."""

    id: Annotated[str, _rule_id("tier.")]
    names: list[Annotated[str, Field(min_length=1)]] = Field(min_length=1)
    tier_class: Annotated[str, AfterValidator(_tier_class)] = Field(alias="class")


class SsoStatement(_Strict):
    """A sentence pattern stating SSO's tier; `{plan}` captures the tier text."""

    id: Annotated[str, _rule_id("tier.")]
    phrase: str

    @field_validator("phrase")
    @classmethod
    def _has_plan(cls, v: str) -> str:
        compile_phrase(v, slots=True)
        if "{plan}" not in v.split():
            raise ValueError("an SSO statement needs {plan}: where the tier is named")
        return v


#: The text fields SSO statements are looked for in.
SSO_STATEMENT_FIELDS = (
    "identity_providers.notes", "summary", "constraints.title", "constraints.detail", "key_limitations",
    "challenges", "practice.paragraphs", "bottom_line",
)  # fmt: skip


def _ladder(order: list[str]) -> list[str]:
    if sorted(order) != sorted(LADDER_CLASSES):
        raise ValueError(f"order must list each of {', '.join(LADDER_CLASSES)} once, lowest first")
    return order


def _separators(seps: list[str]) -> list[str]:
    for i, s in enumerate(seps):
        if not (re.fullmatch(r"[a-z]+", s) or (len(s) == 1 and not s.isalnum() and not s.isspace())):
            raise EntryError(f"separator {s!r} must be a lowercase word or one punctuation character", (i,))
    return seps


def _phrases(items: list[str]) -> list[str]:
    for i, p in enumerate(items):
        try:
            compile_phrase(p)
        except ValueError as exc:
            raise EntryError(f"bad phrase {p!r}: {exc}", (i,)) from None
    return items


class TiersFile(_Strict):
    """rules/tiers.yaml."""

    order: Annotated[list[str], AfterValidator(_ladder)]
    phrases: list[TierPhrase] = Field(default_factory=list)
    plans: list[PlanNames] = Field(default_factory=list)
    separators: Annotated[list[str], AfterValidator(_separators)] = Field(default_factory=list)
    drop: Annotated[list[str], AfterValidator(_phrases)] = Field(default_factory=list)
    sso_statements: list[SsoStatement] = Field(default_factory=list)
    sso_statement_fields: list[str] = Field(default_factory=list)

    @field_validator("sso_statement_fields")
    @classmethod
    def _known_fields(cls, v: list[str]) -> list[str]:
        for i, name in enumerate(v):
            one_of(name, SSO_STATEMENT_FIELDS, "SSO statement field", (i,))
        return v

    @model_validator(mode="after")
    def _names_once(self) -> TiersFile:
        seen: dict[str, str] = {}
        for i, group in enumerate(self.plans):
            for k, name in enumerate(group.names):
                key = " ".join(name.split()).casefold()
                if key in seen:
                    raise EntryError(f"plan name {name!r} is listed twice", ("plans", i, "names", k))
                seen[key] = group.id
        return self

    def rule_ids(self) -> Iterator[tuple[Loc, str]]:
        for key in ("phrases", "plans", "sso_statements"):
            for i, item in enumerate(getattr(self, key)):
                yield (key, i), item.id


# --------------------------------------------------------------------------- lints.yaml


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside an annotation (`X | None`, `list[X]`), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (Union, list) or type(annotation).__name__ == "UnionType":
        for arg in get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None


def _entry_model() -> type[BaseModel]:
    from .models import CatalogEntry

    return CatalogEntry


def check_field_path(path: str, each: str | None) -> None:
    """A field path of a condition or message: fields of a catalog entry joined by dots
    (`quick_facts.scim_available`), or `item.<field>` inside a lint over a list (`each`)."""
    model: type[BaseModel] | None = _entry_model()
    parts = path.split(".")
    if parts[0] == "item":
        if each is None:
            raise ValueError(f"{path!r}: item.<field> is only for lints with each")
        model = _model_in(_entry_model().model_fields[each].annotation)
        parts = parts[1:]
    for k, name in enumerate(parts):
        if model is None:
            raise ValueError(f"{path!r}: {'.'.join(parts[:k])} has no fields")
        one_of(name, tuple(model.model_fields), "field")
        model = _model_in(model.model_fields[name].annotation)


Scalar = str | int | float | bool


class Condition(_Strict):
    """One condition: a field compared (`field` with one of equals, in, is_null, differs_from),
    or all / any / not of conditions. Nothing else is evaluated."""

    field: str | None = None
    equals: Scalar | None = None
    in_: list[Scalar] | None = Field(default=None, alias="in")
    is_null: bool | None = None
    differs_from: str | None = None
    all: list[Condition] | None = None
    any: list[Condition] | None = None
    not_: Condition | None = Field(default=None, alias="not")

    @model_validator(mode="after")
    def _one_kind(self) -> Condition:
        kinds = [k for k in ("field", "all", "any", "not_") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("a condition is one of: field (with a comparison), all, any, not")
        ops = [k for k in ("equals", "in_", "is_null", "differs_from") if getattr(self, k) is not None]
        if kinds == ["field"] and len(ops) != 1:
            raise ValueError("a field condition takes exactly one of equals, in, is_null, differs_from")
        if kinds != ["field"] and ops:
            raise ValueError("equals, in, is_null and differs_from go with field")
        return self

    def paths(self, at: Loc = ()) -> Iterator[tuple[Loc, str, int]]:
        """(path to the key, field path, depth) of every field this condition reads."""
        for key in ("field", "differs_from"):
            value = getattr(self, key)
            if value is not None:
                yield (*at, key), value, sum(1 for step in at if step in ("all", "any", "not"))
        for key in ("all", "any"):
            for i, sub in enumerate(getattr(self, key) or ()):
                yield from sub.paths((*at, key, i))
        if self.not_ is not None:
            yield from self.not_.paths((*at, "not"))


class LintRule(_Strict):
    """One lint: an id, a severity, a message template, and either a condition over fields
    (`when`, with `each` to run it on every item of a list) or a named check (`check`)."""

    id: Annotated[str, _rule_id("lint.")]
    severity: Literal["error", "warning", "info"]
    message: str = Field(min_length=1)
    when: Condition | None = None
    each: str | None = None
    fields: list[str] | None = None
    check: str | None = None

    @model_validator(mode="after")
    def _shape(self) -> LintRule:
        if (self.when is None) == (self.check is None):
            raise ValueError("a lint takes either when (a condition) or check (a named check)")
        if self.check is not None:
            one_of(self.check, tuple(LINT_CHECKS), "check", ("check",))
            if self.each is not None or self.fields is not None:
                raise ValueError("a check lint takes neither each nor fields (the check names the fields)")
        else:
            self._check_when()
        self._check_message()
        return self

    def _check_when(self) -> None:
        if self.each is not None:
            lists = [n for n, f in _entry_model().model_fields.items() if get_origin(_list_of(f.annotation)) is list]
            one_of(self.each, tuple(lists), "list field", ("each",))
        if not self.fields:
            raise ValueError("a lint with when names its fields (a non-empty list of field paths)")
        assert self.when is not None
        places = [(("when", *loc), p, depth) for loc, p, depth in self.when.paths()]
        places += [(("fields", i), p, 0) for i, p in enumerate(self.fields)]
        for loc, path, depth in places:
            if depth > MAX_CONDITION_DEPTH:
                raise EntryError(f"conditions nest at most {MAX_CONDITION_DEPTH} deep", loc)
            try:
                check_field_path(path, self.each)
            except ValueError as exc:
                raise EntryError(str(exc).removeprefix("Value error, "), loc) from None

    def _check_message(self) -> None:
        allowed = ENTRY_PLACEHOLDERS + (LINT_CHECKS[self.check] if self.check else ())
        for name in _PLACEHOLDER.findall(self.message):
            if name in allowed:
                continue
            if self.check is not None:
                raise EntryError(f"unknown placeholder {{{name}}} (valid: {', '.join(allowed)})", ("message",))
            try:
                check_field_path(name, self.each)
            except ValueError as exc:
                valid = ", ".join(allowed)
                raise EntryError(f"placeholder {{{name}}}: {exc} (or one of {valid})", ("message",)) from None


def _list_of(annotation: Any) -> Any:
    """`list[X]` out of `list[X] | None`."""
    if get_origin(annotation) is list:
        return annotation
    for arg in get_args(annotation):
        if get_origin(arg) is list:
            return arg
    return annotation


class LintsFile(_Strict):
    """rules/lints.yaml."""

    lints: Annotated[list[LintRule], AfterValidator(_unique_ids)]

    def rule_ids(self) -> Iterator[tuple[Loc, str]]:
        for i, lint in enumerate(self.lints):
            yield ("lints", i), lint.id


# --------------------------------------------------------------------------- one schema per file

INFERENCE_SCHEMA: TypeAdapter[list[InferenceEntry]] = TypeAdapter(
    Annotated[list[InferenceEntry], AfterValidator(_unique_ids)]
)
TIERS_SCHEMA: TypeAdapter[TiersFile] = TypeAdapter(TiersFile)
LINTS_SCHEMA: TypeAdapter[LintsFile] = TypeAdapter(LintsFile)
