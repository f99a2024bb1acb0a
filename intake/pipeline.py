"""The steps every way in runs: read a file into documents, then judge a dossier.

`read_file` turns one stored file into a `FileRead` (its documents and file-level findings); it is the
OCR-heavy step, run by the `read_upload` actor. `judge_dossier` turns the declared data and every
`FileRead` into the contract JSON; it is cheap, run by the `check_dossier` actor. Nothing here touches
the database or the broker: the actors do, and `intake check` goes through the actors.
"""

from __future__ import annotations

import logging
import os
import traceback
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from intake.documents import Document, FileRead, Finding, PageRead
from intake.dossier import Declared
from intake.extractors.images import UnsupportedFile, open_source
from intake.extractors.ocr.words import OcrTimeout
from intake.settings import Settings, get_settings
from intake.version import PIPELINE_VERSION

log = logging.getLogger(__name__)

__all__ = ["PIPELINE_VERSION", "read_file", "judge_dossier", "result_json", "check_folder", "list_piece_files"]

#: Files in a dossier folder that are not pieces: the declared data, and the ground truth that the
#: specimen corpus keeps beside it.
NOT_PIECES = frozenset({"dossier.json", "expected.json"})


def usable_cores() -> int:
    """The cores this process may run on (`taskset`, a container's cpuset), not the machine's: each
    page thread loads its own tesseract engines (0.1 s and some 30 MB a language), which a thread
    with no core of its own only slows down."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


@lru_cache(maxsize=1)
def _page_pool() -> ThreadPoolExecutor:
    """Pages of all pieces share one pool sized to the usable cores (or to INTAKE_PAGE_THREADS, this
    process's share of them under `intake worker`): tesseract is the cost."""
    return ThreadPoolExecutor(max_workers=get_settings().page_threads or usable_cores(),
                              thread_name_prefix="intake-page")


def _unsupported(name: str, reason: str) -> Finding:
    return Finding(
        "unsupported_file",
        f"Le fichier « {name} » n'a pas pu être lu : {reason}. Fournir le document en JPEG, PNG, TIFF ou PDF "
        f"non protégé.",
        file=name,
    )


class _RenderFailed(Exception):
    def __init__(self, page: int, reason: str):
        super().__init__(reason)
        self.page, self.reason = page, reason


def _read_page_safely(render: Callable[[int], Any], index: int) -> PageRead | _RenderFailed:
    """Read one page; a page that fails never takes the others down with it."""
    from intake.extractors.page import read_page

    try:
        image = render(index)
    except UnsupportedFile as exc:
        return _RenderFailed(index, exc.reason)
    try:
        return read_page(image, index)
    except OcrTimeout:
        return PageRead(page=index, unreadable="la lecture de la page a dépassé le temps imparti")
    except Exception as exc:  # noqa: BLE001 - one page's bug must not lose the dossier
        log.error("page reader failed on page %d: %s\n%s", index, type(exc).__name__,
                  "".join(traceback.format_tb(exc.__traceback__)))
        read = PageRead(page=index)
        read.findings.append(Finding(
            "check_failed",
            f"La page {index} n'a pas pu être analysée automatiquement ; elle doit être vérifiée par une personne.",
            page=index,
        ))
        return read


def read_file(path: Path, name: str, settings: Settings | None = None) -> FileRead:
    """Read one piece file: every page, grouped into documents, with the file-level findings."""
    from intake.grouping import group_pages

    settings = settings or get_settings()
    try:
        source = open_source(path, settings, reading=True)
    except UnsupportedFile as exc:
        return FileRead(file=name, findings=[_unsupported(name, exc.reason)])
    results = list(_page_pool().map(lambda i: _read_page_safely(source.render, i),
                                    range(1, source.page_count + 1)))
    pages = [r for r in results if isinstance(r, PageRead)]
    failed = [r for r in results if isinstance(r, _RenderFailed)]
    # group_pages returns the pages' own findings with the document-level ones.
    documents, findings = group_pages(name, pages) if pages else ([], [])
    for failure in failed:
        where = f"page {failure.page} : " if source.page_count > 1 else ""
        finding = _unsupported(name, where + failure.reason)
        finding.page = failure.page if source.page_count > 1 else None
        findings.append(finding)
    for finding in findings:
        finding.file = name
    for document in documents:
        document.file = name
    # One stable order whatever the threads did: by page, then code.
    findings.sort(key=lambda f: (f.page or 0, f.code))
    return FileRead(file=name, documents=documents, findings=_dedupe(findings),
                    page_count=source.page_count, media_type=source.media_type)


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen, out = set(), []
    for f in findings:
        key = (f.code, f.requirement, f.file, f.page, f.message)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def judge_dossier(
    declared: Declared,
    reads: list[FileRead],
    sha256_by_file: dict[str, str],
    reference_date: date,
) -> tuple[str, list[Document], list[Finding]]:
    """The verdict of a dossier from what its files gave: (status, documents with holders, findings)."""
    from intake.grouping import duplicate_findings
    from intake.validators.verdict import judge

    documents = [d for r in reads for d in r.documents]
    file_findings = [f for r in reads for f in r.findings]
    file_findings += duplicate_findings(documents, sha256_by_file)
    verdict = judge(declared, documents, file_findings, reference_date)
    return verdict.status, verdict.documents, verdict.findings


def result_json(reference: str, status: str, documents: list[Document], findings: list[Finding]) -> dict:
    """The JSON document of CONTRACT.md §2."""
    return {
        "reference": reference,
        "status": status,
        "pieces": [d.to_json() for d in documents],
        "findings": [f.to_json() for f in findings],
    }


def list_piece_files(folder: Path) -> list[Path]:
    """Every piece file of a dossier folder, in name order (hidden files and folders skipped)."""
    return sorted(
        (p for p in Path(folder).iterdir()
         if p.name not in NOT_PIECES and not p.name.startswith(".") and (p.is_file() or p.is_symlink())),
        key=lambda p: p.name,
    )

