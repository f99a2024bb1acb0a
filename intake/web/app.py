"""The web service: server-rendered pages for schools and reviewers, and the JSON API.

`create_app()` builds the FastAPI application. At startup it prepares the database (SQLite
migrates itself, PostgreSQL must be at the latest migration) and, when INTAKE_BROKER_URL is unset,
starts the in-process worker that reads the uploads.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from intake import __version__, errors
from intake.settings import get_settings
from intake.web import csrf
from intake.web.auth import open_web_session, revoke_web_session, secret_key, web_session_valid
from intake.web.templating import WEB_DIR, LoginRequired, templates

log = logging.getLogger(__name__)

SESSION_MAX_AGE = 12 * 3600

def _api_error(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def create_app(start_workers: bool = True) -> FastAPI:
    """The application; `start_workers=False` leaves the reading to separate workers (tests, Redis)."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        from intake import service

        service.prepare_database()
        if start_workers:
            service.start_workers(sweeper=True)
        else:  # the reading is done by `intake worker`: this process only sends (by actor name)
            from intake.workers import broker

            broker.configure()
        yield
        if start_workers:
            service.stop_sweeper()

    app = FastAPI(
        title="intake",
        version=__version__,
        description=(
            "Pré-contrôle des dossiers de permis de conduire avant dépôt à l'ANTS.\n\n"
            "Authentification : obtenir un jeton avec `POST /api/v1/token` (identifiant et mot de passe du "
            "compte), puis l'envoyer dans l'en-tête `Authorization: Bearer <jeton>`. Déposer les pièces "
            "avec `POST /api/v1/dossiers/{id}/uploads`, puis interroger `GET /api/v1/dossiers/{id}/status` "
            "jusqu'à `settled: true`, et lire le résultat avec `GET /api/v1/dossiers/{id}`."
        ),
        docs_url=None,  # served below from the packaged Swagger UI: no CDN, works offline
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
    )
    settings = get_settings()
    # Added innermost first: the guard sees the decoded session, the headers and the cap wrap everything.
    app.add_middleware(SessionGuard)
    app.add_middleware(SessionMiddleware, secret_key=secret_key(), session_cookie="intake_session",
                       max_age=SESSION_MAX_AGE, same_site="lax", https_only=settings.cookie_secure in _TRUE)
    app.add_middleware(SecurityHeaders, secure_cookie=settings.cookie_secure)
    app.add_middleware(BodyCap, uploads=settings.max_upload_request_bytes, others=settings.max_request_bytes)
    app.mount("/static", StaticFiles(directory=str(WEB_DIR / "static")), name="static")
    _mount_api_docs(app)

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, _exc: LoginRequired):
        return RedirectResponse(f"/connexion?suite={request.url.path}", status_code=303)

    @app.exception_handler(csrf.CsrfError)
    async def _csrf(request: Request, _exc: csrf.CsrfError):
        if _api_error(request) or request.headers.get(csrf.HEADER):
            return JSONResponse({"detail": "Jeton CSRF absent ou invalide : recharger la page."}, status_code=403)
        return templates.TemplateResponse(request, "error.html", {
            "user": None, "title": "Formulaire expiré",
            "message": "Le formulaire a expiré ou ne vient pas de cette application. Recharger la page et "
                       "recommencer."}, status_code=403)

    @app.exception_handler(errors.IntakeError)
    async def _operation(request: Request, exc: errors.IntakeError):
        status = errors.http_status(exc)  # one table for every error a person may read
        if _api_error(request) or request.headers.get(csrf.HEADER):
            return JSONResponse({"detail": exc.message}, status_code=status)
        from intake.web.pages import current_account

        return templates.TemplateResponse(request, "error.html", {
            "user": current_account(request), "title": "Action impossible", "message": exc.message},
            status_code=status)

    from intake.web import api, pages

    app.include_router(api.router)
    app.include_router(pages.router)

    @app.get("/sante", include_in_schema=False)
    def health() -> dict:
        return {"ok": True, "version": __version__}

    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics(request: Request) -> Response:
        """Queue depths, pending and failed work, age of the oldest pending work (Prometheus text).

        Only with INTAKE_METRICS_TOKEN set, and for a scraper that sends it as a bearer token: the
        figures tell an outsider how busy the service is.
        """
        from intake import monitoring

        expected = get_settings().metrics_token
        if not expected:
            return Response("Métriques désactivées : définir INTAKE_METRICS_TOKEN.", status_code=404,
                            media_type="text/plain; charset=utf-8")
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {expected}".encode()):
            return Response("Jeton des métriques absent ou invalide.", status_code=401,
                            headers={"WWW-Authenticate": "Bearer"}, media_type="text/plain; charset=utf-8")
        return Response(monitoring.metrics(), media_type=monitoring.CONTENT_TYPE)

    return app


# --- protections around every request ------------------------------------------------------------

_TRUE = ("1", "true", "yes", "on")

#: Every page: only this application's own scripts, styles and images; never inside a frame.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'none'")
#: Swagger UI starts from one inline script (FastAPI's page): allowed there only.
CSP_API_DOCS = CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'").replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'")

#: Routes that receive files (pages and API): the larger body cap applies to them.
UPLOAD_ROUTE = re.compile(r"^/(api/v1/)?dossiers/\d+/(pieces|uploads)(/\d+/(replace|remplacer))?$")


class SecurityHeaders:
    """CSP with frame-ancestors (not on PDF and raster images, which the browser shows in its own
    viewer), X-Frame-Options, nosniff, referrer policy on every answer; and the
    session cookie marked `Secure` when INTAKE_COOKIE_SECURE says so (auto: the request came by HTTPS,
    as uvicorn sees it behind a proxy with --proxy-headers)."""

    def __init__(self, app, secure_cookie: str = "auto") -> None:
        self.app = app
        self.secure_cookie = secure_cookie

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        csp = CSP_API_DOCS if path == "/api/docs" else CSP
        secure = self.secure_cookie in _TRUE or (self.secure_cookie == "auto" and scope.get("scheme") == "https")

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() not in (b"content-security-policy", b"x-frame-options")]
                if secure:
                    headers = [(k, v + b"; secure") if k.lower() == b"set-cookie" and b"secure" not in v.lower()
                               else (k, v) for k, v in headers]
                kind = next((v for k, v in headers if k.lower() == b"content-type"), b"").lower()
                if not kind.startswith((b"application/pdf", b"image/png", b"image/jpeg")):
                    # Documents (and anything unknown) get the CSP; a PDF keeps the browser's viewer.
                    headers.append((b"content-security-policy", csp.encode()))
                headers += [(b"x-frame-options", b"DENY"), (b"x-content-type-options", b"nosniff"),
                            (b"referrer-policy", b"same-origin")]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_wrapper)


class _TooLarge(HTTPException):
    """Raised from the body stream: FastAPI and the pages let an HTTPException through as it is."""

    def __init__(self, cap: int) -> None:
        super().__init__(413, f"Requête trop volumineuse (au plus {cap // (1024 * 1024) or 1} Mo).")


class BodyCap:
    """Refuse a request body past its cap with 413 before reading it (Content-Length), or as soon as
    the streamed body passes it: a 1 GB upload is not received in full to be refused."""

    def __init__(self, app, uploads: int, others: int) -> None:
        self.app, self.uploads, self.others = app, uploads, others

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        cap = self.uploads if UPLOAD_ROUTE.match(scope.get("path", "")) else self.others
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > cap:
            return await self._refuse(scope, send, cap)
        received = 0
        started = False

        async def capped_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    raise _TooLarge(cap)
            return message

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, capped_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._refuse(scope, send, cap)

    @staticmethod
    async def _refuse(scope, send, cap: int) -> None:
        text = f"Requête trop volumineuse (au plus {cap // (1024 * 1024) or 1} Mo)."
        body = json.dumps({"detail": text}, ensure_ascii=False).encode("utf-8")
        await send({"type": "http.response.start", "status": 413, "headers": [
            (b"content-type", b"application/json; charset=utf-8"), (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"), (b"content-security-policy", CSP.encode()), (b"x-frame-options", b"DENY")]})
        await send({"type": "http.response.body", "body": body})


class SessionGuard:
    """Server-side sessions over Starlette's signed cookie (runs inside SessionMiddleware).

    A session holding a user id must also hold a session id known and not revoked in the database,
    else it is emptied (logged out). When a response leaves a session with a user but no session id
    (a login), one is opened; when it leaves it without its user (a logout, another login), the old
    session id is revoked, so a copy of the old cookie opens nothing.
    """

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or "session" not in scope or scope.get("path", "").startswith("/static/"):
            return await self.app(scope, receive, send)
        from anyio import to_thread

        session = scope["session"]
        uid_before, sid_before = session.get("uid"), session.get("sid")
        if uid_before is not None or sid_before is not None:
            if not await to_thread.run_sync(web_session_valid, sid_before, uid_before):
                session.clear()
                uid_before = sid_before = None

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                current = scope.get("session") or {}
                uid, sid = current.get("uid"), current.get("sid")
                if sid_before is not None and (uid != uid_before or sid != sid_before):
                    await to_thread.run_sync(revoke_web_session, sid_before)
                if isinstance(uid, int) and (sid is None or uid != uid_before):
                    current["sid"] = await to_thread.run_sync(open_web_session, uid)
            await send(message)

        await self.app(scope, receive, send_wrapper)


def html_error(request: Request, title: str, message: str, status: int) -> HTMLResponse:
    return templates.TemplateResponse(request, "error.html", {"user": None, "title": title, "message": message},
                                      status_code=status)


def _mount_api_docs(app: FastAPI) -> None:
    """The API's Swagger UI at /api/docs, its scripts and styles served by the application itself
    (the copy of Swagger UI 5 that the fastapi-offline package carries; version 4 cannot read the
    OpenAPI 3.1 that FastAPI writes): a school's machine without Internet access still shows it,
    and no third-party CDN sees who reads the API documentation."""
    import fastapi_offline
    from fastapi.openapi.docs import get_swagger_ui_html

    assets = Path(fastapi_offline.__file__).parent / "static"
    app.mount("/api/docs/static", StaticFiles(directory=str(assets)), name="api-docs")

    @app.get("/api/docs", include_in_schema=False)
    async def api_docs():
        return get_swagger_ui_html(openapi_url=app.openapi_url, title=f"{app.title} : API",
                                   swagger_js_url="/api/docs/static/swagger-ui-bundle.js",
                                   swagger_css_url="/api/docs/static/swagger-ui.css",
                                   swagger_favicon_url="/api/docs/static/favicon.png")
