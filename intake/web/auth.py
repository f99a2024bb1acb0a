"""Accounts: scrypt password hashes, users, API tokens, the session secret.

A password hash is `scrypt$n$r$p$salt$hash` (base64), salted per user, so the parameters can be
raised later without breaking old hashes. API tokens are signed (itsdangerous) and carry a piece of
the password hash: changing the password revokes them, and nothing needs storing.

Browser sessions are also known server-side (`web_sessions`): the signed cookie carries a random
session id whose hash is stored at login and revoked at logout, so a copied cookie stops working
when its user logs out (see `intake.web.app.SessionGuard`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select, update

from intake.db import session_scope
from intake.settings import get_settings
from models import User, WebSession, utcnow

log = logging.getLogger(__name__)

ROLES = ("school", "reviewer", "admin")
SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_LEN = 2**14, 8, 1, 32
TOKEN_MAX_AGE = 30 * 24 * 3600
MIN_PASSWORD = 8


class AccountError(ValueError):
    """A user cannot be created as asked; the message is French."""


@dataclass(frozen=True)
class Account:
    """The logged-in user, detached from any database session."""

    id: int
    username: str
    role: str
    school: str | None

    @property
    def is_reviewer(self) -> bool:
        return self.role in ("reviewer", "admin")

    def can_see(self, dossier_school: str) -> bool:
        """Reviewers see every dossier; a school user only its school's."""
        return self.is_reviewer or (self.school is not None and dossier_school == self.school)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                            dklen=SCRYPT_LEN)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r),
                                p=int(p), dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


#: Hashed once, so that an unknown user name costs the same time as a wrong password.
_DUMMY_HASH: str | None = None


def _account(user: User) -> Account:
    return Account(id=user.id, username=user.username, role=user.role, school=user.school)


class LoginThrottled(Exception):
    """Too many wrong passwords: no attempt is checked before `retry_after` seconds."""

    def __init__(self, retry_after: int):
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after

    @property
    def message(self) -> str:
        minutes = max(1, -(-self.retry_after // 60))
        return (f"Trop de tentatives de connexion : réessayer dans {minutes} minute"
                f"{'s' if minutes > 1 else ''}.")


#: Wrong passwords in a row allowed before each new one locks the account, for a time that doubles
#: from LOCK_FIRST_S up to LOCK_MAX_S. The lock lives in the database: every web process sees it.
FREE_FAILURES, LOCK_FIRST_S, LOCK_MAX_S = 5, 30, 15 * 60


def lock_seconds(failures: int) -> int:
    """How long the account is locked after this many wrong passwords in a row (0: not locked)."""
    if failures < FREE_FAILURES:
        return 0
    return min(LOCK_MAX_S, LOCK_FIRST_S * 2 ** (failures - FREE_FAILURES))


def authenticate(username: str, password: str, now: datetime | None = None) -> Account | None:
    """The account for these credentials, or None (same cost whether the user exists or not).

    Raises LoginThrottled while the account is locked by wrong passwords in a row: then the password
    is not even checked, so a guess made during the lock tells nothing.
    """
    global _DUMMY_HASH
    now = now or datetime.now(timezone.utc)
    with session_scope() as session:
        user = session.scalar(select(User).where(User.username == username.strip()))
        stored = user.password_hash if user is not None and user.active else None
        account = _account(user) if user is not None else None
        locked_until = _aware(user.locked_until) if user is not None else None
    if stored is None:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = hash_password("intake-dummy-password")
        verify_password(password, _DUMMY_HASH)
        return None
    if locked_until is not None and locked_until > now:
        raise LoginThrottled(int((locked_until - now).total_seconds()) + 1)
    right = verify_password(password, stored)
    _record_attempt(account.id, right, now)
    return account if right else None


def _record_attempt(user_id: int, right: bool, now: datetime) -> None:
    with session_scope() as session:
        if right:
            session.execute(update(User).where(User.id == user_id).values(failed_logins=0, locked_until=None))
            return
        # One statement, so that concurrent wrong guesses each count.
        session.execute(update(User).where(User.id == user_id).values(failed_logins=User.failed_logins + 1))
        failures = session.scalar(select(User.failed_logins).where(User.id == user_id)) or 0
        seconds = lock_seconds(failures)
        if seconds:
            session.execute(update(User).where(User.id == user_id)
                            .values(locked_until=now + timedelta(seconds=seconds)))
            log.warning("account %d locked for %d s after %d wrong passwords in a row", user_id, seconds, failures)


def unlock_user(username: str) -> bool:
    """Lift a lock set by wrong passwords (an administrator's `intake user unlock`); False if no such user."""
    with session_scope() as session:
        done = session.execute(update(User).where(User.username == username.strip())
                               .values(failed_logins=0, locked_until=None))
        return done.rowcount == 1


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite gives back naive datetimes (stored in UTC)."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment


def get_account(user_id: int) -> Account | None:
    with session_scope() as session:
        user = session.get(User, user_id)
        if user is None or not user.active:
            return None
        return _account(user)


def create_user(username: str, password: str, role: str, school: str | None = None) -> Account:
    """Create an account; raise AccountError (French) when the request is not valid."""
    username = (username or "").strip()
    if not username or len(username) > 100 or any(c.isspace() for c in username):
        raise AccountError("nom d'utilisateur invalide (1 à 100 caractères, sans espace)")
    if role not in ROLES:
        raise AccountError(f"rôle inconnu {role!r} (attendu : {', '.join(ROLES)})")
    if role == "school" and not (school or "").strip():
        raise AccountError("un compte d'auto-école doit indiquer son école (--school)")
    if len(password or "") < MIN_PASSWORD:
        raise AccountError(f"mot de passe trop court (au moins {MIN_PASSWORD} caractères)")
    with session_scope() as session:
        if session.scalar(select(User.id).where(User.username == username)) is not None:
            raise AccountError(f"l'utilisateur {username} existe déjà")
        user = User(username=username, password_hash=hash_password(password), role=role,
                    school=(school or "").strip() or None, active=True)
        session.add(user)
        session.flush()
        from intake.units import audit

        audit(session, "user_created", None, actor="cli", user_id=user.id, role=role)
        return _account(user)


# --- secrets and tokens ----------------------------------------------------------------------


def secret_key() -> str:
    """INTAKE_SECRET_KEY, or one generated once and kept in INTAKE_DATA_DIR/secret_key (0600)."""
    settings = get_settings()
    if settings.secret_key:
        return settings.secret_key
    path: Path = settings.data_dir / "secret_key"
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process wrote it first
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key)
    return key


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key(), salt="intake-api-token")


def issue_token(account: Account) -> str:
    with session_scope() as session:
        user = session.get(User, account.id)
        stamp = hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]
    return _serializer().dumps({"u": account.id, "p": stamp})


def account_for_token(token: str) -> Account | None:
    try:
        data = _serializer().loads(token, max_age=TOKEN_MAX_AGE)
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(data, dict):
        return None
    with session_scope() as session:
        user = session.get(User, data.get("u"))
        if user is None or not user.active:
            return None
        stamp = hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]
        if not hmac.compare_digest(stamp, str(data.get("p", ""))):
            return None
        return _account(user)


# --- browser sessions, revocable -------------------------------------------------------------


def _sid_hash(sid: str) -> str:
    return hashlib.sha256(sid.encode("utf-8")).hexdigest()


def open_web_session(user_id: int) -> str:
    """A new session id for this user (stored hashed); the cookie carries the id itself."""
    sid = secrets.token_urlsafe(32)
    with session_scope() as session:
        session.add(WebSession(id_hash=_sid_hash(sid), user_id=user_id))
    return sid


def web_session_valid(sid: object, user_id: object) -> bool:
    """True when this session id was opened for this user and not revoked since."""
    if not isinstance(sid, str) or not isinstance(user_id, int) or not sid:
        return False
    with session_scope() as session:
        row = session.get(WebSession, _sid_hash(sid))
        return row is not None and row.user_id == user_id and row.revoked_at is None


def revoke_web_session(sid: object) -> None:
    """Logout: this session id no longer opens anything, whoever holds a copy of the cookie."""
    if not isinstance(sid, str) or not sid:
        return
    with session_scope() as session:
        session.execute(update(WebSession).where(WebSession.id_hash == _sid_hash(sid), WebSession.revoked_at.is_(None))
                        .values(revoked_at=utcnow()))


def form_idempotency_key(request, data: dict) -> str:
    """An idempotency key for a page form: the same content posted twice in one session (a double
    click, the browser resending) is one operation."""
    import json

    session_part = str(request.session.get("csrf") or request.session.get("sid") or "")
    digest = hashlib.sha256((session_part + json.dumps(data, sort_keys=True, default=str)).encode("utf-8"))
    return "form-" + digest.hexdigest()[:40]
