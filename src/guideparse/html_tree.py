"""HTML text -> a plain tree of what is read: elements with their source lines, icons as
glyph text, chrome left out.

BeautifulSoup on lxml parses the page, through the target interface bs4 uses, which has no
depth limit (lxml's own tree stops at 256 levels, 2,048 with huge_tree, and drops the rest).
bs4's lxml builder keeps no source positions, so the page is fed to it a line at a time and
each element gets the line being fed when libxml2 starts it: the line of its start tag's
`>`, the line lxml's tree gives (line ends CRLF, CR or LF, as read_text counts them).

The soup is then copied, with loops and no recursion, into plain nodes: an icon element
(rules/page.yaml `html`: by class, or an empty element's aria-label / title / alt) becomes
its glyph text; chrome (by tag, by selector, and all other SVG) is left out, and so are
comments, CDATA, doctypes and processing instructions. Selectors are matched once each, on
the page as parsed. The soup is never edited (bs4's edits scan siblings and subtrees), and
every pass visits each node a bounded number of times, so a page of any depth or width reads
in time linear in its size.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.builder import ParserRejectedMarkup
from bs4.builder._lxml import LXMLTreeBuilder
from bs4.element import CData, Comment, Declaration, Doctype, ProcessingInstruction
from lxml import etree

from .rules import Rules

SKIP_STRINGS = (Comment, CData, Declaration, Doctype, ProcessingInstruction)
#: The strings bs4's get_text reads in an ordinary element (not script, style, template, ruby).
_TEXT_TYPES = (NavigableString, CData)
#: Elements that are icons when empty and labelled.
_ICON_TAGS = frozenset({"svg", "i", "span", "img", "em"})
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
_LINE_BYTES = re.compile(rb"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
_BARE_CR = re.compile(r"\r(?!\n)")


class Str(NamedTuple):
    """A piece of text (a glyph too) with its source line: its element's."""

    text: str
    line: int | None


class Node:
    """An element that is read: name, source line, children, and what rendering asks of it."""

    __slots__ = ("name", "line", "kids", "alt", "in_thead", "row", "has_block")

    def __init__(
        self, name: str, line: int | None, *, alt: str | None = None, in_thead: bool = False, row: bool = False
    ):
        self.name = name
        self.line = line
        self.kids: list[Node | Str] = []
        self.alt = alt  #: an img's alt text
        self.in_thead = in_thead  #: inside a thead (or one itself)
        self.row = row  #: matched by a row selector (rules/page.yaml `html.row_selectors`)
        self.has_block = False  #: set by the renderer: a block element somewhere below


class _LinedBuilder(LXMLTreeBuilder):
    """bs4's lxml HTML builder fed a line at a time: each element gets the line it starts on."""

    line = 1

    def feed(self, markup: str | bytes) -> None:
        pieces = _LINE_BYTES.finditer(markup) if isinstance(markup, bytes) else _LINE.finditer(markup)
        assert self.soup is not None  # bs4 sets it before feeding
        self.line = 1
        self.parser = self.parser_for(self.soup.original_encoding)
        try:
            self.parser.feed(markup[:0])  # lxml wants one feed before close, even of nothing
            for piece in pieces:
                self.parser.feed(piece.group())
                self.line += 1
            self.line = max(1, self.line - 1)  # what closing the page starts is on its last line
            self.parser.close()
        except (UnicodeDecodeError, LookupError, etree.ParserError) as exc:
            raise ParserRejectedMarkup(exc) from exc

    def start(self, tag: Any, attrib: Any, nsmap: Any = None) -> None:
        super().start(tag, attrib, {} if nsmap is None else nsmap)
        assert self.soup is not None and self.soup.currentTag is not None  # the tag just started
        self.soup.currentTag.sourceline = self.line


def parse(raw: str) -> BeautifulSoup:
    """The page as bs4 on lxml reads it, each element with its source line (Tag.sourceline)."""
    with warnings.catch_warnings():  # bs4's advice about XML-looking or URL-looking markup is not for our users
        warnings.simplefilter("ignore")
        soup = BeautifulSoup(raw, builder=_LinedBuilder())
    _implied_lines(soup, raw)
    return soup


def _implied_lines(soup: BeautifulSoup, raw: str) -> None:
    """The lines of <html> and <body>, which a page may leave out: libxml2 starts them where
    the content that implies them begins, but a parser target hears of them only once that
    content is read whole (a text, at the next tag). lxml's own tree has them first, always
    within its depth limit. (It counts LF only, and lines to 65,534: then they are left.)"""
    if _BARE_CR.search(raw):
        return
    import lxml.html

    try:
        root = lxml.html.document_fromstring(raw.encode("utf-8"), parser=lxml.html.HTMLParser(encoding="utf-8"))
    except etree.LxmlError:  # ParserError on a page with no element
        return
    for tag, el in ((soup.html, root), (soup.body, root.find("body"))):
        if tag is not None and el is not None and el.sourceline is not None and el.sourceline < 65535:
            tag.sourceline = el.sourceline


def text_attribute(tag: Tag, name: str) -> str | None:
    """A text attribute's value (aria-label, title, alt); bs4 gives lists only for
    multi-valued attributes such as class."""
    value = tag.get(name)
    return value if isinstance(value, str) else None


@dataclass
class _Marks:
    """What the rules make of the parsed page, found once: ids of elements."""

    with_text: set[int]  #: elements with text (what get_text(strip=True) reads): no icon
    chrome: set[int]  #: matched by a chrome selector
    rows: set[int]  #: matched by a row selector
    chrome_tags: frozenset[str]
    by_class: dict[str, str]
    by_label: dict[str, str]


def _with_text(soup: BeautifulSoup) -> set[int]:
    """Ids of the elements with non-blank text below them: children before parents."""
    found: set[int] = set()
    for el in reversed(list(soup.descendants)):
        if id(el) in found or (isinstance(el, NavigableString) and type(el) in _TEXT_TYPES and el.strip()):
            found.add(id(el.parent))
    return found


def _selected(soup: BeautifulSoup, selectors: Iterable[str]) -> set[int]:
    group = ", ".join(selectors)
    return {id(tag) for tag in soup.select(group)} if group else set()


def _marks(soup: BeautifulSoup, rules: Rules) -> _Marks:
    html = rules.page.html
    return _Marks(
        with_text=_with_text(soup),
        chrome=_selected(soup, html.chrome_selectors),
        rows=_selected(soup, html.row_selectors),
        chrome_tags=frozenset(html.chrome_tags) | {"svg"},  # icons are read first; other SVG is drawing, not text
        by_class={c: icon.text for icon in html.icons for c in icon.classes},
        by_label={lab.casefold(): entry.text for entry in html.icon_labels for lab in entry.labels},
    )


def _glyph(tag: Tag, marks: _Marks) -> str | None:
    """An icon element's glyph: by class, else an empty icon-like element's label."""
    glyph = next((marks.by_class[c] for c in tag.get("class") or [] if c in marks.by_class), None)
    if glyph is not None or tag.name not in _ICON_TAGS or id(tag) in marks.with_text:
        return glyph
    label = (
        text_attribute(tag, "aria-label")
        or text_attribute(tag, "title")
        or (text_attribute(tag, "alt") if tag.name == "img" else None)
    )
    return marks.by_label.get(label.strip().casefold(), label.strip()) if label else None


def _read(tag: Tag, parent: Node, marks: _Marks) -> Node | Str | None:
    """One child element as read: a node, an icon's glyph, or None (chrome)."""
    line = tag.sourceline if tag.sourceline is not None else parent.line
    glyph = _glyph(tag, marks)
    if glyph is not None:
        return Str(f" {glyph} ", line)
    if tag.name in marks.chrome_tags or id(tag) in marks.chrome:
        return None
    return Node(
        tag.name,
        line,
        alt=text_attribute(tag, "alt") if tag.name == "img" else None,
        in_thead=parent.in_thead or tag.name == "thead",
        row=id(tag) in marks.rows,
    )


def plain_tree(soup: BeautifulSoup, rules: Rules) -> list[Node]:
    """The page's nodes, the document root first and each node after its parent."""
    marks = _marks(soup, rules)
    root = Node(soup.name, None)
    nodes = [root]
    todo: list[tuple[Tag, Node]] = [(soup, root)]
    while todo:
        tag, node = todo.pop()
        for child in tag.contents:
            if isinstance(child, NavigableString):
                if not isinstance(child, SKIP_STRINGS):
                    node.kids.append(Str(str(child), node.line))
                continue
            if not isinstance(child, Tag):
                continue
            kid = _read(child, node, marks)
            if kid is not None:
                node.kids.append(kid)
            if isinstance(kid, Node):
                nodes.append(kid)
                todo.append((child, kid))
    return nodes
