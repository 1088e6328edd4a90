"""Build corpus variants for diff tests: whitespace/line-end noise, and planted edits."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

SCRIPT_APP = "<script>alert(1)</script>"


def noisy_copy(src: Path, dst: Path, seed: int = 7) -> None:
    """Same texts, other bytes: BOM, CRLF, doubled/trailing spaces, tabs and NBSPs, other file names."""
    rng = random.Random(seed)
    dst.mkdir(parents=True)
    for i, p in enumerate(sorted(src.glob("*.txt"))):
        text = p.read_text(encoding="utf-8")
        lines = []
        for line in text.split("\n"):
            words = line.split(" ")
            glue = [rng.choice([" ", "  ", "\t", "\u00a0", " \u00a0"]) for _ in words[1:]]
            line = words[0] + "".join(g + w for g, w in zip(glue, words[1:], strict=True))
            if line and rng.random() < 0.3:
                line += rng.choice(["  ", "\t", " \u00a0"])
            lines.append(line)
        data = ("\ufeff" if i % 2 == 0 else "") + "\r\n".join(lines)
        name = f"scrape-{i:03d}-{p.stem[::-1]}" + (".md" if i % 3 == 0 else ".txt")
        (dst / name).write_bytes(data.encode("utf-8"))


def _edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def planted_copy(src: Path, dst: Path) -> dict[str, list[tuple[str, str]]]:
    """A copy with five planted edits; returns slug -> [(path, kind)] expected, and app status."""
    shutil.copytree(src, dst)
    _edit(dst / "brex.flat.txt", "SSO required first?Yes", "SSO required first?No")  # a quick fact flipped
    _edit(dst / "004_c94222c4d3eb625f.txt", "Comprehensive DefenceCustom (contact sales)\n", "")  # one plan removed
    _edit(dst / "clay.flat.txt", "OktaNo SCIM available", "OktaNo SCIM available, even on Enterprise")  # an IdP note
    (dst / "emma.flat.txt").unlink()  # an app dropped
    added = (src / "000_2e1c3045778c876f.txt").read_text(encoding="utf-8").replace("Mailjet", SCRIPT_APP)
    (dst / "zz-new-app.txt").write_text(added, encoding="utf-8")  # an app added
    return {
        "brex": [("quick_facts.sso_required_first", "changed")],
        "mimecast": [("pricing[Tier comparison].plans[Comprehensive Defence]", "removed")],
        "clay": [("identity_providers[Okta].notes", "changed")],
        "emma": [("", "removed-app")],
        "script-alert-1-script": [("", "added-app")],
    }
