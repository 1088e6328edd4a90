"""Reviewing a new run against the baseline, app by app; the accepted apps become the baseline.

The walk asks a caller-supplied `ask` for each changed app, so the CLI prompts on a
terminal and tests (or other tools) answer from a list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from .diff import AppDiff, DiffReport, diff_catalogs
from .errors import GuideparseError
from .models import DocumentRecord, Manifest
from .run import utc_now, write_run
from .store import BASELINE, LATEST, LoadedRun, load_run, reviewed_documents

Answer = Literal["accept", "skip", "quit"]


@dataclass
class ReviewOutcome:
    """What a review did: the apps it offered, those accepted, and whether it wrote a baseline."""

    pending: int
    accepted: list[str]
    written: bool


def pending_changes(baseline: LoadedRun, latest: LoadedRun) -> tuple[DiffReport, list[AppDiff]]:
    report = diff_catalogs(baseline.catalog, latest.catalog, baseline.meta, latest.meta)
    return report, [a for a in report.apps if a.status != "unchanged"]


def review_changes(
    ask: Callable[[DiffReport, AppDiff, int, int], Answer],
    baseline_dir: Path = BASELINE,
    latest_dir: Path = LATEST,
) -> ReviewOutcome:
    """Offer each changed app to `ask` (the one-app report, its number, the count); write the
    new baseline from the accepted apps (latest's documents for them, the baseline's for the rest)."""
    base, latest = load_run(baseline_dir), load_run(latest_dir)
    report, pending = pending_changes(base, latest)
    accepted: list[str] = []
    for i, app_diff in enumerate(pending, 1):
        answer = ask(report.model_copy(update={"apps": [app_diff]}), app_diff, i, len(pending))
        if answer == "quit":
            break
        if answer == "accept":
            accepted.append(app_diff.slug)
    if accepted:
        write_reviewed_baseline(base, latest, set(accepted), baseline_dir)
    return ReviewOutcome(len(pending), accepted, bool(accepted))


def write_reviewed_baseline(base: LoadedRun, latest: LoadedRun, accepted: set[str], baseline_dir: Path) -> None:
    try:
        docs = [DocumentRecord.model_validate(d) for d in reviewed_documents(base, latest, accepted)]
    except ValidationError as exc:
        raise GuideparseError("GP908", f"a document does not follow the contract: {exc.errors()[0]['msg']}") from None
    m = base.manifest
    manifest = Manifest.model_validate(
        {
            **m,
            "finished_at": utc_now(),
            "counts": {**m.get("counts", {}), "apps": len({d.slug for d in docs})},
            "reviewed": {"from": str(latest.path), "accepted": sorted(accepted)},
        }
    )
    write_run(baseline_dir, docs, manifest)
