"""Opening uploads: the type comes from the bytes, limits hold, bad files get a French reason."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from intake.extractors.images import UnsupportedFile, open_source, sniff_media_type
from intake.settings import load_settings


@pytest.fixture
def settings(monkeypatch, tmp_path):
    monkeypatch.setenv("INTAKE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("INTAKE_MAX_PAGES", "5")
    monkeypatch.setenv("INTAKE_MAX_PIXELS", "20000000")
    monkeypatch.setenv("INTAKE_MAX_FILE_BYTES", str(2 * 1024 * 1024))
    return load_settings()


def _jpeg_bytes(size=(400, 300), color=(200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _pdf(tmp_path, pages: int, name="doc.pdf", encrypt: str | None = None):
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if encrypt:
        writer.encrypt(user_password=encrypt, owner_password=encrypt)
    path = tmp_path / name
    with open(path, "wb") as handle:
        writer.write(handle)
    return path


def test_media_type_is_told_from_bytes_not_from_the_name(tmp_path, settings):
    # Given an HTML page named like a JPEG
    lying = tmp_path / "photo.jpg"
    lying.write_bytes(b"<!doctype html><html><body>hello</body></html>")
    # When it is opened, Then it is refused as neither image nor PDF
    with pytest.raises(UnsupportedFile, match="ni une image"):
        open_source(lying, settings)
    # And a real JPEG named .pdf is read as a JPEG
    real = tmp_path / "scan.pdf"
    real.write_bytes(_jpeg_bytes())
    source = open_source(real, settings)
    assert source.media_type == "image/jpeg"
    assert source.render(1).shape == (300, 400, 3)


def test_svg_and_empty_files_are_refused(tmp_path, settings):
    svg = tmp_path / "a.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>')
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(UnsupportedFile):
        open_source(svg, settings)
    with pytest.raises(UnsupportedFile, match="vide"):
        open_source(empty, settings)


def test_a_truncated_jpeg_is_refused_when_rendered(tmp_path, settings):
    # Given a JPEG cut in half
    path = tmp_path / "cut.jpg"
    data = _jpeg_bytes((1200, 900))
    path.write_bytes(data[: len(data) // 3])
    # When its page is rendered, Then the reason says it is truncated or corrupt
    with pytest.raises(UnsupportedFile, match="tronquée|corrompue|illisible"):
        open_source(path, settings).render(1)


def test_a_decompression_bomb_is_refused_before_decoding(tmp_path, settings):
    # Given a PNG whose header claims 50,000 x 50,000 pixels (a few KB on disk)
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 50_000, 50_000, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1000)
    path = tmp_path / "bomb.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
    # When opened, Then it is refused for its pixel count
    with pytest.raises(UnsupportedFile, match="trop grande"):
        open_source(path, settings)


def test_a_file_past_the_byte_limit_is_refused(tmp_path, settings):
    path = tmp_path / "big.jpg"
    path.write_bytes(b"\xff\xd8\xff" + b"\x00" * (3 * 1024 * 1024))
    with pytest.raises(UnsupportedFile, match="volumineux"):
        open_source(path, settings)


def test_pdf_pages_are_rendered_one_by_one(tmp_path, settings):
    # Given a 3-page PDF
    path = _pdf(tmp_path, 3)
    # When opened, Then it has 3 pages and a page renders as an A4 image at the settings' dpi
    source = open_source(path, settings)
    assert source.page_count == 3
    page = source.render(2)
    assert page.shape[0] > page.shape[1] > 1000
    assert np.mean(page) > 250  # blank page


def test_encrypted_and_oversized_pdfs_are_refused(tmp_path, settings):
    with pytest.raises(UnsupportedFile, match="chiffré"):
        open_source(_pdf(tmp_path, 1, "locked.pdf", encrypt="secret"), settings)
    with pytest.raises(UnsupportedFile, match="trop de pages"):
        open_source(_pdf(tmp_path, 6, "long.pdf"), settings)


def test_a_corrupt_pdf_is_refused(tmp_path, settings):
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.7\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\ntrailer <<>>\n%%EOF")
    with pytest.raises(UnsupportedFile, match="PDF"):
        source = open_source(path, settings)
        source.render(1)


def test_a_multi_page_tiff_has_its_pages_and_its_limit(tmp_path, settings):
    frames = [Image.new("L", (300, 200), 255 - 40 * i) for i in range(3)]
    ok = tmp_path / "three.tif"
    frames[0].save(ok, save_all=True, append_images=frames[1:])
    source = open_source(ok, settings)
    assert source.page_count == 3
    assert int(source.render(3)[0, 0, 0]) == 255 - 80
    many = tmp_path / "many.tif"
    frames[0].save(many, save_all=True, append_images=[frames[0]] * 9)
    with pytest.raises(UnsupportedFile, match="trop de pages"):
        open_source(many, settings)


def test_phone_photo_orientation_from_exif_is_applied(tmp_path, settings):
    # Given a landscape JPEG whose EXIF says "rotate 90" (as phones write it)
    image = Image.new("RGB", (400, 200), "white")
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "phone.jpg"
    image.save(path, "JPEG", exif=exif)
    # When rendered, Then the page is upright (portrait)
    assert open_source(path, settings).render(1).shape[:2] == (400, 200)


def test_sniffing_knows_the_accepted_types():
    assert sniff_media_type(b"\x89PNG\r\n\x1a\n....") == "image/png"
    assert sniff_media_type(b"II*\x00....") == "image/tiff"
    assert sniff_media_type(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert sniff_media_type(b"%PDF-1.4") == "application/pdf"
    assert sniff_media_type(b"GIF89a") is None
