"""The JSON API (`/api/v1`), documented by OpenAPI at /api/openapi.json.

The same accounts as the pages; a program logs in once with `POST /api/v1/token` and sends the
token as `Authorization: Bearer ...`. No cookie is used, hence no CSRF token. The operations are
those of the pages (`intake.web.operations`), so permissions are the same.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Body, Depends, File, Header, HTTPException, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from intake.dossier import DossierError
from intake.settings import get_settings
from intake.web import operations
from intake.web.auth import Account, LoginThrottled, account_for_token, authenticate, issue_token

router = APIRouter(prefix="/api/v1", tags=["API"])
bearer = HTTPBearer(auto_error=False, description="Jeton obtenu avec POST /api/v1/token")


def api_account(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Account:
    account = account_for_token(credentials.credentials) if credentials else None
    if account is None:
        raise HTTPException(401, "Jeton absent, invalide ou expiré.", headers={"WWW-Authenticate": "Bearer"})
    return account


class TokenRequest(BaseModel):
    username: str
    password: str


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    role: str
    school: str | None


class Created(BaseModel):
    id: int
    status: str


class UploadsAccepted(BaseModel):
    dossier_id: int
    uploads: list[int]


class State(BaseModel):
    id: int
    status: str = Field(description="pending | complete | incomplete | needs_review | failed")
    revision: int
    checked_at: str | None
    uploads_pending: int
    uploads_read: int
    findings: int
    settled: bool = Field(description="true when the check of the current uploads is finished")
    signature: str


class Note(BaseModel):
    note: str = Field("", description="obligatoire pour accepter un constat (dérogation)")


class PieceRequest(BaseModel):
    message: str
    finding_id: int | None = None


class Summary(BaseModel):
    id: int
    reference: str
    school: str
    status: str
    created_at: str
    claimed_by: str | None
    open_codes: list[str]
    candidate: str = Field("", description="nom et prénoms déclarés du candidat")
    open_findings: int = Field(0, description="constats ouverts bloquants ou à vérifier")
    shown_status: str = Field("", description="statut affiché : waiting (aucune pièce), requested (pièce "
                                              "demandée par un vérificateur), sinon status")
    action_required: bool = False


def _summaries(rows: list[operations.DossierSummary]) -> list[Summary]:
    return [Summary(id=r.id, reference=r.reference, school=r.school, status=r.status,
                    created_at=r.created_at.isoformat(timespec="seconds"), claimed_by=r.claimed_by,
                    open_codes=r.open_codes, candidate=r.candidate, open_findings=r.open_findings,
                    shown_status=r.shown_status, action_required=r.action_required) for r in rows]


EXAMPLE_DOSSIER = {
    "reference": "AE-2026-00042", "procedure": "inscription", "motif": "primo", "categories": ["B"],
    "training": None,
    "applicant": {"surname": "Dupont", "usage_name": None, "given_names": ["Jean", "Pierre"],
                  "birth_date": "2005-04-12", "birth_place": "Lyon", "sex": "M", "nationality": "FRA",
                  "address": {"line": "12 rue des Lilas", "postcode": "75011", "city": "Paris"},
                  "email": "jean.dupont@example.org", "phone": "+33612345678"},
    "situation": {"hosted": False, "under_guardianship": False, "medical_condition": False},
    "host": None, "legal_representative": None,
}


@router.post("/token", response_model=TokenResponse, summary="Obtenir un jeton d'accès")
async def token(body: TokenRequest) -> TokenResponse:
    try:
        account = await run_in_threadpool(authenticate, body.username, body.password)
    except LoginThrottled as exc:
        raise HTTPException(429, exc.message, headers={"Retry-After": str(exc.retry_after)}) from None
    if account is None:
        raise HTTPException(401, "Identifiant ou mot de passe incorrect.")
    value = await run_in_threadpool(issue_token, account)
    return TokenResponse(access_token=value, role=account.role, school=account.school)


@router.get("/dossiers", response_model=list[Summary], summary="Lister les dossiers visibles")
def list_dossiers(account: Account = Depends(api_account), status: str | None = None,
                  school: str | None = None, code: str | None = None, q: str | None = None) -> list[Summary]:
    """`q` cherche dans la référence et le nom du candidat (sans tenir compte des accents)."""
    return _summaries(operations.list_dossiers(account, status=status, school=school, code=code, search=q))


IDEMPOTENCY_HELP = ("Clé choisie par le client (1 à 200 caractères ASCII visibles), la même à chaque nouvel essai "
                    "d'une même requête : un essai répété rend la première réponse, sans second dossier ni "
                    "second dépôt.")


def _idempotency_key(value: str | None) -> str | None:
    """The client's Idempotency-Key, checked: a retried request with it is done once."""
    if value is None:
        return None
    value = value.strip()
    if not value or len(value) > 200 or not all(33 <= ord(c) < 127 for c in value):
        raise HTTPException(422, "En-tête Idempotency-Key invalide : 1 à 200 caractères ASCII visibles.")
    return value


@router.post("/dossiers", response_model=Created, status_code=201, summary="Créer un dossier (dossier.json)")
def create_dossier(account: Account = Depends(api_account),
                   declared: dict[str, Any] = Body(..., examples=[EXAMPLE_DOSSIER],
                                                   description="Le contenu de dossier.json (CONTRACT.md §1)"),
                   idempotency_key: str | None = Header(None, description=IDEMPOTENCY_HELP)) -> Created:
    key = _idempotency_key(idempotency_key)
    try:
        dossier_id = operations.create_dossier(account, declared, source="api", idempotency_key=key)
    except DossierError as exc:
        raise HTTPException(422, {"field": exc.field, "message": exc.message}) from None
    return Created(id=dossier_id, status="pending")


@router.get("/dossiers/{dossier_id}", summary="Un dossier : pièces, constats et résultat du contrôle")
def get_dossier(dossier_id: int, account: Account = Depends(api_account)) -> dict[str, Any]:
    """`result` is exactly the JSON of `intake check --json` for the current uploads (null while pending)."""
    return operations.dossier_detail(account, dossier_id)


@router.get("/dossiers/{dossier_id}/status", response_model=State, summary="État du contrôle (à interroger)")
def get_status(dossier_id: int, account: Account = Depends(api_account)) -> State:
    return State(**operations.dossier_state(account, dossier_id))


async def _store(account: Account, dossier_id: int, uploads: list[UploadFile], replaces: int | None,
                 idempotency_key: str | None = None):
    settings = get_settings()
    if len(uploads) > settings.max_dossier_files:
        raise operations.Invalid(f"Trop de fichiers (au plus {settings.max_dossier_files}).")
    files = [(u.filename or "fichier", u.file) for u in uploads]
    try:
        return await run_in_threadpool(operations.add_files, account, dossier_id, files, replaces, idempotency_key)
    finally:
        for upload in uploads:
            await upload.close()


# An *upload* is a file received; a *piece* is a document found in it (one file may hold several).
# The routes that take an upload id are under `/uploads`; the first paths said `/pieces` for them and
# stay as deprecated aliases of the same handlers, with their first operation ids, so that existing
# clients (and clients generated from the OpenAPI document) keep working.


def _deprecated(summary: str, path: str) -> str:
    """The OpenAPI summary of an old path kept for existing clients."""
    return f"Obsolète : {summary[:1].lower()}{summary[1:]} (utiliser {path})"


UPLOAD_SUMMARY = "Déposer un ou plusieurs fichiers (multipart, champ files)"
REPLACE_SUMMARY = "Remplacer un fichier déposé ; le dossier est revérifié"
DELETE_SUMMARY = "Supprimer un fichier déposé (ses pièces et leurs constats) ; le dossier est revérifié"


@router.post("/dossiers/{dossier_id}/uploads", response_model=UploadsAccepted, status_code=202,
             summary=UPLOAD_SUMMARY)
@router.post("/dossiers/{dossier_id}/pieces", response_model=UploadsAccepted, status_code=202, deprecated=True,
             summary=_deprecated(UPLOAD_SUMMARY, "POST /api/v1/dossiers/{dossier_id}/uploads"),
             operation_id="upload_pieces_api_v1_dossiers__dossier_id__pieces_post")
async def upload_files(dossier_id: int, files: list[UploadFile] = File(...),
                       account: Account = Depends(api_account),
                       idempotency_key: str | None = Header(None, description=IDEMPOTENCY_HELP)) -> UploadsAccepted:
    ids = await _store(account, dossier_id, files, None, _idempotency_key(idempotency_key))
    return UploadsAccepted(dossier_id=dossier_id, uploads=ids)


@router.post("/dossiers/{dossier_id}/uploads/{upload_id}/replace", response_model=UploadsAccepted,
             status_code=202, summary=REPLACE_SUMMARY)
@router.post("/dossiers/{dossier_id}/pieces/{upload_id}/replace", response_model=UploadsAccepted,
             status_code=202, deprecated=True,
             summary=_deprecated(REPLACE_SUMMARY, "POST /api/v1/dossiers/{dossier_id}/uploads/{upload_id}/replace"),
             operation_id="replace_piece_api_v1_dossiers__dossier_id__pieces__upload_id__replace_post")
async def replace_upload(dossier_id: int, upload_id: int, file: UploadFile = File(...),
                         account: Account = Depends(api_account)) -> UploadsAccepted:
    ids = await _store(account, dossier_id, [file], upload_id)
    return UploadsAccepted(dossier_id=dossier_id, uploads=ids)


@router.get("/queue", response_model=list[Summary], summary="File des vérificateurs (plus anciens d'abord)")
def queue(account: Account = Depends(api_account), code: str | None = None, status: str | None = None,
          school: str | None = None, q: str | None = None) -> list[Summary]:
    return _summaries(operations.list_dossiers(account, status=status, school=school, code=code, queue=True,
                                               search=q))


@router.post("/dossiers/{dossier_id}/claim", status_code=204, summary="Prendre un dossier en charge")
def claim(dossier_id: int, account: Account = Depends(api_account)) -> None:
    operations.claim(account, dossier_id)


@router.post("/dossiers/{dossier_id}/release", status_code=204, summary="Rendre un dossier à la file")
def release(dossier_id: int, account: Account = Depends(api_account)) -> None:
    operations.release(account, dossier_id)


@router.post("/dossiers/{dossier_id}/request-piece", status_code=204,
             summary="Demander une nouvelle pièce à l'auto-école")
def request_piece(dossier_id: int, body: PieceRequest, account: Account = Depends(api_account)) -> None:
    operations.request_piece(account, dossier_id, body.message, body.finding_id)


@router.post("/findings/{finding_id}/accept", status_code=204,
             summary="Accepter un constat (dérogation, note obligatoire)")
def accept(finding_id: int, body: Note, account: Account = Depends(api_account)) -> None:
    operations.decide_finding(account, finding_id, "accept", body.note)


@router.post("/findings/{finding_id}/resolve", status_code=204, summary="Marquer un constat comme résolu")
def resolve(finding_id: int, body: Note = Body(default_factory=Note), account: Account = Depends(api_account)) -> None:
    operations.decide_finding(account, finding_id, "resolve", body.note)


class Edited(BaseModel):
    id: int
    status: str
    changed: list[str] = Field(description="champs modifiés (chemins de dossier.json) ; vide : rien à revérifier")


@router.put("/dossiers/{dossier_id}/declared", response_model=Edited, status_code=202,
            summary="Corriger les données déclarées (dossier.json complet) ; le dossier est revérifié")
def edit_declared(dossier_id: int, account: Account = Depends(api_account),
                  declared: dict[str, Any] = Body(..., examples=[EXAMPLE_DOSSIER])) -> Edited:
    try:
        changed = operations.update_declared(account, dossier_id, declared)
    except DossierError as exc:
        raise HTTPException(422, {"field": exc.field, "message": exc.message}) from None
    return Edited(id=dossier_id, status=operations.dossier_state(account, dossier_id)["status"], changed=changed)


@router.delete("/dossiers/{dossier_id}/uploads/{upload_id}", status_code=202, response_model=Created,
               summary=DELETE_SUMMARY)
@router.delete("/dossiers/{dossier_id}/pieces/{upload_id}", status_code=202, response_model=Created, deprecated=True,
               summary=_deprecated(DELETE_SUMMARY, "DELETE /api/v1/dossiers/{dossier_id}/uploads/{upload_id}"),
               operation_id="delete_piece_api_v1_dossiers__dossier_id__pieces__upload_id__delete")
def delete_upload(dossier_id: int, upload_id: int, account: Account = Depends(api_account)) -> Created:
    operations.delete_upload(account, dossier_id, upload_id)
    return Created(id=dossier_id, status=operations.dossier_state(account, dossier_id)["status"])


# --- ready to file: the export and the check report (issue 21) -------------------------------------


def export_response(account: Account, dossier_id: int, report_only: bool = False):
    """The export zip (pieces for the ANTS site and the report) or the report alone, as a download.
    Refused (409, French reason) while the dossier is not complete, unless a reviewer decided every
    open finding. Shared by the API and the school's page."""
    from urllib.parse import quote

    from fastapi.responses import Response

    from intake import export

    operations.dossier_state(account, dossier_id)  # visibility: "not found" for another school's dossier
    # a refusal (409), a dossier not found (404), a page that will not fit (422): intake.errors' table
    record = export.load_record(dossier_id)
    if report_only:
        name = f"rapport-controle-{export.safe_folder_name(record.reference)}.pdf"
        data, media = export.report_pdf(record), "application/pdf"
    else:
        (name, data), media = export.export_zip(record), "application/zip"
    return Response(data, media_type=media, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}", "Cache-Control": "no-store"})


@router.get("/dossiers/{dossier_id}/export", summary="Pièces prêtes à déposer sur le site de l'ANTS (zip)",
            responses={200: {"content": {"application/zip": {}}},
                       409: {"description": "dossier pas complet : la raison"}})
async def export_dossier(dossier_id: int, account: Account = Depends(api_account)):
    """Un fichier par pièce exigée (`01-piece-identite.pdf`, ...), le code e-photo à recopier, le rapport de
    contrôle (PDF et JSON). Refusé (409) tant que le dossier n'est pas complet, sauf si un vérificateur a
    accepté chaque constat ouvert."""
    return await run_in_threadpool(export_response, account, dossier_id)


@router.get("/dossiers/{dossier_id}/report", summary="Rapport de contrôle (PDF)",
            responses={200: {"content": {"application/pdf": {}}}})
async def dossier_report(dossier_id: int, account: Account = Depends(api_account)):
    """Le rapport de contrôle du dossier vérifié : identité déclarée, pièces exigées, valeurs lues, constats et
    décisions, version du contrôle et date."""
    return await run_in_threadpool(export_response, account, dossier_id, True)


class Closing(BaseModel):
    reason: Literal["submitted", "abandoned"] = Field(
        description="submitted : déposé à l'ANTS ; abandoned : abandonné. Les données personnelles d'un dossier "
                    "clos sont effacées par `intake purge` après le délai de conservation.")


@router.post("/dossiers/{dossier_id}/close", status_code=204, summary="Clore un dossier (déposé ou abandonné)")
def close(dossier_id: int, body: Closing, account: Account = Depends(api_account)) -> None:
    from intake.purge import close_dossier

    operations.check_can_upload(account, dossier_id)
    close_dossier(dossier_id, body.reason, actor=account.username, user_id=account.id)
