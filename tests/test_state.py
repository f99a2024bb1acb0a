"""The lifecycles of intake.state: the only writer of upload, dossier and finding states."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from intake.documents import Finding
from intake.state import (
    DossierStatus,
    FindingState,
    IllegalMove,
    UploadState,
    decide_finding,
    move_dossier,
    move_upload,
    status_from_open_rows,
)


def test_an_upload_is_read_then_replaced_and_a_replaced_one_is_never_read_again():
    # Given a pending upload
    upload = SimpleNamespace(state="pending")
    # When it is read, then replaced
    move_upload(upload, UploadState.DONE)
    move_upload(upload, UploadState.DONE)  # a second delivery of the same read is no move
    move_upload(upload, UploadState.REPLACED)
    assert upload.state == "replaced"
    # Then reading it again is refused
    with pytest.raises(IllegalMove):
        move_upload(upload, UploadState.PENDING)


def test_a_failed_read_may_be_retried_and_succeed():
    upload = SimpleNamespace(state="failed")
    move_upload(upload, UploadState.PENDING)
    move_upload(upload, UploadState.DONE)
    assert upload.state == "done"


def test_a_decided_finding_cannot_be_decided_again():
    # Given an open finding accepted by a reviewer
    row = SimpleNamespace(state="open")
    decide_finding(row, FindingState.ACCEPTED)
    assert row.state == "accepted"
    # When another reviewer resolves it, then it is refused
    with pytest.raises(IllegalMove):
        decide_finding(row, FindingState.RESOLVED)


def test_the_status_counts_only_the_findings_still_open():
    # Given a blocking finding a reviewer accepted and a review finding still open
    rows = [SimpleNamespace(code="proof_of_address_too_old", message="m", severity="blocking", state="accepted"),
            SimpleNamespace(code="holder_mismatch", message="m", severity="review", state="open")]
    # Then the dossier needs review (not incomplete), and with nothing open it is complete
    assert status_from_open_rows(rows) is DossierStatus.NEEDS_REVIEW
    rows[1].state = "resolved"
    assert status_from_open_rows(rows) is DossierStatus.COMPLETE
    dossier = SimpleNamespace(status="pending")
    move_dossier(dossier, status_from_open_rows(rows))
    assert dossier.status == "complete"
    assert Finding("missing_piece", "m").severity == "blocking"


def test_what_was_read_goes_to_rows_and_comes_back_the_same():
    """Given a file read into two documents and a file-level finding, when they are written as rows
    and read back as the verdict reads them, then every value, evidence and finding detail is kept."""
    from types import SimpleNamespace

    from intake.documents import Document, FileRead, Finding
    from intake.state import file_read_of, piece_rows

    read = FileRead(file="scan.pdf", documents=[
        Document(file="scan.pdf", page=1, pages=[1, 2], kind="identity_card", confidence=0.97, holder="applicant",
                 fields={"surname": "MARTIN"}, evidence={"fields": {"surname": {"confidence": 0.9}}}),
        Document(file="scan.pdf", page=3, kind="photo_code", confidence=0.8, fields={"code": "A" * 22}),
    ], findings=[Finding("unreadable_piece", "Page blanche.", file="scan.pdf", page=4, details={"reason": "blank"})])
    rows = piece_rows(7, read)
    assert [r.position for r in rows] == [0, 1] and all(r.upload_id == 7 for r in rows)
    upload = SimpleNamespace(original_name="scan.pdf", pieces=rows,
                             file_findings=[{**f.to_json(), "details": f.details} for f in read.findings])
    back = file_read_of(upload)
    assert [(d.kind, d.page, d.pages, d.holder, d.fields, d.evidence) for d in back.documents] == \
        [(d.kind, d.page, d.pages, d.holder, d.fields, d.evidence) for d in read.documents]
    assert back.findings[0].code == "unreadable_piece" and back.findings[0].details == {"reason": "blank"}
