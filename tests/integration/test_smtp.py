"""The inactivity verification code by real SMTP (aiosmtpd in-process), on both databases."""

from __future__ import annotations

import contextlib
import logging
import re
import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import delete, func, select
from starlette.testclient import TestClient

from rtcompute import errors
from rtcompute.api import app as app_module
from rtcompute.services.kernel import accounts, auth
from rtcompute.services.kernel import notifier as notifier_module
from rtcompute.services.kernel import platform as platform_module
from rtcompute.settings import SmtpSettings
from rtcompute.store import db, tables
from tests.conftest import PASSWORD, FakeClock, make_settings, signup


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def smtp_api(
    database_url: str, data_dir: Path, clock: FakeClock, port: int
) -> tuple[TestClient, platform_module.Platform]:
    smtp = SmtpSettings(host="127.0.0.1", port=port, sender="rtc@platform.example")
    settings = make_settings(database_url, data_dir, smtp=smtp)
    built = platform_module.build_platform(
        settings, notifier=notifier_module.SmtpNotifier(smtp), clock=clock
    )
    with db.transaction(built.sessions) as session:
        for table in reversed(tables.Base.metadata.sorted_tables):
            session.execute(delete(table))
    return TestClient(app_module.create_app(built), raise_server_exceptions=False), built


@contextlib.contextmanager
def served(
    database_url: str, data_dir: Path, clock: FakeClock, port: int
) -> Iterator[tuple[TestClient, platform_module.Platform]]:
    """The app on a platform that mails through 127.0.0.1:`port`, disposed afterwards."""
    api, built = smtp_api(database_url, data_dir, clock, port)
    try:
        with api:
            yield api, built
    finally:
        built.engine.dispose()


def sign_in(api: TestClient, **fields: str) -> Any:
    return api.post("/api/v1/sessions", json={"account": "acme", "password": PASSWORD, **fields})


def test_verification_code_arrives_by_email(
    database_url: str, tmp_path: Path, clock: FakeClock, inbox: tuple[Inbox, int]
) -> None:
    handler, port = inbox
    with served(database_url, tmp_path / "data", clock, port) as (api, _):
        signup(api, "acme", email="owner@acme.example")
        assert sign_in(api).status_code == 201
        assert handler.messages == []
        clock.advance(days=31)
        response = sign_in(api)
        assert response.status_code == 401, response.text
        assert response.json()["code"] == "VerificationRequired"
        assert response.json()["verification"] == "email"
        assert (
            "e-mailed to this account's address (o***@acme.example)" in response.json()["message"]
        )
        assert len(handler.messages) == 1
        recipients, message = handler.messages[0]
        assert recipients == ["owner@acme.example"]
        assert message["To"] == "owner@acme.example"
        assert message["From"] == "rtc@platform.example"
        body = message.get_payload(decode=True).decode()  # type: ignore[union-attr]
        codes = re.findall(r"\b\d{6}\b", body)
        assert len(codes) == 1, body
        assert "acme" in body
        ok = sign_in(api, code=codes[0])
        assert ok.status_code == 201, ok.text
        assert len(handler.messages) == 1


def test_unreachable_mail_server_is_503_and_stores_no_code(
    database_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    # nobody listens there
    with served(database_url, tmp_path / "data", clock, free_port()) as (api, built):
        signup(api, "acme", email="owner@acme.example")
        clock.advance(days=31)
        response = sign_in(api)
        assert response.status_code == 503, response.text
        assert response.json()["code"] == "NotificationFailed"
        assert set(response.json()) == {"code", "message", "request_id"}
        with db.transaction(built.sessions) as session:
            pending = session.scalar(select(func.count()).select_from(tables.VerificationCode))
        assert pending == 0


def test_smtp_without_an_address_falls_back_to_the_log(
    database_url: str, tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """An account without e-mail still gets a code, through the operator's log."""
    settings = make_settings(
        database_url, tmp_path / "nomail", smtp=SmtpSettings(host="127.0.0.1", port=1)
    )
    platform = platform_module.build_platform(settings, clock=clock)
    try:
        with db.transaction(platform.sessions) as session:
            for table in reversed(tables.Base.metadata.sorted_tables):
                session.execute(delete(table))
        accounts.sign_up(platform, accounts.NewAccount("nomail", "correct-horse-9"))
        clock.advance(days=31)
        with (
            caplog.at_level(logging.WARNING, logger="rtcompute.notifier"),
            pytest.raises(errors.VerificationRequired) as asked,
        ):
            auth.sign_in(platform, auth.SignIn(alias="nomail", password="correct-horse-9"))
        assert asked.value.method == "log"
        code = re.search(r"\b(\d{6})\b", caplog.text)
        assert code is not None
        signed = auth.sign_in(
            platform, auth.SignIn(alias="nomail", password="correct-horse-9", code=code.group(1))
        )
        assert signed.principal.account_alias == "nomail"
    finally:
        platform.engine.dispose()


def test_a_ram_user_learns_the_code_went_to_the_account_owner(
    database_url: str, tmp_path: Path, clock: FakeClock, inbox: tuple[Inbox, int]
) -> None:
    """The code of a RAM user goes to the account's address: the user is told whom to ask."""
    handler, port = inbox
    with served(database_url, tmp_path / "data", clock, port) as (api, _):
        signup(api, "acme", email="owner@acme.example")
        owner = sign_in(api).json()["token"]
        created = api.post(
            "/api/v1/ram/users",
            headers={"Authorization": f"Bearer {owner}"},
            json={"name": "dev", "password": PASSWORD, "console_enabled": True},
        )
        assert created.status_code == 201, created.text
        assert sign_in(api, user="dev").status_code == 201
        clock.advance(days=31)
        response = sign_in(api, user="dev")
        assert response.status_code == 401, response.text
        message = response.json()["message"]
        assert "the account that owns this user (o***@acme.example)" in message
        assert "Ask the account owner for it" in message
        assert [recipients for recipients, _ in handler.messages] == [["owner@acme.example"]]
