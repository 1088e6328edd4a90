"""Text for a terminal: control characters shown as escapes, never acted on.

A file name or a value may hold a newline (a forged second message line), an ESC (an
escape sequence the terminal would run) or a bidi control (which reorders what follows
on the line). Every one-line message passes through `shown`, which writes each such
character as Python's repr would (`\\n`, `\\x1b`, `\\u202e`) and keeps everything else,
ordinary non-ASCII letters included. JSON outputs need none of this: JSON escapes
control characters itself.
"""

from __future__ import annotations

import re

#: Bidi controls: marks (LRM, RLM), embeddings and overrides (LRE … RLO), isolates (LRI … PDI).
#: A regex character-class body; `reading` drops these from every page too.
BIDI_CONTROLS = r"\u200e\u200f\u202a-\u202e\u2066-\u2069"

# C0 and C1 controls, DEL, bidi controls, the line and paragraph separators, and lone
# surrogates (a file name's undecodable bytes), which cannot even be written to a stream.
_UNPRINTABLE = re.compile(f"[\\x00-\\x1f\\x7f-\\x9f{BIDI_CONTROLS}\\u2028\\u2029\\ud800-\\udfff]")


def _escape(m: re.Match[str]) -> str:
    return repr(m.group())[1:-1]


def shown(text: str) -> str:
    """`text` with each control character written as its escape: one line, nothing run."""
    return _UNPRINTABLE.sub(_escape, text)
