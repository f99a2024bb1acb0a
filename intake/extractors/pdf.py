"""PDF pieces: refuse encrypted, corrupt and oversized ones, render pages one at a time with poppler.

`pdfinfo` reads the structure (encryption, page count, page sizes); `pdftoppm` renders one page per
call; both with a timeout, so a hostile file cannot hold a worker.
"""

from __future__ import annotations

import logging
import re
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from intake.extractors.images import Source, UnsupportedFile, to_bgr
from intake.settings import Settings

log = logging.getLogger(__name__)

_POINTS_PER_INCH = 72.0


_PAGES = re.compile(r"^Pages:\s+(\d+)\s*$", re.M)
_PAGE_SIZE = re.compile(r"^Page\s+(\d+) size:\s+([\d.]+) x ([\d.]+) pts", re.M)


def _page_boxes(path: Path, settings: Settings) -> list[tuple[float, float]]:
    """Page sizes in points, from poppler's `pdfinfo`; UnsupportedFile for an encrypted (with a
    password), corrupt, empty or too long PDF. One short subprocess, where a Python PDF parser
    would cost more to import than poppler takes to answer."""
    cmd = ["pdfinfo", "-f", "1", "-l", str(settings.max_pages), str(path)]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=settings.subprocess_timeout)
    except subprocess.TimeoutExpired:
        raise UnsupportedFile("PDF trop long à lire") from None
    out = proc.stdout.decode("utf-8", "replace")
    err = proc.stderr.decode("utf-8", "replace").lower()
    if proc.returncode != 0:
        if "password" in err:
            raise UnsupportedFile("PDF chiffré (protégé par un mot de passe)")
        raise UnsupportedFile("PDF corrompu ou illisible")
    found = _PAGES.search(out)
    count = int(found.group(1)) if found else 0
    if count == 0:
        raise UnsupportedFile("PDF sans aucune page")
    if count > settings.max_pages:
        raise UnsupportedFile(f"PDF de trop de pages ({count}, au plus {settings.max_pages})")
    sizes = {int(n): (abs(float(w)), abs(float(h))) for n, w, h in _PAGE_SIZE.findall(out)}
    if len(sizes) != count:
        raise UnsupportedFile("PDF corrompu ou illisible")
    return [sizes[n] for n in range(1, count + 1)]


def _dpi_for(box: tuple[float, float], settings: Settings) -> int:
    """The settings' dpi, lowered when the page is so large it would pass the pixel limit."""
    width_in, height_in = (max(v, 1.0) / _POINTS_PER_INCH for v in box)
    dpi = settings.pdf_dpi
    while dpi > 30 and (width_in * dpi) * (height_in * dpi) > min(settings.max_pixels, 40_000_000):
        dpi = int(dpi * 0.8)
    return dpi


def render_pdf_page(path: Path, index: int, dpi: int, timeout: float) -> np.ndarray:
    """Render page `index` (1-based) with pdftoppm; raise UnsupportedFile when it cannot."""
    with tempfile.TemporaryDirectory(prefix="intake-pdf-") as tmp:
        out = Path(tmp) / "page"
        # Plain PPM: encoding PNG would cost more than the rendering itself.
        cmd = ["pdftoppm", "-r", str(dpi), "-f", str(index), "-l", str(index), "-singlefile",
               str(path), str(out)]
        try:
            subprocess.run(cmd, check=True, timeout=timeout, capture_output=True)
        except subprocess.TimeoutExpired:
            raise UnsupportedFile(f"page {index} du PDF trop longue à lire") from None
        except subprocess.CalledProcessError:
            raise UnsupportedFile(f"page {index} du PDF illisible") from None
        ppm = out.with_suffix(".ppm")
        if not ppm.exists():
            raise UnsupportedFile(f"page {index} du PDF illisible")
        with Image.open(ppm) as image:
            image.load()
            return to_bgr(image)


def open_pdf(path: Path, settings: Settings) -> Source:
    boxes = _page_boxes(path, settings)

    def render(index: int) -> np.ndarray:
        return render_pdf_page(path, index, _dpi_for(boxes[index - 1], settings), settings.subprocess_timeout)

    return Source(media_type="application/pdf", page_count=len(boxes), render=render)
