"""`plain`: a value as Markdown that renders as exactly its own text (issue 11).

The oracle is a CommonMark parser (markdown-it): the escaped value parses to text only, and
that text is the value. Streamlit's additions (`:red[...]`, `$...$`) are not CommonMark, so
their trigger characters must be escaped in the source too.
"""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt

from shared.text import plain, t_plain

COMMONMARK = MarkdownIt("commonmark")
HOSTILE = [
    "![x](http://evil.example/a.png)",
    "**bold**",
    "<img src=x onerror=alert(1)>",
    ":red[alert]",
    "$x^2$",
    "[click](javascript:alert(1))",
    "<http://evil.example>",
    "`code`",
    "~~gone~~",
    "# Heading",
    "- item",
    "+ item",
    "1. item",
    "> quote",
    "---",
    "a | b",
    "&lt;b&gt;",
    "back\\slash",
    "O'Neil-Smith, Jr.",
    "2031-01-06",
]


def _parse(source: str) -> tuple[set[str], str]:
    tokens = COMMONMARK.parse(source)
    kinds = {tok.type for tok in tokens}
    text = []
    for tok in tokens:
        for child in tok.children or ():
            kinds.add(child.type)
            if child.type == "text":
                text.append(child.content)
    return kinds, "".join(text)


@pytest.mark.parametrize("value", HOSTILE)
def test_a_value_renders_as_its_own_text(value: str) -> None:
    kinds, text = _parse(plain(value))
    assert kinds <= {"paragraph_open", "inline", "paragraph_close", "text"}, kinds
    assert text == value


@pytest.mark.parametrize("value", [":red[alert]", "$x^2$", ":material/home:"])
def test_streamlit_syntax_is_escaped_in_the_source(value: str) -> None:
    escaped = plain(value)
    assert value not in escaped
    assert "\\:" in escaped or "\\$" in escaped


def test_line_breaks_become_spaces_and_nothing_becomes_empty() -> None:
    assert plain("Main St\n# 4\r\nApt 2") == "Main St \\# 4 Apt 2"
    assert plain(None) == ""
    assert plain(42) == "42"


def test_hyphens_inside_a_value_are_left_alone_but_a_leading_one_is_escaped() -> None:
    assert plain("2031-01-06") == "2031-01-06"
    assert plain("- item") == "\\- item"
    assert plain("  ---") == "  \\---"


def test_t_plain_escapes_the_parameters_and_keeps_the_template() -> None:
    assert t_plain("queue.selected", name="**Ana**", ticket="A-12") == (
        "Selected: \\*\\*Ana\\*\\* (A-12)")
