"""Coded errors and warnings.

Every message guideparse prints or records carries a code, so a reviewer can grep
for it and a test can assert on it. The table below is the one place codes live.
"""

from __future__ import annotations

from typing import Any

from .printable import shown

#: code -> (kind, meaning). The kind is a stable name other tools can filter on.
CODES: dict[str, tuple[str, str]] = {
    # rules (stop the run before any output)
    "GP001": ("rules_unreadable", "rules file cannot be read or parsed"),
    "GP002": ("rules_invalid", "rules entry is invalid"),
    # table cells and values
    "GP101": ("unknown_cell_value", "unknown cell value"),
    "GP102": ("ambiguous_cell_value", "ambiguous cell value"),
    "GP103": ("unknown_idp", "IdP name not in the vocabulary; split guessed"),
    "GP104": ("unreadable_row", "table row could not be read"),
    "GP105": ("unreadable_value", "value could not be read"),
    "GP106": ("unknown_table", "table header not recognised"),
    "GP107": ("extra_table", "a second table where one is expected; ignored"),
    "GP108": ("confusable_name", "a name looks like a term it is not (look-alikes, mixed scripts, NFKC)"),
    "GP109": (
        "unknown_term",
        "a value read by vocabulary names a term the vocabulary does not know; kept what it knows",
    ),
    # sections
    "GP201": ("section_missing", "section missing"),
    "GP202": ("section_dropped", "section present but its items are dropped by this rendering"),
    "GP203": ("section_cut", "section cut by the end of a truncated page"),
    "GP204": ("unparsed_line", "unparsed line: no value, no boilerplate rule"),
    "GP205": ("not_verified", "the page says this section's content is not yet verified; no rows"),
    # reading
    "GP301": ("not_utf8", "not UTF-8; decoded as cp1252"),
    "GP302": ("truncated", "page stops mid-way (truncated)"),
    "GP303": ("incomplete_line", "incomplete last line dropped"),
    "GP305": ("bad_bytes", "bytes not valid in the page's encoding, read as U+FFFD"),
    "GP306": ("unknown_charset", "declared charset unknown; decoded as undeclared"),
    "GP307": ("bidi_controls", "bidi control characters removed"),
    # catalog
    "GP401": ("conflict", "documents of one app disagree"),
    # app name
    "GP501": ("app_name_missing", "app name not found"),
    "GP502": ("app_name_conflict", "app name sentences disagree"),
    # failed inputs
    "GP901": ("empty", "empty file"),
    "GP902": ("undecodable", "undecodable bytes"),
    "GP903": ("not_a_guide", "not a guide"),
    "GP904": ("too_large", "file too large"),
    "GP905": ("unreadable", "file cannot be read"),
    "GP906": ("unsupported", "unsupported format or request"),
    "GP907": ("outside_input", "path leads outside the input folder"),
    "GP908": ("bad_run_folder", "not a readable run folder"),
    "GP909": ("output_failed", "an output could not be written; nothing was replaced"),
    "GP910": ("unsafe_output", "output path refused: replacing it would destroy what is not a run"),
    "GP911": ("no_inputs", "no guide file found where the inputs were searched"),
    "GP912": ("timed_out", "extraction took longer than --timeout; the input is skipped"),
    "GP913": ("accept_refused", "accept refused: the run has failed inputs or drops apps from the baseline"),
    "GP914": ("no_family", "page of no known guide family (the message names the closest and why)"),
    "GP915": ("ambiguous_family", "page shows evidence of two guide families"),
    # optional parts (export, browse)
    "GP920": (
        "missing_extra",
        "an optional dependency is not installed (pip install 'guideparse[export]', '[browse]' or '[dask]')",
    ),
    "GP921": ("port_unavailable", "browse cannot listen on the port asked for"),
    "GP922": ("scheduler_unreachable", "no Dask scheduler answers at the --scheduler address"),
    "GP923": ("unknown_url_scheme", "a URL whose scheme no fsspec backend knows"),
    "GP999": ("internal_error", "internal error"),
}


def kind_of(code: str) -> str:
    return CODES[code][0]


class GuideparseError(Exception):
    """An expected failure with a code; the CLI turns it into one line and an exit status."""

    def __init__(self, code: str, message: str, *, path: str | None = None, line: int | None = None):
        assert code in CODES, code
        self.code = code
        self.message = message
        self.path = path
        self.line = line
        super().__init__(self.one_line())

    def __reduce__(self) -> tuple[type[GuideparseError], tuple[str, str], dict[str, Any]]:
        """Survive pickling (errors come back from worker processes)."""
        return (self.__class__, (self.code, self.message), {"path": self.path, "line": self.line})

    def __setstate__(self, state: dict[str, Any] | None) -> None:
        """Restore path and line (the keyword arguments __reduce__ cannot pass) and the message."""
        if state:
            self.__dict__.update(state)
        self.args = (self.one_line(),)

    def one_line(self) -> str:
        """The message as a terminal prints it: one line, control characters escaped."""
        where = ""
        if self.path is not None:
            path = shown(self.path)
            where = f"{path}:{self.line}: " if self.line is not None else f"{path}: "
        return f"{where}{self.code} {shown(self.message)}"


class RulesError(GuideparseError):
    """A problem in rules/: names file and line; stops the run before any output."""


class InputError(GuideparseError):
    """One input cannot be extracted; costs that input only."""
