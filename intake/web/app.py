"""The web service: server-rendered pages for schools and reviewers, and the JSON API.

`create_app()` builds the FastAPI application. At startup it prepares the database (SQLite
migrates itself, PostgreSQL must be at the latest migration) and, when INTAKE_BROKER_URL is unset,
starts the in-process worker that reads the uploads.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.middleware.sessions import SessionMiddleware

from intake import __version__
from intake.web import csrf, labels
from intake.web.auth import secret_key
from intake.web.operations import OperationError

log = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parent
SESSION_MAX_AGE = 12 * 3600

templates = Jinja2Templates(directory=str(WEB_DIR / "templates"))
templates.env.globals.update(labels=labels, show=labels.show, version=__version__)


class LoginRequired(Exception):
    """A page needs a logged-in user: send the browser to the login page."""


def _api_error(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def create_app(start_workers: bool = True) -> FastAPI:
    """The application; `start_workers=False` leaves the reading to separate workers (tests, Redis)."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        from intake import service

        service.prepare_database()
        if start_workers:
            service.start_workers()
        else:
            from intake.workers import broker

            broker.configure()
            import intake.workers.actors  # noqa: F401
        yield

    app = FastAPI(
        title="intake",
        version=__version__,
        description=(
            "Pré-contrôle des dossiers de permis de conduire avant dépôt à l'ANTS.\n\n"
            "Authentification : obtenir un jeton avec `POST /api/v1/token` (identifiant et mot de passe du "
            "compte), puis l'envoyer dans l'en-tête `Authorization: Bearer <jeton>`. Déposer les pièces "
            "avec `POST /api/v1/dossiers/{id}/pieces`, puis interroger `GET /api/v1/dossiers/{id}/status` "
            "jusqu'à `settled: true`, et lire le résultat avec `GET /api/v1/dossiers/{id}`."
        ),
        docs_url=None,  # served below from the packaged Swagger UI: no CDN, works offline
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
    )
    app.add_middleware(SessionMiddleware, secret_key=secret_key(), session_cookie="intake_session",
                       max_age=SESSION_MAX_AGE, same_site="lax", https_only=False)
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

    @app.exception_handler(OperationError)
    async def _operation(request: Request, exc: OperationError):
        if _api_error(request) or request.headers.get(csrf.HEADER):
            return JSONResponse({"detail": exc.message}, status_code=exc.status)
        from intake.web.pages import current_account

        return templates.TemplateResponse(request, "error.html", {
            "user": current_account(request), "title": "Action impossible", "message": exc.message},
            status_code=exc.status)

    from intake.web import api, pages

    app.include_router(api.router)
    app.include_router(pages.router)

    @app.get("/sante", include_in_schema=False)
    def health() -> dict:
        return {"ok": True, "version": __version__}

    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics() -> Response:
        """Queue depths, pending and failed work, age of the oldest pending work (Prometheus text)."""
        from intake import monitoring

        return Response(monitoring.metrics(), media_type=monitoring.CONTENT_TYPE)

    return app


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
