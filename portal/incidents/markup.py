"""Manual notes are Markdown: rendered by markdown-it-py, then sanitized by nh3.

Raw HTML in a note is escaped by the renderer (`html: False`); nh3 is the second wall, so
a renderer bug or a crafted link can still never put a script on a colleague's screen.
"""
from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

_renderer = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
ALLOWED_TAGS = {"p", "br", "em", "strong", "del", "code", "pre", "blockquote", "ul", "ol",
                "li", "a", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "table", "thead",
                "tbody", "tr", "th", "td"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"style"}, "td": {"style"}}


def render_markdown(text: str) -> str:
    """Markdown as sanitized HTML, safe to insert into a page."""
    return nh3.clean(_renderer.render(text), tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes={"http", "https", "mailto"},
                     link_rel="noopener noreferrer nofollow")


def first_line(text: str, limit: int = 200) -> str:
    """The first non-empty line of `text`, shortened to `limit` characters."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line if len(line) <= limit else line[: limit - 1] + "…"
