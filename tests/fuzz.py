"""Fuzz target: any bytes in, a record or a clean InputError out, never an exception.

    .venv/bin/python tests/fuzz.py [--cases 10000] [--seed N]

Inputs are random bytes, random guide-flavoured text, and corpus pages (text and
HTML) mutated: lines dropped, duplicated, shuffled, bytes flipped, cut anywhere.
Each result must serialise and have a well-formed slug. The test suite runs the
same target with a few hundred cases (tests/test_properties.py); this script is
the long run. Exit status 0 when every case passed.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))

from guide_pieces import GUIDE_PIECES, MARKUP_PIECES  # noqa: E402
from guideparse.errors import InputError  # noqa: E402
from guideparse.record import extract_document  # noqa: E402
from guideparse.rules import load_rules  # noqa: E402

RULES = load_rules(ROOT / "rules")
PAGES = [p.read_bytes() for p in sorted((ROOT / "raw").glob("*.txt"))[:40]] + [
    p.read_bytes() for p in sorted((HERE / "fixtures" / "html").glob("*.html"))
]

_PIECES = GUIDE_PIECES + MARKUP_PIECES
GUIDE_TEXT = st.lists(st.sampled_from(_PIECES), max_size=120).map("".join)


@st.composite
def mutated_page(draw) -> bytes:
    """A real page with its lines dropped, duplicated, shuffled, a byte flipped, or cut."""
    lines = draw(st.sampled_from(PAGES)).split(b"\n")
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.sampled_from(["drop", "dup", "swap", "flip", "insert"]))
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        if op == "drop":
            del lines[i]
        elif op == "dup":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "flip" and lines[i]:
            k = draw(st.integers(0, len(lines[i]) - 1))
            lines[i] = lines[i][:k] + bytes([draw(st.integers(0, 255))]) + lines[i][k + 1 :]
        else:
            lines.insert(i, draw(GUIDE_TEXT).encode("utf-8"))
    data = b"\n".join(lines)
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return data


INPUTS = st.one_of(
    st.binary(max_size=2000),
    GUIDE_TEXT.map(lambda t: t.encode("utf-8")),
    st.text(max_size=600).map(lambda t: t.encode("utf-8")),
    mutated_page(),
)


def check(data: bytes) -> str:
    """One case: 'ok' or the InputError code; anything else raises."""
    try:
        doc = extract_document(data, "fuzz.txt", RULES)
    except InputError as exc:
        assert exc.code.startswith(("GP9", "GP3")), exc.code
        return exc.code
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", doc.slug), doc.slug
    doc.model_dump_json()
    return "ok"


def run(cases: int, seed: int | None = None) -> dict[str, int]:
    """Run `cases` generated inputs through the extractor; returns outcome counts."""
    outcomes: dict[str, int] = {}

    @settings(max_examples=cases, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(INPUTS)
    def target(data: bytes) -> None:
        code = check(data)
        outcomes[code] = outcomes.get(code, 0) + 1

    if seed is not None:
        target = hypothesis_seed(seed)(target)
    target()
    return outcomes


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()
    t0 = time.perf_counter()
    outcomes = run(args.cases, args.seed)
    total = sum(outcomes.values())
    print(
        f"{total} cases in {time.perf_counter() - t0:.0f}s, no exception: "
        + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
    )
    return 0 if total >= args.cases else 1


if __name__ == "__main__":
    sys.exit(main())
