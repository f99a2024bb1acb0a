"""The web service at the HTTP level: every action and every permission, pages and JSON API.

Given two schools and two reviewers on a fresh embedded database, with the in-process worker reading
uploads with the real tesseract, when they use the pages or the API, then each sees and does only
what its role allows, and every action lands in the audit trail with who and when.
"""

from __future__ import annotations

import html
import io
import re
import threading
import time

import pytest
from PIL import Image, ImageDraw, ImageFont

from conftest import VENV_BIN, base_declared

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
PASSWORD = "mot-de-passe-1"


def run_user_add(*args: str, data_dir, password: str):
    """`intake user add ... --password-stdin` as an administrator types it."""
    import os
    import subprocess

    env = dict(os.environ, INTAKE_DATA_DIR=str(data_dir))
    return subprocess.run([str(VENV_BIN / "intake"), "user", "add", *args, "--password-stdin"], input=password + "\n",
                          capture_output=True, text=True, timeout=60, env=env)


def text_page(lines: list[str], size=(900, 600)) -> bytes:
    """A small PNG page with some printed French text (read for real by tesseract)."""
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, 30)
    for i, line in enumerate(lines):
        draw.text((40, 40 + 50 * i), line, fill="black", font=font)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


LETTER = text_page(["Lettre de bienvenue", "Merci de votre visite au salon", "du jardin et des plantes."])
OTHER_LETTER = text_page(["Programme des conférences", "Samedi : les rosiers anciens", "Dimanche : le potager"])


@pytest.fixture
def web(migrated):
    """The application with its lifespan (database ready, in-process worker), and four accounts."""
    from fastapi.testclient import TestClient

    from intake.web.app import create_app
    from intake.web.auth import create_user

    app = create_app()
    with TestClient(app) as main:
        create_user("ecole_a", PASSWORD, "school", "Auto-école A")
        create_user("ecole_b", PASSWORD, "school", "Auto-école B")
        create_user("verif_1", PASSWORD, "reviewer")
        create_user("verif_2", PASSWORD, "reviewer")
        yield Web(app, main)
    _drain()


def _drain() -> None:
    """Wait for the in-process worker to finish this test's messages (the next test has its own ids)."""
    from intake.workers.broker import QUEUES, configure

    broker = configure()
    for queue in QUEUES:
        if queue in broker.queues:
            broker.join(queue, timeout=120_000)


class Web:
    def __init__(self, app, main):
        self.app = app
        self.main = main

    def client(self, username: str | None = None):
        from fastapi.testclient import TestClient

        client = TestClient(self.app)
        if username:
            login(client, username)
        return client

    def token(self, username: str) -> dict:
        r = self.main.post("/api/v1/token", json={"username": username, "password": PASSWORD})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}


def csrf_of(client, path: str = "/connexion") -> str:
    page = client.get(path)
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def login(client, username: str, password: str = PASSWORD):
    token = csrf_of(client)
    return client.post("/connexion", data={"username": username, "password": password, "csrf_token": token},
                       follow_redirects=False)


def create_dossier_form(client, **fields) -> int:
    token = csrf_of(client, "/dossiers/nouveau")
    data = {"csrf_token": token, "reference": "AE-WEB-1", "procedure": "inscription", "motif": "primo",
            "categories": ["B"], "surname": "Dupont", "given_names": "Jean Pierre", "birth_date": "2005-04-12",
            "sex": "M", "nationality": "FRA", "address_line": "12 rue des Lilas", "postcode": "75011",
            "city": "Paris", "reference_date": "2026-11-26"}
    data.update(fields)
    r = client.post("/dossiers/nouveau", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text[:2000]
    return int(r.headers["location"].rsplit("/", 1)[-1])


def wait_settled(client, dossier_id: int, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        state = client.get(f"/dossiers/{dossier_id}/etat").json()
        if state["settled"]:
            return state
        assert time.monotonic() < deadline, f"dossier still pending: {state}"
        time.sleep(0.2)


def upload(client, dossier_id: int, files: dict[str, bytes], token: str | None = None):
    token = token or csrf_of(client, f"/dossiers/{dossier_id}")
    return client.post(f"/dossiers/{dossier_id}/uploads", data={"csrf_token": token},
                       files=[("files", (name, content, "image/png")) for name, content in files.items()],
                       follow_redirects=False)


def audit_actions(dossier_id: int) -> list[tuple[str, str | None]]:
    from sqlalchemy import select

    from intake.db import session_scope
    from models import AuditEvent, User

    with session_scope() as session:
        rows = session.execute(select(AuditEvent.action, User.username, AuditEvent.at)
                               .outerjoin(User, User.id == AuditEvent.user_id)
                               .where(AuditEvent.dossier_id == dossier_id).order_by(AuditEvent.id)).all()
    assert all(at is not None for _a, _u, at in rows)
    return [(action, user) for action, user, _at in rows]


def _visible_text(page: str) -> str:
    """What a person reads on a page: the text between tags, attributes and scripts left out."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def open_findings(client, dossier_id: int, headers: dict) -> list[dict]:
    return [f for f in client.get(f"/api/v1/dossiers/{dossier_id}", headers=headers).json()["findings"]
            if f["state"] == "open"]


# --- accounts, sessions, CSRF ----------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_login_and_api_asks_for_a_token(web):
    client = web.client()
    # When an anonymous visitor opens a page, then the browser is sent to the login page.
    r = client.get("/dossiers", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/connexion")
    # And the API answers 401 with a Bearer challenge.
    r = client.get("/api/v1/dossiers")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert client.get("/api/v1/dossiers", headers={"Authorization": "Bearer forged"}).status_code == 401


def test_login_checks_password_and_csrf_and_stores_hashed_password(web):
    client = web.client()
    # Given a wrong password, then the login page says so and no session is opened.
    r = login(client, "ecole_a", "wrong-password")
    assert r.status_code == 401 and "incorrect" in r.text
    assert client.get("/dossiers", follow_redirects=False).status_code == 303
    # Given a login form posted without the session's CSRF token, then it is refused.
    r = client.post("/connexion", data={"username": "ecole_a", "password": PASSWORD, "csrf_token": "x"})
    assert r.status_code == 403
    # Given the right password and token, then the school lands on its dossiers.
    r = login(client, "ecole_a")
    assert r.status_code == 303 and r.headers["location"] == "/dossiers"
    assert client.get("/dossiers").status_code == 200
    # And the password is stored as a salted scrypt hash, never in clear.
    from sqlalchemy import select

    from intake.db import session_scope
    from models import User

    with session_scope() as session:
        hashes = list(session.scalars(select(User.password_hash)))
    assert all(h.startswith("scrypt$") and PASSWORD not in h for h in hashes)
    assert len(set(hashes)) == len(hashes)  # per-user salt: same password, different hashes
    # When the user logs out, then the session is gone.
    r = client.post("/deconnexion", data={"csrf_token": csrf_of(client, "/dossiers")}, follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/dossiers", follow_redirects=False).status_code == 303


def test_wrong_passwords_in_a_row_lock_the_account_for_a_growing_time(web):
    from datetime import datetime, timedelta, timezone

    from intake.web.auth import FREE_FAILURES, LoginThrottled, authenticate

    client = web.client()
    # Given a school user who types wrong passwords: the first few are only refused
    for _ in range(FREE_FAILURES - 1):
        assert login(client, "ecole_a", "wrong-password").status_code == 401
    # When one more is wrong, Then the account is locked: the login page says to wait, with Retry-After
    assert login(client, "ecole_a", "wrong-password").status_code == 401
    r = login(client, "ecole_a")
    assert r.status_code == 429 and "Trop de tentatives" in r.text
    assert 0 < int(r.headers["retry-after"]) <= 30
    # And the API refuses a token too, even with the right password
    r = client.post("/api/v1/token", json={"username": "ecole_a", "password": PASSWORD})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    # And another account is not affected
    assert login(web.client(), "verif_1").status_code == 303

    # When the lock has passed and the password is wrong again, Then the next lock is twice as long
    later = datetime.now(timezone.utc) + timedelta(seconds=31)
    assert authenticate("ecole_a", "wrong-password", now=later) is None
    with pytest.raises(LoginThrottled) as locked:
        authenticate("ecole_a", PASSWORD, now=later + timedelta(seconds=1))
    assert 50 < locked.value.retry_after <= 60
    # When the right password is given after the lock, Then it is accepted and the count starts again
    much_later = later + timedelta(minutes=2)
    assert authenticate("ecole_a", PASSWORD, now=much_later) is not None
    assert authenticate("ecole_a", "wrong-password", now=much_later) is None
    assert authenticate("ecole_a", PASSWORD, now=much_later) is not None


def test_secret_key_is_generated_once_and_private(web, data_dir):
    key_file = data_dir / "secret_key"
    assert key_file.exists()
    assert key_file.stat().st_mode & 0o777 == 0o600
    from intake.web.auth import secret_key

    assert secret_key() == key_file.read_text().strip()


def test_user_add_command_creates_accounts_and_refuses_bad_ones(migrated):
    # When an administrator adds a school user with the password on stdin, then it can log in.
    r = run_user_add("ecole_c", "--role", "school", "--school", "Auto-école C", data_dir=migrated,
                     password="un-bon-mot-de-passe")
    assert r.returncode == 0, r.stderr
    from intake.web.auth import authenticate

    account = authenticate("ecole_c", "un-bon-mot-de-passe")
    assert account is not None and account.role == "school" and account.school == "Auto-école C"
    # When the account is locked by wrong passwords, then `intake user unlock` lifts the lock.
    import os
    import subprocess

    from intake.web.auth import FREE_FAILURES, LoginThrottled

    for _ in range(FREE_FAILURES):
        assert authenticate("ecole_c", "pas-le-bon") is None
    with pytest.raises(LoginThrottled):
        authenticate("ecole_c", "un-bon-mot-de-passe")
    unlock = subprocess.run([str(VENV_BIN / "intake"), "user", "unlock", "ecole_c"], capture_output=True, text=True,
                            timeout=60, env=dict(os.environ, INTAKE_DATA_DIR=str(migrated)))
    assert unlock.returncode == 0, unlock.stderr
    assert authenticate("ecole_c", "un-bon-mot-de-passe") is not None
    # When the same name is added again, or a school user has no school, then the command fails.
    again = run_user_add("ecole_c", "--role", "reviewer", data_dir=migrated, password="un-autre-mot-de-passe")
    assert again.returncode == 2 and "existe déjà" in again.stderr
    no_school = run_user_add("ecole_d", "--role", "school", data_dir=migrated, password="un-bon-mot-de-passe")
    assert no_school.returncode == 2 and "--school" in no_school.stderr


# --- the school's side ------------------------------------------------------------------------


def test_school_creates_dossier_from_form_and_sees_required_pieces(web):
    client = web.client("ecole_a")
    # Given a form with a wrong nationality, then the page names the field and nothing is created.
    token = csrf_of(client, "/dossiers/nouveau")
    r = client.post("/dossiers/nouveau", data={
        "csrf_token": token, "reference": "AE-1", "procedure": "inscription", "motif": "primo",
        "categories": ["B"], "surname": "Dupont", "given_names": "Jean", "birth_date": "2005-04-12", "sex": "M",
        "nationality": "France"})
    assert r.status_code == 422 and "Nationalité" in r.text
    assert "Aucun dossier" in client.get("/dossiers").text
    # When the form is right, then the dossier exists, belongs to the school, and is checked at once:
    # the missing pieces are listed with their French advice.
    dossier_id = create_dossier_form(client)
    state = wait_settled(client, dossier_id)
    assert state["status"] == "incomplete"
    page = html.unescape(client.get(f"/dossiers/{dossier_id}").text)
    # An empty dossier is waiting for its pieces (not "incomplete"), and lists what it needs in French.
    assert "AE-WEB-1" in page and "En attente des pièces" in page and "Incomplet" not in page
    assert "Pièce manquante" in page and "pièce d'identité" in page and "missing_piece" not in _visible_text(page)
    declared = client.get(f"/api/v1/dossiers/{dossier_id}", headers=web.token("ecole_a")).json()["declared"]
    assert declared["applicant"]["given_names"] == ["Jean", "Pierre"]
    assert ("dossier_created", "ecole_a") in audit_actions(dossier_id)


def test_school_uploads_several_files_and_watches_the_check_settle(web):
    client = web.client("ecole_a")
    dossier_id = create_dossier_form(client)
    wait_settled(client, dossier_id)
    # When the school sends two files at once the way the page's script does (header token), then
    # both are accepted and the dossier goes back to pending.
    token = csrf_of(client, f"/dossiers/{dossier_id}")
    r = client.post(f"/dossiers/{dossier_id}/uploads", headers={"X-CSRF-Token": token},
                    files=[("files", ("lettre.png", LETTER, "image/png")),
                           ("files", ("programme.png", OTHER_LETTER, "image/png"))])
    assert r.status_code == 202 and len(r.json()["uploads"]) == 2
    assert client.get(f"/dossiers/{dossier_id}/etat").json()["status"] == "pending"
    # Then the status settles without the page being reloaded, and the live fragment shows each upload.
    state = wait_settled(client, dossier_id)
    assert state["uploads_pending"] == 0 and state["uploads_read"] == 2
    fragment = client.get(f"/dossiers/{dossier_id}/partiel").text
    assert "lettre.png" in fragment and "programme.png" in fragment
    assert "Document non reconnu" in fragment or "Pièce illisible" in fragment
    actions = audit_actions(dossier_id)
    assert actions.count(("upload_added", "ecole_a")) == 2


def test_upload_without_csrf_token_is_refused_and_stores_nothing(web, data_dir):
    client = web.client("ecole_a")
    dossier_id = create_dossier_form(client)
    r = client.post(f"/dossiers/{dossier_id}/uploads", files=[("files", ("a.png", LETTER, "image/png"))])
    assert r.status_code == 403
    r = client.post(f"/dossiers/{dossier_id}/uploads", headers={"X-CSRF-Token": "forged"},
                    files=[("files", ("a.png", LETTER, "image/png"))])
    assert r.status_code == 403
    assert not (data_dir / "files").exists() or not any(p.is_file() for p in (data_dir / "files").rglob("*"))


def test_file_over_the_size_limit_becomes_an_unsupported_file_finding(web, monkeypatch):
    from intake.settings import reset_settings

    monkeypatch.setenv("INTAKE_MAX_FILE_BYTES", "1000")
    reset_settings()
    client = web.client("ecole_a")
    dossier_id = create_dossier_form(client)
    wait_settled(client, dossier_id)
    r = upload(client, dossier_id, {"gros.png": LETTER})
    assert r.status_code == 303
    wait_settled(client, dossier_id)
    findings = open_findings(client, dossier_id, web.token("ecole_a"))
    assert any(f["code"] == "unsupported_file" and f["file"] == "gros.png" for f in findings)


def test_replacing_an_upload_rechecks_the_dossier(web):
    client = web.client("ecole_a")
    dossier_id = create_dossier_form(client)
    upload(client, dossier_id, {"lettre.png": LETTER})
    before = wait_settled(client, dossier_id)
    headers = web.token("ecole_a")
    upload_id = client.get(f"/api/v1/dossiers/{dossier_id}", headers=headers).json()["uploads"][0]["id"]
    # When the school replaces the file, then the old upload is marked replaced and a new check runs.
    token = csrf_of(client, f"/dossiers/{dossier_id}")
    r = client.post(f"/dossiers/{dossier_id}/uploads/{upload_id}/remplacer", data={"csrf_token": token},
                    files={"file": ("programme.png", OTHER_LETTER, "image/png")}, follow_redirects=False)
    assert r.status_code == 303
    after = wait_settled(client, dossier_id)
    assert after["revision"] > before["revision"]
    detail = client.get(f"/api/v1/dossiers/{dossier_id}", headers=headers).json()
    states = {u["name"]: u["state"] for u in detail["uploads"]}
    assert states == {"lettre.png": "replaced", "programme.png": "done"}
    assert detail["result"] is not None and [p["file"] for p in detail["result"]["pieces"]] in ([], ["programme.png"])
    assert ("upload_replaced", "ecole_a") in audit_actions(dossier_id)
    # And an upload already replaced cannot be replaced again.
    r = client.post(f"/dossiers/{dossier_id}/uploads/{upload_id}/remplacer", data={"csrf_token": token},
                    files={"file": ("x.png", LETTER, "image/png")})
    assert r.status_code == 409


def test_a_school_never_sees_another_schools_dossier(web):
    client_a = web.client("ecole_a")
    dossier_id = create_dossier_form(client_a)
    upload(client_a, dossier_id, {"lettre.png": LETTER})
    wait_settled(client_a, dossier_id)
    upload_id = client_a.get(f"/api/v1/dossiers/{dossier_id}", headers=web.token("ecole_a")).json()["uploads"][0]["id"]
    client_b = web.client("ecole_b")
    token_b = csrf_of(client_b, "/dossiers")
    # Then every page, fragment, image, upload and API call answers "not found" for school B.
    for path in (f"/dossiers/{dossier_id}", f"/dossiers/{dossier_id}/etat", f"/dossiers/{dossier_id}/partiel",
                 f"/uploads/{upload_id}/pages/1.png", f"/pieces/{upload_id}/pages/1.png"):
        assert client_b.get(path).status_code == 404, path
    r = client_b.post(f"/dossiers/{dossier_id}/uploads", data={"csrf_token": token_b},
                      files=[("files", ("x.png", LETTER, "image/png"))])
    assert r.status_code == 404
    headers_b = web.token("ecole_b")
    assert client_b.get(f"/api/v1/dossiers/{dossier_id}", headers=headers_b).status_code == 404
    assert client_b.get("/api/v1/dossiers", headers=headers_b).json() == []
    assert "AE-WEB-1" not in client_b.get("/dossiers").text
    # While school A and the reviewers see it.
    assert [d["id"] for d in client_a.get("/api/v1/dossiers", headers=web.token("ecole_a")).json()] == [dossier_id]
    assert client_a.get(f"/uploads/{upload_id}/pages/1.png").headers["content-type"] == "image/png"
    reviewer = web.client("verif_1")
    image = reviewer.get(f"/uploads/{upload_id}/pages/1.png")
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    assert reviewer.get(f"/uploads/{upload_id}/pages/2.png").status_code == 404


def test_school_users_cannot_use_the_reviewers_side(web):
    client = web.client("ecole_a")
    dossier_id = create_dossier_form(client)
    wait_settled(client, dossier_id)
    token = csrf_of(client, "/dossiers")
    assert client.get("/revue").status_code == 403
    assert client.get(f"/revue/{dossier_id}").status_code == 403
    assert client.post(f"/revue/{dossier_id}/prendre", data={"csrf_token": token}).status_code == 403
    headers = web.token("ecole_a")
    assert client.post(f"/api/v1/dossiers/{dossier_id}/claim", headers=headers).status_code == 403
    finding_id = open_findings(client, dossier_id, headers)[0]["id"]
    r = client.post(f"/api/v1/findings/{finding_id}/accept", headers=headers, json={"note": "ok"})
    assert r.status_code == 403
    # And reviewers do not create dossiers or upload.
    reviewer = web.client("verif_1")
    assert reviewer.get("/dossiers/nouveau").status_code == 403
    r = reviewer.post("/api/v1/dossiers", headers=web.token("verif_1"), json=base_declared())
    assert r.status_code == 403


# --- the reviewers' side ----------------------------------------------------------------------


def _checked_dossier(web, school: str = "ecole_a", reference: str = "AE-WEB-1") -> int:
    client = web.client(school)
    dossier_id = create_dossier_form(client, reference=reference)
    wait_settled(client, dossier_id)
    return dossier_id


def test_queue_lists_dossiers_needing_review_oldest_first_with_filters(web):
    first = _checked_dossier(web, "ecole_a", "AE-A-1")
    second = _checked_dossier(web, "ecole_b", "AE-B-1")
    reviewer = web.client("verif_1")
    page = reviewer.get("/revue").text
    assert page.index("AE-A-1") < page.index("AE-B-1")
    headers = web.token("verif_1")
    assert [d["id"] for d in reviewer.get("/api/v1/queue", headers=headers).json()] == [first, second]
    # Filtered by school, by code and by status.
    assert [d["id"] for d in reviewer.get("/api/v1/queue?school=Auto-école B", headers=headers).json()] == [second]
    assert "AE-A-1" not in reviewer.get("/revue", params={"ecole": "Auto-école B"}).text
    assert len(reviewer.get("/api/v1/queue?code=missing_piece", headers=headers).json()) == 2
    assert reviewer.get("/api/v1/queue?code=mrz_invalid", headers=headers).json() == []
    assert reviewer.get("/api/v1/queue?status=complete", headers=headers).json() == []
    # The pages filter on the status they show: an empty dossier is waiting for its pieces.
    assert "AE-A-1" in reviewer.get("/revue", params={"code": "missing_piece", "statut": "waiting"}).text
    assert "AE-A-1" not in reviewer.get("/revue", params={"code": "missing_piece", "statut": "incomplete"}).text


def test_claiming_is_exclusive_even_when_two_reviewers_click_at_once(web):
    dossier_id = _checked_dossier(web)
    one, two = web.client("verif_1"), web.client("verif_2")
    tokens = {"verif_1": csrf_of(one, "/revue"), "verif_2": csrf_of(two, "/revue")}
    results = {}
    barrier = threading.Barrier(2)

    def take(name, client):
        barrier.wait()
        results[name] = client.post(f"/revue/{dossier_id}/prendre", data={"csrf_token": tokens[name]},
                                    follow_redirects=False).status_code

    threads = [threading.Thread(target=take, args=(n, c)) for n, c in (("verif_1", one), ("verif_2", two))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()) == [303, 409]
    winner = "verif_1" if results["verif_1"] == 303 else "verif_2"
    loser_client = two if winner == "verif_1" else one
    # The loser sees who holds it, read-only; its decisions are refused.
    page = loser_client.get(f"/revue/{dossier_id}").text
    assert f"Pris en charge par {winner}" in page
    headers_loser = web.token("verif_2" if winner == "verif_1" else "verif_1")
    finding_id = open_findings(loser_client, dossier_id, headers_loser)[0]["id"]
    r = loser_client.post(f"/api/v1/findings/{finding_id}/accept", headers=headers_loser, json={"note": "vu"})
    assert r.status_code == 409
    assert audit_actions(dossier_id).count(("dossier_claimed", winner)) == 1
    # When the holder releases it, the other reviewer can take it.
    winner_client = one if winner == "verif_1" else two
    r = winner_client.post(f"/revue/{dossier_id}/liberer", data={"csrf_token": tokens[winner]},
                           follow_redirects=False)
    assert r.status_code == 303
    assert loser_client.post(f"/api/v1/dossiers/{dossier_id}/claim", headers=headers_loser).status_code == 204
    assert ("dossier_released", winner) in audit_actions(dossier_id)


def test_accepting_a_finding_needs_a_note_and_is_audited_and_kept_at_the_next_check(web):
    dossier_id = _checked_dossier(web)
    reviewer = web.client("verif_1")
    token = csrf_of(reviewer, "/revue")
    headers = web.token("verif_1")
    finding = open_findings(reviewer, dossier_id, headers)[0]
    # Without the claim, deciding is refused.
    r = reviewer.post(f"/revue/constats/{finding['id']}/accepter", data={"csrf_token": token, "note": "vu"})
    assert r.status_code == 409
    reviewer.post(f"/revue/{dossier_id}/prendre", data={"csrf_token": token})
    # Without a note, accepting is refused.
    r = reviewer.post(f"/revue/constats/{finding['id']}/accepter", data={"csrf_token": token, "note": "  "})
    assert r.status_code == 422
    # Without the CSRF token, too.
    r = reviewer.post(f"/revue/constats/{finding['id']}/accepter", data={"note": "Original vu au guichet."})
    assert r.status_code == 403
    # With a note, the finding is accepted, by whom and when is shown, and the audit has it.
    r = reviewer.post(f"/revue/constats/{finding['id']}/accepter",
                      data={"csrf_token": token, "note": "Original vu au guichet."}, follow_redirects=False)
    assert r.status_code == 303
    detail = reviewer.get(f"/api/v1/dossiers/{dossier_id}", headers=headers).json()
    decided = next(f for f in detail["findings"] if f["id"] == finding["id"])
    assert decided["state"] == "accepted" and decided["decided_by"] == "verif_1" and decided["decided_at"]
    assert "Original vu au guichet." in reviewer.get(f"/revue/{dossier_id}").text
    assert ("finding_accepted", "verif_1") in audit_actions(dossier_id)
    # When the dossier is checked again, the decision is carried over.
    from intake import units

    units.run_check(dossier_id, trigger="test")
    again = reviewer.get(f"/api/v1/dossiers/{dossier_id}", headers=headers).json()["findings"]
    assert sum(1 for f in again if f["state"] == "accepted" and f["note"] == "Original vu au guichet.") == 1


def test_resolving_every_open_finding_makes_the_dossier_complete_and_leaves_the_queue(web):
    dossier_id = _checked_dossier(web)
    reviewer = web.client("verif_1")
    headers = web.token("verif_1")
    assert reviewer.post(f"/api/v1/dossiers/{dossier_id}/claim", headers=headers).status_code == 204
    for finding in open_findings(reviewer, dossier_id, headers):
        r = reviewer.post(f"/api/v1/findings/{finding['id']}/resolve", headers=headers, json={})
        assert r.status_code == 204
    detail = reviewer.get(f"/api/v1/dossiers/{dossier_id}", headers=headers).json()
    assert detail["status"] == "complete" and detail["claimed_by"] is None
    assert reviewer.get("/api/v1/queue", headers=headers).json() == []
    assert ("finding_resolved", "verif_1") in audit_actions(dossier_id)


def test_asking_the_school_for_a_new_piece_shows_the_message_until_it_uploads(web):
    dossier_id = _checked_dossier(web)
    reviewer = web.client("verif_1")
    token = csrf_of(reviewer, "/revue")
    reviewer.post(f"/revue/{dossier_id}/prendre", data={"csrf_token": token})
    finding = open_findings(reviewer, dossier_id, web.token("verif_1"))[0]
    r = reviewer.post(f"/revue/{dossier_id}/demande", data={"csrf_token": token, "finding_id": str(finding["id"]),
                                                             "message": "Merci de fournir un passeport lisible."},
                      follow_redirects=False)
    assert r.status_code == 303
    assert ("piece_requested", "verif_1") in audit_actions(dossier_id)
    school = web.client("ecole_a")
    assert "Merci de fournir un passeport lisible." in school.get(f"/dossiers/{dossier_id}").text
    # An empty message is refused.
    r = reviewer.post(f"/revue/{dossier_id}/demande", data={"csrf_token": token, "message": ""})
    assert r.status_code == 422
    # Once the school has uploaded something, the request is no longer shown as pending.
    upload(school, dossier_id, {"passeport.png": LETTER})
    wait_settled(school, dossier_id)
    assert "Merci de fournir un passeport lisible." not in school.get(f"/dossiers/{dossier_id}").text


def test_review_page_shows_pieces_beside_declared_data_and_the_audit_trail(web):
    client = web.client("ecole_a")
    dossier_id = create_dossier_form(client)
    upload(client, dossier_id, {"lettre.png": LETTER})
    wait_settled(client, dossier_id)
    reviewer = web.client("verif_1")
    page = reviewer.get(f"/revue/{dossier_id}").text
    assert "Données déclarées" in page and "DUPONT" in page.upper()
    assert re.search(r'<img src="/uploads/\d+/pages/1\.png"', page)
    assert "Journal" in page and "Dossier créé" in page and "ecole_a" in page
    # A reviewer opening the school's page of a dossier is sent to the review page.
    r = reviewer.get(f"/dossiers/{dossier_id}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/revue/{dossier_id}"


def test_compare_fields_marks_what_differs_from_the_declared_data():
    from intake.web.labels import compare_fields

    declared = base_declared()
    rows = {r.name: r for r in compare_fields({"surname": "DUPONT", "given_names": ["JEAN", "PIERRE"],
                                                "birth_date": "2005-04-21", "sex": "M", "postcode": "75011",
                                                "city": "PARIS"}, declared)}
    assert not rows["surname"].differs and not rows["given_names"].differs and not rows["city"].differs
    assert rows["birth_date"].differs and rows["birth_date"].read == "21/04/2005"
    assert compare_fields({"surname": "DURAND"}, declared)[0].differs
    assert compare_fields({"holder_name": "M. JEAN DUPONT"}, declared)[0].differs is False
    assert compare_fields({"holder_name": "MME CLAIRE MARTIN"}, declared)[0].differs is True


# --- the JSON API -----------------------------------------------------------------------------


def test_school_software_creates_uploads_and_polls_through_the_api(web):
    client = web.main
    headers = web.token("ecole_a")
    # A malformed dossier.json is refused with the field named.
    r = client.post("/api/v1/dossiers", headers=headers, json=base_declared(motif="autre"))
    assert r.status_code == 422 and r.json()["detail"]["field"] == "motif"
    r = client.post("/api/v1/dossiers", headers=headers, json=base_declared(reference="AE-API-1"))
    assert r.status_code == 201
    dossier_id = r.json()["id"]
    r = client.post(f"/api/v1/dossiers/{dossier_id}/uploads", headers=headers,
                    files=[("files", ("lettre.png", LETTER, "image/png"))])
    assert r.status_code == 202 and len(r.json()["uploads"]) == 1
    deadline = time.monotonic() + 90
    while not (state := client.get(f"/api/v1/dossiers/{dossier_id}/status", headers=headers).json())["settled"]:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    detail = client.get(f"/api/v1/dossiers/{dossier_id}", headers=headers).json()
    assert detail["result"] is not None, (state, detail["uploads"])
    result = detail["result"]
    # The stored result has exactly the shape of `intake check --json`.
    assert set(result) == {"reference", "status", "pieces", "findings"}
    assert result["reference"] == "AE-API-1" and result["status"] == state["status"]
    assert {f["code"] for f in result["findings"]} >= {"missing_piece"}
    # The school's dossier appears in its listing, and the OpenAPI document describes the bearer login.
    assert [d["reference"] for d in client.get("/api/v1/dossiers", headers=headers).json()] == ["AE-API-1"]
    spec = client.get("/api/openapi.json").json()
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert "/api/v1/dossiers/{dossier_id}/uploads" in spec["paths"] and "/dossiers" not in spec["paths"]
    # A wrong password gets no token.
    assert client.post("/api/v1/token", json={"username": "ecole_a", "password": "nope"}).status_code == 401


#: The first paths of the routes that take a file or an upload id (they said "pieces" for an upload),
#: kept as deprecated aliases, and the operation ids clients generated from them know.
FIRST_UPLOAD_ROUTES = {
    ("post", "/api/v1/dossiers/{dossier_id}/pieces"): "upload_pieces_api_v1_dossiers__dossier_id__pieces_post",
    ("post", "/api/v1/dossiers/{dossier_id}/pieces/{upload_id}/replace"):
        "replace_piece_api_v1_dossiers__dossier_id__pieces__upload_id__replace_post",
    ("delete", "/api/v1/dossiers/{dossier_id}/pieces/{upload_id}"):
        "delete_piece_api_v1_dossiers__dossier_id__pieces__upload_id__delete",
}


def test_upload_routes_answer_at_uploads_and_still_at_their_first_pieces_paths(web):
    """An upload is a file received, a piece a document found in it: the routes that take an upload
    are under /uploads, and their first paths (under /pieces) keep working for existing clients."""
    client = web.client("ecole_a")
    headers = web.token("ecole_a")
    dossier_id = create_dossier_form(client)
    wait_settled(client, dossier_id)
    token = {"X-CSRF-Token": csrf_of(client, f"/dossiers/{dossier_id}")}
    png = [("files", ("lettre.png", LETTER, "image/png"))]
    # Given a file sent to each path, two by the pages' script and two by the school's software
    sent = [client.post(f"/dossiers/{dossier_id}/uploads", headers=token, files=png),
            client.post(f"/dossiers/{dossier_id}/pieces", headers=token, files=png),
            web.main.post(f"/api/v1/dossiers/{dossier_id}/uploads", headers=headers, files=png),
            web.main.post(f"/api/v1/dossiers/{dossier_id}/pieces", headers=headers, files=png)]
    # Then each is received
    assert [r.status_code for r in sent] == [202] * 4
    first = [r.json()["uploads"][0] for r in sent]
    wait_settled(client, dossier_id)
    current = client.get(f"/api/v1/dossiers/{dossier_id}", headers=headers).json()["uploads"]
    assert sorted(u["id"] for u in current) == sorted(first)
    # And a page of an upload is shown at both paths
    for prefix in ("/uploads", "/pieces"):
        image = client.get(f"{prefix}/{first[0]}/pages/1.png")
        assert image.status_code == 200 and image.content.startswith(b"\x89PNG"), prefix
    # When each upload is replaced through another path, then each replacement is received
    other = [("file", ("programme.png", OTHER_LETTER, "image/png"))]
    replaced = [client.post(f"/dossiers/{dossier_id}/uploads/{first[0]}/remplacer", headers=token, files=other),
                client.post(f"/dossiers/{dossier_id}/pieces/{first[1]}/remplacer", headers=token, files=other),
                web.main.post(f"/api/v1/dossiers/{dossier_id}/uploads/{first[2]}/replace", headers=headers,
                              files=other),
                web.main.post(f"/api/v1/dossiers/{dossier_id}/pieces/{first[3]}/replace", headers=headers,
                              files=other)]
    assert [r.status_code for r in replaced] == [202] * 4
    second = [r.json()["uploads"][0] for r in replaced]
    wait_settled(client, dossier_id)
    states = {u["id"]: u["state"] for u in client.get(f"/api/v1/dossiers/{dossier_id}", headers=headers).json()
              ["uploads"]}
    assert [states[i] for i in first] == ["replaced"] * 4 and all(states[i] != "replaced" for i in second)
    # When each replacement is deleted through another path, then each is gone
    deleted = [client.post(f"/dossiers/{dossier_id}/uploads/{second[0]}/supprimer", headers=token),
               client.post(f"/dossiers/{dossier_id}/pieces/{second[1]}/supprimer", headers=token),
               web.main.delete(f"/api/v1/dossiers/{dossier_id}/uploads/{second[2]}", headers=headers),
               web.main.delete(f"/api/v1/dossiers/{dossier_id}/pieces/{second[3]}", headers=headers)]
    assert [r.status_code for r in deleted] == [202] * 4
    assert _uploads(client, dossier_id, headers) == {}
    wait_settled(client, dossier_id)
    # And the API's document marks the first paths deprecated, naming the new one, with their first ids
    paths = web.main.get("/api/openapi.json").json()["paths"]
    for (method, path), operation_id in FIRST_UPLOAD_ROUTES.items():
        old = paths[path][method]
        new = paths[path.replace("/pieces", "/uploads")][method]
        assert old["deprecated"] is True and not new.get("deprecated"), path
        assert old["summary"].startswith("Obsolète") and path.replace("/pieces", "/uploads") in old["summary"]
        assert old["operationId"] == operation_id


def test_the_upload_body_cap_covers_the_uploads_paths():
    """A file of several megabytes must pass the body cap at the canonical paths as at the first ones."""
    from intake.web.app import UPLOAD_ROUTE

    for path in ("/dossiers/7/pieces", "/api/v1/dossiers/7/pieces/3/replace", "/dossiers/7/pieces/3/remplacer"):
        assert UPLOAD_ROUTE.match(path), path
    for path in ("/dossiers/7/uploads", "/api/v1/dossiers/7/uploads/3/replace", "/dossiers/7/uploads/3/remplacer"):
        assert UPLOAD_ROUTE.match(path), path


@pytest.mark.services
def test_on_postgresql_only_one_of_many_simultaneous_claims_wins(pg_database, data_dir, monkeypatch):
    # Given the server database (real row locks, unlike SQLite), a checked dossier and four reviewers.
    from intake import db, units
    from intake.dossier import parse_declared
    from intake.settings import reset_settings
    from intake.web import operations
    from intake.web.auth import create_user

    monkeypatch.setenv("INTAKE_DATABASE_URL", pg_database)
    reset_settings()
    db.upgrade()
    reviewers = [create_user(f"verif_{i}", PASSWORD, "reviewer") for i in range(4)]
    dossier_id = units.create_dossier(parse_declared(base_declared()), school="Auto-école A")
    assert units.run_check(dossier_id) == "incomplete"
    # When they all claim it at the same instant, then exactly one gets it.
    barrier = threading.Barrier(len(reviewers))
    outcomes = {}

    def take(account):
        barrier.wait()
        try:
            operations.claim(account, dossier_id)
            outcomes[account.username] = "won"
        except operations.Conflict:
            outcomes[account.username] = "refused"

    threads = [threading.Thread(target=take, args=(a,)) for a in reviewers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes.values()) == ["refused"] * 3 + ["won"]
    winner = next(a for a in reviewers if outcomes[a.username] == "won")
    assert audit_actions(dossier_id).count(("dossier_claimed", winner.username)) == 1
    # And only the winner's decision is taken.
    finding_id = operations.dossier_detail(winner, dossier_id)["findings"][0]["id"]
    loser = next(a for a in reviewers if a is not winner)
    with pytest.raises(operations.Conflict):
        operations.decide_finding(loser, finding_id, "accept", "vu")
    operations.decide_finding(winner, finding_id, "accept", "Pièce vue au guichet.")
    assert operations.dossier_detail(winner, dossier_id)["findings"][0]["state"] == "accepted"


@pytest.mark.services
def test_on_postgresql_a_school_deletes_an_upload_corrects_its_data_and_finds_its_dossier(pg_database, data_dir,
                                                                                          monkeypatch):
    # Given the server database, a school's dossier with a broken file read and checked
    from intake import db, units
    from intake.web import operations
    from intake.web.auth import create_user

    monkeypatch.setenv("INTAKE_DATABASE_URL", pg_database)
    from intake.settings import reset_settings

    reset_settings()
    db.upgrade()
    school = create_user("ecole_pg", PASSWORD, "school", "Auto-école A")
    dossier_id = operations.create_dossier(school, base_declared(reference="AE-PG-1"), "api")
    upload_id = units.add_upload(dossier_id, "scan-abime.png", io.BytesIO(BROKEN), actor="ecole_pg")
    units.read_and_record_upload(upload_id)
    units.run_check(dossier_id)
    assert any(f["file"] == "scan-abime.png" for f in operations.dossier_detail(school, dossier_id)["findings"])
    # When the school deletes it, then its findings go with it and the next check has no trace of it
    operations.delete_upload(school, dossier_id, upload_id)
    detail = operations.dossier_detail(school, dossier_id)
    assert detail["uploads"] == [] and not any(f["file"] for f in detail["findings"])
    assert detail["status"] == "pending"
    units.run_check(dossier_id)
    assert operations.dossier_detail(school, dossier_id)["shown_status"] == "waiting"
    # When it corrects the surname, then the declared data changes and the journal names the field
    changed = operations.update_declared(school, dossier_id, base_declared(
        reference="AE-PG-1", applicant={**base_declared()["applicant"], "surname": "Lefèvre"}))
    assert changed == ["applicant.surname"]
    units.run_check(dossier_id)
    # And the list finds it by the new name, accents ignored
    rows = operations.list_dossiers(school, search="lefevre")
    assert [(r.id, r.candidate, r.shown_status) for r in rows] == [(dossier_id, "LEFÈVRE Jean Pierre", "waiting")]
    assert [a for a, _ in audit_actions(dossier_id)].count("upload_deleted") == 1


def test_the_web_service_exposes_prometheus_metrics(web, monkeypatch):
    from intake.settings import reset_settings

    # Given a dossier waiting in the service, and a metrics token set
    client, headers = web.main, web.token("ecole_a")
    client.post("/api/v1/dossiers", headers=headers, json=base_declared(reference="AE-METRICS"))
    monkeypatch.setenv("INTAKE_METRICS_TOKEN", "scrape-secret")
    reset_settings()
    # When Prometheus scrapes /metrics with the token
    r = client.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
    # Then it gets the text exposition with intake's gauges
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert "intake_dossiers{" in r.text and "intake_oldest_pending_seconds" in r.text


# --- a school's day: delete, correct, find (issue 18) -------------------------------------------

#: Words of the code that must never reach a page a person reads.
CODE_WORDS = re.compile(r"\b[a-z]+_[a-z_]+\b|\b(bill|tax_notice|td1|td2|td3|upload_id|pending|needs_review|"
                        r"incomplete|applicant|unknown|system)\b")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
BROKEN = b"this is not an image at all"


def _form_fields(**fields) -> dict:
    data = {"reference": "AE-WEB-1", "procedure": "inscription", "motif": "primo", "categories": ["B"],
            "surname": "Dupont", "given_names": "Jean Pierre", "birth_date": "2005-04-12", "sex": "M",
            "nationality": "FRA", "address_line": "12 rue des Lilas", "postcode": "75011", "city": "Paris",
            "reference_date": "2026-11-26"}
    data.update(fields)
    return data


def _uploads(client, dossier_id: int, headers: dict) -> dict[str, dict]:
    detail = client.get(f"/api/v1/dossiers/{dossier_id}", headers=headers).json()
    return {u["name"]: u for u in detail["uploads"] if u["state"] != "replaced"}


def test_school_deletes_a_bad_upload_and_the_dossier_is_checked_again(web):
    client = web.client("ecole_a")
    headers = web.token("ecole_a")
    dossier_id = create_dossier_form(client)
    # Given a dossier with a readable letter and a broken file
    upload(client, dossier_id, {"lettre.png": LETTER, "scan-abime.png": BROKEN})
    before = wait_settled(client, dossier_id)
    uploads = _uploads(client, dossier_id, headers)
    broken = uploads["scan-abime.png"]
    # Then the broken file is shown unreadable, in red, with its reason (not "lue")
    fragment = client.get(f"/dossiers/{dossier_id}/partiel").text
    row = re.search(rf'<tr data-upload="{broken["id"]}" class="up-unreadable">(.*?)</tr>', fragment, re.S)
    assert row, fragment[:3000]
    cells = html.unescape(row.group(1))
    assert "Illisible" in cells and "bad-file" in cells and "scan-abime.png" in cells
    assert any(f["file"] == "scan-abime.png" for f in open_findings(client, dossier_id, headers))
    # When another school or a reviewer tries to delete it, then it is refused and nothing changes
    other = web.client("ecole_b")
    token_b = csrf_of(other, "/dossiers")
    assert other.post(f"/dossiers/{dossier_id}/uploads/{broken['id']}/supprimer",
                      data={"csrf_token": token_b}).status_code == 404
    assert web.main.delete(f"/api/v1/dossiers/{dossier_id}/uploads/{broken['id']}",
                           headers=web.token("verif_1")).status_code == 403
    # When the school deletes it from its page
    token = csrf_of(client, f"/dossiers/{dossier_id}")
    r = client.post(f"/dossiers/{dossier_id}/uploads/{broken['id']}/supprimer", data={"csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 303
    # Then its findings are gone at once, the dossier is checked again, and the journal says so
    assert not any(f["file"] == "scan-abime.png" for f in open_findings(client, dossier_id, headers))
    after = wait_settled(client, dossier_id)
    assert after["revision"] > before["revision"]
    assert set(_uploads(client, dossier_id, headers)) == {"lettre.png"}
    assert not any(f["file"] == "scan-abime.png" for f in open_findings(client, dossier_id, headers))
    assert ("upload_deleted", "ecole_a") in audit_actions(dossier_id)
    journal = _visible_text(web.client("verif_1").get(f"/revue/{dossier_id}").text)
    assert "Pièce supprimée" in journal and "upload_id" not in journal
    # And deleting it twice says it is gone
    r = client.post(f"/dossiers/{dossier_id}/uploads/{broken['id']}/supprimer", data={"csrf_token": token})
    assert r.status_code == 404
    # The school's software does the same through the API
    letter = _uploads(client, dossier_id, headers)["lettre.png"]
    r = web.main.delete(f"/api/v1/dossiers/{dossier_id}/uploads/{letter['id']}", headers=headers)
    assert r.status_code == 202
    state = wait_settled(client, dossier_id)
    assert state["uploads_read"] == 0
    assert "En attente des pièces" in client.get(f"/dossiers/{dossier_id}").text


def test_school_corrects_the_declared_data_and_the_dossier_is_checked_again(web):
    client = web.client("ecole_a")
    headers = web.token("ecole_a")
    dossier_id = create_dossier_form(client)
    before = wait_settled(client, dossier_id)
    # The school's page shows the declared data and a way to correct it
    page = _visible_text(client.get(f"/dossiers/{dossier_id}").text)
    assert "Données déclarées" in page and "Corriger les données" in page and "12/04/2005" in page
    assert "France" in page and "Masculin" in page
    form = client.get(f"/dossiers/{dossier_id}/modifier").text
    assert 'value="Dupont"' in form and '<option value="FRA" selected>France</option>' in form
    # When the school corrects the surname and the postcode
    token = csrf_of(client, f"/dossiers/{dossier_id}/modifier")
    r = client.post(f"/dossiers/{dossier_id}/modifier", data={"csrf_token": token, **_form_fields(
        surname="Durand", postcode="75012")}, follow_redirects=False)
    assert r.status_code == 303
    # Then the dossier is checked again with the new data, and the journal names the fields, not the values
    after = wait_settled(client, dossier_id)
    assert after["revision"] > before["revision"]
    declared = client.get(f"/api/v1/dossiers/{dossier_id}", headers=headers).json()["declared"]
    assert declared["applicant"]["surname"] == "Durand" and declared["applicant"]["address"]["postcode"] == "75012"
    from sqlalchemy import select

    from intake.db import session_scope
    from models import AuditEvent

    with session_scope() as session:
        details = session.scalars(select(AuditEvent.details).where(
            AuditEvent.dossier_id == dossier_id, AuditEvent.action == "declared_edited")).all()
    assert details == [{"fields": ["applicant.address.postcode", "applicant.surname"]}]
    assert "Durand" not in str(details)
    journal = _visible_text(web.client("verif_1").get(f"/revue/{dossier_id}").text)
    assert "Données déclarées corrigées" in journal and "Code postal, Nom" in journal
    # When nothing changed, then no new check is asked for
    r = client.post(f"/dossiers/{dossier_id}/modifier", data={"csrf_token": token, **_form_fields(
        surname="Durand", postcode="75012")}, follow_redirects=False)
    assert r.status_code == 303 and client.get(f"/dossiers/{dossier_id}/etat").json()["revision"] == after["revision"]
    # And the API corrects the same way
    r = web.main.put(f"/api/v1/dossiers/{dossier_id}/declared", headers=headers,
                     json=base_declared(reference="AE-WEB-1"))
    assert r.status_code == 202 and "applicant.surname" in r.json()["changed"]
    r = web.main.put(f"/api/v1/dossiers/{dossier_id}/declared", headers=headers,
                     json=base_declared(applicant={**base_declared()["applicant"], "nationality": "ZZZ"}))
    assert r.status_code == 422 and r.json()["detail"]["field"] == "applicant.nationality"
    wait_settled(client, dossier_id)
    paths = web.main.get("/api/openapi.json").json()["paths"]
    assert "put" in paths["/api/v1/dossiers/{dossier_id}/declared"]
    assert "delete" in paths["/api/v1/dossiers/{dossier_id}/uploads/{upload_id}"]


@pytest.mark.parametrize("field, value, label, words", [
    ("postcode", "7501", "Code postal", "5 chiffres"),
    ("email", "pas-un-courriel", "Courriel", "courriel invalide"),
    ("birth_date", "2999-01-01", "Date de naissance", "futur"),
    ("nationality", "ZZZ", "Nationalité", "liste des pays"),
])
def test_the_server_refuses_what_the_form_would_not_let_through(web, field, value, label, words):
    # Given a school filling the form with one mistyped value (the browser's checks bypassed)
    client = web.client("ecole_a")
    token = csrf_of(client, "/dossiers/nouveau")
    r = client.post("/dossiers/nouveau", data={"csrf_token": token, **_form_fields(**{field: value})},
                    follow_redirects=False)
    # Then the form comes back naming the field in French, and nothing is created
    assert r.status_code == 422
    text = html.unescape(r.text)
    assert f"Champ « {label} »" in text and words in text
    assert client.get("/api/v1/dossiers", headers=web.token("ecole_a")).json() == []


def test_a_refusal_of_the_schema_names_the_choices_in_french(web):
    client = web.client("ecole_a")
    token = csrf_of(client, "/dossiers/nouveau")
    r = client.post("/dossiers/nouveau", data={"csrf_token": token, **_form_fields(training="B96")})
    text = _visible_text(r.text)
    assert r.status_code == 422 and "Champ « Formation »" in text
    assert "« Titre après formation »" in text and "titre_formation" not in text


def test_the_form_offers_countries_by_french_name_and_checks_in_the_browser(web):
    form = web.client("ecole_a").get("/dossiers/nouveau").text
    assert '<select name="nationality" required>' in form
    assert '<option value="DZA">Algérie</option>' in form and '<option value="DEU">Allemagne</option>' in form
    assert 'pattern="[0-9]{5}"' in form and 'type="email" name="email"' in form
    assert re.search(r'name="birth_date" value="[^"]*" required max="\d{4}-\d{2}-\d{2}"', form)


def test_lists_show_the_candidate_find_by_name_or_reference_and_flag_what_needs_action(web):
    client = web.client("ecole_a")
    token = csrf_of(client, "/dossiers/nouveau")
    first = create_dossier_form(client, reference="AE-LIST-1", surname="Lefèvre", given_names="Zoé")
    # A second dossier with the same reference is accepted with a warning
    r = client.post("/dossiers/nouveau", data={"csrf_token": token, **_form_fields(reference="AE-LIST-1")})
    assert r.status_code == 200 and "déjà utilisée" in html.unescape(r.text)
    second = int(str(r.url).rsplit("/", 1)[-1])
    # and the warning stays on the dossier's page (and in the API), linking the other dossier
    assert "est aussi celle d'un autre dossier" in html.unescape(client.get(f"/dossiers/{second}").text)
    same = web.main.get(f"/api/v1/dossiers/{second}", headers=web.token("ecole_a")).json()["same_reference"]
    assert [o["id"] for o in same] == [first]
    wait_settled(client, first)
    wait_settled(client, second)
    page = _visible_text(client.get("/dossiers").text)
    assert "LEFÈVRE Zoé" in page and "DUPONT Jean Pierre" in page
    assert page.count("Action requise") >= 2 and "En attente des pièces" in page
    # Search ignores accents and case, and finds by reference too
    found = _visible_text(client.get("/dossiers", params={"q": "lefevre"}).text)
    assert "LEFÈVRE Zoé" in found and "DUPONT" not in found
    assert "DUPONT" in _visible_text(client.get("/dossiers", params={"q": "ae-list"}).text)
    assert "Aucun dossier ne correspond" in client.get("/dossiers", params={"q": "martin"}).text
    assert "LEFÈVRE" in _visible_text(client.get("/dossiers", params={"statut": "waiting"}).text)
    assert "LEFÈVRE" not in _visible_text(client.get("/dossiers", params={"statut": "complete"}).text)
    # The API lists the same, with the count of open findings (not kinds of finding)
    rows = web.main.get("/api/v1/dossiers", params={"q": "zoe"}, headers=web.token("ecole_a")).json()
    assert [r["id"] for r in rows] == [first] and rows[0]["candidate"] == "LEFÈVRE Zoé"
    assert rows[0]["shown_status"] == "waiting" and rows[0]["action_required"] is True
    assert rows[0]["open_findings"] >= len(rows[0]["open_codes"])
    # The reviewers' queue has the name column and finds by name as well
    queue_rows = web.main.get("/api/v1/queue", params={"q": "LEFEVRE"}, headers=web.token("verif_1")).json()
    assert [r["id"] for r in queue_rows] == [first]
    queue = _visible_text(web.client("verif_1").get("/revue", params={"q": "Lefevre"}).text)
    assert "LEFÈVRE Zoé" in queue and "DUPONT" not in queue and "Pièce manquante" in queue


def test_a_request_for_a_piece_shows_on_the_schools_list_until_a_new_upload(web):
    dossier_id = _checked_dossier(web)
    reviewer = web.client("verif_1")
    token = csrf_of(reviewer, "/revue")
    reviewer.post(f"/revue/{dossier_id}/prendre", data={"csrf_token": token})
    reviewer.post(f"/revue/{dossier_id}/demande",
                  data={"csrf_token": token, "message": "Merci d'envoyer le passeport."})
    school = web.client("ecole_a")
    listing = _visible_text(school.get("/dossiers").text)
    assert "Pièce demandée" in listing and "Action requise" in listing
    assert "Pièce demandée" in _visible_text(school.get(f"/dossiers/{dossier_id}/partiel").text)
    upload(school, dossier_id, {"passeport.png": LETTER})
    wait_settled(school, dossier_id)
    fragment = _visible_text(school.get(f"/dossiers/{dossier_id}/partiel").text)
    assert "Merci d'envoyer le passeport." not in fragment and "Pièce demandée" not in fragment


def test_a_dossier_being_checked_again_marks_its_previous_findings(web):
    client = web.client("ecole_a")
    dossier_id = create_dossier_form(client)
    wait_settled(client, dossier_id)
    from sqlalchemy import update

    from intake.db import session_scope
    from models import Dossier

    # Given a dossier whose pieces are being read again (status pending, old findings still stored)
    with session_scope() as session:
        session.execute(update(Dossier).where(Dossier.id == dossier_id).values(status="pending"))
    fragment = client.get(f"/dossiers/{dossier_id}/partiel").text
    # Then the old findings are shown as those of the previous check, being re-checked
    assert "Revérification en cours" in fragment and 'class="findings stale"' in fragment
    review = web.client("verif_1").get(f"/revue/{dossier_id}").text
    assert "Revérification en cours" in review and "Décider" not in review


def test_pages_a_person_reads_carry_no_code_and_no_iso_date(web):
    client = web.client("ecole_a")
    dossier_id = create_dossier_form(client, reference="AE-FR-1")
    upload(client, dossier_id, {"lettre-salon.png": LETTER, "scan-abime.png": BROKEN})
    wait_settled(client, dossier_id)
    reviewer = web.client("verif_1")
    token = csrf_of(reviewer, "/revue")
    reviewer.post(f"/revue/{dossier_id}/prendre", data={"csrf_token": token})
    finding = open_findings(reviewer, dossier_id, web.token("verif_1"))[0]
    reviewer.post(f"/revue/constats/{finding['id']}/accepter",
                  data={"csrf_token": token, "note": "Vu avec le candidat."})
    pages = {"/dossiers": client, f"/dossiers/{dossier_id}": client, f"/dossiers/{dossier_id}/modifier": client,
             "/dossiers/nouveau": client, "/revue": reviewer, f"/revue/{dossier_id}": reviewer}
    for path, who in pages.items():
        # (the accounts' own names, ecole_a and verif_1, are what people typed: not codes)
        text = re.sub(r"ecole_a|verif_1", " ", _visible_text(who.get(path).text))
        assert not CODE_WORDS.search(text), (path, CODE_WORDS.search(text).group(0))
        assert not ISO_DATE.search(text), (path, ISO_DATE.search(text).group(0))
    review = _visible_text(reviewer.get(f"/revue/{dossier_id}").text)
    assert "Accepté par verif_1 le " in review and "Accepté par un vérificateur" not in review


def test_dates_are_french_and_times_are_paris_time():
    from intake.web import labels

    assert labels.day("2026-11-27") == "27/11/2026"
    assert labels.when("2026-11-27T13:44:00+00:00") == "27/11/2026 à 14:44"
    assert labels.when("2026-07-01T22:30:00+00:00") == "02/07/2026 à 00:30"
    assert labels.field_value("document_subtype", "bill") == "Facture"
    assert labels.field_value("mrz_format", "td3") == "passeport (2 lignes de 44)"
    assert labels.field_value("nationality", "DEU") == "Allemagne"
    assert labels.code_label("proof_of_address_address_mismatch") == "Adresse différente de l'adresse déclarée"
    assert labels.code_label("a_code_added_later") == "Autre constat"
    assert labels.audit_details("upload_added", {"upload_id": 1, "size": 142944}) == "Taille : 140 Ko"


def test_review_page_draws_each_field_where_it_was_read(web):
    client = web.client("ecole_a")
    dossier_id = create_dossier_form(client)
    upload(client, dossier_id, {"lettre.png": LETTER})
    wait_settled(client, dossier_id)
    upload_id = _uploads(client, dossier_id, web.token("ecole_a"))["lettre.png"]["id"]
    _give_piece_evidence(upload_id, {"surname": "DUPONT"}, {"surname": [40, 40, 300, 40]}, (900, 600, 0))
    page = web.client("verif_1").get(f"/revue/{dossier_id}").text
    assert re.search(r'<tr class="" data-field="surname" data-page="1" data-box="40.0,40.0,300.0,40.0">', page)
    frames = re.search(r'data-frames="([^"]+)"', page).group(1)
    assert json_loads(html.unescape(frames)) == {"1": {"width": 900, "height": 600, "rotation": 0}}


def json_loads(text: str):
    import json

    return json.loads(text)


def _give_piece_evidence(upload_id: int, fields: dict, boxes: dict, frame: tuple[int, int, int]) -> None:
    """Write a piece with field evidence on an upload (as the pipeline will, once it records boxes)."""
    from sqlalchemy import delete

    from intake.db import session_scope
    from models import Piece

    width, height, rotation = frame
    evidence = {"fields": {name: {"confidence": 0.9, "reader": "ocr", "protected": None, "readings": 1,
                                  "page": 1, "box": box} for name, box in boxes.items()},
                "frames": {"1": {"width": width, "height": height, "rotation": rotation}}}
    with session_scope() as session:
        session.execute(delete(Piece).where(Piece.upload_id == upload_id))
        session.add(Piece(upload_id=upload_id, position=0, page=1, pages=[1], kind="identity_card",
                          holder="applicant", confidence=0.9, fields=fields, evidence=evidence))
