"""Golden cases: every JSON file in tests/cases is a named list of inputs and expected values.

A case gives its input as `file` (under the project root), `text` (lines), `raw`
(a string, encoded with `encoding`; with `hex_escapes`, each `\\xNN` in it is then that
byte, for invalid bytes among text) or `raw_hex`; and either `expected` (dotted
field -> value; objects compare on the keys given) or `error` (the InputError code). `warnings_include` /
`warnings_exclude` list codes that must / must not be among the record's warnings;
`warning_lines` maps a code to the lines of its warnings, in order.

With `catalog: true` the values are those of the app's catalog entry (resolved IdP cells, tier
classes, lints); `inputs` then lists the app's documents (each an input as above, `name` its
path), merged as a run merges them.
"""

from __future__ import annotations

import json
import re

import pytest

from conftest import CASES, ROOT, matches
from guideparse.catalog import merge_documents, merge_order
from guideparse.errors import InputError
from guideparse.record import extract_document


def _load_cases():
    for path in sorted(CASES.glob("*.json")):
        group = json.loads(path.read_text(encoding="utf-8"))
        for case in group["cases"]:
            yield pytest.param(case, id=f"{path.stem}:{case['id']}")


def _input_bytes(case: dict) -> bytes:
    if "file" in case:
        return (ROOT / case["file"]).read_bytes()
    if "raw_hex" in case:
        return bytes.fromhex(case["raw_hex"])
    if "raw" in case:
        data = case["raw"].encode(case.get("encoding", "utf-8"))
        if case.get("hex_escapes"):
            data = re.sub(rb"\\x([0-9a-fA-F]{2})", lambda m: bytes.fromhex(m[1].decode()), data)
        return data
    return ("\n".join(case["text"]) + "\n").encode("utf-8")


def _get(record: dict, dotted: str):
    cur = record
    for part in dotted.split("."):
        cur = cur[part]
    return cur


@pytest.mark.parametrize("case", list(_load_cases()))
def test_case(case, rules):
    """The record extracted from the case input has the expected values (or fails with the expected code)."""
    data = b"" if "inputs" in case else _input_bytes(case)
    path = case.get("file", f"{case['id']}.txt")
    if "error" in case:
        with pytest.raises(InputError) as info:
            extract_document(data, path, rules)
        assert info.value.code == case["error"]
        return
    if case.get("catalog"):
        inputs = case.get("inputs", [case])
        names = [i.get("file", i.get("name", f"{case['id']}-{k}.txt")) for k, i in enumerate(inputs)]
        docs = [extract_document(_input_bytes(i), name, rules) for i, name in zip(inputs, names, strict=True)]
        record = merge_documents(merge_order(docs), rules).model_dump(mode="json")
    else:
        record = extract_document(data, path, rules).model_dump(mode="json")
    for key, want in case["expected"].items():
        problems = matches(_get(record, key), want, key)
        assert not problems, "\n".join(problems)
    codes = {w["code"] for w in record["warnings"]}
    for code in case.get("warnings_include", []):
        assert code in codes, f"{code} not in {sorted(codes)}"
    for code in case.get("warnings_exclude", []):
        assert code not in codes, f"unexpected {code}: {record['warnings']}"
    if "warnings" in case:
        assert sorted(codes) == case["warnings"]
    for code, lines in case.get("warning_lines", {}).items():
        assert [w["line"] for w in record["warnings"] if w["code"] == code] == lines, record["warnings"]
