"""Command line: thin typer commands over the library.

One place (`main`) turns an error into a one-line message and an exit status;
commands import the library lazily so `--help` starts fast.
"""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec

import typer
from typer.core import TyperCommand

from .cache import DEFAULT_MAX_SIZE
from .choices import DiffFormat, ExportFormat, LintFormat, LintGrouping, ReportFormat, SchemaKind
from .errors import GuideparseError
from .inputs import DEFAULT_MAX_BYTES
from .limits import DEFAULT_TIMEOUT
from .printable import shown

if TYPE_CHECKING:
    from rich.progress import Progress
    from typer import _click as click  # the click typer ships

    from .cache import ResultCache
    from .diff import AppDiff, DiffReport
    from .review import AcceptPlan, Answer
    from .rules import Rules
    from .run import RunResult

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: rendering it with rich costs a tenth of a second of imports
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
cache_app = typer.Typer(
    no_args_is_help=True,
    help="Inspect, bound or clear the result cache.\n\n\b\nExamples:\n  guideparse cache info\n"
    "  guideparse cache prune --max-size 200M\n  guideparse cache clear",
)
app.add_typer(cache_app, name="cache", short_help="Inspect, bound or clear the result cache.")
runs_app = typer.Typer(invoke_without_command=True)  # its help: runs_list's docstring
app.add_typer(runs_app, name="runs", short_help="List the run folders under out/runs, or prune old ones.")

P = ParamSpec("P")
#: Exit statuses: all ok; some inputs failed (run written) or a refusal; usage, rules or
#: environment trouble (nothing written); a bug in guideparse (EX_SOFTWARE of sysexits.h).
EXIT_OK, EXIT_SOME_FAILED, EXIT_TROUBLE, EXIT_INTERNAL = 0, 1, 2, 70
OUT_BASE = Path("out")


def _version(value: bool) -> None:
    if value:
        from . import __version__

        print(f"guideparse {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _main_options(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Turn scraped SaaS identity guides into a clean, versioned catalog.

    \b
    Start with:  guideparse extract raw/        (then: guideparse accept)
    After a new scrape:  guideparse extract new/ && guideparse diff   (or: guideparse review)
    """


class _Command(TyperCommand):
    """Arguments listed by name, as the usage line shows them: typer's type labels
    (`<list[str]>`) speak Python, not to a user."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        args, opts = [], []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                args.append((record[0].split(" <")[0], record[1]))
            else:
                opts.append(record)
        for title, rows in (("Arguments", args), ("Options", opts)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


def _command(group: typer.Typer, name: str | None = None) -> Callable[[Callable[P, None]], Callable[P, None]]:
    """Register a command whose listing shows its docstring's whole first line (click would cut it)."""

    def register(fn: Callable[P, None]) -> Callable[P, None]:
        first = (fn.__doc__ or "").strip().split("\n")[0]
        group.command(name, short_help=first, cls=_Command)(fn)
        return fn

    return register


def plural(n: int, word: str, many: str | None = None) -> str:
    """'1 app', '2 apps', '0 apps'; '1 entry', '2 entries' with `many`."""
    return f"{n} {word}" if n == 1 else f"{n} {many or word + 's'}"


_CACHE_DIR = typer.Option(
    None, "--cache-dir", metavar="DIR", help="Result cache folder (default: $XDG_CACHE_HOME/guideparse)."
)
_RULES_DIR = typer.Option(None, "--rules", metavar="DIR", help="Rules folder (default: the project's rules/).")
_OUT = typer.Option(
    None,
    "--out",
    "-o",
    metavar="DIR",
    help="Run folder: new, empty, or an earlier run (default: out/runs/<UTC time>, linked from out/latest).",
)
_MAX_BYTES = typer.Option(
    DEFAULT_MAX_BYTES, "--max-bytes", min=1, metavar="BYTES", help="Refuse inputs larger than this."
)
_JOBS = typer.Option(
    None, "--jobs", "-j", min=1, metavar="N", help="Worker processes (default: the CPUs this process may use)."
)
_CACHE_MAX_SIZE = typer.Option(
    None,
    "--cache-max-size",
    metavar="SIZE",
    help=f"Drop least recently used cache entries past this size (default {DEFAULT_MAX_SIZE >> 20}M, "
    "checked after runs that add entries; given, after every run).",
)
_TIMEOUT = typer.Option(
    DEFAULT_TIMEOUT,
    "--timeout",
    min=0.0,
    max=1e6,
    metavar="SECONDS",
    help="Fail an input whose extraction takes longer than this (GP912; 0: no limit).",
)
_SCHEDULER = typer.Option(
    None,
    "--scheduler",
    metavar="ADDR",
    help="Run on Dask: a scheduler (tcp://HOST:8786) or local[:N] (a LocalCluster of N workers); "
    "inputs and --out may then be URLs (s3://…, file://…). Needs pip install 'guideparse[dask]'.",
)
_BATCH_SIZE = typer.Option(256, "--batch-size", min=1, metavar="N", help="With --scheduler: inputs per Dask task.")
_SHARDED = typer.Option(
    False, "--sharded", help="With --scheduler: write documents/ and catalog/ as part files (listed in the manifest)."
)
_QUIET = typer.Option(False, "--quiet", "-q", help="Print errors only.")
_FORMAT = typer.Option("text", "--format", "-f", help="text (for people) or json (for tools, on stdout).")


class Interrupted(Exception):
    """Ctrl-C inside a command, carried past click (which would print "Aborted!") to `main`."""


def _interruptible(command: Callable[P, None]) -> Callable[P, None]:
    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            command(*args, **kwargs)
        except KeyboardInterrupt:
            raise Interrupted() from None

    return run


def _err(line: str) -> None:
    """One line on stderr; names in it come from the user's files, so controls are escaped."""
    print(shown(line), file=sys.stderr, flush=True)


def _size(text: str) -> int:
    from .cache import parse_size

    try:
        return parse_size(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


@_command(app)
@_interruptible
def extract(
    inputs: list[str] | None = typer.Argument(
        None, metavar="INPUT", help="Guide files or folders (default: raw/).", show_default=False
    ),
    out: str | None = _OUT,
    rules_dir: Path | None = _RULES_DIR,
    max_bytes: int = _MAX_BYTES,
    jobs: int | None = _JOBS,
    scheduler: str | None = _SCHEDULER,
    batch_size: int = _BATCH_SIZE,
    sharded: bool = _SHARDED,
    timeout: float = _TIMEOUT,
    cache_dir: Path | None = _CACHE_DIR,
    no_cache: bool = typer.Option(False, "--no-cache", help="Neither read nor write the result cache."),
    cache_max_size: str | None = _CACHE_MAX_SIZE,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print failures only (no progress, no summary)."),
    fmt: ReportFormat = _FORMAT,
) -> None:
    """Extract guides into a run folder (documents, catalog, records, manifest).

    Exit status: 0 all inputs ok; 1 some inputs failed (the run is still written);
    2 usage, rules or environment error (nothing written); 70 a bug in guideparse.

    \b
    Examples:
      guideparse extract                       every guide in raw/ -> out/runs/<time>, out/latest
      guideparse extract scrape/ -o run1 -j 4  a folder into run1/, with 4 workers
      guideparse extract page.html --no-cache  one page, cache neither read nor written
    """
    from .pool import tune_own_process
    from .rules import load_rules

    limit = None if cache_max_size is None else _size(cache_max_size)
    if scheduler is None and (sharded or "://" in (out or "") or any("://" in i for i in inputs or [])):
        raise GuideparseError("GP906", "URLs and --sharded need --scheduler (a Dask run)")
    rules = load_rules(rules_dir)
    given = inputs or ["raw"]
    target = out or str(_new_default_run())
    tune_own_process()  # after the rules are loaded: they are frozen out of every collection
    show_progress = not quiet and fmt == "text" and sys.stderr.isatty()
    with _progress(show_progress) as on_progress, _unused_removed(None if out else Path(target)):
        if scheduler is not None:
            result = _extract_on_cluster(
                given, target, scheduler, rules, max_bytes, timeout, batch_size, sharded, on_progress
            )
        else:
            from .run import extract_many

            result = extract_many(
                given, target, rules=rules, jobs=jobs, max_bytes=max_bytes, timeout=timeout or None,
                cache_dir=cache_dir, use_cache=not no_cache, cache_max_size=limit, on_progress=on_progress,
            )  # fmt: skip
    for failure in result.failures:
        _err(failure.one_line())
    if out is None:
        from .fsio import point_latest

        point_latest(OUT_BASE, Path(target))
    _report_run(result, quiet, fmt)
    raise typer.Exit(EXIT_SOME_FAILED if result.failed else EXIT_OK)


def _extract_on_cluster(
    given: list[str],
    target: str,
    scheduler: str,
    rules: Rules,
    max_bytes: int,
    timeout: float,
    batch_size: int,
    sharded: bool,
    on_progress: Callable[[int, int], None] | None,
) -> RunResult:
    """`extract --scheduler`: the run on Dask (imported here only)."""
    from .cluster_run import extract_on_cluster

    return extract_on_cluster(
        given,
        target,
        scheduler=scheduler,
        rules=rules,
        max_bytes=max_bytes,
        timeout=timeout or None,
        batch_size=batch_size,
        sharded=sharded,
        on_progress=on_progress,
    )


def _new_default_run() -> Path:
    """out/runs/<UTC time>, made now; first, out/latest must be guideparse's link (or absent)."""
    from .fsio import check_latest
    from .run import default_run_dir

    check_latest(OUT_BASE)
    return default_run_dir(OUT_BASE)


def _report_run(result: RunResult, quiet: bool, fmt: ReportFormat) -> None:
    if fmt == "json":
        import json

        summary = result.summary.model_dump(mode="json") if result.summary else {}
        print(json.dumps({"out": str(result.out_dir), **summary, "cached": result.cached, "notes": result.notes}))
    elif not quiet:
        for note in result.notes:
            _err(f"guideparse: {note}")
        _err(summary_line(result))


def summary_line(result: RunResult, top: int = 4) -> str:
    """`71 ok (66 truncated, 70 with warnings), 0 failed, 43 apps, 198 warnings (GP302 66, …) in …`"""
    s = result.summary
    assert s is not None
    notes = [f"{s.truncated} truncated"] if s.truncated else []
    if s.ok_with_warnings:
        notes.append(f"{s.ok_with_warnings} with warnings")
    ok = f"{s.ok} ok" + (f" ({', '.join(notes)})" if notes else "")
    failed = f"{s.failed} failed" + (f" ({_top(s.failures, top)})" if s.failed else "")
    n_warn = sum(s.warnings.values())
    warns = plural(n_warn, "warning") + (f" ({_top(s.warnings, top)})" if n_warn else "")
    cached = f", {result.cached} from cache" if result.cached else ""
    rate = s.inputs / result.seconds if result.seconds > 0 else 0.0
    return (
        f"{ok}, {failed}, {plural(s.apps, 'app')}, {warns}{cached} "
        f"in {result.seconds:.2f}s ({rate:.0f} guides/s) -> {result.out_dir}"
    )


def _top(counts: dict[str, int], top: int) -> str:
    """'GP302 66, GP303 66, +3 more codes' (counts already sorted, largest first)."""
    items = list(counts.items())
    shown = ", ".join(f"{code} {n}" for code, n in items[:top])
    rest = len(items) - top
    return shown + (f", +{rest} more code{'s' * (rest != 1)}" if rest > 0 else "")


@contextlib.contextmanager
def _unused_removed(folder: Path | None) -> Iterator[None]:
    """The run folder made for a run that then failed is not left behind empty."""
    try:
        yield
    except BaseException:
        if folder is not None:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when still empty
        raise


class _progress:
    """A rich progress bar on a terminal (count, ETA); nothing otherwise."""

    def __init__(self, show: bool) -> None:
        self.show = show
        self.bar: Progress | None = None

    def __enter__(self) -> Callable[[int, int], None] | None:
        if not self.show:
            return None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        bar = self.bar = Progress(  # no refresh thread: workers are forked while it runs
            TextColumn("extracting"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            transient=True,
            auto_refresh=False,
        )
        bar.start()
        task = bar.add_task("extract", total=None)

        def advance(done: int, total: int) -> None:
            if done % 16 == 0 or done == total:
                bar.update(task, completed=done, total=total, refresh=True)

        return advance

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


@_command(app)
def schema(
    kind: SchemaKind = typer.Argument("document", help="What to describe."),
) -> None:
    """Print the JSON Schema of a document, catalog entry, manifest, or family document.

    `document` is a SCIM guide's record; `api` and `manual` those of the other guide families.

    \b
    Example:
      guideparse schema catalog > catalog.schema.json
    """
    import json

    from pydantic import BaseModel, TypeAdapter

    from .family_models import MODELS
    from .models import CatalogEntry, DocumentRecord, Manifest

    models: dict[str, type[BaseModel]] = {"document": DocumentRecord, "catalog": CatalogEntry, "manifest": Manifest}
    models.update({k: v for k, v in MODELS.items() if k != "scim"})
    print(json.dumps(TypeAdapter(models[kind]).json_schema(), indent=2, ensure_ascii=False))


@_command(app)
def explain(
    file: Path = typer.Argument(..., metavar="FILE", help="One guide file."),
    field: str | None = typer.Argument(
        None, metavar="FIELD", help="A field path or prefix: quick_facts, identity_providers[Okta]."
    ),
    rules_dir: Path | None = _RULES_DIR,
    full: bool = typer.Option(False, "--full", help="Show whole values and every source line (no cutting)."),
    fmt: ReportFormat = _FORMAT,
) -> None:
    """Print each extracted value with its source lines and the rule that produced it.

    \b
    Examples:
      guideparse explain raw/004_c94222c4d3eb625f.txt
      guideparse explain raw/004_c94222c4d3eb625f.txt 'identity_providers[Okta]' --full
      guideparse explain page.html quick_facts --format json
    """
    from .api import extract as extract_one
    from .explain import explain as render
    from .inputs import InputFile, read_input
    from .record import source_view
    from .rules import load_rules

    rules = load_rules(rules_dir)
    data = read_input(InputFile(str(file), None), DEFAULT_MAX_BYTES)
    doc = extract_one(data, rules, name=str(file))
    if fmt == "json":
        import json

        from .paths import under

        picked = {p: v for p, v in doc.provenance.items() if not field or under(p, field)}
        if field and not picked:
            raise _no_value(doc.provenance, field, file)
        print(json.dumps({"source": doc.source.path, "provenance": picked}, ensure_ascii=False))
        return
    out = render(doc, source_view(data, str(file), rules), field, full=full)
    if field and not out:
        raise _no_value(doc.provenance, field, file)
    print("\n".join(out))


def _no_value(provenance: Mapping[str, object], field: str, file: Path) -> GuideparseError:
    from .paths import parse_path

    valid = sorted({str(parse_path(p)[0]) for p in provenance})
    try:
        parse_path(field)
    except ValueError as exc:
        return GuideparseError("GP906", str(exc), path=str(file))
    return GuideparseError("GP906", f"no value at {field!r} (fields with values: {', '.join(valid)})", path=str(file))


@_command(app)
@_interruptible
def diff(
    old: Path | None = typer.Argument(None, metavar="OLD", help="Old run folder (default: out/baseline)."),
    new: Path | None = typer.Argument(None, metavar="NEW", help="New run folder (default: out/latest)."),
    fmt: DiffFormat = typer.Option("text", "--format", "-f", help="Report format."),
    output: Path | None = typer.Option(
        None, "--output", "-o", metavar="FILE", help="Write the report here instead of stdout."
    ),
    quiet: bool = _QUIET,
) -> None:
    """Show what changed in content between two runs (catalog entries, matched by slug).

    Exit status like diff(1): 0 no changes, 1 changes, 2 trouble.

    \b
    Examples:
      guideparse diff                                  out/baseline -> out/latest
      guideparse diff run1 run2 --format json          for tools
      guideparse diff --format html -o report.html     one self-contained page
    """
    from .diff import diff_catalogs
    from .report import render_report
    from .store import BASELINE, LATEST, load_run

    if old is None and not BASELINE.exists():
        raise GuideparseError("GP908", "no baseline yet: run `guideparse accept` first", path=str(BASELINE))
    if output is not None:
        from .fsio import check_report_target
        from .report import looks_like_a_report

        check_report_target(output, looks_like_a_report)  # before any work: a refused path costs nothing
    a, b = load_run(old or BASELINE), load_run(new or LATEST)
    report = diff_catalogs(a.catalog, b.catalog, a.meta, b.meta)
    text = render_report(
        report, fmt, color=output is None and sys.stdout.isatty(), old_lines=a.source_lines, new_lines=b.source_lines
    )
    if output is not None:
        from .fsio import write_atomic

        write_atomic(output, text.encode("utf-8"))
        if not quiet:
            s = report.summary
            _err(
                f"wrote {output} ({fmt}: {s['added']} added, {s['removed']} removed, "
                f"{s['changed']} changed, {s['unchanged']} unchanged)"
            )
    else:
        sys.stdout.write(text)
    raise typer.Exit(1 if report.has_changes else 0)


@_command(app)
@_interruptible
def accept(
    run: Path | None = typer.Argument(None, metavar="RUN", help="Run folder to accept (default: out/latest)."),
    allow_failed: bool = typer.Option(False, "--allow-failed", help="Accept a run that has failed inputs."),
    allow_removals: bool = typer.Option(
        False, "--allow-removals", help="Accept a run that drops apps the baseline has."
    ),
    quiet: bool = _QUIET,
) -> None:
    """Make a run the accepted baseline (out/baseline) that `diff` and `review` compare against.

    It says what the baseline gains, loses and changes. A run with failed inputs, or one that
    would drop apps from the baseline, is refused (exit 1, saying what it would lose) unless
    allowed; on a terminal it asks instead.

    \b
    Examples:
      guideparse accept
      guideparse accept out/runs/20261127T101500Z --allow-removals
    """
    from .review import AcceptRefused, accept, plan_accept
    from .store import BASELINE, LATEST

    source = run or LATEST
    plan = plan_accept(source, BASELINE)
    reasons = plan.refusals(allow_failed, allow_removals)
    if reasons and sys.stdin.isatty() and sys.stderr.isatty():
        _err(f"{source}: " + "; ".join(reasons))
        allow_failed = allow_removals = _confirm("accept it anyway? [y/N] ")
    try:
        accept(source, BASELINE, allow_failed=allow_failed, allow_removals=allow_removals, plan=plan)
    except AcceptRefused as exc:
        _err(exc.one_line())
        raise typer.Exit(EXIT_SOME_FAILED) from None
    if not quiet:
        _err(f"baseline <- {source}: {_gains(plan)}")


def _gains(plan: AcceptPlan) -> str:
    from .review import baseline_change

    if not plan.has_baseline:
        return f"new baseline with {plural(len(plan.added), 'app')}"
    return baseline_change(plan.added, plan.removed, plan.changed)


def _confirm(question: str) -> bool:
    try:
        return input(question).strip().lower() in ("y", "yes")
    except EOFError:
        return False


@_command(app)
@_interruptible
def review(
    allow_failed: bool = typer.Option(
        False, "--allow-failed", help="Review a latest run that has failed inputs (their apps look removed)."
    ),
    quiet: bool = _QUIET,
) -> None:
    """Walk latest-vs-baseline app by app: accept, skip or quit; accepted apps join the baseline.

    \b
    Example:
      guideparse extract new-scrape/ && guideparse review
    """
    from .review import review_changes
    from .store import BASELINE

    if not BASELINE.exists():
        raise GuideparseError("GP908", "no baseline yet: run `guideparse accept` first", path=str(BASELINE))
    try:
        outcome = review_changes(_ask_on_terminal, allow_failed=allow_failed)
    except GuideparseError as exc:
        if exc.code != "GP913":
            raise
        _err(exc.one_line())  # a refusal, as accept's: exit 1
        raise typer.Exit(EXIT_SOME_FAILED) from None
    if quiet:
        return
    if not outcome.pending:
        _err("nothing to review: latest matches the baseline")
    elif not outcome.written:
        _err("baseline unchanged (nothing accepted)")
    else:
        from .review import baseline_change

        told = baseline_change(outcome.added, outcome.removed, outcome.changed)
        _err(f"baseline updated: {plural(len(outcome.accepted), 'app')} accepted; it {told}")


_ANSWERS: dict[str, Answer] = {"a": "accept", "s": "skip", "q": "quit"}


def _ask_on_terminal(report: DiffReport, app_diff: AppDiff, i: int, n: int) -> Answer:
    from .report import render_text

    print(f"[{i}/{n}]")
    print(render_text(report, color=sys.stdout.isatty()).split("\n", 2)[2], end="")
    while True:
        try:
            answer = input("accept / skip / quit [a/s/q]? ").strip().lower()
        except EOFError:
            return "quit"
        if answer[:1] in _ANSWERS and _ANSWERS[answer[:1]].startswith(answer):
            return _ANSWERS[answer[:1]]
        print(f"{answer!r} is not an answer: type a (accept), s (skip) or q (quit)")


@_command(app, "rules")
def rules_cmd(rules_dir: Path | None = _RULES_DIR, fmt: ReportFormat = _FORMAT) -> None:
    """Validate the rules and print their digest.

    \b
    Example:
      guideparse rules --rules my-rules/
    """
    from .rules import load_rules

    r = load_rules(rules_dir)
    counts = {"headings": len(r.headings), "idps": len(r.idps), "cell_values": len(r.cells), "icons": len(r.icons)}
    if fmt == "json":
        import json

        print(json.dumps({"digest": r.digest, "directory": str(r.directory), **counts}))
        return
    print(
        f"{r.digest}  {shown(str(r.directory))}  ({plural(counts['headings'], 'heading')}, {plural(counts['idps'], 'IdP')}, "
        f"{plural(counts['cell_values'], 'cell value')}, {plural(counts['icons'], 'icon')})"
    )


@runs_app.callback()
def runs_list(ctx: typer.Context, fmt: ReportFormat = _FORMAT) -> None:
    """List the run folders under out/runs: time, inputs, ok/failed, apps, latest and baseline.

    \b
    Examples:
      guideparse runs
      guideparse runs prune --keep 5
    """
    if ctx.invoked_subcommand is not None:
        return
    from .store import list_runs

    runs = list_runs(OUT_BASE)
    if fmt == "json":
        import json
        from dataclasses import asdict

        print(json.dumps([{**asdict(r), "path": str(r.path)} for r in runs]))
        return
    if not runs:
        _err(f"no runs under {OUT_BASE / 'runs'}")
    for r in runs:
        marks = ", ".join(m for m, on in (("latest", r.latest), ("baseline", r.baseline)) if on)
        print(
            f"{shown(str(r.path))}  {r.started_at or '?'}  {plural(r.inputs or 0, 'input')}, {r.ok or 0} ok, "
            f"{r.failed or 0} failed, {plural(r.apps or 0, 'app')}" + (f"  [{marks}]" if marks else "")
        )


@_command(runs_app, "prune")
@_interruptible
def runs_prune(
    keep: int = typer.Option(10, "--keep", min=0, metavar="N", help="How many of the newest runs to keep."),
    quiet: bool = _QUIET,
) -> None:
    """Remove all but the newest N runs of out/runs (never latest's, never the baseline's).

    \b
    Example:
      guideparse runs prune --keep 3
    """
    from .store import prune_runs

    removed = prune_runs(OUT_BASE, keep)
    if not quiet:
        _err(f"removed {plural(len(removed), 'run')}" + (f" ({', '.join(p.name for p in removed)})" if removed else ""))


_RUN = typer.Argument(None, metavar="RUN", help="Run folder (default: out/latest).")


@_command(app)
@_interruptible
def export(
    run: Path | None = _RUN,
    fmt: ExportFormat = typer.Option(
        "sqlite", "--format", "-f", help="sqlite (one file), parquet or csv (a folder of one file per table)."
    ),
    output: Path = typer.Option(
        ..., "--output", "-o", metavar="PATH", help="Where: new, empty, or an earlier export (else refused: GP910)."
    ),
    quiet: bool = _QUIET,
) -> None:
    """Export a run's catalog as tables for SQL and dataframes: SQLite, Parquet or CSV.

    The same tables and columns in every format (README: "The catalog as tables"); two exports
    of one run are the same bytes. PATH is replaced in one step, and only when it is new, empty
    or an earlier guideparse export.

    \b
    Examples:
      guideparse export --format sqlite --output catalog.db      out/latest as one SQLite file
      guideparse export out/baseline -f parquet -o tables/       one Parquet file per table
      guideparse export -f csv -o csv/                           one CSV file per table
    """
    from .export_write import export_run
    from .store import LATEST

    result = export_run(run or LATEST, fmt, output)
    if not quiet:
        rows = result.rows
        _err(
            f"exported {plural(rows['apps'], 'app')} as {fmt}: {plural(len(rows), 'table')}, "
            f"{plural(sum(rows.values()), 'row')} in {result.seconds:.2f}s -> {result.path}"
        )


@_command(app)
@_interruptible
def browse(
    run: Path | None = _RUN,
    port: int | None = typer.Option(
        None, "--port", "-p", min=1, max=65535, metavar="N", help="Port on 127.0.0.1 (default: a free one)."
    ),
    quiet: bool = _QUIET,
) -> None:
    """Browse a run's catalog as tables in Datasette on 127.0.0.1 (prints the URL; Ctrl-C stops).

    Facets on tier class, SCIM availability and IdP; canned queries: which apps support SCIM
    with Okta, which gate SCIM behind an enterprise tier, the IdP support matrix. Needs
    pip install 'guideparse[browse]'.

    \b
    Examples:
      guideparse browse                               out/latest on a free port
      guideparse browse out/baseline --port 8001
    """
    from .browse import serve
    from .store import LATEST

    source = run or LATEST

    def ready(url: str) -> None:
        print(url, flush=True)
        if not quiet:
            _err(f"serving {source} at {url} (Ctrl-C stops)")

    serve(source, port, quiet=quiet, on_ready=ready)


@_command(app)
@_interruptible
def lint(
    run: Path | None = typer.Argument(None, metavar="RUN", help="Run folder (default: out/latest)."),
    fmt: LintFormat = typer.Option(
        "text", "--format", "-f", help="text (for people), markdown (a pull-request comment) or json (for tools)."
    ),
    by: LintGrouping = typer.Option("app", "--by", help="Group the lints by app or by lint id."),
    rules_dir: Path | None = _RULES_DIR,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print error-level lints only (no summary)."),
) -> None:
    """Report what a run's catalog finds inconsistent in itself (the lints of rules/lints.yaml).

    Each catalog entry carries the lints found when the run was made; entries of a run made
    before lints existed are checked with the rules now (--rules). Exit status: 0 no
    error-level lint; 1 an error-level lint fired; 2 trouble (not a run folder, bad rules).

    \b
    Examples:
      guideparse lint                              out/latest, grouped by app
      guideparse lint out/baseline --by lint       grouped by lint id
      guideparse lint --format markdown > lints.md
      guideparse lint -q                           error-level lints only (for CI)
    """
    from .lint_report import lint_run, render_lints
    from .store import LATEST

    rules = None
    if rules_dir is not None:
        from .rules import load_rules

        rules = load_rules(rules_dir)
    report = lint_run(run or LATEST, rules)
    sys.stdout.write(render_lints(report, fmt, by, errors_only=quiet))
    raise typer.Exit(EXIT_SOME_FAILED if report.has_errors else EXIT_OK)


@_command(cache_app, "info")
@_interruptible
def cache_info(cache_dir: Path | None = _CACHE_DIR, fmt: ReportFormat = _FORMAT) -> None:
    """Where the cache is, its size, entries, and the rules/code versions it holds.

    \b
    Example:
      guideparse cache info --format json
    """
    from datetime import datetime

    info = _open_cache_folder(cache_dir).info()
    if fmt == "json":
        import json
        from dataclasses import asdict

        print(json.dumps({**asdict(info), "limit": DEFAULT_MAX_SIZE}))
        return
    print(
        f"location  {shown(info.location)}\nsize      {_human(info.bytes)} in {plural(info.entries, 'entry', 'entries')}"
        f"\nlimit     {_human(DEFAULT_MAX_SIZE)} (extract --cache-max-size; cache prune --max-size)"
    )
    for v in info.versions:
        used = datetime.fromtimestamp(v.last_used).strftime("%Y-%m-%d %H:%M")
        mark = "  (current rules and code)" if v.current else ""
        print(
            f"version   {v.version}: {plural(v.entries, 'entry', 'entries')}, {_human(v.bytes)}, last used {used}{mark}"
        )
    if info.legacy_bytes:
        print(f"legacy    {_human(info.legacy_bytes)} of an earlier cache layout (cache clear removes it)")


@_command(cache_app, "prune")
@_interruptible
def cache_prune(
    cache_dir: Path | None = _CACHE_DIR,
    max_size: str = typer.Option(
        f"{DEFAULT_MAX_SIZE >> 20}M", "--max-size", metavar="SIZE", help="Size to bring the cache under (500M, 2G)."
    ),
    quiet: bool = _QUIET,
) -> None:
    """Drop least recently used entries until the cache is under --max-size.

    \b
    Example:
      guideparse cache prune --max-size 200M
    """
    dropped, freed = _open_cache_folder(cache_dir).prune(_size(max_size))
    if not quiet:
        _err(f"cache: dropped {plural(dropped, 'entry', 'entries')}, freed {_human(freed)}")


@_command(cache_app, "clear")
@_interruptible
def cache_clear(cache_dir: Path | None = _CACHE_DIR, quiet: bool = _QUIET) -> None:
    """Remove every cached result (only what guideparse wrote in the cache folder).

    \b
    Example:
      guideparse cache clear --cache-dir /tmp/gp-cache
    """
    freed = _open_cache_folder(cache_dir).clear()
    if not quiet:
        _err(f"cache: cleared, freed {_human(freed)}")


def _open_cache_folder(cache_dir: Path | None) -> ResultCache:
    from .cache import CacheRefused, open_cache, result_version
    from .rules import load_rules

    try:
        return open_cache(cache_dir, result_version(load_rules().digest), create=False)
    except CacheRefused as exc:
        raise GuideparseError("GP906", f"not a guideparse cache: {exc}", path=str(cache_dir or "")) from None


def _human(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


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
        _err(f"guideparse: GP909 could not write: {exc.strerror or exc}{where}; nothing was replaced")
        return EXIT_TROUBLE
    except Exception as exc:  # a bug: one line, its own status, never a traceback
        _err(f"guideparse: GP999 internal error: {type(exc).__name__}: {exc} (a bug in guideparse; please report it)")
        return EXIT_INTERNAL
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
