"""Stage 1 for HTML: bytes -> the same numbered lines the text readers give.

An HTML page is rendered to lines the way the text scrapes print it, so every
section parser is shared: headings, paragraphs and leaf blocks one line each,
blank lines between blocks (as in flat scrapes), list items as `- item`, table
rows as `| a | b |` with a separator after the header row, and an image's alt
text on its own line. Page chrome (rules/page.yaml `html`) is dropped before
reading, and icons become the glyphs of the ICON vocabulary (`lucide-check`
-> `✓`, an aria-label "Not supported" -> `❌`).

The page is parsed and cleared of chrome by html_tree (elements with their source
lines, icons as glyphs). Rendering walks that plain tree with a stack, never by
recursion, and reads each piece of text once (a table caption at most twice): a
row inside a cell of its own table (`<td><div><tr>`, which libxml2 nests) is read
as a row of its own, not again in every enclosing cell. So a page of any depth
renders in time linear in its size.
"""

from __future__ import annotations

import re

from .charsets import declared_charset
from .confusables import bidi_warning
from .html_tree import Node, Str, parse, plain_tree
from .reading import Line, Text, decode, fold_space
from .rules import Rules

HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
#: Elements that end a line of text.
BLOCK_TAGS = (
    frozenset(
        {
            "address",
            "article",
            "aside",
            "blockquote",
            "body",
            "caption",
            "dd",
            "details",
            "div",
            "dl",
            "dt",
            "fieldset",
            "figcaption",
            "figure",
            "header",
            "hr",
            "html",
            "li",
            "main",
            "ol",
            "p",
            "pre",
            "section",
            "summary",
            "table",
            "tbody",
            "td",
            "tfoot",
            "th",
            "thead",
            "tr",
            "ul",
            "img",
        }
    )
    | HEADINGS
)
ONE_LINE_TAGS = frozenset({"p", "dt", "dd", "figcaption", "caption", "summary", "pre", "blockquote"}) | HEADINGS
_END_OF_PAGE = re.compile(r"</(html|body)\s*>", re.IGNORECASE)


class _Lines:
    """Rendered lines with the source line each came from."""

    def __init__(self) -> None:
        self.items: list[tuple[str, int | None]] = []

    def add(self, text: str, src: int | None) -> None:
        text = fold_space(text)
        if text:
            self.items.append((text, src))

    def blank(self) -> None:
        if self.items and self.items[-1][0] != "":
            self.items.append(("", None))


def _mark_blocks(nodes: list[Node]) -> None:
    """Node.has_block for every node; `nodes` has each node after its parent."""
    for node in reversed(nodes):
        node.has_block = any(isinstance(k, Node) and (k.name in BLOCK_TAGS or k.has_block) for k in node.kids)


def _first(root: Node, name: str) -> Node | None:
    """The first element of a name, in document order."""
    todo = [root]
    while todo:
        node = todo.pop()
        if node.name == name:
            return node
        todo.extend(reversed([k for k in node.kids if isinstance(k, Node)]))
    return None


def _inline_text(node: Node, leave_out: frozenset[int] | set[int] = frozenset()) -> str:
    """All text below a node, in document order (a line break as a space), folded; elements
    whose id is in `leave_out` are left out with all below them."""
    parts = []
    todo = list(reversed(node.kids))
    while todo:
        item = todo.pop()
        if isinstance(item, Str):
            parts.append(item.text)
        elif id(item) not in leave_out:
            if item.name == "br":
                parts.append(" ")
            todo.extend(reversed(item.kids))
    return fold_space("".join(parts))


def _tags(node: Node) -> list[Node]:
    return [k for k in node.kids if isinstance(k, Node)]


def _loose_text(node: Node) -> bool:
    """Whether a node holds text of its own, outside its elements."""
    return any(isinstance(k, Str) and k.text.strip() for k in node.kids)


def _is_row(node: Node) -> bool:
    return node.row and not any(k.has_block for k in _tags(node))


def _is_pair(node: Node) -> bool:
    """A title/detail pair: two leaf blocks, no heading, no loose text."""
    kids = _tags(node)
    loose = _loose_text(node)
    return (
        len(kids) == 2
        and not loose
        and all(
            k.name in BLOCK_TAGS
            and k.name not in HEADINGS
            and k.name not in ("ul", "ol", "table", "img")
            and not k.has_block
            for k in kids
        )
    )


class _Renderer:
    def __init__(self) -> None:
        self.out = _Lines()

    def walk(self, start: Node) -> None:
        """Render a node and all below it: a stack of what is still to render (None: a blank
        line, due after a block's children)."""
        todo: list[Node | Str | None] = [start]
        while todo:
            item = todo.pop()
            if item is None:
                self.out.blank()
            elif isinstance(item, Str):
                if item.text.strip():
                    self.out.add(item.text, item.line)
            elif not self._unit(item):
                if item.name in BLOCK_TAGS:
                    todo.append(None)
                todo.extend(reversed(item.kids))

    def _unit(self, node: Node) -> bool:
        """Render a node read as a whole (a paragraph, list, table, row, leaf block, pair);
        False for one whose children are read one by one."""
        name = node.name
        if name in ("ul", "ol"):
            self._list(node)
            return True
        if name == "table":
            self._table(node)
            return True
        if name == "dl" and self._definitions(node):
            return True
        if name in ONE_LINE_TAGS:
            self.out.add(_inline_text(node), node.line)
        elif name == "img":
            self.out.add(node.alt or "", node.line)
        elif name == "hr":
            pass
        elif name not in BLOCK_TAGS:
            return False
        elif _is_row(node):
            cells = [_inline_text(k) if isinstance(k, Node) else fold_space(k.text) for k in node.kids]
            self.out.add(" ".join(c for c in cells if c), node.line)
        elif not node.has_block:
            self.out.add(_inline_text(node), node.line)
        elif _is_pair(node):
            for half in _tags(node):
                self.out.add(_inline_text(half), half.line)
        else:
            return False
        self.out.blank()
        return True

    def _list(self, node: Node) -> None:
        """`- item` lines; a list right inside an item follows that item's line."""
        todo: list[Node | None] = [node]
        while todo:
            item = todo.pop()
            if item is None:
                self.out.blank()
            elif item.name == "li":
                nested = [k for k in _tags(item) if k.name in ("ul", "ol")]
                self.out.add("- " + _inline_text(item, frozenset(map(id, nested))), item.line)
                todo.extend(reversed(nested))
            else:
                todo.append(None)
                todo.extend(reversed([k for k in _tags(item) if k.name == "li"]))

    def _definitions(self, node: Node) -> bool:
        """A definition list as label/value rows, `| term | definition |` (a two-column
        table, as readers of label rows take it); False when it holds anything but terms and
        definitions (directly or in `div` groups), which is then read block by block."""
        items: list[Node] = []
        for kid in _tags(node):
            group = _tags(kid) if kid.name == "div" else [kid]
            if any(k.name not in ("dt", "dd") for k in group) or (kid.name == "div" and _loose_text(kid)):
                return False
            items.extend(group)
        if _loose_text(node):  # text between the terms is no term, no definition: read as it is
            return False
        if not items or items[0].name != "dt":
            return False
        rows: list[tuple[Node, list[str]]] = []
        for item in items:
            text = _inline_text(item).replace("|", "\\|")
            if item.name == "dt":
                rows.append((item, [text]))
            else:
                rows[-1][1].append(text)
        for dt, cells in rows:
            self.out.add("| " + " | ".join(cells) + " |", dt.line)
        self.out.blank()
        return True

    def _table(self, node: Node) -> None:
        caption, rows = _caption_and_rows(node)
        if caption is not None:
            self.out.add(_inline_text(caption), caption.line)
        own_rows = set(map(id, rows))  # a row nested in a cell ends that cell's text
        for i, tr in enumerate(rows):
            cells = [k for k in _tags(tr) if k.name in ("th", "td")]
            if not cells:
                continue
            texts = [_inline_text(c, own_rows).replace("|", "\\|") for c in cells]
            self.out.add("| " + " | ".join(texts) + " |", tr.line)
            if i == 0 and (tr.in_thead or all(c.name == "th" for c in cells)):
                self.out.add("|" + "---|" * len(cells), tr.line)
        self.out.blank()


def _caption_and_rows(table: Node) -> tuple[Node | None, list[Node]]:
    """A table's first caption anywhere below it, and its own rows (not a nested table's)."""
    caption = None
    rows = []
    todo = [(k, False) for k in reversed(_tags(table))]
    while todo:
        node, nested = todo.pop()
        if node.name == "caption" and caption is None:
            caption = node
        if node.name == "tr" and not nested:
            rows.append(node)
        todo.extend((k, nested or node.name == "table") for k in reversed(_tags(node)))
    return caption, rows


def read_html(data: bytes, path: str, rules: Rules) -> Text:
    """Render an HTML page to numbered lines; `source_lines` maps each to its HTML source line."""
    raw, enc, cut, warns = decode(data, path, declared_charset(data))
    bidi = bidi_warning(raw, html=True)  # fold_space drops them from every rendered line
    warns = warns if bidi is None else [*warns, bidi]
    nodes = plain_tree(parse(raw), rules)
    _mark_blocks(nodes)
    renderer = _Renderer()
    renderer.walk(_first(nodes[0], "body") or nodes[0])
    items = renderer.out.items
    while items and items[-1][0] == "":
        items.pop()
    lines = [Line(i, text) for i, (text, _src) in enumerate(items, 1)]
    source_lines: dict[int, int] = {}
    last_src = 1
    for i, (_text, src) in enumerate(items, 1):
        last_src = src if src is not None else last_src
        source_lines[i] = last_src
    complete = bool(_END_OF_PAGE.search(raw[-4096:]))
    return Text(
        lines=lines,
        encoding=enc,
        final_newline=complete,
        cut_mid_char=cut,
        warnings=warns,
        source_lines=source_lines or None,
    )
