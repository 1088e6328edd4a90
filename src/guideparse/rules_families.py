"""The schema of `rules/families.yaml`: the guide families, how a page is recognised as
one (title, badge, its own headings), and which reader (READERS) reads each field of each
family from which section.

As in `rules_schema`, every check the file can answer is a validator here; the loader
names the entry's line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import UnionType
from typing import Any, Literal, TypeVar, Union, cast, get_args, get_origin

from pydantic import BaseModel, Field, TypeAdapter, field_validator, model_validator

from .rules_schema import SECTION_LABELS, EntryError, LinePattern, Loc, Text, _Strict, one_of, shorten

#: The section readers a field rule may name -> the record fields it writes: None for a
#: generic reader (it writes the rule's `name`); else the fields of a section shape one guide
#: prints (plan tables, IdP icon tables, …), whose provenance paths name those fields.
READERS: dict[str, tuple[str, ...] | None] = {
    "labels": None,  # label/value rows, and lists opened by marker lines
    "table": None,  # a pipe table whose header names the columns
    "joined_table": None,  # a table whose flat cells are joined by single spaces
    "paragraphs": None,  # one item per non-blank line, bullet or step number removed
    "lines": None,  # one item per non-blank line as printed; [] when the section is absent
    "joined": None,  # the paragraphs joined by one space
    "bullets": None,  # the leading bullet items
    "heading_value": None,  # the value the heading's pattern captures ("Last updated: {date}")
    "title_detail": ("constraints",),  # lines alternating title, detail
    "fact_labels": ("quick_facts", "quick_facts_raw"),  # rules/tables.yaml LABELS rows, typed
    "cost_labels": ("cost_of_manual_management",),
    "specs": ("technical_specs", "key_limitations"),  # labelled specs, glued lists, limitations
    "plan_tables": ("pricing",),  # every plan table of the page (pipe, glued), prices parsed
    "pricing_prose": ("pricing_intro", "pricing_notes"),  # the prose around the plan tables
    "icon_table": ("identity_providers",),  # IdP rows with ✓/❌ cells and notes
    "situation_table": ("recommendations",),
    "app_links": ("related_apps",),
    "paragraphs_and_pairs": ("practice",),
    "offer_blocks": ("identity_offer",),  # sub-headed blocks of paragraphs, lists and tables
    "voices": ("admins_saying",),  # intro, points, quotes with attributions
    "label_blocks": ("idp_configurations",),  # one labelled block per section of the label
}
VALUE_TYPES = ("text", "bool", "int")

#: Record fields the record fills itself (its header, source, warnings, provenance): no field
#: rule may name one (the record would be given it twice, or lose what it read).
RECORD_FIELDS = frozenset(
    {
        "schema_version",
        "slug",
        "app",
        "family",
        "updated",
        "badge",
        "plan_requirement",
        "source",
        "warnings",
        "provenance",
    }
)
#: What each generic reader writes (a shape of `_shape`); every one but `lines` writes null
#: where a page lacks its section.
GENERIC_WRITES: dict[str, str] = {
    "labels": "object",
    "table": "list of objects",
    "joined_table": "list of objects",
    "paragraphs": "list of texts",
    "lines": "list of texts",
    "joined": "text",
    "bullets": "list of texts",
    "heading_value": "text",
}
_NEVER_NULL = frozenset({"lines"})


def _shape(annotation: Any) -> tuple[str, bool]:
    """A model field's type as the shape of value it holds ("text", "list of texts", "object",
    …) and whether it may be null."""
    args = get_args(annotation)
    if get_origin(annotation) in (Union, UnionType):
        kinds = [a for a in args if a is not type(None)]
        shape = _shape(kinds[0])[0] if len(kinds) == 1 else "other"
        return shape, len(kinds) < len(args)
    if get_origin(annotation) is list and args:
        item = _shape(args[0])[0]
        return ("list of texts" if item == "text" else "list of objects" if item == "object" else "list"), False
    if annotation is str:
        return "text", False
    if (
        annotation is dict
        or get_origin(annotation) is dict
        or (isinstance(annotation, type) and issubclass(annotation, BaseModel))
    ):
        return "object", False
    return "other", False


def _part_model(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model a field's value (or each of its items) is, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (list, Union, UnionType):
        for arg in get_args(annotation):
            found = _part_model(arg)
            if found is not None:
                return found
    return None


def _keys_fit(rule: FieldRule, annotation: Any) -> tuple[str, tuple[str | int, ...]] | None:
    """(the first label, list or column key its field's model lacks, where it is), or None."""
    part = _part_model(annotation)
    if part is None:
        return None  # a plain dict (an invented family's): any key
    for kind in ("labels", "lists", "columns"):
        for j, item in enumerate(getattr(rule, kind)):
            if item.key not in part.model_fields:
                return item.key, (kind, j, "key")
    return None


def _a(shape: str) -> str:
    return ("an " if shape[0] in "aeiou" else "a ") + shape


class FamilyHeading(LinePattern):
    """A heading of the family's own: starts the section `label` (a field's `section`)."""

    label: str = Field(pattern=r"^[a-z][a-z0-9_]*$")


class LabelRule(_Strict):
    """A label/value row: `label` as printed, read into `key` as `type`."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: Text
    type: Literal["text", "bool", "int"] = "text"
    null_values: list[Text] = Field(default_factory=list, description="texts that mean null here only")


class ListRule(_Strict):
    """A sub-block of a labels section opened by a marker line: a list of text."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    marker: Text


class ColumnRule(_Strict):
    """A table column: its header text, and for joined tables what its cells hold."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    header: Text
    starts: list[Text] = Field(default_factory=list, description="opening words of a cell of this column")
    vocabulary: list[Text] = Field(default_factory=list, description="whole phrases a cell of this column is")


class FieldRule(_Strict):
    """A record field: read from `section` by `reader`."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    section: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    reader: str = Field(description="a reader of READERS")
    labels: list[LabelRule] = Field(default_factory=list)
    lists: list[ListRule] = Field(default_factory=list)
    columns: list[ColumnRule] = Field(default_factory=list)
    unverified: list[LinePattern] = Field(default_factory=list)

    @field_validator("reader")
    @classmethod
    def _known_reader(cls, v: str) -> str:
        return one_of(v, tuple(READERS), "reader")

    @property
    def outputs(self) -> tuple[str, ...]:
        """The record fields this rule's reader writes."""
        return READERS[self.reader] or (self.name,)

    @model_validator(mode="after")
    def _reader_needs(self) -> FieldRule:
        fixed = READERS[self.reader]
        if fixed is not None and self.name != fixed[0]:
            raise ValueError(f"the {self.reader} reader writes {', '.join(fixed)}: name must be {fixed[0]!r}")
        if self.reader == "labels" and not (self.labels or self.lists):
            raise ValueError("a labels reader needs labels or lists")
        if self.reader in ("table", "joined_table") and len(self.columns) < 2:
            raise ValueError(f"a {self.reader} reader needs at least two columns")
        return self


class FamilyRule(_Strict):
    model: str = Field(min_length=1, description="the name of its document model (family_models.MODELS)")
    header: Literal["page", "updated"] = Field(
        default="updated",
        description="how its title block is read: `page` by rules/page.yaml (title, badge, plan "
        "requirement, logo, tagline); `updated` as title, badge, taglines and `Updated<date>`",
    )
    title: list[LinePattern] = Field(default_factory=list)
    badges: list[Text] = Field(default_factory=list)
    taglines: list[LinePattern] = Field(default_factory=list)
    app_sentences: list[LinePattern] = Field(default_factory=list)
    headings: list[FamilyHeading] = Field(default_factory=list)
    evidence: list[str] = Field(default_factory=list, description="headings.jsonl labels only this family has")
    fields: list[FieldRule] = Field(min_length=1, description="what a page of the family gives, field by field")
    required: list[str] | None = Field(
        default=None, description="sections a whole page has (GP201 when absent); default: every field's section"
    )

    @property
    def required_sections(self) -> list[str]:
        if self.required is not None:
            return self.required
        return list(dict.fromkeys(f.section for f in self.fields))

    @field_validator("evidence")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        for i, label in enumerate(v):
            one_of(label, SECTION_LABELS, "section label", (i,))
        return v

    @field_validator("app_sentences")
    @classmethod
    def _names_app(cls, v: list[LinePattern]) -> list[LinePattern]:
        for i, p in enumerate(v):
            if not p.pattern.startswith("{app}"):
                raise ValueError(f"app sentence {i} must open with {{app}}")
        return v

    @model_validator(mode="after")
    def _fields_fit_model(self) -> FamilyRule:
        """The model is a registered one, each field's outputs fields of it (once each), each
        section one of the family's own headings or of headings.jsonl."""
        from .family_models import MODELS

        model = MODELS.get(self.model)
        if model is None:
            raise EntryError(f"unknown model {shorten(self.model)} (valid: {', '.join(MODELS)})", ("model",))
        labels = {h.label for h in self.headings} | set(SECTION_LABELS)
        written: set[str] = set()
        for i, f in enumerate(self.fields):
            for name in f.outputs:
                if name not in model.model_fields:
                    raise EntryError(f"{shorten(name)} is not a field of model {self.model!r}", ("fields", i, "name"))
                if name in written:
                    raise EntryError(f"field {shorten(name)} is read twice", ("fields", i, "name"))
                if name in RECORD_FIELDS:
                    raise EntryError(f"field {shorten(name)} is filled by the record itself", ("fields", i, "name"))
                written.add(name)
            writes = GENERIC_WRITES.get(f.reader)
            if writes is not None:
                holds, nullable = _shape(model.model_fields[f.name].annotation)
                if holds != writes:
                    raise EntryError(
                        f"the {f.reader} reader writes {_a(writes)}; field {shorten(f.name)} holds {_a(holds)}",
                        ("fields", i, "reader"),
                    )
                if not nullable and f.reader not in _NEVER_NULL:
                    raise EntryError(
                        f"the {f.reader} reader writes null where a page lacks its section; "
                        f"field {shorten(f.name)} is never null (reader: lines)",
                        ("fields", i, "reader"),
                    )
            missing = _keys_fit(f, model.model_fields[f.name].annotation) if f.reader in GENERIC_WRITES else None
            if missing is not None:
                valid = ", ".join(_part_model(model.model_fields[f.name].annotation).model_fields)  # type: ignore[union-attr]
                raise EntryError(
                    f"{shorten(missing[0])} is not a field of {f.name} (valid: {valid})", ("fields", i, *missing[1])
                )
            if f.section not in labels:
                valid = ", ".join(sorted(labels))
                raise EntryError(
                    f"no heading starts section {shorten(f.section)} (valid: {valid})", ("fields", i, "section")
                )
        for i, label in enumerate(self.required or ()):
            if label not in labels:
                raise EntryError(f"no heading starts section {shorten(label)}", ("required", i))
        return self

    def rule_ids(self) -> Iterator[tuple[Loc, str]]:
        for kind in ("title", "taglines", "app_sentences", "headings"):
            for i, p in enumerate(getattr(self, kind)):
                yield (kind, i), p.id
        for i, f in enumerate(self.fields):
            for j, p in enumerate(f.unverified):
                yield ("fields", i, "unverified", j), p.id


class FamiliesFile(_Strict):
    """rules/families.yaml."""

    null_values: list[Text] = Field(default_factory=list)
    updated_prefix: Text = Field(default="Updated", description="the header line 'Updated<Mon D, YYYY>'")
    families: dict[str, FamilyRule] = Field(min_length=1)

    @field_validator("families")
    @classmethod
    def _names(cls, v: dict[str, FamilyRule]) -> dict[str, FamilyRule]:
        for name in v:
            if not name.replace("_", "").isalnum() or not name.islower():
                raise ValueError(f"family name {name!r} must be lower-case letters, digits and _")
        return v

    def rule_ids(self) -> Iterator[tuple[Loc, str]]:
        for name, fam in self.families.items():
            for loc, rule_id in fam.rule_ids():
                yield ("families", name, *loc), rule_id


FAMILIES_SCHEMA = TypeAdapter(FamiliesFile)


T = TypeVar("T")
_BUILT: dict[int, tuple[object, dict[str, Any]]] = {}


def built_once(rule: object, kind: str, build: Callable[[Any], T]) -> T:
    """What `build` makes of a family's rule (compiled patterns), made once per rule object
    (kept by identity, so a rule of other rules loaded later is built anew), not per page."""
    hit = _BUILT.get(id(rule))
    if hit is None or hit[0] is not rule:
        hit = _BUILT[id(rule)] = (rule, {})
    if kind not in hit[1]:
        hit[1][kind] = build(rule)
    return cast(T, hit[1][kind])
