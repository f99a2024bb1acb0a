"""PDF pieces: refuse encrypted, corrupt and oversized ones, render their pages with poppler.

`pdfinfo` reads the structure (encryption, page count, page sizes). For reading, every page is
rendered by one `pdftoppm` call, in gray (every reader works on gray: quality, MRZ, 2D-Doc, OCR,
e-photo glyphs), into this process's private folder; each page file is loaded and removed when its
page is read. Previews and exports render one page at a time, in colour. Every call has a timeout,
so a hostile file cannot hold a worker; when the one call fails or times out, the pages it did not
give are rendered one by one, each with its own timeout and its own French reason.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
import threading
import weakref
from pathlib import Path

import numpy as np
from PIL import Image

from intake.extractors.source import Source, UnsupportedFile, to_bgr
from intake.settings import Settings
from intake.tools import poppler

log = logging.getLogger(__name__)

_POINTS_PER_INCH = 72.0


_PAGES = re.compile(r"^Pages:\s+(\d+)\s*$", re.M)
_PAGE_SIZE = re.compile(r"^Page\s+(\d+) size:\s+([\d.]+) x ([\d.]+) pts", re.M)


def _page_boxes(path: Path, settings: Settings) -> list[tuple[float, float]]:
    """Page sizes in points, from poppler's `pdfinfo`; UnsupportedFile for an encrypted (with a
    password), corrupt, empty or too long PDF. One short subprocess, where a Python PDF parser
    would cost more to import than poppler takes to answer."""
    try:
        info = poppler.pdfinfo(path, settings.max_pages, settings.subprocess_timeout)
    except poppler.PopplerTimeout:
        raise UnsupportedFile("PDF trop long à lire") from None
    except poppler.PopplerError:
        raise UnsupportedFile("PDF illisible : poppler (pdfinfo) n'est pas installé") from None
    out, err = info.stdout, info.stderr.lower()
    if info.returncode != 0:
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


def _load(file: Path) -> np.ndarray:
    with Image.open(file) as image:
        image.load()
        return to_bgr(image)


def render_pdf_page(path: Path, index: int, dpi: int, timeout: float, gray: bool = False,
                    data_dir: Path | None = None) -> np.ndarray:
    """Render page `index` (1-based) alone; raise UnsupportedFile when it cannot."""
    from intake.tools import private_tmp

    with tempfile.TemporaryDirectory(prefix="pdf-", dir=private_tmp(data_dir)) as tmp:
        try:
            files = poppler.render(path, index, index, dpi, Path(tmp), timeout, gray=gray)
        except poppler.PopplerTimeout:
            raise UnsupportedFile(f"page {index} du PDF trop longue à lire") from None
        except poppler.PopplerError:
            raise UnsupportedFile(f"page {index} du PDF illisible") from None
        file = files.get(index)
        if file is None:
            raise UnsupportedFile(f"page {index} du PDF illisible")
        try:
            return _load(file)
        except (OSError, ValueError, SyntaxError):
            raise UnsupportedFile(f"page {index} du PDF illisible") from None


class _AllPages:
    """Every page of a PDF rendered by one pdftoppm call (per run of pages sharing a dpi), on the
    first page asked; pages are then taken one by one (from any thread), each file removed once
    loaded, the folder when the last page is taken or the source is dropped."""

    def __init__(self, path: Path, dpis: list[int], settings: Settings):
        self.path, self.dpis, self.timeout = path, dpis, settings.subprocess_timeout
        self.data_dir = settings.data_dir
        self._lock = threading.Lock()
        self._files: dict[int, Path] | None = None
        self._taken: set[int] = set()
        self._folder: Path | None = None
        self._cleanup = None

    def _render_all(self) -> None:
        from intake.tools import private_tmp

        self._folder = Path(tempfile.mkdtemp(prefix="pdf-", dir=private_tmp(self.data_dir)))
        self._cleanup = weakref.finalize(self, shutil.rmtree, str(self._folder), True)
        self._files = {}
        start = 1
        while start <= len(self.dpis):
            end = start
            while end < len(self.dpis) and self.dpis[end] == self.dpis[start - 1]:
                end += 1
            try:
                self._files.update(poppler.render(self.path, start, end, self.dpis[start - 1], self._folder,
                                                  self.timeout, gray=True))
            except (poppler.PopplerTimeout, poppler.PopplerError) as exc:
                log.info("pdftoppm failed on pages %d-%d (%s): pages rendered one by one", start, end,
                         type(exc).__name__)
            start = end + 1

    def page(self, index: int) -> np.ndarray:
        with self._lock:
            if self._files is None:
                self._render_all()
            file = self._files.pop(index, None)
        if file is not None:
            try:
                return _load(file)
            except (OSError, ValueError, SyntaxError):
                pass  # a page cut short by a killed pdftoppm: render it alone below
            finally:
                file.unlink(missing_ok=True)
                self._done_with(index)
        else:
            self._done_with(index)
        return render_pdf_page(self.path, index, self.dpis[index - 1], self.timeout, gray=True,
                               data_dir=self.data_dir)

    def _done_with(self, index: int) -> None:
        with self._lock:
            self._taken.add(index)
            if len(self._taken) >= len(self.dpis) and self._cleanup is not None:
                self._cleanup()


def open_pdf(path: Path, settings: Settings, reading: bool = False) -> Source:
    """The PDF's pages. `reading` (the pipeline): all pages in one rendering, in gray; otherwise
    (previews, exports) each page alone, in colour, when asked."""
    boxes = _page_boxes(path, settings)
    dpis = [_dpi_for(box, settings) for box in boxes]
    if reading:
        render = _AllPages(path, dpis, settings).page
    else:
        def render(index: int) -> np.ndarray:
            return render_pdf_page(path, index, dpis[index - 1], settings.subprocess_timeout,
                                   data_dir=settings.data_dir)

    return Source(media_type="application/pdf", page_count=len(boxes), render=render)
