"""What every section parser shares: the rules, the page, warnings and provenance."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import TYPE_CHECKING

from .confusables import vet
from .models import Provenance, TracedProvenance, Warn
from .paths import TraceSegment, format_path_memo
from .reading import Line
from .rules import Rules
from .segment import Page, Section

if TYPE_CHECKING:
    from .tables import Table


@dataclass
class Ctx:
    rules: Rules
    page: Page
    warnings: list[Warn] = field(default_factory=list)
    provenance: dict[str, Provenance] = field(default_factory=dict)  # path -> {"lines": (first, last), "rule"}
    used: dict[int, str] = field(default_factory=dict)  # line number -> rule that used it
    table_kinds: dict[int, str] = field(default_factory=dict)  # line number -> kind of the table read there
    app: str | None = None  # the app's name once found (a reader keeps it whole in glued lists)
    _heads: frozenset[int] | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._heads = None  # (compiled dataclasses leave a field of init=False unset)

    @property
    def table_heads(self) -> frozenset[int]:
        """Lines of the page that can be table headers (see tables.header_candidates), found
        on first use (a plain cache: compiled classes take no cached_property)."""
        if self._heads is None:
            from .tables import header_candidates  # tables imports this module's siblings

            page = self.page
            self._heads = header_candidates(chain(page.header, *(s.body for s in page.sections)), self.rules)
        return self._heads

    def warn(self, code: str, message: str, line: int | None = None) -> None:
        self.warnings.append(Warn(code=code, message=message, line=line))

    def vetted(self, name: str, label: str | None, what: str, line: int | None) -> str:
        """A printed name as it is kept (confusables.vet): as written, or the known term of
        `label` NFKC makes it; GP108 when it looks like what it is not. ASCII is kept at once."""
        if name.isascii():
            return name
        verdict = vet(name, label, self.rules, what)
        if verdict.warning is not None:
            self.warn("GP108", verdict.warning, line)
        return verdict.name

    def trace(self, path: str | Sequence[TraceSegment], first: int | Line, last: int | Line | None, rule: str) -> None:
        """Record where a value came from: source lines and the rule that read it. `path` is a
        path's string form, or its segments (paths.format_path writes the key)."""
        a = first.no if isinstance(first, Line) else first
        b = a if last is None else (last.no if isinstance(last, Line) else last)
        self.provenance[path if isinstance(path, str) else format_path_memo(path)] = {"lines": (a, b), "rule": rule}
        if a == b:
            self.used.setdefault(a, rule)
        else:
            self.use(a, b, rule)

    def provenance_out(self, mapping: dict[int, int] | None = None) -> TracedProvenance:
        """The provenance sorted by path; line numbers through `mapping` (HTML rendered -> source)."""
        items = sorted(self.provenance.items())
        if not mapping:
            return TracedProvenance(items)
        out = TracedProvenance()
        for path, p in items:
            a, b = p["lines"]
            a, b = mapping.get(a, a), max(mapping.get(a, a), mapping.get(b, b))
            out[path] = {"lines": (a, b), "rule": p["rule"]}
        return out

    def use(self, first: int | Line, last: int | Line | None, rule: str) -> None:
        """Mark source lines as read by a rule (for coverage), with or without a value."""
        a = first.no if isinstance(first, Line) else first
        b = a if last is None else (last.no if isinstance(last, Line) else last)
        if a == b:
            self.used.setdefault(a, rule)
            return
        for n in range(a, b + 1):
            self.used.setdefault(n, rule)

    def use_table(self, table: Table) -> None:
        """Mark a table's lines, header to last row, as read, and as lines of a table of its kind
        (so a parser can find tables of a kind by what they are, not by rule ids)."""
        self.use(table.header, table.last_line, f"table:{table.kind}")
        for n in range(table.header.no, table.last_line + 1):
            self.table_kinds.setdefault(n, table.kind)

    def first_table_line(self, kind: str, after: int) -> int | None:
        """The first line after line `after` of a table of `kind` read so far, or None."""
        return min((n for n, k in self.table_kinds.items() if k == kind and n > after), default=None)

    def lossy(self, field_name: str) -> bool:
        """True when this rendering is known to drop the items of `field_name`."""
        return field_name in self.rules.page.lossy.get(self.page.format, ())

    def empty_section(self, section: Section, field_name: str) -> list | None:
        """Value for a section present with no items: [] or, if the rendering drops them, None."""
        if self.page.is_cut(section):
            self.warn(
                "GP203",
                f"page stops inside '{section.heading.text}' before any item; {field_name} is null",
                section.heading.no,
            )
            return None
        if self.lossy(field_name):
            self.warn(
                "GP202",
                f"'{section.heading.text}' has no items in this {self.page.format} scrape, "
                f"which drops them; {field_name} is null",
                section.heading.no,
            )
            return None
        self.trace(field_name, section.heading, None, f"{section.rule}:no-items")
        return []

    def note_cut(self, section: Section, field_name: str) -> None:
        if self.page.is_cut(section):
            self.warn(
                "GP203",
                f"page stops inside '{section.heading.text}'; {field_name} may be incomplete",
                section.last_line,
            )
