"""`guideparse lint`: the lints of a run folder's catalog, grouped by app or by lint id, as
text, markdown or JSON.

Each catalog entry carries the lints found when the run was made (with that run's rules);
an entry written before entries carried lints is checked now, with the rules given, and the
report says how many were.
"""

from __future__ import annotations

import html
import json
import os
from collections import Counter
from dataclasses import dataclass, field

from .catalog import default_rules, finish_entry
from .models import CatalogEntry, Lint
from .printable import shown
from .rules import Rules
from .store import load_run

SEVERITY_ORDER = ("error", "warning", "info")


@dataclass(frozen=True)
class AppLints:
    slug: str
    app: str | None
    lints: list[Lint]


@dataclass
class LintReport:
    """The lints of one run: per app (sorted by slug), with how many apps it has."""

    run: str
    apps: int
    found: list[AppLints] = field(default_factory=list)
    rechecked: int = 0  # entries without lints (an older run), checked with the current rules

    @property
    def counts(self) -> dict[str, int]:
        c: Counter[str] = Counter(lint.severity for a in self.found for lint in a.lints)
        return {s: c[s] for s in SEVERITY_ORDER}

    @property
    def has_errors(self) -> bool:
        return self.counts["error"] > 0

    def summary(self) -> str:
        """'13 lints (0 errors, 4 warnings, 9 info) in 13 of 43 apps'."""
        n, c = sum(self.counts.values()), self.counts
        with_lints = sum(1 for a in self.found if a.lints)
        parts = f"{c['error']} error{'s' * (c['error'] != 1)}, {c['warning']} warning{'s' * (c['warning'] != 1)}"
        line = f"{n} lint{'s' * (n != 1)} ({parts}, {c['info']} info) in {with_lints} of {self.apps} apps"
        return line + (f"; {self.rechecked} entries checked with the current rules" if self.rechecked else "")


def lint_run(path: str | os.PathLike[str], rules: Rules | None = None) -> LintReport:
    """The lints of a run folder's catalog (GP908 when it is not a run folder)."""
    run = load_run(path)
    report = LintReport(str(path), len(run.catalog))
    for slug in sorted(run.catalog):
        data = run.catalog[slug]
        if "lints" in data:
            lints = [Lint.model_validate(x) for x in data["lints"]]
        else:
            entry = CatalogEntry.model_validate({k: v for k, v in data.items() if k != "provenance"})
            lints = finish_entry(entry, rules or default_rules()).lints
            report.rechecked += 1
        report.found.append(AppLints(slug, data.get("app"), lints))
    return report


def _rows(report: LintReport, by: str, errors_only: bool) -> list[tuple[str, str, Lint]]:
    """(group key, app shown, lint), ordered by group then severity."""
    rows = []
    for a in report.found:
        name = f"{a.slug} ({a.app})" if a.app and a.app != a.slug else a.slug
        for lint in a.lints:
            if not errors_only or lint.severity == "error":
                rows.append((name if by == "app" else lint.id, name, lint))
    rank = {s: i for i, s in enumerate(SEVERITY_ORDER)}
    return sorted(rows, key=lambda r: (r[0], rank[r[2].severity], r[2].id, r[1]))


def render_lints(report: LintReport, fmt: str, by: str = "app", errors_only: bool = False) -> str:
    """The report as text (for people), markdown (a pull-request comment) or json (for tools)."""
    rows = _rows(report, by, errors_only)
    if fmt == "json":
        lints = [{"slug": a.slug, "app": a.app, **lint.model_dump()} for a in report.found for lint in a.lints]
        if errors_only:
            lints = [x for x in lints if x["severity"] == "error"]
        out = {"run": report.run, "apps": report.apps, "summary": report.counts, "lints": lints}
        return json.dumps(out | {"rechecked": report.rechecked}, ensure_ascii=False) + "\n"
    if fmt == "markdown":
        return _markdown(report, rows, by, errors_only)
    lines: list[str] = []
    group = None
    for key, name, lint in rows:
        if key != group:
            group = key
            lines.append(shown(key if by == "app" else f"{key} ({lint.severity})"))
        who = lint.id if by == "app" else name
        lines.append(shown(f"  {lint.severity:<8} {who}: {lint.message}"))
        lines.append(shown(f"           fields: {', '.join(lint.fields)}"))
    if not errors_only:
        lines.append(report.summary())
    return "".join(line + "\n" for line in lines)


def _markdown(report: LintReport, rows: list[tuple[str, str, Lint]], by: str, errors_only: bool) -> str:
    lines = [f"## Lints: {_cell(report.run)}", ""]
    if not errors_only:
        lines += [report.summary() + ".", ""]
    group = None
    for key, name, lint in rows:
        if key != group:
            group = key
            head = "| severity | lint | message | fields |" if by == "app" else "| severity | app | message | fields |"
            lines += [""] if lines[-1] else []
            lines += [f"### {_cell(key)}", "", head, "|---|---|---|---|"]
        who = f"`{lint.id}`" if by == "app" else _cell(name)
        fields = ", ".join(f"`{_cell(f)}`" for f in lint.fields)
        lines.append(f"| {lint.severity} | {who} | {_cell(lint.message)} | {fields} |")
    return "\n".join(lines).strip("\n") + "\n"


def _cell(text: str) -> str:
    """Text for a markdown table cell: controls escaped, HTML escaped (GitHub renders it), pipes
    and backticks neutralised."""
    return html.escape(shown(text), quote=False).replace("|", "\\|").replace("`", "'")
