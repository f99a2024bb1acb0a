"""The state of intake, as typed SQLAlchemy 2 models (SQLite embedded, PostgreSQL in production).

- `Dossier`: the declared data and the current verdict.
- `Upload`: one stored file of a dossier (content-addressed by sha256) and what reading it gave.
- `Piece`: one document found in an upload (kind, holder, fields).
- `FindingRow`: one finding of the latest check, with its review state.
- `CheckRun`: which pipeline version produced which result, when.
- `AuditEvent`: who did what, when.
- `User`: school users and reviewers.
- `OutboxMessage`: work to send to the workers, written in the transaction that makes it needed.
- `WebSession`: a browser session, revoked server-side at logout.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class _JSON(TypeDecorator):
    """JSON, stored as JSONB on PostgreSQL. The PostgreSQL dialect is imported only when a
    PostgreSQL database is used: importing it costs every `intake check` (SQLite) ~0.1 s."""

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB

            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(JSON())


JSONType = _JSON()


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSONType, list[Any]: JSONType}


class Dossier(Base):
    __tablename__ = "dossiers"
    #: A client retrying a create with the same Idempotency-Key gets the same dossier.
    __table_args__ = (UniqueConstraint("school", "idempotency_key", name="uq_dossiers_school_idempotency_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(200), index=True)
    school: Mapped[str] = mapped_column(String(100), default="local", index=True)
    declared: Mapped[dict[str, Any]] = mapped_column(JSONType)
    reference_date: Mapped[date | None] = mapped_column(Date)
    #: pending (pieces being read, a check to come) | complete | incomplete | needs_review | failed (intake.state)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    source: Mapped[str] = mapped_column(String(20), default="api")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    pipeline_version: Mapped[str | None] = mapped_column(String(60))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Why it was closed: submitted (sent to ANTS) | abandoned | expired (no activity for too long).
    closed_reason: Mapped[str | None] = mapped_column(String(20))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    purged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Bumped at every change of the pieces, so a check of an older state is not taken as current.
    revision: Mapped[int] = mapped_column(Integer, default=0)

    uploads: Mapped[list["Upload"]] = relationship(back_populates="dossier", cascade="all, delete-orphan",
                                                   order_by="Upload.id")
    findings: Mapped[list["FindingRow"]] = relationship(back_populates="dossier", cascade="all, delete-orphan",
                                                        order_by="FindingRow.id")
    runs: Mapped[list["CheckRun"]] = relationship(back_populates="dossier", cascade="all, delete-orphan",
                                                  order_by="CheckRun.id")


class Upload(Base):
    __tablename__ = "uploads"
    #: `<Idempotency-Key>#<position of the file in the request>`: a retried request stores nothing twice.
    __table_args__ = (UniqueConstraint("dossier_id", "idempotency_key", name="uq_uploads_dossier_idempotency_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"), index=True)
    #: None when the file was refused before being stored (too large).
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    original_name: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer, default=0)
    page_count: Mapped[int] = mapped_column(Integer, default=0)
    #: pending | done | failed | replaced
    state: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    #: Findings that need no dossier (unsupported_file, unreadable_piece, ...), as contract JSON.
    file_findings: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    error: Mapped[str | None] = mapped_column(Text)
    pipeline_version: Mapped[str | None] = mapped_column(String(60))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    seconds: Mapped[float | None] = mapped_column()
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("uploads.id", ondelete="SET NULL"))
    idempotency_key: Mapped[str | None] = mapped_column(String(220))

    dossier: Mapped[Dossier] = relationship(back_populates="uploads")
    pieces: Mapped[list["Piece"]] = relationship(back_populates="upload", cascade="all, delete-orphan",
                                                 order_by="Piece.position")


class Piece(Base):
    __tablename__ = "pieces"
    __table_args__ = (UniqueConstraint("upload_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    upload_id: Mapped[int] = mapped_column(ForeignKey("uploads.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    page: Mapped[int] = mapped_column(Integer)
    pages: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    holder: Mapped[str] = mapped_column(String(30), default="unknown")
    confidence: Mapped[float] = mapped_column(default=0.0)
    fields: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    upload: Mapped[Upload] = relationship(back_populates="pieces")


class FindingRow(Base):
    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("check_runs.id", ondelete="SET NULL"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    code: Mapped[str] = mapped_column(String(60), index=True)
    severity: Mapped[str] = mapped_column(String(10))
    requirement: Mapped[str | None] = mapped_column(String(60))
    file: Mapped[str | None] = mapped_column(String(255))
    page: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    #: open | accepted (overridden by a reviewer, with a note) | resolved
    state: Mapped[str] = mapped_column(String(20), default="open", index=True)
    note: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    dossier: Mapped[Dossier] = relationship(back_populates="findings")

    def key(self) -> tuple:
        return finding_key(self)


def finding_key(finding: Any) -> tuple:
    """What identifies 'the same finding' from one check to the next, on a stored row or on a
    finding just made (intake.documents.Finding): its code, requirement, file and page."""
    return (finding.code, finding.requirement, finding.file, finding.page)


class CheckRun(Base):
    __tablename__ = "check_runs"
    __table_args__ = (Index("ix_check_runs_dossier_started", "dossier_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer, default=0)
    pipeline_version: Mapped[str] = mapped_column(String(60), index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: done | failed
    state: Mapped[str] = mapped_column(String(20), default="done")
    status: Mapped[str | None] = mapped_column(String(20))
    result: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    trigger: Mapped[str] = mapped_column(String(30), default="upload")

    dossier: Mapped[Dossier] = relationship(back_populates="runs")


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossiers.id", ondelete="SET NULL"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(100), default="system")
    action: Mapped[str] = mapped_column(String(60))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    #: school | reviewer | admin
    role: Mapped[str] = mapped_column(String(20))
    school: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: Wrong passwords in a row (reset by a successful login) and, past a few, when the next
    #: attempt may be made: guessing a password costs minutes, not milliseconds.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OutboxMessage(Base):
    """A message to send to the workers (read an upload, check a dossier), the transactional outbox.

    Written in the very transaction that makes the work needed (the upload row, the end of a read),
    sent after the commit; the sweeper of `intake worker` sends again what is unsent or unfinished
    after a bound. `done_at` is set once the work it asked for is seen finished.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_open", "done_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: read_upload | check_dossier
    actor: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[int] = mapped_column(Integer)
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"), index=True)
    trigger: Mapped[str] = mapped_column(String(30), default="upload")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: The Redis id of the last message sent for it (to tell a message still queued from a lost one).
    message_id: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebSession(Base):
    """A browser session: the cookie carries its random id, the server can revoke it (logout)."""

    __tablename__ = "web_sessions"

    #: sha256 of the random id kept in the signed cookie (a database leak gives no usable cookie).
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
