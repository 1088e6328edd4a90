"""Stage 1 for HTML: bytes -> the same numbered lines the text readers give.

An HTML page is rendered to lines the way the text scrapes print it, so every
section parser is shared: headings, paragraphs and leaf blocks one line each,
blank lines between blocks (as in flat scrapes), list items as `- item`, table
rows as `| a | b |` with a separator after the header row, and an image's alt
text on its own line. Page chrome (rules/page.yaml `html`) is dropped before
reading, and icons become the glyphs of the ICON vocabulary (`lucide-check`
-> `✓`, an aria-label "Not supported" -> `❌`).

Parsing is beautifulsoup4 on lxml. BeautifulSoup's lxml builder keeps no source
positions, so each line's source line comes from lxml's own parse of the same
bytes (the same libxml2 tree, element for element; checked by tag sequence).
"""

from __future__ import annotations

import re
import warnings

from bs4 import BeautifulSoup, Comment, NavigableString, Tag
from bs4.element import CData, Declaration, Doctype, PageElement, ProcessingInstruction

from .confusables import bidi_warning
from .models import Warn
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
_SKIP_STRINGS = (Comment, CData, Declaration, Doctype, ProcessingInstruction)
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


class _Glyph(NavigableString):
    """An icon's glyph put in the icon element's place, with that element's source line.

    (bs4's get_text skips string subclasses; the glyphs are text for this reader only.)"""

    sourceline: int | None = None


def _line_of(node: PageElement | None) -> int | None:
    """A node's source line: its own (Tag.sourceline, which bs4's lxml builder leaves
    unset and _attach_source_lines fills), else its nearest ancestor's."""
    while node is not None:
        line = node.sourceline if isinstance(node, (Tag, _Glyph)) else None
        if line is not None:
            return line
        node = node.parent
    return None


def _text_attribute(tag: Tag, name: str) -> str | None:
    """A text attribute's value (aria-label, title, alt); bs4 gives lists only for
    multi-valued attributes such as class."""
    value = tag.get(name)
    return value if isinstance(value, str) else None


def _attach_source_lines(soup: BeautifulSoup, raw: str) -> bool:
    """Copy lxml's element source lines onto the soup's tags (Tag.sourceline); False when the trees differ."""
    import lxml.html

    try:
        root = lxml.html.document_fromstring(raw.encode("utf-8"), parser=lxml.html.HTMLParser(encoding="utf-8"))
    except Exception:  # lxml.etree.ParserError on documents with no elements
        return False
    lx = [el for el in root.iter() if isinstance(el.tag, str)]
    bs = soup.find_all(True)
    if [el.tag.lower() for el in lx] != [t.name for t in bs]:
        return False
    for t, el in zip(bs, lx, strict=True):
        t.sourceline = el.sourceline
    return True


def _replace_icons(soup: BeautifulSoup, rules: Rules) -> None:
    """Icon elements -> glyph text, before chrome removal (icons are often aria-hidden)."""
    html = rules.page.html
    by_class = {c: icon.text for icon in html.icons for c in icon.classes}
    by_label = {lab.casefold(): entry.text for entry in html.icon_labels for lab in entry.labels}
    for tag in soup.find_all(True):
        if tag.parent is None or tag.decomposed:
            continue
        glyph = next((by_class[c] for c in tag.get("class") or [] if c in by_class), None)
        label = (
            _text_attribute(tag, "aria-label")
            or _text_attribute(tag, "title")
            or (_text_attribute(tag, "alt") if tag.name == "img" else None)
        )
        if glyph is None and label and not tag.get_text(strip=True) and tag.name in ("svg", "i", "span", "img", "em"):
            glyph = by_label.get(label.strip().casefold(), label.strip())
        if glyph is None:
            continue
        text = _Glyph(f" {glyph} ")
        text.sourceline = _line_of(tag)
        tag.replace_with(text)


def _drop_chrome(soup: BeautifulSoup, rules: Rules) -> None:
    html = rules.page.html
    for tag in soup.find_all(list(html.chrome_tags)):
        tag.decompose()
    for sel in html.chrome_selectors:
        for tag in soup.select(sel):
            tag.decompose()
    for node in soup.find_all(string=lambda s: isinstance(s, _SKIP_STRINGS)):
        node.extract()
    for svg in soup.find_all("svg"):
        svg.decompose()  # icons were replaced already; other SVG is drawing, not text


def _is_leaf(tag: Tag) -> bool:
    return not any(isinstance(d, Tag) and d.name in BLOCK_TAGS for d in tag.descendants)


def _inline_text(tag: Tag) -> str:
    parts = []
    for s in tag.descendants:
        if isinstance(s, NavigableString) and not isinstance(s, _SKIP_STRINGS):
            parts.append(str(s))
        elif isinstance(s, Tag) and s.name == "br":
            parts.append(" ")
    return fold_space("".join(parts))


def _cell_text(cell: Tag) -> str:
    return _inline_text(cell).replace("|", "\\|")


class _Renderer:
    def __init__(self, rules: Rules) -> None:
        self.out = _Lines()
        self.rows = [s for s in rules.page.html.row_selectors]

    def walk(self, node: PageElement) -> None:
        if isinstance(node, NavigableString):
            if not isinstance(node, _SKIP_STRINGS) and node.strip():
                self.out.add(str(node), _line_of(node))
            return
        if not isinstance(node, Tag):
            return
        name = node.name
        if name in ONE_LINE_TAGS:
            self.out.add(_inline_text(node), _line_of(node))
            self.out.blank()
        elif name in ("ul", "ol"):
            self._list(node)
        elif name == "table":
            self._table(node)
        elif name == "img":
            self.out.add(_text_attribute(node, "alt") or "", _line_of(node))
            self.out.blank()
        elif name == "hr":
            self.out.blank()
        elif name in BLOCK_TAGS and self._is_row(node):
            cells = [_inline_text(c) if isinstance(c, Tag) else fold_space(str(c)) for c in node.children]
            self.out.add(" ".join(c for c in cells if c), _line_of(node))
            self.out.blank()
        elif name in BLOCK_TAGS and _is_leaf(node):
            self.out.add(_inline_text(node), _line_of(node))
            self.out.blank()
        elif name in BLOCK_TAGS and self._is_pair(node):
            for half in node.find_all(True, recursive=False):
                self.out.add(_inline_text(half), _line_of(half))
            self.out.blank()
        else:
            for child in list(node.children):
                self.walk(child)
            if name in BLOCK_TAGS:
                self.out.blank()

    def _is_row(self, node: Tag) -> bool:
        return any(node.css.match(sel) for sel in self.rows) and all(
            not isinstance(c, Tag) or _is_leaf(c) for c in node.children
        )

    @staticmethod
    def _is_pair(node: Tag) -> bool:
        """A title/detail pair: two leaf blocks, no heading, no loose text."""
        kids = node.find_all(True, recursive=False)
        loose = any(isinstance(c, NavigableString) and c.strip() for c in node.children)
        return (
            len(kids) == 2
            and not loose
            and all(
                k.name in BLOCK_TAGS
                and k.name not in HEADINGS
                and k.name not in ("ul", "ol", "table", "img")
                and _is_leaf(k)
                for k in kids
            )
        )

    def _list(self, node: Tag) -> None:
        for li in node.find_all("li", recursive=False):
            nested = li.find_all(["ul", "ol"], recursive=False)
            for n in nested:
                n.extract()
            self.out.add("- " + _inline_text(li), _line_of(li))
            for n in nested:
                self._list(n)
        self.out.blank()

    def _table(self, node: Tag) -> None:
        caption = node.find("caption")
        if caption is not None:
            self.out.add(_inline_text(caption), _line_of(caption))
        rows = [tr for tr in node.find_all("tr") if tr.find_parent("table") is node]
        width = 0
        for i, tr in enumerate(rows):
            cells = tr.find_all(["th", "td"], recursive=False)
            if not cells:
                continue
            texts = [_cell_text(c) for c in cells]
            self.out.add("| " + " | ".join(texts) + " |", _line_of(tr))
            header = tr.find_parent("thead") is not None or all(c.name == "th" for c in cells)
            if i == 0 and header:
                width = len(cells)
                self.out.add("|" + "---|" * width, _line_of(tr))
        self.out.blank()


def read_html(data: bytes, path: str, rules: Rules) -> Text:
    """Render an HTML page to numbered lines; `source_lines` maps each to its HTML source line."""
    raw, enc, cut, warns = decode(data, path)
    bidi = bidi_warning(raw, html=True)  # fold_space drops them from every rendered line
    warns = warns if bidi is None else [*warns, bidi]
    with warnings.catch_warnings():  # bs4's advice about XML-looking or URL-looking markup is not for our users
        warnings.simplefilter("ignore")
        soup = BeautifulSoup(raw, "lxml")
    have_lines = _attach_source_lines(soup, raw)
    _replace_icons(soup, rules)
    _drop_chrome(soup, rules)
    renderer = _Renderer(rules)
    renderer.walk(soup.body if soup.body is not None else soup)
    items = renderer.out.items
    while items and items[-1][0] == "":
        items.pop()
    lines = [Line(i, text) for i, (text, _src) in enumerate(items, 1)]
    source_lines: dict[int, int] = {}
    last_src = 1
    for i, (_text, src) in enumerate(items, 1):
        last_src = src if src is not None else last_src
        source_lines[i] = last_src
    if not have_lines:
        source_lines = {}
        warns.append(Warn(code="GP304", message="HTML source lines unavailable; provenance counts rendered lines"))
    complete = bool(_END_OF_PAGE.search(raw[-4096:]))
    return Text(
        lines=lines,
        encoding=enc,
        final_newline=complete,
        cut_mid_char=cut,
        warnings=warns,
        source_lines=source_lines or None,
    )
