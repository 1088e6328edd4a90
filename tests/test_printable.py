"""Control characters in names and values reach a terminal only as escapes: every message
naming a hostile file is one line, and no escape sequence is printed raw."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import RAW
from guideparse.cli import main
from guideparse.diff import AppDiff, Change, DiffReport
from guideparse.errors import InputError
from guideparse.printable import shown
from guideparse.report import render_markdown, render_text

FORGED = "evil\nGP000 forged.txt"
RED = "\x1b[31mred.txt"
NOT_A_GUIDE = b"Meeting notes\n\nNothing here is a guide.\n"
SEED = RAW / "brex.flat.txt"
# What must never reach a terminal raw: C0, DEL, C1, bidi controls, line separators.
_RAW_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


@given(st.text())
def test_shown_is_one_line_with_nothing_to_run(text):
    """Whatever the text, what is shown holds no control character (so it is one line), and
    text without any is shown as it is."""
    out = shown(text)
    assert _RAW_CONTROL.search(out) is None
    assert len(out.splitlines()) <= 1
    if _RAW_CONTROL.search(text) is None and not any("\ud800" <= c <= "\udfff" for c in text):
        assert out == text


def test_shown_escapes_like_repr_and_keeps_letters():
    assert shown(FORGED) == "evil\\nGP000 forged.txt"
    assert shown(RED) == "\\x1b[31mred.txt"
    assert shown("\u202eOkta \x85 \x7f") == "\\u202eOkta \\x85 \\x7f"
    assert shown("Café Оkta ✓") == "Café Оkta ✓"


def _folder(tmp_path, content: bytes):
    inp = tmp_path / "in"
    inp.mkdir()
    for name in (FORGED, RED):
        (inp / name).write_bytes(content)
    return inp


def test_failing_file_names_are_one_escaped_line_each(tmp_path, capsys):
    """Two inputs that fail (not guides), named with a newline and an ESC: two stderr lines,
    each naming its file with the escapes visible; the manifest keeps the names as they are."""
    inp = _folder(tmp_path, NOT_A_GUIDE)
    out = tmp_path / "run"
    assert main(["extract", str(inp), "-o", str(out), "--no-cache", "-q"]) == 1
    err = capsys.readouterr().err
    assert _RAW_CONTROL.search(err.replace("\n", "")) is None
    assert err.splitlines() == [
        f"{inp}/\\x1b[31mred.txt: GP903 not a guide: no guide section heading recognised",
        f"{inp}/evil\\nGP000 forged.txt: GP903 not a guide: no guide section heading recognised",
    ]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(i["path"] for i in manifest["inputs"]) == sorted([f"{inp}/{FORGED}", f"{inp}/{RED}"])


def test_guide_file_names_print_nothing_raw(tmp_path, capsys):
    """The same names holding guides: extracted (no failure line), the summary and `explain`
    name them escaped, one line each; documents.jsonl keeps them as they are."""
    inp = _folder(tmp_path, SEED.read_bytes())
    out = tmp_path / "run"
    assert main(["extract", str(inp), "-o", str(out), "--no-cache"]) == 0
    err = capsys.readouterr().err
    assert "2 ok (2 truncated, 2 with warnings), 0 failed, 1 app" in err and "\x1b" not in err
    docs = [json.loads(line) for line in (out / "documents.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sorted(d["source"]["path"] for d in docs) == sorted([f"{inp}/{FORGED}", f"{inp}/{RED}"])
    for name, escaped in ((FORGED, "evil\\nGP000 forged.txt"), (RED, "\\x1b[31mred.txt")):
        assert main(["explain", str(inp / name)]) == 0
        text = capsys.readouterr().out
        assert _RAW_CONTROL.search(text.replace("\n", "")) is None
        summary = [line for line in text.splitlines() if " values from " in line]
        assert len(summary) == 1 and summary[0].split(" values from ")[1].startswith(f"{inp}/{escaped};")


@pytest.mark.parametrize("name", [FORGED, RED])
def test_explain_of_a_failing_file_is_one_line(tmp_path, capsys, name):
    """explain on a hostile name that is no guide: one error line, escaped, exit 2."""
    path = tmp_path / name
    path.write_bytes(NOT_A_GUIDE)
    assert main(["explain", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "GP903" in err and _RAW_CONTROL.search(err[:-1]) is None


def test_error_one_line_escapes_path_and_message():
    err = InputError("GP905", "cannot read: \x1b]0;title\x07", path="a\nb\u202e.txt")
    assert err.one_line() == "a\\nb\\u202e.txt: GP905 cannot read: \\x1b]0;title\\x07"
    assert str(err) == err.one_line()


def _report() -> DiffReport:
    hostile = "x\x1b[2J\nGP000 forged\u202e"
    return DiffReport(
        old={"run": "runs/old\n"},
        new={"run": "runs/\x1bnew"},
        summary={"added": 0, "removed": 0, "changed": 1, "unchanged": 0},
        apps=[
            AppDiff(
                slug="acme",
                app="Acme\x9b31m",
                status="changed",
                changes=[Change(path=f"identity_providers[{hostile}].notes", kind="changed", old=hostile, new="ok")],
            )
        ],
    )


@pytest.mark.parametrize("render", [lambda r: render_text(r), lambda r: render_text(r, color=True), render_markdown])
def test_diff_reports_escape_names_and_values(render):
    """Text (plain and coloured) and markdown reports show a hostile value, IdP name, app name
    and run path escaped; the only raw ESCs are the report's own colours."""
    out = render(_report())
    plain = re.sub(r"\x1b\[[0-9;]*m", "", out)  # rich's own SGR codes
    assert _RAW_CONTROL.search(plain.replace("\n", "")) is None
    assert "[x\\x1b" in plain.replace("\\[", "[")  # the IdP name in the path
    assert "Acme\\x9b31m" in plain.replace("\\_", "_") and "runs/old\\n" in plain
    assert plain.count("\\nGP000 forged\\u202e") == 2  # in the path and in the old value
    assert not any(line.startswith("GP000") for line in plain.splitlines())
