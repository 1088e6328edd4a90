"""Property tests of the families' generic readers: a joined row is split without losing or
inventing text, label rows read the same in every rendering, and recognition follows the
evidence."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guideparse.family_readers import label_row, split_joined
from guideparse.rules import load_rules
from guideparse.rules_families import LabelRule

RULES = load_rules()
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ROLES = next(f for f in RULES.families.families["manual"].fields if f.name == "roles")
ROLE_COLS = ROLES.columns

WORDS = st.sampled_from(
    [
        "Admin",
        "Member",
        "Can",
        "Cannot",
        "manage",
        "users.",
        "All plans",
        "Enterprise",
        "Free",
        "Counts as a full billable seat",
        "May not",
        "edit",
        "billing.",
        "Full",
        "Only",
        "e.g.",
        "the",
        "Standard User",
        "Watch",
        "out.",
    ]
)


@SETTINGS
@given(st.lists(WORDS, min_size=1, max_size=14))
def test_a_split_row_is_its_text(words):
    """Whatever a joined row holds, a split keeps every character in column order: the cells
    joined by single spaces are the row; a row it cannot split is None, never a guess."""
    text = " ".join(words)
    row = split_joined(text, ROLE_COLS)
    if row is None:
        return
    cells = [row[c.key] for c in ROLE_COLS if row[c.key] is not None]
    assert " ".join(cells) == text
    assert row["role"] is not None and row["permissions"] is not None


@SETTINGS
@given(
    st.sampled_from([lr for f in RULES.families.families["api"].fields for lr in f.labels]),
    st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=40).map(str.strip).filter(bool),
)
def test_label_rows_read_alike_in_every_rendering(rule: LabelRule, value: str):
    """'Label: value', '• Label: value' (bullet stripped by the reader's caller), pipe rows and
    glued rows give the same label and value."""
    labels = [lr for f in RULES.families.families["api"].fields for lr in f.labels]
    same = [lr for lr in labels if lr.label == rule.label]
    colon = label_row(f"{rule.label}: {value}", same, glued=True)
    assert colon is not None and colon[1].strip() == value
    if "|" not in value:
        pipe = label_row(f"| {rule.label} | {value} |", same, glued=False)
        assert pipe is not None and pipe[1] == value
    if value[0] not in " :":
        glued = label_row(f"{rule.label}{value}", same, glued=True)
        assert glued is not None and glued[0].key == rule.key and glued[1] == value


@SETTINGS
@given(st.sampled_from(["api", "manual", "scim"]), st.sampled_from(["Acme", "Zoho Workplace", "Bill.com"]))
def test_a_title_is_its_family(family, app):
    """A page whose one piece of evidence is its family's title is that family, with its app."""
    from guideparse.record import extract_document

    title = RULES.families.families[family].title[0].pattern.replace("{app}", app)
    doc = extract_document(
        f"{title}\n\nSummary and recommendation\n\nText.\n\nSee how it works\n".encode(), "p.txt", RULES
    )
    assert (doc.family, doc.app) == (family, app)


FAMILY_PAGES = sorted((Path(__file__).resolve().parent / "fixtures" / "families").glob("*.txt"))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(FAMILY_PAGES), st.data())
def test_mutated_family_page_gives_record_or_coded_error(path, data):
    """Lines of a family page dropped, repeated or swapped: a record of a known family whose every
    value has provenance, or a coded InputError; never a traceback."""
    from guideparse.errors import InputError
    from guideparse.paths import iter_leaves
    from guideparse.record import extract_document

    lines = path.read_text(encoding="utf-8").split("\n")
    for _ in range(data.draw(st.integers(0, 6))):
        i = data.draw(st.integers(0, len(lines) - 1))
        op = data.draw(st.sampled_from(["drop", "repeat", "swap"]))
        if op == "drop" and len(lines) > 1:
            del lines[i]
        elif op == "repeat":
            lines.insert(i, lines[i])
        else:
            j = data.draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
    try:
        doc = extract_document("\n".join(lines).encode(), "p.txt", RULES)
    except InputError as exc:
        assert exc.code in ("GP901", "GP903", "GP914", "GP915"), exc.code
        return
    assert doc.family in RULES.families.families
    record = doc.model_dump(mode="json")
    # as for SCIM pages (test_properties): an empty list of an absent section has no line to point at
    missing = [p for p, v in iter_leaves(record) if p not in doc.provenance and v != [] and not p.startswith("source")]
    assert missing == []
