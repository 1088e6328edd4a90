"""A table of an export: its columns, their types, its primary key (export.py and
export_families.py build them; export_write.py writes them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

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
