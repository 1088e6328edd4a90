"""Command line: thin typer commands over the library.

One place (`main`) turns a GuideparseError into a one-line message and an exit
status; commands import the library lazily so `--help` starts fast.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from .errors import GuideparseError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: rendering it with rich costs a tenth of a second of imports
    help="Turn scraped SaaS identity guides into a clean, versioned catalog.",
)

EXIT_OK, EXIT_SOME_FAILED, EXIT_TROUBLE = 0, 1, 2


def _err(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@app.command()
def extract(
    inputs: Optional[List[str]] = typer.Argument(None, help="Guide files or folders (default: raw/)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Run folder to write (default: out/runs/<UTC time>, linked from out/latest)."),
    rules_dir: Optional[Path] = typer.Option(None, "--rules", help="Rules folder (default: the project's rules/)."),
    max_bytes: int = typer.Option(5 * 1024 * 1024, "--max-bytes", min=1, help="Refuse inputs larger than this."),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=1, help="Worker processes (default: the CPUs this process may use)."),
    pin: bool = typer.Option(True, "--pin/--no-pin", help="Keep each worker on a CPU of its own (when there are no more workers than CPUs)."),
    cache_dir: Optional[Path] = typer.Option(None, "--cache-dir", help="Result cache (default: $XDG_CACHE_HOME/guideparse)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Neither read nor write the result cache."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print failures only (no progress bar, no summary)."),
) -> None:
    """Extract guides into a run folder (documents, catalog, records, manifest).

    Exit status: 0 all inputs ok; 1 some inputs failed (the run is still written);
    2 usage or rules error (nothing written).
    """
    from .rules import load_rules
    from .run import default_run_dir, point_latest, run_extract

    from .batch import default_cache_dir, quiet_gc, usable_cpus

    # The memo of checked CSS selectors is not the result cache: --no-cache keeps it.
    rules = load_rules(rules_dir)
    given = inputs or ["raw"]
    for g in given:
        if not Path(g).exists() and not Path(g).is_symlink():
            raise GuideparseError("GP905", "no such file or folder", path=g)
    base = None
    if out is None:
        base = Path("out")
        out = default_run_dir(base)
    quiet_gc()  # after the rules are loaded: they are frozen out of every collection
    try:
        result = run_extract(given, rules, out, max_bytes=max_bytes, jobs=jobs or len(usable_cpus()), pin=pin,
                             cache_dir=cache_dir, use_cache=not no_cache,
                             progress=not quiet and sys.stderr.isatty(),
                             on_failure=lambda e: _err(e.one_line()),
                             on_note=None if quiet else lambda m: _err(f"guideparse: {m}"))
    except KeyboardInterrupt:
        raise Interrupted() from None
    if base is not None:
        point_latest(base, out)
    if not quiet:
        n = len(result.statuses)
        rate = n / result.seconds if result.seconds > 0 else 0.0
        cached = f", {result.cached} from cache" if result.cached else ""
        _err(f"{n - result.failed} ok, {result.failed} failed, {result.apps} apps{cached} "
             f"in {result.seconds:.2f}s ({rate:.0f} guides/s) -> {out}")
    raise typer.Exit(EXIT_SOME_FAILED if result.failed else EXIT_OK)


@app.command()
def schema(
    kind: str = typer.Argument("document", help="document, catalog or manifest"),
) -> None:
    """Print the JSON Schema of a document record (or catalog entry, manifest)."""
    import json

    from .models import CatalogEntry, DocumentRecord, Manifest

    models = {"document": DocumentRecord, "catalog": CatalogEntry, "manifest": Manifest}
    if kind not in models:
        raise GuideparseError("GP906", f"unknown schema {kind!r} (valid: {', '.join(models)})")
    print(json.dumps(models[kind].model_json_schema(), indent=2, ensure_ascii=False))


@app.command()
def explain(
    file: Path = typer.Argument(..., help="One guide file."),
    field: Optional[str] = typer.Argument(None, help="A field path or prefix: quick_facts, identity_providers[Okta]."),
    rules_dir: Optional[Path] = typer.Option(None, "--rules", help="Rules folder."),
) -> None:
    """Print each extracted value with its source lines and the rule that produced it."""
    from .explain import explain as render
    from .record import extract_document, source_view
    from .rules import load_rules
    from .run import DEFAULT_MAX_BYTES, InputFile, read_input

    rules = load_rules(rules_dir)
    data, _ = read_input(InputFile(str(file), None), DEFAULT_MAX_BYTES)
    doc = extract_document(data, str(file), rules)
    out = render(doc, source_view(data, str(file), rules), field)
    if field and not out:
        valid = sorted({p.split(".")[0].split("[")[0] for p in doc.provenance})
        raise GuideparseError("GP906", f"no value at {field!r} (fields with values: {', '.join(valid)})", path=str(file))
    print("\n".join(out))


FORMATS = ("text", "markdown", "json", "html")


@app.command()
def diff(
    old: Optional[Path] = typer.Argument(None, help="Old run folder (default: out/baseline)."),
    new: Optional[Path] = typer.Argument(None, help="New run folder (default: out/latest)."),
    fmt: str = typer.Option("text", "--format", "-f", help="text, markdown, json or html."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the report here instead of stdout."),
) -> None:
    """Show what changed in content between two runs (catalog entries, matched by slug).

    Exit status like diff(1): 0 no changes, 1 changes, 2 trouble.
    """
    from .diff import diff_catalogs
    from .report import RENDERERS, render_html, render_text
    from .store import BASELINE, LATEST, load_run

    if fmt not in FORMATS:
        raise GuideparseError("GP906", f"unknown format {fmt!r} (valid: {', '.join(FORMATS)})")
    if old is None and not BASELINE.exists():
        raise GuideparseError("GP908", "no baseline yet: run `guideparse accept` first", path=str(BASELINE))
    a, b = load_run(old or BASELINE), load_run(new or LATEST)
    report = diff_catalogs(a.catalog, b.catalog, a.meta, b.meta)
    if fmt == "html":
        text = render_html(report, a.source_lines, b.source_lines)
    elif fmt == "text":
        text = render_text(report, color=output is None and sys.stdout.isatty())
    else:
        text = RENDERERS[fmt](report)
    if output is not None:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    raise typer.Exit(1 if report.has_changes else 0)


@app.command()
def accept(run: Optional[Path] = typer.Argument(None, help="Run folder to accept (default: out/latest).")) -> None:
    """Make a run the accepted baseline (out/baseline) that `diff` and `review` compare against."""
    from .store import BASELINE, LATEST, accept_run

    base = accept_run(run or LATEST, BASELINE)
    _err(f"baseline <- {run or LATEST} ({len(base.catalog)} apps)")


@app.command()
def review() -> None:
    """Walk latest-vs-baseline app by app: [a]ccept, [s]kip or [q]uit; accepted apps become the new baseline."""
    from .diff import diff_catalogs
    from .models import DocumentRecord, Manifest
    from .report import render_text
    from .run import utc_now, write_run
    from .store import BASELINE, LATEST, load_run

    if not BASELINE.exists():
        raise GuideparseError("GP908", "no baseline yet: run `guideparse accept` first", path=str(BASELINE))
    base, latest = load_run(BASELINE), load_run(LATEST)
    report = diff_catalogs(base.catalog, latest.catalog, base.meta, latest.meta)
    pending = [a for a in report.apps if a.status != "unchanged"]
    if not pending:
        _err("nothing to review: latest matches the baseline")
        return
    accepted: set[str] = set()
    color = sys.stdout.isatty()
    for i, app_diff in enumerate(pending, 1):
        one = report.model_copy(update={"apps": [app_diff]})
        print(f"[{i}/{len(pending)}]")
        print(render_text(one, color=color).split("\n", 2)[2], end="")
        answer = ""
        while answer not in ("a", "s", "q"):
            try:
                answer = input("accept / skip / quit [a/s/q]? ").strip().lower()[:1]
            except EOFError:
                answer = "q"
        if answer == "q":
            break
        if answer == "a":
            accepted.add(app_diff.slug)
    if not accepted:
        _err("baseline unchanged (nothing accepted)")
        return
    from .store import reviewed_documents

    docs = [DocumentRecord.model_validate(d) for d in reviewed_documents(base, latest, accepted)]
    m = base.manifest
    manifest = Manifest.model_validate({**m, "finished_at": utc_now(),
                                        "counts": {**m.get("counts", {}), "apps": len({d.slug for d in docs})},
                                        "reviewed": {"from": str(latest.path), "accepted": sorted(accepted)}})
    write_run(BASELINE, docs, manifest)
    _err(f"baseline updated: {len(accepted)} app(s) accepted from {latest.path}")


@app.command("rules")
def rules_cmd(rules_dir: Optional[Path] = typer.Option(None, "--rules", help="Rules folder.")) -> None:
    """Validate the rules and print their digest."""
    from .rules import load_rules

    r = load_rules(rules_dir)
    print(f"{r.digest}  {r.directory}  ({len(r.headings)} headings, {len(r.idps)} IdPs, "
          f"{len(r.cells)} cell values, {len(r.icons)} icons)")


class Interrupted(Exception):
    """Ctrl-C inside a command: reported in one line by `main`."""


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app; one line and a status for expected errors."""
    try:
        app(args=argv, prog_name="guideparse")
    except SystemExit as exc:  # click's standalone mode ends every command this way
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else EXIT_TROUBLE)
    except GuideparseError as exc:
        _err(exc.one_line())
        return EXIT_TROUBLE
    except (KeyboardInterrupt, Interrupted):
        _err("guideparse: interrupted; the previous output is unchanged")
        return 130
    except OSError as exc:  # the disk, not an input: inputs fail one by one inside the run
        where = f" ({exc.filename})" if exc.filename else ""
        _err(f"guideparse: GP909 the run folder could not be written: {exc.strerror or exc}{where}; "
             "the previous output is unchanged")
        return EXIT_TROUBLE
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
