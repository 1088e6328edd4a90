"""Whole numbers as the guides print them: `1,200`, `$11,754/yr`, `40 hours`.

Label/value sections (quick facts, the cost of not automating) and related-app
cards both read counts and dollar figures this way; prices with decimals,
ranges and periods are prices.py's.
"""

from __future__ import annotations

import re

#: Digits with thousands commas: "11,754".
WHOLE_NUMBER = re.compile(r"\d[\d,]*")


def first_whole_number(text: str) -> int | None:
    """The first whole number in the text, commas dropped; None when it prints none.

    '$11,754/yr' -> 11754, '~40 hours a year' -> 40, 'Not shown' -> None."""
    m = WHOLE_NUMBER.search(text)
    return None if m is None else int(m.group(0).replace(",", ""))
