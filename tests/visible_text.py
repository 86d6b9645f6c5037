"""The text a person sees on a console page, and the English words left in it.

Used by tests/integration/test_console_chinese.py (issue 18: "a test fails on any English
word reaching a zh-CN page that is not a name or a value"). The page is parsed with the
standard library's html.parser: what a browser shows is kept (element text, the title,
tooltips, placeholders, labels of buttons, confirmation prompts), what it does not show or
what is a value is skipped (scripts, styles, code, typed input, anything inside an element
marked with the standard attribute translate="no", which templates put on names and values
typed by users or produced by Flink, or with a `lang` other than Chinese).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# elements whose content is not prose: scripts and styles are not shown; code, samples,
# keyboard input and preformatted text are values (SQL, plans, logs, documents)
SKIPPED_ELEMENTS = frozenset({"script", "style", "code", "pre", "kbd", "samp", "textarea"})
# elements that never have content (html.parser sends no end tag for them)
VOID_ELEMENTS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)
# attributes a person reads: tooltips, placeholders, accessible labels, the confirmation
# prompt console.js shows (data-confirm)
SHOWN_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt", "data-confirm")
BUTTON_INPUTS = frozenset({"submit", "button", "reset"})
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def _other_language(lang: str | None) -> bool:
    """An element marked as written in another language than Chinese (the language switch's
    "English" carries lang="en"): its text is meant to be in that language."""
    return lang is not None and not lang.lower().startswith("zh")


class _VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        # open elements: (tag, whether their content is skipped)
        self._open: list[tuple[str, bool]] = []

    @property
    def _skipping(self) -> bool:
        return bool(self._open) and self._open[-1][1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        skipped = (
            self._skipping
            or tag in SKIPPED_ELEMENTS
            or found.get("translate") == "no"
            or _other_language(found.get("lang"))
        )
        if not skipped:
            self.parts.extend(found[name] for name in SHOWN_ATTRIBUTES if found.get(name))
            if tag == "input" and found.get("type", "").lower() in BUTTON_INPUTS:
                self.parts.append(found.get("value", ""))
        if tag not in VOID_ELEMENTS:
            self._open.append((tag, skipped))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID_ELEMENTS:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        # close up to the matching element (html.parser does not repair unclosed <p>, <li>)
        for depth in range(len(self._open) - 1, -1, -1):
            if self._open[depth][0] == tag:
                del self._open[depth:]
                return

    def handle_data(self, data: str) -> None:
        if not self._skipping and data.strip():
            self.parts.append(data)


def visible_text(page: str) -> list[str]:
    """The pieces of text a person sees on `page` (HTML), in document order."""
    parser = _VisibleText()
    parser.feed(page)
    parser.close()
    return [" ".join(part.split()) for part in parser.parts]


def english_words(
    pieces: list[str],
    *,
    allowed_words: frozenset[str],
    values: tuple[str, ...],
    value_patterns: tuple[re.Pattern[str], ...] = (),
) -> list[str]:
    """The Latin words of 2+ letters in `pieces` that are neither an allowed word (compared
    case-insensitively) nor inside one of `values` (names and values the caller knows) or a
    match of `value_patterns` (identifiers of a known shape)."""
    found: list[str] = []
    longest_first = sorted(values, key=len, reverse=True)
    for piece in pieces:
        # identifiers first: a resource name holds names (`acs:...:cluster/stream1/...`)
        for pattern in value_patterns:
            piece = pattern.sub(" ", piece)
        for value in longest_first:
            piece = piece.replace(value, " ")
        for word in LATIN_WORD.findall(piece):
            if word.lower() not in allowed_words and word not in found:
                found.append(word)
    return found
