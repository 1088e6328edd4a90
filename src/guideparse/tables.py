"""The shared table reader: pipe rows, glued rows, label/value rows.

Every table section goes through here, configured by rules/tables.yaml and the
vocabularies; no section parser writes its own splitting loop.

Flat scrapes glue a row's cells together and lose icon cells
(`Google WorkspaceJIT onlySAML SSO with …`). A glued row is split left to
right: a key cell by its vocabulary (longest first) or, failing that, where the
next column can start; an enumerated cell by the CELL vocabulary; a text cell
runs until a `starts` pattern of a later column. A vocabulary term only counts
where it is glued to what follows (no space after it) or ends the row, which is
what distinguishes the cell `Limited` from notes that begin "Limited SSO …".
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import NamedTuple

from .confusables import glued_lookalike
from .line_ends import NOT_TABLE_TITLE_END
from .models import Warn
from .reading import Line
from .rules import CellTerm, Column, Rules, Start
from .segment import is_pipe_row

_SEPARATOR_ROW = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?$")
_HEADING_LIKE_MAX = 120


@dataclass
class Row:
    line: Line
    cells: dict[str, str | None]  # role -> cell text (None: absent or lost)
    rules: dict[str, str]  # role -> rule id that produced the cell
    warnings: list[Warn] = field(default_factory=list)


@dataclass
class Table:
    kind: str
    columns: list[Column]  # as the header names them, in order
    header: Line
    title: Line | None
    rows: list[Row]
    pipe: bool

    def has(self, role: str) -> bool:
        return any(c.role == role for c in self.columns)

    @property
    def last_line(self) -> int:
        return self.rows[-1].line.no if self.rows else self.header.no


# --------------------------------------------------------------------------- pipe rows

_UNESCAPED_BAR = re.compile(r"(?<!\\)\|")


def split_pipe_row(text: str, *, fold: bool = True) -> list[str]:
    """`| a | b | |` -> ['a', 'b', '']; `\\|` is a literal bar inside a cell. `fold`: runs of
    whitespace in a cell become one space (else a cell is only stripped, as printed)."""
    body = text.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|") and not body.endswith("\\|"):
        body = body[:-1]
    cells = _UNESCAPED_BAR.split(body) if "\\|" in body else body.split("|")
    if "\\|" in body:
        cells = [c.replace("\\|", "|") for c in cells]
    return [" ".join(c.split()) if fold else c.strip() for c in cells]


def is_separator_row(text: str) -> bool:
    return bool(_SEPARATOR_ROW.match(text))


# --------------------------------------------------------------------------- headers

_HEADER_CACHE: dict[tuple[int, str, tuple[str, ...] | None], tuple[str, list[Column]] | None] = {}
_HEADER_CACHE_MAX = 50_000


def match_header(text: str, rules: Rules, kinds: tuple[str, ...] | None = None) -> tuple[str, list[Column]] | None:
    """Recognise a table header row (pipe or glued); return (kind, columns in order).

    Several parsers ask about the same lines; answers are kept in a bounded cache."""
    if len(text) > 200:
        return None
    key = (id(rules), text, kinds)
    if key in _HEADER_CACHE:
        return _HEADER_CACHE[key]
    if len(_HEADER_CACHE) >= _HEADER_CACHE_MAX:
        _HEADER_CACHE.clear()
    _HEADER_CACHE[key] = hit = _match_header(text, rules, kinds)
    return hit


def _match_header(text: str, rules: Rules, kinds: tuple[str, ...] | None) -> tuple[str, list[Column]] | None:
    pipe = is_pipe_row(text)
    head = (text[1:].lstrip() if pipe else text).casefold()
    if not head.startswith(rules.header_starts):
        return None
    for kind, spec in rules.tables_file.tables.items():
        if kinds is not None and kind not in kinds:
            continue
        index = rules.header_index[kind]
        cols = _pipe_header(text, index) if pipe else _glued_header(text.casefold(), index)
        if cols is None:
            continue
        roles = [c.role for c in cols]
        if len(set(roles)) != len(roles):
            continue
        if all(c.role in roles for c in spec.columns if c.required):
            return kind, cols
    return None


def _pipe_header(text: str, index: list[tuple[str, Column]]) -> list[Column] | None:
    names = dict(index)
    cells = split_pipe_row(text)
    cols = [col for c in cells if (col := names.get(c.casefold())) is not None]
    if not cells or len(cols) != len(cells):
        return None  # no cells, or a cell that names no column
    return cols


def _glued_header(text: str, index: list[tuple[str, Column]]) -> list[Column] | None:
    """`idpssoscimnotes` -> [idp, sso, scim, notes] by greedy longest match with backtracking."""
    if not text or len(text) > 80:
        return None
    return _glued_columns(text, 0, index)


def _glued_columns(text: str, pos: int, index: list[tuple[str, Column]]) -> list[Column] | None:
    """The columns that spell text[pos:], or None. (Not a nested function: compiled, a closure
    and its environment form a cycle, garbage only the cyclic collector frees.)"""
    if pos == len(text):
        return []
    for name, col in index:
        if text.startswith(name, pos):
            rest = _glued_columns(text, pos + len(name), index)
            if rest is not None:
                return [col] + rest
    return None


# --------------------------------------------------------------------------- glued rows


def _glued_term(text: str, pos: int, terms: list[tuple[str, str]]) -> tuple[str, str] | None:
    """Longest vocabulary term at `pos` that is glued to what follows or ends the row."""
    for term, rid in terms:
        end = pos + len(term)
        if text.startswith(term, pos) and (end == len(text) or not text[end].isspace()):
            return term, rid
    return None


def _is_glue(text: str, q: int) -> bool:
    """Position q touches the previous character with no space: a cell boundary."""
    return q > 0 and not text[q - 1].isspace() and text[q - 1] not in "/(-&"


def _cell_terms(rules: Rules, role: str | None = None) -> list[tuple[str, str]]:
    if role is None:
        return rules.cell_terms
    return rules.cell_terms_by_column.get(role, [])


def _next_start(text: str, frm: int, later: list[Column], rules: Rules) -> tuple[int, str] | None:
    """Earliest position >= frm where one of the later columns can begin."""
    best: tuple[int, str] | None = None
    fallback: str | None = None
    for col in later:
        if col.kind == "cell":
            terms = _cell_terms(rules, col.role)
            # Only where some term occurs can one start: one regex scan finds those places.
            for q in _term_positions(text, max(frm, 1), rules, f"CELL:{col.role}" if col.role else "CELL"):
                if best is not None and q >= best[0]:
                    break
                if _is_glue(text, q):
                    hit = _glued_term(text, q, terms)
                    if hit:
                        best = (q, hit[1])
                        break
        elif col.kind in ("text", "key") and col.starts:
            for st in rules.starts[col.starts]:
                if st.case_change:
                    fallback = fallback or st.id
                    continue
                for q in _start_positions(text, max(frm, 1), st, rules):
                    if best is not None and q >= best[0]:
                        break
                    if not st.glued or _is_glue(text, q):
                        best = (q, st.id)
                        break
        if col.kind in ("text", "key"):
            break  # a free-text column hides every column after it
    if best is None and fallback is not None:
        cut = _camel_guess(text[frm:])
        if cut is not None:
            best = (frm + cut, fallback)
    return best


def _start_positions(text: str, frm: int, st: Start, rules: Rules) -> Iterator[int]:
    """Positions where a start pattern (regex or vocabulary) matches, in order, but not
    just after one of its `not_after` characters."""
    if st.regex is not None:
        found: Iterator[int] = (m.start() for m in st.regex.finditer(text, frm))
    else:
        found = _term_positions(text, frm, rules, f"START:{st.vocabulary}")
    if not st.not_after:
        return found
    return (q for q in found if q == 0 or text[q - 1] not in st.not_after)


def _term_positions(text: str, frm: int, rules: Rules, key: str) -> Iterator[int]:
    """Positions >= frm where a term of the list `key` (Rules.term_finders) begins, in order."""
    finder = rules.term_finders.get(key)
    return iter(()) if finder is None else (m.start() for m in finder.finditer(text, frm))


_CAMEL = re.compile(r"(?<=[a-z0-9)])(?=[A-Z])")


def _camel_guess(text: str) -> int | None:
    """Split `JumpCloudSupported` / `Ping IdentitySSO only` at the last case change of the
    first word that has one. Only used, with a warning, for names not in the vocabulary."""
    pos = 0
    for word in text.split(" "):
        cuts = [m.start() for m in _CAMEL.finditer(word)]
        if cuts:
            return pos + cuts[-1]
        pos += len(word) + 1
    return None


class _Piece(NamedTuple):
    """What one column takes from a glued row, read from `pos` on."""

    cells: Mapping[str, str | None]  # role -> text (None: lost); a column may settle later ones too
    rules: Mapping[str, str]  # role -> rule id that cut the cell
    end: int  # where the next column starts reading
    warning: Warn | None = None


def _icon_piece(line: Line, pos: int, col: Column, later: list[Column], rules: Rules) -> _Piece:
    """Icons do not survive a flat scrape: the cell is lost and takes no text."""
    return _Piece({col.role: None}, {}, pos)


def _key_piece(line: Line, pos: int, col: Column, later: list[Column], rules: Rules) -> _Piece:
    """A key cell (IdP, plan, situation, …): a vocabulary name glued to what follows (or a
    look-alike of one), else the text up to where a later column can start (_key_end)."""
    hit = _glued_term(line.text, pos, rules.idps) if col.vocabulary == "IDP" else None
    if hit:
        return _Piece({col.role: hit[0]}, {col.role: hit[1]}, pos + len(hit[0]))
    if col.vocabulary == "IDP" and not line.text.isascii():
        # A name that imitates a known one (`Оkta` in Cyrillic) ends where that name would;
        # the section parser flags it (GP108).
        look = glued_lookalike(line.text, pos, rules.idps, rules)
        if look:
            return _Piece({col.role: look[0]}, {col.role: "split:lookalike"}, pos + len(look[0]))
    end, rid, warning = _key_end(line, pos, col, later, rules)
    return _Piece({col.role: line.text[pos:end].strip()}, {col.role: rid}, end, warning)


def _key_end(line: Line, pos: int, col: Column, later: list[Column], rules: Rules) -> tuple[int, str, Warn | None]:
    """Where a key cell not in its vocabulary ends, the rule that says so, and a warning when
    guessed: before a later column's start; failing that, when free text follows, at a case
    change (a name the vocabulary lacks, GP103); else at the end of the row."""
    text = line.text
    nxt = _next_start(text, pos + 1, later, rules)
    if nxt is not None:
        return nxt[0], f"split:{nxt[1]}", None
    if col.vocabulary and any(c.kind == "text" for c in later):
        guess = _camel_guess(text[pos:])
        end = pos + guess if guess else len(text)
        return (
            end,
            "split:camel-case-guess",
            Warn(
                code="GP103",
                line=line.no,
                message=f"{col.vocabulary} name {text[pos:end]!r} is not in rules/vocabulary.jsonl; split guessed at a case change",
            ),
        )
    return len(text), "split:whole-row", None


def _cell_piece(line: Line, pos: int, col: Column, later: list[Column], rules: Rules) -> _Piece:
    """An enumerated cell: a CELL term glued to what follows. No term, or a term only a later
    column takes, means this cell's icon was lost. A term this and a later column both take,
    with no term after it, could be either's: all of them are left unknown (GP102)."""
    text = line.text
    hit = _glued_term(text, pos, _cell_terms(rules))
    takers = rules.cells[hit[0].casefold()].columns if hit else ()
    if hit is None or col.role not in takers:
        return _Piece({col.role: None}, {}, pos)
    end = pos + len(hit[0])
    rivals = [c for c in later if c.kind == "cell" and c.role in takers]
    if rivals and _glued_term(text, end, _cell_terms(rules)) is None:
        warning = Warn(
            code="GP102",
            line=line.no,
            message=f"cell value {hit[0]!r} may belong to column {col.role!r} or {rivals[0].role!r}; left unknown",
        )
        return _Piece({col.role: None} | {c.role: None for c in rivals}, {}, end, warning)
    return _Piece({col.role: hit[0]}, {col.role: hit[1]}, end)


def _text_piece(line: Line, pos: int, col: Column, later: list[Column], rules: Rules) -> _Piece:
    """A free-text cell (notes): up to where a later column other than an icon can start
    (icons are lost, they start nowhere), else to the end of the row."""
    text = line.text
    rest = [c for c in later if c.kind != "icon"]
    nxt = _next_start(text, pos + 1, rest, rules) if rest else None
    end = nxt[0] if nxt else len(text)
    return _Piece({col.role: text[pos:end].strip() or None}, {col.role: "glued:text"}, end)


#: Column kind -> how a column of that kind takes its cell from a glued row.
_PIECE_READERS: dict[str, Callable[[Line, int, Column, list[Column], Rules], _Piece]] = {
    "icon": _icon_piece,
    "key": _key_piece,
    "cell": _cell_piece,
    "text": _text_piece,
}


def split_glued_row(line: Line, columns: list[Column], rules: Rules) -> Row:
    """Split one glued (flat) row into cells, column by column, left to right."""
    row = Row(line, {}, {})
    pos = 0
    for i, col in enumerate(columns):
        if pos >= len(line.text):
            row.cells[col.role] = None  # the row ended before this column
            continue
        piece = _PIECE_READERS[col.kind](line, pos, col, columns[i + 1 :], rules)
        row.cells.update(piece.cells)
        row.rules.update(piece.rules)
        if piece.warning is not None:
            row.warnings.append(piece.warning)
        pos = piece.end
    return row


def pipe_row(line: Line, columns: list[Column]) -> Row:
    """Map a `| a | b |` row onto the header's columns; missing cells are None."""
    values = split_pipe_row(line.text)
    cells: dict[str, str | None] = {}
    rids: dict[str, str] = {}
    for i, col in enumerate(columns):
        v = values[i] if i < len(values) else None
        cells[col.role] = v if v else None
        if v:
            rids[col.role] = "pipe:cell"
    warns = []
    if len(values) > len(columns) and any(values[len(columns) :]):
        warns.append(
            Warn(
                code="GP104",
                line=line.no,
                message=f"row has {len(values)} cells for {len(columns)} columns; extra cells ignored",
            )
        )
    return Row(line, cells, rids, warns)


# --------------------------------------------------------------------------- tables in a block


def _title_before(lines: list[Line], idx: int) -> Line | None:
    """The heading-like line just before a table header (blank lines skipped)."""
    j = idx - 1
    while j >= 0 and not lines[j].text:
        j -= 1
    if j < 0:
        return None
    t = lines[j].text
    if is_pipe_row(t) or len(t) > _HEADING_LIKE_MAX or t.endswith(NOT_TABLE_TITLE_END):
        return None
    return lines[j]


def header_candidates(lines: Iterable[Line], rules: Rules) -> frozenset[int]:
    """Numbers of the lines that open with a table header name (after a pipe or not): the
    only lines match_header can accept. One pass per page spares every table search the rest."""
    starts = rules.header_starts
    k = min(map(len, starts), default=0)
    heads = {s[:k] for s in starts}  # a set lookup turns most lines away before startswith
    out = []
    for ln in lines:
        t = ln.text
        if not t:
            continue
        if t[0] == "|":
            t = t[1:].lstrip()
        # casefold(t[:k]) is a prefix of casefold(t) at least k long: a safe first test
        if t[:k].casefold()[:k] in heads and t[:60].casefold().startswith(starts):
            out.append(ln.no)
    return frozenset(out)


def read_tables(
    lines: list[Line], rules: Rules, kinds: tuple[str, ...] | None = None, heads: AbstractSet[int] | None = None
) -> list[Table]:
    """Find every table of the given kinds in a block of lines, with their rows.

    `heads`, when given, holds (at least) the numbers of the lines that can be headers
    (header_candidates); other lines are not asked."""
    tables: list[Table] = []
    i = 0  # lines before i belong to tables already read
    if heads is None:
        starts = [n for n, ln in enumerate(lines) if ln.text]
    elif not lines or heads.isdisjoint(range(lines[0].no, lines[-1].no + 1)):
        return tables  # lines are in page order: no candidate header among them
    else:
        starts = [n for n, ln in enumerate(lines) if ln.no in heads]
    for h in starts:
        if h < i:
            continue
        ln = lines[h]
        hit = match_header(ln.text, rules, kinds)
        if hit is None:
            continue
        i = h
        kind, cols = hit
        pipe = is_pipe_row(ln.text)
        table = Table(kind, cols, ln, _title_before(lines, i), [], pipe)
        i += 1
        while i < len(lines):
            t = lines[i].text
            if pipe:
                if not is_pipe_row(t):
                    break
                if not is_separator_row(t):
                    if match_header(t, rules, kinds):
                        break
                    table.rows.append(pipe_row(lines[i], cols))
            else:
                if not t or rules.match_heading(t) or match_header(t, rules, kinds):
                    break
                table.rows.append(split_glued_row(lines[i], cols, rules))
            i += 1
        tables.append(table)
    return tables


# --------------------------------------------------------------------------- label/value rows


@dataclass
class LabelRow:
    field: str
    label: str
    value: str
    line: Line
    rule: str


Labels = tuple[tuple[str, str], ...]  # (printed label, field), as a rules file lists them


@dataclass(frozen=True)
class _LabelIndex:
    """A label list prepared for read_label_rows: folded labels whole (pipe cells), and by
    first character, longest first (glued rows: the longest label a line opens with wins)."""

    exact: dict[str, tuple[str, str]]
    by_first: dict[str, list[tuple[str, str, str]]]  # folded first character -> (label, folded, field)


@functools.lru_cache(maxsize=256)
def _label_index(labels: Labels) -> _LabelIndex:
    """Prepared once per label list (label lists come from the rules: a handful per process)."""
    ordered = sorted(((lab, lab.casefold(), f) for lab, f in labels), key=lambda t: -len(t[0]))
    exact: dict[str, tuple[str, str]] = {}
    by_first: dict[str, list[tuple[str, str, str]]] = {}
    for lab, folded, f in ordered:
        exact.setdefault(folded, (lab, f))
        by_first.setdefault(folded[:1], []).append((lab, folded, f))
    return _LabelIndex(exact, by_first)


def read_label_rows(lines: list[Line], labels: Labels) -> tuple[list[LabelRow], list[Line]]:
    """Read `Label Value` (glued) or `| Label | Value |` rows.

    `labels` is ((printed label, field), ...); returns matched rows and the lines no
    label matched (for the caller to report or use).
    """
    index = _label_index(labels)
    rows: list[LabelRow] = []
    rest: list[Line] = []
    for ln in lines:
        t = ln.text
        if not t:
            continue
        if is_pipe_row(t):
            if is_separator_row(t):
                continue
            cells = split_pipe_row(t)
            found = index.exact.get(cells[0].casefold()) if cells else None
            if found:
                rows.append(LabelRow(found[1], cells[0], " ".join(c for c in cells[1:] if c), ln, "pipe:label"))
                continue
        else:
            low = t.casefold()
            glued = next((lf for lf in index.by_first.get(low[:1], ()) if low.startswith(lf[1])), None)
            if glued:
                lab = glued[0]
                rows.append(LabelRow(glued[2], t[: len(lab)], t[len(lab) :].strip(), ln, "glued:label"))
                continue
        rest.append(ln)
    return rows, rest


def icon_value(text: str | None, rules: Rules, kind: str | None = None) -> tuple[str, str] | None:
    """'✓' -> ('yes', rule id); None when the text is not an icon (in this kind of table)."""
    if text is None:
        return None
    t = text.strip()
    hit = rules.icons.get(t)
    if hit is None or (kind is not None and t in rules.icon_tables and kind not in rules.icon_tables[t]):
        return None
    return hit


def cell_term(text: str, rules: Rules) -> CellTerm | None:
    return rules.cells.get(" ".join(text.split()).casefold())
