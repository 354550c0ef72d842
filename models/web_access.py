"""Who may open the web board: one-time login links, the sessions they start, and what each
person may see (the whole province, or one unit) — always read from the database."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.enums import Role
from models.snapshots import Identified
from models.tables import ChannelAccount, Officer, Unit, WebLogin, WebSession

LOGIN_LINK_TTL = timedelta(minutes=15)
SESSION_TTL = timedelta(hours=8)  # a working day; then a new link from the bot
PROVINCE_ROLES = (Role.SECRETARIAT, Role.ADMIN)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_login_link(session: Session, *, officer: Identified, now: datetime) -> str:
    """A new one-time token for `officer` (only its hash is stored)."""
    assert officer.id is not None
    token = secrets.token_urlsafe(32)
    session.add(
        WebLogin(
            token_hash=_digest(token),
            officer_id=officer.id,
            created_at=now,
            expires_at=now + LOGIN_LINK_TTL,
        )
    )
    session.flush()
    return token


def redeem_login_link(session: Session, *, token: str, now: datetime) -> WebSession | None:
    """A session for the link's officer, if the link is unused, in time, and they are active;
    the link is used up either way once found."""
    login = session.exec(
        select(WebLogin).where(WebLogin.token_hash == _digest(token)).with_for_update()
    ).first()
    if login is None or login.used_at is not None:
        return None
    login.used_at = now
    session.add(login)
    officer = session.get(Officer, login.officer_id)
    if login.expires_at <= now or officer is None or not officer.active:
        return None
    language = session.exec(
        select(ChannelAccount.language)
        .where(ChannelAccount.officer_id == officer.id)
        .order_by(col(ChannelAccount.last_seen_at).desc())
    ).first()
    web_session = WebSession(
        id=secrets.token_urlsafe(32),
        officer_id=login.officer_id,
        csrf=secrets.token_urlsafe(24),
        language=language or "vi",
        created_at=now,
        expires_at=now + SESSION_TTL,
    )
    session.add(web_session)
    session.flush()
    return web_session


@dataclass(frozen=True)
class Viewer:
    """A signed-in person and what they may see: `unit_id` None is the whole province."""

    session_id: str
    csrf: str
    language: str
    officer: Officer
    unit: Unit

    @property
    def whole_province(self) -> bool:
        return self.officer.role in PROVINCE_ROLES

    @property
    def scope_unit_id(self) -> int | None:
        return None if self.whole_province else self.unit.id

    @property
    def can_import(self) -> bool:
        return self.whole_province

    def may_see_unit(self, unit_id: int) -> bool:
        return self.whole_province or unit_id == self.unit.id


def viewer_of(session: Session, *, session_id: str, now: datetime) -> Viewer | None:
    """The signed-in person of a session id, if the session still runs and they are active."""
    row = session.exec(
        select(WebSession, Officer, Unit)
        .join(Officer, col(Officer.id) == WebSession.officer_id)
        .join(Unit, col(Unit.id) == Officer.unit_id)
        .where(
            WebSession.id == session_id,
            col(WebSession.ended_at).is_(None),
            col(WebSession.expires_at) > now,
            col(Officer.active),
        )
    ).first()
    if row is None:
        return None
    web_session, officer, unit = row
    return Viewer(
        session_id=web_session.id,
        csrf=web_session.csrf,
        language=web_session.language,
        officer=officer,
        unit=unit,
    )


def set_session_language(session: Session, *, session_id: str, language: str) -> None:
    session.execute(
        sa.update(WebSession).where(col(WebSession.id) == session_id).values(language=language)
    )


def end_session(session: Session, *, session_id: str, now: datetime) -> None:
    session.execute(
        sa.update(WebSession)
        .where(col(WebSession.id) == session_id, col(WebSession.ended_at).is_(None))
        .values(ended_at=now)
    )


def end_sessions_of(session: Session, *, officer_id: int, now: datetime) -> int:
    """Sign an officer out everywhere (their access was revoked); how many sessions ended."""
    ended = session.execute(
        sa.update(WebSession)
        .where(col(WebSession.officer_id) == officer_id, col(WebSession.ended_at).is_(None))
        .values(ended_at=now)
        .returning(col(WebSession.id))
    ).all()
    session.execute(
        sa.update(WebLogin)
        .where(col(WebLogin.officer_id) == officer_id, col(WebLogin.used_at).is_(None))
        .values(used_at=now)
    )
    return len(ended)
