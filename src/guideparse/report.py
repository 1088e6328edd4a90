"""Renderings of a DiffReport: json (for tools), text (terminal), markdown (pull requests),
html (one self-contained file). Every value is escaped for its medium."""

from __future__ import annotations

import html
import io
import json
from collections.abc import Callable
from typing import Any

from .diff import AppDiff, Change, DiffReport
from .paths import parse_path
from .printable import shown

#: (slug, path) -> [(source path, line number, text or None)], for the html report.
SourceLookup = Callable[[str, str], list[tuple[str, int, str | None]]]
_SHORT = 300


def _value(v: Any, limit: int | None = _SHORT) -> str:
    text = json.dumps(v, ensure_ascii=False)
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"


def section_of(path: str) -> str:
    """The record field a path lies under (its first segment)."""
    return str(parse_path(path)[0]) if path else ""


def looks_like_a_report(head: bytes) -> bool:
    """Whether a file's first bytes are one of these renderings (what `diff --output` may replace)."""
    text = head.lstrip()
    return (
        text.startswith((b"## guideparse diff", b"old: "))
        or (text.startswith(b"<!doctype html>") and b"<title>guideparse diff</title>" in text)
        or (text.startswith(b"{") and b'"old":' in text[:200] and b'"new":' in text)
    )


def render_json(report: DiffReport) -> str:
    return json.dumps(report.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n"


def _summary_line(report: DiffReport) -> str:
    s = report.summary
    return f"{s['added']} added, {s['removed']} removed, {s['changed']} changed, {s['unchanged']} unchanged"


# --------------------------------------------------------------------------- text


def render_text(report: DiffReport, *, color: bool = False, width: int = 100) -> str:
    """Plain or coloured (rich) text for a terminal; what comes from the runs (names, paths,
    values) with control characters escaped (printable.shown)."""
    from rich.console import Console
    from rich.text import Text

    console = Console(
        record=True, force_terminal=color, no_color=not color, width=width, highlight=False, file=io.StringIO()
    )  # what is printed is exported below, not written anywhere
    style = {"added": "green", "removed": "red", "changed": "yellow", "unchanged": "dim"}
    console.print(Text(shown(f"old: {report.old.get('run')}  new: {report.new.get('run')}"), style="dim"))
    console.print(Text(_summary_line(report), style="bold"))
    for app in report.apps:
        if app.status == "unchanged":
            continue
        console.print()
        name = shown(f"{app.app or app.slug} ({app.slug})")
        console.print(Text(f"{name}: {app.status}", style=f"bold {style[app.status]}"))
        for ch in app.changes:
            console.print(
                Text.assemble(
                    ("  " + {"added": "+", "removed": "-", "changed": "~"}[ch.kind] + " ", style[ch.kind]),
                    (shown(ch.path), "bold"),
                )
            )
            if ch.kind != "added":
                console.print(Text("      old: " + shown(_value(ch.old)), style="red"))
            if ch.kind != "removed":
                console.print(Text("      new: " + shown(_value(ch.new)), style="green"))
    return console.export_text(styles=color)


# --------------------------------------------------------------------------- markdown


def _md(text: str) -> str:
    """Escape for a markdown table cell that GitHub may render as HTML (control characters
    as their escapes, as on a terminal)."""
    return (
        html.escape(shown(text), quote=False)
        .replace("|", "\\|")
        .replace("`", "\\`")
        .replace("*", "\\*")
        .replace("_", "\\_")
        .replace("[", "\\[")
        .replace("]", "\\]")
    )


def render_markdown(report: DiffReport) -> str:
    out = [
        "## guideparse diff",
        "",
        f"**{_summary_line(report)}**",
        "",
        f"old: `{_md(str(report.old.get('run')))}` · new: `{_md(str(report.new.get('run')))}`",
        "",
    ]
    for app in report.apps:
        if app.status == "unchanged":
            continue
        out.append(f"### {_md(app.app or app.slug)} ({_md(app.slug)}): {app.status}")
        out.append("")
        if app.changes:
            out += ["| field | change | old | new |", "|---|---|---|---|"]
            for ch in app.changes:
                old = "" if ch.kind == "added" else _md(_value(ch.old))
                new = "" if ch.kind == "removed" else _md(_value(ch.new))
                out.append(f"| {_md(ch.path)} | {ch.kind} | {old} | {new} |")
            out.append("")
    return "\n".join(out).rstrip() + "\n"


# --------------------------------------------------------------------------- html

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d1d1f;background:#fafafa}
header{position:sticky;top:0;background:#fff;border-bottom:1px solid #ddd;padding:12px 24px;z-index:1}
h1{font-size:20px;margin:0 0 6px} h2{font-size:17px;margin:0 0 8px}
main{padding:12px 24px} .meta{color:#666;font-size:12px}
.summary{display:flex;gap:12px;list-style:none;padding:0;margin:8px 0}
.summary li{padding:2px 10px;border-radius:10px;background:#eee}
.added{--c:#1a7f37} .removed{--c:#cf222e} .changed{--c:#9a6700} .unchanged{--c:#666}
.summary li,.badge{color:var(--c);font-weight:600}
.badge{font-size:12px;border:1px solid var(--c);border-radius:8px;padding:0 6px;margin-left:6px}
section.app{background:#fff;border:1px solid #ddd;border-radius:8px;padding:12px 16px;margin:12px 0}
table{border-collapse:collapse;width:100%;table-layout:fixed}
th,td{border-top:1px solid #eee;padding:6px;vertical-align:top;text-align:left;overflow-wrap:anywhere}
th{font-size:12px;color:#666} th.path{width:24%} th.kind{width:9%}
pre{white-space:pre-wrap;margin:0;font:12px/1.4 ui-monospace,monospace}
td.old pre{background:#ffebe9} td.new pre{background:#dafbe1}
.src{font:11px ui-monospace,monospace;color:#555;margin-top:4px}
.filters label{margin-right:16px} [hidden]{display:none!important}
"""

_JS = """
(function(){
  var app=document.getElementById('f-app'), sec=document.getElementById('f-section'),
      unch=document.getElementById('f-unchanged');
  function apply(){
    var a=app.value, s=sec.value, u=unch.checked;
    document.querySelectorAll('section.app').forEach(function(el){
      var rows=el.querySelectorAll('tr[data-section]'), shown=0;
      rows.forEach(function(r){var ok=!s||r.getAttribute('data-section')===s; r.hidden=!ok; if(ok)shown++;});
      var st=el.getAttribute('data-status');
      var ok=(!a||el.getAttribute('data-app')===a)&&(u||st!=='unchanged')&&(!s||shown>0||st==='added'||st==='removed');
      el.hidden=!ok;
    });
  }
  var q=new URLSearchParams(location.search||location.hash.replace(/^#/,''));
  if(q.get('app'))app.value=q.get('app'); if(q.get('section'))sec.value=q.get('section');
  if(q.get('unchanged'))unch.checked=true;
  [app,sec,unch].forEach(function(x){x.addEventListener('change',apply);});
  apply();
})();
"""


def _e(v: Any) -> str:
    return html.escape(str(v), quote=True)


def _cell(value: Any, present: bool, sources: list[tuple[str, int, str | None]]) -> str:
    if not present:
        return ""
    shown = json.dumps(value, ensure_ascii=False, indent=2) if isinstance(value, (dict, list)) else _value(value, None)
    out = f"<pre>{_e(shown)}</pre>"
    for src, n, text in sources:
        out += f'<div class="src">{_e(src)}:{n} │ {_e(text) if text is not None else "(source not available)"}</div>'
    return out


def render_html(
    report: DiffReport, old_lines: SourceLookup | None = None, new_lines: SourceLookup | None = None
) -> str:
    """One self-contained HTML file: summary, a section per app, old → new with source lines, filters."""
    sections = sorted({section_of(c.path) for a in report.apps for c in a.changes})
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        "<title>guideparse diff</title>",
        f"<style>{_CSS}</style></head><body>",
        "<header>",
        "<h1>guideparse diff</h1>",
        f'<div class="meta">old: {_e(report.old.get("run"))} ({_e(report.old.get("finished_at"))}) → '
        f"new: {_e(report.new.get('run'))} ({_e(report.new.get('finished_at'))})</div>",
        '<ul class="summary">'
        + "".join(f'<li class="{k}" data-count="{k}">{k} {v}</li>' for k, v in report.summary.items())
        + "</ul>",
        '<div class="filters"><label>App <select id="f-app"><option value="">all apps</option>'
        + "".join(f'<option value="{_e(a.slug)}">{_e(a.app or a.slug)}</option>' for a in report.apps)
        + '</select></label><label>Section <select id="f-section"><option value="">all sections</option>'
        + "".join(f'<option value="{_e(s)}">{_e(s)}</option>' for s in sections)
        + '</select></label><label><input type="checkbox" id="f-unchanged"> show unchanged</label></div>',
        "</header><main>",
    ]
    for app in report.apps:
        parts.append(_html_app(app, old_lines, new_lines))
    parts += ["</main>", f"<script>{_JS}</script>", "</body></html>"]
    return "\n".join(parts) + "\n"


def _html_app(app: AppDiff, old_lines: SourceLookup | None, new_lines: SourceLookup | None) -> str:
    head = (
        f'<section class="app {app.status}" data-app="{_e(app.slug)}" data-status="{app.status}" '
        f'id="app-{_e(app.slug)}"><h2><span class="name">{_e(app.app or app.slug)}</span> '
        f'<code>{_e(app.slug)}</code><span class="badge {app.status}">{app.status}</span></h2>'
    )
    if not app.changes:
        note = {
            "added": "new app in this run",
            "removed": "app no longer in this run",
            "unchanged": "no content changes",
        }.get(app.status, "")
        return head + f'<p class="note">{_e(note)}</p></section>'
    rows = [
        '<table><thead><tr><th class="path">field</th><th class="kind">change</th><th>old</th><th>new</th></tr></thead><tbody>'
    ]
    for ch in app.changes:
        rows.append(_html_change(app.slug, ch, old_lines, new_lines))
    return head + "".join(rows) + "</tbody></table></section>"


def _html_change(slug: str, ch: Change, old_lines: SourceLookup | None, new_lines: SourceLookup | None) -> str:
    olds = old_lines(slug, ch.path) if old_lines and ch.kind != "added" else []
    news = new_lines(slug, ch.path) if new_lines and ch.kind != "removed" else []
    return (
        f'<tr class="{ch.kind}" data-section="{_e(section_of(ch.path))}">'
        f'<td class="path"><code>{_e(ch.path)}</code></td><td class="kind">{ch.kind}</td>'
        f'<td class="old">{_cell(ch.old, ch.kind != "added", olds)}</td>'
        f'<td class="new">{_cell(ch.new, ch.kind != "removed", news)}</td></tr>'
    )


RENDERERS = {"json": render_json, "text": render_text, "markdown": render_markdown, "html": render_html}


def render_report(
    report: DiffReport,
    fmt: str,
    *,
    color: bool = False,
    old_lines: SourceLookup | None = None,
    new_lines: SourceLookup | None = None,
) -> str:
    """The report in one of choices.DIFF_FORMATS (the HTML one with the source lines behind values)."""
    if fmt == "html":
        return render_html(report, old_lines, new_lines)
    if fmt == "text":
        return render_text(report, color=color)
    return RENDERERS[fmt](report)
