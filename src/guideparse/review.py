"""Reviewing a new run against the baseline, app by app; the accepted apps become the baseline.

The walk asks a caller-supplied `ask` for each changed app, so the CLI prompts on a
terminal and tests (or other tools) answer from a list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from .diff import AppDiff, DiffReport, diff_catalogs
from .errors import GuideparseError
from .family_models import load_document
from .models import Manifest
from .run import utc_now, write_run
from .store import BASELINE, LATEST, LoadedRun, accept_run, load_run, reviewed_documents

Answer = Literal["accept", "skip", "quit"]


@dataclass
class ReviewOutcome:
    """What a review did: the apps it offered, those accepted, and whether it wrote a baseline."""

    pending: int
    accepted: list[str]
    written: bool
    added: list[str] = field(default_factory=list)  # of the accepted: apps the baseline gains
    removed: list[str] = field(default_factory=list)  # apps it loses
    changed: list[str] = field(default_factory=list)  # apps it changes


def pending_changes(baseline: LoadedRun, latest: LoadedRun) -> tuple[DiffReport, list[AppDiff]]:
    report = diff_catalogs(baseline.catalog, latest.catalog, baseline.meta, latest.meta)
    return report, [a for a in report.apps if a.status != "unchanged"]


def review_changes(
    ask: Callable[[DiffReport, AppDiff, int, int], Answer],
    baseline_dir: Path = BASELINE,
    latest_dir: Path = LATEST,
    *,
    allow_failed: bool = False,
) -> ReviewOutcome:
    """Offer each changed app to `ask` (the one-app report, its number, the count); write the
    new baseline from the accepted apps (latest's documents for them, the baseline's for the rest)."""
    base, latest = load_run(baseline_dir), load_run(latest_dir)
    failed = failed_inputs(latest)
    if failed and not allow_failed:  # its apps would look removed: the baseline could lose them unawares
        n = len(failed)
        reason = f"{n} failed input{'s' * (n != 1)} ({_names(failed)}): --allow-failed"
        raise GuideparseError("GP913", f"not reviewed: {reason}", path=str(latest_dir))
    report, pending = pending_changes(base, latest)
    outcome = ReviewOutcome(len(pending), [], False)
    for i, app_diff in enumerate(pending, 1):
        answer = ask(report.model_copy(update={"apps": [app_diff]}), app_diff, i, len(pending))
        if answer == "quit":
            break
        if answer == "accept":
            outcome.accepted.append(app_diff.slug)
            getattr(outcome, app_diff.status).append(app_diff.slug)
    if outcome.accepted:
        write_reviewed_baseline(base, latest, set(outcome.accepted), baseline_dir)
        outcome.written = True
    return outcome


def write_reviewed_baseline(base: LoadedRun, latest: LoadedRun, accepted: set[str], baseline_dir: Path) -> None:
    try:
        docs = [load_document(d) for d in reviewed_documents(base, latest, accepted)]
    except ValidationError as exc:
        raise GuideparseError("GP908", f"a document does not follow the contract: {exc.errors()[0]['msg']}") from None
    m = base.manifest
    manifest = Manifest.model_validate(
        {
            **m,
            "finished_at": utc_now(),
            "counts": {**m.get("counts", {}), "apps": len({d.slug for d in docs})},
            "reviewed": {"from": str(latest.path), "accepted": sorted(accepted)},
            "summary": None,  # the counts of the run it was made from no longer hold
        }
    )
    write_run(baseline_dir, docs, manifest)


# --------------------------------------------------------------------------- accepting a whole run


@dataclass
class AcceptPlan:
    """What making a run the baseline would do: apps gained, lost and changed, and the run's failed inputs."""

    run: Path
    added: list[str]
    removed: list[str]
    changed: list[str]
    failed_inputs: list[str]
    has_baseline: bool

    def refusals(self, allow_failed: bool, allow_removals: bool) -> list[str]:
        """Why the plan needs consent (one phrase each); empty when it does not."""
        why = []
        if self.failed_inputs and not allow_failed:
            n = len(self.failed_inputs)
            why.append(f"{n} failed input{'s' * (n != 1)} ({_names(self.failed_inputs)}): --allow-failed")
        if self.removed and not allow_removals:
            n = len(self.removed)
            why.append(f"it drops {n} app{'s' * (n != 1)} from the baseline ({_names(self.removed)}): --allow-removals")
        return why


def baseline_change(added: list[str], removed: list[str], changed: list[str]) -> str:
    """What a baseline gains, loses and changes, in one phrase ("no change in content" if nothing)."""
    if not (added or removed or changed):
        return "no change in content"
    parts = []
    for what, apps in (("gains", added), ("loses", removed), ("changes", changed)):
        count = f"{len(apps)} app{'s' * (len(apps) != 1)}"
        parts.append(f"{what} {count}" + (f" ({_names(apps)})" if apps else ""))
    return "; ".join(parts)


def _names(items: list[str], shown: int = 5) -> str:
    more = len(items) - shown
    return ", ".join(items[:shown]) + (f" and {more} more" if more > 0 else "")


def failed_inputs(run: LoadedRun) -> list[str]:
    """The paths of a run's failed inputs, from its manifest."""
    inputs = run.manifest.get("inputs")
    items = inputs if isinstance(inputs, list) else []
    return [str(i.get("path", "?")) for i in items if isinstance(i, dict) and i.get("status") == "failed"]


def plan_accept(run_dir: Path, baseline_dir: Path = BASELINE) -> AcceptPlan:
    """Compare a run with the baseline (none yet: every app is gained)."""
    run = load_run(run_dir)
    failed = failed_inputs(run)
    if not baseline_dir.exists():
        return AcceptPlan(run_dir, sorted(run.catalog), [], [], failed, False)
    base = load_run(baseline_dir)
    report = diff_catalogs(base.catalog, run.catalog, base.meta, run.meta)
    by: dict[str, list[str]] = {"added": [], "removed": [], "changed": [], "unchanged": []}
    for app in report.apps:
        by[app.status].append(app.slug)
    return AcceptPlan(run_dir, by["added"], by["removed"], by["changed"], failed, True)


class AcceptRefused(GuideparseError):
    """accept would keep a run with failed inputs, or lose apps, without consent (GP913)."""

    def __init__(self, plan: AcceptPlan, reasons: list[str]) -> None:
        super().__init__("GP913", "not accepted: " + "; ".join(reasons), path=str(plan.run))
        self.plan = plan


def accept(
    run_dir: Path = LATEST,
    baseline_dir: Path = BASELINE,
    *,
    allow_failed: bool = False,
    allow_removals: bool = False,
    plan: AcceptPlan | None = None,
) -> AcceptPlan:
    """Make a run the baseline; refuses (AcceptRefused) a run with failed inputs or one that
    drops apps from the baseline unless allowed. Returns what it did."""
    plan = plan or plan_accept(run_dir, baseline_dir)
    reasons = plan.refusals(allow_failed, allow_removals)
    if reasons:
        raise AcceptRefused(plan, reasons)
    accept_run(run_dir, baseline_dir)
    return plan
