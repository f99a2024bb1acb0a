"""Ready to file: the pieces of a checked dossier prepared for the ANTS site, and the check report.

One file per requirement of the procedure, named for what the ANTS form asks (`01-piece-identite.pdf`,
`02-justificatif-domicile.pdf`, ...), made from the stored uploads: each page turned upright and
levelled the way the pipeline read it (`evidence["frames"]`, `evidence["orientation"]`), a card
photographed on a table cropped to the card with its perspective corrected (`orient.find_paper`,
`orient.flatten`), both faces of a card on one page, compressed under `INTAKE_EXPORT_MAX_BYTES`.
Nothing else is changed: geometry, contrast (a phone photo's levels only) and compression, so that
a reviewer can compare a page with its upload. The e-photo code goes in a text file, to paste.

An export is refused, with the reason in French, while the dossier is not complete, unless a
reviewer decided (accepted or resolved) every finding that kept it from being so.

This module owns the geometry and the files; `intake.report` draws the PDF report from the data
`report_data` gives (the same data the JSON of the check holds). Reading from the database and the
file store happens in `load_record` only.
"""

from __future__ import annotations

import io
import json
import logging
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageOps

from intake import labels
from intake.errors import InputError, NotFound, Refused
from intake.documents import Document
from intake.settings import get_settings

log = logging.getLogger(__name__)

#: What the ANTS form calls each requirement, as a file name (no accents, no spaces).
EXPORT_NAMES: dict[str, str] = {
    "identity": "piece-identite",
    "proof_of_address": "justificatif-domicile",
    "photo_code": "code-ephoto",
    "residence_permit": "titre-sejour",
    "jdc": "certificat-jdc",
    "assr": "assr",
    "medical_opinion": "avis-medical",
    "driving_licence": "permis-de-conduire",
    "training_certificate": "attestation-formation",
    "legal_representative_identity": "piece-identite-representant-legal",
    "hosting_attestation": "attestation-hebergement",
    "host_identity": "piece-identite-hebergeant",
    "host_proof_of_address": "justificatif-domicile-hebergeant",
}
REPORT_NAME = "rapport-controle.pdf"
REPORT_JSON_NAME = "rapport-controle.json"
#: Findings that keep a dossier from being complete until a reviewer decides on them.
ACTIONABLE = ("blocking", "review")
CARD_KINDS = ("identity_card", "residence_permit", "driving_licence")

#: Pixels of the long side before compression starts lowering them: an A4 page at 200 dpi, a
#: card face at ~350 dpi. Below the floors a page is no longer legible: the export fails instead.
A4_LONG_SIDE, A4_FLOOR = 2339, 1400
CARD_LONG_SIDE, CARD_FLOOR = 1200, 700
#: (scale of the long side, JPEG quality), tried in order until the file fits; then in gray.
COMPRESSION_STEPS = ((1.0, 85), (1.0, 72), (0.85, 65), (0.72, 60), (0.6, 55), (0.5, 50), (0.42, 45))


class ExportRefused(Refused):
    """The dossier may not be exported yet; `message` is French, for the school."""


class ExportError(InputError):
    """The export could not be made (an uploaded file is gone, a page will not fit); French message."""


# --- what is exported: the dossier as stored -----------------------------------------------------


@dataclass
class FindingRecord:
    """A finding of the latest check with the reviewer's decision on it."""

    id: int | None
    code: str
    severity: str
    requirement: str | None
    file: str | None
    page: int | None
    message: str
    state: str = "open"
    note: str | None = None
    decided_by: str | None = None
    decided_at: str | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class DossierRecord:
    """Everything an export and a report need, read once from the database."""

    id: int
    reference: str
    status: str
    declared: dict[str, Any]
    reference_date: date
    checked_at: datetime | None
    pipeline_version: str | None
    documents: list[Document]
    paths: dict[str, Path]
    findings: list[FindingRecord]
    requirements: list[Any]  # intake.validators.rules.RequirementStatus
    result: dict[str, Any] = field(default_factory=dict)


def load_record(dossier_id: int) -> DossierRecord:
    """The dossier's declared data, pieces (with evidence), findings with decisions and requirement
    statuses. The statuses come from judging the stored reads again (cheap, no OCR): the verdict
    says which piece meets each requirement."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from intake import units
    from intake.db import session_scope
    from intake.dossier import parse_declared
    from intake.state import file_read_of
    from intake.validators.verdict import judge
    from models import CheckRun, Dossier, Upload, User

    with session_scope() as session:
        dossier = session.get(Dossier, dossier_id)
        if dossier is None or dossier.purged_at is not None:
            raise NotFound(f"dossier {dossier_id} introuvable")
        uploads = list(session.scalars(
            select(Upload).where(Upload.dossier_id == dossier_id, Upload.state != "replaced")
            .options(selectinload(Upload.pieces)).order_by(Upload.original_name, Upload.id)))
        reads, paths = [], {}
        for upload in uploads:
            reads.append(file_read_of(upload))
            if upload.sha256:
                paths[upload.original_name] = units.store().path_for(upload.sha256)
        decided = {f.decided_by for f in dossier.findings if f.decided_by}
        names = dict(session.execute(select(User.id, User.username).where(User.id.in_(decided))).all()) \
            if decided else {}
        findings = [FindingRecord(
            id=f.id, code=f.code, severity=f.severity, requirement=f.requirement, file=f.file, page=f.page,
            message=f.message, state=f.state, note=f.note, decided_by=names.get(f.decided_by),
            decided_at=f.decided_at.date().isoformat() if f.decided_at else None) for f in dossier.findings]
        run = session.scalar(select(CheckRun).where(CheckRun.dossier_id == dossier_id, CheckRun.state == "done")
                             .order_by(CheckRun.id.desc()).limit(1))
        declared_json = dict(dossier.declared)
        reference_date = dossier.reference_date or (dossier.checked_at or datetime.now(timezone.utc)).date()
        record = DossierRecord(
            id=dossier.id, reference=dossier.reference, status=dossier.status, declared=declared_json,
            reference_date=reference_date, checked_at=dossier.checked_at, pipeline_version=dossier.pipeline_version,
            documents=[d for r in reads for d in r.documents], paths=paths, findings=findings, requirements=[],
            result=dict(run.result) if run is not None else {})
    verdict = judge(parse_declared(record.declared), record.documents, [f for r in reads for f in r.findings],
                    record.reference_date)
    record.requirements = verdict.requirements
    return record


# --- may it be exported? ---------------------------------------------------------------------------


def refusal(record: DossierRecord) -> str | None:
    """Why the dossier may not be exported (French), or None when it may."""
    if record.status == "pending":
        return "Le dossier est en cours de vérification : l'export sera possible à la fin de la vérification."
    if record.status == "failed":
        return ("La vérification automatique du dossier a échoué : un vérificateur doit l'examiner avant "
                "l'export.")
    still_open = [f for f in record.findings if f.state == "open" and f.severity in ACTIONABLE]
    if not still_open:
        return None
    shown = " ; ".join(f.message.rstrip(" .") for f in still_open[:5])
    more = f" (et {len(still_open) - 5} autre(s))" if len(still_open) > 5 else ""
    status = labels.STATUSES[record.status].noun if record.status in labels.STATUSES else record.status
    return (f"Export refusé : le dossier n'est pas complet (statut : {status}). "
            f"{len(still_open)} constat(s) restent ouverts : {shown}{more}. Corriger ces points, ou les faire "
            f"accepter par un vérificateur, avant de préparer le dépôt.")


# --- which files: one per needed requirement ---------------------------------------------------------


@dataclass
class PlannedFile:
    requirement: str
    label: str
    name: str  # file name in the export folder
    documents: list[Document]
    state: str  # met | missing | invalid (the requirement's state)


def plan(record: DossierRecord) -> list[PlannedFile]:
    """The files of the export, numbered in the order of the requirements table."""
    out: list[PlannedFile] = []
    number = 0
    for st in record.requirements:
        if not st.needed:
            continue
        number += 1
        slug = EXPORT_NAMES.get(st.requirement, st.requirement.replace("_", "-"))
        ext = "txt" if st.requirement == "photo_code" else "pdf"
        # An invalid piece is exported only when the export is allowed: a reviewer accepted its findings.
        documents = _faces(record.documents, st.documents[0]) if st.state in ("met", "invalid") and st.documents \
            else []
        out.append(PlannedFile(st.requirement, st.label, f"{number:02d}-{slug}.{ext}", documents, st.state))
    return out


def _faces(documents: list[Document], primary: Document) -> list[Document]:
    """The document meeting a requirement, with the other face of its card when that was uploaded
    as a file of its own (same kind and holder, the same document number when both carry one)."""
    if primary.kind not in CARD_KINDS or len(primary.pages) >= 2:
        return [primary]
    link = primary.evidence.get("link")
    for other in documents:
        if other is primary or other.kind != primary.kind or other.holder != primary.holder:
            continue
        if len(other.pages) != 1 or other.file == primary.file:
            continue
        other_link = other.evidence.get("link")
        if link and other_link and link != other_link:
            continue
        return [primary, other]
    return [primary]


# --- geometry: a page as the pipeline read it --------------------------------------------------------


def _frame_of(document: Document, page: int) -> dict[str, Any]:
    """What the pipeline knows of how `page` was turned: its frame (evidence["frames"]), else the
    orientation it recorded for the document's first page, else the MRZ reader's quarter turn."""
    frames = document.evidence.get("frames") or {}
    frame = dict(frames.get(str(page)) or frames.get(page) or {})
    orientation = document.evidence.get("orientation") or {}
    if page == document.page and orientation:
        frame.setdefault("rotation", orientation.get("rotation"))
        frame.setdefault("flattened", orientation.get("flattened"))
        frame.setdefault("skew", orientation.get("skew"))
    if "rotation" not in frame and document.evidence.get("mrz_page") == page \
            and document.evidence.get("mrz_rotation") is not None:
        frame["rotation"] = document.evidence["mrz_rotation"]
        frame.setdefault("flattened", False)  # the MRZ reader works on the page as rendered, unlevelled
    return frame


def frame_image(image: np.ndarray, frame: dict[str, Any]) -> np.ndarray:
    """The page in the frame its boxes are given in: flattened if it was, levelled by the skew
    recorded, turned by the recorded quarter turn (CONTRACT.md, Evidence)."""
    from intake.extractors.ocr.orient import deskew, find_paper, flatten, rotate_quarter

    if frame.get("flattened"):
        corners = find_paper(image)
        if corners is not None:
            image = flatten(image, corners)
    if frame.get("skew"):
        image = deskew(image, float(frame["skew"]))
    return rotate_quarter(image, int(frame.get("rotation") or 0))


def upright_page(image: np.ndarray, frame: dict[str, Any], card: bool = False) -> np.ndarray:
    """The page ready to file: cropped to the sheet or card when photographed on a background
    (perspective corrected), levelled, turned upright, a photo's levels stretched. Where the
    pipeline left no record of the page, the geometry is measured again the same way."""
    from intake.extractors.ocr.orient import deskew, find_paper, flatten, geometry, rotate_quarter, upright
    from intake.extractors.quality import gray

    corners = find_paper(image)
    photographed = corners is not None
    if photographed:
        image = flatten(image, corners)
    if frame.get("rotation") is None:
        image, _ = upright(image)
    else:
        skew = frame.get("skew")
        if skew is None or photographed != bool(frame.get("flattened")):
            _vertical, skew, _lines = geometry(gray(image))
        image = rotate_quarter(deskew(image, float(skew)), int(frame["rotation"]))
    if photographed:
        image = _stretch_levels(image) if card else even_paper(image)
    return image


def _safe_upright(image: np.ndarray, frame: dict[str, Any], card: bool) -> np.ndarray:
    """`upright_page`, or the page only turned by its recorded quarter when the geometry fails on it
    (an odd image must not cost the school its export)."""
    from intake.extractors.ocr.orient import rotate_quarter

    try:
        return upright_page(image, frame, card)
    except Exception as exc:  # noqa: BLE001
        log.warning("export: page geometry failed (%s); page only turned", type(exc).__name__)
        return rotate_quarter(image, int(frame.get("rotation") or 0))


def even_paper(image: np.ndarray) -> np.ndarray:
    """A photographed sheet's paper made evenly white, channel by channel (each pixel divided by the
    paper's own level around it: the print closed over at an eighth of the size). A lamp's gradient
    or a tinted light otherwise leaves a grey or pink page that a reader, and tesseract, read badly.
    Levels only: every pixel keeps its place, the print keeps its colours relative to the paper."""
    h, w = image.shape[:2]
    small = cv2.resize(image, (max(1, w // 8), max(1, h // 8)), interpolation=cv2.INTER_AREA)
    paper = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (9, 9)))
    paper = cv2.GaussianBlur(paper, (0, 0), 2)
    paper = cv2.resize(paper, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    out = image.astype(np.float32) * (255.0 / np.maximum(paper, 16.0))
    return np.clip(out, 0, 255).astype(np.uint8)


def _stretch_levels(image: np.ndarray) -> np.ndarray:
    """A phone photo's levels stretched (the darkest and lightest 0.5 % clipped): contrast only."""
    rgb = Image.fromarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
    rgb = ImageOps.autocontrast(rgb, cutoff=0.5, preserve_tone=True)
    return cv2.cvtColor(np.asarray(rgb), cv2.COLOR_RGB2BGR)


class PageSource:
    """Renders pages of the stored uploads once per export (a PDF page costs a rasterisation)."""

    def __init__(self, paths: dict[str, Path]):
        self.paths = paths
        self._sources: dict[str, Any] = {}
        self._pages: dict[tuple[str, int], np.ndarray] = {}

    def page(self, file: str, page: int) -> np.ndarray:
        from intake.extractors.images import UnsupportedFile, open_source

        key = (file, page)
        if key not in self._pages:
            path = self.paths.get(file)
            if path is None or not Path(path).exists():
                raise ExportError(f"Le fichier « {file} » n'est plus dans le stockage : le déposer à nouveau.")
            try:
                if file not in self._sources:
                    self._sources[file] = open_source(Path(path), get_settings())
                self._pages[key] = self._sources[file].render(page)
            except UnsupportedFile as exc:
                raise ExportError(f"Le fichier « {file} » ne peut pas être relu : {exc.reason}.") from None
        return self._pages[key]


# --- compression: one PDF per requirement under the size limit ------------------------------------


def _is_card(image: np.ndarray) -> bool:
    """ID-1 proportions (85.6 x 54 mm): a card face, not an A4 page cut out of a photo."""
    h, w = image.shape[:2]
    aspect = max(h, w) / max(1, min(h, w))
    return 1.50 <= aspect <= 1.68


def _resize_long(image: np.ndarray, long_side: int) -> np.ndarray:
    h, w = image.shape[:2]
    scale = long_side / max(h, w)
    if scale >= 1:
        return image
    return cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)


def _jpeg(image: np.ndarray, quality: int, grayscale: bool) -> bytes:
    if grayscale:
        pil = Image.fromarray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))
    else:
        pil = Image.fromarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
    buffer = io.BytesIO()
    pil.save(buffer, "JPEG", quality=quality, optimize=True, subsampling="4:2:0" if not grayscale else 0)
    return buffer.getvalue()


def pages_pdf(pages: list[np.ndarray], title: str, scale: float = 1.0, quality: int = 85,
              grayscale: bool = False, card: bool = False) -> bytes:
    """A PDF of the pages: card faces together on one A4 page (recto above verso), other pages one
    per A4 page (portrait or landscape as the page is), each image embedded as a JPEG."""
    from fpdf import FPDF

    pdf = FPDF(unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_creator("intake")
    pdf.set_title(title)
    pdf.set_creation_date(datetime(2000, 1, 1, tzinfo=timezone.utc))  # no date of the person in metadata
    if card and pages and len(pages) <= 2 and all(_is_card(p) for p in pages):
        pdf.add_page(orientation="P")
        top = 20.0
        for face in pages:
            face = _resize_long(face, max(CARD_FLOOR, int(CARD_LONG_SIDE * scale)))
            h, w = face.shape[:2]
            width = 150.0 if w >= h else 95.0
            height = width * h / w
            pdf.image(io.BytesIO(_jpeg(face, quality, grayscale)), x=(210 - width) / 2, y=top, w=width, h=height)
            top += height + 12
        return bytes(pdf.output())
    for page in pages:
        h, w = page.shape[:2]
        small = card and _is_card(page)
        long_side = max(CARD_FLOOR, int(CARD_LONG_SIDE * scale)) if small else max(A4_FLOOR, int(A4_LONG_SIDE * scale))
        page = _resize_long(page, long_side)
        h, w = page.shape[:2]
        landscape = w > h
        pdf.add_page(orientation="L" if landscape else "P")
        pw, ph = (297.0, 210.0) if landscape else (210.0, 297.0)
        margin = 5.0
        fit = min((pw - 2 * margin) / w, (ph - 2 * margin) / h)
        iw, ih = w * fit, h * fit
        pdf.image(io.BytesIO(_jpeg(page, quality, grayscale)), x=(pw - iw) / 2, y=(ph - ih) / 2, w=iw, h=ih)
    return bytes(pdf.output())


def compressed_pdf(pages: list[np.ndarray], title: str, max_bytes: int, card: bool = False) -> bytes:
    """The first rendering that fits under `max_bytes`, from the sharpest down; color first, gray
    after. ExportError when even the smallest legible one does not fit."""
    for grayscale in (False, True):
        for scale, quality in COMPRESSION_STEPS:
            data = pages_pdf(pages, title, scale, quality, grayscale, card)
            if len(data) <= max_bytes:
                return data
    raise ExportError(f"« {title} » ne tient pas sous {max_bytes} octets sans devenir illisible : augmenter "
                      "INTAKE_EXPORT_MAX_BYTES ou déposer un scan plus léger.")


# --- the export --------------------------------------------------------------------------------------


@dataclass
class ExportFile:
    name: str
    data: bytes
    requirement: str | None = None


def photo_code_text(record: DossierRecord, planned: PlannedFile) -> bytes:
    """The e-photo code and its date, to paste into the ANTS form."""
    from intake.validators.dates import french_date

    document = planned.documents[0] if planned.documents else None
    code = (document.fields.get("code") if document else None) or ""
    day = document.fields.get("photo_date") if document else None
    lines = [
        f"Dossier {record.reference}",
        "Code photo-signature numérique (e-photo), à recopier dans le formulaire ANTS :",
        code,
        f"Date de la photo : {french_date(day)} ({day})" if day else "Date de la photo : non lue",
        "",
    ]
    return "\n".join(lines).encode("utf-8")


def build_files(record: DossierRecord, max_bytes: int | None = None, *, force: bool = False) -> list[ExportFile]:
    """Every file of the export, in memory: one per requirement, then the report (PDF and JSON).
    Raises ExportRefused when the dossier may not be exported (unless `force`, for the report alone)."""
    from intake.report import render_report

    reason = refusal(record)
    if reason and not force:
        raise ExportRefused(reason)
    limit = max_bytes or get_settings().export_max_bytes
    pages = PageSource(record.paths)
    planned = plan(record)
    files: list[ExportFile] = []
    exported: dict[str, str] = {}
    for item in planned:
        if not item.documents:
            continue
        if item.requirement == "photo_code":
            files.append(ExportFile(item.name, photo_code_text(record, item), item.requirement))
        else:
            card = item.documents[0].kind in CARD_KINDS
            images = [_safe_upright(pages.page(d.file, p), _frame_of(d, p), card)
                      for d in item.documents for p in d.pages]
            files.append(ExportFile(item.name, compressed_pdf(images, item.label, limit, card), item.requirement))
        exported[item.requirement] = item.name
    data = report_data(record, exported)
    crops = field_crops(record, pages)
    files.append(ExportFile(REPORT_NAME, render_report(data, crops)))
    files.append(ExportFile(REPORT_JSON_NAME, (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")))
    return files


def report_pdf(record: DossierRecord) -> bytes:
    """The check report alone (any settled dossier: a reviewer prints it whatever the status)."""
    from intake.report import render_report

    if record.status == "pending":
        raise ExportRefused("Le dossier est en cours de vérification : le rapport sera disponible à la fin.")
    exported = {} if refusal(record) else {p.requirement: p.name for p in plan(record) if p.documents}
    return render_report(report_data(record, exported), field_crops(record, PageSource(record.paths)))


def write_files(files: list[ExportFile], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for f in files:
        path = out / f.name
        path.write_bytes(f.data)
        written.append(path)
    return written


def zip_files(files: list[ExportFile], folder: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for f in files:
            archive.writestr(f"{folder}/{f.name}", f.data)
    return buffer.getvalue()


def safe_folder_name(reference: str) -> str:
    kept = "".join(c if c.isalnum() or c in "-_" else "-" for c in reference).strip("-")
    return (kept or "dossier")[:80]


def export_dossier(dossier_id: int, out: Path, max_bytes: int | None = None) -> list[Path]:
    """`intake export ID --out DIR`: the files of a stored dossier written into `out`."""
    return write_files(build_files(load_record(dossier_id), max_bytes), out)


def export_zip(record: DossierRecord, max_bytes: int | None = None) -> tuple[str, bytes]:
    """(file name, zip bytes) of the export, for the web page and the API."""
    folder = f"depot-ants-{safe_folder_name(record.reference)}"
    return f"{folder}.zip", zip_files(build_files(record, max_bytes), folder)


# --- the report's data --------------------------------------------------------------------------------


def report_data(record: DossierRecord, exported: dict[str, str]) -> dict[str, Any]:
    """The data the report is drawn from: the check's JSON (pieces, findings) with the reviewers'
    decisions, the requirements and which piece meets each, the version and the date."""
    from intake import __version__
    from intake.version import PIPELINE_VERSION

    pieces = []
    for index, d in enumerate(record.documents):
        piece = d.to_json()
        piece["pages"] = list(d.pages)
        piece["evidence"] = {k: v for k, v in (d.evidence.get("fields") or {}).items() if isinstance(v, dict)}
        piece["index"] = index
        pieces.append(piece)
    requirements = []
    for st in record.requirements:
        if not st.needed:
            continue
        requirements.append({
            "requirement": st.requirement, "label": st.label, "state": st.state, "why": st.why,
            # invalid: pieces given but refused by a finding (exported only once a reviewer accepted it)
            "documents": [{"file": d.file, "page": d.page, "kind": d.kind} for d in st.documents[:1]]
            if st.state in ("met", "invalid") else [],
            "export_file": exported.get(st.requirement),
        })
    return {
        "reference": record.reference,
        "status": record.status,
        "reference_date": record.reference_date.isoformat(),
        "checked_at": record.checked_at.isoformat(timespec="seconds") if record.checked_at else None,
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "pipeline_version": record.pipeline_version or PIPELINE_VERSION,
        "intake_version": __version__,
        "declared": record.declared,
        "requirements": requirements,
        "pieces": pieces,
        "findings": [f.to_json() for f in record.findings],
    }


CROP_MAX = (700, 90)


def field_crops(record: DossierRecord, pages: PageSource) -> dict[str, bytes]:
    """A small JPEG of where each value was read, keyed "<piece index>/<field>", from the boxes of
    evidence["fields"] in the frame the page was read in. A page that cannot be rendered gives none."""
    from intake.report import SHOWN_FIELDS

    crops: dict[str, bytes] = {}
    framed: dict[tuple[int, int], np.ndarray | None] = {}
    for index, d in enumerate(record.documents):
        evidence = d.evidence.get("fields") or {}
        for name in SHOWN_FIELDS:
            ev = evidence.get(name)
            if not isinstance(ev, dict) or not ev.get("box") or name not in d.fields:
                continue
            page = int(ev.get("page") or d.page)
            if (index, page) not in framed:
                try:
                    framed[(index, page)] = frame_image(pages.page(d.file, page), _frame_of(d, page))
                except ExportError:
                    framed[(index, page)] = None
            image = framed[(index, page)]
            if image is None:
                continue
            crop = crop_box(image, ev["box"], _frame_of(d, page))
            if crop is not None:
                crops[f"{index}/{name}"] = crop
    return crops


def crop_box(image: np.ndarray, box: list[int], frame: dict[str, Any]) -> bytes | None:
    """The box (in the frame's pixels, scaled if the page came out another size) with a margin."""
    h, w = image.shape[:2]
    fw, fh = frame.get("width") or w, frame.get("height") or h
    sx, sy = w / max(1, fw), h / max(1, fh)
    x, y, bw, bh = (float(v) for v in box[:4])
    pad = max(4.0, 0.25 * bh)
    x0, y0 = max(0, int((x - pad) * sx)), max(0, int((y - pad) * sy))
    x1, y1 = min(w, int((x + bw + pad) * sx)), min(h, int((y + bh + pad) * sy))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    crop = image[y0:y1, x0:x1]
    ch, cw = crop.shape[:2]
    scale = min(1.0, CROP_MAX[0] / cw, CROP_MAX[1] / ch)
    if scale < 1:
        crop = cv2.resize(crop, (max(1, int(cw * scale)), max(1, int(ch * scale))), interpolation=cv2.INTER_AREA)
    return _jpeg(crop if crop.ndim == 3 else cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR), 80, True)
