"""Hostile uploads through `intake check`: each gets a clear finding, the rest is still checked,
nothing crashes, nothing is lost, and no personal data reaches the logs (issue 10)."""

from __future__ import annotations

import io
import json
import os
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from conftest import FIXTURES, base_declared, copy_dossier, run_intake, write_dossier


def _bomb_png() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 50_000, 50_000, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 50_000))
            + chunk(b"IEND", b""))


def _pdf(pages: int, password: str | None = None) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if password:
        writer.encrypt(user_password=password, owner_password=password)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def _image(fmt: str, size=(800, 600)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (180, 180, 180)).save(buf, fmt)
    return buf.getvalue()


def _tiff(frames: int) -> bytes:
    buf = io.BytesIO()
    first = Image.new("L", (40, 40), 255)
    first.save(buf, "TIFF", save_all=True, append_images=[first] * (frames - 1))
    return buf.getvalue()


HOSTILE = {
    "zero.jpg": lambda: b"",
    "truncated.jpg": lambda: _image("JPEG")[:700],
    "truncated.png": lambda: _image("PNG")[:120],
    "encrypted.pdf": lambda: _pdf(1, password="secret"),
    "five-thousand-pages.pdf": lambda: _pdf(5000),
    "bomb.png": _bomb_png,
    "page.jpg": lambda: b"<!DOCTYPE html><html><script>alert(1)</script></html>",
    "drawing.svg": lambda: b'<svg xmlns="http://www.w3.org/2000/svg" width="50000" height="50000"/>',
    "two-hundred.tif": lambda: _tiff(200),
}


@pytest.fixture(scope="module")
def hostile_dossier(tmp_path_factory):
    """The sample dossier plus every hostile file of issue 10."""
    root = tmp_path_factory.mktemp("hostile")
    folder = copy_dossier(FIXTURES / "sample", root / "dossier")
    for name, make in HOSTILE.items():
        (folder / name).write_bytes(make())
    with open(folder / "huge.pdf", "wb") as handle:  # 300 MB, sparse on disk
        handle.truncate(300 * 1024 * 1024)
    os.close(os.open(os.fsencode(folder) + b"/\xff\xfename.jpg", os.O_CREAT | os.O_WRONLY, 0o600))
    return folder


@pytest.fixture(scope="module")
def hostile_result(hostile_dossier, tmp_path_factory):
    data = tmp_path_factory.mktemp("data")
    proc = run_intake("-v", "check", str(hostile_dossier), "--json",
                      env={"INTAKE_DATA_DIR": str(data), "INTAKE_LOG_LEVEL": "DEBUG",
                           "INTAKE_2DDOC_CERTS": str(FIXTURES / "certs")}, timeout=600)
    return proc


def test_every_hostile_file_gets_its_own_finding_and_the_run_completes(hostile_result):
    # When the dossier with every hostile file is checked
    proc = hostile_result
    # Then the command ran (exit 1: the dossier is not complete), with one JSON document on stdout
    assert proc.returncode == 1, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    refused = {f["file"] for f in result["findings"] if f["code"] == "unsupported_file"}
    # And every hostile file is refused by name, with a reason
    expected = set(HOSTILE) | {"huge.pdf"}
    assert expected <= refused, sorted(expected - refused)
    assert any(name.endswith("name.jpg") for name in refused)  # the non-UTF-8 name, made readable
    for f in result["findings"]:
        if f["code"] == "unsupported_file":
            assert f["severity"] == "blocking" and "n'a pas pu être lu" in f["message"]


def test_the_rest_of_the_dossier_is_still_checked(hostile_result):
    # Then the sample's real pieces were still read
    result = json.loads(hostile_result.stdout)
    kinds = {p["kind"] for p in result["pieces"]}
    assert {"identity_card", "proof_of_address", "photo_code"} <= kinds


def test_no_personal_data_in_the_logs_of_a_full_run(hostile_result, hostile_dossier):
    # Given the declared identity of the sample
    declared = json.loads((hostile_dossier / "dossier.json").read_text(encoding="utf-8"))
    applicant = declared["applicant"]
    secrets = {applicant["surname"], applicant["surname"].upper(), applicant["birth_date"],
               *applicant["given_names"], *(g.upper() for g in applicant["given_names"])}
    result = json.loads(hostile_result.stdout)
    for piece in result["pieces"]:
        number = piece["fields"].get("document_number") or piece["fields"].get("code")
        if number:
            secrets.add(number)
    # When the debug logs of the whole run are read, Then none of it appears there
    logs = hostile_result.stderr
    assert logs.strip(), "the run logged nothing at DEBUG level: the test would prove nothing"
    leaked = sorted(s for s in secrets if s and len(s) > 2 and s in logs)
    assert not leaked, leaked


def test_a_huge_dossier_json_is_refused_with_exit_2(tmp_path):
    folder = tmp_path / "d"
    folder.mkdir()
    data = base_declared()
    data["padding"] = "x" * 2_000_000
    (folder / "dossier.json").write_text(json.dumps(data))
    proc = run_intake("check", str(folder), env={"INTAKE_DATA_DIR": str(tmp_path / "data")})
    assert proc.returncode == 2 and "dossier.json" in proc.stderr


def test_extract_reports_a_hostile_file_and_exits_0(tmp_path):
    # Given a file whose extension lies and a missing file
    lying = tmp_path / "photo.jpg"
    lying.write_bytes(b"<html></html>")
    # When extracted, Then a finding names it, exit 0
    proc = run_intake("extract", str(lying), "--json", env={"INTAKE_DATA_DIR": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["pieces"] == [] and out["findings"][0]["file"] == str(lying)
    assert out["findings"][0]["code"] == "unsupported_file"
    # And a file that does not exist is exit 2
    assert run_intake("extract", str(tmp_path / "nope.jpg")).returncode == 2
