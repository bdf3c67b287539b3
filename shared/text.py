"""Patient text is data, never formatting.

Streamlit reads Markdown (with its own additions: `:red[...]` colours, `$...$` LaTeX,
`:material/...:` icons) in `st.markdown`, captions, alerts, headings, toasts, expander and
widget labels, and the options of radios, pills and segmented controls. A name, an address, an
answer, a walk-in's reason, a provider's name from an import or a room typed at the desk must
reach such an element through `plain`, so that `![x](http://…)` shows those characters and
never makes the staff browser fetch anything. Streamlit itself offers no escaping helper.

Elements that never interpret their text need nothing: `st.text`, `st.code`, `st.dataframe`,
and the options of `st.selectbox` and `st.multiselect` (escaping there would show the
backslashes).
"""

from __future__ import annotations

import re
import string

from shared.i18n import DEFAULT_LANGUAGE, t

# CommonMark lets a backslash escape any ASCII punctuation character, and the escaped
# character is always literal text. Escaping all of them (not only today's `*_[]()`) also
# stops GFM autolinks (`www.`, `http://`, `a@b.c`), tables (`|`), HTML (`<`), LaTeX (`$`) and
# Streamlit's directives (`:`), and stays right when the renderer learns a new syntax.
# One exception keeps dates, MRNs and phone numbers readable in the page's source: a hyphen
# inside a line does nothing in Markdown (strikethrough is `~`, and a setext underline or a
# table row needs a line of its own), so only a leading one (a list item, a rule) is escaped.
_PUNCTUATION = re.compile("([" + re.escape(string.punctuation.replace("-", "")) + "])")
_LEADING_HYPHEN = re.compile(r"^(\s*)-")
# A line break in a value would end the sentence it sits in and could start a heading, a
# list or a code block; a value is shown on one line.
_LINE_BREAKS = re.compile(r"[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]+")


def plain(value: object) -> str:
    """`value` as Markdown that renders as exactly its own text, on one line. None is ""."""
    if value is None:
        return ""
    text = _PUNCTUATION.sub(r"\\\1", _LINE_BREAKS.sub(" ", str(value)))
    return _LEADING_HYPHEN.sub(r"\1\\-", text)


def t_plain(key: str, lang: str = DEFAULT_LANGUAGE, /, **params: object) -> str:
    """`t(key, lang, **params)` for an element that reads Markdown: the template's own
    formatting is kept, every parameter (a name, a room, a file's text) is `plain`."""
    return t(key, lang, **{name: plain(value) for name, value in params.items()})
