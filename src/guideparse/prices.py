"""Printed prices -> ParsedPrice, for filtering. The printed text is always kept.

    "$27-470/month"                          amount 27..470, month
    "$16.50/mo (10K emails, unlimited users)" amount 16.5, month, qualifier
    "$145+/month"                            from 145, open-ended, month
    "$9/user/month", "$30/doc maker/month"   unit user / doc maker
    "Custom (contact sales)", "Quote required" custom, no amount
    "Starting at $280/month"                 from 280, open-ended (a PRICE_TERM "from" lead-in)

Currencies, periods, price words and lead-ins are vocabularies in rules/vocabulary.jsonl.
"""

from __future__ import annotations

import re

from .models import ParsedPrice
from .printed_numbers import WHOLE_NUMBER
from .rules import Rules

_AMOUNT = rf"{WHOLE_NUMBER.pattern}(?:\.\d+)?"  # "1,200", "16.50"
_PRICE = re.compile(
    rf"""
    (?P<currency>[^\d\s(]{{1,3}})?\s*             # a currency sign or code before the amount
    (?P<low>{_AMOUNT})(?P<low_k>[kKmM])?          # the amount, or the start of a range; 36K
    (?:\s*(?:-|–|to)\s*\1?\s*                     # a range: "-", "–" or "to", the sign again optional
       (?P<high>{_AMOUNT})(?P<high_k>[kKmM])?)?   # the end of the range
    (?P<plus>\+)?                                 # "$145+": this much or more
    \s*(?P<code>[A-Z]{{3}}\b)?                    # a currency code after the amount: "10 USD"
    (?P<per>(?:\s*(?:/|\bper\b|\ba\b)\s*        # "/user/month", "per seat per year":
       [A-Za-z][A-Za-z-]*                         #   a unit or period word
       (?:\s[a-z][a-z-]*(?=\s*(?:/|$|\()))?      #   a second word only if a separator follows ("doc maker")
    )*)
    \s*(?:\((?P<qualifier>[^)]*)\))?              # "(10K emails, unlimited users)"
    """,
    re.VERBOSE,
)
_PER_SPLIT = re.compile(r"\s*(?:/|\bper\b|\ba\b)\s*")
_PARENS = re.compile(r"\(([^)]*)\)")
_MULT = {"k": 1_000, "m": 1_000_000}


def _number(text: str, suffix: str | None) -> float:
    value = float(text.replace(",", ""))
    if suffix:
        value *= _MULT[suffix.lower()]
    return int(value) if value.is_integer() else value


def _lookup(text: str, rules: Rules, label: str) -> tuple[str, str] | None:
    return rules.term_lookup.get(label, {}).get(text.strip().casefold())


def _lead_in(text: str, rules: Rules) -> int:
    """Length of a lead-in such as "Starting at " (PRICE_TERM "from") and the spaces after it; 0 if none."""
    low = text.casefold()
    for term, value, _rid in rules.terms.get("PRICE_TERM", []):
        n = len(term)
        if value == "from" and low.startswith(term.casefold()) and text[n : n + 1].isspace():
            return len(text) - len(text[n:].lstrip())
    return 0


def parse_price(text: str | None, rules: Rules) -> tuple[ParsedPrice | None, str | None]:
    """Parse one printed price; (None, None) when nothing in it can be read."""
    if not text:
        return None, None
    lead = _lead_in(text, rules)
    starting = lead > 0
    body = text[lead:]
    m = _PRICE.search(body)
    if m is not None and m.start() <= 4:
        sign = m.group("currency") or m.group("code")
        currency = _lookup(sign, rules, "CURRENCY") if sign else None
        if sign and currency is None:
            m = None
        else:
            return _from_match(m, currency, bool(starting), rules), "price.amount"
    for term, value, rid in rules.terms.get("PRICE_TERM", []):
        if value != "from" and body.casefold().startswith(term.casefold()):
            q = _PARENS.search(body)
            if value == "free":
                return ParsedPrice(amount=0.0, qualifier=q.group(1).strip() if q else None), rid
            return ParsedPrice(custom=True, qualifier=q.group(1).strip() if q else None), rid
    return None, None


def _from_match(m: re.Match[str], currency: tuple[str, str] | None, starting: bool, rules: Rules) -> ParsedPrice:
    low = _number(m.group("low"), m.group("low_k"))
    high = _number(m.group("high"), m.group("high_k") or m.group("low_k")) if m.group("high") else None
    fields: dict = {"currency": currency[0] if currency else None}
    if high is not None:
        fields["amount_min"], fields["amount_max"] = low, high
    elif m.group("plus") or starting:
        fields["amount_min"], fields["open_ended"] = low, True
    else:
        fields["amount"] = low
    units = []
    for part in _PER_SPLIT.split(m.group("per") or ""):
        part = part.strip()
        if not part:
            continue
        period = _lookup(part, rules, "PERIOD")
        if period is not None and "period" not in fields:
            fields["period"] = period[0]
        else:
            units.append(part)
    if units:
        fields["unit"] = " / ".join(units)
    if m.group("qualifier"):
        fields["qualifier"] = m.group("qualifier").strip()
    return ParsedPrice(**fields)
