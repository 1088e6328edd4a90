"""Coded errors and warnings.

Every message guideparse prints or records carries a code, so a reviewer can grep
for it and a test can assert on it. The table below is the one place codes live.
"""
from __future__ import annotations

CODES: dict[str, str] = {
    # rules (stop the run before any output)
    "GP001": "rules file cannot be read or parsed",
    "GP002": "rules entry is invalid",
    # table cells and values
    "GP101": "unknown cell value",
    "GP102": "ambiguous cell value",
    "GP103": "IdP name not in the vocabulary; split guessed",
    "GP104": "table row could not be read",
    "GP105": "value could not be read",
    "GP106": "table header not recognised",
    # sections
    "GP201": "section missing",
    "GP202": "section present but its items are dropped by this rendering",
    "GP203": "section cut by the end of a truncated page",
    "GP204": "unparsed line",
    # reading
    "GP301": "not UTF-8; decoded as cp1252",
    "GP302": "page stops mid-way (truncated)",
    "GP303": "incomplete last line dropped",
    # catalog
    "GP401": "documents of one app disagree",
    # app name
    "GP501": "app name not found",
    "GP502": "app name sentences disagree",
    # failed inputs
    "GP901": "empty file",
    "GP902": "undecodable bytes",
    "GP903": "not a guide",
    "GP904": "file too large",
    "GP905": "file cannot be read",
    "GP906": "unsupported format",
    "GP907": "path leads outside the input folder",
    "GP999": "internal error",
}


class GuideparseError(Exception):
    """An expected failure with a code; the CLI turns it into one line and an exit status."""

    def __init__(self, code: str, message: str, *, path: str | None = None, line: int | None = None):
        assert code in CODES, code
        self.code = code
        self.message = message
        self.path = path
        self.line = line
        super().__init__(self.one_line())

    def one_line(self) -> str:
        where = ""
        if self.path is not None:
            where = f"{self.path}:{self.line}: " if self.line is not None else f"{self.path}: "
        return f"{where}{self.code} {self.message}"


class RulesError(GuideparseError):
    """A problem in rules/: names file and line; stops the run before any output."""


class InputError(GuideparseError):
    """One input cannot be extracted; costs that input only."""
