"""The output contract (../shared/contract.md, version 1) as pydantic models.

Field names and order follow the contract; fields the contract leaves to us are
added after the contract's own. `guideparse schema` prints the JSON Schema of
`DocumentRecord`.
"""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator
from typing_extensions import TypedDict

SCHEMA_VERSION = 1
Format = Literal["text/flat", "text/pipe", "html"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Warn(_Model):
    """Something the extractor noticed and could not fully trust."""

    code: str = Field(pattern=r"^GP\d{3}$")
    message: str
    line: int | None = Field(default=None, description="1-based line in the source")
    kind: str = Field(default="", description="stable name of the code, e.g. unparsed_line")

    @model_validator(mode="after")
    def _kind(self) -> Warn:
        if not self.kind:
            from .errors import kind_of

            self.kind = kind_of(self.code)
        return self


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
    sso_protocols: list[str] | None = Field(
        default=None,
        description="sso_protocol as a normalised list (PROTOCOL vocabulary): 'SAML 2.0, OIDC (varies)' -> ['SAML 2.0', 'OIDC']",
    )


class IdentityProvider(_Model):
    idp: str
    sso: str = Field(description="yes, no, unknown, or a CELL value from rules (via_third_party, jit_only, ...)")
    scim: str
    notes: str | None = None


class CatalogIdentityProvider(IdentityProvider):
    """A catalog entry's IdP row: a cell every document left `unknown` may be resolved from the
    notes by a rule of rules/inference.jsonl; such cells are named in `inferred`."""

    inferred: list[str] = Field(
        default_factory=list, description="the cells (sso, scim) resolved from the notes, not shown by any document"
    )
    inferred_by: dict[str, str] = Field(
        default_factory=dict, description="each inferred cell -> the rule that resolved it (infer.<id>)"
    )


#: Tier classes (rules/tiers.yaml decides them): where a feature starts, in plan terms.
TierClass = Literal["free", "all_plans", "paid_plan", "enterprise", "add_on", "not_available", "unknown"]


class CatalogQuickFacts(QuickFacts):
    """A catalog entry's quick facts: the document's, with the tier classes."""

    scim_tier_class: TierClass = Field(
        default="unknown", description="the SCIM tier as a class, from the tier texts and the plan table"
    )
    sso_tier_class: TierClass = Field(
        default="unknown", description="the SSO tier as a class, where the page states it"
    )


class CostOfManualManagement(_Model):
    basis: str | None = None
    orphaned_accounts: int | None = None
    unused_licenses: int | None = None
    it_hours_per_year: int | None = None
    unused_license_cost_usd: int | None = None
    it_labor_cost_usd: int | None = None
    compliance_cost_usd: int | None = None
    total_annual_impact_usd: int | None = None


class ParsedPrice(_Model):
    """A printed price, parsed for filtering; the printed text stays in `price`."""

    currency: str | None = None
    amount: float | None = Field(default=None, description="a single amount ('$17/month')")
    amount_min: float | None = Field(default=None, description="range start, or the base of '$145+'")
    amount_max: float | None = None
    open_ended: bool = Field(default=False, description="'$145+/month', 'starting at $10'")
    period: str | None = Field(default=None, description="month, year, week, one_time")
    unit: str | None = Field(default=None, description="what one amount buys: user, seat, doc maker, …")
    qualifier: str | None = Field(default=None, description="the text in parentheses")
    custom: bool = Field(default=False, description="no public amount: 'Custom', 'Quote required', 'Contact sales'")


class Plan(_Model):
    plan: str
    price: str | None = None
    sso: bool | None = None
    scim: bool | None = None
    price_parsed: ParsedPrice | None = None


class PricingNote(_Model):
    """A paragraph of the pricing section: 'Volume pricing: Drops to …' -> label, text."""

    label: str | None = None
    text: str


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
    documentation: str | None = Field(default=None, description="the documentation line after the specs")


class Recommendation(_Model):
    situation: str
    recommendation: str | None = None


class RelatedApp(_Model):
    app: str
    status: str | None = None
    category: str | None = None
    summary: str | None = None
    provisioning_label: str | None = Field(default=None, description="'Provisioning' or 'SCIM Status', as printed")
    provisioning: str | None = Field(default=None, description="its value: 'Not Supported', 'Included', …")
    manual_cost: str | None = Field(default=None, description="as printed: '$11,754/yr'")
    manual_cost_usd_per_year: int | None = None


class Practice(_Model):
    """'What this means in practice': prose, and title/detail items where the scrape keeps them."""

    paragraphs: list[str] = Field(default_factory=list)
    items: list[Constraint] = Field(default_factory=list)


class KeyValue(_Model):
    key: str
    value: str | None = None
    supported: str | None = Field(default=None, description="yes / no when the value starts with an icon or Yes/No")


class OfferTable(_Model):
    kind: str | None = Field(description="table kind from rules/tables.yaml")
    headers: list[str]
    rows: list[list[str | None]]
    entries: list[KeyValue] = Field(default_factory=list, description="two-column tables as key/value")


class TitledList(_Model):
    title: str | None = None
    items: list[str]


class OfferBlock(_Model):
    heading: str | None = None
    paragraphs: list[str] = Field(default_factory=list)
    tables: list[OfferTable] = Field(default_factory=list)
    lists: list[TitledList] = Field(default_factory=list)
    items: list[Constraint] = Field(default_factory=list)


class IdentityOffer(_Model):
    """'What X actually offers for identity' / 'What the upgrade actually includes'."""

    title: str
    blocks: list[OfferBlock] = Field(default_factory=list)


class Quote(_Model):
    text: str
    attribution: str | None = None


class AdminVoices(_Model):
    """'What IT admins are saying'."""

    intro: list[str] = Field(default_factory=list)
    points: list[str] = Field(default_factory=list)
    quotes: list[Quote] = Field(default_factory=list)


class IdpConfiguration(_Model):
    """'Configuration for Okta' / 'for Entra ID'."""

    idp: str
    integration_type: str | None = None
    where_to_enable: str | None = None
    prerequisite: str | None = None
    required_credentials: str | None = None
    configuration_steps: str | None = None
    provisioning_trigger: str | None = None
    sync_behavior: str | None = None
    notes: list[str] = Field(default_factory=list)


class Provenance(TypedDict):
    """Where a value came from: its first and last source line, and the rule that read it."""

    lines: tuple[int, int]
    rule: str


class TracedProvenance(dict[str, Provenance]):
    """A document's provenance as extraction traced it (context.Ctx): each value exactly
    {"lines": (int, int), "rule": str}, built by guideparse alone. render.document_line writes
    this one with orjson; provenance of any other origin goes through the model's serializer."""

    __slots__ = ()


#: The warnings of a record: a document's own (Warn), or a catalog entry's (SourcedWarn);
#: its IdP rows and quick facts: a document's, or a catalog entry's (with what it resolved).
WarnT = TypeVar("WarnT", bound=Warn)
IdpT = TypeVar("IdpT", bound=IdentityProvider)
FactsT = TypeVar("FactsT", bound=QuickFacts)


class _Content(_Model, Generic[WarnT, IdpT, FactsT]):
    """Fields shared by a document record and a catalog entry, in contract order."""

    schema_version: int = SCHEMA_VERSION
    slug: str
    app: str | None
    family: str = Field(default="scim", description="the guide family (rules/families.yaml)")
    updated: str | None = Field(default=None, description="ISO date of the header's 'Updated<date>' line")
    badge: str | None = None
    plan_requirement: str | None = None
    summary: list[str] = Field(default_factory=list)
    strategic_alternative: str | None = None
    quick_facts: FactsT | None = None
    identity_providers: list[IdpT] | None = None
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
    warnings: list[WarnT] = Field(default_factory=list)
    # Beyond the contract:
    pricing_intro: str | None = None
    pricing_notes: list[PricingNote] | None = None
    practice: Practice | None = None
    identity_offer: IdentityOffer | None = None
    admins_saying: AdminVoices | None = None
    recurring_theme: str | None = None
    idp_configurations: list[IdpConfiguration] | None = None
    quick_facts_raw: dict[str, str] | None = Field(default=None, description="quick facts as printed")
    provenance: dict[str, Provenance] = Field(
        default_factory=dict, description="field path -> source lines and rule id (documents only)"
    )


class DocumentRecord(_Content[Warn, IdentityProvider, QuickFacts]):
    """One input file's extraction."""

    source: Source


class Conflict(_Model):
    field: str
    values: list[dict]


class Lint(_Model):
    """A cross-field inconsistency a rule of rules/lints.yaml found in a catalog entry."""

    id: str
    severity: Literal["error", "warning", "info"]
    message: str
    fields: list[str] = Field(description="the field paths involved")


class CatalogEntry(_Content[SourcedWarn, CatalogIdentityProvider, CatalogQuickFacts]):
    """The documents of one app merged field by field, with what the catalog resolved and checked."""

    sources: list[Source]
    conflicts: list[Conflict] = Field(default_factory=list)
    lints: list[Lint] = Field(default_factory=list, description="what rules/lints.yaml found inconsistent")
    api_guide: dict[str, Any] | None = Field(default=None, description="the app's merged `api` family documents")
    manual_guide: dict[str, Any] | None = Field(default=None, description="the app's merged `manual` family documents")


class InputStatus(_Model):
    path: str
    sha256: str | None
    bytes: int | None
    status: Literal["ok", "failed"]
    error: str | None = None
    error_code: str | None = None


class RunSummary(_Model):
    """What a run did, counted: the manifest's `summary` and the CLI's summary line."""

    inputs: int
    ok: int = Field(description="inputs that gave a record (with warnings or not)")
    ok_with_warnings: int = Field(description="ok inputs whose record has at least one warning")
    truncated: int = Field(description="ok inputs whose page stops mid-way")
    failed: int
    apps: int
    warnings: dict[str, int] = Field(description="warning code -> how many, over all ok inputs")
    failures: dict[str, int] = Field(description="error code -> how many failed inputs")
    seconds: float | None = Field(default=None, description="how long the run took (a time: differs run to run)")


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
    summary: RunSummary | None = None
    reviewed: dict | None = Field(default=None, description="baseline only: the run reviewed and the apps accepted")
    parts: dict[str, list[str]] | None = Field(
        default=None, description="sharded runs only: the part files of documents/ and catalog/, in order"
    )
