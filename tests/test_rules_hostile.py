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
from pathlib import Path
from typing import NamedTuple

import pytest

from conftest import ROOT
from guideparse.errors import RulesError
from guideparse.rules import load_rules

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


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    d = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", d)
    return d


def _refused(directory: Path, seconds: float = 5.0) -> RulesError:
    """load_rules(directory) raises a one-line coded RulesError, within `seconds`."""
    started = time.monotonic()
    with pytest.raises(RulesError) as info:
        load_rules(directory)
    assert time.monotonic() - started < seconds
    err = info.value
    assert "\n" not in str(err) and f" {err.code} " in f" {err} "
    return err


@pytest.mark.parametrize("case", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_rules_file(rules_copy: Path, case: Case) -> None:
    path = rules_copy / case.file
    data, line = case.edit(path.read_bytes())
    path.write_bytes(data)
    err = _refused(rules_copy)
    assert (err.code, err.path, err.line) == (case.code, str(path), line)
    assert case.message in err.message


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
