"""Where one-time codes and alerts go: SMTP when configured, else the server log.

A self-hosted operator without a mail server reads the code from the log (the guide sends an
SMS or an e-mail; we have neither by default).
"""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from typing import Protocol

from rtcompute import errors
from rtcompute import settings as settings_module

log = logging.getLogger("rtcompute.notifier")


class Notifier(Protocol):
    channel: str

    def send(self, *, to: str, subject: str, body: str) -> None: ...


class LogNotifier:
    channel = "log"

    def send(self, *, to: str, subject: str, body: str) -> None:
        log.warning("notification for %s: %s: %s", to or "(no e-mail)", subject, body)


class SmtpNotifier:
    channel = "email"

    def __init__(self, config: settings_module.SmtpSettings) -> None:
        self.config = config

    def send(self, *, to: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"] = self.config.sender
        message["To"] = to
        message["Subject"] = subject
        message.set_content(body)
        try:
            with smtplib.SMTP(self.config.host, self.config.port, timeout=10) as smtp:
                if self.config.starttls:
                    smtp.starttls()
                if self.config.username:
                    smtp.login(self.config.username, self.config.password)
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            log.error("could not send e-mail to %s: %s", to, exc)
            raise errors.Unavailable(
                "the verification e-mail could not be sent; try again later or ask the "
                "operator to check the SMTP settings",
                "验证邮件发送失败；请稍后重试，或请平台管理员检查邮件（SMTP）设置",
                code="NotificationFailed",
            ) from exc


def from_settings(settings: settings_module.Settings) -> Notifier:
    if settings.smtp.host:
        return SmtpNotifier(settings.smtp)
    return LogNotifier()
