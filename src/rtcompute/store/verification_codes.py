"""Data access for pending sign-in verification codes."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from rtcompute.store import tables


def upsert_verification_code(
    *, session: Session, record: tables.VerificationCode
) -> tables.VerificationCode:
    merged = session.merge(record)
    session.flush()
    return merged


def read_verification_code(*, session: Session, identity_id: int) -> tables.VerificationCode | None:
    return session.get(tables.VerificationCode, identity_id)


def delete_verification_code(*, session: Session, identity_id: int) -> None:
    session.execute(
        delete(tables.VerificationCode).where(tables.VerificationCode.identity_id == identity_id)
    )
