"""Pages of one file into documents, and duplicates across files.

A card's two faces are one piece (joined by their document number when read, else by being
neighbouring faces of the same kind); a multi-document PDF gives one piece per document, each with
its first page. Pages that cannot be read or recognised become findings, never silent pieces.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from intake.documents import IDENTITY_KINDS, Document, Finding, PageRead

log = logging.getLogger(__name__)

CARD_KINDS = ("identity_card", "residence_permit", "driving_licence")
#: Kinds whose document can run over several pages (a bill's page 2, a tax notice's pages).
MULTIPAGE_KINDS = ("proof_of_address", "medical_opinion", "hosting_attestation", "training_certificate")


def _can_join(doc: Document, page: PageRead, last: PageRead) -> bool:
    if page.kind == "unknown" or doc.kind != page.kind:
        return False
    if page.kind in CARD_KINDS:
        if page.link and doc.evidence.get("link") and page.link != doc.evidence["link"]:
            return False
        sides = doc.evidence.get("sides", [])
        if page.side and page.side in sides:
            return False  # a second front (or back): another card, or the same one scanned again
        return len(sides) < 2
    if page.kind in MULTIPAGE_KINDS:
        # A following page of the same kind with no fields of its own continues the document;
        # one with its own holder or date is a second document.
        own = {k for k in ("issue_date", "holder_name") if k in page.fields}
        return not own or all(page.fields.get(k) == doc.fields.get(k) for k in own)
    return False


def _merge_fields(into: dict[str, Any], extra: dict[str, Any], mrz_wins: bool,
                  into_evidence: dict[str, Any], extra_evidence: dict[str, Any]) -> None:
    """The page's fields the document lacks (or the MRZ's, which win); each value keeps its evidence."""
    for key, value in extra.items():
        if key not in into or (mrz_wins and key in ("document_number", "surname", "given_names", "birth_date",
                                                     "sex", "nationality", "expiry_date", "mrz_valid",
                                                     "mrz_format")):
            into[key] = value
            if key in extra_evidence:
                into_evidence[key] = copy.deepcopy(extra_evidence[key])
            else:
                into_evidence.pop(key, None)


def _new_document(file: str, page: PageRead) -> Document:
    doc = Document(file=file, page=page.page, kind=page.kind, confidence=page.confidence,
                   fields=dict(page.fields), pages=[page.page], evidence=copy.deepcopy(page.evidence))
    doc.evidence["sides"] = [page.side] if page.side else []
    if page.link:
        doc.evidence["link"] = page.link
    doc.evidence["mrz_page"] = page.page if "mrz_format" in page.fields else None
    return doc


def group_pages(file: str, pages: list[PageRead]) -> tuple[list[Document], list[Finding]]:
    """Documents of one file and its file-level findings (unreadable, unknown and the pages' own)."""
    documents: list[Document] = []
    findings: list[Finding] = []
    last: PageRead | None = None
    current: Document | None = None
    for page in sorted(pages, key=lambda p: p.page):
        for f in page.findings:
            f2 = copy.copy(f)
            f2.file = file
            f2.page = f2.page or page.page
            findings.append(f2)
        if page.unreadable:
            findings.append(Finding(
                "unreadable_piece",
                f"{file}, page {page.page} : pièce illisible ({page.unreadable}). Merci de la numériser à nouveau.",
                file=file, page=page.page, details={"reason": page.unreadable},
            ))
            current, last = None, page
            continue
        if page.kind == "unknown":
            code = page.fields.get("two_d_doc")  # a 2D-Doc of a type no requirement uses
            seen = ""
            if isinstance(code, dict):
                signed = {True: "signature vérifiée", False: "signature invalide"}.get(
                    code.get("signature_valid"), "signature non vérifiée")
                from intake.twoddoc_types import label as type_label

                seen = f" ; 2D-Doc de type {code.get('type')} ({type_label(str(code.get('type')))}, {signed})"
            findings.append(Finding(
                "unknown_piece",
                f"{file}, page {page.page} : document non reconnu (ce n'est aucune des pièces attendues{seen}).",
                file=file, page=page.page, details={"two_d_doc": code} if isinstance(code, dict) else {},
            ))
            current, last = None, page
            continue
        target = current if current is not None and last is not None and _can_join(current, page, last) else None
        if target is None:
            # A card face may also join an earlier lone face of the same card elsewhere in the file.
            for doc in documents:
                if doc.kind == page.kind and page.kind in CARD_KINDS and page.link and doc.evidence.get("link") == page.link:
                    target = doc
                    break
        if target is None:
            current = _new_document(file, page)
            documents.append(current)
        else:
            _join(target, page)
            current = target
        last = page
    for doc in documents:
        doc.evidence.pop("sides", None)
    return documents, findings


def _join(doc: Document, page: PageRead) -> None:
    mrz_wins = "mrz_format" in page.fields and doc.evidence.get("mrz_page") is None
    _merge_fields(doc.fields, page.fields, mrz_wins, doc.evidence.setdefault("fields", {}),
                  page.evidence.get("fields") or {})
    doc.evidence.setdefault("frames", {}).update(copy.deepcopy(page.evidence.get("frames") or {}))
    if mrz_wins:
        doc.evidence["mrz_page"] = page.page
        for key in ("names_protected", "issuing_state", "mrz_name_readings", "mrz_names_full"):
            if key in page.evidence:
                doc.evidence[key] = page.evidence[key]
    if page.side:
        doc.evidence.setdefault("sides", []).append(page.side)
    if page.link and not doc.evidence.get("link"):
        doc.evidence["link"] = page.link
    doc.pages.append(page.page)
    doc.confidence = max(doc.confidence, page.confidence)
    if page.kind in IDENTITY_KINDS:
        doc.evidence.setdefault("faces", []).append(page.page)


def _identity_key(doc: Document) -> str | None:
    f = doc.fields
    for key in ("document_number", "licence_number", "code"):
        if f.get(key):
            return f"{doc.kind}:{key}:{f[key]}"
    two_d = f.get("two_d_doc")
    if isinstance(two_d, dict) and two_d.get("fields"):
        items = sorted((str(k), str(v)) for k, v in two_d["fields"].items())
        return f"2ddoc:{two_d.get('type')}:{items}"
    return None


def duplicate_findings(documents: list[Document], sha256_by_file: dict[str, str]) -> list[Finding]:
    """`duplicate_piece` (info) for a file uploaded twice (same bytes) and for the same document found
    twice (same document number, 2D-Doc content or photo code), naming the earlier one."""
    findings: list[Finding] = []
    first_file_by_hash: dict[str, str] = {}
    duplicate_files: set[str] = set()
    for file in sorted(sha256_by_file):
        digest = sha256_by_file[file]
        if digest in first_file_by_hash:
            duplicate_files.add(file)
            findings.append(Finding(
                "duplicate_piece",
                f"{file} est le même fichier que {first_file_by_hash[digest]} (envoyé deux fois).",
                file=file, details={"same_as": first_file_by_hash[digest], "by": "sha256"},
            ))
        else:
            first_file_by_hash[digest] = file
    seen: dict[str, Document] = {}
    for doc in sorted(documents, key=lambda d: (d.file, d.page)):
        key = _identity_key(doc)
        if key is None:
            continue
        if key in seen:
            if doc.file in duplicate_files and seen[key].file != doc.file:
                continue  # already reported as the same file
            first = seen[key]
            findings.append(Finding(
                "duplicate_piece",
                f"{doc.file}, page {doc.page} : même document que {first.file}, page {first.page}.",
                file=doc.file, page=doc.page,
                details={"same_as": {"file": first.file, "page": first.page}, "by": key.split(":")[1]},
            ))
        else:
            seen[key] = doc
    return findings
