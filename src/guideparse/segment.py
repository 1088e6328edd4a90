"""Stage 2: lines -> page (format, truncation, title block, sections).

Cheap line rules only: a section starts at a line that wholly matches a heading
rule from rules/headings.jsonl and runs to the next one. No NLP here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .models import Format, Warn
from .reading import Line, Text
from .rules import Rules


@dataclass
class Section:
    label: str
    rule: str
    heading: Line
    captures: dict[str, str]
    body: list[Line]  # includes blank lines: they separate blocks in flat scrapes

    @property
    def nonblank(self) -> list[Line]:
        return [ln for ln in self.body if ln.text]

    @property
    def last_line(self) -> int:
        nb = self.nonblank
        return nb[-1].no if nb else self.heading.no


@dataclass
class Page:
    format: Format
    header: list[Line]  # lines before the first section heading
    sections: list[Section]
    truncated: bool
    last_line: int | None  # last complete line kept (truncated pages)
    warnings: list[Warn] = field(default_factory=list)

    def first(self, label: str) -> Section | None:
        return next((s for s in self.sections if s.label == label), None)

    def all(self, label: str) -> list[Section]:
        return [s for s in self.sections if s.label == label]

    def is_cut(self, section: Section) -> bool:
        """True when the page stops inside this section."""
        return self.truncated and bool(self.sections) and section is self.sections[-1]


def is_pipe_row(text: str) -> bool:
    return len(text) >= 2 and text[0] == "|" and text.rstrip()[-1] == "|"


def detect_format(lines: list[Line]) -> Format:
    """text/pipe when markdown table rows are present, else text/flat."""
    rows = (ln for ln in lines if ln.text[:1] == "|" and ln.text.count("|") >= 2)
    return "text/pipe" if next(rows, None) is not None and next(rows, None) is not None else "text/flat"


def segment(text: Text, rules: Rules, fmt: Format | None = None) -> Page:
    """Split a text into title block and sections; detect and trim truncation."""
    lines = text.lines
    fmt = fmt or detect_format(lines)
    headings, end_lines, end_seen = scan_line_rules(lines, rules)
    lines, truncated, warnings = trim_cut(text, lines, rules, fmt, end_seen)
    if end_lines:  # end-of-page chrome ("See how it works") belongs to no section
        lines = [ln for ln in lines if ln.text not in end_lines]  # (never empty text)
    # Each section runs from its heading to the next: cut by slicing, not line by line.
    at = [i for i, ln in enumerate(lines) if ln.no in headings]
    header: list[Line] = lines[: at[0]] if at else list(lines)
    sections: list[Section] = []
    for k, i in enumerate(at):
        heading, caps = headings[lines[i].no]
        end = at[k + 1] if k + 1 < len(at) else len(lines)
        sections.append(Section(heading.label, heading.id, lines[i], caps, lines[i + 1 : end]))
    last_kept = next((ln.no for ln in reversed(lines) if ln.text), None)
    return Page(fmt, header, sections, truncated, last_kept if truncated else None, warnings)


def scan_line_rules(lines: list[Line], rules: Rules) -> tuple[dict[int, tuple], set[str], bool]:
    """One pass of the line rules: headings by line number, the end-of-page marker lines that
    are not headings, and whether any end marker was seen (short lines only). Only lines
    opening with a word some rule opens with are matched (most lines are prose)."""
    headings: dict[int, tuple] = {}
    end_lines: set[str] = set()
    end_seen = False
    heading_words = rules.first_words("headings")
    end_words = rules.first_words("end_markers")
    either = None if heading_words is None or end_words is None else heading_words | end_words
    for ln in lines:
        t = ln.text
        if not t or len(t) > 160:
            continue
        word = t.partition(" ")[0].casefold()
        if either is not None and word not in either:
            continue  # neither a heading nor an end marker can open with this word
        hit = rules.match_heading(t, word) if heading_words is None or word in heading_words else None
        if hit is not None:
            headings[ln.no] = hit
        if len(t) <= 80 and (end_words is None or word in end_words) and rules.match_line("end_markers", t):
            end_seen = True
            if hit is None:
                end_lines.add(t)
    return headings, end_lines, end_seen


def trim_cut(
    text: Text, lines: list[Line], rules: Rules, fmt: Format, end_seen: bool
) -> tuple[list[Line], bool, list[Warn]]:
    """Whether the page is truncated, with its incomplete last line dropped (GP303, GP302)."""
    warnings: list[Warn] = []
    last = next((ln for ln in reversed(lines) if ln.text), None)
    incomplete_last = False
    if fmt == "html":
        # An HTML page is whole when its document ends (</html>); a cut one loses its last block.
        incomplete_last = last is not None and not text.final_newline
        truncated = incomplete_last
    else:
        if last is not None and (text.cut_mid_char or not text.final_newline) and last is lines[-1]:
            incomplete_last = text.cut_mid_char or rules.match_line("end_markers", last.text) is None
        truncated = incomplete_last or not end_seen
    if incomplete_last:
        assert last is not None
        warnings.append(Warn(code="GP303", message=f"incomplete last line dropped: {last.text[:60]!r}", line=last.no))
        lines = lines[:-1]
    if truncated:
        kept = next((ln for ln in reversed(lines) if ln.text), None)
        message = "page stops mid-way; sections after the cut are null"
        warnings.append(Warn(code="GP302", message=message, line=kept.no if kept else None))
    return lines, truncated, warnings
