"""PDF pieces: refuse encrypted, corrupt and oversized ones, render pages one at a time with poppler.

pypdf reads the structure (encryption, page count, page sizes); `pdftoppm` renders one page per call
with a timeout, so a hostile page cannot hold a worker.
"""

from __future__ import annotations

import logging
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from intake.extractors.images import Source, UnsupportedFile, to_bgr
from intake.settings import Settings

log = logging.getLogger(__name__)

_POINTS_PER_INCH = 72.0


def _page_boxes(path: Path, settings: Settings) -> list[tuple[float, float]]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(str(path), strict=False)
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except Exception:  # noqa: BLE001 - any failure to decrypt means we cannot read it
                opened = 0
            if not opened:
                raise UnsupportedFile("PDF chiffré (protégé par un mot de passe)")
        count = len(reader.pages)
        if count == 0:
            raise UnsupportedFile("PDF sans aucune page")
        if count > settings.max_pages:
            raise UnsupportedFile(f"PDF de trop de pages ({count}, au plus {settings.max_pages})")
        boxes = []
        for page in reader.pages:
            box = page.mediabox
            boxes.append((abs(float(box.width)), abs(float(box.height))))
        return boxes
    except UnsupportedFile:
        raise
    except (PdfReadError, OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError,
            IndexError, AssertionError, ZeroDivisionError) as exc:
        raise UnsupportedFile(f"PDF corrompu ou illisible ({type(exc).__name__})") from None
    except Exception as exc:  # noqa: BLE001 - pypdf raises many kinds on hostile input
        raise UnsupportedFile(f"PDF corrompu ou illisible ({type(exc).__name__})") from None


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
