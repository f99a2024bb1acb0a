"""What can happen to an upload, a dossier and a finding: their lifecycles, in one place.

Every writer of a state or status column goes through the functions here (the units of work the
actors call, `intake.units`; reprocessing; the web's operations), so "where does a piece's state
change?" has one answer, and a move the lifecycle does not allow is an error, not a silent overwrite.

- upload: `pending` (stored, to be read) -> `done` (read; its findings may say it is unreadable) or
  `failed` (the read gave up after its retries); any -> `replaced` (a newer upload took its place,
  final); `done`/`failed` -> `pending` again when it is to be read again (reprocessing).
- dossier: `pending` (pieces being read or a check to come) -> `complete` | `incomplete` |
  `needs_review` (a check stored its verdict; a reviewer's decisions move it between these) or
  `failed` (the check gave up); any -> `pending` when its pieces or declared data change.
- finding: `open` -> `accepted` (a reviewer overrides it, with a note) or `resolved`.

The status of a dossier from its findings is computed here only (`status_from_findings`), and what
was read in an upload goes to its rows and comes back from them here only (`piece_rows`,
`file_read_of`).
"""

from __future__ import annotations

from enum import Enum
from typing import Iterable

from intake.documents import Document, FileRead, Finding, status_of
from intake.errors import Conflict


class UploadState(str, Enum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"
    REPLACED = "replaced"


class DossierStatus(str, Enum):
    PENDING = "pending"
    COMPLETE = "complete"
    INCOMPLETE = "incomplete"
    NEEDS_REVIEW = "needs_review"
    FAILED = "failed"


class FindingState(str, Enum):
    OPEN = "open"
    ACCEPTED = "accepted"
    RESOLVED = "resolved"


SETTLED = (DossierStatus.COMPLETE, DossierStatus.INCOMPLETE, DossierStatus.NEEDS_REVIEW)

UPLOAD_MOVES: dict[UploadState, frozenset[UploadState]] = {
    UploadState.PENDING: frozenset({UploadState.DONE, UploadState.FAILED, UploadState.REPLACED}),
    UploadState.DONE: frozenset({UploadState.PENDING, UploadState.REPLACED}),
    UploadState.FAILED: frozenset({UploadState.PENDING, UploadState.DONE, UploadState.REPLACED}),
    UploadState.REPLACED: frozenset(),
}
DOSSIER_MOVES: dict[DossierStatus, frozenset[DossierStatus]] = {
    DossierStatus.PENDING: frozenset({*SETTLED, DossierStatus.FAILED}),
    **{s: frozenset({*SETTLED, DossierStatus.PENDING, DossierStatus.FAILED}) for s in SETTLED},
    DossierStatus.FAILED: frozenset({*SETTLED, DossierStatus.PENDING}),
}
FINDING_MOVES: dict[FindingState, frozenset[FindingState]] = {
    FindingState.OPEN: frozenset({FindingState.ACCEPTED, FindingState.RESOLVED}),
    FindingState.ACCEPTED: frozenset(),
    FindingState.RESOLVED: frozenset(),
}


class IllegalMove(Conflict):
    """A state change the lifecycle does not allow (a replaced upload read again, a decided finding
    decided again)."""


def _move(row, column: str, moves: dict, to: Enum, what: str) -> None:
    current = getattr(row, column)
    current = type(to)(current) if current is not None else None
    if current is not None and current != to and to not in moves[current]:
        raise IllegalMove(f"{what} : passage de « {current.value} » à « {to.value} » impossible.")
    setattr(row, column, to.value)


def move_upload(upload, to: UploadState) -> None:
    """Set an upload's state (at-least-once delivery: the same state again is no move)."""
    _move(upload, "state", UPLOAD_MOVES, to, "Pièce")


def move_dossier(dossier, to: DossierStatus) -> None:
    _move(dossier, "status", DOSSIER_MOVES, to, "Dossier")


def decide_finding(row, to: FindingState) -> None:
    """A reviewer's decision on an open finding (a decided one cannot be decided again)."""
    if row.state != FindingState.OPEN.value:
        raise IllegalMove("Ce constat a déjà été traité.")
    _move(row, "state", FINDING_MOVES, to, "Constat")


def status_from_findings(findings: Iterable[Finding]) -> DossierStatus:
    """The verdict of CONTRACT.md §2 from the findings still open."""
    return DossierStatus(status_of(list(findings)))


def status_from_open_rows(rows) -> DossierStatus:
    """The same, from stored finding rows: those a reviewer accepted or resolved no longer count."""
    return status_from_findings(Finding(r.code, r.message, severity=r.severity) for r in rows
                                if r.state == FindingState.OPEN.value)


# --- what was read, to rows and back ---------------------------------------------------------------

def piece_rows(upload_id: int, read: FileRead) -> list:
    """The `Piece` rows of one upload's documents, in their order."""
    from models import Piece

    return [Piece(upload_id=upload_id, position=position, page=d.page, pages=d.pages, kind=d.kind,
                  holder=d.holder, confidence=float(d.confidence), fields=d.fields, evidence=d.evidence)
            for position, d in enumerate(read.documents)]


def file_read_of(upload) -> FileRead:
    """An upload as the verdict reads it: its pieces back as documents, with its file-level findings
    (their details kept: a blank page's reason says it hides no piece)."""
    documents = [Document(file=upload.original_name, page=p.page, pages=list(p.pages or [p.page]), kind=p.kind,
                          confidence=p.confidence, fields=dict(p.fields or {}), holder=p.holder,
                          evidence=dict(p.evidence or {})) for p in upload.pieces]
    return FileRead(file=upload.original_name, documents=documents,
                    findings=[Finding.from_json(f) for f in (upload.file_findings or [])])
