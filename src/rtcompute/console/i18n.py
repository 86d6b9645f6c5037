"""Console translations: gettext everywhere, catalogs read from .po files at start.

English is the source language (identity); Simplified Chinese is the guide's language. The
catalogs are read with Babel's `read_po` and compiled in memory, so the package ships no .mo
files and a translator edits text files: `messages.po`, plus one file per area where an area
adds its own (a message id lives in one file only). One Jinja environment per language keeps the
`jinja2.ext.i18n` callables per language without any per-request global state.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path

from babel import support
from babel.messages import catalog as catalogs
from babel.messages import mofile, pofile

ENGLISH = "en"
CHINESE = "zh_CN"
LANGUAGES = (ENGLISH, CHINESE)
DEFAULT = ENGLISH
LANG_COOKIE = "rtc_lang"
LOCALES_DIR = Path(__file__).parent / "locales"
LANGUAGE_NAMES = {ENGLISH: "English", CHINESE: "简体中文"}


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is shown."""
    return message


def normalize(tag: str | None) -> str | None:
    """A language tag (`zh-CN`, `zh_cn`, `en-US`, `zh`) to a supported language, or None."""
    if not tag:
        return None
    lowered = tag.strip().lower().replace("_", "-")
    if lowered == "zh" or lowered.startswith("zh-"):
        return CHINESE
    if lowered == "en" or lowered.startswith("en-"):
        return ENGLISH
    return None


def _accepted(header: str) -> list[tuple[float, int, str]]:
    ranked = []
    for position, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            ranked.append((-quality, position, tag))
    return sorted(ranked)


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    """The page language: the `rtc_lang` cookie, else the best Accept-Language match."""
    chosen = normalize(cookie)
    if chosen:
        return chosen
    for _, _, tag in _accepted(accept_language or ""):
        matched = normalize(tag)
        if matched:
            return matched
    return DEFAULT


def catalog_files(language: str) -> list[Path]:
    """The .po files of a language: `messages.po` and one file per area that adds its own."""
    return sorted((LOCALES_DIR / language / "LC_MESSAGES").glob("*.po"))


def catalog(language: str) -> catalogs.Catalog:
    """Every message of a language, merged from its .po files (a duplicate id is refused)."""
    merged = catalogs.Catalog(locale=language)
    for path in catalog_files(language):
        with path.open("rb") as handle:
            part = pofile.read_po(handle, locale=language)
        for message in part:
            if not message.id:
                continue
            if merged.get(message.id) is not None:
                raise ValueError(f"{path.name}: {message.id!r} is already in another catalog file")
            merged[message.id] = message
    return merged


@functools.cache
def translations(language: str) -> support.NullTranslations:
    """The catalog of a language, compiled in memory from its .po files."""
    if language == ENGLISH:
        return support.NullTranslations()
    compiled = io.BytesIO()
    mofile.write_mo(compiled, catalog(language))
    compiled.seek(0)
    return support.Translations(fp=compiled)


def gettext(language: str, message: str) -> str:
    return str(translations(language).gettext(message))
