"""What the console says for errors: a domain error's own sentence, and the console's sentence
only for the errors of HTTP itself.

A domain error is raised with its English and Chinese sentence (errors.py,
tests/unit/test_error_texts.py); the console keeps no second copy of it. What is left to the
console are the errors no service raises (an unknown path, a wrong method, a body that is
not JSON, an internal error): each has a sentence with its Chinese translation.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

import rtcompute
from rtcompute import errors
from rtcompute.api import app as app_module
from rtcompute.console import error_links, i18n, views
from rtcompute.console.pages.iam import service_role as ram_service_role
from rtcompute.domain import ram
from rtcompute.services.iam import service_role

SOURCE = Path(rtcompute.__file__).parent
CODE = re.compile(r'\bcode\s*=\s*"([A-Za-z0-9]+(?:\.[A-Za-z0-9]+)*)"')
# the codes api/app.py answers without a domain error
HTTP_LEVEL = {*app_module.HTTP_CODES.values(), "MalformedJSON", "InvalidParameter", "InternalError"}


def chinese_catalog() -> dict[str, str]:
    catalog = i18n.catalog(i18n.CHINESE)
    return {
        str(message.id): str(message.string)
        for message in catalog
        if message.id and message.string and not message.fuzzy
    }


@pytest.mark.parametrize("code", sorted(HTTP_LEVEL))
def test_every_http_level_error_has_a_translated_console_message(code: str) -> None:
    message = views.HTTP_MESSAGES[code]
    translated = chinese_catalog().get(message)
    assert translated, f"no zh_CN translation of {message!r} ({code})"
    assert re.search(r"[\u4e00-\u9fff]", translated), translated


def test_the_console_keeps_no_copy_of_a_domain_error_s_sentence() -> None:
    """Its table names HTTP-level codes only, never a code a service raises by name."""
    class_codes = {
        value.code
        for value in vars(errors).values()
        if inspect.isclass(value) and issubclass(value, errors.RtcError)
    }
    raised = {code for path in SOURCE.rglob("*.py") for code in CODE.findall(path.read_text())}
    assert len(raised) > 100  # the grep sees the codes (it would pass on none)
    assert set(views.HTTP_MESSAGES) <= HTTP_LEVEL | class_codes
    assert not (set(views.HTTP_MESSAGES) & (raised - class_codes))


def test_a_domain_error_is_shown_in_the_page_s_language() -> None:
    error = errors.Conflict("in use", "使用中", code="VersionInUse")
    assert error.text(i18n.CHINESE) == "使用中"
    assert error.text(i18n.ENGLISH) == "in use"


def test_the_guide_922019_message() -> None:
    assert service_role.PASS_ROLE_CODE == "922019"
    assert "PassRole" in service_role.PASS_ROLE_MESSAGE
    # guide, 常见问题: the sub-account lacks PassRole
    assert service_role.PASS_ROLE_MESSAGE_ZH == "子账号没有passRole权限，请到RAM对该子账号赋权"


def test_service_role_errors_link_to_the_authorization_page() -> None:
    link = views.error_link("ServiceRoleNotAuthorized")
    assert link is not None
    assert link[0] == service_role.AUTHORIZATION_PAGE == "/console/ram/service-role"
    assert views.error_link("Forbidden.RAM") is None


@pytest.mark.parametrize(("code", "link"), sorted(error_links.LINKS.items()))
def test_every_link_label_is_translated(code: str, link: tuple[str, str]) -> None:
    path, label = link
    assert path.startswith("/console/"), code
    assert chinese_catalog().get(label), f"no zh_CN translation of the label {label!r}"


def test_service_role_texts_match_the_domain() -> None:
    """The console marks the domain's descriptions for translation; they must stay equal."""
    assert ram_service_role.ROLE_DESCRIPTION == ram.SERVICE_ROLE_DESCRIPTION
    assert ram_service_role.POLICY_DESCRIPTION == ram.SERVICE_ROLE_POLICY_DESCRIPTION


@pytest.mark.parametrize(
    ("count", "shown"),
    [(0, "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (44062, "43.0 KiB"), (5 << 20, "5.0 MiB")],
)
def test_sizes_are_shown_for_people(count: int, shown: str) -> None:
    assert views.size(count) == shown
