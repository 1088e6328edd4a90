"""Hostile rules folders (issue #13): each is refused fast with one coded line naming the
file (and the line where there is one), never a traceback, a hang or a memory blow-up.

One table: a copy of the shipped rules with one file edited, the code, the message and the
line the error must name. The edits work on bytes, so invalid UTF-8 and NULs are covered.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

import pytest

from conftest import RAW, ROOT
from guideparse.errors import RulesError
from guideparse.record import extract_document
from guideparse.rules import Rules, load_rules

Edit = Callable[[bytes], tuple[bytes, int | None]]  # file bytes -> (new bytes, line the error names)


def appended(extra: bytes, at: int = 1) -> Edit:
    """`extra` added at the end; the error is on its `at`-th line."""

    def edit(data: bytes) -> tuple[bytes, int | None]:
        return data + extra, data.count(b"\n") + at

    return edit


def prepended(extra: bytes, at: int = 1) -> Edit:
    return lambda data: (extra + data, at)


def replaced(old: bytes, new: bytes, line_of: bytes | None = None) -> Edit:
    """The first `old` replaced by `new`; the error is on the line holding `line_of` (default `new`)."""

    def edit(data: bytes) -> tuple[bytes, int | None]:
        assert old in data, old
        out = data.replace(old, new, 1)
        return out, out[: out.index(line_of or new)].count(b"\n") + 1

    return edit


def whole(content: bytes, line: int | None) -> Edit:
    return lambda _data: (content, line)


def _laughs(levels: int = 9) -> bytes:
    """The billion laughs: nine levels of nine aliases each, a YAML mapping of 9**9 leaves."""
    rows = ["l0: &l0 [lol]"] + [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, levels + 1)]
    return ("\n".join(rows) + "\n").encode()


def _merge_bomb() -> bytes:
    """The same with merge keys: flattening copies every key/value pair at each level."""
    rows = ["m0: &m0 {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9}"]
    rows += [f"m{i}: &m{i} {{<<: [{', '.join([f'*m{i - 1}'] * 9)}]}}" for i in range(1, 10)]
    return ("\n".join(rows) + "\n").encode()


class Case(NamedTuple):
    file: str
    edit: Edit
    code: str
    message: str


HOSTILE: dict[str, Case] = {
    # 1. alias bombs: refused at the first alias, before anything is expanded
    "alias bomb in tables.yaml": Case("tables.yaml", prepended(_laughs(), at=2), "GP001", "YAML aliases"),
    "alias bomb in page.yaml": Case("page.yaml", appended(b"\n" + _laughs(), at=3), "GP001", "YAML aliases"),
    "merge-key bomb": Case("tables.yaml", prepended(_merge_bomb(), at=2), "GP001", "YAML aliases"),
    # 2. a placeholder twice
    "{app} twice": Case(
        "headings.jsonl",
        appended(b'{"label": "pricing", "pattern": "{app} versus {app}", "id": "h.x"}\n'),
        "GP002",
        "placeholder {app} is used twice",
    ),
    # 3. patterns RE2 cannot run (the rest it runs in linear time: see below)
    "lookbehind in starts": Case(
        "tables.yaml", replaced(b"pattern: '[$", b"pattern: '(?<=x)[$"), "GP002", "no lookaround, no backreference"
    ),
    "backreference in starts": Case(
        "tables.yaml", replaced(b"pattern: '[$", b"pattern: '(a)\\1[$"), "GP002", "no lookaround, no backreference"
    ),
    "regex too large for RE2": Case(
        "tables.yaml", replaced(b"pattern: '[$", b"pattern: '\\pL{1000}[$"), "GP002", "pattern too large"
    ),
    "4 MB regex": Case(
        "tables.yaml",
        replaced(b"pattern: '[$", b"pattern: '" + b"a" * 4_000_000 + b"[$", b"pattern: 'aaa"),
        "GP002",
        "at most 1000 characters",
    ),
    "REGEX in a spaCy token pattern": Case(
        "app_names.jsonl",
        appended(b'{"label": "APP_NAME", "id": "a.x", "pattern": [{"NAME": true}, {"TEXT": {"REGEX": "(a+)+$"}}]}\n'),
        "GP002",
        "REGEX is not supported",
    ),
    "REGEX inside FUZZY": Case(
        "app_names.jsonl",
        appended(
            b'{"label": "APP_NAME", "id": "a.x", "pattern": [{"NAME": true}, {"LOWER": {"FUZZY": {"REGEX": "a"}}}]}\n'
        ),
        "GP002",
        "REGEX is not supported",
    ),
    # 6. patterns and values
    "4 MB vocabulary term": Case(
        "vocabulary.jsonl",
        appended(b'{"label": "IDP", "pattern": "' + b"x" * 4_000_000 + b'", "id": "i.big"}\n'),
        "GP002",
        "at most 1000 characters",
    ),
    "blank vocabulary term": Case(
        "vocabulary.jsonl", appended(b'{"label": "IDP", "pattern": "  ", "id": "i.x"}\n'), "GP002", "pattern: blank"
    ),
    "selector nested 5,000 times": Case(
        "page.yaml",
        replaced(b"  chrome_selectors:\n", b'  chrome_selectors:\n    - "' + b":not(" * 5000 + b'a"\n', b":not("),
        "GP002",
        "at most 1000 characters",
    ),
    "empty table header": Case(
        "tables.yaml",
        replaced(b"headers: [IdP,", b"headers: ['', IdP,"),
        "GP002",
        "headers.0: String should have at least 1 character",
    ),
    "blank bullet": Case("page.yaml", replaced(b"bullets: [", b"bullets: [' ', "), "GP002", "bullets.0: blank"),
    "control character in a heading": Case(
        "headings.jsonl",
        appended(b'{"label": "summary", "pattern": "Sum\\u001bmary", "id": "h.x"}\n'),
        "GP002",
        r"control character '\x1b'",
    ),
    "4 MB label": Case(
        "headings.jsonl",
        appended(b'{"label": "' + b"s" * 4_000_000 + b'", "pattern": "Zzz", "id": "h.x"}\n'),
        "GP002",
        "unknown section label 'sssss",
    ),
    "terminal escape in a YAML key": Case(
        "page.yaml", replaced(b"bullets:", b'"\\e[31mred": 1\nbullets:', b'"\\e'), "GP002", r"'\x1b[31mred'"
    ),
    # 6. structure and encoding
    "deep JSON array": Case("vocabulary.jsonl", appended(b"[" * 100_000 + b"]" * 100_000 + b"\n"), "GP001", "nested"),
    "deep JSON object": Case(
        "app_names.jsonl", appended(b'{"a":' * 50_000 + b"1" + b"}" * 50_000 + b"\n"), "GP001", "nested"
    ),
    "deep YAML flow": Case("tables.yaml", whole(b"x: " + b"[" * 100_000 + b"]" * 100_000 + b"\n", 1), "GP001", "depth"),
    "deep YAML blocks": Case(
        "page.yaml", whole(b"".join(b" " * i + b"k:\n" for i in range(3000)), 1000), "GP001", "depth"
    ),
    "invalid UTF-8 in JSON lines": Case(
        "headings.jsonl",
        appended(b'{"label": "summary", "pattern": "Sum\xffmary", "id": "h.x"}\n'),
        "GP001",
        "not UTF-8: byte 0xff",
    ),
    "invalid UTF-8 in YAML": Case("page.yaml", appended(b"\n# caf\xe9\n", at=2), "GP001", "not UTF-8: byte 0xe9"),
    "NUL in JSON lines": Case(
        "headings.jsonl",
        appended(b'{"label": "summary", "pattern": "Sum\x00mary", "id": "h.x"}\n'),
        "GP001",
        "invalid JSON: Invalid control character",
    ),
    "NUL in YAML": Case("page.yaml", appended(b"\n# a\x00b\n", at=2), "GP001", r"character '\x00' not allowed"),
    "key twice in JSON": Case(
        "headings.jsonl",
        appended(b'{"label": "summary", "label": "pricing", "pattern": "Zzz", "id": "h.x"}\n'),
        "GP001",
        "key 'label' given twice",
    ),
    "key twice in YAML": Case(
        "tables.yaml", appended(b"\ncost: {basis_prefix: x, figures: []}\n", at=2), "GP001", "key 'cost' given twice"
    ),
    "huge integer in JSON": Case(
        "headings.jsonl",
        appended(b'{"label": "summary", "pattern": "Zzz", "id": ' + b"9" * 5000 + b"}\n"),
        "GP001",
        "invalid JSON: Exceeds the limit",
    ),
    "huge integer in YAML": Case(
        "tables.yaml",
        replaced(b"type: bool}", b"type: bool, means_null: [" + b"9" * 5000 + b"]}", b"means_null: [9"),
        "GP001",
        "bad value: Exceeds the limit",
    ),
    "date that is no date in YAML": Case(
        "tables.yaml", replaced(b"type: bool}", b"type: bool, means_null: [2024-13-45]}"), "GP001", "month must be"
    ),
    "NaN in JSON": Case(
        "vocabulary.jsonl",
        appended(b'{"label": "BOOL", "pattern": "Zzz", "id": "b.x", "value": NaN}\n'),
        "GP001",
        "NaN is not JSON",
    ),
    "YAML key that is a list": Case(
        "page.yaml", replaced(b"bullets:", b"? [1, 2]\n: x\nbullets:", b"? [1"), "GP001", "key must be a plain value"
    ),
    "two YAML documents": Case("page.yaml", appended(b"\n---\nfoo: 1\n", at=2), "GP001", "single document"),
    "Python object tag": Case("page.yaml", whole(b"!!python/object:os.system x\n", 1), "GP001", "constructor"),
}


def _refused(directory: Path, seconds: float = 5.0) -> RulesError:
    """load_rules(directory) raises a one-line coded RulesError, within `seconds`."""
    started = time.monotonic()
    with pytest.raises(RulesError) as info:
        load_rules(directory)
    assert time.monotonic() - started < seconds
    err = info.value
    assert str(err).isprintable() and f" {err.code} " in f" {err} "  # one line, no terminal escapes
    return err


@pytest.mark.parametrize("case", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_rules_file(rules_copy: Path, case: Case) -> None:
    path = rules_copy / case.file
    data, line = case.edit(path.read_bytes())
    path.write_bytes(data)
    err = _refused(rules_copy)
    assert (err.code, err.path, err.line) == (case.code, str(path), line)
    assert case.message in err.message and len(err.message) < 400


def test_json_lines_end_at_newlines_only(rules_copy: Path) -> None:
    """A U+2028 (valid inside a JSON string) does not end a line: later lines keep their numbers."""
    path = rules_copy / "vocabulary.jsonl"
    path.write_bytes(path.read_bytes() + "// a\u2028b\u0085c\n".encode() + b'{"label": "IDP"}\n')
    err = _refused(rules_copy)
    assert err.code == "GP002" and err.line == path.read_bytes().count(b"\n")


def test_a_byte_order_mark_is_allowed_and_digested(rules_copy: Path) -> None:
    path = rules_copy / "headings.jsonl"
    plain = load_rules(rules_copy)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    marked = load_rules(rules_copy)
    assert marked.headings == plain.headings and marked.digest != plain.digest


# --------------------------------------------------------------------------- 3, 4. linear time


def test_catastrophic_start_pattern_runs_in_linear_time(rules_copy: Path) -> None:
    """`(a+)+$` is accepted: RE2 runs it in time linear in the row. A glued price cell with 26
    letters where it is tried extracts in milliseconds (Python's re: 10 s; 40 letters: days)."""
    path = rules_copy / "tables.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("pattern: '[$€£¥₹]'", "pattern: '(a+)+$'"), "utf-8")
    rules = load_rules(rules_copy)
    page = (RAW / "000_2e1c3045778c876f.txt").read_text(encoding="utf-8")
    assert "Essential$17/month" in page
    page = page.replace("Essential$17/month", "Essential" + "a" * 26 + "$17/month")
    started = time.monotonic()
    doc = extract_document(page.encode(), "p.txt", rules)
    assert time.monotonic() - started < 2
    assert doc.pricing and len(doc.pricing[0].plans) == 4


def test_line_patterns_run_in_linear_time(rules_copy: Path) -> None:
    """Heading rules opening with placeholders are tried on every line; their lazy groups
    cost a power of the line's length under backtracking (20 rules x 40 lines: 6 s with
    Python's re), not with RE2."""
    with (rules_copy / "headings.jsonl").open("a", encoding="utf-8") as fh:
        for i in range(20):
            fh.write(f'{{"label": "pricing", "pattern": "{{app}}{{plan}}{{idp}}!{i}", "id": "h.poly{i}"}}\n')
    rules = load_rules(rules_copy)
    started = time.monotonic()
    assert all(rules.match_heading("x" * 160) is None for _ in range(40))
    assert time.monotonic() - started < 1
    assert rules.match_heading("Acme" + "x" * 150 + "!7") is not None


def test_many_line_rules_cost_a_few_set_matches(rules_copy: Path) -> None:
    """5,000 heading rules opening with {app} are all candidates for every line; RE2 sets
    narrow them to the matching ones (one fullmatch each: 3 s for these 200 lines)."""
    with (rules_copy / "headings.jsonl").open("a", encoding="utf-8") as fh:
        for i in range(5000):
            fh.write(f'{{"label": "pricing", "pattern": "{{app}} zq{i}", "id": "h.many{i}"}}\n')
    rules = load_rules(rules_copy)
    started = time.monotonic()
    assert all(rules.match_heading(f"Some ordinary line of the guide, number {i}") is None for i in range(200))
    assert time.monotonic() - started < 1.5
    hit = rules.match_heading("Acme zq4321")
    assert hit is not None and (hit[0].id, hit[1]) == ("h.many4321", {"app": "Acme"})


@pytest.mark.parametrize(
    ("pattern", "text", "ignore_case"),
    [
        ("(?i)über", "ÜBER", False),  # inline case folding of a non-ASCII letter (re.ASCII would not)
        ("(?i:straße) plan", "STRAẞE plan", False),
        ("[[:alpha:]]+", "abc", False),  # a POSIX class
        ("a{,3}", "a{,3}", False),  # RE2: literal text
    ],
)
def test_a_pattern_matched_by_re_matches_as_re2_does(pattern: str, text: str, ignore_case: bool) -> None:
    """Rules patterns are RE2's: one that `re` runs in its place (it cannot backtrack much) must
    match what RE2 matches, or is left to RE2."""
    import re2

    from guideparse.rules_regex import _options, compile_regex

    assert re2.compile(pattern, _options(ignore_case)).fullmatch(text)
    assert compile_regex(pattern, ignore_case=ignore_case).fullmatch(text)


def test_narrowed_rule_lists_keep_file_order() -> None:
    """Where several rules of a long list match, the first in file order wins, as without sets."""
    from guideparse.rules import RuleList
    from guideparse.rules_schema import compile_line_pattern

    patterns = ["{app} x{plan}", "{app} xy"] + [f"{{app}} filler {i}" for i in range(RuleList.FEW * 3)] + ["Acme xy"]
    narrowed = RuleList([(compile_line_pattern(p), p) for p in patterns])
    assert narrowed._any is not None
    assert narrowed.first_match("ACME XY") == ("{app} x{plan}", {"app": "ACME", "plan": "Y"})
    assert narrowed.first_match("Acme filler 40") == ("{app} filler 40", {"app": "Acme"})
    assert narrowed.first_match("filler") is None


def _load_seconds(directory: Path) -> float:
    """CPU seconds to load a rules folder and build every lookup (best of three)."""
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        rules = load_rules(directory)
        for name, attr in vars(Rules).items():
            if isinstance(attr, cached_property):
                getattr(rules, name)
        best = min(best, time.process_time() - started)
    return best


def _vocabulary(directory: Path, n: int) -> Path:
    """The shipped rules with n more vocabulary entries, every label."""
    d = directory / f"vocab{n}"
    shutil.copytree(ROOT / "rules", d)
    extra = {"CELL": ', "value": "v{i}", "columns": ["sso"]', "ICON": ', "value": "yes"', "BOOL": ', "value": true'}
    labels = ["IDP", "CELL", "ICON", "BOOL", "PROTOCOL", "CURRENCY", "PERIOD", "PRICE_TERM"]
    with (d / "vocabulary.jsonl").open("a", encoding="utf-8") as fh:
        for i in range(n):
            label = labels[i % len(labels)]
            value = extra.get(label, ', "value": "free"' if label == "PRICE_TERM" else ', "value": "x"')
            value = "" if label == "IDP" else value.format(i=i)
            fh.write(f'{{"label": "{label}", "pattern": "Zq{i:06d} term", "id": "gen.{i}"{value}}}\n')
    return d


def test_vocabulary_loads_in_linear_time(tmp_path: Path) -> None:
    """Four times the entries take about four times as long to load and compile, not sixteen."""
    small, large = _load_seconds(_vocabulary(tmp_path, 2000)), _load_seconds(_vocabulary(tmp_path, 8000))
    assert large / small < 8, (small, large)


# --------------------------------------------------------------------------- 5. not a folder of regular files


def _folder_is_a_file(d: Path) -> str:
    shutil.rmtree(d)
    d.write_text("x")
    return "rules folder is not a folder"


def _folder_missing(d: Path) -> str:
    shutil.rmtree(d)
    return "rules folder not found"


def _folder_in_a_loop(d: Path) -> str:
    shutil.rmtree(d)
    d.symlink_to(d.with_name("other"))
    d.with_name("other").symlink_to(d)
    return "cannot read rules folder: Too many levels of symbolic links"


@pytest.mark.parametrize("make", [_folder_is_a_file, _folder_missing, _folder_in_a_loop])
def test_rules_folder_that_is_no_folder(rules_copy: Path, make: Callable[[Path], str]) -> None:
    message = make(rules_copy)
    err = _refused(rules_copy)
    assert (err.code, err.path, err.message) == ("GP001", str(rules_copy), message)


def _file_missing(p: Path) -> str:
    p.unlink()
    return "rules file is missing"


def _file_is_a_folder(p: Path) -> str:
    p.unlink()
    p.mkdir()
    return "not a regular file"


def _file_in_a_loop(p: Path) -> str:
    p.unlink()
    p.symlink_to(p)
    return "cannot read rules file: Too many levels of symbolic links"


@pytest.mark.parametrize("make", [_file_missing, _file_is_a_folder, _file_in_a_loop])
def test_rules_file_that_is_no_file(rules_copy: Path, make: Callable[[Path], str]) -> None:
    path = rules_copy / "headings.jsonl"
    message = make(path)
    err = _refused(rules_copy)
    assert (err.code, err.path, err.message) == ("GP001", str(path), message)


def test_unreadable_rules_file(rules_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Permission denied (simulated: the tests may run as root, who reads anything)."""
    path = rules_copy / "page.yaml"
    real_open = os.open

    def denying_open(name: object, *args: object, **kw: object) -> int:
        if str(name) == str(path):
            raise PermissionError(13, "Permission denied", str(name))
        return real_open(name, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", denying_open)
    err = _refused(rules_copy)
    assert (err.code, err.path, err.message) == ("GP001", str(path), "cannot read rules file: Permission denied")
