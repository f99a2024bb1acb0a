"""The web service's protections: sessions revoked at logout, Secure cookie, CSP and anti-framing,
request body caps, /metrics behind a token, Idempotency-Key on create and upload, double submits."""

from __future__ import annotations

import io
import re

import pytest

from conftest import base_declared

PASSWORD = "correct horse battery"


@pytest.fixture
def app(migrated):
    """The application with its lifespan (database ready, in-process worker) and two accounts."""
    from fastapi.testclient import TestClient

    from intake.web.app import create_app
    from intake.web.auth import create_user

    application = create_app()
    with TestClient(application):
        create_user("ecole_a", PASSWORD, "school", "Auto-école A")
        create_user("verif_1", PASSWORD, "reviewer")
        yield application
    from intake.workers.broker import QUEUES, configure

    broker = configure()
    for queue in QUEUES:
        if queue in broker.queues:
            broker.join(queue, timeout=120_000)


def client_for(app, base_url: str = "http://testserver"):
    from fastapi.testclient import TestClient

    return TestClient(app, base_url=base_url)


def csrf_of(client, path: str = "/connexion") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)


def login(client, username: str = "ecole_a"):
    r = client.post("/connexion", data={"username": username, "password": PASSWORD, "csrf_token": csrf_of(client)},
                    follow_redirects=False)
    assert r.status_code == 303, r.text[:500]
    return r


def token(client, username: str = "ecole_a") -> dict:
    r = client.post("/api/v1/token", json={"username": username, "password": PASSWORD})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _set(monkeypatch, **env):
    from intake.settings import reset_settings

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    reset_settings()


# --- sessions ----------------------------------------------------------------------------------


def test_a_copied_session_cookie_opens_nothing_after_logout(app):
    # Given a school user logged in, and a copy of its session cookie
    browser = client_for(app)
    login(browser)
    assert browser.get("/dossiers", follow_redirects=False).status_code == 200
    stolen = browser.cookies.get("intake_session")
    # When the user logs out
    r = browser.post("/deconnexion", data={"csrf_token": csrf_of(browser, "/dossiers")}, follow_redirects=False)
    assert r.status_code == 303
    # Then the copied cookie, still validly signed, no longer opens the school's pages
    other = client_for(app)
    other.cookies.set("intake_session", stolen)
    r = other.get("/dossiers", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/connexion")


def test_the_session_cookie_is_secure_behind_https_or_when_asked(app, monkeypatch):
    # Given the default setting (auto), a login over plain HTTP gets a cookie without Secure
    plain = login(client_for(app))
    assert "secure" not in plain.headers["set-cookie"].lower()
    # When the request came over HTTPS (as uvicorn sees it behind a proxy), Then the cookie is Secure
    https = login(client_for(app, "https://testserver"))
    assert "; secure" in https.headers["set-cookie"].lower()
    # And, for a service started with INTAKE_COOKIE_SECURE=0, it is off even there
    _set(monkeypatch, INTAKE_COOKIE_SECURE="0")
    from fastapi.testclient import TestClient

    from intake.web.app import create_app

    with TestClient(create_app(), base_url="https://testserver") as plain_service:
        assert "secure" not in login(plain_service).headers["set-cookie"].lower()


# --- headers, caps, metrics ----------------------------------------------------------------------


def test_every_answer_forbids_framing_and_foreign_scripts(app):
    client = client_for(app)
    for path in ("/connexion", "/api/openapi.json", "/page-inconnue", "/static/app.css"):
        r = client.get(path)
        csp = r.headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, path
        assert "unsafe-inline" not in csp.split("script-src", 1)[1].split(";", 1)[0], path
        assert r.headers.get("x-frame-options") == "DENY" and r.headers.get("x-content-type-options") == "nosniff"
    # The API documentation page keeps working: Swagger UI starts from one inline script
    docs = client.get("/api/docs")
    assert docs.status_code == 200 and "frame-ancestors 'none'" in docs.headers["content-security-policy"]


def test_a_body_past_its_cap_is_refused_before_it_is_read(app, monkeypatch):
    client = client_for(app)
    headers = token(client)
    # Given a JSON request announcing more than the 1 MB allowed outside uploads
    r = client.post("/api/v1/dossiers", headers={**headers, "content-type": "application/json"},
                    content=b"{" + b" " * (1024 * 1024 + 10) + b"}")
    # Then it is refused with 413 and a French message
    assert r.status_code == 413 and "trop volumineuse" in r.json()["detail"]
    # Given an upload cap of 64 kB and a dossier
    _set(monkeypatch, INTAKE_MAX_UPLOAD_REQUEST_BYTES=str(64 * 1024))
    from intake.web.app import create_app
    from fastapi.testclient import TestClient

    with TestClient(create_app()) as capped:
        dossier = capped.post("/api/v1/dossiers", headers=headers, json=base_declared()).json()["id"]

        # When a client streams a larger body without announcing its length
        def chunks():
            for _ in range(40):
                yield b"x" * 4096

        r = capped.post(f"/api/v1/dossiers/{dossier}/pieces",
                        headers={**headers, "content-type": "multipart/form-data; boundary=zz"}, content=chunks())
        # Then it is refused with 413 once past the cap, and nothing is stored
        assert r.status_code == 413
        assert capped.get(f"/api/v1/dossiers/{dossier}", headers=headers).json()["uploads"] == []


def test_metrics_answer_only_with_the_token(app, monkeypatch):
    client = client_for(app)
    # Given no token set, Then /metrics is off
    assert client.get("/metrics").status_code == 404
    # Given a token set, Then a scraper without it, or with another, is refused
    _set(monkeypatch, INTAKE_METRICS_TOKEN="s3cret-scrape")
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
    # And one with it gets the figures
    r = client.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape"})
    assert r.status_code == 200 and "intake_outbox_messages" in r.text


# --- retries ------------------------------------------------------------------------------------


def _count(model) -> int:
    from sqlalchemy import func, select

    from intake.db import session_scope

    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_a_retried_create_and_upload_with_the_same_key_are_done_once(app):
    from models import Dossier, Upload

    client = client_for(app)
    headers = token(client)
    # Given a create sent twice with the same Idempotency-Key (the first answer was lost)
    first = client.post("/api/v1/dossiers", headers={**headers, "Idempotency-Key": "create-42"},
                        json=base_declared())
    again = client.post("/api/v1/dossiers", headers={**headers, "Idempotency-Key": "create-42"},
                        json=base_declared())
    # Then both answers are the first one, and there is one dossier
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert _count(Dossier) == 1
    dossier = first.json()["id"]
    # Given an upload of two files sent twice with the same key
    files = [("files", ("a.txt", io.BytesIO(b"first file"), "text/plain")),
             ("files", ("b.txt", io.BytesIO(b"second file"), "text/plain"))]
    up1 = client.post(f"/api/v1/dossiers/{dossier}/pieces", headers={**headers, "Idempotency-Key": "up-1"},
                      files=files)
    files = [("files", ("a.txt", io.BytesIO(b"first file"), "text/plain")),
             ("files", ("b.txt", io.BytesIO(b"second file"), "text/plain"))]
    up2 = client.post(f"/api/v1/dossiers/{dossier}/pieces", headers={**headers, "Idempotency-Key": "up-1"},
                      files=files)
    # Then the same uploads are answered, and stored once
    assert up1.status_code == up2.status_code == 202 and up1.json() == up2.json()
    assert _count(Upload) == 2
    # And a different key is a new request; a malformed key is refused
    other = client.post("/api/v1/dossiers", headers={**headers, "Idempotency-Key": "create-43"}, json=base_declared())
    assert other.json()["id"] != dossier
    bad = client.post("/api/v1/dossiers", headers={**headers, "Idempotency-Key": "x" * 201}, json=base_declared())
    assert bad.status_code == 422


def test_the_new_dossier_form_sent_twice_creates_one_dossier(app):
    from models import Dossier

    browser = client_for(app)
    login(browser)
    data = {"csrf_token": csrf_of(browser, "/dossiers/nouveau"), "reference": "AE-DOUBLE-1",
            "procedure": "inscription", "motif": "primo", "categories": ["B"], "surname": "Dupont",
            "given_names": "Jean Pierre", "birth_date": "2005-04-12", "sex": "M", "nationality": "FRA",
            "address_line": "12 rue des Lilas", "postcode": "75011", "city": "Paris",
            "reference_date": "2026-11-26"}
    # When the same form is posted twice (a double click)
    first = browser.post("/dossiers/nouveau", data=data, follow_redirects=False)
    second = browser.post("/dossiers/nouveau", data=data, follow_redirects=False)
    # Then both lead to the same dossier, and only one exists
    assert first.status_code == second.status_code == 303, first.text[:500]
    assert first.headers["location"] == second.headers["location"]
    assert _count(Dossier) == 1
