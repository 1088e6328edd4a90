"""The pieces random guide-flavoured text is made of (property tests and the fuzz target):
characters that matter to the parsers, vocabulary, icons, pipes, headings."""

from __future__ import annotations

GUIDE_PIECES: list[str] = list("abcXYZ |$0123456789.,()/-+:?•✓❌\t\u00a0\r\n") + [
    "Okta",
    "Via third-party",
    "JIT only",
    "Via API",
    "Microsoft Entra ID",
    "SCIM",
    "SSO",
    "Plan",
    "Price",
    "Notes",
    "IdP",
    "Free",
    "Custom",
    "| ",
    " |",
    "\n",
    "Quick SCIM facts\n",
    "Supported identity providers\n",
    "Tier comparison\n",
    "SCIM available?",
]

#: Markup pieces, for inputs that may be HTML.
MARKUP_PIECES: list[str] = list("<>&\"'") + ["<table>", "<tr><td>", "</td></tr>", "<html>", "<!doctype html>"]
