"""The browser's pages (French, server-rendered): login, the school's dossiers, the reviewers' queue.

Every POST checks the session's CSRF token first. Uploads are parsed by Starlette, which spools
large files to disk, then streamed into the content-addressed store: a 300 MB file is never held
in memory.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from intake.dossier import CATEGORIES, MOTIFS, PROCEDURES, SEXES, TRAININGS, DossierError
from intake.settings import get_settings
from intake.web import csrf, labels, operations
from intake.web.auth import Account, LoginThrottled, authenticate, form_idempotency_key, get_account
from intake.web.forms import declared_from_form, form_from_declared
from intake.web.operations import Invalid
from intake.web.previews import PreviewError, page_png
from intake.web.templating import LoginRequired, templates

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

#: Room for the multipart envelope around a batch of files at the byte limit.
ENVELOPE_BYTES = 1024 * 1024


def current_account(request: Request) -> Account | None:
    user_id = request.session.get("uid")
    if not isinstance(user_id, int):
        return None
    account = get_account(user_id)
    if account is None:
        request.session.clear()
    return account


def _user(request: Request) -> Account:
    account = current_account(request)
    if account is None:
        raise LoginRequired()
    return account


def _render(request: Request, name: str, context: dict, status: int = 200) -> HTMLResponse:
    context.setdefault("user", None)
    context["csrf_token"] = csrf.token(request)
    context["flashes"] = request.session.pop("flash", [])
    return templates.TemplateResponse(request, name, context, status_code=status)


def _flash(request: Request, text: str, kind: str = "ok") -> None:
    request.session.setdefault("flash", [])
    request.session["flash"] = request.session["flash"] + [[kind, text]]


def _back(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _wants_json(request: Request) -> bool:
    return bool(request.headers.get(csrf.HEADER)) or "application/json" in request.headers.get("accept", "")


def _safe_next(value: str | None) -> str | None:
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return None


def _home(account: Account) -> str:
    return "/revue" if account.is_reviewer else "/dossiers"


# --- login -------------------------------------------------------------------------------------


@router.get("/")
def home(request: Request):
    account = current_account(request)
    return _back(_home(account) if account else "/connexion")


@router.get("/connexion")
def login_page(request: Request, suite: str | None = None):
    account = current_account(request)
    if account:
        return _back(_home(account))
    return _render(request, "login.html", {"suite": _safe_next(suite) or "", "error": None, "username": ""})


@router.post("/connexion")
async def login(request: Request):
    await csrf.check(request)
    form = await request.form()
    username = str(form.get("username") or "")
    password = str(form.get("password") or "")
    try:
        account = await run_in_threadpool(authenticate, username, password)
    except LoginThrottled as exc:
        log.info("login refused: account locked")
        response = _render(request, "login.html", {"suite": _safe_next(str(form.get("suite") or "")) or "",
                                                   "error": exc.message, "username": username}, status=429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    if account is None:
        log.info("failed login")
        return _render(request, "login.html", {"suite": _safe_next(str(form.get("suite") or "")) or "",
                                               "error": "Identifiant ou mot de passe incorrect.",
                                               "username": username}, status=401)
    request.session.clear()
    request.session["uid"] = account.id
    csrf.rotate(request)
    return _back(_safe_next(str(form.get("suite") or "")) or _home(account))


@router.post("/deconnexion")
async def logout(request: Request):
    await csrf.check(request)
    request.session.clear()
    csrf.rotate(request)
    return _back("/connexion")


# --- the school's side -------------------------------------------------------------------------


@router.get("/dossiers")
def dossiers_page(request: Request, statut: str | None = None, q: str | None = None, action: str | None = None):
    account = _user(request)
    statut = statut if statut in labels.FILTER_STATUSES else ""
    rows = operations.list_dossiers(account, status=statut or None, search=q or None, action=bool(action),
                                    by_shown=True)
    return _render(request, "dossiers.html", {"user": account, "rows": rows, "statut": statut, "q": q or "",
                                              "action": bool(action), "statuses": labels.FILTER_STATUSES})


def _form_name(error: DossierError | None) -> str | None:
    """The form input behind a field path of dossier.json ("applicant.address.city" -> "city")."""
    if error is None:
        return None
    path = error.field.split("[")[0]
    for role in ("host", "legal_representative"):
        if path.startswith(role + "."):
            return f"{role}_{path.rsplit('.', 1)[-1]}"
    if path == "applicant.address.line":
        return "address_line"
    return path.rsplit(".", 1)[-1]


def _form_context(account: Account, values: dict, error: DossierError | None = None,
                  dossier: dict | None = None) -> dict:
    return {"user": account, "values": values, "error": error,
            "error_label": labels.field_label(error.field) if error else None, "error_field": _form_name(error),
            "procedures": PROCEDURES, "motifs": MOTIFS, "categories": CATEGORIES, "sexes": SEXES,
            "trainings": TRAININGS, "countries": labels.countries(), "today": labels.today_paris().isoformat(),
            "dossier": dossier}


def _duplicate_warning(request: Request, account: Account, reference: str, dossier_id: int) -> None:
    others = operations.duplicate_references(account, reference, exclude_id=dossier_id)
    if others:
        _flash(request, f"Attention : la référence « {reference} » est déjà utilisée par "
                        f"{len(others)} autre(s) dossier(s) de votre auto-école. Vérifiez qu'il ne s'agit pas "
                        "d'un doublon.", "warn")


@router.get("/dossiers/nouveau")
def new_dossier_page(request: Request):
    account = _user(request)
    if account.role not in ("school", "admin"):
        raise operations.Forbidden("Seules les auto-écoles créent des dossiers.")
    values = form_from_declared({"procedure": "inscription", "motif": "primo", "categories": ["B"],
                                 "applicant": {"nationality": "FRA"}})
    return _render(request, "new_dossier.html", _form_context(account, values))


@router.post("/dossiers/nouveau")
async def new_dossier(request: Request):
    await csrf.check(request)
    account = _user(request)
    form = await request.form()
    data = declared_from_form(form, [c for c in form.getlist("categories") if isinstance(c, str)])
    try:
        # The same form sent twice (a double click, a resubmit) in one session creates one dossier.
        dossier_id = await run_in_threadpool(operations.create_dossier, account, data, "web",
                                             form_idempotency_key(request, data))
    except DossierError as exc:
        return _render(request, "new_dossier.html", _form_context(account, form_from_declared(data), exc),
                       status=422)
    _flash(request, "Dossier créé. Déposez maintenant les pièces.")
    _duplicate_warning(request, account, str(data.get("reference") or ""), dossier_id)
    return _back(f"/dossiers/{dossier_id}")


@router.get("/dossiers/{dossier_id}/modifier")
def edit_dossier_page(request: Request, dossier_id: int):
    account = _user(request)
    if account.role not in ("school", "admin"):
        raise operations.Forbidden("Seules les auto-écoles corrigent les données déclarées.")
    detail = operations.dossier_detail(account, dossier_id)
    return _render(request, "new_dossier.html",
                   _form_context(account, form_from_declared(detail["declared"]), dossier=detail))


@router.post("/dossiers/{dossier_id}/modifier")
async def edit_dossier(request: Request, dossier_id: int):
    await csrf.check(request)
    account = _user(request)
    form = await request.form()
    data = declared_from_form(form, [c for c in form.getlist("categories") if isinstance(c, str)])
    try:
        changed = await run_in_threadpool(operations.update_declared, account, dossier_id, data)
    except DossierError as exc:
        detail = operations.dossier_detail(account, dossier_id)
        return _render(request, "new_dossier.html",
                       _form_context(account, form_from_declared(data), exc, dossier=detail), status=422)
    if changed:
        _flash(request, "Données corrigées (" + ", ".join(labels.field_label(f) for f in changed)
               + ") : le dossier est vérifié à nouveau.")
        _duplicate_warning(request, account, str(data.get("reference") or ""), dossier_id)
    else:
        _flash(request, "Aucune donnée modifiée.")
    return _back(f"/dossiers/{dossier_id}")


@router.post("/dossiers/{dossier_id}/uploads/{upload_id}/supprimer")
@router.post("/dossiers/{dossier_id}/pieces/{upload_id}/supprimer")  # deprecated: the first path, for old pages
async def delete_upload(request: Request, dossier_id: int, upload_id: int):
    """Delete an uploaded file with the pieces found in it; the dossier is checked again."""
    await csrf.check(request)
    account = _user(request)
    await run_in_threadpool(operations.delete_upload, account, dossier_id, upload_id)
    if _wants_json(request):
        return JSONResponse({"deleted": upload_id}, status_code=202)
    _flash(request, "Pièce supprimée : le dossier est vérifié à nouveau.")
    return _back(f"/dossiers/{dossier_id}")


@router.get("/dossiers/{dossier_id}")
def dossier_page(request: Request, dossier_id: int):
    account = _user(request)
    if account.is_reviewer:
        return _back(f"/revue/{dossier_id}")
    # The state first: if the check ends while the page is built, the first poll sees a change.
    state = operations.dossier_state(account, dossier_id)
    detail = operations.dossier_detail(account, dossier_id)
    settings = get_settings()
    return _render(request, "dossier.html", {"user": account, "d": detail, "signature": state["signature"],
                                             "max_bytes": settings.max_file_bytes,
                                             "max_files": settings.max_dossier_files,
                                             "max_mb": labels.size(settings.max_file_bytes)})


@router.get("/dossiers/{dossier_id}/etat")
def dossier_state(request: Request, dossier_id: int):
    """Polled every second or two by the page while the uploads are read."""
    account = _user(request)
    return JSONResponse(operations.dossier_state(account, dossier_id), headers={"Cache-Control": "no-store"})


@router.get("/dossiers/{dossier_id}/partiel")
def dossier_fragment(request: Request, dossier_id: int):
    """The live part of the dossier page (status, pieces, findings), swapped in by the page's script."""
    account = _user(request)
    detail = operations.dossier_detail(account, dossier_id)
    return _render(request, "_dossier_live.html", {"user": account, "d": detail})


@router.get("/dossiers/{dossier_id}/depot-ants.zip")
async def export_download(request: Request, dossier_id: int):
    """The pieces ready to file on the ANTS site, with the check report (issue 21); refused with the
    reason while the dossier is not complete."""
    from intake.web.api import export_response

    return await run_in_threadpool(export_response, _user(request), dossier_id)


@router.get("/dossiers/{dossier_id}/rapport.pdf")
async def report_download(request: Request, dossier_id: int):
    from intake.web.api import export_response

    return await run_in_threadpool(export_response, _user(request), dossier_id, True)


async def _files_from(request: Request, field: str) -> tuple[list[tuple[str, object]], object]:
    settings = get_settings()
    length = request.headers.get("content-length")
    limit = settings.max_file_bytes * settings.max_dossier_files + ENVELOPE_BYTES
    if length and length.isdigit() and int(length) > limit:
        raise operations.OperationError("Envoi trop volumineux.")
    form = await request.form(max_files=settings.max_dossier_files, max_fields=50)
    files = [(f.filename or "fichier", f.file) for f in form.getlist(field)
             if isinstance(f, UploadFile) and (f.filename or f.size)]
    return files, form


@router.post("/dossiers/{dossier_id}/uploads")
@router.post("/dossiers/{dossier_id}/pieces")  # deprecated: the first path, for old pages
async def upload_files(request: Request, dossier_id: int):
    """Receive one or more files (each an upload, read for the pieces it holds)."""
    await csrf.check(request)
    account = _user(request)
    files, form = await _files_from(request, "files")
    try:
        ids = await run_in_threadpool(operations.add_files, account, dossier_id, files)
    finally:
        await form.close()
    if _wants_json(request):
        return JSONResponse({"uploads": ids}, status_code=202)
    _flash(request, f"{len(ids)} fichier(s) reçu(s) : vérification en cours.")
    return _back(f"/dossiers/{dossier_id}")


@router.post("/dossiers/{dossier_id}/uploads/{upload_id}/remplacer")
@router.post("/dossiers/{dossier_id}/pieces/{upload_id}/remplacer")  # deprecated: the first path, for old pages
async def replace_upload(request: Request, dossier_id: int, upload_id: int):
    """Replace an uploaded file by another; the dossier is checked again."""
    await csrf.check(request)
    account = _user(request)
    files, form = await _files_from(request, "file")
    try:
        ids = await run_in_threadpool(operations.add_files, account, dossier_id, files, upload_id)
    finally:
        await form.close()
    if _wants_json(request):
        return JSONResponse({"uploads": ids}, status_code=202)
    _flash(request, "Pièce remplacée : le dossier est vérifié à nouveau.")
    return _back(f"/dossiers/{dossier_id}")


@router.get("/uploads/{upload_id}/pages/{page}.png")
@router.get("/pieces/{upload_id}/pages/{page}.png")  # deprecated: the first path, for old pages
def page_image(request: Request, upload_id: int, page: int, largeur: int = 1600, tour: int = 0):
    """A page of an uploaded file as the pipeline rendered it; `tour` (0, 90, 180, 270) turns it
    upright as the reader did, so that the boxes of the fields (given in the upright frame) fall on
    their values."""
    account = _user(request)
    path, sha, _name = operations.upload_file_path(account, upload_id)
    try:
        png = page_png(path, sha, page, largeur)
        if tour % 360:
            png = _turned(png, tour % 360)
    except PreviewError as exc:
        return Response(exc.message, status_code=404, media_type="text/plain; charset=utf-8")
    return FileResponse(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


def _turned(png, degrees: int):
    """The cached preview turned by a quarter turn (cached beside it)."""
    import os
    import tempfile

    import cv2

    from intake.extractors.ocr.orient import rotate_quarter

    if degrees not in (90, 180, 270):
        raise PreviewError("Rotation inconnue.")
    target = png.with_name(f"{png.stem}-r{degrees}.png")
    if target.exists():
        return target
    image = cv2.imread(str(png), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise PreviewError("La page n'a pas pu être convertie en image.")
    ok, encoded = cv2.imencode(".png", rotate_quarter(image, degrees))
    if not ok:
        raise PreviewError("La page n'a pas pu être convertie en image.")
    fd, tmp = tempfile.mkstemp(dir=png.parent, prefix=".preview-")
    with os.fdopen(fd, "wb") as handle:
        handle.write(encoded.tobytes())
    os.replace(tmp, target)
    return target


# --- the reviewers' side -----------------------------------------------------------------------


@router.get("/revue")
def queue_page(request: Request, code: str | None = None, statut: str | None = None, ecole: str | None = None,
               q: str | None = None, action: str | None = None):
    account = _user(request)
    statuses = ("waiting", "requested", "incomplete", "needs_review", "failed", "pending")
    statut = statut if statut in statuses else ""
    rows = operations.list_dossiers(account, status=statut or None, school=ecole or None, code=code or None,
                                    queue=True, search=q or None, action=bool(action), by_shown=True)
    codes = sorted(operations.open_codes(), key=lambda c: labels.code_label(c))
    return _render(request, "queue.html", {
        "user": account, "rows": rows, "code": code or "", "statut": statut, "ecole": ecole or "", "q": q or "",
        "action": bool(action), "codes": codes, "schools": operations.schools(), "statuses": statuses})


@router.get("/revue/{dossier_id}")
def review_page(request: Request, dossier_id: int):
    account = _user(request)
    if not account.is_reviewer:
        raise operations.Forbidden("Page réservée aux vérificateurs.")
    # The state first: if the dossier changes while the page is built, the first poll sees it.
    state = operations.dossier_state(account, dossier_id)
    detail = operations.dossier_detail(account, dossier_id)
    declared = detail["declared"]
    for upload in detail["uploads"]:
        frames: dict[str, dict] = {}
        for piece in upload["pieces"]:
            piece["rows"] = labels.compare_fields(piece["fields"], declared, piece["holder"], piece["evidence"])
            frames.update(labels.frames(piece["evidence"]))
        upload["frames"] = frames
        for piece in upload["pieces"]:
            for row in piece["rows"]:
                if row.box and str(row.page or piece["page"]) not in frames:
                    row.box = None  # no frame to draw it in: no box rather than a box in the wrong place
    return _render(request, "review.html", {"user": account, "d": detail, "signature": state["signature"],
                                            "mine": detail["claimed_by"] == account.username})


async def _form_text(request: Request, name: str) -> str:
    value = (await request.form()).get(name)
    return value if isinstance(value, str) else ""


@router.post("/revue/{dossier_id}/prendre")
async def claim(request: Request, dossier_id: int):
    await csrf.check(request)
    account = _user(request)
    await run_in_threadpool(operations.claim, account, dossier_id)
    _flash(request, "Dossier pris en charge : vous seul pouvez décider sur ce dossier.")
    return _back(f"/revue/{dossier_id}")


@router.post("/revue/{dossier_id}/liberer")
async def release(request: Request, dossier_id: int):
    await csrf.check(request)
    account = _user(request)
    await run_in_threadpool(operations.release, account, dossier_id)
    _flash(request, "Dossier rendu à la file.")
    return _back("/revue")


@router.post("/revue/{dossier_id}/demande")
async def ask_piece(request: Request, dossier_id: int):
    await csrf.check(request)
    account = _user(request)
    message = await _form_text(request, "message")
    finding = await _form_text(request, "finding_id")
    await run_in_threadpool(operations.request_piece, account, dossier_id, message,
                            int(finding) if finding.isdigit() else None)
    _flash(request, "Demande envoyée à l'auto-école.")
    return _back(f"/revue/{dossier_id}")


@router.post("/revue/constats/{finding_id}/{decision}")
async def decide(request: Request, finding_id: int, decision: str):
    await csrf.check(request)
    account = _user(request)
    choice = {"accepter": "accept", "resoudre": "resolve"}.get(decision)
    if choice is None:
        raise Invalid("Décision inconnue.")
    note = await _form_text(request, "note")
    dossier_id = await run_in_threadpool(operations.decide_finding, account, finding_id, choice, note)
    _flash(request, "Constat accepté (dérogation enregistrée)." if choice == "accept" else "Constat résolu.")
    return _back(f"/revue/{dossier_id}")


def queue_link(**params: str) -> str:
    return "/revue?" + urlencode({k: v for k, v in params.items() if v})
