"""Writing the catalog's tables (`export.py`) as SQLite, Parquet or CSV, and what
`export --output` may name.

Every export is built beside its target and put in place in one step (a file renamed over
it, a folder exchanged with it: `fsio`), and holds no time, so two exports of one run are
the same bytes. A target is replaced only when it is new, empty, or an earlier export of
ours: an SQLite file carrying our `application_id`, a folder holding our marker file and
table files only. Anything else is refused (GP910) and left untouched.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import shutil
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import fsio
from .choices import EXPORT_FORMATS
from .errors import GuideparseError
from .export import FULL_TEXT, ColumnType, Tables, TableSpec, build_tables
from .store import LoadedRun, load_run

FORMATS = EXPORT_FORMATS  # sqlite, parquet, csv
#: The file that marks a Parquet or CSV export folder as ours.
MARKER = "guideparse-export.json"
#: `PRAGMA application_id` of an SQLite export ("GPEX"), and `PRAGMA user_version`: the tables' version.
APPLICATION_ID = 0x47504558
EXPORT_VERSION = 1
_SQLITE_MAGIC = b"SQLite format 3\x00"
_TABLE_FILE = re.compile(r"[a-z_]+\.(csv|parquet)")


@dataclass
class ExportResult:
    path: Path
    format: str
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows
    seconds: float = 0.0


def missing_extra(package: str, extra: str) -> GuideparseError:
    """The one-line error for an optional dependency that is not installed."""
    return GuideparseError("GP920", f"{package} is not installed (run: pip install 'guideparse[{extra}]')")


def export_run(run: str | os.PathLike[str], fmt: str, output: str | os.PathLike[str]) -> ExportResult:
    """Export a run folder's catalog as tables in `fmt` at `output` (a file for sqlite, a
    folder of one file per table for parquet and csv), replacing an earlier export there."""
    if fmt not in FORMATS:
        raise GuideparseError("GP906", f"unknown export format {fmt!r} (formats: {', '.join(FORMATS)})")
    write = _writer(fmt)  # a missing extra is said before any work
    started = time.perf_counter()
    loaded = load_run(run)
    tables = build_tables(loaded)
    dest = Path(os.path.abspath(output))
    check_export_target(dest, fmt, loaded.path)
    if fmt == "sqlite":
        _place_file(lambda path: write(tables, path, loaded), dest, loaded.path)
    else:
        _place_folder(lambda folder: write(tables, folder, loaded), dest)
    rows = {name: len(found) for name, (_, found) in tables.items()}
    return ExportResult(dest, fmt, rows, time.perf_counter() - started)


Writer = Callable[[Tables, Path, LoadedRun], None]


def _writer(fmt: str) -> Writer:
    if fmt == "sqlite":
        try:
            import sqlite_utils  # noqa: F401
        except ImportError:
            raise missing_extra("sqlite-utils", "export") from None
        return write_sqlite
    if fmt == "parquet":
        try:
            import pyarrow.parquet  # noqa: F401
        except ImportError:
            raise missing_extra("pyarrow", "export") from None
        return write_parquet
    return write_csv


# --------------------------------------------------------------------------- the three formats


def write_sqlite(tables: Tables, path: Path, run: LoadedRun | None = None) -> None:
    """One SQLite file: the tables with their primary keys, foreign keys to apps, an index on
    slug (the primary key of every child table starts with it), full-text indexes (FTS5) on summaries and notes; vacuumed, so the same tables give
    the same bytes. Lists are JSON arrays as text, booleans 0/1."""
    import sqlite_utils

    db = sqlite_utils.Database(path)
    try:
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        db.execute(f"PRAGMA user_version = {EXPORT_VERSION}")
        for spec, rows in tables.values():
            _sqlite_table(db, spec, rows)
        for name, columns in FULL_TEXT.items():
            db[name].enable_fts(columns)  # type: ignore[union-attr]
        db.vacuum()
    finally:
        db.close()


_SQL_TYPES: dict[ColumnType, type] = {"text": str, "int": int, "real": float, "bool": int, "list": str}


def _sqlite_table(db: Any, spec: TableSpec, rows: list[tuple[Any, ...]]) -> None:
    table = db.table(spec.name)
    table.create(
        {name: _SQL_TYPES[kind] for name, kind in spec.columns},
        pk=spec.pk[0] if len(spec.pk) == 1 else spec.pk,
        foreign_keys=[] if spec.name == "apps" else [("slug", "apps", "slug")],
        not_null=set(spec.pk) | ({"slug"} if spec.name != "documents" else set()),
    )
    kinds = [kind for _, kind in spec.columns]
    table.insert_all({n: _sql_value(v, k) for n, v, k in zip(spec.names, row, kinds, strict=True)} for row in rows)
    if spec.name == "documents":  # the other tables' primary keys start with slug: their index on it
        table.create_index(["slug"])
    if spec.name == "identity_providers":
        table.create_index(["idp"])


def _sql_value(value: Any, kind: ColumnType) -> Any:
    if value is None:
        return None
    if kind == "list":
        return json.dumps(value, ensure_ascii=False)
    return int(value) if kind == "bool" else value


def write_parquet(tables: Tables, folder: Path, run: LoadedRun | None = None) -> None:
    """One Parquet file per table (`<table>.parquet`), typed: lists as list<string>, booleans as
    bool, the primary key's columns not nullable; then the marker file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {"text": pa.string(), "int": pa.int64(), "real": pa.float64(), "bool": pa.bool_()}
    types["list"] = pa.list_(pa.string())
    for spec, rows in tables.values():
        schema = pa.schema([pa.field(n, types[k], nullable=n not in spec.pk) for n, k in spec.columns])
        arrays = [pa.array([row[i] for row in rows], type=f.type) for i, f in enumerate(schema)]
        pq.write_table(pa.Table.from_arrays(arrays, schema=schema), folder / f"{spec.name}.parquet")
    _write_marker(folder, "parquet", tables, run)


def write_csv(tables: Tables, folder: Path, run: LoadedRun | None = None) -> None:
    """One CSV file per table (`<table>.csv`, UTF-8, a header row, CRLF line ends as RFC 4180
    says, so a field holding a CR or LF is quoted): null is an
    empty field, booleans `true`/`false`, lists JSON arrays; then the marker file."""
    for spec, rows in tables.values():
        kinds = [kind for _, kind in spec.columns]
        with open(folder / f"{spec.name}.csv", "w", encoding="utf-8", newline="") as fh:
            out = csv.writer(fh)  # "\r\n": with "\n" alone, a bare CR in a field would go unquoted
            out.writerow(spec.names)
            out.writerows([_csv_value(v, k) for v, k in zip(row, kinds, strict=True)] for row in rows)
    _write_marker(folder, "csv", tables, run)


def _csv_value(value: Any, kind: ColumnType) -> Any:
    if value is None:
        return ""
    if kind == "list":
        return json.dumps(value, ensure_ascii=False)
    if kind == "bool":
        return "true" if value else "false"
    return value


def _write_marker(folder: Path, fmt: str, tables: Tables, run: LoadedRun | None) -> None:
    """What the folder is (no time in it: the same run gives the same bytes)."""
    manifest = run.manifest if run is not None else {}
    marker = {
        "tool": "guideparse",
        "export": fmt,
        "export_version": EXPORT_VERSION,
        "tables": {name: len(rows) for name, (_, rows) in tables.items()},
        "run": {k: manifest.get(k) for k in ("tool_version", "schema_version", "rules_digest")},
    }
    fsio.write_atomic(folder / MARKER, (json.dumps(marker, indent=2) + "\n").encode("utf-8"), direct=True)


# --------------------------------------------------------------------------- putting it in place


def _place_file(build: Callable[[Path], None], dest: Path, run: Path) -> None:
    """Build the file in a work folder beside `dest`, then rename it over `dest` (checked again
    just before: what is there must still be ours to replace)."""
    work = fsio.new_work_folder(dest)
    try:
        built = work / dest.name
        build(built)
        check_export_target(dest, "sqlite", run)
        for sidecar in ("-wal", "-shm", "-journal"):  # an earlier export's, left by a killed reader:
            with contextlib.suppress(FileNotFoundError):  # SQLite would apply them to the new file
                os.unlink(f"{dest}{sidecar}")
        os.replace(built, dest)
    finally:
        fsio.remove_path(work)


def _place_folder(build: Callable[[Path], None], dest: Path) -> None:
    """Build the folder beside `dest`, then exchange it with `dest` in one step."""
    work = fsio.new_work_folder(dest)
    try:
        build(work)
        fsio.swap_into_place(work, dest, replaceable=_replaceable_folder)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _replaceable_folder(path: Path) -> bool:
    try:
        return not os.listdir(path) or is_export_folder(path)
    except OSError:
        return False


def is_sqlite_export(path: Path) -> bool:
    """An SQLite file this module wrote: SQLite's header, our application id."""
    try:
        with open(path, "rb") as fh:
            header = fh.read(100)
    except OSError:
        return False
    return (
        header[:16] == _SQLITE_MAGIC and len(header) == 100 and int.from_bytes(header[68:72], "big") == APPLICATION_ID
    )


def is_export_folder(path: Path) -> bool:
    """A Parquet or CSV export folder this module wrote, holding nothing else: our marker and
    table files, all regular files."""
    try:
        names = os.listdir(path)
        marker = json.loads((path / MARKER).read_text(encoding="utf-8"))
        if not (isinstance(marker, dict) and marker.get("tool") == "guideparse" and "export" in marker):
            return False
        return all(
            (n == MARKER or _TABLE_FILE.fullmatch(n)) and stat.S_ISREG(os.lstat(path / n).st_mode) for n in names
        )
    except (OSError, ValueError):
        return False


def check_export_target(dest: Path, fmt: str, run: Path) -> None:
    """Refuse (GP910, nothing touched) an output whose replacement would destroy what is not
    an earlier export of ours, or that lies inside the run (which would stop being one)."""
    reason = _unsafe_reason(dest, fmt == "sqlite", run)
    if reason is not None:
        raise GuideparseError("GP910", f"refusing to write the export here: {reason}", path=str(dest))


def _unsafe_reason(dest: Path, one_file: bool, run: Path) -> str | None:
    real, real_run = os.path.realpath(dest), os.path.realpath(run)
    if fsio.holds(real_run, real) or fsio.holds(real, real_run):
        return "it is, holds or lies inside the run folder being exported"
    other = fsio.inside_a_run(dest if os.path.lexists(dest) else dest.parent)
    if other is not None:
        return f"it lies inside the run folder {other} (which would stop being one)"
    if not os.path.lexists(dest):
        above = next((p for p in dest.parents if os.path.lexists(p)), None)
        if above is not None and not above.is_dir():
            return f"{above} is not a folder"
        return None
    if dest.is_symlink():
        return "it is a symlink (name the file or folder itself)"
    return _file_reason(dest) if one_file else _folder_reason(dest)


def _file_reason(dest: Path) -> str | None:
    if not dest.is_file():
        return "it is not a regular file (an SQLite export is one file; pick a new path)"
    if dest.stat().st_size == 0 or is_sqlite_export(dest):
        return None
    return "the file is not an earlier guideparse export (pick a new path)"


def _folder_reason(dest: Path) -> str | None:
    if not dest.is_dir():
        return "it is not a folder (a parquet or csv export is a folder of files; pick a new path)"
    return fsio.foreign_folder_reason(dest, is_export_folder, "a guideparse export")
