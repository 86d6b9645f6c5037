"""Every console message has a Chinese translation, and the page language is chosen right."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from rtcompute import errors
from rtcompute.console import i18n

CONSOLE = Path(i18n.__file__).parent
METHOD_MAP = [("templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]


def extracted_messages() -> dict[str, str]:
    """Every message id in the console's templates and Python code, with where it is."""
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(CONSOLE), method_map=METHOD_MAP
    ):
        ids = message if isinstance(message, tuple) else (message,)
        for msgid in ids:
            if msgid:
                found.setdefault(msgid, f"{filename}:{lineno}")
    return found


def test_extraction_sees_templates_and_python() -> None:
    messages = extracted_messages()
    where = set(messages.values())
    assert "Sign in" in messages  # templates
    assert "Exclusive clusters" in messages  # Python (N_ in views.py)
    assert any(place.startswith("templates/") for place in where)
    assert any(place.endswith(".py") or ".py:" in place for place in where)
    assert len(messages) > 100


def test_every_message_has_a_chinese_translation() -> None:
    catalog = i18n.catalog(i18n.CHINESE)
    missing = []
    for msgid, where in extracted_messages().items():
        entry = catalog.get(msgid)
        string = entry.string if entry is not None else None
        translated = string[0] if isinstance(string, tuple) else string
        if not translated or (entry is not None and entry.fuzzy):
            missing.append(f"{where}: {msgid!r}")
    assert not missing, "untranslated console messages:\n" + "\n".join(missing)


def test_placeholders_survive_translation() -> None:
    catalog = i18n.catalog(i18n.CHINESE)
    for message in catalog:
        if message.id and isinstance(message.string, str) and "%(" in message.id:
            names = {part.split(")")[0] for part in str(message.id).split("%(")[1:]}
            for name in names:
                assert f"%({name})s" in message.string, message.id


def test_chinese_catalog_loads_and_english_is_identity() -> None:
    assert i18n.gettext(i18n.CHINESE, "Exclusive clusters") == "独享模式集群"
    assert i18n.gettext(i18n.ENGLISH, "Exclusive clusters") == "Exclusive clusters"
    assert i18n.gettext(i18n.CHINESE, "a message nobody wrote") == "a message nobody wrote"


@pytest.mark.parametrize(
    ("cookie", "accept", "expected"),
    [
        (None, None, "en"),
        (None, "", "en"),
        (None, "zh-CN,zh;q=0.9,en;q=0.8", "zh_CN"),
        (None, "zh", "zh_CN"),
        (None, "en-US,en;q=0.9,zh-CN;q=0.8", "en"),
        (None, "fr-FR,fr;q=0.9,zh-CN;q=0.5", "zh_CN"),
        (None, "en;q=0.3,zh-Hans;q=0.7", "zh_CN"),
        (None, "de,fr", "en"),
        (None, "zh-CN;q=0", "en"),
        (None, "zh-CN;q=banana,en", "en"),
        ("en", "zh-CN", "en"),
        ("zh_CN", "en-US", "zh_CN"),
        ("klingon", "zh-CN", "zh_CN"),
    ],
)
def test_language_choice(cookie: str | None, accept: str | None, expected: str) -> None:
    assert i18n.negotiate(cookie, accept) == expected


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("zh_CN", "zh_CN"),
        ("zh-cn", "zh_CN"),
        ("EN", "en"),
        ("en-GB", "en"),
        ("ja", None),
        ("", None),
    ],
)
def test_normalize(tag: str, expected: str | None) -> None:
    assert i18n.normalize(tag) == expected


def test_the_catalog_holds_no_message_the_console_no_longer_has() -> None:
    """A sentence that moved to its raise (errors.py) leaves the catalog with it."""
    catalog = i18n.catalog(i18n.CHINESE)
    used = set(extracted_messages())
    stale = sorted(str(message.id) for message in catalog if message.id and message.id not in used)
    assert not stale, f"{len(stale)} messages no longer used:\n" + "\n".join(stale[:20])


def test_the_catalog_is_read_from_every_po_file_and_refuses_a_duplicate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "xx" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "messages.po").write_text('msgid "Jobs"\nmsgstr "作业"\n', encoding="utf-8")
    (folder / "jobs.po").write_text('msgid "Run"\nmsgstr "运行"\n', encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    merged = i18n.catalog("xx")
    assert {str(m.id): m.string for m in merged if m.id} == {"Jobs": "作业", "Run": "运行"}
    (folder / "more.po").write_text('msgid "Jobs"\nmsgstr "任务"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="already in another catalog file"):
        i18n.catalog("xx")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "en"),
        ("", "en"),
        ("zh-CN", "zh"),
        ("zh;q=0.9", "zh"),
        ("fr, zh-CN", "zh"),
        ("de-DE, zh-CN;q=0.8", "zh"),
        ("en;q=0.1, zh-CN", "zh"),
        ("zh;q=0.5, en;q=0.9", "en"),
        ("zh-CN;q=0, en", "en"),
        ("zh-CN;q=nan", "en"),
        ("zh-CN;q=banana", "en"),
        ("zh_TW, en", "zh"),
        ("x" * 5000, "en"),
    ],
)
def test_the_api_reads_accept_language_one_way(header: str | None, expected: str) -> None:
    """errors, events, descriptions and placement reasons all answer in this language."""
    assert errors.accepted_language(header) == expected
