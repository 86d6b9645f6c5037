"""Signing in: password, throttling, the inactivity verification code, TOTP MFA, passwords.

Failed attempts must be counted even though the call fails, so these use cases commit the
counter first and raise after; nothing else is written on a failure.

Whoever is asking learns one thing only: the right password (and code) signs in, anything
else gets one answer, `InvalidCredentials` with one message. An unknown name, a wrong
password and a throttled source (domain/throttling.py) are answered alike, cost alike (one
password hash verified, the failure counted) and leave the identity usable from every other
source. What would tell a known name apart (its console turned off, a code to enter) is said
only after its password was right.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pyotp

from rtcompute import errors
from rtcompute.domain import credentials, identities, text, throttling
from rtcompute.services.kernel import notifier as notifier_module
from rtcompute.services.kernel import platform as platform_module
from rtcompute.services.kernel import principals
from rtcompute.services.kernel import sessions as session_service
from rtcompute.store import accounts as account_store
from rtcompute.store import db, tables
from rtcompute.store import identities as identity_store
from rtcompute.store import sessions as session_store
from rtcompute.store import sign_in_throttles as throttle_store
from rtcompute.store import verification_codes as code_store


@dataclass(frozen=True)
class SignIn:
    alias: str
    password: str
    user: str | None = None
    code: str | None = None
    kind: str = session_service.CONSOLE
    source_ip: str = ""


@dataclass(frozen=True)
class _Attempt:
    """Whom the failures of this sign-in are counted against."""

    source: str
    subject: str


@dataclass(frozen=True)
class _CodeMail:
    """A verification code to send once the transaction that stored it has committed."""

    identity_id: int
    send: Callable[[], None]


@dataclass(frozen=True)
class SignedIn:
    token: str
    csrf_token: str
    principal: principals.Principal
    expires_at_iso: str


def _find_identity(
    session: db.Session, alias: str, user: str | None
) -> tuple[tables.Account, tables.Identity] | None:
    if not text.is_storable(alias) or (user is not None and not text.is_storable(user)):
        return None  # no stored name holds such characters
    account = account_store.read_account_by_alias(session=session, alias=alias)
    if account is None:
        return None
    if user:
        identity = identity_store.read_identity_by_name(
            session=session, account_id=account.id, name=user
        )
        if identity is None or identity.identity_type != identities.IdentityType.RAM_USER:
            return None
    else:
        identity = identity_store.read_account_identity(session=session, account_id=account.id)
    return (account, identity) if identity is not None else None


def sign_in(platform: platform_module.Platform, request: SignIn) -> SignedIn:
    """Check the credentials and open a session, or raise what the caller must do next."""
    outcome: errors.RtcError | SignedIn
    outbox: list[_CodeMail] = []
    with db.transaction(platform.sessions) as session:
        outcome = _sign_in(platform, session, request, outbox)
        if isinstance(outcome, errors.RtcError):
            db.not_a_change(session)  # the refusal's counts and codes, not a sign-in
    # notifications go out after the commit: a slow mail server must not hold the database
    for mail in outbox:
        try:
            mail.send()
        except errors.RtcError:
            # not delivered: no code may wait that nobody received
            with db.transaction(platform.sessions) as session:
                code_store.delete_verification_code(session=session, identity_id=mail.identity_id)
            raise
    if isinstance(outcome, errors.RtcError):
        raise outcome
    return outcome


def _limits(platform: platform_module.Platform) -> throttling.Limits:
    auth = platform.settings.auth
    return throttling.Limits(
        per_identity=auth.max_failed_attempts,
        per_source=auth.max_failed_attempts_per_source,
        period=timedelta(minutes=auth.lockout_minutes),
    )


def _refusal(platform: platform_module.Platform) -> errors.Unauthenticated:
    """The one answer to every failed password step, whatever failed."""
    minutes = platform.settings.auth.lockout_minutes
    return errors.Unauthenticated(
        "the account, user name or password is wrong, or this address made too many failed "
        f"sign-ins (then wait {minutes} minutes)",
        f"账号、用户名或密码错误，或此地址的登录失败次数过多（请等待 {minutes} 分钟后再试）",
        code="InvalidCredentials",
    )


def _sign_in(
    platform: platform_module.Platform,
    session: db.Session,
    request: SignIn,
    outbox: list[_CodeMail],
) -> errors.RtcError | SignedIn:
    now = platform.now()
    found = _find_identity(session, request.alias, request.user)
    attempt = _Attempt(
        source=throttling.source_key(request.source_ip),
        subject=throttling.identity_subject(found[1].id)
        if found is not None
        else throttling.claim_subject(request.alias, request.user),
    )
    counts = throttle_store.read_counts(
        session=session,
        source=attempt.source,
        subjects=(attempt.subject, throttling.ANY_IDENTITY),
    )
    if found is None or throttling.throttled(counts, attempt.subject, _limits(platform), now):
        platform.passwords.verify(None, request.password)  # the cost of a real check
        return _count_failure(platform, session, attempt, _refusal(platform))
    account, identity = found
    if not platform.passwords.verify(identity.password_hash, request.password):
        return _count_failure(platform, session, attempt, _refusal(platform))
    if not identity.console_enabled and request.kind == session_service.CONSOLE:
        return errors.Forbidden(
            "console access is turned off for this user; ask the account owner",
            "该用户未开启控制台访问，请联系主账号",
            code="ConsoleAccessDisabled",
        )
    second_factor = _check_second_factor(
        platform, session, account, identity, request.code, outbox, attempt
    )
    if second_factor is not None:
        return second_factor
    throttle_store.forget(session=session, source=attempt.source, subject=attempt.subject)
    identity.last_login_at = now
    identity.last_activity_at = now
    assert identity.password_hash is not None
    if platform.passwords.needs_rehash(identity.password_hash):
        identity.password_hash = platform.passwords.hash(request.password)
    token, record = session_service.new_session_record(
        platform,
        identity_id=identity.id,
        kind=request.kind,
        source_ip=request.source_ip,
        mfa_present=identity.mfa_enabled,
    )
    session_store.create_session(session=session, record=record)
    principal = session_service._principal(
        identity,
        account,
        auth_method="session",
        credential_id=str(record.id),
        mfa_present=identity.mfa_enabled,
        csrf_token=record.csrf_token,
    )
    return SignedIn(token, record.csrf_token, principal, record.expires_at.isoformat())


def _count_failure(
    platform: platform_module.Platform,
    session: db.Session,
    attempt: _Attempt,
    error: errors.RtcError,
) -> errors.RtcError:
    """Count the failure on the source's identity and on the source, then answer `error`."""
    rules = _limits(platform)
    now = platform.now()
    for subject, limit in (
        (throttling.ANY_IDENTITY, rules.per_source),
        (attempt.subject, rules.per_identity),
    ):
        throttle_store.count_failure(
            session=session,
            source=attempt.source,
            subject=subject,
            limit=limit,
            period=rules.period,
            now=now,
        )
    throttle_store.prune(session=session, now=now)
    return error


def _check_second_factor(
    platform: platform_module.Platform,
    session: db.Session,
    account: tables.Account,
    identity: tables.Identity,
    code: str | None,
    outbox: list[_CodeMail],
    attempt: _Attempt,
) -> errors.RtcError | None:
    """TOTP when MFA is on; else the e-mailed/logged code after a long inactivity."""
    now = platform.now()
    if identity.mfa_enabled and identity.mfa_secret:
        if not code:
            return errors.VerificationRequired(
                "Enter the 6-digit code of your MFA app.",
                "请输入 MFA 应用中的 6 位验证码。",
                method="totp",
            )
        if not _accept_totp(platform, identity, code):
            return _count_failure(
                platform,
                session,
                attempt,
                errors.Unauthenticated(
                    "the MFA code is wrong or expired",
                    "MFA 验证码错误或已过期",
                    code="InvalidVerificationCode",
                ),
            )
        return None
    after = timedelta(days=platform.settings.auth.verification_after_days)
    if not identities.needs_verification(identity.last_activity_at, now, after=after):
        return None
    pending = code_store.read_verification_code(session=session, identity_id=identity.id)
    if code and pending is not None and pending.expires_at > now:
        if credentials.matches(code, pending.code_hash):
            code_store.delete_verification_code(session=session, identity_id=identity.id)
            return None
        pending.attempts += 1
        if pending.attempts >= platform.settings.auth.max_failed_attempts:
            code_store.delete_verification_code(session=session, identity_id=identity.id)
        return _count_failure(
            platform,
            session,
            attempt,
            errors.Unauthenticated(
                "the verification code is wrong",
                "验证码错误",
                code="InvalidVerificationCode",
            ),
        )
    minutes = platform.settings.auth.verification_code_minutes
    new_code = credentials.new_verification_code()
    code_store.upsert_verification_code(
        session=session,
        record=tables.VerificationCode(
            identity_id=identity.id,
            code_hash=credentials.digest(new_code),
            expires_at=now + timedelta(minutes=minutes),
            attempts=0,
        ),
    )
    display = identities.principal_display(
        identities.IdentityType(identity.identity_type), identity.name, account.alias
    )
    notifier = platform.notifier
    if notifier.channel == "email" and not account.email:
        # no address to mail: the operator's log is the only way the code can reach anyone
        notifier = notifier_module.LogNotifier()
    body = f"Verification code for {display}: {new_code} (valid for {minutes} minutes)"
    send = functools.partial(
        notifier.send, to=account.email, subject="rtcompute sign-in verification code", body=body
    )
    outbox.append(_CodeMail(identity_id=identity.id, send=send))
    return code_sent(
        notifier.channel,
        ram_user=identity.identity_type == identities.IdentityType.RAM_USER,
        address=account.email,
    )


def masked(address: str) -> str:
    """An e-mail address as a hint of where a code went: `a***@example.com`."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def code_sent(
    channel: str, *, ram_user: bool = False, address: str = ""
) -> errors.VerificationRequired:
    """After a long inactivity: a code went out by e-mail (`email`, to the account's
    address) or to the server log (`log`); the sentence says whom to ask for it."""
    inactive = "This identity has been inactive for a long time, so a 6-digit code is needed: "
    inactive_zh = "该身份已长时间未登录，需要输入 6 位验证码："
    if channel == "email" and ram_user:
        return errors.VerificationRequired(
            inactive + f"it was e-mailed to the address of the account that owns this user "
            f"({masked(address)}). Ask the account owner for it, then enter it with your "
            "password.",
            inactive_zh + f"验证码已发送到本用户所属主账号的邮箱（{masked(address)}）。"
            "请向主账号所有者索取，然后连同密码一起输入。",
            method=channel,
        )
    if channel == "email":
        return errors.VerificationRequired(
            inactive + f"it was e-mailed to this account's address ({masked(address)}). Enter "
            "it with your password.",
            inactive_zh + f"验证码已发送到本账号的邮箱（{masked(address)}）。请连同密码一起输入。",
            method=channel,
        )
    return errors.VerificationRequired(
        inactive + "no e-mail reaches this account, so the code was written to the server log "
        "of this installation. Ask the installation's operator for it, then enter it with "
        "your password.",
        inactive_zh + "本账号收不到邮件，验证码已写入本平台的服务器日志。请向平台运维人员索取，"
        "然后连同密码一起输入。",
        method=channel,
    )


def _accept_totp(platform: platform_module.Platform, identity: tables.Identity, code: str) -> bool:
    """A current TOTP code (one step of clock drift either way), each code usable once."""
    if not identity.mfa_secret or not code.isascii() or not code.isdigit():
        return False
    totp = pyotp.TOTP(identity.mfa_secret)
    now = platform.now()
    for drift in (-1, 0, 1):
        moment = now + timedelta(seconds=drift * totp.interval)
        step = totp.timecode(moment)
        if totp.at(moment) == code:
            if identity.mfa_last_step is not None and step <= identity.mfa_last_step:
                return False  # replayed: this code (or a later one) was used already
            identity.mfa_last_step = step
            return True
    return False


def _own_identity(session: db.Session, principal: principals.Principal) -> tables.Identity:
    identity = identity_store.read_identity(session=session, identity_id=principal.identity_id)
    if identity is None:  # deleted while its session was still open
        raise errors.NotFound(
            "identity not found",
            "您的身份已不存在；请联系账号所有者",
            code="IdentityNotFound",
        )
    return identity


def mfa_enabled(platform: platform_module.Platform, principal: principals.Principal) -> bool:
    """Whether the caller's identity has MFA on (sessions only know if it was used)."""
    with db.transaction(platform.sessions) as session:
        identity = identity_store.read_identity(session=session, identity_id=principal.identity_id)
        return bool(identity is not None and identity.mfa_enabled)


def change_password(
    platform: platform_module.Platform,
    principal: principals.Principal,
    *,
    old_password: str,
    new_password: str,
) -> None:
    """Change the caller's password and end its other sessions."""
    with db.transaction(platform.sessions) as session:
        identity = _own_identity(session, principal)
        if not platform.passwords.verify(identity.password_hash, old_password):
            raise errors.Invalid(
                "the current password is wrong", "当前密码错误", code="InvalidCredentials"
            )
        identities.check_password(
            new_password,
            name=principal.name,
            min_length=platform.settings.auth.password_min_length,
        )
        if principal.identity_type is identities.IdentityType.ACCOUNT:
            identities.check_password(
                new_password,
                name=principal.account_alias,
                min_length=platform.settings.auth.password_min_length,
            )
        identity.password_hash = platform.passwords.hash(new_password)
        keep = int(principal.credential_id) if principal.auth_method == "session" else None
        session_store.delete_sessions_of_identity(
            session=session, identity_id=identity.id, keep_session_id=keep
        )
    platform.credentials.drop_identity(principal.identity_id)


def begin_mfa(
    platform: platform_module.Platform, principal: principals.Principal
) -> tuple[str, str]:
    """A new TOTP secret (not active until confirmed) and its otpauth:// URI."""
    secret = pyotp.random_base32()
    with db.transaction(platform.sessions) as session:
        identity = _own_identity(session, principal)
        if identity.mfa_enabled:
            raise errors.Conflict(
                "MFA is already on; turn it off first",
                "MFA 已开启，请先关闭",
                code="MfaAlreadyBound",
            )
        identity.mfa_secret = secret
    uri = pyotp.TOTP(secret).provisioning_uri(name=principal.display, issuer_name="rtcompute")
    return secret, uri


def set_mfa(
    platform: platform_module.Platform,
    principal: principals.Principal,
    *,
    code: str,
    enabled: bool,
) -> None:
    """Turn MFA on (confirming the pending secret) or off, with a current TOTP code."""
    with db.transaction(platform.sessions) as session:
        identity = _own_identity(session, principal)
        if not identity.mfa_secret:
            raise errors.Conflict(
                "no MFA device is pending: set one up first",
                "没有待绑定的 MFA 设备，请先设置",
                code="MfaNotStarted",
            )
        if enabled == identity.mfa_enabled:
            state = "on" if enabled else "off"
            state_zh = "开启" if enabled else "关闭"
            raise errors.Conflict(
                f"MFA is already {state}", f"MFA 已处于{state_zh}状态", code="MfaUnchanged"
            )
        if not _accept_totp(platform, identity, code):
            raise errors.Invalid(
                "the MFA code is wrong, expired or already used",
                "MFA 验证码错误、已过期或已被使用",
                code="InvalidVerificationCode",
            )
        identity.mfa_enabled = enabled
        if not enabled:
            identity.mfa_secret = None
            identity.mfa_last_step = None
