"""An app's slug: its name in URL form, or one from the content digest when it has none."""

from __future__ import annotations

import re
import unicodedata

from .context import Ctx

_NON_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(name: str) -> str:
    """'Zoho Workplace' -> 'zoho-workplace', 'Customer.io' -> 'customer-io', 'Aha!' -> 'aha'."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return _NON_SLUG.sub("-", ascii_name.lower()).strip("-")


def slug_for(app: str | None, sha: str, ctx: Ctx) -> str:
    """The app's slug; without a name (GP501) or one that slugs to nothing, one from the
    content digest, so the document still has a stable key of its own."""
    if app is None:
        ctx.warn("GP501", "app name not found in title or template sentences")
        return f"unknown-{sha[:12]}"
    return slugify(app) or f"unknown-{sha[:12]}"


__all__ = ["slug_for", "slugify"]
