"""Command line: thin typer commands over the library.

One place (`main`) turns an error into a one-line message and an exit status;
commands import the library lazily so `--help` starts fast.
"""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec

import typer

from .cache import DEFAULT_MAX_SIZE
from .choices import DiffFormat, SchemaKind
from .errors import GuideparseError
from .inputs import DEFAULT_MAX_BYTES

if TYPE_CHECKING:
    from rich.progress import Progress

    from .cache import ResultCache
    from .diff import AppDiff, DiffReport
    from .review import Answer
    from .run import RunResult

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: rendering it with rich costs a tenth of a second of imports
    help="Turn scraped SaaS identity guides into a clean, versioned catalog.",
)
cache_app = typer.Typer(no_args_is_help=True, help="Inspect, bound or clear the result cache.")
app.add_typer(cache_app, name="cache")

P = ParamSpec("P")
EXIT_OK, EXIT_SOME_FAILED, EXIT_TROUBLE = 0, 1, 2
OUT_BASE = Path("out")

_CACHE_DIR = typer.Option(None, "--cache-dir", help="Result cache folder (default: $XDG_CACHE_HOME/guideparse).")
_RULES_DIR = typer.Option(None, "--rules", help="Rules folder (default: the project's rules/).")
_OUT = typer.Option(
    None,
    "--out",
    "-o",
    help="Run folder: new, empty, or an earlier run (default: out/runs/<UTC time>, linked from out/latest).",
)
_MAX_BYTES = typer.Option(DEFAULT_MAX_BYTES, "--max-bytes", min=1, help="Refuse inputs larger than this.")
_JOBS = typer.Option(None, "--jobs", "-j", min=1, help="Worker processes (default: the CPUs this process may use).")
_CACHE_MAX_SIZE = typer.Option(
    None,
    "--cache-max-size",
    help=f"Drop least recently used cache entries past this size (default {DEFAULT_MAX_SIZE >> 20}M, "
    "checked after runs that add entries; given, after every run).",
)


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
    print(line, file=sys.stderr, flush=True)


def _size(text: str) -> int:
    from .cache import parse_size

    try:
        return parse_size(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


@app.command()
@_interruptible
def extract(
    inputs: list[str] | None = typer.Argument(None, help="Guide files or folders (default: raw/)."),
    out: Path | None = _OUT,
    rules_dir: Path | None = _RULES_DIR,
    max_bytes: int = _MAX_BYTES,
    jobs: int | None = _JOBS,
    cache_dir: Path | None = _CACHE_DIR,
    no_cache: bool = typer.Option(False, "--no-cache", help="Neither read nor write the result cache."),
    cache_max_size: str | None = _CACHE_MAX_SIZE,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print failures only (no progress, no summary)."),
) -> None:
    """Extract guides into a run folder (documents, catalog, records, manifest).

    Exit status: 0 all inputs ok; 1 some inputs failed (the run is still written);
    2 usage or rules error (nothing written).
    """
    from .pool import quiet_gc
    from .rules import load_rules
    from .run import default_run_dir, extract_many

    limit = None if cache_max_size is None else _size(cache_max_size)
    rules = load_rules(rules_dir)
    given = inputs or ["raw"]
    if out is None:
        from .fsio import check_latest

        check_latest(OUT_BASE)
    target = out or default_run_dir(OUT_BASE)
    quiet_gc()  # after the rules are loaded: they are frozen out of every collection
    with _progress(not quiet and sys.stderr.isatty()) as on_progress, _unused_removed(None if out else target):
        result = extract_many(
            given,
            target,
            rules=rules,
            jobs=jobs,
            max_bytes=max_bytes,
            cache_dir=cache_dir,
            use_cache=not no_cache,
            cache_max_size=limit,
            on_progress=on_progress,
        )
    for failure in result.failures:
        _err(failure.one_line())
    if out is None:
        from .fsio import point_latest

        point_latest(OUT_BASE, target)
    if not quiet:
        for note in result.notes:
            _err(f"guideparse: {note}")
        _err(_summary(result))
    raise typer.Exit(EXIT_SOME_FAILED if result.failed else EXIT_OK)


def _summary(result: RunResult) -> str:
    n = len(result.statuses)
    rate = n / result.seconds if result.seconds > 0 else 0.0
    cached = f", {result.cached} from cache" if result.cached else ""
    return (
        f"{n - result.failed} ok, {result.failed} failed, {result.apps} apps{cached} "
        f"in {result.seconds:.2f}s ({rate:.0f} guides/s) -> {result.out_dir}"
    )


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


@app.command()
def schema(
    kind: SchemaKind = typer.Argument("document", help="What to describe."),
) -> None:
    """Print the JSON Schema of a document record (or catalog entry, manifest)."""
    import json

    from pydantic import BaseModel, TypeAdapter

    from .models import CatalogEntry, DocumentRecord, Manifest

    models: dict[str, type[BaseModel]] = {"document": DocumentRecord, "catalog": CatalogEntry, "manifest": Manifest}
    print(json.dumps(TypeAdapter(models[kind]).json_schema(), indent=2, ensure_ascii=False))


@app.command()
def explain(
    file: Path = typer.Argument(..., help="One guide file."),
    field: str | None = typer.Argument(None, help="A field path or prefix: quick_facts, identity_providers[Okta]."),
    rules_dir: Path | None = _RULES_DIR,
) -> None:
    """Print each extracted value with its source lines and the rule that produced it."""
    from .api import extract as extract_one
    from .explain import explain as render
    from .inputs import InputFile, read_input
    from .record import source_view
    from .rules import load_rules

    rules = load_rules(rules_dir)
    data = read_input(InputFile(str(file), None), DEFAULT_MAX_BYTES)
    doc = extract_one(data, rules, name=str(file))
    out = render(doc, source_view(data, str(file), rules), field)
    if field and not out:
        valid = sorted({p.split(".")[0].split("[")[0] for p in doc.provenance})
        raise GuideparseError(
            "GP906", f"no value at {field!r} (fields with values: {', '.join(valid)})", path=str(file)
        )
    print("\n".join(out))


@app.command()
@_interruptible
def diff(
    old: Path | None = typer.Argument(None, help="Old run folder (default: out/baseline)."),
    new: Path | None = typer.Argument(None, help="New run folder (default: out/latest)."),
    fmt: DiffFormat = typer.Option("text", "--format", "-f", help="Report format."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the report here instead of stdout."),
) -> None:
    """Show what changed in content between two runs (catalog entries, matched by slug).

    Exit status like diff(1): 0 no changes, 1 changes, 2 trouble.
    """
    from .diff import diff_catalogs
    from .report import render_report
    from .store import BASELINE, LATEST, load_run

    if old is None and not BASELINE.exists():
        raise GuideparseError("GP908", "no baseline yet: run `guideparse accept` first", path=str(BASELINE))
    a, b = load_run(old or BASELINE), load_run(new or LATEST)
    report = diff_catalogs(a.catalog, b.catalog, a.meta, b.meta)
    text = render_report(
        report, fmt, color=output is None and sys.stdout.isatty(), old_lines=a.source_lines, new_lines=b.source_lines
    )
    if output is not None:
        from .fsio import write_atomic

        write_atomic(output, text.encode("utf-8"))
    else:
        sys.stdout.write(text)
    raise typer.Exit(1 if report.has_changes else 0)


@app.command()
@_interruptible
def accept(
    run: Path | None = typer.Argument(None, help="Run folder to accept (default: out/latest)."),
) -> None:
    """Make a run the accepted baseline (out/baseline) that `diff` and `review` compare against."""
    from .store import BASELINE, LATEST, accept_run

    base = accept_run(run or LATEST, BASELINE)
    _err(f"baseline <- {run or LATEST} ({len(base.catalog)} apps)")


@app.command()
@_interruptible
def review() -> None:
    """Walk latest-vs-baseline app by app: [a]ccept, [s]kip or [q]uit; accepted apps become the new baseline."""
    from .review import review_changes
    from .store import BASELINE

    if not BASELINE.exists():
        raise GuideparseError("GP908", "no baseline yet: run `guideparse accept` first", path=str(BASELINE))
    outcome = review_changes(_ask_on_terminal)
    if not outcome.pending:
        _err("nothing to review: latest matches the baseline")
    elif not outcome.written:
        _err("baseline unchanged (nothing accepted)")
    else:
        _err(f"baseline updated: {len(outcome.accepted)} app(s) accepted")


def _ask_on_terminal(report: DiffReport, app_diff: AppDiff, i: int, n: int) -> Answer:
    from .report import render_text

    print(f"[{i}/{n}]")
    print(render_text(report, color=sys.stdout.isatty()).split("\n", 2)[2], end="")
    answers: dict[str, Answer] = {"a": "accept", "s": "skip", "q": "quit"}
    while True:
        try:
            answer = input("accept / skip / quit [a/s/q]? ").strip().lower()[:1]
        except EOFError:
            return "quit"
        if answer in answers:
            return answers[answer]


@app.command("rules")
def rules_cmd(rules_dir: Path | None = _RULES_DIR) -> None:
    """Validate the rules and print their digest."""
    from .rules import load_rules

    r = load_rules(rules_dir)
    print(
        f"{r.digest}  {r.directory}  ({len(r.headings)} headings, {len(r.idps)} IdPs, "
        f"{len(r.cells)} cell values, {len(r.icons)} icons)"
    )


@cache_app.command("info")
@_interruptible
def cache_info(cache_dir: Path | None = _CACHE_DIR) -> None:
    """Where the cache is, its size, entries, and the rules/code versions it holds."""
    from datetime import datetime

    info = _open_cache_folder(cache_dir).info()
    print(
        f"location  {info.location}\nsize      {_human(info.bytes)} in {info.entries} entries"
        f"\nlimit     {_human(DEFAULT_MAX_SIZE)} (extract --cache-max-size; cache prune --max-size)"
    )
    for v in info.versions:
        used = datetime.fromtimestamp(v.last_used).strftime("%Y-%m-%d %H:%M")
        mark = "  (current rules and code)" if v.current else ""
        print(f"version   {v.version}: {v.entries} entries, {_human(v.bytes)}, last used {used}{mark}")
    if info.legacy_bytes:
        print(f"legacy    {_human(info.legacy_bytes)} of an earlier cache layout (cache clear removes it)")


@cache_app.command("prune")
@_interruptible
def cache_prune(
    cache_dir: Path | None = _CACHE_DIR,
    max_size: str = typer.Option(f"{DEFAULT_MAX_SIZE >> 20}M", "--max-size", help="Size to bring the cache under."),
) -> None:
    """Drop least recently used entries until the cache is under --max-size."""
    dropped, freed = _open_cache_folder(cache_dir).prune(_size(max_size))
    _err(f"cache: dropped {dropped} entries, freed {_human(freed)}")


@cache_app.command("clear")
@_interruptible
def cache_clear(cache_dir: Path | None = _CACHE_DIR) -> None:
    """Remove every cached result (only what guideparse wrote in the cache folder)."""
    freed = _open_cache_folder(cache_dir).clear()
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
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
