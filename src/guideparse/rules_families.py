"""The schema of `rules/families.yaml`: the guide families, how a page is recognised as
one (title, badge, its own headings), and which generic reader reads each field of the
declaratively read families (family_readers.py) from which section.

As in `rules_schema`, every check the file can answer is a validator here; the loader
names the entry's line.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from pydantic import Field, TypeAdapter, field_validator, model_validator

from .rules_schema import SECTION_LABELS, EntryError, LinePattern, Loc, Text, _Strict, one_of, shorten

READERS = ("labels", "table", "joined_table", "paragraphs")
VALUE_TYPES = ("text", "bool", "int")


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
    reader: Literal["labels", "table", "joined_table", "paragraphs"]
    labels: list[LabelRule] = Field(default_factory=list)
    lists: list[ListRule] = Field(default_factory=list)
    columns: list[ColumnRule] = Field(default_factory=list)
    unverified: list[LinePattern] = Field(default_factory=list)

    @model_validator(mode="after")
    def _reader_needs(self) -> FieldRule:
        if self.reader == "labels" and not (self.labels or self.lists):
            raise ValueError("a labels reader needs labels or lists")
        if self.reader in ("table", "joined_table") and len(self.columns) < 2:
            raise ValueError(f"a {self.reader} reader needs at least two columns")
        return self


class FamilyRule(_Strict):
    model: str = Field(min_length=1, description="the name of its document model (family_models.MODELS)")
    title: list[LinePattern] = Field(default_factory=list)
    badges: list[Text] = Field(default_factory=list)
    taglines: list[LinePattern] = Field(default_factory=list)
    app_sentences: list[LinePattern] = Field(default_factory=list)
    headings: list[FamilyHeading] = Field(default_factory=list)
    evidence: list[str] = Field(default_factory=list, description="headings.jsonl labels only this family has")
    fields: list[FieldRule] = Field(default_factory=list)

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
        """The model is a registered one, each field one of its fields, each section one of
        the family's own headings (the scim family's fields are read by record.py)."""
        from .family_models import MODELS

        model = MODELS.get(self.model)
        if model is None:
            raise EntryError(f"unknown model {shorten(self.model)} (valid: {', '.join(MODELS)})", ("model",))
        labels = {h.label for h in self.headings}
        for i, f in enumerate(self.fields):
            if f.name not in model.model_fields:
                raise EntryError(f"{shorten(f.name)} is not a field of model {self.model!r}", ("fields", i, "name"))
            if f.section not in labels and f.section != "summary":
                valid = ", ".join(sorted(labels)) or "none"
                raise EntryError(
                    f"no heading of this family starts section {shorten(f.section)} (valid: {valid})",
                    ("fields", i, "section"),
                )
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
