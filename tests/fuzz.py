"""Fuzz targets: whatever comes in, a result or a clean coded error, never an exception.

    .venv/bin/python tests/fuzz.py [--target pages|html|files|rules|all] [--cases 10000] [--seed N]

- pages: random bytes, random guide-flavoured text, and corpus pages (text and HTML)
  mutated: lines dropped, duplicated, shuffled, bytes flipped, cut anywhere. Each
  result must serialise and have a well-formed slug.
- html: deep and wide HTML (thousands of nested elements of any kind, wide tables,
  guide pieces inside): a record or an InputError, in time linear in the page.
- files: input folders of regular files, symlinks (inside, outside, dangling, loops),
  FIFOs, sub-folders and odd names (newlines, escapes, bytes that are not UTF-8):
  a batch gives every input a status, and every message naming a file is one line.
- rules: the project's rules files mutated (lines dropped or duplicated, bytes
  flipped, YAML aliases, hostile regular expressions, nesting): the rules load, or a
  RulesError names the file, promptly.

The test suite runs each target with a few hundred cases (tests/test_properties.py);
this script is the long run. Exit status 0 when every case passed.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))

from guide_pieces import GUIDE_PIECES, MARKUP_PIECES  # noqa: E402
from guideparse.catalog import single_entry  # noqa: E402
from guideparse.errors import GuideparseError, InputError, RulesError  # noqa: E402
from guideparse.record import extract_document  # noqa: E402
from guideparse.rules import load_rules  # noqa: E402
from guideparse.run import extract_many  # noqa: E402

RULES = load_rules(ROOT / "rules")
PAGES = [p.read_bytes() for p in sorted((ROOT / "raw").glob("*.txt"))[:40]] + [
    p.read_bytes() for p in sorted((HERE / "fixtures" / "html").glob("*.html"))
]

HTML_PAGES = [p.read_bytes() for p in sorted((HERE / "fixtures" / "html").glob("*.html"))]
_PIECES = GUIDE_PIECES + MARKUP_PIECES
GUIDE_TEXT = st.lists(st.sampled_from(_PIECES), max_size=120).map("".join)


@st.composite
def mutated_page(draw) -> bytes:
    """A real page with its lines dropped, duplicated, shuffled, a byte flipped, or cut."""
    lines = draw(st.sampled_from(PAGES)).split(b"\n")
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.sampled_from(["drop", "dup", "swap", "flip", "insert"]))
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        if op == "drop":
            del lines[i]
        elif op == "dup":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "flip" and lines[i]:
            k = draw(st.integers(0, len(lines[i]) - 1))
            lines[i] = lines[i][:k] + bytes([draw(st.integers(0, 255))]) + lines[i][k + 1 :]
        else:
            lines.insert(i, draw(GUIDE_TEXT).encode("utf-8"))
    data = b"\n".join(lines)
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return data


INPUTS = st.one_of(
    st.binary(max_size=2000),
    GUIDE_TEXT.map(lambda t: t.encode("utf-8")),
    st.text(max_size=600).map(lambda t: t.encode("utf-8")),
    mutated_page(),
)


def check(data: bytes) -> str:
    """One case: 'ok' or the InputError code; anything else raises."""
    try:
        doc = extract_document(data, "fuzz.txt", RULES)
    except InputError as exc:
        assert exc.code.startswith(("GP9", "GP3")), exc.code
        return exc.code
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", doc.slug), doc.slug
    doc.model_dump_json()
    return "ok"


# --------------------------------------------------------------------------- deep and wide HTML

_TAGS = ["div", "span", "p", "li", "ul", "ol", "table", "tr", "td", "th", "section", "b", "i", "a", "h2", "blockquote"]


@st.composite
def deep_html(draw) -> bytes:
    """Thousands of nested elements (any kinds, some never closed), or a very wide table."""
    pieces = draw(st.lists(st.sampled_from(GUIDE_PIECES), min_size=1, max_size=8))
    if draw(st.booleans()):
        tags = draw(st.lists(st.sampled_from(_TAGS), min_size=1, max_size=4))
        depth = draw(st.integers(1, 5000))
        opened = "".join(f"<{tags[i % len(tags)]}>" for i in range(depth))
        closed = "".join(f"</{tags[i % len(tags)]}>" for i in reversed(range(depth))) if draw(st.booleans()) else ""
        body = opened + "".join(pieces) + closed
    else:
        cols, rows = draw(st.integers(1, 300)), draw(st.integers(1, 60))
        cell = "".join(pieces)[:40]
        body = "<table>" + ("<tr>" + f"<td>{cell}</td>" * cols + "</tr>") * rows + "</table>"
    page = draw(st.sampled_from(HTML_PAGES))
    at = page.rfind(b"</body>")
    at = at if at >= 0 and draw(st.booleans()) else draw(st.integers(0, len(page)))
    return page[:at] + body.encode() + page[at:]  # inside a real guide, or anywhere in it


def check_html(data: bytes) -> str:
    return check(data)


# --------------------------------------------------------------------------- input folders

_NAMES = st.one_of(
    st.sampled_from(["a.txt", "b.md", "c.html", "new\nline.txt", "esc\x1b[31m.txt", "tab\there.txt", "dir.txt"]),
    # Names that are not UTF-8 come from the "bytes" kind: a str name here has no lone surrogates.
    st.text(
        alphabet=st.characters(blacklist_characters="/\x00", blacklist_categories=("Cs",)), min_size=1, max_size=40
    ).map(lambda t: t + ".txt"),
)
_KINDS = st.sampled_from(["page", "empty", "binary", "link-in", "link-out", "dangling", "loop", "fifo", "dir", "bytes"])


def _make_entry(folder: Path, outside: Path, name: str, kind: str, page: bytes) -> None:
    path = folder / name
    if kind == "page":
        path.write_bytes(page)
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "binary":
        path.write_bytes(bytes(range(256)))
    elif kind == "link-in":
        (folder / "target.txt").write_bytes(page)
        os.symlink("target.txt", path)
    elif kind == "link-out":
        os.symlink(outside, path)
    elif kind == "dangling":
        os.symlink("nowhere.txt", path)
    elif kind == "loop":
        os.symlink(name, path)
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "dir":
        path.mkdir()
        (path / "inner.txt").write_bytes(page)
    else:  # a name that is not UTF-8
        with open(os.path.join(os.fsencode(folder), b"odd-\xff\xfe.txt"), "wb") as fh:
            fh.write(page)


@st.composite
def input_folder(draw) -> list[tuple[str, str, int]]:
    return draw(st.lists(st.tuples(_NAMES, _KINDS, st.integers(0, len(PAGES) - 1)), min_size=1, max_size=6))


def check_files(entries: list[tuple[str, str, int]]) -> str:
    """One batch over a folder built from `entries`: every input has a status; messages are one line."""
    work = Path(tempfile.mkdtemp(prefix="gp-fuzz-"))
    try:
        folder, outside = work / "in", work / "outside.txt"
        folder.mkdir()
        outside.write_bytes(PAGES[0])
        for name, kind, page in entries:
            if not os.path.lexists(folder / name):
                try:
                    _make_entry(folder, outside, name, kind, PAGES[page])
                except OSError:
                    continue  # a name the file system refuses (too long): not a case
        try:
            result = extract_many([str(folder)], work / "run", rules=RULES, jobs=1, use_cache=False)
        except GuideparseError as exc:
            assert exc.code == "GP911", exc.one_line()
            return exc.code
        for err in result.failures:
            assert "\n" not in err.one_line() and "\x1b" not in err.one_line(), err.one_line()
        assert len(result.statuses) >= 1 and (work / "run" / "manifest.json").is_file()
        return "ok" if not result.failed else "some-failed"
    finally:
        shutil.rmtree(work, ignore_errors=True)


# --------------------------------------------------------------------------- rules files

RULES_DIR = ROOT / "rules"
RULES_FILES = sorted(p.name for p in RULES_DIR.iterdir() if p.is_file())
_HOSTILE = [
    "(a+)+$",
    "(a|aa)*b",
    "{app}{app}",
    "(?<=x)y",
    "(\\w+)\\1",
    "[",
    "\\",
    "a{1000000}",
    "&a [*a, *a, *a]",
    "a: &a [1]\nb: [*a, *a]",
    "!!python/object:os.system",
    "[" * 5000,
    '{"label": ' * 3000,
    "\x00",
    "\udcff",
]


@st.composite
def rules_mutation(draw) -> tuple[str, bytes]:
    """One rules file's bytes, mutated; the other files stay as shipped."""
    name = draw(st.sampled_from(RULES_FILES))
    lines = (RULES_DIR / name).read_bytes().split(b"\n")
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, max(len(lines) - 1, 0)))
        op = draw(st.sampled_from(["drop", "dup", "flip", "hostile", "replace-value"]))
        if op == "drop" and lines:
            del lines[i]
        elif op == "dup" and lines:
            lines.insert(i, lines[i])
        elif op == "flip" and lines and lines[i]:
            k = draw(st.integers(0, len(lines[i]) - 1))
            lines[i] = lines[i][:k] + bytes([draw(st.integers(0, 255))]) + lines[i][k + 1 :]
        elif op == "hostile":
            lines.insert(i, draw(st.sampled_from(_HOSTILE)).encode("utf-8", "surrogateescape"))
        elif lines:
            hostile = draw(st.sampled_from(_HOSTILE)).replace("\\", "\\\\").replace('"', '\\"')
            lines[i] = re.sub(rb'"[^"]*"', b'"' + hostile.encode("utf-8", "surrogateescape") + b'"', lines[i], count=1)
    return name, b"\n".join(lines)


def check_rules(mutation: tuple[str, bytes]) -> str:
    """The mutated rules load, or raise a RulesError naming the file; within seconds either way."""
    name, data = mutation
    work = Path(tempfile.mkdtemp(prefix="gp-fuzz-rules-"))
    try:
        shutil.copytree(RULES_DIR, work / "rules")
        (work / "rules" / name).write_bytes(data)
        t0 = time.perf_counter()
        try:
            rules = load_rules(work / "rules")
        except RulesError as exc:
            assert exc.path is not None and "\n" not in exc.one_line(), exc.one_line()
            outcome = exc.code
        else:
            single_entry(extract_document(PAGES[0], "fuzz.txt", rules), rules)  # what loaded also runs
            outcome = "loaded"
        assert time.perf_counter() - t0 < 10, "rules took over 10 s"
        return outcome
    finally:
        shutil.rmtree(work, ignore_errors=True)


# --------------------------------------------------------------------------- running

TARGETS: dict[str, tuple[st.SearchStrategy, Callable[..., str]]] = {
    "pages": (INPUTS, check),
    "html": (deep_html(), check_html),
    "files": (input_folder(), check_files),
    "rules": (rules_mutation(), check_rules),
}


def run(cases: int, seed: int | None = None, target_name: str = "pages") -> dict[str, int]:
    """Run `cases` generated inputs through one target; returns outcome counts."""
    outcomes: dict[str, int] = {}
    strategy, check_one = TARGETS[target_name]

    @settings(max_examples=cases, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def target(value) -> None:
        code = check_one(value)
        outcomes[code] = outcomes.get(code, 0) + 1

    if seed is not None:
        target = hypothesis_seed(seed)(target)
    target()
    return outcomes


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--target", choices=[*TARGETS, "all"], default="all")
    ap.add_argument("--cases", type=int, default=10_000, help="cases per target")
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()
    ok = True
    for name in TARGETS if args.target == "all" else [args.target]:
        t0 = time.perf_counter()
        outcomes = run(args.cases, args.seed, name)
        total, seconds = sum(outcomes.values()), time.perf_counter() - t0
        print(
            f"{name}: {total} cases in {seconds:.0f}s ({total / seconds:.0f}/s), no exception: "
            + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())),
            flush=True,
        )
        ok = ok and total >= args.cases
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
