"""Every error code the services raise has a console message with a Chinese translation.

The codes are read from the source (`code="..."` in the services, the domain and
`errors.py`, code constants such as `PASS_ROLE_CODE = "922019"`, the limits named in
`limit_exceeded("...")` calls, and the HTTP codes of `api/app.py`), so a new code without a
console message fails here instead of showing English on a Chinese page. Codes built at run
time (`f"EntityNotExist.{kind}.Policy"`) are listed by hand below, and their family must have
a message too.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

import rtcompute
from rtcompute.console import i18n, views
from rtcompute.console.pages.iam import service_role as ram_service_role
from rtcompute.domain import ram
from rtcompute.services.iam import service_role

SOURCE = Path(rtcompute.__file__).parent
CODE = re.compile(r'\bcode\s*=\s*"([A-Za-z0-9]+(?:\.[A-Za-z0-9]+)*)"')
CODE_CONSTANT = re.compile(r'^[A-Z_]*CODE\s*=\s*"([A-Za-z0-9.]+)"', re.MULTILINE)
LIMIT = re.compile(r'limit_exceeded\(\s*"([^"]+)"')
BUILT_CODE = re.compile(r'\bcode\s*=\s*f"([A-Za-z.]*)\{')
KINDS = ("User", "Group", "Role")
# the codes built at run time, expanded
BUILT = {
    *(f"EntityNotExist.{kind}.Policy" for kind in KINDS),
    *(f"EntityAlreadyExists.{kind}.Policy" for kind in KINDS),
    *(f"InvalidParameter.{kind}Name" for kind in ("User", "Group", "Role", "Policy")),
    *(
        f"LimitExceeded.{ptype}PoliciesAttachedPer{kind}"
        for ptype in ("System", "Custom")
        for kind in KINDS
    ),
}
# asked for by name in review; the grep below must find at least these
EXPECTED = {
    "WeakPassword",
    "InvalidAccountAlias",
    "InvalidEmail",
    "InvalidDisplayName",
    "InvalidPageToken",
    "InvalidParameter",
    "InvalidStatus",
    "PasswordMismatch",
    "AccessKeyLimitExceeded",
    "AccessKeyNotFound",
    "AccessKeyDisabled",
    "Forbidden.RAM",
    "MfaAlreadyBound",
    "MfaNotStarted",
    "MfaUnchanged",
    "AccountAliasExists",
    "AccountNotFound",
    "IdentityNotFound",
    "PayloadTooLarge",
    "NotFound",
    "MethodNotAllowed",
    "MalformedJSON",
    "NotificationFailed",
    "ServiceUnavailable",
    "InternalError",
    # RAM, the service role and projects
    "922019",
    "ServiceRoleNotAuthorized",
    "ServiceRoleMissingAction",
    "InvalidPolicyDocument",
    "ProjectNotFound",
    "ProjectAlreadyExists",
    "EntityNotExist.User",
    "EntityAlreadyExists.Policy",
    "DeleteConflict.Policy.Attachment",
    "LimitExceeded.GroupsPerUser",
}


def source_files() -> list[Path]:
    return [
        *sorted((SOURCE / "services").rglob("*.py")),
        *sorted((SOURCE / "domain").rglob("*.py")),
        *sorted((SOURCE / "console").rglob("*.py")),
        SOURCE / "errors.py",
    ]


def raised_codes() -> set[str]:
    texts = [path.read_text() for path in source_files()]
    found = {code for text in texts for code in CODE.findall(text)}
    found |= {code for text in texts for code in CODE_CONSTANT.findall(text)}
    found |= {
        ram.limit_exceeded(what, 0, "").code for text in texts for what in LIMIT.findall(text)
    }
    app = (SOURCE / "api" / "app.py").read_text()
    found |= set(re.findall(r'^\s+\d{3}: "([A-Za-z]+)",$', app, re.MULTILINE))
    found |= {"MalformedJSON", "InvalidParameter", "InternalError", "PasswordMismatch"}
    return found


def chinese_catalog() -> dict[str, str]:
    path = i18n.LOCALES_DIR / i18n.CHINESE / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=i18n.CHINESE)
    return {
        str(message.id): str(message.string)
        for message in catalog
        if message.id and message.string and not message.fuzzy
    }


def test_the_grep_finds_the_codes() -> None:
    codes = raised_codes()
    assert len(codes) > 25
    assert codes >= EXPECTED, sorted(EXPECTED - codes)


@pytest.mark.parametrize("code", sorted(raised_codes() | EXPECTED | BUILT))
def test_every_raised_code_has_a_translated_console_message(code: str) -> None:
    assert code in views.ERROR_MESSAGES, f"views.ERROR_MESSAGES has no message for {code}"
    message = views.ERROR_MESSAGES[code]
    translated = chinese_catalog().get(message)
    assert translated, f"no zh_CN translation of {message!r} ({code})"
    assert translated != message
    assert re.search(r"[\u4e00-\u9fff]", translated), translated


def built_families() -> set[str]:
    """The fixed start of every code built at run time: `EntityNotExist`, `LimitExceeded`..."""
    found = {
        prefix.rstrip(".") for p in source_files() for prefix in BUILT_CODE.findall(p.read_text())
    }
    if "limit_exceeded(" in (SOURCE / "domain" / "ram.py").read_text():
        found.add("LimitExceeded")
    return {family.split(".")[0] for family in found if family}


def test_the_grep_finds_dotted_numeric_and_limit_codes() -> None:
    codes = raised_codes()
    assert {"922019", "EntityNotExist.User", "LimitExceeded.GroupsPerUser"} <= codes
    assert "LimitExceeded.RamUsersPerAccount" in codes
    assert built_families() >= {"EntityNotExist", "EntityAlreadyExists", "LimitExceeded"}


@pytest.mark.parametrize("family", sorted(built_families()))
def test_every_family_of_built_codes_has_a_message(family: str) -> None:
    assert views.known_message(family + ".SomethingNew") is not None, family


def test_a_code_falls_back_to_its_family() -> None:
    assert views.known_message("LimitExceeded.Unheard") == views.ERROR_MESSAGES["LimitExceeded"]
    assert (
        views.known_message("EntityNotExist.User.Group")
        == (views.ERROR_MESSAGES["EntityNotExist.User.Group"])
    )
    assert views.known_message("Nonsense") is None


def test_the_guide_922019_message() -> None:
    english = views.ERROR_MESSAGES[service_role.PASS_ROLE_CODE]
    assert "PassRole" in english
    assert chinese_catalog()[english] == service_role.PASS_ROLE_MESSAGE_ZH


def test_limit_placeholders_are_filled() -> None:
    for code, message in views.ERROR_MESSAGES.items():
        for language in (i18n.ENGLISH, i18n.CHINESE):
            filled = i18n.gettext(language, message) % {
                "min_length": 8,
                "lockout_minutes": 15,
                **views.ram_errors.LIMIT_VALUES,
            }
            assert "%(" not in filled, code
    users = views.ERROR_MESSAGES["LimitExceeded.RamUsersPerAccount"] % views.ram_errors.LIMIT_VALUES
    assert str(ram.MAX_USERS) in users


def test_service_role_errors_link_to_the_authorization_page() -> None:
    link = views.error_link("ServiceRoleNotAuthorized")
    assert link is not None
    assert link[0] == service_role.AUTHORIZATION_PAGE == "/console/ram/service-role"
    assert views.error_link("Forbidden.RAM") is None


def test_service_role_texts_match_the_domain() -> None:
    """The console marks the domain's descriptions for translation; they must stay equal."""
    assert ram_service_role.ROLE_DESCRIPTION == ram.SERVICE_ROLE_DESCRIPTION
    assert ram_service_role.POLICY_DESCRIPTION == ram.SERVICE_ROLE_POLICY_DESCRIPTION
