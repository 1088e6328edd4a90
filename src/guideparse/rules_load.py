"""Read the rules files and validate each against its schema (`rules_schema`).

A rules folder may come from anywhere (`--rules`), so reading is defensive: regular
files only (a FIFO would block, /dev/zero never ends), at most MAX_RULES_BYTES each,
UTF-8 (a BOM allowed), safe YAML without aliases, one JSON value a line, no key given
twice in either. Whatever the bytes, the result is data or a coded RulesError naming the
file and, where there is one, the line: never a traceback. Each file is parsed into plain data
and a map from every node's path to its line; a validation error's path (with an
EntryError's own path below it) is looked up there, so every error names file and
line. Rule ids must be unique across files. The digest covers the bytes read.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml
from pydantic import TypeAdapter, ValidationError

from .errors import RulesError
from .rules_catalog import (
    INFERENCE_SCHEMA,
    LINTS_SCHEMA,
    TIERS_SCHEMA,
    InferenceEntry,
    LintsFile,
    TiersFile,
    implied_value_problems,
)
from .rules_families import FAMILIES_SCHEMA, FamiliesFile
from .rules_schema import (
    APP_NAMES_SCHEMA,
    HEADINGS_SCHEMA,
    PAGE_SCHEMA,
    TABLES_SCHEMA,
    VOCABULARY_SCHEMA,
    AppNamePattern,
    EntryError,
    HeadingRule,
    Loc,
    PageFile,
    TablesFile,
    VocabEntry,
    shorten,
)

RULE_FILES = ("headings.jsonl", "vocabulary.jsonl", "app_names.jsonl", "tables.yaml", "page.yaml")
#: The catalog's rules (rules_catalog): IdP note inference, tier classes, lints.
CATALOG_RULE_FILES = ("inference.jsonl", "tiers.yaml", "lints.yaml")
#: The guide families (rules_families): recognition, and the reader of each field.
FAMILY_RULE_FILES = ("families.yaml",)
MAX_RULES_BYTES = 5 * 1024 * 1024

T = TypeVar("T")
Lines = dict[Loc, int]  # node path -> 1-based line


def default_rules_dir() -> Path:
    """Rules shipped in the wheel, else the checkout's top-level `rules/`."""
    env = os.environ.get("GUIDEPARSE_RULES")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent
    packaged = here / "_rules"
    if packaged.is_dir():
        return packaged
    return here.parent.parent / "rules"


@dataclass(frozen=True)
class RulesFile(Generic[T]):
    """One rules file, validated: its model, its bytes, and the line of each node."""

    name: str
    shown: str  # the path as errors print it
    data: bytes
    value: T
    lines: Lines

    def line(self, loc: Loc) -> int | None:
        """The line of the deepest node on `loc` (an error's path may end below a node:
        in a scalar's type, at a missing key)."""
        return _line_for(loc, self.lines)


@dataclass(frozen=True)
class RulesFiles:
    """Every rules file of a folder, validated, and their digest."""

    directory: Path
    headings: RulesFile[list[HeadingRule]]
    vocabulary: RulesFile[list[VocabEntry]]
    app_names: RulesFile[list[AppNamePattern]]
    tables: RulesFile[TablesFile]
    page: RulesFile[PageFile]
    inference: RulesFile[list[InferenceEntry]]
    tiers: RulesFile[TiersFile]
    lints: RulesFile[LintsFile]
    families: RulesFile[FamiliesFile]

    @property
    def digest(self) -> str:
        files = (self.headings, self.vocabulary, self.app_names, self.tables, self.page)
        return rules_digest((f.name, f.data) for f in (*files, self.inference, self.tiers, self.lints, self.families))


def read_rules(directory: Path) -> RulesFiles:
    """Read and validate every rules file of `directory`; raise RulesError naming file and line."""
    _check_folder(directory)
    files = RulesFiles(
        directory,
        headings=read_rules_file(directory, "headings.jsonl", HEADINGS_SCHEMA),
        vocabulary=read_rules_file(directory, "vocabulary.jsonl", VOCABULARY_SCHEMA),
        app_names=read_rules_file(directory, "app_names.jsonl", APP_NAMES_SCHEMA),
        tables=read_rules_file(directory, "tables.yaml", TABLES_SCHEMA),
        page=read_rules_file(directory, "page.yaml", PAGE_SCHEMA),
        inference=read_rules_file(directory, "inference.jsonl", INFERENCE_SCHEMA),
        tiers=read_rules_file(directory, "tiers.yaml", TIERS_SCHEMA),
        lints=read_rules_file(directory, "lints.yaml", LINTS_SCHEMA),
        families=read_rules_file(directory, "families.yaml", FAMILIES_SCHEMA),
    )
    check_unique_ids(files)
    check_implied_values(files)
    return files


def _check_folder(directory: Path) -> None:
    """The rules folder exists and is a folder (a symlink to one is fine, a loop is not)."""
    try:
        mode = os.stat(directory).st_mode
    except FileNotFoundError:
        raise RulesError("GP001", "rules folder not found", path=str(directory)) from None
    except (OSError, ValueError) as exc:  # a symlink loop, a name too long, a NUL in the name
        raise RulesError("GP001", f"cannot read rules folder: {_os_reason(exc)}", path=str(directory)) from None
    if not stat.S_ISDIR(mode):
        raise RulesError("GP001", "rules folder is not a folder", path=str(directory))


def rules_digest(files: Iterable[tuple[str, bytes]]) -> str:
    """sha256 over each file's name and bytes, in RULE_FILES then CATALOG_RULE_FILES order: recorded in every run
    and part of every cache key, so it must stay this function of these bytes."""
    h = hashlib.sha256()
    for name, data in files:
        h.update(name.encode() + b"\0")
        h.update(data)
        h.update(b"\0")
    return h.hexdigest()


def read_rules_file(directory: Path, name: str, schema: TypeAdapter[T]) -> RulesFile[T]:
    """One file read, parsed (JSON lines or YAML by its name) and validated."""
    shown = str(directory / name)
    data = _read_bytes(directory / name, shown)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise RulesError("GP001", f"not UTF-8: byte 0x{data[exc.start]:02x}", path=shown, line=line) from None
    per_line = name.endswith(".jsonl")
    raw, lines = _parse_jsonl(text, shown) if per_line else _parse_yaml(text, shown)
    try:
        value = schema.validate_python(raw)
    except ValidationError as exc:
        loc, message = _first_error(exc)
        # In a JSON lines file the line says which entry; the path starts inside it.
        where = ".".join(_loc_part(p) for p in loc[1 if per_line else 0 :])
        raise RulesError(
            "GP002", f"{where}: {message}" if where else message, path=shown, line=_line_for(loc, lines)
        ) from None
    return RulesFile(name, shown, data, value, lines)


def _read_bytes(path: Path, shown: str) -> bytes:
    """A regular file's bytes, at most MAX_RULES_BYTES. Opened without blocking and checked
    before reading, so a FIFO or a device is refused, not waited on or read for ever."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise RulesError("GP001", "rules file is missing", path=shown) from None
    except (OSError, ValueError) as exc:
        raise RulesError("GP001", f"cannot read rules file: {_os_reason(exc)}", path=shown) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise RulesError("GP001", "not a regular file", path=shown)
        with open(fd, "rb", closefd=False) as fh:
            data = fh.read(MAX_RULES_BYTES + 1)
    except OSError as exc:
        raise RulesError("GP001", f"cannot read rules file: {_os_reason(exc)}", path=shown) from None
    finally:
        os.close(fd)
    if len(data) > MAX_RULES_BYTES:
        raise RulesError("GP001", f"rules file larger than {MAX_RULES_BYTES // 2**20} MB", path=shown)
    return data


def _os_reason(exc: Exception) -> str:
    """What the system said, without the path (the error names it already)."""
    return getattr(exc, "strerror", None) or _reason(exc)


def _parse_jsonl(text: str, shown: str) -> tuple[list[Any], Lines]:
    """One JSON value a line (blank lines and // comments skipped); entry index -> line.
    Lines end at "\\n" only, as editors count them (a raw U+2028 is valid inside a string)."""
    entries: list[Any] = []
    lines: Lines = {}
    for no, raw in enumerate(text.split("\n"), 1):
        if not raw.strip() or raw.lstrip().startswith("//"):
            continue
        try:
            entries.append(json.loads(raw, object_pairs_hook=_object, parse_constant=_no_constant))
        except json.JSONDecodeError as exc:
            raise RulesError("GP001", f"invalid JSON: {exc.msg} (column {exc.colno})", path=shown, line=no) from None
        except ValueError as exc:  # a key twice, NaN, an integer of thousands of digits
            raise RulesError("GP001", f"invalid JSON: {_reason(exc)}", path=shown, line=no) from None
        except RecursionError:
            raise RulesError("GP001", "invalid JSON: nested too deeply", path=shown, line=no) from None
        lines[(len(entries) - 1,)] = no
    return entries, lines


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object, refused when it gives a key twice (the last would silently win)."""
    out = dict(pairs)
    if len(out) < len(pairs):
        keys = [k for k, _ in pairs]
        twice = next(k for i, k in enumerate(keys) if k in keys[:i])
        raise ValueError(f"key {shorten(twice)} given twice")
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _loc_part(part: int | str) -> str:
    """A step of an error's path as printed: a key from the file shortened and quoted if odd."""
    text = str(part)
    return text if text.isprintable() and len(text) <= 60 else shorten(text)


def _reason(exc: Exception) -> str:
    """An exception's message on one line, without Python's advice to programmers
    ("…; use sys.set_int_max_str_digits() to increase the limit")."""
    return " ".join(str(exc).split(";")[0].split())


try:
    from yaml import CSafeLoader as _SafeLoader  # libyaml when built with it: 8x faster
except ImportError:  # pragma: no cover - PyYAML without libyaml
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]


class _Loader(_SafeLoader):
    """The safe loader, whose errors building a value (a date that is no date, an integer of
    5,000 digits) are YAML errors at the node's line rather than ValueError tracebacks."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, AttributeError, OverflowError) as exc:
            raise yaml.constructor.ConstructorError(None, None, f"bad value: {_reason(exc)}", node.start_mark) from None


def _parse_yaml(text: str, shown: str) -> tuple[Any, Lines]:
    """Parse YAML safely; map each node's path to its line. The node tree is checked
    (_node_lines) before any value is built from it."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        lines = _node_lines(node, text, shown) if node is not None else {}
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        message, line = _yaml_problem(exc, text)
        raise RulesError("GP001", f"invalid YAML: {message}", path=shown, line=line) from None
    except RecursionError:  # the pure-Python parser has no depth limit of its own
        raise RulesError("GP001", "invalid YAML: nested too deeply", path=shown) from None
    finally:
        loader.dispose()
    return data, lines


#: What YAML refuses to read (a NUL, most C0 controls): not its printable set.
_NOT_YAML_PRINTABLE = re.compile("[^\\t\\n\\r\\x20-\\x7e\\x85\\xa0-\\ud7ff\\ue000-\\ufffd\\U00010000-\\U0010ffff]")


def _yaml_problem(exc: yaml.YAMLError, text: str) -> tuple[str, int | None]:
    """A YAML error as one line of text and its line."""
    if isinstance(exc, yaml.reader.ReaderError):  # no mark; its position counts bytes or characters
        bad = _NOT_YAML_PRINTABLE.search(text)
        line = text.count("\n", 0, bad.start()) + 1 if bad else None
        return f"character {shorten(bad.group()) if bad else ''} not allowed", line
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    said = [str(m) for m in (getattr(exc, "context", None), getattr(exc, "problem", None)) if m]
    return _reason(ValueError(", ".join(said) or exc)), mark.line + 1 if mark is not None else None


def _node_lines(root: yaml.Node, text: str, shown: str) -> Lines:
    """Node path -> line, for every node in document order. Refused with their line: an
    alias (a node reached twice: expanding aliases lets a small file take for ever to load
    and validate), a key that is not a plain value, a key given twice in one mapping."""
    lines: Lines = {}
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, Loc]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        if id(node) in seen:
            raise RulesError(
                "GP001", "YAML aliases are not supported in rules files", path=shown, line=_alias_line(text)
            )
        seen.add(id(node))
        lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            stack.extend(reversed([(v, (*path, key)) for key, v in _keys(node, shown)]))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(reversed([(v, (*path, i)) for i, v in enumerate(node.value)]))
    return lines


def _keys(node: yaml.MappingNode, shown: str) -> Iterator[tuple[str, yaml.Node]]:
    """A mapping's (key, value node) pairs; every key a scalar, none twice."""
    first: dict[tuple[str, str], int] = {}
    for k, v in node.value:
        line = k.start_mark.line + 1
        if not isinstance(k, yaml.ScalarNode):
            raise RulesError("GP001", "invalid YAML: a key must be a plain value", path=shown, line=line)
        if (k.tag, k.value) in first:
            message = f"invalid YAML: key {shorten(k.value)} given twice (first on line {first[k.tag, k.value]})"
            raise RulesError("GP001", message, path=shown, line=line)
        first[k.tag, k.value] = line
        yield k.value, v


def _alias_line(text: str) -> int | None:
    """The line of the first alias (`*name`): the composed tree no longer says where it was."""
    for token in yaml.scan(text, Loader=_SafeLoader):
        if isinstance(token, yaml.AliasToken):
            return int(token.start_mark.line) + 1
    return None


def _first_error(exc: ValidationError) -> tuple[Loc, str]:
    """The first error's path (an EntryError continues it below the validated value) and message."""
    err = exc.errors()[0]
    cause = err.get("ctx", {}).get("error")
    loc = tuple(err["loc"]) + (cause.loc if isinstance(cause, EntryError) else ())
    return loc, err["msg"].removeprefix("Value error, ")


def _line_for(loc: Loc, lines: Lines) -> int | None:
    for n in range(len(loc), -1, -1):
        if loc[:n] in lines:
            return lines[loc[:n]]
    return None


# --------------------------------------------------------------------------- across files


def check_unique_ids(files: RulesFiles) -> None:
    """A rule id names one rule in all the files: provenance and warnings refer to it."""
    first: dict[str, str] = {}
    for file, loc, rule_id in _rule_ids(files):
        line = file.line(loc)
        if rule_id in first:
            raise RulesError(
                "GP002", f"duplicate rule id {shorten(rule_id)} (first in {first[rule_id]})", path=file.shown, line=line
            )
        first[rule_id] = f"{file.shown}:{line}" if line else file.shown


def _rule_ids(files: RulesFiles) -> Iterator[tuple[RulesFile[Any], Loc, str]]:
    """(file, path, id) of every rule with an id, file by file."""
    one_a_line: tuple[RulesFile[list[Any]], ...] = (files.headings, files.vocabulary, files.app_names, files.inference)
    for file in one_a_line:
        for i, entry in enumerate(file.value):
            yield file, (i,), entry.id
    for loc, rule_id in files.tables.value.rule_ids():
        yield files.tables, loc, rule_id
    for loc, rule_id in files.page.value.rule_ids():
        yield files.page, loc, rule_id
    for loc, rule_id in files.tiers.value.rule_ids():
        yield files.tiers, loc, rule_id
    for loc, rule_id in files.lints.value.rule_ids():
        yield files.lints, loc, rule_id
    for loc, rule_id in files.families.value.rule_ids():
        yield files.families, loc, rule_id


def check_implied_values(files: RulesFiles) -> None:
    """What inference.jsonl implies must be a value its column can show (vocabulary.jsonl's CELLs)."""
    for loc, message in implied_value_problems(files.inference.value, files.vocabulary.value):
        where = ".".join(str(p) for p in loc[1:])
        raise RulesError("GP002", f"{where}: {message}", path=files.inference.shown, line=files.inference.line(loc))
