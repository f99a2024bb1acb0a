"""The vocabulary of the contract (CONTRACT.md) as plain dataclasses.

Everything that crosses a module boundary inside the pipeline is one of these: a page read
(`PageRead`), a document found in a file (`Document`) and a finding (`Finding`). They hold no I/O
and serialise to exactly the JSON shapes of the contract.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

KINDS = (
    "identity_card",
    "passport",
    "residence_permit",
    "proof_of_address",
    "hosting_attestation",
    "photo_code",
    "assr",
    "jdc",
    "medical_opinion",
    "driving_licence",
    "training_certificate",
    "exam_certificate",
    "unknown",
)
IDENTITY_KINDS = ("identity_card", "passport", "residence_permit")
HOLDERS = ("applicant", "host", "legal_representative", "unknown")
SEVERITIES = ("blocking", "review", "info")

#: Every finding code of the contract with its default severity.
FINDING_SEVERITY: dict[str, str] = {
    "missing_piece": "blocking",
    "unreadable_piece": "review",
    "unsupported_file": "blocking",
    "unknown_piece": "review",
    "duplicate_piece": "info",
    "mrz_invalid": "review",
    "identity_expired": "blocking",
    "identity_name_mismatch": "blocking",  # review when no check digit protects the names
    "identity_birth_date_mismatch": "blocking",
    "identity_sex_mismatch": "review",
    # added: the identity document's nationality, read with confidence, is not the declared one
    "identity_nationality_mismatch": "review",
    "residence_permit_expired": "blocking",
    "proof_of_address_too_old": "blocking",
    "proof_of_address_date_missing": "review",
    "proof_of_address_name_mismatch": "blocking",
    "proof_of_address_address_mismatch": "review",
    "proof_of_address_signature_invalid": "blocking",
    # its 2D-Doc verified, the print read otherwise with doubt: the signed data are judged
    "proof_of_address_print_differs": "info",
    "photo_code_invalid": "blocking",
    "photo_code_expired": "blocking",
    "medical_opinion_too_old": "blocking",
    "holder_mismatch": "review",
    "birth_date_unusual": "review",
    # Added codes (the contract allows additions).
    "identity_expiry_unknown": "review",
    "medical_opinion_date_missing": "review",
    "medical_opinion_unfit": "blocking",
    "training_certificate_mismatch": "blocking",
    "check_failed": "review",
    # a piece whose key values (validators/key_fields.py) could not be read, or only with doubt
    "key_field_unread": "review",
}

#: Findings that need no dossier: the ones `intake extract` reports.
FILE_LEVEL_CODES = frozenset(
    {
        "unsupported_file",
        "unreadable_piece",
        "unknown_piece",
        "mrz_invalid",
        "photo_code_invalid",
        "proof_of_address_signature_invalid",
        "proof_of_address_print_differs",
        "duplicate_piece",
    }
)


@dataclass
class Finding:
    """One thing a person should know about the dossier, with a French message."""

    code: str
    message: str
    severity: str = ""
    requirement: str | None = None
    file: str | None = None
    page: int | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.severity:
            self.severity = FINDING_SEVERITY[self.code]
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code,
            "severity": self.severity,
            "requirement": self.requirement,
            "file": self.file,
            "message": self.message,
        }
        if self.page is not None:
            out["page"] = self.page
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Finding":
        return cls(
            code=data["code"],
            message=data["message"],
            severity=data.get("severity", ""),
            requirement=data.get("requirement"),
            file=data.get("file"),
            page=data.get("page"),
            details=data.get("details") or {},
        )


@dataclass
class PageRead:
    """What was read on one page (one raster image) of a file.

    `side` lets grouping join the two faces of a card ("front", "back" or None).
    `link` is a key shared by pages of the same document when it can be read (document number).
    `unreadable` holds the reason when the page cannot be read (blank, blurred, dark, small).
    `text` is the OCR text of the page, kept for classification and never logged.
    `ceilings` caps a field's confidence where its reader doubts what the value is, not how it was
    read (a date whose label says too little of its role): a ceiling under the validators'
    `AGREED_MIN_CONFIDENCE` is not lifted by two readings agreeing.
    """

    page: int
    kind: str = "unknown"
    confidence: float = 0.0
    fields: dict[str, Any] = field(default_factory=dict)
    side: str | None = None
    link: str | None = None
    unreadable: str | None = None
    text: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    ceilings: dict[str, float] = field(default_factory=dict)


@dataclass
class Document:
    """One document found in one file (one entry of `pieces` in the JSON)."""

    file: str
    page: int
    kind: str
    confidence: float
    fields: dict[str, Any] = field(default_factory=dict)
    holder: str = "unknown"
    pages: list[int] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind {self.kind!r}")
        if not self.pages:
            self.pages = [self.page]

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "page": self.page,
            "kind": self.kind,
            "holder": self.holder,
            "confidence": round(float(self.confidence), 3),
            "fields": self.fields,
            # how far each value can be trusted and where it was read (CONTRACT.md, "Evidence")
            "evidence": {k: v for k, v in (self.evidence.get("fields") or {}).items() if k in self.fields},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Document":
        return cls(
            file=data["file"],
            page=data["page"],
            kind=data["kind"],
            confidence=data.get("confidence", 0.0),
            fields=data.get("fields") or {},
            holder=data.get("holder", "unknown"),
            pages=data.get("pages") or [data["page"]],
            evidence=_evidence_from_json(data),
        )


def _evidence_from_json(data: dict[str, Any]) -> dict[str, Any]:
    """A piece's internal evidence, from a stored row (`evidence` is then the whole record) or from
    the contract's JSON (`evidence` is then the fields' evidence alone)."""
    evidence = data.get("evidence") or {}
    if evidence and not any(k in evidence for k in ("fields", "frames", "quality", "scores", "sides", "link",
                                                    "mrz_page", "names_protected", "orientation")) and \
            all(isinstance(v, dict) and "reader" in v for v in evidence.values()):
        return {"fields": evidence}
    return evidence


@dataclass
class FileRead:
    """Everything read from one uploaded file: its documents and its file-level findings."""

    file: str
    documents: list[Document] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    page_count: int = 0
    media_type: str | None = None


STATUSES = ("complete", "incomplete", "needs_review")


def status_of(findings: list[Finding]) -> str:
    """The verdict of CONTRACT.md §2 from the findings alone."""
    severities = {f.severity for f in findings}
    if "blocking" in severities:
        return "incomplete"
    if "review" in severities:
        return "needs_review"
    return "complete"
