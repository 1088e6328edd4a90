"""The output contract (../shared/contract.md, version 1) as pydantic models.

Field names and order follow the contract; fields the contract leaves to us are
added after the contract's own. `guideparse schema` prints the JSON Schema of
`DocumentRecord`.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1
Format = Literal["text/flat", "text/pipe", "html"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Warn(_Model):
    """Something the extractor noticed and could not fully trust."""

    code: str = Field(pattern=r"^GP\d{3}$")
    message: str
    line: int | None = Field(default=None, description="1-based line in the source")


class SourcedWarn(Warn):
    """A catalog entry's warning: which of its sources it is about (None: the merge itself)."""

    source: str | None = None


class Source(_Model):
    path: str
    sha256: str
    bytes: int
    format: Format
    truncated: bool
    encoding: str = "utf-8"


class QuickFacts(_Model):
    scim_available: bool | None = None
    scim_tier_required: str | None = None
    sso_required_first: bool | None = None
    sso_available: bool | None = None
    sso_protocol: str | None = None
    documentation: str | None = None


class IdentityProvider(_Model):
    idp: str
    sso: str = Field(description="yes, no, unknown, or a CELL value from rules (via_third_party, jit_only, ...)")
    scim: str
    notes: str | None = None


class CostOfManualManagement(_Model):
    basis: str | None = None
    orphaned_accounts: int | None = None
    unused_licenses: int | None = None
    it_hours_per_year: int | None = None
    unused_license_cost_usd: int | None = None
    it_labor_cost_usd: int | None = None
    compliance_cost_usd: int | None = None
    total_annual_impact_usd: int | None = None


class Plan(_Model):
    plan: str
    price: str | None = None
    sso: bool | None = None
    scim: bool | None = None


class PlanTable(_Model):
    title: str | None
    plans: list[Plan]


class Constraint(_Model):
    title: str
    detail: str | None = None


class TechnicalSpecs(_Model):
    scim_version: str | None = None
    supported_operations: list[str] = Field(default_factory=list)
    supported_attributes: list[str] = Field(default_factory=list)
    plan_requirement: str | None = None
    prerequisites: str | None = None


class Recommendation(_Model):
    situation: str
    recommendation: str | None = None


class RelatedApp(_Model):
    app: str
    status: str | None = None
    category: str | None = None
    summary: str | None = None


class Provenance(_Model):
    lines: tuple[int, int]
    rule: str


class _Content(_Model):
    """Fields shared by a document record and a catalog entry, in contract order."""

    schema_version: int = SCHEMA_VERSION
    slug: str
    app: str | None
    badge: str | None = None
    plan_requirement: str | None = None
    summary: list[str] = Field(default_factory=list)
    strategic_alternative: str | None = None
    quick_facts: QuickFacts | None = None
    identity_providers: list[IdentityProvider] | None = None
    cost_of_manual_management: CostOfManualManagement | None = None
    pricing: list[PlanTable] | None = None
    constraints: list[Constraint] | None = None
    challenges: list[str] | None = None
    key_limitations: list[str] | None = None
    technical_specs: TechnicalSpecs | None = None
    recommendations: list[Recommendation] | None = None
    bottom_line: str | None = None
    last_updated: str | None = None
    related_apps: list[RelatedApp] | None = None
    warnings: list[Warn] = Field(default_factory=list)
    # Beyond the contract:
    quick_facts_raw: dict[str, str] | None = Field(default=None, description="quick facts as printed")
    provenance: dict[str, Provenance] = Field(
        default_factory=dict, description="field path -> source lines and rule id (documents only)")


class DocumentRecord(_Content):
    """One input file's extraction."""

    source: Source


class Conflict(_Model):
    field: str
    values: list[dict]


class CatalogEntry(_Content):
    """The documents of one app merged field by field."""

    sources: list[Source]
    conflicts: list[Conflict] = Field(default_factory=list)
    warnings: list[SourcedWarn] = Field(default_factory=list)


class InputStatus(_Model):
    path: str
    sha256: str | None
    bytes: int | None
    status: Literal["ok", "failed"]
    error: str | None = None
    error_code: str | None = None


class Manifest(_Model):
    tool: str = "guideparse"
    tool_version: str
    schema_version: int = SCHEMA_VERSION
    rules_digest: str
    rules_dir: str
    started_at: str
    finished_at: str
    counts: dict[str, int]
    inputs: list[InputStatus]
