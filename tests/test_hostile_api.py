"""Hostile uploads through the JSON API: each file gets its own finding, the dossier is still
checked, the service keeps answering (issue 10, the upload door)."""

from __future__ import annotations

import time

import pytest

from conftest import base_declared
from test_hostile_input import HOSTILE
from test_web import LETTER, Web, web  # noqa: F401 - the `web` fixture: app, accounts, in-process worker


def _wait(client, dossier_id: int, headers: dict, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while not (state := client.get(f"/api/v1/dossiers/{dossier_id}/status", headers=headers).json())["settled"]:
        assert time.monotonic() < deadline, state
        time.sleep(0.2)
    return client.get(f"/api/v1/dossiers/{dossier_id}", headers=headers).json()["result"]


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_upload_is_a_finding_and_the_rest_is_still_read(web: Web, name):
    # Given a school's dossier, When it uploads a hostile file beside a readable letter
    client, headers = web.main, web.token("ecole_a")
    dossier_id = client.post("/api/v1/dossiers", headers=headers, json=base_declared()).json()["id"]
    files = [("files", (name, HOSTILE[name](), "application/octet-stream")),
             ("files", ("lettre.png", LETTER, "image/png"))]
    r = client.post(f"/api/v1/dossiers/{dossier_id}/pieces", headers=headers, files=files)
    # Then both are accepted for checking, and the check settles
    assert r.status_code == 202, r.text
    result = _wait(client, dossier_id, headers)
    # And the hostile file is refused by name while the letter was still read
    refused = {f["file"] for f in result["findings"] if f["code"] == "unsupported_file"}
    assert name in refused
    assert any(p["file"] == "lettre.png" for p in result["pieces"]) or any(
        f["file"] == "lettre.png" for f in result["findings"])
    assert result["status"] == "incomplete"


def test_path_traversal_and_non_utf8_names_are_stored_as_plain_names(web: Web):
    client, headers = web.main, web.token("ecole_a")
    dossier_id = client.post("/api/v1/dossiers", headers=headers, json=base_declared()).json()["id"]
    files = [("files", ("../../../etc/passwd", b"x", "text/plain")),
             ("files", (b"\xff\xfe-scan.jpg".decode("latin-1"), b"y", "image/jpeg"))]
    r = client.post(f"/api/v1/dossiers/{dossier_id}/pieces", headers=headers, files=files)
    assert r.status_code == 202, r.text
    result = _wait(client, dossier_id, headers)
    names = {f["file"] for f in result["findings"] if f["code"] == "unsupported_file"}
    assert "passwd" in names and all("/" not in n for n in names)


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"reference": 12}', b"\xff\xfe"])
def test_a_malformed_dossier_is_refused_with_a_clear_error(web: Web, body):
    client, headers = web.main, web.token("ecole_a")
    r = client.post("/api/v1/dossiers", headers={**headers, "Content-Type": "application/json"}, content=body)
    assert r.status_code == 422
    assert client.get("/api/v1/dossiers", headers=headers).status_code == 200
