"""The value sets a user picks from on the command line, defined once (and cheap to import,
so `--help` lists them without loading the library)."""

from __future__ import annotations

from typing import Literal, get_args

DiffFormat = Literal["text", "markdown", "json", "html"]
SchemaKind = Literal["document", "catalog", "manifest", "api", "manual"]
ReportFormat = Literal["text", "json"]  # what the other commands print: for people, or for tools
ExportFormat = Literal["sqlite", "parquet", "csv"]  # the catalog as tables: one file, or a folder of files
LintFormat = Literal["text", "markdown", "json"]
LintGrouping = Literal["app", "lint"]

DIFF_FORMATS: tuple[str, ...] = get_args(DiffFormat)
SCHEMA_KINDS: tuple[str, ...] = get_args(SchemaKind)
REPORT_FORMATS: tuple[str, ...] = get_args(ReportFormat)
EXPORT_FORMATS: tuple[str, ...] = get_args(ExportFormat)
LINT_FORMATS: tuple[str, ...] = get_args(LintFormat)
LINT_GROUPINGS: tuple[str, ...] = get_args(LintGrouping)
