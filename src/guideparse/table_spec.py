"""What export tables are made of: a table's spec (columns, their types, its primary key;
export.py and export_families.py build them, export_write.py writes them), and the checked
reading of a catalog value into rows (a value of the wrong type is the caller's one-line error)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from .errors import GuideparseError

ColumnType = Literal["text", "int", "real", "bool", "list"]
Row = tuple[Any, ...]


@dataclass(frozen=True)
class TableSpec:
    """A table: its columns (name, type) in order and its primary key."""

    name: str
    columns: tuple[tuple[str, ColumnType], ...]
    pk: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c for c, _ in self.columns)


def child_spec(name: str, *columns: tuple[str, ColumnType], pk: tuple[str, ...] = ("slug", "position")) -> TableSpec:
    return TableSpec(name, (("slug", "text"), ("position", "int"), *columns), pk)


_child = child_spec


#: Makes the one-line error for a catalog value that is not what a run holds (GP908).
Error = Callable[[str], GuideparseError]


def as_object(value: Any, what: str, error: Error) -> dict[str, Any]:
    """An object of a catalog entry, {} for null."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise error(f"{what}: expected an object")
    return value


def as_list(value: Any, what: str, error: Error) -> list[Any]:
    """A list of a catalog entry, [] for null."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise error(f"{what}: expected a list")
    return value


def joined_paragraphs(paragraphs: list[Any]) -> Any:
    """A summary's paragraphs as one cell, a blank line between them (null for none; kept as
    it is when not texts, for the cell's type check to refuse)."""
    if all(isinstance(p, str) for p in paragraphs):
        return "\n\n".join(paragraphs) or None
    return paragraphs
