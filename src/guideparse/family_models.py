"""The document models of the guide families (rules/families.yaml), and
the registry that names them: a family's `model` is a key of MODELS. A new family needs a
model registered here (or by `register_model`) and its rules; no parser code."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .models import DocumentRecord


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ApiQuickReference(_Part):
    has_user_api: bool | None = None
    auth_method: str | None = None
    base_url: str | None = None
    scim_available: bool | None = None
    scim_plan_required: str | None = None


class Authentication(_Part):
    auth_method: str | None = None
    setup_steps: list[str] | None = None


class UserObjectField(_Part):
    field: str | None = None
    type: str | None = None
    description: str | None = None
    on_create: str | None = None
    on_update: str | None = None
    notes: str | None = None


class Endpoint(_Part):
    operation: str | None = None
    method: str | None = None
    path: str | None = None
    notes: str | None = None


class RateLimits(_Part):
    rate_limits: str | None = None
    rate_limit_headers: bool | None = None
    retry_after_header: bool | None = None
    rate_limit_notes: str | None = None
    pagination_method: str | None = None
    default_page_size: int | None = None
    max_page_size: int | None = None
    pagination_pointer: str | None = None
    webhooks_available: bool | None = None
    webhook_notes: str | None = None
    alternative_event_strategy: str | None = None


class ScimApiStatus(_Part):
    scim_available: bool | None = None
    scim_version: str | None = None
    plan_required: str | None = None
    endpoint: str | None = None
    limitations: list[str] | None = None
    common_scenarios: list[str] | None = None


class ManualQuickFacts(_Part):
    admin_console_path: str | None = None
    admin_console_url: str | None = None
    scim_available: bool | None = None
    scim_tier_required: str | None = None
    sso_prerequisite: bool | None = None


class Role(_Part):
    role: str | None = None
    permissions: str | None = None
    cannot_do: str | None = None
    plan_required: str | None = None
    seat_cost: str | None = None
    watch_out_for: str | None = None


class PermissionModel(_Part):
    model_type: str | None = None
    description: str | None = None
    custom_roles: bool | None = None
    custom_roles_plan: str | None = None
    granularity: str | None = None


class ApiGuideDocument(DocumentRecord):
    """A User Management API guide (family `api`)."""

    api_quick_reference: ApiQuickReference | None = None
    authentication: Authentication | None = None
    user_object: list[UserObjectField] | None = None
    core_endpoints: list[Endpoint] | None = None
    rate_limits: RateLimits | None = None
    scim_api_status: ScimApiStatus | None = None


class ManualGuideDocument(DocumentRecord):
    """A User Management guide (family `manual`)."""

    manual_quick_facts: ManualQuickFacts | None = None
    roles: list[Role] | None = None
    permission_model: PermissionModel | None = None


#: Family model name (families.yaml `model`) -> its document model.
MODELS: dict[str, type[DocumentRecord]] = {
    "scim": DocumentRecord,
    "api": ApiGuideDocument,
    "manual": ManualGuideDocument,
}


def register_model(name: str, model: type[DocumentRecord]) -> None:
    """Name a document model for families.yaml (a family of one's own: rules and a model)."""
    MODELS[name] = model


def document_model(family: str, model: str | None = None) -> type[DocumentRecord]:
    """The document model of a family (by its rules' `model` name when given)."""
    return MODELS.get(model or family, MODELS.get(family, DocumentRecord))


def load_document(data: dict[str, Any] | str | bytes) -> DocumentRecord:
    """A document record read back (JSON text or a dict), in its family's model."""
    import json

    raw = json.loads(data) if isinstance(data, (str, bytes)) else data
    return document_model(str(raw.get("family", "scim"))).model_validate(raw)


#: Fields of the family models beyond DocumentRecord's, by family.
def family_fields(family: str) -> list[str]:
    model = document_model(family)
    return [f for f in model.model_fields if f not in DocumentRecord.model_fields]


__all__ = ["MODELS", "Field", "document_model", "family_fields", "load_document", "register_model"]
